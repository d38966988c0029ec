package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/internal/check"
)

var _ store.RunStore = (*Store)(nil)

const runMetaCols = `id, period, period_from, period_to, unit, policy_name, policy_version,
  snapshot_version, data_version, created_at, created_by`

const runNewest = ` ORDER BY created_at DESC, id DESC`

// PutRun implements store.RunStore.
func (s *Store) PutRun(ctx context.Context, run classify.Run) (int64, error) {
	run, doc, c, err := check.Run(run, time.Now())
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.db.QueryRowContext(ctx, `INSERT INTO classification_runs (period, period_from, period_to, unit,
  policy_name, policy_version, snapshot_version, data_version, created_at, created_by, red, yellow, green, results)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		run.Period, run.PeriodFrom.UnixMicro(), run.PeriodTo.UnixMicro(), run.Unit, run.PolicyName, run.PolicyVersion,
		int64(run.SnapshotVersion), run.DataVersion, run.CreatedAt.UnixMicro(), run.CreatedBy, c.Red, c.Yellow, c.Green, string(doc)).Scan(&id)
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
		doc               []byte
	)
	if err := row.Scan(&r.ID, &r.Period, &from, &to, &r.Unit, &r.PolicyName, &r.PolicyVersion,
		&snapshot, &r.DataVersion, &created, &r.CreatedBy, &doc); err != nil {
		return classify.Run{}, err
	}
	r.SnapshotVersion = uint64(snapshot)
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
