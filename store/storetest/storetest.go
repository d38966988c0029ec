// Package storetest is the conformance suite every store.Store backend must
// pass, plus synthetic data for tests and benchmarks.
//
// Backends that implement store.RunStore (both do) also pass the
// classification-run checks (Runs*), and those that implement
// store.TokenStore (both do) the API-token checks (Tokens*); others skip
// them.
//
// Run it from a backend's tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { ... a fresh, empty store ... })
//	}
//
// Both backends reject the same events before writing (store.ErrInvalid, the
// whole batch is refused): kind outside 1..3, empty source id, zero time,
// a location outside lon -180..180 / lat -90..90 or NaN, a non-finite fine;
// and the same units: empty code, unknown level, negative population,
// rings not closed or with fewer than 4 points. Database constraints
// (CHECK, NOT NULL, UNIQUE) back these up and fail the transaction.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/internal/check"
	"github.com/paulmach/orb"
)

// Run runs the conformance suite; open must return a fresh, empty store and
// arrange for it to be closed (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Ping", testPing},
		{"UnitsPut", testUnitsPut},
		{"UnitsQuery", testUnitsQuery},
		{"UnitsRoundTrip", testUnitsRoundTrip},
		{"UnitsInvalid", testUnitsInvalid},
		{"EventsPut", testEventsPut},
		{"EventsRoundTrip", testEventsRoundTrip},
		{"EventsAtomic", testEventsAtomic},
		{"EventsQuery", testEventsQuery},
		{"EventsPaging", testEventsPaging},
		{"EventsRecordedAfter", testEventsRecordedAfter},
		{"EventsRecordedAt", testEventsRecordedAt},
		{"ScanEvents", testScanEvents},
		{"Counts", testCounts},
		{"DataVersion", testDataVersion},
		{"Canceled", testCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
	for _, tt := range runTests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, runStore(t, open(t))) })
	}
	for _, tt := range tokenTests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, tokenStore(t, open(t))) })
	}
	for _, tt := range reassignTests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			tt.fn(t, s, boundaryStore(t, s))
		})
	}
	for _, tt := range populationTests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// RunShared runs the checks that need two stores opened on the same
// database (as two processes would): open must return a fresh, empty store
// and a second one on its database, and arrange for both to be closed.
func RunShared(t *testing.T, open func(t *testing.T) (store.Store, store.Store)) {
	t.Run("DataVersionShared", func(t *testing.T) {
		a, b := open(t)
		testDataVersionShared(t, a, b)
	})
}

func ctx(t *testing.T) context.Context { return t.Context() }

func dataVersion(t *testing.T, s store.Store) int64 {
	t.Helper()
	v, err := s.DataVersion(ctx(t))
	if err != nil {
		t.Fatalf("DataVersion: %v", err)
	}
	return v
}

// testDataVersion checks DataVersion increases with every write that
// inserts or updates, and only then.
func testDataVersion(t *testing.T, s store.Store) {
	v := dataVersion(t, s)
	if again := dataVersion(t, s); again != v {
		t.Fatalf("DataVersion changed without writes: %d, then %d", v, again)
	}
	step := func(what string, write func(), changes bool) {
		t.Helper()
		write()
		got := dataVersion(t, s)
		switch {
		case changes && got <= v:
			t.Errorf("after %s: DataVersion %d, want > %d", what, got, v)
		case !changes && got != v:
			t.Errorf("after %s: DataVersion %d, want %d (unchanged)", what, got, v)
		}
		v = got
	}
	units := fixtureUnits()
	events := fixtureEvents()
	step("PutUnits inserting", func() { mustPutUnits(t, s, units, store.Result{Inserted: 6}) }, true)
	step("PutUnits unchanged", func() { mustPutUnits(t, s, units, store.Result{Unchanged: 6}) }, false)
	step("PutUnits empty", func() { mustPutUnits(t, s, nil, store.Result{}) }, false)
	units[1].Population++
	step("PutUnits updating", func() { mustPutUnits(t, s, units, store.Result{Updated: 1, Unchanged: 5}) }, true)
	step("PutEvents inserting", func() { mustPutEvents(t, s, events, store.Result{Inserted: 7}) }, true)
	step("PutEvents unchanged", func() { mustPutEvents(t, s, events, store.Result{Unchanged: 7}) }, false)
	step("PutEvents empty", func() { mustPutEvents(t, s, nil, store.Result{}) }, false)
	events[3].Injured++
	step("PutEvents updating", func() { mustPutEvents(t, s, events, store.Result{Updated: 1, Unchanged: 6}) }, true)
	extra := analytics.Event{Kind: analytics.KindOffence, SourceID: "dv1", OccurredAt: t0}
	step("PutEvents inserting one", func() {
		mustPutEvents(t, s, append(events, extra), store.Result{Inserted: 1, Unchanged: 7})
	}, true)
	syn := SyntheticEvents(25000, 12) // the bulk path of some backends
	step("PutEvents bulk inserting", func() { mustPutEvents(t, s, syn, store.Result{Inserted: len(syn)}) }, true)
	step("PutEvents bulk unchanged", func() { mustPutEvents(t, s, syn, store.Result{Unchanged: len(syn)}) }, false)
	step("PutEvents invalid", func() {
		bad := append(slices.Clone(events), analytics.Event{Kind: 9, SourceID: "x", OccurredAt: t0})
		if _, err := s.PutEvents(ctx(t), bad); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("PutEvents invalid: %v, want ErrInvalid", err)
		}
	}, false)
}

