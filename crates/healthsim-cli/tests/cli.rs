//! End-to-end tests of the `healthsim` binary: every command, its JSON output, its exit codes
//! (0 ok, 2 bad input, 1 other failure) and its `--help` (insta snapshots).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use healthsim_synth::{self as synth, GeneratorConfig};
use serde_json::{json, Value};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// What one run of the binary did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// stdout as JSON (the command must have been run with --json).
    fn json(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(&self.stdout)
    }

    fn expect(self, code: i32) -> Result<Self, String> {
        if self.code == code {
            Ok(self)
        } else {
            Err(format!(
                "expected exit code {code}, got {}\nstdout:\n{}\nstderr:\n{}",
                self.code, self.stdout, self.stderr
            ))
        }
    }

    /// Asserts a failure with `code` whose stderr mentions `text` and whose stdout is empty.
    fn expect_error(self, code: i32, text: &str) -> Result<Self, String> {
        let run = self.expect(code)?;
        if !run.stderr.contains(text) {
            return Err(format!("stderr does not mention '{text}':\n{}", run.stderr));
        }
        if !run.stdout.is_empty() {
            return Err(format!("stdout is not empty on error:\n{}", run.stdout));
        }
        Ok(run)
    }
}

/// A temporary database and a way to run `healthsim --db <it> ...`.
struct Env {
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl Env {
    fn new() -> Result<Self, std::io::Error> {
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("nested").join("test.duckdb");
        Ok(Self { dir, db })
    }

    fn file(&self, name: &str, content: &str) -> Result<PathBuf, std::io::Error> {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content)?;
        Ok(path)
    }

    fn run(&self, args: &[&str]) -> Result<Run, std::io::Error> {
        self.run_with_stdin(args, None)
    }

    fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Result<Run, std::io::Error> {
        run_binary(Some(&self.db), args, stdin)
    }

    /// `--json` run that must succeed; its JSON output.
    fn json(&self, args: &[&str]) -> Result<Value, Box<dyn std::error::Error>> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        Ok(self.run(&all)?.expect(0)?.json()?)
    }
}

