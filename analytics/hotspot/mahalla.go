package hotspot

import (
	"context"
	"fmt"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb"
)

// MinMahallas is the fewest mahallas a mahalla analysis accepts (a city
// district may have only a few dozen).
const MinMahallas = 20

// DefaultPermutations is the number of conditional permutations of local
// Moran's I when MahallaQuery.Permutations is 0 (pseudo p-values down to
// 0.001).
const DefaultPermutations = 999

// DefaultSeed seeds the permutations when MahallaQuery.Seed is 0, so that
// the same query gives the same pseudo p-values.
const DefaultSeed uint64 = 20250101

// QueenTolerance is the distance (degrees, ~1 m) within which two mahalla
// boundary vertices count as shared for queen contiguity: digitised
// neighbours rarely share vertices exactly.
const QueenTolerance = 1e-5

// MoranAlpha: a local Moran cluster (HH, LL) or outlier (HL, LH) is
// reported only when its pseudo p-value is at most this.
const MoranAlpha = 0.05

// MahallaQuery asks for Gi* hot spots and local Moran clusters over the
// mahallas of a district or region.
type MahallaQuery struct {
	Period analytics.Period
	// Filter selects the events; Filter.Unit (a district or region) is
	// required and its mahallas are the study area.
	Filter analytics.Filter
	// Boundaries gives the geometry of a mahalla by code (a mahalla
	// without one is excluded and reported); the store's units.
	Boundaries map[string]orb.MultiPolygon
	// Rate analyses counts per 1,000 residents instead of counts;
	// mahallas without population are then excluded and reported.
	Rate bool
	// Permutations of local Moran's I (0: DefaultPermutations); Seed of
	// the permutations (0: DefaultSeed).
	Permutations int
	Seed         uint64
	// Stats answers the mahalla counts (nil: the snapshot's exact Stats);
	// the public view passes its protected stats.
	Stats func(analytics.StatsQuery) (analytics.StatsResult, error)
}

// MahallaRow is one mahalla of a MahallaResult.
type MahallaRow struct {
	Code, Name string
	Count      int64
	Population int64    // 0 when unknown
	Rate       *float64 // per 1,000 residents, nil when unknown
	// PopulationYear is the year of Population (the period's start year,
	// else the nearest with a figure; 0 when unknown).
	PopulationYear int
	// Value is what was analysed: Count, or the rate with Rate.
	Value float64
	// Neighbors is the number of queen neighbours (0: an island, whose
	// Gi* only compares the mahalla with the mean).
	Neighbors int
	// Gi*: z-score, two-sided p, FDR bin and raw bin (-3..+3).
	Z, P        float64
	Bin, RawBin int8
	// Local Moran's I (row-standardised weights): I, its z-score under the
	// permutation distribution, the pseudo p-value, the quadrant of the
	// mahalla and of its neighbours' mean, and Cluster: the quadrant's
	// label (HH, LH, LL, HL) when MoranP <= MoranAlpha, "" otherwise.
	MoranI, MoranZ, MoranP float64
	Quadrant               Quadrant
	Cluster                string
}

// Excluded is a mahalla left out of an analysis, with why.
type Excluded struct {
	Code, Name, Reason string
}

// MahallaResult answers a MahallaQuery; Rows are sorted by code.
type MahallaResult struct {
	Snapshot uint64
	Period   analytics.Period
	Unit     string
	Rate     bool
	Rows     []MahallaRow
	Excluded []Excluded
	// Events counts the selected events in the analysed mahallas; Islands
	// the mahallas without queen neighbours.
	Events       int64
	Islands      int
	Permutations int
	Seed         uint64
	Conventions  Conventions
}

