package report

import (
	"context"
	"errors"
	"fmt"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/hotspot"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/paulmach/orb"
)

// The maps' data: the territory's outline, its mahallas with their crime
// rates and categories, and the Gi* hot spot cells of the period.

// MapArea is one mahalla of the maps.
type MapArea struct {
	Code     string
	Geometry orb.MultiPolygon
	// Rate: crimes per RateBase residents in the period; nil without
	// population.
	Rate *float64
	// Category of the period's classification run ("" without one).
	Category string
}

// HotCell is one H3 cell of the hot spot map.
type HotCell struct {
	Cell uint64
	Bin  int8
}

// Maps are the data of the report's maps.
type Maps struct {
	Outline  orb.MultiPolygon
	Mahallas []MapArea
	// HotRes is the resolution of Hot (8 for a district or mahalla, 7 for
	// a region); Hot holds the cells with a non-zero FDR bin; HotNote says
	// why there is no analysis when it was not meaningful.
	HotRes  int
	Hot     []HotCell
	HotNote string
}

// AddMaps fills r.Maps: boundaries from units, rates from snap, categories
// from r.Mahallas (call AddCategories first to colour them), hot spots by
// Gi* over the territory (not meaningful: a note, not an error).
func (r *Report) AddMaps(ctx context.Context, units UnitSource, snap *analytics.Snapshot) error {
	us, err := units.Units(ctx, store.UnitQuery{WithGeometry: true})
	if err != nil {
		return fmt.Errorf("report maps: %w", err)
	}
	m := &Maps{}
	cat := map[string]string{}
	if r.Mahallas != nil {
		for _, x := range r.Mahallas.All {
			cat[x.Code] = string(x.Category)
		}
	}
	st, err := snap.Stats(analytics.StatsQuery{Period: r.Period, Level: geo.LevelMahalla,
		Filter: analytics.Filter{Unit: r.Unit.Code, Kinds: []analytics.Kind{analytics.KindCrime}}})
	if err != nil {
		return fmt.Errorf("report maps: %w", err)
	}
	inside := map[string]analytics.StatsRow{}
	for _, row := range st.Rows {
		inside[row.Unit] = row
	}
	for i := range us {
		u := &us[i]
		if u.Code == r.Unit.Code {
			m.Outline = u.Geometry
		}
		row, ok := inside[u.Code]
		if !ok || u.Level != geo.LevelMahalla || len(u.Geometry) == 0 {
			continue
		}
		a := MapArea{Code: u.Code, Geometry: u.Geometry, Category: cat[u.Code]}
		if row.Population > 0 {
			v := float64(row.Count) * r.RateBase / float64(row.Population)
			a.Rate = &v
		}
		m.Mahallas = append(m.Mahallas, a)
	}
	m.HotRes = 8
	if r.Unit.Level == geo.LevelRegion {
		m.HotRes = 7
	}
	if len(m.Outline) > 0 {
		hr, err := hotspot.HexHotspots(ctx, snap, hotspot.HexQuery{Res: m.HotRes, Period: r.Period,
			Filter: analytics.Filter{Unit: r.Unit.Code, Kinds: []analytics.Kind{analytics.KindCrime}}, Area: m.Outline})
		switch {
		case errors.Is(err, hotspot.ErrNotMeaningful), errors.Is(err, hotspot.ErrTooFew):
			m.HotNote = err.Error()
		case err != nil:
			return fmt.Errorf("report maps: %w", err)
		}
		for _, c := range hr.Cells {
			if c.Bin != 0 {
				m.Hot = append(m.Hot, HotCell{Cell: c.Cell, Bin: c.Bin})
			}
		}
	}
	r.Maps = m
	return nil
}
