package hotspot

import (
	"math"
	"testing"
)

// states builds a Gi* z series from a pattern: 'H' hot (z = 3), 'C' cold
// (z = -3), '.' not significant (z = 0.5); p follows from z. Optional
// z overrides (for trend cases) replace the pattern's values.
func ehsaSeries(pattern string, zs ...float64) (z, p []float64) {
	z = make([]float64, len(pattern))
	for i, c := range pattern {
		switch c {
		case 'H':
			z[i] = 3
		case 'C':
			z[i] = -3
		default:
			z[i] = 0.5
		}
	}
	if len(zs) > 0 {
		z = zs
	}
	p = make([]float64, len(z))
	for i, v := range z {
		p[i] = math.Erfc(math.Abs(v) / math.Sqrt2)
	}
	return z, p
}

func refRamp(from, to float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = from + (to-from)*float64(i)/float64(n-1)
	}
	return out
}

func refNeg(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = -v
	}
	return out
}

func TestClassifyEmerging(t *testing.T) {
	type tc struct {
		name    string
		pattern string
		z       []float64 // optional explicit z (hot side)
		hot     EmergingCategory
		cold    EmergingCategory
	}
	cases := []tc{
		{"new", ".........H", nil, NewHotSpot, NewColdSpot},
		{"new after opposite", "C........H", nil, NewHotSpot, NewColdSpot},
		{"consecutive", ".......HHH", nil, ConsecutiveHotSpot, ConsecutiveColdSpot},
		{"consecutive long", ".HHHHHHHHH", refRamp(0.5, 0.5, 10), ConsecutiveHotSpot, ConsecutiveColdSpot}, // 9 of 10 < 90%? no: see override below
		{"intensifying", "HHHHHHHHHH", refRamp(2.1, 3.9, 10), IntensifyingHotSpot, IntensifyingColdSpot},
		{"persistent", "HHHHHHHHHH", []float64{3, 2.5, 3, 2.5, 3, 2.5, 3, 2.5, 3, 2.5}, PersistentHotSpot, PersistentColdSpot},
		{"persistent with a gap", "HHHH.HHHHH", []float64{3, 2.5, 3, 2.5, 0.5, 2.5, 3, 2.5, 3, 2.5}, PersistentHotSpot, PersistentColdSpot},
		{"diminishing", "HHHHHHHHHH", refRamp(3.9, 2.1, 10), DiminishingHotSpot, DiminishingColdSpot},
		{"sporadic", "H.H..H...H", nil, SporadicHotSpot, SporadicColdSpot},
		{"sporadic run broken", "HH.....HHH", nil, SporadicHotSpot, SporadicColdSpot},
		{"consecutive after opposite", "C......HHH", nil, ConsecutiveHotSpot, ConsecutiveColdSpot},
		{"oscillating", "H.C..H..HH", nil, OscillatingHotSpot, OscillatingColdSpot},
		{"oscillating single run", "..C....H.H", nil, OscillatingHotSpot, OscillatingColdSpot},
		{"historical", "HHHHHHHHH.", []float64{3, 3, 3, 3, 3, 3, 3, 3, 3, 0.5}, HistoricalHotSpot, HistoricalColdSpot},
		{"none", "..........", nil, NoPattern, NoPattern},
		{"none final insignificant", "HHH.......", nil, NoPattern, NoPattern},
	}
	// ".HHHHHHHHH" is 9 of 10 = 90% hot: the >= 90% rule wins over
	// consecutive; with no trend in z it is persistent.
	cases[3] = tc{"90% beats consecutive", ".HHHHHHHHH", []float64{0.5, 3, 2.5, 3, 2.5, 3, 2.5, 3, 2.5, 3}, PersistentHotSpot, PersistentColdSpot}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			z, p := ehsaSeries(c.pattern, c.z...)
			got, mk := ClassifyEmerging(z, p, 0.05)
			if got != c.hot {
				t.Errorf("hot: %q, want %q (MK %+v)", got, c.hot, mk)
			}
			if !got.IsHot() && got != NoPattern {
				t.Errorf("%q not hot", got)
			}
			zc := refNeg(z)
			got, _ = ClassifyEmerging(zc, p, 0.05)
			if got != c.cold {
				t.Errorf("cold: %q, want %q", got, c.cold)
			}
			if !got.IsCold() && got != NoPattern {
				t.Errorf("%q not cold", got)
			}
		})
	}
}

func TestClassifyEmergingFinalBeatsHistorical(t *testing.T) {
	// 9 of 10 hot but the final step is cold: the final-step pattern wins.
	z, p := ehsaSeries("HHHHHHHHHC")
	if got, _ := ClassifyEmerging(z, p, 0.05); got != NewColdSpot {
		t.Errorf("got %q, want %q", got, NewColdSpot)
	}
	if got, _ := ClassifyEmerging(nil, nil, 0.05); got != NoPattern {
		t.Errorf("empty: %q", got)
	}
	if len(EmergingCategories()) != 17 {
		t.Errorf("%d categories", len(EmergingCategories()))
	}
}
