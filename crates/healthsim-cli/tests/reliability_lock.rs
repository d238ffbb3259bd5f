//! The single-writer file lock (ARCHITECTURE.md, "The agent's contract": "two processes on one
//! database file do not fail on the DuckDB file lock: they wait, bounded, or report clearly").
//!
//! - Four writers on one file and one scenario at once: two CLI loops (`healthsim persist`, one
//!   feeding stdin, one temp files) and two `healthsim mcp` servers driven by real MCP clients.
//!   Every call must succeed (a call that meets the lock waits within `--lock-timeout`), and the
//!   scenario must end up with exactly every entity sent, its manifest consistent.
//! - A writer that cannot get the lock within a short `--lock-timeout` fails with exit code 1
//!   (CLI) or a tool error (MCP) saying what holds the file and what to do, writes nothing, and
//!   works once the lock is free; an MCP server gives the file back when idle.
//!
//! - A writer started while the test holds the file reaches the lock's wait loop (shown with
//!   the crash point `lock.busy`), is still waiting when the file is released, and its rows are
//!   written after the release.
//! - Three writers upsert the same 40 ids into one scenario at once: each id ends up exactly
//!   once, each row whole as one writer's version, one insert per id over all calls, and the
//!   manifest equal to the table's count.
//!
//! Sizes: 10 calls of 50 entities per writer (2,000 entities), × `HEALTHSIM_TEST_SCALE`
//! (scale 5 = 50 calls per writer, 10,000 entities).

mod reliability_common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reliability_common::state::db_state;
use reliability_common::{
    call_tool, check_integrity, connect_mcp, entity_keys, healthsim_on, inspect, open_store, run,
    scale, scenario_id, tool_ok, Key, TestResult,
};
use serde_json::{json, Value};

const CALLS: usize = 10;
const PER_CALL: usize = 50;
/// The writers' lock timeout: far beyond any wait on a loaded machine; a call that still
/// fails reports `DatabaseLocked` and fails the test.
const LOCK_TIMEOUT: &str = "120";
const SCENARIO: &str = "shared-by-four";

fn patients(writer: &str, call: usize) -> Vec<Value> {
    (0..PER_CALL)
        .map(|i| {
            json!({
                "patient_id": format!("{writer}-{call:03}-{i:02}"),
                "given_name": format!("Given{i}"),
                "family_name": writer,
                "birth_date": format!("19{:02}-0{}-1{}", 30 + i, 1 + i % 9, i % 10),
                "gender": if i % 2 == 0 { "female" } else { "male" },
                "state": "AZ",
            })
        })
        .collect()
}

fn expected_keys(writer: &str, calls: usize) -> impl Iterator<Item = Key> + '_ {
    (0..calls).flat_map(move |call| {
        patients(writer, call).into_iter().map(|p| {
            (
                "patients".to_string(),
                p["patient_id"].as_str().unwrap_or_default().to_string(),
            )
        })
    })
}

/// One CLI writer: `calls` runs of `healthsim persist` into the shared scenario, through stdin
/// or through a temp file. Returns the slowest call's duration (for the report).
fn cli_writer(
    db: PathBuf,
    dir: PathBuf,
    writer: &'static str,
    calls: usize,
    stdin: bool,
) -> TestResult<Duration> {
    let mut slowest = Duration::ZERO;
    for call in 0..calls {
        let body = serde_json::to_vec(&patients(writer, call))?;
        let file = dir.join(format!("{writer}-{call}.json"));
        let source = if stdin {
            "-".to_string()
        } else {
            std::fs::write(&file, &body)?;
            file.to_str().ok_or("non-UTF-8 temp path")?.to_string()
        };
        let command = persist_into_scenario(&db, &source);
        let done = run(command, stdin.then_some(body.as_slice()))?
            .expect_code(0)
            .map_err(|e| format!("{writer} call {call}: {e}"))?;
        let report = done.json()?;
        if report["total_persisted"] != PER_CALL || report["failed_batches"] != json!([]) {
            return Err(format!("{writer} call {call}: {report}").into());
        }
        slowest = slowest.max(done.elapsed);
    }
    Ok(slowest)
}

