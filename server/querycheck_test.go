package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/server"
)

// openAPIOps reads the served OpenAPI description: every operation with
// its query parameters ($refs to components.parameters resolved), each
// with a plausible value from its schema (default, enum, example) or, for
// free-form ones, from sampleValues.
func openAPIOps(t *testing.T, base string) map[string]map[string]string {
	t.Helper()
	status, _, body := get(t, base+"/openapi.json")
	if status != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d", status)
	}
	type schema struct {
		Default any   `json:"default"`
		Enum    []any `json:"enum"`
		Example any   `json:"example"`
	}
	type param struct {
		Ref    string `json:"$ref"`
		Name   string `json:"name"`
		In     string `json:"in"`
		Schema schema `json:"schema"`
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]param `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	ops := map[string]map[string]string{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op struct{ Parameters []param }
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			params := map[string]string{}
			for _, p := range op.Parameters {
				if p.Ref != "" {
					c, ok := doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
					if !ok {
						t.Fatalf("%s %s: $ref %s does not resolve", method, path, p.Ref)
					}
					p = c
				}
				if p.In != "query" {
					continue
				}
				v, ok := sampleValues[p.Name]
				switch {
				case p.Schema.Default != nil && p.Schema.Default != "":
					v = fmt.Sprint(p.Schema.Default)
				case len(p.Schema.Enum) > 0:
					v = fmt.Sprint(p.Schema.Enum[0])
				case p.Schema.Example != nil:
					v = fmt.Sprint(p.Schema.Example)
				case !ok:
					t.Errorf("%s %s: parameter %q has no sample value: add one to sampleValues", method, path, p.Name)
				}
				params[p.Name] = v
			}
			ops[strings.ToUpper(method)+" "+path] = params
		}
	}
	if len(ops) == 0 {
		t.Fatal("openapi.json has no operations")
	}
	return ops
}

// sampleValues are plausible values of the free-form query parameters.
var sampleValues = map[string]string{
	"period": "2025-Q3", "from": "2025-07-01", "to": "2025-09-30", "kind": "crime", "category": "theft",
	"severity": "grave", "flag": "juvenile", "unit": "1710", "bbox": "65,38,67,40", "compare": "previous",
	"group": "kind", "level": "district", "parent": "1710", "district": "1710212", "a": "1", "b": "2",
	"k": "6", "seed": "7", "layer": "mahallas", "lang": "ru", "rate_base": "1000", "limit": "10", "offset": "0",
	"res": "8", "interval": "month", "periods": "12", "series": "false", "rate": "false", "permutations": "99",
}

// opURL is the URL of op ("GET /v1/units/{code}") on base with the path
// parameters filled and query q.
func opURL(base, op string, q url.Values) (method, u string) {
	method, path, _ := strings.Cut(op, " ")
	path = strings.NewReplacer("{layer}", "districts", "{z}", "0", "{x}", "0", "{y}", "0",
		"{code}", "1710", "{id}", "1", "{ext}", "mvt").Replace(path)
	u = base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return method, u
}

func sendOp(t *testing.T, method, u string) (int, []byte) {
	t.Helper()
	var req *http.Request
	var err error
	if method == http.MethodPost {
		req, err = http.NewRequest(method, u, strings.NewReader(`{"period":"2025-Q3"}`))
	} else {
		req, err = http.NewRequest(method, u, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	status, _, body := send(t, req)
	return status, body
}

// TestQueryParamsFromOpenAPI walks every operation of openapi.json: an
// undocumented query parameter is a 400 naming it (on the API's routes,
// not on the web map's page), and each documented one alone is never
// refused as unknown.
func TestQueryParamsFromOpenAPI(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t) // requests carry an analyst token
	ops := openAPIOps(t, ts.URL)
	names := make([]string, 0, len(ops))
	for op := range ops {
		names = append(names, op)
	}
	sort.Strings(names)
	for _, op := range names {
		params := ops[op]
		page := strings.HasSuffix(op, " /")
		t.Run(op+" unknown", func(t *testing.T) {
			method, u := opURL(ts.URL, op, url.Values{"zzunknown": {"1"}})
			status, body := sendOp(t, method, u)
			if page {
				if status == http.StatusBadRequest {
					t.Fatalf("the web map's page refused an unknown parameter: %d %s", status, body)
				}
				return
			}
			var e struct{ Error, Param string }
			_ = json.Unmarshal(body, &e)
			if status != http.StatusBadRequest || e.Param != "zzunknown" ||
				!strings.Contains(e.Error, `unknown query parameter "zzunknown" on `+op+" (allowed: ") {
				t.Fatalf("%s?zzunknown=1: %d %s; want 400 naming zzunknown", op, status, body)
			}
			for name := range params {
				if !strings.Contains(e.Error, name) {
					t.Errorf("the error does not list the allowed %q: %s", name, e.Error)
				}
			}
		})
		for name, v := range params {
			t.Run(op+" "+name, func(t *testing.T) {
				method, u := opURL(ts.URL, op, url.Values{name: {v}})
				status, body := sendOp(t, method, u)
				if status == http.StatusBadRequest && strings.Contains(string(body), "unknown query parameter") {
					t.Fatalf("%s?%s=%s refused as unknown: %s", op, name, v, body)
				}
			})
		}
	}
}

func TestUnknownQueryParams(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t)
	const statsAllowed = "(allowed: bbox, category, compare, flag, format, from, group, kind, level, period, severity, to, unit)"
	tests := []struct {
		name, path string
		status     int
		want       string // in the error; "" for no error body check
		param      string
	}{
		{"misspelt kind", "/v1/stats?kinds=crime&period=2025-Q3", 400,
			`unknown query parameter "kinds" on GET /v1/stats ` + statsAllowed + `; did you mean "kind"?`, "kinds"},
		{"several, sorted, each suggested", "/v1/stats?perod=2025-Q3&kinds=crime&zz=1", 400,
			`unknown query parameters "kinds", "perod", "zz" on GET /v1/stats ` + statsAllowed + `; did you mean "kind" for "kinds", "period" for "perod"?`, "kinds"},
		{"case differs", "/v1/stats?Period=2025-Q3", 400, `unknown query parameter "Period" on GET /v1/stats ` + statsAllowed + `; did you mean "period"?`, "Period"},
		{"far from any: no suggestion", "/v1/series?frobnicate=1", 400,
			`unknown query parameter "frobnicate" on GET /v1/series (allowed: bbox, category, flag, format, from, interval, kind, period, severity, to, unit)`, "frobnicate"},
		{"one letter names no guess", "/v1/classification/diff?x=1&a=1&b=2", 400,
			`unknown query parameter "x" on GET /v1/classification/diff (allowed: a, b, district)`, "x"},
		{"route without parameters", "/v1/meta?lang=ru", 400, `unknown query parameter "lang" on GET /v1/meta (allowed: none)`, "lang"},
		{"path parameter is not a query parameter", "/v1/units/1710?code=1710", 400,
			`unknown query parameter "code" on GET /v1/units/{code} (allowed: format)`, "code"},
		{"empty name", "/v1/units?=1", 400, `unknown query parameter "" on GET /v1/units (allowed: format, level, parent)`, ""},
		{"a driver marker as a name is named whole", "/v1/units?password=x", 400,
			`unknown query parameter "password" on GET /v1/units (allowed: format, level, parent)`, "password"},
		{"valueless", "/healthz?verbose", 400, `unknown query parameter "verbose" on GET /healthz (allowed: none)`, "verbose"},
		{"from/to where runs are named by period", "/v1/classification?from=2025-07-01&to=2025-09-30", 400,
			`unknown query parameters "from", "to" on GET /v1/classification (allowed: district, period)`, "from"},
		{"bbox on mahalla hot spots", "/v1/hotspots/mahallas?unit=1710&period=2025-Q3&bbox=65,38,67,40", 400,
			`unknown query parameter "bbox" on GET /v1/hotspots/mahallas`, "bbox"},
		{"repeated documented parameter", "/v1/stats?kind=crime&kind=accident&period=2025-Q3", 200, "", ""},
		{"documented, with an empty value", "/v1/units?level=&parent=", 200, "", ""},
		{"unknown route stays 404", "/v1/nope?kinds=1", 404, "", ""},
		{"page takes any query", "/?period=2025-Q3&unit=1710&layer=hexbins&lang=ru&zoom=9&anything=else", 404 /* no web assets configured */, "", ""},
		{"assets take any query", "/assets/app.js?v=123", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := get(t, ts.URL+tt.path)
			if status != tt.status {
				t.Fatalf("GET %s: %d %s, want %d", tt.path, status, body, tt.status)
			}
			if tt.want == "" {
				return
			}
			var e struct {
				Error  string
				Status int
				Param  *string
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if !strings.HasPrefix(e.Error, tt.want) || e.Status != 400 {
				t.Errorf("error = %q\nwant   %q", e.Error, tt.want)
			}
			if tt.param != "" && (e.Param == nil || *e.Param != tt.param) {
				t.Errorf("param = %v, want %q", e.Param, tt.param)
			}
		})
	}
}

// TestUnknownQueryParamBeforeAuth: the check needs no token (the allowed
// names are public in /openapi.json); POST and HEAD are checked too.
func TestUnknownQueryParamMethods(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t)
	tests := []struct {
		method, path string
		public       bool
		status       int
	}{
		{http.MethodGet, "/v1/events?kinds=crime", true, 400},
		{http.MethodGet, "/v1/events?kind=crime", true, 401},
		{http.MethodPost, "/v1/classification/runs?dry_run=1", false, 400},
		{http.MethodHead, "/?whatever=1", false, 404},
		{http.MethodHead, "/v1/stats?kinds=crime", false, 405}, // no HEAD route: 405 whatever the query
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, ts.URL+tt.path, strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			if tt.public {
				req.Header.Set(publicHeader, "1")
			}
			if status, _, body := send(t, req); status != tt.status {
				t.Errorf("%d %s, want %d", status, body, tt.status)
			}
		})
	}
}

// TestUnknownQueryParamMetrics: a refused request is counted under its
// route, not as unrouted.
func TestUnknownQueryParamMetrics(t *testing.T) {
	ts, _, _ := newAnalyticsServerCfg(t, server.Config{MetricsPublic: true})
	if status, _, body := get(t, ts.URL+"/v1/series?kinds=crime"); status != http.StatusBadRequest {
		t.Fatalf("%d %s", status, body)
	}
	_, _, body := getPublic(t, ts.URL+"/metrics")
	want := `route="/v1/series",status="400"`
	if !strings.Contains(string(body), want) {
		t.Errorf("/metrics has no %s:\n%s", want, grepLines(string(body), "/v1/series"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}
