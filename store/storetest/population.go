package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
)

// populationTests are the store.PopulationStore and store.Doctor checks; a
// store that implements neither skips them.
var populationTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"PopulationPut", testPopulationPut},
	{"PopulationAtomic", testPopulationAtomic},
	{"PopulationInvalid", testPopulationInvalid},
	{"PopulationUnits", testPopulationUnits},
	{"DoctorSchema", testDoctorSchema},
	{"DoctorCoverage", testDoctorCoverage},
}

func populationStore(t *testing.T, s store.Store) store.PopulationStore {
	t.Helper()
	ps, ok := s.(store.PopulationStore)
	if !ok {
		t.Skipf("%s store does not implement store.PopulationStore", s.Backend())
	}
	return ps
}

func doctor(t *testing.T, s store.Store) store.Doctor {
	t.Helper()
	d, ok := s.(store.Doctor)
	if !ok {
		t.Skipf("%s store does not implement store.Doctor", s.Backend())
	}
	return d
}

func fixturePopulation() []store.Population {
	return []store.Population{
		{UnitCode: "1710212001", Year: 2024, Population: 4_300},
		{UnitCode: "1710212001", Year: 2025, Population: 4_410},
		{UnitCode: "1710212", Year: 2018, Population: 240_000},
		{UnitCode: "1710212", Year: 2026, Population: 260_000},
	}
}

func mustPutPopulation(t *testing.T, s store.PopulationStore, rows []store.Population, want store.Result) {
	t.Helper()
	got, err := s.PutPopulation(ctx(t), rows)
	if err != nil {
		t.Fatalf("PutPopulation: %v", err)
	}
	if got != want {
		t.Fatalf("PutPopulation = %+v, want %+v", got, want)
	}
}

func population(t *testing.T, s store.PopulationStore, q store.PopulationQuery) []store.Population {
	t.Helper()
	got, err := s.Population(ctx(t), q)
	if err != nil {
		t.Fatalf("Population(%+v): %v", q, err)
	}
	if got == nil {
		t.Fatalf("Population(%+v) = nil, want a non-nil list", q)
	}
	return got
}

func testPopulationPut(t *testing.T, s store.Store) {
	ps := populationStore(t, s)
	if got := population(t, ps, store.PopulationQuery{}); len(got) != 0 {
		t.Fatalf("Population of an empty store = %v", got)
	}
	mustPutUnits(t, s, fixtureUnits(), store.Result{Inserted: 6})
	v := dataVersion(t, s)
	rows := fixturePopulation()
	mustPutPopulation(t, ps, rows, store.Result{Inserted: 4})
	if got := dataVersion(t, s); got <= v {
		t.Errorf("DataVersion after inserting figures = %d, want > %d", got, v)
	}
	v = dataVersion(t, s)
	// Idempotent: the same figures again (one twice) change nothing.
	mustPutPopulation(t, ps, append(rows, rows[0]), store.Result{Unchanged: 5})
	if got := dataVersion(t, s); got != v {
		t.Errorf("DataVersion after an unchanged put = %d, want %d", got, v)
	}
	changed := []store.Population{
		{UnitCode: "1710212001", Year: 2025, Population: 4_420},
		{UnitCode: "1710212001", Year: 2026, Population: 4_500},
		{UnitCode: "1710212", Year: 2018, Population: 240_000},
	}
	mustPutPopulation(t, ps, changed, store.Result{Inserted: 1, Updated: 1, Unchanged: 1})
	if got := dataVersion(t, s); got <= v {
		t.Errorf("DataVersion after an update = %d, want > %d", got, v)
	}
	want := []store.Population{
		{UnitCode: "1710212", Year: 2018, Population: 240_000},
		{UnitCode: "1710212", Year: 2026, Population: 260_000},
		{UnitCode: "1710212001", Year: 2024, Population: 4_300},
		{UnitCode: "1710212001", Year: 2025, Population: 4_420},
		{UnitCode: "1710212001", Year: 2026, Population: 4_500},
	}
	if got := population(t, ps, store.PopulationQuery{}); !reflect.DeepEqual(got, want) {
		t.Errorf("Population = %v\nwant %v", got, want)
	}
	if got := population(t, ps, store.PopulationQuery{Unit: "1710212"}); !reflect.DeepEqual(got, want[:2]) {
		t.Errorf("Population(1710212) = %v\nwant %v", got, want[:2])
	}
	if got := population(t, ps, store.PopulationQuery{Unit: "nope"}); len(got) != 0 {
		t.Errorf("Population(nope) = %v, want none", got)
	}
	mustPutPopulation(t, ps, nil, store.Result{})
}

