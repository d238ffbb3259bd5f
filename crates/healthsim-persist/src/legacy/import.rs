//! [`Store::import_legacy`]: every scenario or cohort of a Python HealthSim database or JSON
//! file into a scenario of its own, through persist's own validation and write path.
//!
//! Rules:
//! - **Read-only source.** A legacy database is opened with `access_mode = READ_ONLY`; JSON
//!   files are only read. Nothing of the source changes.
//! - **One transaction per scenario.** Each legacy scenario is created, tagged and filled in
//!   one transaction: it is imported whole or not at all. A failure of the database stops the
//!   import; the scenarios before it stay imported (the report of a later run lists them as
//!   taken names).
//! - **Names.** The legacy name is sanitized like every scenario name (`Diabetes Cohort` →
//!   `diabetes-cohort`). When that name is taken in this database, the scenario is skipped
//!   ([`NameConflict::Skip`], the default, so running an import twice imports nothing twice) or
//!   imported under the name with a `-2`, `-3`, ... counter ([`NameConflict::Rename`]).
//! - **Entities** are mapped by [`super::map`] and validated by persist's own conversion: an
//!   entity it refuses is left out and listed with the reason (the rest of the scenario is
//!   imported); entities of legacy types we have no type for are counted and listed, never
//!   dropped silently; fields without a column of ours are kept in `extra` and named per type
//!   in the report. An entity that is both a typed row and a JSON entity of the state table
//!   is imported once (the typed row wins).
//! - **Provenance.** Rows keep the `source_type`, `source_system`, ... the legacy row had; the
//!   options' provenance fills the rest (default `source_type` `legacy-import`, `source_system`
//!   `healthsim-python`). The scenario's metadata records where it came from.
//! - **Memory.** A database's scenarios are read one at a time: the importer holds one legacy
//!   scenario's entities (and DuckDB its uncommitted rows) at once.
//! - **Dry run.** [`LegacyImportOptions::dry_run`] reads, maps and validates everything and
//!   reports what would be imported, writing nothing.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use super::map::{legacy_type, map_entity, Lookups};
use super::source::{read_source, LegacyScenario, SourceKind};
use crate::error::{truncate, LegacyError, Result};
use crate::fhir::import::unresolved_references;
use crate::input::{convert, Provenance, Row};
use crate::persist::{write_batches, Batch};
use crate::scenario;
use crate::statistics::Statistics;
use crate::store::{in_transaction, Store};

/// How many scenarios a report lists; the totals count all.
pub const MAX_SCENARIOS_LISTED: usize = 50;
/// How many skipped items one scenario's report lists (`skipped_total` counts all).
pub const MAX_SKIPPED_LISTED: usize = 10;
/// How many field names per table `unmapped_fields` lists.
pub const MAX_FIELDS_LISTED: usize = 12;
/// How many other tables a report lists.
pub const MAX_TABLES_LISTED: usize = 20;
/// Longest reason or name in a report, in characters.
const MAX_TEXT_CHARS: usize = 160;

/// What to do when a legacy scenario's name is taken in this database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum NameConflict {
    /// Skip that scenario (reported), so a repeated import adds nothing twice. The default.
    #[default]
    Skip,
    /// Import it under the name with a -2, -3, ... counter.
    Rename,
}

impl NameConflict {
    /// Every choice, in documentation order.
    pub const ALL: [NameConflict; 2] = [NameConflict::Skip, NameConflict::Rename];

    /// The lowercase name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            NameConflict::Skip => "skip",
            NameConflict::Rename => "rename",
        }
    }
}

impl std::fmt::Display for NameConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How [`Store::import_legacy`] imports.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LegacyImportOptions {
    /// What to do with a name that is taken.
    pub on_name_conflict: NameConflict,
    /// Read, map and validate, but write nothing.
    pub dry_run: bool,
    /// Provenance for rows that have none of their own (default source_type `legacy-import`,
    /// source_system `healthsim-python`).
    pub provenance: Provenance,
}

/// What happened to one legacy scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum LegacyStatus {
    /// Imported into a new scenario.
    Imported,
    /// Would be imported (dry run).
    WouldImport,
    /// Not imported; the reason says why.
    Skipped,
}

/// Something of a scenario that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct SkippedItem {
    /// What: a legacy type ('orders'), an entity ('lab_results l-9') or a tag.
    pub item: String,
    /// How many entities (or tags) this line stands for.
    pub count: u64,
    /// Why it was not imported.
    pub reason: String,
}

