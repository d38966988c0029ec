package server

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/go-chi/chi/v5"
)

// Classification endpoints: runs (frozen red/yellow/green classifications
// of every mahalla for a period) are created by POST /v1/classification/runs
// and read back by id, as the latest of a period, or as a diff of two runs.

// runStore returns the store's run persistence (both backends have it).
func (s *Server) runStore() (store.RunStore, error) {
	rs, ok := s.cfg.Store.(store.RunStore)
	if !ok || s.cfg.Store == nil {
		return nil, fmt.Errorf("classification runs: the store does not keep them: %w", errUnavailable)
	}
	return rs, nil
}

// runMetaJSON is a run without its results.
type runMetaJSON struct {
	ID              int64     `json:"id"`
	Href            string    `json:"href"`
	Period          string    `json:"period"`
	PeriodFrom      time.Time `json:"period_from"`
	PeriodTo        time.Time `json:"period_to"`
	Unit            string    `json:"unit,omitempty"` // results restricted to this region or district
	PolicyName      string    `json:"policy_name"`
	PolicyVersion   string    `json:"policy_version"`
	SnapshotVersion uint64    `json:"snapshot_version"`
	DataVersion     int64     `json:"data_version"`
	// InputVersion is the store's input version the run classified
	// (classify.Run.InputVersion); null for runs stored before it was
	// recorded.
	InputVersion *int64 `json:"input_version"`
	// InputsAt is the store's clock when the run's snapshot read its
	// inputs; null with InputVersion.
	InputsAt  *time.Time `json:"inputs_at"`
	CreatedAt time.Time  `json:"created_at"`
	// CreatedBy is who stored the run: the ID of the admin token that
	// POSTed it, "cli" for `crimemap classify`, "" for older runs.
	CreatedBy string `json:"created_by"`
}

func runHref(id int64) string { return "/v1/classification/runs/" + strconv.FormatInt(id, 10) }

func toRunMetaJSON(r *classify.Run) runMetaJSON {
	var (
		input *int64
		at    *time.Time
	)
	if r.InputVersion > 0 {
		input = &r.InputVersion
	}
	if !r.InputsAt.IsZero() {
		t := r.InputsAt.UTC()
		at = &t
	}
	return runMetaJSON{InputVersion: input, InputsAt: at, ID: r.ID, Href: runHref(r.ID), Period: r.Period, PeriodFrom: r.PeriodFrom.UTC(), PeriodTo: r.PeriodTo.UTC(), Unit: r.Unit,
		PolicyName: r.PolicyName, PolicyVersion: r.PolicyVersion, SnapshotVersion: r.SnapshotVersion,
		DataVersion: r.DataVersion, CreatedAt: r.CreatedAt.UTC(), CreatedBy: r.CreatedBy}
}

// categoryCounts counts results per category, every category present.
type categoryCounts struct {
	Red    int `json:"red"`
	Yellow int `json:"yellow"`
	Green  int `json:"green"`
	Total  int `json:"total"`
}

func (c *categoryCounts) add(cat classify.Category) {
	switch cat {
	case classify.Red:
		c.Red++
	case classify.Yellow:
		c.Yellow++
	case classify.Green:
		c.Green++
	}
	c.Total++
}

// runJSON is a run with (some of) its results and their counts.
type runJSON struct {
	runMetaJSON
	// District is the district the results are filtered to ("" for all).
	District string            `json:"district,omitempty"`
	Counts   categoryCounts    `json:"counts"`
	Results  []classify.Result `json:"results"`
	Notice   string            `json:"notice,omitempty"`
}

func (s *Server) toRunJSON(r *classify.Run, district string) runJSON {
	out := runJSON{runMetaJSON: toRunMetaJSON(r), District: district, Results: []classify.Result{}, Notice: s.cfg.Notice}
	for i := range r.Results {
		res := &r.Results[i]
		if district != "" && res.District != district {
			continue
		}
		out.Results = append(out.Results, *res)
		out.Counts.add(res.Category)
	}
	return out
}

// runPeriod reads the period parameter as a label ("2025-Q3"), normalised
// as the classifier names periods.
func (s *Server) runPeriod(q query, required bool) (string, error) {
	if q.str("period") == "" {
		if !required {
			return "", nil
		}
		// Runs are named by period labels: no from/to here.
		return "", &ParamError{Param: "period", Allowed: "a period label as the classifier names it: 2025, 2025-H1, 2025-Q3, 2025-07 or 2025-W28"}
	}
	p, _, err := q.period(true)
	if err != nil {
		return "", err
	}
	return p.Label, nil
}

