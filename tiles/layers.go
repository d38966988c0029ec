package tiles

import (
	"errors"
	"fmt"
	"strings"

	"github.com/crimemap/crimemap/geo"
)

// The layer names.
const (
	LayerRegions   = "regions"
	LayerDistricts = "districts"
	LayerMahallas  = "mahallas"
	LayerHexbins   = "hexbins"
	LayerHotspots  = "hotspots"
	LayerEvents    = "events"
)

// Tile geometry constants.
const (
	// Extent is the size of a tile in tile units.
	Extent = 4096
	// PolygonBuffer is the clip buffer of the unit polygon layers, in tile
	// units; aggregate layers use none.
	PolygonBuffer = 64
	// SimplifyTolerance is the Douglas-Peucker tolerance in tile units.
	SimplifyTolerance = 1.0
	// DetailZoom is the deepest zoom with a cached simplified geometry;
	// deeper tiles use the unsimplified projection.
	DetailZoom = 14
	// MinZoom and MaxZoom bound the zooms served.
	MinZoom = 0
	MaxZoom = 20
	// RawEventsZoom is the first zoom where events are single points.
	RawEventsZoom = 14
	// ClusterGrid is the cell size of event clustering, in tile units
	// (4096/64 = a 64 x 64 grid).
	ClusterGrid = 64
	// HotspotMinZoom is the first zoom of the hotspots layer (coarser H3
	// cells leave too few cells per district for Gi*).
	HotspotMinZoom = 8
)

// Errors of a request; the server maps them to 400.
var (
	ErrUnknownLayer   = errors.New("unknown tile layer")
	ErrDuplicateLayer = errors.New("tile layer named twice")
	ErrBadTile        = errors.New("tile coordinates out of range")
	ErrBadParams      = errors.New("bad tile parameters")
)

// Field is one attribute of a layer's features.
type Field struct {
	Name string
	Type string // String, Number or Boolean (TileJSON field types)
	Doc  string
}

// LayerInfo describes one layer.
type LayerInfo struct {
	Name             string
	Description      string
	MinZoom, MaxZoom int
	Fields           []Field
	// Level is the unit level of a polygon layer ("" for the others).
	Level geo.Level
}

var unitFields = []Field{
	{"code", "String", "unit code (SOATO, or the mahalla id)"},
	{"name", "String", "unit name (uz)"},
	{"parent", "String", "code of the parent unit (absent for regions)"},
	{"count", "Number", "events in the period (public: the published value of analytics/disclose, absent when withheld below k)"},
	{"count_lo", "Number", "lower end of the interval that holds the true count (analysts: = count)"},
	{"count_hi", "Number", "upper end of the interval that holds the true count (analysts: = count)"},
	{"population", "Number", "residents (absent when unknown)"},
	{"rate", "Number", "events per 1,000 residents (absent when the population is unknown; public: from the published count, absent when withheld)"},
	{"prev_count", "Number", "events in the previous period of the same length (public: published, absent when withheld)"},
	{"prev_count_lo", "Number", "lower end of the interval that holds the previous period's true count (analysts: = prev_count)"},
	{"prev_count_hi", "Number", "upper end of the interval that holds the previous period's true count (analysts: = prev_count)"},
	{"diff", "Number", "count - prev_count (public: of the published counts; absent when either is withheld)"},
	{"pct", "Number", "100 * diff / prev_count; absent (null) when prev_count < 10 or either count is withheld"},
}

var cellFields = []Field{
	{"h3", "String", "H3 cell index (hex)"},
	{"res", "Number", "H3 resolution (see HexResolution)"},
	{"count", "Number", "events in the cell and period (public: the published value of analytics/disclose, absent when withheld below k)"},
	{"count_lo", "Number", "lower end of the interval that holds the true count (analysts: = count)"},
	{"count_hi", "Number", "upper end of the interval that holds the true count (analysts: = count)"},
}

