package postgis

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/internal/check"
	"github.com/crimemap/crimemap/store/internal/scan"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// eventColumns are the event columns the store reads, in scan order.
var eventColumns = [...]string{"kind", "source_id", "occurred_at", "lon", "lat", "h3", "category",
	"region_code", "district_code", "mahalla_code", "article", "severity", "flags", "killed",
	"injured", "vehicle", "fine"}

const eventCols = "kind, source_id, occurred_at, lon, lat, h3, category, region_code, district_code, mahalla_code, article, severity, flags, killed, injured, vehicle, fine"

// writeColumns are the columns the store writes, in staging/COPY order:
// eventColumns, then the cells at cellMinRes..cellMaxRes (cellColumns),
// computed from lon/lat in Go.
var writeColumns = [...]string{"kind", "source_id", "occurred_at", "lon", "lat", "h3", "category",
	"region_code", "district_code", "mahalla_code", "article", "severity", "flags", "killed",
	"injured", "vehicle", "fine", "h3_r5", "h3_r6", "h3_r7", "h3_r8", "h3_r9", "h3_r10"}

const writeCols = eventCols + ", h3_r5, h3_r6, h3_r7, h3_r8, h3_r9, h3_r10"

// The staging table lives for one transaction; it is not WAL-logged.
const createStage = `CREATE TEMP TABLE events_stage (
  kind smallint, source_id text COLLATE "C", occurred_at timestamptz, lon double precision,
  lat double precision, h3 bigint, category text, region_code text COLLATE "C",
  district_code text COLLATE "C", mahalla_code text COLLATE "C", article text, severity smallint,
  flags smallint, killed integer, injured integer, vehicle text, fine double precision,
  h3_r5 bigint, h3_r6 bigint, h3_r7 bigint, h3_r8 bigint, h3_r9 bigint, h3_r10 bigint
) ON COMMIT DROP`

// eventDiffers is true when the stored row e differs from the staged s.
// The cells follow from lon/lat, but a stored row may still lack them
// (written by hand, or before migration 00006 and not yet backfilled).
const eventDiffers = `(e.occurred_at, e.lon, e.lat, e.h3, e.category, e.region_code, e.district_code,
   e.mahalla_code, e.article, e.severity, e.flags, e.killed, e.injured, e.vehicle, e.fine,
   e.h3_r5, e.h3_r6, e.h3_r7, e.h3_r8, e.h3_r9, e.h3_r10)
  IS DISTINCT FROM
  (s.occurred_at, s.lon, s.lat, s.h3, s.category, s.region_code, s.district_code,
   s.mahalla_code, s.article, s.severity, s.flags, s.killed, s.injured, s.vehicle, s.fine,
   s.h3_r5, s.h3_r6, s.h3_r7, s.h3_r8, s.h3_r9, s.h3_r10)`

// mergeClassify counts the staged events that are new and those that
// differ from the stored row, so a re-put of unchanged data runs one read
// and writes nothing.
const mergeClassify = `SELECT count(*) FILTER (WHERE e.kind IS NULL),
  count(*) FILTER (WHERE e.kind IS NOT NULL AND ` + eventDiffers + `)
FROM events_stage s LEFT JOIN events e ON e.kind = s.kind AND e.source_id = s.source_id`

// mergeInsert adds the staged events that are new. A conflicting row is
// left alone (not even locked): mergeUpdate decides about it.
const mergeInsert = `INSERT INTO events (` + writeCols + `)
SELECT ` + writeCols + ` FROM events_stage
ON CONFLICT (kind, source_id) DO NOTHING`

// mergeUpdate rewrites the stored events whose data differ from the staged
// ones. It runs as its own statement after mergeInsert, so under READ
// COMMITTED it also sees a row another transaction committed meanwhile;
// rows mergeInsert just wrote equal their staged copy and are not touched.
const mergeUpdate = `UPDATE events e SET
  occurred_at = s.occurred_at, lon = s.lon, lat = s.lat, h3 = s.h3, category = s.category,
  region_code = s.region_code, district_code = s.district_code, mahalla_code = s.mahalla_code,
  article = s.article, severity = s.severity, flags = s.flags, killed = s.killed,
  injured = s.injured, vehicle = s.vehicle, fine = s.fine,
  h3_r5 = s.h3_r5, h3_r6 = s.h3_r6, h3_r7 = s.h3_r7, h3_r8 = s.h3_r8, h3_r9 = s.h3_r9, h3_r10 = s.h3_r10
FROM events_stage s
WHERE e.kind = s.kind AND e.source_id = s.source_id AND ` + eventDiffers

