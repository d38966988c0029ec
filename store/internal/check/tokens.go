package check

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/crimemap/crimemap/store"
)

// Token validates t for store.TokenStore.PutToken and returns it as both
// stores write it: CreatedAt set (now when zero), times in UTC truncated to
// microseconds.
func Token(t store.Token, now time.Time) (store.Token, error) {
	if err := TokenID(t.ID); err != nil {
		return t, err
	}
	switch {
	case len(t.Hash) != sha256.Size:
		return t, fmt.Errorf("token %s: hash of %d bytes, want %d (SHA-256): %w", t.ID, len(t.Hash), sha256.Size, store.ErrInvalid)
	case t.Role != store.RoleViewer && t.Role != store.RoleAnalyst && t.Role != store.RoleAdmin:
		return t, fmt.Errorf("token %s: role %q; allowed: %s, %s, %s: %w", t.ID, t.Role, store.RoleViewer, store.RoleAnalyst, store.RoleAdmin, store.ErrInvalid)
	case t.Role == store.RoleAdmin && t.Unit != "":
		return t, fmt.Errorf("token %s: an admin token cannot be limited to a territory (unit %q): %w", t.ID, t.Unit, store.ErrInvalid)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now
	}
	t.CreatedAt = microUTC(t.CreatedAt)
	if t.ExpiresAt != nil {
		e := microUTC(*t.ExpiresAt)
		if !e.After(t.CreatedAt) {
			return t, fmt.Errorf("token %s: expires %v, not after its creation %v: %w", t.ID, e, t.CreatedAt, store.ErrInvalid)
		}
		t.ExpiresAt = &e
	}
	if t.RevokedAt != nil {
		r := microUTC(*t.RevokedAt)
		t.RevokedAt = &r
	}
	t.Hash = append([]byte(nil), t.Hash...)
	return t, nil
}

// TokenID checks a token ID: 1 to 64 characters 0-9, a-z (no '_', which
// separates the parts of a token string).
func TokenID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("token id %q: want 1 to 64 characters: %w", id, store.ErrInvalid)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return fmt.Errorf("token id %q: want only 0-9 and a-z: %w", id, store.ErrInvalid)
		}
	}
	return nil
}
