package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/i18n"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/crimemap/crimemap/report"
	"github.com/crimemap/crimemap/store"
)

// Report benchmark targets (issue 12): a region report in <= 2 s as PDF and
// <= 1 s as XLSX, figures included.
const (
	targetReportPDF  = 2 * time.Second
	targetReportXLSX = time.Second
	reportRuns       = 5
)

// benchReports times the region report of the demo (Kashkadarya, 852
// mahallas, a year of demo events) as PDF and XLSX: Build, the maps' data
// (boundaries, rates, Gi* at res 7) and the writer, median of reportRuns
// after a warm-up.
func benchReports(ctx context.Context, w io.Writer) error {
	units, err := demo.Units()
	if err != nil {
		return err
	}
	now := time.Now()
	var events []analytics.Event
	if err := demo.Events(ctx, demo.Config{Seed: 1, Now: now, Scale: 1}, units, func(b []analytics.Event) error {
		events = append(events, b...)
		return nil
	}); err != nil {
		return err
	}
	snap, err := analytics.BuildEvents(ctx, units, events, 1, 1)
	if err != nil {
		return err
	}
	cat, err := i18n.Load()
	if err != nil {
		return err
	}
	loc, err := location("Asia/Tashkent")
	if err != nil {
		return err
	}
	per, err := analytics.ParsePeriod(lastQuarter(now, loc), loc)
	if err != nil {
		return err
	}
	l := report.Locale{C: cat, Lang: i18n.Russian}
	run := func(write func(io.Writer, *report.Report, report.PDFLocalizer) error) (time.Duration, int, error) {
		var ds []time.Duration
		size := 0
		for i := range reportRuns + 1 {
			start := time.Now()
			r, err := report.Build(ctx, snap, report.Options{Period: per, Unit: "1710", Location: loc, Now: now})
			if err != nil {
				return 0, 0, err
			}
			if err := r.AddMaps(ctx, unitList(units), snap); err != nil {
				return 0, 0, err
			}
			var buf bytes.Buffer
			if err := write(&buf, r, l); err != nil {
				return 0, 0, err
			}
			if i > 0 {
				ds = append(ds, time.Since(start))
			}
			size = buf.Len()
		}
		slices.Sort(ds)
		return ds[len(ds)/2], size, nil
	}
	pdfT, pdfSize, err := run(func(w io.Writer, r *report.Report, l report.PDFLocalizer) error { return report.WritePDF(w, r, l) })
	if err != nil {
		return err
	}
	xlsxT, xlsxSize, err := run(func(w io.Writer, r *report.Report, l report.PDFLocalizer) error { return report.WriteXLSX(w, r, l) })
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nregion report, demo Kashkadarya (%d events, %s, ru; Build + maps' data + writer, median of %d)\n", snap.Len(), per.Label, reportRuns)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "format\tseconds\tbytes\ttarget\tmet\t")
	fmt.Fprintf(tw, "pdf\t%.3f\t%d\t<= %s\t%s\t\n", pdfT.Seconds(), pdfSize, targetReportPDF, yesNo(pdfT <= targetReportPDF))
	fmt.Fprintf(tw, "xlsx\t%.3f\t%d\t<= %s\t%s\t\n", xlsxT.Seconds(), xlsxSize, targetReportXLSX, yesNo(xlsxT <= targetReportXLSX))
	return tw.Flush()
}

// unitList serves units from memory as a report.UnitSource.
type unitList []geo.Unit

func (u unitList) Units(context.Context, store.UnitQuery) ([]geo.Unit, error) { return u, nil }
