package report_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/i18n"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/crimemap/crimemap/report"
	"github.com/crimemap/crimemap/store/sqlite"
	"github.com/paulmach/orb"
)

// TestDetailsFromStore: killed, injured, vehicles and articles (from the
// snapshot's report columns) equal the events' own sums, for the period
// and the same period of last year; unit names, late registrations,
// categories and maps come from the store.
func TestDetailsFromStore(t *testing.T) {
	w, err := demoWorld()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	units, _ := demo.Units()
	if _, err := st.PutUnits(ctx, units); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutEvents(ctx, w.events); err != nil {
		t.Fatal(err)
	}
	r := regionReport(t)
	if err := r.AddNames(ctx, st); err != nil {
		t.Fatal(err)
	}
	// Everything was stored now, long after 2026-Q2 ended: every event of
	// the period in the region counts as registered late.
	if err := r.AddLate(ctx, st); err != nil {
		t.Fatal(err)
	}
	var inPeriod int64
	for _, l := range r.Headline {
		inPeriod += l.Period.Count
	}
	if r.Late == nil || *r.Late != inPeriod {
		t.Errorf("late registrations %v, want all %d events of the period", r.Late, inPeriod)
	}
	sum := func(p analytics.Period) (killed, injured, accidents, offences int64) {
		for i := range w.events {
			e := &w.events[i]
			if e.OccurredAt.Before(p.From) || !e.OccurredAt.Before(p.To) || (e.Region != "1710" && e.District != "1710" && e.Mahalla != "1710") {
				continue
			}
			switch e.Kind {
			case analytics.KindAccident:
				killed += int64(e.Killed)
				injured += int64(e.Injured)
				accidents++
			case analytics.KindOffence:
				offences++
			}
		}
		return
	}
	k, i, acc, off := sum(r.Period)
	kl, il, _, _ := sum(r.LastYear)
	ky, iy, _, _ := sum(r.YTD)
	kyl, iyl, _, _ := sum(r.YTDLast)
	if d := r.Details; d.KilledYTD.Count != ky || d.KilledYTD.Base != kyl || d.InjuredYTD.Count != iy || d.InjuredYTD.Base != iyl {
		t.Errorf("from 1 January: killed %+v injured %+v; want %d/%d, %d/%d", d.KilledYTD, d.InjuredYTD, ky, kyl, iy, iyl)
	}
	d := r.Details
	if d.Killed.Count != k || d.Killed.Base != kl || d.Injured.Count != i || d.Injured.Base != il {
		t.Errorf("killed %+v injured %+v; want %d/%d, %d/%d", d.Killed, d.Injured, k, kl, i, il)
	}
	var vs, as int64
	for _, v := range d.Vehicles {
		vs += v.Period.Count
	}
	for _, a := range d.Articles {
		as += a.Period.Count
	}
	if vs != acc || as > off || acc == 0 || off == 0 {
		t.Errorf("vehicles sum %d of %d accidents, articles %d of %d offences", vs, acc, as, off)
	}
	has := map[string]bool{}
	for _, v := range d.Vehicles {
		has[v.Key] = true
	}
	if !has["vehicle.scooter"] || !has["vehicle.moped"] {
		t.Errorf("scooters and mopeds not shown: %v", has)
	}
	if len(d.CrimeArticles) == 0 || len(d.CrimeArticles) > report.TopArticles {
		t.Errorf("%d crime articles", len(d.CrimeArticles))
	}
	if r.Names["1710"]["ru"] == "" {
		t.Errorf("no Russian name for 1710: %v", r.Names["1710"])
	}
	// The period's classification run gives the mahalla categories.
	run, err := classify.Classify(ctx, classify.Input{Snapshot: w.snap, Policy: classify.DefaultPolicy(), Period: r.Period,
		Now: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), Boundaries: func(string) (orb.MultiPolygon, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if err := r.AddCategories(ctx, st, w.snap); err != nil {
		t.Fatal(err)
	}
	c := r.Mahallas
	inRegion := 0
	for _, res := range run.Results {
		if strings.HasPrefix(res.Mahalla, "1710") {
			inRegion++
		}
	}
	if c == nil || c.Red+c.Yellow+c.Green != inRegion || inRegion == 0 || len(c.Top) == 0 {
		t.Fatalf("categories %+v, want %d mahallas of the region", c, inRegion)
	}
	for i := 1; i < len(c.Top); i++ {
		if c.Top[i-1].Category == classify.Green && c.Top[i].Category == classify.Red {
			t.Errorf("top mahallas not worst first: %+v", c.Top)
		}
	}
	if err := r.AddMaps(ctx, st, w.snap); err != nil {
		t.Fatal(err)
	}
	mp := r.Maps
	coloured := 0
	for _, a := range mp.Mahallas {
		if a.Category != "" {
			coloured++
		}
	}
	if len(mp.Outline) == 0 || len(mp.Mahallas) != inRegion || coloured != inRegion || (len(mp.Hot) == 0 && mp.HotNote == "") || mp.HotRes != 7 {
		t.Errorf("maps: outline %d parts, %d mahallas (%d coloured) of %d, %d hot cells at res %d, note %q",
			len(mp.Outline), len(mp.Mahallas), coloured, inRegion, len(mp.Hot), mp.HotRes, mp.HotNote)
	}
	// With the details, every language's PDF and XLSX still use only keys
	// its catalogue has, and name the territory in that language.
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Langs() {
		writeChecked(t, cat, lang, r)
	}
}
