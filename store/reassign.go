package store

import (
	"context"
	"fmt"
	"time"

	"github.com/crimemap/crimemap/geo"
)

// BoundaryStore keeps versions of unit boundaries and keeps the unit codes
// of stored events following them. It is separate from Store to keep
// Store small: both backends implement it; callers get it with a type
// assertion (st.(store.BoundaryStore)).
//
// Boundaries have versions: a unit's boundary may be replaced from a date
// on (Tashkent redrew its mahallas in November 2024) while events before
// that date keep being assigned by the boundary valid then. A unit with one
// version (every unit stored only with PutUnits) has one boundary at every
// time, as before versions existed.
//
// Every change of the boundaries or of the unit tree (PutUnits or
// PutBoundaryVersion that changes a geometry, a parent or a level) raises
// the store's boundary version. Reassign brings every located event's unit
// codes to what the current boundaries say (by the boundary valid at its
// occurred_at), resumably: see Reassign.
type BoundaryStore interface {
	// PutBoundaryVersion upserts units like PutUnits, except that each
	// unit's Geometry becomes its boundary from validFrom on: the boundary
	// the unit had at validFrom stays its boundary until then (before it,
	// a unit new to the store has none), and later versions stay. Putting
	// the same version again changes nothing. A zero validFrom is PutUnits.
	// One transaction; ErrInvalid as PutUnits.
	PutBoundaryVersion(ctx context.Context, units []geo.Unit, validFrom time.Time) (Result, error)
	// BoundaryVersions lists every version of the boundaries of the units
	// that have more than one, ordered by code then ValidFrom (the first
	// with a zero ValidFrom unless the unit had no boundary before its
	// first version); the last version of a unit is its current Geometry.
	BoundaryVersions(ctx context.Context) ([]geo.BoundaryVersion, error)
	// BoundaryVersion returns the boundary version: a number that
	// increases with every committed change of the boundaries or of the
	// unit tree.
	BoundaryVersion(ctx context.Context) (int64, error)
	// Reassign sets the unit codes of every located event to those the
	// current boundaries give it (geo.Index.AssignAt at its occurred_at,
	// the same index a fresh ingest uses), in batches of
	// opts.BatchSize events in id order, each batch one transaction that
	// also records, per event, the boundary version that assigned it. An
	// event already assigned by the current version is skipped, so a run
	// interrupted (cancelled, killed) keeps the batches it committed and
	// the next run does only the rest; a run on a consistent store moves
	// nothing. A batch that moves events bumps the data version (so
	// snapshots rebuild). When the boundaries change during the run it
	// starts over with the new ones. With no boundary stored at all it
	// changes nothing (NoBoundaries). Events without location keep their
	// codes.
	Reassign(ctx context.Context, opts ReassignOptions) (ReassignResult, error)
}

// DefaultReassignBatch is the default number of events per reassignment
// transaction.
const DefaultReassignBatch = 50_000

// ReassignOptions configures BoundaryStore.Reassign.
type ReassignOptions struct {
	// BatchSize is the number of events per transaction (default
	// DefaultReassignBatch).
	BatchSize int
	// Progress, when set, is called after every committed batch with the
	// totals so far.
	Progress func(ReassignResult)
}

// Batch returns BatchSize or its default.
func (o ReassignOptions) Batch() int {
	if o.BatchSize <= 0 {
		return DefaultReassignBatch
	}
	return o.BatchSize
}

// ReassignResult counts what Reassign did.
type ReassignResult struct {
	// BoundaryVersion is the version the events were assigned by.
	BoundaryVersion int64
	// Checked is how many located events this run assigned (skipping those
	// already assigned by BoundaryVersion); Moved how many of them changed
	// a unit code; Batches how many transactions committed.
	Checked, Moved, Batches int
	// Unassigned is how many located events of the whole store lie in no
	// unit after the run (kept and counted, as by ingest).
	Unassigned int
	// NoBoundaries: the store holds no unit boundary, so nothing was
	// assigned (events keep the codes they came with).
	NoBoundaries bool
	// Restarts counts the times the boundaries changed during the run and
	// it started over with the new ones.
	Restarts int
}

// MaxReassignRestarts bounds how often Reassign starts over because the
// boundaries changed under it; it then fails with ErrConflict.
const MaxReassignRestarts = 3

// LoadIndex builds the point-to-unit index of the store's boundaries: the
// one ingest assigns new events with and Reassign re-assigns stored ones
// with, versioned (geo.NewVersionedIndex) when s is a BoundaryStore.
func LoadIndex(ctx context.Context, s Store) (*geo.Index, []geo.Unit, error) {
	units, err := s.Units(ctx, UnitQuery{WithGeometry: true})
	if err != nil {
		return nil, nil, fmt.Errorf("load units: %w", err)
	}
	var versions []geo.BoundaryVersion
	if bs, ok := s.(BoundaryStore); ok {
		if versions, err = bs.BoundaryVersions(ctx); err != nil {
			return nil, nil, fmt.Errorf("load boundary versions: %w", err)
		}
	}
	return geo.NewVersionedIndex(units, versions), units, nil
}

// WithBoundaryChanges fills the BoundaryChanges of units (as s.Units
// returned them) when s is a BoundaryStore: the loaders of analytics
// snapshots call it, which mark comparisons across a boundary change.
func WithBoundaryChanges(ctx context.Context, s Store, units []geo.Unit) ([]geo.Unit, error) {
	bs, ok := s.(BoundaryStore)
	if !ok {
		return units, nil
	}
	versions, err := bs.BoundaryVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("load boundary versions: %w", err)
	}
	if len(versions) == 0 {
		return units, nil
	}
	changes := geo.BoundaryChanges(versions)
	for i := range units {
		units[i].BoundaryChanges = changes[units[i].Code]
	}
	return units, nil
}
