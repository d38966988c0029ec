package i18n

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/analytics/hotspot"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
)

// nbsp is the thousands separator of every language but en.
const nbsp = "\u00a0"

func load(t testing.TB) *Catalogues {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// optionalFamily reports whether key belongs to a family only some
// languages need: the genitive (Kyrgyz: possessive) month names for dates.
func optionalFamily(key string) bool { return strings.HasPrefix(key, "month_genitive.") }

func TestEveryKeyInEveryLanguage(t *testing.T) {
	c := load(t)
	en := c.Keys(English)
	if len(en) < 300 {
		t.Errorf("en has %d keys; expected the full report vocabulary (300+)", len(en))
	}
	for _, l := range Langs() {
		keys := c.Keys(l)
		var missing, extra []string
		for _, k := range en {
			if _, ok := c.Lookup(l, k); !ok {
				missing = append(missing, k)
			}
		}
		for _, k := range keys {
			if _, ok := c.Lookup(English, k); !ok && !optionalFamily(k) {
				extra = append(extra, k)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s lacks %d keys of en:\n  %s", l, len(missing), strings.Join(missing, "\n  "))
		}
		if len(extra) > 0 {
			t.Errorf("%s has %d keys en lacks:\n  %s", l, len(extra), strings.Join(extra, "\n  "))
		}
		// An optional family is all or nothing: Date must never mix a
		// genitive January with a nominative February.
		var gen []string
		for _, k := range keys {
			if optionalFamily(k) {
				gen = append(gen, k)
			}
		}
		if len(gen) > 0 {
			for m := 1; m <= 12; m++ {
				if k := "month_genitive." + strconv.Itoa(m); !slices.Contains(gen, k) {
					t.Errorf("%s has month_genitive.* but lacks %s", l, k)
				}
			}
			if len(gen) != 12 {
				t.Errorf("%s has %d month_genitive keys, want 12: %v", l, len(gen), gen)
			}
		}
	}
}

func TestNoEmptyValues(t *testing.T) {
	c := load(t)
	for _, l := range Langs() {
		for _, k := range c.Keys(l) {
			v, _ := c.Lookup(l, k)
			if strings.TrimSpace(v) == "" && k != "number.group_separator" {
				t.Errorf("%s %s: empty", l, k)
			}
			if v != strings.TrimSpace(v) && k != "number.group_separator" {
				t.Errorf("%s %s: leading or trailing space in %q", l, k, v)
			}
			if strings.Contains(v, "  ") {
				t.Errorf("%s %s: double space in %q", l, k, v)
			}
		}
	}
}

func TestVerbsMatchAcrossLanguages(t *testing.T) {
	c := load(t)
	for _, k := range c.Keys(English) {
		enText, _ := c.Lookup(English, k)
		enVerbs, err := parseVerbs(enText)
		if err != nil {
			t.Fatalf("en %s: %v", k, err)
		}
		want := fmt.Sprint(verbSignature(enVerbs))
		for _, l := range Langs() {
			v, ok := c.Lookup(l, k)
			if !ok {
				continue // reported by TestEveryKeyInEveryLanguage
			}
			verbs, err := parseVerbs(v)
			if err != nil {
				t.Errorf("%s %s: %v", l, k, err)
				continue
			}
			if got := fmt.Sprint(verbSignature(verbs)); got != want {
				t.Errorf("%s %s: verbs %s, en has %s (%q vs %q)", l, k, got, want, v, enText)
			}
			// One argument, one way of formatting it.
			seen := map[int]string{}
			for _, vb := range verbs {
				if s, ok := seen[vb.Arg]; ok && s != vb.Spec {
					t.Errorf("%s %s: argument %d formatted as %%%s and %%%s", l, k, vb.Arg, s, vb.Spec)
				}
				seen[vb.Arg] = vb.Spec
			}
		}
	}
}

func TestParseVerbs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		err  bool
	}{
		{"plain", "[]", false},
		{"Share, %%", "[]", false},
		{"Page %d of %d", "[%[1]d %[2]d]", false},
		{"%[3]d-yil %[1]d-%[2]s", "[%[3]d %[1]d %[2]s]", false},
		{"%[2]d then %d", "[%[2]d %[3]d]", false}, // fmt continues after an explicit index
		{"%.1f%%", "[%[1].1f]", false},
		{"12 %", "", true},
		{"100%", "", true},
		{"%y", "", true},
		{"%[0]d", "", true},
		{"%[1d", "", true},
		{"%*d", "", true},
	} {
		got, err := parseVerbs(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("parseVerbs(%q) error %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && fmt.Sprint(got) != tc.want {
			t.Errorf("parseVerbs(%q) = %v, want %s", tc.in, got, tc.want)
		}
	}
}

// TestUzbekLatinApostrophes checks the official Uzbek Latin letters: oʻ and
// gʻ with U+02BB, the tutuq belgisi with U+02BC, and neither the ASCII
// apostrophe or backtick nor the typographic quotes that keyboards and word
// processors substitute for them.
func TestUzbekLatinApostrophes(t *testing.T) {
	c := load(t)
	var okinaCount int
	for _, k := range c.Keys(Uzbek) {
		v, _ := c.Lookup(Uzbek, k)
		rs := []rune(v)
		for i, r := range rs {
			var prev rune
			if i > 0 {
				prev = rs[i-1]
			}
			switch {
			case r == '\'' || r == '`' || r == '\u2018' || r == '\u2019' || r == '\u02B9' || r == '\u02BD':
				t.Errorf("uz %s: %q at rune %d in %q; use U+02BB (oʻ, gʻ) or U+02BC (tutuq belgisi)", k, r, i, v)
			case r == '\u02BB':
				okinaCount++
				if !strings.ContainsRune("oOgG", prev) {
					t.Errorf("uz %s: U+02BB after %q in %q; it belongs only in oʻ and gʻ", k, prev, v)
				}
			case r == '\u02BC':
				if strings.ContainsRune("oOgG", prev) {
					t.Errorf("uz %s: U+02BC after %q in %q; oʻ and gʻ take U+02BB", k, prev, v)
				}
				if !unicode.IsLetter(prev) {
					t.Errorf("uz %s: U+02BC not after a letter in %q", k, v)
				}
			case unicode.Is(unicode.Cyrillic, r):
				t.Errorf("uz %s: Cyrillic %q in the Latin catalogue: %q", k, r, v)
			}
		}
	}
	if okinaCount < 50 {
		t.Errorf("uz has only %d oʻ/gʻ; the catalogue is probably not Uzbek Latin", okinaCount)
	}
}

// allowedLatin are what a Cyrillic catalogue may keep in Latin letters: the
// names of methods and grids, written so in every language, and the Roman
// numerals of quarters and halves (I квартал, II жартыжылдық).
func allowedLatin() map[string]bool {
	return map[string]bool{
		"H3": true, "Gi": true, "FDR": true, "z": true,
		"I": true, "II": true, "III": true, "IV": true,
	}
}

func TestCyrillicCataloguesHaveNoLatinWords(t *testing.T) {
	c := load(t)
	allowed := allowedLatin()
	// Printf verbs are Latin letters in every catalogue; a Latin word may
	// carry digits, as H3 does.
	verbRE := regexp.MustCompile(`%%|%(\[\d+\])?[-+# 0]*[\d.]*[a-zA-Z]`)
	latinWordRE := regexp.MustCompile(`[A-Za-z][A-Za-z0-9]*`)
	for _, l := range []Lang{Russian, UzbekCyrillic, Kazakh, Kyrgyz} {
		for _, k := range c.Keys(l) {
			v, _ := c.Lookup(l, k)
			for _, w := range latinWordRE.FindAllString(verbRE.ReplaceAllString(v, ""), -1) {
				if !allowed[w] {
					t.Errorf("%s %s: Latin %q in %q", l, k, w, v)
				}
			}
		}
	}
}

func TestEnglishHasNoCyrillic(t *testing.T) {
	c := load(t)
	for _, k := range c.Keys(English) {
		v, _ := c.Lookup(English, k)
		if strings.IndexFunc(v, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }) >= 0 {
			t.Errorf("en %s: Cyrillic in %q", k, v)
		}
	}
}

