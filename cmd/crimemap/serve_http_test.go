package main

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseCORSOrigins(t *testing.T) {
	got, err := parseCORSOrigins(" https://Analyst.Example.uz/ , http://localhost:5173,")
	if want := []string{"https://analyst.example.uz", "http://localhost:5173"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("origins %q, %v; want %q", got, err, want)
	}
	if got, err := parseCORSOrigins(""); err != nil || got != nil {
		t.Errorf("empty: %q, %v", got, err)
	}
	for _, bad := range []string{"*", "analyst.example.uz", "https://", "ftp://x.example", "https://x.example/app",
		"https://x.example?a=1", "https://user:pw@x.example", "https://*.example.uz", "https://x.example#f"} {
		if _, err := parseCORSOrigins(bad); !errors.Is(err, errUsage) {
			t.Errorf("parseCORSOrigins(%q) = %v, want a usage error", bad, err)
		}
	}
}

func TestParsePublicURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "",
		"https://map.example.uz":         "https://map.example.uz",
		"https://map.example.uz/":        "https://map.example.uz",
		"http://10.0.0.5:8080/crimemap/": "http://10.0.0.5:8080/crimemap",
	} {
		if got, err := parsePublicURL(in); err != nil || got != want {
			t.Errorf("parsePublicURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"map.example.uz", "/tiles", "ftp://map.example.uz", "https://map.example.uz/?a=1",
		"https://map.example.uz?", "https://u:p@map.example.uz", "https://map.example.uz/#x", "https://", "mailto:x@example.uz"} {
		if _, err := parsePublicURL(bad); !errors.Is(err, errUsage) {
			t.Errorf("parsePublicURL(%q) = %v, want a usage error", bad, err)
		}
	}
}

// TestServeRejectsBadHTTPFlags: serve refuses bad --public-url and
// --cors-origin values (also from the environment) before opening the store.
func TestServeRejectsBadHTTPFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--public-url", "map.example.uz"}, nil, "--public-url"},
		{nil, map[string]string{"CRIMEMAP_PUBLIC_URL": "https://map.example.uz/?x=1"}, "--public-url"},
		{[]string{"--cors-origin", "*"}, nil, "--cors-origin"},
		{nil, map[string]string{"CRIMEMAP_CORS_ORIGINS": "https://ok.example,https://x.example/path"}, "--cors-origin"},
	} {
		dir := t.TempDir()
		args := append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, tc.args...)
		getenv := func(k string) string { return tc.env[k] }
		err := run(context.Background(), args, getenv, io.Discard, io.Discard)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("serve %q env %v: %v, want a usage error naming %s", tc.args, tc.env, err, tc.want)
		}
	}
}
