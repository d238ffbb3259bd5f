//! The documentation's command lines, run: every ```` ```sh ```` block of README.md,
//! docs/user-guide.md, docs/deployment.md and skills/*.md runs here verbatim, so a renamed
//! scenario, command or flag breaks this test instead of a reader.
//!
//! - Each document runs in a fresh temporary folder that is both the working directory and
//!   `HOME` (so the default database `~/.healthsim/healthsim.duckdb` is a new one), with
//!   `HEALTHSIM_DB` unset — except docs/deployment.md, whose reader has exported a lake's name:
//!   it runs with `HEALTHSIM_DB` naming a new lake (a database of a throwaway PostgreSQL, data in
//!   the temporary folder) — and `PATH` = the freshly built `healthsim`'s folder, then
//!   `/usr/bin:/bin` (for `cat` and `jq`). Its blocks run in order, as one POSIX shell script
//!   per block (`bash --posix`, with `-e` and `pipefail`, so a failing command anywhere in a
//!   pipeline stops the block), so a variable one line sets is there for the next.
//! - Before a document runs, [`inputs`] writes the files its examples read as the user's own
//!   (`patients.json`, `claims.json`, `members.jsonl`, `cohort.jsonl`, FHIR files under
//!   `synthea/output/fhir`, ...), made by `healthsim generate` or copied from the FHIR test data.
//! - Each command line must exit 0. A comment line `# → TEXT` checks that the command above it
//!   printed TEXT on stdout, `YYYYMMDD` standing for today's date (UTC): that is how the docs
//!   show a generated scenario name, and how a later line's name is tied to it.
//! - A line starting `healthsim mcp` gets an MCP session on stdin (initialize, initialized,
//!   tools/list) and must answer it with the tool list; every other line gets an empty stdin.
//! - A block that must not run is marked ```` ```sh not-run ```` and listed in [`NOT_RUN`] with
//!   the reason; a listed block that no longer exists fails the test too, and so does a shell
//!   block spelled `bash`, `shell`, `console`, ... (it would escape the runner).
//! - [`EXAMPLE_NAMES`]: every dated scenario name the docs show in backticks
//!   (`diabetic-patients-arizona-20250115`) is the one healthsim-naming makes for the context
//!   and entity type listed there.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::NaiveDate;
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Blocks that are not run: (document, the block's first line, why).
const NOT_RUN: &[(&str, &str, &str)] = &[
    (
        "docs/user-guide.md",
        "healthsim import-legacy ~/.healthsim/healthsim.duckdb --db ~/.healthsim/persist.duckdb --dry-run",
        "needs a Python HealthSim database at the default path, where the guide's other blocks \
         keep their own database; tests/cli.rs runs the same command on one built from \
         crates/healthsim-persist/tests/legacy/python_v1_7.sql",
    ),
    (
        "README.md",
        "cargo xtask setup && cargo run --release -p healthsim-cli -- demo",
        "fetches DuckDB and builds the workspace in release mode (minutes); the `demo` it runs is \
         run by the 'Using it' block, and setup's platform table by xtask's unit tests",
    ),
    (
        "README.md",
        "cargo xtask setup && cargo test --workspace",
        "runs the whole test suite, this test included",
    ),
    (
        "README.md",
        "cargo xtask install --prefix ~/.local",
        "builds the release binary (minutes) and writes into the home folder; the same install \
         code runs against a temporary prefix in tests/install.rs, with the test binary",
    ),
    (
        "README.md",
        "cargo install --path crates/healthsim-cli",
        "builds a release binary and installs it into ~/.cargo/bin (minutes, outside the \
         checkout); the library lookup it relies on (the absolute rpath) is tested by \
         tests/install.rs with the test binary copied alone into a bin folder",
    ),
    (
        "README.md",
        "claude mcp add healthsim -- ~/.local/bin/healthsim mcp",
        "configures Claude Code, which is not installed here; the server it starts is run by \
         the 'Using it' block and by tests/install.rs from an installed prefix",
    ),
    (
        "docs/user-guide.md",
        "cargo xtask setup                                    # once: fetches the prebuilt DuckDB library",
        "fetches DuckDB and builds the release binary (minutes) into the home folder; the same \
         install code runs against a temporary prefix in tests/install.rs",
    ),
    (
        "docs/deployment.md",
        "sudo apt-get install postgresql && sudo service postgresql start",
        "installs and starts a system PostgreSQL as root; the test starts a throwaway server of \
         its own (healthsim-pgtest) and gives the page's blocks a lake on it",
    ),
    (
        "docs/deployment.md",
        "export HEALTHSIM_DB='ducklake:postgres:dbname=healthsim_lake host=pg.internal user=healthsim data_path=/mnt/lake/'",
        "names a server and folder of the reader's; the test sets HEALTHSIM_DB to a lake of the \
         same form on its throwaway server before the page's blocks run",
    ),
    (
        "docs/deployment.md",
        "export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…      # and AWS_SESSION_TOKEN for temporary ones",
        "names the reader's credentials, bucket and servers; tests/lake_s3.rs runs persist, \
         query and maintenance with these variables set for a throwaway S3 server \
         (healthsim-s3test) and a lake whose data_path is in it",
    ),
    (
        "docs/deployment.md",
        "pg_dump --format=custom --file=lake-catalog.dump healthsim_lake",
        "copies to a backup host; a restore is PostgreSQL's and rsync's own behaviour",
    ),
    (
        "docs/user-guide.md",
        "claude mcp add healthsim -- ~/.local/bin/healthsim mcp",
        "configures Claude Code, which is not installed here; the server it starts is run by \
         tests/install.rs and tests/mcp.rs",
    ),
];

/// Dated scenario names the docs show (in code or prose), with the request that makes each:
/// (name, context, entity type). The date is the name's own; a name the docs show with the date
/// `YYYYMMDD` is checked by running the command that prints it instead.
const EXAMPLE_NAMES: &[(&str, &str, &str)] = &[
    (
        "diabetic-patients-arizona-20250115",
        "diabetic patients in Arizona",
        "patients",
    ),
    (
        "diabetic-members-maricopa-20250115",
        "diabetic members in Maricopa",
        "members",
    ),
    (
        "diabetic-medicare-members-20250115",
        "diabetic Medicare members in Maricopa County with claims",
        "members",
    ),
];

/// Shell names a fenced block may not use: only `sh` blocks are run or listed.
const OTHER_SHELLS: &[&str] = &[
    "bash",
    "shell",
    "console",
    "zsh",
    "shell-session",
    "terminal",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The documents whose command lines run, as paths relative to the repository root.
fn documents() -> Vec<String> {
    let mut docs = vec![
        "README.md".to_string(),
        "docs/user-guide.md".to_string(),
        "docs/deployment.md".to_string(),
    ];
    let mut skills: Vec<String> = std::fs::read_dir(root().join("skills"))
        .unwrap_or_else(|e| panic!("cannot list skills/: {e}"))
        .map(|entry| entry.expect("a skills/ entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("skills/{name}"))
        .collect();
    skills.sort();
    assert!(!skills.is_empty(), "no skills/*.md");
    docs.extend(skills);
    docs
}

/// A fenced block: its info string (`sh`, `sh not-run`, `json`, ...), where it starts (1-based
/// line of its first content line) and its lines.
#[derive(Debug)]
struct Block {
    info: String,
    first_line: usize,
    lines: Vec<String>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        // A fence is three backticks and an info string, not an inline ```` ``` ```` span.
        let fence = line
            .trim_start()
            .strip_prefix("```")
            .filter(|info| !info.starts_with('`'));
        match (fence, open.take()) {
            (Some(_), Some(block)) => blocks.push(block),
            (Some(info), None) => {
                open = Some(Block {
                    info: info.trim().to_string(),
                    first_line: i + 2,
                    lines: Vec::new(),
                })
            }
            (None, Some(mut block)) => {
                block.lines.push(line.to_string());
                open = Some(block);
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a fenced block is not closed");
    blocks
}

fn read(doc: &str) -> String {
    std::fs::read_to_string(root().join(doc)).unwrap_or_else(|e| panic!("cannot read {doc}: {e}"))
}

#[test]
fn every_shell_block_runs_or_is_listed_with_its_reason() {
    let mut problems = Vec::new();
    let mut listed_found = vec![false; NOT_RUN.len()];
    let mut run = 0;
    for doc in documents() {
        for block in blocks(&read(&doc)) {
            let first = block.lines.first().map(String::as_str).unwrap_or_default();
            let language = block.info.split_whitespace().next().unwrap_or_default();
            match block.info.as_str() {
                "sh" => run += 1,
                "sh not-run" => {
                    match NOT_RUN
                        .iter()
                        .position(|(d, line, _)| *d == doc && *line == first.trim())
                    {
                        Some(i) => listed_found[i] = true,
                        None => problems.push(format!(
                            "{doc}:{}: a not-run block that NOT_RUN does not list with a reason: {first}",
                            block.first_line
                        )),
                    }
                }
                _ if language == "sh" || OTHER_SHELLS.contains(&language) => problems.push(format!(
                    "{doc}:{}: a shell block tagged '{}': use ```sh (run) or ```sh not-run (listed in NOT_RUN)",
                    block.first_line, block.info
                )),
                _ => {}
            }
        }
    }
    for ((doc, line, _), found) in NOT_RUN.iter().zip(listed_found) {
        if !found {
            problems.push(format!(
                "NOT_RUN lists a block that {doc} no longer has: {line}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        run >= 2,
        "the docs have {run} runnable blocks: the parser lost them"
    );
}

#[test]
fn example_scenario_names_are_what_the_naming_rules_make() {
    let mut problems = Vec::new();
    for doc in documents() {
        let text = read(&doc);
        // Every word of lowercase letters, digits and hyphens, in code or in prose.
        let words =
            text.split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        for code in words {
            if !is_dated_name(code) {
                continue;
            }
            match EXAMPLE_NAMES.iter().find(|(name, _, _)| *name == code) {
                None => problems.push(format!(
                    "{doc} shows the scenario name {code}: add it to EXAMPLE_NAMES with the context that makes it"
                )),
                Some((name, context, entity_type)) => {
                    let date = name_date(name);
                    let request = healthsim_naming::NameRequest {
                        context: Some(context),
                        entity_type: Some(entity_type),
                        ..healthsim_naming::NameRequest::new(date)
                    };
                    let made = healthsim_naming::generate_name(&request, |_| false)
                        .unwrap_or_else(|e| panic!("naming {context:?}: {e}"));
                    if made != *name {
                        problems.push(format!(
                            "{doc}: {name} is not what context {context:?} ({entity_type}) makes: {made}"
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `words-YYYYMMDD` with an optional `-N` counter: what a generated name looks like.
fn is_dated_name(code: &str) -> bool {
    let parsed = healthsim_naming::parse_name(code);
    parsed.date.is_some()
        && !parsed.keywords.is_empty()
        && healthsim_naming::sanitize(code).ok().as_deref() == Some(code)
}

fn name_date(name: &str) -> NaiveDate {
    healthsim_naming::parse_name(name)
        .date
        .unwrap_or_else(|| panic!("{name} has no date"))
}

#[test]
fn readme_command_lines_run() -> TestResult {
    run_document("README.md", Database::Default)
}

#[test]
fn user_guide_command_lines_run() -> TestResult {
    run_document("docs/user-guide.md", Database::Default)
}

#[test]
fn deployment_command_lines_run_on_a_lake() -> TestResult {
    run_document("docs/deployment.md", Database::Lake)
}

#[test]
fn skill_command_lines_run() -> TestResult {
    for doc in documents().iter().filter(|d| d.starts_with("skills/")) {
        run_document(doc, Database::Default)?;
    }
    Ok(())
}

/// The database a document's commands find without `--db`.
enum Database {
    /// `HEALTHSIM_DB` unset: the default file in the temporary home folder.
    Default,
    /// `HEALTHSIM_DB` naming a new lake: a fresh database of the test's PostgreSQL, its data in
    /// the temporary home folder.
    Lake,
}

/// One command line of a block, with what it must print.
struct CommandLine {
    line: usize,
    text: String,
    expected: Vec<String>,
}

/// Runs every `sh` block of `doc`, in order, in one fresh home folder.
fn run_document(doc: &str, database: Database) -> TestResult {
    let home = tempfile::tempdir()?;
    let home = home.path();
    inputs(home)?;
    let lake = match database {
        Database::Default => None,
        Database::Lake => Some(format!(
            "ducklake:postgres:{} data_path={}/",
            healthsim_pgtest::cluster().database("docs"),
            home.join("lake").display()
        )),
    };
    let session = home.join(".mcp-session.jsonl");
    std::fs::write(&session, MCP_SESSION)?;
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    let binary = Path::new(env!("CARGO_BIN_EXE_healthsim"));
    let bin_dir = binary.parent().ok_or("the binary has no folder")?;
    let path = format!("{}:/usr/bin:/bin", bin_dir.display());
    assert!(
        Command::new("jq").arg("--version").output().is_ok(),
        "jq is needed: the user guide's scripting examples use it (Debian: apt-get install jq)"
    );

    for block in blocks(&read(doc)).into_iter().filter(|b| b.info == "sh") {
        let commands = command_lines(&block, &today);
        let mut script = String::from("set -e\nset -o pipefail\n");
        for (i, command) in commands.iter().enumerate() {
            let stdin = if command.text.trim_start().starts_with("healthsim mcp") {
                session.display().to_string()
            } else {
                "/dev/null".to_string()
            };
            writeln!(
                script,
                "printf '\\n{MARK}{i}\\n'; printf '\\n{MARK}{i}\\n' >&2\n{{\n{}\n}} < '{stdin}'",
                command.text
            )?;
        }
        writeln!(script, "printf '\\n{MARK}end\\n'")?;
        let mut shell = Command::new("bash");
        shell
            .args(["--posix", "-c", &script])
            .current_dir(home)
            .env_clear()
            .env("HOME", home)
            .env("PATH", &path)
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null());
        if let Some(lake) = &lake {
            shell.env("HEALTHSIM_DB", lake);
        }
        let out = shell.output()?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let outputs = split_by_marks(&stdout);
        let errors = split_by_marks(&stderr);
        if !out.status.success() || !outputs.contains_key("end") {
            // The last command that started is the one that failed.
            let Some(i) = (0..commands.len())
                .rev()
                .find(|i| outputs.contains_key(&i.to_string()))
            else {
                return Err(format!(
                    "{doc}:{}: the block failed before its first command ({}):\n{stderr}",
                    block.first_line, out.status
                )
                .into());
            };
            let key = i.to_string();
            return Err(format!(
                "{doc}:{}: `{}` failed ({})\nstdout:\n{}\nstderr:\n{}",
                commands[i].line,
                commands[i].text,
                out.status,
                tail(outputs.get(&key).map(String::as_str).unwrap_or_default()),
                tail(errors.get(&key).map(String::as_str).unwrap_or_default()),
            )
            .into());
        }
        for (i, command) in commands.iter().enumerate() {
            let printed = outputs
                .get(&i.to_string())
                .map(String::as_str)
                .unwrap_or_default();
            for expected in &command.expected {
                assert!(
                    printed.contains(expected.as_str()),
                    "{doc}:{}: `{}` did not print {expected:?}; it printed:\n{}",
                    command.line,
                    command.text,
                    tail(printed)
                );
            }
            if command.text.trim_start().starts_with("healthsim mcp") {
                check_mcp_answers(printed)
                    .map_err(|e| format!("{doc}:{}: `{}`: {e}", command.line, command.text))?;
            }
        }
    }
    Ok(())
}

/// A marker line the runner prints before each command, on stdout and stderr.
const MARK: &str = "@@docs-command ";

fn split_by_marks(output: &str) -> std::collections::HashMap<String, String> {
    let mut parts = std::collections::HashMap::new();
    let mut current: Option<String> = None;
    let mut text = String::new();
    for line in output.lines() {
        if let Some(key) = line.strip_prefix(MARK) {
            if let Some(previous) = current.replace(key.to_string()) {
                parts.insert(previous, std::mem::take(&mut text));
            }
            text.clear();
        } else {
            text.push_str(line);
            text.push('\n');
        }
    }
    if let Some(last) = current {
        parts.insert(last, text);
    }
    parts
}

/// The command lines of a block and the `# → TEXT` checks under each.
fn command_lines(block: &Block, today: &str) -> Vec<CommandLine> {
    let mut commands: Vec<CommandLine> = Vec::new();
    for (i, line) in block.lines.iter().enumerate() {
        let trimmed = line.trim();
        if let Some(expected) = trimmed.strip_prefix("# →") {
            let command = commands.last_mut().unwrap_or_else(|| {
                panic!(
                    "line {}: a '# →' check before any command",
                    block.first_line + i
                )
            });
            command
                .expected
                .push(expected.trim().replace("YYYYMMDD", today));
        } else if !trimmed.is_empty() && !trimmed.starts_with('#') {
            commands.push(CommandLine {
                line: block.first_line + i,
                text: line.clone(),
                expected: Vec::new(),
            });
        }
    }
    commands
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// What a client sends first: initialize, initialized, tools/list; then stdin closes.
const MCP_SESSION: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"docs-run","version":"0"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
"#;

/// The server answered initialize with its name and tools/list with the persist tool.
fn check_mcp_answers(stdout: &str) -> Result<(), String> {
    let answers: Vec<Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("stdout is not JSON-RPC lines ({e}):\n{stdout}"))?;
    let by_id = |id: u64| answers.iter().find(|a| a["id"] == id);
    let server = by_id(1).map(|a| &a["result"]["serverInfo"]["name"]);
    if server != Some(&Value::from("healthsim")) {
        return Err(format!("no initialize answer from healthsim:\n{stdout}"));
    }
    let tools = by_id(2)
        .and_then(|a| a["result"]["tools"].as_array())
        .ok_or_else(|| format!("no tools/list answer:\n{stdout}"))?;
    if !tools.iter().any(|t| t["name"] == "persist_entities") {
        return Err(format!("tools/list has no persist_entities:\n{stdout}"));
    }
    Ok(())
}

/// The files the docs' examples read as the user's own, written into `dir`: inputs made by
/// `healthsim generate` (20 persons), and FHIR files from healthsim-fhir's test data.
fn inputs(dir: &Path) -> TestResult {
    let generated = Command::new(env!("CARGO_BIN_EXE_healthsim"))
        .args(["generate", "--persons", "20", "--format", "document"])
        .env("HOME", dir)
        .env_remove("HEALTHSIM_DB")
        .output()?;
    assert!(generated.status.success(), "healthsim generate failed");
    let document: Value = serde_json::from_slice(&generated.stdout)?;
    let of_type = |entity_type: &str| -> Result<&Vec<Value>, String> {
        document[entity_type]
            .as_array()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| format!("the generator made no {entity_type}"))
    };
    // A JSON array of one type.
    for entity_type in ["patients", "claims"] {
        std::fs::write(
            dir.join(format!("{entity_type}.json")),
            serde_json::to_vec_pretty(of_type(entity_type)?)?,
        )?;
    }
    // JSON Lines of one type.
    let members: Vec<String> = of_type("members")?.iter().map(Value::to_string).collect();
    std::fs::write(dir.join("members.jsonl"), members.join("\n") + "\n")?;
    // Typed JSON Lines (the generator's default format).
    let status = Command::new(env!("CARGO_BIN_EXE_healthsim"))
        .args(["generate", "--persons", "20", "--out"])
        .arg(dir.join("cohort.jsonl"))
        .env("HOME", dir)
        .env_remove("HEALTHSIM_DB")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    assert!(status.success(), "healthsim generate --out failed");

    let fhir = root().join("crates/healthsim-fhir/tests/data/fhir");
    let copy = |from: &str, to: &str| -> TestResult {
        let to = dir.join(to);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(fhir.join(from), &to)?;
        Ok(())
    };
    // A Synthea-like output folder of bundles.
    copy(
        "transaction-bundle.json",
        "synthea/output/fhir/transaction.json",
    )?;
    // Bulk Data NDJSON files.
    for resource in ["Patient", "Encounter", "Condition"] {
        copy(
            &format!("bulk/{resource}.ndjson"),
            &format!("{resource}.ndjson"),
        )?;
    }
    // JSON files of the Python HealthSim (an export and a saved workspace).
    let legacy = root().join("crates/healthsim-persist/tests/legacy/json");
    std::fs::create_dir_all(dir.join("old-cohorts"))?;
    for file in ["exported_scenario.json", "workspace.json"] {
        std::fs::copy(legacy.join(file), dir.join("old-cohorts").join(file))?;
    }
    // More bundles, one of them with invalid resources (for --skip-invalid).
    copy("collection-bundle.json", "more-bundles/collection.json")?;
    copy("malformed/bad.ndjson", "more-bundles/bad.ndjson")?;
    Ok(())
}
