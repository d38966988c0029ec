package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/tiles"
	"github.com/go-chi/chi/v5"
	"github.com/protomaps/go-pmtiles/pmtiles"
)

// The basemap: a PMTiles archive on disk (crimemap serve --basemap
// FILE.pmtiles) served by github.com/protomaps/go-pmtiles, which reads the
// tiles by range from the file, caches its directories and keeps track of
// the file changing under it. The service answers
//
//   - GET /basemap.json: the archive's TileJSON with its tile URL rewritten
//     to this service's public base ({base}/basemap/{z}/{x}/{y}.{ext});
//   - GET /basemap/{z}/{x}/{y}.{ext}: a tile as stored, with the archive's
//     Content-Type and Content-Encoding (vector archives are usually
//     gzipped MVT), 204 for a tile the archive does not hold.
//
// so the map needs no tile host of its own, and no third-party one.

// basemapName is the archive's name inside the go-pmtiles server, whatever
// the file is called (keyBucket maps it to the file), so that any file
// name works in its URL patterns.
const basemapName = "basemap"

// basemapInternalURL is the public URL go-pmtiles is given (its TileJSON
// needs one); the handler rewrites the tile URLs to the service's own
// base, which is only known per request (Server.baseURL).
const basemapInternalURL = "http://basemap.invalid"

// Cache-Control of basemap tiles: the archive changes only when an operator
// replaces the file.
const cacheBasemap = "public, max-age=86400, stale-while-revalidate=604800"

// basemapCacheMB is the go-pmtiles directory cache in MB (its unit): a
// country archive's directories take a few hundred KB.
const basemapCacheMB = 16

// Basemap is an opened, validated PMTiles archive (OpenBasemap) for
// Config.Basemap. It is safe for concurrent use.
type Basemap struct {
	file   string
	srv    *pmtiles.Server
	header pmtiles.HeaderV3
	// layers are the vector layers' names from the archive's metadata
	// (none for a raster archive).
	layers      []string
	attribution string
}

// ErrBadBasemap is wrapped by OpenBasemap's errors for a file that is not a
// readable PMTiles v3 archive.
var ErrBadBasemap = errors.New("not a readable PMTiles v3 archive")

// OpenBasemap opens the PMTiles archive file, reads its header and metadata
// (so a missing or bad file fails at start-up, not at the first tile) and
// starts the go-pmtiles server over it. go-pmtiles logs every fetch: its
// log goes to log at debug level.
func OpenBasemap(ctx context.Context, file string, log *slog.Logger) (*Basemap, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("basemap %s: %w", file, err)
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("basemap: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.IsDir() {
		return nil, fmt.Errorf("basemap %s: a directory, not a file: %w", file, ErrBadBasemap)
	}
	buf := make([]byte, pmtiles.HeaderV3LenBytes)
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, fmt.Errorf("basemap %s: reading its header: %w: %w", file, ErrBadBasemap, err)
	}
	h, err := pmtiles.DeserializeHeader(buf)
	if err != nil {
		return nil, fmt.Errorf("basemap %s: %w: %w", file, ErrBadBasemap, err)
	}
	if h.SpecVersion != 3 {
		return nil, fmt.Errorf("basemap %s: spec version %d: %w", file, h.SpecVersion, ErrBadBasemap)
	}
	if h.MinZoom > h.MaxZoom || h.RootLength == 0 {
		return nil, fmt.Errorf("basemap %s: zooms %d..%d, root directory of %d bytes: %w", file, h.MinZoom, h.MaxZoom, h.RootLength, ErrBadBasemap)
	}
	if basemapExt(h) == "" {
		return nil, fmt.Errorf("basemap %s: unknown tile type %d: %w", file, h.TileType, ErrBadBasemap)
	}
	b := &Basemap{file: abs, header: h}
	if h.MetadataLength > 0 {
		if h.MetadataLength > 16<<20 {
			return nil, fmt.Errorf("basemap %s: metadata of %d bytes: %w", file, h.MetadataLength, ErrBadBasemap)
		}
		raw := make([]byte, h.MetadataLength)
		if _, err := f.ReadAt(raw, int64(h.MetadataOffset)); err != nil {
			return nil, fmt.Errorf("basemap %s: reading its metadata: %w: %w", file, ErrBadBasemap, err)
		}
		md, err := pmtiles.DeserializeMetadata(bytes.NewReader(raw), h.InternalCompression)
		if err != nil {
			return nil, fmt.Errorf("basemap %s: its metadata: %w: %w", file, ErrBadBasemap, err)
		}
		b.attribution, _ = md["attribution"].(string)
		if vls, ok := md["vector_layers"].([]any); ok {
			for _, vl := range vls {
				if m, ok := vl.(map[string]any); ok {
					if id, ok := m["id"].(string); ok && id != "" {
						b.layers = append(b.layers, id)
					}
				}
			}
		}
	}
	bucket := keyBucket{Bucket: pmtiles.NewFileBucket(filepath.Dir(abs)), key: filepath.Base(abs)}
	srv, err := pmtiles.NewServerWithBucket(bucket, "", slog.NewLogLogger(log.Handler(), slog.LevelDebug), basemapCacheMB, basemapInternalURL)
	if err != nil {
		return nil, fmt.Errorf("basemap %s: %w", file, err)
	}
	srv.Start() // its cache loop lives as long as the process
	b.srv = srv
	if status, _, body := srv.Get(ctx, "/"+basemapName+".json"); status != http.StatusOK {
		return nil, fmt.Errorf("basemap %s: %s (%d): %w", file, body, status, ErrBadBasemap)
	}
	return b, nil
}

