package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
)

// TestStatsJSONBoundaryChanged: a comparison across a boundary change says
// so with the date in the period's zone; others leave the key out.
func TestStatsJSONBoundaryChanged(t *testing.T) {
	tashkent, err := time.LoadLocation("Asia/Tashkent")
	if err != nil {
		t.Fatal(err)
	}
	cur, err := analytics.ParsePeriod("2024-11", tashkent)
	if err != nil {
		t.Fatal(err)
	}
	prev := cur.Previous()
	marked := analytics.Comparison{Period: prev, Base: 3, BoundaryChanged: time.Date(2024, 10, 31, 19, 0, 0, 0, time.UTC)}
	plain := analytics.Comparison{Period: prev, Base: 3}
	res := analytics.StatsResult{Period: cur, Level: geo.LevelMahalla, Rows: []analytics.StatsRow{
		{Unit: "M1", Count: 4, Previous: &marked}, {Unit: "M2", Count: 4, Previous: &plain}}}
	b, err := json.Marshal(statsJSON(&res, viewJSON{View: viewExact}, ""))
	if err != nil {
		t.Fatal(err)
	}
	var got statsResponse
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if d := got.Rows[0].Previous.BoundaryChanged; d != "2024-11-01" {
		t.Errorf("M1 boundary_changed %q, want 2024-11-01", d)
	}
	if strings.Count(string(b), "boundary_changed") != 1 {
		t.Errorf("boundary_changed should appear once (M1 only):\n%s", b)
	}
}
