package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crimemap/crimemap/tiles"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// GET /metrics: the service's metrics in the Prometheus text format.
//
// Every Server has its own prometheus.Registry (never the library's global
// default one), so two servers in one process (tests, benchmarks) never
// share or collide on a counter. Values that already live elsewhere (the
// snapshot, the tile cache, the database pool) are read by collectors at
// scrape time, so nothing polls in the background and a scrape always sees
// the current value.
//
// The route answers an admin token only: the metrics name routes, show
// load and refusals, and so tell an attacker what hurts. `crimemap serve
// --metrics-public` (Config.MetricsPublic) opens it to anyone, for a
// scraper that cannot send a token; the port must then be firewalled.

// routeNone is the route label of requests answered without a matched
// chi route: an unknown path at the top level, a method no route allows,
// an invalid token, a CORS preflight.
const routeNone = "none"

// metrics are one Server's Prometheus metrics. The methods that report
// to it (setHeavy, refused) are safe on a nil *metrics, so code that
// reports (admission control) needs no checks.
type metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec   // by method, route pattern and status
	duration *prometheus.HistogramVec // by route pattern
	inFlight prometheus.Gauge

	// Heavy-work admission (admission.go) reports here: the gauges of
	// heavy requests running and queued and of the estimated bytes of the
	// running ones, and the refusals by reason (the refusal* constants).
	heavyRunning prometheus.Gauge
	heavyQueued  prometheus.Gauge
	heavyBytes   prometheus.Gauge
	refusals     *prometheus.CounterVec
}

// initMetrics makes the server's metrics and their registry, once, and
// returns them. routes calls it to install the middleware; code that needs
// the metrics earlier in New may call it first.
func (s *Server) initMetrics() *metrics {
	if s.metrics != nil {
		return s.metrics
	}
	reg := prometheus.NewRegistry()
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crimemap_http_requests_total",
			Help: "HTTP requests answered, by method, chi route pattern (never the raw path) and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "crimemap_http_request_duration_seconds",
			Help: "Time to answer an HTTP request, by chi route pattern.",
			// From a cached tile (about a millisecond) to the request
			// timeout (30 s by default) of the heaviest analytics.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "crimemap_http_requests_in_flight",
			Help: "HTTP requests being answered now.",
		}),
		heavyRunning: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "crimemap_heavy_running",
			Help: "Heavy analytics requests running now (admitted by admission control).",
		}),
		heavyQueued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "crimemap_heavy_queued",
			Help: "Heavy analytics requests waiting for a slot now.",
		}),
		heavyBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "crimemap_heavy_bytes",
			Help: "Estimated bytes of the heavy requests admitted and running now, counted against the memory budget.",
		}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crimemap_refusals_total",
			Help: "Requests refused by admission control, by reason (rate_limit, queue_full, queue_wait, too_large).",
		}, []string{"reason"}),
	}
	// Every reason shows from the first scrape (as 0), so rate() and
	// alerts work before the first refusal.
	for _, reason := range refusalReasons() {
		m.refusals.WithLabelValues(reason)
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		m.requests, m.duration, m.inFlight,
		m.heavyRunning, m.heavyQueued, m.heavyBytes, m.refusals,
		newSnapshotCollector(s),
	)
	// Admission control (admission.go) tells its hooks every change of
	// its counts and every refusal; it is made in New, before routes.
	if s.admission != nil {
		s.admission.onChange = m.setHeavy
		s.admission.onRefuse = m.refused
	}
	// The tile cache and the database pool are optional: a Tiles without
	// a cache (a test double) or a store without a pool (SQLite) simply
	// has no such metrics.
	if t, ok := s.cfg.Tiles.(cacheStatser); ok {
		reg.MustRegister(newTileCacheCollector(t))
	}
	if p, ok := s.cfg.Store.(pooler); ok {
		reg.MustRegister(newPoolCollector(p))
	}
	s.metrics = m
	return m
}

// instrument counts and times every request by its chi route pattern. It
// runs inside recoverPanics, so a panic is counted here as the 500 that
// recoverPanics then writes.
func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		m.inFlight.Inc()
		panicked := true
		defer func() {
			m.inFlight.Dec()
			status := ww.Status()
			switch {
			case panicked && status == 0:
				status = http.StatusInternalServerError
			case status == 0: // nothing written: net/http sends 200
				status = http.StatusOK
			}
			// The pattern is read after the handler ran: chi fills the
			// route context as it routes, below this middleware.
			route := routeNone
			if p := chi.RouteContext(r.Context()).RoutePattern(); p != "" {
				route = p
			}
			m.requests.WithLabelValues(metricMethod(r.Method), route, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(ww, r)
		panicked = false
	})
}

