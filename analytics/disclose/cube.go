package disclose

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/crimemap/crimemap/analytics"
)

// cube holds the finest cells of the public lattice for one snapshot:
// per month, the count and record-key sum of every (place, category
// group, kind) and, per public H3 resolution, of every (cell, group,
// kind). Every public answer is a sum of its cells, so public answers
// never read events and cost little more than the analysts' exact ones.
type cube struct {
	snap     *analytics.Snapshot
	months   []analytics.Period
	monthIdx map[int64]int // months[i].From.Unix() -> i

	groups     []string       // public category groups, sorted
	groupIdx   map[string]int // group name -> index
	groupOf    []uint16       // snapshot category index -> group
	groupKinds []uint8        // bit k-1: the group occurs with kind k
	places     []place        // distinct unit triples of the events
	unit       [][]ucell      // per month
	discloser  *Discloser

	hexMu sync.Mutex
	hex   [MaxRes - MinRes + 1][][]hcell // per resolution, per month; nil until built
}

// place is where events are: their region, district and mahalla (table
// indexes, -1 when unassigned) and whether they have a location.
type place struct {
	lev [3]int32
	loc bool
}

type ucell struct {
	place int32
	group uint16
	kind  uint8
	n     int32
	key   uint32
}

type hcell struct {
	cell  uint64
	group uint16
	kind  uint8
	n     int32
	key   uint32
}

// checkRows is how many event rows a cube build reads between two looks at
// its context (besides one look per month): a few milliseconds of work at
// most, so that a cancelled build of a month of millions of events stops
// promptly.
const checkRows = 1 << 16

// cubeFor returns the cube of snap, building it once (concurrent callers
// wait for one build).
func (d *Discloser) cubeFor(ctx context.Context, snap *analytics.Snapshot) (*cube, error) {
	for {
		d.mu.Lock()
		if c := d.cube; c != nil && c.snap == snap {
			d.mu.Unlock()
			return c, nil
		}
		if d.building != nil && d.buildSnap == snap.Version() {
			ch := d.building
			d.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, fmt.Errorf("public cube: %w", ctx.Err())
			}
		}
		ch := make(chan struct{})
		d.building, d.buildSnap = ch, snap.Version()
		d.mu.Unlock()

		c, err := d.buildCube(ctx, snap)
		d.mu.Lock()
		if err == nil && (d.cube == nil || d.cube.snap.Version() <= snap.Version()) {
			d.cube = c
		}
		if d.building == ch {
			d.building = nil
		}
		d.mu.Unlock()
		close(ch)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

func (d *Discloser) buildCube(ctx context.Context, snap *analytics.Snapshot) (*cube, error) {
	c := &cube{snap: snap, monthIdx: make(map[int64]int), groupIdx: make(map[string]int), discloser: d}
	cats := snap.Categories()
	names := make(map[string]bool)
	for _, name := range cats {
		names[d.PublicCategory(name)] = true
	}
	c.groups = sortedKeys(names)
	for i, g := range c.groups {
		c.groupIdx[g] = i
	}
	c.groupOf = make([]uint16, len(cats))
	c.groupKinds = make([]uint8, len(c.groups))
	cols := snap.Columns()
	for i, name := range cats {
		c.groupOf[i] = uint16(c.groupIdx[d.PublicCategory(name)])
	}
	n := snap.Len()
	if n == 0 {
		return c, nil
	}
	first := time.Unix(cols.At[0], 0).In(d.cfg.Location)
	last := time.Unix(cols.At[n-1], 0).In(d.cfg.Location)
	placeIdx := make(map[place]int32)
	for y, m := first.Year(), first.Month(); y < last.Year() || (y == last.Year() && m <= last.Month()); {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("public cube: %w", err)
		}
		mp, err := analytics.ParsePeriod(fmt.Sprintf("%04d-%02d", y, int(m)), d.cfg.Location)
		if err != nil {
			return nil, fmt.Errorf("public cube: month %d-%d: %w", y, m, err)
		}
		c.monthIdx[mp.From.Unix()] = len(c.months)
		c.months = append(c.months, mp)
		lo, hi := snap.Rows(mp.From, mp.To)
		cells := make([]ucell, 0, 64)
		at := make(map[uint64]int)
		lastPl, lastIdx := place{lev: [3]int32{-2, -2, -2}}, int32(-1)
		for r := lo; r < hi; r++ {
			if (r-lo)&(checkRows-1) == checkRows-1 {
				if err := ctx.Err(); err != nil {
					return nil, fmt.Errorf("public cube: %w", err)
				}
			}
			pl := place{lev: [3]int32{cols.Region[r], cols.District[r], cols.Mahalla[r]}, loc: cols.Cell[r] != 0}
			pi := lastIdx
			if pl != lastPl {
				var ok bool
				if pi, ok = placeIdx[pl]; !ok {
					pi = int32(len(c.places))
					placeIdx[pl] = pi
					c.places = append(c.places, pl)
				}
				lastPl, lastIdx = pl, pi
			}
			g := c.groupOf[cols.Category[r]]
			k := cols.Kind[r]
			c.groupKinds[g] |= 1 << (k - 1)
			key := uint64(pi)<<24 | uint64(g)<<8 | uint64(k)
			i, ok := at[key]
			if !ok {
				i = len(cells)
				at[key] = i
				cells = append(cells, ucell{place: pi, group: g, kind: k})
			}
			cells[i].n++
			cells[i].key += d.recordKey(cols.RecordKey[r])
		}
		c.unit = append(c.unit, cells)
		if m++; m > 12 {
			y, m = y+1, 1
		}
	}
	return c, nil
}

