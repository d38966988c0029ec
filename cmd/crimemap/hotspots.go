package main

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/hotspot"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/paulmach/orb"
)

const hotspotsSynopsis = "hotspots [--res 8] [--k N] --period 2025-Q3 [--kind crime] [--category C] --unit CODE|--bbox B " +
	"[--mahallas [--rate] [--permutations N] [--seed N]] [--emerging [--interval month|quarter] [--periods 24]] " +
	"[--format table|csv] [--all] [--tz ZONE] [store flags]"

// hotspotOpts are the parsed flags of the hotspots command.
type hotspotOpts struct {
	res, k            int
	period            string
	kinds, categories string
	unit, bbox        string
	mahallas, rate    bool
	permutations      int
	seed              uint64
	emerging          bool
	interval          string
	periods           int
	format            string
	all               bool
	loc               *time.Location
	filter            analytics.Filter
	parsedPeriod      analytics.Period
	emergingEnd       time.Time
}

// cmdHotspots runs a hot spot analysis on the store's data and prints a
// table (significant rows, strongest first; --all for every row) or CSV
// (every row).
func cmdHotspots(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("hotspots", hotspotsSynopsis)
	sf := env.addStoreFlags(fs)
	o := hotspotOpts{}
	fs.IntVar(&o.res, "res", 8, "H3 resolution 5..10 (H3 and emerging analyses)")
	fs.IntVar(&o.k, "k", 0, "neighbourhood: H3 cells within k grid steps (0: the default for the resolution, ~1 km)")
	fs.StringVar(&o.period, "period", "", "period (2025, 2025-H1, 2025-Q3, 2025-07, 2025-W28 or 2025-07-01..2025-09-30); with --emerging the last step (default the last full month or quarter)")
	fs.StringVar(&o.kinds, "kind", "", "event kinds, comma-separated: crime, accident, offence (default all)")
	fs.StringVar(&o.categories, "category", "", "categories, comma-separated (default all)")
	fs.StringVar(&o.unit, "unit", "", "study area: region, district (or, for H3, mahalla) code")
	fs.StringVar(&o.bbox, "bbox", "", "study area for H3: minLon,minLat,maxLon,maxLat")
	fs.BoolVar(&o.mahallas, "mahallas", false, "analyse the mahallas of --unit (Gi* and local Moran, queen contiguity) instead of H3 cells")
	fs.BoolVar(&o.rate, "rate", false, "with --mahallas: events per 1,000 residents instead of counts")
	fs.IntVar(&o.permutations, "permutations", hotspot.DefaultPermutations, "with --mahallas: local Moran permutations")
	fs.Uint64Var(&o.seed, "seed", hotspot.DefaultSeed, "with --mahallas: seed of the permutations")
	fs.BoolVar(&o.emerging, "emerging", false, "emerging hot spot analysis (space-time Gi* and Mann-Kendall per H3 cell)")
	fs.StringVar(&o.interval, "interval", "month", "with --emerging: month or quarter")
	fs.IntVar(&o.periods, "periods", hotspot.DefaultSteps, "with --emerging: number of steps (10..120)")
	fs.StringVar(&o.format, "format", "table", "table or csv")
	fs.BoolVar(&o.all, "all", false, "table: print every row, not only significant ones")
	tz := fs.String("tz", envOr(env, "CRIMEMAP_TZ", "Asia/Tashkent"), "zone periods are cut in (env CRIMEMAP_TZ)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	var err error
	if o.loc, err = location(*tz); err != nil {
		return err
	}
	if err := o.validate(time.Now()); err != nil {
		return err
	}
	log := env.logger()
	st, err := sf.open(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()
	snap, err := storeSnapshot(ctx, st)
	if err != nil {
		return err
	}
	if isDemoStore(ctx, st) {
		// the demo's events are synthetic: say so next to every result
		out := env.stdout
		if o.format == "csv" {
			out = env.stderr
		}
		fmt.Fprintf(out, "%s\n\n", demoNotice)
	}
	switch {
	case o.mahallas:
		return hotspotsMahallas(ctx, env.stdout, st, snap, &o)
	case o.emerging:
		return hotspotsEmerging(ctx, env.stdout, st, snap, &o)
	}
	return hotspotsHex(ctx, env.stdout, st, snap, &o)
}

// validate checks the flags and fills filter, parsedPeriod and emergingEnd.
func (o *hotspotOpts) validate(now time.Time) error {
	if o.format != "table" && o.format != "csv" {
		return fmt.Errorf("%w: --format %q: want table or csv", errUsage, o.format)
	}
	if o.mahallas && o.emerging {
		return fmt.Errorf("%w: --mahallas and --emerging exclude each other", errUsage)
	}
	for _, k := range splitList(o.kinds) {
		kind, err := analytics.ParseKind(k)
		if err != nil {
			return fmt.Errorf("%w: --kind %q: want crime, accident or offence", errUsage, k)
		}
		o.filter.Kinds = append(o.filter.Kinds, kind)
	}
	o.filter.Categories = splitList(o.categories)
	o.filter.Unit = o.unit
	if o.bbox != "" {
		b, err := parseBBox(o.bbox)
		if err != nil {
			return fmt.Errorf("%w: --bbox %q: %w", errUsage, o.bbox, err)
		}
		o.filter.BBox = &b
	}
	if o.unit == "" && (o.mahallas || o.bbox == "") {
		return fmt.Errorf("%w: --unit is required (a district or region; or --bbox for H3 cells)", errUsage)
	}
	if o.emerging {
		iv := analytics.Interval(o.interval)
		if iv != analytics.IntervalMonth && iv != analytics.IntervalQuarter {
			return fmt.Errorf("%w: --interval %q: want month or quarter", errUsage, o.interval)
		}
		o.emergingEnd = analytics.IntervalStart(now, iv, o.loc)
		if o.period != "" {
			p, err := analytics.ParsePeriod(o.period, o.loc)
			if err != nil {
				return fmt.Errorf("%w: --period: %w", errUsage, err)
			}
			o.emergingEnd = p.To
		}
		return nil
	}
	if o.period == "" {
		return fmt.Errorf("%w: --period is required (e.g. 2025-Q3)", errUsage)
	}
	p, err := analytics.ParsePeriod(o.period, o.loc)
	if err != nil {
		return fmt.Errorf("%w: --period: %w", errUsage, err)
	}
	o.parsedPeriod = p
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseBBox(s string) (orb.Bound, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return orb.Bound{}, fmt.Errorf("want minLon,minLat,maxLon,maxLat")
	}
	var f [4]float64
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return orb.Bound{}, fmt.Errorf("want four numbers")
		}
		f[i] = v
	}
	if f[0] >= f[2] || f[1] >= f[3] {
		return orb.Bound{}, fmt.Errorf("want min < max")
	}
	return orb.Bound{Min: orb.Point{f[0], f[1]}, Max: orb.Point{f[2], f[3]}}, nil
}

