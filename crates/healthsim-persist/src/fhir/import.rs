//! [`Store::import_fhir`]: FHIR R4 files and folders into a scenario, streamed in chunks, in
//! one transaction or one transaction per chunk ([`CommitMode`]).
//!
//! The import reads resources lazily from a [`FhirSource`] (plain or gzip-compressed `.json`
//! and `.ndjson`), maps each one ([`super::map`]) and validates its entities with persist's own
//! [`convert_owned`] (the mapped entities handed over, not copied), exactly as
//! [`Store::persist_entities`] validates JSON input. Reading, mapping and validating run on a
//! thread of their own, which hands full chunks of
//! [`FhirImportOptions::batch_size`] resources to the calling thread; that one writes each
//! chunk through persist's own staged upsert (the same code, so the same rules and the same
//! manifest bookkeeping) while the next chunk is being prepared, so both cores work and the
//! importer's memory stays bounded by a few chunks whatever the size of the input. At the end
//! (the *end-of-import step*, `Writer::finish`) the unresolved references of the scenario are
//! counted and `scenarios.updated_at` is set.
//!
//! Commit modes ([`FhirImportOptions::commit`]):
//! - **all**: every chunk and the end-of-import step in one transaction — the import is
//!   all-or-nothing. DuckDB keeps a transaction's uncommitted rows in memory until COMMIT
//!   (`healthsim import-fhir --commit all` peaked at 292 MB for 100,000 resources and 1.1 GB
//!   for 1,000,000 on a 2-vCPU Intel Xeon, about 1 KB more per resource), so memory grows with
//!   the input.
//! - **chunks**: each chunk is its own transaction (atomic: its rows and manifest counts, and
//!   for a new scenario in the first chunk the scenario's row, appear together or not at all),
//!   and the end-of-import step is one more. Memory stays bounded at any input size. An import
//!   that fails or is killed midway leaves the chunks committed so far; ids upsert, so
//!   re-running the same input into that scenario completes it without duplicates. A failure
//!   after a commit is [`Error::FhirImportIncomplete`], naming the chunks committed and the
//!   scenario to re-run into.
//! - **auto** (the default): `all` for inputs up to [`AUTO_CHUNKS_FROM_BYTES`] (their size on
//!   disk, gzip files counted [`GZIP_RATIO`] times), `chunks` above. A demanding user expects a
//!   laptop-sized import to be atomic and a population-sized one to finish instead of running
//!   out of memory; the report's `commit_mode` says which one ran.
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
//!   validation refuses ([`Error::FhirResourceRejected`]) fails the import by default, naming
//!   file, line or bundle entry and the reason; in `all` mode nothing is written, not even a
//!   new scenario. With [`FhirImportOptions::skip_invalid`] such a resource is left out whole
//!   (none of its rows are written) and listed in the report. A file that cannot be read or
//!   decompressed ([`FhirError::Io`], [`FhirError::Decompress`]) always fails the import:
//!   skipping is for bad resources, not for input that silently went missing.
//! - **Non-FHIR files** of a folder (a `.json` document without a string `resourceType`, such
//!   as a generator's metadata file) are skipped and listed in
//!   [`FhirImportReport::skipped_files`]; a file named explicitly must be FHIR.
//! - **Nothing dropped.** Resource types (and Observation categories) without a table of their
//!   own are kept whole in `fhir_resources` and counted per type in
//!   [`FhirImportReport::unsupported`].
//! - **ExplanationOfBenefits** are applied in the end-of-import step, onto the Claim each
//!   names, or written as claims of their own when it is not in the scenario (`adjudicate.rs`).
//! - **References** are not checked while writing (the target may come later in the input, or
//!   be in the scenario already); afterwards every reference column of the registry is checked
//!   with one query each, and the values without a target row in the scenario are counted in
//!   [`FhirImportReport::unresolved_references`].

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use chrono::{NaiveDateTime, Utc};
use duckdb::{params, Connection};
use healthsim_schema::{EntityType, ENTITY_TYPES, SCENARIO_COLUMN};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::adjudicate::{self, Adjudications, Validated};
use super::{FhirError, FhirSource, Mapped, Position, SourcedResource};
use crate::error::{db, truncate, Error, Result};
use crate::input::{convert_owned, InputError, Provenance, Row};
use crate::known_ids::KnownIds;
use crate::persist::{check_tags, open_target, write_batches, Batch, ScenarioTarget, TypeCounts};
use crate::scenario::{self, ScenarioRef};
use crate::statistics::Statistics;
use crate::store::{in_transaction_once, Store};
use healthsim_fhir::Adjudication;

