// Package pgtest gives each test its own PostGIS database, cloned from a
// migrated template.
//
// Tests call URL(t). It reads CRIMEMAP_TEST_DATABASE_URL (a database the
// user may CREATE DATABASE from); when that is empty the test is skipped,
// unless CRIMEMAP_REQUIRE_POSTGIS=1 (CI), where it fails.
//
// The template is named after a hash of the embedded migrations
// (crimemap_tmpl_<hash>), so it needs no per-process state: the first caller
// in any process builds it (under a PostgreSQL advisory lock, in a
// temporary database renamed into place when complete), every later caller
// in any test binary finds it, and it is reused across runs until the
// migrations change. Several `go test ./...` binaries may run at once.
// Stale crimemap_tmpl_* databases are safe to drop at any time.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/migrations"
	"github.com/crimemap/crimemap/store/postgis"
	"github.com/jackc/pgx/v5"
)

// Environment variables read by URL.
const (
	EnvURL     = "CRIMEMAP_TEST_DATABASE_URL"
	EnvRequire = "CRIMEMAP_REQUIRE_POSTGIS"
)

// lockKey is the advisory lock serialising template creation.
const lockKey = 0x63726d7067 // "crmpg"

// URL returns the URL of a new, migrated, empty database that is dropped
// when t ends. It skips t when no test server is configured.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%s=1 but %s is not set", EnvRequire, EnvURL)
		}
		t.Skipf("PostGIS tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)", EnvURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tmpl, err := template(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: template: %v", err)
	}
	name := fmt.Sprintf("crimemap_test_%d_%s", os.Getpid(), randHex())
	if err := admin(ctx, base, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(tmpl)); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := admin(ctx, base, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return WithDatabase(base, name)
}

// WithDatabase returns the connection string base pointing at database name.
func WithDatabase(base, name string) string {
	if u, err := url.Parse(base); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		u.RawPath = ""
		return u.String()
	}
	return base + " dbname='" + strings.ReplaceAll(name, "'", `\'`) + "'"
}

// template returns the name of the migrated template, creating it if needed.
func template(ctx context.Context, base string) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.PostGIS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.PostGIS(), path)
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return err
	})
	if err != nil {
		return "", err
	}
	tmpl := "crimemap_tmpl_" + hex.EncodeToString(h.Sum(nil))[:16]

	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(lockKey)); err != nil {
		return "", err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(lockKey))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", tmpl).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return tmpl, nil
	}
	build := fmt.Sprintf("%s_build_%d_%s", tmpl, os.Getpid(), randHex())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(build)); err != nil {
		return "", err
	}
	s, err := postgis.Open(ctx, WithDatabase(base, build), nil)
	if err != nil {
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(build)+" WITH (FORCE)")
		return "", fmt.Errorf("migrate template: %w", err)
	}
	s.Close()
	// The closed pool's backends may take a moment to exit; FORCE-free
	// RENAME refuses while any is connected.
	for try := 0; ; try++ {
		_, err = conn.Exec(ctx, "ALTER DATABASE "+ident(build)+" RENAME TO "+ident(tmpl))
		if err == nil || try == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident(tmpl)+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return "", err
	}
	return tmpl, nil
}

// admin runs one statement on the base database.
func admin(ctx context.Context, base, sql string) error {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// ident quotes a database name for DDL, which takes no bound parameters;
// the names are generated by this package.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func randHex() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
