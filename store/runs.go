package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/crimemap/crimemap/analytics/classify"
)

// RunStore persists classification runs (classify.Run). It is separate from
// Store to keep Store small: both backends implement it, and callers get it
// with a type assertion (st.(store.RunStore)), answering "not supported"
// when it fails.
//
// Runs are frozen: PutRun always creates a new run and nothing edits a
// stored one (the tables refuse UPDATE). A newer run of a period
// supersedes the older ones: "newest" is the latest CreatedAt, ties broken
// by the higher ID (IDs increase with every PutRun).
//
// The results of a run are one JSON document (jsonb in PostGIS, TEXT in
// SQLite) next to indexed metadata columns; times come back in UTC,
// truncated to microseconds.
type RunStore interface {
	// PutRun stores run as a new run and returns its ID. run.ID must be
	// zero (a run that has an ID is already stored and cannot be put
	// again: ErrInvalid); a zero CreatedAt becomes the current time.
	// ErrInvalid also for an empty period label, a period whose From is
	// not before To, and results without a mahalla code, with a category
	// other than red/yellow/green, with a mahalla twice, or with values
	// JSON cannot carry (NaN, infinities).
	PutRun(ctx context.Context, run classify.Run) (int64, error)
	// Runs lists runs' metadata (Results nil), newest first.
	Runs(ctx context.Context, q RunQuery) ([]classify.Run, error)
	// Run returns one run with its results; ErrNotFound when there is none.
	Run(ctx context.Context, id int64) (classify.Run, error)
	// LatestRun returns the newest run of the period (label, e.g.
	// "2025-Q3") with its results, preferring runs of every mahalla (Unit
	// "") over runs limited to one unit, so a district re-run never hides
	// the full classification; ErrNotFound when the period has none.
	LatestRun(ctx context.Context, period string) (classify.Run, error)

	// InputVersion returns the version of what classification runs
	// classify: it strictly increases with every write that DataVersion
	// counts except stored runs (events, units, boundaries, population,
	// and a hand-made bump of meta.data_version), and stays when a run is
	// stored (which bumps DataVersion so snapshots rebuild). It is
	// meta.data_version minus meta.run_bumps (migration 00010), >= 1.
	// at is the store's clock at the read, the clock that stamps the
	// events' recording times (UTC, microseconds).
	// analytics.BuildFromStore records both in the snapshot and
	// classify.Classify in the run (Run.InputVersion, Run.InputsAt; PutRun
	// stores 0 and the zero time as unknown).
	InputVersion(ctx context.Context) (version int64, at time.Time, err error)
	// LateEvents counts the stored events of q: the late registrations of
	// a period between two runs (see CompareRuns). Events stored before
	// recording times were kept never count.
	LateEvents(ctx context.Context, q LateQuery) (int, error)
}

// LateQuery selects events by when they occurred and when the store first
// recorded them (events.recorded_at).
type LateQuery struct {
	// From (inclusive) and To (exclusive) bound the time of the events,
	// e.g. a run's period.
	From, To time.Time
	// Unit keeps the events in the unit of that code at any level ("" for
	// all).
	Unit string
	// After (exclusive) and Through (inclusive) bound the recording time.
	After, Through time.Time
}

// CompareRuns tells what differs between the inputs of runs a and b
// (classify.CompareInputs) and, for two runs of one period whose inputs
// differ, counts the events of the period that the store first recorded
// between the runs' InputsAt (after the earlier, through the later; a run
// without one uses its CreatedAt): late registrations. The count is
// restricted to the runs' unit when both were limited to the same one.
// An event recorded by a write that began before the earlier run read its
// inputs and committed after it is in the later run only and not counted
// (its recording time is its write's start).
func CompareRuns(ctx context.Context, rs RunStore, a, b *classify.Run) (classify.Inputs, error) {
	in := classify.CompareInputs(a, b)
	if !in.SamePeriod || !in.DataChanged {
		return in, nil
	}
	at := func(r *classify.Run) time.Time {
		if r.InputsAt.IsZero() {
			return r.CreatedAt
		}
		return r.InputsAt
	}
	q := LateQuery{From: a.PeriodFrom, To: a.PeriodTo, After: at(a), Through: at(b)}
	if q.After.After(q.Through) {
		q.After, q.Through = q.Through, q.After
	}
	if a.Unit == b.Unit {
		q.Unit = a.Unit
	}
	n, err := rs.LateEvents(ctx, q)
	if err != nil {
		return in, fmt.Errorf("compare runs %d and %d: %w", a.ID, b.ID, err)
	}
	in.Late = n
	return in, nil
}

// RunQuery filters Runs; zero fields match everything.
type RunQuery struct {
	// Period keeps the runs of one period label, e.g. "2025-Q3".
	Period string
	// Limit caps the list (default DefaultLimit, maximum MaxLimit).
	Limit int
}

// NormalizeLimit applies DefaultLimit and MaxLimit.
func (q RunQuery) NormalizeLimit() int {
	switch {
	case q.Limit <= 0:
		return DefaultLimit
	case q.Limit > MaxLimit:
		return MaxLimit
	}
	return q.Limit
}

// HistoryYears bounds RunHistory: runs of periods that ended more than
// this many years before the classified period are left out.
const HistoryYears = 10

// RunHistory returns, for classify.Input.History, the newest run (with
// results) of every period that ended by before and at most HistoryYears
// earlier, ordered newest period first (by end, then start). Superseded
// runs are left out, so each period's results are read once.
func RunHistory(ctx context.Context, rs RunStore, before time.Time) ([]classify.Run, error) {
	metas, err := rs.Runs(ctx, RunQuery{Limit: MaxLimit})
	if err != nil {
		return nil, fmt.Errorf("run history: %w", err)
	}
	keep := SelectHistory(metas, before)
	out := make([]classify.Run, 0, len(keep))
	for _, m := range keep {
		r, err := rs.Run(ctx, m.ID)
		if err != nil {
			return nil, fmt.Errorf("run history: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// SelectHistory is RunHistory's choice among runs (newest made first, as
// RunStore.Runs lists them; with or without results): the first run of
// every period that ended by before and at most HistoryYears earlier,
// ordered newest period first (by end, then start). A caller that makes
// many runs in a row (the demo's seeding) keeps them in memory and
// selects from them instead of reading them back for every run.
func SelectHistory(runs []classify.Run, before time.Time) []classify.Run {
	oldest := before.AddDate(-HistoryYears, 0, 0)
	seen := make(map[string]bool)
	var keep []classify.Run
	for _, m := range runs { // newest first: the first run of a period wins
		if seen[m.Period] {
			continue
		}
		seen[m.Period] = true
		if m.PeriodTo.After(before) || m.PeriodTo.Before(oldest) {
			continue
		}
		keep = append(keep, m)
	}
	slices.SortStableFunc(keep, func(a, b classify.Run) int {
		if c := b.PeriodTo.Compare(a.PeriodTo); c != 0 {
			return c
		}
		return b.PeriodFrom.Compare(a.PeriodFrom)
	})
	return keep
}
