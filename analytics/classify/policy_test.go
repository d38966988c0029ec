package classify

import (
	"errors"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/analytics"
)

const basePolicy = `name: test
version: "1"
indicators:
  - name: rate
    kind: crime_rate
    threshold: 10
  - name: grave
    kind: grave_count
    threshold: 2
rules:
  - name: r1
    category: red
    all: [rate, grave]
`

func TestLoadPolicyErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"unknown indicator in a rule", basePolicy + "  - name: r2\n    category: yellow\n    any: [grave, juvenil]\n",
			[]string{`policy.yaml:16: rules[1].any[1]: unknown indicator "juvenil" (known: rate, grave)`}},
		{"unknown kind", strings.Replace(basePolicy, "kind: grave_count", "kind: gravity", 1),
			[]string{`policy.yaml:8: indicators[1].kind: unknown kind "gravity" (known: accidents, alcohol_drugs,`}},
		{"negative threshold", strings.Replace(basePolicy, "threshold: 2", "threshold: -1", 1),
			[]string{`policy.yaml:9: indicators[1].threshold: bad threshold -1: grave and especially grave crimes are never negative`}},
		{"zero threshold always fires", strings.Replace(basePolicy, "threshold: 2", "threshold: 0", 1),
			[]string{`policy.yaml:9: indicators[1].threshold: bad threshold 0`}},
		{"share above 1", strings.Replace(basePolicy, "kind: grave_count\n    threshold: 2", "kind: hotspot_share\n    threshold: 1.5", 1),
			[]string{`policy.yaml:9: indicators[1].threshold: bad threshold 1.5: a share is 0..1`}},
		{"threshold not a number", strings.Replace(basePolicy, "threshold: 2", "threshold: many", 1),
			[]string{`policy.yaml:9: indicators[1].threshold: want a number, got "many"`}},
		{"bad period key", strings.Replace(basePolicy, "threshold: 2", "threshold: {quarter: 2, decade: 9}", 1),
			[]string{`policy.yaml:9: indicators[1].threshold.decade: unknown field (want week, month, quarter, half, year, range, default)`}},
		{"duplicate indicator", strings.Replace(basePolicy, "name: grave\n", "name: rate\n", 1),
			[]string{`policy.yaml:7: indicators[1].name: duplicate indicator name "rate" (also indicators[0])`}},
		{"duplicate rule", basePolicy + "  - name: r1\n    category: yellow\n    any: [grave]\n",
			[]string{`policy.yaml:14: rules[1].name: duplicate rule name "r1" (also rules[0])`}},
		{"unknown rule type", basePolicy + "  - name: r2\n    category: yellow\n    none_of: [grave]\n",
			[]string{`policy.yaml:16: rules[1].none_of: unknown rule type "none_of"`, `policy.yaml:14: rules[1]: no condition`}},
		{"rule without condition", basePolicy + "  - name: r2\n    category: yellow\n",
			[]string{`policy.yaml:14: rules[1]: no condition`}},
		{"green rule", basePolicy + "  - name: r2\n    category: green\n    any: [grave]\n",
			[]string{`policy.yaml:15: rules[1].category: want red or yellow, got "green"`}},
		{"min_fired too large", basePolicy + "  - name: r2\n    category: yellow\n    min_fired: 3\n    of: [rate, grave]\n",
			[]string{`policy.yaml:16: rules[1].min_fired: 3 exceeds the 2 indicators it counts`}},
		{"gte without indicator", basePolicy + "  - name: r2\n    category: yellow\n    gte: 3\n",
			[]string{`policy.yaml:16: rules[1].gte: gte needs indicator`}},
		{"yaml syntax", basePolicy + "  - name: a: b\n",
			[]string{`policy.yaml:14: syntax: mapping values are not allowed in this context`}},
		{"unknown top-level field", "nmae: x\n" + basePolicy,
			[]string{`policy.yaml:1: nmae: unknown field`}},
		{"missing version", strings.Replace(basePolicy, "version: \"1\"\n", "", 1),
			[]string{`policy.yaml:1: version: required`}},
		{"bad default", basePolicy + "default: red\n",
			[]string{`policy.yaml:14: default: want yellow or green, got "red"`}},
		{"reserved indicator name", strings.Replace(basePolicy, "name: grave\n", "name: registered_crimes\n", 1),
			[]string{`indicators[1].name: "registered_crimes" is reserved`}},
		{"raw on a count", strings.Replace(basePolicy, "threshold: 2\n", "threshold: 2\n    raw: true\n", 1),
			[]string{`policy.yaml:10: indicators[1].raw: only rate kinds are smoothed`}},
		{"bad smoothing", basePolicy + "smoothing: {reference: country}\n",
			[]string{`policy.yaml:14: smoothing.reference: unknown reference "country" (want district or region)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadPolicy(strings.NewReader(tt.yaml), "policy.yaml")
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrPolicy) {
				t.Errorf("error %v does not wrap ErrPolicy", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nlacks\n%s", err, w)
				}
			}
		})
	}
}

func TestLoadPolicyJSON(t *testing.T) {
	js := `{
	"name": "json", "version": "2", "default": "green",
	"indicators": [
		{"name": "rate", "kind": "crime_rate", "threshold": 10},
		{"name": "grave", "kind": "grave_count", "threshold": {"month": 1, "quarter": 2}}
	],
	"rules": [{"name": "r1", "category": "red", "all": ["rate", "grave"]}]
}`
	p, err := LoadPolicy(strings.NewReader(js), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "json" || p.Version() != "2" || p.Default != Green || len(p.Indicators) != 2 || len(p.Rules) != 1 {
		t.Fatalf("policy %+v", p)
	}
	if v, ok := p.Indicators[1].Threshold.For(analytics.PeriodQuarter); !ok || v != 2 {
		t.Errorf("quarter threshold %v %v", v, ok)
	}
	if _, ok := p.Indicators[1].Threshold.For(analytics.PeriodYear); ok {
		t.Error("year threshold without a default")
	}
	bad := strings.Replace(js, `"rate", "grave"]`, `"rate", "juvenil"]`, 1)
	_, err = LoadPolicy(strings.NewReader(bad), "p.json")
	if err == nil || !strings.Contains(err.Error(), `p.json:7: rules[0].all[1]: unknown indicator "juvenil"`) {
		t.Errorf("json error: %v", err)
	}
}

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	if p.Name == "" || p.Version() == "" || len(p.Rules) == 0 {
		t.Fatalf("default policy %+v", p)
	}
	// Every standard review period has its thresholds.
	for _, k := range []analytics.PeriodKind{analytics.PeriodMonth, analytics.PeriodQuarter, analytics.PeriodHalf,
		analytics.PeriodYear, analytics.PeriodWeek, analytics.PeriodRange} {
		if _, err := newEngine(p, k); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	if DefaultPolicy() == p {
		t.Error("DefaultPolicy shares its value")
	}
	if !strings.Contains(string(DefaultPolicyYAML()), "ASSUMPTION") {
		t.Error("default.yaml does not say it is an assumption")
	}
}

func TestMissingPeriodThreshold(t *testing.T) {
	p, err := LoadPolicy(strings.NewReader(strings.Replace(basePolicy, "threshold: 2", "threshold: {quarter: 2}", 1)), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = newEngine(p, analytics.PeriodMonth)
	if !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), `indicator "grave" has no threshold for month periods`) {
		t.Errorf("error %v", err)
	}
}

func FuzzLoadPolicy(f *testing.F) {
	f.Add(basePolicy)
	f.Add(string(DefaultPolicyYAML()))
	f.Add(`{"name": "x"}`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := LoadPolicy(strings.NewReader(s), "f.yaml")
		if err != nil {
			if !errors.Is(err, ErrPolicy) {
				t.Fatalf("error %v does not wrap ErrPolicy", err)
			}
			return
		}
		for _, k := range []analytics.PeriodKind{analytics.PeriodMonth, analytics.PeriodQuarter} {
			e, err := newEngine(p, k)
			if err != nil {
				continue
			}
			vals := make([]float64, len(p.Indicators))
			e.decide(vals, 1, func(float64) int { return 1 })
		}
	})
}
