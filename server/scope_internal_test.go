package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/crimemap/crimemap/store/sqlite"
)

// TestUnitScopeFrom: the auth middleware puts the token's unit in the
// request context; "" without a token and for a token valid everywhere.
func TestUnitScopeFrom(t *testing.T) {
	st, err := sqlite.Open(t.Context(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	put := func(role Role, unit string) string {
		tok, rec, err := NewScopedToken(role, "", unit, time.Now(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutToken(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	s := New(Config{Store: st})
	type seen struct {
		role Role
		unit string
	}
	var got seen
	h := s.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = seen{RoleFrom(r.Context()), UnitScopeFrom(r.Context())}
	}))
	for _, tt := range []struct {
		name  string
		token string
		want  seen
	}{
		{"no token", "", seen{RolePublic, ""}},
		{"analyst everywhere", put(RoleAnalyst, ""), seen{RoleAnalyst, ""}},
		{"analyst of a district", put(RoleAnalyst, "1710401"), seen{RoleAnalyst, "1710401"}},
		{"viewer of a region", put(RoleViewer, "1710"), seen{RoleViewer, "1710"}},
		{"admin", put(RoleAdmin, ""), seen{RoleAdmin, ""}},
	} {
		got = seen{RoleAdmin, "unset"}
		req := httptest.NewRequest(http.MethodGet, "/v1/units", nil)
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || got != tt.want {
			t.Errorf("%s: status %d, role %v, unit %q; want %v, %q", tt.name, rec.Code, got.role, got.unit, tt.want.role, tt.want.unit)
		}
	}
	if u := UnitScopeFrom(t.Context()); u != "" {
		t.Errorf("UnitScopeFrom outside a request = %q", u)
	}
}
