package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/analytics/disclose/audit"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/uber/h3-go/v4"
)

// TestAttack plays the disclosure attacks of analytics/disclose over HTTP
// against one running demo server (scale 0.3, the real clock): the public
// may not ask the questions that single out an incident, may not see the
// running period anywhere, every published interval holds the truth, and
// bounds propagation over a whole year of the public lattice (periods,
// kinds, category groups, mahallas, districts, regions, classification
// categories, tiles and H3 parents) pins almost no small count and no
// sensitive one. The analyst token gives the truth the attack is scored
// against; the attacker itself uses public answers only (plus, where
// noted, exact remainders a real attacker does not have).
func TestAttack(t *testing.T) {
	if testing.Short() {
		t.Skip("attack suite: starts a demo server and plays a year of requests")
	}
	s := startAttackServer(t)
	// The district of the hexbin and H3 checks: the largest with mahallas
	// by area (many H3 cells at every public resolution), and a mahalla of
	// it.
	district := largestDistrict(t, s)
	var mahalla string
	for _, u := range s.unitsAt("mahalla") {
		if u.ParentCode == district.Code {
			mahalla = u.Code
			break
		}
	}
	if mahalla == "" {
		t.Fatalf("district %s has no mahalla", district.Code)
	}
	t.Logf("year %d; running periods %s %s %s %s; district %s, mahalla %s; %d units",
		s.year, s.currentMonth, s.currentQuarter, s.currentHalf, s.currentYear, district.Code, mahalla, len(s.units))

	// The public stats tables of the year with their truth, shared by the
	// interval checks and the propagation attack (fetched once).
	var (
		harvestOnce sync.Once
		tables      map[tableKey]*statsTable
		harvestErr  error
	)
	yearTables := func(t *testing.T) map[tableKey]*statsTable {
		t.Helper()
		harvestOnce.Do(func() {
			tables, harvestErr = s.harvest(harvestKeys(s.year), 3)
		})
		if harvestErr != nil {
			t.Fatal(harvestErr)
		}
		return tables
	}

	t.Run("Refusals", func(t *testing.T) { attackRefusals(t, s, mahalla) })
	t.Run("RunningPeriod", func(t *testing.T) { attackRunningPeriod(t, s, district, mahalla) })
	t.Run("IntervalsHoldTruth", func(t *testing.T) { attackIntervals(t, s, yearTables(t), district) })
	t.Run("BoundsPropagation", func(t *testing.T) { attackPropagation(t, s, yearTables(t), district) })
	t.Run("Roles", func(t *testing.T) { attackRoles(t, s) })
	t.Run("MetaTimes", func(t *testing.T) { attackMetaTimes(t, s) })
}

// largestDistrict is the district with mahallas with the largest
// bounding box.
func largestDistrict(t *testing.T, s *attackServer) attackUnit {
	t.Helper()
	hasMahallas := map[string]bool{}
	for _, u := range s.unitsAt("mahalla") {
		hasMahallas[u.ParentCode] = true
	}
	var best attackUnit
	bestArea := -1.0
	for _, u := range s.unitsAt("district") {
		if len(u.BBox) != 4 || !hasMahallas[u.Code] {
			continue
		}
		if a := (u.BBox[2] - u.BBox[0]) * (u.BBox[3] - u.BBox[1]); a > bestArea {
			best, bestArea = u, a
		}
	}
	if bestArea < 0 {
		t.Fatal("no district with a bounding box in /v1/units")
	}
	return best
}

// expectRefused checks that path answers want with a JSON error body
// (whose message names what a token unlocks when want is 403). It returns
// the error message.
func expectRefused(t *testing.T, s *attackServer, name, path, token string, want int) string {
	t.Helper()
	resp, b, err := s.do(http.MethodGet, path, token, nil)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return ""
	}
	var eb errorBody
	jerr := json.Unmarshal(b, &eb)
	switch {
	case resp.StatusCode != want:
		t.Errorf("%s: GET %s answered %d %s; want %d", name, path, resp.StatusCode, truncate(b, 300), want)
	case jerr != nil || eb.Error == "":
		t.Errorf("%s: GET %s answered %d without a JSON error field: %s", name, path, resp.StatusCode, truncate(b, 300))
	case want == http.StatusForbidden && !strings.Contains(strings.ToLower(eb.Error), "token"):
		t.Errorf("%s: GET %s refused without saying what a token unlocks: %q", name, path, eb.Error)
	}
	return eb.Error
}

