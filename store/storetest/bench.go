package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store"
)

// PutBatches writes events to s in batches of batch events (one transaction
// each) and returns the summed result. It is the load loop of the benchmarks
// and of `crimemap bench`.
func PutBatches(ctx context.Context, s store.Store, events []analytics.Event, batch int) (store.Result, error) {
	if batch <= 0 {
		batch = len(events)
	}
	var total store.Result
	for start := 0; start < len(events); start += batch {
		r, err := s.PutEvents(ctx, events[start:min(start+batch, len(events))])
		if err != nil {
			return total, fmt.Errorf("batch at %d: %w", start, err)
		}
		total.Add(r)
	}
	return total, nil
}

// BenchmarkPutEvents loads n synthetic events in batches of batch into a
// fresh store from open each iteration, then puts them again (all
// unchanged). It reports insert-events/s and reput-events/s, timing the
// store calls only (the events are generated once, before the loop).
func BenchmarkPutEvents(b *testing.B, n, batch int, open func(b *testing.B) store.Store) {
	events := SyntheticEvents(n, 1)
	var ins, reput time.Duration
	iters := 0
	for b.Loop() {
		s := open(b)
		start := time.Now()
		r, err := PutBatches(b.Context(), s, events, batch)
		if err != nil || r.Inserted != n {
			b.Fatalf("load: %+v, %v", r, err)
		}
		mid := time.Now()
		r, err = PutBatches(b.Context(), s, events, batch)
		if err != nil || r.Unchanged != n {
			b.Fatalf("reput: %+v, %v", r, err)
		}
		ins += mid.Sub(start)
		reput += time.Since(mid)
		iters++
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*iters)/ins.Seconds(), "insert-events/s")
	b.ReportMetric(float64(n*iters)/reput.Seconds(), "reput-events/s")
}

// BenchmarkScanEvents loads n synthetic events into a fresh store from open
// (with store.WithBulkLoad, untimed), then times full ScanEvents passes and
// reports events/s. The callback reads a few fields, as a snapshot builder
// would.
func BenchmarkScanEvents(b *testing.B, n int, open func(b *testing.B) store.Store) {
	events := SyntheticEvents(n, 1)
	s := open(b)
	err := store.WithBulkLoad(b.Context(), s, n, func(ctx context.Context) error {
		_, err := PutBatches(ctx, s, events, 100_000)
		return err
	})
	if err != nil {
		b.Fatalf("load: %v", err)
	}
	events = nil
	var sink int64
	iters := 0
	var took time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		got := 0
		err := s.ScanEvents(b.Context(), func(e *analytics.Event) error {
			got++
			sink += int64(e.Kind) + int64(len(e.SourceID)) + int64(len(e.Category)) + e.OccurredAt.Unix()
			return nil
		})
		took += time.Since(start)
		if err != nil || got != n {
			b.Fatalf("scan: %d events, %v", got, err)
		}
		iters++
	}
	b.ReportMetric(float64(n*iters)/took.Seconds(), "events/s")
	if sink == 42 {
		b.Log(sink)
	}
}
