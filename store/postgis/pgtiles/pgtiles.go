// Package pgtiles renders the crimemap tile layers in PostGIS SQL with
// ST_AsMVT, the way pg_tileserv or Martin would serve them from the
// store's tables. It is the PostGIS side of the tile benchmark
// (`crimemap bench --tiles`), not part of the service, which renders tiles
// from the in-memory snapshot (package tiles).
//
// The queries follow pg_tileserv's function layers: the tile envelope
// (ST_TileEnvelope), the features meeting it, ST_AsMVTGeom (extent 4096)
// and ST_AsMVT. Every value is a bound $n parameter; identifiers (the
// unit-code column of a level) come from an allowlist.
//
//   - regions, districts, mahallas: the units of the level whose Web
//     Mercator box meets the tile widened by a 64-unit buffer, with the
//     period's count, the previous period's count, diff and rate per
//     1,000 residents. The period's events are counted by unit (the
//     occurred_at BRIN index); from RestrictZoom on only those of the
//     tile's units (the events_units GIN index).
//   - hexbins: the events in the tile's box widened by two H3 edge lengths
//     (the renderer's margin) are counted per cell at the tile's
//     resolution (HexResolution, always 5..10: the stored column h3_rN,
//     the cell LatLngToCell gives for the event's coordinates, as
//     pgquery); a cell is drawn in the tile holding its centre, without
//     buffer.
//
// Best case for PostGIS, set up by Prepare: an expression GiST index on
// ST_Transform(units.geom, 3857), so the tile's && uses an index, and a
// lookup table h3_cells of precomputed Web Mercator hexagons and centres
// (no h3 extension is installed; with h3-pg the boundary would be
// computed per cell and per request instead).
package pgtiles

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/crimemap/crimemap/geo"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// Layer names (as package tiles).
const (
	LayerRegions   = "regions"
	LayerDistricts = "districts"
	LayerMahallas  = "mahallas"
	LayerHexbins   = "hexbins"
)

// RestrictZoom is the first zoom where the unit layers count only the
// events of the tile's units. Measured on the demo region (`crimemap
// bench`, mahalla tiles z8-z14): the GIN lookup at every zoom gave p50
// 23 ms but p99 1 s (the z8-z10 tiles, hundreds of units each); the
// period scan at every zoom p50 67 ms, p99 150 ms.
const RestrictZoom = 11

// Extent and PolygonBuffer are those of package tiles.
const (
	Extent        = 4096
	PolygonBuffer = 64
)

// UnitsIndexSQL creates the Web Mercator expression index the unit layers'
// && uses (the stored geometry is lon/lat).
const UnitsIndexSQL = `CREATE INDEX IF NOT EXISTS units_geom_3857 ON units USING gist (ST_Transform(geom, 3857))`

// cellTableSQL holds the hexagons of the cells the hexbins layer draws.
const cellTableSQL = `CREATE TABLE IF NOT EXISTS h3_cells (
    cell bigint PRIMARY KEY,
    cx   double precision NOT NULL, -- centre, EPSG:3857
    cy   double precision NOT NULL,
    geom geometry(Polygon, 3857) NOT NULL
)`

// Prepare creates the units index and the h3_cells table for cells (H3
// indexes at the resolutions the hexbins layer uses), then analyzes both
// tables. It uses a temporary table: db is one connection.
func Prepare(ctx context.Context, db *pgx.Conn, cells []uint64) error {
	exec := func(sql string, args ...any) error {
		rows, err := db.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		rows.Close()
		return rows.Err()
	}
	if err := exec(UnitsIndexSQL); err != nil {
		return fmt.Errorf("pgtiles: units index: %w", err)
	}
	if err := exec(cellTableSQL); err != nil {
		return fmt.Errorf("pgtiles: h3_cells: %w", err)
	}
	if err := exec(`CREATE TEMP TABLE h3_cells_stage (cell bigint, cx float8, cy float8, wkt text) ON COMMIT PRESERVE ROWS`); err != nil {
		return fmt.Errorf("pgtiles: h3_cells: %w", err)
	}
	var sb strings.Builder
	_, err := db.CopyFrom(ctx, pgx.Identifier{"h3_cells_stage"}, []string{"cell", "cx", "cy", "wkt"},
		pgx.CopyFromSlice(len(cells), func(i int) ([]any, error) {
			c := cells[i]
			lat, lon := geo.CellToLatLng(c)
			cx, cy := Mercator(lon, lat)
			sb.Reset()
			sb.WriteString("POLYGON((")
			ring := geo.CellBoundary(c)
			for j, p := range ring {
				if j > 0 {
					sb.WriteByte(',')
				}
				x, y := Mercator(p[0], p[1])
				sb.WriteString(strconv.FormatFloat(x, 'f', 3, 64))
				sb.WriteByte(' ')
				sb.WriteString(strconv.FormatFloat(y, 'f', 3, 64))
			}
			if len(ring) > 0 && ring[0] != ring[len(ring)-1] {
				x, y := Mercator(ring[0][0], ring[0][1])
				sb.WriteString("," + strconv.FormatFloat(x, 'f', 3, 64) + " " + strconv.FormatFloat(y, 'f', 3, 64))
			}
			sb.WriteString("))")
			return []any{int64(c), cx, cy, sb.String()}, nil
		}))
	if err != nil {
		return fmt.Errorf("pgtiles: h3_cells copy: %w", err)
	}
	for _, s := range []string{
		`INSERT INTO h3_cells SELECT cell, cx, cy, ST_GeomFromText(wkt, 3857) FROM h3_cells_stage ON CONFLICT (cell) DO NOTHING`,
		`DROP TABLE h3_cells_stage`,
		`ANALYZE units`, `ANALYZE h3_cells`,
	} {
		if err := exec(s); err != nil {
			return fmt.Errorf("pgtiles: %s: %w", s, err)
		}
	}
	return nil
}

