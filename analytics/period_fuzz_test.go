package analytics_test

import (
	"errors"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
)

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{
		"2025", "2025-H1", "2025-h2", "2025-Q3", "2025-07", "2025-W28", "2026-W53", "2025-W53",
		"2025-Q5", "0001", "9999", "9999-W52", "0001-W01", "1981-Q2", "2022-09",
		"2025-07-01..2025-09-30", "2025-YTD-11-21", "2024-YTD-02-29",
		"2025-07-01T08:30:00Z..2025-07-02T08:30:00.5Z", "9999-12-31..9999-12-31",
		"0001-01-01T00:00:00Z..0001-01-02T00:00:00Z", "", "2025-", " 2025-q1 ",
	} {
		f.Add(s, uint8(0))
	}
	f.Add("2022-W36", uint8(3))
	f.Add("2025-03-09..2025-03-09", uint8(1))
	locs := []*time.Location{
		periodZone(f, "Asia/Tashkent"), periodZone(f, "America/Chicago"), periodZone(f, "Europe/London"),
		periodZone(f, "America/Santiago"), time.UTC,
	}
	f.Fuzz(func(t *testing.T, s string, z uint8) {
		loc := locs[int(z)%len(locs)]
		p, err := analytics.ParsePeriod(s, loc)
		if err != nil {
			if !errors.Is(err, analytics.ErrBadPeriod) {
				t.Fatalf("%q: error %v does not wrap ErrBadPeriod", s, err)
			}
			return
		}
		if !p.From.Before(p.To) {
			t.Fatalf("%q: empty period %+v", s, p)
		}
		q, err := analytics.ParsePeriod(p.Label, loc)
		if err != nil {
			t.Fatalf("%q: label %q does not parse: %v", s, p.Label, err)
		}
		if q.Label != p.Label || q.Kind != p.Kind || !q.From.Equal(p.From) || !q.To.Equal(p.To) {
			t.Fatalf("%q: label %q parses to %+v, not %+v", s, p.Label, q, p)
		}
		prev := p.Previous()
		if p.Kind != analytics.PeriodRange && !prev.To.Equal(p.From) {
			t.Fatalf("%q: Previous().To = %v, want %v", s, prev.To, p.From)
		}
		if prev.Kind != p.Kind || !prev.From.Before(prev.To) || !prev.To.Equal(p.From) {
			t.Fatalf("%q: Previous() = %+v", s, prev)
		}
		ly := p.LastYear()
		if ly.Kind != p.Kind || !ly.From.Before(ly.To) || !ly.From.Before(p.From) {
			t.Fatalf("%q: LastYear() = %+v", s, ly)
		}
		if p.Kind != analytics.PeriodRange {
			if got := analytics.IntervalStart(p.From, analytics.IntervalDay, loc); !got.Equal(p.From) {
				t.Fatalf("%q: From %v is not the start of its day (%v)", s, p.From, got)
			}
		}
	})
}
