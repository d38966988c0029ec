package demo

import (
	"bytes"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

//go:generate go run ./internal/mkdata -shared ../../../shared/data -out data

//go:embed data/*.csv data/*.geojson
var dataFS embed.FS

// record is one row of an embedded CSV keyed by header name.
type record map[string]string

func readCSV(name string) ([]record, error) {
	b, err := dataFS.ReadFile("data/" + name)
	if err != nil {
		return nil, fmt.Errorf("demo data %s: %w", name, err)
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff"))))
	var header []string
	var out []record
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("demo data %s: %w", name, err)
		}
		if header == nil {
			header = rec
			continue
		}
		m := make(record, len(rec))
		for i, v := range rec {
			m[header[i]] = strings.TrimSpace(v)
		}
		out = append(out, m)
	}
	return out, nil
}

// names of a unit from the SOATO (mimaxuz) and SIAT tables.
type sourceUnit struct {
	code, uz, cyrl, ru, en string
	districtID             string // mimaxuz id, links villages
	population             int64
	year                   int
}

// village is a settlement name from the SOATO table.
type village struct{ uz, cyrl, ru string }

type sourceData struct {
	regions   []sourceUnit
	districts []sourceUnit
	villages  map[string][]village // district SOATO -> villages
	regionGeo map[string]orb.MultiPolygon
}

// normalizeUz writes the o' and g' apostrophe uniformly (ASCII).
func normalizeUz(s string) string {
	return strings.NewReplacer("\u2018", "'", "\u2019", "'", "\u02bb", "'", "\u02bc", "'").Replace(s)
}

func loadSource() (*sourceData, error) {
	sd := &sourceData{villages: map[string][]village{}, regionGeo: map[string]orb.MultiPolygon{}}
	pop, err := readCSV("siat_population.csv")
	if err != nil {
		return nil, err
	}
	type popRow struct {
		en   string
		v    int64
		year int
	}
	pops := map[string]popRow{}
	for _, r := range pop {
		year := 0
		for k := range r {
			if y, err := strconv.Atoi(strings.TrimPrefix(k, "y")); err == nil && strings.HasPrefix(k, "y") && y > year && r[k] != "" {
				year = y
			}
		}
		if year == 0 {
			return nil, fmt.Errorf("demo data: no population year for %s", r["soato"])
		}
		f, err := strconv.ParseFloat(r["y"+strconv.Itoa(year)], 64)
		if err != nil {
			return nil, fmt.Errorf("demo data: population of %s: %w", r["soato"], err)
		}
		pops[r["soato"]] = popRow{en: r["name_en"], v: int64(f*1000 + 0.5), year: year}
	}
	regs, err := readCSV("soato_regions.csv")
	if err != nil {
		return nil, err
	}
	for _, r := range regs {
		p, ok := pops[r["soato_id"]]
		if !ok {
			return nil, fmt.Errorf("demo data: no population for region %s", r["soato_id"])
		}
		sd.regions = append(sd.regions, sourceUnit{
			code: r["soato_id"], uz: normalizeUz(r["name_uz"]), cyrl: r["name_oz"], ru: r["name_ru"],
			en: p.en, population: p.v, year: p.year,
		})
	}
	dists, err := readCSV("soato_districts.csv")
	if err != nil {
		return nil, err
	}
	idToCode := map[string]string{}
	for _, r := range dists {
		code := r["soato_id"]
		p, ok := pops[code]
		if !ok {
			return nil, fmt.Errorf("demo data: no population for district %s", code)
		}
		u := sourceUnit{
			code: code, uz: normalizeUz(r["name_uz"]), cyrl: r["name_oz"], ru: r["name_ru"],
			en: p.en, districtID: r["id"], population: p.v, year: p.year,
		}
		if isCityCode(code) {
			u.uz += " shahri"
			u.cyrl += " шаҳри"
			u.ru = "город " + u.ru
		}
		idToCode[r["id"]] = code
		sd.districts = append(sd.districts, u)
	}
	vills, err := readCSV("soato_villages.csv")
	if err != nil {
		return nil, err
	}
	for _, r := range vills {
		code, ok := idToCode[r["district_id"]]
		if !ok {
			continue
		}
		sd.villages[code] = append(sd.villages[code], village{normalizeUz(r["name_uz"]), r["name_oz"], r["name_ru"]})
	}
	b, err := dataFS.ReadFile("data/regions.geojson")
	if err != nil {
		return nil, fmt.Errorf("demo data regions: %w", err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, fmt.Errorf("demo data regions: %w", err)
	}
	for _, f := range fc.Features {
		code := f.Properties.MustString("soato", "")
		switch g := f.Geometry.(type) {
		case orb.MultiPolygon:
			sd.regionGeo[code] = g
		case orb.Polygon:
			sd.regionGeo[code] = orb.MultiPolygon{g}
		default:
			return nil, fmt.Errorf("demo data regions: %s is %T", code, f.Geometry)
		}
	}
	return sd, nil
}

// isCityCode reports whether a district SOATO code is a city (shahar):
// the fifth digit is 4 (e.g. 1710401), districts (tuman) have 2.
func isCityCode(code string) bool { return len(code) == 7 && code[4] == '4' }
