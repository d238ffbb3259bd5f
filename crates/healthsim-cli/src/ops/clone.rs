//! `clone` / `clone_scenario`: a copy of a scenario (all entities or some types) as a new one.

use healthsim_persist::{CloneOptions, CloneResult};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{counts_table, tags_option, with_spinner, OneOrMany};
use crate::args::CloneArgs;
use crate::db::DbConfig;
use crate::error::CliResult;
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::Output;

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

/// The `clone_scenario` tool.
#[derive(Debug)]
pub struct CloneScenario;

impl Tool for CloneScenario {
    const NAME: &'static str = "clone_scenario";
    const COMMAND: &'static str = "clone";
    const TITLE: &'static str = "Clone scenario";
    const EFFECT: Effect = Effect::Adds { idempotent: false };
    const MAX_RESULT_TOKENS: usize = super::TRANSFER_TOKEN_BUDGET;
    const DESCRIPTION: &'static str = "\
Copy a scenario into a NEW scenario: every entity, or only entity_types. \
Use it before a what-if change or a variant of a cohort, so the original stays as it was (then \
persist into the copy's scenario_id), or to branch a subset (e.g. only patients and encounters). \
Ids and the references between entities stay the same inside the copy. The copy is named \
new_name (sanitized, made unique; default '<source>-copy') and keeps the source's description \
and tags unless given. Returns the new scenario_id, the source and counts per type; the source \
is not changed.";
    type Params = CloneParams;
    type Output = CloneResult;

    async fn call(context: ToolContext, params: CloneParams) -> CliResult<CloneResult> {
        let options = CloneOptions {
            new_name: params.new_name,
            description: params.description,
            tags: params.tags,
            types: params.entity_types.map(OneOrMany::split),
        };
        context
            .run(move |store| Ok(store.clone_scenario(&params.scenario_id, &options)?))
            .await
    }
}

/// `healthsim clone`.
pub fn run(config: &DbConfig, args: &CloneArgs) -> CliResult<Output> {
    let store = config.open()?;
    let options = CloneOptions {
        new_name: args.name.clone(),
        description: args.description.clone(),
        tags: tags_option(&args.tags),
        types: args.types.clone(),
    };
    let result = with_spinner("cloning", || store.clone_scenario(&args.scenario, &options))?;
    Output::new(&result, text(&result))
}

/// Readable result of a clone.
fn text(result: &CloneResult) -> String {
    let mut text = format!(
        "Cloned '{}' into new scenario '{}' ({}): {} entities.\n",
        result.source.name, result.name, result.scenario_id, result.total_entities
    );
    text.push_str(&counts_table(&result.counts, &[]));
    text
}
