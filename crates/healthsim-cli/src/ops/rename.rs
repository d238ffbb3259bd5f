//! `rename` / `rename_scenario`: a new name for a scenario (its id stays the same).

use healthsim_persist::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::args::RenameArgs;
use crate::db::DbConfig;
use crate::error::CliResult;
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::Output;

/// rename_scenario arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameParams {
    /// Scenario id or name.
    pub scenario_id: String,
    /// The new name.
    pub new_name: String,
}

/// The `rename_scenario` tool.
#[derive(Debug)]
pub struct RenameScenario;

impl Tool for RenameScenario {
    const NAME: &'static str = "rename_scenario";
    const COMMAND: &'static str = "rename";
    const TITLE: &'static str = "Rename scenario";
    const EFFECT: Effect = Effect::Changes { idempotent: false };
    const MAX_RESULT_TOKENS: usize = super::SHORT_TOKEN_BUDGET;
    const DESCRIPTION: &'static str = "\
Rename a scenario, e.g. from its auto-generated name to one the user \
chose. The new name is sanitized (lowercase, dashes) and made unique; the scenario_id stays the \
same.";
    type Params = RenameParams;
    type Output = Renamed;

    async fn call(context: ToolContext, params: RenameParams) -> CliResult<Renamed> {
        context
            .run(move |store| rename_scenario(store, &params.scenario_id, &params.new_name))
            .await
    }
}

/// A renamed scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Renamed {
    /// The id (unchanged).
    pub scenario_id: String,
    /// The new name (sanitized, unique).
    pub name: String,
    /// The name before.
    pub previous_name: String,
}

/// Renames a scenario and reports the previous name.
pub fn rename_scenario(store: &Store, scenario: &str, new_name: &str) -> CliResult<Renamed> {
    let before = store.resolve_scenario(scenario)?;
    let after = store.rename_scenario(&before.scenario_id, new_name)?;
    Ok(Renamed {
        scenario_id: after.scenario_id,
        name: after.name,
        previous_name: before.name,
    })
}

/// `healthsim rename`.
pub fn run(config: &DbConfig, args: &RenameArgs) -> CliResult<Output> {
    let store = config.open()?;
    let view = rename_scenario(&store, &args.scenario, &args.new_name)?;
    let text = format!(
        "Renamed '{}' to '{}' ({}).\n",
        view.previous_name, view.name, view.scenario_id
    );
    Output::new(&view, text)
}
