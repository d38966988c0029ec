package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/internal/check"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

var _ store.BoundaryStore = (*Store)(nil)

// BoundaryVersion implements store.BoundaryStore: meta.boundary_version,
// raised by triggers on units and unit_boundary_history (migration 00008).
func (s *Store) BoundaryVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, `SELECT boundary_version FROM meta`).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgis boundary version: %w", translate(ctx, err))
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
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("postgis put boundary version: %w", translate(ctx, err))
	}
	defer s.rollback(ctx, tx)
	for i := range units {
		r, err := putBoundaryVersion(ctx, tx, &units[i], validFrom)
		if err != nil {
			return store.Result{}, fmt.Errorf("postgis put boundary version of %q: %w", units[i].Code, translate(ctx, err))
		}
		res.Add(r)
	}
	if res.Inserted+res.Updated > 0 {
		if err := bumpVersion(ctx, tx); err != nil {
			return store.Result{}, fmt.Errorf("postgis put boundary version: %w", translate(ctx, err))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return store.Result{}, fmt.Errorf("postgis put boundary version: commit: %w", translate(ctx, err))
	}
	res.Unchanged += dups
	return res, nil
}

func putBoundaryVersion(ctx context.Context, tx pgx.Tx, u *geo.Unit, d time.Time) (store.Result, error) {
	var res store.Result
	var cur []byte
	exists := true
	// FOR UPDATE: two imports of the same unit's versions serialise here.
	switch err := tx.QueryRow(ctx, `SELECT ST_AsEWKB(geom) FROM units WHERE code = $1 FOR UPDATE`, u.Code).Scan(&cur); {
	case errors.Is(err, pgx.ErrNoRows):
		exists = false
	case err != nil:
		return res, err
	}
	curGeom, err := fromEWKB(cur)
	if err != nil {
		return res, err
	}
	hist, err := history(ctx, tx, u.Code)
	if err != nil {
		return res, err
	}
	out, newCur, changed := check.ApplyVersion(hist, curGeom, d, u.Geometry)
	names, err := json.Marshal(check.Names(u.Names))
	if err != nil {
		return res, fmt.Errorf("unit %q names: %w: %w", u.Code, err, store.ErrInvalid)
	}
	if string(names) == "null" {
		names = []byte("{}")
	}
	g, err := toEWKB(newCur)
	if err != nil {
		return res, fmt.Errorf("unit %q geometry: %w: %w", u.Code, err, store.ErrInvalid)
	}
	var inserted bool
	switch err := tx.QueryRow(ctx, upsertUnit, u.Code, nullString(u.ParentCode), string(u.Level), string(names),
		nullInt(u.Population), nullInt(int64(u.PopulationYear)), g).Scan(&inserted); {
	case errors.Is(err, pgx.ErrNoRows): // unit row unchanged
	case err != nil:
		return res, err
	default:
		changed = true
	}
	if !check.HistoryEqual(hist, out) {
		if _, err := tx.Exec(ctx, `DELETE FROM unit_boundary_history WHERE code = $1`, u.Code); err != nil {
			return res, err
		}
		for _, h := range out {
			g, err := toEWKB(h.Geometry)
			if err != nil {
				return res, fmt.Errorf("unit %q geometry: %w: %w", u.Code, err, store.ErrInvalid)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO unit_boundary_history (code, valid_until, geom)
VALUES ($1, $2, ST_GeomFromEWKB($3))`, u.Code, h.ValidUntil, g); err != nil {
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
func history(ctx context.Context, tx pgx.Tx, code string) ([]check.HistoryRow, error) {
	rows, err := tx.Query(ctx, `SELECT valid_until, ST_AsEWKB(geom) FROM unit_boundary_history WHERE code = $1 ORDER BY valid_until`, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []check.HistoryRow
	for rows.Next() {
		var until time.Time
		var g []byte
		if err := rows.Scan(&until, &g); err != nil {
			return nil, err
		}
		mp, err := fromEWKB(g)
		if err != nil {
			return nil, fmt.Errorf("unit %q boundary until %s: %w", code, until, err)
		}
		out = append(out, check.HistoryRow{ValidUntil: until.UTC(), Geometry: mp})
	}
	return out, rows.Err()
}

// BoundaryVersions implements store.BoundaryStore.
func (s *Store) BoundaryVersions(ctx context.Context) ([]geo.BoundaryVersion, error) {
	rows, err := s.pool.Query(ctx, `SELECT h.code, h.valid_until, ST_AsEWKB(h.geom), ST_AsEWKB(u.geom)
FROM unit_boundary_history h JOIN units u ON u.code = h.code ORDER BY h.code, h.valid_until`)
	if err != nil {
		return nil, fmt.Errorf("postgis boundary versions: %w", translate(ctx, err))
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
		var until time.Time
		var g, cg []byte
		if err := rows.Scan(&c, &until, &g, &cg); err != nil {
			return nil, fmt.Errorf("postgis boundary versions: %w", translate(ctx, err))
		}
		if c != code {
			flush()
			code, hist = c, hist[:0]
			if cur, err = fromEWKB(cg); err != nil {
				return nil, fmt.Errorf("postgis boundary versions: unit %q: %w", c, err)
			}
		}
		mp, err := fromEWKB(g)
		if err != nil {
			return nil, fmt.Errorf("postgis boundary versions: unit %q: %w", c, err)
		}
		hist = append(hist, check.HistoryRow{ValidUntil: until.UTC(), Geometry: mp})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis boundary versions: %w", translate(ctx, err))
	}
	flush()
	return out, nil
}

// Reassign implements store.BoundaryStore (see there): batches of located
// events whose assigned_version is not the boundary version, in id order,
// each in one transaction that locks the batch's rows (FOR UPDATE, so a
// concurrent PutEvents of the same events waits), updates the moved
// events and stamps the batch by id.
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
			return res, fmt.Errorf("postgis reassign: %w", err)
		}
		res.BoundaryVersion = v
		if ix.Empty() {
			res.NoBoundaries = true
			break
		}
		stale := false
		last := int64(math.MinInt64)
		for {
			b, err := s.reassignBatch(ctx, ix, v, last, batch)
			if err != nil {
				return res, fmt.Errorf("postgis reassign: %w", err)
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
			return res, fmt.Errorf("postgis reassign: boundaries keep changing during the run: %w", store.ErrConflict)
		}
		s.log.Info("postgis reassign: boundaries changed during the run; starting over with the new ones")
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE geom IS NOT NULL
AND region_code IS NULL AND district_code IS NULL AND mahalla_code IS NULL`).Scan(&res.Unassigned); err != nil {
		return res, fmt.Errorf("postgis reassign: count unassigned: %w", translate(ctx, err))
	}
	return res, nil
}

type batchResult struct {
	n, moved int
	last     int64
	stale    bool // the boundary version changed: nothing done
}

const toAssign = `SELECT id, occurred_at, lon, lat, coalesce(region_code, ''), coalesce(district_code, ''), coalesce(mahalla_code, '')
FROM events WHERE id > $1 AND lon IS NOT NULL AND lat IS NOT NULL AND assigned_version IS DISTINCT FROM $2
ORDER BY id LIMIT $3 FOR UPDATE`

const moveEvents = `UPDATE events e SET region_code = NULLIF(m.r, ''), district_code = NULLIF(m.d, ''),
  mahalla_code = NULLIF(m.m, ''), assigned_version = $1
FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) AS m(id, r, d, m) WHERE e.id = m.id`

func (s *Store) reassignBatch(ctx context.Context, ix *geo.Index, v, last int64, batch int) (batchResult, error) {
	var b batchResult
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return b, translate(ctx, err)
	}
	defer s.rollback(ctx, tx)
	var now int64
	if err := tx.QueryRow(ctx, `SELECT boundary_version FROM meta`).Scan(&now); err != nil {
		return b, translate(ctx, err)
	}
	if now != v {
		b.stale = true
		return b, nil
	}
	rows, err := tx.Query(ctx, toAssign, last, v, batch)
	if err != nil {
		return b, translate(ctx, err)
	}
	var (
		ids, keep  []int64
		rs, ds, ms []string
	)
	for rows.Next() {
		var (
			id       int64
			occurred time.Time
			lon, lat float64
			a0       geo.Assignment
		)
		if err := rows.Scan(&id, &occurred, &lon, &lat, &a0.Region, &a0.District, &a0.Mahalla); err != nil {
			rows.Close()
			return b, translate(ctx, err)
		}
		b.n++
		b.last = max(b.last, id)
		if a := ix.AssignAt(lon, lat, occurred); a != a0 {
			ids, rs, ds, ms = append(ids, id), append(rs, a.Region), append(ds, a.District), append(ms, a.Mahalla)
		} else {
			keep = append(keep, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return b, translate(ctx, err)
	}
	if b.n == 0 {
		return b, nil
	}
	if len(ids) > 0 {
		if _, err := tx.Exec(ctx, moveEvents, v, ids, rs, ds, ms); err != nil {
			return b, translate(ctx, err)
		}
	}
	if len(keep) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE events SET assigned_version = $1 WHERE id = ANY($2)`, v, keep); err != nil {
			return b, translate(ctx, err)
		}
	}
	if len(ids) > 0 {
		if err := bumpVersion(ctx, tx); err != nil {
			return b, translate(ctx, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return b, translate(ctx, err)
	}
	b.moved = len(ids)
	return b, nil
}
