//! The agent's contract, end to end against `healthsim mcp`:
//!
//! - every tool's worst case (largest counts, longest values, many scenarios and tags) stays
//!   under the bound its description states, measured with the real tokenizer
//!   (`healthsim_summary::count_tokens`, cl100k_base), and counts above a maximum are refused
//!   with a message naming it;
//! - the annotations are true: every read-only tool leaves the database as it was, and every
//!   tool marked idempotent, called twice, leaves it as the first call did;
//! - protocol edges over raw JSON-RPC lines: `tools/call` without params, requests and
//!   notifications before `initialize`, batches.
//!
//! The database's state is compared with a fingerprint of every table read straight from the
//! file (the server stopped), not through the tools under test.

mod mcp_client;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use healthsim_schema::duckdb;
use healthsim_synth::{Generator, GeneratorConfig};
use mcp_client::{call, connect, first_text, Client};
use serde_json::{json, Map, Value};

type TestResult = Result<(), Box<dyn std::error::Error>>;
/// A call that must succeed: its structured content.
async fn ok(client: &Client, tool: &str, args: Value) -> Result<Value, Box<dyn std::error::Error>> {
    let result = call(client, tool, args.clone()).await?;
    match (result.is_error, result.structured_content) {
        (Some(false) | None, Some(structured)) => Ok(structured),
        _ => Err(format!("{tool}({args}) failed: {:?}", result.content).into()),
    }
}

/// A call that must fail with exactly `message`.
async fn refused(client: &Client, tool: &str, args: Value, message: &str) -> TestResult {
    let result = call(client, tool, args.clone()).await?;
    assert_eq!(result.is_error, Some(true), "{tool}({args}) should fail");
    let text = first_text(&result);
    assert_eq!(text, message, "{tool}({args})");
    Ok(())
}

/// Every tool's stated bound, read from its description ("Result: at most N tokens.").
async fn stated_bounds(client: &Client) -> Result<Map<String, Value>, Box<dyn std::error::Error>> {
    let mut bounds = Map::new();
    for tool in client.list_all_tools().await? {
        let description = tool.description.as_deref().unwrap_or_default();
        let bound = description
            .rsplit_once("Result: at most ")
            .and_then(|(_, rest)| rest.strip_suffix(" tokens."))
            .map(|n| n.replace(',', ""))
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| format!("{}: no stated bound in '{description}'", tool.name))?;
        bounds.insert(tool.name.to_string(), json!(bound));
    }
    Ok(bounds)
}

/// The tokens of a result as the agent reads it (its JSON text), checked against the bound;
/// returns the count for the report.
/// Keeps the largest token count measured for `tool`.
fn record_worst(measured: &mut Map<String, Value>, tool: &str, tokens: u64) {
    let worst = measured
        .get(tool)
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .max(tokens);
    measured.insert(tool.into(), json!(worst));
}

fn within_bound(bounds: &Map<String, Value>, tool: &str, result: &Value) -> Result<u64, String> {
    let tokens = healthsim_summary::count_tokens(&result.to_string()) as u64;
    let bound = bounds[tool].as_u64().unwrap_or(0);
    if tokens > bound {
        return Err(format!(
            "{tool}: {tokens} tokens over its stated bound {bound}"
        ));
    }
    eprintln!("worst case {tool}: {tokens} tokens (bound {bound})");
    Ok(tokens)
}

/// A fingerprint of every table of the database (row count and an order-independent hash of
/// the rows), read with the file opened read-only; retried while the stopping server still
/// holds it.
fn fingerprint(db: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut attempts = 0;
    let conn = loop {
        let config = duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly)?;
        match duckdb::Connection::open_with_flags(db, config) {
            Ok(conn) => break conn,
            Err(e) if attempts < 300 => {
                attempts += 1;
                let _ = e;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(e.into()),
        }
    };
    let mut tables: Vec<&str> = healthsim_schema::ENTITY_TYPES
        .iter()
        .map(|t| t.table)
        .collect();
    tables.extend(["scenarios", "scenario_tags", "scenario_entities"]);
    let mut out = Vec::new();
    for table in tables {
        let sql = format!(
            "SELECT count(*)::VARCHAR || ':' || coalesce(sum(hash(t))::VARCHAR, '') FROM {table} t"
        );
        let print: String = conn.query_row(&sql, [], |r| r.get(0))?;
        out.push(format!("{table}={print}"));
    }
    Ok(out)
}

