package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/postgis"
	"github.com/crimemap/crimemap/store/postgis/pgquery"
	"github.com/crimemap/crimemap/store/sqlite"
)

// Query benchmark targets (issue: 10M synthetic events on a 2-core machine).
const (
	targetQueryMs      = 50.0      // each snapshot query (but hexbins)
	targetHexbinMs     = 15.0      // the res-8 quarter hexbins (issue 10)
	targetRatio        = 20.0      // snapshot at least this many times faster than PostGIS SQL
	targetBytesEvent   = 64.0      // snapshot memory
	targetBuildPerSec  = 1_000_000 // snapshot build from either store
	querySeed          = 42        // as analytics' Go benchmarks
	arrowRuns, sqlRuns = 5, 3      // timed runs (after one warm-up); the median is reported
	// sqliteMaxLoad: above this many events the SQLite build is measured
	// on this many (loading 10M into SQLite takes over 3 minutes here).
	sqliteMaxLoad = 2_000_000
	// pgLoadBatch events per PutEvents on each of pgWriters connections.
	pgLoadBatch = 50_000
	pgWriters   = 2
)

// queryOpts configures benchQueries.
type queryOpts struct {
	n             int    // synthetic events
	dbURL         string // PostGIS server ("" skips the SQL side)
	sqliteEvents  int    // events for the SQLite build measurement (0: min(n, sqliteMaxLoad))
	timeOrder     bool   // load the stores in occurred_at order (as a live feed fills them)
	skipStoreLoad bool   // snapshot only: no PostGIS, no SQLite
}

// benchQuery is one of the three issue queries, answered by the snapshot
// and by SQL.
type benchQuery struct {
	name   string
	maxMs  float64 // the snapshot's target; 0: targetQueryMs
	arrow  func() (any, error)
	sql    func(ctx context.Context, e *pgquery.Engine) (any, error)
	arrowT time.Duration
	sqlT   time.Duration
	same   string // "yes", "NO (...)" or "" when SQL did not run
}

// buildResult is a snapshot build measurement.
type buildResult struct {
	name   string
	events int
	took   time.Duration
	note   string
}

func (b buildResult) rate() float64 { return float64(b.events) / b.took.Seconds() }

