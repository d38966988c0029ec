package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/internal/check"
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
	err = s.db.QueryRowContext(ctx, `INSERT INTO classification_runs (period, period_from, period_to, unit,
  policy_name, policy_version, snapshot_version, data_version, input_version, inputs_at, created_at, created_by, red, yellow, green, results)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		run.Period, run.PeriodFrom.UnixMicro(), run.PeriodTo.UnixMicro(), run.Unit, run.PolicyName, run.PolicyVersion,
		int64(run.SnapshotVersion), run.DataVersion, inputVersion(run.InputVersion), inputsAt(run.InputsAt), run.CreatedAt.UnixMicro(), run.CreatedBy, c.Red, c.Yellow, c.Green, string(doc)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("sqlite put run %s: %w", run.Period, translate(ctx, err))
	}
	return id, nil
}

// Runs implements store.RunStore.
func (s *Store) Runs(ctx context.Context, q store.RunQuery) ([]classify.Run, error) {
	query := `SELECT ` + runMetaCols + `, NULL FROM classification_runs`
	var args []any
	if q.Period != "" {
		query += ` WHERE period = ?`
		args = append(args, q.Period)
	}
	args = append(args, q.NormalizeLimit())
	rows, err := s.db.QueryContext(ctx, query+runNewest+` LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite runs: %w", translate(ctx, err))
	}
	defer rows.Close()
	out := []classify.Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite runs: %w", translate(ctx, err))
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite runs: %w", translate(ctx, err))
	}
	return out, nil
}

// Run implements store.RunStore.
func (s *Store) Run(ctx context.Context, id int64) (classify.Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runMetaCols+`, results FROM classification_runs WHERE id = ?`, id))
	if err != nil {
		return r, fmt.Errorf("sqlite run %d: %w", id, translate(ctx, err))
	}
	return r, nil
}

// LatestRun implements store.RunStore.
func (s *Store) LatestRun(ctx context.Context, period string) (classify.Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runMetaCols+`, results FROM classification_runs
WHERE period = ? ORDER BY unit = '' DESC, created_at DESC, id DESC LIMIT 1`, period))
	if err != nil {
		return r, fmt.Errorf("sqlite latest run of %q: %w", period, translate(ctx, err))
	}
	return r, nil
}

func scanRun(row interface{ Scan(...any) error }) (classify.Run, error) {
	var (
		r                 classify.Run
		from, to, created int64
		snapshot          int64
		input, inputsAt   sql.NullInt64
		doc               []byte
	)
	if err := row.Scan(&r.ID, &r.Period, &from, &to, &r.Unit, &r.PolicyName, &r.PolicyVersion,
		&snapshot, &r.DataVersion, &input, &inputsAt, &created, &r.CreatedBy, &doc); err != nil {
		return classify.Run{}, err
	}
	r.SnapshotVersion, r.InputVersion = uint64(snapshot), input.Int64
	if inputsAt.Valid {
		r.InputsAt = time.UnixMicro(inputsAt.Int64).UTC()
	}
	r.PeriodFrom, r.PeriodTo, r.CreatedAt = time.UnixMicro(from).UTC(), time.UnixMicro(to).UTC(), time.UnixMicro(created).UTC()
	if doc != nil {
		res, err := check.RunResults(doc)
		if err != nil {
			return classify.Run{}, fmt.Errorf("run %d: %w", r.ID, err)
		}
		r.Results = res
	}
	return r, nil
}

// inputVersion is a run's input version as stored: NULL for unknown (0).
func inputVersion(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// inputsAt is a run's inputs_at as stored: NULL for unknown (zero).
func inputsAt(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// InputVersion implements store.RunStore: meta.data_version minus the
// bumps of stored runs (migration 00010), and this process's clock, which
// stamps the events it records (a store is one file on this machine).
func (s *Store) InputVersion(ctx context.Context) (int64, time.Time, error) {
	at := time.Now().UTC().Truncate(time.Microsecond)
	var v int64
	if err := s.db.QueryRowContext(ctx, `SELECT data_version - run_bumps FROM meta`).Scan(&v); err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite input version: %w", translate(ctx, err))
	}
	return v, at, nil
}

// LateEvents implements store.RunStore.
func (s *Store) LateEvents(ctx context.Context, q store.LateQuery) (int, error) {
	q, err := check.LateQuery(q)
	if err != nil {
		return 0, err
	}
	query := `SELECT count(*) FROM events WHERE occurred_at >= ? AND occurred_at < ? AND recorded_at > ? AND recorded_at <= ?`
	args := []any{q.From.UnixMicro(), q.To.UnixMicro(), q.After.UnixMicro(), q.Through.UnixMicro()}
	if q.Unit != "" {
		query += ` AND (region_code = ? OR district_code = ? OR mahalla_code = ?)`
		args = append(args, q.Unit, q.Unit, q.Unit)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite late events: %w", translate(ctx, err))
	}
	return n, nil
}
