// Package draw renders the report's maps and charts as PNG images in pure Go,
// so that the PDF needs no browser or plotting tool. Every function is a pure
// function of its input: the same spec gives byte-identical PNGs, because the
// drawing walks slices in order and never consults the clock or a map.
//
// Colours are color.RGBA values and therefore alpha-premultiplied, as in the
// standard library: a half-transparent white is {128, 128, 128, 128}.
package draw

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/png"
	"math"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// ErrInvalid is wrapped by every error about a bad spec, so that callers can
// tell a caller mistake from a failure to parse the font or encode the PNG.
var ErrInvalid = errors.New("invalid drawing spec")

// maxSide bounds the image side so that a typo in the size cannot allocate
// gigabytes; 10000 px is 1 m at 254 dpi, far beyond any printed figure.
const maxSide = 10000

// Style carries what every figure shares: the font and the words that the
// figure itself prints, so that the caller can pass them in the report's
// language.
type Style struct {
	// Font is a TrueType/OpenType file (the DejaVu Sans the PDF embeds);
	// the caller passes the bytes so that the figures and the PDF are set
	// in the same face and this package ships no second copy.
	Font []byte
	// Bold is optional; when set the title is drawn with it.
	Bold []byte
	// FontSize is the body text size in pixels; zero picks one from the
	// image size (about 1/60 of the width).
	FontSize float64
	// North labels the north arrow ("N" when empty, e.g. "С" in Russian).
	North string
	// Km and M are the units of the scale bar ("km" and "m" when empty).
	Km, M string
	// Number formats axis and legend numbers with the given number of
	// decimals; nil uses plain digits. The report passes its locale's
	// formatter here so that figures and tables agree.
	Number func(v float64, decimals int) string
}

// canvas is one figure being drawn: the image, a reusable rasterizer and the
// faces at the sizes the layout uses.
type canvas struct {
	img   *image.RGBA
	z     *vector.Rasterizer
	fs    float64 // body font size in px
	body  font.Face
	small font.Face
	title font.Face
	style Style
}

// checkSize rejects sizes that cannot make a figure, naming the value.
func checkSize(what string, w, h int) error {
	if w <= 0 || h <= 0 || w > maxSide || h > maxSide {
		return fmt.Errorf("draw: %s: %w: size %dx%d px, want 1..%d on each side", what, ErrInvalid, w, h, maxSide)
	}
	return nil
}

// newCanvas parses the fonts and prepares a white image of the given size.
func newCanvas(what string, w, h int, st Style) (*canvas, error) {
	if err := checkSize(what, w, h); err != nil {
		return nil, err
	}
	if len(st.Font) == 0 {
		return nil, fmt.Errorf("draw: %s: %w: Style.Font is empty, pass the TrueType bytes", what, ErrInvalid)
	}
	if st.FontSize < 0 || math.IsNaN(st.FontSize) || math.IsInf(st.FontSize, 0) {
		return nil, fmt.Errorf("draw: %s: %w: Style.FontSize %v is not a size", what, ErrInvalid, st.FontSize)
	}
	fs := st.FontSize
	if fs == 0 {
		// 1/60 of the width is about 8 pt when the figure spans a 160 mm
		// column; the height bound keeps wide, flat charts readable.
		fs = math.Max(9, math.Min(float64(w)/60, float64(h)/16))
	}
	regular, err := opentype.Parse(st.Font)
	if err != nil {
		return nil, fmt.Errorf("draw: %s: parse Style.Font: %w", what, err)
	}
	titleFont := regular
	if len(st.Bold) > 0 {
		if titleFont, err = opentype.Parse(st.Bold); err != nil {
			return nil, fmt.Errorf("draw: %s: parse Style.Bold: %w", what, err)
		}
	}
	c := &canvas{img: image.NewRGBA(image.Rect(0, 0, w, h)), z: vector.NewRasterizer(1, 1), fs: fs, style: st}
	if c.body, err = newFace(regular, fs); err != nil {
		return nil, fmt.Errorf("draw: %s: %w", what, err)
	}
	if c.small, err = newFace(regular, fs*0.82); err != nil {
		return nil, fmt.Errorf("draw: %s: %w", what, err)
	}
	if c.title, err = newFace(titleFont, fs*1.35); err != nil {
		return nil, fmt.Errorf("draw: %s: %w", what, err)
	}
	stddraw.Draw(c.img, c.img.Bounds(), image.White, image.Point{}, stddraw.Src)
	return c, nil
}

// newFace makes an unhinted face so that glyph positions depend only on the
// font and the size, not on a hinting engine's rounding.
func newFace(f *opentype.Font, px float64) (font.Face, error) {
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, fmt.Errorf("font face at %.1f px: %w", px, err)
	}
	return face, nil
}

