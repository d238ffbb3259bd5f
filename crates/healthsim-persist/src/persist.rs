//! [`Store::persist_entities`]: one batch of entities into a new or existing scenario, atomically.
//!
//! Every entity of the request is resolved and converted (validated) before anything is
//! written. The write is one transaction for all types: create the scenario if new, then per
//! type count which ids the scenario already has (updated) and which it has not (inserted): up
//! to [`DIRECT_APPEND_MAX_ROWS`] ids as parameters of one statement, more through a one-column
//! temporary table of the ids joined with the table. When no id exists (the common case) the
//! rows are appended straight into the canonical table (DuckDB appender), each copied once;
//! otherwise they are appended into a temporary staging table, one `UPDATE ... FROM` the stage
//! replaces the existing rows and one anti-joined `INSERT ... SELECT` adds the others. (Staging
//! every large batch and moving it with `INSERT ... SELECT` copied each row twice: persisting
//! 1,000,000 patients, or 1,699,980 multi-product entities, took ~16 % longer.) The manifest
//! `scenario_entities` and `scenarios.updated_at` are updated in the same transaction, and on a
//! file so is the summary that the result carries (on a lake it is read right after the commit: see
//! `Store::write_prepared`). Any failure rolls all of it back, including a new scenario's row.
//!
//! `(scenario_id, <id>)` is each table's *logical* key, not a constraint (schema V0005): this
//! write path is what keeps it unique, for the local file and a DuckLake catalog alike. The ids
//! of one batch are distinct ([`convert`] refuses a repeated one), every id is looked up before
//! it is written, and the transaction updates the scenario's own `scenarios` row (its guard
//! row, see [`crate::scenario`]), so two writers of one scenario on a DuckLake catalog conflict
//! at commit instead of both inserting the same id.

use healthsim_schema::crash;
use std::collections::BTreeMap;

use chrono::{NaiveDateTime, Utc};

use duckdb::{Connection, ToSql};
use healthsim_schema::{EntityType, SCENARIO_COLUMN, SYSTEM_COLUMNS};
use healthsim_summary::{ScenarioSummary, SummaryOptions};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use healthsim_schema::text::json_kind;

use crate::error::{db, entity_type, Error, Result};
use crate::input::{convert, InputError, Provenance, Row};
use crate::known_ids::KnownIds;
use crate::scenario::{self, timestamp, ScenarioRef};
use crate::statistics::{self as running, Statistics, Upkeep};
use crate::store::{in_transaction, read_one_snapshot, Store};

/// How many ids a [`PersistResult`] lists at most; the rest is counted, not listed.
pub const MAX_IDS_IN_RESULT: usize = 50;

/// Token budget of a [`PersistResult`]'s compact JSON (cl100k_base; ARCHITECTURE.md, "The agent's contract"). The summary is
/// trimmed to what the rest of the result (with [`MIN_IDS_IN_RESULT`] ids) leaves of it; then
/// ids are dropped from the end of [`PersistResult::entity_ids`] until the result fits.
pub const RESULT_TOKEN_BUDGET: usize = 500;

/// How many ids a result keeps room for when the summary is sized (fewer only when the call
/// persisted fewer, or when the counts of a call covering very many types leave no room).
pub const MIN_IDS_IN_RESULT: usize = 10;

/// The entities of a request: one type, or a map of type → list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EntityInput {
    /// One type (table name, singular form or alias) and its entities.
    Typed {
        /// The entity type.
        entity_type: String,
        /// JSON objects.
        entities: Vec<Json>,
    },
    /// Several types: each key is a type, each value a JSON array of objects.
    ByType(Map<String, Json>),
}

/// Where the entities go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioTarget {
    /// A new scenario. Without a name, one is generated from the context's keywords, the first
    /// entity type and today's date (UTC), e.g. `diabetic-patients-20241226`; a given name is
    /// sanitized and, when taken, gets a `-2`, `-3`, ... counter.
    New {
        /// The name to use (sanitized, made unique).
        #[serde(default)]
        name: Option<String>,
        /// Free text the name's keywords come from, e.g. the user's request; kept in the
        /// scenario's metadata.
        #[serde(default)]
        context: Option<String>,
        /// A description.
        #[serde(default)]
        description: Option<String>,
        /// Tags (lowercased, trimmed).
        #[serde(default)]
        tags: Vec<String>,
    },
    /// An existing scenario, by id or name (see [`Store::resolve_scenario`]).
    Existing(String),
}

