// Package sqlite implements store.Store on an embedded SQLite database
// (modernc.org/sqlite, pure Go): the zero-setup default. The database is one
// file, dir/crimemap.db, in WAL mode with synchronous=NORMAL.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/migrations"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/internal/check"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/pressly/goose/v3"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// FileName is the database file Open creates in its directory.
const FileName = "crimemap.db"

// chunkRows is how many events one multi-row insert statement carries
// (20 parameters each, well under SQLite's 32766 limit).
const chunkRows = 256

// busyTimeoutMS is how long a connection waits for another's write lock.
const busyTimeoutMS = "10000"

// Store is the SQLite store. It is safe for concurrent use; writes are
// serialised by SQLite (BEGIN IMMEDIATE with a busy timeout).
type Store struct {
	db   *sql.DB
	log  *slog.Logger
	path string

	// Background builds of the lazy indexes (see ensureIndexes).
	bgCtx    context.Context
	bgStop   context.CancelFunc
	building atomic.Bool
	builds   sync.WaitGroup
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) dir/crimemap.db and applies the
// migrations. log may be nil.
func Open(ctx context.Context, dir string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	path := filepath.Join(dir, FileName)
	dsn := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path) +
		"?_txlock=immediate" +
		"&_pragma=busy_timeout(" + busyTimeoutMS + ")" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=cache_size(-262144)" + // 256 MiB page cache per connection
		"&_pragma=temp_store(MEMORY)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite store %s: %w", path, err)
	}
	db.SetMaxIdleConns(4)
	s := &Store{db: db, log: log, path: path}
	s.bgCtx, s.bgStop = context.WithCancel(context.Background())
	if err := s.migrate(ctx); err != nil {
		s.bgStop()
		db.Close()
		return nil, err
	}
	if _, err := s.backfillCells(ctx, backfillBatch); err != nil {
		s.bgStop()
		db.Close()
		return nil, fmt.Errorf("sqlite store %s: H3 cells: %w", path, err)
	}
	s.ensureIndexes(ctx)
	log.Debug("sqlite store open", "path", path)
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	p, err := goose.NewProvider(goose.DialectSQLite3, s.db, migrations.SQLite(), goose.WithSlog(s.log))
	if err != nil {
		return fmt.Errorf("sqlite store: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("sqlite store %s: migrate: %w", s.path, err)
	}
	for _, r := range res {
		s.log.Info("migration applied", "backend", "sqlite", "version", r.Source.Version, "took", r.Duration)
	}
	return nil
}

// Path returns the database file.
func (s *Store) Path() string { return s.path }

// Backend returns "sqlite".
func (s *Store) Backend() string { return "sqlite" }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return translate(ctx, s.db.PingContext(ctx))
}

// Close stops a background index build (it rolls back; the next Open or
// Events retries) and closes the database.
func (s *Store) Close() error {
	s.bgStop()
	s.builds.Wait()
	return s.db.Close()
}

// translate maps driver errors to the store's domain errors.
func translate(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch code := se.Code(); {
		case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case code&0xff == sqlite3.SQLITE_CONSTRAINT, code&0xff == sqlite3.SQLITE_MISMATCH,
			code&0xff == sqlite3.SQLITE_TOOBIG, code&0xff == sqlite3.SQLITE_RANGE:
			return fmt.Errorf("%w: %w", store.ErrInvalid, err)
		case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		}
	}
	return err
}

