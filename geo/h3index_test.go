package geo

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/uber/h3-go/v4"
)

// h3Ref is the reference: h3-go's (cgo) LatLngToCell.
func h3Ref(lat, lon float64, res int) uint64 {
	return uint64(h3.LatLngToCell(h3.LatLng{Lat: lat, Lng: lon}, res))
}

// randomSpherePoint is uniform on the sphere (degrees).
func randomSpherePoint(rng *rand.Rand) (lat, lon float64) {
	return math.Asin(rng.Float64()*2-1) * 180 / math.Pi, rng.Float64()*360 - 180
}

// compareAll checks LatLngToCellGo and LatLngToCells against h3-go at
// resolutions lo..hi and returns a description of the first mismatch.
func compareAll(lat, lon float64, lo, hi int) error {
	var cells [16]uint64
	if err := LatLngToCells(lat, lon, lo, hi, cells[:]); err != nil {
		return fmt.Errorf("LatLngToCells(%v, %v): %v", lat, lon, err)
	}
	// A subset with gaps, different for every point: LatLngToCellSet.
	set := ResolutionSet(math.Float64bits(lat*lon)>>17) & ResolutionRange(lo, hi)
	var sub [16]uint64
	if set != 0 {
		if err := LatLngToCellSet(lat, lon, set, &sub); err != nil {
			return fmt.Errorf("LatLngToCellSet(%v, %v, %#x): %v", lat, lon, uint16(set), err)
		}
	}
	for res := lo; res <= hi; res++ {
		want := h3Ref(lat, lon, res)
		got, err := LatLngToCellGo(lat, lon, res)
		if err != nil || got != want || cells[res-lo] != want || (set.Has(res) && sub[res] != want) {
			return fmt.Errorf("(%v, %v) res %d: LatLngToCellGo %x (%v), LatLngToCells %x, LatLngToCellSet(%#x) %x, h3-go %x",
				lat, lon, res, got, err, cells[res-lo], uint16(set), sub[res], want)
		}
	}
	return nil
}

// h3Entry is the face and res-0 IJK table entry the point walks up to at res.
func h3Entry(lat, lon float64, res int) (face, entry int) {
	p, _ := projectH3(lat, lon, true, true)
	r := p.r0
	for range res {
		r = x87Mul(r, x87Sqrt7)
	}
	var c axial
	if !p.centre {
		cos, sin := p.cos2, p.sin2
		if res%2 == 1 {
			cos, sin = p.cos3, p.sin3
		}
		c = hex2dToAxial(r*cos, r*sin)
	}
	c, _ = walkUp(c, res, nil)
	i, j, k := c.ijk()
	return p.face, i*9 + j*3 + k
}

// The property test: 1,000,000 random points uniform on the sphere
// (seeded), every resolution 0..15, both functions against h3-go, on two
// goroutines (a fifth with -short); the first 200,000 also count the
// face/IJK table entries they exercise.

func TestLatLngToCellGoMatchesH3AllResolutions(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 200_000
	}
	comparePoints(t, 200_000, 0, 15, 1, true)
	comparePoints(t, n-200_000, 0, 15, 2, false)
}

// comparePoints compares n random points at resolutions lo..hi; with
// coverage it also counts the face/IJK table entries the points exercise.
func comparePoints(t *testing.T, n, lo, hi int, seed uint64, coverage bool) {
	const workers = 2
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures []error
		visited  [20][27]bool
	)
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			var seen [20][27]bool
			var errs []error
			for range n / workers {
				lat, lon := randomSpherePoint(rng)
				if err := compareAll(lat, lon, lo, hi); err != nil {
					errs = append(errs, err)
				}
				for res := lo; coverage && res <= hi; res++ {
					f, e := h3Entry(lat, lon, res)
					seen[f][e] = true
				}
			}
			mu.Lock()
			defer mu.Unlock()
			failures = append(failures, errs...)
			for f := range seen {
				for e := range seen[f] {
					visited[f][e] = visited[f][e] || seen[f][e]
				}
			}
		})
	}
	wg.Wait()
	entries := 0
	for f := range visited {
		for e := range visited[f] {
			if visited[f][e] {
				entries++
			}
		}
	}
	t.Logf("%d points x resolutions %d..%d compared, %d mismatches", n, lo, hi, len(failures))
	if coverage {
		t.Logf("%d of 540 face/IJK table entries exercised", entries)
	}
	for i, err := range failures {
		if i == 10 {
			break
		}
		t.Error(err)
	}
}

