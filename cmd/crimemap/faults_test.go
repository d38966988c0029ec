package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/postgis"
	"github.com/crimemap/crimemap/store/postgis/pgtest"
	"github.com/crimemap/crimemap/store/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

// qarshiCentre is a point in Qarshi city (district 1710401) of the demo.
var qarshiCentre = orb.Point{65.79, 38.86}

// Store faults (issue 11): the service keeps serving from its snapshot
// while PostGIS is cut off (through a TCP proxy the test controls, so
// no server is stopped) and recovers without a restart; a kill -9 during
// an import loses no committed batch, leaves no partial one, and a re-run
// completes it.

// faultClient is a short-timeout HTTP client: an answer that waits on a
// cut store is a failure of its own.
var faultClient = &http.Client{Timeout: 10 * time.Second}

// fetch GETs base+path with an optional bearer token and returns the
// status and body (status 0 and the error text when no answer came).
func fetch(base, path, token string) (int, []byte) {
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		return 0, []byte(err.Error())
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := faultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// readyBody is the JSON of /readyz (server/health.go).
type readyBody struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Store   struct {
		Status  string `json:"status"`
		Backend string `json:"backend"`
		Error   string `json:"error"`
	} `json:"store"`
	Snapshot *struct {
		Status          string `json:"status"`
		Version         uint64 `json:"version"`
		DataVersion     int64  `json:"data_version"`
		LastReloadError string `json:"last_reload_error"`
	} `json:"snapshot"`
}

func readyz(t *testing.T, base string) (int, readyBody) {
	t.Helper()
	code, b := fetch(base, "/readyz", "")
	var rb readyBody
	if code != 0 {
		if err := json.Unmarshal(b, &rb); err != nil || rb.Snapshot == nil {
			t.Fatalf("/readyz: %d %s: not the readiness JSON (%v)", code, b, err)
		}
	}
	return code, rb
}

// startServe runs `crimemap serve` with args until the test ends and
// returns its base URL.
func startServe(t testing.TB, args ...string) string {
	t.Helper()
	base, _ := startServeOutput(t, args...)
	return base
}

// startServeOutput is startServe that also returns serve's stdout (the
// banner, as it is written).
func startServeOutput(t testing.TB, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := new(syncBuffer), new(syncBuffer)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), noEnv, stdout, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("graceful shutdown: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop after cancellation")
		}
		if t.Failed() {
			t.Logf("serve stderr:\n%s", tail(stderr.String(), 4000))
		}
	})
	urlRE := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if base := urlRE.FindString(stdout.String()); base != "" {
			return base, stdout
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\nstdout: %s\nstderr: %s", err, stdout.String(), tail(stderr.String(), 4000))
		default:
		}
	}
	t.Fatalf("no URL printed; stdout: %s", stdout.String())
	return "", nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// TestFaultStoreCutWhileServing serves the demo from PostGIS through a
