package tiles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/analytics/hotspot"
	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

// Boundaries loads the units of a level with their boundaries (lon/lat),
// e.g. store.Units with WithGeometry. The renderer calls it once per level
// and snapshot version.
type Boundaries func(ctx context.Context, level geo.Level) ([]geo.Unit, error)

// Categories returns the mahalla categories (by mahalla code) of the
// period's latest classification run, or nil when the period has none.
type Categories func(ctx context.Context, period analytics.Period) (map[string]classify.Category, error)

// Snapshots gives the current analytics snapshot (analytics.Live).
type Snapshots interface {
	Current() *analytics.Snapshot
}

// Config configures a Renderer.
type Config struct {
	Snapshots  Snapshots
	Boundaries Boundaries
	// Categories is optional: without it mahallas carry no category.
	Categories Categories
	// Attribution is the TileJSON attribution (default "crimemap").
	Attribution string
	Logger      *slog.Logger
	// Disclose makes every number of a public tile (analytics/disclose):
	// public layers are computed only through it, so a unit or cell has
	// the same published value in tiles and in the JSON answers of the
	// same Discloser (pass the server's one). Nil means
	// disclose.New(disclose.Config{Areas: ...}) with the unit boundaries of
	// Boundaries as the areas of the public H3 cells.
	Disclose *disclose.Discloser
	// Now is the clock of the public period rule (default time.Now).
	Now func() time.Time
	// CacheBytes bounds the tile cache of Encoded (default
	// DefaultCacheBytes; negative: no cache).
	CacheBytes int64
	// Basemap, when set, puts a basemap under the default style's layers
	// (the service serves it; see Basemap).
	Basemap *Basemap
}

// Params are the data parameters of a tile.
type Params struct {
	// Period is required.
	Period     analytics.Period
	Kinds      []analytics.Kind
	Categories []string
	// Public marks a request without an analyst token (the citizen app):
	// the public lattice and protection of Config.Disclose apply.
	Public bool
}

// Request asks for one tile of one or more layers.
type Request struct {
	// Layers in drawing order, distinct (see ParseLayers).
	Layers  []string
	Z, X, Y int
	Params  Params
}

// Result is an encoded tile.
type Result struct {
	// Data is the uncompressed MVT; nil when no layer has a feature.
	Data []byte
	// Snapshot is the version of the snapshot the tile was rendered from.
	Snapshot uint64
	// Features counts the features of every layer.
	Features int
}

// Renderer renders tiles from the current analytics snapshot. It is safe
// for concurrent use.
type Renderer struct {
	cfg Config
	log *slog.Logger

	mu   sync.Mutex
	geom *geomSet // boundaries of the newest snapshot version seen

	cache *tileCache // nil without a cache
	stats statsMemo  // per-unit statistics of the current snapshot
	hot   hotMemo    // per-district Gi* of the hotspots layer, current snapshot
	// pub makes the public numbers (Config.Disclose or the default).
	pub *disclose.Discloser
}

// New returns a Renderer.
func New(cfg Config) *Renderer {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Attribution == "" {
		cfg.Attribution = "crimemap"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = DefaultCacheBytes
	}
	r := &Renderer{cfg: cfg, log: cfg.Logger, pub: cfg.Disclose}
	r.hot.Max = hotMemoMax
	if r.pub == nil {
		r.pub = disclose.New(disclose.Config{Areas: r.areas})
	}
	if cfg.CacheBytes > 0 {
		r.cache = newTileCache(cfg.CacheBytes)
	}
	return r
}

// areas gives the Discloser New builds the unit boundaries of
// Config.Boundaries (the fixed sets of public H3 cells); a unit without a
// boundary has no cells.
func (r *Renderer) areas(ctx context.Context, code string) (orb.MultiPolygon, error) {
	_, gs, err := r.snapshot()
	if err != nil {
		return nil, err
	}
	for _, l := range geo.Levels { // coarse first: mahallas load only for mahalla codes
		ls, err := gs.level(ctx, l, r.cfg.Boundaries)
		if err != nil {
			return nil, err
		}
		for i := range ls.units {
			if ls.units[i].Code == code {
				return ls.units[i].Geometry, nil
			}
		}
	}
	return nil, nil
}

