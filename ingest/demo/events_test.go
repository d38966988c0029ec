package demo

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
)

var testNow = time.Date(2026, 5, 15, 12, 0, 0, 0, time.UTC)

// shared fixtures (computed once per test binary; read-only afterwards).
var fixture = sync.OnceValues(func() ([]geo.Unit, []analytics.Event) {
	units, err := Units()
	if err != nil {
		panic(err)
	}
	var evs []analytics.Event
	err = Events(context.Background(), Config{Seed: 42, Now: testNow}, units, func(b []analytics.Event) error {
		evs = append(evs, b...)
		return nil
	})
	if err != nil {
		panic(err)
	}
	return units, evs
})

func TestEventsCountsAndRates(t *testing.T) {
	units, evs := fixture()
	var n [4]int
	for _, e := range evs {
		n[e.Kind]++
	}
	total := len(evs)
	t.Logf("events %d: crimes %d, accidents %d, offences %d", total, n[1], n[2], n[3])
	if total < 150000 || total > 300000 {
		t.Errorf("total %d, want 150k-300k", total)
	}
	var pop float64
	for _, u := range units {
		if u.Level == geo.LevelRegion {
			pop += float64(u.Population)
		}
	}
	rate := float64(n[analytics.KindCrime]) / 3 / pop * 10000
	t.Logf("crime rate %.1f per 10,000 residents per year", rate)
	if rate < 20 || rate > 40 {
		t.Errorf("crime rate %.1f, want 20-40", rate)
	}
	if r := float64(n[analytics.KindOffence]) / float64(n[analytics.KindCrime]); r < 3 || r > 5 {
		t.Errorf("offences/crimes %.2f, want 3-5", r)
	}
	if n[analytics.KindAccident] < 1000 {
		t.Errorf("only %d accidents", n[analytics.KindAccident])
	}
}