// Batches smaller than bulkMin never drop indexes; dropping one takes an
// ACCESS EXCLUSIVE lock on events until commit, so readers (QGIS) wait for
// such a batch: bulk loads, not live feeds.
const bulkMin = 20_000

// estRowBytes converts the heap size of events into an estimated row count
// for the rebuild decision (a stored synthetic event takes ~190 bytes with
// tuple header and line pointer). Dead tuples count too; it only needs to
// be roughly right, and it costs no scan.
const estRowBytes = 190

// PutEvents upserts events by (kind, source_id) in one transaction. Events
// are validated first (see package store/internal/check); an invalid one
// fails the whole batch with store.ErrInvalid and nothing is written.
//
// Fast path: the batch (deduplicated in Go) is COPYed straight into events
// under a savepoint; if every event is new that is all, and they are all
// Inserted. If the unique (kind, source_id) index rejects one (an event
// exists already, or a concurrent transaction inserted it), the savepoint
// is rolled back and the batch goes the merge path: COPY into a temporary
// staging table, INSERT ... ON CONFLICT DO NOTHING for the new events, then
// UPDATE for the stored events whose data differ. Unchanged events are not
// written (not even locked).
//
// Every located event is written with its H3 cells at resolutions 5..10
// (h3_r5..h3_r10: analytics.Event.Cells, which ingest computes with the
// res-15 cell from one projection, and check.Normalize for an event that
// comes without them).
func (s *Store) PutEvents(ctx context.Context, events []analytics.Event) (store.Result, error) {
	var res store.Result
	events, dups, err := check.Events(events)
	if err != nil {
		return res, err
	}
	if len(events) == 0 {
		res.Unchanged = dups
		return res, ctx.Err()
	}
	start := time.Now()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("postgis put events: %w", translate(ctx, err))
	}
	defer s.rollback(ctx, tx)

	var rebuild []int // secondaryIndexes to rebuild after the write
	// Inside a BulkLoad the indexes are BulkLoad's to drop and rebuild.
	if len(events) >= bulkMin && s.bulk.active.Load() == 0 {
		var size int64
		if err := tx.QueryRow(ctx, `SELECT pg_relation_size('events')`).Scan(&size); err != nil {
			return res, fmt.Errorf("postgis put events: %w", translate(ctx, err))
		}
		rows := float64(size / estRowBytes)
		for i, ix := range secondaryIndexes {
			if rows < ix.batchFactor*float64(len(events)) {
				if _, err := tx.Exec(ctx, ix.drop); err != nil {
					return res, fmt.Errorf("postgis put events: drop index: %w", translate(ctx, err))
				}
				rebuild = append(rebuild, i)
			}
		}
	}

	vals := make([]any, len(writeColumns))
	src := func() pgx.CopyFromSource {
		return pgx.CopyFromSlice(len(events), func(i int) ([]any, error) {
			return eventValues(vals, &events[i]), nil
		})
	}
	path := "copy"
	if _, err := tx.Exec(ctx, `SAVEPOINT put_events`); err != nil {
		return res, fmt.Errorf("postgis put events: %w", translate(ctx, err))
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"events"}, writeColumns[:], src())
	var pe *pgconn.PgError
	switch {
	case err == nil:
		res.Inserted = len(events)
	case errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "events_kind_source_id":
		path = "merge"
		if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT put_events`); err != nil {
			return res, fmt.Errorf("postgis put events: %w", translate(ctx, err))
		}
		if res, err = s.mergeEvents(ctx, tx, src()); err != nil {
			return store.Result{}, err
		}
	default:
		return res, fmt.Errorf("postgis put events: copy: %w", translate(ctx, err))
	}
	written := time.Now()
	if len(rebuild) > 0 {
		if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
			return store.Result{}, fmt.Errorf("postgis put events: %w", translate(ctx, err))
		}
		for _, i := range rebuild {
			ix := &secondaryIndexes[i]
			if _, err := tx.Exec(ctx, ix.def); err != nil {
				return store.Result{}, fmt.Errorf("postgis put events: rebuild %s: %w", ix.name, translate(ctx, err))
			}
			if ix.constraint != "" {
				if _, err := tx.Exec(ctx, ix.constraint); err != nil {
					return store.Result{}, fmt.Errorf("postgis put events: rebuild %s: %w", ix.name, translate(ctx, err))
				}
			}
		}
	}
	if res.Inserted+res.Updated > 0 {
		if err := bumpVersion(ctx, tx); err != nil {
			return store.Result{}, fmt.Errorf("postgis put events: %w", translate(ctx, err))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return store.Result{}, fmt.Errorf("postgis put events: commit: %w", translate(ctx, err))
	}
	s.log.Debug("postgis put events", "events", len(events), "path", path, "inserted", res.Inserted,
		"updated", res.Updated, "rebuilt_indexes", len(rebuild), "write", written.Sub(start),
		"rebuild", time.Since(written))
	res.Unchanged = len(events) - res.Inserted - res.Updated + dups
	return res, nil
}

// mergeEvents stages src and merges it into events (see PutEvents),
// returning the Inserted and Updated counts.
func (s *Store) mergeEvents(ctx context.Context, tx pgx.Tx, src pgx.CopyFromSource) (store.Result, error) {
	var res store.Result
	if _, err := tx.Exec(ctx, createStage); err != nil {
		return res, fmt.Errorf("postgis put events: staging: %w", translate(ctx, err))
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events_stage"}, writeColumns[:], src); err != nil {
		return res, fmt.Errorf("postgis put events: copy: %w", translate(ctx, err))
	}
	// Statistics let the planner choose between index lookups (a small
	// batch against a large table) and a hash join.
	if _, err := tx.Exec(ctx, `ANALYZE events_stage`); err != nil {
		return res, fmt.Errorf("postgis put events: %w", translate(ctx, err))
	}
	// Enough memory to hash a batch in one pass when the planner prefers a
	// hash join to index lookups.
	if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
		return res, fmt.Errorf("postgis put events: %w", translate(ctx, err))
	}
	var fresh, changed int
	if err := tx.QueryRow(ctx, mergeClassify).Scan(&fresh, &changed); err != nil {
		return res, fmt.Errorf("postgis put events: merge: %w", translate(ctx, err))
	}
	// fresh and changed come from one snapshot; the writes below recheck
	// against rows committed since, and their counts are the ones reported.
	if fresh > 0 {
		tag, err := tx.Exec(ctx, mergeInsert)
		if err != nil {
			return res, fmt.Errorf("postgis put events: merge: %w", translate(ctx, err))
		}
		res.Inserted = int(tag.RowsAffected())
	}
	if changed > 0 || res.Inserted < fresh {
		tag, err := tx.Exec(ctx, mergeUpdate)
		if err != nil {
			return res, fmt.Errorf("postgis put events: merge: %w", translate(ctx, err))
		}
		res.Updated = int(tag.RowsAffected())
	}
	return res, nil
}

// eventValues fills vals with e's columns in writeColumns order; e is
// normalised (check.Normalize: a located event has its Cells, NULL
// without a location).
func eventValues(vals []any, e *analytics.Event) []any {
	var lon, lat, cell any
	if e.HasLocation {
		lon, lat = e.Lon, e.Lat
	}
	if e.Cell != 0 {
		cell = int64(e.Cell)
	}
	vals[0], vals[1], vals[2], vals[3], vals[4], vals[5] = int16(e.Kind), e.SourceID, e.OccurredAt, lon, lat, cell
	vals[6], vals[7], vals[8], vals[9] = nullString(e.Category), nullString(e.Region), nullString(e.District), nullString(e.Mahalla)
	vals[10], vals[11], vals[12] = nullString(e.Article), int16(e.Severity), int16(e.Flags)
	vals[13], vals[14], vals[15], vals[16] = e.Killed, e.Injured, nullString(e.Vehicle), e.Fine
	cells, _ := e.Cells() // all zero without location
	for j, c := range cells {
		if c != 0 {
			vals[len(eventColumns)+j] = int64(c)
		} else {
			vals[len(eventColumns)+j] = nil
		}
	}
	return vals
}

// eventScanner scans the rows of Events (writeCols, recorded_at) into a
// reused Event; recordedAt returns the row's recorded_at.
type eventScanner struct {
	kind, severity, flags                                 int16
	lon, lat                                              *float64
	cell                                                  *int64
	cells                                                 [nCells]*int64
	category, region, district, mahalla, article, vehicle *string
	recorded                                              pgtype.Timestamptz
	dest                                                  []any
}

func newEventScanner() *eventScanner {
	s := &eventScanner{}
	s.dest = make([]any, len(writeColumns)+1)
	s.dest[len(writeColumns)] = &s.recorded
	return s
}

// recordedAt is the scanned recorded_at: the zero time when NULL (stored
// before migration 00007).
func (s *eventScanner) recordedAt() time.Time {
	if !s.recorded.Valid {
		return time.Time{}
	}
	return s.recorded.Time.UTC()
}

func (s *eventScanner) scan(rows pgx.Rows, e *analytics.Event) error {
	d := s.dest
	d[0], d[1], d[2], d[3], d[4], d[5] = &s.kind, &e.SourceID, &e.OccurredAt, &s.lon, &s.lat, &s.cell
	d[6], d[7], d[8], d[9], d[10] = &s.category, &s.region, &s.district, &s.mahalla, &s.article
	d[11], d[12], d[13], d[14], d[15], d[16] = &s.severity, &s.flags, &e.Killed, &e.Injured, &s.vehicle, &e.Fine
	for j := range s.cells {
		d[len(eventColumns)+j] = &s.cells[j]
	}
	if err := rows.Scan(d...); err != nil {
		return err
	}
	var cells analytics.HexCells
	for j, c := range s.cells {
		cells[j] = uint64(deref(c))
	}
	e.Kind = analytics.Kind(s.kind)
	e.OccurredAt = e.OccurredAt.UTC()
	e.HasLocation = s.lon != nil && s.lat != nil
	e.Lon, e.Lat = deref(s.lon), deref(s.lat)
	e.Cell = uint64(deref(s.cell))
	e.Category, e.Region, e.District, e.Mahalla = deref(s.category), deref(s.region), deref(s.district), deref(s.mahalla)
	e.Article, e.Vehicle = deref(s.article), deref(s.vehicle)
	e.Severity, e.Flags = analytics.Severity(s.severity), analytics.Flags(uint16(s.flags))
	e.SetCells(cells)
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Events returns one page of events matching q and the total count, read
// from one snapshot (REPEATABLE READ, read only).
func (s *Store) Events(ctx context.Context, q store.EventQuery) (store.EventPage, error) {
	var page store.EventPage
	limit, err := check.Query(q)
	if err != nil {
		return page, err
	}
	var w where
	if q.Kind != 0 {
		w.add("kind = $%d", int16(q.Kind))
	}
	if !q.From.IsZero() {
		w.add("occurred_at >= $%d", check.QueryTime(q.From))
	}
	if !q.To.IsZero() {
		w.add("occurred_at < $%d", check.QueryTime(q.To))
	}
	if q.BBox != nil {
		w.add("geom && ST_MakeEnvelope($%d, $%d, $%d, $%d, 4326)", q.BBox.Min[0], q.BBox.Min[1], q.BBox.Max[0], q.BBox.Max[1])
	}
	if q.Unit != "" {
		// The expression of the events_units GIN index.
		w.add("ARRAY[region_code, district_code, mahalla_code] @> ARRAY[$%d::text]", q.Unit)
	}
	if len(q.Categories) > 0 {
		w.add("category = ANY($%d::text[])", q.Categories)
	}
	if !q.RecordedAfter.IsZero() {
		w.add("recorded_at > $%d", q.RecordedAfter)
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return page, fmt.Errorf("postgis events: %w", translate(ctx, err))
	}
	defer s.rollback(ctx, tx)
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM events`+w.String(), w.args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("postgis events: count: %w", translate(ctx, err))
	}
	if page.Total <= q.Offset {
		return page, nil
	}
	n := len(w.args)
	rows, err := tx.Query(ctx, `SELECT `+writeCols+`, recorded_at FROM events`+w.String()+
		fmt.Sprintf(` ORDER BY occurred_at, kind, source_id LIMIT $%d OFFSET $%d`, n+1, n+2),
		append(w.args, limit, q.Offset)...)
	if err != nil {
		return page, fmt.Errorf("postgis events: %w", translate(ctx, err))
	}
	defer rows.Close()
	sc := newEventScanner()
	size := min(limit, page.Total-q.Offset)
	page.Events = make([]analytics.Event, 0, size)
	page.RecordedAt = make([]time.Time, 0, size)
	for rows.Next() {
		page.Events = append(page.Events, analytics.Event{})
		if err := sc.scan(rows, &page.Events[len(page.Events)-1]); err != nil {
			return store.EventPage{}, fmt.Errorf("postgis events: %w", translate(ctx, err))
		}
		page.RecordedAt = append(page.RecordedAt, sc.recordedAt())
	}
	if err := rows.Err(); err != nil {
		return store.EventPage{}, fmt.Errorf("postgis events: %w", translate(ctx, err))
	}
	return page, nil
}

