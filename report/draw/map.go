package draw

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"github.com/paulmach/orb"
)

// earthKmPerDegree is the length of one degree of latitude on the mean-radius
// sphere (6371.0088 km); at report scales the ellipsoid's difference is far
// below what a scale bar can show.
const earthKmPerDegree = 6371.0088 * math.Pi / 180

// Area is one filled polygon of a map (a mahalla, a district, an H3 cell's
// boundary), in lon/lat (EPSG:4326). A zero Stroke draws no border.
type Area struct {
	Geom   orb.MultiPolygon
	Fill   color.RGBA
	Stroke color.RGBA
}

// LegendItem is one box and label of a map legend.
type LegendItem struct {
	Fill  color.RGBA
	Label string
}

// MapSpec describes a map figure. Areas are drawn in order, then Outline on
// top with a thicker dark line (typically the territory's border), then the
// legend, scale bar and north arrow.
type MapSpec struct {
	Width, Height int
	Title         string
	Areas         []Area
	Outline       []orb.MultiPolygon
	Legend        []LegendItem
	ScaleBar      bool
	NorthArrow    bool
	Style
}

// projection maps lon/lat to pixels: equirectangular with x shrunk by the
// cosine of the middle latitude, so that at the territory's latitude (about
// 40°N for Uzbekistan) a kilometre east is as long as a kilometre north and
// the scale bar holds in both directions.
type projection struct {
	lon0, lat0 float64 // centre of the data, degrees
	kx         float64 // cos(mid latitude)
	s          float64 // pixels per degree of latitude
	cx, cy     float64 // pixel centre of the frame
}

func (p projection) at(q orb.Point) pt {
	return pt{p.cx + (q[0]-p.lon0)*p.kx*p.s, p.cy - (q[1]-p.lat0)*p.s}
}

// kmPerPx is the ground distance of one pixel.
func (p projection) kmPerPx() float64 { return earthKmPerDegree / p.s }

// fitProjection fits bounds into the frame (x0, y0)-(x1, y1), leaving a
// margin of 4% of the frame on each side.
func fitProjection(b orb.Bound, x0, y0, x1, y1 float64) (projection, error) {
	lat0 := (b.Min[1] + b.Max[1]) / 2
	p := projection{lon0: (b.Min[0] + b.Max[0]) / 2, lat0: lat0, kx: math.Cos(lat0 * math.Pi / 180)}
	fw, fh := (x1-x0)*0.92, (y1-y0)*0.92
	if fw <= 0 || fh <= 0 {
		return p, fmt.Errorf("%w: the map frame is empty, the image is too small for the title and margins", ErrInvalid)
	}
	dx, dy := (b.Max[0]-b.Min[0])*p.kx, b.Max[1]-b.Min[1]
	switch {
	case dx <= 0 && dy <= 0:
		return p, fmt.Errorf("%w: the geometries have an empty extent (a single point), nothing to fit", ErrInvalid)
	case dx <= 0:
		p.s = fh / dy
	case dy <= 0:
		p.s = fw / dx
	default:
		p.s = math.Min(fw/dx, fh/dy)
	}
	p.cx, p.cy = (x0+x1)/2, (y0+y1)/2
	return p, nil
}

// checkGeom rejects coordinates that are not lon/lat, naming where they are.
func checkGeom(what string, mp orb.MultiPolygon) error {
	for pi, poly := range mp {
		for ri, ring := range poly {
			for k, q := range ring {
				if !finite(q[0]) || !finite(q[1]) || q[0] < -180 || q[0] > 180 || q[1] < -90 || q[1] > 90 {
					return fmt.Errorf("%w: %s polygon %d ring %d point %d is (%v, %v), not lon/lat in degrees", ErrInvalid, what, pi, ri, k, q[0], q[1])
				}
			}
		}
	}
	return nil
}

