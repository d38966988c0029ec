package classify

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/crimemap/crimemap/analytics"
	"go.yaml.in/yaml/v3"
)

// ErrPolicy is wrapped by every error about a policy: a policy file that
// does not parse or validate (the message names the file, line and field),
// or a policy that cannot be applied to a period (e.g. no threshold for
// monthly periods). The server maps it to 400 (422 for a stored policy).
var ErrPolicy = errors.New("classification policy")

// RegisteredCrimes is the reserved name of the mahalla's registered crime
// count in the period. It decides green (the built-in first rule: no
// registered crime) and appears in a what-if that moves a yellow mahalla
// to green; no policy indicator may take the name.
const RegisteredCrimes = "registered_crimes"

// IndicatorKind is what an indicator measures; the set is fixed (the code
// computes it), while names, thresholds and rules are the policy's.
type IndicatorKind string

// The indicator kinds. Counts are of the review period; rates are per
// 1,000 residents a year (annualised, so one threshold suits every period
// length) and empirically Bayes-smoothed unless the indicator sets
// raw: true.
const (
	KindCrimeCount   IndicatorKind = "crime_count"   // registered crimes
	KindCrimeRate    IndicatorKind = "crime_rate"    // crimes per 1,000 a year, EB-smoothed
	KindGraveCount   IndicatorKind = "grave_count"   // grave + especially grave crimes
	KindGraveRate    IndicatorKind = "grave_rate"    // the same per 1,000 a year, EB-smoothed
	KindPublicPlace  IndicatorKind = "public_place"  // crimes in public places
	KindJuvenile     IndicatorKind = "juvenile"      // crimes by or against juveniles
	KindDomestic     IndicatorKind = "domestic"      // domestic crimes
	KindRecidivist   IndicatorKind = "recidivist"    // crimes by recidivists
	KindAlcoholDrugs IndicatorKind = "alcohol_drugs" // alcohol- or drug-related (each crime once)
	KindOffenceRate  IndicatorKind = "offence_rate"  // administrative offences per 1,000 a year, EB-smoothed
	KindAccidents    IndicatorKind = "accidents"     // road accidents with casualties (killed or injured)
	KindChangeZ      IndicatorKind = "change_z"      // Poisson z of crimes against the same period last year
	KindHotspotShare IndicatorKind = "hotspot_share" // share of located crimes in Gi* hot cells (bin >= +2, res 8)
	KindSolvedShare  IndicatorKind = "solved_share"  // share of the period's crimes solved (use direction: below)
)

// kindInfo describes a kind: its unit, whether values are whole numbers,
// whether it is a rate (smoothable), and the range of sensible thresholds.
type kindInfo struct {
	unit     string
	integer  bool
	rate     bool
	share    bool // values in [0, 1]
	signed   bool // values may be negative
	describe string
}

// indicatorKinds is the fixed set of kinds (read-only).
func indicatorKinds() map[IndicatorKind]kindInfo {
	return map[IndicatorKind]kindInfo{
		KindCrimeCount:   {unit: "count", integer: true, describe: "registered crimes"},
		KindCrimeRate:    {unit: "per 1,000 a year", rate: true, describe: "crimes per 1,000 residents a year"},
		KindGraveCount:   {unit: "count", integer: true, describe: "grave and especially grave crimes"},
		KindGraveRate:    {unit: "per 1,000 a year", rate: true, describe: "grave and especially grave crimes per 1,000 residents a year"},
		KindPublicPlace:  {unit: "count", integer: true, describe: "crimes in public places"},
		KindJuvenile:     {unit: "count", integer: true, describe: "juvenile crimes"},
		KindDomestic:     {unit: "count", integer: true, describe: "domestic crimes"},
		KindRecidivist:   {unit: "count", integer: true, describe: "crimes by recidivists"},
		KindAlcoholDrugs: {unit: "count", integer: true, describe: "alcohol- or drug-related crimes"},
		KindOffenceRate:  {unit: "per 1,000 a year", rate: true, describe: "administrative offences per 1,000 residents a year"},
		KindAccidents:    {unit: "count", integer: true, describe: "road accidents with casualties"},
		KindChangeZ:      {unit: "z", signed: true, describe: "change of crimes against the same period last year (Poisson z)"},
		KindHotspotShare: {unit: "share", share: true, describe: "share of located crimes inside significant hot cells"},
		KindSolvedShare:  {unit: "share", share: true, describe: "share of crimes solved"},
	}
}

