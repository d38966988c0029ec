package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/migrations"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/internal/check"
	"github.com/pressly/goose/v3"
)

var (
	_ store.PopulationStore = (*Store)(nil)
	_ store.Doctor          = (*Store)(nil)
)

// PutPopulation implements store.PopulationStore: one transaction; the
// stored figures of the batch's units are read once and compared in Go, so
// only new or changed figures are written.
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
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("sqlite put population: %w", translate(ctx, err))
	}
	defer s.rollback(tx)

	type key struct {
		code string
		year int
	}
	stored := map[key]int64{}
	known := map[string]bool{}
	codes := check.Codes(rows)
	for chunk := range slices.Chunk(codes, 500) {
		ph := strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",")
		args := make([]any, len(chunk))
		for i, c := range chunk {
			args[i] = c
		}
		if err := queryEach(ctx, tx, `SELECT code FROM units WHERE code IN (`+ph+`)`, args, func(scan func(...any) error) error {
			var c string
			if err := scan(&c); err != nil {
				return err
			}
			known[c] = true
			return nil
		}); err != nil {
			return store.Result{}, fmt.Errorf("sqlite put population: units: %w", translate(ctx, err))
		}
		if err := queryEach(ctx, tx, `SELECT unit_code, year, population FROM population WHERE unit_code IN (`+ph+`)`, args, func(scan func(...any) error) error {
			var (
				k key
				p int64
			)
			if err := scan(&k.code, &k.year, &p); err != nil {
				return err
			}
			stored[k] = p
			return nil
		}); err != nil {
			return store.Result{}, fmt.Errorf("sqlite put population: stored figures: %w", translate(ctx, err))
		}
	}
	for _, r := range rows {
		if !known[r.UnitCode] {
			return store.Result{}, fmt.Errorf("population of %q in %d: no such unit (import its boundaries first): %w", r.UnitCode, r.Year, store.ErrInvalid)
		}
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO population (unit_code, year, population) VALUES (?, ?, ?)
ON CONFLICT (unit_code, year) DO UPDATE SET population = excluded.population`)
	if err != nil {
		return store.Result{}, fmt.Errorf("sqlite put population: %w", translate(ctx, err))
	}
	defer stmt.Close()
	for _, r := range rows {
		old, ok := stored[key{r.UnitCode, r.Year}]
		switch {
		case ok && old == r.Population:
			res.Unchanged++
			continue
		case ok:
			res.Updated++
		default:
			res.Inserted++
		}
		if _, err := stmt.ExecContext(ctx, r.UnitCode, r.Year, r.Population); err != nil {
			return store.Result{}, fmt.Errorf("sqlite put population of %q in %d: %w", r.UnitCode, r.Year, translate(ctx, err))
		}
	}
	if res.Inserted+res.Updated > 0 {
		if err := bumpVersion(ctx, tx); err != nil {
			return store.Result{}, fmt.Errorf("sqlite put population: %w", translate(ctx, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return store.Result{}, fmt.Errorf("sqlite put population: commit: %w", translate(ctx, err))
	}
	res.Unchanged += dups
	return res, nil
}

// queryEach runs query in q and calls fn with each row's Scan.
func queryEach(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Population implements store.PopulationStore.
func (s *Store) Population(ctx context.Context, q store.PopulationQuery) ([]store.Population, error) {
	query, args := `SELECT unit_code, year, population FROM population`, []any{}
	if q.Unit != "" {
		query += ` WHERE unit_code = ?`
		args = append(args, q.Unit)
	}
	out := []store.Population{}
	err := queryEach(ctx, s.db, query+` ORDER BY unit_code, year`, args, func(scan func(...any) error) error {
		var p store.Population
		if err := scan(&p.UnitCode, &p.Year, &p.Population); err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite population: %w", translate(ctx, err))
	}
	return out, nil
}

// SchemaVersion implements store.Doctor.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := goose.NewProvider(goose.DialectSQLite3, s.db, migrations.SQLite())
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite schema version: %w", err)
	}
	if current, err = p.GetDBVersion(ctx); err != nil {
		return 0, 0, fmt.Errorf("sqlite schema version: %w", translate(ctx, err))
	}
	for _, src := range p.ListSources() {
		latest = max(latest, src.Version)
	}
	return current, latest, nil
}

// EventCoverage implements store.Doctor.
func (s *Store) EventCoverage(ctx context.Context) ([]store.EventCoverage, error) {
	out := []store.EventCoverage{}
	err := queryEach(ctx, s.db, `SELECT kind, count(*),
  coalesce(sum(lon IS NULL OR lat IS NULL), 0),
  coalesce(sum(lon IS NOT NULL AND lat IS NOT NULL AND region_code IS NULL AND district_code IS NULL AND mahalla_code IS NULL), 0)
FROM events GROUP BY kind ORDER BY kind`, nil, func(scan func(...any) error) error {
		var (
			c    store.EventCoverage
			kind int
		)
		if err := scan(&kind, &c.Total, &c.NoLocation, &c.Unassigned); err != nil {
			return err
		}
		c.Kind = analytics.Kind(kind)
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite event coverage: %w", translate(ctx, err))
	}
	return out, nil
}
