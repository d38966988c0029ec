package pdfdoc

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Type sizes in points and the colours of secondary text, shared by the
// blocks so that a report looks the same from section to section.
const (
	bodySize    = 10.0
	noteSize    = 8.0
	captionSize = 8.0
	tableSize   = 8.5
	// lineSpacing is the line height as a multiple of the type size.
	lineSpacing = 1.35
	// ruleSpacing is the distance between the ruled lines of an empty
	// section: room for handwriting.
	ruleSpacing = 8.0
	// noteSkew is the slant, in degrees, that makes the regular face look
	// oblique for notes; a synthetic slant saves embedding a third
	// 600 KB face for a few lines per report.
	noteSkew = 12.0
	greyText = 95
)

// Align is the horizontal alignment of text in a table column.
type Align int

// Alignments. The zero value aligns left, which suits names; counts and
// rates read best right-aligned.
const (
	AlignLeft Align = iota
	AlignRight
	AlignCenter
)

// Heading adds a section heading. Level 1 is a chapter (with a rule under it),
// 2 a section and 3 or more a subsection; levels 1 and 2 also become PDF
// bookmarks. A heading is never left alone at the bottom of a page.
func (d *Doc) Heading(level int, text string) {
	if !d.ok() {
		return
	}
	size, before := 11.0, 3.0
	switch {
	case level <= 1:
		size, before = 15, 6
	case level == 2:
		size, before = 12.5, 4.5
	}
	text = clean(text, false)
	d.ensurePage()
	d.setFont(faceBold, size)
	lh := size * ptToMM * 1.25
	lines := d.wrap(text, d.bodyWidth())
	h := float64(len(lines)) * lh
	if !d.fresh {
		d.y += before
	}
	// Keep the heading with at least two lines of what follows.
	d.need(h + 2 + 2*bodySize*ptToMM*lineSpacing)
	top := d.y
	d.pdf.SetTextColor(0, 0, 0)
	for _, line := range lines {
		d.text(line, d.left(), d.y, d.bodyWidth(), lh, size, AlignLeft)
		d.y += lh
	}
	if level <= 1 {
		d.pdf.SetLineWidth(0.4)
		d.pdf.SetDrawColor(60, 60, 60)
		d.pdf.Line(d.left(), d.y+0.8, d.right(), d.y+0.8)
		d.y += 1.6
	}
	switch {
	case level <= 1:
		d.pdf.Bookmark(text, 0, top)
		d.outlineTop = true
	case level == 2:
		// A section before any chapter would have no parent in the
		// outline, so it becomes a top-level entry.
		lvl := 0
		if d.outlineTop {
			lvl = 1
		}
		d.pdf.Bookmark(text, lvl, top)
	}
	d.y += 2
	d.drawn()
}

// Paragraph adds body text, wrapped to the text width; "\n" starts a new
// line. A paragraph may continue on the next page, but never leaves a single
// line behind.
func (d *Doc) Paragraph(text string) {
	if !d.ok() {
		return
	}
	d.ensurePage()
	d.setFont(faceRegular, bodySize)
	d.pdf.SetTextColor(0, 0, 0)
	d.flow(clean(text, true), bodySize, 0)
	d.y += 2.5
}

// Note adds small, grey, slanted text: sources, definitions, the
// "preliminary" remark.
func (d *Doc) Note(text string) {
	if !d.ok() {
		return
	}
	d.ensurePage()
	d.setFont(faceRegular, noteSize)
	d.pdf.SetTextColor(greyText, greyText, greyText)
	d.flow(clean(text, true), noteSize, noteSkew)
	d.pdf.SetTextColor(0, 0, 0)
	d.y += 2.5
}

// flow draws wrapped lines in the current font, breaking pages between lines
// but keeping at least two lines of a paragraph together at its start.
func (d *Doc) flow(text string, size, skew float64) {
	lh := size * ptToMM * lineSpacing
	lines := d.wrap(text, d.bodyWidth())
	if len(lines) >= 2 {
		d.need(2 * lh)
	}
	for _, line := range lines {
		d.need(lh)
		if skew != 0 {
			d.pdf.TransformBegin()
			d.pdf.TransformSkewX(skew, d.left(), d.baseline(d.y, lh, size))
		}
		d.text(line, d.left(), d.y, d.bodyWidth(), lh, size, AlignLeft)
		if skew != 0 {
			d.pdf.TransformEnd()
		}
		d.y += lh
		d.drawn()
	}
}

