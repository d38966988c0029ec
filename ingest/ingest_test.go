package ingest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/store"
	"github.com/paulmach/orb"
)

var update = flag.Bool("update", false, "rewrite golden files")

// collect is a sink keeping every event.
type collect struct{ events []analytics.Event }

func (c *collect) put(_ context.Context, evs []analytics.Event) (store.Result, error) {
	c.events = append(c.events, evs...)
	return store.Result{Inserted: len(evs)}, nil
}

// tashkentIndex is one region box around Tashkent.
func tashkentIndex() *geo.Index {
	box := orb.MultiPolygon{{{{69.1, 41.2}, {69.4, 41.2}, {69.4, 41.4}, {69.1, 41.4}, {69.1, 41.2}}}}
	return geo.NewIndex([]geo.Unit{{Code: "TAS", Level: geo.LevelRegion, Geometry: box}})
}

func run(t *testing.T, in string, opts Options) (Summary, *collect, string, error) {
	t.Helper()
	var rej bytes.Buffer
	opts.Rejects = &rej
	c := &collect{}
	sum, err := Run(context.Background(), strings.NewReader(in), opts, c.put)
	if err == nil && sum.Accepted+sum.Rejected != sum.Rows {
		t.Fatalf("accepted %d + rejected %d != rows %d", sum.Accepted, sum.Rejected, sum.Rows)
	}
	return sum, c, rej.String(), err
}

