package hotspot

import (
	"context"
	"fmt"
	"math"
)

// LocalG holds local Getis-Ord statistics as standard normal deviates.
// Z[i] is the analytical z of G_i (or G_i*), P[i] its two-sided p-value
// 2(1 - Phi(|z|)) = erfc(|z|/sqrt 2). Both are NaN where the statistic is
// undefined (Gi of a location without neighbours, or whose neighbours'
// values do not vary).
type LocalG struct{ Z, P []float64 }

// GiStar computes the Getis-Ord G_i* z for every location: the location
// itself is included with weight 1 and its neighbours with the weights of
// w (1 for binary weights), the variance uses the population divisor n, and
// the z is analytical (Getis & Ord 1992, Ord & Getis 1995), identical to
// spdep localG(include.self(nb)) and esda G_Local(star=True) with binary
// weights. Self-links in w are ignored (the self weight is always 1).
//
// The cost is O(n + links). It stops early, with an error wrapping
// ctx.Err(), when ctx is done.
func GiStar(ctx context.Context, y []float64, w *Weights) (LocalG, error) {
	n, err := checkValues(ctx, y, w)
	if err != nil {
		return LocalG{}, fmt.Errorf("GiStar: %w", err)
	}
	nf := float64(n)
	mean, s2 := meanVariance(y)
	res := LocalG{Z: make([]float64, n), P: make([]float64, n)}
	cc := canceller{ctx: ctx}
	for i := range n {
		if err := cc.step(1 + int(w.Offsets[i+1]-w.Offsets[i])); err != nil {
			return LocalG{}, fmt.Errorf("GiStar: %w", err)
		}
		lag, wi, s1 := y[i], 1.0, 1.0
		for k := w.Offsets[i]; k < w.Offsets[i+1]; k++ {
			j := w.Neighbors[k]
			if int(j) == i {
				continue
			}
			wij := w.weight(k)
			lag += wij * y[j]
			wi += wij
			s1 += wij * wij
		}
		vg := s2 * (nf*s1 - wi*wi) / (nf - 1)
		z := (lag - wi*mean) / math.Sqrt(vg)
		if vg <= 0 {
			z = math.NaN()
		}
		res.Z[i] = z
		res.P[i] = twoSided(z)
	}
	return res, nil
}

// Gi computes the Getis-Ord G_i z for every location, excluding the
// location itself: the mean and variance are those of the other n-1
// values (variance divisor n-1), as in spdep localG without include.self
// and esda G_Local(star=False) with binary weights. Self-links in w are
// ignored.
//
// The cost is O(n + links). It stops early, with an error wrapping
// ctx.Err(), when ctx is done.
func Gi(ctx context.Context, y []float64, w *Weights) (LocalG, error) {
	n, err := checkValues(ctx, y, w)
	if err != nil {
		return LocalG{}, fmt.Errorf("Gi: %w", err)
	}
	nf := float64(n)
	var sum, sum2 float64
	for _, v := range y {
		sum += v
		sum2 += v * v
	}
	res := LocalG{Z: make([]float64, n), P: make([]float64, n)}
	cc := canceller{ctx: ctx}
	for i := range n {
		if err := cc.step(1 + int(w.Offsets[i+1]-w.Offsets[i])); err != nil {
			return LocalG{}, fmt.Errorf("Gi: %w", err)
		}
		var lag, wi, s1 float64
		for k := w.Offsets[i]; k < w.Offsets[i+1]; k++ {
			j := w.Neighbors[k]
			if int(j) == i {
				continue
			}
			wij := w.weight(k)
			lag += wij * y[j]
			wi += wij
			s1 += wij * wij
		}
		xbar := (sum - y[i]) / (nf - 1)
		s2 := (sum2-y[i]*y[i])/(nf-1) - xbar*xbar
		vg := s2 * ((nf-1)*s1 - wi*wi) / (nf - 2)
		z := math.NaN()
		if vg > 0 && !(s2 <= 1e-14*math.Abs(sum2)/nf) {
			z = (lag - wi*xbar) / math.Sqrt(vg)
		}
		res.Z[i] = z
		res.P[i] = twoSided(z)
	}
	return res, nil
}

// GlobalG is the General G statistic of Getis & Ord (1992) with its
// expectation, variance, z and one-sided p-value (alternative "greater",
// as spdep globalG.test and esda G report).
type GlobalG struct{ G, EG, VG, Z, P float64 }

