//! `import` / `import_scenario`: a JSON export file or a folder of CSV/Parquet exports into a
//! new scenario.

use healthsim_persist::{ImportCommit, ImportOptions, ImportResult};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{counts_table, with_spinner};
use crate::args::ImportArgs;
use crate::db::DbConfig;
use crate::error::CliResult;
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::Output;

/// import_scenario arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// A JSON export file, or a folder of '<table>.csv' or '<table>.parquet' files, as written
    /// by export_scenario. Relative paths are relative to the database's folder; '~/' is the
    /// user's home.
    pub path: String,
    /// Name of the new scenario (sanitized, made unique). Default: the exported scenario's
    /// name (JSON) or the folder's name.
    pub name: Option<String>,
    /// Provenance stored on every imported entity that does not carry its own.
    pub provenance: Option<super::persist::ProvenanceParams>,
    /// How a JSON export is committed: 'auto' (default: 'all' up to 32 MiB of file, 'chunks'
    /// above), 'all' (one transaction; memory grows with the file) or 'chunks' (one
    /// transaction per 10,000 entities under a hidden name: bounded memory; the scenario
    /// appears only when the import completes). A folder is always one transaction.
    pub commit: Option<ImportCommit>,
}

/// The `import_scenario` tool.
#[derive(Debug)]
pub struct ImportScenario;

impl Tool for ImportScenario {
    const NAME: &'static str = "import_scenario";
    const COMMAND: &'static str = "import";
    const TITLE: &'static str = "Import scenario export";
    const EFFECT: Effect = Effect::Adds { idempotent: false };
    const MAX_RESULT_TOKENS: usize = super::TRANSFER_TOKEN_BUDGET;
    const DESCRIPTION: &'static str = "\
Load an exported scenario into the database as a NEW scenario: a JSON \
export file, or a folder of '<table>.csv' or '<table>.parquet' files as export_scenario writes \
them. Use it when the user shares or restores an exported scenario. Every entity is validated \
like persist_entities does, and the import is atomic: an invalid or truncated file writes \
nothing and the error names the file and what is wrong (a large JSON export is committed in \
chunks under a hidden name, so memory stays bounded; the scenario still appears only when the \
import completes). The new scenario is named name, else \
the exported scenario's name (JSON) or the folder's name, made unique. Relative paths are \
relative to the database's folder. Returns the new scenario_id and counts per type; then use \
get_scenario_summary.";
    type Params = ImportParams;
    type Output = ImportResult;

    async fn call(context: ToolContext, params: ImportParams) -> CliResult<ImportResult> {
        let path = context.user_path(&params.path);
        let options = ImportOptions {
            name: params.name,
            provenance: params.provenance.unwrap_or_default().into(),
            commit: params.commit.unwrap_or_default(),
        };
        context
            .run(move |store| Ok(store.import_scenario(&path, &options)?))
            .await
    }
}

/// `healthsim import`.
pub fn run(config: &DbConfig, args: &ImportArgs) -> CliResult<Output> {
    let store = config.open()?;
    let options = ImportOptions {
        name: args.name.clone(),
        provenance: args.provenance.to_provenance(),
        commit: args.commit.into(),
    };
    let result = with_spinner("importing", || store.import_scenario(&args.path, &options))?;
    Output::new(&result, text(&result))
}

/// Readable result of an import.
fn text(result: &ImportResult) -> String {
    let committed = match result.commit {
        ImportCommit::Chunks => "in chunks",
        _ => "in one transaction",
    };
    let mut text = format!(
        "Imported {} entities from {} ({}) into new scenario '{}' ({}), {committed}.\n",
        result.total_entities,
        result.path.display(),
        result.format.name(),
        result.name,
        result.scenario_id
    );
    text.push_str(&counts_table(&result.counts, &[]));
    text
}
