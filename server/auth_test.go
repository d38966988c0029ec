package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crimemap/crimemap/server"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/sqlite"
)

// putToken stores a new token of role created at created (now when zero),
// expiring ttl later (never when 0), and returns the token string.
func putToken(t *testing.T, st store.TokenStore, role server.Role, ttl time.Duration, created ...time.Time) string {
	t.Helper()
	now := time.Now()
	if len(created) > 0 {
		now = created[0]
	}
	tok, rec, err := server.NewToken(role, "test "+role.String(), now, ttl)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutToken(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	return tok
}

// countingStore counts token lookups and can fail them.
type countingStore struct {
	*sqlite.Store
	lookups atomic.Int64
	fail    error
}

func (c *countingStore) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	c.lookups.Add(1)
	if c.fail != nil {
		return store.Token{}, c.fail
	}
	return c.Store.TokenByHash(ctx, hash)
}

func TestAuth(t *testing.T) {
	ts, st := newTestServerStore(t, server.Config{})
	analyst := putToken(t, st, server.RoleAnalyst, 720*time.Hour)
	admin := putToken(t, st, server.RoleAdmin, 0)
	viewer := putToken(t, st, server.RoleViewer, 0)
	expired := putToken(t, st, server.RoleAnalyst, time.Hour, time.Now().Add(-2*time.Hour))
	revoked := putToken(t, st, server.RoleAnalyst, 0)
	if err := st.RevokeToken(t.Context(), strings.Split(revoked, "_")[1]); err != nil {
		t.Fatal(err)
	}
	// Right shape, right ID, wrong secret.
	forged := analyst[:len(analyst)-4] + "AAAA"
	if forged == analyst {
		forged = analyst[:len(analyst)-4] + "BBBB"
	}
	const invalidMsg = "unknown, expired or revoked"
	invalid := `error="invalid_token"`

	tests := []struct {
		name      string
		path      string
		header    string // Authorization
		status    int
		challenge string // in WWW-Authenticate
		contains  []string
	}{
		{"public events", "/v1/events", "", 401, `Bearer realm="crimemap"`,
			[]string{"/v1/events (raw events) needs an analyst token", "crimemap token create --role analyst", "Authorization: Bearer"}},
		{"analyst events", "/v1/events", "Bearer " + analyst, 200, "", []string{`"total":5`}},
		{"admin events", "/v1/events", "Bearer " + admin, 200, "", []string{`"total":5`}},
		{"scheme case", "/v1/events", "bearer " + analyst, 200, "", []string{`"total":5`}},
		{"viewer events", "/v1/events", "Bearer " + viewer, 403, `error="insufficient_scope"`,
			[]string{"needs an analyst token", "this token's role is viewer", "crimemap token create --role analyst"}},
		{"expired", "/v1/events", "Bearer " + expired, 401, invalid, []string{invalidMsg}},
		{"revoked", "/v1/events", "Bearer " + revoked, 401, invalid, []string{invalidMsg}},
		{"forged secret", "/v1/events", "Bearer " + forged, 401, invalid, []string{invalidMsg}},
		{"unknown id", "/v1/events", "Bearer cm_00000000_" + strings.SplitN(analyst, "_", 3)[2], 401, invalid, []string{invalidMsg}},
		{"malformed", "/v1/events", "Bearer not-a-token", 401, invalid, []string{invalidMsg}},
		{"empty bearer", "/v1/events", "Bearer ", 401, invalid, []string{invalidMsg}},
		{"no scheme", "/v1/events", analyst, 401, invalid, []string{invalidMsg}},
		{"basic", "/v1/events", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", 401, invalid, []string{invalidMsg}},
		{"short secret", "/v1/events", "Bearer cm_0a1b2c3d_AAAA", 401, invalid, []string{invalidMsg}},
		{"upper-case id", "/v1/events", "Bearer " + strings.ToUpper(analyst[:11]) + analyst[11:], 401, invalid, []string{invalidMsg}},
		{"too long", "/v1/events", "Bearer " + analyst + strings.Repeat("A", 1000), 401, invalid, []string{invalidMsg}},
		// Every route checks a token that is sent; public routes need none.
		{"public units", "/v1/units?level=district", "", 200, "", []string{`"count":2`}},
		{"viewer units", "/v1/units?level=district", "Bearer " + viewer, 200, "", []string{`"count":2`}},
		{"revoked units", "/v1/units?level=district", "Bearer " + revoked, 401, invalid, []string{invalidMsg}},
		{"malformed healthz", "/healthz", "Bearer x", 401, invalid, []string{invalidMsg}},
	}
	var invalidBody string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+tt.path, nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Error  string `json:"error"`
				Status int    `json:"status"`
			}
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("status %d, body not JSON: %v: %s", resp.StatusCode, err, raw)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, raw)
			}
			for _, c := range tt.contains {
				if !strings.Contains(string(raw), c) {
					t.Errorf("body lacks %q: %s", c, raw)
				}
			}
			ch := resp.Header.Get("WWW-Authenticate")
			if tt.challenge == "" && ch != "" || !strings.Contains(ch, tt.challenge) {
				t.Errorf("WWW-Authenticate %q, want %q", ch, tt.challenge)
			}
			if tt.status >= 400 && body.Status != tt.status {
				t.Errorf("body status %d, want %d", body.Status, tt.status)
			}
			if tt.status == 401 && tt.challenge == invalid {
				// One message for every bad token: it never says which part was wrong.
				if invalidBody == "" {
					invalidBody = body.Error
				} else if body.Error != invalidBody {
					t.Errorf("message %q differs from %q", body.Error, invalidBody)
				}
			}
			if strings.HasPrefix(tt.path, "/v1/events") && !strings.Contains(resp.Header.Get("Vary"), "Authorization") {
				t.Errorf("Vary %q lacks Authorization", resp.Header.Get("Vary"))
			}
			if tt.status == 200 && strings.HasPrefix(tt.path, "/v1/events") && !strings.Contains(resp.Header.Get("Cache-Control"), "private") {
				t.Errorf("Cache-Control %q, want private", resp.Header.Get("Cache-Control"))
			}
		})
	}
}

