package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/store"
)

// The checks of what a run classified (Run.InputVersion, Run.InputsAt) and
// of the diff causes they give (store.CompareRuns); part of runTests.

// inputVersion reads the store's input version and checks its clock.
func inputVersion(t *testing.T, rs store.RunStore) (int64, time.Time) {
	t.Helper()
	v, at, err := rs.InputVersion(t.Context())
	if err != nil {
		t.Fatalf("InputVersion: %v", err)
	}
	// A database server's clock may differ a little from the process's.
	if now := time.Now(); v < 1 || at.Location() != time.UTC || at.Before(now.Add(-time.Minute)) || at.After(now.Add(time.Minute)) {
		t.Fatalf("InputVersion = %d at %v; want >= 1, at about %v in UTC", v, at, now)
	}
	return v, at
}

// testRunInputsRoundTrip: a run's input version and time come back as
// stored; a run without them (older runs) comes back without them; a
// negative version is invalid.
func testRunInputsRoundTrip(t *testing.T, rs store.RunStore) {
	ctx := t.Context()
	run := FixtureRun("2025-Q3", time.Date(2025, 10, 2, 9, 30, 0, 0, time.UTC))
	run.InputVersion = 1<<40 + 3
	run.InputsAt = time.Date(2025, 10, 2, 9, 29, 58, 123456789, time.FixedZone("x", 3600))
	id := mustPutRun(t, rs, run)
	got, err := rs.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := storedRun(run, id)
	want.InputsAt = run.InputsAt.UTC().Truncate(time.Microsecond)
	if got.InputVersion != want.InputVersion || !got.InputsAt.Equal(want.InputsAt) || got.InputsAt.Location() != time.UTC {
		t.Errorf("Run: input version %d at %v, want %d at %v (UTC)", got.InputVersion, got.InputsAt, want.InputVersion, want.InputsAt)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Run round trip:\n got %+v\nwant %+v", got, want)
	}
	metas, err := rs.Runs(ctx, store.RunQuery{})
	if err != nil || len(metas) != 1 || metas[0].InputVersion != want.InputVersion || !metas[0].InputsAt.Equal(want.InputsAt) {
		t.Errorf("Runs = %+v, %v; want the input version and time", metas, err)
	}

	old := FixtureRun("2025-Q3", run.CreatedAt.Add(time.Hour)) // as stored before runs recorded their inputs
	oldID := mustPutRun(t, rs, old)
	if got, err := rs.Run(ctx, oldID); err != nil || got.InputVersion != 0 || !got.InputsAt.IsZero() {
		t.Errorf("a run without inputs: %d at %v, %v; want 0 and the zero time (unknown)", got.InputVersion, got.InputsAt, err)
	}

	bad := FixtureRun("2025-Q3", time.Time{})
	bad.InputVersion = -1
	if _, err := rs.PutRun(ctx, bad); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("PutRun with input version -1: %v, want ErrInvalid", err)
	}
}

