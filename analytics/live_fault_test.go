package analytics_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
)

// downSource is a memSource that fails while down is set, as a store that
// went away.
type downSource struct {
	memSource
	down atomic.Bool
}

var errDown = errors.New("connection refused")

func (d *downSource) DataVersion(ctx context.Context) (int64, error) {
	if d.down.Load() {
		return 0, errDown
	}
	return d.memSource.DataVersion(ctx)
}

func (d *downSource) ScanEvents(ctx context.Context, fn func(*analytics.Event) error) error {
	if d.down.Load() {
		return errDown
	}
	return d.memSource.ScanEvents(ctx, fn)
}

// TestLiveWatchSurvivesStoreOutage: while the source fails, Watch keeps
// the snapshot, reports the failure and keeps polling; when the source
// returns it reloads what changed meanwhile and clears the failure.
func TestLiveWatchSurvivesStoreOutage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &downSource{}
	events := fixtureEvents(t)
	src.set(events[:len(events)/2])
	live := analytics.NewLive(src, fixtureLoader)
	done := make(chan struct{})
	go func() {
		defer close(done)
		live.Watch(ctx, 5*time.Millisecond, nil)
	}()
	waitFor(t, "the first snapshot", func() bool { return live.Current() != nil })
	first := live.Current()
	if f := live.LastReloadError(); f != nil {
		t.Fatalf("a failure before any: %v", f.Err)
	}

	src.down.Store(true)
	src.set(events) // imported while the service cannot see it
	waitFor(t, "the failure reported", func() bool { return live.LastReloadError() != nil })
	if f := live.LastReloadError(); !errors.Is(f.Err, errDown) || f.At.IsZero() {
		t.Errorf("failure %+v, want errDown with its time", f)
	}
	if live.Current() != first {
		t.Error("the snapshot changed while the source was down")
	}

	src.down.Store(false)
	waitFor(t, "the reload after the outage", func() bool {
		cur := live.Current()
		return cur.Len() == len(events) && live.LastReloadError() == nil
	})
	if v := live.Current().Version(); v != first.Version()+1 {
		t.Errorf("version %d after the outage, want %d", v, first.Version()+1)
	}
	cancel()
	<-done
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
