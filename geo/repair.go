package geo

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/peterstace/simplefeatures/geom"
)

// ErrRepair is returned when an invalid geometry could not be made valid.
var ErrRepair = errors.New("geometry could not be made valid")

// ValidateMultiPolygon checks mp against the OGC simple-features rules
// (rings simple and closed, holes inside shells, parts not overlapping, ...)
// and returns a description of the first violation, or nil.
func ValidateMultiPolygon(mp orb.MultiPolygon) error {
	return toSF(mp).Validate()
}

// MakeValid returns a valid version of mp and a description of what was
// wrong ("" when mp was already valid). Invalid input is rebuilt by the
// even-odd rule: every ring is noded at its self-intersections and split
// into simple loops, and the loops of all rings and parts are combined by
// symmetric difference. This is what PostGIS ST_MakeValid does by default
// (method=linework): a part nested in another part becomes a hole (the usual
// enclave city inside its district), a bow-tie becomes two triangles.
func MakeValid(mp orb.MultiPolygon) (orb.MultiPolygon, string, error) {
	return makeValid(mp)
}

func makeValid(mp orb.MultiPolygon) (orb.MultiPolygon, string, error) {
	sf := toSF(mp)
	verr := sf.Validate()
	if verr == nil {
		return fromSF(sf.AsGeometry()), "", nil
	}
	before := sf.Area()
	g, err := evenOdd(mp)
	if err != nil {
		// Second chance: snap to a 1e-9 degree grid (0.1 mm) and retry.
		snapped := fromSF(sf.SnapToGrid(9).AsGeometry())
		if g, err = evenOdd(snapped); err != nil {
			return nil, "", fmt.Errorf("%w: %v (invalid because: %v)", ErrRepair, err, verr)
		}
	}
	if err := g.Validate(); err != nil {
		return nil, "", fmt.Errorf("%w: result still invalid: %v (invalid because: %v)", ErrRepair, err, verr)
	}
	out := fromSF(g)
	if len(out) == 0 {
		return nil, "", fmt.Errorf("%w: nothing left (invalid because: %v)", ErrRepair, verr)
	}
	return out, fmt.Sprintf("%v; rebuilt by the even-odd rule: %d part(s) -> %d, area %.6g -> %.6g deg²",
		verr, len(mp), len(out), before, g.Area()), nil
}

// evenOdd combines the simple loops of every ring by symmetric difference.
func evenOdd(mp orb.MultiPolygon) (geom.Geometry, error) {
	var loops []geom.Polygon
	for _, poly := range mp {
		for _, ring := range poly {
			single := geom.NewPolygon([]geom.LineString{ringToSF(ring)})
			if single.Validate() == nil {
				loops = append(loops, single.ForceCCW())
				continue
			}
			for _, l := range splitLoops(nodeRing(ring)) {
				loops = append(loops, geom.NewPolygon([]geom.LineString{ringToSF(l)}).ForceCCW())
			}
		}
	}
	// Largest first keeps intermediate results simple (holes cut from
	// their shell rather than shells added around holes).
	slices.SortFunc(loops, func(a, b geom.Polygon) int {
		aa, ba := a.Area(), b.Area()
		switch {
		case aa > ba:
			return -1
		case aa < ba:
			return 1
		}
		return 0
	})
	var acc geom.Geometry
	for i, l := range loops {
		if i == 0 {
			acc = l.AsGeometry()
			continue
		}
		var err error
		if acc, err = geom.SymmetricDifference(acc, l.AsGeometry()); err != nil {
			return geom.Geometry{}, err
		}
	}
	return acc, nil
}

func ringToSF(r orb.Ring) geom.LineString {
	flat := make([]float64, 0, 2*len(r))
	for _, p := range r {
		flat = append(flat, p[0], p[1])
	}
	return geom.NewLineString(geom.NewSequence(flat, geom.DimXY))
}

func toSF(mp orb.MultiPolygon) geom.MultiPolygon {
	polys := make([]geom.Polygon, len(mp))
	for i, p := range mp {
		rings := make([]geom.LineString, len(p))
		for j, r := range p {
			rings[j] = ringToSF(r)
		}
		polys[i] = geom.NewPolygon(rings)
	}
	return geom.NewMultiPolygon(polys)
}

// fromSF extracts the polygons of g, exterior rings counter-clockwise.
func fromSF(g geom.Geometry) orb.MultiPolygon {
	var out orb.MultiPolygon
	addPoly := func(p geom.Polygon) {
		if p.IsEmpty() {
			return
		}
		p = p.ForceCCW()
		var op orb.Polygon
		for _, r := range p.DumpRings() {
			seq := r.Coordinates()
			ring := make(orb.Ring, seq.Length())
			for i := range ring {
				xy := seq.GetXY(i)
				ring[i] = orb.Point{xy.X, xy.Y}
			}
			op = append(op, ring)
		}
		out = append(out, op)
	}
	var walk func(g geom.Geometry)
	walk = func(g geom.Geometry) {
		switch g.Type() {
		case geom.TypePolygon:
			addPoly(g.MustAsPolygon())
		case geom.TypeMultiPolygon:
			for _, p := range g.MustAsMultiPolygon().Dump() {
				addPoly(p)
			}
		case geom.TypeGeometryCollection:
			gc := g.MustAsGeometryCollection()
			for i := 0; i < gc.NumGeometries(); i++ {
				walk(gc.GeometryN(i))
			}
		}
	}
	walk(g)
	return out
}

