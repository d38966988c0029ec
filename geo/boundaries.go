package geo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// Errors of ReadBoundaries; each is wrapped with the feature index (0-based,
// as in jq's .features[i]), the unit code when known and the offending value.
var (
	ErrNotFeatureCollection = errors.New("not a GeoJSON FeatureCollection")
	ErrProjected            = errors.New("coordinates are not lon/lat in EPSG:4326 (projected? reproject to EPSG:4326 first)")
	ErrMissingCode          = errors.New("missing unit code")
	ErrDuplicateCode        = errors.New("duplicate unit code")
	ErrUnknownField         = errors.New("unknown boundary field")
	ErrBadProperty          = errors.New("bad property value")
	ErrBadGeometry          = errors.New("bad geometry")
	// ErrEmptyFile: the input holds nothing but white space.
	ErrEmptyFile = errors.New("empty file (want a GeoJSON FeatureCollection)")
	// ErrNotBoundaries: the features are points (events?), not areas; it
	// is also an ErrBadGeometry.
	ErrNotBoundaries error = notBoundaries{}
)

type notBoundaries struct{}

func (notBoundaries) Error() string        { return "holds points (events?), not boundaries" }
func (notBoundaries) Is(target error) bool { return target == ErrBadGeometry }

// Boundary target fields accepted as keys of BoundaryOptions.Fields.
const (
	FieldCode           = "code"
	FieldParentCode     = "parent_code"
	FieldPopulation     = "population"
	FieldPopulationYear = "population_year"
)

// BoundaryFields lists every target field of a boundary import. name_<tag>
// fills Unit.Names[tag]; name_uz_cyrl is accepted for name_uz-Cyrl.
var BoundaryFields = [...]string{
	FieldCode, FieldParentCode,
	"name_uz", "name_uz-Cyrl", "name_ru", "name_kk", "name_ky", "name_en",
	FieldPopulation, FieldPopulationYear,
}

// BoundaryOptions configures ReadBoundaries.
type BoundaryOptions struct {
	// Level of every unit in the file (required).
	Level Level
	// Fields maps a target field (see BoundaryFields) to the name of the
	// feature property holding it, e.g. {"code": "mahalla_id", "name_uz":
	// "mahalla_nomi"}. A target without a mapping is read from the property
	// of its own name when present.
	Fields map[string]string
}

// RepairKind names one kind of repair done on a boundary feature.
type RepairKind string

// The repairs ReadBoundaries performs and reports.
const (
	// RepairUnwrapped: a GeometryCollection was replaced by the
	// (multi)polygons it wraps.
	RepairUnwrapped RepairKind = "unwrapped_geometry_collection"
	// RepairDroppedMember: a non-areal member of a GeometryCollection
	// (point, line) was dropped.
	RepairDroppedMember RepairKind = "dropped_non_polygon_member"
	// RepairPromoted: a Polygon became a one-part MultiPolygon.
	RepairPromoted RepairKind = "polygon_to_multipolygon"
	// RepairClosedRing: a ring whose last point differed from its first
	// was closed.
	RepairClosedRing RepairKind = "closed_ring"
	// RepairDuplicatePoints: consecutive duplicate points were removed.
	RepairDuplicatePoints RepairKind = "removed_duplicate_points"
	// RepairDroppedRing: a ring with fewer than 3 distinct points was
	// dropped (with its holes when it was an exterior ring).
	RepairDroppedRing RepairKind = "dropped_degenerate_ring"
	// RepairMadeValid: an invalid geometry (self-intersection, overlapping
	// or nested parts, ...) was rebuilt by the even-odd rule over its noded
	// rings, the semantics of PostGIS ST_MakeValid (method=linework).
	RepairMadeValid RepairKind = "made_valid"
	// RepairEmpty: the feature has no usable geometry; the unit is kept
	// with a nil Geometry.
	RepairEmpty RepairKind = "empty_geometry"
)

// Repair is one repair done on one feature.
type Repair struct {
	Feature int    // 0-based index in the FeatureCollection
	Code    string // unit code
	Kind    RepairKind
	Detail  string
}

func (r Repair) String() string {
	return fmt.Sprintf("feature %d (code %s): %s: %s", r.Feature, r.Code, r.Kind, r.Detail)
}

// BoundaryReport tells what ReadBoundaries found and repaired.
type BoundaryReport struct {
	Features int      // features read
	Repairs  []Repair // in feature order
}

