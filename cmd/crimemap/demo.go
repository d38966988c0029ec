package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/crimemap/crimemap/store"
)

const demoNotice = demo.Notice

type demoOptions struct {
	seed  uint64
	scale float64
	now   time.Time
}

func cmdDemo(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("demo", "demo [--seed N] [--scale F] [store flags]")
	sf := env.addStoreFlags(fs)
	seed := fs.Uint64("seed", 1, "random seed; the same seed and month give the same data")
	scale := fs.Float64("scale", 1, "event volume multiplier (1 = about 265,000 events over three years)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *scale <= 0 || *scale > 100 {
		return fmt.Errorf("--scale %g: want a number in (0, 100]", *scale)
	}
	st, err := sf.open(ctx, env.logger())
	if err != nil {
		return err
	}
	defer st.Close()
	return seedDemo(ctx, env, st, demoOptions{seed: *seed, scale: *scale, now: time.Now()})
}

// seedDemoIfEmpty seeds the demo region when the store holds no units and no
// events; it reports whether it did.
func seedDemoIfEmpty(ctx context.Context, env *environment, st store.Store, o demoOptions) (bool, error) {
	c, err := st.Counts(ctx)
	if err != nil {
		return false, fmt.Errorf("count store contents: %w", err)
	}
	total := 0
	for _, n := range c.Units {
		total += n
	}
	for _, n := range c.Events {
		total += n
	}
	if total > 0 {
		return false, nil
	}
	return true, seedDemo(ctx, env, st, o)
}