/// One legacy scenario and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct LegacyScenarioReport {
    /// Its name in the legacy source.
    pub legacy_name: String,
    /// Where it was read: the legacy table and id, or the JSON file's name.
    pub origin: String,
    /// Imported, would be imported (dry run), or skipped.
    pub status: LegacyStatus,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The new scenario's id (when imported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario_id: Option<String>,
    /// The new scenario's name (sanitized; with a counter when renamed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Entities imported (or that would be) per table.
    pub counts: BTreeMap<String, u64>,
    /// Its tags as stored (lowercased).
    pub tags: Vec<String>,
    /// Per table: legacy field names kept in extra because no column of ours holds them.
    pub unmapped_fields: BTreeMap<String, Vec<String>>,
    /// What was left out, with reasons (at most 10 lines).
    pub skipped: Vec<SkippedItem>,
    /// How many entities and tags were left out in all.
    pub skipped_total: u64,
    /// Per reference (table.column): values that name no entity of the scenario (kept as
    /// given).
    pub unresolved_references: BTreeMap<String, u64>,
}

/// What an import did. Bounded: at most 50 scenarios are listed (the totals count all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct LegacyImportReport {
    /// The path imported from.
    pub source: String,
    /// What it is: a Python HealthSim database with its schema era, or JSON files.
    pub source_kind: String,
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
    /// Scenarios (cohorts, files) found in the source.
    pub scenarios_read: u64,
    /// Of those, imported (or that would be, in a dry run).
    pub scenarios_imported: u64,
    /// Of those, skipped.
    pub scenarios_skipped: u64,
    /// Entities written (or that would be) in all.
    pub entities_imported: u64,
    /// Per scenario, in the source's order.
    pub scenarios: Vec<LegacyScenarioReport>,
    /// Tables of the legacy database that were not imported (profiles, journeys, reference
    /// data, unknown tables) with their row counts.
    pub other_tables: BTreeMap<String, u64>,
    /// Rows of entity tables that belong to no scenario of the legacy database, per table (not
    /// imported).
    pub unlinked_rows: BTreeMap<String, u64>,
    /// Some list was cut to keep the report small; the totals are exact.
    pub truncated: bool,
}

impl LegacyImportReport {
    /// Cuts the report until its compact JSON has at most `budget` tokens (cl100k_base): field
    /// lists and skipped lines first, then the other tables, then scenarios from the end. The
    /// totals stay exact; `truncated` says something was cut.
    pub fn fit_tokens(&mut self, budget: usize) {
        let tokens = |r: &Self| {
            serde_json::to_string(r).map_or(usize::MAX, |t| healthsim_summary::count_tokens(&t))
        };
        if tokens(self) <= budget {
            return;
        }
        self.truncated = true;
        for scenario in &mut self.scenarios {
            for fields in scenario.unmapped_fields.values_mut() {
                fields.truncate(3);
            }
            scenario.skipped.truncate(3);
            for item in &mut scenario.skipped {
                item.reason = cut(&item.reason, 80);
            }
        }
        while tokens(self) > budget && self.other_tables.len() > 3 {
            let last = self.other_tables.keys().next_back().cloned();
            if let Some(key) = last {
                self.other_tables.remove(&key);
            }
        }
        while tokens(self) > budget && self.scenarios.len() > 1 {
            self.scenarios.pop();
        }
        if tokens(self) > budget {
            for scenario in &mut self.scenarios {
                scenario.unmapped_fields.clear();
                scenario.skipped.truncate(1);
            }
            self.other_tables.clear();
            self.unlinked_rows.clear();
        }
    }
}

fn cut(text: &str, max: usize) -> String {
    match healthsim_schema::text::cut_chars(text, max) {
        None => text.to_string(),
        Some(head) => format!("{head}..."),
    }
}

/// A scenario mapped and validated, ready to write.
struct Prepared {
    report: LegacyScenarioReport,
    batches: Vec<Batch>,
    tags: Vec<String>,
    description: Option<String>,
    metadata: String,
}

