package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/geo"
	"github.com/crimemap/crimemap/ingest/demo"
	"github.com/crimemap/crimemap/server"
	"github.com/crimemap/crimemap/store"
	"github.com/crimemap/crimemap/store/sqlite"
	"github.com/paulmach/orb"
)

// downStore is an embedded store that can be taken down: token lookups and
// unit reads then fail as an unreachable PostGIS does.
type downStore struct {
	*sqlite.Store
	down atomic.Bool
}

var errDown = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}

func (d *downStore) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	if d.down.Load() {
		return store.Token{}, errDown
	}
	return d.Store.TokenByHash(ctx, hash)
}

func (d *downStore) Units(ctx context.Context, q store.UnitQuery) ([]geo.Unit, error) {
	if d.down.Load() {
		return nil, errDown
	}
	return d.Store.Units(ctx, q)
}

// metaBody is /v1/meta as a client reads it.
type metaBody struct {
	Role     string     `json:"role"`
	TokenID  *string    `json:"token_id"`
	Scope    string     `json:"scope"`
	Zone     string     `json:"zone"`
	Now      time.Time  `json:"now"`
	Snapshot uint64     `json:"snapshot"`
	DataFrom *time.Time `json:"data_from"`
	DataTo   *time.Time `json:"data_to"`
	Periods  map[string]struct {
		LatestClosed string `json:"latest_closed"`
		Running      string `json:"running"`
	} `json:"periods"`
	BBox      *[4]float64 `json:"bbox"`
	Basemap   string      `json:"basemap"`
	Notice    string      `json:"notice"`
	Languages []string    `json:"languages"`
	Version   string      `json:"version"`
}

