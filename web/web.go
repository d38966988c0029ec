// Package web is the analysts' map: its sources (src/, built with npm, see
// README.md in this folder) and the built assets (dist/), committed and
// embedded so that the binary serves the map with nothing installed at run
// time. The server serves Assets at /.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Assets returns the built assets: index.html at the root, everything it
// loads under assets/ (file names carry a content hash, so they can be
// cached for ever).
func Assets() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil { // only for an invalid literal path
		panic(err)
	}
	return sub
}