// knownKinds lists the kind names, sorted, for error messages.
func knownKinds() string {
	var ks []string
	for k := range indicatorKinds() {
		ks = append(ks, string(k))
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

// Direction says which side of its threshold an indicator fires on.
type Direction string

// The directions: Above fires when value >= threshold (the default), Below
// when value <= threshold.
const (
	Above Direction = "above"
	Below Direction = "below"
)

// Threshold is a value that may depend on the kind of review period: one
// number for every period, or a mapping by period kind (week, month,
// quarter, half, year, range) with an optional "default".
type Threshold struct {
	set    bool
	value  float64                          // the scalar, or the default
	hasDef bool                             // value holds a default (mapping form)
	by     map[analytics.PeriodKind]float64 // nil for a scalar
}

// Set reports whether the threshold was given.
func (t Threshold) Set() bool { return t.set }

// For returns the threshold for a period kind; ok is false when a mapping
// has neither the kind nor a default.
func (t Threshold) For(k analytics.PeriodKind) (float64, bool) {
	if !t.set {
		return 0, false
	}
	if t.by == nil {
		return t.value, true
	}
	if v, ok := t.by[k]; ok {
		return v, true
	}
	return t.value, t.hasDef
}

// values lists every number of the threshold.
func (t Threshold) values() []float64 {
	if !t.set {
		return nil
	}
	var vs []float64
	if t.by == nil || t.hasDef {
		vs = append(vs, t.value)
	}
	for _, v := range t.by {
		vs = append(vs, v)
	}
	return vs
}

// Scalar returns a Threshold of one value for every period kind.
func Scalar(v float64) Threshold { return Threshold{set: true, value: v} }

// Indicator is one measured quantity of a policy.
type Indicator struct {
	Name      string
	Kind      IndicatorKind
	Threshold Threshold // optional: without one the indicator never fires (it may still feed gte rules)
	Direction Direction
	// Weight is the indicator's weight in the Score (default 1; 0 leaves
	// it out).
	Weight float64
	// Raw turns smoothing off for a rate kind.
	Raw bool
}

// Smoothing configures the empirical Bayes smoothing of rates.
type Smoothing struct {
	// Method: "eb_global" (global empirical Bayes, Marshall 1991, method of
	// moments; the default) or "none".
	Method string
	// Reference is the population the prior is estimated from: "district"
	// (the default) or "region".
	Reference string
	// MinUnits: a district with fewer mahallas of known population than
	// this borrows its region's prior (default 10).
	MinUnits int
}

// Rule assigns a category when its condition holds. A rule may combine
// several condition types; all of them must hold.
type Rule struct {
	Name     string
	Category Category
	// All: every listed indicator fired. Any: at least one fired.
	All, Any []string
	// MinFired: at least MinFired of the indicators in Of fired (Of
	// empty: of every indicator of the policy).
	MinFired int
	Of       []string
	// Indicator and GTE: the indicator's value is at least GTE,
	// regardless of its threshold.
	Indicator string
	GTE       Threshold
	// RankTop: the mahalla is among the RankTop worst of its district by
	// Score (Rank <= RankTop) and its score is above zero.
	RankTop int
}

// Policy is a versioned, explainable red/yellow/green classification
// policy. It is data: load it with LoadPolicy or take DefaultPolicy. A
// Policy is read-only once loaded and safe for concurrent use.
//
// Evaluation for one mahalla and period: a mahalla without registered
// crime is green (the built-in first rule "no_registered_crime"); else the
// first rule in order whose conditions hold decides; else Default
// (yellow unless the policy says default: green).
type Policy struct {
	Name        string
	version     string
	Description string
	Default     Category
	Smoothing   Smoothing
	Indicators  []Indicator
	Rules       []Rule
	// Source names where the policy came from (the file name given to
	// LoadPolicy, "default.yaml" for DefaultPolicy).
	Source string

	index map[string]int // indicator name -> position
}

// Version is the policy's version string, stored with every run.
func (p *Policy) Version() string { return p.version }

// IndicatorIndex returns the position of the named indicator, or -1.
func (p *Policy) IndicatorIndex(name string) int {
	if i, ok := p.index[name]; ok {
		return i
	}
	return -1
}

//go:embed default.yaml
var defaultYAML []byte

// DefaultPolicy returns the built-in policy (default.yaml, embedded).
//
// ASSUMPTION: the official "safe mahalla" criteria are not public. The
// default policy is an analyst's assumption calibrated on the synthetic
// demo region so that a quarter gives roughly the published national
// spread (about 7% red, 48% yellow, 45% green; Kashkadarya 16% red); it is
// not the government's method. Replace it with the official policy file
// when one is available. Each call returns a fresh copy.
func DefaultPolicy() *Policy {
	p, err := LoadPolicy(strings.NewReader(string(defaultYAML)), "default.yaml")
	if err != nil {
		panic("classify: embedded default.yaml: " + err.Error()) // a build defect, caught by tests
	}
	return p
}

// DefaultPolicyYAML returns the text of the embedded default policy (a
// starting point for a custom policy file).
func DefaultPolicyYAML() []byte { return slices.Clone(defaultYAML) }

// LoadPolicy reads a policy in YAML or JSON (the same schema; JSON is
// read as YAML flow style) and validates it. name labels error messages
// ("policy.yaml:14: rules[2].all[1]: unknown indicator ..."). Every error
// wraps ErrPolicy; several validation errors are joined.
//
// Schema:
//
//	name: safe-mahalla          # required
//	version: "2025.1"           # required, stored with each run
//	description: ...
//	default: yellow             # category of a mahalla with crime that matches no rule: yellow | green
//	smoothing: {method: eb_global, reference: district, min_units: 10}
//	indicators:                 # at least one; names unique
//	  - name: crime_rate
//	    kind: crime_rate        # one of the fixed kinds
//	    threshold: 12           # or by period kind: {month: 4, quarter: 8, default: 12}
//	    direction: above        # above (>=, default) | below (<=)
//	    weight: 1               # weight in the score (default 1)
//	    raw: false              # rates only: no smoothing
//	rules:                      # ordered; the first that holds decides
//	  - name: red_severe
//	    category: red           # red | yellow
//	    all: [crime_rate, grave]           # every one fired
//	    any: [juvenile, domestic]          # at least one fired
//	    min_fired: 3                       # at least 3 fired ...
//	    of: [crime_rate, grave, juvenile]  # ... of these (default: all indicators)
//	    indicator: crime_count             # value >= gte ...
//	    gte: 10                            # ... (number or by period kind)
//	    rank_top: 3                        # among the 3 worst scores of its district
func LoadPolicy(r io.Reader, name string) (*Policy, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: read: %w", ErrPolicy, name, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &PolicyError{File: name, Line: yamlErrLine(err), Field: "", Msg: "syntax: " + yamlErrMsg(err)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &PolicyError{File: name, Line: 1, Msg: "empty policy"}
	}
	d := &decoder{file: name}
	p := d.policy(doc.Content[0])
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	p.Source = name
	return p, nil
}

// PolicyError is one validation error of a policy file. It wraps
// ErrPolicy.
type PolicyError struct {
	File  string
	Line  int    // 1-based; 0 when unknown
	Field string // path such as rules[2].all[1]; "" for the document
	Msg   string
}

func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Unwrap returns ErrPolicy.
func (e *PolicyError) Unwrap() error { return ErrPolicy }

// yamlErrLine extracts "line N" from a yaml error message (0 if none).
func yamlErrLine(err error) int {
	s := err.Error()
	i := strings.Index(s, "line ")
	if i < 0 {
		return 0
	}
	j := i + 5
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(s[i+5 : j])
	return n
}

// yamlErrMsg strips the "yaml: line N: " prefix.
func yamlErrMsg(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	if strings.HasPrefix(s, "line ") {
		if _, rest, ok := strings.Cut(s, ": "); ok {
			return rest
		}
	}
	return s
}

// decoder walks the YAML node tree, collecting errors with lines.
type decoder struct {
	file string
	errs []error
}

func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	if len(d.errs) < 50 {
		d.errs = append(d.errs, &PolicyError{File: d.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
}

// fields checks that n is a mapping with only allowed keys and returns
// key -> value node (and key node, for lines).
func (d *decoder) fields(n *yaml.Node, path string, allowed ...string) (map[string]*yaml.Node, map[string]*yaml.Node) {
	vals, keys := map[string]*yaml.Node{}, map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping, got %s", nodeKind(n))
		return vals, keys
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		fp := join(path, k.Value)
		if !slices.Contains(allowed, k.Value) {
			d.errorf(k, fp, "unknown field (want %s)", strings.Join(allowed, ", "))
			continue
		}
		if _, dup := vals[k.Value]; dup {
			d.errorf(k, fp, "duplicate field")
			continue
		}
		vals[k.Value], keys[k.Value] = v, k
	}
	return vals, keys
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

func (d *decoder) str(n *yaml.Node, path string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, path, "want a string, got %s", nodeKind(n))
		return ""
	}
	return n.Value
}

func (d *decoder) num(n *yaml.Node, path string) (float64, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		d.errorf(n, path, "want a number, got %s", nodeKind(n))
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		d.errorf(n, path, "want a finite number, got %q", n.Value)
		return 0, false
	}
	return v, true
}

