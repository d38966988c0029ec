package geo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/peterstace/simplefeatures/geom"
)

func readFC(t testing.TB, fc string, opts BoundaryOptions) ([]Unit, BoundaryReport, error) {
	t.Helper()
	if opts.Level == "" {
		opts.Level = LevelDistrict
	}
	return ReadBoundaries(context.Background(), strings.NewReader(fc), opts)
}

func feature(code, geometry string) string {
	return `{"type":"Feature","properties":{"code":"` + code + `"},"geometry":` + geometry + `}`
}

func collection(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

func TestReadBoundariesRepairs(t *testing.T) {
	tests := []struct {
		name     string
		geometry string
		kinds    []RepairKind
		area     float64 // expected area after repair (deg²); -1: nil geometry
		parts    int
	}{
		{"valid polygon", `{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,2],[0,2],[0,0]]]}`,
			[]RepairKind{RepairPromoted}, 4, 1},
		{"valid multipolygon", `{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[2,0],[3,0],[3,1],[2,1],[2,0]]]]}`,
			nil, 2, 2},
		{"unclosed ring", `{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,2],[0,2]]]}`,
			[]RepairKind{RepairPromoted, RepairClosedRing}, 4, 1},
		{"duplicate points", `{"type":"Polygon","coordinates":[[[0,0],[0,0],[2,0],[2,0],[2,2],[0,2],[0,0]]]}`,
			[]RepairKind{RepairPromoted, RepairDuplicatePoints}, 4, 1},
		{"bow tie", `{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,2],[0,0]]]}`,
			[]RepairKind{RepairPromoted, RepairMadeValid}, 2, 2},
		{"figure eight with spike", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[5,4],[4,4],[0,4],[4,0.5],[0,0]]]}`,
			[]RepairKind{RepairPromoted, RepairMadeValid}, -2, 0},
		{"nested part becomes a hole", `{"type":"MultiPolygon","coordinates":[[[[0,0],[10,0],[10,10],[0,10],[0,0]]],[[[2,2],[4,2],[4,4],[2,4],[2,2]]]]}`,
			[]RepairKind{RepairMadeValid}, 96, 1},
		{"overlapping parts (even-odd)", `{"type":"MultiPolygon","coordinates":[[[[0,0],[2,0],[2,2],[0,2],[0,0]]],[[[1,0],[3,0],[3,2],[1,2],[1,0]]]]}`,
			[]RepairKind{RepairMadeValid}, 4, 2},
		{"hole touching shell edge twice", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[0,0],[2,1],[4,0],[2,3],[0,0]]]}`,
			[]RepairKind{RepairPromoted, RepairMadeValid}, 12, 2},
		{"geometry collection", `{"type":"GeometryCollection","geometries":[{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]]]},{"type":"Point","coordinates":[5,5]}]}`,
			[]RepairKind{RepairDroppedMember, RepairUnwrapped}, 1, 1},
		{"nested collection", `{"type":"GeometryCollection","geometries":[{"type":"GeometryCollection","geometries":[{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}]}]}`,
			[]RepairKind{RepairUnwrapped}, 1, 1},
		{"null geometry", `null`, []RepairKind{RepairEmpty}, -1, 0},
		{"empty multipolygon", `{"type":"MultiPolygon","coordinates":[]}`, []RepairKind{RepairEmpty}, -1, 0},
		{"degenerate ring", `{"type":"Polygon","coordinates":[[[0,0],[1,1],[0,0]]]}`,
			[]RepairKind{RepairPromoted, RepairDroppedRing, RepairEmpty}, -1, 0},
		{"empty collection", `{"type":"GeometryCollection","geometries":[]}`,
			[]RepairKind{RepairUnwrapped, RepairEmpty}, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			units, rep, err := readFC(t, collection(feature("17", tt.geometry)), BoundaryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var kinds []RepairKind
			for _, r := range rep.Repairs {
				if r.Feature != 0 || r.Code != "17" {
					t.Errorf("repair names feature %d code %q", r.Feature, r.Code)
				}
				kinds = append(kinds, r.Kind)
			}
			if !equalKinds(kinds, tt.kinds) {
				t.Errorf("repairs %v, want %v (%v)", kinds, tt.kinds, rep.Repairs)
			}
			g := units[0].Geometry
			if tt.area == -1 {
				if g != nil {
					t.Fatalf("geometry %v, want nil", g)
				}
				return
			}
			if err := ValidateMultiPolygon(g); err != nil {
				t.Fatalf("result invalid: %v\n%v", err, g)
			}
			if tt.area >= 0 {
				if a := planar.Area(g); math.Abs(a-tt.area) > 1e-9 {
					t.Errorf("area %g, want %g", a, tt.area)
				}
				if len(g) != tt.parts {
					t.Errorf("%d parts, want %d", len(g), tt.parts)
				}
			}
			for _, p := range g {
				if p[0].Orientation() != orb.CCW {
					t.Errorf("exterior ring not counter-clockwise")
				}
			}
		})
	}
}

