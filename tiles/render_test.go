package tiles_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/crimemap/crimemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/planar"
)

// fixed is a Snapshots holding one snapshot.
type fixed struct{ s *analytics.Snapshot }

func (f fixed) Current() *analytics.Snapshot { return f.s }

type world struct {
	units  []geo.Unit
	events []analytics.Event
	snap   *analytics.Snapshot
	period analytics.Period
	r      *tiles.Renderer
	cats   map[string]classify.Category
}

var (
	worldOnce sync.Once
	worldVal  *world
	worldErr  error
)

// demoWorld builds the demo region (5% of its volume) once per test binary.
func demoWorld(t testing.TB) *world {
	t.Helper()
	worldOnce.Do(func() {
		ctx := context.Background()
		w := &world{}
		if w.units, worldErr = demo.Units(); worldErr != nil {
			return
		}
		var events []analytics.Event
		cfg := demo.Config{Seed: 7, Now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), Scale: 0.05}
		if worldErr = demo.Events(ctx, cfg, w.units, func(b []analytics.Event) error {
			events = append(events, b...)
			return nil
		}); worldErr != nil {
			return
		}
		scan := func(fn func(*analytics.Event) error) error {
			for i := range events {
				if err := fn(&events[i]); err != nil {
					return err
				}
			}
			return nil
		}
		w.events = events
		if w.snap, worldErr = analytics.Build(ctx, w.units, scan, 1, 1); worldErr != nil {
			return
		}
		if w.period, worldErr = analytics.ParsePeriod("2026-Q2", analytics.SyntheticZone()); worldErr != nil {
			return
		}
		// A fake classification: every third mahalla red, others yellow.
		w.cats = map[string]classify.Category{}
		for i, u := range w.units {
			if u.Level == geo.LevelMahalla {
				w.cats[u.Code] = map[bool]classify.Category{true: classify.Red, false: classify.Yellow}[i%3 == 0]
			}
		}
		w.r = tiles.New(tiles.Config{
			Snapshots:  fixed{w.snap},
			Boundaries: w.boundaries,
			Categories: func(_ context.Context, p analytics.Period) (map[string]classify.Category, error) {
				if p.Label != w.period.Label {
					return nil, nil
				}
				return w.cats, nil
			},
		})
		worldVal = w
	})
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return worldVal
}

func (w *world) boundaries(_ context.Context, l geo.Level) ([]geo.Unit, error) {
	var out []geo.Unit
	for _, u := range w.units {
		if u.Level == l {
			out = append(out, u)
		}
	}
	return out, nil
}

func (w *world) unit(t testing.TB, code string) geo.Unit {
	for _, u := range w.units {
		if u.Code == code {
			return u
		}
	}
	t.Fatalf("no unit %s", code)
	return geo.Unit{}
}

// render renders and validates one tile; it returns the decoded layers by
// name (nil for an empty tile).
func render(t testing.TB, r *tiles.Renderer, layers []string, tile maptile.Tile, p tiles.Params) map[string]*mvt.Layer {
	t.Helper()
	res, err := r.Tile(context.Background(), tiles.Request{Layers: layers, Z: int(tile.Z), X: int(tile.X), Y: int(tile.Y), Params: p})
	if err != nil {
		t.Fatalf("tile %v %v: %v", layers, tile, err)
	}
	if res.Data == nil {
		if res.Features != 0 {
			t.Fatalf("tile %v: no data but %d features", tile, res.Features)
		}
		return nil
	}
	if err := tiles.Validate(res.Data); err != nil {
		t.Fatalf("tile %v %v: %v", layers, tile, err)
	}
	ls, err := mvt.Unmarshal(res.Data)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*mvt.Layer{}
	n := 0
	for _, l := range ls {
		if l.Version != 2 || l.Extent != tiles.Extent {
			t.Fatalf("layer %s: version %d extent %d", l.Name, l.Version, l.Extent)
		}
		out[l.Name] = l
		n += len(l.Features)
	}
	if n != res.Features {
		t.Fatalf("tile %v: %d features decoded, %d reported", tile, n, res.Features)
	}
	return out
}

// tilesOver lists the tiles of zoom z covering b.
func tilesOver(b orb.Bound, z maptile.Zoom) []maptile.Tile {
	lo, hi := maptile.At(orb.Point{b.Min[0], b.Max[1]}, z), maptile.At(orb.Point{b.Max[0], b.Min[1]}, z)
	var out []maptile.Tile
	for x := lo.X; x <= hi.X; x++ {
		for y := lo.Y; y <= hi.Y; y++ {
			out = append(out, maptile.New(x, y, z))
		}
	}
	return out
}