// KeyValues adds a two-column block of labels and values, the cover block of
// a report (territory, period, comparison base, data cut-off). A pair is
// never split across pages.
func (d *Doc) KeyValues(pairs [][2]string) {
	if !d.ok() || len(pairs) == 0 {
		return
	}
	d.ensurePage()
	const gap = 4.0
	keyWidth := d.bodyWidth() * 0.38
	valWidth := d.bodyWidth() - keyWidth - gap
	lh := bodySize * ptToMM * lineSpacing
	d.pdf.SetLineWidth(0.15)
	d.pdf.SetDrawColor(200, 200, 200)
	d.pdf.SetTextColor(0, 0, 0)
	for i, kv := range pairs {
		d.setFont(faceBold, bodySize)
		keys := d.wrap(clean(kv[0], true), keyWidth)
		d.setFont(faceRegular, bodySize)
		vals := d.wrap(clean(kv[1], true), valWidth)
		h := float64(max(len(keys), len(vals)))*lh + 2
		if d.need(h) || i == 0 {
			d.pdf.Line(d.left(), d.y, d.right(), d.y)
		}
		top := d.y + 1
		d.setFont(faceBold, bodySize)
		for j, line := range keys {
			d.text(line, d.left(), top+float64(j)*lh, keyWidth, lh, bodySize, AlignLeft)
		}
		d.setFont(faceRegular, bodySize)
		for j, line := range vals {
			d.text(line, d.left()+keyWidth+gap, top+float64(j)*lh, valWidth, lh, bodySize, AlignLeft)
		}
		d.y += h
		d.pdf.Line(d.left(), d.y, d.right(), d.y)
		d.drawn()
	}
	d.y += 4
}

// EmptySection adds a titled box of ruled lines for the office to fill in by
// hand (causes, measures, proposals). lines is the number of rules; a box
// longer than the rest of the page continues on the next one.
func (d *Doc) EmptySection(title string, lines int) {
	if !d.ok() {
		return
	}
	lines = max(lines, 1)
	d.ensurePage()
	const titleSize = 10.5
	d.setFont(faceBold, titleSize)
	lh := titleSize * ptToMM * 1.3
	titleLines := d.wrap(clean(title, false), d.bodyWidth())
	if !d.fresh {
		d.y += 3
	}
	d.need(float64(len(titleLines))*lh + 1 + float64(min(lines, 3))*ruleSpacing + 2)
	d.pdf.SetTextColor(0, 0, 0)
	for _, line := range titleLines {
		d.text(line, d.left(), d.y, d.bodyWidth(), lh, titleSize, AlignLeft)
		d.y += lh
	}
	d.y++
	d.drawn()
	for lines > 0 {
		fit := int((d.bottom() - d.y - 3.5) / ruleSpacing)
		if fit < min(lines, 2) {
			d.newPage()
			continue
		}
		n := min(fit, lines)
		h := float64(n)*ruleSpacing + 3.5
		d.pdf.SetLineWidth(0.3)
		d.pdf.SetDrawColor(80, 80, 80)
		d.pdf.Rect(d.left(), d.y, d.bodyWidth(), h, "D")
		d.pdf.SetLineWidth(0.1)
		d.pdf.SetDrawColor(170, 170, 170)
		for i := 1; i <= n; i++ {
			y := d.y + float64(i)*ruleSpacing
			d.pdf.Line(d.left()+3, y, d.right()-3, y)
		}
		d.y += h
		d.drawn()
		lines -= n
	}
	d.y += 4
}

// PageBreak starts a new page, unless the current page is still empty, so
// that a break after a block that already began a page adds no blank page.
func (d *Doc) PageBreak() {
	if !d.ok() {
		return
	}
	if d.pdf.PageCount() == 0 || d.fresh {
		d.ensurePage()
		return
	}
	d.newPage()
}

// ok reports whether the Doc can take more content, turning a finished
// document or an fpdf error into the Doc's error.
func (d *Doc) ok() bool {
	if d.err == nil && d.out != nil {
		d.err = ErrWritten
	}
	if d.err == nil {
		if err := d.pdf.Error(); err != nil {
			d.err = fmt.Errorf("pdfdoc: %w", err)
		}
	}
	return d.err == nil
}

// fail records err unless an earlier error is already recorded.
func (d *Doc) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// Geometry of the text area.
func (d *Doc) left() float64      { return d.opts.Margins.Left }
func (d *Doc) right() float64     { return pageWidth - d.opts.Margins.Right }
func (d *Doc) top() float64       { return d.opts.Margins.Top }
func (d *Doc) bottom() float64    { return pageHeight - d.opts.Margins.Bottom }
func (d *Doc) bodyWidth() float64 { return d.right() - d.left() }

