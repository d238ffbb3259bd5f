//! `cargo xtask bench`: end-to-end performance figures of the release build, printed as one table
//! and written to `target/bench/results.json`. Sizes: 1,000,000 entities by default, `--size N`
//! for another size, `--quick` for a smoke run.
//!
//! Everything is measured from outside, the way a user meets it: the `healthsim` binary persisting a
//! JSON Lines file, and an MCP client (a minimal JSON-RPC speaker written here) driving
//! `healthsim mcp`. DuckDB's own direct load of the same entities (`INSERT INTO <table> BY NAME
//! SELECT * FROM read_json(...)`, one statement per type, from one flat file per type) runs
//! through the `bulk_baseline` example of healthsim-persist in the same session, so every
//! throughput comes with its ratio to the engine's own load.
//!
//! The same run measures a DuckLake beside the file (catalog in PostgreSQL, Parquet under a
//! folder of `target/bench`): persisting the same patients file, with its ratio to the file's
//! figure of this run; the agent loop; the read path on the big scenario. Its catalog server is
//! a throwaway PostgreSQL on 127.0.0.1 started by healthsim-pgtest (or the server
//! `$HEALTHSIM_TEST_PG` names), stopped and removed when this process ends, however it ends.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use crate::{cargo, root, run};

/// Sizes and repetitions; `--quick` shrinks everything for a smoke run.
struct Plan {
    big: u64,
    scaling: Vec<u64>,
    runs: usize,
    agent_calls: usize,
}

impl Plan {
    fn from_args(args: &[String]) -> Self {
        let size = args
            .iter()
            .position(|a| a == "--size")
            .and_then(|i| args.get(i + 1))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(big) = size {
            return Plan {
                big,
                scaling: vec![big / 100, big / 10, big],
                runs: 3,
                agent_calls: 200,
            };
        }
        if args.iter().any(|a| a == "--quick") {
            Plan {
                big: 20_000,
                scaling: vec![2_000, 20_000],
                runs: 1,
                agent_calls: 40,
            }
        } else {
            Plan {
                big: 1_000_000,
                scaling: vec![10_000, 100_000, 1_000_000],
                runs: 3,
                agent_calls: 200,
            }
        }
    }
}

/// One line of the result table.
struct Figure {
    name: String,
    value: String,
    target: &'static str,
    note: String,
}

impl Figure {
    /// `yes` / `no` per part of the target, `—` when the target is not a number (the same
    /// verdict the docs' tables give).
    fn met(&self) -> String {
        crate::results::met(
            &crate::results::measured(&self.value, self.target, &self.note),
            self.target,
        )
    }
}

