package postgis_test

import (
	"context"
	"testing"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store/storetest"
)

// TestEventsRecordedAtUnknown: see storetest.RecordedAtUnknown.
func TestEventsRecordedAtUnknown(t *testing.T) {
	s := open(t)
	storetest.RecordedAtUnknown(t, s, func(ctx context.Context, kind analytics.Kind, sourceID string) error {
		_, err := s.Pool().Exec(ctx, `UPDATE events SET recorded_at = NULL WHERE kind = $1 AND source_id = $2`, int16(kind), sourceID)
		return err
	})
}