func TestMeta(t *testing.T) {
	ctx := context.Background()
	sq, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	st := &downStore{Store: sq}
	units, err := demo.Units()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutUnits(ctx, units); err != nil {
		t.Fatal(err)
	}
	if err := demo.Events(ctx, demo.Config{Seed: 3, Now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), Scale: 0.01}, units,
		func(b []analytics.Event) error { _, err := st.PutEvents(ctx, b); return err }); err != nil {
		t.Fatal(err)
	}
	live := analytics.NewLive(st, func(ctx context.Context) ([]geo.Unit, error) { return st.Units(ctx, store.UnitQuery{}) })
	if err := live.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 10, 20, 0, 0, 0, time.UTC) // already 11 January in Tashkent (+05:00)
	ts := httptest.NewServer(server.New(server.Config{Store: st, Snapshots: live, Now: func() time.Time { return now },
		Notice: "synthetic", PublicURL: "https://map.example.uz", Version: "v1.2.3"}).Handler())
	t.Cleanup(ts.Close)

	tok := func(role server.Role, unit string) (string, string) {
		s, rec, err := server.NewScopedToken(role, "meta test", unit, time.Now(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutToken(ctx, rec); err != nil {
			t.Fatal(err)
		}
		return s, rec.ID
	}
	viewer, viewerID := tok(server.RoleViewer, "")
	analyst, analystID := tok(server.RoleAnalyst, "")
	scoped, scopedID := tok(server.RoleAnalyst, "1710401")
	admin, adminID := tok(server.RoleAdmin, "")

	// The demo stores two regions (Bukhara and Kashkadarya).
	var regions orb.Bound
	for i, u := range slices.DeleteFunc(units, func(u geo.Unit) bool { return u.Level != geo.LevelRegion }) {
		if i == 0 {
			regions = u.Geometry.Bound()
		}
		regions = regions.Union(u.Geometry.Bound())
	}
	wantBBox := [4]float64{regions.Min[0], regions.Min[1], regions.Max[0], regions.Max[1]}
	snap := live.Current()
	at := snap.Columns().At
	for _, tc := range []struct {
		name, token, role, id, scope, cache string
	}{
		{"public", "", "public", "", "", "public, max-age=60"},
		{"viewer", viewer, "viewer", viewerID, "", "private, no-store"},
		{"analyst", analyst, "analyst", analystID, "", "private, no-store"},
		{"scoped analyst", scoped, "analyst", scopedID, "1710401", "private, no-store"},
		{"admin", admin, "admin", adminID, "", "private, no-store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := getAuth(t, ts.URL+"/v1/meta", tc.token)
			if status != 200 {
				t.Fatalf("%d %s", status, body)
			}
			if h.Get("Cache-Control") != tc.cache || !slices.Contains(h.Values("Vary"), "Authorization") {
				t.Errorf("Cache-Control %q, Vary %q", h.Get("Cache-Control"), h.Values("Vary"))
			}
			var m metaBody
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			if m.Role != tc.role || m.Scope != tc.scope {
				t.Errorf("role %q scope %q, want %q %q", m.Role, m.Scope, tc.role, tc.scope)
			}
			switch {
			case tc.id == "" && m.TokenID != nil:
				t.Errorf("token_id %q without a token", *m.TokenID)
			case tc.id != "" && (m.TokenID == nil || *m.TokenID != tc.id):
				t.Errorf("token_id %v, want %s", m.TokenID, tc.id)
			}
			if m.Zone != "Asia/Tashkent" || !m.Now.Equal(now) || m.Snapshot != snap.Version() {
				t.Errorf("zone %q now %v snapshot %d", m.Zone, m.Now, m.Snapshot)
			}
			// Exact views see the first and last events' times; the
			// others only the months they fall in (an incident's time is
			// not public).
			wantFrom, wantTo := time.Unix(at[0], 0).UTC(), time.Unix(at[len(at)-1], 0).UTC()
			if tc.role == "public" || tc.role == "viewer" || tc.scope != "" {
				loc, _ := time.LoadLocation("Asia/Tashkent")
				f, l := wantFrom.In(loc), wantTo.In(loc)
				wantFrom = time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, loc).UTC()
				wantTo = time.Date(l.Year(), l.Month()+1, 1, 0, 0, 0, 0, loc).UTC()
			}
			if m.DataFrom == nil || m.DataTo == nil || !m.DataFrom.Equal(wantFrom) || !m.DataTo.Equal(wantTo) {
				t.Errorf("data %v .. %v, want %v .. %v", m.DataFrom, m.DataTo, wantFrom, wantTo)
			}
			// 11 January 2026 in Tashkent: nothing of 2026 has closed yet.
			want := map[string][2]string{"month": {"2025-12", "2026-01"}, "quarter": {"2025-Q4", "2026-Q1"},
				"half": {"2025-H2", "2026-H1"}, "year": {"2025", "2026"}}
			for kind, w := range want {
				p := m.Periods[kind]
				if p.LatestClosed != w[0] || p.Running != w[1] {
					t.Errorf("periods.%s = %+v, want %v", kind, p, w)
				}
			}
			if m.BBox == nil || *m.BBox != wantBBox {
				t.Errorf("bbox %v, want the regions' %v", m.BBox, wantBBox)
			}
			if m.Basemap != "" || m.Notice != "synthetic" || m.Version != "v1.2.3" || len(m.Languages) != 6 || m.Languages[0] != "uz" {
				t.Errorf("basemap %q notice %q version %q languages %v", m.Basemap, m.Notice, m.Version, m.Languages)
			}
		})
	}

	// A bad token is 401, as on every route.
	if status, _, _ := getAuth(t, ts.URL+"/v1/meta", "cm_00000000_"+base64Secret); status != 401 {
		t.Errorf("unknown token: %d, want 401", status)
	}

	// The store goes down: the answer comes from the snapshot, the role
	// from the token's last check and the extent from the last read.
	_, _, before := getAuth(t, ts.URL+"/v1/meta", analyst)
	st.down.Store(true)
	status, _, body := getAuth(t, ts.URL+"/v1/meta", analyst)
	if status != 200 {
		t.Fatalf("store down: %d %s", status, body)
	}
	var b, a metaBody
	_ = json.Unmarshal(before, &b)
	_ = json.Unmarshal(body, &a)
	if a.Role != "analyst" || a.BBox == nil || *a.BBox != *b.BBox || a.Snapshot != b.Snapshot {
		t.Errorf("store down: role %q bbox %v snapshot %d; before: %v %d", a.Role, a.BBox, a.Snapshot, b.BBox, b.Snapshot)
	}
	if status, _, _ := getAuth(t, ts.URL+"/v1/meta", ""); status != 200 {
		t.Errorf("store down, public: %d", status)
	}
}

// base64Secret is a well-formed token secret (43 base64url characters)
// that no store holds.
const base64Secret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// TestMetaWithoutSnapshot: before the first snapshot, meta still answers
// (snapshot 0, no data span).
func TestMetaWithoutSnapshot(t *testing.T) {
	ts := httptest.NewServer(server.New(server.Config{}).Handler())
	t.Cleanup(ts.Close)
	status, _, body := get(t, ts.URL+"/v1/meta")
	var m metaBody
	if status != 200 || json.Unmarshal(body, &m) != nil || m.Snapshot != 0 || m.DataFrom != nil || m.BBox != nil || m.Role != "public" {
		t.Errorf("%d %s", status, body)
	}
	if m.Version == "" {
		t.Error("no version")
	}
}