// testInputVersion: the input version rises with the writes that change
// what runs classify (units, events, population) and stays when a run is
// stored, which bumps the data version; writes that change nothing keep
// both.
func testInputVersion(t *testing.T, rs store.RunStore) {
	st, ok := rs.(store.Store)
	if !ok {
		t.Skip("not a store.Store")
	}
	iv, _ := inputVersion(t, rs)
	dv := dataVersion(t, st)
	step := func(what string, write func(), inputs bool) {
		t.Helper()
		write()
		gotIV, _ := inputVersion(t, rs)
		gotDV := dataVersion(t, st)
		if gotDV <= dv {
			t.Errorf("after %s: data version %d, want > %d", what, gotDV, dv)
		}
		switch {
		case inputs && gotIV <= iv:
			t.Errorf("after %s: input version %d, want > %d", what, gotIV, iv)
		case !inputs && gotIV != iv:
			t.Errorf("after %s: input version %d, want %d (unchanged: runs are not inputs)", what, gotIV, iv)
		}
		iv, dv = gotIV, gotDV
	}
	units, events := fixtureUnits(), fixtureEvents()
	step("PutUnits", func() { mustPutUnits(t, st, units, store.Result{Inserted: len(units)}) }, true)
	step("PutRun", func() { mustPutRun(t, rs, FixtureRun("2025-Q3", time.Time{})) }, false)
	step("PutEvents", func() { mustPutEvents(t, st, events, store.Result{Inserted: len(events)}) }, true)
	step("two more runs", func() {
		mustPutRun(t, rs, FixtureRun("2025-Q3", time.Time{}))
		mustPutRun(t, rs, FixtureRun("2025-Q2", time.Time{}))
	}, false)
	events[0].Injured++
	step("PutEvents updating", func() {
		mustPutEvents(t, st, events, store.Result{Updated: 1, Unchanged: len(events) - 1})
	}, true)
	if ps, ok := st.(store.PopulationStore); ok {
		step("PutPopulation", func() {
			mustPutPopulation(t, ps, []store.Population{{UnitCode: units[0].Code, Year: 2025, Population: 1234}}, store.Result{Inserted: 1})
		}, true)
	}
	mustPutEvents(t, st, events, store.Result{Unchanged: len(events)})
	if got, _ := inputVersion(t, rs); got != iv {
		t.Errorf("after an unchanged PutEvents: input version %d, want %d", got, iv)
	}
}

// testRunDiffCauses: the causes of a diff of two runs (store.CompareRuns)
// are what differs in their inputs, whatever runs were stored between them:
// two runs of one period with nothing in between have no data cause; an
// event of the period ingested between them is new data and a late
// registration; an event of another period is new data only; a run of
// another policy on the same data is a policy change only; a run stored
// before runs recorded their inputs gives "data unknown".
func testRunDiffCauses(t *testing.T, rs store.RunStore) {
	st, ok := rs.(store.Store)
	if !ok {
		t.Skip("not a store.Store")
	}
	ctx := t.Context()
	mustPutUnits(t, st, fixtureUnits(), store.Result{Inserted: len(fixtureUnits())})
	mustPutEvents(t, st, fixtureEvents(), store.Result{Inserted: len(fixtureEvents())})
	// classified stores a run as classify.Classify would make it now: with
	// the store's current input version and clock.
	classified := func(version string) classify.Run {
		t.Helper()
		run := FixtureRun("2025-Q3", time.Time{})
		run.Unit = ""
		run.PolicyVersion = version
		run.DataVersion = dataVersion(t, st)
		run.InputVersion, run.InputsAt = inputVersion(t, rs)
		id := mustPutRun(t, rs, run)
		stored, err := rs.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return stored
	}
	compare := func(what string, a, b classify.Run, causes []string, late int) {
		t.Helper()
		in, err := store.CompareRuns(ctx, rs, &a, &b)
		if err != nil {
			t.Fatalf("%s: CompareRuns: %v", what, err)
		}
		if got := in.Causes(); !slices.Equal(got, causes) || in.Late != late {
			t.Errorf("%s: causes %q with %d late registrations, want %q with %d", what, got, in.Late, causes, late)
		}
	}
	period := FixtureRun("2025-Q3", time.Time{})
	event := func(id string, at time.Time) []analytics.Event {
		return []analytics.Event{{Kind: analytics.KindCrime, SourceID: id, OccurredAt: at, Category: "theft",
			Region: "1710", District: "1710212", Mahalla: "1710212001"}}
	}

	a := classified("1")
	b := classified("1") // storing a bumped the data version: b's snapshot is newer
	if a.DataVersion == b.DataVersion || a.InputVersion != b.InputVersion {
		t.Errorf("two runs with nothing in between: data versions %d, %d (want them to differ), input versions %d, %d (want equal)",
			a.DataVersion, b.DataVersion, a.InputVersion, b.InputVersion)
	}
	compare("nothing in between", a, b, []string{}, 0)

	mustPutEvents(t, st, event("late-1", period.PeriodFrom.Add(48*time.Hour)), store.Result{Inserted: 1})
	c := classified("1")
	compare("an event of the period in between", b, c, []string{classify.CauseNewData, classify.CauseLateRegistrations}, 1)
	compare("the same, a and b swapped", c, b, []string{classify.CauseNewData, classify.CauseLateRegistrations}, 1)

	mustPutEvents(t, st, event("other-period", period.PeriodTo.AddDate(1, 0, 0)), store.Result{Inserted: 1})
	d := classified("1")
	compare("an event of another period in between", c, d, []string{classify.CauseNewData}, 0)
	compare("both events between the runs", b, d, []string{classify.CauseNewData, classify.CauseLateRegistrations}, 1)

	// A late registration after both runs is not between them.
	mustPutEvents(t, st, event("late-2", period.PeriodFrom.Add(72*time.Hour)), store.Result{Inserted: 1})
	compare("an event of the period after both runs", b, d, []string{classify.CauseNewData, classify.CauseLateRegistrations}, 1)

	e := classified("1")
	f := classified("2")
	compare("another policy on the same data", e, f, []string{classify.CausePolicy}, 0)

	other := e
	other.ID, other.Period = 0, "2025-Q4"
	other.PeriodFrom, other.PeriodTo = period.PeriodTo, period.PeriodTo.AddDate(0, 3, 0)
	compare("another period on the same data", e, other, []string{classify.CausePeriod}, 0)

	old := FixtureRun("2025-Q3", time.Time{}) // stored before runs recorded their inputs
	old.Unit, old.PolicyVersion = "", "1"
	oldID := mustPutRun(t, rs, old)
	old, err := rs.Run(ctx, oldID)
	if err != nil {
		t.Fatal(err)
	}
	compare("a run without inputs", old, e, []string{classify.CauseDataUnknown}, 0)
}