// benchQueries measures the snapshot queries against PostGIS SQL and the
// snapshot builds (see the issue's targets) on n synthetic events.
func benchQueries(ctx context.Context, w io.Writer, log *slog.Logger, o queryOpts) error {
	units, err := demo.Units()
	if err != nil {
		return err
	}
	n := o.n
	gen := func(fn func(batch []analytics.Event) error) error {
		return analytics.SyntheticEvents(n, querySeed, units, fn)
	}

	// 1. The snapshot, built in memory through Build's scan callback.
	fmt.Fprintf(w, "\nquery benchmark: %d synthetic events (analytics.SyntheticEvents, seed %d, 36 months from %s)\n",
		n, querySeed, analytics.SyntheticStart().Format(time.DateOnly))
	start := time.Now()
	snap, err := analytics.Build(ctx, units, func(fn func(*analytics.Event) error) error {
		return gen(func(batch []analytics.Event) error {
			for i := range batch {
				if err := fn(&batch[i]); err != nil {
					return err
				}
			}
			return nil
		})
	}, 1, 0)
	if err != nil {
		return err
	}
	builds := []buildResult{{name: "in memory (generator included)", events: snap.Len(), took: time.Since(start)}}
	fmt.Fprintf(w, "snapshot built in %s, %.1f bytes/event\n", builds[0].took.Round(time.Millisecond), snap.BytesPerEvent())

	qs, desc, err := issueQueries(snap)
	if err != nil {
		return err
	}
	fmt.Fprint(w, desc)
	for i := range qs {
		if qs[i].arrowT, err = medianTime(arrowRuns, func() error { _, err := qs[i].arrow(); return err }); err != nil {
			return fmt.Errorf("%s: %w", qs[i].name, err)
		}
	}
	if err := benchPublicStats(ctx, w, snap); err != nil {
		return err
	}

	// 2. The same queries in PostGIS SQL, and the build from PostGIS.
	var events []analytics.Event // all events, time ordered, when loading in time order
	load := func(fn func(batch []analytics.Event) error) error {
		if !o.timeOrder {
			return gen(fn)
		}
		if events == nil {
			fmt.Fprintf(w, "(sorting the %d events by occurred_at for the store loads)\n", n)
			events = make([]analytics.Event, 0, n)
			if err := gen(func(b []analytics.Event) error { events = append(events, b...); return nil }); err != nil {
				return err
			}
			slices.SortStableFunc(events, func(a, b analytics.Event) int { return a.OccurredAt.Compare(b.OccurredAt) })
		}
		for i := 0; i < len(events); i += analytics.SyntheticBatch {
			if err := fn(events[i:min(i+analytics.SyntheticBatch, len(events))]); err != nil {
				return err
			}
		}
		return nil
	}
	var settings string
	if o.dbURL != "" && !o.skipStoreLoad {
		_, err := withScratchDatabase(ctx, o.dbURL, func(url string) (benchResult, error) {
			st, err := postgis.Open(ctx, url, log)
			if err != nil {
				return benchResult{}, err
			}
			defer st.Close()
			if _, err := st.PutUnits(ctx, units); err != nil {
				return benchResult{}, err
			}
			fmt.Fprintf(w, "loading %d events into PostGIS (%d writers, %d per batch, bulk load)...\n", n, pgWriters, pgLoadBatch)
			start := time.Now()
			if err := loadPostGIS(ctx, st, n, load); err != nil {
				return benchResult{}, err
			}
			loaded := time.Since(start)
			start = time.Now()
			if _, err := st.Pool().Exec(ctx, "VACUUM ANALYZE events"); err != nil {
				return benchResult{}, fmt.Errorf("vacuum analyze: %w", err)
			}
			fmt.Fprintf(w, "PostGIS: loaded in %s (%.0f events/s, indexes rebuilt), VACUUM ANALYZE %s\n",
				loaded.Round(time.Millisecond), float64(n)/loaded.Seconds(), time.Since(start).Round(time.Millisecond))
			settings = pgSettings(ctx, st)

			eng := &pgquery.Engine{DB: st.Pool()}
			if eng.Dict, err = pgquery.LoadDict(ctx, st.Pool()); err != nil {
				return benchResult{}, err
			}
			for i := range qs {
				q := &qs[i]
				var got any
				q.sqlT, err = medianTime(sqlRuns, func() error {
					var err error
					got, err = q.sql(ctx, eng)
					return err
				})
				if err != nil {
					return benchResult{}, fmt.Errorf("%s (SQL): %w", q.name, err)
				}
				want, _ := q.arrow()
				q.same = sameResult(want, got)
			}

			b, err := timeBuild(ctx, "from PostGIS (BuildFromStore)", st, n)
			if err != nil {
				return benchResult{}, err
			}
			builds = append(builds, b)
			return benchResult{}, nil
		})
		if err != nil {
			return err
		}
	}

	// 3. The build from SQLite.
	if !o.skipStoreLoad {
		m := o.sqliteEvents
		if m <= 0 {
			m = min(n, sqliteMaxLoad)
		}
		b, err := benchSQLiteBuild(ctx, w, log, m, n, units, load)
		if err != nil {
			return err
		}
		builds = append(builds, b)
	}

	printQueryBench(w, n, qs, builds, snap.BytesPerEvent(), settings)
	return nil
}

