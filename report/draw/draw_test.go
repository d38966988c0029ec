package draw

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// testStyle loads the DejaVu faces the PDF embeds, as the report passes them.
func testStyle(t testing.TB) Style {
	t.Helper()
	regular, err := os.ReadFile("../pdfdoc/fonts/DejaVuSans.ttf")
	if err != nil {
		t.Fatal(err)
	}
	bold, err := os.ReadFile("../pdfdoc/fonts/DejaVuSans-Bold.ttf")
	if err != nil {
		t.Fatal(err)
	}
	return Style{Font: regular, Bold: bold}
}

// artefact writes a PNG for a person to look at: into
// $CRIMEMAP_TEST_ARTEFACTS/draw when set, else into the test's temp dir.
func artefact(t *testing.T, name string, data []byte) {
	t.Helper()
	dir := t.TempDir()
	if root := os.Getenv("CRIMEMAP_TEST_ARTEFACTS"); root != "" {
		dir = filepath.Join(root, "draw")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// decode checks that data is a PNG of the wanted size.
func decode(t *testing.T, data []byte, w, h int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("size %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
	return img
}

// inked counts non-white pixels in r, i.e. whether something was drawn there.
func inked(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if cr < 0xf000 || cg < 0xf000 || cb < 0xf000 {
				n++
			}
		}
	}
	return n
}

// square is a lon/lat square of side d degrees at (lon, lat).
func square(lon, lat, d float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{lon, lat}, {lon + d, lat}, {lon + d, lat + d}, {lon, lat + d}, {lon, lat}}}}
}

func twoSquaresMap(st Style) MapSpec {
	return MapSpec{
		Width: 1600, Height: 1200,
		Title: "Qashqadaryo viloyati: mahallalar toifasi — Қызыл / Сариқ / Яшил (Ғ Қ Ң Ө Ұ Ү Һ І), oʻgʻil",
		Areas: []Area{
			{Geom: square(65.7, 38.8, 0.1), Fill: CategoryColor("red"), Stroke: color.RGBA{0x55, 0x55, 0x55, 0xff}},
			{Geom: square(65.8, 38.8, 0.1), Fill: CategoryColor("yellow"), Stroke: color.RGBA{0x55, 0x55, 0x55, 0xff}},
			{Geom: square(65.7, 38.9, 0.1), Fill: CategoryColor("green"), Stroke: color.RGBA{0x55, 0x55, 0x55, 0xff}},
		},
		Outline: []orb.MultiPolygon{{
			{{{65.7, 38.8}, {65.9, 38.8}, {65.9, 38.9}, {65.8, 38.9}, {65.8, 39.0}, {65.7, 39.0}, {65.7, 38.8}}},
		}},
		Legend: []LegendItem{
			{Fill: CategoryColor("red"), Label: "Қызыл (қызыл аймақ)"},
			{Fill: CategoryColor("yellow"), Label: "Sariq"},
			{Fill: CategoryColor("green"), Label: "Yashil — oʻzgarishsiz"},
		},
		ScaleBar: true, NorthArrow: true, Style: st,
	}
}

func TestMapTwoSquaresOutlineLegend(t *testing.T) {
	st := testStyle(t)
	spec := twoSquaresMap(st)
	data, err := Map(spec)
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, data, 1600, 1200)
	artefact(t, "map_categories.png", data)
	if n := inked(img, image.Rect(0, 0, 1600, 60)); n < 500 {
		t.Errorf("title area has %d inked pixels, want text", n)
	}
	// The centre of the red square is red-ish.
	cr, cg, _, _ := img.At(800-200, 600+200).RGBA()
	_ = cg
	if cr == 0 {
		t.Errorf("no fill in the map")
	}
	again, err := Map(spec)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Error("two calls gave different PNG bytes")
	}
}

