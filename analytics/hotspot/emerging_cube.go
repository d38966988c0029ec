package hotspot

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/paulmach/orb"
)

// Limits of the number of time steps of an emerging hot spot analysis:
// the Mann-Kendall trend test needs at least 10.
const (
	MinSteps     = 10
	MaxSteps     = 120
	DefaultSteps = 24
)

// MaxCubeLinks bounds the space-time links of one emerging analysis:
// steps x cells x (2 k-rings). EmergingCells visits them without storing
// them (CubeWeights would take 4 bytes a link: 400 MB for 100M links).
const MaxCubeLinks = 100_000_000

// DefaultAlpha is the significance level of the emerging hot spot
// categories (hot or cold bins and the Mann-Kendall trend).
const DefaultAlpha = 0.05

// EmergingQuery asks for an emerging hot spot analysis over a space-time
// cube of H3 cells by month or quarter.
type EmergingQuery struct {
	Res, K int // as in HexQuery
	// Interval is month or quarter; Steps the number of intervals
	// (MinSteps..MaxSteps, 0: DefaultSteps), the last one ending at End
	// (exclusive; it must be an interval boundary in Location).
	Interval analytics.Interval
	Steps    int
	End      time.Time
	Location *time.Location
	// Filter and Area: the events and the study area, as in HexQuery.
	Filter analytics.Filter
	Area   orb.MultiPolygon
	// Alpha is the significance level (0: DefaultAlpha).
	Alpha float64
}

// Step is one time step of the cube: [From, To).
type Step struct {
	From, To time.Time
	Events   int64
}

// EmergingCell is one location (H3 cell) of an EmergingResult.
type EmergingCell struct {
	Cell     uint64
	Category EmergingCategory
	// Count is the events over every step; Counts per step.
	Count  int64
	Counts []int64
	// Z and P per step: the space-time Gi* of the cell's bins.
	Z, P []float64
	// Trend is the Mann-Kendall test of the z series.
	Trend MKResult
	// HotSteps and ColdSteps count the steps with a significant hot or cold
	// bin (p < Alpha, as ClassifyEmerging).
	HotSteps, ColdSteps int
}

// EmergingResult answers an EmergingQuery; Cells covers the zero-filled
// study area, sorted by cell index.
type EmergingResult struct {
	Snapshot        uint64
	Res, K          int
	NeighbourhoodKm float64
	Interval        analytics.Interval
	Steps           []Step
	Alpha           float64
	Cells           []EmergingCell
	Events          int64
	Conventions     Conventions
}

// EmergingSteps returns the steps intervals ending at end (exclusive),
// oldest first. end must be an interval boundary in loc.
func EmergingSteps(iv analytics.Interval, steps int, end time.Time, loc *time.Location) ([]Step, error) {
	if iv != analytics.IntervalMonth && iv != analytics.IntervalQuarter {
		return nil, fmt.Errorf("%w: interval %q: want month or quarter", analytics.ErrBadQuery, string(iv))
	}
	if steps < MinSteps || steps > MaxSteps {
		return nil, fmt.Errorf("%w: periods %d: want %d..%d (Mann-Kendall needs at least %d steps)", analytics.ErrBadQuery, steps, MinSteps, MaxSteps, MinSteps)
	}
	if loc == nil {
		loc = time.UTC
	}
	end = end.In(loc)
	if !analytics.IntervalStart(end, iv, loc).Equal(end) {
		return nil, fmt.Errorf("%w: end %s is not the start of a %s", analytics.ErrBadQuery, end.Format(time.RFC3339), iv)
	}
	out := make([]Step, steps)
	to := end
	for i := steps - 1; i >= 0; i-- {
		from := analytics.IntervalStart(to.Add(-time.Nanosecond), iv, loc)
		out[i] = Step{From: from, To: to}
		to = from
	}
	return out, nil
}

