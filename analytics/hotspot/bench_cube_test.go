package hotspot_test

import (
	"testing"

	"github.com/crimemap/crimemap/analytics/hotspot"
)

// BenchmarkHexHotspots100k: Gi* with FDR over 100,000 H3 cells at res 9 with
// the default k (3), neighbour search included (target <= 200 ms).
func BenchmarkHexHotspots100k(b *testing.B) {
	cells, counts := hotspot.SyntheticCube(100_000, 1, 1)
	var sink []hotspot.HexCell
	for b.Loop() {
		var err error
		if sink, err = hotspot.GiStarCells(b.Context(), cells, counts[0], hotspot.DefaultK(9)); err != nil {
			b.Fatal(err)
		}
	}
	if len(sink) != 100_000 {
		b.Fatal(len(sink))
	}
}

// BenchmarkEmerging24x50k: emerging hot spots over 24 steps x 50,000 cells
// at res 9, default k 3 (space-time Gi*, Mann-Kendall, classification; target
// <= 3 s).
func BenchmarkEmerging24x50k(b *testing.B) {
	cells, counts := hotspot.SyntheticCube(50_000, 24, 1)
	var sink []hotspot.EmergingCell
	for b.Loop() {
		var err error
		if sink, err = hotspot.EmergingCells(b.Context(), cells, counts, hotspot.DefaultK(9), hotspot.DefaultAlpha); err != nil {
			b.Fatal(err)
		}
	}
	if len(sink) != 50_000 {
		b.Fatal(len(sink))
	}
}
