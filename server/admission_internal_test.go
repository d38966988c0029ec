package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAdmitPool: at most HeavySlots run, HeavyQueue wait, the next is
// refused at once (503, queue_full), a waiter that outlasts QueueWait is
// refused (503, queue_wait), one over MaxRequestBytes is refused before it
// waits (422, naming the limit), the bytes budget holds a second large
// analysis back until the first is done, and releases give everything back.
func TestAdmitPool(t *testing.T) {
	a := newAdmission(AdmissionConfig{HeavySlots: 2, HeavyQueue: 1, QueueWait: 200 * time.Millisecond,
		MaxRequestBytes: 100, HeavyBytes: 150, RatePerSecond: -1})
	ctx := context.Background()
	small := cost{what: "small", bytes: 10}
	r1, err := a.admit(ctx, small)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := a.admit(ctx, small)
	if err != nil {
		t.Fatal(err)
	}
	// Both slots busy: one may wait, the next is refused at once.
	waited := make(chan error, 1)
	go func() {
		rel, err := a.admit(ctx, small)
		if rel != nil {
			rel()
		}
		waited <- err
	}()
	for a.queued.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	_, err = a.admit(ctx, small)
	var re *RefusedError
	if !errors.As(err, &re) || re.Reason != refuseQueue || re.status() != http.StatusServiceUnavailable || re.RetryAfter <= 0 {
		t.Fatalf("full queue: %v, want a queue_full refusal with a retry time", err)
	}
	// The waiter outlasts QueueWait.
	if err := <-waited; !errors.As(err, &re) || re.Reason != refuseWait {
		t.Fatalf("long wait: %v, want a queue_wait refusal", err)
	}
	// A slot freed in time lets a waiter in.
	go func() {
		time.Sleep(50 * time.Millisecond)
		r1()
	}()
	r3, err := a.admit(ctx, small)
	if err != nil {
		t.Fatalf("waiter after a release: %v", err)
	}
	r1() // twice is harmless
	r2()
	r3()

	// Over the per-request maximum: 422 with the limit and how to narrow.
	_, err = a.admit(ctx, cost{what: "a Gi* analysis of 9 cells", bytes: 101, narrow: "use a coarser res"})
	var le *LimitError
	if !errors.As(err, &le) || statusOf(err) != http.StatusUnprocessableEntity || le.Max != 100 {
		t.Fatalf("too large: %v (status %d), want a LimitError and 422", err, statusOf(err))
	}
	if msg := publicMessage(err); msg == "" || !containsAll(msg, "a Gi* analysis of 9 cells", "use a coarser res", "--max-request-bytes") {
		t.Errorf("the 422 message does not say what and how: %q", msg)
	}

	// Bytes: two analyses of 80 do not fit in 150 together.
	big := cost{what: "big", bytes: 80}
	b1, err := a.admit(ctx, big)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	order := []string{}
	done := make(chan struct{})
	go func() {
		b2, err := a.admit(ctx, big)
		if err == nil {
			mu.Lock()
			order = append(order, "second started")
			mu.Unlock()
			b2()
		}
		close(done)
	}()
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	order = append(order, "first done")
	mu.Unlock()
	b1()
	<-done
	if len(order) != 2 || order[0] != "first done" {
		t.Errorf("bytes budget: %v, want the second to start after the first is done", order)
	}
	if a.running.Load() != 0 || a.queued.Load() != 0 || a.inBytes.Load() != 0 {
		t.Errorf("after every release: running %d, queued %d, bytes %d", a.running.Load(), a.queued.Load(), a.inBytes.Load())
	}
	if a.Refused(refuseQueue) != 1 || a.Refused(refuseWait) != 1 || a.Refused(refuseTooMuch) != 1 {
		t.Errorf("refusals counted: queue %d, wait %d, too much %d", a.Refused(refuseQueue), a.Refused(refuseWait), a.Refused(refuseTooMuch))
	}
}