// probes returns the eight points 1e-9 degrees from p on either side (in
// latitude, longitude and both). A point exactly on a cell boundary (a cell
// vertex, or an icosahedron edge at Class II resolutions) is a tie that the
// C library breaks by the last bit of its arithmetic, so p itself is not
// among them.
func probes(lat, lon float64) [][2]float64 {
	const d = 1e-9
	return [][2]float64{
		{lat + d, lon}, {lat - d, lon}, {lat, lon + d}, {lat, lon - d},
		{lat + d, lon + d}, {lat - d, lon - d}, {lat + d, lon - d}, {lat - d, lon + d}}
}

// slerp is the point a fraction t along the great circle from a to b (degrees).
func slerp(a, b h3.LatLng, t float64) (lat, lon float64) {
	va, vb := unitVec(a), unitVec(b)
	omega := math.Acos(math.Max(-1, math.Min(1, va[0]*vb[0]+va[1]*vb[1]+va[2]*vb[2])))
	sa, sb := math.Sin((1-t)*omega)/math.Sin(omega), math.Sin(t*omega)/math.Sin(omega)
	x, y, z := sa*va[0]+sb*vb[0], sa*va[1]+sb*vb[1], sa*va[2]+sb*vb[2]
	return math.Atan2(z, math.Hypot(x, y)) * 180 / math.Pi, math.Atan2(y, x) * 180 / math.Pi
}

func unitVec(p h3.LatLng) [3]float64 {
	lat, lon := p.Lat*math.Pi/180, p.Lng*math.Pi/180
	return [3]float64{math.Cos(lat) * math.Cos(lon), math.Cos(lat) * math.Sin(lon), math.Sin(lat)}
}

