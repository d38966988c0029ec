package hotspot

import (
	"math"
	"testing"
)

func TestMannKendallByHand(t *testing.T) {
	for _, tc := range []struct {
		name  string
		x     []float64
		s, v  float64
		z, p  float64
		tau   float64
		trend int
	}{
		// x = 1 2 2 3 1: S = +3 (from x1) + 0 + 0 - 1 = 2; ties {1,1},{2,2}:
		// Var = (5*4*15 - 2*(2*1*9)) / 18 = 264/18; z = (S-1)/sqrt(Var).
		{"ties", []float64{1, 2, 2, 3, 1}, 2, 264.0 / 18, 1 / math.Sqrt(264.0/18), 0.7940050, 0.2, 0},
		// 1 1 2 2 3 3 4 4: 28 pairs, 4 tied, S = 24; Var = (8*7*21 - 4*18)/18.
		{"ties-trend", []float64{1, 1, 2, 2, 3, 3, 4, 4}, 24, 1104.0 / 18, 23 / math.Sqrt(1104.0/18), 0.0033157, 24.0 / 28, 1},
		// strictly decreasing 10 values: S = -45, Var = 10*9*25/18 = 125.
		{"down", []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, -45, 125, -44 / math.Sqrt(125), 8.30e-5, -1, -1},
		{"flat", []float64{3, 3, 3, 3}, 0, 0, 0, 1, 0, 0},
		{"nan dropped", []float64{1, math.NaN(), 2, 2, 3, 1}, 2, 264.0 / 18, 1 / math.Sqrt(264.0/18), 0.7940050, 0.2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := MannKendall(tc.x)
			if r.S != tc.s || math.Abs(r.VarS-tc.v) > 1e-12 || math.Abs(r.Z-tc.z) > 1e-12 ||
				math.Abs(r.Tau-tc.tau) > 1e-12 || r.Trend != tc.trend {
				t.Errorf("got %+v, want S %v Var %v z %v tau %v trend %d", r, tc.s, tc.v, tc.z, tc.tau, tc.trend)
			}
			if math.Abs(r.P-tc.p) > 1e-6 && math.Abs(r.P-tc.p)/tc.p > 1e-2 {
				t.Errorf("P = %v, want %v", r.P, tc.p)
			}
		})
	}
}
