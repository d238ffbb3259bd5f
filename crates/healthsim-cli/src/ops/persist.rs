//! `persist` / `persist_entities`: entities into a new or existing scenario.
//!
//! The command streams its input (a file or stdin, see [`crate::ingest`]) in batches, each one
//! transaction, and reports over all batches; the tool stores one batch per call and returns
//! the service's compact result.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal, Read};

use healthsim_persist::{
    EntityInput, PersistRequest, PersistResult, PreparedEntities, ScenarioTarget, Store,
    SummaryOptions, TypeCounts,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::args::PersistArgs;
use crate::db::DbConfig;
use crate::error::{CliError, CliResult, ErrorClass};
use healthsim_schema::text::json_kind;

use crate::ingest::{self, Batch, Position};
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::{self, Output};

// ------------------------------------------------------------------------------------ tool

/// The `persist_entities` tool.
#[derive(Debug)]
pub struct PersistEntities;

impl Tool for PersistEntities {
    const NAME: &'static str = "persist_entities";
    const COMMAND: &'static str = "persist";
    const TITLE: &'static str = "Persist entities";
    const EFFECT: Effect = Effect::Changes { idempotent: false };
    // The library aims at RESULT_TOKEN_BUDGET (500), but the counts of a batch of many types
    // plus the smallest summary of a scenario holding them take more (measured: 527 for a
    // 50-entity batch of 15 types; see tests/contract.rs for the worst case), so the stated
    // bound is twice that.
    const MAX_RESULT_TOKENS: usize = 2 * healthsim_persist::RESULT_TOKEN_BUDGET;
    const DESCRIPTION: &'static str = "\
Store generated healthcare entities and get back a compact result (counts, \
up to 50 ids, and a scenario summary without samples; about 500 tokens whatever the batch \
size), never the data. Use it in the generation loop: generate ~50 entities, call \
persist_entities, tell the user the progress (e.g. 'persisted 150/500'), repeat. The first call \
(without scenario_id) creates a scenario named scenario_name, or auto-named from the keywords of \
context plus today's date (e.g. 'diabetic-medicare-maricopa-20250115'); every later batch must \
pass the returned scenario_id so all batches land in the same scenario. entities is a list of \
objects with entity_type (e.g. entity_type='patients'), or an object mapping types to lists \
({'patients': [...], 'encounters': [...]}). Field names may be snake_case or camelCase, \
FHIR-like nesting (name.given, period.start) is understood, and fields without a column are \
kept. Writes are upserts: an entity sent with the id of one already stored in the scenario \
replaces it (counted as updated; its old fields are gone). Not idempotent: every call without \
scenario_id creates a NEW scenario, and an entity without an id gets a fresh UUID on every call, \
so re-sending a batch after an unclear failure first check with get_scenario_summary. A call is \
atomic: on a validation error nothing is stored and the message names the entity (type[index]) \
and field to fix.";
    type Params = PersistParams;
    type Output = PersistResult;

    async fn call(context: ToolContext, params: PersistParams) -> CliResult<PersistResult> {
        let request = persist_request(params)?;
        context
            .run(move |store| Ok(store.persist_entities(&request)?))
            .await
    }
}

// The shape of persist_entities' `entities`, for its JSON Schema only: the value itself is read
// leniently by `persist_request`, so a wrong shape gets a precise tool error.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(description = "A list of entities of one type, or entity type -> list.")]
#[allow(missing_docs)]
pub enum EntitiesSchema {
    /// Entities of one type (give entity_type).
    List(Vec<Map<String, Json>>),
    /// Entity type -> list of entities, for several types in one call.
    ByType(std::collections::BTreeMap<String, Vec<Map<String, Json>>>),
}

/// persist_entities arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersistParams {
    /// The generated entities: a list of objects of one entity_type, or an object mapping entity
    /// types to lists ({"patients": [...], "encounters": [...]}). About 50 per call.
    #[schemars(with = "EntitiesSchema")]
    pub entities: Json,
    /// Entity type of a list (patients, encounters, claims, ...; aliases like patient, labs,
    /// vital_signs work). Not needed when entities maps types to lists.
    pub entity_type: Option<String>,
    /// Existing scenario (id or name) to add to. Omit on the first batch; pass the scenario_id
    /// returned by the first batch on every later batch.
    pub scenario_id: Option<String>,
    /// Name for a NEW scenario (sanitized, made unique). Omit to generate one from context.
    pub scenario_name: Option<String>,
    /// What the data is about, e.g. the user's request; its keywords name a new scenario.
    pub context: Option<String>,
    /// Description of a new scenario.
    pub description: Option<String>,
    /// Tags for the scenario (lowercase).
    pub tags: Option<Vec<String>>,
    /// Provenance stored on every entity of this call that does not set its own.
    pub provenance: Option<ProvenanceParams>,
}

