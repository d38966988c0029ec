package tiles

import (
	"errors"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
)

func encode(t *testing.T, layers ...*mvt.Layer) []byte {
	t.Helper()
	b, err := mvt.Marshal(mvt.Layers(layers))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func layerOf(name string, version uint32, gs ...orb.Geometry) *mvt.Layer {
	l := &mvt.Layer{Name: name, Version: version, Extent: Extent}
	for _, g := range gs {
		l.Features = append(l.Features, geojson.NewFeature(g))
	}
	return l
}

func TestValidateRefuses(t *testing.T) {
	// Positive area in tile coordinates (clockwise on screen, y down).
	ext := orb.Ring{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}
	hole := orb.Ring{{2, 2}, {2, 8}, {8, 8}, {8, 2}, {2, 2}}
	if ringArea(ext) <= 0 || ringArea(hole) >= 0 {
		t.Fatal("fixture windings")
	}
	ok := encode(t, layerOf("a", 2, orb.Polygon{ext, hole}, orb.Point{5, 5}), layerOf("b", 2, orb.LineString{{0, 0}, {1, 1}}))
	if err := Validate(ok); err != nil {
		t.Fatalf("valid tile: %v", err)
	}
	rev := append(orb.Ring(nil), ext...)
	rev.Reverse()
	for name, tile := range map[string][]byte{
		"exterior wound the wrong way": encode(t, layerOf("a", 2, orb.Polygon{rev})),
		"zero-length segment":          encode(t, layerOf("a", 2, orb.Polygon{{{0, 0}, {10, 0}, {10, 0}, {10, 10}, {0, 0}}})),
		"zero-length closing segment":  encode(t, layerOf("a", 2, orb.Polygon{{{0, 0}, {10, 0}, {10, 10}, {0, 0}, {0, 0}}})),
		"zero area":                    encode(t, layerOf("a", 2, orb.Polygon{{{0, 0}, {5, 0}, {10, 0}, {0, 0}}})),
		"hole outside its exterior":    encode(t, layerOf("a", 2, orb.Polygon{ext, {{20, 20}, {20, 28}, {28, 28}, {28, 20}, {20, 20}}})),
		"version 1":                    encode(t, layerOf("a", 1, orb.Point{1, 1})),
		"duplicate layer":              encode(t, layerOf("a", 2, orb.Point{1, 1}), layerOf("a", 2, orb.Point{2, 2})),
		"empty layer":                  encode(t, layerOf("a", 2)),
		"extent 512":                   encode(t, &mvt.Layer{Name: "a", Version: 2, Extent: 512, Features: []*geojson.Feature{geojson.NewFeature(orb.Point{1, 1})}}),
	} {
		if err := Validate(tile); !errors.Is(err, ErrInvalidTile) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCleanPolygons(t *testing.T) {
	// Counter-clockwise on screen (negative area) with repeated points
	// after rounding, a hole wound like the exterior, and a sliver.
	in := orb.MultiPolygon{
		{
			{{0, 0}, {0, 100.2}, {0.1, 100}, {100, 100}, {100, 0}, {0, 0}},
			{{10, 10}, {10, 20}, {20, 20}, {20, 10}, {10, 10}},
		},
		{{{200, 200}, {200.2, 200.1}, {200.4, 200.2}, {200, 200}}},
	}
	out := cleanPolygons(in)
	if len(out) != 1 || len(out[0]) != 2 {
		t.Fatalf("cleaned %v", out)
	}
	if ringArea(out[0][0]) <= 0 || ringArea(out[0][1]) >= 0 || len(out[0][0]) != 5 {
		t.Errorf("windings %v %v, exterior %v", ringArea(out[0][0]), ringArea(out[0][1]), out[0][0])
	}
	b := encode(t, layerOf("a", 2, out))
	if err := Validate(b); err != nil {
		t.Error(err)
	}
}
