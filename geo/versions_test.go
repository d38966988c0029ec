package geo_test

import (
	"testing"
	"time"

	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb"
)

func box(x0, y0, x1, y1 float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}
}

func TestVersionedIndex(t *testing.T) {
	change := time.Date(2024, 10, 31, 19, 0, 0, 0, time.UTC) // 2024-11-01 in Tashkent
	later := change.AddDate(1, 0, 0)
	units := []geo.Unit{
		{Code: "D", Level: geo.LevelDistrict, Geometry: box(0, 0, 2, 1)},
		// A and B split the district at x=1 before the change, at x=1.5 after.
		{Code: "A", ParentCode: "D", Level: geo.LevelMahalla, Geometry: box(0, 0, 1.5, 1)},
		{Code: "B", ParentCode: "D", Level: geo.LevelMahalla, Geometry: box(1.5, 0, 2, 1)},
		// C is drawn only from `later` on.
		{Code: "C", ParentCode: "D", Level: geo.LevelMahalla, Geometry: box(5, 5, 6, 6)},
	}
	versions := []geo.BoundaryVersion{
		{Code: "A", Geometry: box(0, 0, 1, 1)},
		{Code: "A", ValidFrom: change, Geometry: box(0, 0, 1.5, 1)},
		{Code: "B", Geometry: box(1, 0, 2, 1)},
		{Code: "B", ValidFrom: change, Geometry: box(1.5, 0, 2, 1)},
		{Code: "C", ValidFrom: later, Geometry: box(5, 5, 6, 6)},
	}
	ix := geo.NewVersionedIndex(units, versions)
	if !ix.Versioned() {
		t.Fatal("Versioned() = false")
	}
	tests := []struct {
		lon, lat float64
		at       time.Time
		want     string
	}{
		{1.2, 0.5, change.Add(-time.Microsecond), "B"},
		{1.2, 0.5, change, "A"},
		{1.2, 0.5, later, "A"},
		{0.5, 0.5, time.Time{}, "A"},
		{1.7, 0.5, change.AddDate(-5, 0, 0), "B"},
		{5.5, 5.5, change, ""},
		{5.5, 5.5, later, "C"},
	}
	for _, tt := range tests {
		if got := ix.AssignAt(tt.lon, tt.lat, tt.at).Mahalla; got != tt.want {
			t.Errorf("AssignAt(%g, %g, %s).Mahalla = %q, want %q", tt.lon, tt.lat, tt.at, got, tt.want)
		}
	}
	// Assign uses the current boundaries (the units' geometry).
	if got := ix.Assign(1.2, 0.5).Mahalla; got != "A" {
		t.Errorf("Assign(1.2, 0.5).Mahalla = %q, want A", got)
	}
	// Without versions AssignAt is Assign.
	plain := geo.NewIndex(units)
	if plain.Versioned() || plain.AssignAt(1.2, 0.5, change.AddDate(-1, 0, 0)) != plain.Assign(1.2, 0.5) {
		t.Error("an index without versions should assign the same at every time")
	}
	ch := geo.BoundaryChanges(versions)
	if len(ch) != 3 || !ch["A"][0].Equal(change) || !ch["C"][0].Equal(later) {
		t.Errorf("BoundaryChanges = %v", ch)
	}
	if got := geo.ChangedWithin(ch["A"], change.AddDate(-1, 0, 0), change.AddDate(0, 1, 0)); !got.Equal(change) {
		t.Errorf("ChangedWithin across the change = %v, want %v", got, change)
	}
	if got := geo.ChangedWithin(ch["A"], change, later); !got.IsZero() {
		t.Errorf("ChangedWithin from the change on = %v, want zero", got)
	}
}
