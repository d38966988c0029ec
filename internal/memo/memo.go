// Package memo memoises expensive values per snapshot: the district
// analyses behind mahalla profiles (server) and behind the hot spot tile
// layer (tiles) are each computed once per snapshot and key, however many
// requests ask at once.
package memo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/singleflight"
)

// Group holds the values of one generation (a snapshot version): a new
// generation starts empty, and past Max entries (at least one) the memo
// starts over. Concurrent misses of one key compute it once
// (singleflight); errors are not memoised.
type Group[V any] struct {
	Max int

	mu     sync.Mutex
	gen    uint64
	values map[string]V
	flight singleflight.Group
	// computed counts the computations run (misses).
	computed atomic.Int64
}

// Computed returns how many values were computed so far.
func (g *Group[V]) Computed() int64 { return g.computed.Load() }

// Get returns the value of key in generation gen, calling compute on a
// miss. A shared computation ends with the context of the caller that
// started it: when that one left, the others compute again.
func (g *Group[V]) Get(ctx context.Context, gen uint64, key string, compute func(context.Context) (V, error)) (V, error) {
	g.mu.Lock()
	if g.gen != gen || g.values == nil {
		g.gen, g.values = gen, make(map[string]V)
	}
	if v, ok := g.values[key]; ok {
		g.mu.Unlock()
		return v, nil
	}
	g.mu.Unlock()
	for attempt := 0; ; attempt++ {
		v, err, _ := g.flight.Do(fmt.Sprintf("%d|%s", gen, key), func() (any, error) {
			g.computed.Add(1)
			v, err := compute(ctx)
			if err != nil {
				return nil, err
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.gen == gen {
				if len(g.values) >= max(g.Max, 1) {
					clear(g.values)
				}
				g.values[key] = v
			}
			return v, nil
		})
		if err != nil {
			if ctx.Err() == nil && attempt < 2 && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
				continue
			}
			var zero V
			return zero, err
		}
		return v.(V), nil
	}
}
