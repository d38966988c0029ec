package tiles

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/crimemap/crimemap/analytics"
	"golang.org/x/sync/singleflight"
)

// hotMemo memoises the Gi* of each district behind the hotspots layer, per
// snapshot: every tile a district meets draws from one analysis of the
// whole district (its study area), so panning over a district computes it
// once, not once per tile, and concurrent misses of one district compute
// it once (singleflight). Without it, requesting the tiles of a district at
// a high zoom would repeat a heavy analysis hundreds of times.
type hotMemo struct {
	mu      sync.Mutex
	version uint64
	cells   map[string][]hotCell
	group   singleflight.Group
	// computed counts the analyses run (misses).
	computed atomic.Int64
}

// hotMemoMax bounds the memo (districts x periods x views in use); past it
// the memo starts over.
const hotMemoMax = 256

// hotKey names the analysis of district at res for p.
func hotKey(p Params, district string, res int) string {
	kinds := make([]string, len(p.Kinds))
	for i, k := range p.Kinds {
		kinds[i] = k.String()
	}
	return fmt.Sprintf("%t|%s|%d|%s|%d-%d|%s|%s", p.Public, district, res, p.Period.Label, p.Period.From.Unix(), p.Period.To.Unix(),
		strings.Join(kinds, ","), strings.Join(p.Categories, ","))
}

// get returns the cells of the analysis named key for snap, calling
// compute on a miss. Errors are not memoised (a cancelled request must not
// leave its error for the next one).
func (m *hotMemo) get(ctx context.Context, snap *analytics.Snapshot, key string, compute func(context.Context) ([]hotCell, error)) ([]hotCell, error) {
	m.mu.Lock()
	if m.version != snap.Version() || m.cells == nil {
		m.version, m.cells = snap.Version(), make(map[string][]hotCell)
	}
	if c, ok := m.cells[key]; ok {
		m.mu.Unlock()
		return c, nil
	}
	m.mu.Unlock()
	v, err, _ := m.group.Do(fmt.Sprintf("%d|%s", snap.Version(), key), func() (any, error) {
		m.computed.Add(1)
		c, err := compute(ctx)
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.version == snap.Version() {
			if len(m.cells) >= hotMemoMax {
				clear(m.cells)
			}
			m.cells[key] = c
		}
		return c, nil
	})
	if err != nil {
		if ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			// The caller that started the shared computation left; this
			// one computes for itself.
			return compute(ctx)
		}
		return nil, err
	}
	return v.([]hotCell), nil
}
