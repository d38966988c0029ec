package demo

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo/internal/sfconv"
	"github.com/paulmach/orb/planar"
	"github.com/peterstace/simplefeatures/geom"
)

func loadUnits(t testing.TB) []geo.Unit {
	t.Helper()
	units, err := Units()
	if err != nil {
		t.Fatal(err)
	}
	return units
}

func TestUnitsCounts(t *testing.T) {
	units := loadUnits(t)
	count := map[string]int{} // level/parent prefix
	codes := map[string]bool{}
	for _, u := range units {
		if codes[u.Code] {
			t.Fatalf("duplicate code %s", u.Code)
		}
		codes[u.Code] = true
		switch u.Level {
		case geo.LevelRegion:
			count["region"]++
		case geo.LevelDistrict:
			count["district "+u.ParentCode]++
		case geo.LevelMahalla:
			if len(u.Code) != 10 || !strings.HasPrefix(u.Code, u.ParentCode) || len(u.ParentCode) != 7 {
				t.Fatalf("mahalla code %s parent %s", u.Code, u.ParentCode)
			}
			count["mahalla "+u.ParentCode[:4]]++
			if u.ParentCode == KogonCity {
				count["kogon"]++
			}
		}
		if u.Population <= 0 || u.PopulationYear != 2026 {
			t.Errorf("%s: population %d year %d", u.Code, u.Population, u.PopulationYear)
		}
		if u.Names["uz"] == "" || u.Names["uz-Cyrl"] == "" || u.Names["ru"] == "" {
			t.Errorf("%s: names %v", u.Code, u.Names)
		}
	}
	want := map[string]int{"region": 2, "district 1710": 16, "district 1706": 13, "kogon": 22, "mahalla 1706": 22}
	for k, v := range want {
		if count[k] != v {
			t.Errorf("%s: %d, want %d", k, count[k], v)
		}
	}
	if n := count["mahalla 1710"]; n < 810 || n > 850 {
		t.Errorf("Kashkadarya mahallas %d, want 830±20", n)
	}
}

func TestUnitsPopulationSums(t *testing.T) {
	units := loadUnits(t)
	sum := map[string]int64{}
	pop := map[string]int64{}
	hasMahallas := map[string]bool{}
	for _, u := range units {
		pop[u.Code] = u.Population
		if u.Level == geo.LevelMahalla {
			sum[u.ParentCode] += u.Population
			hasMahallas[u.ParentCode] = true
		}
	}
	for d := range hasMahallas {
		if sum[d] != pop[d] {
			t.Errorf("district %s: mahallas sum to %d, district has %d", d, sum[d], pop[d])
		}
	}
	if pop["1710401"] != 306300 || pop["1710"] != 3717000 {
		t.Errorf("population Qarshi %d, Kashkadarya %d", pop["1710401"], pop["1710"])
	}
}

func TestUnitsNamesUniquePerDistrict(t *testing.T) {
	seen := map[string]string{}
	for _, u := range loadUnits(t) {
		if u.Level != geo.LevelMahalla {
			continue
		}
		k := u.ParentCode + "/" + u.Names["uz"]
		if c, ok := seen[k]; ok {
			t.Errorf("mahallas %s and %s share the name %q", c, u.Code, u.Names["uz"])
		}
		seen[k] = u.Code
	}
}

func TestUnitsGeometryValidAndTiled(t *testing.T) {
	units := loadUnits(t)
	area := map[string]float64{}
	children := map[string]float64{}
	for _, u := range units {
		if len(u.Geometry) == 0 {
			t.Fatalf("%s: no geometry", u.Code)
		}
		g := sfconv.ToSF(u.Geometry)
		if err := g.Validate(); err != nil {
			t.Errorf("%s: invalid geometry: %v", u.Code, err)
		}
		a := g.Area()
		if a <= 0 {
			t.Errorf("%s: area %g", u.Code, a)
		}
		area[u.Code] = a
		if u.ParentCode != "" {
			children[u.ParentCode] += a
		}
	}
	for code, sum := range children {
		if len(code) == 4 {
			if rel := math.Abs(sum-area[code]) / area[code]; rel > 0.001 {
				t.Errorf("region %s: districts cover %.6f of %.6f", code, sum, area[code])
			}
			continue
		}
		if rel := math.Abs(sum-area[code]) / area[code]; rel > 0.001 {
			t.Errorf("district %s: mahallas cover %.8f of %.8f (%.4f%%)", code, sum, area[code], 100*rel)
		}
	}
}

func TestUnitsMahallasInsideDistrict(t *testing.T) {
	units := loadUnits(t)
	dist := map[string]geom.Geometry{}
	for _, u := range units {
		if u.Level == geo.LevelDistrict {
			dist[u.Code] = sfconv.ToSF(u.Geometry)
		}
	}
	for _, u := range units {
		if u.Level != geo.LevelMahalla {
			continue
		}
		m := sfconv.ToSF(u.Geometry)
		out, err := geom.Difference(m, dist[u.ParentCode])
		if err != nil {
			t.Fatal(err)
		}
		if a := out.Area(); a > 1e-6*m.Area() {
			t.Errorf("mahalla %s pokes %.3g out of its district", u.Code, a)
		}
	}
}

func TestIndexAssignsRandomPointsConsistently(t *testing.T) {
	units := loadUnits(t)
	ix := geo.NewIndex(units)
	byCode := map[string]*geo.Unit{}
	for i := range units {
		byCode[units[i].Code] = &units[i]
	}
	rng := rand.New(rand.NewPCG(3, 4))
	b := ix.Extent()
	assigned := 0
	for range 20000 {
		lon := b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0])
		lat := b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])
		a := ix.Assign(lon, lat)
		if a.Region == "" {
			continue
		}
		assigned++
		if a.District == "" {
			t.Fatalf("(%f,%f) in region %s but no district", lon, lat, a.Region)
		}
		d := byCode[a.District]
		if d.ParentCode != a.Region || !planar.MultiPolygonContains(d.Geometry, [2]float64{lon, lat}) {
			t.Fatalf("(%f,%f): district %s inconsistent", lon, lat, a.District)
		}
		if a.Mahalla != "" {
			if m := byCode[a.Mahalla]; m.ParentCode != a.District {
				t.Fatalf("(%f,%f): mahalla %s not in district %s", lon, lat, a.Mahalla, a.District)
			}
		} else if d.Code[:4] == RegionKashkadarya || d.Code == KogonCity {
			t.Fatalf("(%f,%f) in %s but in no mahalla", lon, lat, d.Code)
		}
	}
	if assigned < 5000 {
		t.Fatalf("only %d of 20000 points assigned", assigned)
	}
}

func TestDistrictCentresInsideTheirDistrict(t *testing.T) {
	units := loadUnits(t)
	ix := geo.NewIndex(units)
	for _, s := range districtSpecs() {
		if a := ix.Assign(s.Centre.Lon, s.Centre.Lat); a.District != s.Code {
			t.Errorf("centre of %s falls in %q", s.Code, a.District)
		}
	}
}

func BenchmarkUnits(b *testing.B) {
	for b.Loop() {
		if _, err := Units(); err != nil {
			b.Fatal(err)
		}
	}
}
