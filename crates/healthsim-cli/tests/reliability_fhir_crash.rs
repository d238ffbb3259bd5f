//! Crash safety of a FHIR import committed in chunks (`import-fhir --commit chunks`): killed at
//! any moment with SIGKILL, then re-run with the same input into the same scenario, the import
//! ends with exactly the resources of the input — every table with its expected row count, no
//! id twice, the same row contents as an uninterrupted import — and the file's integrity holds
//! (the manifest equals `count(*)` of every table) after the kill and after the re-run.
//!
//! The re-run is what a user does after a crash: `--scenario NAME` when the killed run had
//! created the scenario (its first chunk committed), else the same `--name NAME` again.
//!
//! Sizes: a bulk-export folder of 3,000 resources (1,000 patients, each with an encounter and a
//! condition, plus a metadata file the import skips) in chunks of 250 (12 transactions), 6
//! trials. `HEALTHSIM_TEST_SCALE=n` multiplies resources and trials by n; `HEALTHSIM_TEST_SEED`
//! changes the kill schedule (printed with how the kills landed).

mod reliability_common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use healthsim_schema::duckdb::{params, Connection};
use reliability_common::{
    check_integrity, healthsim_on, inspect, open_store, run, run_and_kill, scale, scenario_id,
    seed, KillOutcome, Rng, RunTime, TestResult,
};
use serde_json::json;

/// Patients per run (× scale); each brings an encounter and a condition.
const PATIENTS: usize = 1_000;
/// Trials per run (× scale).
const TRIALS: usize = 6;
/// Resources per chunk (one transaction each).
const CHUNK: &str = "250";
/// How far past one uninterrupted run the kill may come (a little: a kill after the end must
/// find the import complete).
const KILL_WINDOW: f64 = 1.05;
/// The tables the input fills and the rows each gets per patient.
const TABLES: &[(&str, usize)] = &[
    ("persons", 1),
    ("patients", 1),
    ("encounters", 1),
    ("diagnoses", 1),
];

/// Writes the input folder: one NDJSON file per resource type and a non-FHIR metadata file.
fn write_input(folder: &Path, patients: usize) -> TestResult {
    std::fs::create_dir_all(folder)?;
    let open = |name: &str| -> TestResult<std::io::BufWriter<std::fs::File>> {
        Ok(std::io::BufWriter::new(std::fs::File::create(
            folder.join(name),
        )?))
    };
    let (mut p, mut e, mut c) = (
        open("Patient.ndjson")?,
        open("Encounter.ndjson")?,
        open("Condition.ndjson")?,
    );
    for i in 0..patients {
        let patient = json!({
            "resourceType": "Patient", "id": format!("p{i}"),
            "gender": if i % 3 == 0 { "male" } else { "female" },
            "birthDate": format!("{}-{:02}-{:02}", 1930 + i % 70, 1 + i % 12, 1 + i % 28),
            "name": [{"family": format!("Crash{}", i % 97), "given": [format!("G{i}")]}]
        });
        let encounter = json!({
            "resourceType": "Encounter", "id": format!("e{i}"), "status": "finished",
            "class": {"code": if i % 5 == 0 { "IMP" } else { "AMB" }},
            "subject": {"reference": format!("Patient/p{i}")},
            "period": {"start": format!("2024-{:02}-02T08:00:00Z", 1 + i % 12)}
        });
        let code = ["E11.9", "I10", "J45.909"][i % 3];
        let condition = json!({
            "resourceType": "Condition", "id": format!("c{i}"),
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}]},
            "subject": {"reference": format!("Patient/p{i}")},
            "encounter": {"reference": format!("Encounter/e{i}")},
            "onsetDateTime": "2020-05"
        });
        writeln!(p, "{patient}")?;
        writeln!(e, "{encounter}")?;
        writeln!(c, "{condition}")?;
    }
    for mut out in [p, e, c] {
        out.flush()?;
    }
    std::fs::write(
        folder.join("export_metadata.json"),
        r#"{"generator": "crash test", "patients": "see Patient.ndjson"}"#,
    )?;
    Ok(())
}