func TestMapHotspotHexagons(t *testing.T) {
	st := testStyle(t)
	spec := MapSpec{Width: 1200, Height: 900, Title: "Gi* issiq nuqtalar", ScaleBar: true, NorthArrow: true, Style: st}
	for i := range 7 {
		for j := range 6 {
			// Pointy-top hexagons of radius r tile at sqrt(3)*r across (in
			// ground units, hence the cosine) and 1.5*r down.
			dx := math.Sqrt(3) * 0.017 / math.Cos(38*math.Pi/180)
			lon, lat := 65.0+float64(i)*dx+float64(j%2)*dx/2, 38.0+float64(j)*0.0255
			var ring orb.Ring
			for k := 0; k <= 6; k++ {
				a := float64(k%6)*math.Pi/3 + math.Pi/6
				ring = append(ring, orb.Point{lon + 0.017*math.Cos(a)/math.Cos(38*math.Pi/180), lat + 0.017*math.Sin(a)})
			}
			spec.Areas = append(spec.Areas, Area{Geom: orb.MultiPolygon{{ring}}, Fill: HotspotColor((i+j)%7 - 3), Stroke: color.RGBA{0xff, 0xff, 0xff, 0xff}})
		}
	}
	for b := 3; b >= -3; b-- {
		spec.Legend = append(spec.Legend, LegendItem{Fill: HotspotColor(b), Label: fmt.Sprintf("Gi* %+d", b)})
	}
	data, err := Map(spec)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, data, 1200, 900)
	artefact(t, "map_hotspots.png", data)
}

func TestScaleBarKm(t *testing.T) {
	for _, c := range []struct {
		frame, kmPerPx, want float64
	}{
		{1000, 0.1, 20},   // a fifth is 20 km exactly
		{1000, 0.12, 20},  // 24 km rounds down to 20
		{1000, 0.3, 50},   // 60 km -> 50
		{1000, 0.05, 10},  // 10 km
		{1000, 0.009, 1},  // 1.8 km -> 1
		{1000, 0.004, .5}, // 0.8 km -> 500 m
		{1500, 1, 200},    // 300 km -> 200
		{1000, 5, 1000},   // 1000 km exactly, despite Log10 rounding
	} {
		if got := scaleBarKm(c.frame, c.kmPerPx); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("scaleBarKm(%v, %v) = %v, want %v", c.frame, c.kmPerPx, got, c.want)
		}
	}
	if got := scaleLabel(20, "", ""); got != "20 km" {
		t.Errorf("label %q", got)
	}
	if got := scaleLabel(0.2, "км", "м"); got != "200 м" {
		t.Errorf("label %q", got)
	}
	// A known extent: Kashkadarya-sized, 2 degrees of longitude at 39°N on
	// a 1600 px map; 2*cos(39°)*111.2 km = 172.8 km over 92% of 1581 px,
	// so a fifth of the frame is ~37.6 km and the bar is 20 km.
	p, err := fitProjection(orb.Bound{Min: orb.Point{65, 38}, Max: orb.Point{67, 40}}, 10, 10, 1591, 3000)
	if err != nil {
		t.Fatal(err)
	}
	if got := scaleBarKm(1581, p.kmPerPx()); got != 20 {
		t.Errorf("Kashkadarya bar = %v km, want 20", got)
	}
}

func TestAxisTicks(t *testing.T) {
	for _, c := range []struct {
		max       float64
		integer   bool
		step, top float64
	}{
		{0, true, 1, 1},
		{3, true, 1, 3},
		{47, true, 10, 50},
		{120, true, 50, 150},
		{0.8, false, 0.2, 0.8},
	} {
		step, top := axisTicks(c.max, c.integer)
		if math.Abs(step-c.step) > 1e-9 || math.Abs(top-c.top) > 1e-9 {
			t.Errorf("axisTicks(%v) = %v, %v; want %v, %v", c.max, step, top, c.step, c.top)
		}
	}
}

