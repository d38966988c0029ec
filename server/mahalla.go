package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/analytics/hotspot"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// The "my mahalla" profile of the citizen app: one request answers who the
// mahalla is, its category with reasons, its numbers with comparisons, its
// hot spots and a year of monthly counts.

// profileSeriesMonths is the length of the profile's monthly series.
const profileSeriesMonths = 12

type profileClassificationJSON struct {
	Run    runMetaJSON     `json:"run"`
	Result classify.Result `json:"result"`
}

type profileStatsJSON struct {
	countJSON
	// Population and its year are what Rate used (the period's start
	// year, else the nearest year with a figure).
	Population     *int64          `json:"population"`
	PopulationYear *int            `json:"population_year"`
	Rate           *float64        `json:"rate_per_1000"`
	Previous       *comparisonJSON `json:"previous"`
	LastYear       *comparisonJSON `json:"last_year"`
	// ByKind: crime, accident, offence, each with its comparisons.
	ByKind []statsRowJSON `json:"by_kind"`
}

type profileHotspotJSON struct {
	Cell string `json:"h3"`
	countJSON
	// Z and P are null in the public view.
	Z   *float64 `json:"z"`
	P   *float64 `json:"p"`
	Bin int8     `json:"bin"`
}

type profileHotspotsJSON struct {
	// Res and K of the district's Gi* (cells of the mahalla: centre inside
	// its boundary); MinBin is the lowest bin listed (2: 95% confidence).
	Res    int                  `json:"res"`
	K      int                  `json:"k"`
	MinBin int                  `json:"min_bin"`
	Cells  []profileHotspotJSON `json:"cells"`
	// Note says why there are no cells when the analysis was skipped.
	Note string `json:"note,omitempty"`
}

type profileSeriesPointJSON struct {
	Month string `json:"month"` // 2025-07
	countJSON
}

type profileJSON struct {
	Snapshot       uint64                     `json:"snapshot"`
	Disclosure     viewJSON                   `json:"disclosure"`
	Unit           unitJSON                   `json:"unit"`
	District       *unitJSON                  `json:"district"`
	Period         periodJSON                 `json:"period"`
	Classification *profileClassificationJSON `json:"classification"`
	Stats          profileStatsJSON           `json:"stats"`
	Hotspots       profileHotspotsJSON        `json:"hotspots"`
	Series         []profileSeriesPointJSON   `json:"series"`
	Notice         string                     `json:"notice,omitempty"`
}

// profileHotspotMinBin: hot spot cells listed in the profile (95%+).
const profileHotspotMinBin = 2