impl Default for ScenarioTarget {
    /// A new, auto-named scenario.
    fn default() -> Self {
        ScenarioTarget::New {
            name: None,
            context: None,
            description: None,
            tags: Vec::new(),
        }
    }
}

impl ScenarioTarget {
    /// A new scenario auto-named from `context`.
    pub fn new_from_context(context: impl Into<String>) -> Self {
        ScenarioTarget::New {
            name: None,
            context: Some(context.into()),
            description: None,
            tags: Vec::new(),
        }
    }

    /// A new scenario with this name (sanitized, made unique).
    pub fn new_named(name: impl Into<String>) -> Self {
        ScenarioTarget::New {
            name: Some(name.into()),
            context: None,
            description: None,
            tags: Vec::new(),
        }
    }

    /// An existing scenario, by id or name.
    pub fn existing(id_or_name: impl Into<String>) -> Self {
        ScenarioTarget::Existing(id_or_name.into())
    }
}

/// One persist call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersistRequest {
    /// The entities.
    pub entities: EntityInput,
    /// Where they go (default: a new, auto-named scenario).
    #[serde(default)]
    pub scenario: ScenarioTarget,
    /// Provenance for every entity that does not carry its own (flattened: `source_type`,
    /// `source_system`, `skill_used`, `generation_seed` at the top level of the request); an
    /// entity's own value wins, field by field. Checked by [`Provenance::validate`].
    #[serde(flatten)]
    pub provenance: Provenance,
}

impl PersistRequest {
    /// Entities of one type into a new, auto-named scenario.
    pub fn new(entity_type: impl Into<String>, entities: Vec<Json>) -> Self {
        PersistRequest {
            entities: EntityInput::Typed {
                entity_type: entity_type.into(),
                entities,
            },
            scenario: ScenarioTarget::default(),
            provenance: Provenance::default(),
        }
    }

    /// Entities of several types (type → JSON array) into a new, auto-named scenario.
    pub fn by_type(entities: Map<String, Json>) -> Self {
        PersistRequest {
            entities: EntityInput::ByType(entities),
            scenario: ScenarioTarget::default(),
            provenance: Provenance::default(),
        }
    }

    /// The same request, into `scenario`.
    pub fn with_scenario(mut self, scenario: ScenarioTarget) -> Self {
        self.scenario = scenario;
        self
    }

    /// The same request, into the existing scenario `id_or_name`.
    pub fn into_existing(self, id_or_name: impl Into<String>) -> Self {
        self.with_scenario(ScenarioTarget::existing(id_or_name))
    }

    /// The same request with default provenance.
    pub fn with_provenance(mut self, provenance: Provenance) -> Self {
        self.provenance = provenance;
        self
    }
}

/// Inserted and updated entities of one type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct TypeCounts {
    /// New ids in the scenario.
    pub inserted: u64,
    /// Ids the scenario already had (their rows were replaced).
    pub updated: u64,
}

/// What a persist call did. Small whatever the batch size: ids are capped at
/// [`MAX_IDS_IN_RESULT`] and at what fits in [`RESULT_TOKEN_BUDGET`] tokens, and the summary
/// has no samples. An updated entity keeps its `created_at`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct PersistResult {
    /// The scenario written to: pass it as scenario_id to the next batch.
    pub scenario_id: String,
    /// Its name.
    pub scenario_name: String,
    /// Whether this call created the scenario.
    pub is_new_scenario: bool,
    /// Inserted / updated per table.
    pub counts: BTreeMap<String, TypeCounts>,
    /// Persisted ids in input order, at most 50.
    pub entity_ids: Vec<String>,
    /// Whether entity_ids lists fewer ids than were persisted.
    pub ids_truncated: bool,
    /// Entities persisted by this call (inserted + updated).
    pub total_persisted: u64,
    /// The scenario's summary after the call, without samples.
    pub summary: ScenarioSummary,
}

/// The converted entities of one type.
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) entity_type: &'static EntityType,
    pub(crate) rows: Vec<Row>,
}

/// A request's entities, resolved and validated into typed rows, ready for
/// [`Store::write_entities`]. Preparing touches no database, so a streaming caller can convert
/// the next batch on one thread while another thread writes the previous one.
#[derive(Debug)]
pub struct PreparedEntities {
    batches: Vec<Batch>,
}