// GeneralG computes the global General G for non-negative y with the
// weights as given (binary weights reproduce spdep globalG.test style "B"
// and esda G). The variance is the analytical one of Getis & Ord (1992).
// It stops early, with an error wrapping ctx.Err(), when ctx is done.
func GeneralG(ctx context.Context, y []float64, w *Weights) (GlobalG, error) {
	n, err := checkValues(ctx, y, w)
	if err != nil {
		return GlobalG{}, fmt.Errorf("GeneralG: %w", err)
	}
	if n < 4 {
		return GlobalG{}, fmt.Errorf("GeneralG: %d locations, need 4: %w", n, ErrTooFew)
	}
	c, err := weightConstants(ctx, w)
	if err != nil {
		return GlobalG{}, fmt.Errorf("GeneralG: %w", err)
	}
	if c.S0 == 0 {
		return GlobalG{}, fmt.Errorf("GeneralG: %w", ErrNoNeighbors)
	}
	nf := float64(n)
	var m1, m2, m3, m4 float64
	for _, v := range y {
		m1 += v
		m2 += v * v
		m3 += v * v * v
		m4 += v * v * v * v
	}
	var num float64
	cc := canceller{ctx: ctx}
	for i := range n {
		if err := cc.step(1 + int(w.Offsets[i+1]-w.Offsets[i])); err != nil {
			return GlobalG{}, fmt.Errorf("GeneralG: %w", err)
		}
		var lag float64
		for k := w.Offsets[i]; k < w.Offsets[i+1]; k++ {
			lag += w.weight(k) * y[w.Neighbors[k]]
		}
		num += y[i] * lag
	}
	den := m1*m1 - m2
	if den == 0 {
		return GlobalG{}, fmt.Errorf("GeneralG: sum of cross-products is zero: %w", ErrTooFew)
	}
	S0, S1, S2 := c.S0, c.S1, c.S2
	g := num / den
	eg := S0 / (nf * (nf - 1))
	b0 := (nf*nf-3*nf+3)*S1 - nf*S2 + 3*S0*S0
	b1 := -((nf*nf-nf)*S1 - 2*nf*S2 + 6*S0*S0)
	b2 := -(2*nf*S1 - (nf+3)*S2 + 6*S0*S0)
	b3 := 4*(nf-1)*S1 - 2*(nf+1)*S2 + 8*S0*S0
	b4 := S1 - S2 + S0*S0
	vg := (b0*m2*m2+b1*m4+b2*m1*m1*m2+b3*m1*m3+b4*m1*m1*m1*m1)/
		(den*den*nf*(nf-1)*(nf-2)*(nf-3)) - eg*eg
	z := (g - eg) / math.Sqrt(vg)
	return GlobalG{G: g, EG: eg, VG: vg, Z: z, P: upperTail(z)}, nil
}

// wconst are the weight constants S0, S1, S2 of Cliff & Ord.
type wconst struct{ S0, S1, S2 float64 }

// constants computes S0 = sum w_ij, S1 = 1/2 sum (w_ij + w_ji)^2 and
// S2 = sum_i (w_i. + w_.i)^2 for weights that may be asymmetric. Its
// only error wraps ctx.Err().
func weightConstants(ctx context.Context, w *Weights) (wconst, error) {
	var c wconst
	rows := make([]float64, w.N)
	cols := make([]float64, w.N)
	// transpose lookup for S1: sum (w_ij + w_ji)^2 = 2 sum w_ij^2 + 2 sum w_ij w_ji
	var sq, cross float64
	cc := canceller{ctx: ctx}
	for i := range w.N {
		// A link costs a binary search here: count it as a few units.
		if err := cc.step(1 + 4*int(w.Offsets[i+1]-w.Offsets[i])); err != nil {
			return wconst{}, err
		}
		for k := w.Offsets[i]; k < w.Offsets[i+1]; k++ {
			j := w.Neighbors[k]
			v := w.weight(k)
			c.S0 += v
			rows[i] += v
			cols[j] += v
			sq += v * v
			cross += v * w.at(int(j), int32(i))
		}
	}
	c.S1 = sq + cross
	for i := range w.N {
		s := rows[i] + cols[i]
		c.S2 += s * s
	}
	return c, nil
}

// at returns w_ij (0 when j is not a neighbour of i). Rows built by this
// package are sorted, so it uses binary search when possible.
func (w *Weights) at(i int, j int32) float64 {
	a, b := int(w.Offsets[i]), int(w.Offsets[i+1])
	row := w.Neighbors[a:b]
	// binary search assuming sorted; verify and fall back to a scan
	lo, hi := 0, len(row)
	for lo < hi {
		m := (lo + hi) / 2
		if row[m] < j {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(row) && row[lo] == j {
		return w.weight(int32(a + lo))
	}
	for k, v := range row {
		if v == j {
			return w.weight(int32(a + k))
		}
	}
	return 0
}

// twoSided is the two-sided normal p-value erfc(|z|/sqrt 2); NaN for NaN.
func twoSided(z float64) float64 {
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// upperTail is 1 - Phi(z).
func upperTail(z float64) float64 {
	return 0.5 * math.Erfc(z/math.Sqrt2)
}

// meanVariance returns the mean of y and its population variance (divided
// by n, as Gi* uses it).
func meanVariance(y []float64) (mean, variance float64) {
	nf := float64(len(y))
	var sum float64
	for _, v := range y {
		sum += v
	}
	mean = sum / nf
	var ss float64
	for _, v := range y {
		d := v - mean
		ss += d * d
	}
	return mean, ss / nf
}
