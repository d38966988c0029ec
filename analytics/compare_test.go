package analytics_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/crimemap/crimemap/analytics"
)

func cmpPtr(f float64) *float64 { return &f }

func TestCompare(t *testing.T) {
	base := analytics.Period{Label: "2024-Q3", Kind: analytics.PeriodQuarter}
	tests := []struct {
		current, base int64
		diff          int64
		percent       *float64
		z             float64
		significant   bool
	}{
		{10, 10, 0, cmpPtr(0), 0, false},
		{12, 10, 2, cmpPtr(20), 2 * (math.Sqrt(12) - math.Sqrt(10)), false},
		{4, 2, 2, nil, 2 * (2 - math.Sqrt2), false}, // base below MinBaseForPercent: not "+100%"
		{15, 9, 6, nil, 2 * (math.Sqrt(15) - 3), false},
		{4, 1, 3, nil, 2, true}, // |Z| == SignificantZ is significant
		{100, 81, 19, cmpPtr(100 * 19.0 / 81), 2, true},
		{81, 100, -19, cmpPtr(-19), -2, true},
		{99, 81, 18, cmpPtr(100 * 18.0 / 81), 2 * (math.Sqrt(99) - 9), false},
		{0, 9, -9, nil, -6, true},
		{5, 0, 5, nil, 2 * math.Sqrt(5), true},
		{0, 0, 0, nil, 0, false},
		{0, 40, -40, cmpPtr(-100), -2 * math.Sqrt(40), true},
		{-3, 4, -7, nil, -4, true}, // a negative count counts as 0 in Z
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d-vs-%d", tt.current, tt.base), func(t *testing.T) {
			c := analytics.Compare(tt.current, tt.base, base)
			if c.Period != base || c.Base != tt.base || c.Diff != tt.diff {
				t.Errorf("got %+v", c)
			}
			switch {
			case (c.Percent == nil) != (tt.percent == nil):
				t.Errorf("Percent = %v, want %v", c.Percent, tt.percent)
			case c.Percent != nil && math.Abs(*c.Percent-*tt.percent) > 1e-9:
				t.Errorf("Percent = %v, want %v", *c.Percent, *tt.percent)
			}
			if math.Abs(c.Z-tt.z) > 1e-12 || c.Significant != tt.significant {
				t.Errorf("Z = %v (significant %v), want %v (%v)", c.Z, c.Significant, tt.z, tt.significant)
			}
		})
	}
}

func TestRatePer1000(t *testing.T) {
	tests := []struct {
		count, population int64
		want              *float64
	}{
		{5, 2000, cmpPtr(2.5)},
		{0, 100, cmpPtr(0)},
		{12, 12000, cmpPtr(1)},
		{3, 1, cmpPtr(3000)},
		{5, 0, nil},
		{5, -1, nil},
	}
	for _, tt := range tests {
		got := analytics.RatePer1000(tt.count, tt.population)
		if (got == nil) != (tt.want == nil) || got != nil && math.Abs(*got-*tt.want) > 1e-12 {
			t.Errorf("RatePer1000(%d, %d) = %v, want %v", tt.count, tt.population, got, tt.want)
		}
	}
}

func ExampleCompare() {
	lastYear := analytics.Period{Label: "2024-Q3", Kind: analytics.PeriodQuarter}
	for _, c := range [][2]int64{{4, 2}, {120, 100}, {130, 100}, {0, 9}} {
		cmp := analytics.Compare(c[0], c[1], lastYear)
		pct := "n/a"
		if cmp.Percent != nil {
			pct = fmt.Sprintf("%+.1f%%", *cmp.Percent)
		}
		fmt.Printf("%d vs %d: %+d %s z=%.2f significant=%v\n", c[0], c[1], cmp.Diff, pct, cmp.Z, cmp.Significant)
	}
	// Output:
	// 4 vs 2: +2 n/a z=1.17 significant=false
	// 120 vs 100: +20 +20.0% z=1.91 significant=false
	// 130 vs 100: +30 +30.0% z=2.80 significant=true
	// 0 vs 9: -9 n/a z=-6.00 significant=true
}

func ExampleRatePer1000() {
	fmt.Printf("%.2f\n", *analytics.RatePer1000(37, 15200))
	fmt.Println(analytics.RatePer1000(37, 0) == nil)
	// Output:
	// 2.43
	// true
}
