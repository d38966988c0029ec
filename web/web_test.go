package web_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/web"
)

// TestDistIsBuiltFromSources recomputes the fingerprint build.mjs writes
// into dist/index.html: a source, the lock file or the build script changed
// without `npm run build` (make web) fails here, without needing npm.
func TestDistIsBuiltFromSources(t *testing.T) {
	names, err := filepath.Glob("src/*")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, rel := range append(names, "package-lock.json", "build.mjs") {
		b, err := os.ReadFile(rel)
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(filepath.ToSlash(rel) + "\x00"))
		h.Write(b)
		h.Write([]byte{0})
	}
	want := hex.EncodeToString(h.Sum(nil))
	index, err := fs.ReadFile(web.Assets(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<meta name="crimemap-sources" content="([0-9a-f]{64})">`).FindSubmatch(index)
	if m == nil {
		t.Fatal("dist/index.html has no crimemap-sources fingerprint: run make web")
	}
	if got := string(m[1]); got != want {
		t.Fatalf("dist/ was built from other sources (fingerprint %s, sources %s): run make web and commit dist/", got[:12], want[:12])
	}
}

// TestAssetsReferenced checks that index.html names only files that exist
// under assets/, that every asset is named (no stale leftovers), and that
// MapLibre's licence ships with them.
func TestAssetsReferenced(t *testing.T) {
	assets := web.Assets()
	index, err := fs.ReadFile(assets, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	for _, m := range regexp.MustCompile(`"/(assets/[^"]+)"`).FindAllSubmatch(index, -1) {
		refs[string(m[1])] = true
	}
	files, err := fs.Glob(assets, "assets/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !refs[f] {
			t.Errorf("%s is not referenced by index.html", f)
		}
		delete(refs, f)
	}
	for r := range refs {
		t.Errorf("index.html refers to %s, which is not in dist/", r)
	}
	var licence []byte
	for _, f := range files {
		if strings.Contains(f, "THIRD-PARTY-LICENSES") {
			licence, _ = fs.ReadFile(assets, f)
		}
	}
	if !bytes.Contains(licence, []byte("MapLibre")) || !bytes.Contains(licence, []byte("Redistribution and use in source and binary forms")) {
		t.Error("no MapLibre GL JS licence (BSD-3) in the assets")
	}
}
