package ingest

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/paulmach/orb"
)

// Errors that stop a whole import (a bad row is a Reject, never an error).
var (
	ErrUnknownField  = errors.New("unknown field")
	ErrMissingColumn = errors.New("missing column")
	ErrNoKind        = errors.New("no kind column and no kind given")
	ErrFormat        = errors.New("unknown format (want csv or geojson)")
	ErrBadInput      = errors.New("bad input")
	// ErrEmpty: the input holds nothing (or only white space); it is also
	// an ErrBadInput.
	ErrEmpty error = badInput("empty file")
	// ErrNotEvents: a GeoJSON input holds polygons (boundaries?), not
	// point events; it is also an ErrBadInput.
	ErrNotEvents error = badInput("holds polygons (boundaries?), not events")
)

// badInput is a sentinel error that is also ErrBadInput.
type badInput string

func (e badInput) Error() string        { return string(e) }
func (e badInput) Is(target error) bool { return target == ErrBadInput }

// Format is the file format of a source.
type Format string

// The supported formats.
const (
	FormatCSV     Format = "csv"
	FormatGeoJSON Format = "geojson"
)

// FormatFromName guesses the format from a file name: .geojson and .json
// are GeoJSON, .csv, .tsv and .txt CSV.
func FormatFromName(name string) (Format, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".geojson", ".json":
		return FormatGeoJSON, nil
	case ".csv", ".tsv", ".txt":
		return FormatCSV, nil
	}
	return "", fmt.Errorf("%q: %w", name, ErrFormat)
}

// Field names, which are also the default column names.
const (
	FieldSourceID   = "source_id"
	FieldOccurredAt = "occurred_at"
	FieldLat        = "lat"
	FieldLon        = "lon"
	FieldCategory   = "category"
	FieldSeverity   = "severity"
	FieldArticle    = "article"
	FieldKilled     = "killed"
	FieldInjured    = "injured"
	FieldVehicle    = "vehicle"
	FieldFine       = "fine"
	FieldKind       = "kind"
)

// Fields lists every field an input may carry; the flag fields are
// analytics.FlagNames.
var Fields = [...]string{
	FieldSourceID, FieldOccurredAt, FieldLat, FieldLon, FieldCategory, FieldSeverity, FieldArticle,
	"juvenile", "recidivist", "domestic", "alcohol", "drugs", "public_place", "solved",
	FieldKilled, FieldInjured, FieldVehicle, FieldFine, FieldKind,
}

// Field slots, in Fields order.
const (
	fSourceID = iota
	fOccurredAt
	fLat
	fLon
	fCategory
	fSeverity
	fArticle
	fFlag0     // the 7 flags follow, in analytics.FlagNames order
	idxKilled  = fFlag0 + 7
	idxInjured = idxKilled + 1
	idxVehicle = idxKilled + 2
	idxFine    = idxKilled + 3
	idxKind    = idxKilled + 4
	numFields  = idxKilled + 5
)

// DefaultMarginKm is how far outside the units' extent a point may lie and
// still be kept (unassigned).
const DefaultMarginKm = 50

// DefaultBatchSize is the number of events per sink call.
const DefaultBatchSize = 50_000

// DefaultLocation is the zone of zone-less times when Options.Location is nil.
const DefaultLocation = "Asia/Tashkent"

// Options configures Run.
type Options struct {
	// Kind of every event when the input has no kind column.
	Kind analytics.Kind
	// Format of the input (required; see FormatFromName).
	Format Format
	// Fields maps a field (see Fields) to the column (CSV) or property
	// (GeoJSON) holding it, e.g. {"source_id": "uid"}; unmapped fields are
	// read from the column of their own name. "date+time" joins two columns
	// with a space.
	Fields map[string]string
	// Location is the zone of times written without one (default
	// Asia/Tashkent). Events are stored in UTC.
	Location *time.Location
	// Index assigns units; nil skips assignment and the distance check.
	Index *geo.Index
	// MarginKm: points farther than this outside the index's extent are
	// rejected (default DefaultMarginKm).
	MarginKm float64
	// BatchSize is the number of events per sink call (default 50,000).
	BatchSize int
	// Rejects receives the rejects CSV (line,field,reason,raw); nil drops.
	Rejects io.Writer
	// Progress, when set, is called after every chunk of rows and once at
	// the end with Done set, always from the goroutine that called Run.
	Progress func(Progress)
	// TotalBytes is the input size for Progress (0 when unknown).
	TotalBytes int64
	// SinkWorkers is how many batches may be stored at once (default 1).
	// Use more only with a sink that writes concurrently (PostGIS does;
	// the embedded SQLite store has one writer). Each batch stays atomic.
	SinkWorkers int
	// Workers converting rows in parallel (default GOMAXPROCS).
	Workers int
	// Logger gets one line per sink batch at debug level (default: none).
	Logger *slog.Logger
}