// ScanEvents streams every stored event to fn (in no particular order);
// the *Event is reused between calls. It stops at fn's first error and
// returns it. All events come from one snapshot.
//
// It is the source of in-memory snapshots, so it is built for throughput:
// every result column in binary format, decoded by hand from pgx's raw row
// values (no per-column Scan), strings of the low-cardinality columns
// interned per scan (equal categories, unit codes, articles and vehicles
// share memory) and source ids carved from shared blocks, so a full scan
// makes a few hundred allocations, not millions. The server's tuple
// output (~0.8 us per row on one core) is the bottleneck, so a table of
// more than scanSplitPages is read in scanParts block ranges (TID range
// scans), each on its own connection, all in one exported snapshot
// (REPEATABLE READ, as pg_dump -j does), decoded concurrently and handed
// to fn in batches on the calling goroutine.
func (s *Store) ScanEvents(ctx context.Context, fn func(*analytics.Event) error) error {
	var pages int64
	if err := s.pool.QueryRow(ctx, `SELECT pg_relation_size('events') / current_setting('block_size')::bigint`).Scan(&pages); err != nil {
		return fmt.Errorf("postgis scan events: %w", translate(ctx, err))
	}
	if pages < scanSplitPages {
		return s.scanSerial(ctx, fn)
	}
	return s.scanParallel(ctx, pages, fn)
}

