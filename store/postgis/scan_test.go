package postgis_test

import (
	"errors"
	"testing"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store/storetest"
)

// TestScanEventsParallel checks a table large enough for the parallel scan
// yields every event exactly once, and stops cleanly at fn's error.
func TestScanEventsParallel(t *testing.T) {
	s := open(t)
	const n = 60_000
	events := storetest.SyntheticEvents(n, 21)
	if r, err := s.PutEvents(t.Context(), events); err != nil || r.Inserted != n {
		t.Fatalf("PutEvents: %+v, %v", r, err)
	}
	// Updates move rows (new tuple versions) while the old ones stay dead.
	for i := 0; i < n; i += 7 {
		events[i].Injured++
	}
	if r, err := s.PutEvents(t.Context(), events); err != nil || r.Updated == 0 {
		t.Fatalf("PutEvents: %+v, %v", r, err)
	}
	seen := make(map[string]int32, n)
	err := s.ScanEvents(t.Context(), func(e *analytics.Event) error {
		if _, dup := seen[e.SourceID]; dup {
			t.Fatalf("event %q scanned twice", e.SourceID)
		}
		seen[e.SourceID] = e.Injured
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("scanned %d events, want %d", len(seen), n)
	}
	for i := range events {
		if seen[events[i].SourceID] != events[i].Injured {
			t.Fatalf("event %q: injured %d, want %d", events[i].SourceID, seen[events[i].SourceID], events[i].Injured)
		}
	}
	for range 3 {
		stop := errors.New("stop")
		calls := 0
		err = s.ScanEvents(t.Context(), func(*analytics.Event) error {
			if calls++; calls == 5000 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || calls != 5000 {
			t.Fatalf("stopping: %v after %d calls", err, calls)
		}
	}
	if c, err := s.Counts(t.Context()); err != nil || c.Events[analytics.KindCrime] == 0 {
		t.Fatalf("after stopped scans: %+v, %v", c, err)
	}
	if _, err := s.PutEvents(t.Context(), events[:10]); err != nil {
		t.Fatal(err)
	}
}
