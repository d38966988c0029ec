package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/store"
)

// runTests are the store.RunStore checks; a store that does not implement
// RunStore skips them.
var runTests = []struct {
	name string
	fn   func(t *testing.T, s store.RunStore)
}{
	{"RunsEmpty", testRunsEmpty},
	{"RunsRoundTrip", testRunsRoundTrip},
	{"RunsOrder", testRunsOrder},
	{"RunsImmutable", testRunsImmutable},
	{"RunsInvalid", testRunsInvalid},
	{"RunsCanceled", testRunsCanceled},
	{"RunHistory", testRunHistory},
	{"RunsLatestPrefersFull", testLatestPrefersFullRuns},
	{"RunBumpsDataVersion", testRunBumpsDataVersion},
	{"RunInputsRoundTrip", testRunInputsRoundTrip},
	{"InputVersion", testInputVersion},
	{"RunDiffCauses", testRunDiffCauses},
	{"LateEvents", testLateEvents},
}

func runStore(t *testing.T, s store.Store) store.RunStore {
	t.Helper()
	rs, ok := s.(store.RunStore)
	if !ok {
		t.Skipf("%s store does not implement store.RunStore", s.Backend())
	}
	return rs
}

func ptr(f float64) *float64 { return &f }

// FixtureRun is a small classification run of period (a quarter label is
// not parsed: the times are fixed), three mahallas, every Result field set
// somewhere.
func FixtureRun(period string, created time.Time) classify.Run {
	tashkent := time.FixedZone("Asia/Tashkent", 5*3600)
	return classify.Run{
		Period:          period,
		PeriodFrom:      time.Date(2025, 7, 1, 0, 0, 0, 0, tashkent),
		PeriodTo:        time.Date(2025, 10, 1, 0, 0, 0, 0, tashkent),
		Unit:            "1710",
		PolicyName:      "test policy",
		PolicyVersion:   "sha256:0123abcd",
		SnapshotVersion: 1<<63 + 5, // above int64: stored as a bit pattern
		DataVersion:     42,
		CreatedAt:       created,
		CreatedBy:       "0a1b2c3d", // the admin token that stored it
		Results: []classify.Result{
			{Mahalla: "1710212001", Name: "Navbahor MFY", District: "1710212", Population: 4210,
				Category: classify.Red, Rule: "red: rate", Reasons: []string{"12.4 crimes per 1,000 residents (threshold 8)", "juvenile crime"},
				Indicators: []classify.IndicatorResult{
					{Name: "crime_rate", Value: 12.4, Threshold: ptr(8), Fired: true, Unit: "per 1,000"},
					{Name: "crimes", Value: 52, Unit: "count"},
					{Name: "juvenile_share", Value: 1.0 / 3, Threshold: ptr(0.25), Fired: true, Unit: "share"},
				},
				Score: 3.25, Rank: 1, Previous: classify.Yellow, Transition: "yellow->red", Streak: 1, RedYears: 1,
				Notes:  []string{"hot spots not meaningful in the district"},
				WhatIf: &classify.WhatIf{Target: classify.Yellow, Changes: []classify.Change{{Indicator: "crime_rate", From: 12.4, To: 7.99}}}},
			{Mahalla: "1710212002", Name: "", District: "1710212", Category: classify.Yellow, Rule: "yellow: any crime",
				Reasons: []string{"3 crimes"}, Indicators: []classify.IndicatorResult{{Name: "crimes", Value: 3, Unit: "count"}},
				Score: 0.5, Rank: 2, Transition: "new", Streak: 4, RedYears: 0,
				WhatIf: &classify.WhatIf{Target: classify.Green, Changes: []classify.Change{{Indicator: "crimes", From: 3, To: 0}}}},
			{Mahalla: "1710207001", Name: "Ғалаба МФЙ", District: "1710207", Population: 1, Category: classify.Green,
				Rule: "green", Reasons: []string{}, Indicators: []classify.IndicatorResult{}, Rank: 1,
				Previous: classify.Green, Transition: "same", Streak: 12, RedYears: 0},
		},
	}
}

// storedRun is want as a store returns it: times UTC, microseconds.
func storedRun(want classify.Run, id int64) classify.Run {
	want.ID = id
	want.PeriodFrom = want.PeriodFrom.UTC().Truncate(time.Microsecond)
	want.PeriodTo = want.PeriodTo.UTC().Truncate(time.Microsecond)
	want.CreatedAt = want.CreatedAt.UTC().Truncate(time.Microsecond)
	return want
}

