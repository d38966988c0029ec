-- H3 cells of every event at the hexbin resolutions 5..10, next to the
-- res-15 cell (h3). H3's hierarchy is not geometric: the parent of an
-- event's res-15 cell at res 8 is, for ~6.5% of points, not the res-8 cell
-- that contains the point. Every H3 aggregate counts an event in the cell
-- h3.LatLngToCell(lat, lon, res) gives for its stored lon/lat, so the store
-- computes these columns in Go (geo.LatLngToCells) whenever it writes an
-- event's location, and SQL groups by them instead of deriving parents
-- from h3 with bit operations. NULL without location.
--
-- Rows stored before this migration have NULL cells; Store.Open fills them
-- in batches (resumable), found through the partial index
-- events_h3_missing, which is empty once every located row has its cells
-- (writers fill them, so it costs them nothing but the predicate).
-- Anything that writes events by hand should fill the cells too, or
-- leave them NULL for the next Open to fill.

-- +goose Up
ALTER TABLE events
    ADD COLUMN h3_r5  bigint,
    ADD COLUMN h3_r6  bigint,
    ADD COLUMN h3_r7  bigint,
    ADD COLUMN h3_r8  bigint,
    ADD COLUMN h3_r9  bigint,
    ADD COLUMN h3_r10 bigint;
COMMENT ON COLUMN events.h3_r5 IS 'H3 cell of (lat, lon) at resolution 5 (LatLngToCell, not the parent of h3); signed bigint bit pattern; NULL without location';
COMMENT ON COLUMN events.h3_r6 IS 'H3 cell of (lat, lon) at resolution 6 (LatLngToCell, not the parent of h3); signed bigint bit pattern; NULL without location';
COMMENT ON COLUMN events.h3_r7 IS 'H3 cell of (lat, lon) at resolution 7 (LatLngToCell, not the parent of h3); signed bigint bit pattern; NULL without location';
COMMENT ON COLUMN events.h3_r8 IS 'H3 cell of (lat, lon) at resolution 8 (LatLngToCell, not the parent of h3); signed bigint bit pattern; NULL without location';
COMMENT ON COLUMN events.h3_r9 IS 'H3 cell of (lat, lon) at resolution 9 (LatLngToCell, not the parent of h3); signed bigint bit pattern; NULL without location';
COMMENT ON COLUMN events.h3_r10 IS 'H3 cell of (lat, lon) at resolution 10 (LatLngToCell, not the parent of h3); signed bigint bit pattern; NULL without location';

-- The located rows whose cells are still to be computed.
CREATE INDEX events_h3_missing ON events (id) WHERE h3_r10 IS NULL AND geom IS NOT NULL;

-- The kind views gain the cells (appended: CREATE OR REPLACE VIEW keeps
-- the existing columns and anything built on them).
CREATE OR REPLACE VIEW crimes AS
SELECT id, source_id, occurred_at, category, article, severity,
       (flags & 1) <> 0 AS juvenile, (flags & 2) <> 0 AS recidivist,
       (flags & 4) <> 0 AS domestic, (flags & 8) <> 0 AS alcohol,
       (flags & 16) <> 0 AS drugs, (flags & 32) <> 0 AS public_place,
       (flags & 64) <> 0 AS solved,
       region_code, district_code, mahalla_code, h3, geom,
       h3_r5, h3_r6, h3_r7, h3_r8, h3_r9, h3_r10
FROM events WHERE kind = 1;

CREATE OR REPLACE VIEW accidents AS
SELECT id, source_id, occurred_at, category, killed, injured, vehicle,
       region_code, district_code, mahalla_code, h3, geom,
       h3_r5, h3_r6, h3_r7, h3_r8, h3_r9, h3_r10
FROM events WHERE kind = 2;

CREATE OR REPLACE VIEW offences AS
SELECT id, source_id, occurred_at, category, article, fine,
       region_code, district_code, mahalla_code, h3, geom,
       h3_r5, h3_r6, h3_r7, h3_r8, h3_r9, h3_r10
FROM events WHERE kind = 3;

-- +goose Down
DROP VIEW crimes, accidents, offences;
CREATE VIEW crimes AS
SELECT id, source_id, occurred_at, category, article, severity,
       (flags & 1) <> 0 AS juvenile, (flags & 2) <> 0 AS recidivist,
       (flags & 4) <> 0 AS domestic, (flags & 8) <> 0 AS alcohol,
       (flags & 16) <> 0 AS drugs, (flags & 32) <> 0 AS public_place,
       (flags & 64) <> 0 AS solved,
       region_code, district_code, mahalla_code, h3, geom
FROM events WHERE kind = 1;

CREATE VIEW accidents AS
SELECT id, source_id, occurred_at, category, killed, injured, vehicle,
       region_code, district_code, mahalla_code, h3, geom
FROM events WHERE kind = 2;

CREATE VIEW offences AS
SELECT id, source_id, occurred_at, category, article, fine,
       region_code, district_code, mahalla_code, h3, geom
FROM events WHERE kind = 3;

DROP INDEX IF EXISTS events_h3_missing;
ALTER TABLE events
    DROP COLUMN h3_r5, DROP COLUMN h3_r6, DROP COLUMN h3_r7,
    DROP COLUMN h3_r8, DROP COLUMN h3_r9, DROP COLUMN h3_r10;
