package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
)

// Snapshots gives the current analytics snapshot (analytics.Live).
type Snapshots interface {
	Current() *analytics.Snapshot
}

// errNoSnapshot: the service is still building its first snapshot.
var errNoSnapshot = fmt.Errorf("analytics snapshot not built yet: %w", errUnavailable)

func (s *Server) snapshot() (*analytics.Snapshot, error) {
	if s.cfg.Snapshots == nil {
		return nil, errNoSnapshot
	}
	snap := s.cfg.Snapshots.Current()
	if snap == nil {
		return nil, errNoSnapshot
	}
	return snap, nil
}

// list splits a comma-separated parameter; empty items are dropped.
func (q query) list(name string) []string {
	var out []string
	for _, v := range q.v[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// filter reads kind, category, severity, flag, unit and bbox.
func (q query) filter() (analytics.Filter, error) {
	var f analytics.Filter
	for _, k := range q.list("kind") {
		kind, err := analytics.ParseKind(k)
		if err != nil {
			return f, &ParamError{Param: "kind", Value: k, Allowed: "crime, accident, offence (comma-separated)"}
		}
		f.Kinds = append(f.Kinds, kind)
	}
	f.Categories = q.list("category")
	for _, v := range q.list("severity") {
		sev, err := analytics.ParseSeverity(v)
		if err != nil || sev == analytics.SeverityUnknown {
			return f, &ParamError{Param: "severity", Value: v, Allowed: "minor, medium, grave, especially_grave (comma-separated)"}
		}
		f.Severities = append(f.Severities, sev)
	}
	for _, v := range q.list("flag") {
		fl, err := analytics.ParseFlag(v)
		if err != nil {
			return f, &ParamError{Param: "flag", Value: v, Allowed: flagNames()}
		}
		f.Flags |= fl
	}
	f.Unit = q.str("unit")
	var err error
	if f.BBox, err = q.bbox("bbox"); err != nil {
		return f, err
	}
	return f, nil
}

func flagNames() string {
	names := make([]string, len(analytics.FlagNames))
	for i, f := range analytics.FlagNames {
		names[i] = f.Name
	}
	return strings.Join(names, ", ") + " (comma-separated; all must be set)"
}

// period reads period=2025-Q3 or from=&to= (dates inclusive).
func (q query) period(required bool) (analytics.Period, bool, error) {
	if p := q.str("period"); p != "" {
		if q.str("from") != "" || q.str("to") != "" {
			return analytics.Period{}, false, &ParamError{Param: "period", Value: p, Allowed: "either period or from/to, not both"}
		}
		if strings.EqualFold(p, "ytd") {
			// Year to date (through today in the service's zone); its
			// last_year comparison is last year's year to date.
			cur, _ := analytics.YearToDate(q.now(), q.loc)
			return cur, true, nil
		}
		per, err := analytics.ParsePeriod(p, q.loc)
		if err != nil {
			return per, false, &ParamError{Param: "period", Value: p, Allowed: "2025, 2025-H1, 2025-Q3, 2025-07, 2025-W28 or ytd", Err: err}
		}
		return per, true, nil
	}
	from, to := q.str("from"), q.str("to")
	if from == "" && to == "" {
		if required {
			return analytics.Period{}, false, &ParamError{Param: "period", Allowed: "2025, 2025-H1, 2025-Q3, 2025-07, 2025-W28, or from=YYYY-MM-DD&to=YYYY-MM-DD"}
		}
		return analytics.Period{}, false, nil
	}
	if from == "" || to == "" {
		missing := "from"
		if to == "" {
			missing = "to"
		}
		return analytics.Period{}, false, &ParamError{Param: missing, Allowed: "from and to together (YYYY-MM-DD, to inclusive)"}
	}
	per, err := analytics.ParseRange(from, to, q.loc)
	if err != nil {
		return per, false, &ParamError{Param: "from", Value: from + ".." + to, Allowed: "dates YYYY-MM-DD with from <= to (to inclusive) or RFC 3339 instants", Err: err}
	}
	return per, true, nil
}

var formatsTable = []string{"json", "csv", "arrow"}

// queryError maps the error of a snapshot query: an unknown unit to a 404
// naming unit (the code the query filtered on), a bad query to a 400
// naming param and its value. The two are distinct arguments: a query
// whose parameter at fault is not its unit (interval, res, ...) must still
// name the unit it did not find.
func queryError(err error, unit, param, value string) error {
	switch {
	case errors.Is(err, analytics.ErrUnknownUnit):
		// The message ends at ErrNotFound: what follows is the analytics'
		// own wording, logged only.
		return fmt.Errorf("unit %q: no region, district or mahalla has this code: %w: %w", unit, store.ErrNotFound, err)
	case errors.Is(err, analytics.ErrBadQuery):
		return &ParamError{Param: param, Value: value, Err: err}
	}
	return err
}

// analyticsError is queryError for a query whose parameter at fault is
// the unit itself (param names it: unit, or code in a path).
func analyticsError(err error, param, value string) error {
	return queryError(err, value, param, value)
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	format, err := q.oneOf("format", "json", "json", "csv", "arrow", "geojson")
	if err != nil {
		return err
	}
	level, err := q.oneOf("level", "mahalla", "region", "district", "mahalla")
	if err != nil {
		return err
	}
	group, err := q.oneOf("group", "", "kind", "category", "severity", "flag")
	if err != nil {
		return err
	}
	sq := analytics.StatsQuery{Level: geo.Level(level), Group: analytics.Dimension(group)}
	for _, c := range q.list("compare") {
		switch c {
		case "previous":
			sq.ComparePrevious = true
		case "last_year":
			sq.CompareLastYear = true
		default:
			return &ParamError{Param: "compare", Value: c, Allowed: "previous, last_year (comma-separated)"}
		}
	}
	if sq.Period, _, err = q.period(true); err != nil {
		return err
	}
	if sq.Filter, err = q.filter(); err != nil {
		return err
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	exact, err := s.exactFor(r.Context(), sq.Filter.Unit)
	if err != nil {
		return err
	}
	var res analytics.StatsResult
	if exact {
		res, err = snap.Stats(sq)
	} else {
		res, err = s.disclose.Stats(r.Context(), snap, sq, s.cfg.Now())
	}
	if err != nil {
		return analyticsError(err, "unit", sq.Filter.Unit)
	}
	s.setSnapshotHeader(w, res.Snapshot)
	view := s.view(w, exact)
	switch format {
	case "csv":
		s.writeStatsCSV(w, r, &res)
	case "arrow":
		s.writeArrow(w, r, statsRecord(&res))
	case "geojson":
		// The same rows (the same view) as every format, on the units'
		// polygons from the store.
		fc, err := s.statsGeoJSON(r.Context(), &res, view)
		if err != nil {
			return err
		}
		s.writeGeoJSON(w, r, fc)
	default:
		s.writeJSON(w, r, http.StatusOK, statsJSON(&res, view, s.cfg.Notice))
	}
	return nil
}

func (s *Server) handleSeries(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	format, err := q.oneOf("format", "json", formatsTable...)
	if err != nil {
		return err
	}
	ivName, err := q.oneOf("interval", "month", "day", "week", "month", "quarter")
	if err != nil {
		return err
	}
	per, ok, err := q.period(false)
	if err != nil {
		return err
	}
	if !ok {
		return &ParamError{Param: "from", Allowed: "from=YYYY-MM-DD&to=YYYY-MM-DD (to inclusive) or period=2025"}
	}
	sq := analytics.SeriesQuery{Interval: analytics.Interval(ivName), From: per.From, To: per.To}
	if sq.Filter, err = q.filter(); err != nil {
		return err
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	exact, err := s.exactFor(r.Context(), sq.Filter.Unit)
	if err != nil {
		return err
	}
	var res analytics.SeriesResult
	if exact {
		res, err = snap.Series(sq)
	} else {
		// The public series of a calendar period, point by point (each a
		// cell of the public lattice).
		res, err = s.disclose.Series(r.Context(), snap, sq.Interval, per, sq.Filter, s.cfg.Now())
	}
	if err != nil {
		return queryError(err, sq.Filter.Unit, "interval", ivName)
	}
	s.setSnapshotHeader(w, res.Snapshot)
	view := s.view(w, exact)
	switch format {
	case "csv":
		s.writeSeriesCSV(w, r, &res)
	case "arrow":
		s.writeArrow(w, r, seriesRecord(&res))
	default:
		s.writeJSON(w, r, http.StatusOK, seriesJSON(&res, s.cfg.Location, view, s.cfg.Notice))
	}
	return nil
}

func (s *Server) handleHexbins(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	format, err := q.oneOf("format", "json", "json", "csv", "arrow", "geojson")
	if err != nil {
		return err
	}
	res, err := q.intRange("res", 8, 5, 10)
	if err != nil {
		return err
	}
	hq := analytics.HexbinQuery{Res: res}
	if hq.Period, _, err = q.period(true); err != nil {
		return err
	}
	if hq.Filter, err = q.filter(); err != nil {
		return err
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	exact, err := s.exactFor(r.Context(), hq.Filter.Unit)
	if err != nil {
		return err
	}
	var out analytics.HexbinResult
	if exact {
		out, err = snap.Hexbins(hq)
	} else {
		out, err = s.disclose.Hexbins(r.Context(), snap, hq, s.cfg.Now())
	}
	if err != nil {
		return queryError(err, hq.Filter.Unit, "res", strconv.Itoa(res))
	}
	s.setSnapshotHeader(w, out.Snapshot)
	view := s.view(w, exact)
	switch format {
	case "csv":
		s.writeHexbinsCSV(w, r, &out)
	case "arrow":
		s.writeArrow(w, r, hexbinRecord(&out))
	case "geojson":
		s.writeGeoJSON(w, r, hexbinGeoJSON(&out, hq.Period, view, s.cfg.Notice))
	default:
		s.writeJSON(w, r, http.StatusOK, hexbinJSON(&out, hq.Period, view, s.cfg.Notice))
	}
	return nil
}

// setSnapshotHeader names the snapshot that answered, in every format.
func (s *Server) setSnapshotHeader(w http.ResponseWriter, v uint64) {
	w.Header().Set("X-Crimemap-Snapshot", strconv.FormatUint(v, 10))
}