// bumpVersion increases meta.data_version in tx (writes are serialised by
// BEGIN IMMEDIATE, so versions strictly increase in commit order).
func bumpVersion(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE meta SET data_version = data_version + 1`)
	return err
}

// DataVersion implements store.Store: meta.data_version.
func (s *Store) DataVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.db.QueryRowContext(ctx, `SELECT data_version FROM meta`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite data version: %w", translate(ctx, err))
	}
	return v, nil
}

// rollback ends tx after a failure, logging a failed rollback.
func (s *Store) rollback(tx *sql.Tx) {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		s.log.Warn("sqlite rollback", "err", err)
	}
}

// ---- units ----

const unitCols = "code, parent_code, level, names, population, population_year, geom"

const upsertUnit = `INSERT INTO units (` + unitCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (code) DO UPDATE SET parent_code = excluded.parent_code, level = excluded.level,
  names = excluded.names, population = excluded.population,
  population_year = excluded.population_year, geom = excluded.geom
WHERE (parent_code, level, names, population, population_year, geom)
  IS NOT (excluded.parent_code, excluded.level, excluded.names, excluded.population,
          excluded.population_year, excluded.geom)
RETURNING rowid`

// PutUnits upserts units by code in one transaction.
func (s *Store) PutUnits(ctx context.Context, units []geo.Unit) (store.Result, error) {
	var res store.Result
	units, dups, err := check.Units(units)
	if err != nil {
		return res, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("sqlite put units: %w", translate(ctx, err))
	}
	defer s.rollback(tx)
	var maxID int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(rowid), 0) FROM units`).Scan(&maxID); err != nil {
		return res, fmt.Errorf("sqlite put units: %w", translate(ctx, err))
	}
	stmt, err := tx.PrepareContext(ctx, upsertUnit)
	if err != nil {
		return res, fmt.Errorf("sqlite put units: %w", translate(ctx, err))
	}
	defer stmt.Close()
	for i := range units {
		u := &units[i]
		names, err := json.Marshal(check.Names(u.Names))
		if err != nil {
			return store.Result{}, fmt.Errorf("unit %q names: %w: %w", u.Code, err, store.ErrInvalid)
		}
		if string(names) == "null" {
			names = []byte("{}")
		}
		var g []byte
		if len(u.Geometry) > 0 {
			if g, err = wkb.Marshal(u.Geometry); err != nil {
				return store.Result{}, fmt.Errorf("unit %q geometry: %w: %w", u.Code, err, store.ErrInvalid)
			}
		}
		var id int64
		err = stmt.QueryRowContext(ctx, u.Code, nullString(u.ParentCode), string(u.Level), string(names),
			nullInt(u.Population), nullInt(int64(u.PopulationYear)), g).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			res.Unchanged++
		case err != nil:
			return store.Result{}, fmt.Errorf("sqlite put unit %q: %w", u.Code, translate(ctx, err))
		case id > maxID:
			res.Inserted++
		default:
			res.Updated++
		}
	}
	if res.Inserted+res.Updated > 0 {
		if err := bumpVersion(ctx, tx); err != nil {
			return store.Result{}, fmt.Errorf("sqlite put units: %w", translate(ctx, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return store.Result{}, fmt.Errorf("sqlite put units: commit: %w", translate(ctx, err))
	}
	res.Unchanged += dups
	return res, nil
}

const unitOrder = ` ORDER BY CASE level WHEN 'region' THEN 1 WHEN 'district' THEN 2 ELSE 3 END, code`

// Units lists units, ordered by level then code.
func (s *Store) Units(ctx context.Context, q store.UnitQuery) ([]geo.Unit, error) {
	geomCol := "NULL"
	if q.WithGeometry {
		geomCol = "geom"
	}
	var where []string
	var args []any
	if q.Level != "" {
		where = append(where, "level = ?")
		args = append(args, string(q.Level))
	}
	if q.Parent != "" {
		where = append(where, "parent_code = ?")
		args = append(args, q.Parent)
	}
	query := `SELECT code, parent_code, level, names, population, population_year, ` + geomCol + ` FROM units`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, query+unitOrder, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite units: %w", translate(ctx, err))
	}
	defer rows.Close()
	var out []geo.Unit
	for rows.Next() {
		u, err := scanUnit(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite units: %w", translate(ctx, err))
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite units: %w", translate(ctx, err))
	}
	return out, nil
}

// Unit returns the unit of that code, or store.ErrNotFound.
func (s *Store) Unit(ctx context.Context, code string) (geo.Unit, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+unitCols+` FROM units WHERE code = ?`, code)
	u, err := scanUnit(row)
	if err != nil {
		return geo.Unit{}, fmt.Errorf("sqlite unit %q: %w", code, translate(ctx, err))
	}
	return u, nil
}

func scanUnit(r interface{ Scan(...any) error }) (geo.Unit, error) {
	var (
		u            geo.Unit
		parent       sql.NullString
		level, names string
		pop, year    sql.NullInt64
		g            []byte
	)
	if err := r.Scan(&u.Code, &parent, &level, &names, &pop, &year, &g); err != nil {
		return u, err
	}
	u.ParentCode, u.Level = parent.String, geo.Level(level)
	u.Population, u.PopulationYear = pop.Int64, int(year.Int64)
	if names != "{}" {
		if err := json.Unmarshal([]byte(names), &u.Names); err != nil {
			return u, fmt.Errorf("unit %q names: %w", u.Code, err)
		}
	}
	if len(g) > 0 {
		gg, err := wkb.Unmarshal(g)
		if err != nil {
			return u, fmt.Errorf("unit %q geometry: %w", u.Code, err)
		}
		mp, ok := gg.(orb.MultiPolygon)
		if !ok {
			return u, fmt.Errorf("unit %q geometry is %s, want MultiPolygon", u.Code, gg.GeoJSONType())
		}
		u.Geometry = mp
	}
	return u, nil
}

// ---- events ----

// eventCols are the event columns in read and write order; the last two
// are the event's cells at the hexbin resolutions in compact form (see
// migration 00006).
const eventCols = "kind, source_id, occurred_at, lon, lat, h3, category, region_code, district_code, mahalla_code, article, severity, flags, killed, injured, vehicle, fine, h3_r10, h3_exc"

const nEventCols = 19

// insertEvents returns the insert of n events. OR FAIL: a constraint
// violation ends the statement without a statement journal (PutEvents rolls
// the whole transaction back on any error anyway). With skipExisting, rows
// whose (kind, source_id) is already stored are skipped (DO NOTHING, no
// write) and RowsAffected counts the inserted ones.
func insertEvents(n int, skipExisting bool) string {
	var b strings.Builder
	b.Grow(60 + len(eventCols) + n*36)
	b.WriteString("INSERT OR FAIL INTO events (" + eventCols + ", recorded_at) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	if skipExisting {
		b.WriteString(" ON CONFLICT (kind, source_id) DO NOTHING")
	}
	return b.String()
}

// lookupEvents returns the select of the id and stored columns of the
// events of one kind (the last parameter) among n source ids (the first n):
// a loop over the ids seeking each in the unique index, no temporary b-tree.
func lookupEvents(n int) string {
	var b strings.Builder
	b.WriteString("WITH v(sid) AS (VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?)")
	}
	b.WriteString(") SELECT id, " + eventCols + " FROM v CROSS JOIN events WHERE kind = ? AND source_id = v.sid")
	return b.String()
}

const updateEvent = `UPDATE OR FAIL events SET occurred_at = ?, lon = ?, lat = ?, h3 = ?, category = ?,
  region_code = ?, district_code = ?, mahalla_code = ?, article = ?, severity = ?, flags = ?,
  killed = ?, injured = ?, vehicle = ?, fine = ?, h3_r10 = ?, h3_exc = ?
WHERE kind = ? AND source_id = ?`

// appendEventArgs appends e's nEventCols column values in eventCols order;
// e is normalised (check.Normalize: a located event has its Cells).
func appendEventArgs(args []any, e *analytics.Event) ([]any, error) {
	var lon, lat, cell, r10, exc any
	if e.HasLocation {
		cells, ok := e.Cells()
		if !ok {
			return args, fmt.Errorf("%s event %q: located without H3 cells (not normalised)", e.Kind, e.SourceID)
		}
		lon, lat = e.Lon, e.Lat
		r10 = int64(cells.At(analytics.MaxHexbinRes))
		if b := cells.AppendExceptions(nil); len(b) > 0 {
			exc = b
		}
	}
	if e.Cell != 0 {
		cell = int64(e.Cell)
	}
	return append(args, int64(e.Kind), e.SourceID, e.OccurredAt.UnixMicro(), lon, lat, cell,
		nullString(e.Category), nullString(e.Region), nullString(e.District), nullString(e.Mahalla),
		nullString(e.Article), int64(e.Severity), int64(e.Flags), int64(e.Killed), int64(e.Injured),
		nullString(e.Vehicle), e.Fine, r10, exc), nil
}

// lookupRows is how many source ids one lookup statement carries.
const lookupRows = 500

// storedEvent is an event as its columns store it, comparable with ==.
type storedEvent struct {
	occurred                                              int64
	lonValid, latValid                                    bool
	lon, lat                                              float64
	cell                                                  int64
	category, region, district, mahalla, article, vehicle string
	severity, flags, killed, injured                      int64
	fine                                                  float64
}

func toStored(e *analytics.Event) storedEvent {
	s := storedEvent{
		occurred: e.OccurredAt.UnixMicro(), cell: int64(e.Cell),
		category: e.Category, region: e.Region, district: e.District, mahalla: e.Mahalla,
		article: e.Article, vehicle: e.Vehicle,
		severity: int64(e.Severity), flags: int64(e.Flags), killed: int64(e.Killed), injured: int64(e.Injured),
		fine: e.Fine,
	}
	if e.HasLocation {
		s.lonValid, s.latValid, s.lon, s.lat = true, true, e.Lon, e.Lat
	}
	return s
}

// lazyIndexes are the secondary event indexes (see migrations/sqlite) that a
// bulk PutEvents drops and that are rebuilt, sorted in one pass, in the
// background by the next Events call or Open that finds one missing.
// Queries are correct without them (full scans), only slower. Must match
// migrations/sqlite.
var lazyIndexes = [...]struct{ name, def string }{
	{"events_occurred_at", "CREATE INDEX IF NOT EXISTS events_occurred_at ON events (occurred_at)"},
}

// A batch of at least bulkMin events drops the lazy indexes when the table
// holds fewer than bulkFactor times as many rows (estimated by max(id); the
// store never deletes). Measured on modernc.org/sqlite: maintaining the
// occurred_at index row by row costs 3-4 us per inserted event, rebuilding
// it about 1.3 us per row of the table, once for a whole multi-batch import.
const (
	bulkMin    = 20_000
	bulkFactor = 4
)

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// lazyIndexCount returns how many lazy indexes exist.
func lazyIndexCount(ctx context.Context, q rowQuerier) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' AND name IN (`+lazyIndexNames+`)`).Scan(&n)
	return n, err
}

