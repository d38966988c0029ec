package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/crimemap/crimemap/store"
)

// tokenTests are the store.TokenStore checks; a store that does not
// implement TokenStore skips them.
var tokenTests = []struct {
	name string
	fn   func(t *testing.T, s store.TokenStore)
}{
	{"TokensEmpty", testTokensEmpty},
	{"TokensRoundTrip", testTokensRoundTrip},
	{"TokensRevoke", testTokensRevoke},
	{"TokensConflict", testTokensConflict},
	{"TokensInvalid", testTokensInvalid},
	{"TokensCanceled", testTokensCanceled},
}

func tokenStore(t *testing.T, s store.Store) store.TokenStore {
	t.Helper()
	ts, ok := s.(store.TokenStore)
	if !ok {
		t.Skipf("%s store does not implement store.TokenStore", s.Backend())
	}
	return ts
}

func tokenHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func timePtr(t time.Time) *time.Time { return &t }

// fixtureToken is a token with every field but RevokedAt set, in a zone
// other than UTC and with nanoseconds, as a caller might pass it.
func fixtureToken(id, role string) store.Token {
	tashkent := time.FixedZone("Asia/Tashkent", 5*3600)
	created := time.Date(2026, 1, 2, 3, 4, 5, 123456789, tashkent)
	return store.Token{
		ID: id, Hash: tokenHash("cm_" + id + "_secret"), Role: role, Name: "Qarshi prosecutor's office, analyst Ғалаба",
		CreatedAt: created, ExpiresAt: timePtr(created.Add(720 * time.Hour)),
	}
}

// storedToken is what the store gives back for t: UTC, microseconds.
func storedToken(t store.Token) store.Token {
	t.CreatedAt = t.CreatedAt.UTC().Truncate(time.Microsecond)
	if t.ExpiresAt != nil {
		t.ExpiresAt = timePtr(t.ExpiresAt.UTC().Truncate(time.Microsecond))
	}
	if t.RevokedAt != nil {
		t.RevokedAt = timePtr(t.RevokedAt.UTC().Truncate(time.Microsecond))
	}
	return t
}

func mustPutToken(t *testing.T, s store.TokenStore, tok store.Token) {
	t.Helper()
	if err := s.PutToken(ctx(t), tok); err != nil {
		t.Fatalf("PutToken %s: %v", tok.ID, err)
	}
}

func testTokensEmpty(t *testing.T, s store.TokenStore) {
	toks, err := s.Tokens(ctx(t))
	if err != nil || toks == nil || len(toks) != 0 {
		t.Errorf("Tokens of an empty store = %#v, %v; want an empty non-nil list", toks, err)
	}
	if _, err := s.TokenByHash(ctx(t), tokenHash("nothing")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenByHash of an unknown hash: %v, want ErrNotFound", err)
	}
	if _, err := s.TokenByHash(ctx(t), nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenByHash(nil): %v, want ErrNotFound", err)
	}
	if err := s.RevokeToken(ctx(t), "0badc0de"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeToken of an unknown id: %v, want ErrNotFound", err)
	}
}

func testTokensRoundTrip(t *testing.T, s store.TokenStore) {
	a := fixtureToken("0a1b2c3d", store.RoleAnalyst)
	a.Unit = "1710" // an analyst limited to a region
	b := fixtureToken("ffff0000", store.RoleAdmin)
	b.CreatedAt = a.CreatedAt.Add(-time.Hour) // listed first
	b.ExpiresAt = nil                         // never expires
	b.Name = ""
	c := fixtureToken("z9", store.RoleViewer)
	c.CreatedAt = time.Time{} // becomes now
	c.ExpiresAt = nil
	c.Unit = "1710401" // limited to a territory
	before := time.Now().Add(-time.Second)
	for _, tok := range []store.Token{a, b, c} {
		mustPutToken(t, s, tok)
	}
	got, err := s.TokenByHash(ctx(t), a.Hash)
	if err != nil || !reflect.DeepEqual(got, storedToken(a)) {
		t.Fatalf("TokenByHash = %+v, %v\nwant %+v", got, err, storedToken(a))
	}
	if !got.Active(got.CreatedAt) || got.Active(*got.ExpiresAt) {
		t.Errorf("Active: want active before ExpiresAt and not at it")
	}
	got, err = s.TokenByHash(ctx(t), b.Hash)
	if err != nil || !reflect.DeepEqual(got, storedToken(b)) {
		t.Errorf("TokenByHash (no expiry) = %+v, %v\nwant %+v", got, err, storedToken(b))
	}
	gotC, err := s.TokenByHash(ctx(t), c.Hash)
	if err != nil || gotC.CreatedAt.Before(before) || gotC.CreatedAt.After(time.Now()) || gotC.CreatedAt.Location() != time.UTC {
		t.Errorf("zero CreatedAt stored as %v (%v), want about now in UTC", gotC.CreatedAt, err)
	}
	if gotC.Unit != c.Unit {
		t.Errorf("scoped token came back with unit %q, want %q", gotC.Unit, c.Unit)
	}
	list, err := s.Tokens(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Token{storedToken(b), storedToken(a), gotC}
	for i := range want {
		want[i].Hash = nil
	}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("Tokens =\n%+v\nwant (oldest first, no hashes)\n%+v", list, want)
	}
	// Mutating what a read returned does not touch the store.
	got.Hash[0] ^= 0xff
	if _, err := s.TokenByHash(ctx(t), b.Hash); err != nil {
		t.Errorf("stored token changed through a returned value: %v", err)
	}
}

