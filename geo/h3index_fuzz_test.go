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
// resolution) with h3-go for any latitude in [-90, 90], longitude in
// [-180, 180] and resolution 0..15.
func FuzzLatLngToCell(f *testing.F) {
	f.Add(41.2995, 69.2401, uint8(8))
	f.Add(90.0, 0.0, uint8(15))
	f.Add(-90.0, 180.0, uint8(0))
	f.Add(0.0, -180.0, uint8(7))
	f.Add(64.7, 10.536199, uint8(15)) // pentagon, base cell 4
	f.Add(0.0, 179.9999999, uint8(10))
	f.Add(1e-300, -1e-300, uint8(5))
	f.Fuzz(func(t *testing.T, lat, lon float64, res uint8) {
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
	})
}
