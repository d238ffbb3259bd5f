//! Provenance set once per call, through the binary: the `--source-type`, `--source-system`,
//! `--skill-used`, `--generation-seed` flags of `persist`, `import` and `import-fhir`, and the
//! `provenance` object of the MCP tools `persist_entities`, `import_scenario` and `import_fhir`.
//! Every row of the call gets it (an entity's own value wins); a bad value is refused with an
//! error naming the field, and nothing is written.

mod mcp_client;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mcp_client::{connect, Client};
use serde_json::{json, Value};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const PATIENTS: &str = r#"[
  {"patient_id": "p1"},
  {"patient_id": "p2", "skill_used": "own-skill"}
]"#;

const FHIR_PATIENT: &str = r#"{"resourceType": "Patient", "id": "f1", "gender": "female"}"#;

/// `healthsim --db <db> args...`: exit code, stdout, stderr.
fn healthsim(db: &Path, args: &[&str]) -> Result<(i32, String, String), std::io::Error> {
    let out = Command::new(env!("CARGO_BIN_EXE_healthsim"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("HEALTHSIM_DB")
        .stdin(Stdio::null())
        .output()?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// A `--json` run that must succeed.
fn json_run(db: &Path, args: &[&str]) -> Result<Value, Box<dyn std::error::Error>> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = healthsim(db, &all)?;
    assert_eq!(code, 0, "{args:?}: {stderr}");
    Ok(serde_json::from_str(&stdout)?)
}

/// `(id, source_type, source_system, skill_used, generation_seed)` of a scenario's patients.
fn provenance(db: &Path, scenario: &str) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let page = json_run(
        db,
        &[
            "query",
            scenario,
            "SELECT patient_id, source_type, source_system, skill_used, generation_seed \
             FROM patients ORDER BY patient_id",
        ],
    )?;
    Ok(page["results"]
        .as_array()
        .ok_or("no results")?
        .iter()
        .map(|r| {
            json!([
                r["patient_id"],
                r["source_type"],
                r["source_system"],
                r["skill_used"],
                r["generation_seed"]
            ])
        })
        .collect())
}

struct Files {
    dir: tempfile::TempDir,
    db: PathBuf,
    patients: PathBuf,
    fhir: PathBuf,
}

fn files() -> Result<Files, std::io::Error> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("test.duckdb");
    let patients = dir.path().join("patients.json");
    std::fs::write(&patients, PATIENTS)?;
    let fhir = dir.path().join("patient.json");
    std::fs::write(&fhir, FHIR_PATIENT)?;
    Ok(Files {
        dir,
        db,
        patients,
        fhir,
    })
}

const FLAGS: [&str; 8] = [
    "--source-type",
    "synthetic",
    "--source-system",
    "agent run 7",
    "--skill-used",
    "healthsim-patientsim",
    "--generation-seed",
    "42",
];

#[test]
fn cli_flags_set_the_provenance_of_every_row() -> TestResult {
    let f = files()?;
    let patients = f.patients.to_str().ok_or("path")?;
    let mut args = vec!["persist", "--type", "patients", "--name", "flagged"];
    args.extend(FLAGS);
    args.push(patients);
    json_run(&f.db, &args)?;
    assert_eq!(
        provenance(&f.db, "flagged")?,
        [
            json!(["p1", "synthetic", "agent run 7", "healthsim-patientsim", 42]),
            json!(["p2", "synthetic", "agent run 7", "own-skill", 42]),
        ]
    );

    let export = f.dir.path().join("plain.json");
    json_run(
        &f.db,
        &["persist", "--type", "patients", "--name", "plain", patients],
    )?;
    json_run(
        &f.db,
        &[
            "export",
            "plain",
            "--format",
            "json",
            "--out",
            export.to_str().ok_or("path")?,
        ],
    )?;
    let mut args = vec![
        "import",
        export.to_str().ok_or("path")?,
        "--name",
        "imported",
    ];
    args.extend(FLAGS);
    json_run(&f.db, &args)?;
    assert_eq!(
        provenance(&f.db, "imported")?,
        [
            json!(["p1", "synthetic", "agent run 7", "healthsim-patientsim", 42]),
            json!(["p2", "synthetic", "agent run 7", "own-skill", 42]),
        ]
    );

    let mut args = vec![
        "import-fhir",
        f.fhir.to_str().ok_or("path")?,
        "--name",
        "fhir",
    ];
    args.extend(FLAGS);
    json_run(&f.db, &args)?;
    assert_eq!(
        provenance(&f.db, "fhir")?,
        [json!([
            "f1",
            "fhir",
            "agent run 7",
            "healthsim-patientsim",
            42
        ])],
        "the FHIR mapping's source_type wins"
    );
    Ok(())
}

