package classify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/hotspot"
	"github.com/paulmach/orb"
)

// HotspotRes is the H3 resolution of the hotspot_share indicator (cells of
// ~0.74 km², Gi* over k=1 rings, per district).
const HotspotRes = 8

// HotspotMinBin is the smallest FDR-corrected Gi* bin that counts as a
// significant hot cell (+2: 95% confidence).
const HotspotMinBin = 2

// daysPerYear annualises rates.
const daysPerYear = 365.25

// counts are one mahalla's event counts in the period.
type counts struct {
	crimes, grave, public, juvenile, domestic, recidivist, alcDrugs, solved int64
	offences, accidents                                                     int64
	lastYear                                                                int64 // crimes in the same period last year
	located, hot                                                            int64 // located crimes, and those in hot cells
}

// columns are the snapshot's typed column views (analytics.Columns).
type columns = analytics.Columns

// checkRows is how many event rows a counting loop reads between two looks
// at its context: a few hundred microseconds of work, so that a cancelled
// classification of ten million events stops within milliseconds.
const checkRows = 1 << 16

// rowsErr returns ctx's error, wrapped, when row r is due for a look (every
// checkRows rows) and ctx is done.
func rowsErr(ctx context.Context, r int) error {
	if r&(checkRows-1) != 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("classify: counting events: %w", err)
	}
	return nil
}

// countPeriod counts the events of [lo, hi) per unit index into cs (indexed
// like the unit table); only units with want[u] are counted. Its only
// error wraps ctx.Err().
func countPeriod(ctx context.Context, c *columns, lo, hi int, cs []counts, want []bool) error {
	const grave = uint8(analytics.SeverityGrave)
	for r := lo; r < hi; r++ {
		if err := rowsErr(ctx, r); err != nil {
			return err
		}
		m := c.Mahalla[r]
		if m < 0 || !want[m] {
			continue
		}
		x := &cs[m]
		switch analytics.Kind(c.Kind[r]) {
		case analytics.KindCrime:
			x.crimes++
			f := analytics.Flags(c.Flags[r])
			if c.Severity[r] >= grave {
				x.grave++
			}
			if f&analytics.FlagPublicPlace != 0 {
				x.public++
			}
			if f&analytics.FlagJuvenile != 0 {
				x.juvenile++
			}
			if f&analytics.FlagDomestic != 0 {
				x.domestic++
			}
			if f&analytics.FlagRecidivist != 0 {
				x.recidivist++
			}
			if f&(analytics.FlagAlcohol|analytics.FlagDrugs) != 0 {
				x.alcDrugs++ // alcohol + drugs - both
			}
			if f&analytics.FlagSolved != 0 {
				x.solved++
			}
			if c.Cell[r] != 0 {
				x.located++
			}
		case analytics.KindAccident:
			if analytics.Flags(c.Flags[r])&analytics.FlagCasualties != 0 {
				x.accidents++
			}
		case analytics.KindOffence:
			x.offences++
		}
	}
	return nil
}

// countLastYear counts crimes of [lo, hi) per unit into cs[].lastYear. Its
// only error wraps ctx.Err().
func countLastYear(ctx context.Context, c *columns, lo, hi int, cs []counts, want []bool) error {
	for r := lo; r < hi; r++ {
		if err := rowsErr(ctx, r); err != nil {
			return err
		}
		if m := c.Mahalla[r]; m >= 0 && want[m] && analytics.Kind(c.Kind[r]) == analytics.KindCrime {
			cs[m].lastYear++
		}
	}
	return nil
}

// EmpiricalBayes returns the global empirical Bayes estimates of the rates
// counts[i]/pops[i] (per resident, per the period of the counts), by the
// method of moments of Marshall (1991, "Mapping disease and mortality
// rates using empirical Bayes estimators", Applied Statistics 40:283-294):
//
//	m  = sum(counts) / sum(pops)                      prior mean
//	s2 = sum(pops[i] * (r[i] - m)^2) / sum(pops)      weighted variance of the raw rates r[i]
//	A  = s2 - m / (sum(pops) / k)                     prior variance (0 when negative)
//	C  = A / (A + m / pops[i])                        shrinkage weight
//	eb = m + C * (r[i] - m)
//
// over the k areas with pops[i] > 0. A small area (large m/pops[i]) is
// pulled towards the mean, so two thefts in a mahalla of 300 do not make
// it the worst of its district. Areas with pops[i] <= 0 get m (no
// information). With no population at all, every estimate is 0.
func EmpiricalBayes(counts []int64, pops []int64) []float64 {
	m, a := ebPrior(counts, pops)
	out := make([]float64, len(counts))
	for i := range counts {
		out[i] = ebEstimate(counts[i], pops[i], m, a)
	}
	return out
}

// ebPrior returns the prior mean and variance of EmpiricalBayes.
func ebPrior(counts []int64, pops []int64) (m, a float64) {
	var sumY, sumN float64
	k := 0
	for i := range counts {
		if pops[i] > 0 {
			sumY += float64(counts[i])
			sumN += float64(pops[i])
			k++
		}
	}
	if k == 0 || sumN == 0 {
		return 0, 0
	}
	m = sumY / sumN
	var s2 float64
	for i := range counts {
		if pops[i] > 0 {
			d := float64(counts[i])/float64(pops[i]) - m
			s2 += float64(pops[i]) * d * d
		}
	}
	s2 /= sumN
	a = s2 - m/(sumN/float64(k))
	if a < 0 {
		a = 0
	}
	return m, a
}

