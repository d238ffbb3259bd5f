//! The whole state of a database file, for "nothing was written" and "all or nothing" checks
//! that a total entity count cannot make: a refused call that leaves an empty scenario, a tag,
//! a manifest row or a changed row behind keeps the count and changes the state.
//!
//! Shared by healthsim-persist's tests (`common::state`) and healthsim-cli's reliability suites
//! (included there by path), so both compare databases the same way. Table names come from the
//! registry ([`ENTITY_TYPES`], [`STATE_TABLES`], [`STATE_TABLE_DEFS`], [`MIGRATIONS_TABLE`]),
//! never from a catalog query or input. [`repeated_keys`] is the whole-database check that no
//! logical key appears twice, since no constraint keeps them (schema V0005).
#![allow(dead_code)] // each test binary uses a different part of these helpers

use std::collections::BTreeMap;

use healthsim_schema::ddl::{GUARD_TABLE, STATE_TABLE_DEFS, STATISTICS_TABLE};
use healthsim_schema::duckdb::Connection;
use healthsim_schema::registry::{MIGRATIONS_TABLE, STATE_TABLES};
use healthsim_schema::{ENTITY_TYPES, SCENARIO_COLUMN};

/// Every table of the schema: the canonical tables, the scenario state tables, the history.
fn all_tables() -> impl Iterator<Item = &'static str> {
    ENTITY_TYPES
        .iter()
        .map(|t| t.table)
        .chain(STATE_TABLES.iter().copied())
        .chain([MIGRATIONS_TABLE])
}

/// The row count and content hash of every table: md5 of its rows rendered as text, sorted, so
/// equal contents give equal hashes whatever the physical order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DbState(pub(crate) BTreeMap<&'static str, (i64, String)>);

impl DbState {
    /// The tables whose count or contents differ, with both counts (empty when equal).
    pub(crate) fn differences(&self, other: &DbState) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|(table, (n, hash))| match other.0.get(table) {
                Some((m, other_hash)) if m == n && other_hash == hash => None,
                Some((m, _)) => Some(format!("{table} ({n} rows → {m}, contents differ)")),
                None => Some(format!("{table} (missing)")),
            })
            .collect()
    }

    /// `Ok` when `after` is exactly this state; else which tables changed.
    pub(crate) fn expect_same(&self, after: &DbState, what: &str) -> Result<(), String> {
        let changed = self.differences(after);
        if changed.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{what} changed the database: {}",
                changed.join(", ")
            ))
        }
    }
}

/// `SELECT '<t>', count(*), md5(sorted rows)` for each table, as one query.
fn state_sql(select: impl Fn(&str) -> String) -> String {
    all_tables()
        .map(|table| {
            format!(
                "SELECT '{table}', count(*), coalesce(md5(string_agg(r::VARCHAR, chr(10) \
                 ORDER BY r::VARCHAR)), '') FROM ({}) r",
                select(table)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

fn read_state(conn: &Connection, sql: &str) -> Result<DbState, String> {
    let mut stmt = conn
        .prepare(sql)
        .map_err(|e| format!("reading the database state: {e}"))?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                (row.get::<_, i64>(1)?, row.get::<_, String>(2)?),
            ))
        })
        .map_err(|e| format!("reading the database state: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("reading the database state: {e}"))?;
    let mut state = BTreeMap::new();
    for (table, value) in rows {
        let name = all_tables()
            .find(|t| *t == table)
            .ok_or_else(|| format!("unexpected table {table}"))?;
        state.insert(name, value);
    }
    Ok(DbState(state))
}

/// The exact state of every table, every column included.
pub(crate) fn db_state(conn: &Connection) -> Result<DbState, String> {
    read_state(
        conn,
        &state_sql(|table| format!("SELECT * FROM main.{table}")),
    )
}

/// What one scenario holds, independent of its id and of when it was written: its name,
/// description and metadata, tags, manifest, and every canonical table's rows without
/// `scenario_id` and `created_at`. Two runs of the same operation on copies of one database
/// give equal contents.
pub(crate) fn scenario_contents(conn: &Connection, name: &str) -> Result<Option<DbState>, String> {
    let id: Option<String> = {
        let mut stmt = conn
            .prepare("SELECT scenario_id FROM scenarios WHERE name = ?")
            .map_err(|e| format!("looking up {name}: {e}"))?;
        let mut ids = stmt
            .query_map([name], |row| row.get::<_, String>(0))
            .map_err(|e| format!("looking up {name}: {e}"))?;
        ids.next()
            .transpose()
            .map_err(|e| format!("looking up {name}: {e}"))?
    };
    let Some(id) = id else {
        return Ok(None);
    };
    // The id is a UUID the store made; quoting it keeps the one query simple.
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!("unexpected scenario id {id:?}"));
    }
    let sql = state_sql(|table| {
        let excluded = match table {
            "scenarios" => "scenario_id, created_at, updated_at",
            "scenario_entities" => "scenario_id, updated_at",
            "scenario_tags" => "scenario_id, created_at",
            // The history and the namespace guard belong to no scenario; the running
            // statistics are derived from the rows, and how many sets of parts hold them
            // depends on the calls that wrote them (tests/running_statistics.rs checks them).
            t if t == MIGRATIONS_TABLE || t == GUARD_TABLE || t == STATISTICS_TABLE => {
                return "SELECT 1 WHERE false".to_string()
            }
            _ => "scenario_id, created_at",
        };
        format!("SELECT * EXCLUDE ({excluded}) FROM main.{table} WHERE {SCENARIO_COLUMN} = '{id}'")
    });
    read_state(conn, &sql).map(Some)
}