impl PreparedEntities {
    /// Resolves every type and converts every entity (the validation of
    /// [`Store::persist_entities`]).
    ///
    /// # Errors
    ///
    /// The input errors of [`Store::persist_entities`]: [`Error::UnknownEntityType`],
    /// [`Error::InvalidRequest`] (no entities, a type given twice), and [`Error::Input`]
    /// ([`InputError::NotAList`], [`InputError::NotAnObject`], [`InputError::MissingField`],
    /// [`InputError::InvalidField`], [`InputError::DuplicateId`]).
    pub fn new(entities: &EntityInput) -> Result<Self> {
        let batches = prepare(entities)?;
        if batches.iter().all(|b| b.rows.is_empty()) {
            return Err(Error::InvalidRequest {
                reason: "there are no entities to persist".into(),
            });
        }
        Ok(PreparedEntities { batches })
    }

    /// How many entities (all types).
    pub fn len(&self) -> usize {
        self.batches.iter().map(|b| b.rows.len()).sum()
    }

    /// Whether there are none (never true for a value made by [`PreparedEntities::new`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What [`Store::write_entities`] did: a [`PersistResult`] without the summary, and without
/// the token trimming of ids (at most [`MAX_IDS_IN_RESULT`] are listed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteResult {
    /// The scenario written to.
    pub scenario_id: String,
    /// Its name.
    pub scenario_name: String,
    /// Whether this call created it.
    pub is_new_scenario: bool,
    /// Per table name.
    pub counts: BTreeMap<String, TypeCounts>,
    /// The first persisted ids in input order (all types), at most [`MAX_IDS_IN_RESULT`].
    pub entity_ids: Vec<String>,
    /// How many entities the call persisted (inserted + updated).
    pub total_persisted: u64,
}

impl Store {
    /// Persists a batch of entities (see the [module documentation](self)).
    ///
    /// Re-persisting an id of the scenario replaces that entity (counted as updated). Input
    /// `scenario_id` fields are ignored: the request's scenario wins.
    ///
    /// # Errors
    ///
    /// Input errors, all detected before anything is written: [`Error::UnknownEntityType`],
    /// [`Error::InvalidRequest`] (no entities, a type given twice), [`Error::Input`] (an
    /// entity list or entity that validation refuses, or the request's provenance: see
    /// [`InputError`]),
    /// [`Error::InvalidTag`]. Then [`Error::ScenarioNotFound`] / [`Error::AmbiguousScenario`]
    /// for an existing target, [`Error::Naming`], [`Error::Summary`], [`Error::Database`], and
    /// the errors of opening the database ([`Error::Store`]). Nothing is written unless
    /// the call succeeds — except on a lake, where the summary is read after the commit, so an
    /// [`Error::Summary`] or [`Error::Database`] from reading it comes with the rows written.
    pub fn persist_entities(&self, request: &PersistRequest) -> Result<PersistResult> {
        let prepared = PreparedEntities::new(&request.entities)?;
        self.write_prepared(
            &prepared,
            &request.scenario,
            &request.provenance,
            Statistics::Keep {
                from: self.options().running_statistics_from,
            },
            Writes::One,
            |conn, written| summarized(conn, written, self.options().running_statistics_from),
        )
    }

    /// Writes prepared entities into a scenario in one transaction, like
    /// [`Store::persist_entities`] but without computing a summary: for callers that write
    /// many batches in a row (`healthsim persist` of a large file) and summarize once at the
    /// end with [`Store::scenario_summary`]. Each call deletes the scenario's running
    /// statistics; [`Store::refresh_running_statistics`] after the last batch brings them back,
    /// so that summaries of a large scenario add parts up instead of reading every row.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTag`], [`Error::Input`] ([`InputError::InvalidProvenance`]),
    /// [`Error::ScenarioNotFound`] / [`Error::AmbiguousScenario`] for an existing target,
    /// [`Error::Naming`], [`Error::Database`], and the errors of opening the database. Nothing
    /// is written unless the call succeeds.
    pub fn write_entities(
        &self,
        prepared: &PreparedEntities,
        scenario: &ScenarioTarget,
        provenance: &Provenance,
    ) -> Result<WriteResult> {
        self.write_prepared(
            prepared,
            scenario,
            provenance,
            Statistics::Drop,
            Writes::Consecutive,
            |_, written| Ok(written),
        )
    }

