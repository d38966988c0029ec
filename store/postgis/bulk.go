package postgis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crimemap/crimemap/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var _ store.BulkLoader = (*Store)(nil)

// secondaryIndex is a secondary index on events that bulk loads may drop
// and rebuild. The list must match the migrations (TestSecondaryIndexes
// checks it); Open recreates any that is missing.
type secondaryIndex struct {
	name string
	// def creates the index (IF NOT EXISTS, so concurrent repairs agree);
	// then, in the same transaction, constraint (if any) attaches it.
	def, constraint string
	// drop removes it.
	drop string
	// bulkFactor: a BulkLoad drops the index when it expects at least
	// bulkFactor times the rows the table holds. Measured on PostgreSQL 15 /
	// PostGIS 3.3, 2 cores, CPU per row: maintaining the GiST index row by
	// row costs ~4.5-6 us against ~1.5 us per table row for a sorted
	// rebuild, so rebuilding pays from ~0.5x; a unit-code btree ~1 us
	// against ~0.6 us, from ~1x. BRIN is cheap either way.
	bulkFactor float64
	// batchFactor: PutEvents outside a BulkLoad drops and rebuilds the
	// index inside its transaction when the table holds fewer than
	// batchFactor times the batch's rows.
	batchFactor float64
}

// secondaryIndexes lists the event indexes a bulk load may drop, in rebuild
// order: the GiST first (the longest build, ~1.5 s per 1M rows, on a
// connection of its own), the rest after it on the other connection
// (GIN ~0.7 s, BRIN ~0.15 s, primary key ~0.35 s). The unique
// (kind, source_id) index is not in it: it is never dropped.
//
// The primary key on id is: maintaining it row by row costs ~0.6 us per
// row in the COPY (the bottleneck of a load) against ~0.35 us to rebuild
// beside the GiST. Ids come from the identity column, so they stay unique
// meanwhile. It is rebuilt last: attaching it as the primary key takes an
// ACCESS EXCLUSIVE lock, which waits for the other builds to commit.
var secondaryIndexes = [...]secondaryIndex{
	{name: "events_geom_gist", def: `CREATE INDEX IF NOT EXISTS events_geom_gist ON events USING gist (geom)`,
		drop: `DROP INDEX IF EXISTS events_geom_gist`, bulkFactor: 0.5, batchFactor: 3},
	{name: "events_units", def: `CREATE INDEX IF NOT EXISTS events_units ON events USING gin ((ARRAY[region_code, district_code, mahalla_code]))`,
		drop: `DROP INDEX IF EXISTS events_units`, bulkFactor: 1, batchFactor: 0.5},
	{name: "events_occurred_at_brin", def: `CREATE INDEX IF NOT EXISTS events_occurred_at_brin ON events USING brin (occurred_at)`,
		drop: `DROP INDEX IF EXISTS events_occurred_at_brin`, bulkFactor: 1, batchFactor: 0.5},
	// batchFactor 0: PutEvents alone never drops the primary key.
	{name: "events_pkey", def: `CREATE UNIQUE INDEX IF NOT EXISTS events_pkey ON events (id)`,
		constraint: `ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey`,
		drop:       `ALTER TABLE events DROP CONSTRAINT IF EXISTS events_pkey`, bulkFactor: 1},
}

// BulkLoad rebuilds only for loads of at least bulkLoadMin events; below
// that, dropping (an ACCESS EXCLUSIVE lock) buys too little.
const bulkLoadMin = 50_000

// bulkLockKey is the PostgreSQL advisory lock (per database) coordinating
// index drops and rebuilds across processes: every BulkLoad holds it
// shared while it runs; rebuilding missing indexes (at the end of the last
// BulkLoad, or on Open after a crash) takes it exclusive, so no process
// rebuilds the indexes another is bulk loading without.
const bulkLockKey int64 = 0x63726d626c6b // "crmblk"

// Rebuild settings: sorts in memory, and btree builds may use two parallel
// workers. Each concurrent rebuild connection sets them for its own
// transaction.
const (
	rebuildMaintenanceWorkMem = "512MB"
	rebuildParallelWorkers    = "2"
	// rebuildConns is how many indexes are built at once (from separate
	// pool connections; CREATE INDEX takes a SHARE lock, which does not
	// conflict with itself).
	rebuildConns = 2
)

