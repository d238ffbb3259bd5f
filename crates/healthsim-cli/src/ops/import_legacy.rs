//! `import-legacy` / `import_legacy`: the scenarios and cohorts of the Python HealthSim (its
//! database of either schema era, opened read-only, or its JSON files) into new scenarios.
//!
//! The command shows the whole report; the tool returns it cut to
//! [`super::TRANSFER_TOKEN_BUDGET`] tokens ([`LegacyImportReport::fit_tokens`]).

use healthsim_persist::{LegacyImportOptions, LegacyImportReport, NameConflict};
use schemars::JsonSchema;
use serde::Deserialize;

use super::with_spinner;
use crate::args::ImportLegacyArgs;
use crate::db::DbConfig;
use crate::error::CliResult;
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::{self, Output};

/// How many scenarios the readable output lists (`--json` has all the service lists).
const SCENARIOS_IN_TEXT: usize = 20;

/// import_legacy arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportLegacyParams {
    /// A database file of the Python HealthSim (e.g. '~/.healthsim/healthsim.duckdb'; opened
    /// read-only, never modified), one of its JSON scenario, cohort or workspace files, or a
    /// folder of them. Relative paths are relative to the database's folder; '~/' is the
    /// user's home.
    pub path: String,
    /// A scenario whose name is taken in this database: skip it (default; a repeated import
    /// adds nothing twice) or rename it (NAME-2, ...).
    pub on_name_conflict: Option<NameConflict>,
    /// Read, map and validate everything and report what would be imported, writing nothing.
    /// Default false.
    pub dry_run: Option<bool>,
    /// Provenance stored on every imported row that does not carry its own (default
    /// source_type 'legacy-import', source_system 'healthsim-python').
    pub provenance: Option<super::persist::ProvenanceParams>,
}

/// The `import_legacy` tool.
#[derive(Debug)]
pub struct ImportLegacy;

impl Tool for ImportLegacy {
    const NAME: &'static str = "import_legacy";
    const COMMAND: &'static str = "import-legacy";
    const TITLE: &'static str = "Import from the Python HealthSim";
    const EFFECT: Effect = Effect::Adds { idempotent: false };
    const MAX_RESULT_TOKENS: usize = super::TRANSFER_TOKEN_BUDGET;
    const DESCRIPTION: &'static str = "\
Bring the user's data from the Python HealthSim in: every scenario or cohort of its DuckDB \
database (both schema eras; the file is opened read-only and never changed) or of its JSON \
scenario, cohort or workspace files (a file or a folder) becomes a NEW scenario here, with its \
name (sanitized), description, tags and entities mapped to the canonical types. Use it when \
the user has data from the Python HealthSim, or when another tool reports that the database \
is a HealthSim (Python) database. Each scenario is imported atomically; a name that is taken \
is skipped (on_name_conflict: rename imports it as NAME-2). Entities of types without a table, \
entities that fail validation, fields kept in extra and references without a target are \
listed per scenario. dry_run: true reports without writing. Returns per scenario its new \
scenario_id, name and counts per type (long lists cut, totals exact); then use \
get_scenario_summary.";
    type Params = ImportLegacyParams;
    type Output = LegacyImportReport;

    async fn call(
        context: ToolContext,
        params: ImportLegacyParams,
    ) -> CliResult<LegacyImportReport> {
        let path = context.user_path(&params.path);
        let options = LegacyImportOptions {
            on_name_conflict: params.on_name_conflict.unwrap_or_default(),
            dry_run: params.dry_run.unwrap_or(false),
            provenance: params.provenance.unwrap_or_default().into(),
        };
        context
            .run(move |store| {
                let mut report = store.import_legacy(&path, &options)?;
                report.fit_tokens(Self::MAX_RESULT_TOKENS);
                Ok(report)
            })
            .await
    }
}

/// `healthsim import-legacy`.
pub fn run(config: &DbConfig, args: &ImportLegacyArgs) -> CliResult<Output> {
    let store = config.open()?;
    let options = LegacyImportOptions {
        on_name_conflict: args.on_name_conflict,
        dry_run: args.dry_run,
        provenance: args.provenance.to_provenance(),
    };
    let report = with_spinner("importing from the Python HealthSim", || {
        store.import_legacy(&args.path, &options)
    })?;
    Output::new(&report, text(&report))
}

/// Readable result of a legacy import.
fn text(report: &LegacyImportReport) -> String {
    let verb = if report.dry_run {
        "Would import"
    } else {
        "Imported"
    };
    let mut text = format!(
        "{verb} {} of {} scenario(s) ({} entities) from {} ({}).{}\n",
        report.scenarios_imported,
        report.scenarios_read,
        report.entities_imported,
        report.source,
        report.source_kind,
        if report.dry_run {
            " Nothing was written."
        } else {
            ""
        },
    );
    for s in report.scenarios.iter().take(SCENARIOS_IN_TEXT) {
        let status = match s.status {
            healthsim_persist::legacy::LegacyStatus::Imported => "imported",
            healthsim_persist::legacy::LegacyStatus::WouldImport => "would import",
            healthsim_persist::legacy::LegacyStatus::Skipped => "skipped",
        };
        text.push_str(&format!("\n'{}' ({}): {status}", s.legacy_name, s.origin));
        if let Some(name) = &s.name {
            text.push_str(&format!(" as '{name}'"));
        }
        if let Some(id) = &s.scenario_id {
            text.push_str(&format!(" ({id})"));
        }
        if let Some(reason) = &s.reason {
            text.push_str(&format!(": {reason}"));
        }
        text.push('\n');
        if !s.counts.is_empty() {
            let rows: Vec<Vec<String>> = s
                .counts
                .iter()
                .map(|(t, n)| vec![t.clone(), n.to_string()])
                .collect();
            text.push_str(&output::table(&["type", "entities"], &rows));
        }
        if !s.tags.is_empty() {
            text.push_str(&format!("  tags: {}\n", s.tags.join(", ")));
        }
        for item in &s.skipped {
            text.push_str(&format!(
                "  not imported: {} ({}): {}\n",
                item.item, item.count, item.reason
            ));
        }
        if s.skipped_total > s.skipped.iter().map(|i| i.count).sum::<u64>() {
            text.push_str(&format!(
                "  ... {} left out in all (--json lists the first)\n",
                s.skipped_total
            ));
        }
        for (table, fields) in &s.unmapped_fields {
            text.push_str(&format!(
                "  kept in extra ({table}): {}\n",
                fields.join(", ")
            ));
        }
        if !s.unresolved_references.is_empty() {
            let listed: Vec<String> = s
                .unresolved_references
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            text.push_str(&format!(
                "  references without a target: {}\n",
                listed.join(", ")
            ));
        }
    }
    if report.scenarios.len() > SCENARIOS_IN_TEXT {
        text.push_str(&format!(
            "\n... and {} more scenario(s) (--json lists them)\n",
            report.scenarios.len() - SCENARIOS_IN_TEXT
        ));
    }
    let listed = |counts: &std::collections::BTreeMap<String, u64>| {
        counts
            .iter()
            .map(|(k, n)| format!("{k} ({n} rows)"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !report.other_tables.is_empty() {
        text.push_str(&format!(
            "\nNot imported (tables without entities of a scenario): {}\n",
            listed(&report.other_tables)
        ));
    }
    if !report.unlinked_rows.is_empty() {
        text.push_str(&format!(
            "\nNot imported (rows of no scenario): {}\n",
            listed(&report.unlinked_rows)
        ));
    }
    if report.scenarios_imported > 0 && !report.dry_run {
        text.push_str("\nNext: `healthsim list`\n");
    }
    text
}
