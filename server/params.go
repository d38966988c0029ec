package server

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// query reads typed parameters from a URL query; every failure is a
// *ParamError naming the parameter and what is allowed.
type query struct {
	v   url.Values
	loc *time.Location
	now func() time.Time
}

func (q query) str(name string) string { return strings.TrimSpace(q.v.Get(name)) }

func (q query) oneOf(name, def string, allowed ...string) (string, error) {
	s := q.str(name)
	if s == "" {
		return def, nil
	}
	for _, a := range allowed {
		if s == a {
			return s, nil
		}
	}
	return "", &ParamError{Param: name, Value: s, Allowed: strings.Join(allowed, ", ")}
}

func (q query) intRange(name string, def, lo, hi int) (int, error) {
	s := q.str(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, &ParamError{Param: name, Value: s, Allowed: fmt.Sprintf("an integer from %d to %d", lo, hi)}
	}
	return n, nil
}

// timeParam parses a date (YYYY-MM-DD, midnight in the service's zone) or an
// RFC 3339 timestamp.
func (q query) timeParam(name string) (time.Time, error) {
	s := q.str(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, q.loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, &ParamError{Param: name, Value: s, Allowed: "a date YYYY-MM-DD (in " + q.loc.String() + ") or an RFC 3339 timestamp"}
}

// bbox parses minLon,minLat,maxLon,maxLat in EPSG:4326.
func (q query) bbox(name string) (*orb.Bound, error) {
	s := q.str(name)
	if s == "" {
		return nil, nil
	}
	bad := &ParamError{Param: name, Value: s, Allowed: "minLon,minLat,maxLon,maxLat in degrees (EPSG:4326), min < max"}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return nil, bad
	}
	var f [4]float64
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, bad
		}
		f[i] = v
	}
	if f[0] < -180 || f[2] > 180 || f[1] < -90 || f[3] > 90 || f[0] >= f[2] || f[1] >= f[3] {
		return nil, bad
	}
	return &orb.Bound{Min: orb.Point{f[0], f[1]}, Max: orb.Point{f[2], f[3]}}, nil
}
