package demo

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo/internal/sfconv"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/peterstace/simplefeatures/geom"
)

// Mahalla plan of the demo: Kashkadarya gets KashkadaryaMahallas spread over
// its 16 districts and cities by population; in Bukhara only Kogon city is
// divided into KogonCityMahallas (its other districts have none).
const (
	RegionKashkadarya   = "1710"
	RegionBukhara       = "1706"
	KogonCity           = "1706403"
	KashkadaryaMahallas = 830
	KogonCityMahallas   = 22
)

// kmPerDeg is the length of one degree of latitude.
const kmPerDeg = 111.32

// cityDensity (residents per km^2) sizes the city discs.
const cityDensity = 4000.0

// unitsSeed fixes the synthetic geometry: units do not depend on Config.
const unitsSeed = 0x17101706

// Units returns the demo's administrative units: the regions Kashkadarya
// (1710) and Bukhara (1706), their 29 districts and cities, and the
// synthetic mahallas (830 in Kashkadarya, 22 in Kogon city), ordered by
// level (region, district, mahalla) then code.
//
// Codes, names and populations are real (SOATO, SIAT 2026); the region
// boundaries are real but simplified; district and mahalla boundaries, and
// mahalla names and populations, are synthetic. The result is the same on
// every call.
func Units() ([]geo.Unit, error) {
	sd, err := loadSource()
	if err != nil {
		return nil, err
	}
	specs := map[string]districtSpec{}
	for _, s := range districtSpecs() {
		specs[s.Code] = s
	}
	var regions, districts, mahallas []geo.Unit
	for _, reg := range sd.regions {
		rg, ok := sd.regionGeo[reg.code]
		if !ok {
			return nil, fmt.Errorf("demo: no boundary for region %s", reg.code)
		}
		regions = append(regions, geo.Unit{
			Code: reg.code, Level: geo.LevelRegion, Names: names(reg),
			Population: reg.population, PopulationYear: reg.year, Geometry: rg,
		})
		var ds []sourceUnit
		for _, d := range sd.districts {
			if strings.HasPrefix(d.code, reg.code) {
				if _, ok := specs[d.code]; !ok {
					return nil, fmt.Errorf("demo: no centre for district %s", d.code)
				}
				ds = append(ds, d)
			}
		}
		geoms, err := districtGeometries(rg, ds, specs)
		if err != nil {
			return nil, fmt.Errorf("demo: districts of %s: %w", reg.code, err)
		}
		counts := mahallaCounts(reg.code, ds)
		for _, d := range ds {
			districts = append(districts, geo.Unit{
				Code: d.code, ParentCode: reg.code, Level: geo.LevelDistrict, Names: names(d),
				Population: d.population, PopulationYear: d.year, Geometry: geoms[d.code],
			})
			if counts[d.code] == 0 {
				continue
			}
			ms, err := buildMahallas(d, specs[d.code], geoms[d.code], counts[d.code], sd.villages[d.code])
			if err != nil {
				return nil, fmt.Errorf("demo: mahallas of %s: %w", d.code, err)
			}
			mahallas = append(mahallas, ms...)
		}
	}
	byCode := func(a, b geo.Unit) int { return cmp.Compare(a.Code, b.Code) }
	slices.SortFunc(regions, byCode)
	slices.SortFunc(districts, byCode)
	slices.SortFunc(mahallas, byCode)
	return slices.Concat(regions, districts, mahallas), nil
}

func names(u sourceUnit) map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{"uz": u.uz, "uz-Cyrl": u.cyrl, "ru": u.ru, "en": u.en} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// frame is a local equirectangular projection around a latitude, so that
// Voronoi cells and discs are not stretched east-west.
type frame struct{ k float64 }

func newFrame(lat0 float64) frame                { return frame{math.Cos(lat0 * math.Pi / 180)} }
func (f frame) fwd(lon, lat float64) vec         { return vec{lon * f.k, lat} }
func (f frame) inv(v vec) orb.Point              { return orb.Point{v.X / f.k, v.Y} }
func (f frame) place(p place) vec                { return f.fwd(p.Lon, p.Lat) }
func (f frame) point(p orb.Point) vec            { return f.fwd(p[0], p[1]) }
func (f frame) ring(r []vec) orb.Ring            { return ringOf(r, f.inv) }
func (f frame) polygon(r []vec) orb.MultiPolygon { return orb.MultiPolygon{{f.ring(r)}} }
func (f frame) boundBox(b orb.Bound, m float64) []vec {
	lo, hi := f.point(b.Min), f.point(b.Max)
	return []vec{{lo.X - m, lo.Y - m}, {hi.X + m, lo.Y - m}, {hi.X + m, hi.Y + m}, {lo.X - m, hi.Y + m}}
}

