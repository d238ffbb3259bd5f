//! The scenario summary: metadata, counts, statistics and samples, within a token budget.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use duckdb::Connection;
use healthsim_schema::value::to_json;
use healthsim_schema::{by_table, EntityType, ENTITY_TYPES};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::budget::{self, Parts};
use crate::samples::{self, SampleStrategy};
use crate::sql::query_rows;
use crate::stats;
use crate::text::truncate;
use crate::{Error, DEFAULT_SAMPLES_PER_TYPE};

/// Tags listed in a summary before the rest is reported as a count.
const MAX_TAGS: usize = 10;
/// Longest tag in a summary.
const MAX_TAG_CHARS: usize = 32;
/// Longest description in a summary.
pub(crate) const MAX_DESCRIPTION_CHARS: usize = 200;
/// Longest name in a summary (names made by healthsim-naming are far shorter).
pub(crate) const MAX_NAME_CHARS: usize = 100;

/// What a summary includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryOptions {
    /// Samples per major entity type present; 0 leaves samples out (and the smaller
    /// budget, [`crate::BUDGET_WITHOUT_SAMPLES`], applies).
    pub samples_per_type: usize,
    /// The date ages are computed at (fixed in tests, today in use).
    pub as_of: NaiveDate,
}

impl Default for SummaryOptions {
    /// [`DEFAULT_SAMPLES_PER_TYPE`] samples, ages as of today (UTC).
    fn default() -> Self {
        Self {
            samples_per_type: DEFAULT_SAMPLES_PER_TYPE,
            as_of: chrono::Utc::now().date_naive(),
        }
    }
}

impl SummaryOptions {
    /// No samples, ages as of today (UTC): the summary a persist call returns.
    pub fn without_samples() -> Self {
        Self {
            samples_per_type: 0,
            ..Self::default()
        }
    }
}

/// A compact, token-bounded description of one scenario.
///
/// Its compact JSON (`serde_json::to_string`) is at most [`crate::BUDGET_WITHOUT_SAMPLES`]
/// cl100k_base tokens without samples and [`crate::BUDGET_WITH_SAMPLES`] with samples, whatever
/// the scenario's size: when the full content does not fit, top-N lists get shorter, statistics
/// of minor types are reduced to their counts (types trimmed away appear only in
/// `entity_counts`), and samples get fewer, shorter fields. A long description is cut, and
/// when a scenario has more tags than fit, the last entry of `tags` reads `+N more`.
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
    /// Statistics per table (age and gender distributions, top codes, amounts, date ranges).
    pub statistics: BTreeMap<String, Json>,
    /// A few diverse samples per major table (absent without samples).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub samples: BTreeMap<String, Vec<Json>>,
    /// Measured size of this summary in tokens (cl100k_base).
    pub token_estimate: usize,
}

/// Builds the summary of a scenario. Read-only: it never writes to the database.
///
/// Counts come from the scenario's manifest (`scenario_entities`, one query); statistics are
/// SQL aggregates per type present; samples are [`SampleStrategy::Diverse`] for the registry's
/// major types. Errors: [`Error::ScenarioNotFound`], [`Error::Statistic`] (with the type and
/// statistic that failed), [`Error::Database`].
pub fn scenario_summary(
    conn: &Connection,
    scenario_id: &str,
    options: &SummaryOptions,
) -> Result<ScenarioSummary, Error> {
    scenario_summary_within(conn, scenario_id, options, crate::BUDGET_WITHOUT_SAMPLES)
}

/// [`scenario_summary`] whose part without samples must fit `statistics_budget` tokens instead
/// of [`crate::BUDGET_WITHOUT_SAMPLES`] (clamped to at most that): for callers that embed the
/// summary in a larger answer with its own budget, such as a persist result.
pub fn scenario_summary_within(
    conn: &Connection,
    scenario_id: &str,
    options: &SummaryOptions,
    statistics_budget: usize,
) -> Result<ScenarioSummary, Error> {
    let meta = read_metadata(conn, scenario_id)?;
    let counts = read_counts(conn, scenario_id)?;
    let statistics = counts
        .iter()
        .map(|(t, n)| stats::compute(conn, t, *n, scenario_id, options.as_of))
        .collect::<Result<Vec<_>, _>>()?;
    let mut sampled = Vec::new();
    if options.samples_per_type > 0 {
        for (t, n) in counts.iter().filter(|(t, _)| t.major) {
            let rows = samples::fetch(
                conn,
                t,
                scenario_id,
                options.samples_per_type,
                SampleStrategy::Diverse,
            )?;
            sampled.push(budget::TypeSamples {
                entity_type: t,
                count: *n,
                samples: rows,
            });
        }
    }
    Ok(budget::fit(&Parts {
        meta,
        counts,
        statistics,
        samples: sampled,
        samples_per_type: options.samples_per_type,
        statistics_budget: statistics_budget.min(crate::BUDGET_WITHOUT_SAMPLES),
    }))
}

/// The scenario's own row and tags.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Metadata {
    pub(crate) scenario_id: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    /// The first tags (alphabetically), each truncated.
    pub(crate) tags: Vec<String>,
    /// How many tags there are in all.
    pub(crate) tag_count: usize,
}

