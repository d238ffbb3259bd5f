//! The MCP stdio server (`healthsim mcp`): the service's operations as tools for an agent.
//!
//! - stdout carries only protocol messages (rmcp's stdio transport); nothing else here prints.
//! - Every tool returns structured content (with an `outputSchema`) on success, and a tool error
//!   (`isError: true`, the message saying what to fix) on any failure, including arguments that
//!   do not match the input schema. The server never exits because of a tool call.
//! - The database lock is held only during bursts of calls: the [`Backend`] opens the
//!   [`Store`] on the first call and releases its connection after [`IDLE_RELEASE`] without
//!   calls, so the CLI and other servers can use the same file in between.
//! - DuckDB work runs on tokio's blocking pool; the `Store` serializes operations itself.
//! - Paths that tools take (export, import, FHIR import) are on the server's machine; a
//!   relative one is relative to the database's folder, not to the working directory the client
//!   happened to start the server in.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use healthsim_persist::fhir::FhirImportOptions;
use healthsim_persist::{
    CloneOptions, ExportOptions, ImportOptions, ListOptions, MergeOptions, PersistRequest,
    ScenarioTarget, SortBy, Store, SummaryOptions,
};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::schema_for_type;
use rmcp::model::{Implementation, JsonObject, ServerCapabilities, ServerConfig};
use rmcp::{tool, tool_handler, tool_router, Json, ServerHandler, ServiceExt};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value as JsonValue};

use crate::db::DbConfig;
use crate::describe::{self, SchemaDescription};
use crate::error::{CliError, CliResult};
use crate::views::{
    CloneView, DeleteView, ExportView, FhirImportView, ImportView, MergeView, PersistView,
    QueryView, RenameView, SamplesView, ScenarioListView, SummaryView, TagListView, TagsView,
};
use crate::{commands, transfer};

/// How long the server keeps the database open after the last call.
pub const IDLE_RELEASE: Duration = Duration::from_secs(1);

/// Runs the server on stdin/stdout until the client disconnects.
pub fn serve_stdio(config: DbConfig) -> CliResult<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("cannot start the async runtime: {e}")))?;
    // stderr only: stdout belongs to the protocol.
    eprintln!(
        "healthsim mcp {}: serving {} on stdio",
        env!("CARGO_PKG_VERSION"),
        config.path.display()
    );
    runtime.block_on(async move {
        let server = HealthsimServer::new(config, IDLE_RELEASE);
        let transport = crate::mcp_transport::line_transport(
            tokio::io::BufReader::new(tokio::io::stdin()),
            tokio::io::stdout(),
        );
        let running = server
            .serve((transport.sink, transport.stream))
            .await
            .map_err(|e| CliError::failure(format!("MCP session failed to start: {e}")))?;
        running
            .waiting()
            .await
            .map_err(|e| CliError::failure(format!("MCP session ended abnormally: {e}")))?;
        // Every answer is written before the process ends.
        transport
            .writer
            .await
            .map_err(|e| CliError::failure(format!("the MCP writer failed: {e}")))?
            .map_err(|e| CliError::failure(format!("cannot write MCP messages: {e}")))?;
        Ok(())
    })
}

// ------------------------------------------------------------------------------------ backend

/// The store, opened lazily and released when idle.
#[derive(Debug)]
pub struct Backend {
    config: DbConfig,
    idle: Duration,
    store: Mutex<Option<Arc<Store>>>,
    /// Bumped when a call starts and when it ends; a release timer fires only if nothing
    /// happened since it was armed.
    activity: AtomicU64,
    /// Calls running now; the store is never released under one.
    in_flight: AtomicU64,
}

impl Backend {
    /// A backend on `config` that releases the database after `idle` without calls.
    pub fn new(config: DbConfig, idle: Duration) -> Self {
        Self {
            config,
            idle,
            store: Mutex::new(None),
            activity: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
        }
    }

    fn store(&self) -> CliResult<Arc<Store>> {
        let mut slot = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(store) = slot.as_ref() {
            return Ok(store.clone());
        }
        let store = Arc::new(self.config.open()?);
        *slot = Some(store.clone());
        Ok(store)
    }

    /// Runs `f` with the store on the blocking pool, then arms the idle release.
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Store) -> CliResult<T> + Send + 'static,
    ) -> CliResult<T> {
        // Ends the call even when the client cancels it and this future is dropped.
        let _call = CallGuard::start(self.clone());
        let backend = self.clone();
        tokio::task::spawn_blocking(move || {
            let store = backend.store()?;
            f(&store)
        })
        .await
        .unwrap_or_else(|e| Err(CliError::failure(format!("the operation failed: {e}"))))
    }

    fn release_when_idle(self: &Arc<Self>, mark: u64) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // shutting down: the store closes when dropped
        };
        let backend = self.clone();
        runtime.spawn(async move {
            tokio::time::sleep(backend.idle).await;
            let idle = backend.in_flight.load(Ordering::SeqCst) == 0
                && backend.activity.load(Ordering::SeqCst) == mark;
            if !idle {
                return; // another call started or ended since: its own timer decides
            }
            let store = backend
                .store
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            if let Some(store) = store {
                // Closing may checkpoint the database: blocking work.
                let _ = tokio::task::spawn_blocking(move || store.release()).await;
            }
        });
    }
}

