package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/internal/check"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

var _ store.BoundaryStore = (*Store)(nil)

// BoundaryVersion implements store.BoundaryStore: meta.boundary_version,
// raised by triggers on units and unit_boundary_history (migration 00008).
func (s *Store) BoundaryVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.db.QueryRowContext(ctx, `SELECT boundary_version FROM meta`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite boundary version: %w", translate(ctx, err))
	}
	return v, nil
}

// PutBoundaryVersion implements store.BoundaryStore.
func (s *Store) PutBoundaryVersion(ctx context.Context, units []geo.Unit, validFrom time.Time) (store.Result, error) {
	if validFrom.IsZero() {
		return s.PutUnits(ctx, units)
	}
	var res store.Result
	validFrom = validFrom.Truncate(time.Microsecond).UTC()
	units, dups, err := check.Units(units)
	if err != nil {
		return res, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("sqlite put boundary version: %w", translate(ctx, err))
	}
	defer s.rollback(tx)
	for i := range units {
		r, err := putBoundaryVersion(ctx, tx, &units[i], validFrom)
		if err != nil {
			return store.Result{}, fmt.Errorf("sqlite put boundary version of %q: %w", units[i].Code, translate(ctx, err))
		}
		res.Add(r)
	}
	if res.Inserted+res.Updated > 0 {
		if err := bumpVersion(ctx, tx); err != nil {
			return store.Result{}, fmt.Errorf("sqlite put boundary version: %w", translate(ctx, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return store.Result{}, fmt.Errorf("sqlite put boundary version: commit: %w", translate(ctx, err))
	}
	res.Unchanged += dups
	return res, nil
}

func putBoundaryVersion(ctx context.Context, tx *sql.Tx, u *geo.Unit, d time.Time) (store.Result, error) {
	var res store.Result
	var cur []byte
	exists := true
	switch err := tx.QueryRowContext(ctx, `SELECT geom FROM units WHERE code = ?`, u.Code).Scan(&cur); {
	case errors.Is(err, sql.ErrNoRows):
		exists = false
	case err != nil:
		return res, err
	}
	curGeom, err := decodeMultiPolygon(cur)
	if err != nil {
		return res, err
	}
	hist, err := history(ctx, tx, u.Code)
	if err != nil {
		return res, err
	}
	out, newCur, changed := check.ApplyVersion(hist, curGeom, d, u.Geometry)
	// The unit row first (the history references it), with the current
	// boundary and the file's names, parent and population.
	uu := *u
	uu.Geometry = newCur
	args, err := unitArgs(&uu)
	if err != nil {
		return res, err
	}
	var id int64
	switch err := tx.QueryRowContext(ctx, upsertUnit, args...).Scan(&id); {
	case errors.Is(err, sql.ErrNoRows): // unit row unchanged
	case err != nil:
		return res, err
	default:
		changed = true
	}
	if !check.HistoryEqual(hist, out) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM unit_boundary_history WHERE code = ?`, u.Code); err != nil {
			return res, err
		}
		for _, h := range out {
			g, err := encodeMultiPolygon(h.Geometry)
			if err != nil {
				return res, err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO unit_boundary_history (code, valid_until, geom) VALUES (?, ?, ?)`,
				u.Code, h.ValidUntil.UnixMicro(), g); err != nil {
				return res, err
			}
		}
	}
	switch {
	case !exists:
		res.Inserted++
	case changed:
		res.Updated++
	default:
		res.Unchanged++
	}
	return res, nil
}

