package server_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/server"
)

// TestAdmissionOverBudget: a heavy analysis whose estimate exceeds the
// per-request maximum answers 422 before any work, naming the limit and
// how to narrow the request; a small one on the same server runs.
func TestAdmissionOverBudget(t *testing.T) {
	ts, _, _ := newAnalyticsServerCfg(t, server.Config{Admission: server.AdmissionConfig{MaxRequestBytes: 1 << 20}})
	for _, path := range []string{
		"/v1/hotspots?res=10&k=10&period=2026-Q2&unit=1710",
		"/v1/hotspots/emerging?res=10&k=3&unit=1710&periods=24",
	} {
		status, _, body := get(t, ts.URL+path)
		var e struct{ Error string }
		_ = json.Unmarshal(body, &e)
		if status != 422 || !strings.Contains(e.Error, "--max-request-bytes") || !strings.Contains(e.Error, "coarser res") {
			t.Errorf("%s: %d %s; want 422 naming the limit and how to narrow", path, status, body)
		}
	}
	if status, _, body := get(t, ts.URL+"/v1/hotspots?res=8&k=1&period=2026-Q2&unit=1710401"); status != 200 {
		t.Errorf("a small analysis: %d %s", status, body)
	}
}

// TestRateLimit: past its burst a client gets 429 with Retry-After and a
// clear body; the probes are never limited; another client (another
// token) has its own bucket.
func TestRateLimit(t *testing.T) {
	ts, _, st := newAnalyticsServerCfg(t, server.Config{Admission: server.AdmissionConfig{RatePerSecond: 0.5, RateBurst: 3}})
	codes := []int{}
	var last []byte
	var retry string
	for range 5 {
		status, h, body := get(t, ts.URL+"/v1/units?level=region")
		codes = append(codes, status)
		if status == 429 {
			last, retry = body, h.Get("Retry-After")
		}
	}
	if codes[0] != 200 || codes[2] != 200 || codes[3] != 429 || codes[4] != 429 {
		t.Fatalf("statuses %v; want the burst of 3 then 429", codes)
	}
	if n, err := strconv.Atoi(retry); err != nil || n < 1 {
		t.Errorf("Retry-After %q", retry)
	}
	if !strings.Contains(string(last), "too many requests") {
		t.Errorf("429 body %s", last)
	}
	for range 5 {
		if status, _, _ := get(t, ts.URL+"/healthz"); status != 200 {
			t.Fatalf("/healthz limited: %d", status)
		}
	}
	other := roleToken(t, st, server.RoleViewer)
	if status, _, body := getAuth(t, ts.URL+"/v1/units?level=region", other); status != 200 {
		t.Errorf("another client: %d %s", status, body)
	}
}
