package analytics

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors of the period and interval parsers; the returned errors wrap them
// (test with errors.Is) and say what was wrong and what is allowed.
var (
	// ErrBadPeriod: a period or range that ParsePeriod or ParseRange rejects.
	ErrBadPeriod = errors.New("bad period")
	// ErrBadInterval: a series interval that ParseInterval rejects.
	ErrBadInterval = errors.New("bad interval")
)

// periodForms lists the named period forms for error messages.
const periodForms = "want 2025, 2025-H1, 2025-Q3, 2025-07 or 2025-W28"

// rangeForms lists the range forms for error messages.
const rangeForms = "want dates 2025-07-01..2025-09-30 (to included) or RFC 3339 instants (to excluded)"

// periodError is an ErrBadPeriod with the offending input and the reason.
type periodError struct {
	what   string // `period "2025-Q5"` or `range "a".."b"`
	reason string
	want   string
}

func (e *periodError) Error() string {
	return fmt.Sprintf("%s: %s (%s)", e.what, e.reason, e.want)
}

func (e *periodError) Unwrap() error { return ErrBadPeriod }

func badPeriod(s, reason string) error {
	return &periodError{what: fmt.Sprintf("period %q", s), reason: reason, want: periodForms}
}

func badRange(from, to, reason string) error {
	return &periodError{what: fmt.Sprintf("range %q..%q", from, to), reason: reason, want: rangeForms}
}

// ParsePeriod parses a named period and cuts it in loc (nil means UTC; the
// service's default zone, Asia/Tashkent, is the caller's to pass):
//
//	2025       the year                     (PeriodYear)
//	2025-H1    first or second half, H1-H2  (PeriodHalf)
//	2025-Q3    a quarter, Q1-Q4             (PeriodQuarter)
//	2025-07    a month, 01-12               (PeriodMonth)
//	2025-W28   an ISO 8601 week, W01-W53    (PeriodWeek)
//
// ISO weeks start on Monday and week 1 is the one holding the year's first
// Thursday, so 2025-W01 starts on 2024-12-30; W53 exists only in ISO years
// that have 53 weeks (2020, 2026, ...). Letters may be lower case. The
// period runs from the local midnight starting its first day to the local
// midnight starting the next period (on a day whose midnight is skipped by a
// clock change, the first instant of the day). The Label is canonical, so
// ParsePeriod(p.Label, loc) gives p back.
//
// The labels of ranges are accepted too: "2025-07-01..2025-09-30" (see
// ParseRange) and "2025-YTD-11-21" (see YearToDate), both PeriodRange.
//
// Errors wrap ErrBadPeriod.
func ParsePeriod(s string, loc *time.Location) (Period, error) {
	if loc == nil {
		loc = time.UTC
	}
	in := s
	s = strings.TrimSpace(s)
	if s == "" {
		return Period{}, badPeriod(in, "empty")
	}
	if a, b, ok := strings.Cut(s, ".."); ok {
		return ParseRange(a, b, loc)
	}
	s = strings.ToUpper(s)
	if len(s) < 4 || !periodDigits(s[:4]) || (len(s) > 4 && s[4] != '-') {
		return Period{}, badPeriod(in, "must start with a four-digit year")
	}
	y, _ := strconv.Atoi(s[:4])
	if y < 1 {
		return Period{}, badPeriod(in, "year must be 0001-9999")
	}
	if len(s) == 4 {
		return yearPeriod(y, loc), nil
	}
	rest := s[5:]
	switch {
	case strings.HasPrefix(rest, "YTD-"):
		md := rest[4:]
		if len(md) != 5 || md[2] != '-' || !periodDigits(md[:2]) || !periodDigits(md[3:]) {
			return Period{}, badPeriod(in, "year to date must look like 2025-YTD-11-21")
		}
		m, _ := strconv.Atoi(md[:2])
		d, _ := strconv.Atoi(md[3:])
		if m < 1 || m > 12 || d < 1 || d > periodDaysIn(y, time.Month(m)) {
			return Period{}, badPeriod(in, "year to date: no such date")
		}
		return ytdPeriod(y, time.Month(m), d, loc), nil
	case rest != "" && rest[0] == 'H':
		if len(rest) != 2 || (rest[1] != '1' && rest[1] != '2') {
			return Period{}, badPeriod(in, "half must be 1 or 2")
		}
		return halfPeriod(y, int(rest[1]-'0'), loc), nil
	case rest != "" && rest[0] == 'Q':
		if len(rest) != 2 || rest[1] < '1' || rest[1] > '4' {
			return Period{}, badPeriod(in, "quarter must be 1-4")
		}
		return quarterPeriod(y, int(rest[1]-'0'), loc), nil
	case rest != "" && rest[0] == 'W':
		if len(rest) != 3 || !periodDigits(rest[1:]) {
			return Period{}, badPeriod(in, "week must be two digits 01-53")
		}
		w, _ := strconv.Atoi(rest[1:])
		if w < 1 || w > 53 {
			return Period{}, badPeriod(in, "week must be 01-53")
		}
		if n := isoWeeksIn(y); w > n {
			return Period{}, badPeriod(in, fmt.Sprintf("ISO year %04d has no week 53 (its last week is W%02d)", y, n))
		}
		return weekPeriod(y, w, loc), nil
	case periodDigits(rest):
		if len(rest) != 2 {
			return Period{}, badPeriod(in, "month must be two digits 01-12")
		}
		m, _ := strconv.Atoi(rest)
		if m < 1 || m > 12 {
			return Period{}, badPeriod(in, "month must be 01-12")
		}
		return monthPeriod(y, time.Month(m), loc), nil
	}
	return Period{}, badPeriod(in, "unknown form")
}