func mustPutRun(t *testing.T, s store.RunStore, run classify.Run) int64 {
	t.Helper()
	id, err := s.PutRun(ctx(t), run)
	if err != nil {
		t.Fatalf("PutRun(%s): %v", run.Period, err)
	}
	if id <= 0 {
		t.Fatalf("PutRun(%s) = id %d, want > 0", run.Period, id)
	}
	return id
}

func testRunsEmpty(t *testing.T, s store.RunStore) {
	runs, err := s.Runs(ctx(t), store.RunQuery{})
	if err != nil || len(runs) != 0 {
		t.Errorf("Runs on an empty store = %v, %v; want none", runs, err)
	}
	if _, err := s.Run(ctx(t), 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Run(1) error = %v, want ErrNotFound", err)
	}
	if _, err := s.LatestRun(ctx(t), "2025-Q3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestRun error = %v, want ErrNotFound", err)
	}
}

func testRunsRoundTrip(t *testing.T, s store.RunStore) {
	created := time.Date(2025, 10, 2, 9, 30, 0, 123456789, time.FixedZone("x", 3600))
	run := FixtureRun("2025-Q3", created)
	id := mustPutRun(t, s, run)
	want := storedRun(run, id)
	got, err := s.Run(ctx(t), id)
	if err != nil {
		t.Fatalf("Run(%d): %v", id, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Run(%d) =\n%+v\nwant\n%+v", id, got, want)
	}
	for _, tm := range []time.Time{got.PeriodFrom, got.PeriodTo, got.CreatedAt} {
		if tm.Location() != time.UTC {
			t.Errorf("time %v not in UTC", tm)
		}
	}
	latest, err := s.LatestRun(ctx(t), "2025-Q3")
	if err != nil || !reflect.DeepEqual(latest, want) {
		t.Errorf("LatestRun = %+v, %v; want %+v", latest, err, want)
	}
	list, err := s.Runs(ctx(t), store.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	meta := want
	meta.Results = nil
	if len(list) != 1 || !reflect.DeepEqual(list[0], meta) {
		t.Errorf("Runs = %+v, want [%+v] (metadata only)", list, meta)
	}

	// A zero CreatedAt becomes the time of the put; no results is an empty run.
	before := time.Now().Add(-time.Second)
	empty := FixtureRun("2025-Q4", time.Time{})
	empty.Results = nil
	id2 := mustPutRun(t, s, empty)
	got, err = s.Run(ctx(t), id2)
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt.Before(before) || got.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("CreatedAt of a run put with none = %v, want about now", got.CreatedAt)
	}
	if got.Results == nil || len(got.Results) != 0 {
		t.Errorf("run without results came back with %#v, want an empty slice", got.Results)
	}
	if id2 <= id {
		t.Errorf("second run id %d, want > %d", id2, id)
	}
}

func ids(runs []classify.Run) []int64 {
	out := make([]int64, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}

func testRunsOrder(t *testing.T, s store.RunStore) {
	base := time.Date(2025, 10, 5, 8, 0, 0, 0, time.UTC)
	// Put out of creation order: newest is by CreatedAt, then ID.
	q3a := mustPutRun(t, s, FixtureRun("2025-Q3", base))
	q2 := mustPutRun(t, s, FixtureRun("2025-Q2", base.Add(-24*time.Hour)))
	q3b := mustPutRun(t, s, FixtureRun("2025-Q3", base.Add(time.Hour)))
	q3old := mustPutRun(t, s, FixtureRun("2025-Q3", base.Add(-time.Hour))) // stored late, created early
	q3tie := mustPutRun(t, s, FixtureRun("2025-Q3", base.Add(time.Hour)))  // same time as q3b: higher id wins
	tests := []struct {
		q    store.RunQuery
		want []int64
	}{
		{store.RunQuery{}, []int64{q3tie, q3b, q3a, q3old, q2}},
		{store.RunQuery{Period: "2025-Q3"}, []int64{q3tie, q3b, q3a, q3old}},
		{store.RunQuery{Period: "2025-Q2"}, []int64{q2}},
		{store.RunQuery{Period: "2025-q3"}, []int64{}},
		{store.RunQuery{Limit: 2}, []int64{q3tie, q3b}},
		{store.RunQuery{Period: "2025-Q3", Limit: 1}, []int64{q3tie}},
	}
	for _, tt := range tests {
		runs, err := s.Runs(ctx(t), tt.q)
		if err != nil {
			t.Fatalf("Runs(%+v): %v", tt.q, err)
		}
		if !slices.Equal(ids(runs), tt.want) {
			t.Errorf("Runs(%+v) = %v, want %v", tt.q, ids(runs), tt.want)
		}
		for _, r := range runs {
			if r.Results != nil {
				t.Errorf("Runs(%+v): run %d has results; the list is metadata only", tt.q, r.ID)
			}
		}
	}
	for period, want := range map[string]int64{"2025-Q3": q3tie, "2025-Q2": q2} {
		if got, err := s.LatestRun(ctx(t), period); err != nil || got.ID != want || len(got.Results) != 3 {
			t.Errorf("LatestRun(%s) = run %d (%d results), %v; want run %d with 3 results", period, got.ID, len(got.Results), err, want)
		}
	}
	if _, err := s.LatestRun(ctx(t), "2025-Q1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestRun(2025-Q1) error = %v, want ErrNotFound", err)
	}
}

// testRunsImmutable: a second run of a period is a new run; the first stays
// as it was; a stored run cannot be put again.
func testRunsImmutable(t *testing.T, s store.RunStore) {
	first := FixtureRun("2025-Q3", time.Date(2025, 10, 2, 0, 0, 0, 0, time.UTC))
	id1 := mustPutRun(t, s, first)
	second := FixtureRun("2025-Q3", time.Date(2025, 10, 3, 0, 0, 0, 0, time.UTC))
	second.PolicyVersion = "sha256:ffff"
	second.DataVersion++
	second.Results[0].Category = classify.Yellow
	second.Results = second.Results[:2]
	id2 := mustPutRun(t, s, second)
	if id1 == id2 {
		t.Fatalf("two puts of one period got the same id %d", id1)
	}
	got1, err := s.Run(ctx(t), id1)
	if err != nil || !reflect.DeepEqual(got1, storedRun(first, id1)) {
		t.Errorf("first run after a second put = %+v, %v; want it unchanged", got1, err)
	}
	latest, err := s.LatestRun(ctx(t), "2025-Q3")
	if err != nil || !reflect.DeepEqual(latest, storedRun(second, id2)) {
		t.Errorf("LatestRun = %+v, %v; want the second run", latest, err)
	}
	// Re-putting a stored run (it has an ID) is refused, not an update.
	if _, err := s.PutRun(ctx(t), got1); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("PutRun of a stored run: error %v, want ErrInvalid", err)
	}
	// Mutating what a read returned does not touch the store.
	got1.Results[0].Category = classify.Green
	if again, _ := s.Run(ctx(t), id1); again.Results[0].Category != classify.Red {
		t.Errorf("stored run changed through a returned value")
	}
}