/// One call in flight; when it ends, the idle release is armed.
struct CallGuard {
    backend: Arc<Backend>,
}

impl CallGuard {
    fn start(backend: Arc<Backend>) -> Self {
        backend.activity.fetch_add(1, Ordering::SeqCst);
        backend.in_flight.fetch_add(1, Ordering::SeqCst);
        Self { backend }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        self.backend.in_flight.fetch_sub(1, Ordering::SeqCst);
        let mark = self.backend.activity.fetch_add(1, Ordering::SeqCst) + 1;
        self.backend.release_when_idle(mark);
    }
}

// ------------------------------------------------------------------------------------ params

// The shape of persist_entities' `entities`, for its JSON Schema only: the value itself is read
// leniently by `persist_request`, so a wrong shape gets a precise tool error.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(description = "A list of entities of one type, or entity type -> list.")]
#[allow(missing_docs)]
pub enum EntitiesSchema {
    /// Entities of one type (give entity_type).
    List(Vec<Map<String, JsonValue>>),
    /// Entity type -> list of entities, for several types in one call.
    ByType(std::collections::BTreeMap<String, Vec<Map<String, JsonValue>>>),
}

/// persist_entities arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersistParams {
    /// The generated entities: a list of objects of one entity_type, or an object mapping entity
    /// types to lists ({"patients": [...], "encounters": [...]}). About 50 per call.
    #[schemars(with = "EntitiesSchema")]
    pub entities: JsonValue,
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
}

/// get_scenario_summary arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryParams {
    /// Scenario id or name (exact, case-insensitive, or a unique part of the name).
    pub scenario_id: String,
    /// Include a few samples per major entity type (default true).
    pub include_samples: Option<bool>,
    /// Samples per major entity type (default 3).
    pub samples_per_type: Option<usize>,
}

/// query_scenario arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryParams {
    /// Scenario id or name.
    pub scenario_id: String,
    /// One read-only SELECT or WITH query (DuckDB SQL) over the entity tables.
    pub query: String,
    /// Rows per page, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// Rows to skip (default 0): the previous offset + returned for the next page.
    pub offset: Option<u64>,
}

/// How samples are chosen.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StrategyParam {
    /// Spread over the data (default).
    Diverse,
    /// Uniformly random.
    Random,
    /// Most recent first.
    Recent,
}

impl From<StrategyParam> for healthsim_persist::SampleStrategy {
    fn from(value: StrategyParam) -> Self {
        match value {
            StrategyParam::Diverse => Self::Diverse,
            StrategyParam::Random => Self::Random,
            StrategyParam::Recent => Self::Recent,
        }
    }
}

/// get_entity_samples arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SamplesParams {
    /// Scenario id or name.
    pub scenario_id: String,
    /// Entity type (table name or alias).
    pub entity_type: String,
    /// How many (default 3).
    pub count: Option<usize>,
    /// diverse (default), random or recent.
    pub strategy: Option<StrategyParam>,
}

/// Sort order of list_scenarios.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortParam {
    /// Most recently updated first (default).
    Updated,
    /// Most recently created first.
    Created,
    /// By name.
    Name,
}

/// list_scenarios arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only names containing this text (case-insensitive).
    pub filter: Option<String>,
    /// Only scenarios with this tag.
    pub tag: Option<String>,
    /// updated (default), created or name.
    pub sort_by: Option<SortParam>,
    /// At most this many (default 20).
    pub limit: Option<usize>,
}

/// rename_scenario arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameParams {
    /// Scenario id or name.
    pub scenario_id: String,
    /// The new name.
    pub new_name: String,
}

/// delete_scenario arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteParams {
    /// Scenario id or name.
    pub scenario_id: String,
    /// Must be true, after the user confirmed; otherwise nothing is deleted.
    #[serde(default)]
    pub confirm: bool,
}

/// add_tag / remove_tag arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagParams {
    /// Scenario id or name.
    pub scenario_id: String,
    /// The tag (stored lowercase, trimmed).
    pub tag: String,
}

/// list_tags arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTagsParams {
    /// A scenario (id or name) to list the tags of; omit for every tag with its scenario count.
    pub scenario_id: Option<String>,
}

/// describe_schema arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DescribeParams {
    /// One or more entity types, comma-separated (e.g. "claims,claim_lines"), to get their
    /// columns; omit for the list of every type.
    pub entity_type: Option<String>,
}

