package analytics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
)

// inputSource is a memSource that also versions its inputs.
type inputSource struct {
	memSource
	version int64
	at      time.Time
	err     error
	reads   int
}

func (s *inputSource) InputVersion(context.Context) (int64, time.Time, error) {
	s.reads++
	return s.version, s.at, s.err
}

// TestBuildFromStoreInputVersion: a snapshot built from an InputSource
// carries its input version and clock; from a plain Source they are
// unknown (0, zero); a failing read fails the build.
func TestBuildFromStoreInputVersion(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	src := &inputSource{version: 17, at: at}
	src.set(fixtureEvents(t))
	snap, err := analytics.BuildFromStore(ctx, src, fixtureLoader, 1)
	if err != nil {
		t.Fatal(err)
	}
	if snap.InputVersion() != 17 || !snap.InputsAt().Equal(at) || src.reads != 1 {
		t.Errorf("snapshot input version %d at %v after %d reads, want 17 at %v after 1", snap.InputVersion(), snap.InputsAt(), src.reads, at)
	}

	plain := &memSource{}
	plain.set(fixtureEvents(t))
	if snap, err := analytics.BuildFromStore(ctx, plain, fixtureLoader, 1); err != nil || snap.InputVersion() != 0 || !snap.InputsAt().IsZero() {
		t.Errorf("from a source without input versions: %v; want 0 and the zero time", err)
	}

	src.err = errors.New("down")
	if _, err := analytics.BuildFromStore(ctx, src, fixtureLoader, 2); !errors.Is(err, src.err) {
		t.Errorf("BuildFromStore with a failing input version: %v, want it wrapped", err)
	}
}
