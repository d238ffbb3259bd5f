//! The scenario summary: metadata, counts, statistics and samples, within a token budget.

use chrono::NaiveDate;
use duckdb::Connection;

use std::collections::HashMap;

use crate::budget::{self, Parts};
use crate::running;
use crate::samples;
use crate::scenario::{read_counts, read_metadata};
use crate::shape::ScenarioSummary;
use crate::stats;
use crate::{Error, DEFAULT_SAMPLES_PER_TYPE};

/// What a summary includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryOptions {
    /// Samples per major entity type present; 0 leaves samples out (and the smaller
    /// budget, [`crate::BUDGET_WITHOUT_SAMPLES`], applies).
    pub samples_per_type: usize,
    /// The date ages are computed at (fixed in tests, today in use).
    pub as_of: NaiveDate,
    /// Rows of a type from which its running statistics are looked for (default
    /// [`crate::RUNNING_STATISTICS_FROM`], the size from which writers keep them): a scenario
    /// whose types are all smaller is summarized without the query that looks for them. Parts
    /// are read only where they add up to the type's count, so any value gives the same
    /// summary.
    pub running_statistics_from: u64,
    /// Rows of the scenario from which the summary runs its statements on two connections side
    /// by side, the second opened with `Connection::try_clone` (see `side_by_side.rs`; with at
    /// least two types present). Only for a caller that promises that the connection it passes
    /// has no uncommitted write (the second would not see it) and that nothing else writes the
    /// database while the summary runs (each connection reads its own snapshot): the store's
    /// read path on a database file, which holds the store and the file's lock meanwhile.
    /// Default `u64::MAX`: never.
    pub side_by_side_from: u64,
}

impl Default for SummaryOptions {
    /// [`DEFAULT_SAMPLES_PER_TYPE`] samples, ages as of today (UTC).
    fn default() -> Self {
        Self {
            samples_per_type: DEFAULT_SAMPLES_PER_TYPE,
            as_of: chrono::Utc::now().date_naive(),
            running_statistics_from: crate::RUNNING_STATISTICS_FROM,
            side_by_side_from: u64::MAX,
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
    let parts = if counts
        .iter()
        .any(|(_, n)| *n >= options.running_statistics_from)
    {
        running::counts_of_parts(conn, scenario_id)?
    } else {
        HashMap::new()
    };
    let scenario_rows: u64 = counts.iter().map(|(_, n)| *n).sum();
    // A second connection when the caller allows it and there is work to split; failing to
    // open one, the summary runs on the first alone.
    let mut helper = if counts.len() > 1 && scenario_rows >= options.side_by_side_from {
        conn.try_clone().ok()
    } else {
        None
    };
    // Largest types first, so the two connections finish together.
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(counts[i].1));
    let statistics = crate::side_by_side::each(conn, helper.as_mut(), &order, |c, i| {
        let (t, n) = &counts[i];
        let parts_count = parts.get(t.table).copied();
        stats::compute(c, t, *n, parts_count, scenario_id, options.as_of)
    })
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    let mut sampled = Vec::new();
    if options.samples_per_type > 0 {
        let major: Vec<_> = counts.iter().filter(|(t, _)| t.major).collect();
        let types: Vec<_> = major.iter().map(|(t, _)| *t).collect();
        let rows = samples::diverse_of_types(
            conn,
            helper.as_mut(),
            &types,
            scenario_id,
            options.samples_per_type,
        )?;
        for ((t, n), samples) in major.into_iter().zip(rows) {
            sampled.push(budget::TypeSamples {
                entity_type: t,
                count: *n,
                samples,
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