// issueQueries are the issue's three queries on snap: a quarter's counts
// by mahalla x category with both comparisons; res-8 hexbins for the
// quarter; a 36-month monthly series for the busiest district.
func issueQueries(snap *analytics.Snapshot) ([]benchQuery, string, error) {
	quarter, err := analytics.ParsePeriod("2025-Q2", analytics.SyntheticZone())
	if err != nil {
		return nil, "", err
	}
	byDistrict, err := snap.Stats(analytics.StatsQuery{Period: analytics.Period{
		From: analytics.SyntheticStart(), To: analytics.SyntheticStart().AddDate(0, analytics.SyntheticMonths, 0)},
		Level: geo.LevelDistrict})
	if err != nil {
		return nil, "", err
	}
	var district string
	var most int64 = -1
	for _, r := range byDistrict.Rows {
		if r.Count > most {
			district, most = r.Unit, r.Count
		}
	}
	stats := analytics.StatsQuery{Period: quarter, Level: geo.LevelMahalla, Group: analytics.DimCategory,
		ComparePrevious: true, CompareLastYear: true}
	hex := analytics.HexbinQuery{Res: 8, Period: quarter}
	from := analytics.SyntheticStart()
	series := analytics.SeriesQuery{Interval: analytics.IntervalMonth, From: from,
		To: from.AddDate(0, analytics.SyntheticMonths, 0), Filter: analytics.Filter{Unit: district}}

	sres, _ := snap.Stats(stats)
	hres, _ := snap.Hexbins(hex)
	desc := fmt.Sprintf("queries: stats %s mahalla x category + previous + last year (%d rows, %d events in the quarter); "+
		"hexbins res 8 %s (%d bins); monthly series %s..%s, district %s (%d events)\n",
		quarter.Label, len(sres.Rows), sres.Total, quarter.Label, len(hres.Bins),
		from.Format("2006-01"), series.To.AddDate(0, -1, 0).Format("2006-01"), district, most)
	return []benchQuery{
		{
			name:  "quarter counts mahalla x category, both comparisons",
			arrow: func() (any, error) { return snap.Stats(stats) },
			sql:   func(ctx context.Context, e *pgquery.Engine) (any, error) { return e.Stats(ctx, stats) },
		},
		{
			name:  "res-8 hexbins, quarter",
			maxMs: targetHexbinMs,
			arrow: func() (any, error) { return snap.Hexbins(hex) },
			sql:   func(ctx context.Context, e *pgquery.Engine) (any, error) { return e.Hexbins(ctx, hex) },
		},
		{
			name:  "36-month series, one district",
			arrow: func() (any, error) { return snap.Series(series) },
			sql:   func(ctx context.Context, e *pgquery.Engine) (any, error) { return e.Series(ctx, series) },
		},
	}, desc, nil
}

// medianTime runs fn once to warm up, then runs times more and returns the
// median duration.
func medianTime(runs int, fn func() error) (time.Duration, error) {
	if err := fn(); err != nil {
		return 0, err
	}
	ds := make([]time.Duration, runs)
	for i := range ds {
		start := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ds[i] = time.Since(start)
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	return ds[runs/2], nil
}

// sameResult compares a snapshot answer with the SQL one (counts, cells,
// rates and comparisons; not the snapshot version).
func sameResult(want, got any) string {
	switch w := want.(type) {
	case analytics.StatsResult:
		g := got.(analytics.StatsResult)
		if w.Total != g.Total || w.NoLocation != g.NoLocation || w.Unassigned != g.Unassigned || len(w.Rows) != len(g.Rows) {
			return fmt.Sprintf("NO (totals %d/%d, rows %d/%d)", w.Total, g.Total, len(w.Rows), len(g.Rows))
		}
		for i := range w.Rows {
			a, b := w.Rows[i], g.Rows[i]
			if a.Unit != b.Unit || a.Group != b.Group || a.Count != b.Count || !sameF(a.Rate, b.Rate) ||
				!sameCmp(a.Previous, b.Previous) || !sameCmp(a.LastYear, b.LastYear) {
				return fmt.Sprintf("NO (row %d %s/%s)", i, a.Unit, a.Group)
			}
		}
	case analytics.HexbinResult:
		g := got.(analytics.HexbinResult)
		if w.NoLocation != g.NoLocation || !slices.Equal(w.Bins, g.Bins) {
			return fmt.Sprintf("NO (%d/%d bins)", len(w.Bins), len(g.Bins))
		}
	case analytics.SeriesResult:
		g := got.(analytics.SeriesResult)
		if len(w.Points) != len(g.Points) {
			return "NO (points)"
		}
		for i := range w.Points {
			if !w.Points[i].Start.Equal(g.Points[i].Start) || w.Points[i].Count != g.Points[i].Count {
				return fmt.Sprintf("NO (point %d)", i)
			}
		}
	}
	return "yes"
}

func sameF(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func sameCmp(a, b *analytics.Comparison) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Base == b.Base && a.Diff == b.Diff && sameF(a.Percent, b.Percent) && a.Z == b.Z && a.Significant == b.Significant
}

// loadPostGIS puts n events from load into st inside a bulk load, in
// batches of pgLoadBatch on pgWriters concurrent writers.
func loadPostGIS(ctx context.Context, st store.Store, n int, load func(func([]analytics.Event) error) error) error {
	return store.WithBulkLoad(ctx, st, n, func(ctx context.Context) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		batches := make(chan []analytics.Event, pgWriters)
		var wg sync.WaitGroup
		var once sync.Once
		var werr error
		for range pgWriters {
			wg.Go(func() {
				for b := range batches {
					if _, err := st.PutEvents(ctx, b); err != nil {
						once.Do(func() { werr = err; cancel() })
						for range batches { // drain
						}
						return
					}
				}
			})
		}
		var cur []analytics.Event
		send := func() error {
			select {
			case batches <- cur:
			case <-ctx.Done():
				return ctx.Err()
			}
			cur = nil
			return nil
		}
		err := load(func(b []analytics.Event) error {
			if cur == nil {
				cur = make([]analytics.Event, 0, pgLoadBatch)
			}
			cur = append(cur, b...) // the generator reuses b
			if len(cur) >= pgLoadBatch {
				return send()
			}
			return nil
		})
		if err == nil && len(cur) > 0 {
			err = send()
		}
		close(batches)
		wg.Wait()
		if werr != nil {
			return werr
		}
		return err
	})
}