// attackRefusals: every first step of a single-incident reconstruction is
// refused to the public (403, saying what a token unlocks), while the
// same request is a valid one for an analyst (200).
func attackRefusals(t *testing.T, s *attackServer, mahalla string) {
	y := s.year
	q := fmt.Sprintf("%d-Q3", y)
	cases := []struct{ name, path string }{
		{"one day", fmt.Sprintf("/v1/stats?level=mahalla&from=%d-03-01&to=%d-03-01&group=category", y, y)},
		{"RFC 3339 instants", "/v1/stats?" + url.Values{"level": {"mahalla"},
			"from": {fmt.Sprintf("%d-03-01T08:00:00+05:00", y)}, "to": {fmt.Sprintf("%d-03-01T09:00:00+05:00", y)}}.Encode()},
		{"a week", fmt.Sprintf("/v1/stats?level=mahalla&period=%d-W10", y)},
		{"year to date", "/v1/stats?level=mahalla&period=ytd"},
		{"bbox", fmt.Sprintf("/v1/stats?level=mahalla&period=%s&bbox=65.5,38.5,66.0,39.0", q)},
		{"hexbins res 10 of rape", fmt.Sprintf("/v1/hexbins?res=10&period=%s&category=rape", q)},
		{"hexbins res 9", fmt.Sprintf("/v1/hexbins?res=9&period=%s", q)},
		{"daily series", fmt.Sprintf("/v1/series?interval=day&period=%d", y)},
		{"weekly series", fmt.Sprintf("/v1/series?interval=week&period=%d", y)},
		{"mahalla profile of a week", fmt.Sprintf("/v1/mahallas/%s?period=%d-W10", url.PathEscape(mahalla), y)},
		{"sensitive category by name", fmt.Sprintf("/v1/stats?level=mahalla&period=%s&category=rape", q)},
		{"flag filter", fmt.Sprintf("/v1/stats?level=mahalla&period=%s&flag=juvenile", q)},
		{"group=flag", fmt.Sprintf("/v1/stats?level=district&period=%s&group=flag", q)},
		{"group=severity", fmt.Sprintf("/v1/stats?level=district&period=%s&group=severity", q)},
		{"union of categories", fmt.Sprintf("/v1/stats?level=mahalla&period=%s&category=theft,fraud", q)},
		{"union of kinds", fmt.Sprintf("/v1/stats?level=mahalla&period=%s&kind=crime,offence", q)},
	}
	for _, c := range cases {
		msg := expectRefused(t, s, c.name, c.path, "", http.StatusForbidden)
		t.Logf("%-28s 403 %q", c.name, msg)
		// The same question is a valid one: an analyst gets it.
		resp, b, err := s.do(http.MethodGet, c.path, s.analyst, nil)
		if err != nil {
			t.Errorf("%s (analyst): %v", c.name, err)
		} else if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: the analyst's GET %s answered %d %s; want 200 (the refusal must be the public view's only)", c.name, c.path, resp.StatusCode, truncate(b, 300))
		}
	}
}

// attackRunningPeriod: the running month, quarter, half and year are
// refused on every public route (403); raw events stay 401 without a
// token.
func attackRunningPeriod(t *testing.T, s *attackServer, district attackUnit, mahalla string) {
	var m attackUnit
	for _, u := range s.units {
		if u.Code == mahalla {
			m = u
		}
	}
	center := orb.Point{(m.BBox[0] + m.BBox[2]) / 2, (m.BBox[1] + m.BBox[3]) / 2}
	tile := tileAt(center, 10)
	d, mh := url.QueryEscape(district.Code), url.PathEscape(mahalla)
	type req struct{ name, path string }
	var cases []req
	for _, p := range []string{s.currentMonth, s.currentQuarter, s.currentHalf, s.currentYear} {
		pe := url.QueryEscape(p)
		cases = append(cases,
			req{"stats " + p, "/v1/stats?level=district&period=" + pe},
			req{"stats by category " + p, "/v1/stats?level=mahalla&group=category&period=" + pe},
			req{"hexbins " + p, "/v1/hexbins?res=7&period=" + pe},
			req{"hotspots " + p, "/v1/hotspots?res=8&unit=" + d + "&period=" + pe},
			req{"mahalla hotspots " + p, "/v1/hotspots/mahallas?unit=" + d + "&period=" + pe},
			req{"mahalla profile " + p, "/v1/mahallas/" + mh + "?period=" + pe},
			req{"classification " + p, "/v1/classification?period=" + pe},
			req{"mahallas tile " + p, "/tiles/mahallas/" + tile + ".mvt?period=" + pe},
		)
	}
	cases = append(cases,
		req{"monthly series of the running year", "/v1/series?interval=month&period=" + s.currentYear},
		req{"quarterly series of the running year", "/v1/series?interval=quarter&period=" + s.currentYear},
		req{"emerging hot spots ending with the running month", "/v1/hotspots/emerging?interval=month&unit=" + d + "&period=" + s.currentMonth},
	)
	for _, c := range cases {
		msg := expectRefused(t, s, c.name, c.path, "", http.StatusForbidden)
		t.Logf("%-50s %q", c.name, msg)
	}
	// The classification of a running period stays refused when an admin
	// has stored a run for it (admins may classify a running period).
	for _, p := range []string{s.currentMonth, s.currentQuarter, s.currentHalf, s.currentYear} {
		body, _ := json.Marshal(map[string]string{"period": p})
		resp, b, err := s.do(http.MethodPost, "/v1/classification/runs", s.admin, body)
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Logf("admin run of the running period %s not stored: %v %v %s", p, err, respStatus(resp), truncate(b, 200))
			continue
		}
		msg := expectRefused(t, s, "classification with a stored run "+p, "/v1/classification?period="+url.QueryEscape(p), "", http.StatusForbidden)
		t.Logf("%-50s %q", "classification with a stored run "+p, msg)
		var run struct {
			Href string `json:"href"`
		}
		if json.Unmarshal(b, &run) == nil && run.Href != "" {
			msg := expectRefused(t, s, "run by id of "+p, run.Href, "", http.StatusForbidden)
			t.Logf("%-50s %q", "run by id of "+p, msg)
		}
	}
	closed := fmt.Sprintf("%d-Q4", s.year)
	expectRefused(t, s, "raw events without a token", "/v1/events?limit=1", "", http.StatusUnauthorized)
	expectRefused(t, s, "events tile layer without a token", "/tiles/events/"+tile+".mvt?period="+closed, "", http.StatusUnauthorized)
	// Reports carry exact figures; metrics show the service's load.
	report := "/v1/reports?period=" + closed + "&unit=" + s.units[0].Code
	expectRefused(t, s, "report without a token", report, "", http.StatusUnauthorized)
	expectRefused(t, s, "report with a viewer token", report, s.viewer, http.StatusForbidden)
	expectRefused(t, s, "metrics without a token", "/metrics", "", http.StatusUnauthorized)
	expectRefused(t, s, "metrics with an analyst token", "/metrics", s.analyst, http.StatusForbidden)
}

