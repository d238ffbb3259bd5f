//! Logical keys stay unique without a constraint (schema V0005: no table has a PRIMARY KEY or
//! UNIQUE, the write path keeps `(scenario_id, <id>)`, scenario names, tags and manifest rows
//! unique itself).
//!
//! A property test drives random sequences of the operations that write (persist of new ids,
//! repeated ids and a batch that repeats an id, tags, clone, merge under each strategy, delete,
//! JSON export then import) against a store and against a small in-memory model of what each
//! scenario holds (ids per table with a version marker, tags). After every step: no logical key
//! appears twice in any table (`common::state::repeated_keys`), the manifest equals `count(*)`,
//! and every scenario's ids, markers and tags equal the model's. `PROPTEST_CASES` scales it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{assert_manifest_consistent, minimal_entity, store_state, TestResult};
use healthsim_persist::{
    CloneOptions, EntityInput, Error, ExportFormat, ExportOptions, ImportOptions, InputError,
    MergeOptions, OnConflict, PersistRequest, PreparedEntities, ScenarioTarget, Store,
};
use healthsim_schema::{by_table, SCENARIO_COLUMN};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value as Json};

/// The tables the test writes, with the column that carries each row's version marker.
const TABLES: [(&str, &str); 2] = [("patients", "mrn"), ("encounters", "chief_complaint")];

/// What the model says one scenario holds: per table, id → marker; and its tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Held {
    rows: BTreeMap<&'static str, BTreeMap<String, String>>,
    tags: BTreeSet<String>,
}

#[derive(Debug, Clone)]
enum Op {
    /// Ids (small numbers, so they repeat across calls) per table; `repeat` sends the first id
    /// of the batch twice, which must be refused with nothing written; `bulk` writes through
    /// `write_entities` (the path of `healthsim persist`, which keeps the ids it wrote between
    /// calls) instead of `persist_entities`.
    Persist {
        into: Option<usize>,
        patients: BTreeSet<u8>,
        encounters: BTreeSet<u8>,
        version: u8,
        repeat: bool,
        bulk: bool,
    },
    Tag {
        scenario: usize,
        tag: u8,
    },
    Clone {
        scenario: usize,
    },
    Merge {
        first: usize,
        second: usize,
        on_conflict: OnConflict,
    },
    Delete {
        scenario: usize,
    },
    ExportImport {
        scenario: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let ids = || proptest::collection::btree_set(0u8..10, 0..6);
    prop_oneof![
        4 => (
            proptest::option::of(0usize..8),
            ids(),
            ids(),
            any::<u8>(),
            proptest::bool::weighted(0.15),
            any::<bool>()
        )
            .prop_map(|(into, patients, encounters, version, repeat, bulk)| Op::Persist {
                into,
                patients,
                encounters,
                version,
                repeat,
                bulk
            }),
        1 => (0usize..8, 0u8..3).prop_map(|(scenario, tag)| Op::Tag { scenario, tag }),
        1 => (0usize..8).prop_map(|scenario| Op::Clone { scenario }),
        2 => (0usize..8, 0usize..8, prop_oneof![
            Just(OnConflict::Skip),
            Just(OnConflict::Overwrite),
            Just(OnConflict::Rename)
        ])
            .prop_map(|(first, second, on_conflict)| Op::Merge {
                first,
                second,
                on_conflict
            }),
        1 => (0usize..8).prop_map(|scenario| Op::Delete { scenario }),
        1 => (0usize..8).prop_map(|scenario| Op::ExportImport { scenario }),
    ]
}

/// The model: live scenarios by name, in creation order.
#[derive(Debug, Default)]
struct Model {
    scenarios: Vec<(String, Held)>,
    made: usize,
}

impl Model {
    fn pick(&self, i: usize) -> Option<usize> {
        (!self.scenarios.is_empty()).then(|| i % self.scenarios.len())
    }

