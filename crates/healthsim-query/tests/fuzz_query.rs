//! Fuzzing the query sandbox ([`validate_query`], [`run_query`]) with token soups: SQL keywords,
//! identifiers (canonical tables, the state tables, DuckDB's catalogs, schema names), allowed
//! and forbidden functions, literals and punctuation, thrown together at random or mutated
//! into query templates (joins, CTEs, subqueries, set operations).
//!
//! The fixture holds two scenarios with the same ids: A, the one queried, and B, every text of
//! which contains `CANARYB`; the state tables hold `canarystate` texts and the migrations'
//! checksums. A second database holds only scenario A.
//!
//! Properties, for every soup:
//! - neither `validate_query` nor `run_query` panics, and they agree (a query that runs is valid);
//! - a query that runs never returns a canary: no row of scenario B, of a state table, of
//!   `schema_migrations` or of DuckDB's catalog;
//! - a deterministic query that runs returns the same page (count, columns, rows) on the
//!   two-scenario database as on the database holding only scenario A: nothing of B leaks, not
//!   even through counts or aggregates;
//! - the database is unchanged at the end.
//!
//! Both databases are of the test backend: files, or with `HEALTHSIM_TEST_BACKEND=lake` lakes.
//!
//! Cases: 384 by default (queries get 500 ms each); `PROPTEST_CASES` sets it, e.g.
//! `PROPTEST_CASES=20000 cargo test --release -p healthsim-query --test fuzz_query`.

mod query_fixture;

use std::path::Path;
use std::time::Duration;

use duckdb::Connection;
use healthsim_query::{run_query, validate_query, Error, QueryOptions};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use query_fixture::Database;
use serde_json::Value;

const A: &str = "aaaaaaaa-0000-4000-8000-00000000000a";
const B: &str = "bbbbbbbb-0000-4000-8000-00000000000b";

/// Texts that must never come back from a query of scenario A.
const CANARIES: &[&str] = &[
    "CANARYB",
    "canarystate",
    "sha256:",
    "initial_schema",
    "bbbbbbbb-",
    "scenario_entities",
];

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

