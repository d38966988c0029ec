package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/crimemap/crimemap/server"
	"github.com/crimemap/crimemap/web"
)

// webCSP is the page's Content-Security-Policy (server.webCSP), spelled
// out here so that a change to it is a change to this test too.
const webCSP = "default-src 'self'; script-src 'self'; worker-src blob:; child-src blob:; img-src 'self' data: blob:; " +
	"style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// testPage is a small built page: index.html and one asset of every type
// the page may load.
func testPage() fstest.MapFS {
	big := strings.Repeat("maplibre ", 400) // compresses well
	return fstest.MapFS{
		"index.html":                  {Data: []byte(`<!doctype html><title>crimemap</title><script src="/assets/index-1a2b3c.js"></script>` + big)},
		"assets/index-1a2b3c.js":      {Data: []byte("console.log('map');" + big)},
		"assets/index-4d5e6f.css":     {Data: []byte("body{margin:0}" + big)},
		"assets/licenses-0a0b0c.txt":  {Data: []byte("MapLibre GL JS: BSD-3-Clause")},
		"assets/marker-7a8b9c.svg":    {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
		"assets/sprite-1c2d3e.png":    {Data: []byte("\x89PNG\r\n\x1a\n")},
		"assets/sprite-1c2d3e.json":   {Data: []byte(`{"marker":{"x":0}}`)},
		"assets/font-5f6a7b.woff2":    {Data: []byte("wOF2")},
		"assets/sub/nested-8c9d0e.js": {Data: []byte("export {}")},
	}
}

// identity asks for the unencoded body (Go's client otherwise asks for gzip
// and decodes it silently).
var identity = map[string]string{"Accept-Encoding": "identity"}

func TestWebPage(t *testing.T) {
	page := testPage()
	ts, _ := newTestServerStore(t, server.Config{Web: page})
	index := page["index.html"].Data

	status, h, body := do(t, "GET", ts.URL+"/", identity)
	if status != 200 || !bytes.Equal(body, index) {
		t.Fatalf("GET /: %d %q", status, body)
	}
	for k, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-cache",
		"Content-Security-Policy": webCSP,
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Vary":                    "Accept-Encoding",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("GET /: %s %q, want %q", k, got, want)
		}
	}
	etag := h.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Errorf("GET /: ETag %q, want a strong one", etag)
	}

	// The page's own state in the query string gets the same page.
	status, _, body = do(t, "GET", ts.URL+"/?period=2025-Q3&unit=1710224001&layer=mahallas&lang=ru", identity)
	if status != 200 || !bytes.Equal(body, index) {
		t.Errorf("GET /?period=...: %d, same page %t", status, bytes.Equal(body, index))
	}

	for _, tc := range []struct {
		name        string
		path        string
		headers     map[string]string
		status      int
		contentType string
		encoding    string
		cache       string
		etag        string // "" any; "-gzip" the gzip tag of the identity one
	}{
		{"index revalidated", "/", map[string]string{"If-None-Match": etag, "Accept-Encoding": "identity"}, 304, "", "", "no-cache", etag},
		{"index gzip", "/", map[string]string{"Accept-Encoding": "gzip"}, 200, "text/html; charset=utf-8", "gzip", "no-cache", "-gzip"},
		{"index gzip revalidated", "/", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": strings.TrimSuffix(etag, `"`) + `-gzip"`}, 304, "", "", "no-cache", "-gzip"},
		{"index gzip refused", "/", map[string]string{"Accept-Encoding": "gzip;q=0"}, 200, "text/html; charset=utf-8", "", "no-cache", etag},
		{"js", "/assets/index-1a2b3c.js", identity, 200, "text/javascript; charset=utf-8", "", "public, max-age=31536000, immutable", ""},
		{"js gzip", "/assets/index-1a2b3c.js", map[string]string{"Accept-Encoding": "gzip, deflate, br"}, 200, "text/javascript; charset=utf-8", "gzip", "public, max-age=31536000, immutable", ""},
		{"css", "/assets/index-4d5e6f.css", identity, 200, "text/css; charset=utf-8", "", "public, max-age=31536000, immutable", ""},
		{"txt", "/assets/licenses-0a0b0c.txt", identity, 200, "text/plain; charset=utf-8", "", "public, max-age=31536000, immutable", ""},
		{"svg", "/assets/marker-7a8b9c.svg", identity, 200, "image/svg+xml", "", "public, max-age=31536000, immutable", ""},
		{"png", "/assets/sprite-1c2d3e.png", identity, 200, "image/png", "", "public, max-age=31536000, immutable", ""},
		{"json", "/assets/sprite-1c2d3e.json", identity, 200, "application/json", "", "public, max-age=31536000, immutable", ""},
		{"woff2", "/assets/font-5f6a7b.woff2", identity, 200, "font/woff2", "", "public, max-age=31536000, immutable", ""},
		{"nested", "/assets/sub/nested-8c9d0e.js", identity, 200, "text/javascript; charset=utf-8", "", "public, max-age=31536000, immutable", ""},
		{"tiny asset not gzipped", "/assets/font-5f6a7b.woff2", map[string]string{"Accept-Encoding": "gzip"}, 200, "font/woff2", "", "public, max-age=31536000, immutable", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", ts.URL+tc.path, nil)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			status, h, body := send(t, req)
			if status != tc.status {
				t.Fatalf("%d %s", status, body)
			}
			if got := h.Get("Content-Encoding"); got != tc.encoding {
				t.Errorf("Content-Encoding %q, want %q", got, tc.encoding)
			}
			if tc.contentType != "" && h.Get("Content-Type") != tc.contentType {
				t.Errorf("Content-Type %q, want %q", h.Get("Content-Type"), tc.contentType)
			}
			if h.Get("Cache-Control") != tc.cache {
				t.Errorf("Cache-Control %q, want %q", h.Get("Cache-Control"), tc.cache)
			}
			if h.Get("Content-Security-Policy") != webCSP || h.Get("Vary") != "Accept-Encoding" {
				t.Errorf("CSP %q, Vary %q", h.Get("Content-Security-Policy"), h.Get("Vary"))
			}
			switch {
			case tc.etag == "-gzip" && !strings.HasSuffix(h.Get("ETag"), `-gzip"`):
				t.Errorf("ETag %q, want the gzip one", h.Get("ETag"))
			case tc.etag != "" && tc.etag != "-gzip" && h.Get("ETag") != tc.etag:
				t.Errorf("ETag %q, want %q", h.Get("ETag"), tc.etag)
			case h.Get("ETag") == "":
				t.Error("no ETag")
			}
			if status == 304 {
				if len(body) != 0 {
					t.Errorf("304 with a body of %d bytes", len(body))
				}
				return
			}
			want := index
			if tc.path != "/" {
				want = page[strings.TrimPrefix(tc.path, "/")].Data
			}
			if tc.encoding == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(body, want) {
				t.Errorf("body %q, want %q", body, want)
			}
		})
	}

	// HEAD: the headers of GET, no body.
	status, h, body = do(t, "HEAD", ts.URL+"/assets/index-1a2b3c.js", identity)
	if status != 200 || len(body) != 0 || h.Get("Content-Length") != strconv.Itoa(len(page["assets/index-1a2b3c.js"].Data)) || h.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("HEAD asset: %d, %d bytes, Content-Length %q, %q", status, len(body), h.Get("Content-Length"), h.Get("Content-Type"))
	}
	if status, h, _ = do(t, "HEAD", ts.URL+"/", identity); status != 200 || h.Get("ETag") != etag {
		t.Errorf("HEAD /: %d, ETag %q", status, h.Get("ETag"))
	}

	// Unknown assets: the usual JSON 404, with the API's headers.
	for _, p := range []string{"/assets/nope.js", "/assets/", "/assets/../index.html", "/assets/%2e%2e/index.html", "/assets/sub"} {
		status, h, body := do(t, "GET", ts.URL+p, identity)
		var e struct {
			Error  string
			Status int
		}
		if status != 404 || json.Unmarshal(body, &e) != nil || e.Status != 404 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s: %d %s %q, want the JSON 404", p, status, h.Get("Content-Type"), body)
		}
		if h.Get("Content-Security-Policy") != "frame-ancestors 'none'" {
			t.Errorf("GET %s: CSP %q, want the API's", p, h.Get("Content-Security-Policy"))
		}
	}
	// The API keeps its own policy.
	if _, h, _ := do(t, "GET", ts.URL+"/healthz", nil); h.Get("Content-Security-Policy") != "frame-ancestors 'none'" {
		t.Errorf("/healthz CSP %q", h.Get("Content-Security-Policy"))
	}
}