// attackIntervals: every published interval of the year's stats tables
// (periods x levels x no group, kind, category, category within a kind)
// holds the truth, never pins a value, and withholds exactly the small
// published values; the same for the public hexbins of a district at
// every public resolution.
func attackIntervals(t *testing.T, s *attackServer, tables map[tableKey]*statsTable, district attackUnit) {
	keys := harvestKeys(s.year)
	var rows, withheld, small, failures int
	fail := func(format string, a ...any) {
		failures++
		if failures <= 25 {
			t.Errorf(format, a...)
		}
	}
	for _, k := range keys {
		tb := tables[k]
		if tb == nil {
			fail("%s: not fetched", k)
			continue
		}
		if tb.header != "public" || tb.view.View != "public" || tb.view.MaxNoise <= 0 || tb.view.WithheldBelow <= 0 {
			fail("%s: public answer with X-Crimemap-View %q and disclosure %+v", k, tb.header, tb.view)
		}
		if tb.exactView != "exact" || tb.exactNotExact > 0 {
			fail("%s: analyst answer with X-Crimemap-View %q and %d rows whose count_lo/count_hi differ from count", k, tb.exactView, tb.exactNotExact)
		}
		if len(tb.missing) > 0 {
			fail("%s: %d exact cells with events have no public row, e.g. %v", k, len(tb.missing), tb.missing[:min(3, len(tb.missing))])
		}
		if msg := checkInterval(tb.view, tb.totalCount, tb.totalLo, tb.totalHi, tb.totalTruth); msg != "" {
			fail("%s: totals: %s", k, msg)
		}
		for _, r := range tb.rows {
			rows++
			var c *int64
			if r.hasCount {
				c = &r.count
			} else {
				withheld++
			}
			if r.truth >= 1 && r.truth <= 4 {
				small++
			}
			if msg := checkInterval(tb.view, c, r.lo, r.hi, r.truth); msg != "" {
				fail("%s: row %s|%s: %s", k, r.unit, r.group, msg)
			}
		}
	}
	t.Logf("stats: %d tables, %d public rows checked (%d withheld, %d with a true count 1-4)", len(keys), rows, withheld, small)

	// Hexbins of one district and quarter at every public resolution,
	// against the analysts' whole-area hexbins (public cells are whole
	// cells, whatever units they overlap).
	q := fmt.Sprintf("%d-Q3", s.year)
	for res := disclose.MinRes; res <= disclose.MaxRes; res++ {
		pub, truth, err := s.hexbins(res, q, district.Code)
		if err != nil {
			t.Error(err)
			continue
		}
		if pub.Disclosure.View != "public" {
			t.Errorf("hexbins res %d: disclosure %+v", res, pub.Disclosure)
		}
		if len(pub.Bins) == 0 {
			t.Errorf("hexbins res %d of district %s: no cells", res, district.Code)
		}
		var nWithheld, nSmall int
		for _, b := range pub.Bins {
			tv := truth[b.H3]
			if b.Count == nil {
				nWithheld++
			}
			if tv >= 1 && tv <= 4 {
				nSmall++
			}
			if msg := checkInterval(pub.Disclosure, b.Count, b.Lo, b.Hi, tv); msg != "" {
				fail("hexbins res %d period %s unit %s: cell %s: %s", res, q, district.Code, b.H3, msg)
			}
		}
		t.Logf("hexbins res %d of district %s, %s: %d cells (%d withheld, %d with a true count 1-4)", res, district.Code, q, len(pub.Bins), nWithheld, nSmall)
	}
	attackSameCell(t, s, tables, district, fail)
	if failures > 25 {
		t.Errorf("... %d failures in all", failures)
	}
}