/// Resources per write chunk by default. Each commit has a cost of its own (the scenario's
/// and the manifest's rows, the log's flush), so larger chunks are faster while the memory
/// bound grows with them ([`crate::store::stream_memory_limit`]). Measured on a 2-vCPU Intel
/// Xeon, 1,000,000 resources through `healthsim import-fhir`, three pairs each against 5,000:
/// 10,000 took 7.4 % less wall time at the same peak (339 against 333 MB); 20,000 took
/// 13.6 % less but peaked at 486 MB, too close to the 512 MB the import is held to.
pub const DEFAULT_BATCH_SIZE: usize = 10_000;
/// How many skipped resources a report lists; the rest is counted in
/// [`FhirImportReport::skipped_total`].
pub const MAX_SKIPPED_LISTED: usize = 100;
/// How many skipped non-FHIR files a report lists; the rest is counted in
/// [`FhirImportReport::skipped_files_total`].
pub const MAX_SKIPPED_FILES_LISTED: usize = 20;
/// How many example values a report lists for all unresolved references together.
pub const MAX_UNRESOLVED_EXAMPLES: usize = 10;
/// How many example values one reference column contributes at most.
const EXAMPLES_PER_REFERENCE: usize = 3;
/// The context a new scenario is named from by default (`fhir-import-YYYYMMDD`).
pub const DEFAULT_CONTEXT: &str = "fhir import";
/// [`CommitMode::Auto`] commits in chunks from this much input on (bytes on disk, gzip files
/// counted [`GZIP_RATIO`] times): about 80,000 resources of a bulk export, which one
/// transaction holds in about 300 MB (see the module docs).
pub const AUTO_CHUNKS_FROM_BYTES: u64 = 32 * 1024 * 1024;
/// How much larger than its gzip file [`CommitMode::Auto`] takes FHIR JSON to be (FHIR
/// NDJSON compresses 8 to 15 times; the low end errs towards chunks).
pub const GZIP_RATIO: u64 = 8;
/// Chunks prepared ahead of the writer (memory: this many plus one being built and one being
/// written).
const CHUNKS_AHEAD: usize = 1;

/// How a FHIR import commits (the module documentation has the details; these texts are also
/// what an MCP client reads).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CommitMode {
    /// 'all' up to 32 MiB of input (gzip files count 8 times their size), 'chunks' above.
    #[default]
    Auto,
    /// One transaction: all or nothing; memory grows with the input.
    All,
    /// One transaction per chunk: bounded memory; a failed or killed import keeps the chunks
    /// committed so far, and re-running it completes it without duplicates.
    Chunks,
}

impl CommitMode {
    /// The mode for `paths`: `self`, or for [`CommitMode::Auto`] the one their size calls for.
    fn resolve(self, files: &[PathBuf]) -> CommitMode {
        match self {
            CommitMode::Auto => {
                let bytes: u64 = files
                    .iter()
                    .map(|f| {
                        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
                        if super::read::is_gzip(f) {
                            size.saturating_mul(GZIP_RATIO)
                        } else {
                            size
                        }
                    })
                    .fold(0, u64::saturating_add);
                if bytes > AUTO_CHUNKS_FROM_BYTES {
                    CommitMode::Chunks
                } else {
                    CommitMode::All
                }
            }
            fixed => fixed,
        }
    }
}

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
    /// with it; the rows written do not depend on it.
    pub batch_size: usize,
    /// Provenance for every row that has none of its own (the mapping sets `source_type`
    /// `fhir` and `source_system` from `meta.source`, which win). Checked by
    /// [`Provenance::validate`].
    pub provenance: Provenance,
    /// One transaction, one per chunk, or chosen by the input's size (default).
    pub commit: CommitMode,
}

