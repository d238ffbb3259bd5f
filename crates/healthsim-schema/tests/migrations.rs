//! Migrations: fresh vs upgraded catalogs, idempotence, and every refusal.

use duckdb::Connection;
use healthsim_schema::catalog::{check_catalog, read_catalog};
use healthsim_schema::migrations::{migrate_with, status, status_with, verify_pins, Migration};
use healthsim_schema::{head_version, migrate, Error, MIGRATIONS};

fn fresh() -> Connection {
    let conn = Connection::open_in_memory().expect("in-memory database");
    migrate(&conn).expect("migrate a fresh database");
    conn
}

fn version(conn: &Connection) -> u32 {
    status(conn).expect("status").current_version
}

#[test]
fn fresh_database_reaches_head_and_passes_the_catalog_check() {
    let conn = Connection::open_in_memory().expect("db");
    let report = migrate(&conn).expect("migrate");
    assert_eq!(report.from_version, 0);
    assert_eq!(report.to_version, head_version());
    assert_eq!(report.applied, (1..=head_version()).collect::<Vec<_>>());
    let catalog = read_catalog(&conn).expect("catalog");
    assert_eq!(check_catalog(&catalog), Vec::<String>::new());
    assert_eq!(
        catalog.tables.len(),
        healthsim_schema::ENTITY_TYPES.len() + healthsim_schema::registry::STATE_TABLES.len() + 1,
        "every registry table, the state tables and schema_migrations"
    );
}

#[test]
fn migrate_is_idempotent() {
    let conn = fresh();
    let before = read_catalog(&conn).expect("catalog");
    let again = migrate(&conn).expect("second migrate");
    assert!(again.applied.is_empty());
    assert_eq!(again.from_version, head_version());
    assert_eq!(read_catalog(&conn).expect("catalog"), before);
}

