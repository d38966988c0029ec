package postgis_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/migrations"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/postgis"
	"github.com/crimemap/crimemap/store/postgis/pgquery"
	"github.com/crimemap/crimemap/store/postgis/pgtest"
	"github.com/crimemap/crimemap/store/postgis/pgtiles"
	"github.com/crimemap/crimemap/store/storetest"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for goose
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/pressly/goose/v3"
	"github.com/uber/h3-go/v4"
)

// The stored cell columns, resolution 5 first.
const (
	minRes   = 5
	maxRes   = 10
	cellCols = "h3_r5, h3_r6, h3_r7, h3_r8, h3_r9, h3_r10"
)

// refCell is the reference: h3-go's LatLngToCell.
func refCell(lat, lon float64, res int) int64 {
	return int64(h3.LatLngToCell(h3.NewLatLng(lat, lon), res))
}

// checkStoredCells checks every stored event: h3_rN is h3-go's
// LatLngToCell of its stored lon/lat at N for a located event, NULL
// otherwise. It returns the number of located events.
func checkStoredCells(t *testing.T, s *postgis.Store) int {
	t.Helper()
	rows, err := s.Pool().Query(t.Context(), `SELECT source_id, lon, lat, `+cellCols+` FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	located, bad := 0, 0
	for rows.Next() {
		var (
			id       string
			lon, lat *float64
			cells    [maxRes - minRes + 1]*int64
		)
		dest := []any{&id, &lon, &lat}
		for i := range cells {
			dest = append(dest, &cells[i])
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		if lon != nil {
			located++
		}
		for i, c := range cells {
			res := minRes + i
			switch {
			case lon == nil && c != nil:
				t.Errorf("%s: no location but h3_r%d = %x", id, res, *c)
			case lon != nil && c == nil:
				t.Errorf("%s (%v, %v): h3_r%d is NULL", id, *lat, *lon, res)
			case lon != nil && *c != refCell(*lat, *lon, res):
				t.Errorf("%s (%.17g, %.17g): h3_r%d = %x, h3-go LatLngToCell gives %x", id, *lat, *lon, res, *c, refCell(*lat, *lon, res))
			default:
				continue
			}
			if bad++; bad > 20 {
				t.Fatal("too many errors")
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return located
}

// missingCells counts the located events without cells.
func missingCells(t *testing.T, s *postgis.Store) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(t.Context(), `SELECT count(*) FROM events WHERE h3_r10 IS NULL AND geom IS NOT NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// cellTestPoints are (lat, lon) points for the cell tests: uniform on the
// sphere, dense over Uzbekistan, and hard cases (poles, the antimeridian,
// pentagon centres and points next to them, vertices of cells).
func cellTestPoints() [][2]float64 {
	r := rand.New(rand.NewPCG(15, 10))
	var pts [][2]float64
	for range 2000 {
		pts = append(pts, [2]float64{math.Asin(2*r.Float64()-1) * 180 / math.Pi, 360*r.Float64() - 180})
	}
	for range 1500 {
		pts = append(pts, [2]float64{37 + 8*r.Float64(), 56 + 17*r.Float64()})
	}
	pts = append(pts, [2]float64{0, 0}, [2]float64{90, 0}, [2]float64{-90, 0}, [2]float64{0, 180},
		[2]float64{0, -180}, [2]float64{89.99999, 179.99999}, [2]float64{-89.99999, -179.99999},
		[2]float64{41.311081, 69.240562}, [2]float64{38.86, 65.79})
	for _, p := range h3.Pentagons(maxRes) {
		ll := p.LatLng()
		pts = append(pts, [2]float64{ll.Lat, ll.Lng})
		for _, d := range [][2]float64{{1e-4, 0}, {-1e-4, 0}, {0, 1e-4}, {0, -1e-4}, {0.05, 0.05}, {-0.05, 0.05}} {
			pts = append(pts, [2]float64{ll.Lat + d[0], ll.Lng + d[1]})
		}
	}
	// Vertices of a few cells: points on cell edges at several resolutions.
	for i, res := range []int{5, 8, 10} {
		c := h3.LatLngToCell(h3.NewLatLng(41.0+0.1*float64(i), 69.0+0.1*float64(i)), res)
		for _, v := range c.Boundary() {
			pts = append(pts, [2]float64{v.Lat, v.Lng})
		}
	}
	return pts
}

// eventsAt returns one event per point (kinds in turn), and without
// location those whose index is a multiple of noLocEvery. Every other
// event comes with its cells (SetLocation, as ingest makes them), the
// others with coordinates only (the store computes the cells).
func eventsAt(prefix string, pts [][2]float64, noLocEvery int) []analytics.Event {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	out := make([]analytics.Event, len(pts))
	for i, p := range pts {
		e := &out[i]
		e.Kind = analytics.Kinds[i%len(analytics.Kinds)]
		e.SourceID = fmt.Sprintf("%s-%d", prefix, i)
		e.OccurredAt = at.Add(time.Duration(i) * time.Minute)
		e.Category = "theft"
		if noLocEvery > 0 && i%noLocEvery == 0 {
			continue
		}
		if i%2 == 0 {
			_ = e.SetLocation(p[0], p[1]) // finite
			continue
		}
		e.HasLocation, e.Lat, e.Lon = true, p[0], p[1]
		e.Cell, _ = geo.LatLngToCell(p[0], p[1], geo.EventResolution)
	}
	return out
}

// TestPutEventsStoresCells checks every write path stores the cells
// LatLngToCell gives at res 5..10: the COPY fast path, the merge path
// (new events, moved events, events gaining or losing their location),
// and a re-put that restores cells a hand edit removed.
func TestPutEventsStoresCells(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	pts := cellTestPoints()
	events := eventsAt("p", pts, 50)
	r, err := s.PutEvents(ctx, events)
	if err != nil || r.Inserted != len(events) {
		t.Fatalf("PutEvents: %+v, %v", r, err)
	}
	located := checkStoredCells(t, s)
	if want := len(events) - (len(events)+49)/50; located != want {
		t.Errorf("%d located events stored, want %d", located, want)
	}
	if n := missingCells(t, s); n != 0 {
		t.Errorf("%d located events without cells after the COPY path", n)
	}

	// Merge path: move every other located event, swap located and
	// unlocated ones, add new events.
	rnd := rand.New(rand.NewPCG(7, 8))
	changed := slices.Clone(events)
	moved, toNoLoc, toLoc := 0, 0, 0
	for i := range changed {
		e := &changed[i]
		switch {
		case !e.HasLocation && toLoc < 10:
			e.HasLocation, e.Lat, e.Lon = true, 40+rnd.Float64(), 68+rnd.Float64()
			toLoc++
		case e.HasLocation && i%7 == 3 && toNoLoc < 10:
			e.HasLocation, e.Lat, e.Lon, e.Cell = false, 0, 0, 0
			toNoLoc++
		case e.HasLocation && i%2 == 0:
			e.Lat = math.Max(-90, math.Min(90, e.Lat+(rnd.Float64()-0.5)*0.02))
			e.Lon = math.Max(-180, math.Min(180, e.Lon+(rnd.Float64()-0.5)*0.02))
			moved++
		default:
			continue
		}
		e.Cell = 0
		if e.HasLocation {
			e.Cell, _ = geo.LatLngToCell(e.Lat, e.Lon, geo.EventResolution)
		}
	}
	fresh := eventsAt("q", pts[:300], 40)
	r, err = s.PutEvents(ctx, append(changed, fresh...))
	if err != nil {
		t.Fatal(err)
	}
	if r.Inserted != len(fresh) || r.Updated != moved+toNoLoc+toLoc {
		t.Errorf("merge: %+v, want %d inserted, %d updated", r, len(fresh), moved+toNoLoc+toLoc)
	}
	checkStoredCells(t, s)
	if n := missingCells(t, s); n != 0 {
		t.Errorf("%d located events without cells after the merge path", n)
	}

	// A stored row without its cells (a hand edit) differs from the same
	// event put again: the merge writes the cells back.
	tag, err := s.Pool().Exec(ctx, `UPDATE events SET h3_r5 = NULL, h3_r6 = NULL, h3_r7 = NULL, h3_r8 = NULL, h3_r9 = NULL, h3_r10 = NULL
WHERE id IN (SELECT id FROM events WHERE lon IS NOT NULL ORDER BY id LIMIT 5)`)
	if err != nil || tag.RowsAffected() != 5 {
		t.Fatalf("null cells: %v, %v", tag, err)
	}
	r, err = s.PutEvents(ctx, append(changed, fresh...))
	if err != nil || r.Updated != 5 || r.Inserted != 0 {
		t.Errorf("re-put over rows without cells: %+v, %v; want 5 updated", r, err)
	}
	checkStoredCells(t, s)

	// The QGIS kind views show the same cells.
	for _, v := range []string{"crimes", "accidents", "offences"} {
		var n int
		err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
WHERE table_name = $1 AND column_name = ANY($2::text[]) AND data_type = 'bigint'`,
			v, []string{"h3_r5", "h3_r6", "h3_r7", "h3_r8", "h3_r9", "h3_r10"}).Scan(&n)
		if err != nil || n != 6 {
			t.Errorf("view %s: %d bigint cell columns (%v), want 6", v, n, err)
		}
		err = s.Pool().QueryRow(ctx, `SELECT count(*) FROM `+v+` w JOIN events e USING (id)
WHERE (w.h3_r5, w.h3_r6, w.h3_r7, w.h3_r8, w.h3_r9, w.h3_r10) IS DISTINCT FROM (e.h3_r5, e.h3_r6, e.h3_r7, e.h3_r8, e.h3_r9, e.h3_r10)`).Scan(&n)
		if err != nil || n != 0 {
			t.Errorf("view %s: %d rows with other cells than events (%v)", v, n, err)
		}
	}
}

// cancelOnLog is a slog handler that calls cancel at the first record
// with message msg.
type cancelOnLog struct {
	msg    string
	mu     sync.Mutex
	cancel context.CancelFunc
}

func (h *cancelOnLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *cancelOnLog) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Message == h.msg && h.cancel != nil {
		h.cancel()
		h.cancel = nil
	}
	return nil
}
func (h *cancelOnLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *cancelOnLog) WithGroup(string) slog.Handler      { return h }

// TestBackfillCells checks rows stored without cells (before migration
// 00006) get them on Open, in batches, resumably, with one data version
// bump, and that an Open with nothing to fill changes nothing.
func TestBackfillCells(t *testing.T) {
	h := &cancelOnLog{msg: "postgis: H3 cells computed"}
	url := pgtest.URL(t)
	ctx := t.Context()
	s, err := postgis.Open(ctx, url, slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	events := storetest.SyntheticEvents(5000, 31)
	if _, err := s.PutEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	located := checkStoredCells(t, s)
	nullAll := func() {
		t.Helper()
		tag, err := s.Pool().Exec(ctx, `UPDATE events SET h3_r5 = NULL, h3_r6 = NULL, h3_r7 = NULL, h3_r8 = NULL, h3_r9 = NULL, h3_r10 = NULL`)
		if err != nil || tag.RowsAffected() != int64(len(events)) {
			t.Fatalf("null cells: %v, %v", tag, err)
		}
		if n := missingCells(t, s); n != located {
			t.Fatalf("%d located events without cells, want %d", n, located)
		}
	}
	version := func() int64 {
		t.Helper()
		v, err := s.DataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	// Open fills them (one batch).
	nullAll()
	v0 := version()
	s2, err := postgis.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if n := missingCells(t, s); n != 0 {
		t.Errorf("%d located events without cells after Open", n)
	}
	checkStoredCells(t, s)
	if v := version(); v != v0+1 {
		t.Errorf("data version %d -> %d after the backfill, want one bump", v0, v)
	}
	// Nothing to fill: no write, no bump.
	s3, err := postgis.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	s3.Close()
	if v := version(); v != v0+1 {
		t.Errorf("data version %d -> %d after an Open with nothing to fill", v0+1, v)
	}

	// Small batches, interrupted after the first: the committed batch
	// stays, the next run finishes, and bumps once.
	nullAll()
	v1 := version()
	cctx, cancel := context.WithCancel(ctx)
	h.mu.Lock()
	h.cancel = cancel
	h.mu.Unlock()
	const batch = 700
	n, err := s.BackfillCells(cctx, batch)
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted backfill: %d, %v; want context.Canceled", n, err)
	}
	if n != batch || missingCells(t, s) != located-batch {
		t.Errorf("interrupted backfill updated %d, %d still missing; want %d, %d", n, missingCells(t, s), batch, located-batch)
	}
	if v := version(); v != v1 {
		t.Errorf("data version moved (%d -> %d) by an interrupted backfill", v1, v)
	}
	n, err = s.BackfillCells(ctx, batch)
	if err != nil || n != int64(located-batch) {
		t.Errorf("resumed backfill: %d, %v; want %d", n, err, located-batch)
	}
	if m := missingCells(t, s); m != 0 {
		t.Errorf("%d located events without cells after the resumed backfill", m)
	}
	checkStoredCells(t, s)
	if v := version(); v != v1+1 {
		t.Errorf("data version %d -> %d after the resumed backfill, want one bump", v1, v)
	}
}

// TestOpenMigratesOldDatabase opens a database at migration 00005 with
// events written there (no cell columns yet): Open adds the columns and
// fills them for every located event, bumping the data version.
func TestOpenMigratesOldDatabase(t *testing.T) {
	pgtest.URL(t) // skips (or fails) without a test server
	ctx := t.Context()
	base := os.Getenv(pgtest.EnvURL)
	name := fmt.Sprintf("crimemap_test_old_%d_%d", os.Getpid(), time.Now().UnixNano())
	adminExec(t, base, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		adminExec(t, base, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
	})
	url := pgtest.WithDatabase(base, name)

	// The schema as of migration 00005.
	old := fstest.MapFS{}
	err := fs.WalkDir(migrations.PostGIS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if v, _ := strconv.Atoi(path[:5]); v <= 5 {
			b, err := fs.ReadFile(migrations.PostGIS(), path)
			old[path] = &fstest.MapFile{Data: b}
			return err
		}
		return nil
	})
	if err != nil || len(old) != 5 {
		t.Fatalf("migrations up to 00005: %d files, %v", len(old), err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	pts := cellTestPoints()
	lats, lons := make([]*float64, len(pts)), make([]*float64, len(pts))
	located := 0
	for i := range pts {
		if i%25 != 0 {
			lats[i], lons[i] = &pts[i][0], &pts[i][1]
			located++
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO events (kind, source_id, occurred_at, lon, lat)
SELECT 1 + (i % 3), 'old-' || i, '2025-05-01T00:00:00Z'::timestamptz, lon, lat
FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(lon, lat, i)`, lons, lats); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := postgis.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := checkStoredCells(t, s); n != located {
		t.Errorf("%d located events, want %d", n, located)
	}
	if n := missingCells(t, s); n != 0 {
		t.Errorf("%d located events without cells after Open", n)
	}
	if v, err := s.DataVersion(ctx); err != nil || v != 2 {
		t.Errorf("data version %d (%v), want 2 (1 + the backfill)", v, err)
	}
}

func adminExec(t *testing.T, url, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Errorf("%s: %v", stmt, err)
	}
}

// chinozMahallas is the real Chinoz mahalla boundaries file (internal:
// read in place, never copied into the repository).
const chinozMahallas = "../../../shared/data/boundaries/uzb_mahalla_chinoz/chinoz_mahalla.geojson"

// TestHexbinsChinoz loads the real Chinoz mahallas, generates points inside
// them with ST_GeneratePoints (fixed seed), stores them as events and
// checks, at every hexbin resolution, that the SQL hexbins (pgquery) and
// the PostGIS hexbin tiles (pgtiles) count exactly what h3-go's
// LatLngToCell of the same coordinates gives.
func TestHexbinsChinoz(t *testing.T) {
	f, err := os.Open(chinozMahallas)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("real data not available: %s is absent (see ../shared/data/SOURCES.md)", chinozMahallas)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	units, _, err := geo.ReadBoundaries(t.Context(), f, geo.BoundaryOptions{Level: geo.LevelMahalla,
		Fields: map[string]string{"code": "mahalla_id", "parent_code": "code", "name_uz": "mahalla_nomi"}})
	if err != nil {
		t.Fatal(err)
	}
	s := open(t)
	ctx := t.Context()
	if _, err := s.PutUnits(ctx, units); err != nil {
		t.Fatal(err)
	}
	const perMahalla, seed = 70, 20250
	rows, err := s.Pool().Query(ctx, `SELECT u.code, ST_X(d.geom), ST_Y(d.geom)
FROM units u CROSS JOIN LATERAL ST_Dump(ST_GeneratePoints(u.geom, $1::int, $2::int)) d
WHERE u.level = 'mahalla' ORDER BY u.code, d.path`, perMahalla, seed)
	if err != nil {
		t.Fatal(err)
	}
	type point struct {
		code     string
		lon, lat float64
	}
	var pts []point
	for rows.Next() {
		var p point
		if err := rows.Scan(&p.code, &p.lon, &p.lat); err != nil {
			t.Fatal(err)
		}
		pts = append(pts, p)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(pts) != perMahalla*len(units) {
		t.Fatalf("%d points for %d mahallas, want %d", len(pts), len(units), perMahalla*len(units))
	}
	const noLoc = 40
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	events := make([]analytics.Event, 0, len(pts)+noLoc)
	for i, p := range pts {
		cell, err := geo.LatLngToCell(p.lat, p.lon, geo.EventResolution) // as ingest stores it
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, analytics.Event{Kind: analytics.Kinds[i%3], SourceID: fmt.Sprintf("chinoz-%d", i),
			OccurredAt: from.Add(time.Duration(i) * 97 * time.Minute), Category: "theft",
			HasLocation: true, Lon: p.lon, Lat: p.lat, Cell: cell,
			Region: "1727", District: "1727256", Mahalla: p.code})
	}
	for i := range noLoc {
		events = append(events, analytics.Event{Kind: analytics.KindCrime, SourceID: fmt.Sprintf("chinoz-noloc-%d", i),
			OccurredAt: from.Add(time.Duration(i) * time.Hour), Category: "fraud"})
	}
	// Two overlapping batches: COPY, then the merge path.
	if _, err := s.PutEvents(ctx, events[:len(events)*2/3]); err != nil {
		t.Fatal(err)
	}
	if r, err := s.PutEvents(ctx, events[len(events)/2:]); err != nil || r.Inserted != len(events)-len(events)*2/3 {
		t.Fatalf("second batch: %+v, %v", r, err)
	}

	per := analytics.Period{Label: "2025", From: from, To: from.AddDate(1, 0, 0)}
	want := make([]map[uint64]int64, maxRes+1) // h3-go, by resolution
	unit := pts[0].code
	wantUnitCrimes := map[uint64]int64{} // res 8, crimes of one mahalla
	differ := 0                          // events whose cell is not the parent of their res-15 cell
	for res := minRes; res <= maxRes; res++ {
		want[res] = map[uint64]int64{}
		for i, e := range events[:len(pts)] {
			c := uint64(refCell(e.Lat, e.Lon, res))
			want[res][c]++
			if c != geo.CellParent(e.Cell, res) {
				differ++
			}
			if res == 8 && e.Mahalla == unit && i%3 == 0 {
				wantUnitCrimes[c]++
			}
		}
	}
	t.Logf("%d mahallas, %d located events; %d (event, res) pairs where LatLngToCell is not the res-15 cell's parent", len(units), len(pts), differ)
	if differ == 0 {
		t.Error("no event whose cell differs from its res-15 cell's parent: the data does not exercise the difference")
	}

	eng := &pgquery.Engine{DB: s.Pool()}
	compare := func(name string, got analytics.HexbinResult, err error, want map[uint64]int64, noLoc int64) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.NoLocation != noLoc {
			t.Errorf("%s: NoLocation %d, want %d", name, got.NoLocation, noLoc)
		}
		if !slices.IsSortedFunc(got.Bins, func(a, b analytics.Hexbin) int { return cmpU64(a.Cell, b.Cell) }) {
			t.Errorf("%s: bins not sorted by cell", name)
		}
		gotM := map[uint64]int64{}
		for _, b := range got.Bins {
			gotM[b.Cell] = b.Count
		}
		diffCounts(t, name, gotM, want)
	}
	for res := minRes; res <= maxRes; res++ {
		got, err := eng.Hexbins(ctx, analytics.HexbinQuery{Res: res, Period: per})
		compare(fmt.Sprintf("pgquery res %d", res), got, err, want[res], noLoc)
	}
	got, err := eng.Hexbins(ctx, analytics.HexbinQuery{Res: 8, Period: per,
		Filter: analytics.Filter{Kinds: []analytics.Kind{analytics.KindCrime}, Unit: unit}})
	compare("pgquery res 8, crimes of "+unit, got, err, wantUnitCrimes, 0)

	// The service's own hexbins: the analytics snapshot built from this
	// store (what /v1/hexbins, the hexbin tiles and Gi* count).
	snap, err := analytics.BuildFromStore(ctx, s, func(ctx context.Context) ([]geo.Unit, error) {
		return s.Units(ctx, store.UnitQuery{})
	}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for res := minRes; res <= maxRes; res++ {
		got, err := snap.Hexbins(analytics.HexbinQuery{Res: res, Period: per})
		compare(fmt.Sprintf("snapshot res %d", res), got, err, want[res], noLoc)
	}
	got, err = snap.Hexbins(analytics.HexbinQuery{Res: 8, Period: per,
		Filter: analytics.Filter{Kinds: []analytics.Kind{analytics.KindCrime}, Unit: unit}})
	compare("snapshot res 8, crimes of "+unit, got, err, wantUnitCrimes, 0)
	for _, res := range []int{4, 11} {
		if _, err := eng.Hexbins(ctx, analytics.HexbinQuery{Res: res, Period: per}); !errors.Is(err, analytics.ErrBadQuery) {
			t.Errorf("pgquery res %d: %v, want ErrBadQuery", res, err)
		}
	}

	// Hexbin tiles: every tile at a zoom of each resolution over the
	// points; each cell is drawn once, in the tile holding its centre.
	var cells []uint64
	for res := minRes; res <= maxRes; res++ {
		for c := range want[res] {
			cells = append(cells, c)
		}
	}
	conn, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = pgtiles.Prepare(ctx, conn.Conn(), cells)
	conn.Release()
	if err != nil {
		t.Fatal(err)
	}
	var bound orb.Bound
	for i, p := range pts {
		if i == 0 {
			bound = orb.Bound{Min: orb.Point{p.lon, p.lat}, Max: orb.Point{p.lon, p.lat}}
		}
		bound = bound.Extend(orb.Point{p.lon, p.lat})
	}
	for _, z := range []int{6, 7, 8, 10, 12, 13} {
		res := pgtiles.HexResolution(z)
		m := 3 * h3.HexagonEdgeLengthAvgKm(res) / 111.32 / math.Cos(bound.Max[1]*math.Pi/180)
		lo := maptile.At(orb.Point{bound.Min[0] - m, bound.Max[1] + m}, maptile.Zoom(z))
		hi := maptile.At(orb.Point{bound.Max[0] + m, bound.Min[1] - m}, maptile.Zoom(z))
		gotM := map[uint64]int64{}
		tiles := 0
		for x := lo.X; x <= hi.X; x++ {
			for y := lo.Y; y <= hi.Y; y++ {
				tiles++
				q, err := pgtiles.Tile([]string{pgtiles.LayerHexbins}, z, int(x), int(y), pgtiles.Params{From: per.From, To: per.To})
				if err != nil {
					t.Fatal(err)
				}
				var b []byte
				if err := s.Pool().QueryRow(ctx, q.SQL, q.Args...).Scan(&b); err != nil {
					t.Fatalf("tile %d/%d/%d: %v", z, x, y, err)
				}
				if len(b) == 0 {
					continue
				}
				layers, err := mvt.Unmarshal(b)
				if err != nil {
					t.Fatalf("tile %d/%d/%d: %v", z, x, y, err)
				}
				for _, l := range layers {
					for _, f := range l.Features {
						c, err := strconv.ParseUint(f.Properties.MustString("h3"), 16, 64)
						if err != nil {
							t.Fatalf("tile %d/%d/%d: h3 %v: %v", z, x, y, f.Properties["h3"], err)
						}
						if r := int(f.Properties.MustFloat64("res")); r != res {
							t.Errorf("tile %d/%d/%d: res %d, want %d", z, x, y, r, res)
						}
						if _, dup := gotM[c]; dup {
							t.Errorf("zoom %d: cell %x drawn in two tiles", z, c)
						}
						gotM[c] = int64(f.Properties.MustFloat64("count"))
					}
				}
			}
		}
		t.Logf("zoom %d (res %d): %d tiles, %d cells", z, res, tiles, len(gotM))
		diffCounts(t, fmt.Sprintf("pgtiles zoom %d (res %d)", z, res), gotM, want[res])
	}
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// diffCounts reports the cells whose counts differ.
func diffCounts(t *testing.T, name string, got, want map[uint64]int64) {
	t.Helper()
	bad := 0
	for c, n := range want {
		if got[c] != n {
			if bad++; bad <= 10 {
				t.Errorf("%s: cell %x: %d events, h3-go LatLngToCell gives %d", name, c, got[c], n)
			}
		}
	}
	for c, n := range got {
		if _, ok := want[c]; !ok {
			if bad++; bad <= 10 {
				t.Errorf("%s: cell %x: %d events, h3-go LatLngToCell gives none", name, c, n)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d cells differ", name, bad, len(want))
	}
}