// testPopulationAtomic: a batch with one unknown unit writes nothing.
func testPopulationAtomic(t *testing.T, s store.Store) {
	ps := populationStore(t, s)
	mustPutUnits(t, s, fixtureUnits(), store.Result{Inserted: 6})
	v := dataVersion(t, s)
	rows := append(fixturePopulation(), store.Population{UnitCode: "9999", Year: 2024, Population: 10})
	_, err := ps.PutPopulation(ctx(t), rows)
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("PutPopulation with an unknown unit: %v, want ErrInvalid", err)
	}
	if got := population(t, ps, store.PopulationQuery{}); len(got) != 0 {
		t.Errorf("a refused batch stored %v", got)
	}
	if got := dataVersion(t, s); got != v {
		t.Errorf("DataVersion after a refused batch = %d, want %d", got, v)
	}
}

func testPopulationInvalid(t *testing.T, s store.Store) {
	ps := populationStore(t, s)
	mustPutUnits(t, s, fixtureUnits(), store.Result{Inserted: 6})
	for name, r := range map[string][]store.Population{
		"empty code":   {{Year: 2024, Population: 1}},
		"zero":         {{UnitCode: "1710", Year: 2024}},
		"negative":     {{UnitCode: "1710", Year: 2024, Population: -5}},
		"year 0":       {{UnitCode: "1710", Population: 5}},
		"year 99999":   {{UnitCode: "1710", Year: 99999, Population: 5}},
		"two values":   {{UnitCode: "1710", Year: 2024, Population: 5}, {UnitCode: "1710", Year: 2024, Population: 6}},
		"unknown unit": {{UnitCode: "1711", Year: 2024, Population: 5}},
	} {
		if _, err := ps.PutPopulation(ctx(t), r); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: PutPopulation: %v, want ErrInvalid", name, err)
		}
	}
	c, cancel := context.WithCancel(ctx(t))
	cancel()
	if _, err := ps.PutPopulation(c, fixturePopulation()); !errors.Is(err, context.Canceled) {
		t.Errorf("PutPopulation with a canceled context: %v, want context.Canceled", err)
	}
	if got := population(t, ps, store.PopulationQuery{}); len(got) != 0 {
		t.Errorf("refused batches stored %v", got)
	}
}

// testPopulationUnits: store.UnitsWithPopulation fills Populations, and
// the boundary figure still counts for its own year.
func testPopulationUnits(t *testing.T, s store.Store) {
	ps := populationStore(t, s)
	mustPutUnits(t, s, fixtureUnits(), store.Result{Inserted: 6})
	mustPutPopulation(t, ps, fixturePopulation(), store.Result{Inserted: 4})
	units, err := store.UnitsWithPopulation(ctx(t), s, store.UnitQuery{Level: geo.LevelMahalla})
	if err != nil {
		t.Fatal(err)
	}
	var m *geo.Unit
	for i := range units {
		if units[i].Code == "1710212001" {
			m = &units[i]
		}
	}
	if m == nil {
		t.Fatalf("mahalla 1710212001 missing from %v", units)
	}
	want := []geo.YearPopulation{{Year: 2024, Population: 4_300}, {Year: 2025, Population: 4_410}}
	if !reflect.DeepEqual(m.Populations, want) {
		t.Errorf("Populations = %v, want %v", m.Populations, want)
	}
	// The boundary said 4,210 for 2024; the table's 2024 figure wins.
	if p, y := geo.PopulationFor(m.PopulationSeries(), 2024); p != 4_300 || y != 2024 {
		t.Errorf("PopulationFor(2024) = %d (%d), want 4300 (2024)", p, y)
	}
}

func testDoctorSchema(t *testing.T, s store.Store) {
	d := doctor(t, s)
	cur, latest, err := d.SchemaVersion(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if cur < 9 || cur != latest {
		t.Errorf("SchemaVersion = %d, %d; want current = latest >= 9 on a fresh store", cur, latest)
	}
}

func testDoctorCoverage(t *testing.T, s store.Store) {
	d := doctor(t, s)
	got, err := d.EventCoverage(ctx(t))
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("EventCoverage of an empty store = %v, %v; want an empty list", got, err)
	}
	mustPutUnits(t, s, fixtureUnits(), store.Result{Inserted: 6})
	mustPutEvents(t, s, fixtureEvents(), store.Result{Inserted: len(fixtureEvents())})
	got, err = d.EventCoverage(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.EventCoverage{
		{Kind: analytics.KindCrime, Total: 3, NoLocation: 1},
		{Kind: analytics.KindAccident, Total: 2, Unassigned: 1},
		{Kind: analytics.KindOffence, Total: 2, NoLocation: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EventCoverage = %+v\nwant %+v", got, want)
	}
}
