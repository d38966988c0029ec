package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/server"
	"github.com/crimemap/crimemap/store"
)

// post sends body as JSON, with token as its bearer token unless "".
func post(t *testing.T, url, token, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	} else {
		req.Header.Set(publicHeader, "1") // really without a token on newAnalyticsServer
	}
	return send(t, req)
}

type runBody struct {
	ID              int64  `json:"id"`
	Href            string `json:"href"`
	Period          string `json:"period"`
	Unit            string `json:"unit"`
	District        string `json:"district"`
	PolicyName      string `json:"policy_name"`
	PolicyVersion   string `json:"policy_version"`
	SnapshotVersion uint64 `json:"snapshot_version"`
	DataVersion     int64  `json:"data_version"`
	InputVersion    *int64 `json:"input_version"`
	CreatedBy       string `json:"created_by"`
	Counts          struct{ Red, Yellow, Green, Total int }
	Results         []classify.Result `json:"results"`
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

// adminToken stores a new admin token in st and returns it: creating a
// classification run is an admin write.
func adminToken(t *testing.T, st store.Store) string {
	t.Helper()
	ts, ok := st.(store.TokenStore)
	if !ok {
		t.Fatalf("%s store keeps no tokens", st.Backend())
	}
	return putToken(t, ts, server.RoleAdmin, 0)
}

// tokenID is the public ID part of a token string cm_<id>_<secret>.
func tokenID(token string) string { return strings.SplitN(token, "_", 3)[1] }

// createRun POSTs a run with the admin token and checks that the run
// records that token's ID as its creator.
func createRun(t *testing.T, base, token, body string) runBody {
	t.Helper()
	status, h, b := post(t, base+"/v1/classification/runs", token, body)
	if status != http.StatusCreated {
		t.Fatalf("POST runs %s: %d %s", body, status, b)
	}
	run := decode[runBody](t, b)
	if loc := h.Get("Location"); loc != "/v1/classification/runs/"+strconv.FormatInt(run.ID, 10) || run.Href != loc {
		t.Errorf("Location %q, href %q, id %d", loc, run.Href, run.ID)
	}
	if run.CreatedBy != tokenID(token) {
		t.Errorf("run %d created_by %q, want the admin token's ID %q", run.ID, run.CreatedBy, tokenID(token))
	}
	return run
}

func TestClassificationRuns(t *testing.T) {
	ts, live, st := newAnalyticsServer(t)
	admin := adminToken(t, st)
	first := createRun(t, ts.URL, admin, `{"period": "2026-Q2"}`)
	if first.Period != "2026-Q2" || first.PolicyName == "" || first.PolicyVersion == "" || first.SnapshotVersion != 1 {
		t.Errorf("run metadata %+v", first)
	}
	c := first.Counts
	if c.Total == 0 || c.Total != len(first.Results) || c.Red+c.Yellow+c.Green != c.Total || c.Green == 0 {
		t.Errorf("counts %+v for %d results", c, len(first.Results))
	}

	// The latest run of the period, whole and for one district.
	status, _, b := get(t, ts.URL+"/v1/classification?period=2026-Q2")
	if status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	if got := decode[runBody](t, b); got.ID != first.ID || len(got.Results) != len(first.Results) {
		t.Errorf("latest: run %d with %d results, want %d with %d", got.ID, len(got.Results), first.ID, len(first.Results))
	}
	district := first.Results[0].District
	status, _, b = get(t, ts.URL+"/v1/classification?period=2026-q2&district="+district)
	if status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	got := decode[runBody](t, b)
	if got.District != district || len(got.Results) == 0 || len(got.Results) >= len(first.Results) || got.Counts.Total != len(got.Results) {
		t.Errorf("district %s: %d of %d results, counts %+v", district, len(got.Results), len(first.Results), got.Counts)
	}
	for _, r := range got.Results {
		if r.District != district {
			t.Fatalf("result of district %s in the filter for %s", r.District, district)
		}
	}

	// A second run of the period is a new run; it wins; the list has both.
	// Storing the first bumped the data version, so the snapshot rebuilds
	// (as the server's watcher does) on the same inputs.
	if err := live.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	second := createRun(t, ts.URL, admin, `{"period": "2026-Q2"}`)
	if second.ID == first.ID {
		t.Fatal("a second POST returned the first run")
	}
	if second.DataVersion == first.DataVersion || first.InputVersion == nil || second.InputVersion == nil ||
		*second.InputVersion != *first.InputVersion {
		t.Errorf("two runs on one data: data versions %d, %d (want them to differ), input versions %v, %v (want equal)",
			first.DataVersion, second.DataVersion, first.InputVersion, second.InputVersion)
	}
	status, _, b = get(t, ts.URL+"/v1/classification?period=2026-Q2")
	if got := decode[runBody](t, b); status != 200 || got.ID != second.ID {
		t.Errorf("latest after a second run: %d, run %d; want %d", status, got.ID, second.ID)
	}
	createRun(t, ts.URL, admin, `{"period": "2026-Q1", "unit": "`+district+`"}`)
	status, _, b = get(t, ts.URL+"/v1/classification/runs?period=2026-Q2")
	list := decode[struct{ Runs []runBody }](t, b)
	if status != 200 || len(list.Runs) != 2 || list.Runs[0].ID != second.ID || list.Runs[1].ID != first.ID || list.Runs[0].Results != nil {
		t.Errorf("runs of 2026-Q2: %d %s", status, b)
	}
	status, _, b = get(t, ts.URL+"/v1/classification/runs")
	if list := decode[struct{ Runs []runBody }](t, b); status != 200 || len(list.Runs) != 3 || list.Runs[0].Unit != district ||
		list.Runs[2].CreatedBy != tokenID(admin) {
		t.Errorf("all runs: %d %s", status, b)
	}

	// By id.
	status, _, b = get(t, ts.URL+first.Href)
	if got := decode[runBody](t, b); status != 200 || got.ID != first.ID || len(got.Results) != len(first.Results) || got.CreatedBy != tokenID(admin) {
		t.Errorf("GET %s: %d, run %d created by %q", first.Href, status, got.ID, got.CreatedBy)
	}

	// The same data and policy: nothing changed.
	status, _, b = get(t, ts.URL+"/v1/classification/diff?a="+strconv.FormatInt(first.ID, 10)+"&b="+strconv.FormatInt(second.ID, 10))
	type diffBody struct {
		Causes            []string
		LateRegistrations *int `json:"late_registrations"`
		Summary           struct{ Changed, Category, Worse, Better int }
		Mahallas          []struct {
			Mahalla, Direction string
			Before, After      classify.Category
			Indicators         []struct{ Name string }
			Causes             []string
		}
	}
	if d := decode[diffBody](t, b); status != 200 || len(d.Causes) != 0 || len(d.Mahallas) != 0 || d.LateRegistrations == nil || *d.LateRegistrations != 0 {
		t.Errorf("diff of two runs of the same data and policy: %d %s", status, b)
	}

	// An event of another period ingested between two runs: new data, no
	// late registration of this period (and the period's values stay).
	if _, err := st.PutEvents(context.Background(), []analytics.Event{{Kind: analytics.KindCrime, SourceID: "other-period",
		OccurredAt: time.Date(2024, 1, 10, 12, 0, 0, 0, time.UTC), Category: "theft", Severity: analytics.SeverityGrave,
		Region: "1710", District: first.Results[0].District, Mahalla: first.Results[0].Mahalla}}); err != nil {
		t.Fatal(err)
	}
	if err := live.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	other := createRun(t, ts.URL, admin, `{"period": "2026-Q2"}`)
	status, _, b = get(t, ts.URL+"/v1/classification/diff?a="+strconv.FormatInt(second.ID, 10)+"&b="+strconv.FormatInt(other.ID, 10))
	if d := decode[diffBody](t, b); status != 200 || !slices.Equal(d.Causes, []string{"new data"}) || d.LateRegistrations == nil || *d.LateRegistrations != 0 {
		t.Errorf("diff across an event of another period: %d %s", status, b)
	}
	second = other

	// Late registrations: crimes of 2026-Q2 registered after the runs, in
	// one mahalla, change its counts; a new run shows why.
	target := first.Results[0]
	var late []analytics.Event
	for i := range 40 {
		late = append(late, analytics.Event{Kind: analytics.KindCrime, SourceID: "late-" + strconv.Itoa(i),
			OccurredAt: time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC), Category: "theft", Severity: analytics.SeverityGrave,
			Region: "1710", District: target.District, Mahalla: target.Mahalla})
	}
	if _, err := st.PutEvents(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	if err := live.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	third := createRun(t, ts.URL, admin, `{"period": "2026-Q2"}`)
	if third.DataVersion == second.DataVersion {
		t.Fatalf("data version %d did not change", third.DataVersion)
	}
	status, _, b = get(t, ts.URL+"/v1/classification/diff?a="+strconv.FormatInt(second.ID, 10)+"&b="+strconv.FormatInt(third.ID, 10))
	d := decode[diffBody](t, b)
	if status != 200 || !slices.Equal(d.Causes, []string{"new data", "late registrations"}) || d.LateRegistrations == nil || *d.LateRegistrations != len(late) {
		t.Fatalf("diff after late registrations: %d causes %v, %v late registrations (want %d)", status, d.Causes, d.LateRegistrations, len(late))
	}
	// The public view keeps the causes but not the exact count of events.
	status, _, pb := getPublic(t, ts.URL+"/v1/classification/diff?a="+strconv.FormatInt(second.ID, 10)+"&b="+strconv.FormatInt(third.ID, 10))
	if pd := decode[diffBody](t, pb); status != 200 || !slices.Equal(pd.Causes, d.Causes) || pd.LateRegistrations != nil {
		t.Errorf("public diff after late registrations: %d causes %v, late registrations %v (want null)", status, pd.Causes, pd.LateRegistrations)
	}
	i := slices.IndexFunc(d.Mahallas, func(m struct {
		Mahalla, Direction string
		Before, After      classify.Category
		Indicators         []struct{ Name string }
		Causes             []string
	}) bool {
		return m.Mahalla == target.Mahalla
	})
	if i < 0 {
		t.Fatalf("diff does not list mahalla %s with 40 late crimes: %s", target.Mahalla, b)
	}
	m := d.Mahallas[i]
	if len(m.Indicators) == 0 || !slices.Contains(m.Causes, "late registrations") || m.After.Rank() < m.Before.Rank() {
		t.Errorf("mahalla %s in the diff: %+v", target.Mahalla, m)
	}
}

func TestClassificationErrors(t *testing.T) {
	ts, _, st := newAnalyticsServer(t)
	admin := adminToken(t, st)
	tests := []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"GET", "/v1/classification?period=2026-Q1", "", 404, "2026-Q1"},
		{"GET", "/v1/classification", "", 400, `"param":"period"`},
		{"GET", "/v1/classification?period=2026-Q5", "", 400, `"param":"period"`},
		{"GET", "/v1/classification?period=2026-Q1&district=1710", "", 400, `"param":"district"`},
		{"GET", "/v1/classification?period=2026-Q1&district=999", "", 404, "999"},
		{"GET", "/v1/classification/runs/12345", "", 404, "12345"},
		{"GET", "/v1/classification/runs/x", "", 400, `"param":"id"`},
		{"GET", "/v1/classification/runs?limit=0", "", 400, `"param":"limit"`},
		{"GET", "/v1/classification/diff?a=1", "", 400, `"param":"b"`},
		{"GET", "/v1/classification/diff?a=1&b=2", "", 404, "run 1"},
		{"POST", "/v1/classification/runs", `{}`, 400, `"param":"period"`},
		{"POST", "/v1/classification/runs", `{"period": "2026-Q2", "policy": "x"}`, 400, `"param":"body"`},
		{"POST", "/v1/classification/runs", `not json`, 400, `"param":"body"`},
		{"POST", "/v1/classification/runs", `{"period": "Q2"}`, 400, `"param":"period"`},
		{"POST", "/v1/classification/runs", `{"period": "2026-Q2", "unit": "999"}`, 404, "999"},
		{"GET", "/v1/mahallas/1710?period=2026-Q2", "", 400, `"param":"code"`},
		{"GET", "/v1/mahallas/999?period=2026-Q2", "", 404, "999"},
		{"GET", "/v1/mahallas/999", "", 400, `"param":"period"`},
	}
	for _, tt := range tests {
		var (
			status int
			body   []byte
		)
		if tt.method == "POST" {
			status, _, body = post(t, ts.URL+tt.path, admin, tt.body)
		} else {
			status, _, body = get(t, ts.URL+tt.path)
		}
		if status != tt.status || !bytes.Contains(body, []byte(tt.contains)) {
			t.Errorf("%s %s %s: %d %s; want %d containing %s", tt.method, tt.path, tt.body, status, body, tt.status, tt.contains)
		}
	}
}

