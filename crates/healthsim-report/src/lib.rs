//! # healthsim-report
//!
//! A self-contained HTML report of one scenario, for the people who run the agents and want to
//! *look* at what was generated before handing it on: is the age pyramid plausible, do
//! diagnoses have realistic prevalence, do claim amounts look like claims, are references
//! intact.
//!
//! - [`render_report`] builds a [`Report`]: the HTML text and a small [`Headline`] (counts per
//!   type, date span, integrity problems, ...) that fits an MCP tool result.
//! - [`write_report`] renders and writes the file atomically (temporary file, then link or
//!   rename into place), refusing to replace an existing file unless
//!   [`ReportOptions::overwrite`] is set; it returns a [`ReportSummary`].
//!
//! The page has one section per product present in the scenario, in this order, and leaves
//! out sections and charts that have no data: **overview** (counts per type, date span, tags,
//! description), **people** (population pyramid, top states and counties), **clinical**
//! (encounter class mix, monthly volume, top diagnoses with prevalence, lab values against
//! their reference range, top medications), **claims** (billed / allowed / paid distributions,
//! totals by claim type, paid-to-billed ratio), **pharmacy** (top drugs, fills per month, cost
//! distribution), **trial** (enrollment by arm and site, adverse events by severity), and
//! always **data quality** (null rates of the columns that matter, duplicated natural keys,
//! and referential integrity of every foreign key of the registry, with example ids).
//!
//! How it is built:
//!
//! - Every figure is an SQL aggregate computed inside DuckDB; Rust receives only what a chart
//!   or a table shows (top-N lists, bins, months, one row per reference). Table and column
//!   names come only from the entity registry of `healthsim-schema`; the scenario id and
//!   every other value are bound parameters.
//! - Figures the summary also shows (ages, gender shares, top states, class mix, top codes with
//!   prevalence, claim totals, top drugs, arms, severity shares) come from
//!   [`healthsim_summary::type_statistics`]: the same plan and query as the agent's summary,
//!   so the report and the summary never disagree.
//! - Charts are drawn by `plotters` into SVG and inlined; the page has inline CSS (with print
//!   rules), no script, and no URL of any kind; a Content-Security-Policy that forbids every
//!   fetch makes that explicit. Every text taken from the database is HTML-escaped.
//! - Numbers a test (or a curious reader) may want to check carry stable attributes:
//!   `data-figure="claims.type.professional.total_paid" data-value="1234.5"`; sections are
//!   `<section id="claims" data-section="claims">`.
//!
//! Neighbours: it reads the registry (`healthsim-schema`) and the summary's statistics
//! (`healthsim-summary`); the CLI and the MCP server call it with a connection and a resolved
//! scenario id. It **never writes** to the database, does not resolve scenario names, and
//! knows nothing of argv or MCP.
//!
//! ```
//! use healthsim_report::{render_report, ReportOptions};
//!
//! let conn = duckdb::Connection::open_in_memory()?;
//! healthsim_schema::migrate(&conn)?;
//! conn.execute_batch(
//!     "INSERT INTO scenarios (scenario_id, name, created_at, updated_at)
//!          VALUES ('s1', 'diabetes-demo <b>', TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02');
//!      INSERT INTO patients (scenario_id, patient_id, mrn, birth_date, gender, state)
//!          VALUES ('s1', 'p1', 'MRN1', DATE '1950-06-01', 'female', 'AZ'),
//!                 ('s1', 'p2', 'MRN1', DATE '1980-06-01', 'male', 'AZ');
//!      INSERT INTO scenario_entities VALUES ('s1', 'patients', 2, TIMESTAMP '2024-01-02');",
//! )?;
//!
//! let report = render_report(&conn, "s1", &ReportOptions::default())?;
//! assert_eq!(report.headline.total_entities, 2);
//! assert_eq!(report.headline.sections, ["overview", "people", "data_quality"]);
//! assert_eq!(report.headline.duplicate_key_values, 1); // MRN1 twice
//! assert!(report.html.contains("diabetes-demo &lt;b&gt;"));
//! assert!(!report.html.contains("<script"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod chart;
mod claims;
mod clinical;
mod dist;
mod figure;
mod format;
mod options;
mod overview;
mod page;
mod people;
mod pharmacy;
mod quality;
mod report;
mod sql;
mod stats;
mod trial;
mod write;

