package demo

import (
	"math"
	"slices"
)

// vec is a point in the local planar frame (x = lon*cos(lat0), y = lat):
// both axes are in degrees of latitude, about 111.32 km.
type vec struct{ X, Y float64 }

func (a vec) sub(b vec) vec       { return vec{a.X - b.X, a.Y - b.Y} }
func (a vec) dot(b vec) float64   { return a.X*b.X + a.Y*b.Y }
func (a vec) dist2(b vec) float64 { d := a.sub(b); return d.dot(d) }

// voronoiCells returns the Voronoi cell of every site clipped to the convex,
// counter-clockwise polygon box (open ring: the first vertex is not
// repeated). Each cell is the intersection of box with the half-planes
// closer to the site than to every other site, computed by clipping box with
// the perpendicular bisectors in order of distance and stopping once the
// remaining sites are too far to cut the cell. Sites must be distinct. It is
// O(n^2 log n), meant for the < 1000 sites of a district.
func voronoiCells(sites []vec, box []vec) [][]vec {
	cells := make([][]vec, len(sites))
	order := make([]int, 0, len(sites))
	for i, s := range sites {
		order = order[:0]
		for j := range sites {
			if j != i {
				order = append(order, j)
			}
		}
		slices.SortFunc(order, func(a, b int) int {
			da, db := s.dist2(sites[a]), s.dist2(sites[b])
			switch {
			case da < db:
				return -1
			case da > db:
				return 1
			}
			return a - b
		})
		cell := slices.Clone(box)
		for _, j := range order {
			if len(cell) < 3 {
				break
			}
			// Every point of the cell is within sqrt(r2) of s; the bisector
			// lies at distance d/2, so farther sites cannot cut it.
			r2 := 0.0
			for _, p := range cell {
				r2 = math.Max(r2, s.dist2(p))
			}
			if s.dist2(sites[j])/4 >= r2 {
				break
			}
			cell = clipHalfPlane(cell, s, sites[j])
		}
		cells[i] = cell
	}
	return cells
}

// clipHalfPlane keeps the part of the convex polygon poly that is at least
// as close to a as to b (Sutherland-Hodgman with one edge).
func clipHalfPlane(poly []vec, a, b vec) []vec {
	n := b.sub(a)
	m := vec{(a.X + b.X) / 2, (a.Y + b.Y) / 2}
	side := func(p vec) float64 { return p.sub(m).dot(n) } // <= 0 keeps
	out := make([]vec, 0, len(poly)+1)
	for i, p := range poly {
		q := poly[(i+1)%len(poly)]
		sp, sq := side(p), side(q)
		if sp <= 0 {
			out = append(out, p)
		}
		if (sp < 0 && sq > 0) || (sp > 0 && sq < 0) {
			t := sp / (sp - sq)
			out = append(out, vec{p.X + t*(q.X-p.X), p.Y + t*(q.Y-p.Y)})
		}
	}
	return out
}

// polygonArea is the signed area of an open ring (positive when CCW).
func polygonArea(r []vec) float64 {
	a := 0.0
	for i, p := range r {
		q := r[(i+1)%len(r)]
		a += p.X*q.Y - q.X*p.Y
	}
	return a / 2
}

// convexContains reports whether p is inside or on the convex CCW ring r.
func convexContains(r []vec, p vec) bool {
	for i, a := range r {
		b := r[(i+1)%len(r)]
		if (b.X-a.X)*(p.Y-a.Y)-(b.Y-a.Y)*(p.X-a.X) < -1e-12 {
			return false
		}
	}
	return len(r) >= 3
}
