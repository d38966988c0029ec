package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/server"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/protomaps/go-pmtiles/pmtiles"
)

// realBasemap is the Kyrgyz regions archive of ../shared/data (CC BY 3.0
// IGO, Ministry of Emergency Situations of the Kyrgyz Republic / OCHA
// ROMENA, via optgeo/ky1; see its README there): layer adm1, z0-12.
const realBasemap = "../../shared/data/boundaries/kgz_ky1/ky1.pmtiles"

// writeArchive writes a small PMTiles v3 archive of gzipped MVT (made with
// go-pmtiles' own serializers) to dir/name: one square polygon in layer
// adm1 on the tiles of zooms 0-3 that hold the point (74.5, 41.5), in
// Kyrgyzstan. It returns the path.
func writeArchive(t *testing.T, dir, name string) string {
	t.Helper()
	type tile struct {
		id   uint64
		data []byte
	}
	var tiles []tile
	for z := maptile.Zoom(0); z <= 3; z++ {
		tl := maptile.At(orb.Point{74.5, 41.5}, z)
		fc := geojson.NewFeatureCollection()
		f := geojson.NewFeature(orb.Polygon{{{72, 40}, {78, 40}, {78, 43}, {72, 43}, {72, 40}}})
		f.Properties["name"] = "test"
		fc.Append(f)
		layers := mvt.NewLayers(map[string]*geojson.FeatureCollection{"adm1": fc})
		layers.ProjectToTile(tl)
		data, err := mvt.MarshalGzipped(layers)
		if err != nil {
			t.Fatal(err)
		}
		tiles = append(tiles, tile{pmtiles.ZxyToID(uint8(z), tl.X, tl.Y), data})
	}
	slices.SortFunc(tiles, func(a, b tile) int { return int(a.id) - int(b.id) })
	var entries []pmtiles.EntryV3
	var body []byte
	for _, tl := range tiles {
		entries = append(entries, pmtiles.EntryV3{TileID: tl.id, Offset: uint64(len(body)), Length: uint32(len(tl.data)), RunLength: 1})
		body = append(body, tl.data...)
	}
	root := pmtiles.SerializeEntries(entries, pmtiles.Gzip)
	meta, err := pmtiles.SerializeMetadata(map[string]any{
		"attribution":   "test boundaries",
		"vector_layers": []any{map[string]any{"id": "adm1", "fields": map[string]any{"name": "String"}}},
	}, pmtiles.Gzip)
	if err != nil {
		t.Fatal(err)
	}
	h := pmtiles.HeaderV3{
		RootOffset: pmtiles.HeaderV3LenBytes, RootLength: uint64(len(root)),
		MetadataOffset: pmtiles.HeaderV3LenBytes + uint64(len(root)), MetadataLength: uint64(len(meta)),
		TileDataLength: uint64(len(body)), AddressedTilesCount: uint64(len(tiles)), TileEntriesCount: uint64(len(tiles)),
		TileContentsCount: uint64(len(tiles)), Clustered: true,
		InternalCompression: pmtiles.Gzip, TileCompression: pmtiles.Gzip, TileType: pmtiles.Mvt,
		MinZoom: 0, MaxZoom: 3, MinLonE7: 72e7, MinLatE7: 40e7, MaxLonE7: 78e7, MaxLatE7: 43e7,
		CenterZoom: 3, CenterLonE7: 745e6, CenterLatE7: 415e6,
	}
	h.LeafDirectoryOffset = h.MetadataOffset + h.MetadataLength
	h.TileDataOffset = h.LeafDirectoryOffset
	var out bytes.Buffer
	out.Write(pmtiles.SerializeHeader(h))
	out.Write(root)
	out.Write(meta)
	out.Write(body)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenBasemapRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := writeArchive(t, dir, "good.pmtiles")
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v2 := append([]byte(nil), raw...)
	v2[7] = 2
	for _, tc := range []struct {
		name, file string
		bad        bool // ErrBadBasemap (else another error, e.g. missing)
	}{
		{"missing", filepath.Join(dir, "nope.pmtiles"), false},
		{"directory", dir, true},
		{"text", write("text.pmtiles", []byte(strings.Repeat("not an archive\n", 20))), true},
		{"truncated header", write("short.pmtiles", raw[:60]), true},
		{"old spec", write("v2.pmtiles", v2), true},
		{"no metadata", write("cut.pmtiles", raw[:pmtiles.HeaderV3LenBytes+10]), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.OpenBasemap(t.Context(), tc.file, nil)
			if err == nil {
				t.Fatal("opened")
			}
			if errors.Is(err, server.ErrBadBasemap) != tc.bad || !strings.Contains(err.Error(), filepath.Base(tc.file)) {
				t.Errorf("error %q: ErrBadBasemap %t, want %t, naming the file", err, errors.Is(err, server.ErrBadBasemap), tc.bad)
			}
		})
	}
	// A file name go-pmtiles' own paths would refuse (a space) is fine.
	b, err := server.OpenBasemap(t.Context(), writeArchive(t, dir, "my map (2).pmtiles"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if minZ, maxZ := b.Zooms(); minZ != 0 || maxZ != 3 || !slices.Equal(b.Layers(), []string{"adm1"}) {
		t.Errorf("zooms %d..%d layers %v", minZ, maxZ, b.Layers())
	}
}

// basemapServer serves an archive as the basemap behind PublicURL.
func basemapServer(t *testing.T, file string) (*httptest.Server, *server.Basemap) {
	t.Helper()
	b, err := server.OpenBasemap(t.Context(), file, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := newTestServerStore(t, server.Config{Basemap: b, PublicURL: "https://map.example.kg/"})
	return ts, b
}

// checkBasemap checks the basemap routes of ts: the TileJSON points at the
// service, tile (at z/x/y) decodes as gzipped MVT with layer adm1, empty
// (in the archive's zooms, but not stored) is 204.
func checkBasemap(t *testing.T, ts *httptest.Server, tile, empty string, maxZoom int) {
	t.Helper()
	status, h, body := do(t, "GET", ts.URL+"/basemap.json", nil)
	if status != 200 || h.Get("Cross-Origin-Resource-Policy") != "cross-origin" || h.Get("ETag") == "" {
		t.Fatalf("basemap.json: %d %s CORP %q", status, body, h.Get("Cross-Origin-Resource-Policy"))
	}
	var tj struct {
		TileJSON     string   `json:"tilejson"`
		Tiles        []string `json:"tiles"`
		MaxZoom      int      `json:"maxzoom"`
		VectorLayers []struct {
			ID string `json:"id"`
		} `json:"vector_layers"`
	}
	if err := json.Unmarshal(body, &tj); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tj.Tiles, []string{"https://map.example.kg/basemap/{z}/{x}/{y}.mvt"}) || tj.TileJSON != "3.0.0" || tj.MaxZoom != maxZoom ||
		len(tj.VectorLayers) == 0 || tj.VectorLayers[0].ID != "adm1" {
		t.Errorf("TileJSON %+v", tj)
	}

	// Go's client would ungzip silently when it asked for gzip itself.
	status, h, body = do(t, "GET", ts.URL+"/basemap/"+tile+".mvt", map[string]string{"Accept-Encoding": "gzip"})
	if status != 200 || h.Get("Content-Encoding") != "gzip" || h.Get("Content-Type") != "application/x-protobuf" ||
		!strings.Contains(h.Get("Cache-Control"), "max-age=86400") || h.Get("ETag") == "" {
		t.Fatalf("tile %s: %d %v", tile, status, h)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := mvt.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) == 0 || layers[0].Name != "adm1" || len(layers[0].Features) == 0 {
		t.Errorf("tile %s: layers %v", tile, layers)
	}
	if status, _, _ := do(t, "GET", ts.URL+"/basemap/"+tile+".mvt", map[string]string{"If-None-Match": h.Get("ETag")}); status != 304 {
		t.Errorf("tile %s revalidated: %d, want 304", tile, status)
	}

	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/basemap/" + empty + ".mvt", 204},                    // in the zooms, not in the archive
		{"/basemap/" + tile + ".png", 400},                     // not the archive's type
		{"/basemap/1/2/0.mvt", 400},                            // x outside zoom 1
		{"/basemap/31/0/0.mvt", 400},                           // no such zoom
		{"/basemap/a/0/0.mvt", 400},                            // not a number
		{"/basemap/25/0/0.mvt", 404},                           // beyond the archive's zooms
		{"/basemap/0/0.mvt", 404},                              // no route
		{"/basemap/../../etc/passwd", 404},                     // no route
		{"/basemap/0/0/0.mvt/../../../../etc/passwd.mvt", 404}, // no route
	} {
		status, h, body := do(t, "GET", ts.URL+tc.path, nil)
		if status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.path, status, body, tc.status)
		}
		if status >= 400 && !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d as %q, want the JSON error", tc.path, status, h.Get("Content-Type"))
		}
	}

	// /v1/meta names the basemap's TileJSON.
	_, _, body = do(t, "GET", ts.URL+"/v1/meta", nil)
	var m struct{ Basemap string }
	if json.Unmarshal(body, &m) != nil || m.Basemap != "https://map.example.kg/basemap.json" {
		t.Errorf("meta basemap %q", m.Basemap)
	}
}

