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
	// Reason says what is wrong, with the offending value.
	Reason string
	// Raw is the original row re-joined with the file's delimiter (CSV) or
	// the feature's JSON text (GeoJSON, cut at 2,000 bytes).
	Raw string
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
