// Command h3gen derives the constant tables of geo's pure-Go H3 indexer and
// writes them as Go source (geo/h3index_tables.go). Run it from the module
// root:
//
//	go run ./geo/internal/h3gen -o geo/h3index_tables.go
//
// The structure of the grid is derived from h3-go (the reference, a cgo
// binding of the C library) and first principles; no C source is used:
//
//   - faces: a face's vertices are the three pentagons that touch it
//     (h3.Cell.IcosahedronFaces); the res-0 cell at their centroid is the
//     face-centred base cell, whose centre h3-go reports in degrees.
//   - each face's i-axis azimuth: the direction from the face centre to the
//     vertex that the face-centred cell's res-1 I-digit child points at
//     (turned back by the Class III rotation).
//   - for every face and res-0 IJK (each 0..2): the base cell is h3-go's
//     res-0 cell at that hexagon's centre; the number of 60° turns into the
//     base cell's frame, and for pentagons the clockwise-offset faces, are the
//     values that make the indexes of the descendants (res 1..3, 1..4 for
//     pentagons; points inside the face) agree with h3-go's digit for digit.
//     An entry no such point reaches, or whose IJK is not normalised (never
//     looked up), gets the turns that agree best and is marked "unused".
//   - pentagons: h3.Cell.IsPentagon.
//
// Floating-point constants must match the C library to the last bit, which
// h3-go's degree outputs cannot pin down, so they are typed from the
// published H3 tables and checked against the derivation:
//
//   - face centres (radians) and their unit vectors, and the i-axis
//     azimuths (the published table below);
//   - sin and cos of the centre latitudes, which the C library computes at
//     run time: correctly rounded here (256-bit Taylor series);
//   - the long double constants (2π, sqrt(7), sin(60°), the aperture-7
//     rotation asin(sqrt(3/28)), the res-0 unit length in gnomonic units),
//     rounded as a C compiler rounds a long double literal: to a 64-bit
//     mantissa.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"math"
	"math/big"
	"os"

	"github.com/uber/h3-go/v4"
)

// Published constants of the H3 library (long double literals there).
const (
	twoPi    = "6.28318530717958647692528676655900576839433"
	sqrt7    = "2.6457513110645905905016157536392604257102"
	sin60    = "0.8660254037844386467637231707529361834714"
	ap7Rot   = "0.333473172251832115336090755351601070065900389"
	res0UGno = "0.38196601125010500003"
)