/// A long text of `n` characters that tokenizes badly (digits and symbols mixed with words).
fn long_text(n: usize, seed: usize) -> String {
    let piece = format!("ß{seed}~Zq|7 lorem-ipsum {}; ", seed * 7919);
    piece.chars().cycle().take(n).collect()
}

/// A generated multi-product cohort as a type → list map.
fn cohort(persons: usize) -> Map<String, Value> {
    let mut by_type = Map::new();
    for (table, entity) in Generator::new(GeneratorConfig {
        persons,
        seed: 11,
        ..GeneratorConfig::default()
    }) {
        if let Value::Array(list) = by_type
            .entry(table)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            list.push(entity);
        }
    }
    by_type
}

/// Patients whose every text is long and who carry 300 extra fields of long text each.
fn wide_patients(n: usize) -> Value {
    let patients: Vec<Value> = (0..n)
        .map(|i| {
            let mut p = Map::new();
            p.insert(
                "patient_id".into(),
                json!(format!("wide-{i:04}-{}", long_text(200, i))),
            );
            p.insert("given_name".into(), json!(long_text(5_000, i + 1)));
            p.insert("family_name".into(), json!(long_text(5_000, i + 2)));
            p.insert("gender".into(), json!("female"));
            p.insert("birth_date".into(), json!("1950-01-01"));
            for f in 0..300 {
                p.insert(
                    format!("extra_field_{f:03}_{}", long_text(40, f)),
                    json!(long_text(200, f)),
                );
            }
            Value::Object(p)
        })
        .collect();
    Value::Array(patients)
}

/// Tag `t` of scenario `s`: 57 characters, distinct, as stored (lowercase, trimmed).
fn tag(s: usize, t: usize) -> String {
    format!("t{s}-{t}-{}", long_text(50, s + t))
        .trim()
        .to_lowercase()
}

// ------------------------------------------------------------------------------------ bounds

