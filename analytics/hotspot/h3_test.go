package hotspot_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/hotspot"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// demoWorld is the demo region (units with boundaries) and a snapshot of
// its synthetic events, built once for the package's tests.
type demoWorld struct {
	units []geo.Unit
	byKey map[string]*geo.Unit
	snap  *analytics.Snapshot
	loc   *time.Location
}

var demoOnce = sync.OnceValues(func() (*demoWorld, error) {
	ctx := context.Background()
	units, err := demo.Units()
	if err != nil {
		return nil, err
	}
	cfg := demo.Config{Seed: 7, Now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), Scale: 0.2}
	snap, err := analytics.Build(ctx, units, func(fn func(*analytics.Event) error) error {
		return demo.Events(ctx, cfg, units, func(b []analytics.Event) error {
			for i := range b {
				if err := fn(&b[i]); err != nil {
					return err
				}
			}
			return nil
		})
	}, 1, 0)
	if err != nil {
		return nil, err
	}
	w := &demoWorld{units: units, byKey: map[string]*geo.Unit{}, snap: snap, loc: time.FixedZone("UZT", 5*3600)}
	for i := range units {
		w.byKey[units[i].Code] = &units[i]
	}
	return w, nil
})

func world(t testing.TB) *demoWorld {
	t.Helper()
	w, err := demoOnce()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *demoWorld) period(t testing.TB, s string) analytics.Period {
	t.Helper()
	p, err := analytics.ParsePeriod(s, w.loc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Qarshi city (1710401) has the region's main bozor and stations: a
// quarter of crimes at res 8 must show 99% hot spots after FDR, cover the
// whole city zero-filled and count every event of the city.
func TestHexHotspotsQarshi(t *testing.T) {
	w := world(t)
	q := hotspot.HexQuery{Res: 8, Period: w.period(t, "2026-Q2"),
		Filter: analytics.Filter{Unit: "1710401", Kinds: []analytics.Kind{analytics.KindCrime}},
		Area:   w.byKey["1710401"].Geometry}
	res, err := hotspot.HexHotspots(t.Context(), w.snap, q)
	if err != nil {
		t.Fatal(err)
	}
	if res.K != 1 || res.NeighbourhoodKm < 0.7 || res.NeighbourhoodKm > 0.9 {
		t.Errorf("k %d, radius %.2f km", res.K, res.NeighbourhoodKm)
	}
	hb, err := w.snap.Hexbins(analytics.HexbinQuery{Res: 8, Period: q.Period, Filter: q.Filter})
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, b := range hb.Bins {
		want += b.Count
	}
	var sum int64
	zeros, hot3, cold := 0, 0, 0
	for i, c := range res.Cells {
		if i > 0 && c.Cell <= res.Cells[i-1].Cell {
			t.Fatal("cells not sorted and distinct")
		}
		if geo.CellResolution(c.Cell) != 8 {
			t.Fatalf("cell %x has res %d", c.Cell, geo.CellResolution(c.Cell))
		}
		sum += c.Count
		if c.Count == 0 {
			zeros++
		}
		if c.Bin == 3 {
			hot3++
		}
		if c.Bin < 0 {
			cold++
		}
		if absBin(c.Bin) > absBin(c.RawBin) {
			t.Errorf("cell %x: FDR bin %d stronger than raw %d", c.Cell, c.Bin, c.RawBin)
		}
		if c.Bin != 0 && (c.Z > 0) != (c.Bin > 0) {
			t.Errorf("cell %x: bin %d, z %.2f", c.Cell, c.Bin, c.Z)
		}
	}
	if sum != want || res.Events != want {
		t.Errorf("cells sum %d, events %d, hexbins %d", sum, res.Events, want)
	}
	// Qarshi city is ~40 km², ~55 res-8 cells.
	if len(res.Cells) < 40 || zeros == 0 {
		t.Errorf("%d cells, %d zero-filled: the study area must cover the whole city", len(res.Cells), zeros)
	}
	if hot3 == 0 {
		t.Errorf("no 99%% hot spot in Qarshi (bozor, stations): %d cells, %d events", len(res.Cells), res.Events)
	}
	t.Logf("Qarshi 2026-Q2 res 8: %d cells (%d empty), %d events, %d hot at 99%%, %d cold", len(res.Cells), zeros, res.Events, hot3, cold)
}

func absBin(b int8) int8 {
	if b < 0 {
		return -b
	}
	return b
}

func TestHexHotspotsNotMeaningful(t *testing.T) {
	w := world(t)
	mahalla := ""
	for _, u := range w.units {
		if u.Level == geo.LevelMahalla && u.ParentCode == "1710401" {
			mahalla = u.Code
			break
		}
	}
	week := w.period(t, "2026-W20")
	for name, q := range map[string]hotspot.HexQuery{
		"one mahalla":   {Res: 8, Period: w.period(t, "2026-Q2"), Filter: analytics.Filter{Unit: mahalla}, Area: w.byKey[mahalla].Geometry},
		"one week":      {Res: 7, Period: week, Filter: analytics.Filter{Unit: "1710401", Kinds: []analytics.Kind{analytics.KindAccident}}, Area: w.byKey["1710401"].Geometry},
		"region res 10": {Res: 10, Period: week, Filter: analytics.Filter{Unit: "1710"}, Area: w.byKey["1710"].Geometry},
	} {
		_, err := hotspot.HexHotspots(t.Context(), w.snap, q)
		if !errors.Is(err, hotspot.ErrNotMeaningful) {
			t.Errorf("%s: err %v, want ErrNotMeaningful", name, err)
			continue
		}
		t.Logf("%s: %v", name, err)
	}
	_, err := hotspot.HexHotspots(t.Context(), w.snap, hotspot.HexQuery{Res: 8, Period: week})
	if !errors.Is(err, analytics.ErrBadQuery) {
		t.Errorf("no study area: %v", err)
	}
	_, err = hotspot.HexHotspots(t.Context(), w.snap, hotspot.HexQuery{Res: 8, K: 11, Period: week, Filter: analytics.Filter{Unit: "1710401"}, Area: w.byKey["1710401"].Geometry})
	if !errors.Is(err, analytics.ErrBadQuery) {
		t.Errorf("k 11: %v", err)
	}
}

// A bbox is a study area too; every cell of the box counts.
func TestHexHotspotsBBox(t *testing.T) {
	w := world(t)
	b := w.byKey["1710401"].Geometry.Bound()
	res, err := hotspot.HexHotspots(t.Context(), w.snap, hotspot.HexQuery{Res: 8, K: 1, Period: w.period(t, "2026"), Filter: analytics.Filter{BBox: &b}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cells {
		ll := h3.Cell(c.Cell).LatLng()
		if c.Count == 0 && !b.Contains(orb.Point{ll.Lng, ll.Lat}) {
			t.Fatalf("empty cell %x outside the box", c.Cell)
		}
	}
	if res.K != 1 || len(res.Cells) < 40 {
		t.Errorf("k %d, %d cells", res.K, len(res.Cells))
	}
}

// HexWeights are symmetric k-rings without self-links.
func TestHexWeights(t *testing.T) {
	origin := h3.LatLngToCell(h3.LatLng{Lat: 38.86, Lng: 65.79}, 9)
	var cells []uint64
	for _, c := range h3.GridDisk(origin, 5) {
		cells = append(cells, uint64(c))
	}
	sortU64(cells)
	w, err := hotspot.HexWeights(t.Context(), cells, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	has := map[[2]int32]bool{}
	for i := range w.N {
		nb, _ := w.Row(i)
		for _, j := range nb {
			if int(j) == i {
				t.Fatal("self-link")
			}
			has[[2]int32{int32(i), j}] = true
		}
	}
	for e := range has {
		if !has[[2]int32{e[1], e[0]}] {
			t.Fatalf("asymmetric link %v", e)
		}
	}
	// the origin (inner) has all 18 neighbours of its 2-ring
	i := indexOf(cells, uint64(origin))
	if nb, _ := w.Row(i); len(nb) != 18 {
		t.Errorf("origin has %d neighbours, want 18", len(nb))
	}
}

func sortU64(s []uint64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func indexOf(s []uint64, v uint64) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestMahallaHotspots(t *testing.T) {
	w := world(t)
	bounds := map[string]orb.MultiPolygon{}
	for _, u := range w.units {
		if u.Level == geo.LevelMahalla {
			bounds[u.Code] = u.Geometry
		}
	}
	for _, rate := range []bool{false, true} {
		q := hotspot.MahallaQuery{Period: w.period(t, "2026-H1"), Filter: analytics.Filter{Unit: "1710401"}, Boundaries: bounds, Rate: rate}
		res, err := hotspot.MahallaHotspots(t.Context(), w.snap, q)
		if err != nil {
			t.Fatal(err)
		}
		if res.Permutations != 999 || res.Seed != hotspot.DefaultSeed {
			t.Errorf("permutations %d seed %d", res.Permutations, res.Seed)
		}
		var clusters, hot int
		for _, r := range res.Rows {
			if r.MoranP <= 0 || r.MoranP > 1 || math.IsNaN(r.Z) {
				t.Fatalf("row %s: moran p %v z %v", r.Code, r.MoranP, r.Z)
			}
			if r.Cluster != "" {
				clusters++
			}
			if r.Bin > 0 {
				hot++
			}
			if rate && (r.Rate == nil || r.Value != *r.Rate) {
				t.Fatalf("row %s: rate value", r.Code)
			}
		}
		if res.Islands == len(res.Rows) {
			t.Fatal("no mahalla has a queen neighbour")
		}
		t.Logf("rate=%v: %d mahallas, %d excluded, %d islands, %d events, %d Gi* hot, %d Moran clusters",
			rate, len(res.Rows), len(res.Excluded), res.Islands, res.Events, hot, clusters)
		// deterministic: the same query gives the same pseudo p-values
		again, err := hotspot.MahallaHotspots(t.Context(), w.snap, q)
		if err != nil {
			t.Fatal(err)
		}
		for i := range res.Rows {
			if res.Rows[i].MoranP != again.Rows[i].MoranP {
				t.Fatal("permutations not reproducible")
			}
		}
	}
	// mahallas without a boundary are excluded and reported
	res, err := hotspot.MahallaHotspots(t.Context(), w.snap, hotspot.MahallaQuery{Period: w.period(t, "2026"), Filter: analytics.Filter{Unit: "1710"}, Boundaries: bounds})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) < 500 {
		t.Errorf("region: %d mahallas", len(res.Rows))
	}
	_, err = hotspot.MahallaHotspots(t.Context(), w.snap, hotspot.MahallaQuery{Period: w.period(t, "2026"), Filter: analytics.Filter{Unit: "1710401"}})
	if !errors.Is(err, hotspot.ErrNotMeaningful) {
		t.Errorf("no boundaries: %v", err)
	}
}

func TestEmergingHotspots(t *testing.T) {
	w := world(t)
	end := w.period(t, "2026-10").To
	q := hotspot.EmergingQuery{Res: 8, K: 1, Interval: analytics.IntervalMonth, Steps: 24, End: end, Location: w.loc,
		Filter: analytics.Filter{Unit: "1710401", Kinds: []analytics.Kind{analytics.KindCrime}}, Area: w.byKey["1710401"].Geometry}
	res, err := hotspot.EmergingHotspots(t.Context(), w.snap, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 24 || !res.Steps[23].To.Equal(end) || res.Steps[0].From.In(w.loc).Format("2006-01") != "2024-11" {
		t.Fatalf("steps %d, first %s", len(res.Steps), res.Steps[0].From)
	}
	var sum int64
	cats := map[hotspot.EmergingCategory]int{}
	for _, c := range res.Cells {
		if len(c.Z) != 24 || len(c.Counts) != 24 {
			t.Fatalf("cell %x: series of %d", c.Cell, len(c.Z))
		}
		sum += c.Count
		cats[c.Category]++
	}
	if sum != res.Events || sum == 0 {
		t.Errorf("cells sum %d, events %d", sum, res.Events)
	}
	hot := 0
	for c, n := range cats {
		if c.IsHot() {
			hot += n
		}
	}
	if hot == 0 {
		t.Errorf("no emerging hot spot in Qarshi: %v", cats)
	}
	t.Logf("categories: %v", cats)

	if _, err := hotspot.EmergingSteps(analytics.IntervalQuarter, 12, w.period(t, "2026-10").To, w.loc); !errors.Is(err, analytics.ErrBadQuery) {
		t.Errorf("end inside a quarter: %v", err)
	}
	if _, err := hotspot.EmergingSteps(analytics.IntervalMonth, 5, end, w.loc); !errors.Is(err, analytics.ErrBadQuery) {
		t.Errorf("5 steps: %v", err)
	}
}

// CubeWeights link a bin to its k-ring in its step and, in the previous
// step, to the same cell and its k-ring.
func TestCubeWeights(t *testing.T) {
	space, err := hotspot.NewBinaryWeights([][]int32{{1}, {0, 2}, {1}})
	if err != nil {
		t.Fatal(err)
	}
	cube, err := hotspot.CubeWeights(t.Context(), space, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := cube.Validate(); err != nil {
		t.Fatal(err)
	}
	want := map[int][]int32{
		0: {1},             // step 0, cell 0
		4: {0, 1, 2, 3, 5}, // step 1, cell 1: previous step 0,1,2; same step 0,2
		8: {4, 5, 7},       // step 2, cell 2: previous 1(4),2(5); same 1(7)
	}
	for i, nb := range want {
		got, _ := cube.Row(i)
		got = slices.Sorted(slices.Values(got))
		if len(got) != len(nb) {
			t.Fatalf("bin %d: %v, want %v", i, got, nb)
		}
		for k := range nb {
			if got[k] != nb[k] {
				t.Fatalf("bin %d: %v, want %v", i, got, nb)
			}
		}
	}
}

// The default neighbourhood of each resolution.
func ExampleDefaultK() {
	for res := 5; res <= 10; res++ {
		k := hotspot.DefaultK(res)
		fmt.Printf("res %d: k=%d, ~%.2f km\n", res, k, hotspot.NeighbourhoodKm(res, k))
	}
	// Output:
	// res 5: k=1, ~14.80 km
	// res 6: k=1, ~5.59 km
	// res 7: k=1, ~2.11 km
	// res 8: k=1, ~0.80 km
	// res 9: k=3, ~0.91 km
	// res 10: k=4, ~0.46 km
}
