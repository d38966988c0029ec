package analytics

import (
	"fmt"
	"math/bits"
	"runtime"
	"sync"
)

// Hexbin resolutions a query may ask for.
const (
	MinHexbinRes = 5
	MaxHexbinRes = 10
)

// Hexbins counts the matching events of q.Period per H3 cell at q.Res
// (geo.LatLngToCell of each event's coordinates, see CellsAt), sorted by
// cell.
// Events without a location are counted in NoLocation.
func (s *Snapshot) Hexbins(q HexbinQuery) (HexbinResult, error) {
	res := HexbinResult{Snapshot: s.version, Res: q.Res}
	if q.Res < MinHexbinRes || q.Res > MaxHexbinRes {
		return res, fmt.Errorf("%w: res %d: want %d..%d", ErrBadQuery, q.Res, MinHexbinRes, MaxHexbinRes)
	}
	if err := checkPeriod(q.Period, "period"); err != nil {
		return res, err
	}
	m, err := s.compile(q.Filter)
	if err != nil {
		return res, err
	}
	lo, hi := s.rowRange(q.Period.From, q.Period.To)

	t := s.cellTable()
	defer s.tables.Put(t)
	if hi-lo < parallelRows || runtime.GOMAXPROCS(0) < 2 {
		res.NoLocation = s.countCells(m, lo, hi, q.Res, t)
	} else {
		mid := lo + (hi-lo)/2
		t2 := s.cellTable()
		defer s.tables.Put(t2)
		var nl2 int64
		var wg sync.WaitGroup
		wg.Go(func() { nl2 = s.countCells(m, mid, hi, q.Res, t2) })
		res.NoLocation = s.countCells(m, lo, mid, q.Res, t)
		wg.Wait()
		res.NoLocation += nl2
		t.merge(t2)
	}
	res.Bins = t.sortedBins()
	return res, nil
}

// cellTable returns an empty table from the snapshot's pool: a hexbin
// query reuses the memory of earlier ones (about 1 MiB for 30,000 bins)
// instead of allocating and growing its tables again.
func (s *Snapshot) cellTable() *cellTable {
	if t, ok := s.tables.Get().(*cellTable); ok {
		t.reset()
		return t
	}
	return &cellTable{}
}

// countCells adds the cells at res of the matching located rows of
// [lo, hi) to t and returns the number of matching rows without location.
func (s *Snapshot) countCells(m *matcher, lo, hi, res int, t *cellTable) int64 {
	var noLoc int64
	rd := s.CellsAt(res).Reader(lo)
	m.each(lo, hi, func(sel []int32) {
		for _, r := range sel {
			c := rd.At(r)
			if c == 0 {
				noLoc++
				continue
			}
			t.add(c, 1)
		}
	})
	return noLoc
}

// cellTable is an open-addressing hash table from a non-zero H3 cell to a
// count (linear probing, load factor <= 1/2): faster than a Go map for the
// ~10^5 bins of a query.
type cellTable struct {
	keys  []uint64 // 0 = empty slot
	vals  []int64
	n     int
	shift uint
}

func (t *cellTable) add(k uint64, v int64) {
	if 2*(t.n+1) > len(t.keys) {
		t.grow()
	}
	mask := len(t.keys) - 1
	// Fibonacci hashing of the cell; the low bits of parents are all 1s.
	i := int((k * 0x9E3779B97F4A7C15) >> t.shift)
	for {
		switch t.keys[i] {
		case k:
			t.vals[i] += v
			return
		case 0:
			t.keys[i], t.vals[i] = k, v
			t.n++
			return
		}
		i = (i + 1) & mask
	}
}

func (t *cellTable) grow() {
	size := max(1024, 2*len(t.keys))
	old, oldVals := t.keys, t.vals
	t.keys, t.vals, t.n = make([]uint64, size), make([]int64, size), 0
	t.shift = 64 - uint(bits.Len(uint(size-1)))
	for i, k := range old {
		if k != 0 {
			t.add(k, oldVals[i])
		}
	}
}

// reset empties the table, keeping its memory.
func (t *cellTable) reset() {
	if t.n > 0 {
		clear(t.keys)
		clear(t.vals)
		t.n = 0
	}
}

// sortedBins returns the table's cells and counts sorted by cell: an LSD
// radix sort on the key bits that vary (cells of one resolution share their
// mode, resolution and unused-digit bits), radixBits per pass, several
// times faster than a comparison sort of the bins.
func (t *cellTable) sortedBins() []Hexbin {
	keys, vals := make([]uint64, 0, t.n), make([]int64, 0, t.n)
	and, or := ^uint64(0), uint64(0)
	for i, k := range t.keys {
		if k != 0 {
			keys, vals = append(keys, k), append(vals, t.vals[i])
			and &= k
			or |= k
		}
	}
	if vary := and ^ or; vary != 0 {
		const radixBits = 11
		var count [1<<radixBits + 1]int
		k2, v2 := make([]uint64, len(keys)), make([]int64, len(keys))
		for shift := bits.TrailingZeros64(vary); shift < 64-bits.LeadingZeros64(vary); shift += radixBits {
			clear(count[:])
			for _, k := range keys {
				count[(k>>shift)&(1<<radixBits-1)+1]++
			}
			for d := 1; d < len(count); d++ {
				count[d] += count[d-1]
			}
			for i, k := range keys {
				d := (k >> shift) & (1<<radixBits - 1)
				j := count[d]
				count[d]++
				k2[j], v2[j] = k, vals[i]
			}
			keys, k2, vals, v2 = k2, keys, v2, vals
		}
	}
	bins := make([]Hexbin, len(keys))
	for i, k := range keys {
		bins[i] = Hexbin{Cell: k, Count: vals[i]}
	}
	return bins
}

func (t *cellTable) merge(o *cellTable) {
	for i, k := range o.keys {
		if k != 0 {
			t.add(k, o.vals[i])
		}
	}
}
