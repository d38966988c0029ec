package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/sqlite"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

func TestDemoRunPeriods(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Tashkent")
	if err != nil {
		t.Fatal(err)
	}
	labels := func(from, to time.Time) []string {
		var out []string
		for _, p := range demoRunPeriods(from, to) {
			out = append(out, p.Label)
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"the demo's three years", time.Date(2023, 12, 1, 0, 0, 0, 0, loc), time.Date(2026, 12, 1, 0, 0, 0, 0, loc), []string{
			"2024-Q1", "2024-Q2", "2024-H1", "2024-Q3", "2024-Q4", "2024-H2", "2024",
			"2025-Q1", "2025-Q2", "2025-H1", "2025-Q3", "2025-12", "2025-Q4", "2025-H2", "2025",
			"2026-01", "2026-02", "2026-03", "2026-Q1", "2026-04", "2026-05", "2026-06", "2026-Q2", "2026-H1",
			"2026-07", "2026-08", "2026-09", "2026-Q3", "2026-10", "2026-11"}},
		{"five months", time.Date(2026, 2, 1, 0, 0, 0, 0, loc), time.Date(2026, 7, 1, 0, 0, 0, 0, loc), []string{
			"2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-Q2"}},
		{"nothing", time.Date(2026, 2, 1, 0, 0, 0, 0, loc), time.Date(2026, 2, 1, 0, 0, 0, 0, loc), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := labels(tc.from, tc.to); !slices.Equal(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

// TestDemoClassified: the demo seeds classification runs, so a mahalla's
// profile has a category and the mahallas tiles carry one; seeding again
// adds none.
func TestDemoClassified(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	start := time.Now()
	if err := run(ctx, []string{"demo", "--scale", "0.05", "--data", dir}, noEnv, &out, &errb); err != nil {
		t.Fatalf("demo: %v\n%s", err, errb.String())
	}
	t.Logf("demo at scale 0.05 seeded in %s", time.Since(start).Round(time.Millisecond))
	// Every closed year, half and quarter of its three years and its last
	// 12 months (30 to 33 periods, by the calendar month of today).
	loc, _ := time.LoadLocation("Asia/Tashkent")
	from, to, err := demo.Period(demo.Config{Seed: 1, Scale: 0.05, Now: start})
	if err != nil {
		t.Fatal(err)
	}
	want := len(demoRunPeriods(from.In(loc), to.In(loc)))
	if want < 30 || !strings.Contains(out.String(), fmt.Sprintf("classification runs: %d new (default policy, created by demo)", want)) {
		t.Errorf("demo output lacks the %d runs:\n%s", want, out.String())
	}

	st, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := st.Runs(ctx, store.RunQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != want {
		t.Errorf("%d runs, want %d", len(runs), want)
	}
	for _, r := range runs {
		if r.CreatedBy != demoRunsBy || r.PolicyName != "safe-mahalla-default" {
			t.Errorf("run %d of %s: created by %q, policy %q", r.ID, r.Period, r.CreatedBy, r.PolicyName)
		}
	}
	if n, err := seedDemoRuns(ctx, st, time.Now()); err != nil || n != 0 {
		t.Errorf("seeding the runs again: %d new, %v; want none", n, err)
	}
	st.Close()

	analyst, _ := createToken(t, dir, "--role", "analyst", "--name", "demo runs test")
	base := startServe(t, "--data", dir, "--demo")
	quarter := lastQuarter(time.Now(), loc)

	const qarshiMahalla = "1710401001"
	for _, tok := range []string{"", analyst} {
		var profile struct {
			Classification *struct {
				Run    struct{ Period string }
				Result struct{ Category string }
			} `json:"classification"`
		}
		getJSONAuth(t, base+"/v1/mahallas/"+qarshiMahalla+"?period="+quarter, tok, &profile)
		if c := profile.Classification; c == nil || c.Result.Category == "" || c.Run.Period != quarter {
			t.Errorf("profile of %s for %s (token %t): classification %+v", qarshiMahalla, quarter, tok != "", c)
		}
	}

	// The mahallas of Qarshi city at zoom 12: every one has a category.
	tile := maptile.At(orb.Point{65.79, 38.86}, 12)
	resp, err := http.Get(fmt.Sprintf("%s/tiles/mahallas/%d/%d/%d.mvt?period=%s", base, tile.Z, tile.X, tile.Y, quarter))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("tile: %d %s", resp.StatusCode, body)
	}
	layers, err := mvt.Unmarshal(body) // the client ungzipped it
	if err != nil {
		t.Fatal(err)
	}
	cats := map[string]int{}
	for _, l := range layers {
		for _, f := range l.Features {
			c, _ := f.Properties["category"].(string)
			cats[c]++
		}
	}
	if len(cats) == 0 || cats[""] > 0 {
		t.Errorf("mahallas tile categories %v, want each feature to have one", cats)
	}
}

// serveBanner runs serve with args until the test ends and returns its
// stdout once the banner is printed.
func serveBanner(t *testing.T, args ...string) string {
	t.Helper()
	_, stdout := startServeOutput(t, args...)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s := stdout.String(); strings.Contains(s, "/openapi.json") { // the banner's last line
			return s
		}
	}
	t.Fatalf("no banner: %s", stdout.String())
	return ""
}

// TestServeMapBanner: serve prints the map's URL first, how to get an
// analyst token next (never a token), and serves the page there.
func TestServeMapBanner(t *testing.T) {
	dir := t.TempDir()
	banner := serveBanner(t, "--data", dir)
	lines := strings.Split(banner, "\n")
	m := regexp.MustCompile(`^crimemap map: (http://127\.0\.0\.1:\d+)/$`).FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("first line %q, want crimemap map: http://127.0.0.1:PORT/", lines[0])
	}
	if want := "crimemap token create --role analyst --data " + dir; !strings.Contains(lines[1], want) {
		t.Errorf("second line %q, want it to name %q", lines[1], want)
	}
	if strings.Contains(banner, "cm_") {
		t.Errorf("the banner shows a token:\n%s", banner)
	}
	req, _ := http.NewRequest("GET", m[1]+"/?period=2025-Q3&unit=1710224001&layer=mahallas&lang=ru", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || !bytes.Contains(bytes.ToLower(body), []byte("<html")) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "worker-src blob:") {
		t.Errorf("the map's page: %d %q %q %.100s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy"), body)
	}
	var meta struct{ Role, Basemap string }
	getJSON(t, m[1]+"/v1/meta", &meta)
	if meta.Role != "public" || meta.Basemap != "" {
		t.Errorf("meta %+v", meta)
	}
}

// realBasemap is the Kyrgyz regions archive of ../shared/data (CC BY 3.0
// IGO; see its README there).
const realBasemap = "../../../shared/data/boundaries/kgz_ky1/ky1.pmtiles"

// TestServeBasemap: --basemap (or CRIMEMAP_BASEMAP) names a PMTiles file;
// a missing or bad one fails serve at once, naming the flag and the file;
// a good one is served with its TileJSON on the service and under the
// default style.
func TestServeBasemap(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pmtiles")
	if err := os.WriteFile(bad, []byte("<html>not an archive</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		file string
	}{
		{"missing", []string{"--basemap", filepath.Join(dir, "nope.pmtiles")}, nil, "nope.pmtiles"},
		{"bad", []string{"--basemap", bad}, nil, "bad.pmtiles"},
		{"bad from the environment", nil, map[string]string{"CRIMEMAP_BASEMAP": bad}, "bad.pmtiles"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			getenv := func(k string) string { return tc.env[k] }
			err := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data")}, tc.args...), getenv, &out, &errb)
			if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "--basemap") || !strings.Contains(err.Error(), tc.file) {
				t.Errorf("serve: %v, want a usage error naming --basemap and %s", err, tc.file)
			}
			if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
				t.Error("the store was opened before the basemap was checked")
			}
		})
	}

	if _, err := os.Stat(realBasemap); err != nil {
		if os.Getenv("CRIMEMAP_REQUIRE_POSTGIS") == "1" {
			t.Fatalf("real data required: %v", err)
		}
		t.Skipf("real data not available: %s is absent (see ../shared/data/SOURCES.md)", realBasemap)
	}
	base := startServe(t, "--data", t.TempDir(), "--basemap", realBasemap)
	var tj struct{ Tiles []string }
	getJSON(t, base+"/basemap.json", &tj)
	if len(tj.Tiles) != 1 || tj.Tiles[0] != base+"/basemap/{z}/{x}/{y}.mvt" {
		t.Errorf("TileJSON tiles %v", tj.Tiles)
	}
	var style struct {
		Sources map[string]struct{ URL string }
		Layers  []struct{ ID, Source string }
	}
	getJSON(t, base+"/styles/default.json", &style)
	if style.Sources["basemap"].URL != base+"/basemap.json" || len(style.Layers) < 3 || style.Layers[1].Source != "basemap" {
		t.Errorf("style: basemap source %+v, layers %v", style.Sources["basemap"], style.Layers)
	}
	var meta struct{ Basemap string }
	getJSON(t, base+"/v1/meta", &meta)
	if meta.Basemap != base+"/basemap.json" {
		t.Errorf("meta basemap %q", meta.Basemap)
	}
	// A tile of Bishkek, gzipped MVT with layer adm1.
	bishkek := maptile.At(orb.Point{74.6, 42.87}, 7)
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/basemap/7/%d/%d.mvt", base, bishkek.X, bishkek.Y), nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatalf("tile: %d %v", resp.StatusCode, err)
	}
	raw, _ := io.ReadAll(zr)
	layers, err := mvt.Unmarshal(raw)
	if err != nil || len(layers) == 0 || layers[0].Name != "adm1" {
		t.Errorf("tile: %v %v", layers, err)
	}
}
