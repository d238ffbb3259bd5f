//! Conformance with the official Python MCP client: `tests/conformance/client.py` drives
//! `healthsim mcp` through the `mcp` package (one server, one session) and validates every
//! schema and every structured result with `jsonschema` (Draft 2020-12, format checking on,
//! unknown formats an error); this test runs it and measures every result it collected with
//! the real tokenizer against the bound the tool's description states.
//!
//! The client's virtual environment (pinned `mcp` and `jsonschema`) is made by
//! `cargo xtask setup` under `target/mcp-client-venv`; without it this test fails and says so.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The Python of the client's virtual environment.
fn client_python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/mcp-client-venv/bin/python")
}

/// The bound a description states ("Result: at most N tokens.").
fn stated_bound(description: &str) -> Option<usize> {
    let (_, rest) = description.rsplit_once("Result: at most ")?;
    rest.strip_suffix(" tokens.")?.replace(',', "").parse().ok()
}

#[test]
fn the_official_python_client_validates_schemas_results_and_bounds() -> TestResult {
    let python = client_python();
    assert!(
        python.exists(),
        "{} is missing: run `cargo xtask setup` (it installs the MCP conformance client's \
         pinned Python packages)",
        python.display()
    );
    let dir = tempfile::tempdir()?;
    let fhir = std::fs::canonicalize(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../healthsim-fhir/tests/data/fhir"),
    )?;
    let output = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/client.py"))
        .arg(env!("CARGO_BIN_EXE_healthsim"))
        .arg(dir.path().join("conformance.duckdb"))
        .arg(&fhir)
        .arg(dir.path())
        .output()?;
    assert!(
        output.status.success(),
        "the Python client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout)?;
    let failures: Vec<&str> = report["failures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        failures.is_empty(),
        "conformance failures:\n{}",
        failures.join("\n")
    );

    let mut worst: Vec<(String, usize, usize)> = Vec::new();
    for tool in report["tools"].as_array().into_iter().flatten() {
        let name = tool["name"].as_str().unwrap_or_default();
        let description = tool["description"].as_str().unwrap_or_default();
        let bound = stated_bound(description)
            .ok_or_else(|| format!("{name}: no stated bound in its description"))?;
        let measured = report["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["tool"] == name && r["is_error"] == false)
            .map(|r| healthsim_summary::count_tokens(r["text"].as_str().unwrap_or_default()))
            .max()
            .ok_or_else(|| format!("{name}: the client made no successful call"))?;
        assert!(
            measured <= bound,
            "{name}: {measured} tokens over its stated bound {bound}"
        );
        worst.push((name.to_string(), measured, bound));
    }
    assert_eq!(
        worst.len(),
        healthsim_cli::mcp::HealthsimServer::tools().len()
    );
    eprintln!("worst cases through the Python client (tool, tokens, bound): {worst:?}");
    Ok(())
}