    fn fresh_name(&mut self, prefix: &str) -> String {
        self.made += 1;
        format!("{prefix}-{}", self.made)
    }
}

fn entity(table: &str, marker: &str, id: &str, version: u8) -> Json {
    let t = by_table(table).expect("a registry table");
    let mut object: Map<String, Json> = minimal_entity(t, 0);
    object.insert(t.primary_key.to_string(), json!(id));
    object.insert(marker.to_string(), json!(format!("v{version}")));
    Json::Object(object)
}

fn id_of(table: &str, n: u8) -> String {
    format!("{}{n}", &table[..1])
}

/// The ids `merge` gives under `rename` to the second source's conflicting ids: `{id}~2`, or
/// `{id}~2-{k}` while that is taken (in the target, in the source, or given already).
fn renamed(
    target: &BTreeMap<String, String>,
    source: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = target.clone();
    let mut given = BTreeSet::new();
    for (id, marker) in source {
        if !target.contains_key(id) {
            out.insert(id.clone(), marker.clone());
            continue;
        }
        let mut round = 1;
        let new_id = loop {
            let candidate = if round == 1 {
                format!("{id}~2")
            } else {
                format!("{id}~2-{round}")
            };
            if !target.contains_key(&candidate)
                && !source.contains_key(&candidate)
                && !given.contains(&candidate)
            {
                break candidate;
            }
            round += 1;
        };
        given.insert(new_id.clone());
        out.insert(new_id, marker.clone());
    }
    out
}

fn apply(store: &Store, model: &mut Model, dir: &Path, op: &Op) -> TestResult {
    match op {
        Op::Persist {
            into,
            patients,
            encounters,
            version,
            repeat,
            bulk,
        } => {
            let mut by_type = Map::new();
            let mut expected: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
            for ((table, marker), ids) in TABLES.iter().zip([patients, encounters]) {
                if ids.is_empty() {
                    continue;
                }
                let mut list: Vec<String> = ids.iter().map(|n| id_of(table, *n)).collect();
                expected.insert(table, list.clone());
                if *repeat {
                    list.push(list[0].clone());
                }
                let entities: Vec<Json> = list
                    .iter()
                    .map(|id| entity(table, marker, id, *version))
                    .collect();
                by_type.insert((*table).to_string(), Json::Array(entities));
            }
            if by_type.is_empty() {
                return Ok(());
            }
            let existing = into.and_then(|i| model.pick(i));
            let name = match existing {
                Some(i) => model.scenarios[i].0.clone(),
                None => model.fresh_name("s"),
            };
            let target = match existing {
                Some(_) => ScenarioTarget::existing(&name),
                None => ScenarioTarget::new_named(&name),
            };
            let request = PersistRequest {
                entities: EntityInput::ByType(by_type),
                scenario: target,
                provenance: Default::default(),
            };
            let write = |request: &PersistRequest| match bulk {
                true => PreparedEntities::new(&request.entities)
                    .and_then(|p| store.write_entities(&p, &request.scenario, &request.provenance))
                    .map(|written| written.scenario_name),
                false => store
                    .persist_entities(request)
                    .map(|result| result.scenario_name),
            };
            if *repeat {
                let before = store_state(store)?;
                match write(&request) {
                    Err(Error::Input(InputError::DuplicateId { .. })) => {}
                    other => return Err(format!("a repeated id in one batch: {other:?}").into()),
                }
                before.expect_same(&store_state(store)?, "a refused batch")?;
                return Ok(());
            }
            assert_eq!(write(&request)?, name);
            let held = match existing {
                Some(i) => &mut model.scenarios[i].1,
                None => {
                    model.scenarios.push((name, Held::default()));
                    &mut model.scenarios.last_mut().ok_or("just pushed")?.1
                }
            };
            for (table, ids) in expected {
                let rows = held.rows.entry(table).or_default();
                for id in ids {
                    rows.insert(id, format!("v{version}"));
                }
            }
        }
        Op::Tag { scenario, tag } => {
            let Some(i) = model.pick(*scenario) else {
                return Ok(());
            };
            let tag = format!("tag{tag}");
            store.add_tags(&model.scenarios[i].0, std::slice::from_ref(&tag))?;
            model.scenarios[i].1.tags.insert(tag);
        }
        Op::Clone { scenario } => {
            let Some(i) = model.pick(*scenario) else {
                return Ok(());
            };
            let name = model.fresh_name("c");
            let options = CloneOptions {
                new_name: Some(name.clone()),
                ..CloneOptions::default()
            };
            let made = store.clone_scenario(&model.scenarios[i].0, &options)?;
            assert_eq!(made.name, name);
            let copy = model.scenarios[i].1.clone();
            model.scenarios.push((name, copy));
        }
        Op::Merge {
            first,
            second,
            on_conflict,
        } => {
            let (Some(a), Some(b)) = (model.pick(*first), model.pick(*second)) else {
                return Ok(());
            };
            if a == b {
                return Ok(());
            }
            let name = model.fresh_name("m");
            let options = MergeOptions {
                target_name: Some(name.clone()),
                on_conflict: *on_conflict,
                ..MergeOptions::default()
            };
            let sources = [model.scenarios[a].0.clone(), model.scenarios[b].0.clone()];
            let made = store.merge_scenarios(&sources, &options)?;
            assert_eq!(made.name, name);
            let (x, y) = (&model.scenarios[a].1, &model.scenarios[b].1);
            let mut held = Held {
                rows: BTreeMap::new(),
                tags: x.tags.union(&y.tags).cloned().collect(),
            };
            let empty = BTreeMap::new();
            for (table, _) in TABLES {
                let (rx, ry) = (
                    x.rows.get(table).unwrap_or(&empty),
                    y.rows.get(table).unwrap_or(&empty),
                );
                let merged = match on_conflict {
                    OnConflict::Skip => {
                        let mut m = ry.clone();
                        m.extend(rx.clone());
                        m
                    }
                    OnConflict::Overwrite => {
                        let mut m = rx.clone();
                        m.extend(ry.clone());
                        m
                    }
                    OnConflict::Rename => renamed(rx, ry),
                };
                if !merged.is_empty() {
                    held.rows.insert(table, merged);
                }
            }
            model.scenarios.push((name, held));
        }
        Op::Delete { scenario } => {
            let Some(i) = model.pick(*scenario) else {
                return Ok(());
            };
            store.delete_scenario(&model.scenarios[i].0, true)?;
            model.scenarios.remove(i);
        }
        Op::ExportImport { scenario } => {
            let Some(i) = model.pick(*scenario) else {
                return Ok(());
            };
            let name = model.fresh_name("i");
            let file = dir.join(format!("{name}.json"));
            let options = ExportOptions {
                format: ExportFormat::Json,
                out: Some(file.clone()),
                ..ExportOptions::default()
            };
            store.export_scenario(&model.scenarios[i].0, &options)?;
            let imported = store.import_scenario(
                &file,
                &ImportOptions {
                    name: Some(name.clone()),
                    ..ImportOptions::default()
                },
            )?;
            assert_eq!(imported.name, name);
            let copy = model.scenarios[i].1.clone();
            model.scenarios.push((name, copy));
        }
    }
    Ok(())
}

/// What the store holds, in the model's shape.
fn observed(store: &Store) -> Result<Vec<(String, Held)>, Box<dyn std::error::Error>> {
    let found = store.with_reader(|conn| {
        let db = |e| Error::Database {
            context: "reading the test's scenarios".into(),
            source: e,
        };
        let mut names: Vec<(String, String)> = conn
            .prepare("SELECT name, scenario_id FROM scenarios ORDER BY created_at, name")
            .map_err(db)?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db)?
            .collect::<Result<_, _>>()
            .map_err(db)?;
        let mut out = Vec::new();
        for (name, id) in names.drain(..) {
            let mut held = Held::default();
            for (table, marker) in TABLES {
                let pk = by_table(table).map_or("?", |t| t.primary_key);
                let rows: BTreeMap<String, String> = conn
                    .prepare(&format!(
                        "SELECT {pk}, {marker} FROM main.{table} WHERE {SCENARIO_COLUMN} = ?"
                    ))
                    .map_err(db)?
                    .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(db)?
                    .collect::<Result<_, _>>()
                    .map_err(db)?;
                if !rows.is_empty() {
                    held.rows.insert(table, rows);
                }
            }
            held.tags = conn
                .prepare("SELECT tag FROM scenario_tags WHERE scenario_id = ?")
                .map_err(db)?
                .query_map([&id], |r| r.get(0))
                .map_err(db)?
                .collect::<Result<_, _>>()
                .map_err(db)?;
            out.push((name, held));
        }
        Ok(out)
    })?;
    Ok(found)
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let fail = |e: Box<dyn std::error::Error>| TestCaseError::fail(e.to_string());
    let (dir, store) = common::store();
    let mut model = Model::default();
    for (step, op) in ops.iter().enumerate() {
        apply(&store, &mut model, dir.path(), op)
            .map_err(|e| TestCaseError::fail(format!("step {step} {op:?}: {e}")))?;
        // The manifest equals count(*) and no logical key appears twice in any table.
        assert_manifest_consistent(&store);
        let mut found = observed(&store).map_err(fail)?;
        let mut expected = model.scenarios.clone();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        prop_assert_eq!(found, expected, "after step {} {:?}", step, op);
    }
    Ok(())
}

