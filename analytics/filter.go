package analytics

import (
	"fmt"
	"math"
)

// chunkRows is how many rows a query filters at a time: the selection
// vector (4 bytes a row) stays in L1/L2 cache.
const chunkRows = 8192

// allFlags are the bits of the defined flags.
const allFlags = FlagJuvenile | FlagRecidivist | FlagDomestic | FlagAlcohol | FlagDrugs | FlagPublicPlace | FlagSolved

// matcher is a Filter compiled against one snapshot.
type matcher struct {
	s    *Snapshot
	none bool // no event can match (e.g. only unknown categories)

	unitCol []int32 // column of the filter unit's level; nil without a unit filter
	unitIdx int32
	unit    int32 // index of the filter unit, -1 for none
	slot    int   // level column of the filter unit, -1 for none

	kindMask uint8  // bit k set: kind k matches; 0: every kind
	cats     []bool // by dictionary index; nil: every category
	sevMask  uint8  // bit s set: severity s matches; 0: every severity
	flags    uint16 // every one of these bits set

	bbox                           bool
	minLon, minLat, maxLon, maxLat float32
}

// compile validates f and resolves it against the snapshot. Errors wrap
// ErrBadQuery or ErrUnknownUnit.
func (s *Snapshot) compile(f Filter) (*matcher, error) {
	m := &matcher{s: s, unit: -1, slot: -1}
	for _, k := range f.Kinds {
		if k < KindCrime || k > KindOffence {
			return nil, fmt.Errorf("%w: filter kind %d: %w", ErrBadQuery, k, ErrUnknownKind)
		}
		m.kindMask |= 1 << k
	}
	for _, sv := range f.Severities {
		if sv > SeverityEspeciallyGrave {
			return nil, fmt.Errorf("%w: filter severity %d: %w", ErrBadQuery, sv, ErrUnknownSeverity)
		}
		m.sevMask |= 1 << sv
	}
	if f.Flags&^allFlags != 0 {
		return nil, fmt.Errorf("%w: filter flags %#x: %w", ErrBadQuery, uint16(f.Flags&^allFlags), ErrUnknownFlag)
	}
	m.flags = uint16(f.Flags)
	if len(f.Categories) > 0 {
		idx := make(map[string]int, len(s.categories))
		for i, c := range s.categories {
			idx[c] = i
		}
		m.cats = make([]bool, len(s.categories))
		m.none = true
		for _, c := range f.Categories {
			// A category the snapshot lacks is no error: it has no events.
			if i, ok := idx[c]; ok {
				m.cats[i], m.none = true, false
			}
		}
	}
	slot, u, err := s.unitFilter(f.Unit)
	if err != nil {
		return nil, err
	}
	if u >= 0 {
		m.unit, m.slot, m.unitIdx, m.unitCol = u, slot, u, s.levels[slot]
	}
	if b := f.BBox; b != nil {
		for _, v := range [...]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%w: bbox %v is not finite", ErrBadQuery, *b)
			}
		}
		if b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] {
			return nil, fmt.Errorf("%w: bbox %v: min exceeds max", ErrBadQuery, *b)
		}
		m.bbox = true
		m.minLon, m.minLat = float32(b.Min[0]), float32(b.Min[1])
		m.maxLon, m.maxLat = float32(b.Max[0]), float32(b.Max[1])
	}
	return m, nil
}

// all reports whether the filter matches every event.
func (m *matcher) all() bool {
	return !m.none && m.unitCol == nil && m.kindMask == 0 && m.cats == nil && m.sevMask == 0 && m.flags == 0 && !m.bbox
}

// sel returns the rows of [lo, hi) that match, in order, reusing buf
// (len(buf) >= hi-lo). Each active filter is one tight pass over the
// selection, the most selective (unit) first.
func (m *matcher) sel(lo, hi int, buf []int32) []int32 {
	if m.none {
		return buf[:0]
	}
	s := m.s
	n := 0
	if m.unitCol != nil {
		col, u := m.unitCol[lo:hi], m.unitIdx
		for i, v := range col {
			if v == u {
				buf[n] = int32(lo + i)
				n++
			}
		}
	} else {
		buf = buf[:hi-lo]
		for i := range buf {
			buf[i] = int32(lo + i)
		}
		n = hi - lo
	}
	out := buf[:n]
	if mask := m.kindMask; mask != 0 {
		kind, j := s.kind, 0
		for _, r := range out {
			if mask>>kind[r]&1 != 0 {
				out[j] = r
				j++
			}
		}
		out = out[:j]
	}
	if cats := m.cats; cats != nil {
		cat, j := s.cat, 0
		for _, r := range out {
			if cats[cat[r]] {
				out[j] = r
				j++
			}
		}
		out = out[:j]
	}
	if mask := m.sevMask; mask != 0 {
		sev, j := s.sev, 0
		for _, r := range out {
			if mask>>sev[r]&1 != 0 {
				out[j] = r
				j++
			}
		}
		out = out[:j]
	}
	if want := m.flags; want != 0 {
		flags, j := s.flags, 0
		for _, r := range out {
			if flags[r]&want == want {
				out[j] = r
				j++
			}
		}
		out = out[:j]
	}
	if m.bbox {
		lon, lat, j := s.lon, s.lat, 0
		x0, y0, x1, y1 := m.minLon, m.minLat, m.maxLon, m.maxLat
		for _, r := range out {
			// NaN (no location) fails every comparison.
			if x, y := lon[r], lat[r]; x >= x0 && x <= x1 && y >= y0 && y <= y1 {
				out[j] = r
				j++
			}
		}
		out = out[:j]
	}
	return out
}

// each calls fn with the matching rows of [lo, hi), chunk by chunk.
func (m *matcher) each(lo, hi int, fn func(sel []int32)) {
	if m.none || lo >= hi {
		return
	}
	buf := make([]int32, min(chunkRows, hi-lo))
	for c := lo; c < hi; c += chunkRows {
		fn(m.sel(c, min(c+chunkRows, hi), buf))
	}
}