    /// The transaction of [`Store::persist_entities`] and [`Store::write_entities`]: opens the
    /// target, writes the rows, and hands the outcome to `finish` — on a file before
    /// committing, so nothing is written unless `finish` succeeds too.
    ///
    /// On a lake `finish` (the result's summary) runs after the commit, on a snapshot that holds
    /// the write. Every lake writer's commit conflicts with every other's (each touches a guard
    /// row of `scenarios`, and DuckLake detects conflicts per table), so the writers of a lake
    /// take turns (`lake::take_turn`), and a turn that also read the summary (hundreds of
    /// catalog queries) would last several times longer, for every writer of the lake. The
    /// cost of the move: on a lake, a `finish` that fails reports its error with the rows
    /// already written.
    fn write_prepared<T>(
        &self,
        prepared: &PreparedEntities,
        scenario: &ScenarioTarget,
        provenance: &Provenance,
        statistics: Statistics,
        writes: Writes,
        mut finish: impl FnMut(&Connection, WriteResult) -> Result<T>,
    ) -> Result<T> {
        check_tags(scenario)?;
        provenance.validate()?;
        let mut run = |conn: &Connection, mut known: Option<&mut KnownIds>| {
            let mut write = |conn: &Connection| {
                let now = Utc::now().naive_utc();
                let first_type = prepared.batches.first().map(|b| b.entity_type.singular);
                let (target, is_new) = open_target(conn, scenario, first_type, now)?;
                write_rows(
                    conn,
                    target,
                    is_new,
                    &prepared.batches,
                    provenance,
                    now,
                    statistics,
                    known.as_deref_mut(),
                )
            };
            if self.target().lake().is_some() {
                let written = in_transaction(conn, write)?;
                read_one_snapshot(conn, |conn| finish(conn, written))
            } else {
                in_transaction(conn, |conn| {
                    let written = write(conn)?;
                    finish(conn, written)
                })
            }
        };
        match writes {
            Writes::One => self.with_writer(|conn| run(conn, None)),
            Writes::Consecutive => self.with_bulk_writer(run),
        }
    }
}

/// Whether a write is one of consecutive bulk writes into a scenario, which keep the ids they
/// wrote between calls ([`KnownIds`]), or one on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writes {
    One,
    Consecutive,
}

/// Checks the tags of a new-scenario target (before anything is written).
pub(crate) fn check_tags(target: &ScenarioTarget) -> Result<()> {
    if let ScenarioTarget::New { tags, .. } = target {
        for tag in tags {
            scenario::normalize_tag(tag)?;
        }
    }
    Ok(())
}

/// The scenario a write goes to, inside the caller's transaction: an existing one resolved by
/// id or name, or a new one created now (named as given, made unique, or generated from the
/// context's keywords and `first_type`), with its tags. Returns it and whether it is new.
pub(crate) fn open_target(
    conn: &Connection,
    target: &ScenarioTarget,
    first_type: Option<&str>,
    now: NaiveDateTime,
) -> Result<(ScenarioRef, bool)> {
    match target {
        ScenarioTarget::New {
            name,
            context,
            description,
            tags,
        } => {
            let name = match name {
                Some(name) => scenario::unique_name(conn, name, None)?,
                None => scenario::generated_name(conn, context.as_deref(), first_type, now)?,
            };
            let metadata = context
                .as_ref()
                .map(|c| serde_json::json!({ "context": c }).to_string());
            let created = scenario::insert_scenario(
                conn,
                &name,
                description.as_deref(),
                metadata.as_deref(),
                now,
            )?;
            scenario::insert_tags(conn, &created.scenario_id, tags, now)?;
            Ok((created, true))
        }
        ScenarioTarget::Existing(given) => Ok((scenario::resolve_on(conn, given)?, false)),
    }
}

/// Resolves every type, then converts every entity. Pure.
pub(crate) fn prepare(entities: &EntityInput) -> Result<Vec<Batch>> {
    let lists: Vec<(&str, &[Json])> = match entities {
        EntityInput::Typed {
            entity_type,
            entities,
        } => vec![(entity_type.as_str(), entities.as_slice())],
        EntityInput::ByType(map) => map
            .iter()
            .map(|(given, list)| match list {
                Json::Array(items) => Ok((given.as_str(), items.as_slice())),
                other => Err(InputError::NotAList {
                    entity_type: given.clone(),
                    found: json_kind(other),
                }
                .into()),
            })
            .collect::<Result<_>>()?,
    };
    let types = resolve_types(lists.iter().map(|(given, _)| *given))?;
    types
        .into_iter()
        .zip(lists)
        .map(|(t, (_, list))| {
            Ok(Batch {
                entity_type: t,
                rows: convert(t, list, &mut new_id)?,
            })
        })
        .collect()
}

