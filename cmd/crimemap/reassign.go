package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest"
	"github.com/crimemap/crimemap/store"
)

const reassignSynopsis = "reassign [--batch N] [store flags]"

// cmdReassign brings the unit codes of every stored event to what the
// stored boundaries say (store.BoundaryStore.Reassign): the same
// assignment a fresh ingest makes, by the boundary valid at each event's
// time. Resumable: an interrupted run keeps its batches and the next one
// does the rest.
func cmdReassign(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("reassign", reassignSynopsis)
	sf := env.addStoreFlags(fs)
	batch := fs.Int("batch", store.DefaultReassignBatch, "events per atomic batch")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: reassign takes no arguments, got %q", errUsage, fs.Args())
	}
	if *batch <= 0 {
		return fmt.Errorf("%w: --batch %d: want a positive number", errUsage, *batch)
	}
	st, err := sf.open(ctx, env.logger())
	if err != nil {
		return err
	}
	defer st.Close()
	return runReassign(ctx, env, st, *batch)
}

// runReassign re-assigns the stored events and prints what moved.
func runReassign(ctx context.Context, env *environment, st store.Store, batch int) error {
	bs, ok := st.(store.BoundaryStore)
	if !ok {
		return fmt.Errorf("reassign: the %s store keeps no boundary versions", st.Backend())
	}
	log := env.logger()
	start := time.Now()
	var last store.ReassignResult
	res, err := bs.Reassign(ctx, store.ReassignOptions{BatchSize: batch, Progress: func(r store.ReassignResult) {
		last = r
		log.Debug("reassign batch committed", "batches", r.Batches, "checked", r.Checked, "moved", r.Moved)
	}})
	if err != nil {
		if last.Batches > 0 {
			fmt.Fprintf(env.stdout, "reassign: %d events checked, %d moved in %d batches before the error; they are kept\n",
				last.Checked, last.Moved, last.Batches)
		}
		return fmt.Errorf("reassign events: %w (committed batches are kept; run crimemap reassign to finish)", err)
	}
	printReassign(env.stdout, res, time.Since(start))
	return nil
}

func printReassign(w io.Writer, r store.ReassignResult, took time.Duration) {
	if r.NoBoundaries {
		fmt.Fprintln(w, "reassign: the store holds no boundaries; events keep their units (import them with crimemap boundaries import)")
		return
	}
	fmt.Fprintf(w, "reassign: %d events checked against the boundaries (version %d) in %s\n",
		r.Checked, r.BoundaryVersion, took.Round(time.Millisecond))
	fmt.Fprintf(w, "  moved      %8d  (unit codes changed)\n", r.Moved)
	fmt.Fprintf(w, "  unassigned %8d  (located outside every unit; kept)\n", r.Unassigned)
	if r.Restarts > 0 {
		fmt.Fprintf(w, "  restarted  %8d  (the boundaries changed during the run)\n", r.Restarts)
	}
}

// validFromFlags are the boundary import's version flags.
type validFromFlags struct {
	date *string
	tz   *string
}

func addValidFromFlags(env *environment, fs *flag.FlagSet) *validFromFlags {
	return &validFromFlags{
		date: fs.String("valid-from", "", "the boundaries are valid from DATE (YYYY-MM-DD, midnight in --tz) on; each unit's previous boundary stays valid until then (default: replace the current boundary)"),
		tz:   fs.String("tz", envOr(env, "CRIMEMAP_TZ", ingest.DefaultLocation), "zone of --valid-from (env CRIMEMAP_TZ)"),
	}
}

// time returns --valid-from as an instant, zero when not given.
func (f *validFromFlags) time() (time.Time, error) {
	if *f.date == "" {
		return time.Time{}, nil
	}
	loc, err := location(*f.tz)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: --tz: %w", errUsage, err)
	}
	t, err := time.ParseInLocation(time.DateOnly, *f.date, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: --valid-from %q: want a date YYYY-MM-DD", errUsage, *f.date)
	}
	return t, nil
}

// putBoundaries stores imported boundaries: as the current ones (PutUnits)
// or, with validFrom, as a new version from then on.
func putBoundaries(ctx context.Context, st store.Store, units []geo.Unit, validFrom time.Time) (store.Result, error) {
	if validFrom.IsZero() {
		return st.PutUnits(ctx, units)
	}
	bs, ok := st.(store.BoundaryStore)
	if !ok {
		return store.Result{}, fmt.Errorf("--valid-from: the %s store keeps no boundary versions", st.Backend())
	}
	return bs.PutBoundaryVersion(ctx, units, validFrom)
}

// reassignAfterImport re-assigns the stored events after a boundary
// import, so events imported before their boundaries (or assigned by an
// older boundary) follow them.
func reassignAfterImport(ctx context.Context, env *environment, st store.Store) error {
	if _, ok := st.(store.BoundaryStore); !ok {
		return nil
	}
	if err := runReassign(ctx, env, st, store.DefaultReassignBatch); err != nil {
		return fmt.Errorf("the boundaries are stored; %w", err)
	}
	return nil
}
