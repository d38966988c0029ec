package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/hotspot"
	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Output of the hot spot endpoints in json, csv, arrow and geojson. Every
// format carries the snapshot and the parameters used; json and geojson
// also the conventions (how the numbers were computed).

// areaJSON describes the study area of an H3 analysis.
func areaJSON(f analytics.Filter, cells int, events int64) map[string]any {
	a := map[string]any{"cells": cells, "events": events}
	if f.Unit != "" {
		a["unit"] = f.Unit
	}
	if f.BBox != nil {
		a["bbox"] = []float64{f.BBox.Min[0], f.BBox.Min[1], f.BBox.Max[0], f.BBox.Max[1]}
	}
	return a
}

// binCounts counts the cells per bin, "-3".."3".
func binCounts(bins func(i int) int8, n int) map[string]int {
	out := map[string]int{}
	for b := -3; b <= 3; b++ {
		out[strconv.Itoa(b)] = 0
	}
	for i := range n {
		out[strconv.Itoa(int(bins(i)))]++
	}
	return out
}

type hotCellJSON struct {
	H3     string   `json:"h3"`
	Lat    float64  `json:"lat"`
	Lon    float64  `json:"lon"`
	Count  int64    `json:"count"`
	Z      *float64 `json:"z"`
	P      *float64 `json:"p"`
	Bin    int8     `json:"bin"`
	RawBin int8     `json:"raw_bin"`
}

func hotspotsJSON(res *hotspot.HexResult, f analytics.Filter, notice string) map[string]any {
	cells := make([]hotCellJSON, len(res.Cells))
	for i, c := range res.Cells {
		lat, lon := geo.CellToLatLng(c.Cell)
		cells[i] = hotCellJSON{H3: cellHex(c.Cell), Lat: lat, Lon: lon, Count: c.Count, Z: num(c.Z), P: num(c.P), Bin: c.Bin, RawBin: c.RawBin}
	}
	out := map[string]any{
		"snapshot": res.Snapshot, "period": toPeriodJSON(res.Period), "res": res.Res, "k": res.K,
		"neighbourhood_km": res.NeighbourhoodKm,
		"study_area":       areaJSON(f, len(res.Cells), res.Events), "no_location": res.NoLocation,
		"bins":        binCounts(func(i int) int8 { return res.Cells[i].Bin }, len(res.Cells)),
		"conventions": res.Conventions, "cells": cells,
	}
	withNotice(out, notice)
	return out
}

func hotspotsGeoJSON(res *hotspot.HexResult, f analytics.Filter, notice string) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for _, c := range res.Cells {
		ft := cellFeature(c.Cell)
		ft.Properties["count"] = c.Count
		ft.Properties["z"] = num(c.Z)
		ft.Properties["p"] = num(c.P)
		ft.Properties["bin"] = c.Bin
		ft.Properties["raw_bin"] = c.RawBin
		fc.Append(ft)
	}
	fc.ExtraMembers = geojson.Properties{"snapshot": res.Snapshot, "period": res.Period.Label, "res": res.Res, "k": res.K,
		"neighbourhood_km": res.NeighbourhoodKm, "study_area": areaJSON(f, len(res.Cells), res.Events), "conventions": res.Conventions}
	withNotice(fc.ExtraMembers, notice)
	return fc
}

func (s *Server) writeHotspotsCSV(w http.ResponseWriter, r *http.Request, res *hotspot.HexResult) {
	cw := s.csvWriter(w, "hotspots-"+res.Period.Label)
	_ = cw.Write([]string{"snapshot", "period", "res", "k", "h3", "lat", "lon", "count", "z", "p", "bin", "raw_bin"})
	snap, rs, k := strconv.FormatUint(res.Snapshot, 10), strconv.Itoa(res.Res), strconv.Itoa(res.K)
	for _, c := range res.Cells {
		lat, lon := geo.CellToLatLng(c.Cell)
		_ = cw.Write([]string{snap, res.Period.Label, rs, k, cellHex(c.Cell),
			strconv.FormatFloat(lat, 'f', 6, 64), strconv.FormatFloat(lon, 'f', 6, 64),
			strconv.FormatInt(c.Count, 10), fmtNum(c.Z), fmtNum(c.P), strconv.Itoa(int(c.Bin)), strconv.Itoa(int(c.RawBin))})
	}
	s.flushCSV(r, cw)
}

// appendNum appends f, null for NaN.
func appendNum(b *array.Float64Builder, f float64) {
	appendFloat(b, num(f))
}

