package geo

import (
	"context"
	"os"
	"strings"
	"testing"
)

// FuzzBoundaries checks that ReadBoundaries never panics and that whatever
// it returns without error is valid.
func FuzzBoundaries(f *testing.F) {
	seeds := []string{
		collection(feature("1", `{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,2],[0,0]]]}`)),
		collection(feature("1", `{"type":"MultiPolygon","coordinates":[[[[0,0],[10,0],[10,10],[0,10],[0,0]]],[[[2,2],[4,2],[4,4],[2,4],[2,2]]]]}`)),
		collection(feature("1", `{"type":"GeometryCollection","geometries":[{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1]]]},{"type":"Point","coordinates":[1,1]}]}`)),
		collection(feature("1", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[5,4],[4,4],[0,4],[4,0.5],[0,0]]]}`)),
		collection(feature("1", `null`)),
		`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:3857"}},"features":[]}`,
	}
	if b, err := os.ReadFile("../testdata/akbartus_sharof_rashidov.geojson"); err == nil {
		seeds = append(seeds, strings.ReplaceAll(string(b), `"ADM2_EN"`, `"code"`))
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		units, _, err := ReadBoundaries(context.Background(), strings.NewReader(in), BoundaryOptions{Level: LevelMahalla})
		if err != nil {
			return
		}
		for _, u := range units {
			if u.Code == "" {
				t.Fatal("unit without code")
			}
			if u.Geometry != nil {
				if err := ValidateMultiPolygon(u.Geometry); err != nil {
					t.Fatalf("invalid geometry returned: %v", err)
				}
			}
		}
	})
}
