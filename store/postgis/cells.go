package postgis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The H3 cells stored with every located event besides the res-15 h3:
// h3_rN = LatLngToCell(lat, lon, N) for N in cellMinRes..cellMaxRes (the
// hexbin resolutions, analytics.MinHexbinRes..MaxHexbinRes; migration
// 00006). H3 parents are not geometric (the res-8 parent of a res-15 cell
// is, for ~6.5% of points, not the res-8 cell holding the point), so the
// coarse cells are computed from the coordinates, in Go, on every write of
// an event's location, and SQL aggregates group by them.
const (
	cellMinRes = analytics.MinHexbinRes
	cellMaxRes = analytics.MaxHexbinRes
	nCells     = cellMaxRes - cellMinRes + 1
)

// cellColumns are the h3_rN columns, cellMinRes first.
var cellColumns = [nCells]string{"h3_r5", "h3_r6", "h3_r7", "h3_r8", "h3_r9", "h3_r10"}

// cellsParallelMin: backfill batches of at least this many points compute
// their cells on every core.
const cellsParallelMin = 8192

// fillCells sets cells[i*nCells:(i+1)*nCells] to the cells of point i (of
// n) at cellMinRes..cellMaxRes, for the points point reports located
// (others are left alone). Its errors name the point.
func fillCells(n int, point func(i int) (lat, lon float64, ok bool), cells []int64, name func(i int) string) error {
	do := func(lo, hi int) error {
		var out [nCells]uint64
		for i := lo; i < hi; i++ {
			lat, lon, ok := point(i)
			if !ok {
				continue
			}
			if err := geo.LatLngToCells(lat, lon, cellMinRes, cellMaxRes, out[:]); err != nil {
				return fmt.Errorf("%s: h3 cells of %v,%v: %w", name(i), lat, lon, err)
			}
			c := cells[i*nCells : (i+1)*nCells]
			for j, v := range out {
				c[j] = int64(v)
			}
		}
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), n/(cellsParallelMin/2))
	if n < cellsParallelMin || workers < 2 {
		return do(0, n)
	}
	var (
		wg   sync.WaitGroup
		errs = make([]error, workers)
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = do(n*w/workers, n*(w+1)/workers)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// backfillBatch is the number of events a backfill transaction updates.
const backfillBatch = 50_000

// backfillLockKey is the advisory lock (per database) held by the process
// filling the cells of stored events, so two processes opening the store
// at once do not both compute them.
const backfillLockKey int64 = 0x63726d683363 // "crmh3c"

// missingCells selects the located events without cells (the partial
// index events_h3_missing), from id $1 on, $2 at most.
const missingCells = `SELECT id, lon, lat FROM events
WHERE h3_r10 IS NULL AND geom IS NOT NULL AND id > $1
ORDER BY id LIMIT $2`

// updateCells writes the computed cells of a batch. The row must still
// have no cells and the coordinates they were computed from: a writer that
// changed it meanwhile (and computed its own cells) wins.
const updateCells = `UPDATE events e SET h3_r5 = u.r5, h3_r6 = u.r6, h3_r7 = u.r7,
  h3_r8 = u.r8, h3_r9 = u.r9, h3_r10 = u.r10
FROM unnest($1::bigint[], $2::float8[], $3::float8[], $4::bigint[], $5::bigint[],
    $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[]) AS u(id, lon, lat, r5, r6, r7, r8, r9, r10)
WHERE e.id = u.id AND e.h3_r10 IS NULL AND e.lon = u.lon AND e.lat = u.lat`

// backfillCells computes the cells of the located events stored without
// them (rows written before migration 00006, or by hand), batch events per
// transaction in id order, so an interrupted run keeps what it committed
// and the next one goes on. It bumps the data version once at the end if
// it changed any row, and returns how many it changed. A point H3 rejects
// is logged and left without cells. While another process holds the
// backfill lock it does nothing (that one fills them).
func (s *Store) backfillCells(ctx context.Context, batch int) (int64, error) {
	var missing bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM events WHERE h3_r10 IS NULL AND geom IS NOT NULL)`).Scan(&missing); err != nil {
		return 0, translate(ctx, err)
	}
	if !missing {
		return 0, nil
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, translate(ctx, err)
	}
	defer conn.Release()
	// The lock of a session that just ended (a run interrupted here a
	// moment ago) is released when its backend exits: retry briefly
	// before concluding that another process holds it.
	var got bool
	for attempt := 0; ; attempt++ {
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, backfillLockKey).Scan(&got); err != nil {
			return 0, translate(ctx, err)
		}
		if got || attempt == 20 {
			break
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !got {
		s.log.Info("postgis: another process is computing the H3 cells of stored events")
		return 0, nil
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, backfillLockKey); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx)) // closing the session releases the lock
		}
	}()
	var todo int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM events WHERE h3_r10 IS NULL AND geom IS NOT NULL`).Scan(&todo); err != nil {
		return 0, translate(ctx, err)
	}
	s.log.Info("postgis: computing the H3 cells (res 5-10) of stored events", "events", todo, "batch", batch)
	start := time.Now()
	var (
		b       cellBatch
		changed int64
		seen    int64
		last    = int64(math.MinInt64)
	)
	for {
		n, lastID, upd, err := s.backfillOne(ctx, conn, &b, last, batch)
		changed += upd
		if err != nil {
			if changed > 0 {
				s.log.Warn("postgis: H3 cell backfill interrupted; the next open goes on", "updated", changed, "err", err)
			}
			return changed, err
		}
		if n == 0 {
			break
		}
		seen += int64(n)
		last = lastID
		s.log.Info("postgis: H3 cells computed", "done", seen, "of", todo, "updated", changed, "took", time.Since(start).Round(time.Millisecond))
		if n < batch {
			break
		}
	}
	if changed > 0 {
		if err := s.bumpVersionAlone(ctx); err != nil {
			return changed, err
		}
	}
	s.log.Info("postgis: H3 cells of stored events computed", "updated", changed, "took", time.Since(start).Round(time.Millisecond))
	return changed, nil
}