// ensurePage opens the first page.
func (d *Doc) ensurePage() {
	if d.pdf.PageCount() == 0 {
		d.newPage()
	}
}

// newPage starts a page and puts the free space at its top.
func (d *Doc) newPage() {
	d.pdf.AddPage()
	// fpdf re-selects the font on the new page itself, but the Doc's idea
	// of the current font is reset so that the next block states its own.
	d.hasFont = false
	d.y = d.top()
	d.fresh = true
}

// need starts a new page when h millimetres do not fit below y, unless the
// page is still empty (a block taller than a page then runs over rather than
// break pages forever). It reports whether it broke the page.
func (d *Doc) need(h float64) bool {
	if d.fresh || d.y+h <= d.bottom()+1e-9 {
		return false
	}
	d.newPage()
	return true
}

// drawn marks the current page as holding content.
func (d *Doc) drawn() { d.fresh = false }

// setFont selects a face and size (in points), registering the face with fpdf
// on first use.
func (d *Doc) setFont(f face, size float64) {
	if d.hasFont && d.curFace == f && d.curSize == size {
		return
	}
	if !d.loaded[f] {
		b, err := fontBytes(f)
		if err != nil {
			d.fail(err)
			return
		}
		d.pdf.AddUTF8FontFromBytes(f.family(), "", b)
		d.loaded[f] = true
	}
	d.pdf.SetFont(f.family(), "", size)
	if err := d.pdf.Error(); err != nil {
		d.fail(fmt.Errorf("pdfdoc: select font %s: %w", f.postScriptName(), err))
		return
	}
	d.curFace, d.curSize, d.hasFont = f, size, true
}

// baseline is the baseline of a line of text in a line box of height lh whose
// top is at y: the cap height (about 0.73 em in DejaVu) is centred.
func (d *Doc) baseline(y, lh, size float64) float64 {
	return y + (lh+0.73*size*ptToMM)/2
}

// text draws one line of text (already wrapped) in the current font inside
// the box [x, x+width] with its line box starting at y.
func (d *Doc) text(s string, x, y, width, lh, size float64, align Align) {
	if s == "" {
		return
	}
	switch align {
	case AlignRight:
		x += width - d.pdf.GetStringWidth(s)
	case AlignCenter:
		x += (width - d.pdf.GetStringWidth(s)) / 2
	}
	d.pdf.Text(x, d.baseline(y, lh, size), s)
}

// wrap breaks text into lines no wider than width in the current font,
// measuring with the font's own advance widths. Lines break at ASCII spaces
// only, so that no-break spaces in formatted numbers ("1 234") hold; a word
// wider than a line is broken between characters. "\n" forces a break and an
// empty input line stays an empty line.
func (d *Doc) wrap(text string, width float64) []string {
	var out []string
	space := d.pdf.GetStringWidth(" ")
	for _, para := range strings.Split(text, "\n") {
		var line strings.Builder
		lineWidth := 0.0
		words := strings.Split(para, " ")
		empty := true
		for _, w := range words {
			if w == "" {
				continue
			}
			empty = false
			ww := d.pdf.GetStringWidth(w)
			if line.Len() > 0 && lineWidth+space+ww <= width {
				line.WriteByte(' ')
				line.WriteString(w)
				lineWidth += space + ww
				continue
			}
			if line.Len() > 0 {
				out = append(out, line.String())
				line.Reset()
				lineWidth = 0
			}
			for ww > width && utf8.RuneCountInString(w) > 1 {
				head, rest := d.cut(w, width)
				out = append(out, head)
				w = rest
				ww = d.pdf.GetStringWidth(w)
			}
			line.WriteString(w)
			lineWidth = ww
		}
		if line.Len() > 0 || empty {
			out = append(out, line.String())
		}
	}
	return out
}

// cut splits a word that is wider than width after the most characters that
// fit (at least one, so that wrapping always advances).
func (d *Doc) cut(w string, width float64) (string, string) {
	used := 0.0
	for i, r := range w {
		rw := d.pdf.GetStringWidth(string(r))
		if used+rw > width && i > 0 {
			return w[:i], w[i:]
		}
		used += rw
	}
	return w, ""
}

// clean makes caller text safe for the font and the PDF: invalid UTF-8 and
// characters outside the Basic Multilingual Plane (which fpdf's UTF-8 font
// tables do not index) become U+FFFD, tabs become spaces, and other control
// characters are dropped; "\n" survives only where a block takes several
// lines.
func clean(s string, multiline bool) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			if multiline {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		case r == '\t':
			b.WriteByte(' ')
		case r > 0xFFFF:
			b.WriteRune(utf8.RuneError)
		case unicode.IsControl(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
