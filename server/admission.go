package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crimemap/crimemap/analytics/hotspot"
	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
	"github.com/uber/h3-go/v4"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"
)

// Admission control, one layer for every route:
//
//   - every request but the operators' probes passes a per-client rate
//     limit (a token bucket per token ID, else per remote address;
//     golang.org/x/time/rate): beyond it, 429 with Retry-After;
//   - heavy analyses (hot spots of every kind, emerging cubes, mahalla
//     profiles with hot cells, classification runs) estimate their cost
//     (H3 cells x neighbours x time steps, and the bytes that takes) before
//     any work starts: over the per-request maximum, 422 naming the limit
//     and how to narrow the request; within it, they run through a pool of
//     HeavySlots with a queue of HeavyQueue, and the estimated bytes of all
//     running analyses stay within HeavyBytes (a weighted semaphore,
//     golang.org/x/sync/semaphore): a full queue or a wait longer than
//     QueueWait answers 503 with Retry-After.
//
// The process's heap limit (GOMEMLIMIT, set by crimemap serve from the same
// --memory-limit) is the backstop; HeavyBytes keeps the analyses well
// within it.

// AdmissionConfig configures admission control; zero values take the
// defaults.
type AdmissionConfig struct {
	// HeavySlots is how many heavy analyses run at once (default half the
	// CPUs, at least one: they are CPU-bound, some use two cores, and the
	// other half keeps cheap requests fast meanwhile).
	HeavySlots int
	// HeavyQueue is how many wait for a slot (default 8 x HeavySlots:
	// waiting costs no memory, and QueueWait bounds the wait); beyond, 503.
	HeavyQueue int
	// QueueWait is how long one waits in the queue before 503 (default
	// 10 s).
	QueueWait time.Duration
	// MaxRequestBytes is the largest estimated memory of one heavy
	// analysis (default 512 MiB); larger ones answer 422.
	MaxRequestBytes int64
	// HeavyBytes bounds the estimated memory of all running heavy analyses
	// together (default HeavySlots x MaxRequestBytes).
	HeavyBytes int64
	// RatePerSecond and RateBurst are each client's request rate and burst
	// (defaults 50/s and 200: a map view loads a few dozen tiles at once).
	// A negative rate disables the limit.
	RatePerSecond float64
	RateBurst     int
}

// Default admission settings.
const (
	defaultMaxRequestBytes = 512 << 20
	defaultQueueWait       = 10 * time.Second
	defaultRate            = 50
	defaultBurst           = 200
)

