//! The MCP server end to end: `healthsim mcp` runs as a child process and rmcp's real client
//! drives it over stdio through a whole agent workflow, asserting on structured results. Tool
//! errors come back as `isError: true` and the server keeps working. The tool list is an insta
//! snapshot.

use std::path::Path;

use healthsim_synth::{Generator, GeneratorConfig};
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Map, Value};

type TestResult = Result<(), Box<dyn std::error::Error>>;
type Client = RunningService<RoleClient, ()>;

/// Starts `healthsim --db <db> mcp` and connects a client (initialize handshake included).
async fn connect(db: &Path) -> Result<Client, Box<dyn std::error::Error>> {
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_healthsim")).configure(|cmd| {
        cmd.arg("--db").arg(db).arg("mcp");
    });
    let transport = TokioChildProcess::new(command)?;
    Ok(().serve(transport).await?)
}

fn arguments(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

async fn call(
    client: &Client,
    tool: &str,
    args: Value,
) -> Result<CallToolResult, Box<dyn std::error::Error>> {
    Ok(client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments(args)))
        .await?)
}

/// A call that must succeed; its structured content.
async fn ok(
    client: &Client,
    tool: &'static str,
    args: Value,
) -> Result<Value, Box<dyn std::error::Error>> {
    let result = call(client, tool, args.clone()).await?;
    if result.is_error == Some(true) {
        return Err(format!("{tool}({args}) failed: {:?}", result.content).into());
    }
    let Some(structured) = result.structured_content else {
        return Err(format!("{tool} returned no structured content").into());
    };
    // The text content carries the same JSON, for clients that ignore structured content.
    let text = result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone());
    assert_eq!(
        text.map(|t| serde_json::from_str::<Value>(&t).ok()),
        Some(Some(structured.clone()))
    );
    Ok(structured)
}

/// A call that must fail as a tool error mentioning `text`.
async fn tool_error(client: &Client, tool: &'static str, args: Value, text: &str) -> TestResult {
    let result = call(client, tool, args.clone()).await?;
    assert_eq!(
        result.is_error,
        Some(true),
        "{tool}({args}) should fail: {result:?}"
    );
    let message = result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default();
    assert!(
        message.contains(text),
        "{tool}: '{message}' does not mention '{text}'"
    );
    Ok(())
}

