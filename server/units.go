package server

import (
	"net/http"

	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb/geojson"
)

// unitJSON is a unit in API responses.
type unitJSON struct {
	Code           string            `json:"code"`
	ParentCode     string            `json:"parent_code,omitempty"`
	Level          geo.Level         `json:"level"`
	Name           string            `json:"name"`
	Names          map[string]string `json:"names"`
	Population     *int64            `json:"population"`
	PopulationYear *int              `json:"population_year"`
	BBox           []float64         `json:"bbox,omitempty"`
}

func toUnitJSON(u *geo.Unit) unitJSON {
	j := unitJSON{Code: u.Code, ParentCode: u.ParentCode, Level: u.Level, Name: u.Name("uz"), Names: u.Names}
	if j.Names == nil {
		j.Names = map[string]string{}
	}
	if u.Population > 0 {
		p, y := u.Population, u.PopulationYear
		j.Population = &p
		if y > 0 {
			j.PopulationYear = &y
		}
	}
	if len(u.Geometry) > 0 {
		b := u.Geometry.Bound()
		j.BBox = []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
	}
	return j
}

func unitFeature(u *geo.Unit) *geojson.Feature {
	var f *geojson.Feature
	if len(u.Geometry) > 0 {
		f = geojson.NewFeature(u.Geometry)
	} else {
		f = &geojson.Feature{Type: "Feature", Properties: geojson.Properties{}}
	}
	f.ID = u.Code
	j := toUnitJSON(u)
	f.Properties["code"] = j.Code
	f.Properties["parent_code"] = j.ParentCode
	f.Properties["level"] = j.Level
	f.Properties["name"] = j.Name
	for lang, n := range j.Names {
		f.Properties["name_"+lang] = n
	}
	f.Properties["population"] = j.Population
	f.Properties["population_year"] = j.PopulationYear
	return f
}

func (s *Server) handleUnits(w http.ResponseWriter, r *http.Request) {
	q := s.query(r)
	level, err := q.oneOf("level", "", "region", "district", "mahalla")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	format, err := q.oneOf("format", "json", "json", "geojson")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	units, err := s.cfg.Store.Units(r.Context(), store.UnitQuery{
		Level: geo.Level(level), Parent: q.str("parent"), WithGeometry: true,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if format == "geojson" {
		fc := geojson.NewFeatureCollection()
		for i := range units {
			fc.Append(unitFeature(&units[i]))
		}
		s.writeGeoJSON(w, r, fc)
		return
	}
	out := make([]unitJSON, len(units))
	for i := range units {
		out[i] = toUnitJSON(&units[i])
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"units": out, "count": len(out), "notice": s.cfg.Notice})
}

func (s *Server) handleUnit(w http.ResponseWriter, r *http.Request) {
	q := s.query(r)
	format, err := q.oneOf("format", "json", "json", "geojson")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.cfg.Store.Unit(r.Context(), chi.URLParam(r, "code"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if format == "geojson" {
		s.writeGeoJSON(w, r, unitFeature(&u))
		return
	}
	s.writeJSON(w, r, http.StatusOK, toUnitJSON(&u))
}

func (s *Server) writeGeoJSON(w http.ResponseWriter, r *http.Request, v any) {
	w.Header().Set("Content-Type", "application/geo+json")
	s.writeJSONBody(w, r, http.StatusOK, v)
}
