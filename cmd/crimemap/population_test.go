package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store/sqlite"
	"github.com/paulmach/orb"
)

func popSquare(x, y, d float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}}}
}

// popStore makes an embedded store with the Bukhara region, Bukhara city
// (boundary population 304,700 of 2026, as the demo seeds) and one
// mahalla without population, plus crimes in the city: 4 in 2024, 2 in
// 2030, and unassigned ones (located outside every unit).
func popStore(t *testing.T, unassigned int) string {
	t.Helper()
	dir := t.TempDir()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	units := []geo.Unit{
		{Code: "1706", Level: geo.LevelRegion, Names: map[string]string{"uz": "Buxoro viloyati"}, Population: 2_107_000, PopulationYear: 2026, Geometry: popSquare(63, 39, 3)},
		{Code: "1706401", ParentCode: "1706", Level: geo.LevelDistrict, Names: map[string]string{"uz": "Buxoro shahri"}, Population: 304_700, PopulationYear: 2026, Geometry: popSquare(64.3, 39.7, 0.2)},
		{Code: "1706401001", ParentCode: "1706401", Level: geo.LevelMahalla, Geometry: popSquare(64.4, 39.75, 0.01)},
	}
	if _, err := st.PutUnits(ctx, units); err != nil {
		t.Fatal(err)
	}
	var evs []analytics.Event
	add := func(id string, at time.Time, assigned bool) {
		e := analytics.Event{Kind: analytics.KindCrime, SourceID: id, OccurredAt: at, Category: "theft", HasLocation: true, Lon: 64.405, Lat: 39.755}
		if assigned {
			e.Region, e.District, e.Mahalla = "1706", "1706401", "1706401001"
		} else {
			e.Lon, e.Lat = 10, 10
		}
		evs = append(evs, e)
	}
	for i, at := range []time.Time{
		time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2030, 4, 1, 0, 0, 0, 0, time.UTC),
	} {
		add("c"+string(rune('a'+i)), at, true)
	}
	for i := range unassigned {
		add("u"+string(rune('a'+i)), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), false)
	}
	if _, err := st.PutEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	return dir
}

func popRun(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, noEnv, &out, &errb)
	return out.String(), errb.String(), err
}

