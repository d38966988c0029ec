package demo

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestVoronoiCellsTileBoxAndContainNearestPoints(t *testing.T) {
	box := []vec{{0, 0}, {2, 0}, {2, 1}, {0, 1}}
	for _, n := range []int{1, 2, 3, 10, 200} {
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		sites := make([]vec, n)
		for i := range sites {
			sites[i] = vec{rng.Float64() * 2, rng.Float64()}
		}
		cells := voronoiCells(sites, box)
		sum := 0.0
		for i, c := range cells {
			a := polygonArea(c)
			if a <= 0 {
				t.Fatalf("n=%d: cell %d has area %g", n, i, a)
			}
			if !convexContains(c, sites[i]) {
				t.Fatalf("n=%d: site %d outside its cell", n, i)
			}
			sum += a
		}
		if math.Abs(sum-2) > 1e-9 {
			t.Fatalf("n=%d: cells cover %g, want 2", n, sum)
		}
		for range 2000 {
			p := vec{rng.Float64() * 2, rng.Float64()}
			best := 0
			for j := range sites {
				if p.dist2(sites[j]) < p.dist2(sites[best]) {
					best = j
				}
			}
			if !convexContains(cells[best], p) {
				t.Fatalf("n=%d: point %v not in the cell of its nearest site", n, p)
			}
		}
	}
}

func TestVoronoiGridSites(t *testing.T) {
	// Co-circular sites (a regular grid) are the degenerate case.
	box := []vec{{0, 0}, {4, 0}, {4, 4}, {0, 4}}
	var sites []vec
	for y := range 4 {
		for x := range 4 {
			sites = append(sites, vec{float64(x) + 0.5, float64(y) + 0.5})
		}
	}
	for i, c := range voronoiCells(sites, box) {
		if a := polygonArea(c); math.Abs(a-1) > 1e-12 {
			t.Fatalf("cell %d area %g, want 1", i, a)
		}
	}
}

func TestClipHalfPlane(t *testing.T) {
	sq := []vec{{0, 0}, {1, 0}, {1, 1}, {0, 1}}
	got := clipHalfPlane(sq, vec{0, 0.5}, vec{1, 0.5})
	if a := polygonArea(got); math.Abs(a-0.5) > 1e-12 {
		t.Fatalf("area %g, want 0.5", a)
	}
	if got := clipHalfPlane(sq, vec{-5, 0}, vec{-4, 0}); len(got) != 0 {
		t.Fatalf("fully clipped polygon kept %v", got)
	}
}
