package draw

import (
	"fmt"
	"image/color"
	"math"
)

// SeriesSpec describes a time-series chart: one value per x label (e.g. 36
// months), drawn as a line or as bars, with an optional comparison series
// (the same period of last year) in grey behind it.
type SeriesSpec struct {
	Width, Height int
	Title         string
	Labels        []string
	Values        []float64
	// Previous is optional; when set it has one value per label.
	Previous []float64
	// Name and PreviousName label the two series in a legend under the
	// title; the legend is drawn when either is set.
	Name, PreviousName string
	Bars               bool
	// Color is the main series' colour; zero uses a dark red.
	Color color.RGBA
	Style
}

// checkValues rejects values an axis from zero cannot show, naming the index.
func checkValues(name string, vs []float64) error {
	for i, v := range vs {
		if !finite(v) || v < 0 {
			return fmt.Errorf("%w: %s[%d] is %v, want a finite value >= 0", ErrInvalid, name, i, v)
		}
	}
	return nil
}

// axisTicks returns the tick step and the axis top for data up to maxV: about
// five round steps from zero; integer data never gets fractional ticks.
func axisTicks(maxV float64, integer bool) (step, top float64) {
	step = niceStep(maxV / 5)
	if integer && step < 1 {
		step = 1
	}
	top = math.Ceil(maxV/step-1e-9) * step
	if top <= 0 {
		top = step
	}
	return step, top
}

// labelStride is k such that every k-th of n labels, each up to maxW wide,
// fits in slots of width slot without touching its neighbour.
func labelStride(n int, slot, maxW, gap float64) int {
	if n == 0 || slot <= 0 {
		return 1
	}
	return max(1, int(math.Ceil((maxW+gap)/slot)))
}

// Series draws the chart and returns it as PNG.
func Series(s SeriesSpec) ([]byte, error) {
	const what = "series"
	if err := checkSize(what, s.Width, s.Height); err != nil {
		return nil, err
	}
	n := len(s.Values)
	if n == 0 {
		return nil, fmt.Errorf("draw: %s: %w: no values", what, ErrInvalid)
	}
	if len(s.Labels) != n {
		return nil, fmt.Errorf("draw: %s: %w: %d labels for %d values", what, ErrInvalid, len(s.Labels), n)
	}
	if s.Previous != nil && len(s.Previous) != n {
		return nil, fmt.Errorf("draw: %s: %w: %d previous values for %d values", what, ErrInvalid, len(s.Previous), n)
	}
	if err := checkValues("Values", s.Values); err != nil {
		return nil, fmt.Errorf("draw: %s: %w", what, err)
	}
	if err := checkValues("Previous", s.Previous); err != nil {
		return nil, fmt.Errorf("draw: %s: %w", what, err)
	}
	c, err := newCanvas(what, s.Width, s.Height, s.Style)
	if err != nil {
		return nil, err
	}
	col := s.Color
	if col == (color.RGBA{}) {
		col = rgb(0xb2182b)
	}
	W, H := float64(s.Width), float64(s.Height)
	pad := c.fs * 0.6
	top := c.drawTitle(s.Title)
	if s.Name != "" || s.PreviousName != "" {
		top = c.seriesLegend(s.Name, s.PreviousName, col, W/2, top) + pad*0.5
	}

	maxV, integer := 0.0, true
	for _, vs := range [][]float64{s.Values, s.Previous} {
		for _, v := range vs {
			maxV = math.Max(maxV, v)
			integer = integer && v == math.Trunc(v)
		}
	}
	step, axTop := axisTicks(maxV, integer)
	dec := decimalsFor(step)
	nTicks := int(math.Round(axTop / step))
	yw := 0.0
	for i := 0; i <= nTicks; i++ {
		yw = math.Max(yw, textWidth(c.small, c.num(float64(i)*step, dec)))
	}
	x0 := pad + yw + pad*0.6
	x1 := W - pad
	y0 := top + lineHeight(c.small)/2
	y1 := H - pad - lineHeight(c.small) - pad*0.5
	if x1-x0 < float64(n) || y1-y0 < 10 {
		return nil, fmt.Errorf("draw: %s: %w: %dx%d px leaves no room for the plot of %d values", what, ErrInvalid, s.Width, s.Height, n)
	}
	yAt := func(v float64) float64 { return y1 - v/axTop*(y1-y0) }
	slot := (x1 - x0) / float64(n)
	xAt := func(i int) float64 { return x0 + slot*(float64(i)+0.5) }

	// Grid lines first, so that the data is drawn over them.
	for i := 0; i <= nTicks; i++ {
		v := float64(i) * step
		y := yAt(v)
		lc := rgb(light)
		if i == 0 {
			lc = rgb(grey)
		}
		c.stroke([][]pt{{{x0, y}, {x1, y}}}, false, 1, lc)
		c.text(c.small, c.num(v, dec), x0-pad*0.6, y+ascent(c.small)*0.36, alignRight, rgb(ink))
	}

	if s.Bars {
		bw := slot * 0.7
		if s.Previous != nil {
			// Side by side: last year on the left in grey, this year on
			// the right, like the paper charts prosecutors are used to.
			half := bw / 2
			for i := range n {
				c.rect(xAt(i)-half, yAt(s.Previous[i]), xAt(i), y1, rgb(prevCol))
				c.rect(xAt(i), yAt(s.Values[i]), xAt(i)+half, y1, col)
			}
		} else {
			for i := range n {
				c.rect(xAt(i)-bw/2, yAt(s.Values[i]), xAt(i)+bw/2, y1, col)
			}
		}
	} else {
		lw := math.Max(1.5, c.fs/8)
		line := func(vs []float64, lc color.RGBA) {
			ps := make([]pt, n)
			for i, v := range vs {
				ps[i] = pt{xAt(i), yAt(v)}
			}
			c.stroke([][]pt{ps}, false, lw, lc)
			// Dots mark the actual data points, which matters when a
			// single month is the story.
			for _, p := range ps {
				c.dot(p, lw*1.4, lc)
			}
		}
		if s.Previous != nil {
			line(s.Previous, rgb(prevCol))
		}
		line(s.Values, col)
	}

	maxW := 0.0
	for _, l := range s.Labels {
		maxW = math.Max(maxW, textWidth(c.small, l))
	}
	k := labelStride(n, slot, maxW, c.fs*0.6)
	for i := 0; i < n; i += k {
		c.text(c.small, s.Labels[i], xAt(i), y1+pad*0.4+ascent(c.small), alignCenter, rgb(ink))
	}
	return c.encode(what)
}

