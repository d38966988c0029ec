package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// Helpers of the disclosure attack suite (attack_test.go): one running
// demo server, tokens, HTTP helpers, the JSON shapes of the public
// answers, and the harvest of a year of public stats tables with the
// analysts' truth beside every published interval.

// attackServer is the running service the attack is played against.
type attackServer struct {
	base                   string
	analyst, viewer, admin string
	loc                    *time.Location
	// year is the last full calendar year (fully inside the demo data);
	// current* are the running periods at the start of the suite.
	year                                                   int
	currentMonth, currentQuarter, currentHalf, currentYear string
	client                                                 *http.Client
	units                                                  []attackUnit
}

// attackUnit is a unit of /v1/units.
type attackUnit struct {
	Code       string    `json:"code"`
	ParentCode string    `json:"parent_code"`
	Level      string    `json:"level"`
	BBox       []float64 `json:"bbox"`
}

// startAttackServer seeds the demo at scale 0.3 in a temp dir, creates an
// analyst, a viewer and an admin token, and serves on 127.0.0.1:0 until
// the test ends.
func startAttackServer(t *testing.T) *attackServer {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Tashkent")
	if err != nil {
		loc = time.FixedZone("Asia/Tashkent", 5*3600)
	}
	dir := t.TempDir()
	s := &attackServer{loc: loc, client: &http.Client{Timeout: 3 * time.Minute}}
	s.analyst, _ = createToken(t, dir, "--role", "analyst", "--name", "attack suite: the truth")
	s.viewer, _ = createToken(t, dir, "--role", "viewer", "--name", "attack suite: viewer")
	s.admin, _ = createToken(t, dir, "--role", "admin", "--name", "attack suite: classification runs")

	// The demo covers the 36 whole months before the month of now (in
	// Asia/Tashkent): the last calendar year is inside it.
	now := time.Now().In(loc)
	from, to, err := demo.Period(demo.Config{Now: now, Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	s.year = now.Year() - 1
	yFrom := time.Date(s.year, 1, 1, 0, 0, 0, 0, loc)
	yTo := time.Date(s.year+1, 1, 1, 0, 0, 0, 0, loc)
	if yFrom.Before(from) || yTo.After(to) {
		t.Fatalf("year %d is not inside the demo data [%s, %s)", s.year, from, to)
	}
	s.currentMonth = now.Format("2006-01")
	s.currentQuarter = fmt.Sprintf("%d-Q%d", now.Year(), (int(now.Month())-1)/3+1)
	s.currentHalf = fmt.Sprintf("%d-H%d", now.Year(), (int(now.Month())-1)/6+1)
	s.currentYear = fmt.Sprint(now.Year())

	// No per-client rate limit: the suite measures what the answers
	// disclose, asking thousands of questions from one address (the
	// limit would only slow an attacker down, not change the answers).
	s.base = serveDemo(t, dir, "--demo-scale", "0.3", "--rate", "0")
	var units struct {
		Units []attackUnit `json:"units"`
	}
	if err := s.getJSON("/v1/units", "", &units); err != nil {
		t.Fatal(err)
	}
	s.units = units.Units
	sort.Slice(s.units, func(i, j int) bool { return s.units[i].Code < s.units[j].Code })
	return s
}

// do sends a request and reads the whole answer.
func (s *attackServer) do(method, path, token string, body []byte) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, nil, fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	return resp, b, nil
}

// getJSON GETs path (200 required) into v and returns the headers.
func (s *attackServer) getJSON(path, token string, v any) error {
	_, err := s.getJSONHeader(path, token, v)
	return err
}

func (s *attackServer) getJSONHeader(path, token string, v any) (http.Header, error) {
	resp, b, err := s.do(http.MethodGet, path, token, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.Header, fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, truncate(b, 400))
	}
	if err := json.Unmarshal(b, v); err != nil {
		return resp.Header, fmt.Errorf("GET %s: %w", path, err)
	}
	return resp.Header, nil
}

func truncate(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// unitsAt lists the units of a level, by code.
func (s *attackServer) unitsAt(level string) []attackUnit {
	var out []attackUnit
	for _, u := range s.units {
		if u.Level == level {
			out = append(out, u)
		}
	}
	return out
}

// ---- JSON shapes (server/analytics_out.go, server/hotspots_public.go) ----

type countBody struct {
	Count *int64 `json:"count"`
	Lo    int64  `json:"count_lo"`
	Hi    int64  `json:"count_hi"`
}

type viewBody struct {
	View          string `json:"view"`
	Method        string `json:"method"`
	MaxNoise      int64  `json:"max_noise"`
	WithheldBelow int64  `json:"withheld_below"`
}

type statsBody struct {
	Period struct {
		Label string `json:"label"`
	} `json:"period"`
	Level      string   `json:"level"`
	Disclosure viewBody `json:"disclosure"`
	Totals     struct {
		Events   *int64 `json:"events"`
		EventsLo int64  `json:"events_lo"`
		EventsHi int64  `json:"events_hi"`
	} `json:"totals"`
	Rows []struct {
		Unit  string `json:"unit"`
		Group string `json:"group"`
		countBody
	} `json:"rows"`
}

type hexbinsBody struct {
	Res        int      `json:"res"`
	Disclosure viewBody `json:"disclosure"`
	Bins       []struct {
		H3 string `json:"h3"`
		countBody
	} `json:"bins"`
}

type errorBody struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

// ---- the public category groups ----

var sensitiveSet = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range disclose.SensitiveCategories() {
		m[c] = true
	}
	return m
}()

