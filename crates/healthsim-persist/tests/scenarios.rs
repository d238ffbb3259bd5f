//! Scenario lifecycle: resolve, list, rename, delete, tags.

mod common;

use common::{assert_manifest_consistent, patients, persist_new, store, table_counts, TestResult};
use healthsim_persist::{Error, ListOptions, PersistRequest, ScenarioTarget, SortBy, Store};
use serde_json::json;

/// Three scenarios made one after the other: (diabetes-cohort 3 patients, diabetes-trial 1,
/// asthma-kids 2); returns their ids.
fn three(store: &Store) -> [String; 3] {
    let a = persist_new(store, "diabetes-cohort", "patients", patients(3));
    let b = persist_new(
        store,
        "diabetes-trial",
        "subjects",
        vec![json!({"subject_id": "s1", "study_id": "st1"})],
    );
    let c = persist_new(store, "asthma-kids", "patients", patients(2));
    [a.scenario_id, b.scenario_id, c.scenario_id]
}

#[test]
fn resolves_by_id_name_case_and_substring() -> TestResult {
    let (_dir, store) = store();
    let [cohort, trial, kids] = three(&store);
    let check = |given: &str, expected: Result<&str, &str>| {
        let got = store.resolve_scenario(given);
        match (got, expected) {
            (Ok(s), Ok(id)) => assert_eq!(s.scenario_id, id, "{given}"),
            (Err(e), Err(message)) => assert_eq!(e.to_string(), message, "{given}"),
            (got, expected) => panic!("{given}: got {got:?}, expected {expected:?}"),
        }
    };
    check(&cohort, Ok(&cohort));
    check("diabetes-trial", Ok(&trial));
    check("ASTHMA-Kids", Ok(&kids));
    check("kids", Ok(&kids));
    check("TRIAL", Ok(&trial));
    check(
        "diabetes",
        Err("'diabetes' matches several scenarios: diabetes-cohort, diabetes-trial; give the full name or the id"),
    );
    check(
        "zzz",
        Err("no scenario matches 'zzz'; list the scenarios to see their names"),
    );
    check(
        "  ",
        Err("no scenario matches '  '; list the scenarios to see their names"),
    );
    // An exact name wins over names that contain it.
    persist_new(&store, "asthma", "patients", patients(1));
    assert_eq!(store.resolve_scenario("asthma")?.name, "asthma");
    match store.resolve_scenario("asthma-k") {
        Ok(s) => assert_eq!(s.scenario_id, kids),
        Err(e) => panic!("{e}"),
    }
    Ok(())
}

#[test]
fn lists_with_sort_filter_tag_limit_and_counts() -> TestResult {
    let (_dir, store) = store();
    let [_, trial, _] = three(&store);
    store.add_tags("asthma-kids", &["Pediatric".into(), "respiratory".into()])?;
    store.add_tags("diabetes-cohort", &["pediatric".into()])?;
    let names = |options: ListOptions| -> Vec<String> {
        store
            .list_scenarios(&options)
            .expect("list")
            .into_iter()
            .map(|s| s.name)
            .collect()
    };
    // Tagging updated asthma-kids, then diabetes-cohort.
    assert_eq!(
        names(ListOptions::default()),
        ["diabetes-cohort", "asthma-kids", "diabetes-trial"]
    );
    assert_eq!(
        names(ListOptions {
            sort: SortBy::Created,
            ..Default::default()
        }),
        ["asthma-kids", "diabetes-trial", "diabetes-cohort"]
    );
    assert_eq!(
        names(ListOptions {
            sort: SortBy::Name,
            ..Default::default()
        }),
        ["asthma-kids", "diabetes-cohort", "diabetes-trial"]
    );
    assert_eq!(
        names(ListOptions {
            filter: Some("DIABETES".into()),
            sort: SortBy::Name,
            ..Default::default()
        }),
        ["diabetes-cohort", "diabetes-trial"]
    );
    assert_eq!(
        names(ListOptions {
            tag: Some(" PEDIATRIC".into()),
            sort: SortBy::Name,
            ..Default::default()
        }),
        ["asthma-kids", "diabetes-cohort"]
    );
    assert_eq!(
        names(ListOptions {
            sort: SortBy::Name,
            limit: 2,
            ..Default::default()
        }),
        ["asthma-kids", "diabetes-cohort"]
    );
    assert!(names(ListOptions {
        filter: Some("nothing".into()),
        ..Default::default()
    })
    .is_empty());

    let all = store.list_scenarios(&ListOptions {
        sort: SortBy::Name,
        ..Default::default()
    })?;
    let summary: Vec<(&str, u64, Vec<String>)> = all
        .iter()
        .map(|s| (s.name.as_str(), s.entity_count, s.tags.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "asthma-kids",
                2,
                vec!["pediatric".to_string(), "respiratory".to_string()]
            ),
            ("diabetes-cohort", 3, vec!["pediatric".to_string()]),
            ("diabetes-trial", 1, vec![]),
        ]
    );
    assert_eq!(all[2].scenario_id, trial);
    assert!(all[0].created_at.ends_with('Z') && all[0].updated_at >= all[0].created_at);
    Ok(())
}

