//! `query` / `query_scenario`: one read-only SQL query scoped to a scenario, one page at a time.

use healthsim_persist::query::Cancel;
use healthsim_persist::{QueryResult, Store};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::args::QueryArgs;
use crate::db::DbConfig;
use crate::error::CliResult;
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::{self, Output};

/// query_scenario arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryParams {
    /// Scenario id or name.
    pub scenario_id: String,
    /// One read-only SELECT or WITH query (DuckDB SQL) over the entity tables.
    pub query: String,
    /// Rows per page, 1 to 100.
    #[schemars(range(min = 1, max = 100), extend("default" = 20))]
    pub limit: Option<u64>,
    /// Rows to skip: the previous offset + returned for the next page.
    #[schemars(range(min = 0), extend("default" = 0))]
    pub offset: Option<u64>,
}

/// The `query_scenario` tool.
#[derive(Debug)]
pub struct QueryScenario;

impl Tool for QueryScenario {
    const NAME: &'static str = "query_scenario";
    const COMMAND: &'static str = "query";
    const TITLE: &'static str = "Query scenario";
    const EFFECT: Effect = Effect::ReadOnly;
    const MAX_RESULT_TOKENS: usize = healthsim_persist::query::PAGE_TOKEN_BUDGET;
    const DESCRIPTION: &'static str = "\
Run one read-only SQL query (a SELECT or WITH statement, DuckDB dialect) \
on a scenario and get one page of rows as JSON objects. Every table is automatically limited to \
the scenario, in joins and subqueries too, so do not filter on scenario_id. Table and column \
names: describe_schema. Prefer computing answers in SQL (count, sum, avg, GROUP BY, ORDER BY ... \
LIMIT) over fetching many rows. Pages: limit (default 20, max 100) and offset; the result has \
total_count and has_more, and the next page is offset + returned, fetched only if really needed. \
Writes, files, settings, extensions and other scenarios are refused with an explanation.";
    type Params = QueryParams;
    type Output = QueryResult;

    /// A client's notifications/cancelled for this call stops the query (its worker is killed)
    /// instead of letting it run to its timeout.
    async fn call(context: ToolContext, params: QueryParams) -> CliResult<QueryResult> {
        let cancel = Cancel::new();
        let watcher = tokio::spawn({
            let cancelled = context.cancelled().clone();
            let cancel = cancel.clone();
            async move {
                cancelled.cancelled().await;
                cancel.cancel();
            }
        });
        let result = context
            .run(move |store| {
                run_query_cancellable(
                    store,
                    &params.scenario_id,
                    &params.query,
                    params.limit,
                    params.offset,
                    Some(cancel),
                )
            })
            .await;
        watcher.abort();
        result
    }
}

/// Runs a scenario query with the CLI's and the MCP server's page parameters.
pub fn run_query(
    store: &Store,
    scenario: &str,
    sql: &str,
    limit: Option<u64>,
    offset: Option<u64>,
) -> CliResult<QueryResult> {
    run_query_cancellable(store, scenario, sql, limit, offset, None)
}

/// [`run_query`] that `cancel` can stop from another thread.
pub fn run_query_cancellable(
    store: &Store,
    scenario: &str,
    sql: &str,
    limit: Option<u64>,
    offset: Option<u64>,
    cancel: Option<Cancel>,
) -> CliResult<QueryResult> {
    let options = healthsim_persist::QueryOptions {
        limit: limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX)),
        offset: offset.map_or(0, |o| usize::try_from(o).unwrap_or(usize::MAX)),
        cancel,
        ..Default::default()
    };
    Ok(store.query_scenario(scenario, sql, &options)?)
}

/// `healthsim query`.
pub fn run(config: &DbConfig, args: &QueryArgs) -> CliResult<Output> {
    let store = config.open()?;
    let page = run_query(&store, &args.scenario, &args.sql, args.limit, args.offset)?;
    let text = page_text(&page);
    Output::new(&page, text)
}

/// Human rendering of a query page.
pub fn page_text(page: &QueryResult) -> String {
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
