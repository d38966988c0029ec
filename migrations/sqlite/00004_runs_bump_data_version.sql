-- A stored classification run changes what the service shows (mahalla
-- categories on tiles, profiles), so it bumps meta.data_version in the same
-- transaction, like an import: the server's snapshot watcher then reloads,
-- tile ETags change and the tile cache is dropped, whichever process wrote
-- the run.

-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER classification_runs_bump_data_version
AFTER INSERT ON classification_runs
BEGIN
    UPDATE meta SET data_version = data_version + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER classification_runs_bump_data_version;
