// Package i18n holds the message catalogues of the reports and the web map
// in six languages, and formats numbers, dates and periods for each.
//
// The catalogues are data: one flat JSON object per language in
// catalogues/<tag>.json (key -> message), embedded in the binary, so a
// translator can correct a label without touching Go and a test can prove
// that every key exists in every language. Keys are dotted by family:
// report.*, section.*, cover.*, table.*, kind.*, severity.*, flag.*,
// category.*, vehicle.*, indicator.*, reason.*, month.1..12, weekday.1..7
// (ISO, Monday first) and so on. Messages are printf formats: a literal
// percent sign is written "%%", and arguments may be reordered with
// explicit indexes ("%[2]d-yil %[1]s") where a language's word order needs
// it.
//
// # Languages
//
// uz is Uzbek in the Latin script with the official apostrophes: U+02BB
// (ʻ) in oʻ and gʻ, U+02BC (ʼ) for the tutuq belgisi (maʼmuriy); uz-Cyrl is
// Uzbek in Cyrillic; ru, en, kk (Kazakh, Cyrillic) and ky (Kyrgyz,
// Cyrillic). Month names in dates take the form the grammar asks for:
// Russian uses the genitive (1 января), Kyrgyz the possessive (1-январы);
// both live in the optional month_genitive.N keys, which only those two
// catalogues have. Uzbek and Kazakh put the year first (2026-yil
// 1-yanvar, 2026 жылғы 1 қаңтар), as their official documents do.
//
// # Numbers
//
// Every language but en groups thousands with U+00A0 NO-BREAK SPACE and
// writes a decimal comma, as CLDR does for ru, uz, kk and ky: the no-break
// space keeps "1 234" on one line in PDF table cells and is present in
// every font that covers Cyrillic, which the narrow U+202F is not. en uses
// "1,234.5". Russian puts a no-break space before the percent sign (12,5 %),
// the others do not (12,5%).
package i18n

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crimemap/crimemap/analytics"
)

// Lang is a catalogue language, named by its BCP 47 tag.
type Lang string

// The six languages.
const (
	Uzbek         Lang = "uz"      // Uzbek, Latin script
	UzbekCyrillic Lang = "uz-Cyrl" // Uzbek, Cyrillic script
	Russian       Lang = "ru"
	English       Lang = "en"
	Kazakh        Lang = "kk"
	Kyrgyz        Lang = "ky"
)

// Fallback is the language a missing message is taken from.
const Fallback = English

// Langs returns the six languages in a fixed order (a fresh slice each
// call, so callers may change it).
func Langs() []Lang {
	return []Lang{Uzbek, UzbekCyrillic, Russian, English, Kazakh, Kyrgyz}
}

func (l Lang) String() string { return string(l) }

// allowedTags lists the tags for error messages.
// Tags lists the six language tags, comma-separated, for messages that say
// what is allowed.
func Tags() string {
	var tags []string
	for _, l := range Langs() {
		tags = append(tags, string(l))
	}
	return strings.Join(tags, ", ")
}

// ErrUnknownLang is wrapped by Parse's error for a tag that is not one of
// the six languages.
var ErrUnknownLang = errors.New("unsupported language")

// Parse returns the language named by tag, compared case-insensitively;
// "uz-Latn" is accepted as uz, and "_" as a separator ("uz_Cyrl"). The
// error names the value and lists the allowed tags.
func Parse(tag string) (Lang, error) {
	t := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"))
	if t == "uz-latn" {
		return Uzbek, nil
	}
	for _, l := range Langs() {
		if t == strings.ToLower(string(l)) {
			return l, nil
		}
	}
	return "", fmt.Errorf("language %q: %w (want one of %s)", tag, ErrUnknownLang, Tags())
}

//go:embed catalogues/*.json
var embedded embed.FS

// message is one catalogue entry, checked and prepared at load time.
type message struct {
	format string // the printf format as written
	plain  string // the text with "%%" unescaped, for use without arguments
	verbs  []verb
}

// Catalogues holds the parsed messages of every language. It is read-only
// once loaded and safe for concurrent use.
type Catalogues struct {
	msgs map[Lang]map[string]message
}

// Load parses the embedded catalogues. Each call parses them afresh, so
// callers keep the returned value (load once at start-up, pass it down).
func Load() (*Catalogues, error) {
	sub, err := fs.Sub(embedded, "catalogues")
	if err != nil {
		return nil, fmt.Errorf("i18n: embedded catalogues: %w", err)
	}
	return LoadFS(sub)
}