// metricMethod bounds the method label: a client can send any token as a
// method, and each would otherwise become a new time series.
func metricMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	}
	return "other"
}

// handler serves the registry: to admin tokens only, or to anyone with
// Config.MetricsPublic. A collector that fails is logged and left out of
// the answer rather than failing the whole scrape.
func (m *metrics) handler(s *Server) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{s.log},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg, // promhttp_metric_handler_errors_total
	})
	if s.cfg.MetricsPublic {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			h.ServeHTTP(w, r)
		})
	}
	return s.requireRole(RoleAdmin, "/metrics (service metrics)")(h)
}

// setHeavy sets the heavy-work gauges: the requests running and queued
// and the estimated bytes admitted (admission's onChange hook).
func (m *metrics) setHeavy(running, queued, bytes int64) {
	if m == nil {
		return
	}
	m.heavyRunning.Set(float64(running))
	m.heavyQueued.Set(float64(queued))
	m.heavyBytes.Set(float64(bytes))
}

// refused counts a refusal (admission's onRefuse hook); reason is one of
// the refusal* constants.
func (m *metrics) refused(reason string) {
	if m == nil {
		return
	}
	m.refusals.WithLabelValues(reason).Inc()
}

// promLogger sends promhttp's errors (a collector that failed, an answer
// that could not be written) to the server's logger.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) {
	l.log.Error("metrics", "err", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}

// newDesc describes a metric without labels.
func newDesc(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }

// snapshotCollector reports the analytics snapshot being served, read at
// scrape time from Config.Snapshots. Before the first snapshot only
// crimemap_snapshot_loaded (0) is reported: an age or a version of
// nothing would read as data.
type snapshotCollector struct {
	s                                                *Server
	loaded, version, dataVersion, age, events, build *prometheus.Desc
}

// buildTimer is the optional part of Snapshots that knows how long the
// current snapshot took to build (analytics.Live).
type buildTimer interface {
	BuildDuration() time.Duration
}

func newSnapshotCollector(s *Server) *snapshotCollector {
	return &snapshotCollector{s: s,
		loaded:      newDesc("crimemap_snapshot_loaded", "1 when an analytics snapshot is loaded and served, 0 before the first."),
		version:     newDesc("crimemap_snapshot_version", "Version of the analytics snapshot served (1 for the first, +1 at every reload)."),
		dataVersion: newDesc("crimemap_snapshot_data_version", "The store's data version the snapshot was built from; it rises with every import, by any process."),
		age:         newDesc("crimemap_snapshot_age_seconds", "Seconds since the served snapshot was built."),
		events:      newDesc("crimemap_snapshot_events", "Events in the served snapshot."),
		build:       newDesc("crimemap_snapshot_build_seconds", "How long the served snapshot took to build."),
	}
}

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.loaded, c.version, c.dataVersion, c.age, c.events, c.build} {
		ch <- d
	}
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	snap, err := c.s.snapshot()
	if err != nil {
		gauge(c.loaded, 0)
		return
	}
	gauge(c.loaded, 1)
	gauge(c.version, float64(snap.Version()))
	gauge(c.dataVersion, float64(snap.DataVersion()))
	gauge(c.age, c.s.cfg.Now().Sub(snap.BuiltAt()).Seconds())
	gauge(c.events, float64(snap.Len()))
	if bt, ok := c.s.cfg.Snapshots.(buildTimer); ok {
		gauge(c.build, bt.BuildDuration().Seconds())
	}
}

// cacheStatser is the optional part of Tiles with a tile cache
// (tiles.Renderer).
type cacheStatser interface {
	CacheStats() tiles.CacheStats
}

// tileCacheCollector reports the tile cache's counters at scrape time.
type tileCacheCollector struct {
	t                                                    cacheStatser
	hits, misses, shared, evictions, entries, bytes, max *prometheus.Desc
}

