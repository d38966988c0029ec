package tiles_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

func TestPublish(t *testing.T) {
	for _, tc := range []struct {
		pv     tiles.Privacy
		n, v   int64
		public bool
	}{
		{tiles.Privacy{}, 0, 0, true},
		{tiles.Privacy{}, 1, 0, false},
		{tiles.Privacy{}, 4, 0, false},
		{tiles.Privacy{}, 5, 5, true},
		{tiles.Privacy{}, 7, 5, true},
		{tiles.Privacy{}, 8, 10, true},
		{tiles.Privacy{}, 1234, 1235, true},
		{tiles.Privacy{K: 10, Round: 10}, 9, 0, false},
		{tiles.Privacy{K: 10, Round: 10}, 14, 10, true},
		{tiles.Privacy{K: 10, Round: 10}, 15, 20, true},
		{tiles.Privacy{K: 1, Round: 10}, 2, 10, true}, // never rounds a count down to 0
		{tiles.Privacy{K: 3, Round: 1}, 3, 3, true},
	} {
		if v, ok := tc.pv.Publish(tc.n); v != tc.v || ok != tc.public {
			t.Errorf("%+v.Publish(%d) = %d, %v; want %d, %v", tc.pv, tc.n, v, ok, tc.v, tc.public)
		}
	}
	pv := tiles.Privacy{Sensitive: []string{"Child_Labour"}}
	for c, want := range map[string]bool{"rape": true, "domestic_violence": true, "human_trafficking": true, "other_sensitive": true, "child_labour": true, "theft": false} {
		if pv.IsSensitive(c) != want {
			t.Errorf("IsSensitive(%q) != %v", c, want)
		}
	}
}

// publicWorld is a renderer of the demo world judged at 2026-11-21.
func publicWorld(t *testing.T) (*world, *tiles.Renderer) {
	w := demoWorld(t)
	return w, tiles.New(tiles.Config{Snapshots: fixed{w.snap}, Boundaries: w.boundaries, CacheBytes: -1,
		Now: func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }})
}

func TestPublicRefusals(t *testing.T) {
	w, r := publicWorld(t)
	zone := analytics.SyntheticZone()
	per := func(s string) analytics.Period {
		p, err := analytics.ParsePeriod(s, zone)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tl := maptile.At(orb.Point{65.79, 38.86}, 10)
	ctx := context.Background()
	for _, tc := range []struct {
		layer string
		p     tiles.Params
		want  error
	}{
		{tiles.LayerEvents, tiles.Params{Period: w.period}, tiles.ErrNotPublic},
		{tiles.LayerHexbins, tiles.Params{Period: w.period, Categories: []string{"theft", "rape"}}, tiles.ErrNotPublic},
		{tiles.LayerHexbins, tiles.Params{Period: w.period, Categories: []string{"domestic_violence"}}, tiles.ErrNotPublic},
		{tiles.LayerHexbins, tiles.Params{Period: per("2026-W20")}, tiles.ErrPublicPeriod},
		{tiles.LayerHexbins, tiles.Params{Period: per("2026-04-01..2026-04-30")}, tiles.ErrPublicPeriod},
		{tiles.LayerHexbins, tiles.Params{Period: per("2026-Q4")}, tiles.ErrPublicPeriod}, // running
		{tiles.LayerHexbins, tiles.Params{Period: per("2026-11")}, tiles.ErrPublicPeriod},
		{tiles.LayerHexbins, tiles.Params{Period: per("2026")}, tiles.ErrPublicPeriod},
		{tiles.LayerHexbins, tiles.Params{Period: per("2027-01")}, tiles.ErrPublicPeriod}, // future
		{tiles.LayerHexbins, tiles.Params{Period: per("2026-10")}, nil},
		{tiles.LayerHexbins, tiles.Params{Period: per("2026-H1")}, nil},
		{tiles.LayerHexbins, tiles.Params{Period: per("2025")}, nil},
		{tiles.LayerHexbins, tiles.Params{Period: w.period, Categories: []string{tiles.SensitiveGroup}}, nil},
	} {
		tc.p.Public = true
		req := tileReq([]string{tc.layer}, tl, tc.p)
		_, err := r.Tile(ctx, req)
		if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
			t.Errorf("%s %s %v: %v, want %v", tc.layer, tc.p.Period.Label, tc.p.Categories, err, tc.want)
		}
		if _, err2 := r.ETag(req); (err == nil) != (err2 == nil) {
			t.Errorf("ETag and Tile disagree: %v, %v", err2, err)
		}
		// Analysts may.
		tc.p.Public = false
		if _, err := r.Tile(ctx, tileReq([]string{tc.layer}, tl, tc.p)); err != nil {
			t.Errorf("analyst %s %s: %v", tc.layer, tc.p.Period.Label, err)
		}
	}
}

