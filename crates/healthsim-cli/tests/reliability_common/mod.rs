//! Shared helpers of the reliability suites (`tests/reliability_*.rs`): running the `healthsim`
//! binary with bounded waits, killing it at a seeded random moment, generating JSON Lines input
//! with known batch boundaries, and checking a database file's integrity (the manifest
//! `scenario_entities` against `count(*)` of every canonical table, no orphan rows).
//!
//! Sizes scale with `HEALTHSIM_TEST_SCALE` (a positive integer, default 1); random schedules
//! come from `HEALTHSIM_TEST_SEED` (default fixed), printed by every suite so a failing run can
//! be repeated with the same schedule.
#![allow(dead_code)] // each test binary uses a different part of these helpers

/// The whole-database state and per-scenario contents (shared with healthsim-persist's tests).
#[path = "../../../healthsim-persist/tests/common/state.rs"]
pub(crate) mod state;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use healthsim_persist::target::Target;
use healthsim_persist::{Store, StoreOptions};
use healthsim_schema::duckdb::{params, Connection};
use healthsim_schema::{ENTITY_TYPES, SCENARIO_COLUMN};
use healthsim_synth::{write_jsonl, GeneratorConfig};
use serde_json::Value;

/// Errors of the helpers: a readable message is all a failing test needs.
pub(crate) type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// The liveness bound for one child process: a run that takes longer is a hang, and fails the
/// test. Generous on purpose (a loaded 2-core CI machine); never a performance assertion.
pub(crate) const CHILD_DEADLINE: Duration = Duration::from_secs(120);

/// `HEALTHSIM_TEST_SCALE`: multiplies trial counts and input sizes (default 1).
pub(crate) fn scale() -> usize {
    std::env::var("HEALTHSIM_TEST_SCALE")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(1)
}

/// `HEALTHSIM_TEST_SEED`, else `default`: the seed of a suite's random schedule.
pub(crate) fn seed(default: u64) -> u64 {
    std::env::var("HEALTHSIM_TEST_SEED")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(default)
}

/// SplitMix64: a tiny seeded generator for kill schedules (no dependency, same on every platform).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform duration in `[0, max]`, at microsecond resolution.
    pub(crate) fn duration_up_to(&mut self, max: Duration) -> Duration {
        let micros = u64::try_from(max.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(self.below(micros.saturating_add(1)))
    }
}

/// The binary under test.
pub(crate) fn healthsim() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_healthsim"));
    command.env_remove("HEALTHSIM_DB");
    command
}

/// `healthsim --db <db> <args...>`.
pub(crate) fn healthsim_on(db: &Path, args: &[&str]) -> Command {
    let mut command = healthsim();
    command.arg("--db").arg(db).args(args);
    command
}

/// What one finished run of the binary did.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) signal: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) elapsed: Duration,
}

impl Run {
    /// stdout as JSON (the command must have run with `--json`).
    pub(crate) fn json(&self) -> TestResult<Value> {
        serde_json::from_str(&self.stdout).map_err(|e| {
            format!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
            .into()
        })
    }

    /// This run, if it exited with `code`; else an error showing its output.
    pub(crate) fn expect_code(self, code: i32) -> TestResult<Run> {
        if self.code == Some(code) {
            Ok(self)
        } else {
            Err(format!(
                "expected exit code {code}, got {:?} (signal {:?})\nstdout:\n{}\nstderr:\n{}",
                self.code,
                self.signal,
                cut(&self.stdout, 4000),
                cut(&self.stderr, 4000)
            )
            .into())
        }
    }

    /// A failure with `code` whose stderr contains every one of `texts`.
    pub(crate) fn expect_error(self, code: i32, texts: &[&str]) -> TestResult<Run> {
        let run = self.expect_code(code)?;
        for text in texts {
            if !run.stderr.contains(text) {
                return Err(format!(
                    "stderr does not mention {text:?}:\n{}",
                    cut(&run.stderr, 4000)
                )
                .into());
            }
        }
        Ok(run)
    }
}

