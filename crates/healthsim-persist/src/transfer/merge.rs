//! [`Store::merge_scenarios`]: two or more scenarios into a new one.
//!
//! A *conflict* is one primary key in one table held by two sources. The sources are copied
//! in order, set-based (one `INSERT ... SELECT` per source and table), and [`OnConflict`]
//! decides what a conflict does:
//!
//! - [`OnConflict::Skip`]: the first source that has the id wins; later rows with a taken id
//!   are left out (an anti-join on the target).
//! - [`OnConflict::Overwrite`]: the last source wins. This is skip with the sources in reverse
//!   order, so no row is ever written twice.
//! - [`OnConflict::Rename`]: every entity is kept. The first source keeps its ids; a later
//!   source's entity whose id is taken gets `{id}~{n}`, `n` being the source's position in the
//!   list (1-based), or `{id}~{n}-{k}` (k = 2, 3, ...) when that is taken too. A new id is never
//!   one already in the target or in the source itself, so it is guaranteed free. Every
//!   reference to a renamed entity inside its own source (the registry's declared
//!   [`references`](healthsim_schema::EntityType::references), self references such as
//!   `geographic_entities.parent_geo_id` included) is rewritten to the new id: per source a
//!   temporary mapping table (table, old id, new id) is built first, then each table is copied
//!   with `coalesce(map.new_id, s.<column>)` through one LEFT JOIN per key and reference
//!   column.
//!
//! Under skip and overwrite, a reference to an id that lost its conflict resolves to the
//! winning entity of that id (that is what "the same id" means to those strategies); under
//! rename, every reference keeps pointing at the entity of its own source. Everything happens
//! in one transaction.
//!
//! `(scenario_id, <id>)` is a logical key, not a constraint (schema V0005): the anti-joins
//! above are what keep it unique in the target, under every strategy.

use healthsim_schema::crash;
use std::collections::BTreeMap;

use chrono::Utc;
use duckdb::types::Value;
use duckdb::{params, Connection, ToSql};
use healthsim_schema::{EntityType, SCENARIO_COLUMN};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::clone::copy_rows;
use super::TransferError;
use super::{metadata_with, stored_columns, tables_with_rows};
use crate::error::{db, Error, Result};
use crate::scenario::{self, ScenarioRef};
use crate::store::{in_transaction, Store};

/// What a merge does with an id that two sources hold in one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    /// Keep the first source's entity (default).
    #[default]
    Skip,
    /// Keep the last source's entity.
    Overwrite,
    /// Keep both; the later one gets a new id and its references are rewritten.
    Rename,
}

impl OnConflict {
    /// Every strategy, in documentation order.
    pub const ALL: [OnConflict; 3] = [OnConflict::Skip, OnConflict::Overwrite, OnConflict::Rename];

    /// The lowercase name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            OnConflict::Skip => "skip",
            OnConflict::Overwrite => "overwrite",
            OnConflict::Rename => "rename",
        }
    }
}

impl std::fmt::Display for OnConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How [`Store::merge_scenarios`] makes the merged scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MergeOptions {
    /// The new scenario's name (sanitized, made unique); default `{first source name}-merged`.
    pub target_name: Option<String>,
    /// Its description; default `merge of <source names>`.
    pub description: Option<String>,
    /// Its tags; default the union of the sources' tags.
    pub tags: Option<Vec<String>>,
    /// What an id held by two sources does (default [`OnConflict::Skip`]).
    pub on_conflict: OnConflict,
}

/// What [`Store::merge_scenarios`] made (tables without entities are left out of the counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct MergeResult {
    /// The new (merged) scenario's id.
    pub scenario_id: String,
    /// Its name.
    pub name: String,
    /// The sources, in the order given (unchanged).
    pub sources: Vec<ScenarioRef>,
    /// The strategy applied to conflicts.
    pub on_conflict: OnConflict,
    /// Entities in the merged scenario per table.
    pub counts: BTreeMap<String, u64>,
    /// Conflicts per table (only tables with conflicts): entities skipped, replaced or renamed.
    pub conflicts: BTreeMap<String, u64>,
    /// Entities in the merged scenario.
    pub total_entities: u64,
    /// Conflicts over all tables.
    pub total_conflicts: u64,
}

