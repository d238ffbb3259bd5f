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
