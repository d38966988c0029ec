package main

// A newcomer's first hour with real data: no silent surprises. Stray
// words and help on every subcommand, imports that reject everything,
// files of the wrong kind, empty files, parents of boundaries, and
// classification of a store without mahallas.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/sqlite"
)

// realData returns the path of a file of ../shared/data, skipping the test
// when it is absent (failing with CRIMEMAP_REQUIRE_POSTGIS=1, as CI sets).
func realData(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("../../../shared/data", rel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CRIMEMAP_REQUIRE_POSTGIS") == "1" {
			t.Fatalf("real data required: %v", err)
		}
		t.Skipf("real data not available: %v (see ../shared/data/SOURCES.md)", err)
	}
	return p
}

// runCmd runs the command line and returns its error, stdout and stderr.
func runCmd(t *testing.T, ctx context.Context, args ...string) (error, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(ctx, args, noEnv, &out, &errb)
	return err, out.String(), errb.String()
}

// memphisArgs are the README's Memphis ingest flags.
var memphisArgs = []string{"--kind", "crime", "--tz", "America/Chicago",
	"--field", "source_id=uid,category=offense_type,occurred_at=date_local_wallclock,lon=longitude,lat=latitude"}

// A square region near Tashkent, far from Memphis.
const regionRG = `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"RG","name_en":"Test region"},
"geometry":{"type":"Polygon","coordinates":[[[69,41],[70,41],[70,42],[69,42],[69,41]]]}}]}`

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// storeWithRegion makes an embedded store holding region RG only.
func storeWithRegion(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err, _, stderr := runCmd(t, context.Background(), "boundaries", "import", "--level", "region", "--data", data,
		writeFile(t, dir, "region.geojson", regionRG)); err != nil {
		t.Fatalf("import region: %v\n%s", err, stderr)
	}
	return data
}

func countEvents(t *testing.T, data string) int {
	t.Helper()
	st, err := sqlite.Open(context.Background(), data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, k := range c.Events {
		n += k
	}
	return n
}

// TestSubcommandHelpAndStrayWords: -h, --help and a positional "help" print
// the command's usage on stdout and succeed without doing anything; a stray
// word is an error (exit 2) naming it and the usage. The context is
// cancelled, so a command that went on to work would fail, not hang.
func TestSubcommandHelpAndStrayWords(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data") // must never be created
	cmds := [][]string{
		{"serve"}, {"demo"}, {"ingest"}, {"boundaries", "import"}, {"migrate"}, {"hotspots"}, {"classify"},
		{"token", "create"}, {"token", "list"}, {"token", "revoke"}, {"bench"}, {"loadtest"}, {"report"}, {"version"},
	}
	for _, c := range cmds {
		name := strings.Join(c, " ")
		withData := append(append([]string{}, c...), "--data", data)
		if c[0] == "bench" || c[0] == "loadtest" || c[0] == "version" {
			withData = c // no --data flag
		}
		for _, help := range []string{"-h", "--help", "help"} {
			args := append(append([]string{}, withData...), help)
			err, stdout, stderr := runCmd(t, ctx, args...)
			if err != nil {
				t.Errorf("%s %s: %v, want nil (exit 0)\n%s", name, help, err, stderr)
			}
			if !strings.Contains(stdout, "usage: crimemap "+name) {
				t.Errorf("%s %s: stdout lacks the usage:\n%s", name, help, stdout)
			}
			if stderr != "" {
				t.Errorf("%s %s: stderr %q, want nothing", name, help, stderr)
			}
		}
		args := append(append([]string{}, withData...), "stray")
		switch c[0] {
		case "ingest":
			args = append(append([]string{}, withData...), "--kind", "crime", "a.csv", "stray")
		case "boundaries":
			args = append(append([]string{}, withData...), "--level", "region", "a.geojson", "stray")
		case "token":
			if c[1] == "revoke" {
				args = append(append([]string{}, withData...), "ID1", "stray")
			}
		}
		err, _, stderr := runCmd(t, ctx, args...)
		if !errors.Is(err, errUsage) || exitCode(err) != 2 {
			t.Errorf("%s with a stray word: %v, want a usage error (exit 2)", name, err)
		}
		for _, want := range []string{`unexpected argument "stray"`, "usage: crimemap " + name} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s with a stray word: stderr lacks %q:\n%s", name, want, stderr)
			}
		}
	}
	// boundaries and token alone.
	for _, c := range [][]string{{"boundaries", "-h"}, {"boundaries", "help"}, {"token", "-h"}, {"token", "help"}} {
		if err, stdout, _ := runCmd(t, ctx, c...); err != nil || !strings.Contains(stdout, "usage") {
			t.Errorf("%v: %v, stdout %q", c, err, stdout)
		}
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a help or a stray word touched the store %s: %v", data, err)
	}
}

