package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/crimemap/crimemap/server"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/postgis"
	"github.com/crimemap/crimemap/store/postgis/pgtiles"
	"github.com/crimemap/crimemap/store/sqlite"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// Tile benchmark targets (issue: "`make bench` drives the tile endpoint",
// on a 2-core machine).
const (
	targetTileWarmP99   = 5 * time.Millisecond  // warm tiles, p99
	targetTileColdZ12   = 30 * time.Millisecond // cold mahalla tiles at z12, p99
	targetTilesPerSec   = 5000                  // warm tiles/s
	targetTileMemoryMB  = 500                   // peak RSS under tileMemClients concurrent clients
	targetTileMemGrowth = 0.10                  // RSS growth, second half over first half of the run
)

// Fixed inputs: the same demo data, period and tile list on every run.
var (
	tileBenchNow    = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) // demo data 2023-11..2026-10
	tileBenchPeriod = "2026-Q3"                                      // in Asia/Tashkent
	// tileBenchLayers are requested for every tile of the list (the last
	// one is a composite tile).
	tileBenchLayers = []string{"mahallas", "districts", "hexbins", "mahallas,hexbins"}
	// tileBenchAreas: the tiles of each zoom meeting a box (west, south,
	// east, north).
	tileBenchAreas = []struct {
		name   string
		box    orb.Bound
		zooms  []int
		detail string
	}{
		{"Kashkadarya region", orb.Bound{Min: orb.Point{64.40, 38.00}, Max: orb.Point{67.69, 39.52}}, []int{8, 9, 10}, ""},
		{"Qarshi district and city", orb.Bound{Min: orb.Point{65.35, 38.64}, Max: orb.Point{66.03, 38.95}}, []int{11, 12}, ""},
		{"Qarshi city", orb.Bound{Min: orb.Point{65.726, 38.817}, Max: orb.Point{65.843, 38.910}}, []int{13, 14}, ""},
	}
)

// tileOpts configures benchTiles.
type tileOpts struct {
	dbURL      string
	cpuProfile string        // CPU profile of the analysts' cold pass ("" for none)
	workers    int           // client goroutines of the cold and warm passes
	warmPasses int           // warm passes over the list
	clients    int           // concurrent clients of the memory run
	memFor     time.Duration // length of the memory run
	maxPass    time.Duration // bound on every pass
}

// tileJob is one tile request of the list.
type tileJob struct {
	layers  string
	z, x, y int
}

func (j tileJob) path(period string) string {
	return "/tiles/" + j.layers + "/" + strconv.Itoa(j.z) + "/" + strconv.Itoa(j.x) + "/" + strconv.Itoa(j.y) + ".mvt?period=" + period
}

// tileList is the fixed list: for every zoom of every area, every tile
// meeting the box, each with every layer of tileBenchLayers; ordered by
// zoom, tile, layer.
func tileList() []tileJob {
	var out []tileJob
	for _, a := range tileBenchAreas {
		for _, z := range a.zooms {
			zz := maptile.Zoom(z)
			lo := maptile.At(orb.Point{a.box.Min[0], a.box.Max[1]}, zz)
			hi := maptile.At(orb.Point{a.box.Max[0], a.box.Min[1]}, zz)
			for y := lo.Y; y <= hi.Y; y++ {
				for x := lo.X; x <= hi.X; x++ {
					for _, l := range tileBenchLayers {
						out = append(out, tileJob{layers: l, z: z, x: int(x), y: int(y)})
					}
				}
			}
		}
	}
	return out
}

// tileStats summarises the latencies of one pass (or part of one).
type tileStats struct {
	n        int
	p50, p99 time.Duration
	max      time.Duration
}

func statsOf(ds []time.Duration) tileStats {
	if len(ds) == 0 {
		return tileStats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(math.Ceil(p*float64(len(s))))-1)] }
	return tileStats{n: len(s), p50: q(0.50), p99: q(0.99), max: s[len(s)-1]}
}

