//! The running statistics of a scenario's summary (`scenario_statistics`), kept by the write
//! path.
//!
//! Why: a persist call returns the scenario's summary, which read every row of each type of the
//! scenario, so a 50-entity call into 1,000,000 patients cost three times one into 10,000. `healthsim-summary` can add a type's statistics up from *parts* instead (row counts
//! per value, sums, counts, extremes: see its `running` module); this module decides when parts
//! are written and when they are thrown away, so that parts present are never stale:
//!
//! - a persist that returns a summary ([`Statistics::Keep`]), for a type that reaches
//!   [`crate::StoreOptions::running_statistics_from`] rows, appends the parts of the batch's
//!   rows when the existing parts added up to the type's count before the batch and the batch
//!   has at most [`DIRECT_APPEND_MAX_ROWS`]; when some of its ids exist, it first appends the
//!   parts of the rows they replace, negated ([`replace_batch`]: counts and sums come out that
//!   way, extremes do not, so a replaced value at an extreme recomputes instead). Otherwise (a
//!   larger batch, no parts yet) it replaces the type's parts with those of all its rows (one
//!   scan, what the summary would have read anyway). Every [`COMPACT_AFTER`] appended sets, one
//!   type's parts are added up into one set;
//! - a clone copies the parts of each type it copies along with its rows (the same rows have
//!   the same parts);
//! - every other write of a scenario (a bulk persist without summary, merge, import,
//!   FHIR and legacy imports, delete) deletes the scenario's parts, through
//!   [`crate::scenario::touch`], which every such write calls as its guard-row update;
//! - the bulk writes that hand a whole scenario over (an import, a FHIR or legacy import, a
//!   merge) then compute the parts of every large type from all its rows, one scan each,
//!   before they commit ([`keep_large`]); a scenario written batch by batch gets them back
//!   from [`Store::refresh_running_statistics`] (`healthsim persist` calls it once its last
//!   batch is written), in a transaction of its own.
//!
//! The summary reads a type's parts only when they add up to the manifest's count, and types
//! whose statistics do not merge (diagnoses: distinct patients per code) have none.

use duckdb::types::Value;
use duckdb::Connection;
use healthsim_schema::ddl::STATISTICS_TABLE;
use healthsim_schema::EntityType;
use healthsim_summary::{statistics_merge, statistics_parts, PartsOf, PART_COLUMNS};

use crate::error::{db, Result};
use crate::persist::DIRECT_APPEND_MAX_ROWS;
use crate::scenario;
use crate::store::{in_transaction, Store};
use crate::transfer::tables_with_rows;

/// What a write does with the running statistics of the scenario it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Statistics {
    /// Keep them up to date for types of at least `from` rows (a persist that returns the
    /// scenario's summary; `from` is [`crate::StoreOptions::running_statistics_from`]).
    Keep { from: u64 },
    /// Delete them (every other write; the next persist that keeps them starts again).
    Drop,
}

/// Sets of parts of one type after which they are added up into one (each set holds a row per
/// distinct value of the batch: about a hundred for 50 patients).
pub(crate) const COMPACT_AFTER: i64 = 32;

/// Deletes every part of the scenario's running statistics.
pub(crate) fn forget(conn: &Connection, scenario_id: &str) -> Result<()> {
    conn.prepare_cached(&format!(
        "DELETE FROM {STATISTICS_TABLE} WHERE scenario_id = ?"
    ))
    .and_then(|mut s| s.execute([scenario_id]))
    .map_err(db("deleting the scenario's running statistics"))?;
    Ok(())
}

impl Store {
    /// Replaces the running statistics of every type of the scenario (id or name) that has at
    /// least [`crate::StoreOptions::running_statistics_from`] rows with the parts of all its
    /// rows, so that its summaries add parts up instead of reading those rows (the bench's
    /// summary of 1,000,000 patients: 36 → 13 ms). For a caller that wrote a scenario in bulk
    /// (which deletes its parts: ARCHITECTURE.md, "Running statistics") and will summarize it,
    /// such as `healthsim persist` after its last batch: one scan per large type, about what
    /// one summary reads. One transaction, which changes no entity and not `updated_at`; on a
    /// lake it is a write that conflicts with other writers of the lake, and is retried like
    /// theirs. A scenario without such a type is only read.
    ///
    /// # Errors
    ///
    /// [`crate::Error::ScenarioNotFound`] / [`crate::Error::AmbiguousScenario`],
    /// [`crate::Error::Database`], and the errors of opening the database.
    pub fn refresh_running_statistics(&self, scenario: &str) -> Result<()> {
        let from = self.options().running_statistics_from;
        self.with_writer(|conn| {
            in_transaction(conn, |conn| {
                let target = scenario::resolve_on(conn, scenario)?;
                let id = target.scenario_id.as_str();
                // Nothing to keep: the transaction stays a read, and takes no writer's turn.
                if keep_large(conn, id, from)? {
                    scenario::guard(conn, id)?;
                }
                Ok(())
            })
        })
    }
}