// attackSameCell: a cell asked through another route has the published
// interval of the stats table (a second, different value of the same
// cell would narrow it): the monthly and quarterly series of a district
// and of a kind, and the numbers of a mahalla profile.
func attackSameCell(t *testing.T, s *attackServer, tables map[tableKey]*statsTable, district attackUnit, fail func(string, ...any)) {
	t.Helper()
	year := strconv.Itoa(s.year)
	row := func(k tableKey, unit, group string) (pubRow, bool) {
		tb := tables[k]
		if tb == nil {
			return pubRow{}, false
		}
		for _, r := range tb.rows {
			if r.unit == unit && r.group == group {
				return r, true
			}
		}
		return pubRow{}, false
	}
	compared := 0
	for _, iv := range []string{"month", "quarter"} {
		for _, kind := range []string{"", "crime"} {
			v := url.Values{"interval": {iv}, "period": {year}, "unit": {district.Code}}
			if kind != "" {
				v.Set("kind", kind)
			}
			var sr struct {
				Disclosure viewBody `json:"disclosure"`
				Points     []struct {
					Label string `json:"label"`
					countBody
				} `json:"points"`
			}
			if err := s.getJSON("/v1/series?"+v.Encode(), "", &sr); err != nil {
				fail("%v", err)
				continue
			}
			want := 12
			if iv == "quarter" {
				want = 4
			}
			if len(sr.Points) != want {
				fail("series %s: %d points, want %d", v.Encode(), len(sr.Points), want)
				continue
			}
			for i, p := range sr.Points {
				label := fmt.Sprintf("%s-%02d", year, i+1)
				if iv == "quarter" {
					label = fmt.Sprintf("%s-Q%d", year, i+1)
				}
				var r pubRow
				var ok bool
				if kind == "" {
					r, ok = row(tableKey{label, "district", "", ""}, district.Code, "")
				} else {
					r, ok = row(tableKey{label, "district", "kind", ""}, district.Code, kind)
				}
				if !ok {
					fail("series %s: no stats row for %s", v.Encode(), label)
					continue
				}
				compared++
				if p.Lo != r.lo || p.Hi != r.hi || (p.Count == nil) == r.hasCount {
					fail("series %s point %s (%s): [%d,%d] count %v; stats table [%d,%d] count %v", v.Encode(), i, label, p.Lo, p.Hi,
						p.Count != nil, r.lo, r.hi, r.hasCount)
				}
			}
		}
	}
	// The profile of a mahalla of the district, for a quarter.
	var m string
	for _, u := range s.unitsAt("mahalla") {
		if u.ParentCode == district.Code {
			m = u.Code
			break
		}
	}
	q := year + "-Q2"
	var prof struct {
		Disclosure viewBody `json:"disclosure"`
		Stats      struct {
			countBody
			ByKind []struct {
				Group string `json:"group"`
				countBody
			} `json:"by_kind"`
		} `json:"stats"`
		Series []struct {
			Month string `json:"month"`
			countBody
		} `json:"series"`
	}
	h, err := s.getJSONHeader("/v1/mahallas/"+url.PathEscape(m)+"?period="+q, "", &prof)
	if err != nil {
		fail("%v", err)
		return
	}
	if h.Get("X-Crimemap-View") != "public" || prof.Disclosure.View != "public" {
		fail("mahalla profile %s %s: view %q / %+v", m, q, h.Get("X-Crimemap-View"), prof.Disclosure)
	}
	if r, ok := row(tableKey{q, "mahalla", "", ""}, m, ""); !ok || prof.Stats.Lo != r.lo || prof.Stats.Hi != r.hi {
		fail("mahalla profile %s %s: [%d,%d]; stats table %+v", m, q, prof.Stats.Lo, prof.Stats.Hi, r)
	} else {
		compared++
	}
	for _, bk := range prof.Stats.ByKind {
		if r, ok := row(tableKey{q, "mahalla", "kind", ""}, m, bk.Group); !ok || bk.Lo != r.lo || bk.Hi != r.hi {
			fail("mahalla profile %s %s kind %s: [%d,%d]; stats table %+v", m, q, bk.Group, bk.Lo, bk.Hi, r)
		} else {
			compared++
		}
	}
	for _, p := range prof.Series {
		r, ok := row(tableKey{p.Month, "mahalla", "", ""}, m, "")
		if !ok {
			continue // a month outside the year harvested
		}
		if p.Lo != r.lo || p.Hi != r.hi {
			fail("mahalla profile %s %s month %s: [%d,%d]; stats table [%d,%d]", m, q, p.Month, p.Lo, p.Hi, r.lo, r.hi)
		} else {
			compared++
		}
	}
	t.Logf("same cell through other routes (series of district %s, profile of mahalla %s): %d values compared", district.Code, m, compared)
}