pub(crate) fn bench(args: &[String]) -> Result<()> {
    let plan = Plan::from_args(args);
    run(
        "cargo build --release (healthsim, bulk_baseline, lake_floor)",
        cargo().args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "healthsim-cli",
            "-p",
            "healthsim-persist",
            "--example",
            "bulk_baseline",
            "--example",
            "lake_floor",
        ]),
    )?;
    run(
        "cargo build --release (healthsim)",
        cargo().args(["build", "--release", "--quiet", "-p", "healthsim-cli"]),
    )?;
    let bin = root().join("target/release/healthsim");
    let baseline = root().join("target/release/examples/bulk_baseline");
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let mut figures = Vec::new();

    // Inputs: patients only, and the multi-product mix, both as JSON Lines.
    let patients_file = dir.join(format!("patients-{}.jsonl", plan.big));
    generate(&bin, "patients", plan.big, &patients_file)?;
    let mixed_file = dir.join(format!("mixed-{}.jsonl", plan.big));
    let mixed_persons = (plan.big / 25).max(10);
    generate(&bin, "multi", mixed_persons, &mixed_file)?;
    let mixed_entities = count_lines(&mixed_file)?;
    // The file backend's persist throughput on the patients file: the lake's yardstick below.
    let mut file_patients_rate = f64::NAN;

    for (label, file, entities, target) in [
        (
            "persist patients (CLI, JSONL, end to end)",
            &patients_file,
            plan.big,
            "ratio >= 2.0",
        ),
        (
            "persist mixed multi-product (CLI, JSONL, end to end)",
            &mixed_file,
            mixed_entities,
            "ratio >= 1.0",
        ),
    ] {
        // The yardstick's input: the same entities as one flat file per type (untimed).
        let flat = file.with_extension("flat");
        if !flat.exists() {
            run(
                &format!("splitting {} per type", file.display()),
                Command::new(&baseline).arg("split").arg(file).arg(&flat),
            )?;
        }
        let mut secs = Vec::new();
        let mut rss = Vec::new();
        let mut base = Vec::new();
        let mut floor = Vec::new();
        for i in 0..plan.runs {
            let persisted = fresh_db(&dir, &format!("persist-{i}"))?;
            let (elapsed, peak_kb) = timed_child(&mut persist_command(&bin, &persisted, file))?;
            secs.push(elapsed);
            rss.push(peak_kb);
            let db = fresh_db(&dir, &format!("baseline-{i}"))?;
            let (b, _) = timed_child(Command::new(&baseline).arg("load").arg(&db).arg(&flat))?;
            base.push(b);
            let db = fresh_db(&dir, &format!("floor-{i}"))?;
            floor.push(storing_time(&baseline, &persisted, &db)?);
        }
        let ours = entities as f64 / median(&mut secs);
        let engine = entities as f64 / median(&mut base);
        let storing = entities as f64 / median(&mut floor);
        figures.push(Figure {
            name: format!("{label}, {entities} entities"),
            value: format!("{:.0}/s", ours),
            target,
            note: format!(
                "ratio {:.2} to DuckDB's direct load (INSERT ... BY NAME SELECT * FROM read_json, one per type): {:.0}/s; \
                 DuckDB storing the rows this persist stored, from memory in one transaction (no parsing): {:.0}/s, \
                 ratio {:.2} to the direct load, about the most any writer of these rows can reach on this engine",
                ours / engine,
                engine,
                storing,
                storing / engine
            ),
        });
        if label.starts_with("persist patients") {
            file_patients_rate = ours;
            rss.sort_unstable();
            figures.push(Figure {
                name: format!("peak RSS persisting {entities} entities from a stream"),
                value: format!("{} MB", rss[rss.len() / 2] / 1024),
                target: "<= 256 MB",
                note: "VmHWM of the healthsim process".into(),
            });
        }
    }

    // Scaling: persist and summary at each size (patients only).
    for &n in &plan.scaling {
        let file = dir.join(format!("patients-{n}.jsonl"));
        generate(&bin, "patients", n, &file)?;
        let db = fresh_db(&dir, &format!("scale-{n}"))?;
        let (secs, _) = timed_child(&mut persist_command(&bin, &db, &file))?;
        let mut mcp = Mcp::start(&bin, &db)?;
        let mut without = mcp.time_calls(
            plan.runs.max(3),
            "get_scenario_summary",
            json!({"scenario_id": "bench", "include_samples": false}),
        )?;
        let mut with = mcp.time_calls(
            plan.runs.max(3),
            "get_scenario_summary",
            json!({"scenario_id": "bench", "include_samples": true}),
        )?;
        figures.push(Figure {
            name: format!("scaling {n}: persist / summary without / with samples"),
            value: format!(
                "{:.0}/s / {:.1} ms / {:.1} ms",
                n as f64 / secs,
                ms(median(&mut without)),
                ms(median(&mut with))
            ),
            target: "summary grows far slower than data",
            note: String::new(),
        });
        if Some(&n) == plan.scaling.last() {
            figures.extend(big_scenario_figures(
                &mut mcp,
                &patients_file,
                n,
                plan.runs,
            )?);
        }
    }

    // Reads on the big mixed scenario.
    let db = fresh_db(&dir, "reads")?;
    timed_child(&mut persist_command(&bin, &db, &mixed_file))?;
    let mut mcp = Mcp::start(&bin, &db)?;
    let runs = plan.runs.max(5);
    let mut without = mcp.time_calls(
        runs,
        "get_scenario_summary",
        json!({"scenario_id": "bench", "include_samples": false}),
    )?;
    let mut with = mcp.time_calls(
        runs,
        "get_scenario_summary",
        json!({"scenario_id": "bench", "include_samples": true}),
    )?;
    figures.push(Figure {
        name: format!("summary without / with samples, {mixed_entities} mixed entities"),
        value: format!(
            "{:.1} ms / {:.1} ms",
            ms(median(&mut without)),
            ms(median(&mut with))
        ),
        target: "<= 100 ms / <= 200 ms",
        note: "MCP round trip".into(),
    });
    let filtered = "SELECT claim_id, member_id, service_date, total_billed FROM claims WHERE total_billed > 1000 AND status = 'paid'";
    let join = "SELECT p.patient_id, e.encounter_id, d.code FROM patients p JOIN encounters e ON e.patient_id = p.patient_id \
                JOIN diagnoses d ON d.encounter_id = e.encounter_id WHERE d.code = 'E11.9'";
    let mut q1 = mcp.time_calls(
        runs,
        "query_scenario",
        json!({"scenario_id": "bench", "query": filtered}),
    )?;
    let mut q2 = mcp.time_calls(
        runs,
        "query_scenario",
        json!({"scenario_id": "bench", "query": join}),
    )?;
    figures.push(Figure {
        name: format!("first page: filtered query / 3-table join, {mixed_entities} entities"),
        value: format!(
            "{:.1} ms / {:.1} ms",
            ms(median(&mut q1)),
            ms(median(&mut q2))
        ),
        target: "<= 50 ms / <= 200 ms",
        note: "MCP round trip, includes exact total_count".into(),
    });
    if mcp.has_tool("clone_scenario") {
        let mut clone = Vec::new();
        for i in 0..plan.runs {
            clone.extend(mcp.time_calls(
                1,
                "clone_scenario",
                json!({"scenario_id": "bench", "new_name": format!("bench-clone-{i}")}),
            )?);
        }
        let out = dir.join("export");
        let mut export = Vec::new();
        for i in 0..plan.runs {
            let target = out.join(format!("run-{i}"));
            if target.exists() {
                std::fs::remove_dir_all(&target)?;
            }
            std::fs::create_dir_all(&target)?;
            export.extend(mcp.time_calls(
                1,
                "export_scenario",
                json!({"scenario_id": "bench", "format": "parquet", "output_path": target}),
            )?);
        }
        figures.push(Figure {
            name: format!("clone / parquet export, {mixed_entities} entities"),
            value: format!("{:.2} s / {:.2} s", median(&mut clone), median(&mut export)),
            target: "<= 1 s per 1M entities / <= 2 s",
            note: String::new(),
        });
    } else {
        figures.push(Figure {
            name: "clone / parquet export".into(),
            value: "not measured".into(),
            target: "<= 2 s each",
            note: "the server has no clone_scenario/export_scenario tools yet".into(),
        });
    }
    drop(mcp);
    // The agent loop: many small persist calls through one MCP server.
    let db = fresh_db(&dir, "agent")?;
    let per_call = agent_loop(&bin, &db, &patients_file, plan.agent_calls)?;
    figures.push(Figure {
        name: format!(
            "agent loop: {} persist calls of 50 via MCP, per call p50 / p99",
            per_call.len()
        ),
        value: format!(
            "{:.1} ms / {:.1} ms",
            ms(percentile(&per_call, 0.5)),
            ms(percentile(&per_call, 0.99))
        ),
        target: "<= 10 ms / <= 50 ms",
        note: "includes the summary returned with every call".into(),
    });

    figures.extend(lake_figures(
        &bin,
        &dir,
        &plan,
        &patients_file,
        file_patients_rate,
    )?);
    // Last: it writes over a gigabyte of files (an export, two databases), whose write-back
    // would share the disk with the commits the figures above time.
    let reads = dir.join("reads.duckdb");
    figures.push(document_memory(
        &bin,
        &dir,
        mixed_persons,
        &reads,
        mixed_entities,
    )?);

    print_table(&figures);
    let json_out = dir.join("results.json");
    let rows: Vec<Value> = figures
        .iter()
        .map(|f| {
            json!({"figure": f.name, "value": f.value, "target": f.target, "met": f.met(), "note": f.note})
        })
        .collect();
    std::fs::write(
        &json_out,
        serde_json::to_string_pretty(&json!({"machine": machine(), "figures": rows}))?,
    )?;
    eprintln!("xtask: wrote {}", json_out.display());
    Ok(())
}

