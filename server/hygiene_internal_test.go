package server

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestRedactQuery(t *testing.T) {
	tests := []struct {
		raw, want string
		secrets   []string // must not appear in the result
	}{
		{"", "", nil},
		{"period=2025-Q3&kind=crime", "period=2025-Q3&kind=crime", nil},
		{"period=2025-Q3&token=cm_0badc0de_s3cretS3cret", "period=2025-Q3&token=REDACTED", []string{"s3cret"}},
		{"ACCESS_TOKEN=abc123&kind=crime", "ACCESS_TOKEN=REDACTED&kind=crime", []string{"abc123"}},
		{"api_key=v1&apikey=v2&key=v3&secret=v4&password=v5&auth=v6&authorization=v7&jwt=v8&sig=v9&signature=v10",
			"api_key=REDACTED&apikey=REDACTED&key=REDACTED&secret=REDACTED&password=REDACTED&auth=REDACTED&authorization=REDACTED&jwt=REDACTED&sig=REDACTED&signature=REDACTED",
			[]string{"v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"}},
		{"Api-Key=abc123", "Api-Key=REDACTED", []string{"abc123"}},
		{"%74oken=abc123", "%74oken=REDACTED", []string{"abc123"}},     // name %-encoded
		{"+token+=abc123", "+token+=REDACTED", []string{"abc123"}},     // spaces around the name
		{"token&kind=crime", "token&kind=crime", nil},                  // no value
		{"token=&kind=crime", "token=REDACTED&kind=crime", nil},        // empty value
		{"a=1;token=abc123", "a=1&token=REDACTED", []string{"abc123"}}, // ";" separates too
		{"monkey=1&keys=2", "monkey=1&keys=2", nil},                    // names that only contain a secret name
		{"q=cm_0badc0de_AAAAs3cretBBBB", "q=cm_0badc0de_REDACTED", []string{"s3cret"}},
		// Malformed names: only the names are logged.
		{"tok%zzen=abc123&period=2025-Q3", "tok%zzen=REDACTED&period=REDACTED", []string{"abc123", "2025"}},
		{"%zz=1&token=abc123&kind", "%zz=REDACTED&token=REDACTED&kind", []string{"abc123"}},
		{"period=%zz&token=abc123", "period=%zz&token=REDACTED", []string{"abc123"}}, // a bad value of a harmless name is kept
	}
	for _, tt := range tests {
		got := redactQuery(tt.raw)
		if got != tt.want {
			t.Errorf("redactQuery(%q) = %q, want %q", tt.raw, got, tt.want)
		}
		for _, s := range tt.secrets {
			if strings.Contains(got, s) {
				t.Errorf("redactQuery(%q) = %q: contains %q", tt.raw, got, s)
			}
		}
	}
}

// FuzzRedactQuery checks that the value of a secret parameter never
// survives, whatever surrounds it (well-formed or not).
func FuzzRedactQuery(f *testing.F) {
	f.Add("period=2025-Q3", uint8(0), "cm_0badc0de_x", "kind=crime")
	f.Add("%zz", uint8(3), "a b&c", "")
	f.Add("a=1;", uint8(7), "%", "%41=;")
	names := []string{"token", "access_token", "api_key", "apikey", "key", "secret", "password",
		"auth", "authorization", "jwt", "sig", "signature", "TOKEN", "Api-Key", "%74oken"}
	f.Fuzz(func(t *testing.T, prefix string, name uint8, secret, suffix string) {
		const mark = "S3CR3TV4LUE"
		if strings.Contains(strings.ToUpper(prefix+suffix), mark) {
			t.Skip()
		}
		raw := prefix + "&" + names[int(name)%len(names)] + "=" + mark + url.QueryEscape(secret) + "&" + suffix
		if got := redactQuery(raw); strings.Contains(strings.ToUpper(got), mark) {
			t.Errorf("redactQuery(%q) = %q", raw, got)
		}
	})
}

