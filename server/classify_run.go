package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/paulmach/orb"
)

// maxRunBody caps the body of POST /v1/classification/runs.
const maxRunBody = 64 << 10

// runRequest is the body of POST /v1/classification/runs. Without Policy
// the run uses the server's policy (Config.Policy); with it, the policy
// document it holds.
type runRequest struct {
	Period string `json:"period"`
	Unit   string `json:"unit"`
	// Policy is an optional policy document: the schema of the policy
	// files (classify.LoadPolicy) as a JSON object.
	Policy policyDoc `json:"policy"`
}

// policyDoc is the raw JSON of a request's policy: an object, or nothing
// (absent or null).
type policyDoc []byte

// UnmarshalJSON keeps a JSON object as it is and refuses anything else
// but null, so that a malformed body is a 400 of the body.
func (p *policyDoc) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*p = nil
	case len(b) > 0 && b[0] == '{':
		*p = bytes.Clone(b)
	default:
		return errors.New(`"policy" must be a JSON object (a policy document) or null`)
	}
	return nil
}

// requestPolicy loads and validates a request's policy document with the
// same code as a policy file (errors name the field and the problem: 400).
// A modified policy must not carry the name and version of the server's
// policy: runs are told apart, and diffs explain changes, by them.
func (s *Server) requestPolicy(doc policyDoc) (*classify.Policy, error) {
	pol, err := classify.LoadPolicy(bytes.NewReader(doc), "policy")
	if err != nil {
		return nil, &ParamError{Param: "policy", Value: doc.label(),
			Allowed: "a policy document in the schema of the policy files (analytics/classify/default.yaml) as a JSON object", Err: err}
	}
	if base := s.policy(); pol.Name == base.Name && pol.Version() == base.Version() && !samePolicy(pol, base) {
		return nil, &ParamError{Param: "policy", Value: pol.Name + " " + pol.Version(),
			Allowed: fmt.Sprintf("a version of its own: the server's policy %q is version %q and this one differs from it "+
				"(runs and their diffs tell policies apart by name and version)", base.Name, base.Version())}
	}
	return pol, nil
}

// samePolicy reports whether two loaded policies say the same, wherever
// they were loaded from.
func samePolicy(a, b *classify.Policy) bool {
	ac, bc := *a, *b
	ac.Source, bc.Source = "", ""
	return reflect.DeepEqual(ac, bc)
}

// label names a policy document in messages by its name and version, as
// far as it gives them.
func (p policyDoc) label() string {
	var h struct {
		Name    any `json:"name"`
		Version any `json:"version"`
	}
	_ = json.Unmarshal(p, &h) // a label only: the policy's own errors say what is wrong
	var parts []string
	for _, v := range []any{h.Name, h.Version} {
		if v != nil {
			parts = append(parts, fmt.Sprint(v))
		}
	}
	if len(parts) == 0 {
		return "a policy document"
	}
	return strings.Join(parts, " ")
}

// policy returns the configured policy (DefaultPolicy when none).
func (s *Server) policy() *classify.Policy {
	if s.cfg.Policy != nil {
		return s.cfg.Policy
	}
	return s.defaultPolicy
}

// handleCreateRun classifies every mahalla (or those of unit) for a period
// with the current snapshot and the server's policy (or the request's own),
// stores the run with its policy's name and version and the ID of the admin
// token that asked (requireRole(RoleAdmin) guards the route) and answers it
// (201, Location: the run).
func (s *Server) handleCreateRun(w http.ResponseWriter, r *http.Request) error {
	var req runRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRunBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return &ParamError{Param: "body", Value: "", Allowed: `a JSON object {"period": "2025-Q3", "unit": "optional region or district code", "policy": {optional policy document}}`, Err: err}
	}
	req.Period, req.Unit = strings.TrimSpace(req.Period), strings.TrimSpace(req.Unit)
	if req.Period == "" {
		return &ParamError{Param: "period", Allowed: "a period to classify: 2025, 2025-H1, 2025-Q3, 2025-07 or 2025-W28"}
	}
	per, err := analytics.ParsePeriod(req.Period, s.cfg.Location)
	if err != nil {
		return &ParamError{Param: "period", Value: req.Period, Allowed: "2025, 2025-H1, 2025-Q3, 2025-07 or 2025-W28", Err: err}
	}
	pol := s.policy()
	if req.Policy != nil {
		if pol, err = s.requestPolicy(req.Policy); err != nil {
			return err
		}
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
		Snapshot: snap, Policy: pol, Period: per, Unit: req.Unit, History: hist, Now: s.cfg.Now(),
		Boundaries: func(code string) (orb.MultiPolygon, error) {
			u, err := s.cfg.Store.Unit(ctx, code)
			if errors.Is(err, store.ErrNotFound) {
				return nil, nil
			}
			return u.Geometry, err
		},
	})
	if err != nil {
		if req.Policy != nil && errors.Is(err, classify.ErrPolicy) {
			// The request's policy cannot classify this period: its fault.
			return &ParamError{Param: "policy", Value: pol.Name + " " + pol.Version(), Err: err}
		}
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
