// Package postgis implements store.Store on PostgreSQL with PostGIS, through
// pgx/v5 (pgxpool). It is the production store: durable, shared, GiST
// indexed, with SQL views QGIS opens directly (see migrations/README.md).
//
// Every located event also stores its H3 cells at the hexbin resolutions
// (h3_r5..h3_r10: h3.LatLngToCell of its coordinates, not parents of the
// res-15 cell, which differ for some points), computed in Go on every write;
// Open computes those of rows stored without them (see backfillCells).
//
// PutEvents is a bulk path, one transaction per batch: the batch is COPYed
// (binary) straight into events under a savepoint; only when the unique
// (kind, source_id) index rejects a row does it roll back to the savepoint
// and merge through a temporary staging table (count new/changed, INSERT
// ... ON CONFLICT DO NOTHING, UPDATE the rows that differ), so unchanged
// rows are never written. When a batch is large relative to the table the
// secondary indexes are dropped and rebuilt inside the same transaction
// (see secondaryIndexes), except inside a BulkLoad, which drops them once
// for the whole import and rebuilds them at its end.
package postgis

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/migrations"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/internal/check"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/paulmach/orb"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/ewkb"
)

// Store is the PostGIS store; safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	bulk bulkState
}

var _ store.Store = (*Store)(nil)

// defaultConnectTimeout bounds a connection attempt when the URL sets no
// connect_timeout.
const defaultConnectTimeout = 5 * time.Second

// Open connects to the database at url (a postgres:// URL or key=value
// DSN), checks it answers and applies the migrations (serialised across
// processes by an advisory lock). log may be nil.
func Open(ctx context.Context, url string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgis store: %w: %w", store.ErrInvalid, err)
	}
	// A server that stops answering (a network partition) must fail a
	// connection attempt in seconds, not hang it until the request's
	// timeout: the service then answers 503 and /readyz says why. The
	// URL's connect_timeout wins.
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgis store: %w", err)
	}
	s := &Store{pool: pool, log: log}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	// A process that died inside BulkLoad left indexes dropped.
	if err := s.repairIndexes(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgis store: restore indexes: %w", err)
	}
	// Rows stored before migration 00006 (or written by hand) lack their
	// H3 cells at res 5..10.
	if _, err := s.backfillCells(ctx, backfillBatch); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgis store: backfill h3 cells: %w", err)
	}
	log.Debug("postgis store open", "host", cfg.ConnConfig.Host, "database", cfg.ConnConfig.Database)
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
	if err != nil {
		return fmt.Errorf("postgis store: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.PostGIS(),
		goose.WithSessionLocker(locker), goose.WithSlog(s.log))
	if err != nil {
		return fmt.Errorf("postgis store: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("postgis store: migrate: %w", translate(ctx, err))
	}
	for _, r := range res {
		s.log.Info("migration applied", "backend", "postgis", "version", r.Source.Version, "took", r.Duration)
	}
	return nil
}

// Pool returns the connection pool (for tile and report queries that go
// beyond the store interface).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Backend returns "postgis".
func (s *Store) Backend() string { return "postgis" }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return translate(ctx, s.pool.Ping(ctx)) }

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// bumpVersion increases meta.data_version in tx. Writers call it as their
// last statement before commit: the row lock it takes serialises bumps
// (so versions strictly increase in commit order) and is held only until
// the commit right after it.
func bumpVersion(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `UPDATE meta SET data_version = data_version + 1`)
	return err
}

// DataVersion implements store.Store: meta.data_version.
func (s *Store) DataVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, `SELECT data_version FROM meta`).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgis data version: %w", translate(ctx, err))
	}
	return v, nil
}

