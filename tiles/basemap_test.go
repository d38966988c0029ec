package tiles_test

import (
	"context"
	"testing"

	"github.com/crimemap/crimemap/tiles"
)

// TestStyleBasemap: with Config.Basemap the default style has the basemap
// source (its TileJSON under the base) and its layers just above the
// background, under every data layer; without it, neither.
func TestStyleBasemap(t *testing.T) {
	w := demoWorld(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		basemap *tiles.Basemap
		source  map[string]any
		layers  []string // the ids after "background", before "districts-rate"
	}{
		{"none", nil, nil, nil},
		{"vector", &tiles.Basemap{TileJSONPath: "/basemap.json", Layers: []string{"adm1", "roads"}, Attribution: "OCHA"},
			map[string]any{"type": "vector", "url": "https://map.example.kg/basemap.json", "attribution": "OCHA"},
			[]string{"basemap-adm1-fill", "basemap-adm1-line", "basemap-roads-fill", "basemap-roads-line"}},
		{"raster", &tiles.Basemap{TileJSONPath: "/basemap.json", Raster: true},
			map[string]any{"type": "raster", "url": "https://map.example.kg/basemap.json", "tileSize": 256},
			[]string{"basemap"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tiles.New(tiles.Config{Snapshots: fixed{w.snap}, Boundaries: w.boundaries, Basemap: tc.basemap})
			st, err := r.Style(ctx, "https://map.example.kg/", "")
			if err != nil {
				t.Fatal(err)
			}
			src, _ := st["sources"].(map[string]any)["basemap"].(map[string]any)
			if len(src) != len(tc.source) {
				t.Errorf("basemap source %v, want %v", src, tc.source)
			}
			for k, v := range tc.source {
				if src[k] != v {
					t.Errorf("basemap source %s = %v, want %v", k, src[k], v)
				}
			}
			var ids []string
			for _, l := range st["layers"].([]any) {
				ids = append(ids, l.(map[string]any)["id"].(string))
			}
			want := append(append([]string{"background"}, tc.layers...), "districts-rate")
			for i, id := range want {
				if i >= len(ids) || ids[i] != id {
					t.Fatalf("layers %v, want them to begin %v", ids, want)
				}
			}
			for _, l := range st["layers"].([]any) {
				if m := l.(map[string]any); m["source"] == "basemap" && m["type"] == "line" {
					if w := m["paint"].(map[string]any)["line-width"].(float64); w > 1 {
						t.Errorf("%s: line-width %v, want a thin line", m["id"], w)
					}
				}
			}
		})
	}
}
