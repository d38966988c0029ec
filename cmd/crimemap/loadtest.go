package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/crimemap/crimemap/server"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/sqlite"
)

// cmdLoadtest starts `crimemap serve --demo` as a child process on a
// loopback port with the default settings and drives it in two bounded
// phases, measuring latencies, statuses and the child's peak RSS:
//
//  1. mix: many clients (each with its own viewer token, so the per-client
//     rate limit applies per client as it would in production) request
//     tiles, stats and mahalla profiles for a while;
//  2. storm: many clients with an analyst token send the heaviest analysis
//     (res-10 hot spots with k=10 over a district) in parallel, while a
//     few clients keep sending cheap requests whose latency is measured.
//
// It checks the criteria and fails when one is missed.
func cmdLoadtest(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("loadtest", "loadtest [--clients 200] [--for 60s] [--heavy 50] [--heavy-for 30s] [--demo-scale 1]")
	clients := fs.Int("clients", 200, "concurrent clients of the mix phase")
	mixFor := fs.Duration("for", 60*time.Second, "length of the mix phase")
	heavy := fs.Int("heavy", 50, "parallel clients sending the heaviest analysis in the storm phase")
	heavyFor := fs.Duration("heavy-for", 30*time.Second, "length of the storm phase")
	scale := fs.Float64("demo-scale", 1, "event volume of the demo the server seeds")
	maxRSS := fs.Int64("max-rss-mib", 3072, "the server's peak RSS must stay under this")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *clients < 1 || *heavy < 1 || *mixFor <= 0 || *heavyFor <= 0 {
		return usageError(env, "loadtest: --clients, --heavy, --for and --heavy-for must be positive")
	}
	dir, err := os.MkdirTemp("", "crimemap-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The server, with the default settings, on a free loopback port.
	addr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cctx, stopChild := context.WithCancel(ctx)
	defer stopChild()
	child := exec.CommandContext(cctx, self, "serve", "--demo", "--demo-scale", strconv.FormatFloat(*scale, 'g', -1, 64),
		"--data", filepath.Join(dir, "data"), "--addr", addr)
	child.Stdout, child.Stderr = logf, logf
	child.Cancel = func() error { return child.Process.Signal(os.Interrupt) }
	child.WaitDelay = 15 * time.Second
	fmt.Fprintf(env.stdout, "starting crimemap serve --demo on %s (log: %s)...\n", addr, logf.Name())
	if err := child.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	base := "http://" + addr
	hc := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 0}}
	if err := waitReady(ctx, hc, base, exited); err != nil {
		return fmt.Errorf("loadtest: %w (see %s)", err, logf.Name())
	}
	rss := watchRSS(child.Process.Pid)
	defer rss.stop()

	// Tokens, straight into the store (WAL: the server keeps serving).
	st, err := sqlite.Open(ctx, filepath.Join(dir, "data"), nil)
	if err != nil {
		return err
	}
	viewers := make([]string, *clients)
	for i := range viewers {
		if viewers[i], err = putToken(ctx, st, server.RoleViewer, fmt.Sprintf("loadtest viewer %d", i)); err != nil {
			st.Close()
			return err
		}
	}
	analyst, err := putToken(ctx, st, server.RoleAnalyst, "loadtest analyst")
	st.Close()
	if err != nil {
		return err
	}
	quarter := lastQuarter(time.Now(), time.UTC)
	mahallas, err := unitCodes(ctx, hc, base, "mahalla")
	if err != nil {
		return err
	}
	districts, err := unitCodes(ctx, hc, base, "district")
	if err != nil {
		return err
	}
	tiles := tileList()
	cheap := func(rng *rand.Rand) (string, string) {
		switch u := rng.Float64(); {
		case u < 0.6:
			return "tile", tiles[rng.IntN(len(tiles))].path(quarter)
		case u < 0.85:
			lv := []string{"district", "mahalla"}[rng.IntN(2)]
			return "stats", "/v1/stats?level=" + lv + "&period=" + quarter + "&kind=crime&compare=previous,last_year"
		default:
			return "profile", "/v1/mahallas/" + mahallas[rng.IntN(len(mahallas))] + "?period=" + quarter
		}
	}

	// Phase 1: the mix.
	fmt.Fprintf(env.stdout, "mix: %d clients for %s (tiles, stats, mahalla profiles; %s)...\n", *clients, *mixFor, quarter)
	rss.reset()
	mix := newLoadStats()
	runClients(ctx, *clients, *mixFor, func(i int, rng *rand.Rand) {
		class, path := cheap(rng)
		mix.do(ctx, hc, class, base+path, viewers[i])
	})
	mixRSS := rss.peak()

	// Phase 2: the storm, with cheap probes alongside.
	fmt.Fprintf(env.stdout, "storm: %d parallel res-10 k=10 hot spot analyses over districts for %s, 4 clients of tiles and stats alongside...\n", *heavy, *heavyFor)
	rss.reset()
	storm, probes := newLoadStats(), newLoadStats()
	var wg sync.WaitGroup
	wg.Go(func() {
		runClients(ctx, *heavy, *heavyFor, func(i int, rng *rand.Rand) {
			d := districts[rng.IntN(len(districts))]
			storm.do(ctx, hc, "hotspots res 10 k 10", base+"/v1/hotspots?res=10&k=10&unit="+d+"&period="+quarter, analyst)
		})
	})
	wg.Go(func() {
		// Cheap requests only: a profile with hot cells is heavy work.
		runClients(ctx, 4, *heavyFor, func(i int, rng *rand.Rand) {
			class, path := "tile", tiles[rng.IntN(len(tiles))].path(quarter)
			if rng.IntN(3) == 0 {
				class, path = "stats", "/v1/stats?level=district&period="+quarter+"&kind=crime&compare=previous,last_year"
			}
			probes.do(ctx, hc, class+" (during the storm)", base+path, viewers[i])
			time.Sleep(50 * time.Millisecond) // a user's pace, within the per-client rate
		})
	})
	wg.Wait()
	stormRSS := rss.peak()
	alive := false
	if resp, err := hc.Get(base + "/healthz"); err == nil {
		alive = resp.StatusCode == http.StatusOK
		resp.Body.Close()
	}

	// Report and checks.
	fmt.Fprintln(env.stdout)
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\trequests\tstatuses\tp50 ms\tp99 ms\tmax ms\t")
	mix.print(tw, "mix")
	storm.print(tw, "storm")
	probes.print(tw, "storm")
	tw.Flush()
	fmt.Fprintf(env.stdout, "server peak RSS: mix %d MiB, storm %d MiB (limit %d MiB); alive after the storm: %v\n", mixRSS>>20, stormRSS>>20, *maxRSS, alive)

	var fails []string
	if n := mix.bad(http.StatusTooManyRequests); n > 0 {
		fails = append(fails, fmt.Sprintf("mix: %d answers other than 2xx, 304 and a deliberate 429", n))
	}
	if n := storm.bad(http.StatusServiceUnavailable, http.StatusUnprocessableEntity, http.StatusTooManyRequests); n > 0 {
		fails = append(fails, fmt.Sprintf("storm: %d answers other than 2xx and deliberate 503/422/429", n))
	}
	if n := probes.bad(http.StatusTooManyRequests); n > 0 {
		fails = append(fails, fmt.Sprintf("cheap requests during the storm: %d failed", n))
	}
	if p99 := probes.all().p99; p99 >= 100*time.Millisecond {
		fails = append(fails, fmt.Sprintf("cheap requests during the storm: p99 %s (want < 100 ms)", p99.Round(time.Millisecond)))
	}
	if max(mixRSS, stormRSS) >= *maxRSS<<20 {
		fails = append(fails, fmt.Sprintf("peak RSS %d MiB (want < %d MiB)", max(mixRSS, stormRSS)>>20, *maxRSS))
	}
	if !alive {
		fails = append(fails, "the server is not alive after the storm")
	}
	if len(fails) > 0 {
		for _, f := range fails {
			fmt.Fprintln(env.stdout, "FAIL:", f)
		}
		return fmt.Errorf("loadtest: %d check(s) failed", len(fails))
	}
	fmt.Fprintln(env.stdout, "PASS: no unexpected status, cheap p99 during the storm < 100 ms, peak RSS under the limit, server alive")
	return nil
}