// Sink stores one batch of events atomically, typically store.Store's
// PutEvents. The slice is reused after the call returns.
type Sink func(ctx context.Context, events []analytics.Event) (store.Result, error)

// Summary counts what Run did; Accepted + Rejected == Rows.
type Summary struct {
	Rows       int // data rows (CSV records, GeoJSON features) read
	Accepted   int
	Rejected   int
	NoLocation int // accepted without a location
	Unassigned int // accepted with a location outside every unit
	// Store sums the sink's results.
	Store store.Result
	// RejectedBy counts the rejects by class (Rejected in all).
	RejectedBy map[RejectClass]int
	// FarOutside is the bounding box of the points rejected as
	// RejectFarOutside (lon/lat; meaningful when that count is > 0).
	FarOutside orb.Bound
}

// TopReject returns the class with the most rejects and its count ("", 0
// when nothing was rejected); ties go to the class named first in
// RejectClasses.
func (s *Summary) TopReject() (RejectClass, int) {
	var top RejectClass
	n := 0
	for _, c := range RejectClasses {
		if s.RejectedBy[c] > n {
			top, n = c, s.RejectedBy[c]
		}
	}
	return top, n
}

// row is one record on its way through the pipeline.
type row struct {
	line   int
	fields []string
	raw    string // GeoJSON text, or "" to re-join fields
	err    *Reject
}

type outcome struct {
	ok       bool
	hash     uint64 // of kind and source_id, computed by the worker
	ev       analytics.Event
	rej      Reject
	lon, lat float64 // of a RejectFarOutside point
}

type chunk struct {
	rows    []row
	out     []outcome
	bytes   int64
	done    chan struct{}
	readErr error
}

const chunkRows = 2048

