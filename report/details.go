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

// The report's figures of the snapshot's report columns: the killed and
// injured of road accidents, their vehicle types and the articles of
// crimes and administrative offences, for the period and from 1 January,
// each against the same span of last year.

// EventSource pages stored events (AddLate); store.Store satisfies it.
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

// details fills r.Details from the snapshot's killed, injured, vehicle and
// article columns: one pass over the rows of the span of the periods.
func (b *builder) details() error {
	r := b.r
	cols := b.snap.Columns()
	idx, _, _ := b.snap.Unit(b.o.Unit)
	units := unitColumn(cols, r.Unit.Level)
	type tally struct{ killed, injured int64 }
	type bucket struct {
		from, to int64 // Unix seconds, [from, to)
		acc      map[string]int64
		off      map[string]int64
		crime    map[string]int64
		tally    tally
	}
	ps := []analytics.Period{r.Period, r.LastYear, r.YTD, r.YTDLast}
	bs := make([]*bucket, len(ps))
	lo, hi := ps[0].From, ps[0].To
	for i, p := range ps {
		bs[i] = &bucket{from: p.From.Unix(), to: p.To.Unix(), acc: map[string]int64{}, off: map[string]int64{}, crime: map[string]int64{}}
		if p.From.Before(lo) {
			lo = p.From
		}
		if p.To.After(hi) {
			hi = p.To
		}
	}
	from, to := b.snap.Rows(lo, hi)
	for row := from; row < to; row++ {
		if row&0xFFFF == 0 {
			if err := b.ctx.Err(); err != nil {
				return fmt.Errorf("report details: %w", err)
			}
		}
		if units[row] != idx {
			continue
		}
		at := cols.At[row]
		kind := analytics.Kind(cols.Kind[row])
		for _, bk := range bs {
			if at < bk.from || at >= bk.to {
				continue
			}
			switch kind {
			case analytics.KindAccident:
				v := cols.Vehicles[cols.Vehicle[row]]
				if v == "" {
					v = "unknown"
				}
				bk.acc[v]++
				bk.tally.killed += int64(cols.Killed[row])
				bk.tally.injured += int64(cols.Injured[row])
			case analytics.KindOffence:
				bk.off[cols.Articles[cols.Article[row]]]++
			case analytics.KindCrime:
				bk.crime[cols.Articles[cols.Article[row]]]++
			}
		}
	}
	now, last, ytd, ytdLast := bs[0], bs[1], bs[2], bs[3]
	d := &Details{Killed: compare(now.tally.killed, last.tally.killed), Injured: compare(now.tally.injured, last.tally.injured),
		KilledYTD: compare(ytd.tally.killed, ytdLast.tally.killed), InjuredYTD: compare(ytd.tally.injured, ytdLast.tally.injured)}
	// Scooters and mopeds are always shown (the review watches them), even
	// at zero.
	for _, v := range []string{"scooter", "electric_scooter", "moped"} {
		now.acc[v] += 0
		last.acc[v] += 0
	}
	d.Vehicles = withYTD(linesOf(now.acc, last.acc, "vehicle."), linesOf(ytd.acc, ytdLast.acc, "vehicle."))
	d.Articles = withYTD(linesOf(now.off, last.off, ""), linesOf(ytd.off, ytdLast.off, ""))
	d.CrimeArticles = linesOf(now.crime, last.crime, "")
	if len(d.CrimeArticles) > TopArticles {
		d.CrimeArticles = d.CrimeArticles[:TopArticles]
	}
	r.Details = d
	return nil
}

// unitColumn is the snapshot's unit column of level.
func unitColumn(cols analytics.Columns, level geo.Level) []int32 {
	switch level {
	case geo.LevelRegion:
		return cols.Region
	case geo.LevelDistrict:
		return cols.District
	}
	return cols.Mahalla
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
