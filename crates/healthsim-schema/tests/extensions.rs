//! Loading DuckDB's DuckLake and PostgreSQL extensions: both load with signature checks on, a
//! tampered or missing file is refused with its own error, and a connection that would skip the
//! signature check is refused. Then the proof the lake backend stands on: with both loaded, a
//! DuckLake whose catalog is a database of a throwaway PostgreSQL (healthsim-pgtest) is written
//! by one DuckDB and read back by another, and it refuses PRIMARY KEY.
//!
//! Several tests point `HEALTHSIM_EXTENSION_DIR` somewhere else; the variable is process-wide,
//! so every test of this file takes [`LOCK`] and sets or clears it for its own run.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use duckdb::{Config, Connection};
use healthsim_schema::extensions::{
    directory, load, Extension, ExtensionError, DIRECTORY_VARIABLE,
};

static LOCK: Mutex<()> = Mutex::new(());

/// Runs `f` with `HEALTHSIM_EXTENSION_DIR` set to `dir` (or unset), alone among this file's tests.
fn with_directory<T>(dir: Option<&Path>, f: impl FnOnce() -> T) -> T {
    let _guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match dir {
        Some(dir) => std::env::set_var(DIRECTORY_VARIABLE, dir),
        None => std::env::remove_var(DIRECTORY_VARIABLE),
    }
    let result = f();
    std::env::remove_var(DIRECTORY_VARIABLE);
    result
}

/// The folder `cargo xtask setup` filled (the variable unset).
fn setup_directory() -> PathBuf {
    with_directory(None, directory).unwrap_or_else(|e| panic!("{e}"))
}

/// Whether DuckDB reports `ext` as loaded on `conn`.
fn loaded(conn: &Connection, ext: Extension) -> bool {
    conn.query_row(
        "SELECT coalesce(bool_or(loaded), false) FROM duckdb_extensions() WHERE extension_name = ?",
        [ext.name()],
        |row| row.get(0),
    )
    .expect("duckdb_extensions()")
}

/// Every file under `dir`, with its size, for "nothing was written" checks.
fn listing(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let entry = entry.expect("entry");
        let meta = entry.metadata().expect("metadata");
        if meta.is_dir() {
            files.extend(listing(&entry.path()));
        } else {
            files.push((entry.path(), meta.len()));
        }
    }
    files.sort();
    files
}