/// Inside a transaction that has written the scenario (after its last write, whose guard-row
/// update deleted the parts): computes the parts of every type of at least `from` rows whose
/// statistics merge, from all its rows. Returns whether there was such a type. The bulk writes
/// that end by summarizing or handing the scenario to an agent (an import, a FHIR or legacy
/// import, a merge) call it, so the summaries that follow read parts instead of rows.
pub(crate) fn keep_large(conn: &Connection, scenario_id: &str, from: u64) -> Result<bool> {
    let large: Vec<_> = tables_with_rows(conn, scenario_id)?
        .into_iter()
        .filter(|(t, count)| *count >= from && statistics_merge(t))
        .collect();
    for (t, _) in &large {
        after_batch(conn, scenario_id, t, Upkeep::Recompute)?;
    }
    Ok(!large.is_empty())
}

/// What a batch that keeps the running statistics does with the parts of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upkeep {
    /// Nothing: the type's statistics do not merge, or it stays too small to keep parts.
    Nothing,
    /// Append the parts of the batch's rows, staged in a temporary table; `sets` were there.
    FromBatch { sets: i64 },
    /// Some of the batch's ids exist: take the parts of the rows they replace out (a set of
    /// negated counts and sums) and append the batch's, or, when a replaced row holds one of
    /// the type's extremes (which a negated set cannot take out), recompute ([`replace_batch`]);
    /// `sets` were there.
    Replace { sets: i64 },
    /// Replace the type's parts with those of all its rows, once the batch is written.
    Recompute,
}

/// A batch about to be written: its rows, how many replace rows, and the type's count in the
/// manifest before it when the caller read it already.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Written {
    pub(crate) staged: u64,
    pub(crate) updated: u64,
    pub(crate) count: Option<u64>,
}

