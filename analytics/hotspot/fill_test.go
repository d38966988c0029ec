package hotspot

import (
	"slices"
	"testing"

	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
)

// Filling a large area strip by strip (so that it can be cancelled) gives
// exactly the cells of one H3 fill.
func TestFillCellsMatchesPolygonToCells(t *testing.T) {
	units, err := demo.Units()
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if u.Code != "1706" && u.Code != "1706240" { // a region and the largest district
			continue
		}
		for _, res := range []int{7, 8} {
			want, err := geo.PolygonToCells(u.Geometry, res)
			if err != nil {
				t.Fatal(err)
			}
			got, err := fillCells(t.Context(), u.Geometry, res)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s res %d: %d cells in strips, %d in one fill", u.Code, res, len(got), len(want))
			}
			if len(want) > 2*fillStrip {
				t.Logf("%s res %d: %d cells, the same in strips", u.Code, res, len(want))
			}
		}
	}
}