/// Temporary table: for one source, (table, old id, new id) of every renamed entity.
const MAP: &str = "hs_merge_map";
/// Temporary table: conflicting ids of one source and table still without a new id.
const PENDING: &str = "hs_merge_pending";

impl Store {
    /// Merges two or more scenarios (by id or name) into a new one (see the
    /// [module documentation](self)). The merged scenario's metadata records `merged_from`
    /// and `on_conflict`.
    ///
    /// # Errors
    ///
    /// [`TransferError::TooFewMergeSources`], [`TransferError::DuplicateMergeSource`] (wrapped in
    /// [`Error::Transfer`]), [`Error::InvalidTag`], [`Error::Naming`], the errors of [`Store::resolve_scenario`] for each source, and
    /// [`Error::Database`]. Nothing is written unless the call succeeds.
    pub fn merge_scenarios<S: AsRef<str>>(
        &self,
        sources: &[S],
        options: &MergeOptions,
    ) -> Result<MergeResult> {
        if sources.len() < 2 {
            return Err(Error::from(TransferError::TooFewMergeSources {
                given: sources.len(),
            }));
        }
        for tag in options.tags.iter().flatten() {
            scenario::normalize_tag(tag)?;
        }
        let statistics_from = self.options().running_statistics_from;
        self.with_writer(|conn| {
            in_transaction(conn, |conn| {
                let now = Utc::now().naive_utc();
                let mut resolved: Vec<ScenarioRef> = Vec::with_capacity(sources.len());
                for given in sources {
                    let source = scenario::resolve_on(conn, given.as_ref())?;
                    if resolved.iter().any(|s| s.scenario_id == source.scenario_id) {
                        return Err(Error::from(TransferError::DuplicateMergeSource {
                            given: crate::error::truncate(given.as_ref()),
                            name: source.name,
                        }));
                    }
                    resolved.push(source);
                }
                let names: Vec<&str> = resolved.iter().map(|s| s.name.as_str()).collect();
                let base = match &options.target_name {
                    Some(name) => name.clone(),
                    None => format!("{}-merged", names.first().copied().unwrap_or("scenarios")),
                };
                let name = scenario::unique_name(conn, &base, None)?;
                let description = match &options.description {
                    Some(description) => description.clone(),
                    None => format!("merge of {}", names.join(", ")),
                };
                let merged_from: Vec<_> = resolved
                    .iter()
                    .map(|s| json!({"scenario_id": s.scenario_id, "name": s.name}))
                    .collect();
                let metadata = metadata_with(None, "merged_from", json!(merged_from));
                let metadata =
                    metadata_with(Some(&metadata), "on_conflict", json!(options.on_conflict));
                let target = scenario::insert_scenario(
                    conn,
                    &name,
                    Some(&description),
                    Some(&metadata),
                    now,
                )?;
                let tags = match &options.tags {
                    Some(tags) => tags.clone(),
                    None => {
                        let mut union = Vec::new();
                        for source in &resolved {
                            union.extend(scenario::tags_of(conn, &source.scenario_id)?);
                        }
                        union
                    }
                };
                scenario::insert_tags(conn, &target.scenario_id, &tags, now)?;

                let mut merge = Merge {
                    conn,
                    target: &target.scenario_id,
                    counts: BTreeMap::new(),
                    conflicts: BTreeMap::new(),
                };
                match options.on_conflict {
                    OnConflict::Skip => {
                        for source in &resolved {
                            merge.add_skipping(&source.scenario_id)?;
                        }
                    }
                    OnConflict::Overwrite => {
                        for source in resolved.iter().rev() {
                            merge.add_skipping(&source.scenario_id)?;
                        }
                    }
                    OnConflict::Rename => {
                        merge.create_temp_tables()?;
                        for (index, source) in resolved.iter().enumerate() {
                            merge.add_renaming(&source.scenario_id, index + 1)?;
                        }
                        merge.drop_temp_tables()?;
                    }
                }
                let Merge {
                    counts, conflicts, ..
                } = merge;
                for (table, n) in &counts {
                    scenario::add_to_manifest(conn, &target.scenario_id, table, *n, now)?;
                }
                // The target's guard row (see crate::scenario).
                scenario::touch(conn, &target.scenario_id, now)?;
                crate::statistics::keep_large(conn, &target.scenario_id, statistics_from)?;
                Ok(MergeResult {
                    scenario_id: target.scenario_id,
                    name: target.name,
                    sources: resolved,
                    on_conflict: options.on_conflict,
                    total_entities: counts.values().sum(),
                    total_conflicts: conflicts.values().sum(),
                    counts,
                    conflicts,
                })
            })
        })
    }
}