// translate maps pgx errors to the store's domain errors.
func translate(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505", pe.Code == "40001", pe.Code == "40P01", pe.Code == "55P03":
			// unique violation, serialization failure, deadlock, lock not available
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case strings.HasPrefix(pe.Code, "22"), strings.HasPrefix(pe.Code, "23"):
			// data exception, integrity constraint violation
			return fmt.Errorf("%w: %w", store.ErrInvalid, err)
		case pe.Code == "57014" && ctx.Err() != nil: // query canceled
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		}
	}
	return err
}

func (s *Store) rollback(ctx context.Context, tx pgx.Tx) {
	// Rollback with a live context even when ctx was canceled, so the
	// connection goes back to the pool clean.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := tx.Rollback(rctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		s.log.Warn("postgis rollback", "err", err)
	}
}

// ---- units ----

const unitCols = "code, parent_code, level, names, population, population_year"

const upsertUnit = `INSERT INTO units (` + unitCols + `, geom)
VALUES ($1, $2, $3, $4::jsonb, $5, $6, ST_GeomFromEWKB($7))
ON CONFLICT (code) DO UPDATE SET parent_code = excluded.parent_code, level = excluded.level,
  names = excluded.names, population = excluded.population,
  population_year = excluded.population_year, geom = excluded.geom
WHERE (units.parent_code, units.level, units.names, units.population, units.population_year, units.geom)
  IS DISTINCT FROM
  (excluded.parent_code, excluded.level, excluded.names, excluded.population, excluded.population_year, excluded.geom)
RETURNING xmax = 0`

