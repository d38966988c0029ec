package sqlite

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/crimemap/crimemap/analytics"
)

// backfillBatch is the number of events a backfill transaction updates.
const backfillBatch = 50_000

// missingCells selects (through the partial index events_h3_missing) the
// located events stored without cells, from id $1 on, $2 at most.
const missingCells = `SELECT id, lon, lat FROM events
WHERE h3_r10 IS NULL AND lon IS NOT NULL AND lat IS NOT NULL AND id > ? ORDER BY id LIMIT ?`

// backfillCells computes the cells (h3_r10, h3_exc) of the located events
// stored without them (rows written before migration 00006, or by hand),
// batch events per transaction in id order, so an interrupted run keeps
// what it committed and the next Open goes on. A point H3 rejects is
// logged and left without cells (snapshot builds compute them). It does not
// bump the data version: a snapshot built before counted those events in
// the same cells, computing them itself.
func (s *Store) backfillCells(ctx context.Context, batch int) (int64, error) {
	var missing bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM events
WHERE h3_r10 IS NULL AND lon IS NOT NULL AND lat IS NOT NULL)`).Scan(&missing); err != nil {
		return 0, translate(ctx, err)
	}
	if !missing {
		return 0, nil
	}
	s.log.Info("sqlite: computing the H3 cells (res 5-10) of stored events", "batch", batch)
	start := time.Now()
	var changed int64
	last := int64(math.MinInt64)
	for {
		n, lastID, upd, err := s.backfillOne(ctx, last, batch)
		changed += upd
		if err != nil {
			if changed > 0 {
				s.log.Warn("sqlite: H3 cell backfill interrupted; the next open goes on", "updated", changed, "err", err)
			}
			return changed, err
		}
		last = lastID
		if n > 0 {
			s.log.Info("sqlite: H3 cells computed", "updated", changed, "took", time.Since(start).Round(time.Millisecond))
		}
		if n < batch {
			break
		}
	}
	s.log.Info("sqlite: H3 cells of stored events computed", "updated", changed, "took", time.Since(start).Round(time.Millisecond))
	return changed, nil
}

// backfillOne fills the cells of up to batch events with ids above last in
// one transaction; it returns how many it selected, the last selected id
// and how many it updated.
func (s *Store) backfillOne(ctx context.Context, last int64, batch int) (int, int64, int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, last, 0, translate(ctx, err)
	}
	defer s.rollback(tx)
	rows, err := tx.QueryContext(ctx, missingCells, last, batch)
	if err != nil {
		return 0, last, 0, translate(ctx, err)
	}
	type point struct {
		id       int64
		lon, lat float64
	}
	var pts []point
	for rows.Next() {
		var p point
		if err := rows.Scan(&p.id, &p.lon, &p.lat); err != nil {
			rows.Close()
			return 0, last, 0, translate(ctx, err)
		}
		pts = append(pts, p)
	}
	if err := rows.Close(); err != nil {
		return 0, last, 0, translate(ctx, err)
	}
	if len(pts) == 0 {
		return 0, last, 0, nil
	}
	upd, err := tx.PrepareContext(ctx, `UPDATE events SET h3_r10 = ?, h3_exc = ? WHERE id = ? AND h3_r10 IS NULL`)
	if err != nil {
		return 0, last, 0, translate(ctx, err)
	}
	defer upd.Close()
	var changed int64
	for _, p := range pts {
		cells, err := analytics.HexCellsOf(p.lat, p.lon)
		if err != nil {
			s.log.Warn("sqlite: stored event left without H3 cells", "id", p.id, "err", err)
			continue
		}
		var exc any
		if b := cells.AppendExceptions(nil); len(b) > 0 {
			exc = b
		}
		r, err := upd.ExecContext(ctx, int64(cells.At(analytics.MaxHexbinRes)), exc, p.id)
		if err != nil {
			return 0, last, 0, translate(ctx, fmt.Errorf("event id %d: %w", p.id, err))
		}
		n, _ := r.RowsAffected()
		changed += n
	}
	if err := tx.Commit(); err != nil {
		return 0, last, 0, translate(ctx, err)
	}
	return len(pts), pts[len(pts)-1].id, changed, nil
}