#[test]
fn rename_sanitizes_keeps_the_id_and_stays_unique() -> TestResult {
    let (_dir, store) = store();
    let [cohort, _, kids] = three(&store);
    let renamed = store.rename_scenario("diabetes-cohort", "Type 2 Diabetes!")?;
    assert_eq!(
        (renamed.scenario_id.as_str(), renamed.name.as_str()),
        (cohort.as_str(), "type-2-diabetes")
    );
    let clash = store.rename_scenario("asthma-kids", "type-2-diabetes")?;
    assert_eq!(
        (clash.scenario_id.as_str(), clash.name.as_str()),
        (kids.as_str(), "type-2-diabetes-2")
    );
    let same = store.rename_scenario("type-2-diabetes", "type-2-diabetes")?;
    assert_eq!(
        same.name, "type-2-diabetes",
        "renaming to its own name keeps it"
    );
    assert!(matches!(
        store.rename_scenario("type-2-diabetes", "!!!"),
        Err(Error::Naming(_))
    ));
    assert_eq!(store.load_scenario(&cohort)?.entities["patients"].len(), 3);
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn delete_requires_confirmation_and_removes_exactly_one_scenario() -> TestResult {
    let (_dir, store) = store();
    let [cohort, _, _] = three(&store);
    // The same ids in another scenario must survive.
    persist_new(&store, "twin", "patients", patients(3));
    persist_new(
        &store,
        "diabetes-cohort-extra",
        "vitals",
        vec![json!({"vital_id": "v", "patient_id": "p0"})],
    );
    store.add_tags("diabetes-cohort", &["a".into(), "b".into()])?;
    let mut map = serde_json::Map::new();
    map.insert(
        "encounters".into(),
        json!([{"encounter_id": "e1", "patient_id": "p0"}]),
    );
    store.persist_entities(
        &healthsim_persist::PersistRequest::by_type(map).into_existing(&cohort),
    )?;
    let before = table_counts(&store);

    match store.delete_scenario(&cohort, false) {
        Err(Error::ConfirmationRequired {
            scenario_id,
            name,
            entity_count,
        }) => {
            assert_eq!(
                (scenario_id, name.as_str(), entity_count),
                (cohort.clone(), "diabetes-cohort", 4)
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        table_counts(&store),
        before,
        "nothing deleted without confirmation"
    );

    let deleted = store.delete_scenario("diabetes-cohort", true)?;
    assert_eq!(deleted.scenario_id, cohort);
    assert_eq!(
        deleted.deleted_counts,
        [("encounters".to_string(), 1), ("patients".to_string(), 3)]
            .into_iter()
            .collect()
    );
    assert_eq!(deleted.tags_removed, 2);
    let after = table_counts(&store);
    assert_eq!(after["patients"], before["patients"] - 3);
    assert_eq!(after["encounters"], before["encounters"] - 1);
    assert_eq!(after["vitals"], before["vitals"]);
    assert_eq!(after["scenarios"], before["scenarios"] - 1);
    assert_eq!(after["scenario_tags"], before["scenario_tags"] - 2);
    assert!(matches!(
        store.resolve_scenario(&cohort),
        Err(Error::ScenarioNotFound { .. })
    ));
    assert_eq!(store.load_scenario("twin")?.entities["patients"].len(), 3);
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn tags_are_normalized_and_validated() -> TestResult {
    let (_dir, store) = store();
    three(&store);
    let tags = store.add_tags(
        "asthma-kids",
        &[
            " Pediatric ".into(),
            "pediatric".into(),
            "Ünïcode Tag".into(),
        ],
    )?;
    assert_eq!(tags, ["pediatric", "ünïcode tag"]);
    store.add_tags("diabetes-cohort", &["PEDIATRIC".into(), "chronic".into()])?;
    assert_eq!(
        store.scenario_tags("diabetes-cohort")?,
        ["chronic", "pediatric"]
    );

    let all: Vec<(String, u64)> = store
        .all_tags()?
        .into_iter()
        .map(|t| (t.tag, t.count))
        .collect();
    assert_eq!(
        all,
        [
            ("pediatric".to_string(), 2),
            ("chronic".to_string(), 1),
            ("ünïcode tag".to_string(), 1)
        ]
    );
    let by_tag: Vec<String> = store
        .scenarios_by_tag("Pediatric")?
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(by_tag, ["diabetes-cohort", "asthma-kids"]);

    assert_eq!(
        store.remove_tags("asthma-kids", &["PEDIATRIC".into(), "absent".into()])?,
        ["ünïcode tag"]
    );
    assert_eq!(store.scenarios_by_tag("pediatric")?.len(), 1);

    let check_invalid = |tag: &str, expected: &str| match store
        .add_tags("asthma-kids", &["ok".into(), tag.into()])
    {
        Err(e @ Error::InvalidTag { .. }) => assert_eq!(e.to_string(), expected),
        other => panic!("{tag:?}: {other:?}"),
    };
    check_invalid("   ", "invalid tag \"   \": a tag must not be empty");
    check_invalid(
        "a\tb",
        "invalid tag \"a\\tb\": a tag must not contain control characters",
    );
    check_invalid(
        &"x".repeat(65),
        &format!(
            "invalid tag \"{}\": a tag has at most 64 characters",
            "x".repeat(65)
        ),
    );
    assert_eq!(
        store.scenario_tags("asthma-kids")?,
        ["ünïcode tag"],
        "a rejected call adds nothing"
    );
    assert!(matches!(
        store.scenarios_by_tag(""),
        Err(Error::InvalidTag { .. })
    ));
    Ok(())
}

#[test]
fn summary_and_samples_resolve_names() -> TestResult {
    let (_dir, store) = store();
    three(&store);
    let summary = store.scenario_summary("kids", &healthsim_persist::SummaryOptions::default())?;
    assert_eq!(summary.name, "asthma-kids");
    assert_eq!(summary.entity_counts["patients"], 2);
    let samples = store.entity_samples(
        "cohort",
        "patient",
        2,
        healthsim_persist::SampleStrategy::Diverse,
    )?;
    assert_eq!(samples.len(), 2);
    assert!(matches!(
        store.entity_samples(
            "cohort",
            "spaceship",
            2,
            healthsim_persist::SampleStrategy::Random
        ),
        Err(Error::UnknownEntityType { .. })
    ));
    Ok(())
}

#[test]
fn queries_run_scoped_in_the_sandbox() -> TestResult {
    let (_dir, store) = store();
    three(&store);
    let options = healthsim_persist::QueryOptions::default();
    let page = store.query_scenario(
        "kids",
        "SELECT patient_id FROM patients ORDER BY patient_id",
        &options,
    )?;
    assert_eq!(page.total_count, 2, "only the scenario's rows");
    assert_eq!(page.results[0]["patient_id"], "p0");
    let refused = store.query_scenario("kids", "DELETE FROM patients", &options);
    assert!(matches!(refused, Err(Error::Query(_))), "{refused:?}");
    // Writes after a query reopen the writer; the data is intact.
    persist_new(&store, "after-query", "patients", patients(1));
    assert_eq!(
        store
            .query_scenario("cohort", "SELECT count(*) AS n FROM patients", &options)?
            .results[0]["n"],
        3
    );
    assert_manifest_consistent(&store);
    Ok(())
}

// unique_name now loads the taken `-N` names in one query after the first clash instead of one
// lookup per candidate; the names it picks must stay the same.
#[test]
fn many_scenarios_with_one_name_get_consecutive_counters() -> TestResult {
    let (_dir, store) = store();
    let long = "n".repeat(200);
    for base in ["same", "same-20240101", long.as_str()] {
        let mut names = Vec::new();
        for _ in 0..12 {
            let persisted = store.persist_entities(
                &PersistRequest::new("patients", patients(1)).with_scenario(ScenarioTarget::New {
                    name: Some(base.to_string()),
                    context: None,
                    description: None,
                    tags: vec![],
                }),
            )?;
            names.push(store.resolve_scenario(&persisted.scenario_id)?.name);
        }
        let first = names[0].clone();
        let mut expected = vec![first.clone()];
        for n in 2..=12 {
            // The naming crate's own rule, checked against an in-memory set of the same names.
            let taken: std::collections::HashSet<&String> = expected.iter().collect();
            let next = healthsim_naming::unique_name(base, |c| taken.contains(&c.to_string()))?;
            assert!(next.ends_with(&format!("-{n}")), "{next}");
            expected.push(next);
        }
        assert_eq!(names, expected, "{base}");
    }
    // Renaming to the taken base: the scenario's own name counts as free, and is the first one.
    let renamed = store.rename_scenario("same-5", "same")?;
    assert_eq!(renamed.name, "same-5");
    Ok(())
}
