package server_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/server"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// newTileServer serves the small seeded demo with a tile renderer whose
// boundaries come from the store.
func newTileServer(t *testing.T) *httptest.Server {
	ts, _ := newTileServerToken(t)
	return ts
}

// newTileServerToken also returns an analyst token for the events layer.
func newTileServerToken(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	_, live, st := newAnalyticsServer(t)
	token := putToken(t, st.(store.TokenStore), server.RoleAnalyst, 0)
	now := func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }
	// One Discloser for tiles and JSON, as crimemap serve wires them.
	d := disclose.New(disclose.Config{Areas: func(ctx context.Context, code string) (orb.MultiPolygon, error) {
		u, err := st.Unit(ctx, code)
		return u.Geometry, err
	}})
	rend := tiles.New(tiles.Config{
		Snapshots: live,
		Boundaries: func(ctx context.Context, l geo.Level) ([]geo.Unit, error) {
			return st.Units(ctx, store.UnitQuery{Level: l, WithGeometry: true})
		},
		Disclose: d,
		Now:      now,
	})
	ts := httptest.NewServer(server.New(server.Config{Store: st, Snapshots: live, Tiles: rend, Disclose: d, Now: now, PublicURL: tilePublicURL}).Handler())
	t.Cleanup(ts.Close)
	return ts, token
}

// tilePublicURL is the PublicURL of newTileServer: the base of TileJSON
// and style URLs.
const tilePublicURL = "https://map.example.uz"

func TestTileEndpoints(t *testing.T) {
	ts, token := newTileServerToken(t)
	qarshi := maptile.At(orb.Point{65.79, 38.86}, 9)
	path := func(layers string, tl maptile.Tile) string {
		return ts.URL + "/tiles/" + layers + "/" + strconv.Itoa(int(tl.Z)) + "/" + strconv.Itoa(int(tl.X)) + "/" + strconv.Itoa(int(tl.Y)) + ".mvt"
	}
	for _, u := range []string{
		path("districts", qarshi) + "?period=2026-Q2",
		path("mahallas,hexbins,hotspots,events", qarshi) + "?period=2026-Q2&kind=crime",
		path("districts", qarshi), // default period: the last full quarter, 2026-Q3
	} {
		status, h, body := getAuth(t, u, token)
		if status != 200 || h.Get("Content-Type") != server.MVTContentType || h.Get("X-Crimemap-Snapshot") != "1" {
			t.Fatalf("%s: %d %s %s", u, status, h.Get("Content-Type"), body)
		}
		if err := tiles.Validate(body); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		ls, err := mvt.Unmarshal(body)
		if err != nil || len(ls) == 0 {
			t.Fatalf("%s: %d layers, %v", u, len(ls), err)
		}
	}
	// Empty tile: 204 without a body.
	if status, _, body := getAuth(t, path("districts,events", maptile.At(orb.Point{-30, 0}, 9))+"?period=2026-Q2", token); status != 204 || len(body) != 0 {
		t.Errorf("empty tile: %d, %d bytes", status, len(body))
	}
	// The events layer needs an analyst token; aggregate layers do not.
	status, h, body := get(t, path("mahallas,events", qarshi)+"?period=2026-Q2")
	if status != 401 || !strings.Contains(string(body), "analyst token") {
		t.Errorf("events layer without a token: %d %s", status, body)
	}
	if status, h, _ = getAuth(t, path("events", qarshi)+"?period=2026-Q2", token); status != 200 || !strings.Contains(h.Get("Cache-Control"), "private") {
		t.Errorf("events layer with an analyst token: %d, Cache-Control %q", status, h.Get("Cache-Control"))
	}
	for _, tc := range []struct{ url, param string }{
		{path("roads", qarshi), "layer"},
		{path("districts,districts", qarshi), "layer"},
		{ts.URL + "/tiles/districts/21/0/0.mvt", "z"},
		{ts.URL + "/tiles/districts/2/4/0.mvt", "x"},
		{ts.URL + "/tiles/districts/2/0/y.mvt", "y"},
		{path("districts", qarshi) + "?period=2026-Q9", "period"},
		{path("districts", qarshi) + "?kind=theft", "kind"},
		{ts.URL + "/tiles/nope.json", "layer"},
		// Only the documented parameters, which are the forwarded ones:
		// anything else is refused, not dropped in silence.
		{ts.URL + "/tiles/districts,events.json?period=2026-Q2&unit=1710", "unit"},
		{ts.URL + "/styles/default.json?period=2026-Q2&unit=1710", "unit"},
	} {
		status, _, body := get(t, tc.url)
		var e struct{ Param string }
		_ = json.Unmarshal(body, &e)
		if status != 400 || e.Param != tc.param {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.url, status, body, tc.param)
		}
	}

	status, _, body = get(t, ts.URL+"/tiles/districts,events.json?period=2026-Q2&kind=crime")
	var tj tiles.TileJSON
	if status != 200 || json.Unmarshal(body, &tj) != nil {
		t.Fatalf("tilejson: %d %s", status, body)
	}
	if want := tilePublicURL + "/tiles/districts,events/{z}/{x}/{y}.mvt?kind=crime&period=2026-Q2"; tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || tj.Tiles[0] != want {
		t.Errorf("tiles %v, want %s", tj.Tiles, want)
	}
	if len(tj.VectorLayers) != 2 || tj.VectorLayers[1].ID != "events" || tj.Bounds[0] < 60 || tj.Attribution == "" {
		t.Errorf("tilejson %s", body)
	}
	status, _, body = get(t, ts.URL+"/styles/default.json?period=2026-Q2")
	var st struct {
		Version int
		Sources map[string]struct{ Type, URL string }
		Layers  []map[string]any
	}
	if status != 200 || json.Unmarshal(body, &st) != nil || st.Version != 8 || len(st.Sources) != len(tiles.LayerNames()) {
		t.Fatalf("style: %d %s", status, body)
	}
	if src := st.Sources["mahallas"]; src.Type != "vector" || src.URL != tilePublicURL+"/tiles/mahallas.json?period=2026-Q2" {
		t.Errorf("style source %+v", src)
	}
}

func TestTilesUnconfigured(t *testing.T) {
	ts := newTestServer(t) // no Tiles
	for _, u := range []string{"/tiles/districts/0/0/0.mvt", "/tiles/districts.json", "/styles/default.json"} {
		if status, _, body := get(t, ts.URL+u); status != 503 {
			t.Errorf("%s: %d %s", u, status, body)
		}
	}
	// A renderer without a snapshot yet: 503 too.
	s := server.New(server.Config{Tiles: tiles.New(tiles.Config{Snapshots: noSnapshot{}})})
	ts2 := httptest.NewServer(s.Handler())
	defer ts2.Close()
	if status, _, body := get(t, ts2.URL+"/tiles/districts/0/0/0.mvt?period=2026-Q2"); status != 503 || !strings.Contains(string(body), "snapshot") {
		t.Errorf("no snapshot: %d %s", status, body)
	}
}

type noSnapshot struct{}

func (noSnapshot) Current() *analytics.Snapshot { return nil }
