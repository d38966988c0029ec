package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/crimemap/crimemap/server"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/tiles"
	"github.com/crimemap/crimemap/web"
	"github.com/paulmach/orb"
)

func cmdServe(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("serve", "serve [--addr HOST:PORT] [--public-url URL] [--cors-origin ORIGINS] [--demo] [--tz ZONE] [--policy FILE] [--basemap FILE.pmtiles] [store flags]")
	sf := env.addStoreFlags(fs)
	addrDef := env.env("CRIMEMAP_ADDR")
	if addrDef == "" {
		addrDef = "127.0.0.1:8080"
	}
	addr := fs.String("addr", addrDef, "listen address (env CRIMEMAP_ADDR); port 0 picks a free one")
	seed := fs.Bool("demo", false, "seed the synthetic demo region when the store is empty")
	demoScale := fs.Float64("demo-scale", 1, "event volume of the seeded demo (1 = about 265,000 events)")
	tz := fs.String("tz", envOr(env, "CRIMEMAP_TZ", "Asia/Tashkent"), "zone for dates without one (env CRIMEMAP_TZ)")
	timeout := fs.Duration("request-timeout", 30*time.Second, "per-request timeout")
	policyPath := fs.String("policy", env.env("CRIMEMAP_POLICY"), "classification policy file, YAML or JSON (env CRIMEMAP_POLICY; default: the built-in policy)")
	watch := fs.Duration("reload-every", 5*time.Second, "how often to check the store for new data and rebuild the analytics snapshot")
	cacheMiB := fs.Int("tile-cache-mib", envInt(env, "CRIMEMAP_TILE_CACHE_MIB", 256), "memory bound of the vector tile cache in MiB (env CRIMEMAP_TILE_CACHE_MIB; 0: no cache)")
	publicK := fs.Int("public-k", envInt(env, "CRIMEMAP_PUBLIC_K", disclose.DefaultK), "public answers (tiles and JSON, analytics/disclose) withhold published counts below this (env CRIMEMAP_PUBLIC_K)")
	secret := fs.String("disclosure-secret", env.env("CRIMEMAP_DISCLOSURE_SECRET"), "secret that mixes the record keys of the public view's cell-key perturbation (env CRIMEMAP_DISCLOSURE_SECRET); set it in production and never change it")
	noise := fs.Int("public-noise", envInt(env, "CRIMEMAP_PUBLIC_NOISE", disclose.DefaultMaxNoise), "bound of the public view's perturbation (env CRIMEMAP_PUBLIC_NOISE)")
	lag := fs.Duration("publication-lag", envDuration(env, "CRIMEMAP_PUBLICATION_LAG", 0), "how long after its end a period becomes public (env CRIMEMAP_PUBLICATION_LAG, e.g. 168h)")
	sensitive := fs.String("sensitive-categories", env.env("CRIMEMAP_SENSITIVE_CATEGORIES"), "more sensitive categories, comma-separated, folded into other_sensitive for the public (env CRIMEMAP_SENSITIVE_CATEGORIES)")
	corsFlag := fs.String("cors-origin", env.env("CRIMEMAP_CORS_ORIGINS"), "origins (scheme://host[:port], comma-separated) whose pages may call the API with a token (env CRIMEMAP_CORS_ORIGINS); public GETs are open to every origin")
	publicFlag := fs.String("public-url", env.env("CRIMEMAP_PUBLIC_URL"), "absolute http(s) URL clients reach the service at, the base of TileJSON and style URLs (env CRIMEMAP_PUBLIC_URL; default: http:// + the listen address)")
	memLimit := fs.String("memory-limit", env.env("CRIMEMAP_MEMORY_LIMIT"), "the process's memory budget, e.g. 4GiB (env CRIMEMAP_MEMORY_LIMIT; default: half the machine's or container's memory): the Go heap's soft limit (GOMEMLIMIT, which wins when set) and, halved, the estimated bytes heavy analyses may hold at once")
	maxReq := fs.String("max-request-bytes", env.env("CRIMEMAP_MAX_REQUEST_BYTES"), "largest estimated memory of one heavy analysis (hot spots, emerging cubes, profiles, classification), e.g. 512MiB (the default); larger ones answer 422 saying how to narrow them")
	heavySlots := fs.Int("heavy-slots", envInt(env, "CRIMEMAP_HEAVY_SLOTS", 0), "heavy analyses running at once (env CRIMEMAP_HEAVY_SLOTS; default: the number of CPUs)")
	heavyQueue := fs.Int("heavy-queue", envInt(env, "CRIMEMAP_HEAVY_QUEUE", 0), "heavy analyses waiting for a slot, beyond which 503 (env CRIMEMAP_HEAVY_QUEUE; default: twice the slots)")
	queueWait := fs.Duration("queue-wait", envDuration(env, "CRIMEMAP_QUEUE_WAIT", 10*time.Second), "longest wait for a heavy analysis slot before 503 (env CRIMEMAP_QUEUE_WAIT)")
	ratePS := fs.Float64("rate", envFloat(env, "CRIMEMAP_RATE", 50), "requests a second per client (its token, else its address; env CRIMEMAP_RATE); 0 or less: no limit")
	rateBurst := fs.Int("rate-burst", envInt(env, "CRIMEMAP_RATE_BURST", 200), "burst of the per-client rate (env CRIMEMAP_RATE_BURST)")
	basemapFile := fs.String("basemap", env.env("CRIMEMAP_BASEMAP"), "PMTiles archive served as the map's basemap at /basemap.json and under the default style (env CRIMEMAP_BASEMAP; default: none)")
	metricsPublic := fs.Bool("metrics-public", false, "serve GET /metrics to anyone instead of admin tokens only (for a scraper without a token); firewall the port then")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *noise < 2 || *noise > 100 || *lag < 0 {
		return fmt.Errorf("%w: --public-noise must be 2..100 and --publication-lag 0 or more", errUsage)
	}
	if *cacheMiB < 0 || *publicK < 1 {
		return fmt.Errorf("%w: --tile-cache-mib must be 0 or more and --public-k 1 or more", errUsage)
	}
	adm, memBytes, err := admissionConfig(*memLimit, *maxReq, *heavySlots, *heavyQueue, *queueWait, *ratePS, *rateBurst)
	if err != nil {
		return err
	}
	corsOrigins, err := parseCORSOrigins(*corsFlag)
	if err != nil {
		return err
	}
	publicURL, err := parsePublicURL(*publicFlag)
	if err != nil {
		return err
	}
	loc, err := location(*tz)
	if err != nil {
		return err
	}
	pol, err := loadPolicy(*policyPath)
	if err != nil {
		return err
	}
	log := env.logger()
	limit, from := applyMemoryLimit(memBytes, env.getenv)
	eff := adm.Defaults() // what the server will use
	log.Info("memory budget", "heap_limit_mib", limit>>20, "from", from, "heavy_bytes_mib", eff.HeavyBytes>>20,
		"max_request_mib", eff.MaxRequestBytes>>20, "heavy_slots", eff.HeavySlots, "heavy_queue", eff.HeavyQueue,
		"rate_per_client", eff.RatePerSecond)
	var basemap *server.Basemap
	if *basemapFile != "" { // checked before the store is opened or seeded: a typo fails at once
		if basemap, err = server.OpenBasemap(ctx, *basemapFile, log); err != nil {
			return fmt.Errorf("%w: --basemap %q (env CRIMEMAP_BASEMAP): want a PMTiles v3 archive: %w", errUsage, *basemapFile, err)
		}
		minZ, maxZ := basemap.Zooms()
		log.Info("basemap", "file", basemap.File(), "layers", basemap.Layers(), "minzoom", minZ, "maxzoom", maxZ)
	}
	st, err := sf.open(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()

	notice := ""
	if *seed {
		seeded, err := seedDemoIfEmpty(ctx, env, st, demoOptions{seed: 1, scale: *demoScale, now: time.Now()})
		if err != nil {
			return err
		}
		if seeded || isDemoStore(ctx, st) {
			notice = demoNotice
		}
		if !seeded && notice != "" && !demoStoreHasRuns(ctx, st) {
			// A demo seeded before the demo had runs: add them, so the
			// map shows red, yellow and green mahallas.
			n, err := seedDemoRuns(ctx, st, time.Now())
			if err != nil {
				return fmt.Errorf("demo classification runs: %w", err)
			}
			log.Info("demo classification runs added", "runs", n)
		}
	} else if isDemoStore(ctx, st) {
		notice = demoNotice
	}
	attribution := ""
	if notice == demoNotice {
		attribution = demo.Attribution
	}

	// The analytics snapshot: built once before serving, then rebuilt in
	// the background whenever the store's data version changes (e.g. after
	// an import by another process); readers never wait for a rebuild.
	live := analytics.NewLive(st, func(ctx context.Context) ([]geo.Unit, error) {
		units, err := store.UnitsWithPopulation(ctx, st, store.UnitQuery{})
		if err != nil {
			return nil, err
		}
		return store.WithBoundaryChanges(ctx, st, units) // marks comparisons across a boundary change
	})
	start := time.Now()
	if err := live.Reload(ctx); err != nil {
		return fmt.Errorf("build analytics snapshot: %w", err)
	}
	snap := live.Current()
	log.Info("analytics snapshot built", "version", snap.Version(), "events", snap.Len(),
		"bytes_per_event", fmt.Sprintf("%.1f", snap.BytesPerEvent()), "took", time.Since(start).Round(time.Millisecond))
	go live.Watch(ctx, *watch, log)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := newService(st, live, log, server.Config{RequestTimeout: *timeout, Location: loc, Notice: notice, Attribution: attribution, Policy: pol,
		CORSOrigins: corsOrigins, PublicURL: cmp.Or(publicURL, "http://"+ln.Addr().String()), MetricsPublic: *metricsPublic, Admission: adm,
		Web: web.Assets(), Basemap: basemap, Version: readBuildVersion().Version},
		disclose.Config{K: int64(*publicK), Sensitive: splitList(*sensitive), Location: loc,
			Secret: disclosureSecret(env, *secret), MaxNoise: *noise, Lag: *lag},
		tiles.Config{CacheBytes: tileCacheBytes(*cacheMiB)})
	start = time.Now()
	if err := srv.PreparePublic(ctx); err != nil {
		return fmt.Errorf("prepare the public view: %w", err)
	}
	log.Info("public view prepared", "took", time.Since(start).Round(time.Millisecond))
	go keepPublicPrepared(ctx, srv, live, *watch, log)
	url := "http://" + ln.Addr().String()
	// The map first: `make run` promises the URL where the map opens.
	fmt.Fprintf(env.stdout, "crimemap map: %s/\n", cmp.Or(publicURL, url))
	fmt.Fprintf(env.stdout, "  sign in as an analyst with a token from: crimemap token create --role analyst %s\n    (in a checkout: go run ./cmd/crimemap token create --role analyst %s)\n", sf.flagsText(), sf.flagsText())
	fmt.Fprintf(env.stdout, "crimemap serving %s on %s\n", sf.describe(), url)
	fmt.Fprintf(env.stdout, "  classification policy %q version %s (%s)\n", pol.Name, pol.Version(), pol.Source)
	if notice != "" {
		fmt.Fprintf(env.stdout, "  %s\n", notice)
	}
	fmt.Fprintf(env.stdout, "  try %s/v1/units?level=district  and  %s/openapi.json\n", url, url)
	fmt.Fprintf(env.stdout, "      %s/styles/default.json  (MapLibre GL style over %s/tiles/{layer}/{z}/{x}/{y}.mvt)\n", url, url)
	fmt.Fprintf(env.stdout, "      %s/v1/stats?level=district&period=%s&compare=previous,last_year&kind=crime\n", url, lastQuarter(time.Now(), loc))
	return srv.Serve(ctx, ln)
}

// newService wires the public view, the tile renderer and the HTTP server
// over st and the live snapshot as `serve` runs them; cfg carries the
// other settings (its Store, Snapshots, Tiles, Disclose and Logger are set
// here). The tile benchmark builds its server with it too, so it measures
// what serve serves. One *disclose.Discloser is built from dcfg (its Areas
// default to the store's unit boundaries, its Location to cfg.Location)
// and given to both the renderer and the server, so a public number is
// the same in tiles and in JSON. tileOpts, when given, sets the
// renderer's CacheBytes (default: a 256 MiB cache); the renderer's clock
// is cfg.Now.
func newService(st store.Store, live *analytics.Live, log *slog.Logger, cfg server.Config, dcfg disclose.Config, tileOpts ...tiles.Config) *server.Server {
	var opt tiles.Config
	if len(tileOpts) > 0 {
		opt = tileOpts[0]
	}
	if dcfg.Location == nil {
		dcfg.Location = cfg.Location
	}
	if dcfg.Areas == nil {
		dcfg.Areas = func(ctx context.Context, code string) (orb.MultiPolygon, error) {
			u, err := st.Unit(ctx, code)
			if err != nil {
				return nil, err
			}
			return u.Geometry, nil
		}
	}
	d := disclose.New(dcfg)
	rend := tiles.New(tiles.Config{
		Snapshots: live,
		// Boundaries are reloaded from the store for every new snapshot.
		Boundaries: func(ctx context.Context, level geo.Level) ([]geo.Unit, error) {
			return st.Units(ctx, store.UnitQuery{Level: level, WithGeometry: true})
		},
		Categories: latestCategories(st),
		Logger:     log,
		CacheBytes: opt.CacheBytes,
		Disclose:   d,
		Now:        cfg.Now,
		Basemap:    cfg.Basemap.Style(), // nil without a basemap
	})
	cfg.Store, cfg.Snapshots, cfg.Tiles, cfg.Disclose, cfg.Logger = st, live, rend, d, log
	return server.New(cfg)
}

// latestCategories gives the tiles the mahalla categories of a period's
// latest classification run (nil when the store keeps no runs or the
// period has none).
func latestCategories(st store.Store) tiles.Categories {
	rs, ok := st.(store.RunStore)
	if !ok {
		return nil
	}
	return func(ctx context.Context, p analytics.Period) (map[string]classify.Category, error) {
		run, err := rs.LatestRun(ctx, p.Label)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("latest classification run of %s: %w", p.Label, err)
		}
		cats := make(map[string]classify.Category, len(run.Results))
		for _, r := range run.Results {
			cats[r.Mahalla] = r.Category
		}
		return cats, nil
	}
}

