//! Throughput and peak memory of the FHIR import (a benchmark, not a test).
//!
//! `cargo run --release -p healthsim-persist --example fhir_import_bench -- [N] [BATCH]
//! [--gz] [--commit all|chunks|auto]` writes N (default 100,000) FHIR resources as a Bulk Data
//! export (one NDJSON file per resource type, `.ndjson.gz` with `--gz`: per patient one
//! Patient, two Encounters, one Condition and one vital-sign Observation) into a temporary
//! folder, then times two phases:
//! 1. *read + map*: the export through `FhirSource` and the mapping alone (one thread, no
//!    database): what the import's reading thread costs;
//! 2. *import*: [`Store::import_fhir`] into a fresh database (chunks of BATCH resources, default
//!    10,000; commit mode default `chunks`), the reading thread and the writing thread together.
//!
//! and prints resources per second and the process's peak resident memory (`VmHWM` of
//! `/proc/self/status`) after each phase (the import's after closing the database, whose last
//! checkpoint is part of it). It runs under the allocator of the `healthsim` binary (mimalloc),
//! so its figures are `healthsim import-fhir`'s: paired with it on one export (`--write-only`),
//! 1,000,000 resources in 23.7 s here and 23.2 s there.
//!
//! `--write-only FOLDER` writes the export into FOLDER (new) and stops, for timing
//! `healthsim import-fhir FOLDER` on the same input.
//!
//! Before chunked commits (2026-12-05, 2-core machine, release, batch 5,000, one
//! transaction): 28,000 to 35,000 resources/s for 100,000 to 1,000,000 resources; peak RSS
//! about 450 MB at 100,000 resources, 1.1 GB at 300,000, 3.5 GB at 1,000,000, nearly all of it
//! DuckDB's transaction-local storage (`duckdb_memory()` tag `IN_MEMORY_TABLE`): DuckDB keeps a
//! transaction's uncommitted rows in memory, uncompressed, until COMMIT.
//!
//! With `--commit chunks` and the reading thread (2026-12-05, same machine, but shared by
//! about four other builds, load average 6.6–8.4, so speeds are low and noisy): 100,000
//! resources 14,400 resources/s, peak RSS 262 MB; 1,000,000 resources 13,500 resources/s at
//! load 8.4 (22,300 at load 6.6), peak RSS 447 MB; 1,000,000 as `.ndjson.gz` 11,900
//! resources/s, 462 MB. The memory target (< 512 MB at 1M) is met, the speed target (100,000
//! resources/s) is not: the writing thread is the limit (stage tables, `INSERT ... SELECT`
//! with primary-key maintenance, and COMMITs that write the write-ahead log and checkpoint);
//! docs/performance.md ("FHIR import") has the split.
//!
//! 2026-12-06 (idle, DuckDB 1.5.5, no primary keys, the writer's memory bounded while it
//! imports: `Store::with_bounded_memory`): 1,000,000 resources 41,000 resources/s, peak RSS
//! 331 MB (634 MB before the bound); 100,000 resources 39,800/s, 249 MB. Those runs used the
//! system allocator; under mimalloc (2026-12-06 night, 2-vCPU Intel Xeon, same session) the
//! same 1,000,000 resources went from 34,100 to 49,900 resources/s.
//!
//! 2026-12-07 (2-vCPU Intel Xeon, after DuckDB on one thread during the import, the mapped
//! entities moved into validation, `extra` serialized without `Display`, chunks of 10,000):
//! 65,024 resources/s, peak RSS 367 MB; read + map alone 151,400 resources/s. The machine's
//! speed drifted; paired with the build before these changes, 0.78 of its time.
//!
//! 2026-12-07 evening (same Xeon): the import's reading thread needs 10.2–10.4 s of CPU per
//! 1,000,000 resources (9.0–9.1 s on its own) and the writing thread 11.6–11.8 s, while
//! 100,000 resources/s allows 10 s, 20 core-seconds on two cores: the speed target is blocked
//! on a 2-core machine. docs/performance.md ("FHIR import") has the measurements and what
//! would unblock it.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::time::Instant;

use healthsim_persist::fhir::{CommitMode, FhirImportOptions, FhirSource, Mapped};
use healthsim_persist::{Store, StoreOptions};
use serde_json::json;