#[test]
fn bad_cli_flags_are_refused_and_write_nothing() -> TestResult {
    let f = files()?;
    let export = f.dir.path().join("export.json");
    std::fs::write(
        &export,
        "{\"format\": \"healthsim-scenario\", \"version\": 1, \"scenario\": {\"name\": \"x\"}, \
         \"entities\": {\"patients\": [{\"patient_id\": \"p1\"}]}}",
    )?;
    let long = "x".repeat(201);
    let cases: [(&str, &str, String); 4] = [
        (
            "--source-type",
            "",
            r#"provenance source_type: must not be empty (omit it instead), got """#.into(),
        ),
        (
            "--skill-used",
            "  ",
            r#"provenance skill_used: must not be empty (omit it instead), got "  ""#.into(),
        ),
        (
            "--source-system",
            &long,
            "provenance source_system: has at most 200 characters, this one has 201".into(),
        ),
        (
            "--generation-seed",
            "4.5",
            "invalid value '4.5' for '--generation-seed <N>'".into(),
        ),
    ];
    let patients = f.patients.to_str().ok_or("path")?;
    let export = export.to_str().ok_or("path")?;
    let fhir = f.fhir.to_str().ok_or("path")?;
    for (flag, value, message) in &cases {
        for command in [
            vec!["persist", "--type", "patients", patients],
            vec!["import", export],
            vec!["import-fhir", fhir],
        ] {
            let mut args = command.clone();
            args.extend([*flag, *value]);
            let (code, stdout, stderr) = healthsim(&f.db, &args)?;
            assert_eq!(code, 2, "{args:?}: {stderr}");
            assert!(stderr.contains(message.as_str()), "{args:?}: {stderr}");
            assert!(stdout.is_empty(), "{args:?}: {stdout}");
        }
    }
    let listed = json_run(&f.db, &["list"])?;
    assert_eq!(listed["count"], 0, "nothing was written: {listed}");
    Ok(())
}

/// The call's structured content, or the text of its tool error.
async fn call(
    client: &Client,
    tool: &str,
    args: Value,
) -> Result<Result<Value, String>, Box<dyn std::error::Error>> {
    let result = match mcp_client::call(client, tool, args).await {
        Ok(result) => result,
        // Arguments the tool's schema refuses come back as a protocol error.
        Err(error) => return Ok(Err(error.to_string())),
    };
    if result.is_error == Some(true) {
        return Ok(Err(mcp_client::first_text(&result)));
    }
    Ok(Ok(result
        .structured_content
        .ok_or("no structured content")?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_tools_take_a_provenance_object() -> TestResult {
    let f = files()?;
    let client = connect(&f.db).await?;
    let call_provenance = json!({"source_type": "synthetic", "source_system": "agent run 7",
        "skill_used": "healthsim-patientsim", "generation_seed": 42});
    let persisted = call(
        &client,
        "persist_entities",
        json!({"entity_type": "patients", "scenario_name": "mcp",
               "entities": serde_json::from_str::<Value>(PATIENTS)?,
               "provenance": call_provenance}),
    )
    .await?
    .map_err(|e| format!("persist_entities: {e}"))?;
    assert_eq!(persisted["total_persisted"], 2);
    let fhir = call(
        &client,
        "import_fhir",
        json!({"paths": [f.fhir.to_str().ok_or("path")?], "scenario_name": "mcp-fhir",
               "provenance": {"skill_used": "fhir-skill"}}),
    )
    .await?
    .map_err(|e| format!("import_fhir: {e}"))?;
    assert_eq!(fhir["rows_written"]["patients"]["inserted"], 1);

    let bad = [
        (
            json!({"source_type": ""}),
            r#"provenance source_type: must not be empty (omit it instead), got """#,
        ),
        (
            json!({"skill_used": "a\tb"}),
            r#"provenance skill_used: must not hold control characters (line breaks, tabs, ...), got "a\tb""#,
        ),
        (json!({"seed": 1}), "unknown field `seed`"),
        (
            json!({"generation_seed": "42"}),
            "invalid type: string \"42\"",
        ),
    ];
    for (provenance, message) in bad {
        let export = f.dir.path().join("none.json");
        for (tool, args) in [
            (
                "persist_entities",
                json!({"entity_type": "patients", "scenario_name": "bad",
                       "entities": [{"patient_id": "b1"}], "provenance": provenance}),
            ),
            (
                "import_scenario",
                json!({"path": export.to_str().ok_or("path")?, "provenance": provenance}),
            ),
            (
                "import_fhir",
                json!({"paths": [f.fhir.to_str().ok_or("path")?], "scenario_name": "bad",
                       "provenance": provenance}),
            ),
        ] {
            match call(&client, tool, args).await? {
                Err(text) => assert!(text.contains(message), "{tool}: {text} lacks {message}"),
                Ok(result) => panic!("{tool} accepted {provenance}: {result}"),
            }
        }
    }
    client.cancel().await?;

    assert_eq!(
        provenance(&f.db, "mcp")?,
        [
            json!(["p1", "synthetic", "agent run 7", "healthsim-patientsim", 42]),
            json!(["p2", "synthetic", "agent run 7", "own-skill", 42]),
        ]
    );
    assert_eq!(
        provenance(&f.db, "mcp-fhir")?,
        [json!(["f1", "fhir", null, "fhir-skill", null])]
    );
    let listed = json_run(&f.db, &["list"])?;
    assert_eq!(
        listed["count"], 2,
        "the refused calls wrote nothing: {listed}"
    );
    Ok(())
}
