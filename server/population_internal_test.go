package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/hotspot"
	"github.com/crimemap/crimemap/geo"
)

// TestStatsJSONPopulationYear: the stats rows say which year's population
// the rate used: the period's, else the nearest year's.
func TestStatsJSONPopulationYear(t *testing.T) {
	units := []geo.Unit{{Code: "1706401", Level: geo.LevelDistrict, Population: 304_700, PopulationYear: 2026,
		Populations: []geo.YearPopulation{{Year: 2023, Population: 1000}, {Year: 2024, Population: 2000}}}}
	evs := []analytics.Event{
		{Kind: analytics.KindCrime, SourceID: "a", OccurredAt: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), District: "1706401"},
		{Kind: analytics.KindCrime, SourceID: "b", OccurredAt: time.Date(2020, 3, 1, 0, 0, 0, 0, time.UTC), District: "1706401"},
	}
	snap, err := analytics.BuildEvents(t.Context(), units, evs, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	for period, want := range map[string]string{
		"2024": `"population":2000,"population_year":2024,"rate_per_1000":0.5`,
		"2020": `"population":1000,"population_year":2023,"rate_per_1000":1`,
		"2029": `"population":304700,"population_year":2026,"rate_per_1000":0`,
	} {
		per, err := analytics.ParsePeriod(period, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		res, err := snap.Stats(analytics.StatsQuery{Period: per, Level: geo.LevelDistrict})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(statsJSON(&res, viewJSON{View: "exact"}, ""))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s: %s\nlacks %s", period, b, want)
		}
		row := hotspot.MahallaRow{Code: "x", Population: res.Rows[0].Population, PopulationYear: res.Rows[0].PopulationYear}
		if b, _ := json.Marshal(toMahallaHotJSON(&row)); !strings.Contains(string(b), `"population_year":`+want[strings.Index(want, "year\":")+6:][:4]) {
			t.Errorf("%s: mahalla row %s lacks the population year", period, b)
		}
	}
}
