//! Statistics per entity type, computed by SQL aggregates inside DuckDB (rows never reach Rust).
//!
//! [`plan`] derives the statistics of a type from the registry: person-like types (those with a
//! `birth_date`) get ages, gender and top states; a few named types get the statistics their
//! domain is read by (encounters, diagnoses, claims, pharmacy claims, prescriptions, adverse
//! events); every other type gets a generic profile from its `category_column` and
//! `date_column` (or, with no category, the range of its first numeric column). All statistics
//! of a type come from one query (see [`TypeQuery`]), scoped to the scenario; a failing
//! statistic is an [`Error::Statistic`], never skipped.
//!
//! A statistic whose inputs are all NULL (no inpatient stays, no dates, a column never filled)
//! is left out of the object: its key is absent rather than holding a made-up value.

use chrono::{Datelike, NaiveDate};
use duckdb::types::Value;
use duckdb::Connection;
use healthsim_schema::{ColumnKind, EntityType, SummaryProfile};
use serde_json::{Map, Value as Json};

use crate::sql::scope_filter;
use crate::text::{number, truncate};
use crate::Error;

/// Longest top-N list a statistic of the summary holds before trimming.
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
    /// `sum(numerator) / sum(denominator)` (the share of billed amounts that was paid).
    Ratio {
        numerator: &'static str,
        denominator: &'static str,
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
    /// A statistic the summary keeps as long as anything but counts is kept (see `budget`):
    /// what the agent's contract promises per type (ARCHITECTURE.md, "The agent's contract").
    core: bool,
}

/// A computed statistic value; ranked lists can be cut to a shorter top-N when trimming.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StatValue {
    /// Ranked `(label, value)` entries, best first: an object `{label: value}`, or an array of
    /// the values when `as_array`.
    Ranked {
        items: Vec<(String, Json)>,
        as_array: bool,
        /// The values are numbers of rows (trial arms), not shares.
        counts: bool,
    },
    /// Any other value.
    Plain(Json),
}

/// How far the summary's compact form of a statistic is cut (chosen by `budget`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Detail {
    /// Entries of a ranked list.
    pub(crate) top_n: usize,
    /// Longest label (category value, drug name, code description) in characters; code
    /// descriptions are left out below [`MIN_DESCRIPTION_CHARS`].
    pub(crate) label_chars: usize,
}

/// Shorter code descriptions than this are not worth their tokens: the code alone is shown.
pub(crate) const MIN_DESCRIPTION_CHARS: usize = 16;

impl StatValue {
    /// The summary's compact form: ranked lists and objects become one readable string
    /// (`"F 52%; M 48%"`, `"1–95, median 46"`, `"J06.9 36%; I10 15%"`), numbers stay numbers.
    /// Shares are whole percents (one decimal below 1%), money over 100 whole units.
    pub(crate) fn compact(&self, key: &str, detail: Detail) -> Json {
        let label = |text: &str| truncate(text, detail.label_chars);
        match self {
            StatValue::Ranked {
                items,
                as_array: true,
                ..
            } => Json::String(
                items
                    .iter()
                    .take(detail.top_n)
                    .map(|(code, entry)| {
                        let share = entry.get("patient_share").map_or(String::new(), |s| {
                            s.as_f64()
                                .map_or(String::new(), |s| format!(" {}", percent(s)))
                        });
                        let description = entry
                            .get("description")
                            .and_then(Json::as_str)
                            .filter(|_| detail.label_chars >= MIN_DESCRIPTION_CHARS)
                            .map_or(String::new(), |d| format!(" {}", label(d)));
                        format!("{code}{description}{share}")
                    })
                    .collect::<Vec<_>>()
                    .join(LIST_SEPARATOR),
            ),
            StatValue::Ranked {
                items,
                as_array: false,
                counts,
            } => Json::String(
                items
                    .iter()
                    .take(detail.top_n)
                    .map(|(value, measured)| {
                        let measured = match measured.as_f64() {
                            Some(share) if !counts => percent(share),
                            _ => measured.to_string(),
                        };
                        format!("{} {measured}", label(value))
                    })
                    .collect::<Vec<_>>()
                    .join(LIST_SEPARATOR),
            ),
            StatValue::Plain(Json::Object(fields)) => {
                let get = |k: &str| fields.get(k).and_then(Json::as_f64);
                if let (Some(min), Some(median), Some(max)) =
                    (get("min"), get("median"), get("max"))
                {
                    return Json::String(format!(
                        "{}–{}, median {}",
                        amount(min),
                        amount(max),
                        amount(median)
                    ));
                }
                Json::String(
                    fields
                        .iter()
                        .map(|(k, v)| {
                            let name = k.strip_prefix("total_").unwrap_or(k);
                            let v = v.as_f64().map_or_else(|| v.to_string(), amount);
                            format!("{name} {v}")
                        })
                        .collect::<Vec<_>>()
                        .join(LIST_SEPARATOR),
                )
            }
            StatValue::Plain(Json::Array(pair)) if pair.len() == 2 => {
                let end = |v: &Json| v.as_str().map_or_else(|| v.to_string(), str::to_string);
                Json::String(format!("{}..{}", end(&pair[0]), end(&pair[1])))
            }
            StatValue::Plain(Json::Number(n)) if key == PAID_TO_BILLED => {
                n.as_f64().map_or(Json::Null, |r| Json::String(percent(r)))
            }
            StatValue::Plain(other) => other.clone(),
        }
    }

