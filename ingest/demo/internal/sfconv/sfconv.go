// Package sfconv converts polygons between orb and simplefeatures, keeping
// only the areal parts of a simplefeatures result.
package sfconv

import (
	"fmt"

	"github.com/paulmach/orb"
	"github.com/peterstace/simplefeatures/geom"
)

// ToSF converts an orb multipolygon (closed rings) to a simplefeatures
// geometry without validating it.
func ToSF(mp orb.MultiPolygon) geom.Geometry {
	polys := make([]geom.Polygon, 0, len(mp))
	for _, p := range mp {
		rings := make([]geom.LineString, 0, len(p))
		for _, r := range p {
			flat := make([]float64, 0, 2*len(r)+2)
			for _, pt := range r {
				flat = append(flat, pt[0], pt[1])
			}
			if len(r) > 0 && r[0] != r[len(r)-1] {
				flat = append(flat, r[0][0], r[0][1])
			}
			rings = append(rings, geom.NewLineString(geom.NewSequence(flat, geom.DimXY)))
		}
		polys = append(polys, geom.NewPolygon(rings))
	}
	return geom.NewMultiPolygon(polys).AsGeometry()
}

// ToOrb returns the polygons of g (from a Polygon, MultiPolygon or a
// GeometryCollection holding them; points and lines are dropped).
func ToOrb(g geom.Geometry) (orb.MultiPolygon, error) {
	var out orb.MultiPolygon
	var walk func(g geom.Geometry) error
	walk = func(g geom.Geometry) error {
		switch g.Type() {
		case geom.TypePolygon:
			out = append(out, polygon(g.MustAsPolygon()))
		case geom.TypeMultiPolygon:
			mp := g.MustAsMultiPolygon()
			for i := range mp.NumPolygons() {
				out = append(out, polygon(mp.PolygonN(i)))
			}
		case geom.TypeGeometryCollection:
			gc := g.MustAsGeometryCollection()
			for i := range gc.NumGeometries() {
				if err := walk(gc.GeometryN(i)); err != nil {
					return err
				}
			}
		case geom.TypePoint, geom.TypeMultiPoint, geom.TypeLineString, geom.TypeMultiLineString:
			// degenerate parts of an overlay result
		default:
			return fmt.Errorf("sfconv: unexpected geometry type %s", g.Type())
		}
		return nil
	}
	if err := walk(g); err != nil {
		return nil, err
	}
	return out, nil
}

func polygon(p geom.Polygon) orb.Polygon {
	out := make(orb.Polygon, 0, p.NumRings())
	for _, ls := range p.DumpRings() {
		seq := ls.Coordinates()
		r := make(orb.Ring, seq.Length())
		for i := range r {
			xy := seq.GetXY(i)
			r[i] = orb.Point{xy.X, xy.Y}
		}
		out = append(out, r)
	}
	return out
}
