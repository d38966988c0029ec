package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/crimemap/crimemap/ingest"
	"github.com/crimemap/crimemap/store"
)

const populationSynopsis = "population import [--field code|year|population=COLUMN ...] [--scale 1000] [--year YYYY] [--rejects PATH] [store flags] FILE.csv"

func cmdPopulation(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprintln(env.stderr, "usage: crimemap "+populationSynopsis)
		return errUsage
	}
	fs := env.newFlags("population import", populationSynopsis)
	sf := env.addStoreFlags(fs)
	fields := fieldFlags{}
	fs.Var(fields, "field", "map a field (code, year, population) to a column, e.g. --field code=soato (repeatable). "+
		"Without a population column, columns named YYYY or yYYYY are read as one figure per year (the official wide layout)")
	scale := fs.Float64("scale", 1, "multiply every value by this: 1000 for files in thousands, such as the official "+
		"stat.uz indicator 2.01.02.0001 (32656.7 means 32,656,700 residents); values must come out whole residents")
	year := fs.Int("year", 0, "year (1 January) of every figure, for a file without a year column")
	rejectsPath := fs.String("rejects", "", "rejects CSV (default: next to the input as NAME.rejects.csv)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open population file: %w", err)
	}
	defer f.Close()

	st, err := sf.open(ctx, env.logger())
	if err != nil {
		return err
	}
	defer st.Close()
	ps, ok := st.(store.PopulationStore)
	if !ok {
		return fmt.Errorf("the %s store keeps no population figures", st.Backend())
	}
	units, err := st.Units(ctx, store.UnitQuery{})
	if err != nil {
		return fmt.Errorf("load units to check codes: %w", err)
	}
	known := make(map[string]bool, len(units))
	for _, u := range units {
		known[u.Code] = true
	}

	if *rejectsPath == "" {
		*rejectsPath = defaultRejectsPath(path)
	}
	rf, err := os.Create(*rejectsPath)
	if err != nil {
		return fmt.Errorf("create rejects file: %w", err)
	}
	rbuf := bufio.NewWriter(rf)
	sum, runErr := ingest.ImportPopulation(ctx, bufio.NewReader(f), ingest.PopulationOptions{
		Fields: fields, Scale: *scale, Year: *year, Known: func(c string) bool { return known[c] }, Rejects: rbuf,
	}, ps.PutPopulation)
	if err := errors.Join(rbuf.Flush(), rf.Close()); err != nil && runErr == nil {
		runErr = fmt.Errorf("write rejects file: %w", err)
	}
	if sum.Rejected == 0 {
		_ = os.Remove(*rejectsPath)
	}
	w := env.stdout
	if sum.Rows > 0 {
		fmt.Fprintf(w, "%s: %d rows, %d figures\n", path, sum.Rows, sum.Figures)
		if runErr != nil {
			fmt.Fprintf(w, "  valid    %6d  (none stored)", sum.Accepted)
		} else {
			fmt.Fprintf(w, "  accepted %6d  (%d new, %d updated, %d unchanged)", sum.Accepted, sum.Store.Inserted, sum.Store.Updated, sum.Store.Unchanged)
		}
		if runErr == nil && len(sum.Years) > 0 {
			fmt.Fprintf(w, " for %d units, years %d-%d", sum.Units, sum.Years[0], sum.Years[len(sum.Years)-1])
		}
		fmt.Fprintln(w)
		if sum.Rejected > 0 {
			fmt.Fprintf(w, "  rejected %6d  (%s; line, field and reason in %s)\n", sum.Rejected, rejectClasses(sum.RejectedBy), *rejectsPath)
		} else {
			fmt.Fprintf(w, "  rejected %6d\n", 0)
		}
	}
	switch {
	case errors.Is(runErr, ingest.ErrAllRejected):
		return fmt.Errorf("population import %s: %w; nothing stored. %s", path, runErr, populationAdvice(sum, len(units)))
	case errors.Is(runErr, ingest.ErrNoFigures):
		return fmt.Errorf("population import %s: %w (check the header and --field mappings)", path, runErr)
	case runErr != nil:
		return fmt.Errorf("population import %s: %w (nothing stored; re-running the file is safe)", path, runErr)
	}
	return nil
}

// rejectClasses lists the reject counts by class, largest first.
func rejectClasses(by map[string]int) string {
	var parts []string
	for _, c := range []string{ingest.PopRejectUnknownUnit, ingest.PopRejectValue, ingest.PopRejectYear,
		ingest.PopRejectCode, ingest.PopRejectDuplicate, ingest.PopRejectRow} {
		if n := by[c]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(c, "_", " ")))
		}
	}
	return strings.Join(parts, ", ")
}

// populationAdvice says what to do about a file whose figures were all
// rejected, from its most common reason.
func populationAdvice(sum ingest.PopulationSummary, units int) string {
	top, n := "", 0
	for c, k := range sum.RejectedBy {
		if k > n || (k == n && c < top) {
			top, n = c, k
		}
	}
	switch {
	case top == ingest.PopRejectUnknownUnit && units == 0:
		return "The store has no units: import boundaries first (crimemap boundaries import, or crimemap demo)."
	case top == ingest.PopRejectUnknownUnit:
		return "No code matches a stored unit: is the code column the SOATO/mahalla code? Map it with --field code=COLUMN."
	case top == ingest.PopRejectValue:
		return "The values are not whole positive numbers of residents: a file in thousands needs --scale 1000; map the right column with --field population=COLUMN."
	case top == ingest.PopRejectYear:
		return "The year column holds no years: map it with --field year=COLUMN, or give --year YYYY."
	}
	return "See the rejects file for the reasons."
}
