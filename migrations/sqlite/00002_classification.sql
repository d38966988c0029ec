-- Classification runs (store.RunStore), as in the PostGIS schema: frozen
-- (the trigger refuses UPDATE), the newest run of a period (created_at,
-- then id) supersedes older ones. Times are INTEGER Unix microseconds UTC;
-- results is a JSON array of classify.Result objects (json_each works on it).

-- +goose Up
CREATE TABLE classification_runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
    period           TEXT NOT NULL CHECK (period <> ''),
    period_from      INTEGER NOT NULL,
    period_to        INTEGER NOT NULL CHECK (period_to > period_from),
    unit             TEXT NOT NULL DEFAULT '', -- '' for every mahalla
    policy_name      TEXT NOT NULL,
    policy_version   TEXT NOT NULL,
    snapshot_version INTEGER NOT NULL, -- uint64 as a signed bit pattern
    data_version     INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    red              INTEGER NOT NULL CHECK (red >= 0),
    yellow           INTEGER NOT NULL CHECK (yellow >= 0),
    green            INTEGER NOT NULL CHECK (green >= 0),
    results          TEXT NOT NULL CHECK (json_type(results) = 'array')
) STRICT;
CREATE INDEX classification_runs_period ON classification_runs (period, created_at DESC, id DESC);
CREATE INDEX classification_runs_created ON classification_runs (created_at DESC, id DESC);

-- +goose StatementBegin
CREATE TRIGGER classification_runs_frozen BEFORE UPDATE ON classification_runs
BEGIN
    SELECT RAISE(ABORT, 'classification runs are frozen; store a new run instead');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE IF EXISTS classification_runs;
