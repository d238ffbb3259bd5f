//! The running statistics the write path keeps (`scenario_statistics`, ARCHITECTURE.md "Running
//! statistics"): after any sequence of writes, the summary a persist returns and
//! `get_scenario_summary` equal the summary computed from the rows alone, and the parts are
//! kept, added up or thrown away when the module documentation says so.
//!
//! The shared test store keeps parts from the first row (`running_statistics_from: 0`), so every
//! persist test exercises them; here the summary is also computed with the parts removed (in a
//! transaction rolled back) and compared.

mod common;

use common::{persist_into, persist_new, store, store_with, TestResult};
use healthsim_persist::{
    CloneOptions, EntityInput, Error, PersistRequest, PreparedEntities, Provenance,
    ScenarioSummary, ScenarioTarget, Store, StoreOptions, SummaryOptions,
};
use proptest::prelude::*;
use serde_json::{json, Value as Json};

/// The scenario's summary as the store gives it (from the parts where they add up).
fn kept(store: &Store, scenario: &str) -> ScenarioSummary {
    store
        .scenario_summary(scenario, &SummaryOptions::without_samples())
        .expect("summary")
}

/// Runs SQL on the store's connection, its failure an [`Error::Database`] naming the SQL.
fn run(c: &healthsim_schema::duckdb::Connection, sql: &str) -> Result<(), Error> {
    c.execute_batch(sql).map_err(|e| Error::Database {
        context: sql.to_string(),
        source: e,
    })
}

/// What `f` reads with every part deleted, in a transaction that is rolled back.
fn without_parts<T>(
    store: &Store,
    f: impl FnOnce(&healthsim_schema::duckdb::Connection) -> T,
) -> T {
    store
        .with_writer(|c| {
            run(c, "BEGIN TRANSACTION; DELETE FROM scenario_statistics")?;
            let read = f(c);
            run(c, "ROLLBACK")?;
            Ok(read)
        })
        .expect("transaction")
}

/// The scenario's summary from its rows alone.
fn from_rows(store: &Store, scenario: &str) -> ScenarioSummary {
    from_rows_with(store, scenario, &SummaryOptions::without_samples())
}

fn from_rows_with(store: &Store, scenario: &str, options: &SummaryOptions) -> ScenarioSummary {
    let id = store
        .resolve_scenario(scenario)
        .expect("scenario")
        .scenario_id;
    without_parts(store, |c| {
        healthsim_summary::scenario_summary(c, &id, options).expect("summary from the rows")
    })
}

/// Leaves the parts readable but no longer writable: a view stands in for the table.
fn freeze_parts(store: &Store) -> Result<(), Error> {
    store.with_writer(|c| {
        run(
            c,
            "ALTER TABLE scenario_statistics RENAME TO statistics_kept; \
             CREATE VIEW scenario_statistics AS SELECT * FROM statistics_kept",
        )
    })
}

/// Rows and sets (`part = -1` rows) of the scenario's parts of one type.
fn parts(store: &Store, scenario: &str, table: &str) -> (i64, i64) {
    let id = store
        .resolve_scenario(scenario)
        .expect("scenario")
        .scenario_id;
    store
        .with_reader(|c| {
            Ok(c.query_row(
                "SELECT count(*), count(*) FILTER (WHERE part = -1) FROM scenario_statistics \
                 WHERE scenario_id = ? AND entity_type = ?",
                [id.as_str(), table],
                |r| Ok((r.get(0)?, r.get(1)?)),
            ))
        })
        .expect("reader")
        .expect("parts")
}

fn check(store: &Store, scenario: &str) {
    assert_eq!(
        kept(store, scenario),
        from_rows(store, scenario),
        "{scenario}"
    );
}

/// Patients with varied birth dates, genders and states, ids `{prefix}{i}`; `version` changes
/// every value but the id.
fn patients(prefix: &str, range: std::ops::Range<usize>, version: usize) -> Vec<Json> {
    range
        .map(|i| {
            let v = i + version * 7;
            json!({
                "patient_id": format!("{prefix}{i}"),
                "given_name": "Ana",
                "family_name": "Diaz",
                "birth_date": format!("{}-{:02}-{:02}", 1930 + v % 80, 1 + v % 12, 1 + v % 28),
                "gender": (["female", "male", "other"][v % 3]),
                "state": (["AZ", "CA", "NV", "TX"][v % 4]),
            })
        })
        .collect()
}

