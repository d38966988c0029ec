package geo

// Pure-Go H3 indexing (latitude/longitude to cell), written from the published
// description of the H3 grid: https://h3geo.org/docs/core-library/overview,
// https://h3geo.org/docs/core-library/coordsystems and
// https://h3geo.org/docs/core-library/h3Indexing.
//
// The pipeline, for a point and a resolution:
//
//  1. The point goes to the nearest of the 20 icosahedron face centres and is
//     projected gnomonically onto that face: a distance r and an angle theta
//     counter-clockwise from the face's Class II i-axis.
//  2. Hex2d coordinates: r is scaled by sqrt(7) per resolution; odd (Class III)
//     resolutions also turn theta by the aperture-7 rotation, asin(sqrt(3/28)).
//  3. The hex2d point is rounded to the hexagon containing it (IJK+).
//  4. Walking up, each aperture-7 parent (counter-clockwise for Class III,
//     clockwise for Class II) gives one index digit, until the face's res-0
//     IJK, which names the base cell and how many 60-degree turns lead from
//     this face's axes to the base cell's own.
//  5. The digits are turned into the base cell's frame; pentagons, which lack
//     the K-axis subsequence, turn once more out of it (clockwise on the
//     faces marked clockwise-offset) and skip the K digit on each turn.
//
// Steps 1 and 2 share all trigonometry between resolutions, so LatLngToCells
// computes every resolution from one projection. The constant tables in
// h3index_tables.go are derived from h3-go by internal/h3gen and checked
// against it by the tests.
//
// Agreement with the C library (which h3-go wraps), operation by operation:
//   - the same float64 expressions in the same order, kept from being fused
//     into FMAs (explicit float64 conversions), and the same constant tables;
//   - the steps the C library computes in x87 80-bit long double (its
//     constants are long double literals: the sqrt(7) scaling, the division
//     by the res-0 unit, the Class III turn, angle wrapping, the division by
//     sin(60°) in hex rounding) are emulated exactly: rounded to a 64-bit
//     mantissa, then to float64;
//   - acos near 1, where math.Acos loses digits, is computed to about half an
//     ulp, as the C math library does.
// Go's sin, cos, tan and atan2 can still differ from the C math library's in
// the last bit (for about half of all points somewhere), which moves the
// hex2d point by up to ~1e-7 of a cell width at res 15 (near face centres,
// where acos amplifies it; ~1e-9 elsewhere). Only a point that close to a
// cell boundary can land in a different cell; the tests have found none.

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// ErrLatLng is returned for a latitude or longitude that is NaN or infinite.
var ErrLatLng = errors.New("H3 latitude and longitude must be finite")

// errH3Encode mirrors the C library's E_FAILED: the point's res-0 IJK fell
// outside its face's table. It does not happen for finite input.
var errH3Encode = errors.New("H3: point could not be encoded")

// LatLngToCellGo returns the H3 cell of the point (degrees) at resolution res,
// the same cell as h3.LatLngToCell, computed in pure Go (no cgo call).
func LatLngToCellGo(lat, lon float64, res int) (uint64, error) {
	if res < 0 || res > h3MaxRes {
		return 0, fmt.Errorf("h3 resolution %d: %w", res, ErrResolution)
	}
	p, err := projectH3(lat, lon, res%2 == 0, res%2 == 1)
	if err != nil {
		return 0, err
	}
	r := p.r0
	for range res {
		r = x87Mul(r, x87Sqrt7)
	}
	return encodeCell(p.face, p.round(res, r), res)
}