// proxy, cuts the proxy, checks what keeps answering and what answers
// 503, imports events meanwhile (straight to the database), restores the
// proxy and checks the service recovers, pool and snapshot, by itself.
func TestFaultStoreCutWhileServing(t *testing.T) {
	dbURL := pgtest.URL(t)
	proxy, proxyURL := pgtest.StartProxy(t, dbURL)
	dir := t.TempDir()
	var out, errb strings.Builder
	if err := run(context.Background(), []string{"token", "create", "--database-url", dbURL, "--role", "analyst", "--name", "faults"},
		noEnv, &out, &errb); err != nil {
		t.Fatalf("token create: %v\n%s", err, errb.String())
	}
	analyst := strings.TrimSpace(out.String())
	base := startServe(t, "--demo", "--demo-scale", "0.05", "--database-url", proxyURL, "--reload-every", "200ms")

	loc, err := time.LoadLocation("Asia/Tashkent")
	if err != nil {
		t.Fatal(err)
	}
	year := strconv.Itoa(time.Now().In(loc).Year() - 1) // inside the demo's 36 months
	quarter := year + "-Q2"
	// The routes the snapshot answers: public stats, series, hexbins and
	// tiles (their boundaries are loaded once per snapshot: the warm-up
	// below loads them).
	snapRoutes := []string{
		"/v1/stats?level=district&period=" + quarter + "&compare=previous",
		"/v1/series?interval=month&period=" + year,
		"/v1/hexbins?res=7&period=" + quarter,
		"/tiles/districts/" + tileAt(qarshiCentre, 8) + ".mvt?period=" + quarter,
		"/tiles/mahallas/" + tileAt(qarshiCentre, 10) + ".mvt?period=" + quarter,
		"/styles/default.json",
	}
	for _, p := range snapRoutes {
		if code, b := fetch(base, p, ""); code != http.StatusOK {
			t.Fatalf("warm-up %s: %d %s", p, code, truncate(b, 300))
		}
	}
	code, rb := readyz(t, base)
	if code != http.StatusOK || rb.Status != "ready" || rb.Store.Status != "up" || rb.Snapshot.Status != "up" {
		t.Fatalf("/readyz before the cut: %d %+v", code, rb)
	}
	before := rb.Snapshot.Version
	totalBefore := exactYearTotal(t, base, analyst, year)
	var qarshi struct {
		BBox []float64 `json:"bbox"`
	}
	if code, b := fetch(base, "/v1/units/1710401", ""); code != http.StatusOK || json.Unmarshal(b, &qarshi) != nil || len(qarshi.BBox) != 4 {
		t.Fatalf("unit 1710401: %d %s", code, truncate(b, 300))
	}

	proxy.Cut()
	cutAt := time.Now()

	code, rb = readyz(t, base)
	if code != http.StatusServiceUnavailable || rb.Status != "degraded" || rb.Store.Status != "down" || rb.Store.Backend != "postgis" ||
		!strings.Contains(rb.Message, "store (postgis)") {
		t.Errorf("/readyz with the store cut: %d %+v, want 503 degraded naming the store", code, rb)
	}
	if strings.Contains(rb.Message+rb.Store.Error, "127.0.0.1") || strings.Contains(rb.Message, "user=") {
		t.Errorf("/readyz leaks connection details: %+v", rb)
	}
	if code, b := fetch(base, "/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz with the store cut: %d %s, want 200 (the process serves)", code, b)
	}
	// A different period misses the tile cache: the tile is rendered
	// from the snapshot (the mahalla categories are skipped with a warning).
	snapRoutes = append(snapRoutes, "/tiles/mahallas/"+tileAt(qarshiCentre, 10)+".mvt?period="+year+"-Q1",
		"/v1/stats?level=region&period="+year+"&group=kind")
	for _, p := range snapRoutes {
		start := time.Now()
		if code, b := fetch(base, p, ""); code != http.StatusOK {
			t.Errorf("%s with the store cut: %d %s, want 200 from the snapshot", p, code, truncate(b, 300))
		} else if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s with the store cut took %v", p, took)
		}
	}
	for _, c := range []struct{ path, token string }{
		{"/v1/units?level=district", ""},
		{"/v1/units/1710401", ""},
		{"/v1/events?limit=1", analyst}, // events are read from the store
		{"/v1/classification/runs", ""}, // runs live in the store
	} {
		start := time.Now()
		code, b := fetch(base, c.path, c.token)
		var eb errorBody
		if code != http.StatusServiceUnavailable || json.Unmarshal(b, &eb) != nil || eb.Status != 503 || !strings.Contains(eb.Error, "retry") {
			t.Errorf("%s with the store cut: %d %s, want 503 with a JSON error saying to retry", c.path, code, truncate(b, 300))
		} else {
			t.Logf("%s with the store cut: 503 %q", c.path, eb.Error)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s with the store cut took %v to answer", c.path, took)
		}
		if strings.Contains(string(b), "127.0.0.1") || strings.Contains(string(b), "user=") {
			t.Errorf("%s leaks connection details: %s", c.path, b)
		}
	}

	// The analyst's token was checked before the cut: its last check
	// stands in for the store, so the snapshot's routes answer it exactly.
	if got := exactYearTotal(t, base, analyst, year); got != totalBefore {
		t.Errorf("analyst stats with the store cut: total %d, want %d from the snapshot", got, totalBefore)
	}

	// Another process imports while the service cannot see the store.
	const imported = 300
	csvPath := filepath.Join(dir, "late.csv")
	var sb strings.Builder
	sb.WriteString("source_id,occurred_at,lat,lon,category\n")
	lon, lat := (qarshi.BBox[0]+qarshi.BBox[2])/2, (qarshi.BBox[1]+qarshi.BBox[3])/2
	for i := range imported {
		fmt.Fprintf(&sb, "late-%04d,%s-06-15 %02d:%02d:00,%.5f,%.5f,theft\n", i, year, i/60%24, i%60, lat, lon)
	}
	if err := os.WriteFile(csvPath, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if err := run(context.Background(), []string{"ingest", "--kind", "crime", "--database-url", dbURL, csvPath}, noEnv, &out, &errb); err != nil {
		t.Fatalf("ingest: %v\n%s", err, errb.String())
	}
	time.Sleep(500 * time.Millisecond) // a few polls fail meanwhile
	if code, rb = readyz(t, base); code != http.StatusServiceUnavailable || rb.Snapshot.Status != "stale" ||
		rb.Snapshot.Version != before || rb.Snapshot.LastReloadError == "" {
		t.Errorf("/readyz with the store still cut: %d %+v, want 503 with snapshot %d stale and its reload error", code, rb, before)
	}
	t.Logf("cut for %v; /readyz said: %s", time.Since(cutAt).Round(time.Millisecond), rb.Message)

	proxy.Restore()
	restoredAt := time.Now()
	var recovered time.Duration
	for deadline := restoredAt.Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if code, rb = readyz(t, base); code == http.StatusOK {
			recovered = time.Since(restoredAt)
			break
		}
	}
	if recovered == 0 {
		t.Fatalf("/readyz 15 s after the store came back: %d %+v", code, rb)
	}
	t.Logf("/readyz ready %v after the store came back (reload every 200ms)", recovered.Round(time.Millisecond))
	if rb.Status != "ready" || rb.Snapshot.Status != "up" || rb.Snapshot.Version <= before {
		t.Errorf("/readyz after recovery: %+v, want ready with a snapshot newer than %d", rb, before)
	}
	// The snapshot reload resumed: the import made during the cut is in it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got := exactYearTotal(t, base, analyst, year)
		if got == totalBefore+imported {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the year's exact total is %d after recovery, want %d + %d", got, totalBefore, imported)
		}
	}
	// The pool reconnected: the store routes answer again.
	for _, p := range []string{"/v1/units?level=district", "/v1/units/1710401"} {
		if code, b := fetch(base, p, ""); code != http.StatusOK {
			t.Errorf("%s after recovery: %d %s", p, code, truncate(b, 300))
		}
	}
	if code, b := fetch(base, "/v1/events?limit=1&unit=1710401", analyst); code != http.StatusOK {
		t.Errorf("events after recovery: %d %s", code, truncate(b, 300))
	}

	// A partition rather than a refusal: the store swallows every packet.
	// /readyz still answers within its ping timeout, and the snapshot
	// routes at once.
	proxy.Blackhole()
	for range 2 { // the pool's connections were closed, then new ones go into the hole
		start := time.Now()
		if code, rb = readyz(t, base); code != http.StatusServiceUnavailable || rb.Store.Status != "down" {
			t.Errorf("/readyz with the store black-holed: %d %+v, want 503 with the store down", code, rb)
		}
		if took := time.Since(start); took > 4*time.Second {
			t.Errorf("/readyz with the store black-holed took %v", took)
		}
	}
	for _, p := range snapRoutes[:3] {
		start := time.Now()
		if code, b := fetch(base, p, ""); code != http.StatusOK {
			t.Errorf("%s with the store black-holed: %d %s", p, code, truncate(b, 300))
		} else if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s with the store black-holed took %v", p, took)
		}
	}
	proxy.Restore()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if code, rb = readyz(t, base); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz 15 s after the partition ended: %d %+v", code, rb)
		}
	}
}

