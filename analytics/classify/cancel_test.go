package classify

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/paulmach/orb"
)

// heavyInput is a classification that takes over a second uncancelled on
// a two-core machine (1.2 s measured): 200,000 synthetic events over the
// demo's 852 mahallas, and district boundaries as large as their region,
// so that the Gi* of every one of the 29 districts covers tens of
// thousands of H3 cells.
func heavyInput(t *testing.T) Input {
	t.Helper()
	units, err := demo.Units()
	if err != nil {
		t.Fatal(err)
	}
	geom := map[string]orb.MultiPolygon{}
	parent := map[string]string{}
	for _, u := range units {
		geom[u.Code], parent[u.Code] = u.Geometry, u.ParentCode
	}
	snap, err := analytics.SyntheticSnapshot(200_000, 1, units)
	if err != nil {
		t.Fatal(err)
	}
	p, err := analytics.ParsePeriod("2024", analytics.SyntheticZone())
	if err != nil {
		t.Fatal(err)
	}
	return Input{Snapshot: snap, Period: p, Now: demoNow,
		Boundaries: func(code string) (orb.MultiPolygon, error) { return geom[parent[code]], nil }}
}

// A cancelled classification stops promptly with the context's error
// (the service promises 100 ms; the test fails only above 500 ms so that
// a busy CI machine does not make it flaky), and an already cancelled one
// does no work.
func TestClassifyStopsWhenCancelled(t *testing.T) {
	in := heavyInput(t)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Classify(ctx, in)
		done <- err
	}()
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

	start := time.Now()
	_, err = Classify(ctx, in)
	took := time.Since(start)
	t.Logf("already cancelled: returned in %v: %v", took.Round(time.Microsecond), err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("already cancelled: error %v does not wrap context.Canceled", err)
	}
	if took > 20*time.Millisecond {
		t.Errorf("already cancelled: took %v", took)
	}
}
