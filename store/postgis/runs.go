package postgis

import (
	"context"
	"fmt"
	"time"

	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/internal/check"
	"github.com/jackc/pgx/v5"
)

var _ store.RunStore = (*Store)(nil)

const runMetaCols = `id, period, period_from, period_to, unit, policy_name, policy_version,
  snapshot_version, data_version, input_version, inputs_at, created_at, created_by`

const runNewest = ` ORDER BY created_at DESC, id DESC`

// PutRun implements store.RunStore.
func (s *Store) PutRun(ctx context.Context, run classify.Run) (int64, error) {
	run, doc, c, err := check.Run(run, time.Now())
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.pool.QueryRow(ctx, `INSERT INTO classification_runs (period, period_from, period_to, unit,
  policy_name, policy_version, snapshot_version, data_version, input_version, inputs_at, created_at, created_by, red, yellow, green, results)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9::bigint, 0), $10, $11, $12, $13, $14, $15, $16::jsonb) RETURNING id`,
		run.Period, run.PeriodFrom, run.PeriodTo, run.Unit, run.PolicyName, run.PolicyVersion,
		int64(run.SnapshotVersion), run.DataVersion, run.InputVersion, inputsAt(run.InputsAt), run.CreatedAt, run.CreatedBy, c.Red, c.Yellow, c.Green, string(doc)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("postgis put run %s: %w", run.Period, translate(ctx, err))
	}
	return id, nil
}

// Runs implements store.RunStore.
func (s *Store) Runs(ctx context.Context, q store.RunQuery) ([]classify.Run, error) {
	var w where
	if q.Period != "" {
		w.add("period = $%d", q.Period)
	}
	w.args = append(w.args, q.NormalizeLimit())
	rows, err := s.pool.Query(ctx, `SELECT `+runMetaCols+`, NULL::jsonb FROM classification_runs`+w.String()+runNewest+
		fmt.Sprintf(" LIMIT $%d", len(w.args)), w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgis runs: %w", translate(ctx, err))
	}
	defer rows.Close()
	out := []classify.Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("postgis runs: %w", translate(ctx, err))
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis runs: %w", translate(ctx, err))
	}
	return out, nil
}

// Run implements store.RunStore.
func (s *Store) Run(ctx context.Context, id int64) (classify.Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runMetaCols+`, results FROM classification_runs WHERE id = $1`, id))
	if err != nil {
		return r, fmt.Errorf("postgis run %d: %w", id, translate(ctx, err))
	}
	return r, nil
}

// LatestRun implements store.RunStore.
func (s *Store) LatestRun(ctx context.Context, period string) (classify.Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runMetaCols+`, results FROM classification_runs
WHERE period = $1 ORDER BY unit = '' DESC, created_at DESC, id DESC LIMIT 1`, period))
	if err != nil {
		return r, fmt.Errorf("postgis latest run of %q: %w", period, translate(ctx, err))
	}
	return r, nil
}

func scanRun(row pgx.Row) (classify.Run, error) {
	var (
		r        classify.Run
		snapshot int64
		input    *int64
		at       *time.Time
		doc      []byte
	)
	if err := row.Scan(&r.ID, &r.Period, &r.PeriodFrom, &r.PeriodTo, &r.Unit, &r.PolicyName, &r.PolicyVersion,
		&snapshot, &r.DataVersion, &input, &at, &r.CreatedAt, &r.CreatedBy, &doc); err != nil {
		return classify.Run{}, err
	}
	r.SnapshotVersion = uint64(snapshot)
	if input != nil {
		r.InputVersion = *input
	}
	if at != nil {
		r.InputsAt = at.UTC()
	}
	r.PeriodFrom, r.PeriodTo, r.CreatedAt = r.PeriodFrom.UTC(), r.PeriodTo.UTC(), r.CreatedAt.UTC()
	if doc != nil {
		res, err := check.RunResults(doc)
		if err != nil {
			return classify.Run{}, fmt.Errorf("run %d: %w", r.ID, err)
		}
		r.Results = res
	}
	return r, nil
}

// inputsAt is a run's inputs_at as stored: NULL for unknown (zero).
func inputsAt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// InputVersion implements store.RunStore: meta.data_version minus the
// bumps of stored runs (migration 00010), and the database's clock, which
// stamps events.recorded_at (now(): the start of the writing
// transaction).
func (s *Store) InputVersion(ctx context.Context) (int64, time.Time, error) {
	var (
		v  int64
		at time.Time
	)
	if err := s.pool.QueryRow(ctx, `SELECT data_version - run_bumps, now() FROM meta`).Scan(&v, &at); err != nil {
		return 0, time.Time{}, fmt.Errorf("postgis input version: %w", translate(ctx, err))
	}
	return v, at.UTC(), nil
}

// LateEvents implements store.RunStore.
func (s *Store) LateEvents(ctx context.Context, q store.LateQuery) (int, error) {
	q, err := check.LateQuery(q)
	if err != nil {
		return 0, err
	}
	var w where
	w.add("occurred_at >= $%d", q.From)
	w.add("occurred_at < $%d", q.To)
	w.add("recorded_at > $%d", q.After)
	w.add("recorded_at <= $%d", q.Through)
	if q.Unit != "" {
		// The expression of the events_units GIN index.
		w.add("ARRAY[region_code, district_code, mahalla_code] @> ARRAY[$%d::text]", q.Unit)
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM events`+w.String(), w.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgis late events: %w", translate(ctx, err))
	}
	return n, nil
}
