package postgis_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/postgis"
	"github.com/crimemap/crimemap/store/postgis/pgtest"
	"github.com/crimemap/crimemap/store/storetest"
)

// allIndexes are the indexes the migrations give events.
var allIndexes = []string{"events_geom_gist", "events_h3_missing", "events_kind_source_id",
	"events_occurred_at_brin", "events_pkey", "events_units"}

// keptIndexes are the indexes of events a bulk load never drops: the
// unique key and the (empty once filled) partial index of rows without
// H3 cells.
var keptIndexes = []string{"events_h3_missing", "events_kind_source_id"}

func indexes(t testing.TB, s *postgis.Store) []string {
	t.Helper()
	rows, err := s.Pool().Query(context.Background(), `SELECT indexname FROM pg_indexes WHERE tablename = 'events' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

func wantAllIndexes(t *testing.T, s *postgis.Store) {
	t.Helper()
	if got := indexes(t, s); !slices.Equal(got, allIndexes) {
		t.Errorf("events indexes %v, want %v", got, allIndexes)
	}
}

func countEvents(t *testing.T, s *postgis.Store) int {
	t.Helper()
	c, err := s.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, k := range c.Events {
		n += k
	}
	return n
}

// TestSecondaryIndexDefinitions checks the definitions BulkLoad and Open
// rebuild indexes from give exactly the indexes of the migration.
func TestSecondaryIndexDefinitions(t *testing.T) {
	s, url := openURL(t)
	ctx := t.Context()
	defs := func() map[string]string {
		rows, err := s.Pool().Query(ctx, `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events'`)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for rows.Next() {
			var n, d string
			if err := rows.Scan(&n, &d); err != nil {
				t.Fatal(err)
			}
			m[n] = d
		}
		return m
	}
	before := defs()
	for _, n := range allIndexes {
		stmt := `DROP INDEX ` + n
		switch n {
		case "events_kind_source_id", "events_h3_missing":
			continue
		case "events_pkey":
			stmt = `ALTER TABLE events DROP CONSTRAINT events_pkey`
		}
		if _, err := s.Pool().Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	s2, err := postgis.Open(ctx, url, nil) // rebuilds them
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	after := defs()
	if len(before) != len(allIndexes) || len(after) != len(before) {
		t.Fatalf("indexes before %v, after %v", before, after)
	}
	for n, d := range before {
		if after[n] != d {
			t.Errorf("%s rebuilt as %q, migration has %q", n, after[n], d)
		}
	}
	var pk string
	if err := s.Pool().QueryRow(ctx, `SELECT conname FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype = 'p'`).Scan(&pk); err != nil || pk != "events_pkey" {
		t.Errorf("primary key of events: %q, %v", pk, err)
	}
}

// TestOpenRestoresIndexes simulates a crash inside BulkLoad (indexes
// dropped, never rebuilt): the next Open rebuilds them.
func TestOpenRestoresIndexes(t *testing.T) {
	s, url := openURL(t)
	ctx := t.Context()
	if _, err := s.PutEvents(ctx, storetest.SyntheticEvents(1000, 7)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `DROP INDEX events_geom_gist, events_units`); err != nil {
		t.Fatal(err)
	}
	s2, err := postgis.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	wantAllIndexes(t, s2)
	if n := countEvents(t, s2); n != 1000 {
		t.Errorf("%d events after reopen, want 1000", n)
	}
}

