package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store"
	"github.com/jackc/pgx/v5/pgconn"
)

// pingStore is a store whose Ping returns err (or waits for its context
// when block); every other method is unused.
type pingStore struct {
	store.Store
	err   error
	block bool
}

func (p pingStore) Backend() string { return "postgis" }

func (p pingStore) Ping(ctx context.Context) error {
	if p.block {
		<-ctx.Done()
		return fmt.Errorf("postgis ping: %w", ctx.Err())
	}
	return p.err
}

// liveSnaps is a Snapshots with a reload failure.
type liveSnaps struct {
	cur    *analytics.Snapshot
	failed *analytics.ReloadFailure
}

func (l liveSnaps) Current() *analytics.Snapshot              { return l.cur }
func (l liveSnaps) LastReloadError() *analytics.ReloadFailure { return l.failed }

// emptySnapshot builds a snapshot of no events.
func emptySnapshot(t *testing.T) *analytics.Snapshot {
	t.Helper()
	s, err := analytics.BuildEvents(t.Context(), nil, nil, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReadyz(t *testing.T) {
	connErr := fmt.Errorf("postgis data version: failed to connect to `user=postgres database=secret`: %w",
		&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
	snap := emptySnapshot(t)
	for _, tc := range []struct {
		name       string
		st         pingStore
		snaps      Snapshots
		status     int
		body       string // "ready" or "degraded"
		store      string // the store's component status
		snapStatus string // "" without a snapshot component
		msg        []string
	}{
		{name: "ready", st: pingStore{}, snaps: liveSnaps{cur: snap}, status: 200, body: "ready", store: "up", snapStatus: "up",
			msg: []string{"up"}},
		{name: "no snapshots configured", st: pingStore{}, status: 200, body: "ready", store: "up"},
		{name: "store refuses", st: pingStore{err: connErr}, snaps: liveSnaps{cur: snap, failed: &analytics.ReloadFailure{At: time.Now(), Err: connErr}},
			status: 503, body: "degraded", store: "down", snapStatus: "stale",
			msg: []string{"the store (postgis) does not answer", "stats, series, hexbins, tiles", "answer 503", "snapshot 3"}},
		{name: "store silent", st: pingStore{block: true}, snaps: liveSnaps{cur: snap}, status: 503, body: "degraded", store: "down", snapStatus: "up",
			msg: []string{"within 2s"}},
		{name: "no snapshot yet", st: pingStore{}, snaps: liveSnaps{}, status: 503, body: "degraded", store: "up", snapStatus: "missing",
			msg: []string{"not built yet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := New(Config{Store: tc.st, Snapshots: tc.snaps})
			rec := httptest.NewRecorder()
			start := time.Now()
			srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if took := time.Since(start); took > readyPingTimeout+time.Second {
				t.Errorf("took %v", took)
			}
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("content type %q", ct)
			}
			var got readyJSON
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("%v: %s", err, rec.Body)
			}
			if got.Status != tc.body || got.Store.Status != tc.store || got.Store.Backend != "postgis" {
				t.Errorf("status %q store %+v, want %q and store %q", got.Status, got.Store, tc.body, tc.store)
			}
			switch {
			case tc.snapStatus == "" && got.Snapshot != nil:
				t.Errorf("snapshot component without Snapshots: %+v", got.Snapshot)
			case tc.snapStatus != "" && (got.Snapshot == nil || got.Snapshot.Status != tc.snapStatus):
				t.Errorf("snapshot %+v, want status %q", got.Snapshot, tc.snapStatus)
			case tc.snapStatus == "up" || tc.snapStatus == "stale":
				if got.Snapshot.Version != 3 || got.Snapshot.BuiltAt == nil {
					t.Errorf("snapshot %+v, want version 3 with its build time", got.Snapshot)
				}
			}
			for _, w := range tc.msg {
				if !strings.Contains(got.Message, w) {
					t.Errorf("message %q lacks %q", got.Message, w)
				}
			}
			// Nothing of the driver's text reaches the client.
			for _, leak := range []string{"secret", "user=", "connection refused", "dial"} {
				if strings.Contains(rec.Body.String(), leak) {
					t.Errorf("body leaks %q: %s", leak, rec.Body)
				}
			}
		})
	}
}

func TestStatusOfStoreUnreachable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("postgis units: %w", &pgconn.ConnectError{}), 503},
		{fmt.Errorf("postgis units: write failed: %w", &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}), 503},
		{fmt.Errorf("postgis unit: %w", &pgconn.PgError{Code: "57P01"}), 503}, // admin shutdown
		{fmt.Errorf("postgis unit: %w", &pgconn.PgError{Code: "08006"}), 503}, // connection failure
		{fmt.Errorf("postgis unit: %w", &pgconn.PgError{Code: "42P01"}), 500}, // a bug, not a fault
		{fmt.Errorf("%w: %w", context.Canceled, &net.OpError{Op: "read", Err: syscall.ECONNRESET}), 499},
		{fmt.Errorf("%w: %w", context.DeadlineExceeded, &net.OpError{Op: "read", Err: syscall.ECONNRESET}), 504},
		{errors.New("plain"), 500},
	} {
		if got := statusOf(tc.err); got != tc.want {
			t.Errorf("statusOf(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
