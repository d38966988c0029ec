package server_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/crimemap/crimemap/analytics/disclose"
)

// The public view on every data route: answers come from
// analytics/disclose (view "public"), every count has an interval that
// holds the analyst's exact count, z and p are absent, and questions off
// the public lattice are 403.

type countBody struct {
	Count   *int64 `json:"count"`
	CountLo int64  `json:"count_lo"`
	CountHi int64  `json:"count_hi"`
}

type statsBody struct {
	Disclosure struct {
		View string `json:"view"`
	} `json:"disclosure"`
	Totals struct {
		Events   *int64 `json:"events"`
		EventsLo int64  `json:"events_lo"`
		EventsHi int64  `json:"events_hi"`
	} `json:"totals"`
	Rows []struct {
		Unit  string `json:"unit"`
		Group string `json:"group"`
		countBody
		Rate     *float64 `json:"rate_per_1000"`
		Previous *struct {
			Base   *int64 `json:"base"`
			BaseLo int64  `json:"base_lo"`
			BaseHi int64  `json:"base_hi"`
			Diff   *int64 `json:"diff"`
		} `json:"previous"`
	} `json:"rows"`
}

func checkInterval(t *testing.T, what string, c countBody, truth int64) {
	t.Helper()
	switch {
	case truth < c.CountLo || truth > c.CountHi:
		t.Errorf("%s: true %d outside [%d,%d]", what, truth, c.CountLo, c.CountHi)
	case c.CountLo == c.CountHi:
		t.Errorf("%s: public interval [%d,%d] pins the count", what, c.CountLo, c.CountHi)
	case c.Count != nil && (*c.Count < c.CountLo || *c.Count > c.CountHi):
		t.Errorf("%s: published %d outside its interval [%d,%d]", what, *c.Count, c.CountLo, c.CountHi)
	}
}

func TestPublicViewStats(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t)
	sensitive := map[string]bool{}
	for _, c := range disclose.SensitiveCategories() {
		sensitive[c] = true
	}
	for _, path := range []string{
		"/v1/stats?level=district&unit=1710&period=2026-Q2&compare=previous,last_year",
		"/v1/stats?level=mahalla&unit=1710401&period=2026-07&group=category",
		"/v1/stats?level=region&period=2025&group=kind",
		"/v1/stats?level=mahalla&unit=1710224&period=2026-H1&kind=crime&category=other_sensitive",
	} {
		status, h, body := getPublic(t, ts.URL+path)
		if status != 200 || h.Get("X-Crimemap-View") != "public" {
			t.Fatalf("%s: %d view %q %s", path, status, h.Get("X-Crimemap-View"), body)
		}
		pub := decode[statsBody](t, body)
		exactURL := strings.Replace(path, "category=other_sensitive", "", 1)
		status, h, body = get(t, ts.URL+exactURL)
		if status != 200 || h.Get("X-Crimemap-View") != "exact" {
			t.Fatalf("%s as analyst: %d view %q", path, status, h.Get("X-Crimemap-View"))
		}
		exact := decode[statsBody](t, body)
		truth := map[string]int64{}
		for _, r := range exact.Rows {
			g := r.Group
			if sensitive[g] {
				g = disclose.SensitiveGroup
			}
			if strings.Contains(path, "other_sensitive") && !sensitive[r.Group] && r.Group != "" {
				continue
			}
			truth[r.Unit+"|"+g] += *r.Count
			if r.CountLo != *r.Count || r.CountHi != *r.Count {
				t.Fatalf("%s: exact row %+v has an interval", path, r)
			}
		}
		if pub.Disclosure.View != "public" || len(pub.Rows) == 0 {
			t.Fatalf("%s: %+v", path, pub)
		}
		for _, r := range pub.Rows {
			checkInterval(t, path+" "+r.Unit+" "+r.Group, r.countBody, truth[r.Unit+"|"+r.Group])
			if r.Count == nil && r.Rate != nil {
				t.Errorf("%s %s: a rate from a withheld count", path, r.Unit)
			}
			if p := r.Previous; p != nil && (p.Base == nil || r.Count == nil) && p.Diff != nil {
				t.Errorf("%s %s: a change from a withheld count", path, r.Unit)
			}
		}
		if !strings.Contains(path, "other_sensitive") {
			checkInterval(t, path+" total", countBody{pub.Totals.Events, pub.Totals.EventsLo, pub.Totals.EventsHi}, *exact.Totals.Events)
		}
	}

	// CSV and Arrow carry the same intervals.
	path := "/v1/stats?level=district&unit=1710&period=2026-Q2&compare=previous"
	_, _, body := getPublic(t, ts.URL+path)
	pub := decode[statsBody](t, body)
	_, _, body = getPublic(t, ts.URL+path+"&format=csv")
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, need := range []string{"count", "count_lo", "count_hi", "prev_count_lo", "prev_count_hi"} {
		if _, ok := col[need]; !ok {
			t.Fatalf("csv header %v lacks %s", recs[0], need)
		}
	}
	for i, r := range pub.Rows {
		rec := recs[i+1]
		if rec[col["count_lo"]] != fmt.Sprint(r.CountLo) || rec[col["count_hi"]] != fmt.Sprint(r.CountHi) || (r.Count == nil) != (rec[col["count"]] == "") {
			t.Errorf("csv row %v, json %+v", rec, r)
		}
	}
	_, _, body = getPublic(t, ts.URL+path+"&format=arrow")
	rd, err := ipc.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	if !rd.Next() {
		t.Fatal("no arrow record")
	}
	rec := rd.RecordBatch()
	idx := rec.Schema().FieldIndices("count_lo")
	cnt := rec.Schema().FieldIndices("count")
	if len(idx) != 1 || len(cnt) != 1 {
		t.Fatalf("arrow schema %v", rec.Schema())
	}
	lo, c := rec.Column(idx[0]).(*array.Int64), rec.Column(cnt[0]).(*array.Int64)
	for i, r := range pub.Rows {
		if lo.Value(i) != r.CountLo || c.IsNull(i) != (r.Count == nil) {
			t.Errorf("arrow row %d: lo %d null %v, json %+v", i, lo.Value(i), c.IsNull(i), r)
		}
	}
}

