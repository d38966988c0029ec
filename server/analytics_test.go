package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/crimemap/crimemap/server"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/sqlite"
)

// newAnalyticsServer serves a small seeded demo from a real embedded store
// through a real snapshot. The analytics tests check exact numbers, so its
// requests without an Authorization header are sent as an analyst's
// (a token made in the store); requests with the header publicHeader get
// the public view (see public_view_test.go).
func newAnalyticsServer(t *testing.T) (*httptest.Server, *analytics.Live, store.Store) {
	t.Helper()
	return newAnalyticsServerCfg(t, server.Config{})
}

// newAnalyticsServerCfg is newAnalyticsServer with cfg (its Store and
// Snapshots are set here).
func newAnalyticsServerCfg(t *testing.T, cfg server.Config) (*httptest.Server, *analytics.Live, store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	units, err := demo.Units()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutUnits(ctx, units); err != nil {
		t.Fatal(err)
	}
	dcfg := demo.Config{Seed: 7, Now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), Scale: 0.05}
	if err := demo.Events(ctx, dcfg, units, func(b []analytics.Event) error {
		_, err := st.PutEvents(ctx, b)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	live := analytics.NewLive(st, func(ctx context.Context) ([]geo.Unit, error) { return st.Units(ctx, store.UnitQuery{}) })
	if err := live.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	analyst := roleToken(t, st, server.RoleAnalyst)
	cfg.Store, cfg.Snapshots = st, live
	h := server.New(cfg).Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(publicHeader) == "" && r.Header.Get("Authorization") == "" {
			r.Header.Set("Authorization", "Bearer "+analyst)
		}
		r.Header.Del(publicHeader)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts, live, st
}

// publicHeader marks a test request that must reach newAnalyticsServer
// without a token.
const publicHeader = "X-Test-Public"

// roleToken stores a new token of role and returns it.
func roleToken(t *testing.T, st store.Store, role server.Role) string {
	t.Helper()
	tok, rec, err := server.NewToken(role, "test "+role.String(), time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.(store.TokenStore).PutToken(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return tok
}

// getPublic is get without a token on newAnalyticsServer.
func getPublic(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(publicHeader, "1")
	return send(t, req)
}

func TestStatsEndpoint(t *testing.T) {
	ts, live, _ := newAnalyticsServer(t)
	status, h, body := get(t, ts.URL+"/v1/stats?level=district&unit=1710&period=2026-Q2&compare=previous,last_year&kind=crime")
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	if h.Get("X-Crimemap-Snapshot") != "1" {
		t.Errorf("snapshot header %q", h.Get("X-Crimemap-Snapshot"))
	}
	var res struct {
		Snapshot uint64 `json:"snapshot"`
		Period   struct{ Label string }
		Totals   map[string]int64
		Rows     []struct {
			Unit     string
			Count    int64
			Rate     *float64 `json:"rate_per_1000"`
			Previous *struct {
				Base    int64
				Percent *float64
				Z       float64
			}
			LastYear *struct{ Base int64 } `json:"last_year"`
		}
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if res.Period.Label != "2026-Q2" || len(res.Rows) != 16 {
		t.Fatalf("period %q, %d rows (want 16 Kashkadarya districts)", res.Period.Label, len(res.Rows))
	}
	var sum int64
	for _, r := range res.Rows {
		sum += r.Count
		if r.Previous == nil || r.LastYear == nil || r.Rate == nil {
			t.Fatalf("row %s lacks comparisons or rate: %s", r.Unit, body)
		}
		if r.Previous.Base < analytics.MinBaseForPercent && r.Previous.Percent != nil {
			t.Errorf("row %s: percent given for base %d", r.Unit, r.Previous.Base)
		}
	}
	if sum == 0 || sum+res.Totals["unassigned"] > res.Totals["events"] {
		t.Errorf("rows sum %d, totals %v", sum, res.Totals)
	}
	// The same numbers straight from the snapshot.
	p, _ := analytics.ParsePeriod("2026-Q2", mustTashkent(t))
	want, err := live.Current().Stats(analytics.StatsQuery{Period: p, Level: geo.LevelDistrict, Filter: analytics.Filter{Unit: "1710", Kinds: []analytics.Kind{analytics.KindCrime}}})
	if err != nil {
		t.Fatal(err)
	}
	if want.Total != res.Totals["events"] {
		t.Errorf("API total %d, snapshot %d", res.Totals["events"], want.Total)
	}

	// CSV has the same rows.
	status, h, body = get(t, ts.URL+"/v1/stats?level=district&unit=1710&period=2026-Q2&kind=crime&format=csv")
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", status, h.Get("Content-Type"))
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 17 || recs[0][3] != "unit" {
		t.Fatalf("csv: %d records, %v", len(recs), err)
	}

	// Arrow IPC stream decodes with the Arrow reader.
	status, h, body = get(t, ts.URL+"/v1/stats?level=mahalla&unit=1710401&period=2026-Q2&group=category&format=arrow")
	if status != 200 || h.Get("Content-Type") != "application/vnd.apache.arrow.stream" {
		t.Fatalf("arrow: %d %s %s", status, h.Get("Content-Type"), body)
	}
	rd, err := ipc.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	var rows, total int64
	for rd.Next() {
		rec := rd.RecordBatch()
		rows += rec.NumRows()
		counts := rec.Column(3).(*array.Int64)
		for i := range counts.Len() {
			total += counts.Value(i)
		}
	}
	if rows == 0 || total == 0 {
		t.Errorf("arrow stats: %d rows, total %d", rows, total)
	}
}

func mustTashkent(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Tashkent")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestSeriesAndHexbinsEndpoints(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t)
	status, _, body := get(t, ts.URL+"/v1/series?unit=1710401&interval=month&from=2024-01-01&to=2025-12-31&kind=crime")
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var series struct {
		Points []struct {
			Label string
			Count int64
		}
	}
	if err := json.Unmarshal(body, &series); err != nil {
		t.Fatal(err)
	}
	if len(series.Points) != 24 || series.Points[0].Label != "2024-01-01" {
		t.Fatalf("series: %d points, first %+v", len(series.Points), series.Points)
	}
	status, h, body := get(t, ts.URL+"/v1/hexbins?res=7&period=2025&unit=1710401&format=geojson")
	if status != 200 || h.Get("Content-Type") != "application/geo+json" {
		t.Fatalf("hexbins geojson: %d %s", status, body)
	}
	var fc struct {
		Type     string
		Features []struct {
			Geometry   struct{ Type string }
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(body, &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) == 0 {
		t.Fatalf("hexbins geojson: %v %s", err, body[:min(len(body), 300)])
	}
	if fc.Features[0].Geometry.Type != "Polygon" || fc.Features[0].Properties["h3"] == nil {
		t.Errorf("hexbin feature: %+v", fc.Features[0])
	}
	status, _, body = get(t, ts.URL+"/v1/hexbins?res=8&period=2025-Q1&bbox=65.6,38.7,66.0,39.0&format=csv")
	if status != 200 || !strings.HasPrefix(string(body), "snapshot,res,h3,lat,lon,count") {
		t.Fatalf("hexbins csv: %d %s", status, body[:min(len(body), 200)])
	}
}

func TestAnalyticsBadParameters(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t)
	for _, tt := range []struct {
		path, param string
		status      int
	}{
		{"/v1/stats?period=2025-Q5", "period", 400},
		{"/v1/stats", "period", 400},
		{"/v1/stats?period=2025&level=city", "level", 400},
		{"/v1/stats?period=2025&group=colour", "group", 400},
		{"/v1/stats?period=2025&compare=yesterday", "compare", 400},
		{"/v1/stats?period=2025&kind=murder", "kind", 400},
		{"/v1/stats?period=2025&severity=awful", "severity", 400},
		{"/v1/stats?period=2025&flag=tall", "flag", 400},
		{"/v1/stats?period=2025&format=xlsx", "format", 400},
		{"/v1/stats?period=2025&from=2025-01-01&to=2025-02-01", "period", 400},
		{"/v1/series?from=2025-01-01", "to", 400},
		{"/v1/series?from=2025-01-01&to=2025-02-01&interval=hour", "interval", 400},
		{"/v1/hexbins?res=11&period=2025", "res", 400},
		{"/v1/hexbins?res=8&period=2025&bbox=1,2", "bbox", 400},
		{"/v1/stats?period=2025&unit=9999999", "", 404},
	} {
		status, _, body := get(t, ts.URL+tt.path)
		if status != tt.status {
			t.Errorf("%s: %d, want %d: %s", tt.path, status, tt.status, body)
			continue
		}
		if tt.param != "" && !strings.Contains(string(body), `"param":"`+tt.param+`"`) {
			t.Errorf("%s: error does not name %q: %s", tt.path, tt.param, body)
		}
	}
}

// TestSnapshotReloadAfterImport: data written after start shows up once the
// live snapshot reloads, with a new version.
func TestSnapshotReloadAfterImport(t *testing.T) {
	ts, live, st := newAnalyticsServer(t)
	ctx := context.Background()
	before := live.Current()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if _, err := st.PutEvents(ctx, []analytics.Event{{Kind: analytics.KindCrime, SourceID: "late-1", OccurredAt: at, Category: "theft"}}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go live.Watch(wctx, 20*time.Millisecond, nil)
	deadline := time.Now().Add(20 * time.Second)
	for live.Current().Version() == before.Version() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	after := live.Current()
	if after.Version() != before.Version()+1 || after.Len() != before.Len()+1 {
		t.Fatalf("after import: version %d (was %d), %d events (was %d)", after.Version(), before.Version(), after.Len(), before.Len())
	}
	status, h, _ := get(t, ts.URL+"/v1/stats?level=region&period=2026-03")
	if status != 200 || h.Get("X-Crimemap-Snapshot") != "2" {
		t.Fatalf("stats after reload: %d, snapshot %s", status, h.Get("X-Crimemap-Snapshot"))
	}
}

func TestStatsYearToDate(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t)
	status, _, body := get(t, ts.URL+"/v1/stats?level=region&period=ytd&compare=last_year")
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var res struct {
		Period struct{ Label string }
		Rows   []struct {
			LastYear *struct{ Period struct{ Label string } } `json:"last_year"`
		}
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	year := time.Now().In(mustTashkent(t)).Year()
	if !strings.HasPrefix(res.Period.Label, strconv.Itoa(year)+"-YTD-") || len(res.Rows) == 0 || res.Rows[0].LastYear == nil ||
		!strings.HasPrefix(res.Rows[0].LastYear.Period.Label, strconv.Itoa(year-1)+"-YTD-") {
		t.Fatalf("ytd: %s", body)
	}
}
