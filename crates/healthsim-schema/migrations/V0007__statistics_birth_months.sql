-- V0007: empties scenario_statistics, whose parts of birth dates change layout.
--
-- The running statistics (V0006) kept a type's birth dates as one grouping set, one row per
-- distinct date: a summary of 1,000,000 patients read ~31,500 such rows to compute their ages.
-- They are now kept twice, per birth month and per day, the days filed under their month, and
-- the grouping sets after them are numbered one higher, so parts written before cannot be read
-- the new way. The table holds nothing but those parts, which are derived from the rows: the
-- summary reads the rows while a type has no parts, and the next persist into a large type
-- writes them again (ARCHITECTURE.md, "Running statistics").

DELETE FROM scenario_statistics;
