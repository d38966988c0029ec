package geo

import (
	"cmp"
	"slices"
)

// YearPopulation is the number of residents on 1 January of Year.
type YearPopulation struct {
	Year       int
	Population int64
}

// PopulationSeries merges a unit's figures: Populations plus the boundary
// figure (Population of PopulationYear) when that year has no other
// figure. It is sorted by year without duplicates; a boundary figure of an
// unknown year (PopulationYear 0) is left out when any dated figure exists,
// and is the only entry (year 0) otherwise.
func (u *Unit) PopulationSeries() []YearPopulation {
	out := make([]YearPopulation, 0, len(u.Populations)+1)
	for _, p := range u.Populations {
		if p.Population > 0 {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b YearPopulation) int { return cmp.Compare(a.Year, b.Year) })
	out = slices.CompactFunc(out, func(a, b YearPopulation) bool { return a.Year == b.Year })
	if u.Population > 0 {
		i, found := slices.BinarySearchFunc(out, u.PopulationYear, func(p YearPopulation, y int) int { return cmp.Compare(p.Year, y) })
		switch {
		case found:
		case u.PopulationYear == 0 && len(out) > 0:
		default:
			out = slices.Insert(out, i, YearPopulation{Year: u.PopulationYear, Population: u.Population})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// PopulationFor picks the figure a rate for a period starting in year uses
// from a series sorted by year (PopulationSeries): that year's figure (1
// January, the last count at or before the period's start), else the
// nearest year's, the earlier one on a tie. It returns the population and
// the year it refers to (0 when unknown), or 0, 0 for an empty series.
func PopulationFor(series []YearPopulation, year int) (population int64, popYear int) {
	if len(series) == 0 {
		return 0, 0
	}
	i, found := slices.BinarySearchFunc(series, year, func(p YearPopulation, y int) int { return cmp.Compare(p.Year, y) })
	switch {
	case found:
		return series[i].Population, series[i].Year
	case i == 0:
		return series[0].Population, series[0].Year
	case i == len(series):
		return series[i-1].Population, series[i-1].Year
	}
	before, after := series[i-1], series[i]
	if after.Year-year < year-before.Year {
		return after.Population, after.Year
	}
	return before.Population, before.Year
}
