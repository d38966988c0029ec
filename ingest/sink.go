package ingest

import (
	"context"
	"fmt"
	"sync"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store"
)

// sinkRunner stores batches in goroutines of their own while the caller
// fills the next batch: one at a time and in order by default, or
// Options.SinkWorkers at once for stores that write concurrently (PostGIS).
// Each batch stays one atomic sink call; batches of one run never share a
// key (duplicates are rejected before batching), so their order does not
// matter.
type sinkRunner struct {
	ctx    context.Context
	cancel context.CancelFunc
	sink   Sink
	opts   *Options
	jobs   chan []analytics.Event
	free   chan []analytics.Event
	done   chan struct{}
	once   sync.Once

	mu  sync.Mutex // guards res and err while workers run
	res store.Result
	err error
}

func newSinkRunner(ctx context.Context, cancel context.CancelFunc, sink Sink, opts Options, capHint int) *sinkRunner {
	workers := max(opts.SinkWorkers, 1)
	r := &sinkRunner{
		ctx: ctx, cancel: cancel, sink: sink, opts: &opts,
		jobs: make(chan []analytics.Event, 1),
		free: make(chan []analytics.Event, workers+1),
		done: make(chan struct{}),
	}
	for range workers + 1 {
		r.free <- make([]analytics.Event, 0, capHint)
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.loop()
		}()
	}
	go func() {
		wg.Wait()
		close(r.done)
	}()
	return r
}

func (r *sinkRunner) loop() {
	for batch := range r.jobs {
		if r.failed() {
			continue // drain after a failure
		}
		res, err := r.sink(r.ctx, batch)
		r.mu.Lock()
		if err != nil {
			if r.err == nil {
				r.err = fmt.Errorf("storing %d events: %w", len(batch), err)
			}
			r.mu.Unlock()
			r.cancel()
			continue
		}
		r.res.Add(res)
		r.mu.Unlock()
		r.opts.Logger.Debug("ingest batch stored", "events", len(batch), "inserted", res.Inserted, "updated", res.Updated, "unchanged", res.Unchanged)
		r.free <- batch[:0]
	}
}

func (r *sinkRunner) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err != nil
}

// buffer returns an empty batch to fill, waiting for one to come back from
// the sink if both are in use (nil once the context is done).
func (r *sinkRunner) buffer() []analytics.Event {
	select {
	case b := <-r.free:
		return b
	case <-r.ctx.Done(): // the sink failed or the run was cancelled
		return nil
	}
}

// submit hands a full batch to the sink goroutine.
func (r *sinkRunner) submit(batch []analytics.Event) error {
	select {
	case r.jobs <- batch:
		return nil
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
}

// stop ends the goroutine (idempotent) and waits for it.
func (r *sinkRunner) stop() {
	r.once.Do(func() { close(r.jobs) })
	<-r.done
}

// finish waits for every submitted batch, adds the stored counts to sum and
// returns the sink's error in preference to err (a sink failure cancels the
// context, so the caller usually sees context.Canceled first).
func (r *sinkRunner) finish(sum *Summary, err error) (Summary, error) {
	r.stop()
	sum.Store.Add(r.res)
	r.res = store.Result{}
	if r.err != nil {
		return *sum, r.err
	}
	return *sum, err
}