/// Claims with money, types and dates, ids `{prefix}{i}`.
fn claims(prefix: &str, range: std::ops::Range<usize>, version: usize) -> Vec<Json> {
    range
        .map(|i| {
            let v = i + version * 5;
            json!({
                "claim_id": format!("{prefix}{i}"),
                "patient_id": "p0",
                "claim_type": (["professional", "institutional"][v % 2]),
                "status": (["paid", "denied", "pending"][v % 3]),
                "service_date": format!("2024-{:02}-{:02}", 1 + v % 12, 1 + v % 28),
                "total_billed": format!("{}.{:02}", 100 + v * 37 % 900, v % 100),
                "total_paid": format!("{}.{:02}", 50 + v * 13 % 400, (v * 7) % 100),
            })
        })
        .collect()
}

/// Writes claims in bulk (no summary, so the scenario's parts are deleted).
fn bulk_claims(store: &Store, scenario: &str, range: std::ops::Range<usize>) -> TestResult {
    let prepared = PreparedEntities::new(&EntityInput::Typed {
        entity_type: "claims".into(),
        entities: claims("c", range, 0),
    })?;
    store.write_entities(
        &prepared,
        &ScenarioTarget::existing(scenario),
        &Provenance::default(),
    )?;
    Ok(())
}

#[test]
fn persists_of_new_entities_append_parts_that_give_the_summary_of_the_rows() -> TestResult {
    let (_dir, store) = store();
    let first = persist_new(&store, "kept", "patients", patients("p", 0..40, 0));
    assert_eq!(first.summary, from_rows(&store, "kept"));
    assert_eq!(parts(&store, "kept", "patients").1, 1);
    for call in 1..4 {
        let result = persist_into(
            &store,
            "kept",
            "patients",
            patients("p", call * 40..call * 40 + 40, 0),
        );
        // The summary in the result is the one read from the parts.
        assert_eq!(result.summary, from_rows(&store, "kept"));
        assert_eq!(parts(&store, "kept", "patients").1, 1 + call as i64);
    }
    check(&store, "kept");
    Ok(())
}

#[test]
fn replacing_entities_takes_their_old_parts_out_and_adds_the_new_ones() -> TestResult {
    let (_dir, store) = store();
    persist_new(&store, "replaced", "patients", patients("p", 0..30, 0));
    persist_into(&store, "replaced", "patients", patients("p", 30..60, 0));
    assert_eq!(parts(&store, "replaced", "patients").1, 2);
    // Ids 20..40 exist: a set of their old values negated, then one of the batch's.
    let result = persist_into(&store, "replaced", "patients", patients("p", 20..40, 3));
    assert_eq!(result.summary, from_rows(&store, "replaced"));
    assert_eq!(parts(&store, "replaced", "patients").1, 4);
    // Every patient of a state moves away: the state leaves the summary, as it does the rows.
    let moved: Vec<Json> = (0..60)
        .flat_map(|i| patients("p", i..i + 1, if (20..40).contains(&i) { 3 } else { 0 }))
        .filter(|p| p["state"] == "NV")
        .map(|mut p| {
            p["state"] = json!("AZ");
            p
        })
        .collect();
    let result = persist_into(&store, "replaced", "patients", moved);
    assert_eq!(result.summary, from_rows(&store, "replaced"));
    assert_eq!(parts(&store, "replaced", "patients").1, 6);
    let shown = serde_json::to_string(&result.summary)?;
    assert!(!shown.contains("\"NV\""), "{shown}");
    // The oldest patients become young: the oldest age left is a younger one.
    let oldest: Vec<Json> = (0..60)
        .flat_map(|i| patients("p", i..i + 1, if (20..40).contains(&i) { 3 } else { 0 }))
        .filter(|p| p["birth_date"].as_str().is_some_and(|d| d < "1933"))
        .map(|mut p| {
            p["birth_date"] = json!("2000-01-01");
            p
        })
        .collect();
    assert!(!oldest.is_empty());
    let before = kept(&store, "replaced").statistics["patients"]["age"].clone();
    let result = persist_into(&store, "replaced", "patients", oldest);
    assert_eq!(result.summary, from_rows(&store, "replaced"));
    assert_ne!(result.summary.statistics["patients"]["age"], before);
    assert_eq!(parts(&store, "replaced", "patients").1, 8);
    Ok(())
}

