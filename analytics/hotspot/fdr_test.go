package hotspot

import (
	"math"
	"slices"
	"testing"
)

// TestFDRBinsByHand checks Benjamini-Hochberg at each level against a
// hand computation (m = 10 finite p-values; the NaN is not in the family).
//
//	k        1     2     3     4     5     6     7     8     9     10
//	p_(k) .001  .008  .039  .041  .042  .059  .074  .205  .212  .216
//	alpha=.01: k*.001 -> largest k with p_(k) <= k*.001 is 1 (cut .001)
//	alpha=.05: k*.005 -> largest k is 2 (cut .008)
//	alpha=.10: k*.010 -> largest k is 6 (.059 <= .06; step-up: k=3,4 fail
//	           but are still significant because k=6 passes)
func TestFDRBinsByHand(t *testing.T) {
	p := []float64{0.001, 0.008, 0.039, 0.041, 0.042, 0.059, 0.074, 0.205, 0.212, 0.216, math.NaN()}
	z := []float64{3.3, 2.7, 2.1, -2.0, 2.0, 1.9, 1.8, 1.3, -1.2, 1.2, 1}
	wantFDR := []int8{3, 2, 1, -1, 1, 1, 0, 0, 0, 0, 0}
	wantRaw := []int8{3, 3, 2, -2, 2, 1, 1, 0, 0, 0, 0}
	if got := FDRBins(z, p); !slices.Equal(got, wantFDR) {
		t.Errorf("FDRBins = %v, want %v", got, wantFDR)
	}
	if got := RawBins(z, p); !slices.Equal(got, wantRaw) {
		t.Errorf("RawBins = %v, want %v", got, wantRaw)
	}
	// the input order does not matter
	perm := []int{7, 3, 10, 0, 9, 5, 1, 8, 2, 6, 4}
	pp, zz, want := make([]float64, len(p)), make([]float64, len(p)), make([]int8, len(p))
	for i, j := range perm {
		pp[i], zz[i], want[i] = p[j], z[j], wantFDR[j]
	}
	if got := FDRBins(zz, pp); !slices.Equal(got, want) {
		t.Errorf("permuted FDRBins = %v, want %v", got, want)
	}
}

func TestFDRBinsNeverMoreThanRaw(t *testing.T) {
	p := []float64{1e-9, 0.0099, 0.01, 0.049, 0.05, 0.099, 0.1, 0.5, 1}
	z := []float64{6, -2.6, 2.6, -2, 2, 1.65, -1.65, 0.6, 0}
	f, r := FDRBins(z, p), RawBins(z, p)
	for i := range f {
		if refAbs8(f[i]) > refAbs8(r[i]) {
			t.Errorf("%d: FDR bin %d stronger than raw %d", i, f[i], r[i])
		}
	}
	if f[0] != 3 || r[8] != 0 || f[8] != 0 {
		t.Errorf("FDR %v raw %v", f, r)
	}
	if len(FDRBins(nil, nil)) != 0 {
		t.Error("empty input")
	}
}

func refAbs8(b int8) int8 {
	if b < 0 {
		return -b
	}
	return b
}