fn run_binary(
    db: Option<&Path>,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<Run, std::io::Error> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_healthsim"));
    if let Some(db) = db {
        command.arg("--db").arg(db);
    }
    command
        .args(args)
        .env_remove("HEALTHSIM_DB")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn()?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    Ok(Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

const PATIENTS: &str = r#"[
  {"patient_id": "p1", "given_name": "Ana", "family_name": "Diaz", "birth_date": "1950-06-01", "gender": "female", "state": "AZ"},
  {"patient_id": "p2", "given_name": "Bo", "family_name": "Li", "birth_date": "1980-01-15", "gender": "male", "state": "AZ"},
  {"patient_id": "p3", "given_name": "Cy", "family_name": "Ng", "birth_date": "1990-03-03", "gender": "female", "state": "CA"}
]"#;

/// Persists the three patients into a new scenario named `name`; returns its id.
fn seed(env: &Env, name: &str) -> Result<String, Box<dyn std::error::Error>> {
    let file = env.file("patients.json", PATIENTS)?;
    let out = env.json(&[
        "persist",
        "--type",
        "patient",
        "--name",
        name,
        "--tag",
        "Diabetes",
        file.to_str().unwrap_or_default(),
    ])?;
    Ok(out["scenario_id"].as_str().unwrap_or_default().to_string())
}

// ------------------------------------------------------------------------------------ help

#[test]
fn help_snapshots() -> TestResult {
    for (name, args) in [
        ("help_top", vec!["--help"]),
        ("help_persist", vec!["persist", "--help"]),
        ("help_query", vec!["query", "--help"]),
        ("help_tag", vec!["tag", "--help"]),
        ("help_demo", vec!["demo", "--help"]),
        ("help_clone", vec!["clone", "--help"]),
        ("help_merge", vec!["merge", "--help"]),
        ("help_export", vec!["export", "--help"]),
        ("help_import", vec!["import", "--help"]),
        ("help_import_fhir", vec!["import-fhir", "--help"]),
        ("help_import_legacy", vec!["import-legacy", "--help"]),
        ("help_generate", vec!["generate", "--help"]),
    ] {
        let run = run_binary(None, &args, None)?.expect(0)?;
        insta::assert_snapshot!(name, run.stdout);
    }
    Ok(())
}

#[test]
fn every_command_has_help_with_examples() -> TestResult {
    for command in [
        "persist",
        "summary",
        "query",
        "samples",
        "list",
        "rename",
        "delete",
        "tag",
        "tag add",
        "tag remove",
        "tag list",
        "schema",
        "db",
        "db status",
        "db migrate",
        "mcp",
        "demo",
        "clone",
        "merge",
        "export",
        "import",
        "import-fhir",
        "generate",
    ] {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("--help");
        let run = run_binary(None, &args, None)?.expect(0)?;
        assert!(
            run.stdout.contains("Examples:") || run.stdout.contains("Claude Code:"),
            "`healthsim {command} --help` has no examples:\n{}",
            run.stdout
        );
    }
    Ok(())
}

#[test]
fn usage_errors_exit_2() -> TestResult {
    run_binary(None, &["frobnicate"], None)?.expect_error(2, "unrecognized subcommand")?;
    run_binary(
        None,
        &["samples", "s", "patients", "--strategy", "best"],
        None,
    )?
    .expect_error(2, "invalid value 'best'")?;
    run_binary(None, &["delete"], None)?.expect_error(2, "SCENARIO")?;
    Ok(())
}

// ------------------------------------------------------------------------------------ persist

#[test]
fn persist_array_creates_a_scenario_and_reports_counts() -> TestResult {
    let env = Env::new()?;
    let file = env.file("patients.json", PATIENTS)?;
    let out = env.json(&[
        "persist",
        "--type",
        "patients",
        "--context",
        "diabetic patients in Arizona",
        "--description",
        "three patients",
        file.to_str().unwrap_or_default(),
    ])?;
    assert_eq!(out["is_new_scenario"], true);
    assert_eq!(
        out["counts"]["patients"],
        json!({"inserted": 3, "updated": 0})
    );
    assert_eq!(out["entity_ids"], json!(["p1", "p2", "p3"]));
    assert_eq!(out["total_persisted"], 3);
    assert_eq!(out["batches"], 1);
    assert_eq!(out["failed_batches"], json!([]));
    assert_eq!(out["summary"]["entity_counts"]["patients"], 3);
    let name = out["scenario_name"].as_str().unwrap_or_default();
    assert!(name.starts_with("diabetic"), "auto name: {name}");

    // Again into the same scenario by name: ids are updated, not duplicated.
    let again = env.json(&[
        "persist",
        "--type",
        "patients",
        "--scenario",
        name,
        file.to_str().unwrap_or_default(),
    ])?;
    assert_eq!(again["is_new_scenario"], false);
    assert_eq!(again["scenario_id"], out["scenario_id"]);
    assert_eq!(
        again["counts"]["patients"],
        json!({"inserted": 0, "updated": 3})
    );

    // The text form is readable.
    let text = env
        .run(&[
            "persist",
            "--type",
            "patients",
            "--scenario",
            name,
            file.to_str().unwrap_or_default(),
        ])?
        .expect(0)?;
    assert!(
        text.stdout.contains("Persisted 3 entities in 1 batch"),
        "{}",
        text.stdout
    );
    Ok(())
}

#[test]
fn persist_streams_generator_json_lines_in_batches() -> TestResult {
    let env = Env::new()?;
    let mut jsonl = Vec::new();
    let stats = synth::write_jsonl(
        GeneratorConfig {
            persons: 3,
            seed: 7,
            ..GeneratorConfig::default()
        },
        &mut jsonl,
    )?;
    let path = env.dir.path().join("cohort.jsonl");
    std::fs::write(&path, &jsonl)?;
    let out = env.json(&[
        "persist",
        "--name",
        "streamed",
        "--batch-size",
        "25",
        path.to_str().unwrap_or_default(),
    ])?;
    let expected_batches = usize::try_from(stats.total)?.div_ceil(25);
    assert_eq!(out["batches"], expected_batches);
    assert_eq!(out["entities_read"], stats.total);
    assert_eq!(out["total_persisted"], stats.total);
    assert_eq!(out["ids_truncated"], true);
    assert_eq!(out["entity_ids"].as_array().map(Vec::len), Some(50));
    for (table, count) in &stats.per_type {
        let inserted = &out["counts"][*table]["inserted"];
        assert_eq!(inserted, count, "{table}");
        assert_eq!(&out["summary"]["entity_counts"][*table], count, "{table}");
    }
    Ok(())
}

#[test]
fn persist_reads_type_maps_and_stdin() -> TestResult {
    let env = Env::new()?;
    let mut document = Vec::new();
    let stats = synth::write_document(
        GeneratorConfig {
            persons: 2,
            ..GeneratorConfig::default()
        },
        &mut document,
    )?;
    let document = String::from_utf8(document)?;
    let run = env
        .run_with_stdin(
            &["--json", "persist", "--name", "from-stdin", "-"],
            Some(&document),
        )?
        .expect(0)?;
    let out = run.json()?;
    assert_eq!(out["total_persisted"], stats.total);
    assert_eq!(out["scenario_name"], "from-stdin");

    // JSON Lines of plain entities with --type, on stdin without `-`.
    let lines = "{\"patient_id\": \"a\"}\n{\"patient_id\": \"b\"}\n";
    let out = env
        .run_with_stdin(&["--json", "persist", "--type", "patients"], Some(lines))?
        .expect(0)?
        .json()?;
    assert_eq!(out["counts"]["patients"]["inserted"], 2);
    Ok(())
}

#[test]
fn persist_reports_failed_batches_with_line_numbers() -> TestResult {
    let env = Env::new()?;
    let lines = [
        r#"{"type": "patients", "entity": {"patient_id": "ok1"}}"#,
        r#"{"type": "patients", "entity": {"patient_id": "ok2"}}"#,
        r#"{"type": "patients", "entity": {"patient_id": "bad", "birth_date": "not a date"}}"#,
        r#"{"type": "patients", "entity": {"patient_id": "ok3"}}"#,
    ]
    .join("\n");
    let file = env.file("mixed.jsonl", &lines)?;
    let run = env
        .run(&[
            "--json",
            "persist",
            "--name",
            "partial",
            "--batch-size",
            "2",
            file.to_str().unwrap_or_default(),
        ])?
        .expect(2)?;
    assert!(run.stderr.contains("line 3"), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("birth_date"), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("1 of 2 batches were not stored"),
        "stderr: {}",
        run.stderr
    );
    let out = run.json()?;
    assert_eq!(out["total_persisted"], 2);
    assert_eq!(out["failed_batches"][0]["batch"], 2);
    assert_eq!(out["failed_batches"][0]["span"], "lines 3-4");
    assert_eq!(out["failed_batches"][0]["entities"], 2);
    Ok(())
}

#[test]
fn persist_input_errors_exit_2() -> TestResult {
    let env = Env::new()?;
    let array = env.file("a.json", PATIENTS)?;
    let array = array.to_str().unwrap_or_default();
    env.run(&["persist", array])?.expect_error(2, "--type")?;
    env.run(&["persist", "--type", "spaceships", array])?
        .expect_error(2, "unknown entity type 'spaceships'")?;
    env.run(&["persist", "--type", "patients", "--scenario", "nope", array])?
        .expect_error(2, "no scenario matches 'nope'")?;
    env.run(&["persist", "--type", "patients", "/definitely/not/here.json"])?
        .expect_error(2, "cannot read")?;
    env.run_with_stdin(
        &["persist", "--type", "patients", "-"],
        Some("[{\"patient_id\": 1}, oops]"),
    )?
    .expect(2)?;
    let missing = env.file(
        "missing.json",
        r#"[{"given_name": "x", "birth_date": "1990-13-45"}]"#,
    )?;
    env.run(&[
        "persist",
        "--type",
        "patients",
        missing.to_str().unwrap_or_default(),
    ])?
    .expect(2)?;
    Ok(())
}

// ------------------------------------------------------------------------------------ reading

#[test]
fn summary_with_and_without_samples() -> TestResult {
    let env = Env::new()?;
    let id = seed(&env, "summary-test")?;
    let full = env.json(&["summary", "summary-test"])?;
    assert_eq!(full["scenario_id"], id.as_str());
    assert_eq!(full["entity_counts"]["patients"], 3);
    assert_eq!(full["tags"], json!(["diabetes"]));
    assert!(full["samples"]["patients"].is_array());
    let small = env.json(&["summary", "SUMMARY", "--no-samples"])?;
    assert!(small.get("samples").is_none());
    assert!(small["statistics"]["patients"].is_object());
    let text = env.run(&["summary", &id])?.expect(0)?;
    assert!(text.stdout.contains("summary-test"), "{}", text.stdout);
    env.run(&["summary", "nothing-like-this"])?
        .expect_error(2, "no scenario matches")?;
    Ok(())
}

#[test]
fn query_pages_and_refuses_writes() -> TestResult {
    let env = Env::new()?;
    seed(&env, "query-test")?;
    let sql = "SELECT patient_id, gender FROM patients ORDER BY patient_id";
    let page = env.json(&["query", "query-test", sql, "--limit", "2"])?;
    assert_eq!(page["total_count"], 3);
    assert_eq!(page["has_more"], true);
    assert_eq!(page["columns"], json!(["patient_id", "gender"]));
    assert_eq!(
        page["results"][0],
        json!({"patient_id": "p1", "gender": "F"})
    );
    let next = env.json(&["query", "query-test", sql, "--limit", "2", "--offset", "2"])?;
    assert_eq!(
        next["results"],
        json!([{"patient_id": "p3", "gender": "F"}])
    );
    assert_eq!(next["has_more"], false);

    let text = env
        .run(&["query", "query-test", sql, "--limit", "2"])?
        .expect(0)?;
    assert!(
        text.stdout.contains("rows 1-2 of 3; next page: --offset 2"),
        "{}",
        text.stdout
    );

    env.run(&["query", "query-test", "DELETE FROM patients"])?
        .expect_error(2, "read-only")?;
    env.run(&["query", "query-test", "SELECT * FROM scenarios"])?
        .expect_error(2, "scenarios")?;
    env.run(&["query", "query-test", "SELECT nope FROM patients"])?
        .expect_error(2, "query failed")?;
    env.run(&["query", "query-test", sql, "--limit", "1000"])?
        .expect_error(2, "limit 1000")?;
    Ok(())
}

#[test]
fn samples_of_one_type() -> TestResult {
    let env = Env::new()?;
    seed(&env, "samples-test")?;
    let out = env.json(&[
        "samples",
        "samples-test",
        "patient",
        "--count",
        "2",
        "--strategy",
        "recent",
    ])?;
    assert_eq!(out["entity_type"], "patients");
    assert_eq!(out["strategy"], "recent");
    assert_eq!(out["count"], 2);
    assert_eq!(out["samples"].as_array().map(Vec::len), Some(2));
    let text = env
        .run(&["samples", "samples-test", "patients"])?
        .expect(0)?;
    assert!(text.stdout.contains("given_name"), "{}", text.stdout);
    env.run(&["samples", "samples-test", "spaceships"])?
        .expect_error(2, "unknown entity type")?;
    Ok(())
}

#[test]
fn list_filters_and_sorts() -> TestResult {
    let env = Env::new()?;
    let empty = env.run(&["list"])?.expect(0)?;
    assert!(empty.stdout.contains("No scenarios"), "{}", empty.stdout);
    seed(&env, "beta-cohort")?;
    seed(&env, "alpha-cohort")?;
    env.json(&["tag", "add", "alpha-cohort", "special"])?;
    let by_name = env.json(&["list", "--sort", "name"])?;
    let names: Vec<&str> = by_name["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["alpha-cohort", "beta-cohort"]);
    assert_eq!(by_name["count"], 2);
    assert_eq!(by_name["scenarios"][0]["entity_count"], 3);
    let filtered = env.json(&["list", "--filter", "BETA"])?;
    assert_eq!(filtered["count"], 1);
    let tagged = env.json(&["list", "--tag", "special"])?;
    assert_eq!(tagged["scenarios"][0]["name"], "alpha-cohort");
    let limited = env.json(&["list", "--limit", "1", "--sort", "created"])?;
    assert_eq!(limited["count"], 1);
    let text = env.run(&["list"])?.expect(0)?;
    assert!(text.stdout.contains("alpha-cohort"), "{}", text.stdout);
    Ok(())
}

// ------------------------------------------------------------------------------------ changes

#[test]
fn rename_keeps_the_id() -> TestResult {
    let env = Env::new()?;
    let id = seed(&env, "old-name")?;
    let out = env.json(&["rename", "old-name", "New Name!"])?;
    assert_eq!(out["scenario_id"], id.as_str());
    assert_eq!(out["previous_name"], "old-name");
    let name = out["name"].as_str().unwrap_or_default().to_string();
    assert!(name.starts_with("new-name"), "sanitized: {name}");
    assert_eq!(
        env.json(&["summary", &name, "--no-samples"])?["scenario_id"],
        id.as_str()
    );
    env.run(&["rename", "no-such-scenario", "x"])?
        .expect_error(2, "no scenario matches")?;
    Ok(())
}

#[test]
fn delete_needs_yes() -> TestResult {
    let env = Env::new()?;
    seed(&env, "doomed")?;
    env.run(&["delete", "doomed"])?.expect_error(2, "--yes")?;
    assert_eq!(env.json(&["list"])?["count"], 1);
    let out = env.json(&["delete", "doomed", "--yes"])?;
    assert_eq!(out["name"], "doomed");
    assert_eq!(out["deleted_counts"]["patients"], 3);
    assert_eq!(out["tags_removed"], 1);
    assert_eq!(env.json(&["list"])?["count"], 0);
    env.run(&["delete", "doomed", "--yes"])?
        .expect_error(2, "no scenario matches")?;
    Ok(())
}

#[test]
fn tags_add_remove_list() -> TestResult {
    let env = Env::new()?;
    seed(&env, "tagged")?;
    let added = env.json(&["tag", "add", "tagged", " Medicare ", "pilot"])?;
    assert_eq!(added["tags"], json!(["diabetes", "medicare", "pilot"]));
    let removed = env.json(&["tag", "remove", "tagged", "pilot"])?;
    assert_eq!(removed["tags"], json!(["diabetes", "medicare"]));
    let one = env.json(&["tag", "list", "tagged"])?;
    assert_eq!(one["tags"], json!(["diabetes", "medicare"]));
    assert_eq!(one["name"], "tagged");
    let all = env.json(&["tag", "list"])?;
    assert_eq!(
        all["scenario_counts"],
        json!({"diabetes": 1, "medicare": 1})
    );
    let text = env.run(&["tag", "list"])?.expect(0)?;
    assert!(text.stdout.contains("medicare"), "{}", text.stdout);
    env.run(&["tag", "add", "tagged", "   "])?
        .expect_error(2, "invalid tag")?;
    env.run(&["tag", "add", "tagged"])?.expect_error(2, "TAG")?;
    Ok(())
}

// ------------------------------------------------------------------------------------ schema, db

#[test]
fn schema_lists_types_and_columns() -> TestResult {
    let env = Env::new()?;
    let all = env.json(&["schema"])?;
    let types = all["entity_types"].as_array().map(Vec::len);
    assert_eq!(types, Some(healthsim_schema::ENTITY_TYPES.len()));
    let claims = env.json(&["schema", "claim_line"])?;
    assert_eq!(claims["entity_types"][0]["table"], "claim_lines");
    assert!(claims["entity_types"][0]["columns"]
        .as_array()
        .is_some_and(|c| c.contains(&json!("claim_line_id VARCHAR NOT NULL"))));
    let text = env.run(&["schema", "vital_signs"])?.expect(0)?;
    assert!(text.stdout.starts_with("vitals"), "{}", text.stdout);
    env.run(&["schema", "spaceships"])?
        .expect_error(2, "unknown entity type")?;
    // `schema` reads only the registry: no database is created.
    assert!(!env.db.exists());
    Ok(())
}

#[test]
fn db_status_and_migrate() -> TestResult {
    let env = Env::new()?;
    let before = env.json(&["db", "status"])?;
    assert_eq!(before["exists"], false);
    let migrated = env.json(&["db", "migrate"])?;
    assert_eq!(migrated["from_version"], 0);
    let head = healthsim_schema::head_version();
    assert_eq!(migrated["to_version"], head);
    let after = env.json(&["db", "status"])?;
    assert_eq!(after["current_version"], head);
    assert_eq!(after["pending"], json!([]));
    let again = env.run(&["db", "migrate"])?.expect(0)?;
    assert!(again.stdout.contains("up to date"), "{}", again.stdout);
    let text = env.run(&["db", "status"])?.expect(0)?;
    assert!(text.stdout.contains("schema version"), "{}", text.stdout);
    Ok(())
}

#[test]
fn db_maintain_refuses_a_file_and_writes_nothing() -> TestResult {
    let env = Env::new()?;
    let refusal = "maintenance is for a lake; a DuckDB file needs none";
    // No file yet: the refusal creates none, nor its folder.
    env.run(&["db", "maintain"])?.expect_error(2, refusal)?;
    let folder = env.db.parent().ok_or("the database has no folder")?;
    assert!(!folder.exists(), "db maintain created {}", folder.display());
    // An existing database: refused, its folder byte for byte as it was.
    seed(&env, "kept")?;
    let contents =
        |dir: &Path| -> Result<Vec<(PathBuf, Vec<u8>, std::time::SystemTime)>, std::io::Error> {
            let mut files = Vec::new();
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                let modified = std::fs::metadata(&path)?.modified()?;
                files.push((path.clone(), std::fs::read(&path)?, modified));
            }
            files.sort();
            Ok(files)
        };
    let before = contents(folder)?;
    env.run(&["--json", "db", "maintain", "--older-than-minutes", "0"])?
        .expect_error(2, refusal)?;
    assert!(
        contents(folder)? == before,
        "db maintain changed the database's folder"
    );
    Ok(())
}

#[test]
fn a_file_that_is_not_a_database_fails_with_1() -> TestResult {
    let env = Env::new()?;
    let junk = env.file("junk.duckdb", "this is not a database")?;
    let run = run_binary(Some(&junk), &["list"], None)?;
    run.expect_error(1, "not a DuckDB database")?;
    Ok(())
}

#[test]
fn a_locked_database_fails_with_1_after_the_timeout() -> TestResult {
    let env = Env::new()?;
    env.json(&["db", "migrate"])?;
    // This test process holds the file: DuckDB lets one process at a time open it.
    let holder = healthsim_schema::duckdb::Connection::open(&env.db)?;
    let run = env.run(&["--lock-timeout", "0", "list"])?;
    drop(holder);
    run.expect_error(1, "in use by another healthsim process")?;
    // Released: the same command works.
    env.json(&["list"])?;
    Ok(())
}

#[test]
fn default_database_comes_from_the_environment() -> TestResult {
    let env = Env::new()?;
    let out = Command::new(env!("CARGO_BIN_EXE_healthsim"))
        .args(["--json", "db", "status"])
        .env("HEALTHSIM_DB", &env.db)
        .output()?;
    let status: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(status["path"], env.db.to_string_lossy().as_ref());
    let home = tempfile::tempdir()?;
    let out = Command::new(env!("CARGO_BIN_EXE_healthsim"))
        .args(["--json", "db", "status"])
        .env_remove("HEALTHSIM_DB")
        .env("HOME", home.path())
        .output()?;
    let status: Value = serde_json::from_slice(&out.stdout)?;
    let expected = home.path().join(".healthsim").join("healthsim.duckdb");
    assert_eq!(status["path"], expected.to_string_lossy().as_ref());
    Ok(())
}

// ------------------------------------------------------------------------------------ demo

#[test]
fn demo_is_deterministic_for_a_seed() -> TestResult {
    let first = Env::new()?;
    let second = Env::new()?;
    let args = ["demo", "--persons", "4", "--seed", "11"];
    let a = first.json(&args)?;
    let b = second.json(&args)?;
    assert_eq!(a["scenario_name"], "demo-4-persons-seed-11");
    assert_eq!(a["summary"]["entity_counts"], b["summary"]["entity_counts"]);
    assert_eq!(a["summary"]["statistics"], b["summary"]["statistics"]);
    assert_eq!(a["example_result"], b["example_result"]);
    assert!(
        a["batches"].as_u64().is_some_and(|n| n > 1),
        "batches of 50: {}",
        a["batches"]
    );
    assert_eq!(a["total_persisted"], a["summary"]["total_entities"]);
    assert!(a["example_result"]["total_count"]
        .as_u64()
        .is_some_and(|n| n > 0));
    // Text mode prints the summary and the example query.
    let text = Env::new()?.run(&["demo", "--persons", "2"])?.expect(0)?;
    assert!(text.stdout.contains("Example query"), "{}", text.stdout);
    assert!(text.stdout.contains("claim_type"), "{}", text.stdout);
    Ok(())
}

// ------------------------------------------------------------------------------------ transfer

/// A fixture of healthsim-fhir's tests.
fn fhir_fixture(name: &str) -> Result<PathBuf, std::io::Error> {
    std::fs::canonicalize(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../healthsim-fhir/tests/data/fhir")
            .join(name),
    )
}

fn path_arg(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

/// The number of scenarios in the database.
fn scenario_count(env: &Env) -> Result<Value, Box<dyn std::error::Error>> {
    Ok(env.json(&["list"])?["count"].clone())
}

#[test]
fn clone_copies_a_scenario() -> TestResult {
    let env = Env::new()?;
    let id = seed(&env, "baseline")?;
    let out = env.json(&["clone", "baseline", "--name", "What If", "--tag", "what-if"])?;
    assert_eq!(out["name"], "what-if");
    assert_eq!(
        out["source"],
        json!({"scenario_id": id, "name": "baseline"})
    );
    assert_eq!(out["counts"], json!({"patients": 3}));
    assert_eq!(out["total_entities"], 3);
    assert_ne!(out["scenario_id"], id.as_str());
    assert_eq!(
        env.json(&["tag", "list", "what-if"])?["tags"],
        json!(["what-if"])
    );

    // Default name and tags; only some types.
    let copy = env.json(&["clone", "baseline", "--types", "patient,claims"])?;
    assert_eq!(copy["name"], "baseline-copy");
    assert_eq!(copy["counts"], json!({"patients": 3}));
    assert_eq!(
        env.json(&["tag", "list", "baseline-copy"])?["tags"],
        json!(["diabetes"])
    );
    let text = env.run(&["clone", "baseline"])?.expect(0)?;
    assert!(
        text.stdout
            .contains("Cloned 'baseline' into new scenario 'baseline-copy-2'"),
        "{}",
        text.stdout
    );

    env.run(&["clone", "no-such-scenario"])?
        .expect_error(2, "no scenario matches 'no-such-scenario'")?;
    env.run(&["clone", "baseline", "--types", "spaceships"])?
        .expect_error(2, "unknown entity type 'spaceships'")?;
    assert_eq!(scenario_count(&env)?, 4);
    Ok(())
}

#[test]
fn merge_combines_scenarios_and_settles_conflicts() -> TestResult {
    let env = Env::new()?;
    seed(&env, "cohort-a")?;
    seed(&env, "cohort-b")?;
    let out = env.json(&[
        "merge",
        "cohort-a",
        "cohort-b",
        "--on-conflict",
        "rename",
        "--name",
        "combined",
    ])?;
    assert_eq!(out["name"], "combined");
    assert_eq!(out["on_conflict"], "rename");
    assert_eq!(out["counts"], json!({"patients": 6}));
    assert_eq!(out["conflicts"], json!({"patients": 3}));
    assert_eq!(out["total_conflicts"], 3);
    let sources: Vec<&str> = out["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(sources, ["cohort-a", "cohort-b"]);
    let renamed = env.json(&[
        "query",
        "combined",
        "SELECT patient_id FROM patients ORDER BY patient_id",
    ])?;
    assert_eq!(renamed["results"][1]["patient_id"], "p1~2");

    // skip (the default) keeps one entity per id.
    let skipped = env.json(&["merge", "cohort-a", "cohort-b"])?;
    assert_eq!(skipped["name"], "cohort-a-merged");
    assert_eq!(skipped["counts"], json!({"patients": 3}));
    let text = env
        .run(&[
            "merge",
            "cohort-a",
            "cohort-b",
            "--on-conflict",
            "overwrite",
        ])?
        .expect(0)?;
    assert!(
        text.stdout.contains("3 conflicts (overwrite"),
        "{}",
        text.stdout
    );

    env.run(&["merge", "cohort-a"])?
        .expect_error(2, "at least two source scenarios")?;
    env.run(&["merge", "cohort-a", "cohort-a"])?
        .expect_error(2, "more than once")?;
    env.run(&["merge", "cohort-a", "nope"])?
        .expect_error(2, "no scenario matches 'nope'")?;
    env.run(&["merge", "cohort-a", "cohort-b", "--on-conflict", "newest"])?
        .expect_error(2, "invalid value 'newest'")?;
    assert_eq!(scenario_count(&env)?, 5);
    Ok(())
}

#[test]
fn export_writes_files_and_refuses_what_it_must_not_replace() -> TestResult {
    let env = Env::new()?;
    seed(&env, "exported")?;
    let out_dir = env.dir.path().join("out");
    std::fs::create_dir(&out_dir)?;

    // JSON into an existing folder: {name}.json.
    let json_out = env.json(&[
        "export",
        "exported",
        "--format",
        "json",
        "--out",
        path_arg(&out_dir),
    ])?;
    let file = out_dir.join("exported.json");
    assert_eq!(json_out["path"], path_arg(&file));
    assert_eq!(json_out["format"], "json");
    assert_eq!(json_out["counts"], json!({"patients": 3}));
    assert_eq!(json_out["files"], json!([]));
    assert_eq!(json_out["bytes_written"], std::fs::metadata(&file)?.len());
    let document: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
    assert_eq!(document["entities"]["patients"][0]["patient_id"], "p1");

    // The same target again: refused without --overwrite, replaced with it.
    let before = std::fs::read(&file)?;
    env.run(&[
        "export",
        "exported",
        "--format",
        "json",
        "--out",
        path_arg(&file),
    ])?
    .expect_error(2, "already exists")?;
    assert_eq!(std::fs::read(&file)?, before);
    env.json(&[
        "export",
        "exported",
        "--format",
        "json",
        "--out",
        path_arg(&file),
        "--overwrite",
    ])?;

    // Parquet and CSV folders; selected types; no provenance.
    let parquet = env.json(&[
        "export",
        "exported",
        "--format",
        "parquet",
        "--out",
        path_arg(&out_dir),
    ])?;
    assert_eq!(parquet["files"], json!(["patients.parquet"]));
    assert!(out_dir.join("exported").join("patients.parquet").is_file());
    let csv_dir = out_dir.join("csv");
    let csv = env.json(&[
        "export",
        "exported",
        "--format",
        "csv",
        "--out",
        path_arg(&csv_dir),
        "--types",
        "patients,claims",
        "--no-provenance",
    ])?;
    assert_eq!(csv["files"], json!(["patients.csv"]));
    // A new folder is created and receives {name}/, like an existing one.
    assert_eq!(csv["path"], path_arg(&csv_dir.join("exported")));
    let header = std::fs::read_to_string(csv_dir.join("exported").join("patients.csv"))?;
    assert!(header.starts_with("patient_id,"), "{header}");
    assert!(!header
        .lines()
        .next()
        .unwrap_or_default()
        .contains("source_type"));

    // Without --out: exports/ next to the database file.
    let default = env.json(&["export", "exported", "--format", "json"])?;
    let expected = env
        .db
        .parent()
        .map(|d| d.join("exports").join("exported.json"));
    assert_eq!(
        default["path"],
        expected.as_deref().map(path_arg).unwrap_or_default()
    );
    let text = env
        .run(&[
            "export",
            "exported",
            "--format",
            "parquet",
            "--out",
            path_arg(&out_dir),
            "--overwrite",
        ])?
        .expect(0)?;
    assert!(text.stdout.contains("as parquet to"), "{}", text.stdout);
    assert!(text.stdout.contains("patients.parquet"), "{}", text.stdout);

    // Refusals: '..', a missing parent, an unknown scenario or type, a missing --format.
    let climbing = format!("{}/../escape.json", path_arg(&out_dir));
    env.run(&["export", "exported", "--format", "json", "--out", &climbing])?
        .expect_error(2, "'..' components are not allowed")?;
    assert!(!env.dir.path().join("escape.json").exists());
    let orphan = env.dir.path().join("missing").join("x.json");
    env.run(&[
        "export",
        "exported",
        "--format",
        "json",
        "--out",
        path_arg(&orphan),
    ])?
    .expect_error(2, "does not exist")?;
    env.run(&["export", "nope", "--format", "json"])?
        .expect_error(2, "no scenario matches")?;
    env.run(&[
        "export",
        "exported",
        "--format",
        "json",
        "--types",
        "spaceships",
    ])?
    .expect_error(2, "unknown entity type")?;
    env.run(&["export", "exported"])?
        .expect_error(2, "--format")?;
    Ok(())
}

#[test]
fn import_reads_exports_back_and_writes_nothing_from_a_broken_file() -> TestResult {
    let env = Env::new()?;
    seed(&env, "original")?;
    let dir = env.dir.path();
    let file = dir.join("original.json");
    env.json(&[
        "export",
        "original",
        "--format",
        "json",
        "--out",
        path_arg(&file),
    ])?;
    env.json(&[
        "export",
        "original",
        "--format",
        "parquet",
        "--out",
        path_arg(dir),
    ])?;

    let from_json = env.json(&["import", path_arg(&file)])?;
    assert_eq!(from_json["name"], "original-2");
    assert_eq!(from_json["format"], "json");
    assert_eq!(from_json["counts"], json!({"patients": 3}));
    let from_parquet = env.json(&[
        "import",
        path_arg(&dir.join("original")),
        "--name",
        "restored",
    ])?;
    assert_eq!(from_parquet["name"], "restored");
    assert_eq!(from_parquet["format"], "parquet");
    assert_eq!(from_parquet["total_entities"], 3);
    let same = env.json(&[
        "query",
        "restored",
        "SELECT patient_id, given_name, birth_date FROM patients ORDER BY 1",
    ])?;
    let original = env.json(&[
        "query",
        "original",
        "SELECT patient_id, given_name, birth_date FROM patients ORDER BY 1",
    ])?;
    assert_eq!(same["results"], original["results"]);
    let text = env.run(&["import", path_arg(&file)])?.expect(0)?;
    assert!(
        text.stdout.contains("Imported 3 entities from"),
        "{}",
        text.stdout
    );

    // A truncated export: exit 2, and not a row or a scenario written.
    let before = scenario_count(&env)?;
    let content = std::fs::read(&file)?;
    let truncated = dir.join("truncated.json");
    std::fs::write(&truncated, &content[..content.len() / 2])?;
    env.run(&["import", path_arg(&truncated)])?
        .expect_error(2, "truncated.json")?;
    let not_an_export = env.file("plain.json", "{\"patients\": []}")?;
    env.run(&["import", path_arg(&not_an_export)])?.expect(2)?;
    env.run(&["import", path_arg(&dir.join("no-such-file.json"))])?
        .expect_error(2, "no-such-file.json")?;
    env.run(&["import", "../original.json"])?
        .expect_error(2, "'..' components are not allowed")?;
    assert_eq!(scenario_count(&env)?, before);
    Ok(())
}

#[test]
fn import_fhir_maps_bundles_and_reports_invalid_resources() -> TestResult {
    let env = Env::new()?;
    let bundle = fhir_fixture("transaction-bundle.json")?;
    let out = env.json(&["import-fhir", path_arg(&bundle), "--name", "fhir-bundle"])?;
    assert_eq!(out["scenario_name"], "fhir-bundle");
    assert_eq!(out["is_new_scenario"], true);
    assert_eq!(out["files"], 1);
    // Nothing is dropped: the ImagingStudy is kept whole in fhir_resources.
    assert_eq!(out["resources_imported"], 20);
    assert_eq!(out["unsupported"], json!({"ImagingStudy": 1}));
    assert_eq!(
        out["rows_written"]["fhir_resources"],
        json!({"inserted": 1, "updated": 0})
    );
    // The EOB is on its Claim: one claim, two lines.
    assert_eq!(out["eobs_merged"], 1);
    assert_eq!(
        out["rows_written"]["claims"],
        json!({"inserted": 1, "updated": 0})
    );
    assert_eq!(
        out["rows_written"]["patients"],
        json!({"inserted": 1, "updated": 0})
    );
    assert_eq!(
        out["rows_written"]["claim_lines"],
        json!({"inserted": 2, "updated": 0})
    );
    assert_eq!(
        out["rows_written"]["vitals"],
        json!({"inserted": 4, "updated": 0})
    );
    assert_eq!(out["skipped_total"], 0);
    assert_eq!(out["unresolved_references"], json!({}));
    assert_eq!(out["truncated"], false);
    let summary = env.json(&["summary", "fhir-bundle", "--no-samples"])?;
    assert_eq!(summary["entity_counts"]["claim_lines"], 2);
    assert_eq!(summary["entity_counts"]["claims"], 1);

    // Again into the same scenario: the same ids are updated.
    let again = env.json(&[
        "import-fhir",
        path_arg(&bundle),
        "--scenario",
        "fhir-bundle",
    ])?;
    assert_eq!(again["is_new_scenario"], false);
    assert_eq!(
        again["rows_written"]["patients"],
        json!({"inserted": 0, "updated": 1})
    );

    // A folder of NDJSON files, into a scenario named from the context.
    let bulk = env.json(&[
        "import-fhir",
        path_arg(&fhir_fixture("bulk")?),
        "--context",
        "bulk export",
    ])?;
    assert_eq!(bulk["files"], 4);
    assert!(
        bulk["scenario_name"]
            .as_str()
            .is_some_and(|n| n.starts_with("bulk")),
        "{bulk}"
    );
    let text = env
        .run(&[
            "import-fhir",
            path_arg(&fhir_fixture("collection-bundle.json")?),
        ])?
        .expect(0)?;
    assert!(
        text.stdout.contains("References without a target"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "Kept whole in fhir_resources (types without a table of their own): Observation 1"
        ),
        "{}",
        text.stdout
    );
    let text = env.run(&["import-fhir", path_arg(&bundle)])?.expect(0)?;
    assert!(
        text.stdout.contains(
            "ExplanationOfBenefits: 1 merged into their claims, 0 written as claims of their own"
        ),
        "{}",
        text.stdout
    );

    // The malformed fixture: the whole import fails and writes nothing ...
    let before = scenario_count(&env)?;
    let bad = fhir_fixture("malformed/bad.ndjson")?;
    env.run(&["import-fhir", path_arg(&bad)])?
        .expect_error(2, "bad.ndjson line 2")?;
    assert_eq!(scenario_count(&env)?, before);
    // ... unless invalid resources are skipped (and listed).
    let skipped = env.json(&[
        "import-fhir",
        path_arg(&bad),
        "--skip-invalid",
        "--batch-size",
        "1",
    ])?;
    assert_eq!(skipped["skipped_total"], 5);
    assert_eq!(skipped["skipped"][0]["line"], 2);
    assert_eq!(skipped["skipped"][1]["resource_type"], "Encounter");
    assert_eq!(skipped["rows_written"]["patients"]["inserted"], 1);
    let text = env
        .run(&["import-fhir", path_arg(&bad), "--skip-invalid"])?
        .expect(0)?;
    assert!(
        text.stdout.contains("Skipped as invalid: 5"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("Encounter/wrong-shape"),
        "{}",
        text.stdout
    );

    env.run(&[
        "import-fhir",
        path_arg(&env.dir.path().join("nothing-here")),
    ])?
    .expect_error(2, "nothing-here")?;
    env.run(&["import-fhir", path_arg(&bundle), "--scenario", "nope"])?
        .expect_error(2, "no scenario matches 'nope'")?;
    env.run(&[
        "import-fhir",
        path_arg(&bundle),
        "--scenario",
        "fhir-bundle",
        "--name",
        "x",
    ])?
    .expect_error(2, "cannot be used with")?;
    env.run(&["import-fhir"])?.expect_error(2, "PATH")?;
    Ok(())
}

#[test]
fn import_fhir_commit_modes_and_skipped_files_through_the_cli() -> TestResult {
    let env = Env::new()?;
    let folder = env.dir.path().join("export");
    std::fs::create_dir(&folder)?;
    for name in ["Patient", "Encounter", "Condition", "Observation"] {
        let file = format!("{name}.ndjson");
        std::fs::copy(fhir_fixture(&format!("bulk/{file}"))?, folder.join(&file))?;
    }
    std::fs::write(
        folder.join("metadata.json"),
        r#"{"exported": "2024-06-01"}"#,
    )?;

    // 20 resources in chunks of 5; the metadata file is skipped and listed.
    let chunked = env.json(&[
        "import-fhir",
        path_arg(&folder),
        "--name",
        "chunked",
        "--commit",
        "chunks",
        "--batch-size",
        "5",
    ])?;
    assert_eq!(chunked["commit_mode"], "chunks");
    assert_eq!(chunked["chunks_committed"], 4);
    assert_eq!(chunked["files"], 4);
    assert_eq!(chunked["skipped_files_total"], 1);
    assert!(
        chunked["skipped_files"][0]["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("metadata.json")),
        "{chunked}"
    );
    let text = env
        .run(&["import-fhir", path_arg(&folder), "--commit", "chunks"])?
        .expect(0)?;
    assert!(
        text.stdout
            .contains("Committed in 1 chunk (one transaction each).")
            && text.stdout.contains("Skipped files (not FHIR): 1")
            && text.stdout.contains("metadata.json  no resourceType"),
        "{}",
        text.stdout
    );
    // A small input commits as one transaction by default.
    let text = env.run(&["import-fhir", path_arg(&folder)])?.expect(0)?;
    assert!(
        text.stdout.contains("Committed as one transaction."),
        "{}",
        text.stdout
    );

    // A chunked import that fails midway says what it committed and how to complete it ...
    let before = scenario_count(&env)?.as_u64().ok_or("scenario count")?;
    let bad = fhir_fixture("malformed/bad.ndjson")?;
    let args = |target: &'static [&'static str]| {
        let mut args = vec![
            "import-fhir",
            path_arg(&bad),
            "--commit",
            "chunks",
            "--batch-size",
            "1",
        ];
        args.extend_from_slice(target);
        args
    };
    env.run(&args(&["--name", "partial"]))?
        .expect_error(
            2,
            "bad.ndjson line 2: EOF while parsing a value at column 0; the fhir import had \
             committed 1 chunk(s) (1 resources) into scenario 'partial'",
        )?
        .expect_error(2, "(--scenario partial) to complete it without duplicates")?;
    assert_eq!(scenario_count(&env)?.as_u64(), Some(before + 1));
    // ... and re-running into it (here skipping the invalid lines) completes it.
    let rerun = env.json(&args(&["--scenario", "partial", "--skip-invalid"]))?;
    assert_eq!(rerun["is_new_scenario"], false);
    assert_eq!(
        rerun["rows_written"]["patients"],
        json!({"inserted": 0, "updated": 1})
    );
    assert_eq!(scenario_count(&env)?.as_u64(), Some(before + 1));
    env.run(&["import-fhir", path_arg(&folder), "--commit", "sometimes"])?
        .expect_error(2, "invalid value 'sometimes' for '--commit <MODE>'")?;
    Ok(())
}

// ------------------------------------------------------------------------------------ generate

#[test]
fn generate_is_deterministic_and_persists_end_to_end() -> TestResult {
    let env = Env::new()?;
    let first = env.dir.path().join("first.jsonl");
    let args = |out: &Path| -> Vec<String> {
        [
            "generate",
            "--persons",
            "3",
            "--seed",
            "9",
            "--out",
            path_arg(out),
        ]
        .map(String::from)
        .to_vec()
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_binary(None, &args, None)
    };
    let written = run(args(&first))?.expect(0)?;
    assert!(
        written.stderr.starts_with("generated ") && written.stderr.lines().count() == 1,
        "one-line summary on stderr: {}",
        written.stderr
    );
    assert!(written.stdout.contains("Wrote "), "{}", written.stdout);
    let second = env.dir.path().join("second.jsonl");
    run(args(&second))?.expect(0)?;
    let content = std::fs::read_to_string(&first)?;
    assert_eq!(content, std::fs::read_to_string(&second)?);

    // The same bytes as the library's writer, on stdout too; one line per entity.
    let mut expected = Vec::new();
    let stats = synth::write_jsonl(
        GeneratorConfig {
            persons: 3,
            seed: 9,
            ..GeneratorConfig::default()
        },
        &mut expected,
    )?;
    assert_eq!(content.as_bytes(), expected.as_slice());
    assert_eq!(content.lines().count() as u64, stats.total);
    let piped =
        run_binary(None, &["generate", "--persons", "3", "--seed", "9"], None)?.expect(0)?;
    assert_eq!(piped.stdout, content);
    let report = run_binary(
        None,
        &[
            "--json",
            "generate",
            "--persons",
            "3",
            "--seed",
            "9",
            "--out",
            path_arg(&first),
        ],
        None,
    )?
    .expect(0)?
    .json()?;
    assert_eq!(report["total"], stats.total);
    assert_eq!(report["bytes_written"], content.len());
    for (table, n) in &stats.per_type {
        assert_eq!(report["per_type"][*table], *n, "{table}");
    }

    // A document of patients only.
    let document = run_binary(
        None,
        &[
            "generate",
            "--mix",
            "patients",
            "--persons",
            "4",
            "--format",
            "document",
        ],
        None,
    )?
    .expect(0)?;
    let parsed: Value = serde_json::from_str(&document.stdout)?;
    assert_eq!(parsed["patients"].as_array().map(Vec::len), Some(4));
    assert_eq!(parsed.as_object().map(|o| o.len()), Some(1));

    // Persisted end to end: every generated entity is stored.
    let persisted = env.json(&["persist", "--name", "generated", path_arg(&first)])?;
    assert_eq!(persisted["total_persisted"], stats.total);
    assert_eq!(persisted["failed_batches"], json!([]));
    let summary = env.json(&["summary", "generated", "--no-samples"])?;
    assert_eq!(summary["total_entities"], stats.total);

    // Bad input.
    let orphan = env.dir.path().join("missing").join("x.jsonl");
    run_binary(None, &["generate", "--out", path_arg(&orphan)], None)?
        .expect_error(2, "cannot create")?;
    run_binary(None, &["generate", "--out", path_arg(env.dir.path())], None)?
        .expect_error(2, "is a folder")?;
    run_binary(None, &["generate", "--persons", "0"], None)?
        .expect_error(2, "between 1 and 1000000")?;
    run_binary(None, &["generate", "--mix", "everything"], None)?
        .expect_error(2, "invalid value 'everything'")?;
    Ok(())
}

// ------------------------------------------------------------------------- query containment

/// Queries that crash the engine (deeply nested JSON), ignore interruption or would build huge
/// values run in a worker process of their own: the command reports a clear error, exit code 2
/// (the query is what has to change), and the next command works.
#[test]
fn a_query_that_crashes_the_engine_is_a_clear_error_and_the_next_query_runs() -> TestResult {
    let env = Env::new()?;
    seed(&env, "contained")?;
    for sql in [
        "SELECT json_structure(repeat('[', 200000) || repeat(']', 200000)) AS x",
        "SELECT json_contains(repeat('[', 300000) || repeat(']', 300000), '1') AS x",
    ] {
        env.run(&["query", "contained", sql])?
            .expect_error(2, "the query stopped its worker process (killed by signal")?;
        let page = env.json(&["query", "contained", "SELECT count(*) AS n FROM patients"])?;
        assert_eq!(page["results"][0]["n"], 3, "after {sql}");
    }
    Ok(())
}

/// The worker entry point is not a command: given anything but a request it says so and exits
/// with 2, and it is not listed in the help.
#[test]
fn the_query_worker_entry_is_internal() -> TestResult {
    let help = run_binary(None, &["--help"], None)?.expect(0)?;
    assert!(!help.stdout.contains("__query-worker"), "{}", help.stdout);
    run_binary(None, &["__query-worker"], Some("SELECT 1"))?
        .expect(2)
        .map(|run| assert!(run.stderr.contains("not a request"), "{}", run.stderr))?;
    Ok(())
}

/// Each class of the sandbox's attack model through the binary: functions that look past the
/// scoped scan are refused by name, text with a control character is refused, a function that
/// never checks for interruption is stopped at the deadline, and analyst queries the sandbox
/// once refused run.
#[test]
fn the_sandbox_classes_through_the_binary() -> TestResult {
    let env = Env::new()?;
    seed(&env, "classes")?;
    for (sql, refusal) in [
        (
            "SELECT stats(given_name) AS s FROM patients",
            "function 'stats'",
        ),
        (
            "SELECT json_serialize_plan('SELECT * FROM main.patients') AS p",
            "function 'json_serialize_plan'",
        ),
        (
            "SELECT current_setting('home_directory') AS h",
            "function 'current_setting'",
        ),
        (
            // argv cannot hold a NUL (the MCP test sends one): another control character.
            "SELECT count(*) AS n FROM patients \u{1b}; DROP TABLE patients",
            "U+001B",
        ),
    ] {
        env.run(&["query", "classes", sql])?
            .expect_error(2, refusal)?;
    }
    env.run(&[
        "query",
        "classes",
        "SELECT repeat('a', 30000) GLOB repeat('*a', 3000) || 'b' AS x",
    ])?
    .expect_error(2, "the query was stopped after 5 s")?;
    let pivot = env.json(&[
        "query",
        "classes",
        "PIVOT (SELECT gender FROM patients) ON gender USING count(*)",
    ])?;
    assert_eq!(pivot["results"], json!([{"F": 2, "M": 1}]));
    let bars = env.json(&[
        "query",
        "classes",
        "SELECT state, repeat('*', count(*)::INT) AS bar FROM patients GROUP BY state ORDER BY state",
    ])?;
    assert_eq!(
        bars["results"],
        json!([{"state": "AZ", "bar": "**"}, {"state": "CA", "bar": "*"}])
    );
    Ok(())
}

// ------------------------------------------------------------------------------------ legacy

/// The Python HealthSim's schema v1.7 with three cohorts (see the header of
/// crates/healthsim-persist/tests/legacy/make_fixtures.py).
const PYTHON_V1_7_SQL: &str = include_str!("../../healthsim-persist/tests/legacy/python_v1_7.sql");

/// A Python HealthSim database at `path`, built with our DuckDB from the fixture's SQL.
fn python_database(path: &Path) -> TestResult {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let conn = healthsim_schema::duckdb::Connection::open(path)?;
    conn.execute_batch(PYTHON_V1_7_SQL)?;
    conn.execute_batch("CHECKPOINT")?;
    Ok(())
}

/// Every command that opens the database, with the arguments it needs.
fn commands_that_open_the_database(env: &Env) -> Result<Vec<Vec<String>>, std::io::Error> {
    let patients = env.file("legacy-patients.json", PATIENTS)?;
    let patients = patients.to_string_lossy().into_owned();
    let fhir = fhir_fixture("transaction-bundle.json")?
        .to_string_lossy()
        .into_owned();
    let commands: &[&[&str]] = &[
        &["persist", "--type", "patient", &patients],
        &["summary", "x"],
        &["query", "x", "SELECT 1"],
        &["samples", "x", "patients"],
        &["list"],
        &["rename", "x", "y"],
        &["delete", "x", "--yes"],
        &["tag", "add", "x", "t"],
        &["tag", "list"],
        &["clone", "x"],
        &["merge", "x", "y"],
        &["export", "x", "--format", "json"],
        &["import", &patients],
        &["import-fhir", &fhir],
        &["import-legacy", &patients],
        &["report", "x"],
        &["demo", "--persons", "2"],
        &["db", "status"],
        &["db", "migrate"],
    ];
    Ok(commands
        .iter()
        .map(|c| c.iter().map(|a| a.to_string()).collect())
        .collect())
}

#[test]
fn every_command_names_a_python_database_and_leaves_it_untouched() -> TestResult {
    let env = Env::new()?;
    python_database(&env.db)?;
    let before = (
        std::fs::read(&env.db)?,
        std::fs::metadata(&env.db)?.modified()?,
    );
    for command in commands_that_open_the_database(&env)? {
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        let run = env.run(&args)?.expect_error(
            1,
            "is a HealthSim (Python) database, schema era v1.5+ (cohorts), recorded version 1.7",
        )?;
        assert!(
            run.stderr.contains("it is left untouched"),
            "{command:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("healthsim import-legacy"),
            "{command:?}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("Binder Error"),
            "{command:?}: {}",
            run.stderr
        );
    }
    let after = (
        std::fs::read(&env.db)?,
        std::fs::metadata(&env.db)?.modified()?,
    );
    assert!(before == after, "the Python database changed");
    Ok(())
}

#[test]
fn another_applications_file_is_named_with_exit_1() -> TestResult {
    let env = Env::new()?;
    if let Some(parent) = env.db.parent() {
        std::fs::create_dir_all(parent)?;
    }
    {
        let conn = healthsim_schema::duckdb::Connection::open(&env.db)?;
        conn.execute_batch("CREATE TABLE orders (id INTEGER); CHECKPOINT;")?;
    }
    env.run(&["list"])?.expect_error(
        1,
        "is a DuckDB database of another application (1 table(s), e.g. orders",
    )?;
    env.run(&["db", "status"])?
        .expect_error(1, "another application")?;
    std::fs::write(&env.db, "SQLite format 3\0and then some bytes")?;
    env.run(&["list"])?
        .expect_error(1, "it is a SQLite database")?;
    Ok(())
}

#[test]
fn import_legacy_brings_cohorts_over_and_skips_them_the_second_time() -> TestResult {
    let env = Env::new()?;
    let legacy = env.dir.path().join("python").join("healthsim.duckdb");
    python_database(&legacy)?;
    let before = std::fs::read(&legacy)?;
    let legacy_arg = path_arg(&legacy);

    let dry = env.json(&["import-legacy", legacy_arg, "--dry-run"])?;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["scenarios"][0]["status"], "would_import");
    assert_eq!(scenario_count(&env)?, 0);

    let run = env.run(&["import-legacy", legacy_arg])?.expect(0)?;
    assert!(
        run.stdout.starts_with("Imported 3 of 3 scenario(s)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "'Diabetes Cohort Phoenix' (cohorts S-DIAB): imported as 'diabetes-cohort-phoenix'"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("not imported: orders (1): no entity type of ours holds orders"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Not imported (tables without entities of a scenario):"),
        "{}",
        run.stdout
    );
    assert_eq!(scenario_count(&env)?, 3);
    let summary = env.json(&["summary", "diabetes-cohort-phoenix", "--no-samples"])?;
    assert_eq!(
        summary["entity_counts"]["encounters"],
        dry["scenarios"][0]["counts"]["encounters"]
    );
    assert_eq!(
        env.json(&["query", "diabetes-cohort-phoenix", "SELECT count(*) AS n FROM encounters e WHERE NOT EXISTS (SELECT 1 FROM patients p WHERE p.patient_id = e.patient_id)"])?["results"][0]["n"],
        0
    );

    let again = env.json(&["import-legacy", legacy_arg])?;
    assert_eq!(
        (
            again["scenarios_imported"].as_u64(),
            again["scenarios_skipped"].as_u64()
        ),
        (Some(0), Some(3))
    );
    let renamed = env.json(&[
        "import-legacy",
        legacy_arg,
        "--on-name-conflict",
        "rename",
        "--source-system",
        "python-export",
    ])?;
    assert_eq!(renamed["scenarios"][0]["name"], "diabetes-cohort-phoenix-2");
    assert_eq!(std::fs::read(&legacy)?, before, "the legacy file changed");

    // Bad sources: exit 2, nothing written.
    env.run(&[
        "import-legacy",
        path_arg(&env.dir.path().join("missing.duckdb")),
    ])?
    .expect_error(2, "missing.duckdb")?;
    let notes = env.file("notes.txt", "just text")?;
    env.run(&["import-legacy", path_arg(&notes)])?
        .expect_error(
            2,
            "is not a Python HealthSim database, JSON scenario/cohort file or folder of them",
        )?;
    env.run(&[
        "import-legacy",
        legacy_arg,
        "--on-name-conflict",
        "overwrite",
    ])?
    .expect_error(2, "overwrite")?;
    assert_eq!(scenario_count(&env)?, 6);
    Ok(())
}
