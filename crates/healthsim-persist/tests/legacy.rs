//! The way in for Python HealthSim users: foreign and legacy database files are recognized and
//! left untouched, and `Store::import_legacy` brings their scenarios and cohorts in.
//!
//! The legacy databases are built at test time, with our own DuckDB, from the SQL files in
//! `tests/legacy/` that `tests/legacy/make_fixtures.py` writes from the Python HealthSim's own
//! schema source (see its header for the pinned commits).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use healthsim_persist::{Error, Store, StoreError, StoreOptions};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const V1_2_SQL: &str = include_str!("legacy/python_v1_2.sql");
const V1_7_SQL: &str = include_str!("legacy/python_v1_7.sql");

/// A DuckDB file at `path` built by running `sql`, closed.
fn build_database(path: &Path, sql: &str) -> TestResult {
    let conn = duckdb::Connection::open(path)?;
    conn.execute_batch(sql)?;
    conn.execute_batch("CHECKPOINT")?;
    drop(conn);
    Ok(())
}

/// A Python HealthSim database of one era in a fresh folder.
fn legacy_database(sql: &str) -> Result<(tempfile::TempDir, PathBuf), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("healthsim.duckdb");
    build_database(&path, sql)?;
    Ok((dir, path))
}

/// A file's bytes and modification time, to show it was not touched.
fn fingerprint(path: &Path) -> Result<(Vec<u8>, SystemTime), Box<dyn std::error::Error>> {
    Ok((std::fs::read(path)?, std::fs::metadata(path)?.modified()?))
}

/// Every file in the folder of `path` (a write-ahead log or a temporary database would show).
fn folder_listing(path: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut names: Vec<String> = std::fs::read_dir(path.parent().ok_or("no parent")?)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    names.sort();
    Ok(names)
}

/// Opening `path` fails with a foreign-database error whose message holds every one of
/// `expected`, and leaves the file and its folder exactly as they were.
fn check_refused_untouched(path: &Path, expected: &[&str]) -> TestResult {
    let before = fingerprint(path)?;
    let listing = folder_listing(path)?;
    let message = match Store::open(path, StoreOptions::default()) {
        Err(e @ Error::Store(StoreError::ForeignDatabase { .. }))
        | Err(e @ Error::Store(StoreError::NotADatabase { .. })) => {
            assert!(!e.is_caller_error(), "{e}");
            e.to_string()
        }
        other => panic!("expected a foreign-database error, got {other:?}"),
    };
    assert!(
        message.starts_with(&path.display().to_string()),
        "{message}"
    );
    for text in expected {
        assert!(message.contains(text), "{text:?} not in {message}");
    }
    for engine_words in ["Binder Error", "Catalog Error", "IO Error"] {
        assert!(!message.contains(engine_words), "{message}");
    }
    assert!(fingerprint(path)? == before, "the file changed");
    assert_eq!(folder_listing(path)?, listing, "files appeared or vanished");
    Ok(())
}

#[test]
fn a_python_database_of_the_scenarios_era_is_named_and_left_untouched() -> TestResult {
    let (_dir, path) = legacy_database(V1_2_SQL)?;
    check_refused_untouched(
        &path,
        &[
            "is a HealthSim (Python) database, schema era v1.0-v1.4 (scenarios)",
            "recorded version 1.2",
            "it is left untouched",
            &format!("healthsim import-legacy {}", path.display()),
        ],
    )
}

#[test]
fn a_python_database_of_the_cohorts_era_is_named_and_left_untouched() -> TestResult {
    let (_dir, path) = legacy_database(V1_7_SQL)?;
    check_refused_untouched(
        &path,
        &[
            "is a HealthSim (Python) database, schema era v1.5+ (cohorts)",
            "recorded version 1.7",
            "Import its cohorts with `healthsim import-legacy",
        ],
    )
}

#[test]
fn another_applications_duckdb_file_is_not_migrated() -> TestResult {
    let dir = tempfile::tempdir()?;
    // Without a schema_migrations table: the migrations would have created ours in it.
    let plain = dir.path().join("analytics.duckdb");
    build_database(
        &plain,
        "CREATE TABLE events (id INTEGER, kind VARCHAR); INSERT INTO events VALUES (1, 'x');
         CREATE SCHEMA staging; CREATE TABLE staging.raw (line VARCHAR);",
    )?;
    check_refused_untouched(
        &plain,
        &[
            "is a DuckDB database of another application (2 table(s), e.g. events, staging.raw",
            "no HealthSim Persist schema_migrations table",
            "Pass --db",
        ],
    )?;
    // With a schema_migrations table of its own (another framework's).
    let framework = dir.path().join("app.duckdb");
    build_database(
        &framework,
        "CREATE TABLE schema_migrations (version VARCHAR PRIMARY KEY);
         INSERT INTO schema_migrations VALUES ('20240101000000');
         CREATE TABLE users (id INTEGER);",
    )?;
    check_refused_untouched(
        &framework,
        &[
            "another application",
            "its schema_migrations table is not HealthSim Persist's",
        ],
    )
}

#[test]
fn files_that_are_not_duckdb_are_named_by_what_they_look_like() -> TestResult {
    let dir = tempfile::tempdir()?;
    let cases: [(&str, Vec<u8>, &[&str]); 3] = [
        (
            "data.sqlite",
            [b"SQLite format 3\0".as_slice(), &[0u8; 4080]].concat(),
            &[
                "is not a DuckDB database",
                "it is a SQLite database",
                "left untouched",
            ],
        ),
        (
            "cohort.json",
            br#"  {"name": "x", "entities": {"patients": []}}"#.to_vec(),
            &[
                "it is JSON text",
                "healthsim import-legacy",
                "left untouched",
            ],
        ),
        (
            "notes.txt",
            "plain notes, no database here ".repeat(50).into_bytes(),
            &["does not start like a DuckDB file", "left untouched"],
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes)?;
        check_refused_untouched(&path, expected)?;
    }
    Ok(())
}

#[test]
fn our_own_database_and_a_new_file_still_open() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("ours.duckdb");
    let store = Store::open(&path, StoreOptions::default())?;
    drop(store);
    // Reopening our own (migrated) database is not refused.
    let store = Store::open(&path, StoreOptions::default())?;
    assert_eq!(
        store.schema_status()?.current_version,
        healthsim_schema::head_version()
    );
    Ok(())
}