// locatedExtent is the box of the located events of the period.
func (w *world) locatedExtent(t testing.TB) (orb.Bound, int64) {
	var b orb.Bound
	var n int64
	err := w.snap.Points(analytics.PointsQuery{Period: w.period}, func(p analytics.Point) error {
		pt := orb.Point{p.Lon, p.Lat}
		if n == 0 {
			b = pt.Bound()
		} else {
			b = b.Extend(pt)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b, n
}

func TestEveryLayerValidAtEveryZoom(t *testing.T) {
	w := demoWorld(t)
	qarshi := orb.Point{65.79, 38.86}
	p := tiles.Params{Period: w.period}
	for z := maptile.Zoom(0); z <= 16; z++ {
		tile := maptile.At(qarshi, z)
		for _, name := range tiles.LayerNames() {
			ls := render(t, w.r, []string{name}, tile, p)
			l := ls[name]
			wantSome := name != tiles.LayerHotspots || int(z) >= tiles.HotspotMinZoom
			if name == tiles.LayerHotspots && int(z) < tiles.HotspotMinZoom && l != nil {
				t.Errorf("z%d hotspots below the min zoom", z)
			}
			if wantSome && z <= 13 && (l == nil || len(l.Features) == 0) {
				t.Errorf("z%d %s: no features around Qarshi", z, name)
			}
		}
	}
}

func TestUnitPolygonsAndStats(t *testing.T) {
	w := demoWorld(t)
	p := tiles.Params{Period: w.period, Kinds: []analytics.Kind{analytics.KindCrime}}
	st, err := w.snap.Stats(analytics.StatsQuery{Period: w.period, Level: geo.LevelDistrict, ComparePrevious: true, Filter: analytics.Filter{Kinds: p.Kinds}})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]analytics.StatsRow{}
	for _, r := range st.Rows {
		rows[r.Unit] = r
	}
	ls := render(t, w.r, []string{tiles.LayerDistricts}, maptile.At(orb.Point{65.79, 38.86}, 7), p)
	l := ls[tiles.LayerDistricts]
	if l == nil || len(l.Features) < 5 {
		t.Fatalf("districts at z7: %v", l)
	}
	for _, f := range l.Features {
		code, _ := f.Properties["code"].(string)
		row, ok := rows[code]
		if !ok {
			t.Fatalf("district %q not in stats", code)
		}
		if f.Properties.MustInt("count", -1) != int(row.Count) || f.Properties.MustInt("diff", -1e9) != int(row.Previous.Diff) {
			t.Errorf("%s: %v, stats count %d diff %d", code, f.Properties, row.Count, row.Previous.Diff)
		}
		_, hasPct := f.Properties["pct"]
		if hasPct != (row.Previous.Percent != nil) || (row.Previous.Base < analytics.MinBaseForPercent && hasPct) {
			t.Errorf("%s: pct %v with base %d", code, f.Properties["pct"], row.Previous.Base)
		}
		if row.Rate != nil && math.Abs(f.Properties.MustFloat64("rate", -1)-*row.Rate) > 1e-3 {
			t.Errorf("%s: rate %v, want %v", code, f.Properties["rate"], *row.Rate)
		}
		if f.ID != nil && f.ID.(float64) <= 0 {
			t.Errorf("%s: id %v", code, f.ID)
		}
	}
}

// TestMahallaContainsItsPoint: a mahalla's feature, projected back to
// lon/lat, contains an interior point of its boundary; its category is the
// classification's.
func TestMahallaContainsItsPoint(t *testing.T) {
	w := demoWorld(t)
	checked := 0
	for _, u := range w.units {
		if u.Level != geo.LevelMahalla || len(u.Geometry) == 0 || checked >= 40 {
			continue
		}
		checked++
		pt := interior(u.Geometry)
		for _, z := range []maptile.Zoom{11, 13, 15} {
			tile := maptile.At(pt, z)
			ls := render(t, w.r, []string{tiles.LayerMahallas}, tile, tiles.Params{Period: w.period})
			l := ls[tiles.LayerMahallas]
			if l == nil {
				t.Fatalf("%s z%d: no mahallas", u.Code, z)
			}
			l.ProjectToWGS84(tile)
			found := false
			for _, f := range l.Features {
				if f.Properties["code"] != u.Code {
					continue
				}
				found = true
				if !planar.MultiPolygonContains(asMulti(f.Geometry), pt) {
					t.Errorf("%s z%d: feature does not contain %v", u.Code, z, pt)
				}
				if f.Properties["category"] != string(w.cats[u.Code]) {
					t.Errorf("%s: category %v, want %s", u.Code, f.Properties["category"], w.cats[u.Code])
				}
			}
			if !found {
				t.Errorf("%s z%d: not in its tile", u.Code, z)
			}
		}
	}
}

// interior is a point inside the polygon: the midpoint of the widest
// horizontal chord through the centre of its bound.
func interior(mp orb.MultiPolygon) orb.Point {
	c, _ := planar.CentroidArea(mp)
	if planar.MultiPolygonContains(mp, c) {
		return c
	}
	b := mp.Bound()
	for i := 1; i < 100; i++ {
		p := orb.Point{b.Min[0] + (b.Max[0]-b.Min[0])*float64(i%10)/10, b.Min[1] + (b.Max[1]-b.Min[1])*float64(i/10)/10}
		if planar.MultiPolygonContains(mp, p) {
			return p
		}
	}
	return c
}

func asMulti(g orb.Geometry) orb.MultiPolygon {
	switch g := g.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{g}
	case orb.MultiPolygon:
		return g
	}
	return nil
}

// TestAggregatesNeverDouble: summed over every tile of a zoom, hexbin
// counts equal the snapshot's and cluster point counts equal the located
// events: each cell and event is in exactly one tile.
func TestAggregatesNeverDouble(t *testing.T) {
	w := demoWorld(t)
	ext, located := w.locatedExtent(t)
	p := tiles.Params{Period: w.period}
	for _, z := range []maptile.Zoom{6, 8, 9} {
		var hex, events int64
		cells := map[string]bool{}
		for _, tile := range tilesOver(ext, z) {
			ls := render(t, w.r, []string{tiles.LayerHexbins, tiles.LayerEvents}, tile, p)
			if l := ls[tiles.LayerHexbins]; l != nil {
				for _, f := range l.Features {
					hex += int64(f.Properties.MustInt("count", 0))
					h := f.Properties.MustString("h3", "")
					if cells[h] {
						t.Fatalf("z%d: cell %s in two tiles", z, h)
					}
					cells[h] = true
				}
			}
			if l := ls[tiles.LayerEvents]; l != nil {
				for _, f := range l.Features {
					events += int64(f.Properties.MustInt("point_count", 0))
				}
			}
		}
		hb, err := w.snap.Hexbins(analytics.HexbinQuery{Res: tiles.HexResolution(int(z)), Period: w.period})
		if err != nil {
			t.Fatal(err)
		}
		var want int64
		for _, b := range hb.Bins {
			want += b.Count
		}
		if hex != want || events != located {
			t.Errorf("z%d: hexbin counts %d (want %d), clustered events %d (want %d)", z, hex, want, events, located)
		}
	}
}

func TestRawEventsAndHotspots(t *testing.T) {
	w := demoWorld(t)
	p := tiles.Params{Period: w.period}
	ls := render(t, w.r, []string{tiles.LayerEvents}, maptile.At(orb.Point{65.79, 38.86}, 14), p)
	if l := ls[tiles.LayerEvents]; l == nil || len(l.Features) == 0 {
		t.Fatal("no raw events at z14 in Qarshi")
	} else if f := l.Features[0]; f.Properties["kind"] == nil || f.Properties["point_count"] != nil {
		t.Errorf("raw event properties %v", f.Properties)
	}
	bins := map[int]int{}
	for _, tile := range tilesOver(orb.Bound{Min: orb.Point{65.6, 38.7}, Max: orb.Point{66.0, 39.0}}, 9) {
		ls := render(t, w.r, []string{tiles.LayerHotspots}, tile, p)
		if l := ls[tiles.LayerHotspots]; l != nil {
			for _, f := range l.Features {
				bins[f.Properties.MustInt("bin", 99)]++
			}
		}
	}
	if bins[3] == 0 || bins[99] != 0 {
		t.Errorf("hotspot bins around Qarshi at z9: %v", bins)
	}
}

func TestCompositeAndErrors(t *testing.T) {
	w := demoWorld(t)
	tile := maptile.At(orb.Point{65.79, 38.86}, 10)
	p := tiles.Params{Period: w.period}
	ls := render(t, w.r, []string{tiles.LayerMahallas, tiles.LayerDistricts, tiles.LayerEvents}, tile, p)
	if len(ls) != 3 {
		t.Errorf("composite: %d layers", len(ls))
	}
	// Far from any unit and event: empty.
	if ls := render(t, w.r, tiles.LayerNames(), maptile.At(orb.Point{-30, 0}, 9), p); ls != nil {
		t.Errorf("empty tile has layers %v", ls)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		req  tiles.Request
		want error
	}{
		{tiles.Request{Layers: []string{"roads"}, Z: 1, Params: p}, tiles.ErrUnknownLayer},
		{tiles.Request{Layers: []string{"events", "events"}, Z: 1, Params: p}, tiles.ErrDuplicateLayer},
		{tiles.Request{Layers: []string{"events"}, Z: 2, X: 4, Params: p}, tiles.ErrBadTile},
		{tiles.Request{Layers: []string{"events"}, Z: 2, Y: -1, Params: p}, tiles.ErrBadTile},
		{tiles.Request{Layers: []string{"events"}, Z: tiles.MaxZoom + 1, Params: p}, tiles.ErrBadTile},
		{tiles.Request{Layers: []string{"events"}, Z: 1}, tiles.ErrBadParams},
	} {
		if _, err := w.r.Tile(ctx, tc.req); !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.req, err, tc.want)
		}
	}
	for _, s := range []string{"events,events", "nope", ""} {
		if _, err := tiles.ParseLayers(s); err == nil {
			t.Errorf("ParseLayers(%q) accepted", s)
		}
	}
	if _, err := tiles.New(tiles.Config{}).Tile(ctx, tiles.Request{Layers: []string{"events"}, Params: p}); !errors.Is(err, analytics.ErrNoSnapshot) {
		t.Errorf("no snapshot: %v", err)
	}
}