/// The agent's read path and per-call write cost on a scenario of `n` patients (`bench`, already
/// open in `mcp`): summary, the first page of a filtered query, and 50-entity persist calls into
/// it paired with the same calls into a small scenario.
fn big_scenario_figures(
    mcp: &mut Mcp,
    patients: &Path,
    n: u64,
    runs: usize,
) -> Result<Vec<Figure>> {
    let (summary, page) = read_path(mcp, runs)?;
    // Fresh ids, so every call inserts (an upsert of existing ids would measure another path).
    let calls = 40;
    let entities = read_entities(patients, 50 * calls)?;
    let with_ids = |prefix: &str, chunk: &[Value]| -> Vec<Value> {
        chunk
            .iter()
            .enumerate()
            .map(|(j, entity)| {
                let mut entity = entity.clone();
                entity["patient_id"] = json!(format!("{prefix}-{j}"));
                entity
            })
            .collect()
    };
    mcp.call(
        "persist_entities",
        json!({"entity_type": "patients", "entities": with_ids("small-seed", &entities[..50]), "scenario_name": "small"}),
    )?;
    let (mut big, mut small) = (Vec::new(), Vec::new());
    for (i, chunk) in entities.chunks(50).enumerate() {
        for (scenario, times) in [("bench", &mut big), ("small", &mut small)] {
            times.push(mcp.call(
                "persist_entities",
                json!({"entity_type": "patients", "entities": with_ids(&format!("{scenario}-call-{i}"), chunk), "scenario_id": scenario}),
            )?);
        }
    }
    let (big, small) = (median(&mut big), median(&mut small));
    Ok(vec![
        Figure {
            name: format!("read path, {n} patients: summary without samples / first page of `{READ_PATH_QUERY}`"),
            value: format!("{:.1} ms / {:.1} ms", ms(summary), ms(page)),
            target: "<= 100 ms / <= 50 ms",
            note: "MCP round trip; the page includes the exact total_count".into(),
        },
        Figure {
            name: format!("persist_entities of 50 via MCP into {n} patients vs into a small scenario, p50"),
            value: format!("{:.1} ms vs {:.1} ms", ms(big), ms(small)),
            target: "<= 15 ms and <= 1.5x",
            note: format!("{calls} calls each, alternating; ratio {:.2}; includes the summary returned with every call", big / small),
        },
    ])
}