// freeLoopbackAddr returns a loopback address with a port free right now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady waits until the server answers /readyz and a public stats
// query (its snapshot is built), or the child exits.
func waitReady(ctx context.Context, hc *http.Client, base string, exited <-chan error) error {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("the server exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		resp, err := hc.Get(base + "/v1/units?level=region")
		if err != nil {
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			continue
		}
		resp, err = hc.Get(base + "/v1/stats?level=region&period=" + lastQuarter(time.Now(), time.UTC))
		if err != nil {
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
	}
	return errors.New("the server was not ready within 5 minutes")
}

// putToken stores a new token of role and returns its secret.
func putToken(ctx context.Context, st *sqlite.Store, role server.Role, name string) (string, error) {
	tok, rec, err := server.NewToken(role, name, time.Now(), 24*time.Hour)
	if err != nil {
		return "", err
	}
	if err := store.TokenStore(st).PutToken(ctx, rec); err != nil {
		return "", fmt.Errorf("loadtest token: %w", err)
	}
	return tok, nil
}

// unitCodes lists the codes of the units of one level.
func unitCodes(ctx context.Context, hc *http.Client, base, level string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/units?level="+level, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Units []struct {
			Code string `json:"code"`
		} `json:"units"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("units of level %s: %w", level, err)
	}
	var codes []string
	for _, u := range body.Units {
		codes = append(codes, u.Code)
	}
	if len(codes) == 0 {
		return nil, fmt.Errorf("no %s units", level)
	}
	return codes, nil
}

// runClients runs n clients calling do in a loop until d has passed.
func runClients(ctx context.Context, n int, d time.Duration, do func(client int, rng *rand.Rand)) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for ctx.Err() == nil {
				do(i, rng)
			}
		})
	}
	wg.Wait()
}

// loadStats collects latencies and statuses per request class.
type loadStats struct {
	mu      sync.Mutex
	classes map[string]*classStats
	order   []string
}

type classStats struct {
	lat    []time.Duration
	status map[int]int
}

func newLoadStats() *loadStats { return &loadStats{classes: map[string]*classStats{}} }

// do sends one GET and records its status (0 for a transport error) and
// latency.
func (l *loadStats) do(ctx context.Context, hc *http.Client, class, url, token string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	status := 0
	resp, err := hc.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
	} else if ctx.Err() != nil {
		return // the phase ended
	}
	took := time.Since(start)
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.classes[class]
	if c == nil {
		c = &classStats{status: map[int]int{}}
		l.classes[class] = c
		l.order = append(l.order, class)
	}
	c.lat = append(c.lat, took)
	c.status[status]++
}

// bad counts answers that are neither 2xx, 304 nor one of allowed.
func (l *loadStats) bad(allowed ...int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.classes {
		for s, k := range c.status {
			if (s >= 200 && s < 300) || s == http.StatusNotModified || contains(allowed, s) {
				continue
			}
			n += k
		}
	}
	return n
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// all is the latency summary of every class together.
func (l *loadStats) all() tileStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ds []time.Duration
	for _, c := range l.classes {
		ds = append(ds, c.lat...)
	}
	return statsOf(ds)
}

func (l *loadStats) print(tw io.Writer, phase string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) }
	for _, class := range l.order {
		c := l.classes[class]
		st := statsOf(c.lat)
		var parts []string
		for s := range 600 {
			if k := c.status[s]; k > 0 {
				name := strconv.Itoa(s)
				if s == 0 {
					name = "error"
				}
				parts = append(parts, name+": "+strconv.Itoa(k))
			}
		}
		fmt.Fprintf(tw, "%s %s\t%d\t%s\t%s\t%s\t%s\t\n", phase, class, st.n, strings.Join(parts, " "), ms(st.p50), ms(st.p99), ms(st.max))
	}
}

// rssWatch samples a process's resident set size every 50 ms.
type rssWatch struct {
	max  atomic.Int64
	done chan struct{}
	once sync.Once
}

func watchRSS(pid int) *rssWatch {
	w := &rssWatch{done: make(chan struct{})}
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if b := readRSS(path); b > w.max.Load() {
				w.max.Store(b)
			}
			select {
			case <-w.done:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *rssWatch) reset()      { w.max.Store(0) }
func (w *rssWatch) peak() int64 { return w.max.Load() }
func (w *rssWatch) stop()       { w.once.Do(func() { close(w.done) }) }

// readRSS reads VmRSS (bytes) from a /proc/PID/status file; 0 when it
// cannot.
func readRSS(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
