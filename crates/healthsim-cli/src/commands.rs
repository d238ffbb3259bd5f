//! The scenario commands: persist, summary, query, samples, list, rename, delete, tag.
//!
//! Each opens the store, calls one service operation, and returns an [`Output`] with the
//! result's JSON (field names of the service types) and a readable rendering.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal, Read};

use healthsim_persist::{
    EntityInput, ListOptions, PreparedEntities, ScenarioTarget, SortBy, Store, SummaryOptions,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::args::{
    DeleteArgs, ListArgs, PersistArgs, QueryArgs, RenameArgs, SamplesArgs, SortArg, SummaryArgs,
    TagCommand,
};
use crate::db::DbConfig;
use crate::error::{CliError, CliResult, ErrorClass};
use crate::ingest::{self, Batch, Position};
use crate::output::{self, Output};
use crate::views::{
    DeleteView, QueryView, RenameView, SamplesView, ScenarioInfoView, ScenarioListView,
    TagListView, TagsView, TypeCountsView,
};

// ------------------------------------------------------------------------------------ persist

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
    pub counts: BTreeMap<String, TypeCountsView>,
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
    use healthsim_persist::Error as E;
    match error {
        E::NotAnObject {
            entity_type, index, ..
        }
        | E::MissingField {
            entity_type, index, ..
        }
        | E::InvalidField {
            entity_type, index, ..
        }
        | E::DuplicateId {
            entity_type, index, ..
        } => Some((entity_type, *index)),
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
pub fn persist(config: &DbConfig, args: &PersistArgs) -> CliResult<Output> {
    let default_type = match &args.entity_type {
        Some(t) => Some(healthsim_schema::entity_type(t)?.table),
        None => None,
    };
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
        provenance: healthsim_persist::Provenance::default(),
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

// ------------------------------------------------------------------------------------ reading

/// `healthsim summary`.
pub fn summary(config: &DbConfig, args: &SummaryArgs) -> CliResult<Output> {
    let store = config.open()?;
    let options = SummaryOptions {
        samples_per_type: if args.no_samples { 0 } else { args.samples },
        ..SummaryOptions::default()
    };
    let summary = store.scenario_summary(&args.scenario, &options)?;
    let text = format!("{}\n", summary.render_text());
    Output::new(&summary, text)
}

/// Human rendering of a query page.
pub fn query_text(page: &QueryView) -> String {
    let headers: Vec<&str> = page.columns.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = page
        .results
        .iter()
        .map(|row| {
            page.columns
                .iter()
                .map(|c| row.get(c).map(output::cell).unwrap_or_default())
                .collect()
        })
        .collect();
    let mut text = output::table(&headers, &rows);
    let first = if page.returned == 0 {
        0
    } else {
        page.offset + 1
    };
    text.push_str(&format!(
        "\nrows {first}-{} of {}",
        page.offset + page.returned,
        page.total_count
    ));
    if page.has_more {
        text.push_str(&format!(
            "; next page: --offset {}",
            page.offset + page.returned
        ));
    }
    if page.truncated {
        text.push_str(" (long values were cut)");
    }
    text.push('\n');
    text
}

/// `healthsim query`.
pub fn query(config: &DbConfig, args: &QueryArgs) -> CliResult<Output> {
    let store = config.open()?;
    let page = run_query(&store, &args.scenario, &args.sql, args.limit, args.offset)?;
    let text = query_text(&page);
    Output::new(&page, text)
}

/// Runs a scenario query with the CLI's and the MCP server's page parameters.
pub fn run_query(
    store: &Store,
    scenario: &str,
    sql: &str,
    limit: Option<u64>,
    offset: Option<u64>,
) -> CliResult<QueryView> {
    let options = healthsim_persist::query::QueryOptions {
        limit: limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX)),
        offset: offset.map_or(0, |o| usize::try_from(o).unwrap_or(usize::MAX)),
        ..Default::default()
    };
    Ok(store.query_scenario(scenario, sql, &options)?.into())
}

/// Samples of one type, with the resolved scenario.
pub fn entity_samples(
    store: &Store,
    scenario: &str,
    entity_type: &str,
    count: usize,
    strategy: healthsim_persist::SampleStrategy,
) -> CliResult<SamplesView> {
    let table = healthsim_schema::entity_type(entity_type)?.table;
    let target = store.resolve_scenario(scenario)?;
    let samples = store.entity_samples(&target.scenario_id, table, count, strategy)?;
    Ok(SamplesView {
        scenario_id: target.scenario_id,
        scenario_name: target.name,
        entity_type: table.to_string(),
        strategy: strategy.name().to_string(),
        count: samples.len(),
        samples,
    })
}

/// `healthsim samples`.
pub fn samples(config: &DbConfig, args: &SamplesArgs) -> CliResult<Output> {
    let store = config.open()?;
    let view = entity_samples(
        &store,
        &args.scenario,
        &args.entity_type,
        args.count,
        args.strategy.into(),
    )?;
    let mut text = format!(
        "{} {} of scenario '{}' ({}):\n",
        view.count, view.entity_type, view.scenario_name, view.strategy
    );
    for (i, sample) in view.samples.iter().enumerate() {
        text.push_str(&format!("\n#{}\n", i + 1));
        if let Json::Object(fields) = sample {
            let pairs: Vec<(&str, String)> = fields
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.as_str(), output::cell(v)))
                .collect();
            text.push_str(&output::key_values(&pairs));
        } else {
            text.push_str(&format!("{sample}\n"));
        }
    }
    Output::new(&view, text)
}