func TestSeries(t *testing.T) {
	st := testStyle(t)
	months := []string{"yan", "fev", "mar", "apr", "may", "iyn", "iyl", "avg", "sen", "okt", "noy", "dek"}
	var labels []string
	var vals, prev []float64
	for i := range 36 {
		labels = append(labels, fmt.Sprintf("%s %d", months[i%12], 2023+i/12))
		vals = append(vals, float64(40+(i*7)%23))
		prev = append(prev, float64(35+(i*5)%19))
	}
	for _, bars := range []bool{false, true} {
		spec := SeriesSpec{Width: 1600, Height: 700, Title: "Jinoyatlar soni, oylar boʻyicha — Қылмыстар саны",
			Labels: labels, Values: vals, Previous: prev, Name: "Joriy yil", PreviousName: "АППГ", Bars: bars, Style: st}
		data, err := Series(spec)
		if err != nil {
			t.Fatal(err)
		}
		img := decode(t, data, 1600, 700)
		if n := inked(img, image.Rect(0, 0, 1600, 40)); n < 300 {
			t.Errorf("title area has %d inked pixels", n)
		}
		again, _ := Series(spec)
		if !bytes.Equal(data, again) {
			t.Error("two calls gave different PNG bytes")
		}
		artefact(t, fmt.Sprintf("series_bars_%v.png", bars), data)
	}
}

func weekGrid(st Style, zero bool) GridSpec {
	g := GridSpec{Width: 1600, Height: 700, Title: "Hafta kuni × soat", ShowValues: true, Style: st,
		Rows: []string{"Du", "Se", "Ch", "Pa", "Ju", "Sh", "Ya"}}
	for h := range 24 {
		g.Cols = append(g.Cols, fmt.Sprintf("%02d", h))
	}
	for d := range 7 {
		row := make([]float64, 24)
		if !zero {
			for h := range row {
				row[h] = float64((d*3 + h*h) % 17)
			}
		}
		g.Values = append(g.Values, row)
	}
	return g
}

func TestGrid(t *testing.T) {
	st := testStyle(t)
	spec := weekGrid(st, false)
	data, err := Grid(spec)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, data, 1600, 700)
	again, _ := Grid(spec)
	if !bytes.Equal(data, again) {
		t.Error("two calls gave different PNG bytes")
	}
	artefact(t, "grid.png", data)

	zero, err := Grid(weekGrid(st, true))
	if err != nil {
		t.Fatalf("all-zero grid: %v", err)
	}
	decode(t, zero, 1600, 700)
}

func TestColours(t *testing.T) {
	if Ramp(0) == Ramp(1) || Ramp(-1) != Ramp(0) || Ramp(2) != Ramp(1) {
		t.Error("ramp does not span or clamp")
	}
	// Darker with t: the sum of channels falls monotonically.
	prev := 1 << 30
	for i := 0; i <= 20; i++ {
		c := Ramp(float64(i) / 20)
		s := int(c.R) + int(c.G) + int(c.B)
		if s > prev {
			t.Errorf("ramp not monotone at %d", i)
		}
		prev = s
	}
	if CategoryColor("RED") != CategoryColor("red") || CategoryColor("red") == CategoryColor("green") {
		t.Error("category colours")
	}
	if HotspotColor(9) != HotspotColor(3) || HotspotColor(-3).B <= HotspotColor(-3).R || HotspotColor(3).R <= HotspotColor(3).B {
		t.Error("hotspot colours")
	}
}

