//! Statistics per entity type, computed by SQL aggregates inside DuckDB (rows never reach Rust).
//!
//! [`plan`] derives the statistics of a type from the registry: person-like types (those with a
//! `birth_date`) get ages, gender and top states; a few named types get the statistics their
//! domain is read by (encounters, diagnoses, claims, pharmacy claims, prescriptions, adverse
//! events); every other type gets a generic profile from its `category_column` and
//! `date_column` (or, with no category, the range of its first numeric column). Every query is
//! scoped to the scenario; a failing query is an [`Error::Statistic`], never skipped.
//!
//! A statistic whose inputs are all NULL (no inpatient stays, no dates, a column never filled)
//! is left out of the object: its key is absent rather than holding a made-up value.

use chrono::NaiveDate;
use duckdb::Connection;
use healthsim_schema::{ColumnKind, EntityType};
use serde_json::{Map, Value as Json};

use crate::sql::{query_rows, scoped_from};
use crate::text::{number, truncate};
use crate::Error;

/// Longest top-N list a statistic holds before trimming.
pub(crate) const MAX_TOP: usize = 5;
/// Longest label (category value, code description) in a statistic.
const MAX_LABEL_CHARS: usize = 40;
/// Label of the NULL group in a distribution.
const MISSING: &str = "(missing)";
/// Encounter classes counted as inpatient stays (plain words and the FHIR v3 ActCode).
const INPATIENT_CLASSES: [&str; 2] = ["inpatient", "imp"];

/// How a distribution reports each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    /// Share of the type's rows, 3 decimals.
    Share,
    /// Number of rows.
    Count,
}

/// One statistic of one entity type; column names are the registry's.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// Age min / median / max in whole years as of the summary's date.
    Age { birth_date: &'static str },
    /// Top values of an expression over registry columns.
    Distribution { expr: String, measure: Measure },
    /// Top states, or top counties (`county_fips`) when no state is known.
    TopLocation {
        state: Option<&'static str>,
        county: Option<&'static str>,
    },
    /// Top codes by share of patients (diagnoses).
    TopCodes {
        code: &'static str,
        description: Option<&'static str>,
        patient: &'static str,
    },
    /// Earliest and latest date of a date or timestamp column.
    DateRange { column: &'static str },
    /// Smallest and largest value of a numeric column.
    NumericRange { column: &'static str },
    /// Sums (and optionally averages) of numeric columns.
    Totals {
        columns: Vec<&'static str>,
        average_key: Option<&'static str>,
    },
    /// Average length of stay in days of inpatient encounters.
    InpatientLos {
        class: &'static str,
        start: &'static str,
        end: &'static str,
    },
}

/// A planned statistic: its key in the type's statistics object and how it is computed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    key: String,
    kind: Kind,
}

/// A computed statistic value; ranked lists can be cut to a shorter top-N when trimming.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StatValue {
    /// Ranked `(label, value)` entries, best first: an object `{label: value}`, or an array of
    /// the values when `as_array`.
    Ranked {
        items: Vec<(String, Json)>,
        as_array: bool,
    },
    /// Any other value.
    Plain(Json),
}

impl StatValue {
    fn to_json(&self, top_n: usize) -> Json {
        match self {
            StatValue::Plain(v) => v.clone(),
            StatValue::Ranked {
                items,
                as_array: true,
            } => Json::Array(items.iter().take(top_n).map(|(_, v)| v.clone()).collect()),
            StatValue::Ranked {
                items,
                as_array: false,
            } => Json::Object(
                items
                    .iter()
                    .take(top_n)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
        }
    }
}

/// The statistics of one entity type of a scenario, most important first.
#[derive(Debug, Clone)]
pub(crate) struct TypeStats {
    /// The entity type.
    pub(crate) entity_type: &'static EntityType,
    /// Its entity count (from the manifest).
    pub(crate) count: u64,
    /// `(key, value)` in plan order.
    pub(crate) entries: Vec<(String, StatValue)>,
}

impl TypeStats {
    /// The statistics object, ranked lists cut to `top_n`; only the first entry when `primary_only`.
    pub(crate) fn to_json(&self, top_n: usize, primary_only: bool) -> Json {
        let keep = if primary_only { 1 } else { self.entries.len() };
        Json::Object(
            self.entries
                .iter()
                .take(keep)
                .map(|(k, v)| (k.clone(), v.to_json(top_n)))
                .collect(),
        )
    }
}

/// The statistics an entity type gets, derived from the registry.
pub(crate) fn plan(t: &'static EntityType) -> Vec<Plan> {
    let col = |name: &str| t.column(name).map(|c| c.name);
    let mut plans = Vec::new();
    let mut push = |key: &str, kind: Kind| {
        plans.push(Plan {
            key: key.to_string(),
            kind,
        })
    };
    let share_of = |column: &'static str| Kind::Distribution {
        expr: column.to_string(),
        measure: Measure::Share,
    };
    let date_range = |column: &'static str| Kind::DateRange { column };