// cityStats answers the district stats of one year from the store.
func cityStats(t *testing.T, dir string, year string) analytics.StatsRow {
	t.Helper()
	st, err := sqlite.Open(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snap, err := storeSnapshot(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	per, err := analytics.ParsePeriod(year, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	res, err := snap.Stats(analytics.StatsQuery{Period: per, Level: geo.LevelDistrict})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rows {
		if r.Unit == "1706401" {
			return r
		}
	}
	t.Fatalf("no row of 1706401 in %+v", res.Rows)
	return analytics.StatsRow{}
}

func TestPopulationImportSynthetic(t *testing.T) {
	dir := popStore(t, 0)
	csv := filepath.Join(t.TempDir(), "pop.csv")
	if err := os.WriteFile(csv, []byte("kod;yil;aholi\n1706401;2023;1000\n1706401;2024;2000\n1706401;2025;4000\n9999;2024;5\n1706401001;2024;abc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"population", "import", "--data", dir, "--field", "code=kod,year=yil", "--field", "population=aholi", csv}
	out, _, err := popRun(t, args...)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	for _, s := range []string{"5 rows", "accepted      3  (3 new, 0 updated, 0 unchanged) for 1 units, years 2023-2025", "rejected      2  (1 unknown unit, 1 bad value"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	rej, err := os.ReadFile(strings.TrimSuffix(csv, ".csv") + ".rejects.csv")
	if err != nil || !strings.Contains(string(rej), `5,code,"unknown unit code ""9999""`) || !strings.Contains(string(rej), "6,population,") {
		t.Errorf("rejects file: %v\n%s", err, rej)
	}
	// Idempotent.
	if out, _, err = popRun(t, args...); err != nil || !strings.Contains(out, "(0 new, 0 updated, 3 unchanged)") {
		t.Errorf("re-import: %v\n%s", err, out)
	}

	for _, tt := range []struct {
		period string
		pop    int64
		year   int
		rate   float64
		why    string
	}{
		{"2024", 2000, 2024, 4 * 1000.0 / 2000, "the period's own year"},
		{"2024-Q3", 2000, 2024, 1000.0 / 2000, "a quarter uses the year it starts in"},
		{"2030", 304_700, 2026, 2 * 1000.0 / 304_700, "no figure for 2030: the nearest, the boundary's 2026"},
		{"2020", 1000, 2023, 0, "no figure for 2020: the nearest, 2023"},
	} {
		r := cityStats(t, dir, tt.period)
		if r.Population != tt.pop || r.PopulationYear != tt.year {
			t.Errorf("%s (%s): population %d of %d, want %d of %d", tt.period, tt.why, r.Population, r.PopulationYear, tt.pop, tt.year)
		}
		if tt.rate > 0 && (r.Rate == nil || *r.Rate-tt.rate > 1e-9 || tt.rate-*r.Rate > 1e-9) {
			t.Errorf("%s: rate %v, want %v", tt.period, r.Rate, tt.rate)
		}
	}
}

func TestPopulationImportOfficial(t *testing.T) {
	src := "../../../shared/data/population/uzb_siat_2.01.02.0001_permanent_population_subset.csv"
	if _, err := os.Stat(src); err != nil {
		t.Skip("official population file not at hand:", err)
	}
	dir := popStore(t, 0)
	csv := filepath.Join(t.TempDir(), "official.csv")
	copyFile(t, src, csv)
	// Without --scale the thousands are refused, with advice, storing nothing.
	out, _, err := popRun(t, "population", "import", "--data", dir, csv)
	if err == nil || !strings.Contains(err.Error(), "--scale 1000") {
		t.Fatalf("import without --scale: %v\n%s", err, out)
	}
	if r := cityStats(t, dir, "2024"); r.PopulationYear != 2026 {
		t.Fatalf("a refused import changed the population: %+v", r)
	}
	out, _, err = popRun(t, "population", "import", "--data", dir, "--scale", "1000", csv)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if !strings.Contains(out, "accepted     18  (18 new") || !strings.Contains(out, "years 2018-2026") {
		t.Errorf("output:\n%s", out)
	}
	// Bukhara city on 1 January 2024: 294.5 thousand.
	r := cityStats(t, dir, "2024")
	if r.Population != 294_500 || r.PopulationYear != 2024 {
		t.Errorf("2024: population %d of %d, want 294500 of 2024", r.Population, r.PopulationYear)
	}
}

func TestPopulationImportAllRejected(t *testing.T) {
	dir := popStore(t, 0)
	csv := filepath.Join(t.TempDir(), "pop.csv")
	if err := os.WriteFile(csv, []byte("code,year,population\n1,2024,5\n2,2024,6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := popRun(t, "population", "import", "--data", dir, csv)
	if err == nil || !strings.Contains(err.Error(), "--field code=COLUMN") {
		t.Errorf("all rejected: %v", err)
	}
}

func TestCheckFresh(t *testing.T) {
	out, _, err := popRun(t, "check", "--data", t.TempDir())
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("check of a fresh store: %v, want exit 1", err)
	}
	for _, s := range []string{"ok    store       reachable (sqlite)", "ok    migrations  schema version", "FAIL  units       no boundaries", "warn  events      no events yet", "1 failed, 1 warnings"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

func TestCheckWarnings(t *testing.T) {
	dir := popStore(t, 0)
	out, _, err := popRun(t, "doctor", "--data", dir)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	for _, s := range []string{"ok    units       1 region, 1 district, 1 mahalla",
		"warn  population  1 of 1 mahallas have no population, so no rates (1706401001)",
		"-> 1 mahalla have no population: crimemap population import FILE.csv",
		"ok    events      crime    6: 0 unassigned (0.0%), 0 without location (0.0%)", "0 failed, 1 warnings"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

func TestCheckUnassigned(t *testing.T) {
	dir := popStore(t, 3) // 3 of 9 crimes outside every unit
	out, _, err := popRun(t, "check", "--data", dir)
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("check: %v, want exit 1\n%s", err, out)
	}
	if !strings.Contains(out, "FAIL  events      crime    9: 3 unassigned (33.3%)") || !strings.Contains(out, "crimemap boundaries import") {
		t.Errorf("output:\n%s", out)
	}
}

func TestCheckDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a demo")
	}
	dir := t.TempDir()
	if _, _, err := popRun(t, "demo", "--scale", "0.02", "--data", dir); err != nil {
		t.Fatal(err)
	}
	out, _, err := popRun(t, "check", "--data", dir)
	if err != nil {
		t.Fatalf("check of the demo: %v\n%s", err, out)
	}
	for _, s := range []string{"ok    population  every unit has a population", "0 failed"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}
