package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
)

// TestEventJSONSchema checks the events /v1/events writes against the
// Event schema of openapi.json: every key written is described, with its
// JSON type, and every described key is written for some kind.
func TestEventJSONSchema(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				Event struct {
					Required   []string `json:"required"`
					Properties map[string]struct {
						Type     string `json:"type"`
						Format   string `json:"format"`
						Nullable bool   `json:"nullable"`
					} `json:"properties"`
				} `json:"Event"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	schema := doc.Components.Schemas.Event
	rec := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	written := map[string]bool{}
	for _, kind := range analytics.Kinds {
		e := analytics.Event{Kind: kind, SourceID: "x", OccurredAt: rec.Add(-time.Hour), Category: "c", Region: "1", District: "2",
			Mahalla: "3", Article: "169", Vehicle: "car", Severity: analytics.SeverityMedium, Flags: analytics.FlagSolved}
		_ = e.SetLocation(38.86, 65.79)
		j := toEventJSON(&e)
		j.RecordedAt = &rec
		b, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := json.Unmarshal(b, &obj); err != nil {
			t.Fatal(err)
		}
		for _, k := range schema.Required {
			if _, ok := obj[k]; !ok {
				t.Errorf("%s event: required %s is not written", kind, k)
			}
		}
		for k, v := range obj {
			written[k] = true
			p, ok := schema.Properties[k]
			if !ok {
				t.Errorf("%s event: %s is written but not in openapi.json", kind, k)
				continue
			}
			var typ string
			switch v := v.(type) {
			case string:
				typ = "string"
				if p.Format == "date-time" {
					if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
						t.Errorf("%s event: %s = %q is not a date-time", kind, k, v)
					}
				}
			case float64:
				typ = "number"
				if p.Type == "integer" && v == float64(int64(v)) {
					typ = "integer"
				}
			case []any:
				typ = "array"
			case nil:
				if p.Nullable {
					typ = p.Type
				}
			}
			if typ != p.Type {
				t.Errorf("%s event: %s = %v (%s), openapi.json says %s", kind, k, v, typ, p.Type)
			}
		}
	}
	for k := range schema.Properties {
		if !written[k] {
			t.Errorf("Event.%s is in openapi.json but never written", k)
		}
	}
	// Without a recorded time (stored before migration 00007) the key is absent.
	if b, err := json.Marshal(toEventJSON(&analytics.Event{Kind: analytics.KindCrime, OccurredAt: rec})); err != nil || strings.Contains(string(b), "recorded_at") {
		t.Errorf("an event without a recorded time: %s, %v; want no recorded_at", b, err)
	}
}
