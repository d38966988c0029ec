package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Virtual columns holding the Point geometry of a GeoJSON feature.
const (
	geomLon = "\x00geometry.lon"
	geomLat = "\x00geometry.lat"
)

type geojsonReader struct {
	dec   *json.Decoder
	sch   *schema
	props []string // property name of each virtual column
	i     int      // next feature index
	done  bool
	first json.RawMessage // feature 0, read ahead by newGeoJSONReader
}

// newGeoJSONReader positions the decoder on the first element of the
// top-level "features" array. Properties are looked up by the mapped names;
// lon/lat come from a Point geometry unless mapped to properties.
func newGeoJSONReader(src io.Reader, mapping map[string]string) (*geojsonReader, error) {
	dec := json.NewDecoder(src)
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w (want a GeoJSON FeatureCollection of points)", ErrEmpty)
		}
		return nil, err
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("GeoJSON: %w: %w", ErrBadInput, err)
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return nil, fmt.Errorf("GeoJSON: no \"features\" array: %w", ErrBadInput)
		}
		key, _ := tok.(string)
		if key == "features" {
			break
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, fmt.Errorf("GeoJSON member %q: %w: %w", key, ErrBadInput, err)
		}
	}
	if err := expectDelim(dec, '['); err != nil {
		return nil, err
	}
	// The first feature tells a file of boundaries given by mistake.
	var first json.RawMessage
	if dec.More() {
		if err := dec.Decode(&first); err != nil {
			return nil, fmt.Errorf("GeoJSON feature 0: %w: %w", ErrBadInput, err)
		}
		var f struct {
			Geometry *struct {
				Type string `json:"type"`
			} `json:"geometry"`
		}
		if json.Unmarshal(first, &f) == nil && f.Geometry != nil {
			switch f.Geometry.Type {
			case "Polygon", "MultiPolygon", "GeometryCollection":
				return nil, fmt.Errorf("%w (feature 0 is a %s)", ErrNotEvents, f.Geometry.Type)
			}
		}
	}
	// Virtual header: every name a field may be mapped to, plus the geometry.
	var header []string
	for _, f := range Fields {
		col, ok := mapping[f]
		if !ok {
			col = f
		}
		for _, p := range strings.SplitN(col, "+", 2) {
			header = append(header, strings.TrimSpace(p))
		}
	}
	m := make(map[string]string, len(mapping)+2)
	for k, v := range mapping {
		m[k] = v
	}
	_, latMapped := mapping[FieldLat]
	_, lonMapped := mapping[FieldLon]
	if !latMapped && !lonMapped {
		header = append(header, geomLon, geomLat)
		m[FieldLon], m[FieldLat] = geomLon, geomLat
	}
	sch, err := buildSchema(header, m, "GeoJSON properties")
	if err != nil {
		return nil, err
	}
	return &geojsonReader{dec: dec, sch: sch, props: header, first: first}, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("GeoJSON: %w: %w", ErrBadInput, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("GeoJSON: want %q, found %v: %w", want, tok, ErrBadInput)
	}
	return nil
}

func (g *geojsonReader) schema() *schema { return g.sch }
func (g *geojsonReader) comma() rune     { return ',' }

type pointFeature struct {
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
	Geometry   *struct {
		Type        string            `json:"type"`
		Coordinates []json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
}

const maxRawText = 2000

func (g *geojsonReader) next() (row, error) {
	var raw json.RawMessage
	if g.first != nil {
		raw, g.first = g.first, nil
	} else {
		if g.done || !g.dec.More() {
			g.done = true
			return row{}, io.EOF
		}
		if err := g.dec.Decode(&raw); err != nil {
			g.done = true
			return row{}, fmt.Errorf("GeoJSON feature %d: %w: %w", g.i, ErrBadInput, err)
		}
	}
	idx := g.i
	g.i++
	text := string(raw)
	if len(text) > maxRawText {
		text = text[:maxRawText]
	}
	r := row{line: idx, raw: text}
	reject := func(field, format string, args ...any) (row, error) {
		class := RejectUnreadable
		if field != "" && field != "geometry" {
			class = RejectBadValue
		}
		r.err = &Reject{Line: idx, Field: field, Class: class, Reason: fmt.Sprintf(format, args...), Raw: text}
		return r, nil
	}
	var f pointFeature
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		return reject("", "not a GeoJSON Feature: %v", err)
	}
	if f.Type != "Feature" {
		return reject("", "type %q, want Feature", f.Type)
	}
	r.fields = make([]string, len(g.props))
	for i, p := range g.props {
		switch p {
		case geomLon, geomLat:
			continue
		}
		v, ok := f.Properties[p]
		if !ok {
			continue
		}
		s, err := scalar(v)
		if err != nil {
			return reject(p, "property %q: %v", p, err)
		}
		r.fields[i] = s
	}
	if gm := f.Geometry; gm != nil && len(g.props) >= 2 && g.props[len(g.props)-1] == geomLat {
		if gm.Type != "Point" {
			return reject("geometry", "geometry type %q, want Point", gm.Type)
		}
		if len(gm.Coordinates) != 0 { // empty Point: no location
			if len(gm.Coordinates) < 2 {
				return reject("geometry", "Point with %d coordinate(s)", len(gm.Coordinates))
			}
			r.fields[len(g.props)-2] = strings.Trim(string(gm.Coordinates[0]), "\" \t")
			r.fields[len(g.props)-1] = strings.Trim(string(gm.Coordinates[1]), "\" \t")
		}
	}
	return r, nil
}

func scalar(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", errors.New("not a scalar value")
}
