//! The way in for Python HealthSim users: foreign and legacy database files are recognized and
//! left untouched, and `Store::import_legacy` brings their scenarios and cohorts in.
//!
//! The legacy databases are built at test time, with our own DuckDB, from the SQL files in
//! `tests/legacy/` that `tests/legacy/make_fixtures.py` writes from the Python HealthSim's own
//! schema source (see its header for the pinned commits).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use healthsim_persist::legacy::{LegacyStatus, NameConflict};
use healthsim_persist::{
    Error, LegacyError, LegacyImportOptions, LegacyImportReport, Store, StoreError, StoreOptions,
};
use serde_json::Value as Json;

mod common;

use common::TestResult;

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

// ---------------------------------------------------------------------------------------------
// import-legacy
// ---------------------------------------------------------------------------------------------

// The import's stores come from `common::store`: a file, or with `HEALTHSIM_TEST_BACKEND=lake`
// a lake, so the import is tested on both backends.

/// The fixture's scenarios: legacy id and name (as `make_fixtures.py` writes them).
const LEGACY_IDS: [&str; 3] = ["S-DIAB", "S-MEMB", "S-ONCO"];

/// The era's names: state table, tags table, JSON entity table, link column.
fn era_names(sql: &str) -> (&'static str, &'static str, &'static str, &'static str) {
    if sql.contains("CREATE TABLE IF NOT EXISTS cohorts (") {
        ("cohorts", "cohort_tags", "cohort_entities", "cohort_id")
    } else {
        (
            "scenarios",
            "scenario_tags",
            "scenario_entities",
            "scenario_id",
        )
    }
}

/// One value of the legacy database (read-only, plain SQL: independent of the importer).
fn legacy_value<T: duckdb::types::FromSql>(
    path: &Path,
    sql: &str,
    params: &[&str],
) -> Result<T, Box<dyn std::error::Error>> {
    let config = duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly)?;
    let conn = duckdb::Connection::open_with_flags(path, config)?;
    Ok(conn.query_row(sql, duckdb::params_from_iter(params), |r| r.get(0))?)
}

/// Entities of a table in one of our scenarios.
fn count_ours(
    store: &Store,
    table: &str,
    scenario_id: &str,
) -> Result<u64, Box<dyn std::error::Error>> {
    let t = healthsim_schema::entity_type(table)?;
    let n: i64 = store.with_reader(|conn| {
        conn.query_row(
            &format!("SELECT count(*) FROM {} WHERE scenario_id = ?", t.table),
            [scenario_id],
            |r| r.get(0),
        )
        .map_err(|e| Error::Database {
            context: "count".into(),
            source: e,
        })
    })?;
    Ok(u64::try_from(n)?)
}

/// Every registry reference of the scenario names an entity of the scenario (or is null).
fn dangling_references(
    store: &Store,
    scenario_id: &str,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut dangling = Vec::new();
    for t in healthsim_schema::ENTITY_TYPES {
        for r in t.references {
            let target = healthsim_schema::entity_type(r.target)?;
            let sql = format!(
                "SELECT count(*) FROM {table} WHERE scenario_id = ? AND {column} IS NOT NULL \
                 AND {column} NOT IN (SELECT {pk} FROM {target} WHERE scenario_id = ?)",
                table = t.table,
                column = r.column,
                pk = target.primary_key,
                target = target.table,
            );
            let n: i64 = store.with_reader(|conn| {
                conn.query_row(&sql, [scenario_id, scenario_id], |row| row.get(0))
                    .map_err(|e| Error::Database {
                        context: "references".into(),
                        source: e,
                    })
            })?;
            if n > 0 {
                dangling.push(format!("{}.{} ({n})", t.table, r.column));
            }
        }
    }
    Ok(dangling)
}

/// The entity of `table` with primary key `id` in the loaded scenario.
fn entity<'a>(loaded: &'a healthsim_persist::LoadedScenario, table: &str, id: &str) -> &'a Json {
    let pk = healthsim_schema::entity_type(table)
        .map(|t| t.primary_key)
        .unwrap_or("id");
    loaded.entities[table]
        .iter()
        .find(|e| e[pk] == id)
        .unwrap_or_else(|| panic!("{table} {id} not imported"))
}