// TestScriptLetters is a sanity check that each Cyrillic catalogue is the
// language it claims: its own letters appear somewhere, and the letters of
// its neighbours (easy to paste by mistake: Kazakh қ for Kyrgyz к, Uzbek ў
// for Kazakh ұ) do not. Kazakh һ is not required: it occurs only in a few
// Arabic and Persian loanwords none of the labels needs.
func TestScriptLetters(t *testing.T) {
	c := load(t)
	for _, tc := range []struct {
		lang         Lang
		must, mustNo string
	}{
		{Kazakh, "әғқңөұүі", "ўҳ"},
		{Kyrgyz, "ңөү", "әғқұһіўҳ"},
		{UzbekCyrillic, "ўқғҳ", "әңөұүһіыщ"},
		{Russian, "", "ўқғҳәңөұүһі"},
	} {
		var all strings.Builder
		for _, k := range c.Keys(tc.lang) {
			v, _ := c.Lookup(tc.lang, k)
			all.WriteString(strings.ToLower(v))
			all.WriteByte('\n')
			if i := strings.IndexAny(strings.ToLower(v), tc.mustNo); i >= 0 {
				t.Errorf("%s %s: letter not of this language in %q", tc.lang, k, v)
			}
		}
		for _, r := range tc.must {
			if !strings.ContainsRune(all.String(), r) {
				t.Errorf("%s: no %q anywhere in the catalogue", tc.lang, r)
			}
		}
	}
}

