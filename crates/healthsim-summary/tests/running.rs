//! Running statistics (`scenario_statistics`): a summary read from parts added up chunk by chunk
//! equals the summary read from the rows, and the parts are read only when they add up to the
//! type's count.

mod common;

use common::{as_of, db, fill_generic, products, run, scenario, sync_manifest, Fill};
use duckdb::Connection;
use healthsim_schema::{by_table, ENTITY_TYPES};
use healthsim_summary::{
    scenario_summary, statistics_parts, Error, PartsOf, ScenarioSummary, SummaryOptions,
    PART_COLUMNS,
};

const SID: &str = "scn-run";

/// Every product's fixture plus 240 generated rows of every type (values of every kind, some
/// repeated), and another scenario whose rows must never count.
fn fixture() -> Connection {
    let conn = db();
    for sid in [SID, "scn-other"] {
        scenario(&conn, sid, sid, None, &[]);
        for (_, sql) in products::ALL {
            run(&conn, sid, sql);
        }
    }
    let fill = Fill {
        long_strings: false,
        extra: false,
    };
    for t in ENTITY_TYPES {
        fill_generic(&conn, SID, t.table, 240, fill);
    }
    sync_manifest(&conn, SID);
    sync_manifest(&conn, "scn-other");
    conn
}

fn summary(conn: &Connection) -> ScenarioSummary {
    let options = SummaryOptions {
        samples_per_type: 0,
        as_of: as_of(),
        running_statistics_from: 0,
        side_by_side_from: u64::MAX,
    };
    scenario_summary(conn, SID, &options).expect("summary")
}

/// The ids of `table`'s rows in the scenario, in `chunks` interleaved chunks.
fn chunks_of_ids(conn: &Connection, table: &str, chunks: usize) -> Vec<Vec<String>> {
    let t = by_table(table).expect("registry table");
    let mut statement = conn
        .prepare(&format!(
            "SELECT {} FROM {table} WHERE scenario_id = ? ORDER BY 1",
            t.primary_key
        ))
        .expect("prepare");
    let ids: Vec<String> = statement
        .query_map([SID], |r| r.get(0))
        .expect("ids")
        .collect::<Result<_, _>>()
        .expect("ids");
    (0..chunks)
        .map(|c| ids.iter().skip(c).step_by(chunks).cloned().collect())
        .collect()
}

/// Appends the parts of the rows of `ids` (all rows with `None`), as a writer does: a batch's
/// rows are read from a temporary table that holds them.
fn append_parts(conn: &Connection, table: &str, ids: Option<&[String]>) {
    let t = by_table(table).expect("registry table");
    let rows = match ids {
        None => PartsOf::Scenario,
        Some(ids) => {
            let list = ids
                .iter()
                .map(|id| format!("'{id}'"))
                .collect::<Vec<_>>()
                .join(", ");
            conn.execute_batch(&format!(
                "CREATE OR REPLACE TEMP TABLE batch AS SELECT * FROM {table} \
                 WHERE scenario_id = '{SID}' AND {} IN ({list})",
                t.primary_key
            ))
            .expect("batch table");
            PartsOf::Rows("batch")
        }
    };
    let (select, params) = statistics_parts(t, SID, rows).expect("the type's statistics merge");
    let mut all = vec![
        duckdb::types::Value::from(SID.to_string()),
        duckdb::types::Value::from(table.to_string()),
    ];
    all.extend(params);
    conn.execute(
        &format!(
            "INSERT INTO scenario_statistics (scenario_id, entity_type, {PART_COLUMNS}) \
             SELECT ?, ?, * FROM ({select})"
        ),
        duckdb::params_from_iter(all),
    )
    .unwrap_or_else(|e| panic!("appending the parts of {table}: {e}"));
}

/// Types present in the scenario whose statistics merge.
fn merging_types(conn: &Connection) -> Vec<&'static str> {
    let summary = summary(conn);
    ENTITY_TYPES
        .iter()
        .filter(|t| summary.entity_counts.contains_key(t.table))
        .filter(|t| statistics_parts(t, SID, PartsOf::Scenario).is_some())
        .map(|t| t.table)
        .collect()
}

