package analytics

import (
	"math"

	"github.com/crimemap/crimemap/geo"
)

// Compare compares a count with a base count of basePeriod (the previous
// period or the same period last year) by the CompStat rules of Comparison:
// Diff is current-base; Percent is 100*(current-base)/base, or nil when
// base < MinBaseForPercent (a change from 2 to 4 is not "+100%"); Z is
// 2(sqrt(current)-sqrt(base)), the variance-stabilised difference of two
// Poisson counts, and Significant is |Z| >= SignificantZ. Counts are
// never negative; a negative one counts as 0 in Z.
func Compare(current, base int64, basePeriod Period) Comparison {
	c := Comparison{
		Period: basePeriod,
		Base:   base,
		Diff:   current - base,
	}
	if base >= MinBaseForPercent {
		pct := 100 * float64(current-base) / float64(base)
		c.Percent = &pct
	}
	c.Z = 2 * (math.Sqrt(float64(max(current, 0))) - math.Sqrt(float64(max(base, 0))))
	c.Significant = math.Abs(c.Z) >= SignificantZ
	return c
}

// RatePer1000 is count per 1,000 residents of a population, or nil when
// the population is unknown (population <= 0).
func RatePer1000(count, population int64) *float64 {
	if population <= 0 {
		return nil
	}
	r := 1000 * float64(count) / float64(population)
	return &r
}

// MarkBoundaryChange sets c.BoundaryChanged when the unit's boundary
// changed inside the span the comparison covers, from the start of the
// earlier period to the end of the later (cur is the compared period): the
// latest such change, as geo.ChangedWithin finds it.
func (u *UnitInfo) MarkBoundaryChange(c *Comparison, cur Period) {
	if len(u.BoundaryChanges) == 0 {
		return
	}
	from, to := cur.From, cur.To
	if c.Period.From.Before(from) {
		from = c.Period.From
	}
	if c.Period.To.After(to) {
		to = c.Period.To
	}
	c.BoundaryChanged = geo.ChangedWithin(u.BoundaryChanges, from, to)
}
