package ingest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store"
)

// BenchmarkRun1M measures the whole pipeline (parse, validate, H3, assign)
// over 1M synthetic rows; rows/s is reported as a metric.
func BenchmarkRun1M(b *testing.B) {
	const n = 1_000_000
	rng := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	buf.WriteString("source_id,occurred_at,lat,lon,category,severity\n")
	for i := range n {
		fmt.Fprintf(&buf, "%d,2024-%02d-%02d %02d:%02d:00,%.5f,%.5f,theft,grave\n", i, 1+i%12, 1+i%28, i%24, i%60,
			41.2+rng.Float64()*0.2, 69.1+rng.Float64()*0.3)
	}
	data := buf.Bytes()
	ix := tashkentIndex()
	sink := func(context.Context, []analytics.Event) (store.Result, error) { return store.Result{}, nil }
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		sum, err := Run(context.Background(), bytes.NewReader(data), Options{Format: FormatCSV, Kind: analytics.KindCrime, Index: ix}, sink)
		if err != nil || sum.Accepted != n {
			b.Fatalf("%+v %v", sum, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
