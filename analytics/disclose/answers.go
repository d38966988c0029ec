package disclose

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb"
)

// agg is the count and record-key sum of a set of events.
type agg struct {
	n   int64
	key uint32
}

func (a *agg) add(n int32, key uint32) {
	a.n += int64(n)
	a.key += key
}

// publish protects the cell named name holding a.
func (d *Discloser) publish(a agg, name cellName) Published {
	return d.protect(a.n, d.cellKey(a.n, a.key, name))
}

// scope is the place filter of a public question: everything, or the
// events of one unit.
type scope struct {
	code string // "" for everywhere
	idx  int32
	slot int // level slot of the unit; -1 for everywhere
}

func (d *Discloser) scopeOf(snap *analytics.Snapshot, code string) (scope, error) {
	if code == "" {
		return scope{slot: -1, idx: -1}, nil
	}
	idx, info, ok := snap.Unit(code)
	if !ok || info.Unknown {
		return scope{}, fmt.Errorf("unit %q: %w", code, analytics.ErrUnknownUnit)
	}
	sl := info.Level.Rank()
	if sl < 0 {
		return scope{}, fmt.Errorf("unit %q is a %s: the public asks by region, district or mahalla: %w", code, info.Level, ErrNotPublic)
	}
	return scope{code: code, idx: idx, slot: sl}, nil
}

func (s scope) has(p *place) bool { return s.slot < 0 || p.lev[s.slot] == s.idx }

func (s scope) name() string {
	if s.code == "" {
		return "*"
	}
	return s.code
}

