//! Project automation: `cargo xtask <command>`.
//!
//! - `setup`  fetch the pinned prebuilt DuckDB library for this platform and its signed DuckLake,
//!   PostgreSQL and httpfs extensions (once per machine; see `duckdb.rs` and `extensions.rs` for where
//!   they are kept and why), and install the pinned Python packages of the MCP conformance
//!   client into `target/mcp-client-venv` and of the S3 test server into `target/s3-test-venv`
//!   (once per clone; fast when present)
//! - `install --prefix DIR` lay out `DIR/bin/healthsim` and `DIR/lib/<DuckDB library>`
//! - `check`  everything CI requires besides `cargo test --workspace`: formatting, clippy,
//!   crate layering, schema validation, the generated data dictionary, snapshot tests
//! - `schema` regenerate `docs/schema.md` from the registry
//! - `bench`  end-to-end performance table of the release build (`--quick` for a smoke run)

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

mod bench;
mod duckdb;
mod extensions;
mod results;

/// The pinned Python packages of the MCP conformance client (`crates/healthsim-cli/tests/
/// conformance.rs` drives the server through the official Python MCP client).
const PYTHON_CLIENT_REQUIREMENTS: &str = "crates/healthsim-cli/tests/conformance/requirements.txt";

/// The crate graph, bottom-up: each workspace crate and the internal crates it may depend on
/// (normal dependencies). Every edge points down this list; leaf crates list only what their job
/// needs. A crate missing from this table fails the check, so a new crate is placed on purpose.
const CRATE_EDGES: &[(&str, &[&str])] = &[
    // Test-only (see TEST_ONLY_CRATES): a throwaway PostgreSQL, used by tests of any crate.
    ("healthsim-pgtest", &[]),
    // Test-only: a throwaway S3-compatible server, for the tests of a lake's data in S3.
    ("healthsim-s3test", &["healthsim-pgtest"]),
    ("healthsim-schema", &[]),
    ("healthsim-naming", &[]),
    ("healthsim-synth", &["healthsim-schema"]),
    ("healthsim-summary", &["healthsim-schema"]),
    (
        "healthsim-query",
        &["healthsim-schema", "healthsim-summary"],
    ),
    ("healthsim-fhir", &["healthsim-schema"]),
    (
        "healthsim-report",
        &["healthsim-schema", "healthsim-summary"],
    ),
    (
        "healthsim-persist",
        &[
            "healthsim-schema",
            "healthsim-naming",
            "healthsim-summary",
            "healthsim-query",
            "healthsim-fhir",
        ],
    ),
    (
        "healthsim-cli",
        &[
            "healthsim-schema",
            "healthsim-naming",
            "healthsim-synth",
            "healthsim-summary",
            "healthsim-query",
            "healthsim-fhir",
            "healthsim-report",
            "healthsim-persist",
        ],
    ),
    // xtask's bench starts the throwaway PostgreSQL of its lake figures (see TEST_ONLY_USERS).
    ("xtask", &["healthsim-pgtest"]),
];

/// Crates only tests may use: they are dev-dependencies wherever they appear, never normal ones.
const TEST_ONLY_CRATES: &[&str] = &["healthsim-pgtest", "healthsim-s3test"];

/// The one exception to [`TEST_ONLY_CRATES`]: xtask may use them as normal dependencies. It is a
/// developer tool, never shipped or installed, and `cargo xtask bench` needs exactly what
/// healthsim-pgtest does for tests (a private PostgreSQL, stopped when the process ends however
/// it ends, and fresh databases in it) for its lake figures; a second start/stop written here
/// would be a copy to keep in step. healthsim-pgtest has no dependencies, so xtask still builds
/// before libduckdb exists. healthsim-s3test, test-only itself, starts its S3 server with
/// healthsim-pgtest's free port and watchdog (`healthsim_pgtest::watched`).
const TEST_ONLY_USERS: &[&str] = &["xtask", "healthsim-s3test"];

/// Crates whose jobs are pure (no database): they must not depend on duckdb directly.
const PURE_CRATES: &[&str] = &["healthsim-naming", "healthsim-synth", "healthsim-fhir"];