// ParseRange parses a custom range of time (Kind PeriodRange) cut in loc
// (nil means UTC). Each bound is either a date YYYY-MM-DD or an RFC 3339
// instant. A date from starts at its local midnight; a date to is the last
// day included, so the range ends at the local midnight after it. An
// instant to is excluded. So 2025-07-01..2025-09-30 is the third quarter,
// and a single day is from == to. The range must not be empty.
//
// The Label is "2025-07-01..2025-09-30" when both ends fall on local
// midnights, else the two instants in RFC 3339 joined by "..", and
// ParsePeriod(p.Label, loc) gives p back. Errors wrap ErrBadPeriod.
func ParseRange(from, to string, loc *time.Location) (Period, error) {
	if loc == nil {
		loc = time.UTC
	}
	f, err := parseRangeBound(from, false, loc)
	if err != nil {
		return Period{}, badRange(from, to, "from: "+err.Error())
	}
	t, err := parseRangeBound(to, true, loc)
	if err != nil {
		return Period{}, badRange(from, to, "to: "+err.Error())
	}
	if !f.Before(t) {
		return Period{}, badRange(from, to, "from must be before to")
	}
	p := rangePeriod(f, t)
	a, b, _ := strings.Cut(p.Label, "..")
	if !fourDigitYear(a) || !fourDigitYear(b) {
		return Period{}, badRange(from, to, "out of range (years 0001-9999)")
	}
	return p, nil
}

// fourDigitYear reports whether a label part starts with a year 0001-9999.
func fourDigitYear(s string) bool {
	return len(s) > 4 && s[4] == '-' && periodDigits(s[:4]) && s[:4] != "0000"
}

// parseRangeBound parses a date (end: the midnight after it) or an RFC 3339
// instant, in loc.
func parseRangeBound(s string, end bool, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) == len("2006-01-02") && s[4] == '-' && s[7] == '-' &&
		periodDigits(s[:4]) && periodDigits(s[5:7]) && periodDigits(s[8:]) {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return time.Time{}, errors.New("no such date")
		}
		y, m, day := d.Date()
		if y < 1 {
			return time.Time{}, errors.New("year must be 0001-9999")
		}
		if end {
			day++
		}
		return periodDayStart(y, m, day, loc), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("not a date YYYY-MM-DD or an RFC 3339 instant")
	}
	return t.In(loc), nil
}

