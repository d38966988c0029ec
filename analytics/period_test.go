package analytics_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // zones for machines without a zoneinfo database

	"github.com/crimemap/crimemap/analytics"
)

func periodZone(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

func periodInstant(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// checkPeriod compares p with the wanted label, kind and bounds (RFC 3339).
func periodCheck(t *testing.T, p analytics.Period, label string, kind analytics.PeriodKind, from, to string) {
	t.Helper()
	if p.Label != label || p.Kind != kind {
		t.Errorf("got %q (%s), want %q (%s)", p.Label, p.Kind, label, kind)
	}
	if f := periodInstant(t, from); !p.From.Equal(f) {
		t.Errorf("%s: From = %v, want %v", p.Label, p.From, f)
	}
	if e := periodInstant(t, to); !p.To.Equal(e) {
		t.Errorf("%s: To = %v, want %v", p.Label, p.To, e)
	}
}

func TestParsePeriod(t *testing.T) {
	tash := periodZone(t, "Asia/Tashkent")
	chicago := periodZone(t, "America/Chicago")
	london := periodZone(t, "Europe/London")
	santiago := periodZone(t, "America/Santiago")
	tests := []struct {
		in       string
		loc      *time.Location
		label    string
		kind     analytics.PeriodKind
		from, to string
	}{
		{"2025", tash, "2025", analytics.PeriodYear, "2025-01-01T00:00:00+05:00", "2026-01-01T00:00:00+05:00"},
		{"2025-H1", tash, "2025-H1", analytics.PeriodHalf, "2025-01-01T00:00:00+05:00", "2025-07-01T00:00:00+05:00"},
		{"2025-h2", tash, "2025-H2", analytics.PeriodHalf, "2025-07-01T00:00:00+05:00", "2026-01-01T00:00:00+05:00"},
		{"2025-Q1", tash, "2025-Q1", analytics.PeriodQuarter, "2025-01-01T00:00:00+05:00", "2025-04-01T00:00:00+05:00"},
		{" 2025-q3 ", tash, "2025-Q3", analytics.PeriodQuarter, "2025-07-01T00:00:00+05:00", "2025-10-01T00:00:00+05:00"},
		{"2025-Q4", tash, "2025-Q4", analytics.PeriodQuarter, "2025-10-01T00:00:00+05:00", "2026-01-01T00:00:00+05:00"},
		{"2025-07", tash, "2025-07", analytics.PeriodMonth, "2025-07-01T00:00:00+05:00", "2025-08-01T00:00:00+05:00"},
		{"2025-12", tash, "2025-12", analytics.PeriodMonth, "2025-12-01T00:00:00+05:00", "2026-01-01T00:00:00+05:00"},
		{"2024-02", tash, "2024-02", analytics.PeriodMonth, "2024-02-01T00:00:00+05:00", "2024-03-01T00:00:00+05:00"},
		{"2025-W28", tash, "2025-W28", analytics.PeriodWeek, "2025-07-07T00:00:00+05:00", "2025-07-14T00:00:00+05:00"},
		{"2025-w01", tash, "2025-W01", analytics.PeriodWeek, "2024-12-30T00:00:00+05:00", "2025-01-06T00:00:00+05:00"},
		{"2025-W52", tash, "2025-W52", analytics.PeriodWeek, "2025-12-22T00:00:00+05:00", "2025-12-29T00:00:00+05:00"},
		{"2026-W01", tash, "2026-W01", analytics.PeriodWeek, "2025-12-29T00:00:00+05:00", "2026-01-05T00:00:00+05:00"},
		{"2026-W53", tash, "2026-W53", analytics.PeriodWeek, "2026-12-28T00:00:00+05:00", "2027-01-04T00:00:00+05:00"},
		{"2020-W53", tash, "2020-W53", analytics.PeriodWeek, "2020-12-28T00:00:00+05:00", "2021-01-04T00:00:00+05:00"},
		{"2015-W53", tash, "2015-W53", analytics.PeriodWeek, "2015-12-28T00:00:00+05:00", "2016-01-04T00:00:00+05:00"},
		{"2021-W01", tash, "2021-W01", analytics.PeriodWeek, "2021-01-04T00:00:00+05:00", "2021-01-11T00:00:00+05:00"},
		// nil zone is UTC.
		{"2025-07", nil, "2025-07", analytics.PeriodMonth, "2025-07-01T00:00:00Z", "2025-08-01T00:00:00Z"},
		// Daylight saving: the bounds are local midnights with their own offsets.
		{"2025-03", chicago, "2025-03", analytics.PeriodMonth, "2025-03-01T00:00:00-06:00", "2025-04-01T00:00:00-05:00"},
		{"2025-W10", chicago, "2025-W10", analytics.PeriodWeek, "2025-03-03T00:00:00-06:00", "2025-03-10T00:00:00-05:00"},
		{"2025-Q1", london, "2025-Q1", analytics.PeriodQuarter, "2025-01-01T00:00:00Z", "2025-04-01T00:00:00+01:00"},
		{"2025-H2", london, "2025-H2", analytics.PeriodHalf, "2025-07-01T00:00:00+01:00", "2026-01-01T00:00:00Z"},
		// Midnight skipped by a clock change: the day starts at 01:00.
		{"1981-Q2", tash, "1981-Q2", analytics.PeriodQuarter, "1981-04-01T01:00:00+07:00", "1981-07-01T00:00:00+07:00"},
		{"2022-W36", santiago, "2022-W36", analytics.PeriodWeek, "2022-09-05T00:00:00-04:00", "2022-09-12T00:00:00-03:00"},
		// Range labels.
		{"2025-07-01..2025-09-30", tash, "2025-07-01..2025-09-30", analytics.PeriodRange, "2025-07-01T00:00:00+05:00", "2025-10-01T00:00:00+05:00"},
		{"2025-ytd-11-21", tash, "2025-YTD-11-21", analytics.PeriodRange, "2025-01-01T00:00:00+05:00", "2025-11-22T00:00:00+05:00"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := analytics.ParsePeriod(tt.in, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			periodCheck(t, p, tt.label, tt.kind, tt.from, tt.to)
			want := tt.loc
			if want == nil {
				want = time.UTC
			}
			if p.From.Location() != want || p.To.Location() != want {
				t.Errorf("zones %v, %v; want %v", p.From.Location(), p.To.Location(), want)
			}
			q, err := analytics.ParsePeriod(p.Label, tt.loc)
			if err != nil || q != p {
				t.Errorf("label %q parses back to %+v, %v", p.Label, q, err)
			}
		})
	}
}

func TestParsePeriodErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"2025-Q5", `period "2025-Q5": quarter must be 1-4 (want 2025, 2025-H1, 2025-Q3, 2025-07 or 2025-W28)`},
		{"", `period "": empty`},
		{"  ", `period "  ": empty`},
		{"25", "four-digit year"},
		{"20251", "four-digit year"},
		{"abcd", "four-digit year"},
		{"2025/07", "four-digit year"},
		{"0000", "year must be 0001-9999"},
		{"2025-", "unknown form"},
		{"2025-X1", "unknown form"},
		{"2025-07-01", "unknown form"},
		{"2025-Q0", "quarter must be 1-4"},
		{"2025-Q", "quarter must be 1-4"},
		{"2025-Q12", "quarter must be 1-4"},
		{"2025-H0", "half must be 1 or 2"},
		{"2025-H3", "half must be 1 or 2"},
		{"2025-00", "month must be 01-12"},
		{"2025-13", "month must be 01-12"},
		{"2025-7", "month must be two digits"},
		{"2025-007", "month must be two digits"},
		{"2025-W00", "week must be 01-53"},
		{"2025-W54", "week must be 01-53"},
		{"2025-W5", "week must be two digits"},
		{"2025-W53", "ISO year 2025 has no week 53 (its last week is W52)"},
		{"2021-W53", "ISO year 2021 has no week 53"},
		{"2025-YTD-02-29", "no such date"},
		{"2025-YTD-2-1", "must look like 2025-YTD-11-21"},
		{"2025-09-30..2025-07-01", "from must be before to"},
		{"2025-07-01..", `to: not a date`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := analytics.ParsePeriod(tt.in, time.UTC)
			if err == nil {
				t.Fatalf("got %+v, want an error", p)
			}
			if !errors.Is(err, analytics.ErrBadPeriod) {
				t.Errorf("%v does not wrap ErrBadPeriod", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want it to contain %q", err, tt.msg)
			}
		})
	}
}

