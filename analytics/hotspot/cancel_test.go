package hotspot_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/hotspot"
	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb"
)

// The service promises that a cancelled or timed-out request stops using
// CPU within 100 ms. The tests fail only above maxCancelLatency, so that a
// busy two-core CI machine does not make them flaky; they log the latency
// they measured.
const (
	cancelDelay      = 50 * time.Millisecond
	maxCancelLatency = 500 * time.Millisecond
)

// runCancelled runs fn in a goroutine, cancels its context after delay and
// returns fn's error and how long after the cancellation fn returned. It
// fails the test when fn returns before the cancellation (the input is too
// small to show anything) or does not return at all.
func runCancelled(t *testing.T, delay time.Duration, fn func(ctx context.Context) error) (error, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- fn(ctx) }()
	select {
	case err := <-done:
		t.Fatalf("returned after %v, before the cancellation at %v (err %v): the input must be larger", time.Since(start), delay, err)
	case <-time.After(delay):
	}
	cancel()
	at := time.Now()
	select {
	case err := <-done:
		return err, time.Since(at)
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30 s after the cancellation")
	}
	return nil, 0
}

// checkCancelled asserts that err is the context's cancellation and that
// it came back promptly.
func checkCancelled(t *testing.T, err error, latency time.Duration) {
	t.Helper()
	t.Logf("returned %v after the cancellation: %v", latency.Round(100*time.Microsecond), err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
	if latency > maxCancelLatency {
		t.Errorf("returned %v after the cancellation, want well under 100 ms (fails above %v)", latency, maxCancelLatency)
	}
}

// mahallaBounds are the boundaries of the demo's mahallas by code.
func mahallaBounds(w *demoWorld) map[string]orb.MultiPolygon {
	bounds := map[string]orb.MultiPolygon{}
	for _, u := range w.units {
		if u.Level == geo.LevelMahalla {
			bounds[u.Code] = u.Geometry
		}
	}
	return bounds
}

// heavyCalls are the long entry points of the package, each with an input
// that takes well over a second uncancelled on a two-core machine (times
// measured once, in the comments), as a function of the context.
func heavyCalls(t *testing.T) []struct {
	name  string
	delay time.Duration
	call  func(ctx context.Context) error
} {
	w := world(t)
	// The demo's largest district (15,700 km²): 127,000 cells at res 9.
	big := w.byKey["1706240"]
	// 200,000 cells with k 10 (331-cell disks): 66 million links.
	cells, counts := hotspot.SyntheticCube(200_000, 1, 1)
	// 120 monthly steps over 55,000 cells: 92 million space-time links.
	ecells, ecounts := hotspot.SyntheticCube(55_000, 120, 1)
	// Row-standardised k-ring weights for local Moran's permutations.
	mcells, mcounts := hotspot.SyntheticCube(5_000, 1, 2)
	mw, err := hotspot.HexWeights(t.Context(), mcells, 1)
	if err != nil {
		t.Fatal(err)
	}
	my := make([]float64, len(mcounts[0]))
	for i, c := range mcounts[0] {
		my[i] = float64(c)
	}
	rw := mw.RowStandardized()
	return []struct {
		name  string
		delay time.Duration
		call  func(ctx context.Context) error
	}{
		{"HexHotspots", cancelDelay, func(ctx context.Context) error { // 1.2 s
			_, err := hotspot.HexHotspots(ctx, w.snap, hotspot.HexQuery{Res: 9, K: 10, Period: w.period(t, "2026"),
				Filter: analytics.Filter{Unit: big.Code}, Area: big.Geometry})
			return err
		}},
		{"GiStarCells", cancelDelay, func(ctx context.Context) error { // 1.4 s
			_, err := hotspot.GiStarCells(ctx, cells, counts[0], 10)
			return err
		}},
		{"HexWeights", cancelDelay, func(ctx context.Context) error { // 1.5 s
			_, err := hotspot.HexWeights(ctx, cells, 10)
			return err
		}},
		{"EmergingCells", cancelDelay, func(ctx context.Context) error { // 1.4 s
			_, err := hotspot.EmergingCells(ctx, ecells, ecounts, 1, hotspot.DefaultAlpha)
			return err
		}},
		{"EmergingHotspots", cancelDelay, func(ctx context.Context) error { // 1.6 s: a region, 120 months
			_, err := hotspot.EmergingHotspots(ctx, w.snap, hotspot.EmergingQuery{Res: 8, K: 1, Interval: analytics.IntervalMonth,
				Steps: 120, End: w.period(t, "2026-10").To, Location: w.loc,
				Filter: analytics.Filter{Unit: "1706"}, Area: w.byKey["1706"].Geometry})
			return err
		}},
		{"MahallaHotspots", cancelDelay, func(ctx context.Context) error { // 2.1 s: 852 mahallas, 99,999 permutations
			_, err := hotspot.MahallaHotspots(ctx, w.snap, hotspot.MahallaQuery{Period: w.period(t, "2026"),
				Filter: analytics.Filter{Unit: "1710"}, Boundaries: mahallaBounds(w), Permutations: 99_999})
			return err
		}},
		{"LocalMoran", cancelDelay, func(ctx context.Context) error { // 1.5 s: 5,000 locations, 9,999 permutations
			_, err := hotspot.LocalMoran(ctx, my, rw, 9_999, 1)
			return err
		}},
		// MaxCells bounds a study area: this one takes 140 ms, so it is
		// cancelled sooner.
		{"StudyCells", 20 * time.Millisecond, func(ctx context.Context) error {
			_, err := hotspot.StudyCells(ctx, big.Geometry, 9, nil)
			return err
		}},
	}
}

// Every long entry point stops promptly, with the context's error, when
// its context is cancelled while it runs; and a request that is already
// cancelled (or timed out) costs nothing.
func TestCancellation(t *testing.T) {
	calls := heavyCalls(t)
	for _, c := range calls {
		t.Run("while running/"+c.name, func(t *testing.T) {
			err, latency := runCancelled(t, c.delay, c.call)
			checkCancelled(t, err, latency)
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, c := range calls {
		t.Run("already cancelled/"+c.name, func(t *testing.T) {
			start := time.Now()
			err := c.call(ctx)
			took := time.Since(start)
			t.Logf("returned in %v: %v", took.Round(time.Microsecond), err)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %v does not wrap context.Canceled", err)
			}
			if took > 20*time.Millisecond {
				t.Errorf("took %v with a cancelled context, want no work at all", took)
			}
		})
	}
}

// A timed-out request gets context.DeadlineExceeded (the server maps it to
// 504), not a generic error.
func TestDeadlineExceeded(t *testing.T) {
	w := world(t)
	big := w.byKey["1706240"]
	ctx, cancel := context.WithTimeout(t.Context(), cancelDelay)
	defer cancel()
	start := time.Now()
	_, err := hotspot.HexHotspots(ctx, w.snap, hotspot.HexQuery{Res: 9, K: 10, Period: w.period(t, "2026"),
		Filter: analytics.Filter{Unit: big.Code}, Area: big.Geometry})
	late := time.Since(start) - cancelDelay
	t.Logf("returned %v after the deadline: %v", late.Round(100*time.Microsecond), err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
	}
	if late > maxCancelLatency {
		t.Errorf("returned %v after the deadline", late)
	}
}

// lookCounter is a context that counts the looks at Err and reports
// Canceled from look after+1 on (never when after < 0), closing Done then
// as a real context does. It shows where a computation looks at its
// context without depending on timing.
type lookCounter struct {
	context.Context
	after int64
	looks atomic.Int64
	once  sync.Once
	done  chan struct{}
}

func newLookCounter(after int64) *lookCounter {
	return &lookCounter{Context: context.Background(), after: after, done: make(chan struct{})}
}

func (c *lookCounter) Done() <-chan struct{} { return c.done }

func (c *lookCounter) Err() error {
	if n := c.looks.Add(1); c.after >= 0 && n > c.after {
		c.once.Do(func() { close(c.done) })
		return context.Canceled
	}
	return nil
}

// The linear statistics are fast (tens of milliseconds for millions of
// links) but still look at their context all along: a context that is
// done just before the last look stops them, and an input of a few million
// links gets many looks.
func TestInnerLoopsLookAtContext(t *testing.T) {
	w := world(t)
	cells, counts := hotspot.SyntheticCube(100_000, 1, 3)
	wk, err := hotspot.HexWeights(t.Context(), cells, 3) // 3.6 million links
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float64, len(cells))
	for i, c := range counts[0] {
		y[i] = float64(c)
	}
	var polys []orb.MultiPolygon
	for _, g := range mahallaBounds(w) {
		polys = append(polys, g)
	}
	calls := []struct {
		name     string
		minLooks int64
		call     func(ctx context.Context) error
	}{
		{"GiStar", 20, func(ctx context.Context) error { _, err := hotspot.GiStar(ctx, y, wk); return err }},
		{"Gi", 20, func(ctx context.Context) error { _, err := hotspot.Gi(ctx, y, wk); return err }},
		{"GeneralG", 20, func(ctx context.Context) error { _, err := hotspot.GeneralG(ctx, y, wk); return err }},
		{"MoranI", 20, func(ctx context.Context) error { _, err := hotspot.MoranI(ctx, y, wk.RowStandardized()); return err }},
		{"CubeWeights", 20, func(ctx context.Context) error { _, err := hotspot.CubeWeights(ctx, wk, 12); return err }},
		{"QueenContiguity", 2, func(ctx context.Context) error {
			_, err := hotspot.QueenContiguity(ctx, polys, hotspot.QueenTolerance)
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			all := newLookCounter(-1)
			if err := c.call(all); err != nil {
				t.Fatal(err)
			}
			n := all.looks.Load()
			t.Logf("%d looks at the context", n)
			if n < c.minLooks {
				t.Errorf("%d looks, want at least %d", n, c.minLooks)
			}
			late := newLookCounter(n - 1)
			if err := c.call(late); !errors.Is(err, context.Canceled) {
				t.Errorf("done before the last look: error %v, want context.Canceled", err)
			}
		})
	}
}