func TestPublicViewRefusals(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t)
	for _, path := range []string{
		"/v1/stats?level=mahalla&from=2026-07-01&to=2026-07-01&group=category",
		"/v1/stats?level=mahalla&from=2026-07-01T10:00:00Z&to=2026-07-01T11:00:00Z",
		"/v1/stats?level=mahalla&period=2026-W20",
		"/v1/stats?level=mahalla&period=ytd",
		"/v1/stats?level=mahalla&period=2026-Q2&bbox=65,38,66,39",
		"/v1/stats?level=mahalla&period=2026-Q2&category=rape",
		"/v1/stats?level=mahalla&period=2026-Q2&category=theft,fraud",
		"/v1/stats?level=mahalla&period=2026-Q2&kind=crime,offence",
		"/v1/stats?level=district&period=2026-Q2&group=flag",
		"/v1/stats?level=district&period=2026-Q2&flag=juvenile",
		"/v1/stats?level=district&period=2026-Q2&group=severity",
		"/v1/stats?level=district&period=2026-Q4",
		"/v1/stats?level=district&period=2026-12",
		"/v1/stats?level=district&period=2026",
		"/v1/series?interval=day&period=2025",
		"/v1/series?interval=month&from=2025-01-01&to=2025-03-31",
		"/v1/series?interval=month&period=2026",
		"/v1/hexbins?res=10&period=2026-Q2&unit=1710401",
		"/v1/hexbins?res=8&period=2026-Q2&category=rape&unit=1710401",
		"/v1/hexbins?res=8&period=2026-Q2&bbox=65,38,66,39",
		"/v1/hexbins?res=8&period=2026-Q4&unit=1710401",
		"/v1/hotspots?res=9&period=2026-Q2&unit=1710401",
		"/v1/hotspots?res=8&period=2026-Q4&unit=1710401",
		"/v1/hotspots/mahallas?period=2026-Q4&unit=1710401",
		"/v1/hotspots/emerging?res=8&period=2026-12&unit=1710401",
		"/v1/mahallas/1710401016?period=2026-W20",
		"/v1/mahallas/1710401016?period=2026-Q4",
	} {
		status, _, body := getPublic(t, ts.URL+path)
		if status != 403 || !strings.Contains(string(body), "token") {
			t.Errorf("%s: %d %s; want 403 naming what a token unlocks", path, status, body)
		}
	}
}

