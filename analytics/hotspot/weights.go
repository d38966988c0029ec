package hotspot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// Sentinel errors. Every error returned by this package wraps one of them.
var (
	// ErrTooFew reports fewer than three locations (or time steps) or a
	// variable with no variation; the statistics are undefined.
	ErrTooFew = errors.New("hotspot: too few locations or no variation")
	// ErrConstant reports a variable whose values are all equal. It wraps
	// ErrTooFew, so errors.Is(err, ErrTooFew) also holds.
	ErrConstant = fmt.Errorf("all values equal: %w", ErrTooFew)
	// ErrLength reports a value vector whose length differs from Weights.N.
	ErrLength = errors.New("hotspot: length mismatch")
	// ErrWeights reports malformed spatial weights.
	ErrWeights = errors.New("hotspot: invalid weights")
	// ErrNonFinite reports a NaN or infinite input value.
	ErrNonFinite = errors.New("hotspot: non-finite value")
	// ErrNoNeighbors reports weights without a single link.
	ErrNoNeighbors = errors.New("hotspot: weights have no links")
)

// Weights are spatial weights in CSR form over n locations 0..n-1.
//
// The neighbours of location i are Neighbors[Offsets[i]:Offsets[i+1]], and
// when Values is not nil their weights are the same range of Values. A nil
// Values means binary weights (every link weighs 1). Weights are treated as
// immutable by every function of this package.
type Weights struct {
	N         int
	Offsets   []int32 // len N+1; neighbours of i are Neighbors[Offsets[i]:Offsets[i+1]]
	Neighbors []int32
	Values    []float64 // nil = binary (all 1); else same length as Neighbors
}

// NewBinaryWeights builds binary weights from neighbour lists: neighbors[i]
// lists the neighbours of location i. It rejects out-of-range indexes,
// self-links and duplicates. Neighbour lists are copied and sorted;
// asymmetric lists are kept as given (k-nearest-neighbour style).
func NewBinaryWeights(neighbors [][]int32) (*Weights, error) {
	n := len(neighbors)
	total := 0
	for _, nb := range neighbors {
		total += len(nb)
	}
	if total > math.MaxInt32 {
		return nil, fmt.Errorf("%d links: %w", total, ErrWeights)
	}
	w := &Weights{N: n, Offsets: make([]int32, n+1), Neighbors: make([]int32, 0, total)}
	for i, nb := range neighbors {
		start := len(w.Neighbors)
		w.Neighbors = append(w.Neighbors, nb...)
		row := w.Neighbors[start:]
		slices.Sort(row)
		for k, j := range row {
			switch {
			case j < 0 || int(j) >= n:
				return nil, fmt.Errorf("location %d: neighbour %d out of range [0,%d): %w", i, j, n, ErrWeights)
			case int(j) == i:
				return nil, fmt.Errorf("location %d: self-link: %w", i, ErrWeights)
			case k > 0 && row[k-1] == j:
				return nil, fmt.Errorf("location %d: duplicate neighbour %d: %w", i, j, ErrWeights)
			}
		}
		w.Offsets[i+1] = int32(len(w.Neighbors))
	}
	return w, nil
}

// Validate checks the CSR structure: offsets, index ranges and the length
// of Values. It does not reject self-links (see GiStar and Gi for how they
// are treated).
func (w *Weights) Validate() error {
	return w.validate(context.Background())
}

