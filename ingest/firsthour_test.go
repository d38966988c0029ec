package ingest

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/analytics"
	"github.com/paulmach/orb"
)

// withoutClasses clears the fields of a Summary that are not comparable
// with != (checked by checkClasses).
func withoutClasses(s Summary) Summary {
	s.RejectedBy, s.FarOutside = nil, orb.Bound{}
	return s
}

// checkClasses compares the rejects by class, which must add up to
// Rejected.
func checkClasses(t *testing.T, s Summary, want map[RejectClass]int) {
	t.Helper()
	n := 0
	for _, k := range s.RejectedBy {
		n += k
	}
	if n != s.Rejected {
		t.Errorf("rejects by class %v add up to %d, want Rejected %d", s.RejectedBy, n, s.Rejected)
	}
	got := maps.Clone(s.RejectedBy)
	maps.DeleteFunc(got, func(_ RejectClass, n int) bool { return n == 0 })
	if !maps.Equal(got, want) {
		t.Errorf("rejects by class %v, want %v", got, want)
	}
}

// TestRejectClassesAndFarOutside: rejects are counted by class, the top
// class is reported, and the far-outside points' bounding box is kept.
func TestRejectClassesAndFarOutside(t *testing.T) {
	in := "source_id,occurred_at,category,lat,lon\n" +
		"1,2019-01-01,theft,35.1,-90.0\n" +
		"2,2019-01-01,theft,35.2,-89.8\n" +
		"3,2019-01-01,theft,41.3,69.2\n" +
		"4,someday,theft,41.3,69.2\n"
	sum, _, _, err := run(t, in, Options{Format: FormatCSV, Kind: analytics.KindCrime, Index: tashkentIndex()})
	if err != nil {
		t.Fatal(err)
	}
	checkClasses(t, sum, map[RejectClass]int{RejectFarOutside: 2, RejectBadTime: 1})
	if c, n := sum.TopReject(); c != RejectFarOutside || n != 2 {
		t.Errorf("TopReject = %s, %d", c, n)
	}
	want := orb.Bound{Min: orb.Point{-90.0, 35.1}, Max: orb.Point{-89.8, 35.2}}
	if sum.FarOutside != want {
		t.Errorf("FarOutside %v, want %v", sum.FarOutside, want)
	}
	if d := RejectFarOutside.Describe(50); d != "more than 50 km outside every stored unit" {
		t.Errorf("Describe: %q", d)
	}
	var none Summary
	if c, n := none.TopReject(); c != "" || n != 0 {
		t.Errorf("TopReject of nothing = %q, %d", c, n)
	}
}

// TestRunRefusesWrongInputs: empty files and polygon GeoJSON fail before
// any row, with errors that are also ErrBadInput; a missing kind names no
// internal field.
func TestRunRefusesWrongInputs(t *testing.T) {
	polygons := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"X"},
"geometry":{"type":"MultiPolygon","coordinates":[[[[69,41],[70,41],[70,42],[69,41]]]]}}]}`
	tests := []struct {
		name, in string
		format   Format
		kind     analytics.Kind
		want     error
		text     string
	}{
		{"empty CSV", "", FormatCSV, analytics.KindCrime, ErrEmpty, "empty file (want a CSV header line"},
		{"blank CSV", " \n\n", FormatCSV, analytics.KindCrime, ErrEmpty, "empty file"},
		{"empty GeoJSON", "", FormatGeoJSON, analytics.KindCrime, ErrEmpty, "empty file (want a GeoJSON FeatureCollection"},
		{"blank GeoJSON", "\n  ", FormatGeoJSON, analytics.KindCrime, ErrEmpty, "empty file"},
		{"polygons", polygons, FormatGeoJSON, analytics.KindCrime, ErrNotEvents, "holds polygons (boundaries?), not events (feature 0 is a MultiPolygon)"},
		{"polygons, no kind", polygons, FormatGeoJSON, 0, ErrNotEvents, "not events"},
		{"no kind", "source_id,occurred_at,category\n1,2019-01-01,theft\n", FormatCSV, 0, ErrNoKind, "no kind column and no kind given"},
	}
	for _, tc := range tests {
		sum, _, _, err := run(t, tc.in, Options{Format: tc.format, Kind: tc.kind})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			continue
		}
		if tc.want != ErrNoKind && !errors.Is(err, ErrBadInput) {
			t.Errorf("%s: %v is not ErrBadInput", tc.name, err)
		}
		if !strings.Contains(err.Error(), tc.text) || strings.Contains(err.Error(), "Options.") {
			t.Errorf("%s: %q, want it to contain %q (and no internal field)", tc.name, err, tc.text)
		}
		if sum.Rows != 0 {
			t.Errorf("%s: %d rows read", tc.name, sum.Rows)
		}
	}
	// A point file whose first feature reads ahead still yields every row.
	points := `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"source_id":"a","occurred_at":"2019-01-01","category":"theft"},"geometry":{"type":"Point","coordinates":[69.2,41.3]}},
{"type":"Feature","properties":{"source_id":"b","occurred_at":"2019-01-01","category":"theft"},"geometry":null}]}`
	sum, c, _, err := run(t, points, Options{Format: FormatGeoJSON, Kind: analytics.KindCrime, Index: tashkentIndex()})
	if err != nil || sum.Accepted != 2 || len(c.events) != 2 || c.events[0].SourceID != "a" {
		t.Errorf("points: %v, %+v", err, sum)
	}
}