// project turns a multipolygon into pixel ring groups (outer ring first).
func (p projection) project(mp orb.MultiPolygon) [][][]pt {
	groups := make([][][]pt, 0, len(mp))
	for _, poly := range mp {
		g := make([][]pt, 0, len(poly))
		for _, ring := range poly {
			r := make([]pt, len(ring))
			for i, q := range ring {
				r[i] = p.at(q)
			}
			g = append(g, r)
		}
		groups = append(groups, g)
	}
	return groups
}

// Map draws a choropleth map and returns it as PNG.
func Map(m MapSpec) ([]byte, error) {
	const what = "map"
	if err := checkSize(what, m.Width, m.Height); err != nil {
		return nil, err
	}
	if len(m.Areas) == 0 {
		return nil, fmt.Errorf("draw: %s: %w: no areas to draw", what, ErrInvalid)
	}
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	extend := func(mp orb.MultiPolygon) {
		for _, poly := range mp {
			for _, ring := range poly {
				for _, q := range ring {
					b = b.Extend(q)
				}
			}
		}
	}
	for i, a := range m.Areas {
		if err := checkGeom(fmt.Sprintf("area %d", i), a.Geom); err != nil {
			return nil, fmt.Errorf("draw: %s: %w", what, err)
		}
		extend(a.Geom)
	}
	for i, o := range m.Outline {
		if err := checkGeom(fmt.Sprintf("outline %d", i), o); err != nil {
			return nil, fmt.Errorf("draw: %s: %w", what, err)
		}
		extend(o)
	}
	if math.IsInf(b.Min[0], 0) {
		return nil, fmt.Errorf("draw: %s: %w: the areas have no points", what, ErrInvalid)
	}
	c, err := newCanvas(what, m.Width, m.Height, m.Style)
	if err != nil {
		return nil, err
	}
	W, H := float64(m.Width), float64(m.Height)
	pad := c.fs * 0.6
	top := c.drawTitle(m.Title)
	proj, err := fitProjection(b, pad, top, W-pad, H-pad)
	if err != nil {
		return nil, fmt.Errorf("draw: %s: %w", what, err)
	}
	thin := math.Max(1, c.fs/16)
	projected := make([][][][]pt, len(m.Areas))
	for i, a := range m.Areas {
		projected[i] = proj.project(a.Geom)
		c.fillRings(projected[i], a.Fill)
	}
	// Borders go after all fills so that a neighbour's fill never covers
	// half of a shared border.
	for i, a := range m.Areas {
		c.stroke(rings(projected[i]), true, thin, a.Stroke)
	}
	for _, o := range m.Outline {
		c.stroke(rings(proj.project(o)), true, math.Max(2, c.fs/6), rgb(ink))
	}
	if len(m.Legend) > 0 {
		c.legend(m.Legend, pad, H-pad)
	}
	if m.ScaleBar {
		c.scaleBar(proj, W-pad, H-pad, W-2*pad)
	}
	if m.NorthArrow {
		c.northArrow(W-pad, top)
	}
	return c.encode(what)
}

