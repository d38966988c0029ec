package hotspot_test

import (
	"context"
	"fmt"

	"github.com/crimemap/crimemap/analytics/hotspot"
)

// The esda toy: six points, binary distance band 15.
func ExampleGiStar() {
	xy := [][2]float64{{10, 10}, {20, 10}, {40, 10}, {15, 20}, {30, 20}, {30, 30}}
	y := []float64{2, 3, 3.2, 5, 8, 7}
	w := hotspot.DistanceBand(xy, 0, 15)
	g, err := hotspot.GiStar(context.Background(), y, w)
	if err != nil {
		panic(err)
	}
	for i := range y {
		fmt.Printf("%d: z %+.4f p %.3f\n", i, g.Z[i], g.P[i])
	}
	fmt.Println(hotspot.FDRBins(g.Z, g.P), hotspot.RawBins(g.Z, g.P))
	// Output:
	// 0: z -1.3973 p 0.162
	// 1: z -0.2892 p 0.772
	// 2: z +0.6506 p 0.515
	// 3: z -0.2892 p 0.772
	// 4: z +1.2345 p 0.217
	// 5: z +2.0242 p 0.043
	// [0 0 0 0 0 0] [0 0 0 0 0 2]
}

func ExampleClassifyEmerging() {
	// Gi* z of one cell over ten months: significant (p < 0.05) only in the
	// last three.
	z := []float64{0.2, -0.5, 0.9, 0.4, 1.1, 0.3, 0.8, 2.4, 2.9, 3.3}
	p := make([]float64, len(z))
	for i, v := range z {
		if v > 1.96 {
			p[i] = 0.01
		} else {
			p[i] = 0.5
		}
	}
	cat, mk := hotspot.ClassifyEmerging(z, p, 0.05)
	fmt.Println(cat, mk.Trend)
	// Output: consecutive hot spot 1
}