/// Provenance set once for a call (persist_entities, import_scenario, import_fhir): stored on
/// every row of the call; an entity's own field wins.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvenanceParams {
    /// Kind of source, e.g. synthetic.
    pub source_type: Option<String>,
    /// The system the data imitates or came from.
    pub source_system: Option<String>,
    /// The skill that generated the data.
    pub skill_used: Option<String>,
    /// The random seed of the generation (an integer).
    pub generation_seed: Option<i64>,
}

impl From<ProvenanceParams> for healthsim_persist::Provenance {
    fn from(params: ProvenanceParams) -> Self {
        healthsim_persist::Provenance {
            source_type: params.source_type,
            source_system: params.source_system,
            skill_used: params.skill_used,
            generation_seed: params.generation_seed,
        }
    }
}

/// The service request for persist_entities arguments.
fn persist_request(params: PersistParams) -> CliResult<PersistRequest> {
    let PersistParams {
        entities,
        entity_type,
        scenario_id,
        scenario_name,
        context,
        description,
        tags,
        provenance,
    } = params;
    // Some clients send the list as a JSON-encoded string; accept it as what it encodes.
    let entities = match entities {
        Json::String(text) => serde_json::from_str(&text).unwrap_or(Json::String(text)),
        other => other,
    };
    let request = match (entities, entity_type) {
        (Json::Array(list), Some(entity_type)) => PersistRequest::new(entity_type, list),
        (Json::Array(_), None) => {
            return Err(CliError::input(
                "entity_type is required when entities is a list (or send entities as an \
                 object mapping types to lists)",
            ))
        }
        // One entity sent as an object instead of a list of one.
        (Json::Object(map), Some(entity_type)) if !ingest::is_type_map(&map) => {
            PersistRequest::new(entity_type, vec![Json::Object(map)])
        }
        // A type map; a given entity_type adds nothing to it.
        (Json::Object(map), _) => PersistRequest::by_type(map),
        (other, _) => {
            return Err(CliError::input(format!(
                "entities must be a list of entity objects (with entity_type) or an object \
                 mapping entity types to lists, got {}",
                json_kind(&other)
            )))
        }
    };
    let target = match scenario_id {
        Some(id) => ScenarioTarget::existing(id),
        None => ScenarioTarget::New {
            name: scenario_name,
            context,
            description,
            tags: tags.unwrap_or_default(),
        },
    };
    Ok(request
        .with_scenario(target)
        .with_provenance(provenance.unwrap_or_default().into()))
}

// ------------------------------------------------------------------------------------ command

/// A batch that was rolled back, and why.
#[derive(Debug, Clone, Serialize)]
pub struct BatchFailure {
    /// 1-based batch number.
    pub batch: usize,
    /// Where the batch was in the input (`lines 3-52`, `element [0] to element [49]`).
    pub span: String,
    /// How many entities it held (none of them was stored).
    pub entities: usize,
    /// The error, naming the entity's line or position when known.
    pub error: String,
}

