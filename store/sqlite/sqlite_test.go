package sqlite_test

import (
	"database/sql"
	"testing"

	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/sqlite"
	"github.com/crimemap/crimemap/store/storetest"
)

func open(t testing.TB) *sqlite.Store {
	s, err := sqlite.Open(t.Context(), t.TempDir(), nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	events := storetest.SyntheticEvents(100, 1)
	for i, want := range []store.Result{{Inserted: 100}, {Unchanged: 100}} {
		s, err := sqlite.Open(t.Context(), dir, nil)
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		got, err := s.PutEvents(t.Context(), events)
		if err != nil || got != want {
			t.Errorf("PutEvents #%d = %+v, %v; want %+v", i, got, err, want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func BenchmarkPutEvents1M(b *testing.B) {
	storetest.BenchmarkPutEvents(b, 1_000_000, 100_000, func(b *testing.B) store.Store { return open(b) })
}

// TestBulkKeepsIndexes checks a batch large enough to drop and rebuild the
// secondary indexes leaves them all in place.
func TestBulkKeepsIndexes(t *testing.T) {
	s := open(t)
	if _, err := s.PutEvents(t.Context(), storetest.SyntheticEvents(30000, 2)); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 5 { // unique, occurred_at, 3 unit codes
		t.Errorf("events has %d indexes after a bulk put, want 5", n)
	}
}