func newTileCacheCollector(t cacheStatser) *tileCacheCollector {
	return &tileCacheCollector{t: t,
		hits:      newDesc("crimemap_tile_cache_hits_total", "Tile requests answered from the cache (including those that waited for an identical render)."),
		misses:    newDesc("crimemap_tile_cache_misses_total", "Tiles rendered because the cache did not hold them."),
		shared:    newDesc("crimemap_tile_cache_shared_total", "Tile requests that waited for a render an identical request had started."),
		evictions: newDesc("crimemap_tile_cache_evictions_total", "Tiles evicted from the cache to stay under its memory bound."),
		entries:   newDesc("crimemap_tile_cache_entries", "Tiles held in the cache now."),
		bytes:     newDesc("crimemap_tile_cache_bytes", "Bytes held in the tile cache now."),
		max:       newDesc("crimemap_tile_cache_max_bytes", "Memory bound of the tile cache in bytes (0: no cache)."),
	}
}

func (c *tileCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.hits, c.misses, c.shared, c.evictions, c.entries, c.bytes, c.max} {
		ch <- d
	}
}

func (c *tileCacheCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.t.CacheStats()
	send := func(d *prometheus.Desc, t prometheus.ValueType, v float64) {
		ch <- prometheus.MustNewConstMetric(d, t, v)
	}
	send(c.hits, prometheus.CounterValue, float64(st.Hits))
	send(c.misses, prometheus.CounterValue, float64(st.Misses))
	send(c.shared, prometheus.CounterValue, float64(st.Shared))
	send(c.evictions, prometheus.CounterValue, float64(st.Evictions))
	send(c.entries, prometheus.GaugeValue, float64(st.Entries))
	send(c.bytes, prometheus.GaugeValue, float64(st.Bytes))
	send(c.max, prometheus.GaugeValue, float64(st.MaxBytes))
}

// pooler is the optional part of a store with a connection pool
// (store/postgis); SQLite has none.
type pooler interface {
	Pool() *pgxpool.Pool
}

// poolCollector reports pgxpool.Stat at scrape time.
type poolCollector struct {
	p                                             pooler
	acquired, idle, constructing, total, maxConns *prometheus.Desc
	acquires, acquireSeconds, emptyAcquires       *prometheus.Desc
	canceledAcquires, newConns                    *prometheus.Desc
}

func newPoolCollector(p pooler) *poolCollector {
	return &poolCollector{p: p,
		acquired:         newDesc("crimemap_db_pool_acquired_conns", "Database connections checked out of the pool now."),
		idle:             newDesc("crimemap_db_pool_idle_conns", "Idle database connections in the pool now."),
		constructing:     newDesc("crimemap_db_pool_constructing_conns", "Database connections being opened now."),
		total:            newDesc("crimemap_db_pool_total_conns", "Database connections in the pool now (acquired, idle and being opened)."),
		maxConns:         newDesc("crimemap_db_pool_max_conns", "Maximum size of the database pool."),
		acquires:         newDesc("crimemap_db_pool_acquires_total", "Successful acquisitions of a connection from the pool."),
		acquireSeconds:   newDesc("crimemap_db_pool_acquire_seconds_total", "Total time spent acquiring connections (divide by acquires for the mean wait)."),
		emptyAcquires:    newDesc("crimemap_db_pool_empty_acquires_total", "Acquisitions that had to wait because the pool had no idle connection."),
		canceledAcquires: newDesc("crimemap_db_pool_canceled_acquires_total", "Acquisitions abandoned because their context ended first."),
		newConns:         newDesc("crimemap_db_pool_new_conns_total", "Database connections opened by the pool."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.constructing, c.total, c.maxConns,
		c.acquires, c.acquireSeconds, c.emptyAcquires, c.canceledAcquires, c.newConns} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	pool := c.p.Pool()
	if pool == nil {
		return
	}
	st := pool.Stat()
	send := func(d *prometheus.Desc, t prometheus.ValueType, v float64) {
		ch <- prometheus.MustNewConstMetric(d, t, v)
	}
	send(c.acquired, prometheus.GaugeValue, float64(st.AcquiredConns()))
	send(c.idle, prometheus.GaugeValue, float64(st.IdleConns()))
	send(c.constructing, prometheus.GaugeValue, float64(st.ConstructingConns()))
	send(c.total, prometheus.GaugeValue, float64(st.TotalConns()))
	send(c.maxConns, prometheus.GaugeValue, float64(st.MaxConns()))
	send(c.acquires, prometheus.CounterValue, float64(st.AcquireCount()))
	send(c.acquireSeconds, prometheus.CounterValue, st.AcquireDuration().Seconds())
	send(c.emptyAcquires, prometheus.CounterValue, float64(st.EmptyAcquireCount()))
	send(c.canceledAcquires, prometheus.CounterValue, float64(st.CanceledAcquireCount()))
	send(c.newConns, prometheus.CounterValue, float64(st.NewConnsCount()))
}
