package hotspot

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	orbgeo "github.com/paulmach/orb/geo"
	"github.com/uber/h3-go/v4"
)

// ErrNotMeaningful is wrapped by every error that refuses an analysis whose
// result would not be meaningful (too few events or areas, every value
// equal, an area too large for the resolution). The message says why and
// what to change (a wider period, a coarser resolution, a bigger unit).
// The server maps it to 422.
var ErrNotMeaningful = errors.New("hotspot analysis not meaningful")

// Minimums below which an analysis is refused with ErrNotMeaningful. Gi*
// z-scores rest on a normal approximation that needs a few dozen areas
// and events; with fewer, "hot spots" are noise.
const (
	MinEvents = 30 // events in the study area (and period)
	MinCells  = 30 // H3 cells in the study area
)

// MaxCells bounds the study area of one H3 analysis (e.g. a whole region
// at res 10 has about two million cells): choose a coarser resolution or a
// smaller unit above it.
const MaxCells = 250_000

// MaxK is the largest grid-disk radius accepted.
const MaxK = 10

// DefaultK is the grid-disk radius used when HexQuery.K is 0: a
// neighbourhood of roughly 1-2 km where the resolution allows it.
// Centre-to-centre spacing (sqrt(3) average edges) is about 14.8 km at res
// 5, 5.6 km at 6, 2.1 km at 7, 0.80 km at 8, 0.30 km at 9 and 0.11 km at
// 10; the radius of a k-ring is k times that. Res 5-8 use k=1 (the cell and
// its six neighbours: 0.8 km at res 8, the resolution of choice for a city);
// res 9 k=3 (~0.9 km, 37 cells); res 10 k=4 (~0.46 km, 61 cells: a 1 km
// ring would be 217 cells a neighbourhood). k=2 at res 8 (1.6 km) smooths
// a small city (~100 cells) so much that single-cell bozor hot spots fade.
func DefaultK(res int) int {
	switch {
	case res <= 8:
		return 1
	case res == 9:
		return 3
	}
	return 4
}

// NeighbourhoodKm is the approximate radius of a k-ring at res: k times the
// average centre-to-centre spacing (sqrt(3) edge lengths).
func NeighbourhoodKm(res, k int) float64 {
	return float64(k) * math.Sqrt(3) * h3.HexagonEdgeLengthAvgKm(res)
}

// Conventions documents how a result was computed; every response carries
// it so that analysts can reproduce the numbers.
type Conventions struct {
	Statistic  string `json:"statistic"`
	Weights    string `json:"weights"`
	Correction string `json:"correction"`
	Bins       string `json:"bins"`
	StudyArea  string `json:"study_area"`
}

// binsDoc explains the bin values.
const binsDoc = "bin -3..+3: hot (+) or cold (-) spot at 99% (3), 95% (2) or 90% (1) confidence, 0 not significant; " +
	"bin applies the Benjamini-Hochberg false discovery rate per confidence level, raw_bin the uncorrected p-values"

// HexQuery asks for Getis-Ord Gi* hot spots over H3 cells.
type HexQuery struct {
	// Res is the H3 resolution, analytics.MinHexbinRes..MaxHexbinRes.
	Res int
	// K is the grid-disk radius of a cell's neighbourhood (1..MaxK); 0
	// picks DefaultK(Res).
	K      int
	Period analytics.Period
	// Filter selects the events; Filter.Unit or Filter.BBox is required
	// (it is the study area).
	Filter analytics.Filter
	// Area is the boundary of Filter.Unit (lon/lat), required with a unit;
	// with only a bbox the box itself is the area. The study area is every
	// cell whose centre lies in Area (and, with both a unit and a bbox, in
	// the box), plus any cell holding a selected event.
	Area orb.MultiPolygon
}

// HexCell is one cell of a HexResult.
type HexCell struct {
	Cell  uint64
	Count int64
	// Z and P are the Gi* z-score and its two-sided p-value.
	Z, P float64
	// Bin is the FDR-corrected confidence bin (-3..+3), RawBin the
	// uncorrected one.
	Bin, RawBin int8
}

// HexResult answers a HexQuery. Cells covers the whole study area, cells
// without events included, sorted by cell index.
type HexResult struct {
	Snapshot uint64
	Period   analytics.Period
	Res, K   int
	// NeighbourhoodKm is the approximate radius of the k-ring.
	NeighbourhoodKm float64
	Cells           []HexCell
	// Events counts the selected events in the study area; NoLocation the
	// matching events without a location (not analysed).
	Events, NoLocation int64
	Conventions        Conventions
}

