// Package audit plays the bounds-propagation attack on published
// intervals: given cells with intervals [lo, hi] that hold their true
// counts and additive constraints (a parent cell is the sum of its
// children: a quarter of its months, a district of its mahallas and its
// unassigned remainder, a kind of its categories), it narrows every
// interval as far as interval arithmetic allows and reports the cells it
// pins to one value. The attack suites of crimemap use it against the
// public answers; it is kept out of test files so that an operator can
// audit a release the same way.
package audit

import (
	"context"
	"fmt"
)

// Lattice is a set of cells with intervals and sum constraints.
type Lattice struct {
	lo, hi []int64
	names  []string
	index  map[string]int
	cons   []constraint
}

type constraint struct {
	parent   int
	children []int
}

// New returns an empty Lattice.
func New() *Lattice { return &Lattice{index: make(map[string]int)} }

// Cell adds the cell name with the interval [lo, hi], or intersects the
// interval of a cell of that name already added (the same cell published
// twice must agree: Cell reports an error when the intervals are disjoint).
// It returns the cell's index.
func (l *Lattice) Cell(name string, lo, hi int64) (int, error) {
	if lo < 0 {
		lo = 0
	}
	if i, ok := l.index[name]; ok {
		nlo, nhi := max(l.lo[i], lo), min(l.hi[i], hi)
		if nlo > nhi {
			return i, fmt.Errorf("cell %s published as [%d,%d] and [%d,%d]", name, l.lo[i], l.hi[i], lo, hi)
		}
		l.lo[i], l.hi[i] = nlo, nhi
		return i, nil
	}
	i := len(l.lo)
	l.index[name] = i
	l.names = append(l.names, name)
	l.lo = append(l.lo, lo)
	l.hi = append(l.hi, hi)
	return i, nil
}

// Has returns the index of the cell name.
func (l *Lattice) Has(name string) (int, bool) {
	i, ok := l.index[name]
	return i, ok
}

// Sum adds the constraint parent = sum of children (cell names that must
// have been added). Constraints naming unknown cells are ignored and
// reported by the false result.
func (l *Lattice) Sum(parent string, children []string) bool {
	p, ok := l.index[parent]
	if !ok || len(children) == 0 {
		return false
	}
	cs := make([]int, len(children))
	for i, c := range children {
		j, ok := l.index[c]
		if !ok {
			return false
		}
		cs[i] = j
	}
	l.cons = append(l.cons, constraint{parent: p, children: cs})
	return true
}

// Len is the number of cells; Constraints the number of constraints.
func (l *Lattice) Len() int         { return len(l.lo) }
func (l *Lattice) Constraints() int { return len(l.cons) }

// Interval returns the current interval of cell i and its name.
func (l *Lattice) Interval(i int) (name string, lo, hi int64) { return l.names[i], l.lo[i], l.hi[i] }

// Propagate narrows the intervals until nothing changes (or rounds
// passes are done): for parent = sum(children),
//
//	parent in [sum lo_i, sum hi_i]
//	child_j in [lo_p - sum_{i!=j} hi_i, hi_p - sum_{i!=j} lo_i]
//
// It returns the number of rounds run, and an error when an interval
// becomes empty (the published intervals contradict each other: one of
// them does not hold its true count).
func (l *Lattice) Propagate(ctx context.Context, rounds int) (int, error) {
	for r := 1; r <= rounds; r++ {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		changed := false
		for _, c := range l.cons {
			var slo, shi int64
			for _, j := range c.children {
				slo += l.lo[j]
				shi += l.hi[j]
			}
			p := c.parent
			if slo > l.lo[p] {
				l.lo[p], changed = slo, true
			}
			if shi < l.hi[p] {
				l.hi[p], changed = shi, true
			}
			for _, j := range c.children {
				nlo := l.lo[p] - (shi - l.hi[j])
				nhi := l.hi[p] - (slo - l.lo[j])
				if nlo > l.lo[j] {
					slo += nlo - l.lo[j]
					l.lo[j], changed = nlo, true
				}
				if nhi < l.hi[j] {
					shi -= l.hi[j] - nhi
					l.hi[j], changed = nhi, true
				}
				if l.lo[j] > l.hi[j] {
					return r, fmt.Errorf("cell %s: empty interval [%d,%d] after round %d", l.names[j], l.lo[j], l.hi[j], r)
				}
			}
			if l.lo[p] > l.hi[p] {
				return r, fmt.Errorf("cell %s: empty interval [%d,%d] after round %d", l.names[p], l.lo[p], l.hi[p], r)
			}
		}
		if !changed {
			return r, nil
		}
	}
	return rounds, nil
}

// Pinned lists the cells whose interval is a single value.
func (l *Lattice) Pinned() []int {
	var out []int
	for i := range l.lo {
		if l.lo[i] == l.hi[i] {
			out = append(out, i)
		}
	}
	return out
}
