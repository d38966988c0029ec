// Package pgquery answers the analytics period queries (analytics.StatsQuery,
// SeriesQuery and HexbinQuery) with SQL on the PostGIS store's tables,
// returning the same result types as the in-memory snapshot.
//
// The service answers from the snapshot; this package is the reference it
// is checked against (the equivalence test in package analytics runs the
// same queries both ways on the demo region and wants identical numbers)
// and the PostGIS side of `crimemap bench`. Every value is a bound $n
// parameter; identifiers (the unit-code column of a level) come from an
// allowlist. Rates, percent changes and z scores are computed in SQL with
// the same floating-point operations, in the same order, as
// analytics.RatePer1000 and analytics.Compare, so they match bit for bit.
//
// Hexbins group by the event's stored cell at the requested resolution
// (events.h3_r5 .. h3_r10, the cell h3.LatLngToCell gives for the event's
// coordinates, computed by the store at write time; a signed bigint with the
// uint64 bit pattern). They are not parents of the res-15 cell: H3's
// hierarchy is not geometric. No h3 extension is needed.
package pgquery

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/jackc/pgx/v5"
)

// Querier runs a query: *pgxpool.Pool, *pgx.Conn and pgx.Tx satisfy it.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Engine answers analytics queries in SQL through DB.
type Engine struct {
	DB Querier
	// Dict is the category dictionary: for each category (NULL stored as
	// ""), bit k-1 set when it occurs with kind k. Stats grouped by
	// category need it to list the categories with zero counts, as the
	// snapshot's dictionary does; when nil, each such query loads it with
	// LoadDict (a full scan of events). Set it once (LoadDict) when running
	// many queries over unchanged data.
	Dict map[string]uint8
}

