package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a goroutine-safe bytes.Buffer for a running command's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(string) string { return "" }

// TestServeDemoEndToEnd starts the real service on :0 with the embedded store
// in a temp dir, seeded with a small demo, queries it over HTTP and shuts it
// down gracefully.
func TestServeDemoEndToEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	dir := t.TempDir()
	analyst, _ := createToken(t, dir, "--role", "analyst", "--name", "end-to-end test")
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--demo-scale", "0.05", "--addr", "127.0.0.1:0", "--data", dir}, noEnv, &stdout, &stderr)
	}()
	urlRE := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	var base string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if base = urlRE.FindString(stdout.String()); base != "" {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
		default:
		}
	}
	if base == "" {
		t.Fatalf("no URL printed; stdout: %s", stdout.String())
	}
	if !strings.Contains(stdout.String(), "SYNTHETIC") {
		t.Errorf("serve --demo does not say the data is synthetic: %s", stdout.String())
	}

	var units struct {
		Count  int    `json:"count"`
		Notice string `json:"notice"`
	}
	getJSON(t, base+"/v1/units?level=district", &units)
	if units.Count != 29 {
		t.Errorf("districts: %d, want 29 (16 Kashkadarya + 13 Bukhara)", units.Count)
	}
	if !strings.Contains(units.Notice, "SYNTHETIC") {
		t.Errorf("notice %q does not say synthetic", units.Notice)
	}
	getJSON(t, base+"/v1/units?level=mahalla", &units)
	if units.Count < 830 || units.Count > 880 {
		t.Errorf("mahallas: %d, want about 852", units.Count)
	}
	var events struct {
		Total int `json:"total"`
		Count int `json:"count"`
	}
	getJSONAuth(t, base+"/v1/events?kind=crime&unit=1710401&limit=5", analyst, &events)
	if events.Total == 0 || events.Count != 5 {
		t.Errorf("crimes in Qarshi city: total %d, page %d", events.Total, events.Count)
	}
	if resp, err := http.Get(base + "/v1/events?limit=1"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("raw events without a token: %d, want 401", resp.StatusCode)
	}
	for _, p := range []string{"/healthz", "/readyz", "/openapi.json"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("graceful shutdown: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after cancellation")
	}
	if _, err := os.Stat(filepath.Join(dir, "crimemap.db")); err != nil {
		t.Errorf("embedded store file: %v", err)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	getJSONAuth(t, url, "", v)
}

// getJSONAuth is getJSON sending Authorization: Bearer token (none when "").
func getJSONAuth(t *testing.T, url, token string, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestIngestMemphis imports the real Memphis robberies file with --field
// mappings and --tz, twice: the second run changes nothing.
func TestIngestMemphis(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "memphis_robberies.csv")
	if _, err := os.Stat(src); err != nil {
		t.Skipf("fixture: %v", err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "memphis.csv")
	copyFile(t, src, in)
	args := []string{"ingest", "--kind", "crime", "--data", dir, "--tz", "America/Chicago",
		"--field", "source_id=uid,category=offense_type,occurred_at=date_local_wallclock",
		"--field", "lon=longitude", "--field", "lat=latitude", in}
	var out, errb bytes.Buffer
	if err := run(context.Background(), args, noEnv, &out, &errb); err != nil {
		t.Fatalf("ingest: %v\n%s\n%s", err, out.String(), errb.String())
	}
	s := out.String()
	if !regexp.MustCompile(`accepted\s+2245\s+\(2245 new`).MatchString(s) {
		t.Errorf("first run summary:\n%s", s)
	}
	out.Reset()
	if err := run(context.Background(), args, noEnv, &out, &errb); err != nil {
		t.Fatalf("ingest again: %v", err)
	}
	if !regexp.MustCompile(`\(0 new, 0 updated, 2245 unchanged\)`).MatchString(out.String()) {
		t.Errorf("re-run should change nothing:\n%s", out.String())
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBoundariesImportReportsRepairs imports real akbartus districts (a
// GeometryCollection wrapping a MultiPolygon with an enclave, invalid) and
// checks the repairs are reported and the units stored.
func TestBoundariesImportReportsRepairs(t *testing.T) {
	dir := t.TempDir()
	files := []string{filepath.Join("..", "..", "testdata", "akbartus_sharof_rashidov.geojson")}
	// The full district files live in ../shared beside the clone (CI and
	// developers have it); use them when present.
	if all, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "data", "boundaries", "uzb_akbartus", "*districts*.geojson")); len(all) > 0 {
		files = all
	}
	for _, f := range files {
		var out, errb bytes.Buffer
		args := []string{"boundaries", "import", "--level", "district", "--data", dir, "--parent", "17", "--allow-missing-parents",
			"--field", "code=ADM2_EN,name_uz=ADM2_UZ,name_ru=ADM2_RU,name_en=ADM2_EN", f}
		if err := run(context.Background(), args, noEnv, &out, &errb); err != nil {
			t.Fatalf("%s: %v\n%s", f, err, errb.String())
		}
		s := out.String()
		if !strings.Contains(s, "unwrapped_geometry_collection") {
			t.Errorf("%s: GeometryCollection unwrapping not reported:\n%s", f, s)
		}
		if strings.Contains(f, "sharof_rashidov") || strings.Contains(f, "jizzakh") {
			if !strings.Contains(s, "made_valid") {
				t.Errorf("%s: the invalid Sharof Rashidov district was not reported repaired:\n%s", f, s)
			}
		}
	}
	var out, errb bytes.Buffer
	bad := filepath.Join(dir, "projected.geojson")
	if err := os.WriteFile(bad, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":[[[500000,4300000],[510000,4300000],[510000,4310000],[500000,4300000]]]}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"boundaries", "import", "--level", "district", "--data", dir, bad}, noEnv, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "EPSG:4326") || !strings.Contains(err.Error(), "feature 0") {
		t.Fatalf("projected coordinates: err = %v, want a clear refusal naming the feature", err)
	}
}
