//! Opening a lake, and every way it can be refused: a new lake without a data folder, a data
//! folder other than the recorded one, a catalog server that does not answer (its password
//! never shown), a lake that holds another application's tables, maintenance asked of a file.
//! Each refusal names what was wrong and writes nothing.
//!
//! These run on a lake whatever `HEALTHSIM_TEST_BACKEND` says: they are about lakes.

use healthsim_persist::target::Target;
use healthsim_persist::{Error, StoreError};
use healthsim_persist::{Store, StoreOptions};
use healthsim_schema::extensions::{self, Extension};
use serde_json::json;

/// A lake's string for a new catalog database of the test server.
fn new_lake(data_path: Option<&std::path::Path>) -> (String, String) {
    let conninfo = healthsim_pgtest::cluster().database("lake");
    let text = match data_path {
        Some(path) => format!("ducklake:postgres:{conninfo} data_path={}/", path.display()),
        None => format!("ducklake:postgres:{conninfo}"),
    };
    (conninfo, text)
}

fn open(text: &str) -> Result<Store, Error> {
    let target = Target::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    Store::open_target(target, StoreOptions::default())
}

/// The tables of the catalog database (DuckLake's own, once a lake was created in it).
fn catalog_tables(conninfo: &str) -> String {
    healthsim_pgtest::cluster().psql(
        conninfo,
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
    )
}

fn lake_open_detail(outcome: Result<Store, Error>) -> String {
    match outcome {
        Err(Error::Store(StoreError::LakeOpen { detail, .. })) => detail,
        Err(other) => panic!("expected LakeOpen, got {other:?}"),
        Ok(_) => panic!("expected LakeOpen, the lake opened"),
    }
}

#[test]
fn a_new_lake_without_a_data_folder_is_refused_and_told_to_add_one() {
    let (conninfo, text) = new_lake(None);
    let detail = lake_open_detail(open(&text));
    assert!(
        detail.contains("a new lake needs its data folder: add data_path="),
        "{detail}"
    );
    assert_eq!(catalog_tables(&conninfo).trim(), "0", "nothing was created");
}

#[test]
fn a_data_folder_other_than_the_recorded_one_is_refused_and_the_recorded_one_is_used_without() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (conninfo, text) = new_lake(Some(&dir.path().join("first")));
    let store = open(&text).expect("create the lake");
    let written = store
        .persist_entities(
            &healthsim_persist::PersistRequest::by_type(
                json!({"patients": [{"patient_id": "p1"}]})
                    .as_object()
                    .cloned()
                    .expect("an object"),
            )
            .with_scenario(healthsim_persist::ScenarioTarget::new_named("kept")),
        )
        .expect("persist");
    drop(store);

    let other = format!(
        "ducklake:postgres:{conninfo} data_path={}/",
        dir.path().join("second").display()
    );
    let detail = lake_open_detail(open(&other));
    assert!(
        detail.contains("leave data_path out of the lake's string to use the recorded one"),
        "{detail}"
    );
    assert!(!dir.path().join("second").exists(), "nothing was written");

    let without = open(&format!("ducklake:postgres:{conninfo}")).expect("the recorded folder");
    let summary = without
        .scenario_summary(&written.scenario_id, &Default::default())
        .expect("summary");
    assert_eq!(summary.total_entities, 1);
}

#[test]
fn a_server_that_does_not_answer_is_named_without_the_password() {
    // A port nothing listens on: the test server's port, plus one, is not ours to rely on;
    // port 1 is reserved and closed on any test machine.
    let text = "ducklake:postgres:dbname=lake host=127.0.0.1 port=1 user=u password=s3cret \
                data_path=/tmp/never/";
    let outcome = open(text);
    let message = match &outcome {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a lake on a closed port opened"),
    };
    let detail = lake_open_detail(outcome);
    assert!(!message.contains("s3cret"), "{message}");
    assert!(!detail.contains("s3cret"), "{detail}");
    assert!(message.contains("password=***"), "{message}");
    assert!(message.contains("port=1"), "{message}");
    assert!(!std::path::Path::new("/tmp/never").exists());
}

