package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/sqlite"
)

// TestClassifyCommand seeds a small demo (which stores runs of its own,
// seedDemoRuns: the command's runs are numbered after them), classifies a
// quarter twice (table and CSV) and checks both runs are stored, the
// second with the first as nothing (same period) and the previous
// quarter's run as history.
func TestClassifyCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"demo", "--scale", "0.1", "--data", dir}, noEnv, &out, &errb); err != nil {
		t.Fatalf("demo: %v\n%s", err, errb.String())
	}
	st, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	demoRuns, err := st.Runs(ctx, store.RunQuery{Limit: store.MaxLimit})
	st.Close()
	if err != nil || len(demoRuns) == 0 {
		t.Fatalf("the demo stored %d runs, %v", len(demoRuns), err)
	}
	// id is the ID of the command's kth run.
	id := func(k int) int64 { return int64(len(demoRuns) + k) }
	loc, err := location("Asia/Tashkent")
	if err != nil {
		t.Fatal(err)
	}
	quarter := lastQuarter(time.Now(), loc)
	prev := lastQuarter(time.Now().AddDate(0, -3, 0), loc)

	classifyRun := func(args ...string) string {
		t.Helper()
		out.Reset()
		errb.Reset()
		if err := run(ctx, append([]string{"classify", "--data", dir}, args...), noEnv, &out, &errb); err != nil {
			t.Fatalf("classify %v: %v\n%s", args, err, errb.String())
		}
		return out.String()
	}
	got := classifyRun("--period", prev)
	for _, w := range []string{"SYNTHETIC", fmt.Sprintf("classification run %d: %s", id(1), prev), "policy ", "snapshot 1", "mahallas ", "green", "district", "1710401"} {
		if !strings.Contains(got, w) {
			t.Errorf("summary lacks %q:\n%s", w, got)
		}
	}
	got = classifyRun("--period", quarter, "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(got)).ReadAll()
	if err != nil || len(recs) < 100 || recs[0][2] != "mahalla" || recs[1][0] != fmt.Sprint(id(2)) {
		t.Fatalf("csv: %d records, %v\n%.500s", len(recs), err, got)
	}
	if !strings.Contains(errb.String(), fmt.Sprintf("classification run %d stored", id(2))) {
		t.Errorf("stderr: %s", errb.String())
	}

	// A policy file and a unit.
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pol, classify.DefaultPolicyYAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	got = classifyRun("--period", quarter, "--policy", pol, "--unit", "1710401")
	if !strings.Contains(got, fmt.Sprintf("classification run %d: %s", id(3), quarter)) || !strings.Contains(got, "the mahallas of 1710401") {
		t.Errorf("unit run summary:\n%s", got)
	}

	st, err = sqlite.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The district re-run is stored, but the period's latest full run
	// stays "the" classification of the quarter.
	if r3, err := st.Run(ctx, id(3)); err != nil || r3.Unit != "1710401" || r3.CreatedBy != "cli" {
		t.Fatalf("run 3: unit %q, created by %q, %v; want 1710401 by cli", r3.Unit, r3.CreatedBy, err)
	}
	latest, err := st.LatestRun(ctx, quarter)
	if err != nil || latest.ID != id(2) || latest.Unit != "" {
		t.Fatalf("latest run of %s: %d (unit %q), %v", quarter, latest.ID, latest.Unit, err)
	}
	second, err := st.Run(ctx, id(2))
	if err != nil {
		t.Fatal(err)
	}
	// The previous quarter's run is the history of the second run.
	withPrev := 0
	for _, r := range second.Results {
		if r.Previous != "" {
			withPrev++
		}
	}
	if withPrev == 0 {
		t.Errorf("run %d has no result with a previous category; history not passed", id(2))
	}
	runs, err := st.Runs(ctx, store.RunQuery{Limit: store.MaxLimit})
	if err != nil || len(runs) != len(demoRuns)+3 {
		t.Errorf("%d runs stored, %v", len(runs), err)
	}

	// Usage errors.
	for _, args := range [][]string{
		{"classify", "--data", dir},
		{"classify", "--data", dir, "--period", "2025-Q5"},
		{"classify", "--data", dir, "--period", quarter, "--format", "xml"},
	} {
		if err := run(ctx, args, noEnv, &out, &errb); !errors.Is(err, errUsage) {
			t.Errorf("%v: error %v, want usage", args, err)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("name: x\n"), 0o644)
	if err := run(ctx, []string{"classify", "--data", dir, "--period", quarter, "--policy", bad}, noEnv, &out, &errb); !errors.Is(err, classify.ErrPolicy) {
		t.Errorf("bad policy: error %v, want ErrPolicy", err)
	}
}
