// Command mkdata copies the rows and boundaries the demo region uses from the
// shared real datasets into ingest/demo/data (run by go generate in
// ingest/demo; needs the shared data directory, not needed at run time).
//
//	go run ./internal/mkdata -shared ../../../shared/data -out data
package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/crimemap/crimemap/ingest/demo/internal/sfconv"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/simplify"
	"github.com/peterstace/simplefeatures/geom"
)

// The two demo regions (SOATO) and their ADM1_EN in the akbartus file.
var regions = []struct{ code, adm1 string }{
	{"1710", "Kashkadarya province"},
	{"1706", "Bukhara region"},
}

const simplifyDeg = 0.005

func main() {
	shared := flag.String("shared", "../../../shared/data", "shared data directory")
	out := flag.String("out", "data", "output directory")
	flag.Parse()
	if err := run(*shared, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkdata:", err)
		os.Exit(1)
	}
}

func run(shared, out string) error {
	pop := filepath.Join(shared, "population")
	keepRegion := func(code string) bool { return code == "1710" || code == "1706" }
	inRegions := func(code string) bool {
		return len(code) >= 4 && keepRegion(code[:4])
	}
	// SIAT population: region and district rows.
	if err := filterCSV(filepath.Join(pop, "uzb_siat_2.01.02.0001_permanent_population_subset.csv"),
		filepath.Join(out, "siat_population.csv"), func(r []string) bool { return inRegions(r[0]) }); err != nil {
		return err
	}
	// mimaxuz regions (soato_id is column 1), districts (column 2).
	if err := filterCSV(filepath.Join(pop, "soato_mimaxuz", "regions.csv"),
		filepath.Join(out, "soato_regions.csv"), func(r []string) bool { return keepRegion(r[1]) }); err != nil {
		return err
	}
	var districtIDs []string
	if err := filterCSV(filepath.Join(pop, "soato_mimaxuz", "districts.csv"),
		filepath.Join(out, "soato_districts.csv"), func(r []string) bool {
			if inRegions(r[2]) {
				districtIDs = append(districtIDs, r[0])
				return true
			}
			return false
		}); err != nil {
		return err
	}
	if err := filterCSV(filepath.Join(pop, "soato_mimaxuz", "villages.csv"),
		filepath.Join(out, "soato_villages.csv"), func(r []string) bool { return slices.Contains(districtIDs, r[2]) }); err != nil {
		return err
	}
	return boundaries(filepath.Join(shared, "boundaries", "uzb_akbartus", "uzbekistan_regional.geojson"),
		filepath.Join(out, "regions.geojson"))
}

func filterCSV(in, out string, keep func([]string) bool) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("read %s: %w", in, err)
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(b))
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for i := 0; ; i++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		if i == 0 || keep(rec) {
			if err := w.Write(rec); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// boundaries simplifies the two region polygons (Douglas-Peucker), checks
// them, removes Kashkadarya from Bukhara so the simplified regions do not
// overlap, and writes a FeatureCollection with a soato property.
func boundaries(in, out string) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("read %s: %w", in, err)
	}
	var raw struct {
		Features []struct {
			Properties map[string]any  `json:"properties"`
			Geometry   json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	var done []geom.Geometry
	fc := geojson.NewFeatureCollection()
	for _, reg := range regions {
		var g geom.Geometry
		found := false
		for _, f := range raw.Features {
			if f.Properties["ADM1_EN"] == reg.adm1 {
				if err := g.UnmarshalJSON(f.Geometry); err != nil {
					return fmt.Errorf("%s %s: %w", in, reg.adm1, err)
				}
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%s: no feature %q", in, reg.adm1)
		}
		mp, err := sfconv.ToOrb(g)
		if err != nil {
			return err
		}
		mp = simplify.DouglasPeucker(simplifyDeg).MultiPolygon(mp)
		mp = dropTiny(mp)
		sg := sfconv.ToSF(mp)
		if err := sg.Validate(); err != nil {
			// Repair self-touching rings by a union with itself.
			sg, err = geom.UnaryUnion(sg)
			if err != nil {
				return fmt.Errorf("repair %s: %w", reg.adm1, err)
			}
		}
		for _, d := range done {
			if sg, err = geom.Difference(sg, d); err != nil {
				return fmt.Errorf("difference %s: %w", reg.adm1, err)
			}
		}
		if err := sg.Validate(); err != nil {
			return fmt.Errorf("%s still invalid: %w", reg.adm1, err)
		}
		done = append(done, sg)
		mp, err = sfconv.ToOrb(sg)
		if err != nil {
			return err
		}
		mp = dropTiny(mp)
		n := 0
		for _, p := range mp {
			for _, r := range p {
				n += len(r)
			}
		}
		fmt.Fprintf(os.Stderr, "%s: %d polygons, %d vertices\n", reg.adm1, len(mp), n)
		f := geojson.NewFeature(roundMP(mp))
		f.Properties["soato"] = reg.code
		f.Properties["name_en"] = reg.adm1
		fc.Append(f)
	}
	j, err := json.Marshal(fc)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	s := strings.ReplaceAll(string(j), "},{", "},\n{")
	return os.WriteFile(out, []byte(s+"\n"), 0o644)
}

// dropTiny removes polygons and holes smaller than ~1 km^2 (slivers left by
// simplification).
func dropTiny(mp orb.MultiPolygon) orb.MultiPolygon {
	var out orb.MultiPolygon
	for _, p := range mp {
		if len(p) == 0 || len(p[0]) < 4 || ringArea(p[0]) < 1e-4 {
			continue
		}
		q := orb.Polygon{p[0]}
		for _, h := range p[1:] {
			if len(h) >= 4 && ringArea(h) >= 1e-4 {
				q = append(q, h)
			}
		}
		out = append(out, q)
	}
	return out
}

func ringArea(r orb.Ring) float64 {
	a := 0.0
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	if a < 0 {
		a = -a
	}
	return a / 2
}

func roundMP(mp orb.MultiPolygon) orb.MultiPolygon {
	const f = 1e6
	for _, p := range mp {
		for _, r := range p {
			for i := range r {
				r[i] = orb.Point{float64(int64(r[i][0]*f+0.5)) / f, float64(int64(r[i][1]*f+0.5)) / f}
			}
		}
	}
	return mp
}
