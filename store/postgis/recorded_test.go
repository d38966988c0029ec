package postgis_test

import (
	"testing"
	"time"

	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/storetest"
)

// TestEventsRecordedAtUnknown: an event stored before migration 00007
// (recorded_at NULL) comes back with the zero recorded time and never
// matches RecordedAfter; the others keep theirs.
func TestEventsRecordedAtUnknown(t *testing.T) {
	s := open(t)
	events := storetest.SyntheticEvents(20, 3)
	if _, err := s.PutEvents(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	old := events[5]
	if _, err := s.Pool().Exec(t.Context(), `UPDATE events SET recorded_at = NULL WHERE kind = $1 AND source_id = $2`, int16(old.Kind), old.SourceID); err != nil {
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