// CheckTile validates tile coordinates: z in MinZoom..MaxZoom, x and y in
// 0..2^z-1. Errors wrap ErrBadTile.
func CheckTile(z, x, y int) error {
	if z < MinZoom || z > MaxZoom {
		return fmt.Errorf("%w: zoom %d not in %d..%d", ErrBadTile, z, MinZoom, MaxZoom)
	}
	n := 1 << z
	if x < 0 || x >= n {
		return fmt.Errorf("%w: x %d not in 0..%d at zoom %d", ErrBadTile, x, n-1, z)
	}
	if y < 0 || y >= n {
		return fmt.Errorf("%w: y %d not in 0..%d at zoom %d", ErrBadTile, y, n-1, z)
	}
	return nil
}

// snapshot returns the current snapshot and the boundaries of its version.
func (r *Renderer) snapshot() (*analytics.Snapshot, *geomSet, error) {
	if r.cfg.Snapshots == nil {
		return nil, nil, fmt.Errorf("tiles: %w", analytics.ErrNoSnapshot)
	}
	snap := r.cfg.Snapshots.Current()
	if snap == nil {
		return nil, nil, fmt.Errorf("tiles: %w", analytics.ErrNoSnapshot)
	}
	v := snap.Version()
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.geom == nil || r.geom.version < v:
		r.geom = &geomSet{version: v}
	case r.geom.version > v:
		return snap, &geomSet{version: v}, nil // a late request for an old snapshot
	}
	return snap, r.geom, nil
}

// check validates req and normalises its parameters (categories and kinds
// sorted and distinct). Errors wrap ErrUnknownLayer, ErrDuplicateLayer,
// ErrBadTile, ErrBadParams, and for a public request disclose.ErrNotPublic
// (see checkPublic).
func (r *Renderer) check(req Request) (Request, error) {
	if err := CheckTile(req.Z, req.X, req.Y); err != nil {
		return req, err
	}
	seen := map[string]bool{}
	for _, name := range req.Layers {
		if seen[name] {
			return req, fmt.Errorf("%q: %w", name, ErrDuplicateLayer)
		}
		seen[name] = true
		if _, ok := layerInfo(name); !ok {
			return req, fmt.Errorf("%q: %w", name, ErrUnknownLayer)
		}
	}
	if req.Params.Period.From.IsZero() || !req.Params.Period.From.Before(req.Params.Period.To) {
		return req, fmt.Errorf("%w: a period is required", ErrBadParams)
	}
	if len(req.Params.Categories) > 0 {
		req.Params.Categories = slices.Compact(slices.Sorted(slices.Values(req.Params.Categories)))
	}
	if len(req.Params.Kinds) > 0 {
		req.Params.Kinds = slices.Compact(slices.Sorted(slices.Values(req.Params.Kinds)))
	}
	if req.Params.Public {
		if err := r.checkPublic(req, r.cfg.Now()); err != nil {
			return req, err
		}
	}
	return req, nil
}

// Tile renders the tile of req, without the cache (see Encoded). Errors
// wrap ErrUnknownLayer, ErrBadTile, ErrBadParams or analytics.ErrBadQuery
// for bad requests, disclose.ErrNotPublic for public requests outside the
// public lattice, and analytics.ErrNoSnapshot before the first snapshot.
func (r *Renderer) Tile(ctx context.Context, req Request) (Result, error) {
	req, err := r.check(req)
	if err != nil {
		return Result{}, err
	}
	snap, gs, err := r.snapshot()
	if err != nil {
		return Result{}, err
	}
	return r.render(ctx, snap, gs, req)
}

