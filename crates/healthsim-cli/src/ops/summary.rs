//! `summary` / `get_scenario_summary`: a scenario as a compact, token-bounded summary.

use healthsim_persist::{ScenarioSummary, SummaryOptions};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::args::SummaryArgs;
use crate::db::DbConfig;
use crate::error::CliResult;
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::Output;

/// get_scenario_summary arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryParams {
    /// Scenario id or name (exact, case-insensitive, or a unique part of the name).
    pub scenario_id: String,
    /// Include a few samples per major entity type.
    #[schemars(extend("default" = true))]
    pub include_samples: Option<bool>,
    /// Samples per major entity type, 0 to 10 (the summary keeps as many as its bound allows).
    #[schemars(range(min = 0, max = 10), extend("default" = 3))]
    pub samples_per_type: Option<u64>,
}

/// The `get_scenario_summary` tool.
#[derive(Debug)]
pub struct GetScenarioSummary;

impl Tool for GetScenarioSummary {
    const NAME: &'static str = "get_scenario_summary";
    const COMMAND: &'static str = "summary";
    const TITLE: &'static str = "Scenario summary";
    const EFFECT: Effect = Effect::ReadOnly;
    const MAX_RESULT_TOKENS: usize = healthsim_summary::BUDGET_WITH_SAMPLES;
    const DESCRIPTION: &'static str = "\
Load a scenario as a compact summary: entity counts per type, statistics \
computed in the database (ages and gender shares of people, encounter class mix, top diagnosis \
codes, claim totals and paid/billed ratio, top drugs, trial arms, date ranges) and, by default, 3 diverse samples per major type. About 500 tokens \
without samples and at most ~3,500 with, whatever the scenario size. Use this whenever the user \
wants to load, open, continue or review a scenario, instead of fetching its data; then answer \
specific questions with query_scenario. scenario_id accepts the id, the name, or a unique part \
of the name.";
    type Params = SummaryParams;
    type Output = ScenarioSummary;

    async fn call(context: ToolContext, params: SummaryParams) -> CliResult<ScenarioSummary> {
        let samples = if params.include_samples == Some(false) {
            0
        } else {
            params
                .samples_per_type
                .map_or(healthsim_summary::DEFAULT_SAMPLES_PER_TYPE, |n| {
                    usize::try_from(n).unwrap_or(usize::MAX)
                })
        };
        let options = SummaryOptions {
            samples_per_type: samples,
            ..SummaryOptions::default()
        };
        context
            .run(move |store| Ok(store.scenario_summary(&params.scenario_id, &options)?))
            .await
    }
}

/// `healthsim summary`.
pub fn run(config: &DbConfig, args: &SummaryArgs) -> CliResult<Output> {
    let store = config.open()?;
    let options = SummaryOptions {
        samples_per_type: if args.no_samples { 0 } else { args.samples },
        ..SummaryOptions::default()
    };
    let summary = store.scenario_summary(&args.scenario, &options)?;
    let text = format!("{}\n", summary.render_text());
    Output::new(&summary, text)
}