func ringOf(r []vec, inv func(vec) orb.Point) orb.Ring {
	out := make(orb.Ring, 0, len(r)+1)
	for _, v := range r {
		out = append(out, inv(v))
	}
	return append(out, out[0])
}

func hashSeed(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// cityRadiusKm sizes a city disc from its population.
func cityRadiusKm(pop int64) float64 {
	return math.Sqrt(float64(pop) / cityDensity / math.Pi)
}

// cityDisc is an irregular 40-gon around the centre (CCW, open ring).
func cityDisc(f frame, s districtSpec, radiusKm float64) []vec {
	rng := rand.New(rand.NewPCG(hashSeed(s.Code), unitsSeed))
	p1, p2 := rng.Float64()*2*math.Pi, rng.Float64()*2*math.Pi
	c := f.place(s.Centre)
	r := radiusKm / kmPerDeg
	const n = 40
	out := make([]vec, n)
	for i := range n {
		t := 2 * math.Pi * float64(i) / n
		k := 1 + 0.10*math.Sin(3*t+p1) + 0.06*math.Sin(5*t+p2)
		out[i] = vec{c.X + r*k*math.Cos(t), c.Y + r*k*math.Sin(t)}
	}
	return out
}

// districtGeometries draws the districts of a region: Voronoi cells of the
// district sites clipped to the region, minus the city discs.
func districtGeometries(region orb.MultiPolygon, ds []sourceUnit, specs map[string]districtSpec) (map[string]orb.MultiPolygon, error) {
	b := region.Bound()
	f := newFrame(b.Center()[1])
	regSF := sfconv.ToSF(region)
	out := map[string]orb.MultiPolygon{}
	var cities []geom.Geometry
	var rural []sourceUnit
	for _, d := range ds {
		s := specs[d.code]
		if !s.City {
			rural = append(rural, d)
			continue
		}
		disc := sfconv.ToSF(f.polygon(cityDisc(f, s, cityRadiusKm(d.population))))
		g, err := geom.Intersection(disc, regSF)
		if err != nil {
			return nil, fmt.Errorf("city %s: %w", d.code, err)
		}
		cities = append(cities, g)
		if out[d.code], err = polygons(g, d.code); err != nil {
			return nil, err
		}
	}
	allCities, err := geom.UnionMany(cities)
	if err != nil {
		return nil, fmt.Errorf("union of cities: %w", err)
	}
	sites := make([]vec, len(rural))
	for i, d := range rural {
		sites[i] = f.place(specs[d.code].site())
	}
	cells := voronoiCells(sites, f.boundBox(b, 0.1))
	for i, d := range rural {
		g, err := geom.Intersection(sfconv.ToSF(f.polygon(cells[i])), regSF)
		if err != nil {
			return nil, fmt.Errorf("district %s: %w", d.code, err)
		}
		if len(cities) > 0 {
			if g, err = geom.Difference(g, allCities); err != nil {
				return nil, fmt.Errorf("district %s minus cities: %w", d.code, err)
			}
		}
		if out[d.code], err = polygons(g, d.code); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// polygons converts an overlay result to orb, dropping slivers.
func polygons(g geom.Geometry, code string) (orb.MultiPolygon, error) {
	mp, err := sfconv.ToOrb(g)
	if err != nil {
		return nil, fmt.Errorf("unit %s: %w", code, err)
	}
	if len(mp) == 0 {
		return nil, fmt.Errorf("unit %s: empty geometry", code)
	}
	return mp, nil
}

// mahallaCounts allocates the mahallas of a region to its districts.
func mahallaCounts(region string, ds []sourceUnit) map[string]int {
	out := map[string]int{}
	switch region {
	case RegionKashkadarya:
		w := make([]float64, len(ds))
		for i, d := range ds {
			w[i] = float64(d.population)
		}
		for i, n := range apportion(KashkadaryaMahallas, w) {
			out[ds[i].code] = int(n)
		}
	case RegionBukhara:
		out[KogonCity] = KogonCityMahallas
	}
	return out
}

// apportion splits total into integer parts proportional to weights
// (largest remainder); the parts sum to total.
func apportion(total int64, w []float64) []int64 {
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	out := make([]int64, len(w))
	if sum <= 0 || len(w) == 0 {
		return out
	}
	rem := make([]int, len(w))
	frac := make([]float64, len(w))
	var given int64
	for i, x := range w {
		q := float64(total) * x / sum
		out[i] = int64(q)
		frac[i] = q - float64(out[i])
		given += out[i]
		rem[i] = i
	}
	slices.SortStableFunc(rem, func(a, b int) int { return cmp.Compare(frac[b], frac[a]) })
	for i := 0; given < total; i++ {
		out[rem[i%len(rem)]]++
		given++
	}
	return out
}

// buildMahallas draws n mahallas tiling the district polygon: Voronoi cells
// of sites sampled inside it (denser near the centre) clipped to it.
func buildMahallas(d sourceUnit, s districtSpec, poly orb.MultiPolygon, n int, villages []village) ([]geo.Unit, error) {
	rng := rand.New(rand.NewPCG(hashSeed(d.code), unitsSeed))
	b := poly.Bound()
	f := newFrame(b.Center()[1])
	c := f.place(s.Centre)
	lo, hi := f.point(b.Min), f.point(b.Max)
	area := math.Abs(planar.Area(poly)) * f.k // in frame units
	minGap := 0.35 * math.Sqrt(area/float64(n))
	if s.City {
		minGap = 0.6 * math.Sqrt(area/float64(n))
	}
	sites := make([]vec, 0, n)
	for tries := 0; len(sites) < n; tries++ {
		if tries > 0 && tries%(50*n) == 0 {
			minGap *= 0.7
		}
		var p vec
		u := rng.Float64()
		switch {
		case s.City && u < 0.3:
			p = gauss(rng, c, 0.4*(hi.Y-lo.Y)/2)
		case !s.City && u < 0.35:
			p = gauss(rng, c, 4/kmPerDeg)
		case !s.City && u < 0.70:
			p = gauss(rng, c, 12/kmPerDeg)
		default:
			p = vec{lo.X + rng.Float64()*(hi.X-lo.X), lo.Y + rng.Float64()*(hi.Y-lo.Y)}
		}
		if !planar.MultiPolygonContains(poly, f.inv(p)) {
			continue
		}
		ok := true
		for _, q := range sites {
			if p.dist2(q) < minGap*minGap {
				ok = false
				break
			}
		}
		if ok {
			sites = append(sites, p)
		}
	}
	// Sequence numbers from the centre outwards.
	slices.SortStableFunc(sites, func(a, b vec) int { return cmp.Compare(a.dist2(c), b.dist2(c)) })
	cells := voronoiCells(sites, f.boundBox(b, 0.01))
	dSF := sfconv.ToSF(poly)
	pops := mahallaPopulations(rng, d.population, n)
	nm := newNamer(rng, villages, n)
	out := make([]geo.Unit, 0, n)
	for i := range sites {
		code := d.code + fmt.Sprintf("%03d", i+1)
		g, err := geom.Intersection(sfconv.ToSF(f.polygon(cells[i])), dSF)
		if err != nil {
			return nil, fmt.Errorf("mahalla %s: %w", code, err)
		}
		mp, err := polygons(g, code)
		if err != nil {
			return nil, err
		}
		out = append(out, geo.Unit{
			Code: code, ParentCode: d.code, Level: geo.LevelMahalla,
			Names: nm.name(i), Population: pops[i], PopulationYear: d.year, Geometry: mp,
		})
	}
	return out, nil
}

func gauss(rng *rand.Rand, c vec, sigma float64) vec {
	return vec{c.X + rng.NormFloat64()*sigma, c.Y + rng.NormFloat64()*sigma}
}

// mahallaPopulations splits pop into n log-normally varying parts summing
// exactly to pop.
func mahallaPopulations(rng *rand.Rand, pop int64, n int) []int64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = math.Exp(0.4 * rng.NormFloat64())
	}
	return apportion(pop, w)
}

// namer gives mahalla names: settlement names of the district for the
// outer mahallas, common mahalla names for the rest, with a number suffix
// when a name repeats within the district.
type namer struct {
	n        int
	villages []village
	common   []mahallaName
	used     map[string]int
}

func newNamer(rng *rand.Rand, villages []village, n int) *namer {
	common := commonMahallaNames()
	rng.Shuffle(len(common), func(i, j int) { common[i], common[j] = common[j], common[i] })
	v := slices.Clone(villages)
	if max := n * 2 / 3; len(v) > max {
		v = v[:max]
	}
	return &namer{n: n, villages: v, common: common, used: map[string]int{}}
}

func (nm *namer) name(i int) map[string]string {
	var uz, cyrl, ru string
	if outer := nm.n - 1 - i; outer < len(nm.villages) {
		v := nm.villages[outer]
		uz, cyrl, ru = v.uz, v.cyrl, v.ru
	} else {
		c := nm.common[i%len(nm.common)]
		uz, cyrl, ru = c.Uz, c.Cyrl, c.Ru
	}
	nm.used[uz]++
	if k := nm.used[uz]; k > 1 {
		suf := " " + strconv.Itoa(k)
		uz, cyrl, ru = uz+suf, cyrl+suf, ru+suf
	}
	return map[string]string{"uz": uz, "uz-Cyrl": cyrl, "ru": ru}
}
