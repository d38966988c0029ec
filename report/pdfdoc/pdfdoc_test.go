package pdfdoc

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// samples are the strings the multilingual test document carries, one per
// language, each short enough to stay on one line of body text so that
// pdftotext gives it back whole.
var samples = []struct{ lang, text string }{
	{"uz", "Oʻzbekiston: gʻarbiy mahallalar, shahar va qishloq taʼlimi"},
	{"uz", "OʻRTACHA GʻOYA: choʻl, oʻsish"},
	{"uz-Cyrl", "Ўзбекистон: ғарбий маҳаллалар, қишлоқ ва шаҳар"},
	{"uz-Cyrl", "ЎҚҒҲ ўқғҳ"},
	{"ru", "Криминогенная обстановка: сравнение с АППГ"},
	{"kk", "Қазақстан: «Қауіпсіз қала» бағдарламасы, өңір"},
	{"kk", "ӘҒҚҢӨҰҮҺІ әғқңөұүһі"},
	{"ky", "Кыргызстан: «Коопсуз өлкө», Ңң Өө Үү"},
	{"en", "Quarterly criminogenic report, English section"},
}

// tableRows is the size of the test document's table, enough for several
// pages.
const tableRows = 140

// mahallaName names row i; every seventh name is long enough to wrap in its
// column, so that wrapped rows are kept whole too.
func mahallaName(i int) string {
	name := fmt.Sprintf("Mahalla %03d", i)
	if i%7 == 3 {
		name += " — Qashqadaryo viloyati, Gʻuzor tumani, Oʻzbekiston ko‘chasi boʻyidagi hudud"
	}
	return name
}

func rowCount(i int) int { return 1000 + 37*i }

// testPNG draws a w x h image: bands of the red, yellow and green of the
// mahalla categories, shifted by seed so that images of equal size differ.
func testPNG(t testing.TB, w, h, seed int, deep bool) []byte {
	t.Helper()
	colours := []color.RGBA{{200, 40, 40, 255}, {230, 190, 40, 255}, {60, 160, 70, 255}}
	var img image.Image
	if deep {
		m := image.NewNRGBA64(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				m.Set(x, y, colours[(x/20+y/20+seed)%3])
			}
		}
		img = m
	} else {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				m.SetRGBA(x, y, colours[(x/20+y/20+seed)%3])
			}
		}
		img = m
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var testCreated = time.Date(2026, 4, 10, 9, 30, 0, 0, time.UTC)

func testOptions() Options {
	return Options{
		Title:    "Jinoyatchilik holati — 2026-yil I chorak",
		Subject:  "Criminogenic situation report",
		Author:   "Qashqadaryo viloyati prokuraturasi",
		Language: "uz-Latn",
		Created:  testCreated,
		Footer:   "Maʼlumotlar holati: 2026-04-05, snapshot 42",
		PageLabel: func(page, total int) string {
			return fmt.Sprintf("%d-bet, jami %d", page, total)
		},
	}
}