// TestSheetNames checks the XLSX sheet names: Excel refuses names longer
// than 31 characters or holding any of : \ / ? * [ ].
func TestSheetNames(t *testing.T) {
	c := load(t)
	for _, l := range Langs() {
		for _, k := range c.Keys(l) {
			if !strings.HasPrefix(k, "sheet.") {
				continue
			}
			v, _ := c.Lookup(l, k)
			if n := len([]rune(v)); n > 31 {
				t.Errorf("%s %s: %q has %d characters, Excel allows 31", l, k, v, n)
			}
			if strings.ContainsAny(v, `:\/?*[]`) {
				t.Errorf("%s %s: %q has a character Excel refuses", l, k, v)
			}
		}
	}
}

// demoCategories are the categories the demo generator produces
// (ingest/demo/categories.go: crimeCategories, accidentCategories and
// offenceCategories); the package exports no list, so they are copied here
// and TestDemoEventsHaveLabels checks a generated year against the
// catalogue as well.
func demoCategories() []string {
	return []string{
		"theft", "fraud", "cybercrime", "robbery", "brigandage", "bodily_harm", "domestic_violence",
		"hooliganism", "drugs", "traffic_crime", "embezzlement", "bribery", "extortion",
		"property_damage", "illegal_weapons", "murder", "rape", "human_trafficking",
		"collision", "pedestrian_hit", "rollover", "hit_obstacle", "cyclist_hit", "two_wheeler_fall",
		"hit_parked", "other",
		"traffic_violation", "petty_hooliganism", "public_drinking", "improvement_violation",
		"petty_theft", "trade_rule_violation",
	}
}

// syntheticCategories are the categories of the benchmark data
// (analytics/synthetic.go: syntheticCategories, unexported) beyond the demo's.
func syntheticCategories() []string {
	return []string{
		"speeding", "parking", "noise", "littering", "street_trading", "registration",
		"smoking_public", "minor_theft", "disobedience", "fare_evasion", "other_offence",
	}
}

