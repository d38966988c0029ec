package classify

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb"
)

// Rule names that are not policy rules.
const (
	// RuleNoCrime is the built-in first rule: no registered crime in the
	// period makes a mahalla green.
	RuleNoCrime = "no_registered_crime"
	// RuleDefault decides a mahalla with crime that matches no rule
	// (Policy.Default).
	RuleDefault = "default"
)

// Input is what Classify classifies.
type Input struct {
	// Snapshot holds the events and the unit table (populations, parents).
	Snapshot *analytics.Snapshot
	// Policy to apply (DefaultPolicy when nil).
	Policy *Policy
	// Period to classify (e.g. a quarter from analytics.ParsePeriod in
	// Asia/Tashkent). Years for RedYears are cut in Period.From's zone.
	Period analytics.Period
	// Unit restricts the results to the mahallas inside a region or
	// district (or one mahalla); "" classifies every mahalla. Ranks,
	// smoothing and hot spots still use whole districts (or regions).
	Unit string
	// History holds earlier runs, newest first, of any period kind (the
	// store's runs). For each period the first (newest) run counts.
	// Previous, Transition and Streak use the runs of the periods just
	// before Period (Period.Previous(), then its Previous(), ...);
	// RedYears uses every run (see Result.RedYears and Classify).
	History []Run
	// Boundaries returns a district's boundary (lon/lat) for the
	// hotspot_share indicator; nil, or an empty boundary, sets the share to
	// 0 with a note. An error fails the classification. It is called
	// once per district, from several goroutines at a time.
	Boundaries func(code string) (orb.MultiPolygon, error)
	// Now stamps Run.CreatedAt.
	Now time.Time
}

// engine is a policy resolved for one period kind.
type engine struct {
	pol     *Policy
	info    []kindInfo
	thr     []float64
	hasThr  []bool
	rules   []crule
	anyRank bool
}

// crule is a rule with indicator names resolved to positions.
type crule struct {
	all, any, of []int
	minFired     int
	ind          int // -1 without an indicator/gte condition
	gte          float64
	rankTop      int
}

// newEngine resolves thresholds and rules for period kind k.
func newEngine(p *Policy, k analytics.PeriodKind) (*engine, error) {
	kinds := indicatorKinds()
	e := &engine{pol: p}
	for _, in := range p.Indicators {
		e.info = append(e.info, kinds[in.Kind])
		t, ok := in.Threshold.For(k)
		if in.Threshold.Set() && !ok {
			return nil, fmt.Errorf("%w: %s: indicator %q has no threshold for %s periods (add %s: or default:)",
				ErrPolicy, p.Source, in.Name, k, k)
		}
		e.thr = append(e.thr, t)
		e.hasThr = append(e.hasThr, ok)
	}
	idx := func(ns []string) []int {
		out := make([]int, len(ns))
		for i, n := range ns {
			out[i] = p.IndicatorIndex(n)
		}
		return out
	}
	for _, r := range p.Rules {
		c := crule{all: idx(r.All), any: idx(r.Any), minFired: r.MinFired, ind: -1, rankTop: r.RankTop}
		if r.MinFired > 0 {
			if len(r.Of) > 0 {
				c.of = idx(r.Of)
			} else {
				for i := range p.Indicators {
					c.of = append(c.of, i)
				}
			}
		}
		if r.Indicator != "" {
			c.ind = p.IndicatorIndex(r.Indicator)
			g, ok := r.GTE.For(k)
			if !ok {
				return nil, fmt.Errorf("%w: %s: rule %q has no gte for %s periods (add %s: or default:)", ErrPolicy, p.Source, r.Name, k, k)
			}
			c.gte = g
		}
		if r.RankTop > 0 {
			e.anyRank = true
		}
		e.rules = append(e.rules, c)
	}
	return e, nil
}

// fired reports whether indicator i fires at value v.
func (e *engine) fired(i int, v float64) bool {
	if !e.hasThr[i] {
		return false
	}
	if e.pol.Indicators[i].Direction == Below {
		return v <= e.thr[i]
	}
	return v >= e.thr[i]
}

// maxExceedance caps one indicator's share of the score.
const maxExceedance = 3