func TestParseRange(t *testing.T) {
	tash := periodZone(t, "Asia/Tashkent")
	chicago := periodZone(t, "America/Chicago")
	santiago := periodZone(t, "America/Santiago")
	tests := []struct {
		name, from, to string
		loc            *time.Location
		label          string
		fromT, toT     string
	}{
		{"quarter of dates", "2025-07-01", "2025-09-30", tash, "2025-07-01..2025-09-30", "2025-07-01T00:00:00+05:00", "2025-10-01T00:00:00+05:00"},
		{"one day", "2025-07-01", "2025-07-01", tash, "2025-07-01..2025-07-01", "2025-07-01T00:00:00+05:00", "2025-07-02T00:00:00+05:00"},
		{"leap day", "2024-02-29", "2024-02-29", tash, "2024-02-29..2024-02-29", "2024-02-29T00:00:00+05:00", "2024-03-01T00:00:00+05:00"},
		{"instants on midnights", "2025-07-01T00:00:00+05:00", "2025-10-01T00:00:00+05:00", tash, "2025-07-01..2025-09-30", "2025-07-01T00:00:00+05:00", "2025-10-01T00:00:00+05:00"},
		{"instants in UTC", "2025-06-30T19:00:00Z", "2025-09-30T19:00:00Z", tash, "2025-07-01..2025-09-30", "2025-07-01T00:00:00+05:00", "2025-10-01T00:00:00+05:00"},
		{"instants", "2025-07-01T08:30:00Z", "2025-07-02T08:30:00.5Z", tash, "2025-07-01T13:30:00+05:00..2025-07-02T13:30:00.5+05:00", "2025-07-01T08:30:00Z", "2025-07-02T08:30:00.5Z"},
		{"date from, instant to", "2025-07-01", "2025-07-01T12:00:00+05:00", tash, "2025-07-01T00:00:00+05:00..2025-07-01T12:00:00+05:00", "2025-07-01T00:00:00+05:00", "2025-07-01T12:00:00+05:00"},
		{"spring forward", "2025-03-08", "2025-03-09", chicago, "2025-03-08..2025-03-09", "2025-03-08T00:00:00-06:00", "2025-03-10T00:00:00-05:00"},
		{"skipped midnight", "2022-09-11", "2022-09-11", santiago, "2022-09-11..2022-09-11", "2022-09-11T01:00:00-03:00", "2022-09-12T00:00:00-03:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := analytics.ParseRange(tt.from, tt.to, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			periodCheck(t, p, tt.label, analytics.PeriodRange, tt.fromT, tt.toT)
		})
	}
	for _, tt := range tests {
		p, _ := analytics.ParseRange(tt.from, tt.to, tt.loc)
		q, err := analytics.ParsePeriod(p.Label, tt.loc)
		if err != nil || q.Label != p.Label || !q.From.Equal(p.From) || !q.To.Equal(p.To) {
			t.Errorf("%s: label %q parses back to %+v, %v", tt.name, p.Label, q, err)
		}
	}
}

