package tiles

import (
	"fmt"
	"sync"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
)

// statsMemo keeps the per-unit statistics of recent (period, level,
// filter) combinations for the current snapshot: every polygon tile of a
// map view asks the same question, so it is answered once per snapshot
// instead of once per tile. It holds at most statsMemoMax answers and
// forgets everything when the snapshot version changes.
type statsMemo struct {
	mu      sync.Mutex
	version uint64
	rows    map[string]map[string]*analytics.StatsRow
}

const statsMemoMax = 64

func (m *statsMemo) get(snap *analytics.Snapshot, q analytics.StatsQuery) (map[string]*analytics.StatsRow, error) {
	key := fmt.Sprintf("%s|%d|%s|%v|%v|%v|%v|%s|%v", q.Period.Label, q.Period.From.Unix(), q.Level, q.Filter.Kinds,
		q.Filter.Categories, q.Filter.Severities, q.Filter.Flags, q.Filter.Unit, q.ComparePrevious)
	if q.Filter.BBox != nil {
		key += fmt.Sprintf("|%v", *q.Filter.BBox)
	}
	m.mu.Lock()
	if m.version != snap.Version() || m.rows == nil {
		m.version, m.rows = snap.Version(), make(map[string]map[string]*analytics.StatsRow)
	}
	if rows, ok := m.rows[key]; ok {
		m.mu.Unlock()
		return rows, nil
	}
	m.mu.Unlock()

	st, err := snap.Stats(q)
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

// unitStats returns the statistics of every unit of level for p, memoised
// per snapshot.
func (r *Renderer) unitStats(snap *analytics.Snapshot, p Params, level geo.Level) (map[string]*analytics.StatsRow, error) {
	return r.stats.get(snap, analytics.StatsQuery{Period: p.Period, Level: level, Filter: p.filter(), ComparePrevious: true})
}