var lazyIndexNames = func() string {
	var b strings.Builder
	for i, ix := range lazyIndexes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("'" + ix.name + "'")
	}
	return b.String()
}()

// dropLazyIndexes drops the lazy indexes in tx and reports whether there
// were any.
func dropLazyIndexes(ctx context.Context, tx *sql.Tx) (bool, error) {
	n, err := lazyIndexCount(ctx, tx)
	if err != nil || n == 0 {
		return false, err
	}
	for _, ix := range lazyIndexes {
		if _, err := tx.ExecContext(ctx, `DROP INDEX IF EXISTS `+ix.name); err != nil {
			return false, err
		}
	}
	return true, nil
}

// ensureIndexes starts building the missing lazy indexes in the background
// unless all exist or a build is running. The build does not wait for the
// write lock: while another transaction writes (an import), it gives up and
// the next call tries again.
func (s *Store) ensureIndexes(ctx context.Context) {
	if n, err := lazyIndexCount(ctx, s.db); err != nil || n == len(lazyIndexes) {
		return
	}
	if !s.building.CompareAndSwap(false, true) {
		return
	}
	s.builds.Add(1)
	go func() {
		defer s.builds.Done()
		defer s.building.Store(false)
		start := time.Now()
		built, err := s.buildIndexes(s.bgCtx)
		switch {
		case err != nil && s.bgCtx.Err() == nil:
			s.log.Warn("sqlite index build", "err", err)
		case built:
			s.log.Info("sqlite indexes built", "took", time.Since(start))
		}
	}()
}