func hexConventions(res, k int) Conventions {
	return Conventions{
		Statistic: "Getis-Ord Gi* (each cell included in its own neighbourhood), z-scores with two-sided normal p-values",
		Weights: fmt.Sprintf("binary: the H3 cells within k=%d grid steps (k-ring, ~%.2f km at res %d), restricted to the study area",
			k, NeighbourhoodKm(res, k), res),
		Correction: "Benjamini-Hochberg false discovery rate, per confidence level (90, 95, 99%)",
		Bins:       binsDoc,
		StudyArea:  "zero-filled: every H3 cell whose centre lies in the unit (or bbox), with or without events, plus any cell holding a selected event",
	}
}

// HexHotspots computes Gi* over the zero-filled H3 cells of the study area
// (Filter.Unit with Area, or Filter.BBox) for the events of q.Period
// matching q.Filter. Errors wrap analytics.ErrBadQuery or ErrUnknownUnit
// (bad query), or ErrNotMeaningful, or ctx.Err() when ctx is done before
// the work ends.
func HexHotspots(ctx context.Context, snap *analytics.Snapshot, q HexQuery) (HexResult, error) {
	res := HexResult{Snapshot: snap.Version(), Period: q.Period, Res: q.Res}
	if err := cancelled(ctx, "hex hot spots"); err != nil {
		return res, err
	}
	k, err := checkHex(q.Res, q.K, q.Filter, q.Area)
	if err != nil {
		return res, err
	}
	res.K, res.NeighbourhoodKm, res.Conventions = k, NeighbourhoodKm(q.Res, k), hexConventions(q.Res, k)
	bins, err := snap.Hexbins(analytics.HexbinQuery{Res: q.Res, Period: q.Period, Filter: q.Filter})
	if err != nil {
		return res, fmt.Errorf("hex hot spots: %w", err)
	}
	res.NoLocation = bins.NoLocation
	area := q.Area
	if len(area) == 0 {
		area = orb.MultiPolygon{q.Filter.BBox.ToPolygon()}
	}
	cells, err := StudyCells(ctx, area, q.Res, bins.Bins)
	if err != nil {
		return res, err
	}
	if q.Filter.BBox != nil && len(q.Area) > 0 {
		cells = clipCells(cells, *q.Filter.BBox, bins.Bins)
	}
	counts := make([]int64, len(cells))
	j := 0
	for _, b := range bins.Bins { // both sorted by cell
		for cells[j] != b.Cell {
			j++
		}
		counts[j] = b.Count
		res.Events += b.Count
	}
	if err := checkMeaningful(res.Events, len(cells), "H3 cells",
		fmt.Sprintf("a wider period, a coarser resolution than %d or a bigger unit", q.Res)); err != nil {
		return res, err
	}
	res.Cells, err = GiStarCells(ctx, cells, counts, k)
	return res, err
}

// checkHex validates the resolution, k and the study area of a query and
// returns the effective k.
func checkHex(res, k int, f analytics.Filter, area orb.MultiPolygon) (int, error) {
	if res < analytics.MinHexbinRes || res > analytics.MaxHexbinRes {
		return 0, fmt.Errorf("%w: res %d: want %d..%d", analytics.ErrBadQuery, res, analytics.MinHexbinRes, analytics.MaxHexbinRes)
	}
	if k == 0 {
		k = DefaultK(res)
	}
	if k < 1 || k > MaxK {
		return 0, fmt.Errorf("%w: k %d: want 1..%d (0 for the default)", analytics.ErrBadQuery, k, MaxK)
	}
	switch {
	case f.Unit == "" && f.BBox == nil:
		return 0, fmt.Errorf("%w: a study area is required: filter unit or bbox", analytics.ErrBadQuery)
	case f.Unit != "" && len(area) == 0:
		return 0, fmt.Errorf("%w: unit %q has no boundary to fill with cells: import its boundary or use a bbox",
			ErrNotMeaningful, f.Unit)
	}
	return k, nil
}

// checkMeaningful refuses too few events or areas.
func checkMeaningful(events int64, areas int, what, change string) error {
	switch {
	case areas < MinCells:
		return fmt.Errorf("%w: the study area has %d %s (at least %d needed): use %s", ErrNotMeaningful, areas, what, MinCells, change)
	case events < MinEvents:
		return fmt.Errorf("%w: only %d events in the study area and period (at least %d needed): use %s", ErrNotMeaningful, events, MinEvents, change)
	}
	return nil
}