// hexCells returns the H3 cube at res, building it on first use.
func (c *cube) hexCells(ctx context.Context, res int) ([][]hcell, error) {
	if res < MinRes || res > MaxRes {
		return nil, fmt.Errorf("res %d: the public sees H3 resolutions %d..%d; an analyst token unlocks finer ones: %w", res, MinRes, MaxRes, ErrNotPublic)
	}
	i := res - MinRes
	c.hexMu.Lock()
	defer c.hexMu.Unlock()
	if c.hex[i] == nil {
		h, err := c.buildHex(ctx, res)
		if err != nil {
			return nil, err
		}
		c.hex[i] = h
	}
	return c.hex[i], nil
}

func (c *cube) buildHex(ctx context.Context, res int) ([][]hcell, error) {
	cols := c.snap.Columns()
	out := make([][]hcell, len(c.months))
	type hkey struct {
		cell  uint64
		group uint16
		kind  uint8
	}
	for mi, mp := range c.months {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("public H3 cube: %w", err)
		}
		lo, hi := c.snap.Rows(mp.From, mp.To)
		at := make(map[hkey]int)
		var cells []hcell
		rd := c.snap.CellsAt(res).Reader(lo)
		for r := lo; r < hi; r++ {
			if (r-lo)&(checkRows-1) == checkRows-1 {
				if err := ctx.Err(); err != nil {
					return nil, fmt.Errorf("public H3 cube: %w", err)
				}
			}
			p := rd.At(int32(r))
			if p == 0 {
				continue
			}
			k := hkey{p, c.groupOf[cols.Category[r]], cols.Kind[r]}
			i, ok := at[k]
			if !ok {
				i = len(cells)
				at[k] = i
				cells = append(cells, hcell{cell: p, group: k.group, kind: k.kind})
			}
			cells[i].n++
			cells[i].key += c.discloser.recordKey(cols.RecordKey[r])
		}
		slices.SortFunc(cells, func(a, b hcell) int { return cmp.Compare(a.cell, b.cell) })
		out[mi] = cells
	}
	return out, nil
}

// monthsOf returns the indexes [a, b) of the cube's months that make up
// period p (a month, quarter, half or year); months outside the data are
// simply empty.
func (c *cube) monthsOf(p analytics.Period) (a, b int) {
	a, b = len(c.months), len(c.months)
	for i, m := range c.months {
		if !m.From.Before(p.From) {
			a = i
			break
		}
	}
	for i := a; i < len(c.months); i++ {
		if !c.months[i].From.Before(p.To) {
			return a, i
		}
	}
	return a, b
}

// whatIndex is the index of w's category group (-1 for every category);
// ok is false when the snapshot has no such group (its cells are empty).
func (c *cube) whatIndex(w What) (gw int, ok bool) {
	if w.Category == "" {
		return -1, true
	}
	g, found := c.groupIdx[w.Category]
	if !found {
		return -2, false
	}
	return g, true
}

// canonical returns w with a kind dropped that adds nothing to its
// category group (the group occurs with that kind only), so that the same
// cell asked two ways has one name.
func (c *cube) canonical(w What) What {
	if w.Kind != 0 && w.Category != "" {
		if g, ok := c.groupIdx[w.Category]; ok && c.groupKinds[g]&^(1<<(w.Kind-1)) == 0 {
			w.Kind = 0
		}
	}
	return w
}
