package tiles

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/simplify"
)

// maxLat is the latitude limit of Web Mercator.
const maxLat = 85.05112877980659

// mercator projects lon/lat to Web Mercator world fractions: x and y in
// 0..1, y growing south (tile order).
func mercator(lon, lat float64) (x, y float64) {
	lat = math.Max(-maxLat, math.Min(maxLat, lat))
	s := math.Sin(lat * math.Pi / 180)
	return lon/360 + 0.5, 0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)
}

// unmercator is the inverse of mercator.
func unmercator(x, y float64) (lon, lat float64) {
	return (x - 0.5) * 360, math.Atan(math.Sinh(math.Pi*(1-2*y))) * 180 / math.Pi
}

// tileFrame maps world fractions to the tile units of one tile.
type tileFrame struct {
	z, x, y int
	scale   float64 // tile units per world fraction: 2^z * Extent
}

func newFrame(z, x, y int) tileFrame {
	return tileFrame{z: z, x: x, y: y, scale: math.Ldexp(Extent, z)}
}

// local maps a world fraction to the tile's units (unrounded).
func (f tileFrame) local(wx, wy float64) orb.Point {
	return orb.Point{wx*f.scale - float64(f.x)*Extent, wy*f.scale - float64(f.y)*Extent}
}

// localLL maps lon/lat to the tile's units (unrounded).
func (f tileFrame) localLL(lon, lat float64) orb.Point {
	return f.local(mercator(lon, lat))
}

// owns reports whether a point in the tile's units (unrounded) lies in
// the tile, bounds half-open: every point belongs to exactly one tile.
func owns(p orb.Point) bool {
	return p[0] >= 0 && p[0] < Extent && p[1] >= 0 && p[1] < Extent
}

// lonLatBound is the tile's box in lon/lat, widened by margin degrees.
func (f tileFrame) lonLatBound(margin float64) orb.Bound {
	n := math.Ldexp(1, f.z)
	w, nth := unmercator(float64(f.x)/n, float64(f.y)/n)
	e, sth := unmercator(float64(f.x+1)/n, float64(f.y+1)/n)
	return orb.Bound{
		Min: orb.Point{math.Max(-180, w-margin), math.Max(-90, sth-margin)},
		Max: orb.Point{math.Min(180, e+margin), math.Min(90, nth+margin)},
	}
}

// worldBound is the tile's box in world fractions, widened by buffer tile
// units.
func (f tileFrame) worldBound(buffer float64) orb.Bound {
	return orb.Bound{
		Min: orb.Point{(float64(f.x)*Extent - buffer) / f.scale, (float64(f.y)*Extent - buffer) / f.scale},
		Max: orb.Point{(float64(f.x+1)*Extent + buffer) / f.scale, (float64(f.y+1)*Extent + buffer) / f.scale},
	}
}

// unitShape is one unit's boundary in some planar coordinates.
type unitShape struct {
	unit  *geo.Unit
	bound orb.Bound
	geom  orb.MultiPolygon
}

// levelShapes are the boundaries of one level, projected once to world
// fractions (base) and lazily per zoom up to DetailZoom (tile units of the
// zoom, simplified).
type levelShapes struct {
	units  []geo.Unit
	base   []unitShape
	extent orb.Bound // lon/lat; empty when no unit has a boundary
	has    bool
	zooms  [DetailZoom + 1]struct {
		once   sync.Once
		shapes []unitShape
	}
}

func newLevelShapes(units []geo.Unit) *levelShapes {
	ls := &levelShapes{units: units}
	for i := range units {
		u := &units[i]
		if len(u.Geometry) == 0 {
			continue
		}
		b := u.Geometry.Bound()
		if !ls.has {
			ls.extent, ls.has = b, true
		} else {
			ls.extent = ls.extent.Union(b)
		}
		mp := make(orb.MultiPolygon, 0, len(u.Geometry))
		for _, p := range u.Geometry {
			poly := make(orb.Polygon, 0, len(p))
			for _, r := range p {
				ring := make(orb.Ring, len(r))
				for j, pt := range r {
					ring[j][0], ring[j][1] = mercator(pt[0], pt[1])
				}
				poly = append(poly, ring)
			}
			mp = append(mp, poly)
		}
		ls.base = append(ls.base, unitShape{unit: u, bound: mp.Bound(), geom: mp})
	}
	return ls
}

// forZoom returns the shapes to draw at zoom z and the factor from their
// coordinates to tile units of the zoom.
func (ls *levelShapes) forZoom(z int) ([]unitShape, float64) {
	if z > DetailZoom {
		return ls.base, math.Ldexp(Extent, z)
	}
	c := &ls.zooms[z]
	c.once.Do(func() {
		scale := math.Ldexp(Extent, z)
		dp := simplify.DouglasPeucker(SimplifyTolerance)
		c.shapes = make([]unitShape, 0, len(ls.base))
		for _, s := range ls.base {
			var mp orb.MultiPolygon
			for _, p := range s.geom {
				var poly orb.Polygon
				for i, r := range p {
					ring := make(orb.Ring, len(r))
					for j, pt := range r {
						ring[j] = orb.Point{pt[0] * scale, pt[1] * scale}
					}
					if len(ring) > 4 {
						if sr, ok := dp.Simplify(ring).(orb.Ring); ok {
							ring = sr
						}
					}
					if len(ring) < 4 {
						if i == 0 {
							break // the exterior vanished: drop the polygon
						}
						continue
					}
					poly = append(poly, ring)
				}
				if len(poly) > 0 {
					mp = append(mp, poly)
				}
			}
			if len(mp) > 0 {
				c.shapes = append(c.shapes, unitShape{unit: s.unit, bound: mp.Bound(), geom: mp})
			}
		}
	})
	return c.shapes, 1
}

