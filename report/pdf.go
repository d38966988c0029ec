package report

import (
	"fmt"
	"io"

	"github.com/crimemap/crimemap/report/pdfdoc"
)

// Numbers is the locale's number formatting and messages with arguments,
// for the PDF (the XLSX keeps numbers as numbers).
type Numbers interface {
	// Tf is T with the message's printf arguments.
	Tf(key string, args ...any) string
	Int(n int64) string
	Decimal(v float64, decimals int) string
	// Tag is the language's BCP 47 tag (the PDF's /Lang).
	Tag() string
}

// PDFLocalizer is everything the PDF needs of a language.
type PDFLocalizer interface {
	Localizer
	Numbers
}

// WritePDF writes r as a PDF in l's language (report/pdfdoc: DejaVu fonts
// embedded, deterministic bytes: the document's date is the snapshot's
// build time).
func WritePDF(w io.Writer, r *Report, l PDFLocalizer) error {
	title := l.T("report.title")
	d, err := pdfdoc.New(pdfdoc.Options{
		Title:    title + " — " + r.name(r.Unit.Code, l.Language(), r.Unit.Name) + ", " + l.PeriodLabel(r.Period),
		Subject:  l.T("section.headline"),
		Author:   "crimemap",
		Language: l.Tag(),
		Created:  r.BuiltAt,
		Footer:   fmt.Sprintf("%s: %s · %s %d/%d", l.T("cover.data_as_of"), l.Date(r.BuiltAt), l.T("cover.snapshot"), r.Snapshot, r.DataVersion),
		PageLabel: func(page, total int) string {
			return l.Tf("report.page", page, total)
		},
	})
	if err != nil {
		return fmt.Errorf("report pdf: %w", err)
	}
	p := pdfWriter{d: d, l: l}
	p.cover(r)
	p.lines(l.T("section.headline"), r.Headline, false, true)
	d.Heading(1, l.T("section.structure"))
	p.lines(l.T("table.severity"), r.Severity, true, false)
	p.lines(l.T("table.category"), r.Categories, true, false)
	p.lines(l.T("section.characteristics"), r.Characteristics, true, false)
	p.territory(r)
	p.categories(r)
	p.details(r)
	if err := p.figures(r); err != nil {
		return fmt.Errorf("report pdf: %w", err)
	}
	d.Heading(1, l.T("section.notes"))
	for _, k := range []string{"section.causes", "section.measures", "section.proposals"} {
		d.EmptySection(l.T(k), 6)
	}
	if err := d.Write(w); err != nil {
		return fmt.Errorf("report pdf: %w", err)
	}
	return nil
}

type pdfWriter struct {
	d *pdfdoc.Doc
	l PDFLocalizer
}

func (p pdfWriter) cover(r *Report) {
	l := p.l
	p.d.Heading(1, l.T("report.title"))
	pop := "—"
	if r.Population > 0 {
		pop = l.Int(r.Population)
	}
	p.d.KeyValues([][2]string{
		{l.T("cover.territory"), r.name(r.Unit.Code, l.Language(), r.Unit.Name) + " (" + r.Unit.Code + ")"},
		{l.T("cover.period"), l.PeriodLabel(r.Period)},
		{l.T("cover.comparison"), l.PeriodLabel(r.LastYear)},
		{l.T("table.cumulative"), l.Date(r.YTD.From) + " – " + l.Date(r.YTD.To.Add(-1))},
		{l.T("table.population"), pop},
		{l.T("table.rate"), l.Tf("table.rate_per", l.Int(int64(r.RateBase)))},
		{l.T("cover.data_as_of"), l.Date(r.BuiltAt)},
		{l.T("cover.snapshot"), fmt.Sprintf("%d / %d", r.Snapshot, r.DataVersion)},
	})
	if r.Late != nil {
		p.d.KeyValues([][2]string{{l.T("cover.late_registrations"), l.Int(*r.Late)}})
	}
	if c := r.Mahallas; c != nil {
		p.d.KeyValues([][2]string{{l.T("cover.policy_version"), c.PolicyName + " " + c.PolicyVersion}})
	}
	p.d.Note(l.T("cover.preliminary"))
}

