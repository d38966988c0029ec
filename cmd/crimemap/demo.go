package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/crimemap/crimemap/analytics"
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
	fmt.Fprintf(env.stdout, "  %s\n", demo.Attribution)
	return nil
}

// isDemoStore reports whether the store holds demo events (their source ids
// start with "demo-"), so the service labels its answers synthetic.
func isDemoStore(ctx context.Context, st store.Store) bool {
	page, err := st.Events(ctx, store.EventQuery{Limit: 1})
	return err == nil && len(page.Events) > 0 && strings.HasPrefix(page.Events[0].SourceID, "demo-")
}