/// Rows of one scenario; `b` makes every text a canary and every amount different.
fn scenario_sql(id: &str, b: bool) -> String {
    let tag = if b { "CANARYB" } else { "" };
    let name = if b { "canarystate-b" } else { "scenario-a" };
    let factor = if b { 7 } else { 1 };
    format!(
        "
        INSERT INTO scenarios (scenario_id, name, description, metadata, created_at, updated_at)
            VALUES ('{id}', '{name}', 'canarystate description', '{{\"k\": \"canarystate\"}}',
                    TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02');
        INSERT INTO scenario_tags VALUES ('{id}', 'canarystate-tag', TIMESTAMP '2024-01-01');
        INSERT INTO scenario_entities VALUES
            ('{id}', 'patients', 12, TIMESTAMP '2024-01-01'),
            ('{id}', 'encounters', 20, TIMESTAMP '2024-01-01'),
            ('{id}', 'claims', 15, TIMESTAMP '2024-01-01');
        INSERT INTO patients (scenario_id, patient_id, given_name, family_name, birth_date, gender,
                              state, extra, created_at)
            SELECT '{id}', 'p' || i, 'Given{tag}' || i, 'Family{tag}' || (i % 5),
                   DATE '1950-01-01' + CAST(i * 400 * {factor} AS INTEGER),
                   CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END,
                   ['AZ', 'CA', 'TX'][1 + i % 3],
                   CASE WHEN i % 3 = 0 THEN json_object('note', 'n{tag}' || i) END,
                   TIMESTAMP '2024-02-01'
            FROM range(12) t(i);
        INSERT INTO encounters (scenario_id, encounter_id, patient_id, encounter_class, status,
                                start_datetime, chief_complaint, created_at)
            SELECT '{id}', 'e' || i, 'p' || (i % 12),
                   ['inpatient', 'outpatient', 'emergency'][1 + i % 3], 'finished{tag}',
                   TIMESTAMP '2023-01-01' + INTERVAL (i * {factor}) DAY, 'cc{tag}' || i,
                   TIMESTAMP '2024-02-01'
            FROM range(20) t(i);
        INSERT INTO claims (scenario_id, claim_id, patient_id, encounter_id, claim_type, status,
                            service_date, total_billed, total_paid, created_at)
            SELECT '{id}', 'c' || i, 'p' || (i % 12), 'e' || (i % 20), 'professional{tag}',
                   'paid{tag}', DATE '2023-03-01' + CAST(i AS INTEGER),
                   CAST(100 + i * 10 * {factor} AS DECIMAL(18,2)),
                   CAST(50 + i * 5 * {factor} AS DECIMAL(18,2)), TIMESTAMP '2024-02-01'
            FROM range(15) t(i);
        "
    )
}

/// A database of the test backend in `dir` (a file, or with `HEALTHSIM_TEST_BACKEND=lake` a
/// lake) holding scenario A, and B too when `with_b`.
fn database(dir: &Path, with_b: bool) -> Database {
    Database::create(dir, |conn| {
        conn.execute_batch(&scenario_sql(A, false))
            .expect("scenario A");
        if with_b {
            conn.execute_batch(&scenario_sql(B, true))
                .expect("scenario B");
        }
    })
}

const KEYWORDS: &[&str] = &[
    "SELECT",
    "SELECT",
    "SELECT",
    "FROM",
    "FROM",
    "WHERE",
    "JOIN",
    "LEFT JOIN",
    "CROSS JOIN",
    "NATURAL JOIN",
    "POSITIONAL JOIN",
    "ASOF JOIN",
    "ON",
    "USING",
    "AS",
    "WITH",
    "WITH RECURSIVE",
    "UNION",
    "UNION ALL",
    "UNION BY NAME",
    "EXCEPT",
    "INTERSECT",
    "GROUP BY",
    "GROUP BY ALL",
    "ORDER BY",
    "ORDER BY ALL",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "DISTINCT",
    "DISTINCT ON",
    "ALL",
    "LATERAL",
    "EXISTS",
    "IN",
    "NOT",
    "AND",
    "OR",
    "IS NULL",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "CAST",
    "TRY_CAST",
    "VALUES",
    "TABLE",
    "FROM",
    "QUALIFY",
    "WINDOW",
    "OVER",
    "PARTITION BY",
    "PIVOT",
    "UNPIVOT",
    "COLUMNS",
    "EXCLUDE",
    "REPLACE",
    "RETURNING",
    "INTO",
    "DESCRIBE",
    "SHOW",
    "SUMMARIZE",
    "PRAGMA",
    "ATTACH",
    "DETACH",
    "USE",
    "COPY",
    "EXPORT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "ALTER",
    "SET",
    "RESET",
    "CALL",
    "INSTALL",
    "LOAD",
    "CHECKPOINT",
    "BEGIN",
    "COMMIT",
    "EXPLAIN",
    "MATERIALIZED",
    "NOT MATERIALIZED",
    "USING SAMPLE",
    "TABLESAMPLE",
    "FILTER",
    "ILIKE",
    "LIKE",
    "SIMILAR TO",
    "GLOB",
    "BETWEEN",
];

const IDENTIFIERS: &[&str] = &[
    "patients",
    "patients",
    "encounters",
    "claims",
    "claim_lines",
    "diagnoses",
    "members",
    "scenarios",
    "scenario_entities",
    "scenario_tags",
    "schema_migrations",
    "main",
    "memory",
    "temp",
    "system",
    "information_schema",
    "pg_catalog",
    "duckdb_tables",
    "duckdb_columns",
    "duckdb_settings",
    "duckdb_databases",
    "sqlite_master",
    "information_schema.tables",
    "main.patients",
    "main.scenarios",
    "memory.main.patients",
    "temp.main.patients",
    "p",
    "e",
    "c",
    "t",
    "x",
    "q",
    "patient_id",
    "patient_id",
    "scenario_id",
    "encounter_id",
    "claim_id",
    "given_name",
    "family_name",
    "gender",
    "state",
    "name",
    "tag",
    "checksum",
    "extra",
    "total_billed",
    "birth_date",
    "\"patients\"",
    "\"scenarios\"",
    "\"Patients\"",
    "PATIENTS",
    "rowid",
    "*",
];

const FUNCTIONS: &[&str] = &[
    "count",
    "sum",
    "min",
    "max",
    "upper",
    "lower",
    "length",
    "coalesce",
    "abs",
    "concat",
    "json_extract",
    "range",
    "generate_series",
    "unnest",
    "json_each",
    "read_csv",
    "read_parquet",
    "read_text",
    "glob",
    "getenv",
    "current_setting",
    "query",
    "query_table",
    "duckdb_tables",
    "duckdb_settings",
    "sqlite_scan",
    "postgres_scan",
    "current_database",
    "current_schema",
    "pragma_table_info",
    "which_secret",
    "set_variable",
    "getvariable",
    "nextval",
    "currval",
    "txid_current",
    "version",
    "struct_pack",
    "list_value",
    "json_serialize_plan",
    "stats",
    "current_catalog",
    "user",
    "list_aggr",
    "repeat",
    "lpad",
];

const LITERALS: &[&str] = &[
    "1",
    "0",
    "2",
    "3",
    "10",
    "-1",
    "NULL",
    "TRUE",
    "FALSE",
    "'p1'",
    "'female'",
    "'AZ'",
    "'x'",
    "''",
    "'scenario-a'",
    "'bbbbbbbb-0000-4000-8000-00000000000b'",
    "'aaaaaaaa-0000-4000-8000-00000000000a'",
    "'/etc/passwd'",
    "'patients.csv'",
    "$1",
    "?",
    "DATE '2024-01-01'",
    "INTERVAL 1 DAY",
    "1.5",
    "'CANARYB'",
];

const PUNCTUATION: &[&str] = &[
    "(", "(", ")", ")", ",", ",", ";", "*", ".", "=", "<>", "<", ">", "||", "+", "-", "/", "::",
    "'", "\"", "--", "/*", "*/", "[", "]", "{", "}", ":", "->", "->>", "$", "%", "\0",
];

fn token() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(KEYWORDS),
        4 => prop::sample::select(IDENTIFIERS),
        2 => prop::sample::select(FUNCTIONS),
        2 => prop::sample::select(LITERALS),
        3 => prop::sample::select(PUNCTUATION),
    ]
    .prop_map(str::to_string)
    .boxed()
}

