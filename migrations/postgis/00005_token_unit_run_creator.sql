-- Territory-scoped tokens and the author of every classification run.
-- api_tokens.unit: the admin-unit code (region, district or mahalla) a
-- token is limited to: exact answers inside it, the public view elsewhere;
-- '' for a token valid everywhere. An admin token is never limited.
-- classification_runs.created_by: who stored the run: the ID of the admin
-- token that POSTed it, or 'cli' for `crimemap classify`; '' for runs
-- stored before this migration. Adding a column with a constant default
-- rewrites no row, so the frozen-run trigger (BEFORE UPDATE) does not fire.

-- +goose Up
ALTER TABLE api_tokens ADD COLUMN unit text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_admin_everywhere CHECK (role <> 'admin' OR unit = '');
ALTER TABLE classification_runs ADD COLUMN created_by text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE classification_runs DROP COLUMN created_by;
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_admin_everywhere;
ALTER TABLE api_tokens DROP COLUMN unit;
