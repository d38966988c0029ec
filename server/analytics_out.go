package server

import (
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Arrow IPC stream responses (for notebooks, DuckDB, pandas, polars).
const arrowStreamType = "application/vnd.apache.arrow.stream"

type periodJSON struct {
	Label string    `json:"label"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
}

func toPeriodJSON(p analytics.Period) periodJSON {
	return periodJSON{Label: p.Label, From: p.From.UTC(), To: p.To.UTC()}
}

// countJSON is how every count is published: the count (null when the
// public view withholds it) and the interval [count_lo, count_hi] that
// holds the true count (equal to the count for exact answers).
type countJSON struct {
	Count   *int64 `json:"count"`
	CountLo int64  `json:"count_lo"`
	CountHi int64  `json:"count_hi"`
}

func toCountJSON(n int64, b analytics.Bounds) countJSON {
	b = b.Of(n)
	c := countJSON{CountLo: b.Lo, CountHi: b.Hi}
	if !b.Withheld {
		c.Count = &n
	}
	return c
}

type comparisonJSON struct {
	Period periodJSON `json:"period"`
	Base   *int64     `json:"base"`
	BaseLo int64      `json:"base_lo"`
	BaseHi int64      `json:"base_hi"`
	// Diff, Percent, Z and Significant are null when either count is
	// withheld (public view).
	Diff        *int64   `json:"diff"`
	Percent     *float64 `json:"percent"`
	Z           *float64 `json:"z"`
	Significant *bool    `json:"significant"`
	// BoundaryChanged is the date (in the period's zone) from which the
	// unit's boundary changed between the two periods, so the counts are of
	// different areas; absent when it did not.
	BoundaryChanged string `json:"boundary_changed,omitempty"`
}

func toComparisonJSON(c *analytics.Comparison) *comparisonJSON {
	if c == nil {
		return nil
	}
	bc := toCountJSON(c.Base, c.BaseBounds)
	j := &comparisonJSON{Period: toPeriodJSON(c.Period), Base: bc.Count, BaseLo: bc.CountLo, BaseHi: bc.CountHi}
	if !c.BoundaryChanged.IsZero() {
		j.BoundaryChanged = c.BoundaryChanged.In(c.Period.From.Location()).Format(time.DateOnly)
	}
	if !c.Withheld {
		d, z, sig := c.Diff, c.Z, c.Significant
		j.Diff, j.Percent, j.Z, j.Significant = &d, c.Percent, &z, &sig
	}
	return j
}

type statsRowJSON struct {
	Unit  string `json:"unit"`
	Name  string `json:"name"`
	Group string `json:"group,omitempty"`
	countJSON
	Population *int64 `json:"population"`
	// PopulationYear is the year of Population the rate used (the
	// period's start year, else the nearest year with a figure).
	PopulationYear *int            `json:"population_year"`
	Rate           *float64        `json:"rate_per_1000"`
	Previous       *comparisonJSON `json:"previous,omitempty"`
	LastYear       *comparisonJSON `json:"last_year,omitempty"`
}

// totalsJSON are the totals of a stats answer, each with its interval.
type totalsJSON struct {
	Events       *int64 `json:"events"`
	EventsLo     int64  `json:"events_lo"`
	EventsHi     int64  `json:"events_hi"`
	NoLocation   *int64 `json:"no_location"`
	NoLocationLo int64  `json:"no_location_lo"`
	NoLocationHi int64  `json:"no_location_hi"`
	Unassigned   *int64 `json:"unassigned"`
	UnassignedLo int64  `json:"unassigned_lo"`
	UnassignedHi int64  `json:"unassigned_hi"`
}

// viewJSON says which view answered: "exact" (an analyst token for the
// whole area) or "public" (analytics/disclose), with the protection's
// parameters.
type viewJSON struct {
	View          string `json:"view"`
	Method        string `json:"method,omitempty"`
	MaxNoise      int    `json:"max_noise,omitempty"`
	WithheldBelow int64  `json:"withheld_below,omitempty"`
}

// statsResponse is the JSON body of /v1/stats.
type statsResponse struct {
	Snapshot   uint64         `json:"snapshot"`
	Period     periodJSON     `json:"period"`
	Level      geo.Level      `json:"level"`
	Disclosure viewJSON       `json:"disclosure"`
	Totals     totalsJSON     `json:"totals"`
	Rows       []statsRowJSON `json:"rows"`
	Notice     string         `json:"notice,omitempty"`
}

func statsJSON(res *analytics.StatsResult, view viewJSON, notice string) statsResponse {
	rows := make([]statsRowJSON, len(res.Rows))
	for i := range res.Rows {
		r := &res.Rows[i]
		rows[i] = statsRowJSON{Unit: r.Unit, Name: r.Name, Group: r.Group, countJSON: toCountJSON(r.Count, r.Bounds), Rate: r.Rate,
			Previous: toComparisonJSON(r.Previous), LastYear: toComparisonJSON(r.LastYear)}
		if r.Population > 0 {
			p := r.Population
			rows[i].Population = &p
			if r.PopulationYear > 0 {
				y := r.PopulationYear
				rows[i].PopulationYear = &y
			}
		}
	}
	t, nl, un := toCountJSON(res.Total, res.TotalBounds), toCountJSON(res.NoLocation, res.NoLocationBounds), toCountJSON(res.Unassigned, res.UnassignedBounds)
	return statsResponse{
		Snapshot: res.Snapshot, Period: toPeriodJSON(res.Period), Level: res.Level, Disclosure: view,
		Totals: totalsJSON{Events: t.Count, EventsLo: t.CountLo, EventsHi: t.CountHi,
			NoLocation: nl.Count, NoLocationLo: nl.CountLo, NoLocationHi: nl.CountHi,
			Unassigned: un.Count, UnassignedLo: un.CountLo, UnassignedHi: un.CountHi},
		Rows: rows, Notice: notice,
	}
}

// statsGeoJSON is a stats result as a FeatureCollection: one feature per
// row, the row's unit polygon (from the store's boundaries, as
// /v1/units?format=geojson writes it: code, parent_code, level, names) with
// the row's fields as properties. Counts follow the GeoJSON rule of the
// other routes (countProps): count absent when withheld, count_lo and
// count_hi always; a comparison is flattened as previous_period,
// previous_base (absent when withheld), previous_base_lo, previous_base_hi,
// previous_diff, previous_percent, previous_z and previous_significant
// (absent when the comparison is withheld), and last_year_... alike.
// A unit without a boundary has a null geometry.
func (s *Server) statsGeoJSON(ctx context.Context, res *analytics.StatsResult, view viewJSON) (*geojson.FeatureCollection, error) {
	if s.cfg.Store == nil {
		return nil, fmt.Errorf("no store for the unit boundaries: %w", errUnavailable)
	}
	units, err := s.cfg.Store.Units(ctx, store.UnitQuery{Level: res.Level, WithGeometry: true})
	if err != nil {
		return nil, fmt.Errorf("boundaries of the %s units: %w", res.Level, err)
	}
	byCode := make(map[string]*geo.Unit, len(units))
	for i := range units {
		byCode[units[i].Code] = &units[i]
	}
	fc := geojson.NewFeatureCollection()
	for i := range res.Rows {
		row := &res.Rows[i]
		u := byCode[row.Unit]
		if u == nil { // a code the events carry but the store lacks
			u = &geo.Unit{Code: row.Unit, Level: res.Level, Names: map[string]string{"uz": row.Name}}
		}
		f := unitFeature(u)
		if row.Group != "" {
			f.ID = row.Unit + "/" + row.Group // one feature per unit and group
		}
		p := f.Properties
		p["unit"], p["name"] = row.Unit, row.Name
		if row.Group != "" {
			p["group"] = row.Group
		}
		countProps(p, "count", row.Count, row.Bounds)
		if row.Population > 0 {
			p["population"], p["population_year"] = row.Population, nil
			if row.PopulationYear > 0 {
				p["population_year"] = row.PopulationYear
			}
		}
		if row.Rate != nil {
			p["rate_per_1000"] = *row.Rate
		}
		comparisonProps(p, "previous", row.Previous)
		comparisonProps(p, "last_year", row.LastYear)
		fc.Append(f)
	}
	fc.ExtraMembers = geojson.Properties{"snapshot": res.Snapshot, "period": toPeriodJSON(res.Period), "level": res.Level, "disclosure": view}
	withNotice(fc.ExtraMembers, s.cfg.Notice)
	return fc, nil
}

// comparisonProps flattens a comparison into prefix_... properties (none
// without the comparison).
func comparisonProps(p geojson.Properties, prefix string, c *analytics.Comparison) {
	if c == nil {
		return
	}
	j := toComparisonJSON(c)
	p[prefix+"_period"] = j.Period.Label
	countProps(p, prefix+"_base", c.Base, c.BaseBounds)
	if j.Diff != nil {
		p[prefix+"_diff"], p[prefix+"_z"], p[prefix+"_significant"] = *j.Diff, *j.Z, *j.Significant
	}
	if j.Percent != nil {
		p[prefix+"_percent"] = *j.Percent
	}
}

func fmtFloat(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func fmtInt(n *int64) string {
	if n == nil {
		return ""
	}
	return strconv.FormatInt(*n, 10)
}

// countCSV is count (empty when withheld), count_lo, count_hi.
func countCSV(n int64, b analytics.Bounds) []string {
	c := toCountJSON(n, b)
	return []string{fmtInt(c.Count), strconv.FormatInt(c.CountLo, 10), strconv.FormatInt(c.CountHi, 10)}
}

// compCSV is count, count_lo, count_hi, diff, percent, z, significant.
func compCSV(c *analytics.Comparison) []string {
	if c == nil {
		return []string{"", "", "", "", "", "", ""}
	}
	out := countCSV(c.Base, c.BaseBounds)
	if c.Withheld {
		return append(out, "", "", "", "")
	}
	return append(out, strconv.FormatInt(c.Diff, 10), fmtFloat(c.Percent),
		strconv.FormatFloat(c.Z, 'f', 4, 64), strconv.FormatBool(c.Significant))
}

func (s *Server) csvWriter(w http.ResponseWriter, name string) *csv.Writer {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	return csv.NewWriter(w)
}

func (s *Server) flushCSV(r *http.Request, cw *csv.Writer) {
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.log.DebugContext(r.Context(), "write csv", slog.Any("err", err))
	}
}

func (s *Server) writeStatsCSV(w http.ResponseWriter, r *http.Request, res *analytics.StatsResult) {
	cw := s.csvWriter(w, "stats-"+res.Period.Label)
	_ = cw.Write([]string{"snapshot", "period", "level", "unit", "name", "group", "count", "count_lo", "count_hi", "population", "rate_per_1000",
		"prev_count", "prev_count_lo", "prev_count_hi", "prev_diff", "prev_percent", "prev_z", "prev_significant",
		"ly_count", "ly_count_lo", "ly_count_hi", "ly_diff", "ly_percent", "ly_z", "ly_significant"})
	snap := strconv.FormatUint(res.Snapshot, 10)
	for i := range res.Rows {
		row := &res.Rows[i]
		pop := ""
		if row.Population > 0 {
			pop = strconv.FormatInt(row.Population, 10)
		}
		rec := append([]string{snap, res.Period.Label, string(res.Level), row.Unit, row.Name, row.Group},
			countCSV(row.Count, row.Bounds)...)
		rec = append(rec, pop, fmtFloat(row.Rate))
		rec = append(rec, compCSV(row.Previous)...)
		rec = append(rec, compCSV(row.LastYear)...)
		_ = cw.Write(rec)
	}
	s.flushCSV(r, cw)
}

// statsRecord is the Arrow form of a stats result: one row per unit and
// group, comparisons as nullable columns.
func statsRecord(res *analytics.StatsResult) arrow.RecordBatch {
	md := arrow.NewMetadata([]string{"snapshot", "period", "level"}, []string{strconv.FormatUint(res.Snapshot, 10), res.Period.Label, string(res.Level)})
	fields := []arrow.Field{
		{Name: "unit", Type: arrow.BinaryTypes.String},
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "group", Type: arrow.BinaryTypes.String},
	}
	fields = append(fields, countFields("count")...)
	fields = append(fields,
		arrow.Field{Name: "population", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "rate_per_1000", Type: arrow.PrimitiveTypes.Float64, Nullable: true})
	for _, p := range []string{"prev", "ly"} {
		fields = append(fields, countFields(p+"_count")...)
		fields = append(fields,
			arrow.Field{Name: p + "_diff", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			arrow.Field{Name: p + "_percent", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
			arrow.Field{Name: p + "_z", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
			arrow.Field{Name: p + "_significant", Type: arrow.FixedWidthTypes.Boolean, Nullable: true})
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, &md))
	defer b.Release()
	for i := range res.Rows {
		row := &res.Rows[i]
		b.Field(0).(*array.StringBuilder).Append(row.Unit)
		b.Field(1).(*array.StringBuilder).Append(row.Name)
		b.Field(2).(*array.StringBuilder).Append(row.Group)
		appendCount(b, 3, row.Count, row.Bounds)
		appendInt(b.Field(6).(*array.Int64Builder), row.Population, row.Population > 0)
		appendFloat(b.Field(7).(*array.Float64Builder), row.Rate)
		for j, c := range []*analytics.Comparison{row.Previous, row.LastYear} {
			base := 8 + 7*j
			if c == nil {
				for k := range 7 {
					b.Field(base + k).AppendNull()
				}
				continue
			}
			appendCount(b, base, c.Base, c.BaseBounds)
			if c.Withheld {
				for k := 3; k < 7; k++ {
					b.Field(base + k).AppendNull()
				}
				continue
			}
			b.Field(base + 3).(*array.Int64Builder).Append(c.Diff)
			appendFloat(b.Field(base+4).(*array.Float64Builder), c.Percent)
			b.Field(base + 5).(*array.Float64Builder).Append(c.Z)
			b.Field(base + 6).(*array.BooleanBuilder).Append(c.Significant)
		}
	}
	return b.NewRecordBatch()
}

// countFields are the Arrow columns of a count: name (null when
// withheld), name_lo and name_hi.
func countFields(name string) []arrow.Field {
	return []arrow.Field{
		{Name: name, Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: name + "_lo", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: name + "_hi", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}
}

// appendCount appends a count to the three countFields columns from i.
func appendCount(b *array.RecordBuilder, i int, n int64, bd analytics.Bounds) {
	c := toCountJSON(n, bd)
	appendInt(b.Field(i).(*array.Int64Builder), n, c.Count != nil)
	b.Field(i + 1).(*array.Int64Builder).Append(c.CountLo)
	b.Field(i + 2).(*array.Int64Builder).Append(c.CountHi)
}

func appendInt(b *array.Int64Builder, v int64, ok bool) {
	if ok {
		b.Append(v)
	} else {
		b.AppendNull()
	}
}

func appendFloat(b *array.Float64Builder, v *float64) {
	if v != nil {
		b.Append(*v)
	} else {
		b.AppendNull()
	}
}

// seriesPointJSON is one point of a series.
type seriesPointJSON struct {
	Start time.Time `json:"start"`
	Label string    `json:"label"`
	countJSON
}

// seriesResponse is the JSON body of /v1/series.
type seriesResponse struct {
	Snapshot   uint64             `json:"snapshot"`
	Interval   analytics.Interval `json:"interval"`
	Disclosure viewJSON           `json:"disclosure"`
	Points     []seriesPointJSON  `json:"points"`
	Notice     string             `json:"notice,omitempty"`
}

func seriesJSON(res *analytics.SeriesResult, loc *time.Location, view viewJSON, notice string) seriesResponse {
	pts := make([]seriesPointJSON, len(res.Points))
	for i, p := range res.Points {
		pts[i] = seriesPointJSON{Start: p.Start.UTC(), Label: p.Start.In(loc).Format("2006-01-02"), countJSON: toCountJSON(p.Count, p.Bounds)}
	}
	return seriesResponse{Snapshot: res.Snapshot, Interval: res.Interval, Disclosure: view, Points: pts, Notice: notice}
}

func (s *Server) writeSeriesCSV(w http.ResponseWriter, r *http.Request, res *analytics.SeriesResult) {
	cw := s.csvWriter(w, "series")
	_ = cw.Write([]string{"snapshot", "interval", "start", "count", "count_lo", "count_hi"})
	snap := strconv.FormatUint(res.Snapshot, 10)
	for _, p := range res.Points {
		_ = cw.Write(append([]string{snap, string(res.Interval), p.Start.In(s.cfg.Location).Format("2006-01-02")}, countCSV(p.Count, p.Bounds)...))
	}
	s.flushCSV(r, cw)
}

func seriesRecord(res *analytics.SeriesResult) arrow.RecordBatch {
	md := arrow.NewMetadata([]string{"snapshot", "interval"}, []string{strconv.FormatUint(res.Snapshot, 10), string(res.Interval)})
	schema := arrow.NewSchema(append([]arrow.Field{
		{Name: "start", Type: &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}},
	}, countFields("count")...), &md)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, p := range res.Points {
		b.Field(0).(*array.TimestampBuilder).Append(arrow.Timestamp(p.Start.Unix()))
		appendCount(b, 1, p.Count, p.Bounds)
	}
	return b.NewRecordBatch()
}

func cellHex(c uint64) string { return strconv.FormatUint(c, 16) }

// cellFeature is the polygon of an H3 cell as a GeoJSON feature whose id
// and "h3" property are the cell's hex index.
func cellFeature(cell uint64) *geojson.Feature {
	f := geojson.NewFeature(orb.Polygon{geo.CellBoundary(cell)})
	f.ID = cellHex(cell)
	f.Properties["h3"] = f.ID
	return f
}

// withNotice adds the data notice (e.g. "synthetic demo data") to a
// response object when there is one.
func withNotice(m map[string]any, notice string) {
	if notice != "" {
		m["notice"] = notice
	}
}

// hexbinJSONBin is one H3 cell of /v1/hexbins.
type hexbinJSONBin struct {
	H3  string  `json:"h3"`
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
	countJSON
}

// hexbinResponse is the JSON body of /v1/hexbins. NoLocation is null in
// the public view (whole cells only).
type hexbinResponse struct {
	Snapshot   uint64          `json:"snapshot"`
	Res        int             `json:"res"`
	Period     periodJSON      `json:"period"`
	Disclosure viewJSON        `json:"disclosure"`
	NoLocation *int64          `json:"no_location"`
	Bins       []hexbinJSONBin `json:"bins"`
	Notice     string          `json:"notice,omitempty"`
}

func hexbinJSON(res *analytics.HexbinResult, p analytics.Period, view viewJSON, notice string) hexbinResponse {
	bins := make([]hexbinJSONBin, len(res.Bins))
	for i, b := range res.Bins {
		lat, lon := geo.CellToLatLng(b.Cell)
		bins[i] = hexbinJSONBin{H3: cellHex(b.Cell), Lat: lat, Lon: lon, countJSON: toCountJSON(b.Count, b.Bounds)}
	}
	out := hexbinResponse{Snapshot: res.Snapshot, Res: res.Res, Period: toPeriodJSON(p), Disclosure: view, Bins: bins, Notice: notice}
	if view.View == viewExact {
		nl := res.NoLocation
		out.NoLocation = &nl
	}
	return out
}

// countProps sets count (absent when withheld), count_lo and count_hi.
func countProps(props geojson.Properties, prefix string, n int64, b analytics.Bounds) {
	c := toCountJSON(n, b)
	if c.Count != nil {
		props[prefix] = *c.Count
	}
	props[prefix+"_lo"], props[prefix+"_hi"] = c.CountLo, c.CountHi
}

func hexbinGeoJSON(res *analytics.HexbinResult, p analytics.Period, view viewJSON, notice string) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for _, b := range res.Bins {
		f := cellFeature(b.Cell)
		countProps(f.Properties, "count", b.Count, b.Bounds)
		fc.Append(f)
	}
	fc.ExtraMembers = geojson.Properties{"snapshot": res.Snapshot, "res": res.Res, "period": p.Label, "disclosure": view}
	if view.View == viewExact {
		fc.ExtraMembers["no_location"] = res.NoLocation
	}
	withNotice(fc.ExtraMembers, notice)
	return fc
}

func (s *Server) writeHexbinsCSV(w http.ResponseWriter, r *http.Request, res *analytics.HexbinResult) {
	cw := s.csvWriter(w, "hexbins")
	_ = cw.Write([]string{"snapshot", "res", "h3", "lat", "lon", "count", "count_lo", "count_hi"})
	snap, rs := strconv.FormatUint(res.Snapshot, 10), strconv.Itoa(res.Res)
	for _, b := range res.Bins {
		lat, lon := geo.CellToLatLng(b.Cell)
		_ = cw.Write(append([]string{snap, rs, cellHex(b.Cell), strconv.FormatFloat(lat, 'f', 6, 64), strconv.FormatFloat(lon, 'f', 6, 64)},
			countCSV(b.Count, b.Bounds)...))
	}
	s.flushCSV(r, cw)
}

func hexbinRecord(res *analytics.HexbinResult) arrow.RecordBatch {
	md := arrow.NewMetadata([]string{"snapshot", "res"}, []string{strconv.FormatUint(res.Snapshot, 10), strconv.Itoa(res.Res)})
	schema := arrow.NewSchema(append([]arrow.Field{
		{Name: "h3", Type: arrow.PrimitiveTypes.Uint64},
		{Name: "h3_hex", Type: arrow.BinaryTypes.String},
	}, countFields("count")...), &md)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, h := range res.Bins {
		b.Field(0).(*array.Uint64Builder).Append(h.Cell)
		b.Field(1).(*array.StringBuilder).Append(cellHex(h.Cell))
		appendCount(b, 2, h.Count, h.Bounds)
	}
	return b.NewRecordBatch()
}

// writeArrow writes one record as an Arrow IPC stream.
func (s *Server) writeArrow(w http.ResponseWriter, r *http.Request, rec arrow.RecordBatch) {
	defer rec.Release()
	w.Header().Set("Content-Type", arrowStreamType)
	wr := ipc.NewWriter(w, ipc.WithSchema(rec.Schema()))
	if err := wr.Write(rec); err != nil {
		s.log.DebugContext(r.Context(), "write arrow", slog.Any("err", err))
	}
	if err := wr.Close(); err != nil {
		s.log.DebugContext(r.Context(), "close arrow", slog.Any("err", err))
	}
}
