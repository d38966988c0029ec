package classify

import (
	"context"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/paulmach/orb"
)

// demoNow anchors the demo: 36 months of events ending 2025-12-31, so
// 2025-Q4 is the last full quarter.
var demoNow = time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)

// demoWorld builds the demo snapshot (Scale 1) and a boundary lookup.
func demoWorld(t testing.TB) (*analytics.Snapshot, []geo.Unit, func(string) (orb.MultiPolygon, error)) {
	t.Helper()
	units, err := demo.Units()
	if err != nil {
		t.Fatal(err)
	}
	var evs []analytics.Event
	err = demo.Events(context.Background(), demo.Config{Seed: 1, Now: demoNow}, units, func(b []analytics.Event) error {
		evs = append(evs, b...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := analytics.BuildEvents(context.Background(), units, evs, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	geom := map[string]orb.MultiPolygon{}
	for _, u := range units {
		geom[u.Code] = u.Geometry
	}
	return snap, units, func(code string) (orb.MultiPolygon, error) { return geom[code], nil }
}

func tashkentZone() *time.Location { return time.FixedZone("Asia/Tashkent", 5*3600) }

func mustPeriod(t testing.TB, s string) analytics.Period {
	t.Helper()
	p, err := analytics.ParsePeriod(s, tashkentZone())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// spread counts categories.
func spread(rs []Result) (red, yellow, green int) {
	for _, r := range rs {
		switch r.Category {
		case Red:
			red++
		case Yellow:
			yellow++
		default:
			green++
		}
	}
	return
}

func pct(n, of int) float64 { return 100 * float64(n) / float64(of) }

// TestDefaultPolicyDemoSpread calibrates the default policy: on the demo
// region's last full quarter the spread must be believable (5-15% red,
// 35-55% yellow, the rest green) and Kashkadarya's red share near the
// published 137/832 = 16%.
func TestDefaultPolicyDemoSpread(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the demo snapshot")
	}
	snap, _, bounds := demoWorld(t)
	ctx := context.Background()
	for _, label := range []string{"2025-Q4", "2025-Q3", "2025-Q2"} {
		p := mustPeriod(t, label)
		run, err := Classify(ctx, Input{Snapshot: snap, Policy: DefaultPolicy(), Period: p, Boundaries: bounds, Now: demoNow})
		if err != nil {
			t.Fatal(err)
		}
		r, y, g := spread(run.Results)
		n := len(run.Results)
		t.Logf("%s all %d mahallas: red %d (%.1f%%), yellow %d (%.1f%%), green %d (%.1f%%)", label, n, r, pct(r, n), y, pct(y, n), g, pct(g, n))
		var kash []Result
		byRule := map[string]int{}
		for _, res := range run.Results {
			if res.District[:4] == demo.RegionKashkadarya {
				kash = append(kash, res)
			}
			if res.Category == Red {
				byRule[res.Rule]++
			}
		}
		kr, ky, kg := spread(kash)
		kn := len(kash)
		t.Logf("%s Kashkadarya %d: red %d (%.1f%%), yellow %d (%.1f%%), green %d (%.1f%%); red by rule %v", label, kn, kr, pct(kr, kn), ky, pct(ky, kn), kg, pct(kg, kn), byRule)
		if label != "2025-Q4" {
			continue
		}
		check := func(what string, v, lo, hi float64) {
			if v < lo || v > hi {
				t.Errorf("%s %s = %.1f%%, want %.0f-%.0f%%", label, what, v, lo, hi)
			}
		}
		check("red", pct(r, n), 5, 16)
		check("yellow", pct(y, n), 35, 55)
		check("green", pct(g, n), 30, 55)
		check("Kashkadarya red", pct(kr, kn), 12, 16.5)
	}
}

func TestExplainRed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the demo snapshot")
	}
	snap, _, bounds := demoWorld(t)
	run, err := Classify(context.Background(), Input{Snapshot: snap, Period: mustPeriod(t, "2025-Q4"), Unit: "1710", Boundaries: bounds, Now: demoNow})
	if err != nil {
		t.Fatal(err)
	}
	shown := 0
	for _, r := range run.Results {
		if r.Category == Red && shown < 3 {
			shown++
			t.Logf("%s %s rank %d score %.2f rule %s\n  reasons %q\n  what-if %+v\n  notes %q", r.Mahalla, r.Name, r.Rank, r.Score, r.Rule, r.Reasons, r.WhatIf, r.Notes)
		}
	}
}