// TestAuthLookups checks the store is asked once per request that sends a
// token, never for one that does not, and again on the next request (no
// cache: a revocation takes effect at once); a failing store is a 503,
// not a 401 or 500.
func TestAuthLookups(t *testing.T) {
	_, st := newTestServerStore(t, server.Config{})
	cs := &countingStore{Store: st}
	ts := httptest.NewServer(server.New(server.Config{Store: cs}).Handler())
	t.Cleanup(ts.Close)
	analyst := putToken(t, st, server.RoleAnalyst, 0)

	for range 3 {
		if status, _, body := get(t, ts.URL+"/v1/units"); status != 200 {
			t.Fatalf("public units: %d %s", status, body)
		}
	}
	if n := cs.lookups.Load(); n != 0 {
		t.Errorf("%d token lookups for requests without a token, want 0", n)
	}
	for range 2 {
		if status, _, body := getAuth(t, ts.URL+"/v1/events", analyst); status != 200 {
			t.Fatalf("analyst events: %d %s", status, body)
		}
	}
	if n := cs.lookups.Load(); n != 2 {
		t.Errorf("%d token lookups for 2 requests, want 2", n)
	}
	if err := st.RevokeToken(t.Context(), strings.Split(analyst, "_")[1]); err != nil {
		t.Fatal(err)
	}
	if status, _, body := getAuth(t, ts.URL+"/v1/events", analyst); status != 401 {
		t.Errorf("events right after revocation: %d %s, want 401", status, body)
	}
	if n := cs.lookups.Load(); n != 3 {
		t.Errorf("%d token lookups, want 3", n)
	}
	// Malformed tokens are refused without asking the store.
	if status, _, _ := getAuth(t, ts.URL+"/v1/events", "cm_zz"); status != 401 || cs.lookups.Load() != 3 {
		t.Errorf("malformed token: %d, %d lookups; want 401 without a lookup", status, cs.lookups.Load())
	}
	cs.fail = errors.New("connection refused")
	if status, _, body := getAuth(t, ts.URL+"/v1/events", analyst); status != http.StatusServiceUnavailable {
		t.Errorf("store down: %d %s, want 503", status, body)
	}
}

func TestNewToken(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tok, rec, err := server.NewToken(server.RoleAnalyst, "qgis", now, 720*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(tok, "_", 3)
	if len(tok) != 55 || parts[0] != "cm" || parts[1] != rec.ID || len(rec.ID) != 8 {
		t.Errorf("token %q (id %q): want cm_<8 hex>_<43 base64url>", tok, rec.ID)
	}
	if string(rec.Hash) != string(server.HashToken(tok)) || rec.Role != "analyst" || rec.Name != "qgis" ||
		!rec.CreatedAt.Equal(now) || rec.ExpiresAt == nil || !rec.ExpiresAt.Equal(now.Add(720*time.Hour)) {
		t.Errorf("record %+v", rec)
	}
	if strings.Contains(string(rec.Hash), parts[2]) {
		t.Errorf("record holds the secret")
	}
	tok2, rec2, _ := server.NewToken(server.RoleAnalyst, "", now, 0)
	if tok2 == tok || rec2.ID == rec.ID || rec2.ExpiresAt != nil {
		t.Errorf("second token %q %+v", tok2, rec2)
	}
	if _, _, err := server.NewToken(server.RolePublic, "", now, 0); err == nil {
		t.Errorf("NewToken(RolePublic): no error")
	}
	if _, _, err := server.NewToken(server.RoleAnalyst, "", now, -time.Hour); err == nil {
		t.Errorf("NewToken with a negative lifetime: no error")
	}
}

func TestRoleFromWithoutToken(t *testing.T) {
	if r := server.RoleFrom(context.Background()); r != server.RolePublic {
		t.Errorf("RoleFrom(background) = %v, want public", r)
	}
	for _, s := range []string{"viewer", "analyst", "admin"} {
		r, err := server.ParseRole(s)
		if err != nil || r.String() != s {
			t.Errorf("ParseRole(%q) = %v, %v", s, r, err)
		}
	}
	if _, err := server.ParseRole("public"); err == nil {
		t.Errorf("ParseRole(public): no error")
	}
}