/// Builds the worst-case database, then measures every tool's worst case against its stated
/// bound; checks that the read-only tools changed nothing and that idempotent tools are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worst_cases_stay_under_stated_bounds_and_annotations_hold() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("worst.duckdb");
    let client = connect(&db).await?;
    let bounds = stated_bounds(&client).await?;
    let mut measured = Map::new();

    // Many scenarios with long descriptions and many long, distinct tags.
    for s in 0..80 {
        let tags: Vec<String> = (0..30).map(|t| tag(s, t)).collect();
        ok(
            &client,
            "persist_entities",
            json!({"entity_type": "persons", "entities": [{"person_id": "p1"}],
                   "scenario_name": format!("scenario {s}x {}", long_text(300, s)),
                   "description": long_text(3_000, s), "tags": tags}),
        )
        .await?;
    }
    // The widest data: long values and 300 long extra fields per patient.
    let wide = ok(
        &client,
        "persist_entities",
        json!({"entity_type": "patients", "entities": wide_patients(40),
               "scenario_name": "wide", "tags": ["wide"]}),
    )
    .await?;
    let tokens = within_bound(&bounds, "persist_entities", &wide)?;
    record_worst(&mut measured, "persist_entities", tokens);
    // Every product's types in one call: the largest counts and summary a persist result has.
    let all_types = ok(
        &client,
        "persist_entities",
        json!({"entities": cohort(30), "scenario_name": "all-types"}),
    )
    .await?;
    let tokens = within_bound(&bounds, "persist_entities", &all_types)?;
    record_worst(&mut measured, "persist_entities", tokens);
    client.cancel().await?;

    // Read-only tools, each at its worst; the database stays as it was.
    let before = fingerprint(&db)?;
    let client = connect(&db).await?;
    let widest_types = "claims,pharmacy_claims,subjects,claim_lines,members,rx_members,prescriptions,vitals,patients,medications";
    let reads = [
        ("list_scenarios", json!({"limit": 50})),
        (
            "list_scenarios",
            json!({"limit": 50, "offset": 40, "sort_by": "name"}),
        ),
        ("list_tags", json!({})),
        ("list_tags", json!({"scenario_id": "scenario-0x"})),
        (
            "get_entity_samples",
            json!({"scenario_id": "wide", "entity_type": "patients", "count": 20}),
        ),
        (
            "get_entity_samples",
            json!({"scenario_id": "wide", "entity_type": "patients", "count": 20, "strategy": "recent"}),
        ),
        (
            "get_scenario_summary",
            json!({"scenario_id": "wide", "samples_per_type": 10}),
        ),
        (
            "get_scenario_summary",
            json!({"scenario_id": "all-types", "samples_per_type": 10}),
        ),
        (
            "query_scenario",
            json!({"scenario_id": "wide", "query": "SELECT * FROM patients", "limit": 100}),
        ),
        (
            "query_scenario",
            json!({"scenario_id": "all-types", "query": "SELECT * FROM claims", "limit": 100}),
        ),
        ("describe_schema", json!({})),
        ("describe_schema", json!({"entity_type": widest_types})),
    ];
    for (tool, args) in reads {
        let result = ok(&client, tool, args).await?;
        let tokens = within_bound(&bounds, tool, &result)?;
        record_worst(&mut measured, tool, tokens);
    }
    // The paging and cutting that kept them there.
    let page = ok(&client, "list_scenarios", json!({"limit": 50})).await?;
    assert_eq!(page["total_count"], 82, "every scenario is counted");
    assert_eq!(page["has_more"], true, "more pages follow");
    let next = page["next_offset"].as_u64().unwrap_or(0);
    assert_eq!(
        next,
        page["count"].as_u64().unwrap_or(0),
        "next_offset follows the page"
    );
    let rest = ok(
        &client,
        "list_scenarios",
        json!({"limit": 50, "offset": next}),
    )
    .await?;
    assert_eq!(rest["offset"], next, "the next page starts there");
    let samples = ok(
        &client,
        "get_entity_samples",
        json!({"scenario_id": "wide", "entity_type": "patients", "count": 20}),
    )
    .await?;
    assert_eq!(
        samples["fields_cut"], true,
        "wide samples lose their last fields"
    );
    let tags = ok(&client, "list_tags", json!({})).await?;
    assert_eq!(
        tags["tags_total"],
        80 * 30 + 1,
        "list_tags says how many tags exist"
    );
    // Counts above a maximum are refused, naming it.
    refused(
        &client,
        "get_entity_samples",
        json!({"scenario_id": "wide", "entity_type": "patients", "count": 21}),
        "invalid arguments for get_entity_samples: count must be between 1 and 20, got 21",
    )
    .await?;
    refused(
        &client,
        "list_scenarios",
        json!({"limit": 51}),
        "invalid arguments for list_scenarios: limit must be between 1 and 50, got 51",
    )
    .await?;
    refused(
        &client,
        "query_scenario",
        json!({"scenario_id": "wide", "query": "SELECT 1", "limit": 0}),
        "invalid arguments for query_scenario: limit must be between 1 and 100, got 0",
    )
    .await?;
    refused(&client, "describe_schema", json!({"entity_type": format!("{widest_types},persons")}),
        "describe at most 10 entity types with their columns per call (the result's bound is 3000 tokens), got 11").await?;
    client.cancel().await?;
    assert_eq!(
        fingerprint(&db)?,
        before,
        "the read-only tools changed the database"
    );

    // Writing tools at their worst; the idempotent ones twice.
    let client = connect(&db).await?;
    let exports = tempfile::tempdir()?;
    let deep = exports
        .path()
        .join(long_text(60, 1).replace(['/', '|', ';', ' '], "_"))
        .join(long_text(60, 2).replace(['/', '|', ';', ' '], "_"));
    std::fs::create_dir_all(&deep)?;
    let fhir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../healthsim-fhir/tests/data/fhir");
    let sources: Vec<String> = (4..24).map(|s| format!("scenario-{s}x")).collect();
    let writes = [
        (
            "add_tag",
            json!({"scenario_id": "scenario-1x", "tag": format!("x{}", long_text(60, 9))}),
        ),
        (
            "remove_tag",
            json!({"scenario_id": "scenario-2x", "tag": tag(2, 0)}),
        ),
        (
            "rename_scenario",
            json!({"scenario_id": "scenario-3x", "new_name": long_text(500, 3)}),
        ),
        (
            "clone_scenario",
            json!({"scenario_id": "all-types", "new_name": long_text(500, 4), "tags": sources}),
        ),
        (
            "merge_scenarios",
            json!({"scenario_ids": sources, "on_conflict": "rename", "description": long_text(3_000, 5)}),
        ),
        (
            "export_scenario",
            json!({"scenario_id": "all-types", "format": "csv", "output_path": deep.join("csv")}),
        ),
        (
            "export_scenario",
            json!({"scenario_id": "all-types", "format": "json", "output_path": deep.join("all.json")}),
        ),
        (
            "import_scenario",
            // The export path is the folder that receives the scenario's own folder.
            json!({"path": deep.join("csv").join("all-types"), "name": long_text(500, 6)}),
        ),
        (
            "import_fhir",
            json!({"paths": [fhir.join("malformed/bad.ndjson"), fhir.join("transaction-bundle.json")], "skip_invalid": true, "context": long_text(500, 7)}),
        ),
        (
            "import_legacy",
            json!({"path": legacy_worst_case(exports.path())?, "on_name_conflict": "rename"}),
        ),
        (
            "report_scenario",
            json!({"scenario_id": "all-types", "output_path": deep.join("report.html")}),
        ),
        (
            "delete_scenario",
            json!({"scenario_id": "all-types", "confirm": true}),
        ),
    ];
    for (tool, args) in writes {
        let result = match call(&client, tool, args.clone()).await? {
            r if r.is_error == Some(true) => {
                return Err(format!("{tool}({args}) failed: {:?}", r.content).into())
            }
            r => r.structured_content.unwrap_or_default(),
        };
        let tokens = within_bound(&bounds, tool, &result)?;
        record_worst(&mut measured, tool, tokens);
    }
    let idempotent: Vec<String> = client
        .list_all_tools()
        .await?
        .into_iter()
        .filter(|t| {
            t.annotations
                .as_ref()
                .is_some_and(|a| a.idempotent_hint == Some(true) && a.read_only_hint != Some(true))
        })
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(
        idempotent,
        ["add_tag", "remove_tag"],
        "the idempotent writing tools"
    );
    let repeat = [
        (
            "add_tag",
            json!({"scenario_id": "scenario-45x", "tag": "again"}),
        ),
        (
            "remove_tag",
            json!({"scenario_id": "scenario-46x", "tag": tag(46, 1)}),
        ),
    ];
    let mut first = Vec::new();
    for (tool, args) in &repeat {
        first.push(ok(&client, tool, args.clone()).await?);
    }
    client.cancel().await?;
    let once = fingerprint(&db)?;
    let client = connect(&db).await?;
    for ((tool, args), earlier) in repeat.iter().zip(&first) {
        assert_eq!(
            &ok(&client, tool, args.clone()).await?,
            earlier,
            "{tool}: the same result again"
        );
    }
    client.cancel().await?;
    assert_eq!(
        fingerprint(&db)?,
        once,
        "a second call of an idempotent tool changed the database"
    );

    let missing: Vec<&String> = bounds
        .keys()
        .filter(|t| !measured.contains_key(*t))
        .collect();
    assert!(
        missing.is_empty(),
        "tools without a worst case: {missing:?}"
    );
    eprintln!("measured worst cases: {}", Value::Object(measured));
    Ok(())
}