func TestRedactText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http: panic serving 10.0.0.1:5555: GET /v1/events?token=abc123&kind=crime", "http: panic serving 10.0.0.1:5555: GET /v1/events?token=REDACTED&kind=crime"},
		{"header Authorization: Bearer cm_0badc0de_s3cret", "header Authorization: REDACTED"},
		{"sent bearer cm_0badc0de_s3cret", "sent bearer REDACTED"},
		{"basic dXNlcjpwYXNz rejected", "basic REDACTED rejected"},
		{"dial postgres://crimemap:hunter2@db:5432/x", "dial postgres://crimemap:REDACTED@db:5432/x"},
		{"token cm_0badc0de_s3cretS3cret in a value", "token cm_0badc0de_REDACTED in a value"},
		{"http: TLS handshake error from 10.0.0.1:5555: EOF", "http: TLS handshake error from 10.0.0.1:5555: EOF"},
	}
	for _, tt := range tests {
		if got := redactText(tt.in); got != tt.want {
			t.Errorf("redactText(%q)\n= %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

// TestErrorLogRedacted: what the http.Server logs through ErrorLog (built
// as in Serve) carries no token.
func TestErrorLogRedacted(t *testing.T) {
	var buf bytes.Buffer
	el := log.New(errorLogWriter{slog.New(slog.NewTextHandler(&buf, nil))}, "", 0)
	el.Printf("http: panic serving 127.0.0.1:40000: bad %s", "GET /tiles/x.json?access_token=s3cret1 Authorization: Bearer cm_0badc0de_s3cret2")
	el.Printf("http2: header Authorization=%q", "Bearer s3cret3")
	out := buf.String()
	for _, s := range []string{"s3cret1", "s3cret2", "s3cret3"} {
		if strings.Contains(out, s) {
			t.Errorf("error log contains %q:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "http: panic serving") {
		t.Errorf("error log line lost:\n%s", out)
	}
}

// TestLogRequestsRedacted: the request log line has no secret of the query
// and no Authorization header.
func TestLogRequestsRedacted(t *testing.T) {
	var buf bytes.Buffer
	s := New(Config{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	req := httptest.NewRequest(http.MethodGet, "/healthz?period=2025-Q3&api_key=s3cret1&Token=s3cret2", nil)
	req.Header.Set("Authorization", "Bearer cm_0badc0de_s3cret3")
	s.Handler().ServeHTTP(httptest.NewRecorder(), req)
	out := buf.String()
	for _, s := range []string{"s3cret1", "s3cret2", "s3cret3"} {
		if strings.Contains(out, s) {
			t.Errorf("log contains %q:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "period=2025-Q3&api_key=REDACTED&Token=REDACTED") {
		t.Errorf("request line without the redacted query:\n%s", out)
	}
}

// TestWriteErrorHidesDriverText feeds errors wrapping driver errors (a
// *pgconn.PgError, pgx.ErrNoRows, sql.ErrNoRows, SQLite's "database is
// locked", text with a SQLSTATE and a postgres:// URL with a password)
// through writeError and checks that none of their text reaches the body,
// while the service's own message does, and the log keeps the detail.
func TestWriteErrorHidesDriverText(t *testing.T) {
	pgDup := &pgconn.PgError{Severity: "ERROR", Code: "23505", Message: `duplicate key value violates unique constraint "tokens_pkey"`,
		Detail: "Key (id)=(0badc0de) already exists.", ConstraintName: "tokens_pkey", TableName: "tokens"}
	pgDown := &pgconn.PgError{Severity: "FATAL", Code: "57P03", Message: "the database system is starting up"}
	dsn := errors.New(`failed to connect to postgres://crimemap:hunter2@db.internal:5432/crimemap?sslmode=disable: ` +
		`server error (FATAL: password authentication failed for user "crimemap" (SQLSTATE 28P01))`)
	locked := errors.New("database is locked (5) (SQLITE_BUSY)")
	path := fmt.Errorf("open /var/lib/crimemap/data/crimemap.db: %w", locked)
	leaks := []string{"SQLSTATE", "postgres://", "hunter2", "db.internal", "duplicate key", "tokens_pkey", "0badc0de",
		"no rows in result set", "sql:", "database is locked", "SQLITE_BUSY", "FATAL", "password", "starting up", "/var/lib"}

	tests := []struct {
		name   string
		err    error
		status int
		want   string // the body's error message
	}{
		{"404 sql.ErrNoRows", fmt.Errorf("mahalla %q: %w", "1710401001", fmt.Errorf("sqlite unit: %w", fmt.Errorf("%w: %w", store.ErrNotFound, sql.ErrNoRows))),
			404, `mahalla "1710401001": sqlite unit: not found`},
		{"404 pgx.ErrNoRows", fmt.Errorf("run 7: %w", fmt.Errorf("%w: %w", store.ErrNotFound, pgx.ErrNoRows)), 404, "run 7: not found"},
		{"404 driver text before the sentinel", fmt.Errorf("lookup: %w: %w", dsn, store.ErrNotFound), 404, "lookup"},
		{"404 driver text formatted with %v", fmt.Errorf("unit lookup (%v): %w", dsn, store.ErrNotFound), 404, "not found"},
		{"409 PgError", fmt.Errorf("put token: %w", fmt.Errorf("%w: %w", store.ErrConflict, pgDup)), 409, "put token: conflict"},
		{"409 database is locked", fmt.Errorf("put run: %w", fmt.Errorf("%w: %w", store.ErrConflict, path)), 409, "put run: conflict"},
		{"409 SQLSTATE and URL", fmt.Errorf("put units: %w: %w", store.ErrConflict, dsn), 409, "put units: conflict"},
		{"400 invalid", fmt.Errorf("put events: %w", fmt.Errorf("%w: %w", store.ErrInvalid, pgDup)), 400, "put events: invalid"},
		{"503 SQLSTATE and URL", fmt.Errorf("cannot check the bearer token now: %w: %w", errUnavailable, dsn), 503,
			"cannot check the bearer token now: unavailable; retry later"},
		{"503 PgError", fmt.Errorf("token: %w", fmt.Errorf("postgis token by hash: %w: %w", errUnavailable, pgDown)), 503,
			"token: postgis token by hash: unavailable; retry later"},
		{"503 path", fmt.Errorf("%w: %w", errUnavailable, path), 503, "unavailable; retry later"},
		{"503 client message", &clientError{msg: "the store is unavailable; retry later", err: fmt.Errorf("store postgis: %w: %w", errUnavailable, dsn)},
			503, "the store is unavailable; retry later"},
		{"500 PgError", fmt.Errorf("events: %w", pgDup), 500, "internal error (request )"},
		{"500 SQLSTATE and URL", fmt.Errorf("events: %w", dsn), 500, "internal error (request )"},
		// The service's own messages are kept.
		{"own 404", fmt.Errorf("unit %q: %w", "9999", store.ErrNotFound), 404, `unit "9999": not found`},
		{"own 503", fmt.Errorf("%w: %w", errUnavailable, analytics.ErrNoSnapshot), 503, "unavailable: no snapshot loaded yet; retry later"},
		{"own 400", &ParamError{Param: "period", Value: "2025-Q9", Allowed: "2025-Q3", Err: analytics.ErrBadPeriod}, 400,
			`parameter "period": invalid value "2025-Q9"; allowed: 2025-Q3 (bad period)`},
		{"400 with a driver cause", &ParamError{Param: "unit", Value: "x", Allowed: "a unit code", Err: pgDup}, 400,
			`parameter "unit": invalid value "x"; allowed: a unit code`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logBuf bytes.Buffer
			s := New(Config{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
			w := httptest.NewRecorder()
			s.writeError(w, httptest.NewRequest(http.MethodGet, "/v1/x", nil), tt.err)
			var body apiError
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if w.Code != tt.status || body.Status != tt.status {
				t.Errorf("status %d (body %d), want %d", w.Code, body.Status, tt.status)
			}
			if body.Error != tt.want {
				t.Errorf("message %q, want %q", body.Error, tt.want)
			}
			for _, l := range leaks {
				if strings.Contains(w.Body.String(), l) {
					t.Errorf("body leaks %q: %s", l, w.Body)
				}
			}
			// What the client does not see is logged.
			if body.Error != tt.err.Error() && !strings.Contains(logBuf.String(), "err=") {
				t.Errorf("full error not logged: %q", logBuf.String())
			}
		})
	}
}

// TestBaseURLDefault: without Config.PublicURL the base is the listener's
// address under Serve (http://localhost before), never a request's Host.
func TestBaseURLDefault(t *testing.T) {
	if got := New(Config{PublicURL: "https://map.example.uz/"}).baseURL(); got != "https://map.example.uz" {
		t.Errorf("PublicURL base %q", got)
	}
	s := New(Config{})
	if got := s.baseURL(); got != "http://localhost" {
		t.Errorf("base before Serve %q", got)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	want := "http://" + ln.Addr().String()
	for range 100 {
		if s.baseURL() == want {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := s.baseURL(); got != want {
		t.Errorf("base under Serve %q, want %q", got, want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
