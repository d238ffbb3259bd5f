//! Regressions found by the reliability suites, one test each.

mod reliability_common;

use reliability_common::{healthsim_on, run, TestResult};

// Regression: a SQLite file given as --db made DuckDB try to download and load its sqlite
// extension (autoload was on for the read-write connection).
#[test]
fn a_sqlite_file_is_refused_without_reaching_for_an_extension() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("sqlite.duckdb");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.resize(8192, 0);
    std::fs::write(&db, bytes)?;
    let failed = run(healthsim_on(&db, &["list"]), None)?.expect_error(1, &["sqlite.duckdb"])?;
    assert!(!failed.stderr.contains("download"), "{}", failed.stderr);
    assert!(!failed.stderr.contains("http"), "{}", failed.stderr);
    Ok(())
}
