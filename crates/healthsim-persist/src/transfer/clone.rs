//! [`Store::clone_scenario`]: a new scenario holding a copy of another's entities.
//!
//! One `INSERT INTO t SELECT $new AS scenario_id, <other columns> FROM t WHERE scenario_id =
//! $source` per table that has rows, the new scenario's row, tags and manifest, and the running
//! statistics of each copied type (`crate::statistics`), all in one transaction. Ids are
//! scoped by scenario, so every copied reference stays valid: the copy holds the same ids. The
//! copy is as free of repeated ids as its source (the logical key `(scenario_id, <id>)` has no
//! constraint: the write path keeps it), since the target is new.

use healthsim_schema::crash;
use std::collections::BTreeMap;

use chrono::Utc;
use duckdb::{params, Connection};
use healthsim_schema::{EntityType, SCENARIO_COLUMN};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{metadata_with, scenario_details, selected_types, stored_columns, tables_with_rows};
use crate::error::{db, Result};
use crate::scenario::{self, ScenarioRef};
use crate::statistics;
use crate::store::{in_transaction, Store};

/// What [`Store::clone_scenario`] makes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CloneOptions {
    /// The new scenario's name (sanitized, made unique); default `{source name}-copy`.
    pub new_name: Option<String>,
    /// Its description; default the source's.
    pub description: Option<String>,
    /// Its tags; default the source's.
    pub tags: Option<Vec<String>>,
    /// Only these entity types (table names, singular forms or aliases); default all.
    pub types: Option<Vec<String>>,
}

/// What [`Store::clone_scenario`] made (tables without entities are left out of the counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct CloneResult {
    /// The new scenario's id: use it for changes that should touch only the copy.
    pub scenario_id: String,
    /// Its name.
    pub name: String,
    /// The scenario it was copied from (unchanged).
    pub source: ScenarioRef,
    /// Entities copied per table.
    pub counts: BTreeMap<String, u64>,
    /// Entities copied over all tables.
    pub total_entities: u64,
}

impl Store {
    /// Copies a scenario (by id or name) into a new one (see the [module documentation](self)).
    /// The copy's metadata records `cloned_from`.
    ///
    /// # Errors
    ///
    /// [`crate::Error::UnknownEntityType`] and [`crate::Error::InvalidRequest`] (an empty type
    /// list), [`crate::Error::InvalidTag`], [`crate::Error::Naming`], the errors of
    /// [`Store::resolve_scenario`], and [`crate::Error::Database`]. Nothing is written unless
    /// the call succeeds.
    pub fn clone_scenario(&self, source: &str, options: &CloneOptions) -> Result<CloneResult> {
        let types = selected_types(options.types.as_deref())?;
        for tag in options.tags.iter().flatten() {
            scenario::normalize_tag(tag)?;
        }
        self.with_writer(|conn| {
            in_transaction(conn, |conn| {
                let now = Utc::now().naive_utc();
                let source = scenario::resolve_on(conn, source)?;
                let (description, metadata) = scenario_details(conn, &source.scenario_id)?;
                let base = match &options.new_name {
                    Some(name) => name.clone(),
                    None => format!("{}-copy", source.name),
                };
                let name = scenario::unique_name(conn, &base, None)?;
                let metadata = metadata_with(
                    metadata.as_deref(),
                    "cloned_from",
                    json!({"scenario_id": source.scenario_id, "name": source.name}),
                );
                let target = scenario::insert_scenario(
                    conn,
                    &name,
                    options
                        .description
                        .as_ref()
                        .or(description.as_ref())
                        .map(String::as_str),
                    Some(&metadata),
                    now,
                )?;
                let tags = match &options.tags {
                    Some(tags) => tags.clone(),
                    None => scenario::tags_of(conn, &source.scenario_id)?,
                };
                scenario::insert_tags(conn, &target.scenario_id, &tags, now)?;

                let mut counts = BTreeMap::new();
                for (t, _) in tables_with_rows(conn, &source.scenario_id)? {
                    if !types.iter().any(|s| s.table == t.table) {
                        continue;
                    }
                    let n = copy_rows(conn, t, &source.scenario_id, &target.scenario_id)?;
                    statistics::copy_parts(conn, t, &source.scenario_id, &target.scenario_id)?;
                    crash::point("clone.copied");
                    if n > 0 {
                        scenario::add_to_manifest(conn, &target.scenario_id, t.table, n, now)?;
                        counts.insert(t.table.to_string(), n);
                    }
                }
                // The target's guard row (see crate::scenario): its row, created above, is
                // updated by the transaction that writes its entities. Its running statistics
                // are the source's, copied with the rows.
                scenario::touch_keeping_statistics(conn, &target.scenario_id, now)?;
                Ok(CloneResult {
                    scenario_id: target.scenario_id,
                    name: target.name,
                    source,
                    total_entities: counts.values().sum(),
                    counts,
                })
            })
        })
    }
}

/// Copies every row of `from`'s scenario in table `t` into scenario `to`, unchanged but for
/// `scenario_id`; returns how many. (Also the merge's copy when a source has no conflicts.)
pub(crate) fn copy_rows(conn: &Connection, t: &EntityType, from: &str, to: &str) -> Result<u64> {
    let columns = stored_columns(t).join(", ");
    let n = conn
        .execute(
            &format!(
                "INSERT INTO main.{table} ({SCENARIO_COLUMN}, {columns})
                 SELECT $1, {columns} FROM main.{table} WHERE {SCENARIO_COLUMN} = $2",
                table = t.table
            ),
            params![to, from],
        )
        .map_err(db(format!("copying {}", t.table)))?;
    Ok(n as u64)
}
