package analytics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/crimemap/crimemap/geo"
)

// Synthetic data for benchmarks (Go benchmarks and `crimemap bench`). It is
// NOT real crime data and not the demo generator (ingest/demo): it trades
// realism for speed (tens of millions of events per minute).
const (
	// SyntheticMonths is the span of the synthetic events: the 36 months
	// from SyntheticStart.
	SyntheticMonths = 36
	// SyntheticBatch is the batch size SyntheticEvents passes to fn.
	SyntheticBatch = 10000
	// syntheticPlaces is the number of distinct located places (each with
	// its res-15 cell and units), reused by every event.
	syntheticPlaces = 200_000
	// syntheticNoLocation is the share of events without a location.
	syntheticNoLocation = 0.01
)

// SyntheticZone is the zone of the synthetic period: Asia/Tashkent (UTC+5,
// no daylight saving since 1992, so a fixed zone is exact).
func SyntheticZone() *time.Location { return time.FixedZone("Asia/Tashkent", 5*3600) }

// SyntheticStart is the first instant of the synthetic events:
// 2023-01-01 00:00 in SyntheticZone.
func SyntheticStart() time.Time { return time.Date(2023, 1, 1, 0, 0, 0, 0, SyntheticZone()) }

// syntheticCategories are the category names per kind.
func syntheticCategories(k Kind) []string {
	switch k {
	case KindCrime:
		return []string{"theft", "fraud", "cybercrime", "robbery", "brigandage", "bodily_harm",
			"domestic_violence", "hooliganism", "drugs", "traffic_crime", "embezzlement", "bribery",
			"extortion", "property_damage", "illegal_weapons", "murder", "rape", "human_trafficking"}
	case KindAccident:
		return []string{"collision", "pedestrian_hit", "rollover", "hit_obstacle", "cyclist_hit",
			"two_wheeler_fall", "hit_parked", "other"}
	}
	return []string{"petty_hooliganism", "public_drinking", "traffic_violation", "speeding",
		"parking", "noise", "littering", "street_trading", "registration", "smoking_public",
		"minor_theft", "disobedience", "fare_evasion", "other_offence"}
}

// place is one synthetic location with its cell and unit codes.
type place struct {
	lon, lat                  float64
	cell                      uint64
	cells                     HexCells
	region, district, mahalla string
}

// syntheticPlaceTable draws the places: points in the bounding boxes of
// randomly chosen mahallas (districts, regions when there are none), each
// assigned to units by a geo.Index and given its res-15 cell. Units without
// any geometry get points in a box over Uzbekistan with the units drawn at
// random.
func syntheticPlaceTable(rng *rand.Rand, units []geo.Unit, n int) ([]place, error) {
	var areas []*geo.Unit
	for _, lv := range [...]geo.Level{geo.LevelMahalla, geo.LevelDistrict, geo.LevelRegion} {
		for i := range units {
			if units[i].Level == lv && len(units[i].Geometry) > 0 {
				areas = append(areas, &units[i])
			}
		}
		if len(areas) > 0 {
			break
		}
	}
	var ix *geo.Index
	if len(areas) > 0 {
		ix = geo.NewIndex(units)
	}
	parent := make(map[string]string, len(units))
	var mahallas []string
	for i := range units {
		parent[units[i].Code] = units[i].ParentCode
		if units[i].Level == geo.LevelMahalla {
			mahallas = append(mahallas, units[i].Code)
		}
	}
	places := make([]place, n)
	for i := range places {
		p := &places[i]
		if ix != nil {
			b := areas[rng.IntN(len(areas))].Geometry.Bound()
			p.lon = b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0])
			p.lat = b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])
			a := ix.Assign(p.lon, p.lat)
			p.region, p.district, p.mahalla = a.Region, a.District, a.Mahalla
		} else {
			p.lon, p.lat = 56+rng.Float64()*17, 37.2+rng.Float64()*8.3
			if len(mahallas) > 0 {
				p.mahalla = mahallas[rng.IntN(len(mahallas))]
				p.district = parent[p.mahalla]
				p.region = parent[p.district]
			}
		}
		// 6 decimals (about 0.1 m), as ingest stores them.
		p.lon, p.lat = math.Round(p.lon*1e6)/1e6, math.Round(p.lat*1e6)/1e6
		var e Event
		if err := e.SetLocation(p.lat, p.lon); err != nil {
			return nil, fmt.Errorf("synthetic place: %w", err)
		}
		p.cell = e.Cell
		p.cells, _ = e.Cells()
	}
	return places, nil
}