func TestBadInput(t *testing.T) {
	st := testStyle(t)
	good := twoSquaresMap(st)
	nanMap := twoSquaresMap(st)
	nanMap.Areas = append([]Area(nil), nanMap.Areas...)
	nanMap.Areas[1].Geom = orb.MultiPolygon{{{{math.NaN(), 1}, {2, 2}, {3, 1}, {math.NaN(), 1}}}}
	point := good
	point.Areas = []Area{{Geom: orb.MultiPolygon{{{{65, 38}, {65, 38}, {65, 38}, {65, 38}}}}}}
	point.Outline = nil
	noFont := good
	noFont.Style = Style{}
	badFont := good
	badFont.Style = Style{Font: []byte("not a font")}
	series := SeriesSpec{Width: 800, Height: 400, Labels: []string{"a", "b"}, Values: []float64{1, 2}, Style: st}
	grid := weekGrid(st, false)

	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"no areas", func() error { m := good; m.Areas = nil; _, err := Map(m); return err }, "no areas"},
		{"zero size", func() error { m := good; m.Width = 0; _, err := Map(m); return err }, "size 0x1200"},
		{"NaN coordinate", func() error { _, err := Map(nanMap); return err }, "area 1 polygon 0 ring 0 point 0"},
		{"point extent", func() error { _, err := Map(point); return err }, "empty extent"},
		{"no font", func() error { _, err := Map(noFont); return err }, "Style.Font is empty"},
		{"series labels", func() error { s := series; s.Labels = []string{"a"}; _, err := Series(s); return err }, "1 labels for 2 values"},
		{"series NaN", func() error { s := series; s.Values = []float64{1, math.NaN()}; _, err := Series(s); return err }, "Values[1] is NaN"},
		{"series negative", func() error { s := series; s.Values = []float64{-1, 2}; _, err := Series(s); return err }, "Values[0] is -1"},
		{"series previous", func() error { s := series; s.Previous = []float64{1}; _, err := Series(s); return err }, "1 previous values for 2 values"},
		{"series empty", func() error { s := series; s.Values, s.Labels = nil, nil; _, err := Series(s); return err }, "no values"},
		{"series zero size", func() error { s := series; s.Height = -3; _, err := Series(s); return err }, "size 800x-3"},
		{"grid rows", func() error { g := grid; g.Rows = g.Rows[:6]; _, err := Grid(g); return err }, "7 rows of values for 6 row labels"},
		{"grid cols", func() error {
			g := grid
			g.Values = append([][]float64(nil), g.Values...)
			g.Values[2] = g.Values[2][:23]
			_, err := Grid(g)
			return err
		}, `row 2 ("Ch") has 23 values for 24 column labels`},
		{"grid NaN", func() error {
			g := grid
			g.Values = append([][]float64(nil), g.Values...)
			g.Values[3] = append([]float64{math.NaN()}, g.Values[3][1:]...)
			_, err := Grid(g)
			return err
		}, "Values[3][0] is NaN"},
		{"grid empty", func() error { g := grid; g.Rows, g.Values = nil, nil; _, err := Grid(g); return err }, "0 row labels"},
	}
	for _, c := range cases {
		err := c.run()
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v does not wrap ErrInvalid", c.name, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not name %q", c.name, err, c.want)
		}
	}
	if _, err := Map(badFont); err == nil || !strings.Contains(err.Error(), "parse Style.Font") {
		t.Errorf("bad font: %v", err)
	}
}

// BenchmarkMap850 is a region-sized map: 850 polygons of ~200 points at
// 1600x1200, as for Kashkadarya's ~830 mahallas.
func BenchmarkMap850(b *testing.B) {
	st := testStyle(b)
	spec := MapSpec{Width: 1600, Height: 1200, Title: "Qashqadaryo: 850 mahalla", ScaleBar: true, NorthArrow: true, Style: st,
		Legend: []LegendItem{{CategoryColor("red"), "Qizil"}, {CategoryColor("yellow"), "Sariq"}, {CategoryColor("green"), "Yashil"}}}
	cats := []string{"red", "yellow", "green", "green"}
	for i := range 850 {
		cx, cy := 64.5+float64(i%34)*0.08, 37.8+float64(i/34)*0.07
		ring := make(orb.Ring, 0, 201)
		for k := range 200 {
			a := float64(k) / 200 * 2 * math.Pi
			r := 0.035 * (1 + 0.15*math.Sin(5*a+float64(i)))
			ring = append(ring, orb.Point{cx + r*math.Cos(a), cy + r*math.Sin(a)})
		}
		ring = append(ring, ring[0])
		spec.Areas = append(spec.Areas, Area{Geom: orb.MultiPolygon{{ring}}, Fill: CategoryColor(cats[i%4]), Stroke: color.RGBA{0x66, 0x66, 0x66, 0xff}})
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Map(spec); err != nil {
			b.Fatal(err)
		}
	}
}
