package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/server"
	"github.com/crimemap/crimemap/store/sqlite"
	"github.com/paulmach/orb"
)

// newTestServer serves a real embedded store in a temp dir holding two
// districts, one mahalla and a few events.
func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	ts, _ := newTestServerStore(t, server.Config{})
	return ts
}

// newTestServerStore is newTestServer with cfg (its Store is set here) and
// the store, for tests that add tokens.
func newTestServerStore(t *testing.T, cfg server.Config) (*httptest.Server, *sqlite.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	square := func(x0, y0, d float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{x0, y0}, {x0 + d, y0}, {x0 + d, y0 + d}, {x0, y0 + d}, {x0, y0}}}}
	}
	units := []geo.Unit{
		{Code: "1710", Level: geo.LevelRegion, Names: map[string]string{"uz": "Qashqadaryo viloyati", "ru": "Кашкадарьинская область"}, Geometry: square(65, 38, 2)},
		{Code: "1710401", ParentCode: "1710", Level: geo.LevelDistrict, Names: map[string]string{"uz": "Qarshi shahri"}, Population: 306300, PopulationYear: 2026, Geometry: square(65.7, 38.8, 0.2)},
		{Code: "1710207", ParentCode: "1710", Level: geo.LevelDistrict, Names: map[string]string{"uz": "G'uzor tumani"}, Geometry: square(66.1, 38.5, 0.3)},
		{Code: "1710401001", ParentCode: "1710401", Level: geo.LevelMahalla, Names: map[string]string{"uz": "Navbahor"}, Geometry: square(65.7, 38.8, 0.1)},
	}
	if _, err := st.PutUnits(ctx, units); err != nil {
		t.Fatal(err)
	}
	ix := geo.NewIndex(units)
	var events []analytics.Event
	at := time.Date(2025, 7, 1, 10, 0, 0, 0, time.UTC)
	for i, p := range [][2]float64{{65.75, 38.85}, {65.75, 38.86}, {66.2, 38.6}, {65.85, 38.95}} {
		a := ix.Assign(p[0], p[1])
		cell, _ := geo.LatLngToCell(p[1], p[0], geo.EventResolution)
		events = append(events, analytics.Event{
			Kind: analytics.KindCrime, SourceID: "c" + string(rune('1'+i)), OccurredAt: at.Add(time.Duration(i) * 24 * time.Hour),
			HasLocation: true, Lon: p[0], Lat: p[1], Cell: cell, Category: "theft", Severity: analytics.SeverityMinor,
			Flags: analytics.FlagSolved, Region: a.Region, District: a.District, Mahalla: a.Mahalla,
		})
	}
	events = append(events, analytics.Event{Kind: analytics.KindAccident, SourceID: "a1", OccurredAt: at, Category: "collision", Killed: 1, Injured: 2, Vehicle: "scooter"})
	if _, err := st.PutEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	cfg.Store = st
	ts := httptest.NewServer(server.New(cfg).Handler())
	t.Cleanup(ts.Close)
	return ts, st
}

func get(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	return getAuth(t, url, "")
}

// getAuth is get with Authorization: Bearer token (none when token is "").
func getAuth(t *testing.T, url, token string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, req)
}

// send sends req and returns the status, headers and body.
func send(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func TestEndpoints(t *testing.T) {
	ts, st := newTestServerStore(t, server.Config{})
	analyst := putToken(t, st, server.RoleAnalyst, 0)
	tests := []struct {
		path       string
		status     int
		contains   []string
		contentTyp string
	}{
		{"/healthz", 200, []string{`"ok"`}, "application/json"},
		{"/readyz", 200, []string{`"sqlite"`}, "application/json"},
		{"/openapi.json", 200, []string{`"openapi"`}, "application/json"},
		{"/v1/units?level=district", 200, []string{`"count":2`, `"1710207"`, `"1710401"`}, "application/json"},
		{"/v1/units?parent=1710401", 200, []string{`"count":1`, `"Navbahor"`}, "application/json"},
		{"/v1/units/1710401", 200, []string{`"population":306300`, `"population_year":2026`, `"parent_code":"1710"`}, "application/json"},
		{"/v1/units/1710401?format=geojson", 200, []string{`"type":"Feature"`, `"MultiPolygon"`}, "application/geo+json"},
		{"/v1/units?level=mahalla&format=geojson", 200, []string{`"FeatureCollection"`, `"Navbahor"`}, "application/geo+json"},
		{"/v1/units/9999", 404, []string{`not found`}, "application/json"},
		{"/v1/units?level=city", 400, []string{`"param":"level"`, `region, district, mahalla`}, "application/json"},
		{"/v1/events?kind=crime", 200, []string{`"total":4`, `"theft"`, `"solved"`}, "application/json"},
		{"/v1/events?kind=accident", 200, []string{`"total":1`, `"lon":null`, `"scooter"`, `"killed":1`}, "application/json"},
		{"/v1/events?unit=1710401", 200, []string{`"total":3`}, "application/json"},
		{"/v1/events?unit=1710401001", 200, []string{`"total":2`}, "application/json"},
		{"/v1/events?bbox=66,38.4,66.5,38.9", 200, []string{`"total":1`}, "application/json"},
		{"/v1/events?from=2025-07-02&to=2025-07-04", 200, []string{`"total":2`}, "application/json"},
		{"/v1/events?limit=2", 200, []string{`"total":5`, `"count":2`, `"next":"/v1/events?limit=2\u0026offset=2"`}, "application/json"},
		{"/v1/events?kind=murder", 400, []string{`"param":"kind"`}, "application/json"},
		{"/v1/events?bbox=1,2,3", 400, []string{`"param":"bbox"`, `minLon,minLat,maxLon,maxLat`}, "application/json"},
		{"/v1/events?from=yesterday", 400, []string{`"param":"from"`}, "application/json"},
		{"/v1/events?from=2025-08-01&to=2025-07-01", 400, []string{`"param":"to"`}, "application/json"},
		{"/v1/events?limit=0", 400, []string{`"param":"limit"`, `1 to 10000`}, "application/json"},
		{"/v1/nothing", 404, []string{`no route`}, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			token := ""
			if strings.HasPrefix(tt.path, "/v1/events") {
				token = analyst // raw events are analyst-only
			}
			status, h, body := getAuth(t, ts.URL+tt.path, token)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, tt.contentTyp) {
				t.Errorf("Content-Type %q, want %q", ct, tt.contentTyp)
			}
			if !json.Valid(body) {
				t.Fatalf("body is not JSON: %s", body)
			}
			for _, c := range tt.contains {
				if !strings.Contains(string(body), c) {
					t.Errorf("body lacks %s:\n%s", c, body)
				}
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	ts := newTestServer(t)
	resp, err := http.Post(ts.URL+"/v1/units", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /v1/units: %d, want 405", resp.StatusCode)
	}
}