// exactYearTotal is the analysts' total of events in year.
func exactYearTotal(t *testing.T, base, token, year string) int64 {
	t.Helper()
	code, b := fetch(base, "/v1/stats?level=region&period="+year, token)
	var sb statsBody
	if code != http.StatusOK || json.Unmarshal(b, &sb) != nil || sb.Totals.Events == nil {
		t.Fatalf("exact stats of %s: %d %s", year, code, truncate(b, 300))
	}
	return *sb.Totals.Events
}

// helperEnv carries the arguments of `crimemap` when the test binary is
// started as the ingest process of TestFaultIngestKill9.
const helperEnv = "CRIMEMAP_FAULTS_HELPER_ARGS"

// TestFaultsHelperProcess is not a test: TestFaultIngestKill9 starts the
// test binary with helperEnv set to run `crimemap` in a process of its
// own, which it then kills.
func TestFaultsHelperProcess(t *testing.T) {
	raw := os.Getenv(helperEnv)
	if raw == "" {
		t.Skip("the crimemap process of TestFaultIngestKill9")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	if err := run(context.Background(), args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "crimemap:", err)
		os.Exit(exitCode(err))
	}
	os.Exit(0)
}

// TestFaultIngestKill9 imports a file in a separate process, kills it
// with SIGKILL after two batches were stored, and checks the store holds
// whole batches only (no partial batch, nothing twice); a re-run then
// stores exactly the file, once.
func TestFaultIngestKill9(t *testing.T) {
	const (
		rows  = 120_000
		batch = 4_000
	)
	csvPath := filepath.Join(t.TempDir(), "big.csv")
	writeKillCSV(t, csvPath, rows)
	for _, backend := range []string{"sqlite", "postgis"} {
		t.Run(backend, func(t *testing.T) {
			var flags []string
			var open func() store.Store
			switch backend {
			case "sqlite":
				dir := t.TempDir()
				flags = []string{"--data", dir}
				open = func() store.Store {
					st, err := sqlite.Open(context.Background(), dir, nil)
					if err != nil {
						t.Fatal(err)
					}
					return st
				}
			case "postgis":
				dbURL := pgtest.URL(t)
				flags = []string{"--database-url", dbURL}
				open = func() store.Store {
					st, err := postgis.Open(context.Background(), dbURL, nil)
					if err != nil {
						t.Fatal(err)
					}
					return st
				}
			}
			args := append([]string{"ingest", "--kind", "crime", "--batch", strconv.Itoa(batch)}, flags...)
			args = append(args, csvPath)

			var inFlight func() // PostGIS: wait for a batch's transaction to be open
			if backend == "postgis" {
				inFlight = waitTransactionOpen(t, flags[1])
			}
			killed := ingestAndKill(t, args, 2, inFlight)
			if backend == "postgis" {
				waitSessionsGone(t, flags[1])
			}
			st := open()
			n := checkWholeBatches(t, st, rows, batch)
			st.Close()
			t.Logf("%s: killed after %v with %d of %d events stored (%d whole batches)", backend, killed.Round(time.Millisecond), n, rows, n/batch)
			if n < 2*batch || n >= rows {
				t.Fatalf("%d events stored after the kill, want at least the 2 batches reported and fewer than the file's %d (make the file bigger)", n, rows)
			}

			var out, errb strings.Builder
			if err := run(context.Background(), args, noEnv, &out, &errb); err != nil {
				t.Fatalf("re-run: %v\n%s", err, errb.String())
			}
			if want := fmt.Sprintf("(%d new, 0 updated, %d unchanged)", rows-n, n); !strings.Contains(out.String(), want) {
				t.Errorf("re-run summary lacks %q:\n%s", want, out.String())
			}
			st = open()
			defer st.Close()
			if got := checkWholeBatches(t, st, rows, batch); got != rows {
				t.Errorf("after the re-run: %d events, want %d", got, rows)
			}
			if backend == "postgis" {
				// A kill inside the bulk load left the secondary indexes
				// dropped; opening the store (or the re-run's bulk load)
				// rebuilds them.
				var idx int
				if err := st.(*postgis.Store).Pool().QueryRow(context.Background(),
					`SELECT count(*) FROM pg_indexes WHERE tablename = 'events'`).Scan(&idx); err != nil {
					t.Fatal(err)
				}
				if idx != 6 {
					t.Errorf("events has %d indexes after the re-run, want 6", idx)
				}
			}
		})
	}
}

