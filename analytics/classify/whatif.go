package classify

import (
	"math"
	"slices"
)

// maxWhatIf bounds the number of indicators a what-if may change.
const maxWhatIf = 6

// whatIf finds the smallest set of indicator changes that moves a mahalla
// of category cat down (red to at most yellow, yellow to green): the
// fewest indicators, then the smallest total relative change
// (sum of |to-from| / max(|from|, |to|)), then the earliest indicators in
// policy order. Indicators move only in their improving direction (down
// for direction above, up for below) and only to the nearest values across
// a cut (a threshold or a rule's gte; counts by whole numbers, other
// values by 0.01), or to 0; the rules are re-evaluated with the changed
// values (the score and the district rank too). A yellow mahalla reaches
// green only without registered crime (unless the policy's default is
// green): its what-if is RegisteredCrimes -> 0. Nil for green, or when no
// change of at most maxWhatIf indicators suffices.
func (e *engine) whatIf(vals []float64, crimes int64, cat Category, rank func(float64) int) *WhatIf {
	if cat == Green {
		return nil
	}
	target := Yellow
	if cat == Yellow {
		target = Green
	}
	if cat == Yellow && e.pol.Default != Green {
		return &WhatIf{Target: Green, Changes: []Change{{Indicator: RegisteredCrimes, From: float64(crimes), To: 0}}}
	}
	// Candidates per indicator, nearest first.
	var idx []int
	var cands [][]float64
	for i, v := range vals {
		if c := e.candidates(i, v); len(c) > 0 {
			idx = append(idx, i)
			cands = append(cands, c)
		}
	}
	try := slices.Clone(vals)
	ok := func() bool {
		c, _ := e.decide(try, crimes, rank)
		return c.Rank() <= target.Rank()
	}
	combo := make([]int, 0, maxWhatIf)
	choice := make([]int, maxWhatIf)
	for size := 1; size <= min(maxWhatIf, len(idx)); size++ {
		var best []Change
		bestCost := math.Inf(1)
		var walk func(start int)
		walk = func(start int) {
			if len(combo) == size {
				// Feasible at all? The farthest candidates are the most
				// favourable (the rules are monotone in each indicator).
				for _, j := range combo {
					try[idx[j]] = cands[j][len(cands[j])-1]
				}
				feasible := ok()
				for _, j := range combo {
					try[idx[j]] = vals[idx[j]]
				}
				if !feasible {
					return
				}
				// Every combination of candidates, for the cheapest.
				for k := range choice[:size] {
					choice[k] = 0
				}
				for {
					cost := 0.0
					for k, j := range combo {
						to := cands[j][choice[k]]
						try[idx[j]] = to
						from := vals[idx[j]]
						cost += math.Abs(to-from) / math.Max(math.Max(math.Abs(from), math.Abs(to)), 1e-9)
					}
					if cost < bestCost && ok() {
						bestCost = cost
						best = best[:0]
						for k, j := range combo {
							best = append(best, Change{Indicator: e.pol.Indicators[idx[j]].Name, From: vals[idx[j]], To: cands[j][choice[k]]})
						}
					}
					k := 0
					for ; k < size; k++ {
						choice[k]++
						if choice[k] < len(cands[combo[k]]) {
							break
						}
						choice[k] = 0
					}
					if k == size {
						break
					}
				}
				for _, j := range combo {
					try[idx[j]] = vals[idx[j]]
				}
				return
			}
			for j := start; j < len(idx); j++ {
				combo = append(combo, j)
				walk(j + 1)
				combo = combo[:len(combo)-1]
			}
		}
		walk(0)
		if best != nil {
			c, _ := e.decide(apply(vals, e, best), crimes, rank)
			return &WhatIf{Target: c, Changes: best}
		}
	}
	if cat == Yellow {
		return &WhatIf{Target: Green, Changes: []Change{{Indicator: RegisteredCrimes, From: float64(crimes), To: 0}}}
	}
	return nil
}

// apply returns vals with the changes applied (RegisteredCrimes is not an
// indicator value and is skipped).
func apply(vals []float64, e *engine, changes []Change) []float64 {
	out := slices.Clone(vals)
	for _, c := range changes {
		if i := e.pol.IndicatorIndex(c.Indicator); i >= 0 {
			out[i] = c.To
		}
	}
	return out
}

// candidates lists the values indicator i may move to from v in its
// improving direction, nearest first.
func (e *engine) candidates(i int, v float64) []float64 {
	info := e.info[i]
	var out []float64
	add := func(x float64) {
		if x != v && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	if e.pol.Indicators[i].Direction == Below {
		if e.hasThr[i] && v <= e.thr[i] {
			x := justAbove(e.thr[i], info.integer)
			if !info.share || x <= 1 {
				add(x)
			}
		}
		slices.Sort(out)
		return out
	}
	cuts := []float64{}
	if e.hasThr[i] {
		cuts = append(cuts, e.thr[i])
	}
	for _, r := range e.rules {
		if r.ind == i {
			cuts = append(cuts, r.gte)
		}
	}
	for _, c := range cuts {
		if v >= c {
			add(justBelow(c, info.integer))
		}
	}
	if !info.signed && v > 0 {
		add(0)
	}
	// Nearest first: the largest values below v.
	slices.SortFunc(out, func(a, b float64) int {
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
	if !info.signed {
		out = slices.DeleteFunc(out, func(x float64) bool { return x < 0 })
	}
	return out
}

// justBelow is the largest value below c on the grid (whole numbers for
// counts, 0.01 otherwise).
func justBelow(c float64, integer bool) float64 {
	if integer {
		return math.Ceil(c) - 1
	}
	x := (math.Ceil(c*100-1e-9) - 1) / 100
	for x >= c {
		x -= 0.01
	}
	return round4(x)
}

// justAbove is the smallest value above c on the grid.
func justAbove(c float64, integer bool) float64 {
	if integer {
		return math.Floor(c) + 1
	}
	x := (math.Floor(c*100+1e-9) + 1) / 100
	for x <= c {
		x += 0.01
	}
	return round4(x)
}
