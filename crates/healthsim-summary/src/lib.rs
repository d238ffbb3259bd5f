//! # healthsim-summary
//!
//! Token-bounded summaries of a scenario: what the agent sees instead of the data
//! ("summary in context, data in DuckDB"; ARCHITECTURE.md, "The agent's contract").
//!
//! - [`scenario_summary`] builds a [`ScenarioSummary`]: scenario metadata and tags, entity counts
//!   per type, statistics per type computed inside DuckDB (SQL aggregates; rows are never loaded
//!   into Rust) — from the type's rows, or added up from the running statistics a writer keeps
//!   in `scenario_statistics` ([`statistics_parts`], same values) — and a few diverse samples of
//!   the major types. The result is trimmed until its
//!   compact JSON fits [`BUDGET_WITHOUT_SAMPLES`] / [`BUDGET_WITH_SAMPLES`] tokens, whatever the
//!   scenario size; [`ScenarioSummary::token_estimate`] reports the measured size.
//! - [`entity_samples`] returns N samples of one type with a [`SampleStrategy`]
//!   (diverse, random or recent), selected by a `LIMIT`ed query.
//! - [`count_tokens`] measures text with a real BPE tokenizer (cl100k_base).
//! - [`type_statistics`] returns the statistics of one type **untrimmed** (longer top-N lists
//!   if asked), for readers that show more than the summary and must agree with it (the HTML
//!   report).
//!
//! Statistics per type (keys of `statistics[table]`), derived from the registry rather than
//! written per table. [`type_statistics`] returns them structured (shares rounded to 3
//! decimals, money to 2); the summary writes each as one compact string instead, which costs
//! far fewer tokens than nested objects: shares as whole percents best first
//! (`"gender": "F 52%; M 48%"`), ages as `"0–93, median 45"`, top codes as
//! `"J06.9 Acute upper resp… 36%; I10 31%"`, totals as `"billed 728449; paid 227869"`, ranges as
//! `"2024-01-01..2024-12-31"` (see [`ScenarioSummary`]).
//!
//! | types | statistics |
//! |---|---|
//! | person-like (a `birth_date` column: persons, patients, members, rx_members, subjects) | `age` {min, median, max} as of [`SummaryOptions::as_of`], `gender` shares, `top_states` (or `top_counties`), the category column's shares, the date column's range; subjects also `arms` (counts) |
//! | encounters | `encounter_class` shares, `start_datetime_range`, `inpatient_avg_los_days` |
//! | diagnoses | `top_codes` [{code, description, patient_share}] (share of patients with any diagnosis), `patients` |
//! | claims | `totals` and `avg_per_claim` of the money columns, `paid_to_billed` (sum paid / sum billed), `claim_type` and `status` shares, `service_date_range` |
//! | pharmacy_claims, prescriptions | `top_drugs`, `totals` (money for pharmacy claims; quantity and days supply for prescriptions), date range |
//! | adverse_events | `top_terms` (AEDECOD, else AETERM), `aesev` shares |
//! | every other type | the registry's `category_column` shares and `date_column` range; with no category, the range of the first numeric column |
//!
//! A key is absent when its inputs are all NULL. The statistics of a type are its most
//! important first; trimming keeps that order and keeps the **core** statistics longest: ages
//! and gender shares of person-like types, trial arms, the encounter class mix, top codes,
//! claim totals and `paid_to_billed`, and the top drugs of pharmacy claims (see
//! `ScenarioSummary`). Up to about twenty types, all of them fit in 500 tokens with top-3 lists.
//!
//! SQL identifiers come only from the registry; the scenario id, dates and limits are bound
//! parameters.
//!
//! Neighbours: every table, column and statistic hint is read from the entity registry of
//! `healthsim-schema` (no table list lives here); `healthsim-persist` calls this crate after
//! each write and for `get_scenario_summary` / `get_entity_samples`.
//! This crate **never writes** to the database (it builds the `SELECT` of the running
//! statistics' parts; `healthsim-persist` appends it), and it does not resolve scenario names:
//! callers pass the `scenario_id`.
//!
//! With the `json-schema` feature, [`ScenarioSummary`] and [`SampleStrategy`] derive
//! `schemars::JsonSchema` (the MCP server publishes them as tool schemas): their doc comments
//! are the descriptions an agent reads, so they are written for that reader.
//!
//! ```
//! use healthsim_summary::{scenario_summary, count_tokens, SummaryOptions, BUDGET_WITH_SAMPLES};
//!
//! let conn = duckdb::Connection::open_in_memory()?;
//! healthsim_schema::migrate(&conn)?;
//! conn.execute_batch(
//!     "INSERT INTO scenarios (scenario_id, name, created_at, updated_at)
//!          VALUES ('s1', 'diabetes-demo', TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02');
//!      INSERT INTO patients (scenario_id, patient_id, birth_date, gender, state)
//!          VALUES ('s1', 'p1', DATE '1950-06-01', 'female', 'AZ'),
//!                 ('s1', 'p2', DATE '1980-06-01', 'male', 'AZ');
//!      INSERT INTO scenario_entities VALUES ('s1', 'patients', 2, TIMESTAMP '2024-01-02');",
//! )?;
//!
//! let summary = scenario_summary(&conn, "s1", &SummaryOptions::default())?;
//! assert_eq!(summary.entity_counts["patients"], 2);
//! // Samples are a table: a header row of field names, then one row per sample.
//! assert_eq!(summary.samples["patients"].len(), 1 + 2);
//! assert_eq!(summary.statistics["patients"]["gender"], "female 50%; male 50%");
//! assert!(summary.token_estimate <= BUDGET_WITH_SAMPLES);
//! assert_eq!(summary.token_estimate, count_tokens(&serde_json::to_string(&summary)?));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod budget;
mod running;
mod samples;
mod scenario;
mod shape;
mod side_by_side;
mod sql;
mod stats;
mod summary;
mod text;
pub mod tokens;

