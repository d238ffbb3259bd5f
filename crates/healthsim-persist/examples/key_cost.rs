//! What the `(scenario_id, patient_id)` primary key costs the local file: the measurement behind
//! migration V0005 (no key constraints; docs/performance.md, "Logical keys instead of primary
//! keys"). Not a benchmark suite.
//!
//! `cargo run --release -p healthsim-persist --example key_cost -- [ROWS] [RUNS]` (default
//! 1,000,000 rows, 5 runs). Each run builds two database files, each with the head schema's
//! `patients` table (`healthsim_schema::ddl`), one of them with `PRIMARY KEY (scenario_id,
//! patient_id)` added as it was before V0005; loads `ROWS` patients generated in SQL into each
//! (one transaction, then `CHECKPOINT`), then copies them into a second scenario (a clone's
//! `INSERT … SELECT`, then `CHECKPOINT`). The two files alternate within a run, so both see the
//! same machine. Prints the medians, the ratios (with the key / without) and the file sizes.

use std::path::Path;
use std::time::Instant;

use duckdb::Connection;
use healthsim_schema::ddl::create_entity_table;

/// The load, the clone and the file size of one build.
struct Build {
    load: f64,
    clone: f64,
    megabytes: f64,
}

fn build(path: &Path, with_key: bool, rows: u64) -> Result<Build, Box<dyn std::error::Error>> {
    for file in [path.to_path_buf(), path.with_extension("duckdb.wal")] {
        if file.exists() {
            std::fs::remove_file(file)?;
        }
    }
    let patients = healthsim_schema::entity_type("patients")?;
    let mut table = create_entity_table(patients);
    if with_key {
        let end = table.rfind("\n);").ok_or("the DDL's closing line")?;
        table.insert_str(end, ",\n    PRIMARY KEY (scenario_id, patient_id)");
    }
    let conn = Connection::open(path)?;
    conn.execute_batch(&table)?;
    let started = Instant::now();
    conn.execute_batch(&format!(
        "BEGIN;
         INSERT INTO patients BY NAME
         SELECT 's1' AS scenario_id, 'pat-' || lpad(i::VARCHAR, 8, '0') AS patient_id,
                'per-' || i AS person_id, 'MRN' || i AS mrn,
                ['Ana', 'Ben', 'Cara', 'Dev'][1 + i % 4] AS given_name,
                'Fam' || (i % 997) AS family_name,
                DATE '1940-01-01' + (i % 25000)::INTEGER AS birth_date,
                CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END AS gender,
                ['AZ', 'CA', 'TX', 'NY'][1 + i % 4] AS state, 'City ' || (i % 50) AS city
         FROM range({rows}) t(i);
         COMMIT;
         CHECKPOINT;"
    ))?;
    let load = started.elapsed().as_secs_f64();
    let started = Instant::now();
    conn.execute_batch(
        "BEGIN;
         INSERT INTO patients
         SELECT * REPLACE ('s2' AS scenario_id) FROM patients WHERE scenario_id = 's1';
         COMMIT;
         CHECKPOINT;",
    )?;
    let clone = started.elapsed().as_secs_f64();
    drop(conn);
    Ok(Build {
        load,
        clone,
        megabytes: std::fs::metadata(path)?.len() as f64 / 1e6,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows: u64 = args
        .first()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let runs: usize = args.get(1).map(|a| a.parse()).transpose()?.unwrap_or(5);
    let dir = tempfile::tempdir()?;
    let (mut keyed, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        keyed.push(build(&dir.path().join("keyed.duckdb"), true, rows)?);
        plain.push(build(&dir.path().join("plain.duckdb"), false, rows)?);
    }
    println!("{rows} patients, medians of {runs} alternating runs: with the key / without (ratio)");
    type Field = fn(&Build) -> f64;
    let fields: [(&str, Field, &str); 3] = [
        ("load", |b| b.load, "s"),
        ("clone", |b| b.clone, "s"),
        ("file", |b| b.megabytes, "MB"),
    ];
    for (name, field, unit) in fields {
        let with = median(keyed.iter().map(field).collect());
        let without = median(plain.iter().map(field).collect());
        println!(
            "{name:>5}: {with:.2} {unit} / {without:.2} {unit} ({:.2}x)",
            with / without
        );
    }
    Ok(())
}
