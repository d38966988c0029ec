package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/jackc/pgx/v5/pgconn"
)

// readyPingTimeout bounds the store's ping in /readyz: a store that does
// not answer within it counts as down.
const readyPingTimeout = 2 * time.Second

// Readiness statuses of /readyz and of its components.
const (
	statusReady    = "ready"    // 200: every component is up
	statusDegraded = "degraded" // 503: some component is down; see message
	componentUp    = "up"
	componentDown  = "down"
	// snapshotStale: a snapshot is served but the latest attempt to bring
	// it up to date with the store failed.
	snapshotStale = "stale"
	// snapshotMissing: no snapshot is built yet.
	snapshotMissing = "missing"
)

// readyJSON is the body of /readyz, with either status.
type readyJSON struct {
	// Status is "ready" (HTTP 200) or "degraded" (HTTP 503).
	Status string `json:"status"`
	// Message says what is degraded and what still works.
	Message  string        `json:"message"`
	Store    storeJSON     `json:"store"`
	Snapshot *snapshotJSON `json:"snapshot,omitempty"` // nil without Config.Snapshots
}

// storeJSON is the store's part of /readyz.
type storeJSON struct {
	Status    string  `json:"status"` // "up" or "down"
	Backend   string  `json:"backend"`
	LatencyMS float64 `json:"latency_ms"` // of the ping
	Error     string  `json:"error,omitempty"`
}

// snapshotJSON is the analytics snapshot's part of /readyz.
type snapshotJSON struct {
	// Status is "up", "stale" (served, but the latest reload failed) or
	// "missing" (none built yet).
	Status      string     `json:"status"`
	Version     uint64     `json:"version,omitempty"`
	DataVersion int64      `json:"data_version,omitempty"`
	BuiltAt     *time.Time `json:"built_at,omitempty"`
	AgeSeconds  float64    `json:"age_seconds,omitempty"`
	// LastReloadError is why the latest reload failed (empty when it
	// succeeded), and LastReloadErrorAt when.
	LastReloadError   string     `json:"last_reload_error,omitempty"`
	LastReloadErrorAt *time.Time `json:"last_reload_error_at,omitempty"`
}

// reloadReporter is implemented by Snapshots that know why their latest
// reload failed (analytics.Live).
type reloadReporter interface {
	LastReloadError() *analytics.ReloadFailure
}

// degradedStore says what a request still gets while the store is down.
const degradedStore = "routes answered from the in-memory analytics snapshot (stats, series, hexbins, tiles) keep working; " +
	"routes that read the store (units, events, classification, mahalla profiles, hotspots of a unit, tokens not checked in the last 15 minutes) answer 503 until it returns"

// handleReadyz reports whether the service can answer everything: the
// store answers a ping within readyPingTimeout, and the analytics snapshot
// is built and its latest reload succeeded. It answers 200 with status
// "ready", or 503 with status "degraded" and a message naming what is
// down; both bodies describe every component.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.Now()
	body := readyJSON{Status: statusReady}
	var problems []string

	body.Store = s.storeHealth(r.Context())
	if body.Store.Status != componentUp {
		problems = append(problems, fmt.Sprintf("the store (%s) %s: %s", body.Store.Backend, body.Store.Error, degradedStore))
	}
	if s.cfg.Snapshots != nil {
		snap := snapshotHealth(s.cfg.Snapshots, now)
		body.Snapshot = &snap
		switch snap.Status {
		case snapshotMissing:
			problems = append(problems, "the analytics snapshot is not built yet: the analytics routes and tiles answer 503 until it is")
		case snapshotStale:
			problems = append(problems, fmt.Sprintf("the analytics snapshot could not be reloaded (%s): answers come from snapshot %d, which may be behind the store; reloading is retried",
				snap.LastReloadError, snap.Version))
		}
	}

	status := http.StatusOK
	switch {
	case len(problems) > 0:
		body.Status, status = statusDegraded, http.StatusServiceUnavailable
		body.Message = strings.Join(problems, "; ")
	case body.Snapshot != nil:
		body.Message = "the store and the analytics snapshot are up"
	default:
		body.Message = "the store is up"
	}
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, r, status, body)
}

// storeHealth pings the store, bounded by readyPingTimeout; a failure is
// logged in full and described without driver text.
func (s *Server) storeHealth(ctx context.Context) storeJSON {
	if s.cfg.Store == nil {
		return storeJSON{Status: componentDown, Backend: "none", Error: "is not configured"}
	}
	out := storeJSON{Status: componentUp, Backend: s.cfg.Store.Backend()}
	ctx, cancel := context.WithTimeout(ctx, readyPingTimeout)
	defer cancel()
	start := time.Now()
	err := s.cfg.Store.Ping(ctx)
	out.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if err == nil {
		return out
	}
	out.Status = componentDown
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		out.Error = fmt.Sprintf("does not answer (no reply to a ping within %s)", readyPingTimeout)
	default:
		out.Error = "does not answer (the ping failed)"
	}
	s.log.WarnContext(ctx, "readyz: store ping failed", slog.String("backend", out.Backend), slog.Any("err", err))
	return out
}

// snapshotHealth describes the current snapshot of snaps at now.
func snapshotHealth(snaps Snapshots, now time.Time) snapshotJSON {
	cur := snaps.Current()
	if cur == nil {
		return snapshotJSON{Status: snapshotMissing}
	}
	built := cur.BuiltAt()
	out := snapshotJSON{Status: componentUp, Version: cur.Version(), DataVersion: cur.DataVersion(),
		BuiltAt: &built, AgeSeconds: max(0, now.Sub(built).Seconds())}
	if rr, ok := snaps.(reloadReporter); ok {
		if f := rr.LastReloadError(); f != nil {
			out.Status = snapshotStale
			at := f.At
			out.LastReloadErrorAt = &at
			switch {
			case storeUnreachable(f.Err) || errors.Is(f.Err, context.DeadlineExceeded):
				out.LastReloadError = "the store did not answer"
			default:
				out.LastReloadError = publicMessage(f.Err)
				if out.LastReloadError == "" {
					out.LastReloadError = "the rebuild failed (see the service's log)"
				}
			}
		}
	}
	return out
}

// storeUnreachable reports whether err is a failure to reach the store
// rather than an answer from it: a connection that could not be made
// (refused, reset or timed out while connecting), one lost mid-request
// (reset, broken: the only network peer of a handler is the store), or
// the database server refusing work while it shuts down or starts
// (SQLSTATE class 08, connection exception, and 57P01..57P03). statusOf
// maps it to 503; the pool reconnects by itself once the store answers.
func storeUnreachable(err error) bool {
	var ce *pgconn.ConnectError
	var oe *net.OpError
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.As(err, &oe):
		return true
	case errors.As(err, &pe):
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return false
}
