package server

import (
	"encoding/csv"
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

type comparisonJSON struct {
	Period      periodJSON `json:"period"`
	Base        int64      `json:"base"`
	Diff        int64      `json:"diff"`
	Percent     *float64   `json:"percent"`
	Z           float64    `json:"z"`
	Significant bool       `json:"significant"`
}

func toComparisonJSON(c *analytics.Comparison) *comparisonJSON {
	if c == nil {
		return nil
	}
	return &comparisonJSON{Period: toPeriodJSON(c.Period), Base: c.Base, Diff: c.Diff, Percent: c.Percent, Z: c.Z, Significant: c.Significant}
}

type statsRowJSON struct {
	Unit       string          `json:"unit"`
	Name       string          `json:"name"`
	Group      string          `json:"group,omitempty"`
	Count      int64           `json:"count"`
	Population *int64          `json:"population"`
	Rate       *float64        `json:"rate_per_1000"`
	Previous   *comparisonJSON `json:"previous,omitempty"`
	LastYear   *comparisonJSON `json:"last_year,omitempty"`
}

func statsJSON(res *analytics.StatsResult, notice string) map[string]any {
	rows := make([]statsRowJSON, len(res.Rows))
	for i := range res.Rows {
		r := &res.Rows[i]
		rows[i] = statsRowJSON{Unit: r.Unit, Name: r.Name, Group: r.Group, Count: r.Count, Rate: r.Rate,
			Previous: toComparisonJSON(r.Previous), LastYear: toComparisonJSON(r.LastYear)}
		if r.Population > 0 {
			p := r.Population
			rows[i].Population = &p
		}
	}
	out := map[string]any{
		"snapshot": res.Snapshot, "period": toPeriodJSON(res.Period), "level": res.Level,
		"totals": map[string]int64{"events": res.Total, "no_location": res.NoLocation, "unassigned": res.Unassigned},
		"rows":   rows,
	}
	withNotice(out, notice)
	return out
}

func fmtFloat(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func compCSV(c *analytics.Comparison) []string {
	if c == nil {
		return []string{"", "", "", "", ""}
	}
	return []string{strconv.FormatInt(c.Base, 10), strconv.FormatInt(c.Diff, 10), fmtFloat(c.Percent),
		strconv.FormatFloat(c.Z, 'f', 4, 64), strconv.FormatBool(c.Significant)}
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
	_ = cw.Write([]string{"snapshot", "period", "level", "unit", "name", "group", "count", "population", "rate_per_1000",
		"prev_count", "prev_diff", "prev_percent", "prev_z", "prev_significant",
		"ly_count", "ly_diff", "ly_percent", "ly_z", "ly_significant"})
	snap := strconv.FormatUint(res.Snapshot, 10)
	for i := range res.Rows {
		row := &res.Rows[i]
		pop := ""
		if row.Population > 0 {
			pop = strconv.FormatInt(row.Population, 10)
		}
		rec := []string{snap, res.Period.Label, string(res.Level), row.Unit, row.Name, row.Group,
			strconv.FormatInt(row.Count, 10), pop, fmtFloat(row.Rate)}
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
		{Name: "count", Type: arrow.PrimitiveTypes.Int64},
		{Name: "population", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "rate_per_1000", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}
	for _, p := range []string{"prev", "ly"} {
		fields = append(fields,
			arrow.Field{Name: p + "_count", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
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
		b.Field(3).(*array.Int64Builder).Append(row.Count)
		appendInt(b.Field(4).(*array.Int64Builder), row.Population, row.Population > 0)
		appendFloat(b.Field(5).(*array.Float64Builder), row.Rate)
		for j, c := range []*analytics.Comparison{row.Previous, row.LastYear} {
			base := 6 + 5*j
			if c == nil {
				for k := range 5 {
					b.Field(base + k).AppendNull()
				}
				continue
			}
			b.Field(base).(*array.Int64Builder).Append(c.Base)
			b.Field(base + 1).(*array.Int64Builder).Append(c.Diff)
			appendFloat(b.Field(base+2).(*array.Float64Builder), c.Percent)
			b.Field(base + 3).(*array.Float64Builder).Append(c.Z)
			b.Field(base + 4).(*array.BooleanBuilder).Append(c.Significant)
		}
	}
	return b.NewRecordBatch()
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

func seriesJSON(res *analytics.SeriesResult, loc *time.Location, notice string) map[string]any {
	type point struct {
		Start time.Time `json:"start"`
		Label string    `json:"label"`
		Count int64     `json:"count"`
	}
	pts := make([]point, len(res.Points))
	for i, p := range res.Points {
		pts[i] = point{Start: p.Start.UTC(), Label: p.Start.In(loc).Format("2006-01-02"), Count: p.Count}
	}
	out := map[string]any{"snapshot": res.Snapshot, "interval": res.Interval, "points": pts}
	withNotice(out, notice)
	return out
}

func (s *Server) writeSeriesCSV(w http.ResponseWriter, r *http.Request, res *analytics.SeriesResult) {
	cw := s.csvWriter(w, "series")
	_ = cw.Write([]string{"snapshot", "interval", "start", "count"})
	snap := strconv.FormatUint(res.Snapshot, 10)
	for _, p := range res.Points {
		_ = cw.Write([]string{snap, string(res.Interval), p.Start.In(s.cfg.Location).Format("2006-01-02"), strconv.FormatInt(p.Count, 10)})
	}
	s.flushCSV(r, cw)
}

func seriesRecord(res *analytics.SeriesResult) arrow.RecordBatch {
	md := arrow.NewMetadata([]string{"snapshot", "interval"}, []string{strconv.FormatUint(res.Snapshot, 10), string(res.Interval)})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "start", Type: &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}},
		{Name: "count", Type: arrow.PrimitiveTypes.Int64},
	}, &md)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, p := range res.Points {
		b.Field(0).(*array.TimestampBuilder).Append(arrow.Timestamp(p.Start.Unix()))
		b.Field(1).(*array.Int64Builder).Append(p.Count)
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

func hexbinJSON(res *analytics.HexbinResult, p analytics.Period, notice string) map[string]any {
	type bin struct {
		H3    string  `json:"h3"`
		Lat   float64 `json:"lat"`
		Lon   float64 `json:"lon"`
		Count int64   `json:"count"`
	}
	bins := make([]bin, len(res.Bins))
	for i, b := range res.Bins {
		lat, lon := geo.CellToLatLng(b.Cell)
		bins[i] = bin{H3: cellHex(b.Cell), Lat: lat, Lon: lon, Count: b.Count}
	}
	out := map[string]any{"snapshot": res.Snapshot, "res": res.Res, "period": toPeriodJSON(p), "no_location": res.NoLocation, "bins": bins}
	withNotice(out, notice)
	return out
}

func hexbinGeoJSON(res *analytics.HexbinResult, p analytics.Period, notice string) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for _, b := range res.Bins {
		f := cellFeature(b.Cell)
		f.Properties["count"] = b.Count
		fc.Append(f)
	}
	fc.ExtraMembers = geojson.Properties{"snapshot": res.Snapshot, "res": res.Res, "period": p.Label, "no_location": res.NoLocation}
	withNotice(fc.ExtraMembers, notice)
	return fc
}

func (s *Server) writeHexbinsCSV(w http.ResponseWriter, r *http.Request, res *analytics.HexbinResult) {
	cw := s.csvWriter(w, "hexbins")
	_ = cw.Write([]string{"snapshot", "res", "h3", "lat", "lon", "count"})
	snap, rs := strconv.FormatUint(res.Snapshot, 10), strconv.Itoa(res.Res)
	for _, b := range res.Bins {
		lat, lon := geo.CellToLatLng(b.Cell)
		_ = cw.Write([]string{snap, rs, cellHex(b.Cell), strconv.FormatFloat(lat, 'f', 6, 64), strconv.FormatFloat(lon, 'f', 6, 64), strconv.FormatInt(b.Count, 10)})
	}
	s.flushCSV(r, cw)
}

func hexbinRecord(res *analytics.HexbinResult) arrow.RecordBatch {
	md := arrow.NewMetadata([]string{"snapshot", "res"}, []string{strconv.FormatUint(res.Snapshot, 10), strconv.Itoa(res.Res)})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "h3", Type: arrow.PrimitiveTypes.Uint64},
		{Name: "h3_hex", Type: arrow.BinaryTypes.String},
		{Name: "count", Type: arrow.PrimitiveTypes.Int64},
	}, &md)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, h := range res.Bins {
		b.Field(0).(*array.Uint64Builder).Append(h.Cell)
		b.Field(1).(*array.StringBuilder).Append(cellHex(h.Cell))
		b.Field(2).(*array.Int64Builder).Append(h.Count)
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