    if t.is_person_like() {
        if let Some(birth_date) = col("birth_date") {
            push("age", Kind::Age { birth_date });
        }
        if let Some(gender) = col("gender") {
            push(gender, share_of(gender));
        }
        let (state, county) = (col("state"), col("county_fips"));
        if state.is_some() || county.is_some() {
            push("top_states", Kind::TopLocation { state, county });
        }
        if let Some(arm) = col("arm_id") {
            push(
                "arms",
                Kind::Distribution {
                    expr: arm.to_string(),
                    measure: Measure::Count,
                },
            );
        }
        if let Some(category) = t.category_column.filter(|c| Some(*c) != col("gender")) {
            push(category, share_of(category));
        }
        if let Some(date) = t.date_column.filter(|c| Some(*c) != col("birth_date")) {
            push(&range_key(date), date_range(date));
        }
        return plans;
    }

    match t.table {
        "encounters" => {
            if let Some(class) = t.category_column {
                push(class, share_of(class));
            }
            if let Some(date) = t.date_column {
                push(&range_key(date), date_range(date));
            }
            if let (Some(class), Some(start), Some(end)) = (
                col("encounter_class"),
                col("start_datetime"),
                col("end_datetime"),
            ) {
                push(
                    "inpatient_avg_los_days",
                    Kind::InpatientLos { class, start, end },
                );
            }
        }
        "diagnoses" => {
            if let (Some(code), Some(patient)) = (col("code"), col("patient_id")) {
                let description = col("description");
                push(
                    "top_codes",
                    Kind::TopCodes {
                        code,
                        description,
                        patient,
                    },
                );
            }
        }
        "claims" => {
            push(
                "totals",
                Kind::Totals {
                    columns: money_columns(t),
                    average_key: Some("avg_per_claim"),
                },
            );
            for column in [col("claim_type"), col("status")].into_iter().flatten() {
                push(column, share_of(column));
            }
            if let Some(date) = t.date_column {
                push(&range_key(date), date_range(date));
            }
        }
        "pharmacy_claims" | "prescriptions" => {
            if let Some(drug) = col("drug_name") {
                push("top_drugs", share_of(drug));
            }
            let columns = if t.table == "pharmacy_claims" {
                money_columns(t)
            } else {
                [col("quantity"), col("days_supply")]
                    .into_iter()
                    .flatten()
                    .collect()
            };
            push(
                "totals",
                Kind::Totals {
                    columns,
                    average_key: None,
                },
            );
            if let Some(date) = t.date_column {
                push(&range_key(date), date_range(date));
            }
        }
        "adverse_events" => {
            let term = match (col("aedecod"), col("aeterm")) {
                (Some(decoded), Some(verbatim)) => Some(format!("coalesce({decoded}, {verbatim})")),
                (one, other) => one.or(other).map(str::to_string),
            };
            if let Some(expr) = term {
                push(
                    "top_terms",
                    Kind::Distribution {
                        expr,
                        measure: Measure::Share,
                    },
                );
            }
            if let Some(severity) = col("aesev") {
                push(severity, share_of(severity));
            }
        }
        _ => {
            if let Some(category) = t.category_column {
                push(category, share_of(category));
            }
            if let Some(date) = t.date_column {
                push(&range_key(date), date_range(date));
            }
            if t.category_column.is_none() {
                let numeric = t
                    .columns()
                    .find(|c| c.kind == ColumnKind::Number && c.name != t.primary_key);
                if let Some(column) = numeric {
                    push(
                        &range_key(column.name),
                        Kind::NumericRange {
                            column: column.name,
                        },
                    );
                }
            }
        }
    }
    plans
}

