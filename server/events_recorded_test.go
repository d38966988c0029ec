package server_test

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/sqlite"
)

// TestEventsRecordedAt: /v1/events gives every event its recorded_at (RFC
// 3339, UTC; absent when the store does not know it) and keeps, with
// recorded_after (RFC 3339 or a date in the service's zone), the events
// recorded after that instant, as store.EventQuery.RecordedAfter does.
func TestEventsRecordedAt(t *testing.T) {
	start := time.Now()
	ts, _, st := newAnalyticsServer(t) // requests carry an analyst token
	type event struct {
		Kind       string          `json:"kind"`
		SourceID   string          `json:"source_id"`
		RecordedAt json.RawMessage `json:"recorded_at"`
	}
	type page struct {
		Total  int
		Events []event
		Next   string
	}
	fetch := func(t *testing.T, q string) page {
		t.Helper()
		status, _, body := get(t, ts.URL+"/v1/events?"+q)
		if status != http.StatusOK {
			t.Fatalf("GET /v1/events?%s: %d %s", q, status, body)
		}
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	parse := func(t *testing.T, e event) time.Time {
		t.Helper()
		var s string
		if err := json.Unmarshal(e.RecordedAt, &s); err != nil || !strings.HasSuffix(s, "Z") {
			t.Fatalf("event %s %q: recorded_at %s, want an RFC 3339 UTC string", e.Kind, e.SourceID, e.RecordedAt)
		}
		r, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	all := fetch(t, "limit=50")
	if all.Total == 0 || len(all.Events) != 50 {
		t.Fatalf("demo: %d events (%d on the page)", all.Total, len(all.Events))
	}
	for _, e := range all.Events {
		if r := parse(t, e); r.Before(start.Add(-time.Minute)) || r.After(time.Now().Add(time.Minute)) {
			t.Errorf("event %s %q: recorded_at %v, want the demo's load (after %v)", e.Kind, e.SourceID, r, start)
		}
	}

	// The API's filter is the store's, to the microsecond.
	cut := parse(t, all.Events[len(all.Events)/2])
	want, err := st.Events(t.Context(), store.EventQuery{RecordedAfter: cut, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d events recorded after %v", want.Total, all.Total, cut)
	tests := []struct {
		name, value string
		want        int
	}{
		{"instant", cut.Format(time.RFC3339Nano), want.Total},
		{"instant in another zone", cut.In(time.FixedZone("", 5*3600)).Format(time.RFC3339Nano), want.Total},
		{"an hour before the load", start.Add(-time.Hour).UTC().Format(time.RFC3339), all.Total},
		{"a date long before", "2000-01-01", all.Total},
		{"after the load", time.Now().Add(time.Hour).UTC().Format(time.RFC3339), 0},
		{"empty is no filter", "", all.Total},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fetch(t, "limit=10000&recorded_after="+url.QueryEscape(tt.value))
			if p.Total != tt.want {
				t.Errorf("recorded_after=%s: total %d, want %d", tt.value, p.Total, tt.want)
			}
			if tt.value == "" {
				return
			}
			after, _ := time.Parse(time.RFC3339Nano, tt.value)
			for _, e := range p.Events {
				if r := parse(t, e); !after.IsZero() && !r.After(after) {
					t.Errorf("recorded_after=%s: event %s %q recorded %v", tt.value, e.Kind, e.SourceID, r)
					break
				}
			}
		})
	}

	t.Run("next page keeps recorded_after", func(t *testing.T) {
		p := fetch(t, "limit=1&recorded_after=2000-01-01")
		if v, err := url.Parse(p.Next); err != nil || v.Query().Get("recorded_after") != "2000-01-01" {
			t.Errorf("next = %q, want recorded_after kept", p.Next)
		}
	})
	t.Run("bad value", func(t *testing.T) {
		for _, v := range []string{"yesterday", "2025-13-01", "2025-01-01T00:00:00"} {
			status, _, body := get(t, ts.URL+"/v1/events?recorded_after="+url.QueryEscape(v))
			var e struct{ Error, Param string }
			_ = json.Unmarshal(body, &e)
			if status != http.StatusBadRequest || e.Param != "recorded_after" {
				t.Errorf("recorded_after=%s: %d %s, want 400 naming recorded_after", v, status, body)
			}
		}
	})

	// An event stored before recording times were kept has no recorded_at,
	// and never matches recorded_after.
	t.Run("unknown", func(t *testing.T) {
		first := all.Events[0]
		db, err := sql.Open("sqlite", st.(*sqlite.Store).Path())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(t.Context(), `UPDATE events SET recorded_at = NULL WHERE source_id = ? AND kind = (
  CASE ? WHEN 'crime' THEN 1 WHEN 'accident' THEN 2 ELSE 3 END)`, first.SourceID, first.Kind); err != nil {
			t.Fatal(err)
		}
		status, _, body := get(t, ts.URL+"/v1/events?limit=1")
		var raw struct{ Events []map[string]any }
		if err := json.Unmarshal(body, &raw); status != http.StatusOK || err != nil || len(raw.Events) != 1 {
			t.Fatalf("%d %s", status, body)
		}
		if e := raw.Events[0]; e["source_id"] != first.SourceID {
			t.Fatalf("first event %v, want %s %q", e["source_id"], first.Kind, first.SourceID)
		} else if v, ok := e["recorded_at"]; ok {
			t.Errorf("event of unknown recording time: recorded_at %v, want absent", v)
		}
		if p := fetch(t, "limit=1&recorded_after=2000-01-01"); p.Total != all.Total-1 {
			t.Errorf("recorded_after=2000-01-01: total %d, want %d (all but the unknown one)", p.Total, all.Total-1)
		}
	})
}
