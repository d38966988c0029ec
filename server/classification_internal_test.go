package server

import (
	"slices"
	"testing"

	"github.com/crimemap/crimemap/analytics/classify"
)

func thr(f float64) *float64 { return &f }

// TestDiffRunsCauses checks the cause heuristic on hand-made runs.
func TestDiffRunsCauses(t *testing.T) {
	res := func(code string, cat classify.Category, value, threshold float64, fired bool) classify.Result {
		return classify.Result{Mahalla: code, District: "d1", Category: cat,
			Indicators: []classify.IndicatorResult{{Name: "crime_rate", Value: value, Threshold: thr(threshold), Fired: fired}}}
	}
	a := classify.Run{ID: 1, Period: "2025-Q3", PolicyName: "p", PolicyVersion: "1", DataVersion: 10, InputVersion: 5, Results: []classify.Result{
		res("m1", classify.Yellow, 5, 8, false), // threshold lowered: policy
		res("m2", classify.Yellow, 5, 8, false), // value rose: data
		res("m3", classify.Green, 0, 8, false),  // unchanged
		res("m4", classify.Red, 9, 8, true),     // dropped from b
	}}
	b := classify.Run{ID: 2, Period: "2025-Q3", PolicyName: "p", PolicyVersion: "2", DataVersion: 11, InputVersion: 6, Results: []classify.Result{
		res("m1", classify.Red, 5, 4, true),
		res("m2", classify.Red, 9, 8, true),
		res("m3", classify.Green, 0, 8, false),
		res("m5", classify.Green, 0, 8, false), // new in b
	}}
	in := classify.CompareInputs(&a, &b)
	in.Late = 3 // store.CompareRuns counts them
	d := diffRuns(&a, &b, in, "")
	if d.LateRegistrations == nil || *d.LateRegistrations != 3 {
		t.Errorf("late registrations %v, want 3", d.LateRegistrations)
	}
	if want := []string{CausePolicy, CauseNewData, CauseLateRegistrations}; !slices.Equal(d.Causes, want) {
		t.Errorf("run causes %v, want %v", d.Causes, want)
	}
	want := map[string]struct {
		dir    string
		causes []string
	}{
		"m1": {"worse", []string{CausePolicy}},
		"m2": {"worse", []string{CauseNewData, CauseLateRegistrations}},
		"m4": {"removed", []string{CausePolicy, CauseNewData, CauseLateRegistrations}},
		"m5": {"added", []string{CausePolicy, CauseNewData, CauseLateRegistrations}},
	}
	if len(d.Mahallas) != len(want) {
		t.Fatalf("diff lists %d mahallas, want %d: %+v", len(d.Mahallas), len(want), d.Mahallas)
	}
	for _, m := range d.Mahallas {
		w, ok := want[m.Mahalla]
		if !ok || m.Direction != w.dir || !slices.Equal(m.Causes, w.causes) {
			t.Errorf("%s: %s %v, want %+v", m.Mahalla, m.Direction, m.Causes, w)
		}
	}
	if d.Summary.Worse != 2 || d.Summary.Added != 1 || d.Summary.Removed != 1 || d.Summary.Category != 2 {
		t.Errorf("summary %+v", d.Summary)
	}

	// Another period on the same data: the period explains value changes.
	c := b
	c.Period, c.PolicyVersion, c.DataVersion, c.InputVersion = "2025-Q4", "1", 12, 5
	c.Results = []classify.Result{res("m2", classify.Red, 9, 8, true)}
	a.Results = a.Results[1:2]
	d = diffRuns(&a, &c, classify.CompareInputs(&a, &c), "")
	if !slices.Equal(d.Causes, []string{CausePeriod}) || len(d.Mahallas) != 1 || !slices.Equal(d.Mahallas[0].Causes, []string{CausePeriod}) {
		t.Errorf("different periods: %+v", d)
	}
	if d := diffRuns(&a, &c, classify.CompareInputs(&a, &c), "other"); len(d.Mahallas) != 0 {
		t.Errorf("district filter kept %+v", d.Mahallas)
	}
}