// TestAdmitClientLeaves: a client that goes away while queued stops
// waiting with its context's error, not a refusal.
func TestAdmitClientLeaves(t *testing.T) {
	a := newAdmission(AdmissionConfig{HeavySlots: 1, QueueWait: time.Minute, RatePerSecond: -1})
	rel, err := a.admit(context.Background(), cost{bytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rel()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	_, err = a.admit(ctx, cost{bytes: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("queued request whose client left: %v, want context.Canceled", err)
	}
	if a.queued.Load() != 0 {
		t.Errorf("%d still queued", a.queued.Load())
	}
}

// TestClientLimiter: a client gets its burst, then one request per
// 1/rate, and is told how long to wait; clients do not share buckets;
// idle clients are forgotten.
func TestClientLimiter(t *testing.T) {
	c := newClientLimiter(10, 3)
	now := time.Unix(1000, 0)
	for i := range 3 {
		if ok, _ := c.allow("a", now); !ok {
			t.Fatalf("request %d within the burst refused", i)
		}
	}
	ok, retry := c.allow("a", now)
	if ok || retry <= 0 || retry > 100*time.Millisecond {
		t.Fatalf("over the burst: %v, retry %v; want refused, retry <= 100ms", ok, retry)
	}
	if ok, _ := c.allow("b", now); !ok {
		t.Error("another client refused")
	}
	if ok, _ := c.allow("a", now.Add(100*time.Millisecond)); !ok {
		t.Error("refused after the refill time")
	}
	c.allow("c", now.Add(clientIdle+2*clientsSweep))
	if _, ok := c.m["a"]; ok {
		t.Error("an idle client is still remembered")
	}
}

// TestCostEstimates: the estimates grow with the work and match the
// calibration: Gi* over demo district 1710207 (2,404 km²) on a 300,000-event
// synthetic snapshot peaked at +454 MiB of heap at res 10 with k=10
// (estimate 565), +155 MiB at res 10 with k=5 (199) and +92 MiB at res 9
// with k=10 (80). The res-10 k=10 example is over the default per-request
// maximum.
func TestCostEstimates(t *testing.T) {
	for _, c := range []struct {
		res, k   int
		measured int64
	}{{10, 10, 454 << 20}, {10, 5, 155 << 20}, {9, 10, 92 << 20}} {
		est := hexCost(2404, c.res, c.k).bytes
		if est < c.measured*3/4 || est > c.measured*2 {
			t.Errorf("res %d k %d: estimate %s, measured %s", c.res, c.k, mib(est), mib(c.measured))
		}
	}
	if c := hexCost(2404, 10, 10); c.bytes <= defaultMaxRequestBytes {
		t.Errorf("res-10 k=10 district: %s, not over the default maximum", mib(c.bytes))
	}
	if c := hexCost(2404, 8, 0); c.bytes > 64<<20 {
		t.Errorf("res-8 default k district: %s, want well under the maximum", mib(c.bytes))
	}
	if a, b := emergingCost(1500, 8, 1, 24), emergingCost(1500, 8, 1, 48); b.bytes <= a.bytes {
		t.Errorf("more steps cost less: %d <= %d", b.bytes, a.bytes)
	}
	if a, b := hexCost(100, 9, 2), hexCost(100, 9, 4); b.bytes <= a.bytes {
		t.Errorf("a larger k costs less: %d <= %d", b.bytes, a.bytes)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// TestProfileMemo: the district analysis behind mahalla profiles runs once
// for every mahalla of the district (and view, period, resolution), even
// for concurrent requests, and again for a new snapshot.
func TestProfileMemo(t *testing.T) {
	s := &Server{admission: newAdmission(AdmissionConfig{RatePerSecond: -1}), districts: newDistrictMemo()}
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	var runs atomic.Int64
	compute := func(context.Context) (any, error) {
		runs.Add(1)
		time.Sleep(20 * time.Millisecond)
		return districtHot{note: "x"}, nil
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := s.districts.get(r.Context(), s, r, "v1|true|1710401|0|1|9", cost{bytes: 1}, compute); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if runs.Load() != 1 || s.admission.admitted.Load() != 1 {
		t.Fatalf("20 profiles of one district: %d analyses, %d admitted; want 1", runs.Load(), s.admission.admitted.Load())
	}
	if _, err := s.districts.get(r.Context(), s, r, "v2|true|1710401|0|1|9", cost{bytes: 1}, compute); err != nil || runs.Load() != 2 {
		t.Fatalf("new snapshot: %d analyses, %v", runs.Load(), err)
	}
	// A failed analysis is not memoised.
	boom := errors.New("boom")
	fail := func(context.Context) (any, error) { runs.Add(1); return nil, boom }
	for range 2 {
		if _, err := s.districts.get(r.Context(), s, r, "v3|true|x|0|1|9", cost{bytes: 1}, fail); !errors.Is(err, boom) {
			t.Fatalf("failed analysis: %v", err)
		}
	}
	if runs.Load() != 4 {
		t.Errorf("failures memoised: %d runs, want 4", runs.Load())
	}
}
