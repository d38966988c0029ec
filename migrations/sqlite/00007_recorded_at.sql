-- When the store first recorded each event (its insert, Unix
-- microseconds; an update keeps it): reports count the events of a period
-- recorded after the period ended ("registered late"). NULL for events
-- stored before this migration (unknown). SQLite cannot default a new
-- column to the current time, so the store sets it on insert.

-- +goose Up
ALTER TABLE events ADD COLUMN recorded_at INTEGER;

-- +goose Down
ALTER TABLE events DROP COLUMN recorded_at;
