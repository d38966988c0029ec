// Package pdfdoc builds the PDF documents of crimemap's periodic reports: A4
// portrait pages of headings, paragraphs, a cover block, tables that repeat
// their header and never split a row, notes, empty ruled slots to fill in by
// hand and images drawn elsewhere, with a running header and a "page N of M"
// footer.
//
// It is a thin layout layer over github.com/go-pdf/fpdf, chosen because it is
// pure Go, maintained, embeds subsetted UTF-8 TrueType fonts and lets the
// creation date and object order be fixed, which is what a deterministic,
// multilingual report needs without a browser, LaTeX or an office suite.
//
// Output is deterministic: the same calls with the same Options give a
// byte-identical file. The creation date comes from Options, objects are
// written in sorted order, font subset tags and the file identifier are
// derived from the content, and images of equal pixel width (whose order fpdf
// would otherwise take from map iteration) are made distinct.
//
// Methods that add content record the first error and ignore later calls;
// Write reports it, as bufio.Writer does. A Doc is not safe for concurrent
// use.
package pdfdoc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
)

// Page geometry, in millimetres: A4 portrait.
const (
	pageWidth  = 210.0
	pageHeight = 297.0
)

// ptToMM converts a font size in points to millimetres.
const ptToMM = 25.4 / 72

// ErrWritten is returned when content is added to, or options changed on, a
// document that has already been written: the bytes handed out must stay the
// bytes of the document.
var ErrWritten = errors.New("pdfdoc: document already written")

// Margins are the page margins in millimetres. The running header sits in the
// top margin and the footer in the bottom one, so neither may be below 12 mm.
type Margins struct {
	Top, Right, Bottom, Left float64
}

// Options describe a document. Created is required: it is the only clock the
// document has, so that the same report built twice is the same file.
type Options struct {
	// Title, Subject and Author go into the document information
	// dictionary; Title is also the running header unless Header is set.
	Title   string
	Subject string
	Author  string
	// Language is the document's natural language as a BCP 47 tag
	// ("uz-Latn", "ru", "kk"), written to the catalogue's /Lang so screen
	// readers pick the right voice. Empty leaves it out.
	Language string
	// Created is written as the creation and modification date (in UTC).
	Created time.Time
	// Margins default to 20 mm top and bottom, 20 mm left and 15 mm right
	// when all four are zero.
	Margins Margins
	// Header is the running header at the top of every page; empty uses
	// Title.
	Header string
	// Footer is printed at the bottom left of every page, e.g. the office
	// and the data cut-off.
	Footer string
	// PageLabel formats the bottom-right page label from the page number
	// and the total ("page 3 of 30" in the report's language). Nil prints
	// "3 / 30".
	PageLabel func(page, total int) string
}

// Doc is a document being built. Create it with New, add content in reading
// order and finish with Write.
type Doc struct {
	pdf  *fpdf.Fpdf
	opts Options
	err  error
	// out holds the finished file once Write has run, so that a second
	// Write gives the same bytes and later content is refused.
	out []byte

	// loaded records the faces registered with fpdf: faces are added on
	// first use so that a document never carries an unused font.
	loaded [faceCount]bool
	// curFace and curSize are the font last selected on the current page;
	// fpdf emits a font operator on every SetFont, so the Doc skips
	// redundant ones.
	curFace face
	curSize float64
	hasFont bool

	// y is the top of the free space on the current page, in mm.
	y float64
	// fresh is true while nothing has been drawn on the current page, so
	// that a block too tall for any page is drawn anyway instead of
	// breaking pages forever.
	fresh bool
	// outlineTop is true once a level-1 heading has been bookmarked, so a
	// level-2 bookmark before it is not left without a parent.
	outlineTop bool

	// imageWidths maps the pixel width of every registered image to its
	// content key; see registerImage.
	imageWidths map[int]string
	// images maps the content key of every PNG the caller gave to what was
	// registered for it.
	images map[string]registered
}

