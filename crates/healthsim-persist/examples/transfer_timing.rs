//! A quick timing of scenario-level data management (not a benchmark suite).
//!
//! `cargo run --release -p healthsim-persist --example transfer_timing -- [ENTITIES]`
//! (default 100,000: patients, encounters, claims and claim lines in a 2:3:2:3 ratio, with
//! references wired). Prints the time to clone, to rename-merge the scenario with its clone
//! (every id conflicts), to export it as JSON, CSV and Parquet, and to import each export.

use std::time::{Duration, Instant};

use healthsim_persist::{
    CloneOptions, ExportFormat, ExportOptions, ImportOptions, MergeOptions, OnConflict,
    PersistRequest, ScenarioTarget, Store, StoreOptions,
};
use serde_json::{json, Map, Value as Json};

fn entities(n: usize) -> Map<String, Json> {
    let unit = (n / 10).max(1);
    let (patients, encounters, claims, lines) = (2 * unit, 3 * unit, 2 * unit, 3 * unit);
    let mut map = Map::new();
    map.insert(
        "patients".into(),
        (0..patients)
            .map(|i| json!({"patient_id": format!("p{i}"), "given_name": "Ana", "family_name": format!("F{}", i % 997),
                "birth_date": format!("19{:02}-{:02}-{:02}", 30 + i % 60, 1 + i % 12, 1 + i % 28),
                "gender": if i % 2 == 0 { "female" } else { "male" }, "state": "AZ", "language": "en", "skill_used": "patientsim"}))
            .collect(),
    );
    map.insert(
        "encounters".into(),
        (0..encounters)
            .map(|i| json!({"encounter_id": format!("e{i}"), "patient_id": format!("p{}", i % patients),
                "encounter_class": "outpatient", "start_datetime": "2024-03-01T08:30:00Z", "chief_complaint": "follow-up"}))
            .collect(),
    );
    map.insert(
        "claims".into(),
        (0..claims)
            .map(|i| json!({"claim_id": format!("c{i}"), "patient_id": format!("p{}", i % patients),
                "encounter_id": format!("e{}", i % encounters), "service_date": "2024-03-01", "total_billed": 120.5 + (i % 100) as f64}))
            .collect(),
    );
    map.insert(
        "claim_lines".into(),
        (0..lines)
            .map(|i| json!({"claim_line_id": format!("l{i}"), "claim_id": format!("c{}", i % claims), "line_number": 1 + i / claims,
                "procedure_code": "99213", "billed_amount": 80.25}))
            .collect(),
    );
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
