package demo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Config parameterises the event generator. The same Config and units give
// the same events, in the same order, on every run.
type Config struct {
	// Seed selects the synthetic world (risk of each mahalla, every event).
	Seed uint64
	// Now anchors the period: Months whole months ending with the last full
	// month before Now (in Location). Required.
	Now time.Time
	// Scale multiplies every volume; 0 means 1.
	Scale float64
	// Months is the length of the period; 0 means 36 (three years).
	Months int
	// BatchSize caps the events per callback; 0 means 10000.
	BatchSize int
	// Location cuts months and days; nil means Asia/Tashkent (UTC+5).
	Location *time.Location
}

// Yearly rates per 10,000 residents at Scale 1.
const (
	crimeRate    = 30.0  // registered crimes
	accidentRate = 2.5   // road accidents with casualties
	offenceRate  = 120.0 // administrative offences (4x crimes)
)

// Shares of events without a usable location and just outside the regions.
const (
	noLocationShare = 0.01
	outsideShare    = 0.002
)

// ErrConfig reports an unusable Config or unit set.
var ErrConfig = errors.New("demo: invalid config")

func (c Config) normalize() (Config, error) {
	if c.Now.IsZero() {
		return c, fmt.Errorf("%w: Now is zero", ErrConfig)
	}
	if c.Scale == 0 {
		c.Scale = 1
	}
	if c.Scale < 0 || math.IsNaN(c.Scale) || math.IsInf(c.Scale, 0) {
		return c, fmt.Errorf("%w: scale %g", ErrConfig, c.Scale)
	}
	if c.Months == 0 {
		c.Months = 36
	}
	if c.Months < 0 || c.Months > 240 {
		return c, fmt.Errorf("%w: months %d", ErrConfig, c.Months)
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 10000
	}
	if c.Location == nil {
		c.Location = tashkent()
	}
	return c, nil
}

// tashkent is Asia/Tashkent; Uzbekistan has kept UTC+5 without daylight
// saving since 1992, so a fixed zone is exact when tzdata is missing.
func tashkent() *time.Location {
	if loc, err := time.LoadLocation("Asia/Tashkent"); err == nil {
		return loc
	}
	return time.FixedZone("Asia/Tashkent", 5*3600)
}

// Period returns the first instant of the generated period and the first
// instant after it (both month starts in cfg.Location, as UTC).
func Period(cfg Config) (from, to time.Time, err error) {
	cfg, err = cfg.normalize()
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	from, to = period(cfg)
	return from.UTC(), to.UTC(), nil
}

func period(cfg Config) (from, to time.Time) {
	now := cfg.Now.In(cfg.Location)
	to = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, cfg.Location)
	return to.AddDate(0, -cfg.Months, 0), to
}

// Events generates the synthetic crimes, road accidents and administrative
// offences of the demo over units (as returned by Units) and passes them to
// fn in batches of at most cfg.BatchSize, month by month in time order.
// Each batch is a new slice that fn may keep. Generation stops at fn's first
// error, which is returned, or when ctx is done.
//
// Source IDs are "demo-c-000001" (crimes), "demo-a-..." (accidents) and
// "demo-o-..." (offences), numbered in time order. Region, District and
// Mahalla come from geo.NewIndex(units); Cell is the H3 cell at
// geo.EventResolution. About 1% of events have no location and a few lie
// just outside the regions (unassigned).
func Events(ctx context.Context, cfg Config, units []geo.Unit, fn func(batch []analytics.Event) error) error {
	cfg, err := cfg.normalize()
	if err != nil {
		return err
	}
	w, err := newWorld(cfg, units)
	if err != nil {
		return err
	}
	from, _ := period(cfg)
	var ids [4]int // by kind
	for m := range cfg.Months {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("demo events: %w", err)
		}
		start := from.AddDate(0, m, 0)
		evs, err := w.month(m, start, start.AddDate(0, 1, 0))
		if err != nil {
			return err
		}
		for i := range evs {
			e := &evs[i]
			ids[e.Kind]++
			e.SourceID = sourcePrefix(e.Kind) + fmt.Sprintf("%06d", ids[e.Kind])
		}
		for len(evs) > 0 {
			n := min(len(evs), cfg.BatchSize)
			if err := fn(evs[:n:n]); err != nil {
				return err
			}
			evs = evs[n:]
		}
	}
	return nil
}

