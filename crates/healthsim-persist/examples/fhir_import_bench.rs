//! Throughput and peak memory of the FHIR import (a benchmark, not a test).
//!
//! `cargo run --release -p healthsim-persist --example fhir_import_bench -- [N] [BATCH]` writes N
//! (default 100,000) FHIR resources as a Bulk Data export (one NDJSON file per resource type:
//! per patient one Patient, two Encounters, one Condition and one vital-sign Observation) into
//! a temporary folder, imports it into a fresh database with [`Store::import_fhir`] (chunks of
//! BATCH resources, default 5,000), and prints resources per second and the process's peak
//! resident memory (`VmHWM` of `/proc/self/status`) before and after the import.
//!
//! Measured on the 2-core development machine (release build, batch size 5,000): 28,000 to
//! 35,000 resources/s (34,000 to 42,000 rows/s) for 100,000 to 1,000,000 resources; about half
//! of the time is reading, mapping and validating, half DuckDB. Peak RSS grows with the input
//! (about 450 MB for 100,000 resources, 1.1 GB for 300,000, 3.5 GB for 1,000,000), nearly all
//! of it DuckDB's transaction-local storage (`duckdb_memory()` tag `IN_MEMORY_TABLE`): the
//! import is one transaction, and DuckDB keeps its uncommitted rows in memory, uncompressed,
//! until COMMIT. The importer's own memory is bounded by one chunk.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::time::Instant;

use healthsim_persist::fhir::FhirImportOptions;
use healthsim_persist::{Store, StoreOptions};
use serde_json::json;

/// Resources written per patient.
const PER_PATIENT: usize = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = match args.next() {
        Some(text) => text.parse()?,
        None => 100_000,
    };
    let batch_size: usize = match args.next() {
        Some(text) => text.parse()?,
        None => healthsim_persist::fhir::import::DEFAULT_BATCH_SIZE,
    };
    let dir = tempfile::tempdir()?;
    let export = dir.path().join("export");
    std::fs::create_dir(&export)?;

    let started = Instant::now();
    let bytes = generate(&export, n)?;
    println!(
        "generated {n} resources ({:.1} MB of NDJSON) in {:.2} s; peak RSS so far {}",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        peak_rss()
    );

    let store = Store::open(dir.path().join("bench.duckdb"), StoreOptions::default())?;
    let options = FhirImportOptions {
        batch_size,
        ..FhirImportOptions::default()
    };
    let started = Instant::now();
    let report = store.import_fhir(&[&export], &options)?;
    let seconds = started.elapsed().as_secs_f64();
    let read: u64 = report.resources_read.values().sum();
    let rows: u64 = report
        .rows_written
        .values()
        .map(|c| c.inserted + c.updated)
        .sum();
    let per_table: BTreeMap<&str, u64> = report
        .rows_written
        .iter()
        .map(|(t, c)| (t.as_str(), c.inserted + c.updated))
        .collect();
    println!(
        "imported {read} resources ({rows} rows: {per_table:?}) in {seconds:.2} s with batch size {batch_size}: \
         {:.0} resources/s, {:.0} rows/s",
        read as f64 / seconds,
        rows as f64 / seconds
    );
    println!(
        "unresolved references: {:?}; peak RSS (VmHWM) {}; database file {:.1} MB",
        report.unresolved_references,
        peak_rss(),
        std::fs::metadata(store.path())?.len() as f64 / 1e6
    );
    Ok(())
}

/// Writes `n` resources into one NDJSON file per resource type; returns the bytes written.
fn generate(folder: &std::path::Path, n: usize) -> std::io::Result<u64> {
    let open = |name: &str| -> std::io::Result<BufWriter<std::fs::File>> {
        Ok(BufWriter::new(std::fs::File::create(folder.join(name))?))
    };
    let mut patients = open("Patient.ndjson")?;
    let mut encounters = open("Encounter.ndjson")?;
    let mut conditions = open("Condition.ndjson")?;
    let mut observations = open("Observation.ndjson")?;
    let mut bytes = 0u64;
    let mut write = |out: &mut BufWriter<std::fs::File>, value: serde_json::Value| {
        let line = value.to_string();
        bytes += line.len() as u64 + 1;
        writeln!(out, "{line}")
    };
    let codes = [
        ("E11.9", "Type 2 diabetes mellitus without complications"),
        ("I10", "Essential (primary) hypertension"),
        ("J45.909", "Unspecified asthma, uncomplicated"),
        ("E78.5", "Hyperlipidemia, unspecified"),
    ];
    for i in 0..n {
        let p = i / PER_PATIENT;
        match i % PER_PATIENT {
            0 => write(
                &mut patients,
                json!({
                    "resourceType": "Patient", "id": format!("p{p}"),
                    "meta": {"source": "urn:bench"},
                    "name": [{"family": format!("Family{}", p % 997), "given": [format!("Given{p}"), "Q"]}],
                    "gender": if p.is_multiple_of(2) { "female" } else { "male" },
                    "birthDate": format!("{}-{:02}-{:02}", 1930 + p % 80, 1 + p % 12, 1 + p % 28),
                    "address": [{"line": [format!("{} Main St", p % 9000)], "city": "Phoenix", "state": "AZ", "postalCode": "85001"}],
                    "telecom": [{"system": "phone", "value": "555-0100"}]
                }),
            )?,
            1 | 2 => write(
                &mut encounters,
                json!({
                    "resourceType": "Encounter", "id": format!("e{i}"), "status": "finished",
                    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": if i % 7 == 1 { "IMP" } else { "AMB" }},
                    "type": [{"coding": [{"system": "http://snomed.info/sct", "code": "185349003", "display": "Encounter for check up"}]}],
                    "subject": {"reference": format!("Patient/p{p}")},
                    "period": {"start": "2024-01-02T08:00:00-07:00", "end": "2024-01-02T09:00:00-07:00"},
                    "serviceProvider": {"reference": "Organization/org-1"}
                }),
            )?,
            3 => {
                let (code, display) = codes[p % codes.len()];
                write(
                    &mut conditions,
                    json!({
                        "resourceType": "Condition", "id": format!("c{i}"),
                        "clinicalStatus": {"coding": [{"code": "active"}]},
                        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code, "display": display}]},
                        "subject": {"reference": format!("Patient/p{p}")},
                        "encounter": {"reference": format!("Encounter/e{}", i - 2)},
                        "onsetDateTime": "2019-04"
                    }),
                )?
            }
            _ => write(
                &mut observations,
                json!({
                    "resourceType": "Observation", "id": format!("o{i}"), "status": "final",
                    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
                    "subject": {"reference": format!("Patient/p{p}")},
                    "effectiveDateTime": "2024-01-02T08:10:00-07:00",
                    "valueQuantity": {"value": 60 + p % 40, "unit": "beats/minute", "system": "http://unitsofmeasure.org", "code": "/min"}
                }),
            )?,
        }
    }
    for mut out in [patients, encounters, conditions, observations] {
        out.flush()?;
    }
    Ok(bytes)
}

/// `VmHWM` of `/proc/self/status` (peak resident set size), or `unknown` off Linux.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}