// Defaults returns c with the defaults filled in.
func (c AdmissionConfig) Defaults() AdmissionConfig {
	if c.HeavySlots <= 0 {
		c.HeavySlots = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if c.HeavyQueue <= 0 {
		c.HeavyQueue = 8 * c.HeavySlots
	}
	if c.QueueWait <= 0 {
		c.QueueWait = defaultQueueWait
	}
	if c.MaxRequestBytes <= 0 {
		c.MaxRequestBytes = defaultMaxRequestBytes
	}
	if c.HeavyBytes <= 0 {
		c.HeavyBytes = int64(c.HeavySlots) * c.MaxRequestBytes
	}
	c.HeavyBytes = max(c.HeavyBytes, c.MaxRequestBytes)
	if c.RatePerSecond == 0 {
		c.RatePerSecond = defaultRate
	}
	if c.RateBurst <= 0 {
		c.RateBurst = defaultBurst
	}
	return c
}

// Refusal reasons: the errors' and the values of the reason label of
// crimemap_refusals_total. The label takes these constants only, so its
// cardinality is fixed whatever the clients send.
const (
	refuseRate    = "rate_limit" // 429: the client's rate
	refuseQueue   = "queue_full" // 503: every slot busy and the queue full
	refuseWait    = "queue_wait" // 503: waited QueueWait for a slot (and bytes)
	refuseTooMuch = "too_large"  // 422: the estimate exceeds MaxRequestBytes
)

// refusalReasons lists every refusal reason.
func refusalReasons() []string { return []string{refuseRate, refuseQueue, refuseWait, refuseTooMuch} }

// admission holds the state of admission control for one Server.
type admission struct {
	cfg      AdmissionConfig
	slots    *semaphore.Weighted
	bytes    *semaphore.Weighted
	running  atomic.Int64
	queued   atomic.Int64
	admitted atomic.Int64 // heavy analyses admitted so far
	inBytes  atomic.Int64
	refused  sync.Map // reason -> *atomic.Int64
	clients  *clientLimiter
	// onChange, when set, is told the running and queued counts and the
	// admitted bytes after every change (metrics).
	onChange func(running, queued, bytes int64)
	// onRefuse, when set, is told every refusal's reason (metrics).
	onRefuse func(reason string)
}

func newAdmission(cfg AdmissionConfig) *admission {
	cfg = cfg.Defaults()
	a := &admission{
		cfg:   cfg,
		slots: semaphore.NewWeighted(int64(cfg.HeavySlots)),
		bytes: semaphore.NewWeighted(cfg.HeavyBytes),
	}
	if cfg.RatePerSecond > 0 {
		a.clients = newClientLimiter(rate.Limit(cfg.RatePerSecond), cfg.RateBurst)
	}
	return a
}

// RefusedError is a request admission control turned away: 429 (the
// client's rate) or 503 (no capacity), with when to retry.
type RefusedError struct {
	Reason     string
	RetryAfter time.Duration
	msg        string
}

func (e *RefusedError) Error() string { return e.msg }

// status is 429 for the client's own rate, 503 for the service's capacity.
func (e *RefusedError) status() int {
	if e.Reason == refuseRate {
		return http.StatusTooManyRequests
	}
	return http.StatusServiceUnavailable
}

// retryAfter is the Retry-After header value: whole seconds, at least 1.
func (e *RefusedError) retryAfter() string {
	return strconv.Itoa(max(1, int(math.Ceil(e.RetryAfter.Seconds()))))
}

// ErrTooLarge is wrapped by LimitError.
var ErrTooLarge = errors.New("request too large")

// LimitError is a heavy analysis whose estimated cost exceeds the
// configured maximum: 422, naming the limit and how to narrow the request.
type LimitError struct {
	What     string // what was estimated, e.g. "a Gi* analysis of 152,000 H3 cells x 331 neighbours"
	Estimate int64  // bytes
	Max      int64  // bytes
	Narrow   string // how to make it fit
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%v: %s needs about %s of memory, more than this service's limit of %s per request (--max-request-bytes): %s",
		ErrTooLarge, e.What, mib(e.Estimate), mib(e.Max), e.Narrow)
}

func (e *LimitError) Unwrap() error { return ErrTooLarge }

func mib(b int64) string { return strconv.FormatInt((b+(1<<20)-1)>>20, 10) + " MiB" }