use std::path::PathBuf;

pub use report::{render_report, Headline, Report, ReportOptions, Section};
pub use write::{write_report, ReportSummary};

/// Errors of the report crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No scenario has this id (names are resolved by the caller, not here).
    #[error("scenario '{scenario_id}' not found")]
    ScenarioNotFound {
        /// The id the caller passed.
        scenario_id: String,
    },
    /// The summary's statistics of a type could not be computed.
    #[error("statistics for the report failed: {source}")]
    Statistics {
        /// The summary's error (it names the type and the statistic); boxed, it is large.
        #[source]
        source: Box<healthsim_summary::Error>,
    },
    /// A query of the report failed.
    #[error("database error while reading {context}: {source}")]
    Query {
        /// Which figure was being computed.
        context: String,
        /// The database error.
        source: duckdb::Error,
    },
    /// A chart could not be drawn.
    #[error("chart '{chart}' could not be drawn: {message}")]
    Chart {
        /// The chart's id (`people.pyramid`, ...).
        chart: String,
        /// What plotters reported.
        message: String,
    },
    /// The target file exists and the caller did not ask to overwrite it.
    #[error("'{}' already exists; pass overwrite to replace it", path.display())]
    FileExists {
        /// The file that exists.
        path: PathBuf,
    },
    /// The report could not be written (directory missing and not creatable, no permission,
    /// disk full, a parent that is a file, ...).
    #[error("cannot write the report to '{}': {source}", path.display())]
    Write {
        /// The file (or directory) that could not be written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl Error {
    /// Whether the caller is at fault (true) rather than the database or the machine (false):
    /// an unknown scenario, a file that exists without `overwrite`, a folder that does not
    /// exist. Written as an exhaustive match so a new variant must be classified.
    pub fn is_caller_error(&self) -> bool {
        match self {
            Error::ScenarioNotFound { .. } | Error::FileExists { .. } => true,
            Error::Write { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
            Error::Statistics { .. } | Error::Query { .. } | Error::Chart { .. } => false,
        }
    }
}

impl From<healthsim_summary::Error> for Error {
    fn from(source: healthsim_summary::Error) -> Self {
        match source {
            healthsim_summary::Error::ScenarioNotFound { scenario_id } => {
                Error::ScenarioNotFound { scenario_id }
            }
            source => Error::Statistics {
                source: Box::new(source),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::ErrorKind;
    use std::path::PathBuf;

    use super::Error;

    fn check(error: Error, caller: bool) {
        assert_eq!(error.is_caller_error(), caller, "{error}");
    }

    fn write(kind: ErrorKind) -> Error {
        Error::Write {
            path: PathBuf::from("out/report.html"),
            source: std::io::Error::from(kind),
        }
    }

    /// One line per variant: whether the caller is at fault.
    #[test]
    fn every_variant_is_classified() {
        check(
            Error::ScenarioNotFound {
                scenario_id: "s".into(),
            },
            true,
        );
        check(
            Error::FileExists {
                path: PathBuf::from("r.html"),
            },
            true,
        );
        check(write(ErrorKind::NotFound), true);
        check(write(ErrorKind::PermissionDenied), false);
        check(
            Error::Statistics {
                source: Box::new(healthsim_summary::Error::ScenarioNotFound {
                    scenario_id: "s".into(),
                }),
            },
            false,
        );
        check(
            Error::Query {
                context: "null rates".into(),
                source: duckdb::Error::InvalidParameterCount(1, 2),
            },
            false,
        );
        check(
            Error::Chart {
                chart: "people.pyramid".into(),
                message: "no room".into(),
            },
            false,
        );
    }
}
