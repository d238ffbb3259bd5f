//! `import-fhir` / `import_fhir`: FHIR R4 files (Bundles, resources, NDJSON; e.g. Synthea
//! output) into a new or existing scenario.
//!
//! The command shows the whole report; the tool returns [`FhirImportView::within_budget`], the
//! report cut to about 500 tokens for an agent's context.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use healthsim_persist::fhir::{CommitMode, FhirImportOptions};
use healthsim_persist::{ScenarioTarget, Store, TypeCounts};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{with_spinner, OneOrMany};
use crate::args::ImportFhirArgs;
use crate::db::DbConfig;
use crate::error::{CliError, CliResult};
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::{self, Output};

/// How many skipped resources the readable output of `import-fhir` lists (`--json` has all
/// that the service lists).
const SKIPPED_IN_TEXT: usize = 10;

/// import_fhir arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportFhirParams {
    /// FHIR R4 files (.json: a resource or a Bundle; .ndjson: Bulk Data) or folders of them,
    /// e.g. Synthea's 'output/fhir' folder. Relative paths are relative to the database's
    /// folder; '~/' is the user's home.
    #[schemars(with = "Vec<String>")]
    pub paths: OneOrMany,
    /// Add to this existing scenario (id or name). Omit to create a new scenario.
    pub scenario_id: Option<String>,
    /// Name for a NEW scenario (sanitized, made unique).
    pub scenario_name: Option<String>,
    /// What the data is about; its keywords name a new scenario. Default 'fhir import'.
    pub context: Option<String>,
    /// Leave out invalid resources (listed in the result) instead of failing the whole import.
    /// Default false.
    pub skip_invalid: Option<bool>,
    /// Provenance stored on every imported row that does not carry its own (source_type stays
    /// 'fhir').
    pub provenance: Option<super::persist::ProvenanceParams>,
    /// 'all' (one transaction), 'chunks' (one per chunk of resources, bounded memory) or
    /// 'auto' (default: all up to 32 MiB of input, chunks above).
    pub commit: Option<CommitMode>,
}

/// The `import_fhir` tool.
#[derive(Debug)]
pub struct ImportFhir;

impl Tool for ImportFhir {
    const NAME: &'static str = "import_fhir";
    const COMMAND: &'static str = "import-fhir";
    const TITLE: &'static str = "Import FHIR files";
    const EFFECT: Effect = Effect::Changes { idempotent: false };
    const MAX_RESULT_TOKENS: usize = super::SHORT_TOKEN_BUDGET;
    const DESCRIPTION: &'static str = "\
Import FHIR R4 data from files on the user's machine, such as Synthea \
output, into a scenario: .json files (one resource, or a transaction, collection or batch \
Bundle), .ndjson files (FHIR Bulk Data, one resource per line), either gzip-compressed (.gz), \
and folders of them (JSON files of a folder that are not FHIR, such as metadata, are skipped \
and listed). Patient, \
Practitioner, Organization, Location, Encounter, Condition, Procedure, Observation (vital signs, \
laboratory), MedicationRequest, AllergyIntolerance, Immunization, Coverage, Claim, \
ResearchStudy and ResearchSubject map to the canonical tables (the original resource is kept \
in extra.fhir); an ExplanationOfBenefit puts its paid and allowed amounts on the Claim it \
adjudicates (eobs_merged); every other resource type is kept whole in fhir_resources (counted \
per type in unsupported). Use it when the \
user has FHIR files to load, instead of reading them and calling persist_entities. Without \
scenario_id a new scenario is created (scenario_name, else named from context). By default \
one invalid resource fails the import (the error names the file, line or bundle entry); with \
skip_invalid: true invalid resources are left out and listed. Inputs up to 32 MiB are \
imported atomically (nothing is written on failure); larger ones commit in chunks \
(commit_mode in the result): a failure keeps the committed chunks, and calling again with \
scenario_id set to that scenario completes the import without duplicates. The result stays under ~500 tokens: rows written per table, the first skipped \
resources with skipped_total, unsupported types and references without a target; then use \
get_scenario_summary.";
    type Params = ImportFhirParams;
    type Output = FhirImportView;