// Generate returns the demo units and all its events at once.
func Generate(ctx context.Context, cfg Config) ([]geo.Unit, []analytics.Event, error) {
	units, err := Units()
	if err != nil {
		return nil, nil, err
	}
	var all []analytics.Event
	err = Events(ctx, cfg, units, func(b []analytics.Event) error {
		all = append(all, b...)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return units, all, nil
}

func sourcePrefix(k analytics.Kind) string {
	switch k {
	case analytics.KindCrime:
		return "demo-c-"
	case analytics.KindAccident:
		return "demo-a-"
	}
	return "demo-o-"
}

// area is where residential events are placed: a mahalla, or a whole
// district that has no mahallas in the demo.
type area struct {
	code   string
	geom   orb.MultiPolygon
	bound  orb.Bound
	centre orb.Point
	sigma  float64 // degrees of latitude
	pop    float64
	urban  bool
	risk   float64 // stable criminogenic factor
	growth float64 // yearly growth of risk (emerging hotspots)
}

// world is the generator's read-only model built from Config and units.
type world struct {
	cfg       Config
	ix        *geo.Index
	areas     []area
	hot       []hotspot
	hotCum    []float64
	towns     []hotspot // urban accident places
	townCum   []float64
	roads     [][]orb.Point
	roadCum   []float64
	outside   []orb.Point // points just outside the regions
	crimes    []crimeCategory
	accidents []accidentCategory
	offences  []offenceCategory
	totalPop  float64
}

func newWorld(cfg Config, units []geo.Unit) (*world, error) {
	w := &world{
		cfg: cfg, ix: geo.NewIndex(units),
		crimes: crimeCategories(), accidents: accidentCategories(), offences: offenceCategories(),
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	specs := map[string]districtSpec{}
	for _, s := range districtSpecs() {
		specs[s.Code] = s
	}
	hasMahallas := map[string]bool{}
	for _, u := range units {
		if u.Level == geo.LevelMahalla {
			hasMahallas[u.ParentCode] = true
		}
	}
	for _, u := range units {
		if u.Level == geo.LevelRegion {
			w.totalPop += float64(u.Population)
			continue
		}
		if len(u.Geometry) == 0 {
			return nil, fmt.Errorf("%w: unit %s has no geometry", ErrConfig, u.Code)
		}
		var a area
		switch {
		case u.Level == geo.LevelMahalla:
			a = area{code: u.Code, urban: isCityCode(u.ParentCode), centre: interiorPoint(u.Geometry)}
			b := u.Geometry.Bound()
			a.sigma = 0.35 * math.Max(b.Max[1]-b.Min[1], 0.002)
		case u.Level == geo.LevelDistrict && !hasMahallas[u.Code]:
			s, ok := specs[u.Code]
			a = area{code: u.Code, urban: isCityCode(u.Code), centre: orb.Point{s.Centre.Lon, s.Centre.Lat}, sigma: 7 / kmPerDeg}
			if a.urban {
				a.sigma = cityRadiusKm(u.Population) / 2 / kmPerDeg
			}
			if !ok || !planar.MultiPolygonContains(u.Geometry, a.centre) {
				a.centre = interiorPoint(u.Geometry)
			}
		default:
			continue
		}
		a.geom, a.bound, a.pop = u.Geometry, u.Geometry.Bound(), float64(u.Population)
		w.areas = append(w.areas, a)
	}
	if len(w.areas) == 0 || w.totalPop == 0 {
		return nil, fmt.Errorf("%w: no units with population and geometry", ErrConfig)
	}
	// Risk: ~52% quiet mahallas, a heavy-tailed rest, a few markedly high
	// and a few emerging ones.
	for i := range w.areas {
		a := &w.areas[i]
		if len(a.code) == 7 { // district without mahallas
			a.risk = 1
			continue
		}
		u := rng.Float64()
		switch {
		case u < 0.52:
			a.risk = 0.03
		case u < 0.975:
			a.risk = math.Exp(0.9*rng.NormFloat64() - 0.1)
		default:
			a.risk = 5 + 4*rng.Float64()
		}
		if rng.Float64() < 0.02 {
			a.growth = 0.5 + 0.3*rng.Float64()
			a.risk = math.Max(a.risk, 0.5)
		}
	}
	// Hotspots: named markets and stations, and the bozor of every
	// district centre.
	w.hot = hotspots()
	for _, u := range units {
		if s, ok := specs[u.Code]; ok && u.Level == geo.LevelDistrict {
			w.hot = append(w.hot, hotspot{Name: u.Name("uz") + " bozori", At: s.Centre, Weight: 1.5 * float64(u.Population) / 200000, SpreadKm: 0.3})
			r := 1.2
			if s.City {
				r = cityRadiusKm(u.Population) / 2
			}
			w.towns = append(w.towns, hotspot{Name: u.Name("uz"), At: s.Centre, Weight: float64(u.Population), SpreadKm: r})
		}
	}
	w.hotCum = cumulative(len(w.hot), func(i int) float64 { return w.hot[i].Weight })
	w.townCum = cumulative(len(w.towns), func(i int) float64 { return w.towns[i].Weight })
	for _, r := range roads() {
		for i := 0; i+1 < len(r.Via); i++ {
			a, b := orb.Point{r.Via[i].Lon, r.Via[i].Lat}, orb.Point{r.Via[i+1].Lon, r.Via[i+1].Lat}
			w.roads = append(w.roads, []orb.Point{a, b})
			w.roadCum = append(w.roadCum, last(w.roadCum)+r.Traffic*distKm(a, b))
		}
	}
	w.outside = outsidePoints(w.ix, units)
	if len(w.outside) == 0 {
		return nil, fmt.Errorf("%w: no region boundary to place outside events", ErrConfig)
	}
	return w, nil
}

func last(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return xs[len(xs)-1]
}

func cumulative(n int, f func(int) float64) []float64 {
	out := make([]float64, n)
	s := 0.0
	for i := range n {
		s += math.Max(f(i), 0)
		out[i] = s
	}
	return out
}

// pick draws an index with probability proportional to the weights whose
// running sums are cum.
func pick(rng *rand.Rand, cum []float64) int {
	x := rng.Float64() * last(cum)
	i, _ := slices.BinarySearch(cum, x)
	return min(i, len(cum)-1)
}

func pickW[T any](rng *rand.Rand, ws []weighted[T]) T {
	s := 0.0
	for _, w := range ws {
		s += w.W
	}
	x := rng.Float64() * s
	for _, w := range ws {
		if x < w.W {
			return w.V
		}
		x -= w.W
	}
	return ws[len(ws)-1].V
}

func distKm(a, b orb.Point) float64 {
	k := math.Cos((a[1] + b[1]) / 2 * math.Pi / 180)
	dx, dy := (a[0]-b[0])*k, a[1]-b[1]
	return math.Hypot(dx, dy) * kmPerDeg
}

// interiorPoint returns a point inside mp: the centroid of its largest
// polygon when inside, else the midpoint of the widest horizontal chord.
func interiorPoint(mp orb.MultiPolygon) orb.Point {
	best, ba := 0, -1.0
	for i, p := range mp {
		if a := math.Abs(planar.Area(p)); a > ba {
			best, ba = i, a
		}
	}
	p := mp[best]
	c, _ := planar.CentroidArea(p)
	if planar.PolygonContains(p, c) {
		return c
	}
	b := p.Bound()
	y := (b.Min[1] + b.Max[1]) / 2
	var xs []float64
	for _, r := range p {
		for i := 0; i+1 < len(r); i++ {
			a, q := r[i], r[i+1]
			if (a[1] <= y) != (q[1] <= y) {
				xs = append(xs, a[0]+(y-a[1])*(q[0]-a[0])/(q[1]-a[1]))
			}
		}
	}
	slices.Sort(xs)
	bx, bw := c[0], -1.0
	for i := 0; i+1 < len(xs); i += 2 {
		if w := xs[i+1] - xs[i]; w > bw {
			bx, bw = (xs[i]+xs[i+1])/2, w
		}
	}
	return orb.Point{bx, y}
}

// outsidePoints are points 1-6 km outside the region boundaries, checked
// to be unassigned.
func outsidePoints(ix *geo.Index, units []geo.Unit) []orb.Point {
	var out []orb.Point
	for _, u := range units {
		if u.Level != geo.LevelRegion || len(u.Geometry) == 0 {
			continue
		}
		c := u.Geometry.Bound().Center()
		for _, p := range u.Geometry {
			r := p[0]
			for i := 0; i < len(r); i += 7 {
				v := orb.Point{r[i][0] - c[0], r[i][1] - c[1]}
				n := math.Hypot(v[0], v[1])
				if n == 0 {
					continue
				}
				for _, km := range []float64{2, 4, 6} {
					q := orb.Point{r[i][0] + v[0]/n*km/kmPerDeg, r[i][1] + v[1]/n*km/kmPerDeg}
					if ix.Assign(q[0], q[1]).Region == "" {
						out = append(out, q)
						break
					}
				}
			}
		}
	}
	return out
}

// monthRNG is the random stream of one month and kind: months are
// independent, so a change in one does not shift the others.
func (w *world) monthRNG(m int, kind analytics.Kind) *rand.Rand {
	return rand.New(rand.NewPCG(w.cfg.Seed, uint64(m)<<8|uint64(kind)))
}

// seasonal is 1 + amp*cos(2*pi*(month-peak)/12).
func seasonal(month time.Month, amp float64, peak int) float64 {
	return 1 + amp*math.Cos(2*math.Pi*float64(int(month)-peak)/12)
}

// poisson draws a Poisson count (normal approximation above 50).
func poisson(rng *rand.Rand, mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 50 {
		return max(0, int(math.Round(mean+math.Sqrt(mean)*rng.NormFloat64())))
	}
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// month generates every event of month m (from start to end), sorted by
// time then kind.
func (w *world) month(m int, start, end time.Time) ([]analytics.Event, error) {
	years := (float64(m) + 0.5) / 12 // since the start of the period
	var evs []analytics.Event
	popFactor := w.totalPop / 10000 / 12 * w.cfg.Scale

	// Crimes.
	rng := w.monthRNG(m, analytics.KindCrime)
	for ci := range w.crimes {
		c := &w.crimes[ci]
		cum := cumulative(len(w.areas), func(i int) float64 {
			a := &w.areas[i]
			wt := a.pop * math.Pow(a.risk*math.Exp(a.growth*years), c.Concentration)
			if a.urban {
				wt *= c.Urban
			}
			return wt
		})
		mean := crimeRate * c.Share * popFactor * seasonal(start.Month(), c.Amp, c.Peak) * (1 + c.Trend*(years-1.5))
		for range poisson(rng, mean) {
			e := analytics.Event{Kind: analytics.KindCrime, Category: c.Name}
			e.OccurredAt = randomTime(rng, start, end, &c.Hours, c.Weekend)
			atHotspot := rng.Float64() < c.Hotspot
			if atHotspot {
				h := &w.hot[pick(rng, w.hotCum)]
				e.Lon, e.Lat = jitter(rng, orb.Point{h.At.Lon, h.At.Lat}, h.SpreadKm)
			} else {
				e.Lon, e.Lat = w.areaPoint(rng, &w.areas[pick(rng, cum)])
			}
			e.Severity = analytics.Severity(1 + pickIndex(rng, c.Severity[:]))
			if c.BySeverity[e.Severity] != "" {
				e.Article = c.BySeverity[e.Severity]
			} else {
				e.Article = pickW(rng, c.Articles)
			}
			e.Flags = crimeFlags(rng, c, atHotspot)
			evs = append(evs, e)
		}
	}

	// Road accidents: two thirds on main roads, the rest in towns.
	rng = w.monthRNG(m, analytics.KindAccident)
	mean := accidentRate * popFactor * seasonal(start.Month(), 0.2, 8)
	hours := hoursTraffic()
	for range poisson(rng, mean) {
		e := analytics.Event{Kind: analytics.KindAccident}
		e.OccurredAt = randomTime(rng, start, end, &hours, 1.1)
		onRoad := rng.Float64() < 0.65
		ws := make([]float64, len(w.accidents))
		for i, a := range w.accidents {
			if onRoad {
				ws[i] = a.Road
			} else {
				ws[i] = a.Urban
			}
		}
		ac := &w.accidents[pickIndex(rng, ws)]
		if onRoad {
			seg := w.roads[pick(rng, w.roadCum)]
			t := rng.Float64()
			p := orb.Point{seg[0][0] + t*(seg[1][0]-seg[0][0]), seg[0][1] + t*(seg[1][1]-seg[0][1])}
			e.Lon, e.Lat = jitter(rng, p, 0.03)
		} else {
			h := &w.towns[pick(rng, w.townCum)]
			e.Lon, e.Lat = jitter(rng, orb.Point{h.At.Lon, h.At.Lat}, h.SpreadKm)
		}
		e.Category, e.Vehicle = ac.Name, pickW(rng, ac.Vehicles)
		fatal := ac.Fatal
		if !onRoad {
			fatal /= 2
		}
		if rng.Float64() < fatal {
			e.Killed = int32(1 + pickIndex(rng, []float64{0.85, 0.11, 0.03, 0.01}))
			e.Injured = int32(pickIndex(rng, []float64{0.4, 0.35, 0.15, 0.07, 0.03}))
		} else {
			e.Injured = int32(1 + pickIndex(rng, []float64{0.62, 0.23, 0.09, 0.04, 0.01, 0.01}))
		}
		if e.Vehicle == "bus" && rng.Float64() < 0.3 {
			e.Injured += int32(2 + rng.IntN(8))
		}
		evs = append(evs, e)
	}

	// Administrative offences.
	rng = w.monthRNG(m, analytics.KindOffence)
	for oi := range w.offences {
		o := &w.offences[oi]
		cum := cumulative(len(w.areas), func(i int) float64 {
			a := &w.areas[i]
			wt := a.pop * math.Sqrt(a.risk*math.Exp(a.growth*years))
			if a.urban {
				wt *= o.Urban
			}
			return wt
		})
		mean := offenceRate * o.Share * popFactor * seasonal(start.Month(), o.Amp, o.Peak)
		for range poisson(rng, mean) {
			e := analytics.Event{Kind: analytics.KindOffence, Category: o.Name}
			e.OccurredAt = randomTime(rng, start, end, &o.Hours, o.Weekend)
			if rng.Float64() < o.Hotspot {
				h := &w.hot[pick(rng, w.hotCum)]
				e.Lon, e.Lat = jitter(rng, orb.Point{h.At.Lon, h.At.Lat}, h.SpreadKm)
			} else {
				e.Lon, e.Lat = w.areaPoint(rng, &w.areas[pick(rng, cum)])
			}
			e.Article = pickW(rng, o.Articles)
			e.Fine = pickW(rng, o.Fines) * BaseCalculationValue
			evs = append(evs, e)
		}
	}

	// A few without location, a few just outside; then the index.
	rng = w.monthRNG(m, 0)
	for i := range evs {
		e := &evs[i]
		switch u := rng.Float64(); {
		case u < noLocationShare:
			e.ClearLocation()
			continue
		case u < noLocationShare+outsideShare:
			e.Lon, e.Lat = jitter(rng, w.outside[rng.IntN(len(w.outside))], 0.2)
		}
		if err := e.SetLocation(round6(e.Lat), round6(e.Lon)); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		a := w.ix.Assign(e.Lon, e.Lat)
		e.Region, e.District, e.Mahalla = a.Region, a.District, a.Mahalla
	}
	slices.SortStableFunc(evs, func(a, b analytics.Event) int {
		if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
	return evs, nil
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func pickIndex(rng *rand.Rand, ws []float64) int {
	s := 0.0
	for _, w := range ws {
		s += w
	}
	x := rng.Float64() * s
	for i, w := range ws {
		if x < w {
			return i
		}
		x -= w
	}
	return len(ws) - 1
}

func jitter(rng *rand.Rand, p orb.Point, sdKm float64) (lon, lat float64) {
	k := math.Cos(p[1] * math.Pi / 180)
	d := sdKm / kmPerDeg
	return p[0] + rng.NormFloat64()*d/k, p[1] + rng.NormFloat64()*d
}

// areaPoint draws a point inside the area, concentrated around its centre.
func (w *world) areaPoint(rng *rand.Rand, a *area) (lon, lat float64) {
	k := math.Cos(a.centre[1] * math.Pi / 180)
	for range 12 {
		p := orb.Point{a.centre[0] + rng.NormFloat64()*a.sigma/k, a.centre[1] + rng.NormFloat64()*a.sigma}
		if a.bound.Contains(p) && planar.MultiPolygonContains(a.geom, p) {
			return p[0], p[1]
		}
	}
	for range 50 {
		p := orb.Point{a.bound.Min[0] + rng.Float64()*(a.bound.Max[0]-a.bound.Min[0]), a.bound.Min[1] + rng.Float64()*(a.bound.Max[1]-a.bound.Min[1])}
		if planar.MultiPolygonContains(a.geom, p) {
			return p[0], p[1]
		}
	}
	return a.centre[0], a.centre[1]
}

// randomTime draws an instant in [start, end) with the hour profile and a
// weekend weight, in the zone of start; returned in UTC.
func randomTime(rng *rand.Rand, start, end time.Time, hours *[24]float64, weekend float64) time.Time {
	days := int(end.Sub(start).Hours()/24 + 0.5)
	maxW := math.Max(1, weekend)
	var d time.Time
	for {
		d = start.AddDate(0, 0, rng.IntN(days))
		wt := 1.0
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			wt = weekend
		}
		if rng.Float64()*maxW < wt {
			break
		}
	}
	h := pickIndex(rng, hours[:])
	t := d.Add(time.Duration(h)*time.Hour + time.Duration(rng.IntN(3600))*time.Second)
	return t.UTC()
}

func crimeFlags(rng *rand.Rand, c *crimeCategory, atHotspot bool) analytics.Flags {
	var f analytics.Flags
	set := func(flag analytics.Flags, p float64) {
		if rng.Float64() < p {
			f |= flag
		}
	}
	set(analytics.FlagJuvenile, c.Juvenile)
	set(analytics.FlagRecidivist, c.Recidivist)
	set(analytics.FlagDomestic, c.Domestic)
	set(analytics.FlagAlcohol, c.Alcohol)
	set(analytics.FlagDrugs, c.Drugs)
	if atHotspot {
		f |= analytics.FlagPublicPlace
	} else {
		set(analytics.FlagPublicPlace, c.Public)
	}
	set(analytics.FlagSolved, c.Solved)
	return f
}