#[test]
fn a_lake_holding_another_applications_tables_is_refused_untouched() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (conninfo, text) = new_lake(Some(&dir.path().join("data")));
    {
        // Another application's lake in the same kind of catalog.
        let conn = duckdb::Connection::open_in_memory().expect("in-memory DuckDB");
        for ext in [Extension::Postgres, Extension::Ducklake] {
            extensions::load(&conn, ext).expect("load the extension");
        }
        conn.execute_batch(&format!(
            "ATTACH 'ducklake:postgres:{conninfo}' AS other (DATA_PATH '{}/');
             CREATE TABLE other.orders (order_id INTEGER, total DOUBLE);
             INSERT INTO other.orders VALUES (1, 9.5);",
            dir.path().join("data").display()
        ))
        .expect("another application's lake");
    }
    let before = healthsim_pgtest::cluster().psql(
        &conninfo,
        "SELECT count(*) FROM ducklake_table; SELECT max(snapshot_id) FROM ducklake_snapshot",
    );
    match open(&text) {
        Err(Error::Store(StoreError::ForeignDatabase { found, .. })) => {
            assert!(found.contains("e.g. orders"), "{found}");
            assert!(
                found.contains("a PostgreSQL database of its own"),
                "{found}"
            );
        }
        Err(other) => panic!("expected ForeignDatabase, got {other:?}"),
        Ok(_) => panic!("another application's lake was opened"),
    }
    let after = healthsim_pgtest::cluster().psql(
        &conninfo,
        "SELECT count(*) FROM ducklake_table; SELECT max(snapshot_id) FROM ducklake_snapshot",
    );
    assert_eq!(before, after, "the catalog was changed");
}

#[test]
fn maintenance_is_refused_for_a_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("h.duckdb");
    let store = Store::open_target(Target::File(path), StoreOptions::default()).expect("open");
    match store.maintain_lake(60) {
        Err(Error::InvalidRequest { reason }) => {
            assert!(reason.contains("lake"), "{reason}");
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[test]
fn a_password_in_the_lakes_string_is_in_no_attached_name_or_setting() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // The test server trusts every local connection, so any password opens it; what matters
    // is where the password ends up.
    let conninfo = healthsim_pgtest::cluster().database("password");
    let text = format!(
        "ducklake:postgres:{conninfo} password=s3cret-pw data_path={}/",
        dir.path().display()
    );
    let store = open(&text).expect("open the lake");
    let visible = |conn: &duckdb::Connection| -> String {
        conn.query_row(
            "SELECT string_agg(coalesce(path, ''), ' ') || ' ' || current_setting('allowed_paths')::VARCHAR
                 || ' ' || (SELECT string_agg(secret_string, ' ') FROM duckdb_secrets())
             FROM duckdb_databases()",
            [],
            |r| r.get(0),
        )
        .expect("names and settings")
    };
    let writer = store.with_writer(|conn| Ok(visible(conn))).expect("writer");
    let sandbox = store
        .with_sandbox(|conn| Ok(visible(conn)))
        .expect("sandbox");
    for (connection, shown) in [("writer", &writer), ("sandbox", &sandbox)] {
        assert!(!shown.contains("s3cret-pw"), "{connection}: {shown}");
        assert!(shown.contains("password=redacted"), "{connection}: {shown}");
        assert!(shown.contains("dbname=password_"), "{connection}: {shown}");
    }
}

#[test]
fn a_stream_into_a_lake_runs_with_the_writers_own_settings() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (_, text) = new_lake(Some(dir.path()));
    let store = open(&text).expect("create the lake");
    let settings = |store: &Store| -> String {
        store
            .with_writer(|conn| {
                Ok(conn
                    .query_row(
                        "SELECT current_setting('memory_limit')::VARCHAR || ' ' \
                         || current_setting('threads')::VARCHAR",
                        [],
                        |r| r.get(0),
                    )
                    .expect("settings"))
            })
            .expect("writer")
    };
    let outside = settings(&store);
    let inside = store
        .with_bounded_memory(10_000, || Ok(settings(&store)))
        .expect("the stream");
    // No folder to spill to: a bound would turn a large batch into an out-of-memory error.
    assert_eq!(inside, outside);
    // Parquet files are written at commit: one thread there was never measured.
    let one_thread = store
        .with_one_engine_thread(|| Ok(settings(&store)))
        .expect("the import");
    assert_eq!(one_thread, outside);
}

#[test]
fn writers_creating_one_new_lake_at_the_same_moment_all_open_it_migrated_once() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (conninfo, text) = new_lake(Some(dir.path()));
    let barrier = std::sync::Barrier::new(4);
    let opened: Vec<Result<Store, Error>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    open(&text)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect()
    });
    for outcome in &opened {
        assert!(outcome.is_ok(), "{:?}", outcome.as_ref().err());
    }
    let applied = healthsim_pgtest::cluster().psql(
        &conninfo,
        "SELECT count(*) FROM ducklake_table WHERE table_name = 'schema_migrations' AND end_snapshot IS NULL",
    );
    assert_eq!(applied.trim(), "1");
    let store = opened.into_iter().next().expect("four").expect("opened");
    let versions: i64 = store
        .with_reader(|conn| {
            Ok(conn
                .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
                .expect("versions"))
        })
        .expect("reader");
    assert_eq!(versions, i64::from(healthsim_schema::head_version()));
}
