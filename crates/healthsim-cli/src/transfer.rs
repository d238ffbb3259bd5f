//! The scenario transfer commands: clone, merge, export, import and import-fhir.
//!
//! Each opens the store, calls one service operation of `healthsim-persist` (its `transfer`
//! and `fhir` modules), and returns an [`Output`] whose JSON is the result's view (field names
//! of the service types) and whose text is a readable rendering. The renderings are shared
//! with nothing else; the views are shared with the MCP tools.

use std::path::Path;
use std::time::Duration;

use healthsim_persist::fhir::FhirImportOptions;
use healthsim_persist::{
    CloneOptions, ExportOptions, ImportOptions, MergeOptions, ScenarioTarget, Store,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::{CloneArgs, ExportArgs, ImportArgs, ImportFhirArgs, MergeArgs};
use crate::db::DbConfig;
use crate::error::CliResult;
use crate::output::{self, Output};
use crate::views::{CloneView, ExportView, FhirImportView, ImportView, MergeView, OnConflictView};

/// How many skipped resources the readable output of `import-fhir` lists (`--json` has all
/// that the service lists).
const SKIPPED_IN_TEXT: usize = 10;

/// A spinner on stderr while one long operation runs; invisible when stderr is not a terminal.
fn spinner(message: impl Into<String>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(message.into());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Runs `f` under a spinner that is cleared whatever the outcome.
fn with_spinner<T>(message: impl Into<String>, f: impl FnOnce() -> T) -> T {
    let bar = spinner(message);
    let result = f();
    bar.finish_and_clear();
    result
}

/// Tags from repeated `--tag`: none given keeps the service's default (the source's tags).
fn tags_option(tags: &[String]) -> Option<Vec<String>> {
    (!tags.is_empty()).then(|| tags.to_vec())
}

/// `n` bytes for people: `812 B`, `14.2 KiB`, `3.0 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

/// An extra column of [`counts_table`]: its header and its cell for a table.
type Column<'a> = (&'a str, &'a dyn Fn(&str) -> String);

/// `entities` of one table per row, with extra columns from `more`.
fn counts_table(counts: &std::collections::BTreeMap<String, u64>, more: &[Column<'_>]) -> String {
    if counts.is_empty() {
        return String::new();
    }
    let mut headers = vec!["type", "entities"];
    headers.extend(more.iter().map(|(h, _)| *h));
    let rows: Vec<Vec<String>> = counts
        .iter()
        .map(|(table, n)| {
            let mut row = vec![table.clone(), n.to_string()];
            row.extend(more.iter().map(|(_, cell)| cell(table)));
            row
        })
        .collect();
    format!("\n{}", output::table(&headers, &rows))
}

// ------------------------------------------------------------------------------------ clone

/// `healthsim clone`.
pub fn clone(config: &DbConfig, args: &CloneArgs) -> CliResult<Output> {
    let store = config.open()?;
    let options = CloneOptions {
        new_name: args.name.clone(),
        description: args.description.clone(),
        tags: tags_option(&args.tags),
        types: args.types.clone(),
    };
    let view: CloneView =
        with_spinner("cloning", || store.clone_scenario(&args.scenario, &options))?.into();
    Output::new(&view, clone_text(&view))
}

/// Readable result of a clone.
pub fn clone_text(view: &CloneView) -> String {
    let mut text = format!(
        "Cloned '{}' into new scenario '{}' ({}): {} entities.\n",
        view.source.name, view.name, view.scenario_id, view.total_entities
    );
    text.push_str(&counts_table(&view.counts, &[]));
    text
}

// ------------------------------------------------------------------------------------ merge

/// `healthsim merge`.
pub fn merge(config: &DbConfig, args: &MergeArgs) -> CliResult<Output> {
    let store = config.open()?;
    let options = MergeOptions {
        target_name: args.name.clone(),
        description: args.description.clone(),
        tags: tags_option(&args.tags),
        on_conflict: args.on_conflict.into(),
    };
    let view: MergeView = with_spinner("merging", || {
        store.merge_scenarios(&args.scenarios, &options)
    })?
    .into();
    Output::new(&view, merge_text(&view))
}

/// Readable result of a merge.
pub fn merge_text(view: &MergeView) -> String {
    let sources: Vec<String> = view
        .sources
        .iter()
        .map(|s| format!("'{}'", s.name))
        .collect();
    let mut text = format!(
        "Merged {} into new scenario '{}' ({}): {} entities, {} conflict{} ({}).\n",
        sources.join(", "),
        view.name,
        view.scenario_id,
        view.total_entities,
        view.total_conflicts,
        if view.total_conflicts == 1 { "" } else { "s" },
        match view.on_conflict {
            OnConflictView::Skip => "skip: the first source's entity kept",
            OnConflictView::Overwrite => "overwrite: the last source's entity kept",
            OnConflictView::Rename => "rename: both kept, later ids renamed",
        }
    );
    let conflicts = |table: &str| view.conflicts.get(table).copied().unwrap_or(0).to_string();
    text.push_str(&counts_table(&view.counts, &[("conflicts", &conflicts)]));
    text
}

// ------------------------------------------------------------------------------------ export

/// `healthsim export`.
pub fn export(config: &DbConfig, args: &ExportArgs) -> CliResult<Output> {
    let store = config.open()?;
    let options = ExportOptions {
        format: args.format.into(),
        out: args.out.clone(),
        types: args.types.clone(),
        include_provenance: !args.no_provenance,
        overwrite: args.overwrite,
    };
    let view: ExportView = with_spinner("exporting", || {
        store.export_scenario(&args.scenario, &options)
    })?
    .into();
    Output::new(&view, export_text(&view))
}

/// Readable result of an export.
pub fn export_text(view: &ExportView) -> String {
    let mut text = format!(
        "Exported {} entities of scenario '{}' as {} to {} ({}).\n",
        view.total_entities,
        view.name,
        view.format.name(),
        view.path,
        human_bytes(view.bytes_written)
    );
    if view.files.is_empty() {
        text.push_str(&counts_table(&view.counts, &[]));
    } else {
        let file = |table: &str| {
            let name = format!("{table}.{}", view.format.name());
            if view.files.contains(&name) {
                name
            } else {
                String::new()
            }
        };
        text.push_str(&counts_table(&view.counts, &[("file", &file)]));
    }
    text
}

// ------------------------------------------------------------------------------------ import

/// `healthsim import`.
pub fn import(config: &DbConfig, args: &ImportArgs) -> CliResult<Output> {
    let store = config.open()?;
    let options = ImportOptions {
        name: args.name.clone(),
    };
    let view: ImportView =
        with_spinner("importing", || store.import_scenario(&args.path, &options))?.into();
    Output::new(&view, import_text(&view))
}

/// Readable result of an import.
pub fn import_text(view: &ImportView) -> String {
    let mut text = format!(
        "Imported {} entities from {} ({}) into new scenario '{}' ({}).\n",
        view.total_entities,
        view.path,
        view.format.name(),
        view.name,
        view.scenario_id
    );
    text.push_str(&counts_table(&view.counts, &[]));
    text
}

// ------------------------------------------------------------------------------------ fhir

/// The import target of `import-fhir` / `import_fhir`: an existing scenario, else a new one
/// named `name` or from `context` (default: the service's "fhir import" context).
pub fn fhir_target(
    scenario: Option<String>,
    name: Option<String>,
    context: Option<String>,
) -> ScenarioTarget {
    match (scenario, name, context) {
        (Some(existing), _, _) => ScenarioTarget::existing(existing),
        (None, None, None) => FhirImportOptions::default().scenario,
        (None, name, context) => ScenarioTarget::New {
            name,
            context,
            description: None,
            tags: Vec::new(),
        },
    }
}

/// Runs a FHIR import.
pub fn run_import_fhir(
    store: &Store,
    paths: &[impl AsRef<Path>],
    options: &FhirImportOptions,
) -> CliResult<healthsim_persist::fhir::FhirImportReport> {
    Ok(store.import_fhir(paths, options)?)
}

/// `healthsim import-fhir`.
pub fn import_fhir(config: &DbConfig, args: &ImportFhirArgs) -> CliResult<Output> {
    let store = config.open()?;
    let options = FhirImportOptions {
        scenario: fhir_target(
            args.scenario.clone(),
            args.name.clone(),
            args.context.clone(),
        ),
        skip_invalid: args.skip_invalid,
        batch_size: usize::try_from(args.batch_size).unwrap_or(usize::MAX),
    };
    let report = with_spinner("importing FHIR resources", || {
        run_import_fhir(&store, &args.paths, &options)
    })?;
    let view = FhirImportView::full(report);
    Output::new(&view, fhir_text(&view))
}

/// Readable result of a FHIR import.
pub fn fhir_text(view: &FhirImportView) -> String {
    let mut text = format!(
        "Imported {} resources from {} file{} into {} '{}' ({}).\n",
        view.resources_imported,
        view.files,
        if view.files == 1 { "" } else { "s" },
        if view.is_new_scenario {
            "new scenario"
        } else {
            "scenario"
        },
        view.scenario_name,
        view.scenario_id,
    );
    if !view.rows_written.is_empty() {
        let rows: Vec<Vec<String>> = view
            .rows_written
            .iter()
            .map(|(t, c)| vec![t.clone(), c.inserted.to_string(), c.updated.to_string()])
            .collect();
        text.push('\n');
        text.push_str(&output::table(&["type", "inserted", "updated"], &rows));
    }
    let listed = |counts: &std::collections::BTreeMap<String, u64>| {
        counts
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !view.unsupported.is_empty() {
        text.push_str(&format!(
            "\nNot imported (resource types without a table): {}\n",
            listed(&view.unsupported)
        ));
    }
    if view.replaced_in_chunk > 0 {
        text.push_str(&format!(
            "\nRepeated resources (the last one kept): {}\n",
            view.replaced_in_chunk
        ));
    }
    if view.skipped_total > 0 {
        text.push_str(&format!("\nSkipped as invalid: {}\n", view.skipped_total));
        for s in view.skipped.iter().take(SKIPPED_IN_TEXT) {
            let mut at = s.file.clone();
            if let Some(line) = s.line {
                at.push_str(&format!(":{line}"));
            }
            if let Some(entry) = s.entry {
                at.push_str(&format!(" entry {entry}"));
            }
            let what = match (&s.resource_type, &s.id) {
                (Some(t), Some(id)) => format!("{t}/{id}: "),
                (Some(t), None) => format!("{t}: "),
                (None, Some(id)) => format!("{id}: "),
                (None, None) => String::new(),
            };
            text.push_str(&format!("  {at}  {what}{}\n", s.reason));
        }
        let shown = view.skipped.len().min(SKIPPED_IN_TEXT) as u64;
        if view.skipped_total > shown {
            text.push_str(&format!(
                "  ... and {} more (--json lists up to {})\n",
                view.skipped_total - shown,
                healthsim_persist::fhir::import::MAX_SKIPPED_LISTED
            ));
        }
    }
    if !view.unresolved_references.is_empty() {
        text.push_str(&format!(
            "\nReferences without a target in the scenario: {}\n",
            listed(&view.unresolved_references)
        ));
        if !view.unresolved_examples.is_empty() {
            text.push_str(&format!("  e.g. {}\n", view.unresolved_examples.join("; ")));
        }
    }
    text.push_str(&format!(
        "\nNext: `healthsim summary {}`\n",
        view.scenario_name
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_bytes(n: u64, expected: &str) {
        assert_eq!(human_bytes(n), expected, "{n}");
    }

    #[test]
    fn bytes_for_people() {
        check_bytes(0, "0 B");
        check_bytes(1023, "1023 B");
        check_bytes(1024, "1.0 KiB");
        check_bytes(14_540, "14.2 KiB");
        check_bytes(3 * 1024 * 1024, "3.0 MiB");
        check_bytes(5 * 1024 * 1024 * 1024, "5.0 GiB");
    }

    #[test]
    fn fhir_targets() {
        assert_eq!(
            fhir_target(Some("s".into()), None, None),
            ScenarioTarget::existing("s")
        );
        assert_eq!(
            fhir_target(None, None, None),
            FhirImportOptions::default().scenario
        );
        assert_eq!(
            fhir_target(None, Some("n".into()), None),
            ScenarioTarget::New {
                name: Some("n".into()),
                context: None,
                description: None,
                tags: Vec::new()
            }
        );
    }
}