// encode writes the finished image as PNG; the encoder has no timestamps or
// other varying chunks, so equal images give equal bytes.
func (c *canvas) encode(what string) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, c.img); err != nil {
		return nil, fmt.Errorf("draw: %s: encode PNG: %w", what, err)
	}
	return buf.Bytes(), nil
}

// pt is a point in pixel space (y down).
type pt struct{ x, y float64 }

// signedArea is twice the signed area of a ring; its sign is the ring's
// winding, which the rasterizer's non-zero rule needs to be consistent.
func signedArea(r []pt) float64 {
	var a float64
	for i := range r {
		j := (i + 1) % len(r)
		a += r[i].x*r[j].y - r[j].x*r[i].y
	}
	return a
}

// addRing adds a closed ring to the rasterizer, offset by the raster origin,
// reversed when its winding does not have the wanted sign. The rasterizer
// sums signed coverage and clamps its magnitude, so rings of one sign union
// and a ring of the other sign cuts a hole.
func (c *canvas) addRing(r []pt, off pt, positive bool) {
	if len(r) < 3 {
		return
	}
	rev := (signedArea(r) > 0) != positive
	at := func(i int) pt {
		if rev {
			return r[len(r)-1-i]
		}
		return r[i]
	}
	p := at(0)
	c.z.MoveTo(float32(p.x-off.x), float32(p.y-off.y))
	for i := 1; i < len(r); i++ {
		p = at(i)
		c.z.LineTo(float32(p.x-off.x), float32(p.y-off.y))
	}
	c.z.ClosePath()
}

// bbox is the pixel rectangle covering the points, grown by pad and clipped
// to the image; the rasterizer then only touches that rectangle, which is
// what keeps hundreds of small polygons on a large map fast.
func (c *canvas) bbox(rings [][]pt, pad float64) image.Rectangle {
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, r := range rings {
		for _, p := range r {
			minX, maxX = math.Min(minX, p.x), math.Max(maxX, p.x)
			minY, maxY = math.Min(minY, p.y), math.Max(maxY, p.y)
		}
	}
	if math.IsInf(minX, 0) {
		return image.Rectangle{}
	}
	r := image.Rect(int(math.Floor(minX-pad)), int(math.Floor(minY-pad)), int(math.Ceil(maxX+pad))+1, int(math.Ceil(maxY+pad))+1)
	return r.Intersect(c.img.Bounds())
}

// fillRings fills a set of polygons given as groups of rings: in each group
// the first ring is the outer boundary and the rest are holes.
func (c *canvas) fillRings(groups [][][]pt, col color.RGBA) {
	if col.A == 0 {
		return
	}
	var all [][]pt
	for _, g := range groups {
		all = append(all, g...)
	}
	r := c.bbox(all, 1)
	if r.Empty() {
		return
	}
	c.z.Reset(r.Dx(), r.Dy())
	off := pt{float64(r.Min.X), float64(r.Min.Y)}
	for _, g := range groups {
		for i, ring := range g {
			c.addRing(ring, off, i == 0)
		}
	}
	c.z.Draw(c.img, r, image.NewUniform(col), image.Point{})
}

// stroke draws lines of the given width as the union of one quad per segment
// and a small octagon per vertex (round-ish joins), all wound the same way so
// that overlaps do not cancel.
func (c *canvas) stroke(lines [][]pt, closed bool, width float64, col color.RGBA) {
	if col.A == 0 || width <= 0 {
		return
	}
	hw := width / 2
	r := c.bbox(lines, hw+1)
	if r.Empty() {
		return
	}
	c.z.Reset(r.Dx(), r.Dy())
	off := pt{float64(r.Min.X), float64(r.Min.Y)}
	var oct [8]pt
	for _, l := range lines {
		n := len(l)
		segs := n - 1
		if closed {
			segs = n
		}
		for i := 0; i < segs; i++ {
			a, b := l[i], l[(i+1)%n]
			dx, dy := b.x-a.x, b.y-a.y
			d := math.Hypot(dx, dy)
			if d == 0 {
				continue
			}
			nx, ny := -dy/d*hw, dx/d*hw
			c.addRing([]pt{{a.x + nx, a.y + ny}, {b.x + nx, b.y + ny}, {b.x - nx, b.y - ny}, {a.x - nx, a.y - ny}}, off, true)
		}
		// Joins only matter where two segments meet at an angle and the
		// line is wide enough for the notch to show.
		if hw >= 1 {
			for _, p := range l {
				for k := range oct {
					ang := float64(k) * math.Pi / 4
					oct[k] = pt{p.x + hw*math.Cos(ang), p.y + hw*math.Sin(ang)}
				}
				c.addRing(oct[:], off, true)
			}
		}
	}
	c.z.Draw(c.img, r, image.NewUniform(col), image.Point{})
}