// history reads a unit's rows of unit_boundary_history, sorted.
func history(ctx context.Context, tx *sql.Tx, code string) ([]check.HistoryRow, error) {
	rows, err := tx.QueryContext(ctx, `SELECT valid_until, geom FROM unit_boundary_history WHERE code = ? ORDER BY valid_until`, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []check.HistoryRow
	for rows.Next() {
		var until int64
		var g []byte
		if err := rows.Scan(&until, &g); err != nil {
			return nil, err
		}
		mp, err := decodeMultiPolygon(g)
		if err != nil {
			return nil, fmt.Errorf("unit %q boundary until %d: %w", code, until, err)
		}
		out = append(out, check.HistoryRow{ValidUntil: time.UnixMicro(until).UTC(), Geometry: mp})
	}
	return out, rows.Err()
}

// unitArgs are the parameters of upsertUnit for u (as PutUnits binds them).
func unitArgs(u *geo.Unit) ([]any, error) {
	names, err := json.Marshal(check.Names(u.Names))
	if err != nil {
		return nil, fmt.Errorf("unit %q names: %w: %w", u.Code, err, store.ErrInvalid)
	}
	if string(names) == "null" {
		names = []byte("{}")
	}
	g, err := encodeMultiPolygon(u.Geometry)
	if err != nil {
		return nil, fmt.Errorf("unit %q geometry: %w: %w", u.Code, err, store.ErrInvalid)
	}
	return []any{u.Code, nullString(u.ParentCode), string(u.Level), string(names),
		nullInt(u.Population), nullInt(int64(u.PopulationYear)), g}, nil
}

func encodeMultiPolygon(mp orb.MultiPolygon) ([]byte, error) {
	if len(mp) == 0 {
		return nil, nil
	}
	return wkb.Marshal(mp)
}

func decodeMultiPolygon(b []byte) (orb.MultiPolygon, error) {
	if len(b) == 0 {
		return nil, nil
	}
	g, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	mp, ok := g.(orb.MultiPolygon)
	if !ok {
		return nil, fmt.Errorf("geometry is %s, want MultiPolygon", g.GeoJSONType())
	}
	return mp, nil
}

// BoundaryVersions implements store.BoundaryStore.
func (s *Store) BoundaryVersions(ctx context.Context) ([]geo.BoundaryVersion, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT h.code, h.valid_until, h.geom, u.geom
FROM unit_boundary_history h JOIN units u ON u.code = h.code ORDER BY h.code, h.valid_until`)
	if err != nil {
		return nil, fmt.Errorf("sqlite boundary versions: %w", translate(ctx, err))
	}
	defer rows.Close()
	var out []geo.BoundaryVersion
	var code string
	var hist []check.HistoryRow
	var cur orb.MultiPolygon
	flush := func() {
		if code == "" {
			return
		}
		check.Versions(hist, cur, func(from time.Time, g orb.MultiPolygon) {
			out = append(out, geo.BoundaryVersion{Code: code, ValidFrom: from, Geometry: g})
		})
	}
	for rows.Next() {
		var c string
		var until int64
		var g, cg []byte
		if err := rows.Scan(&c, &until, &g, &cg); err != nil {
			return nil, fmt.Errorf("sqlite boundary versions: %w", translate(ctx, err))
		}
		if c != code {
			flush()
			code, hist = c, hist[:0]
			if cur, err = decodeMultiPolygon(cg); err != nil {
				return nil, fmt.Errorf("sqlite boundary versions: unit %q: %w", c, err)
			}
		}
		mp, err := decodeMultiPolygon(g)
		if err != nil {
			return nil, fmt.Errorf("sqlite boundary versions: unit %q: %w", c, err)
		}
		hist = append(hist, check.HistoryRow{ValidUntil: time.UnixMicro(until).UTC(), Geometry: mp})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite boundary versions: %w", translate(ctx, err))
	}
	flush()
	return out, nil
}

// Reassign implements store.BoundaryStore (see there): batches of located
// events whose assigned_version is not the boundary version, in id order,
// each in one IMMEDIATE transaction that updates the moved events and
// stamps the whole batch.
func (s *Store) Reassign(ctx context.Context, opts store.ReassignOptions) (store.ReassignResult, error) {
	var res store.ReassignResult
	batch := opts.Batch()
	for {
		v, err := s.BoundaryVersion(ctx)
		if err != nil {
			return res, err
		}
		ix, _, err := store.LoadIndex(ctx, s)
		if err != nil {
			return res, fmt.Errorf("sqlite reassign: %w", err)
		}
		res.BoundaryVersion = v
		if ix.Empty() {
			res.NoBoundaries = true
			break
		}
		stale := false
		last := int64(math.MinInt64)
		for !stale {
			var b batchResult
			b, err = s.reassignBatch(ctx, ix, v, last, batch)
			if err != nil {
				return res, fmt.Errorf("sqlite reassign: %w", err)
			}
			if b.stale {
				stale = true
				break
			}
			if b.n == 0 {
				break
			}
			res.Checked += b.n
			res.Moved += b.moved
			res.Batches++
			last = b.last
			if opts.Progress != nil {
				opts.Progress(res)
			}
			if b.n < batch {
				break
			}
		}
		if !stale {
			break
		}
		if res.Restarts++; res.Restarts > store.MaxReassignRestarts {
			return res, fmt.Errorf("sqlite reassign: boundaries keep changing during the run: %w", store.ErrConflict)
		}
		s.log.Info("sqlite reassign: boundaries changed during the run; starting over with the new ones")
	}
	if err := s.db.QueryRowContext(ctx, countUnassigned).Scan(&res.Unassigned); err != nil {
		return res, fmt.Errorf("sqlite reassign: count unassigned: %w", translate(ctx, err))
	}
	return res, nil
}

const countUnassigned = `SELECT count(*) FROM events WHERE lon IS NOT NULL AND lat IS NOT NULL
AND region_code IS NULL AND district_code IS NULL AND mahalla_code IS NULL`

type batchResult struct {
	n, moved int
	last     int64
	stale    bool // the boundary version changed: nothing done
}

// toAssign selects the next batch of located events not assigned by
// boundary version ?2, after id ?1.
const toAssign = `SELECT id, occurred_at, lon, lat, region_code, district_code, mahalla_code FROM events
WHERE id > ?1 AND lon IS NOT NULL AND lat IS NOT NULL AND assigned_version IS NOT ?2 ORDER BY id LIMIT ?3`

func (s *Store) reassignBatch(ctx context.Context, ix *geo.Index, v, last int64, batch int) (batchResult, error) {
	var b batchResult
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return b, translate(ctx, err)
	}
	defer s.rollback(tx)
	var now int64
	if err := tx.QueryRowContext(ctx, `SELECT boundary_version FROM meta`).Scan(&now); err != nil {
		return b, translate(ctx, err)
	}
	if now != v {
		b.stale = true
		return b, nil
	}
	rows, err := tx.QueryContext(ctx, toAssign, last, v, batch)
	if err != nil {
		return b, translate(ctx, err)
	}
	type move struct {
		id     int64
		region any
		dist   any
		mah    any
	}
	var moves []move
	for rows.Next() {
		var (
			id, occurred int64
			lon, lat     float64
			r, d, m      sql.NullString
		)
		if err := rows.Scan(&id, &occurred, &lon, &lat, &r, &d, &m); err != nil {
			rows.Close()
			return b, translate(ctx, err)
		}
		b.n++
		b.last = id
		a := ix.AssignAt(lon, lat, time.UnixMicro(occurred))
		if a != (geo.Assignment{Region: r.String, District: d.String, Mahalla: m.String}) {
			moves = append(moves, move{id, nullString(a.Region), nullString(a.District), nullString(a.Mahalla)})
		}
	}
	if err := rows.Close(); err != nil {
		return b, translate(ctx, err)
	}
	if b.n == 0 {
		return b, nil
	}
	if len(moves) > 0 {
		upd, err := tx.PrepareContext(ctx, `UPDATE events SET region_code = ?, district_code = ?, mahalla_code = ?, assigned_version = ? WHERE id = ?`)
		if err != nil {
			return b, translate(ctx, err)
		}
		defer upd.Close()
		for _, mv := range moves {
			if _, err := upd.ExecContext(ctx, mv.region, mv.dist, mv.mah, v, mv.id); err != nil {
				return b, translate(ctx, err)
			}
		}
	}
	// The rest of the batch: the same rows the select returned (nothing
	// else writes while this transaction holds the write lock).
	if _, err := tx.ExecContext(ctx, `UPDATE events SET assigned_version = ?1
WHERE id > ?2 AND id <= ?3 AND lon IS NOT NULL AND lat IS NOT NULL AND assigned_version IS NOT ?1`, v, last, b.last); err != nil {
		return b, translate(ctx, err)
	}
	if len(moves) > 0 {
		if err := bumpVersion(ctx, tx); err != nil {
			return b, translate(ctx, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return b, translate(ctx, err)
	}
	b.moved = len(moves)
	return b, nil
}
