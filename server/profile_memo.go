package server

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/crimemap/crimemap/analytics"
	"golang.org/x/sync/singleflight"
)

// A mahalla profile's hot cells come from a Gi* over its whole district,
// shared by every mahalla of the district: heavy work (it goes through
// admission control) that would otherwise be repeated for each of the
// district's dozens of mahallas. The district analyses are memoised per
// snapshot version, view, district, period and resolution in a small LRU,
// and concurrent misses of one key compute it once (singleflight), so a
// crowd opening profiles costs one analysis per district.

// districtMemoEntries bounds the memo: (districts x periods x views) in use.
const districtMemoEntries = 256

// districtMemo is the LRU of district analyses.
type districtMemo struct {
	mu    sync.Mutex
	ll    *list.List // front: most recent; values *memoEntry
	items map[string]*list.Element
	group singleflight.Group
}

type memoEntry struct {
	key string
	val any
}

func newDistrictMemo() *districtMemo {
	return &districtMemo{ll: list.New(), items: make(map[string]*list.Element)}
}

// memoKey names a district analysis.
func memoKey(snap *analytics.Snapshot, exact bool, district string, per analytics.Period, res int) string {
	return fmt.Sprintf("%d|%t|%s|%d|%d|%d", snap.Version(), exact, district, per.From.Unix(), per.To.Unix(), res)
}

// get returns the memoised value of key, computing it on a miss: admitted
// as heavy work with cost c, once for concurrent callers. A computation
// error is not memoised (nor is a refusal).
func (m *districtMemo) get(ctx context.Context, s *Server, r *http.Request, key string, c cost, compute func(context.Context) (any, error)) (any, error) {
	m.mu.Lock()
	if e, ok := m.items[key]; ok {
		m.ll.MoveToFront(e)
		m.mu.Unlock()
		return e.Value.(*memoEntry).val, nil
	}
	m.mu.Unlock()
	for attempt := 0; ; attempt++ {
		v, err := m.compute(ctx, s, r, key, c, compute)
		// A shared computation ends with the context of the caller that
		// started it: when that one left, the others try again.
		if err != nil && ctx.Err() == nil && attempt < 2 && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			continue
		}
		return v, err
	}
}

func (m *districtMemo) compute(ctx context.Context, s *Server, r *http.Request, key string, c cost, compute func(context.Context) (any, error)) (any, error) {
	v, err, _ := m.group.Do(key, func() (any, error) {
		release, err := s.heavy(r, c)
		if err != nil {
			return nil, err
		}
		defer release()
		v, err := compute(ctx)
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		m.items[key] = m.ll.PushFront(&memoEntry{key: key, val: v})
		for m.ll.Len() > districtMemoEntries {
			old := m.ll.Back()
			m.ll.Remove(old)
			delete(m.items, old.Value.(*memoEntry).key)
		}
		return v, nil
	})
	return v, err
}