// rings flattens ring groups for stroking.
func rings(groups [][][]pt) [][]pt {
	var out [][]pt
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// legend draws the boxes and labels in the bottom-left corner (x, yBottom)
// on a translucent white panel.
func (c *canvas) legend(items []LegendItem, x, yBottom float64) {
	box := c.fs * 0.9
	row := c.fs * 1.4
	gap := c.fs * 0.5
	maxLabel := float64(c.img.Bounds().Dx()) * 0.4
	labels := make([]string, len(items))
	wmax := 0.0
	for i, it := range items {
		labels[i] = fitText(c.body, it.Label, maxLabel)
		wmax = math.Max(wmax, textWidth(c.body, labels[i]))
	}
	pw := gap + box + gap + wmax + gap
	ph := gap + row*float64(len(items)) + gap - (row - box)
	x0, y0 := x, yBottom-ph
	c.rect(x0, y0, x0+pw, yBottom, veil())
	c.stroke([][]pt{{{x0, y0}, {x0 + pw, y0}, {x0 + pw, yBottom}, {x0, yBottom}}}, true, 1, rgb(light))
	for i, it := range items {
		by := y0 + gap + row*float64(i)
		c.rect(x0+gap, by, x0+gap+box, by+box, it.Fill)
		c.stroke([][]pt{{{x0 + gap, by}, {x0 + gap + box, by}, {x0 + gap + box, by + box}, {x0 + gap, by + box}}}, true, 1, rgb(grey))
		// Centre the text's x-height on the box: baseline a little below
		// the box's middle.
		c.text(c.body, labels[i], x0+gap+box+gap, by+box/2+ascent(c.body)*0.36, alignLeft, rgb(ink))
	}
}

// scaleBarKm picks the scale bar's length: the largest round distance (1, 2
// or 5 x 10^n km) not longer than a fifth of the frame width.
func scaleBarKm(frameWidthPx, kmPerPx float64) float64 {
	return niceFloor(frameWidthPx / 5 * kmPerPx)
}

// scaleLabel writes a distance as "N km", or "N m" below one kilometre where
// "0.2 km" would read awkwardly.
func scaleLabel(km float64, kmUnit, mUnit string) string {
	if kmUnit == "" {
		kmUnit = "km"
	}
	if mUnit == "" {
		mUnit = "m"
	}
	if km < 1 {
		return strconv.FormatFloat(math.Round(km*1000), 'f', -1, 64) + " " + mUnit
	}
	return strconv.FormatFloat(km, 'f', -1, 64) + " " + kmUnit
}

// scaleBar draws a two-segment bar ending at the bottom-right corner.
func (c *canvas) scaleBar(p projection, xRight, yBottom, frameW float64) {
	km := scaleBarKm(frameW, p.kmPerPx())
	if km <= 0 {
		return
	}
	length := km / p.kmPerPx()
	label := scaleLabel(km, c.style.Km, c.style.M)
	gap := c.fs * 0.4
	barH := math.Max(3, c.fs*0.3)
	pw := math.Max(length, textWidth(c.small, label)) + 2*gap
	ph := gap + lineHeight(c.small) + barH + gap
	x0, y0 := xRight-pw, yBottom-ph
	c.rect(x0, y0, xRight, yBottom, veil())
	bx := xRight - gap - length
	by := yBottom - gap - barH
	c.rect(bx, by, bx+length/2, by+barH, rgb(ink))
	c.rect(bx+length/2, by, bx+length, by+barH, rgb(white))
	c.stroke([][]pt{{{bx, by}, {bx + length, by}, {bx + length, by + barH}, {bx, by + barH}}}, true, 1, rgb(ink))
	c.text(c.small, label, bx+length/2, by-gap*0.5-fix(c.small.Metrics().Descent), alignCenter, rgb(ink))
}

// northArrow draws an arrow with its letter in the top-right corner.
func (c *canvas) northArrow(xRight, yTop float64) {
	h := c.fs * 2.2
	w := c.fs * 1.2
	cx := xRight - w
	label := c.style.North
	if label == "" {
		label = "N"
	}
	ty := yTop + ascent(c.body)
	c.text(c.body, label, cx, ty, alignCenter, rgb(ink))
	tip := ty + c.fs*0.3
	base := tip + h
	// Left half dark, right half light: the classic arrow that still reads
	// in greyscale print.
	c.fillRings([][][]pt{{{{cx, tip}, {cx, base - h*0.3}, {cx - w/2, base}}}}, rgb(ink))
	c.fillRings([][][]pt{{{{cx, tip}, {cx + w/2, base}, {cx, base - h*0.3}}}}, rgb(white))
	c.stroke([][]pt{{{cx, tip}, {cx + w/2, base}, {cx, base - h*0.3}, {cx - w/2, base}}}, true, math.Max(1, c.fs/20), rgb(ink))
}
