package audit

import "fmt"

// Referee keeps the truth beside a Lattice: the exact count of every
// published cell (from an analyst's answers), used to admit only true
// constraints and to score the attack, never to narrow a published
// interval (except remainders, below).
type Referee struct {
	L         *Lattice
	truth     map[int]int64
	known     map[int]bool
	sensitive map[int]bool
	// Skipped counts constraints left out because the truth contradicts
	// them (a parent whose children do not add up to it).
	Skipped int
}

// NewReferee returns a Referee over a new Lattice.
func NewReferee() *Referee {
	return &Referee{L: New(), truth: make(map[int]int64), known: make(map[int]bool), sensitive: make(map[int]bool)}
}

// Cell adds a published cell with its interval and true count; sensitive
// cells are scored apart.
func (r *Referee) Cell(name string, lo, hi, truth int64, sensitive bool) error {
	i, err := r.L.Cell(name, lo, hi)
	if err != nil {
		return err
	}
	if old, ok := r.truth[i]; ok && old != truth {
		return fmt.Errorf("cell %s: true count %d and %d", name, old, truth)
	}
	r.truth[i] = truth
	if sensitive {
		r.sensitive[i] = true
	}
	return nil
}

// Truth returns the true count of cell name.
func (r *Referee) Truth(name string) (int64, bool) {
	i, ok := r.L.Has(name)
	if !ok {
		return 0, false
	}
	t, ok := r.truth[i]
	return t, ok
}

// Sum adds parent = sum(children) when every cell is known and the truth
// confirms it. With remainder, a parent whose children add up to less
// gets one more child, "rest|parent", holding the difference exactly: the
// events of a unit assigned to none of its children, given to the
// attacker exactly (a stronger attacker than the public one, who has only
// their interval). It reports whether a constraint was added.
func (r *Referee) Sum(parent string, children []string, remainder bool) bool {
	pi, ok := r.L.Has(parent)
	if !ok {
		return false
	}
	var sum int64
	for _, c := range children {
		ci, ok := r.L.Has(c)
		if !ok {
			return false
		}
		sum += r.truth[ci]
	}
	rest := r.truth[pi] - sum
	switch {
	case rest == 0:
	case rest < 0 || !remainder:
		r.Skipped++
		return false
	default:
		name := "rest|" + parent
		i, err := r.L.Cell(name, rest, rest)
		if err != nil {
			r.Skipped++
			return false
		}
		r.truth[i], r.known[i] = rest, true
		children = append(children[:len(children):len(children)], name)
	}
	return r.L.Sum(parent, children)
}

// Score is the outcome of an attack over the published cells (remainders
// given exactly are not scored).
type Score struct {
	Cells, Pinned, PinnedZero int
	// Small: cells with a true count of 1-4, and of them pinned.
	Small, SmallPinned int
	// Sensitive cells, those pinned at a value of 1 or more, and those
	// pinned at 0.
	Sensitive, SensitivePinned, SensitivePinnedZero int
}

// Score checks that every interval still holds its true count (an error
// otherwise: a published interval was wrong) and counts the pinned cells.
func (r *Referee) Score() (Score, error) {
	var s Score
	for i := 0; i < r.L.Len(); i++ {
		if r.known[i] {
			continue
		}
		name, lo, hi := r.L.Interval(i)
		tv := r.truth[i]
		if tv < lo || tv > hi {
			return s, fmt.Errorf("%s: true %d outside the propagated [%d,%d]", name, tv, lo, hi)
		}
		s.Cells++
		pinned := lo == hi
		if pinned {
			s.Pinned++
			if tv == 0 {
				s.PinnedZero++
			}
		}
		if tv >= 1 && tv <= 4 {
			s.Small++
			if pinned {
				s.SmallPinned++
			}
		}
		if r.sensitive[i] {
			s.Sensitive++
			switch {
			case pinned && tv >= 1:
				s.SensitivePinned++
			case pinned:
				s.SensitivePinnedZero++
			}
		}
	}
	return s, nil
}
