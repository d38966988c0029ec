package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
)

// The figures the snapshot does not keep (it holds what every map and
// query needs, in ~50 bytes an event): the killed and injured of road
// accidents, their vehicle types and the articles of administrative
// offences. AddDetails reads them from the store's events of the
// territory, for the period and the same period of last year.

// EventSource pages stored events; store.Store satisfies it.
type EventSource interface {
	Events(ctx context.Context, q store.EventQuery) (store.EventPage, error)
}

// UnitSource gives units with their names in every language; store.Store
// satisfies it.
type UnitSource interface {
	Units(ctx context.Context, q store.UnitQuery) ([]geo.Unit, error)
}

// Details are the store's figures of a report.
type Details struct {
	// Killed and Injured in road accidents (period against last year), and
	// the same from 1 January.
	Killed, Injured       Figure
	KilledYTD, InjuredYTD Figure
	// Vehicles: road accidents by vehicle type ("vehicle.<type>"), most
	// first; Key "vehicle.unknown" for accidents without one.
	Vehicles []Line
	// Articles: administrative offences by article, most first
	// (Key is the article number).
	Articles []Line
	// CrimeArticles: the TopArticles Criminal Code articles of the
	// period's crimes, most first, with their share (Key: the article).
	CrimeArticles []Line
}

// TopArticles is how many crime articles the structure lists.
const TopArticles = 10

// AddDetails fills r.Details from src.
func (r *Report) AddDetails(ctx context.Context, src EventSource) error {
	type tally struct{ killed, injured int64 }
	count := func(kind analytics.Kind, p analytics.Period, by func(*analytics.Event) string) (map[string]int64, tally, error) {
		out := map[string]int64{}
		var t tally
		for offset := 0; ; {
			page, err := src.Events(ctx, store.EventQuery{Kind: kind, From: p.From, To: p.To, Unit: r.Unit.Code, Limit: store.MaxLimit, Offset: offset})
			if err != nil {
				return nil, t, fmt.Errorf("report details: %w", err)
			}
			for i := range page.Events {
				e := &page.Events[i]
				out[by(e)]++
				t.killed += int64(e.Killed)
				t.injured += int64(e.Injured)
			}
			offset += len(page.Events)
			if len(page.Events) == 0 || offset >= page.Total {
				return out, t, nil
			}
		}
	}
	vehicle := func(e *analytics.Event) string {
		if e.Vehicle == "" {
			return "unknown"
		}
		return e.Vehicle
	}
	article := func(e *analytics.Event) string { return e.Article }
	vNow, tNow, err := count(analytics.KindAccident, r.Period, vehicle)
	if err != nil {
		return err
	}
	vLast, tLast, err := count(analytics.KindAccident, r.LastYear, vehicle)
	if err != nil {
		return err
	}
	aNow, _, err := count(analytics.KindOffence, r.Period, article)
	if err != nil {
		return err
	}
	aLast, _, err := count(analytics.KindOffence, r.LastYear, article)
	if err != nil {
		return err
	}
	cNow, _, err := count(analytics.KindCrime, r.Period, article)
	if err != nil {
		return err
	}
	cLast, _, err := count(analytics.KindCrime, r.LastYear, article)
	if err != nil {
		return err
	}
	// The same from 1 January (a year period is its own year to date).
	vYTD, tYTD, aYTD := vNow, tNow, aNow
	vYTDLast, tYTDLast, aYTDLast := vLast, tLast, aLast
	if r.YTD != r.Period {
		if vYTD, tYTD, err = count(analytics.KindAccident, r.YTD, vehicle); err != nil {
			return err
		}
		if vYTDLast, tYTDLast, err = count(analytics.KindAccident, r.YTDLast, vehicle); err != nil {
			return err
		}
		if aYTD, _, err = count(analytics.KindOffence, r.YTD, article); err != nil {
			return err
		}
		if aYTDLast, _, err = count(analytics.KindOffence, r.YTDLast, article); err != nil {
			return err
		}
	}
	d := &Details{Killed: compare(tNow.killed, tLast.killed), Injured: compare(tNow.injured, tLast.injured),
		KilledYTD: compare(tYTD.killed, tYTDLast.killed), InjuredYTD: compare(tYTD.injured, tYTDLast.injured)}
	// Scooters and mopeds are always shown (the review watches them), even
	// at zero.
	for _, v := range []string{"scooter", "electric_scooter", "moped"} {
		vNow[v] += 0
		vLast[v] += 0
	}
	d.Vehicles = withYTD(linesOf(vNow, vLast, "vehicle."), linesOf(vYTD, vYTDLast, "vehicle."))
	d.CrimeArticles = linesOf(cNow, cLast, "")
	if len(d.CrimeArticles) > TopArticles {
		d.CrimeArticles = d.CrimeArticles[:TopArticles]
	}
	d.Articles = withYTD(linesOf(aNow, aLast, ""), linesOf(aYTD, aYTDLast, ""))
	r.Details = d
	return nil
}

