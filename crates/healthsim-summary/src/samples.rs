//! Samples of one entity type: diverse, random or recent, chosen inside DuckDB by a `LIMIT`ed
//! query (rows are never all loaded), rendered compactly for the agent.
//!
//! A sample is a JSON object of the entity's domain columns plus the fields of its `extra`
//! JSON; NULL fields, `scenario_id`, provenance and `created_at` are left out, and long text is
//! truncated ([`SAMPLE_TEXT_CHARS`] characters and an ellipsis).

use std::str::FromStr;

use duckdb::Connection;
use healthsim_schema::value::{json_column, to_json};
use healthsim_schema::{ColumnKind, EntityType, EXTRA_COLUMN};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::sql::{query_rows, row_values, scoped_from};
use crate::summary::ensure_scenario;
use crate::text::compact_value;
use crate::Error;

/// Longest text value in a sample before it is cut (with an ellipsis).
pub const SAMPLE_TEXT_CHARS: usize = 60;

/// The system column that orders "recent" samples.
const CREATED_AT: &str = "created_at";

/// How samples are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SampleStrategy {
    /// Spread over the data: stratified by the type's category column (largest categories
    /// first, round robin), evenly spaced over the primary-key order inside each category.
    /// Deterministic.
    Diverse,
    /// Uniformly random rows; differs from call to call.
    Random,
    /// Most recently created first, then latest by the type's date column.
    Recent,
}

impl SampleStrategy {
    /// Every strategy, in documentation order.
    pub const ALL: [SampleStrategy; 3] = [
        SampleStrategy::Diverse,
        SampleStrategy::Random,
        SampleStrategy::Recent,
    ];

    /// The lowercase name, as accepted by [`FromStr`] and used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            SampleStrategy::Diverse => "diverse",
            SampleStrategy::Random => "random",
            SampleStrategy::Recent => "recent",
        }
    }
}

impl std::fmt::Display for SampleStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SampleStrategy {
    type Err = Error;

    /// Case-insensitive name; anything else is [`Error::UnknownSampleStrategy`] listing the valid ones.
    fn from_str(given: &str) -> Result<Self, Self::Err> {
        let wanted = given.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|s| s.name() == wanted)
            .ok_or_else(|| Error::UnknownSampleStrategy {
                given: given.to_string(),
                valid: Self::ALL.iter().map(|s| s.name()).collect(),
            })
    }
}

/// `count` samples of one entity type of a scenario, chosen by `strategy`.
///
/// `entity_type` is any table name, singular form or alias of the registry. Fewer samples come
/// back when the scenario has fewer entities of the type. Errors: [`Error::UnknownEntityType`],
/// [`Error::ScenarioNotFound`], [`Error::Database`].
pub fn entity_samples(
    conn: &Connection,
    scenario_id: &str,
    entity_type: &str,
    count: usize,
    strategy: SampleStrategy,
) -> Result<Vec<Json>, Error> {
    let t = healthsim_schema::entity_type(entity_type)?;
    ensure_scenario(conn, scenario_id)?;
    let samples = fetch(conn, t, scenario_id, count, strategy)?;
    Ok(samples
        .iter()
        .map(|s| s.render(SAMPLE_TEXT_CHARS, usize::MAX))
        .collect())
}

/// One sampled entity before compaction: its non-NULL fields in output order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawSample {
    fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq)]
struct Field {
    name: String,
    value: Json,
    /// Lower is more important: kept first when fields are capped.
    rank: (u8, usize),
}

impl RawSample {
    /// The sample as a JSON object: the `max_fields` most important fields (primary key,
    /// category, date, required columns, other columns, extra fields) in their natural order,
    /// text cut to `max_chars`.
    pub(crate) fn render(&self, max_chars: usize, max_fields: usize) -> Json {
        let mut by_importance: Vec<&Field> = self.fields.iter().collect();
        by_importance.sort_by_key(|f| f.rank);
        let cutoff = by_importance.get(max_fields).map(|f| f.rank);
        Json::Object(
            self.fields
                .iter()
                .filter(|f| cutoff.is_none_or(|cut| f.rank < cut))
                .map(|f| (f.name.clone(), compact_value(&f.value, max_chars)))
                .collect(),
        )
    }
}