// LoadFS parses the catalogues <tag>.json of every language from fsys (for
// trying corrected translations without a rebuild). Every file must exist
// and be one JSON object of strings with no duplicate keys, and every
// message must be a well-formed format (see the package comment); the
// error names the file and the key.
func LoadFS(fsys fs.FS) (*Catalogues, error) {
	c := &Catalogues{msgs: make(map[Lang]map[string]message, len(Langs()))}
	for _, l := range Langs() {
		name := string(l) + ".json"
		f, err := fsys.Open(name)
		if err != nil {
			return nil, fmt.Errorf("i18n: catalogue %s: %w", name, err)
		}
		m, err := decodeCatalogue(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("i18n: catalogue %s: %w", name, err)
		}
		c.msgs[l] = m
	}
	return c, nil
}

// decodeCatalogue reads one flat JSON object of strings. It walks the
// tokens itself because encoding/json silently keeps the last of two equal
// keys, and a duplicated key in a hand-edited catalogue is a mistake that
// must not pass unnoticed.
func decodeCatalogue(r io.Reader) (map[string]message, error) {
	dec := json.NewDecoder(r)
	if tok, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	} else if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("want a JSON object of key -> message, got %v", tok)
	}
	out := make(map[string]message)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
		key := tok.(string) // object keys are always strings
		var text string
		if err := dec.Decode(&text); err != nil {
			return nil, fmt.Errorf("key %q: want a string: %w", key, err)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("key %q appears twice", key)
		}
		verbs, err := parseVerbs(text)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
		out[key] = message{format: text, plain: strings.ReplaceAll(text, "%%", "%"), verbs: verbs}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("read: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the closing brace")
	}
	return out, nil
}

// find returns the message for key in lang, else in Fallback.
func (c *Catalogues) find(lang Lang, key string) (message, bool) {
	if m, ok := c.msgs[lang][key]; ok {
		return m, true
	}
	m, ok := c.msgs[Fallback][key]
	return m, ok
}

// T returns the message key in lang, falling back to English and then to
// the key itself, so a missing translation shows up as readable English or
// as the key, never as an empty cell. args are applied printf-style only
// when the message has verbs: a message without verbs (or the bare key) is
// returned as it is, whatever args are passed.
func (c *Catalogues) T(lang Lang, key string, args ...any) string {
	m, ok := c.find(lang, key)
	if !ok {
		return key
	}
	if len(args) == 0 || len(m.verbs) == 0 {
		return m.plain
	}
	return fmt.Sprintf(m.format, args...)
}

// Lookup returns the message key of lang exactly as written in its
// catalogue (no fallback, no formatting) and whether it exists.
func (c *Catalogues) Lookup(lang Lang, key string) (string, bool) {
	m, ok := c.msgs[lang][key]
	return m.format, ok
}

// Keys returns the keys of lang's catalogue, sorted.
func (c *Catalogues) Keys(lang Lang) []string {
	keys := make([]string, 0, len(c.msgs[lang]))
	for k := range c.msgs[lang] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// NormalizeName turns a vocabulary value into its key part: lower case,
// spaces and hyphens as underscores, commas dropped. So the emerging hot
// spot category "new hot spot" is emerging.new_hot_spot and the indicator
// unit "per 1,000 a year" is indicator_unit.per_1000_a_year.
func NormalizeName(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	name = strings.ReplaceAll(name, ",", "")
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, name)
}

// Label returns the label of a vocabulary value in lang: the message
// family.NormalizeName(name) (family is "kind", "severity", "flag",
// "category", "vehicle", "indicator", "reason", "mahalla_category",
// "emerging", "level", "indicator_unit", ...), in lang or English. A value
// no catalogue knows, such as a category an import brought that did not
// exist when the catalogues were written, is returned as it is: the raw
// name reads better in a report than "category.xyz".
func (c *Catalogues) Label(lang Lang, family, name string) string {
	if m, ok := c.find(lang, family+"."+NormalizeName(name)); ok {
		return m.plain
	}
	return name
}

// Transition labels a classify.Result.Transition: "same", "new", or
// "yellow->red" (shown as "Жёлтая → Красная").
func (c *Catalogues) Transition(lang Lang, t string) string {
	if from, to, ok := strings.Cut(t, "->"); ok {
		return c.T(lang, "transition.change", c.Label(lang, "mahalla_category", from), c.Label(lang, "mahalla_category", to))
	}
	return c.Label(lang, "transition", t)
}

