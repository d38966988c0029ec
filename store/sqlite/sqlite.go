// Package sqlite implements store.Store on an embedded SQLite database
// (modernc.org/sqlite, pure Go): the zero-setup default. The database is one
// file, dir/crimemap.db, in WAL mode with synchronous=NORMAL.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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

// chunkRows is how many events one multi-row upsert statement carries
// (17 parameters each, well under SQLite's 32766 limit).
const chunkRows = 256

// Store is the SQLite store. It is safe for concurrent use; writes are
// serialised by SQLite (BEGIN IMMEDIATE with a busy timeout).
type Store struct {
	db   *sql.DB
	log  *slog.Logger
	path string
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
		"&_pragma=busy_timeout(10000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=cache_size(-65536)" + // 64 MiB page cache per connection
		"&_pragma=temp_store(MEMORY)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite store %s: %w", path, err)
	}
	db.SetMaxIdleConns(4)
	s := &Store{db: db, log: log, path: path}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
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

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

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

const eventCols = "kind, source_id, occurred_at, lon, lat, h3, category, region_code, district_code, mahalla_code, article, severity, flags, killed, injured, vehicle, fine"

const nEventCols = 17

// upsertEvents returns the upsert of n events. RETURNING id yields a row for
// every inserted or changed event (none for an unchanged one); new rows get
// ids above the table's maximum before the batch.
func upsertEvents(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO events (" + eventCols + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	b.WriteString(` ON CONFLICT (kind, source_id) DO UPDATE SET
  occurred_at = excluded.occurred_at, lon = excluded.lon, lat = excluded.lat, h3 = excluded.h3,
  category = excluded.category, region_code = excluded.region_code,
  district_code = excluded.district_code, mahalla_code = excluded.mahalla_code,
  article = excluded.article, severity = excluded.severity, flags = excluded.flags,
  killed = excluded.killed, injured = excluded.injured, vehicle = excluded.vehicle, fine = excluded.fine
WHERE (occurred_at, lon, lat, h3, category, region_code, district_code, mahalla_code,
       article, severity, flags, killed, injured, vehicle, fine)
  IS NOT (excluded.occurred_at, excluded.lon, excluded.lat, excluded.h3, excluded.category,
       excluded.region_code, excluded.district_code, excluded.mahalla_code, excluded.article,
       excluded.severity, excluded.flags, excluded.killed, excluded.injured, excluded.vehicle,
       excluded.fine)
RETURNING id`)
	return b.String()
}

// appendEventArgs appends e's 17 column values in eventCols order.
func appendEventArgs(args []any, e *analytics.Event) []any {
	var lon, lat, cell any
	if e.HasLocation {
		lon, lat = e.Lon, e.Lat
	}
	if e.Cell != 0 {
		cell = int64(e.Cell)
	}
	return append(args, int64(e.Kind), e.SourceID, e.OccurredAt.UnixMicro(), lon, lat, cell,
		nullString(e.Category), nullString(e.Region), nullString(e.District), nullString(e.Mahalla),
		nullString(e.Article), int64(e.Severity), int64(e.Flags), int64(e.Killed), int64(e.Injured),
		nullString(e.Vehicle), e.Fine)
}

// Secondary indexes dropped and rebuilt around a bulk load; the unique
// (kind, source_id) index stays (ON CONFLICT needs it). Must match
// migrations/sqlite.
var bulkIndexes = [...]struct{ name, def string }{
	{"events_occurred_at", "CREATE INDEX events_occurred_at ON events (occurred_at)"},
	{"events_region", "CREATE INDEX events_region ON events (region_code)"},
	{"events_district", "CREATE INDEX events_district ON events (district_code)"},
	{"events_mahalla", "CREATE INDEX events_mahalla ON events (mahalla_code)"},
}

// bulkFactor: a batch of n events drops the secondary indexes and rebuilds
// them (sorted, after the upserts, in the same transaction) when the table
// holds fewer than bulkFactor*n rows. Measured here: maintaining the four
// indexes row by row costs ~6 us per event, rebuilding them ~3.5 us per
// row of the table. Readers keep their WAL snapshot meanwhile.
const (
	bulkFactor = 2
	bulkMin    = 20_000 // smaller batches never rebuild
)

// PutEvents upserts events by (kind, source_id) in one transaction. Events
// are validated first (see package store/internal/check); an invalid one
// fails the whole batch with store.ErrInvalid and nothing is written.
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
	var maxID int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&maxID); err != nil {
		return res, fmt.Errorf("sqlite put events: %w", translate(ctx, err))
	}
	rebuild := false
	if len(events) >= bulkMin {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM events LIMIT ?)`,
			bulkFactor*len(events)).Scan(&n); err != nil {
			return res, fmt.Errorf("sqlite put events: %w", translate(ctx, err))
		}
		rebuild = n < bulkFactor*len(events)
	}
	if rebuild {
		for _, ix := range bulkIndexes {
			if _, err := tx.ExecContext(ctx, `DROP INDEX IF EXISTS `+ix.name); err != nil {
				return res, fmt.Errorf("sqlite put events: drop index: %w", translate(ctx, err))
			}
		}
	}
	full, err := tx.PrepareContext(ctx, upsertEvents(min(chunkRows, len(events))))
	if err != nil {
		return res, fmt.Errorf("sqlite put events: %w", translate(ctx, err))
	}
	defer full.Close()
	args := make([]any, 0, chunkRows*nEventCols)
	for start := 0; start < len(events); start += chunkRows {
		chunk := events[start:min(start+chunkRows, len(events))]
		args = args[:0]
		for i := range chunk {
			args = appendEventArgs(args, &chunk[i])
		}
		stmt := full
		if len(chunk) < chunkRows && start > 0 {
			if stmt, err = tx.PrepareContext(ctx, upsertEvents(len(chunk))); err != nil {
				return store.Result{}, fmt.Errorf("sqlite put events: %w", translate(ctx, err))
			}
			defer stmt.Close()
		}
		n, ins, err := countReturned(ctx, stmt, args, maxID)
		if err != nil {
			return store.Result{}, fmt.Errorf("sqlite put events: %w", translate(ctx, err))
		}
		res.Inserted += ins
		res.Updated += n - ins
		res.Unchanged += len(chunk) - n
	}
	if rebuild {
		for _, ix := range bulkIndexes {
			if _, err := tx.ExecContext(ctx, ix.def); err != nil {
				return store.Result{}, fmt.Errorf("sqlite put events: rebuild %s: %w", ix.name, translate(ctx, err))
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return store.Result{}, fmt.Errorf("sqlite put events: commit: %w", translate(ctx, err))
	}
	res.Unchanged += dups
	return res, nil
}

// countReturned runs the upsert and counts returned ids, and those above maxID.
func countReturned(ctx context.Context, stmt *sql.Stmt, args []any, maxID int64) (n, inserted int, err error) {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return 0, 0, err
		}
		n++
		if id > maxID {
			inserted++
		}
	}
	return n, inserted, rows.Err()
}

