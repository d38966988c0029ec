-- Official population per unit and year (`crimemap population import`):
-- the number of residents on 1 January of year. Rates of a period use the
-- figure of the year the period starts in, else the nearest year (see the
-- top README, Population). units.population/population_year stay as one
-- more figure (from the boundary file). No foreign key to units: the
-- store checks the codes when it writes, and boundary re-imports never
-- cascade into these figures.

-- +goose Up
CREATE TABLE population (
    unit_code  text COLLATE "C" NOT NULL CHECK (unit_code <> ''),
    year       integer NOT NULL CHECK (year BETWEEN 1800 AND 2200),
    population bigint NOT NULL CHECK (population > 0),
    PRIMARY KEY (unit_code, year)
);

-- +goose Down
DROP TABLE IF EXISTS population;