/// `$PROPTEST_CASES`, else `default` ([`common::store_cases`] of it: a quarter on a lake).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| common::store_cases(default))
}

#[test]
fn random_write_sequences_keep_every_logical_key_unique() {
    let mut runner = TestRunner::new(Config {
        cases: cases(24),
        ..Config::default()
    });
    let result = runner.run(&proptest::collection::vec(op(), 1..14), |ops| run(&ops));
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Bulk writes keep the ids they wrote between calls; every other write in between (a persist,
/// a merge into the scenario, a clone's) adds ids they do not know, and a bulk write of those
/// ids after it updates them instead of adding them twice.
#[test]
fn a_bulk_write_after_another_write_updates_the_ids_that_write_added() -> TestResult {
    let persist = |into: Option<usize>, patients: &[u8], version: u8, bulk: bool| Op::Persist {
        into,
        patients: patients.iter().copied().collect(),
        encounters: BTreeSet::new(),
        version,
        repeat: false,
        bulk,
    };
    let ops = [
        persist(None, &[1, 2], 1, true),
        persist(Some(0), &[3], 2, false),
        persist(Some(0), &[3, 4], 3, true),
        persist(None, &[5], 4, false),
        Op::Merge {
            first: 0,
            second: 1,
            on_conflict: OnConflict::Overwrite,
        },
        persist(Some(2), &[5, 6], 5, true),
        persist(Some(2), &[1, 6], 6, true),
    ];
    run(&ops).map_err(|e| e.to_string())?;
    Ok(())
}

/// A merge under rename of a scenario that already holds a renamed id: the second round
/// (`{id}~2-2`) runs, and gives an id nobody holds.
#[test]
fn a_second_rename_round_keeps_ids_unique() -> TestResult {
    let ops = [
        Op::Persist {
            into: None,
            patients: [1].into(),
            encounters: BTreeSet::new(),
            version: 1,
            repeat: false,
            bulk: false,
        },
        Op::Clone { scenario: 0 },
        Op::Merge {
            first: 0,
            second: 1,
            on_conflict: OnConflict::Rename,
        },
        Op::Merge {
            first: 2,
            second: 2 + 1,
            on_conflict: OnConflict::Rename,
        },
    ];
    run(&ops).map_err(|e| e.to_string())?;
    Ok(())
}

/// The whole-database check can fail: a repeated key written past the write path, and a guard
/// table without its one row, are both named.
#[test]
fn the_check_names_a_repeated_key_and_a_missing_guard_row() -> TestResult {
    let (_dir, store) = common::store();
    let made = store.persist_entities(
        &PersistRequest::new("patients", vec![json!({"patient_id": "p1"})])
            .with_scenario(ScenarioTarget::new_named("cohort")),
    )?;
    assert_eq!(
        store.with_reader(|conn| Ok(common::state::repeated_keys(conn)))??,
        Vec::<String>::new()
    );
    // Broken behind the write path's back, on the store's own connection (a file or a lake).
    store.with_writer(|conn| {
        conn.execute_batch(
            "INSERT INTO patients (scenario_id, patient_id) SELECT scenario_id, patient_id FROM patients;
             INSERT INTO scenario_tags VALUES ('s', 't', now()), ('s', 't', now());
             DELETE FROM scenario_namespace;",
        )
        .map_err(|source| healthsim_persist::Error::Database {
            context: "breaking the keys".into(),
            source,
        })
    })?;
    assert_eq!(
        store.with_reader(|conn| Ok(common::state::repeated_keys(conn)))??,
        [
            format!(
                "patients (scenario_id, patient_id) = {}, p1 ×2",
                made.scenario_id
            ),
            "scenario_tags (scenario_id, tag) = s, t ×2".to_string(),
            "scenario_namespace has 0 rows, not 1".to_string(),
        ]
    );
    Ok(())
}

/// The guard rows (ARCHITECTURE.md, "Logical keys and guard rows"): every transaction that
/// creates, renames or deletes a scenario increments `scenario_namespace.version`, and every
/// one that writes a scenario's entities or tags updates that scenario's row; a refused call
/// changes neither.
#[test]
fn every_scenario_write_touches_its_guard_row() -> TestResult {
    let (dir, store) = common::store();
    let guard = |store: &Store| -> Result<i64, Box<dyn std::error::Error>> {
        Ok(store.with_reader(|conn| {
            conn.query_row("SELECT version FROM scenario_namespace", [], |r| r.get(0))
                .map_err(|e| Error::Database {
                    context: "reading the guard".into(),
                    source: e,
                })
        })?)
    };
    let updated = |store: &Store, name: &str| -> Result<String, Box<dyn std::error::Error>> {
        Ok(store
            .list_scenarios(&Default::default())?
            .into_iter()
            .find(|s| s.name == name)
            .ok_or("scenario listed")?
            .updated_at)
    };
    let patients =
        |ids: &[&str]| -> Vec<Json> { ids.iter().map(|id| json!({"patient_id": id})).collect() };
    assert_eq!(guard(&store)?, 0);
    // Creating: persist into a new scenario, clone, merge, import, save.
    store.persist_entities(
        &PersistRequest::new("patients", patients(&["p1"]))
            .with_scenario(ScenarioTarget::new_named("a")),
    )?;
    assert_eq!(guard(&store)?, 1);
    store.clone_scenario("a", &CloneOptions::default())?;
    assert_eq!(guard(&store)?, 2);
    store.merge_scenarios(&["a", "a-copy"], &MergeOptions::default())?;
    assert_eq!(guard(&store)?, 3);
    let file = dir.path().join("a.json");
    store.export_scenario(
        "a",
        &ExportOptions {
            out: Some(file.clone()),
            ..ExportOptions::default()
        },
    )?;
    assert_eq!(guard(&store)?, 3, "an export writes nothing");
    store.import_scenario(&file, &ImportOptions::default())?;
    assert_eq!(guard(&store)?, 4);
    let mut saved = Map::new();
    saved.insert("patients".into(), Json::Array(patients(&["p9"])));
    store.save_scenario("saved", &saved, false)?;
    assert_eq!(guard(&store)?, 5);
    // Renaming and deleting.
    store.rename_scenario("saved", "kept")?;
    assert_eq!(guard(&store)?, 6);
    store.delete_scenario("kept", true)?;
    assert_eq!(guard(&store)?, 7);
    // Writing into an existing scenario: its own row, not the namespace.
    let before = updated(&store, "a")?;
    store.persist_entities(
        &PersistRequest::new("patients", patients(&["p1", "p2"])).into_existing("a"),
    )?;
    assert_eq!(guard(&store)?, 7);
    let after_persist = updated(&store, "a")?;
    assert!(after_persist > before, "{after_persist} after {before}");
    store.add_tags("a", &["new".to_string()])?;
    assert!(updated(&store, "a")? > after_persist);
    // Refused calls roll their guard back with everything else.
    assert!(store.rename_scenario("missing", "x").is_err());
    assert!(store.delete_scenario("a", false).is_err());
    assert_eq!(guard(&store)?, 7);
    Ok(())
}
