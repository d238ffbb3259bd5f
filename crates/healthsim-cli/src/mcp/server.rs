//! The server: the registry of tools (one line each), how a call runs (arguments checked
//! against the tool's schema, the store opened lazily on the blocking pool through the
//! [`Backend`], errors turned into tool errors), and [`finish`], the one place every tool
//! result passes through, which holds it to the tool's token bound. The [`Tool`] contract that
//! the operation modules implement is in [`super::tool`].

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use rmcp::handler::server::router::tool::{ToolRoute, ToolRouter};
use rmcp::handler::server::tool::{schema_for_output, schema_for_type, ToolCallContext};
use rmcp::model::{
    CallToolResponse, CallToolResult, ContentBlock, Implementation, JsonObject, ServerCapabilities,
    ServerConfig,
};
use rmcp::{tool_handler, ErrorData, ServerHandler};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as JsonValue;

use super::arguments;
use super::tool::{Backend, Effect, Tool, ToolContext};
use crate::db::DbConfig;
use crate::error::CliError;
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
        register::<ops::import_legacy::ImportLegacy>(),
        register::<ops::report::ReportScenario>(),
    ]
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
        Some(Cow::Owned(description::<T>())),
        Arc::new(input_schema::<T::Params>()),
    )
    .with_raw_output_schema(Arc::new(arguments::output_schema(
        schema_for_output::<T::Output>().as_ref().clone(),
    )))
    .with_annotations(T::EFFECT.annotations(T::TITLE));
    Registered {
        route: ToolRoute::new_dyn(definition, call::<T>),
        command: T::COMMAND,
    }
}

/// The tool's description with its result's bound, the number [`finish`] enforces.
fn description<T: Tool>() -> String {
    format!(
        "{} Result: at most {} tokens.",
        T::DESCRIPTION,
        thousands(T::MAX_RESULT_TOKENS)
    )
}

/// `3500` as `3,500`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One call of tool `T`: its arguments checked and parsed, then run; any failure is a tool
/// error (`isError: true`) whose text says what to fix.
fn call<T: Tool>(
    mut request: ToolCallContext<'_, HealthsimServer>,
) -> BoxFuture<'_, Result<CallToolResponse, ErrorData>> {
    let arguments = request.arguments.take();
    let cancelled = request.request_context.ct.clone();
    let id = request.request_context.id.clone();
    let context = ToolContext::new(request.service.backend.clone(), cancelled.clone());
    Box::pin(async move {
        let outcome = match parse::<T::Params>(T::NAME, arguments) {
            Ok(params) => T::call(context, params).await.map_err(tool_error),
            Err(message) => Err(message),
        };
        if cancelled.is_cancelled() {
            // The client gets no answer to a cancelled request; the log (stderr) says how the
            // work ended.
            let ended = match &outcome {
                Ok(_) => "it had finished".to_string(),
                Err(message) => message.clone(),
            };
            eprintln!(
                "healthsim mcp: {} request {id} was cancelled by the client: {ended}",
                T::NAME
            );
        }
        let writes = T::EFFECT != Effect::ReadOnly;
        Ok(finish(T::NAME, T::MAX_RESULT_TOKENS, writes, outcome).into())
    })
}

/// The longest error text a tool returns (an error can quote what it was given).
pub const MAX_ERROR_CHARS: usize = 2_000;

/// Every tool result passes through here: a result is its JSON (structured content, and the
/// same JSON as text for clients that read only text) when it takes at most `bound` tokens
/// (cl100k_base), else a tool error naming the bound; an error's text is cut to
/// [`MAX_ERROR_CHARS`]. A tool that `writes` has done its work by then, so its error says so
/// and carries the result's top-level values (the new scenario's id, the counts' totals).
pub fn finish<O: Serialize>(
    tool: &str,
    bound: usize,
    writes: bool,
    outcome: Result<O, String>,
) -> CallToolResult {
    let value = outcome.and_then(|output| {
        serde_json::to_value(output).map_err(|e| format!("cannot encode the result of {tool}: {e}"))
    });
    match value {
        Ok(value) => {
            let tokens = healthsim_summary::count_tokens(&value.to_string());
            if tokens <= bound {
                CallToolResult::structured(value)
            } else if writes {
                error_result(format!(
                    "{tool} was carried out, but its result would take {tokens} tokens, over its \
                     bound of {bound} tokens; its top-level values: {}",
                    top_level_values(&value)
                ))
            } else {
                error_result(format!(
                    "the result of {tool} would take {tokens} tokens, over its bound of {bound} \
                     tokens: ask for less (a smaller limit or count, fewer entity types)"
                ))
            }
        }
        Err(message) => error_result(message),
    }
}