fn soup() -> BoxedStrategy<String> {
    prop::collection::vec(token(), 1..30)
        .prop_map(|tokens| tokens.join(" "))
        .boxed()
}

fn pick(items: &'static [&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(items).prop_map(str::to_string).boxed()
}

/// Plausible queries: a SELECT over tables the fuzzer picks, with joins, filters, grouping,
/// CTEs and set operations, then (sometimes) a few tokens inserted, replaced or dropped.
fn template() -> BoxedStrategy<String> {
    let table = prop_oneof![
        8 => pick(&["patients t", "encounters t", "claims t", "patients AS t",
                    "(SELECT * FROM patients) t", "(SELECT * FROM claims WHERE true) t"]),
        3 => pick(&["scenarios t", "scenario_tags t", "scenario_entities t",
                    "schema_migrations t", "main.patients t", "duckdb_tables() t",
                    "query_table('scenarios') t", "read_csv('x.csv') t",
                    "information_schema.tables t", "\"patients\" t", "PATIENTS t"]),
        2 => pick(&["range(3) t(patient_id)", "(VALUES ('p1'), ('p2')) t(patient_id)",
                    "unnest(['p1', 'p2']) t(patient_id)"]),
    ];
    let rows = pick(&[
        "*",
        "t.*",
        "patient_id",
        "scenario_id",
        "t.scenario_id",
        "created_at",
        "extra",
        "extra->>'note'",
        "upper(patient_id)",
        "COLUMNS(*)",
        "* EXCLUDE (scenario_id)",
        "(SELECT count(*) FROM claims) AS n",
        "(SELECT max(name) FROM scenarios) AS s",
        "(SELECT count(*) FROM patients p WHERE p.patient_id = t.patient_id) AS k",
    ]);
    let aggregates = pick(&[
        "count(*)",
        "count(DISTINCT scenario_id)",
        "min(patient_id)",
        "max(created_at)",
        "count(extra)",
        "sum(length(patient_id))",
        "count(*) FILTER (WHERE patient_id > 'p3')",
    ]);
    let select_list = prop_oneof![
        (rows.clone(), prop::option::of(rows)).prop_map(|(a, b)| match b {
            Some(b) => format!("{a}, {b}"),
            None => a,
        }),
        (aggregates.clone(), prop::option::of(aggregates)).prop_map(|(a, b)| match b {
            Some(b) => format!("{a}, {b}"),
            None => a,
        }),
    ];
    let join = prop_oneof![
        8 => pick(&[
            "", "", "", "JOIN encounters e USING (patient_id)",
            "JOIN claims c ON c.patient_id = t.patient_id",
            "LEFT JOIN patients p2 USING (patient_id)",
            ", LATERAL (SELECT count(*) AS m FROM encounters WHERE patient_id = t.patient_id) l",
            "NATURAL JOIN patients",
        ]),
        1 => pick(&["CROSS JOIN scenario_tags", "JOIN scenarios s ON true"]),
    ];
    let filter = prop_oneof![
        8 => pick(&[
            "", "", "WHERE patient_id IN (SELECT patient_id FROM claims)",
            "WHERE EXISTS (SELECT 1 FROM encounters)", "WHERE scenario_id <> ''",
            "WHERE patient_id = 'p1'",
            "WHERE t.scenario_id IN (SELECT scenario_id FROM claims)",
        ]),
        1 => pick(&[
            "WHERE NOT EXISTS (SELECT 1 FROM scenarios)",
            "WHERE t.scenario_id IN (SELECT scenario_id FROM scenario_tags)",
        ]),
    ];
    let tail = pick(&[
        "",
        "",
        "GROUP BY ALL",
        "ORDER BY ALL",
        "ORDER BY 1",
        "LIMIT 5",
    ]);
    let select = (select_list, table.clone(), join, filter, tail)
        .prop_map(|(l, t, j, w, g)| format!("SELECT {l} FROM {t} {j} {w} {g}"));
    let shaped =
        (select.clone(), select, table, 0usize..8).prop_map(
            |(inner, other, t, shape)| match shape {
                0..=2 => inner,
                3 => format!("WITH patients AS (SELECT * FROM {t}) {inner}"),
                4 => format!("WITH x AS ({inner}) SELECT * FROM x"),
                5 => format!("({inner}) UNION ALL ({other})"),
                6 => format!("SELECT * FROM ({inner}) q WHERE EXISTS ({other})"),
                _ => format!(
                    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) \
                 SELECT * FROM r, ({inner}) q"
                ),
            },
        );
    let edits = prop_oneof![
        3 => Just(Vec::new()),
        1 => prop::collection::vec((0usize..60, 0u8..3, token()), 1..3),
    ];
    (shaped, edits)
        .prop_map(|(query, edits)| {
            let mut words: Vec<String> = query.split_whitespace().map(str::to_string).collect();
            for (at, kind, token) in edits {
                let at = at % (words.len() + 1);
                match kind {
                    0 => words.insert(at, token),
                    1 if at < words.len() => words[at] = token,
                    _ if at < words.len() => {
                        words.remove(at);
                    }
                    _ => {}
                }
            }
            words.join(" ")
        })
        .boxed()
}

