package hotspot

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

const refTol = 1e-6

// refTable is a CSV file read by column name.
type refTable struct {
	cols map[string]int
	rows [][]string
}

func readTable(t testing.TB, name string) refTable {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	tb := refTable{cols: map[string]int{}, rows: recs[1:]}
	for i, h := range recs[0] {
		tb.cols[h] = i
	}
	return tb
}

func (tb refTable) floats(t testing.TB, col string) []float64 {
	t.Helper()
	c, ok := tb.cols[col]
	if !ok {
		t.Fatalf("no column %q", col)
	}
	out := make([]float64, len(tb.rows))
	for i, r := range tb.rows {
		v, err := strconv.ParseFloat(r[c], 64)
		if err != nil {
			t.Fatalf("%s row %d: %v", col, i, err)
		}
		out[i] = v
	}
	return out
}

func (tb refTable) has(col string) bool { _, ok := tb.cols[col]; return ok }

// readGAL reads a GAL file whose ids are 1..n in order.
func readGAL(t testing.TB, name string) [][]int32 {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Split(bufio.ScanWords)
	next := func() int {
		if !sc.Scan() {
			t.Fatalf("%s: unexpected end", name)
		}
		v, err := strconv.Atoi(sc.Text())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	n := next()
	nb := make([][]int32, n)
	for range n {
		id, k := next(), next()
		for range k {
			nb[id-1] = append(nb[id-1], int32(next()-1))
		}
	}
	return nb
}

func refBinary(t testing.TB, nb [][]int32) *Weights {
	t.Helper()
	w, err := NewBinaryWeights(nb)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func refClose(got, want float64) bool {
	return math.Abs(got-want) <= refTol || (math.IsNaN(got) && math.IsNaN(want))
}

func refCheckVec(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range want {
		if !refClose(got[i], want[i]) {
			if bad < 5 {
				t.Errorf("%s[%d] = %.9g, want %.9g", what, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d differ by more than %g", what, bad, len(want), refTol)
	}
}

func refCheckVal(t *testing.T, what string, got, want float64) {
	t.Helper()
	if !refClose(got, want) {
		t.Errorf("%s = %.10g, want %.10g", what, got, want)
	}
}

// refPublished is published_expected_values.json.
type refPublished struct {
	Toy struct {
		XY     [][2]float64 `json:"points_xy"`
		Y      []float64    `json:"y"`
		Global struct {
			G, EG, VG, Z float64
			P            float64 `json:"p_norm_one_sided"`
		} `json:"global_G"`
		Gi     []float64 `json:"local_Gi_binary_Zs"`
		GiStar []float64 `json:"local_GiStar_binary_Zs"`
	} `json:"esda_getisord_toy"`
	STL struct {
		I     float64 `json:"I"`
		PNorm float64 `json:"p_norm_one_sided"`
		Cross struct {
			EI    float64 `json:"EI"`
			VarN  float64 `json:"VarI_normality"`
			ZN    float64 `json:"z_normality"`
			ZR    float64 `json:"z_randomisation"`
			PRand float64 `json:"p_randomisation"`
		} `json:"spdep_crosscheck"`
	} `json:"esda_moran_stl_homicide"`
	Lat3x3 struct {
		Y     []float64 `json:"y"`
		VRand float64   `json:"VI_rand"`
		VNorm float64   `json:"VI_norm"`
	} `json:"esda_moran_lat3x3_variance"`
	GO1996 struct {
		Gi       map[string]float64 `json:"Gi"`
		GiStar30 float64            `json:"GiStar_d30_include_self"`
	} `json:"spdep_localG_getisord1996"`
}

func readPublished(t testing.TB) refPublished {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "published_expected_values.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p refPublished
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// columbusPolygons reads testdata/columbus.json in file order with CRIME
// and POLYID.
func columbusPolygons(t testing.TB) (polys []orb.MultiPolygon, crime []float64, polyid []int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "columbus.json"))
	if err != nil {
		t.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fc.Features {
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			polys = append(polys, orb.MultiPolygon{g})
		case orb.MultiPolygon:
			polys = append(polys, g)
		default:
			t.Fatalf("geometry %T", g)
		}
		crime = append(crime, f.Properties.MustFloat64("CRIME"))
		polyid = append(polyid, int(f.Properties.MustFloat64("POLYID")))
	}
	return polys, crime, polyid
}

// stlHomicide reads HR8893 from testdata/stl_hom.txt.
func stlHomicide(t testing.TB) []float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "stl_hom.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var y []float64
	for _, l := range lines[2:] {
		f := strings.Split(strings.TrimSpace(l), ",")
		v, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		y = append(y, v)
	}
	return y
}