func (d *decoder) integer(n *yaml.Node, path string) (int, bool) {
	v, ok := d.num(n, path)
	if !ok {
		return 0, false
	}
	if v != math.Trunc(v) || v < 1 || v > 1e6 {
		d.errorf(n, path, "want a whole number >= 1, got %s", n.Value)
		return 0, false
	}
	return int(v), true
}

func (d *decoder) boolean(n *yaml.Node, path string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.errorf(n, path, "want true or false, got %s", nodeKind(n))
		return false
	}
	return n.Value == "true" || n.Value == "True" || n.Value == "TRUE"
}

// periodKeys are the keys of a threshold mapping.
var periodKeys = []string{"week", "month", "quarter", "half", "year", "range", "default"}

func (d *decoder) threshold(n *yaml.Node, path string) Threshold {
	if n.Kind == yaml.ScalarNode {
		v, ok := d.num(n, path)
		if !ok {
			return Threshold{}
		}
		return Threshold{set: true, value: v}
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a number or a mapping by period kind (%s), got %s", strings.Join(periodKeys, ", "), nodeKind(n))
		return Threshold{}
	}
	vals, _ := d.fields(n, path, periodKeys...)
	if len(vals) == 0 {
		d.errorf(n, path, "empty threshold mapping")
		return Threshold{}
	}
	t := Threshold{set: true, by: map[analytics.PeriodKind]float64{}}
	for _, k := range periodKeys {
		v, ok := vals[k]
		if !ok {
			continue
		}
		f, ok := d.num(v, join(path, k))
		if !ok {
			continue
		}
		if k == "default" {
			t.value, t.hasDef = f, true
		} else {
			t.by[analytics.PeriodKind(k)] = f
		}
	}
	return t
}