/// What `healthsim persist` did over all batches.
#[derive(Debug, Clone, Serialize)]
pub struct PersistReport {
    /// The scenario written to (absent when no batch succeeded).
    pub scenario_id: Option<String>,
    /// Its name.
    pub scenario_name: Option<String>,
    /// Whether this command created it.
    pub is_new_scenario: bool,
    /// Inserted / updated per table, over all batches.
    pub counts: BTreeMap<String, TypeCounts>,
    /// The first persisted ids, at most 50.
    pub entity_ids: Vec<String>,
    /// Whether entity_ids lists fewer ids than were persisted.
    pub ids_truncated: bool,
    /// Entities persisted (inserted + updated).
    pub total_persisted: u64,
    /// Entities read from the input (0 when reading stopped early).
    pub entities_read: usize,
    /// Batches (transactions) in total.
    pub batches: usize,
    /// Batches that were rolled back.
    pub failed_batches: Vec<BatchFailure>,
    /// The scenario's summary after the last successful batch, without samples.
    pub summary: Option<healthsim_summary::ScenarioSummary>,
}

/// A batch read and converted on the reader thread, on its way to the writer.
struct PreparedBatch {
    number: usize,
    span: String,
    entities: usize,
    /// The validated rows, or why the batch cannot be stored (naming the entity's position).
    prepared: CliResult<PreparedEntities>,
}

impl PreparedBatch {
    /// Groups a batch by table (aliases merge), moving the values, and converts it. An
    /// entity-level error names the entity's line or position in the input.
    fn new(batch: Batch) -> Self {
        let number = batch.number;
        let span = batch.span();
        let entities = batch.entities.len();
        let mut lists = Map::new();
        let mut positions: BTreeMap<&'static str, Vec<Position>> = BTreeMap::new();
        let grouped = || -> CliResult<()> {
            for entity in batch.entities {
                let table = healthsim_schema::entity_type(&entity.entity_type)
                    .map_err(|e| CliError::from(e).context(&entity.position))?
                    .table;
                if let Json::Array(values) = lists
                    .entry(table)
                    .or_insert_with(|| Json::Array(Vec::new()))
                {
                    values.push(entity.value);
                }
                positions.entry(table).or_default().push(entity.position);
            }
            Ok(())
        };
        let prepared = grouped().and_then(|()| {
            PreparedEntities::new(&EntityInput::ByType(lists)).map_err(|e| {
                let at = entity_of(&e).and_then(|(table, index)| positions.get(table)?.get(index));
                match at {
                    Some(position) => CliError::from(e).context(position),
                    None => CliError::from(e),
                }
            })
        });
        PreparedBatch {
            number,
            span,
            entities,
            prepared,
        }
    }
}

/// Writes prepared batches one after the other into one scenario.
struct BatchPersister<'s> {
    store: &'s Store,
    target: ScenarioTarget,
    provenance: healthsim_persist::Provenance,
    report: PersistReport,
    progress: ProgressBar,
    /// The bar counts entities (stdin); otherwise it follows the bytes read.
    count_entities: bool,
}

impl BatchPersister<'_> {
    /// Writes one batch. A batch refused as bad input is reported and skipped; any other
    /// failure stops the command.
    fn persist(&mut self, batch: PreparedBatch) -> CliResult<()> {
        self.report.batches += 1;
        match batch.prepared.and_then(|prepared| self.write(&prepared)) {
            Ok(()) => {
                if self.count_entities {
                    self.progress.inc(batch.entities as u64);
                } else {
                    let done = self.report.total_persisted;
                    self.progress
                        .set_message(format!("{done} entities persisted"));
                }
                Ok(())
            }
            Err(e) if e.class() == ErrorClass::Input => {
                let failure = BatchFailure {
                    batch: batch.number,
                    span: batch.span,
                    entities: batch.entities,
                    error: e.message().to_string(),
                };
                self.progress.suspend(|| {
                    eprintln!(
                        "batch {} ({}) was not stored: {}",
                        failure.batch, failure.span, failure.error
                    );
                });
                self.report.failed_batches.push(failure);
                Ok(())
            }
            Err(e) => Err(e.context(format!("batch {} ({})", batch.number, batch.span))),
        }
    }

    fn write(&mut self, prepared: &PreparedEntities) -> CliResult<()> {
        let result = self
            .store
            .write_entities(prepared, &self.target, &self.provenance)?;
        let report = &mut self.report;
        if report.scenario_id.is_none() {
            report.is_new_scenario = result.is_new_scenario;
        }
        self.target = ScenarioTarget::existing(result.scenario_id.clone());
        report.scenario_id = Some(result.scenario_id);
        report.scenario_name = Some(result.scenario_name);
        for (table, counts) in result.counts {
            let total = report.counts.entry(table).or_default();
            total.inserted += counts.inserted;
            total.updated += counts.updated;
        }
        let room = healthsim_persist::MAX_IDS_IN_RESULT.saturating_sub(report.entity_ids.len());
        report
            .entity_ids
            .extend(result.entity_ids.into_iter().take(room));
        report.total_persisted += result.total_persisted;
        report.ids_truncated = (report.entity_ids.len() as u64) < report.total_persisted;
        Ok(())
    }
}

