package hotspot

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// denseMoran is the textbook dense computation of Moran's I and its
// variances (Cliff & Ord), independent of the CSR code paths.
func denseMoran(y []float64, w [][]float64) GlobalMoran {
	n := float64(len(y))
	z := centredValues(y)
	var s0, s1, s2, num, m2, m4 float64
	for i := range y {
		var ri, ci float64
		for j := range y {
			s0 += w[i][j]
			s1 += 0.5 * (w[i][j] + w[j][i]) * (w[i][j] + w[j][i])
			ri += w[i][j]
			ci += w[j][i]
			num += w[i][j] * z[i] * z[j]
		}
		s2 += (ri + ci) * (ri + ci)
		m2 += z[i] * z[i]
		m4 += math.Pow(z[i], 4)
	}
	r := GlobalMoran{I: n / s0 * num / m2, EI: -1 / (n - 1)}
	r.VarNorm = (n*n*s1-n*s2+3*s0*s0)/(s0*s0*(n*n-1)) - r.EI*r.EI
	k := n * m4 / (m2 * m2)
	r.VarRand = (n*((n*n-3*n+3)*s1-n*s2+3*s0*s0)-k*(n*(n-1)*s1-2*n*s2+6*s0*s0))/
		((n-1)*(n-2)*(n-3)*s0*s0) - r.EI*r.EI
	return r
}

func TestMoranDenseAsymmetric(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	const n = 30
	y := make([]float64, n)
	dense := make([][]float64, n)
	w := &Weights{N: n, Offsets: make([]int32, n+1)}
	for i := range n {
		y[i] = rng.NormFloat64()*3 + 10
		dense[i] = make([]float64, n)
		// unsorted rows with real-valued asymmetric weights
		for _, j := range rng.Perm(n)[:1+rng.IntN(6)] {
			if j == i {
				continue
			}
			v := rng.Float64() + 0.1
			dense[i][j] = v
			w.Neighbors = append(w.Neighbors, int32(j))
			w.Values = append(w.Values, v)
		}
		w.Offsets[i+1] = int32(len(w.Neighbors))
	}
	got, err := MoranI(t.Context(), y, w)
	if err != nil {
		t.Fatal(err)
	}
	want := denseMoran(y, dense)
	for _, c := range []struct {
		name string
		g, w float64
	}{{"I", got.I, want.I}, {"VarNorm", got.VarNorm, want.VarNorm}, {"VarRand", got.VarRand, want.VarRand}} {
		if math.Abs(c.g-c.w) > 1e-12 {
			t.Errorf("%s = %v, dense %v", c.name, c.g, c.w)
		}
	}
}

func TestMoranDesmith(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "desmith.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var y []float64
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n")[2:] {
		v, err := strconv.ParseFloat(strings.Split(strings.TrimSpace(l), ",")[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		y = append(y, v)
	}
	nb := readGAL(t, "desmith.gal")
	w := refBinary(t, nb)
	for _, ww := range []*Weights{w, w.RowStandardized()} {
		got, err := MoranI(t.Context(), y, ww)
		if err != nil {
			t.Fatal(err)
		}
		d := make([][]float64, len(y))
		for i := range d {
			d[i] = make([]float64, len(y))
			nbs, vals := ww.Row(i)
			for k, j := range nbs {
				d[i][j] = 1
				if vals != nil {
					d[i][j] = vals[k]
				}
			}
		}
		want := denseMoran(y, d)
		if math.Abs(got.I-want.I) > 1e-12 || math.Abs(got.VarRand-want.VarRand) > 1e-12 {
			t.Errorf("desmith: %+v, dense %+v", got, want)
		}
	}
}