func TestBadRowsGolden(t *testing.T) {
	in, err := os.ReadFile("../testdata/ingest_bad.csv")
	if err != nil {
		t.Fatal(err)
	}
	sum, c, rej, err := run(t, "\ufeff"+string(in), Options{Format: FormatCSV, Index: tashkentIndex(), BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	golden := "../testdata/ingest_bad.rejects.csv"
	if *update {
		if err := os.WriteFile(golden, []byte(rej), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if rej != string(want) {
		t.Errorf("rejects differ from %s (run with -update):\n%s", golden, rej)
	}
	wantSum := Summary{Rows: 26, Accepted: 7, Rejected: 19, NoLocation: 2, Unassigned: 1, Store: store.Result{Inserted: 7}}
	checkClasses(t, sum, map[RejectClass]int{RejectFarOutside: 1, RejectSwapped: 1, RejectOutOfRange: 2, RejectBadTime: 1,
		RejectMissing: 4, RejectUnreadable: 2, RejectBadValue: 7, RejectDuplicate: 1})
	if sum := withoutClasses(sum); !reflect.DeepEqual(sum, wantSum) {
		t.Errorf("summary %+v, want %+v", sum, wantSum)
	}
	byID := map[string]analytics.Event{}
	for _, e := range c.events {
		byID[e.SourceID] = e
	}
	ok1 := byID["ok-1"]
	if want := time.Date(2019, 1, 2, 10, 4, 0, 0, time.UTC); !ok1.OccurredAt.Equal(want) || ok1.OccurredAt.Location() != time.UTC {
		t.Errorf("ok-1 at %v, want %v", ok1.OccurredAt, want)
	}
	if ok1.Region != "TAS" || ok1.Severity != analytics.SeverityGrave || !ok1.Flags.Has(analytics.FlagJuvenile) || ok1.Cell == 0 {
		t.Errorf("ok-1 = %+v", ok1)
	}
	if e := byID["acc-1"]; e.Kind != analytics.KindAccident || e.Killed != 2 {
		t.Errorf("acc-1 = %+v", e)
	}
	if e := byID["off-1"]; e.Kind != analytics.KindOffence || e.Fine != 1500.5 {
		t.Errorf("off-1 = %+v", e)
	}
	if e := byID["zero-1"]; e.HasLocation || e.Cell != 0 {
		t.Errorf("zero-1 = %+v", e)
	}
}

func TestMemphisRobberies(t *testing.T) {
	f, err := os.Open("../testdata/memphis_robberies.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skip(err)
	}
	c := &collect{}
	var rej bytes.Buffer
	sum, err := Run(context.Background(), f, Options{Format: FormatCSV, Kind: analytics.KindCrime, Location: chicago,
		Fields:  map[string]string{"source_id": "uid", "category": "offense_type", "occurred_at": "date_local_wallclock", "lon": "longitude", "lat": "latitude"},
		Rejects: &rej, BatchSize: 500}, c.put)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 2245 || sum.Accepted+sum.Rejected != sum.Rows || sum.Store.Inserted != sum.Accepted {
		t.Fatalf("summary %+v\n%s", sum, rej.String())
	}
	if sum.Rejected != 0 {
		t.Errorf("%d rejects:\n%s", sum.Rejected, rej.String())
	}
	var got analytics.Event
	for _, e := range c.events {
		if e.SourceID == "15213800" {
			got = e
		}
	}
	// 2019-01-01 01:30:00 CST (UTC-6).
	if want := time.Date(2019, 1, 1, 7, 30, 0, 0, time.UTC); !got.OccurredAt.Equal(want) {
		t.Errorf("15213800 at %v, want %v", got.OccurredAt, want)
	}
	if got.Lat != 35.149 || got.Lon != -89.942 || got.Category != "personal robbery" || got.Cell == 0 {
		t.Errorf("event %+v", got)
	}
}

func TestNYCCollisionsDatePlusTime(t *testing.T) {
	const path = "../../shared/data/incidents/nyc_motor_vehicle_collisions_mapboxer.csv"
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("real data not available: %v", err)
	}
	defer f.Close()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	c := &collect{}
	var rej bytes.Buffer
	sum, err := Run(context.Background(), f, Options{Format: FormatCSV, Kind: analytics.KindAccident, Location: ny,
		Fields:  map[string]string{"source_id": LineAsSourceID, "occurred_at": "date+time", "lon": "lng", "category": "date"},
		Rejects: &rej}, c.put)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 1601 || sum.Accepted+sum.Rejected != sum.Rows {
		t.Fatalf("summary %+v", sum)
	}
	t.Logf("NYC: %+v", sum)
	first := c.events[0] // line 2: 2020-09-24;0:00;-73.99842;40.689857;0;0
	if want := time.Date(2020, 9, 24, 4, 0, 0, 0, time.UTC); !first.OccurredAt.Equal(want) || first.SourceID != "2" {
		t.Errorf("first event %+v, want at %v", first, want)
	}
	if first.Lon != -73.99842 || first.Lat != 40.689857 {
		t.Errorf("first event at %v,%v", first.Lat, first.Lon)
	}
}

func TestGeoJSON(t *testing.T) {
	in := `{"type":"FeatureCollection","name":"x","features":[
{"type":"Feature","properties":{"id":"a","when":"2020-01-01 10:00","cat":"theft","kind":"crime","juvenile":true},"geometry":{"type":"Point","coordinates":[69.25,41.3]}},
{"type":"Feature","properties":{"id":"b","when":"2020-01-01 10:00","cat":"theft"},"geometry":null},
{"type":"Feature","properties":{"id":"c","when":"2020-01-01 10:00","cat":"theft"},"geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}},
{"type":"Feature","properties":{"id":"d","when":"2020-01-01 10:00","cat":{"x":1}},"geometry":null},
{"type":"Feature","properties":{"id":"e","when":"2020-01-01 10:00","cat":"theft"},"geometry":{"type":"Point","coordinates":["69.26","41.31"]}},
{"type":"Feature","properties":{"id":5,"when":"2020-01-01","cat":"theft"},"geometry":{"type":"Point","coordinates":[41.31,69.26]}},
[1,2]
]}`
	sum, c, rej, err := run(t, in, Options{Format: FormatGeoJSON, Kind: analytics.KindCrime, Index: tashkentIndex(),
		Fields: map[string]string{"source_id": "id", "occurred_at": "when", "category": "cat"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Rows: 7, Accepted: 3, Rejected: 4, NoLocation: 1, Store: store.Result{Inserted: 3}}
	checkClasses(t, sum, map[RejectClass]int{RejectUnreadable: 2, RejectBadValue: 1, RejectSwapped: 1})
	if sum := withoutClasses(sum); !reflect.DeepEqual(sum, want) {
		t.Errorf("summary %+v, want %+v\n%s", sum, want, rej)
	}
	for _, s := range []string{"2,geometry,", "3,cat,", "5,lat,lat/lon look swapped", "6,,"} {
		if !strings.Contains(rej, "\n"+s) {
			t.Errorf("rejects lack %q:\n%s", s, rej)
		}
	}
	if e := c.events[0]; e.SourceID != "a" || !e.Flags.Has(analytics.FlagJuvenile) || e.Region != "TAS" {
		t.Errorf("event a = %+v", e)
	}
	if e := c.events[2]; e.SourceID != "e" || e.Lon != 69.26 {
		t.Errorf("event e = %+v", e)
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
		want error
		msg  string
	}{
		{"missing required column", "id,occurred_at,category\n", Options{Format: FormatCSV, Kind: analytics.KindCrime}, ErrMissingColumn, "source_id"},
		{"mapped column missing", "source_id,occurred_at,category\n", Options{Format: FormatCSV, Kind: analytics.KindCrime, Fields: map[string]string{"lat": "y"}}, ErrMissingColumn, "lat=y"},
		{"unknown field", "source_id,occurred_at,category\n", Options{Format: FormatCSV, Kind: analytics.KindCrime, Fields: map[string]string{"colour": "y"}}, ErrUnknownField, "colour"},
		{"lat without lon", "source_id,occurred_at,category,lat\n", Options{Format: FormatCSV, Kind: analytics.KindCrime}, ErrMissingColumn, "lat and lon"},
		{"no kind", "source_id,occurred_at,category\n", Options{Format: FormatCSV}, ErrNoKind, "kind"},
		{"empty", "", Options{Format: FormatCSV, Kind: analytics.KindCrime}, ErrBadInput, "header"},
		{"format", "", Options{Format: "xlsx"}, ErrFormat, "xlsx"},
		{"geojson no features", `{"type":"FeatureCollection"}`, Options{Format: FormatGeoJSON, Kind: analytics.KindCrime}, ErrBadInput, "features"},
		{"geojson truncated", `{"type":"FeatureCollection","features":[{"type":"Feature"`, Options{Format: FormatGeoJSON, Kind: analytics.KindCrime}, ErrBadInput, "feature 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := run(t, tt.in, tt.opts)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want %v mentioning %q", err, tt.want, tt.msg)
			}
		})
	}
}

func TestSinkErrorStops(t *testing.T) {
	boom := errors.New("boom")
	in := "source_id,occurred_at,category\n1,2020-01-01,x\n2,2020-01-01,x\n"
	_, err := Run(context.Background(), strings.NewReader(in), Options{Format: FormatCSV, Kind: analytics.KindCrime, BatchSize: 1},
		func(context.Context, []analytics.Event) (store.Result, error) { return store.Result{}, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
}

func TestFormatFromName(t *testing.T) {
	for name, want := range map[string]Format{"a.csv": FormatCSV, "b.GeoJSON": FormatGeoJSON, "c.json": FormatGeoJSON} {
		if got, err := FormatFromName(name); err != nil || got != want {
			t.Errorf("%s: %v %v", name, got, err)
		}
	}
	if _, err := FormatFromName("x.xlsx"); !errors.Is(err, ErrFormat) {
		t.Errorf("xlsx: %v", err)
	}
}

func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	pb := newProgressBar(&b, true)
	pb.Update(Progress{Rows: 10, Elapsed: 500 * time.Millisecond})
	if b.Len() != 0 {
		t.Fatalf("drew before a second: %q", b.String())
	}
	pb.Update(Progress{BytesRead: 512 << 10, TotalBytes: 1 << 20, Rows: 2000, Elapsed: 2 * time.Second})
	pb.Update(Progress{BytesRead: 1 << 20, TotalBytes: 1 << 20, Rows: 4000, Elapsed: 4 * time.Second, Done: true})
	out := b.String()
	for _, s := range []string{"50%", "100%", "1000 rows/s", "1.0 MiB", "\n"} {
		if !strings.Contains(out, s) {
			t.Errorf("bar %q lacks %q", out, s)
		}
	}
	var off bytes.Buffer
	newProgressBar(&off, false).Update(Progress{Rows: 1, Elapsed: time.Hour, Done: true})
	if off.Len() != 0 {
		t.Errorf("disabled bar drew %q", off.String())
	}
}
