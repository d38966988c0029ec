package hotspot

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// refColNB reads COL.nb (1-based edges in COL.OLD row order).
func refColNB(t testing.TB, n int) *Weights {
	t.Helper()
	tb := readTable(t, "columbus_COL.nb_edges.csv")
	from, to := tb.floats(t, "from"), tb.floats(t, "to")
	nb := make([][]int32, n)
	for k := range from {
		nb[int(from[k])-1] = append(nb[int(from[k])-1], int32(to[k])-1)
	}
	return refBinary(t, nb)
}

type refGlobalRow struct{ I, E, V, Z, P float64 }

func readGlobal(t testing.TB, name string) map[string]refGlobalRow {
	tb := readTable(t, name)
	s, e, v, z, p := tb.floats(t, "statistic"), tb.floats(t, "expectation"), tb.floats(t, "variance"), tb.floats(t, "z"), tb.floats(t, "p_one_sided_greater")
	out := map[string]refGlobalRow{}
	for i, r := range tb.rows {
		out[r[tb.cols["test"]]] = refGlobalRow{s[i], e[i], v[i], z[i], p[i]}
	}
	return out
}

func refCheckMoran(t *testing.T, y []float64, wB *Weights, want map[string]refGlobalRow) {
	t.Helper()
	mw, err := MoranI(t.Context(), y, wB.RowStandardized())
	if err != nil {
		t.Fatal(err)
	}
	mb, err := MoranI(t.Context(), y, wB)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]refGlobalRow{
		"moran_W_randomisation": {mw.I, mw.EI, mw.VarRand, mw.ZRand, mw.PRand},
		"moran_W_normality":     {mw.I, mw.EI, mw.VarNorm, mw.ZNorm, mw.PNorm},
		"moran_B_randomisation": {mb.I, mb.EI, mb.VarRand, mb.ZRand, mb.PRand},
	} {
		w, ok := want[name]
		if !ok {
			t.Errorf("reference lacks %s", name)
			continue
		}
		refCheckVal(t, name+" I", got.I, w.I)
		refCheckVal(t, name+" E", got.E, w.E)
		refCheckVal(t, name+" Var", got.V, w.V)
		refCheckVal(t, name+" z", got.Z, w.Z)
		refCheckVal(t, name+" p", got.P, w.P)
	}
}