// publicGroup is the public group of an exact category (the server runs
// with the default sensitive list: no CRIMEMAP_SENSITIVE_CATEGORIES).
func publicGroup(c string) string {
	if sensitiveSet[strings.ToLower(strings.TrimSpace(c))] {
		return disclose.SensitiveGroup
	}
	return c
}

// ---- harvest: public stats tables with the truth beside them ----

// tableKey names one stats question: period, level, group (none, kind,
// category) and kind filter ("" for none).
type tableKey struct {
	period, level, group, kind string
}

func (k tableKey) path() string {
	v := url.Values{"period": {k.period}, "level": {k.level}}
	if k.group != "" {
		v.Set("group", k.group)
	}
	if k.kind != "" {
		v.Set("kind", k.kind)
	}
	return "/v1/stats?" + v.Encode()
}

func (k tableKey) String() string {
	return fmt.Sprintf("period=%s level=%s group=%s kind=%s", k.period, k.level, k.group, k.kind)
}

// pubRow is one published row with the analysts' truth of its cell.
type pubRow struct {
	unit, group string
	count       int64 // valid when hasCount
	hasCount    bool
	lo, hi      int64
	truth       int64
}

// statsTable is a public stats answer with the truth of every row.
type statsTable struct {
	key              tableKey
	view             viewBody
	header           string // X-Crimemap-View of the public answer
	rows             []pubRow
	totalLo, totalHi int64
	totalCount       *int64
	totalTruth       int64
	exactView        string // X-Crimemap-View of the analyst answer
	exactNotExact    int    // analyst rows with count_lo != count_hi or != count
	// missing lists the exact cells with events that have no public row.
	missing   []string
	exactRows int
}

// interner shares the strings of many rows.
type interner struct {
	mu sync.Mutex
	m  map[string]string
}

func (in *interner) get(s string) string {
	in.mu.Lock()
	defer in.mu.Unlock()
	if v, ok := in.m[s]; ok {
		return v
	}
	if in.m == nil {
		in.m = map[string]string{}
	}
	in.m[s] = s
	return s
}

// fetchTable asks k publicly and with the analyst token and pairs them.
func (s *attackServer) fetchTable(k tableKey, in *interner) (*statsTable, error) {
	var pub, ex statsBody
	h, err := s.getJSONHeader(k.path(), "", &pub)
	if err != nil {
		return nil, err
	}
	eh, err := s.getJSONHeader(k.path(), s.analyst, &ex)
	if err != nil {
		return nil, err
	}
	tb := &statsTable{key: k, view: pub.Disclosure, header: h.Get("X-Crimemap-View"), exactView: eh.Get("X-Crimemap-View"),
		totalLo: pub.Totals.EventsLo, totalHi: pub.Totals.EventsHi, totalCount: pub.Totals.Events}
	if ex.Totals.Events != nil {
		tb.totalTruth = *ex.Totals.Events
	}
	truth := make(map[string]int64, len(ex.Rows))
	for _, r := range ex.Rows {
		n := int64(0)
		if r.Count != nil {
			n = *r.Count
		}
		if r.Count == nil || r.Lo != n || r.Hi != n {
			tb.exactNotExact++
		}
		g := r.Group
		if k.group == "category" {
			g = publicGroup(g)
		}
		truth[r.Unit+"|"+g] += n
	}
	tb.exactRows = len(ex.Rows)
	seen := make(map[string]bool, len(pub.Rows))
	tb.rows = make([]pubRow, len(pub.Rows))
	for i, r := range pub.Rows {
		key := r.Unit + "|" + r.Group
		seen[key] = true
		pr := pubRow{unit: in.get(r.Unit), group: in.get(r.Group), lo: r.Lo, hi: r.Hi, truth: truth[key]}
		if r.Count != nil {
			pr.count, pr.hasCount = *r.Count, true
		}
		tb.rows[i] = pr
	}
	for key, n := range truth {
		if n != 0 && !seen[key] {
			tb.missing = append(tb.missing, fmt.Sprintf("%s (true %d)", key, n))
		}
	}
	sort.Strings(tb.missing)
	return tb, nil
}

// yearPeriods are the periods of a calendar year: the year, its halves,
// quarters and months.
func yearPeriods(y int) []string {
	ps := []string{fmt.Sprint(y), fmt.Sprintf("%d-H1", y), fmt.Sprintf("%d-H2", y)}
	for q := 1; q <= 4; q++ {
		ps = append(ps, fmt.Sprintf("%d-Q%d", y, q))
	}
	for m := 1; m <= 12; m++ {
		ps = append(ps, fmt.Sprintf("%d-%02d", y, m))
	}
	return ps
}

