//! A lake whose data files are in S3 object storage (`data_path=s3://bucket/prefix/`), on a
//! throwaway S3-compatible server (healthsim-s3test) and PostgreSQL catalog (healthsim-pgtest):
//! writes land as Parquet objects under the prefix, reads and the query sandbox go through the
//! same credentials, a later open without `data_path` finds the recorded S3 address, maintenance
//! deletes an orphaned object, and a missing credential is named before anything is written.
//!
//! The credentials come from the process environment (as they do for a user), so this binary
//! holds a single test that sets them once before any store opens: no other thread reads the
//! environment while it changes.

use healthsim_persist::s3::{KEY_ID, SECRET};
use healthsim_persist::target::Target;
use healthsim_persist::{
    Error, PersistRequest, ScenarioTarget, Store, StoreError, StoreOptions, SummaryOptions,
};
use serde_json::{json, Value};

/// Patients per batch: enough that DuckLake writes a Parquet file rather than keeping the rows
/// inline in the catalog.
const PATIENTS: usize = 2_000;

fn patients(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "patient_id": format!("p{i:05}"),
                "birth_date": format!("19{:02}-0{}-1{}", 30 + i % 60, 1 + i % 9, i % 9),
                "gender": if i % 2 == 0 { "female" } else { "male" },
                "state": "AZ",
            })
        })
        .collect()
}

fn open(text: &str) -> Result<Store, Error> {
    let target = Target::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    Store::open_target(target, StoreOptions::default())
}

#[test]
fn a_lake_keeps_its_data_in_s3_with_credentials_from_the_environment_and_names_a_missing_one() {
    let server = healthsim_s3test::server();
    for (name, value) in server.env() {
        std::env::set_var(name, value);
    }
    let bucket = server.bucket("lake");
    let other = server.bucket("other");
    server.put(&other, "private.csv", b"secret\n42\n");
    let conninfo = healthsim_pgtest::cluster().database("s3lake");
    let lake = format!("ducklake:postgres:{conninfo}");
    let with_data = format!("{lake} data_path=s3://{bucket}/lake/");

    // Writes go to Parquet objects under the prefix, and read back.
    let store = open(&with_data).expect("create the lake in S3");
    let scenario = store
        .persist_entities(
            &PersistRequest::new("patients", patients(PATIENTS))
                .with_scenario(ScenarioTarget::new_named("in s3")),
        )
        .expect("persist")
        .scenario_id;
    let objects = server.keys(&bucket, "lake/");
    // DuckLake's folder of the table (named after the table's current version).
    let folder = objects
        .iter()
        .find(|k| k.starts_with("lake/main/patients") && k.ends_with(".parquet"))
        .and_then(|k| k.rsplit_once('/'))
        .map(|(folder, _)| folder.to_string())
        .unwrap_or_else(|| panic!("no Parquet object of patients: {objects:?}"));
    assert!(server
        .keys(&bucket, "")
        .iter()
        .all(|k| k.starts_with("lake/")));
    let summary = store
        .scenario_summary(&scenario, &SummaryOptions::default())
        .expect("summary");
    assert_eq!(summary.total_entities, PATIENTS as u64);

    // The query sandbox reads the same data; the engine lets it reach no other bucket.
    let page = store
        .query_scenario(
            &scenario,
            "SELECT count(*) AS n FROM patients WHERE gender = 'F'",
            &Default::default(),
        )
        .expect("query");
    assert_eq!(page.results.len(), 1);
    assert_eq!(page.results[0]["n"], json!(PATIENTS / 2));
    let escape = store.with_sandbox(|conn| {
        Ok(conn
            .query_row(
                &format!("SELECT count(*) FROM read_csv('s3://{other}/private.csv')"),
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(|e| e.to_string()))
    });
    let refused = escape
        .expect("sandbox")
        .expect_err("another bucket was read");
    assert!(refused.contains("Permission Error"), "{refused}");
    // The engine compares addresses as text, so a dot-segment address that starts with the data
    // path passes its check (a path-style server may resolve it elsewhere); the query checks
    // refuse every file function before the engine sees one.
    let dotted = format!("s3://{bucket}/lake/../../{other}/private.csv");
    match store.query_scenario(
        &scenario,
        &format!("SELECT * FROM read_csv('{dotted}')"),
        &Default::default(),
    ) {
        Err(Error::Query(refusal)) => assert!(refusal.is_caller_error(), "{refusal}"),
        other => panic!("a file function ran: {other:?}"),
    }
    drop(store);

    // Opened without data_path, the lake uses the recorded S3 address.
    let store = open(&lake).expect("open by the recorded data path");
    let again = store
        .persist_entities(&PersistRequest::new("patients", patients(10)).into_existing(&scenario))
        .expect("persist again");
    assert_eq!(again.counts["patients"].updated, 10);

    // Maintenance deletes an object no snapshot knows and keeps every row.
    let orphan = format!("{folder}/ducklake-orphan.parquet");
    server.put(&bucket, &orphan, b"PAR1 left by a killed writer");
    let done = store.maintain_lake(0).expect("maintenance");
    assert!(done.orphaned_files_deleted >= 1, "{done:?}");
    assert!(!server.keys(&bucket, "lake/").contains(&orphan));
    let summary = store
        .scenario_summary(&scenario, &SummaryOptions::default())
        .expect("summary after maintenance");
    assert_eq!(summary.total_entities, PATIENTS as u64);
    drop(store);

    // A missing credential is named, and a new lake is not created.
    std::env::remove_var(SECRET);
    let fresh = healthsim_pgtest::cluster().database("s3lake_nokey");
    let text = format!("ducklake:postgres:{fresh} data_path=s3://{bucket}/second/");
    match open(&text) {
        Err(Error::Store(StoreError::ObjectStorageAccess {
            data_path, detail, ..
        })) => {
            assert_eq!(data_path, format!("s3://{bucket}/second/"));
            assert!(
                detail.starts_with(&format!("{SECRET} not set: ")),
                "{detail}"
            );
        }
        Err(other) => panic!("expected ObjectStorageAccess, got {other}"),
        Ok(_) => panic!("a lake opened without S3 credentials"),
    }
    assert_eq!(
        healthsim_pgtest::cluster()
            .psql(
                &fresh,
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            )
            .trim(),
        "0"
    );
    // The existing lake, opened by its recorded address, says the same.
    match open(&lake) {
        Err(Error::Store(StoreError::ObjectStorageAccess { detail, .. })) => {
            assert!(detail.contains(KEY_ID), "{detail}");
        }
        Err(other) => panic!("expected ObjectStorageAccess, got {other}"),
        Ok(_) => panic!("a lake in S3 opened without credentials"),
    }
    assert!(server.keys(&bucket, "second/").is_empty());
}
