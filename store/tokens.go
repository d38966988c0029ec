package store

import (
	"context"
	"time"
)

// Token roles, from the least to the most trusted. A viewer token
// identifies a client but sees only public data; an analyst token also
// reads raw events; admin can do everything an analyst can.
const (
	RoleViewer  = "viewer"
	RoleAnalyst = "analyst"
	RoleAdmin   = "admin"
)

// Token is an API bearer token as stored: never the secret, only the
// SHA-256 hash of the whole token string the client sends.
type Token struct {
	// ID is the public part of the token (1 to 64 characters 0-9, a-z),
	// shown in lists and logs and used to revoke it.
	ID string
	// Hash is the SHA-256 of the whole token (32 bytes). Tokens leaves it
	// nil.
	Hash []byte
	// Role is RoleViewer, RoleAnalyst or RoleAdmin.
	Role string
	// Name says whom or what the token is for (free text, may be empty).
	Name string
	// Unit limits the token to a territory: the code of an admin unit
	// (region, district or mahalla) inside which it gets exact answers;
	// elsewhere it gets the public view. "" is everywhere. An admin token
	// is never limited (ErrInvalid).
	Unit string
	// CreatedAt is when the token was made; ExpiresAt, when set, is the
	// instant it stops working (after CreatedAt); RevokedAt is set by
	// RevokeToken.
	CreatedAt time.Time
	ExpiresAt *time.Time
	RevokedAt *time.Time
}

// Active reports whether the token works at now: neither revoked nor
// expired.
func (t Token) Active(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

// TokenStore persists API tokens. Like RunStore it is separate from Store:
// both backends implement it and callers get it with a type assertion
// (st.(store.TokenStore)). Times come back in UTC, truncated to
// microseconds.
type TokenStore interface {
	// PutToken stores a new token. ErrInvalid for an ID that is empty,
	// longer than 64 or not 0-9/a-z, a Hash that is not 32 bytes, an
	// unknown role, an admin token with a Unit, or ExpiresAt not after
	// CreatedAt; ErrConflict when the ID or the hash is already stored.
	// Whether Unit names a stored unit is the caller's check. A zero
	// CreatedAt becomes the current time.
	PutToken(ctx context.Context, t Token) error
	// TokenByHash returns the token with that hash, whether active or
	// not (the caller checks Active); ErrNotFound when there is none.
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	// Tokens lists every token, revoked and expired ones included,
	// oldest first (CreatedAt, then ID), without hashes.
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken marks the token revoked now; revoking a revoked token
	// keeps its first revocation time. ErrNotFound when there is no
	// token with that ID.
	RevokeToken(ctx context.Context, id string) error
}
