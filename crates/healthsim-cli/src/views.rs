//! The shapes of command and tool results, as scripts (`--json`) and agents (MCP structured
//! output) see them.
//!
//! They serialize exactly like the service types of `healthsim-persist` and `healthsim-summary`
//! (same field names, same skipping), and add a JSON Schema (`schemars`) for the MCP tools'
//! `outputSchema`. Each is built from its service type by exhaustive destructuring, so a field
//! added to a service type fails to compile here instead of silently going missing.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value as Json};

/// A scenario's compact summary (≤ 500 tokens without samples, ≤ 3,500 with).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SummaryView {
    /// Scenario id.
    pub scenario_id: String,
    /// Scenario name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// Creation time, ISO 8601 UTC.
    pub created_at: String,
    /// Last update time, ISO 8601 UTC.
    pub updated_at: String,
    /// Tags, sorted.
    pub tags: Vec<String>,
    /// Entity count per table; only types with entities.
    pub entity_counts: BTreeMap<String, u64>,
    /// Sum of entity_counts.
    pub total_entities: u64,
    /// Statistics per table (age and gender distributions, top codes, amounts, date ranges).
    pub statistics: BTreeMap<String, Json>,
    /// A few diverse samples per major table (absent without samples).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub samples: BTreeMap<String, Vec<Json>>,
    /// Measured size of this summary in tokens (cl100k_base).
    pub token_estimate: usize,
}

impl From<healthsim_summary::ScenarioSummary> for SummaryView {
    fn from(summary: healthsim_summary::ScenarioSummary) -> Self {
        let healthsim_summary::ScenarioSummary {
            scenario_id,
            name,
            description,
            created_at,
            updated_at,
            tags,
            entity_counts,
            total_entities,
            statistics,
            samples,
            token_estimate,
        } = summary;
        Self {
            scenario_id,
            name,
            description,
            created_at,
            updated_at,
            tags,
            entity_counts,
            total_entities,
            statistics,
            samples,
            token_estimate,
        }
    }
}

/// Inserted and updated entities of one type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TypeCountsView {
    /// New ids in the scenario.
    pub inserted: u64,
    /// Ids the scenario already had (their rows were replaced).
    pub updated: u64,
}

impl From<healthsim_persist::TypeCounts> for TypeCountsView {
    fn from(counts: healthsim_persist::TypeCounts) -> Self {
        let healthsim_persist::TypeCounts { inserted, updated } = counts;
        Self { inserted, updated }
    }
}

/// What one persist call did: counts, a few ids and the summary without samples (≤ 500 tokens).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PersistView {
    /// The scenario written to: pass it as scenario_id to the next batch.
    pub scenario_id: String,
    /// Its name.
    pub scenario_name: String,
    /// Whether this call created the scenario.
    pub is_new_scenario: bool,
    /// Inserted / updated per table.
    pub counts: BTreeMap<String, TypeCountsView>,
    /// Persisted ids in input order, at most 50.
    pub entity_ids: Vec<String>,
    /// Whether entity_ids lists fewer ids than were persisted.
    pub ids_truncated: bool,
    /// Entities persisted by this call (inserted + updated).
    pub total_persisted: u64,
    /// The scenario's summary after the call, without samples.
    pub summary: SummaryView,
}

impl From<healthsim_persist::PersistResult> for PersistView {
    fn from(result: healthsim_persist::PersistResult) -> Self {
        let healthsim_persist::PersistResult {
            scenario_id,
            scenario_name,
            is_new_scenario,
            counts,
            entity_ids,
            ids_truncated,
            total_persisted,
            summary,
        } = result;
        Self {
            scenario_id,
            scenario_name,
            is_new_scenario,
            counts: counts.into_iter().map(|(k, v)| (k, v.into())).collect(),
            entity_ids,
            ids_truncated,
            total_persisted,
            summary: summary.into(),
        }
    }
}