#[test]
fn an_age_whose_every_patient_was_replaced_leaves_the_ages() -> TestResult {
    // Ages add up per birth month, and per birth day within the month of the date they are
    // computed at (June here), where a replaced patient's day is taken out row by row.
    let options = SummaryOptions {
        as_of: chrono::NaiveDate::from_ymd_opt(2026, 6, 20).ok_or("date")?,
        ..SummaryOptions::without_samples()
    };
    let age = |s: &ScenarioSummary| s.statistics["patients"]["age"].clone();
    let (_dir, store) = store();
    persist_new(&store, "ages", "patients", patients("p", 0..30, 0));
    let mut oldest = patients("old", 0..1, 0);
    oldest[0]["birth_date"] = json!("1920-06-10");
    persist_into(&store, "ages", "patients", oldest.clone());
    let before = store.scenario_summary("ages", &options)?;
    assert_eq!(before, from_rows_with(&store, "ages", &options));
    assert!(
        age(&before).as_str().is_some_and(|a| a.contains("106")),
        "{before:?}"
    );
    oldest[0]["birth_date"] = json!("2000-06-10");
    persist_into(&store, "ages", "patients", oldest);
    // Taken out and added again, not recomputed.
    assert_eq!(parts(&store, "ages", "patients").1, 4);
    let after = store.scenario_summary("ages", &options)?;
    assert_eq!(after, from_rows_with(&store, "ages", &options));
    assert!(
        age(&after).as_str().is_some_and(|a| !a.contains("106")),
        "{after:?}"
    );
    Ok(())
}

#[test]
fn replacing_an_entity_that_holds_an_extreme_recomputes_the_parts_of_its_type() -> TestResult {
    let (_dir, store) = store();
    persist_new(&store, "extreme", "claims", claims("c", 0..30, 0));
    let mut top = claims("top", 0..1, 0);
    top[0]["total_billed"] = json!("99999.00");
    persist_into(&store, "extreme", "claims", top.clone());
    assert_eq!(parts(&store, "extreme", "claims").1, 2);
    // A claim inside every range is taken out and added again.
    let mut inside = claims("c", 3..4, 0);
    inside[0]["status"] = json!("denied");
    let result = persist_into(&store, "extreme", "claims", inside);
    assert_eq!(result.summary, from_rows(&store, "extreme"));
    assert_eq!(parts(&store, "extreme", "claims").1, 4);
    // The largest amount billed leaves: the parts cannot say what the next largest is.
    top[0]["total_billed"] = json!("120.00");
    let result = persist_into(&store, "extreme", "claims", top);
    assert_eq!(result.summary, from_rows(&store, "extreme"));
    assert_eq!(parts(&store, "extreme", "claims").1, 1);
    Ok(())
}

#[test]
fn every_other_write_of_the_scenario_drops_its_parts() -> TestResult {
    let (_dir, store) = store();
    persist_new(&store, "dropped", "patients", patients("p", 0..30, 0));
    persist_into(&store, "dropped", "claims", claims("c", 0..30, 0));
    assert!(parts(&store, "dropped", "claims").0 > 0);
    // A write without a summary (the CLI's bulk persist) deletes every type's parts.
    bulk_claims(&store, "dropped", 30..60)?;
    assert_eq!(parts(&store, "dropped", "patients"), (0, 0));
    assert_eq!(parts(&store, "dropped", "claims"), (0, 0));
    check(&store, "dropped");
    // The next persist computes the parts of the types it writes from all their rows.
    let result = persist_into(&store, "dropped", "claims", claims("c", 60..70, 0));
    assert_eq!(result.summary, from_rows(&store, "dropped"));
    assert_eq!(parts(&store, "dropped", "claims").1, 1);
    assert_eq!(parts(&store, "dropped", "patients"), (0, 0));
    Ok(())
}

