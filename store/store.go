// Package store defines persistence for units and events behind one
// interface. store/postgis (production) and store/sqlite (embedded, pure Go,
// the zero-setup default) implement it; store/storetest is the conformance
// suite both must pass.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb"
)

// Domain errors. Backends translate their driver errors into these (wrapped
// with %w) at the storage edge; the server maps them to HTTP status once.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid")
	ErrConflict = errors.New("conflict")
)

// Store persists admin units and events.
//
// Every write is atomic: a batch is applied whole or not at all. Writes are
// idempotent: putting the same rows again changes nothing and reports them
// as unchanged.
type Store interface {
	// Backend names the implementation ("postgis" or "sqlite").
	Backend() string
	// Ping checks the store answers (used by /readyz).
	Ping(ctx context.Context) error
	Close() error

	// PutUnits upserts units by code in one transaction.
	PutUnits(ctx context.Context, units []geo.Unit) (Result, error)
	// Units lists units, ordered by level then code.
	Units(ctx context.Context, q UnitQuery) ([]geo.Unit, error)
	// Unit returns one unit; ErrNotFound when there is none.
	Unit(ctx context.Context, code string) (geo.Unit, error)

	// PutEvents upserts events by (kind, source_id) in one transaction.
	PutEvents(ctx context.Context, events []analytics.Event) (Result, error)
	// Events returns one page of events matching q, and the total count.
	Events(ctx context.Context, q EventQuery) (EventPage, error)
	// ScanEvents calls fn for every stored event in unspecified order; the
	// *Event is reused between calls. It stops at fn's first error.
	ScanEvents(ctx context.Context, fn func(*analytics.Event) error) error
	// Counts reports how many units and events are stored.
	Counts(ctx context.Context) (Counts, error)

	// DataVersion returns a number that strictly increases with every
	// committed PutUnits or PutEvents that inserted or updated something
	// (a write that leaves everything unchanged keeps it), and when a
	// classification run is stored (RunStore.PutRun: a database trigger). It is persisted
	// in the database and bumped in the writing transaction, so every
	// process using the same database sees it: a caller that read version
	// v and then the data, and later reads v again, saw the data current
	// as of v. It is one cheap read, meant for polling (e.g. rebuilding an
	// in-memory snapshot after an import made by another process). Read it
	// before scanning: a write committing during the scan then shows as a
	// newer version on the next poll.
	DataVersion(ctx context.Context) (int64, error)
}

// Result counts what a write did.
type Result struct {
	Inserted  int // new rows
	Updated   int // existing rows whose data changed
	Unchanged int // existing rows with identical data
}

// Add accumulates r2 into r.
func (r *Result) Add(r2 Result) {
	r.Inserted += r2.Inserted
	r.Updated += r2.Updated
	r.Unchanged += r2.Unchanged
}

// UnitQuery filters units; zero fields match everything.
type UnitQuery struct {
	Level  geo.Level
	Parent string // parent code
	// WithGeometry loads boundaries (lists are cheaper without them).
	WithGeometry bool
}

// EventQuery filters events; zero fields match everything.
type EventQuery struct {
	Kind analytics.Kind
	// From is inclusive, To exclusive.
	From, To time.Time
	// BBox keeps events inside the box (events without location never match).
	BBox *orb.Bound
	// Unit keeps events in the unit of that code at any level.
	Unit string
	// Categories, when not empty, keeps the events whose category is one
	// of them (exact match, as analytics.Filter.Categories); an event
	// without a category never matches. An empty string, or more than
	// MaxCategories, is ErrInvalid.
	Categories []string
	// RecordedAfter, when set, keeps the events the store first recorded
	// after this instant (events stored before it kept recording times
	// never match): the period's late registrations.
	RecordedAfter time.Time
	// Limit caps the page (default 100, maximum 10000); Offset skips.
	Limit, Offset int
}

// EventPage is one page of events ordered by occurred_at, kind, source_id.
type EventPage struct {
	Events []analytics.Event
	// RecordedAt parallels Events: when the store first recorded each
	// event (UTC, microseconds; an update keeps it), the zero time for
	// events stored before recording times were kept (migration 00007).
	RecordedAt []time.Time
	Total      int // events matching the query, ignoring Limit/Offset
}

// Counts is what the store holds.
type Counts struct {
	Units  map[geo.Level]int
	Events map[analytics.Kind]int
}

// Page limits.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// MaxCategories bounds EventQuery.Categories (each is one bound SQL value;
// SQLite allows 32766 per statement).
const MaxCategories = 1000

// NormalizeLimit applies DefaultLimit and MaxLimit.
func (q EventQuery) NormalizeLimit() int {
	switch {
	case q.Limit <= 0:
		return DefaultLimit
	case q.Limit > MaxLimit:
		return MaxLimit
	}
	return q.Limit
}
