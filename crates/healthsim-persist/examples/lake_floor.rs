//! The least one persist call can cost on a lake: what `cargo xtask bench` sets beside the
//! lake's agent loop, so its target can be read against what DuckLake itself takes.
//!
//! `lake_floor LAKE [CALLS]` opens LAKE (a `ducklake:postgres:...` target, migrated on open),
//! creates a scenario with one patient, then times CALLS rounds (default 40) of the two
//! transactions no correct persist call on a lake can do without, on our own tables and with
//! nothing else of our write path:
//! 1. the write: touch the scenario's guard row (`scenarios.updated_at`, which makes two writers
//!    of one scenario conflict: ARCHITECTURE.md, "Logical keys and guard rows") and append 50
//!    patients;
//! 2. the result's summary at its smallest: the scenario's patient count, read in a snapshot.
//!
//! A real call also checks ids, keeps the manifest and reads tags and statistics; none of that
//! is here. Prints `lake floor: p50 <ms> ms per call (write <ms> ms, read <ms> ms)` on stdout.

use std::time::Instant;

use healthsim_persist::target::Target;
use healthsim_persist::{Error, PersistRequest, ScenarioTarget, Store, StoreOptions};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(lake) = args.first() else {
        eprintln!("usage: lake_floor LAKE [CALLS]");
        std::process::exit(2);
    };
    let calls: usize = match args.get(1) {
        Some(n) => n.parse()?,
        None => 40,
    };
    let store = Store::open_target(Target::parse(lake)?, StoreOptions::default())?;
    let first = PersistRequest::new("patients", vec![json!({"patient_id": "floor-0"})])
        .with_scenario(ScenarioTarget::new_from_context("lake floor"));
    let scenario = store.persist_entities(&first)?.scenario_id;

    let (mut calls_ms, mut writes_ms, mut reads_ms) = (Vec::new(), Vec::new(), Vec::new());
    for call in 1..=calls {
        let started = Instant::now();
        store.with_writer(|conn| {
            conn.execute_batch("BEGIN TRANSACTION")
                .map_err(database("starting the write"))?;
            conn.execute(
                "UPDATE scenarios SET updated_at = now() WHERE scenario_id = ?",
                [&scenario],
            )
            .map_err(database("touching the guard row"))?;
            conn.execute(
                "INSERT INTO patients (scenario_id, patient_id) \
                 SELECT ?, 'floor-' || ? || '-' || i FROM range(50) AS r(i)",
                duckdb::params![scenario, call],
            )
            .map_err(database("appending 50 patients"))?;
            conn.execute_batch("COMMIT").map_err(database("committing"))
        })?;
        let written = Instant::now();
        let count: i64 = store.with_reader(|conn| {
            conn.query_row(
                "SELECT count(*) FROM patients WHERE scenario_id = ?",
                [&scenario],
                |row| row.get(0),
            )
            .map_err(database("counting the scenario's patients"))
        })?;
        let read = Instant::now();
        let expected = i64::try_from(1 + 50 * call)?;
        if count != expected {
            return Err(format!("the lake holds {count} patients, expected {expected}").into());
        }
        calls_ms.push((read - started).as_secs_f64() * 1000.0);
        writes_ms.push((written - started).as_secs_f64() * 1000.0);
        reads_ms.push((read - written).as_secs_f64() * 1000.0);
    }
    println!(
        "lake floor: p50 {:.1} ms per call (write {:.1} ms, read {:.1} ms)",
        median(&mut calls_ms),
        median(&mut writes_ms),
        median(&mut reads_ms)
    );
    Ok(())
}

/// Wraps a DuckDB error with what was being done, as the Store's own errors do.
fn database(context: &'static str) -> impl FnOnce(duckdb::Error) -> Error {
    move |source| Error::Database {
        context: context.to_string(),
        source,
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}