/// The entity type of each name given for a list, in order; two names of one type are refused
/// (their lists would be two batches of one table in one call).
pub(crate) fn resolve_types<'a>(
    given: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<&'static EntityType>> {
    let mut resolved: Vec<(&str, &'static EntityType)> = Vec::new();
    for given in given {
        let t = entity_type(given)?;
        if let Some((first, _)) = resolved.iter().find(|(_, r)| r.table == t.table) {
            return Err(Error::InvalidRequest {
                reason: format!(
                    "'{first}' and '{given}' are the same entity type ({}); send them in one list",
                    t.table
                ),
            });
        }
        resolved.push((given, t));
    }
    Ok(resolved.into_iter().map(|(_, t)| t).collect())
}

/// The id of an entity that has none of its own.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Writes the batches into the scenario and builds the result with its summary. Runs inside
/// the caller's transaction. Drops the scenario's running statistics: its one caller loads a
/// small scenario (see `crate::saveload`), whose summary reads the rows.
pub(crate) fn write(
    conn: &Connection,
    target: ScenarioRef,
    is_new: bool,
    batches: &[Batch],
    defaults: &Provenance,
    now: NaiveDateTime,
) -> Result<PersistResult> {
    let written = write_rows(
        conn,
        target,
        is_new,
        batches,
        defaults,
        now,
        Statistics::Drop,
        None,
    )?;
    summarized(conn, written, healthsim_summary::RUNNING_STATISTICS_FROM)
}

/// Writes the batches into the scenario, touches its `updated_at`, and lists the first ids.
/// Runs inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
fn write_rows(
    conn: &Connection,
    target: ScenarioRef,
    is_new: bool,
    batches: &[Batch],
    defaults: &Provenance,
    now: NaiveDateTime,
    statistics: Statistics,
    known: Option<&mut KnownIds>,
) -> Result<WriteResult> {
    // write_batches touches the scenario's updated_at (its guard row).
    let counts = write_batches(
        conn,
        &target.scenario_id,
        batches,
        defaults,
        now,
        statistics,
        known,
    )?;
    let total: u64 = counts.values().map(|c| c.inserted + c.updated).sum();
    let mut entity_ids = Vec::new();
    for batch in batches.iter().filter(|b| !b.rows.is_empty()) {
        let room = MAX_IDS_IN_RESULT.saturating_sub(entity_ids.len());
        entity_ids.extend(batch.rows.iter().take(room).map(|r| r.id.clone()));
    }
    Ok(WriteResult {
        scenario_id: target.scenario_id,
        scenario_name: target.name,
        is_new_scenario: is_new,
        counts,
        entity_ids,
        total_persisted: total,
    })
}

/// The result of a write with its summary, ids trimmed to the token budget. The summary gets
/// what the rest of the result leaves of [`RESULT_TOKEN_BUDGET`], measured with the first
/// [`MIN_IDS_IN_RESULT`] ids listed, so a result always has room for some ids.
fn summarized(
    conn: &Connection,
    written: WriteResult,
    running_statistics_from: u64,
) -> Result<PersistResult> {
    let envelope = serde_json::json!({
        "scenario_id": written.scenario_id,
        "scenario_name": written.scenario_name,
        "is_new_scenario": written.is_new_scenario,
        "counts": written.counts,
        "entity_ids": written.entity_ids.iter().take(MIN_IDS_IN_RESULT).collect::<Vec<_>>(),
        "ids_truncated": true,
        "total_persisted": written.total_persisted,
        "summary": {},
    });
    let envelope_tokens = healthsim_summary::count_tokens(&envelope.to_string());
    let summary = healthsim_summary::scenario_summary_within(
        conn,
        &written.scenario_id,
        &SummaryOptions {
            running_statistics_from,
            ..SummaryOptions::without_samples()
        },
        RESULT_TOKEN_BUDGET.saturating_sub(envelope_tokens),
    )?;
    let mut result = PersistResult {
        ids_truncated: (written.entity_ids.len() as u64) < written.total_persisted,
        scenario_id: written.scenario_id,
        scenario_name: written.scenario_name,
        is_new_scenario: written.is_new_scenario,
        counts: written.counts,
        entity_ids: written.entity_ids,
        total_persisted: written.total_persisted,
        summary,
    };
    fit_token_budget(&mut result);
    Ok(result)
}

