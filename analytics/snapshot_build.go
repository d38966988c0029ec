package analytics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/crimemap/crimemap/geo"
)

// ErrBuild is wrapped by Build errors caused by an event that cannot be
// stored in a snapshot (bad kind or severity, too many categories).
var ErrBuild = errors.New("snapshot build")

// maxCategories is the capacity of the uint16 category dictionary.
const maxCategories = math.MaxUint16 + 1

// Source is what a snapshot is built from and watched on: store.Store
// satisfies it (analytics cannot import store, which imports analytics).
type Source interface {
	// ScanEvents calls fn for every stored event; the *Event is reused.
	ScanEvents(ctx context.Context, fn func(*Event) error) error
	// DataVersion changes whenever the stored events or units change.
	DataVersion(ctx context.Context) (int64, error)
}

// InputSource is a Source that also versions the inputs of analyses
// apart from their stored results (both stores implement it): the input
// version changes with every write of events, units or population, and
// not when a classification run is stored, which changes DataVersion (so
// snapshots rebuild) but no input. Classification runs record it, so a diff
// of two runs can tell whether their data differed.
type InputSource interface {
	Source
	// InputVersion returns the input version and the source's clock at
	// the read, the clock it stamps events' recording times with (so
	// "recorded after this snapshot read its inputs" can be asked).
	InputVersion(ctx context.Context) (version int64, at time.Time, err error)
}

// UnitLoader loads the admin units (geometry is not needed), e.g.
//
//	func(ctx context.Context) ([]geo.Unit, error) { return st.Units(ctx, store.UnitQuery{}) }
type UnitLoader func(ctx context.Context) ([]geo.Unit, error)

// BuildFromStore builds a snapshot of every event in src with the units
// from units. The data version is read before the scan, so a change during
// the scan is seen again by the next Live.Watch poll. When src is an
// InputSource its input version is read next, after the data version and
// before the units and the scan: a write between the two reads is then in
// the input version and in the snapshot (and its stale data version
// rebuilds the snapshot, with the same input version), and a write after
// them makes a later snapshot with a higher input version, never one with
// the same input version and other data.
func BuildFromStore(ctx context.Context, src Source, units UnitLoader, version uint64) (*Snapshot, error) {
	dv, err := src.DataVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot: data version: %w", err)
	}
	var (
		iv int64
		at time.Time
	)
	if is, ok := src.(InputSource); ok {
		if iv, at, err = is.InputVersion(ctx); err != nil {
			return nil, fmt.Errorf("snapshot: input version: %w", err)
		}
	}
	us, err := units(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot: units: %w", err)
	}
	s, err := buildPipelined(ctx, us, src, version, dv)
	if err != nil {
		return nil, err
	}
	s.inputVersion, s.inputsAt = iv, at
	return s, nil
}

// scanBatch is how many events the scan hands to the builder at a time.
const scanBatch = 8192

