//! The summary of the demo scenario (the cohort `healthsim demo` persists with its defaults:
//! seed 42, 200 persons, 21 entity types) holds what the agent's contract promises within its
//! budgets, measured with the real tokenizer: ages and gender shares of every person-like type,
//! the encounter class mix, top codes, claim totals with the paid/billed ratio, top dispensed
//! drugs and every type's count in 500 tokens; three samples of every major type in 3,500.

mod common;

use common::store;
use healthsim_persist::{
    EntityInput, PreparedEntities, Provenance, ScenarioSummary, ScenarioTarget, Store,
    SummaryOptions,
};
use healthsim_summary::{count_tokens, BUDGET_WITHOUT_SAMPLES, BUDGET_WITH_SAMPLES};
use healthsim_synth::{Generator, GeneratorConfig, DEFAULT_AS_OF};
use serde_json::{Map, Value as Json};

/// `healthsim demo`'s defaults.
const DEMO_SEED: u64 = 42;
const DEMO_PERSONS: usize = 200;

/// The demo cohort in one scenario, written in transactions of 1,000 entities.
fn demo_scenario(store: &Store) -> String {
    let generator = Generator::new(GeneratorConfig {
        seed: DEMO_SEED,
        persons: DEMO_PERSONS,
        ..GeneratorConfig::default()
    });
    let mut target = ScenarioTarget::New {
        name: Some(format!("demo-{DEMO_PERSONS}-persons-seed-{DEMO_SEED}")),
        context: None,
        description: Some(format!(
            "healthsim demo: {DEMO_PERSONS} persons, seed {DEMO_SEED}"
        )),
        tags: vec!["demo".into()],
    };
    let mut batch: Map<String, Json> = Map::new();
    let mut in_batch = 0;
    let flush = |batch: &mut Map<String, Json>, target: &mut ScenarioTarget| {
        let prepared = PreparedEntities::new(&EntityInput::ByType(std::mem::take(batch)))
            .expect("the generator's entities are valid");
        let written = store
            .write_entities(&prepared, target, &Provenance::default())
            .expect("written");
        *target = ScenarioTarget::existing(written.scenario_id);
    };
    for (table, entity) in generator {
        match batch.get_mut(table) {
            Some(Json::Array(list)) => list.push(entity),
            _ => {
                batch.insert(table.to_string(), Json::Array(vec![entity]));
            }
        }
        in_batch += 1;
        if in_batch == 1_000 {
            flush(&mut batch, &mut target);
            in_batch = 0;
        }
    }
    flush(&mut batch, &mut target);
    match target {
        ScenarioTarget::Existing(scenario) => scenario,
        other => panic!("nothing written: {other:?}"),
    }
}

fn summary(store: &Store, scenario_id: &str, samples_per_type: usize) -> ScenarioSummary {
    let options = SummaryOptions {
        samples_per_type,
        as_of: DEFAULT_AS_OF,
        ..SummaryOptions::default()
    };
    let summary = store
        .scenario_summary(scenario_id, &options)
        .expect("summary");
    let json = serde_json::to_string(&summary).expect("JSON");
    assert_eq!(summary.token_estimate, count_tokens(&json), "measured");
    summary
}

/// The entries of a compact list statistic (`"a 50%; b 30%; c 20%"`).
fn entries(summary: &ScenarioSummary, table: &str, key: &str) -> Vec<String> {
    let text = summary.statistics[table][key]
        .as_str()
        .unwrap_or_else(|| panic!("{table}.{key} in {:?}", summary.statistics));
    text.split("; ").map(str::to_string).collect()
}

#[test]
fn the_demo_summary_carries_the_contract_within_500_tokens() {
    let (_dir, store) = store();
    let scenario_id = demo_scenario(&store);
    let summary = summary(&store, &scenario_id, 0);
    println!(
        "demo summary without samples: {} tokens",
        summary.token_estimate
    );
    assert!(summary.token_estimate <= BUDGET_WITHOUT_SAMPLES);
    assert_eq!(
        summary.entity_counts.len(),
        21,
        "every type keeps its count"
    );

    for person_like in ["persons", "patients", "members", "rx_members"] {
        let stats = &summary.statistics[person_like];
        let age = stats["age"].as_str().expect("age");
        assert!(age.contains("median"), "{person_like}: {age}");
        let gender = entries(&summary, person_like, "gender");
        assert_eq!(gender.len(), 2, "{person_like}: {gender:?}");
        assert!(gender[0].starts_with("F ") || gender[0].starts_with("M "));
    }
    assert_eq!(entries(&summary, "encounters", "encounter_class").len(), 3);
    let codes = entries(&summary, "diagnoses", "top_codes");
    assert_eq!(codes.len(), 3, "{codes:?}");
    assert!(codes.iter().all(|c| c.ends_with('%')), "{codes:?}");
    let totals = summary.statistics["claims"]["totals"]
        .as_str()
        .expect("totals");
    assert!(
        totals.starts_with("billed ") && totals.contains("paid "),
        "{totals}"
    );
    assert!(summary.statistics["claims"]["paid_to_billed"]
        .as_str()
        .is_some_and(|r| r.ends_with('%')));
    assert_eq!(entries(&summary, "pharmacy_claims", "top_drugs").len(), 3);

    insta::assert_json_snapshot!("demo_without_samples", summary, {
        ".scenario_id" => "[scenario_id]",
        ".created_at" => "[timestamp]",
        ".updated_at" => "[timestamp]",
        // The real timestamps' digits move the count by a token or two: it is asserted above.
        ".token_estimate" => "[tokens]",
    });
}

#[test]
fn the_demo_summary_with_samples_has_three_of_every_major_type() {
    let (_dir, store) = store();
    let scenario_id = demo_scenario(&store);
    let without = summary(&store, &scenario_id, 0);
    let summary = summary(&store, &scenario_id, 3);
    println!(
        "demo summary with samples: {} tokens",
        summary.token_estimate
    );
    assert!(summary.token_estimate <= BUDGET_WITH_SAMPLES);
    assert_eq!(
        summary.statistics, without.statistics,
        "the same statistics"
    );
    let majors: Vec<&str> = healthsim_schema::ENTITY_TYPES
        .iter()
        .filter(|t| t.major && summary.entity_counts.get(t.table).is_some_and(|n| *n >= 3))
        .map(|t| t.table)
        .collect();
    assert_eq!(majors.len(), 13, "{majors:?}");
    for table in majors {
        let rows = &summary.samples[table];
        let header = rows[0].as_array().expect("a header row");
        assert!(header.iter().all(Json::is_string), "{table}: {header:?}");
        assert_eq!(rows.len(), 1 + 3, "{table}: a header and three samples");
        assert!(rows[1..]
            .iter()
            .all(|r| r.as_array().is_some_and(|r| r.len() == header.len())));
    }
    insta::assert_json_snapshot!("demo_with_samples", summary, {
        ".scenario_id" => "[scenario_id]",
        ".created_at" => "[timestamp]",
        ".updated_at" => "[timestamp]",
        // The real timestamps' digits move the count by a token or two: it is asserted above.
        ".token_estimate" => "[tokens]",
    });
}