// The last year that labels can name ends in year 10000.
func TestParseRangeYear9999(t *testing.T) {
	p, err := analytics.ParseRange("9999-01-01", "9999-12-31", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if p.Label != "9999-01-01..9999-12-31" || !p.To.Equal(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("got %+v", p)
	}
	if _, err := analytics.ParseRange("9999-12-31T12:00:00Z", "10000-01-01T00:00:00Z", time.UTC); err == nil {
		t.Error("year 10000 accepted")
	}
}

func TestParseRangeErrors(t *testing.T) {
	tests := []struct{ from, to, msg string }{
		{"2025-09-30", "2025-07-01", "from must be before to"},
		{"2025-07-01T00:00:00Z", "2025-07-01T00:00:00Z", "from must be before to"},
		{"2025-07-01T05:00:00+05:00", "2025-07-01T00:00:00Z", "from must be before to"},
		{"2025-02-30", "2025-03-01", "from: no such date"},
		{"2025/07/01", "2025-08-01", "from: not a date YYYY-MM-DD or an RFC 3339 instant"},
		{"2025-07-01", "", "to: not a date"},
		{"2025-07-01", "2025-07-01T25:00:00Z", "to: not a date"},
		{"0000-12-01", "2025-07-01", "year must be 0001-9999"},
		{"0000-12-31T23:00:00Z", "2025-07-01", "out of range"},
	}
	for _, tt := range tests {
		p, err := analytics.ParseRange(tt.from, tt.to, time.UTC)
		if err == nil {
			t.Errorf("%q..%q: got %+v, want an error", tt.from, tt.to, p)
			continue
		}
		if !errors.Is(err, analytics.ErrBadPeriod) {
			t.Errorf("%v does not wrap ErrBadPeriod", err)
		}
		if !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), "want dates") {
			t.Errorf("error %q, want it to contain %q and the allowed forms", err, tt.msg)
		}
	}
}