// MahallaHotspots computes Gi* (queen contiguity, binary, FDR) and local
// Moran's I (queen, row-standardised, seeded permutations) over the
// mahallas inside q.Filter.Unit. Errors wrap analytics.ErrBadQuery,
// analytics.ErrUnknownUnit or ErrNotMeaningful, or ctx.Err() when ctx is
// done before the work (contiguity, Gi*, permutations) ends.
func MahallaHotspots(ctx context.Context, snap *analytics.Snapshot, q MahallaQuery) (MahallaResult, error) {
	res := MahallaResult{Snapshot: snap.Version(), Period: q.Period, Unit: q.Filter.Unit, Rate: q.Rate,
		Permutations: q.Permutations, Seed: q.Seed}
	if res.Permutations == 0 {
		res.Permutations = DefaultPermutations
	}
	if res.Seed == 0 {
		res.Seed = DefaultSeed
	}
	if err := cancelled(ctx, "mahalla hot spots"); err != nil {
		return res, err
	}
	if res.Permutations < 99 || res.Permutations > 99_999 {
		return res, fmt.Errorf("%w: permutations %d: want 99..99999", analytics.ErrBadQuery, res.Permutations)
	}
	if q.Filter.Unit == "" {
		return res, fmt.Errorf("%w: unit is required: a district or region whose mahallas to analyse", analytics.ErrBadQuery)
	}
	_, u, ok := snap.Unit(q.Filter.Unit)
	if !ok {
		return res, fmt.Errorf("unit %q: %w", q.Filter.Unit, analytics.ErrUnknownUnit)
	}
	if u.Level == geo.LevelMahalla {
		return res, fmt.Errorf("%w: unit %q is a mahalla: give its district or region", analytics.ErrBadQuery, q.Filter.Unit)
	}
	value := "event counts"
	if q.Rate {
		value = "events per 1,000 residents"
	}
	res.Conventions = Conventions{
		Statistic: "Getis-Ord Gi* (each mahalla included in its own neighbourhood) of " + value +
			", two-sided normal p-values; local Moran's I with conditional permutations (pseudo p = (extreme+1)/(permutations+1))",
		Weights:    fmt.Sprintf("queen contiguity of the mahalla boundaries (shared vertex within %g degrees); binary for Gi*, row-standardised for Moran", QueenTolerance),
		Correction: "Gi*: Benjamini-Hochberg false discovery rate per confidence level; Moran clusters at pseudo p <= 0.05, uncorrected",
		Bins:       binsDoc + "; cluster HH/LL (clusters) or HL/LH (outliers) of local Moran",
		StudyArea:  "every mahalla of the unit, those without events included; mahallas without a boundary (or, with rate, without population) are excluded and listed",
	}
	stats := q.Stats
	if stats == nil {
		stats = snap.Stats
	}
	st, err := stats(analytics.StatsQuery{Period: q.Period, Level: geo.LevelMahalla, Filter: q.Filter})
	if err != nil {
		return res, fmt.Errorf("mahalla hot spots: %w", err)
	}
	var polys []orb.MultiPolygon
	var y []float64
	for _, r := range st.Rows {
		geom := q.Boundaries[r.Unit]
		switch {
		case len(geom) == 0:
			res.Excluded = append(res.Excluded, Excluded{Code: r.Unit, Name: r.Name, Reason: "no boundary"})
			continue
		case q.Rate && r.Rate == nil:
			res.Excluded = append(res.Excluded, Excluded{Code: r.Unit, Name: r.Name, Reason: "no population (rate unknown)"})
			continue
		}
		row := MahallaRow{Code: r.Unit, Name: r.Name, Count: r.Count, Population: r.Population, PopulationYear: r.PopulationYear, Rate: r.Rate, Value: float64(r.Count)}
		if q.Rate {
			row.Value = *r.Rate
		}
		res.Rows = append(res.Rows, row)
		res.Events += r.Count
		polys = append(polys, geom)
		y = append(y, row.Value)
	}
	if len(res.Rows) < MinMahallas {
		return res, fmt.Errorf("%w: unit %q has %d mahallas to analyse (at least %d needed, %d excluded): use a bigger unit (a region) or import the missing boundaries/populations",
			ErrNotMeaningful, q.Filter.Unit, len(res.Rows), MinMahallas, len(res.Excluded))
	}
	if res.Events < MinEvents {
		return res, fmt.Errorf("%w: only %d events in the mahallas of %q (at least %d needed): use a wider period or a bigger unit",
			ErrNotMeaningful, res.Events, q.Filter.Unit, MinEvents)
	}
	if allEqual(y) {
		return res, fmt.Errorf("%w: every mahalla has the same value: there is no pattern to test; use a wider period or a bigger unit", ErrNotMeaningful)
	}
	w, err := QueenContiguity(ctx, polys, QueenTolerance)
	if err != nil {
		return res, fmt.Errorf("mahalla hot spots: %w", err)
	}
	g, err := GiStar(ctx, y, w)
	if err != nil {
		return res, fmt.Errorf("mahalla gi*: %w", err)
	}
	fdr, raw := FDRBins(g.Z, g.P), RawBins(g.Z, g.P)
	lm, err := LocalMoran(ctx, y, w.RowStandardized(), res.Permutations, res.Seed)
	if err != nil {
		return res, fmt.Errorf("mahalla local moran: %w", err)
	}
	for i := range res.Rows {
		r := &res.Rows[i]
		r.Neighbors = int(w.Offsets[i+1] - w.Offsets[i])
		if r.Neighbors == 0 {
			res.Islands++
		}
		r.Z, r.P, r.Bin, r.RawBin = g.Z[i], g.P[i], fdr[i], raw[i]
		r.MoranI, r.MoranZ, r.MoranP, r.Quadrant = lm.I[i], lm.Z[i], lm.PSim[i], lm.Quadrant[i]
		if r.MoranP <= MoranAlpha {
			r.Cluster = r.Quadrant.String()
		}
	}
	return res, nil
}
