package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/paulmach/orb"
)

// reassignTests are the store.BoundaryStore checks; a store that does not
// implement BoundaryStore skips them.
var reassignTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store, bs store.BoundaryStore)
}{
	{"ReassignFollowsBoundaries", testReassignFollowsBoundaries},
	{"ReassignResumes", testReassignResumes},
	{"ReassignNoBoundaries", testReassignNoBoundaries},
	{"BoundaryVersions", testBoundaryVersions},
}

func boundaryStore(t *testing.T, s store.Store) store.BoundaryStore {
	t.Helper()
	bs, ok := s.(store.BoundaryStore)
	if !ok {
		t.Skipf("%s store does not implement store.BoundaryStore", s.Backend())
	}
	return bs
}

func rect(x0, y0, x1, y1 float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}
}

// gridUnits: region R (lon 60..64, lat 38..40), districts D1 (west half)
// and D2 (east half); with mahallas, M1 (lon 60..61, lat 38..39) and M2
// (61..62) in D1.
func gridUnits(mahallas bool) []geo.Unit {
	us := []geo.Unit{
		{Code: "R", Level: geo.LevelRegion, Geometry: rect(60, 38, 64, 40)},
		{Code: "D1", ParentCode: "R", Level: geo.LevelDistrict, Geometry: rect(60, 38, 62, 40)},
		{Code: "D2", ParentCode: "R", Level: geo.LevelDistrict, Geometry: rect(62, 38, 64, 40)},
	}
	if mahallas {
		us = append(us,
			geo.Unit{Code: "M1", ParentCode: "D1", Level: geo.LevelMahalla, Geometry: rect(60, 38, 61, 39)},
			geo.Unit{Code: "M2", ParentCode: "D1", Level: geo.LevelMahalla, Geometry: rect(61, 38, 62, 39)})
	}
	return us
}

// gridEvents: n crimes along lat 38.5 at lon 60.025 + 4*i/n (inside R),
// two outside every unit and one without location but with a region code.
func gridEvents(n int, at time.Time) []analytics.Event {
	var evs []analytics.Event
	for i := range n {
		evs = append(evs, analytics.Event{Kind: analytics.KindCrime, SourceID: fmt.Sprintf("g%04d", i),
			OccurredAt: at.Add(time.Duration(i) * time.Minute), HasLocation: true,
			Lon: 60.025 + 4*float64(i)/float64(n), Lat: 38.5, Category: "theft"})
	}
	evs = append(evs,
		analytics.Event{Kind: analytics.KindCrime, SourceID: "out1", OccurredAt: at, HasLocation: true, Lon: 70.5, Lat: 38.5},
		analytics.Event{Kind: analytics.KindCrime, SourceID: "out2", OccurredAt: at, HasLocation: true, Lon: 59.5, Lat: 41},
		analytics.Event{Kind: analytics.KindCrime, SourceID: "noloc", OccurredAt: at, Region: "R"})
	return evs
}

func reassign(t *testing.T, bs store.BoundaryStore, batch int) store.ReassignResult {
	t.Helper()
	res, err := bs.Reassign(ctx(t), store.ReassignOptions{BatchSize: batch})
	if err != nil {
		t.Fatalf("Reassign: %v", err)
	}
	return res
}

func unitTotal(t *testing.T, s store.Store, code string) int {
	t.Helper()
	p, err := s.Events(ctx(t), store.EventQuery{Unit: code, Limit: 1})
	if err != nil {
		t.Fatalf("Events(unit %s): %v", code, err)
	}
	return p.Total
}

