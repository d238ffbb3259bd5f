//! Small SQL helpers shared by the metadata, statistics and sample queries.
//!
//! Identifiers interpolated into SQL come only from the entity registry (`&'static str` of
//! `healthsim_schema::ENTITY_TYPES`); every value (scenario id, dates, limits) is a bound parameter.

use duckdb::types::Value;
use duckdb::{Connection, Params, Row};

use healthsim_schema::SCENARIO_COLUMN;

/// `scenario_id = ?`: every query of this crate is scoped to one scenario (one parameter, the
/// scenario id). Keep it a plain scan filter: with a separate ART index on `scenario_id` (schema
/// V0002, dropped by V0003) DuckDB 1.5 first collected every matching row id from the index,
/// 14 ms for 200,000 rows against about 1 ms for the zone-map-pruned scan.
pub(crate) fn scope_filter() -> String {
    format!("{SCENARIO_COLUMN} = ?")
}

/// `FROM <table> WHERE` [`scope_filter`].
pub(crate) fn scoped_from(table: &'static str) -> String {
    format!("FROM {table} WHERE {}", scope_filter())
}

/// Runs `sql` and maps every row with `map`.
pub(crate) fn query_rows<T, P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    mut map: impl FnMut(&Row<'_>) -> duckdb::Result<T>,
) -> duckdb::Result<Vec<T>> {
    // Cached: the summary runs the same statements for every call on a connection.
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(row)?);
    }
    Ok(out)
}

/// Every column of a row as DuckDB values.
pub(crate) fn row_values(row: &Row<'_>, columns: usize) -> duckdb::Result<Vec<Value>> {
    (0..columns).map(|i| row.get::<_, Value>(i)).collect()
}