// unitArea loads the boundary of the study area unit ("" -> nil).
func unitArea(ctx context.Context, st store.Store, code string) (orb.MultiPolygon, error) {
	if code == "" {
		return nil, nil
	}
	u, err := st.Unit(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("study area: %w", err)
	}
	return u.Geometry, nil
}

func hotspotsHex(ctx context.Context, w io.Writer, st store.Store, snap *analytics.Snapshot, o *hotspotOpts) error {
	area, err := unitArea(ctx, st, o.unit)
	if err != nil {
		return err
	}
	res, err := hotspot.HexHotspots(ctx, snap, hotspot.HexQuery{Res: o.res, K: o.k, Period: o.parsedPeriod, Filter: o.filter, Area: area})
	if err != nil {
		return err
	}
	if o.format == "csv" {
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"period", "res", "k", "h3", "count", "z", "p", "bin", "raw_bin"})
		for _, c := range res.Cells {
			_ = cw.Write([]string{res.Period.Label, strconv.Itoa(res.Res), strconv.Itoa(res.K), strconv.FormatUint(c.Cell, 16),
				strconv.FormatInt(c.Count, 10), csvNum(c.Z), csvNum(c.P), strconv.Itoa(int(c.Bin)), strconv.Itoa(int(c.RawBin))})
		}
		cw.Flush()
		return cw.Error()
	}
	fmt.Fprintf(w, "Gi* hot spots, %s, res %d, k %d (~%.2f km), %d cells (zero-filled), %d events\n",
		res.Period.Label, res.Res, res.K, res.NeighbourhoodKm, len(res.Cells), res.Events)
	fmt.Fprintf(w, "%s\n%s\n\n", res.Conventions.Correction, hotspotBinLegend)
	cells := slices.Clone(res.Cells)
	slices.SortStableFunc(cells, func(a, b hotspot.HexCell) int { return cmpZ(a.Z, b.Z) })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "cell\tcount\tz\tp\tbin\traw_bin\t")
	shown := 0
	for _, c := range cells {
		if !o.all && c.Bin == 0 {
			continue
		}
		shown++
		fmt.Fprintf(tw, "%x\t%d\t%s\t%s\t%+d\t%+d\t\n", c.Cell, c.Count, tabNum(c.Z, "%.2f"), tabNum(c.P, "%.4f"), c.Bin, c.RawBin)
	}
	tw.Flush()
	if !o.all {
		fmt.Fprintf(w, "%d significant cells of %d (--all prints every cell)\n", shown, len(cells))
	}
	return nil
}