// Layers returns the description of every layer, in a stable order.
func Layers() []LayerInfo {
	mahalla := append(append([]Field(nil), unitFields...),
		Field{"category", "String", "red, yellow or green: the period's latest classification run (absent without a run)"})
	hot := append(append([]Field(nil), cellFields...),
		Field{"bin", "Number", "Gi* bin -3..+3 (Benjamini-Hochberg FDR): hot (+) or cold (-) at 99/95/90% confidence, 0 not significant (public: Gi* over the published counts)"},
		Field{"z", "Number", "Gi* z-score (analysts only)"},
		Field{"p", "Number", "two-sided p-value of z (analysts only)"},
		Field{"district", "String", "code of the district that was the study area"})
	return []LayerInfo{
		{Name: LayerRegions, Description: "Regions with the period's counts, rates and change", MinZoom: MinZoom, MaxZoom: MaxZoom, Fields: unitFields, Level: geo.LevelRegion},
		{Name: LayerDistricts, Description: "Districts and cities with the period's counts, rates and change", MinZoom: MinZoom, MaxZoom: MaxZoom, Fields: unitFields, Level: geo.LevelDistrict},
		{Name: LayerMahallas, Description: "Mahallas with the period's counts, rates, change and classification", MinZoom: MinZoom, MaxZoom: MaxZoom, Fields: mahalla, Level: geo.LevelMahalla},
		{Name: LayerHexbins, Description: "Event counts per H3 cell (z<=6: res 5, 7: 6, 8: 7, 9-10: 8, 11-12: 9, >=13: 10; public tiles at most 8, every cell of the fixed public set); each cell in the tile of its centre", MinZoom: MinZoom, MaxZoom: MaxZoom, Fields: cellFields},
		{Name: LayerHotspots, Description: "Getis-Ord Gi* hot and cold spots of H3 cells, per district as the study area; each cell in the tile of its centre", MinZoom: HotspotMinZoom, MaxZoom: MaxZoom, Fields: hot},
		{Name: LayerEvents, Description: fmt.Sprintf("Events (analysts only): grid clusters with point_count below zoom %d, single events from it; each event in exactly one tile", RawEventsZoom), MinZoom: MinZoom, MaxZoom: MaxZoom, Fields: []Field{
			{"point_count", "Number", fmt.Sprintf("events in the cluster (zooms below %d)", RawEventsZoom)},
			{"cluster", "Boolean", "true for a cluster of more than one event"},
			{"kind", "String", fmt.Sprintf("crime, accident or offence (zoom %d and deeper)", RawEventsZoom)},
			{"category", "String", "event category (single events)"},
			{"severity", "String", "crime severity (single events; absent when unknown)"},
			{"occurred_at", "String", "RFC 3339 time in UTC (single events)"},
		}},
	}
}

// layerInfo returns the description of the layer name.
func layerInfo(name string) (LayerInfo, bool) {
	for _, l := range Layers() {
		if l.Name == name {
			return l, true
		}
	}
	return LayerInfo{}, false
}

// LayerNames lists the layer names.
func LayerNames() []string {
	ls := Layers()
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Name
	}
	return out
}

// ParseLayers parses one layer name or a comma-separated list (a composite
// tile). Errors wrap ErrUnknownLayer or ErrDuplicateLayer.
func ParseLayers(s string) ([]string, error) {
	parts := strings.Split(s, ",")
	seen := make(map[string]bool, len(parts))
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if _, ok := layerInfo(p); !ok {
			return nil, fmt.Errorf("%q: %w (want %s)", p, ErrUnknownLayer, strings.Join(LayerNames(), ", "))
		}
		if seen[p] {
			return nil, fmt.Errorf("%q: %w", p, ErrDuplicateLayer)
		}
		seen[p] = true
		out = append(out, p)
	}
	return out, nil
}

// HexResolution is the H3 resolution of the hexbins and hotspots layers
// at zoom z: z<=6: 5, 7: 6, 8: 7, 9-10: 8, 11-12: 9, >=13: 10 (a cell spans
// roughly 10-40 pixels of a 512-pixel tile).
func HexResolution(z int) int {
	switch {
	case z <= 6:
		return 5
	case z == 7:
		return 6
	case z == 8:
		return 7
	case z <= 10:
		return 8
	case z <= 12:
		return 9
	}
	return 10
}
