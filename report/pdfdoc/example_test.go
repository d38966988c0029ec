package pdfdoc_test

import (
	"bytes"
	"fmt"
	"log"
	"time"

	"github.com/crimemap/crimemap/report/pdfdoc"
)

// A report page: a cover block, a table with a total row and a slot for the
// office to fill in. The same calls always give the same bytes.
func Example() {
	d, err := pdfdoc.New(pdfdoc.Options{
		Title:    "Криминогенная обстановка, I квартал 2026 г.",
		Language: "ru",
		Created:  time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC),
		Footer:   "Данные на 05.04.2026",
		PageLabel: func(page, total int) string {
			return fmt.Sprintf("стр. %d из %d", page, total)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	d.Heading(1, "Кашкадарьинская область")
	d.KeyValues([][2]string{{"Период", "январь–март 2026 г."}, {"АППГ", "январь–март 2025 г."}})
	d.Table(pdfdoc.Table{
		Columns: []pdfdoc.Column{
			{Title: "Район", Width: 0.6},
			{Title: "Преступления", Width: 0.2, Align: pdfdoc.AlignRight},
			{Title: "АППГ", Width: 0.2, Align: pdfdoc.AlignRight},
		},
		Rows:  [][]string{{"Гузарский", "118", "131"}, {"Карши", "402", "377"}},
		Total: []string{"Итого", "520", "508"},
	})
	d.EmptySection("Причины и условия", 5)

	var buf bytes.Buffer
	if err := d.Write(&buf); err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(buf.Bytes()[:8]))
	// Output: %PDF-1.3
}