/// The scalar fields of a result object, strings cut to 100 characters.
fn top_level_values(value: &JsonValue) -> JsonValue {
    let scalars = value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, v)| {
            let v = match v {
                JsonValue::String(text) => match healthsim_schema::text::cut_chars(text, 100) {
                    Some(head) => JsonValue::String(format!("{head}…")),
                    None => v.clone(),
                },
                JsonValue::Number(_) | JsonValue::Bool(_) => v.clone(),
                _ => return None,
            };
            Some((key.clone(), v))
        })
        .collect();
    JsonValue::Object(scalars)
}

fn error_result(message: String) -> CallToolResult {
    let message = match healthsim_schema::text::cut_chars(&message, MAX_ERROR_CHARS) {
        Some(head) => format!("{head}…"),
        None => message,
    };
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// The input schema of a tool from its parameter type (root type object, draft 2020-12), in
/// the form every mainstream client reads ([`arguments::input_schema`]).
fn input_schema<T: JsonSchema + 'static>() -> JsonObject {
    arguments::input_schema(schema_for_type::<T>().as_ref().clone())
}

/// Arguments checked against the tool's schema ([`arguments::check`]), then as the tool's
/// parameter type; or a tool error that says what is wrong, in JSON terms.
fn parse<T: DeserializeOwned + JsonSchema + 'static>(
    tool: &str,
    args: Option<JsonObject>,
) -> Result<T, String> {
    let checked = arguments::check(tool, &input_schema::<T>(), args)?;
    serde_json::from_value(JsonValue::Object(checked)).map_err(|e| {
        format!(
            "invalid arguments for {tool}: {}",
            arguments::json_terms(&e.to_string())
        )
    })
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
FHIR R4 files such as Synthea output; import_legacy brings in the scenarios and cohorts of the \
Python HealthSim.";

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

    fn text(result: &CallToolResult) -> String {
        result
            .content
            .first()
            .and_then(|c| c.as_text())
            .map(|t| t.text.clone())
            .unwrap_or_default()
    }

    #[test]
    fn results_over_their_bound_are_refused_and_writes_say_they_happened() {
        let big = serde_json::json!({"scenario_id": "abc", "total": 3, "ids": vec!["x"; 50]});
        let tokens = healthsim_summary::count_tokens(&big.to_string());
        let fits = finish("t", tokens, false, Ok(big.clone()));
        assert_eq!(fits.is_error, Some(false));
        assert_eq!(fits.structured_content.as_ref(), Some(&big));

        let read = finish("t", 10, false, Ok(big.clone()));
        assert_eq!(read.is_error, Some(true));
        assert_eq!(
            text(&read),
            format!(
                "the result of t would take {tokens} tokens, over its bound of 10 tokens: ask \
                 for less (a smaller limit or count, fewer entity types)"
            )
        );
        let write = finish("t", 10, true, Ok(big));
        assert_eq!(
            text(&write),
            format!(
                "t was carried out, but its result would take {tokens} tokens, over its bound \
                 of 10 tokens; its top-level values: {{\"scenario_id\":\"abc\",\"total\":3}}"
            )
        );
    }

    #[test]
    fn error_texts_are_cut() {
        let long = "e".repeat(MAX_ERROR_CHARS + 10);
        let result = finish::<()>("t", 10, false, Err(long));
        assert_eq!(text(&result).chars().count(), MAX_ERROR_CHARS + 1);
        assert!(text(&result).ends_with('…'));
    }

    #[test]
    fn descriptions_end_with_the_bound() {
        assert_eq!(thousands(500), "500");
        assert_eq!(thousands(3500), "3,500");
        assert_eq!(thousands(1_000_000), "1,000,000");
        for tool in HealthsimServer::tools() {
            let description = tool.description.as_deref().unwrap_or_default();
            assert!(
                description.contains(". Result: at most ") && description.ends_with(" tokens."),
                "{}: {description}",
                tool.name
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