// Previous is the period of the same kind just before p: the previous
// year, half, quarter, month or ISO week; for a range, as many days (or, if
// p does not start and end on local midnights, as long a time) immediately
// before p. Previous().To equals p.From. The zone of p.From is kept. The zero
// Period (or an unknown kind) gives the zero Period.
func (p Period) Previous() Period {
	loc := p.From.Location()
	t := p.From.In(loc)
	y, m, d := t.Date()
	switch p.Kind {
	case PeriodYear:
		return yearPeriod(y-1, loc)
	case PeriodHalf:
		h := int(m-1)/6 + 1
		if h == 1 {
			return halfPeriod(y-1, 2, loc)
		}
		return halfPeriod(y, 1, loc)
	case PeriodQuarter:
		q := int(m-1)/3 + 1
		if q == 1 {
			return quarterPeriod(y-1, 4, loc)
		}
		return quarterPeriod(y, q-1, loc)
	case PeriodMonth:
		pm := periodDayStart(y, m-1, 1, loc)
		return monthPeriod(pm.Year(), pm.Month(), loc)
	case PeriodWeek:
		pw := periodDayStart(y, m, d-7, loc)
		iy, w := pw.ISOWeek()
		return weekPeriod(iy, w, loc)
	case PeriodRange:
		if days, ok := rangeDays(p.From, p.To); ok {
			return rangePeriod(periodDayStart(y, m, d-days, loc), p.From)
		}
		return rangePeriod(p.From.Add(-p.To.Sub(p.From)), p.From)
	}
	return Period{}
}

// LastYear is the same period one year earlier: the same year offset, half,
// quarter or month; for an ISO week, the same week number in the previous
// ISO year (W52 when that year has no W53); for a range, the same dates (and
// clock times) a year earlier, Feb 29 becoming Feb 28. A year-to-date range
// stays year-to-date ("2025-YTD-11-21" gives "2024-YTD-11-21"). The zone of
// p.From is kept. The zero Period (or an unknown kind) gives the zero
// Period.
func (p Period) LastYear() Period {
	loc := p.From.Location()
	t := p.From.In(loc)
	y, m, _ := t.Date()
	switch p.Kind {
	case PeriodYear:
		return yearPeriod(y-1, loc)
	case PeriodHalf:
		return halfPeriod(y-1, int(m-1)/6+1, loc)
	case PeriodQuarter:
		return quarterPeriod(y-1, int(m-1)/3+1, loc)
	case PeriodMonth:
		return monthPeriod(y-1, m, loc)
	case PeriodWeek:
		iy, w := t.ISOWeek()
		if n := isoWeeksIn(iy - 1); w > n {
			w = n
		}
		return weekPeriod(iy-1, w, loc)
	case PeriodRange:
		if _, ok := rangeDays(p.From, p.To); ok {
			ly, lm, ld := periodDayBefore(p.To.In(loc)) // last day included
			if ytdLabel(p) {
				ly, lm, ld = yearEarlier(ly, lm, ld)
				return ytdPeriod(ly, lm, ld, loc)
			}
			fy, fm, fd := yearEarlier(t.Date())
			ly, lm, ld = yearEarlier(ly, lm, ld)
			return rangePeriod(periodDayStart(fy, fm, fd, loc), periodDayStart(ly, lm, ld+1, loc))
		}
		f := wallYearEarlier(p.From.In(loc))
		e := wallYearEarlier(p.To.In(loc))
		if !f.Before(e) { // clock times inside a repeated hour
			e = f.Add(p.To.Sub(p.From))
		}
		return rangePeriod(f, e)
	}
	return Period{}
}

// YearToDate returns the year to date as of asOf (Kind PeriodRange): from
// the local Jan 1 of asOf's year to the local midnight after asOf's date
// (asOf's day included), labelled like "2025-YTD-11-21"; and the same span
// a year earlier ("2024-YTD-11-21"; Feb 29 becomes Feb 28). Dates are those
// of asOf in loc (nil means UTC).
func YearToDate(asOf time.Time, loc *time.Location) (current, lastYear Period) {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := asOf.In(loc).Date()
	current = ytdPeriod(y, m, d, loc)
	ly, lm, ld := yearEarlier(y, m, d)
	return current, ytdPeriod(ly, lm, ld, loc)
}

