package disclose_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/analytics/disclose/audit"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/paulmach/orb"
)

// demoNow: 2025 is the last full year of the demo.
var demoNow = time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)

var tashkent = time.FixedZone("Asia/Tashkent", 5*3600)

type world struct {
	snap  *analytics.Snapshot
	units []geo.Unit
	geom  map[string]orb.MultiPolygon
}

var (
	worldOnce sync.Once
	theWorld  world
	worldErr  error
)

// demoWorld builds the demo snapshot once for the package's tests.
func demoWorld(t testing.TB) world {
	t.Helper()
	worldOnce.Do(func() {
		units, err := demo.Units()
		if err != nil {
			worldErr = err
			return
		}
		var evs []analytics.Event
		err = demo.Events(context.Background(), demo.Config{Seed: 1, Now: demoNow, Location: tashkent, Months: 24}, units, func(b []analytics.Event) error {
			evs = append(evs, b...)
			return nil
		})
		if err != nil {
			worldErr = err
			return
		}
		snap, err := analytics.BuildEvents(context.Background(), units, evs, 1, 1)
		if err != nil {
			worldErr = err
			return
		}
		geom := map[string]orb.MultiPolygon{}
		for _, u := range units {
			geom[u.Code] = u.Geometry
		}
		theWorld = world{snap: snap, units: units, geom: geom}
	})
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return theWorld
}

func newDiscloser(w world) *disclose.Discloser {
	noise, _ := strconv.Atoi(os.Getenv("DISCLOSE_NOISE"))
	return disclose.New(disclose.Config{Secret: "test" + os.Getenv("DISCLOSE_SECRET"), Location: tashkent, MaxNoise: noise,
		Areas: func(_ context.Context, code string) (orb.MultiPolygon, error) { return w.geom[code], nil }})
}