func TestTileJSONAndStyle(t *testing.T) {
	w := demoWorld(t)
	ctx := context.Background()
	tj, err := w.r.TileJSON(ctx, []string{tiles.LayerMahallas, tiles.LayerEvents}, "http://example.org", "period=2026-Q2")
	if err != nil {
		t.Fatal(err)
	}
	if tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || tj.Tiles[0] != "http://example.org/tiles/mahallas,events/{z}/{x}/{y}.mvt?period=2026-Q2" {
		t.Errorf("tilejson %+v", tj)
	}
	if len(tj.VectorLayers) != 2 || tj.VectorLayers[0].ID != "mahallas" || tj.VectorLayers[0].Fields["category"] == "" {
		t.Errorf("vector layers %+v", tj.VectorLayers)
	}
	// Bounds: Kashkadarya and Bukhara, about 62-67.5 E, 37-41.5 N.
	if b := tj.Bounds; b[0] < 60 || b[2] > 68 || b[1] < 36 || b[3] > 43 || b[0] >= b[2] {
		t.Errorf("bounds %v", b)
	}
	st, err := w.r.Style(ctx, "http://example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	if st["version"] != 8 || len(st["sources"].(map[string]any)) != len(tiles.LayerNames()) {
		t.Errorf("style %v", st)
	}
	drawn := map[string]bool{}
	for _, l := range st["layers"].([]any) {
		if s, ok := l.(map[string]any)["source-layer"].(string); ok {
			drawn[s] = true
		}
	}
	for _, n := range tiles.LayerNames() {
		if !drawn[n] {
			t.Errorf("style does not draw %s", n)
		}
	}
}

// TestHotspotsMemoised: the tiles of one district draw from one Gi* of the
// district per snapshot and view: the same area asked again in another
// request (another layer set, so not the tile cache) runs no analysis.
func TestHotspotsMemoised(t *testing.T) {
	w := demoWorld(t)
	// A filter no other test draws with: the memo starts cold for it.
	p := tiles.Params{Period: w.period, Kinds: []analytics.Kind{analytics.KindOffence}}
	tile := maptile.At(orb.Point{65.79, 38.86}, 13)
	before := w.r.CacheStats().HotspotAnalyses
	render(t, w.r, []string{tiles.LayerHotspots}, tile, p)
	first := w.r.CacheStats().HotspotAnalyses - before
	if first == 0 {
		t.Fatal("no district analysis for the first tile")
	}
	render(t, w.r, []string{tiles.LayerDistricts, tiles.LayerHotspots}, tile, p)
	render(t, w.r, []string{tiles.LayerHotspots}, maptile.New(tile.X*2, tile.Y*2, 14), p)
	if got := w.r.CacheStats().HotspotAnalyses - before; got != first {
		t.Errorf("the same district again ran %d analyses in all, the first tile %d: not memoised", got, first)
	}
}
