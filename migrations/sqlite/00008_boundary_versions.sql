-- Boundary versions and the assignment of events that follows boundaries.
--
-- unit_boundary_history: the earlier boundaries of a unit. A row is the
-- boundary the unit had until valid_until (Unix microseconds, exclusive),
-- from the previous row's valid_until on (the first: from the beginning);
-- geom NULL means the unit had no boundary then (a unit first imported
-- with --valid-from). The current boundary (units.geom) applies from the
-- last row's valid_until on, or always when the unit has no rows: a unit
-- with one version has no rows here, as before this migration.
--
-- meta.boundary_version increases with every change of the boundaries or
-- the unit tree (triggers below, so hand edits count too);
-- events.assigned_version is the boundary_version whose boundaries last
-- computed the event's unit codes (`crimemap reassign`), NULL when no
-- reassignment has checked it yet (inserted since). Reassignment works on
-- the located events whose assigned_version differs from boundary_version,
-- in id order, one transaction per batch that also stamps the batch: a
-- crash keeps the batches done and the next run goes on with the rest.

-- +goose Up
CREATE TABLE unit_boundary_history (
    code        TEXT NOT NULL REFERENCES units (code) ON DELETE CASCADE,
    valid_until INTEGER NOT NULL,
    geom        BLOB, -- MultiPolygon WKB, EPSG:4326; NULL: no boundary
    PRIMARY KEY (code, valid_until)
) STRICT, WITHOUT ROWID;

ALTER TABLE meta ADD COLUMN boundary_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN assigned_version INTEGER;

-- +goose StatementBegin
CREATE TRIGGER units_boundary_insert AFTER INSERT ON units
BEGIN
    UPDATE meta SET boundary_version = boundary_version + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER units_boundary_update AFTER UPDATE OF geom, parent_code, level ON units
WHEN NEW.geom IS NOT OLD.geom OR NEW.parent_code IS NOT OLD.parent_code OR NEW.level IS NOT OLD.level
BEGIN
    UPDATE meta SET boundary_version = boundary_version + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER units_boundary_delete AFTER DELETE ON units
BEGIN
    UPDATE meta SET boundary_version = boundary_version + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER unit_boundary_history_insert AFTER INSERT ON unit_boundary_history
BEGIN
    UPDATE meta SET boundary_version = boundary_version + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER unit_boundary_history_update AFTER UPDATE ON unit_boundary_history
BEGIN
    UPDATE meta SET boundary_version = boundary_version + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER unit_boundary_history_delete AFTER DELETE ON unit_boundary_history
BEGIN
    UPDATE meta SET boundary_version = boundary_version + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER unit_boundary_history_delete;
DROP TRIGGER unit_boundary_history_update;
DROP TRIGGER unit_boundary_history_insert;
DROP TRIGGER units_boundary_delete;
DROP TRIGGER units_boundary_update;
DROP TRIGGER units_boundary_insert;
ALTER TABLE events DROP COLUMN assigned_version;
ALTER TABLE meta DROP COLUMN boundary_version;
DROP TABLE unit_boundary_history;