/// [`Error::ScenarioNotFound`] unless a scenario has this id.
pub(crate) fn ensure_scenario(conn: &Connection, scenario_id: &str) -> Result<(), Error> {
    let found: i64 = conn
        .query_row(
            "SELECT count(*) FROM scenarios WHERE scenario_id = ?",
            [scenario_id],
            |r| r.get(0),
        )
        .map_err(|source| Error::Database {
            context: format!("looking up scenario '{scenario_id}'"),
            source,
        })?;
    if found == 0 {
        return Err(Error::ScenarioNotFound {
            scenario_id: scenario_id.to_string(),
        });
    }
    Ok(())
}

fn read_metadata(conn: &Connection, scenario_id: &str) -> Result<Metadata, Error> {
    let database = |what: &str| {
        let context = format!("reading {what} of scenario '{scenario_id}'");
        move |source| Error::Database { context, source }
    };
    let rows = query_rows(
        conn,
        "SELECT name, description, created_at, updated_at FROM scenarios WHERE scenario_id = ?",
        [scenario_id],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, duckdb::types::Value>(2)?,
                r.get::<_, duckdb::types::Value>(3)?,
            ))
        },
    )
    .map_err(database("the record"))?;
    let Some((name, description, created_at, updated_at)) = rows.into_iter().next() else {
        return Err(Error::ScenarioNotFound {
            scenario_id: scenario_id.to_string(),
        });
    };
    let tags = query_rows(
        conn,
        "SELECT tag, count(*) OVER () FROM scenario_tags WHERE scenario_id = ? ORDER BY tag LIMIT ?",
        duckdb::params![scenario_id, MAX_TAGS as i64],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )
    .map_err(database("the tags"))?;
    let tag_count = tags
        .first()
        .map_or(0, |(_, n)| usize::try_from(*n).unwrap_or(usize::MAX));
    Ok(Metadata {
        scenario_id: scenario_id.to_string(),
        name,
        description,
        created_at: iso(&created_at),
        updated_at: iso(&updated_at),
        tags: tags.into_iter().map(|(tag, _)| tag).collect(),
        tag_count,
    })
}

fn iso(value: &duckdb::types::Value) -> String {
    match to_json(value) {
        Json::String(s) => s,
        other => other.to_string(),
    }
}

/// Non-zero counts of the manifest, in registry order (one query for every type).
fn read_counts(
    conn: &Connection,
    scenario_id: &str,
) -> Result<Vec<(&'static EntityType, u64)>, Error> {
    let rows = query_rows(
        conn,
        "SELECT entity_type, entity_count FROM scenario_entities \
         WHERE scenario_id = ? AND entity_count > 0",
        [scenario_id],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )
    .map_err(|source| Error::Database {
        context: format!("reading the entity counts of scenario '{scenario_id}'"),
        source,
    })?;
    let mut counts: Vec<(&'static EntityType, u64)> = rows
        .into_iter()
        .filter_map(|(table, n)| Some((by_table(&table)?, u64::try_from(n).ok()?)))
        .collect();
    counts.sort_by_key(|(t, _)| registry_position(t));
    Ok(counts)
}

/// Position of a type in the registry (its documentation order).
pub(crate) fn registry_position(t: &EntityType) -> usize {
    ENTITY_TYPES
        .iter()
        .position(|e| e.table == t.table)
        .unwrap_or(usize::MAX)
}

impl Metadata {
    /// Tags as listed in a summary: at most `max_tags`, then `+N more`.
    pub(crate) fn summary_tags(&self, max_tags: usize) -> Vec<String> {
        let mut tags: Vec<String> = self
            .tags
            .iter()
            .take(max_tags)
            .map(|t| truncate(t, MAX_TAG_CHARS))
            .collect();
        let shown = tags.len();
        if self.tag_count > shown {
            tags.push(format!("+{} more", self.tag_count - shown));
        }
        tags
    }

    /// Name and description cut to the given numbers of characters.
    pub(crate) fn name_and_description(
        &self,
        name_chars: usize,
        description_chars: usize,
    ) -> (String, Option<String>) {
        (
            truncate(&self.name, name_chars),
            self.description
                .as_deref()
                .map(|d| truncate(d, description_chars)),
        )
    }
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
                    line.push_str(&parts.join("; "));
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        if !self.samples.is_empty() {
            let _ = writeln!(out, "samples:");
            for (table, samples) in &self.samples {
                for sample in samples {
                    let _ = writeln!(out, "  {table}: {}", inline(sample));
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

    fn meta(tags: &[&str], tag_count: usize) -> Metadata {
        Metadata {
            scenario_id: "s".into(),
            name: "n".into(),
            description: None,
            created_at: String::new(),
            updated_at: String::new(),
            tags: tags.iter().map(|t| (*t).to_string()).collect(),
            tag_count,
        }
    }

    fn check_tags(tags: &[&str], tag_count: usize, max: usize, expected: &[&str]) {
        assert_eq!(meta(tags, tag_count).summary_tags(max), expected);
    }

    #[test]
    fn lists_tags_with_a_remainder() {
        check_tags(&[], 0, 10, &[]);
        check_tags(&["a", "b"], 2, 10, &["a", "b"]);
        check_tags(&["a", "b"], 12, 10, &["a", "b", "+10 more"]);
        check_tags(&["a", "b", "c"], 3, 1, &["a", "+2 more"]);
    }
}