// Parallel scan settings: tables of at least scanSplitPages 8 KiB pages
// (~40,000 events) are read in scanParts parts (batches of
// scan.BatchSize events).
const (
	scanSplitPages = 1024
	scanParts      = 2
	scanRanges     = 16
)

// scanQuery reads every column the store writes: the events with their
// cells, which snapshot builds take instead of projecting every point again.
const scanQuery = `SELECT ` + writeCols + ` FROM events`

// scanSerial reads all events in one query.
func (s *Store) scanSerial(ctx context.Context, fn func(*analytics.Event) error) error {
	rows, err := s.pool.Query(ctx, scanQuery, pgx.QueryResultFormats{pgx.BinaryFormatCode})
	if err != nil {
		return fmt.Errorf("postgis scan events: %w", translate(ctx, err))
	}
	defer rows.Close()
	if err := checkScanTypes(rows.FieldDescriptions()); err != nil {
		return fmt.Errorf("postgis scan events: %w", err)
	}
	var (
		e   analytics.Event
		str scan.Strings
	)
	for rows.Next() {
		if err := decodeEvent(rows.RawValues(), &e, &str); err != nil {
			return fmt.Errorf("postgis scan events: %w", err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgis scan events: %w", translate(ctx, err))
	}
	return nil
}

// scanParallel reads events in scanParts block ranges concurrently from
// one snapshot, calling fn on this goroutine.
func (s *Store) scanParallel(ctx context.Context, pages int64, fn func(*analytics.Event) error) error {
	// One REPEATABLE READ transaction per part; the first exports its
	// snapshot and the others adopt it before their first query.
	txs := make([]pgx.Tx, 0, scanParts)
	defer func() {
		for _, tx := range txs {
			s.rollback(ctx, tx)
		}
	}()
	var snapshot string
	for i := range scanParts {
		tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return fmt.Errorf("postgis scan events: %w", translate(ctx, err))
		}
		txs = append(txs, tx)
		if i == 0 {
			err = tx.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&snapshot)
		} else {
			_, err = tx.Exec(ctx, `SET TRANSACTION SNAPSHOT '`+strings.ReplaceAll(snapshot, "'", "''")+`'`)
		}
		if err != nil {
			return fmt.Errorf("postgis scan events: snapshot: %w", translate(ctx, err))
		}
	}
	// The table is cut into scanRanges block ranges (the last open-ended)
	// that the parts take in turn, so they stay balanced when live rows
	// are unevenly spread (dead space after updates or rolled back loads).
	var next atomic.Int64
	bound := func(r int64) pgtype.TID {
		if r >= scanRanges {
			return pgtype.TID{BlockNumber: math.MaxUint32, Valid: true}
		}
		return pgtype.TID{BlockNumber: uint32(pages * r / scanRanges), Valid: true}
	}
	return scan.Parallel(ctx, len(txs), func(ctx context.Context, part int, p *scan.Parts) error {
		var str scan.Strings
		buf := p.Batch()
		for r := next.Add(1) - 1; r < scanRanges; r = next.Add(1) - 1 {
			if err := scanRange(ctx, txs[part], bound(r), bound(r+1), &str, &buf, p); err != nil {
				return fmt.Errorf("postgis scan events: %w", err)
			}
		}
		p.Send(buf)
		return nil
	}, fn)
}