func TestBasemap(t *testing.T) {
	ts, _ := basemapServer(t, writeArchive(t, t.TempDir(), "kg.pmtiles"))
	tl := maptile.At(orb.Point{74.5, 41.5}, 3)
	checkBasemap(t, ts, fmt.Sprintf("3/%d/%d", tl.X, tl.Y), "3/0/0", 3)
}

// TestBasemapReal serves the real Kyrgyz archive from ../shared.
func TestBasemapReal(t *testing.T) {
	if _, err := os.Stat(realBasemap); err != nil {
		if os.Getenv("CRIMEMAP_REQUIRE_POSTGIS") == "1" {
			t.Fatalf("real data required: %v", err)
		}
		t.Skipf("real data not available: %s is absent (see ../shared/data/SOURCES.md)", realBasemap)
	}
	ts, b := basemapServer(t, realBasemap)
	if !slices.Contains(b.Layers(), "adm1") {
		t.Errorf("layers %v", b.Layers())
	}
	bishkek := maptile.At(orb.Point{74.6, 42.87}, 8)
	checkBasemap(t, ts, fmt.Sprintf("8/%d/%d", bishkek.X, bishkek.Y), "8/0/0", 12)
}

// TestBasemapAbsent: without a basemap its routes are JSON 404s and meta's
// basemap is empty.
func TestBasemapAbsent(t *testing.T) {
	ts := newTestServer(t)
	for _, p := range []string{"/basemap.json", "/basemap/0/0/0.mvt"} {
		if status, _, body := do(t, "GET", ts.URL+p, nil); status != 404 || !strings.Contains(string(body), "basemap") {
			t.Errorf("%s: %d %s", p, status, body)
		}
	}
}
