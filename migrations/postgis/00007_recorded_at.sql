-- When the store first recorded each event (its insert; an update keeps
-- it): reports count the events of a period recorded after the period
-- ended ("registered late"), which make a period's figures preliminary.
-- NULL for events stored before this migration (unknown).

-- +goose Up
ALTER TABLE events ADD COLUMN recorded_at timestamptz;
ALTER TABLE events ALTER COLUMN recorded_at SET DEFAULT now();

-- +goose Down
ALTER TABLE events DROP COLUMN recorded_at;