// scanRangeQuery reads the blocks [$1, $2) with a TID range scan
// (PostgreSQL 14+; older servers filter a sequential scan, still correct).
const scanRangeQuery = scanQuery + ` WHERE ctid >= $1 AND ctid < $2`

// scanRange runs scanRangeQuery for [lo, hi) in tx and decodes its rows
// into *buf, sending full batches through p.
func scanRange(ctx context.Context, tx pgx.Tx, lo, hi pgtype.TID, str *scan.Strings, buf *[]analytics.Event, p *scan.Parts) error {
	rows, err := tx.Query(ctx, scanRangeQuery, pgx.QueryResultFormats{pgx.BinaryFormatCode}, lo, hi)
	if err != nil {
		return translate(ctx, err)
	}
	defer rows.Close()
	if err := checkScanTypes(rows.FieldDescriptions()); err != nil {
		return err
	}
	b := *buf
	for rows.Next() {
		b = b[:len(b)+1]
		if err := decodeEvent(rows.RawValues(), &b[len(b)-1], str); err != nil {
			return err
		}
		if len(b) == cap(b) {
			if !p.Send(b) {
				return ctx.Err()
			}
			b = p.Batch()
		}
	}
	*buf = b
	if err := rows.Err(); err != nil {
		return translate(ctx, err)
	}
	return nil
}

