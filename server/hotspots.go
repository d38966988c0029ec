package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/hotspot"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/paulmach/orb"
)

// Hot spot endpoints: Gi* over H3 cells (/v1/hotspots), Gi* and local
// Moran over mahallas (/v1/hotspots/mahallas) and emerging hot spots over
// a space-time cube of H3 cells (/v1/hotspots/emerging). A refused
// analysis (too few events or areas, no variation, an area too large)
// answers 422 with what to change.

var formatsGeo = []string{"json", "csv", "arrow", "geojson"}

// hotspotError maps analysis errors: bad query parts to the parameter
// that carries them, unknown units to 404; ErrNotMeaningful and ErrTooFew
// stay (statusOf maps them to 422).
func hotspotError(err error, param, value string) error {
	if errors.Is(err, hotspot.ErrNotMeaningful) || errors.Is(err, hotspot.ErrTooFew) {
		return err
	}
	return analyticsError(err, param, value)
}

// boolParam reads true/false (also 1/0).
func (q query) boolParam(name string, def bool) (bool, error) {
	s := q.str(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, &ParamError{Param: name, Value: s, Allowed: "true or false"}
	}
	return v, nil
}

// studyArea reads the filter and checks it names a study area (unit or
// bbox); with a unit it loads the unit's boundary from the store.
func (s *Server) studyArea(ctx context.Context, q query) (analytics.Filter, orb.MultiPolygon, error) {
	f, err := q.filter()
	if err != nil {
		return f, nil, err
	}
	if f.Unit == "" && f.BBox == nil {
		return f, nil, &ParamError{Param: "unit", Allowed: "a region, district or mahalla code (or bbox=minLon,minLat,maxLon,maxLat): the study area"}
	}
	if f.Unit == "" {
		return f, nil, nil
	}
	if s.cfg.Store == nil {
		return f, nil, fmt.Errorf("unit boundaries: no store: %w", errUnavailable)
	}
	u, err := s.cfg.Store.Unit(ctx, f.Unit)
	if err != nil {
		return f, nil, fmt.Errorf("study area unit %q: %w", f.Unit, err)
	}
	return f, u.Geometry, nil
}

// kParam reads k (1..MaxK); 0 when absent (the default for the resolution).
func (q query) kParam() (int, error) {
	return q.intRange("k", 0, 1, hotspot.MaxK)
}