// keyBucket reads every key from the one file key of its directory.
type keyBucket struct {
	pmtiles.Bucket
	key string
}

func (b keyBucket) NewRangeReader(ctx context.Context, _ string, offset, length int64) (io.ReadCloser, error) {
	return b.Bucket.NewRangeReader(ctx, b.key, offset, length)
}

func (b keyBucket) NewRangeReaderEtag(ctx context.Context, _ string, offset, length int64, etag string) (io.ReadCloser, string, int, error) {
	return b.Bucket.NewRangeReaderEtag(ctx, b.key, offset, length, etag)
}

// basemapExt is the file extension of the archive's tiles ("" unknown).
func basemapExt(h pmtiles.HeaderV3) string {
	switch h.TileType {
	case pmtiles.Mvt:
		return "mvt"
	case pmtiles.Png:
		return "png"
	case pmtiles.Jpeg:
		return "jpg"
	case pmtiles.Webp:
		return "webp"
	case pmtiles.Avif:
		return "avif"
	}
	return ""
}

// File is the archive's path.
func (b *Basemap) File() string { return b.file }

// Layers are the names of the archive's vector layers (none for raster).
func (b *Basemap) Layers() []string { return append([]string(nil), b.layers...) }

// Zooms are the archive's minimum and maximum zoom.
func (b *Basemap) Zooms() (int, int) { return int(b.header.MinZoom), int(b.header.MaxZoom) }

// Style describes the basemap for the default map style (tiles.Config):
// its TileJSON under the service's base, its layers, its attribution.
func (b *Basemap) Style() *tiles.Basemap {
	if b == nil {
		return nil
	}
	return &tiles.Basemap{TileJSONPath: "/basemap.json", Raster: b.header.TileType != pmtiles.Mvt,
		Layers: b.Layers(), Attribution: b.attribution}
}

func (s *Server) basemap() (*Basemap, error) {
	if s.cfg.Basemap == nil {
		return nil, fmt.Errorf("this service has no basemap (crimemap serve --basemap FILE.pmtiles): %w", store.ErrNotFound)
	}
	return s.cfg.Basemap, nil
}

// basemapURL is the absolute URL of the basemap's TileJSON, "" without one.
func (s *Server) basemapURL() string {
	if s.cfg.Basemap == nil {
		return ""
	}
	return s.baseURL() + "/basemap.json"
}

// basemapStatus maps a go-pmtiles status that is not 200 or 204 to an
// error.
func basemapStatus(status int, body []byte) error {
	msg := strings.TrimSpace(string(body))
	switch {
	case status == 499:
		return fmt.Errorf("basemap: %w", context.Canceled)
	case status == http.StatusBadRequest:
		return &ParamError{Param: "ext", Err: fmt.Errorf("%s", msg)}
	case status == http.StatusNotFound && msg == "Archive not found":
		return fmt.Errorf("the basemap file cannot be read now: %w", errUnavailable)
	case status == http.StatusNotFound:
		return fmt.Errorf("basemap: %s: %w", strings.ToLower(msg), store.ErrNotFound)
	}
	return fmt.Errorf("basemap: status %d: %s", status, msg)
}

func (s *Server) handleBasemapTileJSON(w http.ResponseWriter, r *http.Request) error {
	b, err := s.basemap()
	if err != nil {
		return err
	}
	status, _, body := b.srv.Get(r.Context(), "/"+basemapName+".json")
	if status != http.StatusOK {
		return basemapStatus(status, body)
	}
	var tj map[string]any
	if err := json.Unmarshal(body, &tj); err != nil {
		return fmt.Errorf("basemap TileJSON: %w", err)
	}
	tj["tiles"] = []string{s.baseURL() + "/basemap/{z}/{x}/{y}." + basemapExt(b.header)}
	s.writeJSONETag(w, r, tj, cacheMeta)
	return nil
}

func (s *Server) handleBasemapTile(w http.ResponseWriter, r *http.Request) error {
	b, err := s.basemap()
	if err != nil {
		return err
	}
	minZ, maxZ := b.Zooms()
	z, err := pathInt(r, "z", 0, 30)
	if err != nil {
		return err
	}
	n := 1<<z - 1
	x, err := pathInt(r, "x", 0, n)
	if err != nil {
		return err
	}
	y, err := pathInt(r, "y", 0, n)
	if err != nil {
		return err
	}
	ext := chi.URLParam(r, "ext")
	if want := basemapExt(b.header); ext != want {
		return &ParamError{Param: "ext", Value: ext, Allowed: want + " (the basemap's tile type)"}
	}
	if z < minZ || z > maxZ {
		return fmt.Errorf("basemap zoom %d: the archive holds zooms %d to %d: %w", z, minZ, maxZ, store.ErrNotFound)
	}
	status, headers, body := b.srv.Get(r.Context(), fmt.Sprintf("/%s/%d/%d/%d.%s", basemapName, z, x, y, ext))
	h := w.Header()
	h.Set("Cache-Control", cacheBasemap)
	switch status {
	case http.StatusOK:
	case http.StatusNoContent:
		w.WriteHeader(http.StatusNoContent)
		return nil
	default:
		h.Del("Cache-Control")
		return basemapStatus(status, body)
	}
	if etag := headers["ETag"]; etag != "" {
		h.Set("ETag", etag)
		if etagMatch(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	for _, k := range []string{"Content-Type", "Content-Encoding"} {
		if v := headers[k]; v != "" {
			h.Set(k, v)
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}
