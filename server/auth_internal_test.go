package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestStatusOfAuthError(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{&AuthError{Invalid: true}, http.StatusUnauthorized},
		{&AuthError{Need: RoleAnalyst, Have: RolePublic, What: "the events layer"}, http.StatusUnauthorized},
		{&AuthError{Need: RoleAnalyst, Have: RoleViewer, What: "the events layer"}, http.StatusForbidden},
		{fmt.Errorf("tile 5/1/2: %w", &AuthError{Need: RoleAdmin, Have: RoleAnalyst}), http.StatusForbidden},
	}
	for _, tt := range tests {
		if got := statusOf(tt.err); got != tt.want {
			t.Errorf("statusOf(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	msg := needRole(t.Context(), RoleAnalyst, "the events layer").Error()
	want := "the events layer needs an analyst token: create one with `crimemap token create --role analyst` and send it as Authorization: Bearer <token>"
	if msg != want {
		t.Errorf("needRole message\n%s\nwant\n%s", msg, want)
	}
}

func TestParseToken(t *testing.T) {
	tok, rec, err := NewToken(RoleAnalyst, "", time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := parseToken(tok); !ok || id != rec.ID {
		t.Errorf("parseToken(%q) = %q, %v; want %q", tok, id, ok, rec.ID)
	}
	secret := strings.SplitN(tok, "_", 3)[2]
	for _, bad := range []string{"", "cm_", "cm__" + secret, "xx_0a1b_" + secret, "cm_0A1B_" + secret, "cm_0a1b",
		"cm_0a1b_" + secret + "=", "cm_0a1b_" + secret[:42], "cm_0a1b_" + secret + "AA", "cm_0a-1b_" + secret} {
		if id, ok := parseToken(bad); ok {
			t.Errorf("parseToken(%q) = %q, ok", bad, id)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	tok, _, _ := NewToken(RoleAnalyst, "", time.Now(), 0)
	f.Add(tok)
	f.Add("cm_0a1b2c3d_" + strings.Repeat("_", 43))
	f.Add("cm_x_")
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := parseToken(s)
		if !ok {
			return
		}
		if !strings.HasPrefix(s, tokenPrefix+id+"_") || len(s) > tokenMaxLen || strings.ContainsAny(id, "_-") {
			t.Errorf("parseToken(%q) accepted id %q", s, id)
		}
	})
}

// TestVerifiedTokens: a token's last successful check stands in for the
// store for verifiedFor at most, never past the token's expiry, and is
// forgotten when the store says revoked or unknown.
func TestVerifiedTokens(t *testing.T) {
	var v verifiedTokens
	now := time.Unix(1_000_000, 0)
	exp := now.Add(time.Hour)
	p := principal{role: RoleAnalyst, tokenID: "abc"}
	v.put([]byte("h1"), p, now, &exp)
	v.put([]byte("h2"), p, now, nil)
	if got, ok := v.get([]byte("h1"), now.Add(time.Minute)); !ok || got != p {
		t.Fatalf("fresh check: %v %v", got, ok)
	}
	if _, ok := v.get([]byte("h2"), now.Add(verifiedFor+time.Second)); ok {
		t.Error("a check older than verifiedFor stood in")
	}
	v.put([]byte("h1"), p, exp.Add(-time.Minute), &exp)
	if _, ok := v.get([]byte("h1"), exp); ok {
		t.Error("an expired token stood in")
	}
	v.put([]byte("h3"), p, now, nil)
	v.forget([]byte("h3"))
	if _, ok := v.get([]byte("h3"), now); ok {
		t.Error("a forgotten token stood in")
	}
	if _, ok := v.get([]byte("nope"), now); ok {
		t.Error("an unknown token stood in")
	}
}
