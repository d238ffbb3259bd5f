//! `export` / `export_scenario`: a scenario as a JSON file or a folder of CSV or Parquet files.

use healthsim_persist::{ExportFormat, ExportOptions, ExportResult};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{counts_table, with_spinner, OneOrMany};
use crate::args::ExportArgs;
use crate::db::DbConfig;
use crate::error::CliResult;
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::{human_bytes, Output};

/// export_scenario arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// The scenario to export (id or name).
    pub scenario_id: String,
    /// json, csv or parquet.
    pub format: ExportFormat,
    /// Where to write on the user's machine: the folder that receives '<scenario-name>.json'
    /// or the folder '<scenario-name>/' (created if missing; its parent must exist), or for
    /// json a file path ending in .json. Relative paths are relative to the database's folder;
    /// '~/' is the user's home. Default: the 'exports' folder next to the database (for a lake: in ~/.healthsim).
    pub output_path: Option<String>,
    /// Export only these entity types (table names or aliases). Default: every type.
    #[schemars(with = "Option<Vec<String>>")]
    pub entity_types: Option<OneOrMany>,
    /// Include the provenance columns (source_type, source_system, skill_used,
    /// generation_seed). Default true.
    pub include_provenance: Option<bool>,
    /// Replace an existing export at the target (only after the user agreed). Default false.
    pub overwrite: Option<bool>,
}

/// The `export_scenario` tool.
#[derive(Debug)]
pub struct ExportScenario;

impl Tool for ExportScenario {
    const NAME: &'static str = "export_scenario";
    const COMMAND: &'static str = "export";
    const TITLE: &'static str = "Export scenario to files";
    const EFFECT: Effect = Effect::Changes { idempotent: false };
    const MAX_RESULT_TOKENS: usize = super::TRANSFER_TOKEN_BUDGET;
    const DESCRIPTION: &'static str = "\
Write a scenario's data to files on the user's machine, for use outside \
HealthSim (spreadsheets, pandas, Spark, sharing, archiving): format 'json' (one document that \
import_scenario reads back), 'csv' (a folder with one CSV file per table) or 'parquet' (a folder \
with one typed Parquet file per table). Use it only when the user asks to export, download, \
save to disk or share; never to read data into the conversation (use get_scenario_summary and \
query_scenario). output_path is the folder that receives '<scenario-name>.json' or \
'<scenario-name>/' (created if missing; the same path gives the same layout on every call), or \
for json a path ending in .json; relative paths are relative to the database's folder; default: \
the 'exports' folder next to the database (for a lake: in ~/.healthsim). Paths with '..' are refused. An existing export is replaced only with overwrite: true (ask the user \
first). Returns the path, files, counts and bytes written: tell the user where the files are.";
    type Params = ExportParams;
    type Output = ExportResult;

    async fn call(context: ToolContext, params: ExportParams) -> CliResult<ExportResult> {
        let options = ExportOptions {
            format: params.format,
            out: params.output_path.as_deref().map(|p| context.user_path(p)),
            types: params.entity_types.map(OneOrMany::split),
            include_provenance: params.include_provenance.unwrap_or(true),
            overwrite: params.overwrite.unwrap_or(false),
        };
        context
            .run(move |store| Ok(store.export_scenario(&params.scenario_id, &options)?))
            .await
    }
}

/// `healthsim export`.
pub fn run(config: &DbConfig, args: &ExportArgs) -> CliResult<Output> {
    let store = config.open()?;
    let options = ExportOptions {
        format: args.format,
        out: args.out.clone(),
        types: args.types.clone(),
        include_provenance: !args.no_provenance,
        overwrite: args.overwrite,
    };
    let result = with_spinner("exporting", || {
        store.export_scenario(&args.scenario, &options)
    })?;
    Output::new(&result, text(&result))
}

/// Readable result of an export.
fn text(result: &ExportResult) -> String {
    let mut text = format!(
        "Exported {} entities of scenario '{}' as {} to {} ({}).\n",
        result.total_entities,
        result.name,
        result.format.name(),
        result.path.display(),
        human_bytes(result.bytes_written)
    );
    if result.files.is_empty() {
        text.push_str(&counts_table(&result.counts, &[]));
    } else {
        let file = |table: &str| {
            let name = format!("{table}.{}", result.format.name());
            if result.files.contains(&name) {
                name
            } else {
                String::new()
            }
        };
        text.push_str(&counts_table(&result.counts, &[("file", &file)]));
    }
    text
}