// LoadDict reads the category dictionary of the events table.
func LoadDict(ctx context.Context, db Querier) (map[string]uint8, error) {
	rows, err := db.Query(ctx, `SELECT coalesce(category, ''), bit_or(1 << (kind - 1))::smallint FROM events GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("pgquery: categories: %w", err)
	}
	dict := make(map[string]uint8)
	for rows.Next() {
		var c string
		var k int16
		if err := rows.Scan(&c, &k); err != nil {
			rows.Close()
			return nil, fmt.Errorf("pgquery: categories: %w", err)
		}
		dict[c] = uint8(k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgquery: categories: %w", err)
	}
	return dict, nil
}

// levelColumns is the allowlist of unit-code columns by level.
var levelColumns = map[geo.Level]string{
	geo.LevelRegion:   "region_code",
	geo.LevelDistrict: "district_code",
	geo.LevelMahalla:  "mahalla_code",
}

// args collects bound parameters.
type args []any

// add binds v and returns its placeholder.
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// filterSQL returns the conditions of f (joined by AND, "" for none). The
// unit condition is the expression of the events_units GIN index.
func (e *Engine) filterSQL(ctx context.Context, f analytics.Filter, a *args) (string, error) {
	var conds []string
	if len(f.Kinds) > 0 {
		ks := make([]int16, len(f.Kinds))
		for i, k := range f.Kinds {
			if k < analytics.KindCrime || k > analytics.KindOffence {
				return "", fmt.Errorf("%w: filter kind %d: %w", analytics.ErrBadQuery, k, analytics.ErrUnknownKind)
			}
			ks[i] = int16(k)
		}
		conds = append(conds, "kind = ANY("+a.add(ks)+"::smallint[])")
	}
	if len(f.Categories) > 0 {
		conds = append(conds, "coalesce(category, '') = ANY("+a.add(f.Categories)+"::text[])")
	}
	if len(f.Severities) > 0 {
		ss := make([]int16, len(f.Severities))
		for i, s := range f.Severities {
			if s > analytics.SeverityEspeciallyGrave {
				return "", fmt.Errorf("%w: filter severity %d: %w", analytics.ErrBadQuery, s, analytics.ErrUnknownSeverity)
			}
			ss[i] = int16(s)
		}
		conds = append(conds, "severity = ANY("+a.add(ss)+"::smallint[])")
	}
	if f.Flags != 0 {
		p := a.add(int16(f.Flags))
		conds = append(conds, "flags & "+p+"::smallint = "+p+"::smallint")
	}
	if f.Unit != "" {
		if _, err := e.unitLevel(ctx, f.Unit); err != nil {
			return "", err
		}
		conds = append(conds, "ARRAY[region_code, district_code, mahalla_code] @> ARRAY["+a.add(f.Unit)+"::text]")
	}
	if b := f.BBox; b != nil {
		if b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] {
			return "", fmt.Errorf("%w: bbox %v: min exceeds max", analytics.ErrBadQuery, *b)
		}
		conds = append(conds, fmt.Sprintf("geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
			a.add(b.Min[0]), a.add(b.Min[1]), a.add(b.Max[0]), a.add(b.Max[1])))
	}
	return strings.Join(conds, " AND "), nil
}

// unitLevel is the level of the unit with code.
func (e *Engine) unitLevel(ctx context.Context, code string) (geo.Level, error) {
	rows, err := e.DB.Query(ctx, `SELECT level FROM units WHERE code = $1`, code)
	if err != nil {
		return "", fmt.Errorf("pgquery: unit %q: %w", code, err)
	}
	lv, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("filter unit %q: %w", code, analytics.ErrUnknownUnit)
	}
	return geo.Level(lv), nil
}

// periodSQL is the condition "occurred_at in [p.From, p.To)".
func periodSQL(p analytics.Period, a *args) string {
	return "(occurred_at >= " + a.add(p.From) + " AND occurred_at < " + a.add(p.To) + ")"
}

func checkPeriod(p analytics.Period, field string) error {
	if p.From.IsZero() || p.To.IsZero() || !p.From.Before(p.To) {
		return fmt.Errorf("%w: %s: empty or reversed", analytics.ErrBadQuery, field)
	}
	return nil
}

func and(conds ...string) string {
	var out []string
	for _, c := range conds {
		if c != "" {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "true"
	}
	return strings.Join(out, " AND ")
}

// statsGroup is one value of a grouping dimension: its SQL key and label.
type statsGroup struct{ key, label string }

// groups lists the values of dim the filter allows, in the snapshot's
// natural order, and the SQL expression of an event's key (for DimFlag
// over the joined bit b.bit).
func (e *Engine) groups(ctx context.Context, dim analytics.Dimension, f analytics.Filter) ([]statsGroup, string, error) {
	var kindMask uint8 // bit k-1: kind k allowed
	for _, k := range f.Kinds {
		kindMask |= 1 << (k - 1)
	}
	switch dim {
	case analytics.DimNone:
		return []statsGroup{{"", ""}}, "''", nil
	case analytics.DimKind:
		var gs []statsGroup
		for _, k := range analytics.Kinds {
			if kindMask == 0 || kindMask&(1<<(k-1)) != 0 {
				gs = append(gs, statsGroup{strconv.Itoa(int(k)), k.String()})
			}
		}
		return gs, "kind::text", nil
	case analytics.DimSeverity:
		var gs []statsGroup
		for s := analytics.SeverityUnknown; s <= analytics.SeverityEspeciallyGrave; s++ {
			if len(f.Severities) == 0 || slices.Contains(f.Severities, s) {
				label := s.String()
				if s == analytics.SeverityUnknown {
					label = "unknown"
				}
				gs = append(gs, statsGroup{strconv.Itoa(int(s)), label})
			}
		}
		return gs, "severity::text", nil
	case analytics.DimFlag:
		gs := make([]statsGroup, len(analytics.FlagNames))
		for i, fl := range analytics.FlagNames {
			bit := 0
			for fl.Flag>>bit != 1 {
				bit++
			}
			gs[i] = statsGroup{strconv.Itoa(bit), fl.Name}
		}
		return gs, "b.bit::text", nil
	case analytics.DimCategory:
		dict := e.Dict
		if dict == nil {
			var err error
			if dict, err = LoadDict(ctx, e.DB); err != nil {
				return nil, "", err
			}
		}
		var names []string
		for c, kinds := range dict {
			if len(f.Categories) > 0 && !slices.Contains(f.Categories, c) {
				continue
			}
			if kindMask != 0 && kinds&kindMask == 0 {
				continue // a category of other kinds only
			}
			names = append(names, c)
		}
		slices.Sort(names) // byte order, as the snapshot
		gs := make([]statsGroup, len(names))
		for i, c := range names {
			gs[i] = statsGroup{c, c}
		}
		return gs, "coalesce(category, '')", nil
	}
	return nil, "", fmt.Errorf("%w: group %q (want kind, category, severity or flag)", analytics.ErrBadQuery, string(dim))
}

// rowUnitsSQL selects the codes of the units of level inside unit (every
// unit of level when unit is ""): its descendants at level, itself, or its
// ancestor at level.
func (e *Engine) rowUnitsSQL(ctx context.Context, level geo.Level, unit string, a *args) (string, error) {
	lv := a.add(string(level))
	if unit == "" {
		return "SELECT code FROM units WHERE level = " + lv, nil
	}
	ul, err := e.unitLevel(ctx, unit)
	if err != nil {
		return "", err
	}
	u := a.add(unit)
	switch ur, r := ul.Rank(), level.Rank(); {
	case ur == r:
		return "SELECT " + u + "::text AS code", nil
	case ur < r: // descendants (UNION guards against parent cycles)
		return `SELECT code FROM (WITH RECURSIVE sub(code, level) AS (
    SELECT code, level FROM units WHERE code = ` + u + `
    UNION SELECT c.code, c.level FROM units c JOIN sub ON c.parent_code = sub.code)
  SELECT code, level FROM sub) d WHERE level = ` + lv, nil
	default: // the ancestor at level
		return `SELECT code FROM (WITH RECURSIVE up(code, level, parent_code, hop) AS (
    SELECT code, level, parent_code, 0 FROM units WHERE code = ` + u + `
    UNION ALL SELECT p.code, p.level, p.parent_code, up.hop + 1 FROM units p JOIN up ON p.code = up.parent_code WHERE up.hop < 8)
  SELECT code, level, hop FROM up WHERE hop > 0) d WHERE level = ` + lv + ` ORDER BY hop LIMIT 1`, nil
	}
}

// Stats answers q like analytics.Snapshot.Stats: one row per unit of
// q.Level inside q.Filter.Unit (zero rows included, plus units with events
// that the unit table puts elsewhere) and group value, sorted by unit code
// then group; totals over the whole filter. It is one statement: one pass
// over the events of the period and the compared periods.
func (e *Engine) Stats(ctx context.Context, q analytics.StatsQuery) (analytics.StatsResult, error) {
	res := analytics.StatsResult{Period: q.Period, Level: q.Level}
	col, ok := levelColumns[q.Level]
	if !ok {
		return res, fmt.Errorf("%w: level %q: %w", analytics.ErrBadQuery, string(q.Level), geo.ErrUnknownLevel)
	}
	if err := checkPeriod(q.Period, "period"); err != nil {
		return res, err
	}
	gs, gexpr, err := e.groups(ctx, q.Group, q.Filter)
	if err != nil {
		return res, err
	}
	var a args
	filter, err := e.filterSQL(ctx, q.Filter, &a)
	if err != nil {
		return res, err
	}
	rowUnits, err := e.rowUnitsSQL(ctx, q.Level, q.Filter.Unit, &a)
	if err != nil {
		return res, err
	}
	keys := make([]string, len(gs))
	label := make(map[string]string, len(gs))
	for i, g := range gs {
		keys[i] = g.key
		label[g.key] = g.label
	}
	groupsParam := a.add(keys)

	cur := periodSQL(q.Period, &a)
	periods := []string{cur}
	counts := "count(*) FILTER (WHERE " + cur + ") AS cur,\n    count(*) FILTER (WHERE " + cur + " AND lon IS NULL) AS nl"
	var prevP, lastP analytics.Period
	prevCount, lastCount := "0::bigint", "0::bigint"
	if q.ComparePrevious {
		prevP = q.Period.Previous()
		p := periodSQL(prevP, &a)
		periods = append(periods, p)
		counts += ",\n    count(*) FILTER (WHERE " + p + ") AS prev"
		prevCount = "coalesce(c.prev, 0)"
	}
	if q.CompareLastYear {
		lastP = q.Period.LastYear()
		p := periodSQL(lastP, &a)
		periods = append(periods, p)
		counts += ",\n    count(*) FILTER (WHERE " + p + ") AS ly"
		lastCount = "coalesce(c.ly, 0)"
	}
	from := "events"
	if q.Group == analytics.DimFlag { // an event counts once per flag set
		from = "events JOIN generate_series(0, 15) AS b(bit) ON (flags::int & (1 << b.bit)) <> 0"
	}
	minBase := a.add(int64(analytics.MinBaseForPercent))
	comparison := func(base string) string {
		return fmt.Sprintf(`CASE WHEN %[1]s >= %[2]s THEN 100 * (n.cur - %[1]s)::float8 / %[1]s END,
    2 * (sqrt(n.cur::float8) - sqrt(%[1]s::float8))`, base, minBase)
	}
	sql := `WITH c AS (
  SELECT ` + col + ` AS code, ` + gexpr + ` AS g,
    ` + counts + `
  FROM ` + from + `
  WHERE ` + and(filter, "("+strings.Join(periods, " OR ")+")") + `
  GROUP BY 1, 2),
keys AS ((` + rowUnits + `) UNION SELECT code FROM c WHERE code IS NOT NULL),
n AS (
  SELECT k.code, gr.g, gr.ord, coalesce(c.cur, 0) AS cur, ` + prevCount + ` AS prev, ` + lastCount + ` AS ly
  FROM keys k CROSS JOIN unnest(` + groupsParam + `::text[]) WITH ORDINALITY AS gr(g, ord)
  LEFT JOIN c ON c.code = k.code AND c.g = gr.g)
SELECT n.code,
  coalesce(nullif(u.names->>'uz', ''), nullif(u.names->>'ru', ''), nullif(u.names->>'en', ''), n.code),
  n.g, n.cur, coalesce(u.population, 0),
  CASE WHEN u.population > 0 THEN 1000 * n.cur::float8 / u.population END,
  n.prev, ` + comparison("n.prev") + `,
  n.ly, ` + comparison("n.ly") + `,
  t.total, t.nl, t.unassigned
FROM n LEFT JOIN units u ON u.code = n.code
CROSS JOIN (SELECT coalesce(sum(cur), 0)::bigint AS total, coalesce(sum(nl), 0)::bigint AS nl,
    coalesce(sum(cur - nl) FILTER (WHERE code IS NULL), 0)::bigint AS unassigned FROM c) t
ORDER BY n.code COLLATE "C", n.ord`
	rows, err := e.DB.Query(ctx, sql, a...)
	if err != nil {
		return res, fmt.Errorf("pgquery: stats: %w", err)
	}
	defer rows.Close()
	var prevC, lastC []analytics.Comparison
	for rows.Next() {
		var (
			r                        analytics.StatsRow
			prev, ly                 int64
			prevPct, lyPct           *float64
			prevZ, lyZ               float64
			total, noLoc, unassigned int64
		)
		if err := rows.Scan(&r.Unit, &r.Name, &r.Group, &r.Count, &r.Population, &r.Rate,
			&prev, &prevPct, &prevZ, &ly, &lyPct, &lyZ, &total, &noLoc, &unassigned); err != nil {
			return res, fmt.Errorf("pgquery: stats: %w", err)
		}
		r.Group = label[r.Group]
		res.Total, res.NoLocation, res.Unassigned = total, noLoc, unassigned
		if q.ComparePrevious {
			prevC = append(prevC, analytics.Comparison{Period: prevP, Base: prev, Diff: r.Count - prev,
				Percent: prevPct, Z: prevZ, Significant: abs(prevZ) >= analytics.SignificantZ})
		}
		if q.CompareLastYear {
			lastC = append(lastC, analytics.Comparison{Period: lastP, Base: ly, Diff: r.Count - ly,
				Percent: lyPct, Z: lyZ, Significant: abs(lyZ) >= analytics.SignificantZ})
		}
		res.Rows = append(res.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("pgquery: stats: %w", err)
	}
	for i := range res.Rows {
		if prevC != nil {
			res.Rows[i].Previous = &prevC[i]
		}
		if lastC != nil {
			res.Rows[i].LastYear = &lastC[i]
		}
	}
	if q.Group == analytics.DimFlag || len(res.Rows) == 0 {
		// Totals count events, not (event, flag) pairs; with no rows the
		// cross join above returned none.
		if err := e.totals(ctx, q, col, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// totals fills Total, NoLocation and Unassigned with one query.
func (e *Engine) totals(ctx context.Context, q analytics.StatsQuery, col string, res *analytics.StatsResult) error {
	var a args
	filter, err := e.filterSQL(ctx, q.Filter, &a)
	if err != nil {
		return err
	}
	sql := `SELECT count(*), count(*) FILTER (WHERE lon IS NULL),
  count(*) FILTER (WHERE lon IS NOT NULL AND ` + col + ` IS NULL)
FROM events WHERE ` + and(filter, periodSQL(q.Period, &a))
	rows, err := e.DB.Query(ctx, sql, a...)
	if err != nil {
		return fmt.Errorf("pgquery: totals: %w", err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, func(r pgx.CollectableRow) ([3]int64, error) {
		var t [3]int64
		err := r.Scan(&t[0], &t[1], &t[2])
		return t, err
	})
	if err != nil {
		return fmt.Errorf("pgquery: totals: %w", err)
	}
	res.Total, res.NoLocation, res.Unassigned = t[0], t[1], t[2]
	return nil
}

// intervalStep is the SQL interval between series points.
var intervalStep = map[analytics.Interval]string{
	analytics.IntervalDay:     "1 day",
	analytics.IntervalWeek:    "7 days",
	analytics.IntervalMonth:   "1 month",
	analytics.IntervalQuarter: "3 months",
}

// Series answers q like analytics.Snapshot.Series: intervals cut by
// date_trunc in the zone of q.From (its IANA name, e.g. Asia/Tashkent;
// ISO weeks start on Monday), every interval a point, zeros included.
func (e *Engine) Series(ctx context.Context, q analytics.SeriesQuery) (analytics.SeriesResult, error) {
	res := analytics.SeriesResult{Interval: q.Interval}
	if err := checkPeriod(analytics.Period{From: q.From, To: q.To}, "series"); err != nil {
		return res, err
	}
	step, ok := intervalStep[q.Interval]
	if !ok {
		return res, fmt.Errorf("%w: interval %q: %w", analytics.ErrBadQuery, string(q.Interval), analytics.ErrBadInterval)
	}
	loc := q.From.Location()
	var a args
	filter, err := e.filterSQL(ctx, q.Filter, &a)
	if err != nil {
		return res, err
	}
	iv, tz := a.add(string(q.Interval)), a.add(loc.String())
	from, to := a.add(q.From), a.add(q.To)
	sql := `WITH c AS (
  SELECT date_trunc(` + iv + `::text, occurred_at AT TIME ZONE ` + tz + `::text) AS t, count(*) AS n
  FROM events
  WHERE ` + and(filter, "occurred_at >= "+from+" AND occurred_at < "+to) + `
  GROUP BY 1)
SELECT s.t AT TIME ZONE ` + tz + `::text, coalesce(c.n, 0)
FROM generate_series(date_trunc(` + iv + `::text, ` + from + `::timestamptz AT TIME ZONE ` + tz + `::text),
    (` + to + `::timestamptz AT TIME ZONE ` + tz + `::text) - interval '1 microsecond', ` + a.add(step) + `::text::interval) AS s(t)
LEFT JOIN c ON c.t = s.t
ORDER BY s.t`
	rows, err := e.DB.Query(ctx, sql, a...)
	if err != nil {
		return res, fmt.Errorf("pgquery: series: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p analytics.SeriesPoint
		if err := rows.Scan(&p.Start, &p.Count); err != nil {
			return res, fmt.Errorf("pgquery: series: %w", err)
		}
		p.Start = p.Start.In(loc)
		res.Points = append(res.Points, p)
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("pgquery: series: %w", err)
	}
	return res, nil
}

// cellColumns is the allowlist of stored H3 cell columns by resolution
// (analytics.MinHexbinRes..MaxHexbinRes).
var cellColumns = map[int]string{
	5: "h3_r5", 6: "h3_r6", 7: "h3_r7", 8: "h3_r8", 9: "h3_r9", 10: "h3_r10",
}

// Hexbins answers q like analytics.Snapshot.Hexbins: the events counted by
// their stored cell at q.Res (column h3_rN) and sorted by cell (H3 indexes
// have bit 63 clear, so bigint order is uint64 order); events without
// location (NULL cells) are NoLocation.
func (e *Engine) Hexbins(ctx context.Context, q analytics.HexbinQuery) (analytics.HexbinResult, error) {
	res := analytics.HexbinResult{Res: q.Res}
	col, ok := cellColumns[q.Res]
	if q.Res < analytics.MinHexbinRes || q.Res > analytics.MaxHexbinRes || !ok {
		return res, fmt.Errorf("%w: res %d: want %d..%d", analytics.ErrBadQuery, q.Res, analytics.MinHexbinRes, analytics.MaxHexbinRes)
	}
	if err := checkPeriod(q.Period, "period"); err != nil {
		return res, err
	}
	var a args
	filter, err := e.filterSQL(ctx, q.Filter, &a)
	if err != nil {
		return res, err
	}
	sql := `SELECT ` + col + ` AS cell, count(*)
FROM events
WHERE ` + and(filter, periodSQL(q.Period, &a)) + `
GROUP BY 1 ORDER BY 1 NULLS FIRST`
	rows, err := e.DB.Query(ctx, sql, a...)
	if err != nil {
		return res, fmt.Errorf("pgquery: hexbins: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c *int64
		var n int64
		if err := rows.Scan(&c, &n); err != nil {
			return res, fmt.Errorf("pgquery: hexbins: %w", err)
		}
		if c == nil { // no location
			res.NoLocation = n
			continue
		}
		res.Bins = append(res.Bins, analytics.Hexbin{Cell: uint64(*c), Count: n})
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("pgquery: hexbins: %w", err)
	}
	if res.Bins == nil {
		res.Bins = []analytics.Hexbin{}
	}
	return res, nil
}
