package geo

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestReadBoundariesWrongInputs: an empty file and a file of points are
// refused with errors that say so.
func TestReadBoundariesWrongInputs(t *testing.T) {
	for _, in := range []string{"", " \n\t"} {
		_, _, err := ReadBoundaries(context.Background(), strings.NewReader(in), BoundaryOptions{Level: LevelRegion})
		if !errors.Is(err, ErrEmptyFile) || err.Error() != "empty file (want a GeoJSON FeatureCollection)" {
			t.Errorf("%q: %v, want ErrEmptyFile", in, err)
		}
	}
	points := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"source_id":"1"},"geometry":{"type":"Point","coordinates":[69,41]}}]}`
	_, _, err := ReadBoundaries(context.Background(), strings.NewReader(points), BoundaryOptions{Level: LevelRegion})
	if !errors.Is(err, ErrNotBoundaries) || !strings.Contains(err.Error(), "holds points (events?), not boundaries (feature 0 is a Point)") {
		t.Errorf("points: %v, want ErrNotBoundaries", err)
	}
}
