package analytics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoSnapshot is for callers (e.g. the server) that need a snapshot
// before the first Reload succeeded (Live.Current is nil).
var ErrNoSnapshot = errors.New("no snapshot loaded yet")

// Live holds the current snapshot of a Source and replaces it when the
// data changes. Readers call Current and keep using the snapshot they got
// (it is immutable) while a reload builds the next one; the swap is one
// atomic pointer store, so readers never block.
type Live struct {
	src   Source
	units UnitLoader
	cur   atomic.Pointer[Snapshot]
	mu    sync.Mutex // serialises reloads (and so the versions)
	// built is how long the build of the current snapshot took, in
	// nanoseconds: the server's /metrics reads it at scrape time, so it
	// is an atomic beside cur rather than something logged once.
	built atomic.Int64
	// failed is the outcome of Watch's latest poll when it failed (nil
	// after a poll that succeeded): /readyz reports it.
	failed atomic.Pointer[ReloadFailure]
}

// ReloadFailure is a failed poll of Watch: checking the data version or
// rebuilding the snapshot.
type ReloadFailure struct {
	At  time.Time
	Err error
}

// LastReloadError returns the failure of Watch's latest poll, nil when the
// latest poll succeeded (or none ran yet). The current snapshot stays in
// use meanwhile; it may be behind the store.
func (l *Live) LastReloadError() *ReloadFailure { return l.failed.Load() }

// NewLive returns a Live over src with units from units. Current is nil
// until the first Reload.
func NewLive(src Source, units UnitLoader) *Live {
	return &Live{src: src, units: units}
}

// Current returns the current snapshot, nil before the first Reload.
func (l *Live) Current() *Snapshot { return l.cur.Load() }

// BuildDuration is how long the last successful Reload took to build
// the current snapshot (0 before the first one). A failed Reload keeps
// the previous value, as it keeps the previous snapshot.
func (l *Live) BuildDuration() time.Duration { return time.Duration(l.built.Load()) }

// Reload builds a new snapshot from the source and swaps it in; its
// version is the previous one plus one (1 for the first). On error the
// current snapshot stays.
func (l *Live) Reload(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var version uint64 = 1
	if old := l.cur.Load(); old != nil {
		version = old.Version() + 1
	}
	start := time.Now()
	s, err := BuildFromStore(ctx, l.src, l.units, version)
	if err != nil {
		return fmt.Errorf("reload snapshot %d: %w", version, err)
	}
	l.built.Store(int64(time.Since(start)))
	l.cur.Store(s)
	return nil
}

// Watch polls the source's data version every interval and reloads when it
// differs from the current snapshot's (or when there is none yet). It
// returns when ctx is done; reload errors are logged and retried at the
// next poll.
func (l *Live) Watch(ctx context.Context, every time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if every <= 0 {
		every = 5 * time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		l.poll(ctx, log)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// dataVersionTimeout bounds each poll's data version check.
const dataVersionTimeout = 10 * time.Second

func (l *Live) poll(ctx context.Context, log *slog.Logger) {
	// The check is one cheap read: bounded, so that a store that stopped
	// answering (a network partition) cannot stall the polling for good.
	vctx, cancel := context.WithTimeout(ctx, dataVersionTimeout)
	dv, err := l.src.DataVersion(vctx)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			l.failed.Store(&ReloadFailure{At: time.Now(), Err: fmt.Errorf("check the data version: %w", err)})
			log.WarnContext(ctx, "snapshot: data version", "err", err)
		}
		return
	}
	if cur := l.Current(); cur != nil && cur.DataVersion() == dv {
		l.failed.Store(nil)
		return
	}
	start := time.Now()
	if err := l.Reload(ctx); err != nil {
		if ctx.Err() == nil {
			l.failed.Store(&ReloadFailure{At: time.Now(), Err: err})
			log.ErrorContext(ctx, "snapshot: reload", "err", err)
		}
		return
	}
	l.failed.Store(nil)
	s := l.Current()
	log.InfoContext(ctx, "snapshot: reloaded", "version", s.Version(), "data_version", s.DataVersion(),
		"events", s.Len(), "took", time.Since(start).Round(time.Millisecond))
}
