package geo

import (
	"slices"
	"time"

	"github.com/paulmach/orb"
)

// BoundaryVersion is one version of a unit's boundary: valid from
// ValidFrom (inclusive; zero: from the beginning) until the ValidFrom of
// the unit's next version. A nil Geometry means the unit had no boundary
// then (it was drawn later).
type BoundaryVersion struct {
	Code      string
	ValidFrom time.Time
	Geometry  orb.MultiPolygon
}

// epoch is the unit index of one span of time in which no boundary changed.
type epoch struct {
	from   time.Time // zero for the first
	levels [3]levelIndex
}

// NewVersionedIndex builds an index that assigns a point by the boundaries
// valid at a given time (AssignAt). versions lists every version of the
// units whose boundary changed (a unit without versions keeps its
// Geometry at every time); the latest version of a unit should be its
// Geometry, which Assign (without a time) uses. With no versions it is
// NewIndex(units).
func NewVersionedIndex(units []Unit, versions []BoundaryVersion) *Index {
	ix := NewIndex(units)
	if len(versions) == 0 {
		return ix
	}
	byCode := make(map[string][]BoundaryVersion)
	var starts []time.Time
	for _, v := range versions {
		byCode[v.Code] = append(byCode[v.Code], v)
		if !v.ValidFrom.IsZero() {
			starts = append(starts, v.ValidFrom)
		}
	}
	for _, vs := range byCode {
		slices.SortFunc(vs, func(a, b BoundaryVersion) int { return a.ValidFrom.Compare(b.ValidFrom) })
	}
	slices.SortFunc(starts, time.Time.Compare)
	starts = slices.CompactFunc(starts, time.Time.Equal)
	starts = append([]time.Time{{}}, starts...)
	tmp := make([]Unit, len(units))
	for _, from := range starts {
		copy(tmp, units)
		for i := range tmp {
			vs, ok := byCode[tmp[i].Code]
			if !ok {
				continue
			}
			tmp[i].Geometry = geometryAt(vs, from)
		}
		e := epoch{from: from}
		for i := range tmp {
			u := &tmp[i]
			if li := u.Level.Rank(); li >= 0 && len(u.Geometry) > 0 {
				b := u.Geometry.Bound()
				e.levels[li].units = append(e.levels[li].units, indexedUnit{code: u.Code, bound: b, polys: newIndexedPolygons(u.Geometry)})
				if ix.empty {
					ix.extent, ix.empty = b, false
				} else {
					ix.extent = ix.extent.Union(b)
				}
			}
		}
		for i := range e.levels {
			e.levels[i].build()
		}
		ix.epochs = append(ix.epochs, e)
	}
	return ix
}

// geometryAt is the geometry of the version (vs sorted by ValidFrom) valid
// at t, nil before the first version.
func geometryAt(vs []BoundaryVersion, t time.Time) orb.MultiPolygon {
	i, found := slices.BinarySearchFunc(vs, t, func(v BoundaryVersion, t time.Time) int { return v.ValidFrom.Compare(t) })
	if found {
		return vs[i].Geometry
	}
	if i == 0 {
		return nil
	}
	return vs[i-1].Geometry
}

// AssignAt returns the units containing (lon, lat) by the boundaries valid
// at t (see NewVersionedIndex); without versions it is Assign.
func (ix *Index) AssignAt(lon, lat float64, t time.Time) Assignment {
	if len(ix.epochs) == 0 {
		return ix.Assign(lon, lat)
	}
	i, _ := slices.BinarySearchFunc(ix.epochs, t, func(e epoch, t time.Time) int {
		// the last epoch starting at or before t
		if e.from.After(t) {
			return 1
		}
		return -1
	})
	return ix.assign(&ix.epochs[max(i-1, 0)].levels, lon, lat)
}

// Versioned reports whether some boundary has more than one version.
func (ix *Index) Versioned() bool { return len(ix.epochs) > 0 }

// BoundaryChanges returns, by unit code, the sorted times from which a new
// version of the unit's boundary applies (the ValidFrom of every version
// but the first), for the units with more than one version.
func BoundaryChanges(versions []BoundaryVersion) map[string][]time.Time {
	out := make(map[string][]time.Time)
	for _, v := range versions {
		if !v.ValidFrom.IsZero() {
			out[v.Code] = append(out[v.Code], v.ValidFrom)
		}
	}
	for c, ts := range out {
		slices.SortFunc(ts, time.Time.Compare)
		out[c] = slices.CompactFunc(ts, time.Time.Equal)
	}
	return out
}

// ChangedWithin returns the latest of changes (sorted) strictly inside
// (from, to): a boundary change that splits the span, so counts before
// and after it are of different areas. It returns the zero time when none.
func ChangedWithin(changes []time.Time, from, to time.Time) time.Time {
	var out time.Time
	for _, c := range changes {
		if c.After(from) && c.Before(to) {
			out = c
		}
	}
	return out
}