// attackPropagation builds the bounds-propagation attack of
// analytics/disclose (runAttack in disclose_test.go) from the public
// answers of the running server only, and scores it with the truth.
func attackPropagation(t *testing.T, s *attackServer, tables map[tableKey]*statsTable, district attackUnit) {
	ctx := t.Context()
	year := strconv.Itoa(s.year)
	ref := audit.NewReferee()
	lat := ref.L
	add := func(name string, lo, hi, tv int64, sens bool) {
		if err := ref.Cell(name, lo, hi, tv, sens); err != nil {
			t.Fatalf("the same cell published twice inconsistently: %v", err)
		}
	}
	truthOf := func(name string) int64 {
		tv, _ := ref.Truth(name)
		return tv
	}
	periods := yearPeriods(s.year)
	halves, quarters := periods[1:3], periods[3:7]
	kinds := kindNames()

	// Which groups occur with which kinds: the public kind-filtered tables.
	groupKinds := map[string]map[string]bool{}
	for _, k := range kinds {
		tb := tables[tableKey{year, "region", "category", k}]
		if tb == nil {
			t.Fatalf("no table %s", tableKey{year, "region", "category", k})
		}
		for _, r := range tb.rows {
			if groupKinds[r.group] == nil {
				groupKinds[r.group] = map[string]bool{}
			}
			groupKinds[r.group][k] = true
		}
	}
	groups := make([]string, 0, len(groupKinds))
	for g := range groupKinds {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	// whats: "*" (total), kinds, category groups ("cat:<group>") and
	// groups within a kind ("<kind>/cat:<group>", the same cell as
	// "cat:<group>" when the group occurs with one kind only).
	whatName := func(kind, group string) string {
		switch {
		case group == "" && kind == "":
			return "*"
		case group == "":
			return kind
		case kind == "" || len(groupKinds[group]) == 1:
			return "cat:" + group
		}
		return kind + "/cat:" + group
	}
	for _, k := range harvestKeys(s.year) {
		tb := tables[k]
		for _, r := range tb.rows {
			var what string
			switch k.group {
			case "":
				what = whatName(k.kind, "")
			case "kind":
				what = whatName(r.group, "")
			case "category":
				what = whatName(k.kind, r.group)
			}
			add(k.period+"|"+r.unit+"|"+what, r.lo, r.hi, r.truth, r.group == disclose.SensitiveGroup)
		}
	}
	statsCells := lat.Len()

	// Classification categories of the latest admin run of each quarter:
	// a green mahalla had no registered crime, so its crime cell is [0,0].
	greens, greenWrong := 0, 0
	greenSet := map[string]bool{} // quarter|mahalla
	// greenExplains reports whether a cell is a crime cell of a mahalla
	// green in every quarter its period meets (zero by the category).
	greenExplains := func(name string) bool {
		parts := strings.SplitN(name, "|", 3)
		if len(parts) != 3 {
			return false
		}
		var qs []string
		switch p := parts[0]; {
		case len(p) == 4: // a year
			qs = quarters
		case strings.HasSuffix(p, "-H1"):
			qs = quarters[:2]
		case strings.HasSuffix(p, "-H2"):
			qs = quarters[2:]
		case strings.Contains(p, "-Q"):
			qs = []string{p}
		default: // a month
			mo, _ := strconv.Atoi(p[5:])
			qs = []string{fmt.Sprintf("%s-Q%d", p[:4], (mo-1)/3+1)}
		}
		for _, q := range qs {
			if !greenSet[q+"|"+parts[1]] {
				return false
			}
		}
		what := parts[2]
		if what == "crime" || strings.HasPrefix(what, "crime/") {
			return true
		}
		g, ok := strings.CutPrefix(what, "cat:")
		return ok && len(groupKinds[g]) == 1 && groupKinds[g]["crime"]
	}
	for _, q := range quarters {
		body, _ := json.Marshal(map[string]string{"period": q})
		resp, b, err := s.do(http.MethodPost, "/v1/classification/runs", s.admin, body)
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Errorf("admin POST /v1/classification/runs %s: %v %v %s; want 201", body, err, respStatus(resp), truncate(b, 300))
			continue
		}
		var run struct {
			Results []struct {
				Mahalla  string `json:"mahalla"`
				Category string `json:"category"`
			} `json:"results"`
		}
		h, err := s.getJSONHeader("/v1/classification?period="+q, "", &run)
		if err != nil {
			t.Error(err)
			continue
		}
		if v := h.Get("X-Crimemap-View"); v != "public" {
			t.Errorf("public classification %s: X-Crimemap-View %q", q, v)
		}
		for _, r := range run.Results {
			if r.Category != "green" {
				continue
			}
			name := q + "|" + r.Mahalla + "|" + whatName("crime", "")
			tv, ok := ref.Truth(name)
			if !ok {
				continue
			}
			if tv != 0 {
				greenWrong++
				if greenWrong <= 5 {
					t.Errorf("classification %s: mahalla %s is green but had %d crimes", q, r.Mahalla, tv)
				}
				continue
			}
			add(name, 0, 0, 0, false)
			greenSet[q+"|"+r.Mahalla] = true
			greens++
		}
	}

	// Tiles: the public mahallas layer of a quarter must show the same
	// intervals as the JSON; its cells join the lattice (same names).
	tq := quarters[2]
	tileCells, tileMismatch := attackTiles(t, s, tables[tableKey{tq, "mahalla", "", ""}])
	for _, c := range tileCells {
		if tv, ok := ref.Truth(tq + "|" + c.code + "|*"); ok {
			add(tq+"|"+c.code+"|*", c.lo, c.hi, tv, false)
		}
	}
	tileFeatures := len(tileCells)

	// H3: the public hexbins of a district at res 7 and 8 in a quarter;
	// a res-7 cell is the sum of its children when all are published.
	hexCells := map[int]map[string]bool{}
	for _, res := range []int{7, 8} {
		pub, tr, err := s.hexbins(res, tq, district.Code)
		if err != nil {
			t.Fatal(err)
		}
		hexCells[res] = map[string]bool{}
		for _, b := range pub.Bins {
			add(tq+"|h3:"+b.H3+"|*", b.Lo, b.Hi, tr[b.H3], false)
			hexCells[res][b.H3] = true
		}
	}

	// Constraints: checked against the truth so that only exact ones are
	// used, units with their unassigned remainder given exactly (as
	// runAttack does).
	addSum := func(parent string, children []string, rests bool) { ref.Sum(parent, children, rests) }
	children := map[string][]string{}
	for _, u := range s.units {
		if u.ParentCode != "" {
			children[u.ParentCode] = append(children[u.ParentCode], u.Code)
		}
	}
	parents := make([]string, 0, len(children))
	for p := range children {
		parents = append(parents, p)
	}
	sort.Strings(parents)
	whats := []string{"*"}
	whats = append(whats, kinds...)
	for _, g := range groups {
		whats = append(whats, "cat:"+g)
		if len(groupKinds[g]) > 1 {
			for _, k := range kinds {
				if groupKinds[g][k] {
					whats = append(whats, k+"/cat:"+g)
				}
			}
		}
	}
	for _, p := range periods {
		for _, wh := range whats {
			for _, parent := range parents {
				cs := children[parent]
				names := make([]string, len(cs))
				for i, c := range cs {
					names[i] = p + "|" + c + "|" + wh
				}
				addSum(p+"|"+parent+"|"+wh, names, true)
			}
		}
		for _, u := range s.units {
			// total = sum of kinds = sum of groups; kind = sum of its
			// groups; a group of several kinds = sum of its kinds.
			base := p + "|" + u.Code + "|"
			var ks, all []string
			for _, k := range kinds {
				ks = append(ks, base+k)
				var gs []string
				for _, g := range groups {
					if groupKinds[g][k] {
						gs = append(gs, base+whatName(k, g))
					}
				}
				addSum(base+k, gs, false)
			}
			for _, g := range groups {
				all = append(all, base+"cat:"+g)
				if len(groupKinds[g]) > 1 {
					var parts []string
					for _, k := range kinds {
						if groupKinds[g][k] {
							parts = append(parts, base+k+"/cat:"+g)
						}
					}
					addSum(base+"cat:"+g, parts, false)
				}
			}
			addSum(base+"*", ks, false)
			addSum(base+"*", all, false)
		}
	}
	for _, u := range s.units {
		for _, wh := range whats {
			sub := func(parent string, parts []string) {
				names := make([]string, len(parts))
				for i, sp := range parts {
					names[i] = sp + "|" + u.Code + "|" + wh
				}
				addSum(parent+"|"+u.Code+"|"+wh, names, false)
			}
			for qi, q := range quarters {
				sub(q, periods[7+3*qi:10+3*qi])
			}
			sub(halves[0], quarters[:2])
			sub(halves[1], quarters[2:])
			sub(year, halves)
		}
	}
	h3Cons := 0
	for hx := range hexCells[7] {
		c, err := strconv.ParseUint(hx, 16, 64)
		if err != nil {
			t.Fatalf("hexbin h3 %q: %v", hx, err)
		}
		var names []string
		complete := true
		for _, ch := range h3.Cell(c).Children(8) {
			chx := strconv.FormatUint(uint64(ch), 16)
			if !hexCells[8][chx] {
				complete = false
				break
			}
			names = append(names, tq+"|h3:"+chx+"|*")
		}
		if complete && len(names) > 0 {
			before := lat.Constraints()
			addSum(tq+"|h3:"+hx+"|*", names, false)
			h3Cons += lat.Constraints() - before
		}
	}

	rounds, err := lat.Propagate(ctx, 200)
	if err != nil {
		t.Fatalf("propagation: %v (a published interval does not hold its count)", err)
	}
	sc, err := ref.Score()
	if err != nil {
		t.Fatal(err)
	}
	cellsScored, small, smallPinned := sc.Cells, sc.Small, sc.SmallPinned
	sens, sensPinned, sensPinnedZero, pinned, pinnedZero := sc.Sensitive, sc.SensitivePinned, sc.SensitivePinnedZero, sc.Pinned, sc.PinnedZero
	// Explain the pinned cells: zeros that public green categories give,
	// and examples of the rest.
	pinnedGreen, known := 0, 0
	var smallExamples, zeroExamples []string
	for i := 0; i < lat.Len(); i++ {
		name, lo, hi := lat.Interval(i)
		if strings.HasPrefix(name, "rest|") {
			known++
			continue
		}
		if lo != hi {
			continue
		}
		switch tv := truthOf(name); {
		case tv == 0 && greenExplains(name):
			pinnedGreen++
		case tv == 0 && len(zeroExamples) < 8:
			zeroExamples = append(zeroExamples, name)
		case tv >= 1 && tv <= 4 && len(smallExamples) < 10:
			smallExamples = append(smallExamples, fmt.Sprintf("%s = %d", name, tv))
		}
	}
	falseCons := ref.Skipped
	t.Logf("lattice: %d cells (%d from stats tables, %d green crime cells, %d tile features, H3 res 7+8 of %s in %s: %d cells), %d exact remainders given",
		lat.Len(), statsCells, greens, tileFeatures, district.Code, tq, len(hexCells[7])+len(hexCells[8]), known)
	t.Logf("constraints %d (%d H3 parent = sum of children), %d left out (not exact), rounds %d",
		lat.Constraints(), h3Cons, falseCons, rounds)
	t.Logf("scored %d cells: true 1-4: %d, pinned %d (%.3f%%); sensitive cells %d: pinned >= 1: %d, pinned at 0: %d; any pinned %d (%d at 0, of which %d crime cells of mahallas green in every quarter of the cell's period)",
		cellsScored, small, smallPinned, 100*float64(smallPinned)/float64(max(small, 1)), sens, sensPinned, sensPinnedZero, pinned, pinnedZero, pinnedGreen)
	if len(zeroExamples) > 0 {
		t.Logf("other cells pinned at 0, e.g.: %s", strings.Join(zeroExamples, "; "))
	}
	if len(smallExamples) > 0 {
		t.Logf("small cells pinned, e.g.: %s", strings.Join(smallExamples, "; "))
	}
	if tileMismatch > 0 {
		t.Errorf("%d tile features disagree with the JSON of the same mahalla and quarter", tileMismatch)
	}
	if sensPinned > 0 {
		t.Errorf("%d sensitive cells pinned at a value >= 1", sensPinned)
	}
	if float64(smallPinned) > 0.005*float64(small) {
		t.Errorf("%d of %d cells with a true count 1-4 pinned (more than 0.5%%)", smallPinned, small)
	}
	if small == 0 {
		t.Error("no cell with a true count 1-4: the attack scored nothing")
	}
}

