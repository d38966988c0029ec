package hotspot

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"testing"
)

func TestToyESDA(t *testing.T) {
	p := readPublished(t)
	w := DistanceBand(p.Toy.XY, 0, 15)
	card := w.Cardinalities()
	if fmt.Sprint(card) != "[2 3 1 3 4 1]" {
		t.Errorf("cardinalities %v, want [2 3 1 3 4 1]", card)
	}
	gs, err := GiStar(t.Context(), p.Toy.Y, w)
	if err != nil {
		t.Fatal(err)
	}
	refCheckVec(t, "Gi* z", gs.Z, p.Toy.GiStar)
	g, err := Gi(t.Context(), p.Toy.Y, w)
	if err != nil {
		t.Fatal(err)
	}
	refCheckVec(t, "Gi z", g.Z, p.Toy.Gi)
	for i := range g.Z {
		refCheckVal(t, "Gi p", g.P[i], 2*(1-refPhi(math.Abs(g.Z[i]))))
	}
	// z is invariant to row standardisation (spdep style W = style B)
	gw, _ := Gi(t.Context(), p.Toy.Y, w.RowStandardized())
	refCheckVec(t, "Gi z (W)", gw.Z, p.Toy.Gi)

	gg, err := GeneralG(t.Context(), p.Toy.Y, w)
	if err != nil {
		t.Fatal(err)
	}
	want := p.Toy.Global
	refCheckVal(t, "G", gg.G, want.G)
	refCheckVal(t, "EG", gg.EG, want.EG)
	refCheckVal(t, "VG", gg.VG, want.VG)
	refCheckVal(t, "z", gg.Z, want.Z)
	refCheckVal(t, "p", gg.P, want.P)
}

func refPhi(x float64) float64 { return 0.5 * (1 + math.Erf(x/math.Sqrt2)) }

func TestGetisOrd1996Grid(t *testing.T) {
	tb := readTable(t, "getisord1996_grid_localG_spdep.csv")
	xs, ys, val := tb.floats(t, "x"), tb.floats(t, "y"), tb.floats(t, "val")
	xy := make([][2]float64, len(xs))
	for i := range xs {
		xy[i] = [2]float64{xs[i], ys[i]}
	}
	pub := readPublished(t)
	for _, d := range []int{30, 60, 90, 120, 150} {
		t.Run(strconv.Itoa(d), func(t *testing.T) {
			w := DistanceBand(xy, 0, float64(d))
			wantCard := tb.floats(t, fmt.Sprintf("card_d%d", d))
			for i, c := range w.Cardinalities() {
				if float64(c) != wantCard[i] {
					t.Fatalf("card[%d] = %d, want %v", i, c, wantCard[i])
				}
			}
			gi, err := Gi(t.Context(), val, w)
			if err != nil {
				t.Fatal(err)
			}
			refCheckVec(t, "Gi", gi.Z, tb.floats(t, fmt.Sprintf("Gi_B_d%d", d)))
			gs, err := GiStar(t.Context(), val, w)
			if err != nil {
				t.Fatal(err)
			}
			refCheckVec(t, "Gi*", gs.Z, tb.floats(t, fmt.Sprintf("GiStar_B_d%d", d)))
			// refPublished value at R row 120 (printed to 6 decimals)
			if v, ok := pub.GO1996.Gi[fmt.Sprintf("d%d", d)]; ok && math.Abs(gi.Z[119]-v) > 1e-6 {
				t.Errorf("Gi[120] = %.7f, refPublished %.6f", gi.Z[119], v)
			}
			if d == 30 && math.Abs(gs.Z[119]-pub.GO1996.GiStar30) > 1e-5 {
				t.Errorf("Gi*[120] = %.7f, refPublished %.5f", gs.Z[119], pub.GO1996.GiStar30)
			}
		})
	}
}

func TestGiErrors(t *testing.T) {
	w := refBinary(t, [][]int32{{1}, {0, 2}, {1}})
	if _, err := GiStar(t.Context(), []float64{1, 1, 1}, w); !errors.Is(err, ErrTooFew) || !errors.Is(err, ErrConstant) {
		t.Errorf("constant: %v", err)
	}
	if _, err := GiStar(t.Context(), []float64{1, 2}, refBinary(t, [][]int32{{1}, {0}})); !errors.Is(err, ErrTooFew) {
		t.Errorf("two locations: %v", err)
	}
	if _, err := Gi(t.Context(), []float64{1, 2}, w); !errors.Is(err, ErrLength) {
		t.Errorf("length: %v", err)
	}
	if _, err := Gi(t.Context(), []float64{1, math.NaN(), 2}, w); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN: %v", err)
	}
	bad := &Weights{N: 3, Offsets: []int32{0, 1, 1, 1}, Neighbors: []int32{7}}
	if _, err := GiStar(t.Context(), []float64{1, 2, 3}, bad); !errors.Is(err, ErrWeights) {
		t.Errorf("bad weights: %v", err)
	}
	// isolate: Gi undefined (NaN), Gi* defined
	iso := refBinary(t, [][]int32{{1}, {0}, {}})
	g, err := Gi(t.Context(), []float64{1, 2, 4}, iso)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(g.Z[2]) || !math.IsNaN(g.P[2]) {
		t.Errorf("isolate Gi = %v, %v; want NaN", g.Z[2], g.P[2])
	}
	gs, _ := GiStar(t.Context(), []float64{1, 2, 4}, iso)
	if math.IsNaN(gs.Z[2]) {
		t.Errorf("isolate Gi* NaN")
	}
}

func TestNewBinaryWeights(t *testing.T) {
	for name, nb := range map[string][][]int32{
		"self":  {{0}, {}},
		"dup":   {{1, 1}, {0}},
		"range": {{2}, {0}},
		"neg":   {{-1}, {0}},
	} {
		if _, err := NewBinaryWeights(nb); !errors.Is(err, ErrWeights) {
			t.Errorf("%s: %v", name, err)
		}
	}
	w, err := NewBinaryWeights([][]int32{{2, 1}, {0}, {0}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(w.Offsets, w.Neighbors) != "[0 2 3 4] [1 2 0 0]" {
		t.Errorf("CSR %v %v", w.Offsets, w.Neighbors)
	}
	r := w.RowStandardized()
	if fmt.Sprint(r.Values) != "[0.5 0.5 1 1]" {
		t.Errorf("row standardised %v", r.Values)
	}
}