/// A folder of Python HealthSim JSON files that makes the longest import_legacy result: more
/// scenarios than a report lists, each with a long name and description, entities of many
/// types we have no table for, entities that fail validation with long values, and many
/// fields kept in extra.
fn legacy_worst_case(under: &Path) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let folder = under.join("python-healthsim");
    std::fs::create_dir_all(&folder)?;
    for s in 0..60 {
        let mut entities = Map::new();
        for t in 0..15 {
            entities.insert(
                format!("unknown_type_{t}_{}", long_text(40, t)),
                json!([{"id": format!("x{t}")}]),
            );
        }
        let patients: Vec<Value> = (0..20)
            .map(|p| {
                let mut patient = Map::new();
                patient.insert("id".into(), json!(format!("p{p}-{}", long_text(200, p))));
                patient.insert(
                    "birth_date".into(),
                    json!(if p % 2 == 0 {
                        "not a date"
                    } else {
                        "1950-01-01"
                    }),
                );
                for f in 0..20 {
                    patient.insert(format!("field_{f}_{}", long_text(30, f)), json!(f));
                }
                Value::Object(patient)
            })
            .collect();
        entities.insert("patients".into(), Value::Array(patients));
        let scenario = json!({
            "name": format!("{} {s}", long_text(300, s)),
            "description": long_text(3_000, s),
            "tags": (0..30).map(|t| long_text(60, t)).collect::<Vec<_>>(),
            "entities": entities,
        });
        std::fs::write(folder.join(format!("s{s:02}.json")), scenario.to_string())?;
    }
    Ok(folder)
}

