package report

import (
	"fmt"
	"io"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/xuri/excelize/v2"
)

// The XLSX form of a report: one sheet per table, numbers as numbers (so
// the office can sum and chart them), the header row frozen, the same
// figures as the PDF. github.com/xuri/excelize is the maintained pure-Go
// library for the OOXML spreadsheet format (styles, panes, document
// properties) and reads files back for the tests.

// Localizer gives a report's words in one language: the message
// catalogue's text of a key, and the locale's period and date labels.
type Localizer interface {
	T(key string) string
	// Language is the language's catalogue tag (uz, uz-Cyrl, ru, en, kk,
	// ky), as unit names are keyed.
	Language() string
	PeriodLabel(p analytics.Period) string
	Date(t time.Time) string
}

// sheet is one table of the workbook.
type sheet struct {
	name   string // catalogue key of the sheet's title
	header []string
	rows   [][]any
}

// WriteXLSX writes r as a workbook in l's language. The same report gives
// the same bytes: the document's dates are the snapshot's build time.
func WriteXLSX(w io.Writer, r *Report, l Localizer) error {
	f := excelize.NewFile()
	defer f.Close()
	at := r.BuiltAt.UTC()
	if err := f.SetDocProps(&excelize.DocProperties{
		Title:    l.T("report.title") + " " + r.Unit.Name + " " + l.PeriodLabel(r.Period),
		Creator:  "crimemap",
		Created:  at.Format(time.RFC3339),
		Modified: at.Format(time.RFC3339),
		Language: "",
	}); err != nil {
		return fmt.Errorf("report xlsx: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("report xlsx: %w", err)
	}
	pct, err := f.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		return fmt.Errorf("report xlsx: %w", err)
	}
	dec, err := f.NewStyle(&excelize.Style{NumFmt: 2}) // 0.00
	if err != nil {
		return fmt.Errorf("report xlsx: %w", err)
	}
	for i, sh := range sheetsOf(r, l) {
		name := sheetName(l.T(sh.name), i)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return fmt.Errorf("report xlsx: %w", err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return fmt.Errorf("report xlsx: %w", err)
		}
		if err := writeSheet(f, name, sh, bold, pct, dec); err != nil {
			return fmt.Errorf("report xlsx: sheet %s: %w", name, err)
		}
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("report xlsx: %w", err)
	}
	return nil
}

// sheetName makes a valid, distinct sheet name (at most 31 characters,
// none of []:*?/\).
func sheetName(s string, i int) string {
	out := make([]rune, 0, 31)
	for _, c := range s {
		switch c {
		case '[', ']', ':', '*', '?', '/', '\\':
			c = ' '
		}
		if len(out) == 28 {
			break
		}
		out = append(out, c)
	}
	return fmt.Sprintf("%d %s", i+1, string(out))
}

// percentCell is a share as a number of the percent format, or empty.
type percentCell struct{ v *float64 }

// decimalCell is a rate or z as a number with two decimals, or empty.
type decimalCell struct{ v *float64 }

func writeSheet(f *excelize.File, name string, sh sheet, bold, pct, dec int) error {
	for c, h := range sh.header {
		cell, _ := excelize.CoordinatesToCellName(c+1, 1)
		if err := f.SetCellValue(name, cell, h); err != nil {
			return err
		}
		if err := f.SetCellStyle(name, cell, cell, bold); err != nil {
			return err
		}
	}
	for r, row := range sh.rows {
		for c, v := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+2)
			var err error
			switch x := v.(type) {
			case percentCell:
				if x.v != nil {
					err = f.SetCellFloat(name, cell, *x.v, 6, 64)
					if err == nil {
						err = f.SetCellStyle(name, cell, cell, pct)
					}
				}
			case decimalCell:
				if x.v != nil {
					err = f.SetCellFloat(name, cell, *x.v, 6, 64)
					if err == nil {
						err = f.SetCellStyle(name, cell, cell, dec)
					}
				}
			case nil:
			default:
				err = f.SetCellValue(name, cell, v)
			}
			if err != nil {
				return err
			}
		}
	}
	if len(sh.header) > 0 {
		if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		last, _ := excelize.ColumnNumberToName(len(sh.header))
		if err := f.SetColWidth(name, "A", "A", 34); err != nil {
			return err
		}
		if len(sh.header) > 1 {
			if err := f.SetColWidth(name, "B", last, 14); err != nil {
				return err
			}
		}
	}
	return nil
}

// pctOf is a Figure's percent as a fraction (for the percent format).
func pctOf(f Figure) *float64 {
	if f.Percent == nil {
		return nil
	}
	v := *f.Percent / 100
	return &v
}

func zOf(f Figure) *float64 { z := f.Z; return &z }

// figureHeader and figureCells lay out a Figure: count, АППГ, change,
// percent, z.
func figureHeader(l Localizer, prefix string) []string {
	return []string{l.T(prefix), l.T("table.same_period_last_year"), l.T("table.change"), l.T("table.change_percent"), l.T("table.z")}
}