func mustPeriod(t testing.TB, s string) analytics.Period {
	t.Helper()
	p, err := analytics.ParsePeriod(s, tashkent)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRefusals(t *testing.T) {
	w := demoWorld(t)
	d := newDiscloser(w)
	ctx := context.Background()
	week := mustPeriod(t, "2025-W10")
	rng, _ := analytics.ParseRange("2025-03-01", "2025-03-01", tashkent)
	ytd, _ := analytics.YearToDate(demoNow, tashkent)
	running := mustPeriod(t, "2026-01")
	q := mustPeriod(t, "2025-Q3")
	box := orb.Bound{Min: orb.Point{65, 38}, Max: orb.Point{66, 39}}
	cases := []struct {
		name string
		q    analytics.StatsQuery
	}{
		{"week", analytics.StatsQuery{Period: week, Level: geo.LevelMahalla}},
		{"day", analytics.StatsQuery{Period: rng, Level: geo.LevelMahalla}},
		{"ytd", analytics.StatsQuery{Period: ytd, Level: geo.LevelMahalla}},
		{"running", analytics.StatsQuery{Period: running, Level: geo.LevelMahalla}},
		{"running year", analytics.StatsQuery{Period: mustPeriod(t, "2026"), Level: geo.LevelRegion}},
		{"bbox", analytics.StatsQuery{Period: q, Level: geo.LevelMahalla, Filter: analytics.Filter{BBox: &box}}},
		{"rape", analytics.StatsQuery{Period: q, Level: geo.LevelMahalla, Filter: analytics.Filter{Categories: []string{"rape"}}}},
		{"two categories", analytics.StatsQuery{Period: q, Level: geo.LevelMahalla, Filter: analytics.Filter{Categories: []string{"theft", "fraud"}}}},
		{"flag", analytics.StatsQuery{Period: q, Level: geo.LevelMahalla, Filter: analytics.Filter{Flags: analytics.FlagJuvenile}}},
		{"flag group", analytics.StatsQuery{Period: q, Level: geo.LevelDistrict, Group: analytics.DimFlag}},
		{"severity group", analytics.StatsQuery{Period: q, Level: geo.LevelDistrict, Group: analytics.DimSeverity}},
	}
	for _, c := range cases {
		_, err := d.Stats(ctx, w.snap, c.q, demoNow)
		if !errors.Is(err, disclose.ErrNotPublic) {
			t.Errorf("%s: got %v, want ErrNotPublic", c.name, err)
		}
	}
	if _, err := d.Hexbins(ctx, w.snap, analytics.HexbinQuery{Res: 9, Period: q}, demoNow); !errors.Is(err, disclose.ErrNotPublic) {
		t.Errorf("res 9 hexbins: %v", err)
	}
	if _, err := d.Series(ctx, w.snap, analytics.IntervalDay, mustPeriod(t, "2025"), analytics.Filter{}, demoNow); !errors.Is(err, disclose.ErrNotPublic) {
		t.Errorf("daily series: %v", err)
	}
	if _, err := d.Series(ctx, w.snap, analytics.IntervalMonth, running, analytics.Filter{}, demoNow); !errors.Is(err, disclose.ErrNotPublic) {
		t.Errorf("running series: %v", err)
	}
}

// TestIntervalsHoldTruth: every public interval holds the exact count,
// no interval pins a count, small published values are withheld, and
// the same cell has one published value whichever question reaches it.
func TestIntervalsHoldTruth(t *testing.T) {
	w := demoWorld(t)
	d := newDiscloser(w)
	ctx := context.Background()
	for _, ps := range []string{"2025-07", "2025-Q3", "2025"} {
		p := mustPeriod(t, ps)
		for _, lv := range []geo.Level{geo.LevelRegion, geo.LevelDistrict, geo.LevelMahalla} {
			for _, g := range []analytics.Dimension{analytics.DimNone, analytics.DimKind, analytics.DimCategory} {
				q := analytics.StatsQuery{Period: p, Level: lv, Group: g, ComparePrevious: true, CompareLastYear: true}
				pub, err := d.Stats(ctx, w.snap, q, demoNow)
				if err != nil {
					t.Fatal(err)
				}
				exact, err := w.snap.Stats(q)
				if err != nil {
					t.Fatal(err)
				}
				truth := map[string]analytics.StatsRow{}
				for _, r := range exact.Rows {
					k := r.Unit + "|" + d.PublicCategory(r.Group)
					if old, ok := truth[k]; ok {
						r.Count += old.Count
						if r.Previous != nil {
							r.Previous.Base += old.Previous.Base
						}
					}
					truth[k] = r
				}
				for _, r := range pub.Rows {
					tr, ok := truth[r.Unit+"|"+r.Group]
					if !ok {
						if r.Group != "" && r.Bounds.Lo == 0 {
							continue // a category group without events in this unit's kinds
						}
						t.Fatalf("%s %s %s: public row %s|%s has no exact row", ps, lv, g, r.Unit, r.Group)
					}
					checkBounds(t, fmt.Sprintf("%s %s %s %s", ps, r.Unit, r.Group, "count"), r.Count, r.Bounds, tr.Count, d)
					if r.Previous != nil && tr.Previous != nil && !(r.Previous.BaseBounds.Lo <= tr.Previous.Base && tr.Previous.Base <= r.Previous.BaseBounds.Hi) {
						t.Errorf("%s %s previous: %d outside %+v", ps, r.Unit, tr.Previous.Base, r.Previous.BaseBounds)
					}
				}
				checkBounds(t, ps+" total", pub.Total, pub.TotalBounds, exact.Total, d)
			}
		}
	}

	// One cell, several questions.
	p := mustPeriod(t, "2025-Q3")
	dist, err := d.Stats(ctx, w.snap, analytics.StatsQuery{Period: p, Level: geo.LevelMahalla, Group: analytics.DimCategory}, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, r := range dist.Rows[:200] {
		one, err := d.Stats(ctx, w.snap, analytics.StatsQuery{Period: p, Level: geo.LevelMahalla,
			Filter: analytics.Filter{Unit: r.Unit, Categories: []string{r.Group}}}, demoNow)
		if err != nil {
			t.Fatal(err)
		}
		if len(one.Rows) != 1 || one.Rows[0].Bounds != r.Bounds || one.Rows[0].Count != r.Count || one.TotalBounds != r.Bounds {
			t.Fatalf("mahalla %s %s: %+v alone, %+v in the district table", r.Unit, r.Group, one.Rows, r)
		}
		seen++
	}
	if seen == 0 {
		t.Fatal("no rows compared")
	}
}

func checkBounds(t *testing.T, what string, v int64, b analytics.Bounds, truth int64, d *disclose.Discloser) {
	t.Helper()
	if truth < b.Lo || truth > b.Hi {
		t.Fatalf("%s: true %d outside [%d,%d]", what, truth, b.Lo, b.Hi)
	}
	if b.Lo == b.Hi {
		t.Fatalf("%s: interval [%d,%d] pins the count", what, b.Lo, b.Hi)
	}
	if b.Hi-b.Lo < int64(d.MaxNoise()) {
		t.Fatalf("%s: interval [%d,%d] narrower than the noise", what, b.Lo, b.Hi)
	}
	if !b.Withheld && v < d.K() {
		t.Fatalf("%s: published %d below K", what, v)
	}
}

// TestBoundsPropagation plays the differencing attack of the issue over a
// whole year of the demo: periods inside periods, categories inside kinds
// inside totals, mahallas inside districts inside regions, H3 children
// inside parents; it then counts the cells whose interval got pinned.
func TestBoundsPropagation(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	w := demoWorld(t)
	d := newDiscloser(w)
	ctx := context.Background()
	res := runAttack(t, ctx, w, d, "2025")
	t.Logf("cells %d, constraints %d, rounds %d; true 1-4: %d, pinned %d (%.3f%%); sensitive pinned %d of %d; any pinned %d",
		res.cells, res.constraints, res.rounds, res.small, res.smallPinned, 100*float64(res.smallPinned)/float64(max(res.small, 1)),
		res.sensitivePinned, res.sensitive, res.pinned)
	if res.sensitivePinned > 0 {
		t.Errorf("%d sensitive cells pinned", res.sensitivePinned)
	}
	if float64(res.smallPinned) > 0.005*float64(res.small) {
		t.Errorf("%d of %d cells with a true count 1-4 pinned (more than 0.5%%)", res.smallPinned, res.small)
	}
}

type attackResult struct {
	cells, constraints, rounds                             int
	small, smallPinned, sensitive, sensitivePinned, pinned int
}

func runAttack(t *testing.T, ctx context.Context, w world, d *disclose.Discloser, year string) attackResult {
	t.Helper()
	ref := audit.NewReferee()
	add := func(name string, b analytics.Bounds, tv int64, sens bool) {
		if err := ref.Cell(name, b.Lo, b.Hi, tv, sens); err != nil {
			t.Fatal(err)
		}
	}
	y := mustPeriod(t, year)
	var periods []analytics.Period
	periods = append(periods, y)
	for _, h := range []string{"-H1", "-H2"} {
		periods = append(periods, mustPeriod(t, year+h))
	}
	qs, _ := disclose.SubPeriods(y, analytics.IntervalQuarter)
	ms, _ := disclose.SubPeriods(y, analytics.IntervalMonth)
	periods = append(periods, qs...)
	periods = append(periods, ms...)

	levels := []geo.Level{geo.LevelRegion, geo.LevelDistrict, geo.LevelMahalla}
	parentOf := map[string]string{}
	for _, u := range w.units {
		parentOf[u.Code] = u.ParentCode
	}
	// whats: "*" (total), kinds, category groups ("cat:<group>") and
	// groups within a kind ("<kind>/cat:<group>", the same cell as
	// "cat:<group>" when the group occurs with one kind only).
	groupKinds := map[string]map[string]bool{}
	whatName := func(kind, group string) string {
		switch {
		case group == "" && kind == "":
			return "*"
		case group == "":
			return kind
		case kind == "" || len(groupKinds[group]) == 1:
			return "cat:" + group
		}
		return kind + "/cat:" + group
	}
	type ask struct {
		g    analytics.Dimension
		kind analytics.Kind
	}
	asks := []ask{{analytics.DimNone, 0}, {analytics.DimKind, 0}, {analytics.DimCategory, 0}}
	for _, k := range analytics.Kinds {
		asks = append(asks, ask{analytics.DimCategory, k})
	}
	// Which groups occur with which kinds (public: the kind-filtered tables).
	for _, k := range analytics.Kinds {
		pub, err := d.Stats(ctx, w.snap, analytics.StatsQuery{Period: y, Level: geo.LevelRegion, Group: analytics.DimCategory,
			Filter: analytics.Filter{Kinds: []analytics.Kind{k}}}, demoNow)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range pub.Rows {
			if groupKinds[r.Group] == nil {
				groupKinds[r.Group] = map[string]bool{}
			}
			groupKinds[r.Group][k.String()] = true
		}
	}
	for _, p := range periods {
		for _, lv := range levels {
			for _, a := range asks {
				q := analytics.StatsQuery{Period: p, Level: lv, Group: a.g}
				kind := ""
				if a.kind != 0 {
					q.Filter.Kinds = []analytics.Kind{a.kind}
					kind = a.kind.String()
				}
				pub, err := d.Stats(ctx, w.snap, q, demoNow)
				if err != nil {
					t.Fatal(err)
				}
				ex, err := w.snap.Stats(q)
				if err != nil {
					t.Fatal(err)
				}
				tr := map[string]int64{}
				for _, r := range ex.Rows {
					tr[r.Unit+"|"+d.PublicCategory(r.Group)] += r.Count
				}
				for _, r := range pub.Rows {
					var what string
					switch a.g {
					case analytics.DimNone:
						what = whatName(kind, "")
					case analytics.DimKind:
						what = whatName(r.Group, "")
					case analytics.DimCategory:
						what = whatName(kind, r.Group)
					}
					add(p.Label+"|"+r.Unit+"|"+what, r.Bounds, tr[r.Unit+"|"+r.Group], r.Group == disclose.SensitiveGroup)
				}
			}
		}
	}
	// Constraints: checked against the truth so that only exact ones are
	// used; units get their unassigned remainder exactly.
	addSum := func(parent string, children []string, rests bool) { ref.Sum(parent, children, rests) }
	children := map[string][]string{}
	for _, u := range w.units {
		if u.ParentCode != "" {
			children[u.ParentCode] = append(children[u.ParentCode], u.Code)
		}
	}
	whats := []string{"*"}
	for _, k := range analytics.Kinds {
		whats = append(whats, k.String())
	}
	for g, ks := range groupKinds {
		whats = append(whats, "cat:"+g)
		if len(ks) > 1 {
			for k := range ks {
				whats = append(whats, k+"/cat:"+g)
			}
		}
	}
	for _, p := range periods {
		for _, wh := range whats {
			for parent, cs := range children {
				names := make([]string, len(cs))
				for i, c := range cs {
					names[i] = p.Label + "|" + c + "|" + wh
				}
				addSum(p.Label+"|"+parent+"|"+wh, names, true)
			}
		}
		for _, u := range w.units {
			// total = sum of kinds = sum of groups; kind = sum of its
			// groups; a mixed group = sum of its kinds.
			base := p.Label + "|" + u.Code + "|"
			var ks, all []string
			for _, k := range analytics.Kinds {
				ks = append(ks, base+k.String())
				var gs []string
				for g, gk := range groupKinds {
					if gk[k.String()] {
						gs = append(gs, base+whatName(k.String(), g))
					}
				}
				addSum(base+k.String(), gs, false)
			}
			for g, gk := range groupKinds {
				all = append(all, base+"cat:"+g)
				if len(gk) > 1 {
					var parts []string
					for k := range gk {
						parts = append(parts, base+k+"/cat:"+g)
					}
					addSum(base+"cat:"+g, parts, false)
				}
			}
			addSum(base+"*", ks, false)
			addSum(base+"*", all, false)
		}
	}
	for _, u := range w.units {
		for _, wh := range whats {
			sub := func(p analytics.Period, iv analytics.Interval) {
				ss, err := disclose.SubPeriods(p, iv)
				if err != nil {
					t.Fatal(err)
				}
				names := make([]string, len(ss))
				for i, s := range ss {
					names[i] = s.Label + "|" + u.Code + "|" + wh
				}
				addSum(p.Label+"|"+u.Code+"|"+wh, names, false)
			}
			for _, q := range qs {
				sub(q, analytics.IntervalMonth)
			}
			for _, h := range periods[1:3] {
				sub(h, analytics.IntervalQuarter)
			}
			addSum(year+"|"+u.Code+"|"+wh, []string{year + "-H1|" + u.Code + "|" + wh, year + "-H2|" + u.Code + "|" + wh}, false)
		}
	}
	rounds, err := ref.L.Propagate(ctx, 200)
	if err != nil {
		t.Fatalf("propagation: %v (a published interval does not hold its count)", err)
	}
	if dbg := os.Getenv("DISCLOSE_DEBUG"); dbg != "" {
		for i := 0; i < ref.L.Len(); i++ {
			if name, lo, hi := ref.L.Interval(i); strings.Contains(name, dbg) {
				tv, _ := ref.Truth(name)
				t.Logf("debug %s [%d,%d] true %d", name, lo, hi, tv)
			}
		}
	}
	sc, err := ref.Score()
	if err != nil {
		t.Fatal(err)
	}
	if ref.Skipped > 0 {
		t.Logf("%d constraints left out (not exact)", ref.Skipped)
	}
	res := attackResult{cells: ref.L.Len(), constraints: ref.L.Constraints(), rounds: rounds, small: sc.Small, smallPinned: sc.SmallPinned,
		sensitive: sc.Sensitive, sensitivePinned: sc.SensitivePinned + sc.SensitivePinnedZero, pinned: sc.Pinned}
	return res
}

// BenchmarkStats compares the public answer with the exact one for the
// issue's stats query (a quarter by mahalla x category with both
// comparisons); the public cube is built before the timer.
func BenchmarkStats(b *testing.B) {
	w := demoWorld(b)
	d := newDiscloser(w)
	ctx := context.Background()
	q := analytics.StatsQuery{Period: mustPeriod(b, "2025-Q3"), Level: geo.LevelMahalla, Group: analytics.DimCategory,
		ComparePrevious: true, CompareLastYear: true}
	if _, err := d.Stats(ctx, w.snap, q, demoNow); err != nil {
		b.Fatal(err)
	}
	b.Run("exact", func(b *testing.B) {
		for b.Loop() {
			if _, err := w.snap.Stats(q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("public", func(b *testing.B) {
		for b.Loop() {
			if _, err := d.Stats(ctx, w.snap, q, demoNow); err != nil {
				b.Fatal(err)
			}
		}
	})
}
