package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/sqlite"
)

// boundaryFile writes a GeoJSON FeatureCollection of rectangles:
// code -> [parent, x0, y0, x1, y1].
func boundaryFile(t *testing.T, dir, name string, units map[string][5]string) string {
	t.Helper()
	var feats []string
	for code, u := range units {
		var x0, y0, x1, y1 float64
		fmt.Sscan(u[1]+" "+u[2]+" "+u[3]+" "+u[4], &x0, &y0, &x1, &y1)
		parent := ""
		if u[0] != "" {
			parent = fmt.Sprintf(`,"parent_code":%q`, u[0])
		}
		feats = append(feats, fmt.Sprintf(`{"type":"Feature","properties":{"code":%q%s},"geometry":{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}}`,
			code, parent, x0, y0, x1, y0, x1, y1, x0, y1, x0, y0))
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(`{"type":"FeatureCollection","features":[`+strings.Join(feats, ",")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(t.Context(), args, noEnv, &out, &errb); err != nil {
		t.Fatalf("crimemap %s: %v\n%s\n%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

func wantMoved(t *testing.T, out string, moved int) {
	t.Helper()
	if !regexp.MustCompile(fmt.Sprintf(`moved\s+%d\s`, moved)).MatchString(out) {
		t.Errorf("want %d moved in:\n%s", moved, out)
	}
}

func unitCounts(t *testing.T, dir string, want map[string]int) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for code, n := range want {
		p, err := st.Events(t.Context(), store.EventQuery{Unit: code, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != n {
			t.Errorf("events in %s: %d, want %d", code, p.Total, n)
		}
	}
}

// TestReassignEndToEnd: events ingested before their boundaries get their
// units when the boundaries are imported (no re-ingest), move when a
// boundary changes, follow a boundary version by their time, and an
// interrupted reassignment finishes on the next run.
func TestReassignEndToEnd(t *testing.T) {
	dir := t.TempDir()
	// 40 crimes along lat 38.5, lon 60.025 + 0.1 i; even i on 2024-10-15,
	// odd i on 2024-11-15 (Tashkent time).
	var csv strings.Builder
	csv.WriteString("source_id,occurred_at,lat,lon,category\n")
	for i := range 40 {
		day := "2024-10-15 10:00"
		if i%2 == 1 {
			day = "2024-11-15 10:00"
		}
		fmt.Fprintf(&csv, "e%02d,%s,38.5,%.3f,theft\n", i, day, 60.025+0.1*float64(i))
	}
	events := filepath.Join(dir, "events.csv")
	if err := os.WriteFile(events, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := runOK(t, "ingest", "--kind", "crime", "--data", dir, events)
	if !regexp.MustCompile(`unassigned\s+40\s`).MatchString(out) {
		t.Fatalf("ingest before boundaries should leave every event unassigned:\n%s", out)
	}

	regions := boundaryFile(t, dir, "regions.geojson", map[string][5]string{"R": {"", "60", "38", "64", "40"}})
	districts := boundaryFile(t, dir, "districts.geojson", map[string][5]string{
		"D1": {"R", "60", "38", "62", "40"}, "D2": {"R", "62", "38", "64", "40"}})
	mahallas := boundaryFile(t, dir, "mahallas.geojson", map[string][5]string{
		"M1": {"D1", "60", "38", "61", "39"}, "M2": {"D1", "61", "38", "62", "39"}})
	wantMoved(t, runOK(t, "boundaries", "import", "--level", "region", "--data", dir, regions), 40)
	wantMoved(t, runOK(t, "boundaries", "import", "--level", "district", "--data", dir, districts), 40)
	out = runOK(t, "boundaries", "import", "--level", "mahalla", "--data", dir, mahallas)
	wantMoved(t, out, 20)
	unitCounts(t, dir, map[string]int{"R": 40, "D1": 20, "D2": 20, "M1": 10, "M2": 10})
	// A consistent store: nothing to check, nothing moves.
	out = runOK(t, "reassign", "--data", dir)
	wantMoved(t, out, 0)
	if !strings.Contains(out, "0 events checked") {
		t.Errorf("reassign on a consistent store:\n%s", out)
	}

	// M1 shrinks to lon 60..60.5: five events leave it.
	mahallas = boundaryFile(t, dir, "mahallas.geojson", map[string][5]string{
		"M1": {"D1", "60", "38", "60.5", "39"}, "M2": {"D1", "61", "38", "62", "39"}})
	wantMoved(t, runOK(t, "boundaries", "import", "--level", "mahalla", "--data", dir, mahallas), 5)
	unitCounts(t, dir, map[string]int{"D1": 20, "M1": 5, "M2": 10})

	// Redrawn from 2024-11-01: M1 60..61.5, M2 61.5..62. Events of
	// November move by the new boundaries, October's stay.
	v2 := boundaryFile(t, dir, "mahallas-2024-11.geojson", map[string][5]string{
		"M1": {"D1", "60", "38", "61.5", "39"}, "M2": {"D1", "61.5", "38", "62", "39"}})
	out = runOK(t, "boundaries", "import", "--level", "mahalla", "--valid-from", "2024-11-01", "--data", dir, v2)
	wantMoved(t, out, 5) // e05, e07, e09 into M1; e11, e13 from M2 to M1
	unitCounts(t, dir, map[string]int{"D1": 20, "M1": 10, "M2": 8})

	// Interrupted: the boundaries change, a reassignment stops after one
	// batch (as if killed), and `crimemap reassign` finishes the rest.
	st, err := sqlite.Open(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	units, err := st.Units(t.Context(), store.UnitQuery{Level: "district", WithGeometry: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range units {
		units[i].Geometry[0][0][1][0], units[i].Geometry[0][0][2][0] = 63, 63 // D1 grows to lon 63 ...
		if units[i].Code == "D2" {
			units[i].Geometry[0][0][0][0], units[i].Geometry[0][0][3][0], units[i].Geometry[0][0][4][0] = 63, 63, 63 // ... D2 shrinks
			units[i].Geometry[0][0][1][0], units[i].Geometry[0][0][2][0] = 64, 64
		}
	}
	if _, err := st.PutUnits(t.Context(), units); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(t.Context())
	_, err = st.Reassign(cctx, store.ReassignOptions{BatchSize: 8, Progress: func(store.ReassignResult) { cancel() }})
	cancel()
	st.Close()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted reassign: %v", err)
	}
	out = runOK(t, "reassign", "--data", dir, "--batch", "8")
	if !strings.Contains(out, "32 events checked") {
		t.Errorf("resumed reassign should check the 32 events the first batch left:\n%s", out)
	}
	unitCounts(t, dir, map[string]int{"R": 40, "D1": 30, "D2": 10, "M1": 10, "M2": 8})
	wantMoved(t, runOK(t, "reassign", "--data", dir), 0)
}