/// The filtered query whose first page the read-path figures time.
const READ_PATH_QUERY: &str = "SELECT * FROM patients WHERE state = 'AZ' AND gender = 'F'";

/// Median seconds of the summary without samples and of the first page of [`READ_PATH_QUERY`]
/// on the scenario `bench` of the server `mcp` speaks to (at least 5 calls each).
fn read_path(mcp: &mut Mcp, runs: usize) -> Result<(f64, f64)> {
    let runs = runs.max(5);
    let mut summary = mcp.time_calls(
        runs,
        "get_scenario_summary",
        json!({"scenario_id": "bench", "include_samples": false}),
    )?;
    let mut page = mcp.time_calls(
        runs,
        "query_scenario",
        json!({"scenario_id": "bench", "query": READ_PATH_QUERY}),
    )?;
    Ok((median(&mut summary), median(&mut page)))
}

/// The agent loop on the database `db` (a file path or a lake's string): `calls` persist calls of
/// 50 patients through one MCP server into one scenario; each call's seconds, sorted.
fn agent_loop(
    bin: &Path,
    db: impl AsRef<OsStr>,
    patients: &Path,
    calls: usize,
) -> Result<Vec<f64>> {
    let mut mcp = Mcp::start(bin, db)?;
    let batch: Vec<Value> = read_entities(patients, 50 * calls)?;
    let mut per_call = Vec::new();
    for (i, chunk) in batch.chunks(50).enumerate() {
        let mut args = json!({"entities": chunk, "entity_type": "patients"});
        if i == 0 {
            args["scenario_name"] = json!("agent-loop");
        } else {
            args["scenario_id"] = json!("agent-loop");
        }
        per_call.push(mcp.call("persist_entities", args)?);
    }
    per_call.sort_by(f64::total_cmp);
    Ok(per_call)
}

