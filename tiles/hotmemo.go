package tiles

import (
	"fmt"
	"strings"

	"github.com/crimemap/crimemap/internal/memo"
)

// hotMemo memoises the Gi* of each district behind the hotspots layer, per
// snapshot (internal/memo): every tile a district meets draws from one
// analysis of the whole district (its study area), so panning over a
// district computes it once, not once per tile, and concurrent misses of
// one district compute it once. Without it, requesting the tiles of a
// district at a high zoom would repeat a heavy analysis hundreds of times.
type hotMemo = memo.Group[[]hotCell]

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
