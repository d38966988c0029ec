package server_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/server"
	"github.com/xuri/excelize/v2"
)

// TestReportsEndpoint: analysts get the PDF and the XLSX of a closed period
// (attachments, exact view); the public gets 401 and a viewer 403; a bad
// language, format or an open period are 400 naming what is allowed.
func TestReportsEndpoint(t *testing.T) {
	ts, _, st := newAnalyticsServer(t)
	base := ts.URL + "/v1/reports?period=2026-Q2&unit=1710"
	status, h, body := get(t, base+"&lang=ru")
	if status != 200 || !bytes.HasPrefix(body, []byte("%PDF-")) || h.Get("Content-Type") != "application/pdf" ||
		!strings.Contains(h.Get("Content-Disposition"), "report-1710-2026-Q2-ru.pdf") || h.Get("X-Crimemap-View") != "exact" {
		t.Fatalf("pdf: %d %v %.80q", status, h, body)
	}
	status, _, body = get(t, base+"&lang=kk&format=xlsx")
	if status != 200 {
		t.Fatalf("xlsx: %d %s", status, body)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.GetSheetList()); n < 5 {
		t.Errorf("xlsx has %d sheets", n)
	}
	f.Close()
	if status, _, _ := getPublic(t, base); status != 401 {
		t.Errorf("public: %d, want 401", status)
	}
	viewer := roleToken(t, st, server.RoleViewer)
	if status, _, _ := getAuth(t, base, viewer); status != 403 {
		t.Errorf("viewer: %d, want 403", status)
	}
	for _, c := range []struct{ q, param string }{
		{"&lang=de", "lang"}, {"&format=docx", "format"},
	} {
		status, _, body := get(t, base+c.q)
		var e struct{ Error, Param string }
		_ = json.Unmarshal(body, &e)
		if status != 400 || e.Param != c.param {
			t.Errorf("%s: %d %s; want 400 naming %s", c.q, status, body, c.param)
		}
	}
	status, _, body = get(t, ts.URL+"/v1/reports?period=2030-Q1&unit=1710")
	if status != 400 || !strings.Contains(string(body), "has not ended") {
		t.Errorf("open period: %d %s", status, body)
	}
}

// TestLabelsEndpoint: the map's words in each language from the reports'
// catalogue; a bad language is 400 naming lang.
func TestLabelsEndpoint(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t)
	var got struct {
		Lang   string
		Labels map[string]string
	}
	status, _, body := getPublic(t, ts.URL+"/v1/labels?lang=kk")
	if status != 200 || json.Unmarshal(body, &got) != nil || got.Lang != "kk" {
		t.Fatalf("%d %.200s", status, body)
	}
	if got.Labels["kind.crime"] == "" || got.Labels["mahalla_category.red"] == "" || got.Labels["hotspot.hot_99"] == "" {
		t.Errorf("labels missing: %d labels", len(got.Labels))
	}
	if _, ok := got.Labels["report.title"]; ok {
		t.Error("report wording in the map's labels")
	}
	if status, _, _ := getPublic(t, ts.URL+"/v1/labels?lang=xx"); status != 400 {
		t.Errorf("bad lang: %d", status)
	}
}
