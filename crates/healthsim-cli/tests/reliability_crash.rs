//! Crash safety (ARCHITECTURE.md, "The agent's contract": "a persist interrupted at any point, even
//! kill -9, leaves the database openable with the batch either fully present or absent").
//!
//! Each suite starts the real `healthsim` binary on a database file and sends it SIGKILL after a
//! seeded random delay drawn from `[0, 1.2 × the duration of one uninterrupted run]`, then
//! reopens the file with `Store::open` (which replays DuckDB's WAL and migrates) and checks:
//! - the file opens, and its integrity holds (`scenario_entities` equals `count(*)` of every
//!   canonical table for every scenario; no row, manifest entry or tag of a missing scenario);
//! - persist: the scenario is absent, or holds exactly the keys of the first k batches of the
//!   input for some k (every committed batch whole, the interrupted one entirely absent);
//! - delete: the scenario is entirely there (every key, its tags) or entirely gone;
//! - clone / merge / import: the new scenario is absent or complete (same keys as an
//!   uninterrupted run);
//! - migrate: a fresh database file is absent or complete at the head version (it is built under
//!   a temporary name and linked into place), reopening or creating it works, leaves no
//!   temporary file, and gives a catalog identical to a cleanly created database;
//! - earlier scenarios of the same file are never touched by a later crash.
//!
//! Sizes: 1,000 input entities of 3 types (persist: 10 transactions of 100); 20 trials of
//! persist and migrate, 10 of delete, clone, merge and import. `HEALTHSIM_TEST_SCALE=n`
//! multiplies entities and trials by n, with batches of max(100, 50 × n) entities (scale 20:
//! 20,000 entities in 20 batches of 1,000, 400 persist trials). `HEALTHSIM_TEST_SEED` changes the
//! kill schedule. Each suite prints how its kills landed (committed batches per trial,
//! present/absent counts, schema versions), so a run that missed the interesting window shows.

mod reliability_common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use healthsim_persist::{
    CloneOptions, ExportFormat, ExportOptions, PersistRequest, ScenarioTarget,
};
use reliability_common::{
    check_integrity, entity_keys, generate_jsonl, healthsim_on, inspect, open_store, run,
    run_and_kill, scale, scenario_id, seed, tags, JsonlInput, Key, KillOutcome, Rng, RunTime,
    TestResult,
};
use serde_json::{Map, Value};

/// The entity types of the crash input: rows that reference each other (encounters → patients,
/// claims → patients and encounters), so each batch writes 3 tables, their manifest rows and the
/// scenario row. (Each type in a batch adds a staging table and an upsert to its transaction;
/// three keep a default run short on a 2-core CI machine.)
const TABLES: &[&str] = &["patients", "encounters", "claims"];

/// Trials of persist and migrate per run (× scale).
const TRIALS: usize = 20;
/// Trials of delete, clone, merge and import per run (× scale): each one transaction of a few
/// statements over the scenario's tables, with a short window to hit.
const SECONDARY_TRIALS: usize = 10;
/// Input entities (× scale).
const ENTITIES: usize = 1_000;

/// Entities per transaction: 10 transactions at scale 1, 20 from scale 2 on (scale 20 is 20,000
/// entities in batches of 1,000).
fn batch_size(scale: usize) -> usize {
    (50 * scale).max(100)
}

/// How far past one uninterrupted run the kill may come (kills after the end test the last
/// commit and the checkpoint on close, and a run that finished must be complete).
const KILL_WINDOW: f64 = 1.2;

fn input(dir: &Path, scale: usize) -> TestResult<JsonlInput> {
    let wanted = ENTITIES * scale;
    // About 10 entities of these types per person.
    let input = generate_jsonl(
        &dir.join("input.jsonl"),
        wanted / 6 + 10,
        11,
        TABLES,
        wanted,
    )?;
    if input.keys.len() < wanted {
        return Err(format!("generated {} entities, wanted {wanted}", input.keys.len()).into());
    }
    Ok(input)
}

fn path_arg(path: &Path) -> TestResult<&str> {
    path.to_str().ok_or_else(|| "non-UTF-8 temp path".into())
}