// Mercator projects lon/lat to EPSG:3857 metres.
func Mercator(lon, lat float64) (x, y float64) {
	const r = 6378137.0
	lat = math.Max(-85.05112877980659, math.Min(85.05112877980659, lat))
	return r * lon * math.Pi / 180, r * math.Log(math.Tan(math.Pi/4+lat*math.Pi/360))
}

// Params are the data parameters of a tile (tiles.Params without the
// category filter).
type Params struct {
	From, To time.Time // the period [From, To)
	Kinds    []int16   // event kinds (analytics.Kind values); empty: all
}

// Query is one tile's SQL and its arguments; the single row's single
// column is the MVT (empty when no layer has a feature).
type Query struct {
	SQL  string
	Args []any
}

// args collects bound parameters.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// levelColumn is the allowlist of unit layers and their event columns.
var levelColumn = map[string]struct{ level, col string }{
	LayerRegions:   {"region", "region_code"},
	LayerDistricts: {"district", "district_code"},
	LayerMahallas:  {"mahalla", "mahalla_code"},
}

// Tile builds the query of tile z/x/y of layers (a composite when more than
// one: the layers' MVTs concatenated, which is a valid MVT).
func Tile(layers []string, z, x, y int, p Params) (Query, error) {
	if z < 0 || z > 30 || x < 0 || y < 0 || x >= 1<<z || y >= 1<<z {
		return Query{}, fmt.Errorf("pgtiles: tile %d/%d/%d out of range", z, x, y)
	}
	if !p.From.Before(p.To) {
		return Query{}, fmt.Errorf("pgtiles: empty period")
	}
	kinds := p.Kinds
	if len(kinds) == 0 {
		kinds = []int16{1, 2, 3}
	}
	var a args
	parts := make([]string, 0, len(layers))
	for _, l := range layers {
		var sub string
		if lc, ok := levelColumn[l]; ok {
			sub = unitSQL(l, lc.level, lc.col, z, x, y, p, kinds, &a)
		} else if l == LayerHexbins {
			var err error
			if sub, err = hexSQL(z, x, y, p, kinds, &a); err != nil {
				return Query{}, err
			}
		} else {
			return Query{}, fmt.Errorf("pgtiles: layer %q not supported", l)
		}
		parts = append(parts, "coalesce(("+sub+"), ''::bytea)")
	}
	if len(parts) == 0 {
		return Query{}, fmt.Errorf("pgtiles: no layer")
	}
	return Query{SQL: "SELECT " + strings.Join(parts, " || "), Args: a}, nil
}