/// A generated cohort in batches of 50 entities, each batch a type → list map.
fn batches(persons: usize) -> (Vec<Map<String, Value>>, Map<String, Value>) {
    let mut batches = Vec::new();
    let mut counts = Map::new();
    let mut current = Map::new();
    let mut size = 0;
    for (table, entity) in Generator::new(GeneratorConfig {
        persons,
        seed: 3,
        ..GeneratorConfig::default()
    }) {
        let n = counts.get(table).and_then(Value::as_u64).unwrap_or(0);
        counts.insert(table.to_string(), json!(n + 1));
        if let Value::Array(list) = current
            .entry(table)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            list.push(entity);
        }
        size += 1;
        if size == 50 {
            batches.push(std::mem::take(&mut current));
            size = 0;
        }
    }
    if size > 0 {
        batches.push(current);
    }
    (batches, counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_workflow_over_stdio() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("mcp.duckdb");
    let client = connect(&db).await?;

    // initialize
    let info = client.peer_info().ok_or("no server info")?;
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("healthsim")
    );
    assert!(info
        .instructions
        .as_deref()
        .is_some_and(|i| i.contains("persist_entities")));

    // tools/list
    let mut tools = client.list_all_tools().await?;
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "add_tag",
            "clone_scenario",
            "delete_scenario",
            "describe_schema",
            "export_scenario",
            "get_entity_samples",
            "get_scenario_summary",
            "import_fhir",
            "import_scenario",
            "list_scenarios",
            "list_tags",
            "merge_scenarios",
            "persist_entities",
            "query_scenario",
            "remove_tag",
            "rename_scenario",
        ]
    );
    assert!(
        tools.iter().all(|t| t.output_schema.is_some()),
        "every tool has an output schema"
    );
    insta::assert_json_snapshot!("tools_list", tools);
    // Only delete destroys; export writes files, so it is not read-only either.
    for tool in &tools {
        let annotations = tool.annotations.as_ref().ok_or("no annotations")?;
        assert_eq!(
            annotations.destructive_hint == Some(true),
            tool.name == "delete_scenario",
            "{}",
            tool.name
        );
        if [
            "clone_scenario",
            "merge_scenarios",
            "export_scenario",
            "import_scenario",
            "import_fhir",
        ]
        .contains(&tool.name.as_ref())
        {
            assert_eq!(annotations.read_only_hint, Some(false), "{}", tool.name);
        }
    }

    // persist in batches of 50: the first creates the scenario, the others pass its id
    let (batches, counts) = batches(4);
    assert!(batches.len() > 2);
    let mut scenario_id = String::new();
    let mut persisted = 0;
    for (i, batch) in batches.into_iter().enumerate() {
        let mut args = json!({"entities": batch});
        if i == 0 {
            args["context"] = json!("diabetic members in Maricopa county with claims");
            args["tags"] = json!(["Diabetes"]);
        } else {
            args["scenario_id"] = json!(scenario_id);
        }
        let result = ok(&client, "persist_entities", args).await?;
        assert_eq!(result["is_new_scenario"], i == 0);
        if i == 0 {
            scenario_id = result["scenario_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let name = result["scenario_name"].as_str().unwrap_or_default();
            assert!(name.contains("diabetic"), "auto-named from context: {name}");
        } else {
            assert_eq!(result["scenario_id"], scenario_id.as_str());
        }
        assert!(result["summary"].get("samples").is_none());
        persisted += result["total_persisted"].as_u64().unwrap_or(0);
    }
    // ... and a list of one type with entity_type
    let extra = ok(
        &client,
        "persist_entities",
        json!({
            "entity_type": "patient",
            "entities": [{"patient_id": "extra-1", "birthDate": "1961-02-03", "gender": "female"}],
            "scenario_id": scenario_id,
        }),
    )
    .await?;
    assert_eq!(
        extra["counts"]["patients"],
        json!({"inserted": 1, "updated": 0})
    );
    // Ids are listed as far as the 500-token budget of the result allows.
    assert!(
        extra["entity_ids"] == json!(["extra-1"])
            || (extra["entity_ids"] == json!([]) && extra["ids_truncated"] == true),
        "{extra}"
    );
    persisted += 1;

    // Lenient shapes: one entity as an object, or the list encoded as a JSON string.
    let single = ok(
        &client,
        "persist_entities",
        json!({"entity_type": "patients", "entities": {"patient_id": "extra-1", "gender": "female"}, "scenario_id": scenario_id}),
    )
    .await?;
    assert_eq!(
        single["counts"]["patients"],
        json!({"inserted": 0, "updated": 1})
    );
    let encoded = ok(
        &client,
        "persist_entities",
        json!({"entity_type": "patients", "entities": "[{\"patient_id\": \"extra-1\"}]", "scenario_id": scenario_id}),
    )
    .await?;
    assert_eq!(
        encoded["counts"]["patients"],
        json!({"inserted": 0, "updated": 1})
    );

    // summary
    let summary = ok(
        &client,
        "get_scenario_summary",
        json!({"scenario_id": scenario_id}),
    )
    .await?;
    assert_eq!(summary["total_entities"], persisted);
    for (table, count) in &counts {
        let expected = count.as_u64().unwrap_or(0) + u64::from(table == "patients");
        assert_eq!(summary["entity_counts"][table], expected, "{table}");
    }
    assert!(summary["samples"]["patients"].is_array());
    assert_eq!(summary["tags"], json!(["diabetes"]));
    let small = ok(
        &client,
        "get_scenario_summary",
        json!({"scenario_id": scenario_id, "include_samples": false}),
    )
    .await?;
    assert!(small.get("samples").is_none());

    // query with pagination
    let sql = "SELECT patient_id, gender FROM patients ORDER BY patient_id";
    let page = ok(
        &client,
        "query_scenario",
        json!({"scenario_id": scenario_id, "query": sql, "limit": 2}),
    )
    .await?;
    assert_eq!(page["total_count"], 5);
    assert_eq!(page["returned"], 2);
    assert_eq!(page["has_more"], true);
    let last = ok(
        &client,
        "query_scenario",
        json!({"scenario_id": scenario_id, "query": sql, "limit": 2, "offset": 4}),
    )
    .await?;
    assert_eq!(last["has_more"], false);
    assert_eq!(last["results"][0]["patient_id"], "pat-000004");
    let joined = ok(
        &client,
        "query_scenario",
        json!({"scenario_id": scenario_id, "query":
            "SELECT count(*) AS lines FROM claims c JOIN claim_lines l USING (claim_id)"}),
    )
    .await?;
    assert_eq!(joined["results"][0]["lines"], counts["claim_lines"]);

    // rename (the id stays) and find it by the new name
    let renamed = ok(
        &client,
        "rename_scenario",
        json!({"scenario_id": scenario_id, "new_name": "Maricopa Diabetes Baseline"}),
    )
    .await?;
    assert_eq!(renamed["scenario_id"], scenario_id.as_str());
    assert_eq!(renamed["name"], "maricopa-diabetes-baseline");

    // tags
    let tagged = ok(
        &client,
        "add_tag",
        json!({"scenario_id": "maricopa-diabetes-baseline", "tag": "Medicare"}),
    )
    .await?;
    assert_eq!(tagged["tags"], json!(["diabetes", "medicare"]));
    let untagged = ok(
        &client,
        "remove_tag",
        json!({"scenario_id": "maricopa", "tag": "diabetes"}),
    )
    .await?;
    assert_eq!(untagged["tags"], json!(["medicare"]));
    let one = ok(&client, "list_tags", json!({"scenario_id": scenario_id})).await?;
    assert_eq!(one["tags"], json!(["medicare"]));
    let all = ok(&client, "list_tags", json!({})).await?;
    assert_eq!(all["scenario_counts"], json!({"medicare": 1}));

    // samples
    let samples = ok(
        &client,
        "get_entity_samples",
        json!({"scenario_id": scenario_id, "entity_type": "claims", "count": 2, "strategy": "recent"}),
    )
    .await?;
    assert_eq!(samples["entity_type"], "claims");
    assert_eq!(samples["count"], 2);
    assert!(samples["samples"][0]["claim_id"].is_string());

    // list
    let listed = ok(&client, "list_scenarios", json!({"tag": "medicare"})).await?;
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["scenarios"][0]["entity_count"], persisted);
    let none = ok(
        &client,
        "list_scenarios",
        json!({"filter": "nothing-like-this"}),
    )
    .await?;
    assert_eq!(none["count"], 0);

    // schema
    let schema = ok(
        &client,
        "describe_schema",
        json!({"entity_type": "claims,claim_lines"}),
    )
    .await?;
    assert_eq!(schema["entity_types"][1]["table"], "claim_lines");
    let everything = ok(&client, "describe_schema", json!({})).await?;
    assert!(everything["entity_types"]
        .as_array()
        .is_some_and(|t| t.len() == 38));

    // clone -> export (parquet, into a temporary folder) -> import -> merge (rename)
    let copy = ok(
        &client,
        "clone_scenario",
        json!({"scenario_id": scenario_id, "new_name": "What-if copy", "tags": ["what-if"],
               "entity_types": ["patients", "claims", "claim_lines"]}),
    )
    .await?;
    let copy_id = copy["scenario_id"].as_str().unwrap_or_default().to_string();
    assert_eq!(copy["name"], "what-if-copy");
    assert_eq!(copy["source"]["scenario_id"], scenario_id.as_str());
    assert_eq!(copy["counts"]["patients"], 5);
    assert_eq!(copy["counts"]["claim_lines"], counts["claim_lines"]);
    assert!(copy["counts"].get("encounters").is_none(), "{copy}");
    let exports = tempfile::tempdir()?;
    let export_args = json!({"scenario_id": copy_id, "format": "parquet",
        "output_path": exports.path(), "include_provenance": false});
    let exported = ok(&client, "export_scenario", export_args.clone()).await?;
    let folder = exports.path().join("what-if-copy");
    assert_eq!(exported["path"], folder.to_string_lossy().as_ref());
    let mut files: Vec<&str> = exported["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    files.sort_unstable();
    assert_eq!(
        files,
        ["claim_lines.parquet", "claims.parquet", "patients.parquet"]
    );
    assert!(folder.join("claims.parquet").is_file());
    assert_eq!(exported["total_entities"], copy["total_entities"]);
    tool_error(&client, "export_scenario", export_args, "already exists").await?;
    let imported = ok(
        &client,
        "import_scenario",
        json!({"path": folder, "name": "what-if-restored"}),
    )
    .await?;
    assert_eq!(imported["name"], "what-if-restored");
    assert_eq!(imported["format"], "parquet");
    assert_eq!(imported["counts"], copy["counts"]);
    let merged = ok(
        &client,
        "merge_scenarios",
        json!({"scenario_ids": [copy_id, "what-if-restored"], "target_name": "what-if-merged",
               "on_conflict": "rename"}),
    )
    .await?;
    let copied = copy["total_entities"].as_u64().unwrap_or(0);
    assert_eq!(merged["on_conflict"], "rename");
    assert_eq!(merged["total_entities"], 2 * copied);
    assert_eq!(merged["total_conflicts"], copied);
    // Renamed claims keep their lines: every line still joins its claim.
    let joined = ok(
        &client,
        "query_scenario",
        json!({"scenario_id": "what-if-merged", "query":
            "SELECT count(*) AS n FROM claim_lines l JOIN claims c USING (claim_id)"}),
    )
    .await?;
    assert_eq!(
        joined["results"][0]["n"],
        2 * counts["claim_lines"].as_u64().unwrap_or(0)
    );
    // Relative paths are relative to the database's folder; no path: exports/ next to it.
    let relative = ok(
        &client,
        "export_scenario",
        json!({"scenario_id": "what-if-merged", "format": "csv", "output_path": "merged-csv"}),
    )
    .await?;
    assert_eq!(
        relative["path"],
        dir.path().join("merged-csv").to_string_lossy().as_ref()
    );
    let default = ok(
        &client,
        "export_scenario",
        json!({"scenario_id": "what-if-merged", "format": "json", "entity_types": "claims"}),
    )
    .await?;
    let document = dir.path().join("exports").join("what-if-merged.json");
    assert_eq!(default["path"], document.to_string_lossy().as_ref());
    assert_eq!(
        default["counts"],
        json!({"claims": merged["counts"]["claims"]})
    );
    let reimported = ok(
        &client,
        "import_scenario",
        json!({"path": "exports/what-if-merged.json"}),
    )
    .await?;
    assert_eq!(reimported["name"], "what-if-merged-2");

    // import_fhir: a transaction bundle, then the malformed fixture with skip_invalid.
    let fhir = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../healthsim-fhir/tests/data/fhir")
            .join(name)
    };
    let bundle = std::fs::canonicalize(fhir("transaction-bundle.json"))?;
    let imported_fhir = ok(
        &client,
        "import_fhir",
        json!({"paths": [bundle], "context": "fhir transaction bundle"}),
    )
    .await?;
    assert_eq!(imported_fhir["is_new_scenario"], true);
    assert_eq!(imported_fhir["resources_imported"], 19);
    assert_eq!(
        imported_fhir["rows_written"]["claim_lines"],
        json!({"inserted": 4, "updated": 0})
    );
    assert_eq!(imported_fhir["unsupported"], json!({"ImagingStudy": 1}));
    let fhir_id = imported_fhir["scenario_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let bad = std::fs::canonicalize(fhir("malformed/bad.ndjson"))?;
    tool_error(
        &client,
        "import_fhir",
        json!({"paths": [bad], "scenario_id": fhir_id}),
        "bad.ndjson line 2",
    )
    .await?;
    let skipped = ok(
        &client,
        "import_fhir",
        json!({"paths": bad, "scenario_id": fhir_id, "skip_invalid": true}),
    )
    .await?;
    assert_eq!(skipped["is_new_scenario"], false);
    assert_eq!(skipped["skipped_total"], 5);
    assert_eq!(skipped["skipped"][0]["file"], "bad.ndjson");
    assert_eq!(skipped["skipped"][1]["id"], "wrong-shape");
    for result in [&imported_fhir, &skipped] {
        let tokens = healthsim_summary::count_tokens(&result.to_string());
        assert!(
            tokens <= 500,
            "import_fhir result of {tokens} tokens: {result}"
        );
    }
    tool_error(
        &client,
        "import_fhir",
        json!({"paths": []}),
        "paths is empty",
    )
    .await?;

    // Transfer errors are tool errors too.
    tool_error(
        &client,
        "export_scenario",
        json!({"scenario_id": copy_id, "format": "json", "output_path": "../escape.json"}),
        "'..' components are not allowed",
    )
    .await?;
    tool_error(
        &client,
        "export_scenario",
        json!({"scenario_id": copy_id, "format": "xml"}),
        "invalid arguments for export_scenario",
    )
    .await?;
    tool_error(
        &client,
        "merge_scenarios",
        json!({"scenario_ids": [copy_id]}),
        "at least two source scenarios",
    )
    .await?;
    tool_error(
        &client,
        "clone_scenario",
        json!({"scenario_id": "no-such-scenario"}),
        "no scenario matches",
    )
    .await?;
    tool_error(
        &client,
        "import_scenario",
        json!({"path": "exports/nothing-here.json"}),
        "nothing-here.json",
    )
    .await?;

    // The scenarios these steps made go again, so the rest of the workflow sees one.
    for made in [
        "what-if-copy",
        "what-if-restored",
        "what-if-merged",
        "what-if-merged-2",
        fhir_id.as_str(),
    ] {
        ok(
            &client,
            "delete_scenario",
            json!({"scenario_id": made, "confirm": true}),
        )
        .await?;
    }

    // tool errors: reported, nothing crashes, the server keeps working
    tool_error(
        &client,
        "query_scenario",
        json!({"scenario_id": scenario_id, "query": "SELEC nonsense"}),
        "syntax error",
    )
    .await?;
    tool_error(
        &client,
        "query_scenario",
        json!({"scenario_id": scenario_id, "query": "DROP TABLE patients"}),
        "read-only",
    )
    .await?;
    tool_error(
        &client,
        "get_entity_samples",
        json!({"scenario_id": scenario_id, "entity_type": "spaceships"}),
        "unknown entity type 'spaceships'",
    )
    .await?;
    tool_error(
        &client,
        "persist_entities",
        json!({"entity_type": "spaceships", "entities": [{"id": 1}]}),
        "unknown entity type",
    )
    .await?;
    tool_error(
        &client,
        "persist_entities",
        json!({"entities": [{"patient_id": "x"}]}),
        "entity_type is required",
    )
    .await?;
    tool_error(&client, "persist_entities", json!({"entity_type": "patients", "entities": [{"patient_id": "x", "birth_date": "soon"}], "scenario_id": scenario_id}), "patients[0].birth_date").await?;
    tool_error(
        &client,
        "persist_entities",
        json!({"entities": 42}),
        "entities must be a list of entity objects",
    )
    .await?;
    tool_error(
        &client,
        "get_scenario_summary",
        json!({"scenario_id": "no-such-scenario"}),
        "no scenario matches",
    )
    .await?;
    tool_error(
        &client,
        "get_scenario_summary",
        json!({"scenario": scenario_id}),
        "invalid arguments for get_scenario_summary",
    )
    .await?;
    tool_error(
        &client,
        "delete_scenario",
        json!({"scenario_id": scenario_id}),
        "confirm: true",
    )
    .await?;
    tool_error(
        &client,
        "add_tag",
        json!({"scenario_id": scenario_id, "tag": "  "}),
        "invalid tag",
    )
    .await?;
    let still_there = ok(
        &client,
        "get_scenario_summary",
        json!({"scenario_id": scenario_id, "include_samples": false}),
    )
    .await?;
    assert_eq!(still_there["total_entities"], persisted);

    // The database is not locked while the server is idle: the CLI and a second server use it.
    let cli = tokio::process::Command::new(env!("CARGO_BIN_EXE_healthsim"))
        .arg("--db")
        .arg(&db)
        .args(["--lock-timeout", "60", "--json", "list"])
        .output()
        .await?;
    assert_eq!(
        cli.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let listed: Value = serde_json::from_slice(&cli.stdout)?;
    assert_eq!(listed["scenarios"][0]["name"], "maricopa-diabetes-baseline");
    let second = connect(&db).await?;
    let seen = ok(&second, "list_scenarios", json!({})).await?;
    assert_eq!(seen["count"], 1);
    second.cancel().await?;

    // delete with confirmation
    let deleted = ok(
        &client,
        "delete_scenario",
        json!({"scenario_id": scenario_id, "confirm": true}),
    )
    .await?;
    assert_eq!(deleted["name"], "maricopa-diabetes-baseline");
    assert_eq!(deleted["deleted_counts"]["patients"], 5);
    let empty = ok(&client, "list_scenarios", json!({})).await?;
    assert_eq!(empty["count"], 0);

    client.cancel().await?;
    Ok(())
}

// ------------------------------------------------------------------------------------ skills

/// The example tool calls of a skill file: every ```json block with a "tool" key, in order.
fn skill_examples(file: &str) -> Result<Vec<(String, Value)>, Box<dyn std::error::Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../skills")
        .join(file);
    let text = std::fs::read_to_string(&path)?;
    let mut examples = Vec::new();
    let mut block: Option<String> = None;
    for line in text.lines() {
        match (&mut block, line.trim_start()) {
            (None, "```json") => block = Some(String::new()),
            (Some(body), "```") => {
                let value: Value = serde_json::from_str(body)
                    .map_err(|e| format!("{file}: invalid JSON example: {e}\n{body}"))?;
                if let Some(tool) = value["tool"].as_str() {
                    examples.push((tool.to_string(), value["arguments"].clone()));
                }
                block = None;
            }
            (Some(body), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, _) => {}
        }
    }
    Ok(examples)
}