// writeKillCSV writes n valid crimes with source IDs k-000000.. in file
// order.
func writeKillCSV(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("source_id,occurred_at,lat,lon,category\n")
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		fmt.Fprintf(w, "k-%06d,%s,%.5f,%.5f,theft\n", i, at.Add(time.Duration(i)*time.Minute).Format(time.RFC3339),
			38.5+float64(i%1000)/2000, 65.5+float64(i/1000%100)/200)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// ingestAndKill runs `crimemap args` in a child process and kills it
// with SIGKILL as soon as it has logged `after` stored batches and
// beforeKill (when not nil) has returned; it returns how long the child
// ran.
func ingestAndKill(t *testing.T, args []string, after int, beforeKill func()) time.Duration {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFaultsHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(raw), "CRIMEMAP_LOG_LEVEL=debug")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	stored := 0
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for stored < after && sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		if strings.Contains(line, "ingest batch stored") {
			stored++
		}
	}
	if stored < after {
		cmd.Wait()
		t.Fatalf("the ingest process ended before storing %d batches:\n%s", after, strings.Join(lines, "\n"))
	}
	if beforeKill != nil {
		beforeKill()
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	ran := time.Since(start)
	go io.Copy(io.Discard, stderr)
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
		t.Fatalf("the ingest process was not killed (it ended with %v): the file is too small", err)
	}
	return ran
}

