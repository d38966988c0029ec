package hotspot

import (
	"context"
	"fmt"
)

// checkEvery is the work (locations, links, draws or grid cells visited)
// a loop does between two looks at its context. A unit of work costs
// between about 1 ns (a link of Gi*) and 30 ns (a cell of an H3 grid
// disk), so a cancelled request stops within a few milliseconds, far
// inside the 100 ms the service promises, while the checks themselves
// cost nothing measurable.
const checkEvery = 1 << 16

// canceller counts the work of one loop (of one goroutine) and looks at
// its context every checkEvery units. ctx.Err may take a lock, so it is
// not called on every iteration of an inner loop.
type canceller struct {
	ctx  context.Context
	work int
}

// step adds n units of work and returns the context's error when it is
// time to look and the context is done.
func (c *canceller) step(n int) error {
	c.work += n
	if c.work < checkEvery {
		return nil
	}
	c.work = 0
	return c.ctx.Err()
}

// cancelled returns ctx's error wrapped with what was stopped, or nil.
// Every entry point calls it first, so that a request already cancelled
// or timed out costs nothing.
func cancelled(ctx context.Context, what string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