// names reads a list of indicator names.
func (d *decoder) names(n *yaml.Node, path string) ([]string, []*yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list of indicator names, got %s", nodeKind(n))
		return nil, nil
	}
	if len(n.Content) == 0 {
		d.errorf(n, path, "empty list")
	}
	var out []string
	var nodes []*yaml.Node
	for i, c := range n.Content {
		out = append(out, d.str(c, fmt.Sprintf("%s[%d]", path, i)))
		nodes = append(nodes, c)
	}
	return out, nodes
}

func (d *decoder) policy(n *yaml.Node) *Policy {
	p := &Policy{Default: Yellow, index: map[string]int{}}
	vals, _ := d.fields(n, "", "name", "version", "description", "default", "smoothing", "indicators", "rules")
	if n.Kind != yaml.MappingNode {
		return p
	}
	if v, ok := vals["name"]; ok {
		p.Name = d.str(v, "name")
	}
	if p.Name == "" {
		d.errorf(n, "name", "required")
	}
	if v, ok := vals["version"]; ok {
		p.version = d.str(v, "version")
	}
	if p.version == "" {
		d.errorf(n, "version", "required")
	}
	if v, ok := vals["description"]; ok {
		p.Description = d.str(v, "description")
	}
	if v, ok := vals["default"]; ok {
		switch c := Category(d.str(v, "default")); c {
		case Yellow, Green:
			p.Default = c
		default:
			d.errorf(v, "default", "want yellow or green, got %q", v.Value)
		}
	}
	p.Smoothing = Smoothing{Method: "eb_global", Reference: "district", MinUnits: 10}
	if v, ok := vals["smoothing"]; ok {
		sv, _ := d.fields(v, "smoothing", "method", "reference", "min_units")
		if m, ok := sv["method"]; ok {
			p.Smoothing.Method = d.str(m, "smoothing.method")
			if p.Smoothing.Method != "eb_global" && p.Smoothing.Method != "none" {
				d.errorf(m, "smoothing.method", "unknown method %q (want eb_global or none)", m.Value)
			}
		}
		if r, ok := sv["reference"]; ok {
			p.Smoothing.Reference = d.str(r, "smoothing.reference")
			if p.Smoothing.Reference != "district" && p.Smoothing.Reference != "region" {
				d.errorf(r, "smoothing.reference", "unknown reference %q (want district or region)", r.Value)
			}
		}
		if m, ok := sv["min_units"]; ok {
			if k, ok := d.integer(m, "smoothing.min_units"); ok {
				p.Smoothing.MinUnits = k
			}
		}
	}

	kinds := indicatorKinds()
	if v, ok := vals["indicators"]; !ok || v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		at := n
		if ok {
			at = v
		}
		d.errorf(at, "indicators", "want a non-empty list of indicators")
	} else {
		for i, in := range v.Content {
			path := fmt.Sprintf("indicators[%d]", i)
			iv, _ := d.fields(in, path, "name", "kind", "threshold", "direction", "weight", "raw")
			ind := Indicator{Direction: Above, Weight: 1}
			if x, ok := iv["name"]; ok {
				ind.Name = d.str(x, path+".name")
				switch {
				case ind.Name == RegisteredCrimes:
					d.errorf(x, path+".name", "%q is reserved", ind.Name)
				case !validName(ind.Name):
					d.errorf(x, path+".name", "invalid name %q (want letters, digits, _ and -)", ind.Name)
				}
				if j, dup := p.index[ind.Name]; dup {
					d.errorf(x, path+".name", "duplicate indicator name %q (also indicators[%d])", ind.Name, j)
				}
			} else {
				d.errorf(in, path+".name", "required")
			}
			var info kindInfo
			if x, ok := iv["kind"]; ok {
				ind.Kind = IndicatorKind(d.str(x, path+".kind"))
				var known bool
				if info, known = kinds[ind.Kind]; !known {
					d.errorf(x, path+".kind", "unknown kind %q (known: %s)", x.Value, knownKinds())
				}
			} else {
				d.errorf(in, path+".kind", "required (known: %s)", knownKinds())
			}
			if x, ok := iv["direction"]; ok {
				ind.Direction = Direction(d.str(x, path+".direction"))
				if ind.Direction != Above && ind.Direction != Below {
					d.errorf(x, path+".direction", "want above or below, got %q", x.Value)
				}
			}
			if x, ok := iv["weight"]; ok {
				if w, ok := d.num(x, path+".weight"); ok {
					if w < 0 {
						d.errorf(x, path+".weight", "must not be negative, got %s", x.Value)
					}
					ind.Weight = w
				}
			}
			if x, ok := iv["raw"]; ok {
				ind.Raw = d.boolean(x, path+".raw")
				if ind.Raw && ind.Kind != "" && !info.rate {
					d.errorf(x, path+".raw", "only rate kinds are smoothed")
				}
			}
			if x, ok := iv["threshold"]; ok {
				ind.Threshold = d.threshold(x, path+".threshold")
				if ind.Kind != "" {
					for _, t := range ind.Threshold.values() {
						if msg := badThreshold(info, ind.Direction, t); msg != "" {
							d.errorf(x, path+".threshold", "%s", msg)
							break
						}
					}
				}
			}
			if ind.Name != "" {
				if _, dup := p.index[ind.Name]; !dup {
					p.index[ind.Name] = len(p.Indicators)
				}
			}
			p.Indicators = append(p.Indicators, ind)
		}
	}

	if v, ok := vals["rules"]; ok {
		if v.Kind != yaml.SequenceNode {
			d.errorf(v, "rules", "want a list of rules, got %s", nodeKind(v))
		} else {
			seen := map[string]int{}
			for i, rn := range v.Content {
				p.Rules = append(p.Rules, d.rule(p, rn, fmt.Sprintf("rules[%d]", i), seen, i))
			}
		}
	}
	return p
}

