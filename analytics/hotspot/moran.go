package hotspot

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// GlobalMoran is Moran's I with its expectation -1/(n-1), its variance
// under the normality and randomisation assumptions, the z of each and
// their one-sided p-values for positive autocorrelation (alternative
// "greater", 1 - Phi(z)), as spdep moran.test and esda Moran (p_norm)
// publish them. A two-sided p is 2*min(P, 1-P).
type GlobalMoran struct{ I, EI, VarNorm, VarRand, ZNorm, ZRand, PNorm, PRand float64 }

// MoranI computes global Moran's I of y with the weights as given: pass
// w.RowStandardized() for style "W" (esda's default transform "R") or
// binary weights for style "B". It stops early, with an error wrapping
// ctx.Err(), when ctx is done.
func MoranI(ctx context.Context, y []float64, w *Weights) (GlobalMoran, error) {
	n, err := checkValues(ctx, y, w)
	if err != nil {
		return GlobalMoran{}, fmt.Errorf("MoranI: %w", err)
	}
	if n < 4 {
		return GlobalMoran{}, fmt.Errorf("MoranI: %d locations, need 4: %w", n, ErrTooFew)
	}
	c, err := weightConstants(ctx, w)
	if err != nil {
		return GlobalMoran{}, fmt.Errorf("MoranI: %w", err)
	}
	if c.S0 == 0 {
		return GlobalMoran{}, fmt.Errorf("MoranI: %w", ErrNoNeighbors)
	}
	nf := float64(n)
	z := centredValues(y)
	var m2, m4, cross float64
	cc := canceller{ctx: ctx}
	for i, zi := range z {
		if err := cc.step(1 + int(w.Offsets[i+1]-w.Offsets[i])); err != nil {
			return GlobalMoran{}, fmt.Errorf("MoranI: %w", err)
		}
		m2 += zi * zi
		m4 += zi * zi * zi * zi
		var lag float64
		for k := w.Offsets[i]; k < w.Offsets[i+1]; k++ {
			lag += w.weight(k) * z[w.Neighbors[k]]
		}
		cross += zi * lag
	}
	S0, S1, S2 := c.S0, c.S1, c.S2
	r := GlobalMoran{I: nf / S0 * cross / m2, EI: -1 / (nf - 1)}
	s02 := S0 * S0
	r.VarNorm = (nf*nf*S1-nf*S2+3*s02)/(s02*(nf*nf-1)) - r.EI*r.EI
	k := (m4 / nf) / ((m2 / nf) * (m2 / nf))
	r.VarRand = (nf*((nf*nf-3*nf+3)*S1-nf*S2+3*s02)-k*(nf*(nf-1)*S1-2*nf*S2+6*s02))/
		((nf-1)*(nf-2)*(nf-3)*s02) - r.EI*r.EI
	r.ZNorm = (r.I - r.EI) / math.Sqrt(r.VarNorm)
	r.ZRand = (r.I - r.EI) / math.Sqrt(r.VarRand)
	r.PNorm = upperTail(r.ZNorm)
	r.PRand = upperTail(r.ZRand)
	return r, nil
}

func centredValues(y []float64) []float64 {
	var s float64
	for _, v := range y {
		s += v
	}
	mean := s / float64(len(y))
	z := make([]float64, len(y))
	for i, v := range y {
		z[i] = v - mean
	}
	return z
}

// Quadrant is the Moran scatterplot quadrant of a location, numbered as in
// GeoDa and esda: 1 HH, 2 LH, 3 LL, 4 HL; 0 when the value or its spatial
// lag equals the mean exactly (or the location has no neighbours).
type Quadrant int8

// Moran scatterplot quadrants.
const (
	QuadrantNone Quadrant = 0
	QuadrantHH   Quadrant = 1 // high value, high neighbours
	QuadrantLH   Quadrant = 2 // low value, high neighbours
	QuadrantLL   Quadrant = 3 // low value, low neighbours
	QuadrantHL   Quadrant = 4 // high value, low neighbours
)