// score is the weighted sum of each thresholded indicator's exceedance:
// value/threshold (direction above) or threshold/value (below), capped at
// 3; for a threshold <= 0 (z kinds) 1 when fired, else 0.
func (e *engine) score(vals []float64) float64 {
	var s float64
	for i, v := range vals {
		w := e.pol.Indicators[i].Weight
		if !e.hasThr[i] || w == 0 {
			continue
		}
		t := e.thr[i]
		var x float64
		switch {
		case t <= 0:
			if e.fired(i, v) {
				x = 1
			}
		case e.pol.Indicators[i].Direction == Below:
			if v <= 0 {
				x = maxExceedance
			} else {
				x = t / v
			}
		default:
			x = v / t
		}
		s += w * min(max(x, 0), maxExceedance)
	}
	return s
}

// decide applies the rules: it returns the category and the rule position
// (-1 the built-in green rule, -2 the default). rank gives the mahalla's
// rank in its district for a score.
func (e *engine) decide(vals []float64, crimes int64, rank func(score float64) int) (Category, int) {
	if crimes == 0 {
		return Green, -1
	}
	fired := func(i int) bool { return e.fired(i, vals[i]) }
	var sc float64
	scored := false
rules:
	for ri := range e.rules {
		r := &e.rules[ri]
		for _, i := range r.all {
			if !fired(i) {
				continue rules
			}
		}
		if len(r.any) > 0 && !slices.ContainsFunc(r.any, fired) {
			continue
		}
		if r.minFired > 0 {
			n := 0
			for _, i := range r.of {
				if fired(i) {
					n++
				}
			}
			if n < r.minFired {
				continue
			}
		}
		if r.ind >= 0 && !(vals[r.ind] >= r.gte) {
			continue
		}
		if r.rankTop > 0 {
			if !scored {
				sc, scored = e.score(vals), true
			}
			if sc <= 0 || rank(sc) > r.rankTop {
				continue
			}
		}
		return e.pol.Rules[ri].Category, ri
	}
	return e.pol.Default, -2
}

// mahalla is the working state of one mahalla.
type mahalla struct {
	unit     int32 // index in the unit table
	district int32 // -1 when unknown
	region   int32
	info     analytics.UnitInfo // Population: the period's (PopulationAt)
	popYear  int                // the year of info.Population
	c        counts
	vals     []float64
	score    float64
	rank     int
	notes    []string
}