// render draws a checked request from snap.
func (r *Renderer) render(ctx context.Context, snap *analytics.Snapshot, gs *geomSet, req Request) (Result, error) {
	var err error
	res := Result{Snapshot: snap.Version()}
	f := newFrame(req.Z, req.X, req.Y)
	var layers mvt.Layers
	for _, name := range req.Layers {
		info, ok := layerInfo(name)
		if !ok {
			return res, fmt.Errorf("%q: %w", name, ErrUnknownLayer)
		}
		var fs []*geojson.Feature
		switch {
		case req.Z < info.MinZoom || req.Z > info.MaxZoom:
		case info.Level != "":
			fs, err = r.unitFeatures(ctx, snap, gs, info.Level, f, req.Params)
		case name == LayerHexbins:
			fs, err = r.hexbinFeatures(ctx, snap, gs, f, req.Params)
		case name == LayerHotspots:
			fs, err = r.hotspotFeatures(ctx, snap, gs, f, req.Params)
		case name == LayerEvents:
			fs, err = r.eventFeatures(ctx, snap, f, req.Params)
		}
		if err != nil {
			return res, fmt.Errorf("tile %d/%d/%d layer %s: %w", req.Z, req.X, req.Y, name, err)
		}
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("tile %d/%d/%d: %w", req.Z, req.X, req.Y, err)
		}
		if len(fs) > 0 {
			layers = append(layers, &mvt.Layer{Name: name, Version: 2, Extent: Extent, Features: fs})
			res.Features += len(fs)
		}
	}
	if len(layers) == 0 {
		return res, nil
	}
	if res.Data, err = mvt.Marshal(layers); err != nil {
		return res, fmt.Errorf("tile %d/%d/%d: encode: %w", req.Z, req.X, req.Y, err)
	}
	return res, nil
}

// publicFilter is the filter of a public request, as disclose reads it
// (SensitiveGroup stays a group).
func (p Params) publicFilter() analytics.Filter {
	return analytics.Filter{Kinds: p.Kinds, Categories: p.Categories}
}

// exactFilter is the filter of an analyst request over snap: SensitiveGroup
// stands for every sensitive category (those of disclose's list and the
// snapshot's categories the Discloser calls sensitive).
func (r *Renderer) exactFilter(snap *analytics.Snapshot, p Params) analytics.Filter {
	f := analytics.Filter{Kinds: p.Kinds, Categories: p.Categories}
	if !slices.Contains(p.Categories, disclose.SensitiveGroup) {
		return f
	}
	cs := make([]string, 0, len(p.Categories)+16)
	for _, c := range p.Categories {
		if c != disclose.SensitiveGroup {
			cs = append(cs, c)
		}
	}
	cs = append(cs, disclose.SensitiveCategories()...)
	for _, c := range snap.Categories() {
		if r.pub.IsSensitive(c) {
			cs = append(cs, c)
		}
	}
	slices.Sort(cs)
	f.Categories = slices.Compact(cs)
	return f
}

// featureID is a numeric unit code as the feature id (nil otherwise).
func featureID(code string) any {
	if n, err := strconv.ParseUint(code, 10, 64); err == nil {
		return n
	}
	return nil
}

// unitFeatures draws the units of level meeting the tile, with their
// statistics.
func (r *Renderer) unitFeatures(ctx context.Context, snap *analytics.Snapshot, gs *geomSet, level geo.Level, f tileFrame, p Params) ([]*geojson.Feature, error) {
	ls, err := gs.level(ctx, level, r.cfg.Boundaries)
	if err != nil {
		return nil, err
	}
	shapes, scale := ls.forZoom(f.z)
	wb := f.worldBound(PolygonBuffer)
	box := orb.Bound{Min: orb.Point{wb.Min[0] * f.scale / scale, wb.Min[1] * f.scale / scale}, Max: orb.Point{wb.Max[0] * f.scale / scale, wb.Max[1] * f.scale / scale}}
	var hits []*unitShape
	for i := range shapes {
		if shapes[i].bound.Intersects(box) {
			hits = append(hits, &shapes[i])
		}
	}
	if len(hits) == 0 {
		return nil, nil
	}
	rows, err := r.unitStats(ctx, snap, p, level)
	if err != nil {
		return nil, err
	}
	var cats map[string]classify.Category
	if level == geo.LevelMahalla && r.cfg.Categories != nil {
		if cats, err = r.cfg.Categories(ctx, p.Period); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			// A map without categories beats no map.
			r.log.WarnContext(ctx, "tiles: classification categories", slog.String("period", p.Period.Label), slog.Any("err", err))
		}
	}
	fs := make([]*geojson.Feature, 0, len(hits))
	for _, s := range hits {
		g := tilePolygon(s.geom, scale, f, PolygonBuffer)
		if g == nil {
			continue
		}
		u := s.unit
		props := geojson.Properties{"code": u.Code, "name": u.Name("uz")}
		if u.ParentCode != "" {
			props["parent"] = u.ParentCode
		}
		if u.Population > 0 {
			props["population"] = u.Population
		}
		switch row := rows[u.Code]; {
		case row != nil:
			if row.Population > 0 {
				props["population"] = row.Population
			}
			unitProps(props, row)
		case !p.Public:
			// A unit the snapshot does not know has no events. The public
			// gets no number the disclosure layer did not make.
			unitProps(props, &analytics.StatsRow{Previous: &analytics.Comparison{}})
		}
		if c, ok := cats[u.Code]; ok && c != "" {
			props["category"] = string(c)
		}
		feat := geojson.NewFeature(g)
		feat.ID = featureID(u.Code)
		feat.Properties = props
		fs = append(fs, feat)
	}
	return fs, nil
}

