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

// newFlags makes a flag set that reports errors instead of exiting.
func (e *environment) newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: crimemap %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; help and bad flags become errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	return nil
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
		return st.Units(ctx, store.UnitQuery{})
	}, 1)
	if err != nil {
		return nil, fmt.Errorf("build analytics snapshot: %w", err)
	}
	return snap, nil
}