// testDataVersionShared checks a write through one store shows in the
// DataVersion of another on the same database.
func testDataVersionShared(t *testing.T, a, b store.Store) {
	va, vb := dataVersion(t, a), dataVersion(t, b)
	if va != vb {
		t.Fatalf("two stores on one database: DataVersion %d and %d", va, vb)
	}
	mustPutEvents(t, a, fixtureEvents(), store.Result{Inserted: 7})
	v1 := dataVersion(t, b)
	if v1 <= vb {
		t.Errorf("after a write through the first store, the second's DataVersion is %d, want > %d", v1, vb)
	}
	if got := dataVersion(t, a); got != v1 {
		t.Errorf("DataVersion %d through the writer, %d through the other", got, v1)
	}
	mustPutEvents(t, b, fixtureEvents(), store.Result{Unchanged: 7})
	if got := dataVersion(t, a); got != v1 {
		t.Errorf("after an unchanged re-put through the second store: DataVersion %d, want %d", got, v1)
	}
	mustPutUnits(t, b, fixtureUnits(), store.Result{Inserted: 6})
	if got := dataVersion(t, a); got <= v1 {
		t.Errorf("after PutUnits through the second store: DataVersion %d, want > %d", got, v1)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if b := s.Backend(); b != "postgis" && b != "sqlite" {
		t.Errorf("Backend() = %q", b)
	}
}

// square returns a closed square ring with lower-left corner (x, y).
func square(x, y, d float64) orb.Ring {
	return orb.Ring{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}
}

// fixtureUnits: one region, two districts, three mahallas; names partly
// missing, population partly unknown, geometry with holes and parts.
func fixtureUnits() []geo.Unit {
	return []geo.Unit{
		{Code: "1710", Level: geo.LevelRegion,
			Names:      map[string]string{"uz": "Qashqadaryo viloyati", "uz-Cyrl": "Қашқадарё вилояти", "ru": "Кашкадарьинская область", "kk": "Қашқадария облысы", "ky": "Кашкадарья облусу", "en": "Kashkadarya Region"},
			Population: 3_577_000, PopulationYear: 2025,
			Geometry: orb.MultiPolygon{{square(64.9, 37.8, 2.6)}}},
		{Code: "1710212", ParentCode: "1710", Level: geo.LevelDistrict,
			Names:      map[string]string{"uz": "Qarshi tumani", "ru": "Каршинский район"},
			Population: 250_123,
			Geometry: orb.MultiPolygon{
				{square(65.5, 38.7, 0.5), orb.Ring{{65.6, 38.8}, {65.6, 38.9}, {65.7, 38.9}, {65.6, 38.8}}},
				{square(66.1, 38.7, 0.1)},
			}},
		{Code: "1710207", ParentCode: "1710", Level: geo.LevelDistrict,
			Names: map[string]string{"en": "Dehqonobod district"}},
		{Code: "1710212001", ParentCode: "1710212", Level: geo.LevelMahalla,
			Names: map[string]string{"uz": "Navbahor MFY"}, Population: 4_210, PopulationYear: 2024,
			Geometry: orb.MultiPolygon{{square(65.51, 38.71, 0.01)}}},
		{Code: "1710212002", ParentCode: "1710212", Level: geo.LevelMahalla},
		{Code: "1710207001", ParentCode: "1710207", Level: geo.LevelMahalla,
			Names: map[string]string{"uz-Cyrl": "Ғалаба МФЙ"}},
	}
}

func mustPutUnits(t *testing.T, s store.Store, units []geo.Unit, want store.Result) {
	t.Helper()
	got, err := s.PutUnits(ctx(t), units)
	if err != nil {
		t.Fatalf("PutUnits: %v", err)
	}
	if got != want {
		t.Fatalf("PutUnits = %+v, want %+v", got, want)
	}
}

func testUnitsPut(t *testing.T, s store.Store) {
	units := fixtureUnits()
	mustPutUnits(t, s, units, store.Result{Inserted: 6})
	mustPutUnits(t, s, units, store.Result{Unchanged: 6})

	changed := fixtureUnits()
	changed[1].Names = map[string]string{"uz": "Qarshi tumani", "ru": "Каршинский район", "en": "Qarshi district"}
	changed[3].Population = 0 // now unknown
	changed[4].Geometry = orb.MultiPolygon{{square(65.52, 38.71, 0.01)}}
	changed[5].ParentCode = "1710212" // moved
	extra := geo.Unit{Code: "1710212003", ParentCode: "1710212", Level: geo.LevelMahalla}
	mustPutUnits(t, s, append(changed, extra), store.Result{Inserted: 1, Updated: 4, Unchanged: 2})
	mustPutUnits(t, s, append(changed, extra), store.Result{Unchanged: 7})

	// A duplicate code in one batch: the last wins, the other counts as unchanged.
	dup := changed[0]
	dup.Population = 1
	mustPutUnits(t, s, []geo.Unit{changed[0], dup}, store.Result{Updated: 1, Unchanged: 1})
	if u, err := s.Unit(ctx(t), dup.Code); err != nil || u.Population != 1 {
		t.Errorf("after duplicate put: population %d, err %v; want 1", u.Population, err)
	}
	mustPutUnits(t, s, nil, store.Result{})
}

func codes(units []geo.Unit) []string {
	out := make([]string, len(units))
	for i, u := range units {
		out[i] = u.Code
	}
	return out
}

func testUnitsQuery(t *testing.T, s store.Store) {
	mustPutUnits(t, s, fixtureUnits(), store.Result{Inserted: 6})
	tests := []struct {
		name string
		q    store.UnitQuery
		want []string
	}{
		{"all by level then code", store.UnitQuery{}, []string{"1710", "1710207", "1710212", "1710207001", "1710212001", "1710212002"}},
		{"regions", store.UnitQuery{Level: geo.LevelRegion}, []string{"1710"}},
		{"districts", store.UnitQuery{Level: geo.LevelDistrict}, []string{"1710207", "1710212"}},
		{"children of region", store.UnitQuery{Parent: "1710"}, []string{"1710207", "1710212"}},
		{"mahallas of district", store.UnitQuery{Level: geo.LevelMahalla, Parent: "1710212"}, []string{"1710212001", "1710212002"}},
		{"level and wrong parent", store.UnitQuery{Level: geo.LevelRegion, Parent: "1710212"}, nil},
		{"unknown parent", store.UnitQuery{Parent: "9999"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, withGeom := range []bool{false, true} {
				tt.q.WithGeometry = withGeom
				got, err := s.Units(ctx(t), tt.q)
				if err != nil {
					t.Fatalf("Units(%+v): %v", tt.q, err)
				}
				if !slices.Equal(codes(got), tt.want) {
					t.Errorf("Units(%+v) = %v, want %v", tt.q, codes(got), tt.want)
				}
				for _, u := range got {
					if !withGeom && u.Geometry != nil {
						t.Errorf("Units(%+v): %s has geometry without WithGeometry", tt.q, u.Code)
					}
				}
			}
		})
	}
}

// sameUnit compares units, treating nil and empty names/geometry alike.
func sameUnit(a, b geo.Unit) bool {
	an, bn := check.Names(a.Names), check.Names(b.Names)
	if len(a.Geometry) == 0 && len(b.Geometry) == 0 {
		a.Geometry, b.Geometry = nil, nil
	}
	return a.Code == b.Code && a.ParentCode == b.ParentCode && a.Level == b.Level &&
		maps.Equal(an, bn) && a.Population == b.Population && a.PopulationYear == b.PopulationYear &&
		orb.Equal(a.Geometry, b.Geometry)
}

func testUnitsRoundTrip(t *testing.T, s store.Store) {
	units := fixtureUnits()
	mustPutUnits(t, s, units, store.Result{Inserted: len(units)})
	for _, want := range units {
		got, err := s.Unit(ctx(t), want.Code)
		if err != nil {
			t.Fatalf("Unit(%q): %v", want.Code, err)
		}
		if !sameUnit(got, want) {
			t.Errorf("Unit(%q) =\n%+v\nwant\n%+v", want.Code, got, want)
		}
		for _, lang := range geo.Languages {
			if got.Name(lang) != want.Name(lang) {
				t.Errorf("Unit(%q).Name(%q) = %q, want %q", want.Code, lang, got.Name(lang), want.Name(lang))
			}
		}
	}
	all, err := s.Units(ctx(t), store.UnitQuery{WithGeometry: true})
	if err != nil {
		t.Fatal(err)
	}
	byCode := make(map[string]geo.Unit)
	for _, u := range units {
		byCode[u.Code] = u
	}
	for _, got := range all {
		if !sameUnit(got, byCode[got.Code]) {
			t.Errorf("Units: %s =\n%+v\nwant\n%+v", got.Code, got, byCode[got.Code])
		}
	}
	for _, code := range []string{"0000", "", "1710212001 "} {
		if _, err := s.Unit(ctx(t), code); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Unit(%q) error = %v, want ErrNotFound", code, err)
		}
	}
}