// Classify classifies the mahallas of in.Unit (every mahalla of the
// snapshot's unit table when "") for in.Period under in.Policy and returns
// the run, with Results sorted by mahalla code. It is deterministic: the
// same input gives the same run.
//
// Per mahalla: indicator values (rates EB-smoothed against the district's
// mahallas, or the region's, see Smoothing), thresholds and fired flags;
// the category and the deciding rule (RuleNoCrime: no registered crime,
// green; else the first policy rule that holds; else RuleDefault); Reasons
// naming the rule and every indicator that fired; Score and Rank within
// the district; Previous and Transition from the run of the previous
// period in in.History; Streak, the consecutive periods of the same kind
// in this category (this one included; a period without a run ends it);
// RedYears, the consecutive calendar years (this one included) in which
// the mahalla was red at the year's last known status, i.e. in the run of
// that year whose period ends last (a yearly run wins over its fourth
// quarter) — 0 when not red now; and WhatIf (see WhatIf).
//
// Unknown mahalla codes (on events but not in the unit table) are not
// classified. Errors wrap ErrPolicy, analytics.ErrBadQuery or
// analytics.ErrUnknownUnit, or the context's error.
func Classify(ctx context.Context, in Input) (Run, error) {
	var run Run
	if err := ctx.Err(); err != nil {
		return run, fmt.Errorf("classify: %w", err)
	}
	if in.Snapshot == nil {
		return run, fmt.Errorf("%w: classify: no snapshot", analytics.ErrBadQuery)
	}
	pol := in.Policy
	if pol == nil {
		pol = DefaultPolicy()
	}
	p := in.Period
	if p.From.IsZero() || p.To.IsZero() || !p.From.Before(p.To) {
		return run, fmt.Errorf("%w: classify: period %q: from must be before to", analytics.ErrBadQuery, p.Label)
	}
	eng, err := newEngine(pol, p.Kind)
	if err != nil {
		return run, err
	}
	snap := in.Snapshot
	cols := snap.Columns()
	units := snap.Units()

	// The mahallas, their districts and regions.
	parentAt := func(u int32, lv geo.Level) int32 {
		for p, hops := units[u].Parent, 0; p >= 0 && hops < 8; p, hops = units[p].Parent, hops+1 {
			if units[p].Level == lv {
				return p
			}
		}
		return -1
	}
	var sel int32 = -1
	if in.Unit != "" {
		i, u, ok := snap.Unit(in.Unit)
		if !ok || u.Unknown {
			return run, fmt.Errorf("classify: unit %q: %w", in.Unit, analytics.ErrUnknownUnit)
		}
		sel = i
	}
	inSel := func(m int32, d, r int32) bool {
		return sel < 0 || sel == m || sel == d || sel == r
	}
	all := make([]*mahalla, 0, len(units))
	byUnit := make([]*mahalla, len(units))
	touched := make(map[int32]bool) // districts with selected mahallas
	var selected []*mahalla
	for i := range units {
		u := &units[i]
		if u.Level != geo.LevelMahalla || u.Unknown {
			continue
		}
		m := &mahalla{unit: int32(i), info: *u, district: parentAt(int32(i), geo.LevelDistrict), region: parentAt(int32(i), geo.LevelRegion)}
		m.info.Population, m.popYear = u.PopulationAt(p) // rates use the period's year
		all = append(all, m)
		byUnit[i] = m
		if inSel(m.unit, m.district, m.region) {
			selected = append(selected, m)
			touched[m.district] = true
		}
	}
	if sel >= 0 && len(selected) == 0 {
		return run, fmt.Errorf("%w: classify: unit %q has no mahallas", analytics.ErrBadQuery, in.Unit)
	}

	// Counts.
	want := make([]bool, len(units))
	for _, m := range all {
		want[m.unit] = true
	}
	cs := make([]counts, len(units))
	lo, hi := snap.Rows(p.From, p.To)
	if err := countPeriod(ctx, &cols, lo, hi, cs, want); err != nil {
		return run, err
	}
	uses := map[IndicatorKind]bool{}
	for _, ind := range pol.Indicators {
		uses[ind.Kind] = true
	}
	var runNotes []string
	if uses[KindChangeZ] {
		ly := p.LastYear()
		llo, lhi := snap.Rows(ly.From, ly.To)
		if err := countLastYear(ctx, &cols, llo, lhi, cs, want); err != nil {
			return run, err
		}
		if len(cols.At) == 0 || cols.At[0] > unixCeil(ly.From) {
			runNotes = append(runNotes, fmt.Sprintf("change_z: the snapshot starts after %s began; last year's counts are incomplete", ly.Label))
		}
	}
	if err := ctx.Err(); err != nil {
		return run, fmt.Errorf("classify: %w", err)
	}
	var hotNotes map[int32]string
	if uses[KindHotspotShare] {
		var districts []int32
		for d := range touched {
			if d >= 0 {
				districts = append(districts, d)
			}
		}
		slices.Sort(districts)
		district := make([]int32, len(units))
		for i := range district {
			district[i] = -1
		}
		for _, m := range all {
			district[m.unit] = m.district
		}
		hot, notes, err := hotCells(ctx, snap, p, districts, units, in.Boundaries)
		if err != nil {
			return run, err
		}
		hotNotes = notes
		if err := countHot(ctx, &cols, snap.CellsAt(HotspotRes), lo, hi, cs, want, district, hot); err != nil {
			return run, err
		}
	}
	for _, m := range all {
		m.c = cs[m.unit]
	}

	// Values: only the mahallas of touched districts are needed (ranks are
	// within districts), but rates are smoothed against whole districts or
	// regions.
	var work []*mahalla
	for _, m := range all {
		if touched[m.district] {
			work = append(work, m)
		}
	}
	days := p.To.Sub(p.From).Hours() / 24
	priors := smoothingPriors(pol, all)
	for _, m := range work {
		m.vals = make([]float64, len(pol.Indicators))
		for i, ind := range pol.Indicators {
			var v float64
			if eng.info[i].rate {
				y := rateCount(ind.Kind, &m.c)
				if ind.Raw || pol.Smoothing.Method == "none" {
					if m.info.Population > 0 {
						v = annualise(float64(y)/float64(m.info.Population), days)
					}
				} else {
					pr := priors.of(ind.Kind, m)
					v = annualise(ebEstimate(y, m.info.Population, pr.m, pr.a), days)
				}
			} else {
				v = rawValue(ind.Kind, &m.c)
			}
			m.vals[i] = round4(v)
		}
		if m.info.Population <= 0 && (uses[KindCrimeRate] || uses[KindGraveRate] || uses[KindOffenceRate]) {
			m.notes = append(m.notes, "population unknown: smoothed rates are the reference mean, raw rates 0")
		}
		if n := hotNotes[m.district]; n != "" {
			m.notes = append(m.notes, n)
		}
		m.notes = append(m.notes, runNotes...)
		m.score = eng.score(m.vals)
	}

	// Ranks within districts.
	byDistrict := map[int32][]*mahalla{}
	for _, m := range work {
		byDistrict[m.district] = append(byDistrict[m.district], m)
	}
	for _, ms := range byDistrict {
		slices.SortFunc(ms, worse)
		for i, m := range ms {
			m.rank = i + 1
		}
	}
	if err := ctx.Err(); err != nil {
		return run, fmt.Errorf("classify: %w", err)
	}

	hist := newHistory(in.History, p)
	run = Run{
		Period: p.Label, PeriodFrom: p.From, PeriodTo: p.To, Unit: in.Unit,
		PolicyName: pol.Name, PolicyVersion: pol.Version(),
		SnapshotVersion: snap.Version(), DataVersion: snap.DataVersion(), InputVersion: snap.InputVersion(), InputsAt: snap.InputsAt(),
		CreatedAt: in.Now,
		Results:   make([]Result, 0, len(selected)),
	}
	slices.SortFunc(selected, func(a, b *mahalla) int { return strings.Compare(a.info.Code, b.info.Code) })
	for i, m := range selected {
		if i&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return Run{}, fmt.Errorf("classify: %w", err)
			}
		}
		peers := byDistrict[m.district]
		rankOf := func(score float64) int { return rankAmong(peers, m, score) }
		cat, ri := eng.decide(m.vals, m.c.crimes, func(float64) int { return m.rank })
		res := Result{
			Mahalla: m.info.Code, Name: m.info.Name, Population: m.info.Population, PopulationYear: m.popYear,
			Category: cat, Score: round4(m.score), Rank: m.rank, Notes: m.notes,
		}
		if m.district >= 0 {
			res.District = units[m.district].Code
		}
		res.Indicators = make([]IndicatorResult, len(pol.Indicators))
		for i, ind := range pol.Indicators {
			ir := IndicatorResult{Name: ind.Name, Value: m.vals[i], Fired: eng.fired(i, m.vals[i]), Unit: eng.info[i].unit}
			if eng.hasThr[i] {
				t := eng.thr[i]
				ir.Threshold = &t
			}
			res.Indicators[i] = ir
		}
		res.Rule, res.Reasons = eng.explain(m, ri, len(peers))
		hist.apply(&res)
		res.WhatIf = eng.whatIf(m.vals, m.c.crimes, cat, rankOf)
		run.Results = append(run.Results, res)
	}
	return run, nil
}