func (s *Server) handleMahallaProfile(w http.ResponseWriter, r *http.Request) error {
	code := chi.URLParam(r, "code")
	q := s.query(r)
	per, _, err := q.period(true)
	if err != nil {
		return err
	}
	exact, err := s.exactFor(r.Context(), code)
	if err != nil {
		return err
	}
	defRes := 9
	if !exact {
		if err := s.disclose.CheckPeriod(per, s.cfg.Now()); err != nil {
			return err
		}
		defRes = disclose.MaxRes
	}
	res, err := q.intRange("res", defRes, analytics.MinHexbinRes, analytics.MaxHexbinRes)
	if err != nil {
		return err
	}
	if !exact && res > disclose.MaxRes {
		return fmt.Errorf("res %d: public hot spots go down to res %d; an analyst token unlocks finer ones: %w", res, disclose.MaxRes, disclose.ErrNotPublic)
	}
	if s.cfg.Store == nil {
		return fmt.Errorf("mahalla %q: no store: %w", code, errUnavailable)
	}
	u, err := s.cfg.Store.Unit(r.Context(), code)
	if err != nil {
		return fmt.Errorf("mahalla %q: %w", code, err)
	}
	if u.Level != geo.LevelMahalla {
		return &ParamError{Param: "code", Value: code, Allowed: "a mahalla code (this is a " + string(u.Level) + ")"}
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	view := s.view(w, exact)
	out := profileJSON{Snapshot: snap.Version(), Disclosure: view, Unit: toUnitJSON(&u), Period: toPeriodJSON(per), Notice: s.cfg.Notice}
	var district geo.Unit
	if u.ParentCode != "" {
		if district, err = s.cfg.Store.Unit(r.Context(), u.ParentCode); err == nil {
			dj := toUnitJSON(&district)
			out.District = &dj
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("district of mahalla %s: %w", code, err)
		}
	}

	// Category with reasons from the latest run of the period.
	if rs, ok := s.cfg.Store.(store.RunStore); ok {
		run, err := rs.LatestRun(r.Context(), per.Label)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return fmt.Errorf("classification of %s: %w", per.Label, err)
		default:
			for i := range run.Results {
				if run.Results[i].Mahalla == code {
					res := run.Results[i]
					if !exact {
						res = publicResult(res)
					}
					out.Classification = &profileClassificationJSON{Run: toRunMetaJSON(&run), Result: res}
					break
				}
			}
		}
	}

	// The period's numbers with both comparisons, in total and by kind.
	for _, group := range []analytics.Dimension{analytics.DimNone, analytics.DimKind} {
		sq := analytics.StatsQuery{Period: per, Level: geo.LevelMahalla, Filter: analytics.Filter{Unit: code},
			Group: group, ComparePrevious: true, CompareLastYear: true}
		var st analytics.StatsResult
		if exact {
			st, err = snap.Stats(sq)
		} else {
			st, err = s.disclose.Stats(r.Context(), snap, sq, s.cfg.Now())
		}
		if err != nil {
			return analyticsError(err, "code", code)
		}
		rows := statsJSON(&st, view, "").Rows
		if group == analytics.DimKind {
			out.Stats.ByKind = rows
			continue
		}
		for _, row := range rows {
			if row.Unit == code {
				out.Stats.countJSON, out.Stats.Rate, out.Stats.Previous, out.Stats.LastYear = row.countJSON, row.Rate, row.Previous, row.LastYear
				out.Stats.Population, out.Stats.PopulationYear = row.Population, row.PopulationYear
			}
		}
	}

	// The hot cells come from a Gi* over the district: heavy work,
	// memoised per district and admitted as such on a miss. When admission
	// turns it away the profile still answers, without hot cells: a note
	// says why, Retry-After when, and the answer is not to be cached.
	if exact {
		out.Hotspots, err = s.profileHotspots(r, snap, per, res, &u, &district)
	} else {
		out.Hotspots, err = s.publicProfileHotspots(r, snap, per, res, &u, &district)
	}
	var refused *RefusedError
	switch {
	case errors.As(err, &refused):
		out.Hotspots = profileHotspotsJSON{Res: res, MinBin: profileHotspotMinBin, Cells: []profileHotspotJSON{},
			Note: "no hot spot analysis now: " + refused.Error()}
		w.Header().Set("Retry-After", refused.retryAfter())
		w.Header().Set("Cache-Control", "no-store")
	case errors.Is(err, ErrTooLarge):
		out.Hotspots = profileHotspotsJSON{Res: res, MinBin: profileHotspotMinBin, Cells: []profileHotspotJSON{},
			Note: "no hot spot analysis: " + err.Error()}
	case err != nil:
		return err
	}

	// Twelve months ending with the period (its last month included).
	end := analytics.IntervalStart(per.To, analytics.IntervalMonth, s.cfg.Location)
	if end.Before(per.To) {
		end = analytics.NextInterval(end, analytics.IntervalMonth)
	}
	from := end.In(s.cfg.Location).AddDate(0, -profileSeriesMonths, 0)
	from = analytics.IntervalStart(from, analytics.IntervalMonth, s.cfg.Location)
	var series analytics.SeriesResult
	if exact {
		series, err = snap.Series(analytics.SeriesQuery{Interval: analytics.IntervalMonth, From: from, To: end, Filter: analytics.Filter{Unit: code}})
	} else {
		series, err = s.publicMonths(r, snap, from, end, code)
	}
	if err != nil {
		return analyticsError(err, "code", code)
	}
	out.Series = make([]profileSeriesPointJSON, len(series.Points))
	for i, p := range series.Points {
		out.Series[i] = profileSeriesPointJSON{Month: p.Start.In(s.cfg.Location).Format("2006-01"), countJSON: toCountJSON(p.Count, p.Bounds)}
	}
	s.setSnapshotHeader(w, snap.Version())
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// profileHotspots runs Gi* over the H3 cells of the mahalla's district and
// keeps the hot spot cells (bin >= 2) whose centre lies in the mahalla. A
// mahalla is too small for a Gi* of its own (a few cells): the district
// gives the neighbourhood and the comparison. It is skipped, with a note,
// when a boundary is missing or the analysis would not be meaningful.
func (s *Server) profileHotspots(r *http.Request, snap *analytics.Snapshot, per analytics.Period, res int, m, district *geo.Unit) (profileHotspotsJSON, error) {
	out := profileHotspotsJSON{Res: res, MinBin: profileHotspotMinBin, Cells: []profileHotspotJSON{}}
	switch {
	case len(m.Geometry) == 0:
		out.Note = "the mahalla has no boundary"
		return out, nil
	case district.Code == "" || len(district.Geometry) == 0:
		out.Note = "the mahalla's district has no boundary"
		return out, nil
	}
	v, err := s.districts.get(r.Context(), s, r, memoKey(snap, true, district.Code, per, res), hexCost(areaKm2(district.Geometry, nil), res, 0),
		func(ctx context.Context) (any, error) {
			hr, err := hotspot.HexHotspots(ctx, snap, hotspot.HexQuery{Res: res, Period: per, Filter: analytics.Filter{Unit: district.Code}, Area: district.Geometry})
			if errors.Is(err, hotspot.ErrNotMeaningful) || errors.Is(err, hotspot.ErrTooFew) {
				return districtHot{note: "no hot spot analysis: " + err.Error()}, nil // an outcome: memoised
			}
			return districtHot{hr: hr}, err
		})
	if err != nil {
		return out, err
	}
	dh := v.(districtHot)
	if dh.note != "" {
		out.Note = dh.note
		return out, nil
	}
	hr := dh.hr
	out.K = hr.K
	in := centreIn(m.Geometry)
	for _, c := range hr.Cells {
		if c.Bin < profileHotspotMinBin || !in(c.Cell) {
			continue
		}
		out.Cells = append(out.Cells, profileHotspotJSON{Cell: fmt.Sprintf("%x", c.Cell), countJSON: toCountJSON(c.Count, analytics.Bounds{}), Z: num(c.Z), P: num(c.P), Bin: c.Bin})
	}
	return out, nil
}

// publicProfileHotspots is profileHotspots in the public view: Gi* of the
// published counts of the district's fixed cells; bins and intervals only.
func (s *Server) publicProfileHotspots(r *http.Request, snap *analytics.Snapshot, per analytics.Period, res int, m, district *geo.Unit) (profileHotspotsJSON, error) {
	out := profileHotspotsJSON{Res: res, MinBin: profileHotspotMinBin, Cells: []profileHotspotJSON{}}
	if len(m.Geometry) == 0 || district.Code == "" {
		out.Note = "the mahalla or its district has no boundary"
		return out, nil
	}
	out.K = hotspot.DefaultK(res)
	v, err := s.districts.get(r.Context(), s, r, memoKey(snap, false, district.Code, per, res), hexCost(areaKm2(district.Geometry, nil), res, 0),
		func(ctx context.Context) (any, error) {
			cells, pubs, err := s.publicCellCounts(ctx, snap, district.Code, res, per, analytics.Filter{})
			if err == nil {
				var hc []hotspot.HexCell
				if hc, err = hotspot.GiStarCells(ctx, cells, perturbed(pubs), out.K); err == nil {
					return districtHot{cells: hc, pubs: pubs}, nil
				}
			}
			if ctx.Err() != nil {
				return nil, err
			}
			return districtHot{note: "no hot spot analysis: " + errPublicNotMeaningful(err).Error()}, nil
		})
	if err != nil {
		return out, err
	}
	dh := v.(districtHot)
	if dh.note != "" {
		out.Note = dh.note
		return out, nil
	}
	in := centreIn(m.Geometry)
	for i, c := range dh.cells {
		if c.Bin < profileHotspotMinBin || !in(c.Cell) {
			continue
		}
		out.Cells = append(out.Cells, profileHotspotJSON{Cell: fmt.Sprintf("%x", c.Cell), countJSON: toCountJSON(dh.pubs[i].Count()), Bin: c.Bin})
	}
	return out, nil
}

// centreIn reports whether an H3 cell's centre lies in geom: the cells of
// a district analysis that belong to one mahalla's profile.
func centreIn(geom orb.MultiPolygon) func(cell uint64) bool {
	bound := geom.Bound()
	return func(cell uint64) bool {
		lat, lon := geo.CellToLatLng(cell)
		pt := orb.Point{lon, lat}
		return bound.Contains(pt) && planar.MultiPolygonContains(geom, pt)
	}
}

// districtHot is a memoised district analysis behind mahalla profiles:
// the exact Gi* result, or the public cells with their published counts,
// or the note saying why there is none.
type districtHot struct {
	hr    hotspot.HexResult
	cells []hotspot.HexCell
	pubs  []disclose.Published
	note  string
}

// publicMonths is the public monthly series of unit over [from, to)
// (whole months), asked calendar year by calendar year.
func (s *Server) publicMonths(r *http.Request, snap *analytics.Snapshot, from, to time.Time, unit string) (analytics.SeriesResult, error) {
	var out analytics.SeriesResult
	for y := from.In(s.cfg.Location).Year(); y <= to.Add(-time.Second).In(s.cfg.Location).Year(); y++ {
		yp, err := analytics.ParsePeriod(strconv.Itoa(y), s.cfg.Location)
		if err != nil {
			return out, err
		}
		// Only the closed months of a running year are public.
		months, err := disclose.SubPeriods(yp, analytics.IntervalMonth)
		if err != nil {
			return out, err
		}
		for _, mp := range months {
			if mp.From.Before(from) || !mp.To.After(from) || mp.From.After(to) || !mp.From.Before(to) {
				continue
			}
			sr, err := s.disclose.Series(r.Context(), snap, analytics.IntervalMonth, mp, analytics.Filter{Unit: unit}, s.cfg.Now())
			if err != nil {
				return out, err
			}
			out.Snapshot = sr.Snapshot
			out.Points = append(out.Points, sr.Points...)
		}
	}
	out.Interval = analytics.IntervalMonth
	return out, nil
}