fn scenario_of<'a>(
    report: &'a LegacyImportReport,
    legacy_name: &str,
) -> &'a healthsim_persist::legacy::LegacyScenarioReport {
    report
        .scenarios
        .iter()
        .find(|s| s.legacy_name == legacy_name)
        .unwrap_or_else(|| panic!("{legacy_name} not in the report"))
}

fn check_era_round_trip(sql: &str, era_words: &str) -> TestResult {
    let (_legacy_dir, legacy) = legacy_database(sql)?;
    let (state, tags_table, json_table, link) = era_names(sql);
    let before = fingerprint(&legacy)?;
    let (_dir, store) = common::store();
    let report = store.import_legacy(&legacy, &LegacyImportOptions::default())?;

    assert!(
        report.source_kind.contains(era_words),
        "{}",
        report.source_kind
    );
    assert_eq!(report.scenarios_read, LEGACY_IDS.len() as u64);
    assert_eq!(report.scenarios_imported, LEGACY_IDS.len() as u64);
    assert_eq!(report.scenarios_skipped, 0);
    assert!(!report.truncated);
    // The legacy file is exactly as it was, and nothing appeared next to it.
    assert!(fingerprint(&legacy)? == before, "the legacy file changed");
    assert_eq!(folder_listing(&legacy)?, ["healthsim.duckdb"]);

    for legacy_id in LEGACY_IDS {
        let name: String = legacy_value(
            &legacy,
            &format!(
                "SELECT name FROM {state} WHERE name IS NOT NULL AND CAST({} AS VARCHAR) = ?",
                if sql.contains("CREATE TABLE IF NOT EXISTS cohorts (") {
                    "id"
                } else {
                    "scenario_id"
                }
            ),
            &[legacy_id],
        )?;
        let description: Option<String> = legacy_value(
            &legacy,
            &format!("SELECT description FROM {state} WHERE name = ?"),
            &[&name],
        )?;
        let scenario = scenario_of(&report, &name);
        assert_eq!(scenario.status, LegacyStatus::Imported, "{scenario:?}");
        assert_eq!(
            scenario.name.as_deref(),
            Some(healthsim_naming::sanitize(&name)?.as_str())
        );
        let scenario_id = scenario.scenario_id.clone().ok_or("no id")?;
        let loaded = store.load_scenario(&scenario_id)?;
        assert_eq!(loaded.description, description);
        // Tags as the legacy database has them, lowercased.
        let legacy_tags: String = legacy_value(
            &legacy,
            &format!("SELECT coalesce(string_agg(lower(tag), ',' ORDER BY lower(tag)), '') FROM {tags_table} WHERE {link} = ?"),
            &[legacy_id],
        )?;
        assert_eq!(loaded.tags.join(","), legacy_tags);
        // The counts the report gives are the rows the scenario holds.
        for (table, n) in &scenario.counts {
            assert_eq!(
                count_ours(&store, table, &scenario_id)?,
                *n,
                "{name}: {table}"
            );
        }
        // Every reference resolves inside the scenario.
        assert!(scenario.unresolved_references.is_empty(), "{scenario:?}");
        assert_eq!(
            dangling_references(&store, &scenario_id)?,
            Vec::<String>::new(),
            "{name}"
        );
    }

    // Counts per type against the legacy tables (plain SQL on the legacy file).
    let diabetes = scenario_of(&report, "Diabetes Cohort Phoenix");
    let typed_patients: i64 = legacy_value(
        &legacy,
        &format!("SELECT count(*) FROM patients WHERE {link} = ?"),
        &["S-DIAB"],
    )?;
    let json_only_patients: i64 = legacy_value(
        &legacy,
        &format!("SELECT count(*) FROM {json_table} WHERE {link} = ? AND entity_type = 'patient' AND entity_id NOT IN (SELECT id FROM patients)"),
        &["S-DIAB"],
    )?;
    assert_eq!(
        diabetes.counts["patients"],
        u64::try_from(typed_patients + json_only_patients)?
    );
    for (legacy_table, ours, scenario_name, legacy_id) in [
        (
            "encounters",
            "encounters",
            "Diabetes Cohort Phoenix",
            "S-DIAB",
        ),
        (
            "diagnoses",
            "diagnoses",
            "Diabetes Cohort Phoenix",
            "S-DIAB",
        ),
        (
            "medications",
            "medications",
            "Diabetes Cohort Phoenix",
            "S-DIAB",
        ),
        (
            "lab_results",
            "lab_results",
            "Diabetes Cohort Phoenix",
            "S-DIAB",
        ),
        ("vital_signs", "vitals", "Diabetes Cohort Phoenix", "S-DIAB"),
        ("members", "members", "medicare-members", "S-MEMB"),
        ("claims", "claims", "medicare-members", "S-MEMB"),
        ("claim_lines", "claim_lines", "medicare-members", "S-MEMB"),
        (
            "prescriptions",
            "prescriptions",
            "medicare-members",
            "S-MEMB",
        ),
        (
            "pharmacy_claims",
            "pharmacy_claims",
            "medicare-members",
            "S-MEMB",
        ),
        ("subjects", "subjects", "Oncology Trial 2024", "S-ONCO"),
        (
            "adverse_events",
            "adverse_events",
            "Oncology Trial 2024",
            "S-ONCO",
        ),
        (
            "trial_visits",
            "actual_visits",
            "Oncology Trial 2024",
            "S-ONCO",
        ),
    ] {
        let n: i64 = legacy_value(
            &legacy,
            &format!("SELECT count(*) FROM {legacy_table} WHERE {link} = ?"),
            &[legacy_id],
        )?;
        assert!(n > 0, "{legacy_table}");
        assert_eq!(
            scenario_of(&report, scenario_name).counts[ours],
            u64::try_from(n)?,
            "{legacy_table}"
        );
    }
    // Tables we have no type for are reported with their row counts, not dropped silently.
    for (legacy_table, scenario_name, legacy_id) in [
        ("orders", "Diabetes Cohort Phoenix", "S-DIAB"),
        ("clinical_notes", "Diabetes Cohort Phoenix", "S-DIAB"),
        ("exposures", "Oncology Trial 2024", "S-ONCO"),
    ] {
        let n: i64 = legacy_value(
            &legacy,
            &format!("SELECT count(*) FROM {legacy_table} WHERE {link} = ?"),
            &[legacy_id],
        )?;
        let scenario = scenario_of(&report, scenario_name);
        let item = scenario
            .skipped
            .iter()
            .find(|i| i.item == legacy_table)
            .ok_or(legacy_table)?;
        assert_eq!(item.count, u64::try_from(n)?);
        assert!(
            item.reason.starts_with("no entity type of ours holds"),
            "{item:?}"
        );
    }
    let pcp = diabetes
        .skipped
        .iter()
        .find(|i| i.item == "pcp_assignment")
        .ok_or("pcp")?;
    assert_eq!(pcp.count, 1);
    // Fields without a column are kept in extra and named.
    assert!(diabetes.unmapped_fields["encounters"].contains(&"facility".to_string()));
    assert!(diabetes.unmapped_fields["encounters"].contains(&"patient_mrn".to_string()));

    // A few values per type, against the legacy database where it has them.
    let diab = store.load_scenario(diabetes.scenario_id.as_deref().ok_or("id")?)?;
    let ana = entity(&diab, "patients", "p-001");
    let given: String = legacy_value(
        &legacy,
        "SELECT given_name FROM patients WHERE id = ?",
        &["p-001"],
    )?;
    assert_eq!(ana["given_name"], given.as_str());
    assert_eq!(ana["birth_date"], "1950-06-01");
    assert_eq!(ana["address"], "12 Palm St");
    assert_eq!(ana["source_system"], "patientsim");
    let dev = entity(&diab, "patients", "p-004"); // only in the state table, nested model shape
    assert_eq!(
        (&dev["given_name"], &dev["family_name"], &dev["middle_name"]),
        (&Json::from("Dev"), &Json::from("Patel"), &Json::from("R"))
    );
    assert_eq!(
        (&dev["address"], &dev["city"], &dev["email"]),
        (
            &Json::from("77 Saguaro Rd"),
            &Json::from("Scottsdale"),
            &Json::from("dev@example.com")
        )
    );
    assert_eq!(dev["source_type"], "legacy-import");
    let e2 = entity(&diab, "encounters", "e-002");
    assert_eq!(
        (
            &e2["patient_id"],
            &e2["encounter_class"],
            &e2["start_datetime"]
        ),
        (
            &Json::from("p-001"),
            &Json::from("I"),
            &Json::from("2024-03-02T22:15:00Z")
        )
    );
    assert_eq!(e2["patient_mrn"], "MRN001");
    let d2 = entity(&diab, "diagnoses", "d-002");
    assert_eq!(
        (
            &d2["patient_id"],
            &d2["diagnosis_type"],
            &d2["abatement_date"]
        ),
        (
            &Json::from("p-002"),
            &Json::from("working"),
            &Json::from("2023-06-01")
        )
    );
    assert_eq!(
        entity(&diab, "medications", "rx-m-001")["drug_name"],
        "Metformin"
    );
    let a1c = entity(&diab, "lab_results", "l-001");
    assert_eq!(
        (
            &a1c["value_numeric"],
            &a1c["reference_low"],
            &a1c["reference_high"]
        ),
        (&Json::from(7.2), &Json::from(4.0), &Json::from(5.6))
    );
    assert_eq!(
        entity(&diab, "lab_results", "l-002")["value_text"],
        "negative"
    );
    let v = entity(&diab, "vitals", "v-001");
    assert_eq!(
        (&v["temperature_c"], &v["temperature_f"], &v["heart_rate"]),
        (&Json::from(37.0), &Json::from(98.6), &Json::from(72))
    );

    let members = store.load_scenario(
        scenario_of(&report, "medicare-members")
            .scenario_id
            .as_deref()
            .ok_or("id")?,
    )?;
    let dora = entity(&members, "members", "mb-1");
    assert_eq!(
        (
            &dora["legacy_member_id"],
            &dora["group_number"],
            &dora["coverage_start_date"]
        ),
        (
            &Json::from("MEM001"),
            &Json::from("GRP-9"),
            &Json::from("2024-01-01")
        )
    );
    let c2 = entity(&members, "claims", "c-002");
    assert_eq!(
        (
            &c2["member_id"],
            &c2["total_billed"],
            &c2["legacy_member_id"]
        ),
        (
            &Json::from("mb-2"),
            &Json::from(12000.5),
            &Json::from("MEM002")
        )
    );
    assert_eq!(
        entity(&members, "claims", "c-001")["other_diagnoses"],
        serde_json::json!(["I10"])
    );
    let line = entity(&members, "claim_lines", "cl-001");
    assert_eq!(
        (
            &line["claim_id"],
            &line["procedure_modifiers"],
            &line["diagnosis_pointer"],
            &line["billed_amount"]
        ),
        (
            &Json::from("c-001"),
            &Json::from("25"),
            &Json::from("1,2"),
            &Json::from(200.0)
        )
    );
    let rx = entity(&members, "prescriptions", "RX-1001");
    assert_eq!(
        (&rx["rx_number"], &rx["quantity"], &rx["member_id"]),
        (
            &Json::from("RX-1001"),
            &Json::from(30.0),
            &Json::from("MEM001")
        )
    );
    let fill = entity(&members, "pharmacy_claims", "pc-001");
    assert_eq!(
        (
            &fill["prescription_id"],
            &fill["fill_date"],
            &fill["ingredient_cost"]
        ),
        (
            &Json::from("RX-1001"),
            &Json::from("2024-02-02"),
            &Json::from(4.12)
        )
    );

    let trial = store.load_scenario(
        scenario_of(&report, "Oncology Trial 2024")
            .scenario_id
            .as_deref()
            .ok_or("id")?,
    )?;
    let fay = entity(&trial, "subjects", "sub-1");
    assert_eq!(
        (&fay["usubjid"], &fay["subjid"], &fay["study_id"]),
        (
            &Json::from("ONC-301-01-001"),
            &Json::from("001"),
            &Json::from("ONC-301")
        )
    );
    let ae = entity(&trial, "adverse_events", "ae-2");
    assert_eq!(
        (&ae["subject_id"], &ae["ctcae_grade"], &ae["aeendtc"]),
        (
            &Json::from("sub-1"),
            &Json::from(2),
            &Json::from("2024-02-20")
        )
    );
    let visit = entity(&trial, "actual_visits", "tv-2");
    assert_eq!(
        (&visit["subject_id"], &visit["visit_name"], &visit["status"]),
        (
            &Json::from("sub-1"),
            &Json::from("Cycle 1 Day 1"),
            &Json::from("completed")
        )
    );
    Ok(())
}

