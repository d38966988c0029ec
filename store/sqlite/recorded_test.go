package sqlite_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store/storetest"
)

// TestEventsRecordedAtUnknown: see storetest.RecordedAtUnknown.
func TestEventsRecordedAtUnknown(t *testing.T) {
	s := open(t)
	storetest.RecordedAtUnknown(t, s, func(ctx context.Context, kind analytics.Kind, sourceID string) error {
		db, err := sql.Open("sqlite", s.Path())
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, `UPDATE events SET recorded_at = NULL WHERE kind = ? AND source_id = ?`, int64(kind), sourceID)
		return err
	})
}
