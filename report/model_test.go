package report_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/crimemap/crimemap/report"
)

// world is a demo region snapshot with the events it was built from.
type world struct {
	snap   *analytics.Snapshot
	events []analytics.Event
	loc    *time.Location
}

var demoWorld = sync.OnceValues(func() (*world, error) {
	units, err := demo.Units()
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation("Asia/Tashkent")
	if err != nil {
		return nil, err
	}
	w := &world{loc: loc}
	cfg := demo.Config{Seed: 3, Now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), Scale: 0.05}
	if err := demo.Events(context.Background(), cfg, units, func(b []analytics.Event) error {
		w.events = append(w.events, b...)
		return nil
	}); err != nil {
		return nil, err
	}
	w.snap, err = analytics.BuildEvents(context.Background(), units, w.events, 1, 1)
	return w, err
})

// count counts the events of kind in unit (any level) within p, straight
// from the events: the reference the report's figures must equal.
func (w *world) count(kind analytics.Kind, unit string, p analytics.Period) int64 {
	var n int64
	for i := range w.events {
		e := &w.events[i]
		if e.Kind != kind || e.OccurredAt.Before(p.From) || !e.OccurredAt.Before(p.To) {
			continue
		}
		if e.Region == unit || e.District == unit || e.Mahalla == unit {
			n++
		}
	}
	return n
}

// TestBuildAgainstEvents: the headline figures (period and year to date,
// with the same period of last year) equal counts taken straight from the
// events, for a region and a district; the structure, characteristics and
// territory tables are consistent with them.
func TestBuildAgainstEvents(t *testing.T) {
	w, err := demoWorld()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ unit, period string }{{"1710", "2026-Q2"}, {"1710401", "2026-H1"}, {"1710401", "2026-09"}} {
		p, err := analytics.ParsePeriod(tc.period, w.loc)
		if err != nil {
			t.Fatal(err)
		}
		r, err := report.Build(context.Background(), w.snap, report.Options{Period: p, Unit: tc.unit, Location: w.loc, Now: now})
		if err != nil {
			t.Fatalf("%s %s: %v", tc.unit, tc.period, err)
		}
		if len(r.Headline) != len(analytics.Kinds) {
			t.Fatalf("%d headline lines", len(r.Headline))
		}
		for i, k := range analytics.Kinds {
			l := r.Headline[i]
			want := report.Figure{Count: w.count(k, tc.unit, p), Base: w.count(k, tc.unit, r.LastYear)}
			if l.Key != "kind."+k.String() || l.Period.Count != want.Count || l.Period.Base != want.Base || l.Period.Diff != want.Count-want.Base {
				t.Errorf("%s %s %s: period %+v, want count %d base %d", tc.unit, tc.period, k, l.Period, want.Count, want.Base)
			}
			if got, want := l.YTD.Count, w.count(k, tc.unit, r.YTD); got != want {
				t.Errorf("%s %s %s: year to date %d, want %d", tc.unit, tc.period, k, got, want)
			}
			if got, want := l.YTD.Base, w.count(k, tc.unit, r.YTDLast); got != want {
				t.Errorf("%s %s %s: year to date last year %d, want %d", tc.unit, tc.period, k, got, want)
			}
			if (l.Period.Percent != nil) != (l.Period.Base >= analytics.MinBaseForPercent) {
				t.Errorf("%s: percent %v on a base of %d", l.Key, l.Period.Percent, l.Period.Base)
			}
		}
		crimes := r.Headline[0].Period.Count
		// The charts show the same numbers: the months of the period add up
		// to its crimes, and so does the weekday x hour grid.
		f := r.Figures
		if len(f.Months) != report.SeriesMonths || len(f.LastYearOf) != report.SeriesMonths {
			t.Fatalf("%d months", len(f.Months))
		}
		var inPeriod, grid int64
		for i, m := range f.MonthStarts {
			if !m.Before(p.From) && m.Before(p.To) {
				inPeriod += f.Months[i]
			}
		}
		for d := range f.WeekHour {
			for h := range f.WeekHour[d] {
				grid += f.WeekHour[d][h]
			}
		}
		if inPeriod != crimes || grid != crimes {
			t.Errorf("%s %s: months of the period %d, grid %d, crimes %d", tc.unit, tc.period, inPeriod, grid, crimes)
		}
		if !f.MonthStarts[len(f.MonthStarts)-1].Before(p.To) || f.MonthStarts[len(f.MonthStarts)-1].AddDate(0, 1, 0).Before(p.To) {
			t.Errorf("the series ends %s, the period %s", f.MonthStarts[len(f.MonthStarts)-1], p.To)
		}
		var sev int64
		for _, l := range r.Severity {
			sev += l.Period.Count
		}
		if sev > crimes || crimes == 0 {
			t.Errorf("%s %s: %d crimes by severity of %d", tc.unit, tc.period, sev, crimes)
		}
		for i := 1; i < len(r.Categories); i++ {
			if r.Categories[i].Period.Count > r.Categories[i-1].Period.Count {
				t.Errorf("categories not by count: %+v", r.Categories)
			}
		}
		if r.YTD.From.Month() != time.January || !r.YTD.To.Equal(p.To) {
			t.Errorf("year to date %s..%s for %s", r.YTD.From, r.YTD.To, p.Label)
		}
		if len(r.Children) > 0 {
			var sum int64
			for i, c := range r.Children {
				sum += c.Period.Count
				if c.Rate != nil && c.Rank != i+1 {
					t.Errorf("child %s rank %d at %d", c.Code, c.Rank, i)
				}
			}
			if sum > crimes {
				t.Errorf("children's crimes %d > the unit's %d", sum, crimes)
			}
			ch := r.Changes
			mahallas := 0
			for _, u := range w.snap.Units() {
				if u.Level == geo.LevelMahalla && !u.Unknown && strings.HasPrefix(u.Code, tc.unit) {
					mahallas++
				}
			}
			if ch.NoCrime+ch.Fell+ch.Held+ch.Rose != mahallas {
				t.Errorf("changes %+v of %d mahallas", ch, mahallas)
			}
		}
	}
}

// TestBuildRefuses: an open period, a week, an unknown unit: errors that
// name the value and what is allowed.
func TestBuildRefuses(t *testing.T) {
	w, err := demoWorld()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	q4, _ := analytics.ParsePeriod("2026-Q4", w.loc)
	week, _ := analytics.ParsePeriod("2026-W10", w.loc)
	q2, _ := analytics.ParsePeriod("2026-Q2", w.loc)
	for _, tc := range []struct {
		o    report.Options
		want string
	}{
		{report.Options{Period: q4, Unit: "1710", Now: now}, "has not ended"},
		{report.Options{Period: week, Unit: "1710", Now: now}, "want a month, quarter, half or year"},
		{report.Options{Period: q2, Unit: "9999", Now: now}, `unit "9999"`},
	} {
		_, err := report.Build(context.Background(), w.snap, tc.o)
		if !errors.Is(err, report.ErrReport) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v; want ErrReport saying %q", tc.o.Period.Label, err, tc.want)
		}
	}
}