// Run reads src, validates every row and calls sink with batches of
// accepted events. A row never fails the run: it is accepted or rejected.
// Run returns an error for an unusable input (unknown format, missing
// columns, unreadable header), a failing sink or writer, or ctx's error.
func Run(ctx context.Context, src io.Reader, opts Options, sink Sink) (Summary, error) {
	var sum Summary
	if opts.Location == nil {
		loc, err := time.LoadLocation(DefaultLocation)
		if err != nil {
			return sum, fmt.Errorf("loading %s: %w", DefaultLocation, err)
		}
		opts.Location = loc
	}
	if opts.MarginKm <= 0 {
		opts.MarginKm = DefaultMarginKm
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cr := &countingReader{r: src}
	var rd recordReader
	var err error
	switch opts.Format {
	case FormatCSV:
		rd, err = newCSVReader(cr, opts.Fields)
	case FormatGeoJSON:
		rd, err = newGeoJSONReader(cr, opts.Fields)
	default:
		return sum, fmt.Errorf("%q: %w", opts.Format, ErrFormat)
	}
	if err != nil {
		return sum, err
	}
	sch := rd.schema()
	if !sch.has(idxKind) && opts.Kind == 0 {
		return sum, ErrNoKind
	}
	conv := &converter{opts: &opts, sch: sch, comma: rd.comma(), seed: maphash.MakeSeed()}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *chunk, opts.Workers)
	order := make(chan *chunk, 2*opts.Workers+2)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				c.out = make([]outcome, len(c.rows))
				for i := range c.rows {
					conv.convert(&c.rows[i], &c.out[i])
				}
				close(c.done)
			}
		}()
	}
	go func() { // reader
		defer close(order)
		defer close(work)
		for {
			c := &chunk{done: make(chan struct{}), rows: make([]row, 0, chunkRows)}
			var rerr error
			for len(c.rows) < chunkRows {
				var r row
				r, rerr = rd.next()
				if rerr != nil {
					break
				}
				c.rows = append(c.rows, r)
			}
			c.bytes = cr.n.Load()
			if rerr != nil && !errors.Is(rerr, io.EOF) {
				c.readErr = rerr
			}
			select {
			case order <- c:
			case <-ctx.Done():
				return
			}
			select {
			case work <- c:
			case <-ctx.Done():
				return
			}
			if rerr != nil {
				return
			}
		}
	}()
	defer wg.Wait()

	var rw *RejectWriter
	if opts.Rejects != nil {
		rw = NewRejectWriter(opts.Rejects)
	}
	start := time.Now()
	seen := newSeenSet()
	// The sink runs in its own goroutine so that parsing the next batch
	// overlaps storing this one (the database and the parser each keep a
	// core busy). Two buffers circulate: one filling, one being stored.
	st := newSinkRunner(ctx, cancel, sink, opts, min(opts.BatchSize, 1<<16))
	defer st.stop()
	batch := st.buffer()
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := st.submit(batch); err != nil {
			return err
		}
		batch = st.buffer()
		return nil
	}
	sum.RejectedBy = map[RejectClass]int{}
	reject := func(r Reject) error {
		sum.Rejected++
		sum.RejectedBy[r.Class]++
		if rw != nil {
			if err := rw.Write(r); err != nil {
				return fmt.Errorf("writing rejects: %w", err)
			}
		}
		return nil
	}
	var lastBytes int64
	for c := range order {
		select {
		case <-c.done:
		case <-ctx.Done():
			return st.finish(&sum, ctx.Err())
		}
		for i := range c.out {
			o := &c.out[i]
			sum.Rows++
			if !o.ok {
				if o.rej.Class == RejectFarOutside {
					p := orb.Point{o.lon, o.lat}
					if sum.RejectedBy[RejectFarOutside] == 0 {
						sum.FarOutside = p.Bound()
					} else {
						sum.FarOutside = sum.FarOutside.Extend(p)
					}
				}
				if err := reject(o.rej); err != nil {
					return sum, err
				}
				continue
			}
			if first, dup := seen.add(o.hash, o.ev.Kind, o.ev.SourceID, int32(c.rows[i].line)); dup {
				if err := reject(Reject{Line: c.rows[i].line, Field: FieldSourceID, Class: RejectDuplicate,
					Reason: fmt.Sprintf("duplicate source_id %q (kind %s), first at line %d: kept the first", o.ev.SourceID, o.ev.Kind, first),
					Raw:    conv.raw(&c.rows[i])}); err != nil {
					return sum, err
				}
				continue
			}
			sum.Accepted++
			if !o.ev.HasLocation {
				sum.NoLocation++
			} else if opts.Index != nil && o.ev.Region == "" && o.ev.District == "" && o.ev.Mahalla == "" {
				sum.Unassigned++
			}
			batch = append(batch, o.ev)
			if len(batch) >= opts.BatchSize {
				if err := flush(); err != nil {
					return st.finish(&sum, err)
				}
			}
		}
		lastBytes = c.bytes
		if c.readErr != nil {
			return sum, fmt.Errorf("reading input after line %d: %w", lastLine(c), c.readErr)
		}
		if opts.Progress != nil {
			opts.Progress(Progress{BytesRead: c.bytes, TotalBytes: opts.TotalBytes, Rows: sum.Rows,
				Accepted: sum.Accepted, Rejected: sum.Rejected, Elapsed: time.Since(start)})
		}
	}
	if err := ctx.Err(); err != nil {
		return st.finish(&sum, err)
	}
	if err := flush(); err != nil {
		return st.finish(&sum, err)
	}
	if _, err := st.finish(&sum, nil); err != nil {
		return sum, err
	}
	if rw != nil {
		if err := rw.Flush(); err != nil {
			return sum, fmt.Errorf("writing rejects: %w", err)
		}
	}
	if opts.Progress != nil {
		opts.Progress(Progress{BytesRead: lastBytes, TotalBytes: opts.TotalBytes, Rows: sum.Rows,
			Accepted: sum.Accepted, Rejected: sum.Rejected, Elapsed: time.Since(start), Done: true})
	}
	return sum, nil
}