func (s *Server) handleHotspots(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	format, err := q.oneOf("format", "json", formatsGeo...)
	if err != nil {
		return err
	}
	hq := hotspot.HexQuery{}
	if hq.Res, err = q.intRange("res", 8, analytics.MinHexbinRes, analytics.MaxHexbinRes); err != nil {
		return err
	}
	if hq.K, err = q.kParam(); err != nil {
		return err
	}
	if hq.Period, _, err = q.period(true); err != nil {
		return err
	}
	if hq.Filter, hq.Area, err = s.studyArea(r.Context(), q); err != nil {
		return err
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	release, err := s.heavy(r, hexCost(areaKm2(hq.Area, hq.Filter.BBox), hq.Res, hq.K))
	if err != nil {
		return err
	}
	defer release()
	if exact, err := s.exactFor(r.Context(), hq.Filter.Unit); err != nil {
		return err
	} else if !exact {
		return s.publicHotspots(w, r, format, snap, hq)
	}
	s.view(w, true)
	res, err := hotspot.HexHotspots(r.Context(), snap, hq)
	if err != nil {
		return hotspotError(err, "unit", hq.Filter.Unit)
	}
	s.setSnapshotHeader(w, res.Snapshot)
	switch format {
	case "csv":
		s.writeHotspotsCSV(w, r, &res)
	case "arrow":
		s.writeArrow(w, r, hotspotsRecord(&res))
	case "geojson":
		s.writeGeoJSON(w, r, hotspotsGeoJSON(&res, hq.Filter, s.cfg.Notice))
	default:
		s.writeJSON(w, r, http.StatusOK, hotspotsJSON(&res, hq.Filter, s.cfg.Notice))
	}
	return nil
}

func (s *Server) handleMahallaHotspots(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	format, err := q.oneOf("format", "json", formatsGeo...)
	if err != nil {
		return err
	}
	mq := hotspot.MahallaQuery{}
	if mq.Rate, err = q.boolParam("rate", false); err != nil {
		return err
	}
	if mq.Permutations, err = q.intRange("permutations", hotspot.DefaultPermutations, 99, 9999); err != nil {
		return err
	}
	if v := q.str("seed"); v != "" {
		if mq.Seed, err = strconv.ParseUint(v, 10, 64); err != nil || mq.Seed == 0 {
			return &ParamError{Param: "seed", Value: v, Allowed: "a positive integer (default " + strconv.FormatUint(hotspot.DefaultSeed, 10) + ")"}
		}
	}
	if mq.Period, _, err = q.period(true); err != nil {
		return err
	}
	if mq.Filter, err = q.filter(); err != nil {
		return err
	}
	// No bbox here (openapi.json; checkQuery refuses it): the study area is
	// the unit's mahallas, and a box would read its outside as cold ones.
	mq.Filter.BBox = nil
	if mq.Filter.Unit == "" {
		return &ParamError{Param: "unit", Allowed: "a district or region code whose mahallas to analyse"}
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	_, u, ok := snap.Unit(mq.Filter.Unit)
	if !ok {
		return fmt.Errorf("unit %q: %w", mq.Filter.Unit, store.ErrNotFound)
	}
	if u.Level == geo.LevelMahalla {
		return &ParamError{Param: "unit", Value: mq.Filter.Unit, Allowed: "a district or region code (this is a mahalla)"}
	}
	uq := store.UnitQuery{Level: geo.LevelMahalla, WithGeometry: true}
	if u.Level == geo.LevelDistrict {
		uq.Parent = u.Code
	}
	if s.cfg.Store == nil {
		return fmt.Errorf("mahalla boundaries: no store: %w", errUnavailable)
	}
	ms, err := s.cfg.Store.Units(r.Context(), uq)
	if err != nil {
		return fmt.Errorf("mahalla boundaries of %s: %w", u.Code, err)
	}
	mq.Boundaries = make(map[string]orb.MultiPolygon, len(ms))
	for i := range ms {
		mq.Boundaries[ms[i].Code] = ms[i].Geometry
	}
	release, err := s.heavy(r, mahallaCost(len(ms), mq.Permutations))
	if err != nil {
		return err
	}
	defer release()
	if exact, err := s.exactFor(r.Context(), mq.Filter.Unit); err != nil {
		return err
	} else if !exact {
		if err := s.disclose.CheckPeriod(mq.Period, s.cfg.Now()); err != nil {
			return err
		}
		return s.publicMahallaHotspots(w, r, format, snap, mq)
	}
	s.view(w, true)
	res, err := hotspot.MahallaHotspots(r.Context(), snap, mq)
	if err != nil {
		return hotspotError(err, "unit", mq.Filter.Unit)
	}
	s.setSnapshotHeader(w, res.Snapshot)
	switch format {
	case "csv":
		s.writeMahallaHotspotsCSV(w, r, &res)
	case "arrow":
		s.writeArrow(w, r, mahallaHotspotsRecord(&res))
	case "geojson":
		s.writeGeoJSON(w, r, mahallaHotspotsGeoJSON(&res, mq.Boundaries, s.cfg.Notice))
	default:
		s.writeJSON(w, r, http.StatusOK, mahallaHotspotsJSON(&res, s.cfg.Notice))
	}
	return nil
}

func (s *Server) handleEmergingHotspots(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	format, err := q.oneOf("format", "json", formatsGeo...)
	if err != nil {
		return err
	}
	eq := hotspot.EmergingQuery{Location: s.cfg.Location}
	if eq.Res, err = q.intRange("res", 8, analytics.MinHexbinRes, analytics.MaxHexbinRes); err != nil {
		return err
	}
	if eq.K, err = q.kParam(); err != nil {
		return err
	}
	iv, err := q.oneOf("interval", "month", "month", "quarter")
	if err != nil {
		return err
	}
	eq.Interval = analytics.Interval(iv)
	if eq.Steps, err = q.intRange("periods", hotspot.DefaultSteps, hotspot.MinSteps, hotspot.MaxSteps); err != nil {
		return err
	}
	series, err := q.boolParam("series", false)
	if err != nil {
		return err
	}
	// period: the last step (default: the last full month or quarter).
	eq.End = analytics.IntervalStart(s.cfg.Now(), eq.Interval, s.cfg.Location)
	if p := q.str("period"); p != "" {
		per, err := analytics.ParsePeriod(p, s.cfg.Location)
		if err != nil {
			return &ParamError{Param: "period", Value: p, Allowed: "the last step, e.g. 2025-10 (month) or 2025-Q3 (quarter)", Err: err}
		}
		if !analytics.IntervalStart(per.To, eq.Interval, s.cfg.Location).Equal(per.To) {
			return &ParamError{Param: "period", Value: p, Allowed: "a period ending at the end of a " + iv + " (e.g. 2025-10 for months, 2025-Q3 for quarters)"}
		}
		eq.End = per.To
	}
	if eq.Filter, eq.Area, err = s.studyArea(r.Context(), q); err != nil {
		return err
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	steps := eq.Steps
	if steps <= 0 {
		steps = hotspot.DefaultSteps
	}
	release, err := s.heavy(r, emergingCost(areaKm2(eq.Area, eq.Filter.BBox), eq.Res, eq.K, steps))
	if err != nil {
		return err
	}
	defer release()
	if exact, err := s.exactFor(r.Context(), eq.Filter.Unit); err != nil {
		return err
	} else if !exact {
		return s.publicEmerging(w, r, format, snap, eq)
	}
	s.view(w, true)
	res, err := hotspot.EmergingHotspots(r.Context(), snap, eq)
	if err != nil {
		return hotspotError(err, "unit", eq.Filter.Unit)
	}
	s.setSnapshotHeader(w, res.Snapshot)
	switch format {
	case "csv":
		s.writeEmergingCSV(w, r, &res)
	case "arrow":
		s.writeArrow(w, r, emergingRecord(&res))
	case "geojson":
		s.writeGeoJSON(w, r, emergingGeoJSON(&res, eq.Filter, s.cfg.Location, s.cfg.Notice))
	default:
		s.writeJSON(w, r, http.StatusOK, emergingJSON(&res, eq.Filter, s.cfg.Location, series, s.cfg.Notice))
	}
	return nil
}

// num is a float for JSON: nil (null) for NaN and infinities, which JSON
// cannot carry (Gi* is undefined where a neighbourhood has no variance).
func num(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

// fmtNum formats a float for CSV ("" for NaN).
func fmtNum(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return strconv.FormatFloat(f, 'g', 8, 64)
}

// stepLabel names a step: 2025-07 for months, 2025-Q3 for quarters.
func stepLabel(st hotspot.Step, iv analytics.Interval, loc *time.Location) string {
	t := st.From.In(loc)
	if iv == analytics.IntervalQuarter {
		return fmt.Sprintf("%04d-Q%d", t.Year(), (int(t.Month())-1)/3+1)
	}
	return t.Format("2006-01")
}