/// A list of strings that a client may also send as one string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One string.
    One(String),
    /// A list.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The list; one string is split at commas (entity types, scenario names and ids never
    /// contain one).
    fn split(self) -> Vec<String> {
        match self {
            OneOrMany::One(text) => text
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            OneOrMany::Many(list) => list,
        }
    }

    /// The list; one string is one item (a path may contain a comma).
    fn whole(self) -> Vec<String> {
        match self {
            OneOrMany::One(text) => vec![text],
            OneOrMany::Many(list) => list,
        }
    }
}

/// clone_scenario arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloneParams {
    /// The scenario to copy (id or name).
    pub scenario_id: String,
    /// Name of the copy (sanitized, made unique). Default: '<source name>-copy'.
    pub new_name: Option<String>,
    /// Description of the copy. Default: the source's.
    pub description: Option<String>,
    /// Tags of the copy. Default: the source's tags.
    pub tags: Option<Vec<String>>,
    /// Copy only these entity types (table names or aliases, e.g. ["patients", "encounters"]).
    /// Default: every type.
    #[schemars(with = "Option<Vec<String>>")]
    pub entity_types: Option<OneOrMany>,
}

/// How merge_scenarios settles an id that two sources hold in one table.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnConflictParam {
    /// Keep the first source's entity (default).
    Skip,
    /// Keep the last source's entity.
    Overwrite,
    /// Keep both; the later one gets a new id and its references are rewritten.
    Rename,
}

impl From<OnConflictParam> for healthsim_persist::OnConflict {
    fn from(value: OnConflictParam) -> Self {
        match value {
            OnConflictParam::Skip => Self::Skip,
            OnConflictParam::Overwrite => Self::Overwrite,
            OnConflictParam::Rename => Self::Rename,
        }
    }
}

/// merge_scenarios arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeParams {
    /// Two or more scenarios (ids or names), in order: 'first' and 'last' in on_conflict refer
    /// to this order.
    #[schemars(with = "Vec<String>")]
    pub scenario_ids: OneOrMany,
    /// Name of the merged scenario (sanitized, made unique). Default:
    /// '<first source name>-merged'.
    pub target_name: Option<String>,
    /// Description of the merged scenario. Default: 'merge of <source names>'.
    pub description: Option<String>,
    /// Tags of the merged scenario. Default: every tag of the sources.
    pub tags: Option<Vec<String>>,
    /// skip (default: the first source's entity wins), overwrite (the last source's wins) or
    /// rename (both kept, the later one gets a new id '<id>~2').
    pub on_conflict: Option<OnConflictParam>,
}

/// The file format of export_scenario.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormatParam {
    /// One JSON document (re-importable with import_scenario).
    Json,
    /// A folder with one CSV file per table (with a header line).
    Csv,
    /// A folder with one Parquet file per table (typed columns).
    Parquet,
}

impl From<ExportFormatParam> for healthsim_persist::ExportFormat {
    fn from(value: ExportFormatParam) -> Self {
        match value {
            ExportFormatParam::Json => Self::Json,
            ExportFormatParam::Csv => Self::Csv,
            ExportFormatParam::Parquet => Self::Parquet,
        }
    }
}

/// export_scenario arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// The scenario to export (id or name).
    pub scenario_id: String,
    /// json, csv or parquet.
    pub format: ExportFormatParam,
    /// Where to write on the user's machine: an existing folder (receives
    /// '<scenario-name>.json' or the folder '<scenario-name>/'), a file path ending in .json,
    /// or a new folder for csv/parquet whose parent exists. Relative paths are relative to the
    /// database's folder; '~/' is the user's home. Default: the 'exports' folder next to the
    /// database.
    pub output_path: Option<String>,
    /// Export only these entity types (table names or aliases). Default: every type.
    #[schemars(with = "Option<Vec<String>>")]
    pub entity_types: Option<OneOrMany>,
    /// Include the provenance columns (source_type, source_system, skill_used,
    /// generation_seed). Default true.
    pub include_provenance: Option<bool>,
    /// Replace an existing export at the target (only after the user agreed). Default false.
    pub overwrite: Option<bool>,
}

/// import_scenario arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// A JSON export file, or a folder of '<table>.csv' or '<table>.parquet' files, as written
    /// by export_scenario. Relative paths are relative to the database's folder; '~/' is the
    /// user's home.
    pub path: String,
    /// Name of the new scenario (sanitized, made unique). Default: the exported scenario's
    /// name (JSON) or the folder's name.
    pub name: Option<String>,
}

/// import_fhir arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportFhirParams {
    /// FHIR R4 files (.json: a resource or a Bundle; .ndjson: Bulk Data) or folders of them,
    /// e.g. Synthea's 'output/fhir' folder. Relative paths are relative to the database's
    /// folder; '~/' is the user's home.
    #[schemars(with = "Vec<String>")]
    pub paths: OneOrMany,
    /// Add to this existing scenario (id or name). Omit to create a new scenario.
    pub scenario_id: Option<String>,
    /// Name for a NEW scenario (sanitized, made unique).
    pub scenario_name: Option<String>,
    /// What the data is about; its keywords name a new scenario. Default 'fhir import'.
    pub context: Option<String>,
    /// Leave out invalid resources (listed in the result) instead of failing the whole import.
    /// Default false.
    pub skip_invalid: Option<bool>,
}

