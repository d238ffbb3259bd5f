//! `merge` / `merge_scenarios`: two or more scenarios combined into a new one.

use healthsim_persist::{MergeOptions, MergeResult, OnConflict};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{counts_table, tags_option, with_spinner, OneOrMany};
use crate::args::MergeArgs;
use crate::db::DbConfig;
use crate::error::CliResult;
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::Output;

/// merge_scenarios arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeParams {
    /// Two to 20 scenarios (ids or names), in order: 'first' and 'last' in on_conflict refer
    /// to this order.
    #[schemars(with = "Vec<String>", length(min = 2, max = 20))]
    pub scenario_ids: OneOrMany,
    /// Name of the merged scenario (sanitized, made unique). Default:
    /// '<first source name>-merged'.
    pub target_name: Option<String>,
    /// Description of the merged scenario. Default: 'merge of <source names>'.
    pub description: Option<String>,
    /// Tags of the merged scenario. Default: every tag of the sources.
    pub tags: Option<Vec<String>>,
    /// skip (default: the first source's entity wins), overwrite (the last source's wins) or
    /// rename (both kept, the later one gets a new id '<id>~2').
    pub on_conflict: Option<OnConflict>,
}

/// The `merge_scenarios` tool.
#[derive(Debug)]
pub struct MergeScenarios;

impl Tool for MergeScenarios {
    const NAME: &'static str = "merge_scenarios";
    const COMMAND: &'static str = "merge";
    const TITLE: &'static str = "Merge scenarios";
    const EFFECT: Effect = Effect::Adds { idempotent: false };
    const MAX_RESULT_TOKENS: usize = super::TRANSFER_TOKEN_BUDGET;
    const DESCRIPTION: &'static str = "\
Combine two to 20 scenarios into a NEW scenario, e.g. a clinical cohort \
and a claims cohort generated separately, or several batches of work; the sources are not \
changed. An id that two sources hold in the same table is a conflict, settled by on_conflict: \
'skip' (default) keeps the entity of the first source in scenario_ids, 'overwrite' keeps the \
last one's, 'rename' keeps both and gives the later one a new id ('<id>~2', ...) with every \
reference to it inside its own source rewritten. Use rename when the sources were generated \
independently and may reuse ids such as 'pat-001' for different people; skip or overwrite when \
they hold versions of the same entities. Returns the new scenario_id, counts and conflicts per \
type.";
    type Params = MergeParams;
    type Output = MergeResult;

    async fn call(context: ToolContext, params: MergeParams) -> CliResult<MergeResult> {
        let sources = params.scenario_ids.split();
        let options = MergeOptions {
            target_name: params.target_name,
            description: params.description,
            tags: params.tags,
            on_conflict: params.on_conflict.unwrap_or_default(),
        };
        context
            .run(move |store| Ok(store.merge_scenarios(&sources, &options)?))
            .await
    }
}

/// `healthsim merge`.
pub fn run(config: &DbConfig, args: &MergeArgs) -> CliResult<Output> {
    let store = config.open()?;
    let options = MergeOptions {
        target_name: args.name.clone(),
        description: args.description.clone(),
        tags: tags_option(&args.tags),
        on_conflict: args.on_conflict,
    };
    let result = with_spinner("merging", || {
        store.merge_scenarios(&args.scenarios, &options)
    })?;
    Output::new(&result, text(&result))
}

/// Readable result of a merge.
fn text(result: &MergeResult) -> String {
    let sources: Vec<String> = result
        .sources
        .iter()
        .map(|s| format!("'{}'", s.name))
        .collect();
    let mut text = format!(
        "Merged {} into new scenario '{}' ({}): {} entities, {} conflict{} ({}).\n",
        sources.join(", "),
        result.name,
        result.scenario_id,
        result.total_entities,
        result.total_conflicts,
        if result.total_conflicts == 1 { "" } else { "s" },
        match result.on_conflict {
            OnConflict::Skip => "skip: the first source's entity kept",
            OnConflict::Overwrite => "overwrite: the last source's entity kept",
            OnConflict::Rename => "rename: both kept, later ids renamed",
        }
    );
    let conflicts = |table: &str| {
        result
            .conflicts
            .get(table)
            .copied()
            .unwrap_or(0)
            .to_string()
    };
    text.push_str(&counts_table(&result.counts, &[("conflicts", &conflicts)]));
    text
}