/// The value at quantile `q` of sorted values.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// The lake's figures, each beside the file's of this run: persisting the patients file (with
/// its ratio to `file_rate`, the file backend's throughput on the same file), the read path on
/// the lake holding that scenario, and the agent loop.
fn lake_figures(
    bin: &Path,
    dir: &Path,
    plan: &Plan,
    patients: &Path,
    file_rate: f64,
) -> Result<Vec<Figure>> {
    let mut secs = Vec::new();
    let mut rss = Vec::new();
    let mut lake = String::new();
    for i in 0..plan.runs {
        lake = fresh_lake(dir, &format!("lake-persist-{i}"))?;
        let (elapsed, peak_kb) = timed_child(&mut persist_command(bin, &lake, patients))?;
        secs.push(elapsed);
        rss.push(peak_kb);
    }
    let catalog = catalog_note();
    let rate = plan.big as f64 / median(&mut secs);
    rss.sort_unstable();
    let mut figures = vec![Figure {
        name: format!(
            "lake: persist patients (CLI, JSONL, end to end), {} entities",
            plan.big
        ),
        value: format!("{rate:.0}/s"),
        target: "ratio >= 0.5",
        note: format!(
            "ratio {:.2} to the file backend on the same file in this run ({file_rate:.0}/s); \
             peak RSS {} MB; {catalog}",
            rate / file_rate,
            rss[rss.len() / 2] / 1024
        ),
    }];

    // The last run's lake holds the big scenario.
    let mut mcp = Mcp::start(bin, &lake)?;
    let (summary, page) = read_path(&mut mcp, plan.runs)?;
    drop(mcp);
    figures.push(Figure {
        name: format!(
            "lake: read path, {} patients: summary without samples / first page of `{READ_PATH_QUERY}`",
            plan.big
        ),
        value: format!("{:.1} ms / {:.1} ms", ms(summary), ms(page)),
        target: "<= 200 ms each",
        note: "MCP round trip; the page includes the exact total_count".into(),
    });

    let lake = fresh_lake(dir, "lake-agent")?;
    let per_call = agent_loop(bin, &lake, patients, plan.agent_calls)?;
    // What DuckLake itself takes for the two transactions every call needs (on a lake of its own).
    let floor = crate::output(
        "lake_floor",
        Command::new(root().join("target/release/examples/lake_floor"))
            .arg(fresh_lake(dir, "lake-floor")?)
            .arg(plan.agent_calls.min(40).to_string()),
    )?;
    figures.push(Figure {
        name: format!(
            "lake: agent loop, {} persist calls of 50 via MCP, per call p50",
            per_call.len()
        ),
        value: format!("{:.1} ms", ms(percentile(&per_call, 0.5))),
        target: "<= 50 ms",
        note: format!(
            "p99 {:.1} ms; includes the summary returned with every call; {catalog}; \
             DuckLake's floor for a call (touch the scenario's guard row and append 50 rows, then \
             count them in a snapshot; `lake_floor`, in process): {}",
            ms(percentile(&per_call, 0.99)),
            floor.trim().trim_start_matches("lake floor: ")
        ),
    });
    Ok(figures)
}