impl Default for FhirImportOptions {
    fn default() -> Self {
        FhirImportOptions {
            scenario: ScenarioTarget::new_from_context(DEFAULT_CONTEXT),
            skip_invalid: false,
            batch_size: DEFAULT_BATCH_SIZE,
            provenance: Provenance::default(),
            commit: CommitMode::Auto,
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

/// A file of a folder that was not imported because it is not FHIR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedFile {
    /// The file.
    pub path: PathBuf,
    /// Why it is not FHIR.
    pub reason: String,
}

/// What an import did. Small whatever the input: skipped resources, skipped files and
/// reference examples are capped, everything else is counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FhirImportReport {
    /// The scenario written to.
    pub scenario_id: String,
    /// Its name.
    pub scenario_name: String,
    /// Whether this import created it.
    pub is_new_scenario: bool,
    /// How many files were read (files of a folder skipped as not FHIR are not counted).
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
    /// How the import committed: [`CommitMode::All`] (one transaction) or
    /// [`CommitMode::Chunks`] (one per chunk), never `Auto`.
    pub commit_mode: CommitMode,
    /// Transactions committed with rows: 1 in `all` mode, one per chunk in `chunks` mode.
    pub chunks_committed: u64,
    /// The first [`MAX_SKIPPED_FILES_LISTED`] files of folders skipped as not FHIR.
    pub skipped_files: Vec<SkippedFile>,
    /// How many files of folders were skipped as not FHIR.
    pub skipped_files_total: u64,
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
    /// resources and Bundles, `.ndjson` Bulk Data files, either gzip-compressed (`.gz`),
    /// folders of them.
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
    /// [`Error::Fhir`] when a path cannot be read or decompressed or (without `skip_invalid`) a
    /// resource is not valid JSON or malformed; [`Error::FhirResourceRejected`] (without
    /// `skip_invalid`) when persist's validation refuses a resource's entities;
    /// [`Error::FhirNothingToImport`] when nothing is written (no resource maps to a row, no
    /// EOB finds its claim); [`Error::ScenarioNotFound`] / [`Error::AmbiguousScenario`] for an
    /// existing target, [`Error::Naming`], [`Error::Database`] and the errors of opening the
    /// database. In `all` mode nothing is written unless the import succeeds; in `chunks` mode
    /// any of these after the first commit is wrapped in [`Error::FhirImportIncomplete`]
    /// (before it, nothing was written and the error is returned as it is).
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
        let mode = options.commit.resolve(source.files());
        let statistics_from = self.options().running_statistics_from;
        match mode {
            // Bounded memory is the point of chunks (see `Store::with_bounded_memory`); one
            // engine thread leaves the second core to the reading thread.
            CommitMode::Chunks => self.with_bounded_memory(options.batch_size, || {
                self.with_one_engine_thread(|| {
                    self.with_writer(|conn| {
                        let known = self.known_ids_of_one_operation();
                        let mut writer = Writer::new(conn, options, mode, statistics_from, known)?;
                        match run(source, options, &mut writer) {
                            Ok(gathered) => {
                                let finished =
                                    in_transaction_once(conn, |_| writer.finish(gathered));
                                finished.map_err(|e| writer.incomplete(e))
                            }
                            Err(error) => Err(writer.incomplete(error)),
                        }
                    })
                })
            }),
            _ => self.with_writer(|conn| {
                in_transaction_once(conn, |conn| {
                    let known = self.known_ids_of_one_operation();
                    let mut writer =
                        Writer::new(conn, options, CommitMode::All, statistics_from, known)?;
                    let gathered = run(source, options, &mut writer)?;
                    writer.finish(gathered)
                })
            }),
        }
    }
}