// validate is Validate looking at ctx every checkEvery entries: weights
// may hold tens of millions of links.
func (w *Weights) validate(ctx context.Context) error {
	if w == nil {
		return fmt.Errorf("nil weights: %w", ErrWeights)
	}
	if w.N < 0 || len(w.Offsets) != w.N+1 {
		return fmt.Errorf("len(Offsets) = %d, want N+1 = %d: %w", len(w.Offsets), w.N+1, ErrWeights)
	}
	if w.Offsets[0] != 0 || int(w.Offsets[w.N]) != len(w.Neighbors) {
		return fmt.Errorf("offsets do not span Neighbors: %w", ErrWeights)
	}
	for i := range w.N {
		if i&(checkEvery-1) == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if w.Offsets[i+1] < w.Offsets[i] {
			return fmt.Errorf("offsets decrease at %d: %w", i, ErrWeights)
		}
	}
	for k, j := range w.Neighbors {
		if k&(checkEvery-1) == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if j < 0 || int(j) >= w.N {
			return fmt.Errorf("neighbour %d out of range [0,%d): %w", j, w.N, ErrWeights)
		}
	}
	if w.Values != nil {
		if len(w.Values) != len(w.Neighbors) {
			return fmt.Errorf("len(Values) = %d, want %d: %w", len(w.Values), len(w.Neighbors), ErrWeights)
		}
		for k, v := range w.Values {
			if k&(checkEvery-1) == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("weight %v: %w", v, ErrWeights)
			}
		}
	}
	return nil
}

// Row returns the neighbours of location i and their weights (nil weights
// for binary weights).
func (w *Weights) Row(i int) (nb []int32, values []float64) {
	a, b := w.Offsets[i], w.Offsets[i+1]
	if w.Values != nil {
		return w.Neighbors[a:b], w.Values[a:b]
	}
	return w.Neighbors[a:b], nil
}

// weight returns the weight of link k.
func (w *Weights) weight(k int32) float64 {
	if w.Values == nil {
		return 1
	}
	return w.Values[k]
}

// Cardinalities returns the number of neighbours of each location.
func (w *Weights) Cardinalities() []int {
	c := make([]int, w.N)
	for i := range w.N {
		c[i] = int(w.Offsets[i+1] - w.Offsets[i])
	}
	return c
}

// Links returns the number of links (non-zero entries).
func (w *Weights) Links() int { return len(w.Neighbors) }

// RowStandardized returns a copy whose weights in each row sum to 1
// (spdep style "W", esda transform "R"). Rows without neighbours stay
// empty. The neighbour structure is shared with w.
func (w *Weights) RowStandardized() *Weights {
	out := &Weights{N: w.N, Offsets: w.Offsets, Neighbors: w.Neighbors, Values: make([]float64, len(w.Neighbors))}
	for i := range w.N {
		a, b := w.Offsets[i], w.Offsets[i+1]
		s := 0.0
		for k := a; k < b; k++ {
			s += w.weight(k)
		}
		for k := a; k < b; k++ {
			if s != 0 {
				out.Values[k] = w.weight(k) / s
			}
		}
	}
	return out
}

// DistanceBand returns binary weights linking i and j iff
// lower < dist(i, j) <= upper in plane (Euclidean) coordinates — the bounds
// of spdep's dnearneigh(d1 = lower, d2 = upper). Use lower = 0 for esda's
// DistanceBand(threshold = upper) (coincident points are then not
// neighbours; pass a negative lower to link them). It buckets points in a
// grid of cell size upper, so the cost is about O(n + links).
func DistanceBand(xy [][2]float64, lower, upper float64) *Weights {
	n := len(xy)
	w := &Weights{N: n, Offsets: make([]int32, n+1)}
	if n == 0 || !(upper > 0) || math.IsInf(upper, 0) {
		return w
	}
	type key struct{ x, y int64 }
	cell := func(p [2]float64) key {
		return key{int64(math.Floor(p[0] / upper)), int64(math.Floor(p[1] / upper))}
	}
	grid := make(map[key][]int32, n)
	for i, p := range xy {
		k := cell(p)
		grid[k] = append(grid[k], int32(i))
	}
	row := make([]int32, 0, 64)
	for i, p := range xy {
		row = row[:0]
		k := cell(p)
		for dx := int64(-1); dx <= 1; dx++ {
			for dy := int64(-1); dy <= 1; dy++ {
				for _, j := range grid[key{k.x + dx, k.y + dy}] {
					if int(j) == i {
						continue
					}
					d := math.Hypot(xy[j][0]-p[0], xy[j][1]-p[1])
					if d > lower && d <= upper {
						row = append(row, j)
					}
				}
			}
		}
		slices.Sort(row)
		w.Neighbors = append(w.Neighbors, row...)
		w.Offsets[i+1] = int32(len(w.Neighbors))
	}
	return w
}