/// A new, empty lake named `name`: a fresh catalog database on the bench's PostgreSQL (started on
/// first use) and an empty data folder `dir/<name>/`; returns the lake's string for `--db`.
fn fresh_lake(dir: &Path, name: &str) -> Result<String> {
    // healthsim-pgtest reports a failure (no PostgreSQL, initdb or start failed) by a panic whose
    // message is already printed; here it becomes this bench's error. Its watchdog stops the
    // server when this process ends, on success, error or kill alike.
    let conninfo = std::panic::catch_unwind(|| healthsim_pgtest::cluster().database("bench_lake"))
        .map_err(|_| anyhow!("no PostgreSQL for the lake figures (see the message above)"))?;
    let data = dir.join(name);
    if data.exists() {
        std::fs::remove_dir_all(&data)?;
    }
    std::fs::create_dir_all(&data)?;
    let data = data.canonicalize()?;
    Ok(format!(
        "ducklake:postgres:{conninfo} data_path={}/",
        data.display()
    ))
}

/// Which catalog server the lake figures ran on, for their notes.
fn catalog_note() -> String {
    match healthsim_pgtest::cluster().started() {
        Some(started) => format!(
            "catalog: local PostgreSQL {} started by the bench (fsync off)",
            started.version
        ),
        None => format!(
            "catalog: the PostgreSQL server ${} names",
            healthsim_pgtest::SERVER_VARIABLE
        ),
    }
}

/// Peak RSS of the two whole-document inputs, on the mixed data: `healthsim persist` of the
/// same entities as one `{type: [...]}` JSON document, and `healthsim import` of the JSON
/// export of the scenario persisted in `db` (each into a fresh database).
fn document_memory(
    bin: &Path,
    dir: &Path,
    persons: u64,
    db: &Path,
    entities: u64,
) -> Result<Figure> {
    let document = dir.join(format!("mixed-{persons}.json"));
    if !document.exists() {
        run(
            &format!("generating the mixed data for {persons} persons as one document"),
            Command::new(bin)
                .args([
                    "generate", "--mix", "multi", "--format", "document", "--seed", "7",
                ])
                .args(["--persons", &persons.to_string(), "--out"])
                .arg(&document),
        )?;
    }
    let target = fresh_db(dir, "document")?;
    let (persist_secs, persist_kb) = timed_child(&mut persist_command(bin, &target, &document))?;
    let export = dir.join("mixed-export.json");
    if export.exists() {
        std::fs::remove_file(&export)?;
    }
    run(
        "exporting the mixed scenario as JSON",
        Command::new(bin)
            .arg("--db")
            .arg(db)
            .args(["export", "bench", "--format", "json", "--out"])
            .arg(&export),
    )?;
    let target = fresh_db(dir, "import")?;
    let (import_secs, import_kb) = timed_child(
        Command::new(bin)
            .arg("--db")
            .arg(&target)
            .arg("import")
            .arg(&export),
    )?;
    let mb = |path: &Path| std::fs::metadata(path).map_or(0, |m| m.len() / 1_000_000);
    Ok(Figure {
        name: format!(
            "peak RSS: persist of one JSON document / import of the JSON export, {entities} mixed entities"
        ),
        value: format!("{} MB / {} MB", persist_kb / 1024, import_kb / 1024),
        target: "<= 256 MB each",
        note: format!(
            "VmHWM; document {} MB persisted in {persist_secs:.1} s, export {} MB imported in {import_secs:.1} s",
            mb(&document),
            mb(&export)
        ),
    })
}

/// Seconds DuckDB takes to store the entity rows of `persisted` into a fresh `db` from an
/// in-memory copy (`bulk_baseline floor`: no parsing; the inserts, commit and close).
fn storing_time(baseline: &Path, persisted: &Path, db: &Path) -> Result<f64> {
    let out = crate::output(
        "bulk_baseline floor",
        Command::new(baseline).arg("floor").arg(persisted).arg(db),
    )?;
    stored_seconds(&out).with_context(|| format!("bulk_baseline floor printed {out:?}"))
}

