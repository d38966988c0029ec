package analytics

import (
	"fmt"
	"math/bits"
	"runtime"
	"sync"

	"github.com/crimemap/crimemap/geo"
)

// parallelRows: row ranges at least this long are split across two
// goroutines (the per-goroutine counts are merged).
const parallelRows = 1 << 18

// checkPeriod rejects an empty or reversed period.
func checkPeriod(p Period, field string) error {
	if p.From.IsZero() || p.To.IsZero() {
		return fmt.Errorf("%w: %s: from and to are required", ErrBadQuery, field)
	}
	if !p.From.Before(p.To) {
		return fmt.Errorf("%w: %s: from %s is not before to %s", ErrBadQuery, field, p.From, p.To)
	}
	return nil
}

// group is one value of a grouping dimension: its index in the dense
// counts and its label.
type group struct {
	idx   int
	label string
}

// groups returns the values of dim (restricted by the filter where it
// selects values), in natural order, and the width of the counts.
func (s *Snapshot) groups(dim Dimension, m *matcher) ([]group, int, error) {
	switch dim {
	case DimNone:
		return []group{{0, ""}}, 1, nil
	case DimKind:
		var gs []group
		for _, k := range Kinds {
			if m.kindMask == 0 || m.kindMask>>k&1 != 0 {
				gs = append(gs, group{int(k) - 1, k.String()})
			}
		}
		return gs, len(Kinds), nil
	case DimCategory:
		var gs []group
		for _, c := range s.catOrder {
			if m.cats != nil && !m.cats[c] {
				continue
			}
			if m.kindMask != 0 && (s.catKinds[c]<<1)&m.kindMask == 0 {
				continue // a category of other kinds only
			}
			gs = append(gs, group{int(c), s.categories[c]})
		}
		return gs, max(len(s.categories), 1), nil
	case DimSeverity:
		var gs []group
		for sv := SeverityUnknown; sv <= SeverityEspeciallyGrave; sv++ {
			if m.sevMask == 0 || m.sevMask>>sv&1 != 0 {
				gs = append(gs, group{int(sv), severityLabel(sv)})
			}
		}
		return gs, int(SeverityEspeciallyGrave) + 1, nil
	case DimFlag:
		gs := make([]group, len(FlagNames))
		for i, f := range FlagNames {
			gs[i] = group{bits.TrailingZeros16(uint16(f.Flag)), f.Name}
		}
		return gs, 16, nil
	}
	return nil, 0, fmt.Errorf("%w: group %q (want kind, category, severity or flag)", ErrBadQuery, string(dim))
}

// severityLabel names a severity group ("unknown" for SeverityUnknown).
func severityLabel(sv Severity) string {
	if sv == SeverityUnknown {
		return "unknown"
	}
	return sv.String()
}

// statsTotals are the Total, NoLocation and Unassigned of a StatsResult.
type statsTotals struct{ total, noLocation, unassigned int64 }

func (t *statsTotals) add(o statsTotals) {
	t.total += o.total
	t.noLocation += o.noLocation
	t.unassigned += o.unassigned
}

