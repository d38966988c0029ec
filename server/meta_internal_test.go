package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/crimemap/crimemap/analytics"
)

func TestPeriodsAt(t *testing.T) {
	tash, err := time.LoadLocation("Asia/Tashkent")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		now  time.Time
		want metaPeriods
	}{
		{time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC), metaPeriods{
			Month: metaPeriod{"2026-11", "2026-12"}, Quarter: metaPeriod{"2026-Q3", "2026-Q4"},
			Half: metaPeriod{"2026-H1", "2026-H2"}, Year: metaPeriod{"2025", "2026"}}},
		// 30 June 20:00 UTC is 1 July in Tashkent: a new month, quarter and half.
		{time.Date(2026, 6, 30, 20, 0, 0, 0, time.UTC), metaPeriods{
			Month: metaPeriod{"2026-06", "2026-07"}, Quarter: metaPeriod{"2026-Q2", "2026-Q3"},
			Half: metaPeriod{"2026-H1", "2026-H2"}, Year: metaPeriod{"2025", "2026"}}},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, tash), metaPeriods{
			Month: metaPeriod{"2025-12", "2026-01"}, Quarter: metaPeriod{"2025-Q4", "2026-Q1"},
			Half: metaPeriod{"2025-H2", "2026-H1"}, Year: metaPeriod{"2025", "2026"}}},
		{time.Date(2026, 3, 31, 23, 59, 59, 0, tash), metaPeriods{
			Month: metaPeriod{"2026-02", "2026-03"}, Quarter: metaPeriod{"2025-Q4", "2026-Q1"},
			Half: metaPeriod{"2025-H2", "2026-H1"}, Year: metaPeriod{"2025", "2026"}}},
	} {
		got := periodsAt(tc.now, tash)
		if got != tc.want {
			t.Errorf("periodsAt(%v) = %+v, want %+v", tc.now, got, tc.want)
		}
		// Every label parses; the closed one has ended, the running one has not.
		for _, p := range []metaPeriod{got.Month, got.Quarter, got.Half, got.Year} {
			closed, err1 := analytics.ParsePeriod(p.LatestClosed, tash)
			running, err2 := analytics.ParsePeriod(p.Running, tash)
			if err1 != nil || err2 != nil {
				t.Fatalf("%+v: %v %v", p, err1, err2)
			}
			if closed.To.After(tc.now) || !running.To.After(tc.now) || running.From.After(tc.now) || !closed.To.Equal(running.From) {
				t.Errorf("%v: %s [%v, %v) and %s [%v, %v)", tc.now, closed.Label, closed.From, closed.To, running.Label, running.From, running.To)
			}
		}
	}
}

// TestLogRequestsWebLevels: the page's request is logged at info, its
// assets at debug when served (at info when they fail).
func TestLogRequestsWebLevels(t *testing.T) {
	var buf bytes.Buffer
	page := fstest.MapFS{"index.html": {Data: []byte("<html>")}, "assets/app-1.js": {Data: []byte("1")}}
	s := New(Config{Web: page, Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	for _, tc := range []struct {
		path, level string
	}{
		{"/?lang=ru", "INFO"},
		{"/assets/app-1.js", "DEBUG"},
		{"/assets/nope.js", "INFO"},
	} {
		buf.Reset()
		s.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, tc.path, nil))
		path, _, _ := strings.Cut(tc.path, "?")
		var line string
		for l := range strings.SplitSeq(buf.String(), "\n") {
			if strings.Contains(l, "msg=request") {
				line = l
			}
		}
		if !strings.Contains(line, "level="+tc.level) || !strings.Contains(line, "path="+path) {
			t.Errorf("%s: request line %q, want level %s", tc.path, line, tc.level)
		}
	}
}
