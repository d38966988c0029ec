package classify

import (
	"context"
	"fmt"
	"testing"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/paulmach/orb"
)

// benchWorld replicates the demo region (852 mahallas, 15 months of
// events) copies times under new unit codes: 12 copies are ~10,000
// mahallas and ~200 districts.
func benchWorld(b *testing.B, copies int) (*analytics.Snapshot, func(string) (orb.MultiPolygon, error), int) {
	b.Helper()
	units, err := demo.Units()
	if err != nil {
		b.Fatal(err)
	}
	var evs []analytics.Event
	err = demo.Events(context.Background(), demo.Config{Seed: 1, Now: demoNow, Months: 15}, units, func(bt []analytics.Event) error {
		evs = append(evs, bt...)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	suffix := func(code string, k int) string {
		if code == "" {
			return ""
		}
		return fmt.Sprintf("%s~%02d", code, k)
	}
	var all []geo.Unit
	geom := map[string]orb.MultiPolygon{}
	mahallas := 0
	for k := range copies {
		for _, u := range units {
			u.Code, u.ParentCode = suffix(u.Code, k), suffix(u.ParentCode, k)
			all = append(all, u)
			geom[u.Code] = u.Geometry
			if u.Level == geo.LevelMahalla {
				mahallas++
			}
		}
	}
	snap, err := analytics.Build(context.Background(), all, func(fn func(*analytics.Event) error) error {
		for k := range copies {
			for i := range evs {
				e := evs[i]
				e.Region, e.District, e.Mahalla = suffix(e.Region, k), suffix(e.District, k), suffix(e.Mahalla, k)
				if err := fn(&e); err != nil {
					return err
				}
			}
		}
		return nil
	}, 1, 1)
	if err != nil {
		b.Fatal(err)
	}
	return snap, func(code string) (orb.MultiPolygon, error) { return geom[code], nil }, mahallas
}

// BenchmarkClassify10k classifies ~10,000 mahallas for one quarter with
// the default policy, with Gi* hot spots per district (~200 districts) and
// without boundaries (hotspot_share 0).
func BenchmarkClassify10k(b *testing.B) {
	snap, bounds, n := benchWorld(b, 12)
	p := DefaultPolicy()
	q := mustPeriod(b, "2025-Q4")
	for _, bc := range []struct {
		name   string
		bounds func(string) (orb.MultiPolygon, error)
	}{{"hotspots", bounds}, {"no-boundaries", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			var sink Run
			for b.Loop() {
				run, err := Classify(context.Background(), Input{Snapshot: snap, Policy: p, Period: q, Boundaries: bc.bounds, Now: demoNow})
				if err != nil {
					b.Fatal(err)
				}
				sink = run
			}
			if len(sink.Results) != n {
				b.Fatalf("%d results, want %d", len(sink.Results), n)
			}
			b.ReportMetric(float64(n), "mahallas")
		})
	}
}