// String returns "HH", "LH", "LL", "HL" or "".
func (q Quadrant) String() string {
	switch q {
	case QuadrantHH:
		return "HH"
	case QuadrantLH:
		return "LH"
	case QuadrantLL:
		return "LL"
	case QuadrantHL:
		return "HL"
	}
	return ""
}

// LocalMoranResult holds local Moran's I_i (Anselin 1995) for every
// location: I, its analytical z (Z), the conditional-permutation
// pseudo p-value (PSim), the scatterplot quadrant, and the permutation
// count and seed used.
type LocalMoranResult struct {
	I, Z, PSim   []float64
	Quadrant     []Quadrant
	Permutations int
	Seed         uint64
}

// LocalMoran computes local Moran's I_i = (z_i / m2) * sum_j w_ij z_j with
// z the deviations from the mean and m2 = sum z^2 / n, using w as given
// (row-standardise it for the usual style "W"). This is spdep localmoran
// (mlvar = TRUE); esda Moran_Local scales I_i by (n-1)/n instead.
//
// Z is the analytical z of I_i under spdep localmoran's default
// (conditional = TRUE, randomisation, Sokal et al. 1998):
// E[I_i] = -z_i^2 W_i / ((n-1) m2) and
// Var[I_i] = (z_i/m2)^2 n/(n-2) (W2_i - W_i^2/(n-1)) (m2 - z_i^2/(n-1)),
// W_i = sum_j w_ij, W2_i = sum_j w_ij^2.
//
// PSim is the esda-style folded pseudo p-value of conditional permutation:
// for each location the value z_i is held fixed and its neighbours' values
// are replaced by card(i) values drawn without replacement from the other
// n-1 locations, permutations times; with "larger" the number of draws
// whose I_i is >= the observed one, folded to permutations - larger when
// that is smaller, PSim = (larger + 1) / (permutations + 1), in
// (0, 1]. The random stream of location i is PCG(seed, i) from
// math/rand/v2, so the result depends only on (y, w, permutations, seed),
// not on scheduling. permutations <= 0 skips the simulation (PSim nil).
//
// The permutations cost O(permutations x links); every worker looks at
// ctx as it goes and the call returns an error wrapping ctx.Err() soon
// after ctx is done.
func LocalMoran(ctx context.Context, y []float64, w *Weights, permutations int, seed uint64) (LocalMoranResult, error) {
	n, err := checkValues(ctx, y, w)
	if err != nil {
		return LocalMoranResult{}, fmt.Errorf("LocalMoran: %w", err)
	}
	nf := float64(n)
	z := centredValues(y)
	var m2 float64
	for _, v := range z {
		m2 += v * v
	}
	m2 /= nf
	res := LocalMoranResult{
		I: make([]float64, n), Z: make([]float64, n),
		Quadrant: make([]Quadrant, n), Permutations: max(permutations, 0), Seed: seed,
	}
	cc := canceller{ctx: ctx}
	for i := range n {
		if err := cc.step(1 + int(w.Offsets[i+1]-w.Offsets[i])); err != nil {
			return LocalMoranResult{}, fmt.Errorf("LocalMoran: %w", err)
		}
		var lag, wi, wi2 float64
		for k := w.Offsets[i]; k < w.Offsets[i+1]; k++ {
			v := w.weight(k)
			lag += v * z[w.Neighbors[k]]
			wi += v
			wi2 += v * v
		}
		zi := z[i]
		ii := zi / m2 * lag
		e := -zi * zi * wi / ((nf - 1) * m2)
		v := (zi / m2) * (zi / m2) * (nf / (nf - 2)) * (wi2 - wi*wi/(nf-1)) * (m2 - zi*zi/(nf-1))
		res.I[i] = ii
		res.Z[i] = (ii - e) / math.Sqrt(v)
		if !(v > 0) {
			res.Z[i] = math.NaN()
		}
		switch {
		case wi == 0 || zi == 0 || lag == 0:
			res.Quadrant[i] = QuadrantNone
		case zi > 0 && lag > 0:
			res.Quadrant[i] = QuadrantHH
		case zi < 0 && lag > 0:
			res.Quadrant[i] = QuadrantLH
		case zi < 0 && lag < 0:
			res.Quadrant[i] = QuadrantLL
		default:
			res.Quadrant[i] = QuadrantHL
		}
	}
	if permutations > 0 {
		res.PSim = make([]float64, n)
		if err := simulateLocalMoran(ctx, z, m2, w, res.I, res.PSim, permutations, seed); err != nil {
			return LocalMoranResult{}, fmt.Errorf("LocalMoran: permutations: %w", err)
		}
	}
	return res, nil
}

