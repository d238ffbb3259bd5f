//! The server: the [`Tool`] contract every operation module implements, the registry of tools
//! (one line each), how a call runs (arguments parsed, the store opened lazily on the blocking
//! pool, errors turned into tool errors), and the idle release of the database lock.

use std::borrow::Cow;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use healthsim_persist::Store;
use rmcp::handler::server::router::tool::{ToolRoute, ToolRouter};
use rmcp::handler::server::tool::{
    schema_for_output, schema_for_type, IntoCallToolResult, ToolCallContext,
};
use rmcp::handler::server::wrapper::Json;
use rmcp::model::{
    CallToolResponse, Implementation, JsonObject, ServerCapabilities, ServerConfig, ToolAnnotations,
};
use rmcp::{tool_handler, ErrorData, ServerHandler};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as JsonValue;

use crate::db::DbConfig;
use crate::error::{CliError, CliResult};
use crate::ops;

// ------------------------------------------------------------------------------------ registry

/// Every tool, one line each: its route and the `healthsim` command that does the same.
fn registry() -> Vec<Registered> {
    vec![
        register::<ops::persist::PersistEntities>(),
        register::<ops::summary::GetScenarioSummary>(),
        register::<ops::query::QueryScenario>(),
        register::<ops::samples::GetEntitySamples>(),
        register::<ops::list::ListScenarios>(),
        register::<ops::rename::RenameScenario>(),
        register::<ops::delete::DeleteScenario>(),
        register::<ops::tag::AddTag>(),
        register::<ops::tag::RemoveTag>(),
        register::<ops::tag::ListTags>(),
        register::<ops::schema::DescribeSchema>(),
        register::<ops::clone::CloneScenario>(),
        register::<ops::merge::MergeScenarios>(),
        register::<ops::export::ExportScenario>(),
        register::<ops::import::ImportScenario>(),
        register::<ops::import_fhir::ImportFhir>(),
        register::<ops::report::ReportScenario>(),
    ]
}

// ------------------------------------------------------------------------------------ contract

/// What a tool does to the database, as the MCP annotations say it (every tool's world is
/// closed: `openWorldHint` is false).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Reads only.
    ReadOnly,
    /// Adds or changes data, never destroys any; `idempotent` when a repeated call with the
    /// same arguments changes nothing more.
    Writes {
        /// Whether repeating the call has no further effect.
        idempotent: bool,
    },
    /// Destroys data.
    Destroys,
}

impl Effect {
    /// The tool's annotations with `title`.
    fn annotations(self, title: &str) -> ToolAnnotations {
        let title = Some(title.to_string());
        match self {
            Effect::ReadOnly => {
                ToolAnnotations::from_raw(title, Some(true), None, None, Some(false))
            }
            Effect::Writes { idempotent } => ToolAnnotations::from_raw(
                title,
                Some(false),
                Some(false),
                Some(idempotent),
                Some(false),
            ),
            Effect::Destroys => {
                ToolAnnotations::from_raw(title, Some(false), Some(true), Some(false), Some(false))
            }
        }
    }
}

/// One MCP tool: its name, description, annotations, parameters and result, and what a call
/// does. Implemented by the operation modules in [`crate::ops`]; registered in `registry`.
pub trait Tool: 'static {
    /// The tool's name.
    const NAME: &'static str;
    /// The `healthsim` command that does the same (`"tag add"` for `add_tag`), so the
    /// command line, the tools and the documentation can be checked against each other.
    const COMMAND: &'static str;
    /// The annotations' human title.
    const TITLE: &'static str;
    /// What the tool does to the database.
    const EFFECT: Effect;
    /// What the agent reads to decide when and how to call it.
    const DESCRIPTION: &'static str;
    /// The arguments (their doc comments are the input schema's descriptions).
    type Params: DeserializeOwned + JsonSchema + Send + 'static;
    /// The structured result (its doc comments are the output schema's descriptions).
    type Output: Serialize + JsonSchema + Send + 'static;

    /// Runs a call. Work on the database goes through [`ToolContext::run`] (the blocking pool,
    /// the store opened on demand); checks of the arguments come before it, so a bad argument
    /// fails without touching the database.
    fn call(
        context: ToolContext,
        params: Self::Params,
    ) -> impl Future<Output = CliResult<Self::Output>> + Send;
}