#[test]
fn a_scenarios_era_database_round_trips() -> TestResult {
    check_era_round_trip(V1_2_SQL, "v1.0-v1.4 (scenarios), recorded version 1.2")
}

#[test]
fn a_cohorts_era_database_round_trips() -> TestResult {
    check_era_round_trip(V1_7_SQL, "v1.5+ (cohorts), recorded version 1.7")
}

#[test]
fn a_second_import_skips_taken_names_or_renames_them() -> TestResult {
    let (_legacy_dir, legacy) = legacy_database(V1_7_SQL)?;
    let (_dir, store) = common::store();
    let first = store.import_legacy(&legacy, &LegacyImportOptions::default())?;
    let again = store.import_legacy(&legacy, &LegacyImportOptions::default())?;
    assert_eq!(again.scenarios_imported, 0);
    assert_eq!(again.scenarios_skipped, first.scenarios_read);
    for s in &again.scenarios {
        assert_eq!(s.status, LegacyStatus::Skipped);
        assert!(
            s.reason
                .as_deref()
                .is_some_and(|r| r.contains("is taken in this database")),
            "{s:?}"
        );
        assert!(s.counts.is_empty());
    }
    let renamed = store.import_legacy(
        &legacy,
        &LegacyImportOptions {
            on_name_conflict: NameConflict::Rename,
            ..LegacyImportOptions::default()
        },
    )?;
    assert_eq!(renamed.scenarios_imported, first.scenarios_read);
    let diabetes = scenario_of(&renamed, "Diabetes Cohort Phoenix");
    assert_eq!(diabetes.name.as_deref(), Some("diabetes-cohort-phoenix-2"));
    assert_eq!(
        diabetes.counts,
        scenario_of(&first, "Diabetes Cohort Phoenix").counts
    );
    Ok(())
}