/// Writes the batches into the scenario (count, append or upsert, manifest per type), sets the
/// scenario's `updated_at` (its guard row: every transaction that writes a scenario's entities
/// updates its `scenarios` row, see [`crate::scenario`]), keeps or drops its running statistics
/// ([`crate::statistics`]), and returns the counts per table; empty batches are left out. No
/// summary: the caller makes it once (see [`write`]). Runs inside the caller's transaction; the ids of one batch must be distinct (as [`convert`]
/// guarantees), since the logical key `(scenario_id, <id>)` is kept by this code, not by a
/// constraint. `known`: the ids a caller that writes the scenario in consecutive bulk writes
/// knows it holds ([`KnownIds`]); a batch they show to be all new is not checked again.
pub(crate) fn write_batches(
    conn: &Connection,
    scenario_id: &str,
    batches: &[Batch],
    defaults: &Provenance,
    now: NaiveDateTime,
    statistics: Statistics,
    mut known: Option<&mut KnownIds>,
) -> Result<BTreeMap<String, TypeCounts>> {
    match statistics {
        Statistics::Keep { .. } => scenario::touch_keeping_statistics(conn, scenario_id, now)?,
        Statistics::Drop => scenario::touch(conn, scenario_id, now)?,
    }
    let mut counts = BTreeMap::new();
    for batch in batches.iter().filter(|b| !b.rows.is_empty()) {
        let c = write_batch(
            conn,
            scenario_id,
            batch,
            defaults,
            now,
            statistics,
            known.as_deref_mut(),
        )?;
        counts.insert(batch.entity_type.table.to_string(), c);
    }
    Ok(counts)
}

/// Lists as many ids as fit in [`RESULT_TOKEN_BUDGET`] (long ids such as UUIDs take ~20 tokens
/// each, so 50 of them alone would not fit).
fn fit_token_budget(result: &mut PersistResult) {
    let tokens = |r: &PersistResult| {
        serde_json::to_string(r).map_or(usize::MAX, |text| healthsim_summary::count_tokens(&text))
    };
    if tokens(result) <= RESULT_TOKEN_BUDGET {
        return;
    }
    let all = std::mem::take(&mut result.entity_ids);
    result.ids_truncated = true;
    // The largest prefix that fits (binary search: a handful of token counts).
    let (mut fits, mut too_many) = (0, all.len());
    while fits + 1 < too_many {
        let mid = (fits + too_many) / 2;
        result.entity_ids = all[..mid].to_vec();
        if tokens(result) <= RESULT_TOKEN_BUDGET {
            fits = mid;
        } else {
            too_many = mid;
        }
    }
    result.entity_ids = all[..fits].to_vec();
}