// The published H3 face tables (the constants of the H3 library), one row per
// face: centre latitude and longitude (radians), centre unit vector x, y, z,
// and the i-axis azimuth. They are the only typed-in numbers; generate checks
// each against what it derives from h3-go (the exact degrees h3-go reports for
// the centres, 1e-15 for the unit vectors, 1e-13 for the azimuths), because
// the derivation alone cannot pin the last bit.
var published = [20][6]string{
	{"0.803582649718989942", "1.248397419617396099", "0.2199307791404606", "0.6583691780274996", "0.7198475378926182", "5.619958268523939882"},
	{"1.307747883455638156", "2.536945009877921159", "-0.2139234834501421", "0.1478171829550703", "0.9656017935214205", "5.760339081714187279"},
	{"1.054751253523952054", "-1.347517358900396623", "0.1092625278784797", "-0.4811951572873210", "0.8697775121287253", "0.780213654393430055"},
	{"0.600191595538186799", "-0.450603909469755746", "0.7428567301586791", "-0.3593941678278028", "0.5648005936517033", "0.430469363979999913"},
	{"0.491715428198773866", "0.401988202911306943", "0.8112534709140969", "0.3448953237639384", "0.4721387736413930", "6.130269123335111400"},
	{"0.172745327415618701", "1.678146885280433686", "-0.1055498149613921", "0.9794457296411413", "0.1718874610009365", "2.692877706530642877"},
	{"0.605929321571350690", "2.953923329812411617", "-0.8075407579970092", "0.1533552485898818", "0.5695261994882688", "2.982963003477243874"},
	{"0.427370518328979641", "-1.888876200336285401", "-0.2846148069787907", "-0.8644080972654206", "0.4144792552473539", "3.532912002790141181"},
	{"-0.079066118549212831", "-0.733429513380867741", "0.7405621473854482", "-0.6673299564565524", "-0.0789837646326737", "3.494305004259568154"},
	{"-0.230961644455383637", "0.506495587332349035", "0.8512303986474293", "0.4722343788582681", "-0.2289137388687808", "3.003214169499538391"},
	{"0.079066118549212831", "2.408163140208925497", "-0.7405621473854481", "0.6673299564565524", "0.0789837646326737", "5.930472956509811562"},
	{"0.230961644455383637", "-2.635097066257444203", "-0.8512303986474292", "-0.4722343788582682", "0.2289137388687808", "0.138378484090254847"},
	{"-0.172745327415618701", "-1.463445768309359553", "0.1055498149613919", "-0.9794457296411413", "-0.1718874610009365", "0.448714947059150361"},
	{"-0.605929321571350690", "-0.187669323777381622", "0.8075407579970092", "-0.1533552485898819", "-0.5695261994882688", "0.158629650112549365"},
	{"-0.427370518328979641", "1.252716453253507838", "0.2846148069787908", "0.8644080972654204", "-0.4144792552473539", "5.891865957979238535"},
	{"-0.600191595538186799", "2.690988744120037492", "-0.7428567301586791", "0.3593941678278027", "-0.5648005936517033", "2.711123289609793325"},
	{"-0.491715428198773866", "-2.739604450678486295", "-0.8112534709140971", "-0.3448953237639382", "-0.4721387736413930", "3.294508837434268316"},
	{"-0.803582649718989942", "-1.893195233972397139", "-0.2199307791404607", "-0.6583691780274996", "-0.7198475378926182", "3.804819692245439833"},
	{"-1.307747883455638156", "-0.604647643711872080", "0.2139234834501420", "-0.1478171829550704", "-0.9656017935214205", "3.664438879055192436"},
	{"-1.054751253523952054", "1.794075294689396615", "-0.1092625278784796", "0.4811951572873210", "-0.8697775121287253", "2.361378999196363184"},
}