// ParseInterval parses a series step: "day", "week" (ISO weeks, starting
// Monday), "month" or "quarter" (case-insensitive). Errors wrap
// ErrBadInterval.
func ParseInterval(s string) (Interval, error) {
	switch iv := Interval(strings.ToLower(strings.TrimSpace(s))); iv {
	case IntervalDay, IntervalWeek, IntervalMonth, IntervalQuarter:
		return iv, nil
	}
	return "", fmt.Errorf("interval %q: %w (want day, week, month or quarter)", s, ErrBadInterval)
}

// IntervalStart is the start of the day, ISO week (Monday), month or quarter
// holding t, as local midnight in loc (nil means UTC). It panics on an
// interval that ParseInterval does not accept.
func IntervalStart(t time.Time, iv Interval, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	switch iv {
	case IntervalDay:
		return periodDayStart(y, m, d, loc)
	case IntervalWeek:
		return periodDayStart(y, m, d-daysSinceMonday(y, m, d), loc)
	case IntervalMonth:
		return periodDayStart(y, m, 1, loc)
	case IntervalQuarter:
		return periodDayStart(y, (m-1)/3*3+1, 1, loc)
	}
	panic(fmt.Sprintf("analytics.IntervalStart: unknown interval %q", string(iv)))
}

// NextInterval is the start of the interval after the one holding start,
// in start's zone: the next local midnight, Monday, first of the month or
// first of the quarter. Days are added to local dates, so a day across a
// daylight-saving change lasts 23 or 25 hours. With start from
// IntervalStart, a series loops as
//
//	for t := IntervalStart(from, iv, loc); t.Before(to); t = NextInterval(t, iv) { ... }
//
// It panics on an interval that ParseInterval does not accept.
func NextInterval(start time.Time, iv Interval) time.Time {
	loc := start.Location()
	y, m, d := start.Date()
	switch iv {
	case IntervalDay:
		return periodDayStart(y, m, d+1, loc)
	case IntervalWeek:
		return periodDayStart(y, m, d-daysSinceMonday(y, m, d)+7, loc)
	case IntervalMonth:
		return periodDayStart(y, m+1, 1, loc)
	case IntervalQuarter:
		return periodDayStart(y, (m-1)/3*3+4, 1, loc)
	}
	panic(fmt.Sprintf("analytics.NextInterval: unknown interval %q", string(iv)))
}

// periodDayStart is the first instant of the local date y-m-d in loc
// (normalised like time.Date): local midnight, or the instant of the clock
// change when midnight is skipped (e.g. America/Santiago, or Asia/Tashkent
// on 1981-04-01).
func periodDayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	wy, wm, wd := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Date()
	if ty, tm, td := t.Date(); ty != wy || tm != wm || td != wd {
		// Midnight was skipped and time.Date went back to the day before:
		// the day starts when the clock jumps.
		if _, end := t.ZoneBounds(); !end.IsZero() {
			return end
		}
	}
	return t
}

func yearPeriod(y int, loc *time.Location) Period {
	return Period{
		Label: fmt.Sprintf("%04d", y),
		Kind:  PeriodYear,
		From:  periodDayStart(y, 1, 1, loc),
		To:    periodDayStart(y+1, 1, 1, loc),
	}
}

func halfPeriod(y, h int, loc *time.Location) Period {
	m := time.Month(6*(h-1) + 1)
	return Period{
		Label: fmt.Sprintf("%04d-H%d", y, h),
		Kind:  PeriodHalf,
		From:  periodDayStart(y, m, 1, loc),
		To:    periodDayStart(y, m+6, 1, loc),
	}
}

func quarterPeriod(y, q int, loc *time.Location) Period {
	m := time.Month(3*(q-1) + 1)
	return Period{
		Label: fmt.Sprintf("%04d-Q%d", y, q),
		Kind:  PeriodQuarter,
		From:  periodDayStart(y, m, 1, loc),
		To:    periodDayStart(y, m+3, 1, loc),
	}
}

