package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/server"
	"github.com/crimemap/crimemap/tiles"
)

// do sends method url with headers and returns the status, headers and body.
func do(t *testing.T, method, url string, headers map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	return send(t, req)
}

func TestSecurityHeaders(t *testing.T) {
	ts := newTestServer(t)
	for _, tc := range []struct {
		method, path string
		status       int
		corp         string
	}{
		{"GET", "/healthz", 200, "same-site"},
		{"GET", "/v1/units?level=district", 200, "same-site"},
		{"GET", "/v1/units/9999", 404, "same-site"},
		{"GET", "/nope", 404, "same-site"},
		{"POST", "/healthz", 405, "same-site"},
		{"GET", "/v1/events", 401, "same-site"},
		{"OPTIONS", "/v1/units", 204, "same-site"},
		{"GET", "/tiles/districts/0/0/0.mvt", 503, "cross-origin"}, // no renderer: 503, still the headers
		{"GET", "/tiles/districts.json", 503, "cross-origin"},
		{"GET", "/styles/default.json", 503, "cross-origin"},
	} {
		status, h, body := do(t, tc.method, ts.URL+tc.path, nil)
		if status != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, status, body, tc.status)
		}
		for k, want := range map[string]string{
			"X-Content-Type-Options":       "nosniff",
			"X-Frame-Options":              "DENY",
			"Content-Security-Policy":      "frame-ancestors 'none'",
			"Referrer-Policy":              "no-referrer",
			"Cross-Origin-Resource-Policy": tc.corp,
		} {
			if got := h.Get(k); got != want {
				t.Errorf("%s %s: %s %q, want %q", tc.method, tc.path, k, got, want)
			}
		}
	}
}