// TestOpenDuringBulkLoad checks Open leaves the indexes alone while a
// BulkLoad (here, in another Store) runs without them.
func TestOpenDuringBulkLoad(t *testing.T) {
	s, url := openURL(t)
	ctx := t.Context()
	err := s.BulkLoad(ctx, 100_000, func(ctx context.Context) error {
		s2, err := postgis.Open(ctx, url, nil)
		if err != nil {
			return err
		}
		s2.Close()
		if got := indexes(t, s); !slices.Equal(got, keptIndexes) {
			t.Errorf("Open during a bulk load rebuilt indexes: %v", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantAllIndexes(t, s)
}

func TestBulkLoad(t *testing.T) {
	events := storetest.SyntheticEvents(60_000, 3)
	boom := errors.New("boom")
	for _, tc := range []struct {
		name   string
		fn     func(ctx context.Context, cancel context.CancelFunc, s *postgis.Store) error
		err    error
		stored int
	}{
		{"ok", func(ctx context.Context, _ context.CancelFunc, s *postgis.Store) error {
			_, err := storetest.PutBatches(ctx, s, events, 30_000)
			return err
		}, nil, 60_000},
		{"fn fails", func(ctx context.Context, _ context.CancelFunc, s *postgis.Store) error {
			if _, err := s.PutEvents(ctx, events[:30_000]); err != nil {
				return err
			}
			return boom
		}, boom, 30_000},
		{"cancelled", func(ctx context.Context, cancel context.CancelFunc, s *postgis.Store) error {
			if _, err := s.PutEvents(ctx, events[:30_000]); err != nil {
				return err
			}
			cancel()
			_, err := s.PutEvents(ctx, events[30_000:])
			return err
		}, context.Canceled, 30_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			err := s.BulkLoad(ctx, len(events), func(ctx context.Context) error {
				if got := indexes(t, s); !slices.Equal(got, keptIndexes) {
					t.Errorf("indexes inside BulkLoad: %v, want only the keys", got)
				}
				err := tc.fn(ctx, cancel, s)
				// PutEvents did not rebuild them per batch.
				if got := indexes(t, s); !slices.Equal(got, keptIndexes) {
					t.Errorf("indexes after PutEvents inside BulkLoad: %v", got)
				}
				return err
			})
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Errorf("BulkLoad: %v, want %v", err, tc.err)
			}
			wantAllIndexes(t, s)
			if n := countEvents(t, s); n != tc.stored {
				t.Errorf("%d events stored, want %d", n, tc.stored)
			}
			// The rebuilt indexes answer queries.
			page, err := s.Events(t.Context(), store.EventQuery{Unit: events[0].Mahalla, Limit: 5})
			if err != nil || page.Total == 0 {
				t.Errorf("Events by unit after BulkLoad: %d, %v", page.Total, err)
			}
		})
	}
}

// TestBulkLoadSmall checks a load too small for the table keeps the indexes.
func TestBulkLoadSmall(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	if _, err := storetest.PutBatches(ctx, s, storetest.SyntheticEvents(60_000, 4), 30_000); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `ANALYZE events`); err != nil {
		t.Fatal(err)
	}
	err := s.BulkLoad(ctx, 50_000, func(ctx context.Context) error {
		got := indexes(t, s)
		if !slices.Contains(got, "events_units") || !slices.Contains(got, "events_pkey") || slices.Contains(got, "events_geom_gist") {
			t.Errorf("indexes inside a BulkLoad of 50k into 60k: %v, want all but the GiST", got)
		}
		_, err := s.PutEvents(ctx, storetest.SyntheticEvents(1000, 5))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantAllIndexes(t, s)
}

// TestBulkLoadConcurrent runs two BulkLoads at once in one Store and one in
// another Store; every index is back once they are all done.
func TestBulkLoadConcurrent(t *testing.T) {
	s, url := openURL(t)
	s2, err := postgis.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, st := range []*postgis.Store{s, s, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = st.BulkLoad(t.Context(), 100_000, func(ctx context.Context) error {
				_, err := storetest.PutBatches(ctx, st, storetest.SyntheticEvents(25_000, uint64(10+i)), 25_000)
				time.Sleep(time.Duration(i) * 50 * time.Millisecond)
				return err
			})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	wantAllIndexes(t, s)
	if n := countEvents(t, s); n != 75_000 {
		t.Errorf("%d events, want 75000", n)
	}
}

// BenchmarkBulkLoad1M loads 1M pre-generated events in 100k batches inside
// BulkLoad into a fresh database, timing the load and the index rebuild,
// then times a few unit queries (logged).
func BenchmarkBulkLoad1M(b *testing.B) {
	const n, batch = 1_000_000, 100_000
	events := storetest.SyntheticEvents(n, 1)
	var total, load time.Duration
	iters := 0
	var log *slog.Logger
	if os.Getenv("CRIMEMAP_BENCH_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for b.Loop() {
		s, err := postgis.Open(b.Context(), pgtest.URL(b), log)
		if err != nil {
			b.Fatal(err)
		}
		ctx := b.Context()
		start := time.Now()
		var loaded time.Time
		err = s.BulkLoad(ctx, n, func(ctx context.Context) error {
			r, err := storetest.PutBatches(ctx, s, events, batch)
			if err == nil && r.Inserted != n {
				err = errors.New("not all inserted")
			}
			loaded = time.Now()
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		load += loaded.Sub(start)
		iters++
		b.StopTimer()
		if _, err := s.Pool().Exec(ctx, `VACUUM ANALYZE events`); err != nil {
			b.Fatal(err)
		}
		for _, u := range []struct{ level, code string }{
			{"mahalla", events[0].Mahalla}, {"district", events[0].District}, {"region", events[0].Region},
		} {
			for _, q := range []store.EventQuery{{Unit: u.code}, {Unit: u.code, Kind: analytics.KindCrime, From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}} {
				best := time.Hour
				var total int
				for range 5 {
					t := time.Now()
					p, err := s.Events(ctx, q)
					if err != nil {
						b.Fatal(err)
					}
					best, total = min(best, time.Since(t)), p.Total
				}
				b.Logf("Events(unit=%s %s, kind=%d): total %d, best of 5 %v", u.level, u.code, q.Kind, total, best)
			}
		}
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*iters)/total.Seconds(), "events/s")
	b.ReportMetric(load.Seconds()/float64(iters), "load-s")
	b.ReportMetric((total-load).Seconds()/float64(iters), "rebuild-s")
}
