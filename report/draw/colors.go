package draw

import (
	"image/color"
	"math"
	"strings"
)

// rampStops is ColorBrewer's sequential "Reds" (9 classes), light to dark: it
// stays ordered when printed in greyscale and is readable by most
// colour-blind readers, which matters for a printed, filed report.
func rampStops() [9]uint32 {
	return [9]uint32{0xfff5f0, 0xfee0d2, 0xfcbba1, 0xfc9272, 0xfb6a4a, 0xef3b2c, 0xcb181d, 0xa50f15, 0x67000d}
}

// Ramp maps t in [0, 1] to a sequential light-to-dark red; t outside the range
// is clamped and NaN gives the light grey used for "no data", so that a
// missing value never looks like a low one.
func Ramp(t float64) color.RGBA {
	if math.IsNaN(t) {
		return rgb(0xe6e6e6)
	}
	t = math.Max(0, math.Min(1, t))
	stops := rampStops()
	f := t * float64(len(stops)-1)
	i := int(math.Floor(f))
	if i >= len(stops)-1 {
		return rgb(stops[len(stops)-1])
	}
	a, b := rgb(stops[i]), rgb(stops[i+1])
	u := f - float64(i)
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + (float64(y)-float64(x))*u)) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}

// CategoryColor is the fill of a mahalla category as stored by the
// classification ("red", "yellow", "green", any case). The tones are muted so
// that a printed page is not dominated by saturated red and the labels on top
// stay legible; an unknown or empty category is neutral grey.
func CategoryColor(name string) color.RGBA {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "red":
		return rgb(0xd6604d)
	case "yellow":
		return rgb(0xf2d06b)
	case "green":
		return rgb(0x7fbf7b)
	default:
		return rgb(0xcccccc)
	}
}

// HotspotColor is the fill of a Gi* confidence bin, -3 (cold spot, 99%) to +3
// (hot spot, 99%), in the blue-white-red scheme of ESRI's Hot Spot Analysis so
// that analysts recognise it; bin 0 (not significant) is near white and bins
// beyond ±3 are clamped.
func HotspotColor(bin int) color.RGBA {
	bins := [7]uint32{0x4575b5, 0x849eba, 0xc0ccbe, 0xf7f7f7, 0xfab984, 0xed7551, 0xd62f27}
	bin = max(-3, min(3, bin))
	return rgb(bins[bin+3])
}