// Count returns how many repairs of kind k were made.
func (r *BoundaryReport) Count(k RepairKind) int {
	n := 0
	for _, rp := range r.Repairs {
		if rp.Kind == k {
			n++
		}
	}
	return n
}

// Features returns the indexes of the features with a repair of kind k.
func (r *BoundaryReport) FeaturesWith(k RepairKind) []int {
	var out []int
	for _, rp := range r.Repairs {
		if rp.Kind == k && (len(out) == 0 || out[len(out)-1] != rp.Feature) {
			out = append(out, rp.Feature)
		}
	}
	return out
}

type rawGeometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
	Geometries  []*rawGeometry  `json:"geometries"`
}

type rawFeature struct {
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
	Geometry   *rawGeometry   `json:"geometry"`
}

type rawCRS struct {
	Type       string `json:"type"`
	Properties struct {
		Name string `json:"name"`
	} `json:"properties"`
}

type rawFeatureCollection struct {
	Type     string       `json:"type"`
	CRS      *rawCRS      `json:"crs"`
	Features []rawFeature `json:"features"`
}

// ReadBoundaries reads a GeoJSON FeatureCollection of admin units of one
// level. It repairs what real files bring (see RepairKind) and reports
// every repair; the returned geometries are valid (OGC simple features) with
// exterior rings counter-clockwise. It refuses, with an error naming the
// feature, projected coordinates, a crs other than EPSG:4326/CRS84,
// missing or duplicate codes and non-areal geometries.
func ReadBoundaries(ctx context.Context, r io.Reader, opts BoundaryOptions) ([]Unit, BoundaryReport, error) {
	var rep BoundaryReport
	if _, err := ParseLevel(string(opts.Level)); err != nil {
		return nil, rep, err
	}
	fields, err := boundaryFieldMap(opts.Fields)
	if err != nil {
		return nil, rep, err
	}
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var fc rawFeatureCollection
	if err := dec.Decode(&fc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, rep, ErrEmptyFile
		}
		return nil, rep, fmt.Errorf("decoding GeoJSON: %w: %w", ErrNotFeatureCollection, err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, rep, fmt.Errorf("type %q: %w", fc.Type, ErrNotFeatureCollection)
	}
	if fc.CRS != nil && !isLonLatCRS(fc.CRS.Properties.Name) {
		return nil, rep, fmt.Errorf("crs %q: %w", fc.CRS.Properties.Name, ErrProjected)
	}
	rep.Features = len(fc.Features)
	if len(fc.Features) > 0 {
		if g := fc.Features[0].Geometry; g != nil {
			switch g.Type {
			case "Point", "MultiPoint":
				return nil, rep, fmt.Errorf("%w (feature 0 is a %s)", ErrNotBoundaries, g.Type)
			}
		}
	}
	units := make([]Unit, 0, len(fc.Features))
	seen := make(map[string]int, len(fc.Features))
	for i := range fc.Features {
		if err := ctx.Err(); err != nil {
			return nil, rep, err
		}
		u, err := featureUnit(i, &fc.Features[i], opts.Level, fields)
		if err != nil {
			return nil, rep, err
		}
		if j, dup := seen[u.Code]; dup {
			return nil, rep, fmt.Errorf("feature %d: code %q also at feature %d: %w", i, u.Code, j, ErrDuplicateCode)
		}
		seen[u.Code] = i
		mp, repairs, err := cleanGeometry(fc.Features[i].Geometry)
		for k := range repairs {
			repairs[k].Feature, repairs[k].Code = i, u.Code
		}
		rep.Repairs = append(rep.Repairs, repairs...)
		if err != nil {
			return nil, rep, fmt.Errorf("feature %d (code %s): %w", i, u.Code, err)
		}
		u.Geometry = mp
		units = append(units, u)
	}
	return units, rep, nil
}

func isLonLatCRS(name string) bool {
	n := strings.ToUpper(name)
	switch {
	case strings.HasSuffix(n, "CRS84"), strings.HasSuffix(n, "CRS:84"),
		strings.HasSuffix(n, "EPSG:4326"), strings.HasSuffix(n, "EPSG::4326"),
		strings.HasSuffix(n, "EPSG/0/4326"):
		return true
	}
	return false
}

