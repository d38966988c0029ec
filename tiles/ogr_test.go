package tiles_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/planar"
)

// ogrinfo returns the path of GDAL's ogrinfo, skipping the test when it is
// not installed unless CRIMEMAP_REQUIRE_OGRINFO=1 (CI), where it fails.
func ogrinfo(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ogrinfo")
	if err != nil {
		if os.Getenv("CRIMEMAP_REQUIRE_OGRINFO") == "1" {
			t.Fatalf("ogrinfo not found and CRIMEMAP_REQUIRE_OGRINFO=1: %v", err)
		}
		t.Skip("ogrinfo (GDAL, Debian gdal-bin) not on PATH")
	}
	return p
}

// ogrFeature is one feature as ogrinfo prints it.
type ogrFeature struct {
	layer string
	attrs map[string]string
	geom  orb.Geometry // EPSG:3857
}

var (
	ogrLayerRe = regexp.MustCompile(`^Layer name: (\S+)`)
	ogrCountRe = regexp.MustCompile(`^Feature Count: (\d+)`)
	ogrAttrRe  = regexp.MustCompile(`^\s+(\w+) \(([\w()]+)\) = (.*)$`)
	ogrGeomRe  = regexp.MustCompile(`^\s+((MULTI)?(POLYGON|POINT|LINESTRING) .*)$`)
)

// runOGR writes tile to a .mvt file and runs ogrinfo -ro -al on it (with
// -so for the summary), georeferenced by the Z/X/Y open options. It
// returns the feature count per layer (summary) or the features.
func runOGR(t *testing.T, bin string, data []byte, tile maptile.Tile, summary bool) (map[string]int, []ogrFeature) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tile.mvt")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-ro", "-al", "-oo", fmt.Sprint("Z=", tile.Z), "-oo", fmt.Sprint("X=", tile.X), "-oo", fmt.Sprint("Y=", tile.Y)}
	if summary {
		args = append(args, "-so")
	}
	args = append(args, path)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo %v: %v\n%s", args, err, out)
	}
	counts := map[string]int{}
	var feats []ogrFeature
	layer := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case ogrLayerRe.MatchString(line):
			layer = ogrLayerRe.FindStringSubmatch(line)[1]
		case ogrCountRe.MatchString(line):
			counts[layer], _ = strconv.Atoi(ogrCountRe.FindStringSubmatch(line)[1])
		case strings.HasPrefix(line, "OGRFeature("):
			feats = append(feats, ogrFeature{layer: layer, attrs: map[string]string{}})
		case len(feats) > 0 && ogrAttrRe.MatchString(line):
			m := ogrAttrRe.FindStringSubmatch(line)
			feats[len(feats)-1].attrs[m[1]] = m[3]
		case len(feats) > 0 && ogrGeomRe.MatchString(line):
			g, err := wkt.Unmarshal(ogrGeomRe.FindStringSubmatch(line)[1])
			if err != nil {
				t.Fatalf("ogrinfo WKT: %v", err)
			}
			feats[len(feats)-1].geom = g
		}
	}
	return counts, feats
}

// webMercator projects lon/lat to EPSG:3857 metres.
func webMercator(p orb.Point) orb.Point {
	const r = 6378137.0
	return orb.Point{r * p[0] * math.Pi / 180, r * math.Log(math.Tan(math.Pi/4+p[1]*math.Pi/360))}
}