/// Lists scenarios.
pub fn list_scenarios(store: &Store, options: &ListOptions) -> CliResult<ScenarioListView> {
    let scenarios: Vec<ScenarioInfoView> = store
        .list_scenarios(options)?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(ScenarioListView {
        count: scenarios.len(),
        scenarios,
    })
}

/// `healthsim list`.
pub fn list(config: &DbConfig, args: &ListArgs) -> CliResult<Output> {
    let store = config.open()?;
    let view = list_scenarios(
        &store,
        &ListOptions {
            filter: args.filter.clone(),
            tag: args.tag.clone(),
            sort: match args.sort {
                SortArg::Updated => SortBy::Updated,
                SortArg::Created => SortBy::Created,
                SortArg::Name => SortBy::Name,
            },
            limit: args.limit,
        },
    )?;
    let text = if view.scenarios.is_empty() {
        "No scenarios. Create one with `healthsim persist` or `healthsim demo`.\n".to_string()
    } else {
        let rows: Vec<Vec<String>> = view
            .scenarios
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    s.entity_count.to_string(),
                    s.tags.join(","),
                    s.updated_at.clone(),
                    s.scenario_id.clone(),
                ]
            })
            .collect();
        output::table(&["name", "entities", "tags", "updated", "id"], &rows)
    };
    Output::new(&view, text)
}

// ------------------------------------------------------------------------------------ changes

/// Renames a scenario and reports the previous name.
pub fn rename_scenario(store: &Store, scenario: &str, new_name: &str) -> CliResult<RenameView> {
    let before = store.resolve_scenario(scenario)?;
    let after = store.rename_scenario(&before.scenario_id, new_name)?;
    Ok(RenameView {
        scenario_id: after.scenario_id,
        name: after.name,
        previous_name: before.name,
    })
}

/// `healthsim rename`.
pub fn rename(config: &DbConfig, args: &RenameArgs) -> CliResult<Output> {
    let store = config.open()?;
    let view = rename_scenario(&store, &args.scenario, &args.new_name)?;
    let text = format!(
        "Renamed '{}' to '{}' ({}).\n",
        view.previous_name, view.name, view.scenario_id
    );
    Output::new(&view, text)
}

/// `healthsim delete`.
pub fn delete(config: &DbConfig, args: &DeleteArgs) -> CliResult<Output> {
    let store = config.open()?;
    let result = store
        .delete_scenario(&args.scenario, args.yes)
        .map_err(|e| match e {
            healthsim_persist::Error::ConfirmationRequired { .. } => {
                CliError::from(e).hint("run again with --yes to delete it")
            }
            other => CliError::from(other),
        })?;
    let view = DeleteView::from(result);
    let total: u64 = view.deleted_counts.values().sum();
    let text = format!(
        "Deleted scenario '{}' ({}): {total} entities, {} tags.\n",
        view.name, view.scenario_id, view.tags_removed
    );
    Output::new(&view, text)
}

/// Adds or removes tags and reports the scenario's tags.
pub fn change_tags(
    store: &Store,
    scenario: &str,
    tags: &[String],
    add: bool,
) -> CliResult<TagsView> {
    let target = store.resolve_scenario(scenario)?;
    let tags = if add {
        store.add_tags(&target.scenario_id, tags)?
    } else {
        store.remove_tags(&target.scenario_id, tags)?
    };
    Ok(TagsView {
        scenario_id: target.scenario_id,
        name: target.name,
        tags,
    })
}

/// A scenario's tags, or (without a scenario) every tag with its scenario count.
pub fn list_tags(store: &Store, scenario: Option<&str>) -> CliResult<TagListView> {
    match scenario {
        Some(scenario) => {
            let target = store.resolve_scenario(scenario)?;
            let tags = store.scenario_tags(&target.scenario_id)?;
            Ok(TagListView {
                scenario_id: Some(target.scenario_id),
                name: Some(target.name),
                tags,
                scenario_counts: None,
            })
        }
        None => Ok(TagListView::all(store.all_tags()?)),
    }
}

/// `healthsim tag ...`.
pub fn tag(config: &DbConfig, command: &TagCommand) -> CliResult<Output> {
    let store = config.open()?;
    let tags_text = |view: &TagsView| {
        let tags = if view.tags.is_empty() {
            "(none)".to_string()
        } else {
            view.tags.join(", ")
        };
        format!("{}: {tags}\n", view.name)
    };
    match command {
        TagCommand::Add { scenario, tags } => {
            let view = change_tags(&store, scenario, tags, true)?;
            let text = tags_text(&view);
            Output::new(&view, text)
        }
        TagCommand::Remove { scenario, tags } => {
            let view = change_tags(&store, scenario, tags, false)?;
            let text = tags_text(&view);
            Output::new(&view, text)
        }
        TagCommand::List { scenario } => {
            let view = list_tags(&store, scenario.as_deref())?;
            let text = match (&view.name, &view.scenario_counts) {
                (Some(name), _) if view.tags.is_empty() => format!("{name}: (none)\n"),
                (Some(name), _) => format!("{name}: {}\n", view.tags.join(", ")),
                (None, _) if view.tags.is_empty() => "No tags.\n".to_string(),
                (None, counts) => {
                    let rows: Vec<Vec<String>> = view
                        .tags
                        .iter()
                        .map(|t| {
                            let n = counts.as_ref().and_then(|c| c.get(t)).copied();
                            vec![t.clone(), n.unwrap_or(0).to_string()]
                        })
                        .collect();
                    output::table(&["tag", "scenarios"], &rows)
                }
            };
            Output::new(&view, text)
        }
    }
}