// New starts an A4 portrait document.
func New(opts Options) (*Doc, error) {
	if opts.Created.IsZero() {
		return nil, errors.New("pdfdoc: Options.Created is required: a fixed date keeps the output deterministic")
	}
	if opts.Margins == (Margins{}) {
		opts.Margins = Margins{Top: 20, Right: 15, Bottom: 20, Left: 20}
	}
	m := opts.Margins
	// The running header and the footer are drawn inside the top and
	// bottom margins, which therefore need room for a line each.
	if m.Top < 12 || m.Bottom < 12 || m.Right < 0 || m.Left < 0 ||
		m.Left+m.Right > pageWidth-40 || m.Top+m.Bottom > pageHeight-60 {
		return nil, fmt.Errorf("pdfdoc: margins %+v: top and bottom must be at least 12 mm (header and footer) and at least 40 x 60 mm of the A4 page must remain", m)
	}
	if !validLanguageTag(opts.Language) {
		return nil, fmt.Errorf("pdfdoc: language %q is not a BCP 47 tag (letters, digits and hyphens)", opts.Language)
	}
	if opts.PageLabel == nil {
		opts.PageLabel = func(page, total int) string { return fmt.Sprintf("%d / %d", page, total) }
	}

	pdf := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "mm", SizeStr: "A4"})
	// Catalogue sorting makes fpdf write fonts and images in a fixed order
	// instead of Go's random map order.
	pdf.SetCatalogSort(true)
	created := opts.Created.UTC()
	pdf.SetCreationDate(created)
	pdf.SetModificationDate(created)
	pdf.SetProducer("crimemap report/pdfdoc (go-pdf/fpdf)", true)
	pdf.SetCreator("crimemap", true)
	// fpdf writes an empty UTF-16 string (a bare byte-order mark) for an
	// empty value, so only values that exist are set.
	if s := clean(opts.Title, false); s != "" {
		pdf.SetTitle(s, true)
	}
	if s := clean(opts.Subject, false); s != "" {
		pdf.SetSubject(s, true)
	}
	if s := clean(opts.Author, false); s != "" {
		pdf.SetAuthor(s, true)
	}
	if opts.Language != "" {
		pdf.SetLang(opts.Language)
	}
	pdf.SetMargins(m.Left, m.Top, m.Right)
	// The Doc places every block itself and breaks pages where a block
	// fits, so fpdf's own page breaking (which would split table rows) is
	// off.
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCellMargin(0)
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("pdfdoc: set up document: %w", err)
	}
	return &Doc{pdf: pdf, opts: opts, imageWidths: map[int]string{}, images: map[string]registered{}}, nil
}

// validLanguageTag accepts the characters of a BCP 47 tag; the value is
// written into the PDF unescaped.
func validLanguageTag(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return len(s) <= 35
}

// Write finishes the document (running headers, footers with the page total)
// and writes the PDF to w. It reports the first error of any earlier call.
// Calling it again writes the same bytes.
func (d *Doc) Write(w io.Writer) error {
	if d.err != nil {
		return d.err
	}
	if d.out == nil {
		if err := d.finish(); err != nil {
			return err
		}
	}
	if _, err := w.Write(d.out); err != nil {
		return fmt.Errorf("pdfdoc: write PDF: %w", err)
	}
	return nil
}

// finish draws the page furniture, renders the file and fixes what fpdf
// leaves non-conforming or non-deterministic.
func (d *Doc) finish() error {
	if d.err != nil {
		return d.err
	}
	d.ensurePage()
	d.drawPageFurniture()
	var buf bytes.Buffer
	if err := d.pdf.Output(&buf); err != nil {
		d.err = fmt.Errorf("pdfdoc: render PDF: %w", err)
		return d.err
	}
	out, err := tagSubsets(buf.Bytes())
	if err != nil {
		d.err = err
		return err
	}
	out, err = addFileID(out)
	if err != nil {
		d.err = err
		return err
	}
	d.out = out
	return nil
}

