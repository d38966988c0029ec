package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/crimemap/crimemap/store"
)

// PopulationFields are the fields of a population CSV, each mapped to a
// column with PopulationOptions.Fields (default: the column of that name,
// case-insensitive; code also finds a "soato" or "unit_code" column).
//
// Two layouts are read:
//   - long: one figure per row, columns code, year, population (year may be
//     left out when PopulationOptions.Year gives it);
//   - wide: one unit per row, a code column and one column per year named
//     YYYY or yYYYY (e.g. y2018 ... y2026, as the official indicator
//     2.01.02.0001 is published), used when there is no population column.
//     Empty year cells are skipped (no figure), not rejected.
var PopulationFields = [...]string{"code", "year", "population"}

// PopulationOptions configure ImportPopulation.
type PopulationOptions struct {
	// Fields maps a field of PopulationFields to a column name.
	Fields map[string]string
	// Scale multiplies every value (1 when 0): 1000 for a file in
	// thousands, such as the official population (32656.7 = 32,656,700
	// residents). A scaled value must be a whole number of residents.
	Scale float64
	// Year is the year of every figure of a long file without a year column.
	Year int
	// Known reports whether a unit code is stored (nil: every code is);
	// figures of other codes are rejected.
	Known func(code string) bool
	// Rejects receives the rejected figures as CSV (line, field, reason,
	// raw); nil discards them.
	Rejects io.Writer
}

// PopulationSink stores one atomic batch of figures.
type PopulationSink func(ctx context.Context, rows []store.Population) (store.Result, error)

// Reject classes of a population import (PopulationSummary.RejectedBy).
const (
	PopRejectUnknownUnit = "unknown_unit" // the code names no stored unit
	PopRejectCode        = "bad_code"     // empty code
	PopRejectYear        = "bad_year"     // not a year in store.MinPopulationYear..MaxPopulationYear
	PopRejectValue       = "bad_value"    // not a positive whole number of residents after Scale
	PopRejectDuplicate   = "duplicate"    // the same unit and year twice with different values
	PopRejectRow         = "bad_row"      // an unreadable CSV row
)

// PopulationSummary counts what ImportPopulation did.
type PopulationSummary struct {
	Rows     int // data rows read
	Figures  int // figures found in rows with a usable code (a wide row holds one per non-empty year cell)
	Accepted int // figures stored (duplicates with the same value count once more)
	Rejected int // figures (or unreadable rows) written to the rejects
	// RejectedBy counts the rejects by class (PopReject*).
	RejectedBy map[string]int
	Units      int   // distinct units with an accepted figure
	Years      []int // distinct years accepted, ascending
	Store      store.Result
}

// ErrAllRejected is returned when a file holds figures but none is valid.
var ErrAllRejected = errors.New("every population figure was rejected")

// ErrLooksScaled is returned, storing nothing, when most values of a file
// read without a scale have decimals: it is in thousands (or millions).
var ErrLooksScaled = errors.New("the values look like thousands: give --scale 1000 (PopulationOptions.Scale)")

// errFraction: a value that is not a whole number of residents.
var errFraction = errors.New("is not a whole number of residents (a file in thousands needs --scale 1000)")

// ErrNoFigures is returned for a file without any figure.
var ErrNoFigures = errors.New("no population figures in the file")

type popLayout struct {
	code, year, pop int          // column indexes, -1 absent
	wide            []popYearCol // wide layout: one column per year
	header          []string
}

type popYearCol struct {
	col, year int
}