/// The (table, index) an entity-level persist error points at.
fn entity_of(error: &healthsim_persist::Error) -> Option<(&'static str, usize)> {
    use healthsim_persist::{Error as E, InputError};
    match error {
        E::Input(InputError::NotAnObject {
            entity_type, index, ..
        })
        | E::Input(InputError::MissingField {
            entity_type, index, ..
        })
        | E::Input(InputError::InvalidField {
            entity_type, index, ..
        })
        | E::Input(InputError::DuplicateId {
            entity_type, index, ..
        }) => Some((entity_type, *index)),
        _ => None,
    }
}

/// A spinner on stderr counting entities; invisible when stderr is not a terminal.
pub fn entity_progress() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {pos} entities persisted ({per_sec})")
    {
        bar.set_style(style);
    }
    bar
}

/// A bar on stderr over the bytes of an input file; invisible when stderr is not a terminal.
fn byte_progress(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let template = "{spinner} [{bar:40}] {bytes}/{total_bytes} {msg} ({eta})";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Advances a progress bar by the bytes read through it.
struct ProgressReader<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// `healthsim persist`.
pub fn run(config: &DbConfig, args: &PersistArgs) -> CliResult<Output> {
    let default_type = match &args.entity_type {
        Some(t) => Some(healthsim_schema::entity_type(t)?.table),
        None => None,
    };
    // Every batch would refuse it: refused once, before any input is read.
    let provenance = args.provenance.to_provenance();
    provenance.validate()?;
    let from_stdin = args.file.as_ref().is_none_or(|f| f.as_os_str() == "-");
    let (input, progress): (Box<dyn Read + Send>, ProgressBar) = if from_stdin {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            return Err(CliError::input(
                "no input: give a FILE, or pipe JSON into `healthsim persist -`",
            ));
        }
        (Box::new(stdin), entity_progress())
    } else {
        let path = args.file.as_deref().unwrap_or(std::path::Path::new("-"));
        let file = std::fs::File::open(path).map_err(|e| {
            let class = if e.kind() == std::io::ErrorKind::NotFound {
                CliError::input
            } else {
                CliError::failure
            };
            class(format!("cannot read {}: {e}", path.display()))
        })?;
        let bar = byte_progress(file.metadata().map_or(0, |m| m.len()));
        let reader = ProgressReader {
            inner: file,
            bar: bar.clone(),
        };
        (Box::new(reader), bar)
    };
    let store = config.open()?;
    let target = match &args.scenario {
        // Resolve first: a wrong --scenario fails before any input is read.
        Some(given) => ScenarioTarget::existing(store.resolve_scenario(given)?.scenario_id),
        None => ScenarioTarget::New {
            name: args.name.clone(),
            context: args.context.clone(),
            description: args.description.clone(),
            tags: args.tags.clone(),
        },
    };
    let count_entities = from_stdin;
    let mut persister = BatchPersister {
        store: &store,
        target,
        provenance,
        report: PersistReport {
            scenario_id: None,
            scenario_name: None,
            is_new_scenario: false,
            counts: BTreeMap::new(),
            entity_ids: Vec::new(),
            ids_truncated: false,
            total_persisted: 0,
            entities_read: 0,
            batches: 0,
            failed_batches: Vec::new(),
            summary: None,
        },
        progress,
        count_entities,
    };
    let batch_size = usize::try_from(args.batch_size).unwrap_or(usize::MAX);
    let reader: Box<dyn BufRead + Send> = Box::new(BufReader::with_capacity(1 << 16, input));
    // Two stages on two threads: this one reads, parses and converts batch n + 1 while the
    // writer stores batch n. The channel holds one batch, so at most three are in memory.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<PreparedBatch>(1);
    let (stats, stopped_writer) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for batch in receiver {
                persister.persist(batch)?;
            }
            Ok::<(), CliError>(())
        });
        let stats = ingest::read_batches(reader, default_type, batch_size, &mut |batch| {
            // A closed channel means the writer stopped; its error is the one reported.
            sender
                .send(PreparedBatch::new(batch))
                .map_err(|_| CliError::failure("the writer stopped"))
        });
        drop(sender);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(CliError::failure("the writer thread panicked")));
        (stats, written.err())
    });
    persister.progress.finish_and_clear();
    if let Some(id) = &persister.report.scenario_id {
        // The batches deleted the scenario's running statistics (a bulk write does not keep
        // them); brought back once, so this summary and the next ones read parts instead of
        // every row of a large type.
        if stopped_writer.is_none() {
            store.refresh_running_statistics(id)?;
        }
        // One summary at the end instead of one per batch: its cost grows with the scenario.
        match store.scenario_summary(id, &SummaryOptions::without_samples()) {
            Ok(summary) => persister.report.summary = Some(summary),
            // The failure that stopped the writer is reported; the stored batches are listed.
            Err(_) if stopped_writer.is_some() => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mut report = persister.report;
    // A failed write stops the reader; that failure is the one to report.
    let stats = match stopped_writer {
        Some(e) => Err(e),
        None => stats,
    };
    let stopped = match stats {
        Ok(stats) => {
            report.entities_read = stats.entities;
            None
        }
        // Nothing was attempted: a plain error.
        Err(e) if report.batches == 0 => return Err(e),
        // Some batches are stored: report them, then the error that stopped the command.
        Err(e) => Some(e.context("stopped before the end of the input")),
    };
    // Tags of an existing scenario are added once, after its data.
    if args.scenario.is_some() && !args.tags.is_empty() && stopped.is_none() {
        if let Some(id) = &report.scenario_id {
            store.add_tags(id, &args.tags)?;
        }
    }
    let text = persist_text(&report);
    let failed = report.failed_batches.len();
    let mut out = Output::new(&report, text)?;
    if let Some(e) = stopped {
        out.failure = Some(e);
    } else if failed > 0 {
        out.failure = Some(CliError::input(format!(
            "{failed} of {} batches were not stored (see above); fix those entities and persist \
             them again{}",
            report.batches,
            report
                .scenario_id
                .as_ref()
                .map(|id| format!(" with --scenario {id}"))
                .unwrap_or_default()
        )));
    }
    Ok(out)
}

fn persist_text(report: &PersistReport) -> String {
    let mut text = String::new();
    match (&report.scenario_id, &report.scenario_name) {
        (Some(id), Some(name)) => {
            let new = if report.is_new_scenario {
                "new scenario"
            } else {
                "scenario"
            };
            text.push_str(&format!(
                "Persisted {} entities in {} batch{} into {new} '{name}' ({id}).\n",
                report.total_persisted,
                report.batches,
                if report.batches == 1 { "" } else { "es" },
            ));
        }
        _ => text.push_str("Nothing was persisted.\n"),
    }
    if !report.counts.is_empty() {
        let rows: Vec<Vec<String>> = report
            .counts
            .iter()
            .map(|(t, c)| vec![t.clone(), c.inserted.to_string(), c.updated.to_string()])
            .collect();
        text.push('\n');
        text.push_str(&output::table(&["type", "inserted", "updated"], &rows));
    }
    for f in &report.failed_batches {
        text.push_str(&format!(
            "\nbatch {} ({}, {} entities) was not stored: {}\n",
            f.batch, f.span, f.entities, f.error
        ));
    }
    if let Some(summary) = &report.summary {
        text.push('\n');
        text.push_str(&summary.render_text());
        text.push('\n');
    }
    text
}