// dot fills a small octagon at p.
func (c *canvas) dot(p pt, r float64, col color.RGBA) {
	ring := make([]pt, 8)
	for k := range ring {
		a := float64(k) * math.Pi / 4
		ring[k] = pt{p.x + r*math.Cos(a), p.y + r*math.Sin(a)}
	}
	c.fillRings([][][]pt{{ring}}, col)
}

// seriesLegend draws "■ name   ■ previous" centred at x below y and returns
// the y below it.
func (c *canvas) seriesLegend(name, prev string, col color.RGBA, x, y float64) float64 {
	box := c.fs * 0.8
	gap := c.fs * 0.4
	type entry struct {
		label string
		col   color.RGBA
	}
	var es []entry
	if prev != "" {
		es = append(es, entry{prev, rgb(prevCol)})
	}
	if name != "" {
		es = append(es, entry{name, col})
	}
	total := 0.0
	for i, e := range es {
		total += box + gap + textWidth(c.small, e.label)
		if i > 0 {
			total += c.fs * 1.5
		}
	}
	cx := x - total/2
	for _, e := range es {
		c.rect(cx, y, cx+box, y+box, e.col)
		c.text(c.small, e.label, cx+box+gap, y+box/2+ascent(c.small)*0.36, alignLeft, rgb(ink))
		cx += box + gap + textWidth(c.small, e.label) + c.fs*1.5
	}
	return y + box
}

// GridSpec describes a heat grid such as weekday x hour: Values[r][c] is the
// cell in row r and column c.
type GridSpec struct {
	Width, Height int
	Title         string
	Rows, Cols    []string
	Values        [][]float64
	// ShowValues writes each value in its cell when the numbers fit.
	ShowValues bool
	Style
}