#[test]
fn upgrading_a_file_from_every_historical_version_equals_fresh() {
    let expected = read_catalog(&fresh()).expect("catalog");
    let dir = tempfile::tempdir().expect("tempdir");
    for start in 1..head_version() {
        let path = dir.path().join(format!("v{start}.duckdb"));
        {
            let old = Connection::open(&path).expect("open");
            let r = migrate_with(&old, MIGRATIONS, Some(start)).expect("build old database");
            assert_eq!(r.to_version, start);
            old.execute_batch("INSERT INTO scenarios VALUES ('s1', 'kept', NULL, now(), now(), NULL); INSERT INTO patients (scenario_id, patient_id) VALUES ('s1', 'p1')")
                .expect("data in the old database");
        }
        let reopened = Connection::open(&path).expect("reopen");
        let report = migrate(&reopened).expect("upgrade");
        assert_eq!(
            (report.from_version, report.to_version),
            (start, head_version())
        );
        assert_eq!(
            read_catalog(&reopened).expect("catalog"),
            expected,
            "upgraded from {start}"
        );
        let kept: i64 = reopened
            .query_row(
                "SELECT count(*) FROM patients WHERE scenario_id = 's1'",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(kept, 1, "data survives the upgrade");
    }
}

#[test]
fn edited_migration_is_refused() {
    let conn = fresh();
    let mut edited: Vec<Migration> = MIGRATIONS.to_vec();
    edited[0].sql = "CREATE TABLE something_else (x INTEGER);";
    let err = migrate_with(&conn, &edited, None).expect_err("edited migration");
    match err {
        Error::ChecksumMismatch {
            version, ref name, ..
        } => assert_eq!((version, name.as_str()), (1, "initial_schema")),
        other => panic!("wrong error: {other:?}"),
    }
    assert!(matches!(
        status_with(&conn, &edited),
        Err(Error::ChecksumMismatch { .. })
    ));
}

#[test]
fn newer_database_is_refused() {
    let conn = fresh();
    let older_code = &MIGRATIONS[..1];
    let err = migrate_with(&conn, older_code, None).expect_err("database is newer");
    assert!(
        matches!(err, Error::DatabaseNewer { database_version, code_version: 1 } if database_version == head_version())
    );
    assert!(err.to_string().contains("newer than this program"));
}

#[test]
fn gaps_and_repeats_in_the_code_are_refused() {
    let conn = Connection::open_in_memory().expect("db");
    let gap = [
        MIGRATIONS[0],
        Migration {
            version: 3,
            name: "gap",
            sql: "SELECT 1;",
            pinned: "",
        },
    ];
    assert!(matches!(
        migrate_with(&conn, &gap, None),
        Err(Error::MissingMigration { version: 2 })
    ));
    let repeat = [
        MIGRATIONS[0],
        Migration {
            version: 1,
            name: "again",
            sql: "SELECT 1;",
            pinned: "",
        },
    ];
    assert!(matches!(
        migrate_with(&conn, &repeat, None),
        Err(Error::DuplicateMigration { version: 1 })
    ));
}

#[test]
fn a_hole_in_the_recorded_history_is_refused() {
    let conn = fresh();
    conn.execute("DELETE FROM schema_migrations WHERE version = 1", [])
        .expect("delete");
    assert!(matches!(
        migrate(&conn),
        Err(Error::MissingMigration { version: 1 })
    ));
}

#[test]
fn failure_mid_migration_leaves_the_previous_version() {
    let conn = fresh();
    let mut list: Vec<Migration> = MIGRATIONS.to_vec();
    list.push(Migration {
        version: head_version() + 1,
        name: "breaks_halfway",
        sql: "CREATE TABLE half_done (x INTEGER); ALTER TABLE no_such_table ADD COLUMN y INTEGER;",
        pinned: "",
    });
    let err = migrate_with(&conn, &list, None).expect_err("must fail");
    assert!(
        matches!(err, Error::MigrationFailed { ref name, .. } if name == "breaks_halfway"),
        "{err:?}"
    );
    assert_eq!(version(&conn), head_version());
    let half: i64 = conn
        .query_row(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'half_done'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(
        half, 0,
        "the failed migration's first statement was rolled back"
    );
    assert!(migrate(&conn).is_ok(), "the database is still usable");
}

#[test]
fn status_reports_pending_versions() {
    let conn = Connection::open_in_memory().expect("db");
    let s = status(&conn).expect("status of an empty database");
    assert_eq!(s.current_version, 0);
    assert_eq!(s.pending, (1..=head_version()).collect::<Vec<_>>());
    migrate_with(&conn, MIGRATIONS, Some(1)).expect("to v1");
    let s = status(&conn).expect("status");
    assert_eq!((s.current_version, s.head_version), (1, head_version()));
    assert_eq!(s.applied[0].checksum, MIGRATIONS[0].checksum());
}

#[test]
fn checksums_are_pinned_sha256() {
    assert_eq!(
        healthsim_schema::migrations::checksum_of("SELECT 1;\r\n"),
        healthsim_schema::migrations::checksum_of("SELECT 1;\n")
    );
    // sha256("abc"), a published test vector: the algorithm must never change silently.
    assert_eq!(
        healthsim_schema::migrations::checksum_of("abc"),
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn every_frozen_migration_still_has_its_pinned_checksum() {
    assert_eq!(verify_pins(MIGRATIONS).map_err(|e| e.to_string()), Ok(()));
}

#[test]
fn an_edited_frozen_migration_fails_the_pin_check() {
    let mut edited: Vec<Migration> = MIGRATIONS.to_vec();
    edited[1].sql = "-- a comment is an edit too\nSELECT 1;";
    match verify_pins(&edited) {
        Err(Error::EditedMigration {
            version,
            ref name,
            ref pinned,
            ref actual,
        }) => {
            assert_eq!((version, name.as_str()), (2, "scenario_indexes"));
            assert_eq!(pinned, MIGRATIONS[1].pinned);
            assert_eq!(actual, &edited[1].checksum());
        }
        other => panic!("wrong result: {other:?}"),
    }
}

/// Every table's rows as sorted text (all columns), by table name.
fn rows_by_table(conn: &Connection) -> std::collections::BTreeMap<String, Vec<String>> {
    let tables: Vec<String> = conn
        .prepare("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("table names");
    tables
        .into_iter()
        // The history gains V0005's own row; its other rows are compared below.
        .filter(|t| t != "schema_migrations")
        .map(|t| {
            let rows: Vec<String> = conn
                .prepare(&format!("SELECT t::VARCHAR FROM main.{t} t ORDER BY 1"))
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                .expect("rows");
            (t, rows)
        })
        .collect()
}

#[test]
fn v0005_keeps_every_row_and_drops_every_key_constraint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v4.duckdb");
    let (before, history) = {
        let old = Connection::open(&path).expect("open");
        migrate_with(&old, MIGRATIONS, Some(4)).expect("a version-4 database");
        // A row in every state table and in canonical tables of each column kind, with NULLs,
        // JSON, timestamps and the defaults.
        old.execute_batch(
            "INSERT INTO scenarios VALUES ('s1', 'kept', 'a description', TIMESTAMP '2024-01-02 03:04:05', now(), '{\"context\": \"x\"}'),
                                          ('s2', 'other', NULL, now(), now(), NULL);
             INSERT INTO scenario_tags VALUES ('s1', 'diabetes', now()), ('s2', 'diabetes', now());
             INSERT INTO scenario_entities VALUES ('s1', 'patients', 2, now()), ('s2', 'claims', 1, now());
             INSERT INTO patients (scenario_id, patient_id, birth_date, extra) VALUES
                 ('s1', 'p1', DATE '1950-06-01', '{\"a\": [1, 2]}'), ('s1', 'p2', NULL, NULL);
             INSERT INTO claims (scenario_id, claim_id, member_id, claim_type, service_date, total_billed, status)
                 VALUES ('s2', 'c1', 'm1', 'professional', DATE '2024-02-29', 1234.56, 'paid');",
        )
        .expect("data in the old database");
        let history: Vec<String> = old
            .prepare("SELECT version || name || checksum || applied_at FROM schema_migrations ORDER BY version")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("history");
        (rows_by_table(&old), history)
    };
    let conn = Connection::open(&path).expect("reopen");
    let report = migrate_with(&conn, MIGRATIONS, Some(5)).expect("upgrade");
    assert_eq!(report.applied, vec![5]);

    let mut after = rows_by_table(&conn);
    assert_eq!(
        after.remove("scenario_namespace"),
        Some(vec!["{'version': 0}".to_string()]),
        "the guard table holds exactly one row"
    );
    assert_eq!(after, before, "every row of every table is kept");
    let kept: Vec<String> = conn
        .prepare("SELECT version || name || checksum || applied_at FROM schema_migrations WHERE version < 5 ORDER BY version")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("history");
    assert_eq!(kept, history, "the recorded history is kept");

    let constraints: i64 = conn
        .query_row(
            "SELECT count(*) FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
            [],
            |r| r.get(0),
        )
        .expect("constraints");
    assert_eq!(constraints, 0, "no PRIMARY KEY or UNIQUE is left");
    let indexes: i64 = conn
        .query_row("SELECT count(*) FROM duckdb_indexes()", [], |r| r.get(0))
        .expect("indexes");
    assert_eq!(indexes, 0, "no index is left");
    // A repeated key is no longer refused by the database: the write path has to keep it.
    conn.execute_batch("INSERT INTO patients (scenario_id, patient_id) VALUES ('s1', 'p1')")
        .expect("no constraint refuses it");
    // The same catalog as a new database brought to version 5.
    let new = Connection::open_in_memory().expect("in-memory database");
    migrate_with(&new, MIGRATIONS, Some(5)).expect("version 5");
    assert_eq!(
        read_catalog(&conn).expect("catalog"),
        read_catalog(&new).expect("catalog")
    );
}

#[test]
fn a_fresh_database_starts_with_the_one_guard_row() {
    let conn = fresh();
    let version: Vec<i64> = conn
        .prepare("SELECT version FROM scenario_namespace")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("guard rows");
    assert_eq!(version, vec![0]);
}

/// A database at `path` migrated to `version`, holding one scenario with one patient and what
/// `more` inserts; returns its rows by table.
fn a_scenario_at_version(
    path: &std::path::Path,
    version: u32,
    more: &str,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let old = Connection::open(path).expect("open");
    migrate_with(&old, MIGRATIONS, Some(version)).expect("an old database");
    old.execute_batch(&format!(
        "INSERT INTO scenarios VALUES ('s1', 'kept', NULL, now(), now(), NULL);
         INSERT INTO scenario_entities VALUES ('s1', 'patients', 1, now());
         INSERT INTO patients (scenario_id, patient_id, birth_date) VALUES ('s1', 'p1', DATE '1950-06-01');
         {more}"
    ))
    .expect("data in the old database");
    rows_by_table(&old)
}

#[test]
fn v0006_adds_an_empty_statistics_table_and_keeps_every_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v5.duckdb");
    let before = a_scenario_at_version(&path, 5, "");
    let conn = Connection::open(&path).expect("reopen");
    let report = migrate_with(&conn, MIGRATIONS, Some(6)).expect("upgrade");
    assert_eq!(report.applied, vec![6]);
    let mut after = rows_by_table(&conn);
    assert_eq!(
        after.remove("scenario_statistics"),
        Some(Vec::new()),
        "the running statistics start empty: the next persist computes them"
    );
    assert_eq!(after, before, "every row of every table is kept");
}

#[test]
fn v0007_empties_the_running_statistics_and_keeps_every_other_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v6.duckdb");
    let mut before = a_scenario_at_version(
        &path,
        6,
        "INSERT INTO scenario_statistics (scenario_id, entity_type, part, value, n)
             VALUES ('s1', 'patients', -1, NULL, 1), ('s1', 'patients', 0, '1950-06-01', 1);",
    );
    assert_eq!(
        before.remove("scenario_statistics").map(|r| r.len()),
        Some(2),
        "running statistics in the old layout"
    );
    let conn = Connection::open(&path).expect("reopen");
    let report = migrate(&conn).expect("upgrade");
    assert_eq!(report.applied, vec![7]);
    let mut after = rows_by_table(&conn);
    assert_eq!(
        after.remove("scenario_statistics"),
        Some(Vec::new()),
        "parts of the old layout are gone: the next persist computes them again"
    );
    assert_eq!(after, before, "every row of every other table is kept");
}
