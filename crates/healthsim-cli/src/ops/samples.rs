//! `samples` / `get_entity_samples`: a few entities of one type.

use healthsim_persist::{SampleStrategy, Store};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::args::SamplesArgs;
use crate::db::DbConfig;
use crate::error::CliResult;
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::{self, Output};

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
    pub strategy: Option<SampleStrategy>,
}

/// The `get_entity_samples` tool.
#[derive(Debug)]
pub struct GetEntitySamples;

impl Tool for GetEntitySamples {
    const NAME: &'static str = "get_entity_samples";
    const COMMAND: &'static str = "samples";
    const TITLE: &'static str = "Entity samples";
    const EFFECT: Effect = Effect::ReadOnly;
    const DESCRIPTION: &'static str = "\
Get a few example entities of one type from a scenario (default 3), chosen \
'diverse' (spread over the data, the default), 'random', or 'recent'. Use it to see what the \
stored data looks like, e.g. before writing a query or to keep newly generated entities \
consistent with existing ones.";
    type Params = SamplesParams;
    type Output = EntitySamples;

    async fn call(context: ToolContext, params: SamplesParams) -> CliResult<EntitySamples> {
        let count = params
            .count
            .unwrap_or(healthsim_summary::DEFAULT_SAMPLES_PER_TYPE);
        let strategy = params.strategy.unwrap_or(SampleStrategy::Diverse);
        context
            .run(move |store| {
                entity_samples(
                    store,
                    &params.scenario_id,
                    &params.entity_type,
                    count,
                    strategy,
                )
            })
            .await
    }
}

/// Sample entities of one type.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct EntitySamples {
    /// Scenario id.
    pub scenario_id: String,
    /// Scenario name.
    pub scenario_name: String,
    /// Table of the samples.
    pub entity_type: String,
    /// How they were chosen.
    pub strategy: String,
    /// How many were returned.
    pub count: usize,
    /// The entities.
    pub samples: Vec<Json>,
}

/// Samples of one type, with the resolved scenario.
pub fn entity_samples(
    store: &Store,
    scenario: &str,
    entity_type: &str,
    count: usize,
    strategy: SampleStrategy,
) -> CliResult<EntitySamples> {
    let table = healthsim_schema::entity_type(entity_type)?.table;
    let target = store.resolve_scenario(scenario)?;
    let samples = store.entity_samples(&target.scenario_id, table, count, strategy)?;
    Ok(EntitySamples {
        scenario_id: target.scenario_id,
        scenario_name: target.name,
        entity_type: table.to_string(),
        strategy: strategy.name().to_string(),
        count: samples.len(),
        samples,
    })
}

/// `healthsim samples`.
pub fn run(config: &DbConfig, args: &SamplesArgs) -> CliResult<Output> {
    let store = config.open()?;
    let view = entity_samples(
        &store,
        &args.scenario,
        &args.entity_type,
        args.count,
        args.strategy,
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