// TestPublicCounts checks every public count against the analyst's exact
// one: suppressed below k, rounded otherwise, derived values from the
// published counts only, and the same in every tile and zoom.
func TestPublicCounts(t *testing.T) {
	w, r := publicWorld(t)
	pv := tiles.Privacy{}
	p := tiles.Params{Period: w.period}
	pub := p
	pub.Public = true
	qarshi := orb.Point{65.79, 38.86}
	suppressed, shown := 0, 0
	byCode := map[string]map[string]any{}
	for _, z := range []maptile.Zoom{9, 11, 12} {
		tl := maptile.At(qarshi, z)
		exact := render(t, r, []string{tiles.LayerMahallas}, tl, p)
		public := render(t, r, []string{tiles.LayerMahallas, tiles.LayerHexbins, tiles.LayerHotspots}, tl, pub)
		ex := map[string]int64{}
		for _, f := range exact[tiles.LayerMahallas].Features {
			ex[f.Properties["code"].(string)] = int64(f.Properties["count"].(float64))
		}
		hb, err := w.snap.Hexbins(analytics.HexbinQuery{Res: min(tiles.HexResolution(int(z)), 8), Period: w.period})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range hb.Bins {
			ex[strconv.FormatUint(b.Cell, 16)] = b.Count
		}
		for _, name := range []string{tiles.LayerMahallas, tiles.LayerHexbins} {
			l := public[name]
			if l == nil {
				t.Fatalf("z%d: no public %s", z, name)
			}
			for _, f := range l.Features {
				id, _ := f.Properties["code"].(string)
				if name == tiles.LayerHexbins {
					id = f.Properties["h3"].(string)
				}
				n, found := ex[id]
				if !found && name == tiles.LayerHexbins {
					t.Fatalf("z%d: public cell %s not in the exact hexbins", z, id)
				}
				v, ok := pv.Publish(n)
				switch {
				case !ok:
					suppressed++
					if f.Properties["suppressed"] != true {
						t.Errorf("z%d %s %v: count %d not suppressed: %v", z, name, f.ID, n, f.Properties)
					}
					for _, k := range []string{"count", "rate", "diff", "pct"} {
						if _, has := f.Properties[k]; has {
							t.Errorf("z%d %s %v: suppressed but has %s: %v", z, name, f.ID, k, f.Properties)
						}
					}
				default:
					shown++
					if got := f.Properties["count"]; got != float64(v) {
						t.Errorf("z%d %s %v: count %v, want %d (exact %d)", z, name, f.ID, got, v, n)
					}
					if pop, ok := f.Properties["population"].(float64); ok && pop > 0 {
						if rate, ok := f.Properties["rate"].(float64); ok && rate != float64(int64(float64(v)*1000/pop*1000+0.5))/1000 {
							t.Errorf("z%d %v: rate %v not from the published count %d", z, f.ID, rate, v)
						}
					}
				}
				if name == tiles.LayerHexbins {
					if res := f.Properties["res"].(float64); res > tiles.PublicMaxResolution {
						t.Errorf("z%d: public hexbin resolution %v", z, res)
					}
					continue
				}
				if pc, ok := f.Properties["prev_count"].(float64); ok {
					if c, ok := f.Properties["count"].(float64); ok && f.Properties["diff"] != c-pc {
						t.Errorf("%v: diff %v not count-prev_count %v-%v", f.ID, f.Properties["diff"], c, pc)
					}
				} else if _, has := f.Properties["diff"]; has {
					t.Errorf("%v: diff without prev_count: %v", f.ID, f.Properties)
				}
				// The same mahalla shows the same values at every zoom.
				code := f.Properties["code"].(string)
				if prev, ok := byCode[code]; ok {
					for _, k := range []string{"count", "suppressed", "rate", "prev_count", "diff", "pct"} {
						if prev[k] != f.Properties[k] {
							t.Errorf("mahalla %s: %s %v at one zoom, %v at z%d", code, k, prev[k], f.Properties[k], z)
						}
					}
				}
				byCode[code] = f.Properties
			}
		}
		if l := public[tiles.LayerHotspots]; l != nil {
			for _, f := range l.Features {
				if _, has := f.Properties["z"]; has {
					t.Errorf("public hotspot with z: %v", f.Properties)
				}
				if _, has := f.Properties["p"]; has {
					t.Errorf("public hotspot with p: %v", f.Properties)
				}
			}
		}
	}
	if suppressed == 0 || shown == 0 {
		t.Errorf("%d suppressed, %d shown: the test exercises nothing", suppressed, shown)
	}
	// Deep zooms draw public hexbins at resolution 8.
	ls := render(t, r, []string{tiles.LayerHexbins}, maptile.At(qarshi, 14), pub)
	for _, f := range ls[tiles.LayerHexbins].Features {
		if f.Properties["res"] != float64(8) {
			t.Fatalf("public hexbin at z14: res %v", f.Properties["res"])
		}
	}
}

// TestSensitiveGroup: the public's other_sensitive is the sum of the
// sensitive categories, under the same suppression.
func TestSensitiveGroup(t *testing.T) {
	w, r := publicWorld(t)
	tl := maptile.At(orb.Point{65.79, 38.86}, 7)
	exact := render(t, r, []string{tiles.LayerDistricts}, tl, tiles.Params{Period: w.period, Categories: tiles.SensitiveCategories()})
	group := render(t, r, []string{tiles.LayerDistricts}, tl, tiles.Params{Period: w.period, Categories: []string{tiles.SensitiveGroup}, Public: true})
	ex := map[any]float64{}
	var total float64
	for _, f := range exact[tiles.LayerDistricts].Features {
		ex[f.ID] = f.Properties["count"].(float64)
		total += ex[f.ID]
	}
	if total == 0 {
		t.Fatal("no sensitive events in the demo")
	}
	for _, f := range group[tiles.LayerDistricts].Features {
		v, ok := tiles.Privacy{}.Publish(int64(ex[f.ID]))
		if ok && f.Properties["count"] != float64(v) || !ok && f.Properties["suppressed"] != true {
			t.Errorf("district %v: %v, exact %v", f.ID, f.Properties, ex[f.ID])
		}
	}
}
