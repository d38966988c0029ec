package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/internal/check"
)

var _ store.TokenStore = (*Store)(nil)

// PutToken implements store.TokenStore.
func (s *Store) PutToken(ctx context.Context, t store.Token) error {
	t, err := check.Token(t, time.Now())
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO api_tokens (id, hash, role, name, unit, created_at, expires_at, revoked_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.Hash, t.Role, t.Name, t.Unit, t.CreatedAt.UnixMicro(), microOrNull(t.ExpiresAt), microOrNull(t.RevokedAt))
	if err != nil {
		return fmt.Errorf("sqlite put token %s: %w", t.ID, translate(ctx, err))
	}
	return nil
}

// TokenByHash implements store.TokenStore.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, `SELECT id, hash, role, name, unit, created_at, expires_at, revoked_at
FROM api_tokens WHERE hash = ?`, hash))
	if err != nil {
		return t, fmt.Errorf("sqlite token by hash: %w", translate(ctx, err))
	}
	return t, nil
}

// Tokens implements store.TokenStore.
func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, NULL, role, name, unit, created_at, expires_at, revoked_at
FROM api_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite tokens: %w", translate(ctx, err))
	}
	defer rows.Close()
	out := []store.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite tokens: %w", translate(ctx, err))
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite tokens: %w", translate(ctx, err))
	}
	return out, nil
}

// RevokeToken implements store.TokenStore.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	now := time.Now().UnixMicro()
	res, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, now, id)
	if err != nil {
		return fmt.Errorf("sqlite revoke token %s: %w", id, translate(ctx, err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite revoke token %s: %w", id, translate(ctx, err))
	}
	if n == 0 {
		return fmt.Errorf("sqlite revoke token %s: %w", id, store.ErrNotFound)
	}
	return nil
}

func microOrNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func scanToken(row interface{ Scan(...any) error }) (store.Token, error) {
	var (
		t                store.Token
		created          int64
		expires, revoked sql.NullInt64
	)
	if err := row.Scan(&t.ID, &t.Hash, &t.Role, &t.Name, &t.Unit, &created, &expires, &revoked); err != nil {
		return store.Token{}, err
	}
	t.CreatedAt = time.UnixMicro(created).UTC()
	if expires.Valid {
		e := time.UnixMicro(expires.Int64).UTC()
		t.ExpiresAt = &e
	}
	if revoked.Valid {
		r := time.UnixMicro(revoked.Int64).UTC()
		t.RevokedAt = &r
	}
	return t, nil
}