#[test]
fn a_dry_run_reports_the_same_and_writes_nothing() -> TestResult {
    let (_legacy_dir, legacy) = legacy_database(V1_2_SQL)?;
    let (_dir, store) = common::store();
    let dry = store.import_legacy(
        &legacy,
        &LegacyImportOptions {
            dry_run: true,
            ..LegacyImportOptions::default()
        },
    )?;
    assert!(dry.dry_run);
    assert!(dry
        .scenarios
        .iter()
        .all(|s| s.status == LegacyStatus::WouldImport && s.scenario_id.is_none()));
    assert!(store
        .list_scenarios(&healthsim_persist::ListOptions::default())?
        .is_empty());
    let real = store.import_legacy(&legacy, &LegacyImportOptions::default())?;
    assert_eq!(dry.entities_imported, real.entities_imported);
    for (d, r) in dry.scenarios.iter().zip(&real.scenarios) {
        assert_eq!(
            (&d.name, &d.counts, &d.skipped),
            (&r.name, &r.counts, &r.skipped)
        );
    }
    Ok(())
}

fn json_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/legacy/json")
        .join(name)
}

#[test]
fn json_scenario_and_workspace_files_come_in_with_their_references() -> TestResult {
    let (_dir, store) = common::store();
    // One file.
    let exported = json_fixture("exported_scenario.json");
    let before = fingerprint(&exported)?;
    let report = store.import_legacy(&exported, &LegacyImportOptions::default())?;
    assert!(fingerprint(&exported)? == before);
    let source: Json = serde_json::from_str(&std::fs::read_to_string(&exported)?)?;
    let s = scenario_of(&report, source["name"].as_str().ok_or("name")?);
    assert_eq!(s.status, LegacyStatus::Imported);
    for (legacy_type, list) in source["entities"].as_object().ok_or("entities")? {
        let table = healthsim_schema::entity_type(legacy_type)?.table;
        assert_eq!(
            s.counts[table],
            list.as_array().map_or(0, Vec::len) as u64,
            "{table}"
        );
    }
    let loaded = store.load_scenario(s.scenario_id.as_deref().ok_or("id")?)?;
    assert_eq!(
        loaded.description.as_deref(),
        source["description"].as_str()
    );
    assert_eq!(loaded.tags, ["cardiology", "readmissions"]);
    assert_eq!(entity(&loaded, "encounters", "hf-e1")["patient_id"], "hf-1");
    assert_eq!(entity(&loaded, "patients", "hf-1")["given_name"], "Ivy");
    assert_eq!(
        dangling_references(&store, &loaded.scenario_id)?,
        Vec::<String>::new()
    );

    // A folder: both files; the exported one's name is now taken.
    let folder = exported.parent().ok_or("folder")?;
    let report = store.import_legacy(folder, &LegacyImportOptions::default())?;
    assert_eq!(
        (
            report.scenarios_read,
            report.scenarios_imported,
            report.scenarios_skipped
        ),
        (2, 1, 1)
    );
    let ws = scenario_of(&report, "Rx Adherence Study");
    assert_eq!(ws.tags, ["pharmacy"]);
    let loaded = store.load_scenario(ws.scenario_id.as_deref().ok_or("id")?)?;
    let member = entity(&loaded, "members", "rm-1");
    assert_eq!(member["source_system"], "rxmembersim");
    assert_eq!(
        entity(&loaded, "prescriptions", "RX-9")["drug_name"],
        "Atorvastatin"
    );
    Ok(())
}