// testLateEvents: LateEvents counts the events of a period (and unit)
// recorded in (After, Through], and refuses empty ranges.
func testLateEvents(t *testing.T, rs store.RunStore) {
	st, ok := rs.(store.Store)
	if !ok {
		t.Skip("not a store.Store")
	}
	ctx := t.Context()
	from := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 3, 0)
	_, before := inputVersion(t, rs)
	mk := func(id string, at time.Time, mahalla string) analytics.Event {
		return analytics.Event{Kind: analytics.KindCrime, SourceID: id, OccurredAt: at, Category: "theft",
			Region: "1710", District: mahalla[:7], Mahalla: mahalla}
	}
	mustPutUnits(t, st, fixtureUnits(), store.Result{Inserted: len(fixtureUnits())})
	mustPutEvents(t, st, []analytics.Event{
		mk("in-1", from, "1710212001"), mk("in-2", to.Add(-time.Microsecond), "1710207001"),
		mk("before", from.Add(-time.Microsecond), "1710212001"), mk("after", to, "1710212001"),
	}, store.Result{Inserted: 4})
	_, after := inputVersion(t, rs)
	tests := []struct {
		name string
		q    store.LateQuery
		want int
	}{
		{"the period", store.LateQuery{From: from, To: to, After: before, Through: after}, 2},
		{"one district", store.LateQuery{From: from, To: to, Unit: "1710212", After: before, Through: after}, 1},
		{"one mahalla", store.LateQuery{From: from, To: to, Unit: "1710207001", After: before, Through: after}, 1},
		{"the region", store.LateQuery{From: from, To: to, Unit: "1710", After: before, Through: after}, 2},
		{"recorded later", store.LateQuery{From: from, To: to, After: after, Through: after.Add(time.Hour)}, 0},
		{"recorded earlier", store.LateQuery{From: from, To: to, After: before.Add(-time.Hour), Through: before}, 0},
	}
	for _, tc := range tests {
		if got, err := rs.LateEvents(ctx, tc.q); err != nil || got != tc.want {
			t.Errorf("LateEvents(%s) = %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
	for _, q := range []store.LateQuery{
		{From: to, To: from, After: before, Through: after},
		{From: from, To: to, After: after, Through: before},
		{From: from, To: to, Through: after},
	} {
		if _, err := rs.LateEvents(ctx, q); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("LateEvents(%+v): %v, want ErrInvalid", q, err)
		}
	}
}
