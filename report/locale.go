package report

import (
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/i18n"
)

// Locale is a language of the message catalogues (package i18n) as a
// report's Localizer: words, numbers, dates and periods as that language's
// documents write them.
type Locale struct {
	C    *i18n.Catalogues
	Lang i18n.Lang
}

var _ PDFLocalizer = Locale{}

func (l Locale) T(key string) string                   { return l.C.T(l.Lang, key) }
func (l Locale) Language() string                      { return string(l.Lang) }
func (l Locale) Tf(key string, args ...any) string     { return l.C.T(l.Lang, key, args...) }
func (l Locale) PeriodLabel(p analytics.Period) string { return l.C.PeriodLabel(l.Lang, p) }
func (l Locale) Date(t time.Time) string               { return l.C.Date(l.Lang, t) }
func (l Locale) Int(n int64) string                    { return l.C.Int(l.Lang, n) }
func (l Locale) Decimal(v float64, decimals int) string {
	return l.C.Number(l.Lang, v, decimals)
}

// Tag is the BCP 47 tag of the language ("uz-Latn" for Uzbek Latin).
func (l Locale) Tag() string {
	if l.Lang == i18n.Uzbek {
		return "uz-Latn"
	}
	return string(l.Lang)
}