// ruleFields are the keys a rule may have.
var ruleFields = []string{"name", "category", "all", "any", "min_fired", "of", "indicator", "gte", "rank_top"}

func (d *decoder) rule(p *Policy, n *yaml.Node, path string, seen map[string]int, i int) Rule {
	var r Rule
	if n.Kind == yaml.MappingNode {
		// An unknown key in a rule is most likely a condition type this
		// version does not know: say so.
		for j := 0; j+1 < len(n.Content); j += 2 {
			k := n.Content[j]
			if !slices.Contains(ruleFields, k.Value) {
				d.errorf(k, join(path, k.Value), "unknown rule type %q (known conditions: all, any, min_fired with of, indicator with gte, rank_top)", k.Value)
			}
		}
	}
	vals, _ := d.fieldsQuiet(n, path, ruleFields)
	if x, ok := vals["name"]; ok {
		r.Name = d.str(x, path+".name")
		if j, dup := seen[r.Name]; dup && r.Name != "" {
			d.errorf(x, path+".name", "duplicate rule name %q (also rules[%d])", r.Name, j)
		}
		if r.Name == "no_registered_crime" || r.Name == "default" {
			d.errorf(x, path+".name", "%q is reserved", r.Name)
		}
		seen[r.Name] = i
	} else {
		d.errorf(n, path+".name", "required")
	}
	if x, ok := vals["category"]; ok {
		r.Category = Category(d.str(x, path+".category"))
		if r.Category != Red && r.Category != Yellow {
			d.errorf(x, path+".category", "want red or yellow, got %q (green is built in: no registered crime)", x.Value)
		}
	} else {
		d.errorf(n, path+".category", "required (red or yellow)")
	}
	check := func(names []string, nodes []*yaml.Node, field string) {
		for j, nm := range names {
			if nm == "" {
				continue
			}
			if _, ok := p.index[nm]; !ok {
				d.errorf(nodes[j], fmt.Sprintf("%s.%s[%d]", path, field, j), "unknown indicator %q (known: %s)", nm, p.knownIndicators())
			}
		}
	}
	conds := 0
	if x, ok := vals["all"]; ok {
		var nodes []*yaml.Node
		r.All, nodes = d.names(x, path+".all")
		check(r.All, nodes, "all")
		conds++
	}
	if x, ok := vals["any"]; ok {
		var nodes []*yaml.Node
		r.Any, nodes = d.names(x, path+".any")
		check(r.Any, nodes, "any")
		conds++
	}
	if x, ok := vals["of"]; ok {
		var nodes []*yaml.Node
		r.Of, nodes = d.names(x, path+".of")
		check(r.Of, nodes, "of")
		if _, ok := vals["min_fired"]; !ok {
			d.errorf(x, path+".of", "of needs min_fired")
		}
	}
	if x, ok := vals["min_fired"]; ok {
		r.MinFired, _ = d.integer(x, path+".min_fired")
		pool := len(r.Of)
		if pool == 0 {
			pool = len(p.Indicators)
		}
		if r.MinFired > pool {
			d.errorf(x, path+".min_fired", "%d exceeds the %d indicators it counts", r.MinFired, pool)
		}
		conds++
	}
	if x, ok := vals["indicator"]; ok {
		r.Indicator = d.str(x, path+".indicator")
		if _, known := p.index[r.Indicator]; !known && r.Indicator != "" {
			d.errorf(x, path+".indicator", "unknown indicator %q (known: %s)", r.Indicator, p.knownIndicators())
		}
		if g, ok := vals["gte"]; ok {
			r.GTE = d.threshold(g, path+".gte")
		} else {
			d.errorf(x, path+".gte", "indicator needs gte")
		}
		conds++
	} else if g, ok := vals["gte"]; ok {
		d.errorf(g, path+".gte", "gte needs indicator")
	}
	if x, ok := vals["rank_top"]; ok {
		r.RankTop, _ = d.integer(x, path+".rank_top")
		conds++
	}
	if conds == 0 && n.Kind == yaml.MappingNode {
		d.errorf(n, path, "no condition (want all, any, min_fired, indicator with gte, or rank_top)")
	}
	return r
}