/// Count the batch's existing ids (unless `known` shows them all new), then append (all new) or
/// stage and upsert (some exist), update the manifest for one type, and keep its running
/// statistics when asked.
fn write_batch(
    conn: &Connection,
    scenario_id: &str,
    batch: &Batch,
    defaults: &Provenance,
    now: NaiveDateTime,
    statistics: Statistics,
    known: Option<&mut KnownIds>,
) -> Result<TypeCounts> {
    let t = batch.entity_type;
    let table = t.table;
    let pk = t.primary_key;
    let context = |what: &str| format!("{what} {table}");
    let staged = batch.rows.len() as u64;

    let all_new = match (known, statistics) {
        // Learnt before the rows are written: a hash of a row that is then rolled back costs a
        // question later, never a wrong answer.
        (Some(known), Statistics::Drop) => known.learn(conn, scenario_id, batch)?,
        // A write that keeps running statistics reads the manifest's count with the check.
        _ => false,
    };
    let (updated, count) = if all_new {
        (0, None)
    } else if batch.rows.len() <= DIRECT_APPEND_MAX_ROWS {
        let (updated, count) = count_existing_ids(conn, scenario_id, batch)?;
        (updated, Some(count))
    } else {
        (count_existing_ids_joined(conn, scenario_id, batch)?, None)
    };
    let upkeep = match statistics {
        Statistics::Keep { from } => {
            let written = running::Written {
                staged,
                updated,
                count,
            };
            running::upkeep(conn, scenario_id, t, written, from)?
        }
        Statistics::Drop => Upkeep::Nothing,
    };
    // All new (the common case): appended straight into the table, each row copied once —
    // unless the batch's rows are staged for the parts of the running statistics.
    if updated == 0 && !matches!(upkeep, Upkeep::FromBatch { .. }) {
        let mut appender = conn
            .appender(table)
            .map_err(db(context("opening an appender for")))?;
        append_rows(&mut appender, scenario_id, batch, defaults, now)
            .map_err(db(context("writing entities into")))?;
        drop(appender);
        crash::point("persist.appended");
        scenario::add_to_manifest(conn, scenario_id, table, staged, now)?;
        running::after_batch(conn, scenario_id, t, upkeep)?;
        return Ok(TypeCounts {
            inserted: staged,
            updated: 0,
        });
    }

    // Some ids exist (or a small batch of new ones whose parts are kept): the rows go into a
    // stage first (a copy of the table's columns without NOT NULL, which is checked when the
    // stage is moved into the table), then replace the existing rows in place (every column but the key and created_at, so an updated entity
    // keeps its creation time), and the others are added. The key is a logical one, so the
    // anti-join is what keeps it unique.
    let stage = format!("hs_stage_{table}");
    let domain: Vec<&str> = t.columns().map(|c| c.name).collect();
    // The stage's columns, in the order rows are appended below.
    let columns = std::iter::once(SCENARIO_COLUMN)
        .chain(domain.iter().copied())
        .chain(SYSTEM_COLUMNS.iter().map(|c| c.name))
        .collect::<Vec<_>>()
        .join(", ");
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {stage} AS SELECT {columns} FROM main.{table} LIMIT 0"
    ))
    .map_err(db(context("creating the staging table for")))?;
    {
        let mut appender = conn
            .appender_to_catalog_and_db(&stage, "temp", "main")
            .map_err(db(context("opening an appender for")))?;
        append_rows(&mut appender, scenario_id, batch, defaults, now)
            .map_err(db(context("staging entities of")))?;
    }
    crash::point("persist.staged");
    let upkeep = match upkeep {
        Upkeep::FromBatch { sets } => {
            running::append_batch(conn, scenario_id, t, &format!("temp.{stage}"), sets)?;
            upkeep
        }
        // Before the rows it replaces are overwritten.
        Upkeep::Replace { sets } => {
            running::replace_batch(conn, scenario_id, t, &format!("temp.{stage}"), sets)?
        }
        Upkeep::Nothing | Upkeep::Recompute => upkeep,
    };
    let assignments = domain
        .iter()
        .copied()
        .filter(|c| *c != pk)
        .chain(
            SYSTEM_COLUMNS
                .iter()
                .map(|c| c.name)
                .filter(|c| *c != "created_at"),
        )
        .map(|c| format!("{c} = s.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    if updated == 0 {
        // Every id is new (counted above): no anti-join needed.
        conn.prepare_cached(&format!(
            "INSERT INTO main.{table} ({columns}) SELECT {columns} FROM temp.{stage}"
        ))
        .and_then(|mut s| s.execute([]))
        .map_err(db(context("writing entities into")))?;
    } else {
        conn.execute(
            &format!(
                "UPDATE main.{table} AS t SET {assignments} FROM temp.{stage} AS s \
                 WHERE t.{SCENARIO_COLUMN} = s.{SCENARIO_COLUMN} AND t.{pk} = s.{pk}"
            ),
            [],
        )
        .map_err(db(context("updating entities of")))?;
    }
    if 0 < updated && updated < staged {
        conn.execute(
            &format!(
                "INSERT INTO main.{table} ({columns}) SELECT {columns} FROM temp.{stage} AS s \
                 WHERE NOT EXISTS (SELECT 1 FROM main.{table} AS t \
                 WHERE t.{SCENARIO_COLUMN} = s.{SCENARIO_COLUMN} AND t.{pk} = s.{pk})"
            ),
            [],
        )
        .map_err(db(context("writing entities into")))?;
    }
    crash::point("persist.upserted");
    conn.execute_batch(&format!("DROP TABLE temp.{stage}"))
        .map_err(db(context("dropping the staging table of")))?;

    let inserted = staged.saturating_sub(updated);
    scenario::add_to_manifest(conn, scenario_id, table, inserted, now)?;
    running::after_batch(conn, scenario_id, t, upkeep)?;
    Ok(TypeCounts { inserted, updated })
}

/// Batches of at most this many entities are checked with their ids as bound parameters;
/// larger ones put their ids alone into a temporary table and join it, one statement however
/// many ids.
pub const DIRECT_APPEND_MAX_ROWS: usize = 1_000;

