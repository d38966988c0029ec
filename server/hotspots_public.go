package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/analytics/hotspot"
	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb/geojson"
)

// The public view of the hot spot endpoints: the same statistics computed
// from published (perturbed) counts of the public lattice, over the fixed
// H3 cells of a unit (disclose.UnitCells); only bins, clusters and
// emerging categories are published with the counts' intervals, never z,
// p or exact counts, and refusals never state counts.

// errPublicNotMeaningful replaces a refusal whose message may state counts.
func errPublicNotMeaningful(err error) error {
	if errors.Is(err, hotspot.ErrNotMeaningful) || errors.Is(err, hotspot.ErrTooFew) {
		return fmt.Errorf("%w: the published counts of the study area show no pattern to test (too few events or cells, or no variation); use a wider period, a bigger unit or a coarser resolution", hotspot.ErrNotMeaningful)
	}
	return err
}

// publicCellCounts returns the fixed public cells of unit at res and the
// published counts of each for period p and filter f.
func (s *Server) publicCellCounts(ctx context.Context, snap *analytics.Snapshot, unit string, res int, p analytics.Period, f analytics.Filter) ([]uint64, []disclose.Published, error) {
	if unit == "" {
		return nil, nil, &ParamError{Param: "unit", Allowed: "a region, district or mahalla code: the study area (the public view has no bbox)"}
	}
	if _, _, ok := snap.Unit(unit); !ok {
		return nil, nil, fmt.Errorf("unit %q: %w", unit, analytics.ErrUnknownUnit)
	}
	cells, err := s.disclose.UnitCells(ctx, unit, res)
	if err != nil {
		return nil, nil, err
	}
	if len(cells) > hotspot.MaxCells {
		return nil, nil, fmt.Errorf("%w: the study area has %d H3 cells at res %d (at most %d): use a coarser resolution or a smaller unit", hotspot.ErrNotMeaningful, len(cells), res, hotspot.MaxCells)
	}
	pubs, err := s.disclose.Cells(ctx, snap, res, p, f, cells, s.cfg.Now())
	return cells, pubs, err
}

func perturbed(pubs []disclose.Published) []int64 {
	out := make([]int64, len(pubs))
	for i, p := range pubs {
		out[i] = p.Value
	}
	return out
}

// publicHotCell is one cell of a public hot spot answer.
type publicHotCell struct {
	H3  string  `json:"h3"`
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
	countJSON
	Bin      *int8  `json:"bin,omitempty"`
	Category string `json:"category,omitempty"`
}

// publicHotspotsResponse is the public JSON of /v1/hotspots and
// /v1/hotspots/emerging.
type publicHotspotsResponse struct {
	Snapshot   uint64          `json:"snapshot"`
	Period     periodJSON      `json:"period"`
	Res        int             `json:"res"`
	K          int             `json:"k"`
	Unit       string          `json:"unit"`
	Disclosure viewJSON        `json:"disclosure"`
	Statistic  string          `json:"statistic"`
	Cells      []publicHotCell `json:"cells"`
	Notice     string          `json:"notice,omitempty"`
}

func (s *Server) publicHotspots(w http.ResponseWriter, r *http.Request, format string, snap *analytics.Snapshot, hq hotspot.HexQuery) error {
	if hq.Res > disclose.MaxRes {
		return fmt.Errorf("res %d: public hot spots go down to res %d; an analyst token unlocks finer ones: %w", hq.Res, disclose.MaxRes, disclose.ErrNotPublic)
	}
	if err := s.disclose.CheckPeriod(hq.Period, s.cfg.Now()); err != nil {
		return err
	}
	if _, err := s.disclose.CheckFilter(hq.Filter); err != nil {
		return err
	}
	k := hq.K
	if k == 0 {
		k = hotspot.DefaultK(hq.Res)
	}
	cells, pubs, err := s.publicCellCounts(r.Context(), snap, hq.Filter.Unit, hq.Res, hq.Period, hq.Filter)
	if err != nil {
		return hotspotError(err, "unit", hq.Filter.Unit)
	}
	hc, err := hotspot.GiStarCells(r.Context(), cells, perturbed(pubs), k)
	if err != nil {
		return errPublicNotMeaningful(hotspotError(err, "unit", hq.Filter.Unit))
	}
	out := publicHotspotsResponse{Snapshot: snap.Version(), Period: toPeriodJSON(hq.Period), Res: hq.Res, K: k, Unit: hq.Filter.Unit,
		Disclosure: s.view(w, false), Notice: s.cfg.Notice,
		Statistic: "Getis-Ord Gi* with Benjamini-Hochberg FDR bins (-3..+3) of the published counts of the unit's H3 cells; z and p need an analyst token"}
	for i, c := range hc {
		lat, lon := geo.CellToLatLng(c.Cell)
		b := c.Bin
		out.Cells = append(out.Cells, publicHotCell{H3: cellHex(c.Cell), Lat: lat, Lon: lon, countJSON: toCountJSON(pubs[i].Count()), Bin: &b})
	}
	s.setSnapshotHeader(w, snap.Version())
	return s.writePublicHot(w, r, format, &out)
}