#[test]
fn refreshing_after_a_bulk_write_gives_every_large_type_its_parts_and_changes_nothing_else(
) -> TestResult {
    // Parts from 25 rows: the claims reach it, the 10 patients do not.
    let (_dir, store) = store_with(StoreOptions {
        running_statistics_from: 25,
        ..StoreOptions::default()
    });
    persist_new(&store, "bulk", "patients", patients("p", 0..10, 0));
    bulk_claims(&store, "bulk", 0..40)?;
    assert_eq!(parts(&store, "bulk", "claims"), (0, 0));
    let rows = common::store_state(&store)?;
    let summary = from_rows(&store, "bulk");

    store.refresh_running_statistics("bulk")?;
    assert_eq!(parts(&store, "bulk", "claims").1, 1);
    assert_eq!(parts(&store, "bulk", "patients"), (0, 0));
    assert_eq!(kept(&store, "bulk"), summary);
    // Every other table, `updated_at` included, is as before.
    rows.expect_same(
        &without_parts(&store, common::state::db_state)?,
        "the refresh",
    )?;

    // Refreshed again, the parts are replaced, not added to; the next persist appends to them.
    store.refresh_running_statistics("bulk")?;
    assert_eq!(parts(&store, "bulk", "claims").1, 1);
    let result = persist_into(&store, "bulk", "claims", claims("c", 40..45, 0));
    assert_eq!(result.summary, from_rows(&store, "bulk"));
    assert_eq!(parts(&store, "bulk", "claims").1, 2);
    Ok(())
}

/// Rows and sets of every type's parts of a scenario, by table.
fn all_parts(store: &Store, scenario: &str) -> Vec<(String, (i64, i64))> {
    ["patients", "claims", "encounters", "diagnoses"]
        .iter()
        .map(|t| (t.to_string(), parts(store, scenario, t)))
        .collect()
}

#[test]
fn imports_and_merges_end_with_the_parts_of_every_large_type() -> TestResult {
    use healthsim_persist::{
        ExportFormat, ExportOptions, ImportCommit, ImportOptions, MergeOptions,
    };
    // Parts from 25 rows: the 40 claims reach it, the 10 patients do not.
    let (dir, store) = store_with(StoreOptions {
        running_statistics_from: 25,
        ..StoreOptions::default()
    });
    persist_new(&store, "bulk", "patients", patients("p", 0..10, 0));
    bulk_claims(&store, "bulk", 0..40)?;
    let expected = vec![
        ("patients".to_string(), (0, 0)),
        ("claims".to_string(), (parts_of_claims(&store)?, 1)),
        ("encounters".to_string(), (0, 0)),
        ("diagnoses".to_string(), (0, 0)),
    ];
    let ends_with_parts = |scenario: &str, what: &str| {
        assert_eq!(all_parts(&store, scenario), expected, "{what}");
        check(&store, scenario);
    };
    for format in [ExportFormat::Json, ExportFormat::Csv] {
        let export = store.export_scenario(
            "bulk",
            &ExportOptions {
                format,
                out: Some(dir.path().join(format!("out-{format:?}"))),
                ..ExportOptions::default()
            },
        )?;
        let commits: &[ImportCommit] = match format {
            ExportFormat::Json => &[ImportCommit::All, ImportCommit::Chunks],
            _ => &[ImportCommit::All],
        };
        for commit in commits {
            let imported = store.import_scenario(
                &export.path,
                &ImportOptions {
                    commit: *commit,
                    ..ImportOptions::default()
                },
            )?;
            ends_with_parts(&imported.scenario_id, &format!("{format:?} {commit:?}"));
        }
    }
    persist_new(&store, "other", "patients", patients("q", 0..5, 0));
    // 15 patients: still below the threshold.
    let merged = store.merge_scenarios(&["bulk", "other"], &MergeOptions::default())?;
    ends_with_parts(&merged.scenario_id, "merge");
    Ok(())
}

/// The number of part rows the 40 claims of `bulk_claims(0..40)` have once refreshed (on a copy
/// of the scenario, deleted after).
fn parts_of_claims(store: &Store) -> Result<i64, Box<dyn std::error::Error>> {
    let copy = store.clone_scenario("bulk", &CloneOptions::default())?;
    store.refresh_running_statistics(&copy.scenario_id)?;
    let (rows, _) = parts(store, &copy.scenario_id, "claims");
    store.delete_scenario(&copy.scenario_id, true)?;
    Ok(rows)
}

