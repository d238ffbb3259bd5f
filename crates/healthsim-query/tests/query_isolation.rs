//! The differential isolation test: every query — attacks of each class the sandbox defends
//! against, legitimate analyst queries, and generated combinations of both — gives exactly the
//! same outcome (the whole page, or the whole error message) on a database holding only
//! scenario A and on one holding A plus a canary scenario B (other rows, names, tags).
//!
//! Comparing outcomes rather than looking for canary texts also catches yes/no oracles: a query
//! that answers 1 or 0 depending on what another scenario holds, on what the state tables say,
//! or on where the database lies (the two lie at the same place in different folders). Both are
//! of the test backend: files, or with `HEALTHSIM_TEST_BACKEND=lake` lakes.

mod query_fixture;

use std::path::Path;
use std::time::Duration;

use duckdb::Connection;
use healthsim_query::{run_query, Error, QueryOptions};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use query_fixture::{insert_scenario, Database, A, B};

/// Two databases of the test backend at the same place in two folders (files of the same
/// name, or lakes whose data folders have the same name): A alone, and A with the canary
/// scenario B.
struct Pair {
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    alone: Connection,
    with_canary: Connection,
}

fn database(dir: &Path, canary: bool) -> Database {
    Database::create(dir, |conn| {
        insert_scenario(conn, A, 1);
        if canary {
            insert_scenario(conn, B, 2);
        }
    })
}

impl Pair {
    fn new() -> Pair {
        let (one, two) = (
            tempfile::tempdir().expect("dir"),
            tempfile::tempdir().expect("dir"),
        );
        let alone = database(one.path(), false).sandbox();
        let with_canary = database(two.path(), true).sandbox();
        Pair {
            _dirs: (one, two),
            alone,
            with_canary,
        }
    }

    /// The outcome on both databases: the page as JSON, or the error.
    fn outcomes(&self, sql: &str) -> (Result<String, Error>, Result<String, Error>) {
        let options = QueryOptions {
            limit: Some(100),
            timeout: Duration::from_secs(2),
            ..QueryOptions::default()
        };
        let run = |conn: &Connection| {
            run_query(conn, A, sql, &options)
                .map(|page| serde_json::to_string(&page).expect("page as JSON"))
        };
        (run(&self.alone), run(&self.with_canary))
    }

    /// Asserts the same outcome on both (the page, or the error message); returns whether the
    /// query ran.
    fn check(&self, sql: &str) -> bool {
        let (alone, with_canary) = self.outcomes(sql);
        compare(sql, alone, with_canary)
    }
}

/// Asserts that two outcomes are the same (the page, or the error message); returns whether
/// the query ran.
fn compare(sql: &str, alone: Result<String, Error>, with_canary: Result<String, Error>) -> bool {
    let text = |outcome: Result<String, Error>| outcome.unwrap_or_else(|e| format!("error: {e}"));
    let (alone, with_canary) = (text(alone), text(with_canary));
    assert_eq!(
        alone, with_canary,
        "the canary scenario changed the outcome of\n{sql}"
    );
    !alone.starts_with("error: ")
}

