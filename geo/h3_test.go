package geo

import (
	"math/rand/v2"
	"testing"

	"github.com/uber/h3-go/v4"
)

// TestCellParentMatchesH3 is a property test: for many random points and
// every resolution 0..15, the bit-operation parent equals h3-go's Parent.
func TestCellParentMatchesH3(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		lat := rng.Float64()*180 - 90
		lon := rng.Float64()*360 - 180
		cell, err := LatLngToCell(lat, lon, EventResolution)
		if err != nil {
			t.Fatal(err)
		}
		for res := 0; res <= EventResolution; res++ {
			want := uint64(h3.Cell(cell).Parent(res))
			if got := CellParent(cell, res); got != want {
				t.Fatalf("CellParent(%x, %d) = %x, h3 says %x", cell, res, got, want)
			}
			if CellResolution(CellParent(cell, res)) != res {
				t.Fatalf("resolution of parent wrong")
			}
		}
	}
}

func TestParentMasksMatchH3(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		cell, err := LatLngToCell(rng.Float64()*180-90, rng.Float64()*360-180, 10)
		if err != nil {
			t.Fatal(err)
		}
		for res := 0; res <= 10; res++ {
			and, or := ParentMasks(10, res)
			if got, want := cell&and|or, uint64(h3.Cell(cell).Parent(res)); got != want {
				t.Fatalf("ParentMasks(10, %d) on %x: %x, h3 says %x", res, cell, got, want)
			}
		}
	}
}

func TestCellParentRejectsFinerResolution(t *testing.T) {
	cell, _ := LatLngToCell(41.3, 69.2, 8)
	if got := CellParent(cell, 9); got != 0 {
		t.Fatalf("CellParent to a finer resolution = %x, want 0", got)
	}
}

func BenchmarkCellParent(b *testing.B) {
	cell, _ := LatLngToCell(38.86, 65.79, EventResolution)
	var sink uint64
	for b.Loop() {
		sink += CellParent(cell, 8)
	}
	_ = sink
}