func (s tileStats) String() string {
	return fmt.Sprintf("%s / %s", ms(s.p50), ms(s.p99))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

// passResult is one run of the pool over jobs.
type passResult struct {
	lat     []time.Duration // by job (0 when not done)
	done    int
	elapsed time.Duration
	bytes   int64
	bodies  [][]byte // by job, when kept
}

func (p passResult) perSec() float64 { return float64(p.done) / p.elapsed.Seconds() }

// fetchFunc requests job i; it returns the response size and, when keep,
// the body.
type fetchFunc func(ctx context.Context, i int, keep bool) (int, []byte, error)

// runPool runs total requests (job i%len(jobs) for i in 0..total-1) on
// workers goroutines, in order, until done or maxDur has passed. It stops at
// the first error.
func runPool(ctx context.Context, total, njobs, workers int, maxDur time.Duration, keep bool, fetch fetchFunc) (passResult, error) {
	ctx, cancel := context.WithTimeout(ctx, maxDur)
	defer cancel()
	res := passResult{lat: make([]time.Duration, total)}
	if keep {
		res.bodies = make([][]byte, njobs)
	}
	var next, done, nbytes atomic.Int64
	var once sync.Once
	var ferr error
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				t0 := time.Now()
				n, body, err := fetch(ctx, i%njobs, keep)
				d := time.Since(t0)
				if err != nil {
					if ctx.Err() == nil {
						once.Do(func() { ferr = err; cancel() })
					}
					return
				}
				res.lat[i] = d
				if keep {
					res.bodies[i%njobs] = body
				}
				nbytes.Add(int64(n))
				done.Add(1)
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.done, res.bytes = int(done.Load()), nbytes.Load()
	if ferr != nil {
		return res, ferr
	}
	if err := context.Cause(ctx); err != nil && errors.Is(err, context.Canceled) {
		return res, err // the caller's context
	}
	return res, nil
}

// pick gathers the latencies of the done requests whose job satisfies ok.
func (p passResult) pick(jobs []tileJob, ok func(tileJob) bool) []time.Duration {
	var out []time.Duration
	for i, d := range p.lat {
		if d > 0 && ok(jobs[i%len(jobs)]) {
			out = append(out, d)
		}
	}
	return out
}

// tileService is the demo store served over loopback HTTP, wired as serve.
type tileService struct {
	st     *sqlite.Store
	units  []geo.Unit
	events []analytics.Event
	base   string // http://127.0.0.1:port
	srv    *server.Server
	stop   func() error
	dir    string
	token  string // an analyst bearer token
}

// startTileService seeds the demo region (scale) into a temporary SQLite
// store, builds the live snapshot and serves it on 127.0.0.1 with the
// server and tile renderer of serve.
func startTileService(ctx context.Context, log, srvLog *slog.Logger, scale float64) (*tileService, error) {
	units, events, err := demo.Generate(ctx, demo.Config{Seed: 1, Now: tileBenchNow, Scale: scale, BatchSize: 50000})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	dir, err := os.MkdirTemp("", "crimemap-bench-tiles-")
	if err != nil {
		return nil, err
	}
	ts := &tileService{units: units, events: events, dir: dir}
	fail := func(err error) (*tileService, error) {
		if ts.st != nil {
			ts.st.Close()
		}
		os.RemoveAll(dir)
		return nil, err
	}
	if ts.st, err = sqlite.Open(ctx, dir, log); err != nil {
		return fail(err)
	}
	if _, err := ts.st.PutUnits(ctx, units); err != nil {
		return fail(err)
	}
	err = store.WithBulkLoad(ctx, ts.st, len(events), func(ctx context.Context) error {
		for i := 0; i < len(events); i += pgLoadBatch {
			if _, err := ts.st.PutEvents(ctx, events[i:min(i+pgLoadBatch, len(events))]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fail(fmt.Errorf("sqlite load: %w", err))
	}
	ts.st.WaitIndexes()
	tok, rec, err := server.NewToken(server.RoleAnalyst, "tile benchmark", tileBenchNow, 0)
	if err != nil {
		return fail(err)
	}
	if err := ts.st.PutToken(ctx, rec); err != nil {
		return fail(err)
	}
	ts.token = tok
	live := analytics.NewLive(ts.st, func(ctx context.Context) ([]geo.Unit, error) {
		return ts.st.Units(ctx, store.UnitQuery{})
	})
	if err := live.Reload(ctx); err != nil {
		return fail(fmt.Errorf("build analytics snapshot: %w", err))
	}
	loc, err := location("Asia/Tashkent")
	if err != nil {
		return fail(err)
	}
	ts.srv = newService(ts.st, live, srvLog, server.Config{Location: loc, Now: func() time.Time { return tileBenchNow }, Notice: demoNotice}, disclose.Config{})
	if err := ts.srv.PreparePublic(ctx); err != nil { // as serve does before serving
		return fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	errc := make(chan error, 1)
	go func() { errc <- ts.srv.Serve(sctx, ln) }()
	go live.Watch(sctx, 5*time.Second, srvLog)
	ts.base = "http://" + ln.Addr().String()
	ts.stop = func() error {
		cancel()
		err := <-errc
		ts.st.Close()
		os.RemoveAll(dir)
		return err
	}
	return ts, nil
}

// httpFetcher requests the tiles over HTTP with keep-alive connections (at
// most conns), sending Accept-Encoding: gzip as browsers do (and the bearer
// token unless ""), and reads the body as sent.
func httpFetcher(base, token string, jobs []tileJob, conns int) (fetchFunc, *http.Client) {
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	cl := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	urls := make([]string, len(jobs))
	for i, j := range jobs {
		urls[i] = base + j.path(tileBenchPeriod)
	}
	return func(ctx context.Context, i int, keep bool) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, urls[i], nil)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Accept-Encoding", "gzip")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := cl.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		var body []byte
		var n int64
		if keep {
			body, err = io.ReadAll(resp.Body)
			n = int64(len(body))
			if err == nil && resp.Header.Get("Content-Encoding") == "gzip" && len(body) > 0 {
				zr, zerr := gzip.NewReader(bytes.NewReader(body))
				if zerr != nil {
					return 0, nil, fmt.Errorf("%s: gzip: %w", urls[i], zerr)
				}
				body, err = io.ReadAll(zr)
			}
		} else {
			n, err = io.Copy(io.Discard, resp.Body)
		}
		if err != nil {
			return 0, nil, fmt.Errorf("%s: %w", urls[i], err)
		}
		switch resp.StatusCode {
		case http.StatusOK, http.StatusNoContent, http.StatusNotModified:
		default:
			return 0, nil, fmt.Errorf("%s: HTTP %d: %.200s", urls[i], resp.StatusCode, body)
		}
		return int(n), body, nil
	}, cl
}

// tileVariant are the passes of one audience (analyst token or public).
type tileVariant struct {
	name            string
	cold, warm, seq passResult
}

// startCPUProfile writes a CPU profile to path until the returned function
// is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// tileLayerRow is one row of the per-layer comparison.
type tileLayerRow struct {
	layer                  string
	cmCold, cmWarm         tileStats
	pgCold, pgWarm         tileStats
	cmFeatures, pgFeatures int
	cmBytes, pgBytes       int64
	pgDone                 bool
}

// memResult is the memory run under many clients.
type memResult struct {
	clients               int
	requests              int
	took                  time.Duration
	lat                   tileStats
	baseRSS, peakRSS      uint64
	peakHeap              uint64
	firstHalf, secondHalf uint64 // peak RSS of each half of the run
	afterRSS, afterHeap   uint64
	goroutinesPeak        int
	baseHeap              uint64
}

// benchTiles runs the tile benchmark and prints its tables.
func benchTiles(ctx context.Context, w io.Writer, log *slog.Logger, o tileOpts) error {
	jobs := tileList()
	perZoom := map[int]int{}
	for _, j := range jobs {
		if j.layers == tileBenchLayers[0] {
			perZoom[j.z]++
		}
	}
	fmt.Fprintf(w, "\ntile benchmark: demo region (scale 1, seed 1, now %s), period %s; %d requests = %d tiles x %d layer sets (%s)\n",
		tileBenchNow.Format(time.DateOnly), tileBenchPeriod, len(jobs), len(jobs)/len(tileBenchLayers), len(tileBenchLayers), strings.Join(tileBenchLayers, " | "))
	var zs []string
	for z := 8; z <= 14; z++ {
		zs = append(zs, fmt.Sprintf("z%d:%d", z, perZoom[z]))
	}
	fmt.Fprintf(w, "tiles per zoom: %s; areas:", strings.Join(zs, " "))
	for _, a := range tileBenchAreas {
		fmt.Fprintf(w, " %s z%d-%d;", a.name, a.zooms[0], a.zooms[len(a.zooms)-1])
	}
	fmt.Fprintln(w)

	start := time.Now()
	srvLog := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ts, err := startTileService(ctx, log, srvLog, 1)
	if err != nil {
		return err
	}
	defer ts.stop()
	fmt.Fprintf(w, "seeded %d events into SQLite, snapshot built, serving on %s (%s); GOMAXPROCS %d, %d client workers\n",
		len(ts.events), ts.base, time.Since(start).Round(time.Millisecond), runtime.GOMAXPROCS(0), o.workers)

	// For each audience: cold (the first request of every tile), warm (the
	// list warmPasses times, one continuous run), warm with one client.
	var variants []tileVariant
	var rows []tileLayerRow
	for _, v := range []struct{ name, token string }{{"analyst token", ts.token}, {"public", ""}} {
		fetch, cl := httpFetcher(ts.base, v.token, jobs, o.workers)
		var stopProfile func()
		if o.cpuProfile != "" {
			path := o.cpuProfile
			if v.token == "" {
				path += ".public" // the public cold pass, beside the analyst's
			}
			if stopProfile, err = startCPUProfile(path); err != nil {
				return err
			}
		}
		cold, err := runPool(ctx, len(jobs), len(jobs), o.workers, o.maxPass, true, fetch)
		if stopProfile != nil {
			stopProfile()
		}
		if err != nil {
			return fmt.Errorf("tiles cold pass (%s): %w", v.name, err)
		}
		warm, err := runPool(ctx, len(jobs)*o.warmPasses, len(jobs), o.workers, o.maxPass, false, fetch)
		if err != nil {
			return fmt.Errorf("tiles warm passes (%s): %w", v.name, err)
		}
		seq, err := runPool(ctx, len(jobs), len(jobs), 1, o.maxPass, false, fetch)
		if err != nil {
			return fmt.Errorf("tiles sequential pass (%s): %w", v.name, err)
		}
		cl.CloseIdleConnections()
		variants = append(variants, tileVariant{name: v.name, cold: cold, warm: warm, seq: seq})
		if v.token != "" { // exact tiles: the ones PostGIS renders
			cmFeat := featuresByJob(cold.bodies)
			for _, l := range tileBenchLayers {
				is := func(j tileJob) bool { return j.layers == l }
				r := tileLayerRow{layer: l, cmCold: statsOf(cold.pick(jobs, is)), cmWarm: statsOf(warm.pick(jobs, is))}
				for k, j := range jobs {
					if is(j) {
						r.cmFeatures += cmFeat[k]
						r.cmBytes += int64(len(cold.bodies[k]))
					}
				}
				rows = append(rows, r)
			}
		}
	}

	mem, err := tileMemory(ctx, ts.base, jobs, o)
	if err != nil {
		return fmt.Errorf("tiles memory run: %w", err)
	}

	var pgNote string
	if o.dbURL != "" {
		if pgNote, err = benchTilesPostGIS(ctx, w, log, ts, jobs, o, rows); err != nil {
			return err
		}
	}

	// The tables.
	fmt.Fprintf(w, "\ntile endpoint, %d requests per pass over loopback HTTP (client-side latency, request to last byte; ms)\n", len(jobs))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "measurement\tvalue\ttarget\tmet\t")
	all := func(tileJob) bool { return true }
	for _, v := range variants {
		coldZ12 := statsOf(v.cold.pick(jobs, func(j tileJob) bool { return j.z == 12 && j.layers == "mahallas" }))
		coldAll, warmAll, seqAll := statsOf(v.cold.pick(jobs, all)), statsOf(v.warm.pick(jobs, all)), statsOf(v.seq.pick(jobs, all))
		fmt.Fprintf(tw, "%s: cold pass, %d workers: p50 / p99 ms (max %s)\t%s\t(info)\t-\t\n", v.name, o.workers, ms(coldAll.max), coldAll)
		fmt.Fprintf(tw, "%s: cold mahallas z12 (%d tiles): p99 ms (max %s)\t%s\t<= %d ms\t%s\t\n", v.name, coldZ12.n, ms(coldZ12.max), ms(coldZ12.p99),
			targetTileColdZ12.Milliseconds(), yesNo(coldZ12.n > 0 && coldZ12.p99 <= targetTileColdZ12))
		fmt.Fprintf(tw, "%s: warm, %d passes, %d workers: p50 / p99 ms\t%s\t<= %d ms p99\t%s\t\n", v.name, o.warmPasses, o.workers, warmAll,
			targetTileWarmP99.Milliseconds(), yesNo(warmAll.p99 <= targetTileWarmP99))
		fmt.Fprintf(tw, "%s: warm, %d workers: tiles/s (%d in %.2f s, %.1f MB)\t%.0f\t>= %d\t%s\t\n", v.name, o.workers, v.warm.done, v.warm.elapsed.Seconds(),
			float64(v.warm.bytes)/1e6, v.warm.perSec(), targetTilesPerSec, yesNo(v.warm.perSec() >= targetTilesPerSec && v.warm.done == len(jobs)*o.warmPasses))
		fmt.Fprintf(tw, "%s: warm, 1 client: p50 / p99 ms (%.0f tiles/s)\t%s\t(info)\t-\t\n", v.name, v.seq.perSec(), seqAll)
	}
	memOK := mem.peakRSS < targetTileMemoryMB<<20 && float64(mem.secondHalf) <= float64(mem.firstHalf)*(1+targetTileMemGrowth)
	fmt.Fprintf(tw, "public, %d clients, %.0f s, %d requests (%.0f/s, p50 / p99 %s ms): peak RSS MB\t%.0f\t< %d MB, growth <= %.0f%%\t%s\t\n",
		mem.clients, mem.took.Seconds(), mem.requests, float64(mem.requests)/mem.took.Seconds(), mem.lat, mb(mem.peakRSS),
		targetTileMemoryMB, 100*targetTileMemGrowth, yesNo(memOK))
	fmt.Fprintf(tw, "  RSS before / peak 1st half / peak 2nd half / after GC, MB\t%.0f / %.0f / %.0f / %.0f\t(info)\t-\t\n",
		mb(mem.baseRSS), mb(mem.firstHalf), mb(mem.secondHalf), mb(mem.afterRSS))
	fmt.Fprintf(tw, "  Go heap objects before / peak / after GC, MB; peak goroutines\t%.0f / %.0f / %.0f; %d\t(info)\t-\t\n",
		mb(mem.baseHeap), mb(mem.peakHeap), mb(mem.afterHeap), mem.goroutinesPeak)
	tw.Flush()

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "same tiles, crimemap (HTTP, analyst token: exact counts, every resolution; warm = its tile cache) against PostGIS ST_AsMVT (SQL, no tile cache); ms")
	fmt.Fprintln(tw, "layer\tcrimemap cold p50/p99\tcrimemap warm p50/p99\tPostGIS cold p50/p99\tPostGIS warm p50/p99\tratio cold p50 / p99\tratio warm p50 / p99\tfeatures crimemap / PostGIS\tKB crimemap / PostGIS\t")
	for _, r := range rows {
		pgc, pgw, cratio, ratio, feat, kb := "-", "-", "-", "-", strconv.Itoa(r.cmFeatures)+" / -", fmt.Sprintf("%.0f / -", float64(r.cmBytes)/1024)
		if r.pgDone {
			pgc, pgw = r.pgCold.String(), r.pgWarm.String()
			ratio = fmt.Sprintf("%.0fx / %.0fx", r.pgWarm.p50.Seconds()/r.cmWarm.p50.Seconds(), r.pgWarm.p99.Seconds()/r.cmWarm.p99.Seconds())
			cratio = fmt.Sprintf("%.1fx / %.1fx", r.pgCold.p50.Seconds()/r.cmCold.p50.Seconds(), r.pgCold.p99.Seconds()/r.cmCold.p99.Seconds())
			feat = fmt.Sprintf("%d / %d", r.cmFeatures, r.pgFeatures)
			kb = fmt.Sprintf("%.0f / %.0f", float64(r.cmBytes)/1024, float64(r.pgBytes)/1024)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.layer, r.cmCold, r.cmWarm, pgc, pgw, cratio, ratio, feat, kb)
	}
	tw.Flush()
	if pgNote != "" {
		fmt.Fprintln(w, pgNote)
	} else if o.dbURL == "" {
		fmt.Fprintln(w, "PostGIS tile comparison skipped: set --database-url or CRIMEMAP_BENCH_DATABASE_URL")
	}
	return nil
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// featuresByJob counts the features of each kept MVT body (-1 when it does
// not decode).
func featuresByJob(bodies [][]byte) []int {
	out := make([]int, len(bodies))
	for i, b := range bodies {
		if len(b) == 0 {
			continue
		}
		ls, err := mvt.Unmarshal(b)
		if err != nil {
			out[i] = -1
			continue
		}
		for _, l := range ls {
			out[i] += len(l.Features)
		}
	}
	return out
}

// memSample reads the process's RSS (/proc/self/status VmRSS; 0 where
// unavailable), the Go heap objects, the memory the Go runtime holds and
// the goroutine count.
type memSample struct{ rss, heap, runtime uint64 }

var memMetrics = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}

func sampleMem() memSample {
	s := slices.Clone(memMetrics)
	metrics.Read(s)
	m := memSample{heap: s[0].Value.Uint64(), runtime: s[1].Value.Uint64()}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				if kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64); err == nil {
					m.rss = kb << 10
				}
			}
		}
	}
	if m.rss == 0 {
		m.rss = m.runtime
	}
	return m
}

