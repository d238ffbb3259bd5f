//! ExplanationOfBenefits of a FHIR import, put on the Claims they adjudicate.
//!
//! Synthea (and most payer exports) write one Claim and one ExplanationOfBenefit per
//! encounter, the EOB naming its Claim in `claim.reference`. Written as two claims they would
//! count every claim twice and double its totals; so an EOB that names its Claim is mapped as
//! that Claim's [`Adjudication`], and this module applies it once the whole input is written
//! (the Claim may come before or after its EOB, in the same file or another):
//!
//! - **Queue.** Each validated adjudication waits in a buffer of at most [`SPILL_AT`] EOBs,
//!   which spills into two temporary tables of the import's connection (`hs_fhir_eob`: the
//!   EOB's claim-level values, its mapped rows and the EOB itself; `hs_fhir_eob_line`: its
//!   line-level values), so memory stays bounded whatever the number of EOBs.
//! - **Merge.** At the end, an EOB whose Claim the scenario holds puts the claim columns of
//!   [`ADJUDICATED_CLAIM_COLUMNS`] on it (a value the EOB lacks leaves the claim's own; the
//!   member is only filled when the Claim had none), the line columns of
//!   [`ADJUDICATED_LINE_COLUMNS`] on the claim's lines with the same `line_number`, and the EOB
//!   itself in the claim's `extra.fhir_eob`. One UPDATE per table, whatever the count. The
//!   same EOB read twice counts once (the later one wins); of two EOBs of one Claim the later
//!   one in the input wins.
//! - **Standalone.** An EOB whose Claim is not in the scenario is written as a claim of its
//!   own (its id, `extra.fhir` = the EOB), through persist's write path like any resource.
//!
//! Re-importing the same input ends in the same state: the Claim's row is rewritten by the
//! upsert and the EOB's values are put on it again. An EOB that an earlier import wrote as a
//! claim of its own (its Claim was missing then) is merged once its Claim arrives, and that
//! earlier claim is removed, so the claim still counts once.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use duckdb::{params, Connection, ToSql};
use healthsim_fhir::map::{ADJUDICATED_CLAIM_COLUMNS, ADJUDICATED_LINE_COLUMNS};
use healthsim_fhir::Adjudication;
use healthsim_schema::{by_table, EntityType, SCENARIO_COLUMN};
use serde_json::{Map, Value as Json};

use crate::error::{db, Error, Result};
use crate::input::{convert, Row};
use crate::persist::{open_target, write_batches, Batch, TypeCounts};
use crate::scenario::{timestamp, ScenarioRef};
use crate::statistics::Statistics;

use super::FhirImportOptions;

/// How many EOBs wait in memory before they are appended to the temporary tables.
pub(crate) const SPILL_AT: usize = 1_000;
/// How many standalone EOBs are written per persist batch.
const STANDALONE_PAGE: usize = 1_000;

const EOB_TABLE: &str = "hs_fhir_eob";
const LINE_TABLE: &str = "hs_fhir_eob_line";

/// One validated adjudication, waiting.
struct Waiting {
    eob_id: String,
    /// The Claim it names; none can match a claim.
    claim_id: Option<String>,
    /// The EOB's claims row, typed by persist's conversion.
    claim: Row,
    /// Its claim_lines rows.
    lines: Vec<Row>,
    /// The mapped rows as JSON text, written when the Claim is not there.
    rows: String,
    /// The EOB resource as JSON text.
    eob: String,
}

/// An adjudication whose rows persist's validation accepted.
pub(super) struct Validated(Waiting);

/// Checks an adjudication's rows with persist's own conversion (the same rules as any
/// resource's rows); the error is the resource's rejection.
pub(super) fn validate(adjudication: Adjudication) -> Result<Validated> {
    let mut new_id = || uuid::Uuid::new_v4().to_string();
    let (claims, lines) = (claims_type()?, lines_type()?);
    let mut claim_rows = Vec::new();
    let mut line_rows = Vec::new();
    for (table, entity) in &adjudication.rows {
        match *table {
            "claims" => claim_rows.push(Json::Object(entity.clone())),
            "claim_lines" => line_rows.push(Json::Object(entity.clone())),
            other => {
                return Err(Error::InvalidRequest {
                    reason: format!("internal: an adjudication mapped to table {other}"),
                })
            }
        }
    }
    let mut claim = convert(claims, &claim_rows, &mut new_id)?;
    let lines = convert(lines, &line_rows, &mut new_id)?;
    let (Some(claim), 1) = (claim.pop(), claim_rows.len()) else {
        return Err(Error::InvalidRequest {
            reason: "internal: an adjudication without exactly one claims row".into(),
        });
    };
    let eob = adjudication.rows[0]
        .1
        .get("extra")
        .and_then(|extra| extra.get("fhir"))
        .map(Json::to_string)
        .unwrap_or_else(|| "null".into());
    let rows = Json::Array(
        adjudication
            .rows
            .into_iter()
            .map(|(table, entity)| Json::Array(vec![table.into(), Json::Object(entity)]))
            .collect(),
    )
    .to_string();
    Ok(Validated(Waiting {
        eob_id: claim.id.clone(),
        claim_id: adjudication.claim_id,
        claim,
        lines,
        rows,
        eob,
    }))
}

