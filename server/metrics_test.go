package server

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/postgis"
	"github.com/crimemap/crimemap/store/postgis/pgtest"
	"github.com/crimemap/crimemap/store/sqlite"
	"github.com/crimemap/crimemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricsFixture is a server over a small seeded demo in a real embedded
// store, with a real snapshot and tile renderer, and tokens of each role.
type metricsFixture struct {
	live                   *analytics.Live
	st                     *sqlite.Store
	viewer, analyst, admin string
}

func newMetricsFixture(t *testing.T) metricsFixture {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	units, err := demo.Units()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutUnits(ctx, units); err != nil {
		t.Fatal(err)
	}
	cfg := demo.Config{Seed: 7, Now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), Scale: 0.02}
	if err := demo.Events(ctx, cfg, units, func(b []analytics.Event) error {
		_, err := st.PutEvents(ctx, b)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	live := analytics.NewLive(st, func(ctx context.Context) ([]geo.Unit, error) { return st.Units(ctx, store.UnitQuery{}) })
	if err := live.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	tok := func(role Role) string {
		s, rec, err := NewToken(role, "metrics test", time.Now(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutToken(ctx, rec); err != nil {
			t.Fatal(err)
		}
		return s
	}
	return metricsFixture{live: live, st: st, viewer: tok(RoleViewer), analyst: tok(RoleAnalyst), admin: tok(RoleAdmin)}
}

// server serves the fixture with a tile renderer; public opens /metrics.
func (f metricsFixture) server(t *testing.T, public bool) *httptest.Server {
	t.Helper()
	rend := tiles.New(tiles.Config{
		Snapshots: f.live,
		Boundaries: func(ctx context.Context, l geo.Level) ([]geo.Unit, error) {
			return f.st.Units(ctx, store.UnitQuery{Level: l, WithGeometry: true})
		},
	})
	ts := httptest.NewServer(New(Config{Store: f.st, Snapshots: f.live, Tiles: rend, MetricsPublic: public}).Handler())
	t.Cleanup(ts.Close)
	return ts
}

// fetch GETs url with token ("" for none) and returns status, headers and body.
func fetch(t *testing.T, url, token string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// scrape GETs /metrics and parses it with the Prometheus text parser (with
// the classic, strict metric name rules), so that a malformed exposition
// fails the test.
func scrape(t *testing.T, base, token string) map[string]*dto.MetricFamily {
	t.Helper()
	status, h, body := fetch(t, base+"/metrics", token)
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", status, body)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || !strings.Contains(ct, "version=0.0.4") {
		t.Errorf("Content-Type %q, want the text format 0.0.4", ct)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
}

// sample finds the metric of family name whose labels include want.
func sample(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric family %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m
	}
	t.Fatalf("%s: no sample with labels %v", name, want)
	return nil
}

// value is the value of a counter or gauge sample.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	m := sample(t, fams, name, labels)
	switch fams[name].GetType() {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	}
	t.Fatalf("%s is a %v", name, fams[name].GetType())
	return 0
}

// TestMetrics scrapes /metrics through the real handler after a few
// requests: route patterns (never raw paths) and statuses, the latency
// histogram, the snapshot gauges, the tile cache counters and the
// admission metrics.
func TestMetrics(t *testing.T) {
	f := newMetricsFixture(t)
	ts := f.server(t, false)
	qarshi := maptile.At(orb.Point{65.79, 38.86}, 9)
	tile := fmt.Sprintf("/tiles/districts/%d/%d/%d.mvt?period=2026-Q2", qarshi.Z, qarshi.X, qarshi.Y)
	for _, r := range []struct {
		path, token string
		status      int
	}{
		{"/v1/units/1710401", "", 200},
		{"/v1/units/1710207", "", 200},
		{"/v1/units/9999", "", 404},
		{"/no/such/path", "", 404},
		{"/v1/events?kind=crime&limit=1", "", 401},
		{tile, f.analyst, 0}, // a miss: rendered
		{tile, f.analyst, 0}, // a hit
		{"/healthz", "", 200},
	} {
		status, _, body := fetch(t, ts.URL+r.path, r.token)
		if r.status != 0 && status != r.status {
			t.Fatalf("GET %s: %d %s, want %d", r.path, status, body, r.status)
		}
		if r.path == tile && status != http.StatusOK && status != http.StatusNoContent {
			t.Fatalf("GET %s: %d %s", r.path, status, body)
		}
	}
	fams := scrape(t, ts.URL, f.admin)

	reqs := "crimemap_http_requests_total"
	for _, c := range []struct {
		route, status string
		want          float64
	}{
		{"/v1/units/{code}", "200", 2},
		{"/v1/units/{code}", "404", 1},
		{"/v1/events", "401", 1},
		{"/healthz", "200", 1},
		{routeNone, "404", 1}, // no route: labelled none, never with its path
	} {
		if got := value(t, fams, reqs, map[string]string{"method": "GET", "route": c.route, "status": c.status}); got != c.want {
			t.Errorf("%s{route=%q,status=%s} = %v, want %v", reqs, c.route, c.status, got, c.want)
		}
	}
	for _, m := range fams[reqs].GetMetric() {
		for _, l := range m.GetLabel() {
			if v := l.GetValue(); strings.Contains(v, "1710401") || strings.Contains(v, "no/such") || strings.Contains(v, "?") {
				t.Errorf("%s has a raw path or query in label %s=%q", reqs, l.GetName(), v)
			}
		}
	}

	h := sample(t, fams, "crimemap_http_request_duration_seconds", map[string]string{"route": "/v1/units/{code}"}).GetHistogram()
	if h.GetSampleCount() != 3 || h.GetSampleSum() <= 0 {
		t.Errorf("latency histogram of /v1/units/{code}: count %d sum %v, want 3 and > 0", h.GetSampleCount(), h.GetSampleSum())
	}
	// The text format ends every histogram with the +Inf bucket.
	wantBounds := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, math.Inf(1)}
	if len(h.GetBucket()) != len(wantBounds) {
		t.Fatalf("histogram has %d buckets, want %d", len(h.GetBucket()), len(wantBounds))
	}
	prev := uint64(0)
	for i, b := range h.GetBucket() {
		if b.GetUpperBound() != wantBounds[i] || b.GetCumulativeCount() < prev {
			t.Errorf("bucket %d: le=%v count %d (previous %d); want le=%v and cumulative counts", i, b.GetUpperBound(), b.GetCumulativeCount(), prev, wantBounds[i])
		}
		prev = b.GetCumulativeCount()
	}
	if last := h.GetBucket()[len(wantBounds)-1].GetCumulativeCount(); last != 3 {
		t.Errorf("le=+Inf bucket counts %d, want 3", last)
	}
	if got := value(t, fams, "crimemap_http_requests_in_flight", nil); got != 1 { // the scrape itself
		t.Errorf("in flight during the scrape = %v, want 1", got)
	}

	snap := f.live.Current()
	for name, want := range map[string]float64{
		"crimemap_snapshot_loaded":       1,
		"crimemap_snapshot_version":      float64(snap.Version()),
		"crimemap_snapshot_data_version": float64(snap.DataVersion()),
		"crimemap_snapshot_events":       float64(snap.Len()),
	} {
		if got := value(t, fams, name, nil); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if snap.Len() == 0 {
		t.Fatal("the demo snapshot is empty")
	}
	if age := value(t, fams, "crimemap_snapshot_age_seconds", nil); age < 0 || age > 600 {
		t.Errorf("crimemap_snapshot_age_seconds = %v, want a few seconds", age)
	}
	if b := value(t, fams, "crimemap_snapshot_build_seconds", nil); b <= 0 || b != f.live.BuildDuration().Seconds() {
		t.Errorf("crimemap_snapshot_build_seconds = %v, want Live.BuildDuration %v (> 0)", b, f.live.BuildDuration())
	}

	if hits, misses := value(t, fams, "crimemap_tile_cache_hits_total", nil), value(t, fams, "crimemap_tile_cache_misses_total", nil); hits != 1 || misses != 1 {
		t.Errorf("tile cache hits %v misses %v, want 1 and 1", hits, misses)
	}
	if b, maxB := value(t, fams, "crimemap_tile_cache_bytes", nil), value(t, fams, "crimemap_tile_cache_max_bytes", nil); b <= 0 || maxB < b {
		t.Errorf("tile cache bytes %v of %v, want > 0 and within the bound", b, maxB)
	}

	for _, reason := range refusalReasons() {
		if got := value(t, fams, "crimemap_refusals_total", map[string]string{"reason": reason}); got != 0 {
			t.Errorf("crimemap_refusals_total{reason=%q} = %v before any refusal", reason, got)
		}
	}
	for _, name := range []string{"crimemap_heavy_running", "crimemap_heavy_queued", "crimemap_heavy_bytes",
		"go_goroutines", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes", "go_build_info"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
	for name := range fams {
		if strings.HasPrefix(name, "crimemap_db_pool_") {
			t.Errorf("%s on SQLite, which has no pool", name)
		}
	}
}

// TestMetricsAccess: /metrics needs an admin token (401 without a token,
// 403 below admin, as TestOpenAPIRoles checks against openapi.json), and
// answers anyone with MetricsPublic, never to be cached.
func TestMetricsAccess(t *testing.T) {
	f := newMetricsFixture(t)
	closed := f.server(t, false)
	for _, c := range []struct {
		name, token string
		status      int
	}{
		{"no token", "", 401},
		{"viewer", f.viewer, 403},
		{"analyst", f.analyst, 403},
		{"invalid token", "cm_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401},
		{"admin", f.admin, 200},
	} {
		status, h, body := fetch(t, closed.URL+"/metrics", c.token)
		if status != c.status {
			t.Errorf("%s: %d %.200s, want %d", c.name, status, body, c.status)
		}
		if status == 401 && h.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", c.name)
		}
		if status != 200 && strings.Contains(string(body), "crimemap_") {
			t.Errorf("%s: a refused scrape shows metrics: %.200s", c.name, body)
		}
		if status == 200 && !strings.Contains(h.Get("Cache-Control"), "no-store") {
			t.Errorf("%s: Cache-Control %q, want no-store", c.name, h.Get("Cache-Control"))
		}
	}

	open := f.server(t, true)
	status, h, body := fetch(t, open.URL+"/metrics", "")
	if status != 200 || !strings.Contains(string(body), "crimemap_snapshot_events") || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("MetricsPublic without a token: %d (Cache-Control %q) %.300s", status, h.Get("Cache-Control"), body)
	}
	scrape(t, open.URL, "")
}

// TestMetricsCounting: a panic is counted as the 500 recoverPanics
// writes, unknown methods share one label value, and admission control's
// hooks are wired to the gauges and counters (safe on nil).
func TestMetricsCounting(t *testing.T) {
	s := New(Config{})
	m := s.metrics
	boom := m.instrument(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	s.recoverPanics(boom).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("panic answered %d", rec.Code)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	for _, method := range []string{"BREW", "PROPFIND"} {
		req, _ := http.NewRequest(method, ts.URL+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	if s.admission == nil || s.admission.onChange == nil || s.admission.onRefuse == nil {
		t.Error("admission control does not report to the metrics")
	}
	m.setHeavy(3, 1, 5<<20)
	m.setHeavy(1, 1, 200) // absolute values, as admission reports them
	m.refused(refuseQueue)
	m.refused(refuseQueue)
	m.refused(refuseTooMuch)
	var none *metrics // admission code needs no nil checks
	none.setHeavy(1, 1, 1)
	none.refused(refuseRate)

	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	if got := value(t, byName, "crimemap_http_requests_total", map[string]string{"method": "GET", "route": routeNone, "status": "500"}); got != 1 {
		t.Errorf("panics counted %v, want 1", got)
	}
	if got := value(t, byName, "crimemap_http_requests_total", map[string]string{"method": "other", "route": routeNone, "status": "405"}); got != 2 {
		t.Errorf("unknown methods counted %v under method=other, want 2", got)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"crimemap_heavy_running", nil, 1},
		{"crimemap_heavy_queued", nil, 1},
		{"crimemap_heavy_bytes", nil, 200},
		{"crimemap_refusals_total", map[string]string{"reason": refuseQueue}, 2},
		{"crimemap_refusals_total", map[string]string{"reason": refuseTooMuch}, 1},
		{"crimemap_refusals_total", map[string]string{"reason": refuseRate}, 0},
		{"crimemap_snapshot_loaded", nil, 0}, // no snapshot: no version, age or count
	} {
		if got := value(t, byName, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, name := range []string{"crimemap_snapshot_version", "crimemap_snapshot_age_seconds", "crimemap_tile_cache_hits_total"} {
		if _, ok := byName[name]; ok {
			t.Errorf("%s without a snapshot or tiles", name)
		}
	}

	// Two servers in one process have separate registries: nothing global.
	if New(Config{}).metrics.reg == m.reg {
		t.Error("two servers share a registry")
	}
}

// TestMetricsPostGISPool: with the PostGIS store, the pool's statistics
// are scraped from pgxpool.Stat.
func TestMetricsPostGISPool(t *testing.T) {
	pg, err := postgis.Open(t.Context(), pgtest.URL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	ts := httptest.NewServer(New(Config{Store: pg, MetricsPublic: true}).Handler())
	t.Cleanup(ts.Close)
	if status, _, body := fetch(t, ts.URL+"/readyz", ""); status != 200 { // acquires a connection
		t.Fatalf("/readyz: %d %s", status, body)
	}
	fams := scrape(t, ts.URL, "")
	maxConns := value(t, fams, "crimemap_db_pool_max_conns", nil)
	if want := float64(pg.Pool().Stat().MaxConns()); maxConns != want || maxConns < 1 {
		t.Errorf("crimemap_db_pool_max_conns = %v, want %v", maxConns, want)
	}
	total := value(t, fams, "crimemap_db_pool_total_conns", nil)
	idle := value(t, fams, "crimemap_db_pool_idle_conns", nil)
	acquired := value(t, fams, "crimemap_db_pool_acquired_conns", nil)
	if total < 1 || idle+acquired > total || total > maxConns {
		t.Errorf("pool: total %v idle %v acquired %v max %v", total, idle, acquired, maxConns)
	}
	if n := value(t, fams, "crimemap_db_pool_acquires_total", nil); n < 1 {
		t.Errorf("crimemap_db_pool_acquires_total = %v after /readyz, want >= 1", n)
	}
	for _, name := range []string{"crimemap_db_pool_acquire_seconds_total", "crimemap_db_pool_empty_acquires_total",
		"crimemap_db_pool_canceled_acquires_total", "crimemap_db_pool_new_conns_total", "crimemap_db_pool_constructing_conns"} {
		value(t, fams, name, nil)
	}
	if fams["crimemap_db_pool_acquires_total"].GetType() != dto.MetricType_COUNTER {
		t.Error("crimemap_db_pool_acquires_total is not a counter")
	}
}
