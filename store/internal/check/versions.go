package check

import (
	"slices"
	"time"

	"github.com/paulmach/orb"
)

// HistoryRow is a row of unit_boundary_history: the boundary a unit had
// until ValidUntil (exclusive), from the previous row's ValidUntil on (the
// first: from the beginning); nil Geometry: no boundary then.
type HistoryRow struct {
	ValidUntil time.Time
	Geometry   orb.MultiPolygon
}

// ApplyVersion returns a unit's history and current boundary after the
// boundary g becomes valid from d (non-zero): hist (sorted by ValidUntil)
// and cur are what the store holds (cur nil for a unit it lacks or that
// has no boundary). The boundary current from the last row's ValidUntil
// on is cur; a version starting at d replaces the one that starts exactly
// there, or splits the one that spans d. Both stores apply it in their
// PutBoundaryVersion transaction; changed reports whether anything differs.
func ApplyVersion(hist []HistoryRow, cur orb.MultiPolygon, d time.Time, g orb.MultiPolygon) (out []HistoryRow, newCur orb.MultiPolygon, changed bool) {
	out = slices.Clone(hist)
	var last time.Time // start of the current version; zero: the beginning
	if len(hist) > 0 {
		last = hist[len(hist)-1].ValidUntil
	}
	switch {
	case len(hist) == 0 || d.After(last):
		out = append(out, HistoryRow{ValidUntil: d, Geometry: cur})
		newCur = g
	case d.Equal(last):
		newCur = g
	default: // d inside an earlier version: row r spans [prev, r.ValidUntil)
		newCur = cur
		r, _ := slices.BinarySearchFunc(out, d, func(h HistoryRow, t time.Time) int {
			if h.ValidUntil.After(t) {
				return 1
			}
			return -1
		})
		var prev time.Time
		if r > 0 {
			prev = out[r-1].ValidUntil
		}
		if prev.Equal(d) {
			out[r].Geometry = g
		} else {
			out = slices.Insert(out, r, HistoryRow{ValidUntil: d, Geometry: out[r].Geometry})
			out[r+1].Geometry = g
		}
	}
	changed = !geomEqual(cur, newCur) || !HistoryEqual(hist, out)
	return out, newCur, changed
}

// HistoryEqual reports whether two histories are the same.
func HistoryEqual(a, b []HistoryRow) bool {
	return slices.EqualFunc(a, b, func(x, y HistoryRow) bool {
		return x.ValidUntil.Equal(y.ValidUntil) && geomEqual(x.Geometry, y.Geometry)
	})
}

func geomEqual(a, b orb.MultiPolygon) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	return a.Equal(b)
}

// Versions returns the versions of one unit (history sorted, cur its
// current boundary) as (ValidFrom, Geometry) pairs: the first from the
// beginning (zero time), each next from the previous row's ValidUntil,
// the current from the last row's. A leading version without boundary is
// left out (the unit had none before its first).
func Versions(hist []HistoryRow, cur orb.MultiPolygon, emit func(from time.Time, g orb.MultiPolygon)) {
	var from time.Time
	for _, h := range hist {
		if len(h.Geometry) > 0 || !from.IsZero() {
			emit(from, h.Geometry)
		}
		from = h.ValidUntil
	}
	emit(from, cur)
}