// LatLngToCells writes the point's cell at every resolution minRes..maxRes to
// out[res-minRes] (len(out) must be at least maxRes-minRes+1), from one
// projection (see LatLngToCellSet).
func LatLngToCells(lat, lon float64, minRes, maxRes int, out []uint64) error {
	if minRes < 0 || maxRes > h3MaxRes || minRes > maxRes {
		return fmt.Errorf("h3 resolutions %d..%d: %w", minRes, maxRes, ErrResolution)
	}
	if len(out) < maxRes-minRes+1 {
		return fmt.Errorf("h3 resolutions %d..%d need %d cells, out has %d",
			minRes, maxRes, maxRes-minRes+1, len(out))
	}
	var all [h3MaxRes + 1]uint64
	if err := LatLngToCellSet(lat, lon, ResolutionRange(minRes, maxRes), &all); err != nil {
		return err
	}
	copy(out, all[minRes:maxRes+1])
	return nil
}

// ResolutionSet is a set of H3 resolutions: bit r for resolution r.
type ResolutionSet uint16

// ResolutionRange is the set of resolutions lo..hi (0 <= lo <= hi <= 15).
func ResolutionRange(lo, hi int) ResolutionSet {
	return ResolutionSet((1<<(hi+1) - 1) &^ (1<<lo - 1))
}

// Has reports whether res is in the set.
func (s ResolutionSet) Has(res int) bool { return res >= 0 && res <= h3MaxRes && s&(1<<res) != 0 }

// LatLngToCellSet writes the point's cell at every resolution r in set to
// out[r] (the other entries are left alone). The point is projected once;
// each resolution only scales and rounds. Only the finest cell walks all the
// way up its aperture-7 ancestors: a coarser resolution whose rounded
// hexagon is the finest cell's ancestor there (about 93% of points at each
// resolution) is that cell's parent, and one that is not walks up only until
// it meets the finest cell's ancestors and takes the remaining digits from
// them.
func LatLngToCellSet(lat, lon float64, set ResolutionSet, out *[h3MaxRes + 1]uint64) error {
	if set == 0 {
		return fmt.Errorf("h3 resolution set %#x: %w", uint16(set), ErrResolution)
	}
	maxRes := bits.Len16(uint16(set)) - 1
	const even, odd = 0b0101010101010101, 0b1010101010101010
	p, err := projectH3(lat, lon, set&even != 0, set&odd != 0)
	if err != nil {
		return err
	}
	// The rounded hexagon at every resolution asked for.
	var at [h3MaxRes + 1]axial
	r := p.r0
	for res := 0; res <= maxRes; res++ {
		if res > 0 {
			r = x87Mul(r, x87Sqrt7)
		}
		if set&(1<<res) != 0 {
			at[res] = p.round(res, r)
		}
	}
	// The finest cell, with its ancestors and raw (face-frame) digits.
	var anc [h3MaxRes + 1]axial
	c0, raw := walkUp(at[maxRes], maxRes, &anc)
	finest, err := finishCell(p.face, c0, raw, maxRes)
	if err != nil {
		return err
	}
	out[maxRes] = finest
	for rest := set &^ (1 << maxRes); rest != 0; rest &= rest - 1 {
		res := bits.TrailingZeros16(uint16(rest))
		c := at[res]
		if c == anc[res] {
			and, or := ParentMasks(maxRes, res)
			out[res] = finest&and | or
			continue
		}
		// Walk up to the first common ancestor; digits above it are the
		// finest cell's.
		digits := uint64(1)<<(3*(h3MaxRes-res)) - 1
		lvl := res
		for ; lvl > 0 && c != anc[lvl]; lvl-- {
			var d uint64
			c, d = parentStep(c, lvl)
			digits |= d << (3 * (h3MaxRes - lvl))
		}
		if lvl > 0 {
			c = anc[0] // met the finest cell's ancestors at lvl
		}
		digits |= raw & digitsAbove(lvl)
		if out[res], err = finishCell(p.face, c, digits, res); err != nil {
			return err
		}
	}
	return nil
}

// digitsAbove masks the index digits of resolutions 1..res.
func digitsAbove(res int) uint64 {
	return (uint64(1)<<(3*h3MaxRes) - 1) &^ (uint64(1)<<(3*(h3MaxRes-res)) - 1)
}

