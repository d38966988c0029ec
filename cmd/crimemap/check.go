package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
)

// Thresholds of `crimemap check`.
const (
	// checkFailUnassigned: a kind with at least this share of its events
	// located outside every unit fails (the boundaries are missing or do
	// not cover the data); any share below warns.
	checkFailUnassigned = 0.10
	// checkExamples is how many codes a line names.
	checkExamples = 5
)

// checkReport collects the lines of `crimemap check`.
type checkReport struct {
	w            io.Writer
	fails, warns int
}

func (r *checkReport) line(status, name, format string, args ...any) {
	switch status {
	case "FAIL":
		r.fails++
	case "warn":
		r.warns++
	}
	fmt.Fprintf(r.w, "%-4s  %-11s %s\n", status, name, fmt.Sprintf(format, args...))
}

func (r *checkReport) advice(format string, args ...any) {
	fmt.Fprintf(r.w, "      %-11s -> %s\n", "", fmt.Sprintf(format, args...))
}

// cmdCheck checks the store is usable for analysis: reachable, schema
// current, units with population, events located and assigned. A failure
// (exit 1) is something that breaks results: no store, an old or newer
// schema, no units, or a kind with 10%+ of its events outside every unit.
// A warning (exit 0) degrades them: units without population (no rates),
// events without location or unassigned below 10%, no events yet.
func cmdCheck(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("check", "check [store flags]   (alias: doctor)")
	sf := env.addStoreFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	r := &checkReport{w: env.stdout}
	fmt.Fprintf(env.stdout, "crimemap check: %s\n", sf.describe())
	defer func() {
		fmt.Fprintf(env.stdout, "%d failed, %d warnings\n", r.fails, r.warns)
	}()
	st, err := sf.open(ctx, env.logger())
	if err == nil {
		defer st.Close()
		err = st.Ping(ctx)
	}
	if err != nil {
		r.line("FAIL", "store", "unreachable: %v", err)
		r.advice("check %s (a PostGIS URL needs a running server with the postgis extension)", sf.flagsText())
		return fmt.Errorf("check: store unreachable: %w", err)
	}
	r.line("ok", "store", "reachable (%s)", st.Backend())
	if err := runChecks(ctx, st, r); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if r.fails > 0 {
		return fmt.Errorf("check: %d failed", r.fails)
	}
	return nil
}

func runChecks(ctx context.Context, st store.Store, r *checkReport) error {
	doc, isDoc := st.(store.Doctor)
	if isDoc {
		cur, latest, err := doc.SchemaVersion(ctx)
		switch {
		case err != nil:
			return err
		case cur == latest:
			r.line("ok", "migrations", "schema version %d (current)", cur)
		case cur < latest:
			r.line("FAIL", "migrations", "schema version %d, this binary needs %d", cur, latest)
			r.advice("crimemap migrate")
		default:
			r.line("FAIL", "migrations", "schema version %d is newer than this binary knows (%d)", cur, latest)
			r.advice("upgrade crimemap to the version that migrated this store")
		}
	}

	units, err := store.UnitsWithPopulation(ctx, st, store.UnitQuery{})
	if err != nil {
		return err
	}
	byLevel := map[geo.Level]int{}
	missing := map[geo.Level][]string{}
	for i := range units {
		u := &units[i]
		byLevel[u.Level]++
		if len(u.PopulationSeries()) == 0 {
			missing[u.Level] = append(missing[u.Level], u.Code)
		}
	}
	if len(units) == 0 {
		r.line("FAIL", "units", "no boundaries: events cannot be assigned to mahallas, districts or regions")
		r.advice("crimemap boundaries import --level region|district|mahalla FILE.geojson (or crimemap demo)")
	} else {
		var parts []string
		for _, l := range geo.Levels {
			parts = append(parts, fmt.Sprintf("%d %s", byLevel[l], plural(l, byLevel[l])))
		}
		r.line("ok", "units", "%s", strings.Join(parts, ", "))
		nMissing := 0
		for _, l := range geo.Levels {
			codes := missing[l]
			if len(codes) == 0 {
				continue
			}
			nMissing++
			ex := codes[:min(len(codes), checkExamples)]
			more := ""
			if len(codes) > len(ex) {
				more = ", ..."
			}
			r.line("warn", "population", "%d of %d %s have no population, so no rates (%s%s)",
				len(codes), byLevel[l], plural(l, 2), strings.Join(ex, ", "), more)
			r.advice("%d %s have no population: crimemap population import FILE.csv", len(codes), plural(l, len(codes)))
		}
		if nMissing == 0 {
			r.line("ok", "population", "every unit has a population")
		}
	}

	if !isDoc {
		return nil
	}
	cov, err := doc.EventCoverage(ctx)
	if err != nil {
		return err
	}
	if len(cov) == 0 {
		r.line("warn", "events", "no events yet")
		r.advice("crimemap ingest --kind crime|accident|offence FILE.csv")
		return nil
	}
	for _, c := range cov {
		name := c.Kind.String()
		share := func(n int) float64 { return 100 * float64(n) / float64(c.Total) }
		status := "ok"
		switch {
		case float64(c.Unassigned) >= checkFailUnassigned*float64(c.Total):
			status = "FAIL"
		case c.Unassigned > 0 || c.NoLocation > 0:
			status = "warn"
		}
		r.line(status, "events", "%-8s %d: %d unassigned (%.1f%%), %d without location (%.1f%%)",
			name, c.Total, c.Unassigned, share(c.Unassigned), c.NoLocation, share(c.NoLocation))
		var todo []string
		if c.Unassigned > 0 {
			todo = append(todo, "for the unassigned, import the boundaries that cover them (crimemap boundaries import assigns the stored events; crimemap reassign re-runs it)")
		}
		if c.NoLocation > 0 {
			todo = append(todo, "those without location count in totals but not on maps (map lat/lon with --field when ingesting)")
		}
		if len(todo) > 0 {
			r.advice("%s", strings.Join(todo, "; "))
		}
	}
	return nil
}

func plural(l geo.Level, n int) string {
	if n == 1 {
		return string(l)
	}
	if l == geo.LevelMahalla {
		return "mahallas"
	}
	return string(l) + "s"
}