// kindNames are the event kinds, in order.
func kindNames() []string {
	out := make([]string, len(analytics.Kinds))
	for i, k := range analytics.Kinds {
		out[i] = k.String()
	}
	return out
}

// harvestKeys are the stats questions of the attack over a year: every
// period x level x (no group, by kind, by category, by category within
// each kind).
func harvestKeys(y int) []tableKey {
	var out []tableKey
	for _, p := range yearPeriods(y) {
		for _, lv := range []string{"region", "district", "mahalla"} {
			out = append(out, tableKey{p, lv, "", ""}, tableKey{p, lv, "kind", ""}, tableKey{p, lv, "category", ""})
			for _, k := range kindNames() {
				out = append(out, tableKey{p, lv, "category", k})
			}
		}
	}
	return out
}

// harvest fetches the tables of keys with a few concurrent workers.
func (s *attackServer) harvest(keys []tableKey, workers int) (map[tableKey]*statsTable, error) {
	var (
		mu   sync.Mutex
		out  = make(map[tableKey]*statsTable, len(keys))
		errs []error
		in   interner
		wg   sync.WaitGroup
	)
	jobs := make(chan tableKey)
	for range workers {
		wg.Go(func() {
			for k := range jobs {
				tb, err := s.fetchTable(k, &in)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					out[k] = tb
				}
				mu.Unlock()
			}
		})
	}
	for _, k := range keys {
		jobs <- k
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		return out, fmt.Errorf("%d of %d tables failed, first: %w", len(errs), len(keys), errs[0])
	}
	return out, nil
}

// checkInterval checks one published count against its truth: the
// interval holds the truth, never pins a value (count_lo < count_hi, at
// least max_noise wide), and the count is shown exactly when the
// published value (count_hi - max_noise) reaches withheld_below, with
// count_lo = max(0, count - max_noise) and count_hi = count + max_noise.
// It returns "" or what is wrong.
func checkInterval(v viewBody, count *int64, lo, hi, truth int64) string {
	switch {
	case truth < lo || truth > hi:
		return fmt.Sprintf("true count %d outside [%d, %d]", truth, lo, hi)
	case lo >= hi:
		return fmt.Sprintf("interval [%d, %d] pins a value", lo, hi)
	case hi-lo < v.MaxNoise:
		return fmt.Sprintf("interval [%d, %d] narrower than max_noise %d", lo, hi, v.MaxNoise)
	}
	pv := hi - v.MaxNoise
	switch {
	case pv < v.WithheldBelow && count != nil:
		return fmt.Sprintf("count %d shown though the published value %d is below %d", *count, pv, v.WithheldBelow)
	case pv >= v.WithheldBelow && count == nil:
		return fmt.Sprintf("count withheld though the published value %d reaches %d", pv, v.WithheldBelow)
	case count != nil && (*count != pv || lo != max(0, *count-v.MaxNoise)):
		return fmt.Sprintf("count %d does not match its interval [%d, %d]", *count, lo, hi)
	}
	return ""
}

// hexbins returns the public hexbins of unit at res for period, and the
// truth of every cell: the analysts' whole-area counts.
func (s *attackServer) hexbins(res int, period, unit string) (hexbinsBody, map[string]int64, error) {
	var pub, ex hexbinsBody
	v := url.Values{"res": {strconv.Itoa(res)}, "period": {period}, "unit": {unit}}
	if err := s.getJSON("/v1/hexbins?"+v.Encode(), "", &pub); err != nil {
		return pub, nil, err
	}
	v.Del("unit")
	if err := s.getJSON("/v1/hexbins?"+v.Encode(), s.analyst, &ex); err != nil {
		return pub, nil, err
	}
	truth := make(map[string]int64, len(ex.Bins))
	for _, b := range ex.Bins {
		if b.Count != nil {
			truth[b.H3] = *b.Count
		}
	}
	return pub, truth, nil
}

// tileAt is the z/x/y path part of the tile holding p.
func tileAt(p orb.Point, z int) string {
	tl := maptile.At(p, maptile.Zoom(z))
	return fmt.Sprintf("%d/%d/%d", tl.Z, tl.X, tl.Y)
}

// respStatus is the status of resp for messages.
func respStatus(resp *http.Response) any {
	if resp == nil {
		return "no response"
	}
	return resp.StatusCode
}

// propInt reads an integer MVT property.
func propInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case uint64:
		return int64(n), true
	case int:
		return int64(n), true
	case float64:
		if n == math.Trunc(n) {
			return int64(n), true
		}
	case float32:
		if float64(n) == math.Trunc(float64(n)) {
			return int64(n), true
		}
	}
	return 0, false
}

func optInt(n int64, ok bool) any {
	if !ok {
		return "null"
	}
	return n
}

// serveDemo runs `crimemap serve --demo` with the store in dir (seeding
// it) and the extra flags until the test ends, and returns its base URL.
func serveDemo(tb testing.TB, dir string, extra ...string) string {
	tb.Helper()
	return startServe(tb, append([]string{"--demo", "--data", dir}, extra...)...)
}