func lastLine(c *chunk) int {
	if len(c.rows) == 0 {
		return 0
	}
	return c.rows[len(c.rows)-1].line
}

type seenKey struct {
	kind analytics.Kind
	id   string
}

// seenSet remembers the (kind, source_id) pairs accepted so far with their
// line. It is keyed by a 64-bit hash computed in parallel by the workers;
// the ids are kept to tell a true duplicate from a hash collision, which
// falls back to an exact map.
type seenSet struct {
	byHash  map[uint64]int32 // hash -> index in entries
	entries []seenEntry
	exact   map[seenKey]int32 // collided pairs -> line
}

type seenEntry struct {
	key  seenKey
	line int32
}

func newSeenSet() *seenSet {
	return &seenSet{byHash: make(map[uint64]int32, 1<<16), exact: map[seenKey]int32{}}
}

// add records the pair at line unless present; it returns the line of the
// first occurrence and true for a duplicate.
func (s *seenSet) add(h uint64, kind analytics.Kind, id string, line int32) (int32, bool) {
	i, ok := s.byHash[h]
	if !ok {
		s.byHash[h] = int32(len(s.entries))
		s.entries = append(s.entries, seenEntry{seenKey{kind, strings.Clone(id)}, line})
		return 0, false
	}
	if e := s.entries[i]; e.key.kind == kind && e.key.id == id {
		return e.line, true
	}
	k := seenKey{kind, id}
	if first, dup := s.exact[k]; dup {
		return first, true
	}
	k.id = strings.Clone(id)
	s.exact[k] = line
	return 0, false
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// recordReader yields rows; io.EOF at the end.
type recordReader interface {
	next() (row, error)
	schema() *schema
	comma() rune
}

// colRef locates a field: column a, joined with column b when b >= 0.
type colRef struct{ a, b int }

type schema struct {
	cols [numFields]colRef // a < 0: absent
	ncol int               // expected fields per record (CSV), 0: any
}

func (s *schema) has(f int) bool { return s.cols[f].a >= 0 || s.cols[f].a == lineCol }

// LineAsSourceID, as the mapping of source_id, uses the row's line number
// (GeoJSON: feature index) as source_id, for files without an id column.
// Re-importing an edited file then updates by position.
const LineAsSourceID = "@line"

const lineCol = -2

// buildSchema resolves every field to its columns in header. Required
// fields and explicitly mapped columns must exist.
func buildSchema(header []string, mapping map[string]string, what string) (*schema, error) {
	s := &schema{}
	idx := make(map[string]int, len(header))
	lower := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, ok := idx[h]; !ok {
			idx[h] = i
		}
		if _, ok := lower[strings.ToLower(h)]; !ok {
			lower[strings.ToLower(h)] = i
		}
	}
	find := func(name string) int {
		if i, ok := idx[name]; ok {
			return i
		}
		if i, ok := lower[strings.ToLower(name)]; ok {
			return i
		}
		return -1
	}
	for k := range mapping {
		known := false
		for _, f := range Fields {
			known = known || f == k
		}
		if !known {
			return nil, fmt.Errorf("%q (want one of %s): %w", k, strings.Join(Fields[:], ", "), ErrUnknownField)
		}
	}
	for f, name := range Fields {
		col, mapped := mapping[name]
		if !mapped {
			col = name
		}
		s.cols[f] = colRef{-1, -1}
		if f == fSourceID && col == LineAsSourceID {
			s.cols[f] = colRef{lineCol, -1}
			continue
		}
		parts := strings.SplitN(col, "+", 2)
		a := find(strings.TrimSpace(parts[0]))
		b := -1
		if len(parts) == 2 {
			b = find(strings.TrimSpace(parts[1]))
		}
		if a < 0 || (len(parts) == 2 && b < 0) {
			if mapped {
				return nil, fmt.Errorf("field %s=%s: %s not found in %s [%s]: %w", name, col, col, what, strings.Join(header, ", "), ErrMissingColumn)
			}
			continue
		}
		s.cols[f] = colRef{a, b}
	}
	for _, f := range []int{fSourceID, fOccurredAt, fCategory} {
		if !s.has(f) {
			return nil, fmt.Errorf("required field %s: no %s column in %s [%s] (map one with %s=<column>): %w",
				Fields[f], Fields[f], what, strings.Join(header, ", "), Fields[f], ErrMissingColumn)
		}
	}
	if s.has(fLat) != s.has(fLon) {
		return nil, fmt.Errorf("lat and lon need each other; found only one in %s [%s]: %w", what, strings.Join(header, ", "), ErrMissingColumn)
	}
	return s, nil
}

