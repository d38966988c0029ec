package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEWalkthrough runs the README's "Real data walkthrough" exactly
// as written: every `bin/crimemap ...` line of its first sh block, in
// order, from the repository root with fresh stores, against the real
// files of ../shared/data. A command the README shows must succeed; the
// README keeps a comment `# fails: ...` on a line that is meant to fail
// (an import of the wrong thing), and such a line must fail.
func TestREADMEWalkthrough(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "../shared/data/SOURCES.md")); err != nil {
		if os.Getenv("CRIMEMAP_REQUIRE_POSTGIS") == "1" {
			t.Fatalf("real data required: %v", err)
		}
		t.Skipf("real data not available (../shared/data): %v", err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := walkthroughCommands(t, readme)
	if len(cmds) < 5 {
		t.Fatalf("the walkthrough has %d commands", len(cmds))
	}
	// The stores the walkthrough names live in a temporary copy of the
	// layout: a repository root (for ./data-like paths) beside a copy of
	// shared/data (imports write their rejects beside their input, and
	// the shared files must stay as published).
	work := t.TempDir()
	if err := os.CopyFS(filepath.Join(work, "shared", "data"), os.DirFS(filepath.Join(root, "../shared/data"))); err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(work, "main")
	if err := os.Mkdir(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(repo)
	for _, c := range cmds {
		var out, errb bytes.Buffer
		err := run(context.Background(), c.args, noEnv, &out, &errb)
		t.Logf("$ bin/crimemap %s\n%s%s", strings.Join(c.args, " "), out.String(), errb.String())
		switch {
		case c.fails && err == nil:
			t.Errorf("README line %d: `%s` should fail (the README says so) but succeeded", c.line, c.text)
		case !c.fails && err != nil:
			t.Fatalf("README line %d: `%s`: %v", c.line, c.text, err)
		}
		for _, want := range c.prints {
			if !strings.Contains(out.String()+errb.String(), want) {
				t.Errorf("README line %d: output lacks %q (the README shows it)", c.line, want)
			}
		}
	}
}

type walkCmd struct {
	line   int
	text   string
	args   []string
	fails  bool
	prints []string // `# prints: TEXT` comments after the command
}

// walkthroughCommands reads the first ```sh block after the heading
// "## Real data walkthrough": `bin/crimemap` lines (with \ continuations;
// `go build` lines are skipped: the test runs the package's run itself),
// `# fails: ...` at the end of a line, `# prints: TEXT` lines after one.
func walkthroughCommands(t *testing.T, readme []byte) []walkCmd {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(readme))
	var (
		in, inBlock bool
		cmds        []walkCmd
		cur         strings.Builder
		curLine     int
	)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			if in && len(cmds) > 0 {
				return cmds
			}
			in = strings.TrimSpace(line) == "## Real data walkthrough"
			continue
		case !in:
			continue
		case strings.HasPrefix(line, "```sh"):
			inBlock = true
			continue
		case strings.HasPrefix(line, "```") && inBlock:
			return cmds
		case !inBlock:
			continue
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "# prints: ") && len(cmds) > 0 {
			cmds[len(cmds)-1].prints = append(cmds[len(cmds)-1].prints, strings.TrimPrefix(trimmed, "# prints: "))
			continue
		}
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			curLine = n
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		text := cur.String()
		cur.Reset()
		fails := false
		if i := strings.Index(text, "# fails"); i >= 0 {
			fails = true
			text = strings.TrimSpace(text[:i])
		} else if i := strings.Index(text, " #"); i >= 0 {
			text = strings.TrimSpace(text[:i])
		}
		fields := shellWords(text)
		if strings.HasPrefix(text, "go build ") { // the test is the build
			continue
		}
		if len(fields) == 0 || fields[0] != "bin/crimemap" {
			t.Fatalf("README line %d: the walkthrough runs only bin/crimemap commands: %q", curLine, text)
		}
		cmds = append(cmds, walkCmd{line: curLine, text: text, args: fields[1:], fails: fails})
	}
	return cmds
}

// shellWords splits a command line as sh does for the walkthrough's simple
// lines: blanks separate words, '...' and "..." quote (no escapes, no
// expansions).
func shellWords(s string) []string {
	var (
		words []string
		w     strings.Builder
		quote rune
		have  bool
	)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '"' || r == '\'':
			quote, have = r, true
		case r == ' ' || r == '\t':
			if have {
				words = append(words, w.String())
				w.Reset()
				have = false
			}
		default:
			w.WriteRune(r)
			have = true
		}
	}
	if have {
		words = append(words, w.String())
	}
	return words
}
