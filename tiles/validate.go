package tiles

import (
	"errors"
	"fmt"

	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/encoding/mvt/vectortile"
)

// ErrInvalidTile is wrapped by every error of Validate.
var ErrInvalidTile = errors.New("invalid vector tile")

// MVT geometry commands.
const (
	cmdMoveTo    = 1
	cmdLineTo    = 2
	cmdClosePath = 7
)

// Validate decodes an (uncompressed) MVT with orb/encoding/mvt, both into
// features and into its raw protobuf messages, and checks what crimemap
// promises of its tiles beyond decodability (MVT 2.1):
//
//   - every layer: version 2, extent 4096, a non-empty name that no other
//     layer has, at least one feature; tags in key/value pairs pointing at
//     existing keys and values;
//   - every feature: a known geometry type (point, line or polygon) whose
//     command stream is complete (MoveTo/LineTo counts, parameters present);
//   - points: one MoveTo; lines: MoveTo 1 then LineTo >= 1, no ClosePath;
//   - polygons: rings of MoveTo 1, LineTo >= 2, ClosePath 1; no zero-length
//     segment (the closing one included); no ring of zero area; the first
//     ring exterior, i.e. of positive area by the specification's formula
//     (sum of x_i*y_(i+1) - x_(i+1)*y_i over the ring, halved; clockwise on
//     screen with y down); negative rings are holes of the exterior before
//     them and must lie within its bounding box.
//
// Errors wrap ErrInvalidTile and name the layer, feature and ring.
func Validate(tile []byte) error {
	if _, err := Decode(tile); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidTile, err)
	}
	var vt vectortile.Tile
	if err := vt.XXX_Unmarshal(tile); err != nil {
		return fmt.Errorf("%w: protobuf: %w", ErrInvalidTile, err)
	}
	names := map[string]bool{}
	for li, l := range vt.Layers {
		name := l.GetName()
		where := fmt.Sprintf("layer %d %q", li, name)
		switch {
		case name == "":
			return fmt.Errorf("%w: %s: no name", ErrInvalidTile, where)
		case names[name]:
			return fmt.Errorf("%w: %s: duplicate layer name", ErrInvalidTile, where)
		case l.GetVersion() != 2:
			return fmt.Errorf("%w: %s: version %d, want 2", ErrInvalidTile, where, l.GetVersion())
		case l.GetExtent() != Extent:
			return fmt.Errorf("%w: %s: extent %d, want %d", ErrInvalidTile, where, l.GetExtent(), Extent)
		case len(l.Features) == 0:
			return fmt.Errorf("%w: %s: no features", ErrInvalidTile, where)
		}
		names[name] = true
		for _, v := range l.Values {
			if v == nil || (v.StringValue == nil && v.FloatValue == nil && v.DoubleValue == nil && v.IntValue == nil &&
				v.UintValue == nil && v.SintValue == nil && v.BoolValue == nil) {
				return fmt.Errorf("%w: %s: a value without a type", ErrInvalidTile, where)
			}
		}
		for fi, f := range l.Features {
			fw := fmt.Sprintf("%s feature %d", where, fi)
			if len(f.Tags)%2 != 0 {
				return fmt.Errorf("%w: %s: odd number of tags", ErrInvalidTile, fw)
			}
			for i := 0; i < len(f.Tags); i += 2 {
				if int(f.Tags[i]) >= len(l.Keys) || int(f.Tags[i+1]) >= len(l.Values) {
					return fmt.Errorf("%w: %s: tag %d points past the keys or values", ErrInvalidTile, fw, i/2)
				}
			}
			if err := checkGeometry(f.GetType(), f.Geometry); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrInvalidTile, fw, err)
			}
		}
	}
	return nil
}

// Decode decodes an uncompressed MVT with orb's decoder (mvt.Unmarshal),
// turning its panics into errors: orb v0.14.0 dereferences a nil iterator
// on a feature without a geometry field (mvt-fixtures 004).
func Decode(tile []byte) (layers mvt.Layers, err error) {
	defer func() {
		if v := recover(); v != nil {
			layers, err = nil, fmt.Errorf("orb decoder panicked: %v", v)
		}
	}()
	if layers, err = mvt.Unmarshal(tile); err != nil {
		return nil, fmt.Errorf("orb decoder: %w", err)
	}
	return layers, nil
}

// geomReader walks a geometry command stream.
type geomReader struct {
	g    []uint32
	i    int
	x, y int64
}

func (r *geomReader) done() bool { return r.i >= len(r.g) }

func (r *geomReader) command() (cmd, count uint32, err error) {
	if r.done() {
		return 0, 0, errors.New("geometry ends early")
	}
	v := r.g[r.i]
	r.i++
	cmd, count = v&7, v>>3
	if cmd != cmdClosePath && r.i+2*int(count) > len(r.g) {
		return 0, 0, fmt.Errorf("command %d count %d: only %d parameters left", cmd, count, len(r.g)-r.i)
	}
	return cmd, count, nil
}