impl Store {
    /// Imports every scenario or cohort of a Python HealthSim database (either schema era) or
    /// JSON scenario/cohort file (or folder of them) at `path` into new scenarios (see the
    /// [module documentation](self)). The source is never modified.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Legacy`] when `path` is not a legacy source ([`LegacyError::NotLegacy`]),
    /// a single JSON file cannot be read as a scenario ([`LegacyError::InvalidJson`]) or is
    /// this store's own file ([`LegacyError::SameFile`]); [`crate::Error::Io`] when it cannot be read;
    /// [`crate::Error::Input`] for the options' provenance; the errors of opening a database
    /// ([`crate::Error::Store`]) and [`crate::Error::Database`]. Scenarios imported before a database error
    /// stay imported.
    pub fn import_legacy(
        &self,
        path: &Path,
        options: &LegacyImportOptions,
    ) -> Result<LegacyImportReport> {
        options.provenance.validate()?;
        if self.path().is_some_and(|ours| same_file(path, ours)) {
            return Err(LegacyError::SameFile {
                path: path.to_path_buf(),
            }
            .into());
        }
        let mut source = read_source(path, self.options().lock_timeout)?;
        let provenance = options.provenance.or(&Provenance {
            source_type: Some("legacy-import".into()),
            source_system: Some("healthsim-python".into()),
            skill_used: None,
            generation_seed: None,
        });
        let source_kind = describe(&source.kind);
        let mut report = LegacyImportReport {
            source: path.display().to_string(),
            source_kind: source_kind.clone(),
            dry_run: options.dry_run,
            scenarios_read: source.scenarios.len() as u64,
            scenarios_imported: 0,
            scenarios_skipped: 0,
            entities_imported: 0,
            scenarios: Vec::new(),
            other_tables: largest(source.other_tables.clone(), MAX_TABLES_LISTED),
            unlinked_rows: source.unlinked_rows.clone(),
            truncated: source.other_tables.len() > MAX_TABLES_LISTED,
        };
        let scenarios = std::mem::take(&mut source.scenarios);
        for mut legacy in scenarios {
            // One scenario's entities in memory at a time.
            source.load_entities(&mut legacy)?;
            let prepared = prepare(legacy, path, &source_kind);
            let scenario_report = if prepared.report.reason.is_some() {
                prepared.report
            } else {
                self.write_one(prepared, options, &provenance)?
            };
            match scenario_report.status {
                LegacyStatus::Skipped => report.scenarios_skipped += 1,
                LegacyStatus::Imported | LegacyStatus::WouldImport => {
                    report.scenarios_imported += 1;
                    report.entities_imported += scenario_report.counts.values().sum::<u64>();
                }
            }
            if report.scenarios.len() < MAX_SCENARIOS_LISTED {
                report.scenarios.push(scenario_report);
            } else {
                report.truncated = true;
            }
        }
        Ok(report)
    }

    /// Names, and (unless a dry run) writes one prepared scenario in one transaction.
    fn write_one(
        &self,
        prepared: Prepared,
        options: &LegacyImportOptions,
        provenance: &Provenance,
    ) -> Result<LegacyScenarioReport> {
        let Prepared {
            mut report,
            batches,
            tags,
            description,
            metadata,
        } = prepared;
        let base = healthsim_naming::sanitize(&report.legacy_name)
            .unwrap_or_else(|_| "legacy-import".to_string());
        let skip_taken = |report: &mut LegacyScenarioReport| {
            report.status = LegacyStatus::Skipped;
            report.counts.clear();
            report.reason = Some(format!(
                "the name '{base}' is taken in this database (imported before?); rename that \
                 scenario, or import with on_name_conflict rename"
            ));
        };
        if options.dry_run {
            let name = self.with_reader(|conn| scenario::unique_name(conn, &base, None))?;
            if name != base && options.on_name_conflict == NameConflict::Skip {
                skip_taken(&mut report);
            } else {
                report.status = LegacyStatus::WouldImport;
                report.name = Some(name);
            }
            return Ok(report);
        }
        let statistics_from = self.options().running_statistics_from;
        self.with_writer(|conn| {
            in_transaction(conn, |conn| {
                let name = scenario::unique_name(conn, &base, None)?;
                if name != base && options.on_name_conflict == NameConflict::Skip {
                    skip_taken(&mut report);
                    return Ok(());
                }
                let now = Utc::now().naive_utc();
                let created = scenario::insert_scenario(
                    conn,
                    &name,
                    description.as_deref(),
                    Some(&metadata),
                    now,
                )?;
                scenario::insert_tags(conn, &created.scenario_id, &tags, now)?;
                // Also the scenario's guard row (its updated_at).
                write_batches(
                    conn,
                    &created.scenario_id,
                    &batches,
                    provenance,
                    now,
                    Statistics::Drop,
                    None,
                )?;
                crate::statistics::keep_large(conn, &created.scenario_id, statistics_from)?;
                healthsim_schema::crash::point("legacy.written");
                // What the scenario now holds, rather than what the mapping could resolve.
                report.unresolved_references = unresolved_references(conn, &created.scenario_id)?.0;
                report.status = LegacyStatus::Imported;
                report.scenario_id = Some(created.scenario_id);
                report.name = Some(created.name);
                Ok(())
            })
        })?;
        Ok(report)
    }
}