func refCheckLocal(t *testing.T, tb refTable, y []float64, wB *Weights, ycol string) {
	t.Helper()
	want := tb.floats(t, ycol)
	refCheckVec(t, "CRIME", y, want)
	card := tb.floats(t, "card")
	for i, c := range wB.Cardinalities() {
		if float64(c) != card[i] {
			t.Errorf("card[%d] = %d, want %v", i, c, card[i])
		}
	}
	gi, err := Gi(t.Context(), y, wB)
	if err != nil {
		t.Fatal(err)
	}
	refCheckVec(t, "localG_B", gi.Z, tb.floats(t, "localG_B"))
	if tb.has("localG_W") {
		giW, _ := Gi(t.Context(), y, wB.RowStandardized())
		refCheckVec(t, "localG_W", giW.Z, tb.floats(t, "localG_W"))
	}
	gs, err := GiStar(t.Context(), y, wB)
	if err != nil {
		t.Fatal(err)
	}
	refCheckVec(t, "localGstar_B", gs.Z, tb.floats(t, "localGstar_B"))
	lm, err := LocalMoran(t.Context(), y, wB.RowStandardized(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	refCheckVec(t, "localI_W", lm.I, tb.floats(t, "localI_W"))
	refCheckVec(t, "localI_Z", lm.Z, tb.floats(t, "localI_Z"))
}

func TestColumbusCOLnb(t *testing.T) {
	tb := readTable(t, "columbus_crime_local_spdep.csv")
	y := tb.floats(t, "CRIME")
	w := refColNB(t, len(y))
	if w.Links() != 232 {
		t.Errorf("COL.nb links %d, want 232", w.Links())
	}
	refCheckLocal(t, tb, y, w, "CRIME")
	refCheckMoran(t, y, w, readGlobal(t, "columbus_crime_global_spdep.csv"))
}

func TestColumbusQueenFromPolygons(t *testing.T) {
	polys, crime, polyid := columbusPolygons(t)
	tb := readTable(t, "columbus_crime_queen_from_polygons_local_spdep.csv")
	ids := tb.floats(t, "POLYID")
	for i := range ids {
		if int(ids[i]) != polyid[i] {
			t.Fatalf("row %d: POLYID %v, polygon file %d", i, ids[i], polyid[i])
		}
	}
	w := mustQueen(t, polys, 1.4901161193847656e-08) // spdep poly2nb snap = sqrt(.Machine$double.eps)
	// libpysal's columbus.gal is queen contiguity of the same polygons
	gal := refBinary(t, readGAL(t, "columbus.gal"))
	if diff := refNeighbourDiff(w, gal); diff != "" {
		t.Errorf("queen vs columbus.gal: %s", diff)
	}
	refCheckLocal(t, tb, crime, w, "CRIME")
	refCheckMoran(t, crime, w, readGlobal(t, "columbus_crime_queen_from_polygons_global_spdep.csv"))
}

func refNeighbourDiff(a, b *Weights) string {
	if a.N != b.N {
		return fmt.Sprintf("N %d vs %d", a.N, b.N)
	}
	var out string
	for i := range a.N {
		x, _ := a.Row(i)
		y, _ := b.Row(i)
		xs, ys := slices.Sorted(slices.Values(x)), slices.Sorted(slices.Values(y))
		if !slices.Equal(xs, ys) {
			out += fmt.Sprintf(" [%d: %v vs %v]", i, xs, ys)
		}
	}
	return out
}

func TestMoranSTL(t *testing.T) {
	p := readPublished(t)
	y := stlHomicide(t)
	w := refBinary(t, readGAL(t, "stl.gal")).RowStandardized()
	m, err := MoranI(t.Context(), y, w)
	if err != nil {
		t.Fatal(err)
	}
	refCheckVal(t, "I", m.I, p.STL.I)
	refCheckVal(t, "PNorm", m.PNorm, p.STL.PNorm)
	refCheckVal(t, "EI", m.EI, p.STL.Cross.EI)
	refCheckVal(t, "VarNorm", m.VarNorm, p.STL.Cross.VarN)
	refCheckVal(t, "ZNorm", m.ZNorm, p.STL.Cross.ZN)
	refCheckVal(t, "ZRand", m.ZRand, p.STL.Cross.ZR)
	refCheckVal(t, "PRand", m.PRand, p.STL.Cross.PRand)
}

func TestMoranLattice3x3Variance(t *testing.T) {
	p := readPublished(t)
	// lat2W(3,3) rook, binary
	var nb [][]int32
	for r := range 3 {
		for c := range 3 {
			var row []int32
			for _, d := range [][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
				rr, cc := r+d[0], c+d[1]
				if rr >= 0 && rr < 3 && cc >= 0 && cc < 3 {
					row = append(row, int32(rr*3+cc))
				}
			}
			nb = append(nb, row)
		}
	}
	m, err := MoranI(t.Context(), p.Lat3x3.Y, refBinary(t, nb))
	if err != nil {
		t.Fatal(err)
	}
	refCheckVal(t, "VarRand", m.VarRand, p.Lat3x3.VRand)
	refCheckVal(t, "VarNorm", m.VarNorm, p.Lat3x3.VNorm)
}

func TestLocalMoranPermutation(t *testing.T) {
	tb := readTable(t, "columbus_crime_local_spdep.csv")
	y := tb.floats(t, "CRIME")
	w := refColNB(t, len(y)).RowStandardized()
	a, err := LocalMoran(t.Context(), y, w, 999, 42)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := LocalMoran(t.Context(), y, w, 999, 42)
	c, _ := LocalMoran(t.Context(), y, w, 999, 43)
	if !slices.Equal(a.PSim, b.PSim) {
		t.Error("same seed, different PSim")
	}
	if slices.Equal(a.PSim, c.PSim) {
		t.Error("different seeds, identical PSim")
	}
	if a.Permutations != 999 || a.Seed != 42 {
		t.Errorf("recorded %d, %d", a.Permutations, a.Seed)
	}
	for i, p := range a.PSim {
		if !(p > 0 && p <= 0.5+1e-12) {
			t.Errorf("PSim[%d] = %v outside (0, 0.5]", i, p)
		}
		// permutation and analytical inference should broadly agree
		if math.Abs(a.Z[i]) > 3.3 && p > 0.01 {
			t.Errorf("loc %d: z %.2f but PSim %.3f", i, a.Z[i], p)
		}
	}
	// quadrants follow the signs of z and lag
	zc := centredValues(y)
	for i := range y {
		nb, vals := w.Row(i)
		var lag float64
		for k, j := range nb {
			lag += vals[k] * zc[j]
		}
		var want Quadrant
		switch {
		case zc[i] > 0 && lag > 0:
			want = QuadrantHH
		case zc[i] < 0 && lag > 0:
			want = QuadrantLH
		case zc[i] < 0 && lag < 0:
			want = QuadrantLL
		case zc[i] > 0 && lag < 0:
			want = QuadrantHL
		}
		if a.Quadrant[i] != want {
			t.Errorf("quadrant[%d] = %v, want %v", i, a.Quadrant[i], want)
		}
	}
	// HH locations with small PSim exist in Columbus (central high-crime cluster)
	hh := 0
	for i := range y {
		if a.Quadrant[i] == QuadrantHH && a.PSim[i] < 0.05 {
			hh++
		}
	}
	if hh == 0 {
		t.Error("no significant HH location")
	}
}