// eventScanner scans event rows into a reused Event.
type eventScanner struct {
	occurred                                                   int64
	lon, lat                                                   sql.NullFloat64
	cell                                                       sql.NullInt64
	category, region, district, mahalla, article, vehicle, sid sql.NullString
	kind, severity, flags, killed, injured                     int64
	dest                                                       []any
}

func newEventScanner() *eventScanner {
	s := &eventScanner{}
	s.dest = []any{&s.kind, &s.sid, &s.occurred, &s.lon, &s.lat, &s.cell, &s.category, &s.region,
		&s.district, &s.mahalla, &s.article, &s.severity, &s.flags, &s.killed, &s.injured, &s.vehicle, nil}
	return s
}

func (s *eventScanner) scan(rows *sql.Rows, e *analytics.Event) error {
	s.dest[16] = &e.Fine
	if err := rows.Scan(s.dest...); err != nil {
		return err
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
	return nil
}

// Events returns one page of events matching q and the total count.
func (s *Store) Events(ctx context.Context, q store.EventQuery) (store.EventPage, error) {
	var page store.EventPage
	limit, err := check.Query(q)
	if err != nil {
		return page, err
	}
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
	rows, err := s.db.QueryContext(ctx, `SELECT `+eventCols+` FROM events`+cond+
		` ORDER BY occurred_at, kind, source_id LIMIT ? OFFSET ?`, append(args, limit, q.Offset)...)
	if err != nil {
		return page, fmt.Errorf("sqlite events: %w", translate(ctx, err))
	}
	defer rows.Close()
	sc := newEventScanner()
	page.Events = make([]analytics.Event, 0, min(limit, page.Total-q.Offset))
	for rows.Next() {
		page.Events = append(page.Events, analytics.Event{})
		if err := sc.scan(rows, &page.Events[len(page.Events)-1]); err != nil {
			return store.EventPage{}, fmt.Errorf("sqlite events: %w", translate(ctx, err))
		}
	}
	if err := rows.Err(); err != nil {
		return store.EventPage{}, fmt.Errorf("sqlite events: %w", translate(ctx, err))
	}
	return page, nil
}

// ScanEvents calls fn for every stored event (in id order); the *Event is
// reused between calls. It stops at fn's first error and returns it.
func (s *Store) ScanEvents(ctx context.Context, fn func(*analytics.Event) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+eventCols+` FROM events`)
	if err != nil {
		return fmt.Errorf("sqlite scan events: %w", translate(ctx, err))
	}
	defer rows.Close()
	sc := newEventScanner()
	var e analytics.Event
	for rows.Next() {
		if err := sc.scan(rows, &e); err != nil {
			return fmt.Errorf("sqlite scan events: %w", translate(ctx, err))
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite scan events: %w", translate(ctx, err))
	}
	return nil
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