// TestWebPageAbsent: without Config.Web the page's routes are JSON 404s.
func TestWebPageAbsent(t *testing.T) {
	ts := newTestServer(t)
	for _, p := range []string{"/", "/?lang=ru", "/assets/index.js"} {
		status, h, body := do(t, "GET", ts.URL+p, nil)
		if status != 404 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || !strings.Contains(string(body), "web map") {
			t.Errorf("GET %s: %d %s", p, status, body)
		}
	}
}

// TestWebEmbedded serves the real embedded page (web.Assets()): its
// index.html at /, and every asset it names.
func TestWebEmbedded(t *testing.T) {
	ts, _ := newTestServerStore(t, server.Config{Web: web.Assets()})
	status, h, body := do(t, "GET", ts.URL+"/", identity)
	if status != 200 || h.Get("Content-Type") != "text/html; charset=utf-8" || !bytes.Contains(bytes.ToLower(body), []byte("<html")) {
		t.Fatalf("GET /: %d %s %.200s", status, h.Get("Content-Type"), body)
	}
	for _, m := range assetRefs(string(body)) {
		if status, _, _ := do(t, "GET", ts.URL+m, identity); status != 200 {
			t.Errorf("the page loads %s: %d", m, status)
		}
	}
}

// assetRefs are the /assets/ paths a page names in src= or href=.
func assetRefs(html string) []string {
	var out []string
	for _, attr := range []string{`src="`, `href="`} {
		for rest := html; ; {
			i := strings.Index(rest, attr)
			if i < 0 {
				break
			}
			rest = rest[i+len(attr):]
			v, _, _ := strings.Cut(rest, `"`)
			v = strings.TrimPrefix(v, ".")
			if strings.HasPrefix(v, "/assets/") {
				out = append(out, v)
			}
		}
	}
	return out
}