// EmergingHotspots counts the events of each step per H3 cell of the
// zero-filled study area, computes the space-time Gi* of every bin and
// classifies every cell by the trend of its z-scores. Errors wrap
// analytics.ErrBadQuery, analytics.ErrUnknownUnit, ErrNotMeaningful or
// ErrTooFew, or ctx.Err() when ctx is done before the work ends.
func EmergingHotspots(ctx context.Context, snap *analytics.Snapshot, q EmergingQuery) (EmergingResult, error) {
	res := EmergingResult{Snapshot: snap.Version(), Res: q.Res, Interval: q.Interval, Alpha: q.Alpha}
	if err := cancelled(ctx, "emerging hot spots"); err != nil {
		return res, err
	}
	if res.Alpha == 0 {
		res.Alpha = DefaultAlpha
	}
	if res.Alpha <= 0 || res.Alpha >= 0.5 {
		return res, fmt.Errorf("%w: alpha %g: want 0 < alpha < 0.5", analytics.ErrBadQuery, res.Alpha)
	}
	k, err := checkHex(q.Res, q.K, q.Filter, q.Area)
	if err != nil {
		return res, err
	}
	res.K, res.NeighbourhoodKm = k, NeighbourhoodKm(q.Res, k)
	res.Conventions = emergingConventions(q.Res, k, res.Alpha)
	steps := q.Steps
	if steps == 0 {
		steps = DefaultSteps
	}
	if res.Steps, err = EmergingSteps(q.Interval, steps, q.End, q.Location); err != nil {
		return res, err
	}
	// Counts per step (one hexbin query each), then the study area.
	perStep := make([][]analytics.Hexbin, len(res.Steps))
	var all []analytics.Hexbin
	for i, st := range res.Steps {
		// One query is fast, but there are up to MaxSteps of them.
		if err := cancelled(ctx, "emerging hot spots"); err != nil {
			return res, err
		}
		p := analytics.Period{Label: st.From.Format("2006-01-02"), Kind: analytics.PeriodRange, From: st.From, To: st.To}
		b, err := snap.Hexbins(analytics.HexbinQuery{Res: q.Res, Period: p, Filter: q.Filter})
		if err != nil {
			return res, fmt.Errorf("emerging hot spots: step %s: %w", p.Label, err)
		}
		perStep[i] = b.Bins
		all = append(all, b.Bins...)
	}
	area := q.Area
	if len(area) == 0 {
		area = orb.MultiPolygon{q.Filter.BBox.ToPolygon()}
	}
	cells, err := StudyCells(ctx, area, q.Res, all)
	if err != nil {
		return res, err
	}
	if q.Filter.BBox != nil && len(q.Area) > 0 {
		cells = clipCells(cells, *q.Filter.BBox, sortedBins(all))
	}
	ix := newCellIndex(cells)
	counts := make([][]int64, len(res.Steps))
	for t, bins := range perStep {
		counts[t] = make([]int64, len(cells))
		for _, b := range bins {
			counts[t][ix.get(b.Cell)] = b.Count
			res.Steps[t].Events += b.Count
		}
		res.Events += res.Steps[t].Events
	}
	if err := checkMeaningful(res.Events, len(cells), "H3 cells",
		fmt.Sprintf("more periods, a coarser resolution than %d or a bigger unit", q.Res)); err != nil {
		return res, err
	}
	res.Cells, err = EmergingCells(ctx, cells, counts, k, res.Alpha)
	return res, err
}

// sortedBins sorts bins by cell and merges duplicates (counts summed).
func sortedBins(bins []analytics.Hexbin) []analytics.Hexbin {
	out := append([]analytics.Hexbin(nil), bins...)
	sortHexbins(out)
	j := 0
	for i := range out {
		if j > 0 && out[j-1].Cell == out[i].Cell {
			out[j-1].Count += out[i].Count
			continue
		}
		out[j] = out[i]
		j++
	}
	return out[:j]
}

func sortHexbins(b []analytics.Hexbin) {
	slices.SortFunc(b, func(x, y analytics.Hexbin) int { return cmp.Compare(x.Cell, y.Cell) })
}

