package geo

import (
	"math"
	"testing"
)

// fuzzRange maps any float into [-limit, limit], keeping values already in
// range unchanged (so exact seeds such as 90 or -180 stay exact).
func fuzzRange(v, limit float64) float64 {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0
	case v >= -limit && v <= limit:
		return v
	}
	v = math.Mod(v, 4*limit) // (-4l, 4l)
	if v < 0 {
		v += 4 * limit // [0, 4l)
	}
	// Fold [0, 4l) onto [-l, l] as a triangle wave.
	switch {
	case v <= limit:
		return v
	case v <= 3*limit:
		return 2*limit - v
	default:
		return v - 4*limit
	}
}

// FuzzLatLngToCell compares LatLngToCellGo (and LatLngToCells at that one
// resolution, and LatLngToCellSet on any set of resolutions) with h3-go for
// any latitude in [-90, 90], longitude in [-180, 180] and resolution 0..15.
func FuzzLatLngToCell(f *testing.F) {
	f.Add(41.2995, 69.2401, uint8(8), uint16(0b1000011111100000))
	f.Add(90.0, 0.0, uint8(15), uint16(0xffff))
	f.Add(-90.0, 180.0, uint8(0), uint16(0xffff))
	f.Add(0.0, -180.0, uint8(7), uint16(0xffff))
	f.Add(64.7, 10.536199, uint8(15), uint16(0xffff)) // pentagon, base cell 4
	f.Add(0.0, 179.9999999, uint8(10), uint16(0xffff))
	f.Add(1e-300, -1e-300, uint8(5), uint16(0xffff))
	f.Fuzz(func(t *testing.T, lat, lon float64, res uint8, set uint16) {
		lat, lon = fuzzRange(lat, 90), fuzzRange(lon, 180)
		r := int(res % 16)
		want := h3Ref(lat, lon, r)
		got, err := LatLngToCellGo(lat, lon, r)
		if err != nil || got != want {
			t.Fatalf("LatLngToCellGo(%v, %v, %d) = %x, %v; h3-go %x", lat, lon, r, got, err, want)
		}
		var one [1]uint64
		if err := LatLngToCells(lat, lon, r, r, one[:]); err != nil || one[0] != want {
			t.Fatalf("LatLngToCells(%v, %v, %d, %d) = %x, %v; h3-go %x", lat, lon, r, r, one[0], err, want)
		}
		if set == 0 {
			return
		}
		var cells [16]uint64
		if err := LatLngToCellSet(lat, lon, ResolutionSet(set), &cells); err != nil {
			t.Fatalf("LatLngToCellSet(%v, %v, %#x): %v", lat, lon, set, err)
		}
		for res := range 16 {
			if set&(1<<res) != 0 && cells[res] != h3Ref(lat, lon, res) {
				t.Fatalf("LatLngToCellSet(%v, %v, %#x) res %d = %x; h3-go %x", lat, lon, set, res, cells[res], h3Ref(lat, lon, res))
			}
		}
	})
}