func monthPeriod(y int, m time.Month, loc *time.Location) Period {
	return Period{
		Label: fmt.Sprintf("%04d-%02d", y, int(m)),
		Kind:  PeriodMonth,
		From:  periodDayStart(y, m, 1, loc),
		To:    periodDayStart(y, m+1, 1, loc),
	}
}

// weekPeriod is ISO week w of ISO year y (w need not exist in y).
func weekPeriod(y, w int, loc *time.Location) Period {
	// Jan 4 is always in week 1.
	d := 4 - daysSinceMonday(y, 1, 4) + 7*(w-1)
	return Period{
		Label: fmt.Sprintf("%04d-W%02d", y, w),
		Kind:  PeriodWeek,
		From:  periodDayStart(y, 1, d, loc),
		To:    periodDayStart(y, 1, d+7, loc),
	}
}

// ytdPeriod runs from Jan 1 of y to the end of y-m-d.
func ytdPeriod(y int, m time.Month, d int, loc *time.Location) Period {
	return Period{
		Label: fmt.Sprintf("%04d-YTD-%02d-%02d", y, int(m), d),
		Kind:  PeriodRange,
		From:  periodDayStart(y, 1, 1, loc),
		To:    periodDayStart(y, m, d+1, loc),
	}
}

// rangePeriod labels the range [from, to) in from's zone.
func rangePeriod(from, to time.Time) Period {
	loc := from.Location()
	to = to.In(loc)
	var label string
	if _, ok := rangeDays(from, to); ok {
		y, m, d := periodDayBefore(to)
		label = from.Format(time.DateOnly) + ".." + fmt.Sprintf("%04d-%02d-%02d", y, int(m), d)
	} else {
		label = rfc3339Label(from) + ".." + rfc3339Label(to)
	}
	return Period{Label: label, Kind: PeriodRange, From: from, To: to}
}

// rfc3339Label formats t in its zone, or in UTC when the zone's offset has
// seconds (local mean time before 1924) that RFC 3339 cannot carry.
func rfc3339Label(t time.Time) string {
	if _, off := t.Zone(); off%60 != 0 {
		t = t.UTC()
	}
	return t.Format(time.RFC3339Nano)
}

// rangeDays reports whether from and to (in from's zone) are both the first
// instants of their local days, and how many days lie between them.
func rangeDays(from, to time.Time) (int, bool) {
	loc := from.Location()
	fy, fm, fd := from.Date()
	ty, tm, td := to.In(loc).Date()
	if !from.Equal(periodDayStart(fy, fm, fd, loc)) || !to.Equal(periodDayStart(ty, tm, td, loc)) {
		return 0, false
	}
	a := time.Date(fy, fm, fd, 0, 0, 0, 0, time.UTC)
	b := time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a) / (24 * time.Hour)), true
}

// ytdLabel reports whether p carries a year-to-date label.
func ytdLabel(p Period) bool {
	return len(p.Label) == len("2025-YTD-11-21") && p.Label[4:9] == "-YTD-"
}

// yearEarlier is the same date a year before, Feb 29 becoming Feb 28.
func yearEarlier(y int, m time.Month, d int) (int, time.Month, int) {
	if m == time.February && d == 29 {
		d = 28
	}
	return y - 1, m, d
}

// wallYearEarlier is t's local date and clock a year earlier (Feb 29
// becoming Feb 28), in t's zone.
func wallYearEarlier(t time.Time) time.Time {
	y, m, d := yearEarlier(t.Date())
	return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

// periodDayBefore is the local date before t's (dates, not instants: the day
// before may have started at 01:00).
func periodDayBefore(t time.Time) (int, time.Month, int) {
	y, m, d := t.Date()
	return time.Date(y, m, d-1, 0, 0, 0, 0, time.UTC).Date()
}

// daysSinceMonday is 0 for a Monday, 6 for a Sunday.
func daysSinceMonday(y int, m time.Month, d int) int {
	return (int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()) + 6) % 7
}

// isoWeeksIn is the number of ISO weeks (52 or 53) of ISO year y: Dec 28
// is always in the year's last week.
func isoWeeksIn(y int) int {
	_, w := time.Date(y, 12, 28, 0, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

// periodDaysIn is the number of days of month m of year y.
func periodDaysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func periodDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
