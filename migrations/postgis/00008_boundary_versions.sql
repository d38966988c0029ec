-- Boundary versions and the assignment of events that follows boundaries.
--
-- unit_boundary_history: the earlier boundaries of a unit. A row is the
-- boundary the unit had until valid_until (exclusive), from the previous
-- row's valid_until on (the first: from the beginning); geom NULL means the
-- unit had no boundary then (a unit first imported with --valid-from). The
-- current boundary (units.geom) applies from the last row's valid_until
-- on, or always when the unit has no rows: a unit with one version has no
-- rows here, as before this migration.
--
-- meta.boundary_version increases with every change of the boundaries or
-- the unit tree (row triggers below, so hand edits count too);
-- events.assigned_version is the boundary_version whose boundaries last
-- computed the event's unit codes (`crimemap reassign`), NULL when no
-- reassignment has checked it yet (inserted since). Reassignment works on
-- the located events whose assigned_version differs from boundary_version,
-- in id order, one transaction per batch that also stamps the batch: a
-- crash keeps the batches done and the next run goes on with the rest.

-- +goose Up
CREATE TABLE unit_boundary_history (
    code        text COLLATE "C" NOT NULL REFERENCES units (code) ON DELETE CASCADE,
    valid_until timestamptz NOT NULL,
    geom        geometry(MultiPolygon, 4326), -- NULL: no boundary then
    PRIMARY KEY (code, valid_until)
);

ALTER TABLE meta ADD COLUMN boundary_version bigint NOT NULL DEFAULT 1;
-- Nullable without a default: adding it rewrites nothing.
ALTER TABLE events ADD COLUMN assigned_version bigint;

-- +goose StatementBegin
CREATE FUNCTION bump_boundary_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE meta SET boundary_version = boundary_version + 1;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER units_boundary_insert AFTER INSERT OR DELETE ON units
    FOR EACH ROW EXECUTE FUNCTION bump_boundary_version();
CREATE TRIGGER units_boundary_update AFTER UPDATE OF geom, parent_code, level ON units
    FOR EACH ROW WHEN (NEW.geom IS DISTINCT FROM OLD.geom OR NEW.parent_code IS DISTINCT FROM OLD.parent_code
                       OR NEW.level IS DISTINCT FROM OLD.level)
    EXECUTE FUNCTION bump_boundary_version();
CREATE TRIGGER unit_boundary_history_change AFTER INSERT OR UPDATE OR DELETE ON unit_boundary_history
    FOR EACH ROW EXECUTE FUNCTION bump_boundary_version();

-- +goose Down
DROP TRIGGER unit_boundary_history_change ON unit_boundary_history;
DROP TRIGGER units_boundary_update ON units;
DROP TRIGGER units_boundary_insert ON units;
DROP FUNCTION bump_boundary_version();
ALTER TABLE events DROP COLUMN assigned_version;
ALTER TABLE meta DROP COLUMN boundary_version;
DROP TABLE unit_boundary_history;
