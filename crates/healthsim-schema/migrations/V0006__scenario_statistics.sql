-- V0006: scenario_statistics, the running statistics of a scenario's summary.
--
-- A persist call returns the scenario's summary. Computing it re-read every row of each type of
-- the scenario, so a 50-entity call cost more the larger the scenario grew. This table keeps,
-- per scenario and entity type, the mergeable parts of the type's statistics: the row count of
-- every value of a distribution (`part` >= 0 is the distribution's grouping set, `value` its
-- value as text), the row count (`part` = -1), and per measured column (`part` <= -2) its count,
-- sum, minimum and maximum. Each persist of new entities appends the parts of its own rows; the
-- summary adds the rows up instead of reading the type. Every other write of the scenario
-- deletes its rows (they are rebuilt by the next persist), so a row here is never stale
-- (ARCHITECTURE.md, "Running statistics"). Not a key: rows of one part and value add up.

CREATE TABLE scenario_statistics (
    scenario_id VARCHAR NOT NULL,
    entity_type VARCHAR NOT NULL,
    part INTEGER NOT NULL,
    value VARCHAR,
    n BIGINT NOT NULL,
    total DOUBLE,
    exact_total DECIMAL(38,2),
    low_number DOUBLE,
    high_number DOUBLE,
    low_day DATE,
    high_day DATE
);