/// One scenario in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ScenarioInfoView {
    /// Id.
    pub scenario_id: String,
    /// Name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// Creation time, ISO 8601 UTC.
    pub created_at: String,
    /// Last update, ISO 8601 UTC.
    pub updated_at: String,
    /// Tags, alphabetical.
    pub tags: Vec<String>,
    /// Entities over all types.
    pub entity_count: u64,
}

impl From<healthsim_persist::ScenarioInfo> for ScenarioInfoView {
    fn from(info: healthsim_persist::ScenarioInfo) -> Self {
        let healthsim_persist::ScenarioInfo {
            scenario_id,
            name,
            description,
            created_at,
            updated_at,
            tags,
            entity_count,
        } = info;
        Self {
            scenario_id,
            name,
            description,
            created_at,
            updated_at,
            tags,
            entity_count,
        }
    }
}

/// A listing of scenarios.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ScenarioListView {
    /// The scenarios, in the requested order.
    pub scenarios: Vec<ScenarioInfoView>,
    /// How many are listed.
    pub count: usize,
}

/// A renamed scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RenameView {
    /// The id (unchanged).
    pub scenario_id: String,
    /// The new name (sanitized, unique).
    pub name: String,
    /// The name before.
    pub previous_name: String,
}

/// What a delete removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DeleteView {
    /// Id of the deleted scenario.
    pub scenario_id: String,
    /// Its name.
    pub name: String,
    /// Rows removed per table.
    pub deleted_counts: BTreeMap<String, u64>,
    /// How many tags it had.
    pub tags_removed: u64,
}

impl From<healthsim_persist::DeleteResult> for DeleteView {
    fn from(result: healthsim_persist::DeleteResult) -> Self {
        let healthsim_persist::DeleteResult {
            scenario_id,
            name,
            deleted_counts,
            tags_removed,
        } = result;
        Self {
            scenario_id,
            name,
            deleted_counts,
            tags_removed,
        }
    }
}

/// A scenario's tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TagsView {
    /// Scenario id.
    pub scenario_id: String,
    /// Scenario name.
    pub name: String,
    /// Its tags, alphabetical.
    pub tags: Vec<String>,
}

/// Tags of one scenario, or every tag in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TagListView {
    /// The scenario's id (absent when listing every tag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario_id: Option<String>,
    /// The scenario's name (absent when listing every tag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The scenario's tags (alphabetical), or every tag in use (most used first).
    pub tags: Vec<String>,
    /// Scenarios per tag (only when listing every tag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario_counts: Option<BTreeMap<String, u64>>,
}

impl TagListView {
    /// Every tag with its count, from the service's listing.
    pub fn all(tags: Vec<healthsim_persist::TagCount>) -> Self {
        let mut names = Vec::with_capacity(tags.len());
        let mut counts = BTreeMap::new();
        for healthsim_persist::TagCount { tag, count } in tags {
            names.push(tag.clone());
            counts.insert(tag, count);
        }
        Self {
            scenario_id: None,
            name: None,
            tags: names,
            scenario_counts: Some(counts),
        }
    }
}

/// Sample entities of one type.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SamplesView {
    /// Scenario id.
    pub scenario_id: String,
    /// Scenario name.
    pub scenario_name: String,
    /// Table of the samples.
    pub entity_type: String,
    /// How they were chosen.
    pub strategy: String,
    /// How many were returned.
    pub count: usize,
    /// The entities.
    pub samples: Vec<Json>,
}

/// One page of query results (≤ 2,000 tokens).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct QueryView {
    /// Result column names in order.
    pub columns: Vec<String>,
    /// The page's rows, each a column -> value object.
    pub results: Vec<Map<String, Json>>,
    /// Rows in this page.
    pub returned: usize,
    /// Rows of the whole result (exact).
    pub total_count: u64,
    /// More rows follow: query again with offset = offset + returned.
    pub has_more: bool,
    /// The page size asked for.
    pub limit: usize,
    /// The offset of this page.
    pub offset: usize,
    /// Something was cut to fit the page budget (long cells end in '…', or fewer rows than limit).
    pub truncated: bool,
}