// attackTiles fetches the public mahallas-layer tiles at zoom 10 that
// cover every district, for the period of tb, and compares every
// feature's count, count_lo and count_hi with the JSON row of the same
// mahalla (tb). It returns the intervals of the features that agree and
// the number of mismatches.
func attackTiles(t *testing.T, s *attackServer, tb *statsTable) (cells []tileCell, mismatches int) {
	t.Helper()
	if tb == nil {
		t.Fatal("no mahalla table for the tiles")
	}
	const z = 10
	rows := map[string]pubRow{}
	for _, r := range tb.rows {
		rows[r.unit] = r
	}
	seen := map[string]bool{}
	var tiles []maptile.Tile
	for _, d := range s.unitsAt("district") {
		if len(d.BBox) != 4 {
			continue
		}
		a := maptile.At(orb.Point{d.BBox[0], d.BBox[3]}, z) // north-west
		b := maptile.At(orb.Point{d.BBox[2], d.BBox[1]}, z) // south-east
		for x := a.X; x <= b.X; x++ {
			for y := a.Y; y <= b.Y; y++ {
				tl := maptile.New(x, y, z)
				if k := fmt.Sprint(tl); !seen[k] {
					seen[k] = true
					tiles = append(tiles, tl)
				}
			}
		}
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		problems []string
		codes    = map[string]bool{}
		features int
		jobs     = make(chan maptile.Tile)
	)
	report := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		mismatches++
		if len(problems) < 10 {
			problems = append(problems, fmt.Sprintf(format, a...))
		}
	}
	for range 2 {
		wg.Go(func() {
			for tl := range jobs {
				path := fmt.Sprintf("/tiles/mahallas/%d/%d/%d.mvt?period=%s", tl.Z, tl.X, tl.Y, url.QueryEscape(tb.key.period))
				resp, b, err := s.do(http.MethodGet, path, "", nil)
				if err != nil {
					report("%v", err)
					continue
				}
				if resp.StatusCode == http.StatusNoContent {
					continue
				}
				if resp.StatusCode != http.StatusOK {
					report("GET %s: %d %s", path, resp.StatusCode, truncate(b, 200))
					continue
				}
				layers, err := mvt.Unmarshal(b)
				if err != nil {
					report("GET %s: %v", path, err)
					continue
				}
				for _, l := range layers {
					if l.Name != "mahallas" {
						continue
					}
					for _, f := range l.Features {
						code, _ := f.Properties["code"].(string)
						lo, okLo := propInt(f.Properties["count_lo"])
						hi, okHi := propInt(f.Properties["count_hi"])
						cnt, hasCount := propInt(f.Properties["count"])
						mu.Lock()
						features++
						codes[code] = true
						mu.Unlock()
						r, ok := rows[code]
						switch {
						case !ok:
							if okLo || okHi || hasCount {
								report("tile %s: mahalla %q has counts [%d,%d] but no JSON row", path, code, lo, hi)
							}
							continue
						case !okLo || !okHi:
							report("tile %s: mahalla %s without count_lo/count_hi (JSON [%d,%d])", path, code, r.lo, r.hi)
							continue
						case lo != r.lo || hi != r.hi || hasCount != r.hasCount || (hasCount && cnt != r.count):
							report("tile %s: mahalla %s count %v [%d,%d], JSON count %v [%d,%d]", path, code,
								optInt(cnt, hasCount), lo, hi, optInt(r.count, r.hasCount), r.lo, r.hi)
							continue
						}
						mu.Lock()
						cells = append(cells, tileCell{code, lo, hi})
						mu.Unlock()
					}
				}
			}
		})
	}
	for _, tl := range tiles {
		jobs <- tl
	}
	close(jobs)
	wg.Wait()
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("tiles: %d mahallas-layer tiles at z%d for %s, %d features of %d mahallas (of %d JSON rows), %d mismatches",
		len(tiles), z, tb.key.period, features, len(codes), len(rows), mismatches)
	if features == 0 {
		t.Error("no mahalla feature in any tile")
	}
	return cells, mismatches
}

