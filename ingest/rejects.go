package ingest

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Reject is one row that failed validation.
type Reject struct {
	// Line is the 1-based physical line where the row starts in a CSV file;
	// for GeoJSON it is the 0-based feature index (.features[i]).
	Line int
	// Field is the field that failed ("" for a row that could not be split).
	Field string
	// Class groups the reason for summaries and advice (not written to
	// the rejects CSV).
	Class RejectClass
	// Reason says what is wrong, with the offending value.
	Reason string
	// Raw is the original row re-joined with the file's delimiter (CSV) or
	// the feature's JSON text (GeoJSON, cut at 2,000 bytes).
	Raw string
}

// RejectClass is the cause of a reject, coarser than its Reason.
type RejectClass string

// The classes of rejects.
const (
	// RejectFarOutside: a point more than MarginKm outside every unit.
	RejectFarOutside RejectClass = "far_outside"
	// RejectSwapped: lat and lon look swapped.
	RejectSwapped RejectClass = "latlon_swapped"
	// RejectOutOfRange: coordinates outside ±90/±180 (projected?).
	RejectOutOfRange RejectClass = "out_of_range"
	// RejectBadTime: occurred_at in no known layout.
	RejectBadTime RejectClass = "bad_time"
	// RejectMissing: a required field (or half of lat/lon) is empty.
	RejectMissing RejectClass = "missing_field"
	// RejectBadValue: a number, boolean, kind or severity that does not parse.
	RejectBadValue RejectClass = "bad_value"
	// RejectDuplicate: a source_id seen earlier in the input.
	RejectDuplicate RejectClass = "duplicate"
	// RejectUnreadable: a row that cannot be split into fields, with the
	// wrong number of fields, or a GeoJSON feature that is not a point.
	RejectUnreadable RejectClass = "unreadable"
)

// RejectClasses lists every class, the ones that usually concern whole
// files first.
var RejectClasses = [...]RejectClass{
	RejectFarOutside, RejectSwapped, RejectOutOfRange, RejectBadTime,
	RejectMissing, RejectUnreadable, RejectBadValue, RejectDuplicate,
}

// Describe says in a few words what the rejects of class c have in common.
func (c RejectClass) Describe(marginKm float64) string {
	switch c {
	case RejectFarOutside:
		return fmt.Sprintf("more than %g km outside every stored unit", marginKm)
	case RejectSwapped:
		return "lat/lon look swapped"
	case RejectOutOfRange:
		return "coordinates out of range (not lon/lat degrees?)"
	case RejectBadTime:
		return "unreadable occurred_at time"
	case RejectMissing:
		return "a required field is empty"
	case RejectBadValue:
		return "a bad value (number, boolean, kind or severity)"
	case RejectDuplicate:
		return "duplicate source_id"
	case RejectUnreadable:
		return "unreadable row (wrong number of fields, bad quoting or not a point)"
	}
	return "other"
}

func (r Reject) String() string {
	return fmt.Sprintf("line %d: %s: %s", r.Line, r.Field, r.Reason)
}

// RejectWriter writes rejects as CSV with the header line,field,reason,raw.
type RejectWriter struct {
	w      *csv.Writer
	header bool
}

// NewRejectWriter returns a RejectWriter writing to w; call Flush at the end.
func NewRejectWriter(w io.Writer) *RejectWriter {
	return &RejectWriter{w: csv.NewWriter(w)}
}

// Write writes one reject (and the header before the first).
func (rw *RejectWriter) Write(r Reject) error {
	if err := rw.writeHeader(); err != nil {
		return err
	}
	return rw.w.Write([]string{strconv.Itoa(r.Line), r.Field, r.Reason, r.Raw})
}

func (rw *RejectWriter) writeHeader() error {
	if rw.header {
		return nil
	}
	rw.header = true
	return rw.w.Write([]string{"line", "field", "reason", "raw"})
}

// Flush writes the header if nothing was written yet, flushes and returns
// any write error.
func (rw *RejectWriter) Flush() error {
	if err := rw.writeHeader(); err != nil {
		return err
	}
	rw.w.Flush()
	return rw.w.Error()
}

// joinRecord re-joins a CSV record with the given delimiter, quoting as
// encoding/csv does.
func joinRecord(rec []string, comma rune) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Comma = comma
	_ = w.Write(rec)
	w.Flush()
	return strings.TrimRight(b.String(), "\n")
}
