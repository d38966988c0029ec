package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics/hotspot"
)

// TestHotspotsCommand seeds a small demo into a temp store and runs the
// three analyses of the hotspots command in table and CSV form.
func TestHotspotsCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"demo", "--scale", "0.1", "--data", dir}, noEnv, &out, &errb); err != nil {
		t.Fatalf("demo: %v\n%s", err, errb.String())
	}
	loc, err := location("Asia/Tashkent")
	if err != nil {
		t.Fatal(err)
	}
	quarter := lastQuarter(time.Now(), loc)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--period", quarter, "--unit", "1710401"}, []string{"SYNTHETIC", "Gi* hot spots", "res 8, k 1", "+3"}},
		{[]string{"--period", quarter[:4], "--unit", "1710401", "--mahallas", "--rate"}, []string{"mahalla hot spots", "rates per 1,000", "moran_p"}},
		{[]string{"--unit", "1710401", "--emerging", "--periods", "12", "--res", "8"}, []string{"emerging hot spots, 12 months", "hot spot"}},
	} {
		out.Reset()
		errb.Reset()
		args := append([]string{"hotspots", "--data", dir}, tc.args...)
		if err := run(ctx, args, noEnv, &out, &errb); err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, errb.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, out.String())
			}
		}
	}

	out.Reset()
	if err := run(ctx, []string{"hotspots", "--data", dir, "--period", quarter, "--unit", "1710401", "--format", "csv"}, noEnv, &out, &errb); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(recs) < 31 || recs[0][3] != "h3" {
		t.Fatalf("csv: %d records, %v", len(recs), err)
	}

	// refused analyses and bad flags
	err = run(ctx, []string{"hotspots", "--data", dir, "--period", "2020-W02", "--unit", "1710401"}, noEnv, &out, &errb)
	if !errors.Is(err, hotspot.ErrNotMeaningful) || exitCode(err) != 1 {
		t.Errorf("no events: %v", err)
	}
	for _, args := range [][]string{
		{"--unit", "1710401"}, // no period
		{"--period", quarter}, // no unit
		{"--period", quarter, "--unit", "1710401", "--format", "xml"},
		{"--unit", "1710401", "--emerging", "--interval", "week"},
	} {
		err := run(ctx, append([]string{"hotspots", "--data", dir}, args...), noEnv, &out, &errb)
		if !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