// TestWebRateAndMetrics: assets do not spend the client's rate budget, the
// page does; metrics label them by route pattern, never by file.
func TestWebRateAndMetrics(t *testing.T) {
	ts, _ := newTestServerStore(t, server.Config{Web: testPage(), MetricsPublic: true,
		Admission: server.AdmissionConfig{RatePerSecond: 0.001, RateBurst: 2}})
	for i := range 20 {
		if status, _, body := do(t, "GET", ts.URL+"/assets/index-1a2b3c.js", identity); status != 200 {
			t.Fatalf("asset request %d: %d %s", i, status, body)
		}
	}
	// /metrics is not limited either; the burst of 2 is still whole.
	for i, want := range []int{200, 200, 429} {
		if status, _, _ := do(t, "GET", ts.URL+"/?lang=ru", identity); status != want {
			t.Errorf("page request %d: %d, want %d", i, status, want)
		}
	}
	_, _, body := do(t, "GET", ts.URL+"/metrics", nil)
	for _, want := range []string{
		`crimemap_http_requests_total{method="GET",route="/assets/*",status="200"} 20`,
		`crimemap_http_requests_total{method="GET",route="/",status="200"} 2`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(body), "index-1a2b3c") {
		t.Error("metrics name an asset file")
	}
}

// TestWebLoadFails: a Web without index.html serves 503 at / (and logs),
// not a crash.
func TestWebLoadFails(t *testing.T) {
	s := server.New(server.Config{Web: fstest.MapFS{"assets/a.js": {Data: []byte("x")}}})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 503 {
		t.Errorf("GET / with a page without index.html: %d %s", rec.Code, rec.Body)
	}
}
