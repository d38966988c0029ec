package tiles

import (
	"context"
	"strings"

	"github.com/crimemap/crimemap/geo"
)

// TileJSON is a TileJSON 3.0.0 document.
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description,omitempty"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	VectorLayers []VectorLayer `json:"vector_layers"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Attribution  string        `json:"attribution"`
}

// VectorLayer describes one layer of a TileJSON.
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description,omitempty"`
	Fields      map[string]string `json:"fields"` // name: "Type: description"
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
}

// TileURL is the URL template of the tiles of layers under base (scheme
// and host, e.g. "https://maps.example.org"), with rawQuery (already
// encoded, e.g. "period=2025-Q3&kind=crime") appended when not empty.
func TileURL(base string, layers []string, rawQuery string) string {
	u := strings.TrimSuffix(base, "/") + "/tiles/" + strings.Join(layers, ",") + "/{z}/{x}/{y}.mvt"
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	return u
}

// TileJSON describes the tiles of layers (see ParseLayers). Its tiles
// template is TileURL(base, layers, rawQuery); bounds are the extent of
// the boundaries of the layers' levels (every level for hexbins, hotspots
// and events), the whole Web Mercator world without boundaries.
func (r *Renderer) TileJSON(ctx context.Context, layers []string, base, rawQuery string) (*TileJSON, error) {
	tj := &TileJSON{
		TileJSON: "3.0.0", Name: "crimemap " + strings.Join(layers, ","), Scheme: "xyz",
		Tiles: []string{TileURL(base, layers, rawQuery)}, MinZoom: MaxZoom, MaxZoom: MinZoom,
		Attribution: r.cfg.Attribution,
		Description: "Crime, road accident and offence analytics as Mapbox Vector Tiles (MVT 2.1, extent 4096)",
	}
	levels := map[geo.Level]bool{}
	for _, name := range layers {
		info, ok := layerInfo(name)
		if !ok {
			return nil, ErrUnknownLayer
		}
		vl := VectorLayer{ID: name, Description: info.Description, Fields: map[string]string{}, MinZoom: info.MinZoom, MaxZoom: info.MaxZoom}
		for _, f := range info.Fields {
			vl.Fields[f.Name] = f.Type + ": " + f.Doc
		}
		tj.VectorLayers = append(tj.VectorLayers, vl)
		tj.MinZoom, tj.MaxZoom = min(tj.MinZoom, info.MinZoom), max(tj.MaxZoom, info.MaxZoom)
		if info.Level != "" {
			levels[info.Level] = true
		} else {
			for _, l := range geo.Levels {
				levels[l] = true
			}
		}
	}
	_, gs, err := r.snapshot()
	if err != nil {
		return nil, err
	}
	tj.Bounds = [4]float64{-180, -maxLat, 180, maxLat}
	found := false
	for _, l := range geo.Levels {
		if !levels[l] {
			continue
		}
		ls, err := gs.level(ctx, l, r.cfg.Boundaries)
		if err != nil {
			return nil, err
		}
		if !ls.has {
			continue
		}
		b := ls.extent
		if !found {
			tj.Bounds, found = [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}, true
			continue
		}
		tj.Bounds = [4]float64{min(tj.Bounds[0], b.Min[0]), min(tj.Bounds[1], b.Min[1]), max(tj.Bounds[2], b.Max[0]), max(tj.Bounds[3], b.Max[1])}
	}
	zoom := 0
	if found {
		zoom = 7
	}
	tj.Center = [3]float64{(tj.Bounds[0] + tj.Bounds[2]) / 2, (tj.Bounds[1] + tj.Bounds[3]) / 2, float64(zoom)}
	return tj, nil
}

// withheldColour fills features whose count a public tile withholds (no
// count property, only count_lo and count_hi): a neutral grey, never a
// colour of the count scale.
const withheldColour = "#d9d9d9"

// Style is a MapLibre GL style document (version 8).
type Style map[string]any

// Basemap describes a basemap the service serves beside its own tiles
// (a PMTiles archive, crimemap serve --basemap), for the default style.
type Basemap struct {
	// TileJSONPath is the path of its TileJSON under the style's base,
	// e.g. "/basemap.json".
	TileJSONPath string
	// Raster marks an archive of images (PNG, JPEG, WebP) rather than
	// vector tiles.
	Raster bool
	// Layers are the vector layers drawn (each as a light fill and a thin
	// outline); none for a raster basemap.
	Layers      []string
	Attribution string
}

// basemapFill and basemapLine draw a vector basemap: quiet enough that
// the data layers above it keep their colours.
const (
	basemapFill = "#ebe9e4"
	basemapLine = "#9e9a93"
)

// basemapStyle returns the style source and layers of bm under base.
func basemapStyle(bm *Basemap, base string) (map[string]any, []any) {
	src := map[string]any{"url": strings.TrimSuffix(base, "/") + bm.TileJSONPath}
	if bm.Attribution != "" {
		src["attribution"] = bm.Attribution
	}
	if bm.Raster {
		src["type"], src["tileSize"] = "raster", 256
		return src, []any{map[string]any{"id": "basemap", "type": "raster", "source": "basemap"}}
	}
	src["type"] = "vector"
	var layers []any
	for _, l := range bm.Layers {
		layers = append(layers,
			map[string]any{"id": "basemap-" + l + "-fill", "type": "fill", "source": "basemap", "source-layer": l,
				"paint": map[string]any{"fill-color": basemapFill, "fill-opacity": 0.6}},
			map[string]any{"id": "basemap-" + l + "-line", "type": "line", "source": "basemap", "source-layer": l,
				"paint": map[string]any{"line-color": basemapLine, "line-width": 0.6}})
	}
	return src, layers
}

