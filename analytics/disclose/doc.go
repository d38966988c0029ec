// Package disclose makes every public answer of crimemap: the numbers that
// the citizen app, journalists and anyone without an analyst token see.
// Analysts' answers are exact and come from package analytics directly;
// nothing public is computed from the raw snapshot without passing through
// this package.
//
// # The public lattice
//
// Public answers exist only for a fixed lattice of cells, so that the set
// of questions the public may ask does not grow with the data:
//
//   - periods: closed months, quarters, half-years and years whose end lies
//     at least Config.Lag in the past (never the running period, weeks,
//     days, custom ranges, instants or the year to date of an open year);
//   - places: regions, districts and mahallas (by code), and H3 cells of
//     resolution MinRes..MaxRes whose centres lie inside a region (a set
//     that depends on the boundaries only, never on the data, so no cell
//     appears because an event happened in it);
//   - what: everything, one kind, or one public category group: every
//     category by itself except the sensitive ones (sexual offences,
//     domestic violence, crimes against minors, trafficking and a
//     configurable list), which form the one group SensitiveGroup;
//   - no severity or flag breakdowns (juvenile, domestic, recidivist, ...
//     describe persons), no bounding boxes, no unions of categories or
//     kinds (each union would be a new cell: averaging the differences of
//     many overlapping unions rebuilds a small cell).
//
// Requests outside the lattice fail with ErrNotPublic, whose message says
// what an analyst token unlocks or when a period will be published.
//
// # The protection: cell-key perturbation
//
// Every published count is the true count t plus a perturbation e drawn by
// the cell-key method of national statistics offices (the Australian
// Bureau of Statistics' TableBuilder, the UK 2021 census): each event has a
// pseudo-random record key (analytics.ColRecordKey mixed with the secret
// Config.Secret); a cell's key is the sum of its events' keys modulo 2^32;
// e is looked up from the cell key and t. So:
//
//   - the same events always give the same published value, whatever route,
//     format, tile or zoom asks for them, and asking again or asking the
//     same events in another way (a district with one mahalla, a quarter
//     with events in one month) gives nothing new;
//   - cells that differ by one event get independent perturbations, so
//     subtracting published numbers gives a value blurred by the sum of
//     several perturbations, not a count;
//   - an empty cell is perturbed too (its key comes from the cell's name),
//     so no exact zero is published next to a small neighbour.
//
// e lies in -MaxNoise..MaxNoise (default 5) with weights (MaxNoise+1-|e|)^2,
// so small perturbations are likely and the extremes rare (P(e = 5) is
// 1/146; the standard deviation is 1.9); the published
// value is max(0, t+e). Each published count carries the interval
// [max(0, v-MaxNoise), v+MaxNoise] (count_lo, count_hi), which holds the
// true count: it is exactly what the mechanism lets anyone infer from v.
// The interval is never narrower than MaxNoise+1 values, so no single
// public value pins a count. Combining many (bounds propagation over
// periods inside periods, categories inside kinds, mahallas inside
// districts, H3 children inside parents) pins a cell only when the
// perturbations of every cell involved sit at their extremes together;
// the attack suite in cmd/crimemap measures how often that happens on the
// demo region.
//
// Counts whose published value is below K are withheld (count null, the
// interval still given): a map shows "0-6", not a number, for small
// counts. Everything derived for the public (rates, changes, percentages,
// Poisson z, Gi* bins, classification categories) is computed from
// published values, never from exact counts.
//
// Known limits: the method bounds what one can infer exactly, not what one
// can estimate; averaging the many linear combinations of published cells
// that equal one cell narrows an estimate of it without pinning it.
// Changing Secret re-draws every perturbation: keep it fixed.
package disclose
