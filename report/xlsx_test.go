package report_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/report"
	"github.com/xuri/excelize/v2"
)

// keys is a Localizer that answers the keys themselves.
type keys struct{}

func (keys) T(key string) string                   { return key }
func (keys) Language() string                      { return "en" }
func (keys) PeriodLabel(p analytics.Period) string { return p.Label }
func (keys) Date(t time.Time) string               { return t.Format(time.DateOnly) }

// TestXLSXReadsBack: excelize reads the workbook back to the report's
// numbers (as numbers, not text), the header rows are frozen, and two
// writes of one report are byte-identical.
func TestXLSXReadsBack(t *testing.T) {
	r := regionReport(t)
	var a, b bytes.Buffer
	if err := report.WriteXLSX(&a, r, keys{}); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteXLSX(&b, r, keys{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two writes of one report differ")
	}
	f, err := excelize.OpenReader(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) != 9 {
		t.Fatalf("sheets %v", sheets)
	}
	head := sheets[1]
	for i, l := range r.Headline {
		row := strconv.Itoa(i + 2)
		if v, _ := f.GetCellValue(head, "A"+row); v != l.Key {
			t.Errorf("row %s: %q, want %q", row, v, l.Key)
		}
		if typ, _ := f.GetCellType(head, "B"+row); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
			t.Errorf("%s count stored as %v, want a number", l.Key, typ)
		}
		for col, want := range map[string]int64{"B": l.Period.Count, "C": l.Period.Base, "D": l.Period.Diff, "G": l.YTD.Count, "H": l.YTD.Base} {
			v, _ := f.GetCellValue(head, col+row)
			if got, err := strconv.ParseInt(v, 10, 64); err != nil || got != want {
				t.Errorf("%s %s%s = %q, want %d", l.Key, col, row, v, want)
			}
		}
	}
	panes, err := f.GetPanes(head)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("header not frozen: %+v %v", panes, err)
	}
	terr := sheets[len(sheets)-1]
	if v, _ := f.GetCellValue(terr, "B2"); v != r.Children[0].Name {
		t.Errorf("territory first row %q, want %q", v, r.Children[0].Name)
	}
}

// regionReport is the demo region's report of 2026-Q2.
func regionReport(t *testing.T) *report.Report {
	t.Helper()
	w, err := demoWorld()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := analytics.ParsePeriod("2026-Q2", w.loc)
	r, err := report.Build(context.Background(), w.snap, report.Options{Period: p, Unit: "1710", Location: w.loc,
		Now: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
