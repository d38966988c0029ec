package postgis

import "context"

// BackfillCells runs Open's H3 cell backfill with batch events per
// transaction.
func (s *Store) BackfillCells(ctx context.Context, batch int) (int64, error) {
	return s.backfillCells(ctx, batch)
}
