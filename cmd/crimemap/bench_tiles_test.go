package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// BenchmarkTileWarm serves a warm mahallas tile at z12 over Qarshi from the
// server and renderer of serve (10% of the demo volume; no network: the
// handler is called directly).
func BenchmarkTileWarm(b *testing.B) {
	quiet := slog.New(slog.DiscardHandler)
	ts, err := startTileService(b.Context(), quiet, quiet, 0.1)
	if err != nil {
		b.Fatal(err)
	}
	defer ts.stop()
	t := maptile.At(orb.Point{65.79, 38.86}, 12)
	path := tileJob{layers: "mahallas", z: int(t.Z), x: int(t.X), y: int(t.Y)}.path(tileBenchPeriod)
	h := ts.srv.Handler()
	get := func() int {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		return rec.Body.Len()
	}
	n := get() // cold
	b.SetBytes(int64(n))
	b.ResetTimer()
	for b.Loop() {
		get()
	}
	b.ReportMetric(float64(n), "bytes/tile")
}