/// The input schema of a tool from its parameter type (root type object, draft 2020-12).
fn input_schema<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    let mut schema = schema_for_type::<T>().as_ref().clone();
    // The type's own title and doc are noise to the model; the tool's description says it.
    schema.remove("title");
    schema.remove("description");
    let mut schema = JsonValue::Object(schema);
    unwrap_descriptions(&mut schema);
    match schema {
        JsonValue::Object(object) => Arc::new(object),
        _ => Arc::new(JsonObject::new()),
    }
}

/// Doc comments wrapped over several source lines become one-line descriptions.
fn unwrap_descriptions(value: &mut JsonValue) {
    match value {
        JsonValue::Object(map) => {
            for (key, inner) in map.iter_mut() {
                match inner {
                    JsonValue::String(text) if key == "description" => {
                        *text = text.replace('\n', " ");
                    }
                    other => unwrap_descriptions(other),
                }
            }
        }
        JsonValue::Array(items) => items.iter_mut().for_each(unwrap_descriptions),
        _ => {}
    }
}

/// Arguments as the tool's parameter type, or a tool error that says what is wrong.
fn parse<T: DeserializeOwned>(tool: &str, args: JsonObject) -> Result<T, String> {
    serde_json::from_value(JsonValue::Object(args))
        .map_err(|e| format!("invalid arguments for {tool}: {e}"))
}

/// A path an agent gave: `~/...` is under `$HOME`, and a relative path is relative to the
/// database's folder, because the server's working directory is wherever the client happened
/// to start it (`/` for Claude Desktop on macOS). An empty path stays empty (and is refused).
fn user_path(database: &Path, given: &str) -> PathBuf {
    if given.trim().is_empty() {
        return PathBuf::new();
    }
    let home = || std::env::var_os("HOME").filter(|h| !h.is_empty());
    if let Some(rest) = given.strip_prefix("~/") {
        if let Some(home) = home() {
            return PathBuf::from(home).join(rest);
        }
    }
    let path = Path::new(given);
    match database.parent() {
        Some(dir) if path.is_relative() && !dir.as_os_str().is_empty() => dir.join(path),
        _ => path.to_path_buf(),
    }
}

/// The tool error text of a failure.
fn tool_error(error: CliError) -> String {
    error.message().to_string()
}

// ------------------------------------------------------------------------------------ server

const INSTRUCTIONS: &str = "HealthSim Persist stores generated synthetic healthcare data \
(patients, encounters, claims, prescriptions, trial subjects, ...) in a DuckDB database, grouped \
in scenarios, and gives you compact summaries instead of the data. Generate entities in batches \
of about 50 and call persist_entities after each batch (the first call creates the scenario; \
pass its scenario_id to every later call). Never echo generated entities back into the \
conversation. To load a scenario, call get_scenario_summary (a summary, not the data). Fetch \
specifics with query_scenario (read-only SQL, paginated; describe_schema lists tables and \
columns). Scenarios can be listed, renamed, tagged and deleted (delete needs confirm: true after \
the user agreed), cloned (before a what-if change) and merged; export_scenario writes JSON, CSV \
or Parquet files on the user's machine and import_scenario reads them back; import_fhir loads \
FHIR R4 files such as Synthea output.";

/// The MCP server: tools over one database.
#[derive(Debug, Clone)]
pub struct HealthsimServer {
    backend: Arc<Backend>,
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl HealthsimServer {
    /// A server on `config`, releasing the database after `idle` without calls.
    pub fn new(config: DbConfig, idle: Duration) -> Self {
        Self {
            backend: Arc::new(Backend::new(config, idle)),
            tool_router: Self::tool_router(),
        }
    }

    /// Every tool's definition, sorted by name (for documentation and snapshots).
    pub fn tools() -> Vec<rmcp::model::Tool> {
        let mut tools = Self::tool_router().list_all();
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        tools
    }

    /// The database file (relative paths of tools are relative to its folder).
    fn database(&self) -> &Path {
        &self.backend.config.path
    }

    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> CliResult<T> + Send + 'static,
    ) -> Result<Json<T>, String> {
        self.backend.run(f).await.map(Json).map_err(tool_error)
    }