// Style returns the default MapLibre GL style: one vector source per layer
// (url: its TileJSON under base, with rawQuery forwarded) and style layers
// drawing every tile layer: regions and districts outlines, districts as a
// choropleth of rate (zooms below 10), mahallas filled by category (red,
// yellow, green; grey without a run), hexbins filled by count (districts
// and hexbins whose count a public tile withholds in neutral grey) and hotspot
// bins -3..+3 in diverging colours (both hidden by default: switch their
// visibility on), events as circles sized by point_count. With
// Config.Basemap, its source ("basemap") and light fills and thin outlines
// of its layers lie under them all, just above the background.
// Its centre is the centre of the regions' boundaries.
func (r *Renderer) Style(ctx context.Context, base, rawQuery string) (Style, error) {
	tj, err := r.TileJSON(ctx, []string{LayerRegions}, base, rawQuery)
	if err != nil {
		return nil, err
	}
	src := func(layer string) map[string]any {
		u := strings.TrimSuffix(base, "/") + "/tiles/" + layer + ".json"
		if rawQuery != "" {
			u += "?" + rawQuery
		}
		return map[string]any{"type": "vector", "url": u, "attribution": r.cfg.Attribution}
	}
	sources := map[string]any{}
	for _, n := range LayerNames() {
		sources[n] = src(n)
	}
	layer := func(id, typ, source string, paint map[string]any, extra map[string]any) map[string]any {
		l := map[string]any{"id": id, "type": typ, "source": source, "source-layer": source, "paint": paint}
		for k, v := range extra {
			l[k] = v
		}
		return l
	}
	hidden := map[string]any{"layout": map[string]any{"visibility": "none"}}
	layers := []any{
		map[string]any{"id": "background", "type": "background", "paint": map[string]any{"background-color": "#f4f4f2"}},
	}
	if bm := r.cfg.Basemap; bm != nil {
		src, bl := basemapStyle(bm, base)
		sources["basemap"] = src
		layers = append(layers, bl...)
	}
	layers = append(layers,
		layer("districts-rate", "fill", LayerDistricts, map[string]any{
			"fill-color": []any{"case", []any{"!", []any{"has", "count"}}, withheldColour, // public, withheld: neutral
				[]any{"interpolate", []any{"linear"}, []any{"coalesce", []any{"get", "rate"}, 0},
					0, "#fff5eb", 1, "#fdd0a2", 3, "#fd8d3c", 6, "#d94801", 10, "#7f2704"}},
			"fill-opacity": 0.7,
		}, map[string]any{"maxzoom": 10}),
		layer("mahallas-category", "fill", LayerMahallas, map[string]any{
			"fill-color":   []any{"match", []any{"get", "category"}, "red", "#d7191c", "yellow", "#fdae61", "green", "#1a9641", "#bdbdbd"},
			"fill-opacity": 0.6,
		}, map[string]any{"minzoom": 10}),
		layer("hexbins-count", "fill", LayerHexbins, map[string]any{
			"fill-color": []any{"case", []any{"!", []any{"has", "count"}}, withheldColour, // public, withheld: neutral
				[]any{"interpolate", []any{"linear"}, []any{"get", "count"},
					0, "#ffffcc", 5, "#a1dab4", 20, "#41b6c4", 50, "#2c7fb8", 200, "#253494"}},
			"fill-opacity": 0.7,
		}, hidden),
		layer("hotspots-bin", "fill", LayerHotspots, map[string]any{
			"fill-color": []any{"match", []any{"get", "bin"},
				-3, "#2166ac", -2, "#67a9cf", -1, "#d1e5f0", 0, "rgba(0,0,0,0)", 1, "#fddbc7", 2, "#ef8a62", 3, "#b2182b", "rgba(0,0,0,0)"},
			"fill-opacity": 0.75,
		}, hidden),
		layer("mahallas-outline", "line", LayerMahallas, map[string]any{"line-color": "#636363", "line-width": 0.5}, map[string]any{"minzoom": 10}),
		layer("districts-outline", "line", LayerDistricts, map[string]any{"line-color": "#252525", "line-width": 1}, nil),
		layer("regions-outline", "line", LayerRegions, map[string]any{"line-color": "#000000", "line-width": 2}, nil),
		layer("events", "circle", LayerEvents, map[string]any{
			"circle-color": []any{"match", []any{"get", "kind"}, "crime", "#e31a1c", "accident", "#ff7f00", "offence", "#6a3d9a", "#e31a1c"},
			"circle-radius": []any{"interpolate", []any{"linear"}, []any{"coalesce", []any{"get", "point_count"}, 1},
				1, 3, 10, 6, 100, 12, 1000, 20},
			"circle-opacity":      0.75,
			"circle-stroke-color": "#ffffff", "circle-stroke-width": 0.5,
		}, nil),
	)
	return Style{
		"version": 8,
		"name":    "crimemap default",
		"sources": sources,
		"layers":  layers,
		"center":  []float64{tj.Center[0], tj.Center[1]},
		"zoom":    tj.Center[2],
	}, nil
}