// boundaryFieldMap returns target -> property with defaults filled in.
func boundaryFieldMap(m map[string]string) (map[string][]string, error) {
	out := make(map[string][]string, len(BoundaryFields))
	for _, f := range BoundaryFields {
		out[f] = []string{f}
	}
	out["name_uz-Cyrl"] = []string{"name_uz-Cyrl", "name_uz_cyrl"}
	for k, v := range m {
		if k == "name_uz_cyrl" {
			k = "name_uz-Cyrl"
		}
		if _, ok := out[k]; !ok {
			return nil, fmt.Errorf("%q (want one of %s): %w", k, strings.Join(BoundaryFields[:], ", "), ErrUnknownField)
		}
		out[k] = []string{v}
	}
	return out, nil
}

func featureUnit(i int, f *rawFeature, level Level, fields map[string][]string) (Unit, error) {
	u := Unit{Level: level}
	get := func(target string) (string, error) {
		for _, p := range fields[target] {
			v, ok := f.Properties[p]
			if !ok {
				continue
			}
			s, err := propString(v)
			if err != nil {
				return "", fmt.Errorf("feature %d: property %q (%s): %w", i, p, target, err)
			}
			return s, nil
		}
		return "", nil
	}
	var err error
	if u.Code, err = get(FieldCode); err != nil {
		return u, err
	}
	if u.Code == "" {
		return u, fmt.Errorf("feature %d: property %q is missing or empty: %w", i, fields[FieldCode][0], ErrMissingCode)
	}
	if u.ParentCode, err = get(FieldParentCode); err != nil {
		return u, err
	}
	for _, lang := range Languages {
		n, err := get("name_" + lang)
		if err != nil {
			return u, err
		}
		if n != "" {
			if u.Names == nil {
				u.Names = make(map[string]string, 2)
			}
			u.Names[lang] = n
		}
	}
	pop, err := get(FieldPopulation)
	if err != nil {
		return u, err
	}
	if u.Population, err = parseCount(pop); err != nil {
		return u, fmt.Errorf("feature %d (code %s): population %q: %w", i, u.Code, pop, err)
	}
	year, err := get(FieldPopulationYear)
	if err != nil {
		return u, err
	}
	y, err := parseCount(year)
	if err != nil || (y != 0 && (y < 1800 || y > 2200)) {
		return u, fmt.Errorf("feature %d (code %s): population_year %q: %w", i, u.Code, year, ErrBadProperty)
	}
	u.PopulationYear = int(y)
	return u, nil
}

// propString renders a scalar JSON property as text; integral numbers lose
// a trailing ".0" (1727256.0 -> "1727256").
func propString(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(x), nil
	case json.Number:
		s := x.String()
		if f, err := x.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1e15 {
			return strconv.FormatInt(int64(f), 10), nil
		}
		return s, nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("not a scalar (%T): %w", v, ErrBadProperty)
}

func parseCount(s string) (int64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || f > 1e12 || f != math.Trunc(f) {
		return 0, fmt.Errorf("not a non-negative whole number: %w", ErrBadProperty)
	}
	return int64(f), nil
}

// cleanGeometry turns a raw geometry into a valid MultiPolygon (nil for an
// empty geometry) and lists what it did. Feature and Code of the repairs are
// filled in by the caller.
func cleanGeometry(g *rawGeometry) (orb.MultiPolygon, []Repair, error) {
	var reps []Repair
	add := func(k RepairKind, format string, args ...any) {
		reps = append(reps, Repair{Kind: k, Detail: fmt.Sprintf(format, args...)})
	}
	if g == nil {
		add(RepairEmpty, "null geometry")
		return nil, reps, nil
	}
	var polys [][][][]float64
	switch g.Type {
	case "GeometryCollection":
		var err error
		polys, err = unwrapCollection(g, add)
		if err != nil {
			return nil, reps, err
		}
	case "Polygon", "MultiPolygon":
		p, err := decodePolygonal(g)
		if err != nil {
			return nil, reps, err
		}
		if g.Type == "Polygon" && len(p) > 0 {
			add(RepairPromoted, "Polygon made a one-part MultiPolygon")
		}
		polys = p
	default:
		return nil, reps, fmt.Errorf("geometry type %q (want Polygon or MultiPolygon): %w", g.Type, ErrBadGeometry)
	}
	mp, err := cleanRings(polys, add)
	if err != nil {
		return nil, reps, err
	}
	if len(mp) == 0 {
		add(RepairEmpty, "no polygon with 3 or more distinct points")
		return nil, reps, nil
	}
	fixed, detail, err := makeValid(mp)
	if err != nil {
		return nil, reps, err
	}
	if detail != "" {
		add(RepairMadeValid, "%s", detail)
	}
	return fixed, reps, nil
}