/// Reads, maps and validates on a thread of its own while `writer` writes the chunks it hands
/// over, one chunk ahead; returns the reader's counts once the last chunk is written. The
/// first error of either side ends both.
fn run(
    source: FhirSource,
    options: &FhirImportOptions,
    writer: &mut Writer<'_>,
) -> Result<Gathered> {
    let stop = AtomicBool::new(false);
    let (sender, receiver) = mpsc::sync_channel::<Result<Chunk>>(CHUNKS_AHEAD);
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut gather = Gather::new(options, source.files().len());
            let mut source = source;
            for item in source.by_ref() {
                if stop.load(Ordering::Relaxed) {
                    return None;
                }
                match gather.item(item) {
                    Ok(Some(chunk)) => {
                        if sender.send(Ok(chunk)).is_err() {
                            return None;
                        }
                    }
                    Ok(None) => {}
                    Err(error) => {
                        let _ = sender.send(Err(error));
                        return None;
                    }
                }
            }
            if let Some(chunk) = gather.take_chunk() {
                if sender.send(Ok(chunk)).is_err() {
                    return None;
                }
            }
            drop(sender);
            Some(gather.finish(source.skipped_files()))
        });
        let written = receiver
            .iter()
            .try_for_each(|chunk| chunk.and_then(|chunk| writer.write(chunk)));
        // On a write error the reader stops at its next resource (or its next send).
        stop.store(true, Ordering::Relaxed);
        drop(receiver);
        let gathered = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        written?;
        gathered.ok_or_else(|| Error::InvalidRequest {
            // Unreachable: the reader ends early only after sending an error or when the
            // writer stopped, which returned above.
            reason: "the fhir reader stopped without a reason".into(),
        })
    })
}

/// The rows of one table waiting in the chunk, each id once.
struct Pending {
    entity_type: &'static EntityType,
    rows: Vec<Row>,
    positions: HashMap<String, usize>,
}

/// A full chunk, ready to write.
struct Chunk {
    batches: Vec<Batch>,
    /// Its ExplanationOfBenefits, queued by the writer until the end-of-import step.
    adjudications: Vec<Validated>,
    resources: u64,
}

/// The reading side of an import: the chunk being filled and the report's counters.
struct Gather<'o> {
    options: &'o FhirImportOptions,
    /// Per registry position.
    chunk: Vec<Option<Pending>>,
    chunk_resources: usize,
    counts: Gathered,
    /// ExplanationOfBenefits of the chunk, validated; the writer queues them (adjudicate.rs).
    adjudications: Vec<Validated>,
}

/// How a rejected resource is named: its type and its id (else its entry's `fullUrl`),
/// taken before its mapping moves it into a row.
struct Named {
    resource_type: String,
    id: Option<String>,
}

impl Named {
    fn of(sourced: &SourcedResource) -> Named {
        let resource = &sourced.resource;
        Named {
            resource_type: resource
                .get("resourceType")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string(),
            id: match resource.get("id") {
                Some(Json::String(id)) if !id.trim().is_empty() => Some(truncate(id)),
                _ => sourced.full_url.as_deref().map(truncate),
            },
        }
    }
}

/// What the reading side counted.
#[derive(Default)]
struct Gathered {
    files: usize,
    resources_read: BTreeMap<String, u64>,
    resources_imported: u64,
    unsupported: BTreeMap<String, u64>,
    replaced_in_chunk: u64,
    skipped: Vec<SkippedResource>,
    skipped_total: u64,
    skipped_files: Vec<SkippedFile>,
    skipped_files_total: u64,
}

