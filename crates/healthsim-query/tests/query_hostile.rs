//! Hostile input: every statement that could write, read files, attach databases, change
//! settings, load extensions, reach the bookkeeping tables or the catalog, or exhaust the
//! parser is refused with the expected error kind — and leaves no trace.

mod query_fixture;

use healthsim_query::{run_query, validate_query, Error, QueryOptions};
use query_fixture::{Fixture, A};

fn kind(error: &Error) -> &'static str {
    match error {
        Error::Empty => "Empty",
        Error::TooLong { .. } => "TooLong",
        Error::ControlCharacter { .. } => "ControlCharacter",
        Error::TooDeep { .. } => "TooDeep",
        Error::Syntax { .. } => "Syntax",
        Error::MultipleStatements { .. } => "MultipleStatements",
        Error::NotReadOnly { .. } => "NotReadOnly",
        Error::ForbiddenTable { .. } => "ForbiddenTable",
        Error::QualifiedName { .. } => "QualifiedName",
        Error::ForbiddenFunction { .. } => "ForbiddenFunction",
        Error::UnboundedSize { .. } => "UnboundedSize",
        Error::Unsupported { .. } => "Unsupported",
        Error::InvalidLimit { .. } => "InvalidLimit",
        Error::Timeout { .. } => "Timeout",
        Error::Execution { .. } => "Execution",
        Error::ResultTooWide { .. } => "ResultTooWide",
        Error::Database { .. } => "Database",
        Error::Watchdog { .. } => "Watchdog",
        _ => "other",
    }
}