/// The front end's own frameworks: argv (clap), MCP (rmcp) and its runtime (tokio) stay in the CLI.
const CLI_ONLY_DEPENDENCIES: &[&str] = &["clap", "rmcp", "tokio"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup(),
        Some("install") => duckdb::install(&args[1..]),
        Some("check") => check(&args[1..]),
        Some("schema") => schema(),
        Some("bench") => bench::bench(&args[1..]),
        Some("docs") => results::docs(),
        _ => {
            eprintln!(
                "usage: cargo xtask setup | install --prefix DIR [--binary FILE] | check [--after-tests REFERENCES_FILE] | schema | bench [--quick | --size N] | docs"
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

pub(crate) fn root() -> PathBuf {
    // xtask/ lives directly under the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub(crate) fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

pub(crate) fn run(step: &str, cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: {step}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start: {step}"))?;
    if !status.success() {
        bail!("{step} failed ({status})");
    }
    Ok(())
}

pub(crate) fn output(step: &str, cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("could not start: {step}"))?;
    if !out.status.success() {
        bail!(
            "{step} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).with_context(|| format!("{step} printed non-UTF-8"))
}

pub(crate) fn sha256_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn setup() -> Result<()> {
    duckdb::setup()?;
    setup_venv(&MCP_CLIENT)?;
    setup_venv(&S3_TEST_SERVER)
}

/// A virtual environment under `target/` that a test runs a Python program from.
struct Venv {
    /// Its folder under `target/`.
    name: &'static str,
    /// The pinned requirements, relative to the workspace.
    requirements: &'static str,
    /// What it holds, for messages.
    what: &'static str,
}

/// The MCP conformance client (`crates/healthsim-cli/tests/conformance.rs`).
const MCP_CLIENT: Venv = Venv {
    name: "mcp-client-venv",
    requirements: PYTHON_CLIENT_REQUIREMENTS,
    what: "the MCP conformance client",
};

/// The S3-compatible server of the tests of a lake's data in S3 (`crates/healthsim-s3test`).
const S3_TEST_SERVER: Venv = Venv {
    name: "s3-test-venv",
    requirements: "crates/healthsim-s3test/requirements.txt",
    what: "the S3 test server",
};

/// `venv` with its pinned packages, installed with pip; left as it is when it already holds
/// exactly the pinned list.
fn setup_venv(venv: &Venv) -> Result<()> {
    let what = venv.what;
    let dir = root().join("target").join(venv.name);
    let requirements = root().join(venv.requirements);
    let wanted = std::fs::read_to_string(&requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    let python = dir.join("bin").join("python");
    let stamp = dir.join("installed-requirements.txt");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        eprintln!("xtask: {what}'s Python packages are present");
        return Ok(());
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    run(
        &format!("creating {what}'s Python environment"),
        Command::new("python3").args(["-m", "venv"]).arg(&dir),
    )
    .with_context(|| {
        format!("{what} needs python3 with venv (Debian: apt-get install python3-venv)")
    })?;
    run(
        &format!("installing {what}'s pinned Python packages"),
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements),
    )?;
    std::fs::write(&stamp, wanted)?;
    eprintln!("xtask: installed {what} at {}", dir.display());
    Ok(())
}

/// `cargo xtask check [--after-tests REFERENCES_FILE]`. With `--after-tests`, the test suite
/// has just run (`.ci/run` runs it once, as the README's test command, with `INSTA_UPDATE=no`
/// and insta's references file set to REFERENCES_FILE): the check does not run it a second
/// time, and judges pending and orphaned snapshots from that run.
fn check(args: &[String]) -> Result<()> {
    let after_tests = match args {
        [] => None,
        [flag, file] if flag == "--after-tests" => Some(PathBuf::from(file)),
        _ => bail!("usage: cargo xtask check [--after-tests REFERENCES_FILE]"),
    };
    setup()?;
    run(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--", "--check"]),
    )?;
    run(
        "cargo clippy -D warnings",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--quiet",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    check_layering()?;
    run(
        "schema validation (fresh = registry = upgraded from every version)",
        cargo().args([
            "run",
            "--quiet",
            "-p",
            "healthsim-schema",
            "--example",
            "schema_tool",
            "--",
            "check",
        ]),
    )?;
    let doc = schema_doc()?;
    let committed = std::fs::read_to_string(root().join("docs/schema.md")).unwrap_or_default();
    if committed != doc {
        bail!("docs/schema.md is stale: run `cargo xtask schema` and commit it");
    }
    eprintln!("xtask: docs/schema.md is up to date");
    results::check_docs()?;
    // insta: with INSTA_UPDATE=no a changed snapshot fails the test and nothing is written; every
    // snapshot a test reads is listed in the references file, so files no test reads show up.
    let references = match after_tests {
        Some(file) => {
            if !file.exists() {
                bail!(
                    "{} does not exist: run the tests with INSTA_SNAPSHOT_REFERENCES_FILE set to it first",
                    file.display()
                );
            }
            eprintln!(
                "xtask: the test suite ran just before (snapshot references in {})",
                file.display()
            );
            file
        }
        None => {
            let references = root().join("target").join("insta-references.txt");
            if references.exists() {
                std::fs::remove_file(&references)?;
            }
            run(
                "snapshot and unit tests (INSTA_UPDATE=no)",
                cargo()
                    .args(["test", "--workspace", "--quiet"])
                    .env("INSTA_UPDATE", "no")
                    .env("INSTA_SNAPSHOT_REFERENCES_FILE", &references)
                    .env("CI", "true"),
            )?;
            references
        }
    };
    let pending = find_pending_snapshots(&root())?;
    if !pending.is_empty() {
        bail!("pending snapshots (review with cargo insta review, then commit or delete): {pending:?}");
    }
    let orphaned = find_orphaned_snapshots(&references)?;
    if !orphaned.is_empty() {
        bail!("snapshots that no test reads (a renamed or deleted test left them): {orphaned:?}");
    }
    eprintln!("xtask: check passed");
    Ok(())
}

fn schema_doc() -> Result<String> {
    output(
        "generating docs/schema.md",
        cargo().args([
            "run",
            "--quiet",
            "-p",
            "healthsim-schema",
            "--example",
            "schema_tool",
            "--",
            "doc",
        ]),
    )
}

fn schema() -> Result<()> {
    setup()?;
    let doc = schema_doc()?;
    std::fs::write(root().join("docs/schema.md"), doc)?;
    eprintln!("xtask: wrote docs/schema.md");
    Ok(())
}

/// Every internal dependency edge is one that [`CRATE_EDGES`] allows; pure crates do not link
/// DuckDB; clap, rmcp and tokio are used only by healthsim-cli.
fn check_layering() -> Result<()> {
    let json = output(
        "cargo metadata",
        cargo().args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ]),
    )?;
    let meta: serde_json::Value = serde_json::from_str(&json)?;
    let mut problems = Vec::new();
    for pkg in meta["packages"].as_array().into_iter().flatten() {
        let name = pkg["name"].as_str().unwrap_or_default();
        let Some((_, allowed)) = CRATE_EDGES
            .iter()
            .find(|(crate_name, _)| *crate_name == name)
        else {
            problems.push(format!(
                "{name} is not placed in the crate graph (xtask CRATE_EDGES)"
            ));
            continue;
        };
        for dep in pkg["dependencies"].as_array().into_iter().flatten() {
            let dep_name = dep["name"].as_str().unwrap_or_default();
            let dev = dep["kind"].as_str() == Some("dev");
            let internal = CRATE_EDGES.iter().any(|(c, _)| *c == dep_name);
            // Tests, benches and examples may use any crate that does not itself depend on this
            // one (the generator for data, persist to build a fixture): such an edge would
            // build the crate twice, with two incompatible copies of its types.
            let allowed_here = if dev {
                !depends_on(dep_name, name)
            } else {
                allowed.contains(&dep_name)
            };
            if internal && !allowed_here {
                problems.push(format!("{name} must not depend on {dep_name}"));
            }
            if TEST_ONLY_CRATES.contains(&dep_name) && !dev && !TEST_ONLY_USERS.contains(&name) {
                problems.push(format!(
                    "{name} depends on {dep_name} outside its tests: it is a dev-dependency only"
                ));
            }
            if PURE_CRATES.contains(&name) && !dev && dep_name == "duckdb" {
                problems.push(format!(
                    "{name} must not depend on duckdb (it never touches a database)"
                ));
            }
            if name != "healthsim-cli" && CLI_ONLY_DEPENDENCIES.contains(&dep_name) {
                problems.push(format!(
                    "{name} depends on {dep_name}: argv, MCP and async runtimes belong to healthsim-cli"
                ));
            }
        }
    }
    if !problems.is_empty() {
        bail!("crate graph violated:\n  {}", problems.join("\n  "));
    }
    eprintln!("xtask: crate graph is as ARCHITECTURE.md draws it");
    Ok(())
}

/// Whether `from` reaches `to` through the normal edges of [`CRATE_EDGES`] (or is it).
fn depends_on(from: &str, to: &str) -> bool {
    from == to
        || CRATE_EDGES
            .iter()
            .find(|(name, _)| *name == from)
            .is_some_and(|(_, deps)| deps.iter().any(|dep| depends_on(dep, to)))
}

/// Snapshot files that no test read during the run whose references insta wrote to
/// `references` (`INSTA_SNAPSHOT_REFERENCES_FILE`): left behind by a renamed or deleted test.
fn find_orphaned_snapshots(references: &Path) -> Result<Vec<PathBuf>> {
    let listed = std::fs::read_to_string(references).unwrap_or_default();
    let referenced: std::collections::BTreeSet<PathBuf> = listed
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| std::fs::canonicalize(line).unwrap_or_else(|_| PathBuf::from(line)))
        .collect();
    let mut orphaned = Vec::new();
    for snapshot in find_files(&root().join("crates"), &|name| name.ends_with(".snap"))? {
        let canonical = std::fs::canonicalize(&snapshot)?;
        if !referenced.contains(&canonical) {
            orphaned.push(snapshot);
        }
    }
    Ok(orphaned)
}

fn find_pending_snapshots(dir: &Path) -> Result<Vec<PathBuf>> {
    find_files(dir, &|name| {
        name.ends_with(".snap.new") || name.ends_with(".pending-snap")
    })
}

fn find_files(dir: &Path, wanted: &dyn Fn(&str) -> bool) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.file_type()?.is_dir() {
            if name != "target" && name != ".git" {
                found.extend(find_files(&path, wanted)?);
            }
        } else if wanted(&name) {
            found.push(path);
        }
    }
    Ok(found)
}