fn range_key(column: &str) -> String {
    format!("{column}_range")
}

fn money_columns(t: &'static EntityType) -> Vec<&'static str> {
    t.columns()
        .filter(|c| c.kind == ColumnKind::Money)
        .map(|c| c.name)
        .collect()
}

/// Computes every planned statistic of one type.
pub(crate) fn compute(
    conn: &Connection,
    entity_type: &'static EntityType,
    count: u64,
    scenario_id: &str,
    as_of: NaiveDate,
) -> Result<TypeStats, Error> {
    let mut entries = Vec::new();
    for p in plan(entity_type) {
        let computed = run(conn, entity_type.table, &p, scenario_id, as_of).map_err(|source| {
            Error::Statistic {
                entity_type: entity_type.table.to_string(),
                statistic: p.key.clone(),
                source,
            }
        })?;
        entries.extend(computed);
    }
    Ok(TypeStats {
        entity_type,
        count,
        entries,
    })
}

fn run(
    conn: &Connection,
    table: &'static str,
    p: &Plan,
    scenario_id: &str,
    as_of: NaiveDate,
) -> duckdb::Result<Vec<(String, StatValue)>> {
    let from = scoped_from(table);
    let key = p.key.clone();
    let out = match &p.kind {
        Kind::Age { birth_date } => {
            let sql = format!(
                "SELECT min(age), median(age), max(age) FROM (\
                 SELECT date_sub('year', {birth_date}, CAST(? AS DATE)) AS age \
                 {from} AND {birth_date} IS NOT NULL)"
            );
            let as_of = as_of.format("%Y-%m-%d").to_string();
            let rows = query_rows(conn, &sql, duckdb::params![as_of, scenario_id], |r| {
                Ok((
                    r.get::<_, Option<i64>>(0)?,
                    r.get::<_, Option<f64>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })?;
            match rows.first() {
                Some((Some(min), Some(median), Some(max))) => {
                    let mut age = Map::new();
                    age.insert("min".into(), Json::from(*min));
                    age.insert("median".into(), number(*median, 1));
                    age.insert("max".into(), Json::from(*max));
                    vec![(key, StatValue::Plain(Json::Object(age)))]
                }
                _ => Vec::new(),
            }
        }
        Kind::Distribution { expr, measure } => {
            let items = distribution(conn, &from, expr, *measure, scenario_id)?;
            if items.is_empty() {
                Vec::new()
            } else {
                vec![(key, ranked(items))]
            }
        }
        Kind::TopLocation { state, county } => {
            let mut found = Vec::new();
            for (column, column_key) in [(state, "top_states"), (county, "top_counties")] {
                let Some(column) = column else { continue };
                let items = distribution(conn, &from, column, Measure::Share, scenario_id)?;
                if !items.is_empty() {
                    found.push((column_key.to_string(), ranked(items)));
                    break;
                }
            }
            found
        }
        Kind::TopCodes {
            code,
            description,
            patient,
        } => {
            let description_sql = description.map_or("NULL".to_string(), |d| format!("min({d})"));
            let sql = format!(
                "WITH d AS (SELECT * {from}), \
                 everyone AS (SELECT count(DISTINCT {patient}) AS n FROM d) \
                 SELECT CAST({code} AS VARCHAR) AS code, {description_sql}, \
                        count(DISTINCT {patient}) AS patients, \
                        count(DISTINCT {patient})::DOUBLE / nullif((SELECT n FROM everyone), 0) \
                 FROM d GROUP BY 1 ORDER BY patients DESC, code LIMIT ?"
            );
            let rows = query_rows(
                conn,
                &sql,
                duckdb::params![scenario_id, MAX_TOP as i64],
                |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<f64>>(3)?,
                    ))
                },
            )?;
            let items = rows
                .into_iter()
                .map(|(code, description, share)| {
                    let label = code.map_or(MISSING.to_string(), |c| truncate(&c, MAX_LABEL_CHARS));
                    let mut entry = Map::new();
                    entry.insert("code".into(), Json::String(label.clone()));
                    if let Some(d) = description {
                        entry.insert(
                            "description".into(),
                            Json::String(truncate(&d, MAX_LABEL_CHARS)),
                        );
                    }
                    entry.insert(
                        "patient_share".into(),
                        share.map_or(Json::Null, |s| number(s, 3)),
                    );
                    (label, Json::Object(entry))
                })
                .collect();
            let patients_sql = format!("SELECT count(DISTINCT {patient}) {from}");
            let patients: i64 = conn.query_row(&patients_sql, [scenario_id], |r| r.get(0))?;
            vec![
                (
                    key,
                    StatValue::Ranked {
                        items,
                        as_array: true,
                    },
                ),
                (
                    "patients".to_string(),
                    StatValue::Plain(Json::from(patients)),
                ),
            ]
        }
        Kind::DateRange { column } => {
            let sql = format!(
                "SELECT CAST(CAST(min({column}) AS DATE) AS VARCHAR), \
                        CAST(CAST(max({column}) AS DATE) AS VARCHAR) {from}"
            );
            let (min, max): (Option<String>, Option<String>) =
                conn.query_row(&sql, [scenario_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            match (min, max) {
                (Some(min), Some(max)) => vec![(key, StatValue::Plain(Json::from(vec![min, max])))],
                _ => Vec::new(),
            }
        }
        Kind::NumericRange { column } => {
            let sql = format!(
                "SELECT CAST(min({column}) AS DOUBLE), CAST(max({column}) AS DOUBLE) {from}"
            );
            let (min, max): (Option<f64>, Option<f64>) =
                conn.query_row(&sql, [scenario_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            match (min, max) {
                (Some(min), Some(max)) => vec![(
                    key,
                    StatValue::Plain(Json::Array(vec![number(min, 2), number(max, 2)])),
                )],
                _ => Vec::new(),
            }
        }
        Kind::Totals {
            columns,
            average_key,
        } => {
            if columns.is_empty() {
                return Ok(Vec::new());
            }
            let select: Vec<String> = columns
                .iter()
                .map(|c| format!("CAST(sum({c}) AS DOUBLE), CAST(avg({c}) AS DOUBLE)"))
                .collect();
            let sql = format!("SELECT {} {from}", select.join(", "));
            let sums_and_averages: Vec<Option<f64>> = conn.query_row(&sql, [scenario_id], |r| {
                (0..columns.len() * 2).map(|i| r.get(i)).collect()
            })?;
            let (mut totals, mut averages) = (Map::new(), Map::new());
            for (column, pair) in columns.iter().zip(sums_and_averages.chunks(2)) {
                if let [Some(sum), Some(avg)] = pair {
                    totals.insert((*column).to_string(), number(*sum, 2));
                    averages.insert((*column).to_string(), number(*avg, 2));
                }
            }
            let mut out = Vec::new();
            if !totals.is_empty() {
                out.push((key, StatValue::Plain(Json::Object(totals))));
                if let Some(average_key) = average_key {
                    out.push((
                        (*average_key).to_string(),
                        StatValue::Plain(Json::Object(averages)),
                    ));
                }
            }
            out
        }
        Kind::InpatientLos { class, start, end } => {
            let sql = format!(
                "SELECT avg(date_diff('day', CAST({start} AS DATE), CAST({end} AS DATE))) {from} \
                 AND lower({class}) IN (?, ?) AND {start} IS NOT NULL AND {end} IS NOT NULL"
            );
            let [inpatient, imp] = INPATIENT_CLASSES;
            let average: Option<f64> =
                conn.query_row(&sql, duckdb::params![scenario_id, inpatient, imp], |r| {
                    r.get(0)
                })?;
            average
                .map(|days| (key, StatValue::Plain(number(days, 1))))
                .into_iter()
                .collect()
        }
    };
    Ok(out)
}

/// Top values of `expr` (best first, ties by value), as shares of the type's rows or counts.
fn distribution(
    conn: &Connection,
    from: &str,
    expr: &str,
    measure: Measure,
    scenario_id: &str,
) -> duckdb::Result<Vec<(String, Json)>> {
    let sql = format!(
        "SELECT CAST({expr} AS VARCHAR) AS v, count(*) AS n, \
                count(*)::DOUBLE / sum(count(*)) OVER () AS share \
         {from} GROUP BY 1 ORDER BY n DESC, v NULLS LAST LIMIT ?"
    );
    let rows = query_rows(
        conn,
        &sql,
        duckdb::params![scenario_id, MAX_TOP as i64],
        |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, f64>(2)?,
            ))
        },
    )?;
    let mut items: Vec<(String, Json)> = Vec::with_capacity(rows.len());
    for (value, n, share) in rows {
        let label = value.map_or(MISSING.to_string(), |v| truncate(&v, MAX_LABEL_CHARS));
        let label = unique_label(&items, label);
        let measured = match measure {
            Measure::Share => number(share, 3),
            Measure::Count => Json::from(n),
        };
        items.push((label, measured));
    }
    if items.iter().all(|(label, _)| label == MISSING) {
        // The column is NULL in every row: nothing to report (an absent key, not a fake 100%).
        items.clear();
    }
    Ok(items)
}

/// Truncated labels can collide; a collision gets a ` #2`, ` #3` suffix instead of overwriting.
fn unique_label(items: &[(String, Json)], label: String) -> String {
    let taken = |l: &str| items.iter().any(|(k, _)| k == l);
    if !taken(&label) {
        return label;
    }
    let mut suffix = 2;
    loop {
        let candidate = format!("{label} #{suffix}");
        if !taken(&candidate) {
            return candidate;
        }
        suffix += 1;
    }
}

fn ranked(items: Vec<(String, Json)>) -> StatValue {
    StatValue::Ranked {
        items,
        as_array: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use healthsim_schema::{by_table, ENTITY_TYPES};

    fn keys(table: &str) -> Vec<String> {
        let t = by_table(table).expect("registry table");
        plan(t).into_iter().map(|p| p.key).collect()
    }

    fn check(table: &str, expected: &[&str]) {
        assert_eq!(keys(table), expected, "statistics planned for {table}");
    }

    #[test]
    fn plans_named_statistics() {
        check("patients", &["age", "gender", "top_states"]);
        check("persons", &["age", "gender", "top_states"]);
        check(
            "members",
            &[
                "age",
                "gender",
                "top_states",
                "line_of_business",
                "coverage_start_date_range",
            ],
        );
        check(
            "rx_members",
            &[
                "age",
                "gender",
                "top_states",
                "plan_code",
                "coverage_start_date_range",
            ],
        );
        check(
            "subjects",
            &[
                "age",
                "gender",
                "top_states",
                "arms",
                "status",
                "enrollment_date_range",
            ],
        );
        check(
            "encounters",
            &[
                "encounter_class",
                "start_datetime_range",
                "inpatient_avg_los_days",
            ],
        );
        check("diagnoses", &["top_codes"]);
        check(
            "claims",
            &["totals", "claim_type", "status", "service_date_range"],
        );
        check(
            "pharmacy_claims",
            &["top_drugs", "totals", "fill_date_range"],
        );
        check(
            "prescriptions",
            &["top_drugs", "totals", "written_date_range"],
        );
        check("adverse_events", &["top_terms", "aesev"]);
        check("providers", &["specialty"]);
        check("vitals", &["observation_datetime_range", "height_cm_range"]);
        check("population_profiles", &["year"]);
    }

    #[test]
    fn every_type_gets_a_statistic() {
        for t in ENTITY_TYPES {
            assert!(!plan(t).is_empty(), "{} has no statistic", t.table);
        }
    }

    #[test]
    fn colliding_labels_get_suffixes() {
        let items = vec![
            ("a…".to_string(), Json::from(1)),
            ("a… #2".to_string(), Json::from(1)),
        ];
        assert_eq!(unique_label(&items, "b".into()), "b");
        assert_eq!(unique_label(&items, "a…".into()), "a… #3");
    }
}