// PutUnits upserts units by code in one transaction.
func (s *Store) PutUnits(ctx context.Context, units []geo.Unit) (store.Result, error) {
	var res store.Result
	units, dups, err := check.Units(units)
	if err != nil {
		return res, err
	}
	batch := &pgx.Batch{}
	for i := range units {
		u := &units[i]
		names, err := json.Marshal(check.Names(u.Names))
		if err != nil {
			return res, fmt.Errorf("unit %q names: %w: %w", u.Code, err, store.ErrInvalid)
		}
		if string(names) == "null" {
			names = []byte("{}")
		}
		g, err := toEWKB(u.Geometry)
		if err != nil {
			return res, fmt.Errorf("unit %q geometry: %w: %w", u.Code, err, store.ErrInvalid)
		}
		batch.Queue(upsertUnit, u.Code, nullString(u.ParentCode), string(u.Level), string(names),
			nullInt(u.Population), nullInt(int64(u.PopulationYear)), g)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("postgis put units: %w", translate(ctx, err))
	}
	defer s.rollback(ctx, tx)
	br := tx.SendBatch(ctx, batch)
	for i := range units {
		var inserted bool
		switch err := br.QueryRow().Scan(&inserted); {
		case errors.Is(err, pgx.ErrNoRows):
			res.Unchanged++
		case err != nil:
			br.Close()
			return store.Result{}, fmt.Errorf("postgis put unit %q: %w", units[i].Code, translate(ctx, err))
		case inserted:
			res.Inserted++
		default:
			res.Updated++
		}
	}
	if err := br.Close(); err != nil {
		return store.Result{}, fmt.Errorf("postgis put units: %w", translate(ctx, err))
	}
	if res.Inserted+res.Updated > 0 {
		if err := bumpVersion(ctx, tx); err != nil {
			return store.Result{}, fmt.Errorf("postgis put units: %w", translate(ctx, err))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return store.Result{}, fmt.Errorf("postgis put units: commit: %w", translate(ctx, err))
	}
	res.Unchanged += dups
	return res, nil
}

// toEWKB encodes a boundary as EWKB with SRID 4326 (nil for none) via go-geom.
func toEWKB(mp orb.MultiPolygon) ([]byte, error) {
	if len(mp) == 0 {
		return nil, nil
	}
	coords := make([][][]geom.Coord, len(mp))
	for i, p := range mp {
		coords[i] = make([][]geom.Coord, len(p))
		for j, r := range p {
			cs := make([]geom.Coord, len(r))
			for k, pt := range r {
				cs[k] = geom.Coord{pt[0], pt[1]}
			}
			coords[i][j] = cs
		}
	}
	g, err := geom.NewMultiPolygon(geom.XY).SetCoords(coords)
	if err != nil {
		return nil, err
	}
	return ewkb.Marshal(g.SetSRID(4326), binary.LittleEndian)
}

// fromEWKB decodes a boundary written by ST_AsEWKB.
func fromEWKB(b []byte) (orb.MultiPolygon, error) {
	if len(b) == 0 {
		return nil, nil
	}
	g, err := ewkb.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	mp, ok := g.(*geom.MultiPolygon)
	if !ok {
		return nil, fmt.Errorf("geometry is %T, want MultiPolygon", g)
	}
	out := make(orb.MultiPolygon, mp.NumPolygons())
	for i := range out {
		p := mp.Polygon(i)
		out[i] = make(orb.Polygon, p.NumLinearRings())
		for j := range out[i] {
			cs := p.LinearRing(j).Coords()
			r := make(orb.Ring, len(cs))
			for k, c := range cs {
				r[k] = orb.Point{c.X(), c.Y()}
			}
			out[i][j] = r
		}
	}
	return out, nil
}

const unitOrder = ` ORDER BY CASE level WHEN 'region' THEN 1 WHEN 'district' THEN 2 ELSE 3 END, code`

// Units lists units, ordered by level then code.
func (s *Store) Units(ctx context.Context, q store.UnitQuery) ([]geo.Unit, error) {
	geomCol := "NULL::bytea"
	if q.WithGeometry {
		geomCol = "ST_AsEWKB(geom)"
	}
	var w where
	if q.Level != "" {
		w.add("level = $%d", string(q.Level))
	}
	if q.Parent != "" {
		w.add("parent_code = $%d", q.Parent)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+unitCols+`, `+geomCol+` FROM units`+w.String()+unitOrder, w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgis units: %w", translate(ctx, err))
	}
	defer rows.Close()
	var out []geo.Unit
	for rows.Next() {
		u, err := scanUnit(rows)
		if err != nil {
			return nil, fmt.Errorf("postgis units: %w", translate(ctx, err))
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis units: %w", translate(ctx, err))
	}
	return out, nil
}

// Unit returns the unit of that code, or store.ErrNotFound.
func (s *Store) Unit(ctx context.Context, code string) (geo.Unit, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+unitCols+`, ST_AsEWKB(geom) FROM units WHERE code = $1`, code)
	u, err := scanUnit(row)
	if err != nil {
		return geo.Unit{}, fmt.Errorf("postgis unit %q: %w", code, translate(ctx, err))
	}
	return u, nil
}

func scanUnit(r pgx.Row) (geo.Unit, error) {
	var (
		u         geo.Unit
		parent    *string
		level     string
		pop, year *int64
		g         []byte
	)
	if err := r.Scan(&u.Code, &parent, &level, &u.Names, &pop, &year, &g); err != nil {
		return u, err
	}
	u.Level = geo.Level(level)
	if parent != nil {
		u.ParentCode = *parent
	}
	if pop != nil {
		u.Population = *pop
	}
	if year != nil {
		u.PopulationYear = int(*year)
	}
	if len(u.Names) == 0 {
		u.Names = nil
	}
	mp, err := fromEWKB(g)
	if err != nil {
		return u, fmt.Errorf("unit %q geometry: %w", u.Code, err)
	}
	u.Geometry = mp
	return u, nil
}

// where builds a WHERE clause with $n placeholders.
type where struct {
	conds []string
	args  []any
}

// add appends a condition over args; its %d verbs are replaced by the
// args' placeholder numbers in order (use %[1]d to repeat the first).
func (w *where) add(cond string, args ...any) {
	ns := make([]any, len(args))
	for i, a := range args {
		w.args = append(w.args, a)
		ns[i] = len(w.args)
	}
	w.conds = append(w.conds, fmt.Sprintf(cond, ns...))
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
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