fn query_text() -> BoxedStrategy<String> {
    prop_oneof![1 => soup(), 4 => template()].boxed()
}

/// Whether a query's result may legitimately depend on the physical order of rows or on the
/// clock, so two databases can disagree without a leak.
fn nondeterministic(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase();
    [
        "LIMIT",
        "OFFSET",
        "SAMPLE",
        "OVER",
        "QUALIFY",
        "DISTINCT ON",
        "POSITIONAL",
        "ASOF",
        "ROWID",
        "MAX(GIVEN_NAME)",
        "LIST",
        "NEXTVAL",
        "CURRVAL",
        "TXID",
        "VERSION",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

fn options() -> QueryOptions {
    QueryOptions {
        limit: Some(100),
        timeout: Duration::from_millis(500),
        ..QueryOptions::default()
    }
}

/// Rows of a page as sorted JSON texts (order between equal sort keys is not defined).
fn rows(page: &healthsim_query::QueryResult) -> Vec<String> {
    let mut rows: Vec<String> = page
        .results
        .iter()
        .map(|r| Value::Object(r.clone()).to_string())
        .collect();
    rows.sort();
    rows
}

#[derive(Default)]
struct Stats {
    ran: u32,
    compared: u32,
    refused: u32,
    /// Refusals compared with the one-scenario database's (same message).
    refusals_compared: u32,
}

fn check(
    full: &Connection,
    reference: &Connection,
    sql: &str,
    stats: &mut Stats,
) -> Result<(), TestCaseError> {
    let valid = validate_query(full, sql);
    let outcome = run_query(full, A, sql, &options());
    let page = match outcome {
        Err(error) => {
            stats.refused += 1;
            // A refusal or failure must not depend on the other scenario either: the same
            // query on the database holding only A fails with the same message (a yes/no
            // oracle would otherwise hide in which queries fail). Timeouts depend on the
            // amount of data, not on what it says, and are not compared.
            if matches!(error, Error::Timeout { .. }) || nondeterministic(sql) {
                return Ok(());
            }
            match run_query(reference, A, sql, &options()) {
                Err(Error::Timeout { .. }) => {}
                Err(expected) => {
                    prop_assert_eq!(
                        error.to_string(),
                        expected.to_string(),
                        "the refusal differs:\n{}",
                        sql
                    );
                    stats.refusals_compared += 1;
                }
                Ok(_) => {
                    return Err(TestCaseError::fail(format!(
                        "fails only beside another scenario ({error}):\n{sql}"
                    )))
                }
            }
            return Ok(());
        }
        Ok(page) => page,
    };
    prop_assert!(valid.is_ok(), "ran but is invalid: {:?}\n{}", valid, sql);
    stats.ran += 1;
    let text = serde_json::to_string(&page).map_err(|e| TestCaseError::fail(e.to_string()))?;
    // A query may echo a literal it contains itself ('CANARYB' is one of the fuzzer's tokens):
    // that is not a leak, and the differential check below still compares it with a database
    // that never held scenario B.
    for canary in CANARIES.iter().filter(|c| !sql.contains(**c)) {
        prop_assert!(
            !text.contains(canary),
            "{} leaked by\n{}\n{}",
            canary,
            sql,
            text
        );
    }
    if nondeterministic(sql) {
        return Ok(());
    }
    let expected = match run_query(reference, A, sql, &options()) {
        Ok(page) => page,
        // The reference may time out where the full database did not; nothing to compare.
        Err(Error::Timeout { .. }) => return Ok(()),
        Err(e) => {
            return Err(TestCaseError::fail(format!(
                "runs only beside another scenario (alone: {e}):\n{sql}"
            )))
        }
    };
    stats.compared += 1;
    prop_assert_eq!(
        page.total_count,
        expected.total_count,
        "count differs:\n{}",
        sql
    );
    prop_assert_eq!(&page.columns, &expected.columns, "columns differ:\n{}", sql);
    if !page.has_more && !page.truncated {
        prop_assert_eq!(rows(&page), rows(&expected), "rows differ:\n{}", sql);
    }
    Ok(())
}

/// Row counts of the state tables and a few entity tables, read on a writer connection (close
/// the sandboxes of a file first).
fn state_counts(database: &Database) -> Result<Vec<i64>, Box<dyn std::error::Error>> {
    let conn = database.writer();
    let mut counts = Vec::new();
    for table in [
        "scenarios",
        "scenario_tags",
        "scenario_entities",
        "schema_migrations",
        "patients",
        "encounters",
        "claims",
    ] {
        counts.push(conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?);
    }
    Ok(counts)
}

#[test]
fn token_soups_never_panic_leak_or_write() -> Result<(), Box<dyn std::error::Error>> {
    let (full_dir, reference_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let full_database = database(full_dir.path(), true);
    let reference_database = database(reference_dir.path(), false);
    let before = state_counts(&full_database)?;
    let full = full_database.sandbox();
    let reference = reference_database.sandbox();

    let mut stats = Stats::default();
    let mut runner = TestRunner::new(ProptestConfig {
        cases: cases(384),
        source_file: Some(file!()),
        ..ProptestConfig::default()
    });
    let outcome = {
        let stats = std::cell::RefCell::new(&mut stats);
        runner.run(&query_text(), |sql| {
            check(&full, &reference, &sql, &mut stats.borrow_mut())
        })
    };
    drop((full, reference));
    eprintln!(
        "query fuzz: {} ran ({} compared with the one-scenario database), {} refused ({} \
         refusals compared)",
        stats.ran, stats.compared, stats.refused, stats.refusals_compared
    );
    outcome.map_err(|e| e.to_string())?;
    // The soups exercised both sides: a fuzzer that only ever produced refusals (or only
    // trivial queries) would pass without testing the scoping.
    let cases = cases(384);
    assert!(
        stats.ran >= cases / 8,
        "only {} of {cases} soups ran",
        stats.ran
    );
    assert!(
        stats.compared >= cases / 16,
        "only {} soups were compared with the one-scenario database",
        stats.compared
    );
    assert!(
        stats.refusals_compared >= cases / 4,
        "only {} refusals were compared",
        stats.refusals_compared
    );
    assert_eq!(
        state_counts(&full_database)?,
        before,
        "the database changed"
    );
    Ok(())
}

/// Fixed cases the soups found interesting once: they stay as plain regression checks.
#[test]
fn known_soups() -> Result<(), Box<dyn std::error::Error>> {
    let (full_dir, reference_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let full = database(full_dir.path(), true).sandbox();
    let reference = database(reference_dir.path(), false).sandbox();
    let mut stats = Stats::default();
    for sql in [
        "SELECT count(*) FROM patients",
        "SELECT * FROM patients t JOIN encounters e USING (patient_id)",
        "WITH patients AS (SELECT * FROM patients) SELECT count(*) FROM patients",
        "SELECT (SELECT count(*) FROM claims), count(*) FROM encounters",
        "SELECT * FROM scenarios",
        "SELECT * FROM main.patients",
        "SELECT * FROM query_table('scenarios')",
        "SELECT count(*) FROM patients UNION ALL SELECT count(*) FROM claims",
        "SELECT ( SELECT count(*) FROM patients ) FROM range(3)",
        "SELECT * FROM patients -- ; DROP TABLE patients",
        "SELECT * FROM patients /* */ ; SELECT * FROM scenarios",
    ] {
        check(&full, &reference, sql, &mut stats).map_err(|e| format!("{sql}: {e}"))?;
    }
    assert!(
        stats.ran >= 5,
        "the fixed cases mostly run: {} ran",
        stats.ran
    );
    Ok(())
}
