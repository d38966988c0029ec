package store

import (
	"context"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
)

// PopulationStore keeps official population figures per unit and year (the
// population table, migration 00009), beside the single figure a boundary
// file may carry (geo.Unit.Population/PopulationYear).
type PopulationStore interface {
	// PutPopulation upserts figures by (unit code, year) in one
	// transaction: every unit code must already be stored, years are
	// 1800..2200 and populations positive, or the whole batch is refused
	// (ErrInvalid naming the first offending row). The same (code, year)
	// twice in a batch with one value counts once more as unchanged; with
	// two values it is ErrInvalid. A write that inserts or updates bumps
	// DataVersion (snapshots then rebuild with the new rates).
	PutPopulation(ctx context.Context, rows []Population) (Result, error)
	// Population lists figures ordered by unit code, then year; q.Unit
	// keeps one unit's figures.
	Population(ctx context.Context, q PopulationQuery) ([]Population, error)
}

// Population is the number of residents of a unit on 1 January of Year.
type Population struct {
	UnitCode   string
	Year       int
	Population int64
}

// PopulationQuery filters figures; zero fields match everything.
type PopulationQuery struct {
	Unit string
}

// Population year limits (PutPopulation refuses others).
const (
	MinPopulationYear = 1800
	MaxPopulationYear = 2200
)

// Doctor is what `crimemap check` asks of a store beyond Store.
type Doctor interface {
	// SchemaVersion returns the migration version the database is at and
	// the newest one this binary knows.
	SchemaVersion(ctx context.Context) (current, latest int64, err error)
	// EventCoverage counts, per kind with events, the events without a
	// location and those located outside every unit (no region, district
	// or mahalla code), ordered by kind.
	EventCoverage(ctx context.Context) ([]EventCoverage, error)
}

// EventCoverage is one kind's line of Doctor.EventCoverage.
type EventCoverage struct {
	Kind       analytics.Kind
	Total      int
	NoLocation int // lon/lat unknown
	Unassigned int // located, but in no unit at any level
}

// UnitsWithPopulation lists units as Units does and, when st is a
// PopulationStore, fills each unit's Populations from its figures (the
// loader of analytics snapshots, so rates use the period's year).
func UnitsWithPopulation(ctx context.Context, st Store, q UnitQuery) ([]geo.Unit, error) {
	units, err := st.Units(ctx, q)
	if err != nil {
		return nil, err
	}
	ps, ok := st.(PopulationStore)
	if !ok || len(units) == 0 {
		return units, nil
	}
	rows, err := ps.Population(ctx, PopulationQuery{})
	if err != nil {
		return nil, err
	}
	idx := make(map[string]int, len(units))
	for i := range units {
		idx[units[i].Code] = i
	}
	for _, r := range rows {
		if i, ok := idx[r.UnitCode]; ok {
			units[i].Populations = append(units[i].Populations, geo.YearPopulation{Year: r.Year, Population: r.Population})
		}
	}
	return units, nil
}