func figureCells(f Figure) []any {
	return []any{f.Count, f.Base, f.Diff, percentCell{pctOf(f)}, decimalCell{zOf(f)}}
}

// sheetsOf lays the report out as tables.
func sheetsOf(r *Report, l Localizer) []sheet {
	cover := sheet{name: "section.cover", header: []string{l.T("table.indicator"), l.T("table.count")}, rows: [][]any{
		{l.T("cover.territory"), r.name(r.Unit.Code, l.Language(), r.Unit.Name) + " (" + r.Unit.Code + ")"},
		{l.T("cover.period"), l.PeriodLabel(r.Period)},
		{l.T("cover.comparison"), l.PeriodLabel(r.LastYear)},
		{l.T("table.cumulative"), l.Date(r.YTD.From) + " – " + l.Date(r.YTD.To.Add(-time.Second))},
		{l.T("table.population"), r.Population},
		{l.T("table.rate"), r.RateBase},
		{l.T("cover.data_as_of"), l.Date(r.BuiltAt)},
		{l.T("cover.snapshot"), fmt.Sprintf("%d / %d", r.Snapshot, r.DataVersion)},
	}}
	if r.Late != nil {
		cover.rows = append(cover.rows, []any{l.T("cover.late_registrations"), *r.Late})
	}
	lines := func(name string, ls []Line, withShare, withRate bool) sheet {
		h := append([]string{l.T("table.indicator")}, figureHeader(l, "table.reporting_period")...)
		h = append(h, figureHeader(l, "table.cumulative")...)
		if withShare {
			h = append(h, l.T("table.share"))
		}
		if withRate {
			h = append(h, l.T("table.rate"))
		}
		sh := sheet{name: name, header: h}
		for _, x := range ls {
			row := append([]any{l.T(x.Key)}, figureCells(x.Period)...)
			row = append(row, figureCells(x.YTD)...)
			if withShare {
				row = append(row, percentCell{x.Share})
			}
			if withRate {
				row = append(row, decimalCell{x.Rate})
			}
			sh.rows = append(sh.rows, row)
		}
		return sh
	}
	out := []sheet{cover,
		lines("section.headline", r.Headline, false, true),
		lines("table.severity", r.Severity, true, false),
		lines("table.category", r.Categories, true, false),
		lines("section.characteristics", r.Characteristics, true, false),
	}
	if d := r.Details; d != nil {
		period := func(name string, ls []Line, label func(Line) string) sheet {
			h := append([]string{l.T(name)}, figureHeader(l, "table.reporting_period")...)
			h = append(h, figureHeader(l, "table.cumulative")...)
			h = append(h, l.T("table.share"))
			sh := sheet{name: name, header: h}
			for _, x := range ls {
				row := append(append([]any{label(x)}, figureCells(x.Period)...), figureCells(x.YTD)...)
				sh.rows = append(sh.rows, append(row, percentCell{x.Share}))
			}
			return sh
		}
		acc := period("section.road_accidents", d.Vehicles, func(x Line) string { return l.T(x.Key) })
		acc.rows = append(acc.rows,
			append(append(append([]any{l.T("headline.killed")}, figureCells(d.Killed)...), figureCells(d.KilledYTD)...), nil),
			append(append(append([]any{l.T("headline.injured")}, figureCells(d.Injured)...), figureCells(d.InjuredYTD)...), nil))
		out = append(out, acc, period("structure.top_articles", d.CrimeArticles, func(x Line) string { return x.Key }),
			period("offences.by_article", d.Articles, func(x Line) string { return x.Key }))
	}
	if c := r.Mahallas; c != nil {
		sh := sheet{name: "territory.categories", header: []string{l.T("table.mahalla"), l.T("table.code"),
			l.T("table.mahalla_category"), l.T("table.transition"), l.T("table.score"), l.T("table.reasons")}}
		for _, m := range c.Top {
			sh.rows = append(sh.rows, []any{r.name(m.Code, l.Language(), m.Name), m.Code, l.T("mahalla_category." + string(m.Category)),
				m.Transition, decimalCell{&m.Score}, l.T("reason." + m.Rule)})
		}
		sh.rows = append(sh.rows, []any{}, []any{l.T("mahalla_category.red"), nil, c.Red},
			[]any{l.T("mahalla_category.yellow"), nil, c.Yellow}, []any{l.T("mahalla_category.green"), nil, c.Green})
		out = append(out, sh)
	}
	if len(r.Children) > 0 {
		h := []string{l.T("table.rank"), l.T("table.unit"), l.T("table.code")}
		h = append(h, figureHeader(l, "table.reporting_period")...)
		h = append(h, l.T("table.population"), l.T("table.rate"))
		sh := sheet{name: "section.territory", header: h}
		for _, c := range r.Children {
			var rank any
			if c.Rank > 0 {
				rank = c.Rank
			}
			row := append([]any{rank, r.name(c.Code, l.Language(), c.Name), c.Code}, figureCells(c.Period)...)
			row = append(row, c.Population, decimalCell{c.Rate})
			sh.rows = append(sh.rows, row)
		}
		out = append(out, sh)
	}
	return out
}
