//! Statistics per entity type, computed by SQL aggregates inside DuckDB.