func (s *Server) handleRuns(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	period, err := s.runPeriod(q, false)
	if err != nil {
		return err
	}
	limit, err := q.intRange("limit", store.DefaultLimit, 1, store.MaxLimit)
	if err != nil {
		return err
	}
	rs, err := s.runStore()
	if err != nil {
		return err
	}
	runs, err := rs.Runs(r.Context(), store.RunQuery{Period: period, Limit: limit})
	if err != nil {
		return err
	}
	out := make([]runMetaJSON, len(runs))
	for i := range runs {
		out[i] = toRunMetaJSON(&runs[i])
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"period": period, "runs": out})
	return nil
}

// runID reads a run id from the path or query parameter name.
func runID(name, v string) (int64, error) {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, &ParamError{Param: name, Value: v, Allowed: "a run id (a positive integer)"}
	}
	return id, nil
}

func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) error {
	id, err := runID("id", chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	q := s.query(r)
	district, err := s.districtParam(r, q)
	if err != nil {
		return err
	}
	rs, err := s.runStore()
	if err != nil {
		return err
	}
	run, err := rs.Run(r.Context(), id)
	if err != nil {
		return fmt.Errorf("classification run %d: %w", id, err)
	}
	if err := s.runView(w, r, &run, district); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, s.toRunJSON(&run, district))
	return nil
}

// runView applies the view of the request to a run: exact results for
// analysts (of the district, or of the run's unit), and for everyone else
// the public view: the run's period must be published and every result
// keeps its category (the programme's public output, decided by an admin
// run) but loses what is computed from exact counts (reasons, indicators,
// score, rank, what-if).
func (s *Server) runView(w http.ResponseWriter, r *http.Request, run *classify.Run, district string) error {
	area := district
	if area == "" {
		area = run.Unit
	}
	exact, err := s.exactFor(r.Context(), area)
	if err != nil {
		return err
	}
	s.view(w, exact)
	if exact {
		return nil
	}
	per, err := analytics.ParsePeriod(run.Period, s.cfg.Location)
	if err != nil {
		return fmt.Errorf("classification run %d: period %q: %w", run.ID, run.Period, err)
	}
	if err := s.disclose.CheckPeriod(per, s.cfg.Now()); err != nil {
		return err
	}
	results := make([]classify.Result, len(run.Results))
	for i := range run.Results {
		results[i] = publicResult(run.Results[i])
	}
	run.Results = results
	return nil
}

// publicResult is a classification result as the public sees it.
func publicResult(r classify.Result) classify.Result {
	return classify.Result{Mahalla: r.Mahalla, Name: r.Name, District: r.District, Population: r.Population,
		Category: r.Category, Previous: r.Previous, Transition: r.Transition, Streak: r.Streak, RedYears: r.RedYears,
		Reasons: []string{}, Indicators: []classify.IndicatorResult{},
		Notes: []string{"reasons, indicators, score, rank and what-if are computed from exact counts: they need an analyst token"}}
}

// districtParam reads district= and checks it names a district.
func (s *Server) districtParam(r *http.Request, q query) (string, error) {
	code := q.str("district")
	if code == "" {
		return "", nil
	}
	if s.cfg.Store == nil {
		return "", fmt.Errorf("district %q: no store: %w", code, errUnavailable)
	}
	u, err := s.cfg.Store.Unit(r.Context(), code)
	if err != nil {
		return "", fmt.Errorf("district %q: %w", code, err)
	}
	if u.Level != geo.LevelDistrict {
		return "", &ParamError{Param: "district", Value: code, Allowed: "a district code (this is a " + string(u.Level) + ")"}
	}
	return code, nil
}

// handleClassification answers the latest run of a period, its results
// optionally filtered to one district.
func (s *Server) handleClassification(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	period, err := s.runPeriod(q, true)
	if err != nil {
		return err
	}
	district, err := s.districtParam(r, q)
	if err != nil {
		return err
	}
	if exact, err := s.exactFor(r.Context(), district); err != nil {
		return err
	} else if !exact {
		per, _, err := q.period(true)
		if err != nil {
			return err
		}
		if err := s.disclose.CheckPeriod(per, s.cfg.Now()); err != nil {
			return err
		}
	}
	rs, err := s.runStore()
	if err != nil {
		return err
	}
	run, err := rs.LatestRun(r.Context(), period)
	if err != nil {
		return fmt.Errorf("no classification run for period %s (POST /v1/classification/runs creates one): %w", period, err)
	}
	if err := s.runView(w, r, &run, district); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, s.toRunJSON(&run, district))
	return nil
}

// ---- diff ----

// Causes of a change between two runs (see diffRuns and classify.Inputs).
const (
	CausePolicy            = classify.CausePolicy
	CauseNewData           = classify.CauseNewData
	CauseLateRegistrations = classify.CauseLateRegistrations
	CausePeriod            = classify.CausePeriod
	CauseDataUnknown       = classify.CauseDataUnknown
	CauseUnexplained       = classify.CauseUnexplained
)