// h3Point is a point projected onto its nearest icosahedron face: everything
// the resolutions share.
type h3Point struct {
	face       int
	centre     bool    // at the face centre: hex2d (0, 0) at every resolution
	r0         float64 // gnomonic distance in res-0 hex2d units
	cos2, sin2 float64 // direction on Class II (even) resolutions
	cos3, sin3 float64 // direction on Class III (odd) resolutions
}

const degToRad = math.Pi / 180 // as h3-go converts degrees

// projectH3 finds the nearest face, the gnomonic distance and the azimuth,
// and the direction on Class II and/or Class III resolutions.
func projectH3(lat, lon float64, classII, classIII bool) (h3Point, error) {
	if math.IsNaN(lat) || math.IsNaN(lon) || math.IsInf(lat, 0) || math.IsInf(lon, 0) {
		return h3Point{}, ErrLatLng
	}
	lat, lon = lat*degToRad, lon*degToRad
	sinLat, cosLat := math.Sincos(lat)
	sinLon, cosLon := math.Sincos(lon)
	x, y, z := cosLon*cosLat, sinLon*cosLat, sinLat

	// The first face at the least squared distance, without branches.
	face, sqd := 0, 5.0
	for f := range h3Faces {
		c := &h3Faces[f]
		dx, dy, dz := x-c.x, y-c.y, z-c.z
		d := float64(dx*dx) + float64(dy*dy) + float64(dz*dz) // no FMA: as C
		if d < sqd {
			face = f
		}
		sqd = min(sqd, d)
	}
	p := h3Point{face: face}
	// Chord sqd to arc: cos(r) = 1 - sqd/2.
	r := acosNearOne(1 - sqd/2)
	if r < 1e-16 {
		p.centre = true
		return p, nil
	}
	c := &h3Faces[face]
	sinDLon, cosDLon := math.Sincos(lon - c.lon)
	az := math.Atan2(cosLat*sinDLon, float64(c.cosLat*sinLat)-float64(float64(c.sinLat*cosLat)*cosDLon))
	theta := wrapAngle(c.axisAz - wrapAngle(az))
	if classII {
		p.sin2, p.cos2 = math.Sincos(theta)
	}
	if classIII {
		p.sin3, p.cos3 = math.Sincos(wrapAngle(x87Add(theta, x87Ap7Rot, true)))
	}
	p.r0 = x87Div(math.Tan(r), x87Res0U)
	return p, nil
}

// wrapAngle brings an angle into [0, 2π) as H3 does (in long double).
func wrapAngle(a float64) float64 {
	switch {
	case a < 0:
		return x87Add(a, x87TwoPi, false)
	case a > 2*math.Pi: // float64(2π) < 2π in long double < the next float64
		return x87Add(a, x87TwoPi, true)
	}
	return a
}

// round rounds the projected point at resolution res, where r is the
// point's distance in that resolution's hex2d units.
func (p *h3Point) round(res int, r float64) axial {
	if p.centre {
		return axial{}
	}
	cos, sin := p.cos2, p.sin2
	if res%2 == 1 {
		cos, sin = p.cos3, p.sin3
	}
	return hex2dToAxial(r*cos, r*sin)
}

// axial is a cell in a face's hexagonal coordinates: IJK+ (three axes 120°
// apart) less k, that is (i-k, j-k), which every IJK+ form of the cell
// shares.
type axial struct{ a, b int }

// ijk returns the normalised IJK+ coordinates: all >= 0, at least one 0.
func (c axial) ijk() (i, j, k int) {
	i, j = c.a, c.b
	if i < 0 {
		j -= i
		k -= i
		i = 0
	}
	if j < 0 {
		i -= j
		k -= j
		j = 0
	}
	m := min(i, j, k)
	return i - m, j - m, k - m
}