/// Runs the examples in order; each must succeed. Returns the tools they used.
async fn run_examples(
    client: &Client,
    file: &str,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let examples = skill_examples(file)?;
    assert!(examples.len() >= 5, "{file} has too few examples");
    let mut used = Vec::new();
    for (tool, args) in examples {
        let result = call(client, &tool, args.clone()).await?;
        assert_ne!(
            result.is_error,
            Some(true),
            "{file}: {tool}({args}) failed: {:?}",
            result.content
        );
        used.push(tool);
    }
    Ok(used)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skill_examples_work_against_the_server() -> TestResult {
    let dir = tempfile::tempdir()?;

    // state-management.md creates, tags, renames, clones, merges, exports, imports and deletes
    // its own scenarios. Its import_fhir example reads Synthea-style bundles from
    // synthea/output/fhir, relative to the database's folder: the test puts two there.
    let fhir = dir.path().join("synthea").join("output").join("fhir");
    std::fs::create_dir_all(&fhir)?;
    for bundle in ["transaction-bundle.json", "collection-bundle.json"] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../healthsim-fhir/tests/data/fhir")
                .join(bundle),
            fhir.join(bundle),
        )?;
    }
    let client = connect(&dir.path().join("state.duckdb")).await?;
    let mut used = run_examples(&client, "state-management.md").await?;
    client.cancel().await?;

    // duckdb-query.md queries a generated cohort named as in its examples.
    let client = connect(&dir.path().join("query.duckdb")).await?;
    let (batches, _) = batches(20);
    for (i, batch) in batches.into_iter().enumerate() {
        let mut args = json!({"entities": batch});
        if i == 0 {
            args["scenario_name"] = json!("maricopa-diabetes-cohort");
        } else {
            args["scenario_id"] = json!("maricopa-diabetes-cohort");
        }
        ok(&client, "persist_entities", args).await?;
    }
    used.extend(run_examples(&client, "duckdb-query.md").await?);
    client.cancel().await?;

    // Together the skills show every tool.
    let mut missing: Vec<String> = healthsim_cli::mcp::HealthsimServer::tools()
        .into_iter()
        .map(|t| t.name.to_string())
        .filter(|name| !used.contains(name))
        .collect();
    missing.sort();
    assert!(
        missing.is_empty(),
        "tools without a skill example: {missing:?}"
    );
    Ok(())
}
