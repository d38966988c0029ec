// Package check holds the validation and normalisation both store backends
// apply before writing, so they accept, reject and count exactly alike.
package check

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/paulmach/orb"
)

// Event reports why e cannot be stored (wrapping store.ErrInvalid), or nil.
// Rejected: kind outside 1..3, empty SourceID, zero OccurredAt, and, when
// HasLocation, non-finite or out-of-range Lon/Lat.
func Event(e *analytics.Event) error {
	switch {
	case e.Kind < analytics.KindCrime || e.Kind > analytics.KindOffence:
		return fmt.Errorf("event %q: kind %d: %w", e.SourceID, e.Kind, store.ErrInvalid)
	case e.SourceID == "":
		return fmt.Errorf("%s event: empty source id: %w", e.Kind, store.ErrInvalid)
	case e.OccurredAt.IsZero():
		return fmt.Errorf("%s event %q: no time: %w", e.Kind, e.SourceID, store.ErrInvalid)
	case e.HasLocation && !(e.Lon >= -180 && e.Lon <= 180 && e.Lat >= -90 && e.Lat <= 90):
		return fmt.Errorf("%s event %q: location %v,%v: %w", e.Kind, e.SourceID, e.Lon, e.Lat, store.ErrInvalid)
	case math.IsNaN(e.Fine) || math.IsInf(e.Fine, 0):
		return fmt.Errorf("%s event %q: fine %v: %w", e.Kind, e.SourceID, e.Fine, store.ErrInvalid)
	}
	return nil
}

// Normalize returns e as the stores keep it: time in UTC truncated to
// microseconds (PostgreSQL's precision), Lon/Lat and the cells zeroed
// without location, and the cells computed for a located event that comes
// without them for its Lat/Lon (ingest computes them with Cell, from one
// projection). Call it on an event Event accepts.
func Normalize(e analytics.Event) analytics.Event {
	e.OccurredAt = e.OccurredAt.UTC().Truncate(time.Microsecond)
	if !e.HasLocation {
		e.Lon, e.Lat = 0, 0
	}
	_ = e.EnsureCells() // finite: Event checked
	return e
}

type key struct {
	kind analytics.Kind
	id   string
}

// Events validates events and returns them normalised, with duplicates of
// the same (kind, source_id) collapsed to the last one (in the position of
// the first), and how many were collapsed. The stores count collapsed
// duplicates as Unchanged so Inserted+Updated+Unchanged == len(events).
func Events(events []analytics.Event) ([]analytics.Event, int, error) {
	out := make([]analytics.Event, 0, len(events))
	var seen map[key]int // allocated only when needed
	for i := range events {
		e := &events[i]
		if err := Event(e); err != nil {
			return nil, 0, err
		}
		if seen == nil {
			seen = make(map[key]int, len(events))
		}
		k := key{e.Kind, e.SourceID}
		if j, ok := seen[k]; ok {
			out[j] = Normalize(*e)
			continue
		}
		seen[k] = len(out)
		out = append(out, Normalize(*e))
	}
	return out, len(events) - len(out), nil
}

// Unit reports why u cannot be stored (wrapping store.ErrInvalid), or nil:
// empty code, unknown level, negative population or year, or a boundary
// with a ring that is not closed, has fewer than 4 points or non-finite
// coordinates.
func Unit(u *geo.Unit) error {
	if u.Code == "" {
		return fmt.Errorf("unit: empty code: %w", store.ErrInvalid)
	}
	if _, err := geo.ParseLevel(string(u.Level)); err != nil {
		return fmt.Errorf("unit %q: %w: %w", u.Code, err, store.ErrInvalid)
	}
	if u.Population < 0 || u.PopulationYear < 0 {
		return fmt.Errorf("unit %q: negative population or year: %w", u.Code, store.ErrInvalid)
	}
	for pi, p := range u.Geometry {
		if len(p) == 0 {
			return fmt.Errorf("unit %q: polygon %d has no rings: %w", u.Code, pi, store.ErrInvalid)
		}
		for ri, r := range p {
			if len(r) < 4 || r[0] != r[len(r)-1] {
				return fmt.Errorf("unit %q: polygon %d ring %d is not closed or has < 4 points: %w", u.Code, pi, ri, store.ErrInvalid)
			}
			for _, pt := range r {
				if !finite(pt) {
					return fmt.Errorf("unit %q: polygon %d ring %d: coordinate %v: %w", u.Code, pi, ri, pt, store.ErrInvalid)
				}
			}
		}
	}
	return nil
}

func finite(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsInf(p[0], 0) && !math.IsNaN(p[1]) && !math.IsInf(p[1], 0)
}

// Units validates units and collapses duplicate codes like Events.
func Units(units []geo.Unit) ([]geo.Unit, int, error) {
	out := make([]geo.Unit, 0, len(units))
	seen := make(map[string]int, len(units))
	for i := range units {
		if err := Unit(&units[i]); err != nil {
			return nil, 0, err
		}
		if j, ok := seen[units[i].Code]; ok {
			out[j] = units[i]
			continue
		}
		seen[units[i].Code] = len(out)
		out = append(out, units[i])
	}
	return out, len(units) - len(out), nil
}

// Names returns the names without empty values (nil when none are left), the
// form both stores keep.
func Names(names map[string]string) map[string]string {
	var out map[string]string
	for l, n := range names {
		if n == "" {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(names))
		}
		out[l] = n
	}
	return out
}

// Query validates q and returns its page size.
func Query(q store.EventQuery) (limit int, err error) {
	switch {
	case q.Kind > analytics.KindOffence:
		return 0, fmt.Errorf("event query: kind %d: %w", q.Kind, store.ErrInvalid)
	case q.Offset < 0:
		return 0, fmt.Errorf("event query: negative offset %d: %w", q.Offset, store.ErrInvalid)
	case q.BBox != nil && (q.BBox.Min[0] > q.BBox.Max[0] || q.BBox.Min[1] > q.BBox.Max[1]):
		return 0, fmt.Errorf("event query: empty bbox %v: %w", *q.BBox, store.ErrInvalid)
	case len(q.Categories) > store.MaxCategories:
		return 0, fmt.Errorf("event query: %d categories, at most %d: %w", len(q.Categories), store.MaxCategories, store.ErrInvalid)
	case slices.Contains(q.Categories, ""):
		return 0, fmt.Errorf("event query: empty category: %w", store.ErrInvalid)
	}
	return q.NormalizeLimit(), nil
}

// EmptyCounts returns Counts with a zero for every level and kind.
func EmptyCounts() store.Counts {
	c := store.Counts{Units: make(map[geo.Level]int, len(geo.Levels)), Events: make(map[analytics.Kind]int, len(analytics.Kinds))}
	for _, l := range geo.Levels {
		c.Units[l] = 0
	}
	for _, k := range analytics.Kinds {
		c.Events[k] = 0
	}
	return c
}

// QueryTime returns t rounded up to the next microsecond, in UTC. Stored
// times are whole microseconds, so occurred_at >= QueryTime(From) and
// occurred_at < QueryTime(To) match exactly the instants From <= t < To.
func QueryTime(t time.Time) time.Time {
	t = t.UTC()
	if r := t.Truncate(time.Microsecond); !r.Equal(t) {
		return r.Add(time.Microsecond)
	}
	return t
}
