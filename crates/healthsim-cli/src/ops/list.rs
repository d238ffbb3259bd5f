//! `list` / `list_scenarios`: scenarios with their entity counts.

use healthsim_persist::{ListOptions, ScenarioInfo, SortBy, Store};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::args::ListArgs;
use crate::db::DbConfig;
use crate::error::CliResult;
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::{self, Output};

/// How many scenarios list_scenarios returns by default (an agent rarely needs more).
pub const DEFAULT_LIST_LIMIT: usize = 20;

/// list_scenarios arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only names containing this text (case-insensitive).
    pub filter: Option<String>,
    /// Only scenarios with this tag.
    pub tag: Option<String>,
    /// updated (default), created or name.
    pub sort_by: Option<SortBy>,
    /// At most this many (default 20).
    pub limit: Option<usize>,
}

/// The `list_scenarios` tool.
#[derive(Debug)]
pub struct ListScenarios;

impl Tool for ListScenarios {
    const NAME: &'static str = "list_scenarios";
    const COMMAND: &'static str = "list";
    const TITLE: &'static str = "List scenarios";
    const EFFECT: Effect = Effect::ReadOnly;
    const DESCRIPTION: &'static str = "\
List saved scenarios with id, name, description, tags, entity count and \
timestamps. Use it when the user refers to earlier work ('my diabetes cohort from yesterday') or \
asks what exists. filter matches part of the name; tag restricts to a tag; sort_by is updated \
(default), created or name; limit defaults to 20.";
    type Params = ListParams;
    type Output = ScenarioList;

    async fn call(context: ToolContext, params: ListParams) -> CliResult<ScenarioList> {
        let options = ListOptions {
            filter: params.filter,
            tag: params.tag,
            sort: params.sort_by.unwrap_or(SortBy::Updated),
            limit: params.limit.unwrap_or(DEFAULT_LIST_LIMIT),
        };
        context
            .run(move |store| list_scenarios(store, &options))
            .await
    }
}

/// A listing of scenarios.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ScenarioList {
    /// The scenarios, in the requested order.
    pub scenarios: Vec<ScenarioInfo>,
    /// How many are listed.
    pub count: usize,
}

/// Lists scenarios.
pub fn list_scenarios(store: &Store, options: &ListOptions) -> CliResult<ScenarioList> {
    let scenarios = store.list_scenarios(options)?;
    Ok(ScenarioList {
        count: scenarios.len(),
        scenarios,
    })
}

/// `healthsim list`.
pub fn run(config: &DbConfig, args: &ListArgs) -> CliResult<Output> {
    let store = config.open()?;
    let view = list_scenarios(
        &store,
        &ListOptions {
            filter: args.filter.clone(),
            tag: args.tag.clone(),
            sort: args.sort,
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
