package classify

import (
	"time"

	"github.com/crimemap/crimemap/analytics"
)

// periodKey identifies a run's period by its instants.
type periodKey struct{ from, to int64 }

func keyOf(from, to time.Time) periodKey { return periodKey{from.UnixNano(), to.UnixNano()} }

// histRun is the newest run of one period, with its results by mahalla.
type histRun struct {
	run  *Run
	cats map[string]Category
}

func (h *histRun) category(code string) (Category, bool) {
	if h.cats == nil {
		h.cats = make(map[string]Category, len(h.run.Results))
		for i := range h.run.Results {
			h.cats[h.run.Results[i].Mahalla] = h.run.Results[i].Category
		}
	}
	c, ok := h.cats[code]
	return c, ok
}

// history indexes Input.History for one classification.
type history struct {
	period analytics.Period
	runs   map[periodKey]*histRun
	chain  []*histRun // runs of Period.Previous(), its Previous(), ... until a gap
	years  []*histRun // years[i]: the status run of the year i+1 years before Period's
}

// maxChain bounds how far back Streak looks (ten years of weeks).
const maxChain = 600

func newHistory(runs []Run, p analytics.Period) *history {
	h := &history{period: p, runs: make(map[periodKey]*histRun)}
	var distinct []*histRun
	for i := range runs {
		k := keyOf(runs[i].PeriodFrom, runs[i].PeriodTo)
		if _, ok := h.runs[k]; ok {
			continue // an older run of the same period: superseded
		}
		hr := &histRun{run: &runs[i]}
		h.runs[k] = hr
		distinct = append(distinct, hr)
	}
	for q := p.Previous(); len(h.chain) < maxChain && !q.From.IsZero(); q = q.Previous() {
		hr, ok := h.runs[keyOf(q.From, q.To)]
		if !ok {
			break
		}
		h.chain = append(h.chain, hr)
	}
	// Year status runs: the run within the year whose period ends last; on
	// a tie the longer period (a yearly run over its Q4), then the newest.
	loc := p.From.Location()
	year := p.From.In(loc).Year()
	for y := year - 1; y >= 1 && year-y <= 100; y-- {
		start := time.Date(y, 1, 1, 0, 0, 0, 0, loc)
		end := time.Date(y+1, 1, 1, 0, 0, 0, 0, loc)
		var best *histRun
		for _, hr := range distinct {
			f, t := hr.run.PeriodFrom, hr.run.PeriodTo
			if f.Before(start) || t.After(end) {
				continue
			}
			if best == nil || t.After(best.run.PeriodTo) || (t.Equal(best.run.PeriodTo) && f.Before(best.run.PeriodFrom)) {
				best = hr
			}
		}
		if best == nil {
			break
		}
		h.years = append(h.years, best)
	}
	return h
}

// apply sets Previous, Transition, Streak and RedYears of res (whose
// Category is set).
func (h *history) apply(res *Result) {
	res.Transition, res.Streak = "new", 1
	if len(h.chain) > 0 {
		if c, ok := h.chain[0].category(res.Mahalla); ok {
			res.Previous = c
			if c == res.Category {
				res.Transition = "same"
			} else {
				res.Transition = string(c) + "->" + string(res.Category)
			}
		}
	}
	for _, hr := range h.chain {
		c, ok := hr.category(res.Mahalla)
		if !ok || c != res.Category {
			break
		}
		res.Streak++
	}
	res.RedYears = 0
	if res.Category != Red {
		return
	}
	res.RedYears = 1
	for _, hr := range h.years {
		c, ok := hr.category(res.Mahalla)
		if !ok || c != Red {
			break
		}
		res.RedYears++
	}
}
