// Command crimemap is the crimemap service and its command-line tools.
//
// main only wires the process to run, which takes everything it needs as
// arguments so that tests call it directly.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		// A bare errUsage was already explained on stderr; a wrapped one
		// carries its own message.
		if err != errUsage {
			fmt.Fprintln(os.Stderr, "crimemap:", strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
		}
		os.Exit(exitCode(err))
	}
}

// errUsage marks an error already explained on stderr (bad flags, help).
var errUsage = errors.New("usage")

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

const usage = `crimemap: geospatial crime analytics for mahallas, districts and regions.

Usage:
  crimemap serve      [--addr HOST:PORT] [--demo] [--policy FILE] [store flags]  start the HTTP API
  crimemap demo       [--seed N] [--scale F] [store flags]         fill the store with the synthetic demo region
  crimemap ingest     --kind crime|accident|offence [--field name=column ...] [--tz ZONE] [--rejects PATH] [store flags] FILE
  crimemap boundaries import --level region|district|mahalla [--field name=property ...] [--parent CODE] [--allow-missing-parents] [--valid-from DATE] [store flags] FILE.geojson
                                                                   (then re-assigns the stored events; --valid-from: a new boundary version)
  crimemap reassign   [--batch N] [store flags]                    re-assign stored events to the units of the stored boundaries
  crimemap population import [--field code|year|population=COLUMN ...] [--scale 1000] [--year YYYY] [store flags] FILE.csv
                                                                   population per unit and year (rates use the period's year)
  crimemap check      [store flags]                                store, migrations, population and event coverage (alias doctor)
  crimemap migrate    [store flags]                                apply database migrations
  crimemap hotspots   --period P --unit CODE [--res 8] [--k N] [--kind K] [--mahallas [--rate]]
                      [--emerging [--interval month|quarter] [--periods 24]] [--format table|csv] [store flags]
                                                                   Gi* (FDR) hot spots over H3 cells or mahallas, emerging hot spots
  crimemap classify   --period P [--policy FILE] [--unit CODE] [--format table|csv] [store flags]
                                                                   classify every mahalla red/yellow/green, store the run
  crimemap token      create --role viewer|analyst|admin [--name NAME] [--expires 2160h] | list | revoke ID  [store flags]
                                                                   API bearer tokens (raw events need an analyst token)
  crimemap report     --period P --unit CODE [--lang uz|uz-Cyrl|ru|en|kk|ky] [--format pdf|xlsx] [-o FILE] [store flags]
                                                                   the periodic criminogenic review of a territory
  crimemap bench      [--events N] [--database-url URL]            measure ingest, queries and tiles; print tables
  crimemap loadtest   [--clients 200] [--for 60s] [--heavy 50]     drive a demo server (child process) with a mix and a storm; check the limits
  crimemap version                                                 module version and VCS revision (also --version)

Store flags (every command that touches the store):
  --data DIR            embedded store directory (default ./data; env CRIMEMAP_DATA)
  --database-url URL    PostGIS instead of the embedded store (env DATABASE_URL or CRIMEMAP_DATABASE_URL)

Run 'crimemap COMMAND -h' (or 'crimemap COMMAND help') for a command's flags.
`

// run is the whole program: args without the program name, the environment
// as a lookup function, and the two output streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	defer func() {
		if errors.Is(err, errHelp) { // usage printed on stdout: exit 0
			err = nil
		}
	}()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	env := &environment{getenv: getenv, stdout: stdout, stderr: stderr}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, env, rest)
	case "demo":
		return cmdDemo(ctx, env, rest)
	case "ingest":
		return cmdIngest(ctx, env, rest)
	case "boundaries":
		return cmdBoundaries(ctx, env, rest)
	case "reassign":
		return cmdReassign(ctx, env, rest)
	case "population":
		return cmdPopulation(ctx, env, rest)
	case "check", "doctor":
		return cmdCheck(ctx, env, rest)
	case "migrate":
		return cmdMigrate(ctx, env, rest)
	case "hotspots":
		return cmdHotspots(ctx, env, rest)
	case "classify":
		return cmdClassify(ctx, env, rest)
	case "token":
		return cmdToken(ctx, env, rest)
	case "bench":
		return cmdBench(ctx, env, rest)
	case "loadtest":
		return cmdLoadtest(ctx, env, rest)
	case "report":
		return cmdReport(ctx, env, rest)
	case "version", "--version", "-version":
		return cmdVersion(env, rest)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "crimemap: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}
