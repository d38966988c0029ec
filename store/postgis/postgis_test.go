package postgis_test

import (
	"testing"
	"time"

	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/postgis"
	"github.com/crimemap/crimemap/store/postgis/pgtest"
	"github.com/crimemap/crimemap/store/storetest"
)

func open(t testing.TB) *postgis.Store {
	s, _ := openURL(t)
	return s
}

// openURL opens a store on a new database and also returns its URL.
func openURL(t testing.TB) (*postgis.Store, string) {
	url := pgtest.URL(t)
	s, err := postgis.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func TestConformanceShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		a, url := openURL(t)
		b, err := postgis.Open(t.Context(), url, nil)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { b.Close() })
		return a, b
	})
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
	var n int
	if err := s.Pool().QueryRow(t.Context(), `SELECT count(*) FROM pg_indexes WHERE tablename = 'events'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 6 { // pkey, unique, gist, brin, unit codes, rows missing H3 cells
		t.Errorf("events has %d indexes after a bulk put, want 6", n)
	}
}

func BenchmarkScanEvents1M(b *testing.B) {
	storetest.BenchmarkScanEvents(b, 1_000_000, func(b *testing.B) store.Store { return open(b) })
}

// TestRunsFrozen checks the schema itself refuses to edit a stored
// classification run, whoever writes.
func TestRunsFrozen(t *testing.T) {
	s := open(t)
	id, err := s.PutRun(t.Context(), storetest.FixtureRun("2025-Q3", time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(t.Context(), `UPDATE classification_runs SET policy_version = 'x' WHERE id = $1`, id); err == nil {
		t.Error("UPDATE of a stored run succeeded, want the trigger to refuse it")
	}
}
