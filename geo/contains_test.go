package geo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// TestPolygonsContainMatchesOrb: the index's point-in-polygon with cached
// ring bounds answers exactly as orb/planar.MultiPolygonContains, on the
// demo-like shapes below with holes and several parts, for random points,
// every vertex, points on every edge and points next to vertices.
func TestPolygonsContainMatchesOrb(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	star := func(cx, cy, r float64, n int) orb.Ring {
		ring := make(orb.Ring, 0, n+1)
		for i := range n {
			a := 2 * math.Pi * float64(i) / float64(n)
			rr := r * (0.5 + rng.Float64())
			// 6 decimals, as stored coordinates are
			x, y := cx+rr*math.Cos(a), cy+rr*math.Sin(a)
			ring = append(ring, orb.Point{math.Round(x*1e6) / 1e6, math.Round(y*1e6) / 1e6})
		}
		return append(ring, ring[0])
	}
	mp := orb.MultiPolygon{
		{star(69.2, 41.3, 0.1, 300), star(69.2, 41.3, 0.03, 40)},
		{star(69.5, 41.3, 0.05, 60)},
		{orb.Ring{{69.0, 41.0}, {69.1, 41.0}, {69.1, 41.1}, {69.0, 41.1}, {69.0, 41.0}}},
	}
	ps := newIndexedPolygons(mp)
	var pts []orb.Point
	for range 50000 {
		pts = append(pts, orb.Point{68.95 + rng.Float64()*0.7, 41.15 + rng.Float64()*0.3})
	}
	for _, p := range mp {
		for _, r := range p {
			for i := 0; i+1 < len(r); i++ {
				a, b := r[i], r[i+1]
				f := rng.Float64()
				pts = append(pts, a, orb.Point{a[0] + 1e-9, a[1]}, orb.Point{a[0], a[1] - 1e-9},
					orb.Point{a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])}, orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2})
			}
		}
	}
	in := 0
	for _, p := range pts {
		want := planar.MultiPolygonContains(mp, p)
		if got := polygonsContain(ps, p); got != want {
			t.Fatalf("%v: %v, orb %v", p, got, want)
		}
		if want {
			in++
		}
	}
	if in == 0 || in == len(pts) {
		t.Fatalf("%d of %d points inside: the test proves nothing", in, len(pts))
	}
	t.Logf("%d points, %d inside", len(pts), in)
}