/// readOnlyHint, destructiveHint, idempotentHint.
type Hints = (Option<bool>, Option<bool>, Option<bool>);

/// Each tool's annotations, as (readOnly, destructive, idempotent); destructive and idempotent
/// are only said of tools that write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annotations_say_what_each_tool_does() -> TestResult {
    let dir = tempfile::tempdir()?;
    let client = connect(&dir.path().join("a.duckdb")).await?;
    let mut seen = Vec::new();
    for tool in client.list_all_tools().await? {
        let a = tool.annotations.clone().ok_or("no annotations")?;
        assert_eq!(
            a.open_world_hint,
            Some(false),
            "{}: a closed world",
            tool.name
        );
        let hints: Hints = (a.read_only_hint, a.destructive_hint, a.idempotent_hint);
        seen.push((tool.name.to_string(), hints));
    }
    seen.sort();
    let r = (Some(true), None, None);
    let expected = [
        ("add_tag", (Some(false), Some(false), Some(true))),
        ("clone_scenario", (Some(false), Some(false), Some(false))),
        ("delete_scenario", (Some(false), Some(true), Some(false))),
        ("describe_schema", r),
        ("export_scenario", (Some(false), Some(true), Some(false))),
        ("get_entity_samples", r),
        ("get_scenario_summary", r),
        ("import_fhir", (Some(false), Some(true), Some(false))),
        ("import_legacy", (Some(false), Some(false), Some(false))),
        ("import_scenario", (Some(false), Some(false), Some(false))),
        ("list_scenarios", r),
        ("list_tags", r),
        ("merge_scenarios", (Some(false), Some(false), Some(false))),
        ("persist_entities", (Some(false), Some(true), Some(false))),
        ("query_scenario", r),
        ("remove_tag", (Some(false), Some(true), Some(true))),
        ("rename_scenario", (Some(false), Some(true), Some(false))),
        ("report_scenario", (Some(false), Some(true), Some(false))),
    ];
    let expected: Vec<(String, Hints)> = expected
        .into_iter()
        .map(|(n, hints)| (n.to_string(), hints))
        .collect();
    assert_eq!(seen, expected);
    client.cancel().await?;
    Ok(())
}

/// persist_entities is not idempotent: the same call twice without scenario_id makes two
/// scenarios, and entities without an id get fresh ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persist_is_not_idempotent_as_its_annotation_says() -> TestResult {
    let dir = tempfile::tempdir()?;
    let client = connect(&dir.path().join("p.duckdb")).await?;
    let args = json!({"entity_type": "encounters", "entities": [{"patient_id": "p1", "encounter_class": "AMB"}], "context": "repeat"});
    let first = ok(&client, "persist_entities", args.clone()).await?;
    let second = ok(&client, "persist_entities", args).await?;
    assert_ne!(first["scenario_id"], second["scenario_id"], "two scenarios");
    assert_ne!(first["entity_ids"], second["entity_ids"], "fresh ids");
    let listed = ok(&client, "list_scenarios", json!({})).await?;
    assert_eq!(listed["total_count"], 2);
    client.cancel().await?;
    Ok(())
}

// ------------------------------------------------------------------------------------ protocol

/// `healthsim mcp` driven with raw JSON-RPC lines.
struct Raw {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Raw {
    fn start(db: &Path) -> Result<Self, Box<dyn std::error::Error>> {
        Self::spawn(db, Stdio::null())
    }

