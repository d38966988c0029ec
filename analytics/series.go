package analytics

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
)

// MaxSeriesPoints caps the intervals of one series (about 27 years of days).
const MaxSeriesPoints = 10000

// Series counts the matching events of [q.From, q.To) per interval. The
// intervals are cut in q.From's time zone (pass times in the region's
// zone, e.g. from ParseRange): the first starts at IntervalStart(q.From),
// each next one at NextInterval, up to q.To; every interval is a point,
// zeros included. Only events inside [q.From, q.To) count, so the first
// and last points cover a part of their interval when q.From or q.To is
// not on a boundary.
func (s *Snapshot) Series(q SeriesQuery) (SeriesResult, error) {
	res := SeriesResult{Snapshot: s.version, Interval: q.Interval}
	if err := checkPeriod(Period{From: q.From, To: q.To}, "series"); err != nil {
		return res, err
	}
	if q.Interval != IntervalDay && q.Interval != IntervalWeek && q.Interval != IntervalMonth && q.Interval != IntervalQuarter {
		return res, fmt.Errorf("%w: interval %q: %w", ErrBadQuery, string(q.Interval), ErrBadInterval)
	}
	m, err := s.compile(q.Filter)
	if err != nil {
		return res, err
	}

	// Interval boundaries in Unix seconds: bound[i] starts point i.
	loc := q.From.Location()
	var bound []int64
	for t := IntervalStart(q.From, q.Interval, loc); t.Before(q.To); t = NextInterval(t, q.Interval) {
		if len(bound) == MaxSeriesPoints {
			return res, fmt.Errorf("%w: series of more than %d %s intervals", ErrBadQuery, MaxSeriesPoints, q.Interval)
		}
		res.Points = append(res.Points, SeriesPoint{Start: t})
		bound = append(bound, t.Unix())
	}
	bound = append(bound, ceilUnix(q.To)) // sentinel; rows stop before it

	lo, hi := s.rowRange(q.From, q.To)
	if m.all() {
		// No filter: each point is the length of its row range.
		for k := range res.Points {
			a := max(lo, s.searchAt(bound[k]))
			b := min(hi, s.searchAt(bound[k+1]))
			res.Points[k].Count = int64(max(b-a, 0))
		}
		return res, nil
	}
	if hi-lo < parallelRows || runtime.GOMAXPROCS(0) < 2 {
		s.seriesWalk(m, lo, hi, bound, res.Points)
		return res, nil
	}
	mid := lo + (hi-lo)/2
	other := make([]SeriesPoint, len(res.Points))
	var wg sync.WaitGroup
	wg.Go(func() { s.seriesWalk(m, mid, hi, bound, other) })
	s.seriesWalk(m, lo, mid, bound, res.Points)
	wg.Wait()
	for k := range other {
		res.Points[k].Count += other[k].Count
	}
	return res, nil
}

// seriesWalk counts the matching rows of [lo, hi) into points by one walk
// over the time-sorted rows with a moving boundary: bound[k] starts point
// k, and every row lies before the last bound.
func (s *Snapshot) seriesWalk(m *matcher, lo, hi int, bound []int64, points []SeriesPoint) {
	if lo >= hi {
		return
	}
	at := s.at
	k := sort.Search(len(bound), func(i int) bool { return bound[i] > at[lo] }) - 1
	k = max(k, 0)
	m.each(lo, hi, func(sel []int32) {
		for _, r := range sel {
			t := at[r]
			for t >= bound[k+1] {
				k++
			}
			points[k].Count++
		}
	})
}