// parsePopulationHeader resolves the columns of header.
func parsePopulationHeader(header []string, fields map[string]string, fixedYear int) (*popLayout, error) {
	for k := range fields {
		if !slices.Contains(PopulationFields[:], k) {
			return nil, fmt.Errorf("--field %s: unknown field (want one of %s): %w", k, strings.Join(PopulationFields[:], ", "), ErrUnknownField)
		}
	}
	find := func(name string) int {
		for i, h := range header {
			if strings.TrimSpace(h) == name {
				return i
			}
		}
		for i, h := range header {
			if strings.EqualFold(strings.TrimSpace(h), name) {
				return i
			}
		}
		return -1
	}
	col := func(field string, aliases ...string) (int, error) {
		if c, ok := fields[field]; ok {
			if i := find(c); i >= 0 {
				return i, nil
			}
			return -1, fmt.Errorf("field %s=%s: no column %q in the header [%s]: %w", field, c, c, strings.Join(header, ", "), ErrMissingColumn)
		}
		for _, a := range append([]string{field}, aliases...) {
			if i := find(a); i >= 0 {
				return i, nil
			}
		}
		return -1, nil
	}
	l := &popLayout{header: header}
	var err error
	if l.code, err = col("code", "soato", "unit_code"); err != nil {
		return nil, err
	}
	if l.year, err = col("year"); err != nil {
		return nil, err
	}
	if l.pop, err = col("population"); err != nil {
		return nil, err
	}
	if l.code < 0 {
		return nil, fmt.Errorf("no code column in the header [%s] (map one with --field code=COLUMN): %w", strings.Join(header, ", "), ErrMissingColumn)
	}
	if l.pop >= 0 {
		if l.year < 0 && fixedYear == 0 {
			return nil, fmt.Errorf("no year column in the header [%s] (map one with --field year=COLUMN, or give the year of every row with --year): %w",
				strings.Join(header, ", "), ErrMissingColumn)
		}
		return l, nil
	}
	for i, h := range header {
		h = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(h), "y"), "Y")
		if len(h) != 4 {
			continue
		}
		y, err := strconv.Atoi(h)
		if err != nil || y < store.MinPopulationYear || y > store.MaxPopulationYear || i == l.code {
			continue
		}
		l.wide = append(l.wide, popYearCol{col: i, year: y})
	}
	if len(l.wide) == 0 {
		return nil, fmt.Errorf("no population column and no year columns (YYYY or yYYYY) in the header [%s] (map one with --field population=COLUMN): %w",
			strings.Join(header, ", "), ErrMissingColumn)
	}
	return l, nil
}

// parsePopulationValue reads a count of residents: digits with an optional
// decimal point (a comma is read as one when there is no point), spaces
// and underscores ignored, times scale; it must come out a positive whole
// number.
func parsePopulationValue(s string, scale float64) (int64, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\u202f', '_':
			return -1
		}
		return r
	}, s)
	if !strings.Contains(s, ".") && strings.Count(s, ",") == 1 {
		s = strings.Replace(s, ",", ".", 1)
	}
	if s == "" {
		return 0, errors.New("empty")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	v *= scale
	r := math.Round(v)
	switch {
	case r == 0:
		return 0, errors.New("0 residents (no figure that year: the unit may not have existed yet)")
	case r < 0:
		return 0, fmt.Errorf("%s is not a positive number of residents", strconv.FormatFloat(v, 'f', -1, 64))
	case r > 1e12:
		return 0, fmt.Errorf("%s residents is implausibly many", strconv.FormatFloat(v, 'f', -1, 64))
	case math.Abs(v-r) > 1e-6*math.Max(1, r):
		return 0, fmt.Errorf("%s %w", strconv.FormatFloat(v, 'f', -1, 64), errFraction)
	}
	return int64(r), nil
}

func parsePopulationYear(s string) (int, error) {
	y, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || y < store.MinPopulationYear || y > store.MaxPopulationYear {
		return 0, fmt.Errorf("%q is not a year in %d..%d", s, store.MinPopulationYear, store.MaxPopulationYear)
	}
	return y, nil
}