func main() {
	out := flag.String("o", "geo/h3index_tables.go", "output file")
	flag.Parse()
	src, err := generate()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

type face struct {
	bc              int // the face-centred base cell
	lat, lon        float64
	x, y, z         float64
	sinLat, cosLat  float64
	axisAz          float64
	vertexBaseCells [3]int
}

type entry struct {
	baseCell, turns int
	reached         bool
}

func generate() ([]byte, error) {
	res0 := h3.Res0Cells()
	if len(res0) != 122 {
		return nil, fmt.Errorf("%d res-0 cells", len(res0))
	}
	var pentagon [122]bool
	var pentagons []int
	for _, c := range res0 {
		if c.IsPentagon() {
			pentagon[c.BaseCellNumber()] = true
			pentagons = append(pentagons, c.BaseCellNumber())
		}
	}
	faces, err := deriveFaces(res0, pentagons)
	if err != nil {
		return nil, err
	}
	var table [20][27]entry
	var cwFaces [122]uint32
	for f := range faces {
		for i := range 3 {
			for j := range 3 {
				for k := range 3 {
					e, cw, err := fitEntry(faces, f, ijk{i, j, k}, pentagon)
					if err != nil {
						return nil, err
					}
					table[f][i*9+j*3+k] = e
					if cw {
						cwFaces[e.baseCell] |= 1 << f
					}
				}
			}
		}
	}
	return render(faces, table, pentagon, cwFaces)
}

// deriveFaces finds the face centres and axes. A face's vertices are the
// three pentagons that touch it; the base cell at their centroid is the
// face-centred one.
func deriveFaces(res0 []h3.Cell, pentagons []int) ([20]face, error) {
	var faces [20]face
	var byNumber [122]h3.Cell
	for _, c := range res0 {
		byNumber[c.BaseCellNumber()] = c
	}
	type vertex struct {
		bc       int
		lat, lon float64
	}
	var vertices [20][]vertex
	for _, bc := range pentagons {
		ll := byNumber[bc].LatLng()
		v := vertex{bc, ll.Lat * h3.DegsToRads, ll.Lng * h3.DegsToRads}
		for _, f := range byNumber[bc].IcosahedronFaces() {
			vertices[f] = append(vertices[f], v)
		}
	}
	for f := range faces {
		vs := vertices[f]
		if len(vs) != 3 {
			return faces, fmt.Errorf("face %d has %d pentagons", f, len(vs))
		}
		var x, y, z float64
		for _, v := range vs {
			x += math.Cos(v.lon) * math.Cos(v.lat)
			y += math.Sin(v.lon) * math.Cos(v.lat)
			z += math.Sin(v.lat)
		}
		centroid := h3.LatLng{Lat: math.Atan2(z, math.Hypot(x, y)) * h3.RadsToDegs, Lng: math.Atan2(y, x) * h3.RadsToDegs}
		c := h3.LatLngToCell(centroid, 0)
		ll := c.LatLng()
		lat, err := radiansOf(ll.Lat)
		if err != nil {
			return faces, fmt.Errorf("face %d: %w", f, err)
		}
		lon, err := radiansOf(ll.Lng)
		if err != nil {
			return faces, fmt.Errorf("face %d: %w", f, err)
		}
		fc := &faces[f]
		fc.bc = c.BaseCellNumber()
		ux, uy, uz := math.Cos(lon)*math.Cos(lat), math.Sin(lon)*math.Cos(lat), math.Sin(lat)
		pub := published[f]
		fc.lat, fc.lon = parse(pub[0]), parse(pub[1])
		fc.x, fc.y, fc.z = parse(pub[2]), parse(pub[3]), parse(pub[4])
		if fc.lat*h3.RadsToDegs != ll.Lat || fc.lon*h3.RadsToDegs != ll.Lng {
			return faces, fmt.Errorf("face %d: published centre %v,%v is not h3-go's %v (derived %v,%v)", f, fc.lat, fc.lon, ll, lat, lon)
		}
		if math.Abs(fc.x-ux) > 1e-15 || math.Abs(fc.y-uy) > 1e-15 || math.Abs(fc.z-uz) > 1e-15 {
			return faces, fmt.Errorf("face %d: published unit vector %v,%v,%v, derived %v,%v,%v", f, fc.x, fc.y, fc.z, ux, uy, uz)
		}
		// The C library takes sin and cos of the centre latitude at run time;
		// correctly rounded, as the C math library almost always is.
		fc.sinLat, fc.cosLat = sinCosRounded(fc.lat)

		// The res-1 I child of the face-centred cell lies at the Class III
		// angle from the i-axis, which points at a vertex.
		var iChild h3.Cell
		for _, ch := range c.Children(1) {
			if digit(uint64(ch), 1) == 4 {
				iChild = ch
			}
		}
		ll = iChild.LatLng()
		est := posAngle(azimuth(lat, lon, ll.Lat*h3.DegsToRads, ll.Lng*h3.DegsToRads) + parse(ap7Rot))
		axis := -1.0
		var azs []float64
		for _, v := range vs {
			az := posAngle(azimuth(lat, lon, v.lat, v.lon))
			azs = append(azs, az)
			if math.Abs(math.Remainder(az-est, 2*math.Pi)) < 1e-9 {
				axis = az
			}
		}
		if axis < 0 {
			return faces, fmt.Errorf("face %d: no vertex on the i-axis (estimate %v, vertices %v)", f, est, azs)
		}
		fc.axisAz = parse(pub[5])
		if math.Abs(fc.axisAz-axis) > 1e-13 {
			return faces, fmt.Errorf("face %d: published i-axis azimuth %v, derived %v", f, fc.axisAz, axis)
		}
	}
	return faces, nil
}

// radiansOf returns the float64 x with x*h3.RadsToDegs == deg, as h3-go
// converts C's radians to degrees (when two qualify, the nearer to the exact
// quotient).
func radiansOf(deg float64) (float64, error) {
	x0 := deg * h3.DegsToRads
	var found []float64
	for x := ulps(x0, -8); x <= ulps(x0, 8); x = math.Nextafter(x, math.Inf(1)) {
		if x*h3.RadsToDegs == deg {
			found = append(found, x)
		}
	}
	if len(found) == 0 {
		return 0, fmt.Errorf("%v degrees: no radians give it", deg)
	}
	// Several: the one nearest the exact quotient deg / RadsToDegs.
	q := new(big.Float).SetPrec(256).Quo(big.NewFloat(deg).SetPrec(256), big.NewFloat(h3.RadsToDegs).SetPrec(256))
	best, bestD := found[0], math.Inf(1)
	for _, x := range found {
		d, _ := new(big.Float).SetPrec(256).Sub(q, big.NewFloat(x)).Float64()
		if d = math.Abs(d); d < bestD {
			best, bestD = x, d
		}
	}
	return best, nil
}

func ulps(x float64, n int) float64 {
	dir := math.Inf(1)
	if n < 0 {
		dir, n = math.Inf(-1), -n
	}
	for range n {
		x = math.Nextafter(x, dir)
	}
	return x
}

// fitEntry finds the base cell and the turns of face f's res-0 hexagon c,
// and whether face f is a clockwise-offset face of that pentagon. The turns
// must agree with h3-go on every sample inside the face; an entry that no
// point of the face reaches gets the turns that agree best outside it.
func fitEntry(faces [20]face, f int, c ijk, pentagon [122]bool) (entry, bool, error) {
	lat, lon := hex2dToGeo(faces[f], c.hex2d(), 0)
	e := entry{baseCell: h3.LatLngToCell(h3.LatLng{Lat: lat * h3.RadsToDegs, Lng: lon * h3.RadsToDegs}, 0).BaseCellNumber()}
	maxRes := 3
	if pentagon[e.baseCell] {
		maxRes = 4
	}
	var inside, outside [6][2]int // agreements per candidate (turns, cw)
	samples := 0
	var walk func(c ijk, digits []int) error
	walk = func(c ijk, digits []int) error {
		res := len(digits)
		for _, p := range samplePoints(c) {
			if res == 0 {
				break
			}
			lat, lon := hex2dToGeo(faces[f], p, res)
			in := closestFace(faces, lat, lon) == f
			cell := uint64(h3.LatLngToCell(h3.LatLng{Lat: lat * h3.RadsToDegs, Lng: lon * h3.RadsToDegs}, res))
			if int(cell>>45&127) != e.baseCell {
				if in {
					return fmt.Errorf("face %d ijk %v: base cell %d, h3 says %d", f, c, e.baseCell, cell>>45&127)
				}
				continue
			}
			want := make([]int, res)
			for r := range res {
				want[r] = digit(cell, r+1)
			}
			if in {
				samples++
			}
			for n := range 6 {
				for cw := range 2 {
					if equal(turnDigits(digits, n, cw == 1, pentagon[e.baseCell]), want) {
						if in {
							inside[n][cw]++
						} else {
							outside[n][cw]++
						}
					}
				}
			}
		}
		if res == maxRes {
			return nil
		}
		child := c.down(res%2 == 0) // resolution res+1 is Class III when odd
		for d := range 7 {
			if err := walk(child.add(unit(d)), append(digits[:res:res], d)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(c, nil); err != nil {
		return e, false, err
	}
	if samples == 0 {
		best := -1
		for n := range 6 {
			if outside[n][0] > best {
				best, e.turns = outside[n][0], n
			}
		}
		return e, false, nil
	}
	e.reached = min(c.i, c.j, c.k) == 0 // lookups use normalised IJK only
	for cw := range 2 {
		for n := range 6 {
			if inside[n][cw] == samples {
				e.turns = n
				return e, cw == 1, nil
			}
		}
	}
	return e, false, fmt.Errorf("face %d ijk %v (base cell %d): no turns fit %d samples", f, c, e.baseCell, samples)
}

// turnDigits turns face-frame digits into the base cell's frame.
func turnDigits(digits []int, n int, cw, pent bool) []int {
	out := append([]int(nil), digits...)
	turnAll := func(t [8]int) {
		for i, d := range out {
			out[i] = t[d]
		}
	}
	lead := func() int {
		for _, d := range out {
			if d != 0 {
				return d
			}
		}
		return 0
	}
	if !pent {
		for range n {
			turnAll(ccw)
		}
		return out
	}
	if lead() == 1 {
		if cw {
			turnAll(clockwise)
		} else {
			turnAll(ccw)
		}
	}
	for range n {
		turnAll(ccw)
		if lead() == 1 {
			turnAll(ccw)
		}
	}
	return out
}

var (
	ccw       = [8]int{0, 5, 3, 1, 6, 4, 2, 7}
	clockwise = [8]int{0, 3, 6, 2, 5, 1, 4, 7}
)

func equal(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

func digit(cell uint64, r int) int { return int(cell>>(3*(15-r))) & 7 }

type ijk struct{ i, j, k int }

func unit(d int) ijk { return ijk{d >> 2 & 1, d >> 1 & 1, d & 1} }

func (c ijk) add(o ijk) ijk { return ijk{c.i + o.i, c.j + o.j, c.k + o.k} }

// down returns the centre of c's child one resolution finer: the
// counter-clockwise aperture-7 grid for a Class III child.
func (c ijk) down(classIII bool) ijk {
	if classIII {
		return ijk{3*c.i + c.j, 3*c.j + c.k, c.i + 3*c.k}
	}
	return ijk{3*c.i + c.k, c.i + 3*c.j, c.j + 3*c.k}
}

type vec2 struct{ x, y float64 }

func (c ijk) hex2d() vec2 {
	i, j := float64(c.i-c.k), float64(c.j-c.k)
	return vec2{i - 0.5*j, j * math.Sqrt(3) / 2}
}

// samplePoints are the hexagon's centre and points near its six corners.
func samplePoints(c ijk) []vec2 {
	p := c.hex2d()
	pts := []vec2{p}
	for n := range 6 {
		a := math.Pi/6 + float64(n)*math.Pi/3
		pts = append(pts, vec2{p.x + 0.5*math.Cos(a), p.y + 0.5*math.Sin(a)})
	}
	return pts
}

// hex2dToGeo is the inverse gnomonic projection of face f's hex2d point at
// resolution res, in radians.
func hex2dToGeo(f face, v vec2, res int) (lat, lon float64) {
	r := math.Hypot(v.x, v.y)
	if r < 1e-16 {
		return f.lat, f.lon
	}
	theta := math.Atan2(v.y, v.x)
	for range res {
		r /= parse(sqrt7)
	}
	if res%2 == 1 {
		theta = posAngle(theta + parse(ap7Rot))
	}
	r = math.Atan(r * parse(res0UGno))
	az := posAngle(f.axisAz - theta)
	lat = math.Asin(math.Sin(f.lat)*math.Cos(r) + math.Cos(f.lat)*math.Sin(r)*math.Cos(az))
	lon = f.lon + math.Atan2(math.Sin(az)*math.Sin(r)*math.Cos(f.lat), math.Cos(r)-math.Sin(f.lat)*math.Sin(lat))
	return lat, math.Remainder(lon, 2*math.Pi)
}

func closestFace(faces [20]face, lat, lon float64) int {
	x, y, z := math.Cos(lon)*math.Cos(lat), math.Sin(lon)*math.Cos(lat), math.Sin(lat)
	best, bd := 0, 5.0
	for f, c := range faces {
		if d := sq(x-c.x) + sq(y-c.y) + sq(z-c.z); d < bd {
			best, bd = f, d
		}
	}
	return best
}

func azimuth(lat1, lon1, lat2, lon2 float64) float64 {
	return math.Atan2(math.Cos(lat2)*math.Sin(lon2-lon1),
		math.Cos(lat1)*math.Sin(lat2)-math.Sin(lat1)*math.Cos(lat2)*math.Cos(lon2-lon1))
}

func posAngle(a float64) float64 {
	a = math.Mod(a, 2*math.Pi)
	if a < 0 {
		a += 2 * math.Pi
	}
	return a
}

func sq(x float64) float64 { return x * x }

// sinCosRounded returns sin(x) and cos(x) correctly rounded to float64
// (Taylor series in 256-bit arithmetic).
func sinCosRounded(x float64) (float64, float64) {
	const prec = 256
	bx := new(big.Float).SetPrec(prec).SetFloat64(x)
	sin := new(big.Float).SetPrec(prec)
	cos := new(big.Float).SetPrec(prec)
	term := new(big.Float).SetPrec(prec).SetInt64(1) // x^n / n!
	for n := 0; n < 120; n++ {
		switch n % 4 {
		case 0:
			cos.Add(cos, term)
		case 1:
			sin.Add(sin, term)
		case 2:
			cos.Sub(cos, term)
		case 3:
			sin.Sub(sin, term)
		}
		term.Mul(term, bx)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(int64(n+1)))
	}
	s, _ := sin.Float64()
	c, _ := cos.Float64()
	return s, c
}

func parse(s string) float64 {
	f, _, err := big.ParseFloat(s, 10, 53, big.ToNearestEven)
	if err != nil {
		panic(err)
	}
	v, _ := f.Float64()
	return v
}

// x87 returns the long double (64-bit mantissa) nearest the decimal s as
// m * 2^(e-63).
func x87(s string) (uint64, int) {
	f, _, err := big.ParseFloat(s, 10, 64, big.ToNearestEven)
	if err != nil {
		panic(err)
	}
	mant := new(big.Float)
	exp := f.MantExp(mant) // f = mant * 2^exp, mant in [0.5, 1)
	m, _ := new(big.Float).SetMantExp(mant, 64).Uint64()
	return m, exp - 1
}

func render(faces [20]face, table [20][27]entry, pentagon [122]bool, cwFaces [122]uint32) ([]byte, error) {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("// Code generated by go run ./geo/internal/h3gen; DO NOT EDIT.\n\n")
	p("package geo\n\n")
	p("// h3Face is an icosahedron face: its centre (radians and unit vector),\n")
	p("// and the azimuth of its Class II i-axis.\n")
	p("type h3Face struct {\n\tlat, lon, x, y, z, sinLat, cosLat, axisAz float64\n}\n\n")
	p("var h3Faces = [20]h3Face{\n")
	for f, c := range faces {
		p("\t{%s, %s, %s, %s, %s, %s, %s, %s}, // face %d, base cell %d\n",
			fl(c.lat), fl(c.lon), fl(c.x), fl(c.y), fl(c.z), fl(c.sinLat), fl(c.cosLat), fl(c.axisAz), f, c.bc)
	}
	p("}\n\n")
	p("// h3FaceBase is the base cell at a face's res-0 IJK and the 60° turns\n")
	p("// counter-clockwise from the face's axes to the base cell's.\n")
	p("type h3FaceBase struct{ baseCell, ccwTurns uint8 }\n\n")
	p("// h3FaceBaseCells[face][i*9+j*3+k] for i, j, k in 0..2. Lookups use\n")
	p("// normalised IJK (a zero component) of points on the face; the entries\n")
	p("// marked \"unused\" are not normalised or not reached from the face.\n")
	p("var h3FaceBaseCells = [20][27]h3FaceBase{\n")
	reached := 0
	for f := range table {
		p("\t{ // face %d\n", f)
		for n, e := range table[f] {
			note := ""
			if !e.reached {
				note = " unused"
			} else {
				reached++
			}
			p("\t\t{%d, %d}, // %d,%d,%d%s\n", e.baseCell, e.turns, n/9, n/3%3, n%3, note)
		}
		p("\t},\n")
	}
	p("}\n\n")
	p("// h3BaseCells: pentagon flags, and for pentagons the faces (bit per face)\n")
	p("// on which leaving the deleted K subsequence turns clockwise.\n")
	p("var h3BaseCells = [122]struct {\n\tpentagon bool\n\tcwFaces  uint32\n}{\n")
	for bc := range pentagon {
		if pentagon[bc] {
			p("\t%d: {true, %#x},\n", bc, cwFaces[bc])
		}
	}
	p("}\n\n")
	p("// Long double constants of the C library (m * 2^(e-63)).\n")
	p("var (\n")
	for _, c := range []struct{ name, val, doc string }{
		{"x87TwoPi", twoPi, "2π"},
		{"x87Sqrt7", sqrt7, "sqrt(7), the aperture-7 scale"},
		{"x87Sin60", sin60, "sin(60°)"},
		{"x87Ap7Rot", ap7Rot, "the Class III rotation, asin(sqrt(3/28))"},
		{"x87Res0U", res0UGno, "the res-0 unit length in gnomonic units"},
	} {
		m, e := x87(c.val)
		p("\t%s = newX87(%#x, %d) // %s: %s\n", c.name, m, e, c.doc, c.val)
	}
	p(")\n")
	log.Printf("%d of %d face entries used", reached, 20*27)
	return format.Source(b.Bytes())
}

func fl(x float64) string { return fmt.Sprintf("%v", x) }