// buildPipelined overlaps the store's scan (decoding rows, on one core)
// with the column building (on the other): the scan copies events into
// batches that a builder goroutine consumes. Copying an Event is cheap and
// its strings are immutable, so the batches own what they hold.
func buildPipelined(ctx context.Context, units []geo.Unit, src Source, version uint64, dataVersion int64) (*Snapshot, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full := make(chan []Event, 4)
	free := make(chan []Event, 5)
	for range 5 {
		free <- make([]Event, 0, scanBatch)
	}
	b := newBuilder(units, 0)
	buildErr := make(chan error, 1)
	go func() {
		var err error
		for batch := range full {
			if err == nil {
				for i := range batch {
					if err = b.add(&batch[i]); err != nil {
						cancel()
						break
					}
				}
			}
			free <- batch[:0]
		}
		buildErr <- err
	}()
	cur := <-free
	scanErr := src.ScanEvents(ctx, func(e *Event) error {
		cur = append(cur, *e)
		if len(cur) == scanBatch {
			select {
			case full <- cur:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case cur = <-free:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	if scanErr == nil && len(cur) > 0 {
		full <- cur
	}
	close(full)
	if err := <-buildErr; err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if scanErr != nil {
		return nil, fmt.Errorf("snapshot: scan: %w", scanErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	return b.finish(version, dataVersion), nil
}

// Build builds a snapshot from units and the events scan passes to fn (the
// *Event may be reused between calls). Unit codes that events carry but
// units lack are added to the unit table as unknown units; a missing
// region or district is filled in from the parent of the finer unit.
// Events are sorted by occurred_at.
func Build(ctx context.Context, units []geo.Unit, scan func(fn func(*Event) error) error, version uint64, dataVersion int64) (*Snapshot, error) {
	b := newBuilder(units, 0)
	n := 0
	err := scan(func(e *Event) error {
		if n++; n&0xFFFF == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return b.add(e)
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot: scan: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	return b.finish(version, dataVersion), nil
}

// BuildEvents builds a snapshot of the events in memory (tests, fixtures,
// benchmarks): Build over a slice.
func BuildEvents(ctx context.Context, units []geo.Unit, events []Event, version uint64, dataVersion int64) (*Snapshot, error) {
	return Build(ctx, units, func(fn func(*Event) error) error {
		for i := range events {
			if err := fn(&events[i]); err != nil {
				return err
			}
		}
		return nil
	}, version, dataVersion)
}

// builder accumulates events column by column.
type builder struct {
	units   []UnitInfo
	unitIdx map[string]int32

	catIdx     map[string]uint16
	categories []string
	catKinds   []uint8

	kind     []uint8
	cat      []uint16
	sev      []uint8
	flags    []uint16
	at       []int64
	cell     []uint64
	lon, lat []float32
	levels   [3][]int32
	rkey     []uint32
	killed   []uint16
	injured  []uint16
	vehicle  []uint8
	article  []uint16
	// dictionaries of the vehicle and article columns ("" at index 0)
	vehicles, articles     []string
	vehicleIdx, articleIdx map[string]int
	// exc: per resolution below MaxHexbinRes, the builder rows whose cell
	// is not the parent of their res-10 cell.
	exc [MaxHexbinRes - MinHexbinRes]cellExceptions
	// parent[i]: the masks of the parent at MinHexbinRes+i of a res-10 cell.
	parent [MaxHexbinRes - MinHexbinRes]struct{ and, or uint64 }

	// one-entry caches: consecutive events often share these strings.
	lastCat  string
	lastCatI uint16
	lastCode [3]string
	lastUnit [3]int32
}

func newBuilder(units []geo.Unit, sizeHint int) *builder {
	b := &builder{
		units:      make([]UnitInfo, 0, len(units)),
		unitIdx:    make(map[string]int32, len(units)),
		catIdx:     make(map[string]uint16),
		lastUnit:   [3]int32{-1, -1, -1},
		vehicles:   []string{""},
		articles:   []string{""},
		vehicleIdx: map[string]int{"": 0},
		articleIdx: map[string]int{"": 0},
	}
	for i := range b.parent {
		b.parent[i].and, b.parent[i].or = geo.ParentMasks(MaxHexbinRes, MinHexbinRes+i)
	}
	for i := range units {
		u := &units[i]
		if _, dup := b.unitIdx[u.Code]; dup || u.Code == "" {
			continue
		}
		b.unitIdx[u.Code] = int32(len(b.units))
		info := UnitInfo{Code: u.Code, Level: u.Level, Name: u.Name("uz"), Parent: -1, Populations: u.PopulationSeries()}
		if n := len(info.Populations); n > 0 {
			info.Population = info.Populations[n-1].Population
		}
		info.BoundaryChanges = u.BoundaryChanges
		b.units = append(b.units, info)
	}
	for i := range units {
		u := &units[i]
		if u.ParentCode == "" {
			continue
		}
		if p, ok := b.unitIdx[u.ParentCode]; ok {
			if c := b.unitIdx[u.Code]; b.units[c].Parent < 0 && c != p {
				b.units[c].Parent = p
			}
		}
	}
	if sizeHint > 0 {
		b.grow(sizeHint)
	}
	return b
}

func (b *builder) grow(n int) {
	b.kind = slices.Grow(b.kind, n)
	b.cat = slices.Grow(b.cat, n)
	b.sev = slices.Grow(b.sev, n)
	b.flags = slices.Grow(b.flags, n)
	b.at = slices.Grow(b.at, n)
	b.cell = slices.Grow(b.cell, n)
	b.lon = slices.Grow(b.lon, n)
	b.lat = slices.Grow(b.lat, n)
	for i := range b.levels {
		b.levels[i] = slices.Grow(b.levels[i], n)
	}
	b.rkey = slices.Grow(b.rkey, n)
	b.killed = slices.Grow(b.killed, n)
	b.injured = slices.Grow(b.injured, n)
	b.vehicle = slices.Grow(b.vehicle, n)
	b.article = slices.Grow(b.article, n)
}

// dict returns name's index in a string dictionary, adding it (copied)
// when new; it fails past max entries.
func dict(name string, names *[]string, idx map[string]int, max int, what string) (int, error) {
	if i, ok := idx[name]; ok {
		return i, nil
	}
	if len(*names) >= max {
		return 0, fmt.Errorf("%w: more than %d %ss", ErrBuild, max, what)
	}
	name = strings.Clone(name)
	idx[name] = len(*names)
	*names = append(*names, name)
	return len(*names) - 1, nil
}

// sat16 is n clamped to 0..65535.
func sat16(n int32) uint16 { return uint16(min(max(n, 0), math.MaxUint16)) }

// levelOfSlot is the level of unit column slot.
func levelOfSlot(slot int) geo.Level {
	return [3]geo.Level{geo.LevelRegion, geo.LevelDistrict, geo.LevelMahalla}[slot]
}

// unit resolves a code in column slot; unknown codes are added with parent.
func (b *builder) unit(code string, slot int, parent int32) int32 {
	if code == "" {
		return -1
	}
	if code == b.lastCode[slot] {
		return b.lastUnit[slot]
	}
	i, ok := b.unitIdx[code]
	if !ok {
		i = int32(len(b.units))
		b.unitIdx[code] = i
		b.units = append(b.units, UnitInfo{Code: code, Level: levelOfSlot(slot), Name: code, Parent: parent, Unknown: true})
	}
	b.lastCode[slot], b.lastUnit[slot] = code, i
	return i
}

// ancestor returns the ancestor of unit u at slot's level, or -1.
func (b *builder) ancestor(u int32, slot int) int32 {
	for p, hops := b.units[u].Parent, 0; p >= 0 && hops < 8; p, hops = b.units[p].Parent, hops+1 {
		if b.units[p].Level.Rank() == slot {
			return p
		}
	}
	return -1
}

func (b *builder) category(name string, k Kind) (uint16, error) {
	if name == b.lastCat && len(b.categories) > 0 {
		b.catKinds[b.lastCatI] |= 1 << (k - 1)
		return b.lastCatI, nil
	}
	i, ok := b.catIdx[name]
	if !ok {
		if len(b.categories) >= maxCategories {
			return 0, fmt.Errorf("%w: more than %d categories", ErrBuild, maxCategories)
		}
		i = uint16(len(b.categories))
		name = strings.Clone(name)
		b.catIdx[name] = i
		b.categories = append(b.categories, name)
		b.catKinds = append(b.catKinds, 0)
	}
	b.catKinds[i] |= 1 << (k - 1)
	b.lastCat, b.lastCatI = b.categories[i], i
	return i, nil
}

func (b *builder) add(e *Event) error {
	if e.Kind < KindCrime || e.Kind > KindOffence {
		return fmt.Errorf("%w: event %q: kind %d: %w", ErrBuild, e.SourceID, e.Kind, ErrUnknownKind)
	}
	if e.Severity > SeverityEspeciallyGrave {
		return fmt.Errorf("%w: event %q: severity %d: %w", ErrBuild, e.SourceID, e.Severity, ErrUnknownSeverity)
	}
	ci, err := b.category(e.Category, e.Kind)
	if err != nil {
		return err
	}
	r := b.unit(e.Region, 0, -1)
	d := b.unit(e.District, 1, r)
	m := b.unit(e.Mahalla, 2, d)
	if d < 0 && m >= 0 {
		d = b.ancestor(m, 1)
	}
	if r < 0 && d >= 0 {
		r = b.ancestor(d, 0)
	}
	if r < 0 && m >= 0 {
		r = b.ancestor(m, 0)
	}
	var cell uint64
	lon, lat := float32(math.NaN()), float32(math.NaN())
	if e.HasLocation {
		lon, lat = float32(e.Lon), float32(e.Lat)
		// The cell at every hexbin resolution of the stored float64
		// coordinates, as the store keeps them (or computed here, one
		// projection in pure Go): the res-10 cell, and the coarser ones
		// that are not its parents.
		cells, ok := e.Cells()
		if !ok {
			var err error
			cells, err = HexCellsOf(e.Lat, e.Lon)
			ok = err == nil
		}
		if ok {
			cell = cells[MaxHexbinRes-MinHexbinRes]
			row := int32(len(b.at))
			for i := range MaxHexbinRes - MinHexbinRes {
				if c := cells[i]; c != cell&b.parent[i].and|b.parent[i].or {
					b.exc[i].rows = append(b.exc[i].rows, row)
					b.exc[i].cells = append(b.exc[i].cells, c)
				}
			}
		}
	}
	b.kind = append(b.kind, uint8(e.Kind))
	b.cat = append(b.cat, ci)
	b.sev = append(b.sev, uint8(e.Severity))
	fl := e.Flags &^ FlagCasualties
	if e.Kind == KindAccident && int64(e.Killed)+int64(e.Injured) > 0 {
		fl |= FlagCasualties
	}
	b.flags = append(b.flags, uint16(fl))
	b.at = append(b.at, e.OccurredAt.Unix())
	b.cell = append(b.cell, cell)
	b.lon = append(b.lon, lon)
	b.lat = append(b.lat, lat)
	b.levels[0] = append(b.levels[0], r)
	b.levels[1] = append(b.levels[1], d)
	b.levels[2] = append(b.levels[2], m)
	b.rkey = append(b.rkey, RecordKey(e.Kind, e.SourceID))
	vi, err := dict(e.Vehicle, &b.vehicles, b.vehicleIdx, math.MaxUint8+1, "vehicle type")
	if err != nil {
		return err
	}
	ai, err := dict(e.Article, &b.articles, b.articleIdx, math.MaxUint16+1, "article")
	if err != nil {
		return err
	}
	b.killed = append(b.killed, sat16(e.Killed))
	b.injured = append(b.injured, sat16(e.Injured))
	b.vehicle = append(b.vehicle, uint8(vi))
	b.article = append(b.article, uint16(ai))
	return nil
}

// remapExceptions renumbers the exception rows after the rows were sorted
// (perm[new] = old) and sorts each list by its new row.
func remapExceptions(exc *[MaxHexbinRes - MinHexbinRes]cellExceptions, perm []uint32) {
	inv := make([]int32, len(perm))
	for nw, old := range perm {
		inv[old] = int32(nw)
	}
	for i := range exc {
		e := &exc[i]
		idx := make([]int, len(e.rows))
		for j := range idx {
			idx[j] = j
			e.rows[j] = inv[e.rows[j]]
		}
		slices.SortFunc(idx, func(a, b int) int { return int(e.rows[a]) - int(e.rows[b]) })
		rows, cells := make([]int32, len(idx)), make([]uint64, len(idx))
		for j, k := range idx {
			rows[j], cells[j] = e.rows[k], e.cells[k]
		}
		e.rows, e.cells = rows, cells
	}
}

// RecordKey is the stable record key of the event of kind k with source ID
// id: FNV-1a 64 of both, folded to 32 bits. It is not secret by itself;
// analytics/disclose mixes it with its secret before use.
func RecordKey(k Kind, id string) uint32 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	h = (h ^ uint64(k)) * prime
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * prime
	}
	return uint32(h ^ h>>32)
}

// finish orders the unit table by level then code, sorts the rows by time
// and wraps the columns as Arrow arrays.
func (b *builder) finish(version uint64, dataVersion int64) *Snapshot {
	n := len(b.at)
	s := &Snapshot{
		version:     version,
		dataVersion: dataVersion,
		builtAt:     time.Now(),
		n:           n,
		categories:  b.categories,
		catKinds:    b.catKinds,
	}

	// Unit table: regions, districts, mahallas (each by code), then units
	// of any other level; remap[old] is the new index.
	order := make([]int32, len(b.units))
	for i := range order {
		order[i] = int32(i)
	}
	rank := func(u *UnitInfo) int {
		if sl := u.Level.Rank(); sl >= 0 {
			return sl
		}
		return 3
	}
	slices.SortFunc(order, func(x, y int32) int {
		ux, uy := &b.units[x], &b.units[y]
		if c := rank(ux) - rank(uy); c != 0 {
			return c
		}
		return strings.Compare(ux.Code, uy.Code)
	})
	remap := make([]int32, len(b.units))
	s.units = make([]UnitInfo, len(b.units))
	for ni, oi := range order {
		remap[oi] = int32(ni)
		s.units[ni] = b.units[oi]
	}
	s.unitIdx = make(map[string]int32, len(s.units))
	s.children = make([][]int32, len(s.units))
	for i := range s.units {
		u := &s.units[i]
		if u.Parent >= 0 {
			u.Parent = remap[u.Parent]
			s.children[u.Parent] = append(s.children[u.Parent], int32(i))
		}
		s.unitIdx[u.Code] = int32(i)
		s.levelOff[rank(u)+1] = int32(i + 1)
	}
	for k := 1; k < len(s.levelOff); k++ {
		s.levelOff[k] = max(s.levelOff[k], s.levelOff[k-1])
	}

	s.catOrder = make([]uint16, len(b.categories))
	for i := range s.catOrder {
		s.catOrder[i] = uint16(i)
	}
	slices.SortFunc(s.catOrder, func(x, y uint16) int { return strings.Compare(s.categories[x], s.categories[y]) })

	perm := sortPerm(b.at)
	if perm != nil {
		b.kind = gather(b.kind, perm)
		b.cat = gather(b.cat, perm)
		b.sev = gather(b.sev, perm)
		b.flags = gather(b.flags, perm)
		b.at = gather(b.at, perm)
		b.cell = gather(b.cell, perm)
		b.lon = gather(b.lon, perm)
		b.lat = gather(b.lat, perm)
		b.rkey = gather(b.rkey, perm)
		b.killed = gather(b.killed, perm)
		b.injured = gather(b.injured, perm)
		b.vehicle = gather(b.vehicle, perm)
		b.article = gather(b.article, perm)
	}
	for i := range b.levels {
		b.levels[i] = gatherUnits(b.levels[i], perm, remap)
	}
	s.cellExc = b.exc
	if perm != nil {
		remapExceptions(&s.cellExc, perm)
	}

	s.schema = snapshotSchema()
	cols := []arrow.Array{
		primitive(arrow.PrimitiveTypes.Uint8, n, arrow.Uint8Traits.CastToBytes(b.kind)),
		categoryArray(b.cat, b.categories),
		primitive(arrow.PrimitiveTypes.Uint8, n, arrow.Uint8Traits.CastToBytes(b.sev)),
		primitive(arrow.PrimitiveTypes.Uint16, n, arrow.Uint16Traits.CastToBytes(b.flags)),
		primitive(arrow.FixedWidthTypes.Timestamp_s, n, arrow.Int64Traits.CastToBytes(b.at)),
		primitive(arrow.PrimitiveTypes.Uint64, n, arrow.Uint64Traits.CastToBytes(b.cell)),
		primitive(arrow.PrimitiveTypes.Float32, n, arrow.Float32Traits.CastToBytes(b.lon)),
		primitive(arrow.PrimitiveTypes.Float32, n, arrow.Float32Traits.CastToBytes(b.lat)),
	}
	for i := range b.levels {
		cols = append(cols, primitive(arrow.PrimitiveTypes.Int32, n, arrow.Int32Traits.CastToBytes(b.levels[i])))
	}
	cols = append(cols, primitive(arrow.PrimitiveTypes.Uint32, n, arrow.Uint32Traits.CastToBytes(b.rkey)),
		primitive(arrow.PrimitiveTypes.Uint16, n, arrow.Uint16Traits.CastToBytes(b.killed)),
		primitive(arrow.PrimitiveTypes.Uint16, n, arrow.Uint16Traits.CastToBytes(b.injured)),
		dictArray(arrow.PrimitiveTypes.Uint8, primitive(arrow.PrimitiveTypes.Uint8, n, arrow.Uint8Traits.CastToBytes(b.vehicle)), b.vehicles),
		dictArray(arrow.PrimitiveTypes.Uint16, primitive(arrow.PrimitiveTypes.Uint16, n, arrow.Uint16Traits.CastToBytes(b.article)), b.articles))
	s.vehicles, s.articles = b.vehicles, b.articles
	s.record = array.NewRecordBatch(s.schema, cols, int64(n))
	for _, c := range cols {
		c.Release() // the record holds its own reference
	}
	s.bindColumns()
	return s
}

// snapshotSchema is the schema of Snapshot.Record.
func snapshotSchema() *arrow.Schema {
	unitMeta := func(level geo.Level) arrow.Metadata {
		return arrow.NewMetadata([]string{"crimemap.unit_level", "crimemap.unassigned"}, []string{string(level), "-1"})
	}
	return arrow.NewSchema([]arrow.Field{
		{Name: ColKind, Type: arrow.PrimitiveTypes.Uint8},
		{Name: ColCategory, Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Uint16, ValueType: arrow.BinaryTypes.String}},
		{Name: ColSeverity, Type: arrow.PrimitiveTypes.Uint8},
		{Name: ColFlags, Type: arrow.PrimitiveTypes.Uint16},
		{Name: ColOccurredAt, Type: arrow.FixedWidthTypes.Timestamp_s},
		{Name: ColCell, Type: arrow.PrimitiveTypes.Uint64, Metadata: arrow.NewMetadata([]string{"crimemap.h3_resolution"}, []string{"10"})},
		{Name: ColLon, Type: arrow.PrimitiveTypes.Float32},
		{Name: ColLat, Type: arrow.PrimitiveTypes.Float32},
		{Name: ColRegion, Type: arrow.PrimitiveTypes.Int32, Metadata: unitMeta(geo.LevelRegion)},
		{Name: ColDistrict, Type: arrow.PrimitiveTypes.Int32, Metadata: unitMeta(geo.LevelDistrict)},
		{Name: ColMahalla, Type: arrow.PrimitiveTypes.Int32, Metadata: unitMeta(geo.LevelMahalla)},
		{Name: ColRecordKey, Type: arrow.PrimitiveTypes.Uint32},
		{Name: ColKilled, Type: arrow.PrimitiveTypes.Uint16},
		{Name: ColInjured, Type: arrow.PrimitiveTypes.Uint16},
		{Name: ColVehicle, Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Uint8, ValueType: arrow.BinaryTypes.String}},
		{Name: ColArticle, Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Uint16, ValueType: arrow.BinaryTypes.String}},
	}, nil)
}

// primitive wraps Go memory as a fixed-width Arrow array without nulls.
func primitive(dt arrow.DataType, n int, values []byte) arrow.Array {
	d := array.NewData(dt, n, []*memory.Buffer{nil, memory.NewBufferBytes(values)}, nil, 0, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

// dictArray builds a dictionary-encoded string column from its index
// array (released here) and dictionary.
func dictArray(indexType arrow.DataType, indices arrow.Array, dict []string) arrow.Array {
	defer indices.Release()
	values := stringArray(dict)
	defer values.Release()
	return array.NewDictionaryArray(&arrow.DictionaryType{IndexType: indexType, ValueType: arrow.BinaryTypes.String}, indices, values)
}

// stringArray is dict as an Arrow string array.
func stringArray(dict []string) arrow.Array {
	offsets := make([]int32, len(dict)+1)
	var sb strings.Builder
	for i, c := range dict {
		sb.WriteString(c)
		offsets[i+1] = int32(sb.Len())
	}
	dd := array.NewData(arrow.BinaryTypes.String, len(dict),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offsets)), memory.NewBufferBytes([]byte(sb.String()))}, nil, 0, 0)
	defer dd.Release()
	return array.MakeFromData(dd)
}

// categoryArray builds the dictionary-encoded category column.
func categoryArray(idx []uint16, dict []string) arrow.Array {
	return dictArray(arrow.PrimitiveTypes.Uint16, primitive(arrow.PrimitiveTypes.Uint16, len(idx), arrow.Uint16Traits.CastToBytes(idx)), dict)
}

// sortPerm returns the permutation that sorts at stably, or nil when at
// is already sorted. Spans below 2^32 seconds (136 years) use an LSD radix
// sort on 32-bit keys; wider spans fall back to a comparison sort.
func sortPerm(at []int64) []uint32 {
	n := len(at)
	if n < 2 || slices.IsSorted(at) {
		return nil
	}
	minAt, maxAt := slices.Min(at), slices.Max(at)
	perm := make([]uint32, n)
	for i := range perm {
		perm[i] = uint32(i)
	}
	if uint64(maxAt-minAt) >= 1<<32 {
		slices.SortStableFunc(perm, func(x, y uint32) int {
			switch {
			case at[x] < at[y]:
				return -1
			case at[x] > at[y]:
				return 1
			}
			return 0
		})
		return perm
	}
	span := uint64(maxAt - minAt)
	keys := make([]uint32, n)
	for i, t := range at {
		keys[i] = uint32(t - minAt)
	}
	const bits = 11
	const buckets = 1 << bits
	keys2 := make([]uint32, n)
	perm2 := make([]uint32, n)
	var count [buckets + 1]int
	for shift := 0; span>>shift > 0; shift += bits {
		clear(count[:])
		for _, k := range keys {
			count[(k>>shift)&(buckets-1)+1]++
		}
		for i := 1; i <= buckets; i++ {
			count[i] += count[i-1]
		}
		for i, k := range keys {
			d := (k >> shift) & (buckets - 1)
			j := count[d]
			count[d]++
			keys2[j], perm2[j] = k, perm[i]
		}
		keys, keys2 = keys2, keys
		perm, perm2 = perm2, perm
	}
	return perm
}

// gatherUnits reorders unit indexes by perm (nil: keep the order) and
// maps them through remap (-1 stays -1), in place when perm is nil.
func gatherUnits(src []int32, perm []uint32, remap []int32) []int32 {
	out := src
	if perm != nil {
		out = make([]int32, len(src))
		for i, p := range perm {
			out[i] = src[p]
		}
	}
	for i, u := range out {
		if u >= 0 {
			out[i] = remap[u]
		}
	}
	return out
}

// gather returns src reordered by perm, in a new slice.
func gather[T any](src []T, perm []uint32) []T {
	out := make([]T, len(src))
	for i, p := range perm {
		out[i] = src[p]
	}
	return out
}