/// Whether two paths name the same file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn describe(kind: &SourceKind) -> String {
    match kind {
        SourceKind::Database {
            era,
            recorded_version,
        } => format!(
            "HealthSim (Python) database, schema era {}{}",
            era.describe(),
            recorded_version
                .as_ref()
                .map(|v| format!(", recorded version {v}"))
                .unwrap_or_default()
        ),
        SourceKind::Json { files } => format!("HealthSim (Python) JSON file(s): {files}"),
    }
}

/// Maps and validates one legacy scenario. A scenario that cannot be imported at all comes
/// back with its report's `reason` set and nothing to write.
fn prepare(legacy: LegacyScenario, path: &Path, source_kind: &str) -> Prepared {
    let mut report = LegacyScenarioReport {
        legacy_name: cut(&legacy.name, MAX_TEXT_CHARS),
        origin: cut(&legacy.origin, MAX_TEXT_CHARS),
        status: LegacyStatus::Skipped,
        reason: None,
        scenario_id: None,
        name: None,
        counts: BTreeMap::new(),
        tags: Vec::new(),
        unmapped_fields: BTreeMap::new(),
        skipped: Vec::new(),
        skipped_total: 0,
        unresolved_references: BTreeMap::new(),
    };
    if let Some(reason) = &legacy.unreadable {
        report.reason = Some(cut(reason, MAX_TEXT_CHARS));
        return Prepared {
            report,
            batches: Vec::new(),
            tags: Vec::new(),
            description: None,
            metadata: String::new(),
        };
    }

    // References by business key need every entity of the scenario first.
    let mut lookups = Lookups::default();
    for (name, entity) in &legacy.entities {
        if let Some(t) = legacy_type(name) {
            lookups.learn(t, entity);
        }
    }
    let mut by_table: BTreeMap<&'static str, (Vec<Json>, HashSet<String>)> = BTreeMap::new();
    let mut no_counterpart: BTreeMap<String, (u64, String)> = BTreeMap::new();
    for (name, entity) in legacy.entities {
        let (target, entity) = match legacy_type(&name) {
            Some(t) => match t.target {
                Some(target) => {
                    let mapped = map_entity(t, entity, &lookups);
                    for (field, _) in &mapped.unresolved {
                        *report
                            .unresolved_references
                            .entry(format!("{target}.{field}"))
                            .or_insert(0) += 1;
                    }
                    (target, mapped.entity)
                }
                None => {
                    no_counterpart
                        .entry(name)
                        .or_insert_with(|| (0, t.why_not.to_string()))
                        .0 += 1;
                    continue;
                }
            },
            // A type name of ours (e.g. 'allergies' in a JSON file) passes as it is.
            None => match healthsim_schema::entity_type(&name) {
                Ok(t) => (t.table, entity),
                Err(_) => {
                    no_counterpart
                        .entry(name.clone())
                        .or_insert_with(|| (0, format!("no entity type of ours is named '{name}'")))
                        .0 += 1;
                    continue;
                }
            },
        };
        let (list, seen) = by_table.entry(target).or_default();
        // The same entity as a typed row and as state-table JSON: the first (typed) one wins.
        if let Some(id) = entity_id(target, &entity) {
            if !seen.insert(id) {
                continue;
            }
        }
        list.push(Json::Object(entity));
    }
    derive_studies_and_sites(&mut by_table);
    for (name, (count, reason)) in no_counterpart {
        skip(&mut report, name, count, &reason);
    }

    let mut new_id = || uuid::Uuid::new_v4().to_string();
    let mut batches = Vec::new();
    for (table, (list, _)) in by_table {
        let Ok(t) = healthsim_schema::entity_type(table) else {
            continue;
        };
        let rows: Vec<Row> = match convert(t, &list, &mut new_id) {
            Ok(rows) => rows,
            Err(_) => {
                // Leave out the entities persist's validation refuses, each with its reason.
                let mut good = Vec::with_capacity(list.len());
                for entity in list {
                    match convert(t, std::slice::from_ref(&entity), &mut new_id) {
                        Ok(_) => good.push(entity),
                        Err(e) => {
                            let id = entity_id(table, entity.as_object().unwrap_or(&Map::new()))
                                .unwrap_or_else(|| "(no id)".into());
                            let reason = e.to_string();
                            skip(&mut report, format!("{table} {id}"), 1, &reason);
                        }
                    }
                }
                match convert(t, &good, &mut new_id) {
                    Ok(rows) => rows,
                    Err(e) => {
                        let reason = e.to_string();
                        skip(&mut report, table.to_string(), good.len() as u64, &reason);
                        continue;
                    }
                }
            }
        };
        if rows.is_empty() {
            continue;
        }
        let mut fields = BTreeSet::new();
        for row in &rows {
            let extra = row
                .extra
                .as_deref()
                .and_then(|e| serde_json::from_str(e).ok());
            if let Some(Json::Object(extra)) = extra {
                fields.extend(
                    extra
                        .into_iter()
                        .map(|(k, _)| k)
                        .filter(|k| k != crate::normalize::NORMALIZED_FROM),
                );
            }
        }
        if !fields.is_empty() {
            report.unmapped_fields.insert(
                table.to_string(),
                fields.into_iter().take(MAX_FIELDS_LISTED).collect(),
            );
        }
        report.counts.insert(table.to_string(), rows.len() as u64);
        batches.push(Batch {
            entity_type: t,
            rows,
        });
    }

    let mut tags = Vec::new();
    for tag in &legacy.tags {
        match scenario::normalize_tag(tag) {
            Ok(tag) if !tags.contains(&tag) => tags.push(tag),
            Ok(_) => {}
            Err(e) => skip(
                &mut report,
                format!("tag {}", truncate(tag)),
                1,
                &e.to_string(),
            ),
        }
    }
    report.tags = tags.clone();
    let metadata = json!({
        "imported_from": {
            "path": path.display().to_string(),
            "kind": source_kind,
            "origin": legacy.origin,
            "legacy_id": legacy.legacy_id,
            "legacy_name": legacy.name,
            "legacy_created_at": legacy.created_at,
            "legacy_metadata": legacy.metadata,
        }
    })
    .to_string();
    Prepared {
        report,
        batches,
        tags,
        description: legacy.description,
        metadata,
    }
}