#[test]
fn a_fhir_import_ends_with_the_parts_of_every_type() -> TestResult {
    use healthsim_persist::fhir::{CommitMode, FhirImportOptions};
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../healthsim-fhir/tests/data/fhir/bulk");
    // The shared store keeps parts from the first row.
    let (_dir, store) = store();
    for commit in [CommitMode::All, CommitMode::Chunks] {
        let report = store.import_fhir(
            &[&data],
            &FhirImportOptions {
                commit,
                ..FhirImportOptions::default()
            },
        )?;
        for table in ["patients", "encounters", "diagnoses"] {
            let (rows, sets) = parts(&store, &report.scenario_id, table);
            // Diagnoses' statistics do not merge (distinct patients per code): no parts.
            assert_eq!(
                (rows > 0, sets),
                if table == "diagnoses" {
                    (false, 0)
                } else {
                    (true, 1)
                },
                "{table} after a FHIR import in {commit:?} mode"
            );
        }
        check(&store, &report.scenario_id);
    }
    Ok(())
}

#[test]
fn a_legacy_import_ends_with_the_parts_of_every_type() -> TestResult {
    let legacy_dir = tempfile::tempdir()?;
    let legacy = legacy_dir.path().join("healthsim.duckdb");
    let conn = healthsim_schema::duckdb::Connection::open(&legacy)?;
    conn.execute_batch(include_str!("legacy/python_v1_7.sql"))?;
    drop(conn);
    // The shared store keeps parts from the first row.
    let (_dir, store) = store();
    let report =
        store.import_legacy(&legacy, &healthsim_persist::LegacyImportOptions::default())?;
    assert!(report.scenarios_imported > 0);
    for imported in &report.scenarios {
        let id = imported.scenario_id.as_deref().expect("imported");
        // Every type it holds whose statistics merge has one set of parts.
        let merging: Vec<&str> = imported
            .counts
            .keys()
            .filter_map(|table| healthsim_schema::by_table(table))
            .filter(|t| healthsim_summary::statistics_merge(t))
            .map(|t| t.table)
            .collect();
        assert!(!merging.is_empty(), "{id}");
        for table in merging {
            let (rows, sets) = parts(&store, id, table);
            assert!(
                rows > 0 && sets == 1,
                "{id} {table}: {rows} rows, {sets} sets"
            );
        }
        check(&store, id);
    }
    Ok(())
}

#[test]
fn refreshing_a_scenario_without_a_large_type_writes_nothing() -> TestResult {
    let (_dir, store) = store_with(StoreOptions {
        running_statistics_from: 25,
        ..StoreOptions::default()
    });
    persist_new(&store, "small", "patients", patients("p", 0..10, 0));
    bulk_claims(&store, "small", 0..20)?;
    let before = common::store_state(&store)?;
    store.refresh_running_statistics("small")?;
    before.expect_same(&common::store_state(&store)?, "the refresh")?;
    Ok(())
}

#[test]
fn refreshing_a_scenario_that_does_not_exist_is_an_error_that_writes_nothing() -> TestResult {
    let (_dir, store) = store();
    persist_new(&store, "here", "patients", patients("p", 0..5, 0));
    let before = common::store_state(&store)?;
    let error = store
        .refresh_running_statistics("elsewhere")
        .expect_err("no such scenario");
    assert!(matches!(&error, Error::ScenarioNotFound { .. }), "{error}");
    before.expect_same(&common::store_state(&store)?, "the failed refresh")?;
    Ok(())
}

#[test]
fn a_refresh_that_cannot_write_the_parts_writes_nothing() -> TestResult {
    let (_dir, store) = store();
    persist_new(&store, "stuck", "patients", patients("p", 0..30, 0));
    bulk_claims(&store, "stuck", 0..30)?;
    freeze_parts(&store)?;
    let before = common::store_state(&store)?;
    let error = store
        .refresh_running_statistics("stuck")
        .expect_err("the parts cannot be written");
    assert!(
        matches!(&error, Error::Database { context, .. }
            if context == "deleting the running statistics of patients"),
        "{error}"
    );
    before.expect_same(&common::store_state(&store)?, "the failed refresh")?;
    Ok(())
}