func TestEventsPeriodAndIDs(t *testing.T) {
	_, evs := fixture()
	from, to, err := Period(Config{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	wantFrom := time.Date(2023, 5, 1, 0, 0, 0, 0, tashkent())
	if !from.Equal(wantFrom) || !to.Equal(wantFrom.AddDate(3, 0, 0)) {
		t.Fatalf("period %v - %v", from, to)
	}
	ids := map[string]bool{}
	for i, e := range evs {
		if e.OccurredAt.Before(from) || !e.OccurredAt.Before(to) {
			t.Fatalf("event %s at %v outside the period", e.SourceID, e.OccurredAt)
		}
		if e.OccurredAt.Location() != time.UTC {
			t.Fatalf("event %s not in UTC", e.SourceID)
		}
		if ids[e.SourceID] {
			t.Fatalf("duplicate source id %s", e.SourceID)
		}
		ids[e.SourceID] = true
		if i > 0 && e.OccurredAt.Before(evs[i-1].OccurredAt) {
			t.Fatalf("events not in time order at %d", i)
		}
	}
	if evs[0].SourceID != "demo-c-000001" && evs[0].SourceID != "demo-o-000001" && evs[0].SourceID != "demo-a-000001" {
		t.Errorf("first id %s", evs[0].SourceID)
	}
}

func TestEventsDeterministic(t *testing.T) {
	units, evs := fixture()
	cfg := Config{Seed: 42, Now: testNow, BatchSize: 777}
	i := 0
	err := Events(context.Background(), cfg, units, func(b []analytics.Event) error {
		if len(b) > 777 {
			t.Fatalf("batch of %d", len(b))
		}
		for j := range b {
			if !b[j].Equal(&evs[i]) || b[j].SourceID != evs[i].SourceID {
				t.Fatalf("event %d differs: %+v vs %+v", i, b[j], evs[i])
			}
			i++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if i != len(evs) {
		t.Fatalf("second run %d events, first %d", i, len(evs))
	}
	// Another seed gives another world.
	diff := 0
	cfg.Seed = 43
	cfg.Months = 1
	k := 0
	_ = Events(context.Background(), cfg, units, func(b []analytics.Event) error {
		for j := range b {
			if k < len(evs) && (b[j].Lon != evs[k].Lon || b[j].Category != evs[k].Category) {
				diff++
			}
			k++
		}
		return nil
	})
	if diff == 0 {
		t.Fatal("seed 43 gave the same events as seed 42")
	}
}

func TestEventsUnitsConsistentWithIndex(t *testing.T) {
	units, evs := fixture()
	ix := geo.NewIndex(units)
	parent := map[string]string{}
	for _, u := range units {
		parent[u.Code] = u.ParentCode
	}
	noLoc, outside := 0, 0
	for i, e := range evs {
		if !e.HasLocation {
			noLoc++
			if e.Cell != 0 || e.Region != "" || e.District != "" || e.Mahalla != "" {
				t.Fatalf("event without location has units: %+v", e)
			}
			continue
		}
		if i%7 == 0 { // the index is deterministic; check a sample
			if a := ix.Assign(e.Lon, e.Lat); a != (geo.Assignment{Region: e.Region, District: e.District, Mahalla: e.Mahalla}) {
				t.Fatalf("event %s: stored %s/%s/%s, index %v", e.SourceID, e.Region, e.District, e.Mahalla, a)
			}
			lat, lon := geo.CellToLatLng(e.Cell)
			if math.Abs(lat-e.Lat) > 1e-4 || math.Abs(lon-e.Lon) > 1e-4 || geo.CellResolution(e.Cell) != geo.EventResolution {
				t.Fatalf("event %s: cell %x not at its point", e.SourceID, e.Cell)
			}
		}
		if e.Region == "" {
			outside++
			continue
		}
		if parent[e.District] != e.Region || (e.Mahalla != "" && parent[e.Mahalla] != e.District) {
			t.Fatalf("event %s: inconsistent units %s/%s/%s", e.SourceID, e.Region, e.District, e.Mahalla)
		}
	}
	t.Logf("no location %d (%.2f%%), outside %d", noLoc, 100*float64(noLoc)/float64(len(evs)), outside)
	if share := float64(noLoc) / float64(len(evs)); share < 0.005 || share > 0.02 {
		t.Errorf("no-location share %.4f, want about 1%%", share)
	}
	if outside < 50 || outside > len(evs)/100 {
		t.Errorf("%d events outside the regions", outside)
	}
}

func TestEventsZeroCrimeMahallasPerQuarter(t *testing.T) {
	units, evs := fixture()
	nMahallas := 0
	for _, u := range units {
		if u.Level == geo.LevelMahalla {
			nMahallas++
		}
	}
	loc := tashkent()
	type key struct {
		q int
		m string
	}
	hit := map[key]bool{}
	quarters := map[int]bool{}
	for _, e := range evs {
		if e.Kind != analytics.KindCrime || e.Mahalla == "" {
			continue
		}
		tl := e.OccurredAt.In(loc)
		q := tl.Year()*4 + (int(tl.Month())-1)/3
		hit[key{q, e.Mahalla}] = true
		quarters[q] = true
	}
	perQ := map[int]int{}
	for k := range hit {
		perQ[k.q]++
	}
	// Only whole quarters: the period 2023-05..2026-04 holds 2023Q3..2026Q1.
	for q := 2023*4 + 2; q <= 2026*4; q++ {
		zero := 1 - float64(perQ[q])/float64(nMahallas)
		t.Logf("%dQ%d: %.1f%% of mahallas without crime", q/4, q%4+1, 100*zero)
		if zero < 0.35 || zero > 0.55 {
			t.Errorf("%dQ%d: zero-crime share %.3f, want 0.35-0.55", q/4, q%4+1, zero)
		}
	}
}

func TestEventsMixes(t *testing.T) {
	_, evs := fixture()
	cat := map[string]int{}
	var sev [5]int
	flags := map[analytics.Flags]int{}
	crimes := 0
	for _, e := range evs {
		if e.Kind != analytics.KindCrime {
			continue
		}
		crimes++
		cat[e.Category]++
		sev[e.Severity]++
		for _, f := range analytics.FlagNames {
			if e.Flags.Has(f.Flag) {
				flags[f.Flag]++
			}
		}
		if e.Article == "" || e.Severity == analytics.SeverityUnknown {
			t.Fatalf("crime %s without article or severity", e.SourceID)
		}
	}
	share := func(n int) float64 { return float64(n) / float64(crimes) }
	t.Logf("severity minor %.3f medium %.3f grave %.3f especially grave %.3f", share(sev[1]), share(sev[2]), share(sev[3]), share(sev[4]))
	within := func(name string, got, lo, hi float64) {
		if got < lo || got > hi {
			t.Errorf("%s share %.3f, want %.2f-%.2f", name, got, lo, hi)
		}
	}
	within("minor", share(sev[1]), 0.32, 0.48)
	within("medium", share(sev[2]), 0.28, 0.42)
	within("grave", share(sev[3]), 0.14, 0.26)
	within("especially grave", share(sev[4]), 0.03, 0.08)
	within("theft", share(cat["theft"]), 0.25, 0.35)
	within("fraud", share(cat["fraud"]), 0.10, 0.18)
	within("murder", share(cat["murder"]), 0.001, 0.01)
	for _, c := range []string{"robbery", "bodily_harm", "hooliganism", "drugs", "domestic_violence", "traffic_crime", "cybercrime"} {
		if cat[c] == 0 {
			t.Errorf("no %s", c)
		}
	}
	for _, f := range analytics.FlagNames {
		t.Logf("flag %s %.3f", f.Name, share(flags[f.Flag]))
	}
	within("juvenile", share(flags[analytics.FlagJuvenile]), 0.03, 0.08)
	within("recidivist", share(flags[analytics.FlagRecidivist]), 0.11, 0.20)
	within("solved", share(flags[analytics.FlagSolved]), 0.62, 0.80)
}

func TestEventsAccidentsAndOffences(t *testing.T) {
	_, evs := fixture()
	vehicles := map[string]int{}
	killed, fatal, acc := 0, 0, 0
	for _, e := range evs {
		switch e.Kind {
		case analytics.KindAccident:
			acc++
			vehicles[e.Vehicle]++
			killed += int(e.Killed)
			if e.Killed > 0 {
				fatal++
			}
			if e.Killed+e.Injured == 0 || e.Category == "" {
				t.Fatalf("accident %s without casualties or category", e.SourceID)
			}
		case analytics.KindOffence:
			bcv := e.Fine / BaseCalculationValue
			if e.Fine <= 0 || bcv != math.Round(bcv*2)/2 || e.Article == "" {
				t.Fatalf("offence %s: fine %v article %q", e.SourceID, e.Fine, e.Article)
			}
		}
	}
	t.Logf("accidents %d, fatal %d, killed %d, vehicles %v", acc, fatal, killed, vehicles)
	for _, v := range []string{"car", "truck", "bus", "motorcycle", "scooter", "moped", "bicycle"} {
		if vehicles[v] == 0 {
			t.Errorf("no accident with a %s", v)
		}
	}
	if r := float64(fatal) / float64(acc); r < 0.08 || r > 0.25 {
		t.Errorf("fatal share %.3f", r)
	}
}

func TestEventsSeasonality(t *testing.T) {
	_, evs := fixture()
	loc := tashkent()
	var byMonth [13]int
	for _, e := range evs {
		if e.Kind == analytics.KindCrime {
			byMonth[e.OccurredAt.In(loc).Month()]++
		}
	}
	summer := byMonth[6] + byMonth[7] + byMonth[8]
	winter := byMonth[12] + byMonth[1] + byMonth[2]
	t.Logf("crimes by month %v", byMonth[1:])
	if float64(summer) < 1.15*float64(winter) {
		t.Errorf("summer %d vs winter %d crimes: no seasonality", summer, winter)
	}
}

func TestEventsConcentrated(t *testing.T) {
	_, evs := fixture()
	per := map[string]int{}
	total := 0
	for _, e := range evs {
		if e.Kind == analytics.KindCrime && e.Mahalla != "" {
			per[e.Mahalla]++
			total++
		}
	}
	counts := make([]int, 0, len(per))
	for _, n := range per {
		counts = append(counts, n)
	}
	// The top 10% of mahallas hold a large share of the crimes.
	top := 0
	for range len(counts) / 10 {
		mi := 0
		for i, n := range counts {
			if n > counts[mi] {
				mi = i
			}
		}
		top += counts[mi]
		counts[mi] = -1
	}
	t.Logf("top 10%% of mahallas with crime hold %.1f%% of mahalla crimes", 100*float64(top)/float64(total))
	if float64(top) < 0.35*float64(total) {
		t.Errorf("crime not concentrated: top decile %d of %d", top, total)
	}
}

func TestEventsConfigErrors(t *testing.T) {
	if err := Events(context.Background(), Config{}, nil, nil); err == nil {
		t.Fatal("zero Now accepted")
	}
	if err := Events(context.Background(), Config{Now: testNow}, nil, nil); err == nil {
		t.Fatal("no units accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	units, _ := fixture()
	if err := Events(ctx, Config{Now: testNow}, units, func([]analytics.Event) error { return nil }); err == nil {
		t.Fatal("cancelled context ignored")
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		if _, _, err := Generate(context.Background(), Config{Seed: 1, Now: testNow}); err != nil {
			b.Fatal(err)
		}
	}
}
