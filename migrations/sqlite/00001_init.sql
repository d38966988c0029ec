-- crimemap schema for the embedded SQLite store (STRICT tables, SQLite 3.37+).
--
-- Geometry: unit boundaries are stored as WKB blobs (ISO WKB, little endian,
-- as written by orb/encoding/wkb): exact float64 coordinates, about a third
-- the size of GeoJSON text, no float formatting/parsing on the hot path,
-- and readable by SpatiaLite/GDAL (ST_GeomFromWKB). Events are points, so
-- they keep only lon/lat REAL columns: a per-row WKB blob would duplicate
-- them and slow bulk loads; bbox queries use lon/lat ranges.
--
-- Times are INTEGER microseconds since the Unix epoch, UTC (the same
-- precision as PostgreSQL timestamptz). H3 cells are the uint64 index as a
-- signed 64-bit bit pattern. Empty strings are stored as NULL.

-- +goose Up
CREATE TABLE units (
    code            TEXT PRIMARY KEY CHECK (code <> ''),
    parent_code     TEXT,
    level           TEXT NOT NULL CHECK (level IN ('region', 'district', 'mahalla')),
    names           TEXT NOT NULL DEFAULT '{}', -- JSON object, keys sorted
    population      INTEGER CHECK (population > 0),
    population_year INTEGER,
    geom            BLOB -- MultiPolygon WKB, EPSG:4326
) STRICT;
CREATE INDEX units_parent ON units (parent_code);
CREATE INDEX units_level ON units (level, code);

CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    kind          INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 3),
    source_id     TEXT NOT NULL CHECK (source_id <> ''),
    occurred_at   INTEGER NOT NULL, -- Unix microseconds, UTC
    lon           REAL CHECK (lon BETWEEN -180 AND 180),
    lat           REAL CHECK (lat BETWEEN -90 AND 90),
    h3            INTEGER,
    category      TEXT,
    region_code   TEXT,
    district_code TEXT,
    mahalla_code  TEXT,
    article       TEXT,
    severity      INTEGER NOT NULL DEFAULT 0,
    flags         INTEGER NOT NULL DEFAULT 0,
    killed        INTEGER NOT NULL DEFAULT 0,
    injured       INTEGER NOT NULL DEFAULT 0,
    vehicle       TEXT,
    fine          REAL NOT NULL DEFAULT 0
) STRICT;
CREATE UNIQUE INDEX events_kind_source_id ON events (kind, source_id);
-- The only secondary index. Unit-code filters scan (about 0.3 s for 1M
-- events); each index maintained row by row costs 3-5 us per inserted event
-- on the pure-Go driver. A bulk load drops it and the store rebuilds it
-- lazily (store/sqlite: lazyIndexes).
CREATE INDEX events_occurred_at ON events (occurred_at);

-- One row: data_version increases in every committed transaction of the
-- store that inserted or updated units or events (store.Store.DataVersion),
-- so a server sees imports made by another process with one cheap read.
-- Anything that writes units or events by hand should bump it too:
-- UPDATE meta SET data_version = data_version + 1.
CREATE TABLE meta (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    data_version INTEGER NOT NULL
) STRICT;
INSERT INTO meta (id, data_version) VALUES (1, 1);

-- +goose Down
DROP TABLE IF EXISTS meta;
DROP TABLE IF EXISTS events;
DROP TABLE IF EXISTS units;