// demoVehicles are the vehicles of ingest/demo/categories.go
// (accidentCategories) and analytics/synthetic.go, and the road users a
// report by vehicle type shows besides.
func demoVehicles() []string {
	return []string{
		"car", "truck", "bus", "motorcycle", "moped", "scooter", "bicycle",
		"pedestrian", "electric_scooter", "minibus", "tractor", "other", "unknown",
	}
}

// indicatorUnits are the units of classify.IndicatorResult.Unit
// (analytics/classify/policy.go: indicatorKinds, unexported).
func indicatorUnits() []string { return []string{"count", "per 1,000 a year", "share", "z"} }

func TestCataloguesCoverTheVocabulary(t *testing.T) {
	c := load(t)
	var keys []string
	add := func(family string, names ...string) {
		for _, n := range names {
			keys = append(keys, family+"."+NormalizeName(n))
		}
	}
	for _, k := range analytics.Kinds {
		add("kind", k.String())
		add("kind_short", k.String())
	}
	add("severity", "unknown")
	for s := analytics.SeverityMinor; s <= analytics.SeverityEspeciallyGrave; s++ {
		add("severity", s.String())
	}
	for _, f := range analytics.FlagNames {
		add("flag", f.Name)
	}
	pol := classify.DefaultPolicy()
	for _, ind := range pol.Indicators {
		add("indicator", ind.Name, string(ind.Kind))
	}
	add("indicator", classify.RegisteredCrimes, string(classify.KindGraveRate), string(classify.KindSolvedShare),
		string(classify.KindCrimeCount), string(classify.KindChangeZ), string(classify.KindHotspotShare))
	add("indicator_unit", indicatorUnits()...)
	for _, r := range pol.Rules {
		add("reason", r.Name)
	}
	add("reason", classify.RuleNoCrime, classify.RuleDefault)
	add("mahalla_category", string(classify.Red), string(classify.Yellow), string(classify.Green))
	add("mahalla_category_note", string(classify.Red), string(classify.Yellow), string(classify.Green))
	add("transition", "same", "new")
	for _, e := range hotspot.EmergingCategories() {
		add("emerging", string(e))
	}
	add("category", disclose.SensitiveCategories()...)
	add("category", disclose.SensitiveGroup)
	add("category", demoCategories()...)
	add("category", syntheticCategories()...)
	add("vehicle", demoVehicles()...)
	for _, lv := range geo.Levels {
		add("level", string(lv))
	}
	for m := 1; m <= 12; m++ {
		add("month", strconv.Itoa(m))
		add("month_short", strconv.Itoa(m))
	}
	for d := 1; d <= 7; d++ {
		add("weekday", strconv.Itoa(d))
		add("weekday_short", strconv.Itoa(d))
	}
	for _, l := range Langs() {
		for _, k := range keys {
			if _, ok := c.Lookup(l, k); !ok {
				t.Errorf("%s: no %s", l, k)
			}
		}
	}
}