func TestCORS(t *testing.T) {
	const allowed, other = "https://analyst.example.uz", "https://evil.example"
	ts, st := newTestServerStore(t, server.Config{CORSOrigins: []string{allowed + "/", "http://localhost:5173"}})
	token := putToken(t, st, server.RoleAnalyst, 0)
	type want struct {
		status         int
		origin, expose string // Access-Control-Allow-Origin, -Expose-Headers
		varyOrigin     bool
		methods, hdrs  string // preflight: Access-Control-Allow-Methods, -Headers
		maxAge         string
	}
	const exposed = "ETag, X-Crimemap-Snapshot, Retry-After"
	for _, tc := range []struct {
		name, method, path string
		headers            map[string]string
		want               want
	}{
		{"public GET, any origin", "GET", "/v1/units?level=district", map[string]string{"Origin": other},
			want{status: 200, origin: "*", expose: exposed}},
		{"public GET, no origin", "GET", "/v1/units?level=district", nil,
			want{status: 200, origin: "*", expose: exposed}},
		{"public GET error, any origin", "GET", "/v1/units/9999", map[string]string{"Origin": other},
			want{status: 404, origin: "*", expose: exposed}},
		{"token GET, allowed origin", "GET", "/v1/events?kind=crime", map[string]string{"Origin": allowed, "Authorization": "Bearer " + token},
			want{status: 200, origin: allowed, expose: exposed, varyOrigin: true}},
		{"token GET, second allowed origin", "GET", "/v1/events?kind=crime", map[string]string{"Origin": "http://localhost:5173", "Authorization": "Bearer " + token},
			want{status: 200, origin: "http://localhost:5173", expose: exposed, varyOrigin: true}},
		{"token GET, other origin", "GET", "/v1/events?kind=crime", map[string]string{"Origin": other, "Authorization": "Bearer " + token},
			want{status: 200, varyOrigin: true}},
		{"token GET, lookalike origin", "GET", "/v1/events?kind=crime", map[string]string{"Origin": allowed + ".evil.example", "Authorization": "Bearer " + token},
			want{status: 200, varyOrigin: true}},
		{"token GET, other scheme", "GET", "/v1/events?kind=crime", map[string]string{"Origin": "http://analyst.example.uz", "Authorization": "Bearer " + token},
			want{status: 200, varyOrigin: true}},
		{"public POST, other origin", "POST", "/v1/classification/runs", map[string]string{"Origin": other},
			want{status: 401, varyOrigin: true}},
		{"preflight for a token, allowed origin", "OPTIONS", "/v1/events", map[string]string{"Origin": allowed,
			"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization, if-none-match"},
			want{status: 204, origin: allowed, varyOrigin: true, methods: "GET, POST, OPTIONS",
				hdrs: "Authorization, Content-Type, If-None-Match", maxAge: "600"}},
		{"preflight for a token POST, allowed origin", "OPTIONS", "/v1/classification/runs", map[string]string{"Origin": allowed,
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "Authorization,Content-Type"},
			want{status: 204, origin: allowed, varyOrigin: true, methods: "GET, POST, OPTIONS",
				hdrs: "Authorization, Content-Type, If-None-Match", maxAge: "600"}},
		{"preflight for a token, other origin", "OPTIONS", "/v1/events", map[string]string{"Origin": other,
			"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "Authorization"},
			want{status: 204, varyOrigin: true}},
		{"preflight without Authorization, any origin", "OPTIONS", "/tiles/districts/1/1/1.mvt", map[string]string{"Origin": other,
			"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "If-None-Match"},
			want{status: 204, origin: "*", varyOrigin: true, methods: "GET, POST, OPTIONS", hdrs: "Content-Type, If-None-Match", maxAge: "600"}},
		{"preflight for POST, other origin", "OPTIONS", "/v1/classification/runs", map[string]string{"Origin": other,
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
			want{status: 204, varyOrigin: true}},
		{"preflight on an unknown path", "OPTIONS", "/nope", map[string]string{"Origin": other,
			"Access-Control-Request-Method": "GET"},
			want{status: 204, origin: "*", varyOrigin: true, methods: "GET, POST, OPTIONS", hdrs: "Content-Type, If-None-Match", maxAge: "600"}},
		{"OPTIONS without a preflight", "OPTIONS", "/healthz", nil, want{status: 204, varyOrigin: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := do(t, tc.method, ts.URL+tc.path, tc.headers)
			w := tc.want
			if status != w.status {
				t.Errorf("status %d %s, want %d", status, body, w.status)
			}
			if tc.method == "OPTIONS" && len(body) != 0 {
				t.Errorf("OPTIONS body %q", body)
			}
			for k, v := range map[string]string{
				"Access-Control-Allow-Origin":      w.origin,
				"Access-Control-Expose-Headers":    w.expose,
				"Access-Control-Allow-Methods":     w.methods,
				"Access-Control-Allow-Headers":     w.hdrs,
				"Access-Control-Max-Age":           w.maxAge,
				"Access-Control-Allow-Credentials": "",
			} {
				if got := h.Get(k); got != v {
					t.Errorf("%s %q, want %q", k, got, v)
				}
			}
			vary := strings.Join(h.Values("Vary"), ", ")
			if got := strings.Contains(vary, "Origin"); got != w.varyOrigin {
				t.Errorf("Vary %q: Origin %v, want %v", vary, got, w.varyOrigin)
			}
		})
	}
}

// TestPublicURLNotHost: TileJSON and style URLs come from Config.PublicURL,
// never from the request's Host header.
func TestPublicURLNotHost(t *testing.T) {
	ts := newTileServer(t) // PublicURL: tilePublicURL
	forged := map[string]string{"Host": "evil.example:666", "X-Forwarded-Host": "evil2.example"}
	status, _, tjBody := do(t, "GET", ts.URL+"/tiles/districts.json?period=2026-Q2", forged)
	var tj tiles.TileJSON
	if status != 200 || json.Unmarshal(tjBody, &tj) != nil || len(tj.Tiles) != 1 {
		t.Fatalf("tilejson: %d %s", status, tjBody)
	}
	if want := tilePublicURL + "/tiles/districts/{z}/{x}/{y}.mvt?period=2026-Q2"; tj.Tiles[0] != want {
		t.Errorf("tiles %q, want %q", tj.Tiles[0], want)
	}
	status, _, body := do(t, "GET", ts.URL+"/styles/default.json?period=2026-Q2", forged)
	var st struct {
		Sources map[string]struct{ URL string }
	}
	if status != 200 || json.Unmarshal(body, &st) != nil || len(st.Sources) == 0 {
		t.Fatalf("style: %d %s", status, body)
	}
	for name, src := range st.Sources {
		if !strings.HasPrefix(src.URL, tilePublicURL+"/tiles/"+name+".json") {
			t.Errorf("style source %s: %q", name, src.URL)
		}
	}
	for _, b := range [][]byte{tjBody, body} {
		if strings.Contains(string(b), "evil") {
			t.Errorf("forged host in %s", b)
		}
	}
}
