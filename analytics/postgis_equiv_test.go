package analytics_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/postgis"
	"github.com/crimemap/crimemap/store/postgis/pgquery"
	"github.com/crimemap/crimemap/store/postgis/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
)

// equivDemo is the demo region the equivalence test loads: 36 months
// (2023-01 .. 2025-12 in Asia/Tashkent) at 0.3 of the default volume.
var equivDemo = demo.Config{Seed: 20251, Now: time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC), Scale: 0.3}

// TestPostGISEquivalence loads the demo region into PostGIS, builds the
// snapshot from that store, and answers the same stats (with both
// comparisons, rates and totals), series and hexbins with the snapshot and
// with SQL in PostGIS (package pgquery): every number must be identical.
func TestPostGISEquivalence(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	st, err := postgis.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	units, err := demo.Units()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutUnits(ctx, units); err != nil {
		t.Fatal(err)
	}
	err = demo.Events(ctx, equivDemo, units, func(b []analytics.Event) error {
		_, err := st.PutEvents(ctx, b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	pool := st.Pool()
	if _, err := pool.Exec(ctx, "ANALYZE events"); err != nil {
		t.Fatal(err)
	}

	live := analytics.NewLive(st, func(ctx context.Context) ([]geo.Unit, error) {
		return st.Units(ctx, store.UnitQuery{})
	})
	if err := live.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	snap := live.Current()
	var stored int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if snap.Len() != stored || stored < 20000 {
		t.Fatalf("snapshot has %d events, PostGIS %d (want the same, at least 20000)", snap.Len(), stored)
	}
	t.Logf("demo region: %d events, %d units", stored, len(units))

	eng := &pgquery.Engine{DB: pool}
	tz, err := time.LoadLocation("Asia/Tashkent")
	if err != nil {
		tz = analytics.SyntheticZone()
	}
	quarter, err := analytics.ParsePeriod("2025-Q3", tz)
	if err != nil {
		t.Fatal(err)
	}
	month, _ := analytics.ParsePeriod("2025-11", tz)
	week, _ := analytics.ParsePeriod("2025-W40", tz)
	from, to, err := demo.Period(equivDemo)
	if err != nil {
		t.Fatal(err)
	}
	from, to = from.In(tz), to.In(tz)

	// The busiest district with mahallas, a second one by code, one
	// without mahallas (the demo has mahallas in Kashkadarya only), a
	// region and a mahalla.
	var busy, other, bare, region, mahalla string
	if err := pool.QueryRow(ctx, `SELECT e.district_code FROM events e
		WHERE EXISTS (SELECT FROM units m WHERE m.parent_code = e.district_code)
		GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&busy); err != nil {
		t.Fatal(err)
	}
	hasMahallas := make(map[string]bool)
	for _, u := range units {
		if u.Level == geo.LevelMahalla {
			hasMahallas[u.ParentCode] = true
		}
	}
	for _, u := range units {
		switch {
		case u.Level == geo.LevelDistrict && other == "" && u.Code != busy && hasMahallas[u.Code]:
			other = u.Code
		case u.Level == geo.LevelDistrict && bare == "" && !hasMahallas[u.Code]:
			bare = u.Code
		case u.Level == geo.LevelRegion && region == "":
			region = u.Code
		case u.Level == geo.LevelMahalla && u.ParentCode == busy && mahalla == "":
			mahalla = u.Code
		}
	}
	// Events at the exact edges of the periods and intervals (and half a
	// second on either side): the stored times have microseconds, the
	// snapshot whole seconds.
	addEdgeEvents(t, ctx, st, mahalla, quarter, mustPeriod(t, "2025-W40", tz))
	if err := live.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	snap = live.Current()

	box, err := equivBBox(ctx, pool, busy)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("district %s (busiest), %s, %s (no mahallas); region %s; mahalla %s; bbox %v", busy, other, bare, region, mahalla, box)

	both := func(q analytics.StatsQuery) analytics.StatsQuery {
		q.ComparePrevious, q.CompareLastYear = true, true
		return q
	}
	crimeKinds := []analytics.Kind{analytics.KindCrime}
	statsCases := []struct {
		name string
		q    analytics.StatsQuery
	}{
		{"mahalla x category in district, quarter", both(analytics.StatsQuery{Period: quarter, Level: geo.LevelMahalla,
			Group: analytics.DimCategory, Filter: analytics.Filter{Unit: busy}})},
		{"mahalla x category in other district, month", both(analytics.StatsQuery{Period: month, Level: geo.LevelMahalla,
			Group: analytics.DimCategory, Filter: analytics.Filter{Unit: other}})},
		{"mahalla x category everywhere, quarter", both(analytics.StatsQuery{Period: quarter, Level: geo.LevelMahalla,
			Group: analytics.DimCategory})},
		{"mahalla x category, crimes only", both(analytics.StatsQuery{Period: quarter, Level: geo.LevelMahalla,
			Group: analytics.DimCategory, Filter: analytics.Filter{Unit: busy, Kinds: crimeKinds}})},
		{"district x kind, crimes+offences in bbox", both(analytics.StatsQuery{Period: quarter, Level: geo.LevelDistrict,
			Group: analytics.DimKind, Filter: analytics.Filter{Kinds: []analytics.Kind{analytics.KindCrime, analytics.KindOffence}, BBox: &box}})},
		{"district x kind, all", both(analytics.StatsQuery{Period: quarter, Level: geo.LevelDistrict, Group: analytics.DimKind})},
		{"district x severity, categories and flags", both(analytics.StatsQuery{Period: quarter, Level: geo.LevelDistrict,
			Group: analytics.DimSeverity, Filter: analytics.Filter{Kinds: crimeKinds,
				Categories: []string{"theft", "fraud", "hooliganism", "no_such_category"}, Flags: analytics.FlagSolved}})},
		{"district x severity, two flags, bbox, week", both(analytics.StatsQuery{Period: week, Level: geo.LevelDistrict,
			Group: analytics.DimSeverity, Filter: analytics.Filter{Flags: analytics.FlagSolved | analytics.FlagPublicPlace, BBox: &box}})},
		{"district x severity, severities", both(analytics.StatsQuery{Period: quarter, Level: geo.LevelDistrict,
			Group: analytics.DimSeverity, Filter: analytics.Filter{Severities: []analytics.Severity{analytics.SeverityGrave, analytics.SeverityEspeciallyGrave}}})},
		{"mahalla x flag in district", both(analytics.StatsQuery{Period: quarter, Level: geo.LevelMahalla,
			Group: analytics.DimFlag, Filter: analytics.Filter{Unit: busy}})},
		{"totals: region, no filter", both(analytics.StatsQuery{Period: quarter, Level: geo.LevelRegion})},
		{"totals: district in region, year", both(analytics.StatsQuery{Period: mustPeriod(t, "2025", tz), Level: geo.LevelDistrict,
			Filter: analytics.Filter{Unit: region}})},
		{"totals: mahalla everywhere, previous only", analytics.StatsQuery{Period: quarter, Level: geo.LevelMahalla, ComparePrevious: true}},
		{"region of a mahalla (ancestor row)", both(analytics.StatsQuery{Period: quarter, Level: geo.LevelRegion,
			Filter: analytics.Filter{Unit: mahalla}})},
		{"mahallas of a district without any (all unassigned)", both(analytics.StatsQuery{Period: quarter, Level: geo.LevelMahalla,
			Filter: analytics.Filter{Unit: bare}})},
	}
	var sawNoLoc, sawUnassigned bool
	for _, c := range statsCases {
		t.Run("stats/"+c.name, func(t *testing.T) {
			want, err := snap.Stats(c.q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := eng.Stats(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			diffStats(t, want, got)
			checkCompare(t, got)
			if (len(want.Rows) == 0 && c.q.Filter.Unit != bare) || want.Total == 0 {
				t.Errorf("degenerate case: %d rows, %d events", len(want.Rows), want.Total)
			}
			sawNoLoc = sawNoLoc || want.NoLocation > 0
			sawUnassigned = sawUnassigned || want.Unassigned > 0
			t.Logf("%d rows, total %d, no location %d, unassigned %d", len(want.Rows), want.Total, want.NoLocation, want.Unassigned)
		})
	}
	if !sawNoLoc || !sawUnassigned {
		t.Errorf("no case had events without location (%v) or unassigned (%v)", sawNoLoc, sawUnassigned)
	}

	seriesCases := []struct {
		name string
		q    analytics.SeriesQuery
	}{
		{"district, 36 months, monthly", analytics.SeriesQuery{Interval: analytics.IntervalMonth, From: from, To: to,
			Filter: analytics.Filter{Unit: busy}}},
		{"district, 36 months, ISO weeks", analytics.SeriesQuery{Interval: analytics.IntervalWeek, From: from, To: to,
			Filter: analytics.Filter{Unit: busy}}},
		{"district crimes, 36 months, quarterly", analytics.SeriesQuery{Interval: analytics.IntervalQuarter, From: from, To: to,
			Filter: analytics.Filter{Unit: other, Kinds: crimeKinds}}},
		{"everything, daily, a quarter", analytics.SeriesQuery{Interval: analytics.IntervalDay, From: quarter.From, To: quarter.To}},
		{"mid-week bounds, weekly", analytics.SeriesQuery{Interval: analytics.IntervalWeek,
			From: time.Date(2024, 2, 29, 13, 0, 0, 0, tz), To: time.Date(2024, 6, 5, 0, 0, 0, 0, tz), Filter: analytics.Filter{Unit: busy}}},
	}
	for _, c := range seriesCases {
		t.Run("series/"+c.name, func(t *testing.T) {
			want, err := snap.Series(c.q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := eng.Series(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			diffSeries(t, want, got)
		})
	}

	hexCases := []struct {
		name string
		q    analytics.HexbinQuery
	}{
		{"res 7 district quarter", analytics.HexbinQuery{Res: 7, Period: quarter, Filter: analytics.Filter{Unit: busy}}},
		{"res 8 district quarter", analytics.HexbinQuery{Res: 8, Period: quarter, Filter: analytics.Filter{Unit: busy}}},
		{"res 8 everywhere quarter", analytics.HexbinQuery{Res: 8, Period: quarter}},
		{"res 9 crimes in bbox", analytics.HexbinQuery{Res: 9, Period: quarter, Filter: analytics.Filter{Kinds: crimeKinds, BBox: &box}}},
		{"res 5 everywhere month", analytics.HexbinQuery{Res: 5, Period: month}},
		{"res 10 other district", analytics.HexbinQuery{Res: 10, Period: quarter, Filter: analytics.Filter{Unit: other}}},
	}
	for _, c := range hexCases {
		t.Run("hexbins/"+c.name, func(t *testing.T) {
			want, err := snap.Hexbins(c.q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := eng.Hexbins(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			diffHexbins(t, want, got)
			// The SQL bit operations agree with geo.CellParent.
			for _, b := range got.Bins[:min(len(got.Bins), 50)] {
				if geo.CellResolution(b.Cell) != c.q.Res {
					t.Fatalf("cell %x has res %d", b.Cell, geo.CellResolution(b.Cell))
				}
			}
		})
	}
}

// addEdgeEvents stores located crimes in mahalla at the edges of p, of
// its previous period and last year's, and of week.
func addEdgeEvents(t *testing.T, ctx context.Context, st *postgis.Store, mahalla string, p, week analytics.Period) {
	t.Helper()
	page, err := st.Events(ctx, store.EventQuery{Unit: mahalla, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var tmpl *analytics.Event
	for i := range page.Events {
		if page.Events[i].HasLocation {
			tmpl = &page.Events[i]
			break
		}
	}
	if tmpl == nil {
		t.Fatalf("no located event in %s", mahalla)
	}
	var edges []time.Time
	for _, q := range []analytics.Period{p, p.Previous(), p.LastYear(), week} {
		for _, at := range []time.Time{q.From, q.To} {
			for _, d := range []time.Duration{-time.Second, -500 * time.Millisecond, 0, 500 * time.Millisecond} {
				edges = append(edges, at.Add(d))
			}
		}
	}
	evs := make([]analytics.Event, len(edges))
	for i, at := range edges {
		e := *tmpl
		e.Kind, e.Category, e.Article = analytics.KindCrime, "theft", "169"
		e.Severity, e.Flags = analytics.SeverityGrave, analytics.FlagSolved|analytics.FlagPublicPlace
		e.Killed, e.Injured, e.Vehicle, e.Fine = 0, 0, "", 0
		e.SourceID = fmt.Sprintf("edge-%03d", i)
		e.OccurredAt = at.UTC()
		evs[i] = e
	}
	res, err := st.PutEvents(ctx, evs)
	if err != nil || res.Inserted != len(evs) {
		t.Fatalf("edge events: %+v, %v", res, err)
	}
}

func mustPeriod(t *testing.T, s string, loc *time.Location) analytics.Period {
	t.Helper()
	p, err := analytics.ParsePeriod(s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// equivBBox returns a box over the middle of district's events whose edges
// lie at least 1e-5 degrees from every event. The snapshot compares float32
// coordinates and PostGIS's && float boxes rounded outward: both agree with
// exact comparisons except within a few 1e-6 degrees of an edge, so the
// test keeps every point clear of the edges.
func equivBBox(ctx context.Context, pool *pgxpool.Pool, district string) (orb.Bound, error) {
	var b orb.Bound
	err := pool.QueryRow(ctx, `SELECT
	    percentile_disc(0.2) WITHIN GROUP (ORDER BY lon), percentile_disc(0.2) WITHIN GROUP (ORDER BY lat),
	    percentile_disc(0.8) WITHIN GROUP (ORDER BY lon), percentile_disc(0.8) WITHIN GROUP (ORDER BY lat)
	  FROM events WHERE district_code = $1 AND lon IS NOT NULL`, district).Scan(&b.Min[0], &b.Min[1], &b.Max[0], &b.Max[1])
	if err != nil {
		return b, err
	}
	clear := func(col string, v *float64) error {
		*v = math.Round(*v*1e4)/1e4 + 0.5e-6 // off the 1e-6 grid of stored coordinates
		for range 100 {
			var near int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE abs(`+col+` - $1) < 1e-5`, *v).Scan(&near); err != nil {
				return err
			}
			if near == 0 {
				return nil
			}
			*v += 1.3e-4
		}
		return fmt.Errorf("no clear %s edge near %v", col, *v)
	}
	for _, e := range []struct {
		col string
		v   *float64
	}{{"lon", &b.Min[0]}, {"lat", &b.Min[1]}, {"lon", &b.Max[0]}, {"lat", &b.Max[1]}} {
		if err := clear(e.col, e.v); err != nil {
			return b, err
		}
	}
	return b, nil
}

// diffStats reports every difference between the snapshot's and SQL's stats.
func diffStats(t *testing.T, want, got analytics.StatsResult) {
	t.Helper()
	if want.Total != got.Total || want.NoLocation != got.NoLocation || want.Unassigned != got.Unassigned {
		t.Errorf("totals: snapshot %d/%d/%d, SQL %d/%d/%d (total/no location/unassigned)",
			want.Total, want.NoLocation, want.Unassigned, got.Total, got.NoLocation, got.Unassigned)
	}
	if len(want.Rows) != len(got.Rows) {
		t.Errorf("rows: snapshot %d, SQL %d", len(want.Rows), len(got.Rows))
	}
	bad := 0
	for i := range min(len(want.Rows), len(got.Rows)) {
		w, g := want.Rows[i], got.Rows[i]
		if d := rowDiff(w, g); d != "" {
			if bad++; bad <= 10 {
				t.Errorf("row %d %s/%s: %s", i, w.Unit, w.Group, d)
			}
		}
	}
	if bad > 10 {
		t.Errorf("... %d rows differ", bad)
	}
}

func rowDiff(w, g analytics.StatsRow) string {
	switch {
	case w.Unit != g.Unit || w.Group != g.Group:
		return fmt.Sprintf("key: snapshot %s/%s, SQL %s/%s", w.Unit, w.Group, g.Unit, g.Group)
	case w.Name != g.Name:
		return fmt.Sprintf("name: snapshot %q, SQL %q", w.Name, g.Name)
	case w.Count != g.Count:
		return fmt.Sprintf("count: snapshot %d, SQL %d", w.Count, g.Count)
	case w.Population != g.Population:
		return fmt.Sprintf("population: snapshot %d, SQL %d", w.Population, g.Population)
	case !sameFloat(w.Rate, g.Rate):
		return fmt.Sprintf("rate: snapshot %s, SQL %s", fmtFloat(w.Rate), fmtFloat(g.Rate))
	}
	if d := compDiff(w.Previous, g.Previous); d != "" {
		return "previous: " + d
	}
	if d := compDiff(w.LastYear, g.LastYear); d != "" {
		return "last year: " + d
	}
	return ""
}

func compDiff(w, g *analytics.Comparison) string {
	switch {
	case (w == nil) != (g == nil):
		return fmt.Sprintf("snapshot %v, SQL %v", w != nil, g != nil)
	case w == nil:
		return ""
	case w.Period.Label != g.Period.Label || !w.Period.From.Equal(g.Period.From) || !w.Period.To.Equal(g.Period.To):
		return fmt.Sprintf("period: snapshot %s, SQL %s", w.Period.Label, g.Period.Label)
	case w.Base != g.Base || w.Diff != g.Diff:
		return fmt.Sprintf("base/diff: snapshot %d/%d, SQL %d/%d", w.Base, w.Diff, g.Base, g.Diff)
	case !sameFloat(w.Percent, g.Percent):
		return fmt.Sprintf("percent: snapshot %s, SQL %s", fmtFloat(w.Percent), fmtFloat(g.Percent))
	case math.Float64bits(w.Z) != math.Float64bits(g.Z) || w.Significant != g.Significant:
		return fmt.Sprintf("z: snapshot %v (%v), SQL %v (%v)", w.Z, w.Significant, g.Z, g.Significant)
	}
	return ""
}

// checkCompare: the rates and comparisons computed in SQL equal
// analytics.RatePer1000 and analytics.Compare of the SQL counts.
func checkCompare(t *testing.T, res analytics.StatsResult) {
	t.Helper()
	for i, r := range res.Rows {
		if rate := analytics.RatePer1000(r.Count, r.Population); !sameFloat(rate, r.Rate) {
			t.Fatalf("row %d: RatePer1000(%d, %d) = %s, SQL %s", i, r.Count, r.Population, fmtFloat(rate), fmtFloat(r.Rate))
		}
		for _, c := range []*analytics.Comparison{r.Previous, r.LastYear} {
			if c == nil {
				continue
			}
			want := analytics.Compare(r.Count, c.Base, c.Period)
			if d := compDiff(&want, c); d != "" {
				t.Fatalf("row %d: analytics.Compare(%d, %d) vs SQL: %s", i, r.Count, c.Base, d)
			}
		}
	}
}

func sameFloat(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return math.Float64bits(*a) == math.Float64bits(*b)
}

func fmtFloat(p *float64) string {
	if p == nil {
		return "nil"
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

func diffSeries(t *testing.T, want, got analytics.SeriesResult) {
	t.Helper()
	if len(want.Points) != len(got.Points) {
		t.Errorf("points: snapshot %d, SQL %d", len(want.Points), len(got.Points))
	}
	bad := 0
	var sum int64
	for i := range min(len(want.Points), len(got.Points)) {
		w, g := want.Points[i], got.Points[i]
		sum += w.Count
		if !w.Start.Equal(g.Start) || w.Count != g.Count {
			if bad++; bad <= 10 {
				t.Errorf("point %d: snapshot %s %d, SQL %s %d", i, w.Start, w.Count, g.Start, g.Count)
			}
		}
	}
	if sum == 0 {
		t.Error("degenerate series: no events")
	}
}

func diffHexbins(t *testing.T, want, got analytics.HexbinResult) {
	t.Helper()
	if want.NoLocation != got.NoLocation {
		t.Errorf("no location: snapshot %d, SQL %d", want.NoLocation, got.NoLocation)
	}
	if len(want.Bins) != len(got.Bins) {
		t.Errorf("bins: snapshot %d, SQL %d", len(want.Bins), len(got.Bins))
	}
	if len(want.Bins) == 0 {
		t.Error("degenerate hexbins: no bins")
	}
	bad := 0
	for i := range min(len(want.Bins), len(got.Bins)) {
		if w, g := want.Bins[i], got.Bins[i]; w != g {
			if bad++; bad <= 10 {
				t.Errorf("bin %d: snapshot %x %d, SQL %x %d", i, w.Cell, w.Count, g.Cell, g.Count)
			}
		}
	}
}

// BenchmarkPostGISQueries runs the three queries (a quarter's
// mahalla x category counts with both comparisons, res-8 hexbins for the
// quarter, a 36-month monthly series for one district) in PostGIS SQL
// (package pgquery) and on the snapshot of the same events, on
// CRIMEMAP_BENCH_POSTGIS_EVENTS synthetic events (default 1M; `crimemap
// bench` runs 10M). It needs CRIMEMAP_TEST_DATABASE_URL.
func BenchmarkPostGISQueries(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("CRIMEMAP_BENCH_POSTGIS_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("CRIMEMAP_BENCH_POSTGIS_EVENTS=%q", v)
		}
	}
	url := pgtest.URL(b)
	ctx := context.Background()
	st, err := postgis.Open(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	units, err := demo.Units()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.PutUnits(ctx, units); err != nil {
		b.Fatal(err)
	}
	err = store.WithBulkLoad(ctx, st, n, func(ctx context.Context) error {
		return analytics.SyntheticEvents(n, benchSeed, units, func(batch []analytics.Event) error {
			_, err := st.PutEvents(ctx, batch)
			return err
		})
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, "VACUUM ANALYZE events"); err != nil {
		b.Fatal(err)
	}
	snap, err := analytics.BuildFromStore(ctx, st, func(ctx context.Context) ([]geo.Unit, error) {
		return st.Units(ctx, store.UnitQuery{})
	}, 1)
	if err != nil {
		b.Fatal(err)
	}
	eng := &pgquery.Engine{DB: st.Pool()}
	if eng.Dict, err = pgquery.LoadDict(ctx, st.Pool()); err != nil {
		b.Fatal(err)
	}
	quarter, err := analytics.ParsePeriod("2025-Q2", analytics.SyntheticZone())
	if err != nil {
		b.Fatal(err)
	}
	var district string
	if err := st.Pool().QueryRow(ctx, `SELECT district_code FROM events WHERE district_code IS NOT NULL
		GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&district); err != nil {
		b.Fatal(err)
	}
	from := analytics.SyntheticStart()
	stats := analytics.StatsQuery{Period: quarter, Level: geo.LevelMahalla, Group: analytics.DimCategory,
		ComparePrevious: true, CompareLastYear: true}
	hex := analytics.HexbinQuery{Res: 8, Period: quarter}
	series := analytics.SeriesQuery{Interval: analytics.IntervalMonth, From: from,
		To: from.AddDate(0, analytics.SyntheticMonths, 0), Filter: analytics.Filter{Unit: district}}
	cases := []struct {
		name  string
		arrow func() error
		sql   func() error
	}{
		{"stats-quarter-mahalla-category",
			func() error { _, err := snap.Stats(stats); return err },
			func() error { _, err := eng.Stats(ctx, stats); return err }},
		{"hexbins-res8-quarter",
			func() error { _, err := snap.Hexbins(hex); return err },
			func() error { _, err := eng.Hexbins(ctx, hex); return err }},
		{"series-36-months-district",
			func() error { _, err := snap.Series(series); return err },
			func() error { _, err := eng.Series(ctx, series); return err }},
	}
	for _, c := range cases {
		for _, side := range []struct {
			name string
			fn   func() error
		}{{"arrow", c.arrow}, {"postgis", c.sql}} {
			b.Run(c.name+"/"+side.name, func(b *testing.B) {
				for b.Loop() {
					if err := side.fn(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