// fig formats a Figure's five cells: count, АППГ, change, percent, z.
func (p pdfWriter) fig(f Figure) []string {
	l := p.l
	diff := l.Int(f.Diff)
	if f.Diff > 0 {
		diff = "+" + diff
	}
	pct := "—"
	if f.Percent != nil {
		pct = l.Decimal(*f.Percent, 1)
		if *f.Percent > 0 {
			pct = "+" + pct
		}
	}
	z := l.Decimal(f.Z, 2)
	if f.Significant {
		z += "*"
	}
	return []string{l.Int(f.Count), l.Int(f.Base), diff, pct, z}
}

func (p pdfWriter) figColumns(period string) []pdfdoc.Column {
	l := p.l
	return []pdfdoc.Column{
		{Title: period, Width: 1.1, Align: pdfdoc.AlignRight},
		{Title: l.T("table.same_period_last_year"), Width: 1.1, Align: pdfdoc.AlignRight},
		{Title: l.T("table.change"), Width: 1, Align: pdfdoc.AlignRight},
		{Title: l.T("table.change_percent"), Width: 0.9, Align: pdfdoc.AlignRight},
		{Title: l.T("table.z"), Width: 0.8, Align: pdfdoc.AlignRight},
	}
}

func (p pdfWriter) lines(title string, ls []Line, withShare, withRate bool) {
	if len(ls) == 0 {
		return
	}
	l := p.l
	p.d.Heading(2, title)
	cols := append([]pdfdoc.Column{{Title: l.T("table.indicator"), Width: 3}}, p.figColumns(l.T("table.reporting_period"))...)
	cols = append(cols, p.figColumns(l.T("table.cumulative"))...)
	if withShare {
		cols = append(cols, pdfdoc.Column{Title: l.T("table.share"), Width: 0.9, Align: pdfdoc.AlignRight})
	}
	if withRate {
		cols = append(cols, pdfdoc.Column{Title: l.T("table.rate"), Width: 1, Align: pdfdoc.AlignRight})
	}
	t := pdfdoc.Table{Columns: cols}
	for _, x := range ls {
		row := append([]string{l.T(x.Key)}, p.fig(x.Period)...)
		row = append(row, p.fig(x.YTD)...)
		if withShare {
			s := "—"
			if x.Share != nil {
				s = l.Decimal(100**x.Share, 1)
			}
			row = append(row, s)
		}
		if withRate {
			s := "—"
			if x.Rate != nil {
				s = l.Decimal(*x.Rate, 1)
			}
			row = append(row, s)
		}
		t.Rows = append(t.Rows, row)
	}
	p.d.Table(t)
}

func (p pdfWriter) territory(r *Report) {
	if len(r.Children) == 0 {
		return
	}
	l := p.l
	p.d.Heading(2, l.T("section.territory"))
	cols := []pdfdoc.Column{
		{Title: l.T("table.rank"), Width: 0.6, Align: pdfdoc.AlignRight},
		{Title: l.T("table.unit"), Width: 3},
	}
	cols = append(cols, p.figColumns(l.T("table.reporting_period"))...)
	cols = append(cols, pdfdoc.Column{Title: l.T("table.rate"), Width: 1, Align: pdfdoc.AlignRight})
	t := pdfdoc.Table{Columns: cols}
	for _, c := range r.Children {
		rank, rate := "—", "—"
		if c.Rank > 0 {
			rank = l.Int(int64(c.Rank))
		}
		if c.Rate != nil {
			rate = l.Decimal(*c.Rate, 1)
		}
		row := append([]string{rank, r.name(c.Code, l.Language(), c.Name)}, p.fig(c.Period)...)
		t.Rows = append(t.Rows, append(row, rate))
	}
	p.d.Table(t)
	ch := r.Changes
	p.d.Paragraph(fmt.Sprintf("%s: %s %s, %s %s, %s %s, %s %s.", l.T("territory.dynamics"),
		l.T("territory.no_crime"), l.Int(int64(ch.NoCrime)), l.T("territory.fell"), l.Int(int64(ch.Fell)),
		l.T("territory.held"), l.Int(int64(ch.Held)), l.T("territory.rose"), l.Int(int64(ch.Rose))))
}

