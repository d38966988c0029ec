// Package server is the HTTP API: chi routes, handlers, middleware and the
// one place where errors become HTTP statuses.
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/i18n"
	"github.com/crimemap/crimemap/store"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// Config configures a Server.
type Config struct {
	Store store.Store
	// Snapshots serves the analytics endpoints (analytics.Live); until it
	// has a snapshot they answer 503.
	Snapshots Snapshots
	Logger    *slog.Logger
	// RequestTimeout bounds every request's context (default 30 s).
	RequestTimeout time.Duration
	// Location is the zone dates without a zone are read in (default
	// Asia/Tashkent).
	Location *time.Location
	// Now is the clock (default time.Now); tests fix it.
	Now func() time.Time
	// Notice is shown in /v1 responses when the data is synthetic
	// (e.g. the demo region); empty for real data.
	Notice string
	// Attribution credits the sources of the data (boundaries,
	// population) as licences require; /v1/meta gives it to the web map,
	// which shows it. Empty: none.
	Attribution string
	// Tiles renders the vector tiles, TileJSON and map style (a
	// tiles.Renderer); nil answers 503 on those routes.
	Tiles Tiles
	// Disclose makes every public answer (analytics/disclose); nil means
	// one with the defaults and boundaries from Store. Tiles must use the
	// same one so that a cell has one published value everywhere.
	Disclose *disclose.Discloser
	// Policy classifies mahallas (POST /v1/classification/runs); nil
	// means classify.DefaultPolicy().
	Policy *classify.Policy
	// PublicURL is the absolute URL clients reach the service at (e.g.
	// https://map.example.uz): the base of the URLs in TileJSON and the
	// map style, never taken from a request's Host header. Empty: "http://"
	// and the listener's address under Serve, "http://localhost" otherwise
	// (crimemap serve passes "http://" + its listen address).
	PublicURL string
	// CORSOrigins are the origins (scheme://host[:port], exact match)
	// whose pages may call the API with a token; public GETs are open to
	// every origin (see cors).
	CORSOrigins []string
	// Admission configures the per-client rate limit and the pool of
	// heavy analyses (see admission.go); zero values take the defaults.
	Admission AdmissionConfig
	// MetricsPublic serves GET /metrics to anyone; by default it needs an
	// admin token (crimemap serve --metrics-public; firewall it then).
	MetricsPublic bool
	// Web is the analysts' web map served at / and /assets/ (web.Assets():
	// index.html at its root, hashed files under assets/); nil serves no
	// page (404). It is read and compressed once, in New.
	Web fs.FS
	// Basemap is the PMTiles basemap served at /basemap.json and
	// /basemap/{z}/{x}/{y}.{ext} (OpenBasemap, crimemap serve --basemap);
	// nil serves none (404) and /v1/meta's basemap is "".
	Basemap *Basemap
	// Version is the service's version in /v1/meta (crimemap serve passes
	// the module version); empty: the main module's version from the
	// binary's build info.
	Version string
}

// Server serves the crimemap API.
type Server struct {
	cfg    Config
	log    *slog.Logger
	router chi.Router
	// defaultPolicy is classify.DefaultPolicy(), loaded once, when
	// Config.Policy is nil.
	defaultPolicy *classify.Policy
	// disclose makes the public answers (Config.Disclose or the default).
	disclose *disclose.Discloser
	// admission is the rate limit and heavy-analysis pool.
	admission *admission
	// districts memoises the district analyses behind mahalla profiles.
	districts *districtMemo
	// verified remembers tokens' last checks, for store outages only.
	verified verifiedTokens
	// catalogues are the message catalogues of the reports (nil when they
	// failed to load: reports answer 503).
	catalogues *i18n.Catalogues
	// listenURL is "http://" + the listener's address, set by Serve: the
	// public base URL when Config.PublicURL is empty.
	listenURL atomic.Pointer[string]
	// metrics are this server's Prometheus metrics (metrics.go), made by
	// initMetrics.
	metrics *metrics
	// web is the page of Config.Web, loaded once (nil without one, or when
	// it failed to load: / answers 503 then).
	web *webFiles
	// bbox memoises the extent of the stored units for /v1/meta.
	bbox bboxMemo
	// queryParams are the query parameters of each documented route
	// (openapi.json), checked by checkQuery.
	queryParams queryParams
}

// New builds a Server; call Handler or Serve.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
		if loc, err := time.LoadLocation("Asia/Tashkent"); err == nil {
			cfg.Location = loc
		}
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	s := &Server{cfg: cfg, log: cfg.Logger, admission: newAdmission(cfg.Admission), districts: newDistrictMemo()}
	if cfg.Policy == nil {
		s.defaultPolicy = classify.DefaultPolicy()
	}
	s.disclose = cfg.Disclose
	if s.disclose == nil {
		s.disclose = s.newDiscloser()
	}
	if cfg.Version == "" {
		s.cfg.Version = buildVersion()
	}
	if cfg.Web != nil {
		if w, err := loadWeb(cfg.Web); err != nil {
			s.log.Error("web map", "err", err)
		} else {
			s.web = w
		}
	}
	if cat, err := i18n.Load(); err != nil {
		s.log.Error("message catalogues", "err", err)
	} else {
		s.catalogues = cat
	}
	if qp, err := loadQueryParams(openAPI); err != nil {
		s.log.Error("query parameters from openapi.json: unchecked", "err", err) // TestOpenAPIQueryParams fails first
	} else {
		s.queryParams = qp
	}
	s.router = s.routes()
	return s
}