// QueenContiguity returns binary queen-contiguity weights: two polygons
// are neighbours when they share at least one boundary point. A shared
// point is either a pair of vertices within tol of each other (in the
// units of the coordinates, degrees for lon/lat; spdep poly2nb's snap) or
// a vertex of one polygon lying within tol of an edge of the other (so
// T-junctions and edges digitised with different vertices still count).
// tol <= 0 means exact coincidence (distance 0).
//
// Vertices and edges are bucketed in a uniform grid, so the cost is about
// linear in the number of vertices for ordinary boundaries (a region's
// detailed mahalla boundaries have hundreds of thousands). It stops early,
// with an error wrapping ctx.Err(), when ctx is done; that is its only
// error.
func QueenContiguity(ctx context.Context, polys []orb.MultiPolygon, tol float64) (*Weights, error) {
	if err := cancelled(ctx, "queen contiguity"); err != nil {
		return nil, err
	}
	if tol < 0 || math.IsNaN(tol) {
		tol = 0
	}
	n := len(polys)
	type vtx struct {
		p    orb.Point
		poly int32
	}
	type seg struct {
		a, b orb.Point
		poly int32
	}
	var verts []vtx
	var segs []seg
	var totalLen float64
	cc := canceller{ctx: ctx}
	stop := func(n int) error {
		if err := cc.step(n); err != nil {
			return fmt.Errorf("queen contiguity: %w", err)
		}
		return nil
	}
	for i, mp := range polys {
		if err := stop(1); err != nil {
			return nil, err
		}
		for _, pg := range mp {
			for _, r := range pg {
				for k, p := range r {
					// a closed ring repeats its first point; skip the duplicate vertex
					if k == len(r)-1 && len(r) > 1 && p == r[0] {
					} else {
						verts = append(verts, vtx{p, int32(i)})
					}
					if k > 0 && r[k-1] != p {
						segs = append(segs, seg{r[k-1], p, int32(i)})
						totalLen += math.Hypot(p[0]-r[k-1][0], p[1]-r[k-1][1])
					}
				}
			}
		}
	}
	pairs := make(map[[2]int32]struct{})
	add := func(a, b int32) {
		if a == b {
			return
		}
		if a > b {
			a, b = b, a
		}
		pairs[[2]int32{a, b}] = struct{}{}
	}
	// Grid cell size: at least 2*tol, about the mean edge length.
	h := 2 * tol
	if len(segs) > 0 {
		h = math.Max(h, totalLen/float64(len(segs)))
	}
	if !(h > 0) {
		h = 1
	}
	type key struct{ x, y int64 }
	cell := func(x, y float64) key { return key{int64(math.Floor(x / h)), int64(math.Floor(y / h))} }

	// 1. vertex-vertex within tol
	vgrid := make(map[key][]int32, len(verts))
	for k, v := range verts {
		if err := stop(1); err != nil {
			return nil, err
		}
		c := cell(v.p[0], v.p[1])
		vgrid[c] = append(vgrid[c], int32(k))
	}
	for _, v := range verts {
		// Nine grid cells of a few vertices each: count it as ten units.
		if err := stop(10); err != nil {
			return nil, err
		}
		c := cell(v.p[0], v.p[1])
		for dx := int64(-1); dx <= 1; dx++ {
			for dy := int64(-1); dy <= 1; dy++ {
				for _, k := range vgrid[key{c.x + dx, c.y + dy}] {
					u := verts[k]
					if u.poly == v.poly {
						continue
					}
					if math.Hypot(u.p[0]-v.p[0], u.p[1]-v.p[1]) <= tol {
						add(u.poly, v.poly)
					}
				}
			}
		}
	}
	// 2. vertex on another polygon's edge within tol
	// Each edge is registered in the 3x3 cells around sample points spaced
	// h/2 along it: a vertex within tol <= h/2 of the edge is within
	// tol + h/4 < h of a sample, so its own cell holds the edge.
	sgrid := make(map[key][]int32, 4*len(segs))
	var cells []key
	for k, s := range segs {
		cells = cells[:0]
		steps := int(math.Ceil(math.Hypot(s.b[0]-s.a[0], s.b[1]-s.a[1])/(h/2))) + 1
		if err := stop(9 * (steps + 1)); err != nil {
			return nil, err
		}
		for q := 0; q <= steps; q++ {
			f := float64(q) / float64(steps)
			c := cell(s.a[0]+f*(s.b[0]-s.a[0]), s.a[1]+f*(s.b[1]-s.a[1]))
			for dx := int64(-1); dx <= 1; dx++ {
				for dy := int64(-1); dy <= 1; dy++ {
					cells = append(cells, key{c.x + dx, c.y + dy})
				}
			}
		}
		slices.SortFunc(cells, func(a, b key) int {
			if a.x != b.x {
				return cmp.Compare(a.x, b.x)
			}
			return cmp.Compare(a.y, b.y)
		})
		for _, c := range slices.Compact(cells) {
			sgrid[c] = append(sgrid[c], int32(k))
		}
	}
	for _, v := range verts {
		cand := sgrid[cell(v.p[0], v.p[1])]
		if err := stop(1 + len(cand)); err != nil {
			return nil, err
		}
		for _, k := range cand {
			s := segs[k]
			if s.poly == v.poly {
				continue
			}
			a, b := s.poly, v.poly
			if a > b {
				a, b = b, a
			}
			if _, ok := pairs[[2]int32{a, b}]; ok {
				continue
			}
			if segDist(v.p, s.a, s.b) <= tol {
				add(a, b)
			}
		}
	}
	lists := make([][]int32, n)
	for p := range pairs {
		lists[p[0]] = append(lists[p[0]], p[1])
		lists[p[1]] = append(lists[p[1]], p[0])
	}
	w, err := NewBinaryWeights(lists)
	if err != nil {
		panic("hotspot: QueenContiguity built invalid weights: " + err.Error())
	}
	return w, nil
}