    /// A server whose stderr (its log) the test reads.
    fn start_logged(db: &Path) -> Result<Self, Box<dyn std::error::Error>> {
        Self::spawn(db, Stdio::piped())
    }

    fn spawn(db: &Path, stderr: Stdio) -> Result<Self, Box<dyn std::error::Error>> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_healthsim"))
            .arg("--db")
            .arg(db)
            .arg("mcp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        Ok(Self {
            child,
            stdin,
            stdout,
        })
    }

    /// The first line of the server's log containing `text` (blocks until it comes).
    fn log_line_containing(&mut self, text: &str) -> Result<String, Box<dyn std::error::Error>> {
        let stderr = self.child.stderr.as_mut().ok_or("no stderr")?;
        let mut log = BufReader::new(stderr);
        let mut line = String::new();
        loop {
            line.clear();
            if log.read_line(&mut line)? == 0 {
                return Err(format!("the server's log ended without '{text}'").into());
            }
            if line.contains(text) {
                return Ok(line.trim_end().to_string());
            }
        }
    }

    fn send(&mut self, line: &str) -> TestResult {
        writeln!(self.stdin, "{line}")?;
        self.stdin.flush()?;
        Ok(())
    }

    /// Sends a line and reads the one answer.
    fn ask(&mut self, line: &str) -> Result<Value, Box<dyn std::error::Error>> {
        self.send(line)?;
        let mut answer = String::new();
        if self.stdout.read_line(&mut answer)? == 0 {
            return Err(format!("the server ended instead of answering {line}").into());
        }
        Ok(serde_json::from_str(&answer)?)
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

#[test]
fn protocol_edges_over_raw_json_rpc() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut raw = Raw::start(&dir.path().join("raw.duckdb"))?;

    // Before initialize: a notification is dropped, a request answered, the server stays.
    raw.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)?;
    let early = raw.ask(r#"{"jsonrpc":"2.0","id":"early","method":"tools/list"}"#)?;
    assert_eq!(early["id"], "early", "{early}");
    assert_eq!(early["error"]["code"], -32602, "{early}");
    let init = raw.ask(INITIALIZE)?;
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18", "{init}");
    raw.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)?;

    // tools/call without params: invalid params, not method not found.
    let no_params = raw.ask(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call"}"#)?;
    assert_eq!(
        no_params,
        json!({"jsonrpc": "2.0", "id": 2, "error": {"code": -32602,
            "message": "invalid params: tools/call needs params: {\"name\": <tool>, \"arguments\": {...}}"}})
    );
    // A batch: one error for the whole array (MCP 2025-06-18 has no batches).
    let batch = raw.ask(r#"[{"jsonrpc":"2.0","id":3,"method":"tools/list"},{"jsonrpc":"2.0","id":4,"method":"ping"}]"#)?;
    assert_eq!(
        batch,
        json!({"jsonrpc": "2.0", "error": {"code": -32600,
            "message": "invalid request: JSON-RPC batches are not supported (MCP 2025-06-18 removed them): send each message on its own line"}})
    );
    // Strings for numbers and booleans are read as what they say, in every tool.
    let listed = raw.ask(r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"list_scenarios","arguments":{"limit":"5","offset":"0"}}}"#)?;
    assert_eq!(
        listed["result"]["structuredContent"]["count"], 0,
        "{listed}"
    );
    let wrong = raw.ask(r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"get_scenario_summary","arguments":{"scenario_id":"x","samples_per_type":"many"}}}"#)?;
    assert_eq!(
        wrong["result"]["content"][0]["text"],
        "invalid arguments for get_scenario_summary: samples_per_type must be an integer, got a string \"many\"",
        "{wrong}"
    );
    // Still serving.
    let ping = raw.ask(r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#)?;
    assert_eq!(ping["id"], 7, "{ping}");
    Ok(())
}

