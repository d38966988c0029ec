package classify

import "time"

// Category is a mahalla's criminogenic category for a review period.
type Category string

// The three categories, worst first.
const (
	Red    Category = "red"    // heavy criminogenic situation
	Yellow Category = "yellow" // needs attention
	Green  Category = "green"  // no registered crime in the period
)

// Rank orders categories: red 2, yellow 1, green 0.
func (c Category) Rank() int {
	switch c {
	case Red:
		return 2
	case Yellow:
		return 1
	}
	return 0
}

// IndicatorResult is one indicator's value for one mahalla.
type IndicatorResult struct {
	Name      string   `json:"name"`
	Value     float64  `json:"value"`
	Threshold *float64 `json:"threshold,omitempty"` // nil when the indicator has no threshold
	Fired     bool     `json:"fired"`
	Unit      string   `json:"unit,omitempty"` // e.g. "per 1,000", "count", "share", "z"
}

// Change is one indicator change of a what-if: setting Indicator from From
// to To (the nearest value that does not fire) would move the mahalla down.
type Change struct {
	Indicator string  `json:"indicator"`
	From      float64 `json:"from"`
	To        float64 `json:"to"`
}

// WhatIf is the smallest set of indicator changes that moves a mahalla
// down one category (nil for green mahallas).
type WhatIf struct {
	Target  Category `json:"target"`
	Changes []Change `json:"changes"`
}

// Result is the classification of one mahalla in one run.
type Result struct {
	Mahalla    string            `json:"mahalla"`
	Name       string            `json:"name"`
	District   string            `json:"district"`
	Population int64             `json:"population"`
	Category   Category          `json:"category"`
	Rule       string            `json:"rule"` // name of the rule that decided
	Reasons    []string          `json:"reasons"`
	Indicators []IndicatorResult `json:"indicators"`
	// PopulationYear is the year of Population: the period's start year,
	// else the nearest year with a figure (0, omitted, when unknown).
	PopulationYear int `json:"population_year,omitempty"`
	// Score orders mahallas within a district (higher is worse); Rank is
	// 1 for the worst mahalla of its district.
	Score float64 `json:"score"`
	Rank  int     `json:"rank"`
	// Previous is the category in the previous period's latest run ("" when
	// unknown); Transition is e.g. "yellow->red", "same" or "new".
	Previous   Category `json:"previous,omitempty"`
	Transition string   `json:"transition"`
	// Streak is how many consecutive periods (this one included) the
	// mahalla has been in Category; RedYears is how many consecutive years
	// it has been red (3 and 5 change who answers for it).
	Streak   int     `json:"streak"`
	RedYears int     `json:"red_years"`
	WhatIf   *WhatIf `json:"what_if,omitempty"`
	// Notes are caveats about the data behind the result (e.g. unknown
	// population, hot spots not meaningful in the district), apart from
	// the Reasons that explain the category.
	Notes []string `json:"notes,omitempty"`
}

// Run is a frozen classification of every mahalla for one period. Runs are
// never edited; a newer run of the same period supersedes an older one.
type Run struct {
	ID         int64     `json:"id"`
	Period     string    `json:"period"` // label, e.g. "2025-Q3"
	PeriodFrom time.Time `json:"period_from"`
	PeriodTo   time.Time `json:"period_to"`
	// Unit is the region or district Input.Unit restricted the results to
	// ("" for every mahalla). Set by the caller that stores the run.
	Unit            string `json:"unit,omitempty"`
	PolicyName      string `json:"policy_name"`
	PolicyVersion   string `json:"policy_version"`
	SnapshotVersion uint64 `json:"snapshot_version"`
	DataVersion     int64  `json:"data_version"`
	// InputVersion is the store's input version the snapshot was built
	// from (analytics.Snapshot.InputVersion): unlike DataVersion it does
	// not rise when a run is stored, so two runs with the same
	// InputVersion classified the same events, units and population. 0
	// when unknown (runs stored before it was recorded).
	InputVersion int64 `json:"input_version,omitempty"`
	// InputsAt is the store's clock when the snapshot read InputVersion
	// (analytics.Snapshot.InputsAt): events the store recorded after it
	// are not in the run (zero when unknown).
	InputsAt  time.Time `json:"inputs_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	// CreatedBy says who stored the run: the ID of the admin token that
	// created it through the API, "cli" for `crimemap classify` ("" for
	// runs stored before it was recorded). Set by the caller that stores
	// the run.
	CreatedBy string   `json:"created_by"`
	Results   []Result `json:"results"`
}