// split is a point inserted into segment seg at parameter t.
type split struct {
	t float64
	p orb.Point
}

// nodeRing inserts every self-intersection point of the closed ring r as a
// vertex of both segments involved, so that afterwards segments meet only
// at vertices. Segments are swept by their minimum x.
func nodeRing(r orb.Ring) orb.Ring {
	n := len(r) - 1 // segments
	if n < 3 {
		return r
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	minX := func(i int) float64 { return math.Min(r[i][0], r[i+1][0]) }
	maxX := func(i int) float64 { return math.Max(r[i][0], r[i+1][0]) }
	slices.SortFunc(order, func(a, b int) int {
		switch da, db := minX(a), minX(b); {
		case da < db:
			return -1
		case da > db:
			return 1
		}
		return 0
	})
	splits := make(map[int][]split)
	for oi, i := range order {
		a, b := r[i], r[i+1]
		iMaxX := maxX(i)
		for _, j := range order[oi+1:] {
			if minX(j) > iMaxX {
				break
			}
			c, d := r[j], r[j+1]
			if math.Max(c[1], d[1]) < math.Min(a[1], b[1]) || math.Min(c[1], d[1]) > math.Max(a[1], b[1]) {
				continue
			}
			intersectSegments(i, a, b, j, c, d, splits)
		}
	}
	if len(splits) == 0 {
		return r
	}
	out := make(orb.Ring, 0, len(r)+2*len(splits))
	for i := range n {
		out = append(out, r[i])
		ss := splits[i]
		slices.SortFunc(ss, func(x, y split) int {
			switch {
			case x.t < y.t:
				return -1
			case x.t > y.t:
				return 1
			}
			return 0
		})
		for _, s := range ss {
			if out[len(out)-1] != s.p {
				out = append(out, s.p)
			}
		}
	}
	if out[len(out)-1] != r[0] {
		out = append(out, r[0])
	}
	return out
}

func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

// param returns where p lies along a->b (0 at a, 1 at b).
func param(a, b, p orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	if math.Abs(dx) >= math.Abs(dy) {
		return (p[0] - a[0]) / dx
	}
	return (p[1] - a[1]) / dy
}

func intersectSegments(i int, a, b orb.Point, j int, c, d orb.Point, splits map[int][]split) {
	o1, o2 := orient(a, b, c), orient(a, b, d)
	o3, o4 := orient(c, d, a), orient(c, d, b)
	if ((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0)) {
		t := o3 / (o3 - o4) // along a->b
		p := orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
		if p == a || p == b || p == c || p == d {
			// Rounded onto an endpoint: insert that endpoint in the other.
			if p == a || p == b {
				splits[j] = append(splits[j], split{param(c, d, p), p})
			} else {
				splits[i] = append(splits[i], split{t, p})
			}
			return
		}
		splits[i] = append(splits[i], split{t, p})
		splits[j] = append(splits[j], split{param(c, d, p), p})
		return
	}
	// Endpoints touching the interior of the other segment (T-junctions,
	// spikes and collinear overlaps).
	onSeg := func(p, q, x orb.Point, o float64) (float64, bool) {
		if o != 0 || x == p || x == q {
			return 0, false
		}
		t := param(p, q, x)
		return t, t > 0 && t < 1
	}
	if t, ok := onSeg(a, b, c, o1); ok {
		splits[i] = append(splits[i], split{t, c})
	}
	if t, ok := onSeg(a, b, d, o2); ok {
		splits[i] = append(splits[i], split{t, d})
	}
	if t, ok := onSeg(c, d, a, o3); ok {
		splits[j] = append(splits[j], split{t, a})
	}
	if t, ok := onSeg(c, d, b, o4); ok {
		splits[j] = append(splits[j], split{t, b})
	}
}

// splitLoops cuts a noded closed ring at every repeated vertex into simple
// closed loops, dropping loops without area.
func splitLoops(r orb.Ring) []orb.Ring {
	var loops []orb.Ring
	pos := make(map[orb.Point]int, len(r))
	stack := make([]orb.Point, 0, len(r))
	emit := func(l []orb.Point) {
		if len(l) < 4 {
			return
		}
		ring := orb.Ring(slices.Clone(l))
		if planar.Area(ring) == 0 {
			return
		}
		loops = append(loops, ring)
	}
	for _, p := range r {
		if k, ok := pos[p]; ok {
			emit(append(stack[k:len(stack):len(stack)], p))
			for _, q := range stack[k+1:] {
				delete(pos, q)
			}
			stack = stack[:k+1]
			continue
		}
		pos[p] = len(stack)
		stack = append(stack, p)
	}
	return loops
}