// unitProps sets the counts of a unit feature from its statistics row,
// exact (analysts) or published by disclose (public; every derived value
// is already computed from published counts there): count (absent when
// withheld), count_lo and count_hi (the interval that holds the true
// count; both equal count for exact rows), rate (absent without a
// population or a published count), prev_count, prev_count_lo and
// prev_count_hi likewise for the previous period, diff and pct only when
// the comparison is published (pct only when analytics gives one).
func unitProps(props geojson.Properties, row *analytics.StatsRow) {
	b := row.Bounds.Of(row.Count)
	if !b.Withheld {
		props["count"] = row.Count
	}
	props["count_lo"], props["count_hi"] = b.Lo, b.Hi
	if row.Rate != nil {
		props["rate"] = round(*row.Rate, 3)
	}
	c := row.Previous
	if c == nil {
		return
	}
	pb := c.BaseBounds.Of(c.Base)
	if !pb.Withheld {
		props["prev_count"] = c.Base
	}
	props["prev_count_lo"], props["prev_count_hi"] = pb.Lo, pb.Hi
	if c.Withheld {
		return
	}
	props["diff"] = c.Diff
	if c.Percent != nil {
		props["pct"] = round(*c.Percent, 1)
	}
}

// cellCountProps sets count (absent when withheld), count_lo and count_hi
// of a cell feature; exact counts have the interval [n, n].
func cellCountProps(props geojson.Properties, n int64, b analytics.Bounds) {
	b = b.Of(n)
	if !b.Withheld {
		props["count"] = n
	}
	props["count_lo"], props["count_hi"] = b.Lo, b.Hi
}

func round(v float64, digits int) float64 {
	m := math.Pow(10, float64(digits))
	return math.Round(v*m) / m
}

// edgeKm is the average H3 edge length at res (5..10; coarser for others).
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

// cellMargin is a lon/lat margin around the tile that holds every cell
// whose centre lies in the tile (twice the edge length at res).
func cellMargin(res int, b orb.Bound) float64 {
	lat := math.Max(math.Abs(b.Min[1]), math.Abs(b.Max[1]))
	c := math.Max(math.Cos(lat*math.Pi/180), 0.05)
	return 2 * edgeKm(res) / 111.32 / c
}

// cellFeature draws cell clipped to the tile (no buffer), or nil when its
// centre lies in another tile or nothing is left.
func cellFeature(cell uint64, f tileFrame) *geojson.Feature {
	lat, lon := geo.CellToLatLng(cell)
	if !owns(f.localLL(lon, lat)) {
		return nil
	}
	ring := geo.CellBoundary(cell)
	local := make(orb.Ring, len(ring))
	for i, p := range ring {
		local[i] = f.localLL(p[0], p[1])
	}
	g := cleanPolygons(clipBox(orb.MultiPolygon{{local}}, 0))
	if g == nil {
		return nil
	}
	feat := geojson.NewFeature(g)
	feat.ID = cell
	feat.Properties = geojson.Properties{"h3": strconv.FormatUint(cell, 16), "res": geo.CellResolution(cell)}
	return feat
}