// tileCell is the interval of a mahalla in a tile.
type tileCell struct {
	code   string
	lo, hi int64
}

// attackRoles: writes need the admin role (401 without a token, 403 for a
// viewer); a viewer token gets the public view, an analyst token the
// exact one.
func attackRoles(t *testing.T, s *attackServer) {
	body := []byte(fmt.Sprintf(`{"period": "%d-Q1"}`, s.year))
	for _, c := range []struct {
		name, token string
		want        int
	}{{"no token", "", http.StatusUnauthorized}, {"viewer token", s.viewer, http.StatusForbidden}, {"analyst token", s.analyst, http.StatusForbidden}} {
		resp, b, err := s.do(http.MethodPost, "/v1/classification/runs", c.token, body)
		if err != nil {
			t.Fatal(err)
		}
		var eb errorBody
		if resp.StatusCode != c.want || json.Unmarshal(b, &eb) != nil || eb.Error == "" {
			t.Errorf("POST /v1/classification/runs with %s: %d %s; want %d with a JSON error", c.name, resp.StatusCode, truncate(b, 300), c.want)
		}
	}

	path := fmt.Sprintf("/v1/stats?level=district&period=%d-Q2&group=kind", s.year)
	for _, c := range []struct {
		name, token, view string
	}{{"no token", "", "public"}, {"viewer token", s.viewer, "public"}, {"analyst token", s.analyst, "exact"}} {
		var st statsBody
		h, err := s.getJSONHeader(path, c.token, &st)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := h.Get("X-Crimemap-View"); got != c.view || st.Disclosure.View != c.view {
			t.Errorf("GET %s with %s: X-Crimemap-View %q, disclosure %+v; want view %q", path, c.name, got, st.Disclosure, c.view)
		}
		if len(st.Rows) == 0 {
			t.Errorf("GET %s with %s: no rows", path, c.name)
		}
		narrow, exactRows := 0, 0
		for _, r := range st.Rows {
			if r.Count != nil && r.Lo == *r.Count && r.Hi == *r.Count {
				exactRows++
			}
			if r.Lo >= r.Hi {
				narrow++
			}
		}
		switch c.view {
		case "exact":
			if exactRows != len(st.Rows) {
				t.Errorf("analyst: %d of %d rows with count_lo == count_hi == count", exactRows, len(st.Rows))
			}
		default:
			if narrow > 0 {
				t.Errorf("%s: %d of %d rows with count_lo >= count_hi", c.name, narrow, len(st.Rows))
			}
		}
	}
	// A viewer is the public: the same answer, refusals included.
	var pub, view statsBody
	if err := s.getJSON(path, "", &pub); err != nil {
		t.Fatal(err)
	}
	if err := s.getJSON(path, s.viewer, &view); err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(pub.Rows, view.Rows, func(a, b struct {
		Unit  string `json:"unit"`
		Group string `json:"group"`
		countBody
	}) bool {
		return a.Unit == b.Unit && a.Group == b.Group && a.Lo == b.Lo && a.Hi == b.Hi && (a.Count == nil) == (b.Count == nil)
	}) {
		t.Errorf("GET %s: the viewer's rows differ from the public ones", path)
	}
	expectRefused(t, s, "viewer asking a week", fmt.Sprintf("/v1/stats?level=mahalla&period=%d-W10", s.year), s.viewer, http.StatusForbidden)
}