// segDist is the distance from p to the segment ab.
func segDist(p, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = ((p[0]-a[0])*dx + (p[1]-a[1])*dy) / l2
		t = math.Max(0, math.Min(1, t))
	}
	return math.Hypot(p[0]-(a[0]+t*dx), p[1]-(a[1]+t*dy))
}

// checkInput validates y against w and returns n; it returns ctx's error
// when ctx is done (before or while it checks the weights).
func checkValues(ctx context.Context, y []float64, w *Weights) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := w.validate(ctx); err != nil {
		return 0, err
	}
	return checkSeries(ctx, y, w.N)
}

// checkSeries validates the n values of y (finite, at least three, not all
// equal) and returns n; it returns ctx's error when ctx is done.
func checkSeries(ctx context.Context, y []float64, n int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(y) != n {
		return 0, fmt.Errorf("len(y) = %d, weights N = %d: %w", len(y), n, ErrLength)
	}
	if len(y) < 3 {
		return 0, fmt.Errorf("%d locations: %w", len(y), ErrTooFew)
	}
	constant := true
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("y[%d] = %v: %w", i, v, ErrNonFinite)
		}
		if v != y[0] {
			constant = false
		}
	}
	if constant {
		return 0, fmt.Errorf("%d locations: %w", len(y), ErrConstant)
	}
	return len(y), nil
}
