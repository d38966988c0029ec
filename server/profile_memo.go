package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/internal/memo"
)

// A mahalla profile's hot cells come from a Gi* over its whole district,
// shared by every mahalla of the district: heavy work (it goes through
// admission control) that would otherwise be repeated for each of the
// district's dozens of mahallas. The district analyses are memoised per
// snapshot version, view, district, period and resolution (internal/memo),
// and concurrent misses of one key compute it once, so a crowd opening
// profiles costs one analysis per district.

// districtMemoEntries bounds the memo: (districts x periods x views) in use.
const districtMemoEntries = 256

// districtMemo is the memo of district analyses.
type districtMemo struct {
	g memo.Group[any]
}

func newDistrictMemo() *districtMemo {
	return &districtMemo{g: memo.Group[any]{Max: districtMemoEntries}}
}

// memoKey names a district analysis of snap (the generation is snap's
// version).
func memoKey(snap *analytics.Snapshot, exact bool, district string, per analytics.Period, res int) string {
	return fmt.Sprintf("%d|%t|%s|%d|%d|%d", snap.Version(), exact, district, per.From.Unix(), per.To.Unix(), res)
}

// get returns the memoised value of key, computing it on a miss: admitted
// as heavy work with cost c, once for concurrent callers. A computation
// error is not memoised (nor is a refusal). Keys carry the snapshot
// version, so the memo keeps one generation.
func (m *districtMemo) get(ctx context.Context, s *Server, r *http.Request, key string, c cost, compute func(context.Context) (any, error)) (any, error) {
	return m.g.Get(ctx, 0, key, func(ctx context.Context) (any, error) {
		release, err := s.heavy(r, c)
		if err != nil {
			return nil, err
		}
		defer release()
		return compute(ctx)
	})
}
