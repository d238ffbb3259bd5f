//! Clone and merge: referential integrity, counts, conflict strategies, rename scheme, errors.

mod common;
mod transfer_common;

use std::collections::{BTreeMap, BTreeSet};

use common::{assert_manifest_consistent, patients, persist_new, store, store_state, TestResult};
use healthsim_persist::{
    CloneOptions, Error, MergeOptions, MergeResult, OnConflict, PersistRequest, ScenarioTarget,
    Store, TransferError,
};
use proptest::prelude::*;
use serde_json::json;
use transfer_common::{
    contents, cross_origin_references, dangling_references, ids, ids_with_origin, persist_shape,
    row_counts, Shape,
};

fn merge(store: &Store, sources: &[&str], on_conflict: OnConflict) -> MergeResult {
    store
        .merge_scenarios(
            sources,
            &MergeOptions {
                on_conflict,
                ..MergeOptions::default()
            },
        )
        .expect("merge")
}

/// The checks every merge of sources `a` then `b` must pass.
fn check_merge(store: &Store, a: &str, b: &str, on_conflict: OnConflict) {
    let result = merge(store, &[a, b], on_conflict);
    assert_manifest_consistent(store);
    let merged = &result.scenario_id;
    assert_eq!(
        dangling_references(store, merged),
        Vec::<String>::new(),
        "{on_conflict:?}: every reference resolves inside the merged scenario"
    );
    assert_eq!(result.counts, row_counts(store, merged), "{on_conflict:?}");
    // The tables of either source (the counts above show the result has no others).
    let tables: BTreeSet<String> = row_counts(store, a)
        .into_keys()
        .chain(row_counts(store, b).into_keys())
        .collect();
    assert!(result.counts.keys().all(|t| tables.contains(t)));
    for table in &tables {
        let t = healthsim_schema::by_table(table).expect("a registry table");
        let (ids_a, ids_b) = (ids(store, a, t.table), ids(store, b, t.table));
        let shared = ids_a.intersection(&ids_b).count() as u64;
        let result_rows = ids_with_origin(store, merged, t.table);
        assert_eq!(
            result.conflicts.get(t.table).copied().unwrap_or(0),
            shared,
            "{on_conflict:?} {}: conflicts",
            t.table
        );
        match on_conflict {
            OnConflict::Skip | OnConflict::Overwrite => {
                let union: BTreeSet<String> = ids_a.union(&ids_b).cloned().collect();
                let got: BTreeSet<String> = result_rows.keys().cloned().collect();
                assert_eq!(got, union, "{on_conflict:?} {}: the union of ids", t.table);
                let winner = if on_conflict == OnConflict::Skip {
                    "A"
                } else {
                    "B"
                };
                for (id, origin) in &result_rows {
                    let expected = match (ids_a.contains(id), ids_b.contains(id)) {
                        (true, true) => winner,
                        (true, false) => "A",
                        _ => "B",
                    };
                    assert_eq!(
                        origin.as_deref(),
                        Some(expected),
                        "{on_conflict:?} {}.{id}",
                        t.table
                    );
                }
            }
            OnConflict::Rename => {
                assert_eq!(
                    result_rows.len(),
                    ids_a.len() + ids_b.len(),
                    "rename {}: every entity is kept",
                    t.table
                );
                for id in &ids_a {
                    assert_eq!(
                        result_rows.get(id),
                        Some(&Some("A".to_string())),
                        "rename keeps the first source's ids"
                    );
                }
            }
        }
    }
    if on_conflict == OnConflict::Rename {
        assert_eq!(
            cross_origin_references(store, merged),
            Vec::<String>::new(),
            "rename: every reference points at an entity of its own source"
        );
    }
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        (
            0usize..4,
            1usize..5,
            0usize..5,
            0usize..5,
            1usize..4,
            0usize..5,
        ),
        (
            0usize..3,
            0usize..4,
            0usize..4,
            1usize..3,
            0usize..4,
            0usize..4,
            0usize..7,
        ),
    )
        .prop_map(
            |(
                (offset, patients, encounters, diagnoses, members, claims),
                (
                    lines_per_claim,
                    rx_members,
                    prescriptions,
                    studies,
                    subjects,
                    adverse_events,
                    geos,
                ),
            )| Shape {
                offset,
                patients,
                encounters,
                diagnoses,
                members,
                claims,
                lines_per_claim,
                rx_members,
                prescriptions,
                studies,
                subjects,
                adverse_events,
                geos,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::store_cases(12), ..ProptestConfig::default() })]

    /// Clone and every merge strategy keep every reference resolvable inside the result, and
    /// the counts add up: skip and overwrite give the union of ids, rename the sum.
    #[test]
    fn clone_and_merges_keep_references_and_counts(a in shape(), b in shape()) {
        let (_dir, store) = store();
        let id_a = persist_shape(&store, "source-a", &a, "A");
        let id_b = persist_shape(&store, "source-b", &b, "B");

        let copy = store.clone_scenario("source-a", &CloneOptions::default()).expect("clone");
        assert_manifest_consistent(&store);
        prop_assert_eq!(dangling_references(&store, &copy.scenario_id), Vec::<String>::new());
        prop_assert_eq!(contents(&store, &copy.scenario_id), contents(&store, &id_a));
        prop_assert_eq!(&copy.counts, &row_counts(&store, &id_a));

        for on_conflict in [OnConflict::Skip, OnConflict::Overwrite, OnConflict::Rename] {
            check_merge(&store, &id_a, &id_b, on_conflict);
        }
    }
}