func testUnitsInvalid(t *testing.T, s store.Store) {
	good := fixtureUnits()
	tests := []struct {
		name string
		bad  geo.Unit
	}{
		{"empty code", geo.Unit{Level: geo.LevelRegion}},
		{"unknown level", geo.Unit{Code: "1", Level: "country"}},
		{"negative population", geo.Unit{Code: "1", Level: geo.LevelRegion, Population: -1}},
		{"open ring", geo.Unit{Code: "1", Level: geo.LevelRegion, Geometry: orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}}}},
		{"short ring", geo.Unit{Code: "1", Level: geo.LevelRegion, Geometry: orb.MultiPolygon{{{{0, 0}, {1, 0}, {0, 0}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.PutUnits(ctx(t), append(slices.Clone(good), tt.bad))
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("PutUnits error = %v, want ErrInvalid", err)
			}
			c, err := s.Counts(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			for l, n := range c.Units {
				if n != 0 {
					t.Errorf("after rejected batch: %d units of level %s", n, l)
				}
			}
		})
	}
}

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// fixtureEvents covers all kinds, missing locations and optional fields.
func fixtureEvents() []analytics.Event {
	tashkent := time.FixedZone("Asia/Tashkent", 5*3600)
	return []analytics.Event{
		{Kind: analytics.KindCrime, SourceID: "c1", OccurredAt: t0, HasLocation: true, Lon: 65.79, Lat: 38.86,
			Cell: 0x8f2a1072b59ffff, Category: "theft", Region: "1710", District: "1710212", Mahalla: "1710212001",
			Article: "169", Severity: analytics.SeverityMedium, Flags: analytics.FlagJuvenile | analytics.FlagSolved},
		{Kind: analytics.KindCrime, SourceID: "c2", OccurredAt: t0.Add(time.Hour).In(tashkent), HasLocation: true, Lon: 66.5, Lat: 39.1,
			Region: "1710", District: "1710207", Severity: analytics.SeverityEspeciallyGrave, Flags: 0x7f},
		{Kind: analytics.KindCrime, SourceID: "c3", OccurredAt: t0.Add(24 * time.Hour), Region: "1710", Category: "fraud"},
		{Kind: analytics.KindAccident, SourceID: "c1", OccurredAt: t0.Add(2 * time.Hour), HasLocation: true, Lon: 65.8, Lat: 38.87,
			Region: "1710", District: "1710212", Mahalla: "1710212002", Killed: 1, Injured: 3, Vehicle: "bus"},
		{Kind: analytics.KindAccident, SourceID: "a2", OccurredAt: t0.Add(-48 * time.Hour), HasLocation: true, Lon: -0.1, Lat: 51.5},
		{Kind: analytics.KindOffence, SourceID: "o1", OccurredAt: t0.Add(3 * time.Hour), HasLocation: true, Lon: 65.0, Lat: 37.9,
			Region: "1710", District: "1710212", Article: "128", Fine: 375000.5},
		{Kind: analytics.KindOffence, SourceID: "o2", OccurredAt: t0.Add(3 * time.Hour), Article: "183", Fine: 0},
	}
}

func mustPutEvents(t *testing.T, s store.Store, events []analytics.Event, want store.Result) {
	t.Helper()
	got, err := s.PutEvents(ctx(t), events)
	if err != nil {
		t.Fatalf("PutEvents: %v", err)
	}
	if got != want {
		t.Fatalf("PutEvents = %+v, want %+v", got, want)
	}
}

func testEventsPut(t *testing.T, s store.Store) {
	events := fixtureEvents()
	n := len(events)
	mustPutEvents(t, s, events, store.Result{Inserted: n})
	mustPutEvents(t, s, events, store.Result{Unchanged: n})

	// Times differing below a microsecond are the same stored time.
	same := fixtureEvents()
	same[0].OccurredAt = same[0].OccurredAt.Truncate(time.Microsecond).Add(999)
	mustPutEvents(t, s, same, store.Result{Unchanged: n})

	changed := fixtureEvents()
	changed[0].Flags |= analytics.FlagDrugs     // field change
	changed[2].HasLocation = true               // gains a location
	changed[2].Lon, changed[2].Lat = 66, 39     //
	changed[3].Mahalla = ""                     // loses a unit
	changed[5].Fine = 375000.25                 // float change
	changed[6].OccurredAt = t0.Add(time.Second) // time change
	newOne := analytics.Event{Kind: analytics.KindOffence, SourceID: "c2", OccurredAt: t0}
	mustPutEvents(t, s, append(changed, newOne), store.Result{Inserted: 1, Updated: 5, Unchanged: n - 5})
	mustPutEvents(t, s, append(changed, newOne), store.Result{Unchanged: n + 1})

	// Duplicates in one batch: the last wins, earlier copies count as unchanged.
	a, b := changed[0], changed[0]
	b.Category = "robbery"
	mustPutEvents(t, s, []analytics.Event{a, b, a, b}, store.Result{Updated: 1, Unchanged: 3})
	page, err := s.Events(ctx(t), store.EventQuery{Kind: analytics.KindCrime})
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(page.Events, func(e analytics.Event) bool { return e.SourceID == "c1" }); i < 0 || page.Events[i].Category != "robbery" {
		t.Errorf("after duplicate put: %+v, want category robbery", page.Events)
	}
	mustPutEvents(t, s, nil, store.Result{})

	// A larger batch takes the bulk path of some backends.
	syn := SyntheticEvents(25000, 7)
	mustPutEvents(t, s, syn, store.Result{Inserted: len(syn)})
	syn[10].Injured++
	syn[len(syn)-1].Article = "x"
	mustPutEvents(t, s, syn, store.Result{Updated: 2, Unchanged: len(syn) - 2})
}

// sameEvents reports the first difference between want (normalised as the
// stores keep events) and got, keyed by kind and source id.
func sameEvents(got, want []analytics.Event) error {
	type key struct {
		k  analytics.Kind
		id string
	}
	m := make(map[key]analytics.Event, len(want))
	for _, e := range want {
		m[key{e.Kind, e.SourceID}] = check.Normalize(e)
	}
	if len(got) != len(m) {
		return fmt.Errorf("got %d events, want %d", len(got), len(m))
	}
	for _, g := range got {
		w, ok := m[key{g.Kind, g.SourceID}]
		if !ok {
			return fmt.Errorf("unexpected event %s %q", g.Kind, g.SourceID)
		}
		if !g.Equal(&w) || g.OccurredAt.Location() != time.UTC {
			return fmt.Errorf("event %s %q:\n got %+v\nwant %+v", g.Kind, g.SourceID, g, w)
		}
	}
	return nil
}

func all(t *testing.T, s store.Store) []analytics.Event {
	t.Helper()
	var out []analytics.Event
	if err := s.ScanEvents(ctx(t), func(e *analytics.Event) error {
		out = append(out, *e)
		return nil
	}); err != nil {
		t.Fatalf("ScanEvents: %v", err)
	}
	return out
}

func testEventsRoundTrip(t *testing.T, s store.Store) {
	events := fixtureEvents()
	// Values at the edges of their columns.
	events = append(events,
		analytics.Event{Kind: analytics.KindCrime, SourceID: "edge", OccurredAt: time.Date(1970, 1, 1, 0, 0, 0, 1000, time.UTC),
			HasLocation: true, Lon: -180, Lat: 90, Cell: 0xffffffffffffffff, Flags: 0xffff, Severity: 4},
		analytics.Event{Kind: analytics.KindAccident, SourceID: "ünïcødé/ид 1", OccurredAt: t0, Killed: 1 << 30, Injured: -1,
			Vehicle: "КамАЗ", HasLocation: true, Lon: 0, Lat: 0},
		// No location: stray coordinates are dropped, the event is kept.
		analytics.Event{Kind: analytics.KindOffence, SourceID: "noloc", OccurredAt: t0, Lon: 65, Lat: 38, Fine: -1e-300},
	)
	mustPutEvents(t, s, events, store.Result{Inserted: len(events)})
	if err := sameEvents(all(t, s), events); err != nil {
		t.Error(err)
	}
	page, err := s.Events(ctx(t), store.EventQuery{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if err := sameEvents(page.Events, events); err != nil {
		t.Error(err)
	}
	for _, e := range page.Events {
		if e.SourceID == "noloc" && (e.HasLocation || e.Lon != 0 || e.Lat != 0) {
			t.Errorf("event without location came back as %+v", e)
		}
	}
}

func testEventsAtomic(t *testing.T, s store.Store) {
	base := fixtureEvents()
	mustPutEvents(t, s, base[:2], store.Result{Inserted: 2})
	valid := fixtureEvents()
	valid[0].Category = "changed" // an update that must not survive
	tests := []struct {
		name string
		bad  analytics.Event
	}{
		{"kind 0", analytics.Event{SourceID: "x", OccurredAt: t0}},
		{"kind 9", analytics.Event{Kind: 9, SourceID: "x", OccurredAt: t0}},
		{"empty source id", analytics.Event{Kind: analytics.KindCrime, OccurredAt: t0}},
		{"zero time", analytics.Event{Kind: analytics.KindCrime, SourceID: "x"}},
		{"lon out of range", analytics.Event{Kind: analytics.KindCrime, SourceID: "x", OccurredAt: t0, HasLocation: true, Lon: 181}},
		{"lat NaN", analytics.Event{Kind: analytics.KindCrime, SourceID: "x", OccurredAt: t0, HasLocation: true, Lat: nan()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, pos := range []int{0, len(valid)} { // first and last
				batch := slices.Insert(slices.Clone(valid), pos, tt.bad)
				if _, err := s.PutEvents(ctx(t), batch); !errors.Is(err, store.ErrInvalid) {
					t.Fatalf("PutEvents error = %v, want ErrInvalid", err)
				}
				if err := sameEvents(all(t, s), base[:2]); err != nil {
					t.Fatalf("after rejected batch: %v", err)
				}
			}
		})
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

func testEventsQuery(t *testing.T, s store.Store) {
	events := fixtureEvents()
	mustPutEvents(t, s, events, store.Result{Inserted: len(events)})
	// Stored times are whole microseconds; bounds on them are exact.
	t0 := t0.Truncate(time.Microsecond)
	box := func(x0, y0, x1, y1 float64) *orb.Bound {
		return &orb.Bound{Min: orb.Point{x0, y0}, Max: orb.Point{x1, y1}}
	}
	id := func(e analytics.Event) string { return e.Kind.String()[:1] + ":" + e.SourceID }
	tests := []struct {
		name string
		q    store.EventQuery
		want []string // kind initial:source id in page order
	}{
		{"all ordered by time, kind, id", store.EventQuery{}, []string{"a:a2", "c:c1", "c:c2", "a:c1", "o:o1", "o:o2", "c:c3"}},
		{"kind", store.EventQuery{Kind: analytics.KindAccident}, []string{"a:a2", "a:c1"}},
		{"from inclusive", store.EventQuery{From: t0.Add(2 * time.Hour)}, []string{"a:c1", "o:o1", "o:o2", "c:c3"}},
		{"from rounds up to the microsecond", store.EventQuery{From: t0.Add(1)}, []string{"c:c2", "a:c1", "o:o1", "o:o2", "c:c3"}},
		{"to exclusive", store.EventQuery{To: t0.Add(2 * time.Hour)}, []string{"a:a2", "c:c1", "c:c2"}},
		{"from and to", store.EventQuery{From: t0, To: t0.Add(3 * time.Hour)}, []string{"c:c1", "c:c2", "a:c1"}},
		{"to in other zone", store.EventQuery{To: t0.Add(time.Hour).In(time.FixedZone("x", -7*3600))}, []string{"a:a2", "c:c1"}},
		{"bbox", store.EventQuery{BBox: box(65.7, 38.8, 65.9, 38.9)}, []string{"c:c1", "a:c1"}},
		{"bbox edges inclusive", store.EventQuery{BBox: box(65.0, 37.9, 66.5, 39.1)}, []string{"c:c1", "c:c2", "a:c1", "o:o1"}},
		{"bbox excludes no location", store.EventQuery{BBox: box(-180, -90, 180, 90)}, []string{"a:a2", "c:c1", "c:c2", "a:c1", "o:o1"}},
		{"bbox and kind", store.EventQuery{BBox: box(64, 37, 67, 40), Kind: analytics.KindOffence}, []string{"o:o1"}},
		{"unit region", store.EventQuery{Unit: "1710"}, []string{"c:c1", "c:c2", "a:c1", "o:o1", "c:c3"}},
		{"unit district", store.EventQuery{Unit: "1710212"}, []string{"c:c1", "a:c1", "o:o1"}},
		{"unit mahalla", store.EventQuery{Unit: "1710212002"}, []string{"a:c1"}},
		{"unit unknown", store.EventQuery{Unit: "17102"}, nil},
		{"category", store.EventQuery{Categories: []string{"theft"}}, []string{"c:c1"}},
		{"categories", store.EventQuery{Categories: []string{"fraud", "theft"}}, []string{"c:c1", "c:c3"}},
		{"category repeated", store.EventQuery{Categories: []string{"fraud", "fraud"}}, []string{"c:c3"}},
		{"category exact (case and whole value)", store.EventQuery{Categories: []string{"Theft", "thef"}}, nil},
		{"category unknown", store.EventQuery{Categories: []string{"arson"}}, nil},
		{"category and unit", store.EventQuery{Categories: []string{"fraud", "theft"}, Unit: "1710212"}, []string{"c:c1"}},
		{"category and kind", store.EventQuery{Categories: []string{"theft"}, Kind: analytics.KindAccident}, nil},
		{"everything", store.EventQuery{Kind: analytics.KindCrime, From: t0.Add(-time.Hour), To: t0.Add(time.Hour + 1) /* rounds up */, BBox: box(65, 38, 67, 40), Unit: "1710207"}, []string{"c:c2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.Events(ctx(t), tt.q)
			if err != nil {
				t.Fatalf("Events: %v", err)
			}
			var got []string
			for _, e := range page.Events {
				got = append(got, id(e))
			}
			if !slices.Equal(got, tt.want) || page.Total != len(tt.want) {
				t.Errorf("Events(%+v) = %v (total %d), want %v", tt.q, got, page.Total, tt.want)
			}
		})
	}
	for _, q := range []store.EventQuery{
		{Kind: 4}, {Offset: -1}, {BBox: box(1, 0, 0, 1)}, {Categories: []string{"theft", ""}},
		{Categories: make([]string, store.MaxCategories+1)},
	} {
		if _, err := s.Events(ctx(t), q); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Events(%+v) error = %v, want ErrInvalid", q, err)
		}
	}
}

func testEventsPaging(t *testing.T, s store.Store) {
	events := SyntheticEvents(1234, 3)
	mustPutEvents(t, s, events, store.Result{Inserted: len(events)})
	crimes := 0
	for _, e := range events {
		if e.Kind == analytics.KindCrime {
			crimes++
		}
	}
	tests := []struct {
		name             string
		q                store.EventQuery
		wantLen, wantTot int
	}{
		{"default limit", store.EventQuery{}, store.DefaultLimit, len(events)},
		{"limit", store.EventQuery{Limit: 7}, 7, len(events)},
		{"offset", store.EventQuery{Limit: 1000, Offset: 1000}, len(events) - 1000, len(events)},
		{"past the end", store.EventQuery{Offset: 5000}, 0, len(events)},
		{"max limit", store.EventQuery{Limit: store.MaxLimit + 1}, len(events), len(events)},
		{"kind", store.EventQuery{Kind: analytics.KindCrime, Limit: 10}, 10, crimes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.Events(ctx(t), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) != tt.wantLen || page.Total != tt.wantTot {
				t.Errorf("Events(%+v): %d events, total %d; want %d, %d", tt.q, len(page.Events), page.Total, tt.wantLen, tt.wantTot)
			}
		})
	}
	// Walking the pages yields every event once, in order.
	var walked []analytics.Event
	for off := 0; ; off += 100 {
		page, err := s.Events(ctx(t), store.EventQuery{Limit: 100, Offset: off})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) == 0 {
			break
		}
		walked = append(walked, page.Events...)
	}
	if err := sameEvents(walked, events); err != nil {
		t.Error(err)
	}
	if !slices.IsSortedFunc(walked, func(a, b analytics.Event) int {
		if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
			return c
		}
		if a.Kind != b.Kind {
			return int(a.Kind) - int(b.Kind)
		}
		switch {
		case a.SourceID < b.SourceID:
			return -1
		case a.SourceID > b.SourceID:
			return 1
		}
		return 0
	}) {
		t.Error("pages are not ordered by occurred_at, kind, source_id")
	}
}

func testScanEvents(t *testing.T, s store.Store) {
	events := SyntheticEvents(2500, 11)
	mustPutEvents(t, s, events, store.Result{Inserted: len(events)})
	if err := sameEvents(all(t, s), events); err != nil {
		t.Error(err)
	}
	stop := errors.New("stop")
	calls := 0
	err := s.ScanEvents(ctx(t), func(*analytics.Event) error {
		calls++
		if calls == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 10 {
		t.Errorf("ScanEvents stopping: err %v after %d calls, want stop after 10", err, calls)
	}
}

func testCounts(t *testing.T, s store.Store) {
	c, err := s.Counts(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Units {
		if n != 0 {
			t.Errorf("empty store counts %+v", c)
		}
	}
	mustPutUnits(t, s, fixtureUnits(), store.Result{Inserted: 6})
	mustPutEvents(t, s, fixtureEvents(), store.Result{Inserted: 7})
	c, err = s.Counts(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	wantUnits := map[geo.Level]int{geo.LevelRegion: 1, geo.LevelDistrict: 2, geo.LevelMahalla: 3}
	wantEvents := map[analytics.Kind]int{analytics.KindCrime: 3, analytics.KindAccident: 2, analytics.KindOffence: 2}
	if !maps.Equal(c.Units, wantUnits) || !maps.Equal(c.Events, wantEvents) {
		t.Errorf("Counts = %+v, want units %v events %v", c, wantUnits, wantEvents)
	}
}

func testCanceled(t *testing.T, s store.Store) {
	mustPutEvents(t, s, fixtureEvents()[:1], store.Result{Inserted: 1})
	cctx, cancel := context.WithCancel(ctx(t))
	cancel()
	calls := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"PutEvents", func(c context.Context) error { _, err := s.PutEvents(c, SyntheticEvents(500, 1)); return err }},
		{"PutUnits", func(c context.Context) error { _, err := s.PutUnits(c, fixtureUnits()); return err }},
		{"Events", func(c context.Context) error { _, err := s.Events(c, store.EventQuery{}); return err }},
		{"ScanEvents", func(c context.Context) error {
			return s.ScanEvents(c, func(*analytics.Event) error { return nil })
		}},
		{"Units", func(c context.Context) error { _, err := s.Units(c, store.UnitQuery{}); return err }},
		{"Unit", func(c context.Context) error { _, err := s.Unit(c, "1710"); return err }},
		{"Counts", func(c context.Context) error { _, err := s.Counts(c); return err }},
	}
	for _, tt := range calls {
		if err := tt.fn(cctx); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with canceled context: error %v, want context.Canceled", tt.name, err)
		}
	}
	c, err := s.Counts(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.Events[analytics.KindCrime] != 1 || c.Units[geo.LevelRegion] != 0 {
		t.Errorf("canceled writes left data behind: %+v", c)
	}
	// A deadline that expires mid-batch also leaves nothing behind.
	dctx, cancel := context.WithTimeout(ctx(t), time.Millisecond)
	defer cancel()
	big := SyntheticEvents(20000, 5)
	if _, err := s.PutEvents(dctx, big); err == nil {
		t.Log("PutEvents of 20000 events finished within 1ms; mid-batch cancellation not exercised")
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("PutEvents past deadline: error %v, want context.DeadlineExceeded", err)
	}
	if c, err := s.Counts(ctx(t)); err != nil {
		t.Fatal(err)
	} else if n := c.Events[analytics.KindCrime] + c.Events[analytics.KindAccident] + c.Events[analytics.KindOffence]; n != 1 && n != 20001 {
		t.Errorf("after deadline: %d events, want 1 (rolled back) or 20001 (committed)", n)
	}
}

// testEventsRecordedAfter: RecordedAfter keeps the events first recorded
// after an instant; an update of an event keeps its recording time.
func testEventsRecordedAfter(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := SyntheticEvents(300, 41)
	if _, err := s.PutEvents(ctx, first); err != nil {
		t.Fatal(err)
	}
	// Clocks of the process and of a database server may differ a little:
	// the second batch comes well after the cut.
	time.Sleep(500 * time.Millisecond)
	cut := time.Now()
	time.Sleep(500 * time.Millisecond)
	second := SyntheticEvents(500, 42)[300:]
	changed := slices.Clone(first[:50])
	for i := range changed {
		changed[i].Injured += 7
	}
	if _, err := s.PutEvents(ctx, append(second, changed...)); err != nil {
		t.Fatal(err)
	}
	page, err := s.Events(ctx, store.EventQuery{RecordedAfter: cut, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != len(second) {
		t.Errorf("recorded after the cut: %d events, want the %d of the second put (updates keep their time)", page.Total, len(second))
	}
	all, err := s.Events(ctx, store.EventQuery{RecordedAfter: cut.Add(-time.Hour), Limit: 1})
	if err != nil || all.Total != len(first)+len(second) {
		t.Errorf("recorded in the last hour: %d, %v; want %d", all.Total, err, len(first)+len(second))
	}
}