func periodMust(tb testing.TB, s string, loc *time.Location) analytics.Period {
	tb.Helper()
	p, err := analytics.ParsePeriod(s, loc)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestPrevious(t *testing.T) {
	tash := periodZone(t, "Asia/Tashkent")
	chicago := periodZone(t, "America/Chicago")
	tests := []struct {
		in   string
		loc  *time.Location
		want string
	}{
		{"2025", tash, "2024"},
		{"2025-H1", tash, "2024-H2"},
		{"2025-H2", tash, "2025-H1"},
		{"2025-Q1", tash, "2024-Q4"},
		{"2025-Q3", tash, "2025-Q2"},
		{"2025-01", tash, "2024-12"},
		{"2025-03", tash, "2025-02"},
		{"2025-W28", tash, "2025-W27"},
		{"2025-W01", tash, "2024-W52"},
		{"2021-W01", tash, "2020-W53"},
		{"2027-W01", tash, "2026-W53"},
		{"2025-07-01..2025-09-30", tash, "2025-03-31..2025-06-30"},
		{"2025-03-09..2025-03-09", chicago, "2025-03-08..2025-03-08"},
		{"2025-03-10..2025-03-16", chicago, "2025-03-03..2025-03-09"},
		{"2025-YTD-01-10", tash, "2024-12-22..2024-12-31"},
		{"2025-07-01T13:30:00+05:00..2025-07-02T01:30:00+05:00", tash, "2025-07-01T01:30:00+05:00..2025-07-01T13:30:00+05:00"},
		{"2025-03", chicago, "2025-02"},
		{"2025-11", chicago, "2025-10"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p := periodMust(t, tt.in, tt.loc)
			q := p.Previous()
			want := periodMust(t, tt.want, tt.loc)
			if q.Label != want.Label || q.Kind != p.Kind || !q.From.Equal(want.From) || !q.To.Equal(want.To) {
				t.Errorf("Previous = %+v, want %+v", q, want)
			}
			if !q.To.Equal(p.From) {
				t.Errorf("Previous().To = %v, want From %v", q.To, p.From)
			}
			if q.From.Location() != tt.loc {
				t.Errorf("zone %v, want %v", q.From.Location(), tt.loc)
			}
		})
	}
	if (analytics.Period{}).Previous() != (analytics.Period{}) {
		t.Error("zero Period: Previous is not zero")
	}
}

func TestLastYear(t *testing.T) {
	tash := periodZone(t, "Asia/Tashkent")
	chicago := periodZone(t, "America/Chicago")
	tests := []struct {
		in   string
		loc  *time.Location
		want string
	}{
		{"2025", tash, "2024"},
		{"2025-H1", tash, "2024-H1"},
		{"2025-H2", tash, "2024-H2"},
		{"2025-Q3", tash, "2024-Q3"},
		{"2025-07", tash, "2024-07"},
		{"2024-02", tash, "2023-02"},
		{"2025-W28", tash, "2024-W28"},
		{"2025-W01", tash, "2024-W01"},
		{"2027-W10", tash, "2026-W10"},
		{"2026-W53", tash, "2025-W52"},
		{"2021-W52", tash, "2020-W52"},
		{"2025-07-01..2025-09-30", tash, "2024-07-01..2024-09-30"},
		{"2024-02-01..2024-02-29", tash, "2023-02-01..2023-02-28"},
		{"2024-02-29..2024-03-01", tash, "2023-02-28..2023-03-01"},
		{"2024-01-01..2024-02-28", tash, "2023-01-01..2023-02-28"},
		{"2024-YTD-02-29", tash, "2023-YTD-02-28"},
		{"2025-YTD-11-21", tash, "2024-YTD-11-21"},
		{"2024-02-29T10:00:00+05:00..2024-03-01T10:00:00+05:00", tash, "2023-02-28T10:00:00+05:00..2023-03-01T10:00:00+05:00"},
		{"2025-03", chicago, "2024-03"},
		{"2025-03-08..2025-03-09", chicago, "2024-03-08..2024-03-09"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p := periodMust(t, tt.in, tt.loc)
			q := p.LastYear()
			want := periodMust(t, tt.want, tt.loc)
			if q.Label != want.Label || q.Kind != p.Kind || !q.From.Equal(want.From) || !q.To.Equal(want.To) {
				t.Errorf("LastYear = %+v, want %+v", q, want)
			}
			if q.From.Location() != tt.loc {
				t.Errorf("zone %v, want %v", q.From.Location(), tt.loc)
			}
		})
	}
	if (analytics.Period{}).LastYear() != (analytics.Period{}) {
		t.Error("zero Period: LastYear is not zero")
	}
}

