package analytics

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/crimemap/crimemap/geo"
)

// Query errors. Every error a query returns wraps one of them (with the
// offending field), so the server maps them to HTTP once: ErrBadQuery to
// 400, ErrUnknownUnit to 404.
var (
	ErrBadQuery    = errors.New("bad query")
	ErrUnknownUnit = errors.New("unknown unit")
)

// Snapshot column names, in schema order.
const (
	ColKind       = "kind"
	ColCategory   = "category"
	ColSeverity   = "severity"
	ColFlags      = "flags"
	ColOccurredAt = "occurred_at"
	ColCell       = "cell"
	ColLon        = "lon"
	ColLat        = "lat"
	ColRegion     = "region"
	ColDistrict   = "district"
	ColMahalla    = "mahalla"
	// ColRecordKey is a stable pseudo-random key of each event (FNV-1a of
	// its kind and source ID), the record key of the cell-key method in
	// analytics/disclose: a cell's key is the sum of its events' keys, so
	// the same events always get the same perturbation.
	ColRecordKey = "record_key"
	// ColKilled, ColInjured, ColVehicle and ColArticle are what a report
	// needs beyond the maps and queries: the killed and injured of a road
	// accident (saturating at 65,535), its vehicle type and the article of a
	// crime or offence (both dictionary-encoded; "" none).
	ColKilled  = "killed"
	ColInjured = "injured"
	ColVehicle = "vehicle"
	ColArticle = "article"
)

// UnitInfo is one row of a snapshot's unit table. The region, district and
// mahalla columns hold indexes into this table (-1 = unassigned).
type UnitInfo struct {
	Code       string
	Level      geo.Level
	Name       string // uz name, falling back to ru, en, then the code
	Parent     int32  // index of the parent unit, -1 for none
	Population int64  // 0 when unknown: the latest figure (see Populations)
	// Populations are the unit's figures by year (geo.Unit.PopulationSeries);
	// rates use PopulationAt.
	Populations []geo.YearPopulation
	// BoundaryChanges are the times from which a new version of the unit's
	// boundary applies (geo.Unit.BoundaryChanges; nil with one version):
	// comparisons across one are marked (Comparison.BoundaryChanged).
	BoundaryChanges []time.Time
	// Unknown marks a code that events carry but the unit list lacks; it is
	// kept (named by its code, without population) so counts are never lost.
	Unknown bool
}

// Snapshot is an immutable, versioned copy of every event as Arrow columns,
// sorted by occurred_at, with the unit table the unit columns point into.
// It is safe for concurrent use; queries are methods on it.
//
// Columns (see Schema): kind uint8, category dictionary<uint16, utf8>,
// severity uint8, flags uint16 (crime flags; on accidents FlagCasualties
// when anyone was killed or injured), occurred_at timestamp[s, UTC], cell uint64
// (H3 at geo.EventResolution, 0 = no location), lon/lat float32 (NaN
// without location), region/district/mahalla int32 unit indexes (-1 =
// unassigned).
type Snapshot struct {
	version      uint64
	dataVersion  int64
	inputVersion int64     // 0: unknown (the source does not version its inputs)
	inputsAt     time.Time // the source's clock when inputVersion was read
	builtAt      time.Time
	n            int

	schema *arrow.Schema
	record arrow.RecordBatch

	// Value slices of the Arrow arrays (same memory), for typed loops.
	kind     []uint8
	cat      []uint16
	sev      []uint8
	flags    []uint16
	at       []int64
	cell     []uint64
	lon, lat []float32
	levels   [3][]int32 // region, district, mahalla
	rkey     []uint32
	killed   []uint16
	injured  []uint16
	vehicle  []uint8  // index into vehicles
	article  []uint16 // index into articles
	vehicles []string // dictionary of the vehicle column ("" first)
	articles []string // dictionary of the article column ("" first)
	// cellExc[r-MinHexbinRes]: rows whose cell at res r < MaxHexbinRes is
	// not the parent of their res-10 cell (see cells.go).
	cellExc [MaxHexbinRes - MinHexbinRes]cellExceptions

	categories []string // dictionary of the category column
	catKinds   []uint8  // bit k-1 set when category i occurs with kind k
	catOrder   []uint16 // category indexes sorted by name

	units    []UnitInfo
	unitIdx  map[string]int32
	children [][]int32
	// levelOff: the units of column slot k are [levelOff[k], levelOff[k+1]),
	// sorted by code; units of other levels follow.
	levelOff [5]int32

	// tables: the hash tables of hexbin queries, reused (see cellTable).
	tables sync.Pool
}

// Version is the snapshot's version; Live increases it by one per swap.
func (s *Snapshot) Version() uint64 { return s.version }

// DataVersion is the store's data version the snapshot was built from.
func (s *Snapshot) DataVersion() int64 { return s.dataVersion }

// InputVersion is the source's input version the snapshot was built from
// (InputSource): it changes when the events, units or population change
// and not when derived results such as classification runs are stored.
// 0 when unknown (a source that does not version its inputs, or a
// snapshot built from memory).
func (s *Snapshot) InputVersion() int64 { return s.inputVersion }

