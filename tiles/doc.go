// Package tiles renders the crimemap analytics as Mapbox Vector Tiles (MVT
// 2.1, extent 4096, layer version 2), describes them as TileJSON 3.0.0 and
// draws them with a MapLibre GL style.
//
// # Layers
//
// A tile request names one layer or several (a composite tile, e.g.
// "districts,events"; a name twice is refused):
//
//   - regions, districts, mahallas: unit polygons with the period's count
//     and the interval that holds it (count_lo, count_hi; equal to count
//     for analysts), rate per 1,000 residents and the change against the
//     previous period (prev_count with prev_count_lo and prev_count_hi,
//     diff; pct is absent, i.e. null, when the previous count is below
//     analytics.MinBaseForPercent); mahallas also carry the category of the
//     period's latest classification run when Config.Categories finds one.
//     Clipped with a 64-unit buffer (PolygonBuffer) so fills and outlines
//     join across tile seams.
//   - hexbins: event counts per H3 cell; the resolution follows the zoom
//     (HexResolution: z<=6:5, 7:6, 8:7, 9-10:8, 11-12:9, >=13:10).
//   - hotspots: Getis-Ord Gi* bins (-3..+3, FDR-corrected) of H3 cells at
//     the same resolution, from zoom HotspotMinZoom. The study area is each
//     district whose boundary box meets the tile (hotspot.HexHotspots with
//     the district as the unit), never the tile itself, so a cell has the
//     same bin in every tile and at every request; a district where the
//     analysis is not meaningful (too few cells or events) contributes
//     nothing. Cells with events or a non-zero bin are drawn.
//   - events: located events; at zooms below RawEventsZoom they are
//     clustered on a 64x64 grid in tile space (ClusterGrid) into points
//     with point_count, from RawEventsZoom on every event is a point.
//
// Aggregate layers (hexbins, hotspots, events) use a zero buffer and give
// every feature to exactly one tile: the tile holding the cell's centre or
// the event (tile bounds are half-open, [min, max)). Summing a property
// over the features of several tiles therefore never counts anything
// twice. The price: a hexagon straddling a tile edge is drawn only in the
// tile of its centre, clipped at that tile's edge.
//
// # Geometry
//
// Unit boundaries come from Config.Boundaries, loaded once per snapshot
// version and level. Their Web Mercator projection is cached per level and
// zoom (simplified with Douglas-Peucker at SimplifyTolerance tile units up
// to DetailZoom; deeper zooms scale the unsimplified projection). Every
// tile then translates, clips, rounds to integers and cleans its rings:
// consecutive duplicates (zero-length segments) and rings of zero area are
// dropped, exterior rings get a positive area by the specification's
// formula (clockwise on screen, y down) and holes, which follow their
// exterior, a negative one. Validate checks all of this on encoded tiles.
//
// # Period and filters
//
// Params.Period is required (the server defaults it to the last full
// quarter); Params.Kinds and Params.Categories filter the events of every
// layer (the category disclose.SensitiveGroup, "other_sensitive", stands
// for every sensitive category together).
//
// # Public tiles
//
// Params.Public marks a request without an analyst token. Public tiles are
// computed only through analytics/disclose (Config.Disclose; pass the
// server's Discloser), the one package that makes public answers, so a
// unit or cell has the same published value in every tile, at every zoom
// and in the JSON routes:
//
//   - the lattice: the events layer, periods other than closed months,
//     quarters, half-years and years, unions of kinds or categories and a
//     sensitive category by name are refused with disclose.ErrNotPublic
//     (the message says what an analyst token unlocks or when a period is
//     published); hexbins stop at disclose.MaxRes;
//   - unit layers take their rows from Discloser.Stats (cell-key
//     perturbation): count is the published value, absent when it is
//     withheld (below k), count_lo and count_hi the interval that holds
//     the true count, always given; rate, diff and pct come from published
//     counts and are absent when a count they need is withheld;
//   - hexbins draw every cell of the fixed public set (Discloser.RegionCells:
//     cells whose centres lie in a region, zeros included, never chosen by
//     the data) with the counts of Discloser.Cells;
//   - hotspots are Gi* over the published values of each district's fixed
//     cells (Discloser.UnitCells); the bin is published, z and p never.
//
// # Caching
//
// Tile renders without a cache. Encoded renders through an LRU cache of
// gzip-compressed tiles bounded in bytes (Config.CacheBytes, default
// DefaultCacheBytes), keyed by the snapshot and the normalised request;
// a new snapshot version empties it, and concurrent identical requests of
// a cold tile wait for one render. ETag gives a tile's entity tag without
// rendering it, so that a server can answer If-None-Match with 304.
// Tiles with the events layer are never cached. Result.Snapshot and
// Encoded.Snapshot name the snapshot a tile was rendered from.
package tiles