const hotspotBinLegend = "bin: +3/+2/+1 hot spot at 99/95/90% confidence, -3..-1 cold spot, 0 not significant"

// cmpZ orders z-scores descending, NaN last.
func cmpZ(a, b float64) int {
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a):
		return 1
	case math.IsNaN(b):
		return -1
	}
	return cmp.Compare(b, a)
}

func tabNum(f float64, format string) string {
	if math.IsNaN(f) {
		return "-"
	}
	return fmt.Sprintf(format, f)
}

func csvNum(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return strconv.FormatFloat(f, 'g', 8, 64)
}

func hotspotsMahallas(ctx context.Context, w io.Writer, st store.Store, snap *analytics.Snapshot, o *hotspotOpts) error {
	_, u, ok := snap.Unit(o.unit)
	if !ok {
		return fmt.Errorf("unit %q: %w", o.unit, store.ErrNotFound)
	}
	uq := store.UnitQuery{Level: geo.LevelMahalla, WithGeometry: true}
	if u.Level == geo.LevelDistrict {
		uq.Parent = u.Code
	}
	ms, err := st.Units(ctx, uq)
	if err != nil {
		return fmt.Errorf("mahalla boundaries: %w", err)
	}
	bounds := make(map[string]orb.MultiPolygon, len(ms))
	for i := range ms {
		bounds[ms[i].Code] = ms[i].Geometry
	}
	res, err := hotspot.MahallaHotspots(ctx, snap, hotspot.MahallaQuery{Period: o.parsedPeriod, Filter: o.filter, Boundaries: bounds,
		Rate: o.rate, Permutations: o.permutations, Seed: o.seed})
	if err != nil {
		return err
	}
	if o.format == "csv" {
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"period", "code", "name", "count", "population", "value", "neighbors", "z", "p", "bin", "raw_bin", "moran_i", "moran_p", "quadrant", "cluster"})
		for _, r := range res.Rows {
			_ = cw.Write([]string{res.Period.Label, r.Code, r.Name, strconv.FormatInt(r.Count, 10), strconv.FormatInt(r.Population, 10),
				csvNum(r.Value), strconv.Itoa(r.Neighbors), csvNum(r.Z), csvNum(r.P), strconv.Itoa(int(r.Bin)), strconv.Itoa(int(r.RawBin)),
				csvNum(r.MoranI), csvNum(r.MoranP), r.Quadrant.String(), r.Cluster})
		}
		cw.Flush()
		return cw.Error()
	}
	value := "counts"
	if res.Rate {
		value = "rates per 1,000 residents"
	}
	fmt.Fprintf(w, "mahalla hot spots of %s, %s, %s: %d mahallas, %d events, %d excluded, %d islands, Moran %d permutations (seed %d)\n",
		u.Name, res.Period.Label, value, len(res.Rows), res.Events, len(res.Excluded), res.Islands, res.Permutations, res.Seed)
	fmt.Fprintf(w, "%s\ncluster: local Moran HH/LL cluster or HL/LH outlier at pseudo p <= %.2f\n\n", hotspotBinLegend, hotspot.MoranAlpha)
	rows := slices.Clone(res.Rows)
	slices.SortStableFunc(rows, func(a, b hotspot.MahallaRow) int { return cmpZ(a.Z, b.Z) })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "mahalla\tname\tcount\tvalue\tz\tp\tbin\tmoran_p\tcluster")
	shown := 0
	for _, r := range rows {
		if !o.all && r.Bin == 0 && r.Cluster == "" {
			continue
		}
		shown++
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%s\t%s\t%+d\t%s\t%s\n", r.Code, r.Name, r.Count, r.Value,
			tabNum(r.Z, "%.2f"), tabNum(r.P, "%.4f"), r.Bin, tabNum(r.MoranP, "%.3f"), r.Cluster)
	}
	tw.Flush()
	for _, e := range res.Excluded {
		fmt.Fprintf(w, "excluded %s %s: %s\n", e.Code, e.Name, e.Reason)
	}
	if !o.all {
		fmt.Fprintf(w, "%d mahallas with a Gi* bin or a Moran cluster of %d (--all prints every mahalla)\n", shown, len(rows))
	}
	return nil
}