#[test]
fn every_extension_loads_with_unsigned_extensions_off() {
    with_directory(None, || {
        let conn = Connection::open_in_memory().expect("db");
        for ext in [Extension::Ducklake, Extension::Postgres, Extension::Httpfs] {
            assert!(!loaded(&conn, ext), "{ext:?} loaded before load()");
            load(&conn, ext).unwrap_or_else(|e| panic!("{e}"));
            assert!(loaded(&conn, ext), "{ext:?} not loaded after load()");
        }
        let (autoinstall, autoload): (bool, bool) = conn
            .query_row(
                "SELECT current_setting('autoinstall_known_extensions')::BOOLEAN, \
                 current_setting('autoload_known_extensions')::BOOLEAN",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("settings");
        assert_eq!((autoinstall, autoload), (false, false));
    });
}

#[test]
fn a_copy_with_one_byte_changed_is_refused_and_nothing_is_written() {
    let setup = setup_directory();
    let tampered = tempfile::tempdir().expect("tempdir");
    let original = std::fs::read(setup.join(Extension::Ducklake.file_name())).expect("read");
    let mut bytes = original.clone();
    // A byte in the middle of the code, far from the signature at the end.
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let path = tampered.path().join(Extension::Ducklake.file_name());
    std::fs::write(&path, &bytes).expect("write the tampered copy");
    let home = tempfile::tempdir().expect("tempdir");
    let before = listing(tampered.path());

    let conn = Connection::open_in_memory().expect("db");
    // DuckDB's own extension folder points at an empty temporary folder, so an install or a
    // download behind our back would show up there.
    conn.execute_batch(&format!(
        "SET extension_directory = '{}'",
        home.path().display()
    ))
    .expect("extension_directory");
    let result = with_directory(Some(tampered.path()), || load(&conn, Extension::Ducklake));
    assert!(result.as_ref().is_err_and(|e| !e.is_caller_error()));
    match result {
        Err(ExtensionError::Refused {
            path: refused,
            message,
        }) => {
            assert_eq!(refused, path);
            assert!(message.to_lowercase().contains("signature"), "{message}");
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    assert!(!loaded(&conn, Extension::Ducklake));
    assert_eq!(
        listing(tampered.path()),
        before,
        "the extension folder changed"
    );
    assert_eq!(
        listing(home.path()),
        Vec::new(),
        "DuckDB wrote into its extension folder"
    );
    assert_ne!(bytes, original, "the copy really differs");
}

#[test]
fn a_missing_directory_names_cargo_xtask_setup() {
    let parent = tempfile::tempdir().expect("tempdir");
    let absent = parent.path().join("no-such-folder");
    let conn = Connection::open_in_memory().expect("db");
    let result = with_directory(Some(&absent), || load(&conn, Extension::Postgres));
    assert!(result.as_ref().is_err_and(|e| !e.is_caller_error()));
    match result {
        Err(e @ ExtensionError::MissingDirectory { .. }) => {
            let message = e.to_string();
            assert!(message.contains("cargo xtask setup"), "{message}");
            assert!(message.contains(&absent.display().to_string()), "{message}");
        }
        other => panic!("expected MissingDirectory, got {other:?}"),
    }
    assert!(!loaded(&conn, Extension::Postgres));
}

#[test]
fn a_missing_file_names_the_file_and_cargo_xtask_setup() {
    let empty = tempfile::tempdir().expect("tempdir");
    let conn = Connection::open_in_memory().expect("db");
    let result = with_directory(Some(empty.path()), || load(&conn, Extension::Ducklake));
    assert!(result.as_ref().is_err_and(|e| !e.is_caller_error()));
    match result {
        Err(e @ ExtensionError::Missing { .. }) => {
            let message = e.to_string();
            assert!(message.contains("cargo xtask setup"), "{message}");
            assert!(
                message.contains(
                    &empty
                        .path()
                        .join("ducklake.duckdb_extension")
                        .display()
                        .to_string()
                ),
                "{message}"
            );
        }
        other => panic!("expected Missing, got {other:?}"),
    }
}

#[test]
fn a_connection_that_allows_unsigned_extensions_is_refused() {
    let config = Config::default()
        .allow_unsigned_extensions()
        .expect("config");
    let conn = Connection::open_in_memory_with_flags(config).expect("db");
    let result = with_directory(None, || load(&conn, Extension::Ducklake));
    assert!(result.as_ref().is_err_and(|e| !e.is_caller_error()));
    match result {
        Err(ExtensionError::UnsignedAllowed { path }) => {
            assert_eq!(path, setup_directory().join("ducklake.duckdb_extension"));
        }
        other => panic!("expected UnsignedAllowed, got {other:?}"),
    }
    assert!(!loaded(&conn, Extension::Ducklake));
}

/// `text` as a SQL string literal (ATTACH takes no parameters).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A fresh in-memory DuckDB (its own database instance) with both extensions loaded and the
/// lake at `conninfo` (catalog) and `data` (Parquet files) attached as `lake`.
fn attach_lake(conninfo: &str, data: &Path) -> Connection {
    let conn = Connection::open_in_memory().expect("db");
    with_directory(None, || {
        for ext in [Extension::Ducklake, Extension::Postgres] {
            load(&conn, ext).unwrap_or_else(|e| panic!("{e}"));
        }
    });
    conn.execute_batch(&format!(
        "ATTACH {} AS lake (DATA_PATH {})",
        literal(&format!("ducklake:postgres:{conninfo}")),
        literal(&data.display().to_string())
    ))
    .unwrap_or_else(|e| panic!("attaching the lake at {conninfo}: {e}"));
    conn
}

#[test]
fn a_ducklake_on_postgres_written_by_one_duckdb_is_read_back_by_another() {
    let conninfo = healthsim_pgtest::cluster().database("lake_roundtrip");
    let data = tempfile::tempdir().expect("tempdir");
    let rows: i64 = 1_000;
    {
        let writer = attach_lake(&conninfo, data.path());
        writer
            .execute_batch("CREATE TABLE lake.patients (patient_id VARCHAR, age INTEGER)")
            .expect("create table in the lake");
        let inserted = writer
            .execute(
                "INSERT INTO lake.patients SELECT 'p' || i, (i % 90)::INTEGER FROM range(?) t(i)",
                [rows],
            )
            .expect("insert");
        assert_eq!(inserted as i64, rows);
    }
    let reader = attach_lake(&conninfo, data.path());
    let (count, distinct, age_sum): (i64, i64, i64) = reader
        .query_row(
            "SELECT count(*), count(DISTINCT patient_id), sum(age) FROM lake.patients",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .expect("read back");
    assert_eq!(
        (count, distinct, age_sum),
        (rows, rows, (0..rows).map(|i| i % 90).sum())
    );
    let parquet = listing(data.path())
        .into_iter()
        .filter(|(path, _)| path.extension().is_some_and(|e| e == "parquet"))
        .count();
    assert!(
        parquet > 0,
        "the rows live in Parquet files under the data path"
    );
    // The catalog lives in PostgreSQL: DuckLake's own tables are in the database.
    let catalog_tables = healthsim_pgtest::cluster().psql(
        &conninfo,
        "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'ducklake_%'",
    );
    assert!(
        catalog_tables.trim().parse::<u32>().expect("a count") > 0,
        "no DuckLake catalog tables in PostgreSQL: {catalog_tables}"
    );
}

#[test]
fn a_ducklake_refuses_a_primary_key() {
    // The lake backend relies on this: DuckLake has no PRIMARY KEY or UNIQUE constraints, so
    // uniqueness must be kept by the writer.
    let conninfo = healthsim_pgtest::cluster().database("lake_primary_key");
    let data = tempfile::tempdir().expect("tempdir");
    let conn = attach_lake(&conninfo, data.path());
    let message = match conn.execute_batch("CREATE TABLE lake.keyed (id INTEGER PRIMARY KEY)") {
        Ok(()) => panic!("DuckLake accepted a PRIMARY KEY"),
        Err(e) => e.to_string(),
    };
    // DuckDB 1.5.5 with DuckLake 1.5.5 says: "Not implemented Error: PRIMARY KEY/UNIQUE
    // constraints are not supported in DuckLake".
    assert!(message.contains("PRIMARY KEY"), "{message}");
    assert!(message.contains("not supported in DuckLake"), "{message}");
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'lake' AND table_name = 'keyed'",
            [],
            |row| row.get(0),
        )
        .expect("duckdb_tables()");
    assert_eq!(tables, 0, "the refused table exists");
}