/// The seconds of `bulk_baseline floor`'s line, `floor: <rows> rows stored in <seconds> s`.
fn stored_seconds(out: &str) -> Option<f64> {
    out.trim()
        .strip_prefix("floor: ")?
        .split_once(" rows stored in ")?
        .1
        .strip_suffix(" s")?
        .parse()
        .ok()
}

/// `healthsim --db <db> --json persist --name bench <file>`; `db` is a file path or a lake's
/// string.
fn persist_command(bin: &Path, db: impl AsRef<OsStr>, file: &Path) -> Command {
    let mut command = Command::new(bin);
    command
        .arg("--db")
        .arg(db)
        .args(["--json", "persist", "--name", "bench"])
        .arg(file);
    command
}

fn ms(secs: f64) -> f64 {
    secs * 1000.0
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn fresh_db(dir: &Path, name: &str) -> Result<PathBuf> {
    let path = dir.join(format!("{name}.duckdb"));
    for p in [path.clone(), path.with_extension("duckdb.wal")] {
        if p.exists() {
            std::fs::remove_file(&p)?;
        }
    }
    Ok(path)
}

fn generate(bin: &Path, mix: &str, persons: u64, out: &Path) -> Result<()> {
    if out.exists() {
        return Ok(());
    }
    run(
        &format!("generating {mix} data for {persons} persons"),
        Command::new(bin)
            .args([
                "generate",
                "--mix",
                mix,
                "--persons",
                &persons.to_string(),
                "--seed",
                "7",
                "--out",
            ])
            .arg(out),
    )
}

fn count_lines(path: &Path) -> Result<u64> {
    let file = std::fs::File::open(path)?;
    let mut n = 0;
    for line in BufReader::new(file).lines() {
        if !line?.trim().is_empty() {
            n += 1;
        }
    }
    Ok(n)
}

/// The first `n` entities of a generated JSONL file (the envelope's `entity` object).
fn read_entities(path: &Path, n: usize) -> Result<Vec<Value>> {
    let file = std::fs::File::open(path)?;
    let mut out = Vec::with_capacity(n);
    for line in BufReader::new(file).lines().take(n) {
        let v: Value = serde_json::from_str(&line?)?;
        out.push(v.get("entity").cloned().unwrap_or(v));
    }
    Ok(out)
}

/// Runs a child to completion; returns wall seconds and its peak RSS in KiB.
///
/// The peak is the kernel's high-water mark `VmHWM` from `/proc/<pid>/status`, polled every 5 ms
/// while the child runs (it only grows, so the last reading before exit is the peak, give or take
/// the final 5 ms).
fn timed_child(cmd: &mut Command) -> Result<(f64, u64)> {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting a benchmark process")?;
    let status_path = format!("/proc/{}/status", child.id());
    let stderr = child.stderr.take();
    // Drain stderr in a thread so a chatty child cannot block on a full pipe.
    let drain = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut s) = stderr {
            let _ = std::io::Read::read_to_string(&mut s, &mut text);
        }
        text
    });
    let mut peak_kb = 0;
    let status = loop {
        if let Some(kb) = std::fs::read_to_string(&status_path)
            .ok()
            .and_then(|s| vm_hwm_kb(&s))
        {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed().as_secs_f64();
    let err_text = drain.join().unwrap_or_default();
    if !status.success() {
        bail!("benchmark process failed ({status}): {}", err_text.trim());
    }
    Ok((elapsed, peak_kb))
}

fn vm_hwm_kb(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A minimal MCP client over stdio: newline-delimited JSON-RPC 2.0.
struct Mcp {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
    tools: Vec<String>,
}

impl Mcp {
    /// `healthsim --db <db> mcp`; `db` is a file path or a lake's string.
    fn start(bin: &Path, db: impl AsRef<OsStr>) -> Result<Self> {
        let mut child = Command::new(bin)
            .arg("--db")
            .arg(db)
            .arg("mcp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting healthsim mcp")?;
        let stdin = child.stdin.take().context("mcp stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("mcp stdout")?);
        let mut mcp = Mcp {
            child,
            stdin: Some(stdin),
            stdout,
            next_id: 1,
            tools: Vec::new(),
        };
        mcp.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "xtask-bench", "version": "1"}}),
        )?;
        mcp.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
        let listed = mcp.request("tools/list", json!({}))?;
        mcp.tools = listed["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["name"].as_str().map(String::from))
            .collect();
        Ok(mcp)
    }

    fn has_tool(&self, name: &str) -> bool {
        self.tools.iter().any(|t| t == name)
    }

    fn send(&mut self, message: &Value) -> Result<()> {
        let mut line = serde_json::to_string(message)?;
        line.push('\n');
        let stdin = self.stdin.as_mut().context("the MCP client is closed")?;
        stdin.write_all(line.as_bytes())?;
        stdin.flush()?;
        Ok(())
    }

    fn request(&mut self, method: &str, params: Value) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        loop {
            let mut line = String::new();
            if self.stdout.read_line(&mut line)? == 0 {
                bail!("healthsim mcp closed its output during {method}");
            }
            let msg: Value = serde_json::from_str(&line)
                .with_context(|| format!("non-JSON from the server: {line}"))?;
            if msg["id"] == json!(id) {
                if let Some(err) = msg.get("error") {
                    bail!("{method} failed: {err}");
                }
                return Ok(msg["result"].clone());
            }
        }
    }

    /// One tools/call; returns its round-trip time in seconds. A tool error fails the benchmark.
    fn call(&mut self, tool: &str, arguments: Value) -> Result<f64> {
        let start = Instant::now();
        let result = self.request("tools/call", json!({"name": tool, "arguments": arguments}))?;
        let elapsed = start.elapsed().as_secs_f64();
        if result["isError"] == json!(true) {
            bail!("{tool} returned a tool error: {}", result["content"]);
        }
        Ok(elapsed)
    }

    fn time_calls(&mut self, runs: usize, tool: &str, arguments: Value) -> Result<Vec<f64>> {
        (0..runs)
            .map(|_| self.call(tool, arguments.clone()))
            .collect()
    }
}