// Number formats v with decimals digits after the decimal separator
// (decimals < 0: as many as needed to read v back). Rounding is to nearest
// on the exact binary value, as strconv does. A result that rounds to zero
// has no minus sign. NaN is "—" (no value), infinities "∞" and "-∞".
func (c *Catalogues) Number(lang Lang, v float64, decimals int) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "-∞"
	}
	s := strconv.FormatFloat(v, 'f', max(decimals, -1), 64)
	neg := strings.HasPrefix(s, "-") && !roundsToZero(v, decimals) // -0.001 at 2 decimals is "0,00"
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	out := c.group(lang, whole)
	if frac != "" {
		out += c.T(lang, "number.decimal_separator") + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// Int formats n with the thousands separator of lang.
func (c *Catalogues) Int(lang Lang, n int64) string {
	s := strconv.FormatInt(n, 10)
	if digits, ok := strings.CutPrefix(s, "-"); ok {
		return "-" + c.group(lang, digits)
	}
	return c.group(lang, s)
}

// group inserts lang's thousands separator into a string of digits.
func (c *Catalogues) group(lang Lang, digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	sep := c.T(lang, "number.group_separator")
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// Signed formats v like Number with an explicit "+" on values that do not
// round to zero, for change columns ("+12", "-3", "0").
func (c *Catalogues) Signed(lang Lang, v float64, decimals int) string {
	s := c.Number(lang, v, decimals)
	if v > 0 && !roundsToZero(v, decimals) {
		return "+" + s
	}
	return s
}

// roundsToZero reports whether v shows as zero with decimals digits.
func roundsToZero(v float64, decimals int) bool {
	return strings.Trim(strconv.FormatFloat(v, 'f', max(decimals, -1), 64), "-0.") == ""
}

// Percent formats v, a value already in percent (12.5 for 12.5%, as
// analytics.Change.Percent is), with decimals digits and lang's percent
// sign ("12,5 %" in Russian, "12,5%" in Uzbek, "12.5%" in English).
func (c *Catalogues) Percent(lang Lang, v float64, decimals int) string {
	return c.T(lang, "number.percent", c.Number(lang, v, decimals))
}

// monthName returns the name of month m as a date needs it: the
// month_genitive form where lang has one (ru, ky), else the nominative.
func (c *Catalogues) monthName(lang Lang, m time.Month) string {
	if g, ok := c.msgs[lang]["month_genitive."+strconv.Itoa(int(m))]; ok {
		return g.plain
	}
	return c.T(lang, "month."+strconv.Itoa(int(m)))
}

// Date formats the calendar date of t (in t's own location: convert to the
// region's zone first) the way lang writes dates in documents: "1 January
// 2026", "1 января 2026 г.", "2026-yil 1-yanvar", "2026 йил 1 январь",
// "2026 жылғы 1 қаңтар", "2026-жылдын 1-январы".
func (c *Catalogues) Date(lang Lang, t time.Time) string {
	return c.T(lang, "format.date", t.Day(), c.monthName(lang, t.Month()), t.Year())
}

// MonthYear formats the month of t (in t's location): "January 2026",
// "январь 2026 г.", "2026-yil yanvar", "2026-жылдын январь айы".
func (c *Catalogues) MonthYear(lang Lang, t time.Time) string {
	return c.T(lang, "format.month_year", c.T(lang, "month."+strconv.Itoa(int(t.Month()))), t.Year())
}

// PeriodLabel names a period in lang: a month as MonthYear; a quarter as
// "Q1 2026", "I квартал 2026 г.", "2026-yil 1-chorak"; a half as "H1 2026",
// "I полугодие 2026 г."; a year as "2026", "2026 год", "2026-yil"; a week
// or a custom range as its first and last day ("1 July 2025 – 30 September
// 2025", or one date for a single day).
//
// The calendar is read from p.Label when it is a named period or a range
// of dates, because From and To are instants and may come back in UTC (from
// JSON, say), where the local midnight of 1 January in Tashkent is still
// 31 December. Ranges of instants use From and To in their own location.
// A Period whose Kind is unknown is returned by its Label.
func (c *Catalogues) PeriodLabel(lang Lang, p analytics.Period) string {
	from, to := p.From, p.To
	if p.Label != "" && !strings.Contains(p.Label, ":") {
		if q, err := analytics.ParsePeriod(p.Label, time.UTC); err == nil && (p.Kind == "" || q.Kind == p.Kind) {
			p.Kind, from, to = q.Kind, q.From, q.To
		}
	}
	y, m := from.Year(), from.Month()
	switch p.Kind {
	case analytics.PeriodYear:
		return c.T(lang, "period.year", y)
	case analytics.PeriodHalf:
		return c.T(lang, "period.half."+strconv.Itoa((int(m)-1)/6+1), y)
	case analytics.PeriodQuarter:
		return c.T(lang, "period.quarter."+strconv.Itoa((int(m)-1)/3+1), y)
	case analytics.PeriodMonth:
		return c.MonthYear(lang, from)
	case analytics.PeriodWeek, analytics.PeriodRange:
		if from.IsZero() || !to.After(from) {
			return p.Label
		}
		last := to.Add(-time.Nanosecond).In(from.Location()) // To is excluded
		first := c.Date(lang, from)
		if last.Year() == from.Year() && last.YearDay() == from.YearDay() {
			return first
		}
		return c.T(lang, "format.range", first, c.Date(lang, last))
	}
	return p.Label
}