/// Every logical key of the schema as `(table, key columns)`: `(scenario_id, <id>)` of each
/// canonical table, each state table's logical key and each of its unique columns, and
/// `schema_migrations.version`. None is a constraint (schema V0005): the write path keeps them.
fn logical_keys() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut keys: Vec<(&'static str, Vec<&'static str>)> = ENTITY_TYPES
        .iter()
        .map(|t| (t.table, vec![SCENARIO_COLUMN, t.primary_key]))
        .collect();
    for t in STATE_TABLE_DEFS {
        if !t.logical_key.is_empty() {
            keys.push((t.name, t.logical_key.to_vec()));
        }
        keys.extend(t.unique.iter().map(|column| (t.name, vec![*column])));
    }
    keys.push((MIGRATIONS_TABLE, vec!["version"]));
    keys
}

/// Every logical key value that appears more than once in its table (at most 5 per key,
/// `table (columns) = values ×n`), and the guard table when it does not hold exactly one row.
/// Empty for a whole database.
pub(crate) fn repeated_keys(conn: &Connection) -> Result<Vec<String>, String> {
    let mut parts: Vec<String> = logical_keys()
        .iter()
        .map(|(table, columns)| {
            let values = columns
                .iter()
                .map(|c| format!("{c}::VARCHAR"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "(SELECT '{table} ({names}) = ' || k || ' ×' || n FROM \
                 (SELECT concat_ws(', ', {values}) AS k, count(*) AS n FROM main.{table} \
                 GROUP BY {keys} HAVING count(*) > 1 LIMIT 5))",
                names = columns.join(", "),
                keys = columns.join(", ")
            )
        })
        .collect();
    parts.push(format!(
        "(SELECT '{GUARD_TABLE} has ' || count(*) || ' rows, not 1' FROM main.{GUARD_TABLE} \
         HAVING count(*) <> 1)"
    ));
    let sql = parts.join(" UNION ALL ");
    let mut stmt = conn
        .prepare(&sql)
        .map_err(|e| format!("looking for repeated keys: {e}"))?;
    let rows = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(|e| format!("looking for repeated keys: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("looking for repeated keys: {e}"))?;
    Ok(rows)
}

/// `Ok` when no logical key appears twice in any table (see [`repeated_keys`]).
pub(crate) fn expect_unique_keys(conn: &Connection) -> Result<(), String> {
    let repeated = repeated_keys(conn)?;
    if repeated.is_empty() {
        Ok(())
    } else {
        Err(format!("repeated logical keys: {}", repeated.join("; ")))
    }
}
