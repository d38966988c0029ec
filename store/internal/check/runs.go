package check

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/store"
)

// Run validates run for store.RunStore.PutRun and returns what both stores
// write: the run with CreatedAt set (now when zero) and its times in UTC
// truncated to microseconds, the results as one JSON document, and the
// count of results per category.
func Run(run classify.Run, now time.Time) (classify.Run, []byte, RunCounts, error) {
	var c RunCounts
	switch {
	case run.ID != 0:
		return run, nil, c, fmt.Errorf("classification run %d: already stored (runs are frozen; put a new run with ID 0): %w", run.ID, store.ErrInvalid)
	case run.Period == "":
		return run, nil, c, fmt.Errorf("classification run: empty period label: %w", store.ErrInvalid)
	case run.PeriodFrom.IsZero() || !run.PeriodFrom.Before(run.PeriodTo):
		return run, nil, c, fmt.Errorf("classification run %s: period %v..%v is empty: %w", run.Period, run.PeriodFrom, run.PeriodTo, store.ErrInvalid)
	case run.InputVersion < 0:
		return run, nil, c, fmt.Errorf("classification run %s: input version %d (0 for unknown): %w", run.Period, run.InputVersion, store.ErrInvalid)
	}
	if run.CreatedAt.IsZero() {
		run.CreatedAt = now
	}
	run.PeriodFrom = microUTC(run.PeriodFrom)
	run.PeriodTo = microUTC(run.PeriodTo)
	run.CreatedAt = microUTC(run.CreatedAt)
	seen := make(map[string]bool, len(run.Results))
	for i := range run.Results {
		r := &run.Results[i]
		switch {
		case r.Mahalla == "":
			return run, nil, c, fmt.Errorf("classification run %s: result %d has no mahalla code: %w", run.Period, i, store.ErrInvalid)
		case seen[r.Mahalla]:
			return run, nil, c, fmt.Errorf("classification run %s: mahalla %s twice: %w", run.Period, r.Mahalla, store.ErrInvalid)
		}
		seen[r.Mahalla] = true
		switch r.Category {
		case classify.Red:
			c.Red++
		case classify.Yellow:
			c.Yellow++
		case classify.Green:
			c.Green++
		default:
			return run, nil, c, fmt.Errorf("classification run %s: mahalla %s: category %q: %w", run.Period, r.Mahalla, r.Category, store.ErrInvalid)
		}
	}
	results := run.Results
	if results == nil {
		results = []classify.Result{}
	}
	doc, err := json.Marshal(results)
	if err != nil {
		return run, nil, c, fmt.Errorf("classification run %s: results: %w: %w", run.Period, err, store.ErrInvalid)
	}
	return run, doc, c, nil
}

// RunCounts counts a run's results per category (stored as metadata
// columns for SQL clients; the API derives them from the results).
type RunCounts struct{ Red, Yellow, Green int }

func microUTC(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// RunResults decodes a stored results document.
func RunResults(doc []byte) ([]classify.Result, error) {
	var out []classify.Result
	if err := json.Unmarshal(doc, &out); err != nil {
		return nil, fmt.Errorf("classification results: %w", err)
	}
	if out == nil {
		out = []classify.Result{}
	}
	return out, nil
}

// LateQuery validates q for store.RunStore.LateEvents and returns its
// times in UTC at microseconds (the stores' precision), rounded up as
// QueryTime rounds them: an event time or recording time the store keeps
// compares as the exact instant would.
func LateQuery(q store.LateQuery) (store.LateQuery, error) {
	switch {
	case q.From.IsZero() || !q.From.Before(q.To):
		return q, fmt.Errorf("late events: period %v..%v is empty: %w", q.From, q.To, store.ErrInvalid)
	case q.After.IsZero() || q.Through.Before(q.After):
		return q, fmt.Errorf("late events: recorded after %v through %v: %w", q.After, q.Through, store.ErrInvalid)
	}
	q.From, q.To, q.After, q.Through = QueryTime(q.From), QueryTime(q.To), QueryTime(q.After), QueryTime(q.Through)
	return q, nil
}