#[test]
fn rename_merge_of_identical_ids_doubles_and_keeps_each_source_together() -> TestResult {
    let (_dir, store) = store();
    let shape = Shape::small(0);
    let a = persist_shape(&store, "claims-a", &shape, "A");
    let b = persist_shape(&store, "claims-b", &shape, "B");
    let result = merge(&store, &["claims-a", "claims-b"], OnConflict::Rename);
    assert_manifest_consistent(&store);
    let merged = &result.scenario_id;
    let doubled: BTreeMap<String, u64> = row_counts(&store, &a)
        .into_iter()
        .map(|(table, n)| (table, 2 * n))
        .collect();
    assert_eq!(result.counts, doubled);
    assert_eq!(row_counts(&store, merged), doubled);
    assert_eq!(
        result.conflicts,
        row_counts(&store, &b),
        "every id of b conflicts"
    );
    assert!(dangling_references(&store, merged).is_empty());
    assert!(cross_origin_references(&store, merged).is_empty());

    // Every claim line points at the claim of its own source, by value.
    let lines: Vec<(String, String, String, String)> = store.with_reader(|conn| {
        let mut stmt = conn
            .prepare(
                "SELECT l.claim_line_id, l.claim_id, l.extra->>'origin', c.extra->>'origin'
                 FROM claim_lines l JOIN claims c ON c.scenario_id = l.scenario_id AND c.claim_id = l.claim_id
                 WHERE l.scenario_id = ? ORDER BY 1",
            )
            .expect("prepare");
        let rows = stmt
            .query_map([merged], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .expect("query");
        Ok(rows.collect::<Result<Vec<_>, _>>().expect("rows"))
    })?;
    assert_eq!(lines.len(), 12);
    for (line, claim, line_origin, claim_origin) in &lines {
        assert_eq!(line_origin, claim_origin, "{line} -> {claim}");
        let renamed = line_origin == "B";
        assert_eq!(line.ends_with("~2"), renamed, "{line}");
        assert_eq!(claim.ends_with("~2"), renamed, "{claim}");
    }
    // The self reference of geographic_entities follows too.
    let parents = store.with_reader(|conn| {
        let mut stmt = conn
            .prepare("SELECT geo_id, parent_geo_id FROM geographic_entities WHERE scenario_id = ? AND parent_geo_id IS NOT NULL ORDER BY 1")
            .expect("prepare");
        let rows = stmt.query_map([merged], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).expect("query");
        Ok(rows.collect::<Result<Vec<_>, _>>().expect("rows"))
    })?;
    assert_eq!(
        parents,
        [
            ("g1", "g0"),
            ("g1~2", "g0~2"),
            ("g2", "g0"),
            ("g2~2", "g0~2"),
            ("g3", "g1"),
            ("g3~2", "g1~2"),
        ]
        .map(|(g, p)| (g.to_string(), p.to_string()))
    );
    Ok(())
}

/// The rename scheme, case by case: `{id}~{n}` with n the source's position, `-k` when taken.
#[test]
fn rename_scheme() -> TestResult {
    let (_dir, store) = store();
    let check = |sources: &[&[&str]], expected: &[&str]| {
        let mut names = Vec::new();
        for (i, patient_ids) in sources.iter().enumerate() {
            let name = format!("rename-{}-{i}", expected.join("-").replace('~', "t"));
            let list = patient_ids
                .iter()
                .map(|id| json!({"patient_id": id}))
                .collect();
            persist_new(&store, &name, "patients", list);
            names.push(name);
        }
        let result = merge(
            &store,
            &names.iter().map(String::as_str).collect::<Vec<_>>(),
            OnConflict::Rename,
        );
        let got: Vec<String> = ids(&store, &result.scenario_id, "patients")
            .into_iter()
            .collect();
        let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(got, expected, "{sources:?}");
    };
    check(&[&["p1"], &["p1"]], &["p1", "p1~2"]);
    check(&[&["p1", "p2"], &["p2", "p3"]], &["p1", "p2", "p2~2", "p3"]);
    check(&[&["p1"], &["p1"], &["p1"]], &["p1", "p1~2", "p1~3"]);
    // The first candidate is taken in the target: the next one is used.
    check(&[&["p1", "p1~2"], &["p1"]], &["p1", "p1~2", "p1~2-2"]);
    // ... or in the source itself.
    check(&[&["p1"], &["p1", "p1~2"]], &["p1", "p1~2", "p1~2-2"]);
    // Both candidates taken.
    check(
        &[&["p1", "p1~2", "p1~2-2"], &["p1"]],
        &["p1", "p1~2", "p1~2-2", "p1~2-3"],
    );
    // A renamed id of an earlier source is taken for a later one.
    check(
        &[&["p1"], &["p1~3"], &["p1", "p1~3"]],
        &["p1", "p1~3", "p1~3~3", "p1~3-2"],
    );
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn clone_of_selected_types_only() -> TestResult {
    let (_dir, store) = store();
    let source = persist_shape(&store, "multi", &Shape::small(0), "A");
    store.add_tags("multi", &["diabetes".into(), "az".into()])?;
    let copy = store.clone_scenario(
        "multi",
        &CloneOptions {
            types: Some(vec!["claim".into(), "claim_lines".into(), "Patient".into()]),
            ..CloneOptions::default()
        },
    )?;
    assert_manifest_consistent(&store);
    assert_eq!(copy.name, "multi-copy");
    let expected: BTreeMap<String, u64> = row_counts(&store, &source)
        .into_iter()
        .filter(|(table, _)| ["claims", "claim_lines", "patients"].contains(&table.as_str()))
        .collect();
    assert_eq!(copy.counts, expected);
    assert_eq!(row_counts(&store, &copy.scenario_id), expected);
    assert_eq!(copy.total_entities, 3 + 3 + 6);
    // Tags and description are copied unless given.
    assert_eq!(store.scenario_tags(&copy.scenario_id)?, ["az", "diabetes"]);

    let named = store.clone_scenario(
        &source,
        &CloneOptions {
            new_name: Some("My Copy".into()),
            description: Some("for testing".into()),
            tags: Some(vec!["Copy".into()]),
            types: None,
        },
    )?;
    assert_eq!(named.name, "my-copy");
    assert_eq!(store.scenario_tags("my-copy")?, ["copy"]);
    let info = store
        .list_scenarios(&Default::default())?
        .into_iter()
        .find(|s| s.name == "my-copy")
        .ok_or("listed")?;
    assert_eq!(info.description.as_deref(), Some("for testing"));
    // A second default clone gets a free name.
    let again = store.clone_scenario("multi", &CloneOptions::default())?;
    assert_eq!(again.name, "multi-copy-2");
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn merge_names_tags_and_three_sources() -> TestResult {
    let (_dir, store) = store();
    for (name, tag) in [("north", "az"), ("south", "tx"), ("west", "az")] {
        let request =
            PersistRequest::new("patients", patients(3)).with_scenario(ScenarioTarget::New {
                name: Some(name.into()),
                context: None,
                description: None,
                tags: vec![tag.into()],
            });
        store.persist_entities(&request)?;
    }
    let result = store.merge_scenarios(&["north", "south", "west"], &MergeOptions::default())?;
    assert_eq!(result.name, "north-merged");
    assert_eq!(result.counts["patients"], 3);
    assert_eq!(result.conflicts["patients"], 6);
    assert_eq!(store.scenario_tags(&result.scenario_id)?, ["az", "tx"]);
    let renamed = merge(&store, &["north", "south", "west"], OnConflict::Rename);
    assert_eq!(renamed.name, "north-merged-2");
    assert_eq!(
        (renamed.counts["patients"], renamed.total_conflicts),
        (9, 6)
    );
    let named = store.merge_scenarios(
        &["south", "west"],
        &MergeOptions {
            target_name: Some("South West".into()),
            description: Some("two regions".into()),
            tags: Some(vec!["regions".into()]),
            on_conflict: OnConflict::Overwrite,
        },
    )?;
    assert_eq!(named.name, "south-west");
    assert_eq!(store.scenario_tags("south-west")?, ["regions"]);
    assert_manifest_consistent(&store);
    Ok(())
}

/// Every refused clone or merge names its reason as a variant and writes nothing.
#[test]
fn refused_clones_and_merges_write_nothing() -> TestResult {
    let (_dir, store) = store();
    persist_new(&store, "only-one", "patients", patients(2));
    persist_new(&store, "another", "patients", patients(2));
    let before = store_state(&store)?;
    let merge_with = |sources: &[&str]| store.merge_scenarios(sources, &MergeOptions::default());

    assert!(matches!(
        merge_with(&[]),
        Err(Error::Transfer(TransferError::TooFewMergeSources {
            given: 0
        }))
    ));
    assert!(matches!(
        merge_with(&["only-one"]),
        Err(Error::Transfer(TransferError::TooFewMergeSources {
            given: 1
        }))
    ));
    assert!(matches!(
        merge_with(&["only-one", "ONLY-ONE"]),
        Err(Error::Transfer(TransferError::DuplicateMergeSource { ref name, .. })) if name == "only-one"
    ));
    assert!(matches!(
        merge_with(&["only-one", "missing"]),
        Err(Error::ScenarioNotFound { .. })
    ));
    assert!(matches!(
        store.merge_scenarios(
            &["only-one", "another"],
            &MergeOptions {
                tags: Some(vec![" ".into()]),
                ..MergeOptions::default()
            }
        ),
        Err(Error::InvalidTag { .. })
    ));
    assert!(matches!(
        store.clone_scenario("missing", &CloneOptions::default()),
        Err(Error::ScenarioNotFound { .. })
    ));
    assert!(matches!(
        store.clone_scenario("o", &CloneOptions::default()),
        Err(Error::AmbiguousScenario { .. })
    ));
    assert!(matches!(
        store.clone_scenario("only-one", &CloneOptions { types: Some(vec!["spaceships".into()]), ..CloneOptions::default() }),
        Err(Error::UnknownEntityType { ref given, .. }) if given == "spaceships"
    ));
    assert!(matches!(
        store.clone_scenario(
            "only-one",
            &CloneOptions {
                types: Some(vec![]),
                ..CloneOptions::default()
            }
        ),
        Err(Error::InvalidRequest { .. })
    ));
    assert!(matches!(
        store.clone_scenario(
            "only-one",
            &CloneOptions {
                new_name: Some("!!!".into()),
                ..CloneOptions::default()
            }
        ),
        Err(Error::Naming(_))
    ));
    before.expect_same(&store_state(&store)?, "refused clones and merges")?;
    Ok(())
}