func equalKinds(a, b []RepairKind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReadBoundariesErrors(t *testing.T) {
	sq := `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}`
	tests := []struct {
		name string
		fc   string
		opts BoundaryOptions
		want error
		msg  string
	}{
		{"projected", collection(feature("1", sq), feature("2", `{"type":"Polygon","coordinates":[[[500000,4500000],[500100,4500000],[500100,4500100],[500000,4500000]]]}`)),
			BoundaryOptions{}, ErrProjected, "feature 1 (code 2): coordinate [500000, 4.5e+06]"},
		{"projected crs", `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32642"}},"features":[]}`,
			BoundaryOptions{}, ErrProjected, "EPSG::32642"},
		{"missing code", collection(feature("1", sq), `{"type":"Feature","properties":{"name":"x"},"geometry":`+sq+`}`),
			BoundaryOptions{}, ErrMissingCode, "feature 1:"},
		{"duplicate code", collection(feature("1", sq), feature("1", sq)),
			BoundaryOptions{}, ErrDuplicateCode, "feature 1: code \"1\" also at feature 0"},
		{"unknown field", collection(), BoundaryOptions{Fields: map[string]string{"colour": "x"}}, ErrUnknownField, "colour"},
		{"bad level", collection(), BoundaryOptions{Level: "country"}, ErrUnknownLevel, "country"},
		{"not a collection", `{"type":"Feature"}`, BoundaryOptions{}, ErrNotFeatureCollection, "Feature"},
		{"garbage", `{"type":`, BoundaryOptions{}, ErrNotFeatureCollection, "decoding"},
		{"point", collection(feature("1", `{"type":"Point","coordinates":[1,2]}`)), BoundaryOptions{}, ErrBadGeometry, "Point"},
		{"bad population", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"1","population":"many"},"geometry":null}]}`,
			BoundaryOptions{}, ErrBadProperty, "population"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readFC(t, tt.fc, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

func TestReadBoundariesFields(t *testing.T) {
	fc := `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"features":[
	{"type":"Feature","properties":{"mahalla_id":1727256034,"code":1727256,"mahalla_nomi":"Ulugʻvor MFY","kir":"Улуғвор","pop":"1 234","yr":2024.0},
	 "geometry":{"type":"MultiPolygon","coordinates":[[[[69,41],[69.1,41],[69.1,41.1],[69,41]]]]}}]}`
	units, _, err := readFC(t, fc, BoundaryOptions{Level: LevelMahalla, Fields: map[string]string{
		"code": "mahalla_id", "parent_code": "code", "name_uz": "mahalla_nomi", "name_uz_cyrl": "kir",
		"population": "pop", "population_year": "yr"}})
	if err != nil {
		t.Fatal(err)
	}
	u := units[0]
	if u.Code != "1727256034" || u.ParentCode != "1727256" || u.Level != LevelMahalla ||
		u.Names["uz"] != "Ulugʻvor MFY" || u.Names["uz-Cyrl"] != "Улуғвор" || u.Population != 1234 || u.PopulationYear != 2024 {
		t.Fatalf("unit %+v", u)
	}
}

// expectedEvenOddArea is an independent check of the repair: for parts
// that are simple polygons, the even-odd area is the sum of the parts'
// areas with the sign given by how many other parts contain them.
func expectedEvenOddArea(t *testing.T, mp orb.MultiPolygon) float64 {
	t.Helper()
	total := 0.0
	for i, p := range mp {
		depth := 0
		for j, q := range mp {
			if i == j || planar.Area(q) <= planar.Area(p) {
				continue
			}
			inside := 0
			for _, v := range p[0] {
				if planar.RingContains(q[0], v) {
					inside++
				}
			}
			if 2*inside > len(p[0]) {
				depth++
			}
		}
		total += math.Pow(-1, float64(depth)) * planar.Area(p)
	}
	return total
}

// rawMultiPolygon reads the feature's geometry without repairing it.
func rawMultiPolygon(t *testing.T, g *rawGeometry) orb.MultiPolygon {
	t.Helper()
	var polys [][][][]float64
	var err error
	if g.Type == "GeometryCollection" {
		polys, err = unwrapCollection(g, func(RepairKind, string, ...any) {})
	} else {
		polys, err = decodePolygonal(g)
	}
	if err != nil {
		t.Fatal(err)
	}
	mp, err := cleanRings(polys, func(RepairKind, string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

type realFile struct {
	path      string
	fields    map[string]string
	level     Level
	features  int
	madeValid int
}

const sharedData = "../../shared/data/boundaries/"

func realBoundaryFiles() []realFile {
	adm2 := map[string]string{"code": "ADM2_EN", "name_en": "ADM2_EN", "name_ru": "ADM2_RU", "name_uz": "ADM2_UZ"}
	return []realFile{
		{"../testdata/akbartus_sharof_rashidov.geojson", adm2, LevelDistrict, 1, 1},
		{sharedData + "uzb_akbartus/uzbekistan_regional.geojson",
			map[string]string{"code": "ADM1_EN", "name_en": "ADM1_EN", "name_ru": "ADM1_RU", "name_uz": "ADM1_UZ"}, LevelRegion, 14, 4},
		{sharedData + "uzb_akbartus/jizzakh_region_districts.geojson", adm2, LevelDistrict, 13, 1},
		{sharedData + "uzb_akbartus/sirdaryo_region_districts.geojson", adm2, LevelDistrict, 11, 0},
		{sharedData + "uzb_akbartus/surkhandarya_region_districts.geojson", adm2, LevelDistrict, 15, 1},
		{sharedData + "uzb_akbartus/tashkent_districts.geojson", adm2, LevelDistrict, 12, 0},
		{sharedData + "uzb_akbartus/tashkent_region_districts..geojson", adm2, LevelDistrict, 22, 3},
		// INTERNAL file: read in place, never copied into the repository.
		{sharedData + "uzb_mahalla_chinoz/chinoz_mahalla.geojson",
			map[string]string{"code": "mahalla_id", "parent_code": "code", "name_uz": "mahalla_nomi"}, LevelMahalla, 55, 0},
		{sharedData + "kaz_geoboundaries/geoBoundaries-KAZ-ADM2.geojson",
			map[string]string{"code": "shapeID", "name_en": "shapeName"}, LevelDistrict, 174, 0},
	}
}

// TestReadBoundariesRealFiles proves on the real files that every returned
// geometry is valid, that valid features keep their area exactly and that
// repaired ones have the even-odd area (the ST_MakeValid semantics).
func TestReadBoundariesRealFiles(t *testing.T) {
	for _, rf := range realBoundaryFiles() {
		t.Run(filepath.Base(rf.path), func(t *testing.T) {
			f, err := os.Open(rf.path)
			if err != nil {
				t.Skipf("real data not available: %v", err)
			}
			defer f.Close()
			units, rep, err := ReadBoundaries(context.Background(), f, BoundaryOptions{Level: rf.level, Fields: rf.fields})
			if err != nil {
				t.Fatal(err)
			}
			if len(units) != rf.features {
				t.Fatalf("%d units, want %d", len(units), rf.features)
			}
			if n := rep.Count(RepairMadeValid); n != rf.madeValid {
				t.Errorf("%d features made valid, want %d", n, rf.madeValid)
			}
			raw := rawFeaturesOf(t, rf.path)
			repaired := map[int]bool{}
			for _, i := range rep.FeaturesWith(RepairMadeValid) {
				repaired[i] = true
			}
			for i, u := range units {
				if err := toSF(u.Geometry).Validate(); err != nil {
					t.Errorf("feature %d (%s) invalid after repair: %v", i, u.Code, err)
				}
				before := rawMultiPolygon(t, raw[i].Geometry)
				after := planar.Area(u.Geometry)
				want := planar.Area(before)
				if repaired[i] {
					want = expectedEvenOddArea(t, before)
					t.Logf("feature %d (%s): area %.6g -> %.6g (raw sum %.6g)", i, u.Code, planar.Area(before), after, planar.Area(before))
				}
				if math.Abs(after-want) > 1e-9*math.Max(want, 1e-6) && math.Abs(after-want) > 1e-12 {
					t.Errorf("feature %d (%s): area %.12g, want %.12g", i, u.Code, after, want)
				}
			}
		})
	}
}

// TestRepairedEnclaveIsAHole checks the practical effect: the city nested in
// Sharof Rashidov district (Jizzakh city) is no longer part of the district.
func TestRepairedEnclaveIsAHole(t *testing.T) {
	f, err := os.Open("../testdata/akbartus_sharof_rashidov.geojson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	units, _, err := ReadBoundaries(context.Background(), f, BoundaryOptions{Level: LevelDistrict, Fields: map[string]string{"code": "ADM2_EN"}})
	if err != nil {
		t.Fatal(err)
	}
	ix := NewIndex(units)
	// The nested part (Jizzakh city) of the raw geometry.
	raw := rawMultiPolygon(t, rawFeaturesOf(t, "../testdata/akbartus_sharof_rashidov.geojson")[0].Geometry)
	city, _ := toSF(raw[1:]).PointOnSurface().XY()
	if a := ix.Assign(city.X, city.Y); a.District != "" {
		t.Errorf("Jizzakh city (%v) assigned to %q", city, a.District)
	}
	if planar.MultiPolygonContains(raw, orb.Point{city.X, city.Y}) != true {
		t.Fatalf("test point not in the raw geometry")
	}
	in, _ := toSF(units[0].Geometry).PointOnSurface().XY()
	if a := ix.Assign(in.X, in.Y); a.District != "Sharof Rashidov district" {
		t.Errorf("point in the district assigned to %q", a.District)
	}
}

func rawFeaturesOf(t *testing.T, path string) []rawFeature {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fc rawFeatureCollection
	if err := jsonUnmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	return fc.Features
}

func TestNodeRingSplitsLoops(t *testing.T) {
	tests := []struct {
		name  string
		ring  orb.Ring
		loops int
		area  float64
	}{
		{"bow tie", orb.Ring{{0, 0}, {2, 2}, {2, 0}, {0, 2}, {0, 0}}, 2, 2},
		{"simple", orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}}, 1, 0.5},
		{"spike", orb.Ring{{0, 0}, {2, 0}, {3, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}, 1, 4},
		{"touching vertex", orb.Ring{{0, 0}, {2, 0}, {1, 1}, {2, 2}, {0, 2}, {1, 1}, {0, 0}}, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loops := splitLoops(nodeRing(tt.ring))
			if len(loops) != tt.loops {
				t.Fatalf("%d loops %v, want %d", len(loops), loops, tt.loops)
			}
			sum := 0.0
			for _, l := range loops {
				sum += math.Abs(planar.Area(l))
				if err := geom.NewPolygon([]geom.LineString{ringToSF(l)}).Validate(); err != nil {
					t.Errorf("loop %v invalid: %v", l, err)
				}
			}
			if math.Abs(sum-tt.area) > 1e-12 {
				t.Errorf("area %g, want %g", sum, tt.area)
			}
		})
	}
}

func BenchmarkReadBoundariesRegions(b *testing.B) {
	data, err := os.ReadFile(sharedData + "uzb_akbartus/uzbekistan_regional.geojson")
	if err != nil {
		b.Skip(err)
	}
	opts := BoundaryOptions{Level: LevelRegion, Fields: map[string]string{"code": "ADM1_EN"}}
	for b.Loop() {
		if _, _, err := ReadBoundaries(context.Background(), strings.NewReader(string(data)), opts); err != nil {
			b.Fatal(err)
		}
	}
}

func jsonUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}