// diffHeuristic documents how causes are attributed; the API returns it.
const diffHeuristic = "Each run records the input version it classified (input_version: it rises with every write of events, units, " +
	"boundaries or population, and not when a run is stored). Run-level causes: 'policy change' when the policy name or version differ; " +
	"'new data' when the input versions differ; 'late registrations' when, besides, both runs classify the same period and events of " +
	"the period (in the runs' unit) were first recorded by the store between the two runs' inputs_at (late_registrations counts them for analysts); " +
	"'data unknown' when a run has no input version (stored before it was recorded): whether the data differ cannot be told; " +
	"'different period' when the periods differ. Two runs of one period, one policy and the same input version list no cause. " +
	"Per mahalla: 'policy change' when the policy differs and an indicator was added or dropped, a threshold changed, an indicator fired " +
	"differently or the category changed with the same values, or a value changed with the same period and inputs; 'new data' (and " +
	"'late registrations' as for the run) when the inputs differ and an indicator value changed; 'data unknown' when a value changed and " +
	"a run has no input version; 'different period' when the periods differ and an indicator value changed; 'unexplained' otherwise " +
	"(e.g. only the history of earlier runs changed)."

type indicatorChangeJSON struct {
	Name            string   `json:"name"`
	Before          *float64 `json:"before"` // null: the indicator is new
	After           *float64 `json:"after"`  // null: the indicator was dropped
	BeforeThreshold *float64 `json:"before_threshold,omitempty"`
	AfterThreshold  *float64 `json:"after_threshold,omitempty"`
	BeforeFired     bool     `json:"before_fired"`
	AfterFired      bool     `json:"after_fired"`
}

type mahallaDiffJSON struct {
	Mahalla  string            `json:"mahalla"`
	Name     string            `json:"name"`
	District string            `json:"district"`
	Before   classify.Category `json:"before"` // "" when absent from run a
	After    classify.Category `json:"after"`  // "" when absent from run b
	// Direction: "worse" (towards red), "better", "same" (indicators only),
	// "added" or "removed".
	Direction  string                `json:"direction"`
	Indicators []indicatorChangeJSON `json:"indicators"`
	Causes     []string              `json:"causes"`
}

type diffSummaryJSON struct {
	Changed  int `json:"changed"`  // mahallas listed
	Category int `json:"category"` // of them with another category
	Worse    int `json:"worse"`
	Better   int `json:"better"`
	Added    int `json:"added"`
	Removed  int `json:"removed"`
}

type diffJSON struct {
	A      runMetaJSON `json:"a"`
	B      runMetaJSON `json:"b"`
	Causes []string    `json:"causes"`
	// LateRegistrations counts the events of the period first recorded
	// between the runs (0 unless both classify the same period with
	// different inputs); null in the public view (an exact count of
	// events: the public gets the cause, not the number).
	LateRegistrations *int              `json:"late_registrations"`
	Heuristic         string            `json:"heuristic"`
	Summary           diffSummaryJSON   `json:"summary"`
	Mahallas          []mahallaDiffJSON `json:"mahallas"`
}