impl Drop for Mcp {
    fn drop(&mut self) {
        // Closing stdin ends the server; kill is the fallback if it does not exit promptly.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    json!({"cpu": cpu, "cores": cores, "date": crate::results::today_utc(), "commit": crate::results::head_commit()})
}

fn print_table(figures: &[Figure]) {
    let w0 = figures
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let w1 = figures
        .iter()
        .map(|f| f.value.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let w2 = figures
        .iter()
        .map(|f| f.target.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let met: Vec<String> = figures.iter().map(Figure::met).collect();
    let w3 = met
        .iter()
        .map(|m| m.chars().count())
        .max()
        .unwrap_or(3)
        .max(3);
    println!(
        "| {:w0$} | {:w1$} | {:w2$} | {:w3$} | note |",
        "figure", "value", "target", "met"
    );
    println!(
        "|{}|{}|{}|{}|------|",
        "-".repeat(w0 + 2),
        "-".repeat(w1 + 2),
        "-".repeat(w2 + 2),
        "-".repeat(w3 + 2)
    );
    for (f, met) in figures.iter().zip(&met) {
        // `—` is one column wide but three bytes: pad by characters.
        let pad = " ".repeat(w3 - met.chars().count());
        println!(
            "| {:w0$} | {:w1$} | {:w2$} | {met}{pad} | {} |",
            f.name, f.value, f.target, f.note
        );
    }
}

#[cfg(test)]
mod tests {
    use super::stored_seconds;

    #[test]
    fn the_floor_line_gives_its_seconds_and_anything_else_gives_none() {
        let check =
            |out: &str, expected: Option<f64>| assert_eq!(stored_seconds(out), expected, "{out:?}");
        check("floor: 1000000 rows stored in 4.891 s\n", Some(4.891));
        check("floor: 0 rows stored in 0.010 s", Some(0.01));
        check("floor: 1000000 rows stored in 4.891", None);
        check("floor: 1000000 rows stored in soon s", None);
        check("bulk_baseline: 1000000 rows", None);
        check("", None);
    }
}
