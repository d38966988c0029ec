package scan

import (
	"context"
	"sync"

	"github.com/crimemap/crimemap/analytics"
)

// BatchSize is how many decoded events a part of a parallel scan hands
// over at a time.
const BatchSize = 1024

// Parts is what Parallel gives each part: recycled batches and the way to
// hand full ones over.
type Parts struct {
	ctx  context.Context
	out  chan []analytics.Event
	free chan []analytics.Event
}

// Batch returns an empty batch with room for BatchSize events, recycled
// when the caller has finished with one.
func (p *Parts) Batch() []analytics.Event {
	select {
	case b := <-p.free:
		return b
	default:
		return make([]analytics.Event, 0, BatchSize)
	}
}

// Send hands a batch over; it reports false once the scan is over (an
// error elsewhere, or the context done): the part should stop.
func (p *Parts) Send(b []analytics.Event) bool {
	if len(b) == 0 {
		return true
	}
	select {
	case p.out <- b:
		return true
	case <-p.ctx.Done():
		return false
	}
}

// Parallel runs produce for parts 0..n-1 on n goroutines, each decoding
// events into batches and sending them (Parts.Send), and calls fn for every
// event on the calling goroutine, as store.Store.ScanEvents requires. It
// stops at the first error, of a part or of fn, and returns it (a part's
// error as is: produce wraps it). The stores use it to decode rows on every
// core while the caller consumes them one by one.
func Parallel(ctx context.Context, n int, produce func(ctx context.Context, part int, p *Parts) error, fn func(*analytics.Event) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := &Parts{ctx: ctx, out: make(chan []analytics.Event, 2*n), free: make(chan []analytics.Event, 4*n)}
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		partErr error
	)
	for part := range n {
		wg.Go(func() {
			if err := produce(ctx, part, p); err != nil {
				errOnce.Do(func() { partErr = err })
				cancel()
			}
		})
	}
	go func() {
		wg.Wait()
		close(p.out)
	}()
	var fnErr error
	for b := range p.out {
		if fnErr != nil || ctx.Err() != nil {
			continue // draining after a failure, until the parts stop
		}
		for i := range b {
			if fnErr = fn(&b[i]); fnErr != nil {
				cancel()
				break
			}
		}
		select {
		case p.free <- b[:0]:
		default:
		}
	}
	// out is closed: every part has returned.
	switch {
	case fnErr != nil:
		return fnErr
	case partErr != nil:
		return partErr
	}
	return ctx.Err()
}
