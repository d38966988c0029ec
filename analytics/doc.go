// Package analytics holds the event vocabulary shared by ingest and the
// stores, periods and comparisons, and the immutable in-memory snapshot
// the period queries run on. It imports only geo.
//
// # Snapshot
//
// A Snapshot holds every event as Arrow columns (github.com/apache/arrow-go/v18,
// the maintained successor of apache/arrow/go/v17), sorted by occurred_at so
// a period is one contiguous row range found by binary search: kind,
// category (dictionary, uint16 indexes), severity, flags, occurred_at (Unix
// seconds), the res-10 H3 cell (LatLngToCell of the stored float64
// coordinates; coarser cells are not its parents for ~6.5% of events per
// resolution, so those are kept apart: see CellsAt), lon/lat as float32
// (for bbox filters, about 1 m precision), the region, district and
// mahalla as int32 indexes into the snapshot's unit table (-1 =
// unassigned) and a record key: about 50 bytes per event.
//
// The unit table holds every unit given to Build. Unit codes that events
// carry but the unit list lacks are added as unknown units (UnitInfo.Unknown,
// named by their code, no population) rather than dropped, so counts are
// never lost; their parent is the event's coarser unit. A region or district
// missing from an event is filled in from the unit table's parents of its
// finer unit.
//
// Arrow has no group-by kernel: Stats, Series and Hexbins filter each chunk
// of rows into a selection vector (one tight pass per filter) and aggregate
// with typed loops into dense count slices; long ranges are split across two
// goroutines.
//
// Live keeps the current snapshot behind an atomic pointer and reloads it
// from a Source (store.Store satisfies it) when the store's data version
// changes; readers keep the snapshot they hold.
//
// SyntheticEvents and SyntheticSnapshot generate the deterministic
// synthetic events of the benchmarks (not real crime data).
package analytics