/// What applying the adjudications did.
#[derive(Debug, Default)]
pub(super) struct Applied {
    /// EOBs put on their Claim.
    pub(super) merged: u64,
    /// EOBs written as claims of their own.
    pub(super) standalone: u64,
    /// Rows the standalone ones wrote, per table.
    pub(super) rows_written: BTreeMap<String, TypeCounts>,
}

/// The adjudications of one import, in input order.
#[derive(Default)]
pub(super) struct Adjudications {
    buffer: Vec<Waiting>,
    /// Input order of the next one.
    seq: i64,
    /// Whether the temporary tables exist.
    spilled: bool,
}

impl Adjudications {
    /// Queues one (spilling the buffer when it is full).
    pub(super) fn push(&mut self, conn: &Connection, adjudication: Validated) -> Result<()> {
        self.buffer.push(adjudication.0);
        if self.buffer.len() >= SPILL_AT {
            self.spill(conn)?;
        }
        Ok(())
    }

    /// Appends the buffer to the temporary tables (created on the first call).
    fn spill(&mut self, conn: &Connection) -> Result<()> {
        let (claims, lines) = (claims_type()?, lines_type()?);
        if !self.spilled {
            let typed = |t: &EntityType, columns: &[&str]| -> Result<String> {
                columns
                    .iter()
                    .map(|name| {
                        let column = t.column(name).ok_or_else(|| Error::InvalidRequest {
                            reason: format!("internal: {}.{name} is not a column", t.table),
                        })?;
                        Ok(format!("{name} {}", column.kind.sql_type()))
                    })
                    .collect::<Result<Vec<_>>>()
                    .map(|c| c.join(", "))
            };
            conn.execute_batch(&format!(
                "CREATE OR REPLACE TEMP TABLE {EOB_TABLE} (seq BIGINT, eob_id VARCHAR, \
                 claim_id VARCHAR, rows VARCHAR, eob VARCHAR, {}); \
                 CREATE OR REPLACE TEMP TABLE {LINE_TABLE} (seq BIGINT, claim_id VARCHAR, \
                 line_number BIGINT, {});",
                typed(claims, ADJUDICATED_CLAIM_COLUMNS)?,
                typed(lines, ADJUDICATED_LINE_COLUMNS)?,
            ))
            .map_err(db("creating the tables of pending explanations of benefit"))?;
            self.spilled = true;
        }
        let claim_at = positions(claims, ADJUDICATED_CLAIM_COLUMNS)?;
        let line_at = positions(lines, ADJUDICATED_LINE_COLUMNS)?;
        let line_number_at = positions(lines, &["line_number"])?[0];
        let context = || "queueing explanations of benefit";
        let mut eobs = conn
            .appender_to_catalog_and_db(EOB_TABLE, "temp", "main")
            .map_err(db(context()))?;
        let mut line_appender = conn
            .appender_to_catalog_and_db(LINE_TABLE, "temp", "main")
            .map_err(db(context()))?;
        for waiting in self.buffer.drain(..) {
            let seq = self.seq;
            self.seq += 1;
            let mut values: Vec<&dyn ToSql> = vec![
                &seq,
                &waiting.eob_id,
                &waiting.claim_id,
                &waiting.rows,
                &waiting.eob,
            ];
            values.extend(
                claim_at
                    .iter()
                    .map(|&i| &waiting.claim.values[i] as &dyn ToSql),
            );
            eobs.append_row(values.as_slice()).map_err(db(context()))?;
            for line in &waiting.lines {
                let mut values: Vec<&dyn ToSql> = vec![
                    &seq,
                    &waiting.claim_id,
                    &line.values[line_number_at] as &dyn ToSql,
                ];
                values.extend(line_at.iter().map(|&i| &line.values[i] as &dyn ToSql));
                line_appender
                    .append_row(values.as_slice())
                    .map_err(db(context()))?;
            }
        }
        eobs.flush().map_err(db(context()))?;
        line_appender.flush().map_err(db(context()))?;
        Ok(())
    }