/// A histogram as `value×count` pairs, for the suites' reports.
fn histogram<K: std::fmt::Debug + Ord>(values: impl IntoIterator<Item = K>) -> String {
    let mut counts: BTreeMap<K, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts
        .iter()
        .map(|(k, n)| format!("{k:?}×{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The entity count of every scenario in the file, after checking its integrity.
fn integrity(db: &Path) -> TestResult<BTreeMap<String, i64>> {
    let store = open_store(db)?;
    inspect(&store, check_integrity)
}

/// Scenarios that existed before a trial must have kept their exact counts.
fn check_untouched(
    label: &str,
    before: &BTreeMap<String, i64>,
    after: &BTreeMap<String, i64>,
    except: Option<&str>,
) -> TestResult {
    for (id, n) in before {
        if Some(id.as_str()) == except {
            continue;
        }
        if after.get(id) != Some(n) {
            return Err(format!(
                "{label}: scenario {id} had {n} entities before, {:?} after",
                after.get(id)
            )
            .into());
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------ persist

#[test]
fn kill_during_persist_keeps_whole_batches() -> TestResult {
    let scale = scale();
    let (trials, batch) = (TRIALS * scale, batch_size(scale));
    let dir = tempfile::tempdir()?;
    let input = input(dir.path(), scale)?;
    let file = path_arg(&input.path)?;
    let db = dir.path().join("crash-persist.duckdb");
    let batch_arg = batch.to_string();
    let persist = |name: &str| {
        healthsim_on(
            &db,
            &["persist", "--name", name, "--batch-size", &batch_arg, file],
        )
    };

    // One uninterrupted run: the time scale of the kills, and the reference result.
    let calibration = run(persist("calibration"), None)?.expect_code(0)?;
    let full = calibration.elapsed;
    let mut window = RunTime(full);
    {
        let store = open_store(&db)?;
        let keys = inspect(&store, |conn| {
            let id = scenario_id(conn, "calibration")?.ok_or("no calibration scenario")?;
            entity_keys(conn, &id)
        })?;
        assert_eq!(
            keys,
            input.prefix(usize::MAX, batch),
            "uninterrupted persist"
        );
    }

    let seed = seed(0x5EED_0001);
    let mut rng = Rng::new(seed);
    let batches = input.batch_count(batch);
    eprintln!(
        "persist crash: {} entities, {batches} batches of {batch}, uninterrupted {full:?}, \
         {trials} trials, seed {seed}",
        input.keys.len()
    );
    let mut committed = Vec::new();
    let mut outcomes = Vec::new();
    let mut before = integrity(&db)?;
    for trial in 0..trials {
        let name = format!("crash-{trial}");
        let after = rng.duration_up_to(window.0.mul_f64(KILL_WINDOW));
        let (outcome, elapsed) = run_and_kill(persist(&name), after)?;
        window.observe(outcome, elapsed);
        let label = format!("trial {trial} (kill after {after:?}, {outcome:?}, seed {seed})");
        let store = open_store(&db).map_err(|e| format!("{label}: reopening failed: {e}"))?;
        let (counts, keys) = inspect(&store, |conn| {
            let counts = check_integrity(conn)?;
            let keys = match scenario_id(conn, &name)? {
                Some(id) => Some(entity_keys(conn, &id)?),
                None => None,
            };
            Ok((counts, keys))
        })
        .map_err(|e| format!("{label}: {e}"))?;
        drop(store);

        let whole = match &keys {
            None => 0,
            Some(keys) => {
                let k = keys.len().div_ceil(batch);
                let expected = input.prefix(k, batch);
                if k == 0 || *keys != expected {
                    return Err(format!(
                        "{label}: scenario {name} holds {} entities, not a whole number of \
                         committed batches ({} missing from batches 1..={k}, {} unexpected)",
                        keys.len(),
                        expected.difference(keys).count(),
                        keys.difference(&expected).count()
                    )
                    .into());
                }
                k
            }
        };
        match outcome {
            KillOutcome::Finished(0) if whole != batches => {
                return Err(
                    format!("{label}: finished but holds {whole} of {batches} batches").into(),
                )
            }
            KillOutcome::Finished(code) if code != 0 => {
                return Err(format!("{label}: persist failed on its own (exit {code})").into())
            }
            _ => {}
        }
        check_untouched(&label, &before, &counts, None)?;
        before = counts;
        committed.push(whole);
        outcomes.push(outcome);
    }
    eprintln!(
        "persist crash: committed batches per trial: {}; outcomes: {}",
        histogram(committed.iter().copied()),
        histogram(outcomes.iter().copied())
    );

    // The CLI still reads the file after all those crashes.
    let listed = run(healthsim_on(&db, &["--json", "list", "--limit", "1"]), None)?
        .expect_code(0)?
        .json()?;
    assert_eq!(
        listed["total_count"].as_u64(),
        Some(1 + committed.iter().filter(|k| **k > 0).count() as u64)
    );
    Ok(())
}

// ------------------------------------------------------------------ all-or-nothing operations

/// What one all-or-nothing operation is: the command that makes (or, for delete, removes) the
/// scenario named `target`, and what to set up before each run.
struct Operation<'a> {
    label: &'static str,
    /// Runs before each trial with the store open (e.g. cloning a victim to delete).
    prepare: &'a dyn Fn(&healthsim_persist::Store, &str) -> TestResult,
    /// The CLI arguments that operate on `target`.
    args: &'a dyn Fn(&str) -> Vec<String>,
    /// Whether the operation removes the scenario (delete) rather than creating it.
    removes: bool,
}

/// Runs `op` once uninterrupted (the reference keys and the time scale), then `trials` times
/// with a kill, checking after each that `target` is absent or complete, and that nothing else
/// in the file changed.
fn all_or_nothing(db: &Path, op: &Operation<'_>, trials: usize, seed: u64) -> TestResult {
    let command = |target: &str| {
        let args = (op.args)(target);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        healthsim_on(db, &args)
    };
    // The entity count of every scenario and the target's id and keys after the trial's
    // preparation (None: no such scenario).
    type Prepared = (BTreeMap<String, i64>, Option<(String, BTreeSet<Key>)>);
    let prepare = |target: &str| -> TestResult<Prepared> {
        let store = open_store(db)?;
        (op.prepare)(&store, target)?;
        inspect(&store, |conn| {
            let counts = check_integrity(conn)?;
            let target = match scenario_id(conn, target)? {
                Some(id) => Some((id.clone(), entity_keys(conn, &id)?)),
                None => None,
            };
            Ok((counts, target))
        })
    };

    let (_, before_calibration) = prepare("calibration")?;
    let calibration = run(command("calibration"), None)?.expect_code(0)?;
    let full = calibration.elapsed;
    let mut window = RunTime(full);
    let expected: BTreeSet<Key> = if op.removes {
        before_calibration
            .ok_or("nothing to remove in the calibration run")?
            .1
    } else {
        let store = open_store(db)?;
        inspect(&store, |conn| {
            let id = scenario_id(conn, "calibration")?.ok_or("the calibration run made nothing")?;
            entity_keys(conn, &id)
        })?
    };
    if expected.is_empty() {
        return Err(format!("{}: the reference scenario is empty", op.label).into());
    }
    let mut rng = Rng::new(seed);
    eprintln!(
        "{} crash: {} entities, uninterrupted {full:?}, {trials} trials, seed {seed}",
        op.label,
        expected.len()
    );
    let mut results = Vec::new();
    for trial in 0..trials {
        let target = format!("{}-target-{trial}", op.label);
        let (before, victim) = prepare(&target)?;
        let victim_id = match (&victim, op.removes) {
            (Some((id, keys)), true) if *keys == expected => Some(id.clone()),
            (None, false) => None,
            _ => return Err(format!("{}: preparing trial {trial} failed", op.label).into()),
        };
        let after = rng.duration_up_to(window.0.mul_f64(KILL_WINDOW));
        let (outcome, elapsed) = run_and_kill(command(&target), after)?;
        window.observe(outcome, elapsed);
        let label = format!(
            "{} trial {trial} (kill after {after:?}, {outcome:?}, seed {seed})",
            op.label
        );
        let store = open_store(db).map_err(|e| format!("{label}: reopening failed: {e}"))?;
        let (counts, found, target_tags) = inspect(&store, |conn| {
            let counts = check_integrity(conn)?;
            let (keys, tags) = match scenario_id(conn, &target)? {
                Some(id) => (Some(entity_keys(conn, &id)?), tags(conn, &id)?),
                None => (None, Vec::new()),
            };
            Ok((counts, keys, tags))
        })
        .map_err(|e| format!("{label}: {e}"))?;
        drop(store);
        let present = match &found {
            None => false,
            Some(keys) if *keys == expected => true,
            Some(keys) => {
                return Err(format!(
                    "{label}: {target} is half there: {} of {} entities",
                    keys.len(),
                    expected.len()
                )
                .into())
            }
        };
        if present && op.removes && target_tags != ["crash-victim"] {
            return Err(
                format!("{label}: the surviving victim lost its tags: {target_tags:?}").into(),
            );
        }
        match outcome {
            KillOutcome::Finished(0) if present == op.removes => {
                return Err(
                    format!("{label}: finished, but the operation did not take effect").into(),
                )
            }
            KillOutcome::Finished(code) if code != 0 => {
                return Err(format!("{label}: failed on its own (exit {code})").into())
            }
            _ => {}
        }
        // Everything else is as it was, and no other scenario appeared or vanished.
        check_untouched(&label, &before, &counts, victim_id.as_deref())?;
        let expected_len = match (op.removes, present) {
            (true, false) => before.len() - 1,
            (false, true) => before.len() + 1,
            _ => before.len(),
        };
        if counts.len() != expected_len {
            return Err(format!(
                "{label}: {} scenarios before, {} after",
                before.len(),
                counts.len()
            )
            .into());
        }
        results.push(if present { "present" } else { "absent" });
        results.push(match outcome {
            KillOutcome::Killed => "killed",
            KillOutcome::Finished(_) => "finished",
        });
    }
    let (states, outcomes): (Vec<_>, Vec<_>) = results.chunks(2).map(|p| (p[0], p[1])).unzip();
    eprintln!(
        "{} crash: {}; {}",
        op.label,
        histogram(states),
        histogram(outcomes)
    );
    Ok(())
}

/// A database with a source scenario persisted in one call (tagged `crash-victim`).
fn source_database(
    dir: &Path,
    scale: usize,
    name: &str,
) -> TestResult<(std::path::PathBuf, JsonlInput)> {
    let input = input(dir, scale)?;
    let db = dir.join("crash.duckdb");
    let store = open_store(&db)?;
    persist_lines(&store, &input, 0..input.keys.len(), name)?;
    store.add_tags(name, &["crash-victim".to_string()])?;
    Ok((db, input))
}

/// Persists lines `range` of `input` in one call into a new scenario `name`.
fn persist_lines(
    store: &healthsim_persist::Store,
    input: &JsonlInput,
    range: std::ops::Range<usize>,
    name: &str,
) -> TestResult {
    let text = std::fs::read_to_string(&input.path)?;
    let mut by_type: Map<String, Value> = Map::new();
    for line in text.lines().skip(range.start).take(range.len()) {
        let value: Value = serde_json::from_str(line)?;
        let table = value["type"]
            .as_str()
            .ok_or("line without type")?
            .to_string();
        if let Value::Array(list) = by_type
            .entry(table)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            list.push(value["entity"].clone());
        }
    }
    store.persist_entities(
        &PersistRequest::by_type(by_type).with_scenario(ScenarioTarget::new_named(name)),
    )?;
    Ok(())
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn kill_during_delete_removes_all_or_nothing() -> TestResult {
    let scale = scale();
    let dir = tempfile::tempdir()?;
    let (db, _) = source_database(dir.path(), scale, "source")?;
    let clone_victim = |store: &healthsim_persist::Store, target: &str| -> TestResult {
        store.clone_scenario(
            "source",
            &CloneOptions {
                new_name: Some(target.to_string()),
                ..CloneOptions::default()
            },
        )?;
        Ok(())
    };
    let delete = |target: &str| owned(&["delete", target, "--yes"]);
    all_or_nothing(
        &db,
        &Operation {
            label: "delete",
            prepare: &clone_victim,
            args: &delete,
            removes: true,
        },
        SECONDARY_TRIALS * scale,
        seed(0x5EED_0002),
    )
}

fn nothing(_: &healthsim_persist::Store, _: &str) -> TestResult {
    Ok(())
}

#[test]
fn kill_during_clone_creates_all_or_nothing() -> TestResult {
    let scale = scale();
    let dir = tempfile::tempdir()?;
    let (db, _) = source_database(dir.path(), scale, "source")?;
    let clone = |target: &str| owned(&["clone", "source", "--name", target]);
    all_or_nothing(
        &db,
        &Operation {
            label: "clone",
            prepare: &nothing,
            args: &clone,
            removes: false,
        },
        SECONDARY_TRIALS * scale,
        seed(0x5EED_0003),
    )
}

#[test]
fn kill_during_merge_creates_all_or_nothing() -> TestResult {
    let scale = scale();
    let dir = tempfile::tempdir()?;
    let input = input(dir.path(), scale)?;
    let db = dir.path().join("crash-merge.duckdb");
    {
        // Two sources that overlap on a fifth of the input: renaming rewrites references.
        let store = open_store(&db)?;
        let n = input.keys.len();
        persist_lines(&store, &input, 0..n * 3 / 5, "left")?;
        persist_lines(&store, &input, n * 2 / 5..n, "right")?;
    }
    let merge = |target: &str| {
        owned(&[
            "merge",
            "left",
            "right",
            "--on-conflict",
            "rename",
            "--name",
            target,
        ])
    };
    all_or_nothing(
        &db,
        &Operation {
            label: "merge",
            prepare: &nothing,
            args: &merge,
            removes: false,
        },
        SECONDARY_TRIALS * scale,
        seed(0x5EED_0004),
    )
}

#[test]
fn kill_during_import_creates_all_or_nothing() -> TestResult {
    let scale = scale();
    let dir = tempfile::tempdir()?;
    let (db, _) = source_database(dir.path(), scale, "source")?;
    let export = dir.path().join("source-export.json");
    open_store(&db)?.export_scenario(
        "source",
        &ExportOptions {
            format: ExportFormat::Json,
            out: Some(export.clone()),
            ..ExportOptions::default()
        },
    )?;
    let export = path_arg(&export)?.to_string();
    let import = |target: &str| owned(&["import", &export, "--name", target]);
    all_or_nothing(
        &db,
        &Operation {
            label: "import",
            prepare: &nothing,
            args: &import,
            removes: false,
        },
        SECONDARY_TRIALS * scale,
        seed(0x5EED_0005),
    )
}

// ------------------------------------------------------------------------------------ migrate

#[test]
fn kill_during_migrate_of_a_fresh_database() -> TestResult {
    use healthsim_schema::duckdb::Connection;
    let scale = scale();
    let trials = TRIALS * scale;
    let dir = tempfile::tempdir()?;
    let head = healthsim_schema::head_version();

    // The reference: a cleanly created database.
    let reference_path = dir.path().join("reference.duckdb");
    let run_ref = run(healthsim_on(&reference_path, &["db", "migrate"]), None)?.expect_code(0)?;
    let full = run_ref.elapsed;
    let mut window = RunTime(full);
    let reference = healthsim_schema::catalog::read_catalog(&Connection::open(&reference_path)?)?;

    let seed = seed(0x5EED_0006);
    let mut rng = Rng::new(seed);
    let mut versions = Vec::new();
    for trial in 0..trials {
        let db = dir.path().join(format!("fresh-{trial}.duckdb"));
        let after = rng.duration_up_to(window.0.mul_f64(KILL_WINDOW));
        let (outcome, elapsed) = run_and_kill(healthsim_on(&db, &["db", "migrate"]), after)?;
        window.observe(outcome, elapsed);
        let label =
            format!("migrate trial {trial} (kill after {after:?}, {outcome:?}, seed {seed})");
        // A new file is built under a temporary name and linked into place once migrated and
        // closed, so a kill leaves no file or a complete one at the head version; never a
        // partial header (known issue 1 in docs/reliability.md, fixed).
        let version = if db.exists() {
            let conn = Connection::open(&db).map_err(|e| format!("{label}: cannot open: {e}"))?;
            let version = healthsim_schema::status(&conn)
                .map_err(|e| format!("{label}: unreadable schema history: {e}"))?
                .current_version;
            if version != head {
                return Err(format!("{label}: a new file appeared at version {version}").into());
            }
            versions.push(format!("v{version}"));
            version
        } else {
            if matches!(outcome, KillOutcome::Finished(0)) {
                return Err(format!("{label}: finished without creating the file").into());
            }
            versions.push("no file".to_string());
            0
        };
        if matches!(outcome, KillOutcome::Finished(0)) && version != head {
            return Err(format!("{label}: finished at version {version}, not {head}").into());
        }
        // Reopening (or creating) the way every command does works, and removes what the
        // killed process left under its temporary name.
        let store = open_store(&db).map_err(|e| format!("{label}: reopening failed: {e}"))?;
        let status = store.schema_status()?;
        if status.current_version != head || !status.pending.is_empty() {
            return Err(format!("{label}: reopened at {status:?}").into());
        }
        drop(store);
        let temporaries = leftover_temporaries(&db)?;
        if !temporaries.is_empty() {
            return Err(format!("{label}: temporary files left: {temporaries:?}").into());
        }
        let catalog = healthsim_schema::catalog::read_catalog(&Connection::open(&db)?)?;
        if catalog != reference {
            return Err(format!("{label}: the completed schema differs from a clean one").into());
        }
    }
    eprintln!(
        "migrate crash: uninterrupted {full:?}, {trials} trials, seed {seed}; state after the kill: {}",
        histogram(versions)
    );
    Ok(())
}

/// Files next to `db` named like the temporary copies `create_database` builds.
fn leftover_temporaries(db: &std::path::Path) -> std::io::Result<Vec<String>> {
    let name = db
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let prefix = format!("{name}.creating-");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(db.parent().unwrap_or(std::path::Path::new(".")))? {
        let file = entry?.file_name().to_string_lossy().into_owned();
        if file.starts_with(&prefix) {
            found.push(file);
        }
    }
    Ok(found)
}
