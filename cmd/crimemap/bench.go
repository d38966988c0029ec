package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/postgis"
	"github.com/crimemap/crimemap/store/sqlite"
	"github.com/jackc/pgx/v5"
)

// Ingest throughput targets (events/s, parse + validation + H3 + unit
// assignment + store, for 1M events).
const (
	targetPostGIS = 250_000
	targetSQLite  = 200_000
)

func cmdBench(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("bench", "bench [--events N] [--queries-events N] [--hotspots=false] [--tiles=false] [--database-url URL]")
	n := fs.Int("events", 1_000_000, "synthetic events to ingest into each backend (0 skips the ingest benchmark)")
	qn := fs.Int("queries-events", 10_000_000, "synthetic events for the snapshot query and build benchmark (0 skips it)")
	qOrder := fs.String("queries-order", "time", "order the query benchmark loads events into the stores: time (as a live feed fills them) or random")
	qSQLite := fs.Int("queries-sqlite-events", 0, "events loaded into SQLite for the build-from-store measurement (0: the query events, at most 2,000,000)")
	qStores := fs.Bool("queries-stores", true, "load the query benchmark events into PostGIS and SQLite (false: snapshot queries only)")
	hot := fs.Bool("hotspots", true, "time Gi* + FDR over 100,000 H3 cells and emerging hot spots over 24 x 50,000 cells (synthetic counts)")
	tl := fs.Bool("tiles", true, "drive the tile endpoint over a fixed list of z8-z14 tiles of the demo region (cold, warm, many clients) and, with --database-url, the same tiles through PostGIS ST_AsMVT")
	tlWorkers := fs.Int("tiles-workers", 8, "client goroutines (keep-alive connections) of the tile passes")
	tlPasses := fs.Int("tiles-warm-passes", 10, "warm passes over the tile list")
	tlClients := fs.Int("tiles-clients", 200, "concurrent clients of the tile memory run")
	tlMemFor := fs.Duration("tiles-memory-for", 6*time.Second, "length of the tile memory run")
	tlProfile := fs.String("tiles-cpuprofile", "", "write CPU profiles of the tiles' cold passes to this file (analyst token) and FILE.public (no token)")
	reports := fs.Bool("reports", true, "time the region report of the demo as PDF and XLSX")
	inProfile := fs.String("ingest-cpuprofile", "", "write CPU profiles of the ingest runs to FILE.sqlite and FILE.postgis")
	dbURL := fs.String("database-url", env.env("CRIMEMAP_BENCH_DATABASE_URL", "CRIMEMAP_TEST_DATABASE_URL", "DATABASE_URL"),
		"PostgreSQL server with PostGIS; a scratch database is created there and dropped (env CRIMEMAP_BENCH_DATABASE_URL, CRIMEMAP_TEST_DATABASE_URL)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *qOrder != "time" && *qOrder != "random" {
		return fmt.Errorf("%w: --queries-order %q: want time or random", errUsage, *qOrder)
	}
	log := env.logger()
	if *hot {
		if err := benchHotspots(ctx, env.stdout); err != nil {
			return err
		}
	}
	if *tl {
		if *tlWorkers < 1 || *tlPasses < 1 || *tlClients < 1 || *tlMemFor <= 0 {
			return fmt.Errorf("%w: --tiles-workers, --tiles-warm-passes, --tiles-clients and --tiles-memory-for must be positive", errUsage)
		}
		if err := benchTiles(ctx, env.stdout, log, tileOpts{dbURL: *dbURL, workers: *tlWorkers, warmPasses: *tlPasses,
			clients: *tlClients, memFor: *tlMemFor, maxPass: 2 * time.Minute, cpuProfile: *tlProfile}); err != nil {
			return err
		}
	}
	if *reports {
		if err := benchReports(ctx, env.stdout); err != nil {
			return err
		}
	}
	if *n > 0 {
		if err := benchIngestAll(ctx, env, log, *n, *dbURL, *inProfile); err != nil {
			return err
		}
	}
	if *qn > 0 {
		if *dbURL == "" {
			fmt.Fprintln(env.stderr, "PostGIS query comparison skipped: set --database-url or CRIMEMAP_BENCH_DATABASE_URL")
		}
		return benchQueries(ctx, env.stdout, log, queryOpts{n: *qn, dbURL: *dbURL, sqliteEvents: *qSQLite,
			timeOrder: *qOrder == "time", skipStoreLoad: !*qStores})
	}
	return nil
}

