package hotspot

import "math"

// EmergingCategory is an Emerging Hot Spot Analysis pattern, named as in
// ArcGIS Pro.
type EmergingCategory string

// The seventeen Emerging Hot Spot Analysis categories.
const (
	NoPattern            EmergingCategory = "no pattern detected"
	NewHotSpot           EmergingCategory = "new hot spot"
	ConsecutiveHotSpot   EmergingCategory = "consecutive hot spot"
	IntensifyingHotSpot  EmergingCategory = "intensifying hot spot"
	PersistentHotSpot    EmergingCategory = "persistent hot spot"
	DiminishingHotSpot   EmergingCategory = "diminishing hot spot"
	SporadicHotSpot      EmergingCategory = "sporadic hot spot"
	OscillatingHotSpot   EmergingCategory = "oscillating hot spot"
	HistoricalHotSpot    EmergingCategory = "historical hot spot"
	NewColdSpot          EmergingCategory = "new cold spot"
	ConsecutiveColdSpot  EmergingCategory = "consecutive cold spot"
	IntensifyingColdSpot EmergingCategory = "intensifying cold spot"
	PersistentColdSpot   EmergingCategory = "persistent cold spot"
	DiminishingColdSpot  EmergingCategory = "diminishing cold spot"
	SporadicColdSpot     EmergingCategory = "sporadic cold spot"
	OscillatingColdSpot  EmergingCategory = "oscillating cold spot"
	HistoricalColdSpot   EmergingCategory = "historical cold spot"
)

// EmergingCategories lists every category, hot first, then cold, then
// NoPattern.
func EmergingCategories() []EmergingCategory {
	return []EmergingCategory{
		NewHotSpot, ConsecutiveHotSpot, IntensifyingHotSpot, PersistentHotSpot,
		DiminishingHotSpot, SporadicHotSpot, OscillatingHotSpot, HistoricalHotSpot,
		NewColdSpot, ConsecutiveColdSpot, IntensifyingColdSpot, PersistentColdSpot,
		DiminishingColdSpot, SporadicColdSpot, OscillatingColdSpot, HistoricalColdSpot,
		NoPattern,
	}
}

// IsHot reports whether c is one of the hot spot categories.
func (c EmergingCategory) IsHot() bool {
	switch c {
	case NewHotSpot, ConsecutiveHotSpot, IntensifyingHotSpot, PersistentHotSpot,
		DiminishingHotSpot, SporadicHotSpot, OscillatingHotSpot, HistoricalHotSpot:
		return true
	}
	return false
}

// IsCold reports whether c is one of the cold spot categories.
func (c EmergingCategory) IsCold() bool {
	return c != NoPattern && c != "" && !c.IsHot()
}

// ClassifyEmerging classifies one location from its Gi* z and p at each
// time step (oldest first, equal lengths) into an ArcGIS Pro Emerging Hot
// Spot Analysis category, and returns the Mann-Kendall test of the z
// series used for the intensifying / persistent / diminishing split. A
// step is hot when p < alpha and z > 0, cold when p < alpha and z < 0
// (NaN is neither). See the package documentation for the precedence.
func ClassifyEmerging(z, p []float64, alpha float64) (EmergingCategory, MKResult) {
	t := min(len(z), len(p))
	mk := MannKendall(z[:t])
	if t == 0 {
		return NoPattern, mk
	}
	state := make([]int, t) // +1 hot, -1 cold, 0 neither
	for i := range t {
		if p[i] < alpha && !math.IsNaN(z[i]) {
			switch {
			case z[i] > 0:
				state[i] = 1
			case z[i] < 0:
				state[i] = -1
			}
		}
	}
	final := state[t-1]
	if final != 0 {
		return emergingPattern(state, final, mk.Trend), mk
	}
	for _, s := range []int{1, -1} {
		if atLeast90(countState(state, s), t) {
			return pickSide(s, HistoricalHotSpot, HistoricalColdSpot), mk
		}
	}
	return NoPattern, mk
}

// emergingPattern classifies a location whose final step has state s
// (+1 hot or -1 cold), in the precedence documented in doc.go.
func emergingPattern(state []int, s int, trend int) EmergingCategory {
	t := len(state)
	n := countState(state, s)
	// length of the run of s ending at the final step
	run := 0
	for i := t - 1; i >= 0 && state[i] == s; i-- {
		run++
	}
	switch {
	case n == 1:
		return pickSide(s, NewHotSpot, NewColdSpot)
	case atLeast90(n, t):
		switch trend * s {
		case 1:
			return pickSide(s, IntensifyingHotSpot, IntensifyingColdSpot)
		case -1:
			return pickSide(s, DiminishingHotSpot, DiminishingColdSpot)
		}
		return pickSide(s, PersistentHotSpot, PersistentColdSpot)
	case run == n: // n >= 2 here
		return pickSide(s, ConsecutiveHotSpot, ConsecutiveColdSpot)
	case countState(state, -s) > 0:
		return pickSide(s, OscillatingHotSpot, OscillatingColdSpot)
	}
	return pickSide(s, SporadicHotSpot, SporadicColdSpot)
}

func pickSide(s int, hot, cold EmergingCategory) EmergingCategory {
	if s > 0 {
		return hot
	}
	return cold
}

func countState(state []int, s int) int {
	c := 0
	for _, v := range state {
		if v == s {
			c++
		}
	}
	return c
}

// atLeast90 reports k >= 0.9 n without rounding error.
func atLeast90(k, n int) bool { return 10*k >= 9*n }