// details lays out the store's figures: road accidents with their killed
// and injured and by vehicle type, offences by article.
func (p pdfWriter) details(r *Report) {
	d := r.Details
	if d == nil {
		return
	}
	l := p.l
	p.d.Heading(1, l.T("section.road_accidents"))
	table := func(first string, ls []Line, label func(Line) string, extra [][]string) {
		cols := append([]pdfdoc.Column{{Title: first, Width: 3}}, p.figColumns(l.T("table.reporting_period"))...)
		cols = append(cols, p.figColumns(l.T("table.cumulative"))...)
		cols = append(cols, pdfdoc.Column{Title: l.T("table.share"), Width: 0.9, Align: pdfdoc.AlignRight})
		t := pdfdoc.Table{Columns: cols}
		for _, x := range ls {
			s := "—"
			if x.Share != nil {
				s = l.Decimal(100**x.Share, 1)
			}
			row := append(append([]string{label(x)}, p.fig(x.Period)...), p.fig(x.YTD)...)
			t.Rows = append(t.Rows, append(row, s))
		}
		t.Rows = append(t.Rows, extra...)
		p.d.Table(t)
	}
	cas := [][]string{
		append(append(append([]string{l.T("headline.killed")}, p.fig(d.Killed)...), p.fig(d.KilledYTD)...), ""),
		append(append(append([]string{l.T("headline.injured")}, p.fig(d.Injured)...), p.fig(d.InjuredYTD)...), ""),
	}
	table(l.T("table.vehicle"), d.Vehicles, func(x Line) string { return l.T(x.Key) }, cas)
	if len(d.CrimeArticles) > 0 {
		p.d.Heading(1, l.T("structure.top_articles"))
		table(l.T("table.article"), d.CrimeArticles, func(x Line) string { return l.Tf("article.crime", x.Key) }, nil)
	}
	if len(d.Articles) > 0 {
		p.d.Heading(1, l.T("offences.by_article"))
		table(l.T("table.article"), d.Articles, func(x Line) string { return l.Tf("article.offence", x.Key) }, nil)
	}
}

// categories lays out the mahalla categories of the period's run.
func (p pdfWriter) categories(r *Report) {
	l := p.l
	p.d.Heading(2, l.T("territory.categories"))
	c := r.Mahallas
	if c == nil {
		p.d.Note(l.T("table.no_data"))
		return
	}
	p.d.KeyValues([][2]string{
		{l.T("mahalla_category.red"), l.Int(int64(c.Red))},
		{l.T("mahalla_category.yellow"), l.Int(int64(c.Yellow))},
		{l.T("mahalla_category.green"), l.Int(int64(c.Green))},
		{l.T("cover.policy_version"), c.PolicyName + " " + c.PolicyVersion},
	})
	t := pdfdoc.Table{Columns: []pdfdoc.Column{{Title: l.T("territory.transitions"), Width: 4}, {Title: l.T("table.count"), Width: 1, Align: pdfdoc.AlignRight}}}
	for _, x := range c.Transitions {
		t.Rows = append(t.Rows, []string{transitionLabel(l, l.Tf, x.Transition), l.Int(int64(x.Mahallas))})
	}
	p.d.Table(t)
	names := func(ms []MahallaLine) string {
		if len(ms) == 0 {
			return "—"
		}
		out := ""
		for i, m := range ms {
			if i > 0 {
				out += ", "
			}
			out += r.name(m.Code, l.Language(), m.Name)
		}
		return out
	}
	p.d.KeyValues([][2]string{
		{l.T("territory.red_5_years"), names(c.RedFiveYears)},
		{l.T("territory.red_3_years"), names(c.RedThreeYears)},
	})
	p.d.Heading(3, l.T("territory.top_mahallas"))
	top := pdfdoc.Table{Columns: []pdfdoc.Column{
		{Title: l.T("table.mahalla"), Width: 2.2},
		{Title: l.T("table.mahalla_category"), Width: 1},
		{Title: l.T("table.transition"), Width: 1.4},
		{Title: l.T("table.reasons"), Width: 5},
	}}
	for _, m := range c.Top {
		top.Rows = append(top.Rows, []string{r.name(m.Code, l.Language(), m.Name), l.T("mahalla_category." + string(m.Category)),
			transitionLabel(l, l.Tf, m.Transition), p.grounds(m)})
	}
	p.d.Table(top)
}

// grounds is the rule that decided a mahalla's category and its fired
// indicators, in the report's language.
func (p pdfWriter) grounds(m MahallaLine) string {
	l := p.l
	out := l.T("reason." + m.Rule)
	for _, f := range m.Fired {
		thr := "—"
		if f.Threshold != nil {
			thr = l.Decimal(*f.Threshold, 1)
		}
		out += "; " + l.Tf("reason.indicator_fired", l.T("indicator."+f.Name), l.Decimal(f.Value, 1), thr)
	}
	return out
}
