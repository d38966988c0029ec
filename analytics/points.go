package analytics

import (
	"fmt"
	"time"
)

// PointsQuery asks for the located events of a period matching a filter
// (Filter.BBox restricts them to a box), e.g. to draw them on a map.
type PointsQuery struct {
	Period Period
	Filter Filter
}

// Point is one located event of a Points answer.
type Point struct {
	Lon, Lat   float64
	Cell       uint64 // H3 cell at MaxHexbinRes (10)
	Kind       Kind
	Category   string
	Severity   Severity
	OccurredAt time.Time // UTC
}

// Points calls fn for every located event of q.Period matching q.Filter,
// in occurred_at order; events without a location are skipped. It stops
// at fn's first error and returns it. Errors of the query wrap ErrBadQuery
// or ErrUnknownUnit.
func (s *Snapshot) Points(q PointsQuery, fn func(Point) error) error {
	if err := checkPeriod(q.Period, "period"); err != nil {
		return err
	}
	m, err := s.compile(q.Filter)
	if err != nil {
		return err
	}
	lo, hi := s.rowRange(q.Period.From, q.Period.To)
	var ferr error
	m.each(lo, hi, func(sel []int32) {
		if ferr != nil {
			return
		}
		for _, r := range sel {
			if s.cell[r] == 0 {
				continue
			}
			p := Point{
				Lon: float64(s.lon[r]), Lat: float64(s.lat[r]), Cell: s.cell[r],
				Kind: Kind(s.kind[r]), Category: s.categories[s.cat[r]], Severity: Severity(s.sev[r]),
				OccurredAt: time.Unix(s.at[r], 0).UTC(),
			}
			if err := fn(p); err != nil {
				ferr = fmt.Errorf("points: %w", err)
				return
			}
		}
	})
	return ferr
}