#[test]
fn what_cannot_be_imported_is_reported_not_dropped() -> TestResult {
    let (_legacy_dir, legacy) = legacy_database(V1_7_SQL)?;
    // A table of unknown purpose, an entity our validation refuses (a lab without a LOINC
    // code) and a reference to a patient the cohort does not have.
    let conn = duckdb::Connection::open(&legacy)?;
    conn.execute_batch(
        "CREATE TABLE custom_widgets (id INTEGER, cohort_id VARCHAR);
         INSERT INTO custom_widgets VALUES (1, 'S-DIAB'), (2, 'S-DIAB');
         INSERT INTO lab_results (id, test_name, value, patient_mrn, collected_time, cohort_id)
             VALUES ('l-bad', 'Glucose', '99', 'MRN001', '2024-01-10 09:00:00', 'S-DIAB');
         INSERT INTO diagnoses (id, code, patient_mrn, diagnosed_date, cohort_id)
             VALUES ('d-orphan', 'R73.09', 'MRN999', '2024-01-10', 'S-DIAB');
         INSERT INTO patients (id, mrn, given_name, family_name, birth_date, gender, cohort_id)
             VALUES ('p-lost', 'MRN777', 'No', 'Cohort', '1990-01-01', 'U', NULL);
         CHECKPOINT;",
    )?;
    drop(conn);
    let (_dir, store) = common::store();
    let report = store.import_legacy(&legacy, &LegacyImportOptions::default())?;
    assert_eq!(report.other_tables.get("custom_widgets"), Some(&2));
    for table in [
        "profiles",
        "profile_executions",
        "journeys",
        "journey_executions",
    ] {
        assert!(
            report.other_tables.contains_key(table),
            "{table}: {:?}",
            report.other_tables
        );
    }
    assert_eq!(report.unlinked_rows.get("patients"), Some(&1));
    let diabetes = scenario_of(&report, "Diabetes Cohort Phoenix");
    let bad = diabetes
        .skipped
        .iter()
        .find(|i| i.item == "lab_results l-bad")
        .ok_or("l-bad")?;
    assert!(bad.reason.contains("loinc_code"), "{bad:?}");
    assert_eq!(
        diabetes.unresolved_references.get("diagnoses.patient_id"),
        Some(&1)
    );
    // The rest of the scenario is in.
    let id = diabetes.scenario_id.as_deref().ok_or("id")?;
    assert_eq!(
        count_ours(&store, "lab_results", id)?,
        diabetes.counts["lab_results"]
    );
    assert_eq!(
        dangling_references(&store, id)?,
        ["diagnoses.patient_id (1)"]
    );
    Ok(())
}