/// One MCP writer: a server and a client making `calls` persist_entities calls.
async fn mcp_writer(db: PathBuf, writer: &'static str, calls: usize) -> TestResult<Duration> {
    let client = connect_mcp(&db, LOCK_TIMEOUT.parse()?).await?;
    let mut slowest = Duration::ZERO;
    for call in 0..calls {
        let start = Instant::now();
        let result = call_tool(
            &client,
            "persist_entities",
            json!({
                "entity_type": "patients",
                "entities": patients(writer, call),
                "scenario_id": SCENARIO,
            }),
        )
        .await?
        .map_err(|e| format!("{writer} call {call} failed: {e}"))?;
        if result["total_persisted"] != PER_CALL || result["scenario_name"] != SCENARIO {
            return Err(format!("{writer} call {call}: {result}").into());
        }
        slowest = slowest.max(start.elapsed());
    }
    client.cancel().await?;
    Ok(slowest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_writers_share_one_file_without_losing_a_call() -> TestResult {
    let calls = CALLS * scale();
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("shared.duckdb");
    // The scenario exists before the writers start.
    seed_scenario(&db)?;

    let started = Instant::now();
    let cli_stdin = {
        let (db, dir) = (db.clone(), dir.path().to_path_buf());
        tokio::task::spawn_blocking(move || {
            cli_writer(db, dir, "cli-stdin", calls, true).map_err(|e| e.to_string())
        })
    };
    let cli_file = {
        let (db, dir) = (db.clone(), dir.path().to_path_buf());
        tokio::task::spawn_blocking(move || {
            cli_writer(db, dir, "cli-file", calls, false).map_err(|e| e.to_string())
        })
    };
    let mcp_a = tokio::spawn({
        let db = db.clone();
        async move {
            mcp_writer(db, "mcp-a", calls)
                .await
                .map_err(|e| e.to_string())
        }
    });
    let mcp_b = tokio::spawn({
        let db = db.clone();
        async move {
            mcp_writer(db, "mcp-b", calls)
                .await
                .map_err(|e| e.to_string())
        }
    });
    let (a, b, c, d) = tokio::join!(cli_stdin, cli_file, mcp_a, mcp_b);
    let slowest = [a??, b??, c??, d??];
    eprintln!(
        "4 writers × {calls} calls × {PER_CALL} entities in {:?}; slowest call per writer \
         (cli-stdin, cli-file, mcp-a, mcp-b): {slowest:?}",
        started.elapsed()
    );

    let mut expected: BTreeSet<Key> = ["cli-stdin", "cli-file", "mcp-a", "mcp-b"]
        .into_iter()
        .flat_map(|w| expected_keys(w, calls))
        .collect();
    expected.insert(("patients".to_string(), "seed".to_string()));
    let store = open_store(&db)?;
    let (counts, keys) = inspect(&store, |conn| {
        let counts = check_integrity(conn)?;
        let id = scenario_id(conn, SCENARIO)?.ok_or("the scenario is gone")?;
        Ok((counts, entity_keys(conn, &id)?))
    })?;
    assert_eq!(counts.len(), 1, "no other scenario was created: {counts:?}");
    assert_eq!(keys.len(), expected.len(), "entities in the scenario");
    assert_eq!(keys, expected);
    let summary = store.scenario_summary(
        SCENARIO,
        &healthsim_persist::SummaryOptions::without_samples(),
    )?;
    assert_eq!(summary.total_entities, expected.len() as u64);
    Ok(())
}

/// The lock-timeout message: what happened, who holds the file, what to do.
fn assert_locked_message(text: &str, db: &Path) {
    for part in [
        format!(
            "database {} is in use by another healthsim process",
            db.display()
        ),
        "waited".to_string(),
        "Retry in a moment, close the other process, or raise --lock-timeout".to_string(),
        // DuckDB names the holder: this test process.
        format!("PID {}", std::process::id()),
    ] {
        assert!(text.contains(&part), "{part:?} missing from:\n{text}");
    }
}

#[test]
fn a_cli_call_that_cannot_get_the_lock_fails_clearly_and_writes_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("held.duckdb");
    let holder = open_store(&db)?; // this process holds the file
    let before = inspect(&holder, db_state)?;
    let persist = || {
        healthsim_on(
            &db,
            &[
                "--lock-timeout",
                "1",
                "persist",
                "--name",
                "blocked",
                "--type",
                "patients",
                "-",
            ],
        )
    };
    let failed = run(persist(), Some(br#"[{"patient_id": "p1"}]"#))?.expect_code(1)?;
    assert_locked_message(&failed.stderr, &db);
    assert!(
        failed.stdout.is_empty(),
        "stdout on error: {}",
        failed.stdout
    );
    // Reads wait for the same lock.
    let list = run(healthsim_on(&db, &["--lock-timeout", "0", "list"]), None)?.expect_code(1)?;
    assert_locked_message(&list.stderr, &db);

    drop(holder);
    let store = open_store(&db)?;
    before.expect_same(&inspect(&store, db_state)?, "the calls that met the lock")?;
    drop(store);
    // Once the file is free, the same call works.
    run(persist(), Some(br#"[{"patient_id": "p1"}]"#))?.expect_code(0)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_call_that_cannot_get_the_lock_is_a_tool_error_and_the_server_recovers() -> TestResult
{
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("held-mcp.duckdb");
    let client = connect_mcp(&db, 1).await?;
    let holder = open_store(&db)?;
    let args = json!({
        "entity_type": "patients",
        "entities": [{"patient_id": "p1"}],
        "scenario_name": "from-mcp",
    });
    let error = call_tool(&client, "persist_entities", args.clone())
        .await?
        .err()
        .ok_or("persist_entities succeeded while the file was held")?;
    assert_locked_message(&error, &db);
    drop(holder);
    // The same server, the same call: it opens the file now.
    let done = tool_ok(&client, "persist_entities", args).await?;
    assert_eq!(done["scenario_name"], "from-mcp");

    // Idle, the server gives the file back: a CLI call that does not wait at all gets through
    // within a bounded time (the server releases after about a second without calls).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let attempt = run(
            healthsim_on(&db, &["--lock-timeout", "0", "--json", "list"]),
            None,
        )?;
        if attempt.code == Some(0) {
            assert_eq!(attempt.json()?["count"], 1);
            break;
        }
        assert!(
            attempt
                .stderr
                .contains("is in use by another healthsim process"),
            "{}",
            attempt.stderr
        );
        assert!(
            Instant::now() < deadline,
            "the idle server never released the file"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // ... and takes it again on the next call.
    let listed = tool_ok(&client, "list_scenarios", json!({})).await?;
    assert_eq!(listed["count"], 1);
    client.cancel().await?;
    Ok(())
}

/// Creates the scenario the writers share, holding one seed patient.
fn seed_scenario(db: &Path) -> TestResult {
    run(
        healthsim_on(
            db,
            &["persist", "--name", SCENARIO, "--type", "patients", "-"],
        ),
        Some(br#"[{"patient_id": "seed"}]"#),
    )?
    .expect_code(0)?;
    Ok(())
}

/// `healthsim --lock-timeout 120 --json persist --scenario <SCENARIO> --type patients <source>`.
fn persist_into_scenario(db: &Path, source: &str) -> std::process::Command {
    healthsim_on(
        db,
        &[
            "--lock-timeout",
            LOCK_TIMEOUT,
            "--json",
            "persist",
            "--scenario",
            SCENARIO,
            "--type",
            "patients",
            source,
        ],
    )
}

/// `healthsim --lock-timeout 120 persist --name <name> --type patients -` with one patient.
fn persist_one(db: &Path, name: &str) -> std::process::Command {
    let mut command = healthsim_on(
        db,
        &[
            "--lock-timeout",
            LOCK_TIMEOUT,
            "persist",
            "--name",
            name,
            "--type",
            "patients",
            "-",
        ],
    );
    command.stdin(std::process::Stdio::piped());
    command
}

/// Starts `command` with `body` on stdin.
fn spawn_with(mut command: std::process::Command, body: &[u8]) -> TestResult<std::process::Child> {
    use std::io::Write;
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn()?;
    child.stdin.take().ok_or("no stdin")?.write_all(body)?;
    Ok(child)
}

// Regression (issue 21, finding 7): the four-writer test passed whether or not any writer ever
// met the lock. Here the order is asserted: a writer started while the file is held reaches the
// lock's wait loop, is still waiting when the file is released, and writes only after that.
#[test]
fn a_writer_that_meets_the_lock_waits_and_writes_after_the_release() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("waited.duckdb");
    let body = br#"[{"patient_id": "w1"}]"#;
    let holder = open_store(&db)?;

    // 1. A writer started now meets the lock: with the crash point `lock.busy` it dies there.
    let mut probe = persist_one(&db, "probe");
    probe.env(healthsim_schema::crash::CRASH_AT_VAR, "lock.busy");
    let probe = spawn_with(probe, body)?.wait_with_output()?;
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&probe.status),
        Some(9),
        "a writer started while the file is held did not reach the lock's wait loop: {:?} {}",
        probe.status,
        String::from_utf8_lossy(&probe.stderr)
    );

    // 2. The same writer without the hook: it must still be running (waiting) when the holder
    //    lets go, and its rows are written after that moment.
    let mut waiter = spawn_with(persist_one(&db, "waiter"), body)?;
    let holding_until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < holding_until {
        if let Some(status) = waiter.try_wait()? {
            return Err(format!("the writer ended while the file was held: {status:?}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let released_at = chrono::Utc::now().timestamp_micros();
    let still_waiting = waiter.try_wait()?.is_none();
    drop(holder);
    assert!(still_waiting, "the writer finished before the release");
    let output = waiter.wait_with_output()?;
    assert!(
        output.status.success(),
        "the waiting writer failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let store = open_store(&db)?;
    let (written_at, probe_found) = inspect(&store, |conn| {
        check_integrity(conn)?;
        let id = scenario_id(conn, "waiter")?.ok_or("the waiting writer wrote nothing")?;
        let written_at: i64 = conn
            .query_row(
                "SELECT epoch_us(min(created_at)) FROM patients WHERE scenario_id = ?",
                [&id],
                |row| row.get(0),
            )
            .map_err(|e| e.to_string())?;
        Ok((written_at, scenario_id(conn, "probe")?))
    })?;
    assert!(
        written_at >= released_at,
        "the writer's rows (at {written_at} µs) predate the release ({released_at} µs)"
    );
    assert_eq!(probe_found, None, "the killed probe wrote something");
    Ok(())
}

/// The version of shared patient `i` that `writer` sends in `call`: every column depends on
/// both, so a row mixing two versions is visible.
fn shared_version(writer: &str, call: usize, i: usize) -> Value {
    json!({
        "patient_id": format!("shared-{i:03}"),
        "given_name": format!("{writer}"),
        "family_name": format!("{writer}-call-{call}"),
        "birth_date": format!("19{:02}-0{}-1{}", 30 + call, 1 + i % 9, call % 10),
        "state": if writer.ends_with('a') { "AZ" } else { "NM" },
    })
}

const SHARED_IDS: usize = 40;

// Regression (issue 21, finding 7): concurrent writers never sent the same ids, so an upsert
// race (a lost update, a duplicated key, a row mixing two versions, a manifest counting an
// update as an insert) could not show.
#[test]
fn concurrent_upserts_of_overlapping_ids_keep_each_id_once_with_one_writers_version() -> TestResult
{
    let calls = 4 * scale();
    let writers = ["writer-a", "writer-b", "writer-c"];
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("upserts.duckdb");
    seed_scenario(&db)?;
    let threads: Vec<_> = writers
        .into_iter()
        .map(|writer| {
            let db = db.clone();
            std::thread::spawn(move || -> Result<u64, String> {
                let mut inserted_total = 0;
                for call in 0..calls {
                    // Each call sends every shared id, in a writer-specific order.
                    let mut entities: Vec<Value> = (0..SHARED_IDS)
                        .map(|i| shared_version(writer, call, i))
                        .collect();
                    if writer.ends_with('b') {
                        entities.reverse();
                    }
                    let body = serde_json::to_vec(&entities).map_err(|e| e.to_string())?;
                    let command = persist_into_scenario(&db, "-");
                    let done = run(command, Some(&body))
                        .and_then(|r| r.expect_code(0))
                        .map_err(|e| format!("{writer} call {call}: {e}"))?;
                    let report = done.json().map_err(|e| e.to_string())?;
                    let counts = &report["counts"]["patients"];
                    let (inserted, updated) =
                        (counts["inserted"].as_u64(), counts["updated"].as_u64());
                    if inserted.zip(updated).map(|(i, u)| i + u) != Some(SHARED_IDS as u64) {
                        return Err(format!("{writer} call {call}: {report}"));
                    }
                    inserted_total += inserted.unwrap_or_default();
                }
                Ok(inserted_total)
            })
        })
        .collect();
    let mut inserted = 0;
    for thread in threads {
        inserted += thread.join().map_err(|_| "a writer thread panicked")??;
    }
    // Over all calls, each shared id was inserted once and updated every other time.
    assert_eq!(
        inserted, SHARED_IDS as u64,
        "inserts reported over all calls"
    );

    let store = open_store(&db)?;
    let rows = inspect(&store, |conn| {
        let counts = check_integrity(conn)?; // manifest == count(*) per table
        if counts.len() != 1 {
            return Err(format!("other scenarios appeared: {counts:?}"));
        }
        let id = scenario_id(conn, SCENARIO)?.ok_or("the scenario is gone")?;
        let mut stmt = conn
            .prepare(
                "SELECT patient_id, given_name, family_name, CAST(birth_date AS VARCHAR), state \
                 FROM patients WHERE scenario_id = ? AND patient_id <> 'seed' ORDER BY patient_id",
            )
            .map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map([&id], |row| {
                Ok([
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                ])
            })
            .map_err(|e| e.to_string())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        Ok(rows)
    })?;
    // Each id exactly once.
    let ids: BTreeSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(rows.len(), SHARED_IDS, "rows of shared ids");
    assert_eq!(ids.len(), SHARED_IDS, "distinct shared ids");
    // Each row is, whole, one version some writer sent.
    for row in &rows {
        let i: usize = row[0]
            .strip_prefix("shared-")
            .and_then(|n| n.parse().ok())
            .ok_or("unexpected id")?;
        let whole_version = writers.iter().any(|writer| {
            (0..calls).any(|call| {
                let v = shared_version(writer, call, i);
                [
                    &v["patient_id"],
                    &v["given_name"],
                    &v["family_name"],
                    &v["birth_date"],
                    &v["state"],
                ]
                .iter()
                .zip(row)
                .all(|(sent, stored)| sent.as_str() == Some(stored.as_str()))
            })
        });
        assert!(whole_version, "row {row:?} is no writer's version");
    }
    // The scenario's total is the seed plus one row per shared id.
    let summary = store.scenario_summary(
        SCENARIO,
        &healthsim_persist::SummaryOptions::without_samples(),
    )?;
    assert_eq!(summary.total_entities, SHARED_IDS as u64 + 1);
    Ok(())
}
