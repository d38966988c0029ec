package server

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

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
		route = strings.TrimSuffix(route, "/")
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