/// Class 1: functions that look past the scoped scan — whole-table statistics, SQL given as a
/// string (planned, serialized, run), the catalog, settings and variables, built-in macros
/// over the catalog, files — including yes/no oracles built from them.
const LOOKING_PAST_THE_SCAN: &[&str] = &[
    "SELECT stats(patient_id) AS s FROM patients",
    "SELECT stats(birth_date) AS s FROM patients LIMIT 1",
    "SELECT stats(total_paid) AS s FROM claims",
    "SELECT json_serialize_sql('SELECT * FROM main.patients') AS j",
    "SELECT json_serialize_plan('SELECT given_name FROM main.patients WHERE given_name = ''Ana''') AS j",
    "SELECT length(json_serialize_plan('SELECT * FROM main.scenarios WHERE name LIKE ''scenario-2%''')) AS n",
    "SELECT CASE WHEN json_serialize_plan('SELECT 1 FROM main.patients WHERE scenario_id = \
     ''22222222-bbbb-4bbb-8bbb-000000000002''') LIKE '%22222222%' THEN 1 ELSE 0 END AS bit",
    "SELECT json_deserialize_sql(json_serialize_sql('SELECT name FROM main.scenarios')) AS q",
    "SELECT * FROM query('SELECT * FROM main.patients')",
    "SELECT * FROM query_table('patients')",
    "SELECT * FROM query_table(['patients', 'scenarios'])",
    "SELECT current_setting('memory_limit') AS m",
    "SELECT current_setting('home_directory') AS h",
    "SELECT current_setting('threads') AS t",
    "SELECT getvariable('x') AS v",
    "SELECT * FROM duckdb_settings()",
    "SELECT count(*) AS n FROM duckdb_tables()",
    "SELECT * FROM duckdb_columns() WHERE table_name = 'schema_migrations'",
    "SELECT * FROM duckdb_databases()",
    "SELECT * FROM duckdb_functions() LIMIT 1",
    "SELECT * FROM pragma_table_info('scenarios')",
    "SELECT * FROM pragma_storage_info('patients')",
    "SELECT * FROM pragma_database_size()",
    "SELECT pg_get_viewdef(1) AS v",
    "SELECT current_database() AS d",
    "SELECT current_schemas(true) AS s",
    "SELECT (SELECT count(*) FROM duckdb_tables()) AS n FROM patients",
    "SELECT p.patient_id FROM patients p, duckdb_databases() d",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM glob('/tmp/*')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM main.patients",
    "SELECT * FROM scenarios",
    "SELECT * FROM scenario_tags",
    "SELECT * FROM schema_migrations",
    "SELECT * FROM \"main\".\"scenario_entities\"",
    "WITH s AS (SELECT * FROM scenarios) SELECT count(*) AS n FROM s",
    "SELECT count(*) AS n FROM patients WHERE scenario_id <> '11111111-aaaa-4aaa-8aaa-000000000001'",
    "SELECT approx_count_distinct(patient_id) AS n, min(given_name) AS lo, max(given_name) AS hi FROM patients",
];

/// Class 4: text that is not what runs (a NUL ends DuckDB's parse), and other control
/// characters.
const NOT_WHAT_RUNS: &[&str] = &[
    "SELECT 1 AS x \u{0}; SELECT * FROM main.patients",
    "SELECT count(*) AS n FROM patients\u{0} WHERE scenario_id <> ''",
    "SELECT 'a\u{0}b' AS x",
    "SELECT 1 AS x\u{1b}[2J",
];

/// Legitimate queries: the same rows either way.
const LEGITIMATE: &[&str] = &[
    "SELECT count(*) AS n FROM patients",
    "SELECT gender, count(*) AS n FROM patients GROUP BY gender ORDER BY gender",
    "SELECT e.encounter_class, count(DISTINCT p.patient_id) AS n FROM encounters e \
     JOIN patients p USING (patient_id) GROUP BY 1 ORDER BY 1",
    "SELECT code, count(*) AS n, rank() OVER (ORDER BY count(*) DESC, code) AS r FROM diagnoses GROUP BY code",
    "SELECT sum(total_paid) / sum(total_billed) AS ratio FROM claims",
    "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT sum(n) AS s FROM t",
    "SELECT lpad(patient_id, (length(patient_id) + 2)::INT, '0') AS padded FROM patients ORDER BY 1",
    "SELECT state, repeat('*', count(*)::INT) AS bar FROM patients GROUP BY state ORDER BY state",
    "SELECT extra->>'favorite_color' AS color, count(*) AS n FROM patients GROUP BY 1 ORDER BY 1",
    // The pivot's values are looked up first: the canary's must not become columns.
    "PIVOT (SELECT extra->>'favorite_color' AS color FROM patients) ON color USING count(*)",
];

