package check

import (
	"fmt"

	"github.com/crimemap/crimemap/store"
)

// Population validates figures for PutPopulation and drops exact
// duplicates (same code, year and value), returning how many it dropped; the
// same (code, year) with two values is ErrInvalid.
func Population(rows []store.Population) ([]store.Population, int, error) {
	type key struct {
		code string
		year int
	}
	out := make([]store.Population, 0, len(rows))
	seen := make(map[key]int, len(rows))
	for i, r := range rows {
		switch {
		case r.UnitCode == "":
			return nil, 0, fmt.Errorf("population row %d: empty unit code: %w", i, store.ErrInvalid)
		case r.Year < store.MinPopulationYear || r.Year > store.MaxPopulationYear:
			return nil, 0, fmt.Errorf("population of %q: year %d outside %d..%d: %w",
				r.UnitCode, r.Year, store.MinPopulationYear, store.MaxPopulationYear, store.ErrInvalid)
		case r.Population <= 0:
			return nil, 0, fmt.Errorf("population of %q in %d: %d is not positive: %w", r.UnitCode, r.Year, r.Population, store.ErrInvalid)
		}
		k := key{r.UnitCode, r.Year}
		if j, ok := seen[k]; ok {
			if out[j].Population != r.Population {
				return nil, 0, fmt.Errorf("population of %q in %d given twice (%d and %d): %w",
					r.UnitCode, r.Year, out[j].Population, r.Population, store.ErrInvalid)
			}
			continue
		}
		seen[k] = len(out)
		out = append(out, r)
	}
	return out, len(rows) - len(out), nil
}

// Codes returns the distinct unit codes of rows, in first-seen order.
func Codes(rows []store.Population) []string {
	seen := make(map[string]bool, len(rows))
	var out []string
	for _, r := range rows {
		if !seen[r.UnitCode] {
			seen[r.UnitCode] = true
			out = append(out, r.UnitCode)
		}
	}
	return out
}