func unwrapCollection(g *rawGeometry, add func(RepairKind, string, ...any)) ([][][][]float64, error) {
	var out [][][][]float64
	var types []string
	var walk func(g *rawGeometry, depth int) error
	walk = func(g *rawGeometry, depth int) error {
		if depth > 8 {
			return fmt.Errorf("GeometryCollection nested deeper than 8: %w", ErrBadGeometry)
		}
		for _, m := range g.Geometries {
			if m == nil {
				continue
			}
			switch m.Type {
			case "GeometryCollection":
				if err := walk(m, depth+1); err != nil {
					return err
				}
			case "Polygon", "MultiPolygon":
				p, err := decodePolygonal(m)
				if err != nil {
					return err
				}
				out = append(out, p...)
				types = append(types, m.Type)
			default:
				add(RepairDroppedMember, "dropped a %s member of a GeometryCollection", m.Type)
			}
		}
		return nil
	}
	if err := walk(g, 0); err != nil {
		return nil, err
	}
	add(RepairUnwrapped, "GeometryCollection of [%s] unwrapped to a MultiPolygon of %d part(s)", strings.Join(types, ", "), len(out))
	return out, nil
}

func decodePolygonal(g *rawGeometry) ([][][][]float64, error) {
	if len(g.Coordinates) == 0 || string(g.Coordinates) == "null" {
		return nil, nil
	}
	if g.Type == "Polygon" {
		var p [][][]float64
		if err := json.Unmarshal(g.Coordinates, &p); err != nil {
			return nil, fmt.Errorf("Polygon coordinates: %w: %w", ErrBadGeometry, err)
		}
		if len(p) == 0 {
			return nil, nil
		}
		return [][][][]float64{p}, nil
	}
	var mp [][][][]float64
	if err := json.Unmarshal(g.Coordinates, &mp); err != nil {
		return nil, fmt.Errorf("MultiPolygon coordinates: %w: %w", ErrBadGeometry, err)
	}
	return mp, nil
}

// cleanRings checks coordinates, removes consecutive duplicates, closes
// rings and drops degenerate ones.
func cleanRings(polys [][][][]float64, add func(RepairKind, string, ...any)) (orb.MultiPolygon, error) {
	var mp orb.MultiPolygon
	dups, closed := 0, 0
	for pi, poly := range polys {
		var out orb.Polygon
		for ri, ring := range poly {
			r := make(orb.Ring, 0, len(ring)+1)
			for _, c := range ring {
				if len(c) < 2 {
					return nil, fmt.Errorf("position with %d values in polygon %d ring %d: %w", len(c), pi, ri, ErrBadGeometry)
				}
				x, y := c[0], c[1]
				if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
					return nil, fmt.Errorf("non-finite coordinate in polygon %d ring %d: %w", pi, ri, ErrBadGeometry)
				}
				if math.Abs(x) > 180 || math.Abs(y) > 90 {
					return nil, fmt.Errorf("coordinate [%g, %g] in polygon %d ring %d: %w", x, y, pi, ri, ErrProjected)
				}
				p := orb.Point{x, y}
				if len(r) > 0 && r[len(r)-1] == p {
					dups++
					continue
				}
				r = append(r, p)
			}
			if len(r) > 1 && r[0] != r[len(r)-1] {
				r = append(r, r[0])
				closed++
			}
			if len(r) < 4 {
				what := "interior"
				if ri == 0 {
					what = "exterior"
				}
				add(RepairDroppedRing, "dropped %s ring %d of polygon %d: %d distinct point(s)", what, ri, pi, max(len(r)-1, 0))
				if ri == 0 {
					break
				}
				continue
			}
			out = append(out, r)
		}
		if len(out) > 0 {
			mp = append(mp, out)
		}
	}
	if closed > 0 {
		add(RepairClosedRing, "closed %d unclosed ring(s)", closed)
	}
	if dups > 0 {
		add(RepairDuplicatePoints, "removed %d consecutive duplicate point(s)", dups)
	}
	return mp, nil
}