// PostgreSQL type OIDs of the event columns.
const (
	oidInt2        = 21
	oidInt4        = 23
	oidInt8        = 20
	oidText        = 25
	oidFloat8      = 701
	oidTimestamptz = 1184
)

// scanTypes are the types of writeCols, as decodeEvent reads them.
var scanTypes = [...]uint32{oidInt2, oidText, oidTimestamptz, oidFloat8, oidFloat8, oidInt8, oidText,
	oidText, oidText, oidText, oidText, oidInt2, oidInt2, oidInt4, oidInt4, oidText, oidFloat8,
	oidInt8, oidInt8, oidInt8, oidInt8, oidInt8, oidInt8}

// checkScanTypes makes sure the result has the columns decodeEvent expects
// in binary format (a schema change must not be misread silently).
func checkScanTypes(fds []pgconn.FieldDescription) error {
	if len(fds) != len(scanTypes) {
		return fmt.Errorf("%d result columns, want %d", len(fds), len(scanTypes))
	}
	for i, fd := range fds {
		if fd.DataTypeOID != scanTypes[i] || fd.Format != pgx.BinaryFormatCode {
			return fmt.Errorf("column %s: type %d format %d, want type %d binary", fd.Name, fd.DataTypeOID, fd.Format, scanTypes[i])
		}
	}
	return nil
}