pub use running::{
    statistics_merge, statistics_parts, PartsOf, PART_COLUMNS, RUNNING_STATISTICS_FROM,
};
pub use samples::{entity_samples, SampleStrategy, SAMPLE_TEXT_CHARS};
pub use shape::ScenarioSummary;
pub use side_by_side::SIDE_BY_SIDE_FROM;
pub use stats::type_statistics;
pub use summary::{scenario_summary, scenario_summary_within, SummaryOptions};
pub use tokens::count_tokens;

/// Samples per major entity type in a summary, unless the caller asks otherwise (ARCHITECTURE.md, "The agent's contract").
pub const DEFAULT_SAMPLES_PER_TYPE: usize = 3;
/// Token budget of a summary without samples (compact JSON, cl100k_base).
pub const BUDGET_WITHOUT_SAMPLES: usize = 500;
/// Token budget of a summary with samples (compact JSON, cl100k_base).
pub const BUDGET_WITH_SAMPLES: usize = 3500;

/// Errors of the summary crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No scenario has this id (names are resolved by the caller, not here).
    #[error("scenario '{scenario_id}' not found")]
    ScenarioNotFound {
        /// The id the caller passed.
        scenario_id: String,
    },
    /// The entity type is not a table name, singular form or alias of the registry.
    #[error("{source}")]
    UnknownEntityType {
        /// The registry's error, listing the valid types.
        #[from]
        source: healthsim_schema::Error,
    },
    /// A sample strategy name that is not one of the valid ones.
    #[error("unknown sample strategy '{given}'; valid strategies: {}", valid.join(", "))]
    UnknownSampleStrategy {
        /// What the caller asked for.
        given: String,
        /// Every valid strategy name.
        valid: Vec<&'static str>,
    },
    /// A statistic's query failed; statistics are never silently dropped.
    #[error("statistic '{statistic}' of {entity_type} failed: {source}")]
    Statistic {
        /// Table name of the entity type.
        entity_type: String,
        /// Which statistic (e.g. `age`, `top_codes`).
        statistic: String,
        /// The database error.
        source: duckdb::Error,
    },
    /// Any other query failed (metadata, counts, samples).
    #[error("database error while {context}: {source}")]
    Database {
        /// What was being done.
        context: String,
        /// The database error.
        source: duckdb::Error,
    },
}

impl Error {
    /// Whether the caller can fix this by changing the request (a scenario that does not exist,
    /// an unknown entity type or sample strategy), rather than a failure of the database.
    pub fn is_caller_error(&self) -> bool {
        match self {
            Error::ScenarioNotFound { .. }
            | Error::UnknownEntityType { .. }
            | Error::UnknownSampleStrategy { .. } => true,
            Error::Statistic { .. } | Error::Database { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    fn check(error: Error, expected: bool) {
        assert_eq!(error.is_caller_error(), expected, "{error}");
    }

    #[test]
    fn caller_errors_are_the_request_s_fault() {
        let db = || duckdb::Error::QueryReturnedNoRows;
        check(
            Error::ScenarioNotFound {
                scenario_id: "s".into(),
            },
            true,
        );
        check(
            Error::UnknownEntityType {
                source: healthsim_schema::Error::UnknownEntityType {
                    given: "x".into(),
                    valid: vec!["patients"],
                },
            },
            true,
        );
        check(
            Error::UnknownSampleStrategy {
                given: "x".into(),
                valid: vec!["diverse"],
            },
            true,
        );
        check(
            Error::Statistic {
                entity_type: "patients".into(),
                statistic: "age".into(),
                source: db(),
            },
            false,
        );
        check(
            Error::Database {
                context: "counting".into(),
                source: db(),
            },
            false,
        );
    }
}