// TestLatLngToCellGoCellBoundaries: points within 1e-9 degrees of the
// vertices and edge midpoints of the cells around the 12 pentagons and of
// random cells, at every resolution, compared at the cell's resolution and
// the ones next to it.
func TestLatLngToCellGoCellBoundaries(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	points, bad := 0, 0
	for res := range 16 {
		var cells []h3.Cell
		for _, p := range h3.Pentagons(res) {
			cells = append(cells, p.GridDisk(1)...)
		}
		for range 200 {
			lat, lon := randomSpherePoint(rng)
			cells = append(cells, h3.LatLngToCell(h3.LatLng{Lat: lat, Lng: lon}, res))
		}
		lo, hi := max(res-1, 0), min(res+1, 15)
		for _, c := range cells {
			b := c.Boundary()
			for i, v := range b {
				mlat, mlon := slerp(v, b[(i+1)%len(b)], 0.5)
				for _, base := range [][2]float64{{v.Lat, v.Lng}, {mlat, mlon}} {
					for _, p := range probes(base[0], base[1]) {
						points++
						if err := compareAll(p[0], p[1], lo, hi); err != nil {
							if bad++; bad <= 10 {
								t.Error(err)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d points near cell vertices and edge midpoints, %d mismatches", points, bad)
}

// TestLatLngToCellGoFaceEdges: points on and next to the icosahedron's face
// edges (along the arcs between adjacent face centres, whose midpoints are on
// the shared edge, and along the edges themselves), every resolution.
func TestLatLngToCellGoFaceEdges(t *testing.T) {
	var centres [20]h3.LatLng
	for f, c := range h3Faces {
		centres[f] = h3.LatLng{Lat: c.lat * 180 / math.Pi, Lng: c.lon * 180 / math.Pi}
	}
	var vertices []h3.LatLng
	for _, p := range h3.Pentagons(0) {
		vertices = append(vertices, p.LatLng())
	}
	angle := func(a, b h3.LatLng) float64 {
		va, vb := unitVec(a), unitVec(b)
		return math.Acos(math.Max(-1, math.Min(1, va[0]*vb[0]+va[1]*vb[1]+va[2]*vb[2])))
	}
	const steps = 100
	pairs, edges, points, bad := 0, 0, 0, 0
	check := func(lat, lon float64, onEdge bool) {
		pts := probes(lat, lon)
		if !onEdge {
			pts = append(pts, [2]float64{lat, lon})
		}
		for _, p := range pts {
			points++
			if err := compareAll(p[0], p[1], 0, 15); err != nil {
				if bad++; bad <= 10 {
					t.Error(err)
				}
			}
		}
	}
	for a := range centres {
		for b := a + 1; b < len(centres); b++ {
			if angle(centres[a], centres[b]) > 0.75 { // adjacent: 41.8°, next 70.5°
				continue
			}
			pairs++
			for s := 0; s <= steps; s++ {
				lat, lon := slerp(centres[a], centres[b], float64(s)/steps)
				// The midpoint is on the edge, but at a cell centre (Class
				// II) or inside a cell (Class III): exact points too.
				check(lat, lon, false)
			}
		}
	}
	for a := range vertices {
		for b := a + 1; b < len(vertices); b++ {
			if angle(vertices[a], vertices[b]) > 1.2 { // an edge is 63.4°
				continue
			}
			edges++
			for s := 0; s <= steps; s++ {
				lat, lon := slerp(vertices[a], vertices[b], float64(s)/steps)
				check(lat, lon, true)
			}
		}
	}
	if pairs != 30 || edges != 30 {
		t.Fatalf("found %d adjacent face pairs and %d edges, want 30 and 30", pairs, edges)
	}
	t.Logf("%d points on and next to face edges, %d mismatches", points, bad)
}

// TestLatLngToCellGoSpecialPoints: the poles, the antimeridian, zero
// latitude and longitude, and the neighbourhood of the 12 pentagon centres.
func TestLatLngToCellGoSpecialPoints(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	var pts [][2]float64
	lons := []float64{0, -0.0, 180, -180, 179.9999999, -179.9999999, 90, -90, 45, 1e-300}
	for range 20 {
		lons = append(lons, rng.Float64()*360-180)
	}
	lats := []float64{90, -90, 89.9999999, -89.9999999, 0, -0.0, 1e-300, 45, -45}
	for range 20 {
		lats = append(lats, rng.Float64()*180-90)
	}
	for _, lat := range lats {
		for _, lon := range lons {
			pts = append(pts, [2]float64{lat, lon})
		}
	}
	for v := -180.0; v <= 180; v += 0.25 {
		pts = append(pts, [2]float64{0, v}, [2]float64{v / 2, 0}, [2]float64{v / 2, 180}, [2]float64{v / 2, -180})
	}
	// Around each pentagon centre, 16 directions, distances 1e-1..1e-10 deg.
	for _, p := range h3.Pentagons(0) {
		c := p.LatLng()
		pts = append(pts, [2]float64{c.Lat, c.Lng})
		for k := 1; k <= 10; k++ {
			d := math.Pow(10, -float64(k))
			for a := range 16 {
				s, co := math.Sincos(float64(a) * math.Pi / 8)
				pts = append(pts, [2]float64{c.Lat + d*s, c.Lng + d*co})
			}
		}
	}
	bad := 0
	for _, p := range pts {
		if err := compareAll(p[0], p[1], 0, 15); err != nil {
			if bad++; bad <= 10 {
				t.Error(err)
			}
		}
	}
	t.Logf("%d special points x 16 resolutions, %d mismatches", len(pts), bad)
}

// TestH3Tables proves the generated tables against h3-go: face centres give
// h3-go's own degrees, unit vectors and trigonometry agree with them, each
// i-axis points at a vertex (a pentagon) of its face, and the pentagon flags
// match. The face/IJK base cells and turns are checked entry by entry by
// TestH3FaceTableEntries.
func TestH3Tables(t *testing.T) {
	for f, c := range h3Faces {
		cell := h3.LatLngToCell(h3.LatLng{Lat: c.lat * h3.RadsToDegs, Lng: c.lon * h3.RadsToDegs}, 0)
		ll := cell.LatLng()
		if c.lat*h3.RadsToDegs != ll.Lat || c.lon*h3.RadsToDegs != ll.Lng {
			t.Errorf("face %d centre %v,%v: h3-go's face-centred cell %v is at %v", f, c.lat, c.lon, cell, ll)
		}
		cl, sl := math.Cos(c.lat), math.Sin(c.lat)
		for _, d := range []float64{c.x - math.Cos(c.lon)*cl, c.y - math.Sin(c.lon)*cl, c.z - sl, c.sinLat - sl, c.cosLat - cl} {
			if math.Abs(d) > 1e-15 {
				t.Errorf("face %d: unit vector or sin/cos off by %g", f, d)
			}
		}
		onAxis := false
		for _, p := range h3.Pentagons(0) {
			v := p.LatLng()
			lat, lon := v.Lat*math.Pi/180, v.Lng*math.Pi/180
			az := math.Atan2(math.Cos(lat)*math.Sin(lon-c.lon), cl*math.Sin(lat)-sl*math.Cos(lat)*math.Cos(lon-c.lon))
			if math.Abs(math.Remainder(az-c.axisAz, 2*math.Pi)) < 1e-12 {
				onAxis = true
			}
		}
		if !onAxis {
			t.Errorf("face %d: i-axis azimuth %v points at no pentagon", f, c.axisAz)
		}
	}
	for _, c := range h3.Res0Cells() {
		bc := c.BaseCellNumber()
		if h3BaseCells[bc].pentagon != c.IsPentagon() {
			t.Errorf("base cell %d: pentagon %v, h3-go says %v", bc, h3BaseCells[bc].pentagon, c.IsPentagon())
		}
		if !c.IsPentagon() && h3BaseCells[bc].cwFaces != 0 {
			t.Errorf("base cell %d is no pentagon but has clockwise-offset faces", bc)
		}
	}
}

// TestH3FaceTableEntries exercises the face/IJK table entry by entry: for
// each face and res-0 IJK, the centres and near-corner points of its
// descendants at res 1..3 (in the face's own hex2d coordinates, projected
// back to the sphere) that lie on the face and walk up to that entry are
// compared with h3-go. Of the 27 entries of a face, 8 are not normalised (no
// zero component: never looked up) and 3 are not reached from the face
// (marked unused by the generator); the other 320 must all be exercised.
func TestH3FaceTableEntries(t *testing.T) {
	covered, points, bad := 0, 0, 0
	for f := range h3Faces {
		for n := range 27 {
			reached := false
			var walk func(c axial, res int)
			walk = func(c axial, res int) {
				if res > 0 {
					x, y := float64(c.a)-0.5*float64(c.b), float64(c.b)*math.Sqrt(3)/2
					for k := -1; k < 6; k++ {
						px, py := x, y
						if k >= 0 { // halfway to a corner
							s, co := math.Sincos(math.Pi/6 + float64(k)*math.Pi/3)
							px, py = x+0.5*co, y+0.5*s
						}
						lat, lon := faceHex2dToGeo(f, px, py, res)
						if ff, e := h3Entry(lat, lon, res); ff != f || e != n {
							continue
						}
						reached = true
						points++
						want := h3Ref(lat, lon, res)
						if got, err := LatLngToCellGo(lat, lon, res); err != nil || got != want {
							if bad++; bad <= 10 {
								t.Errorf("face %d entry %d: (%v, %v) res %d: %x, h3-go %x", f, n, lat, lon, res, got, want)
							}
						}
					}
				}
				if res == 3 {
					return
				}
				// The child centres one resolution down (Class III when odd).
				var centre axial
				if (res+1)%2 == 1 {
					centre = axial{2*c.a + c.b, 3*c.b - c.a}
				} else {
					centre = axial{3*c.a - c.b, c.a + 2*c.b}
				}
				for _, u := range []axial{{0, 0}, {-1, -1}, {0, 1}, {-1, 0}, {1, 0}, {0, -1}, {1, 1}} {
					walk(axial{centre.a + u.a, centre.b + u.b}, res+1)
				}
			}
			i, j, k := n/9, n/3%3, n%3
			walk(axial{i - k, j - k}, 0)
			if reached {
				covered++
			}
		}
	}
	t.Logf("%d face/IJK entries exercised by %d points, %d mismatches", covered, points, bad)
	if covered != 320 {
		t.Errorf("%d entries exercised, want the 320 the generator found in use", covered)
	}
}

// faceHex2dToGeo is the inverse gnomonic projection of face f's hex2d point
// at resolution res, in degrees.
func faceHex2dToGeo(f int, x, y float64, res int) (lat, lon float64) {
	c := h3Faces[f]
	r := math.Hypot(x, y)
	theta := math.Atan2(y, x)
	r /= math.Pow(math.Sqrt(7), float64(res))
	if res%2 == 1 {
		theta += 0.333473172251832115336
	}
	r = math.Atan(r * 0.38196601125010500003)
	az := c.axisAz - theta
	slat, clat := math.Sincos(c.lat)
	sr, cr := math.Sincos(r)
	la := math.Asin(slat*cr + clat*sr*math.Cos(az))
	lo := c.lon + math.Atan2(math.Sin(az)*sr*clat, cr-slat*math.Sin(la))
	return la * 180 / math.Pi, math.Remainder(lo, 2*math.Pi) * 180 / math.Pi
}

// TestRotateDigitsCCW checks the bit-plane turn against the digit table.
func TestRotateDigitsCCW(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for range 10000 {
		res := rng.IntN(16)
		var digits uint64
		for r := 1; r <= 15; r++ {
			d := uint64(7)
			if r <= res {
				d = uint64(rng.IntN(7))
			}
			digits |= d << (3 * (15 - r))
		}
		digits |= uint64(res)<<52 | 1<<59 // the bits above stay
		for n := range 6 {
			want := digits
			for r := 1; r <= 15; r++ {
				s := 3 * (15 - r)
				want = want&^(7<<s) | digitTurns[n][digits>>s&7]<<s
			}
			if got := rotateDigitsCCW(digits, n); got != want {
				t.Fatalf("rotateDigitsCCW(%o, %d) = %o, want %o", digits, n, got, want)
			}
		}
	}
}

// TestX87 checks the long double emulation against exact arithmetic.
func TestX87(t *testing.T) {
	// 1.5 * 2 = 3 exactly; 3 / 1.5 = 2; 1 + 2 = 3; 1 - 2 = -1.
	two := x87{m: 1 << 63, e: 1}
	if got := x87Mul(1.5, two); got != 3 {
		t.Errorf("1.5*2 = %v", got)
	}
	if got := x87Div(3, newX87(3<<62, 0)); got != 2 {
		t.Errorf("3/1.5 = %v", got)
	}
	if got := x87Add(1, two, false); got != 3 {
		t.Errorf("1+2 = %v", got)
	}
	if got := x87Add(1, two, true); got != -1 {
		t.Errorf("1-2 = %v", got)
	}
	if got := x87Add(-1, two, false); got != 1 {
		t.Errorf("-1+2 = %v", got)
	}
	if got := x87Add(0, two, true); got != -2 {
		t.Errorf("0-2 = %v", got)
	}
	// Double rounding: 1 + 2^-53 + 2^-64 rounds to 64 bits as 1 + 2^-53
	// (a tie for float64), then to even: 1. A single rounding would give
	// 1 + 2^-52.
	tiny := x87{m: 1<<63 | 1<<52, e: -53} // 2^-53 * (1 + 2^-11)
	if got := x87Add(1, tiny, false); got != 1 {
		t.Errorf("1 + 2^-53 + 2^-64 = %v, want 1 (x87 double rounding)", got)
	}
	// Against big-precision results for the constants in use.
	rng := rand.New(rand.NewPCG(1, 1))
	for range 100000 {
		a := rng.Float64() * 10
		if got, want := x87Mul(a, x87Sqrt7), a*math.Sqrt(7); math.Abs(got-want) > 2e-15*want {
			t.Fatalf("%v*sqrt7 = %v, want about %v", a, got, want)
		}
		if got, want := x87Div(a, x87Sin60), a/(math.Sqrt(3)/2); math.Abs(got-want) > 2e-15*want {
			t.Fatalf("%v/sin60 = %v, want about %v", a, got, want)
		}
		if got, want := x87Add(a, x87TwoPi, true), a-2*math.Pi; math.Abs(got-want) > 1e-14 {
			t.Fatalf("%v-2pi = %v, want about %v", a, got, want)
		}
	}
}

func TestLatLngToCellGoErrors(t *testing.T) {
	for _, res := range []int{-1, 16} {
		if _, err := LatLngToCellGo(1, 2, res); !errors.Is(err, ErrResolution) {
			t.Errorf("res %d: err %v, want ErrResolution", res, err)
		}
	}
	for _, p := range [][2]float64{{math.NaN(), 0}, {0, math.NaN()}, {math.Inf(1), 0}, {0, math.Inf(-1)}} {
		if _, err := LatLngToCellGo(p[0], p[1], 5); !errors.Is(err, ErrLatLng) {
			t.Errorf("%v: err %v, want ErrLatLng", p, err)
		}
		if err := LatLngToCells(p[0], p[1], 5, 10, make([]uint64, 6)); !errors.Is(err, ErrLatLng) {
			t.Errorf("%v: LatLngToCells err %v, want ErrLatLng", p, err)
		}
	}
	if err := LatLngToCells(1, 2, 5, 10, make([]uint64, 5)); err == nil {
		t.Error("short out: no error")
	}
	if err := LatLngToCells(1, 2, 10, 5, make([]uint64, 6)); !errors.Is(err, ErrResolution) {
		t.Errorf("minRes > maxRes: %v", err)
	}
}

func ExampleLatLngToCellGo() {
	// Tashkent, at resolution 8.
	cell, err := LatLngToCellGo(41.2995, 69.2401, 8)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", cell)
	// Output: 8820a52d21fffff
}

func ExampleLatLngToCells() {
	// Every resolution 5..10 from one projection.
	cells := make([]uint64, 6)
	if err := LatLngToCells(41.2995, 69.2401, 5, 10, cells); err != nil {
		panic(err)
	}
	for i, c := range cells {
		fmt.Printf("res %d: %x\n", 5+i, c)
	}
	// Output:
	// res 5: 8520a193fffffff
	// res 6: 8620a52d7ffffff
	// res 7: 8720a52d2ffffff
	// res 8: 8820a52d21fffff
	// res 9: 8920a52d203ffff
	// res 10: 8a20a52d2037fff
}

// benchPoints are fixed random points on the sphere.
func benchPoints() [][2]float64 {
	rng := rand.New(rand.NewPCG(42, 42))
	pts := make([][2]float64, 4096)
	for i := range pts {
		pts[i][0], pts[i][1] = randomSpherePoint(rng)
	}
	return pts
}

func BenchmarkLatLngToCell(b *testing.B) {
	pts := benchPoints()
	const res = 9
	b.Run("h3-go", func(b *testing.B) {
		var sink uint64
		i := 0
		for b.Loop() {
			p := pts[i&4095]
			sink += h3Ref(p[0], p[1], res)
			i++
		}
		_ = sink
	})
	b.Run("go", func(b *testing.B) {
		var sink uint64
		i := 0
		for b.Loop() {
			p := pts[i&4095]
			c, _ := LatLngToCellGo(p[0], p[1], res)
			sink += c
			i++
		}
		_ = sink
	})
}

func benchCells(b *testing.B, lo, hi int) {
	pts := benchPoints()
	out := make([]uint64, hi-lo+1)
	b.Run("h3-go", func(b *testing.B) {
		var sink uint64
		i := 0
		for b.Loop() {
			p := pts[i&4095]
			for res := lo; res <= hi; res++ {
				sink += h3Ref(p[0], p[1], res)
			}
			i++
		}
		_ = sink
	})
	b.Run("go", func(b *testing.B) {
		var sink uint64
		i := 0
		for b.Loop() {
			p := pts[i&4095]
			_ = LatLngToCells(p[0], p[1], lo, hi, out)
			sink += out[0]
			i++
		}
		_ = sink
	})
}

func BenchmarkLatLngToCells5to10(b *testing.B) { benchCells(b, 5, 10) }

func BenchmarkLatLngToCells0to15(b *testing.B) { benchCells(b, 0, 15) }