#[test]
fn sources_that_are_not_legacy_are_refused_and_nothing_is_written() -> TestResult {
    let (dir, store) = common::store();
    let missing = dir.path().join("nope.duckdb");
    match store.import_legacy(&missing, &LegacyImportOptions::default()) {
        Err(e @ Error::Io { .. }) => assert!(e.is_caller_error(), "{e}"),
        other => panic!("{other:?}"),
    }
    // Our own database, another application's, a SQLite file, an empty folder.
    let ours = dir.path().join("ours.duckdb");
    drop(Store::open(&ours, StoreOptions::default())?);
    let other = dir.path().join("other.duckdb");
    build_database(&other, "CREATE TABLE t (x INTEGER);")?;
    let sqlite = dir.path().join("x.sqlite");
    std::fs::write(
        &sqlite,
        [b"SQLite format 3\0".as_slice(), &[0u8; 100]].concat(),
    )?;
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty)?;
    for (path, words) in [
        (&ours, "a HealthSim Persist database already"),
        (
            &other,
            "a DuckDB database of another application (tables t)",
        ),
        (&sqlite, "a SQLite database"),
        (&empty, "a folder without .json files"),
    ] {
        match store.import_legacy(path, &LegacyImportOptions::default()) {
            Err(e @ Error::Legacy(LegacyError::NotLegacy { .. })) => {
                assert!(e.is_caller_error());
                assert!(e.to_string().contains(words), "{e}");
            }
            other => panic!("{}: {other:?}", path.display()),
        }
    }
    // Invalid JSON, and JSON that is no scenario.
    for (content, words) in [
        ("{\"name\": ", "not valid JSON"),
        ("[1, 2]", "a scenario file is a JSON object"),
        ("{\"name\": \"x\"}", "no entities"),
    ] {
        let file = dir.path().join("bad.json");
        std::fs::write(&file, content)?;
        match store.import_legacy(&file, &LegacyImportOptions::default()) {
            Err(e @ Error::Legacy(LegacyError::InvalidJson { .. })) => {
                assert!(e.to_string().contains(words), "{e}")
            }
            other => panic!("{content}: {other:?}"),
        }
    }
    // The store's own file (a lake has none).
    if let Some(own) = store.path() {
        match store.import_legacy(own, &LegacyImportOptions::default()) {
            Err(Error::Legacy(LegacyError::SameFile { .. })) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(store
        .list_scenarios(&healthsim_persist::ListOptions::default())?
        .is_empty());
    Ok(())
}

#[test]
fn a_legacy_database_cut_short_is_an_open_error_and_nothing_is_written() -> TestResult {
    let (_legacy_dir, legacy) = legacy_database(V1_7_SQL)?;
    let bytes = std::fs::read(&legacy)?;
    // A copy made while the Python process wrote it, or a full disk: the header says DuckDB.
    std::fs::write(&legacy, &bytes[..bytes.len().min(16_384)])?;
    let (_dir, store) = common::store();
    match store.import_legacy(&legacy, &LegacyImportOptions::default()) {
        Err(e @ Error::Store(_)) => {
            assert!(e.to_string().contains(&legacy.display().to_string()), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert!(store
        .list_scenarios(&healthsim_persist::ListOptions::default())?
        .is_empty());
    Ok(())
}

#[test]
fn a_folder_with_a_broken_file_imports_the_others() -> TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::copy(json_fixture("workspace.json"), dir.path().join("a.json"))?;
    std::fs::write(dir.path().join("b.json"), "{ not json")?;
    let (_store_dir, store) = common::store();
    let report = store.import_legacy(dir.path(), &LegacyImportOptions::default())?;
    assert_eq!(
        (report.scenarios_imported, report.scenarios_skipped),
        (1, 1)
    );
    let broken = scenario_of(&report, "b");
    assert!(
        broken
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("not valid JSON")),
        "{broken:?}"
    );
    Ok(())
}

#[test]
fn the_report_fits_a_token_budget_and_keeps_its_totals() -> TestResult {
    let (_legacy_dir, legacy) = legacy_database(V1_7_SQL)?;
    let (_dir, store) = common::store();
    let mut report = store.import_legacy(
        &legacy,
        &LegacyImportOptions {
            dry_run: true,
            ..LegacyImportOptions::default()
        },
    )?;
    let full = report.clone();
    report.fit_tokens(250);
    let tokens = healthsim_summary::count_tokens(&serde_json::to_string(&report)?);
    assert!(tokens <= 250, "{tokens}");
    assert!(report.truncated);
    assert_eq!(
        (report.scenarios_read, report.entities_imported),
        (full.scenarios_read, full.entities_imported)
    );
    Ok(())
}
