package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionOf(t *testing.T) {
	vcs := func(rev, time, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "-compiler", Value: "gc"}, {Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: time}, {Key: "vcs.modified", Value: modified}}
	}
	main := func(version string) debug.Module {
		return debug.Module{Path: "github.com/crimemap/crimemap", Version: version}
	}
	for _, tt := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "crimemap (devel)\n" +
			"  module    github.com/crimemap/crimemap\n" +
			"  revision  unknown (built without VCS information: go test, -buildvcs=false, or outside a git checkout)\n"},
		{"go test: no main version, no vcs", &debug.BuildInfo{GoVersion: "go1.26.8"}, "crimemap (devel)\n" +
			"  module    github.com/crimemap/crimemap\n" +
			"  revision  unknown (built without VCS information: go test, -buildvcs=false, or outside a git checkout)\n" +
			"  go        go1.26.8\n"},
		{"checkout, clean", &debug.BuildInfo{GoVersion: "go1.26.8", Main: main("v0.0.0-20261201101500-cbb667e0a1b2"),
			Settings: vcs("cbb667e0a1b2c3d4e5f60718293a4b5c6d7e8f90", "2026-12-01T10:15:00Z", "false")}, "crimemap v0.0.0-20261201101500-cbb667e0a1b2\n" +
			"  module    github.com/crimemap/crimemap\n" +
			"  revision  cbb667e0a1b2c3d4e5f60718293a4b5c6d7e8f90\n" +
			"  time      2026-12-01T10:15:00Z\n" +
			"  go        go1.26.8\n"},
		{"checkout, modified", &debug.BuildInfo{GoVersion: "go1.26.8", Main: main("(devel)"),
			Settings: vcs("cbb667e0a1b2c3d4e5f60718293a4b5c6d7e8f90", "2026-12-01T10:15:00Z", "true")}, "crimemap (devel)\n" +
			"  module    github.com/crimemap/crimemap\n" +
			"  revision  cbb667e0a1b2c3d4e5f60718293a4b5c6d7e8f90 (modified: built with uncommitted changes)\n" +
			"  time      2026-12-01T10:15:00Z\n" +
			"  go        go1.26.8\n"},
		{"release", &debug.BuildInfo{GoVersion: "go1.26.8", Main: main("v1.4.0")}, "crimemap v1.4.0\n" +
			"  module    github.com/crimemap/crimemap\n" +
			"  revision  unknown (built without VCS information: go test, -buildvcs=false, or outside a git checkout)\n" +
			"  go        go1.26.8\n"},
	} {
		if got := versionOf(tt.bi).String(); got != tt.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tt.name, got, tt.want)
		}
	}
}

// TestVersionCommand: `crimemap version` and `crimemap --version` print
// the same thing, whatever build info the test binary has.
func TestVersionCommand(t *testing.T) {
	var outs []string
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v (%s)", args, err, stderr.String())
		}
		out := stdout.String()
		if !strings.HasPrefix(out, "crimemap ") || !strings.Contains(out, "\n  revision  ") {
			t.Errorf("%v printed %q", args, out)
		}
		outs = append(outs, out)
	}
	if outs[0] != outs[1] {
		t.Errorf("version and --version differ:\n%s\n%s", outs[0], outs[1])
	}
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"version", "extra"}, func(string) string { return "" }, &bytes.Buffer{}, &stderr); err != errUsage {
		t.Errorf("version extra: %v, want errUsage", err)
	}
}

// TestVersionBinary builds the binary from this checkout, as `go build`
// does by default (VCS stamping on; the environment may turn it off with
// GOFLAGS=-buildvcs=false, so the flag is given), and checks that
// `crimemap version` names the checkout's commit.
func TestVersionBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git")
	}
	head, err := exec.Command(git, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	rev := strings.TrimSpace(string(head))
	bin := filepath.Join(t.TempDir(), "crimemap")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(bin, arg).Output()
		if err != nil {
			t.Fatalf("crimemap %s: %v", arg, err)
		}
		if !strings.Contains(string(out), "  revision  "+rev) || !strings.Contains(string(out), "  time      ") {
			t.Errorf("crimemap %s printed\n%s\nwant revision %s and its time", arg, out, rev)
		}
	}
}