// drawPageFurniture draws the running header and the footer on every page.
// It runs at the end because only then is the page total known; fpdf lets a
// finished page be appended to, and every colour and font is set explicitly
// because the graphics state left at the end of that page is not the Doc's.
func (d *Doc) drawPageFurniture() {
	m := d.opts.Margins
	total := d.pdf.PageCount()
	header := d.opts.Header
	if header == "" {
		header = d.opts.Title
	}
	header = clean(header, false)
	footer := clean(d.opts.Footer, false)
	const size = 7.5
	lineWidth := pageWidth - m.Left - m.Right
	for p := 1; p <= total; p++ {
		d.pdf.SetPage(p)
		d.hasFont = false
		d.pdf.SetLineWidth(0.2)
		d.pdf.SetDrawColor(170, 170, 170)
		d.pdf.SetFillColor(255, 255, 255)
		d.pdf.SetTextColor(90, 90, 90)
		d.setFont(faceRegular, size)
		if header != "" {
			base := m.Top - 6
			d.pdf.Text(m.Left, base, d.fitWidth(header, lineWidth))
			d.pdf.Line(m.Left, base+1.8, pageWidth-m.Right, base+1.8)
		}
		label := clean(d.opts.PageLabel(p, total), false)
		labelWidth := d.pdf.GetStringWidth(label)
		base := pageHeight - m.Bottom + 8
		d.pdf.Line(m.Left, base-4.2, pageWidth-m.Right, base-4.2)
		d.pdf.Text(pageWidth-m.Right-labelWidth, base, label)
		if footer != "" {
			d.pdf.Text(m.Left, base, d.fitWidth(footer, lineWidth-labelWidth-6))
		}
	}
	d.pdf.SetPage(total)
	d.hasFont = false
}

// fitWidth shortens s with an ellipsis until it fits width in the current
// font; page furniture has one line and must not run into the page label.
func (d *Doc) fitWidth(s string, width float64) string {
	if d.pdf.GetStringWidth(s) <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && d.pdf.GetStringWidth(string(r)+"…") > width {
		r = r[:len(r)-1]
	}
	return strings.TrimRight(string(r), " ") + "…"
}

// tagSubsets gives every embedded font subset the six-letter tag that the
// PDF specification (ISO 32000-1, 9.6.4) requires of subsets and that
// fpdf leaves out, so that viewers and pdffonts know the font is a subset.
// The tag is derived from the file's content, which keeps the output
// deterministic, and has the length of fpdf's own name, so no offset moves.
func tagSubsets(pdf []byte) ([]byte, error) {
	sum := sha256.Sum256(pdf)
	out := pdf
	for f := face(0); f < faceCount; f++ {
		old := []byte(f.placeholder())
		if !bytes.Contains(out, old) {
			continue
		}
		h := sha256.Sum256(append(sum[:], f.postScriptName()...))
		var tag [6]byte
		for i := range tag {
			tag[i] = 'A' + h[i]%26
		}
		repl := []byte(f.tagged(string(tag[:])))
		if len(repl) != len(old) {
			return nil, fmt.Errorf("pdfdoc: subset name %s and %s differ in length", old, repl)
		}
		out = replaceName(out, old, repl)
	}
	return out, nil
}

// replaceName replaces the PDF name old by repl wherever it stands as a whole
// name, that is followed by a delimiter or white space.
func replaceName(b, old, repl []byte) []byte {
	for i := 0; ; {
		j := bytes.Index(b[i:], old)
		if j < 0 {
			return b
		}
		j += i
		end := j + len(old)
		if end == len(b) || bytes.IndexByte([]byte("/[]<>() \r\n\t\f"), b[end]) >= 0 {
			copy(b[j:end], repl)
		}
		i = end
	}
}

// addFileID adds a file identifier (/ID) to the trailer. fpdf writes none
// unless it encrypts, but PDF 2.0 and PDF/A require one; deriving it from the
// content, as reproducible-build tools do, keeps the file deterministic. The
// trailer follows the cross-reference table, so inserting into it moves no
// object.
func addFileID(pdf []byte) ([]byte, error) {
	at := bytes.LastIndex(pdf, []byte("\ntrailer\n<<\n"))
	if at < 0 {
		return nil, errors.New("pdfdoc: rendered PDF has no trailer")
	}
	at += len("\ntrailer\n<<\n")
	startxref := bytes.LastIndex(pdf, []byte("\nstartxref\n"))
	if startxref < at {
		return nil, errors.New("pdfdoc: rendered PDF has no startxref after its trailer")
	}
	sum := sha256.Sum256(pdf)
	id := hex.EncodeToString(sum[:16])
	entry := "/ID [<" + id + "> <" + id + ">]\n"
	out := make([]byte, 0, len(pdf)+len(entry))
	out = append(out, pdf[:at]...)
	out = append(out, entry...)
	out = append(out, pdf[at:]...)
	return out, nil
}
