//! A quick timing of one big persist call (not a benchmark suite; see `cargo xtask bench`).
//!
//! `cargo run --release -p healthsim-persist --example persist_timing -- [ENTITIES]`
//! (default 20,000 patients with full demographics). Prints the time to convert, to persist
//! new entities, to re-persist them all as updates, and the size of the result in tokens.

use std::time::Instant;

use healthsim_persist::{convert, PersistRequest, ScenarioTarget, Store, StoreOptions};
use serde_json::{json, Value as Json};

fn patients(n: usize) -> Vec<Json> {
    (0..n)
        .map(|i| {
            json!({
                "patientId": format!("PAT-{i:07}"),
                "mrn": format!("MRN{i:08}"),
                "name": {"given": ["Ana", "Maria"], "family": format!("Family{}", i % 997)},
                "birthDate": format!("19{:02}-{:02}-{:02}", 30 + i % 60, 1 + i % 12, 1 + i % 28),
                "gender": if i % 2 == 0 { "female" } else { "male" },
                "race": "2106-3",
                "ethnicity": "2186-5",
                "address": {"line": [format!("{} Main St", i % 5000)], "city": "Phoenix", "state": "AZ", "postalCode": "85001"},
                "county_fips": "04013",
                "phone": "555-0100",
                "marital_status": "M",
                "language": "en",
                "skill_used": "patientsim",
                "generation_seed": 42,
                "conditions_note": "type 2 diabetes",
            })
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let entities = patients(n);
    let dir = tempfile::tempdir()?;

    let started = Instant::now();
    let t = healthsim_schema::entity_type("patients")?;
    let mut counter = 0u64;
    let rows = convert(t, &entities, &mut || {
        counter += 1;
        counter.to_string()
    })?;
    let convert_time = started.elapsed();
    drop(rows);

    let started = Instant::now();
    let store = Store::open(dir.path().join("timing.duckdb"), StoreOptions::default())?;
    let open_time = started.elapsed();

    let request = PersistRequest::new("patients", entities.clone()).with_scenario(
        ScenarioTarget::new_from_context("diabetic patients in Arizona"),
    );
    let started = Instant::now();
    let result = store.persist_entities(&request)?;
    let insert_time = started.elapsed();

    let update = PersistRequest::new("patients", entities).into_existing(&result.scenario_id);
    let started = Instant::now();
    let updated = store.persist_entities(&update)?;
    let update_time = started.elapsed();

    let small = PersistRequest::new("patients", patients(50)).into_existing(&result.scenario_id);
    let started = Instant::now();
    let batch_of_50 = store.persist_entities(&small)?;
    let batch_time = started.elapsed();

    let started = Instant::now();
    store.scenario_summary(
        &result.scenario_id,
        &healthsim_persist::SummaryOptions::without_samples(),
    )?;
    let summary_time = started.elapsed();

    let result_json = serde_json::to_string(&updated)?;
    println!("entities:                {n}");
    println!("open + migrate:          {open_time:.1?}");
    println!("convert only:            {convert_time:.1?}");
    println!("persist (all new):       {insert_time:.1?}");
    println!("persist (all updates):   {update_time:.1?}");
    println!("persist 50 (updates):    {batch_time:.1?}");
    println!("summary alone:           {summary_time:.1?}");
    println!(
        "result: {} bytes, {} tokens (summary alone {} tokens); batch of 50: {} tokens",
        result_json.len(),
        healthsim_summary::count_tokens(&result_json),
        updated.summary.token_estimate,
        healthsim_summary::count_tokens(&serde_json::to_string(&batch_of_50)?),
    );
    Ok(())
}