// Stats is the public answer to q at now, like analytics.Snapshot.Stats:
// a row for every unit of q.Level inside q.Filter.Unit (units of the unit
// table; codes only events carry are left out), each count protected,
// rates and comparisons computed from the published counts, totals
// protected too. Refusals wrap ErrNotPublic.
func (d *Discloser) Stats(ctx context.Context, snap *analytics.Snapshot, q analytics.StatsQuery, now time.Time) (analytics.StatsResult, error) {
	res := analytics.StatsResult{Snapshot: snap.Version(), Period: q.Period, Level: q.Level}
	if err := d.CheckPeriod(q.Period, now); err != nil {
		return res, err
	}
	w, err := d.CheckFilter(q.Filter)
	if err != nil {
		return res, err
	}
	switch q.Group {
	case analytics.DimNone, analytics.DimKind, analytics.DimCategory:
	default:
		return res, fmt.Errorf("group=%s needs an analyst token; the public may group by kind or category: %w", q.Group, ErrNotPublic)
	}
	slot := q.Level.Rank()
	if slot < 0 {
		return res, fmt.Errorf("%w: level %q: %w", analytics.ErrBadQuery, string(q.Level), geo.ErrUnknownLevel)
	}
	sc, err := d.scopeOf(snap, q.Filter.Unit)
	if err != nil {
		return res, err
	}
	all, err := snap.UnitsAt(q.Level, q.Filter.Unit)
	if err != nil {
		return res, err
	}
	units := all[:0:0]
	for _, u := range all {
		if !snap.UnitAt(u).Unknown {
			units = append(units, u)
		}
	}
	c, err := d.cubeFor(ctx, snap)
	if err != nil {
		return res, err
	}
	gw, known := c.whatIndex(w)

	// The groups of the rows and the What of each.
	type rowGroup struct {
		label string
		what  What
	}
	var gs []rowGroup
	switch q.Group {
	case analytics.DimNone:
		gs = []rowGroup{{"", w}}
	case analytics.DimKind:
		for _, k := range analytics.Kinds {
			if w.Kind == 0 || w.Kind == k {
				gs = append(gs, rowGroup{k.String(), What{Kind: k, Category: w.Category}})
			}
		}
	case analytics.DimCategory:
		for g, name := range c.groups {
			if (w.Category != "" && name != w.Category) || (w.Kind != 0 && c.groupKinds[g]&(1<<(w.Kind-1)) == 0) {
				continue
			}
			gs = append(gs, rowGroup{name, What{Kind: w.Kind, Category: name}})
		}
		if w.Category != "" && len(gs) == 0 {
			gs = []rowGroup{{w.Category, w}} // a group without events: zero rows, still protected
		}
	}
	width := len(gs)
	// colOfGroup is the column of each category group (-1: no row).
	colOfGroup := make([]int, len(c.groups))
	for g := range colOfGroup {
		colOfGroup[g] = -1
		if q.Group == analytics.DimCategory {
			for i := range gs {
				if gs[i].label == c.groups[g] {
					colOfGroup[g] = i
				}
			}
		}
	}

	type sums struct {
		cells                    []agg // [unit table index * width + column]
		total, noLoc, unassigned agg
	}
	count := func(p analytics.Period) sums {
		s := sums{cells: make([]agg, snap.NumUnits()*width)}
		if !known {
			return s
		}
		a, b := c.monthsOf(p)
		for mi := a; mi < b; mi++ {
			for i := range c.unit[mi] {
				u := &c.unit[mi][i]
				if (w.Kind != 0 && u.kind != uint8(w.Kind)) || (gw >= 0 && int(u.group) != gw) {
					continue
				}
				pl := &c.places[u.place]
				if !sc.has(pl) {
					continue
				}
				s.total.add(u.n, u.key)
				if !pl.loc {
					s.noLoc.add(u.n, u.key)
				}
				lv := pl.lev[slot]
				if lv < 0 {
					if pl.loc {
						s.unassigned.add(u.n, u.key)
					}
					continue
				}
				col := 0
				switch {
				case q.Group == analytics.DimCategory:
					col = colOfGroup[u.group]
				case q.Group == analytics.DimKind && w.Kind == 0:
					col = int(u.kind) - 1
				}
				if col < 0 {
					continue
				}
				s.cells[int(lv)*width+col].add(u.n, u.key)
			}
		}
		return s
	}

	// placeName names the place of a row's cell: the row's unit, or the
	// filter unit when it is the finer of the two (the row then holds
	// exactly the filter unit's events).
	placeName := func(u int32) string {
		if sc.slot >= slot {
			return sc.code
		}
		return snap.UnitAt(u).Code
	}
	// Hashes of the name parts, computed once per query.
	kCell, kNoLoc, kUnassigned := strHash("cell"), strHash("noloc"), strHash("unassigned:"+string(q.Level))
	whatHash := make([]uint64, len(gs))
	for i := range gs {
		whatHash[i] = strHash(c.canonical(gs[i].what).name())
	}
	wHash := strHash(c.canonical(w).name())
	scHash := strHash(sc.name())
	pHash := map[string]uint64{}
	periodHash := func(p analytics.Period) uint64 {
		h, ok := pHash[p.Label]
		if !ok {
			h = strHash(p.Label)
			pHash[p.Label] = h
		}
		return h
	}

	cur := count(q.Period)
	ph := periodHash(q.Period)
	res.Total, res.TotalBounds = d.publish(cur.total, cellName{kCell, ph, scHash, wHash}).Count()
	res.NoLocation, res.NoLocationBounds = d.publish(cur.noLoc, cellName{kNoLoc, ph, scHash, wHash}).Count()
	res.Unassigned, res.UnassignedBounds = d.publish(cur.unassigned, cellName{kUnassigned, ph, scHash, wHash}).Count()
	var prev, last sums
	var prevP, lastP analytics.Period
	if q.ComparePrevious {
		prevP = q.Period.Previous()
		prev = count(prevP)
	}
	if q.CompareLastYear {
		lastP = q.Period.LastYear()
		last = count(lastP)
	}
	res.Rows = make([]analytics.StatsRow, 0, len(units)*width)
	prevH, lastH := periodHash(prevP), periodHash(lastP)
	var prevC, lastC []analytics.Comparison // one allocation each
	if q.ComparePrevious {
		prevC = make([]analytics.Comparison, 0, len(units)*width)
	}
	if q.CompareLastYear {
		lastC = make([]analytics.Comparison, 0, len(units)*width)
	}
	for _, u := range units {
		info := snap.UnitAt(u)
		place := strHash(placeName(u))
		pop, popYear := info.PopulationAt(q.Period)
		for gi, g := range gs {
			i := int(u)*width + gi
			pub := d.publish(cur.cells[i], cellName{kCell, ph, place, whatHash[gi]})
			row := analytics.StatsRow{Unit: info.Code, Name: info.Name, Group: g.label, Population: pop, PopulationYear: popYear}
			row.Count, row.Bounds = pub.Count()
			if !pub.Bounds.Withheld {
				row.Rate = analytics.RatePer1000(pub.Value, pop)
			}
			if q.ComparePrevious {
				prevC = append(prevC, d.compare(pub, d.publish(prev.cells[i], cellName{kCell, prevH, place, whatHash[gi]}), prevP))
				info.MarkBoundaryChange(&prevC[len(prevC)-1], q.Period)
				row.Previous = &prevC[len(prevC)-1]
			}
			if q.CompareLastYear {
				lastC = append(lastC, d.compare(pub, d.publish(last.cells[i], cellName{kCell, lastH, place, whatHash[gi]}), lastP))
				info.MarkBoundaryChange(&lastC[len(lastC)-1], q.Period)
				row.LastYear = &lastC[len(lastC)-1]
			}
			res.Rows = append(res.Rows, row)
		}
	}
	return res, nil
}