// timeBuild times analytics.BuildFromStore over st, which holds n events.
func timeBuild(ctx context.Context, name string, st store.Store, n int) (buildResult, error) {
	unitsOf := func(ctx context.Context) ([]geo.Unit, error) { return st.Units(ctx, store.UnitQuery{}) }
	start := time.Now()
	s, err := analytics.BuildFromStore(ctx, st, unitsOf, 1)
	if err != nil {
		return buildResult{}, fmt.Errorf("%s: %w", name, err)
	}
	took := time.Since(start)
	if s.Len() != n {
		return buildResult{}, fmt.Errorf("%s: snapshot has %d events, want %d", name, s.Len(), n)
	}
	return buildResult{name: name, events: n, took: took}, nil
}

// benchSQLiteBuild loads m events into a temporary SQLite store (the first
// m of the n generated when m < n) and times BuildFromStore over it.
func benchSQLiteBuild(ctx context.Context, w io.Writer, log *slog.Logger, m, n int, units []geo.Unit,
	load func(func([]analytics.Event) error) error) (buildResult, error) {
	dir, err := os.MkdirTemp("", "crimemap-bench-q-")
	if err != nil {
		return buildResult{}, err
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, dir, log)
	if err != nil {
		return buildResult{}, err
	}
	if _, err := st.PutUnits(ctx, units); err != nil {
		st.Close()
		return buildResult{}, err
	}
	fmt.Fprintf(w, "loading %d events into SQLite...\n", m)
	src := load
	if m < n {
		// Not time ordered: the first m generated events (a uniform sample).
		src = func(fn func([]analytics.Event) error) error {
			return analytics.SyntheticEvents(m, querySeed, units, fn)
		}
	}
	start := time.Now()
	err = store.WithBulkLoad(ctx, st, m, func(ctx context.Context) error {
		var cur []analytics.Event
		err := src(func(b []analytics.Event) error {
			cur = append(cur, b...)
			if len(cur) >= pgLoadBatch {
				_, err := st.PutEvents(ctx, cur)
				cur = cur[:0]
				return err
			}
			return nil
		})
		if err == nil && len(cur) > 0 {
			_, err = st.PutEvents(ctx, cur)
		}
		return err
	})
	if cerr := st.Close(); err == nil { // waits for the background index build
		err = cerr
	}
	if err != nil {
		return buildResult{}, fmt.Errorf("sqlite load: %w", err)
	}
	fmt.Fprintf(w, "SQLite: loaded in %s (%.0f events/s, indexes built)\n", time.Since(start).Round(time.Millisecond), float64(m)/time.Since(start).Seconds())
	if st, err = sqlite.Open(ctx, dir, log); err != nil {
		return buildResult{}, err
	}
	defer st.Close()
	// Opening starts the lazy time-index build in the background: let it
	// finish so it does not compete with the measured scan.
	if _, err := st.Events(ctx, store.EventQuery{Limit: 1}); err != nil {
		return buildResult{}, err
	}
	st.WaitIndexes()
	b, err := timeBuild(ctx, "from SQLite (BuildFromStore)", st, m)
	if m < n {
		b.note = fmt.Sprintf("%d events, not %d: loading %d into SQLite takes > 3 min here", m, n, n)
	}
	return b, err
}

