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
	type bucket struct {
		p     analytics.Period
		by    map[string]int64
		tally tally
	}
	// One paged pass per kind over the span of its periods: each stored
	// event is read once and counted in every period that holds it.
	pass := func(kind analytics.Kind, by func(*analytics.Event) string, ps ...analytics.Period) ([]*bucket, error) {
		bs := make([]*bucket, len(ps))
		from, to := ps[0].From, ps[0].To
		for i, p := range ps {
			bs[i] = &bucket{p: p, by: map[string]int64{}}
			if p.From.Before(from) {
				from = p.From
			}
			if p.To.After(to) {
				to = p.To
			}
		}
		for offset := 0; ; {
			page, err := src.Events(ctx, store.EventQuery{Kind: kind, From: from, To: to, Unit: r.Unit.Code, Limit: store.MaxLimit, Offset: offset})
			if err != nil {
				return nil, fmt.Errorf("report details: %w", err)
			}
			for i := range page.Events {
				e := &page.Events[i]
				for _, b := range bs {
					if e.OccurredAt.Before(b.p.From) || !e.OccurredAt.Before(b.p.To) {
						continue
					}
					b.by[by(e)]++
					b.tally.killed += int64(e.Killed)
					b.tally.injured += int64(e.Injured)
				}
			}
			offset += len(page.Events)
			if len(page.Events) == 0 || offset >= page.Total {
				return bs, nil
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
	acc, err := pass(analytics.KindAccident, vehicle, r.Period, r.LastYear, r.YTD, r.YTDLast)
	if err != nil {
		return err
	}
	off, err := pass(analytics.KindOffence, article, r.Period, r.LastYear, r.YTD, r.YTDLast)
	if err != nil {
		return err
	}
	crimes, err := pass(analytics.KindCrime, article, r.Period, r.LastYear)
	if err != nil {
		return err
	}
	vNow, vLast, vYTD, vYTDLast := acc[0].by, acc[1].by, acc[2].by, acc[3].by
	tNow, tLast, tYTD, tYTDLast := acc[0].tally, acc[1].tally, acc[2].tally, acc[3].tally
	aNow, aLast, aYTD, aYTDLast := off[0].by, off[1].by, off[2].by, off[3].by
	cNow, cLast := crimes[0].by, crimes[1].by
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
