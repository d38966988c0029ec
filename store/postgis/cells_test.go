package postgis

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/analytics"
)

// TestCellColumns checks the written columns are the read ones plus one
// cell column per hexbin resolution the service offers.
func TestCellColumns(t *testing.T) {
	if cellMinRes != analytics.MinHexbinRes || cellMaxRes != analytics.MaxHexbinRes {
		t.Errorf("stored cells at res %d..%d, the service offers %d..%d (add a migration)",
			cellMinRes, cellMaxRes, analytics.MinHexbinRes, analytics.MaxHexbinRes)
	}
	for i, c := range cellColumns {
		if want := fmt.Sprintf("h3_r%d", cellMinRes+i); c != want {
			t.Errorf("cellColumns[%d] = %q, want %q", i, c, want)
		}
	}
	want := append(slices.Clone(eventColumns[:]), cellColumns[:]...)
	if !slices.Equal(writeColumns[:], want) {
		t.Errorf("writeColumns %v, want %v", writeColumns, want)
	}
	if got, want := writeCols, strings.Join(want, ", "); got != want {
		t.Errorf("writeCols %q, want %q", got, want)
	}
	if got, want := eventCols, strings.Join(eventColumns[:], ", "); got != want {
		t.Errorf("eventCols %q, want %q", got, want)
	}
}