// buildIndexes creates the missing lazy indexes in one transaction, unless
// another connection holds the write lock.
func (s *Store) buildIndexes(ctx context.Context) (built bool, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 0`); err != nil {
		return false, err
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.Background(), `PRAGMA busy_timeout = `+busyTimeoutMS); rerr != nil {
			// Do not return a connection without its timeout to the pool.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		if errors.Is(translate(ctx, err), store.ErrConflict) {
			return false, nil // busy: a writer is at work; retry on a later call
		}
		return false, err
	}
	defer s.rollback(tx)
	if n, err := lazyIndexCount(ctx, tx); err != nil || n == len(lazyIndexes) {
		return false, err
	}
	for _, ix := range lazyIndexes {
		if _, err := tx.ExecContext(ctx, ix.def); err != nil {
			return false, fmt.Errorf("%s: %w", ix.name, err)
		}
	}
	return true, tx.Commit()
}

// Event states while a batch is written.
const (
	stateNew       uint8 = iota // not stored: insert
	stateUnchanged              // stored with the same data
	stateChanged                // stored with other data: update
	stateInserted               // inserted by this batch
)

// PutEvents upserts events by (kind, source_id) in one transaction. Events
// are validated first (see package store/internal/check); an invalid one
// fails the whole batch with store.ErrInvalid and nothing is written.
//
// New events go in with multi-row INSERTs that skip stored keys (DO
// NOTHING, which writes nothing); from the first chunk that met a stored key
// on, the rest of the batch is looked up first and compared in Go, so only
// changed events are updated and a re-put of the same events reads but
// writes nothing. A batch of at least bulkMin events drops the lazily built
// indexes (see lazyIndexes) instead of updating them row by row.
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
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("sqlite put events: %w", translate(ctx, err))
	}
	defer s.rollback(tx)
	// Ids are max(id)+1 (INTEGER PRIMARY KEY, never near 2^63), so the rows
	// this batch inserts are exactly those above maxID.
	var maxID int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&maxID); err != nil {
		return res, fmt.Errorf("sqlite put events: %w", translate(ctx, err))
	}
	dropped := false
	if len(events) >= bulkMin && maxID < int64(bulkFactor*len(events)) {
		if dropped, err = dropLazyIndexes(ctx, tx); err != nil {
			return res, fmt.Errorf("sqlite put events: drop index: %w", translate(ctx, err))
		}
	}
	if res, err = putEvents(ctx, tx, events, maxID); err != nil {
		return store.Result{}, fmt.Errorf("sqlite put events: %w", translate(ctx, err))
	}
	if res.Inserted+res.Updated > 0 {
		if err := bumpVersion(ctx, tx); err != nil {
			return store.Result{}, fmt.Errorf("sqlite put events: %w", translate(ctx, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return store.Result{}, fmt.Errorf("sqlite put events: commit: %w", translate(ctx, err))
	}
	if dropped {
		s.log.Debug("sqlite bulk put dropped lazy indexes", "events", len(events))
	}
	res.Unchanged += dups
	return res, nil
}

// putEvents writes events (validated, without duplicate keys) in tx.
func putEvents(ctx context.Context, tx *sql.Tx, events []analytics.Event, maxID int64) (store.Result, error) {
	var res store.Result
	w := newEventWriter(ctx, tx)
	defer w.close()
	state := make([]uint8, len(events))
	start := 0
	if maxID > 0 {
		// Optimistic: insert chunks skipping stored keys while none is met.
		for start < len(events) {
			end := min(start+chunkRows, len(events))
			n, err := w.insert(events[start:end], true)
			if err != nil {
				return res, err
			}
			res.Inserted += n
			if n < end-start {
				break
			}
			start = end
		}
		if start == len(events) {
			return res, nil
		}
		// events[start:] from the chunk that met stored keys: look them up.
		// That chunk's rows are all stored now, its new ones above maxID.
		rest := events[start:]
		if err := lookup(ctx, tx, rest, state[start:], maxID); err != nil {
			return res, fmt.Errorf("lookup: %w", err)
		}
		for i := start; i < min(start+chunkRows, len(events)); i++ {
			if state[i] == stateNew {
				return res, fmt.Errorf("event %d %q not stored after insert", events[i].Kind, events[i].SourceID)
			}
		}
	}
	r, err := w.write(events[start:], state[start:])
	res.Add(r)
	return res, err
}

// lookup sets state[i] for the stored events among events: stateInserted
// for ids above maxID, stateUnchanged for those identical to events[i] and
// stateChanged for those that differ; absent ones stay stateNew.
func lookup(ctx context.Context, tx *sql.Tx, events []analytics.Event, state []uint8, maxID int64) error {
	var byKind [4][]int32 // indexes into events by kind
	for i := range events {
		k := events[i].Kind
		byKind[k] = append(byKind[k], int32(i))
	}
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	pos := make(map[string]int32, lookupRows)
	args := make([]any, 0, lookupRows+1)
	sc := newEventScanner(false)
	var id int64
	dest := append([]any{&id}, sc.dest...)
	var e analytics.Event
	for kind, idx := range byKind {
		for start := 0; start < len(idx); start += lookupRows {
			chunk := idx[start:min(start+lookupRows, len(idx))]
			clear(pos)
			args = args[:0]
			for _, i := range chunk {
				pos[events[i].SourceID] = i
				args = append(args, events[i].SourceID)
			}
			args = append(args, int64(kind))
			var stmt *sql.Stmt
			var err error
			switch {
			case len(chunk) == lookupRows && full != nil:
				stmt = full
			case len(chunk) == lookupRows:
				if full, err = tx.PrepareContext(ctx, lookupEvents(lookupRows)); err != nil {
					return err
				}
				stmt = full
			default:
				if stmt, err = tx.PrepareContext(ctx, lookupEvents(len(chunk))); err != nil {
					return err
				}
				defer stmt.Close()
			}
			rows, err := stmt.QueryContext(ctx, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				dest[1+16] = &e.Fine
				if err := rows.Scan(dest...); err != nil {
					rows.Close()
					return err
				}
				if err := sc.fill(&e); err != nil {
					rows.Close()
					return err
				}
				i, ok := pos[e.SourceID]
				if !ok {
					rows.Close()
					return fmt.Errorf("lookup returned unexpected source id %q", e.SourceID)
				}
				st := toStored(&e)
				st.lonValid, st.latValid = sc.lon.Valid, sc.lat.Valid
				switch {
				case id > maxID:
					state[i] = stateInserted
				case st == toStored(&events[i]):
					state[i] = stateUnchanged
				default:
					state[i] = stateChanged
				}
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
	}
	return nil
}

// eventWriter inserts and updates events in one transaction, preparing each
// statement shape once.
type eventWriter struct {
	ctx     context.Context
	tx      *sql.Tx
	full    [2]*sql.Stmt // chunkRows-row inserts, without and with skipExisting
	upd     *sql.Stmt
	args    []any
	pending []int32
	// recorded is the recorded_at of the events this writer inserts (Unix
	// microseconds): one instant per PutEvents.
	recorded int64
}

func newEventWriter(ctx context.Context, tx *sql.Tx) *eventWriter {
	return &eventWriter{ctx: ctx, tx: tx, args: make([]any, 0, chunkRows*(nEventCols+1)), recorded: time.Now().UnixMicro()}
}

func (w *eventWriter) close() {
	for _, st := range append(w.full[:], w.upd) {
		if st != nil {
			st.Close()
		}
	}
}

// insert inserts events (at most chunkRows) in one statement and returns
// how many rows it inserted.
func (w *eventWriter) insert(events []analytics.Event, skipExisting bool) (int, error) {
	w.args = w.args[:0]
	for i := range events {
		var err error
		if w.args, err = appendEventArgs(w.args, &events[i]); err != nil {
			return 0, err
		}
		w.args = append(w.args, w.recorded)
	}
	return w.exec(len(events), skipExisting)
}

func (w *eventWriter) exec(n int, skipExisting bool) (int, error) {
	k := 0
	if skipExisting {
		k = 1
	}
	stmt := w.full[k]
	var err error
	switch {
	case n == chunkRows && stmt != nil:
	case n == chunkRows:
		if stmt, err = w.tx.PrepareContext(w.ctx, insertEvents(n, skipExisting)); err != nil {
			return 0, err
		}
		w.full[k] = stmt
	default:
		if stmt, err = w.tx.PrepareContext(w.ctx, insertEvents(n, skipExisting)); err != nil {
			return 0, err
		}
		defer stmt.Close()
	}
	r, err := stmt.ExecContext(w.ctx, w.args...)
	if err != nil {
		return 0, err
	}
	if !skipExisting {
		return n, nil
	}
	got, err := r.RowsAffected()
	return int(got), err
}

// write inserts the events in state stateNew, updates those in
// stateChanged and counts the stateUnchanged ones (stateInserted ones are
// counted by the caller).
func (w *eventWriter) write(events []analytics.Event, state []uint8) (store.Result, error) {
	var res store.Result
	flush := func() error {
		if len(w.pending) == 0 {
			return nil
		}
		w.args = w.args[:0]
		for _, i := range w.pending {
			var err error
			if w.args, err = appendEventArgs(w.args, &events[i]); err != nil {
				return err
			}
			w.args = append(w.args, w.recorded)
		}
		n, err := w.exec(len(w.pending), false)
		res.Inserted += n
		w.pending = w.pending[:0]
		return err
	}
	for i := range events {
		switch state[i] {
		case stateNew:
			w.pending = append(w.pending, int32(i))
			if len(w.pending) == chunkRows {
				if err := flush(); err != nil {
					return res, err
				}
			}
		case stateUnchanged:
			res.Unchanged++
		case stateInserted: // counted by the insert that skipped stored keys
		case stateChanged:
			if err := w.update(&events[i]); err != nil {
				return res, err
			}
			res.Updated++
		default:
			return res, fmt.Errorf("event %q: unexpected state %d", events[i].SourceID, state[i])
		}
	}
	return res, flush()
}

func (w *eventWriter) update(e *analytics.Event) error {
	if w.upd == nil {
		var err error
		if w.upd, err = w.tx.PrepareContext(w.ctx, updateEvent); err != nil {
			return err
		}
	}
	// eventCols order is kind, source_id, then the rest; SET takes the
	// rest and WHERE the key.
	args, err := appendEventArgs(w.args[:0], e)
	if err != nil {
		return err
	}
	kind, sid := args[0], args[1]
	args = append(args[:copy(args, args[2:])], kind, sid)
	_, err = w.upd.ExecContext(w.ctx, args...)
	return err
}

// eventScanner scans event rows (eventCols, then recorded_at when made
// withRecorded) into a reused Event.
type eventScanner struct {
	occurred                                                   int64
	lon, lat                                                   sql.NullFloat64
	cell, r10, recorded                                        sql.NullInt64
	exc                                                        []byte
	category, region, district, mahalla, article, vehicle, sid sql.NullString
	kind, severity, flags, killed, injured                     int64
	dest                                                       []any
}

func newEventScanner(withRecorded bool) *eventScanner {
	s := &eventScanner{}
	s.dest = []any{&s.kind, &s.sid, &s.occurred, &s.lon, &s.lat, &s.cell, &s.category, &s.region,
		&s.district, &s.mahalla, &s.article, &s.severity, &s.flags, &s.killed, &s.injured, &s.vehicle, nil,
		&s.r10, &s.exc}
	if withRecorded {
		s.dest = append(s.dest, &s.recorded)
	}
	return s
}

// recordedAt is the scanned recorded_at (withRecorded): the zero time when
// NULL (stored before migration 00007).
func (s *eventScanner) recordedAt() time.Time {
	if !s.recorded.Valid {
		return time.Time{}
	}
	return time.UnixMicro(s.recorded.Int64).UTC()
}

func (s *eventScanner) scan(rows *sql.Rows, e *analytics.Event) error {
	s.dest[16] = &e.Fine
	if err := rows.Scan(s.dest...); err != nil {
		return err
	}
	return s.fill(e)
}

// fill sets e from the scanned columns but Fine (scanned into e directly).
func (s *eventScanner) fill(e *analytics.Event) error {
	var cells analytics.HexCells
	if err := cells.SetCompact(uint64(s.r10.Int64), s.exc); err != nil {
		return fmt.Errorf("event %q: %w", s.sid.String, err)
	}
	e.Kind = analytics.Kind(s.kind)
	e.SourceID = s.sid.String
	e.OccurredAt = time.UnixMicro(s.occurred).UTC()
	e.HasLocation = s.lon.Valid && s.lat.Valid
	e.Lon, e.Lat = s.lon.Float64, s.lat.Float64
	e.Cell = uint64(s.cell.Int64)
	e.Category, e.Region, e.District, e.Mahalla = s.category.String, s.region.String, s.district.String, s.mahalla.String
	e.Article, e.Vehicle = s.article.String, s.vehicle.String
	e.Severity, e.Flags = analytics.Severity(s.severity), analytics.Flags(s.flags)
	e.Killed, e.Injured = int32(s.killed), int32(s.injured)
	e.SetCells(cells)
	return nil
}

// Events returns one page of events matching q and the total count.
func (s *Store) Events(ctx context.Context, q store.EventQuery) (store.EventPage, error) {
	var page store.EventPage
	limit, err := check.Query(q)
	if err != nil {
		return page, err
	}
	s.ensureIndexes(ctx)
	var where []string
	var args []any
	if q.Kind != 0 {
		where = append(where, "kind = ?")
		args = append(args, int64(q.Kind))
	}
	if !q.From.IsZero() {
		where = append(where, "occurred_at >= ?")
		args = append(args, check.QueryTime(q.From).UnixMicro())
	}
	if !q.To.IsZero() {
		where = append(where, "occurred_at < ?")
		args = append(args, check.QueryTime(q.To).UnixMicro())
	}
	if q.BBox != nil {
		where = append(where, "lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?")
		args = append(args, q.BBox.Min[0], q.BBox.Max[0], q.BBox.Min[1], q.BBox.Max[1])
	}
	if q.Unit != "" {
		where = append(where, "(region_code = ? OR district_code = ? OR mahalla_code = ?)")
		args = append(args, q.Unit, q.Unit, q.Unit)
	}
	if len(q.Categories) > 0 {
		where = append(where, "category IN (?"+strings.Repeat(", ?", len(q.Categories)-1)+")")
		for _, c := range q.Categories {
			args = append(args, c)
		}
	}
	if !q.RecordedAfter.IsZero() {
		where = append(where, "recorded_at > ?")
		args = append(args, q.RecordedAfter.UnixMicro())
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events`+cond, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("sqlite events: count: %w", translate(ctx, err))
	}
	if page.Total <= q.Offset {
		return page, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+eventCols+`, recorded_at FROM events`+cond+
		` ORDER BY occurred_at, kind, source_id LIMIT ? OFFSET ?`, append(args, limit, q.Offset)...)
	if err != nil {
		return page, fmt.Errorf("sqlite events: %w", translate(ctx, err))
	}
	defer rows.Close()
	sc := newEventScanner(true)
	n := min(limit, page.Total-q.Offset)
	page.Events = make([]analytics.Event, 0, n)
	page.RecordedAt = make([]time.Time, 0, n)
	for rows.Next() {
		page.Events = append(page.Events, analytics.Event{})
		if err := sc.scan(rows, &page.Events[len(page.Events)-1]); err != nil {
			return store.EventPage{}, fmt.Errorf("sqlite events: %w", translate(ctx, err))
		}
		page.RecordedAt = append(page.RecordedAt, sc.recordedAt())
	}
	if err := rows.Err(); err != nil {
		return store.EventPage{}, fmt.Errorf("sqlite events: %w", translate(ctx, err))
	}
	return page, nil
}