// converter turns rows into events; safe for concurrent use.
type converter struct {
	seed  maphash.Seed
	opts  *Options
	sch   *schema
	comma rune
}

func (cv *converter) raw(r *row) string {
	if r.raw != "" || r.fields == nil {
		return r.raw
	}
	return joinRecord(r.fields, cv.comma)
}

func (cv *converter) get(r *row, f int) string {
	c := cv.sch.cols[f]
	if c.a == lineCol {
		return strconv.Itoa(r.line)
	}
	if c.a < 0 || c.a >= len(r.fields) {
		return ""
	}
	v := strings.TrimSpace(r.fields[c.a])
	if c.b >= 0 && c.b < len(r.fields) {
		v = v + " " + strings.TrimSpace(r.fields[c.b])
	}
	return v
}

func (cv *converter) convert(r *row, o *outcome) {
	fail := func(class RejectClass, field, format string, args ...any) {
		*o = outcome{rej: Reject{Line: r.line, Field: field, Class: class, Reason: fmt.Sprintf(format, args...), Raw: cv.raw(r)}}
	}
	if r.err != nil {
		*o = outcome{rej: *r.err}
		return
	}
	if n := cv.sch.ncol; n > 0 && len(r.fields) != n {
		fail(RejectUnreadable, "", "expected %d fields, got %d", n, len(r.fields))
		return
	}
	ev := &o.ev
	*ev = analytics.Event{Kind: cv.opts.Kind}
	if cv.sch.has(idxKind) {
		if s := cv.get(r, idxKind); s != "" || cv.opts.Kind == 0 {
			k, err := analytics.ParseKind(s)
			if err != nil {
				fail(RejectBadValue, FieldKind, "%v", err)
				return
			}
			ev.Kind = k
		}
	}
	if ev.SourceID = cv.get(r, fSourceID); ev.SourceID == "" {
		fail(RejectMissing, FieldSourceID, "missing required field source_id")
		return
	}
	ts := cv.get(r, fOccurredAt)
	if ts == "" {
		fail(RejectMissing, FieldOccurredAt, "missing required field occurred_at")
		return
	}
	t, ok := parseTime(ts, cv.opts.Location)
	if !ok {
		_, err := ParseTime(ts, cv.opts.Location)
		fail(RejectBadTime, FieldOccurredAt, "%v", err)
		return
	}
	ev.OccurredAt = t
	if ev.Category = cv.get(r, fCategory); ev.Category == "" {
		fail(RejectMissing, FieldCategory, "missing required field category")
		return
	}
	if ev.Kind == analytics.KindCrime || ev.Kind == analytics.KindOffence {
		ev.Article = cv.get(r, fArticle)
	}
	switch ev.Kind {
	case analytics.KindCrime:
		if s := cv.get(r, fSeverity); s != "" {
			sv, err := parseSeverity(s)
			if err != nil {
				fail(RejectBadValue, FieldSeverity, "%v", err)
				return
			}
			ev.Severity = sv
		}
		for i, fl := range analytics.FlagNames {
			s := cv.get(r, fFlag0+i)
			b, ok := parseBool(s)
			if !ok {
				fail(RejectBadValue, fl.Name, "bad boolean %q (want 1/0, true/false, yes/no, ha/yo'q, да/нет)", s)
				return
			}
			if b {
				ev.Flags |= fl.Flag
			}
		}
	case analytics.KindAccident:
		for _, f := range []int{idxKilled, idxInjured} {
			s := cv.get(r, f)
			n, ok := parseCount(s)
			if !ok {
				fail(RejectBadValue, Fields[f], "bad count %q (want a whole number >= 0)", s)
				return
			}
			if f == idxKilled {
				ev.Killed = n
			} else {
				ev.Injured = n
			}
		}
		ev.Vehicle = cv.get(r, idxVehicle)
	case analytics.KindOffence:
		if s := cv.get(r, idxFine); s != "" {
			x, ok := parseNumber(s)
			if !ok || x < 0 {
				fail(RejectBadValue, FieldFine, "bad amount %q (want a number >= 0)", s)
				return
			}
			ev.Fine = x
		}
	}
	if !cv.location(r, o, fail) {
		return
	}
	o.ok = true
	o.hash = maphash.String(cv.seed, ev.SourceID) ^ uint64(ev.Kind)<<56
}