// StudyCells returns the sorted H3 cells at res whose centres lie in area,
// plus the cells of bins (cells holding events that are assigned to the
// unit but whose cell centre lies just outside its boundary). It refuses
// areas of more than MaxCells cells with ErrNotMeaningful.
//
// A large area is filled strip by strip (see fillCells) so that ctx is
// looked at every ten milliseconds or so; errors wrap ctx.Err() when it is
// done.
func StudyCells(ctx context.Context, area orb.MultiPolygon, res int, bins []analytics.Hexbin) ([]uint64, error) {
	if err := cancelled(ctx, "study cells"); err != nil {
		return nil, err
	}
	var km2 float64
	for _, p := range area {
		km2 += math.Abs(orbgeo.Area(p)) / 1e6
	}
	if est := km2 / h3.HexagonAreaAvgKm2(res); est > MaxCells {
		return nil, fmt.Errorf("%w: the study area (%.0f km²) has about %.0f H3 cells at res %d (at most %d): use a coarser resolution or a smaller unit",
			ErrNotMeaningful, km2, est, res, MaxCells)
	}
	cells, err := fillCells(ctx, area, res)
	if err != nil {
		return nil, err
	}
	for _, b := range bins {
		cells = append(cells, b.Cell)
	}
	slices.Sort(cells)
	cells = slices.Compact(cells)
	if len(cells) > MaxCells {
		return nil, fmt.Errorf("%w: the study area has %d H3 cells at res %d (at most %d): use a coarser resolution or a smaller unit",
			ErrNotMeaningful, len(cells), res, MaxCells)
	}
	return cells, nil
}

// fillStrip is the most cells (estimated from the area) that fillCells
// asks of H3 in one call: about 10 ms of work.
const fillStrip = 10_000

// fillCells is geo.PolygonToCells looking at ctx: one fill of a MaxCells
// area is a single call into the H3 library of about 300 ms that cannot be
// interrupted, so a polygon of more than fillStrip cells is cut into
// horizontal strips (clipped to bands of latitude) filled one at a time.
// The union is the same set of cells: a cell belongs to the strip holding
// its centre, and H3's point-in-polygon test casts rays along parallels,
// so the horizontal cut edges change nothing for a centre off the cut
// lines (a centre exactly on one is counted in both strips or, in theory,
// neither; cuts fall at arbitrary latitudes).
func fillCells(ctx context.Context, area orb.MultiPolygon, res int) ([]uint64, error) {
	var cells []uint64
	for _, p := range area {
		if err := cancelled(ctx, "study cells"); err != nil {
			return nil, err
		}
		strips := int(math.Ceil(math.Abs(orbgeo.Area(p)) / 1e6 / h3.HexagonAreaAvgKm2(res) / fillStrip))
		if strips <= 1 {
			part, err := geo.PolygonToCells(orb.MultiPolygon{p}, res)
			if err != nil {
				return nil, err
			}
			cells = append(cells, part...)
			continue
		}
		b := p.Bound()
		h := (b.Max[1] - b.Min[1]) / float64(strips)
		for s := range strips {
			if err := cancelled(ctx, "study cells"); err != nil {
				return nil, err
			}
			// The outer strips reach well beyond the polygon, so that
			// only the cuts between strips add edges.
			lo, hi := b.Min[1]+float64(s)*h, b.Min[1]+float64(s+1)*h
			if s == 0 {
				lo = b.Min[1] - 1
			}
			if s == strips-1 {
				hi = b.Max[1] + 1
			}
			box := orb.Bound{Min: orb.Point{b.Min[0] - 1, lo}, Max: orb.Point{b.Max[0] + 1, hi}}
			piece := clip.Polygon(box, p.Clone()) // clip uses its input as scratch space
			if len(piece) == 0 {
				continue
			}
			part, err := geo.PolygonToCells(orb.MultiPolygon{piece}, res)
			if err != nil {
				return nil, err
			}
			cells = append(cells, part...)
		}
	}
	if err := cancelled(ctx, "study cells"); err != nil {
		return nil, err
	}
	slices.Sort(cells)
	return slices.Compact(cells), nil
}