func hotspotsEmerging(ctx context.Context, w io.Writer, st store.Store, snap *analytics.Snapshot, o *hotspotOpts) error {
	area, err := unitArea(ctx, st, o.unit)
	if err != nil {
		return err
	}
	res, err := hotspot.EmergingHotspots(ctx, snap, hotspot.EmergingQuery{Res: o.res, K: o.k, Interval: analytics.Interval(o.interval),
		Steps: o.periods, End: o.emergingEnd, Location: o.loc, Filter: o.filter, Area: area})
	if err != nil {
		return err
	}
	first, last := res.Steps[0].From.In(o.loc).Format(time.DateOnly), res.Steps[len(res.Steps)-1].To.In(o.loc).AddDate(0, 0, -1).Format(time.DateOnly)
	if o.format == "csv" {
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"first_day", "last_day", "res", "k", "h3", "category", "count", "hot_steps", "cold_steps", "trend", "mk_z", "mk_p", "tau"})
		for _, c := range res.Cells {
			_ = cw.Write([]string{first, last, strconv.Itoa(res.Res), strconv.Itoa(res.K), strconv.FormatUint(c.Cell, 16), string(c.Category),
				strconv.FormatInt(c.Count, 10), strconv.Itoa(c.HotSteps), strconv.Itoa(c.ColdSteps), strconv.Itoa(c.Trend.Trend),
				csvNum(c.Trend.Z), csvNum(c.Trend.P), csvNum(c.Trend.Tau)})
		}
		cw.Flush()
		return cw.Error()
	}
	fmt.Fprintf(w, "emerging hot spots, %d %ss %s..%s, res %d, k %d (~%.2f km), %d cells, %d events\n",
		len(res.Steps), res.Interval, first, last, res.Res, res.K, res.NeighbourhoodKm, len(res.Cells), res.Events)
	counts := map[hotspot.EmergingCategory]int{}
	for _, c := range res.Cells {
		counts[c.Category]++
	}
	for _, c := range hotspot.EmergingCategories() {
		if counts[c] > 0 {
			fmt.Fprintf(w, "  %-24s %d\n", c, counts[c])
		}
	}
	fmt.Fprintln(w)
	cells := slices.Clone(res.Cells)
	slices.SortStableFunc(cells, func(a, b hotspot.EmergingCell) int {
		if c := cmp.Compare(b.HotSteps, a.HotSteps); c != 0 {
			return c
		}
		return cmp.Compare(b.Count, a.Count)
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "cell\tcategory\tcount\thot_steps\tcold_steps\ttrend_z\ttrend_p")
	shown := 0
	for _, c := range cells {
		if !o.all && c.Category == hotspot.NoPattern {
			continue
		}
		shown++
		fmt.Fprintf(tw, "%x\t%s\t%d\t%d\t%d\t%s\t%s\n", c.Cell, c.Category, c.Count, c.HotSteps, c.ColdSteps,
			tabNum(c.Trend.Z, "%.2f"), tabNum(c.Trend.P, "%.4f"))
	}
	tw.Flush()
	if !o.all {
		fmt.Fprintf(w, "%d cells with a pattern of %d (--all prints every cell)\n", shown, len(cells))
	}
	return nil
}
