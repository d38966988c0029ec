package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"
)

// queryParams are the query parameters each operation of the OpenAPI
// description documents, by "METHOD /pattern" (the chi pattern, which is
// the OpenAPI path), sorted. Operations absent from it are not checked.
type queryParams map[string][]string

// openQueryRoutes are the patterns whose query string is not the API's:
// the web map's page keeps its own state there (/?period=&unit=&layer=&lang=
// today, whatever it needs tomorrow), and its assets may be asked for with
// any cache-busting query. The page must open whatever the query.
func openQueryRoute(pattern string) bool {
	return pattern == "/" || strings.HasPrefix(pattern, "/assets/")
}

// loadQueryParams reads, from the OpenAPI description doc, the query
// parameters of every operation: its own and its path item's, with
// $refs to components.parameters resolved.
func loadQueryParams(doc []byte) (queryParams, error) {
	type param struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	}
	var d struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]param `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	resolve := func(p param) (param, error) {
		for p.Ref != "" {
			name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/")
			c, found := d.Components.Parameters[name]
			if !ok || !found {
				return p, fmt.Errorf("openapi: parameter $ref %q does not resolve", p.Ref)
			}
			if c.Ref == p.Ref {
				return p, fmt.Errorf("openapi: parameter $ref %q refers to itself", p.Ref)
			}
			p = c
		}
		return p, nil
	}
	out := queryParams{}
	for path, item := range d.Paths {
		var common []param
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &common); err != nil {
				return nil, fmt.Errorf("openapi: %s parameters: %w", path, err)
			}
		}
		for method, raw := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
			default:
				continue // parameters, summary, servers, ...
			}
			var op struct {
				Parameters []param `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("openapi: %s %s: %w", method, path, err)
			}
			names := []string{}
			for _, p := range slices.Concat(common, op.Parameters) {
				p, err := resolve(p)
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", method, path, err)
				}
				if p.In == "query" && !slices.Contains(names, p.Name) {
					names = append(names, p.Name)
				}
			}
			sort.Strings(names)
			out[strings.ToUpper(method)+" "+path] = names
		}
	}
	return out, nil
}

// checkQuery answers 400 to a request with a query parameter its route
// does not document in openapi.json (a misspelt kinds= would otherwise be
// ignored in silence and the answer would count everything). It runs for
// every route, before the handler: it finds the route the request will
// take (chi's own routing, on a fresh route context) and checks the
// query against that operation's parameters. Requests that match no route
// (404/405), routes without an operation in the description and the web
// map's page (openQueryRoute) pass unchecked.
func (s *Server) checkQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "" || s.queryParams == nil {
			next.ServeHTTP(w, r)
			return
		}
		path := r.URL.RawPath // as chi routes
		if path == "" {
			path = r.URL.Path
		}
		rctx := chi.NewRouteContext()
		pattern := s.router.Find(rctx, r.Method, path)
		if pattern == "" || openQueryRoute(pattern) {
			next.ServeHTTP(w, r)
			return
		}
		allowed, ok := s.queryParams[r.Method+" "+pattern]
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if err := unknownParams(r, pattern, allowed); err != nil {
			// Count and log the answer under its route, as chi would have.
			if c := chi.RouteContext(r.Context()); c != nil {
				c.RoutePatterns = append(c.RoutePatterns, rctx.RoutePatterns...)
			}
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// unknownParams is the error naming the query parameters of r that are
// not in allowed (sorted), nil when there are none: an
// *UnknownParamError.
func unknownParams(r *http.Request, pattern string, allowed []string) error {
	var unknown []string
	for name := range r.URL.Query() {
		if _, found := slices.BinarySearch(allowed, name); !found {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	e := &UnknownParamError{Params: unknown, Route: r.Method + " " + pattern, Allowed: allowed}
	for _, u := range unknown {
		if m := closest(u, allowed); m != "" {
			e.Suggest = append(e.Suggest, [2]string{u, m})
		}
	}
	// Its whole text is for the client, which sent the names (a name such
	// as "password" must not be cut as if it were driver text).
	return &clientError{msg: e.Error(), err: e}
}

// closest is the allowed name nearest to name when it is within edit
// distance 2 (and nearer than name's own length, so that "x" does not
// suggest "k"); "" otherwise. Ties go to the first in allowed.
func closest(name string, allowed []string) string {
	best, bestD := "", 3
	lname := strings.ToLower(name)
	for _, a := range allowed {
		d := editDistance(lname, a)
		if d < bestD && d < len([]rune(name)) {
			best, bestD = a, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