// clipCells keeps the cells whose centre lies in box, and the cells of
// bins (whose events are inside the box).
func clipCells(cells []uint64, box orb.Bound, bins []analytics.Hexbin) []uint64 {
	out := cells[:0]
	j := 0
	for _, c := range cells {
		for j < len(bins) && bins[j].Cell < c {
			j++
		}
		ll := h3.Cell(c).LatLng()
		if (j < len(bins) && bins[j].Cell == c) || box.Contains(orb.Point{ll.Lng, ll.Lat}) {
			out = append(out, c)
		}
	}
	return out
}

// cellIndex maps sorted cells to their positions with an open-addressing
// table (a Go map costs several times more at 100,000 cells x 19
// neighbours).
type cellIndex struct {
	keys  []uint64
	vals  []int32
	shift uint
}

func newCellIndex(cells []uint64) *cellIndex {
	size := 1024
	for size < 2*len(cells) {
		size *= 2
	}
	ix := &cellIndex{keys: make([]uint64, size), vals: make([]int32, size), shift: uint(64 - bitsLen(size-1))}
	for i, c := range cells {
		h := ix.slot(c)
		for ix.keys[h] != 0 {
			h = (h + 1) & (size - 1)
		}
		ix.keys[h], ix.vals[h] = c, int32(i)
	}
	return ix
}

func bitsLen(x int) int {
	n := 0
	for ; x > 0; x >>= 1 {
		n++
	}
	return n
}

func (ix *cellIndex) slot(c uint64) int { return int((c * 0x9E3779B97F4A7C15) >> ix.shift) }

// get returns the position of c, -1 when c is not in the set.
func (ix *cellIndex) get(c uint64) int32 {
	mask := len(ix.keys) - 1
	for h := ix.slot(c); ; h = (h + 1) & mask {
		switch ix.keys[h] {
		case c:
			return ix.vals[h]
		case 0:
			return -1
		}
	}
}

// HexWeights returns binary weights over cells (distinct H3 cells of one
// resolution): the neighbours of a cell are the other cells of the set
// within k grid steps, in GridDisk order (unsorted). The cell itself is
// not listed (Gi* adds it). Both halves look at ctx as they go (a grid
// disk at k 10 is 331 cells), and errors wrap ctx.Err() when it is done.
func HexWeights(ctx context.Context, cells []uint64, k int) (*Weights, error) {
	if k < 1 || k > MaxK {
		return nil, fmt.Errorf("%w: k %d: want 1..%d", analytics.ErrBadQuery, k, MaxK)
	}
	if err := cancelled(ctx, "hex weights"); err != nil {
		return nil, err
	}
	n := len(cells)
	ix := newCellIndex(cells)
	// Every row is written in place into one array of n full disks, then
	// the rows are moved down over the gaps of the cells whose disks leave
	// the set. A single allocation, made before the work, keeps the peak
	// memory at one upper bound; it is also the one step that cannot look
	// at ctx (a make of hundreds of megabytes that reuses freed memory
	// zeroes it first), so there is no second one (a join of parts) after
	// the work.
	maxNb := 3 * k * (k + 1) // a disk without its centre
	buf := make([]int32, n*maxNb)
	counts := make([]int32, n)
	// Two halves in parallel (GridDisk is a cgo call per cell).
	parts := 1
	if n >= 4096 && runtime.GOMAXPROCS(0) > 1 {
		parts = 2
	}
	var wg sync.WaitGroup
	for pi := range parts {
		lo, hi := pi*n/parts, (pi+1)*n/parts
		wg.Go(func() {
			cc := canceller{ctx: ctx}
			for i := lo; i < hi; i++ {
				// A disk cell costs tens of nanoseconds (cgo and the
				// index): count it as 16 units.
				if cc.step(16*(maxNb+1)) != nil {
					return // ctx is done: the caller returns its error
				}
				row := buf[i*maxNb : i*maxNb : (i+1)*maxNb]
				for _, c := range h3.GridDisk(h3.Cell(cells[i]), k) {
					if c == 0 || uint64(c) == cells[i] {
						continue
					}
					if j := ix.get(uint64(c)); j >= 0 {
						row = append(row, j)
					}
				}
				counts[i] = int32(len(row))
			}
		})
	}
	wg.Wait()
	if err := cancelled(ctx, "hex weights"); err != nil {
		return nil, err
	}
	w := &Weights{N: n, Offsets: make([]int32, n+1)}
	cc := canceller{ctx: ctx}
	total := 0
	for i, c := range counts {
		if err := cc.step(1 + int(c)); err != nil {
			return nil, fmt.Errorf("hex weights: %w", err)
		}
		// total <= i*maxNb: the move is down (copy handles the overlap).
		if from := i * maxNb; from != total {
			copy(buf[total:total+int(c)], buf[from:from+int(c)])
		}
		total += int(c)
		w.Offsets[i+1] = int32(total)
	}
	w.Neighbors = buf[:total:total]
	return w, nil
}