func envOr(env *environment, name, def string) string {
	if v := env.env(name); v != "" {
		return v
	}
	return def
}

func cmdMigrate(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("migrate", "migrate [store flags]")
	sf := env.addStoreFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := sf.open(ctx, env.logger())
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(env.stdout, "migrations applied to %s\n", sf.describe())
	return nil
}

// lastQuarter names the last full quarter before now, e.g. "2026-Q3".
func lastQuarter(now time.Time, loc *time.Location) string {
	now = now.In(loc)
	q := (int(now.Month())-1)/3 + 1
	y := now.Year()
	if q--; q == 0 {
		q, y = 4, y-1
	}
	return fmt.Sprintf("%d-Q%d", y, q)
}

// tileCacheBytes converts --tile-cache-mib (0: no cache).
func tileCacheBytes(mib int) int64 {
	if mib == 0 {
		return -1
	}
	return int64(mib) << 20
}

// envInt reads an integer environment variable, def when unset or bad
// (the flag's parser then reports nothing: the default shows in --help).
func envInt(env *environment, name string, def int) int {
	if v, err := strconv.Atoi(strings.TrimSpace(env.env(name))); err == nil {
		return v
	}
	return def
}

// envDuration reads a duration environment variable, def when unset or bad.
func envDuration(env *environment, name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(strings.TrimSpace(env.env(name))); err == nil {
		return v
	}
	return def
}

// defaultDisclosureSecret is used when no --disclosure-secret is given (the
// demo, a laptop): published values are then predictable by anyone who
// knows the events' source IDs, so serve warns.
const defaultDisclosureSecret = "crimemap-default-disclosure-secret"

// disclosureSecret returns secret, or the default with a warning on stderr
// (never the secret itself).
func disclosureSecret(env *environment, secret string) string {
	if secret != "" {
		return secret
	}
	fmt.Fprintln(env.stderr, "warning: no --disclosure-secret (CRIMEMAP_DISCLOSURE_SECRET): the public view uses the built-in secret; set one in production and keep it fixed")
	return defaultDisclosureSecret
}

// keepPublicPrepared prepares the public view of every new snapshot as soon
// as Live swaps it in (checked every `every`).
func keepPublicPrepared(ctx context.Context, srv *server.Server, live *analytics.Live, every time.Duration, log *slog.Logger) {
	last := live.Current().Version()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if v := live.Current().Version(); v != last {
			if err := srv.PreparePublic(ctx); err != nil && ctx.Err() == nil {
				log.Warn("prepare the public view", "snapshot", v, "err", err)
				continue
			}
			last = v
		}
	}
}