// Stats counts the events of q.Period per unit of q.Level (and group),
// with rates and comparisons. Rows cover every unit of the level inside
// q.Filter.Unit, zero rows included (plus any unit of the level that has
// events matching the filter although the unit table puts it elsewhere),
// sorted by unit code then group in natural order (kinds and flags in
// storage order, categories by name, severities by gravity). With a group,
// every unit gets one row per group value the filter allows (categories:
// those that occur with the filtered kinds).
func (s *Snapshot) Stats(q StatsQuery) (StatsResult, error) {
	res := StatsResult{Snapshot: s.version, Period: q.Period, Level: q.Level}
	slot := q.Level.Rank()
	if slot < 0 {
		return res, fmt.Errorf("%w: level %q: %w", ErrBadQuery, string(q.Level), geo.ErrUnknownLevel)
	}
	if err := checkPeriod(q.Period, "period"); err != nil {
		return res, err
	}
	m, err := s.compile(q.Filter)
	if err != nil {
		return res, err
	}
	gs, width, err := s.groups(q.Group, m)
	if err != nil {
		return res, err
	}
	off := s.levelOff[slot]
	nLevel := int(s.levelOff[slot+1] - off)

	count := func(p Period, tot *statsTotals) []int64 {
		lo, hi := s.rowRange(p.From, p.To)
		return s.countStats(m, lo, hi, slot, q.Group, width, nLevel, tot)
	}
	var tot statsTotals
	cur := count(q.Period, &tot)
	res.Total, res.NoLocation, res.Unassigned = tot.total, tot.noLocation, tot.unassigned
	var prev, last []int64
	var prevP, lastP Period
	if q.ComparePrevious {
		prevP = q.Period.Previous()
		prev = count(prevP, nil)
	}
	if q.CompareLastYear {
		lastP = q.Period.LastYear()
		last = count(lastP, nil)
	}

	// Rows: the units inside the filter unit, plus strays with counts.
	in := make([]bool, nLevel)
	var units []int32
	for _, u := range s.unitsAt(slot, m.unit) {
		if p := int(u - off); p >= 0 && p < nLevel && !in[p] {
			in[p] = true
			units = append(units, u)
		}
	}
	stray := false
	for p := range nLevel {
		if in[p] {
			continue
		}
		for _, c := range [...][]int64{cur, prev, last} {
			if c != nil && anyNonZero(c[p*width:(p+1)*width]) {
				in[p], stray = true, true
				break
			}
		}
	}
	if stray { // rebuild in code order (the level's units are sorted by code)
		units = units[:0]
		for p := range nLevel {
			if in[p] {
				units = append(units, off+int32(p))
			}
		}
	}

	nRows := len(units) * len(gs)
	res.Rows = make([]StatsRow, 0, nRows)
	var prevC, lastC []Comparison
	if prev != nil {
		prevC = make([]Comparison, 0, nRows)
	}
	if last != nil {
		lastC = make([]Comparison, 0, nRows)
	}
	for _, u := range units {
		info := &s.units[u]
		base := int(u-off) * width
		pop, popYear := info.PopulationAt(q.Period)
		for _, g := range gs {
			c := cur[base+g.idx]
			row := StatsRow{
				Unit: info.Code, Name: info.Name, Group: g.label, Count: c,
				Population: pop, PopulationYear: popYear, Rate: RatePer1000(c, pop),
			}
			if prev != nil {
				prevC = append(prevC, Compare(c, prev[base+g.idx], prevP))
				info.MarkBoundaryChange(&prevC[len(prevC)-1], q.Period)
				row.Previous = &prevC[len(prevC)-1]
			}
			if last != nil {
				lastC = append(lastC, Compare(c, last[base+g.idx], lastP))
				info.MarkBoundaryChange(&lastC[len(lastC)-1], q.Period)
				row.LastYear = &lastC[len(lastC)-1]
			}
			res.Rows = append(res.Rows, row)
		}
	}
	return res, nil
}

func anyNonZero(xs []int64) bool {
	for _, x := range xs {
		if x != 0 {
			return true
		}
	}
	return false
}

// countStats counts the matching rows of [lo, hi) into dense counts
// [unit position in the level * width + group]; tot (if not nil) gets the
// totals. Long ranges are split across two goroutines.
func (s *Snapshot) countStats(m *matcher, lo, hi, slot int, dim Dimension, width, nLevel int, tot *statsTotals) []int64 {
	counts := make([]int64, nLevel*width)
	if hi-lo < parallelRows || runtime.GOMAXPROCS(0) < 2 {
		t := s.countStatsRange(m, lo, hi, slot, dim, width, nLevel, counts)
		if tot != nil {
			tot.add(t)
		}
		return counts
	}
	mid := lo + (hi-lo)/2
	other := make([]int64, len(counts))
	var t2 statsTotals
	var wg sync.WaitGroup
	wg.Go(func() { t2 = s.countStatsRange(m, mid, hi, slot, dim, width, nLevel, other) })
	t1 := s.countStatsRange(m, lo, mid, slot, dim, width, nLevel, counts)
	wg.Wait()
	for i, v := range other {
		counts[i] += v
	}
	if tot != nil {
		tot.add(t1)
		tot.add(t2)
	}
	return counts
}

// countStatsRange is the typed loop of countStats over one row range.
func (s *Snapshot) countStatsRange(m *matcher, lo, hi, slot int, dim Dimension, width, nLevel int, counts []int64) statsTotals {
	var t statsTotals
	lev, cell := s.levels[slot], s.cell
	off, nl := s.levelOff[slot], uint32(nLevel)
	kind, cat, sev, flags := s.kind, s.cat, s.sev, s.flags
	m.each(lo, hi, func(sel []int32) {
		t.total += int64(len(sel))
		for _, r := range sel {
			p := uint32(lev[r] - off) // unassigned (-1) wraps past nl
			if p >= nl {
				if cell[r] != 0 {
					t.unassigned++
				}
				continue
			}
			base := int(p) * width
			switch dim {
			case DimNone:
				counts[base]++
			case DimKind:
				counts[base+int(kind[r])-1]++
			case DimCategory:
				counts[base+int(cat[r])]++
			case DimSeverity:
				counts[base+int(sev[r])]++
			case DimFlag:
				for f := flags[r]; f != 0; f &= f - 1 {
					counts[base+bits.TrailingZeros16(f)]++
				}
			}
		}
		for _, r := range sel {
			if cell[r] == 0 {
				t.noLocation++
			}
		}
	})
	return t
}
