package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store/internal/scan"
	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// ScanEvents calls fn for every stored event; the *Event is reused between
// calls. It stops at fn's first error and returns it. All events come from
// one read snapshot.
//
// It is the source of in-memory snapshots, so it is built for throughput:
// it bypasses database/sql and the driver's per-column driver.Value boxing
// and reads the columns straight from the SQLite C API (modernc.org/sqlite/lib)
// on connections of its own, opened for the scan: integers and reals
// unboxed, the time as integer microseconds, strings of the low-cardinality
// columns interned and source ids carved from shared blocks, so a full scan
// makes a few hundred allocations, not millions. Decoding a row costs
// about 1 us on one core, so a table of more than scanSplitRows is read in
// scanParts rowid ranges, each on its own connection, all in the read
// snapshot of the first (sqlite3_snapshot_get/open, WAL mode), decoded
// concurrently and handed to fn in id order within each range.
func (s *Store) ScanEvents(ctx context.Context, fn func(*analytics.Event) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite scan events: %w", err)
	}
	c, err := openRaw(s.path)
	if err != nil {
		return fmt.Errorf("sqlite scan events: %w", err)
	}
	defer c.close()
	// One read transaction: the id range read here and every part.
	if err := c.exec("BEGIN"); err != nil {
		return fmt.Errorf("sqlite scan events: %w", err)
	}
	defer c.exec("COMMIT") //nolint:errcheck // ends a read transaction
	lo, hi, err := c.idRange()
	if err != nil {
		return fmt.Errorf("sqlite scan events: %w", err)
	}
	if hi-lo < scanSplitRows {
		return scanIDs(ctx, c, lo, hi+1, fn)
	}
	conns := []*rawConn{c}
	defer func() {
		for _, o := range conns[1:] {
			o.exec("COMMIT") //nolint:errcheck // ends a read transaction
			o.close()
		}
	}()
	if err := c.shareSnapshot(scanParts-1, &conns); err != nil {
		// SQLite gives no snapshot of a WAL without frames (a database
		// checkpointed and closed by its last writer): read on the one
		// connection, which is consistent, only slower.
		s.log.Debug("sqlite scan events: no shared read snapshot (an empty WAL), scanning on one connection", "err", err)
		conns = conns[:1]
	}
	n := int64(len(conns))
	return scan.Parallel(ctx, len(conns), func(ctx context.Context, part int, p *scan.Parts) error {
		from, to := lo+(hi+1-lo)*int64(part)/n, lo+(hi+1-lo)*int64(part+1)/n
		b := p.Batch()
		err := scanIDs(ctx, conns[part], from, to, func(e *analytics.Event) error {
			b = append(b, *e)
			if len(b) == cap(b) {
				if !p.Send(b) {
					return ctx.Err() // the scan is over
				}
				b = p.Batch()
			}
			return nil
		})
		if err != nil {
			return err
		}
		p.Send(b)
		return ctx.Err()
	}, fn)
}

// Parallel scan settings: tables spanning at least scanSplitRows ids are
// read in scanParts parts.
const (
	scanSplitRows = 40_000
	scanParts     = 2
)