// benchIngestAll runs the ingest benchmark on SQLite and, with dbURL, PostGIS.
func benchIngestAll(ctx context.Context, env *environment, log *slog.Logger, n int, dbURL, profile string) error {
	fmt.Fprintf(env.stdout, "generating %d synthetic CSV rows...\n", n)
	csv := syntheticCSV(n, 1)
	units, err := demo.Units()
	if err != nil {
		return err
	}
	var results []benchResult
	dir, err := os.MkdirTemp("", "crimemap-bench-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, dir, log)
	if err != nil {
		return err
	}
	r, err := benchIngest(ctx, "embedded (sqlite)", st, units, csv, targetSQLite, profileFile(profile, "sqlite"))
	st.Close()
	if err != nil {
		return err
	}
	results = append(results, r)

	if dbURL == "" {
		fmt.Fprintln(env.stderr, "PostGIS skipped: set --database-url or CRIMEMAP_BENCH_DATABASE_URL")
	} else {
		r, err := withScratchDatabase(ctx, dbURL, func(u string) (benchResult, error) {
			st, err := postgis.Open(ctx, u, log)
			if err != nil {
				return benchResult{}, err
			}
			defer st.Close()
			return benchIngest(ctx, "PostGIS (COPY)", st, units, csv, targetPostGIS, profileFile(profile, "postgis"))
		})
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	printBench(env.stdout, n, results)
	return nil
}

type benchResult struct {
	backend string
	events  int
	took    time.Duration
	target  float64
}

func (r benchResult) rate() float64 { return float64(r.events) / r.took.Seconds() }

// profileFile is base.suffix, or "" without a base.
func profileFile(base, suffix string) string {
	if base == "" {
		return ""
	}
	return base + "." + suffix
}

// benchIngest runs the real import pipeline (CSV parse, validation, H3,
// unit assignment, atomic batches) from memory into st, with a CPU profile
// written to profile unless it is "".
func benchIngest(ctx context.Context, name string, st store.Store, units []geo.Unit, csv []byte, target float64, profile string) (benchResult, error) {
	if _, err := st.PutUnits(ctx, units); err != nil {
		return benchResult{}, fmt.Errorf("%s: units: %w", name, err)
	}
	if profile != "" {
		stop, err := startCPUProfile(profile)
		if err != nil {
			return benchResult{}, fmt.Errorf("%s: %w", name, err)
		}
		defer stop()
	}
	opts := ingest.Options{Kind: analytics.KindCrime, Format: ingest.FormatCSV, Index: geo.NewIndex(units), SinkWorkers: sinkWorkers(st)}
	start := time.Now()
	var sum ingest.Summary
	err := store.WithBulkLoad(ctx, st, bytes.Count(csv, []byte{'\n'}), func(ctx context.Context) error {
		var err error
		sum, err = ingest.Run(ctx, bytes.NewReader(csv), opts, st.PutEvents)
		return err
	})
	took := time.Since(start) // includes rebuilding any index dropped for the load
	if err != nil {
		return benchResult{}, fmt.Errorf("%s: ingest: %w", name, err)
	}
	if sum.Rejected != 0 || sum.Store.Inserted != sum.Accepted {
		return benchResult{}, fmt.Errorf("%s: %d rejected, %d of %d inserted: the benchmark data should all go in", name, sum.Rejected, sum.Store.Inserted, sum.Accepted)
	}
	return benchResult{backend: name, events: sum.Accepted, took: took, target: target}, nil
}

func printBench(w io.Writer, n int, results []benchResult) {
	fmt.Fprintf(w, "\ningest throughput, %d synthetic crimes (CSV parse + validation + H3 res 15 + unit assignment + store)\n", n)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "backend\tevents\tseconds\tevents/s\ttarget\tmet\t")
	for _, r := range results {
		met := "yes"
		if r.rate() < r.target {
			met = "NO"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.0f\t%s\t\n", r.backend, r.events, r.took.Seconds(), r.rate(), r.target, met)
	}
	tw.Flush()
}

// withScratchDatabase creates a fresh database on the server of adminURL,
// calls fn with its URL and drops it afterwards.
func withScratchDatabase(ctx context.Context, adminURL string, fn func(url string) (benchResult, error)) (benchResult, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return benchResult{}, fmt.Errorf("connect %s: %w", redactURL(adminURL), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	name := "crimemap_bench_" + strconv.Itoa(os.Getpid()) + "_" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return benchResult{}, fmt.Errorf("create scratch database: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
	}()
	u, err := url.Parse(adminURL)
	if err != nil {
		return benchResult{}, fmt.Errorf("database url: %w", err)
	}
	u.Path = "/" + name
	return fn(u.String())
}

// syntheticCSV writes n crime rows spread over the demo region, a few
// denser around centres, with every crime column filled.
func syntheticCSV(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	cats := []string{"theft", "fraud", "robbery", "bodily_harm", "hooliganism", "drugs", "domestic_violence", "cybercrime"}
	sev := []string{"minor", "medium", "grave", "especially_grave"}
	centres := [][2]float64{{65.79, 38.86}, {66.83, 39.06}, {64.55, 39.72}, {66.25, 39.0}}
	var b bytes.Buffer
	b.Grow(n * 110)
	b.WriteString("source_id,occurred_at,lat,lon,category,severity,article,juvenile,recidivist,solved\n")
	t0 := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for i := range n {
		c := centres[rng.IntN(len(centres))]
		lon := c[0] + rng.NormFloat64()*0.15
		lat := c[1] + rng.NormFloat64()*0.1
		ts := time.Unix(t0+rng.Int64N(3*365*86400), 0).UTC()
		b.WriteString("bench-")
		b.WriteString(strconv.Itoa(i))
		b.WriteByte(',')
		b.WriteString(ts.Format("2006-01-02 15:04:05"))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(lat, 'f', 6, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(lon, 'f', 6, 64))
		b.WriteByte(',')
		b.WriteString(cats[rng.IntN(len(cats))])
		b.WriteByte(',')
		b.WriteString(sev[rng.IntN(len(sev))])
		b.WriteString(",169,")
		b.WriteString(strconv.FormatBool(rng.IntN(20) == 0))
		b.WriteByte(',')
		b.WriteString(strconv.FormatBool(rng.IntN(7) == 0))
		b.WriteByte(',')
		b.WriteString(strconv.FormatBool(rng.IntN(10) < 7))
		b.WriteByte('\n')
	}
	return b.Bytes()
}
