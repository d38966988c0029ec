package geo

import (
	"errors"
	"fmt"
	"slices"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// EventResolution is the H3 resolution stored with every event; coarser
// cells are derived from it with CellParent (pure bit operations).
const EventResolution = 15

// H3 index layout (see https://h3geo.org/docs/core-library/h3Indexing):
// bit 63 reserved, 59-62 mode, 56-58 reserved, 52-55 resolution,
// 45-51 base cell, then 15 groups of 3 bits, digit 1 at bits 42-44.
const (
	h3ResOffset = 52
	h3ResMask   = uint64(0xF) << h3ResOffset
	h3DigitBits = 3
	h3MaxRes    = 15
)

// ErrResolution is returned for an H3 resolution outside 0..15.
var ErrResolution = errors.New("H3 resolution must be 0..15")

// LatLngToCell returns the H3 cell of the point at resolution res. It is
// the pure-Go LatLngToCellGo (no cgo call; tested identical to h3-go's
// LatLngToCell), so ingest pays no cgo call per event.
func LatLngToCell(lat, lon float64, res int) (uint64, error) {
	return LatLngToCellGo(lat, lon, res)
}

// CellResolution returns the resolution encoded in an H3 cell index.
func CellResolution(cell uint64) int {
	return int((cell & h3ResMask) >> h3ResOffset)
}

// CellParent returns the parent of cell at resolution res (res <= the cell's
// resolution) by bit operations: set the resolution field and fill the
// digits finer than res with 7 (unused). It equals h3.Cell.Parent for valid
// cells and costs a few nanoseconds, no cgo call.
func CellParent(cell uint64, res int) uint64 {
	cres := CellResolution(cell)
	if res < 0 || res > cres {
		return 0
	}
	and, or := ParentMasks(cres, res)
	return cell&and | or
}

// ParentMasks returns and, or such that c&and | or is CellParent(c, res)
// for every valid cell c of resolution from (from >= res): the masks of a
// loop over many cells of one resolution, computed once.
func ParentMasks(from, res int) (and, or uint64) {
	and, or = ^h3ResMask, uint64(res)<<h3ResOffset
	for r := res + 1; r <= from; r++ {
		or |= uint64(7) << ((h3MaxRes - r) * h3DigitBits)
	}
	return and, or
}

// CellToLatLng returns the centre of the cell as (lat, lon).
func CellToLatLng(cell uint64) (lat, lon float64) {
	ll := h3.Cell(cell).LatLng()
	return ll.Lat, ll.Lng
}

// CellBoundary returns the cell's boundary as a closed ring (lon/lat),
// counter-clockwise as GeoJSON wants.
func CellBoundary(cell uint64) orb.Ring {
	b := h3.Cell(cell).Boundary()
	ring := make(orb.Ring, 0, len(b)+1)
	for _, ll := range b {
		ring = append(ring, orb.Point{ll.Lng, ll.Lat})
	}
	if len(ring) > 0 {
		ring = append(ring, ring[0])
	}
	if ring.Orientation() == orb.CW {
		ring.Reverse()
	}
	return ring
}

// PolygonToCells returns the sorted, distinct H3 cells at res whose centres
// lie inside mp (holes excluded), as H3's polygonToCells defines them.
// It depends only on the geometry, never on data: disclosure control uses
// it for the fixed set of public cells of an area.
func PolygonToCells(mp orb.MultiPolygon, res int) ([]uint64, error) {
	if res < 0 || res > h3MaxRes {
		return nil, fmt.Errorf("h3 resolution %d: %w", res, ErrResolution)
	}
	var cells []uint64
	for _, p := range mp {
		if len(p) == 0 || len(p[0]) < 4 {
			continue
		}
		gp := h3.GeoPolygon{GeoLoop: h3Loop(p[0])}
		for _, hole := range p[1:] {
			if len(hole) >= 4 {
				gp.Holes = append(gp.Holes, h3Loop(hole))
			}
		}
		for _, c := range h3.PolygonToCells(gp, res) {
			if c != 0 {
				cells = append(cells, uint64(c))
			}
		}
	}
	slices.Sort(cells)
	return slices.Compact(cells), nil
}

// h3Loop converts a closed lon/lat ring to an h3 loop (lat/lng, open).
func h3Loop(r orb.Ring) h3.GeoLoop {
	if len(r) > 1 && r[0] == r[len(r)-1] {
		r = r[:len(r)-1]
	}
	loop := make(h3.GeoLoop, len(r))
	for i, p := range r {
		loop[i] = h3.LatLng{Lat: p[1], Lng: p[0]}
	}
	return loop
}
