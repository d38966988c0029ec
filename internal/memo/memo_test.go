package memo

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGroup: concurrent misses of a key compute once; a new generation
// starts empty; errors are not memoised; past Max the memo starts over; a
// computation whose leader left is computed again for the others.
func TestGroup(t *testing.T) {
	g := Group[int]{Max: 2}
	var runs atomic.Int64
	slow := func(context.Context) (int, error) { runs.Add(1); time.Sleep(20 * time.Millisecond); return 7, nil }
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if v, err := g.Get(context.Background(), 1, "a", slow); v != 7 || err != nil {
				t.Error(v, err)
			}
		})
	}
	wg.Wait()
	if runs.Load() != 1 || g.Computed() != 1 {
		t.Fatalf("20 concurrent gets: %d computations", runs.Load())
	}
	if _, err := g.Get(context.Background(), 2, "a", slow); err != nil || runs.Load() != 2 {
		t.Fatalf("new generation: %d computations, %v", runs.Load(), err)
	}
	boom := errors.New("boom")
	for range 2 {
		if _, err := g.Get(context.Background(), 2, "b", func(context.Context) (int, error) { runs.Add(1); return 0, boom }); !errors.Is(err, boom) {
			t.Fatal(err)
		}
	}
	if runs.Load() != 4 {
		t.Errorf("errors memoised: %d computations", runs.Load())
	}
	g.Get(context.Background(), 2, "c", slow)
	g.Get(context.Background(), 2, "d", slow) // past Max: starts over
	before := runs.Load()
	g.Get(context.Background(), 2, "a", slow)
	if runs.Load() != before+1 {
		t.Error("the memo did not start over past Max")
	}
	// The leader leaves; the follower computes again with its own context.
	lctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var follower error
	wg.Go(func() {
		_, err := g.Get(lctx, 3, "x", func(ctx context.Context) (int, error) {
			close(started)
			<-ctx.Done()
			return 0, ctx.Err()
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("leader: %v", err)
		}
	})
	<-started
	wg.Go(func() {
		_, follower = g.Get(context.Background(), 3, "x", func(context.Context) (int, error) { return 9, nil })
	})
	time.Sleep(10 * time.Millisecond)
	cancel()
	wg.Wait()
	if follower != nil {
		t.Errorf("follower after the leader left: %v", follower)
	}
}
