// Package ingest turns CSV and GeoJSON files of incidents into validated
// analytics.Event values: it maps columns to fields, parses times in the
// configured zone, validates every row, computes the H3 cell and assigns
// admin units, then hands batches to a sink (the store's PutEvents) and
// writes every rejected row with its line, field and reason to a rejects
// CSV.
//
// Decisions:
//   - A row is either accepted or rejected; accepted + rejected == rows read.
//   - Both lat and lon empty, or both exactly 0 (the usual placeholder), is
//     not a reject: the event is kept with HasLocation=false ("no location").
//   - A point outside every unit but within Options.MarginKm of the units'
//     extent is kept unassigned and counted; farther away it is rejected.
//   - Duplicate source_id (per kind) within one file: the first occurrence is
//     kept, later ones are rejected naming the line of the first. This keeps
//     the pipeline streaming (a batch already given to the sink is never
//     revised) and makes the rejects file show every conflict.
//   - occurred_at=date+time in Options.Fields joins two columns with a space
//     (files with separate date and time columns).
package ingest
