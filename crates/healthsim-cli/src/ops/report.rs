//! `report` / `report_scenario`: a self-contained HTML report of a scenario (charts per product
//! and a data-quality check), written by `healthsim-report`; the agent gets the path and the
//! headline numbers, never the page.

use std::path::Path;

use healthsim_persist::Store;
use healthsim_report::{ReportOptions, ReportSummary};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::args::ReportArgs;
use crate::db::DbConfig;
use crate::error::{CliError, CliResult};
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::{human_bytes, Output};

/// report_scenario arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// The scenario to report on (id or name).
    pub scenario_id: String,
    /// Where to write the HTML file on the user's machine: a file path ending in .html, or the
    /// folder that receives '<scenario-name>.html' (created if missing; its parent must exist). Relative paths are relative to the database's folder;
    /// '~/' is the user's home. Default: the 'exports' folder next to the database.
    pub output_path: Option<String>,
    /// Replace an existing report at the target (only after the user agreed). Default false.
    pub overwrite: Option<bool>,
}

/// The `report_scenario` tool.
#[derive(Debug)]
pub struct ReportScenario;

impl Tool for ReportScenario {
    const NAME: &'static str = "report_scenario";
    const COMMAND: &'static str = "report";
    const TITLE: &'static str = "Write an HTML report of a scenario";
    const EFFECT: Effect = Effect::Changes { idempotent: false };
    const MAX_RESULT_TOKENS: usize = super::SHORT_TOKEN_BUDGET;
    const DESCRIPTION: &'static str = "\
Write a self-contained HTML report of a scenario to a file on the user's machine, for a person \
to look at in a browser: counts and date span, a population pyramid, encounter mix and monthly \
volume, top diagnoses with prevalence, lab values against reference ranges, claim amounts, \
pharmacy fills, trial enrollment and adverse events, and a data-quality check (null rates, \
duplicated natural keys such as MRN, references that point at no entity). Offer it when the \
user wants to see, review or check a scenario. The page has no scripts and fetches nothing. \
output_path is a file path or an existing folder (default: the 'exports' folder next to the \
database); an existing file is replaced only with overwrite: true. Returns the path, its size \
and the headline numbers (under ~500 tokens), never the page: tell the user where it is.";
    type Params = ReportParams;
    type Output = ReportSummary;

    async fn call(context: ToolContext, params: ReportParams) -> CliResult<ReportSummary> {
        let out = params.output_path.as_deref().map(|p| context.user_path(p));
        let overwrite = params.overwrite.unwrap_or(false);
        context
            .run(move |store| write(store, &params.scenario_id, out.as_deref(), overwrite))
            .await
    }
}

/// Resolves the scenario, chooses the file and writes the report.
fn write(
    store: &Store,
    scenario: &str,
    out: Option<&Path>,
    overwrite: bool,
) -> CliResult<ReportSummary> {
    let target = store.resolve_scenario(scenario)?;
    let path = store.output_file(out, &format!("{}.html", target.name))?;
    let options = ReportOptions {
        overwrite,
        ..ReportOptions::default()
    };
    let written = store.with_reader(|conn| {
        Ok(healthsim_report::write_report(
            conn,
            &target.scenario_id,
            &path,
            &options,
        ))
    })?;
    written.map_err(report_error)
}

/// The CLI's error for a report error: the report crate says whose fault it is.
fn report_error(error: healthsim_report::Error) -> CliError {
    if error.is_caller_error() {
        CliError::input(error.to_string())
    } else {
        CliError::failure(error.to_string())
    }
}

/// `healthsim report`.
pub fn run(config: &DbConfig, args: &ReportArgs) -> CliResult<Output> {
    let store = config.open()?;
    let summary = write(&store, &args.scenario, args.out.as_deref(), args.overwrite)?;
    let headline = &summary.headline;
    let mut text = format!(
        "Wrote {} ({}): {} entities in {} types, {} sections, {} charts.\n",
        summary.path.display(),
        human_bytes(summary.bytes),
        headline.total_entities,
        headline.entity_counts.len(),
        headline.sections.len(),
        headline.charts
    );
    if headline.dangling_references > 0 || headline.duplicate_key_values > 0 {
        text.push_str(&format!(
            "Data quality: {} references point at no entity, {} natural-key values are repeated",
            headline.dangling_references, headline.duplicate_key_values
        ));
        if !headline.broken_foreign_keys.is_empty() {
            text.push_str(&format!(" ({})", headline.broken_foreign_keys.join("; ")));
        }
        text.push_str(".\n");
    }
    text.push_str("Open it in a browser; it works offline and prints cleanly.\n");
    Output::new(&summary, text)
}