/// Per table: its rows in the scenario (without `scenario_id` and `created_at`) as text,
/// ordered by primary key, after checking that no id is there twice.
fn contents(conn: &Connection, scenario: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut out = BTreeMap::new();
    for (table, _) in TABLES {
        let t = healthsim_schema::by_table(table).ok_or("unknown table")?;
        let (rows, ids): (i64, i64) = conn
            .query_row(
                &format!(
                    "SELECT count(*), count(DISTINCT {}) FROM {table} WHERE scenario_id = ?",
                    t.primary_key
                ),
                params![scenario],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| format!("counting {table}: {e}"))?;
        if rows != ids {
            return Err(format!("{table}: {rows} rows but {ids} distinct ids"));
        }
        let mut stmt = conn
            .prepare(&format!(
                "SELECT r::VARCHAR FROM (SELECT * EXCLUDE (scenario_id, created_at) FROM {table} \
                 WHERE scenario_id = ? ORDER BY {}) r",
                t.primary_key
            ))
            .map_err(|e| format!("reading {table}: {e}"))?;
        let texts = stmt
            .query_map(params![scenario], |r| r.get::<_, String>(0))
            .map_err(|e| format!("reading {table}: {e}"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("reading {table}: {e}"))?;
        out.insert(table.to_string(), texts);
    }
    Ok(out)
}

fn path_arg(path: &Path) -> TestResult<&str> {
    path.to_str().ok_or_else(|| "non-UTF-8 temp path".into())
}

#[test]
fn a_chunked_fhir_import_killed_at_any_moment_completes_on_rerun() -> TestResult {
    let scale = scale();
    let (patients, trials) = (PATIENTS * scale, TRIALS * scale);
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("bulk");
    write_input(&input, patients)?;
    let folder = path_arg(&input)?;
    let db = dir.path().join("crash-fhir.duckdb");
    let import = |target: &[&str]| {
        let mut args = vec![
            "import-fhir",
            folder,
            "--commit",
            "chunks",
            "--batch-size",
            CHUNK,
        ];
        args.extend_from_slice(target);
        healthsim_on(&db, &args)
    };

    // Two uninterrupted runs: the expected rows (the same both times), and the time scale of
    // the kills (the second run's: the first one also creates and migrates the file).
    run(import(&["--name", "reference"]), None)?.expect_code(0)?;
    let calibration = run(import(&["--name", "reference-2"]), None)?.expect_code(0)?;
    let mut window = RunTime(calibration.elapsed);
    let (expected, again) = {
        let store = open_store(&db)?;
        inspect(&store, |conn| {
            let read = |name: &str| {
                let id = scenario_id(conn, name)?.ok_or(format!("no scenario {name}"))?;
                contents(conn, &id)
            };
            Ok((read("reference")?, read("reference-2")?))
        })?
    };
    assert_eq!(again, expected, "two uninterrupted imports differ");
    for (table, per_patient) in TABLES {
        assert_eq!(
            expected[*table].len(),
            per_patient * patients,
            "uninterrupted import: {table}"
        );
    }

    let seed = seed(0x5EED_F41C);
    let mut rng = Rng::new(seed);
    eprintln!(
        "fhir import crash: {} resources in chunks of {CHUNK}, uninterrupted {:?}, {trials} \
         trials, seed {seed}",
        3 * patients,
        calibration.elapsed
    );
    let mut landed = Vec::new();
    for trial in 0..trials {
        let name = format!("crash-{trial}");
        let after = rng.duration_up_to(window.0.mul_f64(KILL_WINDOW));
        let (outcome, elapsed) = run_and_kill(import(&["--name", &name]), after)?;
        window.observe(outcome, elapsed);
        let label = format!("trial {trial} (kill after {after:?}, {outcome:?}, seed {seed})");
        if let KillOutcome::Finished(code) = outcome {
            if code != 0 {
                return Err(format!("{label}: the import failed by itself").into());
            }
        }
        // After the kill: the file opens, its integrity holds; the scenario exists only with
        // whole chunks (what the re-run checks in the end).
        let store = open_store(&db).map_err(|e| format!("{label}: reopening failed: {e}"))?;
        let (committed, existed) = inspect(&store, |conn| {
            check_integrity(conn)?;
            match scenario_id(conn, &name)? {
                Some(id) => Ok((contents(conn, &id)?["patients"].len(), true)),
                None => Ok((0, false)),
            }
        })
        .map_err(|e| format!("{label}: {e}"))?;
        drop(store);
        landed.push((outcome, committed));

        // The re-run a user would do.
        let target: Vec<&str> = if existed {
            vec!["--scenario", &name]
        } else {
            vec!["--name", &name]
        };
        run(import(&target), None)?
            .expect_code(0)
            .map_err(|e| format!("{label}: re-run: {e}"))?;
        let store = open_store(&db)?;
        let got = inspect(&store, |conn| {
            check_integrity(conn)?;
            let id = scenario_id(conn, &name)?.ok_or("no scenario after the re-run")?;
            contents(conn, &id)
        })
        .map_err(|e| format!("{label}: after the re-run: {e}"))?;
        for (table, rows) in &expected {
            if got.get(table) != Some(rows) {
                return Err(format!(
                    "{label}: after the re-run {table} holds {} rows, expected {} (or other \
                     contents)",
                    got.get(table).map_or(0, Vec::len),
                    rows.len()
                )
                .into());
            }
        }
    }
    let killed = landed
        .iter()
        .filter(|(o, _)| *o == KillOutcome::Killed)
        .count();
    eprintln!("fhir import crash: (outcome, patients committed at the kill) per trial: {landed:?}");
    assert!(
        killed > 0,
        "no trial was killed while importing: {landed:?}"
    );
    Ok(())
}
