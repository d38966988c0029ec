package report

import (
	"fmt"
	"time"

	"github.com/crimemap/crimemap/analytics"
)

// The figures' data: what the charts and maps of the report draw. They are
// computed with the other figures (from the snapshot), so the charts show
// the same numbers as the tables.

// SeriesMonths is the length of the report's monthly series.
const SeriesMonths = 36

// Figures are the data of the report's charts.
type Figures struct {
	// Months: crimes per month for the SeriesMonths months ending with the
	// period, and the same months a year earlier (LastYear[i] is the month
	// twelve months before Months[i]).
	MonthStarts        []time.Time
	Months, LastYearOf []int64
	// WeekHour[d][h]: crimes of the period by local weekday (0 = Monday)
	// and hour.
	WeekHour [7][24]int64
}

// figures fills r.Figures.
func (b *builder) figures() error {
	r := b.r
	loc := b.o.Location
	end := r.Period.To
	start := end.In(loc).AddDate(0, -SeriesMonths-12, 0)
	start = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, loc)
	sr, err := b.snap.Series(analytics.SeriesQuery{Interval: analytics.IntervalMonth, From: start, To: end,
		Filter: analytics.Filter{Unit: b.o.Unit, Kinds: []analytics.Kind{analytics.KindCrime}}})
	if err != nil {
		return fmt.Errorf("report: series: %w", err)
	}
	pts := sr.Points
	if len(pts) < SeriesMonths+12 {
		return fmt.Errorf("report: series of %d months, want %d", len(pts), SeriesMonths+12)
	}
	pts = pts[len(pts)-SeriesMonths-12:]
	f := &Figures{}
	for i := 12; i < len(pts); i++ {
		f.MonthStarts = append(f.MonthStarts, pts[i].Start)
		f.Months = append(f.Months, pts[i].Count)
		f.LastYearOf = append(f.LastYearOf, pts[i-12].Count)
	}
	// The weekday x hour grid: the period's crimes in the unit, read from
	// the snapshot's columns (events without a location count too).
	idx, u, _ := b.snap.Unit(b.o.Unit)
	cols := b.snap.Columns()
	units := unitColumn(cols, u.Level)
	lo, hi := b.snap.Rows(r.Period.From, r.Period.To)
	for row := lo; row < hi; row++ {
		if analytics.Kind(cols.Kind[row]) != analytics.KindCrime || units[row] != idx {
			continue
		}
		t := time.Unix(cols.At[row], 0).In(loc)
		f.WeekHour[(int(t.Weekday())+6)%7][t.Hour()]++
	}
	r.Figures = f
	return nil
}