// withYTD sets each line's YTD from the year-to-date lines of the same key
// (keys only seen since January are added at the end).
func withYTD(period, ytd []Line) []Line {
	at := make(map[string]int, len(period))
	for i, l := range period {
		at[l.Key] = i
	}
	for _, y := range ytd {
		if i, ok := at[y.Key]; ok {
			period[i].YTD = y.Period
			continue
		}
		period = append(period, Line{Key: y.Key, YTD: y.Period})
	}
	return period
}

// linesOf compares two tallies key by key, most in the period first.
func linesOf(now, last map[string]int64, prefix string) []Line {
	keys := map[string]bool{}
	for k := range now {
		keys[k] = true
	}
	for k := range last {
		keys[k] = true
	}
	var total int64
	for _, n := range now {
		total += n
	}
	out := make([]Line, 0, len(keys))
	for k := range keys {
		if k == "" {
			continue
		}
		out = append(out, Line{Key: prefix + k, Period: compare(now[k], last[k]), Share: share(now[k], total)})
	}
	slices.SortFunc(out, func(x, y Line) int {
		return cmp.Or(cmp.Compare(y.Period.Count, x.Period.Count), cmp.Compare(x.Key, y.Key))
	})
	return out
}

// compare is the Figure of count against base, as analytics compares them.
func compare(count, base int64) Figure {
	c := analytics.Compare(count, base, analytics.Period{})
	return Figure{Count: count, Base: base, Diff: c.Diff, Percent: c.Percent, Z: c.Z, Significant: c.Significant}
}

// AddNames keeps the names of the report's unit and its child units in
// every language the store has, for the writers (the fallback is the
// snapshot's name).
func (r *Report) AddNames(ctx context.Context, src UnitSource) error {
	us, err := src.Units(ctx, store.UnitQuery{})
	if err != nil {
		return fmt.Errorf("report names: %w", err)
	}
	want := map[string]bool{r.Unit.Code: true}
	for _, c := range r.Children {
		want[c.Code] = true
	}
	r.Names = map[string]map[string]string{}
	for i := range us {
		if want[us[i].Code] && len(us[i].Names) > 0 {
			r.Names[us[i].Code] = us[i].Names
		}
	}
	return nil
}

// name is the unit's name in lang (an i18n tag, as the unit names'),
// falling back to Uzbek, Russian, English and the snapshot's name.
func (r *Report) name(code, lang, fallback string) string {
	names := r.Names[code]
	for _, l := range []string{lang, "uz", "ru", "en"} {
		if n := names[l]; n != "" {
			return n
		}
	}
	return fallback
}

// AddLate counts the events of the report's territory and period that the
// store first recorded after the period ended: registered late, they make
// the period's figures preliminary (events stored before recording times
// were kept are not counted).
func (r *Report) AddLate(ctx context.Context, src EventSource) error {
	page, err := src.Events(ctx, store.EventQuery{From: r.Period.From, To: r.Period.To, Unit: r.Unit.Code,
		RecordedAfter: r.Period.To, Limit: 1})
	if err != nil {
		return fmt.Errorf("report late registrations: %w", err)
	}
	n := int64(page.Total)
	r.Late = &n
	return nil
}