// checkAssigned checks every stored event's codes are what the store's
// index (the one ingest uses) gives at its time; events without location
// keep theirs.
func checkAssigned(t *testing.T, s store.Store) {
	t.Helper()
	ix, _, err := store.LoadIndex(ctx(t), s)
	if err != nil {
		t.Fatalf("LoadIndex: %v", err)
	}
	err = s.ScanEvents(ctx(t), func(e *analytics.Event) error {
		got := geo.Assignment{Region: e.Region, District: e.District, Mahalla: e.Mahalla}
		if !e.HasLocation {
			if e.SourceID == "noloc" && got != (geo.Assignment{Region: "R"}) {
				return fmt.Errorf("event without location %q: codes %+v changed", e.SourceID, got)
			}
			return nil
		}
		if want := ix.AssignAt(e.Lon, e.Lat, e.OccurredAt); got != want {
			return fmt.Errorf("event %q at (%g, %g) %s: assigned %+v, the index says %+v", e.SourceID, e.Lon, e.Lat, e.OccurredAt, got, want)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func checkCounts(t *testing.T, s store.Store, want map[string]int) {
	t.Helper()
	for code, n := range want {
		if got := unitTotal(t, s, code); got != n {
			t.Errorf("events in %s: %d, want %d", code, got, n)
		}
	}
}

// testReassignFollowsBoundaries: events stored before their boundaries
// get their units when the boundaries come, and move when a boundary
// changes, without being put again; a consistent store moves nothing.
func testReassignFollowsBoundaries(t *testing.T, s store.Store, bs store.BoundaryStore) {
	at := time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC)
	const n = 40
	mustPutEvents(t, s, gridEvents(n, at), store.Result{Inserted: n + 3})
	checkCounts(t, s, map[string]int{"R": 1, "D1": 0})

	mustPutUnits(t, s, gridUnits(false), store.Result{Inserted: 3})
	v := dataVersion(t, s)
	res := reassign(t, bs, 7)
	if res.Checked != n+2 || res.Moved != n || res.Unassigned != 2 || res.NoBoundaries {
		t.Fatalf("first Reassign = %+v, want %d checked, %d moved, 2 unassigned", res, n+2, n)
	}
	if res.Batches != (n+2+6)/7 {
		t.Errorf("Batches = %d, want %d", res.Batches, (n+2+6)/7)
	}
	if dataVersion(t, s) <= v {
		t.Error("Reassign that moved events did not bump the data version")
	}
	checkCounts(t, s, map[string]int{"R": n + 1, "D1": n / 2, "D2": n / 2})
	checkAssigned(t, s)

	// Consistent: nothing to do, nothing written.
	v = dataVersion(t, s)
	if res := reassign(t, bs, 7); res.Checked != 0 || res.Moved != 0 || res.Unassigned != 2 {
		t.Errorf("Reassign on a consistent store = %+v, want nothing checked or moved", res)
	}
	if dataVersion(t, s) != v {
		t.Error("Reassign that moved nothing bumped the data version")
	}
	// Unchanged boundaries do not change the boundary version.
	bv, err := bs.BoundaryVersion(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	mustPutUnits(t, s, gridUnits(false), store.Result{Unchanged: 3})
	if bv2, _ := bs.BoundaryVersion(ctx(t)); bv2 != bv {
		t.Errorf("BoundaryVersion %d after an unchanged PutUnits, want %d", bv2, bv)
	}

	// Mahallas come: the D1 events get them.
	mustPutUnits(t, s, gridUnits(true), store.Result{Inserted: 2, Unchanged: 3})
	if bv2, _ := bs.BoundaryVersion(ctx(t)); bv2 <= bv {
		t.Errorf("BoundaryVersion %d after new units, want > %d", bv2, bv)
	}
	res = reassign(t, bs, 1000)
	if res.Checked != n+2 || res.Moved != n/2 {
		t.Errorf("Reassign after mahallas = %+v, want %d checked, %d moved", res, n+2, n/2)
	}
	checkCounts(t, s, map[string]int{"M1": n / 4, "M2": n / 4, "D1": n / 2})

	// M1 shrinks to lon 60..60.5: half its events leave it (staying in D1).
	us := gridUnits(true)
	us[3].Geometry = rect(60, 38, 60.5, 39)
	mustPutUnits(t, s, us, store.Result{Updated: 1, Unchanged: 4})
	res = reassign(t, bs, 0)
	if res.Moved != n/8 {
		t.Errorf("Reassign after M1 shrank = %+v, want %d moved", res, n/8)
	}
	checkCounts(t, s, map[string]int{"M1": n / 8, "M2": n / 4, "D1": n / 2})
	checkAssigned(t, s)
}

// testReassignResumes: a run cancelled after some batches keeps them; the
// next run does only the rest and ends where an uninterrupted run would.
func testReassignResumes(t *testing.T, s store.Store, bs store.BoundaryStore) {
	at := time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC)
	const n = 100
	mustPutEvents(t, s, gridEvents(n, at), store.Result{Inserted: n + 3})
	mustPutUnits(t, s, gridUnits(true), store.Result{Inserted: 5})

	cctx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	var seen store.ReassignResult
	_, err := bs.Reassign(cctx, store.ReassignOptions{BatchSize: 10, Progress: func(r store.ReassignResult) {
		seen = r
		if r.Batches == 3 {
			cancel() // "killed" after three committed batches
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Reassign: err %v, want context.Canceled", err)
	}
	if seen.Batches != 3 || seen.Checked != 30 {
		t.Fatalf("cancelled Reassign progressed %+v, want 3 batches of 10", seen)
	}
	res := reassign(t, bs, 10)
	if res.Checked != n+2-30 {
		t.Errorf("resumed Reassign checked %d, want the %d left", res.Checked, n+2-30)
	}
	if seen.Moved+res.Moved != n {
		t.Errorf("moved %d + %d, want %d in all", seen.Moved, res.Moved, n)
	}
	checkCounts(t, s, map[string]int{"R": n + 1, "D1": n / 2, "D2": n / 2, "M1": n / 4, "M2": n / 4})
	checkAssigned(t, s)
	if res := reassign(t, bs, 10); res.Checked != 0 {
		t.Errorf("third Reassign checked %d, want 0", res.Checked)
	}
}

// testReassignNoBoundaries: without any boundary nothing is assigned and
// events keep the codes they came with.
func testReassignNoBoundaries(t *testing.T, s store.Store, bs store.BoundaryStore) {
	evs := gridEvents(4, time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC))
	evs[0].Region = "R"
	mustPutEvents(t, s, evs, store.Result{Inserted: 7})
	res := reassign(t, bs, 0)
	if !res.NoBoundaries || res.Checked != 0 || res.Moved != 0 {
		t.Errorf("Reassign without boundaries = %+v, want NoBoundaries and nothing done", res)
	}
	checkCounts(t, s, map[string]int{"R": 2})
}

// testBoundaryVersions: two versions of mahallas; events before and after
// the change land in the unit of the version valid at their time.
func testBoundaryVersions(t *testing.T, s store.Store, bs store.BoundaryStore) {
	change := time.Date(2024, 10, 31, 19, 0, 0, 0, time.UTC) // 2024-11-01 00:00 in Tashkent
	mustPutUnits(t, s, gridUnits(true), store.Result{Inserted: 5})
	if vs, err := bs.BoundaryVersions(ctx(t)); err != nil || len(vs) != 0 {
		t.Fatalf("BoundaryVersions of units with one version = %v, %v; want none", vs, err)
	}
	// From the change on, M1 reaches lon 61.5 and M2 starts there; M3 is new.
	redrawn := []geo.Unit{
		{Code: "M1", ParentCode: "D1", Level: geo.LevelMahalla, Geometry: rect(60, 38, 61.5, 39)},
		{Code: "M2", ParentCode: "D1", Level: geo.LevelMahalla, Geometry: rect(61.5, 38, 62, 39)},
		{Code: "M3", ParentCode: "D2", Level: geo.LevelMahalla, Geometry: rect(62, 38, 63, 39)},
	}
	put := func(units []geo.Unit, from time.Time, want store.Result) {
		t.Helper()
		got, err := bs.PutBoundaryVersion(ctx(t), units, from)
		if err != nil {
			t.Fatalf("PutBoundaryVersion: %v", err)
		}
		if got != want {
			t.Fatalf("PutBoundaryVersion = %+v, want %+v", got, want)
		}
	}
	put(redrawn, change, store.Result{Inserted: 1, Updated: 2})
	bv, _ := bs.BoundaryVersion(ctx(t))
	v := dataVersion(t, s)
	put(redrawn, change, store.Result{Unchanged: 3})
	if bv2, _ := bs.BoundaryVersion(ctx(t)); bv2 != bv || dataVersion(t, s) != v {
		t.Error("putting the same version again changed the boundary or data version")
	}
	if u, err := s.Unit(ctx(t), "M1"); err != nil || !u.Geometry.Equal(rect(60, 38, 61.5, 39)) {
		t.Errorf("Unit(M1) = %v, %v; want the new boundary as current", u.Geometry, err)
	}
	vs, err := bs.BoundaryVersions(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	type ver struct {
		code string
		from time.Time
		geom orb.MultiPolygon
	}
	var got []ver
	for _, x := range vs {
		got = append(got, ver{x.Code, x.ValidFrom, x.Geometry})
	}
	want := []ver{
		{"M1", time.Time{}, rect(60, 38, 61, 39)}, {"M1", change, rect(60, 38, 61.5, 39)},
		{"M2", time.Time{}, rect(61, 38, 62, 39)}, {"M2", change, rect(61.5, 38, 62, 39)},
		{"M3", change, rect(62, 38, 63, 39)},
	}
	if !slices.EqualFunc(got, want, func(a, b ver) bool {
		return a.code == b.code && a.from.Equal(b.from) && a.geom.Equal(b.geom)
	}) {
		t.Errorf("BoundaryVersions = %v\nwant %v", got, want)
	}

	// Events at lon 61.25 and 62.5, an hour before and after the change.
	mk := func(id string, lon float64, at time.Time) analytics.Event {
		return analytics.Event{Kind: analytics.KindCrime, SourceID: id, OccurredAt: at, HasLocation: true, Lon: lon, Lat: 38.5}
	}
	before, after := change.Add(-time.Hour), change.Add(time.Hour)
	mustPutEvents(t, s, []analytics.Event{
		mk("a-before", 61.25, before), mk("a-after", 61.25, after), mk("a-at", 61.25, change),
		mk("b-before", 62.5, before), mk("b-after", 62.5, after),
	}, store.Result{Inserted: 5})
	res := reassign(t, bs, 2)
	if res.Checked != 5 || res.Moved != 5 {
		t.Errorf("Reassign = %+v, want 5 checked and moved", res)
	}
	wantUnit := map[string]geo.Assignment{
		"a-before": {Region: "R", District: "D1", Mahalla: "M2"},
		"a-after":  {Region: "R", District: "D1", Mahalla: "M1"},
		"a-at":     {Region: "R", District: "D1", Mahalla: "M1"},
		"b-before": {Region: "R", District: "D2"},
		"b-after":  {Region: "R", District: "D2", Mahalla: "M3"},
	}
	checkEvents := func() {
		t.Helper()
		if err := s.ScanEvents(ctx(t), func(e *analytics.Event) error {
			if got, want := (geo.Assignment{Region: e.Region, District: e.District, Mahalla: e.Mahalla}), wantUnit[e.SourceID]; got != want {
				t.Errorf("event %s: %+v, want %+v", e.SourceID, got, want)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	checkEvents()
	checkAssigned(t, s)

	// PutUnits without a version corrects the current boundary only.
	fixed := redrawn[:1:1]
	fixed[0].Geometry = rect(60, 38, 61.6, 39)
	mustPutUnits(t, s, fixed, store.Result{Updated: 1})
	if vs, _ := bs.BoundaryVersions(ctx(t)); len(vs) != 5 || !vs[0].Geometry.Equal(rect(60, 38, 61, 39)) || !vs[1].Geometry.Equal(rect(60, 38, 61.6, 39)) {
		t.Errorf("after PutUnits of M1: versions %v", vs)
	}

	// A version inside an older one splits it: M1 was lon 60..60.5 from a
	// year before the change.
	older := change.AddDate(-1, 0, 0)
	put([]geo.Unit{{Code: "M1", ParentCode: "D1", Level: geo.LevelMahalla, Geometry: rect(60, 38, 60.5, 39)}}, older,
		store.Result{Updated: 1})
	vs, _ = bs.BoundaryVersions(ctx(t))
	var m1 []time.Time
	for _, x := range vs {
		if x.Code == "M1" {
			m1 = append(m1, x.ValidFrom)
		}
	}
	if len(m1) != 3 || !m1[0].IsZero() || !m1[1].Equal(older) || !m1[2].Equal(change) {
		t.Errorf("M1 versions from %v, want beginning, %v, %v", m1, older, change)
	}
	units, err := s.Units(ctx(t), store.UnitQuery{Level: geo.LevelMahalla})
	if err == nil {
		units, err = store.WithBoundaryChanges(ctx(t), s, units)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if u.Code == "M1" && (len(u.BoundaryChanges) != 2 || !u.BoundaryChanges[1].Equal(change)) {
			t.Errorf("WithBoundaryChanges: M1 BoundaryChanges %v, want [%v %v]", u.BoundaryChanges, older, change)
		}
	}
	res = reassign(t, bs, 0)
	if res.Moved != 0 { // a-before (lon 61.25) was outside M1's older boundary too
		t.Errorf("Reassign after an older version = %+v, want nothing moved", res)
	}
	checkEvents()
}
