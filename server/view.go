package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/paulmach/orb"
)

// The two views of every data route: exact numbers for analysts (inside
// their territory, for scoped tokens), and the public view made by
// analytics/disclose for everyone else. Handlers ask exactFor once and
// answer from the snapshot or from s.disclose; nothing else decides.
const (
	viewExact  = "exact"
	viewPublic = "public"
)

// exactFor reports whether the request may see exact numbers about the
// area of unit code ("" for everywhere): analyst and admin tokens without
// a territory, and analyst tokens whose territory holds code. Everyone
// else (no token, viewer tokens, a scoped token outside its territory)
// gets the public view.
func (s *Server) exactFor(ctx context.Context, code string) (bool, error) {
	if RoleFrom(ctx) < RoleAnalyst {
		return false, nil
	}
	if UnitScopeFrom(ctx) == "" {
		return true, nil
	}
	if code == "" {
		return false, nil
	}
	return s.inScope(ctx, code)
}

// view describes the view that answered, for response bodies, and sets
// the X-Crimemap-View header.
func (s *Server) view(w http.ResponseWriter, exact bool) viewJSON {
	if exact {
		w.Header().Set("X-Crimemap-View", viewExact)
		return viewJSON{View: viewExact}
	}
	w.Header().Set("X-Crimemap-View", viewPublic)
	return viewJSON{View: viewPublic, Method: "cell-key perturbation (analytics/disclose)",
		MaxNoise: s.disclose.MaxNoise(), WithheldBelow: s.disclose.K()}
}

// storeAreas gives disclose the unit boundaries it builds the fixed public
// H3 cell sets from.
func (s *Server) storeAreas(ctx context.Context, code string) (orb.MultiPolygon, error) {
	if s.cfg.Store == nil {
		return nil, fmt.Errorf("no store for the boundary of %s: %w", code, errUnavailable)
	}
	u, err := s.cfg.Store.Unit(ctx, code)
	if err != nil {
		return nil, err
	}
	return u.Geometry, nil
}

// newDiscloser is the default public view when Config.Disclose is nil.
func (s *Server) newDiscloser() *disclose.Discloser {
	return disclose.New(disclose.Config{Location: s.cfg.Location, Areas: s.storeAreas})
}

// PreparePublic builds the public view's tables for the current snapshot
// (disclose.Discloser.Prepare): serve calls it at start and after every
// snapshot swap, so public requests never pay for them.
func (s *Server) PreparePublic(ctx context.Context) error {
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	return s.disclose.Prepare(ctx, snap)
}
