package main

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/paulmach/orb"
)

const classifySynopsis = "classify --period 2025-Q3 [--policy FILE] [--unit CODE] [--format table|csv] [--tz ZONE] [store flags]"

// loadPolicy reads a policy file, or returns the built-in policy for "".
func loadPolicy(path string) (*classify.Policy, error) {
	if path == "" {
		return classify.DefaultPolicy(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	defer f.Close()
	p, err := classify.LoadPolicy(f, path)
	if err != nil {
		return nil, err // names the file and line
	}
	return p, nil
}

// cmdClassify classifies every mahalla (or those of --unit) for a period
// with the store's data, the policy and the stored runs of earlier periods,
// stores the run and prints a summary (or CSV of every mahalla).
func cmdClassify(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("classify", classifySynopsis)
	sf := env.addStoreFlags(fs)
	period := fs.String("period", "", "period to classify (2025, 2025-H1, 2025-Q3, 2025-07, 2025-W28); required")
	policyPath := fs.String("policy", env.env("CRIMEMAP_POLICY"), "policy file, YAML or JSON (env CRIMEMAP_POLICY; default: the built-in policy)")
	unit := fs.String("unit", "", "classify only the mahallas of this region or district")
	format := fs.String("format", "table", "table (summary) or csv (every mahalla)")
	tz := fs.String("tz", envOr(env, "CRIMEMAP_TZ", "Asia/Tashkent"), "zone periods are cut in (env CRIMEMAP_TZ)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *format != "table" && *format != "csv" {
		return fmt.Errorf("%w: --format %q: want table or csv", errUsage, *format)
	}
	if *period == "" {
		return fmt.Errorf("%w: --period is required (e.g. 2025-Q3)", errUsage)
	}
	loc, err := location(*tz)
	if err != nil {
		return err
	}
	per, err := analytics.ParsePeriod(*period, loc)
	if err != nil {
		return fmt.Errorf("%w: --period: %w", errUsage, err)
	}
	pol, err := loadPolicy(*policyPath)
	if err != nil {
		return err
	}
	log := env.logger()
	st, err := sf.open(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()
	rs, ok := st.(store.RunStore)
	if !ok {
		return fmt.Errorf("the %s store does not keep classification runs", st.Backend())
	}
	snap, err := storeSnapshot(ctx, st)
	if err != nil {
		return err
	}
	if *unit != "" {
		if _, _, ok := snap.Unit(*unit); !ok {
			return fmt.Errorf("--unit %q: %w", *unit, store.ErrNotFound)
		}
	}
	// Nothing to classify is an error, not an empty run.
	if m, err := snap.UnitsAt(geo.LevelMahalla, *unit); err != nil {
		return fmt.Errorf("mahallas of %q: %w", *unit, err)
	} else if len(m) == 0 {
		where := "in the store (" + sf.describe() + ")"
		if *unit != "" {
			where = "in unit " + *unit
		}
		return fmt.Errorf("no mahallas %s: nothing to classify, no run stored (load mahalla boundaries first: crimemap boundaries import --level mahalla [--field code=PROPERTY,...] FILE.geojson)", where)
	}
	hist, err := store.RunHistory(ctx, rs, per.From)
	if err != nil {
		return err
	}
	// The API records the admin token's ID instead of "cli".
	run, err := classifyAndStore(ctx, st, rs, snap, pol, per, *unit, hist, "cli", time.Now())
	if err != nil {
		return err
	}
	demo := isDemoStore(ctx, st)
	if *format == "csv" {
		if demo {
			fmt.Fprintf(env.stderr, "%s\n", demoNotice)
		}
		fmt.Fprintf(env.stderr, "classification run %d stored (%s, policy %s %s, snapshot %d)\n",
			run.ID, run.Period, run.PolicyName, run.PolicyVersion, run.SnapshotVersion)
		return writeRunCSV(env.stdout, &run)
	}
	if demo {
		fmt.Fprintf(env.stdout, "%s\n\n", demoNotice)
	}
	return writeRunSummary(env.stdout, &run, snap, len(hist))
}

// classifyAndStore classifies every mahalla of snap (or those of unit) for
// per with pol and hist, the runs of earlier periods (store.RunHistory or
// store.SelectHistory), and stores the run, recorded as made by createdBy
// at now; it returns the run with its ID. crimemap classify and the demo's
// seeding (seedDemoRuns) both use it.
func classifyAndStore(ctx context.Context, st store.Store, rs store.RunStore, snap *analytics.Snapshot, pol *classify.Policy,
	per analytics.Period, unit string, hist []classify.Run, createdBy string, now time.Time) (classify.Run, error) {
	run, err := classify.Classify(ctx, classify.Input{
		Snapshot: snap, Policy: pol, Period: per, Unit: unit, History: hist, Now: now,
		Boundaries: func(code string) (orb.MultiPolygon, error) {
			u, err := st.Unit(ctx, code)
			if errors.Is(err, store.ErrNotFound) {
				return nil, nil
			}
			return u.Geometry, err
		},
	})
	if err != nil {
		return classify.Run{}, fmt.Errorf("classify %s: %w", per.Label, err)
	}
	run.Unit = unit
	run.CreatedBy = createdBy
	if run.ID, err = rs.PutRun(ctx, run); err != nil {
		return classify.Run{}, fmt.Errorf("store the run of %s: %w", per.Label, err)
	}
	return run, nil
}

type catCounts struct{ red, yellow, green int }

func (c *catCounts) add(cat classify.Category) {
	switch cat {
	case classify.Red:
		c.red++
	case classify.Yellow:
		c.yellow++
	default:
		c.green++
	}
}

func (c catCounts) total() int { return c.red + c.yellow + c.green }

func pct(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}

// writeRunSummary prints the run's identity and its counts per category,
// overall and per district (worst first: most red, then yellow).
func writeRunSummary(w io.Writer, run *classify.Run, snap *analytics.Snapshot, history int) error {
	scope := "every mahalla"
	if run.Unit != "" {
		scope = "the mahallas of " + run.Unit
	}
	fmt.Fprintf(w, "classification run %d: %s (%s .. %s), %s\n", run.ID, run.Period,
		run.PeriodFrom.Format(time.DateOnly), run.PeriodTo.Add(-time.Nanosecond).Format(time.DateOnly), scope)
	fmt.Fprintf(w, "policy %q version %s; snapshot %d (data version %d, input version %d); %d earlier periods in the history\n\n",
		run.PolicyName, run.PolicyVersion, run.SnapshotVersion, run.DataVersion, run.InputVersion, history)
	var all catCounts
	byDistrict := map[string]*catCounts{}
	for i := range run.Results {
		r := &run.Results[i]
		all.add(r.Category)
		c := byDistrict[r.District]
		if c == nil {
			c = &catCounts{}
			byDistrict[r.District] = c
		}
		c.add(r.Category)
	}
	n := all.total()
	fmt.Fprintf(w, "mahallas %d: red %d (%s), yellow %d (%s), green %d (%s)\n\n",
		n, all.red, pct(all.red, n), all.yellow, pct(all.yellow, n), all.green, pct(all.green, n))
	codes := make([]string, 0, len(byDistrict))
	for code := range byDistrict {
		codes = append(codes, code)
	}
	slices.SortFunc(codes, func(a, b string) int {
		ca, cb := byDistrict[a], byDistrict[b]
		if c := cmp.Compare(cb.red, ca.red); c != 0 {
			return c
		}
		if c := cmp.Compare(cb.yellow, ca.yellow); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "district\tname\tred\tyellow\tgreen\tmahallas")
	for _, code := range codes {
		name := ""
		if _, u, ok := snap.Unit(code); ok {
			name = u.Name
		}
		c := byDistrict[code]
		if code == "" {
			code, name = "-", "(no district)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", code, name, c.red, c.yellow, c.green, c.total())
	}
	return tw.Flush()
}

// writeRunCSV writes every mahalla of the run.
func writeRunCSV(w io.Writer, run *classify.Run) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"run", "period", "mahalla", "name", "district", "population", "category", "rule", "score", "rank",
		"previous", "transition", "streak", "red_years", "reasons"})
	for i := range run.Results {
		r := &run.Results[i]
		_ = cw.Write([]string{strconv.FormatInt(run.ID, 10), run.Period, r.Mahalla, r.Name, r.District, strconv.FormatInt(r.Population, 10),
			string(r.Category), r.Rule, csvNum(r.Score), strconv.Itoa(r.Rank), string(r.Previous), r.Transition,
			strconv.Itoa(r.Streak), strconv.Itoa(r.RedYears), strings.Join(r.Reasons, "; ")})
	}
	cw.Flush()
	return cw.Error()
}