// InputsAt is the source's clock when InputVersion was read (the clock of
// the events' recording times); zero when InputVersion is unknown.
func (s *Snapshot) InputsAt() time.Time { return s.inputsAt }

// BuiltAt is when the snapshot was built.
func (s *Snapshot) BuiltAt() time.Time { return s.builtAt }

// Len is the number of events.
func (s *Snapshot) Len() int { return s.n }

// Schema is the Arrow schema of Record.
func (s *Snapshot) Schema() *arrow.Schema { return s.schema }

// Record returns every event as one Arrow record batch, sorted by
// occurred_at. It is owned by the snapshot and lives as long as it: callers
// must not Release it (Retain/Release pairs are fine), nor modify it.
func (s *Snapshot) Record() arrow.RecordBatch { return s.record }

// Categories returns the category dictionary (the category column holds
// indexes into it).
func (s *Snapshot) Categories() []string { return append([]string(nil), s.categories...) }

// Units returns a copy of the unit table (the unit columns index into it).
func (s *Snapshot) Units() []UnitInfo { return append([]UnitInfo(nil), s.units...) }

// Unit returns the table index and the row of the unit with code.
func (s *Snapshot) Unit(code string) (int32, UnitInfo, bool) {
	i, ok := s.unitIdx[code]
	if !ok {
		return -1, UnitInfo{}, false
	}
	return i, s.units[i], true
}

// BytesPerEvent is the size of the Arrow buffers (values, offsets and the
// category dictionary) and of the H3 cell exceptions divided by the number
// of events.
func (s *Snapshot) BytesPerEvent() float64 {
	if s.n == 0 {
		return 0
	}
	var total int
	var add func(d arrow.ArrayData)
	add = func(d arrow.ArrayData) {
		for _, b := range d.Buffers() {
			if b != nil {
				total += b.Len()
			}
		}
		for _, c := range d.Children() {
			add(c)
		}
		if dict, ok := d.Dictionary().(*array.Data); ok && dict != nil {
			add(dict)
		}
	}
	for _, c := range s.record.Columns() {
		add(c.Data())
	}
	for i := range s.cellExc {
		total += 4*len(s.cellExc[i].rows) + 8*len(s.cellExc[i].cells)
	}
	return float64(total) / float64(s.n)
}

// rowRange returns the rows [lo, hi) whose occurred_at lies in [from, to).
// Times are whole seconds: an instant with a fraction counts from the next
// second.
func (s *Snapshot) rowRange(from, to time.Time) (int, int) {
	f, t := ceilUnix(from), ceilUnix(to)
	lo := sort.Search(s.n, func(i int) bool { return s.at[i] >= f })
	hi := lo + sort.Search(s.n-lo, func(i int) bool { return s.at[lo+i] >= t })
	return lo, hi
}

// searchAt is the first row with occurred_at >= t (Unix seconds).
func (s *Snapshot) searchAt(t int64) int {
	return sort.Search(s.n, func(i int) bool { return s.at[i] >= t })
}

// ceilUnix is t in Unix seconds, rounded up.
func ceilUnix(t time.Time) int64 {
	u := t.Unix()
	if t.Nanosecond() > 0 {
		u++
	}
	return u
}

// unitFilter resolves a Filter.Unit code to its level column and index.
func (s *Snapshot) unitFilter(code string) (slot int, idx int32, err error) {
	if code == "" {
		return -1, -1, nil
	}
	i, ok := s.unitIdx[code]
	if !ok {
		return -1, -1, fmt.Errorf("filter unit %q: %w", code, ErrUnknownUnit)
	}
	slot = s.units[i].Level.Rank()
	if slot < 0 {
		return -1, -1, fmt.Errorf("%w: filter unit %q has level %q", ErrBadQuery, code, s.units[i].Level)
	}
	return slot, i, nil
}

// UnitsAt lists the table indexes of the units of level inside the unit
// with code within ("" for everywhere), sorted by code; a unit finer than
// the level gives its ancestor. ErrUnknownUnit for an unknown code.
func (s *Snapshot) UnitsAt(level geo.Level, within string) ([]int32, error) {
	slot := level.Rank()
	if slot < 0 {
		return nil, fmt.Errorf("%w: level %q: %w", ErrBadQuery, string(level), geo.ErrUnknownLevel)
	}
	idx := int32(-1)
	if within != "" {
		i, ok := s.unitIdx[within]
		if !ok {
			return nil, fmt.Errorf("unit %q: %w", within, ErrUnknownUnit)
		}
		idx = i
	}
	return s.unitsAt(slot, idx), nil
}

// UnitAt returns row i of the unit table (an index from UnitsAt or a unit
// column).
func (s *Snapshot) UnitAt(i int32) UnitInfo { return s.units[i] }

// NumUnits is the length of the unit table.
func (s *Snapshot) NumUnits() int { return len(s.units) }