#[test]
fn tags_and_clones_leave_the_parts_of_the_source_and_a_clone_copies_them() -> TestResult {
    let (_dir, store) = store();
    persist_new(&store, "source", "patients", patients("p", 0..30, 0));
    persist_into(&store, "source", "claims", claims("c", 0..30, 0));
    let before = parts(&store, "source", "patients");
    store.add_tags("source", &["cohort-a".to_string()])?;
    store.remove_tags("source", &["cohort-a".to_string()])?;
    let copy = store.clone_scenario("source", &CloneOptions::default())?;
    assert_eq!(parts(&store, "source", "patients"), before);
    assert_eq!(parts(&store, &copy.scenario_id, "patients"), before);
    check(&store, "source");
    check(&store, &copy.scenario_id);
    // A clone of some types copies their parts only.
    let some = store.clone_scenario(
        "source",
        &CloneOptions {
            types: Some(vec!["claims".to_string()]),
            ..CloneOptions::default()
        },
    )?;
    assert_eq!(parts(&store, &some.scenario_id, "patients"), (0, 0));
    assert_eq!(
        parts(&store, &some.scenario_id, "claims"),
        parts(&store, "source", "claims")
    );
    check(&store, &some.scenario_id);
    // The copy's next persist appends to the copied parts.
    let result = persist_into(
        &store,
        &copy.scenario_id,
        "patients",
        patients("p", 30..40, 0),
    );
    assert_eq!(result.summary, from_rows(&store, &copy.scenario_id));
    assert_eq!(parts(&store, &copy.scenario_id, "patients").1, before.1 + 1);
    Ok(())
}

#[test]
fn a_clone_that_cannot_copy_the_parts_writes_nothing() -> TestResult {
    let (_dir, store) = store();
    persist_new(&store, "source", "patients", patients("p", 0..30, 0));
    freeze_parts(&store)?;
    let before = common::store_state(&store)?;
    let error = store
        .clone_scenario("source", &CloneOptions::default())
        .expect_err("the parts cannot be copied");
    assert!(
        matches!(&error, Error::Database { context, .. }
            if context == "copying the running statistics of patients"),
        "{error}"
    );
    before.expect_same(&common::store_state(&store)?, "the failed clone")?;
    Ok(())
}

#[test]
fn deleting_a_scenario_deletes_its_parts() -> TestResult {
    let (_dir, store) = store();
    let created = persist_new(&store, "gone", "patients", patients("p", 0..10, 0));
    store.delete_scenario("gone", true)?;
    let left: i64 = store.with_reader(|c| {
        Ok(c.query_row(
            "SELECT count(*) FROM scenario_statistics WHERE scenario_id = ?",
            [created.scenario_id.as_str()],
            |r| r.get(0),
        ))
    })??;
    assert_eq!(left, 0);
    Ok(())
}

#[test]
fn many_calls_add_the_sets_up() -> TestResult {
    let (_dir, store) = store();
    persist_new(&store, "compacted", "claims", claims("c", 0..5, 0));
    for call in 1..40 {
        persist_into(
            &store,
            "compacted",
            "claims",
            claims("c", call * 5..call * 5 + 5, 0),
        );
        let (_, sets) = parts(&store, "compacted", "claims");
        // One set per call, added up into one whenever they reach COMPACT_AFTER (32): the
        // 31st call after the first would make the 32nd.
        assert_eq!(sets, (call as i64) % 31 + 1, "call {call}");
    }
    check(&store, "compacted");
    Ok(())
}

#[test]
fn a_failure_while_keeping_the_parts_writes_nothing() -> TestResult {
    let (_dir, store) = store();
    persist_new(&store, "failing", "patients", patients("p", 0..30, 0));
    freeze_parts(&store)?;
    // Each failing persist is the error naming what it did, and writes nothing.
    fails(
        &store,
        "patients",
        patients("p", 30..40, 0),
        "appending to the running statistics of patients",
    )?;
    // Replacing ids takes their old parts out: that fails too, naming what it did.
    fails(
        &store,
        "patients",
        patients("p", 0..5, 1),
        "taking the replaced rows out of the running statistics of patients",
    )?;
    Ok(())
}

/// A persist of `entities` of `table` into the scenario "failing" fails with the
/// [`Error::Database`] whose context is `expected`, and changes nothing.
fn fails(store: &Store, table: &str, entities: Vec<Json>, expected: &str) -> TestResult {
    let before = common::store_state(store)?;
    let request = PersistRequest::new(table, entities).into_existing("failing");
    let error = store
        .persist_entities(&request)
        .expect_err("the parts cannot be written");
    assert!(
        matches!(&error, Error::Database { context, .. } if context == expected),
        "{error}"
    );
    before.expect_same(&common::store_state(store)?, "the failed persist")?;
    Ok(())
}

