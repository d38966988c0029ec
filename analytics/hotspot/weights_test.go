package hotspot

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
)

func TestQueenSTLMatchesGAL(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "stl_hom.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var polys []orb.MultiPolygon
	for _, r := range recs[1:] {
		g, err := wkt.Unmarshal(r[0])
		if err != nil {
			t.Fatal(err)
		}
		switch g := g.(type) {
		case orb.Polygon:
			polys = append(polys, orb.MultiPolygon{g})
		case orb.MultiPolygon:
			polys = append(polys, g)
		default:
			t.Fatalf("%T", g)
		}
	}
	// stl.gal omits four corner-only pairs: counties 32/36, 34/39 meet
	// at (-90.12173, 38.80051) and 65/75, 66/72 at (-89.52497, 37.57196)
	// (0-based rows), each sharing exactly one vertex. They are queen
	// neighbours by definition, so add them to the reference.
	nb := readGAL(t, "stl.gal")
	for _, p := range [][2]int32{{32, 36}, {34, 39}, {65, 75}, {66, 72}} {
		nb[p[0]] = append(nb[p[0]], p[1])
		nb[p[1]] = append(nb[p[1]], p[0])
	}
	gal := refBinary(t, nb)
	w := mustQueen(t, polys, 1e-7)
	if d := refNeighbourDiff(w, gal); d != "" {
		t.Errorf("queen vs stl.gal + corner pairs:%s", d)
	}
	if w.Links() != gal.Links() {
		t.Errorf("links %d, want %d", w.Links(), gal.Links())
	}
}

func TestQueenContiguityShapes(t *testing.T) {
	sq := func(x0, y0, x1, y1 float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}
	}
	polys := []orb.MultiPolygon{
		sq(0, 0, 2, 1), // 0: long bottom edge
		sq(0, 1, 1, 2), // 1: on top of 0's edge; shares vertex (0,1)
		sq(1, 1, 2, 2), // 2: shares vertices with 0 and 1
		sq(2.5, 0, 3, 1),
		// 4: touches 0's top edge at a T-junction only: its vertex (0.5, 1)
		// lies on 0's edge (0,1)-(2,1) ... and on 1's bottom edge
		sq(3, 1, 4, 2),      // touches 3 at corner (3,1) only (queen, not rook)
		sq(0.2, -1, 0.7, 0), // 5: vertices (0.2,0),(0.7,0) on 0's bottom edge, none shared
		sq(10, 10, 11, 11),  // 6: island
	}
	w := mustQueen(t, polys, 1e-9)
	want := "[[1 2 5] [0 2] [0 1] [4] [3] [0] []]"
	var got [][]int32
	for i := range w.N {
		nb, _ := w.Row(i)
		got = append(got, nb)
	}
	if fmt.Sprint(got) != want {
		t.Errorf("queen = %v, want %s", got, want)
	}
	// a gap wider than tol is not contiguity; within tol it is
	gap := []orb.MultiPolygon{sq(0, 0, 1, 1), sq(1.001, 0, 2, 1)}
	if mustQueen(t, gap, 1e-4).Links() != 0 || mustQueen(t, gap, 1e-2).Links() != 2 {
		t.Error("tolerance not honoured")
	}
}

func TestDistanceBandBounds(t *testing.T) {
	xy := [][2]float64{{0, 0}, {1, 0}, {2, 0}, {0, 0}}
	w := DistanceBand(xy, 0, 1)
	if c := fmt.Sprint(w.Cardinalities()); c != "[1 3 1 1]" {
		t.Errorf("(0,1]: %v", c) // coincident points 0 and 3 are not linked; 1 links 0, 2 and 3
	}
	w = DistanceBand(xy, -1, 1)
	if c := fmt.Sprint(w.Cardinalities()); c != "[2 3 1 2]" {
		t.Errorf("(-1,1]: %v", c)
	}
	w = DistanceBand(xy, 1, 2) // annulus: exactly 1 excluded, 2 included
	if c := fmt.Sprint(w.Cardinalities()); c != "[1 0 2 1]" {
		t.Errorf("(1,2]: %v", c)
	}
	if err := w.Validate(); err != nil {
		t.Error(err)
	}
}

func TestQueenLongEdgeTJunction(t *testing.T) {
	// polygon 0 has one long diagonal edge with no vertex in the middle;
	// polygon 1 touches it with a single vertex at its midpoint; many small
	// edges elsewhere make the grid cells tiny relative to the long edge.
	big := orb.Polygon{{{0, 0}, {1000, 1000}, {0, 1000}, {0, 0}}}
	var fine orb.Ring
	for i := 0; i <= 400; i++ {
		fine = append(fine, orb.Point{2000 + float64(i)*0.01, 0})
	}
	fine = append(fine, orb.Point{2004, 1}, orb.Point{2000, 0})
	tri := orb.Polygon{{{500, 500}, {600, 400}, {700, 500}, {500, 500}}}
	w := mustQueen(t, []orb.MultiPolygon{{big}, {tri}, {{fine}}}, 1e-9)
	if nb, _ := w.Row(0); fmt.Sprint(nb) != "[1]" {
		t.Errorf("neighbours of 0 = %v, want [1]", nb)
	}
}

// mustQueen is QueenContiguity for tests, whose context is never done.
func mustQueen(t testing.TB, polys []orb.MultiPolygon, tol float64) *Weights {
	t.Helper()
	w, err := QueenContiguity(t.Context(), polys, tol)
	if err != nil {
		t.Fatal(err)
	}
	return w
}