const HOSTILE: &[(&str, &str)] = &[
    // Writes and DDL.
    (
        "INSERT INTO patients (scenario_id, patient_id) VALUES ('x', 'p1')",
        "NotReadOnly",
    ),
    ("UPDATE patients SET gender = 'x'", "NotReadOnly"),
    ("DELETE FROM patients", "NotReadOnly"),
    ("DELETE FROM scenarios WHERE true", "NotReadOnly"),
    ("TRUNCATE claims", "NotReadOnly"),
    ("CREATE TABLE t AS SELECT * FROM patients", "NotReadOnly"),
    (
        "CREATE TEMP TABLE t AS SELECT * FROM main.patients",
        "NotReadOnly",
    ),
    ("CREATE VIEW v AS SELECT 1", "NotReadOnly"),
    (
        "CREATE MACRO leak() AS TABLE SELECT * FROM main.patients",
        "NotReadOnly",
    ),
    (
        "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')",
        "NotReadOnly",
    ),
    ("DROP TABLE patients", "NotReadOnly"),
    ("ALTER TABLE patients ADD COLUMN x INTEGER", "NotReadOnly"),
    (
        "INSERT INTO patients SELECT * FROM patients RETURNING *",
        "NotReadOnly",
    ),
    // More than one statement, whatever they are.
    ("SELECT 1; DROP TABLE patients", "MultipleStatements"),
    ("SELECT 1; SELECT 2", "MultipleStatements"),
    (
        "SELECT * FROM patients; SET threads = 1",
        "MultipleStatements",
    ),
    // Files.
    ("COPY patients TO 'leak.csv'", "NotReadOnly"),
    (
        "COPY (SELECT * FROM patients) TO 'leak.parquet' (FORMAT parquet)",
        "NotReadOnly",
    ),
    ("COPY patients FROM '/etc/passwd'", "NotReadOnly"),
    ("EXPORT DATABASE 'exported'", "NotReadOnly"),
    ("IMPORT DATABASE 'exported'", "NotReadOnly"),
    ("SELECT * FROM read_csv('/etc/passwd')", "ForbiddenFunction"),
    (
        "SELECT * FROM read_csv_auto('/etc/passwd')",
        "ForbiddenFunction",
    ),
    (
        "SELECT * FROM read_parquet('x.parquet')",
        "ForbiddenFunction",
    ),
    (
        "SELECT * FROM parquet_scan('x.parquet')",
        "ForbiddenFunction",
    ),
    (
        "SELECT * FROM read_text('/etc/hostname')",
        "ForbiddenFunction",
    ),
    (
        "SELECT * FROM read_blob('/etc/hostname')",
        "ForbiddenFunction",
    ),
    (
        "SELECT * FROM read_json_auto('x.json')",
        "ForbiddenFunction",
    ),
    ("SELECT * FROM glob('/*')", "ForbiddenFunction"),
    (
        "SELECT * FROM sniff_csv('/etc/passwd')",
        "ForbiddenFunction",
    ),
    ("SELECT * FROM 'patients.csv'", "ForbiddenTable"),
    ("SELECT * FROM '/etc/passwd'", "ForbiddenTable"),
    (
        "SELECT * FROM 'https://example.com/x.parquet'",
        "ForbiddenTable",
    ),
    (
        "SELECT p.* FROM patients p JOIN 'other.csv' o USING (patient_id)",
        "ForbiddenTable",
    ),
    // Other databases.
    ("ATTACH '/tmp/other.duckdb' AS other", "NotReadOnly"),
    ("ATTACH ':memory:' AS m", "NotReadOnly"),
    ("DETACH scenarios", "NotReadOnly"),
    ("USE memory", "NotReadOnly"),
    // Extensions.
    ("INSTALL httpfs", "NotReadOnly"),
    ("LOAD httpfs", "NotReadOnly"),
    ("FORCE INSTALL json", "NotReadOnly"),
    // Settings and session state.
    ("SET threads = 8", "NotReadOnly"),
    ("SET memory_limit = '64GB'", "NotReadOnly"),
    ("SET enable_external_access = true", "NotReadOnly"),
    ("RESET threads", "NotReadOnly"),
    ("SET VARIABLE x = 1", "NotReadOnly"),
    ("PRAGMA enable_profiling", "NotReadOnly"),
    ("PRAGMA table_info('scenarios')", "NotReadOnly"),
    ("CALL duckdb_settings()", "NotReadOnly"),
    ("CHECKPOINT", "NotReadOnly"),
    ("VACUUM", "NotReadOnly"),
    ("BEGIN TRANSACTION", "NotReadOnly"),
    ("COMMIT", "NotReadOnly"),
    ("ROLLBACK", "NotReadOnly"),
    ("PREPARE p AS SELECT * FROM main.patients", "NotReadOnly"),
    ("EXECUTE p", "NotReadOnly"),
    ("DEALLOCATE p", "NotReadOnly"),
    ("EXPLAIN SELECT * FROM patients", "NotReadOnly"),
    ("EXPLAIN ANALYZE SELECT * FROM patients", "NotReadOnly"),
    // A PIVOT without an IN list needs a second statement: refused, naming PIVOT.
    ("PIVOT patients ON gender USING count(*)", "Unsupported"),
    // Qualified names reach past the scenario shadows.
    ("SELECT * FROM main.patients", "QualifiedName"),
    ("SELECT * FROM memory.main.patients", "QualifiedName"),
    ("SELECT * FROM scenarios.main.patients", "QualifiedName"),
    ("SELECT * FROM temp.main.patients", "QualifiedName"),
    (
        "SELECT * FROM patients, LATERAL (SELECT * FROM main.claims) c",
        "QualifiedName",
    ),
    (
        "SELECT (SELECT count(*) FROM main.patients) AS n",
        "QualifiedName",
    ),
    ("SELECT * FROM information_schema.tables", "QualifiedName"),
    ("SELECT * FROM pg_catalog.pg_tables", "QualifiedName"),
    ("SELECT * FROM system.main.duckdb_tables", "QualifiedName"),
    // Catalog and bookkeeping tables.
    ("SELECT * FROM duckdb_tables()", "ForbiddenFunction"),
    ("SELECT * FROM duckdb_settings()", "ForbiddenFunction"),
    ("SELECT * FROM duckdb_databases()", "ForbiddenFunction"),
    (
        "SELECT * FROM pragma_table_info('scenarios')",
        "ForbiddenFunction",
    ),
    ("SELECT * FROM duckdb_tables", "ForbiddenTable"),
    ("SELECT * FROM pg_tables", "ForbiddenTable"),
    ("SELECT * FROM sqlite_master", "ForbiddenTable"),
    ("SELECT * FROM scenarios", "ForbiddenTable"),
    ("SELECT * FROM \"Scenarios\"", "ForbiddenTable"),
    ("SELECT * FROM scenario_tags", "ForbiddenTable"),
    ("SELECT * FROM scenario_entities", "ForbiddenTable"),
    ("SELECT * FROM schema_migrations", "ForbiddenTable"),
    (
        "SELECT p.* FROM patients p JOIN scenarios s USING (scenario_id)",
        "ForbiddenTable",
    ),
    (
        "SELECT (SELECT count(*) FROM scenario_entities) AS n",
        "ForbiddenTable",
    ),
    (
        "SELECT patient_id FROM patients UNION ALL SELECT name FROM scenarios",
        "ForbiddenTable",
    ),
    ("SELECT * FROM patient", "ForbiddenTable"),
    // CTE names that would reach a real relation if scoping were wrong.
    (
        "WITH x AS (SELECT * FROM scenarios), scenarios AS (SELECT 1) SELECT * FROM x",
        "ForbiddenTable",
    ),
    (
        "WITH scenarios AS (SELECT 1 AS x) SELECT * FROM scenarios",
        "ForbiddenTable",
    ),
    (
        "WITH RECURSIVE sqlite_master AS (SELECT 1 AS n) SELECT * FROM sqlite_master",
        "ForbiddenTable",
    ),
    (
        "SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) a, x",
        "ForbiddenTable",
    ),
    // Functions that run SQL or read settings, variables or the environment.
    (
        "SELECT * FROM query('SELECT * FROM main.patients')",
        "ForbiddenFunction",
    ),
    ("SELECT * FROM query_table('patients')", "ForbiddenFunction"),
    (
        "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
        "ForbiddenFunction",
    ),
    ("SELECT getvariable('x')", "ForbiddenFunction"),
    (
        "SELECT current_setting('memory_limit')",
        "ForbiddenFunction",
    ),
    ("SELECT getenv('HOME')", "ForbiddenFunction"),
    ("SELECT current_query()", "ForbiddenFunction"),
    ("SELECT enable_profile()", "ForbiddenFunction"),
    ("SELECT * FROM summary(SELECT 1)", "Syntax"),
    (
        "SELECT * FROM histogram_values(patients, birth_date)",
        "ForbiddenFunction",
    ),
    ("SELECT * FROM test_all_types()", "ForbiddenFunction"),
    ("SELECT main.getvariable('x')", "ForbiddenFunction"),
    ("SELECT other.main.lower('x')", "QualifiedName"),
    // Introspection statements and parameters.
    ("DESCRIBE patients", "Unsupported"),
    ("SHOW TABLES", "Unsupported"),
    ("SHOW ALL TABLES", "Unsupported"),
    ("SUMMARIZE patients", "Unsupported"),
    ("SELECT * FROM (DESCRIBE scenarios)", "Unsupported"),
    (
        "SELECT * FROM patients WHERE scenario_id = ?",
        "Unsupported",
    ),
    ("SELECT $1", "Unsupported"),
    (
        "SELECT * FROM patients WHERE patient_id = $scenario",
        "Unsupported",
    ),
    // Breaking out of the wrapper, malformed text.
    (
        "SELECT * FROM patients) UNION (SELECT * FROM main.patients",
        "Syntax",
    ),
    ("SELECT 1) AS q; DROP TABLE patients; --", "Syntax"),
    ("SELEC 1", "Syntax"),
    (
        "WITH x AS (DELETE FROM patients RETURNING *) SELECT * FROM x",
        "Syntax",
    ),
    ("", "Empty"),
    ("   -- nothing but a comment", "Empty"),
    (";;", "Empty"),
];

