package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type eventsPage struct {
	Total  int
	Events []struct{ Kind, Category string }
	Next   string
}

// TestEventsCategory: /v1/events keeps the events of the categories asked
// for (comma-separated or repeated, as on /v1/stats), with the other
// filters.
func TestEventsCategory(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t) // requests carry an analyst token
	page := func(t *testing.T, q string) eventsPage {
		t.Helper()
		// One quarter of the demo: every event on one page.
		status, _, body := get(t, ts.URL+"/v1/events?limit=10000&from=2025-01-01&to=2025-04-01&"+q)
		if status != http.StatusOK {
			t.Fatalf("GET /v1/events?%s: %d %s", q, status, body)
		}
		var p eventsPage
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	all := page(t, "")
	if all.Total == 0 || all.Total > len(all.Events) {
		t.Fatalf("the demo's quarter has %d events (%d on the page): want them all on one page", all.Total, len(all.Events))
	}
	byCat := map[string]int{}
	crimesByCat := map[string]int{}
	for _, e := range all.Events {
		byCat[e.Category]++
		if e.Kind == "crime" {
			crimesByCat[e.Category]++
		}
	}
	// Two crime categories of the demo, the commonest first.
	var a, b string
	for c, n := range crimesByCat {
		if c == "" {
			continue
		}
		switch {
		case a == "" || n > crimesByCat[a] || (n == crimesByCat[a] && c < a):
			a, b = c, a
		case b == "" || n > crimesByCat[b] || (n == crimesByCat[b] && c < b):
			b = c
		}
	}
	if a == "" || b == "" {
		t.Fatalf("the demo has fewer than two crime categories: %v", crimesByCat)
	}
	tests := []struct {
		name, q string
		want    int
		cats    []string
	}{
		{"one", "category=" + url.QueryEscape(a), byCat[a], []string{a}},
		{"comma-separated", "category=" + url.QueryEscape(a+","+b), byCat[a] + byCat[b], []string{a, b}},
		{"spaces and empty items", "category=" + url.QueryEscape(" "+a+" ,, "+b), byCat[a] + byCat[b], []string{a, b}},
		{"repeated", "category=" + url.QueryEscape(a) + "&category=" + url.QueryEscape(b), byCat[a] + byCat[b], []string{a, b}},
		{"with kind", "kind=crime&category=" + url.QueryEscape(a), crimesByCat[a], []string{a}},
		{"with another kind", "kind=offence&category=" + url.QueryEscape(a), byCat[a] - crimesByCat[a], []string{a}},
		{"unknown", "category=no-such-category", 0, nil},
		{"exact names only", "category=" + url.QueryEscape(strings.ToUpper(a)), 0, nil},
		{"empty is no filter", "category=", all.Total, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := page(t, tt.q)
			if p.Total != tt.want || len(p.Events) != tt.want {
				t.Errorf("total %d (%d on the page), want %d", p.Total, len(p.Events), tt.want)
			}
			for _, e := range p.Events {
				if tt.cats != nil && !strings.Contains(","+strings.Join(tt.cats, ",")+",", ","+e.Category+",") {
					t.Errorf("event of category %q, want one of %v", e.Category, tt.cats)
					break
				}
			}
		})
	}
	t.Run("next page keeps the category", func(t *testing.T) {
		status, _, body := get(t, ts.URL+"/v1/events?limit=1&category="+url.QueryEscape(a))
		var p eventsPage
		if err := json.Unmarshal(body, &p); status != http.StatusOK || err != nil {
			t.Fatalf("%d %s", status, body)
		}
		if byCat[a] > 1 && !strings.Contains(p.Next, "category=") {
			t.Errorf("next = %q, want the category kept", p.Next)
		}
	})
	t.Run("too many categories", func(t *testing.T) {
		many := strings.Repeat("x,", 1001)
		status, _, body := get(t, ts.URL+"/v1/events?category="+many)
		var e struct{ Error, Param string }
		_ = json.Unmarshal(body, &e)
		if status != http.StatusBadRequest || e.Param != "category" {
			t.Errorf("%d %s, want 400 naming category", status, body)
		}
	})
}