func (s *Server) publicEmerging(w http.ResponseWriter, r *http.Request, format string, snap *analytics.Snapshot, eq hotspot.EmergingQuery) error {
	if eq.Res > disclose.MaxRes {
		return fmt.Errorf("res %d: public hot spots go down to res %d; an analyst token unlocks finer ones: %w", eq.Res, disclose.MaxRes, disclose.ErrNotPublic)
	}
	if _, err := s.disclose.CheckFilter(eq.Filter); err != nil {
		return err
	}
	steps, err := hotspot.EmergingSteps(eq.Interval, eq.Steps, eq.End, s.cfg.Location)
	if err != nil {
		return hotspotError(err, "periods", strconv.Itoa(eq.Steps))
	}
	k := eq.K
	if k == 0 {
		k = hotspot.DefaultK(eq.Res)
	}
	var cells []uint64
	counts := make([][]int64, len(steps))
	var last []disclose.Published
	var lastP analytics.Period
	for i, st := range steps {
		per, err := analytics.ParsePeriod(stepLabel(st, eq.Interval, s.cfg.Location), s.cfg.Location)
		if err != nil {
			return err
		}
		if err := s.disclose.CheckPeriod(per, s.cfg.Now()); err != nil {
			return err
		}
		cs, pubs, err := s.publicCellCounts(r.Context(), snap, eq.Filter.Unit, eq.Res, per, eq.Filter)
		if err != nil {
			return hotspotError(err, "unit", eq.Filter.Unit)
		}
		cells, counts[i], last, lastP = cs, perturbed(pubs), pubs, per
	}
	alpha := eq.Alpha
	if alpha == 0 {
		alpha = hotspot.DefaultAlpha
	}
	ec, err := hotspot.EmergingCells(r.Context(), cells, counts, k, alpha)
	if err != nil {
		return errPublicNotMeaningful(hotspotError(err, "unit", eq.Filter.Unit))
	}
	out := publicHotspotsResponse{Snapshot: snap.Version(), Period: toPeriodJSON(lastP), Res: eq.Res, K: k, Unit: eq.Filter.Unit,
		Disclosure: s.view(w, false), Notice: s.cfg.Notice,
		Statistic: fmt.Sprintf("emerging hot spot categories (space-time Gi* and Mann-Kendall) of the published counts of %d %s steps; counts are the last step's", len(steps), eq.Interval)}
	for i, c := range ec {
		lat, lon := geo.CellToLatLng(c.Cell)
		out.Cells = append(out.Cells, publicHotCell{H3: cellHex(c.Cell), Lat: lat, Lon: lon, countJSON: toCountJSON(last[i].Count()), Category: string(c.Category)})
	}
	s.setSnapshotHeader(w, snap.Version())
	return s.writePublicHot(w, r, format, &out)
}

