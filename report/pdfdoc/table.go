package pdfdoc

import (
	"fmt"
	"math"
)

// Column is one column of a Table.
type Column struct {
	// Title is the header text; it wraps when the column is narrow.
	Title string
	// Width is the column's share of the text width. Widths are scaled to
	// add up to the full width; when every width is zero the columns share
	// it equally.
	Width float64
	// Align aligns the column's cells, header included.
	Align Align
}

// Table is a table of text cells, set in the condensed face.
type Table struct {
	Columns []Column
	// Rows hold one string per column; a cell wraps within its column.
	Rows [][]string
	// Total, when not nil, is a bold row after the others (one string per
	// column), kept on the same page as the last row.
	Total []string
}

// Table cell geometry, in millimetres.
const (
	cellPadX = 1.2
	cellPadY = 0.8
)

// rowKind tells the header, body and total rows apart: they differ in face,
// shading and rules.
type rowKind int

const (
	rowBody rowKind = iota
	rowBodyShaded
	rowHeader
	rowTotal
)

// bold reports whether the row is set in the bold face.
func (k rowKind) bold() bool { return k == rowHeader || k == rowTotal }

// fill is the grey level of the row's background, 255 for none. Every other
// body row is shaded, which guides the eye along wide rows.
func (k rowKind) fill() int {
	switch k {
	case rowHeader:
		return 228
	case rowTotal:
		return 238
	case rowBodyShaded:
		return 246
	}
	return 255
}

// cellRow is a table row wrapped into lines, one slice of lines per column.
type cellRow struct {
	lines [][]string
	kind  rowKind
}

func (r cellRow) lineCount() int {
	n := 1
	for _, l := range r.lines {
		n = max(n, len(l))
	}
	return n
}

// tableLayout is a table prepared for drawing: absolute column positions and
// the wrapped header.
type tableLayout struct {
	x, w   []float64
	align  []Align
	header cellRow
	lh     float64
}

func (t tableLayout) height(r cellRow) float64 {
	return float64(r.lineCount())*t.lh + 2*cellPadY
}

// Table adds a table. Its header is repeated at the top of every page it
// continues on, and a row is never split across pages, unless the row alone
// is taller than a page, which is then continued line by line.
func (d *Doc) Table(t Table) {
	if !d.ok() {
		return
	}
	widths, err := columnWidths(t)
	if err != nil {
		d.fail(err)
		return
	}
	d.ensurePage()
	lay := tableLayout{lh: tableSize * ptToMM * 1.22}
	x := d.left()
	for i, c := range t.Columns {
		w := widths[i] * d.bodyWidth()
		lay.x = append(lay.x, x)
		lay.w = append(lay.w, w)
		lay.align = append(lay.align, c.Align)
		x += w
	}
	titles := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		titles[i] = c.Title
	}
	lay.header = d.wrapRow(lay, titles, rowHeader)

	var total cellRow
	if t.Total != nil {
		total = d.wrapRow(lay, t.Total, rowTotal)
	}
	if !d.fresh {
		d.y += 1
	}
	// The header must not stand alone at the bottom of a page: it starts
	// where at least the first row (or the total) fits under it.
	first := lay.header
	switch {
	case len(t.Rows) > 0:
		first = d.wrapRow(lay, t.Rows[0], rowBody)
	case t.Total != nil:
		first = total
	}
	d.need(lay.height(lay.header) + min(lay.height(first), d.bottom()-d.top()-lay.height(lay.header)))
	d.drawRow(lay, lay.header)

	for i, cells := range t.Rows {
		kind := rowBody
		if i%2 == 1 {
			kind = rowBodyShaded
		}
		row := d.wrapRow(lay, cells, kind)
		keep := lay.height(row)
		if i == len(t.Rows)-1 && t.Total != nil {
			keep += lay.height(total)
		}
		d.placeRow(lay, row, keep)
	}
	if t.Total != nil {
		d.placeRow(lay, total, lay.height(total))
	}
	d.y += 4
}

