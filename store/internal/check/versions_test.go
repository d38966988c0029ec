package check

import (
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func sq(x float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{x, 0}, {x + 1, 0}, {x + 1, 1}, {x, 1}, {x, 0}}}}
}

func TestApplyVersion(t *testing.T) {
	d := func(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name    string
		hist    []HistoryRow
		cur     orb.MultiPolygon
		at      time.Time
		g       orb.MultiPolygon
		want    []HistoryRow
		wantCur orb.MultiPolygon
		changed bool
	}{
		{"first version of a stored unit", nil, sq(0), d(2024), sq(1), []HistoryRow{{d(2024), sq(0)}}, sq(1), true},
		{"new unit", nil, nil, d(2024), sq(1), []HistoryRow{{d(2024), nil}}, sq(1), true},
		{"same version again", []HistoryRow{{d(2024), sq(0)}}, sq(1), d(2024), sq(1), []HistoryRow{{d(2024), sq(0)}}, sq(1), false},
		{"current replaced at its start", []HistoryRow{{d(2024), sq(0)}}, sq(1), d(2024), sq(2), []HistoryRow{{d(2024), sq(0)}}, sq(2), true},
		{"later version", []HistoryRow{{d(2024), sq(0)}}, sq(1), d(2025), sq(2), []HistoryRow{{d(2024), sq(0)}, {d(2025), sq(1)}}, sq(2), true},
		{"older version splits the first", []HistoryRow{{d(2024), sq(0)}}, sq(1), d(2020), sq(5),
			[]HistoryRow{{d(2020), sq(0)}, {d(2024), sq(5)}}, sq(1), true},
		{"older version at a version's start", []HistoryRow{{d(2020), sq(0)}, {d(2024), sq(5)}}, sq(1), d(2020), sq(6),
			[]HistoryRow{{d(2020), sq(0)}, {d(2024), sq(6)}}, sq(1), true},
	}
	for _, tt := range tests {
		out, cur, changed := ApplyVersion(tt.hist, tt.cur, tt.at, tt.g)
		if !HistoryEqual(out, tt.want) || !geomEqual(cur, tt.wantCur) || changed != tt.changed {
			t.Errorf("%s: got %v, %v, %v; want %v, %v, %v", tt.name, out, cur, changed, tt.want, tt.wantCur, tt.changed)
		}
	}
	// Versions: a leading period without boundary is left out.
	var froms []time.Time
	Versions([]HistoryRow{{d(2024), nil}}, sq(1), func(from time.Time, _ orb.MultiPolygon) { froms = append(froms, from) })
	if len(froms) != 1 || !froms[0].Equal(d(2024)) {
		t.Errorf("Versions of a unit drawn in 2024: from %v", froms)
	}
}
