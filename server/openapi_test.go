package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/store/sqlite"
	"github.com/go-chi/chi/v5"
)

// TestOpenAPICoversRoutes fails when a route is served but not described in
// openapi.json (or described with another method), and the other way round.
func TestOpenAPICoversRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q, want 3.x", doc.OpenAPI)
	}
	s := New(Config{})
	routes := map[string]bool{}
	err := chi.Walk(s.router.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if route != "/" { // the web map's page is the one route that is "/"
			route = strings.TrimSuffix(route, "/")
		}
		if strings.Contains(route, "/*") {
			return nil // catch-alls (none today) need no entry
		}
		routes[strings.ToLower(method)+" "+route] = true
		ops, ok := doc.Paths[route]
		if !ok {
			t.Errorf("route %s %s is missing from openapi.json", method, route)
			return nil
		}
		if _, ok := ops[strings.ToLower(method)]; !ok {
			t.Errorf("route %s %s: openapi.json has the path but not the method", method, route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			if !routes[method+" "+path] {
				t.Errorf("openapi.json describes %s %s, which is not served", method, path)
			}
		}
		for _, p := range param.FindAllString(path, -1) {
			if !strings.Contains(string(ops["get"]), `"name": "`+strings.Trim(p, "{}")+`"`) {
				t.Errorf("%s: path parameter %s is not declared", path, p)
			}
		}
	}
}

// TestOpenAPIRoles fails when a served route has no operation in
// openapi.json, or an operation without `security` or `x-crimemap-role`,
// and checks the declared role against what the server enforces: an
// analyst or admin route answers 401 without a token and 403 with a viewer
// token (and neither with a token of its role); a public route never
// answers 401 or 403 without a token or with a viewer token.
func TestOpenAPIRoles(t *testing.T) {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			SecuritySchemes map[string]struct{ Type, Scheme string } `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if b := doc.Components.SecuritySchemes["bearer"]; b.Type != "http" || b.Scheme != "bearer" {
		t.Errorf("components.securitySchemes.bearer = %+v, want an http bearer scheme", b)
	}

	st, err := sqlite.Open(t.Context(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	token := func(role Role) string {
		tok, rec, err := NewToken(role, "openapi test", time.Now(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutToken(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tokens := map[Role]string{RoleViewer: token(RoleViewer), RoleAnalyst: token(RoleAnalyst), RoleAdmin: token(RoleAdmin)}
	s := New(Config{Store: st})
	// Path parameters get values that reach the handler (the routes' own
	// errors, e.g. 404 or 503 without data, are fine: only 401/403 count).
	fill := strings.NewReplacer("{layer}", "districts", "{z}", "0", "{x}", "0", "{y}", "0", "{code}", "1710", "{id}", "1", "{ext}", "mvt")
	do := func(method, path, tok string) int {
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader("{}")
		}
		req := httptest.NewRequest(method, fill.Replace(path), body)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		return rec.Code
	}

	roles := map[string]Role{"public": RolePublic, "viewer": RoleViewer, "analyst": RoleAnalyst, "admin": RoleAdmin}
	n := 0
	err = chi.Walk(s.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if route != "/" { // the web map's page is the one route that is "/"
			route = strings.TrimSuffix(route, "/")
		}
		if strings.Contains(route, "/*") {
			return nil
		}
		n++
		raw, ok := doc.Paths[route][strings.ToLower(method)]
		if !ok {
			t.Errorf("%s %s: no operation in openapi.json", method, route)
			return nil
		}
		var op struct {
			Security []map[string][]string `json:"security"`
			Role     *string               `json:"x-crimemap-role"`
		}
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Errorf("%s %s: %v", method, route, err)
			return nil
		}
		if op.Security == nil {
			t.Errorf("%s %s: no security", method, route)
		}
		if op.Role == nil {
			t.Errorf("%s %s: no x-crimemap-role", method, route)
			return nil
		}
		need, ok := roles[*op.Role]
		if !ok {
			t.Errorf("%s %s: x-crimemap-role %q; want public, viewer, analyst or admin", method, route, *op.Role)
			return nil
		}
		// security: public routes take the token as optional ({} first),
		// the others require the bearer scheme.
		optional, bearer := false, false
		for _, req := range op.Security {
			if len(req) == 0 {
				optional = true
			}
			if _, ok := req["bearer"]; ok {
				bearer = true
			}
		}
		if !bearer || optional != (need == RolePublic) {
			t.Errorf("%s %s: security %v does not match role %s (public: [{}, {bearer: []}], else [{bearer: []}])", method, route, op.Security, *op.Role)
		}

		noToken, viewer := do(method, route, ""), do(method, route, tokens[RoleViewer])
		switch need {
		case RolePublic:
			if noToken == http.StatusUnauthorized || noToken == http.StatusForbidden {
				t.Errorf("%s %s is declared public but answers %d without a token", method, route, noToken)
			}
			if viewer == http.StatusUnauthorized || viewer == http.StatusForbidden {
				t.Errorf("%s %s is declared public but answers %d to a viewer token", method, route, viewer)
			}
		case RoleViewer:
			if noToken != http.StatusUnauthorized {
				t.Errorf("%s %s is declared %s but answers %d without a token, want 401", method, route, *op.Role, noToken)
			}
		default:
			if noToken != http.StatusUnauthorized {
				t.Errorf("%s %s is declared %s but answers %d without a token, want 401", method, route, *op.Role, noToken)
			}
			if viewer != http.StatusForbidden {
				t.Errorf("%s %s is declared %s but answers %d to a viewer token, want 403", method, route, *op.Role, viewer)
			}
			for r := RoleViewer + 1; r < need; r++ { // roles between viewer and the one declared
				if got := do(method, route, tokens[r]); got != http.StatusForbidden {
					t.Errorf("%s %s is declared %s but answers %d to a token of role %s, want 403", method, route, *op.Role, got, r)
				}
			}
		}
		// A token of the declared role (or above) is never refused.
		for r := max(need, RoleViewer); r <= RoleAdmin; r++ {
			if got := do(method, route, tokens[r]); got == http.StatusUnauthorized || got == http.StatusForbidden {
				t.Errorf("%s %s is declared %s but answers %d to a token of role %s", method, route, *op.Role, got, r)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("chi.Walk found no routes")
	}
}