// rect fills an axis-aligned rectangle given in float pixels, anti-aliased.
func (c *canvas) rect(x0, y0, x1, y1 float64, col color.RGBA) {
	c.fillRings([][][]pt{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}}}, col)
}

// textWidth is the advance of s in pixels.
func textWidth(f font.Face, s string) float64 {
	return fix(font.MeasureString(f, s))
}

// fix converts 26.6 fixed point to float pixels.
func fix(v fixed.Int26_6) float64 { return float64(v) / 64 }

// ascent and lineHeight give the vertical metrics used to place baselines.
func ascent(f font.Face) float64     { return fix(f.Metrics().Ascent) }
func lineHeight(f font.Face) float64 { return fix(f.Metrics().Height) }

// Alignment of text relative to the x given to text.
const (
	alignLeft = iota
	alignCenter
	alignRight
)

// text draws s with its baseline at y, aligned at x.
func (c *canvas) text(f font.Face, s string, x, y float64, align int, col color.RGBA) {
	switch align {
	case alignCenter:
		x -= textWidth(f, s) / 2
	case alignRight:
		x -= textWidth(f, s)
	}
	d := font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: f,
		Dot: fixed.Point26_6{X: fixed.Int26_6(math.Round(x * 64)), Y: fixed.Int26_6(math.Round(y * 64))}}
	d.DrawString(s)
}

// fitText shortens s with an ellipsis until it fits maxW, so that a long
// unit name cannot run out of a legend box.
func fitText(f font.Face, s string, maxW float64) string {
	if textWidth(f, s) <= maxW {
		return s
	}
	rs := []rune(s)
	for n := len(rs) - 1; n > 0; n-- {
		t := strings.TrimSpace(string(rs[:n])) + "…"
		if textWidth(f, t) <= maxW {
			return t
		}
	}
	return "…"
}

// wrap breaks s into lines no wider than maxW at spaces; a single word wider
// than maxW keeps its own line rather than being cut.
func wrap(f font.Face, s string, maxW float64) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		try := w
		if cur != "" {
			try = cur + " " + w
		}
		if cur != "" && textWidth(f, try) > maxW {
			lines = append(lines, cur)
			cur = w
			continue
		}
		cur = try
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// drawTitle writes the wrapped title at the top and returns the y below it.
func (c *canvas) drawTitle(title string) float64 {
	pad := c.fs * 0.6
	y := pad
	if strings.TrimSpace(title) == "" {
		return y
	}
	w := float64(c.img.Bounds().Dx())
	lh := lineHeight(c.title)
	for _, l := range wrap(c.title, title, w-2*pad) {
		c.text(c.title, l, w/2, y+ascent(c.title), alignCenter, rgb(ink))
		y += lh
	}
	return y + pad
}

// num formats a number with the caller's formatter when given.
func (c *canvas) num(v float64, decimals int) string {
	if c.style.Number != nil {
		return c.style.Number(v, decimals)
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// The few neutral colours the figures use for text, axes and frames, kept as
// constants (no package-level variables) and turned into colours by rgb.
const (
	ink     = 0x222222
	grey    = 0x888888
	light   = 0xdddddd
	white   = 0xffffff
	prevCol = 0xaaaaaa
)

// rgb makes an opaque colour from 0xRRGGBB.
func rgb(h uint32) color.RGBA {
	return color.RGBA{uint8(h >> 16), uint8(h >> 8), uint8(h), 0xff}
}

// veil is the translucent white behind legends and scale bars: 88% white,
// premultiplied, so the map stays faintly visible beneath.
func veil() color.RGBA { return color.RGBA{0xe0, 0xe0, 0xe0, 0xe0} }

// finite reports whether v is an ordinary number.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// niceStep returns the smallest 1, 2 or 5 x 10^n that is at least x; axes and
// scale bars use such steps because readers add them up in their heads.
func niceStep(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	// Log10 can be off by one ulp at exact powers of ten; correct it so
	// that 1000 gives 1000 and not 2000.
	for x/p >= 10*(1-1e-12) {
		p *= 10
	}
	for x/p < 1-1e-12 {
		p /= 10
	}
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// niceFloor returns the largest 1, 2 or 5 x 10^n that is at most x, or 0 when
// x is not positive.
func niceFloor(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 0) {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for x/p >= 10*(1-1e-12) {
		p *= 10
	}
	for x/p < 1-1e-12 {
		p /= 10
	}
	best := p
	for _, m := range []float64{2, 5} {
		if m*p <= x*(1+1e-12) {
			best = m * p
		}
	}
	return best
}

// decimalsFor is how many decimals make a tick step readable (0 for 1, 10;
// 1 for 0.5; 2 for 0.05).
func decimalsFor(step float64) int {
	if step >= 1 || step <= 0 {
		return 0
	}
	return int(math.Ceil(-math.Log10(step) - 1e-9))
}
