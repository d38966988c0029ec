package sqlite_test

import (
	"database/sql"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store/internal/check"

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

func TestConformanceShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		dir := t.TempDir()
		var out [2]store.Store
		for i := range out {
			s, err := sqlite.Open(t.Context(), dir, nil)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			out[i] = s
		}
		return out[0], out[1]
	})
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

// TestBulkLazyIndexes checks a batch large enough to drop the occurred_at
// index leaves the unique key, and that the next query rebuilds it.
func TestBulkLazyIndexes(t *testing.T) {
	s := open(t)
	events := storetest.SyntheticEvents(30000, 2)
	if _, err := s.PutEvents(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	indexes := func() (n int) {
		t.Helper()
		// events_h3_missing (partial, empty once every row has its cells)
		// stays: it costs writers only its predicate.
		if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events'
			AND name <> 'events_h3_missing'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := indexes(); n != 1 { // the unique key only
		t.Errorf("events has %d indexes after a bulk put, want 1", n)
	}
	// A second bulk batch on the unindexed table.
	if r, err := s.PutEvents(t.Context(), storetest.SyntheticEvents(30000, 3)); err != nil || r.Inserted != 30000 {
		t.Fatalf("second batch: %+v, %v", r, err)
	}
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	q := store.EventQuery{From: from, To: from.AddDate(0, 1, 0), Limit: 10}
	p1, err := s.Events(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	s.WaitIndexes()
	if n := indexes(); n != 2 {
		t.Errorf("events has %d indexes after a query, want 2", n)
	}
	p2, err := s.Events(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if p1.Total == 0 || p1.Total != p2.Total || !reflect.DeepEqual(p1.Events, p2.Events) {
		t.Errorf("query without index: %d events, with: %d", p1.Total, p2.Total)
	}
}

// TestMixedBatch puts batches that mix new, unchanged and changed events
// across insert chunks and checks the counts and the stored data.
func TestMixedBatch(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	all := storetest.SyntheticEvents(5000, 4)
	if r, err := s.PutEvents(ctx, all[1000:2000]); err != nil || r.Inserted != 1000 {
		t.Fatalf("first put: %+v, %v", r, err)
	}
	batch := slices.Clone(all[:3000])
	for i := 1500; i < 1700; i++ {
		batch[i].Injured++
		batch[i].HasLocation = !batch[i].HasLocation
	}
	want := store.Result{Inserted: 2000, Updated: 200, Unchanged: 800}
	if r, err := s.PutEvents(ctx, batch); err != nil || r != want {
		t.Fatalf("mixed put = %+v, %v; want %+v", r, err, want)
	}
	// New keys after stored ones within the same chunk, then only new ones.
	batch2 := append(slices.Clone(all[2990:3010]), all[4000:4100]...)
	want = store.Result{Inserted: 110, Unchanged: 10}
	if r, err := s.PutEvents(ctx, batch2); err != nil || r != want {
		t.Fatalf("second put = %+v, %v; want %+v", r, err, want)
	}
	got := map[string]analytics.Event{}
	if err := s.ScanEvents(ctx, func(e *analytics.Event) error { got[e.SourceID] = *e; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3110 {
		t.Errorf("stored %d events, want 3110", len(got))
	}
	for _, e := range append(batch, batch2...) {
		e = check.Normalize(e)
		if g := got[e.SourceID]; !reflect.DeepEqual(g, e) {
			t.Fatalf("stored %+v\nwant %+v", g, e)
		}
	}
	if r, err := s.PutEvents(ctx, batch); err != nil || r != (store.Result{Unchanged: 3000}) {
		t.Fatalf("re-put = %+v, %v", r, err)
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
	db, err := sql.Open("sqlite", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE classification_runs SET policy_version = 'x' WHERE id = ?`, id); err == nil {
		t.Error("UPDATE of a stored run succeeded, want the trigger to refuse it")
	}
}
