package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/analytics/classify"
	"go.yaml.in/yaml/v3"
)

// defaultPolicyDoc is the built-in policy as a generic document (the
// shape a client sends as JSON), decoded from its YAML.
func defaultPolicyDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(classify.DefaultPolicyYAML(), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// runBodyWithPolicy is a POST /v1/classification/runs body with a policy.
func runBodyWithPolicy(t *testing.T, period, unit string, policy any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"period": period, "unit": unit, "policy": policy})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// indicator returns the named indicator of a policy document.
func indicator(t *testing.T, doc map[string]any, name string) map[string]any {
	t.Helper()
	for _, in := range doc["indicators"].([]any) {
		if m := in.(map[string]any); m["name"] == name {
			return m
		}
	}
	t.Fatalf("policy has no indicator %q", name)
	return nil
}

// A run may bring its own policy: it is classified with it, stored with its
// name and version, and the diff against a run of the server's policy
// names the policy change.
func TestClassificationRunPolicy(t *testing.T) {
	ts, live, st := newAnalyticsServer(t)
	admin := adminToken(t, st)
	base := createRun(t, ts.URL, admin, `{"period": "2026-Q2"}`)
	// The stored run bumped the data version: the snapshot rebuilds (as the
	// server's watcher does), on the same inputs.
	if err := live.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	def := classify.DefaultPolicy()
	if base.PolicyName != def.Name || base.PolicyVersion != def.Version() {
		t.Fatalf("run without a policy: %s %s, want the server's %s %s", base.PolicyName, base.PolicyVersion, def.Name, def.Version())
	}

	// Laxer: a mahalla with crime that no rule makes red is green, not
	// yellow, and the smoothed crime rate must be three times the default's.
	doc := defaultPolicyDoc(t)
	doc["version"] = def.Version() + "+lax"
	doc["default"] = "green"
	rate := indicator(t, doc, "crime_rate")
	threshold := rate["threshold"].(int) * 3
	rate["threshold"] = threshold
	lax := createRun(t, ts.URL, admin, runBodyWithPolicy(t, "2026-Q2", "", doc))
	if lax.DataVersion == base.DataVersion || lax.InputVersion == nil || base.InputVersion == nil || *lax.InputVersion != *base.InputVersion {
		t.Errorf("runs on one data after a reload: data versions %d, %d (want them to differ), input versions %v, %v (want equal)",
			base.DataVersion, lax.DataVersion, base.InputVersion, lax.InputVersion)
	}
	if lax.PolicyName != def.Name || lax.PolicyVersion != def.Version()+"+lax" {
		t.Errorf("run with a policy: stored as %s %s", lax.PolicyName, lax.PolicyVersion)
	}
	if len(lax.Results) != len(base.Results) || base.Counts.Yellow == 0 || lax.Counts.Yellow != 0 || lax.Counts.Red > base.Counts.Red {
		t.Errorf("laxer policy: %d results, counts %+v; default: %d results, %+v", len(lax.Results), lax.Counts, len(base.Results), base.Counts)
	}
	for _, r := range lax.Results {
		for _, in := range r.Indicators {
			if in.Name == "crime_rate" && (in.Threshold == nil || *in.Threshold != float64(threshold)) {
				t.Fatalf("mahalla %s: crime_rate threshold %v, want the request's %d", r.Mahalla, in.Threshold, threshold)
			}
		}
	}

	status, _, b := get(t, ts.URL+"/v1/classification/diff?a="+strconv.FormatInt(base.ID, 10)+"&b="+strconv.FormatInt(lax.ID, 10))
	if status != http.StatusOK {
		t.Fatalf("diff: %d %s", status, b)
	}
	var d struct {
		Causes  []string `json:"causes"`
		Summary struct {
			Category, Better int
		} `json:"summary"`
		Mahallas []struct {
			Mahalla string
			Causes  []string
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	// The policy alone: no data cause, for the run or any mahalla.
	if !slices.Equal(d.Causes, []string{"policy change"}) || d.Summary.Category == 0 || d.Summary.Better == 0 {
		t.Errorf("diff of the policy change: causes %v, summary %+v", d.Causes, d.Summary)
	}
	for _, m := range d.Mahallas {
		if !slices.Equal(m.Causes, []string{"policy change"}) {
			t.Errorf("diff of the policy change: mahalla %s causes %v", m.Mahalla, m.Causes)
		}
	}

	// The latest run of the period is the newest full run: the laxer one.
	status, _, b = get(t, ts.URL+"/v1/classification?period=2026-Q2")
	if got := decode[runBody](t, b); status != http.StatusOK || got.ID != lax.ID {
		t.Errorf("latest run: %d, run %d; want %d", status, got.ID, lax.ID)
	}

	// A district run with a policy; null is the server's policy.
	district := base.Results[0].District
	if run := createRun(t, ts.URL, admin, runBodyWithPolicy(t, "2026-Q2", district, doc)); run.Unit != district || run.PolicyVersion != def.Version()+"+lax" {
		t.Errorf("district run: unit %q, version %q", run.Unit, run.PolicyVersion)
	}
	if run := createRun(t, ts.URL, admin, `{"period": "2026-Q2", "policy": null}`); run.PolicyVersion != def.Version() {
		t.Errorf("policy null: version %q, want the server's %q", run.PolicyVersion, def.Version())
	}
	// The server's own policy, sent back unchanged, is accepted under its name.
	if run := createRun(t, ts.URL, admin, runBodyWithPolicy(t, "2026-Q2", "", defaultPolicyDoc(t))); run.PolicyVersion != def.Version() || run.Counts != base.Counts {
		t.Errorf("the default policy sent as a document: version %q, counts %+v; want %q, %+v", run.PolicyVersion, run.Counts, def.Version(), base.Counts)
	}
}

// The example of the OpenAPI description classifies.
func TestClassificationRunPolicyOpenAPIExample(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Properties map[string]struct {
							Example json.RawMessage `json:"example"`
						} `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	ex := spec.Paths["/v1/classification/runs"]["post"].RequestBody.Content["application/json"].Schema.Properties["policy"].Example
	if len(ex) == 0 {
		t.Fatal("openapi.json: POST /v1/classification/runs has no policy example")
	}
	ts, _, st := newAnalyticsServer(t)
	run := createRun(t, ts.URL, adminToken(t, st), `{"period": "2026-Q2", "policy": `+string(ex)+`}`)
	if run.PolicyName != "safe-mahalla-test" || run.Counts.Total == 0 || run.Counts.Yellow == 0 {
		t.Errorf("example policy: %s %s, counts %+v", run.PolicyName, run.PolicyVersion, run.Counts)
	}
	for _, r := range run.Results {
		if len(r.Indicators) != 1 || r.Indicators[0].Name != "crime_rate" || r.Indicators[0].Threshold == nil || *r.Indicators[0].Threshold != 10 {
			t.Fatalf("example policy: mahalla %s indicators %+v", r.Mahalla, r.Indicators)
		}
	}
}

// A bad policy is a 400 that names the field and the problem, as a bad
// policy file does, and nothing is stored.
func TestClassificationRunPolicyErrors(t *testing.T) {
	ts, _, st := newAnalyticsServer(t)
	admin := adminToken(t, st)
	def := classify.DefaultPolicy()

	typo := defaultPolicyDoc(t)
	typo["version"] = "typo"
	typo["rules"].([]any)[0].(map[string]any)["all"] = []any{"crime_rat", "grave"}

	modifiedSameVersion := defaultPolicyDoc(t)
	indicator(t, modifiedSameVersion, "crime_rate")["threshold"] = 70

	monthOnly := defaultPolicyDoc(t)
	monthOnly["version"] = "month-only"
	indicator(t, monthOnly, "crimes")["threshold"] = map[string]any{"month": 4}

	tests := []struct {
		name   string
		policy any
		want   []string
	}{
		{"unknown indicator", typo, []string{`rules[0].all[0]`, `unknown indicator \"crime_rat\"`}},
		{"no version", map[string]any{"name": "x", "indicators": []any{map[string]any{"name": "a", "kind": "crime_count"}}}, []string{"version"}},
		{"unknown kind", map[string]any{"name": "x", "version": "1", "indicators": []any{map[string]any{"name": "a", "kind": "crime_cuont"}}}, []string{"indicators[0].kind", "crime_cuont"}},
		{"unknown field", map[string]any{"name": "x", "version": "1", "colour": "red", "indicators": []any{map[string]any{"name": "a", "kind": "crime_count"}}}, []string{"colour"}},
		{"empty", map[string]any{}, []string{`"param":"policy"`}},
		{"the server's name and version, modified", modifiedSameVersion, []string{"version", def.Version(), "a version of its own"}},
		{"no threshold for quarters", monthOnly, []string{`indicator \"crimes\" has no threshold for quarter periods`}},
	}
	for _, tt := range tests {
		status, _, b := post(t, ts.URL+"/v1/classification/runs", admin, runBodyWithPolicy(t, "2026-Q2", "", tt.policy))
		if status != http.StatusBadRequest || !strings.Contains(string(b), `"param":"policy"`) {
			t.Errorf("%s: %d %s; want 400 for param policy", tt.name, status, b)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: %s does not name %s", tt.name, b, w)
			}
		}
	}
	// Not an object: a malformed body.
	for _, body := range []string{`{"period": "2026-Q2", "policy": "safe"}`, `{"period": "2026-Q2", "policy": [1]}`} {
		if status, _, b := post(t, ts.URL+"/v1/classification/runs", admin, body); status != http.StatusBadRequest || !strings.Contains(string(b), `"param":"body"`) {
			t.Errorf("%s: %d %s; want 400 for the body", body, status, b)
		}
	}
	// Nothing was stored.
	status, _, b := get(t, ts.URL+"/v1/classification/runs")
	var list struct {
		Runs []json.RawMessage `json:"runs"`
	}
	if err := json.Unmarshal(b, &list); status != http.StatusOK || err != nil || len(list.Runs) != 0 {
		t.Errorf("runs after refused policies: %d, %d runs (%v)", status, len(list.Runs), err)
	}
}
