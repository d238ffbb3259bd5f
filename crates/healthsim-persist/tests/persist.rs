//! persist_entities: upsert, atomicity, scoping by scenario, naming, result size, big batches.

mod common;

use common::{
    assert_manifest_consistent, patients, persist_into, persist_new, store, store_state,
    table_counts, TestResult,
};
use healthsim_persist::{
    EntityInput, Error, InputError, PersistRequest, Provenance, ScenarioTarget, TypeCounts,
    MAX_IDS_IN_RESULT, RESULT_TOKEN_BUDGET,
};
use serde_json::{json, Map, Value as Json};

fn created_at_of_p1(store: &healthsim_persist::Store) -> Result<String, Error> {
    store.with_reader(|c| {
        c.query_row(
            "SELECT created_at::VARCHAR FROM patients WHERE patient_id = 'p1'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| Error::Database {
            context: "test".into(),
            source: e,
        })
    })
}

/// Runs SQL on the store's writer connection (the failure tests' temporary views).
fn execute(store: &healthsim_persist::Store, sql: &str) -> Result<(), Error> {
    store.with_writer(|c| {
        c.execute_batch(sql).map_err(|e| Error::Database {
            context: "test".into(),
            source: e,
        })
    })
}

#[test]
fn re_persisting_an_id_updates_it() -> TestResult {
    let (_dir, store) = store();
    let first = persist_new(&store, "upsert", "patients", patients(3));
    assert_eq!(
        first.counts["patients"],
        TypeCounts {
            inserted: 3,
            updated: 0
        }
    );
    let created_before = created_at_of_p1(&store)?;

    let changed = vec![
        json!({"patient_id": "p1", "given_name": "Changed", "gender": "U"}),
        json!({"patient_id": "p9", "given_name": "New"}),
    ];
    let second = persist_into(&store, "upsert", "patients", changed);
    assert_eq!(
        second.counts["patients"],
        TypeCounts {
            inserted: 1,
            updated: 1
        }
    );
    assert!(!second.is_new_scenario);
    assert_eq!(second.scenario_id, first.scenario_id);
    assert_eq!(second.summary.entity_counts["patients"], 4);

    let loaded = store.load_scenario("upsert")?;
    let p1 = loaded.entities["patients"]
        .iter()
        .find(|p| p["patient_id"] == "p1")
        .ok_or("p1")?;
    // The whole row is replaced: fields the update does not carry are gone.
    assert_eq!(
        p1,
        &json!({"patient_id": "p1", "given_name": "Changed", "gender": "U"})
    );
    assert_eq!(loaded.entities["patients"].len(), 4, "no duplicate row");
    let created_after = created_at_of_p1(&store)?;
    assert_eq!(created_before, created_after, "an update keeps created_at");
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn a_bad_entity_leaves_the_database_unchanged() -> TestResult {
    let (_dir, store) = store();
    persist_new(&store, "existing", "patients", patients(5));
    let before = store_state(&store)?;

    // Index 37 of 50 has an impossible birth date: nothing is written, no scenario is created.
    let mut batch = patients(50);
    batch[37]["birth_date"] = json!("1950-02-30");
    for target in [
        ScenarioTarget::new_named("fresh"),
        ScenarioTarget::existing("existing"),
    ] {
        let request = PersistRequest::new("patients", batch.clone()).with_scenario(target);
        let error = store.persist_entities(&request).err().ok_or("must fail")?;
        assert!(
            matches!(&error, Error::Input(InputError::InvalidField { entity_type: "patients", index: 37, field, .. }) if field == "birth_date"),
            "{error}"
        );
        before.expect_same(&store_state(&store)?, "a refused batch")?;
    }

    // An unknown existing scenario fails before writing, too.
    let request = PersistRequest::new("patients", patients(2)).into_existing("no-such-scenario");
    assert!(matches!(
        store.persist_entities(&request),
        Err(Error::ScenarioNotFound { .. })
    ));
    before.expect_same(&store_state(&store)?, "a write to an unknown scenario")?;
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn a_failure_while_writing_rolls_back_everything() -> TestResult {
    // Writing the second type fails on either path: a small batch is appended straight into
    // its table (a temporary view shadowing `vitals` breaks that), a large one first joins its
    // ids through a temporary table (a temporary view occupying that table's name breaks that).
    for (vitals, blocker) in [(1, "vitals"), (1_001, "hs_ids_vitals")] {
        let (_dir, store) = store();
        let before = store_state(&store)?;
        execute(
            &store,
            &format!("CREATE TEMP VIEW {blocker} AS SELECT 1 AS x"),
        )?;
        let mut map = Map::new();
        map.insert("patients".into(), Json::Array(patients(3)));
        map.insert(
            "vitals".into(),
            (0..vitals)
                .map(|i| json!({"vital_id": format!("v{i}"), "patient_id": "p0"}))
                .collect(),
        );
        let request = PersistRequest::by_type(map).with_scenario(ScenarioTarget::new_named("half"));
        let error = store.persist_entities(&request).err().ok_or("must fail")?;
        assert!(matches!(error, Error::Database { .. }), "{error}");
        // The connection is still usable afterwards (the view goes first: it shadows `vitals`).
        execute(&store, &format!("DROP VIEW {blocker}"))?;
        // Patients and the new scenario are rolled back: every table exactly as before.
        before.expect_same(&store_state(&store)?, blocker)?;
        assert!(matches!(
            store.resolve_scenario("half"),
            Err(Error::ScenarioNotFound { .. })
        ));
        assert_eq!(
            store.persist_entities(&request)?.total_persisted,
            3 + vitals as u64
        );
        assert_manifest_consistent(&store);
    }
    Ok(())
}

#[test]
fn a_failure_while_staging_an_upsert_rolls_back_everything() -> TestResult {
    // Rows of a type with existing ids go through a staging table; a temporary view occupying
    // its name makes that fail after the call's new patients were appended.
    let (_dir, store) = store();
    let vital = |i: usize| json!({"vital_id": format!("v{i}"), "patient_id": "p0"});
    let mut first = Map::new();
    first.insert("patients".into(), Json::Array(patients(3)));
    first.insert("vitals".into(), Json::Array(vec![vital(0)]));
    store.persist_entities(
        &PersistRequest::by_type(first).with_scenario(ScenarioTarget::new_named("kept")),
    )?;
    let before = store_state(&store)?;
    execute(&store, "CREATE TEMP VIEW hs_stage_vitals AS SELECT 1 AS x")?;
    let mut second = Map::new();
    let more: Vec<Json> = (3..6)
        .map(|i| json!({"patient_id": format!("p{i}"), "gender": "F"}))
        .collect();
    second.insert("patients".into(), Json::Array(more));
    second.insert("vitals".into(), Json::Array(vec![vital(0), vital(1)]));
    let request = PersistRequest::by_type(second).into_existing("kept");
    let error = store.persist_entities(&request).err().ok_or("must fail")?;
    assert!(
        matches!(&error, Error::Database { context, .. } if context == "creating the staging table for vitals"),
        "{error}"
    );
    execute(&store, "DROP VIEW hs_stage_vitals")?;
    before.expect_same(&store_state(&store)?, "a failed upsert")?;
    let counts = store.persist_entities(&request)?.counts;
    assert_eq!(
        (counts["vitals"].inserted, counts["vitals"].updated),
        (1, 1)
    );
    assert_eq!(
        (counts["patients"].inserted, counts["patients"].updated),
        (3, 0)
    );
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn scenarios_with_the_same_ids_stay_independent() -> TestResult {
    let (_dir, store) = store();
    let a = persist_new(
        &store,
        "scenario-a",
        "patients",
        vec![json!({"patient_id": "p1", "gender": "F"})],
    );
    let b = persist_new(
        &store,
        "scenario-b",
        "patients",
        vec![json!({"patient_id": "p1", "gender": "M"})],
    );
    assert_ne!(a.scenario_id, b.scenario_id);
    assert_eq!(
        b.counts["patients"],
        TypeCounts {
            inserted: 1,
            updated: 0
        }
    );
    assert_eq!(
        store.load_scenario("scenario-a")?.entities["patients"][0]["gender"],
        "F"
    );
    assert_eq!(
        store.load_scenario("scenario-b")?.entities["patients"][0]["gender"],
        "M"
    );

    persist_into(
        &store,
        "scenario-a",
        "patients",
        vec![json!({"patient_id": "p1", "gender": "O"})],
    );
    assert_eq!(
        store.load_scenario("scenario-b")?.entities["patients"][0]["gender"],
        "M"
    );
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn several_types_in_one_call() -> TestResult {
    let (_dir, store) = store();
    let mut map = Map::new();
    map.insert("patient".into(), Json::Array(patients(2)));
    map.insert(
        "labs".into(),
        json!([{"lab_result_id": "l1", "patient_id": "p0", "loinc_code": "4548-4", "value_numeric": 7.2}]),
    );
    map.insert("encounters".into(), json!([]));
    let result = store.persist_entities(&PersistRequest::by_type(map))?;
    assert_eq!(
        result.counts.keys().collect::<Vec<_>>(),
        ["lab_results", "patients"]
    );
    assert_eq!(
        result.entity_ids,
        ["p0", "p1", "l1"],
        "input order, all types"
    );
    assert_eq!(result.total_persisted, 3);
    assert!(!result.ids_truncated);
    // Auto-named from the first type and today's date.
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    assert!(
        result.scenario_name.starts_with("patients-"),
        "{}",
        result.scenario_name
    );
    assert!(
        result.scenario_name.contains(&today),
        "{}",
        result.scenario_name
    );
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn new_scenarios_are_named_from_context_and_kept_unique() -> TestResult {
    let (_dir, store) = store();
    let request = PersistRequest::new("patients", patients(1)).with_scenario(ScenarioTarget::New {
        name: None,
        context: Some("Generate 50 diabetic patients over 65 in Arizona".into()),
        description: Some("demo".into()),
        tags: vec![" Diabetes ".into(), "AZ".into()],
    });
    let first = store.persist_entities(&request)?;
    let second = store.persist_entities(&request)?;
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    assert!(
        first.scenario_name.starts_with("diabetic-"),
        "{}",
        first.scenario_name
    );
    assert!(
        first.scenario_name.ends_with(&today),
        "{}",
        first.scenario_name
    );
    assert_eq!(second.scenario_name, format!("{}-2", first.scenario_name));
    assert_eq!(store.scenario_tags(&first.scenario_id)?, ["az", "diabetes"]);
    assert_eq!(first.summary.tags, ["az", "diabetes"]);
    assert_eq!(first.summary.description.as_deref(), Some("demo"));

    let named = persist_new(&store, "My Cohort!", "patients", patients(1));
    assert_eq!(named.scenario_name, "my-cohort");
    let again = persist_new(&store, "my cohort", "patients", patients(1));
    assert_eq!(again.scenario_name, "my-cohort-2");
    Ok(())
}

#[test]
fn provenance_defaults_apply_where_entities_have_none() -> TestResult {
    let (_dir, store) = store();
    let entities = vec![
        json!({"patient_id": "p1"}),
        json!({"patient_id": "p2", "skill_used": "own-skill", "generation_seed": 9}),
    ];
    let request = PersistRequest::new("patients", entities)
        .with_scenario(ScenarioTarget::new_named("prov"))
        .with_provenance(Provenance {
            source_type: Some("generated".into()),
            skill_used: Some("patientsim".into()),
            generation_seed: Some(42),
            ..Provenance::default()
        });
    store.persist_entities(&request)?;
    let loaded = store.load_scenario("prov")?;
    assert_eq!(
        loaded.entities["patients"],
        [
            json!({"patient_id": "p1", "source_type": "generated", "skill_used": "patientsim", "generation_seed": 42}),
            json!({"patient_id": "p2", "source_type": "generated", "skill_used": "own-skill", "generation_seed": 9}),
        ]
    );
    Ok(())
}

#[test]
fn requests_deserialize_from_json() -> TestResult {
    let typed: PersistRequest = serde_json::from_value(json!({
        "entities": {"entity_type": "patient", "entities": [{"id": "p1"}]},
        "scenario": {"existing": "my-scenario"},
        "skill_used": "patientsim"
    }))?;
    assert!(
        matches!(&typed.entities, EntityInput::Typed { entity_type, .. } if entity_type == "patient")
    );
    assert_eq!(typed.scenario, ScenarioTarget::existing("my-scenario"));
    assert_eq!(typed.provenance.skill_used.as_deref(), Some("patientsim"));

    let by_type: PersistRequest = serde_json::from_value(json!({
        "entities": {"patients": [{"id": "p1"}], "claims": []},
        "scenario": {"new": {"context": "medicare claims", "tags": ["a"]}}
    }))?;
    assert!(matches!(&by_type.entities, EntityInput::ByType(map) if map.len() == 2));
    assert!(
        matches!(&by_type.scenario, ScenarioTarget::New { context: Some(c), .. } if c == "medicare claims")
    );

    let minimal: PersistRequest = serde_json::from_value(json!({"entities": {"vitals": []}}))?;
    assert_eq!(minimal.scenario, ScenarioTarget::default());
    Ok(())
}

#[test]
fn request_level_errors() -> TestResult {
    let (_dir, store) = store();
    let check = |request: PersistRequest, expected: &str| match store.persist_entities(&request) {
        Err(e) => assert_eq!(e.to_string(), expected),
        Ok(r) => panic!("expected an error, got {r:?}"),
    };
    check(
        PersistRequest::new("patients", vec![]),
        "invalid request: there are no entities to persist",
    );
    let mut map = Map::new();
    map.insert(
        "labs".into(),
        json!([{"lab_result_id": "l1", "patient_id": "p", "loinc_code": "x"}]),
    );
    map.insert("lab_results".into(), json!([]));
    check(
        PersistRequest::by_type(map),
        "invalid request: 'labs' and 'lab_results' are the same entity type (lab_results); send them in one list",
    );
    let mut map = Map::new();
    map.insert("patients".into(), json!({"patient_id": "p1"}));
    check(
        PersistRequest::by_type(map),
        "entities of type 'patients' must be a JSON array of objects, got an object",
    );
    // Unknown types are reported before any entity is looked at.
    let mut map = Map::new();
    map.insert("patients".into(), json!(["not an object"]));
    map.insert("spaceships".into(), json!([]));
    match store.persist_entities(&PersistRequest::by_type(map)) {
        Err(Error::UnknownEntityType { given, valid }) => {
            assert_eq!(given, "spaceships");
            assert_eq!(valid.len(), healthsim_schema::ENTITY_TYPES.len());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(table_counts(&store)["scenarios"], 0);
    Ok(())
}

/// The result stays small whatever the batch size; a big batch is one call.
#[test]
fn big_batches_persist_in_one_call_with_a_small_result() -> TestResult {
    let (_dir, store) = store();
    let scale: usize = std::env::var("HEALTHSIM_TEST_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let n = 20_000 * scale;
    let small = persist_new(&store, "small", "patients", patients(10));
    let big = persist_new(&store, "big", "patients", patients(n));
    assert_eq!(
        big.counts["patients"],
        TypeCounts {
            inserted: n as u64,
            updated: 0
        }
    );
    assert!(!big.entity_ids.is_empty() && big.entity_ids.len() <= MAX_IDS_IN_RESULT);
    assert!(
        big.entity_ids
            .iter()
            .enumerate()
            .all(|(i, id)| *id == format!("p{i}")),
        "the first ids, in order"
    );
    assert!(big.ids_truncated);
    assert!(!small.ids_truncated);
    assert_eq!(big.summary.total_entities, n as u64);

    let small_size = serde_json::to_string(&small)?.len();
    let big_size = serde_json::to_string(&big)?.len();
    let big_tokens = healthsim_summary::count_tokens(&serde_json::to_string(&big)?);
    assert!(big_tokens <= RESULT_TOKEN_BUDGET, "{big_tokens} tokens");
    assert!(
        big_size < 8_000,
        "persist result of {n} entities is {big_size} bytes"
    );
    assert!(big_size < small_size + 2_000, "{big_size} vs {small_size}");

    // Re-persisting the whole batch updates every row.
    let again = persist_into(&store, "big", "patients", patients(n));
    assert_eq!(
        again.counts["patients"],
        TypeCounts {
            inserted: 0,
            updated: n as u64
        }
    );
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn long_generated_ids_are_listed_only_as_far_as_the_token_budget_allows() -> TestResult {
    let (_dir, store) = store();
    // Entities without a primary key get UUIDs (about 20 tokens each).
    let batch: Vec<Json> = (0..50)
        .map(|i| json!({"given_name": format!("G{i}")}))
        .collect();
    let result = persist_new(&store, "uuids", "patients", batch);
    let tokens = healthsim_summary::count_tokens(&serde_json::to_string(&result)?);
    assert!(tokens <= RESULT_TOKEN_BUDGET, "{tokens} tokens");
    assert!(result.ids_truncated);
    assert!(!result.entity_ids.is_empty() && result.entity_ids.len() < 50);
    assert!(result
        .entity_ids
        .iter()
        .all(|id| uuid::Uuid::parse_str(id).is_ok()));
    let loaded = store.load_scenario("uuids")?;
    for id in &result.entity_ids {
        assert!(loaded.entities["patients"]
            .iter()
            .any(|p| p["patient_id"] == *id.as_str()));
    }
    Ok(())
}

/// The manifest (`scenario_entities`) equals `count(*)` per table after each kind of write,
/// including failed ones.
#[test]
fn the_manifest_matches_the_tables_after_every_operation() -> TestResult {
    let (_dir, store) = store();
    type Step<'a> = (&'a str, Box<dyn Fn() -> Result<(), Error> + 'a>);
    let steps: Vec<Step> = vec![
        (
            "new",
            Box::new(|| {
                store
                    .persist_entities(
                        &PersistRequest::new("patients", patients(5))
                            .with_scenario(ScenarioTarget::new_named("m")),
                    )
                    .map(drop)
            }),
        ),
        (
            "upsert",
            Box::new(|| {
                store
                    .persist_entities(
                        &PersistRequest::new("patients", patients(8)).into_existing("m"),
                    )
                    .map(drop)
            }),
        ),
        (
            "other type",
            Box::new(|| {
                store
                    .persist_entities(
                        &PersistRequest::new("vitals", vec![json!({"patient_id": "p1"})])
                            .into_existing("m"),
                    )
                    .map(drop)
            }),
        ),
        (
            "failed",
            Box::new(|| {
                let mut bad = patients(3);
                bad[2]["gender"] = json!({"not": "text"});
                assert!(store
                    .persist_entities(&PersistRequest::new("patients", bad).into_existing("m"))
                    .is_err());
                Ok(())
            }),
        ),
        (
            "second scenario",
            Box::new(|| {
                store
                    .persist_entities(
                        &PersistRequest::new("patients", patients(2))
                            .with_scenario(ScenarioTarget::new_named("n")),
                    )
                    .map(drop)
            }),
        ),
        (
            "save overwrite",
            Box::new(|| {
                let mut map = Map::new();
                map.insert(
                    "encounters".into(),
                    json!([{"encounter_id": "e1", "patient_id": "p1"}]),
                );
                store.save_scenario("n", &map, true).map(drop)
            }),
        ),
        (
            "delete",
            Box::new(|| store.delete_scenario("m", true).map(drop)),
        ),
    ];
    for (step, run) in steps {
        run()?;
        assert_manifest_consistent(&store);
        eprintln!("manifest consistent after: {step}");
    }
    assert_eq!(table_counts(&store)["scenario_entities"], 1);
    Ok(())
}

// Regression: in a scenario holding ~20 types the summary alone filled the 500-token budget,
// so persisting one more entity returned `entity_ids: []`.
#[test]
fn a_result_keeps_room_for_ids_in_a_scenario_of_many_types() -> TestResult {
    let (_dir, store) = store();
    let mut by_type = Map::new();
    for t in healthsim_schema::ENTITY_TYPES {
        let entities: Vec<Json> = (0..3).map(|i| common::full_entity(t, i)).collect();
        by_type.insert(t.table.to_string(), Json::Array(entities));
    }
    let request =
        PersistRequest::by_type(by_type).with_scenario(ScenarioTarget::new_named("all-types"));
    store.persist_entities(&request)?;
    let ids: Vec<Json> = (0..12)
        .map(|i| json!({"patient_id": format!("extra-patient-{i:03}")}))
        .collect();
    let result = persist_into(&store, "all-types", "patients", ids);
    let tokens = healthsim_summary::count_tokens(&serde_json::to_string(&result)?);
    assert!(tokens <= RESULT_TOKEN_BUDGET, "{tokens} tokens");
    assert!(
        result.entity_ids.len() >= healthsim_persist::MIN_IDS_IN_RESULT,
        "only {} ids listed",
        result.entity_ids.len()
    );
    assert_eq!(
        result.summary.entity_counts.len(),
        healthsim_schema::ENTITY_TYPES.len()
    );
    Ok(())
}

/// Agents spell one gender `F`, `female` and `Female`, one state `AZ`, `az` and `Arizona`: the
/// summary shows one group each, and every entity keeps the spelling it was given (only when it
/// differed) in `extra.normalized_from`.
#[test]
fn one_meaning_is_one_group_in_the_summary() -> TestResult {
    let (_dir, store) = store();
    let given = [
        ("F", "AZ"),
        ("female", "Arizona"),
        ("Female", "az"),
        ("male", "AZ"),
    ];
    let entities = given
        .iter()
        .enumerate()
        .map(|(i, (gender, state))| json!({"patient_id": format!("p{i}"), "gender": gender, "state": state}))
        .collect();
    let result = persist_new(&store, "spellings", "patients", entities);
    let statistics = &result.summary.statistics["patients"];
    assert_eq!(statistics["gender"], json!("F 75%; M 25%"));
    assert_eq!(statistics["top_states"], json!("AZ 100%"));

    let loaded = store.load_scenario("spellings")?;
    let stored: Vec<(Json, Json, Json)> = loaded.entities["patients"]
        .iter()
        .map(|p| {
            (
                p["gender"].clone(),
                p["state"].clone(),
                p["normalized_from"].clone(),
            )
        })
        .collect();
    assert_eq!(
        stored,
        [
            (json!("F"), json!("AZ"), Json::Null),
            (
                json!("F"),
                json!("AZ"),
                json!({"gender": "female", "state": "Arizona"})
            ),
            (
                json!("F"),
                json!("AZ"),
                json!({"gender": "Female", "state": "az"})
            ),
            (json!("M"), json!("AZ"), json!({"gender": "male"})),
        ]
    );
    Ok(())
}
