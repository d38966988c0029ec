-- A stored classification run changes what the service shows (mahalla
-- categories on tiles, profiles), so it bumps meta.data_version in the same
-- transaction, like an import: the server's snapshot watcher then reloads,
-- tile ETags change and the tile cache is dropped. This holds for every
-- writer, including `crimemap classify` in another process.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION classification_runs_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE meta SET data_version = data_version + 1;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER classification_runs_bump_data_version
    AFTER INSERT ON classification_runs
    FOR EACH ROW EXECUTE FUNCTION classification_runs_bump_data_version();

-- +goose Down
DROP TRIGGER classification_runs_bump_data_version ON classification_runs;
DROP FUNCTION classification_runs_bump_data_version();