/// How many of the batch's ids the scenario already has, for a batch too large to list them
/// as parameters: the ids alone are appended into a one-column temporary table and joined, so
/// the batch's rows themselves are copied only once, into their table (or its stage).
fn count_existing_ids_joined(conn: &Connection, scenario_id: &str, batch: &Batch) -> Result<u64> {
    let t = batch.entity_type;
    let table = t.table;
    let ids = format!("hs_ids_{table}");
    let context = |what: &str| format!("{what} {table}");
    conn.execute_batch(&format!("CREATE OR REPLACE TEMP TABLE {ids} (id VARCHAR)"))
        .map_err(db(context("creating the id table for")))?;
    {
        let mut appender = conn
            .appender_to_catalog_and_db(&ids, "temp", "main")
            .map_err(db(context("opening an appender for")))?;
        for row in &batch.rows {
            appender
                .append_row([&row.id])
                .map_err(db(context("staging ids of")))?;
        }
        appender.flush().map_err(db(context("staging ids of")))?;
    }
    let existing: i64 = conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM temp.{ids} s JOIN main.{table} t ON t.{pk} = s.id \
             WHERE t.{SCENARIO_COLUMN} = ?",
            pk = t.primary_key
        ))
        .and_then(|mut s| s.query_row([scenario_id], |r| r.get(0)))
        .map_err(db(context("counting existing ids of")))?;
    conn.execute_batch(&format!("DROP TABLE temp.{ids}"))
        .map_err(db(context("dropping the id table of")))?;
    Ok(u64::try_from(existing).unwrap_or(0))
}

/// How many of the batch's ids the scenario already has in the batch's table, and the type's
/// count in the manifest (read in the same statement for the running statistics: one
/// statement fewer per call).
fn count_existing_ids(conn: &Connection, scenario_id: &str, batch: &Batch) -> Result<(u64, u64)> {
    let t = batch.entity_type;
    let placeholders = vec!["?"; batch.rows.len()].join(", ");
    let mut params: Vec<&dyn ToSql> = Vec::with_capacity(batch.rows.len() + 3);
    params.push(&scenario_id);
    params.push(&t.table);
    params.push(&scenario_id);
    params.extend(batch.rows.iter().map(|r| &r.id as &dyn ToSql));
    let sql = format!(
        "SELECT count(*), (SELECT coalesce(max(entity_count), 0) FROM scenario_entities \
                           WHERE scenario_id = ? AND entity_type = ?) \
         FROM main.{} WHERE {SCENARIO_COLUMN} = ? AND {} IN ({placeholders})",
        t.table, t.primary_key
    );
    let (existing, count): (i64, i64) = conn
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row(params.as_slice(), |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(db(format!("counting existing ids of {}", t.table)))?;
    Ok((
        u64::try_from(existing).unwrap_or(0),
        u64::try_from(count).unwrap_or(0),
    ))
}

/// Appends the batch's rows, in table column order: scenario, domain columns, provenance (the
/// row's own, else the call's defaults), `extra`, `created_at` (the row's, else `now`).
fn append_rows(
    appender: &mut duckdb::Appender<'_>,
    scenario_id: &str,
    batch: &Batch,
    defaults: &Provenance,
    now: NaiveDateTime,
) -> duckdb::Result<()> {
    let now_value = timestamp(now);
    for row in &batch.rows {
        let provenance = &row.provenance;
        let source_type = provenance
            .source_type
            .as_ref()
            .or(defaults.source_type.as_ref());
        let source_system = provenance
            .source_system
            .as_ref()
            .or(defaults.source_system.as_ref());
        let skill_used = provenance
            .skill_used
            .as_ref()
            .or(defaults.skill_used.as_ref());
        let seed = provenance.generation_seed.or(defaults.generation_seed);
        let created_at = row.created_at.map(timestamp);
        let mut params: Vec<&dyn ToSql> = Vec::with_capacity(row.values.len() + 7);
        params.push(&scenario_id);
        params.extend(row.values.iter().map(|v| v as &dyn ToSql));
        params.push(&source_type);
        params.push(&source_system);
        params.push(&skill_used);
        params.push(&seed);
        params.push(&row.extra);
        params.push(created_at.as_ref().unwrap_or(&now_value));
        appender.append_row(params.as_slice())?;
    }
    appender.flush()
}