/// Selects `count` rows with `strategy` and turns them into raw samples.
pub(crate) fn fetch(
    conn: &Connection,
    t: &'static EntityType,
    scenario_id: &str,
    count: usize,
    strategy: SampleStrategy,
) -> Result<Vec<RawSample>, Error> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let limit = i64::try_from(count).unwrap_or(i64::MAX);
    let select = select_list(t);
    let from = scoped_from(t.table);
    let pk = t.primary_key;
    let rows = match strategy {
        SampleStrategy::Diverse => {
            let category = t.category_column.map_or("NULL".to_string(), str::to_string);
            let names = output_names(t);
            let sql = format!(
                "WITH base AS (\
                   SELECT {select}, CAST({category} AS VARCHAR) AS __cat, {pk} AS __pk {from}), \
                 numbered AS (\
                   SELECT *, row_number() OVER (PARTITION BY __cat ORDER BY __pk) - 1 AS __k, \
                          count(*) OVER (PARTITION BY __cat) AS __m FROM base), \
                 ranked AS (\
                   SELECT *, dense_rank() OVER (ORDER BY __m DESC, __cat NULLS LAST) - 1 AS __r, \
                          least(CAST(? AS BIGINT), count(*) OVER ()) AS __n \
                   FROM numbered), \
                 quota AS (\
                   SELECT *, __n // (max(__r) OVER () + 1) \
                          + CASE WHEN __r < __n % (max(__r) OVER () + 1) THEN 1 ELSE 0 END AS __q \
                   FROM ranked), \
                 picked AS (\
                   SELECT *, CASE WHEN __q >= __m THEN 0 \
                                  WHEN __q > 0 AND __k = ((2 * ((__k * __q) // __m) + 1) * __m) // (2 * __q) THEN 0 \
                                  ELSE 1 END AS __fill FROM quota) \
                 SELECT {names} FROM picked \
                 ORDER BY __fill, CASE WHEN __fill = 0 THEN __r ELSE 0 END, \
                          CASE WHEN __fill = 0 THEN __k ELSE hash(__pk) END, __pk \
                 LIMIT ?"
            );
            run(conn, t, &sql, duckdb::params![scenario_id, limit, limit])
        }
        SampleStrategy::Random => {
            let sql = format!("SELECT {select} {from} ORDER BY random() LIMIT ?");
            run(conn, t, &sql, duckdb::params![scenario_id, limit])
        }
        SampleStrategy::Recent => {
            let then_date = t
                .date_column
                .map_or(String::new(), |d| format!("{d} DESC NULLS LAST, "));
            let sql = format!(
                "SELECT {select} {from} ORDER BY {CREATED_AT} DESC, {then_date}{pk} DESC LIMIT ?"
            );
            run(conn, t, &sql, duckdb::params![scenario_id, limit])
        }
    };
    rows.map_err(|source| Error::Database {
        context: format!("sampling {} ({strategy})", t.table),
        source,
    })
}

/// Domain columns (JSON ones as text) and `extra` as text.
fn select_list(t: &'static EntityType) -> String {
    t.columns()
        .map(|c| match c.kind {
            ColumnKind::Json => format!("CAST({0} AS VARCHAR) AS {0}", c.name),
            _ => c.name.to_string(),
        })
        .chain(std::iter::once(format!(
            "CAST({EXTRA_COLUMN} AS VARCHAR) AS {EXTRA_COLUMN}"
        )))
        .collect::<Vec<_>>()
        .join(", ")
}

fn output_names(t: &'static EntityType) -> String {
    t.columns()
        .map(|c| c.name)
        .chain(std::iter::once(EXTRA_COLUMN))
        .collect::<Vec<_>>()
        .join(", ")
}

fn run<P: duckdb::Params>(
    conn: &Connection,
    t: &'static EntityType,
    sql: &str,
    params: P,
) -> duckdb::Result<Vec<RawSample>> {
    let width = t.columns().count() + 1;
    query_rows(conn, sql, params, |row| {
        let values = row_values(row, width)?;
        Ok(raw_sample(t, &values))
    })
}