    /// Applies every queued adjudication to the scenario `target` (opening a new scenario when
    /// a standalone EOB is the first thing to write), then drops the temporary tables.
    pub(super) fn apply(
        mut self,
        conn: &Connection,
        target: &mut Option<(ScenarioRef, bool)>,
        options: &FhirImportOptions,
        now: NaiveDateTime,
    ) -> Result<Applied> {
        let mut applied = Applied::default();
        if !self.spilled && self.buffer.is_empty() {
            return Ok(applied);
        }
        self.spill(conn)?;
        let context = || "applying explanations of benefit to their claims";
        // The last reading of each EOB; those whose Claim the scenario has are merged.
        let scenario_id = target.as_ref().map(|(t, _)| t.scenario_id.clone());
        conn.execute(
            &format!(
                "CREATE OR REPLACE TEMP TABLE {EOB_TABLE}_last AS SELECT e.*, EXISTS (SELECT 1 \
                 FROM main.claims c WHERE c.{SCENARIO_COLUMN} = ? AND c.claim_id = e.claim_id) \
                 AS merged FROM temp.{EOB_TABLE} e \
                 QUALIFY row_number() OVER (PARTITION BY e.eob_id ORDER BY e.seq DESC) = 1"
            ),
            params![scenario_id],
        )
        .map_err(db(context()))?;
        if let Some(scenario_id) = &scenario_id {
            applied.merged = merge(conn, scenario_id, now)?;
        }
        applied.standalone = self.write_standalone(conn, target, options, now, &mut applied)?;
        conn.execute_batch(&format!(
            "DROP TABLE temp.{EOB_TABLE}_last; DROP TABLE temp.{EOB_TABLE}; \
             DROP TABLE temp.{LINE_TABLE};"
        ))
        .map_err(db(context()))?;
        Ok(applied)
    }

