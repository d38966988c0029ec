package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/crimemap/crimemap/store"
)

// Role is what a request may see, from its bearer token. Roles are ordered:
// a role can do everything the roles below it can.
type Role uint8

const (
	// RolePublic is a request without a token: privacy-safe aggregates only.
	RolePublic Role = iota
	// RoleViewer identifies a client (a token) but sees only public data.
	RoleViewer
	// RoleAnalyst also reads raw events (/v1/events, the events tile layer).
	RoleAnalyst
	// RoleAdmin can do everything.
	RoleAdmin
)

func (r Role) String() string {
	switch r {
	case RolePublic:
		return "public"
	case RoleViewer:
		return store.RoleViewer
	case RoleAnalyst:
		return store.RoleAnalyst
	case RoleAdmin:
		return store.RoleAdmin
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// ParseRole reads a token role ("viewer", "analyst", "admin"); "public" is
// not a token role.
func ParseRole(s string) (Role, error) {
	switch s {
	case store.RoleViewer:
		return RoleViewer, nil
	case store.RoleAnalyst:
		return RoleAnalyst, nil
	case store.RoleAdmin:
		return RoleAdmin, nil
	}
	return RolePublic, fmt.Errorf("role %q; allowed: %s, %s, %s", s, store.RoleViewer, store.RoleAnalyst, store.RoleAdmin)
}

// Token strings are cm_<id>_<secret>: id is tokenIDBytes random bytes in
// lower-case hex (public: lists, logs, revocation), secret tokenSecretBytes
// from crypto/rand in unpadded base64url. Only the SHA-256 of the whole
// string is stored.
const (
	tokenPrefix      = "cm_"
	tokenIDBytes     = 4
	tokenSecretBytes = 32
	// tokenMaxLen bounds what the middleware hashes; real tokens are 55.
	tokenMaxLen = 128
)

// NewToken makes a token of role for name, created at now, expiring after
// ttl (never when ttl is 0), valid everywhere. It returns the token string,
// to be shown to its owner once, and the store.Token to put (which holds
// only its hash). When PutToken reports store.ErrConflict (an ID taken,
// about one in 2^32 per stored token), call NewToken again.
func NewToken(role Role, name string, now time.Time, ttl time.Duration) (string, store.Token, error) {
	return NewScopedToken(role, name, "", now, ttl)
}

// ErrAdminScoped refuses an admin token limited to a territory: admin
// writes (classification runs) colour the whole public map.
var ErrAdminScoped = errors.New("an admin token cannot be limited to a territory")

// NewScopedToken is NewToken limited to the admin unit with code unit
// ("" for everywhere): inside it the token's role applies, elsewhere it
// gets the public view (UnitScopeFrom). The caller checks that the unit
// exists. An admin token cannot be limited (ErrAdminScoped).
func NewScopedToken(role Role, name, unit string, now time.Time, ttl time.Duration) (string, store.Token, error) {
	if role < RoleViewer || role > RoleAdmin {
		return "", store.Token{}, fmt.Errorf("new token: role %v cannot be given to a token", role)
	}
	if role == RoleAdmin && unit != "" {
		return "", store.Token{}, fmt.Errorf("new token for unit %q: %w", unit, ErrAdminScoped)
	}
	if ttl < 0 {
		return "", store.Token{}, fmt.Errorf("new token: negative lifetime %v", ttl)
	}
	var b [tokenIDBytes + tokenSecretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", store.Token{}, fmt.Errorf("new token: %w", err)
	}
	id := hex.EncodeToString(b[:tokenIDBytes])
	secret := tokenPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(b[tokenIDBytes:])
	t := store.Token{ID: id, Hash: HashToken(secret), Role: role.String(), Name: name, Unit: unit, CreatedAt: now.UTC()}
	if ttl > 0 {
		e := t.CreatedAt.Add(ttl)
		t.ExpiresAt = &e
	}
	return secret, t, nil
}

// HashToken is the SHA-256 of the whole token string, as stored.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// parseToken checks a token string's shape and returns its ID.
func parseToken(tok string) (id string, ok bool) {
	if len(tok) > tokenMaxLen {
		return "", false
	}
	rest, ok := strings.CutPrefix(tok, tokenPrefix)
	if !ok {
		return "", false
	}
	id, secret, ok := strings.Cut(rest, "_") // the secret may hold '_'; the id never does
	if !ok || id == "" {
		return "", false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return "", false
		}
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(secret)
	if err != nil || len(raw) != tokenSecretBytes {
		return "", false
	}
	return id, true
}

// AuthError is a request without the role an endpoint needs: 401 when it
// has no valid token (no token, or an unknown, expired or revoked one),
// 403 when its valid token's role is too low.
type AuthError struct {
	Need Role   // the role needed; RolePublic for an invalid token
	Have Role   // the request's role
	What string // what needs it, e.g. "/v1/events (raw events)"
	// Invalid is set for a token that was sent but is malformed, unknown,
	// expired or revoked.
	Invalid bool
}

func (e *AuthError) Error() string {
	if e.Invalid {
		return "invalid bearer token: unknown, expired or revoked. Tokens look like cm_<id>_<secret>; " +
			"ask an administrator for a new one (`crimemap token create --role analyst`)"
	}
	how := fmt.Sprintf("create one with `crimemap token create --role %s` and send it as Authorization: Bearer <token>", e.Need)
	if e.Have == RolePublic {
		return fmt.Sprintf("%s needs %s token: %s", e.What, article(e.Need), how)
	}
	return fmt.Sprintf("%s needs %s token, and this token's role is %s: %s", e.What, article(e.Need), e.Have, how)
}

func article(r Role) string {
	if s := r.String(); strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + r.String()
}

// status is 401 without a valid token, 403 with one of a lower role.
func (e *AuthError) status() int {
	if e.Invalid || e.Have == RolePublic {
		return http.StatusUnauthorized
	}
	return http.StatusForbidden
}

// challenge is the WWW-Authenticate header (RFC 6750).
func (e *AuthError) challenge() string {
	switch {
	case e.Invalid:
		return `Bearer realm="crimemap", error="invalid_token", error_description="unknown, expired or revoked token"`
	case e.Have == RolePublic:
		return `Bearer realm="crimemap"`
	}
	return fmt.Sprintf(`Bearer realm="crimemap", error="insufficient_scope", error_description="needs %s token"`, article(e.Need))
}

// principal is who made a request, found once per request by authenticate.
type principal struct {
	role    Role
	tokenID string // "" for public requests
	unit    string // the token's territory; "" for everywhere (and public requests)
}

type principalKey struct{}

// RoleFrom returns the role of the request whose context is ctx:
// RolePublic without a token (or outside the auth middleware).
func RoleFrom(ctx context.Context) Role {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p.role
}

// UnitScopeFrom returns the territory the request's token is limited to:
// the code of an admin unit, inside which the token's role applies (an
// analyst gets exact answers there and the public view elsewhere). It is
// "" without a token and for a token valid everywhere.
func UnitScopeFrom(ctx context.Context) string {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p.unit
}

// tokenIDFrom returns the ID of the request's token, "" without one.
func tokenIDFrom(ctx context.Context) string {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p.tokenID
}

// inScope reports whether the unit with code lies in the request's
// territory (UnitScopeFrom): always for a request without a scope;
// otherwise when code is the scope's unit or its parents, read from the
// store, lead to it. An unknown code is outside.
func (s *Server) inScope(ctx context.Context, code string) (bool, error) {
	scope := UnitScopeFrom(ctx)
	if scope == "" || code == scope {
		return true, nil
	}
	if s.cfg.Store == nil {
		return false, nil
	}
	for range 8 { // region > district > mahalla: a few steps at most
		u, err := s.cfg.Store.Unit(ctx, code)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("territory of the token: unit %q: %w", code, err)
		case u.ParentCode == "":
			return false, nil
		case u.ParentCode == scope:
			return true, nil
		}
		code = u.ParentCode
	}
	return false, nil
}

// needRole returns nil when the request's role is at least need, an
// *AuthError otherwise (401 without a token, 403 with a lower one). what
// names the resource for the message, e.g. "the events layer". Handlers
// that guard part of their answer (a tile layer) call it; whole routes
// use s.requireRole.
func needRole(ctx context.Context, need Role, what string) error {
	if have := RoleFrom(ctx); have < need {
		return &AuthError{Need: need, Have: have, What: what}
	}
	return nil
}

// requireRole guards a route: requests below need get the *AuthError of
// needRole. Allowed requests are logged with their token ID (an audit
// trail of who read what) and answers are marked private: they depend on
// the Authorization header and must not be shared by caches.
func (s *Server) requireRole(need Role, what string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") == "" { // authenticate added it otherwise
				w.Header().Add("Vary", "Authorization")
			}
			if err := needRole(r.Context(), need, what); err != nil {
				s.writeError(w, r, err)
				return
			}
			w.Header().Set("Cache-Control", "private, no-store")
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "authorized",
				slog.String("token_id", tokenIDFrom(r.Context())),
				slog.String("role", RoleFrom(r.Context()).String()),
				slog.String("unit", UnitScopeFrom(r.Context())),
				slog.String("path", r.URL.Path))
			next.ServeHTTP(w, r)
		})
	}
}

