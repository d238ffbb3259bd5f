//! The MCP server end to end: `healthsim mcp` runs as a child process and rmcp's real client
//! drives it over stdio through a whole agent workflow, asserting on structured results. Tool
//! errors come back as `isError: true` and the server keeps working. The tool list is an insta
//! snapshot.
//!
//! The workflow is one session (each step builds on the scenario the previous ones made), run
//! as named steps: a failure says which step, and every assertion says what it checks.

mod mcp_client;

use std::path::{Path, PathBuf};

use healthsim_synth::{Generator, GeneratorConfig};
use mcp_client::{call, connect, first_text, Client};
use serde_json::{json, Map, Value};

type TestResult = Result<(), Box<dyn std::error::Error>>;

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
    let message = first_text(&result);
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

// ------------------------------------------------------------------------------------ tools

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialize_and_tools_list() -> TestResult {
    let dir = tempfile::tempdir()?;
    let client = connect(&dir.path().join("mcp.duckdb")).await?;

    let info = client.peer_info().ok_or("no server info")?;
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("healthsim"),
        "server name"
    );
    assert!(
        info.instructions
            .as_deref()
            .is_some_and(|i| i.contains("persist_entities")),
        "the instructions name the batch loop's tool"
    );

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
            "import_legacy",
            "import_scenario",
            "list_scenarios",
            "list_tags",
            "merge_scenarios",
            "persist_entities",
            "query_scenario",
            "remove_tag",
            "rename_scenario",
            "report_scenario",
        ],
        "tools/list names"
    );
    assert!(
        tools.iter().all(|t| t.output_schema.is_some()),
        "every tool has an output schema"
    );
    insta::assert_json_snapshot!("tools_list", tools);
    // Each tool's annotations are pinned in tests/contract.rs; here: every tool says them all.
    for tool in &tools {
        let annotations = tool.annotations.as_ref().ok_or("no annotations")?;
        assert!(
            annotations.read_only_hint.is_some(),
            "{}: readOnlyHint",
            tool.name
        );
        assert_eq!(
            annotations.open_world_hint,
            Some(false),
            "{}: openWorldHint",
            tool.name
        );
    }
    client.cancel().await?;
    Ok(())
}

// ------------------------------------------------------------------------------------ workflow

/// What the steps of the agent workflow share: one server over one database, and the scenario
/// (and its copies) the steps build.
struct Workflow {
    dir: tempfile::TempDir,
    db: PathBuf,
    client: Client,
    /// The scenario the batch loop created.
    scenario_id: String,
    /// Entities generated per table.
    counts: Map<String, Value>,
    /// Entities persisted into the scenario.
    persisted: u64,
    /// The clone made by `clone_and_export` (a subset of the scenario's types).
    copy: Value,
    /// A folder outside the database's, for `clone_and_export`'s Parquet export.
    exports: tempfile::TempDir,
    /// The merge made by `import_and_merge_with_rename`.
    merged: Value,
    /// The scenario `import_fhir` made.
    fhir_id: String,
}

