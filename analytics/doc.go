// Package analytics holds the event vocabulary shared by ingest and the
// stores, and (later) the immutable in-memory Arrow snapshot, periods,
// period queries, hexbins and comparisons. It imports only geo.
package analytics
