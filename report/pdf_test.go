package report_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/i18n"
	"github.com/crimemap/crimemap/report"
)

// plain is keys with plain number formatting.
type plain struct{ keys }

func (plain) Int(n int64) string { return strconv.FormatInt(n, 10) }
func (plain) Decimal(v float64, decimals int) string {
	return strconv.FormatFloat(v, 'f', decimals, 64)
}
func (plain) Tag() string { return "en" }
func (plain) Tf(key string, args ...any) string {
	if key == "report.page" {
		return fmt.Sprintf("page %d of %d", args...)
	}
	return key + fmt.Sprint(args...)
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
	r := regionReport(t)
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
	// The charts are drawn in: pdfimages lists the series and the grid.
	imgs, err := exec.Command(needTool(t, "pdfimages"), "-list", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Split(strings.TrimSpace(string(imgs)), "\n")) - 2; n < 2 {
		t.Errorf("pdfimages lists %d images, want the two charts:\n%s", n, imgs)
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

// recorder is a Locale that notes the keys it is asked for.
type recorder struct {
	report.Locale
	keys map[string]bool
}

func (r recorder) T(key string) string { r.keys[key] = true; return r.Locale.T(key) }
func (r recorder) Tf(key string, args ...any) string {
	r.keys[key] = true
	return r.Locale.Tf(key, args...)
}

// TestReportsInEveryLanguage: in each of the six languages the PDF and the
// XLSX use only keys the language's catalogue has (no English fallback, no
// raw key), pdftotext finds the headline figures formatted for the locale,
// and each language's first page is rendered to PNG for a person to look
// at (into $CRIMEMAP_TEST_ARTEFACTS/report when set).
func TestReportsInEveryLanguage(t *testing.T) {
	pdftotext, pdftoppm := needTool(t, "pdftotext"), needTool(t, "pdftoppm")
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	r := regionReport(t)
	art := t.TempDir()
	if d := os.Getenv("CRIMEMAP_TEST_ARTEFACTS"); d != "" {
		art = filepath.Join(d, "report")
		if err := os.MkdirAll(art, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, lang := range i18n.Langs() {
		rec, pdf := writeChecked(t, cat, lang, r)
		path := filepath.Join(art, "report-"+string(lang)+".pdf")
		if err := os.WriteFile(path, pdf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pdftotext, "-layout", path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(out), "\u00a0", " ")
		for _, l := range r.Headline {
			label := rec.Locale.T(l.Key)
			want := strings.ReplaceAll(rec.Locale.Int(l.Period.Count)+" "+rec.Locale.Int(l.Period.Base), "\u00a0", " ")
			// A long label wraps in its cell: the figures stand on the line
			// of its first word.
			first := strings.Fields(label)[0]
			found := false
			for _, line := range strings.Split(text, "\n") {
				if strings.Contains(line, first) && strings.Contains(strings.Join(strings.Fields(line), " "), want) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: pdftotext finds no line %q with %q", lang, label, want)
			}
		}
		if err := exec.Command(pdftoppm, "-r", "60", "-png", "-f", "1", "-l", "1", path, strings.TrimSuffix(path, ".pdf")).Run(); err != nil {
			t.Errorf("%s: pdftoppm: %v", lang, err)
		}
	}
	t.Logf("PDFs and page-1 PNGs in %s", art)
}

// writeChecked writes r as PDF and XLSX in lang and checks every key the
// writers asked for is in lang's catalogue; it returns the locale used and
// the PDF.
func writeChecked(t *testing.T, cat *i18n.Catalogues, lang i18n.Lang, r *report.Report) (recorder, bytes.Buffer) {
	t.Helper()
	rec := recorder{Locale: report.Locale{C: cat, Lang: lang}, keys: map[string]bool{}}
	var pdf, xlsx bytes.Buffer
	if err := report.WritePDF(&pdf, r, rec); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteXLSX(&xlsx, r, rec); err != nil {
		t.Fatal(err)
	}
	for k := range rec.keys {
		if _, ok := cat.Lookup(lang, k); !ok {
			t.Errorf("%s: key %q not in the catalogue", lang, k)
		}
	}
	return rec, pdf
}