// bulkState tracks this Store's BulkLoads in progress.
type bulkState struct {
	// active counts BulkLoads in progress; while it is positive PutEvents
	// leaves the secondary indexes alone (BulkLoad owns them).
	active atomic.Int32
}

// BulkLoad implements store.BulkLoader. When expected is at least
// bulkLoadMin and large relative to the events table (estimated from
// pg_class.reltuples, or the heap size when never analysed), it drops the
// secondary event indexes worth rebuilding (GiST, unit-code btrees, BRIN;
// never the unique key) in a short transaction of their own, calls fn, and
// rebuilds every missing secondary index afterwards, several at a time on
// separate connections, also when fn fails or ctx is cancelled. While it
// runs, PutEvents does no index work of its own.
//
// Several BulkLoads may run at once, in one process or several: each holds
// an advisory lock shared, and the last to finish rebuilds the indexes.
// If the process dies inside fn, Open rebuilds them.
func (s *Store) BulkLoad(ctx context.Context, expected int, fn func(ctx context.Context) error) error {
	if expected < bulkLoadMin {
		return fn(ctx)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgis bulk load: %w", translate(ctx, err))
	}
	// Taken before anything is dropped: waits while another process
	// rebuilds.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock_shared($1)`, bulkLockKey); err != nil {
		conn.Release()
		return fmt.Errorf("postgis bulk load: lock: %w", translate(ctx, err))
	}
	s.bulk.active.Add(1)
	dropped, derr := s.dropForBulk(ctx, conn, expected)
	var ferr error
	if derr == nil {
		ferr = fn(ctx)
	}
	s.bulk.active.Add(-1)
	// Restore the indexes even when ctx is cancelled.
	rctx := context.WithoutCancel(ctx)
	rerr := s.finishBulk(rctx, conn, len(dropped) > 0)
	if derr != nil {
		derr = fmt.Errorf("postgis bulk load: %w", derr)
	}
	return errors.Join(derr, ferr, rerr)
}

// dropForBulk drops, in one short transaction, the secondary indexes worth
// rebuilding for expected new rows; it returns the ones it dropped.
func (s *Store) dropForBulk(ctx context.Context, conn *pgxpool.Conn, expected int) ([]string, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, translate(ctx, err)
	}
	defer s.rollback(ctx, tx)
	// A short lock timeout: the drop waits for every reader of events; a
	// long report holding it should not stall the import (nor queue every
	// new reader behind the drop). Without the drop the load still works,
	// only slower.
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '5s'`); err != nil {
		return nil, translate(ctx, err)
	}
	rows, err := tableRows(ctx, tx)
	if err != nil {
		return nil, translate(ctx, err)
	}
	present, err := presentIndexes(ctx, tx)
	if err != nil {
		return nil, translate(ctx, err)
	}
	var dropped []string
	for _, ix := range secondaryIndexes {
		if present[ix.name] && float64(expected) >= ix.bulkFactor*rows {
			if _, err := tx.Exec(ctx, ix.drop); err != nil {
				if isLockTimeout(err) {
					s.log.Warn("postgis bulk load: events is busy, loading with the indexes in place", "err", err)
					return nil, nil
				}
				return nil, translate(ctx, err)
			}
			dropped = append(dropped, ix.name)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		if isLockTimeout(err) {
			return nil, nil
		}
		return nil, translate(ctx, err)
	}
	s.log.Info("postgis bulk load: dropped secondary indexes", "expected", expected, "rows", int64(rows), "indexes", dropped)
	return dropped, nil
}

func isLockTimeout(err error) bool {
	var pe interface{ SQLState() string }
	return errors.As(err, &pe) && pe.SQLState() == "55P03"
}

// tableRows estimates the rows of events without scanning it: the
// planner's reltuples when the table was analysed (or vacuumed), otherwise
// the heap size over a typical row width.
func tableRows(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (float64, error) {
	var tuples float64
	var size int64
	err := q.QueryRow(ctx, `SELECT c.reltuples, pg_relation_size(c.oid) FROM pg_class c
