-- Territory-scoped tokens and the author of every classification run, as
-- in the PostGIS schema. api_tokens.unit: the admin-unit code a token is
-- limited to ('' everywhere; never set on an admin token).
-- classification_runs.created_by: the ID of the admin token that POSTed
-- the run, 'cli' for `crimemap classify`, '' for runs stored before this
-- migration.

-- +goose Up
ALTER TABLE api_tokens ADD COLUMN unit TEXT NOT NULL DEFAULT '' CHECK (role <> 'admin' OR unit = '');
ALTER TABLE classification_runs ADD COLUMN created_by TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE classification_runs DROP COLUMN created_by;
ALTER TABLE api_tokens DROP COLUMN unit;
