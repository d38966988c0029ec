package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// statsJSONRow is a row of /v1/stats as JSON, with both comparisons.
type statsJSONRow struct {
	Unit  string `json:"unit"`
	Name  string `json:"name"`
	Group string `json:"group"`
	countBody
	Rate     *float64  `json:"rate_per_1000"`
	Previous *compBody `json:"previous"`
	LastYear *compBody `json:"last_year"`
}

type compBody struct {
	Period      struct{ Label string } `json:"period"`
	Base        *int64                 `json:"base"`
	BaseLo      int64                  `json:"base_lo"`
	BaseHi      int64                  `json:"base_hi"`
	Diff        *int64                 `json:"diff"`
	Percent     *float64               `json:"percent"`
	Z           *float64               `json:"z"`
	Significant *bool                  `json:"significant"`
}

// TestStatsGeoJSON: format=geojson answers the rows of format=json, on the
// units' polygons, for analysts and for the public (the same disclosure:
// withheld counts absent, intervals always there).
func TestStatsGeoJSON(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t)
	for _, tc := range []struct {
		name   string
		query  string
		public bool
		level  string
		// withheld: some public counts are withheld (so absent counts are
		// exercised)
		withheld bool
	}{
		{"analyst districts", "level=district&unit=1710&period=2026-Q2&compare=previous,last_year", false, "district", false},
		{"public districts", "level=district&unit=1710&period=2026-Q2&compare=previous,last_year", true, "district", false},
		{"analyst mahallas by category", "level=mahalla&unit=1710401&period=2026-07&group=category&compare=previous", false, "mahalla", false},
		{"public mahallas", "level=mahalla&unit=1710401&period=2026-07&kind=crime&compare=previous", true, "mahalla", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fetch := get
			view := "exact"
			if tc.public {
				fetch, view = getPublic, "public"
			}
			status, h, body := fetch(t, ts.URL+"/v1/stats?"+tc.query)
			if status != 200 {
				t.Fatalf("json: %d %s", status, body)
			}
			var js struct {
				Rows []statsJSONRow `json:"rows"`
			}
			if err := json.Unmarshal(body, &js); err != nil {
				t.Fatal(err)
			}
			status, h, body = fetch(t, ts.URL+"/v1/stats?"+tc.query+"&format=geojson")
			if status != 200 || h.Get("Content-Type") != "application/geo+json" || h.Get("X-Crimemap-View") != view {
				t.Fatalf("geojson: %d %s view %q %.300s", status, h.Get("Content-Type"), h.Get("X-Crimemap-View"), body)
			}
			fc, err := geojson.UnmarshalFeatureCollection(body)
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := fc.ExtraMembers["disclosure"].(map[string]any); d["view"] != view || fc.ExtraMembers["level"] != tc.level {
				t.Errorf("members %v", fc.ExtraMembers)
			}
			if len(fc.Features) != len(js.Rows) || len(js.Rows) == 0 {
				t.Fatalf("%d features, %d rows", len(fc.Features), len(js.Rows))
			}
			withheld := 0
			for i, f := range fc.Features {
				r := js.Rows[i]
				if r.Count == nil {
					withheld++
				}
				p := f.Properties
				if _, ok := f.Geometry.(orb.MultiPolygon); !ok || orb.Bound(f.Geometry.Bound()).IsZero() {
					t.Errorf("row %s: geometry %T", r.Unit, f.Geometry)
				}
				if p["unit"] != r.Unit || p["code"] != r.Unit || p["level"] != tc.level || p["name"] != r.Name {
					t.Errorf("row %s: unit %v code %v level %v name %v", r.Unit, p["unit"], p["code"], p["level"], p["name"])
				}
				wantID := r.Unit
				if r.Group != "" {
					wantID = r.Unit + "/" + r.Group
					if p["group"] != r.Group {
						t.Errorf("row %s: group %v, want %s", wantID, p["group"], r.Group)
					}
				}
				if f.ID != wantID {
					t.Errorf("feature id %v, want %s", f.ID, wantID)
				}
				checkCountProps(t, r.Unit+" count", p, "count", r.Count, r.CountLo, r.CountHi)
				if tc.public && r.Count == nil && p.MustFloat64("count_hi", -1) < 0 {
					t.Errorf("row %s: a withheld count without its interval", r.Unit)
				}
				for prefix, c := range map[string]*compBody{"previous": r.Previous, "last_year": r.LastYear} {
					if c == nil {
						if _, ok := p[prefix+"_period"]; ok {
							t.Errorf("row %s: %s_period without the comparison", r.Unit, prefix)
						}
						continue
					}
					if p[prefix+"_period"] != c.Period.Label {
						t.Errorf("row %s: %s_period %v, want %s", r.Unit, prefix, p[prefix+"_period"], c.Period.Label)
					}
					checkCountProps(t, r.Unit+" "+prefix, p, prefix+"_base", c.Base, c.BaseLo, c.BaseHi)
					checkOptional(t, r.Unit, p, prefix+"_diff", c.Diff)
					checkOptional(t, r.Unit, p, prefix+"_percent", c.Percent)
					checkOptional(t, r.Unit, p, prefix+"_z", c.Z)
					if v, ok := p[prefix+"_significant"]; (c.Significant == nil) == ok || (ok && v != *c.Significant) {
						t.Errorf("row %s: %s_significant %v, want %v", r.Unit, prefix, v, c.Significant)
					}
				}
			}
			if tc.withheld && withheld == 0 {
				t.Error("no public count withheld: the case does not test absent counts")
			}
		})
	}
	if status, _, body := get(t, ts.URL+"/v1/stats?level=district&period=2026-Q2&format=kml"); status != 400 || !strings.Contains(string(body), "geojson") {
		t.Errorf("format=kml: %d %s", status, body)
	}
}

// checkCountProps: name is there exactly when count is (with its value),
// name_lo and name_hi always.
func checkCountProps(t *testing.T, what string, p geojson.Properties, name string, count *int64, lo, hi int64) {
	t.Helper()
	v, ok := p[name]
	switch {
	case (count != nil) != ok:
		t.Errorf("%s: %s %v, want %v", what, name, v, count)
	case ok && int64(v.(float64)) != *count:
		t.Errorf("%s: %s %v, want %d", what, name, v, *count)
	}
	if int64(p.MustFloat64(name+"_lo", -1)) != lo || int64(p.MustFloat64(name+"_hi", -1)) != hi {
		t.Errorf("%s: %s_lo %v %s_hi %v, want %d %d", what, name, p[name+"_lo"], name, p[name+"_hi"], lo, hi)
	}
}

// checkOptional: the property is there exactly when want is, and equal.
func checkOptional[T int64 | float64](t *testing.T, unit string, p geojson.Properties, name string, want *T) {
	t.Helper()
	v, ok := p[name]
	if (want != nil) != ok || (ok && T(v.(float64)) != *want) {
		t.Errorf("row %s: %s %v, want %v", unit, name, v, want)
	}
}