// refuse counts a refusal and returns its error.
func (a *admission) refuse(reason string, retry time.Duration, msg string) error {
	c, _ := a.refused.LoadOrStore(reason, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
	if a.onRefuse != nil {
		a.onRefuse(reason)
	}
	return &RefusedError{Reason: reason, RetryAfter: retry, msg: msg}
}

// Refused returns how many requests were refused for reason so far.
func (a *admission) Refused(reason string) int64 {
	if c, ok := a.refused.Load(reason); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

func (a *admission) changed() {
	if a.onChange != nil {
		a.onChange(a.running.Load(), a.queued.Load(), a.inBytes.Load())
	}
}

// cost is the estimate of one heavy analysis.
type cost struct {
	what   string // for the 422 message
	bytes  int64
	narrow string
}

// admit waits for a slot and c.bytes of the budget and returns the
// function that gives them back; it refuses what is too large (422) or
// cannot be served in time (503). ctx is the request's: a client that
// leaves stops waiting.
func (a *admission) admit(ctx context.Context, c cost) (func(), error) {
	if c.bytes > a.cfg.MaxRequestBytes {
		a.refuse(refuseTooMuch, 0, "")
		return nil, &LimitError{What: c.what, Estimate: c.bytes, Max: a.cfg.MaxRequestBytes, Narrow: c.narrow}
	}
	n := max(c.bytes, 1)
	if !a.slots.TryAcquire(1) {
		if a.queued.Add(1) > int64(a.cfg.HeavyQueue) {
			a.queued.Add(-1)
			return nil, a.refuse(refuseQueue, a.cfg.QueueWait,
				fmt.Sprintf("the service is busy: %d heavy analyses running and %d waiting; retry later", a.cfg.HeavySlots, a.cfg.HeavyQueue))
		}
		a.changed()
		err := a.wait(ctx, func(ctx context.Context) error { return a.slots.Acquire(ctx, 1) })
		a.queued.Add(-1)
		if err != nil {
			a.changed()
			return nil, err
		}
	}
	if !a.bytes.TryAcquire(n) {
		a.queued.Add(1)
		a.changed()
		err := a.wait(ctx, func(ctx context.Context) error { return a.bytes.Acquire(ctx, n) })
		a.queued.Add(-1)
		if err != nil {
			a.slots.Release(1)
			a.changed()
			return nil, err
		}
	}
	a.running.Add(1)
	a.admitted.Add(1)
	a.inBytes.Add(n)
	a.changed()
	var once sync.Once
	return func() {
		once.Do(func() {
			a.running.Add(-1)
			a.inBytes.Add(-n)
			a.bytes.Release(n)
			a.slots.Release(1)
			a.changed()
		})
	}, nil
}

// wait runs acquire with QueueWait as its deadline; a wait that times out
// is refused (503), a request that ends returns its context's error.
func (a *admission) wait(ctx context.Context, acquire func(context.Context) error) error {
	wctx, cancel := context.WithTimeout(ctx, a.cfg.QueueWait)
	defer cancel()
	if err := acquire(wctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for a heavy analysis slot: %w", ctx.Err())
		}
		return a.refuse(refuseWait, a.cfg.QueueWait,
			fmt.Sprintf("the service is busy: no heavy analysis slot freed within %s; retry later", a.cfg.QueueWait))
	}
	return nil
}

// heavy admits the request's heavy analysis (see admission); the caller
// must call the returned function when the analysis is done.
func (s *Server) heavy(r *http.Request, c cost) (func(), error) {
	return s.admission.admit(r.Context(), c)
}

// rateLimit is the per-client rate limit middleware (after authenticate:
// a token's ID is its client key). The operators' probes and /metrics are
// not limited, nor are the web map's assets (/assets/): they are served
// from memory and immutable, so a browser fetches each once, and counting
// them would only spend the budget an analyst's map needs for its tiles.
// The page itself (/) and the basemap tiles are counted like any route.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := s.admission.clients
		if c == nil || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" ||
			strings.HasPrefix(r.URL.Path, "/assets/") {
			next.ServeHTTP(w, r)
			return
		}
		if ok, retry := c.allow(clientKey(r), time.Now()); !ok {
			s.writeError(w, r, s.admission.refuse(refuseRate, retry,
				fmt.Sprintf("too many requests: at most %g a second (burst %d) per client; retry later", s.admission.cfg.RatePerSecond, s.admission.cfg.RateBurst)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientKey is the request's client: its token's ID, else its remote
// address (without the port).
func clientKey(r *http.Request) string {
	if id := tokenIDFrom(r.Context()); id != "" {
		return "token:" + id
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "addr:" + host
}

// clientLimiter holds a token bucket per client, forgetting clients idle
// for clientIdle (their bucket is full again by then).
type clientLimiter struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	m     map[string]*clientBucket
	swept time.Time
}

type clientBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const (
	clientIdle   = 10 * time.Minute
	clientsSweep = time.Minute
	maxClients   = 100_000
)

func newClientLimiter(limit rate.Limit, burst int) *clientLimiter {
	return &clientLimiter{limit: limit, burst: burst, m: make(map[string]*clientBucket)}
}

// allow takes a token from key's bucket; when there is none it returns
// false and how long until there is.
func (c *clientLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.swept) > clientsSweep || len(c.m) >= maxClients {
		idle := clientIdle
		if len(c.m) >= maxClients {
			idle = time.Duration(float64(c.burst) / float64(c.limit) * float64(time.Second)) // buckets full again
		}
		for k, b := range c.m {
			if now.Sub(b.seen) > idle {
				delete(c.m, k)
			}
		}
		c.swept = now
	}
	b, ok := c.m[key]
	if !ok {
		b = &clientBucket{lim: rate.NewLimiter(c.limit, c.burst)}
		c.m[key] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Cost estimates. The constants come from measuring the analyses (see
// TestCostEstimates): the weights take 4 bytes a link twice over while
// they are built (two halves, then joined), and every cell carries its
// index entry, counts, statistics and output row.
const (
	bytesPerLink      = 10
	bytesPerCell      = 400
	bytesPerCubeLink  = 12
	bytesPerCubeCell  = 120
	bytesPerPermCell  = 16 // local Moran: a permutation vector per worker, the pseudo p-values
	bytesMahallaBase  = 8 << 20
	bytesClassifyBase = 64 << 20
)

// areaKm2 is the geodesic area of mp, or of box when mp is empty.
func areaKm2(mp orb.MultiPolygon, box *orb.Bound) float64 {
	var km2 float64
	for _, p := range mp {
		km2 += math.Abs(orbgeo.Area(p)) / 1e6
	}
	if len(mp) == 0 && box != nil {
		km2 = math.Abs(orbgeo.Area(box.ToPolygon())) / 1e6
	}
	return km2
}

// ringSize is the number of cells within k grid steps of a cell.
func ringSize(k int) int64 { return int64(3*k*(k+1) + 1) }

// hexCost estimates a Gi* analysis over the H3 cells of an area of km2 at
// res with k-ring weights.
func hexCost(km2 float64, res, k int) cost {
	if k <= 0 {
		k = hotspot.DefaultK(res)
	}
	cells := int64(km2/h3.HexagonAreaAvgKm2(res)) + 1
	links := cells * ringSize(k)
	return cost{
		what:   fmt.Sprintf("a Gi* analysis of about %d H3 cells at res %d x %d neighbours (k=%d)", cells, res, ringSize(k), k),
		bytes:  links*bytesPerLink + cells*bytesPerCell,
		narrow: "use a coarser res, a smaller k or a smaller unit",
	}
}

// emergingCost estimates an emerging hot spot analysis: steps time slices
// of the H3 cells of an area, each cell linked to its k-ring in its own and
// the previous step.
func emergingCost(km2 float64, res, k, steps int) cost {
	if k <= 0 {
		k = hotspot.DefaultK(res)
	}
	cells := int64(km2/h3.HexagonAreaAvgKm2(res)) + 1
	links := int64(steps) * cells * 2 * ringSize(k)
	return cost{
		what: fmt.Sprintf("an emerging hot spot cube of about %d H3 cells at res %d x %d steps x %d neighbours (k=%d)",
			cells, res, steps, ringSize(k), k),
		bytes:  links*bytesPerCubeLink + int64(steps)*cells*bytesPerCubeCell + cells*ringSize(k)*bytesPerLink,
		narrow: "use a coarser res, a smaller k, fewer steps or a smaller unit",
	}
}

// mahallaCost estimates Gi* and local Moran over n mahallas with the given
// permutations.
func mahallaCost(n, permutations int) cost {
	return cost{
		what:   fmt.Sprintf("Gi* and local Moran over %d mahallas with %d permutations", n, permutations),
		bytes:  bytesMahallaBase + int64(n)*int64(runtime.GOMAXPROCS(0))*bytesPerPermCell + int64(n)*bytesPerCell,
		narrow: "choose a smaller unit",
	}
}

// classifyCost estimates a classification run.
func classifyCost(mahallas int) cost {
	return cost{
		what:   fmt.Sprintf("a classification of %d mahallas", mahallas),
		bytes:  bytesClassifyBase + int64(mahallas)*4*bytesPerCell,
		narrow: "classify a smaller unit",
	}
}