/// At most `max` bytes of `text` (on a char boundary), for messages.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// Runs `command` to completion with `stdin` (or none), capturing its output. Fails if it has
/// not finished after [`CHILD_DEADLINE`] (the child is killed then).
pub(crate) fn run(mut command: Command, stdin: Option<&[u8]>) -> TestResult<Run> {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = command.spawn()?;
    let feeder = match (stdin, child.stdin.take()) {
        (Some(bytes), Some(mut pipe)) => {
            let bytes = bytes.to_vec();
            // A child that fails early closes stdin: a broken pipe here is not the test's failure.
            Some(std::thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            }))
        }
        _ => None,
    };
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_until(&mut child, start + CHILD_DEADLINE)?;
    if let Some(feeder) = feeder {
        let _ = feeder.join();
    }
    let stdout = stdout.join().map_err(|_| "stdout reader panicked")?;
    let stderr = stderr.join().map_err(|_| "stderr reader panicked")?;
    let Some(status) = status else {
        return Err(format!(
            "{command:?} did not finish within {CHILD_DEADLINE:?} (killed)\nstderr:\n{}",
            cut(&String::from_utf8_lossy(&stderr), 4000)
        )
        .into());
    };
    Ok(Run {
        code: status.code(),
        signal: status.signal(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        elapsed: start.elapsed(),
    })
}

/// Waits for `child` until `deadline`; kills it and returns `None` when it is still running then.
pub(crate) fn wait_until(child: &mut Child, deadline: Instant) -> TestResult<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// How a run that was to be killed ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum KillOutcome {
    /// SIGKILL arrived while it ran.
    Killed,
    /// It had finished before the kill; its exit code.
    Finished(i32),
}

/// Starts `command` (output discarded) and sends it SIGKILL after `after`, unless it has
/// finished by then. Returns how it ended and when (from the spawn). Fails if it neither
/// finished nor died within [`CHILD_DEADLINE`].
pub(crate) fn run_and_kill(
    mut command: Command,
    after: Duration,
) -> TestResult<(KillOutcome, Duration)> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let start = Instant::now();
    let mut child = command.spawn()?;
    let kill_at = start + after;
    loop {
        if let Some(status) = child.try_wait()? {
            // Ended before the test's kill: by itself, with an exit code, or it crashed.
            return match finished(status)? {
                KillOutcome::Killed => {
                    Err(format!("{command:?} was killed before the test sent SIGKILL").into())
                }
                outcome => Ok((outcome, start.elapsed())),
            };
        }
        let now = Instant::now();
        if now >= kill_at {
            break;
        }
        std::thread::sleep((kill_at - now).min(Duration::from_millis(2)));
    }
    // Child::kill is SIGKILL on Unix. If the child exited in between, it is a zombie until
    // waited for, so the signal is harmless and the status below tells what happened.
    child.kill()?;
    let at = start.elapsed();
    match wait_until(&mut child, start + CHILD_DEADLINE)? {
        Some(status) => Ok((finished(status)?, at)),
        None => Err(format!("{command:?} survived SIGKILL").into()),
    }
}

/// The time scale of a command's uninterrupted run, for drawing kill moments: the calibration
/// run's duration, pulled towards the duration of every run that finished before its kill (the
/// machine's load changes during a suite).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunTime(pub(crate) Duration);

impl RunTime {
    /// A trial ended: learn from it if it ran to completion.
    pub(crate) fn observe(&mut self, outcome: KillOutcome, elapsed: Duration) {
        if matches!(outcome, KillOutcome::Finished(0)) {
            self.0 = (self.0 + elapsed) / 2;
        }
    }
}

/// How a child ended: an exit code, or the test's SIGKILL. Any other signal (SIGSEGV,
/// SIGABRT, ...) is a crash of the program itself, never counted as the test's kill.
fn finished(status: ExitStatus) -> TestResult<KillOutcome> {
    match (status.code(), status.signal()) {
        (Some(code), _) => Ok(KillOutcome::Finished(code)),
        (None, Some(SIGKILL)) => Ok(KillOutcome::Killed),
        (_, signal) => Err(format!(
            "the child died by signal {signal:?}, not by the test's SIGKILL: a crash of its own"
        )
        .into()),
    }
}

/// SIGKILL's number (9 on every Unix, POSIX fixes it).
const SIGKILL: i32 = 9;

// ------------------------------------------------------------------------------------ results

/// `HEALTHSIM_RESULTS_DIR`: where the crash suite writes what its runs found
/// (`reliability-<name>.json`), for docs/results/ and `cargo xtask docs`. Unset: nothing written.
pub(crate) const RESULTS_DIR_VAR: &str = "HEALTHSIM_RESULTS_DIR";