impl Workflow {
    fn copy_id(&self) -> String {
        self.copy["scenario_id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Runs the steps in order; a failing step is named in the error and, for a failed assertion,
/// in the `--- step:` line printed before it (shown with the test's output).
macro_rules! run_steps {
    ($workflow:expr, $($step:ident),+ $(,)?) => {
        $(
            eprintln!("--- step: {}", stringify!($step));
            $step(&mut $workflow)
                .await
                .map_err(|e| format!("step {}: {e}", stringify!($step)))?;
        )+
    };
}

/// An agent's whole session against one server: every tool on the same database, in the order
/// an agent would use them, then errors, then the database shared while the server is idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_workflow_over_stdio() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("mcp.duckdb");
    let client = connect(&db).await?;
    let mut workflow = Workflow {
        dir,
        db,
        client,
        scenario_id: String::new(),
        counts: Map::new(),
        persisted: 0,
        copy: Value::Null,
        exports: tempfile::tempdir()?,
        merged: Value::Null,
        fhir_id: String::new(),
    };
    run_steps!(
        workflow,
        persist_in_batches,
        persist_one_type_and_lenient_shapes,
        summaries_with_and_without_samples,
        query_in_pages,
        rename_and_tag,
        samples_and_listing,
        describe_schema,
        clone_and_export,
        import_and_merge_with_rename,
        export_paths_relative_to_the_database,
        import_fhir_files,
        transfer_errors_are_tool_errors,
        delete_the_transfer_scenarios,
        tool_errors_leave_the_server_working,
        idle_server_shares_the_database,
        delete_with_confirmation,
    );
    workflow.client.cancel().await?;
    Ok(())
}

/// Persist in batches of 50: the first creates the scenario, the others pass its id.
async fn persist_in_batches(w: &mut Workflow) -> TestResult {
    let (batches, counts) = batches(4);
    assert!(batches.len() > 2, "the cohort needs several batches");
    for (i, batch) in batches.into_iter().enumerate() {
        let mut args = json!({"entities": batch});
        if i == 0 {
            args["context"] = json!("diabetic members in Maricopa county with claims");
            args["tags"] = json!(["Diabetes"]);
        } else {
            args["scenario_id"] = json!(w.scenario_id);
        }
        let result = ok(&w.client, "persist_entities", args).await?;
        assert_eq!(
            result["is_new_scenario"],
            i == 0,
            "batch {i}: only the first creates the scenario"
        );
        if i == 0 {
            w.scenario_id = result["scenario_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let name = result["scenario_name"].as_str().unwrap_or_default();
            assert!(name.contains("diabetic"), "auto-named from context: {name}");
        } else {
            assert_eq!(
                result["scenario_id"],
                w.scenario_id.as_str(),
                "batch {i} lands in the first batch's scenario"
            );
        }
        assert!(
            result["summary"].get("samples").is_none(),
            "batch {i}: the summary has no samples"
        );
        w.persisted += result["total_persisted"].as_u64().unwrap_or(0);
    }
    w.counts = counts;
    Ok(())
}

/// A list of one type with entity_type; one entity as an object; the list as a JSON string.
async fn persist_one_type_and_lenient_shapes(w: &mut Workflow) -> TestResult {
    let extra = ok(
        &w.client,
        "persist_entities",
        json!({
            "entity_type": "patient",
            "entities": [{"patient_id": "extra-1", "birthDate": "1961-02-03", "gender": "female"}],
            "scenario_id": w.scenario_id,
        }),
    )
    .await?;
    assert_eq!(
        extra["counts"]["patients"],
        json!({"inserted": 1, "updated": 0}),
        "a list of one type with entity_type (an alias)"
    );
    // Ids are listed as far as the 500-token budget of the result allows.
    assert!(
        extra["entity_ids"] == json!(["extra-1"])
            || (extra["entity_ids"] == json!([]) && extra["ids_truncated"] == true),
        "{extra}"
    );
    w.persisted += 1;

    let single = ok(
        &w.client,
        "persist_entities",
        json!({"entity_type": "patients", "entities": {"patient_id": "extra-1", "gender": "female"}, "scenario_id": w.scenario_id}),
    )
    .await?;
    assert_eq!(
        single["counts"]["patients"],
        json!({"inserted": 0, "updated": 1}),
        "one entity sent as an object"
    );
    let encoded = ok(
        &w.client,
        "persist_entities",
        json!({"entity_type": "patients", "entities": "[{\"patient_id\": \"extra-1\"}]", "scenario_id": w.scenario_id}),
    )
    .await?;
    assert_eq!(
        encoded["counts"]["patients"],
        json!({"inserted": 0, "updated": 1}),
        "the list encoded as a JSON string"
    );
    Ok(())
}

async fn summaries_with_and_without_samples(w: &mut Workflow) -> TestResult {
    let summary = ok(
        &w.client,
        "get_scenario_summary",
        json!({"scenario_id": w.scenario_id}),
    )
    .await?;
    assert_eq!(
        summary["total_entities"], w.persisted,
        "total_entities counts every persisted entity"
    );
    for (table, count) in &w.counts {
        let expected = count.as_u64().unwrap_or(0) + u64::from(table == "patients");
        assert_eq!(
            summary["entity_counts"][table], expected,
            "entity_counts of {table}"
        );
    }
    assert!(
        summary["samples"]["patients"].is_array(),
        "samples by default"
    );
    assert_eq!(
        summary["tags"],
        json!(["diabetes"]),
        "tags are stored lowercase"
    );
    let small = ok(
        &w.client,
        "get_scenario_summary",
        json!({"scenario_id": w.scenario_id, "include_samples": false}),
    )
    .await?;
    assert!(
        small.get("samples").is_none(),
        "include_samples: false leaves samples out"
    );
    Ok(())
}

async fn query_in_pages(w: &mut Workflow) -> TestResult {
    let sql = "SELECT patient_id, gender FROM patients ORDER BY patient_id";
    let page = ok(
        &w.client,
        "query_scenario",
        json!({"scenario_id": w.scenario_id, "query": sql, "limit": 2}),
    )
    .await?;
    assert_eq!(page["total_count"], 5, "first page: total_count");
    assert_eq!(page["returned"], 2, "first page: returned");
    assert_eq!(page["has_more"], true, "first page: has_more");
    let last = ok(
        &w.client,
        "query_scenario",
        json!({"scenario_id": w.scenario_id, "query": sql, "limit": 2, "offset": 4}),
    )
    .await?;
    assert_eq!(last["has_more"], false, "last page: has_more");
    assert_eq!(
        last["results"][0]["patient_id"], "pat-000004",
        "last page: its row"
    );
    let joined = ok(
        &w.client,
        "query_scenario",
        json!({"scenario_id": w.scenario_id, "query":
            "SELECT count(*) AS lines FROM claims c JOIN claim_lines l USING (claim_id)"}),
    )
    .await?;
    assert_eq!(
        joined["results"][0]["lines"], w.counts["claim_lines"],
        "a join inside the scenario"
    );
    Ok(())
}

/// Rename (the id stays) and find it by the new name; add, remove and list tags.
async fn rename_and_tag(w: &mut Workflow) -> TestResult {
    let renamed = ok(
        &w.client,
        "rename_scenario",
        json!({"scenario_id": w.scenario_id, "new_name": "Maricopa Diabetes Baseline"}),
    )
    .await?;
    assert_eq!(
        renamed["scenario_id"],
        w.scenario_id.as_str(),
        "rename keeps the id"
    );
    assert_eq!(
        renamed["name"], "maricopa-diabetes-baseline",
        "the new name is sanitized"
    );

    let tagged = ok(
        &w.client,
        "add_tag",
        json!({"scenario_id": "maricopa-diabetes-baseline", "tag": "Medicare"}),
    )
    .await?;
    assert_eq!(
        tagged["tags"],
        json!(["diabetes", "medicare"]),
        "add_tag by the new name"
    );
    let untagged = ok(
        &w.client,
        "remove_tag",
        json!({"scenario_id": "maricopa", "tag": "diabetes"}),
    )
    .await?;
    assert_eq!(
        untagged["tags"],
        json!(["medicare"]),
        "remove_tag by a part of the name"
    );
    let one = ok(
        &w.client,
        "list_tags",
        json!({"scenario_id": w.scenario_id}),
    )
    .await?;
    assert_eq!(
        one["tags"],
        json!(["medicare"]),
        "list_tags of one scenario"
    );
    let all = ok(&w.client, "list_tags", json!({})).await?;
    assert_eq!(
        all["scenario_counts"],
        json!({"medicare": 1}),
        "list_tags of every scenario"
    );
    Ok(())
}

async fn samples_and_listing(w: &mut Workflow) -> TestResult {
    let samples = ok(
        &w.client,
        "get_entity_samples",
        json!({"scenario_id": w.scenario_id, "entity_type": "claims", "count": 2, "strategy": "recent"}),
    )
    .await?;
    assert_eq!(samples["entity_type"], "claims", "samples: entity_type");
    assert_eq!(samples["count"], 2, "samples: count");
    assert!(
        samples["samples"][0]["claim_id"].is_string(),
        "samples are claims"
    );

    let listed = ok(&w.client, "list_scenarios", json!({"tag": "medicare"})).await?;
    assert_eq!(listed["count"], 1, "list_scenarios by tag");
    assert_eq!(
        listed["scenarios"][0]["entity_count"], w.persisted,
        "list_scenarios: entity_count"
    );
    let none = ok(
        &w.client,
        "list_scenarios",
        json!({"filter": "nothing-like-this"}),
    )
    .await?;
    assert_eq!(
        none["count"], 0,
        "list_scenarios: a filter matching nothing"
    );
    Ok(())
}

async fn describe_schema(w: &mut Workflow) -> TestResult {
    let schema = ok(
        &w.client,
        "describe_schema",
        json!({"entity_type": "claims,claim_lines"}),
    )
    .await?;
    assert_eq!(
        schema["entity_types"][1]["table"], "claim_lines",
        "the requested types in order"
    );
    let everything = ok(&w.client, "describe_schema", json!({})).await?;
    assert!(
        everything["entity_types"]
            .as_array()
            .is_some_and(|t| t.len() == healthsim_schema::ENTITY_TYPES.len()),
        "every entity type"
    );
    Ok(())
}

/// Clone some types, export the clone as Parquet into a temporary folder; a second export to
/// the same place is refused.
async fn clone_and_export(w: &mut Workflow) -> TestResult {
    let copy = ok(
        &w.client,
        "clone_scenario",
        json!({"scenario_id": w.scenario_id, "new_name": "What-if copy", "tags": ["what-if"],
               "entity_types": ["patients", "claims", "claim_lines"]}),
    )
    .await?;
    assert_eq!(copy["name"], "what-if-copy", "clone: the new name");
    assert_eq!(
        copy["source"]["scenario_id"],
        w.scenario_id.as_str(),
        "clone: its source"
    );
    assert_eq!(copy["counts"]["patients"], 5, "clone: patients copied");
    assert_eq!(
        copy["counts"]["claim_lines"], w.counts["claim_lines"],
        "clone: claim lines copied"
    );
    assert!(
        copy["counts"].get("encounters").is_none(),
        "clone: only the requested types: {copy}"
    );
    w.copy = copy;

    let export_args = json!({"scenario_id": w.copy_id(), "format": "parquet",
        "output_path": w.exports.path(), "include_provenance": false});
    let exported = ok(&w.client, "export_scenario", export_args.clone()).await?;
    let folder = w.exports.path().join("what-if-copy");
    assert_eq!(
        exported["path"],
        folder.to_string_lossy().as_ref(),
        "export: the folder named after the scenario"
    );
    let mut files: Vec<&str> = exported["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    files.sort_unstable();
    assert_eq!(
        files,
        ["claim_lines.parquet", "claims.parquet", "patients.parquet"],
        "export: one file per table"
    );
    assert!(
        folder.join("claims.parquet").is_file(),
        "export: the files exist"
    );
    assert_eq!(
        exported["total_entities"], w.copy["total_entities"],
        "export: every entity of the clone"
    );
    tool_error(&w.client, "export_scenario", export_args, "already exists").await?;
    Ok(())
}

/// Import the Parquet export, merge it with the clone renaming conflicts; renamed claims keep
/// their lines.
async fn import_and_merge_with_rename(w: &mut Workflow) -> TestResult {
    let imported = ok(
        &w.client,
        "import_scenario",
        json!({"path": w.exports.path().join("what-if-copy"), "name": "what-if-restored"}),
    )
    .await?;
    assert_eq!(
        imported["name"], "what-if-restored",
        "import: the given name"
    );
    assert_eq!(imported["format"], "parquet", "import: the format found");
    assert_eq!(
        imported["counts"], w.copy["counts"],
        "import: every exported entity"
    );
    let merged = ok(
        &w.client,
        "merge_scenarios",
        json!({"scenario_ids": [w.copy_id(), "what-if-restored"], "target_name": "what-if-merged",
               "on_conflict": "rename"}),
    )
    .await?;
    let copied = w.copy["total_entities"].as_u64().unwrap_or(0);
    assert_eq!(merged["on_conflict"], "rename", "merge: the strategy");
    assert_eq!(
        merged["total_entities"],
        2 * copied,
        "merge with rename keeps both copies"
    );
    assert_eq!(
        merged["total_conflicts"], copied,
        "merge: every id of the second copy conflicts"
    );
    let joined = ok(
        &w.client,
        "query_scenario",
        json!({"scenario_id": "what-if-merged", "query":
            "SELECT count(*) AS n FROM claim_lines l JOIN claims c USING (claim_id)"}),
    )
    .await?;
    assert_eq!(
        joined["results"][0]["n"],
        2 * w.counts["claim_lines"].as_u64().unwrap_or(0),
        "every line still joins its (renamed) claim"
    );
    w.merged = merged;
    Ok(())
}

/// Relative paths are relative to the database's folder; no path: exports/ next to it.
async fn export_paths_relative_to_the_database(w: &mut Workflow) -> TestResult {
    let relative = ok(
        &w.client,
        "export_scenario",
        json!({"scenario_id": "what-if-merged", "format": "csv", "output_path": "merged-csv"}),
    )
    .await?;
    assert_eq!(
        relative["path"],
        w.dir
            .path()
            .join("merged-csv")
            .join("what-if-merged")
            .to_string_lossy()
            .as_ref(),
        "a relative output_path: the folder that receives the export"
    );
    let default = ok(
        &w.client,
        "export_scenario",
        json!({"scenario_id": "what-if-merged", "format": "json", "entity_types": "claims"}),
    )
    .await?;
    let document = w.dir.path().join("exports").join("what-if-merged.json");
    assert_eq!(
        default["path"],
        document.to_string_lossy().as_ref(),
        "no output_path"
    );
    assert_eq!(
        default["counts"],
        json!({"claims": w.merged["counts"]["claims"]}),
        "entity_types as one string"
    );
    let reimported = ok(
        &w.client,
        "import_scenario",
        json!({"path": "exports/what-if-merged.json"}),
    )
    .await?;
    assert_eq!(
        reimported["name"], "what-if-merged-2",
        "a relative import path; the exported name made unique"
    );
    Ok(())
}

/// A transaction bundle, then the malformed fixture: refused, then with skip_invalid.
async fn import_fhir_files(w: &mut Workflow) -> TestResult {
    let fhir = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../healthsim-fhir/tests/data/fhir")
            .join(name)
    };
    let bundle = std::fs::canonicalize(fhir("transaction-bundle.json"))?;
    let imported = ok(
        &w.client,
        "import_fhir",
        json!({"paths": [bundle], "context": "fhir transaction bundle"}),
    )
    .await?;
    assert_eq!(imported["is_new_scenario"], true, "bundle: a new scenario");
    assert_eq!(
        imported["resources_imported"], 20,
        "bundle: resources imported, none dropped"
    );
    assert_eq!(
        imported["rows_written"]["claim_lines"],
        json!({"inserted": 2, "updated": 0}),
        "bundle: claim lines written, the EOB's on its Claim's"
    );
    assert_eq!(imported["eobs_merged"], 1, "bundle: the EOB merged");
    assert_eq!(
        imported["unsupported"],
        json!({"ImagingStudy": 1}),
        "bundle: types kept whole in fhir_resources counted"
    );
    w.fhir_id = imported["scenario_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let bad = std::fs::canonicalize(fhir("malformed/bad.ndjson"))?;
    tool_error(
        &w.client,
        "import_fhir",
        json!({"paths": [bad], "scenario_id": w.fhir_id}),
        "bad.ndjson line 2",
    )
    .await?;
    let skipped = ok(
        &w.client,
        "import_fhir",
        json!({"paths": bad, "scenario_id": w.fhir_id, "skip_invalid": true}),
    )
    .await?;
    assert_eq!(
        skipped["is_new_scenario"], false,
        "skip_invalid: into the existing scenario"
    );
    assert_eq!(skipped["skipped_total"], 5, "skip_invalid: skipped_total");
    assert_eq!(
        skipped["skipped"][0]["file"], "bad.ndjson",
        "skip_invalid: the file's name only"
    );
    assert_eq!(
        skipped["skipped"][1]["id"], "wrong-shape",
        "skip_invalid: the resource's id"
    );
    for result in [&imported, &skipped] {
        let tokens = healthsim_summary::count_tokens(&result.to_string());
        assert!(
            tokens <= 500,
            "import_fhir result of {tokens} tokens: {result}"
        );
    }
    tool_error(
        &w.client,
        "import_fhir",
        json!({"paths": []}),
        "paths is empty",
    )
    .await?;
    Ok(())
}

async fn transfer_errors_are_tool_errors(w: &mut Workflow) -> TestResult {
    let copy_id = w.copy_id();
    tool_error(
        &w.client,
        "export_scenario",
        json!({"scenario_id": copy_id, "format": "json", "output_path": "../escape.json"}),
        "'..' components are not allowed",
    )
    .await?;
    tool_error(
        &w.client,
        "export_scenario",
        json!({"scenario_id": copy_id, "format": "xml"}),
        "invalid arguments for export_scenario",
    )
    .await?;
    tool_error(
        &w.client,
        "merge_scenarios",
        json!({"scenario_ids": [copy_id]}),
        "scenario_ids must have 2 to 20 items, got 1",
    )
    .await?;
    tool_error(
        &w.client,
        "clone_scenario",
        json!({"scenario_id": "no-such-scenario"}),
        "no scenario matches",
    )
    .await?;
    tool_error(
        &w.client,
        "import_scenario",
        json!({"path": "exports/nothing-here.json"}),
        "nothing-here.json",
    )
    .await?;
    Ok(())
}

/// The scenarios the transfer steps made go again, so the rest of the workflow sees one.
async fn delete_the_transfer_scenarios(w: &mut Workflow) -> TestResult {
    for made in [
        "what-if-copy",
        "what-if-restored",
        "what-if-merged",
        "what-if-merged-2",
        w.fhir_id.as_str(),
    ] {
        ok(
            &w.client,
            "delete_scenario",
            json!({"scenario_id": made, "confirm": true}),
        )
        .await?;
    }
    Ok(())
}

/// Tool errors are reported, nothing crashes, the server keeps working.
async fn tool_errors_leave_the_server_working(w: &mut Workflow) -> TestResult {
    let id = w.scenario_id.clone();
    let client = &w.client;
    tool_error(
        client,
        "query_scenario",
        json!({"scenario_id": id, "query": "SELEC nonsense"}),
        "syntax error",
    )
    .await?;
    tool_error(
        client,
        "query_scenario",
        json!({"scenario_id": id, "query": "DROP TABLE patients"}),
        "read-only",
    )
    .await?;
    tool_error(
        client,
        "get_entity_samples",
        json!({"scenario_id": id, "entity_type": "spaceships"}),
        "unknown entity type 'spaceships'",
    )
    .await?;
    tool_error(
        client,
        "persist_entities",
        json!({"entity_type": "spaceships", "entities": [{"id": 1}]}),
        "unknown entity type",
    )
    .await?;
    tool_error(
        client,
        "persist_entities",
        json!({"entities": [{"patient_id": "x"}]}),
        "entity_type is required",
    )
    .await?;
    tool_error(client, "persist_entities", json!({"entity_type": "patients", "entities": [{"patient_id": "x", "birth_date": "soon"}], "scenario_id": id}), "patients[0].birth_date").await?;
    tool_error(
        client,
        "persist_entities",
        json!({"entities": 42}),
        "entities must be a list of entity objects",
    )
    .await?;
    tool_error(
        client,
        "get_scenario_summary",
        json!({"scenario_id": "no-such-scenario"}),
        "no scenario matches",
    )
    .await?;
    tool_error(
        client,
        "get_scenario_summary",
        json!({"scenario": id}),
        "invalid arguments for get_scenario_summary",
    )
    .await?;
    tool_error(
        client,
        "delete_scenario",
        json!({"scenario_id": id}),
        "confirm: true",
    )
    .await?;
    tool_error(
        client,
        "add_tag",
        json!({"scenario_id": id, "tag": "  "}),
        "invalid tag",
    )
    .await?;
    let still_there = ok(
        client,
        "get_scenario_summary",
        json!({"scenario_id": id, "include_samples": false}),
    )
    .await?;
    assert_eq!(
        still_there["total_entities"], w.persisted,
        "after the errors the scenario is whole"
    );
    Ok(())
}

/// The database is not locked while the server is idle: the CLI and a second server use it.
async fn idle_server_shares_the_database(w: &mut Workflow) -> TestResult {
    let cli = tokio::process::Command::new(env!("CARGO_BIN_EXE_healthsim"))
        .arg("--db")
        .arg(&w.db)
        .args(["--lock-timeout", "60", "--json", "list"])
        .output()
        .await?;
    assert_eq!(
        cli.status.code(),
        Some(0),
        "the CLI while the server is idle: {}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let listed: Value = serde_json::from_slice(&cli.stdout)?;
    assert_eq!(
        listed["scenarios"][0]["name"], "maricopa-diabetes-baseline",
        "the CLI sees the server's scenario"
    );
    let second = connect(&w.db).await?;
    let seen = ok(&second, "list_scenarios", json!({})).await?;
    assert_eq!(seen["count"], 1, "a second server sees the scenario");
    second.cancel().await?;
    Ok(())
}

async fn delete_with_confirmation(w: &mut Workflow) -> TestResult {
    let deleted = ok(
        &w.client,
        "delete_scenario",
        json!({"scenario_id": w.scenario_id, "confirm": true}),
    )
    .await?;
    assert_eq!(
        deleted["name"], "maricopa-diabetes-baseline",
        "delete: the scenario's name"
    );
    assert_eq!(
        deleted["deleted_counts"]["patients"], 5,
        "delete: rows removed per table"
    );
    let empty = ok(&w.client, "list_scenarios", json!({})).await?;
    assert_eq!(empty["count"], 0, "nothing left after the delete");
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
    // Its import_legacy examples read Python HealthSim JSON files from
    // python-healthsim/cohorts: the test puts the legacy fixtures there.
    let cohorts = dir.path().join("python-healthsim").join("cohorts");
    std::fs::create_dir_all(&cohorts)?;
    for file in ["exported_scenario.json", "workspace.json"] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../healthsim-persist/tests/legacy/json")
                .join(file),
            cohorts.join(file),
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

/// A query that crashes the engine ends only its own worker process: the tool answers with an
/// error that says so, and the same server answers the next calls.
#[tokio::test]
async fn a_query_that_crashes_the_engine_leaves_the_server_answering() -> TestResult {
    let dir = tempfile::tempdir()?;
    let client = connect(&dir.path().join("crash.duckdb")).await?;
    let persisted = ok(
        &client,
        "persist_entities",
        json!({"entity_type": "patient", "entities": [
            {"patient_id": "p1", "given_name": "Ana", "gender": "female", "birth_date": "1950-01-01"}
        ]}),
    )
    .await?;
    let id = persisted["scenario_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for query in [
        "SELECT json_structure(repeat('[', 200000) || repeat(']', 200000)) AS x",
        "SELECT json_contains(repeat('[', 300000) || repeat(']', 300000), '1') AS x",
    ] {
        tool_error(
            &client,
            "query_scenario",
            json!({"scenario_id": id, "query": query}),
            "the query stopped its worker process",
        )
        .await?;
        let page = ok(
            &client,
            "query_scenario",
            json!({"scenario_id": id, "query": "SELECT count(*) AS n FROM patients"}),
        )
        .await?;
        assert_eq!(
            page["results"][0]["n"], 1,
            "the server answers after {query}"
        );
    }
    client.cancel().await?;
    Ok(())
}

/// Started on a database of the Python HealthSim, every tool answers with a tool error that
/// names the file and what to do (not an engine error), the server keeps answering, and the
/// file is left untouched; import_legacy on a server of its own brings the cohorts over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_database_is_named_by_every_tool_and_can_be_imported() -> TestResult {
    let dir = tempfile::tempdir()?;
    let legacy = dir.path().join("healthsim.duckdb");
    {
        let conn = healthsim_schema::duckdb::Connection::open(&legacy)?;
        conn.execute_batch(include_str!(
            "../../healthsim-persist/tests/legacy/python_v1_7.sql"
        ))?;
        conn.execute_batch("CHECKPOINT")?;
    }
    let before = std::fs::read(&legacy)?;
    let client = connect(&legacy).await?;
    let calls = [
        ("list_scenarios", json!({})),
        ("get_scenario_summary", json!({"scenario_id": "x"})),
        (
            "persist_entities",
            json!({"entity_type": "patient", "entities": [{"patient_id": "p"}]}),
        ),
        (
            "query_scenario",
            json!({"scenario_id": "x", "query": "SELECT 1"}),
        ),
        ("import_legacy", json!({"path": "healthsim.duckdb"})),
        ("list_tags", json!({})),
    ];
    for (tool, args) in calls {
        tool_error(
            &client,
            tool,
            args,
            "is a HealthSim (Python) database, schema era v1.5+ (cohorts)",
        )
        .await?;
        let text = first_text(&call(&client, tool, json!({})).await?);
        assert!(!text.contains("Binder Error"), "{tool}: {text}");
    }
    client.cancel().await?;
    assert_eq!(
        std::fs::read(&legacy)?,
        before,
        "the Python database changed"
    );

    let client = connect(&dir.path().join("persist.duckdb")).await?;
    let report = ok(
        &client,
        "import_legacy",
        json!({"path": "healthsim.duckdb"}),
    )
    .await?;
    assert_eq!(report["scenarios_imported"], 3, "{report}");
    let listed = ok(&client, "list_scenarios", json!({})).await?;
    assert_eq!(listed["total_count"], 3);
    client.cancel().await?;
    assert_eq!(
        std::fs::read(&legacy)?,
        before,
        "the import changed the Python database"
    );
    Ok(())
}