#[test]
fn a_failure_while_replacing_the_parts_writes_nothing() -> TestResult {
    let (_dir, store) = store();
    persist_new(&store, "failing", "claims", claims("c", 0..30, 0));
    // Parts without the dates' extremes: the replaced rows cannot be compared with them.
    store.with_writer(|c| {
        run(
            c,
            "ALTER TABLE scenario_statistics RENAME TO statistics_kept; \
             CREATE VIEW scenario_statistics AS \
             SELECT * EXCLUDE (low_day, high_day) FROM statistics_kept",
        )
    })?;
    fails(
        &store,
        "claims",
        claims("c", 0..5, 1),
        "comparing the replaced rows with the extremes of the running statistics of claims",
    )?;
    // Parts that cannot be written: replacing c24, the claim with the largest amount billed
    // (988.24), recomputes them, and deleting them fails.
    store.with_writer(|c| {
        run(
            c,
            "DROP VIEW scenario_statistics; \
             CREATE VIEW scenario_statistics AS SELECT * FROM statistics_kept",
        )
    })?;
    let mut largest = claims("c", 24..25, 0);
    assert_eq!(largest[0]["total_billed"], "988.24");
    largest[0]["total_billed"] = json!("101.00");
    fails(
        &store,
        "claims",
        largest,
        "deleting the running statistics of claims",
    )?;
    Ok(())
}

/// One write of the property test.
#[derive(Debug, Clone)]
enum Write {
    /// New patients and claims in one call.
    New { patients: usize, claims: usize },
    /// Replaced values of existing patients (and some new ones).
    Replace { from: usize, count: usize },
    /// Replaced values of existing claims (and some new ones): money and dates, whose extremes
    /// a replaced row may hold.
    ReplaceClaims { from: usize, count: usize },
    /// A write without a summary.
    Bulk { claims: usize },
    /// The parts of every type brought back after bulk writes.
    Refresh,
}

fn write() -> impl Strategy<Value = Write> {
    prop_oneof![
        4 => (0usize..30, 0usize..30).prop_map(|(patients, claims)| Write::New { patients, claims }),
        2 => (0usize..60, 1usize..20).prop_map(|(from, count)| Write::Replace { from, count }),
        2 => (0usize..60, 1usize..10).prop_map(|(from, count)| Write::ReplaceClaims { from, count }),
        1 => (1usize..20).prop_map(|claims| Write::Bulk { claims }),
        1 => Just(Write::Refresh),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::store_cases(12)))]

    #[test]
    fn after_any_writes_the_summary_equals_the_summary_of_the_rows(
        writes in prop::collection::vec(write(), 1..8)
    ) {
        let (_dir, store) = store();
        let (mut next_patient, mut next_claim) = (0, 0);
        persist_new(&store, "prop", "patients", patients("p", 0..1, 0));
        next_patient += 1;
        for (version, w) in writes.iter().enumerate() {
            let mut by_type = serde_json::Map::new();
            match *w {
                Write::New { patients: p, claims: c } => {
                    if p > 0 {
                        by_type.insert("patients".into(), Json::Array(patients("p", next_patient..next_patient + p, 0)));
                    }
                    if c > 0 {
                        by_type.insert("claims".into(), Json::Array(claims("c", next_claim..next_claim + c, 0)));
                    }
                    next_patient += p;
                    next_claim += c;
                }
                Write::Replace { from, count } => {
                    let end = from + count;
                    by_type.insert("patients".into(), Json::Array(patients("p", from..end, version + 1)));
                    next_patient = next_patient.max(end);
                }
                Write::ReplaceClaims { from, count } => {
                    let end = from + count;
                    by_type.insert("claims".into(), Json::Array(claims("c", from..end, version + 1)));
                    next_claim = next_claim.max(end);
                }
                Write::Bulk { claims: c } => {
                    bulk_claims(&store, "prop", next_claim..next_claim + c).expect("bulk write");
                    next_claim += c;
                    prop_assert_eq!(kept(&store, "prop"), from_rows(&store, "prop"));
                    continue;
                }
                Write::Refresh => {
                    store.refresh_running_statistics("prop").expect("refresh");
                    prop_assert_eq!(kept(&store, "prop"), from_rows(&store, "prop"));
                    continue;
                }
            }
            if by_type.is_empty() {
                continue;
            }
            let request = PersistRequest::by_type(by_type).into_existing("prop");
            let result = store.persist_entities(&request).expect("persist");
            prop_assert_eq!(&result.summary, &from_rows(&store, "prop"));
            prop_assert_eq!(kept(&store, "prop"), from_rows(&store, "prop"));
        }
    }
}