#[test]
fn parts_added_up_chunk_by_chunk_give_the_summary_of_the_rows() {
    let conn = fixture();
    let from_rows = summary(&conn);
    let types = merging_types(&conn);
    assert!(
        types.len() >= 30,
        "only {} types merge: {types:?}",
        types.len()
    );
    for table in &types {
        for ids in chunks_of_ids(&conn, table, 3) {
            append_parts(&conn, table, Some(&ids));
        }
    }
    // Every merging type's parts add up to its count, so each is read from its parts.
    for table in &types {
        let parts: i64 = conn
            .query_row(
                "SELECT sum(n)::BIGINT FROM scenario_statistics \
                 WHERE scenario_id = ? AND entity_type = ? AND part = -1",
                [SID, table],
                |r| r.get(0),
            )
            .expect("parts count");
        assert_eq!(parts as u64, from_rows.entity_counts[*table], "{table}");
    }
    assert_eq!(summary(&conn), from_rows);
}

#[test]
fn parts_of_all_rows_at_once_give_the_summary_of_the_rows() {
    let conn = fixture();
    let from_rows = summary(&conn);
    for table in merging_types(&conn) {
        append_parts(&conn, table, None);
    }
    assert_eq!(summary(&conn), from_rows);
}

/// The parts `statistics_parts` selects for `rows`, as sorted text.
fn parts_of(conn: &Connection, table: &str, rows: PartsOf<'_>) -> Vec<String> {
    let t = by_table(table).expect("registry table");
    let (select, params) = statistics_parts(t, SID, rows).expect("the type's statistics merge");
    let mut statement = conn
        .prepare(&format!(
            "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM ({select})"
        ))
        .expect("prepare");
    let mut parts: Vec<String> = statement
        .query_map(duckdb::params_from_iter(params), |r| {
            (0..9)
                .map(|i| r.get::<_, Option<String>>(i))
                .collect::<Result<Vec<_>, _>>()
                .map(|row| format!("{row:?}"))
        })
        .expect("parts")
        .collect::<Result<_, _>>()
        .expect("rows");
    parts.sort();
    parts
}

#[test]
fn a_batch_and_the_scenario_give_the_same_parts_of_the_same_rows() {
    // The parts of a batch (one aggregate over every row's pairs) and of a whole scenario (one
    // grouping set per distribution) are two statements: the same rows must give the same rows.
    let conn = fixture();
    for table in merging_types(&conn) {
        conn.execute_batch(&format!(
            "CREATE OR REPLACE TEMP TABLE batch AS SELECT * FROM {table} WHERE scenario_id = '{SID}'"
        ))
        .expect("batch table");
        let of_scenario = parts_of(&conn, table, PartsOf::Scenario);
        assert!(of_scenario.len() > 1, "{table}: {of_scenario:?}");
        assert_eq!(
            parts_of(&conn, table, PartsOf::Rows("batch")),
            of_scenario,
            "{table}"
        );
    }
}

#[test]
fn parts_that_do_not_add_up_to_the_count_are_not_read() {
    let conn = fixture();
    let from_rows = summary(&conn);
    // Two chunks of three: the parts count two thirds of the rows, so the rows are read.
    let chunks = chunks_of_ids(&conn, "patients", 3);
    append_parts(&conn, "patients", Some(&chunks[0]));
    append_parts(&conn, "patients", Some(&chunks[1]));
    assert_eq!(summary(&conn), from_rows);
}

#[test]
fn the_summary_reads_the_parts_when_they_add_up() {
    let conn = fixture();
    let from_rows = summary(&conn);
    append_parts(&conn, "patients", None);
    // Doubling the rows of each gender (part 2, after the birth dates per day and per month)
    // keeps the count, and every share doubles: only a summary that reads the parts shows it.
    conn.execute_batch(
        "UPDATE scenario_statistics SET n = n * 2 WHERE entity_type = 'patients' AND part = 2",
    )
    .expect("tamper");
    let from_parts = summary(&conn);
    let gender = |s: &ScenarioSummary| s.statistics["patients"]["gender"].clone();
    assert_ne!(gender(&from_parts), gender(&from_rows));
}