func TestMahallaProfile(t *testing.T) {
	ts, live, db := newAnalyticsServer(t)
	// The mahalla with the most crimes in 2026-Q2.
	per, _ := analytics.ParsePeriod("2026-Q2", mustTashkent(t))
	st, err := live.Current().Stats(analytics.StatsQuery{Period: per, Level: "mahalla"})
	if err != nil {
		t.Fatal(err)
	}
	top := slices.MaxFunc(st.Rows, func(a, b analytics.StatsRow) int { return int(a.Count - b.Count) })
	type profile struct {
		Unit struct {
			Code, Name string
			Population *int64
		}
		District       *struct{ Code string }
		Period         struct{ Label string }
		Classification *struct {
			Run    struct{ ID int64 }
			Result classify.Result
		}
		Stats struct {
			Count    int64
			Previous *struct{ Base int64 }
			LastYear *struct{ Base int64 }    `json:"last_year"`
			ByKind   []struct{ Group string } `json:"by_kind"`
		}
		Hotspots struct {
			Res   int
			Cells []struct {
				H3  string
				Bin int
			}
			Note string
		}
		Series []struct {
			Month string
			Count int64
		}
	}
	path := "/v1/mahallas/" + top.Unit + "?period=2026-Q2"
	status, h, b := get(t, ts.URL+path)
	if status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	p := decode[profile](t, b)
	if p.Unit.Code != top.Unit || p.Unit.Name == "" || p.District == nil || p.Period.Label != "2026-Q2" || h.Get("X-Crimemap-Snapshot") != "1" {
		t.Errorf("profile head: %s", b)
	}
	if p.Classification != nil {
		t.Errorf("classification before any run: %+v", p.Classification)
	}
	if p.Stats.Count != top.Count || p.Stats.Previous == nil || p.Stats.LastYear == nil || len(p.Stats.ByKind) == 0 {
		t.Errorf("stats %+v, want count %d with comparisons", p.Stats, top.Count)
	}
	if len(p.Series) != 12 || p.Series[0].Month != "2025-07" || p.Series[11].Month != "2026-06" {
		t.Errorf("series %+v, want 2025-07..2026-06", p.Series)
	}
	if p.Hotspots.Res != 9 || (len(p.Hotspots.Cells) == 0 && p.Hotspots.Note == "") {
		t.Logf("hot spots %+v", p.Hotspots)
	}
	for _, c := range p.Hotspots.Cells {
		if c.Bin < 2 {
			t.Errorf("hot spot cell %s bin %d", c.H3, c.Bin)
		}
	}
	run := createRun(t, ts.URL, adminToken(t, db), `{"period": "2026-Q2"}`)
	status, _, b = get(t, ts.URL+path)
	p = decode[profile](t, b)
	if status != 200 || p.Classification == nil || p.Classification.Run.ID != run.ID || p.Classification.Result.Mahalla != top.Unit ||
		p.Classification.Result.Category == "" || len(p.Classification.Result.Reasons) == 0 {
		t.Errorf("profile after a run: %d %+v", status, p.Classification)
	}
	var _ store.RunStore // the demo store keeps runs
}