/// Writes `results` with the date, commit, CPU and scale of this run to
/// `$HEALTHSIM_RESULTS_DIR/reliability-<name>.json`, when the variable is set.
pub(crate) fn record_results(name: &str, results: &impl serde::Serialize) -> TestResult {
    let Ok(dir) = std::env::var(RESULTS_DIR_VAR) else {
        return Ok(());
    };
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".to_string());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    let document = serde_json::json!({
        "suite": format!("reliability_crash/{name}"),
        "date": chrono::Utc::now().format("%Y-%m-%d").to_string(),
        "commit": commit,
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "scale": scale(),
        "seed": std::env::var("HEALTHSIM_TEST_SEED").ok(),
        "results": results,
    });
    let path = Path::new(&dir).join(format!("reliability-{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&document)? + "\n")
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(())
}

// ------------------------------------------------------------------------------------ input

/// One generated entity: its table and primary key.
pub(crate) type Key = (String, String);

/// A JSON Lines input file and the key of each of its lines, in order.
pub(crate) struct JsonlInput {
    pub(crate) path: PathBuf,
    pub(crate) keys: Vec<Key>,
}

impl JsonlInput {
    /// The keys of the first `batches` batches of `batch_size` lines.
    pub(crate) fn prefix(&self, batches: usize, batch_size: usize) -> BTreeSet<Key> {
        let end = batches.saturating_mul(batch_size).min(self.keys.len());
        self.keys[..end].iter().cloned().collect()
    }

    /// How many batches of `batch_size` the input makes.
    pub(crate) fn batch_count(&self, batch_size: usize) -> usize {
        self.keys.len().div_ceil(batch_size)
    }
}

/// The primary-key column of a canonical table.
pub(crate) fn primary_key(table: &str) -> TestResult<&'static str> {
    Ok(healthsim_schema::by_table(table)
        .ok_or_else(|| format!("unknown table {table}"))?
        .primary_key)
}

/// Writes the synthetic generator's JSON Lines (`persons`, `seed`), keeping only lines of
/// `tables` (all when empty) and at most `max_entities` of them, to `path`. Every key is unique.
pub(crate) fn generate_jsonl(
    path: &Path,
    persons: usize,
    seed: u64,
    tables: &[&str],
    max_entities: usize,
) -> TestResult<JsonlInput> {
    let mut all = Vec::new();
    write_jsonl(
        GeneratorConfig {
            persons,
            seed,
            ..GeneratorConfig::default()
        },
        &mut all,
    )?;
    let mut out = Vec::with_capacity(all.len());
    let mut keys = Vec::new();
    for line in all.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        if keys.len() >= max_entities {
            break;
        }
        let value: Value = serde_json::from_slice(line)?;
        let table = value["type"].as_str().ok_or("line without type")?;
        if !tables.is_empty() && !tables.contains(&table) {
            continue;
        }
        let id = value["entity"][primary_key(table)?]
            .as_str()
            .ok_or_else(|| format!("{table} line without a string id"))?;
        keys.push((table.to_string(), id.to_string()));
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    let distinct: BTreeSet<&Key> = keys.iter().collect();
    if distinct.len() != keys.len() {
        return Err("the generator repeated an id; the batch checks assume unique keys".into());
    }
    std::fs::write(path, out)?;
    Ok(JsonlInput {
        path: path.to_path_buf(),
        keys,
    })
}

// ------------------------------------------------------------------------------------ database

/// Opens the database the way the CLI does (creating, migrating, replaying the WAL), waiting
/// up to 60 s for its lock. `db` is a file, or a lake named by its `ducklake:` string as
/// `--db` takes it.
pub(crate) fn open_store(db: &Path) -> TestResult<Store> {
    let target = match db.to_str() {
        Some(text) => Target::parse(text)?,
        None => Target::File(db.to_path_buf()),
    };
    Ok(Store::open_target(
        target,
        StoreOptions {
            lock_timeout: Duration::from_secs(60),
            ..StoreOptions::default()
        },
    )?)
}

