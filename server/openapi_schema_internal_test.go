package server

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/geo"
)

// TestOpenAPIResponseSchemas checks the named response types of stats,
// series, hexbins and meta against their schemas in openapi.json: every JSON
// key the server writes is described, and every described key is written.
func TestOpenAPIResponseSchemas(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	// props resolves a schema (by $ref, allOf, array items) to the
	// property schemas of the object it describes.
	var props func(raw json.RawMessage) map[string]json.RawMessage
	props = func(raw json.RawMessage) map[string]json.RawMessage {
		var s struct {
			Ref        string                     `json:"$ref"`
			AllOf      []json.RawMessage          `json:"allOf"`
			Items      json.RawMessage            `json:"items"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		out := map[string]json.RawMessage{}
		switch {
		case s.Ref != "":
			return props(doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")])
		case s.Items != nil:
			return props(s.Items)
		}
		for _, a := range s.AllOf {
			for k, v := range props(a) {
				out[k] = v
			}
		}
		for k, v := range s.Properties {
			out[k] = v
		}
		return out
	}
	var check func(path string, value any, schema map[string]json.RawMessage)
	check = func(path string, value any, schema map[string]json.RawMessage) {
		obj, ok := value.(map[string]any)
		if !ok {
			if arr, ok := value.([]any); ok && len(arr) > 0 {
				check(path+"[0]", arr[0], schema)
			}
			return
		}
		var keys []string
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, ok := schema[k]
			if !ok {
				t.Errorf("%s.%s is written but not in openapi.json", path, k)
				continue
			}
			if p := props(sub); len(p) > 0 {
				check(path+"."+k, obj[k], p)
			}
		}
		for k := range schema {
			if _, ok := obj[k]; !ok && k != "notice" {
				t.Errorf("%s.%s is in openapi.json but not written", path, k)
			}
		}
	}
	pct, rate := 12.5, 0.7
	per := analytics.Period{Label: "2025-Q3", From: time.Unix(0, 0), To: time.Unix(1, 0)}
	cmp := analytics.Comparison{Period: per, Base: 8, Diff: 2, Percent: &pct, Z: 0.7, BoundaryChanged: per.To} // every optional field written
	stats := analytics.StatsResult{Period: per, Level: geo.LevelMahalla, Rows: []analytics.StatsRow{{
		Unit: "1", Name: "n", Group: "theft", Count: 10, Population: 100, Rate: &rate, Previous: &cmp, LastYear: &cmp}}}
	series := analytics.SeriesResult{Interval: analytics.IntervalMonth, Points: []analytics.SeriesPoint{{Start: per.From, Count: 3}}}
	view := viewJSON{View: viewPublic, Method: "cell-key perturbation", MaxNoise: 5, WithheldBelow: 5}
	hex := analytics.HexbinResult{Res: 8, Bins: []analytics.Hexbin{{Cell: 0x88283082b9fffff, Count: 3}}}
	// A diff with every optional field written: runs of a unit with input
	// versions, a mahalla whose indicator has thresholds.
	runA := classify.Run{ID: 1, Period: "2025-Q3", PeriodFrom: per.From, PeriodTo: per.To, Unit: "1710", PolicyName: "p", PolicyVersion: "1",
		InputVersion: 3, InputsAt: per.To, Results: []classify.Result{{Mahalla: "m1", Name: "n", District: "d1", Category: classify.Yellow,
			Indicators: []classify.IndicatorResult{{Name: "crime_rate", Value: 5, Threshold: &rate}}}}}
	runB := runA
	runB.ID, runB.InputVersion = 2, 4
	runB.Results = []classify.Result{{Mahalla: "m1", Name: "n", District: "d1", Category: classify.Red,
		Indicators: []classify.IndicatorResult{{Name: "crime_rate", Value: 9, Threshold: &rate, Fired: true}}}}
	in := classify.CompareInputs(&runA, &runB)
	in.Late = 2
	for _, tc := range []struct {
		schema string
		body   any
	}{
		{"StatsResponse", statsJSON(&stats, view, "")},
		{"SeriesResponse", seriesJSON(&series, time.UTC, view, "")},
		{"RunDiff", diffRuns(&runA, &runB, in, "")},
		{"HexbinResponse", hexbinJSON(&hex, per, viewJSON{View: viewExact, Method: "-", MaxNoise: 5, WithheldBelow: 5}, "")},
		{"MetaResponse", metaResponse{Role: "analyst", TokenID: "0a1b2c3d", Scope: "1710", Zone: "Asia/Tashkent", Now: per.To,
			Snapshot: 3, DataFrom: &per.From, DataTo: &per.To, Periods: periodsAt(per.To, time.UTC), BBox: &[4]float64{64, 38, 68, 40},
			Basemap: "http://localhost/basemap.json", Notice: "synthetic", Languages: []string{"uz"}, Version: "(devel)"}},
	} {
		b, err := json.Marshal(tc.body)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		raw, ok := doc.Components.Schemas[tc.schema]
		if !ok {
			t.Fatalf("openapi.json has no schema %s", tc.schema)
		}
		check(tc.schema, v, props(raw))
	}
}
