package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store"
)

func (s *Server) query(r *http.Request) query {
	return query{v: r.URL.Query(), loc: s.cfg.Location, now: s.cfg.Now}
}

// eventJSON is an event in API responses; fields that do not apply to the
// kind are omitted.
type eventJSON struct {
	Kind       string    `json:"kind"`
	SourceID   string    `json:"source_id"`
	OccurredAt time.Time `json:"occurred_at"`
	Lon        *float64  `json:"lon"`
	Lat        *float64  `json:"lat"`
	H3         string    `json:"h3,omitempty"`
	Category   string    `json:"category"`
	Region     string    `json:"region,omitempty"`
	District   string    `json:"district,omitempty"`
	Mahalla    string    `json:"mahalla,omitempty"`
	Article    string    `json:"article,omitempty"`
	Severity   string    `json:"severity,omitempty"`
	Flags      []string  `json:"flags,omitempty"`
	Killed     *int32    `json:"killed,omitempty"`
	Injured    *int32    `json:"injured,omitempty"`
	Vehicle    string    `json:"vehicle,omitempty"`
	Fine       *float64  `json:"fine,omitempty"`

	// RecordedAt is when the store first recorded the event; absent for
	// events stored before recording times were kept (migration 00007).
	RecordedAt *time.Time `json:"recorded_at,omitempty"`
}

func toEventJSON(e *analytics.Event) eventJSON {
	j := eventJSON{
		Kind: e.Kind.String(), SourceID: e.SourceID, OccurredAt: e.OccurredAt.UTC(), Category: e.Category,
		Region: e.Region, District: e.District, Mahalla: e.Mahalla, Article: e.Article,
	}
	if e.HasLocation {
		lon, lat := e.Lon, e.Lat
		j.Lon, j.Lat = &lon, &lat
		if e.Cell != 0 {
			j.H3 = strconv.FormatUint(e.Cell, 16)
		}
	}
	switch e.Kind {
	case analytics.KindCrime:
		j.Severity = e.Severity.String()
		for _, f := range analytics.FlagNames {
			if e.Flags.Has(f.Flag) {
				j.Flags = append(j.Flags, f.Name)
			}
		}
	case analytics.KindAccident:
		k, i := e.Killed, e.Injured
		j.Killed, j.Injured, j.Vehicle = &k, &i, e.Vehicle
	case analytics.KindOffence:
		f := e.Fine
		j.Fine = &f
	}
	return j
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	q := s.query(r)
	var eq store.EventQuery
	var err error
	if k := q.str("kind"); k != "" {
		if eq.Kind, err = analytics.ParseKind(k); err != nil {
			s.writeError(w, r, &ParamError{Param: "kind", Value: k, Allowed: "crime, accident, offence"})
			return
		}
	}
	if eq.From, err = q.timeParam("from"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if eq.To, err = q.timeParam("to"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !eq.From.IsZero() && !eq.To.IsZero() && !eq.From.Before(eq.To) {
		s.writeError(w, r, &ParamError{Param: "to", Value: q.str("to"), Allowed: "a time after from (" + q.str("from") + ")"})
		return
	}
	// recorded_after: events the store first recorded after this instant
	// (late registrations; events of unknown recording time never match).
	if eq.RecordedAfter, err = q.timeParam("recorded_after"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if eq.BBox, err = q.bbox("bbox"); err != nil {
		s.writeError(w, r, err)
		return
	}
	eq.Unit = q.str("unit")
	// category: comma-separated, as on /v1/stats (exact names).
	if eq.Categories = q.list("category"); len(eq.Categories) > store.MaxCategories {
		s.writeError(w, r, &ParamError{Param: "category", Value: fmt.Sprintf("%d categories", len(eq.Categories)),
			Allowed: fmt.Sprintf("at most %d categories (comma-separated)", store.MaxCategories)})
		return
	}
	if scope := UnitScopeFrom(r.Context()); scope != "" {
		// A token limited to a territory reads the raw events inside it only.
		if eq.Unit == "" {
			eq.Unit = scope
		} else if ok, err := s.inScope(r.Context(), eq.Unit); err != nil {
			s.writeError(w, r, err)
			return
		} else if !ok {
			s.writeError(w, r, fmt.Errorf("unit %q is outside this token's territory (unit %s), and raw events are limited to it: %w",
				eq.Unit, scope, errForbidden))
			return
		}
	}
	if eq.Limit, err = q.intRange("limit", store.DefaultLimit, 1, store.MaxLimit); err != nil {
		s.writeError(w, r, err)
		return
	}
	if eq.Offset, err = q.intRange("offset", 0, 0, 1<<31-1); err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.cfg.Store.Events(r.Context(), eq)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("events: %w", err))
		return
	}
	out := make([]eventJSON, len(page.Events))
	for i := range page.Events {
		out[i] = toEventJSON(&page.Events[i])
		if i < len(page.RecordedAt) && !page.RecordedAt[i].IsZero() {
			rec := page.RecordedAt[i].UTC()
			out[i].RecordedAt = &rec
		}
	}
	resp := map[string]any{
		"total": page.Total, "limit": eq.Limit, "offset": eq.Offset, "count": len(out), "events": out,
	}
	if next := eq.Offset + len(out); next < page.Total {
		v := r.URL.Query()
		v.Set("offset", strconv.Itoa(next))
		v.Set("limit", strconv.Itoa(eq.Limit))
		resp["next"] = r.URL.Path + "?" + v.Encode()
	}
	if s.cfg.Notice != "" {
		resp["notice"] = s.cfg.Notice
	}
	s.writeJSON(w, r, http.StatusOK, resp)
}
