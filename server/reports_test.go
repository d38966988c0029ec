package server_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/i18n"

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
	// The web map's families: period names and number formats exist
	// today; every ui.* key of the catalogues (the page's own words) is
	// served too.
	for _, k := range []string{"period.year", "number.decimal_separator", "format.date"} {
		if got.Labels[k] == "" {
			t.Errorf("label %s missing", k)
		}
	}
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range cat.Keys(i18n.English) {
		if strings.HasPrefix(k, "ui.") && got.Labels[k] == "" {
			t.Errorf("label %s missing", k)
		}
	}
	if status, _, _ := getPublic(t, ts.URL+"/v1/labels?lang=xx"); status != 400 {
		t.Errorf("bad lang: %d", status)
	}
}

// TestReportHeadlineEqualsStats: in every language, pdftotext finds in the
// report's PDF the headline figures the analyst's /v1/stats gives for the
// same period and unit (each kind's count and the same period of last
// year), formatted for the language.
func TestReportHeadlineEqualsStats(t *testing.T) {
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CRIMEMAP_REQUIRE_POPPLER") == "1" {
			t.Fatal("pdftotext is required (poppler-utils)")
		}
		t.Skip("pdftotext not installed")
	}
	ts, _, _ := newAnalyticsServer(t)
	status, _, body := get(t, ts.URL+"/v1/stats?level=region&unit=1710&period=2026-Q2&group=kind&compare=last_year")
	var st struct {
		Rows []struct {
			Unit, Group string
			Count       int64
			LastYear    *struct{ Base int64 } `json:"last_year"`
		}
	}
	if status != 200 || json.Unmarshal(body, &st) != nil || len(st.Rows) == 0 {
		t.Fatalf("stats: %d %.300s", status, body)
	}
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, row := range st.Rows {
		if row.Unit == "1710" && row.LastYear != nil {
			checked++
		}
	}
	if checked != 3 {
		t.Fatalf("stats: %d kinds of 1710 with last year, want 3: %.300s", checked, body)
	}
	for _, lang := range i18n.Langs() {
		status, _, pdf := get(t, ts.URL+"/v1/reports?period=2026-Q2&unit=1710&lang="+string(lang))
		if status != 200 {
			t.Fatalf("%s: %d", lang, status)
		}
		path := filepath.Join(t.TempDir(), "r.pdf")
		if err := os.WriteFile(path, pdf, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pdftotext, "-layout", path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(out), "\u00a0", " ")
		for _, row := range st.Rows {
			if row.Unit != "1710" || row.LastYear == nil {
				continue
			}
			label := strings.Fields(cat.T(lang, "kind."+row.Group))[0]
			want := strings.ReplaceAll(cat.Int(lang, row.Count)+" "+cat.Int(lang, row.LastYear.Base), "\u00a0", " ")
			found := false
			for _, line := range strings.Split(text, "\n") {
				if strings.Contains(line, label) && strings.Contains(strings.Join(strings.Fields(line), " "), want) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no line %q with the stats' %q", lang, label, want)
			}
		}
	}
}