func TestPublicViewHexbinsAndHotspots(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t)
	path := "/v1/hexbins?res=8&period=2026-Q2&unit=1710401"
	status, _, body := getPublic(t, ts.URL+path)
	if status != 200 {
		t.Fatalf("%s: %d %s", path, status, body)
	}
	type bins struct {
		NoLocation *int64 `json:"no_location"`
		Bins       []struct {
			H3 string `json:"h3"`
			countBody
		} `json:"bins"`
	}
	pub := decode[bins](t, body)
	// The analyst's whole-cell counts: hexbins over the region, no unit.
	_, _, body = get(t, ts.URL+"/v1/hexbins?res=8&period=2026-Q2&unit=1710")
	exact := decode[bins](t, body)
	truth := map[string]int64{}
	for _, b := range exact.Bins {
		truth[b.H3] = *b.Count
	}
	zeros := 0
	for _, b := range pub.Bins {
		checkInterval(t, path+" "+b.H3, b.countBody, truth[b.H3])
		if truth[b.H3] == 0 {
			zeros++
		}
	}
	if len(pub.Bins) == 0 || zeros == 0 || pub.NoLocation != nil {
		t.Errorf("public hexbins: %d cells, %d of them empty (the fixed cell set includes empty cells), no_location %v", len(pub.Bins), zeros, pub.NoLocation)
	}

	for _, path := range []string{
		"/v1/hotspots?res=7&period=2025&unit=1710",
		"/v1/hotspots/emerging?res=6&period=2026-09&periods=12&unit=1710",
		"/v1/hotspots/mahallas?period=2025&unit=1710401",
	} {
		status, h, body := getPublic(t, ts.URL+path)
		t.Logf("%s: %d %.200s", path, status, body)
		if status == 422 {
			if strings.ContainsAny(string(body), "0123456789") && strings.Contains(string(body), "events") {
				t.Errorf("%s: a public refusal states counts: %s", path, body)
			}
			continue
		}
		if status != 200 || h.Get("X-Crimemap-View") != "public" {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{`"z"`, `"p"`, `"moran_i"`, `"counts"`} {
			if bytes.Contains(body, []byte(key)) {
				t.Errorf("%s: the public answer has %s", path, key)
			}
		}
	}
}

func TestPublicViewClassificationAndProfile(t *testing.T) {
	ts, _, st := newAnalyticsServer(t)
	admin := adminToken(t, st)
	createRun(t, ts.URL, admin, `{"period": "2026-Q2"}`)
	status, h, body := getPublic(t, ts.URL+"/v1/classification?period=2026-Q2")
	if status != 200 || h.Get("X-Crimemap-View") != "public" {
		t.Fatalf("public classification: %d %s", status, body)
	}
	if bytes.Contains(body, []byte(`"threshold"`)) || bytes.Contains(body, []byte(`"what_if"`)) || !bytes.Contains(body, []byte(`"category"`)) {
		t.Errorf("public classification has indicators or no category: %.400s", body)
	}
	status, _, body = get(t, ts.URL+"/v1/classification?period=2026-Q2")
	if status != 200 || !bytes.Contains(body, []byte(`"threshold"`)) {
		t.Errorf("analyst classification lacks indicators: %d %.300s", status, body)
	}

	status, h, body = getPublic(t, ts.URL+"/v1/mahallas/1710401016?period=2026-Q2")
	if status != 200 || h.Get("X-Crimemap-View") != "public" {
		t.Fatalf("public profile: %d %s", status, body)
	}
	type profile struct {
		Stats struct {
			countBody
		} `json:"stats"`
		Series []struct {
			Month string `json:"month"`
			countBody
		} `json:"series"`
	}
	pub := decode[profile](t, body)
	_, _, body = get(t, ts.URL+"/v1/mahallas/1710401016?period=2026-Q2")
	exact := decode[profile](t, body)
	checkInterval(t, "profile count", pub.Stats.countBody, *exact.Stats.Count)
	if len(pub.Series) != len(exact.Series) || len(pub.Series) != 12 {
		t.Fatalf("profile series: public %d points, exact %d", len(pub.Series), len(exact.Series))
	}
	for i := range pub.Series {
		checkInterval(t, "profile "+pub.Series[i].Month, pub.Series[i].countBody, *exact.Series[i].Count)
	}
}
