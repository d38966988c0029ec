package sqlite_test

import (
	"database/sql"
	"testing"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store/sqlite"
	"github.com/crimemap/crimemap/store/storetest"
)

// storedCellsMatch scans s and checks every located event comes back with
// the cells of its coordinates; it returns how many are located.
func storedCellsMatch(t *testing.T, s *sqlite.Store) int {
	t.Helper()
	located := 0
	err := s.ScanEvents(t.Context(), func(e *analytics.Event) error {
		c, ok := e.Cells()
		if !e.HasLocation {
			if ok {
				t.Errorf("event %q without location has cells", e.SourceID)
			}
			return nil
		}
		located++
		want, err := analytics.HexCellsOf(e.Lat, e.Lon)
		if err != nil {
			return err
		}
		if !ok || c != want {
			t.Errorf("event %q: cells %x (%v), want %x", e.SourceID, c, ok, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return located
}

// TestStoredCells: located events are stored with their cells in compact
// form (some with exceptions), given back by ScanEvents; rows without
// cells (before migration 00006, or a hand edit) get them on Open; a
// moved event is stored with the cells of where it is now, not the stale
// ones it carries.
func TestStoredCells(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	events := storetest.SyntheticEvents(5000, 31)
	if _, err := s.PutEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	located := storedCellsMatch(t, s)
	db, err := sql.Open("sqlite", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(where string) (n int) {
		t.Helper()
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE `+where).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`h3_exc IS NOT NULL`); n < located/10 || n > located/2 {
		t.Errorf("%d of %d located events with exceptions; expected about 30%%", n, located)
	}
	if n := count(`h3_r10 IS NULL AND lon IS NOT NULL`); n != 0 {
		t.Errorf("%d located events stored without cells", n)
	}

	// Rows without cells get them on the next Open.
	if _, err := db.ExecContext(ctx, `UPDATE events SET h3_r10 = NULL, h3_exc = NULL`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = sqlite.Open(ctx, dir, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := count(`h3_r10 IS NULL AND lon IS NOT NULL`); n != 0 {
		t.Errorf("%d located events without cells after Open", n)
	}
	if got := storedCellsMatch(t, s); got != located {
		t.Errorf("%d located events after Open, want %d", got, located)
	}

	// A moved event carries its old cells; the store keeps the new ones.
	var moved []analytics.Event
	for _, e := range events[:200] {
		if e.HasLocation {
			e.Lat += 0.013
			moved = append(moved, e)
		}
	}
	if r, err := s.PutEvents(ctx, moved); err != nil || r.Updated != len(moved) {
		t.Fatalf("moved: %+v, %v; want %d updated", r, err, len(moved))
	}
	storedCellsMatch(t, s)
}