// compare compares two published counts; withheld when either is.
func (d *Discloser) compare(cur, base Published, p analytics.Period) analytics.Comparison {
	if cur.Bounds.Withheld || base.Bounds.Withheld {
		b, _ := base.Count()
		return analytics.Comparison{Period: p, Base: b, BaseBounds: base.Bounds, Withheld: true}
	}
	c := analytics.Compare(cur.Value, base.Value, p)
	c.BaseBounds = base.Bounds
	return c
}

// SubPeriods lists the months (iv = month) or quarters (iv = quarter) of
// the calendar period p, in order.
func SubPeriods(p analytics.Period, iv analytics.Interval) ([]analytics.Period, error) {
	loc := p.From.Location()
	var out []analytics.Period
	switch iv {
	case analytics.IntervalMonth, analytics.IntervalQuarter:
	default:
		return nil, fmt.Errorf("interval=%s: the public sees series by month or quarter; an analyst token unlocks days and weeks: %w", iv, ErrNotPublic)
	}
	t := p.From.In(loc)
	y, m := t.Year(), t.Month()
	if iv == analytics.IntervalQuarter {
		m = (m-1)/3*3 + 1
	}
	for range 1000 {
		label := fmt.Sprintf("%04d-%02d", y, int(m))
		step := time.Month(1)
		if iv == analytics.IntervalQuarter {
			label, step = fmt.Sprintf("%04d-Q%d", y, (int(m)-1)/3+1), 3
		}
		sp, err := analytics.ParsePeriod(label, loc)
		if err != nil {
			return nil, err
		}
		if !sp.From.Before(p.To) {
			break
		}
		if sp.From.Before(p.From) || sp.To.After(p.To) {
			return nil, fmt.Errorf("interval=%s does not divide period %q: %w", iv, p.Label, ErrNotPublic)
		}
		out = append(out, sp)
		if m += step; m > 12 {
			y, m = y+1, m-12
		}
	}
	return out, nil
}

