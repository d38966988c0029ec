package ingest

import (
	"errors"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tash, err := time.LoadLocation("Asia/Tashkent")
	if err != nil {
		t.Skip(err)
	}
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2019-01-01 00:10:00", utc(2018, 12, 31, 19, 10, 0, 0)},
		{"2019-01-01T00:10", utc(2018, 12, 31, 19, 10, 0, 0)},
		{"2019-01-01", utc(2018, 12, 31, 19, 0, 0, 0)},
		{"02.01.2019 15:04", utc(2019, 1, 2, 10, 4, 0, 0)},
		{"2.1.2019", utc(2019, 1, 1, 19, 0, 0, 0)},
		{"02.01.2019 15:04:05", utc(2019, 1, 2, 10, 4, 5, 0)},
		{"2019-01-01T00:10:00Z", utc(2019, 1, 1, 0, 10, 0, 0)},
		{"2019-01-01T00:10:00+05:00", utc(2018, 12, 31, 19, 10, 0, 0)},
		{"2019-01-01 00:10:00-0600", utc(2019, 1, 1, 6, 10, 0, 0)},
		{"2019-01-01 00:10:00 UTC", utc(2019, 1, 1, 0, 10, 0, 0)},
		{"2019-01-01T00:10:00.123456789Z", utc(2019, 1, 1, 0, 10, 0, 123456789)},
		{"2019-01-01T00:10:00,5+00", utc(2019, 1, 1, 0, 10, 0, 500000000)},
		{"2020-09-24 0:00", utc(2020, 9, 23, 19, 0, 0, 0)},
		{"2019/01/02 15:04", utc(2019, 1, 2, 10, 4, 0, 0)},
		{"  2024-02-29  ", utc(2024, 2, 28, 19, 0, 0, 0)},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, tash)
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2019-13-01", "2019-02-29", "2019-01-01 24:00", "2019-01-01 10:60",
		"2019-01-01T10", "01/02/2019", "1899-01-01", "2019-01-01 10:00 +25:00", "2019-01-01 10:00:00Zjunk", "31.04.2019"} {
		if _, err := ParseTime(bad, tash); !errors.Is(err, ErrBadTime) {
			t.Errorf("ParseTime(%q) error %v, want ErrBadTime", bad, err)
		}
	}
}
