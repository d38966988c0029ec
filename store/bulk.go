package store

import "context"

// BulkLoader is implemented by stores that load large imports faster when
// told one is coming. Maintaining secondary indexes (GiST, BRIN, time and
// unit-code B-trees) row by row costs more than the rows themselves, so
// during BulkLoad a store may drop them once and rebuild them once at the
// end, as pg_restore does.
//
// Guarantees are unchanged: every PutEvents inside fn is still atomic and
// idempotent (the unique (kind, source_id) key is never dropped). While fn
// runs, reads stay correct but may be slower. If the process dies inside
// fn, the committed batches are kept and the missing indexes are rebuilt
// the next time the store is opened.
type BulkLoader interface {
	// BulkLoad prepares for about expected new events, calls fn, and then
	// restores every index, also when fn fails (the rebuild error is joined
	// to fn's). A store may decide the load is too small relative to its
	// contents to be worth it and just call fn.
	BulkLoad(ctx context.Context, expected int, fn func(ctx context.Context) error) error
}

// WithBulkLoad runs fn inside s.BulkLoad when s implements BulkLoader, and
// plainly otherwise.
func WithBulkLoad(ctx context.Context, s Store, expected int, fn func(ctx context.Context) error) error {
	if bl, ok := s.(BulkLoader); ok {
		return bl.BulkLoad(ctx, expected, fn)
	}
	return fn(ctx)
}
