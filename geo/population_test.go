package geo

import (
	"fmt"
	"reflect"
	"testing"
)

func TestPopulationFor(t *testing.T) {
	u := Unit{Population: 300, PopulationYear: 2026, Populations: []YearPopulation{
		{Year: 2024, Population: 200}, {Year: 2020, Population: 100}, {Year: 2026, Population: 0}}}
	series := u.PopulationSeries()
	want := []YearPopulation{{2020, 100}, {2024, 200}, {2026, 300}}
	if !reflect.DeepEqual(series, want) {
		t.Fatalf("PopulationSeries = %v, want %v", series, want)
	}
	for year, w := range map[int][2]int64{
		2024: {200, 2024}, 2019: {100, 2020}, 2021: {100, 2020}, 2022: {100, 2020} /* tie: earlier */, 2023: {200, 2024},
		2025: {200, 2024} /* tie */, 2030: {300, 2026},
	} {
		p, y := PopulationFor(series, year)
		if p != w[0] || int64(y) != w[1] {
			t.Errorf("PopulationFor(%d) = %d of %d, want %d of %d", year, p, y, w[0], w[1])
		}
	}
	if p, y := PopulationFor(nil, 2024); p != 0 || y != 0 {
		t.Errorf("PopulationFor(nil) = %d, %d", p, y)
	}
	// A boundary figure without a year stands alone, year 0.
	undated := Unit{Population: 50}
	if p, y := PopulationFor(undated.PopulationSeries(), 2024); p != 50 || y != 0 {
		t.Errorf("undated: %d, %d", p, y)
	}
	undated.Populations = []YearPopulation{{2024, 60}}
	if s := undated.PopulationSeries(); !reflect.DeepEqual(s, []YearPopulation{{2024, 60}}) {
		t.Errorf("undated with a dated figure: %v", s)
	}
}

func ExamplePopulationFor() {
	u := Unit{Population: 304_700, PopulationYear: 2026, // from the boundary file
		Populations: []YearPopulation{{2023, 289_200}, {2024, 294_500}}} // from the population table
	for _, year := range []int{2024, 2025, 2030} {
		p, y := PopulationFor(u.PopulationSeries(), year)
		fmt.Printf("a period starting in %d uses %d (1 January %d)\n", year, p, y)
	}
	// Output:
	// a period starting in 2024 uses 294500 (1 January 2024)
	// a period starting in 2025 uses 294500 (1 January 2024)
	// a period starting in 2030 uses 304700 (1 January 2026)
}