/// Runs `f` on the store's connection; `f`'s own errors come back as messages.
pub(crate) fn inspect<T>(
    store: &Store,
    f: impl FnOnce(&Connection) -> Result<T, String>,
) -> TestResult<T> {
    Ok(store.with_reader(|conn| Ok(f(conn)))??)
}

fn sql_err(context: &str) -> impl Fn(healthsim_schema::duckdb::Error) -> String + '_ {
    move |e| format!("{context}: {e}")
}

/// The id of the scenario named exactly `name`.
pub(crate) fn scenario_id(conn: &Connection, name: &str) -> Result<Option<String>, String> {
    let mut stmt = conn
        .prepare("SELECT scenario_id FROM scenarios WHERE name = ?")
        .map_err(sql_err("preparing the scenario lookup"))?;
    let ids = stmt
        .query_map(params![name], |row| row.get::<_, String>(0))
        .map_err(sql_err("looking up a scenario"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql_err("reading scenario ids"))?;
    match ids.as_slice() {
        [] => Ok(None),
        [id] => Ok(Some(id.clone())),
        _ => Err(format!("{} scenarios are named {name}", ids.len())),
    }
}

/// Every (table, id) of a scenario, over the canonical tables (one query).
pub(crate) fn entity_keys(conn: &Connection, scenario_id: &str) -> Result<BTreeSet<Key>, String> {
    let sql = ENTITY_TYPES
        .iter()
        .map(|t| {
            format!(
                "SELECT '{table}' AS t, {pk} AS id FROM {table} WHERE {SCENARIO_COLUMN} = $1",
                pk = t.primary_key,
                table = t.table
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let mut stmt = conn.prepare(&sql).map_err(sql_err("reading entity keys"))?;
    let keys = stmt
        .query_map(params![scenario_id], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(sql_err("reading entity keys"))?
        .collect::<Result<BTreeSet<_>, _>>()
        .map_err(sql_err("reading entity keys"))?;
    Ok(keys)
}

/// Tags of a scenario, sorted.
pub(crate) fn tags(conn: &Connection, scenario_id: &str) -> Result<Vec<String>, String> {
    let mut stmt = conn
        .prepare("SELECT tag FROM scenario_tags WHERE scenario_id = ? ORDER BY tag")
        .map_err(sql_err("reading tags"))?;
    let tags = stmt
        .query_map(params![scenario_id], |row| row.get::<_, String>(0))
        .map_err(sql_err("reading tags"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql_err("reading tags"))?;
    Ok(tags)
}

fn scenario_table_counts(
    conn: &Connection,
    sql: &str,
) -> Result<BTreeMap<(String, String), i64>, String> {
    let mut stmt = conn.prepare(sql).map_err(sql_err(sql))?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                (row.get::<_, String>(0)?, row.get::<_, String>(1)?),
                row.get::<_, i64>(2)?,
            ))
        })
        .map_err(sql_err(sql))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql_err(sql))?;
    Ok(rows.into_iter().collect())
}

/// The integrity every committed state must have, whatever was interrupted:
/// - `scenario_entities` holds, per (scenario, type), exactly `count(*)` of that table;
/// - no canonical row, manifest row or tag belongs to a scenario that does not exist.
///
/// Returns the entity count per scenario id.
pub(crate) fn check_integrity(conn: &Connection) -> Result<BTreeMap<String, i64>, String> {
    let scenarios: BTreeSet<String> = {
        let mut stmt = conn
            .prepare("SELECT scenario_id FROM scenarios")
            .map_err(sql_err("listing scenarios"))?;
        let ids = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(sql_err("listing scenarios"))?
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(sql_err("listing scenarios"))?;
        ids
    };
    let manifest = scenario_table_counts(
        conn,
        "SELECT scenario_id, entity_type, entity_count FROM scenario_entities",
    )?;
    let actual = scenario_table_counts(
        conn,
        &ENTITY_TYPES
            .iter()
            .map(|t| {
                format!(
                    "SELECT {SCENARIO_COLUMN}, '{table}', count(*) FROM {table} GROUP BY ALL",
                    table = t.table
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL "),
    )?;
    let mut problems = Vec::new();
    for ((scenario, table), n) in &actual {
        if !scenarios.contains(scenario) {
            problems.push(format!("{n} {table} rows of missing scenario {scenario}"));
        }
        let listed = manifest.get(&(scenario.clone(), table.clone())).copied();
        if listed != Some(*n) {
            problems.push(format!(
                "scenario {scenario}: {table} has {n} rows, scenario_entities says {listed:?}"
            ));
        }
    }
    for ((scenario, table), n) in &manifest {
        if !scenarios.contains(scenario) {
            problems.push(format!(
                "scenario_entities row for missing scenario {scenario}"
            ));
        }
        if *n != 0 && !actual.contains_key(&(scenario.clone(), table.clone())) {
            problems.push(format!(
                "scenario {scenario}: scenario_entities says {n} {table}, the table has none"
            ));
        }
    }
    let tagged = scenario_table_counts(
        conn,
        "SELECT scenario_id, '', count(*) FROM scenario_tags GROUP BY ALL",
    )?;
    for (scenario, _) in tagged.keys() {
        if !scenarios.contains(scenario) {
            problems.push(format!("tags of missing scenario {scenario}"));
        }
    }
    if !problems.is_empty() {
        return Err(format!("integrity broken:\n  {}", problems.join("\n  ")));
    }
    let mut per_scenario: BTreeMap<String, i64> = scenarios.into_iter().map(|s| (s, 0)).collect();
    for ((scenario, _), n) in actual {
        *per_scenario.entry(scenario).or_default() += n;
    }
    Ok(per_scenario)
}

// ------------------------------------------------------------------------------------ MCP

/// A client of one `healthsim mcp` child process.
pub(crate) type McpClient = rmcp::service::RunningService<rmcp::RoleClient, ()>;

/// The liveness bound of one MCP tool call (a lock wait, a timed-out query, ...).
pub(crate) const CALL_DEADLINE: Duration = Duration::from_secs(120);

/// Starts `healthsim --db <db> --lock-timeout <secs> mcp` and connects a client.
pub(crate) async fn connect_mcp(db: &Path, lock_timeout_secs: u64) -> TestResult<McpClient> {
    Ok(connect_mcp_with_pid(db, lock_timeout_secs).await?.0)
}

/// [`connect_mcp`], with the server's process id (for a test that kills it).
pub(crate) async fn connect_mcp_with_pid(
    db: &Path,
    lock_timeout_secs: u64,
) -> TestResult<(McpClient, u32)> {
    use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
    use rmcp::ServiceExt;
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_healthsim")).configure(|cmd| {
        cmd.env_remove("HEALTHSIM_DB")
            .arg("--db")
            .arg(db)
            .arg("--lock-timeout")
            .arg(lock_timeout_secs.to_string())
            .arg("mcp");
    });
    let transport = TokioChildProcess::new(command)?;
    let pid = transport.id().ok_or("the MCP server has no process id")?;
    let client = tokio::time::timeout(CALL_DEADLINE, ().serve(transport)).await??;
    Ok((client, pid))
}

/// How one tool call ended: its structured result, or the tool error's text.
pub(crate) async fn call_tool(
    client: &McpClient,
    tool: &str,
    args: Value,
) -> TestResult<Result<Value, String>> {
    use rmcp::model::CallToolRequestParams;
    let Value::Object(args) = args else {
        return Err("tool arguments must be an object".into());
    };
    let request = CallToolRequestParams::new(tool.to_string()).with_arguments(args);
    let result = tokio::time::timeout(CALL_DEADLINE, client.call_tool(request))
        .await
        .map_err(|_| format!("{tool} did not answer within {CALL_DEADLINE:?}"))??;
    let text = result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default();
    if result.is_error == Some(true) {
        return Ok(Err(text));
    }
    result
        .structured_content
        .map(Ok)
        .ok_or_else(|| format!("{tool} returned no structured content: {text}").into())
}

/// A tool call that must succeed.
pub(crate) async fn tool_ok(client: &McpClient, tool: &str, args: Value) -> TestResult<Value> {
    call_tool(client, tool, args)
        .await?
        .map_err(|e| format!("{tool} failed: {e}").into())
}

/// A tool call that must fail; the error's text.
pub(crate) async fn tool_err(client: &McpClient, tool: &str, args: Value) -> TestResult<String> {
    match call_tool(client, tool, args).await? {
        Ok(value) => Err(format!(
            "{tool} should have failed, got {}",
            cut(&value.to_string(), 2000)
        )
        .into()),
        Err(text) => Ok(text),
    }
}