// Series is the public series of the calendar period p by month or
// quarter (every point a lattice cell, protected) for the events of f.
func (d *Discloser) Series(ctx context.Context, snap *analytics.Snapshot, iv analytics.Interval, p analytics.Period, f analytics.Filter, now time.Time) (analytics.SeriesResult, error) {
	res := analytics.SeriesResult{Snapshot: snap.Version(), Interval: iv}
	if err := d.CheckPeriod(p, now); err != nil {
		return res, err
	}
	w, err := d.CheckFilter(f)
	if err != nil {
		return res, err
	}
	sc, err := d.scopeOf(snap, f.Unit)
	if err != nil {
		return res, err
	}
	subs, err := SubPeriods(p, iv)
	if err != nil {
		return res, err
	}
	c, err := d.cubeFor(ctx, snap)
	if err != nil {
		return res, err
	}
	gw, known := c.whatIndex(w)
	for _, sp := range subs {
		var a agg
		if known {
			m0, m1 := c.monthsOf(sp)
			for mi := m0; mi < m1; mi++ {
				for i := range c.unit[mi] {
					u := &c.unit[mi][i]
					if (w.Kind != 0 && u.kind != uint8(w.Kind)) || (gw >= 0 && int(u.group) != gw) || !sc.has(&c.places[u.place]) {
						continue
					}
					a.add(u.n, u.key)
				}
			}
		}
		pub := d.publish(a, cellName{strHash("cell"), strHash(sp.Label), strHash(sc.name()), strHash(c.canonical(w).name())})
		pt := analytics.SeriesPoint{Start: sp.From}
		pt.Count, pt.Bounds = pub.Count()
		res.Points = append(res.Points, pt)
	}
	return res, nil
}

// hexMemo keeps recent per-cell sums of the H3 cube (a map view asks the
// same period and filter for every tile).
type hexMemo struct {
	mu   sync.Mutex
	cube *cube
	sums map[string]map[uint64]agg
}

const hexMemoMax = 32

// hexSums returns the count and key sum of every H3 cell at res with
// events of w in period p.
func (d *Discloser) hexSums(ctx context.Context, c *cube, res int, p analytics.Period, w What) (map[uint64]agg, error) {
	key := strconv.Itoa(res) + "|" + p.Label + "|" + strconv.FormatInt(p.From.Unix(), 10) + "|" + w.name()
	d.hexMemo.mu.Lock()
	if d.hexMemo.cube != c {
		d.hexMemo.cube, d.hexMemo.sums = c, make(map[string]map[uint64]agg)
	}
	if m, ok := d.hexMemo.sums[key]; ok {
		d.hexMemo.mu.Unlock()
		return m, nil
	}
	d.hexMemo.mu.Unlock()

	hc, err := c.hexCells(ctx, res)
	if err != nil {
		return nil, err
	}
	gw, known := c.whatIndex(w)
	out := make(map[uint64]agg)
	if known {
		a, b := c.monthsOf(p)
		for mi := a; mi < b; mi++ {
			// A month of a fine resolution holds many cells: look at ctx
			// once per month.
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("public H3 sums: %w", err)
			}
			for i := range hc[mi] {
				h := &hc[mi][i]
				if (w.Kind != 0 && h.kind != uint8(w.Kind)) || (gw >= 0 && int(h.group) != gw) {
					continue
				}
				s := out[h.cell]
				s.add(h.n, h.key)
				out[h.cell] = s
			}
		}
	}
	d.hexMemo.mu.Lock()
	if d.hexMemo.cube == c {
		if len(d.hexMemo.sums) >= hexMemoMax {
			clear(d.hexMemo.sums)
		}
		d.hexMemo.sums[key] = out
	}
	d.hexMemo.mu.Unlock()
	return out, nil
}

// Cells returns the published counts of the H3 cells at res (each the
// whole cell, whatever units it overlaps) for the events of f in period p.
// Use it with the fixed cell sets of UnitCells and RegionCells.
func (d *Discloser) Cells(ctx context.Context, snap *analytics.Snapshot, res int, p analytics.Period, f analytics.Filter, cells []uint64, now time.Time) ([]Published, error) {
	if err := d.CheckPeriod(p, now); err != nil {
		return nil, err
	}
	f.Unit = "" // whole cells
	w, err := d.CheckFilter(f)
	if err != nil {
		return nil, err
	}
	c, err := d.cubeFor(ctx, snap)
	if err != nil {
		return nil, err
	}
	sums, err := d.hexSums(ctx, c, res, p, w)
	if err != nil {
		return nil, err
	}
	kHex, ph, wh := strHash("hex"), strHash(p.Label), strHash(c.canonical(w).name())
	out := make([]Published, len(cells))
	for i, cell := range cells {
		out[i] = d.publish(sums[cell], cellName{kHex, ph, mix64(cell), wh})
	}
	return out, nil
}