    fn to_json(&self, top_n: usize) -> Json {
        match self {
            StatValue::Plain(v) => v.clone(),
            StatValue::Ranked {
                items,
                as_array: true,
                ..
            } => Json::Array(items.iter().take(top_n).map(|(_, v)| v.clone()).collect()),
            StatValue::Ranked {
                items,
                as_array: false,
                ..
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

/// Between the entries of a compact list: labels (code descriptions, drug names) often hold
/// commas, rarely semicolons; it costs no more tokens than a comma.
pub(crate) const LIST_SEPARATOR: &str = "; ";

/// Key of the claims' paid-to-billed ratio.
const PAID_TO_BILLED: &str = "paid_to_billed";

/// A share as a percentage: whole percents, one decimal below 1% (`52%`, `0.4%`).
fn percent(share: f64) -> String {
    let pct = share * 100.0;
    if pct > 0.0 && pct < 0.95 {
        format!("{:.1}%", pct)
    } else {
        format!("{}%", pct.round())
    }
}

/// A number for a compact string: whole above 100 (money totals), else at most 2 decimals.
fn amount(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{}", value.round())
    } else {
        number(value, 2).to_string()
    }
}

/// One computed statistic.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) value: StatValue,
    /// See [`Plan::core`].
    pub(crate) core: bool,
}

/// The statistics of one entity type of a scenario, most important first.
#[derive(Debug, Clone)]
pub(crate) struct TypeStats {
    /// The entity type.
    pub(crate) entity_type: &'static EntityType,
    /// Its entity count (from the manifest).
    pub(crate) count: u64,
    /// In plan order.
    pub(crate) entries: Vec<Entry>,
}

impl TypeStats {
    /// The summary's statistics object in compact form (see [`StatValue::compact`]); only the
    /// core statistics when `core_only`.
    pub(crate) fn to_compact(&self, detail: Detail, core_only: bool) -> Json {
        Json::Object(
            self.entries
                .iter()
                .filter(|e| e.core || !core_only)
                .map(|e| (e.key.clone(), e.value.compact(&e.key, detail)))
                .collect(),
        )
    }
}

/// The statistics an entity type gets, derived from the registry.
pub(crate) fn plan(t: &'static EntityType) -> Vec<Plan> {
    let col = |name: &str| t.column(name).map(|c| c.name);
    let mut plans = Vec::new();
    let mut push = |key: &str, kind: Kind, core: bool| {
        plans.push(Plan {
            key: key.to_string(),
            kind,
            core,
        })
    };
    let share_of = |column: &'static str| Kind::Distribution {
        expr: column.to_string(),
        measure: Measure::Share,
    };
    let date_range = |column: &'static str| Kind::DateRange { column };

    match t.summary {
        SummaryProfile::Person => {
            if let Some(birth_date) = col("birth_date") {
                push("age", Kind::Age { birth_date }, true);
            }
            if let Some(gender) = col("gender") {
                push(gender, share_of(gender), true);
            }
            let (state, county) = (col("state"), col("county_fips"));
            if state.is_some() || county.is_some() {
                push("top_states", Kind::TopLocation { state, county }, false);
            }
            if let Some(arm) = col("arm_id") {
                push(
                    "arms",
                    Kind::Distribution {
                        expr: arm.to_string(),
                        measure: Measure::Count,
                    },
                    true,
                );
            }
            if let Some(category) = t.category_column.filter(|c| Some(*c) != col("gender")) {
                push(category, share_of(category), false);
            }
            if let Some(date) = t.date_column.filter(|c| Some(*c) != col("birth_date")) {
                push(&range_key(date), date_range(date), false);
            }
        }
        SummaryProfile::Encounters => {
            if let Some(class) = t.category_column {
                push(class, share_of(class), true);
            }
            if let Some(date) = t.date_column {
                push(&range_key(date), date_range(date), false);
            }
            if let (Some(class), Some(start), Some(end)) = (
                col("encounter_class"),
                col("start_datetime"),
                col("end_datetime"),
            ) {
                push(
                    "inpatient_avg_los_days",
                    Kind::InpatientLos { class, start, end },
                    false,
                );
            }
        }
        SummaryProfile::Diagnoses => {
            if let (Some(code), Some(patient)) = (col("code"), col("patient_id")) {
                let description = col("description");
                push(
                    "top_codes",
                    Kind::TopCodes {
                        code,
                        description,
                        patient,
                    },
                    true,
                );
            }
        }
        SummaryProfile::Claims => {
            push(
                "totals",
                Kind::Totals {
                    columns: money_columns(t),
                    average_key: Some("avg_per_claim"),
                },
                true,
            );
            if let (Some(numerator), Some(denominator)) = (col("total_paid"), col("total_billed")) {
                push(
                    PAID_TO_BILLED,
                    Kind::Ratio {
                        numerator,
                        denominator,
                    },
                    true,
                );
            }
            for column in [col("claim_type"), col("status")].into_iter().flatten() {
                push(column, share_of(column), false);
            }
            if let Some(date) = t.date_column {
                push(&range_key(date), date_range(date), false);
            }
        }
        SummaryProfile::PharmacyClaims | SummaryProfile::Prescriptions => {
            if let Some(drug) = col("drug_name") {
                // Pharmacy claims are what was dispensed: their drugs are the core statistic.
                let core = t.summary == SummaryProfile::PharmacyClaims;
                push("top_drugs", share_of(drug), core);
            }
            let columns = if t.summary == SummaryProfile::PharmacyClaims {
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
                false,
            );
            if let Some(date) = t.date_column {
                push(&range_key(date), date_range(date), false);
            }
        }
        SummaryProfile::AdverseEvents => {
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
                    false,
                );
            }
            if let Some(severity) = col("aesev") {
                push(severity, share_of(severity), false);
            }
        }
        SummaryProfile::Generic => {
            if let Some(category) = t.category_column {
                push(category, share_of(category), false);
            }
            if let Some(date) = t.date_column {
                push(&range_key(date), date_range(date), false);
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
                        false,
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

/// Computes every planned statistic of one type with one query (see [`TypeQuery`]): over the
/// running statistics' parts when `parts_count` (the row count they add up to, see
/// `crate::running`) equals `count`, else over the type's rows.
///
/// When the query over the rows fails, each statistic is computed alone to name the one that
/// fails, so the error says which statistic could not be computed (a broken table is rare; then
/// speed does not matter). A failing query over the parts is an [`Error::Database`] naming the
/// type's running statistics.
pub(crate) fn compute(
    conn: &Connection,
    entity_type: &'static EntityType,
    count: u64,
    parts_count: Option<u64>,
    scenario_id: &str,
    as_of: NaiveDate,
) -> Result<TypeStats, Error> {
    let from_parts = if parts_count == Some(count) {
        let q = TypeQuery::new(
            entity_type.table,
            &plan(entity_type),
            as_of,
            Ages::FromParts,
        );
        q.sql_from_parts(scenario_id).map(|sql| (q, sql))
    } else {
        None
    };
    let entries = match from_parts {
        Some((q, (sql, params))) => {
            q.read(conn, &sql, params, MAX_TOP)
                .map_err(|source| Error::Database {
                    context: format!("reading the running statistics of {}", entity_type.table),
                    source,
                })?
        }
        None => entries(
            conn,
            entity_type,
            scenario_id,
            as_of,
            Ages::for_rows(count),
            MAX_TOP,
        )?,
    };
    Ok(TypeStats {
        entity_type,
        count,
        entries,
    })
}

/// How an age statistic is computed; both give the same numbers (tested), at different costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ages {
    /// `date_sub` per row, then `min` / `median` / `max`: the fewest operators, for small types.
    PerRow,
    /// `date_sub` once per distinct birth date (a hidden grouping set of the one `groups`
    /// scan), the median read off the cumulative counts: `date_sub` costs ~45 ns a row, most of
    /// a 1M-patient summary, while the extra operators cost ~1 ms whatever the size.
    PerBirthDate,
    /// As the running statistics keep them (`crate::running`): the birth dates as two hidden
    /// sets, per month and per day, the days kept as one part per birth month. A birth's age on
    /// a day of another month does not depend on the birth's day, so the ages are read from
    /// the months except the summary's own month, whose births are read per day: ~1,100 month
    /// rows and a twelfth of the day rows instead of all 31,500 birth dates of a large
    /// population (on a 2-vCPU Intel Xeon, the ages of 1,000,000 patients from their parts
    /// 9 ms → 4 ms).
    FromParts,
}

/// Rows of a type from which ages are computed per birth date. Measured on a 2-vCPU AMD EPYC:
/// the statistics query of 10,000 patients 3.9 ms per row, 7.4 ms per birth date; of 1,000,000
/// patients 78 ms and 28 ms.
const AGES_PER_BIRTH_DATE_FROM: u64 = 100_000;

impl Ages {
    fn for_rows(rows: u64) -> Ages {
        if rows >= AGES_PER_BIRTH_DATE_FROM {
            Ages::PerBirthDate
        } else {
            Ages::PerRow
        }
    }
}

/// The statistics of one type in plan order, ranked lists holding up to `max_top` entries.
fn entries(
    conn: &Connection,
    entity_type: &'static EntityType,
    scenario_id: &str,
    as_of: NaiveDate,
    ages: Ages,
    max_top: usize,
) -> Result<Vec<Entry>, Error> {
    let plans = plan(entity_type);
    TypeQuery::new(entity_type.table, &plans, as_of, ages)
        .run(conn, scenario_id, max_top)
        .map_err(|source| {
            attribute_failure(conn, entity_type, &plans, scenario_id, as_of, ages, source)
        })
}

/// The statistics of one entity type of a scenario, **untrimmed**: the object a summary holds
/// under `statistics[table]` before it is fitted to its token budget (see the table in the
/// crate documentation), with ranked lists (shares, top codes, top drugs) holding up to
/// `top_n` entries instead of the summary's 5.
///
/// For readers that show more than the agent's summary and must never disagree with it (the
/// HTML report of `healthsim-report`): the same plan, the same single query, the same rounding
/// and labels. An empty object when the type has no rows in the scenario (or only NULLs).
/// Read-only.
///
/// Errors: [`Error::ScenarioNotFound`], [`Error::Statistic`] (naming the statistic that
/// failed), [`Error::Database`].
pub fn type_statistics(
    conn: &Connection,
    scenario_id: &str,
    entity_type: &'static EntityType,
    as_of: NaiveDate,
    top_n: usize,
) -> Result<Map<String, Json>, Error> {
    crate::scenario::ensure_scenario(conn, scenario_id)?;
    // Per birth date: its readers (the report) show large scenarios, and the tests compare it
    // with the summary's per-row ages of the same rows.
    Ok(entries(
        conn,
        entity_type,
        scenario_id,
        as_of,
        Ages::PerBirthDate,
        top_n,
    )?
    .iter()
    .map(|e| (e.key.clone(), e.value.to_json(top_n)))
    .collect())
}

/// The [`Error::Statistic`] of the first statistic that fails on its own; `source` (the error of
/// the whole query) under every key when none does.
fn attribute_failure(
    conn: &Connection,
    entity_type: &'static EntityType,
    plans: &[Plan],
    scenario_id: &str,
    as_of: NaiveDate,
    ages: Ages,
    source: duckdb::Error,
) -> Error {
    let error = |statistic: String, source| Error::Statistic {
        entity_type: entity_type.table.to_string(),
        statistic,
        source,
    };
    for p in plans {
        let alone = TypeQuery::new(entity_type.table, std::slice::from_ref(p), as_of, ages);
        if let Err(source) = alone.run(conn, scenario_id, MAX_TOP) {
            return error(p.key.clone(), source);
        }
    }
    let keys: Vec<&str> = plans.iter().map(|p| p.key.as_str()).collect();
    error(keys.join(", "), source)
}

/// How a planned statistic is read from the type's query: where its aggregates sit
/// (`__a{first}..` of the totals row, grouping set `__g{set}`) and what shapes the value.
#[derive(Debug, Clone, PartialEq)]
enum Read {
    Age {
        first: usize,
    },
    Distribution {
        set: usize,
        measure: Measure,
    },
    /// `(set, key)` per location column, first choice first.
    TopLocation {
        sets: Vec<(usize, &'static str)>,
    },
    TopCodes {
        set: usize,
        patients: usize,
    },
    DateRange {
        first: usize,
    },
    NumericRange {
        first: usize,
    },
    Totals {
        first: usize,
        columns: Vec<&'static str>,
        average_key: Option<&'static str>,
    },
    Ratio {
        first: usize,
    },
    InpatientLos {
        first: usize,
    },
}

/// The one query that computes every statistic of a type.
///
/// Every row of the type in the scenario is read by one statement of this shape:
///
/// ```sql
/// WITH base AS NOT MATERIALIZED (SELECT <inputs> FROM <table> WHERE <scope>),
///      groups AS (SELECT <set>, <value>, <measure> FROM base
///                 GROUP BY GROUPING SETS ((__g0), (__g1), ...)),
///      totals AS (SELECT count(*), <scalar aggregates> FROM base)
/// SELECT * FROM totals UNION ALL BY NAME SELECT * FROM groups
/// ORDER BY set NULLS FIRST, measure DESC, value NULLS LAST
/// ```
///
/// Distributions and top codes are the grouping sets (one hash aggregate for all of them; the
/// first [`MAX_TOP`] rows of each set are kept, a per-set window in SQL would cost more than
/// reading the groups of a categorical column); ages, ranges, totals and the like are the scalar aggregates of the
/// totals row. The holistic aggregates (the median age, distinct patients) stay out of the
/// grouping sets, where they would be computed once per group; `NOT MATERIALIZED` lets the two
/// branches scan the table as parallel pipelines, cheaper than materializing the rows once.
/// Each aggregate is the expression the statistic would use in a query of its own (as
/// [`attribute_failure`] runs it), so computing them together changes no value.
pub(crate) struct TypeQuery {
    pub(crate) table: &'static str,
    /// `expr AS __xN` / `CAST(expr AS VARCHAR) AS __gN` of the base rows.
    inputs: Vec<String>,
    /// Parameters of `inputs`, in order.
    input_params: Vec<Value>,
    /// Common table expressions over `groups` (one per age statistic), between `groups` and
    /// `totals`.
    pub(crate) ctes: Vec<String>,
    /// Their parameters, bound after the scenario id.
    pub(crate) cte_params: Vec<Value>,
    /// Grouping sets read only by `ctes`, not returned (the birth dates of an age statistic).
    pub(crate) hidden_sets: Vec<usize>,
    /// Hidden sets of birth dates that the running statistics keep as one part per birth month
    /// ([`Part::day_number`]).
    pub(crate) day_sets: Vec<usize>,
    /// Per grouping set: the measure it is ranked by (an aggregate over base columns).
    pub(crate) group_measures: Vec<String>,
    /// Further aggregates of the groups (`min(__x3) AS __description`).
    pub(crate) group_extras: Vec<String>,
    /// Scalar aggregates, `__a{i}` in order.
    pub(crate) scalars: Vec<Scalar>,
    /// Measured columns whose parts the running statistics keep (see `crate::running`).
    pub(crate) parts: Vec<Part>,
    /// Per plan: its key, whether it is core, and how it is read.
    planned: Vec<(String, bool, Read)>,
}

/// One scalar aggregate of a type's query.
pub(crate) struct Scalar {
    /// Over the scenario's rows of the type (`base`).
    pub(crate) full: String,
    /// The same value from the running statistics' parts (`crate::running`), or `None` when
    /// it does not merge (distinct patients, a per-row median).
    pub(crate) from_parts: Option<String>,
}

/// How the running statistics keep a measured column (see `crate::running`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PartKind {
    /// An integer or decimal column: its sum kept exactly (`exact_total`), min and max as
    /// `DOUBLE`.
    Exact,
    /// A `DOUBLE` column: its sum, min and max as `DOUBLE`.
    Float,
    /// A date or timestamp column: its earliest and latest day.
    Day,
}

/// A measured column of the running statistics: the base column it reads and how it is kept.
pub(crate) struct Part {
    /// The `__x{n}` input it aggregates.
    pub(crate) input: String,
    pub(crate) kind: PartKind,
}

impl Part {
    /// Its `part` number in `scenario_statistics`: -2, -3, ... in the order of `parts`
    /// (-1 is the row count, 0 and up the grouping sets).
    pub(crate) fn number(index: usize) -> i64 {
        -2 - index as i64
    }

    /// The `part` number of the birth dates of `month` (1 to 12; 0 for no birth date) of the
    /// day set `set` ([`TypeQuery::day_sets`]): `DAY_PARTS * (set + 1) + month`, above every
    /// grouping set's own number.
    pub(crate) fn day_number(set: usize, month: u32) -> i64 {
        DAY_PARTS * (set as i64 + 1) + i64::from(month)
    }
}

/// Part numbers from here up are day sets' months ([`Part::day_number`]); below, grouping sets.
pub(crate) const DAY_PARTS: i64 = 100;

/// The first rows of one grouping set, best first.
#[derive(Debug, Default)]
struct GroupRows {
    /// `(value, rows, measure, description)`.
    rows: Vec<(Option<String>, i64, i64, Option<String>)>,
}

impl TypeQuery {
    /// The query of `t`'s statistics as the running statistics keep them (birth dates per
    /// month and per day), or `None` when one of them does not merge (see `crate::running`).
    pub(crate) fn for_parts(t: &'static EntityType) -> Option<TypeQuery> {
        // The date only enters the age CTEs, which the parts do not use.
        let q = TypeQuery::new(t.table, &plan(t), NaiveDate::MIN, Ages::FromParts);
        q.merges().then_some(q)
    }

    fn new(table: &'static str, plans: &[Plan], as_of: NaiveDate, ages: Ages) -> Self {
        let mut q = TypeQuery {
            table,
            inputs: Vec::new(),
            input_params: Vec::new(),
            ctes: Vec::new(),
            cte_params: Vec::new(),
            hidden_sets: Vec::new(),
            day_sets: Vec::new(),
            group_measures: Vec::new(),
            group_extras: Vec::new(),
            scalars: Vec::new(),
            parts: Vec::new(),
            planned: Vec::new(),
        };
        for p in plans {
            let read = q.add(&p.kind, as_of, ages);
            q.planned.push((p.key.clone(), p.core, read));
        }
        q
    }

    /// How the running statistics keep a column of this table: exactly when it holds integers
    /// or money.
    fn part_kind(&self, column: &str) -> PartKind {
        let kind = healthsim_schema::by_table(self.table)
            .and_then(|t| t.column(column))
            .map(|c| c.kind);
        match kind {
            Some(ColumnKind::Integer | ColumnKind::Money) => PartKind::Exact,
            _ => PartKind::Float,
        }
    }

    /// A base column `__x{n}` computed by `expr`; returns its name.
    fn input(&mut self, expr: String, params: Vec<Value>) -> String {
        let name = format!("__x{}", self.inputs.len());
        self.inputs.push(format!("{expr} AS {name}"));
        self.input_params.extend(params);
        name
    }

    /// A grouping set over `expr` (its value cast to text once per group, in `__value`),
    /// ranked by `measure`; returns its index.
    fn group(&mut self, expr: &str, measure: &str) -> usize {
        let set = self.group_measures.len();
        self.inputs.push(format!("{expr} AS __g{set}"));
        self.group_measures.push(measure.to_string());
        set
    }

    /// Scalar aggregates that do not merge; returns the index of the first.
    fn scalars(&mut self, aggregates: impl IntoIterator<Item = String>) -> usize {
        self.merged_scalars(aggregates.into_iter().map(|full| (full, None)))
    }

    /// Scalar aggregates, each with its value from the running statistics' parts (or `None`);
    /// returns the index of the first.
    fn merged_scalars(
        &mut self,
        aggregates: impl IntoIterator<Item = (String, Option<String>)>,
    ) -> usize {
        let first = self.scalars.len();
        self.scalars.extend(
            aggregates
                .into_iter()
                .map(|(full, from_parts)| Scalar { full, from_parts }),
        );
        first
    }

    /// A measured column of the running statistics; returns the `FILTER` clause that selects
    /// its rows of `scenario_statistics`.
    fn part(&mut self, input: &str, kind: PartKind) -> String {
        let number = Part::number(self.parts.len());
        self.parts.push(Part {
            input: input.to_string(),
            kind,
        });
        format!("FILTER (WHERE part = {number})")
    }

    /// `CAST(sum(x) AS DOUBLE)` over the rows, and the same from the parts of `x` (exact when
    /// the column is: the two give the same `DOUBLE`).
    fn sum_of(&mut self, x: &str, kind: PartKind) -> (String, String, String) {
        let filter = self.part(x, kind);
        let total = match kind {
            PartKind::Exact => "exact_total",
            PartKind::Float | PartKind::Day => "total",
        };
        (
            format!("CAST(sum({x}) AS DOUBLE)"),
            format!("CAST(sum({total}) {filter} AS DOUBLE)"),
            format!("sum(n) {filter}"),
        )
    }

    /// The age statistics (minimum, median, maximum: scalars, the index of the first returned)
    /// of the births counted by `births` (a `SELECT` of `birth` dates and their counts `n` over
    /// `groups` or `parts`, whose parameters are `as_of` and then `day_part` when given), in
    /// a CTE named after `set`. The median is the mean of the ages at 0-based positions (n-1)/2
    /// and n/2 of the sorted ages, which is what `median` gives; every value is read off the
    /// CTE alone, so the running statistics' groups give them too.
    fn ages(
        &mut self,
        set: usize,
        births: &str,
        as_of: NaiveDate,
        day_part: Option<Value>,
    ) -> usize {
        let ages = format!("__ages{set}");
        self.ctes.push(format!(
            "{ages} AS (SELECT age, sum(n) OVER (ORDER BY age) AS upto, sum(n) OVER () AS total \
             FROM (SELECT date_sub('year', birth, CAST(? AS DATE)) AS age, sum(n) AS n \
                   FROM ({births}) GROUP BY age HAVING sum(n) <> 0))"
        ));
        let as_of = Value::Text(as_of.format("%Y-%m-%d").to_string());
        self.cte_params.push(as_of.clone());
        if let Some(day_part) = day_part {
            self.cte_params.extend([as_of, day_part]);
        }
        self.merged_scalars(
            [
                format!("(SELECT min(age) FROM {ages})"),
                format!(
                    "(SELECT (min(age) FILTER (WHERE upto > (total - 1) // 2) \
                         + min(age) FILTER (WHERE upto > total // 2)) / 2 FROM {ages})"
                ),
                format!("(SELECT max(age) FROM {ages})"),
            ]
            .map(|e| (e.clone(), Some(e))),
        )
    }

    fn add(&mut self, kind: &Kind, as_of: NaiveDate, ages: Ages) -> Read {
        match kind {
            Kind::Age { birth_date } if ages == Ages::PerRow => {
                let as_of = Value::Text(as_of.format("%Y-%m-%d").to_string());
                let age = self.input(
                    format!("date_sub('year', {birth_date}, CAST(? AS DATE))"),
                    vec![as_of],
                );
                let first = self.scalars([
                    format!("min({age})"),
                    format!("median({age})"),
                    format!("max({age})"),
                ]);
                Read::Age { first }
            }
            Kind::Age { birth_date } if ages == Ages::FromParts => {
                // See `Ages::FromParts`. The day set's rows are not in `groups` (their part
                // numbers are above the sets'); `parts` is the running statistics' CTE.
                let day = self.group(birth_date, "count(*)");
                let month = self.group(
                    &format!("CAST(date_trunc('month', {birth_date}) AS DATE)"),
                    "count(*)",
                );
                self.hidden_sets.extend([day, month]);
                self.day_sets.push(day);
                let births = format!(
                    "SELECT __g{month} AS birth, __n AS n FROM groups WHERE __set = {month} \
                       AND __g{month} IS NOT NULL AND month(__g{month}) <> month(CAST(? AS DATE)) \
                     UNION ALL SELECT CAST(value AS DATE), n FROM parts WHERE part = ?"
                );
                let day_part = Value::BigInt(Part::day_number(day, as_of.month()));
                Read::Age {
                    first: self.ages(day, &births, as_of, Some(day_part)),
                }
            }
            Kind::Age { birth_date } => {
                // See `Ages::PerBirthDate`. The birth dates are a hidden grouping set of the
                // `groups` scan.
                let set = self.group(birth_date, "count(*)");
                self.hidden_sets.push(set);
                let births = format!(
                    "SELECT __g{set} AS birth, __n AS n FROM groups \
                     WHERE __set = {set} AND __g{set} IS NOT NULL"
                );
                Read::Age {
                    first: self.ages(set, &births, as_of, None),
                }
            }
            Kind::Distribution { expr, measure } => Read::Distribution {
                set: self.group(expr, "count(*)"),
                measure: *measure,
            },
            Kind::TopLocation { state, county } => Read::TopLocation {
                sets: [(state, "top_states"), (county, "top_counties")]
                    .into_iter()
                    .filter_map(|(column, key)| Some((self.group((*column)?, "count(*)"), key)))
                    .collect(),
            },
            Kind::TopCodes {
                code,
                description,
                patient,
            } => {
                let patient = self.input((*patient).to_string(), Vec::new());
                if let Some(description) = description {
                    let description = self.input((*description).to_string(), Vec::new());
                    self.group_extras
                        .push(format!("min({description}) AS __description"));
                }
                let set = self.group(code, &format!("count(DISTINCT {patient})"));
                let patients = self.scalars([format!("count(DISTINCT {patient})")]);
                Read::TopCodes { set, patients }
            }
            Kind::DateRange { column } => {
                let x = self.input((*column).to_string(), Vec::new());
                let filter = self.part(&x, PartKind::Day);
                let first = self.merged_scalars([
                    (
                        format!("CAST(CAST(min({x}) AS DATE) AS VARCHAR)"),
                        Some(format!("CAST(min(low_day) {filter} AS VARCHAR)")),
                    ),
                    (
                        format!("CAST(CAST(max({x}) AS DATE) AS VARCHAR)"),
                        Some(format!("CAST(max(high_day) {filter} AS VARCHAR)")),
                    ),
                ]);
                Read::DateRange { first }
            }
            Kind::NumericRange { column } => {
                let x = self.input((*column).to_string(), Vec::new());
                let filter = self.part(&x, PartKind::Float);
                let first = self.merged_scalars([
                    (
                        format!("CAST(min({x}) AS DOUBLE)"),
                        Some(format!("min(low_number) {filter}")),
                    ),
                    (
                        format!("CAST(max({x}) AS DOUBLE)"),
                        Some(format!("max(high_number) {filter}")),
                    ),
                ]);
                Read::NumericRange { first }
            }
            Kind::Totals {
                columns,
                average_key,
            } => {
                let first = self.scalars.len();
                for column in columns {
                    let x = self.input((*column).to_string(), Vec::new());
                    // The average as sum / count, which the running statistics can compute
                    // the same way (DuckDB's `avg` of a decimal divides differently).
                    let (sum, sum_of_parts, count_of_parts) =
                        self.sum_of(&x, self.part_kind(column));
                    self.merged_scalars([
                        (sum.clone(), Some(sum_of_parts.clone())),
                        (
                            format!("{sum} / count({x})"),
                            Some(format!("{sum_of_parts} / {count_of_parts}")),
                        ),
                    ]);
                }
                Read::Totals {
                    first,
                    columns: columns.clone(),
                    average_key: *average_key,
                }
            }
            Kind::Ratio {
                numerator,
                denominator,
            } => {
                let (n, d) = (
                    self.input((*numerator).to_string(), Vec::new()),
                    self.input((*denominator).to_string(), Vec::new()),
                );
                let (n_sum, n_parts, _) = self.sum_of(&n, self.part_kind(numerator));
                let (d_sum, d_parts, _) = self.sum_of(&d, self.part_kind(denominator));
                let first = self.merged_scalars([(
                    format!("{n_sum} / nullif({d_sum}, 0)"),
                    Some(format!("{n_parts} / nullif({d_parts}, 0)")),
                )]);
                Read::Ratio { first }
            }
            Kind::InpatientLos { class, start, end } => {
                let [inpatient, imp] = INPATIENT_CLASSES;
                let days = self.input(
                    format!(
                        "CASE WHEN lower({class}) IN (?, ?) AND {start} IS NOT NULL AND {end} IS NOT NULL \
                         THEN date_diff('day', CAST({start} AS DATE), CAST({end} AS DATE)) END"
                    ),
                    vec![Value::from(inpatient.to_string()), Value::from(imp.to_string())],
                );
                // Whole days: their sum is exact, so sum / count is the same from the parts.
                let (sum, sum_of_parts, count_of_parts) = self.sum_of(&days, PartKind::Exact);
                let first = self.merged_scalars([(
                    format!("{sum} / count({days})"),
                    Some(format!("{sum_of_parts} / {count_of_parts}")),
                )]);
                Read::InpatientLos { first }
            }
        }
    }

    /// The statement and its parameters.
    ///
    /// `base` (the scenario's rows of the table, the inputs computed) is read twice: by
    /// `totals` and by `groups`. Every other expression reads those two: on a lake each read of
    /// `base` is a scan that asks the catalog for the table's files again.
    fn sql(&self, scenario_id: &str) -> (String, Vec<Value>) {
        let (mut sql, mut params) = self.base(scenario_id, None);
        let scalars: String = self
            .scalars
            .iter()
            .enumerate()
            .map(|(i, aggregate)| format!(", {} AS __a{i}", aggregate.full))
            .collect();
        let totals = format!("totals AS (SELECT count(*) AS __n{scalars} FROM base)");
        if self.group_measures.is_empty() {
            sql.push_str(&format!(", {totals} SELECT * FROM totals"));
            return (sql, params);
        }
        let extras: String = self.group_extras.iter().map(|e| format!(", {e}")).collect();
        // Hidden sets keep their raw key (NULL in the other sets' rows) for the CTEs that read
        // them; they are left out of what the query returns.
        let raw: String = self
            .hidden_sets
            .iter()
            .map(|set| format!(", __g{set}"))
            .collect();
        let groups = format!(
            "SELECT {set} AS __set, {value} AS __value, count(*) AS __n, {measure} AS __measure{extras}{raw} \
             FROM base GROUP BY GROUPING SETS ({sets})",
            set = self.by_set(&|set| set.to_string()),
            value = self.by_set(&|set| format!("CAST(__g{set} AS VARCHAR)")),
            measure = self.by_set(&|set| self.group_measures[set].clone()),
            sets = self.grouping_sets(),
        );
        sql.push_str(&self.groups_and_totals(&groups, &totals));
        params.extend(self.cte_params.iter().cloned());
        (sql, params)
    }

    /// `WITH base AS NOT MATERIALIZED (...)`: the scenario's rows of the table with the inputs
    /// computed, and its parameters; or, when `rows` is given, every row of that table (of the
    /// same columns, holding only rows of the scenario), without the scenario's filter and
    /// parameter: DuckDB 1.5 plans a prepared statement that reads a table and has parameters
    /// again at every execution, and keeps the plan of one without (a batch's parts: ~1.5 ms
    /// each on a 2-vCPU Intel Xeon).
    pub(crate) fn base(&self, scenario_id: &str, rows: Option<&str>) -> (String, Vec<Value>) {
        let inputs = if self.inputs.is_empty() {
            "NULL AS __x".to_string()
        } else {
            self.inputs.join(", ")
        };
        let mut params = self.input_params.clone();
        let sql = match rows {
            Some(rows) => format!("WITH base AS NOT MATERIALIZED (SELECT {inputs} FROM {rows})"),
            None => {
                params.push(Value::from(scenario_id.to_string()));
                format!(
                    "WITH base AS NOT MATERIALIZED (SELECT {inputs} FROM {table} WHERE {scope})",
                    table = self.table,
                    scope = scope_filter(),
                )
            }
        };
        (sql, params)
    }

    /// `CASE WHEN GROUPING(__g0) = 0 THEN <f(0)> WHEN ... END`: per grouping set of a
    /// `GROUP BY GROUPING SETS` row.
    pub(crate) fn by_set(&self, f: &dyn Fn(usize) -> String) -> String {
        let arms: String = (0..self.group_measures.len())
            .map(|set| format!(" WHEN GROUPING(__g{set}) = 0 THEN {}", f(set)))
            .collect();
        format!("CASE{arms} END")
    }

    /// `(__g0), (__g1), ...`
    pub(crate) fn grouping_sets(&self) -> String {
        (0..self.group_measures.len())
            .map(|set| format!("(__g{set})"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `, groups AS (<groups>), <ctes>, <totals> SELECT ...`: the end of the statement, whether
    /// `groups` and `totals` read the rows or the running statistics. The CTEs' parameters
    /// (`cte_params`) come after those of `groups`.
    pub(crate) fn groups_and_totals(&self, groups: &str, totals: &str) -> String {
        let (materialized, shown) = if self.hidden_sets.is_empty() {
            ("", " FROM groups".to_string())
        } else {
            let hidden: Vec<String> = self.hidden_sets.iter().map(|s| s.to_string()).collect();
            let columns: Vec<String> = self.hidden_sets.iter().map(|s| format!("__g{s}")).collect();
            (
                "MATERIALIZED ",
                format!(
                    " EXCLUDE ({}) FROM groups WHERE __set NOT IN ({})",
                    columns.join(", "),
                    hidden.join(", ")
                ),
            )
        };
        let ctes: String = self.ctes.iter().map(|cte| format!(", {cte}")).collect();
        format!(
            ", groups AS {materialized}({groups}){ctes}, {totals} \
             SELECT * FROM totals UNION ALL BY NAME SELECT *{shown} \
             ORDER BY __set NULLS FIRST, __measure DESC, __value NULLS LAST"
        )
    }

    /// Runs the query and builds the statistics in plan order, keeping the first `max_top`
    /// rows of each grouping set.
    fn run(
        &self,
        conn: &Connection,
        scenario_id: &str,
        max_top: usize,
    ) -> duckdb::Result<Vec<Entry>> {
        let (sql, params) = self.sql(scenario_id);
        self.read(conn, &sql, params, max_top)
    }

    /// Runs `sql` (this query's statement, over the type's rows or over its running
    /// statistics) and builds the statistics in plan order, keeping the first `max_top` rows
    /// of each grouping set.
    pub(crate) fn read(
        &self,
        conn: &Connection,
        sql: &str,
        params: Vec<Value>,
        max_top: usize,
    ) -> duckdb::Result<Vec<Entry>> {
        let has_groups = !self.group_measures.is_empty();
        let has_description = !self.group_extras.is_empty();
        let mut statement = conn.prepare_cached(sql)?;
        let mut rows = statement.query(duckdb::params_from_iter(params))?;
        let mut scalars: Vec<Value> = Vec::new();
        let mut type_rows: i64 = 0;
        let mut groups: Vec<GroupRows> = (0..self.group_measures.len())
            .map(|_| GroupRows::default())
            .collect();
        while let Some(row) = rows.next()? {
            let set: Option<i64> = if has_groups { row.get("__set")? } else { None };
            match set.and_then(|s| usize::try_from(s).ok()) {
                None => {
                    type_rows = row.get("__n")?;
                    scalars = (0..self.scalars.len())
                        .map(|i| row.get::<_, Value>(format!("__a{i}").as_str()))
                        .collect::<duckdb::Result<_>>()?;
                }
                Some(set) => {
                    let description = if has_description {
                        row.get("__description")?
                    } else {
                        None
                    };
                    if let Some(group) = groups.get_mut(set).filter(|g| g.rows.len() < max_top) {
                        group.rows.push((
                            row.get("__value")?,
                            row.get("__n")?,
                            row.get("__measure")?,
                            description,
                        ));
                    }
                }
            }
        }
        let scalar = |i: usize| scalars.get(i).cloned().unwrap_or(Value::Null);
        let mut out = Vec::new();
        for (key, core, read) in &self.planned {
            let key = key.clone();
            // What this plan found: its statistic first, then any derived one (never core).
            let mut found: Vec<(String, StatValue)> = Vec::new();
            match read {
                Read::Age { first } => {
                    if let (Some(min), Some(median), Some(max)) = (
                        as_i64(&scalar(*first)),
                        as_f64(&scalar(first + 1)),
                        as_i64(&scalar(first + 2)),
                    ) {
                        let mut age = Map::new();
                        age.insert("min".into(), Json::from(min));
                        age.insert("median".into(), number(median, 1));
                        age.insert("max".into(), Json::from(max));
                        found.push((key, StatValue::Plain(Json::Object(age))));
                    }
                }
                Read::Distribution { set, measure } => {
                    let items = distribution(&groups[*set], *measure, type_rows);
                    if !items.is_empty() {
                        found.push((key, ranked(items, *measure)));
                    }
                }
                Read::TopLocation { sets } => {
                    for (set, location_key) in sets {
                        let items = distribution(&groups[*set], Measure::Share, type_rows);
                        if !items.is_empty() {
                            found.push((location_key.to_string(), ranked(items, Measure::Share)));
                            break;
                        }
                    }
                }
                Read::TopCodes { set, patients } => {
                    let everyone = as_i64(&scalar(*patients)).unwrap_or(0);
                    let items = groups[*set]
                        .rows
                        .iter()
                        .map(|(code, _, with_code, description)| {
                            let label = code
                                .as_deref()
                                .map_or(MISSING.to_string(), |c| truncate(c, MAX_LABEL_CHARS));
                            let mut entry = Map::new();
                            entry.insert("code".into(), Json::String(label.clone()));
                            if let Some(d) = description {
                                entry.insert(
                                    "description".into(),
                                    Json::String(truncate(d, MAX_LABEL_CHARS)),
                                );
                            }
                            let share = (everyone != 0)
                                .then(|| number(*with_code as f64 / everyone as f64, 3));
                            entry.insert("patient_share".into(), share.unwrap_or(Json::Null));
                            (label, Json::Object(entry))
                        })
                        .collect();
                    found.push((
                        key,
                        StatValue::Ranked {
                            items,
                            as_array: true,
                            counts: false,
                        },
                    ));
                    found.push((
                        "patients".to_string(),
                        StatValue::Plain(Json::from(everyone)),
                    ));
                }
                Read::DateRange { first } => {
                    if let (Value::Text(min), Value::Text(max)) =
                        (scalar(*first), scalar(first + 1))
                    {
                        found.push((key, StatValue::Plain(Json::from(vec![min, max]))));
                    }
                }
                Read::NumericRange { first } => {
                    if let (Some(min), Some(max)) =
                        (as_f64(&scalar(*first)), as_f64(&scalar(first + 1)))
                    {
                        found.push((
                            key,
                            StatValue::Plain(Json::Array(vec![number(min, 2), number(max, 2)])),
                        ));
                    }
                }
                Read::Totals {
                    first,
                    columns,
                    average_key,
                } => {
                    let (mut totals, mut averages) = (Map::new(), Map::new());
                    for (i, column) in columns.iter().enumerate() {
                        let (sum, avg) = (scalar(first + 2 * i), scalar(first + 2 * i + 1));
                        if let (Some(sum), Some(avg)) = (as_f64(&sum), as_f64(&avg)) {
                            totals.insert((*column).to_string(), number(sum, 2));
                            averages.insert((*column).to_string(), number(avg, 2));
                        }
                    }
                    if !totals.is_empty() {
                        found.push((key, StatValue::Plain(Json::Object(totals))));
                        if let Some(average_key) = average_key {
                            found.push((
                                (*average_key).to_string(),
                                StatValue::Plain(Json::Object(averages)),
                            ));
                        }
                    }
                }
                Read::Ratio { first } => {
                    if let Some(ratio) = as_f64(&scalar(*first)) {
                        found.push((key, StatValue::Plain(number(ratio, 3))));
                    }
                }
                Read::InpatientLos { first } => {
                    if let Some(days) = as_f64(&scalar(*first)) {
                        found.push((key, StatValue::Plain(number(days, 1))));
                    }
                }
            }
            out.extend(
                found
                    .into_iter()
                    .enumerate()
                    .map(|(i, (key, value))| Entry {
                        key,
                        value,
                        core: *core && i == 0,
                    }),
            );
        }
        Ok(out)
    }
}

fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::TinyInt(v) => Some(i64::from(*v)),
        Value::SmallInt(v) => Some(i64::from(*v)),
        Value::Int(v) => Some(i64::from(*v)),
        Value::BigInt(v) => Some(*v),
        Value::HugeInt(v) => i64::try_from(*v).ok(),
        Value::UBigInt(v) => i64::try_from(*v).ok(),
        _ => None,
    }
}

fn as_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Double(v) => Some(*v),
        Value::Float(v) => Some(f64::from(*v)),
        _ => None,
    }
}

/// The top values of one grouping set (best first, ties by value), as shares of the type's
/// rows or as counts; nothing when the value is NULL in every row.
fn distribution(group: &GroupRows, measure: Measure, type_rows: i64) -> Vec<(String, Json)> {
    let mut items: Vec<(String, Json)> = Vec::with_capacity(group.rows.len());
    for (value, n, _, _) in &group.rows {
        let label = value
            .as_deref()
            .map_or(MISSING.to_string(), |v| truncate(v, MAX_LABEL_CHARS));
        let label = unique_label(&items, label);
        let measured = match measure {
            // As the former `count(*)::DOUBLE / sum(count(*)) OVER ()`: the same division.
            Measure::Share => number(*n as f64 / type_rows as f64, 3),
            Measure::Count => Json::from(*n),
        };
        items.push((label, measured));
    }
    if items.iter().all(|(label, _)| label == MISSING) {
        // The column is NULL in every row: nothing to report (an absent key, not a fake 100%).
        items.clear();
    }
    items
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

fn ranked(items: Vec<(String, Json)>, measure: Measure) -> StatValue {
    StatValue::Ranked {
        items,
        as_array: false,
        counts: measure == Measure::Count,
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
            &[
                "totals",
                "paid_to_billed",
                "claim_type",
                "status",
                "service_date_range",
            ],
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

    fn check_compact(
        key: &str,
        value: StatValue,
        top_n: usize,
        label_chars: usize,
        expected: Json,
    ) {
        let detail = Detail { top_n, label_chars };
        assert_eq!(value.compact(key, detail), expected, "{key}: {value:?}");
    }

    fn measured(items: &[(&str, Json)], measure: Measure) -> StatValue {
        let items = items.iter().map(|(k, v)| (k.to_string(), v.clone()));
        ranked(items.collect(), measure)
    }

    fn shares(items: &[(&str, Json)]) -> StatValue {
        measured(items, Measure::Share)
    }

    #[test]
    fn statistics_are_compact_strings() {
        use serde_json::json;
        let gender = shares(&[("F", json!(0.523)), ("M", json!(0.477))]);
        check_compact("gender", gender.clone(), 5, 40, json!("F 52%; M 48%"));
        check_compact("gender", gender, 1, 40, json!("F 52%"));
        let rare = shares(&[("a", json!(0.991)), ("b", json!(0.004)), ("c", json!(0.0))]);
        check_compact("x", rare, 5, 40, json!("a 99%; b 0.4%; c 0%"));
        let arms = measured(&[("ARM-A", json!(3)), ("ARM-B", json!(1))], Measure::Count);
        check_compact("arms", arms, 5, 40, json!("ARM-A 3; ARM-B 1"));
        let whole = shares(&[("all", json!(1))]);
        check_compact("status", whole, 5, 40, json!("all 100%"));
        let drugs = shares(&[("atorvastatin calcium 20 MG Oral Tablet", json!(0.14))]);
        check_compact("top_drugs", drugs, 5, 12, json!("atorvastatin… 14%"));
        let codes = StatValue::Ranked {
            items: vec![
                (
                    "J06.9".into(),
                    json!({"code": "J06.9", "description": "Acute upper respiratory infection", "patient_share": 0.355}),
                ),
                ("I10".into(), json!({"code": "I10", "patient_share": 0.31})),
            ],
            as_array: true,
            counts: false,
        };
        check_compact(
            "top_codes",
            codes.clone(),
            5,
            24,
            json!("J06.9 Acute upper respiratory… 36%; I10 31%"),
        );
        check_compact(
            "top_codes",
            codes.clone(),
            5,
            12,
            json!("J06.9 36%; I10 31%"),
        );
        check_compact(
            "top_codes",
            codes,
            1,
            40,
            json!("J06.9 Acute upper respiratory infection 36%"),
        );
        let age = StatValue::Plain(json!({"min": 0, "median": 45.5, "max": 93}));
        check_compact("age", age, 5, 40, json!("0–93, median 45.5"));
        let totals = StatValue::Plain(json!({"total_billed": 728449.25, "total_paid": 35.5}));
        check_compact("totals", totals, 5, 40, json!("billed 728449; paid 35.5"));
        let range = StatValue::Plain(json!(["2024-01-01", "2024-12-31"]));
        check_compact("d_range", range, 5, 40, json!("2024-01-01..2024-12-31"));
        let numbers = StatValue::Plain(json!([1.5, 20]));
        check_compact("n_range", numbers, 5, 40, json!("1.5..20"));
        check_compact(
            PAID_TO_BILLED,
            StatValue::Plain(json!(0.313)),
            5,
            40,
            json!("31%"),
        );
        check_compact(
            "inpatient_avg_los_days",
            StatValue::Plain(json!(4.2)),
            5,
            40,
            json!(4.2),
        );
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
