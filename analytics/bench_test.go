package analytics_test

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
)

// benchEvents is the size of the benchmark snapshot: 10M, or
// CRIMEMAP_BENCH_SNAPSHOT_EVENTS.
func benchEvents(tb testing.TB) int {
	if v := os.Getenv("CRIMEMAP_BENCH_SNAPSHOT_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			tb.Fatalf("CRIMEMAP_BENCH_SNAPSHOT_EVENTS=%q", v)
		}
		return n
	}
	return 10_000_000
}

const benchSeed = 42

// benchState is built once per test binary and shared by the benchmarks.
var benchState = sync.OnceValues(func() (*benchData, error) {
	units, err := demo.Units()
	if err != nil {
		return nil, err
	}
	return &benchData{units: units}, nil
})

type benchData struct {
	units []geo.Unit
	once  sync.Once
	snap  *analytics.Snapshot
	err   error
}

func benchSnapshot(b *testing.B) (*analytics.Snapshot, []geo.Unit) {
	b.Helper()
	d, err := benchState()
	if err != nil {
		b.Fatal(err)
	}
	d.once.Do(func() {
		start := time.Now()
		d.snap, d.err = analytics.SyntheticSnapshot(benchEvents(b), benchSeed, d.units)
		if d.err == nil {
			b.Logf("synthetic snapshot: %d events in %s, %.1f bytes/event",
				d.snap.Len(), time.Since(start).Round(time.Millisecond), d.snap.BytesPerEvent())
		}
	})
	if d.err != nil {
		b.Fatal(d.err)
	}
	return d.snap, d.units
}

func benchQuarter(b *testing.B) analytics.Period {
	p, err := analytics.ParsePeriod("2025-Q2", analytics.SyntheticZone())
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// firstDistrict is the first district (by code) of the snapshot.
func firstDistrict(b *testing.B, s *analytics.Snapshot) string {
	for _, u := range s.Units() {
		if u.Level == geo.LevelDistrict && !u.Unknown {
			return u.Code
		}
	}
	b.Fatal("no district")
	return ""
}

func BenchmarkStatsQuarterMahallaCategory(b *testing.B) {
	s, _ := benchSnapshot(b)
	q := analytics.StatsQuery{
		Period: benchQuarter(b), Level: geo.LevelMahalla, Group: analytics.DimCategory,
		ComparePrevious: true, CompareLastYear: true,
	}
	var res analytics.StatsResult
	for b.Loop() {
		var err error
		if res, err = s.Stats(q); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(res.Rows)), "rows")
	b.ReportMetric(float64(res.Total), "events")
}

func BenchmarkStatsQuarterDistrictFiltered(b *testing.B) {
	s, _ := benchSnapshot(b)
	q := analytics.StatsQuery{
		Period: benchQuarter(b), Level: geo.LevelMahalla,
		Filter:          analytics.Filter{Unit: firstDistrict(b, s), Kinds: []analytics.Kind{analytics.KindCrime}},
		ComparePrevious: true, CompareLastYear: true,
	}
	for b.Loop() {
		if _, err := s.Stats(q); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHexbinsRes8Quarter(b *testing.B) {
	s, _ := benchSnapshot(b)
	q := analytics.HexbinQuery{Res: 8, Period: benchQuarter(b)}
	var res analytics.HexbinResult
	for b.Loop() {
		var err error
		if res, err = s.Hexbins(q); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(res.Bins)), "bins")
}

func BenchmarkSeries36MonthsDistrict(b *testing.B) {
	s, _ := benchSnapshot(b)
	from := analytics.SyntheticStart()
	q := analytics.SeriesQuery{
		Interval: analytics.IntervalMonth, From: from, To: from.AddDate(0, analytics.SyntheticMonths, 0),
		Filter: analytics.Filter{Unit: firstDistrict(b, s)},
	}
	for b.Loop() {
		if _, err := s.Series(q); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeries36MonthsAll(b *testing.B) {
	s, _ := benchSnapshot(b)
	from := analytics.SyntheticStart()
	q := analytics.SeriesQuery{Interval: analytics.IntervalMonth, From: from, To: from.AddDate(0, analytics.SyntheticMonths, 0)}
	for b.Loop() {
		if _, err := s.Series(q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSyntheticEvents10M is the generator alone: subtract it from
// BenchmarkBuild10M for the build's own cost.
func BenchmarkSyntheticEvents10M(b *testing.B) {
	d, err := benchState()
	if err != nil {
		b.Fatal(err)
	}
	n := benchEvents(b)
	for b.Loop() {
		err := analytics.SyntheticEvents(n, benchSeed, d.units, func([]analytics.Event) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkBuild10M builds a snapshot through Build's scan callback (the
// path of a store reload), generator included.
func BenchmarkBuild10M(b *testing.B) {
	d, err := benchState()
	if err != nil {
		b.Fatal(err)
	}
	n := benchEvents(b)
	ctx := context.Background()
	scan := func(fn func(*analytics.Event) error) error {
		return analytics.SyntheticEvents(n, benchSeed, d.units, func(batch []analytics.Event) error {
			for i := range batch {
				if err := fn(&batch[i]); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var s *analytics.Snapshot
	for b.Loop() {
		if s, err = analytics.Build(ctx, d.units, scan, 1, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(s.BytesPerEvent(), "bytes/event")
}