// hexbinFeatures draws the event counts of the H3 cells whose centres lie
// in the tile: for analysts the exact counts of the cells with events, for
// the public the published counts of the fixed public cells (see
// publicHexbinFeatures).
func (r *Renderer) hexbinFeatures(ctx context.Context, snap *analytics.Snapshot, gs *geomSet, f tileFrame, p Params) ([]*geojson.Feature, error) {
	if p.Public {
		return r.publicHexbinFeatures(ctx, snap, gs, f, p)
	}
	res := HexResolution(f.z)
	tb := f.lonLatBound(0)
	box := f.lonLatBound(cellMargin(res, tb))
	flt := r.exactFilter(snap, p)
	flt.BBox = &box
	bins, err := snap.Hexbins(analytics.HexbinQuery{Res: res, Period: p.Period, Filter: flt})
	if err != nil {
		return nil, err
	}
	var fs []*geojson.Feature
	for _, b := range bins.Bins {
		if feat := cellFeature(b.Cell, f); feat != nil {
			cellCountProps(feat.Properties, b.Count, b.Bounds)
			fs = append(fs, feat)
		}
	}
	return fs, nil
}

// HotspotResolution is the H3 resolution of the hotspots layer at zoom z:
// HexResolution capped at 8 (Gi* over a whole district at res 9 or 10 has
// up to 10^5 cells: too slow per tile, and too sparse to be meaningful).
func HotspotResolution(z int) int { return min(HexResolution(z), 8) }

// hotspotFeatures draws the Gi* bins of the cells whose centres lie in the
// tile; each district meeting the tile is one study area. Analysts get
// Gi* over the exact counts with z and p; the public gets the bins of Gi*
// over the published counts of the district's fixed public cells (see
// publicHotspotCells), never z or p.
func (r *Renderer) hotspotFeatures(ctx context.Context, snap *analytics.Snapshot, gs *geomSet, f tileFrame, p Params) ([]*geojson.Feature, error) {
	ls, err := gs.level(ctx, geo.LevelDistrict, r.cfg.Boundaries)
	if err != nil {
		return nil, err
	}
	res := HotspotResolution(f.z)
	tb := f.lonLatBound(0)
	wb := f.worldBound(0)
	type pick struct {
		feat   *geojson.Feature
		inside bool
	}
	picked := map[uint64]*pick{}
	var order []uint64
	for i := range ls.base {
		s := &ls.base[i]
		if !s.bound.Intersects(wb) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var cells []hotCell
		cells, err = r.hot.Get(ctx, snap.Version(), hotKey(p, s.unit.Code, res), func(ctx context.Context) ([]hotCell, error) {
			if p.Public {
				return r.publicHotspotCells(ctx, snap, s.unit.Code, res, p)
			}
			return r.exactHotspotCells(ctx, snap, s.unit, res, p)
		})
		if err != nil {
			return nil, fmt.Errorf("district %s: %w", s.unit.Code, err)
		}
		for _, c := range cells {
			if c.value == 0 && c.bin == 0 {
				continue
			}
			lat, lon := geo.CellToLatLng(c.cell)
			if !tb.Contains(orb.Point{lon, lat}) {
				continue // cheap reject before drawing
			}
			inside := planar.MultiPolygonContains(s.unit.Geometry, orb.Point{lon, lat})
			if old := picked[c.cell]; old != nil && (old.inside || !inside) {
				continue // the district holding the cell's centre wins
			}
			feat := cellFeature(c.cell, f)
			if feat == nil {
				continue
			}
			feat.Properties["bin"] = int(c.bin)
			cellCountProps(feat.Properties, c.count, c.bounds)
			if !p.Public {
				feat.Properties["z"] = round(c.z, 3)
				feat.Properties["p"] = round(c.p, 5)
			}
			feat.Properties["district"] = s.unit.Code
			if picked[c.cell] == nil {
				order = append(order, c.cell)
			}
			picked[c.cell] = &pick{feat: feat, inside: inside}
		}
	}
	fs := make([]*geojson.Feature, 0, len(order))
	for _, c := range order {
		fs = append(fs, picked[c].feat)
	}
	return fs, nil
}