// authenticate reads the bearer token, if any, and puts the request's
// role in its context (RoleFrom). Without an Authorization header the
// request is public and the store is not asked. A token that is malformed,
// unknown, expired or revoked gets 401 on every route, with one message
// that does not say which. The token is looked up once per request; there
// is no cache across requests, so a revocation takes effect at once. Only
// when the store cannot answer does a token verified in the last
// verifiedFor keep working (see verified): the routes the in-memory
// snapshot answers stay up for analysts during a store outage, as they do
// for the public.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Authorization")
		p, err := s.lookupToken(r.Context(), h)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// lookupToken checks an Authorization header value. It returns an
// *AuthError (Invalid) for a bad token, and other errors only when the
// store cannot answer.
func (s *Server) lookupToken(ctx context.Context, header string) (principal, error) {
	reject := func(reason, id string) (principal, error) {
		// The reason goes to the log only; the client learns nothing
		// beyond "unknown, expired or revoked".
		s.log.LogAttrs(ctx, slog.LevelWarn, "rejected bearer token",
			slog.String("reason", reason), slog.String("token_id", id))
		return principal{}, &AuthError{Invalid: true}
	}
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return reject("not a bearer token", "")
	}
	tok = strings.TrimSpace(tok)
	id, ok := parseToken(tok)
	if !ok {
		return reject("malformed", "")
	}
	ts, ok := s.cfg.Store.(store.TokenStore)
	if s.cfg.Store == nil || !ok {
		return reject("the store keeps no tokens", id)
	}
	hash := HashToken(tok)
	t, err := ts.TokenByHash(ctx, hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.verified.forget(hash)
		return reject("unknown", id)
	case err != nil:
		if ctx.Err() != nil {
			return principal{}, fmt.Errorf("token %s: %w", id, err)
		}
		if p, ok := s.verified.get(hash, s.cfg.Now()); ok {
			s.log.LogAttrs(ctx, slog.LevelWarn, "store unavailable: bearer token accepted from its last check",
				slog.String("token_id", id), slog.Any("err", err))
			return p, nil
		}
		return principal{}, fmt.Errorf("cannot check the bearer token now: %w: %w", errUnavailable, err)
	}
	// The store found the row by its hash; compare again in constant time
	// so that nothing depends on how the database matched it.
	if subtle.ConstantTimeCompare(t.Hash, hash) != 1 || t.ID != id {
		return reject("hash or id mismatch", id)
	}
	now := s.cfg.Now()
	switch {
	case t.RevokedAt != nil:
		s.verified.forget(hash)
		return reject("revoked", id)
	case !t.Active(now):
		s.verified.forget(hash)
		return reject("expired", id)
	}
	role, err := ParseRole(t.Role)
	if err != nil {
		return reject("stored "+err.Error(), id)
	}
	if role == RoleAdmin && t.Unit != "" { // the stores refuse it; never trust it
		return reject("stored admin token limited to unit "+t.Unit, id)
	}
	p := principal{role: role, tokenID: t.ID, unit: t.Unit}
	s.verified.put(hash, p, now, t.ExpiresAt)
	return p, nil
}

// verifiedFor is how long a token's last successful check stands in for
// the store while the store cannot answer.
const verifiedFor = 15 * time.Minute

// maxVerified bounds the remembered checks.
const maxVerified = 10_000

// verifiedTokens remembers each token's last successful check (by hash),
// used only while the store cannot answer.
type verifiedTokens struct {
	mu sync.Mutex
	m  map[string]verifiedToken
}

type verifiedToken struct {
	p       principal
	at      time.Time
	expires *time.Time
}

func (v *verifiedTokens) put(hash []byte, p principal, now time.Time, expires *time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil || len(v.m) >= maxVerified {
		v.m = make(map[string]verifiedToken) // forgetting only costs a check
	}
	v.m[string(hash)] = verifiedToken{p: p, at: now, expires: expires}
}

// get returns the principal of a token checked within verifiedFor and
// still not expired.
func (v *verifiedTokens) get(hash []byte, now time.Time) (principal, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.m[string(hash)]
	if !ok || now.Sub(e.at) > verifiedFor || (e.expires != nil && !now.Before(*e.expires)) {
		return principal{}, false
	}
	return e.p, true
}

func (v *verifiedTokens) forget(hash []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, string(hash))
}