    async fn call(context: ToolContext, params: ImportFhirParams) -> CliResult<FhirImportView> {
        let paths: Vec<PathBuf> = params
            .paths
            .whole()
            .iter()
            .map(|p| context.user_path(p))
            .collect();
        if paths.is_empty() {
            return Err(CliError::input(
                "paths is empty: give at least one FHIR file or folder",
            ));
        }
        let options = FhirImportOptions {
            scenario: fhir_target(params.scenario_id, params.scenario_name, params.context),
            skip_invalid: params.skip_invalid.unwrap_or(false),
            provenance: params.provenance.unwrap_or_default().into(),
            commit: params.commit.unwrap_or_default(),
            ..FhirImportOptions::default()
        };
        context
            .run(move |store| {
                run_import_fhir(store, &paths, &options).map(FhirImportView::within_budget)
            })
            .await
    }
}

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
pub fn run(config: &DbConfig, args: &ImportFhirArgs) -> CliResult<Output> {
    let store = config.open()?;
    let options = FhirImportOptions {
        scenario: fhir_target(
            args.scenario.clone(),
            args.name.clone(),
            args.context.clone(),
        ),
        skip_invalid: args.skip_invalid,
        batch_size: usize::try_from(args.batch_size).unwrap_or(usize::MAX),
        provenance: args.provenance.to_provenance(),
        commit: args.commit.into(),
    };
    let report = with_spinner("importing FHIR resources", || {
        run_import_fhir(&store, &args.paths, &options)
    })?;
    let view = FhirImportView::full(report);
    Output::new(&view, text(&view))
}