func testRunsInvalid(t *testing.T, s store.RunStore) {
	created := time.Date(2025, 10, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		modify func(r *classify.Run)
	}{
		{"has an id", func(r *classify.Run) { r.ID = 7 }},
		{"empty period", func(r *classify.Run) { r.Period = "" }},
		{"zero from", func(r *classify.Run) { r.PeriodFrom = time.Time{} }},
		{"from after to", func(r *classify.Run) { r.PeriodFrom, r.PeriodTo = r.PeriodTo, r.PeriodFrom }},
		{"empty period span", func(r *classify.Run) { r.PeriodTo = r.PeriodFrom }},
		{"no mahalla", func(r *classify.Run) { r.Results[1].Mahalla = "" }},
		{"unknown category", func(r *classify.Run) { r.Results[1].Category = "orange" }},
		{"empty category", func(r *classify.Run) { r.Results[2].Category = "" }},
		{"mahalla twice", func(r *classify.Run) { r.Results[2].Mahalla = r.Results[0].Mahalla }},
		{"NaN value", func(r *classify.Run) { r.Results[0].Indicators[0].Value = math.NaN() }},
		{"infinite score", func(r *classify.Run) { r.Results[0].Score = math.Inf(1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := FixtureRun("2025-Q3", created)
			tt.modify(&run)
			if _, err := s.PutRun(ctx(t), run); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("PutRun error = %v, want ErrInvalid", err)
			}
			if runs, err := s.Runs(ctx(t), store.RunQuery{}); err != nil || len(runs) != 0 {
				t.Errorf("after a refused put: %d runs, %v", len(runs), err)
			}
		})
	}
}

