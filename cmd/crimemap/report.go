package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/i18n"
	"github.com/crimemap/crimemap/report"
	"github.com/crimemap/crimemap/store"
)

// cmdReport writes the periodic review of a territory as PDF or XLSX.
func cmdReport(ctx context.Context, env *environment, args []string) error {
	fs := env.newFlags("report", "report --period P --unit CODE [--lang uz|uz-Cyrl|ru|en|kk|ky] [--format pdf|xlsx] [-o FILE] [store flags]")
	sf := env.addStoreFlags(fs)
	periodFlag := fs.String("period", "", "a closed month, quarter, half or year: 2025-09, 2025-Q3, 2025-H1, 2025 (required)")
	unit := fs.String("unit", "", "the code of a region, district or mahalla (required)")
	langFlag := fs.String("lang", "uz", "language: "+i18n.Tags())
	format := fs.String("format", "pdf", "pdf or xlsx")
	outFlag := fs.String("o", "", "output file (default report-UNIT-PERIOD-LANG.FORMAT in the current directory)")
	tz := fs.String("tz", envOr(env, "CRIMEMAP_TZ", "Asia/Tashkent"), "zone periods are cut in (env CRIMEMAP_TZ)")
	rateBase := fs.Float64("rate-base", report.DefaultRateBase, "rates are per this many residents")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(env, "report: unexpected argument %q", fs.Arg(0))
	}
	if *periodFlag == "" || *unit == "" {
		return usageError(env, "report: --period and --unit are required")
	}
	lang, err := i18n.Parse(*langFlag)
	if err != nil {
		return usageError(env, "report: --lang: %v", err)
	}
	if *rateBase <= 0 {
		return usageError(env, "report: --rate-base %v: want a positive number of residents", *rateBase)
	}
	if *format != "pdf" && *format != "xlsx" {
		return usageError(env, "report: --format %q: want pdf or xlsx", *format)
	}
	loc, err := location(*tz)
	if err != nil {
		return err
	}
	per, err := analytics.ParsePeriod(*periodFlag, loc)
	if err != nil {
		return usageError(env, "report: --period: %v", err)
	}
	out := *outFlag
	if out == "" {
		out = fmt.Sprintf("report-%s-%s-%s.%s", *unit, per.Label, lang, *format)
	}
	cat, err := i18n.Load()
	if err != nil {
		return err
	}
	log := env.logger()
	st, err := sf.open(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()
	phase := time.Now()
	took := func(what string) {
		log.Debug("report", "phase", what, "took", time.Since(phase).Round(time.Millisecond))
		phase = time.Now()
	}
	snap, err := storeSnapshot(ctx, st)
	if err != nil {
		return err
	}
	took("snapshot")
	r, err := report.Build(ctx, snap, report.Options{Period: per, Unit: *unit, Location: loc, Now: time.Now(), RateBase: *rateBase})
	if err != nil {
		return err
	}
	if err := r.AddNames(ctx, st); err != nil {
		return err
	}
	if err := r.AddLate(ctx, st); err != nil {
		return err
	}
	took("late")
	if rs, ok := st.(store.RunStore); ok {
		if err := r.AddCategories(ctx, rs, snap); err != nil {
			return err
		}
	}
	if err := r.AddMaps(ctx, st, snap); err != nil {
		return err
	}
	took("maps")
	var buf bytes.Buffer
	l := report.Locale{C: cat, Lang: lang}
	if *format == "pdf" {
		err = report.WritePDF(&buf, r, l)
	} else {
		err = report.WriteXLSX(&buf, r, l)
	}
	if err != nil {
		return err
	}
	took("write " + *format)
	if err := writeFileAtomic(out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s: %s, %s (%s, %d bytes)\n", out, r.Unit.Name, per.Label, lang, buf.Len())
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory renamed over it: no partial file is ever left at path.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
