package hotspot

import (
	"math"
	"testing"
)

// spaceTimeGiStar must give bit for bit the z-scores and p-values of Gi*
// over the materialised cube (CubeWeights), including for space weights
// with values (ignored: the cube is binary) and a self-link.
func TestSpaceTimeGiStarMatchesCube(t *testing.T) {
	cells, counts := SyntheticCube(3_000, 12, 5)
	space, err := HexWeights(t.Context(), cells, 2)
	if err != nil {
		t.Fatal(err)
	}
	odd := &Weights{N: 4, Offsets: []int32{0, 2, 3, 4, 5}, Neighbors: []int32{0, 1, 0, 3, 2}, Values: []float64{0.5, 0.5, 1, 1, 1}}
	for _, c := range []struct {
		name  string
		space *Weights
		y     []float64
	}{
		{"k-rings", space, cubeValues(counts)},
		{"values and a self-link", odd, []float64{1, 0, 3, 2, 5, 1, 0, 0, 2, 7, 1, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			steps := len(c.y) / c.space.N
			cube, err := CubeWeights(t.Context(), c.space, steps)
			if err != nil {
				t.Fatal(err)
			}
			want, err := GiStar(t.Context(), c.y, cube)
			if err != nil {
				t.Fatal(err)
			}
			got, err := spaceTimeGiStar(t.Context(), c.y, c.space, steps)
			if err != nil {
				t.Fatal(err)
			}
			for b := range want.Z {
				if !same(got.Z[b], want.Z[b]) || !same(got.P[b], want.P[b]) {
					t.Fatalf("bin %d: z %v p %v, cube z %v p %v", b, got.Z[b], got.P[b], want.Z[b], want.P[b])
				}
			}
		})
	}
}

func cubeValues(counts [][]int64) []float64 {
	var y []float64
	for _, row := range counts {
		for _, c := range row {
			y = append(y, float64(c))
		}
	}
	return y
}

// same is == that also holds for two NaNs.
func same(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
