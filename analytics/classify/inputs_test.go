package classify_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/crimemap/crimemap/analytics/classify"
)

// TestInputsCauses checks the run-level and value causes from what two
// runs classified: input versions, not data versions (storing a run bumps
// the data version).
func TestInputsCauses(t *testing.T) {
	run := func(period, version string, data, input int64) classify.Run {
		return classify.Run{Period: period, PolicyName: "p", PolicyVersion: version, DataVersion: data, InputVersion: input}
	}
	tests := []struct {
		name   string
		a, b   classify.Run
		late   int
		causes []string
		values []string
	}{
		{"same inputs, runs stored between", run("2025-Q3", "1", 10, 4), run("2025-Q3", "1", 40, 4), 0, []string{}, []string{}},
		{"new data, none of the period", run("2025-Q3", "1", 10, 4), run("2025-Q3", "1", 12, 5), 0,
			[]string{classify.CauseNewData}, []string{classify.CauseNewData}},
		{"late registrations", run("2025-Q3", "1", 10, 4), run("2025-Q3", "1", 12, 5), 3,
			[]string{classify.CauseNewData, classify.CauseLateRegistrations}, []string{classify.CauseNewData, classify.CauseLateRegistrations}},
		{"policy on the same data", run("2025-Q3", "1", 10, 4), run("2025-Q3", "2", 11, 4), 0,
			[]string{classify.CausePolicy}, []string{classify.CausePolicy}},
		{"policy and data", run("2025-Q3", "1", 10, 4), run("2025-Q3", "2", 12, 5), 0,
			[]string{classify.CausePolicy, classify.CauseNewData}, []string{classify.CauseNewData}},
		{"another period, same data", run("2025-Q3", "1", 10, 4), run("2025-Q4", "1", 11, 4), 0,
			[]string{classify.CausePeriod}, []string{classify.CausePeriod}},
		{"another period, new data", run("2025-Q3", "1", 10, 4), run("2025-Q4", "1", 12, 5), 0,
			[]string{classify.CauseNewData, classify.CausePeriod}, []string{classify.CauseNewData, classify.CausePeriod}},
		{"older run", run("2025-Q3", "1", 10, 0), run("2025-Q3", "1", 12, 5), 0,
			[]string{classify.CauseDataUnknown}, []string{classify.CauseDataUnknown}},
		{"older runs, policy", run("2025-Q3", "1", 10, 0), run("2025-Q3", "2", 12, 0), 0,
			[]string{classify.CausePolicy, classify.CauseDataUnknown}, []string{classify.CauseDataUnknown}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := classify.CompareInputs(&tc.a, &tc.b)
			in.Late = tc.late
			if got := in.Causes(); !slices.Equal(got, tc.causes) {
				t.Errorf("Causes() = %q, want %q", got, tc.causes)
			}
			if got := in.ValueCauses(); !slices.Equal(got, tc.values) {
				t.Errorf("ValueCauses() = %q, want %q", got, tc.values)
			}
		})
	}
}

// Two runs of one period on the same inputs: the data version rose (the
// first run's storing bumped it) but nothing the runs classified changed.
func ExampleCompareInputs() {
	a := classify.Run{Period: "2025-Q3", PolicyName: "default", PolicyVersion: "1", DataVersion: 41, InputVersion: 17}
	b := classify.Run{Period: "2025-Q3", PolicyName: "default", PolicyVersion: "1", DataVersion: 42, InputVersion: 17}
	fmt.Printf("%q\n", classify.CompareInputs(&a, &b).Causes())
	b.InputVersion = 18 // an event ingested between the runs
	fmt.Printf("%q\n", classify.CompareInputs(&a, &b).Causes())
	// Output:
	// []
	// ["new data"]
}