func TestYearToDate(t *testing.T) {
	tash := periodZone(t, "Asia/Tashkent")
	tests := []struct {
		asOf      string
		loc       *time.Location
		cur, last string // labels
		from, to  string // current
		lyFrom    string
		lyTo      string
	}{
		{"2025-11-21T12:00:00Z", tash, "2025-YTD-11-21", "2024-YTD-11-21",
			"2025-01-01T00:00:00+05:00", "2025-11-22T00:00:00+05:00", "2024-01-01T00:00:00+05:00", "2024-11-22T00:00:00+05:00"},
		// 20:00 UTC is already the next day in Tashkent.
		{"2025-11-21T20:00:00Z", tash, "2025-YTD-11-22", "2024-YTD-11-22",
			"2025-01-01T00:00:00+05:00", "2025-11-23T00:00:00+05:00", "2024-01-01T00:00:00+05:00", "2024-11-23T00:00:00+05:00"},
		{"2024-02-29T12:00:00+05:00", tash, "2024-YTD-02-29", "2023-YTD-02-28",
			"2024-01-01T00:00:00+05:00", "2024-03-01T00:00:00+05:00", "2023-01-01T00:00:00+05:00", "2023-03-01T00:00:00+05:00"},
		{"2025-01-01T00:00:00+05:00", tash, "2025-YTD-01-01", "2024-YTD-01-01",
			"2025-01-01T00:00:00+05:00", "2025-01-02T00:00:00+05:00", "2024-01-01T00:00:00+05:00", "2024-01-02T00:00:00+05:00"},
		{"2025-11-21T23:00:00Z", nil, "2025-YTD-11-21", "2024-YTD-11-21",
			"2025-01-01T00:00:00Z", "2025-11-22T00:00:00Z", "2024-01-01T00:00:00Z", "2024-11-22T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.asOf, func(t *testing.T) {
			cur, last := analytics.YearToDate(periodInstant(t, tt.asOf), tt.loc)
			periodCheck(t, cur, tt.cur, analytics.PeriodRange, tt.from, tt.to)
			periodCheck(t, last, tt.last, analytics.PeriodRange, tt.lyFrom, tt.lyTo)
			if ly := cur.LastYear(); ly != last {
				t.Errorf("current.LastYear() = %+v, want %+v", ly, last)
			}
			if q, err := analytics.ParsePeriod(cur.Label, tt.loc); err != nil || q != cur {
				t.Errorf("label %q parses back to %+v, %v", cur.Label, q, err)
			}
		})
	}
}