func testTokensRevoke(t *testing.T, s store.TokenStore) {
	a := fixtureToken("0a1b2c3d", store.RoleAnalyst)
	other := fixtureToken("0a1b2c3e", store.RoleAnalyst)
	mustPutToken(t, s, a)
	mustPutToken(t, s, other)
	before := time.Now().Add(-time.Second)
	if err := s.RevokeToken(ctx(t), a.ID); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	got, err := s.TokenByHash(ctx(t), a.Hash)
	if err != nil || got.RevokedAt == nil || got.RevokedAt.Before(before) || got.RevokedAt.After(time.Now()) {
		t.Fatalf("revoked token = %+v, %v; want RevokedAt about now", got, err)
	}
	if got.Active(got.CreatedAt) {
		t.Errorf("a revoked token is Active")
	}
	first := *got.RevokedAt
	time.Sleep(2 * time.Millisecond)
	if err := s.RevokeToken(ctx(t), a.ID); err != nil {
		t.Errorf("revoking twice: %v, want nil", err)
	}
	if again, _ := s.TokenByHash(ctx(t), a.Hash); again.RevokedAt == nil || !again.RevokedAt.Equal(first) {
		t.Errorf("revoking twice moved RevokedAt from %v to %v", first, again.RevokedAt)
	}
	if o, err := s.TokenByHash(ctx(t), other.Hash); err != nil || o.RevokedAt != nil {
		t.Errorf("revoking %s touched %s: %+v, %v", a.ID, other.ID, o, err)
	}
	// A token put already revoked keeps that time.
	r := fixtureToken("0a1b2c3f", store.RoleViewer)
	r.RevokedAt = timePtr(r.CreatedAt.Add(time.Minute))
	mustPutToken(t, s, r)
	if got, err := s.TokenByHash(ctx(t), r.Hash); err != nil || !reflect.DeepEqual(got, storedToken(r)) {
		t.Errorf("token put revoked = %+v, %v; want %+v", got, err, storedToken(r))
	}
}

func testTokensConflict(t *testing.T, s store.TokenStore) {
	a := fixtureToken("0a1b2c3d", store.RoleAnalyst)
	mustPutToken(t, s, a)
	sameID := fixtureToken("0a1b2c3d", store.RoleAdmin)
	sameID.Hash = tokenHash("another secret")
	if err := s.PutToken(ctx(t), sameID); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutToken with a stored ID: %v, want ErrConflict", err)
	}
	sameHash := fixtureToken("1234abcd", store.RoleAdmin)
	sameHash.Hash = a.Hash
	if err := s.PutToken(ctx(t), sameHash); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutToken with a stored hash: %v, want ErrConflict", err)
	}
	if got, err := s.TokenByHash(ctx(t), a.Hash); err != nil || got.Role != store.RoleAnalyst {
		t.Errorf("after conflicts the token is %+v, %v; want the first one unchanged", got, err)
	}
}

func testTokensInvalid(t *testing.T, s store.TokenStore) {
	base := fixtureToken("0a1b2c3d", store.RoleAnalyst)
	tests := []struct {
		name string
		edit func(*store.Token)
	}{
		{"empty id", func(t *store.Token) { t.ID = "" }},
		{"id with _", func(t *store.Token) { t.ID = "ab_cd" }},
		{"id upper case", func(t *store.Token) { t.ID = "ABCD" }},
		{"id too long", func(t *store.Token) { t.ID = string(make([]byte, 65)) }},
		{"no hash", func(t *store.Token) { t.Hash = nil }},
		{"short hash", func(t *store.Token) { t.Hash = t.Hash[:16] }},
		{"unknown role", func(t *store.Token) { t.Role = "root" }},
		{"empty role", func(t *store.Token) { t.Role = "" }},
		{"admin limited to a unit", func(t *store.Token) { t.Role, t.Unit = store.RoleAdmin, "1710" }},
		{"expires at creation", func(t *store.Token) { t.ExpiresAt = timePtr(t.CreatedAt) }},
		{"expires before creation", func(t *store.Token) { t.ExpiresAt = timePtr(t.CreatedAt.Add(-time.Hour)) }},
	}
	for _, tt := range tests {
		tok := base
		tok.Hash = append([]byte(nil), base.Hash...)
		tt.edit(&tok)
		if err := s.PutToken(ctx(t), tok); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: PutToken error %v, want ErrInvalid", tt.name, err)
		}
	}
	if toks, err := s.Tokens(ctx(t)); err != nil || len(toks) != 0 {
		t.Errorf("invalid puts left %d tokens (%v)", len(toks), err)
	}
}

func testTokensCanceled(t *testing.T, s store.TokenStore) {
	a := fixtureToken("0a1b2c3d", store.RoleAnalyst)
	mustPutToken(t, s, a)
	cctx, cancel := context.WithCancel(ctx(t))
	cancel()
	if err := s.PutToken(cctx, fixtureToken("1234abcd", store.RoleAnalyst)); !errors.Is(err, context.Canceled) {
		t.Errorf("PutToken with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := s.TokenByHash(cctx, a.Hash); !errors.Is(err, context.Canceled) {
		t.Errorf("TokenByHash with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := s.Tokens(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Tokens with a canceled context: %v, want context.Canceled", err)
	}
	if err := s.RevokeToken(cctx, a.ID); !errors.Is(err, context.Canceled) {
		t.Errorf("RevokeToken with a canceled context: %v, want context.Canceled", err)
	}
	if got, err := s.TokenByHash(ctx(t), a.Hash); err != nil || got.RevokedAt != nil {
		t.Errorf("canceled revoke changed the token: %+v, %v", got, err)
	}
	if toks, err := s.Tokens(ctx(t)); err != nil || len(toks) != 1 {
		t.Errorf("canceled put left %d tokens (%v), want 1", len(toks), err)
	}
}
