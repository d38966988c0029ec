package analytics_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/uber/h3-go/v4"
)

// TestHexbinsAreLatLngToCell: every hexbin resolution counts each event in
// the cell h3-go's LatLngToCell gives for its coordinates (not the parent
// of a finer cell), for events given in random time order (the rows are
// sorted by time in the snapshot, so the exception lists are renumbered),
// whether the events carry their cells (SetLocation), carry cells of
// another point (moved after SetLocation: stale, must not be used) or
// none (Build computes them).
func TestHexbinsAreLatLngToCell(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 20))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 20000
	evs := make([]analytics.Event, n)
	for i := range evs {
		evs[i] = analytics.Event{Kind: analytics.KindCrime, SourceID: fmt.Sprint(i), Category: "theft",
			OccurredAt: start.Add(time.Duration(rng.Int64N(int64(300 * 24 * time.Hour))))}
		if i%50 != 0 { // some events without location
			lat, lon := 38.5+rng.Float64()*0.6, 65.5+rng.Float64()*0.8
			switch i % 3 {
			case 0:
				if err := evs[i].SetLocation(lat, lon); err != nil {
					t.Fatal(err)
				}
			case 1: // moved: its cells are another point's
				if err := evs[i].SetLocation(lat+0.01, lon); err != nil {
					t.Fatal(err)
				}
				evs[i].Lat = lat
			default:
				evs[i].HasLocation = true
				evs[i].Lat, evs[i].Lon = lat, lon
			}
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

// TestEventCells: SetLocation's cells are h3-go's at every hexbin
// resolution, Cell its res-15 cell; cells are dropped when the point moves
// and recomputed by EnsureCells; Equal ignores them.
func TestEventCells(t *testing.T) {
	var e analytics.Event
	if _, ok := e.Cells(); ok {
		t.Error("an event without location has cells")
	}
	if err := e.SetLocation(41.311081, 69.240562); err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		c, ok := e.Cells()
		if !ok {
			t.Fatalf("%s: no cells", what)
		}
		for res := analytics.MinHexbinRes; res <= analytics.MaxHexbinRes; res++ {
			if want := uint64(h3.LatLngToCell(h3.LatLng{Lat: e.Lat, Lng: e.Lon}, res)); c.At(res) != want {
				t.Errorf("%s: res %d: %x, h3-go %x", what, res, c.At(res), want)
			}
		}
	}
	check("SetLocation")
	if want := uint64(h3.LatLngToCell(h3.LatLng{Lat: e.Lat, Lng: e.Lon}, 15)); e.Cell != want {
		t.Errorf("Cell %x, h3-go %x", e.Cell, want)
	}
	plain := analytics.Event{HasLocation: true, Lat: e.Lat, Lon: e.Lon, Cell: e.Cell}
	if !e.Equal(&plain) || !plain.Equal(&e) {
		t.Error("Equal compares the cells")
	}
	e.Lon += 0.05
	if _, ok := e.Cells(); ok {
		t.Error("cells kept after the point moved")
	}
	if err := e.EnsureCells(); err != nil {
		t.Fatal(err)
	}
	check("EnsureCells after a move")
	if err := e.SetLocation(math.NaN(), 1); err == nil {
		t.Error("SetLocation accepted NaN")
	}
	check("failed SetLocation leaves the event alone")
	e.ClearLocation()
	if _, ok := e.Cells(); ok || e.HasLocation || e.Cell != 0 {
		t.Errorf("ClearLocation left %+v", e)
	}
}

// TestHexCellsCompact: the compact form round-trips for points worldwide,
// has exceptions for some of them, and rejects malformed input.
func TestHexCellsCompact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	withExc := 0
	for range 20000 {
		lat, lon := rng.Float64()*170-85, rng.Float64()*360-180
		c, err := analytics.HexCellsOf(lat, lon)
		if err != nil {
			t.Fatal(err)
		}
		exc := c.AppendExceptions(nil)
		if len(exc) > 0 {
			withExc++
		}
		var back analytics.HexCells
		if err := back.SetCompact(c.At(analytics.MaxHexbinRes), exc); err != nil || back != c {
			t.Fatalf("(%v, %v): %x -> %x, %v", lat, lon, c, back, err)
		}
	}
	if withExc < 2000 || withExc > 10000 {
		t.Errorf("%d of 20000 points with exceptions; expected about 30%%", withExc)
	}
	c, _ := analytics.HexCellsOf(41.3, 69.2)
	r10 := c.At(10)
	for _, bad := range []struct {
		r10 uint64
		exc []byte
	}{
		{0, []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{c.At(9), nil}, // not res 10
		{r10, []byte{1, 2, 3}},
		{r10, binary.LittleEndian.AppendUint64(nil, r10)},     // res 10 is no exception
		{r10, binary.LittleEndian.AppendUint64(nil, 1<<52*4)}, // res 4
	} {
		var h analytics.HexCells
		if err := h.SetCompact(bad.r10, bad.exc); !errors.Is(err, analytics.ErrCompactCells) {
			t.Errorf("SetCompact(%x, %x) = %v, want ErrCompactCells", bad.r10, bad.exc, err)
		}
	}
}

// FuzzHexCellsCompact: SetCompact never panics, and what it accepts it
// encodes back to the canonical form of the same cells.
func FuzzHexCellsCompact(f *testing.F) {
	c, _ := analytics.HexCellsOf(41.3, 69.2)
	f.Add(c.At(10), c.AppendExceptions(nil))
	f.Add(uint64(0), []byte{})
	f.Add(c.At(10), binary.LittleEndian.AppendUint64(nil, c.At(7)))
	f.Fuzz(func(t *testing.T, r10 uint64, exc []byte) {
		var h analytics.HexCells
		if err := h.SetCompact(r10, exc); err != nil {
			return
		}
		var back analytics.HexCells
		if err := back.SetCompact(h.At(analytics.MaxHexbinRes), h.AppendExceptions(nil)); err != nil || back != h {
			t.Fatalf("%x -> %x, %v", h, back, err)
		}
	})
}
