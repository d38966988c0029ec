package demo_test

import (
	"context"
	"fmt"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
)

func Example() {
	units, err := demo.Units()
	if err != nil {
		panic(err)
	}
	levels := map[geo.Level]int{}
	for _, u := range units {
		levels[u.Level]++
	}
	cfg := demo.Config{Seed: 1, Now: time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC), Months: 1}
	var first analytics.Event
	err = demo.Events(context.Background(), cfg, units, func(b []analytics.Event) error {
		if first.SourceID == "" {
			first = b[0]
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(demo.Notice)
	fmt.Println(levels[geo.LevelRegion], levels[geo.LevelDistrict], levels[geo.LevelMahalla])
	from, to, _ := demo.Period(cfg)
	fmt.Println(from.Format(time.RFC3339), to.Format(time.RFC3339), first.SourceID[:7])
	// Output:
	// SYNTHETIC DEMO DATA — not real crime statistics
	// 2 29 852
	// 2026-03-31T19:00:00Z 2026-04-30T19:00:00Z demo-o-
}
