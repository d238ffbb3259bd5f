//! Hostile input: every statement that could write, read files, attach databases, change
//! settings, load extensions, reach the bookkeeping tables or the catalog, or exhaust the
//! parser is refused with the expected error kind — and leaves no trace.

mod query_fixture;

use std::path::{Path, PathBuf};

use duckdb::Connection;
use healthsim_query::{run_query, validate_query, Error, QueryOptions};
use query_fixture::{on_lake, Fixture, A, B, LAKE_ALIAS};

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
    // A PIVOT without an IN list looks its values up with an ordinary scoped query.
    ("PIVOT scenarios ON name USING count(*)", "ForbiddenTable"),
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
    // The lake's extensions (loaded in a lake's sandbox; unknown names on a file). The
    // PostgreSQL scanner reaches the catalog's server and any other one.
    (
        "SELECT * FROM postgres_query('__ducklake_metadata_lake', 'SELECT * FROM ducklake_snapshot')",
        "ForbiddenFunction",
    ),
    (
        "SELECT * FROM postgres_scan('dbname=postgres', 'public', 'ducklake_snapshot')",
        "ForbiddenFunction",
    ),
    (
        "SELECT * FROM postgres_execute('__ducklake_metadata_lake', 'DROP TABLE ducklake_snapshot')",
        "ForbiddenFunction",
    ),
    (
        "CALL postgres_execute('__ducklake_metadata_lake', 'DROP TABLE ducklake_snapshot')",
        "NotReadOnly",
    ),
    ("SELECT * FROM postgres_attach('dbname=postgres')", "ForbiddenFunction"),
    ("CALL postgres_attach('dbname=postgres')", "NotReadOnly"),
    (
        "SELECT * FROM postgres_configure_pool(max_connections => 100)",
        "ForbiddenFunction",
    ),
    // An ATTACH string (a password inside it too) shows in the settings and the catalog.
    (
        "SELECT current_setting('allowed_paths')",
        "ForbiddenFunction",
    ),
    (
        "SELECT path FROM duckdb_databases() WHERE database_name = 'lake'",
        "ForbiddenFunction",
    ),
    ("SELECT * FROM pg_clear_cache()", "ForbiddenFunction"),
    ("CALL pg_clear_cache()", "NotReadOnly"),
    (
        "SELECT postgres_hstore_get('a=>1', 'a') AS x",
        "ForbiddenFunction",
    ),
    ("SET pg_connection_limit = 1000", "NotReadOnly"),
    (
        "SELECT current_setting('pg_debug_show_queries')",
        "ForbiddenFunction",
    ),
    // DuckLake's functions: its catalog, snapshots, files and row changes (which read a table's
    // rows outside the scenario shadows), and its maintenance, which writes.
    ("SELECT * FROM ducklake_snapshots('lake')", "ForbiddenFunction"),
    ("SELECT * FROM ducklake_table_info('lake')", "ForbiddenFunction"),
    (
        "SELECT * FROM ducklake_list_files('lake', 'patients')",
        "ForbiddenFunction",
    ),
    (
        "SELECT * FROM ducklake_table_changes('lake', 'main', 'patients', 0, 1000)",
        "ForbiddenFunction",
    ),
    (
        "SELECT * FROM ducklake_table_insertions('lake', 'main', 'patients', 0, 1000)",
        "ForbiddenFunction",
    ),
    (
        "SELECT * FROM ducklake_table_deletions('lake', 'main', 'patients', 0, 1000)",
        "ForbiddenFunction",
    ),
    ("SELECT * FROM ducklake_current_snapshot('lake')", "ForbiddenFunction"),
    (
        "SELECT * FROM ducklake_last_committed_snapshot('lake')",
        "ForbiddenFunction",
    ),
    ("SELECT * FROM ducklake_settings('lake')", "ForbiddenFunction"),
    ("SELECT * FROM ducklake_options('lake')", "ForbiddenFunction"),
    (
        "SELECT * FROM ducklake_add_data_files('lake', 'patients', '/tmp/x.parquet')",
        "ForbiddenFunction",
    ),
    (
        "SELECT * FROM ducklake_flush_inlined_data('lake')",
        "ForbiddenFunction",
    ),
    ("CALL ducklake_flush_inlined_data('lake')", "NotReadOnly"),
    (
        "CALL ducklake_expire_snapshots('lake', older_than => now())",
        "NotReadOnly",
    ),
    (
        "CALL ducklake_cleanup_old_files('lake', cleanup_all => true)",
        "NotReadOnly",
    ),
    (
        "CALL ducklake_delete_orphaned_files('lake', cleanup_all => true)",
        "NotReadOnly",
    ),
    ("CALL ducklake_merge_adjacent_files('lake')", "NotReadOnly"),
    (
        "CALL ducklake_set_option('lake', 'data_inlining_row_limit', 0)",
        "NotReadOnly",
    ),
    ("CALL ducklake_set_commit_message('lake', 'a', 'b')", "NotReadOnly"),
    ("SELECT * FROM lake.snapshots()", "QualifiedName"),
    ("SELECT * FROM lake.table_info()", "QualifiedName"),
    // The lake and its catalog by name (DuckLake keeps small inserts of every scenario in
    // catalog tables).
    ("SELECT * FROM lake.main.patients", "QualifiedName"),
    ("SELECT * FROM lake.patients", "QualifiedName"),
    (
        "SELECT * FROM __ducklake_metadata_lake.ducklake_data_file",
        "QualifiedName",
    ),
    (
        "SELECT * FROM __ducklake_metadata_lake.public.ducklake_inlined_data_tables",
        "QualifiedName",
    ),
    ("SELECT * FROM ducklake_data_file", "ForbiddenTable"),
    ("SELECT * FROM ducklake_snapshot", "ForbiddenTable"),
    ("SELECT * FROM ducklake_inlined_data_tables", "ForbiddenTable"),
    ("SELECT * FROM patients__v5", "ForbiddenTable"),
    ("SELECT * FROM 'ducklake:postgres:dbname=postgres'", "ForbiddenTable"),
    ("SELECT * FROM 'postgres:dbname=postgres'", "ForbiddenTable"),
    // Other lakes and PostgreSQL databases.
    (
        "ATTACH 'ducklake:postgres:dbname=postgres' AS other (READ_ONLY)",
        "NotReadOnly",
    ),
    (
        "ATTACH 'dbname=postgres host=127.0.0.1' AS pg (TYPE postgres, READ_ONLY)",
        "NotReadOnly",
    ),
    ("DETACH lake", "NotReadOnly"),
    ("USE __ducklake_metadata_lake", "NotReadOnly"),
    (
        "CREATE SECRET (TYPE postgres, HOST '127.0.0.1', DATABASE 'postgres')",
        "NotReadOnly",
    ),
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

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("list dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_databases_own_files_are_unreadable_from_a_query() {
    // A lake's sandbox may read its data folder (`allowed_directories`: DuckLake reads its
    // Parquet files through DuckDB's file system), and those files hold every scenario's rows.
    // A query that read them directly would see scenario B; on a file, the folder holds the
    // database file itself. Every way to name a file is refused before anything runs.
    let fixture = Fixture::new();
    let folder = fixture
        .database
        .data_path()
        .unwrap_or(&fixture.dir)
        .to_path_buf();
    let files = files_under(&folder);
    let data = if on_lake() {
        let parquet: Vec<&PathBuf> = files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "parquet"))
            .collect();
        // The danger is real: the data folder holds Parquet files with scenario B's rows.
        let writer = fixture.database.writer();
        let b_rows: i64 = writer
            .query_row(
                &format!(
                    "SELECT count(*) FROM read_parquet('{}/**/*.parquet', union_by_name => true)
                     WHERE scenario_id = ?",
                    folder.display()
                ),
                [B],
                |r| r.get(0),
            )
            .expect("the writer reads the data files");
        assert!(b_rows > 0, "no rows of B in the data files: {parquet:?}");
        parquet[0].clone()
    } else {
        fixture.dir.join("scenarios.duckdb")
    };
    let (folder, data) = (folder.display(), data.display());
    let outside = fixture.dir.join("reference.duckdb");
    let outside = outside.display();
    let cases = [
        (
            format!("SELECT * FROM read_parquet('{folder}/**/*.parquet')"),
            "ForbiddenFunction",
        ),
        (
            format!("SELECT scenario_id FROM read_parquet(['{data}'])"),
            "ForbiddenFunction",
        ),
        (
            format!("SELECT * FROM parquet_scan('{folder}/**/*.parquet')"),
            "ForbiddenFunction",
        ),
        (
            format!("SELECT * FROM parquet_metadata('{data}')"),
            "ForbiddenFunction",
        ),
        (
            format!("SELECT * FROM parquet_schema('{data}')"),
            "ForbiddenFunction",
        ),
        (
            format!("SELECT * FROM parquet_file_metadata('{data}')"),
            "ForbiddenFunction",
        ),
        (
            format!("SELECT * FROM parquet_kv_metadata('{data}')"),
            "ForbiddenFunction",
        ),
        (
            format!("SELECT * FROM glob('{folder}/**')"),
            "ForbiddenFunction",
        ),
        (
            format!("SELECT * FROM read_blob('{data}')"),
            "ForbiddenFunction",
        ),
        (
            format!("SELECT * FROM read_text('{data}')"),
            "ForbiddenFunction",
        ),
        (
            format!("SELECT * FROM read_csv('{data}')"),
            "ForbiddenFunction",
        ),
        (format!("SELECT * FROM '{data}'"), "ForbiddenTable"),
        (
            format!("SELECT * FROM '{folder}/**/*.parquet'"),
            "ForbiddenTable",
        ),
        (
            format!("SELECT p.* FROM patients p JOIN '{data}' d USING (patient_id)"),
            "ForbiddenTable",
        ),
        (
            format!("COPY patients FROM '{data}' (FORMAT parquet)"),
            "NotReadOnly",
        ),
        (format!("ATTACH '{data}' AS raw (READ_ONLY)"), "NotReadOnly"),
        // A file outside the data folder.
        (
            format!("SELECT * FROM read_blob('{outside}')"),
            "ForbiddenFunction",
        ),
        (format!("SELECT * FROM '{outside}'"), "ForbiddenTable"),
        (
            format!("ATTACH '{outside}' AS other (READ_ONLY)"),
            "NotReadOnly",
        ),
    ];
    let state = fixture.state();
    let mut wrong = Vec::new();
    for (sql, expected) in &cases {
        let outcome = run_query(&fixture.sandbox, A, sql, &QueryOptions::default());
        let validated = validate_query(&fixture.sandbox, sql);
        match (&outcome, &validated) {
            (Err(e), Err(v)) if kind(e) == *expected && kind(v) == *expected => {
                // The refusal says why: files, file paths, or not a read-only query.
                let text = e.to_string();
                let reason = match *expected {
                    "ForbiddenFunction" => "it reads or writes files",
                    "ForbiddenTable" => "file paths",
                    _ => "only a single read-only query",
                };
                if !text.contains(reason) {
                    wrong.push(format!(
                        "{sql}\n  the refusal does not say '{reason}': {text}"
                    ));
                }
            }
            _ => wrong.push(format!(
                "{sql}\n  expected {expected}, run_query: {:?}\n  validate_query: {:?}",
                outcome.map(|r| r.results).map_err(|e| e.to_string()),
                validated.map_err(|e| e.to_string())
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(fixture.state(), state);
}

#[test]
fn the_lakes_extensions_are_refused_with_a_reason() {
    // On a lake the PostgreSQL scanner and DuckLake are loaded; the review refuses each of their
    // functions by name, with the reason of its category (on a file they do not exist at all,
    // and are refused the same way).
    let fixture = Fixture::new();
    for (sql, name, reason) in [
        (
            "SELECT * FROM postgres_query('__ducklake_metadata_lake', 'SELECT 1')",
            "postgres_query",
            "sql: it parses, plans or runs SQL text",
        ),
        (
            "SELECT * FROM postgres_scan('dbname=postgres', 'public', 'x')",
            "postgres_scan",
            "sql: it parses, plans or runs SQL text",
        ),
        (
            "SELECT * FROM ducklake_snapshots('lake')",
            "ducklake_snapshots",
            "catalog: it reads the database catalog",
        ),
        (
            "SELECT * FROM ducklake_list_files('lake', 'patients')",
            "ducklake_list_files",
            "catalog: it reads the database catalog",
        ),
        (
            "SELECT postgres_hstore_get('a=>1', 'a') AS x",
            "postgres_hstore_get",
            "internal: it is one of DuckDB's internal helpers",
        ),
        (
            "SELECT * FROM read_postgres_binary('/tmp/x')",
            "read_postgres_binary",
            "files: it reads or writes files",
        ),
    ] {
        match run_query(&fixture.sandbox, A, sql, &QueryOptions::default()) {
            Err(e @ Error::ForbiddenFunction { .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains(&format!("'{name}'")) && text.contains(reason),
                    "{text}"
                );
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
}

/// A sandbox connection refuses `sql` when run directly (not through `run_query`).
fn refused_by_connection(conn: &Connection, sql: &str) -> bool {
    match conn.prepare(sql) {
        Err(_) => true,
        Ok(mut statement) => statement
            .query([])
            .and_then(|mut rows| rows.next().map(|_| ()))
            .is_err(),
    }
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
        "SET allowed_directories = ['/']",
        "CREATE TABLE x (a INTEGER)",
        "INSERT INTO patients (scenario_id, patient_id, created_at) VALUES ('x', 'y', now())",
        "UPDATE patients SET gender = 'x'",
        "DELETE FROM scenarios",
        "SELECT * FROM read_csv('/etc/passwd')",
        "COPY (SELECT 1) TO 'leak.csv'",
        "INSTALL httpfs",
        "LOAD httpfs",
    ] {
        assert!(refused_by_connection(conn, sql), "sandbox accepted {sql}");
    }
    let outside = fixture.dir.join("reference.duckdb");
    let outside = format!("SELECT * FROM read_blob('{}')", outside.display());
    assert!(
        refused_by_connection(conn, &outside),
        "sandbox accepted {outside}"
    );
    let setting = |name: &str| -> String {
        conn.query_row(
            "SELECT value FROM duckdb_settings() WHERE name = ?",
            [name],
            |r| r.get(0),
        )
        .expect("setting")
    };
    assert_eq!(setting("enable_external_access"), "false");
    assert_eq!(setting("lock_configuration"), "true");
    assert_eq!(setting("threads"), "2");
    assert_eq!(setting("autoload_known_extensions"), "false");
    assert_eq!(setting("temp_directory"), "");
    if on_lake() {
        // The instance is in memory (it cannot be opened read-only); the lake is attached
        // read-only, and only its data folder is readable.
        let lake_read_only: bool = conn
            .query_row(
                "SELECT readonly FROM duckdb_databases() WHERE database_name = ?",
                [LAKE_ALIAS],
                |r| r.get(0),
            )
            .expect("the lake");
        assert!(lake_read_only);
        let data = fixture.database.data_path().expect("a lake's data folder");
        assert_eq!(
            setting("allowed_directories"),
            format!("[{}/]", data.display())
        );
        let writer = fixture.database.writer();
        let snapshots = |conn: &Connection| -> i64 {
            conn.query_row(
                &format!("SELECT count(*) FROM ducklake_snapshots('{LAKE_ALIAS}')"),
                [],
                |r| r.get(0),
            )
            .expect("snapshots")
        };
        let before = snapshots(&writer);
        // Nothing writes the lake's catalog, and no new database of any kind is attached.
        for sql in [
            "CALL postgres_execute('__ducklake_metadata_lake', 'CREATE TABLE pwned (a INTEGER)')",
            "SELECT * FROM postgres_execute('__ducklake_metadata_lake', \
             'DELETE FROM ducklake_snapshot')",
            "INSERT INTO __ducklake_metadata_lake.ducklake_metadata VALUES ('k', 'v', NULL, NULL)",
            "CALL ducklake_flush_inlined_data('lake')",
            "CALL ducklake_expire_snapshots('lake', older_than => now())",
            "CALL ducklake_set_option('lake', 'data_inlining_row_limit', 0)",
            "ATTACH 'ducklake:postgres:dbname=postgres' AS other",
            "ATTACH 'dbname=postgres' AS pg (TYPE postgres)",
            "DETACH lake",
        ] {
            assert!(refused_by_connection(conn, sql), "sandbox accepted {sql}");
        }
        assert_eq!(snapshots(&writer), before);
        let pwned: i64 = writer
            .query_row(
                "SELECT count(*) FROM postgres_query('__ducklake_metadata_lake', \
                 'SELECT 1 FROM pg_tables WHERE tablename = ''pwned''')",
                [],
                |r| r.get(0),
            )
            .expect("the catalog's tables");
        assert_eq!(pwned, 0);
    } else {
        assert_eq!(setting("access_mode"), "read_only");
        // A file's instance is read-only as a whole, so it attaches nothing, not even memory.
        // A lake's instance is in memory: it accepts in-memory attachments and tables in its
        // own empty `memory` catalog (as both accept temporary tables), which reach nothing
        // outside the connection; run_query refuses them all.
        assert!(refused_by_connection(conn, "ATTACH ':memory:' AS m"));
    }
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