// scanIDs decodes the events with ids in [from, to) in id order on c and
// calls fn on each (the *Event reused), stopping at fn's first error.
func scanIDs(ctx context.Context, c *rawConn, from, to int64, fn func(*analytics.Event) error) error {
	stmt, err := c.prepare(`SELECT ` + eventCols + ` FROM events WHERE id >= ? AND id < ?`)
	if err != nil {
		return fmt.Errorf("sqlite scan events: %w", err)
	}
	defer sqlite3.Xsqlite3_finalize(c.tls, stmt)
	tls := c.tls
	sqlite3.Xsqlite3_bind_int64(tls, stmt, 1, from)
	sqlite3.Xsqlite3_bind_int64(tls, stmt, 2, to)
	var (
		e     analytics.Event
		cells analytics.HexCells
		str   scan.Strings
	)
	for n := 0; ; n++ {
		if n&4095 == 4095 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("sqlite scan events: %w", err)
			}
		}
		switch rc := sqlite3.Xsqlite3_step(tls, stmt); rc {
		case sqlite3.SQLITE_ROW:
		case sqlite3.SQLITE_DONE:
			return nil
		default:
			return fmt.Errorf("sqlite scan events: %w", c.err(rc))
		}
		e.Kind = analytics.Kind(sqlite3.Xsqlite3_column_int64(tls, stmt, 0))
		e.SourceID = str.Unique(c.text(stmt, 1))
		e.OccurredAt = time.UnixMicro(sqlite3.Xsqlite3_column_int64(tls, stmt, 2)).UTC()
		e.HasLocation = sqlite3.Xsqlite3_column_type(tls, stmt, 3) != sqlite3.SQLITE_NULL &&
			sqlite3.Xsqlite3_column_type(tls, stmt, 4) != sqlite3.SQLITE_NULL
		e.Lon, e.Lat = 0, 0
		if e.HasLocation {
			e.Lon = sqlite3.Xsqlite3_column_double(tls, stmt, 3)
			e.Lat = sqlite3.Xsqlite3_column_double(tls, stmt, 4)
		}
		e.Cell = uint64(sqlite3.Xsqlite3_column_int64(tls, stmt, 5)) // NULL reads 0
		e.Category = str.Intern(c.text(stmt, 6))
		e.Region = str.Intern(c.text(stmt, 7))
		e.District = str.Intern(c.text(stmt, 8))
		e.Mahalla = str.Intern(c.text(stmt, 9))
		e.Article = str.Intern(c.text(stmt, 10))
		e.Severity = analytics.Severity(sqlite3.Xsqlite3_column_int64(tls, stmt, 11))
		e.Flags = analytics.Flags(sqlite3.Xsqlite3_column_int64(tls, stmt, 12))
		e.Killed = int32(sqlite3.Xsqlite3_column_int64(tls, stmt, 13))
		e.Injured = int32(sqlite3.Xsqlite3_column_int64(tls, stmt, 14))
		e.Vehicle = str.Intern(c.text(stmt, 15))
		e.Fine = sqlite3.Xsqlite3_column_double(tls, stmt, 16)
		if err := cells.SetCompact(uint64(sqlite3.Xsqlite3_column_int64(tls, stmt, 17)), c.blob(stmt, 18)); err != nil {
			return fmt.Errorf("sqlite scan events: event %q: %w", e.SourceID, err)
		}
		e.SetCells(cells)
		if err := fn(&e); err != nil {
			return err
		}
	}
}

// idRange returns the smallest and largest event id (0, -1 without events),
// starting c's read transaction.
func (c *rawConn) idRange() (lo, hi int64, err error) {
	stmt, err := c.prepare(`SELECT coalesce(min(id), 0), coalesce(max(id), -1) FROM events`)
	if err != nil {
		return 0, 0, err
	}
	defer sqlite3.Xsqlite3_finalize(c.tls, stmt)
	if rc := sqlite3.Xsqlite3_step(c.tls, stmt); rc != sqlite3.SQLITE_ROW {
		return 0, 0, c.err(rc)
	}
	return sqlite3.Xsqlite3_column_int64(c.tls, stmt, 0), sqlite3.Xsqlite3_column_int64(c.tls, stmt, 1), nil
}

// shareSnapshot opens n more connections, each in a read transaction on
// the snapshot c reads (c must be in a read transaction), and appends them
// to conns.
func (c *rawConn) shareSnapshot(n int, conns *[]*rawConn) error {
	main, err := libc.CString("main")
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, main)
	psnap := libc.Xmalloc(c.tls, 8)
	if psnap == 0 {
		return errors.New("out of memory")
	}
	defer libc.Xfree(c.tls, psnap)
	*(*uintptr)(cptr(psnap)) = 0
	if rc := sqlite3.Xsqlite3_snapshot_get(c.tls, c.db, main, psnap); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("snapshot: %w", c.err(rc))
	}
	snap := *(*uintptr)(cptr(psnap))
	defer sqlite3.Xsqlite3_snapshot_free(c.tls, snap)
	for range n {
		o, err := openRaw(c.path)
		if err != nil {
			return err
		}
		*conns = append(*conns, o)
		// A first read opens the WAL, which snapshot_open needs; then a
		// transaction without a read yet, which it starts on the snapshot.
		if err := o.exec("SELECT 1 FROM sqlite_schema LIMIT 1; BEGIN"); err != nil {
			return err
		}
		if rc := sqlite3.Xsqlite3_snapshot_open(o.tls, o.db, main, snap); rc != sqlite3.SQLITE_OK {
			return fmt.Errorf("snapshot open: %w", o.err(rc))
		}
	}
	return nil
}