/// Decides, before a batch of `t` is written, what it does with the type's parts; see the
/// [module documentation](self).
pub(crate) fn upkeep(
    conn: &Connection,
    scenario_id: &str,
    t: &'static EntityType,
    batch: Written,
    from: u64,
) -> Result<Upkeep> {
    if !statistics_merge(t) {
        return Ok(Upkeep::Nothing);
    }
    let context = || db(format!("reading the running statistics of {}", t.table));
    // The type's count before the batch: below the threshold after it, there is nothing to
    // keep, and no parts to delete either (a keeping persist writes none below it, and every
    // other write deletes them; parts of a store with a lower threshold no longer add up to
    // the count, so the summary does not read them and the first persist above it recomputes).
    let count = match batch.count {
        Some(count) => count,
        None => {
            let count: i64 = conn
                .prepare_cached(
                    "SELECT coalesce(max(entity_count), 0) FROM scenario_entities \
                     WHERE scenario_id = ? AND entity_type = ?",
                )
                .and_then(|mut s| s.query_row([scenario_id, t.table], |r| r.get(0)))
                .map_err(context())?;
            u64::try_from(count).unwrap_or(0)
        }
    };
    let Written {
        staged, updated, ..
    } = batch;
    if count + staged.saturating_sub(updated) < from {
        return Ok(Upkeep::Nothing);
    }
    // Sets of parts so far, and the rows they add up to.
    let (sets, rows): (i64, i64) = conn
        .prepare_cached(&format!(
            "SELECT count(*), coalesce(sum(n), 0)::BIGINT FROM {STATISTICS_TABLE} \
             WHERE scenario_id = ? AND entity_type = ? AND part = -1"
        ))
        .and_then(|mut s| s.query_row([scenario_id, t.table], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(context())?;
    let small = staged <= DIRECT_APPEND_MAX_ROWS as u64;
    let add_up = sets > 0 && u64::try_from(rows).ok() == Some(count) && small;
    Ok(match (add_up, updated) {
        (false, _) => Upkeep::Recompute,
        (true, 0) => Upkeep::FromBatch { sets },
        (true, _) => Upkeep::Replace { sets },
    })
}

/// Appends the parts of the batch's rows, staged in `stage` (a temporary table of the type's
/// columns), and adds the type's sets up when there are [`COMPACT_AFTER`].
pub(crate) fn append_batch(
    conn: &Connection,
    scenario_id: &str,
    t: &'static EntityType,
    stage: &str,
    sets: i64,
) -> Result<()> {
    let context = |what: &str| db(format!("{what} the running statistics of {}", t.table));
    if let Some((select, params)) = statistics_parts(t, scenario_id, PartsOf::Rows(stage)) {
        append(conn, scenario_id, t, &select, params).map_err(context("appending to"))?;
        if sets + 1 >= COMPACT_AFTER {
            compact(conn, scenario_id, t).map_err(context("adding up"))?;
        }
    }
    Ok(())
}

/// [`Upkeep::Replace`], while the rows the batch (staged in `stage`) replaces are still in the
/// table: appends the parts of those rows negated (counts, sums and non-NULL counts; no
/// extremes) and then the batch's parts, so the type's parts add up to its rows after the
/// write. A minimum or maximum does not come out that way: when a replaced row's value equals
/// or passes one of the type's extremes, nothing is appended and the type's parts are to be
/// recomputed instead. Returns what is left to do after the write ([`Upkeep::Nothing`] or
/// [`Upkeep::Recompute`]). Values whose count falls to zero stay as rows of `n = 0` until the
/// next compaction; the summary leaves them out.
pub(crate) fn replace_batch(
    conn: &Connection,
    scenario_id: &str,
    t: &'static EntityType,
    stage: &str,
    sets: i64,
) -> Result<Upkeep> {
    let context = |what: &str| db(format!("{what} the running statistics of {}", t.table));
    let (table, pk) = (t.table, t.primary_key);
    let replaced = format!("hs_replaced_{table}");
    let rows = format!("temp.{replaced}");
    let Some((select, params)) = statistics_parts(t, scenario_id, PartsOf::Rows(&rows)) else {
        return Ok(Upkeep::Nothing);
    };
    conn.prepare_cached(&format!(
        "CREATE OR REPLACE TEMP TABLE {replaced} AS SELECT * FROM main.{table} \
         WHERE scenario_id = ? AND {pk} IN (SELECT {pk} FROM {stage})"
    ))
    .and_then(|mut s| s.execute([scenario_id]))
    .map_err(context("reading the replaced rows for"))?;
    conn.prepare(&format!(
        "CREATE OR REPLACE TEMP TABLE hs_replaced_parts AS \
         SELECT * FROM ({select}) AS p({PART_COLUMNS})"
    ))
    .and_then(|mut s| s.execute(duckdb::params_from_iter(params)))
    .map_err(context("computing the replaced rows' part of"))?;
    // A replaced value at or beyond an extreme of the parts so far: the extreme may leave.
    let at_extremes: i64 = conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM temp.hs_replaced_parts AS r JOIN (\
               SELECT part, min(low_number) AS low_number, max(high_number) AS high_number, \
                      min(low_day) AS low_day, max(high_day) AS high_day \
               FROM {STATISTICS_TABLE} WHERE scenario_id = ? AND entity_type = ? AND part <= -2 \
               GROUP BY part) AS k USING (part) \
             WHERE r.low_number <= k.low_number OR r.high_number >= k.high_number \
                OR r.low_day <= k.low_day OR r.high_day >= k.high_day"
        ))
        .and_then(|mut s| s.query_row([scenario_id, table], |r| r.get(0)))
        .map_err(context("comparing the replaced rows with the extremes of"))?;
    let upkeep = if at_extremes > 0 {
        Upkeep::Recompute
    } else {
        conn.prepare_cached(&format!(
            "INSERT INTO {STATISTICS_TABLE} (scenario_id, entity_type, {PART_COLUMNS}) \
             SELECT ?, ?, part, value, -n, -total, -exact_total, NULL, NULL, NULL, NULL \
             FROM temp.hs_replaced_parts"
        ))
        .and_then(|mut s| s.execute([scenario_id, table]))
        .map_err(context("taking the replaced rows out of"))?;
        append_batch(conn, scenario_id, t, stage, sets + 1)?;
        Upkeep::Nothing
    };
    conn.execute_batch(&format!(
        "DROP TABLE {rows}; DROP TABLE temp.hs_replaced_parts"
    ))
    .map_err(context("dropping the replaced rows' copy for"))?;
    Ok(upkeep)
}

