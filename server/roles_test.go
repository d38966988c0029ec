package server_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/server"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/tiles"
)

// putScopedToken stores a new token of role limited to unit and returns it.
func putScopedToken(t *testing.T, st store.TokenStore, role server.Role, unit string) string {
	t.Helper()
	tok, rec, err := server.NewScopedToken(role, "test "+role.String()+" of "+unit, unit, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutToken(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestCreateRunNeedsAdmin: a classification run colours the public map, so
// POST /v1/classification/runs needs an admin token (401 without a token,
// 403 below admin, also for an analyst limited to a territory) and the
// stored run names the token that made it.
func TestCreateRunNeedsAdmin(t *testing.T) {
	ts, _, st := newAnalyticsServer(t)
	tst := st.(store.TokenStore)
	viewer := putToken(t, tst, server.RoleViewer, 0)
	analyst := putToken(t, tst, server.RoleAnalyst, 0)
	scoped := putScopedToken(t, tst, server.RoleAnalyst, "1710401")
	admin := putToken(t, tst, server.RoleAdmin, 0)
	body := `{"period": "2026-Q2"}`
	for _, tt := range []struct {
		name, token string
		status      int
		contains    string
	}{
		{"no token", "", 401, "needs an admin token"},
		{"viewer", viewer, 403, "this token's role is viewer"},
		{"analyst", analyst, 403, "this token's role is analyst"},
		{"scoped analyst", scoped, 403, "this token's role is analyst"},
	} {
		status, h, b := post(t, ts.URL+"/v1/classification/runs", tt.token, body)
		if status != tt.status || !strings.Contains(string(b), tt.contains) || h.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s (WWW-Authenticate %q); want %d containing %q", tt.name, status, b, h.Get("WWW-Authenticate"), tt.status, tt.contains)
		}
	}
	status, _, b := get(t, ts.URL+"/v1/classification/runs")
	if list := decode[struct{ Runs []runBody }](t, b); status != 200 || len(list.Runs) != 0 {
		t.Fatalf("refused POSTs stored runs: %d %s", status, b)
	}

	run := createRun(t, ts.URL, admin, body) // checks created_by in the answer
	status, _, b = get(t, ts.URL+run.Href)
	if got := decode[runBody](t, b); status != 200 || got.CreatedBy != tokenID(admin) {
		t.Errorf("GET %s: %d, created_by %q; want %q", run.Href, status, got.CreatedBy, tokenID(admin))
	}
	status, _, b = get(t, ts.URL+"/v1/classification/runs")
	if list := decode[struct{ Runs []runBody }](t, b); status != 200 || len(list.Runs) != 1 || list.Runs[0].CreatedBy != tokenID(admin) {
		t.Errorf("runs list: %d %s; want one run created by %s", status, b, tokenID(admin))
	}
	stored, err := st.(store.RunStore).Run(t.Context(), run.ID)
	if err != nil || stored.CreatedBy != tokenID(admin) {
		t.Errorf("stored run created by %q (%v), want %q", stored.CreatedBy, err, tokenID(admin))
	}
}

// TestScopedTokenEvents: an analyst token limited to a district reads the
// raw events of that district (and of its mahallas) only.
func TestScopedTokenEvents(t *testing.T) {
	ts, st := newTestServerStore(t, server.Config{})
	qarshi := putScopedToken(t, st, server.RoleAnalyst, "1710401")
	viewer := putScopedToken(t, st, server.RoleViewer, "1710401")
	for _, tt := range []struct {
		name, path, token string
		status            int
		contains          string
	}{
		{"whole territory by default", "/v1/events", qarshi, 200, `"total":3`},
		{"the territory itself", "/v1/events?unit=1710401", qarshi, 200, `"total":3`},
		{"a mahalla inside", "/v1/events?unit=1710401001", qarshi, 200, `"total":2`},
		{"another district", "/v1/events?unit=1710207", qarshi, 403, "outside this token's territory"},
		{"the region around it", "/v1/events?unit=1710", qarshi, 403, "outside this token's territory"},
		{"an unknown unit", "/v1/events?unit=9999", qarshi, 403, "outside this token's territory"},
		{"a scoped viewer", "/v1/events", viewer, 403, "needs an analyst token"},
		{"public units", "/v1/units?level=district", qarshi, 200, `"count":2`},
	} {
		status, _, b := getAuth(t, ts.URL+tt.path, tt.token)
		if status != tt.status || !strings.Contains(string(b), tt.contains) {
			t.Errorf("%s: GET %s: %d %s; want %d containing %s", tt.name, tt.path, status, b, tt.status, tt.contains)
		}
	}
}

func TestNewScopedToken(t *testing.T) {
	now := time.Now()
	_, rec, err := server.NewScopedToken(server.RoleAnalyst, "qarshi", "1710401", now, 0)
	if err != nil || rec.Unit != "1710401" || rec.Role != store.RoleAnalyst {
		t.Errorf("NewScopedToken = %+v, %v", rec, err)
	}
	if _, rec, _ := server.NewToken(server.RoleAnalyst, "", now, 0); rec.Unit != "" {
		t.Errorf("NewToken is limited to %q", rec.Unit)
	}
	_, _, err = server.NewScopedToken(server.RoleAdmin, "", "1710", now, 0)
	if !errors.Is(err, server.ErrAdminScoped) || !strings.Contains(err.Error(), "an admin token cannot be limited to a territory") {
		t.Errorf("admin token limited to a unit: %v, want ErrAdminScoped", err)
	}
	if _, _, err := server.NewScopedToken(server.RoleAdmin, "", "", now, 0); err != nil {
		t.Errorf("admin token everywhere: %v", err)
	}
}

// TestScopedTokenTiles: tiles are not cut by territory, so an analyst
// token limited to one gets the public view of every tile (the same bytes
// as without a token) and no events layer.
func TestScopedTokenTiles(t *testing.T) {
	_, live, st := newAnalyticsServer(t)
	scoped := putScopedToken(t, st.(store.TokenStore), server.RoleAnalyst, "1710401")
	now := func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }
	rend := tiles.New(tiles.Config{
		Snapshots: live,
		Boundaries: func(ctx context.Context, l geo.Level) ([]geo.Unit, error) {
			return st.Units(ctx, store.UnitQuery{Level: l, WithGeometry: true})
		},
		Now: now,
	})
	ts := httptest.NewServer(server.New(server.Config{Store: st, Snapshots: live, Tiles: rend, Now: now}).Handler())
	t.Cleanup(ts.Close)
	tile := ts.URL + "/tiles/%s/9/349/196.mvt?period=2026-Q2" // Qarshi
	url := func(layers string) string { return strings.Replace(tile, "%s", layers, 1) }

	status, _, body := getAuth(t, url("events"), scoped)
	if status != 403 || !strings.Contains(string(body), "limited to unit 1710401") {
		t.Errorf("events layer with a limited token: %d %s; want 403", status, body)
	}
	pubStatus, _, pub := get(t, url("mahallas"))
	status, h, body := getAuth(t, url("mahallas"), scoped)
	if pubStatus != 200 || status != 200 || !bytes.Equal(body, pub) || !strings.HasPrefix(h.Get("Cache-Control"), "public") {
		t.Errorf("mahallas tile with a limited token: %d (public %d), %d vs %d bytes, Cache-Control %q; want the public view",
			status, pubStatus, len(body), len(pub), h.Get("Cache-Control"))
	}
}
