package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest"
	"github.com/crimemap/crimemap/store"
	"github.com/paulmach/orb"
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
		return usageError(env, "ingest: which file? give FILE.csv or FILE.geojson after the flags (see crimemap ingest -h)")
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
	// The index reassignment uses too (versioned boundaries: each event
	// by the boundary valid at its time).
	ix, units, err := store.LoadIndex(ctx, st)
	if err != nil {
		return fmt.Errorf("load units for assignment: %w", err)
	}
	opts.Index = ix
	opts.Logger = log
	opts.SinkWorkers = sinkWorkers(st)
	if len(units) == 0 {
		fmt.Fprintln(env.stderr, "note: the store has no boundaries yet; every event will be unassigned (import boundaries first with 'crimemap boundaries import')")
	}

	rf, err := createRejects(env, rejectsPath, path)
	if err != nil {
		return err
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
	if runErr != nil && sum.Rows == 0 {
		return ingestInputError(path, *kindName, runErr)
	}
	adv := &rejectAdvisor{marginKm: opts.MarginKm, units: len(units), extent: opts.Index.Extent(), fields: fields}
	printIngestSummary(env, path, sum, *rejectsPath, adv)
	if runErr != nil {
		return fmt.Errorf("ingest %s: %w (batches already reported as stored are kept; re-running the file is safe)", path, runErr)
	}
	if sum.Rows == 0 {
		fmt.Fprintf(env.stderr, "note: %s holds no rows (only a header, or an empty FeatureCollection): nothing imported\n", path)
	}
	if sum.Rows > 0 && sum.Accepted == 0 {
		return fmt.Errorf("all %s rows rejected: %s; rejects in %s", thousands(sum.Rows), adv.breakdown(&sum), *rejectsPath)
	}
	return nil
}

