package i18n_test

import (
	"fmt"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/i18n"
)

func Example() {
	cat, err := i18n.Load()
	if err != nil {
		panic(err)
	}
	lang, err := i18n.Parse("uz-Latn")
	if err != nil {
		panic(err)
	}
	tashkent := time.FixedZone("Asia/Tashkent", 5*3600)
	q, err := analytics.ParsePeriod("2026-Q1", tashkent)
	if err != nil {
		panic(err)
	}
	fmt.Println(cat.T(lang, "report.title"))
	fmt.Println(cat.T(lang, "report.for_period", cat.PeriodLabel(lang, q)))
	fmt.Println(cat.Label(lang, "category", "theft"), cat.Label(lang, "category", "new_category_2031"))
	fmt.Println(cat.Date(lang, q.From))
	fmt.Println(cat.T(lang, "report.page", 2, 14))

	ru := i18n.Russian
	// Russian puts no-break spaces in numbers and before "г." and "%";
	// %q shows them.
	fmt.Printf("%q %q\n", cat.PeriodLabel(ru, q), cat.Date(ru, q.From))
	fmt.Printf("%q %q %q\n", cat.T(ru, "table.rate_per", cat.Int(ru, 100000)), cat.Number(ru, 1234.5, 1), cat.Percent(ru, -12.5, 1))
	fmt.Println(cat.Number(i18n.English, 1234.5, 1), cat.Signed(i18n.English, 12, 0))

	_, err = i18n.Parse("fr")
	fmt.Println(err)
	// Output:
	// Kriminogen vaziyat tahlili
	// 2026-yil 1-chorak boʻyicha
	// Oʻgʻrilik new_category_2031
	// 2026-yil 1-yanvar
	// 2-bet, jami 14
	// "I квартал 2026\u00a0г." "1 января 2026\u00a0г."
	// "На 100\u00a0000 жителей" "1\u00a0234,5" "-12,5\u00a0%"
	// 1,234.5 +12
	// language "fr": unsupported language (want one of uz, uz-Cyrl, ru, en, kk, ky)
}
