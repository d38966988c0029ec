package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/paulmach/orb"
)

// maxRunBody caps the body of POST /v1/classification/runs.
const maxRunBody = 64 << 10

// runRequest is the body of POST /v1/classification/runs. The policy is
// the server's (Config.Policy); a request cannot bring its own.
type runRequest struct {
	Period string `json:"period"`
	Unit   string `json:"unit"`
}

// policy returns the configured policy (DefaultPolicy when none).
func (s *Server) policy() *classify.Policy {
	if s.cfg.Policy != nil {
		return s.cfg.Policy
	}
	return s.defaultPolicy
}

// handleCreateRun classifies every mahalla (or those of unit) for a period
// with the current snapshot and the server's policy, stores the run with
// the ID of the admin token that asked (requireRole(RoleAdmin) guards the
// route) and answers it (201, Location: the run).
func (s *Server) handleCreateRun(w http.ResponseWriter, r *http.Request) error {
	var req runRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRunBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return &ParamError{Param: "body", Value: "", Allowed: `a JSON object {"period": "2025-Q3", "unit": "optional region or district code"}`, Err: err}
	}
	req.Period, req.Unit = strings.TrimSpace(req.Period), strings.TrimSpace(req.Unit)
	if req.Period == "" {
		return &ParamError{Param: "period", Allowed: "a period to classify: 2025, 2025-H1, 2025-Q3, 2025-07 or 2025-W28"}
	}
	per, err := analytics.ParsePeriod(req.Period, s.cfg.Location)
	if err != nil {
		return &ParamError{Param: "period", Value: req.Period, Allowed: "2025, 2025-H1, 2025-Q3, 2025-07 or 2025-W28", Err: err}
	}
	rs, err := s.runStore()
	if err != nil {
		return err
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	if req.Unit != "" {
		if _, _, ok := snap.Unit(req.Unit); !ok {
			return fmt.Errorf("unit %q: %w", req.Unit, store.ErrNotFound)
		}
	}
	mahallas, err := snap.UnitsAt(geo.LevelMahalla, req.Unit)
	if err != nil {
		return analyticsError(err, "unit", req.Unit)
	}
	release, err := s.heavy(r, classifyCost(len(mahallas)))
	if err != nil {
		return err
	}
	defer release()
	ctx := r.Context()
	hist, err := store.RunHistory(ctx, rs, per.From)
	if err != nil {
		return err
	}
	run, err := classify.Classify(ctx, classify.Input{
		Snapshot: snap, Policy: s.policy(), Period: per, Unit: req.Unit, History: hist, Now: s.cfg.Now(),
		Boundaries: func(code string) (orb.MultiPolygon, error) {
			u, err := s.cfg.Store.Unit(ctx, code)
			if errors.Is(err, store.ErrNotFound) {
				return nil, nil
			}
			return u.Geometry, err
		},
	})
	if err != nil {
		return classifyError(err, req.Unit)
	}
	run.Unit = req.Unit
	run.CreatedBy = tokenIDFrom(ctx)
	if run.ID, err = rs.PutRun(ctx, run); err != nil {
		return fmt.Errorf("store classification run: %w", err)
	}
	// Answer what the store keeps (UTC, microseconds).
	stored, err := rs.Run(ctx, run.ID)
	if err != nil {
		return fmt.Errorf("read back classification run %d: %w", run.ID, err)
	}
	w.Header().Set("Location", runHref(run.ID))
	s.setSnapshotHeader(w, run.SnapshotVersion)
	s.writeJSON(w, r, http.StatusCreated, s.toRunJSON(&stored, ""))
	return nil
}

// classifyError maps classification errors: bad query parts to 400,
// unknown units to 404; policy errors stay (statusOf: 422).
func classifyError(err error, unit string) error {
	if errors.Is(err, classify.ErrPolicy) {
		return err
	}
	return analyticsError(err, "unit", unit)
}
