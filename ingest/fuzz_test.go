package ingest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store"
)

func fuzzRun(t *testing.T, in string, format Format) {
	var rej strings.Builder
	n := 0
	sum, err := Run(context.Background(), strings.NewReader(in), Options{Format: format, Kind: analytics.KindCrime,
		Index: tashkentIndex(), Rejects: &rej, BatchSize: 2, Workers: 1, Location: time.UTC},
		func(_ context.Context, evs []analytics.Event) (store.Result, error) {
			n += len(evs)
			for _, e := range evs {
				if e.SourceID == "" || e.Category == "" || e.OccurredAt.Location() != time.UTC {
					t.Fatalf("accepted invalid event %+v", e)
				}
			}
			return store.Result{}, nil
		})
	if err != nil {
		return
	}
	if sum.Accepted+sum.Rejected != sum.Rows || n != sum.Accepted {
		t.Fatalf("accepted %d + rejected %d != rows %d (sink saw %d)", sum.Accepted, sum.Rejected, sum.Rows, n)
	}
}

func FuzzCSV(f *testing.F) {
	if b, err := os.ReadFile("../testdata/ingest_bad.csv"); err == nil {
		f.Add(string(b))
	}
	f.Add("source_id,occurred_at,lat,lon,category\n1,2020-01-01,41.3,69.2,x\n1,2020-01-01,,,x\n")
	f.Add("source_id;occurred_at;category;kind;killed\n\"a\"\"b\";02.01.2019 15:04;x;accident;3\n")
	f.Fuzz(func(t *testing.T, in string) { fuzzRun(t, in, FormatCSV) })
}

func FuzzGeoJSON(f *testing.F) {
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"source_id":"a","occurred_at":"2020-01-01","category":"x"},"geometry":{"type":"Point","coordinates":[69.2,41.3]}}]}`)
	f.Add(`{"features":[{"type":"Feature","properties":{"source_id":1,"occurred_at":"2020-01-01T10:00Z","category":"x","kind":"accident","killed":"2"},"geometry":null},[]]}`)
	f.Fuzz(func(t *testing.T, in string) { fuzzRun(t, in, FormatGeoJSON) })
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2019-01-01 00:10:00", "02.01.2019 15:04", "2019-01-01T00:10:00.5+05:00", "2019/1/2 3:04", "2019-01-01 10:00 UTC"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTime(s, time.UTC)
		if err == nil && (tm.Year() < 1899 || tm.Year() > 2201 || tm.Location() != time.UTC) {
			t.Fatalf("ParseTime(%q) = %v", s, tm)
		}
	})
}
