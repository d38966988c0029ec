package geo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/planar"
)

// postgisConn connects to a fresh database with PostGIS, created for this
// test and dropped afterwards. It skips without CRIMEMAP_TEST_DATABASE_URL
// (fails when CRIMEMAP_REQUIRE_POSTGIS=1).
func postgisConn(t *testing.T) *pgx.Conn {
	t.Helper()
	dsn := os.Getenv("CRIMEMAP_TEST_DATABASE_URL")
	if dsn == "" {
		if os.Getenv("CRIMEMAP_REQUIRE_POSTGIS") == "1" {
			t.Fatal("CRIMEMAP_REQUIRE_POSTGIS=1 but CRIMEMAP_TEST_DATABASE_URL is unset")
		}
		t.Skip("CRIMEMAP_TEST_DATABASE_URL unset")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(ctx) })
	name := fmt.Sprintf("crimemap_geo_test_%d", os.Getpid())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
		t.Skipf("PostGIS not installed: %v", err)
	}
	return conn
}

// TestRepairMatchesSTMakeValid compares the area of every repaired feature
// with PostGIS ST_MakeValid on the raw geometry.
func TestRepairMatchesSTMakeValid(t *testing.T) {
	conn := postgisConn(t)
	ctx := context.Background()
	files, _ := filepath.Glob(sharedData + "uzb_akbartus/*.geojson")
	if len(files) == 0 {
		t.Skip("real data not available")
	}
	compared := 0
	for _, path := range files {
		raw := rawFeaturesOf(t, path)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		fields := map[string]string{"code": "ADM2_EN"}
		level := LevelDistrict
		if filepath.Base(path) == "uzbekistan_regional.geojson" {
			fields, level = map[string]string{"code": "ADM1_EN"}, LevelRegion
		}
		units, rep, err := ReadBoundaries(ctx, f, BoundaryOptions{Level: level, Fields: fields})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range rep.FeaturesWith(RepairMadeValid) {
			g, _ := json.Marshal(raw[i].Geometry)
			var valid bool
			var want float64
			err := conn.QueryRow(ctx, `SELECT ST_IsValid(g), ST_Area(ST_MakeValid(g)) FROM (SELECT ST_GeomFromGeoJSON($1) AS g) x`, string(g)).Scan(&valid, &want)
			if err != nil {
				t.Fatal(err)
			}
			if valid {
				t.Errorf("%s feature %d: PostGIS finds it valid", filepath.Base(path), i)
			}
			got := planar.Area(units[i].Geometry)
			if math.Abs(got-want) > 1e-9*want {
				t.Errorf("%s feature %d (%s): area %.12g, ST_MakeValid %.12g", filepath.Base(path), i, units[i].Code, got, want)
			}
			compared++
		}
	}
	if compared != 9 {
		t.Errorf("compared %d repaired features, want 9", compared)
	}
}