// pgSettings describes the PostgreSQL settings that matter for the SQL
// timings.
func pgSettings(ctx context.Context, st *postgis.Store) string {
	var v, sb, wm, par string
	err := st.Pool().QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('shared_buffers'),
		current_setting('work_mem'), current_setting('max_parallel_workers_per_gather')`).Scan(&v, &sb, &wm, &par)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("PostgreSQL %s: shared_buffers %s, work_mem %s, max_parallel_workers_per_gather %s", v, sb, wm, par)
}

func printQueryBench(w io.Writer, n int, qs []benchQuery, builds []buildResult, bpe float64, settings string) {
	fmt.Fprintf(w, "\nperiod queries, %d synthetic events (median of %d snapshot runs, %d SQL runs, after a warm-up)\n", n, arrowRuns, sqlRuns)
	if settings != "" {
		fmt.Fprintln(w, settings)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "query\tarrow ms\tpostgis ms\tratio\tsame result\ttarget\tmet\t")
	for _, q := range qs {
		arrowMs := float64(q.arrowT.Microseconds()) / 1000
		maxMs := q.maxMs
		if maxMs == 0 {
			maxMs = targetQueryMs
		}
		met := arrowMs <= maxMs
		pg, ratio, same := "-", "-", "-"
		if q.sqlT > 0 {
			r := q.sqlT.Seconds() / q.arrowT.Seconds()
			pg, ratio, same = fmt.Sprintf("%.1f", float64(q.sqlT.Microseconds())/1000), fmt.Sprintf("%.0fx", r), q.same
			met = met && r >= targetRatio
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\t%s\t<= %.0f ms, >= %.0fx\t%s\t\n", q.name, arrowMs, pg, ratio, same,
			maxMs, targetRatio, yesNo(met))
	}
	tw.Flush()

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "snapshot\tevents\tseconds\tvalue\ttarget\tmet\t")
	fmt.Fprintf(tw, "memory\t%d\t-\t%.1f bytes/event\t<= %.0f bytes/event\t%s\t\n", n, bpe, targetBytesEvent, yesNo(bpe <= targetBytesEvent))
	for _, b := range builds {
		target, met := "(info)", "-"
		if b.name != builds[0].name {
			target, met = fmt.Sprintf(">= %d/s", targetBuildPerSec), yesNo(b.rate() >= targetBuildPerSec)
		}
		fmt.Fprintf(tw, "build %s\t%d\t%.2f\t%.0f events/s\t%s\t%s\t\n", b.name, b.events, b.took.Seconds(), b.rate(), target, met)
	}
	tw.Flush()
	for _, b := range builds {
		if b.note != "" {
			fmt.Fprintf(w, "note: build %s: %s\n", b.name, b.note)
		}
	}
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

// benchPublicStats times the public answer (analytics/disclose) of the
// stats query against the exact one on the same snapshot: the issue's
// budget is at most 10% more. The public cube is built once per snapshot
// (timed apart: it is paid once, not per request).
func benchPublicStats(ctx context.Context, w io.Writer, snap *analytics.Snapshot) error {
	quarter, err := analytics.ParsePeriod("2025-Q2", analytics.SyntheticZone())
	if err != nil {
		return err
	}
	q := analytics.StatsQuery{Period: quarter, Level: geo.LevelMahalla, Group: analytics.DimCategory, ComparePrevious: true, CompareLastYear: true}
	d := disclose.New(disclose.Config{Location: analytics.SyntheticZone()})
	now := analytics.SyntheticStart().AddDate(0, analytics.SyntheticMonths+1, 0)
	start := time.Now()
	if _, err := d.Stats(ctx, snap, q, now); err != nil {
		return fmt.Errorf("public stats: %w", err)
	}
	cube := time.Since(start)
	const runs = 7
	exact, err := medianTime(runs, func() error { _, err := snap.Stats(q); return err })
	if err != nil {
		return err
	}
	public, err := medianTime(runs, func() error { _, err := d.Stats(ctx, snap, q, now); return err })
	if err != nil {
		return err
	}
	ratio := public.Seconds() / exact.Seconds()
	fmt.Fprintf(w, "public stats (analytics/disclose) %s mahalla x category + both comparisons: %s ms vs exact %s ms (x%.2f; target <= x1.10: %s); public cube built once per snapshot in %s\n",
		quarter.Label, ms(public), ms(exact), ratio, yesNo(ratio <= 1.10), cube.Round(time.Millisecond))
	return nil
}
