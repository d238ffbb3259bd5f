//! Times `render_report` on a large scenario (the issue's target: a 1M-entity mixed scenario
//! in at most 2 s, a file of at most 2 MB).
//!
//! ```text
//! cargo run --release -p healthsim-report --example report_timing -- \
//!     [--db PATH] [--scenario ID_OR_NAME] [--persons N] [--runs N] [--out FILE.html]
//! ```
//!
//! With `--scenario`, the scenario of `--db` is reused (for example one made by
//! `healthsim generate --persons 25000 | healthsim --db PATH persist`). Without it, a new
//! scenario of `--persons` persons (default 52,000: about a million entities) is generated
//! with the tests' cohort generator, written into `--db` (default
//! `target/tmp/report-timing.duckdb`), and then timed. The report goes to `--out` (default
//! `target/tmp/report-timing.html`).

#[path = "../tests/common/cohort.rs"]
mod cohort;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use healthsim_persist::{Store, StoreOptions};
use healthsim_report::{render_report, ReportOptions};

/// Persons generated and written per part (bounded memory).
const PART: usize = 4_000;

struct Args {
    db: PathBuf,
    scenario: Option<String>,
    persons: usize,
    runs: usize,
    out: PathBuf,
}

fn parse() -> Result<Args, String> {
    let tmp = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/tmp");
    let mut args = Args {
        db: tmp.join("report-timing.duckdb"),
        scenario: None,
        persons: 52_000,
        runs: 3,
        out: tmp.join("report-timing.html"),
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || given.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--db" => args.db = PathBuf::from(value()?),
            "--scenario" => args.scenario = Some(value()?),
            "--persons" => {
                args.persons = value()?.parse().map_err(|e| format!("--persons: {e}"))?
            }
            "--runs" => args.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--out" => args.out = PathBuf::from(value()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse()?;
    let store = Store::open(&args.db, StoreOptions::default())?;
    let scenario_id = match &args.scenario {
        Some(given) => store.resolve_scenario(given)?.scenario_id,
        None => {
            let started = Instant::now();
            let mut target = cohort::new_scenario(
                &format!("report-timing-{}-persons", args.persons),
                "Large multi-product cohort for timing the HTML report",
                &["timing"],
            );
            let mut id = String::new();
            let mut from = 0;
            while from < args.persons {
                let to = (from + PART).min(args.persons);
                let part = cohort::generate_part(args.persons, 7, from..to, from == 0);
                id = cohort::write(&store, &part, &mut target);
                from = to;
                eprint!("\rwritten {to} of {} persons", args.persons);
            }
            eprintln!(
                "\rwrote the scenario in {:.1?}                 ",
                started.elapsed()
            );
            id
        }
    };
    let options = ReportOptions {
        as_of: cohort::as_of(),
        ..ReportOptions::default()
    };
    let mut times: Vec<Duration> = Vec::new();
    let mut last = None;
    for _ in 0..args.runs.max(1) {
        let started = Instant::now();
        let report =
            store.with_reader(|conn| Ok(render_report(conn, &scenario_id, &options)))??;
        times.push(started.elapsed());
        last = Some(report);
    }
    let report = last.ok_or("no run")?;
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, &report.html)?;
    times.sort();
    println!(
        "scenario {scenario_id}: {} entities of {} types",
        report.headline.total_entities,
        report.headline.entity_counts.len()
    );
    println!(
        "render_report: fastest {:.3?}, median {:.3?}, slowest {:.3?} over {} runs",
        times[0],
        times[times.len() / 2],
        times[times.len() - 1],
        times.len()
    );
    println!(
        "report: {} bytes ({:.2} MB), {} charts, written to {}",
        report.html.len(),
        report.html.len() as f64 / 1e6,
        report.headline.charts,
        args.out.display()
    );
    Ok(())
}