// TestDiffRunsInputs checks the data causes follow the runs' input
// versions, not their data versions (storing a run bumps the data version).
func TestDiffRunsInputs(t *testing.T) {
	res := func(cat classify.Category, value float64) []classify.Result {
		return []classify.Result{{Mahalla: "m1", District: "d1", Category: cat,
			Indicators: []classify.IndicatorResult{{Name: "crime_rate", Value: value, Threshold: thr(8), Fired: value >= 8}}}}
	}
	run := func(id, data, input int64, version string, cat classify.Category, value float64) classify.Run {
		return classify.Run{ID: id, Period: "2025-Q3", PolicyName: "p", PolicyVersion: version, DataVersion: data, InputVersion: input,
			Results: res(cat, value)}
	}
	tests := []struct {
		name       string
		a, b       classify.Run
		late       int
		causes     []string
		mahalla    []string // nil: m1 not listed
		lateCounts int
	}{
		{"same inputs, data versions bumped by runs", run(1, 10, 7, "1", classify.Yellow, 5), run(2, 11, 7, "1", classify.Yellow, 5),
			0, []string{}, nil, 0},
		{"same inputs, history only", run(1, 10, 7, "1", classify.Yellow, 5), run(2, 11, 7, "1", classify.Red, 5),
			0, []string{}, []string{CauseUnexplained}, 0},
		{"an event in another period", run(1, 10, 7, "1", classify.Yellow, 5), run(2, 12, 8, "1", classify.Yellow, 6),
			0, []string{CauseNewData}, []string{CauseNewData}, 0},
		{"late registrations", run(1, 10, 7, "1", classify.Yellow, 5), run(2, 12, 8, "1", classify.Red, 9),
			4, []string{CauseNewData, CauseLateRegistrations}, []string{CauseNewData, CauseLateRegistrations}, 4},
		{"policy only, nothing moved", run(1, 10, 7, "1", classify.Yellow, 5), run(2, 11, 7, "2", classify.Yellow, 5),
			0, []string{CausePolicy}, nil, 0},
		{"policy only: values (another smoothing)", run(1, 10, 7, "1", classify.Yellow, 5), run(2, 11, 7, "2", classify.Red, 9),
			0, []string{CausePolicy}, []string{CausePolicy}, 0},
		{"older run: unknown", run(1, 10, 0, "1", classify.Yellow, 5), run(2, 11, 7, "1", classify.Red, 9),
			0, []string{CauseDataUnknown}, []string{CauseDataUnknown}, 0},
		{"older run, same values", run(1, 10, 0, "1", classify.Yellow, 5), run(2, 11, 7, "1", classify.Yellow, 5),
			0, []string{CauseDataUnknown}, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := classify.CompareInputs(&tc.a, &tc.b)
			if in.SamePeriod && in.DataChanged {
				in.Late = tc.late
			}
			d := diffRuns(&tc.a, &tc.b, in, "")
			if !slices.Equal(d.Causes, tc.causes) || d.LateRegistrations == nil || *d.LateRegistrations != tc.lateCounts {
				t.Errorf("run causes %v (late %v), want %v (late %d)", d.Causes, d.LateRegistrations, tc.causes, tc.lateCounts)
			}
			switch {
			case tc.mahalla == nil && len(d.Mahallas) != 0:
				t.Errorf("mahallas %+v, want none", d.Mahallas)
			case tc.mahalla != nil && (len(d.Mahallas) != 1 || !slices.Equal(d.Mahallas[0].Causes, tc.mahalla)):
				t.Errorf("mahallas %+v, want m1 with causes %v", d.Mahallas, tc.mahalla)
			}
			if (d.A.InputVersion == nil) != (tc.a.InputVersion == 0) {
				t.Errorf("a.input_version %v for a run with %d", d.A.InputVersion, tc.a.InputVersion)
			}
		})
	}
}