/// Trial subjects name their study and site by id, but the Python schema had no table for
/// either: a `studies` and a `sites` entity (marked `derived_from: subjects`, kept in `extra`)
/// is added for each id the scenario lacks, so the subjects' references resolve. A site id that
/// appears under two studies gets no entity (ours are keyed by site id alone) and stays
/// reported as an unresolved reference.
fn derive_studies_and_sites(by_table: &mut BTreeMap<&'static str, (Vec<Json>, HashSet<String>)>) {
    let Some((subjects, _)) = by_table.get("subjects") else {
        return;
    };
    let mut studies: Vec<String> = Vec::new();
    let mut sites: BTreeMap<String, Option<String>> = BTreeMap::new();
    for subject in subjects {
        let study = subject.get("study_id").and_then(super::map::text);
        if let Some(study) = &study {
            if !studies.contains(study) {
                studies.push(study.clone());
            }
        }
        if let Some(site) = subject.get("site_id").and_then(super::map::text) {
            let entry = sites.entry(site).or_insert_with(|| study.clone());
            if *entry != study {
                *entry = None;
            }
        }
    }
    let (list, seen) = by_table.entry("studies").or_default();
    for study in studies {
        if seen.insert(study.clone()) {
            list.push(json!({"study_id": study, "derived_from": "subjects"}));
        }
    }
    let (list, seen) = by_table.entry("sites").or_default();
    for (site, study) in sites {
        if let Some(study) = study {
            if seen.insert(site.clone()) {
                list.push(json!({"site_id": site, "study_id": study, "derived_from": "subjects"}));
            }
        }
    }
}

/// Counts a left-out item and lists it while there is room.
fn skip(report: &mut LegacyScenarioReport, item: String, count: u64, reason: &str) {
    report.skipped_total += count;
    if report.skipped.len() < MAX_SKIPPED_LISTED {
        report.skipped.push(SkippedItem {
            item: cut(&item, MAX_TEXT_CHARS),
            count,
            reason: cut(reason, MAX_TEXT_CHARS),
        });
    }
}

/// The id an entity will have in `table`: its primary-key field, else `id`.
fn entity_id(table: &str, entity: &Map<String, Json>) -> Option<String> {
    let pk = healthsim_schema::entity_type(table).ok()?.primary_key;
    entity
        .get(pk)
        .or_else(|| entity.get("id"))
        .and_then(super::map::text)
}

/// The `max` entries with the largest counts.
fn largest(counts: BTreeMap<String, u64>, max: usize) -> BTreeMap<String, u64> {
    if counts.len() <= max {
        return counts;
    }
    let mut entries: Vec<(String, u64)> = counts.into_iter().collect();
    entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    entries.truncate(max);
    entries.into_iter().collect()
}