impl From<healthsim_persist::query::QueryResult> for QueryView {
    fn from(result: healthsim_persist::query::QueryResult) -> Self {
        let healthsim_persist::query::QueryResult {
            columns,
            results,
            returned,
            total_count,
            has_more,
            limit,
            offset,
            truncated,
        } = result;
        Self {
            columns,
            results,
            returned,
            total_count,
            has_more,
            limit,
            offset,
            truncated,
        }
    }
}

// ------------------------------------------------------------------------------------ transfer

/// A scenario's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ScenarioRefView {
    /// Id.
    pub scenario_id: String,
    /// Name.
    pub name: String,
}

impl From<healthsim_persist::ScenarioRef> for ScenarioRefView {
    fn from(scenario: healthsim_persist::ScenarioRef) -> Self {
        let healthsim_persist::ScenarioRef { scenario_id, name } = scenario;
        Self { scenario_id, name }
    }
}

/// A path as text (lossy for names that are not UTF-8, which JSON cannot carry).
fn path_text(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

/// What a clone made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CloneView {
    /// The new scenario's id: use it for changes that should touch only the copy.
    pub scenario_id: String,
    /// Its name.
    pub name: String,
    /// The scenario it was copied from (unchanged).
    pub source: ScenarioRefView,
    /// Entities copied per table.
    pub counts: BTreeMap<String, u64>,
    /// Entities copied over all tables.
    pub total_entities: u64,
}

impl From<healthsim_persist::CloneResult> for CloneView {
    fn from(result: healthsim_persist::CloneResult) -> Self {
        let healthsim_persist::CloneResult {
            scenario_id,
            name,
            source,
            counts,
            total_entities,
        } = result;
        Self {
            scenario_id,
            name,
            source: source.into(),
            counts,
            total_entities,
        }
    }
}

/// What a merge does with an id that two sources hold in one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnConflictView {
    /// The first source's entity was kept.
    Skip,
    /// The last source's entity was kept.
    Overwrite,
    /// Both were kept; the later one got a new id.
    Rename,
}

impl From<healthsim_persist::OnConflict> for OnConflictView {
    fn from(value: healthsim_persist::OnConflict) -> Self {
        match value {
            healthsim_persist::OnConflict::Skip => Self::Skip,
            healthsim_persist::OnConflict::Overwrite => Self::Overwrite,
            healthsim_persist::OnConflict::Rename => Self::Rename,
        }
    }
}

/// What a merge made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MergeView {
    /// The new (merged) scenario's id.
    pub scenario_id: String,
    /// Its name.
    pub name: String,
    /// The sources, in the order given (unchanged).
    pub sources: Vec<ScenarioRefView>,
    /// The strategy applied to conflicts.
    pub on_conflict: OnConflictView,
    /// Entities in the merged scenario per table.
    pub counts: BTreeMap<String, u64>,
    /// Conflicts per table (only tables with conflicts): entities skipped, replaced or renamed.
    pub conflicts: BTreeMap<String, u64>,
    /// Entities in the merged scenario.
    pub total_entities: u64,
    /// Conflicts over all tables.
    pub total_conflicts: u64,
}

impl From<healthsim_persist::MergeResult> for MergeView {
    fn from(result: healthsim_persist::MergeResult) -> Self {
        let healthsim_persist::MergeResult {
            scenario_id,
            name,
            sources,
            on_conflict,
            counts,
            conflicts,
            total_entities,
            total_conflicts,
        } = result;
        Self {
            scenario_id,
            name,
            sources: sources.into_iter().map(Into::into).collect(),
            on_conflict: on_conflict.into(),
            counts,
            conflicts,
            total_entities,
            total_conflicts,
        }
    }
}

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormatView {
    /// One JSON document.
    Json,
    /// A folder with one CSV file per table.
    Csv,
    /// A folder with one Parquet file per table.
    Parquet,
}

