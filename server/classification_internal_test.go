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
	a := classify.Run{ID: 1, Period: "2025-Q3", PolicyName: "p", PolicyVersion: "1", DataVersion: 10, Results: []classify.Result{
		res("m1", classify.Yellow, 5, 8, false), // threshold lowered: policy
		res("m2", classify.Yellow, 5, 8, false), // value rose: data
		res("m3", classify.Green, 0, 8, false),  // unchanged
		res("m4", classify.Red, 9, 8, true),     // dropped from b
	}}
	b := classify.Run{ID: 2, Period: "2025-Q3", PolicyName: "p", PolicyVersion: "2", DataVersion: 11, Results: []classify.Result{
		res("m1", classify.Red, 5, 4, true),
		res("m2", classify.Red, 9, 8, true),
		res("m3", classify.Green, 0, 8, false),
		res("m5", classify.Green, 0, 8, false), // new in b
	}}
	d := diffRuns(&a, &b, "")
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
	c.Period, c.PolicyVersion, c.DataVersion = "2025-Q4", "1", 10
	c.Results = []classify.Result{res("m2", classify.Red, 9, 8, true)}
	a.Results = a.Results[1:2]
	d = diffRuns(&a, &c, "")
	if !slices.Equal(d.Causes, []string{CausePeriod}) || len(d.Mahallas) != 1 || !slices.Equal(d.Mahallas[0].Causes, []string{CausePeriod}) {
		t.Errorf("different periods: %+v", d)
	}
	if d := diffRuns(&a, &c, "other"); len(d.Mahallas) != 0 {
		t.Errorf("district filter kept %+v", d.Mahallas)
	}
}
