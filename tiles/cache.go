package tiles

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/crimemap/crimemap/analytics"
)

// DefaultCacheBytes is the default bound of the tile cache (256 MiB).
const DefaultCacheBytes = 256 << 20

// entryOverhead is what an entry costs beyond its tile and key (list
// element, map slot, struct), counted against the byte bound.
const entryOverhead = 160

// etagFormat changes when the rendering changes in a way that must not
// be served from an older ETag.
const etagFormat = "crimemap-tiles/3"

// Encoded is a tile as served: the MVT compressed with gzip, its ETag and
// where it came from.
type Encoded struct {
	// Gzip is the gzip-compressed MVT; nil for an empty tile (no feature
	// in any requested layer).
	Gzip []byte
	// ETag is the strong entity tag (quoted) of the uncompressed tile:
	// the snapshot and the normalised request (see Renderer.ETag).
	ETag string
	// Snapshot is the version of the snapshot the tile was rendered from.
	Snapshot uint64
	Features int
	// Cached is true when the tile came from the cache (or from a render
	// another request started).
	Cached bool
}

// MVT returns the uncompressed tile (nil for an empty one).
func (e Encoded) MVT() ([]byte, error) {
	if e.Gzip == nil {
		return nil, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(e.Gzip))
	if err != nil {
		return nil, fmt.Errorf("tile: gunzip: %w", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("tile: gunzip: %w", err)
	}
	return b, nil
}

// CacheStats counts the work of the tile cache.
type CacheStats struct {
	Hits, Misses int64 // Misses are the renders the cache started
	// Shared counts requests that waited for a render another identical
	// request had started (they count as hits too).
	Shared    int64
	Evictions int64
	Entries   int
	Bytes     int64 // counted against MaxBytes
	MaxBytes  int64
	// HotspotAnalyses counts the district Gi* analyses the hotspots layer
	// computed (each memoised per snapshot; see hotMemo), with or without
	// a tile cache.
	HotspotAnalyses int64
}

// CacheStats returns the counters of the tile cache (zero without one).
func (r *Renderer) CacheStats() CacheStats {
	var st CacheStats
	if r.cache != nil {
		st = r.cache.stats()
	}
	st.HotspotAnalyses = r.hot.Computed()
	return st
}

// key is the normalised request and snapshot of a checked request: every
// input that changes a tile's bytes.
func (r *Renderer) key(snap *analytics.Snapshot, req Request) string {
	var b strings.Builder
	b.WriteString(etagFormat)
	fmt.Fprintf(&b, "|snap=%d.%d.%d", snap.Version(), snap.DataVersion(), snap.BuiltAt().UnixNano())
	fmt.Fprintf(&b, "|layers=%s|tile=%d/%d/%d", strings.Join(req.Layers, ","), req.Z, req.X, req.Y)
	p := req.Params
	fmt.Fprintf(&b, "|period=%s@%d-%d", p.Period.Label, p.Period.From.Unix(), p.Period.To.Unix())
	b.WriteString("|kinds=")
	for _, k := range p.Kinds {
		b.WriteString(k.String() + ",")
	}
	b.WriteString("|categories=" + strings.Join(p.Categories, ","))
	if p.Public {
		// The Discloser is fixed for the renderer's life; its secret never
		// goes into a key (the key only names the protection in force).
		fmt.Fprintf(&b, "|public disclose k=%d noise=%d", r.pub.K(), r.pub.MaxNoise())
	} else {
		b.WriteString("|analyst")
	}
	return b.String()
}

func etagOf(key string) string {
	h := sha256.Sum256([]byte(key))
	return `"` + hex.EncodeToString(h[:16]) + `"`
}

// ETag returns the entity tag the tile of req has now, without rendering
// it: a hash of the current snapshot (version, data version, build time),
// the layers, z/x/y, the period, kinds and categories (normalised: sorted,
// distinct), public or analyst and the public protection in force (K and
// MaxNoise of Config.Disclose). It checks req like Tile and returns the
// same errors.
func (r *Renderer) ETag(req Request) (string, error) {
	req, err := r.check(req)
	if err != nil {
		return "", err
	}
	snap, _, err := r.snapshot()
	if err != nil {
		return "", err
	}
	return etagOf(r.key(snap, req)), nil
}

// Encoded renders the tile of req compressed with gzip, through the tile
// cache: a hit costs no rendering and no compression, and identical
// requests arriving while the tile renders wait for that one render. Tiles
// with the events layer (analysts only) are never cached. Errors are those
// of Tile.
func (r *Renderer) Encoded(ctx context.Context, req Request) (Encoded, error) {
	req, err := r.check(req)
	if err != nil {
		return Encoded{}, err
	}
	snap, gs, err := r.snapshot()
	if err != nil {
		return Encoded{}, err
	}
	key := r.key(snap, req)
	render := func(ctx context.Context) (Encoded, error) {
		res, err := r.render(ctx, snap, gs, req)
		if err != nil {
			return Encoded{}, err
		}
		enc := Encoded{ETag: etagOf(key), Snapshot: res.Snapshot, Features: res.Features}
		if res.Data != nil {
			// BestSpeed: a cold tile's latency matters more than a few
			// per cent of bytes (MVT compresses well at any level).
			level := gzip.BestSpeed
			if slices.Contains(req.Layers, LayerEvents) {
				level = gzip.BestSpeed
			}
			if enc.Gzip, err = gzipBytes(res.Data, level); err != nil {
				return Encoded{}, err
			}
		}
		return enc, nil
	}
	if r.cache == nil || slices.Contains(req.Layers, LayerEvents) {
		return render(ctx)
	}
	return r.cache.get(ctx, snap.Version(), key, render)
}

func gzipBytes(b []byte, level int) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(b)/2 + 64)
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("tile: gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("tile: gzip: %w", err)
	}
	return buf.Bytes(), nil
}