/// The allocator the `healthsim` binary runs under, so the figures are `import-fhir`'s.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Resources written per patient.
const PER_PATIENT: usize = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut numbers = Vec::new();
    let mut gz = false;
    let mut commit = CommitMode::Chunks;
    let mut write_only = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--gz" => gz = true,
            "--write-only" => {
                write_only = Some(args.next().ok_or("--write-only needs a folder")?);
            }
            "--commit" => {
                commit = match args.next().as_deref() {
                    Some("all") => CommitMode::All,
                    Some("chunks") => CommitMode::Chunks,
                    Some("auto") => CommitMode::Auto,
                    other => return Err(format!("--commit all|chunks|auto, got {other:?}").into()),
                }
            }
            number => numbers.push(number.parse::<usize>()?),
        }
    }
    let n = numbers.first().copied().unwrap_or(100_000);
    let batch_size = numbers
        .get(1)
        .copied()
        .unwrap_or(healthsim_persist::fhir::import::DEFAULT_BATCH_SIZE);
    let dir = tempfile::tempdir()?;
    let export = match &write_only {
        Some(folder) => std::path::PathBuf::from(folder),
        None => dir.path().join("export"),
    };
    std::fs::create_dir(&export)?;

    let started = Instant::now();
    let (bytes, on_disk) = generate(&export, n, gz)?;
    if write_only.is_some() {
        println!(
            "wrote {n} resources ({on_disk} bytes) into {}",
            export.display()
        );
        return Ok(());
    }
    println!(
        "generated {n} resources ({:.1} MB of NDJSON, {:.1} MB on disk{}) in {:.2} s; peak RSS so far {}",
        bytes as f64 / 1e6,
        on_disk as f64 / 1e6,
        if gz { ", gzip" } else { "" },
        started.elapsed().as_secs_f64(),
        peak_rss()
    );

    let started = Instant::now();
    let mut mapped = 0u64;
    for item in FhirSource::open([&export])? {
        // As the import maps: the resource moves into its row.
        if let Ok(Mapped::Entities(rows)) = item?.map_resource_taking() {
            mapped += rows.len() as u64;
        }
    }
    let read_seconds = started.elapsed().as_secs_f64();
    println!(
        "read + map alone: {n} resources ({mapped} rows) in {read_seconds:.2} s: {:.0} resources/s; peak RSS so far {}",
        n as f64 / read_seconds,
        peak_rss()
    );

    let store = Store::open(dir.path().join("bench.duckdb"), StoreOptions::default())?;
    let options = FhirImportOptions {
        batch_size,
        commit,
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
        "imported {read} resources ({rows} rows: {per_table:?}) in {seconds:.2} s with batch size {batch_size}, \
         commit {:?} ({} chunks): {:.0} resources/s, {:.0} rows/s",
        report.commit_mode,
        report.chunks_committed,
        read as f64 / seconds,
        rows as f64 / seconds
    );
    // Closing checkpoints what the log still holds: part of the import's peak, as it is of
    // `healthsim import-fhir`'s.
    let path = store.path().expect("the bench opens a file").to_path_buf();
    drop(store);
    println!(
        "unresolved references: {:?}; peak RSS (VmHWM) {} including the close; database file {:.1} MB",
        report.unresolved_references,
        peak_rss(),
        std::fs::metadata(&path)?.len() as f64 / 1e6
    );
    Ok(())
}

/// An output file, plain or gzip-compressed.
type Out = BufWriter<Box<dyn Write>>;

/// Writes `n` resources into one NDJSON file per resource type (`.ndjson.gz` when `gz`);
/// returns the bytes of NDJSON written and the bytes on disk.
fn generate(folder: &std::path::Path, n: usize, gz: bool) -> std::io::Result<(u64, u64)> {
    let open = |name: &str| -> std::io::Result<Out> {
        let file = std::fs::File::create(folder.join(if gz {
            format!("{name}.gz")
        } else {
            name.to_string()
        }))?;
        let inner: Box<dyn Write> = if gz {
            Box::new(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::fast(),
            ))
        } else {
            Box::new(file)
        };
        Ok(BufWriter::new(inner))
    };
    let mut patients = open("Patient.ndjson")?;
    let mut encounters = open("Encounter.ndjson")?;
    let mut conditions = open("Condition.ndjson")?;
    let mut observations = open("Observation.ndjson")?;
    let mut bytes = 0u64;
    let mut write = |out: &mut Out, value: serde_json::Value| {
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
    for out in [patients, encounters, conditions, observations] {
        // Dropping the encoder writes the gzip trailer.
        drop(out.into_inner().map_err(|e| e.into_error())?);
    }
    let mut on_disk = 0;
    for entry in std::fs::read_dir(folder)? {
        on_disk += entry?.metadata()?.len();
    }
    Ok((bytes, on_disk))
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
