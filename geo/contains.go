package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// Point-in-polygon for the unit index, with every ring's bounding box
// computed once. orb/planar's RingContains recomputes the ring's bound on
// each call, which cost twice the ray test itself in ingest profiles (a
// mahalla ring has hundreds of points). The ray test and its boundary rule
// (a point on the boundary is inside) are orb's, copied below; the tests
// check the two agree on random, vertex and edge points.

// indexedPolygon is a polygon with the bounds of its rings.
type indexedPolygon struct {
	rings  []orb.Ring
	bounds []orb.Bound
}

func newIndexedPolygons(mp orb.MultiPolygon) []indexedPolygon {
	out := make([]indexedPolygon, 0, len(mp))
	for _, p := range mp {
		if len(p) == 0 || len(p[0]) == 0 {
			continue
		}
		ip := indexedPolygon{rings: p, bounds: make([]orb.Bound, len(p))}
		for i, r := range p {
			ip.bounds[i] = r.Bound()
		}
		out = append(out, ip)
	}
	return out
}

// polygonsContain is planar.MultiPolygonContains.
func polygonsContain(ps []indexedPolygon, p orb.Point) bool {
	for i := range ps {
		if ps[i].contains(p) {
			return true
		}
	}
	return false
}

// contains is planar.PolygonContains: in the outer ring, in no hole.
func (ip *indexedPolygon) contains(p orb.Point) bool {
	if !ringContains(ip.rings[0], ip.bounds[0], p) {
		return false
	}
	for i := 1; i < len(ip.rings); i++ {
		if ringContains(ip.rings[i], ip.bounds[i], p) {
			return false
		}
	}
	return true
}

// ringContains is planar.RingContains for the ring r with bound b.
func ringContains(r orb.Ring, b orb.Bound, p orb.Point) bool {
	if len(r) == 0 || !b.Contains(p) {
		return false
	}
	c, on := rayIntersect(p, r[0], r[len(r)-1])
	if on {
		return true
	}
	for i := 0; i < len(r)-1; i++ {
		inter, on := rayIntersect(p, r[i], r[i+1])
		if on {
			return true
		}
		if inter {
			c = !c
		}
	}
	return c
}

// rayIntersect is orb/planar.s
// (MIT License, Copyright (c) 2017 Paul Mach; originally
// http://rosettacode.org/wiki/Ray-casting_algorithm#Go): whether the
// horizontal ray from p crosses the segment s-e, and whether p is on it.
func rayIntersect(p, s, e orb.Point) (intersects, on bool) {
	if s[0] > e[0] {
		s, e = e, s
	}
	switch p[0] {
	case s[0]:
		if p[1] == s[1] {
			return false, true // p is the start
		} else if s[0] == e[0] {
			// vertical segment: on it when between its ends
			if s[1] > e[1] && s[1] >= p[1] && p[1] >= e[1] {
				return false, true
			}
			if e[1] > s[1] && e[1] >= p[1] && p[1] >= s[1] {
				return false, true
			}
		}
		p[0] = math.Nextafter(p[0], math.Inf(1)) // the degenerate case
	case e[0]:
		if p[1] == e[1] {
			return false, true // p is the end
		}
		p[0] = math.Nextafter(p[0], math.Inf(1))
	}
	if p[0] < s[0] || p[0] > e[0] {
		return false, false
	}
	if s[1] > e[1] {
		if p[1] > s[1] {
			return false, false
		} else if p[1] < e[1] {
			return true, false
		}
	} else {
		if p[1] > e[1] {
			return false, false
		} else if p[1] < s[1] {
			return true, false
		}
	}
	rs := (p[1] - s[1]) / (p[0] - s[0])
	ds := (e[1] - s[1]) / (e[0] - s[0])
	if rs == ds {
		return false, true
	}
	return rs <= ds, false
}
