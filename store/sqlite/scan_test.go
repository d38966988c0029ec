package sqlite_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store/sqlite"
	"github.com/crimemap/crimemap/store/storetest"
)

// warnings records the store's warnings.
type warnings struct {
	mu  sync.Mutex
	msg []string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelDebug }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msg = append(w.msg, r.Message)
	return nil
}
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }

// TestParallelScan: a table large enough to be read in parts on several
// connections gives every event exactly once, from one read snapshot (a
// write committed during the scan is not seen, not even in part), stops
// at fn's error and at cancellation, and never falls back to one
// connection (the shared snapshot opens).
func TestParallelScan(t *testing.T) {
	ctx := t.Context()
	w := &warnings{}
	s, err := sqlite.Open(ctx, t.TempDir(), slog.New(w))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	events := storetest.SyntheticEvents(60_000, 5)
	if _, err := s.PutEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	want := map[string]int32{}
	for _, e := range events {
		want[e.Kind.String()+"/"+e.SourceID] = e.Injured
	}

	// Every event once; the first call updates every stored event (one
	// transaction) while the parts are still reading.
	seen := map[string]int{}
	moved := 0
	var putErr error
	err = s.ScanEvents(ctx, func(e *analytics.Event) error {
		if len(seen) == 0 {
			bumped := make([]analytics.Event, len(events))
			for i, e := range events {
				e.Injured += 100
				bumped[i] = e
			}
			_, putErr = s.PutEvents(ctx, bumped)
		}
		k := e.Kind.String() + "/" + e.SourceID
		seen[k]++
		if e.Injured != want[k] {
			moved++
		}
		return nil
	})
	if err != nil || putErr != nil {
		t.Fatalf("scan: %v; write during the scan: %v", err, putErr)
	}
	if len(seen) != len(want) {
		t.Errorf("scan saw %d events, want %d", len(seen), len(want))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("event %s seen %d times", k, n)
		}
	}
	if moved != 0 {
		t.Errorf("%d events seen with the write committed during the scan: not one snapshot", moved)
	}

	// fn's error stops the scan and is returned as is.
	stop := errors.New("stop here")
	calls := 0
	err = s.ScanEvents(ctx, func(*analytics.Event) error {
		if calls++; calls == 5000 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 5000 {
		t.Errorf("fn error: %v after %d calls; want %v after 5000", err, calls, stop)
	}

	// Cancellation.
	cctx, cancel := context.WithCancel(ctx)
	calls = 0
	err = s.ScanEvents(cctx, func(*analytics.Event) error {
		if calls++; calls == 3000 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls > 20_000 {
		t.Errorf("cancelled scan: %v after %d calls; want context.Canceled soon after 3000", err, calls)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.msg {
		if strings.Contains(m, "snapshot") {
			t.Errorf("warning: %s", m)
		}
	}
}