WHERE c.oid = 'events'::regclass`).Scan(&tuples, &size)
	if err != nil {
		return 0, err
	}
	// reltuples is -1 before the first ANALYZE (PostgreSQL 14+), 0 on 13;
	// it lags behind until autovacuum runs, so take the larger estimate.
	return max(tuples, float64(size/estRowBytes)), nil
}

// presentIndexes returns the names of the indexes events has.
func presentIndexes(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) (map[string]bool, error) {
	rows, err := q.Query(ctx, `SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'events'::regclass AND i.indisvalid`)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	present := make(map[string]bool, len(names))
	for _, n := range names {
		present[n] = true
	}
	return present, nil
}

// finishBulk releases this BulkLoad's shared lock and, unless another
// BulkLoad (here or in another process) still holds it, rebuilds every
// missing secondary index under the exclusive lock. The last BulkLoad to
// release always gets there: if its try fails, the holder is rebuilding.
func (s *Store) finishBulk(ctx context.Context, conn *pgxpool.Conn, dropped bool) error {
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock_shared($1)`, bulkLockKey); err != nil {
		conn.Conn().Close(ctx) // closing the session releases the lock
		return fmt.Errorf("postgis bulk load: unlock: %w", translate(ctx, err))
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, bulkLockKey).Scan(&got); err != nil {
		return fmt.Errorf("postgis bulk load: lock: %w", translate(ctx, err))
	}
	if !got {
		if dropped {
			s.log.Info("postgis bulk load: another bulk load is running; it rebuilds the indexes")
		}
		return nil
	}
	defer func() {
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, bulkLockKey); err != nil {
			conn.Conn().Close(ctx)
		}
	}()
	built, err := s.rebuildMissing(ctx)
	if len(built) > 0 && !dropped {
		// Another BulkLoad dropped them and finished first, or a crash.
		s.log.Warn("postgis: rebuilt missing indexes", "indexes", built)
	}
	if err != nil {
		return fmt.Errorf("postgis bulk load: rebuild indexes: %w", err)
	}
	return nil
}

// repairIndexes recreates secondary indexes a crashed BulkLoad left
// missing. It skips (and says so) while a BulkLoad runs elsewhere: that
// one rebuilds them when it ends.
func (s *Store) repairIndexes(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return translate(ctx, err)
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, bulkLockKey).Scan(&got); err != nil {
		return translate(ctx, err)
	}
	if !got {
		s.log.Info("postgis: a bulk load is running; not checking the event indexes")
		return nil
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, bulkLockKey); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	present, err := presentIndexes(ctx, conn)
	if err != nil {
		return translate(ctx, err)
	}
	var missing []string
	for _, ix := range secondaryIndexes {
		if !present[ix.name] {
			missing = append(missing, ix.name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	s.log.Warn("postgis: event indexes missing (an interrupted bulk load?); rebuilding", "indexes", missing)
	_, err = s.rebuildMissing(ctx)
	return err
}

// rebuildMissing creates every missing secondary index, rebuildConns at a
// time on separate connections, and returns the ones it built. The caller
// holds the exclusive advisory lock.
func (s *Store) rebuildMissing(ctx context.Context) ([]string, error) {
	present, err := presentIndexes(ctx, s.pool)
	if err != nil {
		return nil, translate(ctx, err)
	}
	var todo []int
	for i, ix := range secondaryIndexes {
		if !present[ix.name] {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return nil, nil
	}
	start := time.Now()
	next := make(chan int, len(todo))
	for _, i := range todo {
		next <- i
	}
	close(next)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		errs  []error
		built []string
	)
	for range min(rebuildConns, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ix := &secondaryIndexes[i]
				t := time.Now()
				err := s.createIndex(ctx, ix)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", ix.name, translate(ctx, err)))
				} else {
					built = append(built, ix.name)
				}
				mu.Unlock()
				s.log.Debug("postgis index built", "index", ix.name, "took", time.Since(t), "err", err)
			}
		}()
	}
	wg.Wait()
	s.log.Info("postgis: rebuilt event indexes", "indexes", built, "took", time.Since(start))
	return built, errors.Join(errs...)
}

// createIndex builds ix in a transaction of its own with the rebuild settings.
func (s *Store) createIndex(ctx context.Context, ix *secondaryIndex) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer s.rollback(ctx, tx)
	if _, err := tx.Exec(ctx, `SELECT set_config('maintenance_work_mem', $1, true), set_config('max_parallel_maintenance_workers', $2, true)`,
		rebuildMaintenanceWorkMem, rebuildParallelWorkers); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, ix.def); err != nil {
		return err
	}
	if ix.constraint != "" {
		if _, err := tx.Exec(ctx, ix.constraint); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}