// Grid draws the heat grid and returns it as PNG. The ramp runs from zero to
// the largest value, so that equal colours mean equal counts across reports
// of different territories' shapes; all-zero data draws the lightest colour.
func Grid(g GridSpec) ([]byte, error) {
	const what = "grid"
	if err := checkSize(what, g.Width, g.Height); err != nil {
		return nil, err
	}
	nr, nc := len(g.Rows), len(g.Cols)
	if nr == 0 || nc == 0 {
		return nil, fmt.Errorf("draw: %s: %w: %d row labels and %d column labels, want at least one of each", what, ErrInvalid, nr, nc)
	}
	if len(g.Values) != nr {
		return nil, fmt.Errorf("draw: %s: %w: %d rows of values for %d row labels", what, ErrInvalid, len(g.Values), nr)
	}
	maxV := 0.0
	integer := true
	for r, row := range g.Values {
		if len(row) != nc {
			return nil, fmt.Errorf("draw: %s: %w: row %d (%q) has %d values for %d column labels", what, ErrInvalid, r, g.Rows[r], len(row), nc)
		}
		if err := checkValues(fmt.Sprintf("Values[%d]", r), row); err != nil {
			return nil, fmt.Errorf("draw: %s: %w", what, err)
		}
		for _, v := range row {
			maxV = math.Max(maxV, v)
			integer = integer && v == math.Trunc(v)
		}
	}
	c, err := newCanvas(what, g.Width, g.Height, g.Style)
	if err != nil {
		return nil, err
	}
	W, H := float64(g.Width), float64(g.Height)
	pad := c.fs * 0.6
	top := c.drawTitle(g.Title)
	dec := 1
	if integer {
		dec = 0
	}

	rw := 0.0
	for _, l := range g.Rows {
		rw = math.Max(rw, textWidth(c.small, l))
	}
	x0 := pad + rw + pad*0.6
	x1 := W - pad
	lh := lineHeight(c.small)
	legendH := c.fs * 0.8
	y0 := top
	y1 := H - pad - legendH - pad - lh - pad*0.5
	if x1-x0 < float64(nc) || y1-y0 < float64(nr) {
		return nil, fmt.Errorf("draw: %s: %w: %dx%d px leaves no room for %dx%d cells", what, ErrInvalid, g.Width, g.Height, nr, nc)
	}
	cw, ch := (x1-x0)/float64(nc), (y1-y0)/float64(nr)
	gap := math.Max(1, c.fs/14)
	t := func(v float64) float64 {
		if maxV == 0 {
			return 0
		}
		return v / maxV
	}

	showValues := g.ShowValues
	if showValues {
		// Values are written only if the widest one fits every cell, so
		// that the grid never mixes written and unwritten cells.
		widest := 0.0
		for _, row := range g.Values {
			for _, v := range row {
				widest = math.Max(widest, textWidth(c.small, c.num(v, dec)))
			}
		}
		showValues = widest <= cw-2*gap && lh <= ch
	}
	for r, row := range g.Values {
		for k, v := range row {
			cx0, cy0 := x0+cw*float64(k), y0+ch*float64(r)
			c.rect(cx0+gap/2, cy0+gap/2, cx0+cw-gap/2, cy0+ch-gap/2, Ramp(t(v)))
			if showValues {
				tc := rgb(ink)
				if t(v) > 0.55 {
					tc = rgb(white)
				}
				c.text(c.small, c.num(v, dec), cx0+cw/2, cy0+ch/2+ascent(c.small)*0.36, alignCenter, tc)
			}
		}
		c.text(c.small, g.Rows[r], x0-pad*0.6, y0+ch*(float64(r)+0.5)+ascent(c.small)*0.36, alignRight, rgb(ink))
	}
	maxW := 0.0
	for _, l := range g.Cols {
		maxW = math.Max(maxW, textWidth(c.small, l))
	}
	k := labelStride(nc, cw, maxW, c.fs*0.4)
	for i := 0; i < nc; i += k {
		c.text(c.small, g.Cols[i], x0+cw*(float64(i)+0.5), y1+pad*0.4+ascent(c.small), alignCenter, rgb(ink))
	}

	// The ramp legend sits bottom-right: min label, the ramp, max label.
	ly := H - pad - legendH
	lo, hi := c.num(0, dec), c.num(maxV, dec)
	rampW := math.Min((x1-x0)/3, c.fs*12)
	rx1 := x1 - textWidth(c.small, hi) - pad*0.5
	rx0 := rx1 - rampW
	steps := 64
	for i := range steps {
		a := rx0 + rampW*float64(i)/float64(steps)
		b := rx0 + rampW*float64(i+1)/float64(steps)
		c.rect(a, ly, b+0.5, ly+legendH, Ramp((float64(i)+0.5)/float64(steps)))
	}
	c.stroke([][]pt{{{rx0, ly}, {rx1, ly}, {rx1, ly + legendH}, {rx0, ly + legendH}}}, true, 1, rgb(grey))
	base := ly + legendH/2 + ascent(c.small)*0.36
	c.text(c.small, lo, rx0-pad*0.5, base, alignRight, rgb(ink))
	c.text(c.small, hi, rx1+pad*0.5, base, alignLeft, rgb(ink))
	return c.encode(what)
}
