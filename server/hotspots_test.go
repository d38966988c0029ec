package server_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/paulmach/orb/geojson"
)

// hotspotsBody is the JSON of /v1/hotspots.
type hotspotsBody struct {
	Snapshot        uint64 `json:"snapshot"`
	Res, K          int
	NeighbourhoodKm float64 `json:"neighbourhood_km"`
	StudyArea       struct {
		Unit   string
		Cells  int
		Events int64
	} `json:"study_area"`
	Bins        map[string]int
	Conventions map[string]string
	Cells       []struct {
		H3     string
		Count  int64
		Z, P   *float64
		Bin    int8
		RawBin int8 `json:"raw_bin"`
	}
}

// Qarshi city (1710401) in a quarter at res 8: the whole city zero-filled,
// the bozor and stations at 99% after FDR, in every format.
func TestHotspotsEndpoint(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t)
	base := ts.URL + "/v1/hotspots?res=8&period=2026-Q2&unit=1710401"
	status, h, body := get(t, base)
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	if h.Get("X-Crimemap-Snapshot") != "1" {
		t.Errorf("snapshot header %q", h.Get("X-Crimemap-Snapshot"))
	}
	var res hotspotsBody
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if res.Res != 8 || res.K != 1 || res.StudyArea.Unit != "1710401" || res.Conventions["correction"] == "" {
		t.Fatalf("res %d k %d area %+v conventions %v", res.Res, res.K, res.StudyArea, res.Conventions)
	}
	var sum int64
	zeros, hot := 0, 0
	for _, c := range res.Cells {
		sum += c.Count
		if c.Count == 0 {
			zeros++
		}
		if c.Bin == 3 {
			hot++
		}
		if c.Z == nil || c.P == nil || c.Bin < -3 || c.Bin > 3 {
			t.Fatalf("cell %+v", c)
		}
	}
	if len(res.Cells) != res.StudyArea.Cells || sum != res.StudyArea.Events || zeros == 0 {
		t.Errorf("%d cells (%d empty), sum %d, study area %+v", len(res.Cells), zeros, sum, res.StudyArea)
	}
	if hot == 0 || res.Bins["3"] != hot {
		t.Errorf("no +3 cell in Qarshi (bins %v): %d cells, %d events", res.Bins, len(res.Cells), sum)
	}

	status, h, body = get(t, base+"&format=csv")
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", status, body)
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(recs) != len(res.Cells)+1 || recs[0][4] != "h3" || recs[0][10] != "bin" {
		t.Fatalf("csv: %d records (%v)", len(recs), err)
	}

	status, _, body = get(t, base+"&format=arrow")
	if status != 200 {
		t.Fatalf("arrow: %d %s", status, body)
	}
	rd, err := ipc.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	for rd.Next() {
		rows += rd.RecordBatch().NumRows()
	}
	rd.Release()
	if rows != int64(len(res.Cells)) {
		t.Errorf("arrow: %d rows", rows)
	}

	status, h, body = get(t, base+"&format=geojson")
	if status != 200 || h.Get("Content-Type") != "application/geo+json" {
		t.Fatalf("geojson: %d %s", status, body)
	}
	fc, err := geojson.UnmarshalFeatureCollection(body)
	if err != nil || len(fc.Features) != len(res.Cells) || fc.Features[0].Geometry.GeoJSONType() != "Polygon" {
		t.Fatalf("geojson: %v", err)
	}
	if _, ok := fc.Features[0].Properties["bin"]; !ok {
		t.Error("geojson: no bin property")
	}
}

func TestHotspotsErrors(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t)
	for _, tc := range []struct {
		query  string
		status int
		param  string
		msg    string
	}{
		{"res=8&period=2026-Q2", 400, "unit", ""},
		{"res=11&period=2026-Q2&unit=1710401", 400, "res", ""},
		{"res=8&k=0&period=2026-Q2&unit=1710401", 400, "k", ""},
		{"res=8&k=x&period=2026-Q2&unit=1710401", 400, "k", ""},
		{"res=8&unit=1710401", 400, "period", ""},
		{"res=8&period=2026-Q5&unit=1710401", 400, "period", ""},
		{"res=8&period=2026-Q2&unit=1710401&format=xml", 400, "format", ""},
		{"res=8&period=2026-Q2&unit=1710401&kind=murder", 400, "kind", ""},
		{"res=8&period=2026-Q2&unit=999", 404, "", ""},
		// a week of accidents in one city: too few events and cells
		{"res=7&period=2026-W20&unit=1710401&kind=accident", 422, "", "at least 30"},
		{"res=8&period=2026-07-01..2026-07-01&unit=1710401&kind=accident", 422, "", "wider period"},
		// a whole region at res 10: too many cells
		{"res=10&period=2026-Q2&unit=1710", 422, "", "coarser res"}, // admission control refuses it before the analysis would
	} {
		status, _, body := get(t, ts.URL+"/v1/hotspots?"+tc.query)
		var e struct {
			Error string
			Param string
		}
		_ = json.Unmarshal(body, &e)
		if status != tc.status || e.Param != tc.param || !strings.Contains(e.Error, tc.msg) {
			t.Errorf("%s: %d param %q: %s; want %d param %q containing %q", tc.query, status, e.Param, body, tc.status, tc.param, tc.msg)
		}
	}
}