// waitTransactionOpen connects to dbURL and returns a function that waits
// (up to 5 s) until another session of that database is inside a
// transaction, so that a kill right after it lands in the middle of a
// batch. The test fails when none opens.
func waitTransactionOpen(t *testing.T, dbURL string) func() {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return func() {
		defer conn.Close(ctx) // not a session waitSessionsGone waits for
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
			var n int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`).Scan(&n); err != nil {
				t.Error(err)
				return
			}
			if n > 0 {
				return
			}
		}
		t.Error("no batch transaction open in 5 s: the kill did not land inside a batch")
	}
}

// waitSessionsGone waits until no other session is connected to the
// database of dbURL: the killed process's backends have ended, and with
// them their transactions.
func waitSessionsGone(t *testing.T, dbURL string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions still connected 15 s after the kill", n)
		}
	}
}

// checkWholeBatches reads every stored event and checks they are whole
// batches of the file: each ID once, and for every batch (batch
// consecutive rows of the file) all of it or none. It returns the count.
func checkWholeBatches(t *testing.T, st store.Store, rows, batch int) int {
	t.Helper()
	seen := make([]bool, rows)
	n := 0
	err := st.ScanEvents(context.Background(), func(e *analytics.Event) error {
		i, err := strconv.Atoi(strings.TrimPrefix(e.SourceID, "k-"))
		switch {
		case err != nil || i < 0 || i >= rows || e.Kind != analytics.KindCrime:
			return fmt.Errorf("unexpected event %s %q", e.Kind, e.SourceID)
		case seen[i]:
			return fmt.Errorf("event %q stored twice", e.SourceID)
		}
		seen[i] = true
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; b*batch < rows; b++ {
		have := 0
		for _, ok := range seen[b*batch : min((b+1)*batch, rows)] {
			if ok {
				have++
			}
		}
		if have != 0 && have != min(batch, rows-b*batch) {
			t.Errorf("batch %d is partial: %d of its events stored", b, have)
		}
	}
	c, err := st.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Events[analytics.KindCrime] != n {
		t.Errorf("Counts says %d crimes, the scan %d", c.Events[analytics.KindCrime], n)
	}
	return n
}