// TestDemoEventsHaveLabels generates a year of the demo region and checks
// that every category and vehicle it produces has a label, so a category
// added to the generator without a translation fails here.
func TestDemoEventsHaveLabels(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a year of demo events")
	}
	c := load(t)
	units, err := demo.Units()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	cfg := demo.Config{Seed: 1, Now: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), Months: 12}
	err = demo.Events(context.Background(), cfg, units, func(b []analytics.Event) error {
		for i := range b {
			seen["category."+b[i].Category] = true
			if b[i].Vehicle != "" {
				seen["vehicle."+b[i].Vehicle] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 20 {
		t.Fatalf("the demo produced only %d categories and vehicles: %v", len(seen), seen)
	}
	for k := range seen {
		for _, l := range Langs() {
			if _, ok := c.Lookup(l, k); !ok {
				t.Errorf("%s: the demo produces %s, the catalogue has no label", l, k)
			}
		}
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Lang{
		"uz": Uzbek, "UZ": Uzbek, "uz-Latn": Uzbek, "UZ-LATN": Uzbek, "uz_latn": Uzbek,
		"uz-Cyrl": UzbekCyrillic, "uz-cyrl": UzbekCyrillic, "UZ_CYRL": UzbekCyrillic,
		"ru": Russian, "RU": Russian, " en ": English, "kk": Kazakh, "ky": Kyrgyz, "KY": Kyrgyz,
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fr", "uz-Arab", "kz", "kg", "en-US", "ru-RU", "uzb"} {
		_, err := Parse(in)
		if !errors.Is(err, ErrUnknownLang) {
			t.Errorf("Parse(%q): error %v, want ErrUnknownLang", in, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, strconv.Quote(in)) {
			t.Errorf("Parse(%q): error %q does not name the value", in, msg)
		}
		for _, l := range Langs() {
			if !strings.Contains(msg, string(l)) {
				t.Errorf("Parse(%q): error %q does not list %s", in, msg, l)
			}
		}
	}
}

func TestTFallbacks(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, l := range Langs() {
		fsys[string(l)+".json"] = &fstest.MapFile{Data: []byte(`{"lang.name": "x"}`)}
	}
	fsys["en.json"] = &fstest.MapFile{Data: []byte(`{
		"only.en": "English only",
		"both": "Both in English",
		"page": "Page %[1]d of %[2]d",
		"share": "Share, %%"}`)}
	fsys["ru.json"] = &fstest.MapFile{Data: []byte(`{"both": "Оба", "page": "Страница %[1]d из %[2]d"}`)}
	c, err := LoadFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang Lang
		key  string
		args []any
		want string
	}{
		{Russian, "both", nil, "Оба"},
		{Russian, "only.en", nil, "English only"},         // missing in ru: en
		{Russian, "no.such.key", nil, "no.such.key"},      // missing everywhere: the key
		{Russian, "no.such.key", []any{1}, "no.such.key"}, // args never reach a bare key
		{Russian, "both", []any{1, 2}, "Оба"},             // nor a message without verbs
		{Russian, "page", []any{3, 10}, "Страница 3 из 10"},
		{Kazakh, "page", []any{3, 10}, "Page 3 of 10"},
		{Russian, "share", nil, "Share, %"},
		{Russian, "share", []any{5}, "Share, %"},
		{Lang("fr"), "both", nil, "Both in English"}, // an unknown language reads English
	} {
		if got := c.T(tc.lang, tc.key, tc.args...); got != tc.want {
			t.Errorf("T(%s, %s, %v) = %q, want %q", tc.lang, tc.key, tc.args, got, tc.want)
		}
	}
}

func TestLabelAndTransition(t *testing.T) {
	c := load(t)
	for _, tc := range []struct {
		lang         Lang
		family, name string
		want         string
	}{
		{Russian, "category", "theft", "Кража"},
		{Russian, "category", "Theft", "Кража"},
		{Russian, "category", "shoplifting_2031", "shoplifting_2031"}, // unknown: the raw name
		{Kazakh, "category", "other_sensitive", "Ерекше санаттағы қылмыстар (біріктірілген)"},
		{English, "emerging", string(hotspot.NewHotSpot), "New hot spot"},
		{Uzbek, "indicator_unit", "per 1,000 a year", "1" + nbsp + "000 aholiga yiliga"},
		{Kyrgyz, "severity", analytics.SeverityEspeciallyGrave.String(), "Өзгөчө оор"},
		{UzbekCyrillic, "flag", "public_place", "Жамоат жойларида"},
	} {
		if got := c.Label(tc.lang, tc.family, tc.name); got != tc.want {
			t.Errorf("Label(%s, %s, %s) = %q, want %q", tc.lang, tc.family, tc.name, got, tc.want)
		}
	}
	if got, want := c.Transition(Russian, "yellow->red"), "Жёлтая → Красная"; got != want {
		t.Errorf("Transition = %q, want %q", got, want)
	}
	if got, want := c.Transition(Uzbek, "same"), "Oʻzgarishsiz"; got != want {
		t.Errorf("Transition = %q, want %q", got, want)
	}
	if got, want := c.T(English, "report.page", 2, 9), "Page 2 of 9"; got != want {
		t.Errorf("report.page = %q, want %q", got, want)
	}
	if got, want := c.T(Uzbek, "article.crime", "169"), "JK 169-moddasi"; got != want {
		t.Errorf("article.crime = %q, want %q", got, want)
	}
}

// perLang is an expected value per language, in Langs() order.
type perLang [6]string

func (p perLang) check(t *testing.T, what string, f func(Lang) string) {
	t.Helper()
	for i, l := range Langs() {
		if got := f(l); got != p[i] {
			t.Errorf("%s in %s = %q, want %q", what, l, got, p[i])
		}
	}
}

func TestNumbers(t *testing.T) {
	c := load(t)
	//                uz, uz-Cyrl, ru, en, kk, ky
	for _, tc := range []struct {
		v    float64
		dec  int
		want perLang
	}{
		{1234567.891, 2, perLang{"1 234 567,89", "1 234 567,89", "1 234 567,89", "1,234,567.89", "1 234 567,89", "1 234 567,89"}},
		{999, 0, perLang{"999", "999", "999", "999", "999", "999"}},
		{1000, 0, perLang{"1 000", "1 000", "1 000", "1,000", "1 000", "1 000"}},
		{-12345.6, 1, perLang{"-12 345,6", "-12 345,6", "-12 345,6", "-12,345.6", "-12 345,6", "-12 345,6"}},
		{-0.004, 2, perLang{"0,00", "0,00", "0,00", "0.00", "0,00", "0,00"}},
		{0.25, -1, perLang{"0,25", "0,25", "0,25", "0.25", "0,25", "0,25"}},
		{math.NaN(), 1, perLang{"—", "—", "—", "—", "—", "—"}},
	} {
		want := tc.want
		for i := range want {
			want[i] = strings.ReplaceAll(want[i], " ", nbsp)
		}
		want.check(t, fmt.Sprintf("Number(%v, %d)", tc.v, tc.dec), func(l Lang) string { return c.Number(l, tc.v, tc.dec) })
	}
	for _, tc := range []struct {
		n    int64
		want perLang
	}{
		{0, perLang{"0", "0", "0", "0", "0", "0"}},
		{-1234567, perLang{"-1 234 567", "-1 234 567", "-1 234 567", "-1,234,567", "-1 234 567", "-1 234 567"}},
		{math.MinInt64, perLang{"-9 223 372 036 854 775 808", "-9 223 372 036 854 775 808", "-9 223 372 036 854 775 808",
			"-9,223,372,036,854,775,808", "-9 223 372 036 854 775 808", "-9 223 372 036 854 775 808"}},
	} {
		want := tc.want
		for i := range want {
			want[i] = strings.ReplaceAll(want[i], " ", nbsp)
		}
		want.check(t, fmt.Sprintf("Int(%d)", tc.n), func(l Lang) string { return c.Int(l, tc.n) })
	}
	perLang{"12,5%", "12,5%", "12,5" + nbsp + "%", "12.5%", "12,5%", "12,5%"}.check(t, "Percent(12.5, 1)",
		func(l Lang) string { return c.Percent(l, 12.5, 1) })
	perLang{"-3%", "-3%", "-3" + nbsp + "%", "-3%", "-3%", "-3%"}.check(t, "Percent(-3, 0)",
		func(l Lang) string { return c.Percent(l, -3, 0) })
	for _, tc := range []struct {
		v    float64
		dec  int
		want string
	}{{12, 0, "+12"}, {-3, 0, "-3"}, {0, 0, "0"}, {0.004, 2, "0.00"}, {0.5, 1, "+0.5"}, {math.Inf(1), 0, "+∞"}} {
		if got := c.Signed(English, tc.v, tc.dec); got != tc.want {
			t.Errorf("Signed(%v, %d) = %q, want %q", tc.v, tc.dec, got, tc.want)
		}
	}
}

func TestDates(t *testing.T) {
	c := load(t)
	tashkent := time.FixedZone("Asia/Tashkent", 5*3600)
	//    uz, uz-Cyrl, ru, en, kk, ky
	perLang{"2026-yil 1-yanvar", "2026 йил 1 январь", "1 января 2026" + nbsp + "г.", "1 January 2026", "2026 жылғы 1 қаңтар", "2026-жылдын 1-январы"}.
		check(t, "Date(2026-01-01)", func(l Lang) string { return c.Date(l, time.Date(2026, 1, 1, 0, 0, 0, 0, tashkent)) })
	perLang{"2025-yil 30-sentabr", "2025 йил 30 сентябрь", "30 сентября 2025" + nbsp + "г.", "30 September 2025", "2025 жылғы 30 қыркүйек", "2025-жылдын 30-сентябры"}.
		check(t, "Date(2025-09-30)", func(l Lang) string { return c.Date(l, time.Date(2025, 9, 30, 23, 59, 0, 0, tashkent)) })
	perLang{"2026-yil 8-may", "2026 йил 8 май", "8 мая 2026" + nbsp + "г.", "8 May 2026", "2026 жылғы 8 мамыр", "2026-жылдын 8-майы"}.
		check(t, "Date(2026-05-08)", func(l Lang) string { return c.Date(l, time.Date(2026, 5, 8, 0, 0, 0, 0, time.UTC)) })
	perLang{"2026-yil mart", "2026 йил март", "март 2026" + nbsp + "г.", "March 2026", "2026 жылғы наурыз", "2026-жылдын март айы"}.
		check(t, "MonthYear(2026-03)", func(l Lang) string { return c.MonthYear(l, time.Date(2026, 3, 31, 0, 0, 0, 0, tashkent)) })
}

func TestPeriodLabels(t *testing.T) {
	c := load(t)
	tashkent := time.FixedZone("Asia/Tashkent", 5*3600)
	parse := func(s string) analytics.Period {
		p, err := analytics.ParsePeriod(s, tashkent)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	q1 := parse("2026-Q1")
	q1UTC := q1
	q1UTC.From, q1UTC.To = q1.From.UTC(), q1.To.UTC() // From is 2025-12-31T19:00Z
	noLabel := q1
	noLabel.Label = ""
	for _, tc := range []struct {
		p    analytics.Period
		want perLang
	}{
		{q1, perLang{"2026-yil 1-chorak", "2026 йил 1-чорак", "I квартал 2026\u00a0г.", "Q1 2026", "2026 жылғы I тоқсан", "2026-жылдын I чейреги"}},
		{q1UTC, perLang{"2026-yil 1-chorak", "2026 йил 1-чорак", "I квартал 2026\u00a0г.", "Q1 2026", "2026 жылғы I тоқсан", "2026-жылдын I чейреги"}},
		{noLabel, perLang{"2026-yil 1-chorak", "2026 йил 1-чорак", "I квартал 2026\u00a0г.", "Q1 2026", "2026 жылғы I тоқсан", "2026-жылдын I чейреги"}},
		{parse("2025-Q4"), perLang{"2025-yil 4-chorak", "2025 йил 4-чорак", "IV квартал 2025\u00a0г.", "Q4 2025", "2025 жылғы IV тоқсан", "2025-жылдын IV чейреги"}},
		{parse("2026-H2"), perLang{"2026-yil 2-yarim yillik", "2026 йил 2-ярим йиллик", "II полугодие 2026\u00a0г.", "H2 2026", "2026 жылғы II жартыжылдық", "2026-жылдын II жарым жылдыгы"}},
		{parse("2026"), perLang{"2026-yil", "2026 йил", "2026 год", "2026", "2026 жыл", "2026-жыл"}},
		{parse("2026-03"), perLang{"2026-yil mart", "2026 йил март", "март 2026\u00a0г.", "March 2026", "2026 жылғы наурыз", "2026-жылдын март айы"}},
		{parse("2025-07-01..2025-09-30"), perLang{
			"2025-yil 1-iyul – 2025-yil 30-sentabr", "2025 йил 1 июль – 2025 йил 30 сентябрь",
			"1 июля 2025\u00a0г. – 30 сентября 2025\u00a0г.", "1 July 2025 – 30 September 2025",
			"2025 жылғы 1 шілде – 2025 жылғы 30 қыркүйек", "2025-жылдын 1-июлу – 2025-жылдын 30-сентябры"}},
		{parse("2026-W01"), perLang{
			"2025-yil 29-dekabr – 2026-yil 4-yanvar", "2025 йил 29 декабрь – 2026 йил 4 январь",
			"29 декабря 2025\u00a0г. – 4 января 2026\u00a0г.", "29 December 2025 – 4 January 2026",
			"2025 жылғы 29 желтоқсан – 2026 жылғы 4 қаңтар", "2025-жылдын 29-декабры – 2026-жылдын 4-январы"}},
		{parse("2026-01-05..2026-01-05"), perLang{"2026-yil 5-yanvar", "2026 йил 5 январь", "5 января 2026\u00a0г.", "5 January 2026", "2026 жылғы 5 қаңтар", "2026-жылдын 5-январы"}},
		{analytics.Period{Label: "something-else", Kind: "decade"}, perLang{"something-else", "something-else", "something-else", "something-else", "something-else", "something-else"}},
	} {
		tc.want.check(t, fmt.Sprintf("PeriodLabel(%q)", tc.p.Label), func(l Lang) string { return c.PeriodLabel(l, tc.p) })
	}
	// A range of instants keeps its own zone: 2026-01-01T00:00+05:00 is
	// still 31 December in UTC.
	p, err := analytics.ParseRange("2026-01-01T00:00:00+05:00", "2026-01-02T00:00:00+05:00", tashkent)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.PeriodLabel(English, p), "1 January 2026"; got != want {
		t.Errorf("PeriodLabel(%q) = %q, want %q", p.Label, got, want)
	}
}

func TestLoadFSErrors(t *testing.T) {
	good := fstest.MapFS{}
	for _, l := range Langs() {
		good[string(l)+".json"] = &fstest.MapFile{Data: []byte(`{"a": "b"}`)}
	}
	if _, err := LoadFS(good); err != nil {
		t.Fatalf("LoadFS(good): %v", err)
	}
	for name, data := range map[string]string{
		"duplicate key": `{"a": "b", "a": "c"}`,
		"not a string":  `{"a": 1}`,
		"not an object": `["a"]`,
		"lone percent":  `{"a": "12 %"}`,
		"trailing data": `{"a": "b"} {}`,
		"truncated":     `{"a": "b"`,
	} {
		fsys := fstest.MapFS{}
		for k, v := range good {
			fsys[k] = v
		}
		fsys["kk.json"] = &fstest.MapFile{Data: []byte(data)}
		_, err := LoadFS(fsys)
		if err == nil || !strings.Contains(err.Error(), "kk.json") {
			t.Errorf("%s: error %v, want one naming kk.json", name, err)
		}
	}
	missing := fstest.MapFS{}
	for k, v := range good {
		missing[k] = v
	}
	delete(missing, "ky.json")
	if _, err := LoadFS(missing); err == nil || !strings.Contains(err.Error(), "ky.json") {
		t.Errorf("missing file: error %v, want one naming ky.json", err)
	}
}

// TestLoadReturnsIndependentValues checks that Load keeps nothing between
// calls: each value carries its own messages.
func TestLoadReturnsIndependentValues(t *testing.T) {
	a, b := load(t), load(t)
	a.msgs[Russian]["report.title"] = message{format: "changed", plain: "changed"}
	if got := b.T(Russian, "report.title"); got == "changed" {
		t.Error("two Load calls share their messages")
	}
}

func BenchmarkT(b *testing.B) {
	c := load(b)
	for b.Loop() {
		_ = c.T(Russian, "report.page", 3, 10)
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}