// geomSet holds the boundaries of one snapshot version, loaded lazily per
// level.
type geomSet struct {
	version uint64
	levels  [len(geo.Levels)]struct {
		mu     sync.Mutex
		shapes *levelShapes
	}
}

// level returns the shapes of lvl, loading them on first use (a failed
// load is retried by the next caller).
func (g *geomSet) level(ctx context.Context, lvl geo.Level, load Boundaries) (*levelShapes, error) {
	i := -1
	for j, l := range geo.Levels {
		if l == lvl {
			i = j
		}
	}
	if i < 0 {
		return nil, fmt.Errorf("boundaries: %w: %q", geo.ErrUnknownLevel, lvl)
	}
	e := &g.levels[i]
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shapes != nil {
		return e.shapes, nil
	}
	var units []geo.Unit
	if load != nil {
		var err error
		if units, err = load(ctx, lvl); err != nil {
			return nil, fmt.Errorf("load %s boundaries: %w", lvl, err)
		}
	}
	e.shapes = newLevelShapes(units)
	return e.shapes, nil
}

// tilePolygon converts a multipolygon in some coordinates (times scale
// gives tile units of the zoom) to the tile: translated, clipped to the
// tile plus buffer, rounded and cleaned (see cleanPolygons). It returns
// nil when nothing is left.
func tilePolygon(mp orb.MultiPolygon, scale float64, f tileFrame, buffer float64) orb.MultiPolygon {
	ox, oy := float64(f.x)*Extent, float64(f.y)*Extent
	local := make(orb.MultiPolygon, 0, len(mp))
	for _, p := range mp {
		poly := make(orb.Polygon, 0, len(p))
		for _, r := range p {
			ring := make(orb.Ring, len(r))
			for j, pt := range r {
				ring[j] = orb.Point{pt[0]*scale - ox, pt[1]*scale - oy}
			}
			poly = append(poly, ring)
		}
		local = append(local, poly)
	}
	box := orb.Bound{Min: orb.Point{-buffer, -buffer}, Max: orb.Point{Extent + buffer, Extent + buffer}}
	return cleanPolygons(clip.MultiPolygon(box, local))
}

// cleanPolygons rounds to integer tile units and makes the rings valid for
// MVT 2.1: no zero-length segments (consecutive duplicates dropped), no
// ring of zero area (dropped; a polygon whose exterior goes loses its
// holes too), exterior rings of positive area by the specification's
// formula (clockwise on screen) and holes of negative area.
func cleanPolygons(mp orb.MultiPolygon) orb.MultiPolygon {
	out := mp[:0]
	for _, p := range mp {
		var poly orb.Polygon
		for i, r := range p {
			ring := cleanRing(r)
			if ring == nil {
				if i == 0 {
					break
				}
				continue
			}
			a := ringArea(ring)
			if (i == 0) != (a > 0) {
				ring.Reverse()
			}
			poly = append(poly, ring)
		}
		if len(poly) > 0 {
			out = append(out, poly)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// cleanRing rounds r, drops repeated points and returns it closed, or nil
// when fewer than three distinct points or no area remain.
func cleanRing(r orb.Ring) orb.Ring {
	out := make(orb.Ring, 0, len(r)+1)
	for _, p := range r {
		q := orb.Point{math.Round(p[0]), math.Round(p[1])}
		if len(out) > 0 && out[len(out)-1] == q {
			continue
		}
		out = append(out, q)
	}
	for len(out) > 1 && out[len(out)-1] == out[0] {
		out = out[:len(out)-1]
	}
	if len(out) < 3 || ringArea(out) == 0 {
		return nil
	}
	return append(out, out[0])
}

// ringArea is the MVT specification's signed area of a ring (closed or
// not) in tile coordinates: positive for exterior rings, which are
// clockwise on screen (y down).
func ringArea(r orb.Ring) float64 {
	var s float64
	n := len(r)
	for i := range n {
		j := (i + 1) % n
		s += r[i][0]*r[j][1] - r[j][0]*r[i][1]
	}
	return s / 2
}

// clipBox clips tile-unit polygons to the tile plus buffer.
func clipBox(mp orb.MultiPolygon, buffer float64) orb.MultiPolygon {
	box := orb.Bound{Min: orb.Point{-buffer, -buffer}, Max: orb.Point{Extent + buffer, Extent + buffer}}
	return clip.MultiPolygon(box, mp)
}