func (s *Server) handleRunDiff(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	var ids [2]int64
	for i, name := range []string{"a", "b"} {
		v := q.str(name)
		if v == "" {
			return &ParamError{Param: name, Allowed: "a run id: the diff compares run a (before) with run b (after)"}
		}
		var err error
		if ids[i], err = runID(name, v); err != nil {
			return err
		}
	}
	district, err := s.districtParam(r, q)
	if err != nil {
		return err
	}
	rs, err := s.runStore()
	if err != nil {
		return err
	}
	var runs [2]classify.Run
	exact := true
	for i, id := range ids {
		if runs[i], err = rs.Run(r.Context(), id); err != nil {
			return fmt.Errorf("classification run %d (parameter %s): %w", id, []string{"a", "b"}[i], err)
		}
		if err := s.runView(w, r, &runs[i], district); err != nil {
			return err
		}
		exact = exact && w.Header().Get("X-Crimemap-View") == viewExact
	}
	in, err := store.CompareRuns(r.Context(), rs, &runs[0], &runs[1])
	if err != nil {
		return err
	}
	out := diffRuns(&runs[0], &runs[1], in, district)
	if !exact {
		out.LateRegistrations = nil
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// diffRuns lists the mahallas (of district, or all) whose category or
// indicators differ between run a (before) and b (after), with causes
// attributed by the heuristic in diffHeuristic from in, what differs
// between the runs' inputs (store.CompareRuns).
func diffRuns(a, b *classify.Run, in classify.Inputs, district string) diffJSON {
	out := diffJSON{A: toRunMetaJSON(a), B: toRunMetaJSON(b), Causes: in.Causes(), LateRegistrations: &in.Late,
		Heuristic: diffHeuristic, Mahallas: []mahallaDiffJSON{}}

	before := make(map[string]*classify.Result, len(a.Results))
	for i := range a.Results {
		before[a.Results[i].Mahalla] = &a.Results[i]
	}
	after := make(map[string]*classify.Result, len(b.Results))
	for i := range b.Results {
		after[b.Results[i].Mahalla] = &b.Results[i]
	}
	var codes []string
	for c := range before {
		codes = append(codes, c)
	}
	for c := range after {
		if before[c] == nil {
			codes = append(codes, c)
		}
	}
	slices.Sort(codes)
	for _, code := range codes {
		ra, rb := before[code], after[code]
		ref := rb
		if ref == nil {
			ref = ra
		}
		if district != "" && ref.District != district {
			continue
		}
		d := mahallaDiffJSON{Mahalla: code, Name: ref.Name, District: ref.District, Indicators: []indicatorChangeJSON{}, Causes: []string{}}
		switch {
		case ra == nil:
			d.After, d.Direction = rb.Category, "added"
			out.Summary.Added++
		case rb == nil:
			d.Before, d.Direction = ra.Category, "removed"
			out.Summary.Removed++
		default:
			d.Before, d.After = ra.Category, rb.Category
			var valuesChanged, rulesChanged bool
			d.Indicators, valuesChanged, rulesChanged = indicatorChanges(ra.Indicators, rb.Indicators)
			if d.Before == d.After && len(d.Indicators) == 0 {
				continue
			}
			switch ra, rb := d.Before.Rank(), d.After.Rank(); {
			case rb > ra:
				d.Direction = "worse"
				out.Summary.Worse++
			case rb < ra:
				d.Direction = "better"
				out.Summary.Better++
			default:
				d.Direction = "same"
			}
			if d.Before != d.After {
				out.Summary.Category++
				if !valuesChanged {
					rulesChanged = true // same values, another category: the rules decided differently
				}
			}
			if in.PolicyChanged && rulesChanged {
				d.Causes = append(d.Causes, CausePolicy)
			}
			if valuesChanged {
				for _, c := range in.ValueCauses() {
					if !slices.Contains(d.Causes, c) {
						d.Causes = append(d.Causes, c)
					}
				}
			}
			if len(d.Causes) == 0 {
				d.Causes = append(d.Causes, CauseUnexplained)
			}
		}
		if d.Direction == "added" || d.Direction == "removed" {
			d.Causes = append(d.Causes, slices.Clone(out.Causes)...)
			if len(d.Causes) == 0 {
				d.Causes = append(d.Causes, CauseUnexplained)
			}
		}
		out.Mahallas = append(out.Mahallas, d)
	}
	out.Summary.Changed = len(out.Mahallas)
	return out
}

// indicatorChanges compares two indicator lists by name; valuesChanged
// reports a value that differs, rulesChanged an indicator added or dropped
// (the policy defines them), a threshold that differs or a firing that
// changed with the same value.
func indicatorChanges(a, b []classify.IndicatorResult) (out []indicatorChangeJSON, valuesChanged, rulesChanged bool) {
	out = []indicatorChangeJSON{}
	byName := make(map[string]*classify.IndicatorResult, len(a))
	for i := range a {
		byName[a[i].Name] = &a[i]
	}
	seen := make(map[string]bool, len(b))
	for i := range b {
		ib := &b[i]
		seen[ib.Name] = true
		ia := byName[ib.Name]
		if ia == nil {
			out = append(out, indicatorChangeJSON{Name: ib.Name, After: num(ib.Value), AfterThreshold: ib.Threshold, AfterFired: ib.Fired})
			rulesChanged = true // the policy defines the indicators
			continue
		}
		valueDiff := ia.Value != ib.Value
		thresholdDiff := !sameThreshold(ia.Threshold, ib.Threshold)
		if !valueDiff && !thresholdDiff && ia.Fired == ib.Fired {
			continue
		}
		out = append(out, indicatorChangeJSON{Name: ib.Name, Before: num(ia.Value), After: num(ib.Value),
			BeforeThreshold: ia.Threshold, AfterThreshold: ib.Threshold, BeforeFired: ia.Fired, AfterFired: ib.Fired})
		valuesChanged = valuesChanged || valueDiff
		rulesChanged = rulesChanged || thresholdDiff || (!valueDiff && ia.Fired != ib.Fired)
	}
	for i := range a {
		if !seen[a[i].Name] {
			out = append(out, indicatorChangeJSON{Name: a[i].Name, Before: num(a[i].Value), BeforeThreshold: a[i].Threshold, BeforeFired: a[i].Fired})
			rulesChanged = true
		}
	}
	slices.SortStableFunc(out, func(x, y indicatorChangeJSON) int { return cmp.Compare(x.Name, y.Name) })
	return out, valuesChanged, rulesChanged
}

func sameThreshold(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
