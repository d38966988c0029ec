package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/store"
)

// The mahalla categories of the report come from the stored classification
// run of the period (the one the public map shows): how many mahallas of
// the territory are red, yellow and green, how they moved since the
// previous period, which have been red 3 and 5 years running (that changes
// who answers for them) and the worst ones with their grounds.

// RunSource gives the latest classification run of a period;
// store.RunStore satisfies it.
type RunSource interface {
	LatestRun(ctx context.Context, period string) (classify.Run, error)
}

// TopMahallas is how many of the worst mahallas the report lists.
const TopMahallas = 10

// MahallaLine is one mahalla of the categories section.
type MahallaLine struct {
	Code, Name, District string
	Category             classify.Category
	Transition           string
	RedYears             int
	Score                float64
	// Rule decided the category (catalogue key "reason.<rule>"); Fired are
	// the indicators over their thresholds.
	Rule  string
	Fired []classify.IndicatorResult
}

// Categories is the mahalla categories section.
type Categories struct {
	RunID                       int64
	PolicyName, PolicyVersion   string
	Red, Yellow, Green          int
	Transitions                 []TransitionCount
	RedThreeYears, RedFiveYears []MahallaLine
	Top                         []MahallaLine
	// All are every mahalla of the territory, worst first (the map).
	All []MahallaLine
}

// TransitionCount counts the mahallas of one change of category
// ("yellow->red", "same", "new").
type TransitionCount struct {
	Transition string
	Mahallas   int
}

// AddCategories fills r.Mahallas from the latest run of the period; a
// period without a run leaves it nil (the writers say so).
func (r *Report) AddCategories(ctx context.Context, src RunSource, snap *analytics.Snapshot) error {
	run, err := src.LatestRun(ctx, r.Period.Label)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("report categories: %w", err)
	}
	in := func(res *classify.Result) bool {
		switch r.Unit.Code {
		case res.Mahalla, res.District:
			return true
		}
		if _, d, ok := snap.Unit(res.District); ok && d.Parent >= 0 {
			return snap.UnitAt(d.Parent).Code == r.Unit.Code
		}
		return false
	}
	c := &Categories{RunID: run.ID, PolicyName: run.PolicyName, PolicyVersion: run.PolicyVersion}
	trans := map[string]int{}
	var all []MahallaLine
	for i := range run.Results {
		res := &run.Results[i]
		if !in(res) {
			continue
		}
		switch res.Category {
		case classify.Red:
			c.Red++
		case classify.Yellow:
			c.Yellow++
		case classify.Green:
			c.Green++
		}
		trans[res.Transition]++
		m := MahallaLine{Code: res.Mahalla, Name: res.Name, District: res.District, Category: res.Category,
			Transition: res.Transition, RedYears: res.RedYears, Score: res.Score, Rule: res.Rule}
		for _, ind := range res.Indicators {
			if ind.Fired {
				m.Fired = append(m.Fired, ind)
			}
		}
		all = append(all, m)
		if res.RedYears >= 5 {
			c.RedFiveYears = append(c.RedFiveYears, m)
		} else if res.RedYears >= 3 {
			c.RedThreeYears = append(c.RedThreeYears, m)
		}
	}
	for t, n := range trans {
		c.Transitions = append(c.Transitions, TransitionCount{Transition: t, Mahallas: n})
	}
	slices.SortFunc(c.Transitions, func(x, y TransitionCount) int {
		return cmp.Or(cmp.Compare(y.Mahallas, x.Mahallas), cmp.Compare(x.Transition, y.Transition))
	})
	rank := func(m MahallaLine) int {
		return map[classify.Category]int{classify.Red: 0, classify.Yellow: 1, classify.Green: 2}[m.Category]
	}
	slices.SortFunc(all, func(x, y MahallaLine) int {
		return cmp.Or(cmp.Compare(rank(x), rank(y)), cmp.Compare(y.Score, x.Score), cmp.Compare(x.Code, y.Code))
	})
	c.All = all
	c.Top = all[:min(len(all), TopMahallas)]
	r.Mahallas = c
	return nil
}

// transitionLabel names a change of category in l's language.
func transitionLabel(l Localizer, tf func(string, ...any) string, t string) string {
	if from, to, ok := cutArrow(t); ok {
		return tf("transition.change", l.T("mahalla_category."+from), l.T("mahalla_category."+to))
	}
	return l.T("transition." + t)
}

func cutArrow(t string) (string, string, bool) {
	for i := 0; i+1 < len(t); i++ {
		if t[i] == '-' && t[i+1] == '>' {
			return t[:i], t[i+2:], true
		}
	}
	return "", "", false
}
