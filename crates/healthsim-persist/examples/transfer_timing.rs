//! A quick timing of scenario-level data management (not a benchmark suite).
//!
//! `cargo run --release -p healthsim-persist --example transfer_timing -- [ENTITIES]`
//! (default 100,000: a multi-product scenario from `healthsim-synth`, about 42 entities per
//! person over 23 tables with every reference wired, like the mixed data of `cargo xtask bench`).
//! Prints the time to clone, to rename-merge the scenario with its clone (every id conflicts), to
//! export it as JSON, CSV and Parquet, and to import each export.

use std::time::{Duration, Instant};

use healthsim_persist::{
    CloneOptions, ExportFormat, ExportOptions, ImportOptions, MergeOptions, OnConflict,
    PersistRequest, ScenarioTarget, Store, StoreOptions,
};
use healthsim_synth::{Generator, GeneratorConfig};
use serde_json::{Map, Value as Json};

/// Entities per person in the generator's multi-product mix (header pools included), measured.
const ENTITIES_PER_PERSON: usize = 42;

/// About `n` entities of a realistic scenario, grouped by table.
fn entities(n: usize) -> Map<String, Json> {
    let config = GeneratorConfig {
        persons: (n / ENTITIES_PER_PERSON).max(1),
        ..GeneratorConfig::default()
    };
    let mut map = Map::new();
    for (table, entity) in Generator::new(config) {
        if let Json::Array(rows) = map.entry(table).or_insert_with(|| Json::Array(Vec::new())) {
            rows.push(entity);
        }
    }
    map
}

fn timed<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let value = f();
    report(label, started.elapsed());
    value
}

fn report(label: &str, elapsed: Duration) {
    println!("{label:<32} {:>9.1} ms", elapsed.as_secs_f64() * 1000.0);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path().join("timing.duckdb"), StoreOptions::default())?;
    let request =
        PersistRequest::by_type(entities(n)).with_scenario(ScenarioTarget::new_named("timing"));
    let persisted = timed("persist (setup)", || store.persist_entities(&request))?;
    let total = persisted.total_persisted;
    println!("scenario: {total} entities");

    let copy = timed("clone", || {
        store.clone_scenario("timing", &CloneOptions::default())
    })?;
    assert_eq!(copy.total_entities, total);
    let merged = timed("merge skip (all conflict)", || {
        store.merge_scenarios(&["timing", "timing-copy"], &MergeOptions::default())
    })?;
    assert_eq!(merged.total_conflicts, total);
    let renamed = timed("merge rename (all conflict)", || {
        store.merge_scenarios(
            &["timing", "timing-copy"],
            &MergeOptions {
                on_conflict: OnConflict::Rename,
                ..MergeOptions::default()
            },
        )
    })?;
    assert_eq!(renamed.total_entities, 2 * total);

    for format in [ExportFormat::Json, ExportFormat::Csv, ExportFormat::Parquet] {
        let out = dir.path().join(format.name());
        std::fs::create_dir(&out)?;
        let exported = timed(&format!("export {}", format.name()), || {
            store.export_scenario(
                "timing",
                &ExportOptions {
                    format,
                    out: Some(out.clone()),
                    ..ExportOptions::default()
                },
            )
        })?;
        println!(
            "  {} bytes ({:.1} MB)",
            exported.bytes_written,
            exported.bytes_written as f64 / 1e6
        );
        let imported = timed(&format!("import {}", format.name()), || {
            store.import_scenario(&exported.path, &ImportOptions::default())
        })?;
        assert_eq!(imported.total_entities, total);
    }
    Ok(())
}