func testRunsCanceled(t *testing.T, s store.RunStore) {
	cctx, cancel := context.WithCancel(ctx(t))
	cancel()
	if _, err := s.PutRun(cctx, FixtureRun("2025-Q3", time.Time{})); !errors.Is(err, context.Canceled) {
		t.Errorf("PutRun with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := s.Runs(cctx, store.RunQuery{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Runs with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := s.LatestRun(cctx, "2025-Q3"); !errors.Is(err, context.Canceled) {
		t.Errorf("LatestRun with a canceled context: %v, want context.Canceled", err)
	}
	if runs, err := s.Runs(ctx(t), store.RunQuery{}); err != nil || len(runs) != 0 {
		t.Errorf("canceled put left %d runs (%v)", len(runs), err)
	}
}

// quarterRun is a run of quarter q of 2025 (months 3q-2..3q, UTC).
func quarterRun(q int, created time.Time) classify.Run {
	r := FixtureRun(fmt.Sprintf("2025-Q%d", q), created)
	r.PeriodFrom = time.Date(2025, time.Month(3*q-2), 1, 0, 0, 0, 0, time.UTC)
	r.PeriodTo = r.PeriodFrom.AddDate(0, 3, 0)
	return r
}

// testRunHistory checks store.RunHistory: the newest run of each earlier
// period, newest period first, with results.
func testRunHistory(t *testing.T, s store.RunStore) {
	base := time.Date(2025, 10, 5, 8, 0, 0, 0, time.UTC)
	q1 := mustPutRun(t, s, quarterRun(1, base))
	mustPutRun(t, s, quarterRun(2, base))                      // superseded
	q2 := mustPutRun(t, s, quarterRun(2, base.Add(time.Hour))) // newest of Q2
	mustPutRun(t, s, quarterRun(3, base))                      // the period classified: not history
	year := FixtureRun("2024", base)
	year.PeriodFrom, year.PeriodTo = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	y := mustPutRun(t, s, year)
	old := FixtureRun("2010", base)
	old.PeriodFrom, old.PeriodTo = time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)
	mustPutRun(t, s, old) // more than store.HistoryYears before

	hist, err := store.RunHistory(ctx(t), s, time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(hist), []int64{q2, q1, y}; !slices.Equal(got, want) {
		t.Errorf("RunHistory = runs %v, want %v", got, want)
	}
	for _, r := range hist {
		if len(r.Results) != 3 {
			t.Errorf("history run %d has %d results, want 3", r.ID, len(r.Results))
		}
	}
}

// testLatestPrefersFullRuns: a newer run limited to one district does not
// hide the full run of the same period.
func testLatestPrefersFullRuns(t *testing.T, rs store.RunStore) {
	ctx := t.Context()
	full := FixtureRun("2024-Q2", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	full.Unit = "" // every mahalla
	idFull, err := rs.PutRun(ctx, full)
	if err != nil {
		t.Fatal(err)
	}
	part := FixtureRun("2024-Q2", full.CreatedAt.Add(time.Hour))
	part.Unit = "1710401"
	if _, err := rs.PutRun(ctx, part); err != nil {
		t.Fatal(err)
	}
	got, err := rs.LatestRun(ctx, "2024-Q2")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != idFull || got.Unit != "" {
		t.Fatalf("LatestRun = run %d (unit %q), want the full run %d", got.ID, got.Unit, idFull)
	}
}

// testRunBumpsDataVersion: storing a run changes what the service shows
// (categories on tiles and profiles), so the data version moves.
func testRunBumpsDataVersion(t *testing.T, rs store.RunStore) {
	st, ok := rs.(store.Store)
	if !ok {
		t.Skip("not a store.Store")
	}
	ctx := t.Context()
	before, err := st.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.PutRun(ctx, FixtureRun("2023-Q1", time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	after, err := st.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Fatalf("data version %d after storing a run, was %d", after, before)
	}
}