func hotspotsRecord(res *hotspot.HexResult) arrow.RecordBatch {
	md := arrow.NewMetadata([]string{"snapshot", "period", "res", "k", "statistic", "correction"},
		[]string{strconv.FormatUint(res.Snapshot, 10), res.Period.Label, strconv.Itoa(res.Res), strconv.Itoa(res.K),
			res.Conventions.Statistic, res.Conventions.Correction})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "h3", Type: arrow.PrimitiveTypes.Uint64},
		{Name: "h3_hex", Type: arrow.BinaryTypes.String},
		{Name: "count", Type: arrow.PrimitiveTypes.Int64},
		{Name: "z", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "p", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "bin", Type: arrow.PrimitiveTypes.Int8},
		{Name: "raw_bin", Type: arrow.PrimitiveTypes.Int8},
	}, &md)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, c := range res.Cells {
		b.Field(0).(*array.Uint64Builder).Append(c.Cell)
		b.Field(1).(*array.StringBuilder).Append(cellHex(c.Cell))
		b.Field(2).(*array.Int64Builder).Append(c.Count)
		appendNum(b.Field(3).(*array.Float64Builder), c.Z)
		appendNum(b.Field(4).(*array.Float64Builder), c.P)
		b.Field(5).(*array.Int8Builder).Append(c.Bin)
		b.Field(6).(*array.Int8Builder).Append(c.RawBin)
	}
	return b.NewRecordBatch()
}

type mahallaHotJSON struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Count      int64  `json:"count"`
	Population *int64 `json:"population"`
	// PopulationYear: the year of Population the rate used.
	PopulationYear *int     `json:"population_year"`
	Rate           *float64 `json:"rate_per_1000"`
	Value          float64  `json:"value"`
	Neighbors      int      `json:"neighbors"`
	Z              *float64 `json:"z"`
	P              *float64 `json:"p"`
	Bin            int8     `json:"bin"`
	RawBin         int8     `json:"raw_bin"`
	MoranI         *float64 `json:"moran_i"`
	MoranZ         *float64 `json:"moran_z"`
	MoranP         *float64 `json:"moran_p"`
	Quadrant       string   `json:"quadrant"`
	Cluster        string   `json:"cluster"`
}

func toMahallaHotJSON(r *hotspot.MahallaRow) mahallaHotJSON {
	j := mahallaHotJSON{Code: r.Code, Name: r.Name, Count: r.Count, Rate: r.Rate, Value: r.Value, Neighbors: r.Neighbors,
		Z: num(r.Z), P: num(r.P), Bin: r.Bin, RawBin: r.RawBin, MoranI: num(r.MoranI), MoranZ: num(r.MoranZ), MoranP: num(r.MoranP),
		Quadrant: r.Quadrant.String(), Cluster: r.Cluster}
	if r.Population > 0 {
		p := r.Population
		j.Population = &p
		if r.PopulationYear > 0 {
			y := r.PopulationYear
			j.PopulationYear = &y
		}
	}
	return j
}

type excludedJSON struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

func mahallaMeta(res *hotspot.MahallaResult) map[string]any {
	ex := make([]excludedJSON, len(res.Excluded))
	for i, e := range res.Excluded {
		ex[i] = excludedJSON(e)
	}
	value := "count"
	if res.Rate {
		value = "rate_per_1000"
	}
	return map[string]any{
		"snapshot": res.Snapshot, "period": toPeriodJSON(res.Period), "unit": res.Unit, "value": value,
		"mahallas": len(res.Rows), "events": res.Events, "islands": res.Islands, "excluded": ex,
		"permutations": res.Permutations, "seed": res.Seed, "conventions": res.Conventions,
		"bins": binCounts(func(i int) int8 { return res.Rows[i].Bin }, len(res.Rows)),
	}
}

func mahallaHotspotsJSON(res *hotspot.MahallaResult, notice string) map[string]any {
	rows := make([]mahallaHotJSON, len(res.Rows))
	for i := range res.Rows {
		rows[i] = toMahallaHotJSON(&res.Rows[i])
	}
	out := mahallaMeta(res)
	out["rows"] = rows
	withNotice(out, notice)
	return out
}