// cellBatch holds one backfill batch, reused between batches.
type cellBatch struct {
	ids        []int64
	lons, lats []float64
	cells      []int64
	cols       [nCells][]int64
}

// backfillOne fills the cells of up to batch events with ids above last in
// one transaction; it returns how many it selected, the last selected id
// and how many it updated.
func (s *Store) backfillOne(ctx context.Context, conn *pgxpool.Conn, b *cellBatch, last int64, batch int) (int, int64, int64, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, 0, 0, translate(ctx, err)
	}
	defer s.rollback(ctx, tx)
	rows, err := tx.Query(ctx, missingCells, last, batch)
	if err != nil {
		return 0, 0, 0, translate(ctx, err)
	}
	b.ids, b.lons, b.lats = b.ids[:0], b.lons[:0], b.lats[:0]
	var (
		id       int64
		lon, lat float64
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &lon, &lat}, func() error {
		b.ids, b.lons, b.lats = append(b.ids, id), append(b.lons, lon), append(b.lats, lat)
		return nil
	})
	if err != nil {
		return 0, 0, 0, translate(ctx, err)
	}
	n := len(b.ids)
	if n == 0 {
		return 0, 0, 0, nil
	}
	lastID := b.ids[n-1]
	if cap(b.cells) < nCells*n {
		b.cells = make([]int64, nCells*n)
	}
	b.cells = b.cells[:nCells*n]
	name := func(i int) string { return fmt.Sprintf("event id %d", b.ids[i]) }
	if err := fillCells(n, func(i int) (float64, float64, bool) { return b.lats[i], b.lons[i], true }, b.cells, name); err != nil {
		// Rare (stored coordinates are finite and in range): compute one
		// point at a time and leave out, with a warning, those H3 rejects.
		k := 0
		for i := range n {
			one := func(int) (float64, float64, bool) { return b.lats[i], b.lons[i], true }
			if err := fillCells(1, one, b.cells[k*nCells:(k+1)*nCells], func(int) string { return name(i) }); err != nil {
				s.log.Warn("postgis: stored event left without H3 cells", "err", err)
				continue
			}
			b.ids[k], b.lons[k], b.lats[k] = b.ids[i], b.lons[i], b.lats[i]
			k++
		}
		b.ids, b.lons, b.lats, b.cells = b.ids[:k], b.lons[:k], b.lats[:k], b.cells[:nCells*k]
	}
	for j := range b.cols {
		b.cols[j] = b.cols[j][:0]
		for i := range b.ids {
			b.cols[j] = append(b.cols[j], b.cells[i*nCells+j])
		}
	}
	tag, err := tx.Exec(ctx, updateCells, b.ids, b.lons, b.lats, b.cols[0], b.cols[1], b.cols[2], b.cols[3], b.cols[4], b.cols[5])
	if err != nil {
		return 0, 0, 0, translate(ctx, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, 0, translate(ctx, err)
	}
	return n, lastID, tag.RowsAffected(), nil
}

// bumpVersionAlone bumps the data version in a transaction of its own.
func (s *Store) bumpVersionAlone(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return translate(ctx, err)
	}
	defer s.rollback(ctx, tx)
	if err := bumpVersion(ctx, tx); err != nil {
		return translate(ctx, err)
	}
	return translate(ctx, tx.Commit(ctx))
}