// GiStarCells computes Gi* with FDR and raw bins for counts over cells
// (sorted distinct H3 cells of one resolution) with k-ring weights. It
// refuses (ErrNotMeaningful) counts that are all equal. Errors wrap
// ctx.Err() when ctx is done before the work ends.
func GiStarCells(ctx context.Context, cells []uint64, counts []int64, k int) ([]HexCell, error) {
	if err := cancelled(ctx, "gi* cells"); err != nil {
		return nil, err
	}
	if len(cells) != len(counts) {
		return nil, fmt.Errorf("%w: %d cells but %d counts", analytics.ErrBadQuery, len(cells), len(counts))
	}
	y := make([]float64, len(counts))
	for i, c := range counts {
		y[i] = float64(c)
	}
	if allEqual(y) {
		return nil, fmt.Errorf("%w: every one of the %d cells has the same count: there is no pattern to test; use a wider period or a bigger unit",
			ErrNotMeaningful, len(y))
	}
	w, err := HexWeights(ctx, cells, k)
	if err != nil {
		return nil, err
	}
	g, err := GiStar(ctx, y, w)
	if err != nil {
		return nil, fmt.Errorf("gi*: %w", err)
	}
	fdr, raw := FDRBins(g.Z, g.P), RawBins(g.Z, g.P)
	out := make([]HexCell, len(cells))
	for i, c := range cells {
		out[i] = HexCell{Cell: c, Count: counts[i], Z: g.Z[i], P: g.P[i], Bin: fdr[i], RawBin: raw[i]}
	}
	return out, nil
}

func allEqual(y []float64) bool {
	if len(y) == 0 {
		return true
	}
	for _, v := range y[1:] {
		if v != y[0] {
			return false
		}
	}
	return true
}

// SyntheticCube returns n contiguous H3 cells at res 9 (a hexagonal disk
// around Qarshi, sorted) and steps x n event counts: Poisson noise (mean
// 0.3) plus twenty Gaussian hot spots of ~0.5 km, half of them growing
// over the steps. It is deterministic for seed; benchmarks and examples
// use it.
func SyntheticCube(n, steps int, seed uint64) ([]uint64, [][]int64) {
	origin := h3.LatLngToCell(h3.LatLng{Lat: 38.86, Lng: 65.79}, 9)
	r := 0
	for 3*r*(r+1)+1 < n {
		r++
	}
	var cells []uint64
	for _, c := range h3.GridDisk(origin, r) {
		if c != 0 {
			cells = append(cells, uint64(c))
		}
	}
	slices.Sort(cells)
	cells = cells[:min(n, len(cells))]
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	type spot struct{ lat, lng, amp, growth float64 }
	spots := make([]spot, 20)
	for i := range spots {
		ll := h3.Cell(cells[rng.IntN(len(cells))]).LatLng()
		spots[i] = spot{ll.Lat, ll.Lng, 1 + 4*rng.Float64(), float64(i % 2)}
	}
	base := make([][2]float64, len(cells)) // static and growing mean
	for i, c := range cells {
		ll := h3.Cell(c).LatLng()
		base[i][0] = 0.3
		for _, s := range spots {
			dy, dx := (ll.Lat-s.lat)*111, (ll.Lng-s.lng)*111*math.Cos(s.lat*math.Pi/180)
			bump := s.amp * math.Exp(-(dx*dx+dy*dy)/(2*0.5*0.5))
			base[i][int(s.growth)] += bump
		}
	}
	counts := make([][]int64, steps)
	for t := range steps {
		counts[t] = make([]int64, len(cells))
		f := float64(t+1) / float64(steps)
		for i := range cells {
			counts[t][i] = poisson(rng, base[i][0]+f*base[i][1])
		}
	}
	return cells, counts
}

// poisson draws from a Poisson distribution (Knuth; means here are small).
func poisson(rng *rand.Rand, mean float64) int64 {
	l, k, p := math.Exp(-mean), int64(0), 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