// ingestInputError explains an input ingest.Run refused before its first
// row (nothing was stored).
func ingestInputError(path, kindFlag string, err error) error {
	switch {
	case errors.Is(err, ingest.ErrNoKind) && kindFlag == "":
		return fmt.Errorf("%w: --kind is required (crime, accident or offence): %s: %w", errUsage, path, err)
	case errors.Is(err, ingest.ErrNotEvents):
		return fmt.Errorf("%s %w: use crimemap boundaries import --level region|district|mahalla [--field code=PROPERTY,...] %s", path, err, path)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// rejectAdvisor explains rejects: what most rows have in common and what
// to do about it.
type rejectAdvisor struct {
	marginKm float64
	units    int       // stored units
	extent   orb.Bound // of the stored units
	fields   fieldFlags
}

// breakdown says why rows were rejected, the most frequent cause first with
// what to do about it, e.g. "2,245 are more than 50 km outside every stored
// unit — ...: load the boundaries of their area first ...".
func (a *rejectAdvisor) breakdown(s *ingest.Summary) string {
	top, n := s.TopReject()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", thousands(n), isAre(n), top.Describe(a.marginKm))
	if adv := a.advice(top, s); adv != "" {
		b.WriteString(" — " + adv)
	}
	for _, c := range ingest.RejectClasses {
		if k := s.RejectedBy[c]; k > 0 && c != top {
			fmt.Fprintf(&b, "; %s %s", thousands(k), c.Describe(a.marginKm))
		}
	}
	return b.String()
}

// advice says what to do when many rows share reject class c.
func (a *rejectAdvisor) advice(c ingest.RejectClass, s *ingest.Summary) string {
	col := func(name string) string {
		if v := a.fields[name]; v != "" {
			return v
		}
		return name
	}
	switch c {
	case ingest.RejectFarOutside:
		return fmt.Sprintf("the points lie in lon %s, lat %s, the %s stored units in lon %s, lat %s: "+
			"load the boundaries of their area first (crimemap boundaries import --level region|district|mahalla FILE.geojson), "+
			"or import into a store of that area (--data DIR); --margin-km widens the %g km allowed outside the units",
			span(s.FarOutside.Min[0], s.FarOutside.Max[0]), span(s.FarOutside.Min[1], s.FarOutside.Max[1]),
			thousands(a.units), span(a.extent.Min[0], a.extent.Max[0]), span(a.extent.Min[1], a.extent.Max[1]), a.marginKm)
	case ingest.RejectSwapped:
		return fmt.Sprintf("map the columns the other way round: --field lat=%s,lon=%s", col("lon"), col("lat"))
	case ingest.RejectOutOfRange:
		return "lat and lon must be WGS 84 degrees (EPSG:4326): reproject projected coordinates first, or check --field lat=...,lon=..."
	case ingest.RejectBadTime:
		return fmt.Sprintf("check that occurred_at (column %s) holds times (--field occurred_at=COLUMN, or date+time to join two) in a layout of the README's Data formats", col("occurred_at"))
	case ingest.RejectMissing:
		return "map the required fields to columns that hold them (--field source_id=...,occurred_at=...,category=...; source_id=@line for files without an id)"
	case ingest.RejectDuplicate:
		return fmt.Sprintf("source_id (column %s) repeats: map an id column that is unique (--field source_id=COLUMN, or source_id=@line)", col("source_id"))
	case ingest.RejectUnreadable:
		return "rows do not match the header: check the delimiter and quoting (or that a GeoJSON file holds Point features)"
	case ingest.RejectBadValue:
		return "the field and value of each row are in the rejects file"
	}
	return ""
}

func span(lo, hi float64) string {
	return fmt.Sprintf("%.2f..%.2f", lo, hi)
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// thousands writes n with a comma every three digits: 2,245.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// createRejects creates the rejects file: *flagPath, or NAME.rejects.csv
// beside the input, or in the current directory when the input's
// directory is not writable (e.g. a read-only data set); *flagPath is set
// to the path used.
func createRejects(env *environment, flagPath *string, input string) (*os.File, error) {
	if *flagPath != "" {
		f, err := os.Create(*flagPath)
		if err != nil {
			return nil, fmt.Errorf("--rejects: %w", err)
		}
		return f, nil
	}
	*flagPath = defaultRejectsPath(input)
	f, err := os.Create(*flagPath)
	if err == nil {
		return f, nil
	}
	here := filepath.Base(*flagPath)
	f, err2 := os.Create(here)
	if err2 != nil {
		return nil, fmt.Errorf("create rejects file (give --rejects PATH): %w", errors.Join(err, err2))
	}
	fmt.Fprintf(env.stderr, "note: cannot write %s (%v): rejects go to %s\n", *flagPath, err, here)
	*flagPath = here
	return f, nil
}

func defaultRejectsPath(input string) string {
	ext := filepath.Ext(input)
	return strings.TrimSuffix(input, ext) + ".rejects.csv"
}

func printIngestSummary(env *environment, path string, s ingest.Summary, rejectsPath string, adv *rejectAdvisor) {
	w := env.stdout
	fmt.Fprintf(w, "%s: %d rows\n", path, s.Rows)
	fmt.Fprintf(w, "  accepted   %8d  (%d new, %d updated, %d unchanged)\n", s.Accepted, s.Store.Inserted, s.Store.Updated, s.Store.Unchanged)
	fmt.Fprintf(w, "  updated    %8d\n", s.Store.Updated)
	if s.Rejected > 0 {
		fmt.Fprintf(w, "  rejected   %8d  (line, field and reason in %s)\n", s.Rejected, rejectsPath)
		for _, c := range ingest.RejectClasses {
			if n := s.RejectedBy[c]; n > 0 {
				fmt.Fprintf(w, "    %8d  %s\n", n, c.Describe(adv.marginKm))
			}
		}
	} else {
		fmt.Fprintf(w, "  rejected   %8d\n", 0)
	}
	fmt.Fprintf(w, "  unassigned %8d  (located outside every unit; kept)\n", s.Unassigned)
	fmt.Fprintf(w, "  no location%8d  (kept, counted as no location)\n", s.NoLocation)
	// Most rows rejected for one reason (but not all: that fails the
	// import): say so, with what to do.
	if top, n := s.TopReject(); s.Accepted > 0 && 2*n > s.Rows {
		fmt.Fprintf(env.stderr, "warning: %s of %s rows (%.0f%%) rejected as %s — %s\n", thousands(n), thousands(s.Rows),
			100*float64(n)/float64(s.Rows), top.Describe(adv.marginKm), adv.advice(top, &s))
	}
}

const boundariesSynopsis = "boundaries import --level region|district|mahalla [--field name=property ...] [--parent CODE] [--allow-missing-parents] [--valid-from DATE [--tz ZONE]] [store flags] FILE.geojson"

// cmdBoundaries dispatches "boundaries import"; flags or a file right after
// "boundaries" imply import.
func cmdBoundaries(ctx context.Context, env *environment, args []string) error {
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "import":
			return cmdBoundariesImport(ctx, env, args[1:])
		case a == "help" || a == "-h" || a == "-help" || a == "--help":
			fmt.Fprintf(env.stdout, "usage: crimemap %s\n\nRun 'crimemap boundaries import -h' for its flags.\n", boundariesSynopsis)
			return nil
		case strings.HasPrefix(a, "-"), strings.EqualFold(filepath.Ext(a), ".geojson"), strings.EqualFold(filepath.Ext(a), ".json"):
			return cmdBoundariesImport(ctx, env, args)
		}
		return usageError(env, "boundaries: unknown command %q (want import)\nusage: crimemap %s", args[0], boundariesSynopsis)
	}
	return usageError(env, "boundaries: which command?\nusage: crimemap %s", boundariesSynopsis)
}

// cmdBoundariesImport reads a GeoJSON file of units of one level, repairs
// it, checks the units' parents and stores the units.
func cmdBoundariesImport(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("boundaries import", boundariesSynopsis)
	sf := env.addStoreFlags(fs)
	levelName := fs.String("level", "", "level of every unit in the file: region, district or mahalla (required)")
	fields := fieldFlags{}
	fs.Var(fields, "field", "map a field to a property, e.g. --field code=mahalla_id,name_uz=mahalla_nomi (repeatable)")
	parent := fs.String("parent", "", "parent code of every unit in the file, instead of any parent_code property")
	allowMissing := fs.Bool("allow-missing-parents", false, "store units whose parent is neither in the file nor in the store (load the parents later)")
	vf := addValidFromFlags(env, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	validFrom, err := vf.time()
	if err != nil {
		return err
	}
	if *levelName == "" {
		return usageError(env, "boundaries import: --level is required (region, district or mahalla)")
	}
	if fs.NArg() != 1 {
		return usageError(env, "boundaries import: which file? give FILE.geojson after the flags (see crimemap boundaries import -h)")
	}
	level, err := geo.ParseLevel(*levelName)
	if err != nil {
		return fmt.Errorf("%w: --level: %w", errUsage, err)
	}
	if *parent != "" && level == geo.LevelRegion {
		return fmt.Errorf("%w: --parent %s: regions have no parent", errUsage, *parent)
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open boundaries: %w", err)
	}
	defer f.Close()
	units, rep, err := geo.ReadBoundaries(ctx, bufio.NewReader(f), geo.BoundaryOptions{Level: level, Fields: fields})
	switch {
	case errors.Is(err, geo.ErrNotBoundaries):
		return fmt.Errorf("%s %w: use crimemap ingest --kind crime|accident|offence %s", path, err, path)
	case err != nil:
		return fmt.Errorf("%s: %w", path, err)
	}
	// --parent wins over a parent_code property: it is how a file whose
	// parent codes are in another scheme is attached to the stored units.
	if *parent != "" {
		for i := range units {
			units[i].ParentCode = *parent
		}
	}
	st, err := sf.open(ctx, env.logger())
	if err != nil {
		return err
	}
	defer st.Close()
	missing, err := checkParents(ctx, st, units, path)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		if !*allowMissing {
			return fmt.Errorf("%s; load the %ss first (crimemap boundaries import --level %s ...), fix --parent or the file's parent_code, "+
				"or give --allow-missing-parents to store them anyway", strings.Join(missing, "; "), level.Parent(), level.Parent())
		}
		for _, m := range missing {
			fmt.Fprintf(env.stderr, "note (--allow-missing-parents): %s\n", m)
		}
	}
	res, err := putBoundaries(ctx, st, units, validFrom)
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
	// Events stored before these boundaries (or assigned by older ones)
	// follow them.
	return reassignAfterImport(ctx, env, st)
}

// checkParents checks that every parent code names a unit of the level
// above, in the file or in the store. It returns one line per missing
// parent (naming the first unit that names it) and an error for a parent of
// the wrong level.
func checkParents(ctx context.Context, st store.Store, units []geo.Unit, path string) ([]string, error) {
	inFile := make(map[string]bool, len(units))
	for i := range units {
		inFile[units[i].Code] = true
	}
	type use struct {
		first, n int // feature of the first unit naming the parent, units naming it
	}
	uses := map[string]*use{}
	var order []string
	for i := range units {
		p := units[i].ParentCode
		if p == "" || inFile[p] {
			continue
		}
		if u := uses[p]; u != nil {
			u.n++
			continue
		}
		uses[p] = &use{first: i, n: 1}
		order = append(order, p)
	}
	var missing []string
	for _, p := range order {
		u := uses[p]
		unit := &units[u.first]
		who := fmt.Sprintf("%s %s (feature %d)", unit.Level, unit.Code, u.first)
		if name := unit.Name("en"); name != unit.Code {
			who = fmt.Sprintf("%s %s %q (feature %d)", unit.Level, unit.Code, name, u.first)
		}
		if u.n > 1 {
			who += fmt.Sprintf(" and %d more", u.n-1)
		}
		pu, err := st.Unit(ctx, p)
		switch {
		case errors.Is(err, store.ErrNotFound):
			missing = append(missing, fmt.Sprintf("%s: parent %s is neither in %s nor in the store", who, p, path))
			continue
		case err != nil:
			return nil, fmt.Errorf("look up parent %s of %s: %w", p, who, err)
		}
		if want := unit.Level.Parent(); pu.Level != want {
			return nil, fmt.Errorf("%s: parent %s is a %s in the store, want a %s (fix --parent or the file's parent_code)", who, p, pu.Level, want)
		}
	}
	return missing, nil
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
