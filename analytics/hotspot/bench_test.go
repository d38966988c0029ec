package hotspot

import (
	"math/rand/v2"
	"testing"
)

// syntheticHex builds n H3-like locations on an axial hexagonal lattice:
// every location links its 6 ring-1 neighbours, and every third location
// also its 12 ring-2 cells (6-18 neighbours, like mixed k = 1 / k = 2
// neighbourhoods), with Poisson-like counts.
func syntheticHex(tb testing.TB, n int) ([]float64, *Weights) {
	side := 1
	for side*side < n {
		side++
	}
	ring1 := [][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {1, -1}, {-1, 1}}
	var ring2 [][2]int
	for dq := -2; dq <= 2; dq++ {
		for dr := -2; dr <= 2; dr++ {
			if d := max(refAbs(dq), refAbs(dr), refAbs(dq+dr)); d == 2 {
				ring2 = append(ring2, [2]int{dq, dr})
			}
		}
	}
	nb := make([][]int32, n)
	for i := range n {
		q, r := i%side, i/side
		add := func(d [2]int) {
			qq, rr := q+d[0], r+d[1]
			if qq >= 0 && qq < side && rr >= 0 {
				if j := rr*side + qq; j < n {
					nb[i] = append(nb[i], int32(j))
				}
			}
		}
		for _, d := range ring1 {
			add(d)
		}
		if i%3 == 0 {
			for _, d := range ring2 {
				add(d)
			}
		}
	}
	w, err := NewBinaryWeights(nb)
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	y := make([]float64, n)
	for i := range y {
		lambda := 2.0
		if (i/side)%50 < 5 && (i%side)%40 < 4 { // a few clusters
			lambda = 9
		}
		k := 0
		for s := rng.ExpFloat64(); s < lambda; s += rng.ExpFloat64() {
			k++
		}
		y[i] = float64(k)
	}
	return y, w
}

func refAbs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

var refBenchSink []int8

func BenchmarkGiStarFDR100k(b *testing.B) {
	y, w := syntheticHex(b, 100_000)
	for b.Loop() {
		g, err := GiStar(b.Context(), y, w)
		if err != nil {
			b.Fatal(err)
		}
		refBenchSink = FDRBins(g.Z, g.P)
	}
	b.ReportMetric(float64(w.Links())/float64(w.N), "links/loc")
}

func BenchmarkLocalMoran10k999(b *testing.B) {
	y, w := syntheticHex(b, 10_000)
	rw := w.RowStandardized()
	for b.Loop() {
		r, err := LocalMoran(b.Context(), y, rw, 999, 1)
		if err != nil {
			b.Fatal(err)
		}
		refBenchSink = make([]int8, len(r.PSim))
	}
}