impl<'o> Gather<'o> {
    fn new(options: &'o FhirImportOptions, files: usize) -> Self {
        Gather {
            options,
            chunk: ENTITY_TYPES.iter().map(|_| None).collect(),
            chunk_resources: 0,
            counts: Gathered {
                files,
                ..Gathered::default()
            },
            adjudications: Vec::new(),
        }
    }

    /// One item of the source: a resource, or an error reading one. A full chunk comes back.
    fn item(
        &mut self,
        item: std::result::Result<SourcedResource, FhirError>,
    ) -> Result<Option<Chunk>> {
        let mut sourced = match item {
            Ok(sourced) => sourced,
            Err(error) => return self.invalid(error).map(|()| None),
        };
        if let Some(Json::String(resource_type)) = sourced.resource.get("resourceType") {
            match self.counts.resources_read.get_mut(resource_type) {
                Some(count) => *count += 1,
                None => {
                    self.counts.resources_read.insert(resource_type.clone(), 1);
                }
            }
        }
        // Named before the mapping takes the resource: a rejection names it.
        let named = Named::of(&sourced);
        match sourced.map_resource_taking() {
            Ok(Mapped::Entities(rows)) => self.add(&sourced, named, rows),
            Ok(Mapped::Raw {
                resource_type,
                rows,
                ..
            }) => {
                *self.counts.unsupported.entry(resource_type).or_default() += 1;
                self.add(&sourced, named, rows)
            }
            Ok(Mapped::Adjudication(adjudication)) => {
                self.adjudication(&sourced, named, adjudication)
            }
            Err(error) => self.invalid(error).map(|()| None),
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
        self.counts.skipped_total += 1;
        if self.counts.skipped.len() < MAX_SKIPPED_LISTED {
            self.counts.skipped.push(skipped);
        }
    }

    /// Validates a mapped resource's entities and adds them to the chunk (all or none).
    fn add(
        &mut self,
        sourced: &SourcedResource,
        named: Named,
        rows: Vec<(&'static str, Map<String, Json>)>,
    ) -> Result<Option<Chunk>> {
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
            match convert_owned(&ENTITY_TYPES[index], entities, &mut new_id) {
                Ok(rows) => converted.push((index, rows)),
                Err(error) => return self.rejected(sourced, named, error).map(|()| None),
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
                        self.counts.replaced_in_chunk += 1;
                    }
                    None => {
                        pending.positions.insert(row.id.clone(), pending.rows.len());
                        pending.rows.push(row);
                    }
                }
            }
        }
        Ok(self.imported())
    }

    /// Counts one more resource in the import and the chunk; the chunk when that filled it.
    fn imported(&mut self) -> Option<Chunk> {
        self.counts.resources_imported += 1;
        self.chunk_resources += 1;
        if self.chunk_resources >= self.options.batch_size {
            return self.take_chunk();
        }
        None
    }

    /// An ExplanationOfBenefit of a Claim: validated now, applied at the end (adjudicate.rs).
    fn adjudication(
        &mut self,
        sourced: &SourcedResource,
        named: Named,
        adjudication: Adjudication,
    ) -> Result<Option<Chunk>> {
        match adjudicate::validate(adjudication) {
            Ok(valid) => {
                self.adjudications.push(valid);
                Ok(self.imported())
            }
            Err(error) => self.rejected(sourced, named, error).map(|()| None),
        }
    }

    /// A resource whose entities persist's validation refused: the import's error, or a skip.
    fn rejected(&mut self, sourced: &SourcedResource, named: Named, error: Error) -> Result<()> {
        let Named { resource_type, id } = named;
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

    /// The chunk's rows (none when it is empty), leaving an empty chunk.
    fn take_chunk(&mut self) -> Option<Chunk> {
        let resources = std::mem::take(&mut self.chunk_resources) as u64;
        let batches: Vec<Batch> = self
            .chunk
            .iter_mut()
            .filter_map(Option::take)
            .map(|pending| Batch {
                entity_type: pending.entity_type,
                rows: pending.rows,
            })
            .collect();
        let adjudications = std::mem::take(&mut self.adjudications);
        (!batches.is_empty() || !adjudications.is_empty()).then_some(Chunk {
            batches,
            adjudications,
            resources,
        })
    }

    /// The counts, with the files the source skipped as not FHIR.
    fn finish(mut self, skipped_files: &[super::read::SkippedFile]) -> Gathered {
        self.counts.files = self.counts.files.saturating_sub(skipped_files.len());
        self.counts.skipped_files_total = skipped_files.len() as u64;
        self.counts.skipped_files = skipped_files
            .iter()
            .take(MAX_SKIPPED_FILES_LISTED)
            .map(|f| SkippedFile {
                path: f.path.clone(),
                reason: f.reason.clone(),
            })
            .collect();
        self.counts
    }
}