/// Readable result of a FHIR import.
fn text(view: &FhirImportView) -> String {
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
    text.push_str(&match view.commit_mode {
        CommitMode::Chunks => format!(
            "\nCommitted in {} chunk{} (one transaction each).\n",
            view.chunks_committed,
            if view.chunks_committed == 1 { "" } else { "s" }
        ),
        _ => "\nCommitted as one transaction.\n".to_string(),
    });
    if view.skipped_files_total > 0 {
        text.push_str(&format!(
            "\nSkipped files (not FHIR): {}\n",
            view.skipped_files_total
        ));
        for f in view.skipped_files.iter().take(SKIPPED_IN_TEXT) {
            text.push_str(&format!("  {}  {}\n", f.path, f.reason));
        }
        let shown = view.skipped_files.len().min(SKIPPED_IN_TEXT) as u64;
        if view.skipped_files_total > shown {
            text.push_str(&format!(
                "  ... and {} more\n",
                view.skipped_files_total - shown
            ));
        }
    }
    if !view.unsupported.is_empty() {
        text.push_str(&format!(
            "\nKept whole in fhir_resources (types without a table of their own): {}\n",
            listed(&view.unsupported)
        ));
    }
    if view.eobs_merged.is_some() || view.eobs_standalone.is_some() {
        text.push_str(&format!(
            "\nExplanationOfBenefits: {} merged into their claims, {} written as claims of their own\n",
            view.eobs_merged.unwrap_or(0),
            view.eobs_standalone.unwrap_or(0)
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

/// A path as text (lossy for names that are not UTF-8, which JSON cannot carry).
fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Token budget of import_fhir's structured result (cl100k_base, compact JSON), like
/// persist_entities' result.
pub const FHIR_RESULT_TOKEN_BUDGET: usize = 500;

/// How long the first skipped resource's reason stays when nothing else is left to cut.
const FHIR_LAST_REASON_CHARS: usize = 40;

/// How many skipped resources import_fhir lists at most (the CLI lists what the service does).
pub const FHIR_SKIPPED_LISTED: usize = 10;

/// How many resource types each per-type map of import_fhir lists at most (resource types come
/// from the input, so their number is not bounded by the registry).
pub const FHIR_TYPES_LISTED: usize = 15;

/// Longest reason, id or file name of a skipped resource in import_fhir's result.
const FHIR_TEXT_CHARS: usize = 120;

/// A resource left out as invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SkippedResourceView {
    /// The file it was read from.
    pub file: String,
    /// 1-based NDJSON line (or the line of a .json file where its JSON broke).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 0-based index of its Bundle entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<usize>,
    /// Its resourceType, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// Its id (or its entry's fullUrl), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Why it was left out.
    pub reason: String,
}

impl SkippedResourceView {
    /// The whole entry, or (`compact`) the file's name only and texts cut to
    /// [`FHIR_TEXT_CHARS`]: the agent knows the paths it gave.
    fn new(skipped: healthsim_persist::fhir::SkippedResource, compact: bool) -> Self {
        let healthsim_persist::fhir::SkippedResource {
            file,
            line,
            entry,
            resource_type,
            id,
            reason,
        } = skipped;
        let max_chars = if compact { FHIR_TEXT_CHARS } else { usize::MAX };
        let cut = |text: &str| output::truncate(text, max_chars);
        let file = match file.file_name() {
            Some(name) if compact => std::path::Path::new(name),
            _ => file.as_path(),
        };
        Self {
            file: cut(&path_text(file)),
            line,
            entry,
            resource_type: resource_type.as_deref().map(cut),
            id: id.as_deref().map(cut),
            reason: cut(&reason),
        }
    }
}

/// A file of a folder skipped because it is not FHIR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SkippedFileView {
    /// The file (its name only in an agent's result).
    pub path: String,
    /// Why it is not FHIR.
    pub reason: String,
}

impl SkippedFileView {
    fn new(skipped: healthsim_persist::fhir::SkippedFile, compact: bool) -> Self {
        let max_chars = if compact { FHIR_TEXT_CHARS } else { usize::MAX };
        let path = match skipped.path.file_name() {
            Some(name) if compact => Path::new(name),
            _ => skipped.path.as_path(),
        };
        Self {
            path: output::truncate(&path_text(path), max_chars),
            reason: output::truncate(&skipped.reason, max_chars),
        }
    }
}

// Not a copy of `FhirImportReport`: the agent's result is a budgeted projection of it (capped
// lists, `truncated`, files by base name, absent fields left out), so it has a shape of its own.
/// What a FHIR import did: counts, and capped lists of what needs attention.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FhirImportView {
    /// The scenario written to.
    pub scenario_id: String,
    /// Its name.
    pub scenario_name: String,
    /// Whether this import created it.
    pub is_new_scenario: bool,
    /// How many files were read.
    pub files: usize,
    /// Resources read per resourceType (imported, unsupported and skipped alike).
    pub resources_read: BTreeMap<String, u64>,
    /// Resources whose rows were written.
    pub resources_imported: u64,
    /// Resources of types without a table of their own, per resourceType: kept whole in
    /// fhir_resources.
    pub unsupported: BTreeMap<String, u64>,
    /// Rows written per table: inserted (new ids) and updated (ids the scenario had).
    pub rows_written: BTreeMap<String, TypeCounts>,
    /// Rows that replaced a repeated resource's earlier row within the import.
    pub replaced_in_chunk: u64,
    /// The first resources left out as invalid (with skip_invalid), in input order.
    pub skipped: Vec<SkippedResourceView>,
    /// How many resources were left out as invalid.
    pub skipped_total: u64,
    /// Per reference (table.column): rows whose reference names no row of the scenario.
    pub unresolved_references: BTreeMap<String, u64>,
    /// A few of them, as 'table.column = value'.
    pub unresolved_examples: Vec<String>,
    /// 'all': one transaction (all or nothing); 'chunks': one transaction per chunk of
    /// resources (a failed or interrupted import keeps its committed chunks; re-running it
    /// into the same scenario completes it without duplicates).
    pub commit_mode: CommitMode,
    /// Transactions committed with rows (1 in 'all' mode).
    pub chunks_committed: u64,
    /// The first files of folders skipped because they are not FHIR (e.g. a metadata file);
    /// absent when there is none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_files: Vec<SkippedFileView>,
    /// How many files of folders were skipped as not FHIR; absent when none was.
    #[serde(skip_serializing_if = "is_zero")]
    pub skipped_files_total: u64,
    /// ExplanationOfBenefits put on the Claim they adjudicate (absent when none, or cut).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eobs_merged: Option<u64>,
    /// ExplanationOfBenefits without their Claim, written as claims of their own (absent when
    /// none, or cut).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eobs_standalone: Option<u64>,
    /// Some list or per-type map was cut to keep the result small; the totals
    /// (resources_imported, skipped_total, rows_written) are exact.
    pub truncated: bool,
}

impl FhirImportView {
    /// The whole report (the lists as capped by the service), for the CLI.
    pub fn full(report: healthsim_persist::fhir::FhirImportReport) -> Self {
        Self::new(report, None)
    }

    /// The report within [`FHIR_RESULT_TOKEN_BUDGET`] tokens, for an agent: at most
    /// [`FHIR_SKIPPED_LISTED`] skipped resources and [`FHIR_TYPES_LISTED`] resource types per
    /// map, then, while the compact JSON is over the budget, skipped resources, examples and
    /// the smallest entries of the per-type maps are dropped (in that order). `rows_written`
    /// is never cut: it has one entry per table the FHIR mapping writes (20 at most, about 300
    /// tokens).
    pub fn within_budget(report: healthsim_persist::fhir::FhirImportReport) -> Self {
        let mut view = Self::new(report, Some((FHIR_SKIPPED_LISTED, FHIR_TYPES_LISTED)));
        while view.tokens() > FHIR_RESULT_TOKEN_BUDGET && view.drop_one() {
            view.truncated = true;
        }
        view
    }

    /// The report, with `caps` (skipped resources, types per map) for a compact view.
    fn new(
        report: healthsim_persist::fhir::FhirImportReport,
        caps: Option<(usize, usize)>,
    ) -> Self {
        let compact = caps.is_some();
        let (max_skipped, max_types) = caps.unwrap_or((usize::MAX, usize::MAX));
        let healthsim_persist::fhir::FhirImportReport {
            scenario_id,
            scenario_name,
            is_new_scenario,
            files,
            resources_read,
            resources_imported,
            unsupported,
            rows_written,
            replaced_in_chunk,
            skipped,
            skipped_total,
            unresolved_references,
            unresolved_examples,
            commit_mode,
            chunks_committed,
            skipped_files,
            skipped_files_total,
            eobs_merged,
            eobs_standalone,
        } = report;
        let truncated = resources_read.len() > max_types
            || unsupported.len() > max_types
            || skipped.len() > max_skipped
            || (skipped.len() as u64) < skipped_total
            || skipped_files.len() > max_skipped
            || (skipped_files.len() as u64) < skipped_files_total;
        Self {
            scenario_id,
            scenario_name,
            is_new_scenario,
            files,
            resources_read: largest(resources_read, max_types),
            resources_imported,
            unsupported: largest(unsupported, max_types),
            rows_written,
            replaced_in_chunk,
            skipped: skipped
                .into_iter()
                .take(max_skipped)
                .map(|s| SkippedResourceView::new(s, compact))
                .collect(),
            skipped_total,
            unresolved_references,
            unresolved_examples,
            commit_mode,
            chunks_committed,
            skipped_files: skipped_files
                .into_iter()
                .take(max_skipped)
                .map(|f| SkippedFileView::new(f, compact))
                .collect(),
            skipped_files_total,
            eobs_merged: Some(eobs_merged).filter(|n| *n > 0),
            eobs_standalone: Some(eobs_standalone).filter(|n| *n > 0),
            truncated,
        }
    }

    /// Measured size of the compact JSON, in cl100k_base tokens.
    pub fn tokens(&self) -> usize {
        serde_json::to_string(self)
            .map(|json| healthsim_summary::count_tokens(&json))
            .unwrap_or(usize::MAX)
    }

    /// Drops the least useful listed item; false when nothing is left to drop. Most useful
    /// last: the first skipped resource, the EOB counts, the unsupported types, the unresolved
    /// references.
    fn drop_one(&mut self) -> bool {
        if self.skipped.len() > 3 {
            self.skipped.pop();
            return true;
        }
        if self.skipped_files.len() > 1 {
            self.skipped_files.pop();
            return true;
        }
        if self.unresolved_examples.pop().is_some() || drop_smallest(&mut self.resources_read) {
            return true;
        }
        if self.skipped.len() > 1 {
            self.skipped.pop();
            return true;
        }
        drop_smallest(&mut self.unresolved_references)
            || drop_smallest(&mut self.unsupported)
            || self.skipped_files.pop().is_some()
            || self.eobs_merged.take().is_some()
            || self.eobs_standalone.take().is_some()
            || self.shorten_first_reason()
            || self.skipped.pop().is_some()
    }

    /// Before the first skipped resource goes, its reason is cut to [`FHIR_LAST_REASON_CHARS`]
    /// (the file, entry and id still say where to look); false when it is that short already.
    fn shorten_first_reason(&mut self) -> bool {
        match self.skipped.first_mut() {
            Some(first) if first.reason.chars().count() > FHIR_LAST_REASON_CHARS => {
                first.reason = output::truncate(&first.reason, FHIR_LAST_REASON_CHARS);
                true
            }
            _ => false,
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Removes the entry with the smallest count; false when there is none.
fn drop_smallest(counts: &mut BTreeMap<String, u64>) -> bool {
    match smallest(counts) {
        Some(key) => counts.remove(&key).is_some(),
        None => false,
    }
}

/// The `max` entries with the largest counts (ties by name).
fn largest(counts: BTreeMap<String, u64>, max: usize) -> BTreeMap<String, u64> {
    if counts.len() <= max {
        return counts;
    }
    let mut entries: Vec<(String, u64)> = counts.into_iter().collect();
    entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    entries.truncate(max);
    entries.into_iter().collect()
}

/// The key with the smallest count (the last by name among ties).
fn smallest(counts: &BTreeMap<String, u64>) -> Option<String> {
    counts
        .iter()
        .min_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(k, _)| k.clone())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use healthsim_persist::fhir::{FhirImportReport, SkippedResource};

    use super::*;

    /// Every table the FHIR mapping writes (the table in `healthsim_persist::fhir::map`).
    const FHIR_TABLES: &[&str] = &[
        "persons",
        "patients",
        "providers",
        "facilities",
        "encounters",
        "diagnoses",
        "procedures",
        "lab_results",
        "vitals",
        "medications",
        "prescriptions",
        "allergies",
        "members",
        "claims",
        "claim_lines",
        "studies",
        "treatment_arms",
        "subjects",
        "immunizations",
        "fhir_resources",
    ];

    /// A report with `skipped` invalid resources (reasons of `reason_chars`), `types` resource
    /// types read and `unsupported` ones, into `tables`, with every registry reference
    /// unresolved when `dangling`.
    struct Shape {
        skipped: u64,
        uuid_ids: bool,
        reason_chars: usize,
        types: usize,
        unsupported: usize,
        tables: &'static [&'static str],
        dangling: bool,
        skipped_files: u64,
    }

    fn report(shape: &Shape) -> FhirImportReport {
        let references: Vec<String> = healthsim_schema::ENTITY_TYPES
            .iter()
            .flat_map(|t| {
                t.references
                    .iter()
                    .map(move |r| format!("{}.{}", t.table, r.column))
            })
            .take(if shape.dangling { usize::MAX } else { 1 })
            .collect();
        FhirImportReport {
            scenario_id: "2b7e5c1a-9d7f-4f0e-8a53-1c2d3e4f5a6b".into(),
            scenario_name: "synthea-patients-massachusetts-20250115".into(),
            is_new_scenario: true,
            files: 1_234,
            resources_read: (0..shape.types)
                .map(|i| (resource_type(i), 12_345 + i as u64))
                .collect(),
            resources_imported: 987_654,
            unsupported: (0..shape.unsupported)
                .map(|i| (resource_type(i + 18), 345 + i as u64))
                .collect(),
            rows_written: shape
                .tables
                .iter()
                .map(|t| {
                    let counts = TypeCounts {
                        inserted: 123_456,
                        updated: 7_890,
                    };
                    (t.to_string(), counts)
                })
                .collect(),
            replaced_in_chunk: 42,
            skipped: (0..shape.skipped.min(100))
                .map(|i| SkippedResource {
                    file: PathBuf::from(format!(
                        "/home/someone/synthea/output/fhir/Abe604_Runolfsdottir785_{i}.json"
                    )),
                    line: None,
                    entry: Some(i as usize + 17),
                    resource_type: Some("Observation".into()),
                    id: Some(if shape.uuid_ids {
                        format!("urn:uuid:6f1c2d3e-4a5b-6c7d-8e9f-{i:012}")
                    } else {
                        format!("obs-{i}")
                    }),
                    reason: "effectiveDateTime: not a calendar date; "
                        .repeat(10)
                        .chars()
                        .take(shape.reason_chars)
                        .collect(),
                })
                .collect(),
            skipped_total: shape.skipped,
            unresolved_examples: references
                .iter()
                .take(10)
                .map(|r| format!("{r} = {}", "x".repeat(80)))
                .collect(),
            unresolved_references: references.into_iter().map(|r| (r, 31_337)).collect(),
            commit_mode: CommitMode::Chunks,
            chunks_committed: 198,
            skipped_files: (0..shape.skipped_files.min(20))
                .map(|i| healthsim_persist::fhir::SkippedFile {
                    path: PathBuf::from(format!(
                        "/home/someone/synthea/output/metadata/run_{i}_parameters.json"
                    )),
                    reason: "no resourceType: not a FHIR resource or Bundle".into(),
                })
                .collect(),
            skipped_files_total: shape.skipped_files,
            eobs_merged: 123_456,
            eobs_standalone: 789,
        }
    }

    /// Synthea's resource types, then made-up ones.
    fn resource_type(i: usize) -> String {
        const SYNTHEA: &[&str] = &[
            "Observation",
            "Procedure",
            "Encounter",
            "Claim",
            "ExplanationOfBenefit",
            "Condition",
            "MedicationRequest",
            "Immunization",
            "DiagnosticReport",
            "CareTeam",
            "CarePlan",
            "DocumentReference",
            "Provenance",
            "Patient",
            "Organization",
            "Practitioner",
            "Location",
            "AllergyIntolerance",
            "ImagingStudy",
            "Device",
            "SupplyDelivery",
            "PractitionerRole",
            "MedicationAdministration",
            "Medication",
        ];
        SYNTHEA
            .get(i)
            .map_or_else(|| format!("CustomResourceType{i}"), |t| t.to_string())
    }

    const SMALL: Shape = Shape {
        skipped: 4,
        uuid_ids: false,
        reason_chars: 45,
        types: 12,
        unsupported: 2,
        tables: &["persons", "patients", "encounters", "diagnoses", "vitals"],
        dangling: false,
        skipped_files: 0,
    };

    #[test]
    fn fhir_result_stays_within_its_token_budget() {
        // From a small import to the worst the input can make of every list.
        let shapes = [
            SMALL,
            Shape {
                skipped: 10,
                reason_chars: 60,
                uuid_ids: true,
                types: 24,
                ..SMALL
            },
            Shape {
                skipped: 100,
                reason_chars: 400,
                types: 40,
                unsupported: 30,
                skipped_files: 25,
                ..SMALL
            },
            Shape {
                skipped: 1_000_000,
                uuid_ids: true,
                reason_chars: 400,
                types: 200,
                unsupported: 200,
                tables: FHIR_TABLES,
                dangling: true,
                skipped_files: 1_000_000,
            },
        ];
        for shape in shapes {
            let full = report(&shape);
            let view = FhirImportView::within_budget(full.clone());
            let tokens =
                healthsim_summary::count_tokens(&serde_json::to_string(&view).unwrap_or_default());
            assert!(
                tokens <= FHIR_RESULT_TOKEN_BUDGET,
                "{tokens} tokens for {} skipped, {} types",
                shape.skipped,
                shape.types
            );
            // The totals and the rows written are never cut.
            assert_eq!(view.rows_written.len(), full.rows_written.len());
            assert_eq!(view.skipped_total, shape.skipped);
            assert_eq!(view.resources_imported, full.resources_imported);
            assert!(view.skipped.len() <= FHIR_SKIPPED_LISTED);
            // The first skipped resource is the last thing to go.
            assert!(!view.skipped.is_empty() || shape.skipped == 0);
            assert_eq!(
                view.truncated,
                view.skipped.len() as u64 != shape.skipped
                    || view.resources_read.len() != shape.types
                    || view.unsupported.len() != shape.unsupported
                    || view.unresolved_examples.len() != full.unresolved_examples.len()
                    || view.unresolved_references.len() != full.unresolved_references.len()
                    || view.skipped_files.len() as u64 != full.skipped_files_total
                    || view.eobs_merged != Some(full.eobs_merged)
                    || view.eobs_standalone != Some(full.eobs_standalone)
            );
            assert_eq!(view.skipped_files_total, full.skipped_files_total);
            // The agent gets file names; the CLI whole paths.
            assert!(view.skipped_files.iter().all(|f| !f.path.contains('/')));
            let whole = FhirImportView::full(full.clone());
            assert!(whole
                .skipped_files
                .iter()
                .all(|f| f.path.starts_with("/home/")));
        }
    }

    #[test]
    fn a_small_fhir_result_is_complete() {
        let full = report(&SMALL);

        let view = FhirImportView::within_budget(full.clone());
        assert!(!view.truncated, "{view:?}");
        assert_eq!(view.skipped.len(), 4);
        assert_eq!(view.resources_read.len(), 12);
        assert_eq!(view.unsupported.len(), 2);
        assert_eq!(view.unresolved_examples.len(), 1);
        assert!(view.skipped_files.is_empty());
        // The agent gets file names; the CLI whole paths.
        assert_eq!(view.skipped[0].file, "Abe604_Runolfsdottir785_0.json");
        let whole = FhirImportView::full(full);
        assert!(whole.skipped[0].file.starts_with("/home/someone/"));
        assert!(!whole.truncated);
    }

    #[test]
    fn per_type_maps_keep_the_largest_counts() {
        let counts: BTreeMap<String, u64> = [("a", 1), ("b", 5), ("c", 3), ("d", 5)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let kept: Vec<String> = largest(counts.clone(), 2).into_keys().collect();
        assert_eq!(kept, ["b", "d"]);
        assert_eq!(smallest(&counts).as_deref(), Some("a"));
        assert_eq!(largest(counts.clone(), 10), counts);
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