// writePublicHot writes a public hot spot answer in format.
func (s *Server) writePublicHot(w http.ResponseWriter, r *http.Request, format string, out *publicHotspotsResponse) error {
	switch format {
	case "csv":
		cw := s.csvWriter(w, "hotspots-"+out.Period.Label)
		_ = cw.Write([]string{"snapshot", "period", "res", "k", "h3", "lat", "lon", "count", "count_lo", "count_hi", "bin", "category"})
		for _, c := range out.Cells {
			bin := ""
			if c.Bin != nil {
				bin = strconv.Itoa(int(*c.Bin))
			}
			_ = cw.Write([]string{strconv.FormatUint(out.Snapshot, 10), out.Period.Label, strconv.Itoa(out.Res), strconv.Itoa(out.K), c.H3,
				strconv.FormatFloat(c.Lat, 'f', 6, 64), strconv.FormatFloat(c.Lon, 'f', 6, 64),
				fmtInt(c.Count), strconv.FormatInt(c.CountLo, 10), strconv.FormatInt(c.CountHi, 10), bin, c.Category})
		}
		s.flushCSV(r, cw)
	case "arrow":
		md := arrow.NewMetadata([]string{"snapshot", "period", "res", "view"}, []string{strconv.FormatUint(out.Snapshot, 10), out.Period.Label, strconv.Itoa(out.Res), viewPublic})
		fields := append([]arrow.Field{{Name: "h3_hex", Type: arrow.BinaryTypes.String}}, countFields("count")...)
		fields = append(fields, arrow.Field{Name: "bin", Type: arrow.PrimitiveTypes.Int8, Nullable: true}, arrow.Field{Name: "category", Type: arrow.BinaryTypes.String})
		b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, &md))
		defer b.Release()
		for _, c := range out.Cells {
			b.Field(0).(*array.StringBuilder).Append(c.H3)
			n := int64(0)
			if c.Count != nil {
				n = *c.Count
			}
			appendInt(b.Field(1).(*array.Int64Builder), n, c.Count != nil)
			b.Field(2).(*array.Int64Builder).Append(c.CountLo)
			b.Field(3).(*array.Int64Builder).Append(c.CountHi)
			if c.Bin != nil {
				b.Field(4).(*array.Int8Builder).Append(*c.Bin)
			} else {
				b.Field(4).AppendNull()
			}
			b.Field(5).(*array.StringBuilder).Append(c.Category)
		}
		s.writeArrow(w, r, b.NewRecordBatch())
	case "geojson":
		fc := geojson.NewFeatureCollection()
		for _, c := range out.Cells {
			cell, _ := strconv.ParseUint(c.H3, 16, 64)
			ft := cellFeature(cell)
			n, bd := int64(0), analytics.Bounds{Lo: c.CountLo, Hi: c.CountHi, Withheld: c.Count == nil}
			if c.Count != nil {
				n = *c.Count
			}
			countProps(ft.Properties, "count", n, bd)
			if c.Bin != nil {
				ft.Properties["bin"] = *c.Bin
			}
			if c.Category != "" {
				ft.Properties["category"] = c.Category
			}
			fc.Append(ft)
		}
		fc.ExtraMembers = geojson.Properties{"snapshot": out.Snapshot, "period": out.Period.Label, "res": out.Res, "k": out.K,
			"unit": out.Unit, "disclosure": out.Disclosure, "statistic": out.Statistic}
		withNotice(fc.ExtraMembers, out.Notice)
		s.writeGeoJSON(w, r, fc)
	default:
		s.writeJSON(w, r, http.StatusOK, out)
	}
	return nil
}

// publicMahallaRow is one mahalla of a public mahalla hot spot answer.
type publicMahallaRow struct {
	Code string `json:"code"`
	Name string `json:"name"`
	countJSON
	Bin     int8   `json:"bin"`
	Cluster string `json:"cluster"`
}

type publicMahallaResponse struct {
	Snapshot   uint64             `json:"snapshot"`
	Period     periodJSON         `json:"period"`
	Unit       string             `json:"unit"`
	Rate       bool               `json:"rate"`
	Disclosure viewJSON           `json:"disclosure"`
	Statistic  string             `json:"statistic"`
	Rows       []publicMahallaRow `json:"rows"`
	Excluded   []hotspot.Excluded `json:"excluded"`
	Notice     string             `json:"notice,omitempty"`
}