#[test]
fn types_whose_statistics_do_not_merge_have_no_parts() {
    let check = |table: &str, merges: bool| {
        let t = by_table(table).expect("registry table");
        assert_eq!(
            statistics_parts(t, SID, PartsOf::Scenario).is_some(),
            merges,
            "{table}"
        );
    };
    // Diagnoses: the share of patients per code counts distinct patients.
    check("diagnoses", false);
    check("patients", true);
    check("encounters", true);
    check("claims", true);
    check("prescriptions", true);
    check("adverse_events", true);
}

#[test]
fn parts_that_cannot_be_read_are_an_error_naming_them() {
    let conn = fixture();
    append_parts(&conn, "patients", None);
    // A birth month (part 1, read back as a date for the ages) that is not one.
    conn.execute_batch(
        "UPDATE scenario_statistics SET value = 'not a date' \
         WHERE entity_type = 'patients' AND part = 1 AND value IS NOT NULL",
    )
    .expect("tamper");
    let options = SummaryOptions {
        samples_per_type: 0,
        as_of: as_of(),
        running_statistics_from: 0,
        side_by_side_from: u64::MAX,
    };
    match scenario_summary(&conn, SID, &options) {
        Err(Error::Database { context, .. }) => {
            assert_eq!(context, "reading the running statistics of patients")
        }
        other => panic!("expected a database error, got {other:?}"),
    }
}

/// The patients' ages of a summary dated `as_of`, read from the parts (`true`) or the rows.
fn ages(conn: &Connection, as_of: chrono::NaiveDate, from_parts: bool) -> serde_json::Value {
    let options = SummaryOptions {
        samples_per_type: 0,
        as_of,
        running_statistics_from: if from_parts { 0 } else { u64::MAX },
        side_by_side_from: u64::MAX,
    };
    let summary = scenario_summary(conn, SID, &options).expect("summary");
    summary.statistics["patients"]["age"].clone()
}

#[test]
fn ages_from_birth_months_and_days_equal_the_ages_of_the_rows_on_every_day() {
    // Parts keep birth dates per month, and per day under their month; a summary reads the
    // days of its own month only. One birth at a time (beside an unknown one), so that its age
    // is the minimum, median and maximum: month ends, 29 February, a future birth, and births
    // on and around the days the summaries are dated.
    let conn = db();
    scenario(&conn, SID, SID, None, &[]);
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
    let mut dates: Vec<chrono::NaiveDate> = day(2024, 1, 1)
        .iter_days()
        .step_by(13)
        .take_while(|d| *d < day(2026, 1, 1))
        .collect();
    dates.extend([
        day(2025, 2, 28),
        day(2025, 3, 1),
        day(2024, 2, 28),
        day(2024, 2, 29),
        day(2024, 6, 15),
        day(2024, 6, 16),
        day(2024, 12, 31),
    ]);
    for birth in [
        "2000-02-29",
        "2001-02-28",
        "2004-03-01",
        "1999-12-31",
        "2000-01-01",
        "2030-06-15",
        "2024-06-15",
        "1950-06-16",
    ] {
        run(
            &conn,
            SID,
            &format!(
                "DELETE FROM patients; DELETE FROM scenario_statistics;
                 INSERT INTO patients (scenario_id, patient_id, birth_date)
                     VALUES (:sid, 'p1', DATE '{birth}'), (:sid, 'p2', NULL)"
            ),
        );
        sync_manifest(&conn, SID);
        append_parts(&conn, "patients", None);
        for as_of in &dates {
            let from_rows = ages(&conn, *as_of, false);
            assert!(from_rows.is_string(), "{birth} on {as_of}: {from_rows}");
            assert_eq!(ages(&conn, *as_of, true), from_rows, "{birth} on {as_of}");
        }
    }
}
