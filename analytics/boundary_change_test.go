package analytics_test

import (
	"context"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
)

// TestStatsMarkBoundaryChange: comparisons of a unit whose boundary
// changed between the base period's start and the current period's end
// carry the change; others do not.
func TestStatsMarkBoundaryChange(t *testing.T) {
	tashkent, err := time.LoadLocation("Asia/Tashkent")
	if err != nil {
		t.Fatal(err)
	}
	change := time.Date(2024, 11, 1, 0, 0, 0, 0, tashkent)
	units := []geo.Unit{
		{Code: "D", Level: geo.LevelDistrict},
		{Code: "M1", ParentCode: "D", Level: geo.LevelMahalla, BoundaryChanges: []time.Time{change}},
		{Code: "M2", ParentCode: "D", Level: geo.LevelMahalla},
	}
	var evs []analytics.Event
	for i, at := range []time.Time{change.AddDate(0, -1, 3), change.AddDate(0, 0, 3), change.AddDate(0, 1, 3)} {
		for _, m := range []string{"M1", "M2"} {
			evs = append(evs, analytics.Event{Kind: analytics.KindCrime, SourceID: m + string(rune('a'+i)), OccurredAt: at.UTC(),
				District: "D", Mahalla: m, Category: "theft"})
		}
	}
	snap, err := analytics.BuildEvents(context.Background(), units, evs, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		period         string
		prev, lastYear bool // M1's comparison marked
	}{
		{"2024-11", true, true},   // Oct..Nov and Nov 2023..Nov 2024 span the change
		{"2024-12", false, true},  // Nov..Dec starts at the change
		{"2025-11", false, false}, // Nov 2024..Nov 2025 starts at it
		{"2024-10", false, false}, // before it
	}
	for _, tt := range tests {
		p, err := analytics.ParsePeriod(tt.period, tashkent)
		if err != nil {
			t.Fatal(err)
		}
		res, err := snap.Stats(analytics.StatsQuery{Period: p, Level: geo.LevelMahalla, ComparePrevious: true, CompareLastYear: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Rows {
			wantPrev, wantLast := tt.prev && r.Unit == "M1", tt.lastYear && r.Unit == "M1"
			if got := !r.Previous.BoundaryChanged.IsZero(); got != wantPrev {
				t.Errorf("%s %s previous: BoundaryChanged %v, want marked %v", tt.period, r.Unit, r.Previous.BoundaryChanged, wantPrev)
			}
			if got := !r.LastYear.BoundaryChanged.IsZero(); got != wantLast {
				t.Errorf("%s %s last year: BoundaryChanged %v, want marked %v", tt.period, r.Unit, r.LastYear.BoundaryChanged, wantLast)
			}
			if wantPrev && !r.Previous.BoundaryChanged.Equal(change) {
				t.Errorf("%s %s: BoundaryChanged %v, want %v", tt.period, r.Unit, r.Previous.BoundaryChanged, change)
			}
		}
	}
}
