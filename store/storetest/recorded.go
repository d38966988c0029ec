package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store"
)

// testEventsRecordedAt: every page of Events says when the store first
// recorded each of its events (EventPage.RecordedAt, parallel to Events:
// UTC, microseconds, near the put), a later put gets later times, an update
// keeps the first time, and RecordedAfter keeps exactly the events whose
// time is after the instant.
func testEventsRecordedAt(t *testing.T, s store.Store) {
	ctx := t.Context()
	type key struct {
		k  analytics.Kind
		id string
	}
	before := time.Now()
	first := SyntheticEvents(300, 51)
	mustPutEvents(t, s, first, store.Result{Inserted: len(first)})
	time.Sleep(20 * time.Millisecond)
	second := SyntheticEvents(200, 52)
	changed := slices.Clone(first[:40])
	for i := range changed {
		changed[i].Injured += 3
	}
	mustPutEvents(t, s, append(slices.Clone(second), changed...), store.Result{Inserted: len(second), Updated: len(changed)})
	after := time.Now()

	full, err := s.Events(ctx, store.EventQuery{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(full.RecordedAt) != len(full.Events) || len(full.Events) != len(first)+len(second) {
		t.Fatalf("Events: %d events, %d recorded times; want %d of each", len(full.Events), len(full.RecordedAt), len(first)+len(second))
	}
	recorded := make(map[key]time.Time, len(full.Events))
	// A database server's clock may differ a little from the process's.
	const skew = time.Minute
	for i, e := range full.Events {
		r := full.RecordedAt[i]
		switch {
		case r.IsZero():
			t.Errorf("event %s %q: no recorded time", e.Kind, e.SourceID)
		case r.Location() != time.UTC || !r.Equal(r.Truncate(time.Microsecond)):
			t.Errorf("event %s %q: recorded %v, want UTC in microseconds", e.Kind, e.SourceID, r)
		case r.Before(before.Add(-skew)) || r.After(after.Add(skew)):
			t.Errorf("event %s %q: recorded %v, want between the puts' %v and %v", e.Kind, e.SourceID, r, before, after)
		}
		recorded[key{e.Kind, e.SourceID}] = r
	}
	if t.Failed() {
		return
	}
	// Monotone with insertion: every event of the first put (updated or
	// not) was recorded before every event of the second.
	span := func(events []analytics.Event) (lo, hi time.Time) {
		for i, e := range events {
			r := recorded[key{e.Kind, e.SourceID}]
			if i == 0 || r.Before(lo) {
				lo = r
			}
			if i == 0 || r.After(hi) {
				hi = r
			}
		}
		return lo, hi
	}
	_, firstMax := span(first)
	secondMin, secondMax := span(second)
	if !firstMax.Before(secondMin) {
		t.Errorf("first put recorded up to %v, second from %v: want the second later (updates keep their time)", firstMax, secondMin)
	}

	// RecordedAfter keeps exactly the events recorded after the instant,
	// with their times.
	for _, cut := range []time.Time{before.Add(-time.Hour), firstMax, secondMin, secondMax} {
		want := 0
		for _, r := range recorded {
			if r.After(cut) {
				want++
			}
		}
		page, err := s.Events(ctx, store.EventQuery{RecordedAfter: cut, Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != want || len(page.Events) != want || len(page.RecordedAt) != want {
			t.Errorf("RecordedAfter %v: total %d, %d events, %d times; want %d", cut, page.Total, len(page.Events), len(page.RecordedAt), want)
			continue
		}
		for i, e := range page.Events {
			if r := page.RecordedAt[i]; !r.After(cut) || !r.Equal(recorded[key{e.Kind, e.SourceID}]) {
				t.Errorf("RecordedAfter %v: event %s %q recorded %v, want %v (after the cut)", cut, e.Kind, e.SourceID, r, recorded[key{e.Kind, e.SourceID}])
				break
			}
		}
	}
	if n, _ := s.Events(ctx, store.EventQuery{RecordedAfter: firstMax, Limit: 1}); n.Total != len(second) {
		t.Errorf("RecordedAfter the first put: %d events, want the second put's %d", n.Total, len(second))
	}

	// A page in the middle carries its own events' times; a page past the
	// end carries none.
	mid, err := s.Events(ctx, store.EventQuery{Limit: 7, Offset: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(mid.RecordedAt) != 7 || !slices.EqualFunc(mid.RecordedAt, full.RecordedAt[3:10], time.Time.Equal) {
		t.Errorf("page at offset 3: recorded %v, want %v", mid.RecordedAt, full.RecordedAt[3:10])
	}
	past, err := s.Events(ctx, store.EventQuery{Offset: len(full.Events)})
	if err != nil {
		t.Fatal(err)
	}
	if len(past.Events) != 0 || len(past.RecordedAt) != 0 {
		t.Errorf("page past the end: %d events, %d times; want none", len(past.Events), len(past.RecordedAt))
	}
}

// RecordedAtUnknown checks events stored before migration 00007 (their
// recorded_at NULL, which forget sets for one event by its key through
// the backend's own SQL): Events gives them the zero recorded time and
// RecordedAfter never matches them; the others keep theirs.
func RecordedAtUnknown(t *testing.T, s store.Store, forget func(ctx context.Context, kind analytics.Kind, sourceID string) error) {
	t.Helper()
	events := SyntheticEvents(20, 3)
	if _, err := s.PutEvents(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	old := events[5]
	if err := forget(t.Context(), old.Kind, old.SourceID); err != nil {
		t.Fatal(err)
	}
	page, err := s.Events(t.Context(), store.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.RecordedAt) != len(page.Events) || len(page.Events) != len(events) {
		t.Fatalf("%d events, %d recorded times; want %d of each", len(page.Events), len(page.RecordedAt), len(events))
	}
	for i, e := range page.Events {
		unknown := e.Kind == old.Kind && e.SourceID == old.SourceID
		if got := page.RecordedAt[i].IsZero(); got != unknown {
			t.Errorf("event %s %q: recorded %v, want zero %v", e.Kind, e.SourceID, page.RecordedAt[i], unknown)
		}
	}
	after, err := s.Events(t.Context(), store.EventQuery{RecordedAfter: time.Now().Add(-time.Hour)})
	if err != nil || after.Total != len(events)-1 {
		t.Errorf("RecordedAfter an hour ago: %d, %v; want %d (the unknown one never matches)", after.Total, err, len(events)-1)
	}
}