/// The writing side of an import: the scenario, what was written and committed.
struct Writer<'c> {
    conn: &'c Connection,
    options: &'c FhirImportOptions,
    mode: CommitMode,
    now: NaiveDateTime,
    /// Rows of a type from which its running statistics are computed at the end (the store's
    /// `running_statistics_from`).
    statistics_from: u64,
    /// The scenario and whether it is new; `None` until the first write into a new one.
    target: Option<(ScenarioRef, bool)>,
    rows_written: BTreeMap<String, TypeCounts>,
    /// Chunks written (in `chunks` mode: committed).
    chunks: u64,
    /// Resources of those chunks.
    resources: u64,
    /// ExplanationOfBenefits waiting for the end-of-import step (adjudicate.rs).
    adjudications: Adjudications,
    /// The ids the chunks wrote (`None` on a lake: see `crate::known_ids`).
    known: Option<KnownIds>,
}

impl<'c> Writer<'c> {
    fn new(
        conn: &'c Connection,
        options: &'c FhirImportOptions,
        mode: CommitMode,
        statistics_from: u64,
        known: Option<KnownIds>,
    ) -> Result<Self> {
        let now = Utc::now().naive_utc();
        let target = match &options.scenario {
            ScenarioTarget::Existing(_) => Some(open_target(conn, &options.scenario, None, now)?),
            ScenarioTarget::New { .. } => None,
        };
        Ok(Writer {
            conn,
            options,
            mode,
            now,
            statistics_from,
            target,
            rows_written: BTreeMap::new(),
            chunks: 0,
            resources: 0,
            adjudications: Adjudications::default(),
            known,
        })
    }

    /// Writes a chunk (creating a new scenario on the first write); in `chunks` mode as a
    /// transaction of its own.
    fn write(&mut self, chunk: Chunk) -> Result<()> {
        let resources = chunk.resources;
        let counts = match self.mode {
            CommitMode::Chunks => {
                let conn = self.conn;
                in_transaction_once(conn, |_| self.write_chunk(chunk))?
            }
            _ => self.write_chunk(chunk)?,
        };
        for (table, c) in counts {
            let total = self.rows_written.entry(table).or_default();
            total.inserted += c.inserted;
            total.updated += c.updated;
        }
        self.chunks += 1;
        self.resources += resources;
        Ok(())
    }

