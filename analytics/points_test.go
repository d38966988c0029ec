package analytics_test

import (
	"errors"
	"testing"

	"github.com/crimemap/crimemap/analytics"
	"github.com/paulmach/orb"
)

func TestPoints(t *testing.T) {
	es := fixtureEvents(t)
	s := build(t, es)
	q := period(t, "2025-Q2")
	box := &orb.Bound{Min: orb.Point{65, 38}, Max: orb.Point{67, 40}}
	for _, f := range []analytics.Filter{{}, {Kinds: []analytics.Kind{analytics.KindCrime}}, {BBox: box}} {
		want := 0
		for _, e := range es {
			if !e.HasLocation || e.OccurredAt.Before(q.From) || !e.OccurredAt.Before(q.To) {
				continue
			}
			if len(f.Kinds) > 0 && e.Kind != f.Kinds[0] {
				continue
			}
			if f.BBox != nil && !f.BBox.Contains(orb.Point{e.Lon, e.Lat}) {
				continue
			}
			want++
		}
		if want == 0 {
			t.Fatalf("filter %+v: the fixture has no located events in %s", f, q.Label)
		}
		got := 0
		err := s.Points(analytics.PointsQuery{Period: q, Filter: f}, func(p analytics.Point) error {
			got++
			if p.Cell == 0 || p.Category == "" || p.OccurredAt.Before(q.From) || !p.OccurredAt.Before(q.To) {
				t.Errorf("point %+v", p)
			}
			if len(f.Kinds) > 0 && p.Kind != f.Kinds[0] {
				t.Errorf("kind %v", p.Kind)
			}
			return nil
		})
		if err != nil || got != want {
			t.Errorf("filter %+v: %d points (%v), want %d", f, got, err, want)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := s.Points(analytics.PointsQuery{Period: q}, func(analytics.Point) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("stop: %v after %d", err, n)
	}
	if err := s.Points(analytics.PointsQuery{}, func(analytics.Point) error { return nil }); !errors.Is(err, analytics.ErrBadQuery) {
		t.Errorf("no period: %v", err)
	}
}
