package analytics_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // America/Chicago everywhere

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// The fixture: region 1710 with districts 1710401 (mahallas ...001, ...002)
// and 1710402 (mahalla ...001, no events), region 1706 with 1706201.
const (
	r1, r2     = "1710", "1706"
	d1, d2, d3 = "1710401", "1710402", "1706201"
	m1, m2, m3 = "1710401001", "1710401002", "1710402001"
	mUnknown   = "1710401999" // in events, not in the unit list
)

func fixtureUnits() []geo.Unit {
	u := func(code, parent string, lv geo.Level, pop int64) geo.Unit {
		return geo.Unit{Code: code, ParentCode: parent, Level: lv, Population: pop, Names: map[string]string{"uz": "U" + code}}
	}
	return []geo.Unit{
		u(r1, "", geo.LevelRegion, 1_000_000), u(r2, "", geo.LevelRegion, 0),
		u(d1, r1, geo.LevelDistrict, 100_000), u(d2, r1, geo.LevelDistrict, 0), u(d3, r2, geo.LevelDistrict, 50_000),
		u(m1, d1, geo.LevelMahalla, 2000), u(m2, d1, geo.LevelMahalla, 1000), u(m3, d2, geo.LevelMahalla, 0),
	}
}

func tashkent() *time.Location { return analytics.SyntheticZone() }

