package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/postgis"
	"github.com/crimemap/crimemap/store/sqlite"
)

// environment is what every command receives from run.
type environment struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

func (e *environment) env(names ...string) string {
	for _, n := range names {
		if v := e.getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// logger writes structured logs to stderr: text on a terminal-ish default,
// JSON with CRIMEMAP_LOG_FORMAT=json; level from CRIMEMAP_LOG_LEVEL.
func (e *environment) logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(e.env("CRIMEMAP_LOG_LEVEL"))); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if e.env("CRIMEMAP_LOG_FORMAT") == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

// newFlags makes a flag set that reports errors instead of exiting. The
// synopsis is also the contract for positional arguments: a command takes
// the placeholders its synopsis ends with outside brackets (FILE, ID,
// FILE.geojson; FILE... for any number) and nothing else (see parse).
func (e *environment) newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(&flagOutput{stdout: e.stdout, stderr: e.stderr, synopsis: synopsis})
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: crimemap %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// flagOutput is the output of a flag set made by newFlags: it writes to
// stderr (flag errors) and carries what parse needs besides: stdout for a
// requested help and the synopsis.
type flagOutput struct {
	stdout, stderr io.Writer
	synopsis       string
}

func (o *flagOutput) Write(p []byte) (int, error) { return o.stderr.Write(p) }

// errHelp marks a help request answered on stdout: run returns nil for it
// (exit 0) and the command does nothing else.
var errHelp = errors.New("help requested")

// parse parses flags and positional arguments, which may come in any order
// ("--" ends the flags). -h, --help or a positional "help" print the usage
// on stdout and return errHelp (exit 0, nothing done); bad flags and
// positional arguments the synopsis does not name print an error naming
// them and the usage on stderr and return errUsage (exit 2). Afterwards
// fs.Args() holds the positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	out, _ := fs.Output().(*flagOutput)
	var pos []string
	rest := args
	for {
		var buf strings.Builder
		saved := fs.Output()
		fs.SetOutput(&buf) // flag's own message and usage, shown only for a real error
		err := fs.Parse(rest)
		fs.SetOutput(saved)
		if errors.Is(err, flag.ErrHelp) {
			return printHelp(fs, out)
		}
		if err != nil {
			fmt.Fprint(fs.Output(), buf.String())
			return errUsage
		}
		consumed := len(rest) - fs.NArg()
		if fs.NArg() == 0 || (consumed > 0 && rest[consumed-1] == "--") {
			pos = append(pos, fs.Args()...)
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	for _, a := range pos {
		if a == "help" {
			return printHelp(fs, out)
		}
	}
	if out != nil {
		names, many := synopsisArgs(fs, out.synopsis)
		if len(pos) > len(names) && !many {
			takes := "takes no arguments"
			if len(names) > 0 {
				takes = "takes " + strings.Join(names, " ")
			}
			fmt.Fprintf(out.stderr, "crimemap %s: unexpected argument %q (%s %s)\nusage: crimemap %s\nRun 'crimemap %s -h' for its flags.\n",
				fs.Name(), pos[len(names)], fs.Name(), takes, out.synopsis, fs.Name())
			return errUsage
		}
	}
	// Leave the positional arguments in fs.Args(); flags set so far stay.
	if err := fs.Parse(append([]string{"--"}, pos...)); err != nil {
		return errUsage
	}
	return nil
}

// printHelp prints fs's usage on stdout (on its output when fs was not
// made by newFlags) and returns errHelp.
func printHelp(fs *flag.FlagSet, out *flagOutput) error {
	if out != nil {
		saved := fs.Output()
		fs.SetOutput(out.stdout)
		defer fs.SetOutput(saved)
	}
	fs.Usage()
	return errHelp
}

// synopsisArgs returns the positional placeholders a synopsis names outside
// brackets and parentheses after the command words, skipping flags and
// their values ("--unit CODE|--bbox B" is two flags with values), and
// whether the last one ends with "..." (any number).
func synopsisArgs(fs *flag.FlagSet, synopsis string) (names []string, many bool) {
	var top strings.Builder
	depth := 0
	for _, r := range synopsis {
		switch {
		case r == '[' || r == '(':
			depth++
		case r == ']' || r == ')':
			depth--
		case depth == 0:
			top.WriteRune(r)
		}
	}
	words := strings.Fields(top.String())
	skip := len(strings.Fields(fs.Name()))
	if skip > len(words) {
		return nil, false
	}
	// takesValue reports whether the flag token tok consumes the next word.
	takesValue := func(tok string) bool {
		name := strings.TrimLeft(tok, "-")
		if strings.Contains(name, "=") {
			return false
		}
		f := fs.Lookup(name)
		if f == nil {
			return true // a flag the synopsis shows with a value
		}
		b, ok := f.Value.(interface{ IsBoolFlag() bool })
		return !ok || !b.IsBoolFlag()
	}
	words = words[skip:]
	for i := 0; i < len(words); i++ {
		w := words[i]
		if strings.HasPrefix(w, "-") {
			for takesValue(w) && i+1 < len(words) {
				i++
				// CODE|--bbox: the value of one flag, then another flag.
				j := strings.LastIndex(words[i], "|-")
				if j < 0 {
					break
				}
				w = words[i][j+1:]
			}
			continue
		}
		names = append(names, w)
	}
	if len(names) > 0 && strings.HasSuffix(names[len(names)-1], "...") {
		many = true
	}
	return names, many
}

// storeFlags are the flags of every command that touches the store.
type storeFlags struct {
	dataDir     string
	databaseURL string
}

func (e *environment) addStoreFlags(fs *flag.FlagSet) *storeFlags {
	sf := &storeFlags{}
	dataDef := e.env("CRIMEMAP_DATA")
	if dataDef == "" {
		dataDef = "./data"
	}
	fs.StringVar(&sf.dataDir, "data", dataDef, "embedded store directory (env CRIMEMAP_DATA)")
	fs.StringVar(&sf.databaseURL, "database-url", e.env("CRIMEMAP_DATABASE_URL", "DATABASE_URL"), "PostGIS connection URL (env DATABASE_URL); overrides --data")
	return sf
}

// open opens PostGIS when a URL is given, the embedded store otherwise.
// Both apply their migrations on open.
func (sf *storeFlags) open(ctx context.Context, log *slog.Logger) (store.Store, error) {
	if sf.databaseURL != "" {
		st, err := postgis.Open(ctx, sf.databaseURL, log)
		if err != nil {
			return nil, fmt.Errorf("open PostGIS at %s: %w", redactURL(sf.databaseURL), err)
		}
		return st, nil
	}
	if err := os.MkdirAll(sf.dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := sqlite.Open(ctx, sf.dataDir, log)
	if err != nil {
		return nil, fmt.Errorf("open embedded store in %s: %w", sf.dataDir, err)
	}
	return st, nil
}

func (sf *storeFlags) describe() string {
	if sf.databaseURL != "" {
		return "PostGIS " + redactURL(sf.databaseURL)
	}
	return "embedded store " + sf.dataDir
}

// flagsText is the store flag that names this store on another command's
// command line (never a connection URL: it may hold a password).
func (sf *storeFlags) flagsText() string {
	if sf.databaseURL != "" {
		return "--database-url URL"
	}
	return "--data " + sf.dataDir
}

// redactURL hides a password in a connection URL for messages.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	userinfo := u[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return u[:scheme+3] + userinfo[:i] + ":***" + u[at:]
	}
	return u
}

// location loads a time zone name, with a clear error.
func location(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	return loc, nil
}

// fieldFlags collects repeatable --field name=column mappings.
type fieldFlags map[string]string

func (f fieldFlags) String() string {
	var parts []string
	for k, v := range f {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (f fieldFlags) Set(s string) error {
	for _, kv := range strings.Split(s, ",") {
		name, col, ok := strings.Cut(kv, "=")
		name, col = strings.TrimSpace(name), strings.TrimSpace(col)
		if !ok || name == "" || col == "" {
			return errors.New("want name=column, e.g. source_id=uid")
		}
		f[name] = col
	}
	return nil
}

// storeSnapshot builds the analytics snapshot of everything st holds (the
// commands that analyse once, without a server).
func storeSnapshot(ctx context.Context, st store.Store) (*analytics.Snapshot, error) {
	snap, err := analytics.BuildFromStore(ctx, st, func(ctx context.Context) ([]geo.Unit, error) {
		units, err := store.UnitsWithPopulation(ctx, st, store.UnitQuery{})
		if err != nil {
			return nil, err
		}
		return store.WithBoundaryChanges(ctx, st, units) // marks comparisons across a boundary change
	}, 1)
	if err != nil {
		return nil, fmt.Errorf("build analytics snapshot: %w", err)
	}
	return snap, nil
}
