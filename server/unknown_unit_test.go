package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestUnknownUnitNamed: a 404 for an unknown unit names the code asked
// for, never another parameter's value (series named its interval,
// "month", and hexbins its resolution, "8").
func TestUnknownUnitNamed(t *testing.T) {
	ts, _, _ := newAnalyticsServer(t)
	const code = "1799999"
	tests := []struct {
		name, path string
		notWant    string // the other parameter's value, which must not be named
	}{
		{"series", "/v1/series?unit=" + code + "&period=2025&interval=month", `"month"`},
		{"series quarters", "/v1/series?unit=" + code + "&period=2025&interval=quarter", `"quarter"`},
		{"hexbins", "/v1/hexbins?unit=" + code + "&period=2025-Q3&res=8", `"8"`},
		{"hexbins res 6", "/v1/hexbins?unit=" + code + "&period=2025-Q3&res=6", `"6"`},
		{"stats", "/v1/stats?unit=" + code + "&period=2025-Q3&level=district", `"district"`},
		{"mahalla hot spots", "/v1/hotspots/mahallas?unit=" + code + "&period=2025-Q3", `"2025-Q3"`},
	}
	for _, tt := range tests {
		for _, public := range []bool{false, true} {
			name := tt.name
			if public {
				name += " public"
			}
			t.Run(name, func(t *testing.T) {
				var status int
				var body []byte
				if public {
					status, _, body = getPublic(t, ts.URL+tt.path)
				} else {
					status, _, body = get(t, ts.URL+tt.path)
				}
				var e struct{ Error string }
				if err := json.Unmarshal(body, &e); err != nil {
					t.Fatalf("%d %s: %v", status, body, err)
				}
				if status != http.StatusNotFound || !strings.Contains(e.Error, `unit "`+code+`"`) || strings.Contains(e.Error, tt.notWant) {
					t.Errorf("GET %s: %d %q; want 404 naming unit %q (not %s)", tt.path, status, e.Error, code, tt.notWant)
				}
			})
		}
	}
	// The exact wording of the two that named the wrong value.
	for _, p := range []string{"/v1/series?unit=" + code + "&period=2025", "/v1/hexbins?unit=" + code + "&period=2025-Q3"} {
		_, _, body := get(t, ts.URL+p)
		var e struct{ Error string }
		_ = json.Unmarshal(body, &e)
		if want := `unit "` + code + `": no region, district or mahalla has this code: not found`; e.Error != want {
			t.Errorf("GET %s: error %q, want %q", p, e.Error, want)
		}
	}
}