// Category returns the category of dictionary index i.
func (s *Snapshot) Category(i uint16) string { return s.categories[i] }

// unitsAt lists the units of level slot inside unit idx (every unit of the
// level when idx < 0), sorted by code. When the unit is finer than the
// level, its ancestor at the level is returned.
func (s *Snapshot) unitsAt(slot int, idx int32) []int32 {
	if idx < 0 {
		out := make([]int32, 0, s.levelOff[slot+1]-s.levelOff[slot])
		for u := s.levelOff[slot]; u < s.levelOff[slot+1]; u++ {
			out = append(out, u)
		}
		return out
	}
	us := s.units[idx].Level.Rank()
	switch {
	case us == slot:
		return []int32{idx}
	case us > slot:
		for p := s.units[idx].Parent; p >= 0; p = s.units[p].Parent {
			if s.units[p].Level.Rank() == slot {
				return []int32{p}
			}
		}
		return nil
	}
	var out []int32
	stack := []int32{idx}
	seen := make(map[int32]bool) // guards against parent cycles in bad data
	for len(stack) > 0 {
		u := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range s.children[u] {
			if seen[c] {
				continue
			}
			seen[c] = true
			if s.units[c].Level.Rank() == slot {
				out = append(out, c)
			} else {
				stack = append(stack, c)
			}
		}
	}
	sort.Slice(out, func(a, b int) bool { return s.units[out[a]].Code < s.units[out[b]].Code })
	return out
}

// bindColumns extracts the typed value slices from the record's arrays.
func (s *Snapshot) bindColumns() {
	r := s.record
	s.kind = r.Column(0).(*array.Uint8).Uint8Values()
	s.cat = r.Column(1).(*array.Dictionary).Indices().(*array.Uint16).Uint16Values()
	s.sev = r.Column(2).(*array.Uint8).Uint8Values()
	s.flags = r.Column(3).(*array.Uint16).Uint16Values()
	ts := r.Column(4).(*array.Timestamp).TimestampValues()
	s.at = arrow.Int64Traits.CastFromBytes(arrow.TimestampTraits.CastToBytes(ts))
	s.cell = r.Column(5).(*array.Uint64).Uint64Values()
	s.lon = r.Column(6).(*array.Float32).Float32Values()
	s.lat = r.Column(7).(*array.Float32).Float32Values()
	for i := range s.levels {
		s.levels[i] = r.Column(8 + i).(*array.Int32).Int32Values()
	}
	s.rkey = r.Column(11).(*array.Uint32).Uint32Values()
	s.killed = r.Column(12).(*array.Uint16).Uint16Values()
	s.injured = r.Column(13).(*array.Uint16).Uint16Values()
	s.vehicle = r.Column(14).(*array.Dictionary).Indices().(*array.Uint8).Uint8Values()
	s.article = r.Column(15).(*array.Dictionary).Indices().(*array.Uint16).Uint16Values()
}

// Columns are read-only views of a snapshot's typed columns, row i of each
// slice being one event (sorted by time), for packages that aggregate in
// loops of their own (classify). They alias the snapshot's Arrow buffers:
// callers must not modify them.
type Columns struct {
	Kind     []uint8
	Severity []uint8
	Flags    []uint16
	At       []int64  // occurred_at, Unix seconds
	Cell     []uint64 // res-10 H3 cell (0 without location); other resolutions: Snapshot.CellsAt
	// Unit indexes into Units() (-1 = unassigned).
	Region, District, Mahalla []int32
	// Category indexes into Categories().
	Category []uint16
	// RecordKey is each event's stable record key (see ColRecordKey).
	RecordKey []uint32
	// Killed and Injured of road accidents; Vehicle indexes into Vehicles
	// and Article into Articles ("" at index 0: none).
	Killed, Injured    []uint16
	Vehicle            []uint8
	Article            []uint16
	Vehicles, Articles []string
}

// Columns returns the typed column views of s.
func (s *Snapshot) Columns() Columns {
	return Columns{Kind: s.kind, Severity: s.sev, Flags: s.flags, At: s.at, Cell: s.cell,
		Region: s.levels[0], District: s.levels[1], Mahalla: s.levels[2], Category: s.cat, RecordKey: s.rkey,
		Killed: s.killed, Injured: s.injured, Vehicle: s.vehicle, Article: s.article, Vehicles: s.vehicles, Articles: s.articles}
}

// Rows returns the rows [lo, hi) with occurred_at in [from, to) (whole
// Unix seconds, fractions rounded up as everywhere in the snapshot).
func (s *Snapshot) Rows(from, to time.Time) (lo, hi int) { return s.rowRange(from, to) }

// PopulationAt is the population a rate of period p uses: the figure of
// the year p starts in (1 January, in p's zone), else the nearest year's
// (the earlier on a tie). It returns the year used too: 0 when the only
// figure has no year, and 0, 0 when the population is unknown.
func (u *UnitInfo) PopulationAt(p Period) (population int64, year int) {
	return geo.PopulationFor(u.Populations, p.From.Year())
}