#[test]
fn hostile_inputs_are_refused_without_side_effects() {
    let fixture = Fixture::new();
    let counts = fixture.counts();
    let state = fixture.state();
    assert!(HOSTILE.len() >= 40);
    let mut wrong = Vec::new();
    for (sql, expected) in HOSTILE {
        let outcome = run_query(&fixture.sandbox, A, sql, &QueryOptions::default());
        let validated = validate_query(&fixture.sandbox, sql);
        match (&outcome, &validated) {
            (Err(e), Err(v)) if kind(e) == *expected && kind(v) == *expected => {}
            _ => wrong.push(format!(
                "{sql}\n  expected {expected}, run_query: {:?}\n  validate_query: {:?}",
                outcome
                    .as_ref()
                    .map(|r| r.total_count)
                    .map_err(|e| e.to_string()),
                validated.map_err(|e| e.to_string())
            )),
        }
        assert_eq!(fixture.counts(), counts, "row counts changed after {sql}");
        assert_eq!(fixture.state(), state, "state changed after {sql}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn oversized_and_overdeep_queries_are_refused() {
    let fixture = Fixture::new();
    let state = fixture.state();
    let check = |sql: &str, expected: &str| {
        let outcome = run_query(&fixture.sandbox, A, sql, &QueryOptions::default());
        match outcome {
            Err(e) => assert_eq!(kind(&e), expected, "{e}"),
            Ok(page) => panic!(
                "accepted ({} rows) a {}-char query",
                page.total_count,
                sql.len()
            ),
        }
    };
    // 1 MB of text, even if most of it is a comment.
    check(&format!("SELECT 1 -- {}", "x".repeat(1 << 20)), "TooLong");
    check(&format!("SELECT '{}'", "x".repeat(1 << 20)), "TooLong");
    // 5,000 nested subqueries and 5,000 nested expressions.
    let n = 5000;
    let subqueries = format!(
        "SELECT * FROM {}patients{}",
        "(SELECT * FROM ".repeat(n),
        ") t".repeat(n)
    );
    check(&subqueries, "TooDeep");
    let expressions = format!("SELECT {}1{}", "(1 + ".repeat(n), ")".repeat(n));
    check(&expressions, "TooDeep");
    // Deep but within the text limit: 300 levels of subqueries.
    let n = 300;
    let subqueries = format!(
        "SELECT * FROM {}patients{}",
        "(SELECT * FROM ".repeat(n),
        ") t".repeat(n)
    );
    check(&subqueries, "TooDeep");
    assert_eq!(fixture.state(), state);
    // The connection still works.
    let page = fixture.page("SELECT count(*) AS n FROM patients", 1, 0);
    assert_eq!(page.results[0]["n"], 12);
}

#[test]
fn messages_name_the_reason_and_the_valid_tables() {
    let fixture = Fixture::new();
    let message = |sql: &str| match run_query(&fixture.sandbox, A, sql, &QueryOptions::default()) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted {sql}"),
    };
    let text = message("SELECT * FROM scenarios");
    assert!(
        text.contains("'scenarios'") && text.contains("bookkeeping"),
        "{text}"
    );
    assert!(text.contains("patients, encounters"), "{text}");
    let text = message("SELECT * FROM labs");
    assert!(text.contains("did you mean lab_results"), "{text}");
    let text = message("DROP TABLE patients");
    assert!(
        text.contains("only a single read-only query") && text.contains("DROP"),
        "{text}"
    );
    let text = message("SELECT 1; SELECT 2; SELECT 3");
    assert!(text.contains("3 statements"), "{text}");
    let text = message("SELECT * FROM main.patients");
    assert!(text.contains("'main.patients'"), "{text}");
    let text = message("SELECT * FROM 'x.csv'");
    assert!(text.contains("file paths"), "{text}");
    // DuckDB's own message for unknown columns, plus the valid tables.
    let text = message("SELECT no_such_column FROM patients");
    assert!(
        text.contains("no_such_column") && text.contains("claim_lines"),
        "{text}"
    );
    let text = message("SELECT 1 FROM patients WHERE gender = 1 + 'x'");
    assert!(text.starts_with("query failed"), "{text}");
}

#[test]
fn the_sandbox_connection_itself_refuses_writes_files_and_settings() {
    // The first line of defence holds even for SQL that never goes through run_query.
    let fixture = Fixture::new();
    let conn = &fixture.sandbox;
    for sql in [
        "SET threads = 1",
        "SET memory_limit = '8GB'",
        "RESET memory_limit",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "CREATE TABLE x (a INTEGER)",
        "INSERT INTO patients (scenario_id, patient_id, created_at) VALUES ('x', 'y', now())",
        "SELECT * FROM read_csv('/etc/passwd')",
        "COPY (SELECT 1) TO 'leak.csv'",
        "ATTACH ':memory:' AS m",
        "INSTALL httpfs",
        "LOAD httpfs",
    ] {
        assert!(conn.execute_batch(sql).is_err(), "sandbox accepted {sql}");
    }
    let setting = |name: &str| -> String {
        conn.query_row(
            "SELECT value FROM duckdb_settings() WHERE name = ?",
            [name],
            |r| r.get(0),
        )
        .expect("setting")
    };
    assert_eq!(setting("access_mode"), "read_only");
    assert_eq!(setting("enable_external_access"), "false");
    assert_eq!(setting("lock_configuration"), "true");
    assert_eq!(setting("threads"), "2");
    assert_eq!(setting("autoload_known_extensions"), "false");
    assert_eq!(setting("temp_directory"), "");
}

#[test]
fn many_ctes_and_references_stay_cheap() {
    // Regression: CTE scopes used to copy every earlier name per CTE (quadratic memory).
    let fixture = Fixture::new();
    let n = 3000;
    let ctes: Vec<String> = (0..n)
        .map(|i| format!("c{i} AS (SELECT {i} AS v)"))
        .collect();
    let sql = format!(
        "WITH {} SELECT count(*) AS n FROM c{}",
        ctes.join(", "),
        n - 1
    );
    assert!(sql.len() < 100_000, "{} chars", sql.len());
    if let Err(e) = validate_query(&fixture.sandbox, &sql) {
        panic!("{e}");
    }
}