func (r *geomReader) point() [2]int64 {
	dx, dy := r.g[r.i], r.g[r.i+1]
	r.i += 2
	r.x += int64(int32(dx>>1) ^ -int32(dx&1))
	r.y += int64(int32(dy>>1) ^ -int32(dy&1))
	return [2]int64{r.x, r.y}
}

// checkGeometry validates one feature's commands for its type.
func checkGeometry(t vectortile.Tile_GeomType, g []uint32) error {
	r := &geomReader{g: g}
	if len(g) == 0 {
		return errors.New("no geometry")
	}
	switch t {
	case vectortile.Tile_POINT:
		cmd, n, err := r.command()
		if err != nil {
			return err
		}
		if cmd != cmdMoveTo || n == 0 {
			return fmt.Errorf("point: command %d count %d, want MoveTo >= 1", cmd, n)
		}
		for range n {
			r.point()
		}
		if !r.done() {
			return errors.New("point: commands after the MoveTo")
		}
	case vectortile.Tile_LINESTRING:
		for !r.done() {
			cmd, n, err := r.command()
			if err != nil {
				return err
			}
			if cmd != cmdMoveTo || n != 1 {
				return fmt.Errorf("line: command %d count %d, want MoveTo 1", cmd, n)
			}
			prev := r.point()
			if cmd, n, err = r.command(); err != nil {
				return err
			}
			if cmd != cmdLineTo || n == 0 {
				return fmt.Errorf("line: command %d count %d, want LineTo >= 1", cmd, n)
			}
			for range n {
				p := r.point()
				if p == prev {
					return fmt.Errorf("line: zero-length segment at %v", p)
				}
				prev = p
			}
		}
	case vectortile.Tile_POLYGON:
		var ext [4]int64 // bbox of the current exterior
		for ring := 0; !r.done(); ring++ {
			pts, err := readRing(r)
			if err != nil {
				return fmt.Errorf("ring %d: %w", ring, err)
			}
			a := area2(pts)
			switch {
			case a == 0:
				return fmt.Errorf("ring %d: zero area", ring)
			case ring == 0 && a < 0:
				return fmt.Errorf("ring 0: negative area %g: the first ring must be an exterior (positive area, clockwise on screen)", float64(a)/2)
			case a > 0:
				ext = bbox(pts)
			default:
				b := bbox(pts)
				if b[0] < ext[0] || b[1] < ext[1] || b[2] > ext[2] || b[3] > ext[3] {
					return fmt.Errorf("ring %d: hole outside the box of its exterior", ring)
				}
			}
		}
	default:
		return fmt.Errorf("geometry type %v", t)
	}
	return nil
}

// readRing reads MoveTo 1, LineTo >= 2, ClosePath 1 and returns the ring's
// points (open), refusing zero-length segments.
func readRing(r *geomReader) ([][2]int64, error) {
	cmd, n, err := r.command()
	if err != nil {
		return nil, err
	}
	if cmd != cmdMoveTo || n != 1 {
		return nil, fmt.Errorf("command %d count %d, want MoveTo 1", cmd, n)
	}
	pts := [][2]int64{r.point()}
	if cmd, n, err = r.command(); err != nil {
		return nil, err
	}
	if cmd != cmdLineTo || n < 2 {
		return nil, fmt.Errorf("command %d count %d, want LineTo >= 2", cmd, n)
	}
	for range n {
		p := r.point()
		if p == pts[len(pts)-1] {
			return nil, fmt.Errorf("zero-length segment at %v", p)
		}
		pts = append(pts, p)
	}
	if pts[len(pts)-1] == pts[0] {
		return nil, fmt.Errorf("zero-length closing segment at %v", pts[0])
	}
	if cmd, n, err = r.command(); err != nil {
		return nil, err
	}
	if cmd != cmdClosePath || n != 1 {
		return nil, fmt.Errorf("command %d count %d, want ClosePath 1", cmd, n)
	}
	return pts, nil
}

// area2 is twice the specification's signed ring area (exact in integers).
func area2(pts [][2]int64) int64 {
	var s int64
	for i := range pts {
		j := (i + 1) % len(pts)
		s += pts[i][0]*pts[j][1] - pts[j][0]*pts[i][1]
	}
	return s
}

func bbox(pts [][2]int64) [4]int64 {
	b := [4]int64{pts[0][0], pts[0][1], pts[0][0], pts[0][1]}
	for _, p := range pts[1:] {
		b[0], b[1] = min(b[0], p[0]), min(b[1], p[1])
		b[2], b[3] = max(b[2], p[0]), max(b[3], p[1])
	}
	return b
}
