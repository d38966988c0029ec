package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/crimemap/crimemap/i18n"
)

// handleLabels answers GET /v1/labels?lang=: the words of the map (kinds,
// severities, flags, categories, vehicles, mahalla categories, hot spot
// bins, emerging patterns, levels, map furniture, months, weekdays,
// indicators and rule reasons), the web map's own words (ui.*), period
// names (period.*) and number and date formats (number.*, format.*) in
// one language, as key -> text, from the message catalogues the reports
// use.
func (s *Server) handleLabels(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	tag := q.str("lang")
	if tag == "" {
		tag = string(i18n.Uzbek)
	}
	lang, err := i18n.Parse(tag)
	if err != nil {
		return &ParamError{Param: "lang", Value: tag, Allowed: i18n.Tags(), Err: err}
	}
	if s.catalogues == nil {
		return fmt.Errorf("message catalogues: %w", errUnavailable)
	}
	// The catalogue families a map shows: the same words as the reports.
	labelFamilies := [...]string{"kind.", "severity.", "flag.", "category.", "vehicle.", "mahalla_category.",
		"mahalla_category_note.", "hotspot.", "emerging.", "level.", "map.", "month.", "month_short.", "weekday_short.",
		"indicator.", "reason.", "ui.", "period.", "number.", "format."}
	out := map[string]string{}
	for _, k := range s.catalogues.Keys(i18n.English) {
		for _, f := range labelFamilies {
			if strings.HasPrefix(k, f) {
				out[k] = s.catalogues.T(lang, k)
				break
			}
		}
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	s.writeJSON(w, r, http.StatusOK, map[string]any{"lang": lang, "labels": out})
	return nil
}
