package disclose_test

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Preparing the public view of a snapshot (the public cube, its H3 tables
// and the fixed cells of every region) reads every event several times:
// 0.6 s uncancelled for the demo's 177,000 events on a two-core machine,
// and proportionally more for millions. A cancelled Prepare stops promptly
// with the context's error (the service promises 100 ms; the test fails
// only above 500 ms so that a busy CI machine does not make it flaky), an
// already cancelled one does no work, and a later Prepare with a live
// context still builds everything.
func TestPrepareStopsWhenCancelled(t *testing.T) {
	w := demoWorld(t)
	d := newDiscloser(w)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Prepare(ctx, w.snap) }()
	select {
	case err := <-done:
		t.Fatalf("finished before the cancellation (err %v): the input must be larger", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	at := time.Now()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30 s after the cancellation")
	}
	latency := time.Since(at)
	t.Logf("returned %v after the cancellation: %v", latency.Round(100*time.Microsecond), err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
	if latency > 500*time.Millisecond {
		t.Errorf("returned %v after the cancellation, want well under 100 ms", latency)
	}

	fresh := newDiscloser(w)
	start := time.Now()
	err = fresh.Prepare(ctx, w.snap)
	took := time.Since(start)
	t.Logf("already cancelled: returned in %v: %v", took.Round(time.Microsecond), err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("already cancelled: error %v does not wrap context.Canceled", err)
	}
	if took > 20*time.Millisecond {
		t.Errorf("already cancelled: took %v", took)
	}

	if err := d.Prepare(t.Context(), w.snap); err != nil {
		t.Fatalf("prepare after a cancelled one: %v", err)
	}
}
