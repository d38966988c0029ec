-- What a classification run classified (classify.Run.InputVersion), so a
-- diff of two runs tells true causes. Storing a run bumps
-- meta.data_version (00004: snapshots rebuild to show the new
-- categories), so the data version cannot tell whether the inputs of two
-- runs differ. meta.run_bumps counts the bumps made by stored runs: the
-- input version, data_version - run_bumps, rises with every write of
-- events, units, boundaries or population (including a hand-made
-- UPDATE meta SET data_version = data_version + 1) and never with a run.
-- Each run records the input version its snapshot was built from and
-- inputs_at, the store's clock at that read (the clock of
-- events.recorded_at): the events of a run's period recorded after the
-- earlier run's inputs_at and through the later one's are the late
-- registrations between two runs. Both NULL for runs stored before this
-- migration (unknown).

-- +goose Up
ALTER TABLE meta ADD COLUMN run_bumps bigint NOT NULL DEFAULT 0;
ALTER TABLE classification_runs ADD COLUMN input_version bigint CHECK (input_version > 0);
ALTER TABLE classification_runs ADD COLUMN inputs_at timestamptz;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION classification_runs_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE meta SET data_version = data_version + 1, run_bumps = run_bumps + 1;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION classification_runs_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE meta SET data_version = data_version + 1;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
ALTER TABLE classification_runs DROP COLUMN inputs_at;
ALTER TABLE classification_runs DROP COLUMN input_version;
ALTER TABLE meta DROP COLUMN run_bumps;
