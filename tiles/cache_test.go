package tiles_test

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// swap is a Snapshots whose snapshot can be replaced.
type swap struct {
	p atomic.Pointer[analytics.Snapshot]
}

func (s *swap) Current() *analytics.Snapshot { return s.p.Load() }

// rebuild builds the world's snapshot again as version v.
func (w *world) rebuild(t testing.TB, v uint64) *analytics.Snapshot {
	t.Helper()
	snap, err := analytics.Build(context.Background(), w.units, func(fn func(*analytics.Event) error) error {
		for i := range w.events {
			if err := fn(&w.events[i]); err != nil {
				return err
			}
		}
		return nil
	}, v, int64(v))
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func (w *world) renderer(snaps tiles.Snapshots, cacheBytes int64) *tiles.Renderer {
	return tiles.New(tiles.Config{Snapshots: snaps, Boundaries: w.boundaries, CacheBytes: cacheBytes})
}

func tileReq(layers []string, tl maptile.Tile, p tiles.Params) tiles.Request {
	return tiles.Request{Layers: layers, Z: int(tl.Z), X: int(tl.X), Y: int(tl.Y), Params: p}
}

func TestETag(t *testing.T) {
	w := demoWorld(t)
	sw := &swap{}
	sw.p.Store(w.snap)
	r := w.renderer(sw, 0)
	qarshi := maptile.At(orb.Point{65.79, 38.86}, 10)
	p := tiles.Params{Period: w.period, Kinds: []analytics.Kind{analytics.KindCrime, analytics.KindOffence}, Categories: []string{"theft", "fraud"}}
	base := tileReq([]string{tiles.LayerDistricts, tiles.LayerHexbins}, qarshi, p)
	etag := func(req tiles.Request) string {
		t.Helper()
		e, err := r.ETag(req)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e0 := etag(base)
	if e0 != etag(base) || len(e0) < 10 || e0[0] != '"' {
		t.Fatalf("etag %s not stable or not quoted", e0)
	}
	// Normalised: the order of kinds and categories does not matter.
	same := base
	same.Params.Kinds = []analytics.Kind{analytics.KindOffence, analytics.KindCrime, analytics.KindCrime}
	same.Params.Categories = []string{"fraud", "theft"}
	if etag(same) != e0 {
		t.Error("etag depends on the order of kinds or categories")
	}
	q1, _ := analytics.ParsePeriod("2026-Q1", analytics.SyntheticZone())
	seen := map[string]string{e0: "base"}
	for name, mod := range map[string]func(*tiles.Request){
		"layers":      func(q *tiles.Request) { q.Layers = []string{tiles.LayerDistricts} },
		"layer order": func(q *tiles.Request) { q.Layers = []string{tiles.LayerHexbins, tiles.LayerDistricts} },
		"z":           func(q *tiles.Request) { q.Z, q.X, q.Y = q.Z+1, q.X*2, q.Y*2 },
		"x":           func(q *tiles.Request) { q.X++ },
		"y":           func(q *tiles.Request) { q.Y++ },
		"period":      func(q *tiles.Request) { q.Params.Period = q1 },
		"kinds":       func(q *tiles.Request) { q.Params.Kinds = nil },
		"categories":  func(q *tiles.Request) { q.Params.Categories = []string{"theft"} },
		"public": func(q *tiles.Request) { // one kind and one category: the public lattice
			q.Params.Public, q.Params.Kinds, q.Params.Categories = true, []analytics.Kind{analytics.KindCrime}, []string{"theft"}
		},
		"public twin": func(q *tiles.Request) {
			q.Params.Kinds, q.Params.Categories = []analytics.Kind{analytics.KindCrime}, []string{"theft"}
		},
	} {
		q := base
		q.Params.Kinds = append([]analytics.Kind(nil), base.Params.Kinds...)
		mod(&q)
		e := etag(q)
		if prev, dup := seen[e]; dup {
			t.Errorf("%s: same etag as %s", name, prev)
		}
		seen[e] = name
	}
	// A new snapshot changes every etag.
	sw.p.Store(w.rebuild(t, 2))
	if etag(base) == e0 {
		t.Error("etag unchanged by a new snapshot")
	}
}

func TestEncodedCache(t *testing.T) {
	w := demoWorld(t)
	sw := &swap{}
	sw.p.Store(w.snap)
	r := w.renderer(sw, 0)
	ctx := context.Background()
	req := tileReq([]string{tiles.LayerMahallas, tiles.LayerHexbins}, maptile.At(orb.Point{65.79, 38.86}, 11), tiles.Params{Period: w.period})

	// gzip round trip: the cached, compressed tile is the rendered one.
	plain, err := r.Tile(ctx, req)
	if err != nil || plain.Data == nil {
		t.Fatal(err)
	}
	enc, err := r.Encoded(ctx, req)
	if err != nil || enc.Cached || len(enc.Gzip) == 0 || len(enc.Gzip) >= len(plain.Data) {
		t.Fatalf("encoded: cached %v, %d gzip bytes for %d (%v)", enc.Cached, len(enc.Gzip), len(plain.Data), err)
	}
	mvtData, err := enc.MVT()
	if err != nil || !bytes.Equal(mvtData, plain.Data) {
		t.Fatalf("gunzip differs from Tile (%v)", err)
	}
	if e, _ := r.ETag(req); e != enc.ETag {
		t.Errorf("Encoded etag %s, ETag %s", enc.ETag, e)
	}
	again, err := r.Encoded(ctx, req)
	if err != nil || !again.Cached || !bytes.Equal(again.Gzip, enc.Gzip) {
		t.Fatalf("second request: cached %v (%v)", again.Cached, err)
	}
	if st := r.CacheStats(); st.Hits != 1 || st.Misses != 1 || st.Entries != 1 || st.Bytes < int64(len(enc.Gzip)) {
		t.Errorf("stats %+v", st)
	}
	// The events layer is never cached.
	ev := req
	ev.Layers = []string{tiles.LayerEvents}
	for range 2 {
		if e, err := r.Encoded(ctx, ev); err != nil || e.Cached {
			t.Fatalf("events: cached %v (%v)", e.Cached, err)
		}
	}
	if st := r.CacheStats(); st.Entries != 1 || st.Misses != 1 {
		t.Errorf("events tile went through the cache: %+v", st)
	}
	// A new snapshot empties the cache: the next request renders again.
	sw.p.Store(w.rebuild(t, 2))
	fresh, err := r.Encoded(ctx, req)
	if err != nil || fresh.Cached || fresh.Snapshot != 2 || fresh.ETag == enc.ETag {
		t.Fatalf("after a new snapshot: cached %v, snapshot %d, same etag %v (%v)", fresh.Cached, fresh.Snapshot, fresh.ETag == enc.ETag, err)
	}
	if st := r.CacheStats(); st.Entries != 1 || st.Misses != 2 {
		t.Errorf("after a new snapshot: %+v", st)
	}
	// Without a cache every request renders.
	nc := w.renderer(sw, -1)
	for range 2 {
		if e, err := nc.Encoded(ctx, req); err != nil || e.Cached {
			t.Fatalf("no cache: cached %v (%v)", e.Cached, err)
		}
	}
}

func TestCacheByteBound(t *testing.T) {
	w := demoWorld(t)
	const max = 48 << 10
	r := w.renderer(fixed{w.snap}, max)
	ctx := context.Background()
	ext, _ := w.locatedExtent(t)
	var total int64
	n := 0
	for _, tl := range tilesOver(ext, 10) {
		enc, err := r.Encoded(ctx, tileReq([]string{tiles.LayerHexbins, tiles.LayerMahallas}, tl, tiles.Params{Period: w.period}))
		if err != nil {
			t.Fatal(err)
		}
		total += int64(len(enc.Gzip))
		n++
		if st := r.CacheStats(); st.Bytes > max {
			t.Fatalf("after %d tiles: %d bytes cached, bound %d", n, st.Bytes, max)
		}
	}
	st := r.CacheStats()
	if total <= 2*max || st.Evictions == 0 || st.Entries == 0 || st.Entries >= n || st.MaxBytes != max {
		t.Errorf("%d tiles, %d bytes rendered: %+v", n, total, st)
	}
}

func TestConcurrentColdTileRendersOnce(t *testing.T) {
	w := demoWorld(t)
	r := w.renderer(fixed{w.snap}, 0)
	req := tileReq([]string{tiles.LayerHotspots, tiles.LayerMahallas}, maptile.At(orb.Point{65.79, 38.86}, 9), tiles.Params{Period: w.period})
	const clients = 200
	var wg sync.WaitGroup
	etags := make([]string, clients)
	errs := make([]error, clients)
	start := make(chan struct{})
	for i := range clients {
		wg.Go(func() {
			<-start
			enc, err := r.Encoded(context.Background(), req)
			etags[i], errs[i] = enc.ETag, err
		})
	}
	close(start)
	wg.Wait()
	for i := range clients {
		if errs[i] != nil || etags[i] != etags[0] {
			t.Fatalf("client %d: %v, etag %s vs %s", i, errs[i], etags[i], etags[0])
		}
	}
	if st := r.CacheStats(); st.Misses != 1 || st.Hits != clients-1 {
		t.Errorf("%d clients: %+v, want 1 render", clients, st)
	}
}
