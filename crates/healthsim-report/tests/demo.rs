//! The report of the scenario `healthsim demo` persists: the generator's multi-product cohort
//! (healthsim-synth, as the demo runs it), persisted in batches of 50 through the store.

use std::collections::BTreeMap;

use healthsim_persist::{PersistRequest, ScenarioTarget, Store, StoreOptions};
use healthsim_report::{render_report, ReportOptions, Section};
use healthsim_synth::{Generator, GeneratorConfig, DEFAULT_AS_OF};
use serde_json::Value as Json;

/// Persons in the demo scenario of this test (the demo's default is larger; 60 keep it fast).
const PERSONS: usize = 60;

#[test]
fn the_demo_scenarios_report_has_every_product_section_and_its_counts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store =
        Store::open(dir.path().join("demo.duckdb"), StoreOptions::default()).expect("store opens");
    let generated: Vec<(&str, Json)> = Generator::new(GeneratorConfig {
        seed: 42,
        persons: PERSONS,
        ..GeneratorConfig::default()
    })
    .collect();
    let mut target = ScenarioTarget::New {
        name: Some("demo-report".into()),
        context: None,
        description: Some("the demo's cohort".into()),
        tags: vec!["demo".into()],
    };
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for batch in generated.chunks(50) {
        let mut by_type: serde_json::Map<String, Json> = serde_json::Map::new();
        for (table, entity) in batch {
            *expected.entry((*table).to_string()).or_default() += 1;
            match by_type
                .entry((*table).to_string())
                .or_insert_with(|| Json::Array(Vec::new()))
            {
                Json::Array(list) => list.push(entity.clone()),
                _ => unreachable!("only lists are inserted"),
            }
        }
        let result = store
            .persist_entities(&PersistRequest::by_type(by_type).with_scenario(target.clone()))
            .expect("a demo batch persists");
        target = ScenarioTarget::existing(result.scenario_id);
    }
    let ScenarioTarget::Existing(scenario) = target else {
        panic!("the first batch created the scenario");
    };
    let options = ReportOptions {
        as_of: DEFAULT_AS_OF,
        ..ReportOptions::default()
    };
    let report = store
        .with_reader(|conn| Ok(render_report(conn, &scenario, &options)))
        .expect("connection")
        .expect("the report renders");

    assert_eq!(
        report.headline.entity_counts, expected,
        "the headline counts what was persisted"
    );
    for section in [
        Section::Overview,
        Section::People,
        Section::Clinical,
        Section::Claims,
        Section::Pharmacy,
        Section::DataQuality,
    ] {
        assert!(
            report.headline.sections.iter().any(|id| id == section.id()),
            "the demo has a {} section",
            section.title()
        );
        assert!(
            report.html.contains(&format!("id=\"{}\"", section.id())),
            "the page has the {} section",
            section.title()
        );
    }
    assert_eq!(
        report.headline.dangling_references, 0,
        "the generator's references all resolve: {:?}",
        report.headline.broken_foreign_keys
    );
    assert!(
        report.headline.charts >= 10,
        "{} charts",
        report.headline.charts
    );
}
