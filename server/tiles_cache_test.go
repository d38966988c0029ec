package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/server"
	"github.com/crimemap/crimemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// fetch GETs url with the headers hdr (no transparent decompression) and
// an optional bearer token.
func fetch(t *testing.T, url, token string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func tileURL(base, layers string, tl maptile.Tile) string {
	return base + "/tiles/" + layers + "/" + strconv.Itoa(int(tl.Z)) + "/" + strconv.Itoa(int(tl.X)) + "/" + strconv.Itoa(int(tl.Y)) + ".mvt"
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTileCachingHeaders(t *testing.T) {
	ts, token := newTileServerToken(t)
	u := tileURL(ts.URL, "mahallas,hexbins", maptile.At(orb.Point{65.79, 38.86}, 11)) + "?period=2026-Q2"

	// gzip for clients that accept it; the same tile either way.
	status, h, gz := fetch(t, u, "", "Accept-Encoding", "gzip, deflate, br")
	if status != 200 || h.Get("Content-Encoding") != "gzip" || h.Get("Content-Type") != server.MVTContentType {
		t.Fatalf("gzip: %d %v", status, h)
	}
	etagGz := h.Get("ETag")
	if !strings.HasSuffix(etagGz, `-gzip"`) || !strings.Contains(strings.Join(h.Values("Vary"), ","), "Accept-Encoding") {
		t.Errorf("gzip: ETag %q, Vary %q", etagGz, h.Values("Vary"))
	}
	if cc := h.Get("Cache-Control"); cc != "public, max-age=86400, stale-while-revalidate=604800" {
		t.Errorf("closed period, public: Cache-Control %q", cc)
	}
	status, h, plain := fetch(t, u, "")
	etag := h.Get("ETag")
	if status != 200 || h.Get("Content-Encoding") != "" || !bytes.Equal(gunzip(t, gz), plain) || etag == etagGz || etag == "" {
		t.Fatalf("identity: %d, encoding %q, etag %q vs %q", status, h.Get("Content-Encoding"), etag, etagGz)
	}
	if err := tiles.Validate(plain); err != nil {
		t.Fatal(err)
	}
	if _, h2, _ := fetch(t, u, ""); h2.Get("ETag") != etag {
		t.Errorf("ETag not stable: %q then %q", etag, h2.Get("ETag"))
	}
	// 304 on a matching If-None-Match (weak comparison, lists, *).
	for _, inm := range []string{etag, "W/" + etag, `"nope", ` + etag, "*"} {
		status, h, body := fetch(t, u, "", "If-None-Match", inm)
		if status != 304 || len(body) != 0 || h.Get("ETag") != etag || h.Get("Cache-Control") == "" {
			t.Errorf("If-None-Match %s: %d, %d bytes, ETag %q", inm, status, len(body), h.Get("ETag"))
		}
	}
	if status, _, _ := fetch(t, u, "", "If-None-Match", etagGz, "Accept-Encoding", "gzip"); status != 304 {
		t.Errorf("gzip etag: %d", status)
	}
	if status, _, _ := fetch(t, u, "", "If-None-Match", etagGz); status != 200 {
		t.Errorf("gzip etag for the identity encoding: %d, want 200", status)
	}
	// Other parameters, other tag.
	if _, h, _ := fetch(t, u+"&kind=crime", ""); h.Get("ETag") == etag || h.Get("ETag") == "" {
		t.Errorf("kind=crime: same ETag")
	}
	// The analyst's tile of the same request differs and is private.
	status, h, _ = fetch(t, u, token)
	if status != 200 || h.Get("ETag") == etag || h.Get("Cache-Control") != "private, max-age=86400, stale-while-revalidate=604800" {
		t.Errorf("analyst: %d, ETag %q, Cache-Control %q", status, h.Get("ETag"), h.Get("Cache-Control"))
	}
	// A running period (2026-Q4 on 2026-11-21): short.
	if _, h, _ := fetch(t, strings.Replace(u, "2026-Q2", "2026-Q4", 1), token); h.Get("Cache-Control") != "private, max-age=60" {
		t.Errorf("running period: Cache-Control %q", h.Get("Cache-Control"))
	}
	// The events layer: private, no-store, no ETag, never 304.
	ev := tileURL(ts.URL, "events", maptile.At(orb.Point{65.79, 38.86}, 11)) + "?period=2026-Q2"
	status, h, body := fetch(t, ev, token, "Accept-Encoding", "gzip", "If-None-Match", "*")
	if status != 200 || h.Get("Cache-Control") != "private, no-store" || h.Get("ETag") != "" || tiles.Validate(gunzip(t, body)) != nil {
		t.Errorf("events: %d, Cache-Control %q, ETag %q", status, h.Get("Cache-Control"), h.Get("ETag"))
	}

	// TileJSON and style: ETag and 304.
	for _, p := range []string{"/tiles/mahallas,hexbins.json?period=2026-Q2", "/styles/default.json?period=2026-Q2"} {
		status, h, body := fetch(t, ts.URL+p, "")
		e := h.Get("ETag")
		if status != 200 || e == "" || !json.Valid(body) || h.Get("Cache-Control") == "" {
			t.Fatalf("%s: %d, ETag %q", p, status, e)
		}
		if status, _, body := fetch(t, ts.URL+p, "", "If-None-Match", "W/"+e); status != 304 || len(body) != 0 {
			t.Errorf("%s If-None-Match: %d", p, status)
		}
		if _, h, _ := fetch(t, ts.URL+strings.Replace(p, "Q2", "Q1", 1), ""); h.Get("ETag") == e {
			t.Errorf("%s: same ETag for another period", p)
		}
	}
}

// decodeLayer decodes one layer of an MVT body.
func decodeLayer(t *testing.T, body []byte, name string) *mvt.Layer {
	t.Helper()
	ls, err := tiles.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.Name == name {
			return l
		}
	}
	return nil
}

func TestPublicTileRules(t *testing.T) {
	ts, token := newTileServerToken(t)
	qarshi := maptile.At(orb.Point{65.79, 38.86}, 11)
	u := tileURL(ts.URL, "mahallas", qarshi)
	errBody := func(body []byte) (msg, param string) {
		var e struct{ Error, Param string }
		_ = json.Unmarshal(body, &e)
		return e.Error, e.Param
	}
	// Periods: only closed months, quarters, half-years and years
	// (disclose.ErrNotPublic: 403 saying what a token unlocks).
	for _, q := range []string{"period=2026-W20", "period=2026-Q4", "period=2026", "period=2026-11", "from=2026-04-01&to=2026-04-30", "period=2026-04-01..2026-04-30"} {
		status, _, body := fetch(t, u+"?"+q, "")
		if msg, _ := errBody(body); status != 403 || !strings.Contains(msg, "analyst token") {
			t.Errorf("public %s: %d %s", q, status, body)
		}
		if status, _, _ := fetch(t, u+"?"+q, token); status != 200 && status != 204 {
			t.Errorf("analyst %s: %d", q, status)
		}
	}
	for _, q := range []string{"period=2026-10", "period=2026-Q3", "period=2026-H1", "period=2025", ""} {
		if status, _, body := fetch(t, u+"?"+q, ""); status != 200 {
			t.Errorf("public %s: %d %s", q, status, body)
		}
	}
	// Sensitive categories: 403, except folded into other_sensitive; one
	// category and one kind at a time.
	for _, c := range []string{"rape", "domestic_violence", "theft,human_trafficking", "theft,robbery", "&kind=crime,accident"} {
		q := "?period=2026-Q2&category=" + c
		if strings.HasPrefix(c, "&") {
			q = "?period=2026-Q2" + c
		}
		status, _, body := fetch(t, u+q, "")
		msg, _ := errBody(body)
		if status != 403 || !strings.Contains(msg, "analyst token") {
			t.Errorf("public %s: %d %s", q, status, body)
		}
		if !strings.Contains(c, ",") && (!strings.Contains(msg, "sensitive") || !strings.Contains(msg, disclose.SensitiveGroup)) {
			t.Errorf("public %s: %s", q, msg)
		}
		if status, _, _ := fetch(t, u+q, token); status != 200 && status != 204 {
			t.Errorf("analyst %s: %d", q, status)
		}
	}
	if status, _, body := fetch(t, tileURL(ts.URL, "districts", maptile.At(orb.Point{65.79, 38.86}, 7))+"?period=2025&category=other_sensitive", ""); status != 200 {
		t.Errorf("public other_sensitive: %d %s", status, body)
	}
	// No raw events for the public.
	if status, _, _ := fetch(t, tileURL(ts.URL, "events", qarshi)+"?period=2026-Q2", ""); status != 401 {
		t.Errorf("public events: %d", status)
	}

	// The public mahallas are the public /v1/stats rows (one Discloser:
	// the same published count and interval in tiles and JSON); their
	// intervals hold the analyst's exact counts, which carry
	// count_lo = count_hi = count.
	status, _, body := fetch(t, ts.URL+"/v1/stats?level=mahalla&period=2026-Q2&compare=previous", "")
	var stats struct {
		Disclosure struct{ View string }
		Rows       []map[string]any
	}
	if status != 200 || json.Unmarshal(body, &stats) != nil || stats.Disclosure.View != "public" || len(stats.Rows) == 0 {
		t.Fatalf("public /v1/stats: %d %.300s", status, body)
	}
	rows := map[string]map[string]any{}
	for _, r := range stats.Rows {
		code, _ := r["unit"].(string)
		rows[code] = r
	}
	_, _, pub := fetch(t, u+"?period=2026-Q2", "")
	_, _, ana := fetch(t, u+"?period=2026-Q2", token)
	exact := map[string]float64{}
	for _, f := range decodeLayer(t, ana, "mahallas").Features {
		c := f.Properties.MustFloat64("count")
		if f.Properties["count_lo"] != c || f.Properties["count_hi"] != c {
			t.Fatalf("analyst interval not [count, count]: %v", f.Properties)
		}
		exact[f.Properties.MustString("code")] = c
	}
	withheld := 0
	for _, f := range decodeLayer(t, pub, "mahallas").Features {
		code := f.Properties.MustString("code")
		row := rows[code]
		if row == nil {
			t.Fatalf("mahalla %s not in /v1/stats", code)
		}
		c, hasCount := f.Properties["count"]
		if row["count"] == nil {
			withheld++
			if hasCount || f.Properties["rate"] != nil || f.Properties["diff"] != nil || f.Properties["pct"] != nil {
				t.Errorf("mahalla %s withheld: %v", code, f.Properties)
			}
		} else if c != row["count"] {
			t.Errorf("mahalla %s: tile count %v, /v1/stats %v", code, c, row["count"])
		}
		lo, hi := f.Properties.MustFloat64("count_lo", -1), f.Properties.MustFloat64("count_hi", -1)
		if lo != row["count_lo"] || hi != row["count_hi"] {
			t.Errorf("mahalla %s: tile [%v, %v], /v1/stats [%v, %v]", code, lo, hi, row["count_lo"], row["count_hi"])
		}
		if prev, _ := row["previous"].(map[string]any); prev == nil || f.Properties["prev_count"] != prev["base"] ||
			f.Properties["prev_count_lo"] != prev["base_lo"] || f.Properties["prev_count_hi"] != prev["base_hi"] || f.Properties["diff"] != prev["diff"] {
			t.Errorf("mahalla %s: tile %v, /v1/stats previous %v", code, f.Properties, prev)
		}
		if n := exact[code]; n < lo || n > hi {
			t.Errorf("mahalla %s: exact %v outside [%v, %v]", code, n, lo, hi)
		}
		if _, has := f.Properties["suppressed"]; has {
			t.Errorf("mahalla %s: suppressed property", code)
		}
	}
	if withheld == 0 {
		t.Error("no mahalla withheld: the test exercises nothing")
	}
	// Hexbins: resolution 8 at most for the public, 10 at z13 for analysts.
	deep := tileURL(ts.URL, "hexbins", maptile.At(orb.Point{65.79, 38.86}, 13)) + "?period=2026-Q2"
	for who, want := range map[string]float64{"": 8, token: 10} {
		_, _, body := fetch(t, deep, who)
		l := decodeLayer(t, body, "hexbins")
		if l == nil || len(l.Features) == 0 {
			t.Fatalf("no hexbins at z13")
		}
		for _, f := range l.Features {
			if f.Properties.MustFloat64("res") != want {
				t.Fatalf("token %v: res %v, want %v", who != "", f.Properties["res"], want)
			}
		}
	}
	// Hotspots: bins for everybody, z and p for analysts only.
	hot := tileURL(ts.URL, "hotspots", maptile.At(orb.Point{65.79, 38.86}, 9)) + "?period=2026-Q2"
	for who, wantZ := range map[string]bool{"": false, token: true} {
		_, _, body := fetch(t, hot, who)
		l := decodeLayer(t, body, "hotspots")
		if l == nil || len(l.Features) == 0 {
			t.Fatal("no hotspots")
		}
		for _, f := range l.Features {
			if _, hasZ := f.Properties["z"]; hasZ != wantZ || f.Properties["bin"] == nil || f.Properties["count_hi"] == nil {
				t.Fatalf("token %v: hotspot %v", who != "", f.Properties)
			}
		}
	}
}
