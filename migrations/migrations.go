// Package migrations holds the SQL schema of both stores as files embedded
// with //go:embed: postgis/ for PostgreSQL+PostGIS and sqlite/ for the
// embedded SQLite store. The stores apply them with goose
// (github.com/pressly/goose/v3): plain numbered .sql files that DBAs can
// read and run by hand, with a version table and an advisory lock, and a
// Provider API (goose.NewProvider) that keeps no package-level state.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgis/*.sql sqlite/*.sql
var files embed.FS

// PostGIS returns the PostgreSQL+PostGIS migrations (files NNNNN_name.sql at
// the root of the returned FS, as goose.NewProvider expects).
func PostGIS() fs.FS { return sub("postgis") }

// SQLite returns the SQLite migrations (files NNNNN_name.sql at the root of
// the returned FS).
func SQLite() fs.FS { return sub("sqlite") }

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		// fs.Sub fails only for an invalid path; dir is a constant above.
		panic("migrations: " + err.Error())
	}
	return f
}