    /// Writes the EOBs whose Claim is not in the scenario as claims of their own, a page at a
    /// time; their count.
    fn write_standalone(
        &mut self,
        conn: &Connection,
        target: &mut Option<(ScenarioRef, bool)>,
        options: &FhirImportOptions,
        now: NaiveDateTime,
        applied: &mut Applied,
    ) -> Result<u64> {
        let context = || "writing explanations of benefit without their claim";
        let mut after = -1_i64;
        let mut written = 0;
        loop {
            let page: Vec<(i64, String)> = {
                let mut stmt = conn
                    .prepare(&format!(
                        "SELECT seq, rows FROM temp.{EOB_TABLE}_last WHERE NOT merged \
                         AND seq > ? ORDER BY seq LIMIT ?"
                    ))
                    .map_err(db(context()))?;
                let rows = stmt
                    .query_map(params![after, STANDALONE_PAGE as i64], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .map_err(db(context()))?;
                rows.collect::<duckdb::Result<_>>().map_err(db(context()))?
            };
            let Some((last, _)) = page.last() else {
                return Ok(written);
            };
            after = *last;
            written += page.len() as u64;
            let batches = standalone_batches(page.iter().map(|(_, rows)| rows.as_str()))?;
            let scenario_id = match target {
                Some((scenario, _)) => scenario.scenario_id.clone(),
                None => {
                    let opened = open_target(conn, &options.scenario, Some("claim"), now)?;
                    let id = opened.0.scenario_id.clone();
                    *target = Some(opened);
                    id
                }
            };
            let counts = write_batches(
                conn,
                &scenario_id,
                &batches,
                &options.provenance,
                now,
                Statistics::Drop,
                None,
            )?;
            for (table, c) in counts {
                let total = applied.rows_written.entry(table).or_default();
                total.inserted += c.inserted;
                total.updated += c.updated;
            }
        }
    }
}

/// Puts the merged EOBs' values on their claims and lines; how many EOBs were merged.
fn merge(conn: &Connection, scenario_id: &str, now: NaiveDateTime) -> Result<u64> {
    let context = || "applying explanations of benefit to their claims";
    let merged: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM temp.{EOB_TABLE}_last WHERE merged"),
            [],
            |r| r.get(0),
        )
        .map_err(db(context()))?;
    if merged == 0 {
        return Ok(0);
    }
    // Of two EOBs of one Claim, the later in the input.
    let winners = format!(
        "(SELECT * FROM temp.{EOB_TABLE}_last WHERE merged \
         QUALIFY row_number() OVER (PARTITION BY claim_id ORDER BY seq DESC) = 1)"
    );
    let claim_set = ADJUDICATED_CLAIM_COLUMNS
        .iter()
        .map(|c| match *c {
            // The Claim's own member (its coverage) wins; the EOB's fills a gap.
            "member_id" => format!("{c} = coalesce(c.{c}, p.{c})"),
            _ => format!("{c} = coalesce(p.{c}, c.{c})"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    conn.execute(
        &format!(
            "UPDATE main.claims AS c SET {claim_set}, \
             extra = json_merge_patch(coalesce(c.extra, '{{}}'::JSON), \
             json_object('fhir_eob', p.eob::JSON)) \
             FROM {winners} p WHERE c.{SCENARIO_COLUMN} = ? AND c.claim_id = p.claim_id"
        ),
        [scenario_id],
    )
    .map_err(db(context()))?;
    retire_earlier_standalone(conn, scenario_id, now)?;
    let line_set = ADJUDICATED_LINE_COLUMNS
        .iter()
        .map(|c| format!("{c} = coalesce(p.{c}, l.{c})"))
        .collect::<Vec<_>>()
        .join(", ");
    conn.execute(
        &format!(
            "UPDATE main.claim_lines AS l SET {line_set} \
             FROM (SELECT ln.* FROM temp.{LINE_TABLE} ln JOIN {winners} w ON ln.seq = w.seq) p \
             WHERE l.{SCENARIO_COLUMN} = ? AND l.claim_id = p.claim_id \
             AND l.line_number = p.line_number"
        ),
        [scenario_id],
    )
    .map_err(db(context()))?;
    Ok(u64::try_from(merged).unwrap_or(0))
}

/// An EOB merged now may have been written as a claim of its own by an earlier import, when
/// its Claim was not there yet: that claim (the EOB's id, `extra.fhir` an EOB) and its lines
/// go, so the claim is counted once. The manifest follows.
fn retire_earlier_standalone(
    conn: &Connection,
    scenario_id: &str,
    now: NaiveDateTime,
) -> Result<()> {
    let context = || "removing claims that an earlier import made of merged EOBs";
    let retired = format!(
        "SELECT c.claim_id FROM main.claims c JOIN temp.{EOB_TABLE}_last e \
         ON e.merged AND c.claim_id = e.eob_id \
         WHERE c.{SCENARIO_COLUMN} = $1 \
         AND (c.extra->'fhir'->>'resourceType') = 'ExplanationOfBenefit'"
    );
    for (table, key) in [("claim_lines", "claim_id"), ("claims", "claim_id")] {
        let deleted = conn
            .execute(
                &format!(
                    "DELETE FROM main.{table} WHERE {SCENARIO_COLUMN} = $1 \
                     AND {key} IN ({retired})"
                ),
                [scenario_id],
            )
            .map_err(db(context()))?;
        if deleted > 0 {
            conn.execute(
                "UPDATE scenario_entities SET entity_count = entity_count - ?, updated_at = ? \
                 WHERE scenario_id = ? AND entity_type = ?",
                params![deleted as i64, timestamp(now), scenario_id, table],
            )
            .map_err(db(context()))?;
        }
    }
    Ok(())
}

/// The rows of standalone EOBs (their mapped rows as JSON text) as persist batches.
fn standalone_batches<'a>(pages: impl Iterator<Item = &'a str>) -> Result<Vec<Batch>> {
    let (claims, lines) = (claims_type()?, lines_type()?);
    let mut claim_entities = Vec::new();
    let mut line_entities = Vec::new();
    for text in pages {
        let rows: Vec<(String, Map<String, Json>)> =
            serde_json::from_str(text).map_err(|e| Error::InvalidRequest {
                reason: format!(
                    "internal: a queued explanation of benefit does not read back: {e}"
                ),
            })?;
        for (table, entity) in rows {
            match table.as_str() {
                "claims" => claim_entities.push(Json::Object(entity)),
                _ => line_entities.push(Json::Object(entity)),
            }
        }
    }
    let mut new_id = || uuid::Uuid::new_v4().to_string();
    Ok(vec![
        Batch {
            entity_type: claims,
            rows: convert(claims, &claim_entities, &mut new_id)?,
        },
        Batch {
            entity_type: lines,
            rows: convert(lines, &line_entities, &mut new_id)?,
        },
    ])
}

fn claims_type() -> Result<&'static EntityType> {
    table("claims")
}

fn lines_type() -> Result<&'static EntityType> {
    table("claim_lines")
}

fn table(name: &str) -> Result<&'static EntityType> {
    by_table(name).ok_or_else(|| Error::InvalidRequest {
        reason: format!("internal: no canonical table {name}"),
    })
}

/// The positions of `columns` among `t`'s domain columns (the order of a converted row's
/// values).
fn positions(t: &EntityType, columns: &[&str]) -> Result<Vec<usize>> {
    columns
        .iter()
        .map(|name| {
            t.columns()
                .position(|c| c.name == *name)
                .ok_or_else(|| Error::InvalidRequest {
                    reason: format!("internal: {}.{name} is not a column", t.table),
                })
        })
        .collect()
}
