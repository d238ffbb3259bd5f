//! `samples` / `get_entity_samples`: a few entities of one type, at most [`MAX_SAMPLES`] and
//! [`SAMPLES_TOKEN_BUDGET`] tokens whatever the data.

use healthsim_persist::{SampleStrategy, Store};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::args::SamplesArgs;
use crate::db::DbConfig;
use crate::error::{CliError, CliResult};
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::{self, Output};

/// The most samples one call returns.
pub const MAX_SAMPLES: usize = 20;
/// The most tokens a samples result takes (its JSON, cl100k_base), whatever the count, the
/// values and the fields of `extra`.
pub const SAMPLES_TOKEN_BUDGET: usize = 4_000;

/// get_entity_samples arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SamplesParams {
    /// Scenario id or name.
    pub scenario_id: String,
    /// Entity type (table name or alias).
    pub entity_type: String,
    /// How many, 1 to 20.
    #[schemars(range(min = 1, max = 20), extend("default" = 3))]
    pub count: Option<u64>,
    /// diverse (spread over the data), random or recent.
    #[schemars(extend("default" = "diverse"))]
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
Get a few example entities of one type from a scenario (count: default 3, \
max 20), chosen 'diverse' (spread over the data, the default), 'random', or 'recent'. Use it to \
see what the stored data looks like, e.g. before writing a query or to keep newly generated \
entities consistent with existing ones. Text values are cut to 60 characters; a sample too \
large for its share of the bound loses its last fields (fields_cut says so).";
    const MAX_RESULT_TOKENS: usize = SAMPLES_TOKEN_BUDGET;
    type Params = SamplesParams;
    type Output = EntitySamples;

    async fn call(context: ToolContext, params: SamplesParams) -> CliResult<EntitySamples> {
        let count = params
            .count
            .map_or(healthsim_summary::DEFAULT_SAMPLES_PER_TYPE, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            });
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
    /// Whether some samples lost their last fields to stay within the bound.
    pub fields_cut: bool,
    /// The entities.
    pub samples: Vec<Json>,
}

/// Samples of one type, with the resolved scenario: at most [`MAX_SAMPLES`] (more is refused),
/// within [`SAMPLES_TOKEN_BUDGET`].
pub fn entity_samples(
    store: &Store,
    scenario: &str,
    entity_type: &str,
    count: usize,
    strategy: SampleStrategy,
) -> CliResult<EntitySamples> {
    if !(1..=MAX_SAMPLES).contains(&count) {
        return Err(CliError::input(format!(
            "count must be between 1 and {MAX_SAMPLES}, got {count}"
        )));
    }
    let table = healthsim_schema::entity_type(entity_type)?.table;
    let target = store.resolve_scenario(scenario)?;
    let samples = store.entity_samples(&target.scenario_id, table, count, strategy)?;
    let mut view = EntitySamples {
        scenario_id: target.scenario_id,
        scenario_name: target.name,
        entity_type: table.to_string(),
        strategy: strategy.name().to_string(),
        count: 0,
        fields_cut: false,
        samples: Vec::new(),
    };
    fit_samples(&mut view, samples);
    Ok(view)
}

fn tokens(value: &impl Serialize) -> usize {
    serde_json::to_string(value)
        .map(|text| healthsim_summary::count_tokens(&text))
        .unwrap_or(usize::MAX)
}

/// Puts `samples` into `view` within [`SAMPLES_TOKEN_BUDGET`]: each sample gets an equal share
/// of what the rest of the result leaves, and one larger than its share keeps only its first
/// fields; samples that still do not fit are left out.
fn fit_samples(view: &mut EntitySamples, samples: Vec<Json>) {
    // Room for the count's digits and the separators between samples.
    let overhead = tokens(view) + 4 + samples.len();
    let share = SAMPLES_TOKEN_BUDGET.saturating_sub(overhead) / samples.len().max(1);
    for sample in samples {
        let sample = match sample {
            Json::Object(fields) if tokens(&fields) > share => {
                view.fields_cut = true;
                Json::Object(first_fields_within(fields, share))
            }
            other => other,
        };
        view.samples.push(sample);
    }
    while tokens(view) > SAMPLES_TOKEN_BUDGET && !view.samples.is_empty() {
        view.samples.pop();
    }
    view.count = view.samples.len();
}

/// The most leading fields of `fields` that take at most `share` tokens (binary search).
fn first_fields_within(fields: Map<String, Json>, share: usize) -> Map<String, Json> {
    let all: Vec<(String, Json)> = fields.into_iter().collect();
    let take = |n: usize| -> Map<String, Json> { all.iter().take(n).cloned().collect() };
    let (mut fits, mut fails) = (0, all.len());
    while fails - fits > 1 {
        let middle = (fits + fails) / 2;
        if tokens(&take(middle)) <= share {
            fits = middle;
        } else {
            fails = middle;
        }
    }
    take(fits)
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
