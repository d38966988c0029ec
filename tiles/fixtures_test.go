package tiles

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
)

// fixtureOutcome is what happens to one mvt-fixture (testdata/mvt-fixtures,
// mapbox/mvt-fixtures v4.0.0): whether orb's decoder (Decode) fails, and
// whether Validate refuses it. Every fixture is listed; a fixture missing
// from the table, or behaving otherwise, fails the test.
type fixtureOutcome struct {
	orbErr, invalid bool
	note            string
}

// fixtureOutcomes documents every fixture. Valid fixtures (v2) decode with
// orb to the features of tile.json (compared below) unless noted; invalid
// ones are refused by orb or by Validate.
var fixtureOutcomes = map[string]fixtureOutcome{
	"001": {false, false, "valid: no layers (empty buffer)"},
	"002": {false, false, "valid: point without id"},
	"003": {true, true, "invalid: no geometry type: orb refuses the UNKNOWN type"},
	"004": {true, true, "invalid: no geometry field: orb v0.14.0 panics (nil iterator); Decode turns the panic into an error"},
	"005": {true, true, "invalid: odd number of tags: orb reads past the end (unexpected EOF)"},
	"006": {true, true, "invalid: geometry type 8: orb refuses"},
	"007": {true, true, "invalid: version as a string: orb fails (unexpected EOF)"},
	"008": {true, true, "invalid: extent as a string: orb fails"},
	"009": {false, false, "valid: extent missing (defaults to 4096)"},
	"010": {true, true, "invalid: string value encoded as int64: orb fails"},
	"011": {false, true, "invalid: unknown value type: orb skips it; Validate: value without a type"},
	"012": {false, true, "invalid: layer version 99: orb accepts; Validate wants 2"},
	"013": {false, true, "invalid: key encoded as uint32: orb accepts; Validate's protobuf decode refuses"},
	"014": {false, true, "invalid: layer without name: orb accepts; Validate refuses"},
	"015": {false, true, "invalid: two layers named alike: orb accepts both; Validate refuses"},
	"016": {true, true, "VALID per spec (UNKNOWN geometry type) but orb refuses it; crimemap never writes UNKNOWN"},
	"017": {false, false, "valid point"},
	"018": {false, false, "valid linestring"},
	"019": {false, false, "valid polygon"},
	"020": {false, false, "valid multipoint"},
	"021": {false, false, "valid multilinestring"},
	"022": {false, false, "valid multipolygon (exterior, hole, exterior)"},
	"023": {false, true, "invalid: no layer name: Validate refuses"},
	"024": {false, true, "invalid: no layer version: orb defaults to 1; Validate refuses"},
	"025": {false, true, "valid layer without features: orb decodes it; Validate refuses (crimemap never writes empty layers)"},
	"026": {false, true, "invalid: extra value type: Validate: value without a type"},
	"027": {false, false, "valid bool value"},
	"030": {false, true, "invalid: two geometry fields: orb keeps the last; Validate sees commands after the MoveTo"},
	"032": {false, false, "valid string value"},
	"033": {false, false, "valid float value"},
	"034": {false, false, "valid double value"},
	"035": {false, false, "valid int value"},
	"036": {false, false, "valid uint value"},
	"037": {false, false, "valid sint value"},
	"038": {false, false, "valid: every value type"},
	"039": {true, true, "VALID per spec (defaults encoded; geometry type UNKNOWN) but orb refuses the UNKNOWN type"},
	"040": {false, true, "invalid: tag key index out of range: orb drops the tag; Validate refuses"},
	"041": {false, true, "invalid: tags as floats: Validate refuses the tag indexes"},
	"042": {false, true, "invalid: tag value index out of range: orb drops the tag; Validate refuses"},
	"043": {false, false, "valid: six points sharing a key"},
	"044": {false, true, "invalid: geometry starts with ClosePath: orb accepts; Validate refuses"},
	"045": {true, true, "invalid: MoveTo with half a point: orb refuses (data cut short)"},
	"046": {false, true, "invalid: repeated point in a linestring: Validate reports the zero-length segment"},
	"047": {false, true, "invalid: ClosePath count 2: Validate refuses"},
	"048": {false, true, "invalid: ClosePath count 0: Validate refuses"},
	"049": {false, false, "valid: int32 overflow in x"},
	"050": {false, false, "valid: int32 overflow in y"},
	"051": {true, true, "invalid: huge MoveTo count: orb refuses without over-allocating"},
	"052": {true, true, "invalid: multipoint with too few points: orb refuses"},
	"053": {false, false, "valid: square at the exact extent"},
	"054": {false, false, "valid: square with a 1-unit buffer"},
	"055": {false, false, "valid: square 1 unit inside"},
	"056": {false, false, "valid: square with a 200-unit buffer"},
	"057": {true, true, "VALID per fixture (gigantic MoveTo count) but orb refuses it as cut short: safe, no over-allocation"},
	"058": {true, true, "invalid: gigantic LineTo count: orb refuses"},
	"059": {false, false, "valid: layer water"},
	"060": {false, false, "valid: layer water (compositing)"},
	"061": {true, true, "invalid in v2: linestring with ClosePath: orb refuses"},
	"062": {false, false, "valid"}, "063": {false, false, "valid"}, "064": {false, false, "valid"},
	"065": {false, false, "valid"}, "066": {false, false, "valid"}, "067": {false, false, "valid"},
	"068": {false, false, "valid"}, "069": {false, false, "valid"}, "070": {false, false, "valid"},
	"071": {false, false, "valid"}, "072": {false, false, "valid"}, "073": {false, false, "valid"},
	"074": {false, false, "valid"}, "075": {false, false, "valid"}, "076": {false, false, "valid"},
	"077": {false, false, "valid"},
}

