package server

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/crimemap/crimemap/i18n"
	"github.com/crimemap/crimemap/report"
	"github.com/crimemap/crimemap/store"
)

// reportPeriods are the periods a report covers.
const reportPeriods = "a closed month, quarter, half or year: 2025-09, 2025-Q3, 2025-H1 or 2025"

// reportBytes is the estimated memory of building one report (the figures,
// the document and its fonts): heavy work, admitted as such.
const reportBytes = 96 << 20

// handleReport answers GET /v1/reports: the periodic review of a territory
// as PDF or XLSX, for analysts (a territory-limited token only inside its
// territory). The document is built in memory and sent whole, so a failure
// never leaves a partial file with the client.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	if q.str("period") == "" { // a closed calendar period: no from/to here
		return &ParamError{Param: "period", Allowed: reportPeriods}
	}
	per, _, err := q.period(true)
	if err != nil {
		return err
	}
	unit := strings.TrimSpace(q.str("unit"))
	if unit == "" {
		return &ParamError{Param: "unit", Allowed: "the code of a region, district or mahalla"}
	}
	lang, err := i18n.Parse(cmp.Or(q.str("lang"), string(i18n.Uzbek)))
	if err != nil {
		return &ParamError{Param: "lang", Value: q.str("lang"), Allowed: i18n.Tags(), Err: err}
	}
	format, err := q.oneOf("format", "pdf", "pdf", "xlsx")
	if err != nil {
		return err
	}
	rateBase, err := q.intRange("rate_base", report.DefaultRateBase, 1, 10_000_000)
	if err != nil {
		return err
	}
	if exact, err := s.exactFor(r.Context(), unit); err != nil {
		return err
	} else if !exact {
		return fmt.Errorf("reports of %s need an analyst token for that territory: %w", unit, errForbidden)
	}
	if s.catalogues == nil {
		return fmt.Errorf("message catalogues: %w", errUnavailable)
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	release, err := s.heavy(r, cost{what: "a report", bytes: reportBytes, narrow: "ask for a smaller territory"})
	if err != nil {
		return err
	}
	defer release()
	rep, err := report.Build(r.Context(), snap, report.Options{Period: per, Unit: unit, Location: s.cfg.Location, Now: s.cfg.Now(), RateBase: float64(rateBase)})
	if err != nil {
		if errors.Is(err, report.ErrReport) {
			return &ParamError{Param: "period or unit", Value: per.Label + " " + unit, Allowed: "a closed month, quarter, half or year and a region, district or mahalla", Err: err}
		}
		return err
	}
	if s.cfg.Store != nil {
		if err := rep.AddNames(r.Context(), s.cfg.Store); err != nil {
			return err
		}
		if err := rep.AddLate(r.Context(), s.cfg.Store); err != nil {
			return err
		}
		if rs, ok := s.cfg.Store.(store.RunStore); ok {
			if err := rep.AddCategories(r.Context(), rs, snap); err != nil {
				return err
			}
		}
		if err := rep.AddMaps(r.Context(), s.cfg.Store, snap); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	l := report.Locale{C: s.catalogues, Lang: lang}
	ctype := "application/pdf"
	if format == "pdf" {
		err = report.WritePDF(&buf, rep, l)
	} else {
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		err = report.WriteXLSX(&buf, rep, l)
	}
	if err != nil {
		return err
	}
	s.view(w, true)
	s.setSnapshotHeader(w, rep.Snapshot)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="report-%s-%s-%s.%s"`, unit, per.Label, lang, format))
	w.Header().Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}
