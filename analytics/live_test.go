package analytics_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/sqlite"
)

// memSource is an in-memory Source whose data the test replaces.
type memSource struct {
	mu      sync.Mutex
	events  []analytics.Event
	version int64
	scans   atomic.Int64
}

func (m *memSource) set(es []analytics.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = es
	m.version++
}

func (m *memSource) ScanEvents(ctx context.Context, fn func(*analytics.Event) error) error {
	m.scans.Add(1)
	m.mu.Lock()
	es := m.events
	m.mu.Unlock()
	return scanOf(es)(fn)
}

func (m *memSource) DataVersion(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.version, nil
}

func fixtureLoader(context.Context) ([]geo.Unit, error) { return fixtureUnits(), nil }

func TestLiveReloadSwaps(t *testing.T) {
	ctx := context.Background()
	src := &memSource{}
	src.set(fixtureEvents(t))
	live := analytics.NewLive(src, fixtureLoader)
	if live.Current() != nil {
		t.Fatal("snapshot before the first reload")
	}
	if err := live.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	old := live.Current()
	if old.Version() != 1 || old.DataVersion() != 1 {
		t.Fatalf("version %d data %d", old.Version(), old.DataVersion())
	}
	q := analytics.StatsQuery{Period: period(t, "2025-Q2"), Level: geo.LevelRegion}
	before, _ := old.Stats(q)

	// Readers keep querying while the data changes and reloads swap.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := live.Current()
				res, err := s.Stats(q)
				if err != nil || res.Snapshot != s.Version() {
					t.Errorf("reader: %v, snapshot %d of %d", err, res.Snapshot, s.Version())
					return
				}
			}
		})
	}
	src.set(fixtureEvents(t)[:12])
	for range 3 {
		if err := live.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()

	cur := live.Current()
	if cur.Version() != 4 || cur.DataVersion() != 2 {
		t.Fatalf("after reloads: version %d data %d", cur.Version(), cur.DataVersion())
	}
	after, _ := cur.Stats(q)
	again, _ := old.Stats(q) // the old snapshot still answers as before
	if after.Total != 12 || again.Total != before.Total || again.Snapshot != 1 || after.Snapshot != 4 {
		t.Errorf("totals: old %d (was %d), new %d", again.Total, before.Total, after.Total)
	}
}

func TestLiveWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	src := &memSource{}
	src.set(fixtureEvents(t))
	live := analytics.NewLive(src, fixtureLoader)
	done := make(chan struct{})
	go func() { live.Watch(ctx, 5*time.Millisecond, nil); close(done) }()
	waitVersion := func(v uint64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for s := live.Current(); s == nil || s.Version() < v; s = live.Current() {
			if time.Now().After(deadline) {
				t.Fatalf("no snapshot version %d", v)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitVersion(1)
	time.Sleep(30 * time.Millisecond) // unchanged data: no reload
	if v := live.Current().Version(); v != 1 || src.scans.Load() != 1 {
		t.Fatalf("reloaded without a change: version %d, %d scans", v, src.scans.Load())
	}
	src.set(fixtureEvents(t)[:3])
	waitVersion(2)
	if s := live.Current(); s.Len() != 3 || s.DataVersion() != 2 {
		t.Errorf("after change: %d events, data version %d", s.Len(), s.DataVersion())
	}
	cancel()
	<-done
}

// TestStoreIntegration loads the demo region into the embedded store and
// checks the snapshot counts every stored event.
func TestStoreIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	units, err := demo.Units()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutUnits(ctx, units); err != nil {
		t.Fatal(err)
	}
	cfg := demo.Config{Seed: 7, Now: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), Scale: 0.05, Months: 12}
	var stored int64
	err = demo.Events(ctx, cfg, units, func(b []analytics.Event) error {
		r, err := st.PutEvents(ctx, b)
		stored += int64(r.Inserted)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	from, to, err := demo.Period(cfg)
	if err != nil {
		t.Fatal(err)
	}

	live := analytics.NewLive(st, func(ctx context.Context) ([]geo.Unit, error) { return st.Units(ctx, store.UnitQuery{}) })
	if err := live.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	s := live.Current()
	if int64(s.Len()) != stored || stored == 0 {
		t.Fatalf("snapshot has %d events, store %d", s.Len(), stored)
	}
	p := analytics.Period{Label: "demo", Kind: analytics.PeriodRange, From: from, To: to}
	for _, lv := range geo.Levels {
		res, err := s.Stats(analytics.StatsQuery{Period: p, Level: lv, Group: analytics.DimKind})
		if err != nil {
			t.Fatal(err)
		}
		var inRows int64
		for _, r := range res.Rows {
			inRows += r.Count
		}
		if res.Total != stored {
			t.Errorf("%s: total %d, stored %d", lv, res.Total, stored)
		}
		// Every event is in a row, or without location, or unassigned.
		if inRows+res.Unassigned > res.Total || inRows+res.Unassigned+res.NoLocation < res.Total {
			t.Errorf("%s: rows %d + unassigned %d + no location %d vs total %d", lv, inRows, res.Unassigned, res.NoLocation, res.Total)
		}
		t.Logf("%s: %d rows, total %d, in rows %d, no location %d, unassigned %d", lv, len(res.Rows), res.Total, inRows, res.NoLocation, res.Unassigned)
	}
	hb, err := s.Hexbins(analytics.HexbinQuery{Res: 7, Period: p})
	if err != nil {
		t.Fatal(err)
	}
	var inBins int64
	for _, b := range hb.Bins {
		inBins += b.Count
	}
	if inBins+hb.NoLocation != stored {
		t.Errorf("hexbins %d + no location %d != %d", inBins, hb.NoLocation, stored)
	}
	sr, err := s.Series(analytics.SeriesQuery{Interval: analytics.IntervalMonth, From: from.In(tashkent()), To: to})
	if err != nil {
		t.Fatal(err)
	}
	var inSeries int64
	for _, pt := range sr.Points {
		inSeries += pt.Count
	}
	if len(sr.Points) != 12 || inSeries != stored {
		t.Errorf("series: %d points, %d events", len(sr.Points), inSeries)
	}
	t.Logf("%d events, %.1f bytes/event, %d units", s.Len(), s.BytesPerEvent(), len(s.Units()))
}

// BenchmarkReloadSQLite splits a reload from the embedded store into the
// store's scan and the snapshot build (demo region, Scale 0.5, 12 months).
func BenchmarkReloadSQLite(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	units, err := demo.Units()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.PutUnits(ctx, units); err != nil {
		b.Fatal(err)
	}
	cfg := demo.Config{Seed: 7, Now: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), Scale: 0.5, Months: 12}
	var n int
	err = demo.Events(ctx, cfg, units, func(batch []analytics.Event) error {
		n += len(batch)
		_, err := st.PutEvents(ctx, batch)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	loader := func(ctx context.Context) ([]geo.Unit, error) { return st.Units(ctx, store.UnitQuery{}) }
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			if err := st.ScanEvents(ctx, func(*analytics.Event) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			if _, err := analytics.BuildFromStore(ctx, st, loader, 1); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
