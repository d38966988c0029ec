package geo

import (
	"errors"
	"fmt"
	"time"

	"github.com/paulmach/orb"
)

// Level is the tier of an administrative unit.
type Level string

// The three tiers, coarse to fine.
const (
	LevelRegion   Level = "region"
	LevelDistrict Level = "district" // districts (tuman) and cities (shahar)
	LevelMahalla  Level = "mahalla"
)

// Levels lists every level, coarse to fine.
var Levels = [...]Level{LevelRegion, LevelDistrict, LevelMahalla}

// ErrUnknownLevel is returned by ParseLevel for anything but the three levels.
var ErrUnknownLevel = errors.New("unknown level (want region, district or mahalla)")

// ParseLevel parses "region", "district" or "mahalla".
func ParseLevel(s string) (Level, error) {
	switch Level(s) {
	case LevelRegion, LevelDistrict, LevelMahalla:
		return Level(s), nil
	}
	return "", fmt.Errorf("%q: %w", s, ErrUnknownLevel)
}

// Rank orders the levels from coarse to fine: 0 region, 1 district, 2
// mahalla; -1 for any other level. Snapshots and stores index their unit
// columns by it.
func (l Level) Rank() int {
	switch l {
	case LevelRegion:
		return 0
	case LevelDistrict:
		return 1
	case LevelMahalla:
		return 2
	}
	return -1
}

// Parent returns the level above l ("" for regions).
func (l Level) Parent() Level {
	switch l {
	case LevelDistrict:
		return LevelRegion
	case LevelMahalla:
		return LevelDistrict
	}
	return ""
}

// Languages are the name languages a unit may carry (BCP 47 tags).
// uz is Uzbek in Latin script, uz-Cyrl in Cyrillic.
var Languages = [...]string{"uz", "uz-Cyrl", "ru", "kk", "ky", "en"}

// Unit is an administrative unit with its boundary in EPSG:4326.
type Unit struct {
	// Code is stable: SOATO for regions and districts (e.g. 1710, 1710401),
	// the 10-digit mahalla id for mahallas.
	Code       string
	ParentCode string // "" for regions
	Level      Level
	// Names by language tag (see Languages); any may be missing.
	Names map[string]string
	// Population is the number of residents, 0 when unknown.
	Population int64
	// PopulationYear is the year Population refers to, 0 when unknown.
	PopulationYear int
	// Populations are per-year figures (1 January) beside Population, from
	// the store's population table; see PopulationAt. Stores' Units leave
	// it nil (store.UnitsWithPopulation fills it).
	Populations []YearPopulation
	// Geometry is the boundary, lon/lat in EPSG:4326; may be nil.
	Geometry orb.MultiPolygon
	// BoundaryChanges are the times from which a new version of the
	// boundary applies, sorted; nil when the unit has one boundary at every
	// time (see BoundaryVersion). Filled by store.LoadUnits, not by the
	// stores' Units.
	BoundaryChanges []time.Time
}

// Name returns the name in lang, falling back to uz, ru, en, then the code.
func (u *Unit) Name(lang string) string {
	for _, l := range []string{lang, "uz", "ru", "en"} {
		if n := u.Names[l]; n != "" {
			return n
		}
	}
	return u.Code
}