/// What a tool call can use: the database, opened on demand.
#[derive(Debug, Clone)]
pub struct ToolContext {
    backend: Arc<Backend>,
}

impl ToolContext {
    /// Runs `f` with the store on the blocking pool (see [`Backend::run`]).
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> CliResult<T> + Send + 'static,
    ) -> CliResult<T> {
        self.backend.run(f).await
    }

    /// A path an agent gave: `~/...` is under `$HOME`, and a relative path is relative to the
    /// database's folder, because the server's working directory is wherever the client
    /// happened to start it (`/` for Claude Desktop on macOS). An empty path stays empty (and is
    /// refused).
    pub fn user_path(&self, given: &str) -> PathBuf {
        user_path(&self.backend.config.path, given)
    }
}

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

/// A registered tool: its route, and the command that does the same.
struct Registered {
    route: ToolRoute<HealthsimServer>,
    command: &'static str,
}

/// The route of tool `T`: its definition and how a call runs.
fn register<T: Tool>() -> Registered {
    let definition = rmcp::model::Tool::new_with_raw(
        T::NAME,
        Some(Cow::Borrowed(T::DESCRIPTION)),
        input_schema::<T::Params>(),
    )
    .with_raw_output_schema(schema_for_output::<T::Output>())
    .with_annotations(T::EFFECT.annotations(T::TITLE));
    Registered {
        route: ToolRoute::new_dyn(definition, call::<T>),
        command: T::COMMAND,
    }
}

/// One call of tool `T`: its arguments parsed, then run; any failure is a tool error
/// (`isError: true`) whose text says what to fix.
fn call<T: Tool>(
    mut request: ToolCallContext<'_, HealthsimServer>,
) -> BoxFuture<'_, Result<CallToolResponse, ErrorData>> {
    let arguments = request.arguments.take().unwrap_or_default();
    let context = ToolContext {
        backend: request.service.backend.clone(),
    };
    Box::pin(async move {
        let result: Result<Json<T::Output>, String> = match parse::<T::Params>(T::NAME, arguments) {
            Ok(params) => T::call(context, params).await.map(Json).map_err(tool_error),
            Err(message) => Err(message),
        };
        result.into_call_tool_result()
    })
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

/// The tool error text of a failure.
fn tool_error(error: CliError) -> String {
    error.message().to_string()
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

impl HealthsimServer {
    /// A server on `config`, releasing the database after `idle` without calls.
    pub fn new(config: DbConfig, idle: Duration) -> Self {
        Self {
            backend: Arc::new(Backend::new(config, idle)),
            tool_router: Self::tool_router(),
        }
    }

    fn tool_router() -> ToolRouter<Self> {
        registry()
            .into_iter()
            .fold(ToolRouter::new(), |router, tool| {
                router.with_route(tool.route)
            })
    }

    /// Every tool's definition, sorted by name (for documentation and snapshots).
    pub fn tools() -> Vec<rmcp::model::Tool> {
        let mut tools = Self::tool_router().list_all();
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        tools
    }

    /// Every tool's name with the `healthsim` command that does the same, sorted by tool name.
    pub fn tool_commands() -> Vec<(String, &'static str)> {
        let mut pairs: Vec<(String, &'static str)> = registry()
            .into_iter()
            .map(|tool| (tool.route.name().to_string(), tool.command))
            .collect();
        pairs.sort();
        pairs
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
    fn every_tool_is_registered_once() {
        let names: Vec<String> = HealthsimServer::tool_commands()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(names, unique, "a tool name is registered twice");
        assert_eq!(names.len(), HealthsimServer::tools().len());
    }
}
