//! An installed `healthsim` starts from any folder with any PATH: laid out by
//! `cargo xtask install --prefix DIR` (`DIR/bin/healthsim`, `DIR/lib/libduckdb.so`, found
//! through the `$ORIGIN/../lib` rpath), or copied alone into a bin folder, which is also what
//! `cargo install --path crates/healthsim-cli` does (found through the absolute rpath to the
//! library `cargo xtask setup` keeps). The install reuses the binary this test suite built
//! (`--binary`) instead of building a release one.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `cargo xtask install ARGS...`, run from the checkout like a user would.
fn xtask_install(args: &[&str]) -> std::io::Result<Output> {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "run",
            "--quiet",
            "--offline",
            "--package",
            "xtask",
            "--",
            "install",
        ])
        .args(args)
        .current_dir(root())
        .output()
}

/// Runs `binary ARGS` from a fresh folder with an empty environment but `HOME` and a PATH that
/// holds nothing.
fn run_elsewhere(binary: &Path, args: &[&str], elsewhere: &Path) -> std::io::Result<Output> {
    Command::new(binary)
        .args(args)
        .current_dir(elsewhere)
        .env_clear()
        .env("HOME", elsewhere)
        .env("PATH", elsewhere.join("empty-path"))
        .output()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn starts(binary: &Path, elsewhere: &Path) -> TestResult {
    let version = run_elsewhere(binary, &["--version"], elsewhere)?;
    assert!(
        version.status.success(),
        "{} --version failed: {}",
        binary.display(),
        text(&version.stderr)
    );
    assert_eq!(
        text(&version.stdout).trim(),
        format!("healthsim {}", env!("CARGO_PKG_VERSION"))
    );
    Ok(())
}

/// initialize + initialized + tools/list over stdio, then stdin closes and the server exits 0.
fn mcp_round_trip(binary: &Path, elsewhere: &Path) -> TestResult {
    let mut child = Command::new(binary)
        .arg("mcp")
        .current_dir(elsewhere)
        .env_clear()
        .env("HOME", elsewhere)
        .env("PATH", elsewhere.join("empty-path"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    // Sends `messages` (the last one a request) and reads the one answer.
    let mut answer = |messages: &[Value]| -> Result<Value, Box<dyn std::error::Error>> {
        for message in messages {
            writeln!(stdin, "{message}")?;
        }
        stdin.flush()?;
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        Ok(serde_json::from_str(&line)?)
    };
    let initialized = answer(&[json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2024-11-05", "capabilities": {},
            "clientInfo": {"name": "install-test", "version": "0"}}})])?;
    assert_eq!(initialized["result"]["serverInfo"]["name"], "healthsim");
    let tools = answer(&[
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    ])?;
    let listed = answer(&[json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "list_scenarios", "arguments": {}}})])?;
    assert_eq!(
        listed["result"]["isError"],
        Value::Bool(false),
        "list_scenarios: {listed}"
    );
    assert_eq!(
        listed["result"]["structuredContent"]["count"], 0,
        "{listed}"
    );
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .ok_or("tools/list has no tools")?
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"persist_entities"), "{names:?}");
    drop(stdin);
    let status = child.wait()?;
    assert!(status.success(), "the server exits 0 when stdin closes");
    // The database went to the home folder it was given, not next to the binary.
    assert!(elsewhere
        .join(".healthsim")
        .join("healthsim.duckdb")
        .is_file());
    Ok(())
}

/// Which file the dynamic loader picks for libduckdb.so (`ldd`).
fn loaded_duckdb(binary: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    // Without the environment: cargo test's LD_LIBRARY_PATH (target/debug/deps) would win.
    let out = Command::new("ldd")
        .arg(binary)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()?;
    let listing = text(&out.stdout);
    let line = listing
        .lines()
        .find(|l| l.trim_start().starts_with("libduckdb.so"))
        .ok_or_else(|| format!("ldd lists no libduckdb.so:\n{listing}"))?;
    let path = line
        .split("=>")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or_else(|| format!("libduckdb.so is not found: {line}"))?;
    Ok(PathBuf::from(path))
}

#[test]
fn xtask_install_lays_out_a_prefix_that_runs_from_anywhere() -> TestResult {
    let dir = tempfile::tempdir()?;
    let prefix = dir.path().join("prefix");
    let built = env!("CARGO_BIN_EXE_healthsim");
    let out = xtask_install(&[
        "--prefix",
        prefix
            .to_str()
            .ok_or("a temporary path that is not UTF-8")?,
        "--binary",
        built,
    ])?;
    assert!(
        out.status.success(),
        "install failed: {}",
        text(&out.stderr)
    );
    let binary = prefix.join("bin").join("healthsim");
    let library = prefix.join("lib").join("libduckdb.so");
    assert!(binary.is_file() && library.is_file());
    assert_eq!(std::fs::read(&binary)?, std::fs::read(built)?);
    // The prefix's own library is the one loaded ($ORIGIN/../lib comes before the absolute
    // entry), so the prefix works when moved or copied as a whole.
    assert_eq!(
        loaded_duckdb(&binary)?.canonicalize()?,
        library.canonicalize()?
    );
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere)?;
    starts(&binary, &elsewhere)?;
    mcp_round_trip(&binary, &elsewhere)?;

    // Moved as a whole, it still runs.
    let moved = dir.path().join("moved");
    std::fs::rename(&prefix, &moved)?;
    starts(&moved.join("bin").join("healthsim"), &elsewhere)?;
    Ok(())
}

#[test]
fn a_binary_copied_alone_into_a_bin_folder_runs_from_anywhere() -> TestResult {
    // What `cargo install --path crates/healthsim-cli` and `cp target/release/healthsim
    // ~/.local/bin/` do: the binary alone, no library beside it.
    let dir = tempfile::tempdir()?;
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin)?;
    let binary = bin.join("healthsim");
    std::fs::copy(env!("CARGO_BIN_EXE_healthsim"), &binary)?;
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere)?;
    starts(&binary, &elsewhere)?;
    mcp_round_trip(&binary, &elsewhere)?;
    Ok(())
}

#[test]
fn xtask_install_refuses_bad_arguments_and_writes_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let prefix = dir.path().join("prefix");
    let prefix_arg = prefix.to_str().ok_or("not UTF-8")?;
    let missing = dir.path().join("no-such-binary");
    let cases: [(Vec<&str>, &str); 4] = [
        (vec![], "--prefix is required"),
        (vec!["--prefix"], "--prefix needs a value"),
        (
            vec!["--prefix", prefix_arg, "--to", "x"],
            "unknown option --to",
        ),
        (
            vec![
                "--prefix",
                prefix_arg,
                "--binary",
                missing.to_str().ok_or("not UTF-8")?,
            ],
            "is not a file",
        ),
    ];
    for (args, message) in cases {
        let out = xtask_install(&args)?;
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            text(&out.stderr).contains(message),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!prefix.exists(), "{args:?} wrote {}", prefix.display());
    }
    Ok(())
}