// buildSample builds the multilingual test document with every kind of
// block, a table of tableRows rows over several pages, and two different
// images of equal width (the case fpdf would order at random).
func buildSample(t testing.TB) []byte {
	t.Helper()
	d, err := New(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	d.Heading(1, "Jinoyatchilik holati — Криминогенная обстановка")
	d.KeyValues([][2]string{
		{"Hudud", "Qashqadaryo viloyati"},
		{"Davr", "2026-yil I chorak (yanvar–mart)"},
		{"Taqqoslash", "АППГ: 2025-yil I chorak"},
		{"Maʼlumotlar holati", "2026-04-05 09:00, snapshot 42, data version 7"},
	})
	d.Note("Dastlabki maʼlumotlar: 12 ta hodisa kechikib roʻyxatga olingan.")
	d.Heading(2, "Tillar / Languages")
	for _, s := range samples {
		d.Paragraph(s.text)
	}
	d.Paragraph(strings.Repeat("Mahallalar kesimida jinoyatchilik tahlili oʻtkazildi va natijalar taqqoslandi. ", 12))
	d.Heading(2, "Mahallalar")
	rows := make([][]string, tableRows)
	sum := 0
	for i := range rows {
		c := rowCount(i)
		sum += c
		rows[i] = []string{strconv.Itoa(i + 1), mahallaName(i), strconv.Itoa(c), strconv.Itoa(c - 11), "+0.4", "12.5"}
	}
	d.Table(Table{
		Columns: []Column{
			{Title: "№", Width: 0.06, Align: AlignRight},
			{Title: "Mahalla", Width: 0.42},
			{Title: "Jinoyatlar", Width: 0.13, Align: AlignRight},
			{Title: "АППГ", Width: 0.13, Align: AlignRight},
			{Title: "Oʻzgarish", Width: 0.12, Align: AlignRight},
			{Title: "100 ming aholiga", Width: 0.14, Align: AlignRight},
		},
		Rows:  rows,
		Total: []string{"", "Jami", strconv.Itoa(sum), "", "", ""},
	})
	d.Image(testPNG(t, 400, 200, 0, false), 120, "1-rasm. Mahallalar toifalari (qizil, sariq, yashil)")
	d.Image(testPNG(t, 400, 150, 1, false), 120, "2-rasm. Xuddi shu kenglikdagi boshqa rasm")
	d.Image(testPNG(t, 300, 100, 2, true), 80, "3-rasm. 16 bitli PNG")
	d.PageBreak()
	d.EmptySection("Sabablar va shart-sharoitlar / Причины и условия", 6)
	d.EmptySection("Koʻrilgan choralar / Принятые меры", 4)
	var buf bytes.Buffer
	if err := d.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// poppler returns the path of a poppler-utils tool, skipping the test when it
// is missing unless CRIMEMAP_REQUIRE_POPPLER=1 (CI), where it fails.
func poppler(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CRIMEMAP_REQUIRE_POPPLER") == "1" {
			t.Fatalf("%s is required (CRIMEMAP_REQUIRE_POPPLER=1) but not installed: %v", name, err)
		}
		t.Skipf("%s not installed (apt-get install poppler-utils); set CRIMEMAP_REQUIRE_POPPLER=1 to fail instead", name)
	}
	return p
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func writeSample(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sample.pdf")
	if err := os.WriteFile(path, buildSample(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var spaces = regexp.MustCompile(`[ \t]+`)

func TestPDFTextReadsBack(t *testing.T) {
	pdftotext := poppler(t, "pdftotext")
	path := writeSample(t)
	text := run(t, pdftotext, "-layout", "-enc", "UTF-8", path, "-")
	pages := strings.Split(strings.TrimRight(text, "\f"), "\f")

	// Every sample string comes back whole on one line.
	lines := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		lines[strings.TrimSpace(spaces.ReplaceAllString(l, " "))] = true
	}
	for _, s := range samples {
		if !lines[s.text] {
			t.Errorf("pdftotext has no line %q (%s)", s.text, s.lang)
		}
	}
	for _, letter := range strings.Split("ʻ ʼ Ў Қ Ғ Ҳ ў қ ғ ҳ Ә Ң Ө Ұ Ү Һ І ә ң ө ұ ү һ і", " ") {
		if !strings.Contains(text, letter) {
			t.Errorf("pdftotext output lacks %q (%U)", letter, []rune(letter)[0])
		}
	}

	// Every table row is on one page, with its header repeated there, and
	// its numbers in the order of its cells.
	header := regexp.MustCompile(`№\s+Mahalla\s+Jinoyatlar\s+АППГ\s+Oʻzgarish\s+100 ming`)
	tablePages := map[int]bool{}
	sum := 0
	for i := range tableRows {
		c := rowCount(i)
		sum += c
		row := regexp.MustCompile(fmt.Sprintf(`(?m)^\s*%d\s+Mahalla %03d.*\s%d\s+%d\s+\+0\.4\s+12\.5\s*$`, i+1, i, c, c-11))
		found := -1
		for p, page := range pages {
			if row.MatchString(page) {
				found = p
				break
			}
		}
		if found < 0 {
			t.Errorf("table row %d (count %d) not found on any page", i+1, c)
			continue
		}
		tablePages[found] = true
		if i%7 == 3 && !strings.Contains(spaces.ReplaceAllString(pages[found], " "), "boʻyidagi hudud") {
			t.Errorf("wrapped row %d: its last line is not on page %d with its first", i+1, found+1)
		}
	}
	if len(tablePages) < 3 {
		t.Errorf("the table covers %d pages, want a multi-page table (>= 3)", len(tablePages))
	}
	for p := range tablePages {
		if !header.MatchString(pages[p]) {
			t.Errorf("page %d holds table rows but no repeated header", p+1)
		}
	}
	if !regexp.MustCompile(fmt.Sprintf(`Jami\s+%d`, sum)).MatchString(text) {
		t.Errorf("total row with %d not found", sum)
	}

	// Page furniture: the caller's footer and "page N of M" on every page.
	for p, page := range pages {
		label := fmt.Sprintf("%d-bet, jami %d", p+1, len(pages))
		if !strings.Contains(page, label) {
			t.Errorf("page %d lacks the page label %q", p+1, label)
		}
		if !strings.Contains(page, "Maʼlumotlar holati: 2026-04-05, snapshot 42") {
			t.Errorf("page %d lacks the footer", p+1)
		}
	}
	t.Logf("%d pages, table on %d of them", len(pages), len(tablePages))
}

func TestPDFFontsEmbeddedAndSubset(t *testing.T) {
	pdffonts := poppler(t, "pdffonts")
	out := run(t, pdffonts, writeSample(t))
	t.Logf("pdffonts:\n%s", out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 {
		t.Fatalf("pdffonts lists no fonts:\n%s", out)
	}
	seen := map[string]bool{}
	tagged := regexp.MustCompile(`^[A-Z]{6}\+(\S+)$`)
	for _, l := range lines[2:] {
		f := strings.Fields(l)
		// name type... encoding emb sub uni objectID generation
		if len(f) < 7 {
			t.Fatalf("unexpected pdffonts line %q", l)
		}
		name, emb, sub, uni := f[0], f[len(f)-5], f[len(f)-4], f[len(f)-3]
		if emb != "yes" || sub != "yes" || uni != "yes" {
			t.Errorf("font %s: emb %s sub %s uni %s, want yes yes yes", name, emb, sub, uni)
		}
		m := tagged.FindStringSubmatch(name)
		if m == nil {
			t.Errorf("font name %q has no subset tag", name)
			continue
		}
		seen[m[1]] = true
	}
	for f := face(0); f < faceCount; f++ {
		if !seen[f.postScriptName()] {
			t.Errorf("pdffonts does not list %s, which the sample uses", f.postScriptName())
		}
	}
	if len(seen) != int(faceCount) {
		t.Errorf("pdffonts lists %d distinct faces, want %d", len(seen), faceCount)
	}
}

func TestDeterministic(t *testing.T) {
	first := buildSample(t)
	for i := range 4 {
		if next := buildSample(t); !bytes.Equal(first, next) {
			t.Fatalf("build %d differs from the first (%d vs %d bytes)", i+2, len(next), len(first))
		}
	}
	// Nothing of the build's own clock or randomness is left: the dates
	// are the fixed one and the file identifier is the content's.
	for _, want := range []string{"/CreationDate (D:20260410093000)", "/ModDate (D:20260410093000)", "/ID [<"} {
		if !bytes.Contains(first, []byte(want)) {
			t.Errorf("PDF lacks %q", want)
		}
	}
	if n := bytes.Count(first, []byte("/ID [")); n != 1 {
		t.Errorf("PDF has %d /ID entries, want 1", n)
	}
	if bytes.Contains(first, []byte("utf8dejavu")) {
		t.Error("an untagged fpdf font name is left in the PDF")
	}
	// Another creation date changes the file only where the date is.
	opts := testOptions()
	opts.Created = testCreated.Add(time.Hour)
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	d.Paragraph("x")
	var a, b bytes.Buffer
	if err := d.Write(&a); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(a.Bytes(), []byte("(D:20260410103000)")) {
		t.Error("creation date from Options not written")
	}
	// Write again gives the same bytes.
	if err := d.Write(&b); err != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("second Write: err %v, equal %v", err, bytes.Equal(a.Bytes(), b.Bytes()))
	}
}

func TestRenderPNG(t *testing.T) {
	pdftoppm := poppler(t, "pdftoppm")
	dir := t.TempDir()
	if d := os.Getenv("CRIMEMAP_TEST_ARTEFACTS"); d != "" {
		dir = filepath.Join(d, "pdfdoc")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pdfPath := filepath.Join(dir, "sample.pdf")
	if err := os.WriteFile(pdfPath, buildSample(t), 0o644); err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(dir, "sample")
	run(t, pdftoppm, "-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile", pdfPath, prefix)
	pngPath := prefix + ".png"
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", pngPath, err)
	}
	// A4 at 60 dpi is 496 x 702 pixels; some of them must be ink.
	b := img.Bounds()
	if b.Dx() < 490 || b.Dx() > 500 || b.Dy() < 695 || b.Dy() > 710 {
		t.Errorf("page 1 rendered at %dx%d, want about 496x702 (A4 at 60 dpi)", b.Dx(), b.Dy())
	}
	dark := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r+g+bl < 3*0x8000 {
				dark++
			}
		}
	}
	if dark < 2000 {
		t.Errorf("page 1 has %d dark pixels: is the text drawn?", dark)
	}
	t.Logf("page 1 rendered to %s (PDF %s)", pngPath, pdfPath)
}

func TestWrapFitsWidth(t *testing.T) {
	d, err := New(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	d.ensurePage()
	d.setFont(faceRegular, bodySize)
	text := strings.Repeat("Oʻzbekiston Қазақстан Кыргызстан 1\u00a0234\u00a0567 ", 20) + strings.Repeat("ә", 300)
	for _, width := range []float64{10, 33.3, 80, 175} {
		lines := d.wrap(text, width)
		var joined []string
		for _, l := range lines {
			if w := d.pdf.GetStringWidth(l); w > width+1e-6 {
				t.Errorf("width %v: line %q is %.2f mm wide", width, l, w)
			}
			joined = append(joined, l)
		}
		// Wrapping loses no character and breaks no no-break space.
		if got, want := strings.ReplaceAll(strings.Join(joined, ""), " ", ""), strings.ReplaceAll(text, " ", ""); got != want {
			t.Errorf("width %v: wrapped text differs from input", width)
		}
		for _, l := range lines {
			if strings.HasSuffix(l, "1") && width >= 33 {
				t.Errorf("width %v: line %q breaks inside a number", width, l)
			}
		}
	}
	if got := d.wrap("a\n\nb", 100); len(got) != 3 || got[1] != "" {
		t.Errorf("wrap keeps empty lines: got %q", got)
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"oʻ\tgʻ":       "oʻ gʻ",
		"a\r\nb":       "a\nb",
		"bell\a":       "bell",
		"emoji 😀":      "emoji \ufffd",
		"bad \xff utf": "bad \ufffd utf",
	} {
		if got := clean(in, true); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
	if got := clean("a\nb", false); got != "a b" {
		t.Errorf("single-line clean kept a newline: %q", got)
	}
}

func TestErrors(t *testing.T) {
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), "Created") {
		t.Errorf("New without Created: %v", err)
	}
	if _, err := New(Options{Created: testCreated, Language: "uz) /Evil ("}); err == nil {
		t.Error("New accepted a language tag that would break the catalogue")
	}
	if _, err := New(Options{Created: testCreated, Margins: Margins{Left: 100, Right: 100}}); err == nil {
		t.Error("New accepted margins wider than the page")
	}
	cases := []struct {
		name string
		add  func(*Doc)
		want string
	}{
		{"row too short", func(d *Doc) {
			d.Table(Table{Columns: []Column{{Title: "a"}, {Title: "b"}}, Rows: [][]string{{"1", "2"}, {"3"}}})
		}, "row 1 has 1 cells, want 2"},
		{"total too long", func(d *Doc) {
			d.Table(Table{Columns: []Column{{Title: "a"}}, Total: []string{"1", "2"}})
		}, "total row has 2 cells"},
		{"mixed widths", func(d *Doc) {
			d.Table(Table{Columns: []Column{{Title: "a", Width: 0.5}, {Title: "b"}}})
		}, "give all or none"},
		{"no columns", func(d *Doc) { d.Table(Table{}) }, "no columns"},
		{"not a PNG", func(d *Doc) { d.Image([]byte("GIF89a"), 50, "") }, "not a PNG"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := New(Options{Created: testCreated})
			if err != nil {
				t.Fatal(err)
			}
			c.add(d)
			d.Paragraph("later content is ignored")
			err = d.Write(&bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Write: %v, want an error containing %q", err, c.want)
			}
		})
	}
	d, err := New(Options{Created: testCreated})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Write(&bytes.Buffer{}); err != nil {
		t.Fatalf("empty document: %v", err)
	}
	d.Paragraph("too late")
	if err := d.Write(&bytes.Buffer{}); !errors.Is(err, ErrWritten) {
		t.Errorf("content after Write: %v, want ErrWritten", err)
	}
}

