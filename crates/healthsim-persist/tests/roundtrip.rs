//! Persist → load round trips: every entity type, aliases, save/load, generated entities.

mod common;

use common::{assert_manifest_consistent, full_entity, persist_new, sorted_by, store, TestResult};
use healthsim_persist::{Error, PersistRequest, ScenarioTarget, LOAD_LIMIT};
use healthsim_schema::ENTITY_TYPES;
use proptest::prelude::*;
use serde_json::{json, Map, Value as Json};

/// Every entity type of the registry: an entity with a value for every column (and an unknown field
/// and provenance) loads back equal.
#[test]
fn every_entity_type_round_trips() -> TestResult {
    let (_dir, store) = store();
    for t in ENTITY_TYPES {
        let mut entities = Vec::new();
        for i in 0..2 {
            let mut entity = full_entity(t, i);
            entity["note_without_column"] = json!({"kept": [1, "two"]});
            entity["skill_used"] = json!("roundtrip-test");
            entity["generation_seed"] = json!(7);
            entities.push(entity);
        }
        let result = persist_new(
            &store,
            &format!("all-{}", t.table),
            t.table,
            entities.clone(),
        );
        assert_eq!(result.counts[t.table].inserted, 2, "{}", t.table);
        let loaded = store.load_scenario(&result.scenario_id)?;
        assert_eq!(loaded.entities.len(), 1, "{}", t.table);
        assert_eq!(
            loaded.entities[t.table],
            sorted_by(entities, t.primary_key),
            "{} round trip",
            t.table
        );
    }
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn aliases_resolve_to_their_tables() -> TestResult {
    let (_dir, store) = store();
    let check = |given: &str, table: &str| -> TestResult {
        let t = healthsim_schema::by_table(table).ok_or("table")?;
        let result = persist_new(&store, given, given, vec![full_entity(t, 0)]);
        assert_eq!(result.counts.keys().collect::<Vec<_>>(), [table], "{given}");
        Ok(())
    };
    check("vital_signs", "vitals")?;
    check("labs", "lab_results")?;
    check("condition", "diagnoses")?;
    check("Patient", "patients")?;
    check("rx-claims", "pharmacy_claims")?;
    assert_manifest_consistent(&store);
    Ok(())
}

fn canonical_scenario() -> Map<String, Json> {
    let mut map = Map::new();
    map.insert(
        "patients".into(),
        json!([
            {"patient_id": "p1", "given_name": "Ana", "family_name": "Diaz", "birth_date": "1950-06-01",
             "gender": "F", "state": "AZ", "favorite_color": "teal"},
            {"patient_id": "p2", "given_name": "Bo", "birth_date": "1980-01-15", "gender": "M"}
        ]),
    );
    map.insert(
        "encounters".into(),
        json!([
            {"encounter_id": "e1", "patient_id": "p1", "encounter_class": "inpatient",
             "start_datetime": "2024-03-01T08:30:00Z", "end_datetime": "2024-03-04T12:00:00Z"}
        ]),
    );
    map.insert(
        "claims".into(),
        json!([
            {"claim_id": "c1", "patient_id": "p1", "encounter_id": "e1", "claim_type": "institutional",
             "total_billed": 15230.5, "total_paid": 9800.25, "other_diagnoses": ["E11.9", "I10"],
             "source_system": "837I"}
        ]),
    );
    map
}

#[test]
fn save_then_load_is_lossless() -> TestResult {
    let (_dir, store) = store();
    let saved = canonical_scenario();
    let result = store.save_scenario("My Saved Cohort", &saved, false)?;
    assert_eq!(result.scenario_name, "my-saved-cohort");
    assert!(result.is_new_scenario);
    assert_eq!(result.total_persisted, 4);

    let loaded = store.load_scenario("my-saved-cohort")?;
    assert_eq!(loaded.scenario_id, result.scenario_id);
    let loaded_map: Map<String, Json> = loaded
        .entities
        .into_iter()
        .map(|(k, v)| (k, Json::Array(v)))
        .collect();
    assert_eq!(loaded_map, saved);
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn save_refuses_a_taken_name_unless_overwrite() -> TestResult {
    let (_dir, store) = store();
    let first = store.save_scenario("cohort", &canonical_scenario(), false)?;
    store.add_tags("cohort", &["keep-me".into()])?;
    let refused = store.save_scenario("cohort", &canonical_scenario(), false);
    assert!(
        matches!(refused, Err(Error::ScenarioExists { ref name }) if name == "cohort"),
        "{refused:?}"
    );

    let mut replacement = Map::new();
    replacement.insert(
        "vitals".into(),
        json!([{"vital_id": "v1", "patient_id": "p9", "bmi": 31.5}]),
    );
    let second = store.save_scenario("cohort", &replacement, true)?;
    assert_eq!(
        second.scenario_id, first.scenario_id,
        "overwrite keeps the id"
    );
    assert!(!second.is_new_scenario);
    let loaded = store.load_scenario("cohort")?;
    assert_eq!(
        loaded.entities.keys().collect::<Vec<_>>(),
        ["vitals"],
        "old entities are gone"
    );
    assert_eq!(loaded.tags, ["keep-me"], "overwrite keeps the tags");
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn load_refuses_scenarios_over_the_limit() -> TestResult {
    let (_dir, store) = store();
    let n = usize::try_from(LOAD_LIMIT)? + 1;
    let vitals: Vec<Json> = (0..n)
        .map(|i| json!({"vital_id": format!("v{i}"), "patient_id": "p"}))
        .collect();
    persist_new(&store, "big", "vitals", vitals);
    let refused = store.load_scenario("big");
    assert!(
        matches!(refused, Err(Error::TooLargeToLoad { entities, limit, .. }) if entities == n as u64 && limit == LOAD_LIMIT),
        "{refused:?}"
    );
    insta::assert_snapshot!(
        "too_large_to_load",
        refused.err().map(|e| e.to_string()).unwrap_or_default()
    );

    persist_new(
        &store,
        "small",
        "vitals",
        vec![json!({"vital_id": "v", "patient_id": "p"})],
    );
    assert_eq!(store.load_scenario("small")?.entities["vitals"].len(), 1);
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Property: generated canonical patients and claims round-trip.

fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 '.,éü-]{1,24}"
}

fn patient() -> impl Strategy<Value = Json> {
    (
        "[a-z0-9]{1,12}",
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of((1900i32..2030, 1u32..=12, 1u32..=28)),
        proptest::option::of(prop_oneof![Just("F"), Just("M"), Just("O")]),
        proptest::option::of(text()),
    )
        .prop_map(|(id, given, family, birth, gender, unknown)| {
            let mut object = Map::new();
            object.insert("patient_id".into(), json!(id));
            if let Some(given) = given {
                object.insert("given_name".into(), json!(given));
            }
            if let Some(family) = family {
                object.insert("family_name".into(), json!(family));
            }
            if let Some((y, m, d)) = birth {
                object.insert("birth_date".into(), json!(format!("{y:04}-{m:02}-{d:02}")));
            }
            if let Some(gender) = gender {
                object.insert("gender".into(), json!(gender));
            }
            if let Some(unknown) = unknown {
                object.insert("x_unknown".into(), json!({"text": unknown}));
            }
            Json::Object(object)
        })
}

fn claim() -> impl Strategy<Value = Json> {
    (
        "[a-z0-9]{1,12}",
        proptest::option::of(-99_999_999i64..99_999_999),
        proptest::option::of((0i64..86_400 * 365 * 30, proptest::bool::ANY)),
        proptest::option::of(proptest::collection::vec("[A-Z][0-9]{2}\\.[0-9]", 0..4)),
    )
        .prop_map(|(id, cents, service, diagnoses)| {
            let mut object = Map::new();
            object.insert("claim_id".into(), json!(id));
            if let Some(cents) = cents {
                // A correctly rounded quotient is the double nearest to the decimal amount, so
                // it prints with at most two decimals and comes back equal.
                let amount = cents as f64 / 100.0;
                object.insert("total_billed".into(), json!(amount));
            }
            if let Some((seconds, as_date)) = service {
                let at = chrono::DateTime::from_timestamp(1_000_000_000 + seconds, 0)
                    .unwrap_or_default();
                if as_date {
                    object.insert(
                        "service_date".into(),
                        json!(at.format("%Y-%m-%d").to_string()),
                    );
                } else {
                    object.insert(
                        "received_date".into(),
                        json!(at.format("%Y-%m-%d").to_string()),
                    );
                }
            }
            if let Some(diagnoses) = diagnoses {
                object.insert("other_diagnoses".into(), json!(diagnoses));
            }
            Json::Object(object)
        })
}

fn unique_by(items: Vec<Json>, key: &str) -> Vec<Json> {
    let mut seen = std::collections::HashSet::new();
    items
        .into_iter()
        .filter(|e| seen.insert(e[key].to_string()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::store_cases(24), ..ProptestConfig::default() })]

    #[test]
    fn generated_entities_round_trip(
        patients in proptest::collection::vec(patient(), 1..8),
        claims in proptest::collection::vec(claim(), 0..8),
    ) {
        let (_dir, store) = store();
        let patients = unique_by(patients, "patient_id");
        let claims = unique_by(claims, "claim_id");
        let mut map = Map::new();
        map.insert("patients".into(), Json::Array(patients.clone()));
        if !claims.is_empty() {
            map.insert("claims".into(), Json::Array(claims.clone()));
        }
        let request = PersistRequest::by_type(map).with_scenario(ScenarioTarget::new_named("prop"));
        let result = store.persist_entities(&request).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let loaded = store.load_scenario(&result.scenario_id).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&loaded.entities["patients"], &sorted_by(patients, "patient_id"));
        if !claims.is_empty() {
            prop_assert_eq!(&loaded.entities["claims"], &sorted_by(claims, "claim_id"));
        }
    }
}