    #[tool(
        description = "Store generated healthcare entities and get back a compact result (counts, \
up to 50 ids, and a scenario summary without samples; at most ~500 tokens whatever the batch \
size), never the data. Use it in the generation loop: generate ~50 entities, call \
persist_entities, tell the user the progress (e.g. 'persisted 150/500'), repeat. The first call \
(without scenario_id) creates a scenario named scenario_name, or auto-named from the keywords of \
context plus today's date (e.g. 'diabetic-medicare-maricopa-20250115'); every later batch must \
pass the returned scenario_id so all batches land in the same scenario. entities is a list of \
objects with entity_type (e.g. entity_type='patients'), or an object mapping types to lists \
({'patients': [...], 'encounters': [...]}). Field names may be snake_case or camelCase, \
FHIR-like nesting (name.given, period.start) is understood, and fields without a column are \
kept. Re-sending an entity with the same id updates it. A call is atomic: on a validation error \
nothing is stored and the message names the entity (type[index]) and field to fix.",
        input_schema = input_schema::<PersistParams>(),
        annotations(
            title = "Persist entities",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn persist_entities(&self, args: JsonObject) -> Result<Json<PersistView>, String> {
        let params: PersistParams = parse("persist_entities", args)?;
        let request = persist_request(params).map_err(tool_error)?;
        self.call(move |store| Ok(store.persist_entities(&request)?.into()))
            .await
    }

    #[tool(
        description = "Load a scenario as a compact summary: entity counts per type, statistics \
computed in the database (age and gender distributions, top diagnosis and procedure codes, claim \
amounts, date ranges) and, by default, 3 diverse samples per major type. About 500 tokens \
without samples and at most ~3,500 with, whatever the scenario size. Use this whenever the user \
wants to load, open, continue or review a scenario, instead of fetching its data; then answer \
specific questions with query_scenario. scenario_id accepts the id, the name, or a unique part \
of the name.",
        input_schema = input_schema::<SummaryParams>(),
        annotations(
            title = "Scenario summary",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_scenario_summary(&self, args: JsonObject) -> Result<Json<SummaryView>, String> {
        let params: SummaryParams = parse("get_scenario_summary", args)?;
        let samples = if params.include_samples == Some(false) {
            0
        } else {
            params
                .samples_per_type
                .unwrap_or(healthsim_summary::DEFAULT_SAMPLES_PER_TYPE)
        };
        let options = SummaryOptions {
            samples_per_type: samples,
            ..SummaryOptions::default()
        };
        self.call(move |store| {
            Ok(store
                .scenario_summary(&params.scenario_id, &options)?
                .into())
        })
        .await
    }

    #[tool(
        description = "Run one read-only SQL query (a SELECT or WITH statement, DuckDB dialect) \
on a scenario and get one page of rows as JSON objects. Every table is automatically limited to \
the scenario, in joins and subqueries too, so do not filter on scenario_id. Table and column \
names: describe_schema. Prefer computing answers in SQL (count, sum, avg, GROUP BY, ORDER BY ... \
LIMIT) over fetching many rows. Pages: limit (default 20, max 100) and offset; the result has \
total_count and has_more, and the next page is offset + returned, fetched only if really needed. \
Writes, files, settings, extensions and other scenarios are refused with an explanation.",
        input_schema = input_schema::<QueryParams>(),
        annotations(title = "Query scenario", read_only_hint = true, open_world_hint = false)
    )]
    async fn query_scenario(&self, args: JsonObject) -> Result<Json<QueryView>, String> {
        let params: QueryParams = parse("query_scenario", args)?;
        self.call(move |store| {
            commands::run_query(
                store,
                &params.scenario_id,
                &params.query,
                params.limit,
                params.offset,
            )
        })
        .await
    }

