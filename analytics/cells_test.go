package analytics_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/uber/h3-go/v4"
)

// TestHexbinsAreLatLngToCell: every hexbin resolution counts each event in
// the cell h3-go's LatLngToCell gives for its coordinates (not the parent
// of a finer cell), for events given in random time order (the rows are
// sorted by time in the snapshot, so the exception lists are renumbered).
func TestHexbinsAreLatLngToCell(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 20))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 20000
	evs := make([]analytics.Event, n)
	for i := range evs {
		evs[i] = analytics.Event{Kind: analytics.KindCrime, SourceID: fmt.Sprint(i), Category: "theft",
			OccurredAt: start.Add(time.Duration(rng.Int64N(int64(300 * 24 * time.Hour))))}
		if i%50 != 0 { // some events without location
			evs[i].HasLocation = true
			evs[i].Lat, evs[i].Lon = 38.5+rng.Float64()*0.6, 65.5+rng.Float64()*0.8
		}
	}
	snap, err := analytics.BuildEvents(context.Background(), nil, evs, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	per := analytics.Period{Label: "2025", Kind: analytics.PeriodYear, From: start, To: start.AddDate(1, 0, 0)}
	differ := 0
	for res := analytics.MinHexbinRes; res <= analytics.MaxHexbinRes; res++ {
		want := map[uint64]int64{}
		for _, e := range evs {
			if !e.HasLocation {
				continue
			}
			c := uint64(h3.LatLngToCell(h3.LatLng{Lat: e.Lat, Lng: e.Lon}, res))
			want[c]++
			if p := uint64(h3.LatLngToCell(h3.LatLng{Lat: e.Lat, Lng: e.Lon}, analytics.MaxHexbinRes)); uint64(h3.Cell(p).Parent(res)) != c {
				differ++
			}
		}
		got, err := snap.Hexbins(analytics.HexbinQuery{Res: res, Period: per})
		if err != nil {
			t.Fatal(err)
		}
		if got.NoLocation != n/50 {
			t.Errorf("res %d: %d without location, want %d", res, got.NoLocation, n/50)
		}
		if len(got.Bins) != len(want) {
			t.Errorf("res %d: %d cells, h3-go %d", res, len(got.Bins), len(want))
		}
		for _, b := range got.Bins {
			if want[b.Cell] != b.Count {
				t.Errorf("res %d cell %x: %d, h3-go %d", res, b.Cell, b.Count, want[b.Cell])
			}
		}
	}
	if differ == 0 {
		t.Fatal("no point whose coarse cell differs from its res-10 cell's parent: the test proves nothing")
	}
	t.Logf("%d (point, resolution) pairs where LatLngToCell differs from the parent of the res-10 cell", differ)
}