#[test]
fn attacks_give_the_same_outcome_with_and_without_another_scenario() {
    let pair = Pair::new();
    for sql in LOOKING_PAST_THE_SCAN.iter().chain(NOT_WHAT_RUNS) {
        pair.check(sql);
    }
}

#[test]
fn legitimate_queries_run_and_give_the_same_rows_with_and_without_another_scenario() {
    let pair = Pair::new();
    for sql in LEGITIMATE {
        assert!(
            pair.check(sql),
            "did not run: {sql}\n{:?}",
            pair.outcomes(sql).0.map_err(|e| e.to_string())
        );
    }
}

/// Generated queries: an attack or legitimate fragment placed in a query shape (projection,
/// filter, scalar subquery, CTE, set operation, join), so that each fragment is also tried
/// where an oracle would hide it.
fn generated() -> impl Strategy<Value = String> {
    let fragments: Vec<&'static str> = [
        "length(json_serialize_plan('SELECT * FROM main.patients'))",
        "json_serialize_sql('SELECT name FROM main.scenarios')",
        "stats(given_name)",
        "current_setting('memory_limit')",
        "(SELECT count(*) FROM duckdb_tables())",
        "(SELECT count(*) FROM scenarios)",
        "(SELECT count(*) FROM main.patients)",
        "(SELECT max(name) FROM query('SELECT name FROM main.scenarios'))",
        "count(*)",
        "max(birth_date)",
        "min(given_name)",
        "count(DISTINCT state)",
        "sum(length(family_name))",
        "string_agg(DISTINCT gender, ',' ORDER BY gender)",
    ]
    .to_vec();
    let shapes: Vec<&'static str> = [
        "SELECT {f} AS v FROM patients",
        "SELECT CASE WHEN {f} IS NULL THEN 0 ELSE 1 END AS bit FROM patients",
        "SELECT (SELECT {f} FROM patients) AS v",
        "WITH x AS (SELECT {f} AS v FROM patients) SELECT * FROM x",
        "SELECT {f} AS v FROM patients UNION ALL SELECT {f} FROM patients",
        "SELECT {f} AS v FROM patients p JOIN encounters e USING (patient_id)",
        "SELECT count(*) AS n FROM patients HAVING {f} IS NOT NULL",
    ]
    .to_vec();
    (
        proptest::sample::select(shapes),
        proptest::sample::select(fragments),
    )
        .prop_map(|(shape, fragment)| shape.replace("{f}", fragment))
}

#[test]
fn generated_queries_give_the_same_outcome_with_and_without_another_scenario() {
    let pair = Pair::new();
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 200,
        source_file: Some(file!()),
        ..ProptestConfig::default()
    });
    let ran = std::cell::Cell::new(0_u32);
    let tried = std::cell::Cell::new(0_u32);
    runner
        .run(&generated(), |sql| {
            tried.set(tried.get() + 1);
            // A generated query may take long on a loaded machine (more so on a lake, whose
            // queries wait on its catalog's server). Time depends on the load and the amount
            // of data, not on what the data says: a timeout on either side is not compared.
            match pair.outcomes(&sql) {
                (Err(Error::Timeout { .. }), _) | (_, Err(Error::Timeout { .. })) => {}
                (alone, with_canary) => {
                    if compare(&sql, alone, with_canary) {
                        ran.set(ran.get() + 1);
                    }
                }
            }
            Ok(())
        })
        .expect("generated queries");
    // Both kinds were exercised: some ran (and were compared row by row), some were refused.
    assert!(
        tried.get() >= 200,
        "only {} generated queries were tried",
        tried.get()
    );
    assert!(
        ran.get() >= 40,
        "only {} of {} generated queries ran",
        ran.get(),
        tried.get()
    );
    assert!(ran.get() < tried.get(), "no generated query was refused");
}
