//! The text of every error a caller can meet, as one snapshot: messages are the interface that
//! agents and people read, so a change in wording shows up in review.

mod common;

use std::time::Duration;

use common::{patients, persist_new, store, store_state, TestResult};
use healthsim_persist::{Error, InputError, PersistRequest, ScenarioTarget, Store, StoreOptions};
use serde_json::{json, Map, Value as Json};

/// One line per case: `case: message`, with the temporary directory and ids redacted. Every
/// refused call must also leave the store's whole database as it was.
struct Messages<'s> {
    lines: Vec<String>,
    redactions: Vec<(String, &'static str)>,
    store: &'s Store,
    before: common::state::DbState,
}

impl Messages<'_> {
    fn check<T: std::fmt::Debug>(&mut self, case: &str, result: Result<T, Error>) {
        let message = match result {
            Err(e) => e.to_string(),
            Ok(value) => panic!("{case}: expected an error, got {value:?}"),
        };
        let after = store_state(self.store).expect("reading the database state");
        if let Err(changed) = self.before.expect_same(&after, case) {
            panic!("{changed}");
        }
        let message = self
            .redactions
            .iter()
            .fold(message, |m, (from, to)| m.replace(from.as_str(), to));
        self.lines.push(format!("{case}: {message}"));
    }
}

fn entities(entity_type: &str, list: Json) -> PersistRequest {
    let mut map = Map::new();
    map.insert(entity_type.into(), list);
    PersistRequest::by_type(map)
}

#[test]
fn error_messages() -> TestResult {
    let (dir, store) = store();
    let cohort = persist_new(&store, "diabetes-cohort", "patients", patients(2));
    persist_new(&store, "diabetes-trial", "patients", patients(1));
    let mut m = Messages {
        lines: Vec::new(),
        redactions: vec![
            (dir.path().display().to_string(), "<dir>"),
            (cohort.scenario_id.clone(), "<scenario-id>"),
        ],
        store: &store,
        before: store_state(&store)?,
    };
    let persist = |request: PersistRequest| store.persist_entities(&request);

    m.check(
        "unknown type",
        persist(PersistRequest::new("spaceships", vec![json!({})])),
    );
    m.check(
        "not a list",
        persist(entities("patients", json!({"patient_id": "p"}))),
    );
    m.check(
        "no entities",
        persist(PersistRequest::new("patients", vec![])),
    );
    let mut twice = Map::new();
    twice.insert("vital_signs".into(), json!([]));
    twice.insert("vitals".into(), json!([]));
    m.check("same type twice", persist(PersistRequest::by_type(twice)));
    m.check(
        "not an object",
        persist(PersistRequest::new("patients", vec![json!({}), json!(42)])),
    );
    m.check(
        "missing field",
        persist(PersistRequest::new(
            "claim_lines",
            vec![json!({"claim_id": "c"})],
        )),
    );
    m.check(
        "bad date",
        persist(PersistRequest::new(
            "patients",
            vec![json!({"birthDate": "2024-02-30"})],
        )),
    );
    m.check(
        "bad nested timestamp",
        persist(PersistRequest::new(
            "encounters",
            vec![json!({"patient_id": "p", "period": {"start": "noon"}})],
        )),
    );
    m.check(
        "bad money",
        persist(PersistRequest::new(
            "claims",
            vec![json!({"total_paid": "lots"})],
        )),
    );
    m.check(
        "money out of range",
        persist(PersistRequest::new(
            "claims",
            vec![json!({"total_paid": 1e17})],
        )),
    );
    m.check(
        "bad boolean",
        persist(PersistRequest::new(
            "network_providers",
            vec![json!({
            "network_id": "n", "provider_id": "p", "accepting_new_patients": "sometimes"})],
        )),
    );
    m.check(
        "long value",
        persist(PersistRequest::new(
            "vitals",
            vec![json!({"patient_id": "p", "heart_rate": "fast ".repeat(40)})],
        )),
    );
    m.check(
        "id too long",
        persist(PersistRequest::new(
            "patients",
            vec![json!({"id": "p1"}), json!({"id": "i".repeat(257)})],
        )),
    );
    m.check(
        "duplicate id",
        persist(PersistRequest::new(
            "patients",
            vec![
                json!({"id": "p1"}),
                json!({"id": "p2"}),
                json!({"patient_id": "p1"}),
            ],
        )),
    );
    m.check(
        "bad tag on a new scenario",
        persist(
            PersistRequest::new("patients", patients(1)).with_scenario(ScenarioTarget::New {
                name: None,
                context: None,
                description: None,
                tags: vec!["".into()],
            }),
        ),
    );
    m.check("scenario not found", store.resolve_scenario("asthma"));
    m.check("ambiguous scenario", store.resolve_scenario("diabetes"));
    m.check(
        "unusable name",
        store.rename_scenario("diabetes-cohort", "?!"),
    );
    m.check(
        "name taken on save",
        store.save_scenario("Diabetes Cohort", &Map::new(), false),
    );
    m.check(
        "delete without confirmation",
        store.delete_scenario(&cohort.scenario_id, false),
    );
    m.check(
        "invalid tag",
        store.add_tags("diabetes-cohort", &["a\nb".into()]),
    );

    let locked = Store::open(
        store.path().expect("a file store"),
        StoreOptions {
            lock_timeout: Duration::ZERO,
            ..StoreOptions::default()
        },
    );
    m.check("locked", locked.map(|_| ()));
    let not_a_database = dir.path().join("notes.txt");
    std::fs::write(&not_a_database, "hello ".repeat(1000))?;
    m.check(
        "not a database",
        Store::open(&not_a_database, StoreOptions::default()).map(|_| ()),
    );

    insta::assert_snapshot!(m.lines.join("\n"));
    Ok(())
}

