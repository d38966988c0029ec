package tiles_test

import (
	"context"
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
)

// publicNow is the clock of the public tests: 2026-Q2 is closed, 2026-Q4
// running.
func publicNow() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }

// publicWorld is a renderer of the demo world judged at publicNow, with
// the Discloser it makes public tiles through.
func publicWorld(t *testing.T) (*world, *tiles.Renderer, *disclose.Discloser) {
	w := demoWorld(t)
	d := disclose.New(disclose.Config{Secret: "tiles test", Location: analytics.SyntheticZone(), Areas: w.areas})
	r := tiles.New(tiles.Config{Snapshots: fixed{w.snap}, Boundaries: w.boundaries, CacheBytes: -1, Disclose: d, Now: publicNow})
	return w, r, d
}

// areas is the demo's boundary of a unit (disclose.Areas).
func (w *world) areas(_ context.Context, code string) (orb.MultiPolygon, error) {
	for _, u := range w.units {
		if u.Code == code {
			return u.Geometry, nil
		}
	}
	return nil, nil
}

var qarshiPt = orb.Point{65.79, 38.86}

func TestPublicRefusals(t *testing.T) {
	w, r, _ := publicWorld(t)
	zone := analytics.SyntheticZone()
	per := func(s string) analytics.Period {
		p, err := analytics.ParsePeriod(s, zone)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tl := maptile.At(qarshiPt, 10)
	ctx := context.Background()
	for _, tc := range []struct {
		layer   string
		p       tiles.Params
		refused bool
	}{
		{tiles.LayerEvents, tiles.Params{Period: w.period}, true},
		{tiles.LayerHexbins, tiles.Params{Period: w.period, Categories: []string{"theft", "rape"}}, true},
		{tiles.LayerHexbins, tiles.Params{Period: w.period, Categories: []string{"theft", "robbery"}}, true}, // a union
		{tiles.LayerMahallas, tiles.Params{Period: w.period, Kinds: []analytics.Kind{analytics.KindCrime, analytics.KindAccident}}, true},
		{tiles.LayerHexbins, tiles.Params{Period: w.period, Categories: []string{"domestic_violence"}}, true},
		{tiles.LayerMahallas, tiles.Params{Period: w.period, Categories: []string{"Rape"}}, true},
		{tiles.LayerHexbins, tiles.Params{Period: per("2026-W20")}, true},
		{tiles.LayerHexbins, tiles.Params{Period: per("2026-04-01..2026-04-30")}, true},
		{tiles.LayerHexbins, tiles.Params{Period: per("2026-Q4")}, true}, // running
		{tiles.LayerMahallas, tiles.Params{Period: per("2026-Q4")}, true},
		{tiles.LayerHexbins, tiles.Params{Period: per("2026-11")}, true},
		{tiles.LayerHexbins, tiles.Params{Period: per("2026")}, true},
		{tiles.LayerHexbins, tiles.Params{Period: per("2027-01")}, true}, // future
		{tiles.LayerHexbins, tiles.Params{Period: per("2026-10")}, false},
		{tiles.LayerHexbins, tiles.Params{Period: per("2026-H1")}, false},
		{tiles.LayerHexbins, tiles.Params{Period: per("2025")}, false},
		{tiles.LayerHexbins, tiles.Params{Period: w.period, Categories: []string{disclose.SensitiveGroup}}, false},
		{tiles.LayerMahallas, tiles.Params{Period: w.period, Kinds: []analytics.Kind{analytics.KindCrime, analytics.KindCrime}}, false}, // one kind, named twice
	} {
		tc.p.Public = true
		req := tileReq([]string{tc.layer}, tl, tc.p)
		_, err := r.Tile(ctx, req)
		if tc.refused != errors.Is(err, disclose.ErrNotPublic) || (!tc.refused && err != nil) {
			t.Errorf("public %s %s %v %v: %v, want refused %v", tc.layer, tc.p.Period.Label, tc.p.Kinds, tc.p.Categories, err, tc.refused)
		}
		if _, err2 := r.ETag(req); (err == nil) != (err2 == nil) || (err != nil && !errors.Is(err2, disclose.ErrNotPublic)) {
			t.Errorf("ETag and Tile disagree: %v, %v", err2, err)
		}
		// Analysts may.
		tc.p.Public = false
		if _, err := r.Tile(ctx, tileReq([]string{tc.layer}, tl, tc.p)); err != nil {
			t.Errorf("analyst %s %s: %v", tc.layer, tc.p.Period.Label, err)
		}
	}
}

// featureProps lists the features of a layer by id (unit code or h3).
func featureProps(t *testing.T, l *mvt.Layer) map[string]geojson.Properties {
	t.Helper()
	out := map[string]geojson.Properties{}
	if l == nil {
		return out
	}
	for _, f := range l.Features {
		id, _ := f.Properties["code"].(string)
		if id == "" {
			id, _ = f.Properties["h3"].(string)
		}
		if _, dup := out[id]; dup {
			t.Fatalf("feature %s twice in one tile", id)
		}
		out[id] = f.Properties
	}
	return out
}

// num reads a numeric property (MVT decodes numbers as float64).
func num(props geojson.Properties, k string) (int64, bool) {
	v, ok := props[k].(float64)
	return int64(v), ok
}

// checkCount checks the count, count_lo and count_hi of a feature against
// a published (or exact) value and its bounds.
func checkCount(t *testing.T, what string, props geojson.Properties, prefix string, n int64, b analytics.Bounds) {
	t.Helper()
	b = b.Of(n)
	c, has := num(props, prefix)
	lo, okLo := num(props, prefix+"_lo")
	hi, okHi := num(props, prefix+"_hi")
	if has == b.Withheld || (has && c != n) || !okLo || !okHi || lo != b.Lo || hi != b.Hi {
		t.Errorf("%s: %s %v [%v, %v], want %d %+v", what, prefix, props[prefix], props[prefix+"_lo"], props[prefix+"_hi"], n, b)
	}
}

// TestPublicUnitsAreDisclosed: every public unit feature carries exactly
// the row of disclose's Stats (what /v1/stats answers the public), for
// mahallas around Qarshi at several zooms, districts with a kind and with
// the sensitive group; every interval holds the exact count of the
// analyst's tile; derived values exist only from published counts; no
// feature has the old suppressed properties.
func TestPublicUnitsAreDisclosed(t *testing.T) {
	w, r, d := publicWorld(t)
	ctx := context.Background()
	type view struct {
		level geo.Level
		layer string
		flt   analytics.Filter
		zooms []maptile.Zoom
	}
	withheld, shown, prevWithheld := 0, 0, 0
	for _, v := range []view{
		{geo.LevelMahalla, tiles.LayerMahallas, analytics.Filter{}, []maptile.Zoom{9, 11, 12}},
		{geo.LevelMahalla, tiles.LayerMahallas, analytics.Filter{Kinds: []analytics.Kind{analytics.KindCrime}}, []maptile.Zoom{11}},
		{geo.LevelDistrict, tiles.LayerDistricts, analytics.Filter{Kinds: []analytics.Kind{analytics.KindAccident}}, []maptile.Zoom{7}},
		{geo.LevelDistrict, tiles.LayerDistricts, analytics.Filter{Categories: []string{disclose.SensitiveGroup}}, []maptile.Zoom{7}},
		{geo.LevelRegion, tiles.LayerRegions, analytics.Filter{}, []maptile.Zoom{5}},
	} {
		st, err := d.Stats(ctx, w.snap, analytics.StatsQuery{Period: w.period, Level: v.level, Filter: v.flt, ComparePrevious: true}, publicNow())
		if err != nil {
			t.Fatal(err)
		}
		rows := map[string]analytics.StatsRow{}
		for _, row := range st.Rows {
			rows[row.Unit] = row
		}
		p := tiles.Params{Period: w.period, Kinds: v.flt.Kinds, Categories: v.flt.Categories}
		pub := p // the analyst's other_sensitive is every sensitive category
		pub.Public = true
		for _, z := range v.zooms {
			tl := maptile.At(qarshiPt, z)
			public := featureProps(t, render(t, r, []string{v.layer}, tl, pub)[v.layer])
			exact := featureProps(t, render(t, r, []string{v.layer}, tl, p)[v.layer])
			if len(public) == 0 || len(public) != len(exact) {
				t.Fatalf("%s z%d: %d public features, %d exact", v.layer, z, len(public), len(exact))
			}
			for code, props := range public {
				what := v.layer + " " + code + " z" + strconv.Itoa(int(z))
				row, ok := rows[code]
				if !ok {
					t.Fatalf("%s: not in disclose's Stats", what)
				}
				// (a) the published row, as the JSON route publishes it.
				checkCount(t, what, props, "count", row.Count, row.Bounds)
				c := row.Previous
				checkCount(t, what, props, "prev_count", c.Base, c.BaseBounds)
				if row.Bounds.Withheld {
					withheld++
				} else {
					shown++
				}
				if c.BaseBounds.Withheld {
					prevWithheld++
				}
				if diff, has := num(props, "diff"); has == c.Withheld || (has && diff != c.Diff) {
					t.Errorf("%s: diff %v, comparison %+v", what, props["diff"], c)
				}
				if pct, has := props["pct"].(float64); has != (!c.Withheld && c.Percent != nil) || (has && math.Abs(pct-*c.Percent) > 0.051) {
					t.Errorf("%s: pct %v, comparison %+v", what, props["pct"], c)
				}
				if rate, has := props["rate"].(float64); has != (row.Rate != nil) || (has && math.Abs(rate-*row.Rate) > 5e-4) {
					t.Errorf("%s: rate %v, want %v", what, props["rate"], row.Rate)
				}
				if row.Rate != nil && row.Bounds.Withheld {
					t.Errorf("%s: a rate from a withheld count", what)
				}
				for _, k := range []string{"suppressed", "prev_suppressed"} {
					if _, has := props[k]; has {
						t.Errorf("%s: has %s", what, k)
					}
				}
				// (b) the intervals hold the exact counts; exact features
				// carry count_lo = count_hi = count.
				ex := exact[code]
				n, _ := num(ex, "count")
				pn, _ := num(ex, "prev_count")
				checkCount(t, what+" (exact)", ex, "count", n, analytics.Bounds{})
				checkCount(t, what+" (exact)", ex, "prev_count", pn, analytics.Bounds{})
				if lo, _ := num(props, "count_lo"); lo > n {
					t.Errorf("%s: count_lo %d above the exact %d", what, lo, n)
				}
				if hi, _ := num(props, "count_hi"); hi < n {
					t.Errorf("%s: count_hi %d below the exact %d", what, hi, n)
				}
				if lo, _ := num(props, "prev_count_lo"); lo > pn {
					t.Errorf("%s: prev_count_lo %d above the exact %d", what, lo, pn)
				}
				if hi, _ := num(props, "prev_count_hi"); hi < pn {
					t.Errorf("%s: prev_count_hi %d below the exact %d", what, hi, pn)
				}
				if props["category"] != ex["category"] {
					t.Errorf("%s: category %v, analyst %v", what, props["category"], ex["category"])
				}
			}
		}
	}
	if withheld == 0 || shown == 0 || prevWithheld == 0 {
		t.Errorf("%d withheld, %d shown, %d previous withheld: the test exercises too little", withheld, shown, prevWithheld)
	}
}

// TestPublicHexbinsAreDisclosed: a public hexbin tile holds the fixed
// public cells whose centres it owns, each with the value of disclose's
// Cells; the four tiles of the next zoom (same resolution 8) hold the same
// cells with the same values; every interval holds the exact count; deep
// zooms stay at resolution 8.
func TestPublicHexbinsAreDisclosed(t *testing.T) {
	w, r, d := publicWorld(t)
	ctx := context.Background()
	p := tiles.Params{Period: w.period, Kinds: []analytics.Kind{analytics.KindCrime}, Public: true}
	parent := maptile.At(qarshiPt, 9)
	if tiles.HexResolution(9) != 8 || tiles.HexResolution(10) != 8 {
		t.Fatal("z9 and z10 no longer share resolution 8")
	}
	up := featureProps(t, render(t, r, []string{tiles.LayerHexbins}, parent, p)[tiles.LayerHexbins])
	if len(up) == 0 {
		t.Fatal("no public hexbins around Qarshi")
	}
	region, err := d.RegionCells(ctx, w.snap, 8)
	if err != nil {
		t.Fatal(err)
	}
	inRegion := map[uint64]bool{}
	for _, c := range region {
		inRegion[c] = true
	}
	cells := make([]uint64, 0, len(up))
	for h := range up {
		c, err := strconv.ParseUint(h, 16, 64)
		if err != nil || !inRegion[c] {
			t.Fatalf("public cell %s not in the fixed public set", h)
		}
		cells = append(cells, c)
	}
	pubs, err := d.Cells(ctx, w.snap, 8, w.period, analytics.Filter{Kinds: p.Kinds}, cells, publicNow())
	if err != nil {
		t.Fatal(err)
	}
	exact, err := w.snap.Hexbins(analytics.HexbinQuery{Res: 8, Period: w.period, Filter: analytics.Filter{Kinds: p.Kinds}})
	if err != nil {
		t.Fatal(err)
	}
	ex := map[uint64]int64{}
	for _, b := range exact.Bins {
		ex[b.Cell] = b.Count
	}
	withheld, zeros := 0, 0
	for i, c := range cells {
		h := strconv.FormatUint(c, 16)
		n, _ := pubs[i].Count()
		checkCount(t, "cell "+h, up[h], "count", n, pubs[i].Bounds)
		if b := pubs[i].Bounds; ex[c] < b.Lo || ex[c] > b.Hi {
			t.Errorf("cell %s: exact %d outside [%d, %d]", h, ex[c], b.Lo, b.Hi)
		}
		if pubs[i].Bounds.Withheld {
			withheld++
		}
		if ex[c] == 0 {
			zeros++
		}
		if _, has := up[h]["suppressed"]; has {
			t.Errorf("cell %s: suppressed property", h)
		}
	}
	// Only published counts are drawn (a withheld cell says less by its
	// absence than its interval in /v1/hexbins); perturbation publishes
	// some empty cells too.
	if withheld != 0 || len(cells) == 0 {
		t.Errorf("%d cells drawn, %d of them withheld, %d empty", len(cells), withheld, zeros)
	}
	// The same cells, with the same values, in the four tiles of z10.
	down := map[string]geojson.Properties{}
	for _, child := range parent.Children() {
		for h, props := range featureProps(t, render(t, r, []string{tiles.LayerHexbins}, child, p)[tiles.LayerHexbins]) {
			if _, dup := down[h]; dup {
				t.Fatalf("cell %s in two tiles of z10", h)
			}
			down[h] = props
		}
	}
	if len(down) != len(up) {
		t.Errorf("z9 tile: %d cells, its z10 tiles: %d", len(up), len(down))
	}
	for h, props := range up {
		for _, k := range []string{"count", "count_lo", "count_hi", "res"} {
			if down[h][k] != props[k] {
				t.Errorf("cell %s: %s %v at z9, %v at z10", h, k, props[k], down[h][k])
			}
		}
	}
	// Deep zooms: resolution 8 at most.
	for h, props := range featureProps(t, render(t, r, []string{tiles.LayerHexbins}, maptile.At(qarshiPt, 14), p)[tiles.LayerHexbins]) {
		if props["res"] != float64(disclose.MaxRes) {
			t.Fatalf("public hexbin %s at z14: res %v", h, props["res"])
		}
	}
}

// TestPublicHotspots: public hot spots carry bin and the published counts
// of the cells, never z or p, and still find Qarshi's hot spots.
func TestPublicHotspots(t *testing.T) {
	w, r, d := publicWorld(t)
	ctx := context.Background()
	p := tiles.Params{Period: w.period, Public: true}
	bins := map[int]int{}
	for _, tl := range tilesOver(orb.Bound{Min: orb.Point{65.6, 38.7}, Max: orb.Point{66.0, 39.0}}, 9) {
		fs := featureProps(t, render(t, r, []string{tiles.LayerHotspots}, tl, p)[tiles.LayerHotspots])
		var cells []uint64
		for h, props := range fs {
			for _, k := range []string{"z", "p"} {
				if _, has := props[k]; has {
					t.Fatalf("public hotspot %s with %s: %v", h, k, props)
				}
			}
			b, ok := num(props, "bin")
			if !ok {
				t.Fatalf("public hotspot %s without bin", h)
			}
			bins[int(b)]++
			c, _ := strconv.ParseUint(h, 16, 64)
			cells = append(cells, c)
		}
		if len(cells) == 0 {
			continue
		}
		pubs, err := d.Cells(ctx, w.snap, tiles.HotspotResolution(9), w.period, analytics.Filter{}, cells, publicNow())
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cells {
			h := strconv.FormatUint(c, 16)
			n, _ := pubs[i].Count()
			checkCount(t, "hotspot "+h, fs[h], "count", n, pubs[i].Bounds)
		}
	}
	if bins[3] == 0 {
		t.Errorf("public hotspot bins around Qarshi at z9: %v", bins)
	}
}

// TestDefaultDiscloser: without Config.Disclose the renderer makes its own
// Discloser whose public cells come from the renderer's boundaries.
func TestDefaultDiscloser(t *testing.T) {
	w := demoWorld(t)
	r := tiles.New(tiles.Config{Snapshots: fixed{w.snap}, Boundaries: w.boundaries, CacheBytes: -1, Now: publicNow})
	ls := render(t, r, []string{tiles.LayerHexbins, tiles.LayerMahallas}, maptile.At(qarshiPt, 11), tiles.Params{Period: w.period, Public: true})
	if ls[tiles.LayerHexbins] == nil || ls[tiles.LayerMahallas] == nil {
		t.Fatalf("public tile with the default Discloser: %v", ls)
	}
	for _, f := range ls[tiles.LayerMahallas].Features {
		if _, ok := num(f.Properties, "count_hi"); !ok {
			t.Fatalf("mahalla without count_hi: %v", f.Properties)
		}
	}
}