func TestMahallaHotspotsEndpoint(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t)
	base := ts.URL + "/v1/hotspots/mahallas?period=2026&unit=1710401"
	for _, q := range []string{"", "&rate=true"} {
		status, h, body := get(t, base+q)
		if status != 200 {
			t.Fatalf("%s: %d %s", q, status, body)
		}
		if h.Get("X-Crimemap-Snapshot") != "1" {
			t.Errorf("snapshot header %q", h.Get("X-Crimemap-Snapshot"))
		}
		var res struct {
			Unit         string
			Value        string
			Mahallas     int
			Permutations int
			Seed         uint64
			Excluded     []struct{ Code, Reason string }
			Rows         []struct {
				Code      string
				Count     int64
				Value     float64
				Neighbors int
				Z         *float64
				Bin       int8
				MoranP    *float64 `json:"moran_p"`
				Quadrant  string
				Cluster   string
			}
		}
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		if res.Unit != "1710401" || res.Permutations != 999 || res.Mahallas != len(res.Rows) || len(res.Rows) < 20 {
			t.Fatalf("%s: unit %s, %d perms, %d rows", q, res.Unit, res.Permutations, len(res.Rows))
		}
		if (q == "") != (res.Value == "count") {
			t.Errorf("%s: value %q", q, res.Value)
		}
		for _, r := range res.Rows {
			if r.MoranP == nil || r.Z == nil || (r.Cluster != "" && r.Cluster != r.Quadrant) {
				t.Fatalf("row %+v", r)
			}
		}
	}
	status, _, body := get(t, base+"&format=geojson")
	if status != 200 {
		t.Fatalf("geojson: %d %s", status, body)
	}
	fc, err := geojson.UnmarshalFeatureCollection(body)
	if err != nil || len(fc.Features) < 20 || fc.Features[0].Geometry.GeoJSONType() != "MultiPolygon" {
		t.Fatalf("geojson: %v", err)
	}
	for _, f := range []string{"csv", "arrow"} {
		if status, _, body := get(t, base+"&format="+f); status != 200 {
			t.Errorf("%s: %d %s", f, status, body)
		}
	}
	for _, tc := range []struct {
		query  string
		status int
		param  string
	}{
		{"period=2026", 400, "unit"},
		{"period=2026&unit=1710401&rate=maybe", 400, "rate"},
		{"period=2026&unit=1710401&permutations=5", 400, "permutations"},
		{"period=2026&unit=1710401&seed=-1", 400, "seed"},
		{"unit=1710401", 400, "period"},
		{"period=2026&unit=999", 404, ""},
		{"period=2026-W20&unit=1710401&kind=accident", 422, ""},
	} {
		status, _, body := get(t, ts.URL+"/v1/hotspots/mahallas?"+tc.query)
		var e struct{ Param string }
		_ = json.Unmarshal(body, &e)
		if status != tc.status || e.Param != tc.param {
			t.Errorf("%s: %d %s; want %d param %q", tc.query, status, body, tc.status, tc.param)
		}
	}
}

func TestEmergingHotspotsEndpoint(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t)
	base := ts.URL + "/v1/hotspots/emerging?res=8&interval=month&periods=24&period=2026-10&unit=1710401"
	status, _, body := get(t, base+"&series=true")
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var res struct {
		Interval   string
		Steps      []struct{ Label string }
		Categories map[string]int
		StudyArea  struct{ Cells int } `json:"study_area"`
		Cells      []struct {
			H3       string
			Category string
			Counts   []int64
			Z        []*float64
			Trend    struct{ Trend int }
		}
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 24 || res.Steps[0].Label != "2024-11" || res.Steps[23].Label != "2026-10" {
		t.Fatalf("steps %+v", res.Steps)
	}
	total := 0
	for _, n := range res.Categories {
		total += n
	}
	if total != len(res.Cells) || res.StudyArea.Cells != len(res.Cells) || len(res.Cells) < 30 {
		t.Fatalf("categories %v, %d cells", res.Categories, len(res.Cells))
	}
	if len(res.Cells[0].Counts) != 24 || len(res.Cells[0].Z) != 24 {
		t.Errorf("series: %d counts, %d z", len(res.Cells[0].Counts), len(res.Cells[0].Z))
	}
	for _, f := range []string{"csv", "arrow", "geojson"} {
		if status, _, body := get(t, base+"&format="+f); status != 200 {
			t.Errorf("%s: %d %s", f, status, body)
		}
	}
	for _, tc := range []struct {
		query  string
		status int
		param  string
	}{
		{"periods=24&period=2026-10", 400, "unit"},
		{"periods=5&period=2026-10&unit=1710401", 400, "periods"},
		{"interval=week&period=2026-10&unit=1710401", 400, "interval"},
		{"interval=quarter&period=2026-10&unit=1710401", 400, "period"},
		{"period=2026-13&unit=1710401", 400, "period"},
		{"periods=10&period=2026-10&unit=1710401&kind=accident&res=7", 422, ""},
	} {
		status, _, body := get(t, ts.URL+"/v1/hotspots/emerging?"+tc.query)
		var e struct{ Param string }
		_ = json.Unmarshal(body, &e)
		if status != tc.status || e.Param != tc.param {
			t.Errorf("%s: %d %s; want %d param %q", tc.query, status, body, tc.status, tc.param)
		}
	}
}