func TestParseInterval(t *testing.T) {
	for in, want := range map[string]analytics.Interval{
		"day": analytics.IntervalDay, "Week": analytics.IntervalWeek,
		" month ": analytics.IntervalMonth, "QUARTER": analytics.IntervalQuarter,
	} {
		if got, err := analytics.ParseInterval(in); err != nil || got != want {
			t.Errorf("ParseInterval(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "year", "days", "hour"} {
		_, err := analytics.ParseInterval(in)
		if !errors.Is(err, analytics.ErrBadInterval) || !strings.Contains(err.Error(), "want day, week, month or quarter") {
			t.Errorf("ParseInterval(%q): error %v", in, err)
		}
	}
}

func TestIntervalStart(t *testing.T) {
	tash := periodZone(t, "Asia/Tashkent")
	chicago := periodZone(t, "America/Chicago")
	london := periodZone(t, "Europe/London")
	santiago := periodZone(t, "America/Santiago")
	tests := []struct {
		t    string
		iv   analytics.Interval
		loc  *time.Location
		want string
	}{
		// 22:00 UTC on Wed Jul 9 is 03:00 on Thu Jul 10 in Tashkent.
		{"2025-07-09T22:00:00Z", analytics.IntervalDay, tash, "2025-07-10T00:00:00+05:00"},
		{"2025-07-09T22:00:00Z", analytics.IntervalWeek, tash, "2025-07-07T00:00:00+05:00"},
		{"2025-07-09T22:00:00Z", analytics.IntervalMonth, tash, "2025-07-01T00:00:00+05:00"},
		{"2025-07-09T22:00:00Z", analytics.IntervalQuarter, tash, "2025-07-01T00:00:00+05:00"},
		{"2025-07-09T22:00:00Z", analytics.IntervalDay, nil, "2025-07-09T00:00:00Z"},
		{"2025-07-13T23:59:59+05:00", analytics.IntervalWeek, tash, "2025-07-07T00:00:00+05:00"}, // Sunday
		{"2025-07-07T00:00:00+05:00", analytics.IntervalWeek, tash, "2025-07-07T00:00:00+05:00"}, // Monday
		{"2026-01-01T12:00:00+05:00", analytics.IntervalWeek, tash, "2025-12-29T00:00:00+05:00"},
		{"2025-12-31T23:30:00+05:00", analytics.IntervalQuarter, tash, "2025-10-01T00:00:00+05:00"},
		{"2025-03-31T23:30:00+05:00", analytics.IntervalQuarter, tash, "2025-01-01T00:00:00+05:00"},
		{"2025-03-09T12:00:00-05:00", analytics.IntervalDay, chicago, "2025-03-09T00:00:00-06:00"},
		{"2025-03-09T12:00:00-05:00", analytics.IntervalWeek, chicago, "2025-03-03T00:00:00-06:00"},
		{"2025-11-02T23:00:00-06:00", analytics.IntervalDay, chicago, "2025-11-02T00:00:00-05:00"},
		{"2025-10-26T12:00:00Z", analytics.IntervalDay, london, "2025-10-26T00:00:00+01:00"},
		{"2025-04-15T12:00:00+01:00", analytics.IntervalQuarter, london, "2025-04-01T00:00:00+01:00"},
		{"2022-09-11T12:00:00-03:00", analytics.IntervalDay, santiago, "2022-09-11T01:00:00-03:00"},
		{"1981-04-01T12:00:00+07:00", analytics.IntervalDay, tash, "1981-04-01T01:00:00+07:00"},
	}
	for _, tt := range tests {
		t.Run(tt.t+"/"+string(tt.iv), func(t *testing.T) {
			got := analytics.IntervalStart(periodInstant(t, tt.t), tt.iv, tt.loc)
			if want := periodInstant(t, tt.want); !got.Equal(want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestNextInterval(t *testing.T) {
	tash := periodZone(t, "Asia/Tashkent")
	chicago := periodZone(t, "America/Chicago")
	london := periodZone(t, "Europe/London")
	santiago := periodZone(t, "America/Santiago")
	tests := []struct {
		start string
		iv    analytics.Interval
		loc   *time.Location
		want  string
		hours float64
	}{
		{"2025-07-10T00:00:00+05:00", analytics.IntervalDay, tash, "2025-07-11T00:00:00+05:00", 24},
		{"2025-07-07T00:00:00+05:00", analytics.IntervalWeek, tash, "2025-07-14T00:00:00+05:00", 168},
		{"2025-12-29T00:00:00+05:00", analytics.IntervalWeek, tash, "2026-01-05T00:00:00+05:00", 168},
		{"2025-02-01T00:00:00+05:00", analytics.IntervalMonth, tash, "2025-03-01T00:00:00+05:00", 28 * 24},
		{"2025-10-01T00:00:00+05:00", analytics.IntervalQuarter, tash, "2026-01-01T00:00:00+05:00", 92 * 24},
		// Not at an interval start: the next interval's start.
		{"2025-01-15T10:00:00+05:00", analytics.IntervalMonth, tash, "2025-02-01T00:00:00+05:00", 0},
		{"2025-07-09T10:00:00+05:00", analytics.IntervalWeek, tash, "2025-07-14T00:00:00+05:00", 0},
		{"2025-05-20T10:00:00+05:00", analytics.IntervalQuarter, tash, "2025-07-01T00:00:00+05:00", 0},
		// Daylight saving: 23- and 25-hour days, a 167-hour week.
		{"2025-03-09T00:00:00-06:00", analytics.IntervalDay, chicago, "2025-03-10T00:00:00-05:00", 23},
		{"2025-11-02T00:00:00-05:00", analytics.IntervalDay, chicago, "2025-11-03T00:00:00-06:00", 25},
		{"2025-03-03T00:00:00-06:00", analytics.IntervalWeek, chicago, "2025-03-10T00:00:00-05:00", 167},
		{"2025-03-30T00:00:00Z", analytics.IntervalDay, london, "2025-03-31T00:00:00+01:00", 23},
		{"2025-10-26T00:00:00+01:00", analytics.IntervalDay, london, "2025-10-27T00:00:00Z", 25},
		{"2025-01-01T00:00:00Z", analytics.IntervalQuarter, london, "2025-04-01T00:00:00+01:00", 90*24 - 1},
		{"2022-09-10T00:00:00-04:00", analytics.IntervalDay, santiago, "2022-09-11T01:00:00-03:00", 24},
		{"2022-09-11T01:00:00-03:00", analytics.IntervalDay, santiago, "2022-09-12T00:00:00-03:00", 23},
	}
	for _, tt := range tests {
		t.Run(tt.start+"/"+string(tt.iv), func(t *testing.T) {
			start := periodInstant(t, tt.start).In(tt.loc)
			got := analytics.NextInterval(start, tt.iv)
			if want := periodInstant(t, tt.want); !got.Equal(want) {
				t.Errorf("got %v, want %v", got, want)
			}
			if got.Location() != tt.loc {
				t.Errorf("zone %v, want %v", got.Location(), tt.loc)
			}
			if h := got.Sub(start).Hours(); tt.hours != 0 && h != tt.hours {
				t.Errorf("%v hours, want %v", h, tt.hours)
			}
		})
	}
}

// A year of days, weeks and months stays on local midnights across both
// daylight-saving changes.
func TestIntervalSeriesDST(t *testing.T) {
	for _, name := range []string{"Asia/Tashkent", "America/Chicago", "Europe/London", "America/Santiago"} {
		loc := periodZone(t, name)
		for iv, want := range map[analytics.Interval]int{
			analytics.IntervalDay: 365, analytics.IntervalWeek: 53, analytics.IntervalMonth: 12, analytics.IntervalQuarter: 4,
		} {
			from := time.Date(2025, 1, 1, 0, 0, 0, 0, loc)
			to := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
			n := 0
			for s := analytics.IntervalStart(from, iv, loc); s.Before(to); s = analytics.NextInterval(s, iv) {
				if s.Hour() != 0 && name != "America/Santiago" || s.Minute() != 0 {
					t.Errorf("%s %s: start %v is not a local midnight", name, iv, s)
				}
				if got := analytics.IntervalStart(s, iv, loc); !got.Equal(s) {
					t.Errorf("%s %s: IntervalStart(%v) = %v", name, iv, s, got)
				}
				n++
			}
			if n != want {
				t.Errorf("%s %s: %d intervals in 2025, want %d", name, iv, n, want)
			}
		}
	}
}

func TestIntervalPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"IntervalStart": func() { analytics.IntervalStart(time.Now(), "year", time.UTC) },
		"NextInterval":  func() { analytics.NextInterval(time.Now(), "") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic on an unknown interval", name)
				}
			}()
			f()
		}()
	}
}

func ExampleParsePeriod() {
	tashkent, _ := time.LoadLocation("Asia/Tashkent")
	for _, s := range []string{"2025", "2025-H1", "2025-q3", "2025-07", "2025-W01", "2025-W28"} {
		p, _ := analytics.ParsePeriod(s, tashkent)
		fmt.Printf("%-8s %-7s %s .. %s\n", p.Label, p.Kind, p.From.Format(time.DateTime), p.To.Format(time.DateTime))
	}
	p, _ := analytics.ParsePeriod("2025-Q3", tashkent)
	fmt.Println(p.From.UTC())

	_, err := analytics.ParsePeriod("2025-Q5", tashkent)
	fmt.Println(err)
	fmt.Println(errors.Is(err, analytics.ErrBadPeriod))
	// Output:
	// 2025     year    2025-01-01 00:00:00 .. 2026-01-01 00:00:00
	// 2025-H1  half    2025-01-01 00:00:00 .. 2025-07-01 00:00:00
	// 2025-Q3  quarter 2025-07-01 00:00:00 .. 2025-10-01 00:00:00
	// 2025-07  month   2025-07-01 00:00:00 .. 2025-08-01 00:00:00
	// 2025-W01 week    2024-12-30 00:00:00 .. 2025-01-06 00:00:00
	// 2025-W28 week    2025-07-07 00:00:00 .. 2025-07-14 00:00:00
	// 2025-06-30 19:00:00 +0000 UTC
	// period "2025-Q5": quarter must be 1-4 (want 2025, 2025-H1, 2025-Q3, 2025-07 or 2025-W28)
	// true
}

func ExampleParseRange() {
	tashkent, _ := time.LoadLocation("Asia/Tashkent")
	// Dates: to is the last day included.
	p, _ := analytics.ParseRange("2025-07-01", "2025-09-30", tashkent)
	fmt.Println(p.Label, p.Kind, p.From, "..", p.To)
	// RFC 3339 instants: to is excluded.
	p, _ = analytics.ParseRange("2025-07-01T08:00:00Z", "2025-07-01T20:00:00Z", tashkent)
	fmt.Println(p.Label)
	_, err := analytics.ParseRange("2025-09-30", "2025-07-01", tashkent)
	fmt.Println(err)
	// Output:
	// 2025-07-01..2025-09-30 range 2025-07-01 00:00:00 +0500 +05 .. 2025-10-01 00:00:00 +0500 +05
	// 2025-07-01T13:00:00+05:00..2025-07-02T01:00:00+05:00
	// range "2025-09-30".."2025-07-01": from must be before to (want dates 2025-07-01..2025-09-30 (to included) or RFC 3339 instants (to excluded))
}

func ExamplePeriod_Previous() {
	tashkent, _ := time.LoadLocation("Asia/Tashkent")
	for _, s := range []string{"2025", "2025-H1", "2025-Q1", "2025-01", "2021-W01", "2025-07-01..2025-09-30"} {
		p, _ := analytics.ParsePeriod(s, tashkent)
		fmt.Println(p.Label, "->", p.Previous().Label)
	}
	// Output:
	// 2025 -> 2024
	// 2025-H1 -> 2024-H2
	// 2025-Q1 -> 2024-Q4
	// 2025-01 -> 2024-12
	// 2021-W01 -> 2020-W53
	// 2025-07-01..2025-09-30 -> 2025-03-31..2025-06-30
}

func ExamplePeriod_LastYear() {
	tashkent, _ := time.LoadLocation("Asia/Tashkent")
	for _, s := range []string{"2025-Q3", "2025-W28", "2026-W53", "2024-02-01..2024-02-29"} {
		p, _ := analytics.ParsePeriod(s, tashkent)
		fmt.Println(p.Label, "->", p.LastYear().Label)
	}
	// Output:
	// 2025-Q3 -> 2024-Q3
	// 2025-W28 -> 2024-W28
	// 2026-W53 -> 2025-W52
	// 2024-02-01..2024-02-29 -> 2023-02-01..2023-02-28
}

func ExampleYearToDate() {
	tashkent, _ := time.LoadLocation("Asia/Tashkent")
	asOf := time.Date(2025, 11, 21, 15, 30, 0, 0, time.UTC) // 20:30 in Tashkent
	cur, last := analytics.YearToDate(asOf, tashkent)
	fmt.Println(cur.Label, cur.From.Format(time.DateOnly), cur.To.Format(time.DateOnly))
	fmt.Println(last.Label, last.From.Format(time.DateOnly), last.To.Format(time.DateOnly))
	// Output:
	// 2025-YTD-11-21 2025-01-01 2025-11-22
	// 2024-YTD-11-21 2024-01-01 2024-11-22
}

func ExampleNextInterval() {
	chicago, _ := time.LoadLocation("America/Chicago")
	from := time.Date(2025, 3, 8, 12, 0, 0, 0, chicago)
	to := time.Date(2025, 3, 11, 0, 0, 0, 0, chicago)
	for t := analytics.IntervalStart(from, analytics.IntervalDay, chicago); t.Before(to); t = analytics.NextInterval(t, analytics.IntervalDay) {
		next := analytics.NextInterval(t, analytics.IntervalDay)
		fmt.Println(t.Format("2006-01-02 15:04 MST"), next.Sub(t))
	}
	// Output:
	// 2025-03-08 00:00 CST 24h0m0s
	// 2025-03-09 00:00 CST 23h0m0s
	// 2025-03-10 00:00 CDT 24h0m0s
}