// Hexbins is the public answer to q at now: every cell of the fixed set
// of q.Filter.Unit (UnitCells; every region's without a unit), zeros
// included, with its protected count (whole cells).
func (d *Discloser) Hexbins(ctx context.Context, snap *analytics.Snapshot, q analytics.HexbinQuery, now time.Time) (analytics.HexbinResult, error) {
	res := analytics.HexbinResult{Snapshot: snap.Version(), Res: q.Res}
	if q.Res < MinRes || q.Res > MaxRes {
		return res, fmt.Errorf("res %d: the public sees H3 resolutions %d..%d; an analyst token unlocks finer ones: %w", q.Res, MinRes, MaxRes, ErrNotPublic)
	}
	if err := d.CheckPeriod(q.Period, now); err != nil {
		return res, err
	}
	if _, err := d.CheckFilter(q.Filter); err != nil {
		return res, err
	}
	var cells []uint64
	var err error
	if q.Filter.Unit != "" {
		if _, err := d.scopeOf(snap, q.Filter.Unit); err != nil {
			return res, err
		}
		cells, err = d.UnitCells(ctx, q.Filter.Unit, q.Res)
	} else {
		cells, err = d.RegionCells(ctx, snap, q.Res)
	}
	if err != nil {
		return res, err
	}
	pubs, err := d.Cells(ctx, snap, q.Res, q.Period, q.Filter, cells, now)
	if err != nil {
		return res, err
	}
	res.Bins = make([]analytics.Hexbin, len(cells))
	for i, cell := range cells {
		res.Bins[i] = analytics.Hexbin{Cell: cell}
		res.Bins[i].Count, res.Bins[i].Bounds = pubs[i].Count()
	}
	return res, nil
}

// UnitCells is the fixed set of public H3 cells of a unit at res: the
// cells whose centres lie inside its boundary (geo.PolygonToCells). It
// depends on the boundary only, never on events.
func (d *Discloser) UnitCells(ctx context.Context, code string, res int) ([]uint64, error) {
	if res < MinRes || res > MaxRes {
		return nil, fmt.Errorf("res %d: the public sees H3 resolutions %d..%d; an analyst token unlocks finer ones: %w", res, MinRes, MaxRes, ErrNotPublic)
	}
	k := areaKey{code, res}
	d.areaMu.Lock()
	cells, ok := d.areas[k]
	d.areaMu.Unlock()
	if ok {
		return cells, nil
	}
	if d.cfg.Areas == nil {
		return nil, fmt.Errorf("public hexbins: no boundaries configured: %w", ErrNotPublic)
	}
	mp, err := d.cfg.Areas(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("boundary of %s: %w", code, err)
	}
	if cells, err = geo.PolygonToCells(mp, res); err != nil {
		return nil, err
	}
	d.areaMu.Lock()
	d.areas[k] = cells
	d.areaMu.Unlock()
	return cells, nil
}

// RegionCells is the union of the UnitCells of every region of snap,
// sorted; computed once per resolution and set of regions (callers must
// not modify it).
func (d *Discloser) RegionCells(ctx context.Context, snap *analytics.Snapshot, res int) ([]uint64, error) {
	regions, err := snap.UnitsAt(geo.LevelRegion, "")
	if err != nil {
		return nil, err
	}
	var codes []string
	for _, r := range regions {
		if info := snap.UnitAt(r); !info.Unknown {
			codes = append(codes, info.Code)
		}
	}
	key := areaKey{code: "regions:" + strings.Join(codes, ","), res: res}
	d.areaMu.Lock()
	cells, ok := d.areas[key]
	d.areaMu.Unlock()
	if ok {
		return cells, nil
	}
	var out []uint64
	for _, code := range codes {
		// Each unit is one fill of tens of milliseconds (cached after).
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("public cells of the regions: %w", err)
		}
		cells, err := d.UnitCells(ctx, code, res)
		if err != nil {
			return nil, err
		}
		out = append(out, cells...)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	d.areaMu.Lock()
	d.areas[key] = out
	d.areaMu.Unlock()
	return out, nil
}