func mahallaHotspotsGeoJSON(res *hotspot.MahallaResult, bounds map[string]orb.MultiPolygon, notice string) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for i := range res.Rows {
		r := &res.Rows[i]
		ft := geojson.NewFeature(bounds[r.Code])
		ft.ID = r.Code
		j := toMahallaHotJSON(r)
		for k, v := range map[string]any{"code": j.Code, "name": j.Name, "count": j.Count, "population": j.Population,
			"rate_per_1000": j.Rate, "value": j.Value, "neighbors": j.Neighbors, "z": j.Z, "p": j.P, "bin": j.Bin,
			"raw_bin": j.RawBin, "moran_i": j.MoranI, "moran_z": j.MoranZ, "moran_p": j.MoranP, "quadrant": j.Quadrant, "cluster": j.Cluster} {
			ft.Properties[k] = v
		}
		fc.Append(ft)
	}
	meta := mahallaMeta(res)
	meta["period"] = res.Period.Label
	withNotice(meta, notice)
	fc.ExtraMembers = meta
	return fc
}

func (s *Server) writeMahallaHotspotsCSV(w http.ResponseWriter, r *http.Request, res *hotspot.MahallaResult) {
	cw := s.csvWriter(w, "hotspots-mahallas-"+res.Period.Label)
	_ = cw.Write([]string{"snapshot", "period", "unit", "code", "name", "count", "population", "rate_per_1000", "value",
		"neighbors", "z", "p", "bin", "raw_bin", "moran_i", "moran_z", "moran_p", "quadrant", "cluster"})
	snap := strconv.FormatUint(res.Snapshot, 10)
	for i := range res.Rows {
		row := &res.Rows[i]
		pop := ""
		if row.Population > 0 {
			pop = strconv.FormatInt(row.Population, 10)
		}
		_ = cw.Write([]string{snap, res.Period.Label, res.Unit, row.Code, row.Name, strconv.FormatInt(row.Count, 10), pop,
			fmtFloat(row.Rate), fmtNum(row.Value), strconv.Itoa(row.Neighbors), fmtNum(row.Z), fmtNum(row.P),
			strconv.Itoa(int(row.Bin)), strconv.Itoa(int(row.RawBin)), fmtNum(row.MoranI), fmtNum(row.MoranZ), fmtNum(row.MoranP),
			row.Quadrant.String(), row.Cluster})
	}
	s.flushCSV(r, cw)
}

func mahallaHotspotsRecord(res *hotspot.MahallaResult) arrow.RecordBatch {
	md := arrow.NewMetadata([]string{"snapshot", "period", "unit", "rate", "permutations", "seed"},
		[]string{strconv.FormatUint(res.Snapshot, 10), res.Period.Label, res.Unit, strconv.FormatBool(res.Rate),
			strconv.Itoa(res.Permutations), strconv.FormatUint(res.Seed, 10)})
	f64 := arrow.PrimitiveTypes.Float64
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "code", Type: arrow.BinaryTypes.String},
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "count", Type: arrow.PrimitiveTypes.Int64},
		{Name: "population", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "rate_per_1000", Type: f64, Nullable: true},
		{Name: "value", Type: f64},
		{Name: "neighbors", Type: arrow.PrimitiveTypes.Int32},
		{Name: "z", Type: f64, Nullable: true},
		{Name: "p", Type: f64, Nullable: true},
		{Name: "bin", Type: arrow.PrimitiveTypes.Int8},
		{Name: "raw_bin", Type: arrow.PrimitiveTypes.Int8},
		{Name: "moran_i", Type: f64, Nullable: true},
		{Name: "moran_z", Type: f64, Nullable: true},
		{Name: "moran_p", Type: f64, Nullable: true},
		{Name: "quadrant", Type: arrow.BinaryTypes.String},
		{Name: "cluster", Type: arrow.BinaryTypes.String},
	}, &md)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range res.Rows {
		row := &res.Rows[i]
		b.Field(0).(*array.StringBuilder).Append(row.Code)
		b.Field(1).(*array.StringBuilder).Append(row.Name)
		b.Field(2).(*array.Int64Builder).Append(row.Count)
		appendInt(b.Field(3).(*array.Int64Builder), row.Population, row.Population > 0)
		appendFloat(b.Field(4).(*array.Float64Builder), row.Rate)
		b.Field(5).(*array.Float64Builder).Append(row.Value)
		b.Field(6).(*array.Int32Builder).Append(int32(row.Neighbors))
		appendNum(b.Field(7).(*array.Float64Builder), row.Z)
		appendNum(b.Field(8).(*array.Float64Builder), row.P)
		b.Field(9).(*array.Int8Builder).Append(row.Bin)
		b.Field(10).(*array.Int8Builder).Append(row.RawBin)
		appendNum(b.Field(11).(*array.Float64Builder), row.MoranI)
		appendNum(b.Field(12).(*array.Float64Builder), row.MoranZ)
		appendNum(b.Field(13).(*array.Float64Builder), row.MoranP)
		b.Field(14).(*array.StringBuilder).Append(row.Quadrant.String())
		b.Field(15).(*array.StringBuilder).Append(row.Cluster)
	}
	return b.NewRecordBatch()
}