// fieldsQuiet is fields without reporting unknown keys (rule reports them
// as unknown rule types).
func (d *decoder) fieldsQuiet(n *yaml.Node, path string, allowed []string) (map[string]*yaml.Node, map[string]*yaml.Node) {
	vals, keys := map[string]*yaml.Node{}, map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping, got %s", nodeKind(n))
		return vals, keys
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(allowed, k.Value) {
			continue
		}
		if _, dup := vals[k.Value]; dup {
			d.errorf(k, join(path, k.Value), "duplicate field")
			continue
		}
		vals[k.Value], keys[k.Value] = v, k
	}
	return vals, keys
}

// badThreshold says what is wrong with a threshold of a kind, "" if fine.
// A threshold that every mahalla meets (a count >= 0) or none can meet (a
// share above 1) is refused.
func badThreshold(info kindInfo, dir Direction, t float64) string {
	switch {
	case info.signed:
		return ""
	case info.share && (t < 0 || t > 1):
		return fmt.Sprintf("bad threshold %g: a share is 0..1", t)
	case t < 0:
		return fmt.Sprintf("bad threshold %g: %s are never negative", t, info.describe)
	case dir == Above && t == 0:
		return fmt.Sprintf("bad threshold %g: every mahalla is at or above 0 (want a positive threshold)", t)
	}
	return ""
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// knownIndicators lists the policy's indicator names for error messages.
func (p *Policy) knownIndicators() string {
	var ns []string
	for _, in := range p.Indicators {
		if in.Name != "" {
			ns = append(ns, in.Name)
		}
	}
	return strings.Join(ns, ", ")
}