/// A session that negotiated 2025-03-26, the last version with batches: each element of a
/// batch is handled and answered on its own line; an empty batch is an invalid request.
#[test]
fn batches_are_answered_per_element_under_2025_03_26() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut raw = Raw::start(&dir.path().join("batch.duckdb"))?;
    let init = raw.ask(&INITIALIZE.replace("2025-06-18", "2025-03-26"))?;
    assert_eq!(init["result"]["protocolVersion"], "2025-03-26", "{init}");
    raw.send(r#"[{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":3,"method":"ping"},{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"list_scenarios","arguments":{}}}]"#)?;
    let mut answered = Vec::new();
    for _ in 0..2 {
        let mut line = String::new();
        raw.stdout.read_line(&mut line)?;
        let answer: Value = serde_json::from_str(&line)?;
        if answer["id"] == 4 {
            assert_eq!(
                answer["result"]["structuredContent"]["count"], 0,
                "{answer}"
            );
        }
        answered.push(answer["id"].as_i64().unwrap_or(0));
    }
    answered.sort_unstable();
    assert_eq!(answered, [3, 4], "one answer per request of the batch");
    let empty = raw.ask("[]")?;
    assert_eq!(
        empty,
        json!({"jsonrpc": "2.0", "error": {"code": -32600, "message": "invalid request: an empty batch"}})
    );
    Ok(())
}

/// notifications/cancelled for a running query_scenario stops the query (its worker is
/// killed) instead of letting it run to its 5-second timeout: the server gets the query's own
/// "cancelled" outcome (which it logs, as the client gets no answer to a cancelled request),
/// and the next call works.
#[test]
fn a_cancelled_query_stops_and_the_next_call_works() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut raw = Raw::start_logged(&dir.path().join("cancel.duckdb"))?;
    raw.ask(INITIALIZE)?;
    raw.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)?;
    let patients: Vec<Value> = (0..400)
        .map(|i| json!({"patient_id": format!("p{i:04}"), "gender": "female"}))
        .collect();
    let persist = json!({"jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": {
        "name": "persist_entities",
        "arguments": {"entity_type": "patients", "entities": patients, "scenario_name": "cancel"}}});
    let persisted = raw.ask(&persist.to_string())?;
    assert_eq!(persisted["result"]["isError"], false, "{persisted}");

    // 400³ rows of string work: uncancelled, this query runs into its 5-second timeout.
    let long = json!({"jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": {
        "name": "query_scenario", "arguments": {"scenario_id": "cancel", "query":
        "SELECT count(*) AS n FROM patients a, patients b, patients c \
         WHERE a.patient_id || b.patient_id || c.patient_id LIKE '%zz%'"}}});
    raw.send(&long.to_string())?;
    raw.send(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":11,"reason":"the user moved on"}}"#)?;
    let logged = raw.log_line_containing("query_scenario request 11")?;
    assert!(
        logged.ends_with("was cancelled by the client: the query was cancelled by the client"),
        "the query stopped on the cancellation, not at its timeout: {logged}"
    );

    let next = raw.ask(r#"{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"query_scenario","arguments":{"scenario_id":"cancel","query":"SELECT count(*) AS n FROM patients"}}}"#)?;
    assert_eq!(next["id"], 12, "no answer to the cancelled request: {next}");
    assert_eq!(
        next["result"]["structuredContent"]["results"][0]["n"], 400,
        "{next}"
    );
    Ok(())
}

/// The command line has the same maxima as the tools (it reads through the same functions), and
/// refuses above them with exit code 2 and the same words.
#[test]
fn the_cli_refuses_counts_above_the_tools_maxima() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("cli.duckdb");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_healthsim"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
    };
    let cases: [(&[&str], &str); 3] = [
        (&["list", "--limit", "51"], "error: limit must be between 1 and 50, got 51"),
        (
            &["samples", "any", "patients", "--count", "21"],
            "error: count must be between 1 and 20, got 21",
        ),
        (
            &["schema", "claims,claim_lines,patients,persons,members,encounters,diagnoses,procedures,vitals,lab_results,medications"],
            "error: describe at most 10 entity types with their columns per call (the result's bound is 3000 tokens), got 11",
        ),
    ];
    for (args, expected) in cases {
        let output = run(args)?;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().next(), Some(expected), "{args:?}");
    }
    let listed = run(&["--json", "list", "--offset", "5"])?;
    let listed: Value = serde_json::from_slice(&listed.stdout)?;
    assert_eq!(listed["total_count"], 0);
    assert_eq!(listed["offset"], 5);
    Ok(())
}