// seedDemo writes the demo units and events; re-running it with the same
// seed and month changes nothing (upserts by code and source id).
func seedDemo(ctx context.Context, env *environment, st store.Store, o demoOptions) error {
	start := time.Now()
	fmt.Fprintf(env.stdout, "seeding the demo region: %s\n", demo.Notice)
	units, err := demo.Units()
	if err != nil {
		return fmt.Errorf("demo units: %w", err)
	}
	ur, err := st.PutUnits(ctx, units)
	if err != nil {
		return fmt.Errorf("store demo units: %w", err)
	}
	var er store.Result
	cfg := demo.Config{Seed: o.seed, Now: o.now, Scale: o.scale, BatchSize: 50000}
	err = store.WithBulkLoad(ctx, st, int(300_000*o.scale), func(ctx context.Context) error {
		return demo.Events(ctx, cfg, units, func(batch []analytics.Event) error {
			r, err := st.PutEvents(ctx, batch)
			if err != nil {
				return fmt.Errorf("store demo events: %w", err)
			}
			er.Add(r)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("demo events: %w", err)
	}
	from, to, _ := demo.Period(cfg)
	if loc, err := time.LoadLocation("Asia/Tashkent"); err == nil {
		from, to = from.In(loc), to.In(loc)
	}
	fmt.Fprintf(env.stdout, "  units:  %d new, %d updated, %d unchanged\n", ur.Inserted, ur.Updated, ur.Unchanged)
	fmt.Fprintf(env.stdout, "  events: %d new, %d updated, %d unchanged (%s up to %s, Asia/Tashkent) in %s\n",
		er.Inserted, er.Updated, er.Unchanged, from.Format("2006-01-02"), to.Format("2006-01-02"), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	n, err := seedDemoRuns(ctx, st, o.now)
	if err != nil {
		return fmt.Errorf("demo classification runs: %w", err)
	}
	fmt.Fprintf(env.stdout, "  classification runs: %d new (default policy, created by demo) in %s\n", n, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(env.stdout, "  %s\n", demo.Attribution)
	return nil
}

// demoRunsBy is what the demo's classification runs are recorded as made
// by.
const demoRunsBy = "demo"

// demoRunPeriods are the periods the demo classifies: every year, half and
// quarter within [from, to) (the data's months, in their zone) and its
// last 12 months, oldest end first (months before the quarter ending with
// them), so that every run finds the runs before it in its history. Their
// zone is from's.
func demoRunPeriods(from, to time.Time) []analytics.Period {
	loc := from.Location()
	var out []analytics.Period
	add := func(label string) {
		p, err := analytics.ParsePeriod(label, loc)
		if err == nil && !p.From.Before(from) && !p.To.After(to) {
			out = append(out, p)
		}
	}
	for y := from.Year(); y <= to.Year(); y++ {
		add(fmt.Sprint(y))
		for h := 1; h <= 2; h++ {
			add(fmt.Sprintf("%d-H%d", y, h))
		}
		for q := 1; q <= 4; q++ {
			add(fmt.Sprintf("%d-Q%d", y, q))
		}
	}
	for m := 12; m >= 1; m-- {
		add(to.AddDate(0, -m, 0).Format("2006-01"))
	}
	slices.SortStableFunc(out, func(a, b analytics.Period) int {
		if c := a.To.Compare(b.To); c != 0 {
			return c
		}
		return b.From.Compare(a.From) // the shorter first
	})
	return out
}

// seedDemoRuns stores a classification run (the default policy, recorded as
// made by "demo", as crimemap classify makes them) for every period of
// demoRunPeriods over the months of the store's events (in the demo's
// zone, Asia/Tashkent) that has none yet, so the demo's map shows red,
// yellow and green mahallas; it returns how many it stored. A store that
// keeps no runs gets none.
func seedDemoRuns(ctx context.Context, st store.Store, now time.Time) (int, error) {
	rs, ok := st.(store.RunStore)
	if !ok {
		return 0, nil
	}
	snap, err := storeSnapshot(ctx, st)
	if err != nil {
		return 0, err
	}
	at := snap.Columns().At // sorted by time
	if len(at) == 0 {
		return 0, nil
	}
	loc, err := time.LoadLocation("Asia/Tashkent")
	if err != nil {
		loc = time.UTC
	}
	first, last := time.Unix(at[0], 0).In(loc), time.Unix(at[len(at)-1], 0).In(loc)
	from := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, loc)
	to := time.Date(last.Year(), last.Month()+1, 1, 0, 0, 0, 0, loc)
	var todo []analytics.Period
	for _, p := range demoRunPeriods(from, to) {
		_, err := rs.LatestRun(ctx, p.Label)
		switch {
		case errors.Is(err, store.ErrNotFound):
			todo = append(todo, p)
		case err != nil:
			return 0, fmt.Errorf("runs of %s: %w", p.Label, err)
		}
	}
	if len(todo) == 0 {
		return 0, nil
	}
	// The runs made so far, newest first, as the history of the next: read
	// from the store once, then kept in memory (reading each earlier run
	// back for every new one took most of the time: 14 s instead of 3).
	made, err := store.RunHistory(ctx, rs, to)
	if err != nil {
		return 0, err
	}
	pol := classify.DefaultPolicy()
	for _, p := range todo {
		run, err := classifyAndStore(ctx, st, rs, snap, pol, p, "", store.SelectHistory(made, p.From), demoRunsBy, now)
		if err != nil {
			return 0, err
		}
		made = append([]classify.Run{run}, made...)
	}
	return len(todo), nil
}

// demoStoreHasRuns reports whether the store keeps any classification run
// (or keeps none at all: then there is nothing to add).
func demoStoreHasRuns(ctx context.Context, st store.Store) bool {
	rs, ok := st.(store.RunStore)
	if !ok {
		return true
	}
	runs, err := rs.Runs(ctx, store.RunQuery{Limit: 1})
	return err != nil || len(runs) > 0
}

// isDemoStore reports whether the store holds demo events (their source ids
// start with "demo-"), so the service labels its answers synthetic.
func isDemoStore(ctx context.Context, st store.Store) bool {
	page, err := st.Events(ctx, store.EventQuery{Limit: 1})
	return err == nil && len(page.Events) > 0 && strings.HasPrefix(page.Events[0].SourceID, "demo-")
}