// SyntheticEvents generates n deterministic synthetic events (the same n,
// seed and units give the same events in the same order) and passes them
// to fn in batches of SyntheticBatch; the batch is reused between calls.
// The events span SyntheticMonths months from SyntheticStart in random
// order: 20% crimes, 2% accidents, 78% offences, 1% without location,
// placed at 200,000 distinct places skewed towards a few hot ones and
// assigned to units with a geo.Index over units (which should have
// geometry; ingest/demo's Units do). SourceIDs are "syn-<seed>-<i>".
func SyntheticEvents(n int, seed uint64, units []geo.Unit, fn func(batch []Event) error) error {
	rng := rand.New(rand.NewPCG(seed, 0x5EED_C0DE))
	places, err := syntheticPlaceTable(rng, units, min(syntheticPlaces, max(n, 1)))
	if err != nil {
		return err
	}
	cats := [4][]string{nil, syntheticCategories(KindCrime), syntheticCategories(KindAccident), syntheticCategories(KindOffence)}
	start := SyntheticStart()
	span := start.AddDate(0, SyntheticMonths, 0).Unix() - start.Unix()
	prefix := "syn-" + strconv.FormatUint(seed, 10) + "-"

	batch := make([]Event, 0, SyntheticBatch)
	var ids []byte
	for i := 0; i < n; {
		batch = batch[:0]
		ids = ids[:0]
		end := min(n, i+SyntheticBatch)
		idEnd := make([]int, 0, end-i)
		for j := i; j < end; j++ {
			ids = append(ids, prefix...)
			ids = strconv.AppendInt(ids, int64(j), 10)
			idEnd = append(idEnd, len(ids))
		}
		idStr := string(ids)
		for j, prev := i, 0; j < end; j++ {
			e := Event{SourceID: idStr[prev:idEnd[j-i]]}
			prev = idEnd[j-i]
			switch x := rng.Uint32() % 100; {
			case x < 20:
				e.Kind = KindCrime
			case x < 22:
				e.Kind = KindAccident
			default:
				e.Kind = KindOffence
			}
			cs := cats[e.Kind]
			// Skewed: the first categories are the common ones.
			u := rng.Float64()
			e.Category = cs[int(u*u*float64(len(cs)))]
			e.OccurredAt = time.Unix(start.Unix()+rng.Int64N(span), 0).UTC()
			switch e.Kind {
			case KindCrime:
				e.Article = "169"
				e.Severity = Severity(1 + rng.IntN(4))
				e.Flags = Flags(rng.Uint32() & rng.Uint32() & uint32(allFlags))
			case KindAccident:
				e.Vehicle = "car"
				e.Injured = int32(rng.IntN(3))
			case KindOffence:
				e.Article = "183"
				e.Fine = 340000
			}
			if rng.Float64() >= syntheticNoLocation {
				v := rng.Float64()
				p := &places[int(v*v*v*float64(len(places)))]
				e.HasLocation = true
				e.Lon, e.Lat, e.Cell = p.lon, p.lat, p.cell
				e.SetCells(p.cells)
				e.Region, e.District, e.Mahalla = p.region, p.district, p.mahalla
			}
			batch = append(batch, e)
		}
		if err := fn(batch); err != nil {
			return err
		}
		i = end
	}
	return nil
}

// SyntheticSnapshot builds a snapshot (version 1, data version 0) of the
// events SyntheticEvents(n, seed, units, ...) generates.
func SyntheticSnapshot(n int, seed uint64, units []geo.Unit) (*Snapshot, error) {
	b := newBuilder(units, n)
	err := SyntheticEvents(n, seed, units, func(batch []Event) error {
		for i := range batch {
			if err := b.add(&batch[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("synthetic snapshot: %w", err)
	}
	return b.finish(1, 0), nil
}
