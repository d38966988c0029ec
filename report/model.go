// Package report builds the periodic criminogenic review prosecutors and
// interior-ministry staff file (monthly, quarterly, half-yearly, yearly):
// the figures of a territory for a closed period, each with the same period
// of last year (АППГ), the change, a percentage only on a base of at least
// analytics.MinBaseForPercent and the Poisson z, for the period and
// cumulatively from 1 January; its structure, characteristics and child
// units. Build computes the figures from an analytics snapshot (exact
// numbers: reports are for analysts); renderers (PDF, XLSX) lay them out in
// the language of the message catalogues.
package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
)

// ErrReport is wrapped by Build's errors about the request (unknown unit,
// open period): the caller's mistake, with the value and what is allowed.
var ErrReport = errors.New("report")

// DefaultRateBase is the number of residents rates are given per.
const DefaultRateBase = 100_000

// DefaultTop is how many categories a structure table lists.
const DefaultTop = 10

// Options choose a report.
type Options struct {
	// Period is a closed month, quarter, half or year.
	Period analytics.Period
	// Unit is the code of a region, district or mahalla.
	Unit string
	// RateBase: rates are per this many residents (default 100,000).
	RateBase float64
	// Top: rows of the top-categories table (default 10).
	Top int
	// Location is the zone periods are cut in (for the year to date).
	Location *time.Location
	// Now decides whether the period is closed.
	Now time.Time
}

// Figure is a count compared with the same period of last year.
type Figure struct {
	Count, Base, Diff int64
	// Percent is 100*Diff/Base; nil when Base < analytics.MinBaseForPercent.
	Percent *float64
	// Z is the variance-stabilised difference of two Poisson counts.
	Z           float64
	Significant bool
}

// Line is one row of a table: a catalogue key (e.g. "kind.crime",
// "severity.grave", "flag.juvenile", "category.theft") with its figures.
type Line struct {
	Key string
	// Period and YTD (cumulative from 1 January to the period's end).
	Period, YTD Figure
	// Rate per RateBase residents in the period; nil without population.
	Rate *float64
	// Share of the table's whole (crimes) in the period, 0..1; nil where
	// shares do not apply.
	Share *float64
}

// UnitLine is a child unit's row of the territory table.
type UnitLine struct {
	Code, Name string
	Population int64
	Period     Figure
	Rate       *float64
	// Rank by rate (1 = highest), 0 without a rate.
	Rank int
}

// Change counts mahallas by how their crimes changed against last year:
// none in either period, fell, held, rose.
type Change struct {
	NoCrime, Fell, Held, Rose int
}

// Report holds every figure of one review.
type Report struct {
	Unit       analytics.UnitInfo
	Period     analytics.Period
	LastYear   analytics.Period
	YTD        analytics.Period
	YTDLast    analytics.Period
	Population int64
	RateBase   float64
	// The data cut-off: the snapshot the figures come from.
	Snapshot    uint64
	DataVersion int64
	BuiltAt     time.Time

	// Headline: crimes, road accidents and administrative offences.
	Headline []Line
	// Structure of crimes: by severity class and the top categories.
	Severity, Categories []Line
	// Characteristics of crimes (flags) with their shares; solved is the
	// clearance rate.
	Characteristics []Line
	// ChildLevel and Children: the territory table of crimes (districts of
	// a region, mahallas of a district; none for a mahalla), highest rate
	// first. Changes counts the territory's mahallas by how their crimes
	// changed: none, fell, held, rose.
	ChildLevel geo.Level
	Children   []UnitLine
	Changes    Change

	// Late counts the period's events recorded after it ended (nil until
	// AddLate).
	Late *int64
	// Details are the killed and injured, vehicles and articles.
	Details *Details
	// Figures are the data of the charts.
	Figures *Figures
	// Maps are the data of the maps: nil until AddMaps.
	Maps *Maps
	// Mahallas are the mahalla categories of the period's classification
	// run: nil until AddCategories, and without a run.
	Mahallas *Categories
	// Names are the unit names by code and language, from AddNames; the
	// writers fall back to the snapshot's name.
	Names map[string]map[string]string
}