// location validates and fills the point, cell and units; false when the
// row was rejected.
func (cv *converter) location(r *row, o *outcome, fail func(RejectClass, string, string, ...any)) bool {
	ev := &o.ev
	if !cv.sch.has(fLat) {
		return true
	}
	slat, slon := cv.get(r, fLat), cv.get(r, fLon)
	if slat == "" && slon == "" {
		return true // no location: kept and counted
	}
	if slat == "" || slon == "" {
		field, other := FieldLat, FieldLon
		if slon == "" {
			field, other = FieldLon, FieldLat
		}
		fail(RejectMissing, field, "missing %s while %s is given", field, other)
		return false
	}
	lat, ok := parseNumber(slat)
	if !ok {
		fail(RejectBadValue, FieldLat, "bad number %q", slat)
		return false
	}
	lon, ok := parseNumber(slon)
	if !ok {
		fail(RejectBadValue, FieldLon, "bad number %q", slon)
		return false
	}
	if lat == 0 && lon == 0 {
		return true // (0, 0) is the usual "unknown" placeholder
	}
	ix := cv.opts.Index
	margin := cv.opts.MarginKm
	swappedNear := math.Abs(lon) <= 90 && (ix == nil || ix.Near(lat, lon, margin))
	if math.Abs(lat) > 90 || math.Abs(lon) > 180 {
		if math.Abs(lat) > 90 && math.Abs(lat) <= 180 && swappedNear {
			fail(RejectSwapped, FieldLat, "lat/lon look swapped: lat=%s lon=%s (lat outside ±90; swapped the point lies in the area)", slat, slon)
			return false
		}
		field := FieldLat
		if math.Abs(lat) <= 90 {
			field = FieldLon
		}
		fail(RejectOutOfRange, field, "coordinates out of range: lat=%s lon=%s (want lat in ±90, lon in ±180)", slat, slon)
		return false
	}
	if ix != nil && !ix.Near(lon, lat, margin) {
		if swappedNear && !ix.Empty() {
			fail(RejectSwapped, FieldLat, "lat/lon look swapped: lat=%s lon=%s lies in the area only when swapped", slat, slon)
			return false
		}
		fail(RejectFarOutside, FieldLat, "point lat=%s lon=%s is more than %g km outside every unit", slat, slon, margin)
		o.lon, o.lat = lon, lat
		return false
	}
	if err := ev.SetLocation(lat, lon); err != nil {
		fail(RejectOutOfRange, FieldLat, "%v", err)
		return false
	}
	if ix != nil {
		a := ix.AssignAt(lon, lat, ev.OccurredAt) // the boundaries valid at its time
		ev.Region, ev.District, ev.Mahalla = a.Region, a.District, a.Mahalla
	}
	return true
}

func parseSeverity(s string) (analytics.Severity, error) {
	if len(s) == 1 && s[0] >= '1' && s[0] <= '4' {
		return analytics.Severity(s[0] - '0'), nil
	}
	return analytics.ParseSeverity(s)
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "", "0", "false", "f", "no", "n", "yo'q", "yoʻq", "yoq", "нет", "йўқ":
		return false, true
	case "1", "true", "t", "yes", "y", "ha", "да", "ҳа":
		return true, true
	}
	return false, false
}

// parseNumber parses a decimal number; a comma is accepted as the decimal
// separator when there is no point (1500,50).
func parseNumber(s string) (float64, bool) {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if strings.IndexByte(s, ',') < 0 || strings.IndexByte(s, '.') >= 0 {
			return 0, false
		}
		if x, err = strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64); err != nil {
			return 0, false
		}
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, false
	}
	return x, true
}

func parseCount(s string) (int32, bool) {
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 {
		return 0, false
	}
	return int32(n), true
}
