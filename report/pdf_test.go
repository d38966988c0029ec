package report_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/report"
)

// plain is keys with plain number formatting.
type plain struct{ keys }

func (plain) Int(n int64) string { return strconv.FormatInt(n, 10) }
func (plain) Decimal(v float64, decimals int) string {
	return strconv.FormatFloat(v, 'f', decimals, 64)
}
func (plain) Tag() string { return "en" }
func (plain) T(key string) string {
	if key == "report.page_of" {
		return "page %d of %d"
	}
	return key
}

// needTool returns the path of a poppler tool, skipping the test without
// it unless CRIMEMAP_REQUIRE_POPPLER=1.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CRIMEMAP_REQUIRE_POPPLER") == "1" {
			t.Fatalf("%s is required (poppler-utils): %v", name, err)
		}
		t.Skipf("%s not installed (poppler-utils)", name)
	}
	return p
}

// TestPDFHeadlineReadsBack: pdftotext finds every headline row of a region
// report with its figures (count, the same period of last year, change),
// pdffonts shows every font embedded, and two writes are byte-identical.
func TestPDFHeadlineReadsBack(t *testing.T) {
	pdftotext, pdffonts := needTool(t, "pdftotext"), needTool(t, "pdffonts")
	w, err := demoWorld()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := analytics.ParsePeriod("2026-Q2", w.loc)
	r, err := report.Build(context.Background(), w.snap, report.Options{Period: p, Unit: "1710", Location: w.loc,
		Now: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := report.WritePDF(&a, r, plain{}); err != nil {
		t.Fatal(err)
	}
	if err := report.WritePDF(&b, r, plain{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two writes of one report differ")
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, a.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	lines := strings.Split(text, "\n")
	for _, l := range r.Headline {
		want := fmt.Sprintf("%d %d", l.Period.Count, l.Period.Base)
		found := false
		for _, line := range lines {
			if strings.HasPrefix(strings.TrimSpace(line), l.Key) && strings.Contains(strings.Join(strings.Fields(line), " "), want) {
				found = true
			}
		}
		if !found {
			t.Errorf("pdftotext: no line %q with %q", l.Key, want)
		}
	}
	if !strings.Contains(text, r.Unit.Name) || !strings.Contains(text, "page 1 of") {
		t.Errorf("cover or page label missing:\n%.600s", text)
	}
	fonts, err := exec.Command(pdffonts, path).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(fonts), "\n")[2:] {
		if f := strings.Fields(line); len(f) >= 5 && !strings.Contains(line, " yes ") {
			t.Errorf("font not embedded: %s", line)
		}
	}
}