/// After the batch is written: the [`Upkeep::Recompute`] of the type's parts (the others are
/// done; an [`Upkeep::Replace`] that [`replace_batch`] did not handle recomputes too).
pub(crate) fn after_batch(
    conn: &Connection,
    scenario_id: &str,
    t: &'static EntityType,
    upkeep: Upkeep,
) -> Result<()> {
    let context = |what: &str| db(format!("{what} the running statistics of {}", t.table));
    match upkeep {
        Upkeep::Nothing | Upkeep::FromBatch { .. } => Ok(()),
        Upkeep::Recompute | Upkeep::Replace { .. } => {
            delete_type(conn, scenario_id, t).map_err(context("deleting"))?;
            match statistics_parts(t, scenario_id, PartsOf::Scenario) {
                Some((select, params)) => {
                    append(conn, scenario_id, t, &select, params).map_err(context("computing"))
                }
                None => Ok(()),
            }
        }
    }
}

/// Copies the parts of `t` from scenario `from` to scenario `to`, whose rows of `t` were just
/// copied unchanged from `from` (a clone): the same rows have the same parts, and parts that did
/// not add up to the source's count do not add up to the copy's either.
pub(crate) fn copy_parts(conn: &Connection, t: &EntityType, from: &str, to: &str) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO {STATISTICS_TABLE} (scenario_id, entity_type, {PART_COLUMNS}) \
         SELECT ?, entity_type, {PART_COLUMNS} FROM {STATISTICS_TABLE} \
         WHERE scenario_id = ? AND entity_type = ?"
    ))
    .and_then(|mut s| s.execute([to, from, t.table]))
    .map_err(db(format!("copying the running statistics of {}", t.table)))?;
    Ok(())
}

/// `INSERT INTO scenario_statistics ... SELECT` of parts.
fn append(
    conn: &Connection,
    scenario_id: &str,
    t: &EntityType,
    select: &str,
    params: Vec<Value>,
) -> duckdb::Result<()> {
    let mut all = vec![
        Value::from(scenario_id.to_string()),
        Value::from(t.table.to_string()),
    ];
    all.extend(params);
    conn.prepare_cached(&format!(
        "INSERT INTO {STATISTICS_TABLE} (scenario_id, entity_type, {PART_COLUMNS}) \
         SELECT ?, ?, * FROM ({select})"
    ))?
    .execute(duckdb::params_from_iter(all))?;
    Ok(())
}

fn delete_type(conn: &Connection, scenario_id: &str, t: &EntityType) -> duckdb::Result<()> {
    conn.prepare_cached(&format!(
        "DELETE FROM {STATISTICS_TABLE} WHERE scenario_id = ? AND entity_type = ?"
    ))?
    .execute([scenario_id, t.table])?;
    Ok(())
}

/// Adds the type's sets of parts up into one: counts and sums add, extremes are the extremes;
/// a value whose rows were all replaced (its count added up to zero) is left out.
fn compact(conn: &Connection, scenario_id: &str, t: &EntityType) -> duckdb::Result<()> {
    let sums = "part, value, sum(n)::BIGINT AS n, sum(total) AS total, \
                sum(exact_total)::DECIMAL(38,2) AS exact_total, min(low_number) AS low_number, \
                max(high_number) AS high_number, min(low_day) AS low_day, max(high_day) AS high_day";
    conn.prepare_cached(&format!(
        "CREATE OR REPLACE TEMP TABLE hs_statistics AS SELECT {sums} FROM {STATISTICS_TABLE} \
         WHERE scenario_id = ? AND entity_type = ? GROUP BY part, value \
         HAVING part < 0 OR sum(n) <> 0"
    ))?
    .execute([scenario_id, t.table])?;
    delete_type(conn, scenario_id, t)?;
    conn.prepare_cached(&format!(
        "INSERT INTO {STATISTICS_TABLE} (scenario_id, entity_type, {PART_COLUMNS}) \
         SELECT ?, ?, {PART_COLUMNS} FROM temp.hs_statistics"
    ))?
    .execute([scenario_id, t.table])?;
    conn.execute_batch("DROP TABLE temp.hs_statistics")?;
    Ok(())
}