// tileCache is an LRU cache of encoded tiles bounded in bytes, for one
// snapshot version at a time (a newer version empties it), with
// de-duplication of concurrent renders of one key.
type tileCache struct {
	max int64

	mu       sync.Mutex
	version  uint64
	lru      *list.List // of *cacheEntry, most recent first
	entries  map[string]*list.Element
	inflight map[string]*flight
	bytes    int64
	st       CacheStats
}

type cacheEntry struct {
	key  string
	enc  Encoded
	size int64
}

// flight is a render in progress; done closes when enc and err are set.
type flight struct {
	done chan struct{}
	enc  Encoded
	err  error
}

func newTileCache(max int64) *tileCache {
	return &tileCache{max: max, lru: list.New(), entries: map[string]*list.Element{}, inflight: map[string]*flight{}}
}

func (c *tileCache) stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	st.Entries, st.Bytes, st.MaxBytes = c.lru.Len(), c.bytes, c.max
	return st
}

// advance drops every entry when version is newer than the cache's (the
// caller holds mu). It reports false for a request of an older snapshot,
// which must bypass the cache.
func (c *tileCache) advance(version uint64) bool {
	switch {
	case version > c.version:
		c.version = version
		c.lru.Init()
		clear(c.entries)
		c.bytes = 0
		// In-flight renders of the old version finish for their callers
		// but are not stored (put checks the version).
		clear(c.inflight)
	case version < c.version:
		return false
	}
	return true
}

// get returns the tile of key, rendering it (once for concurrent callers)
// on a miss.
func (c *tileCache) get(ctx context.Context, version uint64, key string, render func(context.Context) (Encoded, error)) (Encoded, error) {
	for {
		c.mu.Lock()
		if !c.advance(version) {
			c.mu.Unlock()
			return render(ctx)
		}
		if el, ok := c.entries[key]; ok {
			c.lru.MoveToFront(el)
			c.st.Hits++
			enc := el.Value.(*cacheEntry).enc
			c.mu.Unlock()
			enc.Cached = true
			return enc, nil
		}
		if f, ok := c.inflight[key]; ok {
			c.st.Hits++
			c.st.Shared++
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return Encoded{}, ctx.Err()
			}
			if f.err != nil {
				if isCancel(f.err) && ctx.Err() == nil {
					continue // the request that rendered left; try again
				}
				return Encoded{}, f.err
			}
			enc := f.enc
			enc.Cached = true
			return enc, nil
		}
		f := &flight{done: make(chan struct{})}
		c.inflight[key] = f
		c.st.Misses++
		c.mu.Unlock()

		f.enc, f.err = render(ctx)
		c.mu.Lock()
		if c.inflight[key] == f {
			delete(c.inflight, key)
		}
		if f.err == nil && version == c.version {
			c.put(key, f.enc)
		}
		c.mu.Unlock()
		close(f.done)
		return f.enc, f.err
	}
}

func isCancel(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// put stores enc under key and evicts the least recently used entries
// beyond the bound (the caller holds mu). A tile larger than the whole
// bound is not stored.
func (c *tileCache) put(key string, enc Encoded) {
	size := int64(len(enc.Gzip)+len(key)+len(enc.ETag)) + entryOverhead
	if size > c.max {
		return
	}
	if el, ok := c.entries[key]; ok { // cannot happen with inflight, but keep the books right
		c.bytes -= el.Value.(*cacheEntry).size
		c.lru.Remove(el)
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry{key: key, enc: enc, size: size})
	c.bytes += size
	for c.bytes > c.max {
		el := c.lru.Back()
		e := el.Value.(*cacheEntry)
		c.lru.Remove(el)
		delete(c.entries, e.key)
		c.bytes -= e.size
		c.st.Evictions++
	}
}

// String describes the stats for logs.
func (s CacheStats) String() string {
	return "hits " + strconv.FormatInt(s.Hits, 10) + ", misses " + strconv.FormatInt(s.Misses, 10) +
		", entries " + strconv.Itoa(s.Entries) + ", " + strconv.FormatInt(s.Bytes, 10) + "/" + strconv.FormatInt(s.MaxBytes, 10) + " bytes"
}