    fn write_chunk(&mut self, chunk: Chunk) -> Result<BTreeMap<String, TypeCounts>> {
        for adjudication in chunk.adjudications {
            self.adjudications.push(self.conn, adjudication)?;
        }
        let Some(first) = chunk.batches.first() else {
            return Ok(BTreeMap::new());
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
        let written = write_batches(
            self.conn,
            &scenario_id,
            &chunk.batches,
            &self.options.provenance,
            self.now,
            Statistics::Drop,
            self.known.as_mut(),
        )?;
        healthsim_schema::crash::point("fhir.chunk");
        Ok(written)
    }

    /// The end-of-import step, once every chunk is written (in `chunks` mode inside a
    /// transaction of its own): whatever needs the whole input — the queued
    /// ExplanationOfBenefits, the reference check and `updated_at` — and the report.
    fn finish(&mut self, counts: Gathered) -> Result<FhirImportReport> {
        let eobs = std::mem::take(&mut self.adjudications).apply(
            self.conn,
            &mut self.target,
            self.options,
            self.now,
        )?;
        for (table, c) in eobs.rows_written {
            let total = self.rows_written.entry(table).or_default();
            total.inserted += c.inserted;
            total.updated += c.updated;
        }
        healthsim_schema::crash::point("fhir.adjudicated");
        // Cloned, not taken: a failure below must still name the scenario (`incomplete`).
        let target = match &self.target {
            Some(target) if !self.rows_written.is_empty() || eobs.merged > 0 => target.clone(),
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
        crate::statistics::keep_large(self.conn, &scenario.scenario_id, self.statistics_from)?;
        Ok(FhirImportReport {
            scenario_id: scenario.scenario_id,
            scenario_name: scenario.name,
            is_new_scenario: is_new,
            files: counts.files,
            resources_read: counts.resources_read,
            resources_imported: counts.resources_imported,
            unsupported: counts.unsupported,
            rows_written: std::mem::take(&mut self.rows_written),
            replaced_in_chunk: counts.replaced_in_chunk,
            skipped: counts.skipped,
            skipped_total: counts.skipped_total,
            unresolved_references,
            unresolved_examples,
            commit_mode: self.mode,
            chunks_committed: match self.mode {
                CommitMode::Chunks => self.chunks,
                _ => 1,
            },
            skipped_files: counts.skipped_files,
            skipped_files_total: counts.skipped_files_total,
            eobs_merged: eobs.merged,
            eobs_standalone: eobs.standalone,
        })
    }

    /// A `chunks`-mode failure: as it is when nothing was committed, else
    /// [`Error::FhirImportIncomplete`] naming what was committed and where.
    fn incomplete(&self, error: Error) -> Error {
        match &self.target {
            Some((scenario, _)) if self.chunks > 0 => Error::FhirImportIncomplete {
                chunks_committed: self.chunks,
                resources_committed: self.resources,
                scenario_id: scenario.scenario_id.clone(),
                scenario_name: scenario.name.clone(),
                source: Box::new(error),
            },
            _ => error,
        }
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
pub(crate) fn unresolved_references(
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Auto commits in chunks above the threshold, counting gzip files as their likely
    /// uncompressed size. (Sparse files: their length is all that is read.)
    #[test]
    fn auto_chooses_the_commit_mode_by_input_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = |name: &str, len: u64| {
            let path = dir.path().join(name);
            std::fs::File::create(&path)
                .and_then(|f| f.set_len(len))
                .expect("file");
            path
        };
        let small = file("small.ndjson", AUTO_CHUNKS_FROM_BYTES);
        let large = file("large.ndjson", AUTO_CHUNKS_FROM_BYTES + 1);
        let gz = file("a.ndjson.gz", AUTO_CHUNKS_FROM_BYTES / GZIP_RATIO + 1);
        let half = file("half.json", AUTO_CHUNKS_FROM_BYTES / 2 + 1);
        let cases = [
            (vec![small.clone()], CommitMode::All),
            (vec![large.clone()], CommitMode::Chunks),
            (vec![gz.clone()], CommitMode::Chunks),
            (vec![half.clone()], CommitMode::All),
            (vec![half.clone(), half], CommitMode::Chunks),
        ];
        for (files, expected) in cases {
            assert_eq!(CommitMode::Auto.resolve(&files), expected, "{files:?}");
            assert_eq!(CommitMode::All.resolve(&files), CommitMode::All);
            assert_eq!(CommitMode::Chunks.resolve(&files), CommitMode::Chunks);
        }
    }
}
