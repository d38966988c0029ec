package report

import (
	"fmt"
	"image/color"
	"slices"

	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/report/draw"
	"github.com/crimemap/crimemap/report/pdfdoc"
	"github.com/paulmach/orb"
)

// Figures in the PDF: drawn as PNG by report/draw in the document's face,
// at 254 dpi for a 160 mm width.
const (
	figureWidthMM = 160
	figurePxWide  = 1600
)

// figures lays out the maps and charts chapter.
func (p pdfWriter) figures(r *Report) error {
	l := p.l
	regular, err := pdfdoc.TTF(false)
	if err != nil {
		return err
	}
	bold, err := pdfdoc.TTF(true)
	if err != nil {
		return err
	}
	style := draw.Style{Font: regular, Bold: bold, North: l.T("map.north"), Km: l.T("map.km"), Number: l.Decimal}
	p.d.Heading(1, l.T("section.maps"))
	if m := r.Maps; m != nil && len(m.Mahallas) > 0 {
		outline := []orb.MultiPolygon{m.Outline}
		if r.Mahallas != nil {
			var areas []draw.Area
			for _, a := range m.Mahallas {
				areas = append(areas, draw.Area{Geom: a.Geometry, Fill: draw.CategoryColor(a.Category), Stroke: color.RGBA{255, 255, 255, 255}})
			}
			var legend []draw.LegendItem
			for _, c := range []string{"red", "yellow", "green"} {
				legend = append(legend, draw.LegendItem{Fill: draw.CategoryColor(c), Label: l.T("mahalla_category." + c)})
			}
			if err := p.mapImage(l.T("map.mahalla_categories"), areas, outline, legend, style); err != nil {
				return err
			}
		}
		if err := p.rateMap(m, outline, style); err != nil {
			return err
		}
		var cells []draw.Area
		for _, c := range m.Hot {
			ring := geo.CellBoundary(c.Cell)
			cells = append(cells, draw.Area{Geom: orb.MultiPolygon{{ring}}, Fill: draw.HotspotColor(int(c.Bin))})
		}
		var legend []draw.LegendItem
		for _, b := range []struct {
			bin int
			key string
		}{{3, "hot_99"}, {2, "hot_95"}, {1, "hot_90"}, {-1, "cold_90"}, {-2, "cold_95"}, {-3, "cold_99"}} {
			legend = append(legend, draw.LegendItem{Fill: draw.HotspotColor(b.bin), Label: l.T("hotspot." + b.key)})
		}
		if len(cells) > 0 {
			if err := p.mapImage(l.T("map.hotspots"), cells, outline, legend, style); err != nil {
				return err
			}
		} else if m.HotNote != "" {
			p.d.Note(l.T("map.hotspots") + ": " + m.HotNote)
		}
	}
	if f := r.Figures; f != nil {
		labels := make([]string, len(f.MonthStarts))
		now, last := make([]float64, len(f.Months)), make([]float64, len(f.Months))
		for i, m := range f.MonthStarts {
			labels[i] = l.T(fmt.Sprintf("month_short.%d", int(m.Month()))) + fmt.Sprintf(" %02d", m.Year()%100)
			now[i], last[i] = float64(f.Months[i]), float64(f.LastYearOf[i])
		}
		png, err := draw.Series(draw.SeriesSpec{Width: figurePxWide, Height: 800, Title: l.T("chart.series_36"), Labels: labels,
			Values: now, Previous: last, Name: l.T("table.reporting_period"), PreviousName: l.T("table.same_period_last_year"), Style: style})
		if err != nil {
			return fmt.Errorf("series chart: %w", err)
		}
		p.d.Image(png, figureWidthMM, l.T("chart.series_36"))
		rows := make([]string, 7)
		for d := range rows {
			rows[d] = l.T(fmt.Sprintf("weekday_short.%d", d+1))
		}
		cols := make([]string, 24)
		vals := make([][]float64, 7)
		for h := range cols {
			cols[h] = fmt.Sprintf("%d", h)
		}
		for d := range vals {
			vals[d] = make([]float64, 24)
			for h := range vals[d] {
				vals[d][h] = float64(f.WeekHour[d][h])
			}
		}
		png, err = draw.Grid(draw.GridSpec{Width: figurePxWide, Height: 700, Title: l.T("chart.weekday_hour"), Rows: rows, Cols: cols,
			Values: vals, ShowValues: true, Style: style})
		if err != nil {
			return fmt.Errorf("weekday x hour grid: %w", err)
		}
		p.d.Image(png, figureWidthMM, l.T("chart.weekday_hour"))
	}
	return nil
}

func (p pdfWriter) mapImage(title string, areas []draw.Area, outline []orb.MultiPolygon, legend []draw.LegendItem, style draw.Style) error {
	png, err := draw.Map(draw.MapSpec{Width: figurePxWide, Height: 1200, Title: title, Areas: areas, Outline: outline,
		Legend: legend, ScaleBar: true, NorthArrow: true, Style: style})
	if err != nil {
		return fmt.Errorf("map %s: %w", title, err)
	}
	p.d.Image(png, figureWidthMM, title)
	return nil
}

// rateMap draws the mahallas' crime rates in five quantile classes (no
// population: grey).
func (p pdfWriter) rateMap(m *Maps, outline []orb.MultiPolygon, style draw.Style) error {
	var rates []float64
	for _, a := range m.Mahallas {
		if a.Rate != nil {
			rates = append(rates, *a.Rate)
		}
	}
	if len(rates) == 0 {
		return nil
	}
	slices.Sort(rates)
	// Quintile breaks; equal ones (many mahallas without crime) merge, so
	// every class of the legend is a distinct range.
	const quantiles = 5
	var breaks []float64
	for i := 1; i < quantiles; i++ {
		if b := rates[i*len(rates)/quantiles]; b > rates[0] && (len(breaks) == 0 || b > breaks[len(breaks)-1]) {
			breaks = append(breaks, b)
		}
	}
	classes := len(breaks) + 1
	class := func(v float64) int {
		c := 0
		for c < len(breaks) && v >= breaks[c] {
			c++
		}
		return c
	}
	var areas []draw.Area
	for _, a := range m.Mahallas {
		fill := color.RGBA{200, 200, 200, 255} // no population: no rate
		if a.Rate != nil {
			fill = draw.Ramp((float64(class(*a.Rate)) + 0.5) / float64(classes))
		}
		areas = append(areas, draw.Area{Geom: a.Geometry, Fill: fill, Stroke: color.RGBA{255, 255, 255, 255}})
	}
	l := p.l
	var legend []draw.LegendItem
	lo := rates[0]
	for c := range classes {
		hi := rates[len(rates)-1]
		if c < len(breaks) {
			hi = breaks[c]
		}
		legend = append(legend, draw.LegendItem{Fill: draw.Ramp((float64(c) + 0.5) / float64(classes)), Label: l.Decimal(lo, 1) + " – " + l.Decimal(hi, 1)})
		lo = hi
	}
	return p.mapImage(l.T("map.crime_rate"), areas, outline, legend, style)
}