type fixtureJSON struct {
	Layers []struct {
		Name     string `json:"name"`
		Features []struct {
			ID       *uint64  `json:"id"`
			Tags     []int    `json:"tags"`
			Type     int      `json:"type"`
			Geometry []uint32 `json:"geometry"`
		} `json:"features"`
		Keys   []string                     `json:"keys"`
		Values []map[string]json.RawMessage `json:"values"`
	} `json:"layers"`
}

// TestConformanceFixtures runs orb's decoder and Validate over every
// mvt-fixture: invalid fixtures must be refused by one of them, valid
// ones decode to the layers, geometry types, ids and properties of
// tile.json (values compared as orb exposes them: string, bool, float64
// for float/double, int64 for int/sint, uint64 for uint).
func TestConformanceFixtures(t *testing.T) {
	dirs, err := filepath.Glob("testdata/mvt-fixtures/fixtures/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	seen := 0
	for _, d := range dirs {
		name := filepath.Base(d)
		t.Run(name, func(t *testing.T) {
			want, ok := fixtureOutcomes[name]
			if !ok {
				t.Fatalf("fixture %s is not documented in fixtureOutcomes", name)
			}
			seen++
			tile, err := os.ReadFile(filepath.Join(d, "tile.mvt"))
			if err != nil {
				t.Fatal(err)
			}
			var info struct {
				Validity struct{ V2 bool } `json:"validity"`
			}
			if err := readJSON(filepath.Join(d, "info.json"), &info); err != nil {
				t.Fatal(err)
			}
			layers, derr := Decode(tile)
			verr := Validate(tile)
			if (derr != nil) != want.orbErr || (verr != nil) != want.invalid {
				t.Fatalf("%s: orb error %v, Validate %v; documented: %+v", name, derr, verr, want)
			}
			if !info.Validity.V2 && derr == nil && verr == nil {
				t.Fatalf("invalid fixture accepted by orb and Validate")
			}
			if !info.Validity.V2 || derr != nil {
				return
			}
			var tj fixtureJSON
			if err := readJSON(filepath.Join(d, "tile.json"), &tj); err != nil {
				t.Fatal(err)
			}
			compareFixture(t, layers, &tj)
		})
	}
	if seen != len(fixtureOutcomes) {
		t.Errorf("%d fixtures on disk, %d documented", seen, len(fixtureOutcomes))
	}
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func compareFixture(t *testing.T, got mvt.Layers, want *fixtureJSON) {
	t.Helper()
	if len(got) != len(want.Layers) {
		t.Fatalf("%d layers, want %d", len(got), len(want.Layers))
	}
	for i, wl := range want.Layers {
		gl := got[i]
		if gl.Name != wl.Name || len(gl.Features) != len(wl.Features) {
			t.Fatalf("layer %d: %q with %d features, want %q with %d", i, gl.Name, len(gl.Features), wl.Name, len(wl.Features))
		}
		for j, wf := range wl.Features {
			gf := gl.Features[j]
			var typ int
			switch gf.Geometry.(type) {
			case orb.Point, orb.MultiPoint:
				typ = 1
			case orb.LineString, orb.MultiLineString:
				typ = 2
			case orb.Polygon, orb.MultiPolygon:
				typ = 3
			}
			if typ != wf.Type {
				t.Errorf("layer %s feature %d: geometry %T, want type %d", wl.Name, j, gf.Geometry, wf.Type)
			}
			if wf.ID != nil && gf.ID != float64(*wf.ID) {
				t.Errorf("layer %s feature %d: id %v, want %d", wl.Name, j, gf.ID, *wf.ID)
			}
			wantProps := map[string]string{}
			for k := 0; k+1 < len(wf.Tags); k += 2 {
				for typ, raw := range wl.Values[wf.Tags[k+1]] {
					var v any
					_ = json.Unmarshal(raw, &v)
					if typ == "float_value" {
						v = float64(float32(v.(float64)))
					}
					wantProps[wl.Keys[wf.Tags[k]]] = fmt.Sprint(v)
				}
			}
			if len(gf.Properties) != len(wantProps) {
				t.Errorf("layer %s feature %d: properties %v, want %v", wl.Name, j, gf.Properties, wantProps)
			}
			for k, w := range wantProps {
				g := gf.Properties[k]
				if f, ok := g.(float64); ok && fmt.Sprint(float64(float32(f))) == w {
					continue
				}
				if fmt.Sprint(g) != w {
					t.Errorf("layer %s feature %d: %s = %v (%T), want %s", wl.Name, j, k, g, g, w)
				}
			}
		}
	}
}