// worse orders mahallas worst first: higher score, then code.
func worse(a, b *mahalla) int {
	if c := cmp.Compare(b.score, a.score); c != 0 {
		return c
	}
	return strings.Compare(a.info.Code, b.info.Code)
}

// rankAmong is m's rank among peers (its district, m included) if its
// score were score.
func rankAmong(peers []*mahalla, m *mahalla, score float64) int {
	r := 1
	for _, o := range peers {
		if o == m {
			continue
		}
		if o.score > score || (o.score == score && o.info.Code < m.info.Code) {
			r++
		}
	}
	return r
}

func unixCeil(t time.Time) int64 {
	u := t.Unix()
	if t.Nanosecond() > 0 {
		u++
	}
	return u
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// prior is an EB prior: mean and variance of the rate per resident.
type prior struct{ m, a float64 }

// priors holds the EB priors per rate kind and reference group.
type priors struct {
	byKind map[IndicatorKind]map[int32]prior
	group  map[int32]int32 // district -> the group its mahallas use
	region bool
}

// smoothingPriors estimates the priors of every smoothed rate kind: per
// district (a district with fewer than MinUnits mahallas of known
// population borrows its region's), or per region.
func smoothingPriors(pol *Policy, all []*mahalla) *priors {
	ps := &priors{byKind: map[IndicatorKind]map[int32]prior{}, group: map[int32]int32{}, region: pol.Smoothing.Reference == "region"}
	known := map[int32]int{}
	for _, m := range all {
		if m.info.Population > 0 {
			known[m.district]++
		}
	}
	for _, m := range all {
		g := m.region
		if !ps.region && known[m.district] >= pol.Smoothing.MinUnits {
			g = m.district
		}
		ps.group[m.district] = g
	}
	if ps.region {
		ps.group = nil
	}
	for _, ind := range pol.Indicators {
		if !indicatorKinds()[ind.Kind].rate || ind.Raw || ps.byKind[ind.Kind] != nil {
			continue
		}
		ys := map[int32][]int64{}
		ns := map[int32][]int64{}
		for _, m := range all {
			g := ps.groupOf(m)
			ys[g] = append(ys[g], rateCount(ind.Kind, &m.c))
			ns[g] = append(ns[g], m.info.Population)
		}
		pk := map[int32]prior{}
		for g := range ys {
			mm, a := ebPrior(ys[g], ns[g])
			pk[g] = prior{mm, a}
		}
		ps.byKind[ind.Kind] = pk
	}
	return ps
}

func (ps *priors) groupOf(m *mahalla) int32 {
	if ps.region {
		return m.region
	}
	return ps.group[m.district]
}

func (ps *priors) of(k IndicatorKind, m *mahalla) prior { return ps.byKind[k][ps.groupOf(m)] }

// fmtValue formats an indicator value for a reason.
func fmtValue(v float64, info kindInfo) string {
	if info.integer {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// explain names the deciding rule and the reasons.
func (e *engine) explain(m *mahalla, ri, peers int) (string, []string) {
	switch ri {
	case -1:
		return RuleNoCrime, []string{"no registered crime in the period"}
	}
	var reasons []string
	var firedNames []string
	for i, ind := range e.pol.Indicators {
		if e.fired(i, m.vals[i]) {
			op := ">="
			if ind.Direction == Below {
				op = "<="
			}
			firedNames = append(firedNames, ind.Name)
			reasons = append(reasons, fmt.Sprintf("%s %s %s %s (%s)", ind.Name, fmtValue(m.vals[i], e.info[i]), op,
				fmtValue(e.thr[i], kindInfo{integer: e.info[i].integer && e.thr[i] == math.Trunc(e.thr[i])}), e.info[i].unit))
		}
	}
	var head string
	if ri == -2 {
		head = fmt.Sprintf("%d registered crimes and no rule matched: %s by default", m.c.crimes, e.pol.Default)
		if len(firedNames) == 0 {
			head += "; no indicator fired"
		}
		return RuleDefault, append([]string{head}, reasons...)
	}
	r := e.pol.Rules[ri]
	cr := e.rules[ri]
	var conds []string
	if len(r.All) > 0 {
		conds = append(conds, "all of "+strings.Join(r.All, ", ")+" fired")
	}
	if len(r.Any) > 0 {
		var hit []string
		for _, i := range cr.any {
			if e.fired(i, m.vals[i]) {
				hit = append(hit, e.pol.Indicators[i].Name)
			}
		}
		conds = append(conds, fmt.Sprintf("any of %s fired (%s)", strings.Join(r.Any, ", "), strings.Join(hit, ", ")))
	}
	if cr.minFired > 0 {
		n := 0
		for _, i := range cr.of {
			if e.fired(i, m.vals[i]) {
				n++
			}
		}
		conds = append(conds, fmt.Sprintf("%d of %d indicators fired (at least %d needed)", n, len(cr.of), cr.minFired))
	}
	if cr.ind >= 0 {
		conds = append(conds, fmt.Sprintf("%s %s >= %s", r.Indicator, fmtValue(m.vals[cr.ind], e.info[cr.ind]),
			strconv.FormatFloat(cr.gte, 'f', -1, 64)))
	}
	if cr.rankTop > 0 {
		conds = append(conds, fmt.Sprintf("rank %d of %d in the district by score %.2f (top %d)", m.rank, peers, m.score, cr.rankTop))
	}
	head = fmt.Sprintf("rule %s (%s): %s", r.Name, r.Category, strings.Join(conds, "; "))
	if len(firedNames) == 0 {
		// Only a gte or rank rule can decide without a fired indicator:
		// name the indicators behind the value or the score.
		var top []string
		for i, ind := range e.pol.Indicators {
			if m.vals[i] != 0 && (e.hasThr[i] || i == cr.ind) {
				top = append(top, fmt.Sprintf("%s %s (%s)", ind.Name, fmtValue(m.vals[i], e.info[i]), e.info[i].unit))
			}
		}
		head += "; no indicator fired; contributing: " + strings.Join(top, ", ")
	} else {
		head += "; fired: " + strings.Join(firedNames, ", ")
	}
	return r.Name, append([]string{head}, reasons...)
}
