package postgis

import (
	"context"
	"errors"
	"fmt"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/migrations"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/internal/check"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

var (
	_ store.PopulationStore = (*Store)(nil)
	_ store.Doctor          = (*Store)(nil)
)

// upsertPopulation writes a batch in one statement from three arrays;
// unchanged figures return no row, new ones true, changed ones false.
const upsertPopulation = `INSERT INTO population (unit_code, year, population)
SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[])
ON CONFLICT (unit_code, year) DO UPDATE SET population = excluded.population
WHERE population.population IS DISTINCT FROM excluded.population
RETURNING xmax = 0`

// PutPopulation implements store.PopulationStore in one transaction.
func (s *Store) PutPopulation(ctx context.Context, rows []store.Population) (store.Result, error) {
	var res store.Result
	rows, dups, err := check.Population(rows)
	if err != nil {
		return res, err
	}
	if len(rows) == 0 {
		res.Unchanged = dups
		return res, nil
	}
	codes := make([]string, len(rows))
	years := make([]int32, len(rows))
	pops := make([]int64, len(rows))
	for i, r := range rows {
		codes[i], years[i], pops[i] = r.UnitCode, int32(r.Year), r.Population
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("postgis put population: %w", translate(ctx, err))
	}
	defer s.rollback(ctx, tx)
	var missing string
	err = tx.QueryRow(ctx, `SELECT c FROM unnest($1::text[]) WITH ORDINALITY AS t(c, i)
WHERE NOT EXISTS (SELECT 1 FROM units WHERE code = c) ORDER BY i LIMIT 1`, check.Codes(rows)).Scan(&missing)
	switch {
	case err == nil:
		return res, fmt.Errorf("population of %q: no such unit (import its boundaries first): %w", missing, store.ErrInvalid)
	case !errors.Is(err, pgx.ErrNoRows):
		return res, fmt.Errorf("postgis put population: units: %w", translate(ctx, err))
	}
	out, err := tx.Query(ctx, upsertPopulation, codes, years, pops)
	if err != nil {
		return res, fmt.Errorf("postgis put population: %w", translate(ctx, err))
	}
	written, err := pgx.CollectRows(out, pgx.RowTo[bool])
	if err != nil {
		return store.Result{}, fmt.Errorf("postgis put population: %w", translate(ctx, err))
	}
	for _, inserted := range written {
		if inserted {
			res.Inserted++
		} else {
			res.Updated++
		}
	}
	res.Unchanged = len(rows) - len(written)
	if len(written) > 0 {
		if err := bumpVersion(ctx, tx); err != nil {
			return store.Result{}, fmt.Errorf("postgis put population: %w", translate(ctx, err))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return store.Result{}, fmt.Errorf("postgis put population: commit: %w", translate(ctx, err))
	}
	res.Unchanged += dups
	return res, nil
}

// Population implements store.PopulationStore.
func (s *Store) Population(ctx context.Context, q store.PopulationQuery) ([]store.Population, error) {
	rows, err := s.pool.Query(ctx, `SELECT unit_code, year, population FROM population
WHERE $1 = '' OR unit_code = $1 ORDER BY unit_code, year`, q.Unit)
	if err != nil {
		return nil, fmt.Errorf("postgis population: %w", translate(ctx, err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Population, error) {
		var p store.Population
		err := r.Scan(&p.UnitCode, &p.Year, &p.Population)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgis population: %w", translate(ctx, err))
	}
	if out == nil {
		out = []store.Population{}
	}
	return out, nil
}

// SchemaVersion implements store.Doctor.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.PostGIS())
	if err != nil {
		return 0, 0, fmt.Errorf("postgis schema version: %w", err)
	}
	if current, err = p.GetDBVersion(ctx); err != nil {
		return 0, 0, fmt.Errorf("postgis schema version: %w", translate(ctx, err))
	}
	for _, src := range p.ListSources() {
		latest = max(latest, src.Version)
	}
	return current, latest, nil
}

// EventCoverage implements store.Doctor.
func (s *Store) EventCoverage(ctx context.Context) ([]store.EventCoverage, error) {
	rows, err := s.pool.Query(ctx, `SELECT kind, count(*),
  count(*) FILTER (WHERE lon IS NULL OR lat IS NULL),
  count(*) FILTER (WHERE lon IS NOT NULL AND lat IS NOT NULL
    AND region_code IS NULL AND district_code IS NULL AND mahalla_code IS NULL)
FROM events GROUP BY kind ORDER BY kind`)
	if err != nil {
		return nil, fmt.Errorf("postgis event coverage: %w", translate(ctx, err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.EventCoverage, error) {
		var (
			c           store.EventCoverage
			kind        int16
			tot, nl, un int64
		)
		err := r.Scan(&kind, &tot, &nl, &un)
		c.Kind, c.Total, c.NoLocation, c.Unassigned = analytics.Kind(kind), int(tot), int(nl), int(un)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgis event coverage: %w", translate(ctx, err))
	}
	if out == nil {
		out = []store.EventCoverage{}
	}
	return out, nil
}