// TestOGRInfo reads the service's tiles with GDAL's MVT driver: feature
// counts per layer (composite tile) match orb's decoding, attribute values
// match, every mahalla of the tile contains an interior point of its
// boundary (GDAL's georeferencing, EPSG:3857), raw events sit within a
// pixel of their location, and public tiles (made through disclose)
// decode with the same published counts and intervals.
func TestOGRInfo(t *testing.T) {
	bin := ogrinfo(t)
	w := demoWorld(t)
	p := tiles.Params{Period: w.period}
	ctx := context.Background()
	var mahalla geo.Unit
	for _, u := range w.units {
		if u.Level == geo.LevelMahalla && strings.HasPrefix(u.Code, "1710401") {
			mahalla = u
			break
		}
	}
	if mahalla.Code == "" {
		t.Fatal("no Qarshi mahalla")
	}
	pt := interior(mahalla.Geometry)

	t.Run("composite counts", func(t *testing.T) {
		tile := maptile.At(pt, 12)
		names := []string{tiles.LayerMahallas, tiles.LayerHexbins, tiles.LayerEvents}
		res, err := w.r.Tile(ctx, tiles.Request{Layers: names, Z: int(tile.Z), X: int(tile.X), Y: int(tile.Y), Params: p})
		if err != nil || res.Data == nil {
			t.Fatalf("%v %v", err, res)
		}
		decoded := render(t, w.r, names, tile, p)
		counts, _ := runOGR(t, bin, res.Data, tile, true)
		for _, n := range names {
			if counts[n] != len(decoded[n].Features) || counts[n] == 0 {
				t.Errorf("layer %s: ogrinfo %d features, orb %d", n, counts[n], len(decoded[n].Features))
			}
		}
	})

	t.Run("mahallas attributes and positions", func(t *testing.T) {
		tile := maptile.At(pt, 13)
		res, err := w.r.Tile(ctx, tiles.Request{Layers: []string{tiles.LayerMahallas}, Z: int(tile.Z), X: int(tile.X), Y: int(tile.Y), Params: p})
		if err != nil || res.Data == nil {
			t.Fatalf("%v %v", err, res)
		}
		decoded := render(t, w.r, []string{tiles.LayerMahallas}, tile, p)[tiles.LayerMahallas]
		byCode := map[string]map[string]any{}
		for _, f := range decoded.Features {
			byCode[f.Properties.MustString("code", "")] = f.Properties
		}
		_, feats := runOGR(t, bin, res.Data, tile, false)
		if len(feats) != len(decoded.Features) {
			t.Fatalf("ogrinfo %d features, orb %d", len(feats), len(decoded.Features))
		}
		found := false
		for _, f := range feats {
			code := f.attrs["code"]
			props := byCode[code]
			if props == nil {
				t.Fatalf("ogrinfo feature %v not in orb's decoding", f.attrs)
			}
			for _, k := range []string{"count", "diff", "category", "name"} {
				if fmt.Sprint(props[k]) != f.attrs[k] && !(props[k] == nil && f.attrs[k] == "(null)") {
					t.Errorf("%s: %s = %q in ogrinfo, %v in orb", code, k, f.attrs[k], props[k])
				}
			}
			if code != mahalla.Code {
				continue
			}
			found = true
			mp, ok := f.geom.(orb.MultiPolygon)
			if poly, isPoly := f.geom.(orb.Polygon); isPoly {
				mp, ok = orb.MultiPolygon{poly}, true
			}
			if !ok || !planar.MultiPolygonContains(mp, webMercator(pt)) {
				t.Errorf("%s: ogrinfo geometry %T does not contain its interior point %v", code, f.geom, pt)
			}
		}
		if !found {
			t.Errorf("mahalla %s missing from ogrinfo's output", mahalla.Code)
		}
	})

	t.Run("public tiles", func(t *testing.T) {
		// Public tiles (through disclose): GDAL decodes them, with the
		// same features and the same published counts and intervals as
		// orb; withheld counts are absent.
		_, pr, _ := publicWorld(t)
		pub := tiles.Params{Period: w.period, Public: true}
		for _, tc := range []struct {
			tile  maptile.Tile
			names []string
		}{
			{maptile.At(pt, 12), []string{tiles.LayerMahallas, tiles.LayerHexbins}},
			{maptile.At(pt, 9), []string{tiles.LayerDistricts, tiles.LayerHotspots}},
		} {
			res, err := pr.Tile(ctx, tiles.Request{Layers: tc.names, Z: int(tc.tile.Z), X: int(tc.tile.X), Y: int(tc.tile.Y), Params: pub})
			if err != nil || res.Data == nil {
				t.Fatalf("%v %v", err, res)
			}
			decoded := render(t, pr, tc.names, tc.tile, pub)
			counts, feats := runOGR(t, bin, res.Data, tc.tile, false)
			withheld := 0
			for _, n := range tc.names {
				if counts[n] != len(decoded[n].Features) || counts[n] == 0 {
					t.Errorf("public %s z%d: ogrinfo %d features, orb %d", n, tc.tile.Z, counts[n], len(decoded[n].Features))
				}
			}
			byID := map[string]map[string]any{}
			for _, n := range tc.names {
				for _, f := range decoded[n].Features {
					id := f.Properties.MustString("code", "")
					if id == "" {
						id = f.Properties.MustString("h3", "")
					}
					byID[n+"/"+id] = f.Properties
				}
			}
			for _, f := range feats {
				id := f.attrs["code"]
				if id == "" {
					id = f.attrs["h3"]
				}
				props := byID[f.layer+"/"+id]
				if props == nil {
					t.Fatalf("ogrinfo feature %s %v not in orb's decoding", f.layer, f.attrs)
				}
				for _, k := range []string{"count", "count_lo", "count_hi", "prev_count", "diff", "bin"} {
					got, has := f.attrs[k]
					switch {
					case props[k] == nil:
						if has && got != "(null)" {
							t.Errorf("%s %s: %s = %q in ogrinfo, absent in orb", f.layer, id, k, got)
						}
					case fmt.Sprint(props[k]) != got:
						t.Errorf("%s %s: %s = %q in ogrinfo, %v in orb", f.layer, id, k, got, props[k])
					}
				}
				if _, has := props["count"]; !has {
					withheld++
				}
				if f.attrs["count_hi"] == "" || f.attrs["z"] != "" || f.attrs["suppressed"] != "" {
					t.Errorf("%s %s: public attributes %v", f.layer, id, f.attrs)
				}
			}
			if withheld == 0 && tc.tile.Z == 12 {
				t.Errorf("z%d: no withheld feature: the test exercises too little", tc.tile.Z)
			}
		}
	})

	t.Run("raw events in place", func(t *testing.T) {
		tile := maptile.At(orb.Point{65.79, 38.86}, 15)
		res, err := w.r.Tile(ctx, tiles.Request{Layers: []string{tiles.LayerEvents}, Z: int(tile.Z), X: int(tile.X), Y: int(tile.Y), Params: p})
		if err != nil {
			t.Fatal(err)
		}
		if res.Data == nil {
			t.Skip("no events in the tile")
		}
		_, feats := runOGR(t, bin, res.Data, tile, false)
		b := tile.Bound()
		lo, hi := webMercator(b.Min), webMercator(b.Max)
		px := (hi[0] - lo[0]) / tiles.Extent
		for _, f := range feats {
			q, ok := f.geom.(orb.Point)
			if !ok || q[0] < lo[0]-px || q[0] > hi[0]+px || q[1] < lo[1]-px || q[1] > hi[1]+px || f.attrs["kind"] == "" {
				t.Errorf("event %v at %v outside tile %v..%v", f.attrs, f.geom, lo, hi)
			}
		}
	})
}