// Handler returns the HTTP handler with every route and middleware.
func (s *Server) Handler() http.Handler { return s.router }

func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(securityHeaders) // first: every answer carries them
	r.Use(middleware.RequestID)
	r.Use(s.logRequests)
	r.Use(s.recoverPanics)
	// Metrics inside recoverPanics, so that a panic counts as its 500.
	r.Use(s.initMetrics().instrument)
	r.Use(s.cors) // before routing and auth: OPTIONS never reaches a handler or the 405 path
	// JSON, GeoJSON and CSV answers are gzip-encoded for clients that
	// accept it (chi's compressor: a mahalla stats table shrinks ~8x);
	// tiles and the page's assets arrive already encoded and pass through.
	r.Use(middleware.Compress(5, "application/json", "application/geo+json", "text/csv"))
	r.Use(middleware.Timeout(s.cfg.RequestTimeout))
	r.Use(s.authenticate) // RoleFrom(ctx); 401 for a bad token
	r.Use(s.rateLimit)    // per client: the token's ID, else the address
	// Last: an undocumented query parameter is a 400 on every route
	// (querycheck.go), before any handler could ignore it.
	r.Use(s.checkQuery)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, fmt.Errorf("no route %s %s: %w", r.Method, r.URL.Path, store.ErrNotFound))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, fmt.Errorf("%s not allowed on %s: %w", r.Method, r.URL.Path, errMethod))
	})

	r.Get("/healthz", s.handleHealthz)
	r.Get("/readyz", s.handleReadyz)
	r.Get("/openapi.json", s.handleOpenAPI)
	r.Method(http.MethodGet, "/metrics", s.metrics.handler(s)) // admin only unless Config.MetricsPublic
	r.Get("/tiles/{layer}/{z}/{x}/{y}.mvt", s.errorHandler(s.handleTile))
	r.Get("/tiles/{layer}.json", s.errorHandler(s.handleTileJSON))
	r.Get("/styles/default.json", s.errorHandler(s.handleStyle))
	r.Get("/basemap.json", s.errorHandler(s.handleBasemapTileJSON))
	r.Get("/basemap/{z}/{x}/{y}.{ext}", s.errorHandler(s.handleBasemapTile))
	// The web map: the page (any query string is its own state) and its
	// hashed assets; HEAD too, which chi does not derive from GET.
	r.Get("/", s.errorHandler(s.handleIndex))
	r.Head("/", s.errorHandler(s.handleIndex))
	r.Get("/assets/*", s.errorHandler(s.handleAsset))
	r.Head("/assets/*", s.errorHandler(s.handleAsset))
	r.Route("/v1", func(r chi.Router) {
		r.Get("/meta", s.errorHandler(s.handleMeta))
		r.Get("/units", s.handleUnits)
		r.Get("/labels", s.errorHandler(s.handleLabels))
		r.Get("/units/{code}", s.handleUnit)
		r.With(s.requireRole(RoleAnalyst, "/v1/events (raw events)")).Get("/events", s.handleEvents)
		r.With(s.requireRole(RoleAnalyst, "/v1/reports (exact figures)")).Get("/reports", s.errorHandler(s.handleReport))
		r.Get("/stats", s.errorHandler(s.handleStats))
		r.Get("/series", s.errorHandler(s.handleSeries))
		r.Get("/hexbins", s.errorHandler(s.handleHexbins))
		r.Get("/hotspots", s.errorHandler(s.handleHotspots))
		r.Get("/hotspots/mahallas", s.errorHandler(s.handleMahallaHotspots))
		r.Get("/hotspots/emerging", s.errorHandler(s.handleEmergingHotspots))
		// A run colours the public map: an admin write, recorded with its token ID.
		r.With(s.requireRole(RoleAdmin, "POST /v1/classification/runs (an admin write)")).Post("/classification/runs", s.errorHandler(s.handleCreateRun))
		r.Get("/classification/runs", s.errorHandler(s.handleRuns))
		r.Get("/classification/runs/{id}", s.errorHandler(s.handleRun))
		r.Get("/classification", s.errorHandler(s.handleClassification))
		r.Get("/classification/diff", s.errorHandler(s.handleRunDiff))
		r.Get("/mahallas/{code}", s.errorHandler(s.handleMahallaProfile))
	})
	return r
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully,
// letting requests in flight finish for up to 10 s.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	listenURL := "http://" + ln.Addr().String()
	s.listenURL.Store(&listenURL)
	hs := &http.Server{
		Handler:           s.router,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(errorLogWriter{s.log}, "", 0), // redacted: its lines can quote a request
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		next.ServeHTTP(ww, r)
		// The web map's assets are logged at debug when served: a page
		// load fetches a handful at once, and they say nothing an
		// operator needs beyond the page's own line.
		level := slog.LevelInfo
		if strings.HasPrefix(r.URL.Path, "/assets/") && ww.Status() < http.StatusBadRequest {
			level = slog.LevelDebug
		}
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("query", redactQuery(r.URL.RawQuery)), // never a secret; no header is logged
			slog.Int("status", ww.Status()),
			slog.Int("bytes", ww.BytesWritten()),
			slog.Duration("took", time.Since(start)),
			slog.String("request_id", middleware.GetReqID(r.Context())),
		)
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// errorHandler adapts a handler that returns its error; the error is
// written (and mapped to a status) in one place.
func (s *Server) errorHandler(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}