// pgEpochMicros is 2000-01-01 UTC (PostgreSQL's timestamp epoch) in Unix
// microseconds.
const pgEpochMicros = 946_684_800_000_000

var errScanValue = errors.New("malformed binary value")

// decodeEvent sets e from one row of writeCols in binary format.
func decodeEvent(v [][]byte, e *analytics.Event, str *scan.Strings) error {
	if len(v) != len(scanTypes) || len(v[0]) != 2 || len(v[2]) != 8 || len(v[11]) != 2 || len(v[12]) != 2 ||
		len(v[13]) != 4 || len(v[14]) != 4 || len(v[16]) != 8 {
		return errScanValue
	}
	e.Kind = analytics.Kind(int16(binary.BigEndian.Uint16(v[0])))
	e.SourceID = str.Unique(v[1])
	us := int64(binary.BigEndian.Uint64(v[2]))
	if us == math.MaxInt64 || us == math.MinInt64 { // infinity
		return fmt.Errorf("event %q: infinite occurred_at", e.SourceID)
	}
	e.OccurredAt = time.UnixMicro(us + pgEpochMicros).UTC()
	lon, lat := v[3], v[4]
	e.HasLocation = lon != nil && lat != nil
	e.Lon, e.Lat = 0, 0
	if e.HasLocation {
		if len(lon) != 8 || len(lat) != 8 {
			return errScanValue
		}
		e.Lon = math.Float64frombits(binary.BigEndian.Uint64(lon))
		e.Lat = math.Float64frombits(binary.BigEndian.Uint64(lat))
	}
	switch c := v[5]; len(c) {
	case 0:
		e.Cell = 0
	case 8:
		e.Cell = binary.BigEndian.Uint64(c)
	default:
		return errScanValue
	}
	e.Category = str.Intern(v[6])
	e.Region, e.District, e.Mahalla = str.Intern(v[7]), str.Intern(v[8]), str.Intern(v[9])
	e.Article = str.Intern(v[10])
	e.Severity = analytics.Severity(int16(binary.BigEndian.Uint16(v[11])))
	e.Flags = analytics.Flags(binary.BigEndian.Uint16(v[12]))
	e.Killed = int32(binary.BigEndian.Uint32(v[13]))
	e.Injured = int32(binary.BigEndian.Uint32(v[14]))
	e.Vehicle = str.Intern(v[15])
	e.Fine = math.Float64frombits(binary.BigEndian.Uint64(v[16]))
	var cells analytics.HexCells
	for j, c := range v[len(eventColumns):] {
		switch len(c) {
		case 0:
		case 8:
			cells[j] = binary.BigEndian.Uint64(c)
		default:
			return errScanValue
		}
	}
	e.SetCells(cells)
	return nil
}

// Counts reports how many units (by level) and events (by kind) are stored.
func (s *Store) Counts(ctx context.Context) (store.Counts, error) {
	c := check.EmptyCounts()
	rows, err := s.pool.Query(ctx, `SELECT 'u', level, count(*) FROM units GROUP BY level
UNION ALL SELECT 'e', kind::text, count(*) FROM events GROUP BY kind`)
	if err != nil {
		return c, fmt.Errorf("postgis counts: %w", translate(ctx, err))
	}
	defer rows.Close()
	for rows.Next() {
		var what, key string
		var n int
		if err := rows.Scan(&what, &key, &n); err != nil {
			return c, fmt.Errorf("postgis counts: %w", translate(ctx, err))
		}
		if what == "u" {
			c.Units[geo.Level(key)] = n
		} else {
			var k int
			fmt.Sscan(key, &k)
			c.Events[analytics.Kind(k)] = n
		}
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("postgis counts: %w", translate(ctx, err))
	}
	return c, nil
}
