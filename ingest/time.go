package ingest

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrBadTime is returned by ParseTime for text that is not a supported
// date-time or names an impossible date.
var ErrBadTime = errors.New("bad time")

// ParseTime parses the date-times found in incident files and returns UTC:
//
//	2019-01-01T00:10:00+05:00, 2019-01-01 00:10:00Z   RFC 3339; zone honoured
//	2019-01-01 00:10:00, 2019-01-01T00:10, 2019-01-01 zone-less: read in loc
//	02.01.2019 15:04, 02.01.2019 15:04:05, 02.01.2019  as written in Uzbekistan
//	2019/01/02 15:04                                    slashes, year first
//
// Hours may have one digit (0:00), seconds a fraction (. or ,), the zone may
// be Z, UTC, ±hh, ±hhmm or ±hh:mm. Years outside 1900..2200 are refused.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	t, ok := parseTime(strings.TrimSpace(s), loc)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: %q (want e.g. 2019-01-31 15:04:05, 2019-01-31T15:04:05+05:00 or 31.01.2019 15:04)", ErrBadTime, s)
	}
	return t, nil
}

type scanner struct {
	s string
	i int
}

func (p *scanner) num(minD, maxD int) (int, bool) {
	n, d := 0, 0
	for p.i < len(p.s) && d < maxD && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		n = n*10 + int(p.s[p.i]-'0')
		p.i++
		d++
	}
	return n, d >= minD
}

func (p *scanner) byte(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *scanner) done() bool { return p.i == len(p.s) }

func parseTime(s string, loc *time.Location) (time.Time, bool) {
	p := scanner{s: s}
	var y, mo, d int
	var ok bool
	switch {
	case len(s) >= 8 && (s[4] == '-' || s[4] == '/'):
		sep := s[4]
		y, _ = p.num(4, 4)
		p.byte(sep)
		if mo, ok = p.num(1, 2); !ok || !p.byte(sep) {
			return time.Time{}, false
		}
		if d, ok = p.num(1, 2); !ok {
			return time.Time{}, false
		}
	case len(s) >= 8 && (s[1] == '.' || s[2] == '.'):
		if d, ok = p.num(1, 2); !ok || !p.byte('.') {
			return time.Time{}, false
		}
		if mo, ok = p.num(1, 2); !ok || !p.byte('.') {
			return time.Time{}, false
		}
		if y, ok = p.num(4, 4); !ok {
			return time.Time{}, false
		}
	default:
		return time.Time{}, false
	}
	if y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) {
		return time.Time{}, false
	}
	var h, mi, sec, ns int
	if !p.done() {
		if !p.byte('T') && !p.byte('t') {
			if !p.byte(' ') {
				return time.Time{}, false
			}
			for p.byte(' ') {
			}
		}
		if h, ok = p.num(1, 2); !ok || !p.byte(':') {
			return time.Time{}, false
		}
		if mi, ok = p.num(2, 2); !ok {
			return time.Time{}, false
		}
		if p.byte(':') {
			if sec, ok = p.num(2, 2); !ok {
				return time.Time{}, false
			}
			if p.byte('.') || p.byte(',') {
				start := p.i
				frac, ok := p.num(1, 9)
				if !ok {
					return time.Time{}, false
				}
				for k := p.i - start; k < 9; k++ {
					frac *= 10
				}
				ns = frac
				for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
					p.i++ // digits beyond nanoseconds
				}
			}
		}
		if h > 23 || mi > 59 || sec > 59 {
			return time.Time{}, false
		}
	}
	for p.byte(' ') {
	}
	if p.done() {
		return time.Date(y, time.Month(mo), d, h, mi, sec, ns, loc).UTC(), true
	}
	// Zone.
	offset := 0
	switch {
	case p.byte('Z') || p.byte('z'):
	case strings.EqualFold(s[p.i:], "UTC"):
		p.i = len(s)
	case p.s[p.i] == '+' || p.s[p.i] == '-':
		sign := 1
		if p.s[p.i] == '-' {
			sign = -1
		}
		p.i++
		oh, ok := p.num(2, 2)
		if !ok {
			return time.Time{}, false
		}
		om := 0
		if !p.done() {
			p.byte(':')
			if om, ok = p.num(2, 2); !ok {
				return time.Time{}, false
			}
		}
		if oh > 14 || om > 59 {
			return time.Time{}, false
		}
		offset = sign * (oh*3600 + om*60)
	default:
		return time.Time{}, false
	}
	if !p.done() {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC).Add(-time.Duration(offset) * time.Second), true
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