// hotCell is one cell of a district's Gi* analysis as drawn: value is
// the count Gi* ran on (exact, or the published value), count and bounds
// what the feature shows (for the public, count is 0 when bounds say
// withheld).
type hotCell struct {
	cell   uint64
	bin    int8
	value  int64
	count  int64
	bounds analytics.Bounds
	z, p   float64
}

// exactHotspotCells is Gi* over the exact counts of district (nil when the
// analysis is not meaningful there).
func (r *Renderer) exactHotspotCells(ctx context.Context, snap *analytics.Snapshot, district *geo.Unit, res int, p Params) ([]hotCell, error) {
	flt := r.exactFilter(snap, p)
	flt.Unit = district.Code
	hr, err := hotspot.HexHotspots(ctx, snap, hotspot.HexQuery{Res: res, Period: p.Period, Filter: flt, Area: district.Geometry})
	switch {
	case errors.Is(err, hotspot.ErrNotMeaningful), errors.Is(err, analytics.ErrUnknownUnit):
		return nil, nil // nothing to show for this district
	case err != nil:
		return nil, err
	}
	out := make([]hotCell, len(hr.Cells))
	for i, c := range hr.Cells {
		out[i] = hotCell{cell: c.Cell, bin: c.Bin, value: c.Count, count: c.Count, z: c.Z, p: c.P}
	}
	return out, nil
}

// eventFeatures draws the events of the tile: grid clusters below
// RawEventsZoom, single points from it.
func (r *Renderer) eventFeatures(ctx context.Context, snap *analytics.Snapshot, f tileFrame, p Params) ([]*geojson.Feature, error) {
	box := f.lonLatBound(1e-4) // float32 columns: ownership decides exactly
	flt := r.exactFilter(snap, p)
	flt.BBox = &box
	q := analytics.PointsQuery{Period: p.Period, Filter: flt}
	var fs []*geojson.Feature
	if f.z >= RawEventsZoom {
		n := 0
		err := snap.Points(q, func(e analytics.Point) error {
			if n++; n%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			pt := f.localLL(e.Lon, e.Lat)
			if !owns(pt) {
				return nil
			}
			feat := geojson.NewFeature(orb.Point{math.Floor(pt[0]), math.Floor(pt[1])})
			feat.Properties = geojson.Properties{"kind": e.Kind.String(), "category": e.Category, "occurred_at": e.OccurredAt.Format(time.RFC3339)}
			if e.Severity != analytics.SeverityUnknown {
				feat.Properties["severity"] = e.Severity.String()
			}
			fs = append(fs, feat)
			return nil
		})
		return fs, err
	}
	const cells = Extent / ClusterGrid
	type acc struct {
		n      int64
		sx, sy float64
	}
	grid := map[int]*acc{}
	n := 0
	err := snap.Points(q, func(e analytics.Point) error {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		pt := f.localLL(e.Lon, e.Lat)
		if !owns(pt) {
			return nil
		}
		k := int(pt[1])/ClusterGrid*cells + int(pt[0])/ClusterGrid
		a := grid[k]
		if a == nil {
			a = &acc{}
			grid[k] = a
		}
		a.n++
		a.sx += pt[0]
		a.sy += pt[1]
		return nil
	})
	if err != nil {
		return nil, err
	}
	for k := range cells * cells { // grid order: deterministic output
		a := grid[k]
		if a == nil {
			continue
		}
		x := math.Min(math.Floor(a.sx/float64(a.n)), Extent-1)
		y := math.Min(math.Floor(a.sy/float64(a.n)), Extent-1)
		feat := geojson.NewFeature(orb.Point{x, y})
		feat.Properties = geojson.Properties{"point_count": a.n, "cluster": a.n > 1}
		fs = append(fs, feat)
	}
	return fs, nil
}