// rawConn is a connection through the SQLite C API, for ScanEvents. Use it
// from one goroutine at a time.
type rawConn struct {
	tls  *libc.TLS
	db   uintptr
	path string
}

// openRaw opens path read-write (without creating it: the store's WAL
// database needs its shared-memory file writable even to read) with the
// store's busy timeout.
func openRaw(path string) (_ *rawConn, err error) {
	c := &rawConn{tls: libc.NewTLS(), path: path}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	name, err := libc.CString(path)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, name)
	pdb := libc.Xmalloc(c.tls, 8)
	if pdb == 0 {
		return nil, errors.New("out of memory")
	}
	defer libc.Xfree(c.tls, pdb)
	*(*uintptr)(cptr(pdb)) = 0
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pdb, sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	c.db = *(*uintptr)(cptr(pdb))
	if rc != sqlite3.SQLITE_OK {
		return nil, fmt.Errorf("open %s: %w", path, c.err(rc))
	}
	sqlite3.Xsqlite3_busy_timeout(c.tls, c.db, busyTimeout)
	return c, nil
}

// busyTimeout is busyTimeoutMS as a number.
const busyTimeout = 10000

func (c *rawConn) close() {
	if c.db != 0 {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
		c.db = 0
	}
	c.tls.Close()
}

// prepare compiles one statement.
func (c *rawConn) prepare(query string) (uintptr, error) {
	q, err := libc.CString(query)
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(c.tls, q)
	pstmt := libc.Xmalloc(c.tls, 8)
	if pstmt == 0 {
		return 0, errors.New("out of memory")
	}
	defer libc.Xfree(c.tls, pstmt)
	if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, q, -1, pstmt, 0); rc != sqlite3.SQLITE_OK {
		return 0, c.err(rc)
	}
	return *(*uintptr)(cptr(pstmt)), nil
}

// exec runs a statement without results.
func (c *rawConn) exec(query string) error {
	q, err := libc.CString(query)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, q)
	if rc := sqlite3.Xsqlite3_exec(c.tls, c.db, q, 0, 0, 0); rc != sqlite3.SQLITE_OK {
		return c.err(rc)
	}
	return nil
}

// text returns column i of the current row as bytes owned by SQLite, valid
// until the next step; nil for NULL or empty.
func (c *rawConn) text(stmt uintptr, i int32) []byte {
	return c.bytes(stmt, i, sqlite3.Xsqlite3_column_text(c.tls, stmt, i))
}

// blob is text for a BLOB column.
func (c *rawConn) blob(stmt uintptr, i int32) []byte {
	return c.bytes(stmt, i, sqlite3.Xsqlite3_column_blob(c.tls, stmt, i))
}

// bytes wraps the value p of column i (as column_text or column_blob
// returned it) without copying.
func (c *rawConn) bytes(stmt uintptr, i int32, p uintptr) []byte {
	if p == 0 {
		return nil
	}
	n := sqlite3.Xsqlite3_column_bytes(c.tls, stmt, i)
	if n <= 0 || n > math.MaxInt32 {
		return nil
	}
	return unsafe.Slice((*byte)(cptr(p)), n)
}

func (c *rawConn) err(rc int32) error {
	msg := ""
	if c.db != 0 {
		msg = libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))
	}
	return fmt.Errorf("sqlite error %d: %s", rc, msg)
}

// cptr converts an address of C memory (allocated by SQLite through
// modernc.org/libc, outside the Go heap, so the garbage collector neither
// moves nor frees it) to a pointer.
func cptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }
