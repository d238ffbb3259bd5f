//! [`Store::import_fhir`]: FHIR R4 files and folders into a scenario, streamed in chunks inside
//! one transaction.
//!
//! The import reads resources lazily from a [`FhirSource`], maps each one ([`super::map`]) and
//! validates its entities with persist's own [`convert`], exactly as
//! [`Store::persist_entities`] validates JSON input. Valid resources gather in a chunk of
//! [`FhirImportOptions::batch_size`] resources; a full chunk is written through persist's own
//! staged upsert (the same code, so the same rules and the same manifest bookkeeping), then
//! dropped, so memory stays bounded by one chunk whatever the size of the input. Every chunk
//! goes into the same transaction: at the end the unresolved references of the scenario are
//! counted, `scenarios.updated_at` is set, and everything is committed at once.
//!
//! Rules:
//! - **Scenario.** A new scenario is created when the first chunk is written (named as given,
//!   or generated from the context's keywords and the first entity type, like persist does); an
//!   existing one is resolved before the first resource is read, so a wrong name fails at once.
//! - **Repeats.** A resource can appear twice (in two bundles, or in a bundle and an NDJSON
//!   file). Inside one chunk the later rows replace the earlier ones with the same table and id
//!   before the write (counted in [`FhirImportReport::replaced_in_chunk`]); across chunks the
//!   later chunk's upsert replaces them (counted as `updated`). Either way the last one wins and
//!   nothing is duplicated.
//! - **Invalid input.** A resource that is not valid JSON, not well-formed FHIR for the mapping
//!   ([`FhirError::InvalidJson`], [`FhirError::Malformed`]) or whose entities persist's
//!   validation refuses ([`Error::FhirResourceRejected`]) fails the whole import by default,
//!   naming file, line or bundle entry and the reason, and nothing is written, not even a new
//!   scenario. With [`FhirImportOptions::skip_invalid`] such a resource is left out whole (none
//!   of its rows are written) and listed in the report. A file that cannot be read
//!   ([`FhirError::Io`]) always fails the import: skipping is for bad resources, not for input
//!   that silently went missing.
//! - **Nothing dropped.** Resource types (and Observation categories) without a table of their
//!   own are kept whole in `fhir_resources` and counted per type in
//!   [`FhirImportReport::unsupported`].
//! - **ExplanationOfBenefits** are applied after the last chunk, onto the Claim each names, or
//!   written as claims of their own when it is not in the scenario (`adjudicate.rs`).
//! - **References** are not checked while writing (the target may come later in the input, or
//!   be in the scenario already); afterwards every reference column of the registry is checked
//!   with one query each, and the values without a target row in the scenario are counted in
//!   [`FhirImportReport::unresolved_references`].
//!
//! Memory: the importer holds one chunk at a time, but DuckDB keeps the uncommitted rows of
//! the transaction in memory until COMMIT (about 3.5 KB per resource measured by
//! `examples/fhir_import_bench.rs`, roughly 15 times their size on disk). An input of millions
//! of resources therefore needs memory in proportion, or can be split into several imports
//! into the same (existing) scenario, each of them atomic.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{NaiveDateTime, Utc};
use duckdb::{params, Connection};
use healthsim_schema::{EntityType, ENTITY_TYPES, SCENARIO_COLUMN};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::adjudicate::{self, Adjudications};
use super::{FhirError, FhirSource, Mapped, Position, SourcedResource};
use crate::error::{db, truncate, Error, Result};
use crate::input::{convert, InputError, Provenance, Row};
use crate::persist::{check_tags, open_target, write_batches, Batch, ScenarioTarget, TypeCounts};
use crate::scenario::{self, ScenarioRef};
use crate::store::{in_transaction, Store};
use healthsim_fhir::Adjudication;

/// Resources per write chunk by default.
pub const DEFAULT_BATCH_SIZE: usize = 5_000;
/// How many skipped resources a report lists; the rest is counted in
/// [`FhirImportReport::skipped_total`].
pub const MAX_SKIPPED_LISTED: usize = 100;
/// How many example values a report lists for all unresolved references together.
pub const MAX_UNRESOLVED_EXAMPLES: usize = 10;
/// How many example values one reference column contributes at most.
const EXAMPLES_PER_REFERENCE: usize = 3;
/// The context a new scenario is named from by default (`fhir-import-YYYYMMDD`).
pub const DEFAULT_CONTEXT: &str = "fhir import";

/// How [`Store::import_fhir`] imports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FhirImportOptions {
    /// Where the entities go: a new scenario (default: auto-named from the context
    /// [`DEFAULT_CONTEXT`]) or an existing one.
    pub scenario: ScenarioTarget,
    /// Leave out invalid resources (listed in the report) instead of failing the import.
    pub skip_invalid: bool,
    /// Resources per write chunk (at least 1; default [`DEFAULT_BATCH_SIZE`]). Memory grows
    /// with it; the result does not depend on it.
    pub batch_size: usize,
    /// Provenance for every row that has none of its own (the mapping sets `source_type`
    /// `fhir` and `source_system` from `meta.source`, which win). Checked by
    /// [`Provenance::validate`].
    pub provenance: Provenance,
}

impl Default for FhirImportOptions {
    fn default() -> Self {
        FhirImportOptions {
            scenario: ScenarioTarget::new_from_context(DEFAULT_CONTEXT),
            skip_invalid: false,
            batch_size: DEFAULT_BATCH_SIZE,
            provenance: Provenance::default(),
        }
    }
}

impl FhirImportOptions {
    /// The default options, into `scenario`.
    pub fn into_scenario(scenario: ScenarioTarget) -> Self {
        FhirImportOptions {
            scenario,
            ..FhirImportOptions::default()
        }
    }
}

/// A resource left out by an import with [`FhirImportOptions::skip_invalid`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedResource {
    /// The file it was read from.
    pub file: PathBuf,
    /// 1-based NDJSON line (or the line of a `.json` file where its JSON broke).
    pub line: Option<usize>,
    /// 0-based index of its Bundle entry.
    pub entry: Option<usize>,
    /// Its `resourceType`, when it has one.
    pub resource_type: Option<String>,
    /// Its id (or its entry's `fullUrl`), when known.
    pub id: Option<String>,
    /// Why it was left out.
    pub reason: String,
}

/// What an import did. Small whatever the input: skipped resources and reference examples are
/// capped, everything else is counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FhirImportReport {
    /// The scenario written to.
    pub scenario_id: String,
    /// Its name.
    pub scenario_name: String,
    /// Whether this import created it.
    pub is_new_scenario: bool,
    /// How many files were read.
    pub files: usize,
    /// Resources read, per `resourceType`: imported, unsupported and skipped ones alike
    /// (a Bundle counts as its entries; an item without a `resourceType` is only in `skipped`).
    pub resources_read: BTreeMap<String, u64>,
    /// Resources whose rows were written.
    pub resources_imported: u64,
    /// Resources of types (or Observation categories) without a canonical table of their own,
    /// per `resourceType`: kept whole in `fhir_resources`.
    pub unsupported: BTreeMap<String, u64>,
    /// Rows written per table: `inserted` (new ids in the scenario) and `updated` (ids the
    /// scenario had, including ones written by an earlier chunk of this import).
    pub rows_written: BTreeMap<String, TypeCounts>,
    /// Rows that replaced an earlier row with the same table and id inside one chunk (a
    /// repeated resource); they are not counted again in `rows_written`.
    pub replaced_in_chunk: u64,
    /// The first [`MAX_SKIPPED_LISTED`] resources left out as invalid, in input order.
    pub skipped: Vec<SkippedResource>,
    /// How many resources were left out as invalid.
    pub skipped_total: u64,
    /// Per reference (`table.column`): rows of the scenario whose non-null reference names no
    /// row of the target table. Only references with such rows are listed.
    pub unresolved_references: BTreeMap<String, u64>,
    /// A few of them, as `table.column = value` (at most [`MAX_UNRESOLVED_EXAMPLES`]).
    pub unresolved_examples: Vec<String>,
    /// ExplanationOfBenefits put on the Claim they adjudicate (its paid, allowed and
    /// patient-responsibility amounts, outcome and lines); each distinct EOB counts once. Their
    /// updates are not in `rows_written`.
    pub eobs_merged: u64,
    /// ExplanationOfBenefits whose Claim the scenario does not hold (or that name none),
    /// written as claims of their own; their rows are in `rows_written`.
    pub eobs_standalone: u64,
}

impl Store {
    /// Imports FHIR R4 files and folders (see the [module documentation](self)): `.json`
    /// resources and Bundles, `.ndjson` Bulk Data files, folders of them.
    ///
    /// ```
    /// use healthsim_persist::fhir::FhirImportOptions;
    /// use healthsim_persist::{Store, StoreOptions};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path().join("healthsim.duckdb"), StoreOptions::default())?;
    /// let file = dir.path().join("Patient.ndjson");
    /// std::fs::write(&file, concat!(
    ///     r#"{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1950-06-01"}"#, "\n",
    ///     r#"{"resourceType":"Encounter","id":"e1","subject":{"reference":"Patient/p1"},"serviceProvider":{"reference":"Organization/o9"}}"#, "\n",
    /// ))?;
    /// let report = store.import_fhir(&[&file], &FhirImportOptions::default())?;
    /// assert!(report.is_new_scenario);
    /// assert_eq!(report.rows_written["patients"].inserted, 1);
    /// assert_eq!(report.unresolved_examples, ["encounters.facility_id = o9"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] for a `batch_size` of 0, [`Error::InvalidTag`], [`Error::Input`]
    /// for the options' provenance ([`crate::InputError::InvalidProvenance`]);
    /// [`Error::Fhir`] when a path cannot be read or (without `skip_invalid`) a resource is
    /// not valid JSON or malformed; [`Error::FhirResourceRejected`] (without `skip_invalid`)
    /// when persist's validation refuses a resource's entities; [`Error::FhirNothingToImport`]
    /// when nothing is written (no resource maps to a row, no EOB finds its claim);
    /// [`Error::ScenarioNotFound`] / [`Error::AmbiguousScenario`] for an existing target,
    /// [`Error::Naming`],
    /// [`Error::Database`] and the errors of opening the database. Nothing is written unless
    /// the import succeeds.
    pub fn import_fhir(
        &self,
        paths: &[impl AsRef<Path>],
        options: &FhirImportOptions,
    ) -> Result<FhirImportReport> {
        if options.batch_size == 0 {
            return Err(Error::InvalidRequest {
                reason: "the fhir import batch size must be at least 1".into(),
            });
        }
        check_tags(&options.scenario)?;
        options.provenance.validate()?;
        let source = FhirSource::open(paths.iter().map(AsRef::as_ref))?;
        self.with_writer(|conn| {
            in_transaction(conn, |conn| {
                let mut import = Import::new(conn, options, source.files().len())?;
                for item in source {
                    import.item(item)?;
                }
                import.finish()
            })
        })
    }
}

/// The rows of one table waiting in the chunk, each id once.
struct Pending {
    entity_type: &'static EntityType,
    rows: Vec<Row>,
    positions: HashMap<String, usize>,
}

/// One import in progress, inside its transaction.
struct Import<'c> {
    conn: &'c Connection,
    options: &'c FhirImportOptions,
    now: NaiveDateTime,
    /// The scenario and whether it is new; `None` until the first write into a new one.
    target: Option<(ScenarioRef, bool)>,
    /// Per registry position.
    chunk: Vec<Option<Pending>>,
    chunk_resources: usize,
    report: Counts,
    /// ExplanationOfBenefits waiting for the end of the input (adjudicate.rs).
    adjudications: Adjudications,
}

/// The report's counters, before the scenario is known.
#[derive(Default)]
struct Counts {
    files: usize,
    resources_read: BTreeMap<String, u64>,
    resources_imported: u64,
    unsupported: BTreeMap<String, u64>,
    rows_written: BTreeMap<String, TypeCounts>,
    replaced_in_chunk: u64,
    skipped: Vec<SkippedResource>,
    skipped_total: u64,
}

impl<'c> Import<'c> {
    fn new(conn: &'c Connection, options: &'c FhirImportOptions, files: usize) -> Result<Self> {
        let now = Utc::now().naive_utc();
        let target = match &options.scenario {
            ScenarioTarget::Existing(_) => Some(open_target(conn, &options.scenario, None, now)?),
            ScenarioTarget::New { .. } => None,
        };
        Ok(Import {
            conn,
            options,
            now,
            target,
            chunk: ENTITY_TYPES.iter().map(|_| None).collect(),
            chunk_resources: 0,
            report: Counts {
                files,
                ..Counts::default()
            },
            adjudications: Adjudications::default(),
        })
    }

    /// One item of the source: a resource, or an error reading one.
    fn item(&mut self, item: Result<SourcedResource, FhirError>) -> Result<()> {
        let sourced = match item {
            Ok(sourced) => sourced,
            Err(error) => return self.invalid(error),
        };
        if let Some(Json::String(resource_type)) = sourced.resource.get("resourceType") {
            *self
                .report
                .resources_read
                .entry(resource_type.clone())
                .or_default() += 1;
        }
        match sourced.map_resource() {
            Ok(Mapped::Entities(rows)) => self.add(&sourced, rows),
            Ok(Mapped::Raw {
                resource_type,
                rows,
                ..
            }) => {
                *self.report.unsupported.entry(resource_type).or_default() += 1;
                self.add(&sourced, rows)
            }
            Ok(Mapped::Adjudication(adjudication)) => self.adjudication(&sourced, adjudication),
            Err(error) => self.invalid(error),
        }
    }

    /// A resource that cannot be read or mapped: the import's error, or a skip.
    fn invalid(&mut self, error: FhirError) -> Result<()> {
        let skipped = match error {
            FhirError::InvalidJson { file, line, reason } if self.options.skip_invalid => {
                SkippedResource {
                    file,
                    line,
                    entry: None,
                    resource_type: None,
                    id: None,
                    reason: format!("invalid json: {reason}"),
                }
            }
            FhirError::Malformed {
                resource_type,
                id,
                position,
                reason,
            } if self.options.skip_invalid => {
                let position = position.map(|p| *p);
                SkippedResource {
                    file: position
                        .as_ref()
                        .map(|p| p.file.clone())
                        .unwrap_or_default(),
                    line: position.as_ref().and_then(|p| p.line),
                    entry: position.as_ref().and_then(|p| p.entry),
                    resource_type,
                    id,
                    reason,
                }
            }
            other => return Err(Error::Fhir(other)),
        };
        self.skip(skipped);
        Ok(())
    }

    fn skip(&mut self, skipped: SkippedResource) {
        self.report.skipped_total += 1;
        if self.report.skipped.len() < MAX_SKIPPED_LISTED {
            self.report.skipped.push(skipped);
        }
    }

    /// Validates a mapped resource's entities and adds them to the chunk (all or none).
    fn add(
        &mut self,
        sourced: &SourcedResource,
        rows: Vec<(&'static str, Map<String, Json>)>,
    ) -> Result<()> {
        // Grouped by table in first-seen order, so persist's duplicate check applies inside
        // the resource (two claim lines with one sequence are an error, not a silent loss).
        let mut groups: Vec<(usize, Vec<Json>)> = Vec::new();
        for (table, entity) in rows {
            let index = registry_position(table)?;
            match groups.iter_mut().find(|(i, _)| *i == index) {
                Some((_, entities)) => entities.push(Json::Object(entity)),
                None => groups.push((index, vec![Json::Object(entity)])),
            }
        }
        let mut new_id = || uuid::Uuid::new_v4().to_string();
        let mut converted = Vec::with_capacity(groups.len());
        for (index, entities) in groups {
            match convert(&ENTITY_TYPES[index], &entities, &mut new_id) {
                Ok(rows) => converted.push((index, rows)),
                Err(error) => return self.rejected(sourced, error),
            }
        }
        for (index, rows) in converted {
            let pending = self.chunk[index].get_or_insert_with(|| Pending {
                entity_type: &ENTITY_TYPES[index],
                rows: Vec::new(),
                positions: HashMap::new(),
            });
            for row in rows {
                match pending.positions.get(&row.id) {
                    Some(&at) => {
                        pending.rows[at] = row;
                        self.report.replaced_in_chunk += 1;
                    }
                    None => {
                        pending.positions.insert(row.id.clone(), pending.rows.len());
                        pending.rows.push(row);
                    }
                }
            }
        }
        self.report.resources_imported += 1;
        self.chunk_resources += 1;
        if self.chunk_resources >= self.options.batch_size {
            self.flush()?;
        }
        Ok(())
    }

    /// An ExplanationOfBenefit of a Claim: validated now, applied at the end (adjudicate.rs).
    fn adjudication(
        &mut self,
        sourced: &SourcedResource,
        adjudication: Adjudication,
    ) -> Result<()> {
        match adjudicate::validate(adjudication) {
            Ok(valid) => {
                self.adjudications.push(self.conn, valid)?;
                self.report.resources_imported += 1;
                Ok(())
            }
            Err(error) => self.rejected(sourced, error),
        }
    }

    /// A resource whose entities persist's validation refused: the import's error, or a skip.
    fn rejected(&mut self, sourced: &SourcedResource, error: Error) -> Result<()> {
        let resource_type = sourced
            .resource
            .get("resourceType")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        let id = match sourced.resource.get("id") {
            Some(Json::String(id)) if !id.trim().is_empty() => Some(truncate(id)),
            _ => sourced.full_url.as_deref().map(truncate),
        };
        let reason = rejection_reason(&error);
        if self.options.skip_invalid {
            self.skip(SkippedResource {
                file: sourced.file.clone(),
                line: sourced.line,
                entry: sourced.entry,
                resource_type: Some(resource_type),
                id,
                reason,
            });
            return Ok(());
        }
        Err(Error::FhirResourceRejected {
            position: Box::new(Position {
                file: sourced.file.clone(),
                line: sourced.line,
                entry: sourced.entry,
            }),
            resource_type,
            id,
            reason,
            source: Box::new(error),
        })
    }

    /// Writes the chunk (creating a new scenario on the first write) and empties it.
    fn flush(&mut self) -> Result<()> {
        self.chunk_resources = 0;
        let batches: Vec<Batch> = self
            .chunk
            .iter_mut()
            .filter_map(Option::take)
            .map(|pending| Batch {
                entity_type: pending.entity_type,
                rows: pending.rows,
            })
            .collect();
        let Some(first) = batches.first() else {
            return Ok(());
        };
        let scenario_id = match &self.target {
            Some((target, _)) => target.scenario_id.clone(),
            None => {
                let opened = open_target(
                    self.conn,
                    &self.options.scenario,
                    Some(first.entity_type.singular),
                    self.now,
                )?;
                let id = opened.0.scenario_id.clone();
                self.target = Some(opened);
                id
            }
        };
        let counts = write_batches(
            self.conn,
            &scenario_id,
            &batches,
            &self.options.provenance,
            self.now,
        )?;
        for (table, c) in counts {
            let total = self.report.rows_written.entry(table).or_default();
            total.inserted += c.inserted;
            total.updated += c.updated;
        }
        Ok(())
    }

    /// The last chunk, the reference check, `updated_at`, and the report.
    fn finish(mut self) -> Result<FhirImportReport> {
        self.flush()?;
        let eobs = std::mem::take(&mut self.adjudications).apply(
            self.conn,
            &mut self.target,
            self.options,
            self.now,
        )?;
        for (table, c) in eobs.rows_written {
            let total = self.report.rows_written.entry(table).or_default();
            total.inserted += c.inserted;
            total.updated += c.updated;
        }
        let counts = self.report;
        let target = match self.target {
            Some(target) if !counts.rows_written.is_empty() || eobs.merged > 0 => target,
            _ => {
                return Err(Error::FhirNothingToImport {
                    files: counts.files,
                    resources_read: counts.resources_read.values().sum(),
                    unsupported: counts.unsupported.values().sum(),
                    skipped: counts.skipped_total,
                })
            }
        };
        let (scenario, is_new) = target;
        let (unresolved_references, unresolved_examples) =
            unresolved_references(self.conn, &scenario.scenario_id)?;
        scenario::touch(self.conn, &scenario.scenario_id, self.now)?;
        Ok(FhirImportReport {
            scenario_id: scenario.scenario_id,
            scenario_name: scenario.name,
            is_new_scenario: is_new,
            files: counts.files,
            resources_read: counts.resources_read,
            resources_imported: counts.resources_imported,
            unsupported: counts.unsupported,
            rows_written: counts.rows_written,
            replaced_in_chunk: counts.replaced_in_chunk,
            skipped: counts.skipped,
            skipped_total: counts.skipped_total,
            unresolved_references,
            unresolved_examples,
            eobs_merged: eobs.merged,
            eobs_standalone: eobs.standalone,
        })
    }
}

/// The registry position of a table the mapping produced.
fn registry_position(table: &str) -> Result<usize> {
    ENTITY_TYPES
        .iter()
        .position(|t| t.table == table)
        .ok_or_else(|| Error::UnknownEntityType {
            given: table.to_string(),
            valid: ENTITY_TYPES.iter().map(|t| t.table).collect(),
        })
}

/// Why persist's validation refused an entity, without the index (which counts inside one
/// resource and would mislead).
fn rejection_reason(error: &Error) -> String {
    match error {
        Error::Input(InputError::InvalidField {
            entity_type,
            field,
            value,
            reason,
            ..
        }) => format!("{entity_type}.{field}: {reason}, got {value}"),
        Error::Input(InputError::MissingField {
            entity_type, field, ..
        }) => format!("{entity_type}: required field '{field}' is missing or null"),
        Error::Input(InputError::DuplicateId {
            entity_type, id, ..
        }) => format!("{entity_type}: the resource maps to id '{id}' twice"),
        other => other.to_string(),
    }
}

/// Per reference column of the registry (`table.column`), how many rows of the scenario name
/// a target id the scenario does not hold; and a few examples.
fn unresolved_references(
    conn: &Connection,
    scenario_id: &str,
) -> Result<(BTreeMap<String, u64>, Vec<String>)> {
    let mut counts = BTreeMap::new();
    let mut examples = Vec::new();
    for t in ENTITY_TYPES {
        for reference in t.references {
            let Some(target) = healthsim_schema::by_table(reference.target) else {
                continue;
            };
            let (table, column, target_table, target_pk) =
                (t.table, reference.column, target.table, target.primary_key);
            let dangling = format!(
                "FROM main.{table} s WHERE s.{SCENARIO_COLUMN} = ? AND s.{column} IS NOT NULL \
                 AND NOT EXISTS (SELECT 1 FROM main.{target_table} t \
                 WHERE t.{SCENARIO_COLUMN} = s.{SCENARIO_COLUMN} AND t.{target_pk} = s.{column})"
            );
            let context = || format!("checking the references {table}.{column}");
            let n: i64 = conn
                .query_row(&format!("SELECT count(*) {dangling}"), [scenario_id], |r| {
                    r.get(0)
                })
                .map_err(db(context()))?;
            if n <= 0 {
                continue;
            }
            counts.insert(format!("{table}.{column}"), n as u64);
            let room = MAX_UNRESOLVED_EXAMPLES
                .saturating_sub(examples.len())
                .min(EXAMPLES_PER_REFERENCE);
            if room == 0 {
                continue;
            }
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT DISTINCT s.{column}::VARCHAR {dangling} ORDER BY 1 LIMIT ?"
                ))
                .map_err(db(context()))?;
            let values = stmt
                .query_map(params![scenario_id, room as i64], |r| r.get::<_, String>(0))
                .map_err(db(context()))?;
            for value in values {
                let value = value.map_err(db(context()))?;
                examples.push(format!("{table}.{column} = {}", truncate(&value)));
            }
        }
    }
    Ok((counts, examples))
}