// columnWidths validates the table's shape and returns its column widths as
// fractions that add up to one.
func columnWidths(t Table) ([]float64, error) {
	n := len(t.Columns)
	if n == 0 {
		return nil, fmt.Errorf("pdfdoc: table has no columns")
	}
	for i, r := range t.Rows {
		if len(r) != n {
			return nil, fmt.Errorf("pdfdoc: table row %d has %d cells, want %d (one per column)", i, len(r), n)
		}
	}
	if t.Total != nil && len(t.Total) != n {
		return nil, fmt.Errorf("pdfdoc: table total row has %d cells, want %d (one per column)", len(t.Total), n)
	}
	sum, zeros := 0.0, 0
	for i, c := range t.Columns {
		if c.Width < 0 || math.IsNaN(c.Width) || math.IsInf(c.Width, 0) {
			return nil, fmt.Errorf("pdfdoc: table column %d (%q) has width %v, want a fraction >= 0", i, c.Title, c.Width)
		}
		if c.Width == 0 {
			zeros++
		}
		sum += c.Width
	}
	w := make([]float64, n)
	switch zeros {
	case n:
		for i := range w {
			w[i] = 1 / float64(n)
		}
	case 0:
		for i, c := range t.Columns {
			w[i] = c.Width / sum
		}
	default:
		return nil, fmt.Errorf("pdfdoc: table gives widths to %d of %d columns; give all or none", n-zeros, n)
	}
	return w, nil
}

// wrapRow wraps the cells of a row into their columns in the face the row is
// drawn in.
func (d *Doc) wrapRow(lay tableLayout, cells []string, kind rowKind) cellRow {
	d.setTableFont(kind.bold())
	r := cellRow{lines: make([][]string, len(cells)), kind: kind}
	for i, c := range cells {
		r.lines[i] = d.wrap(clean(c, true), lay.w[i]-2*cellPadX)
	}
	return r
}

func (d *Doc) setTableFont(bold bool) {
	if bold {
		d.setFont(faceCondensedBold, tableSize)
	} else {
		d.setFont(faceCondensed, tableSize)
	}
}

// placeRow draws a row where it fits: on this page when keep millimetres (the
// row, and the total row that must stay with the last one) fit, otherwise on
// a new page under a repeated header.
func (d *Doc) placeRow(lay tableLayout, row cellRow, keep float64) {
	if d.y+keep > d.bottom() {
		body := d.bottom() - d.top() - lay.height(lay.header)
		if keep <= body || d.y+lay.height(row) > d.bottom() {
			d.newPage()
			d.drawRow(lay, lay.header)
		}
	}
	if d.y+lay.height(row) <= d.bottom() {
		d.drawRow(lay, row)
		return
	}
	// A row taller than a whole page: continue it line by line rather
	// than lose its end below the margin.
	n := row.lineCount()
	for from := 0; from < n; {
		fit := int((d.bottom() - d.y - 2*cellPadY) / lay.lh)
		if fit < 1 {
			d.newPage()
			d.drawRow(lay, lay.header)
			continue
		}
		part := cellRow{kind: row.kind, lines: make([][]string, len(row.lines))}
		for i, l := range row.lines {
			lo, hi := min(from, len(l)), min(from+fit, len(l))
			part.lines[i] = l[lo:hi]
		}
		d.drawRow(lay, part)
		from += fit
	}
}

// drawRow draws a row at y: cell backgrounds and borders, then the text.
func (d *Doc) drawRow(lay tableLayout, row cellRow) {
	h := lay.height(row)
	d.pdf.SetLineWidth(0.1)
	d.pdf.SetDrawColor(150, 150, 150)
	style, fill := "D", row.kind.fill()
	if fill < 255 {
		d.pdf.SetFillColor(fill, fill, fill)
		style = "FD"
	}
	for i := range row.lines {
		d.pdf.Rect(lay.x[i], d.y, lay.w[i], h, style)
	}
	if row.kind.bold() {
		// A heavier rule marks the foot of the header and the top of the
		// total.
		d.pdf.SetLineWidth(0.3)
		d.pdf.SetDrawColor(60, 60, 60)
		edge := d.y + h
		if row.kind == rowTotal {
			edge = d.y
		}
		d.pdf.Line(lay.x[0], edge, lay.x[len(lay.x)-1]+lay.w[len(lay.w)-1], edge)
	}
	d.setTableFont(row.kind.bold())
	d.pdf.SetTextColor(0, 0, 0)
	for i, lines := range row.lines {
		for j, line := range lines {
			d.text(line, lay.x[i]+cellPadX, d.y+cellPadY+float64(j)*lay.lh, lay.w[i]-2*cellPadX, lay.lh, tableSize, lay.align[i])
		}
	}
	if fill < 255 {
		d.pdf.SetFillColor(255, 255, 255)
	}
	d.y += h
	d.drawn()
}
