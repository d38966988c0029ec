package tiles

import (
	"context"
	"fmt"
	"sync"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
)

// statsMemo keeps the per-unit statistics of recent (view, period, level,
// filter) combinations for the current snapshot: every polygon tile of a
// map view asks the same question, so it is answered once per snapshot
// instead of once per tile. The view ("exact" or "public") is part of the
// key, and the answer comes from the function the caller passes
// (analytics.Snapshot.Stats or disclose.Discloser.Stats). It holds at
// most statsMemoMax answers and forgets everything when the snapshot
// version changes. Errors are not kept.
type statsMemo struct {
	mu      sync.Mutex
	version uint64
	rows    map[string]map[string]*analytics.StatsRow
}

const statsMemoMax = 64

// statsKey names q in view.
func statsKey(view string, q analytics.StatsQuery) string {
	key := fmt.Sprintf("%s|%s|%d|%s|%v|%v|%v|%v|%s|%v", view, q.Period.Label, q.Period.From.Unix(), q.Level, q.Filter.Kinds,
		q.Filter.Categories, q.Filter.Severities, q.Filter.Flags, q.Filter.Unit, q.ComparePrevious)
	if q.Filter.BBox != nil {
		key += fmt.Sprintf("|%v", *q.Filter.BBox)
	}
	return key
}

// get returns the rows (by unit code) of the answer named key for snap,
// calling stats on a miss.
func (m *statsMemo) get(snap *analytics.Snapshot, key string, stats func() (analytics.StatsResult, error)) (map[string]*analytics.StatsRow, error) {
	m.mu.Lock()
	if m.version != snap.Version() || m.rows == nil {
		m.version, m.rows = snap.Version(), make(map[string]map[string]*analytics.StatsRow)
	}
	if rows, ok := m.rows[key]; ok {
		m.mu.Unlock()
		return rows, nil
	}
	m.mu.Unlock()

	st, err := stats()
	if err != nil {
		return nil, err
	}
	rows := make(map[string]*analytics.StatsRow, len(st.Rows))
	for i := range st.Rows {
		rows[st.Rows[i].Unit] = &st.Rows[i]
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.version == snap.Version() {
		if len(m.rows) >= statsMemoMax {
			clear(m.rows)
		}
		m.rows[key] = rows
	}
	return rows, nil
}

// unitStats returns the statistics of every unit of level for p with the
// previous period's comparison, memoised per snapshot: exact for analysts,
// the published ones of disclose (Discloser.Stats, the function the JSON
// routes answer with) for the public.
func (r *Renderer) unitStats(ctx context.Context, snap *analytics.Snapshot, p Params, level geo.Level) (map[string]*analytics.StatsRow, error) {
	q := analytics.StatsQuery{Period: p.Period, Level: level, ComparePrevious: true}
	if p.Public {
		q.Filter = p.publicFilter()
		return r.stats.get(snap, statsKey("public", q), func() (analytics.StatsResult, error) {
			return r.pub.Stats(ctx, snap, q, r.cfg.Now())
		})
	}
	q.Filter = r.exactFilter(snap, p)
	return r.stats.get(snap, statsKey("exact", q), func() (analytics.StatsResult, error) { return snap.Stats(q) })
}
