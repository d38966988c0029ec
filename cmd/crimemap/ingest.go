package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest"
	"github.com/crimemap/crimemap/store"
)

func cmdIngest(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("ingest", "ingest --kind crime|accident|offence [--field name=column ...] [--tz ZONE] [--rejects PATH] [store flags] FILE.csv|FILE.geojson")
	sf := env.addStoreFlags(fs)
	kindName := fs.String("kind", "", "kind of every event: crime, accident or offence (may be omitted when the file has a kind column)")
	fields := fieldFlags{}
	fs.Var(fields, "field", "map a field to another column name, e.g. --field source_id=uid (repeatable; occurred_at=date+time joins two columns)")
	tz := fs.String("tz", envOr(env, "CRIMEMAP_TZ", ingest.DefaultLocation), "zone of times written without one (env CRIMEMAP_TZ)")
	rejectsPath := fs.String("rejects", "", "rejects CSV (default: next to the input as NAME.rejects.csv)")
	format := fs.String("format", "", "csv or geojson (default: from the file name)")
	batch := fs.Int("batch", ingest.DefaultBatchSize, "events per atomic batch")
	marginKm := fs.Float64("margin-km", ingest.DefaultMarginKm, "reject points farther than this outside every unit")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	path := fs.Arg(0)
	var opts ingest.Options
	if *kindName != "" {
		k, err := analytics.ParseKind(*kindName)
		if err != nil {
			return fmt.Errorf("--kind: %w", err)
		}
		opts.Kind = k
	}
	var err error
	if *format != "" {
		opts.Format, err = ingest.FormatFromName("x." + *format)
	} else {
		opts.Format, err = ingest.FormatFromName(path)
	}
	if err != nil {
		return fmt.Errorf("%s: %w (use --format csv|geojson)", path, err)
	}
	if opts.Location, err = location(*tz); err != nil {
		return err
	}
	opts.Fields, opts.BatchSize, opts.MarginKm = fields, *batch, *marginKm

	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open input: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		opts.TotalBytes = fi.Size()
	}

	log := env.logger()
	st, err := sf.open(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()
	units, err := st.Units(ctx, store.UnitQuery{WithGeometry: true})
	if err != nil {
		return fmt.Errorf("load units for assignment: %w", err)
	}
	opts.Index = geo.NewIndex(units)
	opts.Logger = log
	opts.SinkWorkers = sinkWorkers(st)
	if len(units) == 0 {
		fmt.Fprintln(env.stderr, "note: the store has no boundaries yet; every event will be unassigned (import boundaries first with 'crimemap boundaries import')")
	}

	if *rejectsPath == "" {
		*rejectsPath = defaultRejectsPath(path)
	}
	rf, err := os.Create(*rejectsPath)
	if err != nil {
		return fmt.Errorf("create rejects file: %w", err)
	}
	rbuf := bufio.NewWriter(rf)
	opts.Rejects = rbuf
	if out, ok := env.stderr.(*os.File); ok {
		opts.Progress = ingest.NewProgressBar(out).Update
	}

	// A large file is loaded in a bulk session: the store may drop its
	// secondary indexes once and rebuild them at the end (estimate ~100
	// bytes a row; the store decides whether it is worth it).
	var sum ingest.Summary
	runErr := store.WithBulkLoad(ctx, st, int(opts.TotalBytes/100), func(ctx context.Context) error {
		var err error
		sum, err = ingest.Run(ctx, bufio.NewReaderSize(f, 1<<20), opts, st.PutEvents)
		return err
	})
	if err := errors.Join(rbuf.Flush(), rf.Close()); err != nil && runErr == nil {
		runErr = fmt.Errorf("write rejects file: %w", err)
	}
	if sum.Rejected == 0 {
		_ = os.Remove(*rejectsPath)
	}
	if sum.Rows > 0 || runErr == nil {
		printIngestSummary(env, path, sum, *rejectsPath)
	}
	if runErr != nil {
		return fmt.Errorf("ingest %s: %w (batches already reported as stored are kept; re-running the file is safe)", path, runErr)
	}
	return nil
}

func defaultRejectsPath(input string) string {
	ext := filepath.Ext(input)
	return strings.TrimSuffix(input, ext) + ".rejects.csv"
}

func printIngestSummary(env *environment, path string, s ingest.Summary, rejectsPath string) {
	w := env.stdout
	fmt.Fprintf(w, "%s: %d rows\n", path, s.Rows)
	fmt.Fprintf(w, "  accepted   %8d  (%d new, %d updated, %d unchanged)\n", s.Accepted, s.Store.Inserted, s.Store.Updated, s.Store.Unchanged)
	fmt.Fprintf(w, "  updated    %8d\n", s.Store.Updated)
	if s.Rejected > 0 {
		fmt.Fprintf(w, "  rejected   %8d  (line, field and reason in %s)\n", s.Rejected, rejectsPath)
	} else {
		fmt.Fprintf(w, "  rejected   %8d\n", 0)
	}
	fmt.Fprintf(w, "  unassigned %8d  (located outside every unit; kept)\n", s.Unassigned)
	fmt.Fprintf(w, "  no location%8d  (kept, counted as no location)\n", s.NoLocation)
}

func cmdBoundariesImport(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("boundaries import", "boundaries import --level region|district|mahalla [--field name=property ...] [--parent CODE] [store flags] FILE.geojson")
	sf := env.addStoreFlags(fs)
	levelName := fs.String("level", "", "level of every unit in the file: region, district or mahalla (required)")
	fields := fieldFlags{}
	fs.Var(fields, "field", "map a field to a property, e.g. --field code=mahalla_id,name_uz=mahalla_nomi (repeatable)")
	parent := fs.String("parent", "", "parent code for units whose file gives none")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *levelName == "" {
		fs.Usage()
		return errUsage
	}
	level, err := geo.ParseLevel(*levelName)
	if err != nil {
		return fmt.Errorf("--level: %w", err)
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open boundaries: %w", err)
	}
	defer f.Close()
	units, rep, err := geo.ReadBoundaries(ctx, bufio.NewReader(f), geo.BoundaryOptions{Level: level, Fields: fields})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for i := range units {
		if units[i].ParentCode == "" {
			units[i].ParentCode = *parent
		}
	}
	st, err := sf.open(ctx, env.logger())
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := st.PutUnits(ctx, units)
	if err != nil {
		return fmt.Errorf("store boundaries from %s: %w", path, err)
	}
	w := env.stdout
	fmt.Fprintf(w, "%s: %d %s units (%d new, %d updated, %d unchanged)\n", path, len(units), level, res.Inserted, res.Updated, res.Unchanged)
	if len(rep.Repairs) == 0 {
		fmt.Fprintln(w, "  no repairs needed")
	}
	for _, r := range rep.Repairs {
		fmt.Fprintf(w, "  repaired %s\n", r)
	}
	return nil
}

// sinkWorkers is how many batches to store at once: PostGIS takes
// concurrent COPYs on separate connections (its backend is the bottleneck
// of a load, and a second one uses the second core); SQLite has one writer.
func sinkWorkers(st store.Store) int {
	if st.Backend() == "postgis" {
		return 2
	}
	return 1
}