// Prepare builds what the public answers of snap need once (the public
// cube, its H3 tables and the fixed cells of every region at every public
// resolution), so that the first public requests after a start or a new
// snapshot do not pay for it.
func (d *Discloser) Prepare(ctx context.Context, snap *analytics.Snapshot) error {
	c, err := d.cubeFor(ctx, snap)
	if err != nil {
		return err
	}
	for res := MinRes; res <= MaxRes; res++ {
		if _, err := c.hexCells(ctx, res); err != nil {
			return err
		}
		if d.cfg.Areas != nil {
			if _, _, err := d.RegionCellsIn(ctx, snap, res, orb.Bound{}); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkCells is how many cells an H3 loop handles between two looks at its
// context: a few milliseconds of work.
const checkCells = 1 << 12

// cellIndex holds fixed public cells sorted by the longitude of their
// centres, for box queries.
type cellIndex struct {
	src      []uint64 // the RegionCells slice it indexes
	cells    []uint64
	lon, lat []float64
}

// RegionCellsIn returns the cells of RegionCells at res whose centres lie
// in box, with their centres. The centres are computed once per
// resolution and set of regions.
func (d *Discloser) RegionCellsIn(ctx context.Context, snap *analytics.Snapshot, res int, box orb.Bound) ([]uint64, []orb.Point, error) {
	all, err := d.RegionCells(ctx, snap, res)
	if err != nil {
		return nil, nil, err
	}
	d.areaMu.Lock()
	ix := d.centres[res]
	d.areaMu.Unlock()
	if len(all) == 0 {
		return nil, nil, nil
	}
	if ix == nil || len(ix.src) != len(all) || &ix.src[0] != &all[0] {
		// Two H3 calls a cell over every public cell of the regions (about
		// a microsecond each): look at ctx as it goes.
		ix = &cellIndex{src: all, cells: slices.Clone(all)}
		lon := make([]float64, len(all))
		for i, c := range ix.cells {
			if i&(checkCells-1) == 0 {
				if err := ctx.Err(); err != nil {
					return nil, nil, fmt.Errorf("public cell centres: %w", err)
				}
			}
			_, lon[i] = geo.CellToLatLng(c)
		}
		ord := make([]int, len(all))
		for i := range ord {
			ord[i] = i
		}
		slices.SortFunc(ord, func(a, b int) int { return cmp.Compare(lon[a], lon[b]) })
		cells := make([]uint64, len(all))
		ix.lon, ix.lat = make([]float64, len(all)), make([]float64, len(all))
		for i, o := range ord {
			if i&(checkCells-1) == 0 {
				if err := ctx.Err(); err != nil {
					return nil, nil, fmt.Errorf("public cell centres: %w", err)
				}
			}
			cells[i] = ix.cells[o]
			ix.lat[i], ix.lon[i] = geo.CellToLatLng(cells[i])
		}
		ix.cells = cells
		d.areaMu.Lock()
		d.centres[res] = ix
		d.areaMu.Unlock()
	}
	lo, _ := slices.BinarySearch(ix.lon, box.Min[0])
	var cells []uint64
	var pts []orb.Point
	for i := lo; i < len(ix.lon) && ix.lon[i] <= box.Max[0]; i++ {
		if ix.lat[i] >= box.Min[1] && ix.lat[i] <= box.Max[1] {
			cells = append(cells, ix.cells[i])
			pts = append(pts, orb.Point{ix.lon[i], ix.lat[i]})
		}
	}
	return cells, pts, nil
}
