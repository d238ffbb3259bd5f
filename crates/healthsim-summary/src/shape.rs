//! The shape of a summary: [`ScenarioSummary`], its compact JSON (what the budget measures) and
//! its text rendering. No database, no budget decisions: `summary` builds it, `budget` fits it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

/// A compact, token-bounded description of one scenario.
///
/// Its compact JSON (`serde_json::to_string`) is at most [`crate::BUDGET_WITHOUT_SAMPLES`]
/// cl100k_base tokens without samples and [`crate::BUDGET_WITH_SAMPLES`] with samples, whatever
/// the scenario's size: when the full content does not fit, top-N lists get shorter, statistics
/// of minor types are reduced to their counts (types trimmed away appear only in
/// `entity_counts`), major types keep their core statistics, and samples get shorter, fewer
/// fields. A long description is cut, and when a scenario has more tags than fit, the last
/// entry of `tags` reads `+N more`.
///
/// Statistics are compact strings, one per statistic: shares as percents best first
/// (`"gender": "F 52%; M 48%"`), ages as `"min–max, median m"`, top codes as
/// `"J06.9 Acute upper resp… 36%"` (share of patients with any diagnosis), totals as
/// `"billed 728449; paid 227869"`, ranges as `"2024-01-01..2024-12-31"`; plain numbers stay
/// numbers. Samples are tables: per type, the first row holds the field names and each
/// further row one sample (`null` where it has no value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "json-schema",
    schemars(
        description = "A scenario's compact summary (≤ 500 tokens without samples, ≤ 3,500 with)."
    )
)]
pub struct ScenarioSummary {
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
    /// Statistics per table, each a compact string: {"age": "0–93, median 45", "gender": "F 52%; M 48%"}.
    pub statistics: BTreeMap<String, Json>,
    /// Diverse samples per major table as rows: the first holds the field names, each next one a sample.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub samples: BTreeMap<String, Vec<Json>>,
    /// Measured size of this summary in tokens (cl100k_base).
    pub token_estimate: usize,
}

impl ScenarioSummary {
    /// The compact JSON text whose tokens [`Self::token_estimate`] counts; the same text as
    /// `serde_json::to_string(&summary)`, built without a fallible serializer.
    pub(crate) fn compact_json(&self) -> String {
        let mut object = Map::new();
        object.insert("scenario_id".into(), Json::from(self.scenario_id.as_str()));
        object.insert("name".into(), Json::from(self.name.as_str()));
        object.insert(
            "description".into(),
            self.description.as_deref().map_or(Json::Null, Json::from),
        );
        object.insert("created_at".into(), Json::from(self.created_at.as_str()));
        object.insert("updated_at".into(), Json::from(self.updated_at.as_str()));
        object.insert(
            "tags".into(),
            Json::Array(self.tags.iter().map(|t| Json::from(t.as_str())).collect()),
        );
        object.insert(
            "entity_counts".into(),
            Json::Object(
                self.entity_counts
                    .iter()
                    .map(|(k, v)| (k.clone(), Json::from(*v)))
                    .collect(),
            ),
        );
        object.insert("total_entities".into(), Json::from(self.total_entities));
        object.insert(
            "statistics".into(),
            Json::Object(
                self.statistics
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
        );
        if !self.samples.is_empty() {
            object.insert(
                "samples".into(),
                Json::Object(
                    self.samples
                        .iter()
                        .map(|(k, v)| (k.clone(), Json::Array(v.clone())))
                        .collect(),
                ),
            );
        }
        object.insert("token_estimate".into(), Json::from(self.token_estimate));
        Json::Object(object).to_string()
    }

    /// A compact human rendering for the CLI: header, one line per entity type with its count
    /// and statistics, then the samples.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "scenario {} ({})", self.name, self.scenario_id);
        if let Some(description) = &self.description {
            let _ = writeln!(out, "  {description}");
        }
        let _ = writeln!(
            out,
            "  created {}, updated {}",
            self.created_at, self.updated_at
        );
        if !self.tags.is_empty() {
            let _ = writeln!(out, "  tags: {}", self.tags.join(", "));
        }
        let _ = writeln!(out, "entities: {} total", self.total_entities);
        let width = self
            .entity_counts
            .keys()
            .map(String::len)
            .max()
            .unwrap_or(0);
        for (table, count) in &self.entity_counts {
            let mut line = format!("  {table:<width$} {count:>9}");
            if let Some(Json::Object(stats)) = self.statistics.get(table) {
                let parts: Vec<String> = stats
                    .iter()
                    .map(|(key, value)| format!("{key}: {}", inline(value)))
                    .collect();
                if !parts.is_empty() {
                    line.push_str("  ");
                    // Lists inside a statistic are joined by "; ": statistics by " | ".
                    line.push_str(&parts.join(" | "));
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        if !self.samples.is_empty() {
            let _ = writeln!(out, "samples:");
            for (table, rows) in &self.samples {
                let Some((Json::Array(header), samples)) = rows.split_first() else {
                    continue;
                };
                for sample in samples.iter().filter_map(Json::as_array) {
                    let fields: Vec<String> = header
                        .iter()
                        .zip(sample)
                        .filter(|(_, value)| !value.is_null())
                        .map(|(name, value)| format!("{} {}", inline(name), inline(value)))
                        .collect();
                    let _ = writeln!(out, "  {table}: {}", fields.join(", "));
                }
            }
        }
        let _ = write!(out, "summary size: {} tokens", self.token_estimate);
        out
    }
}

/// One-line rendering of a statistic or sample: `k v, k v`, ranges as `a..b`.
fn inline(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Array(items) if items.len() == 2 && items.iter().all(is_scalar) => {
            format!("{}..{}", inline(&items[0]), inline(&items[1]))
        }
        Json::Array(items) => items
            .iter()
            .map(|item| match item {
                Json::Object(fields) => fields.values().map(inline).collect::<Vec<_>>().join(" "),
                other => inline(other),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Json::Object(fields) => fields
            .iter()
            .map(|(k, v)| format!("{k} {}", inline(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

fn is_scalar(value: &Json) -> bool {
    !matches!(value, Json::Array(_) | Json::Object(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_inline(value: Json, expected: &str) {
        assert_eq!(inline(&value), expected, "inline({value})");
    }

    #[test]
    fn renders_statistics_inline() {
        check_inline(json!("x"), "x");
        check_inline(json!(0.5), "0.5");
        check_inline(
            json!(["2024-01-01", "2024-12-31"]),
            "2024-01-01..2024-12-31",
        );
        check_inline(json!({"female": 0.5, "male": 0.5}), "female 0.5, male 0.5");
        check_inline(
            json!({"min": 1, "median": 2, "max": 3}),
            "min 1, median 2, max 3",
        );
        check_inline(
            json!([{"code": "E11.9", "patient_share": 0.5}, {"code": "I10", "patient_share": 0.25}]),
            "E11.9 0.5, I10 0.25",
        );
        check_inline(json!([1, 2, 3]), "1, 2, 3");
    }
}