// ImportPopulation reads a population CSV (see PopulationFields), rejects
// the figures it cannot use (with line and reason, to opts.Rejects) and
// stores the rest with one call of sink: one transaction for the whole
// file, so a failed import stores nothing and re-running it is idempotent.
// A file whose figures are all rejected fails with ErrAllRejected, one
// without figures with ErrNoFigures; both after writing the rejects.
func ImportPopulation(ctx context.Context, src io.Reader, opts PopulationOptions, sink PopulationSink) (PopulationSummary, error) {
	sum := PopulationSummary{RejectedBy: map[string]int{}}
	scale := opts.Scale
	if scale == 0 {
		scale = 1
	}
	if scale < 0 || math.IsNaN(scale) || math.IsInf(scale, 0) {
		return sum, fmt.Errorf("scale %v: want a positive number: %w", opts.Scale, ErrBadInput)
	}
	if opts.Year != 0 {
		if _, err := parsePopulationYear(strconv.Itoa(opts.Year)); err != nil {
			return sum, fmt.Errorf("year: %w: %w", err, ErrBadInput)
		}
	}
	br := bufio.NewReaderSize(src, 1<<16)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(3)
	}
	first, err := br.Peek(br.Size())
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return sum, fmt.Errorf("reading header: %w", err)
	}
	sep := detectDelimiter(first)
	r := csv.NewReader(br)
	r.Comma, r.FieldsPerRecord = sep, -1
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return sum, fmt.Errorf("empty input, no header line: %w", ErrBadInput)
		}
		return sum, fmt.Errorf("reading header line: %w: %w", ErrBadInput, err)
	}
	lay, err := parsePopulationHeader(header, opts.Fields, opts.Year)
	if err != nil {
		return sum, err
	}

	var rw *RejectWriter
	if opts.Rejects != nil {
		rw = NewRejectWriter(opts.Rejects)
	}
	reject := func(rej Reject, class string) error {
		sum.Rejected++
		sum.RejectedBy[class]++
		if rw == nil {
			return nil
		}
		if err := rw.Write(rej); err != nil {
			return fmt.Errorf("write rejects: %w", err)
		}
		return nil
	}
	type key struct {
		code string
		year int
	}
	type seenAt struct {
		line int
		pop  int64
	}
	seen := map[key]seenAt{}
	fractions := 0 // values rejected as not whole
	var rows []store.Population
	units := map[string]bool{}
	years := map[int]bool{}

	// figure validates one (code, year, value) of a record.
	figure := func(line int, raw, code, yearField, yearText string, year int, valueField, value string) error {
		sum.Figures++
		if year == 0 {
			y, err := parsePopulationYear(yearText)
			if err != nil {
				return reject(Reject{Line: line, Field: yearField, Reason: err.Error(), Raw: raw}, PopRejectYear)
			}
			year = y
		}
		pop, err := parsePopulationValue(value, scale)
		if err != nil {
			if errors.Is(err, errFraction) {
				fractions++
			}
			return reject(Reject{Line: line, Field: valueField, Reason: fmt.Sprintf("population of %s in %d: %v", code, year, err), Raw: raw}, PopRejectValue)
		}
		k := key{code, year}
		if prev, ok := seen[k]; ok {
			if prev.pop != pop {
				return reject(Reject{Line: line, Field: valueField, Reason: fmt.Sprintf("population of %s in %d is %d here but %d on line %d", code, year, pop, prev.pop, prev.line), Raw: raw}, PopRejectDuplicate)
			}
		} else {
			seen[k] = seenAt{line, pop}
		}
		rows = append(rows, store.Population{UnitCode: code, Year: year, Population: pop})
		sum.Accepted++
		units[code], years[year] = true, true
		return nil
	}

	for {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			sum.Rows++
			if err := reject(Reject{Line: pe.StartLine, Reason: fmt.Sprintf("unreadable CSV row: %v", pe.Err)}, PopRejectRow); err != nil {
				return sum, err
			}
			continue
		}
		if err != nil {
			return sum, fmt.Errorf("reading CSV: %w", err)
		}
		sum.Rows++
		line, _ := r.FieldPos(0)
		get := func(i int) string {
			if i < 0 || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		raw := joinRecord(rec, sep)
		code := get(lay.code)
		// A bad code rejects the row once (not once per year cell).
		switch {
		case code == "":
			if err := reject(Reject{Line: line, Field: "code", Reason: "empty unit code", Raw: raw}, PopRejectCode); err != nil {
				return sum, err
			}
			continue
		case opts.Known != nil && !opts.Known(code):
			if err := reject(Reject{Line: line, Field: "code", Reason: fmt.Sprintf("unknown unit code %q (no stored unit has it: import its boundaries first, or map the code column with --field code=COLUMN)", code), Raw: raw}, PopRejectUnknownUnit); err != nil {
				return sum, err
			}
			continue
		}
		if lay.wide == nil {
			fixed := 0 // the year column's, else opts.Year for every row
			if lay.year < 0 {
				fixed = opts.Year
			}
			if err := figure(line, raw, code, "year", get(lay.year), fixed, "population", get(lay.pop)); err != nil {
				return sum, err
			}
			continue
		}
		for _, yc := range lay.wide {
			v := get(yc.col)
			if v == "" {
				continue
			}
			if err := figure(line, raw, code, "", "", yc.year, strings.TrimSpace(lay.header[yc.col]), v); err != nil {
				return sum, err
			}
		}
	}
	if rw != nil {
		if err := rw.Flush(); err != nil {
			return sum, fmt.Errorf("write rejects: %w", err)
		}
	}
	sum.Units = len(units)
	for y := range years {
		sum.Years = append(sum.Years, y)
	}
	slices.Sort(sum.Years)
	switch {
	case sum.Figures == 0 && sum.Rejected == 0:
		return sum, ErrNoFigures
	case sum.Accepted == 0:
		return sum, ErrAllRejected
	case scale == 1 && 2*fractions > sum.Figures:
		// Most values have decimals: a file in thousands read as
		// residents; its whole values (195.0) would be stored 1000 times
		// too small, so nothing is.
		return sum, fmt.Errorf("%d of %d values are not whole numbers: %w", fractions, sum.Figures, ErrLooksScaled)
	}
	res, err := sink(ctx, rows)
	if err != nil {
		return sum, fmt.Errorf("store %d figures: %w", len(rows), err)
	}
	sum.Store = res
	return sum, nil
}