func emergingConventions(res, k int, alpha float64) Conventions {
	return Conventions{
		Statistic: "space-time Getis-Ord Gi* of every bin (cell x step), mean and variance over the whole cube (as ArcGIS Emerging Hot Spot Analysis); " +
			fmt.Sprintf("Mann-Kendall trend of each cell's z-scores; categories at alpha %g", alpha),
		Weights: fmt.Sprintf("binary space-time neighbourhood: the cells within k=%d grid steps (~%.2f km at res %d) in the same step, "+
			"and the cell with the same cells in the previous step (neighbourhood time step 1); the bin itself is included", k, NeighbourhoodKm(res, k), res),
		Correction: "none across bins (the categories read the per-step p-values at alpha, as ArcGIS does)",
		Bins:       "category per cell: new, consecutive, intensifying, persistent, diminishing, sporadic, oscillating, historical hot or cold spot, or no pattern detected",
		StudyArea:  "zero-filled: every H3 cell whose centre lies in the unit (or bbox), in every step, plus any cell holding a selected event",
	}
}

// CubeWeights returns the space-time binary weights of a cube of steps x
// len(cells) bins (bin index t*len(cells)+i): the spatial k-ring
// neighbours of the cell in step t, and in step t-1 the cell itself and
// its k-ring neighbours (in that order: previous step first, unsorted).
// The bin itself is not listed (Gi* adds it). EmergingCells does not
// build it (spaceTimeGiStar visits the same links in place); it spells the
// neighbourhood out for tests and for analysts' own statistics. The cube
// may hold up to MaxCubeLinks links: it stops early, with an error
// wrapping ctx.Err(), when ctx is done; that is its only error.
func CubeWeights(ctx context.Context, space *Weights, steps int) (*Weights, error) {
	if err := cancelled(ctx, "cube weights"); err != nil {
		return nil, err
	}
	n := space.N
	w := &Weights{N: n * steps, Offsets: make([]int32, n*steps+1)}
	ns := len(space.Neighbors)
	w.Neighbors = make([]int32, 0, steps*ns+(steps-1)*(ns+n))
	cc := canceller{ctx: ctx}
	for t := range steps {
		base := int32(t * n)
		prev := base - int32(n)
		for i := range n {
			nb := space.Neighbors[space.Offsets[i]:space.Offsets[i+1]]
			if err := cc.step(1 + 2*len(nb)); err != nil {
				return nil, fmt.Errorf("cube weights: %w", err)
			}
			if t > 0 {
				w.Neighbors = append(w.Neighbors, prev+int32(i))
				for _, j := range nb {
					w.Neighbors = append(w.Neighbors, prev+j)
				}
			}
			for _, j := range nb {
				w.Neighbors = append(w.Neighbors, base+j)
			}
			w.Offsets[t*n+i+1] = int32(len(w.Neighbors))
		}
	}
	return w, nil
}

// spaceTimeGiStar is GiStar(ctx, y, CubeWeights(ctx, space, steps))
// without building the cube: it visits the links of every bin in the order
// CubeWeights lists them (binary weights, space.Values ignored), so the
// sums, and the z-scores, are bit for bit the same. A cube of MaxCubeLinks
// links would be a 400 MB allocation, made in one step that cannot look at
// ctx; here the memory is that of y and the result.
func spaceTimeGiStar(ctx context.Context, y []float64, space *Weights, steps int) (LocalG, error) {
	if err := space.validate(ctx); err != nil {
		return LocalG{}, fmt.Errorf("GiStar: %w", err)
	}
	n := space.N
	nb, err := checkSeries(ctx, y, n*steps)
	if err != nil {
		return LocalG{}, fmt.Errorf("GiStar: %w", err)
	}
	nf := float64(nb)
	mean, s2 := meanVariance(y)
	res := LocalG{Z: make([]float64, nb), P: make([]float64, nb)}
	cc := canceller{ctx: ctx}
	for t := range steps {
		base, prev := t*n, (t-1)*n
		for i := range n {
			row := space.Neighbors[space.Offsets[i]:space.Offsets[i+1]]
			if err := cc.step(1 + 2*len(row)); err != nil {
				return LocalG{}, fmt.Errorf("GiStar: %w", err)
			}
			b := base + i
			lag, wi, s1 := y[b], 1.0, 1.0
			if t > 0 {
				// The cell and its neighbours in the previous step: never
				// the bin itself.
				lag += y[prev+i]
				wi++
				s1++
				for _, j := range row {
					lag += y[prev+int(j)]
					wi++
					s1++
				}
			}
			for _, j := range row {
				if int(j) == i {
					continue // a self-link, ignored as GiStar does
				}
				lag += y[base+int(j)]
				wi++
				s1++
			}
			vg := s2 * (nf*s1 - wi*wi) / (nf - 1)
			z := (lag - wi*mean) / math.Sqrt(vg)
			if vg <= 0 {
				z = math.NaN()
			}
			res.Z[b] = z
			res.P[b] = twoSided(z)
		}
	}
	return res, nil
}