// simulate fills psim by conditional permutation, in parallel over blocks
// of locations; each location has its own random stream. When ctx is done
// the feeder stops handing out blocks and every worker stops within
// checkEvery draws, so the error (ctx's) comes back promptly.
func simulateLocalMoran(ctx context.Context, z []float64, m2 float64, w *Weights, obs, psim []float64, perms int, seed uint64) error {
	n := len(z)
	workers := min(runtime.GOMAXPROCS(0), max(1, n/64))
	var wg sync.WaitGroup
	next := make(chan int, workers)
	const block = 64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scratch []int32
			pick := make([]int32, 0, 32)
			cc := canceller{ctx: ctx}
			var err error
			for start := range next {
				for i := start; i < min(start+block, n); i++ {
					psim[i], scratch, pick, err = permuteLocation(&cc, i, z, m2, w, obs[i], perms, seed, scratch, pick)
					if err != nil {
						// Only ctx's error stops a worker, and the feeder
						// then stops too: leaving is safe.
						return
					}
				}
			}
		}()
	}
feed:
	for start := 0; start < n; start += block {
		select {
		case next <- start:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}

// permute returns the folded pseudo p-value of location i. Its only error
// is cc's (the context's): every draw of a neighbour counts as a unit of
// work, so that even a location with many neighbours and many
// permutations stops promptly.
func permuteLocation(cc *canceller, i int, z []float64, m2 float64, w *Weights, obs float64, perms int, seed uint64, scratch, pick []int32) (float64, []int32, []int32, error) {
	n := len(z)
	a, b := w.Offsets[i], w.Offsets[i+1]
	k := int(b - a)
	if k == 0 {
		return math.NaN(), scratch, pick, nil
	}
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	others := n - 1 // candidates 0..n-2, mapped past i
	useFY := 4*k > others
	if useFY {
		if cap(scratch) < others {
			scratch = make([]int32, others)
		}
		scratch = scratch[:others]
		for c := range scratch {
			scratch[c] = int32(c)
		}
	}
	zi := z[i] / m2
	larger := 0
	for range perms {
		if err := cc.step(k + 1); err != nil {
			return math.NaN(), scratch, pick, err
		}
		pick = pick[:0]
		if useFY {
			for c := range k {
				r := c + rng.IntN(others-c)
				scratch[c], scratch[r] = scratch[r], scratch[c]
			}
			pick = append(pick, scratch[:k]...)
		} else {
		draw:
			for len(pick) < k {
				c := int32(rng.IntN(others))
				for _, q := range pick {
					if q == c {
						continue draw
					}
				}
				pick = append(pick, c)
			}
		}
		var lag float64
		for c, q := range pick {
			j := int(q)
			if j >= i {
				j++
			}
			lag += w.weight(a+int32(c)) * z[j]
		}
		if zi*lag >= obs {
			larger++
		}
	}
	if perms-larger < larger {
		larger = perms - larger
	}
	return float64(larger+1) / float64(perms+1), scratch, pick, nil
}