// tileMemory runs o.clients concurrent clients over the warm list (each on
// its own connection, starting at its own offset) for o.memFor and samples
// the memory every 50 ms.
func tileMemory(ctx context.Context, base string, jobs []tileJob, o tileOpts) (memResult, error) {
	res := memResult{clients: o.clients}
	runtime.GC()
	b := sampleMem()
	res.baseRSS, res.baseHeap = b.rss, b.heap
	fetch, cl := httpFetcher(base, "", jobs, o.clients)
	defer cl.CloseIdleConnections()
	rctx, cancel := context.WithTimeout(ctx, o.memFor)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var ferr error
	var wg sync.WaitGroup
	start := time.Now()
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tk := time.NewTicker(50 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tk.C:
			}
			s := sampleMem()
			g := runtime.NumGoroutine()
			mu.Lock()
			res.peakRSS = max(res.peakRSS, s.rss)
			res.peakHeap = max(res.peakHeap, s.heap)
			res.goroutinesPeak = max(res.goroutinesPeak, g)
			if time.Since(start) < o.memFor/2 {
				res.firstHalf = max(res.firstHalf, s.rss)
			} else {
				res.secondHalf = max(res.secondHalf, s.rss)
			}
			mu.Unlock()
		}
	}()
	for c := range o.clients {
		wg.Go(func() {
			var mine []time.Duration
			for i := c * len(jobs) / o.clients; rctx.Err() == nil; i++ {
				t0 := time.Now()
				if _, _, err := fetch(rctx, i%len(jobs), false); err != nil {
					if rctx.Err() == nil {
						mu.Lock()
						ferr = err
						mu.Unlock()
						cancel()
					}
					break
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.took = time.Since(start)
	close(stopSampling)
	<-sampled
	if ferr != nil {
		return res, ferr
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.requests = len(lat)
	res.lat = statsOf(lat)
	cl.CloseIdleConnections()
	runtime.GC()
	a := sampleMem()
	res.afterRSS, res.afterHeap = a.rss, a.heap
	return res, nil
}

// benchTilesPostGIS loads the same demo units and events into a scratch
// PostGIS database and serves the same tiles with ST_AsMVT (package
// pgtiles), through a pool of o.workers connections driven by as many
// client goroutines; it fills the PostGIS columns of rows.
func benchTilesPostGIS(ctx context.Context, w io.Writer, log *slog.Logger, ts *tileService, jobs []tileJob, o tileOpts, rows []tileLayerRow) (string, error) {
	loc, err := location("Asia/Tashkent")
	if err != nil {
		return "", err
	}
	per, err := analytics.ParsePeriod(tileBenchPeriod, loc)
	if err != nil {
		return "", err
	}
	var note string
	_, err = withScratchDatabase(ctx, o.dbURL, func(url string) (benchResult, error) {
		st, err := postgis.Open(ctx, url, log)
		if err != nil {
			return benchResult{}, err
		}
		defer st.Close()
		if _, err := st.PutUnits(ctx, ts.units); err != nil {
			return benchResult{}, err
		}
		start := time.Now()
		err = loadPostGIS(ctx, st, len(ts.events), func(fn func([]analytics.Event) error) error {
			for i := 0; i < len(ts.events); i += pgLoadBatch {
				if err := fn(ts.events[i:min(i+pgLoadBatch, len(ts.events))]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return benchResult{}, err
		}
		if _, err := st.Pool().Exec(ctx, "VACUUM ANALYZE events"); err != nil {
			return benchResult{}, fmt.Errorf("vacuum analyze: %w", err)
		}
		// The cells the hexbins layer can draw: the cell of every located
		// event at the resolutions of z8..z14, as the store computes them
		// (LatLngToCell of the stored coordinates, not parents of the
		// res-15 cell: H3's hierarchy is not geometric).
		set := map[uint64]struct{}{}
		for _, e := range ts.events {
			if !e.HasLocation {
				continue
			}
			for z := 8; z <= 14; z++ {
				c, err := geo.LatLngToCellGo(e.Lat, e.Lon, pgtiles.HexResolution(z))
				if err != nil {
					return benchResult{}, fmt.Errorf("event %q: %w", e.SourceID, err)
				}
				set[c] = struct{}{}
			}
		}
		cells := make([]uint64, 0, len(set))
		for c := range set {
			cells = append(cells, c)
		}
		slices.Sort(cells)
		conn, err := st.Pool().Acquire(ctx)
		if err != nil {
			return benchResult{}, err
		}
		err = pgtiles.Prepare(ctx, conn.Conn(), cells)
		conn.Release()
		if err != nil {
			return benchResult{}, err
		}
		fmt.Fprintf(w, "PostGIS: %d events loaded, VACUUM ANALYZE, units 3857 GiST index and %d precomputed H3 hexagons in %s\n",
			len(ts.events), len(cells), time.Since(start).Round(time.Millisecond))
		settings := pgSettings(ctx, st)

		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			return benchResult{}, err
		}
		cfg.MaxConns, cfg.MinConns = int32(o.workers), int32(o.workers)
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return benchResult{}, err
		}
		defer pool.Close()
		qs := make([]pgtiles.Query, len(jobs))
		for i, j := range jobs {
			if qs[i], err = pgtiles.Tile(strings.Split(j.layers, ","), j.z, j.x, j.y, pgtiles.Params{From: per.From, To: per.To}); err != nil {
				return benchResult{}, err
			}
		}
		fetch := func(ctx context.Context, i int, keep bool) (int, []byte, error) {
			var b []byte
			if err := pool.QueryRow(ctx, qs[i].SQL, qs[i].Args...).Scan(&b); err != nil {
				return 0, nil, fmt.Errorf("tile %s %d/%d/%d: %w", jobs[i].layers, jobs[i].z, jobs[i].x, jobs[i].y, err)
			}
			if !keep {
				b = nil
			}
			return len(b), b, nil
		}
		cold, err := runPool(ctx, len(jobs), len(jobs), o.workers, o.maxPass, true, fetch)
		if err != nil {
			return benchResult{}, fmt.Errorf("PostGIS tiles cold pass: %w", err)
		}
		passes := max(1, min(o.warmPasses, 3))
		warm, err := runPool(ctx, len(jobs)*passes, len(jobs), o.workers, o.maxPass, false, fetch)
		if err != nil {
			return benchResult{}, fmt.Errorf("PostGIS tiles warm passes: %w", err)
		}
		feat := featuresByJob(cold.bodies)
		for i := range rows {
			is := func(j tileJob) bool { return j.layers == rows[i].layer }
			rows[i].pgCold, rows[i].pgWarm, rows[i].pgDone = statsOf(cold.pick(jobs, is)), statsOf(warm.pick(jobs, is)), true
			for k, j := range jobs {
				if is(j) {
					rows[i].pgFeatures += feat[k]
					rows[i].pgBytes += int64(len(cold.bodies[k]))
				}
			}
		}
		note = fmt.Sprintf("PostGIS: ST_AsMVT through %d pooled connections and %d client goroutines, no HTTP; warm: %d passes, %d of %d queries in %.1f s (%.0f tiles/s)\n%s",
			o.workers, o.workers, passes, warm.done, len(jobs)*passes, warm.elapsed.Seconds(), warm.perSec(), settings)
		return benchResult{}, nil
	})
	return note, err
}