// unitSQL is the MVT of the units of level meeting the tile, with the
// period's statistics.
func unitSQL(name, level, col string, z, x, y int, p Params, kinds []int16, a *args) string {
	prev := p.From.Add(-p.To.Sub(p.From)) // the previous period of the same length
	zz, xx, yy := a.add(int32(z)), a.add(int32(x)), a.add(int32(y))
	from := a.add(p.From)
	// From RestrictZoom on, only the events of the tile's units are read
	// (the events_units GIN index); below it a tile holds most units and
	// scanning the period (BRIN) is faster.
	restrict := ""
	if z >= RestrictZoom {
		restrict = "AND ARRAY[e.region_code, e.district_code, e.mahalla_code] && ARRAY(SELECT code FROM u)"
	}
	return `WITH bounds AS (
    SELECT ST_TileEnvelope(` + zz + `, ` + xx + `, ` + yy + `) AS geom,
           ST_TileEnvelope(` + zz + `, ` + xx + `, ` + yy + `, margin => ` + a.add(float64(PolygonBuffer)/Extent) + `) AS clip
), u AS (
    SELECT u.code, u.names->>'uz' AS name, u.parent_code AS parent, u.population, ST_Transform(u.geom, 3857) AS g
    FROM units u, bounds
    WHERE u.level = ` + a.add(level) + ` AND ST_Transform(u.geom, 3857) && bounds.clip
), c AS (
    SELECT e.` + col + ` AS code,
           count(*) FILTER (WHERE e.occurred_at >= ` + from + `) AS count,
           count(*) FILTER (WHERE e.occurred_at < ` + from + `) AS prev_count
    FROM events e
    WHERE e.occurred_at >= ` + a.add(prev) + ` AND e.occurred_at < ` + a.add(p.To) + `
      AND e.kind = ANY(` + a.add(kinds) + `::smallint[])
      ` + restrict + `
    GROUP BY 1
), mvtgeom AS (
    SELECT ST_AsMVTGeom(u.g, bounds.geom, ` + strconv.Itoa(Extent) + `, ` + strconv.Itoa(PolygonBuffer) + `, true) AS geom,
           CASE WHEN u.code ~ '^[0-9]{1,18}$' THEN u.code::bigint END AS id,
           u.code, u.name, u.parent, u.population,
           coalesce(c.count, 0) AS count,
           round(1000.0 * coalesce(c.count, 0) / u.population, 3) AS rate,
           coalesce(c.prev_count, 0) AS prev_count,
           coalesce(c.count, 0) - coalesce(c.prev_count, 0) AS diff
    FROM u CROSS JOIN bounds LEFT JOIN c USING (code)
)
SELECT ST_AsMVT(mvtgeom.*, '` + name + `', ` + strconv.Itoa(Extent) + `, 'geom', 'id') FROM mvtgeom WHERE geom IS NOT NULL`
}

// HexResolution is tiles.HexResolution.
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

// edgeKm is the average H3 edge length at res (as package tiles).
func edgeKm(res int) float64 {
	switch res {
	case 6:
		return 3.229
	case 7:
		return 1.220
	case 8:
		return 0.461
	case 9:
		return 0.174
	case 10:
		return 0.066
	}
	return 8.544
}

// cellColumns is the allowlist of stored H3 cell columns by resolution
// (every value of HexResolution).
var cellColumns = map[int]string{
	5: "h3_r5", 6: "h3_r6", 7: "h3_r7", 8: "h3_r8", 9: "h3_r9", 10: "h3_r10",
}

// hexSQL is the MVT of the event counts per H3 cell whose centre lies in
// the tile.
func hexSQL(z, x, y int, p Params, kinds []int16, a *args) (string, error) {
	res := HexResolution(z)
	col, ok := cellColumns[res]
	if !ok {
		return "", fmt.Errorf("pgtiles: no stored H3 cells at resolution %d", res)
	}
	b := maptile.New(uint32(x), uint32(y), maptile.Zoom(z)).Bound()
	lat := math.Max(math.Abs(b.Min[1]), math.Abs(b.Max[1]))
	m := 2 * edgeKm(res) / 111.32 / math.Max(math.Cos(lat*math.Pi/180), 0.05)
	b = orb.Bound{Min: orb.Point{b.Min[0] - m, b.Min[1] - m}, Max: orb.Point{b.Max[0] + m, b.Max[1] + m}}
	r := a.add(int64(res))
	return `WITH bounds AS (
    SELECT ST_TileEnvelope(` + a.add(int32(z)) + `, ` + a.add(int32(x)) + `, ` + a.add(int32(y)) + `) AS geom
), c AS (
    SELECT e.` + col + ` AS cell, count(*) AS count
    FROM events e
    WHERE e.geom && ST_MakeEnvelope(` + a.add(b.Min[0]) + `, ` + a.add(b.Min[1]) + `, ` + a.add(b.Max[0]) + `, ` + a.add(b.Max[1]) + `, 4326)
      AND e.occurred_at >= ` + a.add(p.From) + ` AND e.occurred_at < ` + a.add(p.To) + `
      AND e.kind = ANY(` + a.add(kinds) + `::smallint[])
      AND e.` + col + ` IS NOT NULL
    GROUP BY 1
), mvtgeom AS (
    SELECT ST_AsMVTGeom(h.geom, bounds.geom, ` + strconv.Itoa(Extent) + `, 0, true) AS geom,
           c.cell AS id, to_hex(c.cell) AS h3, (` + r + `::bigint)::int AS res, c.count
    FROM c JOIN h3_cells h ON h.cell = c.cell CROSS JOIN bounds
    WHERE h.cx >= ST_XMin(bounds.geom) AND h.cx < ST_XMax(bounds.geom)
      AND h.cy > ST_YMin(bounds.geom) AND h.cy <= ST_YMax(bounds.geom)
)
SELECT ST_AsMVT(mvtgeom.*, 'hexbins', ` + strconv.Itoa(Extent) + `, 'geom', 'id') FROM mvtgeom WHERE geom IS NOT NULL`, nil
}
