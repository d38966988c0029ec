package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/i18n"
	"github.com/crimemap/crimemap/internal/memo"
	"github.com/crimemap/crimemap/store"
)

// GET /v1/meta: what the web map needs before its first request, in one
// cheap answer: who the caller is (role, token ID and territory; a bad
// token never gets here, authenticate answers 401, so the page validates
// a token with it), the service's zone and clock, the snapshot and the
// time span of its events, the latest closed and the running period of
// each kind, the extent of the stored units, the basemap, the data notice,
// the languages and the version. It is answered from the snapshot and
// memory; only the extent reads the store, once per snapshot, and while
// the store is down the last extent known is answered (the role then comes
// from the verified-token stand-in, see lookupToken).

// metaPeriod is one kind of period in /v1/meta: the latest that ended and
// the one running now, as labels /v1 accepts (period=).
type metaPeriod struct {
	LatestClosed string `json:"latest_closed"`
	Running      string `json:"running"`
}

// metaPeriods are the periods of /v1/meta by kind.
type metaPeriods struct {
	Month   metaPeriod `json:"month"`
	Quarter metaPeriod `json:"quarter"`
	Half    metaPeriod `json:"half"`
	Year    metaPeriod `json:"year"`
}

// metaResponse is the JSON body of /v1/meta.
type metaResponse struct {
	Role string `json:"role"`
	// TokenID is the ID of the token sent (never the token); absent
	// without one.
	TokenID string `json:"token_id,omitempty"`
	// Scope is the unit the token is limited to, "" for everywhere.
	Scope    string    `json:"scope"`
	Zone     string    `json:"zone"`
	Now      time.Time `json:"now"`
	Snapshot uint64    `json:"snapshot"`
	// DataFrom and DataTo are the first and last event times of the
	// snapshot for exact views; for the public view the start of the first
	// event's month and the end of the last event's month (in the zone),
	// never an incident's time. Null without events.
	DataFrom *time.Time  `json:"data_from"`
	DataTo   *time.Time  `json:"data_to"`
	Periods  metaPeriods `json:"periods"`
	// BBox is [minLon, minLat, maxLon, maxLat] of the stored regions (of
	// every unit without regions); null when unknown.
	BBox    *[4]float64 `json:"bbox"`
	Basemap string      `json:"basemap"`
	Notice  string      `json:"notice"`
	// Attribution credits the data's sources (Config.Attribution; the map
	// shows it), empty when none is configured.
	Attribution string   `json:"attribution"`
	Languages   []string `json:"languages"`
	Version     string   `json:"version"`
}

// periodsAt are the periods of each kind at now in loc.
func periodsAt(now time.Time, loc *time.Location) metaPeriods {
	now = now.In(loc)
	y, m := now.Year(), int(now.Month())
	prevMonth := time.Date(y, time.Month(m)-1, 1, 0, 0, 0, 0, loc)
	q := (m-1)/3 + 1
	pq, py := q-1, y
	if pq == 0 {
		pq, py = 4, y-1
	}
	h := (m-1)/6 + 1
	ph, hy := 1, y
	if h == 1 {
		ph, hy = 2, y-1
	}
	return metaPeriods{
		Month:   metaPeriod{LatestClosed: prevMonth.Format("2006-01"), Running: now.Format("2006-01")},
		Quarter: metaPeriod{LatestClosed: fmt.Sprintf("%d-Q%d", py, pq), Running: fmt.Sprintf("%d-Q%d", y, q)},
		Half:    metaPeriod{LatestClosed: fmt.Sprintf("%d-H%d", hy, ph), Running: fmt.Sprintf("%d-H%d", y, h)},
		Year:    metaPeriod{LatestClosed: fmt.Sprint(y - 1), Running: fmt.Sprint(y)},
	}
}

// buildVersion is the main module's version from the binary's build info
// ("(devel)" for a build of a checkout, or without build info).
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func (s *Server) handleMeta(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	now := s.cfg.Now()
	out := metaResponse{
		Role: RoleFrom(ctx).String(), TokenID: tokenIDFrom(ctx), Scope: UnitScopeFrom(ctx),
		Zone: s.cfg.Location.String(), Now: now.In(s.cfg.Location).Truncate(time.Second),
		Periods: periodsAt(now, s.cfg.Location), Basemap: s.basemapURL(), Notice: s.cfg.Notice, Attribution: s.cfg.Attribution,
		Version: s.cfg.Version,
	}
	for _, l := range i18n.Langs() {
		out.Languages = append(out.Languages, string(l))
	}
	var version uint64
	if snap, err := s.snapshot(); err == nil { // before the first snapshot: 0 and nulls
		version = snap.Version()
		out.Snapshot = version
		if at := snap.Columns().At; len(at) > 0 { // sorted by time
			from, to := time.Unix(at[0], 0).UTC(), time.Unix(at[len(at)-1], 0).UTC()
			if exact, _ := s.exactFor(ctx, ""); !exact {
				// The first and the last event are single incidents: the
				// public learns only the months they fall in.
				from, to = monthStart(from, s.cfg.Location, 0), monthStart(to, s.cfg.Location, 1)
			}
			out.DataFrom, out.DataTo = &from, &to
		}
	}
	out.BBox = s.bbox.get(ctx, s, version)
	if r.Header.Get("Authorization") != "" {
		w.Header().Set("Cache-Control", "private, no-store") // it names the token
	} else {
		w.Header().Add("Vary", "Authorization")
		w.Header().Set("Cache-Control", "public, max-age=60") // "now" and the periods move
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// bboxMemo is the extent of the stored units, read from the store once
// per snapshot version (concurrent misses read it once), with the last
// extent read standing in while the store cannot answer.
type bboxMemo struct {
	g    memo.Group[*[4]float64]
	last atomic.Pointer[[4]float64]
}

// get returns the extent for snapshot version (nil when it was never
// read and cannot be now).
func (m *bboxMemo) get(ctx context.Context, s *Server, version uint64) *[4]float64 {
	if s.cfg.Store == nil {
		return nil
	}
	b, err := m.g.Get(ctx, version, "bbox", func(ctx context.Context) (*[4]float64, error) {
		return unitsExtent(ctx, s.cfg.Store)
	})
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "meta: extent of the units", slog.Any("err", err))
		return m.last.Load()
	}
	if b != nil {
		m.last.Store(b)
	}
	return b
}

// unitsExtent is the extent of the stored regions, or of every unit when
// there is no region; nil without boundaries.
func unitsExtent(ctx context.Context, st store.Store) (*[4]float64, error) {
	units, err := st.Units(ctx, store.UnitQuery{Level: geo.LevelRegion, WithGeometry: true})
	if err != nil {
		return nil, fmt.Errorf("regions: %w", err)
	}
	if len(units) == 0 {
		if units, err = st.Units(ctx, store.UnitQuery{WithGeometry: true}); err != nil {
			return nil, fmt.Errorf("units: %w", err)
		}
	}
	var out *[4]float64
	for i := range units {
		if len(units[i].Geometry) == 0 {
			continue
		}
		b := units[i].Geometry.Bound()
		if out == nil {
			out = &[4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
			continue
		}
		out[0], out[1] = min(out[0], b.Min[0]), min(out[1], b.Min[1])
		out[2], out[3] = max(out[2], b.Max[0]), max(out[3], b.Max[1])
	}
	return out, nil
}

// monthStart is the first instant (UTC) of the month n months after t's
// month in loc.
func monthStart(t time.Time, loc *time.Location, n int) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month()+time.Month(n), 1, 0, 0, 0, 0, loc).UTC()
}
