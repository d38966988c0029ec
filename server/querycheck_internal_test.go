package server

import (
	"slices"
	"strings"
	"testing"
)

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"kind", "kind", 0}, {"kinds", "kind", 1}, {"knid", "kind", 2}, {"perod", "period", 1},
		{"", "to", 2}, {"from", "to", 3}, {"catgory", "category", 1}, {"bboxx", "bbox", 1}, {"ünit", "unit", 1},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d (symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	stats := []string{"bbox", "category", "compare", "flag", "format", "from", "group", "kind", "level", "period", "severity", "to", "unit"}
	tests := []struct {
		name    string
		allowed []string
		want    string
	}{
		{"kinds", stats, "kind"},
		{"Kind", stats, "kind"},
		{"PERIOD", stats, "period"},
		{"categories", stats, ""}, // distance 3
		{"frm", stats, "from"},
		{"t", stats, ""},    // one letter: no guess (to is 1 away)
		{"tp", stats, "to"}, // 1 away, shorter than 2
		{"xyz", stats, ""},
		{"x", []string{"a", "b", "district"}, ""},
		{"distrct", []string{"a", "b", "district"}, "district"},
		{"anything", nil, ""},
	}
	for _, tt := range tests {
		if got := closest(tt.name, tt.allowed); got != tt.want {
			t.Errorf("closest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLoadQueryParams(t *testing.T) {
	doc := `{
	 "paths": {
	  "/a/{id}": {
	   "parameters": [{"name": "id", "in": "path"}, {"name": "shared", "in": "query"}],
	   "get": {"parameters": [{"$ref": "#/components/parameters/P"}, {"name": "own", "in": "query"}, {"name": "X-H", "in": "header"}, {"$ref": "#/components/parameters/Alias"}]},
	   "post": {},
	   "summary": "not an operation"
	  },
	  "/b": {"head": {"parameters": [{"name": "z", "in": "query"}, {"name": "z", "in": "query"}]}}
	 },
	 "components": {"parameters": {"P": {"name": "p", "in": "query"}, "Alias": {"$ref": "#/components/parameters/P"}}}
	}`
	got, err := loadQueryParams([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := queryParams{"GET /a/{id}": {"own", "p", "shared"}, "POST /a/{id}": {"shared"}, "HEAD /b": {"z"}}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s: %v, want %v", k, got[k], w)
		}
	}
	for _, bad := range []string{
		`{"paths": {"/a": {"get": {"parameters": [{"$ref": "#/components/parameters/Missing"}]}}}}`,
		`{"paths": {"/a": {"get": {"parameters": [{"$ref": "#/components/schemas/P"}]}}}, "components": {"parameters": {"P": {"name": "p", "in": "query"}}}}`,
		`{"paths": {"/a": {"get": {"parameters": [{"$ref": "#/components/parameters/L"}]}}}, "components": {"parameters": {"L": {"$ref": "#/components/parameters/L"}}}}`,
		`{"paths": {"/a": {"get": {"parameters": 1}}}}`,
		`not json`,
	} {
		if _, err := loadQueryParams([]byte(bad)); err == nil {
			t.Errorf("loadQueryParams(%s): no error", bad)
		}
	}
}

// TestOpenAPIQueryParams: the service's own description loads, documents
// the routes' parameters, and every parameter a TileJSON or style
// forwards into tile URLs is one the tiles accept.
func TestOpenAPIQueryParams(t *testing.T) {
	qp, err := loadQueryParams(openAPI)
	if err != nil {
		t.Fatal(err)
	}
	if got := qp["GET /v1/stats"]; !slices.Equal(got, []string{"bbox", "category", "compare", "flag", "format", "from", "group", "kind", "level", "period", "severity", "to", "unit"}) {
		t.Errorf("GET /v1/stats: %v", got)
	}
	for _, route := range []string{"GET /tiles/{layer}/{z}/{x}/{y}.mvt", "GET /tiles/{layer}.json", "GET /styles/default.json"} {
		for _, p := range tileQueryParams {
			if _, ok := slices.BinarySearch(qp[route], p); !ok {
				t.Errorf("%s does not document %q, which TileJSON and styles forward to tile URLs", route, p)
			}
		}
	}
	for route, names := range qp {
		if !slices.IsSorted(names) {
			t.Errorf("%s: %v not sorted", route, names)
		}
	}
	for pattern, open := range map[string]bool{"/": true, "/assets/*": true, "/v1/stats": false, "/openapi.json": false, "/tiles/{layer}.json": false} {
		if openQueryRoute(pattern) != open {
			t.Errorf("openQueryRoute(%q) = %v, want %v", pattern, !open, open)
		}
	}
}

func TestUnknownParamErrorMessage(t *testing.T) {
	tests := []struct {
		e    UnknownParamError
		want string
	}{
		{UnknownParamError{Params: []string{"kinds"}, Route: "GET /v1/stats", Allowed: []string{"kind", "period"}, Suggest: [][2]string{{"kinds", "kind"}}},
			`unknown query parameter "kinds" on GET /v1/stats (allowed: kind, period); did you mean "kind"?`},
		{UnknownParamError{Params: []string{"zz"}, Route: "GET /v1/meta"},
			`unknown query parameter "zz" on GET /v1/meta (allowed: none)`},
		{UnknownParamError{Params: []string{"kinds", "zz"}, Route: "GET /v1/stats", Allowed: []string{"kind"}, Suggest: [][2]string{{"kinds", "kind"}}},
			`unknown query parameters "kinds", "zz" on GET /v1/stats (allowed: kind); did you mean "kind" for "kinds"?`},
		{UnknownParamError{Params: []string{"a\"b"}, Route: "GET /x", Allowed: []string{"c"}},
			`unknown query parameter "a\"b" on GET /x (allowed: c)`},
		{UnknownParamError{Params: []string{"password"}, Route: "GET /x"},
			`unknown query parameter "password" on GET /x (allowed: none)`},
		{UnknownParamError{Params: []string{strings.Repeat("é", 70)}, Route: "GET /x"},
			`unknown query parameter "` + strings.Repeat("é", 64) + `"... on GET /x (allowed: none)`},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
		if statusOf(&tt.e) != 400 {
			t.Errorf("statusOf = %d, want 400", statusOf(&tt.e))
		}
		// As checkQuery answers it: whole, even "password" (a driver
		// marker publicMessage would cut at).
		ce := &clientError{msg: tt.e.Error(), err: &tt.e}
		if got := publicMessage(ce); got != tt.want {
			t.Errorf("publicMessage = %q, want the whole message", got)
		}
		if statusOf(ce) != 400 {
			t.Errorf("statusOf(clientError) = %d, want 400", statusOf(ce))
		}
	}
}