// TestTallRowsAndBlocks checks the limits of the layout: a row taller than a
// page, a long empty section and an image taller than a page all finish
// without losing content or looping.
func TestTallRowsAndBlocks(t *testing.T) {
	d, err := New(Options{Created: testCreated})
	if err != nil {
		t.Fatal(err)
	}
	d.Table(Table{
		Columns: []Column{{Title: "a", Width: 1}, {Title: "b", Width: 9}},
		Rows:    [][]string{{"1", strings.Repeat("uzun matn ", 3000)}, {"2", "end"}},
	})
	d.EmptySection("Takliflar", 80)
	d.Image(testPNG(t, 50, 600, 0, false), 0, "tall")
	var buf bytes.Buffer
	if err := d.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if n := d.pdf.PageCount(); n < 5 || n > 20 {
		t.Errorf("%d pages, want the tall row and section to take a handful", n)
	}
	// The last block may leave its spacing below the margin, no more.
	if d.y > d.bottom()+4 {
		t.Errorf("content ends at %.1f mm, below the bottom margin %.1f mm", d.y, d.bottom())
	}
}

// BenchmarkDoc builds a region report's worth of PDF: about 900 table rows
// (Kashkadarya has ~830 mahallas) and some 30 pages, which must take well
// under the 2 s the report as a whole may use.
func BenchmarkDoc(b *testing.B) {
	rows := make([][]string, 900)
	for i := range rows {
		c := rowCount(i)
		rows[i] = []string{strconv.Itoa(i + 1), mahallaName(i), "Gʻuzor tumani", strconv.Itoa(c), strconv.Itoa(c - 11), "+0.4", "12.5", strconv.Itoa(i%900 + 1)}
	}
	cols := []Column{
		{Title: "№", Width: 0.05, Align: AlignRight},
		{Title: "Mahalla", Width: 0.33},
		{Title: "Tuman", Width: 0.14},
		{Title: "Jinoyatlar", Width: 0.1, Align: AlignRight},
		{Title: "АППГ", Width: 0.1, Align: AlignRight},
		{Title: "Oʻzgarish", Width: 0.09, Align: AlignRight},
		{Title: "100 ming", Width: 0.1, Align: AlignRight},
		{Title: "Oʻrin", Width: 0.09, Align: AlignRight},
	}
	maps := [][]byte{testPNG(b, 1200, 900, 0, false), testPNG(b, 1200, 900, 1, false)}
	pages := 0
	size := 0
	for b.Loop() {
		d, err := New(testOptions())
		if err != nil {
			b.Fatal(err)
		}
		d.Heading(1, "Qashqadaryo viloyati")
		d.KeyValues([][2]string{{"Davr", "2026-yil I chorak"}, {"АППГ", "2025-yil I chorak"}})
		for _, s := range samples {
			d.Paragraph(s.text)
		}
		d.Image(maps[0], 0, "Mahallalar toifalari")
		d.Image(maps[1], 0, "Gi* issiq nuqtalar")
		d.Heading(2, "Mahallalar")
		d.Table(Table{Columns: cols, Rows: rows, Total: []string{"", "Jami", "", "", "", "", "", ""}})
		// One short section per district (Kashkadarya has 16 districts
		// and cities), as the territory chapter has.
		for i := range 16 {
			d.Heading(3, fmt.Sprintf("%d-tuman", i+1))
			d.Paragraph(strings.Repeat("Tumanda jinoyatchilik oʻtgan yilning shu davriga nisbatan kamaydi. ", 6))
			d.Table(Table{Columns: cols, Rows: rows[i*5 : i*5+5]})
		}
		d.EmptySection("Choralar", 10)
		var buf bytes.Buffer
		if err := d.Write(&buf); err != nil {
			b.Fatal(err)
		}
		pages, size = d.pdf.PageCount(), buf.Len()
	}
	b.ReportMetric(float64(pages), "pages")
	b.ReportMetric(float64(size)/1e6, "MB")
}
