//! Running the report's queries: scoped to one scenario, values bound, errors named.
//!
//! Identifiers interpolated into SQL come only from the entity registry (`&'static str` of
//! `healthsim_schema::ENTITY_TYPES`, found with [`column`]); the scenario id and every other
//! value are bound parameters.

use duckdb::types::Value;
use duckdb::{Connection, Row};
use healthsim_schema::{EntityType, SCENARIO_COLUMN};

use crate::Error;

/// The connection and scenario every query of one report reads.
#[derive(Clone, Copy)]
pub(crate) struct Db<'a> {
    pub(crate) conn: &'a Connection,
    pub(crate) scenario_id: &'a str,
}

impl<'a> Db<'a> {
    /// The scenario id as a parameter.
    pub(crate) fn scenario(&self) -> Value {
        Value::from(self.scenario_id.to_string())
    }

    /// Runs `sql` with `params` and maps every row; `context` names the figure in errors.
    pub(crate) fn rows<T>(
        &self,
        context: &str,
        sql: &str,
        params: Vec<Value>,
        mut map: impl FnMut(&Row<'_>) -> duckdb::Result<T>,
    ) -> Result<Vec<T>, Error> {
        let run = || -> duckdb::Result<Vec<T>> {
            let mut statement = self.conn.prepare(sql)?;
            let mut rows = statement.query(duckdb::params_from_iter(params))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(map(row)?);
            }
            Ok(out)
        };
        run().map_err(|source| Error::Query {
            context: context.to_string(),
            source,
        })
    }

    /// The one row of an aggregate query.
    pub(crate) fn row<T>(
        &self,
        context: &str,
        sql: &str,
        params: Vec<Value>,
        map: impl FnMut(&Row<'_>) -> duckdb::Result<T>,
    ) -> Result<T, Error> {
        self.rows(context, sql, params, map)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Query {
                context: context.to_string(),
                source: duckdb::Error::QueryReturnedNoRows,
            })
    }
}

/// `FROM <table> WHERE scenario_id = ?` (one parameter: the scenario id).
pub(crate) fn scoped(t: &EntityType) -> String {
    format!("FROM {} WHERE {SCENARIO_COLUMN} = ?", t.table)
}

/// `<alias>.scenario_id`, for joins.
pub(crate) fn scope_of(alias: &str) -> String {
    format!("{alias}.{SCENARIO_COLUMN}")
}

/// The registry's name of a column of `t`, if it has one (the report leaves out a figure whose
/// column the registry does not have, rather than guessing).
pub(crate) fn column(t: &EntityType, name: &str) -> Option<&'static str> {
    t.column(name).map(|c| c.name)
}

/// An integer aggregate (counts) as `u64`; NULL as 0.
pub(crate) fn count(row: &Row<'_>, index: usize) -> duckdb::Result<u64> {
    let n: Option<i64> = row.get(index)?;
    Ok(n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
}
