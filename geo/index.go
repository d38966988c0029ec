package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// Assignment names the units a point falls in; an empty code means the point
// is outside every unit of that level (unassigned, kept and counted).
type Assignment struct {
	Region, District, Mahalla string
}

// Index answers "which units contain this point" for many points. It is
// built once from the units and is safe for concurrent use (read-only).
//
// It is a uniform grid of unit bounding boxes per level, then an exact
// point-in-polygon test (orb/planar's, with ring bounds computed once, see
// contains.go) on the few candidates: for the ~10^3 to 10^4 units of a
// region this is a few hundred nanoseconds per point.
type Index struct {
	levels  [3]levelIndex
	epochs  []epoch // by start time, when boundaries have versions (NewVersionedIndex)
	parents map[string]string
	extent  orb.Bound
	empty   bool
}

type levelIndex struct {
	units  []indexedUnit
	bound  orb.Bound
	nx, ny int
	cells  [][]int32 // grid cell -> unit indexes
}

type indexedUnit struct {
	code  string
	bound orb.Bound
	polys []indexedPolygon
}

// NewIndex builds an index over units; units without geometry only
// contribute their parent links.
func NewIndex(units []Unit) *Index {
	ix := &Index{parents: make(map[string]string, len(units)), empty: true}
	for i := range units {
		u := &units[i]
		if u.ParentCode != "" {
			ix.parents[u.Code] = u.ParentCode
		}
		if len(u.Geometry) == 0 {
			continue
		}
		li := u.Level.Rank()
		if li < 0 {
			continue
		}
		b := u.Geometry.Bound()
		ix.levels[li].units = append(ix.levels[li].units, indexedUnit{code: u.Code, bound: b, polys: newIndexedPolygons(u.Geometry)})
		if ix.empty {
			ix.extent, ix.empty = b, false
		} else {
			ix.extent = ix.extent.Union(b)
		}
	}
	for i := range ix.levels {
		ix.levels[i].build()
	}
	return ix
}

func (li *levelIndex) build() {
	if len(li.units) == 0 {
		return
	}
	li.bound = li.units[0].bound
	for _, u := range li.units[1:] {
		li.bound = li.bound.Union(u.bound)
	}
	n := int(math.Ceil(math.Sqrt(float64(len(li.units))))) * 2
	li.nx, li.ny = n, n
	li.cells = make([][]int32, n*n)
	for i, u := range li.units {
		x0, y0 := li.cellOf(u.bound.Min)
		x1, y1 := li.cellOf(u.bound.Max)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				li.cells[y*li.nx+x] = append(li.cells[y*li.nx+x], int32(i))
			}
		}
	}
}

func (li *levelIndex) cellOf(p orb.Point) (int, int) {
	fx := (p[0] - li.bound.Min[0]) / (li.bound.Max[0] - li.bound.Min[0] + 1e-12)
	fy := (p[1] - li.bound.Min[1]) / (li.bound.Max[1] - li.bound.Min[1] + 1e-12)
	x := min(max(int(fx*float64(li.nx)), 0), li.nx-1)
	y := min(max(int(fy*float64(li.ny)), 0), li.ny-1)
	return x, y
}

func (li *levelIndex) find(p orb.Point) string {
	if len(li.units) == 0 || !li.bound.Contains(p) {
		return ""
	}
	x, y := li.cellOf(p)
	for _, i := range li.cells[y*li.nx+x] {
		u := &li.units[i]
		if u.bound.Contains(p) && polygonsContain(u.polys, p) {
			return u.code
		}
	}
	return ""
}

// Assign returns the units containing (lon, lat). The finest level found
// decides; its ancestors come from the parent codes, so a mahalla polygon
// that pokes over a district border still reports its own district.
func (ix *Index) Assign(lon, lat float64) Assignment {
	return ix.assign(&ix.levels, lon, lat)
}

func (ix *Index) assign(levels *[3]levelIndex, lon, lat float64) Assignment {
	p := orb.Point{lon, lat}
	var a Assignment
	if m := levels[2].find(p); m != "" {
		a.Mahalla = m
		a.District = ix.parents[m]
		a.Region = ix.parents[a.District]
		if a.District != "" && a.Region != "" {
			return a
		}
	}
	if a.District == "" {
		a.District = levels[1].find(p)
	}
	if a.District != "" && a.Region == "" {
		a.Region = ix.parents[a.District]
	}
	if a.Region == "" {
		a.Region = levels[0].find(p)
	}
	return a
}

// Empty reports whether the index holds no unit geometry.
func (ix *Index) Empty() bool { return ix.empty }

// Extent is the bounding box of every indexed unit.
func (ix *Index) Extent() orb.Bound { return ix.extent }

// Near reports whether (lon, lat) lies within marginKm of the extent of the
// indexed units. An empty index is near everything.
func (ix *Index) Near(lon, lat, marginKm float64) bool {
	if ix.empty {
		return true
	}
	dLat := marginKm / 111.32
	cos := math.Cos(lat * math.Pi / 180)
	dLon := marginKm / (111.32 * math.Max(cos, 0.01))
	b := ix.extent
	return lon >= b.Min[0]-dLon && lon <= b.Max[0]+dLon && lat >= b.Min[1]-dLat && lat <= b.Max[1]+dLat
}