// hex2dToAxial returns the hexagon (unit centre spacing, i-axis along x)
// containing the point, rounding as the C library does so that points on a
// boundary fall the same way.
func hex2dToAxial(x, y float64) axial {
	ax, ay := math.Abs(x), math.Abs(y)
	// Skewed coordinates: (u, v) = (ax + ay/(2 sin60), ay/sin60).
	v := x87Div(ay, x87Sin60)
	u := ax + v/2
	mu, mv := int(u), int(v)
	fu, fv := u-float64(mu), v-float64(mv)
	// The C library's case analysis on the fractions, without branches (the
	// cases are data-dependent and mispredict): fu < 1/3, < 1/2, < 2/3, else.
	region := b2i(fu >= 1.0/3.0) + b2i(fu >= 0.5) + b2i(fu >= 2.0/3.0)
	above := b2i(fv >= 1.0-fu)
	dj := [4]int{b2i(fv >= (1.0+fu)/2.0), above, above, b2i(fv >= fu/2.0)}
	di := [4]int{0, above & b2i(fv < 2.0*fu), 1 - (1-above)&b2i(2.0*fu-1.0 < fv), 1}
	i, j := mu+di[region], mv+dj[region]
	// Unfold the quadrant: mirror across the j axis, then across the x axis.
	sx, sy := b2i(x < 0), b2i(y < 0)
	i += sx * (j - 2*i)
	i -= sy * j
	j -= 2 * sy * j
	return axial{i, j}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Index digits are the unit vector from a parent's centre to the child, as
// 4i+2j+k of its normalised IJK (0 centre, 1 K, 2 J, 3 JK, 4 I, 5 IK, 6 IJ).
const digitK = 1

// axialDigit[(da+1)*3 + db+1] is the digit of the unit vector (da, db); 7
// for the two pairs that are no unit vector.
var axialDigit = [9]uint64{1, 3, 7, 5, 0, 2, 7, 4, 6}

// walkUp walks the cell c at resolution res up to resolution 0 and returns
// its res-0 cell and the digits in this face's frame (resolution r at bits
// 3*(15-r), unused resolutions 7). When anc is not nil, anc[r] is set to the
// ancestor at every resolution r <= res.
func walkUp(c axial, res int, anc *[h3MaxRes + 1]axial) (axial, uint64) {
	digits := uint64(1)<<(3*(h3MaxRes-res)) - 1
	for r := res; r > 0; r-- {
		if anc != nil {
			anc[r] = c
		}
		var d uint64
		c, d = parentStep(c, r)
		digits |= d << (3 * (h3MaxRes - r))
	}
	if anc != nil {
		anc[0] = c
	}
	return c, digits
}

// parentStep returns the aperture-7 parent of the cell c at resolution r
// (counter-clockwise grid above a Class III resolution, clockwise above a
// Class II one) and c's digit: the unit vector from the parent's centre one
// resolution down to c.
func parentStep(c axial, r int) (axial, uint64) {
	var p, centre axial
	if r%2 == 1 {
		p = axial{roundDiv7(3*c.a - c.b), roundDiv7(c.a + 2*c.b)}
		centre = axial{2*p.a + p.b, 3*p.b - p.a}
	} else {
		p = axial{roundDiv7(2*c.a + c.b), roundDiv7(3*c.b - c.a)}
		centre = axial{3*p.a - p.b, p.a + 2*p.b}
	}
	return p, axialDigit[(c.a-centre.a+1)*3+c.b-centre.b+1]
}

// roundDiv7 is n/7 rounded to the nearest integer (there is never a tie),
// for |n| < 7<<40, as an unsigned division.
func roundDiv7(n int) int {
	const bias = 7 << 40
	return int(uint64(n+3+bias)/7) - bias/7
}

// digitTurns[n][d] is digit d turned n times 60° counter-clockwise
// (K->IK->I->IJ->J->JK->K); digits 0 (centre) and 7 (unused) stay.
var digitTurns = func() (t [6][8]uint64) {
	ccw := [8]uint64{0, 5, 3, 1, 6, 4, 2, 7}
	for d := range 8 {
		t[0][d] = uint64(d)
	}
	for n := 1; n < 6; n++ {
		for d := range 8 {
			t[n][d] = ccw[t[n-1][d]]
		}
	}
	return t
}()

const (
	h3ModeCell   = 1
	h3ModeOffset = 59
	h3BCOffset   = 45
)

// encodeCell builds the index of the cell c (at resolution res on face).
func encodeCell(face int, c axial, res int) (uint64, error) {
	c0, digits := walkUp(c, res, nil)
	return finishCell(face, c0, digits, res)
}

// finishCell builds the index of the cell at resolution res on face whose
// res-0 ancestor is c and whose digits in the face's frame are digits: the
// base cell, and the digits turned into the base cell's frame.
func finishCell(face int, c axial, digits uint64, res int) (uint64, error) {
	i, j, k := c.ijk()
	if i > 2 || j > 2 || k > 2 {
		return 0, errH3Encode
	}
	bc := h3FaceBaseCells[face][i*9+j*3+k]
	turns := int(bc.ccwTurns)
	if base := &h3BaseCells[bc.baseCell]; base.pentagon {
		// A pentagon lacks the K subsequence: turn out of it, then make each
		// of the turns into the base cell's frame skip K.
		lead := leadingDigit(digits, res)
		if lead == digitK {
			n := 1
			if base.cwFaces&(1<<face) != 0 {
				n = 5 // clockwise
			}
			digits = rotateDigitsCCW(digits, n)
			lead = int(digitTurns[n][lead])
		}
		turns = 0
		for range bc.ccwTurns {
			lead = int(digitTurns[1][lead])
			turns++
			if lead == digitK {
				lead = int(digitTurns[1][lead])
				turns++
			}
		}
	}
	if turns %= 6; turns != 0 {
		digits = rotateDigitsCCW(digits, turns)
	}
	return h3ModeCell<<h3ModeOffset | uint64(res)<<h3ResOffset |
		uint64(bc.baseCell)<<h3BCOffset | digits, nil
}

// leadingDigit returns the first non-zero digit of the index, 0 if none.
func leadingDigit(digits uint64, res int) int {
	for r := 1; r <= res; r++ {
		if d := int(digits>>(3*(h3MaxRes-r))) & 7; d != 0 {
			return d
		}
	}
	return 0
}

// rotateDigitsCCW turns every digit of the index n times 60°
// counter-clockwise, all digits at once on the bit planes of their i, j and
// k bits: I->IJ, J->JK, K->IK (unit vectors), 0 and 7 fixed.
func rotateDigitsCCW(digits uint64, n int) uint64 {
	const low = 0o111111111111111 // bit 0 of each of the 15 digits
	i, j, k := digits>>2&low, digits>>1&low, digits&low
	for range n {
		all := i & j & k
		i, j, k = (i|k)&^j|all, (i|j)&^k|all, (j|k)&^i|all
	}
	return digits&^(low*7) | i<<2 | j<<1 | k
}

// acosNearOne returns acos(x) for x in [0.78, 1] (a point is at most 37.4°
// from its face centre) to about half an ulp, as 2*asin(sqrt((1-x)/2)) with
// the square root in double-double (math.Acos loses precision near 1).
func acosNearOne(x float64) float64 {
	h := (1 - x) / 2 // exact for x in [0.5, 1]
	s := math.Sqrt(h)
	if s == 0 {
		return 0
	}
	sLo := math.FMA(-s, s, h) / (2 * s) // s + sLo = sqrt(h) to ~2^-106
	// asin(s) = s + s^3 * sum c_n s^(2n).
	s2 := s * s
	sum := 0.0
	for n := len(asinSeries) - 1; n >= 0; n-- {
		sum = sum*s2 + asinSeries[n] // the tail: < 2% of s, rounding is moot
	}
	return 2 * (s + math.FMA(s*s2, sum, sLo))
}

// asinSeries holds (2n)! / (4^n (n!)^2 (2n+1)) for n = 1..20: asin(s) - s
// to 1e-20 relative for s <= 0.33.
var asinSeries = func() [20]float64 {
	var c [20]float64
	a := 1.0 // (2n)!/(4^n (n!)^2)
	for n := 1; n <= len(c); n++ {
		a *= float64(2*n-1) / float64(2*n)
		c[n-1] = a / float64(2*n+1)
	}
	return c
}()

// x87 is a positive long double constant: m * 2^(e-63), m's top bit set,
// with floor(2^191 / m) for dividing by it.
type x87 struct {
	m            uint64
	e            int
	invHi, invLo uint64
}

func newX87(m uint64, e int) x87 {
	_, r := bits.Div64(0, 1<<63, m) // m > 2^63 (no power of two): quotient 0
	hi, r := bits.Div64(r, 0, m)
	lo, _ := bits.Div64(r, 0, m)
	return x87{m, e, hi, lo}
}

// x87Mul returns float64(a * c) computed as x87 does (a >= 0).
func x87Mul(a float64, c x87) float64 {
	b := math.Float64bits(a)
	exp := int(b >> 52)
	if exp == 0 || exp == 2047 { // zero, subnormal (or not finite: unused)
		m, e := splitFloat(a)
		if m == 0 {
			return 0
		}
		hi, lo := bits.Mul64(m, c.m)
		return roundX87(hi, lo, e+c.e-63, false)
	}
	// Both mantissas top-aligned: the product is in [2^126, 2^128).
	hi, lo := bits.Mul64((b|1<<52)<<11, c.m)
	shift := 1 - hi>>63 // normalise without a branch
	hi, lo = hi<<shift|lo>>(64-shift), lo<<shift
	return packX87(hi, lo, exp-1023+c.e+1-int(shift), false)
}

// x87Div returns float64(a / c) computed as x87 does (a >= 0).
func x87Div(a float64, c x87) float64 {
	b := math.Float64bits(a)
	exp := int(b >> 52)
	if exp == 0 || exp == 2047 {
		m, e := splitFloat(a)
		if m == 0 {
			return 0
		}
		q1, r1 := bits.Div64(m, 0, c.m) // m < 2^53 <= c.m
		q0, r0 := bits.Div64(r1, 0, c.m)
		if r0 != 0 {
			q0 |= 1
		}
		return roundX87(q1, q0, e-128-(c.e-63), false)
	}
	// (M * 2^127) / c.m with M the top-aligned mantissa, in (2^126, 2^128):
	// M * floor(2^191/c.m) / 2^64 is at most one below it, which matters
	// only next to a rounding tie; there, divide exactly.
	m := (b | 1<<52) << 11
	h1, _ := bits.Mul64(m, c.invLo)
	h2, l2 := bits.Mul64(m, c.invHi)
	lo, carry := bits.Add64(l2, h1, 0)
	hi := h2 + carry
	shift := 1 - hi>>63
	hi, lo = hi<<shift|lo>>(64-shift), lo<<shift
	if lo-(1<<63-2) <= 4 {
		q1, r1 := bits.Div64(m>>1, m<<63, c.m)
		q0, r0 := bits.Div64(r1, 0, c.m)
		if r0 != 0 {
			q0 |= 1 // jam: 64 guard bits below the 64-bit result
		}
		return roundX87(q1, q0, exp-1023-c.e-127, false)
	}
	return packX87(hi, lo, exp-1023-c.e-int(shift), false)
}

// x87Add returns float64(a + c), or float64(a - c) when sub, as x87 does.
func x87Add(a float64, c x87, sub bool) float64 {
	ma, ea := splitFloat(a)
	if ma == 0 {
		return roundX87(0, c.m, c.e-63, sub)
	}
	na := math.Signbit(a)
	shift := bits.LeadingZeros64(ma)
	ma <<= shift
	ea -= shift
	ec := c.e - 63
	// Align both 64-bit mantissas in 128 bits below the larger exponent.
	type wide struct {
		hi, lo uint64
		e      int
		neg    bool
	}
	x := wide{ma, 0, ea, na}
	y := wide{c.m, 0, ec, sub}
	if y.e > x.e || (y.e == x.e && y.hi > x.hi) {
		x, y = y, x
	}
	d := x.e - y.e
	switch {
	case d == 0:
	case d < 64:
		y.lo = y.hi << (64 - d)
		y.hi >>= d
	case d < 128:
		sticky := y.hi<<(128-d) != 0
		y.lo = y.hi >> (d - 64)
		y.hi = 0
		if sticky {
			y.lo |= 1
		}
	default:
		y.hi, y.lo = 0, 1
	}
	// Now |x| >= |y|; shift both right one bit to leave room for a carry.
	x.lo = x.lo>>1 | x.hi<<63
	x.hi >>= 1
	stickyY := y.lo & 1
	y.lo = y.lo>>1 | y.hi<<63 | stickyY
	y.hi >>= 1
	var hi, lo uint64
	if x.neg == y.neg {
		var carry uint64
		lo, carry = bits.Add64(x.lo, y.lo, 0)
		hi, _ = bits.Add64(x.hi, y.hi, carry)
	} else {
		var borrow uint64
		lo, borrow = bits.Sub64(x.lo, y.lo, 0)
		hi, _ = bits.Sub64(x.hi, y.hi, borrow)
	}
	if hi == 0 && lo == 0 {
		return 0
	}
	return roundX87(hi, lo, x.e+1-64, x.neg)
}

// splitFloat returns m, e with a = m * 2^e (a >= 0 or any sign for the
// magnitude), m < 2^53.
func splitFloat(a float64) (uint64, int) {
	b := math.Float64bits(a) &^ (1 << 63)
	exp := int(b >> 52)
	frac := b & (1<<52 - 1)
	if exp == 0 {
		return frac, -1074
	}
	return frac | 1<<52, exp - 1075
}

// roundX87 rounds the value (hi*2^64 + lo) * 2^e, not zero, as packX87.
func roundX87(hi, lo uint64, e int, neg bool) float64 {
	if hi == 0 {
		hi, lo = lo, 0
		e -= 64
	}
	if s := bits.LeadingZeros64(hi); s > 0 {
		hi = hi<<s | lo>>(64-s)
		lo <<= s
		e -= s
	}
	return packX87(hi, lo, e+127, neg)
}

// packX87 rounds hi.lo (hi's top bit set, worth 2^lead) first to a 64-bit
// mantissa (x87 extended precision) and then to float64, both to nearest
// even.
func packX87(hi, lo uint64, lead int, neg bool) float64 {
	// Round to nearest even without data-dependent branches: adding
	// half-1 (+1 when odd) carries out exactly when rounding up.
	_, up := bits.Add64(lo, 1<<63-1+hi&1, 0)
	hi += up
	if hi == 0 { // carried out of the top: 2^64
		hi = 1 << 63
		lead++
	}
	m := hi >> 11
	m += (hi&0x7ff + 0x3ff + m&1) >> 11
	if m == 1<<53 {
		m >>= 1
		lead++
	}
	var sign uint64
	if neg {
		sign = 1 << 63
	}
	if exp := lead + 1023; exp > 0 && exp < 2047 {
		return math.Float64frombits(sign | uint64(exp)<<52 | m&(1<<52-1))
	}
	v := math.Ldexp(float64(m), lead-52) // subnormal or overflow: not used here
	if neg {
		return -v
	}
	return v
}