// ebEstimate is one area's estimate given the prior.
func ebEstimate(y, n int64, m, a float64) float64 {
	if n <= 0 {
		return m
	}
	r := float64(y) / float64(n)
	if a == 0 {
		return m
	}
	c := a / (a + m/float64(n))
	return m + c*(r-m)
}

// hotCells runs Gi* per district and returns, per district unit index,
// the set of significant hot cells at HotspotRes (nil when not computed)
// and notes (per district) on districts where it was not meaningful.
func hotCells(ctx context.Context, snap *analytics.Snapshot, p analytics.Period, districts []int32, units []analytics.UnitInfo,
	boundaries func(string) (orb.MultiPolygon, error)) (map[int32]map[uint64]struct{}, map[int32]string, error) {
	hot := make(map[int32]map[uint64]struct{}, len(districts))
	notes := make(map[int32]string)
	if boundaries == nil {
		for _, d := range districts {
			notes[d] = "hotspot_share: no district boundaries supplied; share set to 0"
		}
		return hot, notes, nil
	}
	type out struct {
		cells map[uint64]struct{}
		note  string
		err   error
	}
	res := make([]out, len(districts))
	workers := min(runtime.GOMAXPROCS(0), len(districts))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				res[i] = hotDistrict(ctx, snap, p, units[districts[i]].Code, boundaries)
			}
		})
	}
feed:
	for i := range districts {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("classify: hot spots: %w", err)
	}
	for i, d := range districts {
		if res[i].err != nil {
			return nil, nil, res[i].err
		}
		if res[i].note != "" {
			notes[d] = res[i].note
		}
		hot[d] = res[i].cells
	}
	return hot, notes, nil
}

// hotDistrict runs Gi* over one district's crimes.
func hotDistrict(ctx context.Context, snap *analytics.Snapshot, p analytics.Period, code string,
	boundaries func(string) (orb.MultiPolygon, error)) (o struct {
	cells map[uint64]struct{}
	note  string
	err   error
}) {
	if ctx.Err() != nil {
		return o
	}
	area, err := boundaries(code)
	if err != nil {
		o.err = fmt.Errorf("classify: boundary of district %s: %w", code, err)
		return o
	}
	if len(area) == 0 {
		o.note = fmt.Sprintf("hotspot_share: district %s has no boundary; share set to 0", code)
		return o
	}
	r, err := hotspot.HexHotspots(ctx, snap, hotspot.HexQuery{
		Res: HotspotRes, Period: p, Area: area,
		Filter: analytics.Filter{Kinds: []analytics.Kind{analytics.KindCrime}, Unit: code},
	})
	if errors.Is(err, hotspot.ErrNotMeaningful) {
		o.note = fmt.Sprintf("hotspot_share: Gi* not meaningful in district %s (%v); share set to 0", code, err)
		return o
	}
	if err != nil {
		o.err = fmt.Errorf("classify: hot spots of district %s: %w", code, err)
		return o
	}
	o.cells = make(map[uint64]struct{})
	for _, c := range r.Cells {
		if c.Bin >= HotspotMinBin {
			o.cells[c.Cell] = struct{}{}
		}
	}
	return o
}

// countHot counts, per mahalla, located crimes of [lo, hi) whose cell at
// HotspotRes (cells holds the snapshot's cells at that resolution) is a
// hot cell of the mahalla's district. Its only error wraps ctx.Err().
func countHot(ctx context.Context, c *columns, cells analytics.CellColumn, lo, hi int, cs []counts, want []bool, district []int32, hot map[int32]map[uint64]struct{}) error {
	rd := cells.Reader(lo)
	for r := lo; r < hi; r++ {
		if err := rowsErr(ctx, r); err != nil {
			return err
		}
		m := c.Mahalla[r]
		if m < 0 || !want[m] || analytics.Kind(c.Kind[r]) != analytics.KindCrime || c.Cell[r] == 0 {
			continue
		}
		set := hot[district[m]]
		if len(set) == 0 {
			continue
		}
		if _, ok := set[rd.At(int32(r))]; ok {
			cs[m].hot++
		}
	}
	return nil
}

// annualise converts a per-resident rate of a period of days to per 1,000
// residents a year.
func annualise(rate, days float64) float64 {
	if days <= 0 {
		return 0
	}
	return 1000 * rate * daysPerYear / days
}

// rawValue is the indicator value of a non-rate kind.
func rawValue(k IndicatorKind, x *counts) float64 {
	switch k {
	case KindCrimeCount:
		return float64(x.crimes)
	case KindGraveCount:
		return float64(x.grave)
	case KindPublicPlace:
		return float64(x.public)
	case KindJuvenile:
		return float64(x.juvenile)
	case KindDomestic:
		return float64(x.domestic)
	case KindRecidivist:
		return float64(x.recidivist)
	case KindAlcoholDrugs:
		return float64(x.alcDrugs)
	case KindAccidents:
		return float64(x.accidents)
	case KindChangeZ:
		return analytics.Compare(x.crimes, x.lastYear, analytics.Period{}).Z
	case KindHotspotShare:
		if x.located == 0 {
			return 0
		}
		return float64(x.hot) / float64(x.located)
	case KindSolvedShare:
		if x.crimes == 0 {
			return 0
		}
		return float64(x.solved) / float64(x.crimes)
	}
	return math.NaN()
}

// rateCount is the count a rate kind divides by population.
func rateCount(k IndicatorKind, x *counts) int64 {
	switch k {
	case KindCrimeRate:
		return x.crimes
	case KindGraveRate:
		return x.grave
	case KindOffenceRate:
		return x.offences
	}
	return 0
}
