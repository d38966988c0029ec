package postgis_test

import (
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb"
)

// TestQGISViews checks the views QGIS opens: each is registered in
// geometry_columns with its geometry type and SRID, has an integer id, and
// shows the stored rows of its kind or level.
func TestQGISViews(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	sq := orb.MultiPolygon{{{{65, 38}, {66, 38}, {66, 39}, {65, 39}, {65, 38}}}}
	units := []geo.Unit{
		{Code: "1710", Level: geo.LevelRegion, Names: map[string]string{"uz": "Qashqadaryo viloyati", "uz-Cyrl": "Қашқадарё вилояти"}, Geometry: sq},
		{Code: "1710401", ParentCode: "1710", Level: geo.LevelDistrict, Names: map[string]string{"uz": "Qarshi shahri"}, Geometry: sq},
		{Code: "1710401001", ParentCode: "1710401", Level: geo.LevelMahalla, Names: map[string]string{"uz": "Navbahor"}, Population: 4200, PopulationYear: 2026, Geometry: sq},
	}
	if _, err := s.PutUnits(ctx, units); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	events := []analytics.Event{
		{Kind: analytics.KindCrime, SourceID: "c1", OccurredAt: at, HasLocation: true, Lon: 65.5, Lat: 38.5, Category: "theft", Severity: analytics.SeverityGrave, Flags: analytics.FlagJuvenile | analytics.FlagSolved, Region: "1710", District: "1710401", Mahalla: "1710401001"},
		{Kind: analytics.KindCrime, SourceID: "c2", OccurredAt: at, Category: "fraud"},
		{Kind: analytics.KindAccident, SourceID: "a1", OccurredAt: at, HasLocation: true, Lon: 65.6, Lat: 38.6, Category: "collision", Killed: 1, Injured: 3, Vehicle: "scooter"},
		{Kind: analytics.KindOffence, SourceID: "o1", OccurredAt: at, HasLocation: true, Lon: 65.7, Lat: 38.7, Category: "public_drinking", Article: "187", Fine: 412000},
	}
	if _, err := s.PutEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		view, geomType string
		rows           int
	}{
		{"crimes", "POINT", 2}, {"accidents", "POINT", 1}, {"offences", "POINT", 1},
		{"regions", "MULTIPOLYGON", 1}, {"districts", "MULTIPOLYGON", 1}, {"mahallas", "MULTIPOLYGON", 1},
	}
	for _, w := range want {
		var typ string
		var srid int
		err := s.Pool().QueryRow(ctx, `SELECT type, srid FROM geometry_columns WHERE f_table_name = $1 AND f_geometry_column = 'geom'`, w.view).Scan(&typ, &srid)
		if err != nil {
			t.Errorf("%s: not in geometry_columns: %v", w.view, err)
			continue
		}
		if typ != w.geomType || srid != 4326 {
			t.Errorf("%s: geometry %s/%d, want %s/4326", w.view, typ, srid, w.geomType)
		}
		var idType string
		if err := s.Pool().QueryRow(ctx, `SELECT data_type FROM information_schema.columns WHERE table_name = $1 AND column_name = 'id'`, w.view).Scan(&idType); err != nil || (idType != "bigint" && idType != "integer") {
			t.Errorf("%s: integer id column: %q %v", w.view, idType, err)
		}
		var n int
		if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM `+w.view).Scan(&n); err != nil || n != w.rows {
			t.Errorf("%s: %d rows (%v), want %d", w.view, n, err, w.rows)
		}
	}
	var juvenile, solved bool
	var sev int
	if err := s.Pool().QueryRow(ctx, `SELECT juvenile, solved, severity FROM crimes WHERE source_id = 'c1'`).Scan(&juvenile, &solved, &sev); err != nil || !juvenile || !solved || sev != 3 {
		t.Errorf("crimes view flags: juvenile=%v solved=%v severity=%d err=%v", juvenile, solved, sev, err)
	}
	var name string
	if err := s.Pool().QueryRow(ctx, `SELECT name_uz_cyrl FROM regions WHERE code = '1710'`).Scan(&name); err != nil || name != "Қашқадарё вилояти" {
		t.Errorf("regions view name_uz_cyrl = %q (%v)", name, err)
	}
}
