package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/tiles"
	"github.com/go-chi/chi/v5"
)

// Vector tiles: GET /tiles/{layer}/{z}/{x}/{y}.mvt (layer: one name or a
// comma-separated list for a composite tile), GET /tiles/{layer}.json
// (TileJSON 3.0.0) and GET /styles/default.json (MapLibre GL style). The
// rendering is the tiles package's; the server parses, maps errors and
// writes.
//
// Empty tiles (no feature in any requested layer) answer 204 No Content,
// which MapLibre GL and GDAL treat as an empty tile. Without period (or
// from/to) the tiles show the last full quarter before now in the
// service's zone. Caching, ETags, compression and the public/analyst
// restrictions are not done here yet (tiles.Params.Public is the hook).

// Tiles renders vector tiles; tiles.Renderer implements it.
type Tiles interface {
	Tile(ctx context.Context, req tiles.Request) (tiles.Result, error)
	TileJSON(ctx context.Context, layers []string, base, rawQuery string) (*tiles.TileJSON, error)
	Style(ctx context.Context, base, rawQuery string) (tiles.Style, error)
}

// MVTContentType is the media type of Mapbox Vector Tiles.
const MVTContentType = "application/vnd.mapbox-vector-tile"

// tileQueryParams are the query parameters a TileJSON or style forwards
// to the tile URLs.
var tileQueryParams = []string{"period", "from", "to", "kind", "category"}

func (s *Server) tiles() (Tiles, error) {
	if s.cfg.Tiles == nil {
		return nil, fmt.Errorf("vector tiles are not configured: %w", errUnavailable)
	}
	return s.cfg.Tiles, nil
}

// tileLayers reads the layer path parameter.
func tileLayers(r *http.Request) ([]string, error) {
	v := chi.URLParam(r, "layer")
	layers, err := tiles.ParseLayers(v)
	if err != nil {
		return nil, &ParamError{Param: "layer", Value: v,
			Allowed: strings.Join(tiles.LayerNames(), ", ") + " or a comma-separated list of distinct ones", Err: err}
	}
	return layers, nil
}

// pathInt reads an integer path parameter in [lo, hi].
func pathInt(r *http.Request, name string, lo, hi int) (int, error) {
	v := chi.URLParam(r, name)
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, &ParamError{Param: name, Value: v, Allowed: fmt.Sprintf("an integer from %d to %d", lo, hi)}
	}
	return n, nil
}

// tileParams reads period (default: the last full quarter), kind and
// category.
func (s *Server) tileParams(q query) (tiles.Params, error) {
	var p tiles.Params
	per, ok, err := q.period(false)
	if err != nil {
		return p, err
	}
	if !ok {
		per = lastFullQuarter(s.cfg.Now(), s.cfg.Location)
	}
	p.Period = per
	for _, k := range q.list("kind") {
		kind, err := analytics.ParseKind(k)
		if err != nil {
			return p, &ParamError{Param: "kind", Value: k, Allowed: "crime, accident, offence (comma-separated)"}
		}
		p.Kinds = append(p.Kinds, kind)
	}
	p.Categories = q.list("category")
	return p, nil
}

// lastFullQuarter is the last quarter that ended before now in loc.
func lastFullQuarter(now time.Time, loc *time.Location) analytics.Period {
	now = now.In(loc)
	q, y := (int(now.Month())-1)/3, now.Year() // q: the previous quarter, 0 = Q4 of last year
	if q == 0 {
		q, y = 4, y-1
	}
	p, err := analytics.ParsePeriod(fmt.Sprintf("%d-Q%d", y, q), loc)
	if err != nil {
		panic(err) // a well-formed label always parses
	}
	return p
}

// tileError maps renderer errors: bad requests to the parameter at fault,
// no snapshot yet to 503.
func tileError(err error, p tiles.Params) error {
	switch {
	case errors.Is(err, analytics.ErrNoSnapshot):
		return fmt.Errorf("%w: %w", errUnavailable, err)
	case errors.Is(err, tiles.ErrUnknownLayer), errors.Is(err, tiles.ErrDuplicateLayer):
		return &ParamError{Param: "layer", Err: err}
	case errors.Is(err, tiles.ErrBadTile):
		return &ParamError{Param: "z", Err: err}
	case errors.Is(err, tiles.ErrBadParams), errors.Is(err, analytics.ErrBadQuery):
		return &ParamError{Param: "period", Value: p.Period.Label, Err: err}
	}
	return err
}

// baseURL is the scheme and host the request came to (for absolute URLs).
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// forwardedQuery keeps the tile parameters of the request's query.
func forwardedQuery(r *http.Request) string {
	in, out := r.URL.Query(), url.Values{}
	for _, k := range tileQueryParams {
		if v, ok := in[k]; ok {
			out[k] = v
		}
	}
	return out.Encode()
}

func (s *Server) handleTile(w http.ResponseWriter, r *http.Request) error {
	tl, err := s.tiles()
	if err != nil {
		return err
	}
	req := tiles.Request{}
	if req.Layers, err = tileLayers(r); err != nil {
		return err
	}
	if req.Z, err = pathInt(r, "z", tiles.MinZoom, tiles.MaxZoom); err != nil {
		return err
	}
	n := 1<<req.Z - 1
	if req.X, err = pathInt(r, "x", 0, n); err != nil {
		return err
	}
	if req.Y, err = pathInt(r, "y", 0, n); err != nil {
		return err
	}
	if req.Params, err = s.tileParams(s.query(r)); err != nil {
		return err
	}
	// Raw points are for analysts only; the public (no token) gets the
	// aggregate layers. Answers that depend on the token are private.
	if slices.Contains(req.Layers, "events") {
		if err := needRole(r.Context(), RoleAnalyst, "the events layer"); err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "private, no-store")
		w.Header().Add("Vary", "Authorization")
	}
	req.Params.Public = RoleFrom(r.Context()) < RoleAnalyst
	res, err := tl.Tile(r.Context(), req)
	if err != nil {
		return tileError(err, req.Params)
	}
	s.setSnapshotHeader(w, res.Snapshot)
	if res.Data == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	w.Header().Set("Content-Type", MVTContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(res.Data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Data) // a client that left is no server error
	return nil
}

func (s *Server) handleTileJSON(w http.ResponseWriter, r *http.Request) error {
	tl, err := s.tiles()
	if err != nil {
		return err
	}
	layers, err := tileLayers(r)
	if err != nil {
		return err
	}
	q := s.query(r)
	if _, err := s.tileParams(q); err != nil { // refuse what the tiles would refuse
		return err
	}
	tj, err := tl.TileJSON(r.Context(), layers, baseURL(r), forwardedQuery(r))
	if err != nil {
		return tileError(err, tiles.Params{})
	}
	s.writeJSON(w, r, http.StatusOK, tj)
	return nil
}

func (s *Server) handleStyle(w http.ResponseWriter, r *http.Request) error {
	tl, err := s.tiles()
	if err != nil {
		return err
	}
	if _, err := s.tileParams(s.query(r)); err != nil {
		return err
	}
	st, err := tl.Style(r.Context(), baseURL(r), forwardedQuery(r))
	if err != nil {
		return tileError(err, tiles.Params{})
	}
	s.writeJSON(w, r, http.StatusOK, st)
	return nil
}