type stepJSON struct {
	Label  string    `json:"label"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Events int64     `json:"events"`
}

type trendJSON struct {
	S     float64  `json:"s"`
	Z     *float64 `json:"z"`
	P     *float64 `json:"p"`
	Tau   *float64 `json:"tau"`
	Trend int      `json:"trend"`
}

type emergingCellJSON struct {
	H3        string     `json:"h3"`
	Lat       float64    `json:"lat"`
	Lon       float64    `json:"lon"`
	Category  string     `json:"category"`
	Count     int64      `json:"count"`
	HotSteps  int        `json:"hot_steps"`
	ColdSteps int        `json:"cold_steps"`
	Trend     trendJSON  `json:"trend"`
	LastZ     *float64   `json:"last_z"`
	LastP     *float64   `json:"last_p"`
	Counts    []int64    `json:"counts,omitempty"`
	Z         []*float64 `json:"z,omitempty"`
}

func emergingMeta(res *hotspot.EmergingResult, f analytics.Filter, loc *time.Location) map[string]any {
	steps := make([]stepJSON, len(res.Steps))
	for i, st := range res.Steps {
		steps[i] = stepJSON{Label: stepLabel(st, res.Interval, loc), From: st.From.UTC(), To: st.To.UTC(), Events: st.Events}
	}
	cats := map[string]int{}
	for _, c := range hotspot.EmergingCategories() {
		cats[string(c)] = 0
	}
	for i := range res.Cells {
		cats[string(res.Cells[i].Category)]++
	}
	return map[string]any{
		"snapshot": res.Snapshot, "res": res.Res, "k": res.K, "neighbourhood_km": res.NeighbourhoodKm,
		"interval": res.Interval, "steps": steps, "alpha": res.Alpha,
		"study_area": areaJSON(f, len(res.Cells), res.Events), "categories": cats, "conventions": res.Conventions,
	}
}

func toEmergingCellJSON(c *hotspot.EmergingCell, series bool) emergingCellJSON {
	lat, lon := geo.CellToLatLng(c.Cell)
	j := emergingCellJSON{H3: cellHex(c.Cell), Lat: lat, Lon: lon, Category: string(c.Category), Count: c.Count,
		HotSteps: c.HotSteps, ColdSteps: c.ColdSteps,
		Trend: trendJSON{S: c.Trend.S, Z: num(c.Trend.Z), P: num(c.Trend.P), Tau: num(c.Trend.Tau), Trend: c.Trend.Trend}}
	if n := len(c.Z); n > 0 {
		j.LastZ, j.LastP = num(c.Z[n-1]), num(c.P[n-1])
	}
	if series {
		j.Counts = c.Counts
		j.Z = make([]*float64, len(c.Z))
		for i, z := range c.Z {
			j.Z[i] = num(z)
		}
	}
	return j
}

func emergingJSON(res *hotspot.EmergingResult, f analytics.Filter, loc *time.Location, series bool, notice string) map[string]any {
	cells := make([]emergingCellJSON, len(res.Cells))
	for i := range res.Cells {
		cells[i] = toEmergingCellJSON(&res.Cells[i], series)
	}
	out := emergingMeta(res, f, loc)
	out["cells"] = cells
	withNotice(out, notice)
	return out
}

func emergingGeoJSON(res *hotspot.EmergingResult, f analytics.Filter, loc *time.Location, notice string) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for i := range res.Cells {
		c := &res.Cells[i]
		j := toEmergingCellJSON(c, false)
		ft := cellFeature(c.Cell)
		for k, v := range map[string]any{"h3": j.H3, "category": j.Category, "count": j.Count, "hot_steps": j.HotSteps,
			"cold_steps": j.ColdSteps, "trend": j.Trend.Trend, "mk_z": j.Trend.Z, "mk_p": j.Trend.P, "tau": j.Trend.Tau,
			"last_z": j.LastZ, "last_p": j.LastP} {
			ft.Properties[k] = v
		}
		fc.Append(ft)
	}
	meta := emergingMeta(res, f, loc)
	withNotice(meta, notice)
	fc.ExtraMembers = meta
	return fc
}

func (s *Server) writeEmergingCSV(w http.ResponseWriter, r *http.Request, res *hotspot.EmergingResult) {
	cw := s.csvWriter(w, "hotspots-emerging")
	_ = cw.Write([]string{"snapshot", "res", "k", "interval", "first_step", "last_step", "h3", "lat", "lon", "category", "count",
		"hot_steps", "cold_steps", "trend", "mk_z", "mk_p", "tau", "last_z", "last_p"})
	snap, rs, k := strconv.FormatUint(res.Snapshot, 10), strconv.Itoa(res.Res), strconv.Itoa(res.K)
	first, last := "", ""
	if n := len(res.Steps); n > 0 {
		first, last = stepLabel(res.Steps[0], res.Interval, s.cfg.Location), stepLabel(res.Steps[n-1], res.Interval, s.cfg.Location)
	}
	for i := range res.Cells {
		c := &res.Cells[i]
		lat, lon := geo.CellToLatLng(c.Cell)
		lastZ, lastP := "", ""
		if n := len(c.Z); n > 0 {
			lastZ, lastP = fmtNum(c.Z[n-1]), fmtNum(c.P[n-1])
		}
		_ = cw.Write([]string{snap, rs, k, string(res.Interval), first, last, cellHex(c.Cell),
			strconv.FormatFloat(lat, 'f', 6, 64), strconv.FormatFloat(lon, 'f', 6, 64), string(c.Category),
			strconv.FormatInt(c.Count, 10), strconv.Itoa(c.HotSteps), strconv.Itoa(c.ColdSteps), strconv.Itoa(c.Trend.Trend),
			fmtNum(c.Trend.Z), fmtNum(c.Trend.P), fmtNum(c.Trend.Tau), lastZ, lastP})
	}
	s.flushCSV(r, cw)
}

func emergingRecord(res *hotspot.EmergingResult) arrow.RecordBatch {
	md := arrow.NewMetadata([]string{"snapshot", "res", "k", "interval", "steps", "alpha"},
		[]string{strconv.FormatUint(res.Snapshot, 10), strconv.Itoa(res.Res), strconv.Itoa(res.K), string(res.Interval),
			strconv.Itoa(len(res.Steps)), strconv.FormatFloat(res.Alpha, 'g', -1, 64)})
	f64 := arrow.PrimitiveTypes.Float64
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "h3", Type: arrow.PrimitiveTypes.Uint64},
		{Name: "h3_hex", Type: arrow.BinaryTypes.String},
		{Name: "category", Type: arrow.BinaryTypes.String},
		{Name: "count", Type: arrow.PrimitiveTypes.Int64},
		{Name: "hot_steps", Type: arrow.PrimitiveTypes.Int32},
		{Name: "cold_steps", Type: arrow.PrimitiveTypes.Int32},
		{Name: "trend", Type: arrow.PrimitiveTypes.Int8},
		{Name: "mk_z", Type: f64, Nullable: true},
		{Name: "mk_p", Type: f64, Nullable: true},
		{Name: "tau", Type: f64, Nullable: true},
		{Name: "counts", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)},
		{Name: "z", Type: arrow.ListOf(f64)},
	}, &md)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range res.Cells {
		c := &res.Cells[i]
		b.Field(0).(*array.Uint64Builder).Append(c.Cell)
		b.Field(1).(*array.StringBuilder).Append(cellHex(c.Cell))
		b.Field(2).(*array.StringBuilder).Append(string(c.Category))
		b.Field(3).(*array.Int64Builder).Append(c.Count)
		b.Field(4).(*array.Int32Builder).Append(int32(c.HotSteps))
		b.Field(5).(*array.Int32Builder).Append(int32(c.ColdSteps))
		b.Field(6).(*array.Int8Builder).Append(int8(c.Trend.Trend))
		appendNum(b.Field(7).(*array.Float64Builder), c.Trend.Z)
		appendNum(b.Field(8).(*array.Float64Builder), c.Trend.P)
		appendNum(b.Field(9).(*array.Float64Builder), c.Trend.Tau)
		lb := b.Field(10).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.Int64Builder).AppendValues(c.Counts, nil)
		zb := b.Field(11).(*array.ListBuilder)
		zb.Append(true)
		for _, z := range c.Z {
			appendNum(zb.ValueBuilder().(*array.Float64Builder), z)
		}
	}
	return b.NewRecordBatch()
}