    #[tool(
        description = "Get a few example entities of one type from a scenario (default 3), chosen \
'diverse' (spread over the data, the default), 'random', or 'recent'. Use it to see what the \
stored data looks like, e.g. before writing a query or to keep newly generated entities \
consistent with existing ones.",
        input_schema = input_schema::<SamplesParams>(),
        annotations(title = "Entity samples", read_only_hint = true, open_world_hint = false)
    )]
    async fn get_entity_samples(&self, args: JsonObject) -> Result<Json<SamplesView>, String> {
        let params: SamplesParams = parse("get_entity_samples", args)?;
        let count = params
            .count
            .unwrap_or(healthsim_summary::DEFAULT_SAMPLES_PER_TYPE);
        let strategy = params.strategy.unwrap_or(StrategyParam::Diverse).into();
        self.call(move |store| {
            commands::entity_samples(
                store,
                &params.scenario_id,
                &params.entity_type,
                count,
                strategy,
            )
        })
        .await
    }

    #[tool(
        description = "List saved scenarios with id, name, description, tags, entity count and \
timestamps. Use it when the user refers to earlier work ('my diabetes cohort from yesterday') or \
asks what exists. filter matches part of the name; tag restricts to a tag; sort_by is updated \
(default), created or name; limit defaults to 20.",
        input_schema = input_schema::<ListParams>(),
        annotations(title = "List scenarios", read_only_hint = true, open_world_hint = false)
    )]
    async fn list_scenarios(&self, args: JsonObject) -> Result<Json<ScenarioListView>, String> {
        let params: ListParams = parse("list_scenarios", args)?;
        let options = ListOptions {
            filter: params.filter,
            tag: params.tag,
            sort: match params.sort_by.unwrap_or(SortParam::Updated) {
                SortParam::Updated => SortBy::Updated,
                SortParam::Created => SortBy::Created,
                SortParam::Name => SortBy::Name,
            },
            limit: params.limit.unwrap_or(DEFAULT_LIST_LIMIT),
        };
        self.call(move |store| commands::list_scenarios(store, &options))
            .await
    }

    #[tool(
        description = "Rename a scenario, e.g. from its auto-generated name to one the user \
chose. The new name is sanitized (lowercase, dashes) and made unique; the scenario_id stays the \
same.",
        input_schema = input_schema::<RenameParams>(),
        annotations(
            title = "Rename scenario",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn rename_scenario(&self, args: JsonObject) -> Result<Json<RenameView>, String> {
        let params: RenameParams = parse("rename_scenario", args)?;
        self.call(move |store| {
            commands::rename_scenario(store, &params.scenario_id, &params.new_name)
        })
        .await
    }

    #[tool(
        description = "Permanently delete a scenario with all its entities and tags. Ask the \
user first, then call with confirm: true; without it nothing is deleted and the error says what \
would be deleted.",
        input_schema = input_schema::<DeleteParams>(),
        annotations(
            title = "Delete scenario",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn delete_scenario(&self, args: JsonObject) -> Result<Json<DeleteView>, String> {
        let params: DeleteParams = parse("delete_scenario", args)?;
        self.call(move |store| {
            store
                .delete_scenario(&params.scenario_id, params.confirm)
                .map(DeleteView::from)
                .map_err(|e| match e {
                    healthsim_persist::Error::ConfirmationRequired { .. } => {
                        CliError::from(e).hint("ask the user, then call again with confirm: true")
                    }
                    other => CliError::from(other),
                })
        })
        .await
    }

    #[tool(
        description = "Add a tag to a scenario (stored lowercase), e.g. 'diabetes' or 'medicare', \
so it can be found with list_scenarios(tag=...). Returns the scenario's tags.",
        input_schema = input_schema::<TagParams>(),
        annotations(
            title = "Add tag",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn add_tag(&self, args: JsonObject) -> Result<Json<TagsView>, String> {
        let params: TagParams = parse("add_tag", args)?;
        self.call(move |store| {
            commands::change_tags(store, &params.scenario_id, &[params.tag], true)
        })
        .await
    }

    #[tool(
        description = "Remove a tag from a scenario. Returns the scenario's remaining tags.",
        input_schema = input_schema::<TagParams>(),
        annotations(
            title = "Remove tag",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn remove_tag(&self, args: JsonObject) -> Result<Json<TagsView>, String> {
        let params: TagParams = parse("remove_tag", args)?;
        self.call(move |store| {
            commands::change_tags(store, &params.scenario_id, &[params.tag], false)
        })
        .await
    }

    #[tool(
        description = "List the tags of one scenario (give scenario_id), or every tag in use \
with the number of scenarios that have it (omit scenario_id).",
        input_schema = input_schema::<ListTagsParams>(),
        annotations(title = "List tags", read_only_hint = true, open_world_hint = false)
    )]
    async fn list_tags(&self, args: JsonObject) -> Result<Json<TagListView>, String> {
        let params: ListTagsParams = parse("list_tags", args)?;
        self.call(move |store| commands::list_tags(store, params.scenario_id.as_deref()))
            .await
    }

    #[tool(
        description = "Describe the HealthSim entity types, tables and columns, to choose \
entity_type for persist_entities and to write correct SQL for query_scenario. Without \
entity_type: every type with its table, layer, primary key, accepted aliases and references \
(foreign keys inside a scenario). With entity_type (one or several, comma-separated, e.g. \
'claims,claim_lines'): those types with their columns and SQL types.",
        input_schema = input_schema::<DescribeParams>(),
        annotations(title = "Describe schema", read_only_hint = true, open_world_hint = false)
    )]
    async fn describe_schema(&self, args: JsonObject) -> Result<Json<SchemaDescription>, String> {
        let params: DescribeParams = parse("describe_schema", args)?;
        describe::describe(params.entity_type.as_deref())
            .map(Json)
            .map_err(tool_error)
    }

    #[tool(
        description = "Copy a scenario into a NEW scenario: every entity, or only entity_types. \
Use it before a what-if change or a variant of a cohort, so the original stays as it was (then \
persist into the copy's scenario_id), or to branch a subset (e.g. only patients and encounters). \
Ids and the references between entities stay the same inside the copy. The copy is named \
new_name (sanitized, made unique; default '<source>-copy') and keeps the source's description \
and tags unless given. Returns the new scenario_id, the source and counts per type; the source \
is not changed.",
        input_schema = input_schema::<CloneParams>(),
        annotations(
            title = "Clone scenario",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn clone_scenario(&self, args: JsonObject) -> Result<Json<CloneView>, String> {
        let params: CloneParams = parse("clone_scenario", args)?;
        let options = CloneOptions {
            new_name: params.new_name,
            description: params.description,
            tags: params.tags,
            types: params.entity_types.map(OneOrMany::split),
        };
        self.call(move |store| Ok(store.clone_scenario(&params.scenario_id, &options)?.into()))
            .await
    }

    #[tool(
        description = "Combine two or more scenarios into a NEW scenario, e.g. a clinical cohort \
and a claims cohort generated separately, or several batches of work; the sources are not \
changed. An id that two sources hold in the same table is a conflict, settled by on_conflict: \
'skip' (default) keeps the entity of the first source in scenario_ids, 'overwrite' keeps the \
last one's, 'rename' keeps both and gives the later one a new id ('<id>~2', ...) with every \
reference to it inside its own source rewritten. Use rename when the sources were generated \
independently and may reuse ids such as 'pat-001' for different people; skip or overwrite when \
they hold versions of the same entities. Returns the new scenario_id, counts and conflicts per \
type.",
        input_schema = input_schema::<MergeParams>(),
        annotations(
            title = "Merge scenarios",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn merge_scenarios(&self, args: JsonObject) -> Result<Json<MergeView>, String> {
        let params: MergeParams = parse("merge_scenarios", args)?;
        let sources = params.scenario_ids.split();
        let options = MergeOptions {
            target_name: params.target_name,
            description: params.description,
            tags: params.tags,
            on_conflict: params.on_conflict.map_or_else(Default::default, Into::into),
        };
        self.call(move |store| Ok(store.merge_scenarios(&sources, &options)?.into()))
            .await
    }

    #[tool(
        description = "Write a scenario's data to files on the user's machine, for use outside \
HealthSim (spreadsheets, pandas, Spark, sharing, archiving): format 'json' (one document that \
import_scenario reads back), 'csv' (a folder with one CSV file per table) or 'parquet' (a folder \
with one typed Parquet file per table). Use it only when the user asks to export, download, \
save to disk or share; never to read data into the conversation (use get_scenario_summary and \
query_scenario). output_path is an existing folder (receives '<scenario-name>.json' or \
'<scenario-name>/'), a path ending in .json, or a new folder for csv/parquet; relative paths are \
relative to the database's folder; default: the 'exports' folder next to the database. Paths \
with '..' are refused. An existing export is replaced only with overwrite: true (ask the user \
first). Returns the path, files, counts and bytes written: tell the user where the files are.",
        input_schema = input_schema::<ExportParams>(),
        annotations(
            title = "Export scenario to files",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn export_scenario(&self, args: JsonObject) -> Result<Json<ExportView>, String> {
        let params: ExportParams = parse("export_scenario", args)?;
        let options = ExportOptions {
            format: params.format.into(),
            out: params
                .output_path
                .as_deref()
                .map(|p| user_path(self.database(), p)),
            types: params.entity_types.map(OneOrMany::split),
            include_provenance: params.include_provenance.unwrap_or(true),
            overwrite: params.overwrite.unwrap_or(false),
        };
        self.call(move |store| Ok(store.export_scenario(&params.scenario_id, &options)?.into()))
            .await
    }

    #[tool(
        description = "Load an exported scenario into the database as a NEW scenario: a JSON \
export file, or a folder of '<table>.csv' or '<table>.parquet' files as export_scenario writes \
them. Use it when the user shares or restores an exported scenario. Every entity is validated \
like persist_entities does, and the import is atomic: an invalid or truncated file writes \
nothing and the error names the file and what is wrong. The new scenario is named name, else \
the exported scenario's name (JSON) or the folder's name, made unique. Relative paths are \
relative to the database's folder. Returns the new scenario_id and counts per type; then use \
get_scenario_summary.",
        input_schema = input_schema::<ImportParams>(),
        annotations(
            title = "Import scenario export",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn import_scenario(&self, args: JsonObject) -> Result<Json<ImportView>, String> {
        let params: ImportParams = parse("import_scenario", args)?;
        let path = user_path(self.database(), &params.path);
        let options = ImportOptions { name: params.name };
        self.call(move |store| Ok(store.import_scenario(&path, &options)?.into()))
            .await
    }

    #[tool(
        description = "Import FHIR R4 data from files on the user's machine, such as Synthea \
output, into a scenario: .json files (one resource, or a transaction, collection or batch \
Bundle), .ndjson files (FHIR Bulk Data, one resource per line) and folders of them. Patient, \
Practitioner, Organization, Location, Encounter, Condition, Procedure, Observation (vital signs, \
laboratory), MedicationRequest, AllergyIntolerance, Coverage, Claim, ExplanationOfBenefit, \
ResearchStudy and ResearchSubject map to the canonical tables (the original resource is kept \
in extra.fhir); other resource types are counted as unsupported, not errors. Use it when the \
user has FHIR files to load, instead of reading them and calling persist_entities. Without \
scenario_id a new scenario is created (scenario_name, else named from context). The import is \
atomic: by default one invalid resource fails it and nothing is written (the error names the \
file, line or bundle entry); with skip_invalid: true invalid resources are left out and \
listed. The result stays under ~500 tokens: rows written per table, the first skipped \
resources with skipped_total, unsupported types and references without a target; then use \
get_scenario_summary.",
        input_schema = input_schema::<ImportFhirParams>(),
        annotations(
            title = "Import FHIR files",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn import_fhir(&self, args: JsonObject) -> Result<Json<FhirImportView>, String> {
        let params: ImportFhirParams = parse("import_fhir", args)?;
        let paths: Vec<PathBuf> = params
            .paths
            .whole()
            .iter()
            .map(|p| user_path(self.database(), p))
            .collect();
        if paths.is_empty() {
            return Err("paths is empty: give at least one FHIR file or folder".to_string());
        }
        let options = FhirImportOptions {
            scenario: transfer::fhir_target(
                params.scenario_id,
                params.scenario_name,
                params.context,
            ),
            skip_invalid: params.skip_invalid.unwrap_or(false),
            ..FhirImportOptions::default()
        };
        self.call(move |store| {
            transfer::run_import_fhir(store, &paths, &options).map(FhirImportView::within_budget)
        })
        .await
    }
}

/// How many scenarios list_scenarios returns by default (an agent rarely needs more).
pub const DEFAULT_LIST_LIMIT: usize = 20;

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
    } = params;
    // Some clients send the list as a JSON-encoded string; accept it as what it encodes.
    let entities = match entities {
        JsonValue::String(text) => serde_json::from_str(&text).unwrap_or(JsonValue::String(text)),
        other => other,
    };
    let request = match (entities, entity_type) {
        (JsonValue::Array(list), Some(entity_type)) => PersistRequest::new(entity_type, list),
        (JsonValue::Array(_), None) => {
            return Err(CliError::input(
                "entity_type is required when entities is a list (or send entities as an \
                 object mapping types to lists)",
            ))
        }
        // One entity sent as an object instead of a list of one.
        (JsonValue::Object(map), Some(entity_type)) if !is_type_map(&map) => {
            PersistRequest::new(entity_type, vec![JsonValue::Object(map)])
        }
        // A type map; a given entity_type adds nothing to it.
        (JsonValue::Object(map), _) => PersistRequest::by_type(map),
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
    Ok(request.with_scenario(target))
}

/// An object whose keys are all entity types and whose values are all lists.
fn is_type_map(map: &Map<String, JsonValue>) -> bool {
    map.iter()
        .all(|(k, v)| v.is_array() && healthsim_schema::entity_type(k).is_ok())
}

fn json_kind(value: &JsonValue) -> &'static str {
    match value {
        JsonValue::Null => "null",
        JsonValue::Bool(_) => "a boolean",
        JsonValue::Number(_) => "a number",
        JsonValue::String(_) => "a string",
        JsonValue::Array(_) => "a list",
        JsonValue::Object(_) => "an object",
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for HealthsimServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("healthsim", env!("CARGO_PKG_VERSION"))
                    .with_title("HealthSim Persist"),
            )
            .with_instructions(INSTRUCTIONS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_path(database: &str, given: &str, expected: &str) {
        assert_eq!(
            user_path(Path::new(database), given),
            PathBuf::from(expected),
            "{database} + {given}"
        );
    }

    #[test]
    fn agent_paths_are_relative_to_the_database_folder() {
        check_path(
            "/data/hs/healthsim.duckdb",
            "exports/a.json",
            "/data/hs/exports/a.json",
        );
        check_path("/data/hs/healthsim.duckdb", "./out", "/data/hs/./out");
        check_path("/data/hs/healthsim.duckdb", "/tmp/out", "/tmp/out");
        check_path("healthsim.duckdb", "out", "out");
        // '..' survives, so the service refuses it as it would refuse it from the CLI.
        check_path("/data/hs/healthsim.duckdb", "../x", "/data/hs/../x");
        check_path("/data/hs/healthsim.duckdb", "  ", "");
        if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            assert_eq!(
                user_path(Path::new("/data/hs/h.duckdb"), "~/exports"),
                PathBuf::from(home).join("exports")
            );
        }
    }

    #[test]
    fn one_or_many() {
        let parse = |v: JsonValue| serde_json::from_value::<OneOrMany>(v).ok();
        assert_eq!(
            parse(serde_json::json!("patients, claims,")).map(OneOrMany::split),
            Some(vec!["patients".to_string(), "claims".to_string()])
        );
        assert_eq!(
            parse(serde_json::json!(["a,b"])).map(OneOrMany::split),
            Some(vec!["a,b".to_string()])
        );
        assert_eq!(
            parse(serde_json::json!("dir/with,comma")).map(OneOrMany::whole),
            Some(vec!["dir/with,comma".to_string()])
        );
        assert!(parse(serde_json::json!(3)).is_none());
    }
}