// Build computes the report of o from snap. It refuses an unknown unit, a
// unit that is not a region, district or mahalla, and a period that has not
// ended (errors wrap ErrReport and name the value and what is allowed).
func Build(ctx context.Context, snap *analytics.Snapshot, o Options) (*Report, error) {
	if o.RateBase <= 0 {
		o.RateBase = DefaultRateBase
	}
	if o.Top <= 0 {
		o.Top = DefaultTop
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	switch o.Period.Kind {
	case analytics.PeriodMonth, analytics.PeriodQuarter, analytics.PeriodHalf, analytics.PeriodYear:
	default:
		return nil, fmt.Errorf("%w: period %q: want a month, quarter, half or year (e.g. 2025-09, 2025-Q3, 2025-H1, 2025)", ErrReport, o.Period.Label)
	}
	if o.Now.Before(o.Period.To) {
		return nil, fmt.Errorf("%w: period %s has not ended (it ends %s): reports cover closed periods",
			ErrReport, o.Period.Label, o.Period.To.In(o.Location).Format(time.DateTime))
	}
	_, u, ok := snap.Unit(o.Unit)
	if !ok || u.Unknown {
		return nil, fmt.Errorf("%w: unit %q: no such region, district or mahalla", ErrReport, o.Unit)
	}
	if u.Level.Rank() < 0 {
		return nil, fmt.Errorf("%w: unit %q is a %s: want a region, district or mahalla", ErrReport, o.Unit, u.Level)
	}
	r := &Report{Unit: u, Period: o.Period, Population: u.Population, RateBase: o.RateBase,
		Snapshot: snap.Version(), DataVersion: snap.DataVersion(), BuiltAt: snap.BuiltAt()}
	r.LastYear = o.Period.LastYear()
	r.YTD, r.YTDLast = analytics.YearToDate(o.Period.To.Add(-time.Nanosecond), o.Location)
	b := builder{ctx: ctx, snap: snap, o: o, r: r}
	if err := b.headline(); err != nil {
		return nil, err
	}
	if err := b.structure(); err != nil {
		return nil, err
	}
	if err := b.children(); err != nil {
		return nil, err
	}
	if err := b.figures(); err != nil {
		return nil, err
	}
	if err := b.details(); err != nil {
		return nil, err
	}
	return r, nil
}

// builder runs the queries of one report.
type builder struct {
	ctx  context.Context
	snap *analytics.Snapshot
	o    Options
	r    *Report
}

// rows answers one stats query over the report's unit itself, grouped by
// g, for period p with the last year's comparison: the rows by group.
func (b *builder) rows(p analytics.Period, f analytics.Filter, g analytics.Dimension) (map[string]analytics.StatsRow, error) {
	if err := b.ctx.Err(); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	f.Unit = b.o.Unit
	st, err := b.snap.Stats(analytics.StatsQuery{Period: p, Level: b.r.Unit.Level, Filter: f, Group: g, CompareLastYear: true})
	if err != nil {
		return nil, fmt.Errorf("report: stats: %w", err)
	}
	out := make(map[string]analytics.StatsRow, len(st.Rows))
	for _, row := range st.Rows {
		if row.Unit == b.o.Unit {
			out[row.Group] = row
		}
	}
	return out, nil
}

// figure is the row's count with its last-year comparison.
func figure(row analytics.StatsRow) Figure {
	f := Figure{Count: row.Count}
	if c := row.LastYear; c != nil {
		f.Base, f.Diff, f.Percent, f.Z, f.Significant = c.Base, c.Diff, c.Percent, c.Z, c.Significant
	}
	return f
}

// rate is count per RateBase residents, nil without population.
func (b *builder) rate(count, population int64) *float64 {
	if population <= 0 {
		return nil
	}
	v := float64(count) * b.o.RateBase / float64(population)
	return &v
}

func share(part, whole int64) *float64 {
	if whole <= 0 {
		return nil
	}
	v := float64(part) / float64(whole)
	return &v
}

// headline fills the crimes, road accidents and offences, for the period
// and the year to date. (Killed and injured are not in the snapshot; they
// come from the store with the accident tables.)
func (b *builder) headline() error {
	per, err := b.rows(b.r.Period, analytics.Filter{}, analytics.DimKind)
	if err != nil {
		return err
	}
	ytd, err := b.rows(b.r.YTD, analytics.Filter{}, analytics.DimKind)
	if err != nil {
		return err
	}
	for _, k := range analytics.Kinds {
		name := k.String()
		l := Line{Key: "kind." + name, Period: figure(per[name]), YTD: figure(ytd[name])}
		l.Rate = b.rate(l.Period.Count, b.r.Population)
		b.r.Headline = append(b.r.Headline, l)
	}
	return nil
}

// structure fills the crimes by severity, the top categories and the
// characteristics, each with its share of the period's crimes.
func (b *builder) structure() error {
	crimes := analytics.Filter{Kinds: []analytics.Kind{analytics.KindCrime}}
	total := b.r.Headline[0].Period.Count // kind.crime comes first
	lines := func(g analytics.Dimension, keyPrefix string, order []string) ([]Line, error) {
		per, err := b.rows(b.r.Period, crimes, g)
		if err != nil {
			return nil, err
		}
		ytd, err := b.rows(b.r.YTD, crimes, g)
		if err != nil {
			return nil, err
		}
		if order == nil {
			for k := range per {
				order = append(order, k)
			}
		}
		out := make([]Line, 0, len(order))
		for _, k := range order {
			if k == "" {
				continue
			}
			l := Line{Key: keyPrefix + k, Period: figure(per[k]), YTD: figure(ytd[k]), Share: share(per[k].Count, total)}
			out = append(out, l)
		}
		return out, nil
	}
	var err error
	sev := []string{}
	for s := analytics.SeverityMinor; s <= analytics.SeverityEspeciallyGrave; s++ {
		sev = append(sev, s.String())
	}
	if b.r.Severity, err = lines(analytics.DimSeverity, "severity.", sev); err != nil {
		return err
	}
	cats, err := lines(analytics.DimCategory, "category.", nil)
	if err != nil {
		return err
	}
	slices.SortFunc(cats, func(x, y Line) int {
		return cmp.Or(cmp.Compare(y.Period.Count, x.Period.Count), cmp.Compare(x.Key, y.Key))
	})
	b.r.Categories = cats[:min(len(cats), b.o.Top)]
	flags := make([]string, 0, len(analytics.FlagNames))
	for _, f := range analytics.FlagNames {
		flags = append(flags, f.Name)
	}
	b.r.Characteristics, err = lines(analytics.DimFlag, "flag.", flags)
	return err
}

// children fills the territory table: crimes of every child unit, ranked
// by rate, and how many fell, held or rose.
func (b *builder) children() error {
	if err := b.mahallaChanges(); err != nil {
		return err
	}
	switch b.r.Unit.Level {
	case geo.LevelRegion:
		b.r.ChildLevel = geo.LevelDistrict
	case geo.LevelDistrict:
		b.r.ChildLevel = geo.LevelMahalla
	default:
		return nil
	}
	st, err := b.snap.Stats(analytics.StatsQuery{Period: b.r.Period, Level: b.r.ChildLevel, CompareLastYear: true,
		Filter: analytics.Filter{Unit: b.o.Unit, Kinds: []analytics.Kind{analytics.KindCrime}}})
	if err != nil {
		return fmt.Errorf("report: child units: %w", err)
	}
	for _, row := range st.Rows {
		ul := UnitLine{Code: row.Unit, Name: row.Name, Population: row.Population, Period: figure(row), Rate: b.rate(row.Count, row.Population)}
		b.r.Children = append(b.r.Children, ul)
	}
	slices.SortStableFunc(b.r.Children, func(x, y UnitLine) int {
		switch {
		case x.Rate == nil && y.Rate == nil:
			return cmp.Compare(x.Code, y.Code)
		case x.Rate == nil:
			return 1
		case y.Rate == nil:
			return -1
		}
		return cmp.Or(cmp.Compare(*y.Rate, *x.Rate), cmp.Compare(x.Code, y.Code))
	})
	rank := 0
	for i := range b.r.Children {
		if b.r.Children[i].Rate != nil {
			rank++
			b.r.Children[i].Rank = rank
		}
	}
	return nil
}

// mahallaChanges counts the territory's mahallas by how their crimes
// changed against the same period of last year (at any territory level:
// the review counts mahallas).
func (b *builder) mahallaChanges() error {
	st, err := b.snap.Stats(analytics.StatsQuery{Period: b.r.Period, Level: geo.LevelMahalla, CompareLastYear: true,
		Filter: analytics.Filter{Unit: b.o.Unit, Kinds: []analytics.Kind{analytics.KindCrime}}})
	if err != nil {
		return fmt.Errorf("report: mahallas: %w", err)
	}
	for _, row := range st.Rows {
		switch f := figure(row); {
		case f.Count == 0 && f.Base == 0:
			b.r.Changes.NoCrime++
		case f.Diff < 0:
			b.r.Changes.Fell++
		case f.Diff == 0:
			b.r.Changes.Held++
		default:
			b.r.Changes.Rose++
		}
	}
	return nil
}
