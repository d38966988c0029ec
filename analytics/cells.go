package analytics

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/crimemap/crimemap/geo"
)

// H3 cells of the snapshot. H3's hierarchy is not geometric: the parent of
// a point's res-10 cell at res 8 is, for about 6.5% of points, not the
// res-8 cell that holds the point. Every H3 aggregate must count an event
// in geo.LatLngToCell(lat, lon, res) at each resolution, as h3-pg, DuckDB,
// BigQuery and kepler.gl do. The snapshot keeps, per event, the res-10
// cell (MaxHexbinRes) and, per coarser resolution, the rows whose cell is
// not the parent of their res-10 cell, with that cell (about 6.5% of rows
// per resolution, all in the parent's 1-ring): about 4 bytes per event on
// top of the res-10 column, instead of 8 per resolution.

// cellExceptions are the rows (ascending) whose cell at one resolution is
// not the parent of their res-10 cell, with their cell.
type cellExceptions struct {
	rows  []int32
	cells []uint64
}

// CellColumn reads the H3 cell at one resolution of every row: exactly
// geo.LatLngToCell of the event's stored coordinates (0 without location).
type CellColumn struct {
	base    []uint64 // res-10 cells
	exc     *cellExceptions
	and, or uint64 // parent at res of a res-10 cell: c&and | or
}

// CellsAt returns the cells at res (MinHexbinRes..MaxHexbinRes); other
// resolutions give a column of zeros.
func (s *Snapshot) CellsAt(res int) CellColumn {
	c := CellColumn{base: s.cell}
	if res < MinHexbinRes || res > MaxHexbinRes {
		c.base = nil
		return c
	}
	if res < MaxHexbinRes {
		c.exc = &s.cellExc[res-MinHexbinRes]
		c.and, c.or = geo.ParentMasks(MaxHexbinRes, res)
	}
	return c
}

// Reader returns a reader of the column for rows read in ascending order
// from row lo on.
func (c CellColumn) Reader(lo int) CellReader {
	r := CellReader{col: c}
	if c.exc != nil {
		k, _ := slices.BinarySearch(c.exc.rows, int32(lo))
		r.k = k
	}
	return r
}

// CellReader reads a CellColumn row by row; rows must be ascending.
type CellReader struct {
	col CellColumn
	k   int // next exception
}

// At returns the cell of row (0 without location).
func (r *CellReader) At(row int32) uint64 {
	if r.col.base == nil {
		return 0
	}
	c := r.col.base[row]
	if c == 0 || r.col.exc == nil {
		return c
	}
	e := r.col.exc
	for r.k < len(e.rows) && e.rows[r.k] < row {
		r.k++
	}
	if r.k < len(e.rows) && e.rows[r.k] == row {
		return e.cells[r.k]
	}
	return c&r.col.and | r.col.or
}

// The compact stored form of HexCells (the embedded store keeps it): the
// res-10 cell, and the coarser cells that are not its parents, 8 bytes
// each, little-endian, coarsest first; empty for about 70% of points. Each
// cell names its own resolution, so the exceptions need no tag.

// ErrCompactCells is wrapped by HexCells.SetCompact for malformed input.
var ErrCompactCells = errors.New("malformed compact H3 cells")

// AppendExceptions appends the compact exceptions of c to dst (none when
// c is not Known).
func (c *HexCells) AppendExceptions(dst []byte) []byte {
	r10 := c[len(c)-1]
	if r10 == 0 {
		return dst
	}
	for i, cell := range c[:len(c)-1] {
		if and, or := geo.ParentMasks(MaxHexbinRes, MinHexbinRes+i); cell != r10&and|or {
			dst = binary.LittleEndian.AppendUint64(dst, cell)
		}
	}
	return dst
}

// SetCompact sets c from the res-10 cell and the compact exceptions (0 and
// no exceptions: no location).
func (c *HexCells) SetCompact(r10 uint64, exc []byte) error {
	if r10 == 0 {
		if len(exc) != 0 {
			return fmt.Errorf("%w: exceptions without a res-10 cell", ErrCompactCells)
		}
		*c = HexCells{}
		return nil
	}
	if geo.CellResolution(r10) != MaxHexbinRes || len(exc)%8 != 0 {
		return fmt.Errorf("%w: res-10 cell %x, %d exception bytes", ErrCompactCells, r10, len(exc))
	}
	for i := range len(c) - 1 {
		c[i] = geo.CellParent(r10, MinHexbinRes+i)
	}
	c[len(c)-1] = r10
	for ; len(exc) > 0; exc = exc[8:] {
		cell := binary.LittleEndian.Uint64(exc)
		res := geo.CellResolution(cell)
		if res < MinHexbinRes || res >= MaxHexbinRes {
			return fmt.Errorf("%w: exception cell %x", ErrCompactCells, cell)
		}
		c[res-MinHexbinRes] = cell
	}
	return nil
}
