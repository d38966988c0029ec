package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/server"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/sqlite"
	"github.com/paulmach/orb"
)

var tokenRE = regexp.MustCompile(`^cm_([0-9a-f]{8})_[A-Za-z0-9_-]{43}\n$`)

// createToken runs token create with args and returns the token and its ID.
func createToken(t testing.TB, dir string, args ...string) (tok, id string) {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(context.Background(), append([]string{"token", "create", "--data", dir}, args...), noEnv, &out, &errb); err != nil {
		t.Fatalf("token create %v: %v\n%s", args, err, errb.String())
	}
	m := tokenRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("token create printed %q on stdout, want the token alone", out.String())
	}
	for _, w := range []string{"cannot be shown again", "only its SHA-256 hash is stored", "Authorization: Bearer", m[1]} {
		if !strings.Contains(errb.String(), w) {
			t.Errorf("token create stderr lacks %q:\n%s", w, errb.String())
		}
	}
	return strings.TrimSpace(out.String()), m[1]
}

func TestTokenCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	cli := func(args ...string) error {
		out.Reset()
		errb.Reset()
		return run(ctx, args, noEnv, &out, &errb)
	}

	if err := cli("token", "list", "--data", dir); err != nil || out.Len() != 0 || !strings.Contains(errb.String(), "no tokens") {
		t.Errorf("list of none: %v, stdout %q, stderr %q", err, out.String(), errb.String())
	}
	tok, id := createToken(t, dir, "--role", "analyst", "--name", "QGIS, Qarshi office", "--expires", "720h")
	_, id2 := createToken(t, dir, "--role", "viewer", "--expires", "0")

	// Only the hash is stored, and it matches the printed token.
	st, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := st.TokenByHash(ctx, server.HashToken(tok))
	st.Close()
	if err != nil || rec.ID != id || rec.Role != store.RoleAnalyst || rec.Name != "QGIS, Qarshi office" || rec.ExpiresAt == nil ||
		rec.ExpiresAt.Sub(rec.CreatedAt) != 720*time.Hour {
		t.Fatalf("stored token %+v, %v", rec, err)
	}

	if err := cli("token", "list", "--data", dir); err != nil {
		t.Fatalf("list: %v\n%s", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") ||
		!strings.Contains(lines[0], "UNIT") ||
		!regexp.MustCompile(`^`+id+` +analyst +everywhere +active +\S+ \S+ +\S+ \S+ +QGIS, Qarshi office$`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^`+id2+` +viewer +everywhere +active +\S+ \S+ +never`).MatchString(lines[2]) {
		t.Errorf("list:\n%s", out.String())
	}
	if strings.Contains(out.String(), tok[12:]) {
		t.Errorf("list shows the secret")
	}

	if err := cli("token", "revoke", id, "--data", dir); err != nil || !strings.Contains(out.String(), "revoked") {
		t.Fatalf("revoke: %v %s %s", err, out.String(), errb.String())
	}
	if err := cli("token", "list", "--data", dir); err != nil || !regexp.MustCompile(`(?m)^`+id+` +analyst +everywhere +revoked \d{4}-\d\d-\d\d`).MatchString(out.String()) {
		t.Errorf("list after revoke: %v\n%s", err, out.String())
	}
	if err := cli("token", "revoke", "--data", dir, "deadbeef"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("revoke unknown: %v", err)
	}

	for _, args := range [][]string{
		{"token"},
		{"token", "rotate"},
		{"token", "create", "--data", dir},
		{"token", "create", "--data", dir, "--role", "root"},
		{"token", "create", "--data", dir, "--role", "public"},
		{"token", "create", "--data", dir, "--role", "analyst", "--expires", "-1h"},
		{"token", "create", "--data", dir, "--role", "analyst", "extra"},
		{"token", "create", "--data", dir, "--role", "admin", "--unit", "1710"},
		{"token", "revoke", "--data", dir},
		{"token", "revoke", "--data", dir, id, id2},
	} {
		if err := cli(args...); !errors.Is(err, errUsage) || errb.Len() == 0 {
			t.Errorf("%v: %v (stderr %q), want a usage error explained on stderr", args, err, errb.String())
		}
	}
}

// TestTokenCreateUnit: --unit limits a token to a stored unit's territory;
// an unknown code is refused naming it, an admin token cannot be limited,
// and token list shows the unit.
func TestTokenCreateUnit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	square := orb.MultiPolygon{{{{65, 38}, {66, 38}, {66, 39}, {65, 39}, {65, 38}}}}
	if _, err := st.PutUnits(ctx, []geo.Unit{
		{Code: "1710", Level: geo.LevelRegion, Names: map[string]string{"uz": "Qashqadaryo"}, Geometry: square},
		{Code: "1710401", ParentCode: "1710", Level: geo.LevelDistrict, Names: map[string]string{"uz": "Qarshi"}, Geometry: square},
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	tok, id := createToken(t, dir, "--role", "analyst", "--unit", "1710401", "--name", "Qarshi district office")
	var out, errb bytes.Buffer
	cli := func(args ...string) error {
		out.Reset()
		errb.Reset()
		return run(ctx, args, noEnv, &out, &errb)
	}
	if err := cli("token", "list", "--data", dir); err != nil {
		t.Fatalf("list: %v\n%s", err, errb.String())
	}
	if !regexp.MustCompile(`(?m)^` + id + ` +analyst +1710401 +active `).MatchString(out.String()) {
		t.Errorf("list does not show the unit:\n%s", out.String())
	}
	st, err = sqlite.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := st.TokenByHash(ctx, server.HashToken(tok))
	st.Close()
	if err != nil || rec.Unit != "1710401" || rec.Role != store.RoleAnalyst {
		t.Fatalf("stored token %+v, %v; want an analyst limited to 1710401", rec, err)
	}

	// An unknown unit: a clear error naming the code, and no token.
	err = cli("token", "create", "--data", dir, "--role", "viewer", "--unit", "9999")
	if err == nil || !strings.Contains(err.Error(), `"9999"`) || !strings.Contains(err.Error(), "no such unit") || out.Len() != 0 {
		t.Errorf("unknown unit: %v, stdout %q; want an error naming 9999 and no token", err, out.String())
	}
	// An admin token cannot be limited to a territory.
	err = cli("token", "create", "--data", dir, "--role", "admin", "--unit", "1710")
	if !errors.Is(err, errUsage) || !strings.Contains(errb.String(), "an admin token cannot be limited to a territory") || out.Len() != 0 {
		t.Errorf("admin with --unit: %v, stderr %q, stdout %q", err, errb.String(), out.String())
	}
	if err := cli("token", "list", "--data", dir); err != nil || strings.Count(strings.TrimSpace(out.String()), "\n") != 1 {
		t.Errorf("refused creates stored tokens: %v\n%s", err, out.String())
	}
}