// attackMetaTimes: /v1/meta tells the public the span of the data only in
// months (the first and the last events are single incidents); the
// analyst gets the exact times, which differ.
func attackMetaTimes(t *testing.T, s *attackServer) {
	var public, exact struct {
		From *time.Time `json:"data_from"`
		To   *time.Time `json:"data_to"`
	}
	if err := s.getJSON("/v1/meta", "", &public); err != nil {
		t.Fatal(err)
	}
	if err := s.getJSON("/v1/meta", s.analyst, &exact); err != nil {
		t.Fatal(err)
	}
	if public.From == nil || public.To == nil || exact.From == nil || exact.To == nil {
		t.Fatalf("meta data span: public %v..%v, analyst %v..%v", public.From, public.To, exact.From, exact.To)
	}
	for _, tm := range []time.Time{*public.From, *public.To} {
		if l := tm.In(s.loc); l.Day() != 1 || l.Hour() != 0 || l.Minute() != 0 || l.Second() != 0 {
			t.Errorf("public data span %v is not a month boundary in %s: it times an incident", tm, s.loc)
		}
	}
	if public.From.After(*exact.From) || public.To.Before(*exact.To) || exact.From.Equal(*public.From) && exact.To.Equal(*public.To) {
		t.Errorf("public span %v..%v does not cover the exact %v..%v loosely", public.From, public.To, exact.From, exact.To)
	}
}