func period(t *testing.T, s string) analytics.Period {
	t.Helper()
	p, err := analytics.ParsePeriod(s, tashkent())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ev makes an event; a zero lon means no location.
func ev(t testing.TB, kind analytics.Kind, cat string, at time.Time, lon, lat float64, region, district, mahalla string) analytics.Event {
	t.Helper()
	e := analytics.Event{Kind: kind, Category: cat, OccurredAt: at.UTC(), Region: region, District: district, Mahalla: mahalla}
	if lon != 0 {
		c, err := geo.LatLngToCell(lat, lon, geo.EventResolution)
		if err != nil {
			t.Fatal(err)
		}
		e.HasLocation, e.Lon, e.Lat, e.Cell = true, lon, lat, c
	}
	return e
}

// fixtureEvents: in 2025-Q2 (Tashkent) 21 events, in 2025-Q1 20 thefts in
// m1, in 2024-Q2 5 thefts in m1.
func fixtureEvents(t testing.TB) []analytics.Event {
	loc := tashkent()
	q2 := time.Date(2025, 4, 1, 0, 0, 0, 0, loc)
	var es []analytics.Event
	for i := range 12 { // m1: 12 minor thefts, 4 by juveniles; only the mahalla code given
		e := ev(t, analytics.KindCrime, "theft", q2.Add(time.Duration(i)*97*time.Hour), 65.80+float64(i)*0.003, 38.86+float64(i)*0.002, "", "", m1)
		e.Severity = analytics.SeverityMinor
		if i < 4 {
			e.Flags = analytics.FlagJuvenile | analytics.FlagAlcohol
		}
		es = append(es, e)
	}
	for i := range 3 { // m2: 3 collisions
		es = append(es, ev(t, analytics.KindAccident, "collision", q2.AddDate(0, 1, i), 66.2, 39.1+float64(i)*0.01, r1, d1, m2))
	}
	for i := range 2 { // d2 without mahalla: 2 parking offences
		es = append(es, ev(t, analytics.KindOffence, "parking", q2.AddDate(0, 2, i), 65.5, 38.5, r1, d2, ""))
	}
	fraud := ev(t, analytics.KindCrime, "fraud", q2.AddDate(0, 0, 10), 0, 0, "", "", "") // no location, no unit
	fraud.Severity = analytics.SeverityGrave
	es = append(es, fraud)
	fraud2 := ev(t, analytics.KindCrime, "fraud", q2.AddDate(0, 0, 11), 0, 0, "", d1, "") // no location, district d1
	fraud2.Severity = analytics.SeverityGrave
	es = append(es, fraud2)
	es = append(es, ev(t, analytics.KindOffence, "parking", q2.AddDate(0, 0, 12), 70, 41, "", "", ""))                           // outside every unit
	es = append(es, ev(t, analytics.KindCrime, "robbery", q2.AddDate(0, 0, 13).Add(-time.Second), 65.9, 38.9, r1, d1, mUnknown)) // unknown mahalla
	// Just outside Q2: the last second of Q1 and the first of Q3.
	es = append(es, ev(t, analytics.KindCrime, "theft", q2.Add(-time.Second), 65.8, 38.86, "", "", m1))
	q1 := time.Date(2025, 1, 1, 0, 0, 0, 0, loc)
	for i := 1; i < 20; i++ {
		es = append(es, ev(t, analytics.KindCrime, "theft", q1.AddDate(0, 0, i), 65.8, 38.86, "", "", m1))
	}
	es = append(es, ev(t, analytics.KindCrime, "theft", time.Date(2025, 7, 1, 0, 0, 0, 0, loc), 65.8, 38.86, "", "", m1))
	ly := time.Date(2024, 4, 1, 0, 0, 0, 0, loc)
	for i := range 5 {
		es = append(es, ev(t, analytics.KindCrime, "theft", ly.AddDate(0, 0, i*7), 65.8, 38.86, "", "", m1))
	}
	return es
}

func scanOf(es []analytics.Event) func(fn func(*analytics.Event) error) error {
	return func(fn func(*analytics.Event) error) error {
		var e analytics.Event // reused, like a store scan
		for i := range es {
			e = es[i]
			if err := fn(&e); err != nil {
				return err
			}
		}
		return nil
	}
}

func build(t testing.TB, es []analytics.Event) *analytics.Snapshot {
	t.Helper()
	s, err := analytics.Build(context.Background(), fixtureUnits(), scanOf(es), 7, 3)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSnapshotColumns(t *testing.T) {
	es := fixtureEvents(t)
	s := build(t, es)
	if s.Version() != 7 || s.DataVersion() != 3 || s.Len() != len(es) || s.BuiltAt().IsZero() {
		t.Fatalf("version %d data %d len %d", s.Version(), s.DataVersion(), s.Len())
	}
	if b := s.BytesPerEvent(); b < 42 || b > 64 {
		t.Errorf("BytesPerEvent = %.1f", b)
	}
	rec := s.Record()
	if rec.NumRows() != int64(len(es)) || !rec.Schema().Equal(s.Schema()) || rec.NumCols() != 16 {
		t.Fatalf("record %d rows %d cols", rec.NumRows(), rec.NumCols())
	}
	at := rec.Column(4).(*array.Timestamp).TimestampValues()
	if !slices.IsSorted(at) {
		t.Error("occurred_at not sorted")
	}
	i, u, ok := s.Unit(mUnknown)
	if !ok || !u.Unknown || u.Level != geo.LevelMahalla || u.Name != mUnknown {
		t.Fatalf("unknown unit: %+v %v", u, ok)
	}
	if _, p, _ := s.Unit(d1); s.Units()[u.Parent].Code != d1 || p.Name != "U"+d1 {
		t.Errorf("unknown unit parent %d", u.Parent)
	}
	// m1 events carry only the mahalla code: district and region are filled in.
	mah := rec.Column(10).(*array.Int32).Int32Values()
	dis := rec.Column(9).(*array.Int32).Int32Values()
	reg := rec.Column(8).(*array.Int32).Int32Values()
	mi, _, _ := s.Unit(m1)
	di, _, _ := s.Unit(d1)
	ri, _, _ := s.Unit(r1)
	for row := range mah {
		if mah[row] == mi && (dis[row] != di || reg[row] != ri) {
			t.Fatalf("row %d: m1 with district %d region %d", row, dis[row], reg[row])
		}
		if mah[row] == i && dis[row] != di {
			t.Fatalf("unknown mahalla row without its district")
		}
	}
	dict := rec.Column(1).(*array.Dictionary)
	if got := dict.Dictionary().(*array.String).Value(int(dict.Indices().(*array.Uint16).Value(0))); got != "theft" {
		t.Errorf("first category %q", got) // the 5 thefts of 2024 come first
	}
}

func f64(v float64) *float64 { return &v }

func TestStats(t *testing.T) {
	s := build(t, fixtureEvents(t))
	q2 := period(t, "2025-Q2")
	type row struct {
		unit, group string
		count       int64
	}
	tests := []struct {
		name                          string
		q                             analytics.StatsQuery
		rows                          []row
		total, noLocation, unassigned int64
	}{
		{"mahallas", analytics.StatsQuery{Level: geo.LevelMahalla},
			[]row{{m1, "", 12}, {m2, "", 3}, {mUnknown, "", 1}, {m3, "", 0}}, 21, 2, 3},
		{"districts in region", analytics.StatsQuery{Level: geo.LevelDistrict, Filter: analytics.Filter{Unit: r1}},
			[]row{{d1, "", 17}, {d2, "", 2}}, 19, 1, 0},
		{"regions", analytics.StatsQuery{Level: geo.LevelRegion},
			[]row{{r2, "", 0}, {r1, "", 19}}, 21, 2, 1},
		{"region of a mahalla", analytics.StatsQuery{Level: geo.LevelRegion, Filter: analytics.Filter{Unit: m2}},
			[]row{{r1, "", 3}}, 3, 0, 0},
		{"kinds in district", analytics.StatsQuery{Level: geo.LevelMahalla, Group: analytics.DimKind, Filter: analytics.Filter{Unit: d1}},
			[]row{{m1, "crime", 12}, {m1, "accident", 0}, {m1, "offence", 0},
				{m2, "crime", 0}, {m2, "accident", 3}, {m2, "offence", 0},
				{mUnknown, "crime", 1}, {mUnknown, "accident", 0}, {mUnknown, "offence", 0}}, 17, 1, 0},
		{"flags", analytics.StatsQuery{Level: geo.LevelDistrict, Group: analytics.DimFlag, Filter: analytics.Filter{Unit: d2}},
			[]row{{d2, "juvenile", 0}, {d2, "recidivist", 0}, {d2, "domestic", 0}, {d2, "alcohol", 0},
				{d2, "drugs", 0}, {d2, "public_place", 0}, {d2, "solved", 0}}, 2, 0, 0},
		{"flag filter", analytics.StatsQuery{Level: geo.LevelMahalla, Filter: analytics.Filter{Unit: d1, Flags: analytics.FlagJuvenile}},
			[]row{{m1, "", 4}, {m2, "", 0}, {mUnknown, "", 0}}, 4, 0, 0},
		{"severity", analytics.StatsQuery{Level: geo.LevelRegion, Group: analytics.DimSeverity, Filter: analytics.Filter{Kinds: []analytics.Kind{analytics.KindCrime}, Severities: []analytics.Severity{analytics.SeverityMinor, analytics.SeverityGrave}}},
			[]row{{r2, "minor", 0}, {r2, "grave", 0}, {r1, "minor", 12}, {r1, "grave", 1}}, 14, 2, 0},
		{"categories of offences", analytics.StatsQuery{Level: geo.LevelRegion, Group: analytics.DimCategory, Filter: analytics.Filter{Kinds: []analytics.Kind{analytics.KindOffence}}},
			[]row{{r2, "parking", 0}, {r1, "parking", 2}}, 3, 0, 1},
		{"category filter", analytics.StatsQuery{Level: geo.LevelDistrict, Filter: analytics.Filter{Categories: []string{"collision", "no-such"}}},
			[]row{{d3, "", 0}, {d1, "", 3}, {d2, "", 0}}, 3, 0, 0},
		{"unknown category only", analytics.StatsQuery{Level: geo.LevelRegion, Filter: analytics.Filter{Categories: []string{"no-such"}}},
			[]row{{r2, "", 0}, {r1, "", 0}}, 0, 0, 0},
		{"bbox", analytics.StatsQuery{Level: geo.LevelMahalla, Filter: analytics.Filter{BBox: &orb.Bound{Min: orb.Point{65.79, 38.85}, Max: orb.Point{65.84, 38.89}}}},
			[]row{{m1, "", 12}, {m2, "", 0}, {mUnknown, "", 0}, {m3, "", 0}}, 12, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Period = q2
			res, err := s.Stats(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for _, r := range res.Rows {
				got = append(got, row{r.Unit, r.Group, r.Count})
			}
			if !reflect.DeepEqual(got, tc.rows) {
				t.Errorf("rows\n got %v\nwant %v", got, tc.rows)
			}
			if res.Total != tc.total || res.NoLocation != tc.noLocation || res.Unassigned != tc.unassigned {
				t.Errorf("totals %d/%d/%d, want %d/%d/%d", res.Total, res.NoLocation, res.Unassigned, tc.total, tc.noLocation, tc.unassigned)
			}
			if res.Snapshot != 7 || res.Level != tc.q.Level || res.Period != q2 {
				t.Errorf("header %d %s %v", res.Snapshot, res.Level, res.Period)
			}
		})
	}
}

func TestStatsComparisonsAndRates(t *testing.T) {
	s := build(t, fixtureEvents(t))
	res, err := s.Stats(analytics.StatsQuery{Period: period(t, "2025-Q2"), Level: geo.LevelMahalla,
		Filter: analytics.Filter{Unit: d1}, ComparePrevious: true, CompareLastYear: true})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Rows[0]
	if r.Unit != m1 || r.Name != "U"+m1 || r.Population != 2000 || r.Rate == nil || *r.Rate != 6 {
		t.Fatalf("m1 row %+v", r)
	}
	prev, ly := r.Previous, r.LastYear
	if prev == nil || ly == nil {
		t.Fatal("comparisons missing")
	}
	if prev.Period.Label != "2025-Q1" || prev.Base != 20 || prev.Diff != -8 || prev.Percent == nil || *prev.Percent != -40 {
		t.Errorf("previous %+v", prev)
	}
	if z := 2 * (math.Sqrt(12) - math.Sqrt(20)); math.Abs(prev.Z-z) > 1e-12 || !prev.Significant { // -2.016
		t.Errorf("previous z %g, want %g (significant)", prev.Z, z)
	}
	// Base 5 < MinBaseForPercent: no percent, but z = 2.456 is significant.
	if ly.Period.Label != "2024-Q2" || ly.Base != 5 || ly.Diff != 7 || ly.Percent != nil || !ly.Significant {
		t.Errorf("last year %+v", ly)
	}
	if r := res.Rows[1]; r.Unit != m2 || *r.Rate != 3 || r.Previous.Base != 0 || r.Previous.Percent != nil {
		t.Errorf("m2 row %+v", r)
	}
	if r := res.Rows[2]; r.Unit != mUnknown || r.Rate != nil || r.Population != 0 || r.Name != mUnknown {
		t.Errorf("unknown row %+v", r)
	}
}

func TestQueryErrors(t *testing.T) {
	s := build(t, fixtureEvents(t))
	q2 := period(t, "2025-Q2")
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"unknown unit", func() error {
			_, err := s.Stats(analytics.StatsQuery{Period: q2, Level: geo.LevelRegion, Filter: analytics.Filter{Unit: "999"}})
			return err
		}, analytics.ErrUnknownUnit},
		{"level", func() error { _, err := s.Stats(analytics.StatsQuery{Period: q2, Level: "city"}); return err }, analytics.ErrBadQuery},
		{"group", func() error {
			_, err := s.Stats(analytics.StatsQuery{Period: q2, Level: geo.LevelRegion, Group: "colour"})
			return err
		}, analytics.ErrBadQuery},
		{"kind", func() error {
			_, err := s.Stats(analytics.StatsQuery{Period: q2, Level: geo.LevelRegion, Filter: analytics.Filter{Kinds: []analytics.Kind{9}}})
			return err
		}, analytics.ErrBadQuery},
		{"flags", func() error {
			_, err := s.Stats(analytics.StatsQuery{Period: q2, Level: geo.LevelRegion, Filter: analytics.Filter{Flags: 1 << 12}})
			return err
		}, analytics.ErrBadQuery},
		{"bbox", func() error {
			_, err := s.Stats(analytics.StatsQuery{Period: q2, Level: geo.LevelRegion, Filter: analytics.Filter{BBox: &orb.Bound{Min: orb.Point{2, 2}, Max: orb.Point{1, 1}}}})
			return err
		}, analytics.ErrBadQuery},
		{"empty period", func() error { _, err := s.Stats(analytics.StatsQuery{Level: geo.LevelRegion}); return err }, analytics.ErrBadQuery},
		{"res 4", func() error { _, err := s.Hexbins(analytics.HexbinQuery{Res: 4, Period: q2}); return err }, analytics.ErrBadQuery},
		{"res 11", func() error { _, err := s.Hexbins(analytics.HexbinQuery{Res: 11, Period: q2}); return err }, analytics.ErrBadQuery},
		{"interval", func() error {
			_, err := s.Series(analytics.SeriesQuery{Interval: "hour", From: q2.From, To: q2.To})
			return err
		}, analytics.ErrBadQuery},
		{"reversed series", func() error {
			_, err := s.Series(analytics.SeriesQuery{Interval: analytics.IntervalDay, From: q2.To, To: q2.From})
			return err
		}, analytics.ErrBadQuery},
		{"too many points", func() error {
			_, err := s.Series(analytics.SeriesQuery{Interval: analytics.IntervalDay, From: q2.From, To: q2.From.AddDate(40, 0, 0)})
			return err
		}, analytics.ErrBadQuery},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSeriesDST(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	// Clocks went forward on 2025-03-09 at 02:00 (CST UTC-6 -> CDT UTC-5).
	at := func(d, h, m int) time.Time { return time.Date(2025, 3, d, h, m, 0, 0, chicago) }
	es := []analytics.Event{
		ev(t, analytics.KindCrime, "theft", at(8, 23, 30), 0, 0, "", "", ""),
		ev(t, analytics.KindCrime, "theft", at(9, 0, 30), 0, 0, "", "", ""),
		ev(t, analytics.KindCrime, "theft", at(9, 23, 30), 0, 0, "", "", ""),  // CDT; at UTC-6 this would still be the 9th
		ev(t, analytics.KindCrime, "theft", at(10, 0, 30), 0, 0, "", "", ""),  // CDT; at UTC-6 this would be the 9th
		ev(t, analytics.KindOffence, "noise", at(10, 1, 0), 0, 0, "", "", ""), // filtered out
		ev(t, analytics.KindCrime, "theft", at(12, 0, 0), 0, 0, "", "", ""),   // after To
	}
	s := build(t, es)
	res, err := s.Series(analytics.SeriesQuery{Interval: analytics.IntervalDay, From: at(8, 0, 0), To: at(11, 0, 0),
		Filter: analytics.Filter{Kinds: []analytics.Kind{analytics.KindCrime}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []analytics.SeriesPoint{{Start: at(8, 0, 0), Count: 1}, {Start: at(9, 0, 0), Count: 2}, {Start: at(10, 0, 0), Count: 1}}
	if len(res.Points) != len(want) {
		t.Fatalf("points %v", res.Points)
	}
	for i := range want {
		if !res.Points[i].Start.Equal(want[i].Start) || res.Points[i].Count != want[i].Count {
			t.Errorf("point %d = %v %d, want %v %d", i, res.Points[i].Start, res.Points[i].Count, want[i].Start, want[i].Count)
		}
	}
	if d := res.Points[2].Start.Sub(res.Points[1].Start); d != 23*time.Hour {
		t.Errorf("the DST day lasts %s", d)
	}
	// Unfiltered (the binary-search path), months with zeros, partial last month.
	res, err = s.Series(analytics.SeriesQuery{Interval: analytics.IntervalMonth, From: time.Date(2025, 1, 15, 0, 0, 0, 0, chicago), To: at(12, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Points) != 3 || res.Points[0].Count != 0 || res.Points[1].Count != 0 || res.Points[2].Count != 5 ||
		!res.Points[0].Start.Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, chicago)) || res.Snapshot != 7 || res.Interval != analytics.IntervalMonth {
		t.Errorf("months %+v", res)
	}
}

func TestHexbinsMatchH3(t *testing.T) {
	es := fixtureEvents(t)
	rng := rand.New(rand.NewPCG(1, 2))
	q := period(t, "2025-Q2")
	for range 2000 {
		lon, lat := 65+rng.Float64()*2, 38+rng.Float64()*2
		at := q.From.Add(time.Duration(rng.Int64N(int64(q.To.Sub(q.From)))))
		es = append(es, ev(t, analytics.KindCrime, "theft", at, lon, lat, "", d2, m3))
	}
	s := build(t, es)
	for _, f := range []analytics.Filter{{}, {Unit: d2}, {BBox: &orb.Bound{Min: orb.Point{65.5, 38.5}, Max: orb.Point{66, 39}}}} {
		for res := analytics.MinHexbinRes; res <= analytics.MaxHexbinRes; res++ {
			got, err := s.Hexbins(analytics.HexbinQuery{Res: res, Period: q, Filter: f})
			if err != nil {
				t.Fatal(err)
			}
			want := map[uint64]int64{}
			var noLoc int64
			for _, e := range es {
				if e.OccurredAt.Before(q.From) || !e.OccurredAt.Before(q.To) {
					continue
				}
				if f.Unit != "" && e.District != f.Unit {
					continue
				}
				if f.BBox != nil && (!e.HasLocation || !f.BBox.Contains(orb.Point{e.Lon, e.Lat})) {
					continue
				}
				if !e.HasLocation {
					noLoc++
					continue
				}
				// The cell holding the point at res (not the parent of a
				// finer cell: H3 parents are not geometric).
				p := h3.LatLngToCell(h3.LatLng{Lat: e.Lat, Lng: e.Lon}, res)
				want[uint64(p)]++
			}
			gotM := map[uint64]int64{}
			for i, b := range got.Bins {
				if i > 0 && got.Bins[i-1].Cell >= b.Cell {
					t.Fatal("bins not sorted")
				}
				gotM[b.Cell] = b.Count
			}
			if !reflect.DeepEqual(gotM, want) || got.NoLocation != noLoc || got.Res != res {
				t.Errorf("filter %+v res %d: %d bins (no location %d), want %d (%d)", f, res, len(gotM), got.NoLocation, len(want), noLoc)
			}
		}
	}
}

// TestDeterminism: the same events in any order give the same answers.
func TestDeterminism(t *testing.T) {
	es := fixtureEvents(t)
	a := build(t, es)
	shuffled := slices.Clone(es)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b := build(t, shuffled)
	q2 := period(t, "2025-Q2")
	for _, s := range []*analytics.Snapshot{a, b} {
		if !reflect.DeepEqual(a.Units(), s.Units()) || !reflect.DeepEqual(a.Categories(), s.Categories()) {
			t.Fatal("unit tables or dictionaries differ")
		}
	}
	sq := analytics.StatsQuery{Period: q2, Level: geo.LevelMahalla, Group: analytics.DimCategory, ComparePrevious: true, CompareLastYear: true}
	ra, _ := a.Stats(sq)
	rb, _ := b.Stats(sq)
	if !reflect.DeepEqual(ra, rb) {
		t.Error("stats differ")
	}
	ha, _ := a.Hexbins(analytics.HexbinQuery{Res: 9, Period: q2})
	hb, _ := b.Hexbins(analytics.HexbinQuery{Res: 9, Period: q2})
	if !reflect.DeepEqual(ha, hb) {
		t.Error("hexbins differ")
	}
	// Rows are sorted by time, so the time column is identical.
	ta := a.Record().Column(4).(*array.Timestamp).TimestampValues()
	tb := b.Record().Column(4).(*array.Timestamp).TimestampValues()
	if !slices.Equal(ta, tb) {
		t.Error("time columns differ")
	}
}

func TestBuildErrors(t *testing.T) {
	bad := []analytics.Event{{Kind: 7, OccurredAt: time.Now()}}
	if _, err := analytics.Build(context.Background(), nil, scanOf(bad), 1, 0); !errors.Is(err, analytics.ErrBuild) {
		t.Errorf("bad kind: %v", err)
	}
	boom := errors.New("boom")
	_, err := analytics.Build(context.Background(), nil, func(func(*analytics.Event) error) error { return boom }, 1, 0)
	if !errors.Is(err, boom) {
		t.Errorf("scan error: %v", err)
	}
	s, err := analytics.Build(context.Background(), fixtureUnits(), scanOf(nil), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Stats(analytics.StatsQuery{Period: period(t, "2025"), Level: geo.LevelMahalla})
	if err != nil || len(res.Rows) != 3 || res.Total != 0 || s.BytesPerEvent() != 0 {
		t.Errorf("empty snapshot: %v %+v", err, res)
	}
}
