package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/disclose"
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
// service's zone.
//
// Caching: every tile has a strong ETag (the snapshot and the normalised
// request, see tiles.Renderer.ETag; "-gzip" appended for the gzip
// encoding) and If-None-Match is answered 304 without rendering. A closed
// period is cached long (Cache-Control: public, max-age=86400,
// stale-while-revalidate=604800), a running one briefly (max-age=60);
// answers for a token are private, and tiles with the events layer
// private, no-store. MVT is sent gzip-compressed (Content-Encoding: gzip)
// to clients that accept it; the renderer's cache keeps tiles compressed.
//
// Public requests (no analyst token) get public tiles, made only through
// analytics/disclose (the server's Discloser, shared with the JSON routes):
// 403 (disclose.ErrNotPublic) for a running period, a week or a custom
// range, a sensitive category, a union of kinds or categories, or the
// events layer.

// Tiles renders vector tiles; tiles.Renderer implements it.
type Tiles interface {
	ETag(req tiles.Request) (string, error)
	Encoded(ctx context.Context, req tiles.Request) (tiles.Encoded, error)
	TileJSON(ctx context.Context, layers []string, base, rawQuery string) (*tiles.TileJSON, error)
	Style(ctx context.Context, base, rawQuery string) (tiles.Style, error)
}

// Cache-Control of tiles.
const (
	cacheClosed  = "max-age=86400, stale-while-revalidate=604800"
	cacheRunning = "max-age=60"
	cacheMeta    = "public, max-age=300"
)

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
func tileError(err error, p tiles.Params, _ time.Time) error {
	switch {
	case errors.Is(err, analytics.ErrNoSnapshot):
		return fmt.Errorf("%w: %w", errUnavailable, err)
	case errors.Is(err, tiles.ErrUnknownLayer), errors.Is(err, tiles.ErrDuplicateLayer):
		return &ParamError{Param: "layer", Err: err}
	case errors.Is(err, tiles.ErrBadTile):
		return &ParamError{Param: "z", Err: err}
	case errors.Is(err, disclose.ErrNotPublic):
		return err // 403 with disclose's message (what a token unlocks, when a period is published)
	case errors.Is(err, tiles.ErrBadParams), errors.Is(err, analytics.ErrBadQuery):
		return &ParamError{Param: "period", Value: p.Period.Label, Err: err}
	}
	return err
}

// baseURL is the base of absolute URLs (TileJSON tiles, style sources):
// Config.PublicURL, never the request's Host header, which a client
// chooses (a forged Host would otherwise be cached into shared answers).
func (s *Server) baseURL() string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	if u := s.listenURL.Load(); u != nil {
		return *u
	}
	return "http://localhost"
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
	// aggregate layers under the public rules. Answers that depend on the
	// token are private.
	events := slices.Contains(req.Layers, tiles.LayerEvents)
	scope := UnitScopeFrom(r.Context()) // tiles are not cut by territory: a limited token gets the public view
	if events {
		if err := needRole(r.Context(), RoleAnalyst, "the events layer"); err != nil {
			return err
		}
		if scope != "" {
			return fmt.Errorf("the events layer needs a token valid everywhere; this one is limited to unit %s (read its raw events with /v1/events): %w", scope, errForbidden)
		}
	}
	req.Params.Public = RoleFrom(r.Context()) < RoleAnalyst || scope != ""
	gz := acceptsGzip(r)
	etag, err := tl.ETag(req) // checks req (public rules included)
	if err != nil {
		return tileError(err, req.Params, s.cfg.Now())
	}
	h := w.Header()
	h.Add("Vary", "Accept-Encoding")
	if r.Header.Get("Authorization") == "" { // authenticate added it otherwise
		h.Add("Vary", "Authorization")
	}
	switch cc := cacheRunning; {
	case events:
		h.Set("Cache-Control", "private, no-store")
	default:
		if !req.Params.Period.To.After(s.cfg.Now()) {
			cc = cacheClosed
		}
		if req.Params.Public {
			h.Set("Cache-Control", "public, "+cc)
		} else {
			h.Set("Cache-Control", "private, "+cc)
		}
	}
	if gz {
		etag = gzipETag(etag)
	}
	if !events && etagMatch(r.Header.Get("If-None-Match"), etag) {
		h.Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	res, err := tl.Encoded(r.Context(), req)
	if err != nil {
		return tileError(err, req.Params, s.cfg.Now())
	}
	s.setSnapshotHeader(w, res.Snapshot)
	if res.ETag != "" && !events { // a new snapshot may have come since ETag
		etag = res.ETag
		if gz {
			etag = gzipETag(etag)
		}
		h.Set("ETag", etag)
	}
	if res.Gzip == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	body := res.Gzip
	if gz {
		h.Set("Content-Encoding", "gzip")
	} else if body, err = res.MVT(); err != nil {
		return err
	}
	h.Set("Content-Type", MVTContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // a client that left is no server error
	return nil
}

// gzipETag is the entity tag of the gzip encoding of the representation
// tagged etag (a different representation needs a different strong tag).
func gzipETag(etag string) string {
	return strings.TrimSuffix(etag, `"`) + `-gzip"`
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip
// (RFC 9110 12.5.3: gzip, x-gzip or *, with a q-value above 0).
func acceptsGzip(r *http.Request) bool {
	ok := false
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding != "gzip" && coding != "x-gzip" && coding != "*" {
				continue
			}
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				if k, val, found := strings.Cut(strings.TrimSpace(p), "="); found && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			if coding == "*" && ok {
				continue // an explicit gzip wins over *
			}
			ok = q > 0
			if coding != "*" {
				return ok
			}
		}
	}
	return ok
}

// etagMatch evaluates If-None-Match against etag with the weak comparison
// of RFC 9110 8.8.3.2 (W/ ignored on both sides); "*" matches any.
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for part := range strings.SplitSeq(header, ",") {
		t := strings.TrimSpace(part)
		if t == "*" || strings.TrimPrefix(t, "W/") == want {
			return true
		}
	}
	return false
}

// writeJSONETag writes v as JSON with a strong ETag of its bytes and
// cacheControl, or 304 when If-None-Match matches.
func (s *Server) writeJSONETag(w http.ResponseWriter, r *http.Request, v any, cacheControl string) {
	body, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body = append(body, '\n')
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", cacheControl)
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
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
	tj, err := tl.TileJSON(r.Context(), layers, s.baseURL(), forwardedQuery(r))
	if err != nil {
		return tileError(err, tiles.Params{}, s.cfg.Now())
	}
	s.writeJSONETag(w, r, tj, cacheMeta)
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
	st, err := tl.Style(r.Context(), s.baseURL(), forwardedQuery(r))
	if err != nil {
		return tileError(err, tiles.Params{}, s.cfg.Now())
	}
	s.writeJSONETag(w, r, st, cacheMeta)
	return nil
}