/// Builds the non-NULL fields of one row (domain columns, then `extra`'s fields).
fn raw_sample(t: &'static EntityType, values: &[duckdb::types::Value]) -> RawSample {
    let mut fields = Vec::new();
    for (position, (column, value)) in t.columns().zip(values).enumerate() {
        let json = match (column.kind, value) {
            (ColumnKind::Json, duckdb::types::Value::Text(text)) => json_column(text),
            _ => to_json(value),
        };
        if json.is_null() {
            continue;
        }
        let tier = if column.name == t.primary_key {
            0
        } else if Some(column.name) == t.category_column {
            1
        } else if Some(column.name) == t.date_column {
            2
        } else if column.required {
            3
        } else {
            4
        };
        fields.push(Field {
            name: column.name.to_string(),
            value: json,
            rank: (tier, position),
        });
    }
    let extra = match values.get(t.columns().count()) {
        Some(duckdb::types::Value::Text(text)) => json_column(text),
        _ => Json::Null,
    };
    let extra_fields: Map<String, Json> = match extra {
        Json::Object(map) => map,
        Json::Null => Map::new(),
        other => std::iter::once((EXTRA_COLUMN.to_string(), other)).collect(),
    };
    for (position, (name, value)) in extra_fields.into_iter().enumerate() {
        if value.is_null() || fields.iter().any(|f| f.name == name) {
            continue;
        }
        fields.push(Field {
            name,
            value,
            rank: (5, position),
        });
    }
    RawSample { fields }
}

#[cfg(test)]
mod tests {
    use super::*;
    use healthsim_schema::SYSTEM_COLUMNS;
    use serde_json::json;

    fn check_strategy(given: &str, expected: Option<SampleStrategy>) {
        assert_eq!(
            given.parse::<SampleStrategy>().ok(),
            expected,
            "parsing {given:?}"
        );
    }

    #[test]
    fn parses_strategies() {
        check_strategy("diverse", Some(SampleStrategy::Diverse));
        check_strategy("Random", Some(SampleStrategy::Random));
        check_strategy(" recent ", Some(SampleStrategy::Recent));
        check_strategy("latest", None);
        check_strategy("", None);
    }

    #[test]
    fn recent_orders_by_a_system_column() {
        assert!(SYSTEM_COLUMNS.iter().any(|c| c.name == CREATED_AT));
    }

    #[test]
    fn strategies_serialize_lowercase() {
        for s in SampleStrategy::ALL {
            assert_eq!(serde_json::to_value(s).ok(), Some(json!(s.name())));
            assert_eq!(s.to_string(), s.name());
        }
    }

    fn sample(fields: &[(&str, Json, (u8, usize))]) -> RawSample {
        RawSample {
            fields: fields
                .iter()
                .map(|(name, value, rank)| Field {
                    name: (*name).to_string(),
                    value: value.clone(),
                    rank: *rank,
                })
                .collect(),
        }
    }

    fn check_render(max_chars: usize, max_fields: usize, expected: Json) {
        let s = sample(&[
            ("id", json!("p1"), (0, 0)),
            ("name", json!("a long name indeed"), (4, 1)),
            ("gender", json!("female"), (1, 2)),
            ("note", json!("from extra"), (5, 0)),
        ]);
        assert_eq!(
            s.render(max_chars, max_fields),
            expected,
            "render({max_chars}, {max_fields})"
        );
    }

    #[test]
    fn renders_most_important_fields_in_order() {
        check_render(
            60,
            usize::MAX,
            json!({"id": "p1", "name": "a long name indeed", "gender": "female", "note": "from extra"}),
        );
        check_render(
            6,
            9,
            json!({"id": "p1", "name": "a long…", "gender": "female", "note": "from e…"}),
        );
        check_render(60, 2, json!({"id": "p1", "gender": "female"}));
        check_render(
            60,
            3,
            json!({"id": "p1", "name": "a long name indeed", "gender": "female"}),
        );
        check_render(60, 0, json!({}));
    }
}
