-- Classification runs: a frozen red/yellow/green classification of every
-- mahalla for one period (analytics/classify.Run, store.RunStore). A run is
-- never edited (the trigger below refuses UPDATE); a newer run of the same
-- period supersedes the older ones (newest: created_at, then id).
-- Metadata are columns; the per-mahalla results are one jsonb document,
-- an array of classify.Result objects, e.g.
--   SELECT r->>'mahalla', r->>'category'
--   FROM classification_runs, jsonb_array_elements(results) r WHERE id = 7;

-- +goose Up
CREATE TABLE classification_runs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period           text COLLATE "C" NOT NULL CHECK (period <> ''), -- label, e.g. 2025-Q3
    period_from      timestamptz NOT NULL,
    period_to        timestamptz NOT NULL CHECK (period_to > period_from),
    -- Region or district the results were restricted to; '' for every mahalla.
    unit             text COLLATE "C" NOT NULL DEFAULT '',
    policy_name      text NOT NULL,
    policy_version   text NOT NULL,
    snapshot_version bigint NOT NULL,
    data_version     bigint NOT NULL, -- meta.data_version the snapshot was built from
    created_at       timestamptz NOT NULL,
    -- Counts per category, for SQL clients (the results hold the truth).
    red              integer NOT NULL CHECK (red >= 0),
    yellow           integer NOT NULL CHECK (yellow >= 0),
    green            integer NOT NULL CHECK (green >= 0),
    results          jsonb NOT NULL CHECK (jsonb_typeof(results) = 'array')
);
CREATE INDEX classification_runs_period ON classification_runs (period, created_at DESC, id DESC);
CREATE INDEX classification_runs_created ON classification_runs (created_at DESC, id DESC);

-- +goose StatementBegin
CREATE FUNCTION classification_runs_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'classification runs are frozen; store a new run instead'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER classification_runs_frozen BEFORE UPDATE ON classification_runs
    FOR EACH ROW EXECUTE FUNCTION classification_runs_frozen();

-- +goose Down
DROP TABLE IF EXISTS classification_runs;
DROP FUNCTION IF EXISTS classification_runs_frozen();
