package analytics

import (
	"time"

	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb"
)

// Period is a half-open interval of time [From, To) cut in a region's time
// zone (From and To are instants). Label is its canonical name: "2025",
// "2025-H1", "2025-Q3", "2025-07", "2025-W28", or "2025-07-01..2025-09-30"
// for a custom range of dates (To's date is the last day included).
type Period struct {
	Label string
	Kind  PeriodKind
	From  time.Time
	To    time.Time
}

// PeriodKind is the granularity of a Period.
type PeriodKind string

// The period kinds.
const (
	PeriodYear    PeriodKind = "year"
	PeriodHalf    PeriodKind = "half"
	PeriodQuarter PeriodKind = "quarter"
	PeriodMonth   PeriodKind = "month"
	PeriodWeek    PeriodKind = "week" // ISO 8601 week, Monday first
	PeriodRange   PeriodKind = "range"
)

// Interval is the step of a time series.
type Interval string

// The series intervals.
const (
	IntervalDay     Interval = "day"
	IntervalWeek    Interval = "week" // ISO weeks, starting Monday
	IntervalMonth   Interval = "month"
	IntervalQuarter Interval = "quarter"
)

// Dimension is what counts are grouped by besides the unit.
type Dimension string

// The grouping dimensions; DimNone gives one row per unit.
const (
	DimNone     Dimension = ""
	DimKind     Dimension = "kind"
	DimCategory Dimension = "category"
	DimSeverity Dimension = "severity"
	DimFlag     Dimension = "flag" // one row per flag set (an event counts once per flag)
)

// Filter selects events; zero fields match everything.
type Filter struct {
	Kinds      []Kind
	Categories []string
	Severities []Severity
	// Flags: events with every one of these flags set.
	Flags Flags
	// Unit: events inside the unit of this code (at any level).
	Unit string
	// BBox: events located inside the box (lon/lat).
	BBox *orb.Bound
}

// StatsQuery asks for counts in a period grouped by unit (and optionally a
// dimension), with CompStat comparisons.
type StatsQuery struct {
	Period Period
	// Level of the rows: region, district or mahalla. Rows cover every unit
	// of that level inside Filter.Unit (or everywhere), including units with
	// zero events.
	Level  geo.Level
	Filter Filter
	Group  Dimension
	// Compare with the previous period and/or the same period last year.
	ComparePrevious, CompareLastYear bool
}

// MinBaseForPercent: percent change is reported only when the base count
// is at least this (a change from 2 to 4 is not "+100%").
const MinBaseForPercent = 10

// SignificantZ: |z| at or above this flags a change as significant.
const SignificantZ = 2.0

// Comparison of a count with a base count (previous period or last year).
type Comparison struct {
	Period  Period
	Base    int64
	Diff    int64    // current - base
	Percent *float64 // 100*(current-base)/base; nil when base < MinBaseForPercent
	// Z = 2(sqrt(current) - sqrt(base)), the variance-stabilised difference
	// of two Poisson counts; Significant when |Z| >= SignificantZ.
	Z           float64
	Significant bool
	// BaseBounds holds the true base (zero for exact answers). Withheld:
	// Diff, Percent, Z and Significant are not published (a protected
	// count or base is withheld).
	BaseBounds Bounds
	Withheld   bool
	// BoundaryChanged is the time from which the unit's boundary changed
	// between the base period's start and the current period's end (the
	// latest such change; zero when none): the two counts are of
	// different areas. See UnitInfo.MarkBoundaryChange.
	BoundaryChanged time.Time
}

// Bounds is the interval [Lo, Hi] that holds a true count. Exact answers
// leave it zero (see Of): their interval is the count itself. The public
// answers of analytics/disclose publish a protected count, or withhold it,
// with bounds that always hold the true count.
type Bounds struct {
	Lo, Hi int64
	// Withheld: the count is not published, only the interval.
	Withheld bool
}

// Of returns b, or the exact interval [n, n] when b is the zero Bounds
// (an exact answer).
func (b Bounds) Of(n int64) Bounds {
	if b == (Bounds{}) {
		return Bounds{Lo: n, Hi: n}
	}
	return b
}

// StatsRow is one unit (and group) of a StatsResult.
type StatsRow struct {
	Unit  string // unit code
	Name  string // unit name (uz)
	Group string // group value ("" with DimNone)
	Count int64
	// Bounds of Count (zero for exact answers; see Bounds.Of).
	Bounds Bounds
	// Population of the unit (0 when unknown) and the rate per 1,000
	// residents (nil when unknown).
	Population int64
	// PopulationYear is the year of Population (UnitInfo.PopulationAt: the
	// period's start year or the nearest with a figure; 0 when unknown).
	PopulationYear int
	Rate           *float64
	Previous       *Comparison
	LastYear       *Comparison
}

// StatsResult answers a StatsQuery.
type StatsResult struct {
	Snapshot uint64 // version of the snapshot that answered
	Period   Period
	Level    geo.Level
	Rows     []StatsRow
	// Totals over the whole filter (not only the rows): events in the
	// period, of them without location and with a location outside every
	// unit of the level. They are never dropped from Total.
	Total, NoLocation, Unassigned int64
	// Bounds of the totals (zero for exact answers).
	TotalBounds, NoLocationBounds, UnassignedBounds Bounds
}

// SeriesQuery asks for counts per interval over [From, To).
type SeriesQuery struct {
	Interval Interval
	From, To time.Time
	Filter   Filter
}

// SeriesPoint is one interval of a series.
type SeriesPoint struct {
	Start time.Time // start of the interval (an instant; midnight in the zone)
	Count int64
	// Bounds of Count (zero for exact answers).
	Bounds Bounds
}

// SeriesResult answers a SeriesQuery (every interval, zeros included).
type SeriesResult struct {
	Snapshot uint64
	Interval Interval
	Points   []SeriesPoint
}

// HexbinQuery asks for counts per H3 cell at Res (5..10) in a period.
type HexbinQuery struct {
	Res    int
	Period Period
	Filter Filter // Unit or BBox restrict the area
}

// Hexbin is one H3 cell with its count.
type Hexbin struct {
	Cell  uint64
	Count int64
	// Bounds of Count (zero for exact answers).
	Bounds Bounds
}

// HexbinResult answers a HexbinQuery; cells with zero events are omitted.
// NoLocation counts matching events without a location (not in any cell).
type HexbinResult struct {
	Snapshot   uint64
	Res        int
	Bins       []Hexbin
	NoLocation int64
}