// EmergingCells runs the space-time Gi* and the per-cell classification
// on counts[t][i] (step t, cell i of cells: sorted distinct H3 cells of
// one resolution). Every stage (weights, Gi*, the per-cell trends) looks
// at ctx as it goes; errors wrap ctx.Err() when it is done before the work
// ends.
func EmergingCells(ctx context.Context, cells []uint64, counts [][]int64, k int, alpha float64) ([]EmergingCell, error) {
	if err := cancelled(ctx, "emerging cells"); err != nil {
		return nil, err
	}
	steps, n := len(counts), len(cells)
	if steps < 2 {
		return nil, fmt.Errorf("%w: %d steps: want at least %d", ErrNotMeaningful, steps, MinSteps)
	}
	y := make([]float64, steps*n)
	for t, row := range counts {
		if len(row) != n {
			return nil, fmt.Errorf("%w: step %d has %d counts for %d cells", analytics.ErrBadQuery, t, len(row), n)
		}
		for i, c := range row {
			y[t*n+i] = float64(c)
		}
	}
	ring := 3*k*(k+1) + 1
	if links := int64(steps) * int64(n) * int64(2*ring); links > MaxCubeLinks {
		return nil, fmt.Errorf("%w: the space-time cube (%d steps x %d cells, k %d) needs about %d million links (at most %d million): use fewer periods, a smaller k, a coarser resolution or a smaller unit",
			ErrNotMeaningful, steps, n, k, links/1_000_000, MaxCubeLinks/1_000_000)
	}
	if allEqual(y) {
		return nil, fmt.Errorf("%w: every bin of the cube has the same count: there is no pattern to test; use more periods or a bigger unit", ErrNotMeaningful)
	}
	space, err := HexWeights(ctx, cells, k)
	if err != nil {
		return nil, err
	}
	g, err := spaceTimeGiStar(ctx, y, space, steps)
	if err != nil {
		return nil, fmt.Errorf("space-time gi*: %w", err)
	}
	out := make([]EmergingCell, n)
	// The classification is independent per cell: two halves in parallel.
	parts := 1
	if n >= 2048 && runtime.GOMAXPROCS(0) > 1 {
		parts = 2
	}
	var wg sync.WaitGroup
	for pi := range parts {
		lo, hi := pi*n/parts, (pi+1)*n/parts
		wg.Go(func() {
			// One backing array per half for the series.
			zs := make([]float64, (hi-lo)*steps)
			ps := make([]float64, (hi-lo)*steps)
			cs := make([]int64, (hi-lo)*steps)
			cc := canceller{ctx: ctx}
			for i := lo; i < hi; i++ {
				// Mann-Kendall compares every pair of steps.
				if cc.step(steps*steps) != nil {
					return // ctx is done: the caller returns its error
				}
				o := (i - lo) * steps
				c := EmergingCell{Cell: cells[i], Z: zs[o : o+steps : o+steps], P: ps[o : o+steps : o+steps], Counts: cs[o : o+steps : o+steps]}
				for t := range steps {
					b := t*n + i
					c.Z[t], c.P[t], c.Counts[t] = g.Z[b], g.P[b], counts[t][i]
					c.Count += counts[t][i]
					if g.P[b] < alpha {
						if g.Z[b] > 0 {
							c.HotSteps++
						} else if g.Z[b] < 0 {
							c.ColdSteps++
						}
					}
				}
				c.Category, c.Trend = ClassifyEmerging(c.Z, c.P, alpha)
				out[i] = c
			}
		})
	}
	wg.Wait()
	if err := cancelled(ctx, "emerging cells"); err != nil {
		return nil, err
	}
	return out, nil
}