// TestParseFlagsAfterFile: flags may follow the file, "--" ends the flags.
func TestParseFlagsAfterFile(t *testing.T) {
	env := &environment{getenv: noEnv, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	fs := env.newFlags("ingest", "ingest --kind K [store flags] FILE")
	kind := fs.String("kind", "", "")
	if err := parse(fs, []string{"a.csv", "--kind", "crime"}); err != nil {
		t.Fatal(err)
	}
	if *kind != "crime" || fs.NArg() != 1 || fs.Arg(0) != "a.csv" {
		t.Errorf("kind %q, args %q", *kind, fs.Args())
	}
	fs = env.newFlags("ingest", "ingest --kind K [store flags] FILE")
	fs.String("kind", "", "")
	if err := parse(fs, []string{"--", "-odd.csv"}); err != nil || fs.Arg(0) != "-odd.csv" {
		t.Errorf("after --: %v, %q", err, fs.Args())
	}
	for syn, want := range map[string]string{
		"serve [--addr HOST:PORT] [store flags]":                   "",
		"hotspots --period P --unit CODE|--bbox B [store flags]":   "",
		"token revoke [store flags] ID":                            "ID",
		"ingest --kind crime|accident|offence [store flags] FILE":  "FILE",
		"version  (or: crimemap --version)":                        "",
		"boundaries import --level L [--parent CODE] FILE.geojson": "FILE.geojson",
	} {
		words := strings.Fields(syn)
		name := words[0]
		if name == "token" || name == "boundaries" {
			name += " " + words[1]
		}
		fs := env.newFlags(name, syn)
		for _, f := range []string{"addr", "period", "unit", "bbox", "kind", "level", "parent"} {
			fs.String(f, "", "")
		}
		got, _ := synopsisArgs(fs, syn)
		if strings.Join(got, " ") != want {
			t.Errorf("synopsisArgs(%q) = %q, want %q", syn, got, want)
		}
	}
}

// TestIngestEveryRowRejected: the README's Memphis ingest into a store of
// Uzbek units rejects every row; that fails (exit 1), says why and what to
// do, and keeps the rejects file. When most rows (not all) share a cause,
// the import succeeds with a warning giving the same advice.
func TestIngestEveryRowRejected(t *testing.T) {
	memphis := realData(t, "incidents/memphis_robberies.csv")
	ctx := context.Background()
	data := storeWithRegion(t)
	rejects := filepath.Join(t.TempDir(), "memphis.rejects.csv")
	args := append(append([]string{"ingest", "--data", data, "--rejects", rejects}, memphisArgs...), memphis)
	err, stdout, stderr := runCmd(t, ctx, args...)
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("every row rejected: %v, want an error (exit 1)\n%s%s", err, stdout, stderr)
	}
	msg := err.Error()
	for _, want := range []string{
		"all 2,245 rows rejected: 2,245 are more than 50 km outside every stored unit",
		"the points lie in lon -90.", "lat 35.",
		"load the boundaries of their area first (crimemap boundaries import",
		"rejects in " + rejects,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if !strings.Contains(stdout, "rejected       2245") || !strings.Contains(stdout, "2245  more than 50 km outside every stored unit") {
		t.Errorf("summary lacks the rejects by cause:\n%s", stdout)
	}
	b, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatalf("rejects file not kept: %v", err)
	}
	if n := strings.Count(string(b), "\n"); n != 2246 {
		t.Errorf("rejects file has %d lines, want 2,246 (header and every row)", n)
	}
	if n := countEvents(t, data); n != 0 {
		t.Errorf("%d events stored", n)
	}

	// Three rows in four far away, one in the region: a warning.
	lines := strings.Split(strings.TrimSpace(string(mustRead(t, memphis))), "\n")
	var mixed strings.Builder
	mixed.WriteString(lines[0] + "\n")
	for i, l := range lines[1:] {
		if i%4 == 0 {
			f := strings.Split(l, ",")
			l = strings.Join(append(f[:len(f)-2], "69.5", "41.5"), ",")
		}
		mixed.WriteString(l + "\n")
	}
	in := writeFile(t, t.TempDir(), "mixed.csv", mixed.String())
	err, stdout, stderr = runCmd(t, ctx, append(append([]string{"ingest", "--data", data}, memphisArgs...), in)...)
	if err != nil {
		t.Fatalf("mixed: %v\n%s", err, stderr)
	}
	for _, want := range []string{"warning: 1,683 of 2,245 rows (75%) rejected as more than 50 km outside every stored unit",
		"load the boundaries of their area first"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("mixed: stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "accepted        562") {
		t.Errorf("mixed: summary\n%s", stdout)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestIngestWrongFiles: polygons given to ingest, points given to
// boundaries, empty files and a missing --kind each fail at once with a
// message that names the file and what to do; nothing is stored and no
// rejects file is left.
func TestIngestWrongFiles(t *testing.T) {
	ctx := context.Background()
	data := storeWithRegion(t)
	dir := t.TempDir()
	points := writeFile(t, dir, "points.geojson", `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"source_id":"1","occurred_at":"2025-01-01 10:00","category":"theft"},"geometry":{"type":"Point","coordinates":[69.5,41.5]}}]}`)
	tests := []struct {
		name string
		args []string
		want []string
		exit int
	}{
		{"polygons to ingest", []string{"ingest", "--kind", "crime", "--data", data, writeFile(t, dir, "areas.geojson", regionRG)},
			[]string{"areas.geojson holds polygons (boundaries?), not events (feature 0 is a Polygon): use crimemap boundaries import --level"}, 1},
		{"polygons to ingest without --kind", []string{"ingest", "--data", data, filepath.Join(dir, "areas.geojson")},
			[]string{"holds polygons (boundaries?), not events"}, 1},
		{"points to boundaries", []string{"boundaries", "import", "--level", "district", "--data", data, points},
			[]string{"points.geojson holds points (events?), not boundaries (feature 0 is a Point): use crimemap ingest"}, 1},
		{"empty GeoJSON", []string{"ingest", "--kind", "crime", "--data", data, writeFile(t, dir, "empty.geojson", "")},
			[]string{"empty.geojson: empty file (want a GeoJSON FeatureCollection"}, 1},
		{"blank CSV", []string{"ingest", "--kind", "crime", "--data", data, writeFile(t, dir, "empty.csv", "\n  \n")},
			[]string{"empty.csv: empty file (want a CSV header line"}, 1},
		{"empty boundaries", []string{"boundaries", "import", "--level", "region", "--data", data, filepath.Join(dir, "empty.geojson")},
			[]string{"empty.geojson: empty file (want a GeoJSON FeatureCollection)"}, 1},
		{"no --kind", []string{"ingest", "--data", data, writeFile(t, dir, "nokind.csv", "source_id,occurred_at,category\n1,2025-01-01,theft\n")},
			[]string{"--kind is required (crime, accident or offence): ", "nokind.csv"}, 2},
		{"no file", []string{"ingest", "--kind", "crime", "--data", data}, []string{"which file?"}, 2},
		{"no --level", []string{"boundaries", "import", "--data", data, points}, []string{"--level is required (region, district or mahalla)"}, 2},
	}
	for _, tc := range tests {
		err, stdout, stderr := runCmd(t, ctx, tc.args...)
		if err == nil {
			t.Errorf("%s: succeeded\n%s", tc.name, stdout)
			continue
		}
		if exitCode(err) != tc.exit {
			t.Errorf("%s: exit %d, want %d (%v)", tc.name, exitCode(err), tc.exit, err)
		}
		msg := strings.TrimPrefix(err.Error(), "usage: ") + stderr
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: message lacks %q:\n%s", tc.name, w, msg)
			}
		}
		if strings.Contains(msg, "Options.") || strings.Contains(msg, ": EOF") {
			t.Errorf("%s: internal detail in %q", tc.name, msg)
		}
	}
	if n := countEvents(t, data); n != 0 {
		t.Errorf("%d events stored", n)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.rejects.csv"))
	if len(left) > 0 {
		t.Errorf("rejects files left for refused inputs: %v", left)
	}
	if p := realDataOptional("incidents/memphis_precincts.geojson"); p != "" {
		err, _, _ := runCmd(t, ctx, append(append([]string{"ingest", "--data", data, "--rejects", filepath.Join(dir, "r.csv")}, memphisArgs...), p)...)
		if err == nil || !strings.Contains(err.Error(), "memphis_precincts.geojson holds polygons (boundaries?), not events") {
			t.Errorf("Memphis precincts given to ingest: %v", err)
		}
	}
}

// realDataOptional is the path of a real data file, "" when absent.
func realDataOptional(rel string) string {
	p, err := filepath.Abs(filepath.Join("../../../shared/data", rel))
	if err != nil {
		return ""
	}
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// TestIngestRejectsBesideReadOnlyInput: when the rejects file cannot be
// written beside the input (a read-only data set), it goes to the current
// directory, and the command says so.
func TestIngestRejectsBesideReadOnlyInput(t *testing.T) {
	in := t.TempDir()
	csv := writeFile(t, in, "rows.csv", "source_id,occurred_at,category,lat,lon\n1,2025-01-01,theft,41.5,69.5\n2,bad,theft,41.5,69.5\n")
	// A directory where the rejects file would go: not writable, even as root.
	if err := os.Mkdir(filepath.Join(in, "rows.rejects.csv"), 0o755); err != nil {
		t.Fatal(err)
	}
	data := storeWithRegion(t)
	work := t.TempDir()
	t.Chdir(work)
	err, stdout, stderr := runCmd(t, context.Background(), "ingest", "--kind", "crime", "--data", data, csv)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "rejects go to rows.rejects.csv") || !strings.Contains(stdout, "rejected          1  (line, field and reason in rows.rejects.csv)") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(work, "rows.rejects.csv")); err != nil {
		t.Errorf("rejects not in the current directory: %v", err)
	}
}

// TestBoundariesParents: --parent wins over a parent_code property; a
// parent neither in the file nor in the store is an error naming the unit
// and the parent unless --allow-missing-parents; a parent of the wrong
// level is an error.
func TestBoundariesParents(t *testing.T) {
	ctx := context.Background()
	data := storeWithRegion(t)
	dir := t.TempDir()
	districts := writeFile(t, dir, "districts.geojson", `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"D1","name_en":"North","parent_code":"1727"},"geometry":{"type":"Polygon","coordinates":[[[69,41.5],[70,41.5],[70,42],[69,42],[69,41.5]]]}},
{"type":"Feature","properties":{"code":"D2","name_en":"South","parent_code":"1727"},"geometry":{"type":"Polygon","coordinates":[[[69,41],[70,41],[70,41.5],[69,41.5],[69,41]]]}}]}`)
	imp := func(args ...string) (error, string, string) {
		return runCmd(t, ctx, append(append([]string{"boundaries", "import", "--data", data}, args...), districts)...)
	}
	err, _, _ := imp("--level", "district")
	if err == nil {
		t.Fatal("districts whose parent 1727 exists nowhere were stored")
	}
	for _, want := range []string{`district D1 "North" (feature 0) and 1 more: parent 1727 is neither in`, "nor in the store",
		"load the regions first", "--allow-missing-parents"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing parent: error lacks %q:\n%v", want, err)
		}
	}
	if err, _, stderr := imp("--level", "district", "--parent", "RG"); err != nil {
		t.Fatalf("--parent RG over parent_code 1727: %v\n%s", err, stderr)
	}
	st, err := sqlite.Open(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"D1", "D2"} {
		u, err := st.Unit(ctx, code)
		if err != nil || u.ParentCode != "RG" {
			t.Errorf("%s: parent %q (%v), want RG (--parent wins)", code, u.ParentCode, err)
		}
	}
	st.Close()
	err, _, stderr := imp("--level", "district", "--parent", "NOWHERE", "--allow-missing-parents")
	if err != nil || !strings.Contains(stderr, "note (--allow-missing-parents): district D1") || !strings.Contains(stderr, "parent NOWHERE") {
		t.Errorf("--allow-missing-parents: %v\n%s", err, stderr)
	}
	// A mahalla file naming a region as its parent.
	mahallas := writeFile(t, dir, "mahallas.geojson", strings.ReplaceAll(regionRG, `"code":"RG"`, `"code":"M1","parent_code":"RG"`))
	err, _, _ = runCmd(t, ctx, "boundaries", "import", "--level", "mahalla", "--data", data, mahallas)
	if err == nil || !strings.Contains(err.Error(), "mahalla M1") || !strings.Contains(err.Error(), "parent RG is a region in the store, want a district") {
		t.Errorf("wrong-level parent: %v", err)
	}
	if err, _, _ := runCmd(t, ctx, "boundaries", "import", "--level", "region", "--parent", "X", "--data", data, districts); !errors.Is(err, errUsage) {
		t.Errorf("--parent for regions: %v, want a usage error", err)
	}

	// The real Chinoz mahallas carry parent_code 1727 (their region, not
	// their district 1727256).
	chinoz := realDataOptional("boundaries/uzb_mahalla_chinoz/chinoz_mahalla.geojson")
	if chinoz == "" {
		return
	}
	err, _, _ = runCmd(t, ctx, "boundaries", "import", "--level", "mahalla", "--field", "code=mahalla_id,name_uz=mahalla_nomi", "--data", data, chinoz)
	if err == nil || !strings.Contains(err.Error(), "mahalla 1727256034") || !strings.Contains(err.Error(), "parent 1727 is neither in") {
		t.Errorf("Chinoz with parent_code 1727: %v", err)
	}
	err, stdout, stderr := runCmd(t, ctx, "boundaries", "--level", "mahalla", "--field", "code=mahalla_id,name_uz=mahalla_nomi",
		"--parent", "D1", "--data", data, chinoz) // "import" implied by the flags
	if err != nil || !strings.Contains(stdout, "55 mahalla units") {
		t.Errorf("Chinoz with --parent D1: %v\n%s%s", err, stdout, stderr)
	}
}

// TestClassifyWithoutMahallas: classifying a store without mahallas fails
// with what to load and stores no run.
func TestClassifyWithoutMahallas(t *testing.T) {
	ctx := context.Background()
	data := storeWithRegion(t)
	err, _, _ := runCmd(t, ctx, "classify", "--period", "2025-Q3", "--data", data)
	if err == nil {
		t.Fatal("classify without mahallas succeeded")
	}
	want := "no mahallas in the store (embedded store " + data + "): nothing to classify, no run stored (load mahalla boundaries first: crimemap boundaries import --level mahalla"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
	err, _, _ = runCmd(t, ctx, "classify", "--period", "2025-Q3", "--unit", "RG", "--data", data)
	if err == nil || !strings.Contains(err.Error(), "no mahallas in unit RG") {
		t.Errorf("--unit RG: %v", err)
	}
	st, err := sqlite.Open(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(ctx, store.RunQuery{Limit: store.MaxLimit})
	if err != nil || len(runs) != 0 {
		t.Errorf("%d runs stored (%v), want none", len(runs), err)
	}
}
