-- H3 cells of every event at the hexbin resolutions 5..10, next to the
-- res-15 cell (h3). H3's hierarchy is not geometric: the parent of an
-- event's res-15 cell at res 8 is, for ~6.5% of points, not the res-8 cell
-- that contains the point, and every H3 aggregate counts an event in the
-- cell h3.LatLngToCell(lat, lon, res) gives for its stored lon/lat. The
-- store keeps them so that a snapshot build reads them instead of
-- projecting every point again, in a compact form (analytics.HexCells):
--   h3_r10  the res-10 cell (signed integer bit pattern);
--   h3_exc  the cells at res 5..9 that are not parents of h3_r10, 8 bytes
--           each, little-endian (each names its resolution), NULL when
--           there is none (about 70% of points).
-- Both NULL without location.
--
-- Rows stored before this migration have NULL cells; Store.Open fills them
-- in batches (resumable), found through the partial index
-- events_h3_missing, empty once every located row has its cells.

-- +goose Up
ALTER TABLE events ADD COLUMN h3_r10 INTEGER;
ALTER TABLE events ADD COLUMN h3_exc BLOB;
CREATE INDEX events_h3_missing ON events (id) WHERE h3_r10 IS NULL AND lon IS NOT NULL AND lat IS NOT NULL;

-- +goose Down
DROP INDEX events_h3_missing;
ALTER TABLE events DROP COLUMN h3_exc;
ALTER TABLE events DROP COLUMN h3_r10;