// Regression: a 10 MB id was stored, and every persist call carrying it spent ~10 s fitting its
// result into the token budget (known issue 6 in docs/reliability.md).
#[test]
fn ids_are_bounded_and_a_refused_call_writes_nothing() -> TestResult {
    use healthsim_persist::input::MAX_ID_CHARS;
    let (_dir, store) = store();
    let longest = "i".repeat(MAX_ID_CHARS);
    let stored = store.persist_entities(&PersistRequest::new(
        "patients",
        vec![json!({"patient_id": longest})],
    ))?;
    assert_eq!(stored.total_persisted, 1);
    let before = store_state(&store)?;
    for (entity_type, entity, field) in [
        (
            "patients",
            json!({"patient_id": "x".repeat(10_000_000)}),
            "patient_id",
        ),
        ("claims", json!({"id": "é".repeat(MAX_ID_CHARS + 1)}), "id"),
    ] {
        let length = entity[field].as_str().map_or(0, |s| s.chars().count());
        let request = PersistRequest::new(entity_type, vec![json!({}), entity]);
        let message = match store.persist_entities(&request) {
            Err(e @ Error::Input(InputError::InvalidField { .. })) => e.to_string(),
            other => panic!("{entity_type}: {other:?}"),
        };
        assert!(
            message.starts_with(&format!(
                "{entity_type}[1].{field}: an id has at most {MAX_ID_CHARS} characters, this one \
                 has {length}, got \""
            )),
            "{message}"
        );
        assert!(message.ends_with("...") && message.len() < 400, "{message}");
        before.expect_same(&store_state(&store)?, entity_type)?;
    }
    Ok(())
}

/// Runs one SQL statement with parameters on the store's writer (a test's direct change).
fn sql(store: &Store, statement: &str, params: &[&str]) -> TestResult {
    store.with_writer(|conn| {
        conn.execute(
            statement,
            healthsim_schema::duckdb::params_from_iter(params),
        )
        .map_err(|source| Error::Database {
            context: statement.to_string(),
            source,
        })
    })?;
    Ok(())
}

/// Entities over all scenarios (what the no-write checks compared before issue 21).
fn entity_total(store: &Store) -> Result<u64, Error> {
    Ok(store
        .list_scenarios(&Default::default())?
        .iter()
        .map(|s| s.entity_count)
        .sum())
}

// Regression (issue 21, finding 6): the "nothing written" checks compared a total entity count,
// so a refused call that left an empty scenario, a tag, or a changed row passed them.
#[test]
fn the_no_write_check_catches_what_an_entity_count_misses() -> TestResult {
    // Reading twice gives the same state: the check itself does not see changes that are not.
    let (_reference_dir, reference) = store();
    persist_new(&reference, "kept", "patients", patients(2));
    let total = entity_total(&reference)?;
    store_state(&reference)?.expect_same(&store_state(&reference)?, "reading twice")?;

    let cases: [(&str, &str, &[&str], &str); 3] = [
        (
            "a leftover empty scenario",
            "INSERT INTO scenarios (scenario_id, name, created_at, updated_at) \
             VALUES (?, ?, current_timestamp, current_timestamp)",
            &["leftover-id", "leftover"],
            "scenarios",
        ),
        (
            "a leftover tag",
            "INSERT INTO scenario_tags (scenario_id, tag, created_at) \
             SELECT scenario_id, ?, current_timestamp FROM scenarios WHERE name = ?",
            &["stray", "kept"],
            "scenario_tags",
        ),
        (
            "a changed row (same keys, same count)",
            "UPDATE patients SET given_name = ? WHERE patient_id = ?",
            &["Changed", "p0"],
            "patients",
        ),
    ];
    for (case, statement, params, table) in cases {
        let (dir, store) = store();
        persist_new(&store, "kept", "patients", patients(2));
        let before = store_state(&store)?;
        sql(&store, statement, params)?;
        assert_eq!(
            entity_total(&store)?,
            total,
            "{case}: the count does not see it"
        );
        let changed = before.differences(&store_state(&store)?);
        assert_eq!(changed.len(), 1, "{case}: {changed:?}");
        assert!(changed[0].starts_with(table), "{case}: {changed:?}");
        assert!(before.expect_same(&store_state(&store)?, case).is_err());
        drop(dir);
    }
    Ok(())
}
