package hotspot

import (
	"math"
	"slices"
)

// MKResult is the Mann-Kendall trend test of a series: the statistic S,
// its variance under no trend with the ties correction, the continuity
// corrected z, the two-sided p-value, Kendall's tau-a = S / (n(n-1)/2)
// and the trend direction (+1 increasing, -1 decreasing, 0 none) at
// alpha = 0.05, two-sided.
type MKResult struct {
	S    float64
	VarS float64
	Z, P float64
	Tau  float64
	// Trend is +1, -1 or 0 (P >= 0.05 or too short a series).
	Trend int
}

// mkAlpha is the two-sided significance level of MKResult.Trend.
const mkAlpha = 0.05

// MannKendall runs the Mann-Kendall trend test on series (oldest first).
// NaN entries are dropped. S = sum_{i<j} sign(x_j - x_i);
// Var(S) = [n(n-1)(2n+5) - sum_t t(t-1)(2t+5)] / 18 over groups of t tied
// values; z = (S-1)/sqrt(Var) for S > 0, (S+1)/sqrt(Var) for S < 0, else 0;
// P = 2(1 - Phi(|z|)). With fewer than 3 values, or no variation, the
// result has P = 1 and Trend 0 (as in pymannkendall).
func MannKendall(series []float64) MKResult {
	x := make([]float64, 0, len(series))
	for _, v := range series {
		if !math.IsNaN(v) {
			x = append(x, v)
		}
	}
	n := len(x)
	r := MKResult{P: 1}
	if n < 2 {
		return r
	}
	var s int
	for i := range n {
		for j := i + 1; j < n; j++ {
			switch {
			case x[j] > x[i]:
				s++
			case x[j] < x[i]:
				s--
			}
		}
	}
	nf := float64(n)
	slices.Sort(x)
	var ties float64
	for i := 0; i < n; {
		j := i
		for j < n && x[j] == x[i] {
			j++
		}
		t := float64(j - i)
		ties += t * (t - 1) * (2*t + 5)
		i = j
	}
	r.S = float64(s)
	r.VarS = (nf*(nf-1)*(2*nf+5) - ties) / 18
	r.Tau = r.S / (nf * (nf - 1) / 2)
	if r.VarS <= 0 {
		return r
	}
	switch {
	case s > 0:
		r.Z = (r.S - 1) / math.Sqrt(r.VarS)
	case s < 0:
		r.Z = (r.S + 1) / math.Sqrt(r.VarS)
	}
	r.P = twoSided(r.Z)
	if n >= 3 && r.P < mkAlpha {
		if r.Z > 0 {
			r.Trend = 1
		} else {
			r.Trend = -1
		}
	}
	return r
}