/// One merge in progress: the target scenario and what has been written into it.
struct Merge<'c> {
    conn: &'c Connection,
    target: &'c str,
    counts: BTreeMap<String, u64>,
    conflicts: BTreeMap<String, u64>,
}

impl Merge<'_> {
    fn record(&mut self, t: &EntityType, inserted: u64, conflicts: u64) {
        if inserted > 0 {
            *self.counts.entry(t.table.to_string()).or_default() += inserted;
        }
        if conflicts > 0 {
            *self.conflicts.entry(t.table.to_string()).or_default() += conflicts;
        }
    }

    /// Copies a source's rows whose id the target does not hold yet; the others are conflicts.
    fn add_skipping(&mut self, source: &str) -> Result<()> {
        // The manifest's count is exact (kept in the transaction of every write).
        for (t, present) in tables_with_rows(self.conn, source)? {
            let columns = stored_columns(t).join(", ");
            let (table, pk) = (t.table, t.primary_key);
            let inserted = self
                .conn
                .execute(
                    &format!(
                        "INSERT INTO main.{table} ({SCENARIO_COLUMN}, {columns})
                         SELECT $1, {columns} FROM main.{table} s
                         WHERE s.{SCENARIO_COLUMN} = $2
                           AND NOT EXISTS (SELECT 1 FROM main.{table} x
                                           WHERE x.{SCENARIO_COLUMN} = $1 AND x.{pk} = s.{pk})"
                    ),
                    params![self.target, source],
                )
                .map_err(db(format!("merging {table}")))? as u64;
            self.record(t, inserted, present.saturating_sub(inserted));
        }
        Ok(())
    }

    fn create_temp_tables(&self) -> Result<()> {
        self.conn
            .execute_batch(&format!(
                "CREATE OR REPLACE TEMP TABLE {MAP} (tbl VARCHAR NOT NULL, old_id VARCHAR NOT NULL, new_id VARCHAR NOT NULL);
                 CREATE OR REPLACE TEMP TABLE {PENDING} (old_id VARCHAR NOT NULL);"
            ))
            .map_err(db("creating the merge's mapping tables"))
    }

    fn drop_temp_tables(&self) -> Result<()> {
        self.conn
            .execute_batch(&format!(
                "DROP TABLE IF EXISTS temp.{MAP}; DROP TABLE IF EXISTS temp.{PENDING};"
            ))
            .map_err(db("dropping the merge's mapping tables"))
    }

    /// Copies all of a source's rows; conflicting ids get new ones, and references to them
    /// inside the source follow. `position` is the source's 1-based place in the list.
    fn add_renaming(&mut self, source: &str, position: usize) -> Result<()> {
        self.conn
            .execute_batch(&format!("DELETE FROM temp.{MAP}"))
            .map_err(db("clearing the merge's mapping table"))?;
        let tables = tables_with_rows(self.conn, source)?;
        let mut renamed_any = false;
        for (t, _) in &tables {
            let conflicts = self.map_conflicts(t, source, position)?;
            renamed_any |= conflicts > 0;
            self.record(t, 0, conflicts);
        }
        for (t, _) in &tables {
            let inserted = if renamed_any {
                self.copy_renamed(t, source)?
            } else {
                copy_rows(self.conn, t, source, self.target)?
            };
            crash::point("merge.copied");
            self.record(t, inserted, 0);
        }
        Ok(())
    }

    /// Fills the mapping table with a new id for each id of `t` that `source` shares with the
    /// target; returns how many.
    fn map_conflicts(&self, t: &EntityType, source: &str, position: usize) -> Result<u64> {
        let (table, pk) = (t.table, t.primary_key);
        let context = || format!("finding id conflicts in {table}");
        self.conn
            .execute_batch(&format!("DELETE FROM temp.{PENDING}"))
            .map_err(db(context()))?;
        let conflicts = self
            .conn
            .execute(
                &format!(
                    "INSERT INTO temp.{PENDING} (old_id)
                     SELECT s.{pk} FROM main.{table} s
                     WHERE s.{SCENARIO_COLUMN} = $1
                       AND EXISTS (SELECT 1 FROM main.{table} x
                                   WHERE x.{SCENARIO_COLUMN} = $2 AND x.{pk} = s.{pk})"
                ),
                params![source, self.target],
            )
            .map_err(db(context()))? as u64;
        // Each round offers every pending id one candidate and keeps those that are free (in
        // neither the target nor the source, and not given to another id). Candidates of one
        // round are distinct (one suffix appended to distinct ids), and an id's candidates
        // differ from round to round while the taken ids are finite, so the loop ends; one
        // round is the rule.
        let mut pending = conflicts;
        let mut round: u64 = 1;
        while pending > 0 {
            let suffix = if round == 1 {
                format!("~{position}")
            } else {
                format!("~{position}-{round}")
            };
            self.conn
                .execute(
                    &format!(
                        "INSERT INTO temp.{MAP} (tbl, old_id, new_id)
                         SELECT $1, p.old_id, p.old_id || $2 FROM temp.{PENDING} p
                         WHERE NOT EXISTS (SELECT 1 FROM main.{table} x
                                           WHERE x.{SCENARIO_COLUMN} IN ($3, $4)
                                             AND x.{pk} = p.old_id || $2)
                           AND NOT EXISTS (SELECT 1 FROM temp.{MAP} m
                                           WHERE m.tbl = $1 AND m.new_id = p.old_id || $2)"
                    ),
                    params![table, suffix, self.target, source],
                )
                .map_err(db(context()))?;
            pending = self
                .conn
                .execute(
                    &format!(
                        "DELETE FROM temp.{PENDING} WHERE old_id IN
                         (SELECT old_id FROM temp.{MAP} WHERE tbl = $1)"
                    ),
                    params![table],
                )
                .map_err(db(context()))
                .map(|removed| pending.saturating_sub(removed as u64))?;
            round += 1;
        }
        Ok(conflicts)
    }

    /// Copies a source's rows of `t` through the mapping table: the primary key and every
    /// reference column become `coalesce(new id, old value)`.
    fn copy_renamed(&self, t: &EntityType, source: &str) -> Result<u64> {
        let table = t.table;
        // The mapped columns: the key, then each reference, with the table their ids are of.
        let mut mapped: Vec<(&str, &str)> = vec![(t.primary_key, table)];
        mapped.extend(t.references.iter().map(|r| (r.column, r.target)));
        let columns = stored_columns(t);
        let select: Vec<String> = columns
            .iter()
            .map(
                |column| match mapped.iter().position(|(c, _)| c == column) {
                    Some(i) => format!("coalesce(m{i}.new_id, s.{column})"),
                    None => format!("s.{column}"),
                },
            )
            .collect();
        // $1: the target; $2: the source; $3, $4, ...: the table of each mapped column.
        let joins: String = mapped
            .iter()
            .enumerate()
            .map(|(i, (column, _))| {
                format!(
                    "\n LEFT JOIN temp.{MAP} m{i} ON m{i}.tbl = ${} AND m{i}.old_id = s.{column}",
                    i + 3
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO main.{table} ({SCENARIO_COLUMN}, {})
             SELECT $1, {} FROM main.{table} s{joins}
             WHERE s.{SCENARIO_COLUMN} = $2",
            columns.join(", "),
            select.join(", "),
        );
        let mut values: Vec<Value> = vec![
            Value::Text(self.target.to_string()),
            Value::Text(source.to_string()),
        ];
        values.extend(
            mapped
                .iter()
                .map(|(_, target)| Value::Text((*target).to_string())),
        );
        let params: Vec<&dyn ToSql> = values.iter().map(|v| v as &dyn ToSql).collect();
        let n = self
            .conn
            .execute(&sql, params.as_slice())
            .map_err(db(format!("merging {table} with renamed ids")))?;
        Ok(n as u64)
    }
}