impl From<healthsim_persist::ExportFormat> for ExportFormatView {
    fn from(value: healthsim_persist::ExportFormat) -> Self {
        match value {
            healthsim_persist::ExportFormat::Json => Self::Json,
            healthsim_persist::ExportFormat::Csv => Self::Csv,
            healthsim_persist::ExportFormat::Parquet => Self::Parquet,
        }
    }
}

impl ExportFormatView {
    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
            Self::Parquet => "parquet",
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ExportView {
    /// The exported scenario's id.
    pub scenario_id: String,
    /// Its name.
    pub name: String,
    /// The format written.
    pub format: ExportFormatView,
    /// The JSON file or the folder written, on the user's machine.
    pub path: String,
    /// The files inside the folder (csv, parquet); empty for json.
    pub files: Vec<String>,
    /// Entities exported per table.
    pub counts: BTreeMap<String, u64>,
    /// Entities exported over all tables.
    pub total_entities: u64,
    /// Size of what was written, in bytes.
    pub bytes_written: u64,
}

impl From<healthsim_persist::ExportResult> for ExportView {
    fn from(result: healthsim_persist::ExportResult) -> Self {
        let healthsim_persist::ExportResult {
            scenario_id,
            name,
            format,
            path,
            files,
            counts,
            total_entities,
            bytes_written,
        } = result;
        Self {
            scenario_id,
            name,
            format: format.into(),
            path: path_text(&path),
            files,
            counts,
            total_entities,
            bytes_written,
        }
    }
}

/// What an import made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ImportView {
    /// The new scenario's id.
    pub scenario_id: String,
    /// Its name.
    pub name: String,
    /// The file or folder imported.
    pub path: String,
    /// Its format.
    pub format: ExportFormatView,
    /// Entities imported per table.
    pub counts: BTreeMap<String, u64>,
    /// Entities imported over all tables.
    pub total_entities: u64,
}

impl From<healthsim_persist::ImportResult> for ImportView {
    fn from(result: healthsim_persist::ImportResult) -> Self {
        let healthsim_persist::ImportResult {
            scenario_id,
            name,
            path,
            format,
            counts,
            total_entities,
        } = result;
        Self {
            scenario_id,
            name,
            path: path_text(&path),
            format: format.into(),
            counts,
            total_entities,
        }
    }
}

// ------------------------------------------------------------------------------------ fhir

/// Token budget of import_fhir's structured result (cl100k_base, compact JSON), like
/// persist_entities' result.
pub const FHIR_RESULT_TOKEN_BUDGET: usize = 500;

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
        let cut = |text: &str| crate::output::truncate(text, max_chars);
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
    /// Resources of types without a table, per resourceType (not errors).
    pub unsupported: BTreeMap<String, u64>,
    /// Rows written per table: inserted (new ids) and updated (ids the scenario had).
    pub rows_written: BTreeMap<String, TypeCountsView>,
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
    /// is never cut: it has one entry per table the FHIR mapping writes (18 at most, about 270
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
        } = report;
        let truncated = resources_read.len() > max_types
            || unsupported.len() > max_types
            || skipped.len() > max_skipped
            || (skipped.len() as u64) < skipped_total;
        Self {
            scenario_id,
            scenario_name,
            is_new_scenario,
            files,
            resources_read: largest(resources_read, max_types),
            resources_imported,
            unsupported: largest(unsupported, max_types),
            rows_written: rows_written
                .into_iter()
                .map(|(k, v)| (k, v.into()))
                .collect(),
            replaced_in_chunk,
            skipped: skipped
                .into_iter()
                .take(max_skipped)
                .map(|s| SkippedResourceView::new(s, compact))
                .collect(),
            skipped_total,
            unresolved_references,
            unresolved_examples,
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
    /// last: the first skipped resource, the unsupported types, the unresolved references.
    fn drop_one(&mut self) -> bool {
        if self.skipped.len() > 3 {
            self.skipped.pop();
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
            || self.skipped.pop().is_some()
    }
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
    use healthsim_persist::TypeCounts;

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
            );
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
}