// Counts reports how many units (by level) and events (by kind) are stored.
func (s *Store) Counts(ctx context.Context) (store.Counts, error) {
	c := check.EmptyCounts()
	rows, err := s.db.QueryContext(ctx, `SELECT level, count(*) FROM units GROUP BY level`)
	if err != nil {
		return c, fmt.Errorf("sqlite counts: %w", translate(ctx, err))
	}
	for rows.Next() {
		var l string
		var n int
		if err := rows.Scan(&l, &n); err != nil {
			rows.Close()
			return c, fmt.Errorf("sqlite counts: %w", translate(ctx, err))
		}
		c.Units[geo.Level(l)] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("sqlite counts: %w", translate(ctx, err))
	}
	rows, err = s.db.QueryContext(ctx, `SELECT kind, count(*) FROM events GROUP BY kind`)
	if err != nil {
		return c, fmt.Errorf("sqlite counts: %w", translate(ctx, err))
	}
	defer rows.Close()
	for rows.Next() {
		var k, n int
		if err := rows.Scan(&k, &n); err != nil {
			return c, fmt.Errorf("sqlite counts: %w", translate(ctx, err))
		}
		c.Events[analytics.Kind(k)] = n
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("sqlite counts: %w", translate(ctx, err))
	}
	return c, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// WaitIndexes waits for a background index build started so far (see
// ensureIndexes); benchmarks and tools call it to measure or work with
// every index in place.
func (s *Store) WaitIndexes() { s.builds.Wait() }
