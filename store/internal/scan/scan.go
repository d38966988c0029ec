// Package scan holds the allocation helpers both store backends use to
// stream events quickly (store.Store.ScanEvents): a string interner for
// low-cardinality columns and a slab allocator for unique ones.
package scan

import "unsafe"

// maxInterned caps an Strings map: past it, new values are allocated
// without being remembered (a column that is not low-cardinality after all
// must not grow the map without bound).
const maxInterned = 1 << 16

// slabSize is the size of the blocks unique strings are carved from.
const slabSize = 64 << 10

// Strings makes strings from byte slices with few allocations: Intern
// returns the same string for equal bytes (categories, unit codes,
// articles: a few hundred distinct values in a million rows), Unique copies
// into shared 64 KiB blocks (source ids: one allocation per block instead
// of per string). Blocks are never written after a string is cut from them,
// so the strings are ordinary immutable Go strings; a block stays alive as
// long as any of its strings does. The zero value is ready to use; not safe
// for concurrent use.
type Strings struct {
	m    map[string]string
	slab []byte
}

// Intern returns b as a string, the same one for equal bytes.
func (s *Strings) Intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if v, ok := s.m[string(b)]; ok { // no allocation for the lookup
		return v
	}
	v := string(b)
	if s.m == nil {
		s.m = make(map[string]string, 1024)
	}
	if len(s.m) < maxInterned {
		s.m[v] = v
	}
	return v
}

// Unique returns a copy of b as a string carved from a shared block.
func (s *Strings) Unique(b []byte) string {
	n := len(b)
	if n == 0 {
		return ""
	}
	if n > slabSize/8 {
		return string(b)
	}
	if cap(s.slab)-len(s.slab) < n {
		s.slab = make([]byte, 0, slabSize)
	}
	start := len(s.slab)
	s.slab = append(s.slab, b...)
	return unsafe.String(&s.slab[start], n)
}
