package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/crimemap/crimemap/store"
	"github.com/go-chi/chi/v5"
)

// The analysts' web map (package web, Config.Web): GET / serves its
// index.html, GET /assets/* the files it loads. Every file is read, tagged
// and gzip-compressed once, when the Server is built, and served from
// memory: the page never touches the disk or the snapshot.
//
//   - index.html: Cache-Control: no-cache (revalidated on every load, so a
//     new build shows at once) with a strong ETag; any query string
//     (?period=2025-Q3&unit=...&layer=mahallas&lang=ru) is the page's own
//     state and gets the same file.
//   - assets/*: their names carry a content hash, so Cache-Control: public,
//     max-age=31536000, immutable.
//   - both: Vary: Accept-Encoding, the gzip encoding (its own ETag) to
//     clients that accept it, 304 for a matching If-None-Match, HEAD, and
//     the page's Content-Security-Policy (webCSP) instead of the API's.

// webCSP is the Content-Security-Policy of the page and its assets: only
// its own scripts, styles and connections; MapLibre GL needs blob: workers,
// data:/blob: images and inline style attributes (it positions its
// controls with them).
const webCSP = "default-src 'self'; script-src 'self'; worker-src blob:; child-src blob:; img-src 'self' data: blob:; " +
	"style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Cache-Control of the page and of its hashed assets.
const (
	cacheIndex  = "no-cache"
	cacheAssets = "public, max-age=31536000, immutable"
)

// webAsset is one file of the page, held in memory.
type webAsset struct {
	body        []byte
	gz          []byte // nil when gzip would not make it smaller (PNG, WOFF2)
	etag        string
	contentType string
}

// webFiles is the page: index.html and the files under assets/ by their
// path in Config.Web ("assets/index-1a2b3c.js").
type webFiles struct {
	index  *webAsset
	assets map[string]*webAsset
}

// webContentTypes are the media types of the page's files, fixed here
// rather than read from the system's mime.types (which differ between
// machines: .js was application/javascript on some).
var webContentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".txt":   "text/plain; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".jpg":   "image/jpeg",
	".webp":  "image/webp",
	".ico":   "image/x-icon",
	".json":  "application/json",
	".map":   "application/json",
	".woff2": "font/woff2",
	".woff":  "font/woff",
	".wasm":  "application/wasm",
}

// webContentType is the media type of a file of the page by its extension.
func webContentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := webContentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// loadWeb reads the page from fsys: index.html (required) and every file
// under assets/.
func loadWeb(fsys fs.FS) (*webFiles, error) {
	index, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		return nil, fmt.Errorf("web map: %w", err)
	}
	w := &webFiles{index: newWebAsset("index.html", index), assets: map[string]*webAsset{}}
	err = fs.WalkDir(fsys, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		w.assets[p] = newWebAsset(p, b)
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) { // a page without assets/ is fine
		return nil, fmt.Errorf("web map assets: %w", err)
	}
	return w, nil
}

// newWebAsset tags body and compresses it once.
func newWebAsset(name string, body []byte) *webAsset {
	sum := sha256.Sum256(body)
	a := &webAsset{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, contentType: webContentType(name)}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	_, _ = zw.Write(body)                                    // a bytes.Buffer does not fail
	_ = zw.Close()
	if buf.Len() < len(body) {
		a.gz = buf.Bytes()
	}
	return a
}

// webPage returns the page, or the error a request for it answers: 404
// without Config.Web.
func (s *Server) webPage() (*webFiles, error) {
	if s.cfg.Web == nil {
		return nil, fmt.Errorf("this service has no web map (Config.Web): %w", store.ErrNotFound)
	}
	if s.web == nil {
		return nil, fmt.Errorf("the web map failed to load: %w", errUnavailable)
	}
	return s.web, nil
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) error {
	web, err := s.webPage()
	if err != nil {
		return err
	}
	s.writeAsset(w, r, web.index, cacheIndex)
	return nil
}

func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request) error {
	web, err := s.webPage()
	if err != nil {
		return err
	}
	name := "assets/" + chi.URLParam(r, "*")
	a, ok := web.assets[name] // exact names only: no path is ever opened
	if !ok {
		return fmt.Errorf("no asset %q: %w", name, store.ErrNotFound)
	}
	s.writeAsset(w, r, a, cacheAssets)
	return nil
}

// writeAsset writes a file of the page: gzip-encoded when the client
// accepts it, 304 when its ETag matches, headers only for HEAD.
func (s *Server) writeAsset(w http.ResponseWriter, r *http.Request, a *webAsset, cacheControl string) {
	h := w.Header()
	h.Set("Content-Security-Policy", webCSP)
	h.Set("Cache-Control", cacheControl)
	h.Add("Vary", "Accept-Encoding")
	body, etag := a.body, a.etag
	if a.gz != nil && acceptsGzip(r) {
		body, etag = a.gz, gzipETag(a.etag)
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // a client that left is no server error
	}
}
