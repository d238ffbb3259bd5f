//! `delete` / `delete_scenario`: a scenario with all its entities and tags, after confirmation.

use healthsim_persist::{DeleteResult, Store};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::args::DeleteArgs;
use crate::db::DbConfig;
use crate::error::{CliError, CliResult};
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::Output;

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

/// The `delete_scenario` tool.
#[derive(Debug)]
pub struct DeleteScenario;

impl Tool for DeleteScenario {
    const NAME: &'static str = "delete_scenario";
    const COMMAND: &'static str = "delete";
    const TITLE: &'static str = "Delete scenario";
    const EFFECT: Effect = Effect::Changes { idempotent: false };
    const MAX_RESULT_TOKENS: usize = super::TRANSFER_TOKEN_BUDGET;
    const DESCRIPTION: &'static str = "\
Permanently delete a scenario with all its entities and tags. Ask the \
user first, then call with confirm: true; without it nothing is deleted and the error says what \
would be deleted.";
    type Params = DeleteParams;
    type Output = DeleteResult;

    async fn call(context: ToolContext, params: DeleteParams) -> CliResult<DeleteResult> {
        context
            .run(move |store| {
                delete(
                    store,
                    &params.scenario_id,
                    params.confirm,
                    "ask the user, then call again with confirm: true",
                )
            })
            .await
    }
}

/// Deletes a scenario; without `confirmed`, the error ends with `hint` (what to do).
fn delete(store: &Store, scenario: &str, confirmed: bool, hint: &str) -> CliResult<DeleteResult> {
    store
        .delete_scenario(scenario, confirmed)
        .map_err(|e| match e {
            healthsim_persist::Error::ConfirmationRequired { .. } => CliError::from(e).hint(hint),
            other => CliError::from(other),
        })
}

/// `healthsim delete`.
pub fn run(config: &DbConfig, args: &DeleteArgs) -> CliResult<Output> {
    let store = config.open()?;
    let result = delete(
        &store,
        &args.scenario,
        args.yes,
        "run again with --yes to delete it",
    )?;
    let total: u64 = result.deleted_counts.values().sum();
    let text = format!(
        "Deleted scenario '{}' ({}): {total} entities, {} tags.\n",
        result.name, result.scenario_id, result.tags_removed
    );
    Output::new(&result, text)
}