// publicMahallaHotspots runs the mahalla Gi* and local Moran on the
// published mahalla counts (their perturbed values) and publishes bins and
// clusters with the counts' intervals.
func (s *Server) publicMahallaHotspots(w http.ResponseWriter, r *http.Request, format string, snap *analytics.Snapshot, mq hotspot.MahallaQuery) error {
	now := s.cfg.Now()
	pub := map[string]analytics.StatsRow{}
	mq.Stats = func(q analytics.StatsQuery) (analytics.StatsResult, error) {
		res, err := s.disclose.Stats(r.Context(), snap, q, now)
		if err != nil {
			return res, err
		}
		for i := range res.Rows {
			row := &res.Rows[i]
			pub[row.Unit] = *row
			// The analysis runs on the perturbed value of every mahalla
			// (withheld ones included: their interval reveals it anyway).
			row.Count = s.disclose.Perturbed(row.Bounds)
			row.Rate = analytics.RatePer1000(row.Count, row.Population)
		}
		return res, nil
	}
	res, err := hotspot.MahallaHotspots(r.Context(), snap, mq)
	if err != nil {
		return errPublicNotMeaningful(hotspotError(err, "unit", mq.Filter.Unit))
	}
	out := publicMahallaResponse{Snapshot: snap.Version(), Period: toPeriodJSON(mq.Period), Unit: mq.Filter.Unit, Rate: mq.Rate,
		Disclosure: s.view(w, false), Excluded: res.Excluded, Notice: s.cfg.Notice,
		Statistic: "Getis-Ord Gi* FDR bins and local Moran clusters (HH, LL, HL, LH) of the published mahalla counts; z, p and I need an analyst token"}
	if out.Excluded == nil {
		out.Excluded = []hotspot.Excluded{}
	}
	for _, row := range res.Rows {
		p := pub[row.Code]
		out.Rows = append(out.Rows, publicMahallaRow{Code: row.Code, Name: row.Name, countJSON: toCountJSON(p.Count, p.Bounds), Bin: row.Bin, Cluster: row.Cluster})
	}
	s.setSnapshotHeader(w, snap.Version())
	switch format {
	case "csv":
		cw := s.csvWriter(w, "mahalla-hotspots-"+mq.Period.Label)
		_ = cw.Write([]string{"snapshot", "period", "unit", "mahalla", "name", "count", "count_lo", "count_hi", "bin", "cluster"})
		for _, row := range out.Rows {
			_ = cw.Write([]string{strconv.FormatUint(out.Snapshot, 10), out.Period.Label, out.Unit, row.Code, row.Name,
				fmtInt(row.Count), strconv.FormatInt(row.CountLo, 10), strconv.FormatInt(row.CountHi, 10), strconv.Itoa(int(row.Bin)), row.Cluster})
		}
		s.flushCSV(r, cw)
	case "geojson":
		fc := geojson.NewFeatureCollection()
		for _, row := range out.Rows {
			ft := geojson.NewFeature(mq.Boundaries[row.Code])
			ft.ID = row.Code
			ft.Properties["code"], ft.Properties["name"] = row.Code, row.Name
			p := pub[row.Code]
			countProps(ft.Properties, "count", p.Count, p.Bounds)
			ft.Properties["bin"], ft.Properties["cluster"] = row.Bin, row.Cluster
			fc.Append(ft)
		}
		fc.ExtraMembers = geojson.Properties{"snapshot": out.Snapshot, "period": out.Period.Label, "unit": out.Unit, "disclosure": out.Disclosure, "statistic": out.Statistic}
		withNotice(fc.ExtraMembers, out.Notice)
		s.writeGeoJSON(w, r, fc)
	case "arrow":
		md := arrow.NewMetadata([]string{"snapshot", "period", "unit", "view"}, []string{strconv.FormatUint(out.Snapshot, 10), out.Period.Label, out.Unit, viewPublic})
		fields := append([]arrow.Field{{Name: "mahalla", Type: arrow.BinaryTypes.String}, {Name: "name", Type: arrow.BinaryTypes.String}}, countFields("count")...)
		fields = append(fields, arrow.Field{Name: "bin", Type: arrow.PrimitiveTypes.Int8}, arrow.Field{Name: "cluster", Type: arrow.BinaryTypes.String})
		b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, &md))
		defer b.Release()
		for _, row := range out.Rows {
			b.Field(0).(*array.StringBuilder).Append(row.Code)
			b.Field(1).(*array.StringBuilder).Append(row.Name)
			p := pub[row.Code]
			appendCount(b, 2, p.Count, p.Bounds)
			b.Field(5).(*array.Int8Builder).Append(row.Bin)
			b.Field(6).(*array.StringBuilder).Append(row.Cluster)
		}
		s.writeArrow(w, r, b.NewRecordBatch())
	default:
		s.writeJSON(w, r, http.StatusOK, out)
	}
	return nil
}
