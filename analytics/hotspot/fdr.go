package hotspot

import (
	"math"
	"slices"
)

// confidence binAlphas of the bins, highest first: bin magnitude 3, 2, 1.
var binAlphas = [3]float64{0.01, 0.05, 0.10}

// FDRBins returns ArcGIS-style confidence bins with the Benjamini-Hochberg
// false discovery rate correction applied separately at each confidence
// level (alpha = 0.01, 0.05, 0.10), the family being every location with a
// finite p-value. A location gets ±3 when it is significant at 99% after
// correction, else ±2 at 95%, else ±1 at 90%, else 0; the sign is the sign
// of z. Locations with a NaN z or p get 0. len(p) must equal len(z); the
// result has len(z) entries (extra entries of the longer slice are
// ignored).
//
// BH at level alpha: sort the m finite p-values ascending, find the largest
// k with p_(k) <= k*alpha/m and declare significant every p <= p_(k).
func FDRBins(z, p []float64) []int8 {
	n := min(len(z), len(p))
	sorted := make([]float64, 0, n)
	for _, v := range p[:n] {
		if !math.IsNaN(v) {
			sorted = append(sorted, v)
		}
	}
	slices.Sort(sorted)
	m := float64(len(sorted))
	var cut [3]float64
	for l, alpha := range binAlphas {
		cut[l] = math.Inf(-1)
		for k := len(sorted); k >= 1; k-- {
			if sorted[k-1] <= float64(k)*alpha/m {
				cut[l] = sorted[k-1]
				break
			}
		}
	}
	return confidenceBins(z[:n], p[:n], func(l int, pv float64) bool { return pv <= cut[l] })
}

// RawBins returns the same confidence bins as FDRBins without multiple
// testing correction: ±3 when p < 0.01, ±2 when p < 0.05, ±1 when p < 0.10.
func RawBins(z, p []float64) []int8 {
	n := min(len(z), len(p))
	return confidenceBins(z[:n], p[:n], func(l int, pv float64) bool { return pv < binAlphas[l] })
}

func confidenceBins(z, p []float64, sig func(level int, p float64) bool) []int8 {
	out := make([]int8, len(z))
	for i := range z {
		if math.IsNaN(z[i]) || math.IsNaN(p[i]) || z[i] == 0 {
			continue
		}
		var b int8
		for l := range binAlphas {
			if sig(l, p[i]) {
				b = int8(3 - l)
				break
			}
		}
		if z[i] < 0 {
			b = -b
		}
		out[i] = b
	}
	return out
}
