package postgis

import (
	"context"
	"fmt"
	"time"

	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/internal/check"
	"github.com/jackc/pgx/v5"
)

var _ store.TokenStore = (*Store)(nil)

// PutToken implements store.TokenStore.
func (s *Store) PutToken(ctx context.Context, t store.Token) error {
	t, err := check.Token(t, time.Now())
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO api_tokens (id, hash, role, name, unit, created_at, expires_at, revoked_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, t.ID, t.Hash, t.Role, t.Name, t.Unit, t.CreatedAt, t.ExpiresAt, t.RevokedAt)
	if err != nil {
		return fmt.Errorf("postgis put token %s: %w", t.ID, translate(ctx, err))
	}
	return nil
}

// TokenByHash implements store.TokenStore.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT id, hash, role, name, unit, created_at, expires_at, revoked_at
FROM api_tokens WHERE hash = $1`, hash))
	if err != nil {
		return t, fmt.Errorf("postgis token by hash: %w", translate(ctx, err))
	}
	return t, nil
}

// Tokens implements store.TokenStore.
func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, NULL::bytea, role, name, unit, created_at, expires_at, revoked_at
FROM api_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgis tokens: %w", translate(ctx, err))
	}
	defer rows.Close()
	out := []store.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("postgis tokens: %w", translate(ctx, err))
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis tokens: %w", translate(ctx, err))
	}
	return out, nil
}

// RevokeToken implements store.TokenStore.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	tag, err := s.pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, id, now)
	if err != nil {
		return fmt.Errorf("postgis revoke token %s: %w", id, translate(ctx, err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgis revoke token %s: %w", id, store.ErrNotFound)
	}
	return nil
}

func scanToken(row pgx.Row) (store.Token, error) {
	var t store.Token
	if err := row.Scan(&t.ID, &t.Hash, &t.Role, &t.Name, &t.Unit, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt); err != nil {
		return store.Token{}, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	if t.ExpiresAt != nil {
		e := t.ExpiresAt.UTC()
		t.ExpiresAt = &e
	}
	if t.RevokedAt != nil {
		r := t.RevokedAt.UTC()
		t.RevokedAt = &r
	}
	return t, nil
}
