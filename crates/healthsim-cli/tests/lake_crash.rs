//! Crash safety of a lake (a DuckLake: catalog in a PostgreSQL database started for the test,
//! data in Parquet files under a temporary folder): a writer SIGKILLed at a random moment of
//! its call leaves whole batches only, the catalog and the data files stay readable, and the
//! Parquet files a killed writer wrote before its commit (orphans: on disk, named nowhere in the
//! catalog) are deleted by `healthsim db maintain`.
//!
//! The run:
//! - `healthsim persist` creates the lake and a scenario with one batch, then one uninterrupted
//!   persist of a batch into it measures a run's duration `T`;
//! - [`KILLS`] persists of one batch each ([`PER_BATCH`] patients, enough that DuckLake writes a
//!   Parquet file before its commit) are SIGKILLed after a seeded random delay, one drawn in
//!   each of [`KILLS`] equal slices of `[0.2 T, 1.1 T]`: a run opens the lake for about the
//!   first half of `T`, writes its Parquet file, commits shortly before it ends and prints its
//!   summary, so the kills land before, during and after the commit;
//! - [`MCP_KILLS`] MCP servers (`healthsim mcp`, a writer of many calls) each persist two
//!   batches, then are SIGKILLed during their third call, at a moment drawn the same way from
//!   the second call's duration;
//! - after every kill a fresh store opens the lake (attaching reads the catalog) and checks:
//!   every batch holds 0 or all of its ids, a run that finished holds all, no batch other than
//!   the killed one changed, no id twice, the scenario's manifest equals the table's count, and
//!   every column of every row of the table reads (every data file of it is read);
//! - every killed batch is persisted again, uninterrupted, as a user would after a crash: the
//!   lake then holds exactly the ids of all batches (re-sent ids are updated, not duplicated),
//!   no logical key twice in any table, every manifest equal to its table's count;
//! - the orphans the kills left are counted (files on disk against the catalog's file tables,
//!   read with psql), a stray Parquet file is planted, and `healthsim db maintain
//!   --older-than-minutes 0` must delete exactly the orphans, report them in its output, count
//!   every file it removed, keep every file the catalog uses, and leave every table's rows
//!   exactly as they were.
//!
//! Each kill's moment, outcome and the orphans it left are printed (with the seed:
//! `HEALTHSIM_TEST_SEED` repeats a schedule), so a run whose kills missed the interesting window
//! shows it.

mod reliability_common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use healthsim_schema::duckdb::{params_from_iter, Connection};
use reliability_common::state::{db_state, expect_unique_keys, DbState};
use reliability_common::{
    call_tool, check_integrity, connect_mcp_with_pid, healthsim_on, inspect, open_store, run,
    run_and_kill, seed, KillOutcome, Rng, RunTime, TestResult,
};
use serde_json::{json, Value};

/// Patients per batch: enough that DuckLake writes them to a Parquet file before the commit
/// (small inserts are kept inline in the catalog).
const PER_BATCH: usize = 3_000;
/// SIGKILLed `healthsim persist` runs.
const KILLS: usize = 8;
/// SIGKILLed MCP servers.
const MCP_KILLS: usize = 2;
/// The window of kill moments, as fractions of an uninterrupted run's duration.
const KILL_FROM: f64 = 0.2;
const KILL_TO: f64 = 1.1;
/// The scenario every batch goes into.
const SCENARIO: &str = "crash";
/// The table the batches write.
const TABLE: &str = "patients";

/// The ids of batch `name`: `<name>-00000` ….
fn batch_ids(name: &str) -> Vec<String> {
    (0..PER_BATCH).map(|i| format!("{name}-{i:05}")).collect()
}

/// The patients of batch `name`.
fn batch_entities(name: &str) -> Vec<Value> {
    batch_ids(name)
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            json!({
                "patient_id": id,
                "birth_date": "1970-01-01",
                "gender": if i % 2 == 0 { "female" } else { "male" },
                "state": "AZ",
            })
        })
        .collect()
}

/// Batch `name` as a JSON Lines file in `dir`.
fn batch_file(dir: &Path, name: &str) -> TestResult<PathBuf> {
    let path = dir.join(format!("{name}.jsonl"));
    let mut text = String::new();
    for entity in batch_entities(name) {
        text.push_str(&entity.to_string());
        text.push('\n');
    }
    std::fs::write(&path, text)?;
    Ok(path)
}

/// `healthsim persist` of `file` (patients) into the scenario, `--json`.
fn persist_command(lake: &Path, file: &Path, extra: &[&str]) -> TestResult<Command> {
    let file = file.to_str().ok_or("a temporary path that is not UTF-8")?;
    let mut args = vec!["--json", "persist", "--type", TABLE];
    args.extend_from_slice(extra);
    args.push(file);
    Ok(healthsim_on(lake, &args))
}

/// The moment of kill `i` of `n`: uniform in the `i`-th of `n` equal slices of
/// `[KILL_FROM × run, KILL_TO × run]`.
fn kill_moment(rng: &mut Rng, run: Duration, i: usize, n: usize) -> Duration {
    let slice = run.mul_f64((KILL_TO - KILL_FROM) / n as f64);
    run.mul_f64(KILL_FROM)
        + slice * u32::try_from(i).unwrap_or(u32::MAX)
        + rng.duration_up_to(slice)
}

/// What the lake holds, read by a store opened for the purpose.
#[derive(Debug)]
struct Reading {
    /// Rows per batch (the id's prefix before `-`).
    batches: BTreeMap<String, i64>,
    /// Every id of the table.
    ids: BTreeSet<String>,
    /// Every table's rows (read when the whole lake is checked).
    state: Option<DbState>,
}

/// How much of the lake [`read_lake`] reads and checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    /// What a kill may have touched: the batches' table and its manifest.
    Batches,
    /// Also every row of every table.
    Rows,
    /// Also what must hold of the whole lake: no logical key twice in any table, every
    /// manifest equal to its table's count.
    Whole,
}

/// Opens the lake with a fresh store (a new DuckDB instance attaching the catalog, as a new
/// process does) and reads what a kill may have touched: every column of every row of the
/// batches' table (so every data file of it is read), no id twice, and the scenario's manifest
/// equal to the table's count; more with a deeper [`Depth`]. (On a PostgreSQL catalog, DuckLake
/// fetches the statistics of every table without any, the empty ones, with a round trip each,
/// again for every table a statement names (DuckLake issue 1398): a statement over all tables
/// takes seconds, so the whole lake is read only where the test needs it.)
fn read_lake(lake: &Path, depth: Depth) -> TestResult<Reading> {
    let store = open_store(lake)?;
    let table = healthsim_schema::by_table(TABLE).ok_or("patients is not in the registry")?;
    inspect(&store, |conn| {
        if depth == Depth::Whole {
            expect_unique_keys(conn)?;
            check_integrity(conn)?;
        }
        let state = match depth {
            Depth::Batches => None,
            Depth::Rows | Depth::Whole => Some(db_state(conn)?),
        };
        let rows = string_column(
            conn,
            &format!("SELECT t::VARCHAR FROM main.{} t", table.table),
            &[],
        )?;
        let ids = string_column(
            conn,
            &format!("SELECT {} FROM main.{}", table.primary_key, table.table),
            &[],
        )?;
        let mut batches = BTreeMap::new();
        for id in &ids {
            let batch = id.split('-').next().unwrap_or_default().to_string();
            *batches.entry(batch).or_insert(0) += 1;
        }
        let distinct: BTreeSet<String> = ids.into_iter().collect();
        if distinct.len() != rows.len() {
            return Err(format!(
                "{} rows but {} distinct ids: an id is there twice",
                rows.len(),
                distinct.len()
            ));
        }
        let manifest = string_column(
            conn,
            "SELECT m.entity_count::VARCHAR FROM main.scenario_entities m \
             JOIN main.scenarios s USING (scenario_id) \
             WHERE s.name = ? AND m.entity_type = ?",
            &[SCENARIO, table.table],
        )?;
        if manifest != [rows.len().to_string()] {
            return Err(format!(
                "the scenario's manifest says {manifest:?} {TABLE}, the table has {}",
                rows.len()
            ));
        }
        Ok(Reading {
            batches,
            ids: distinct,
            state,
        })
    })
}

/// The first column of `sql`'s rows, with `values` bound to its parameters.
fn string_column(conn: &Connection, sql: &str, values: &[&str]) -> Result<Vec<String>, String> {
    let mut statement = conn.prepare(sql).map_err(|e| format!("{sql}: {e}"))?;
    let values = statement
        .query_map(params_from_iter(values), |row| row.get::<_, String>(0))
        .map_err(|e| format!("{sql}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{sql}: {e}"))?;
    Ok(values)
}

/// The batches a reading must show: exactly `present`, each whole, plus `killed` either whole
/// or absent. Returns whether `killed` is there.
fn expect_whole_batches(
    reading: &Reading,
    present: &BTreeSet<String>,
    killed: &str,
) -> TestResult<bool> {
    let whole = i64::try_from(PER_BATCH)?;
    for (batch, n) in &reading.batches {
        if *n != whole {
            return Err(format!("batch {batch} holds {n} of its {PER_BATCH} ids").into());
        }
    }
    let there: BTreeSet<String> = reading.batches.keys().cloned().collect();
    let killed_there = there.contains(killed);
    let mut expected = present.clone();
    if killed_there {
        expected.insert(killed.to_string());
    }
    if there != expected {
        return Err(format!(
            "after the kill of {killed} the lake holds batches {there:?}, expected {expected:?} \
             (and {killed} whole or absent)"
        )
        .into());
    }
    Ok(killed_there)
}

/// The files of the lake: every Parquet file under the data folder, and the file names its
/// catalog records (data files, delete files, files scheduled for deletion, whether of the
/// current snapshot or of older ones), read from the catalog's tables with psql.
struct LakeFiles {
    on_disk: BTreeSet<PathBuf>,
    /// Files under the data folder that are not Parquet files (a writer's temporary files).
    others: BTreeSet<PathBuf>,
    named: BTreeSet<String>,
    /// Names of the data and delete files of the current snapshot.
    live: BTreeSet<String>,
}

impl LakeFiles {
    fn read(conninfo: &str, data: &Path) -> TestResult<LakeFiles> {
        let (mut on_disk, mut others) = (BTreeSet::new(), BTreeSet::new());
        files_under(data, &mut on_disk, &mut others)?;
        let lines = |sql: &str| -> BTreeSet<String> {
            healthsim_pgtest::cluster()
                .psql(conninfo, sql)
                .lines()
                .filter(|l| !l.is_empty())
                .map(|l| file_name(Path::new(l)))
                .collect()
        };
        let named = lines(
            "SELECT path FROM ducklake_data_file UNION ALL SELECT path FROM ducklake_delete_file \
             UNION ALL SELECT path FROM ducklake_files_scheduled_for_deletion",
        );
        let live = lines(
            "SELECT path FROM ducklake_data_file WHERE end_snapshot IS NULL UNION ALL \
             SELECT path FROM ducklake_delete_file WHERE end_snapshot IS NULL",
        );
        Ok(LakeFiles {
            on_disk,
            others,
            named,
            live,
        })
    }

    /// Files on disk the catalog does not name. DuckLake names every file it writes with a
    /// fresh UUID, so a file name identifies a file of the lake.
    fn orphans(&self) -> BTreeSet<PathBuf> {
        self.on_disk
            .iter()
            .filter(|p| !self.named.contains(&file_name(p)))
            .cloned()
            .collect()
    }

    /// Files of the current snapshot that are missing on disk.
    fn missing(&self) -> BTreeSet<String> {
        let present: BTreeSet<String> = self.on_disk.iter().map(|p| file_name(p)).collect();
        self.live.difference(&present).cloned().collect()
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The Parquet files under `dir` into `parquet`, every other file into `others`.
fn files_under(
    dir: &Path,
    parquet: &mut BTreeSet<PathBuf>,
    others: &mut BTreeSet<PathBuf>,
) -> TestResult {
    if !dir.exists() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files_under(&path, parquet, others)?;
        } else if path.extension().is_some_and(|e| e == "parquet") {
            parquet.insert(path);
        } else {
            others.insert(path);
        }
    }
    Ok(())
}

/// What one kill did, for the printed report.
struct Trial {
    batch: String,
    present: bool,
}

/// The lake under test and what the kills so far left in it.
struct Crashes<'a> {
    /// The lake's `--db` string.
    lake: &'a Path,
    /// The catalog's database.
    conninfo: &'a str,
    /// The data folder.
    data: &'a Path,
    /// The batches the lake holds (whole).
    present: BTreeSet<String>,
    /// The Parquet files on disk the catalog does not name.
    orphans: BTreeSet<PathBuf>,
    trials: Vec<Trial>,
}

impl Crashes<'_> {
    /// Checks the lake after the kill of `writer` writing `batch` at `at` (of a run that takes
    /// about `run`; `completed` when it had finished), records whether the batch is there and
    /// the orphans the kill left, and prints the trial.
    fn after_kill(
        &mut self,
        batch: &str,
        writer: &str,
        (at, run, completed): (Duration, Duration, bool),
    ) -> TestResult {
        let reading = read_lake(self.lake, Depth::Batches)?;
        let there = expect_whole_batches(&reading, &self.present, batch)?;
        if completed {
            assert!(
                there,
                "{batch}: the {writer} finished, its batch must be there"
            );
        }
        if there {
            self.present.insert(batch.to_string());
        }
        let now = LakeFiles::read(self.conninfo, self.data)?.orphans();
        let new_orphans = now.difference(&self.orphans).count();
        self.orphans = now;
        println!(
            "{batch:<4} {writer:<7} kill at {:>6.3} s of a {:>6.3} s run: {:<8} batch {:<7} \
             new orphans {new_orphans}",
            at.as_secs_f64(),
            run.as_secs_f64(),
            if completed { "finished" } else { "killed" },
            if there { "present" } else { "absent" },
        );
        self.trials.push(Trial {
            batch: batch.to_string(),
            present: there,
        });
        Ok(())
    }
}

/// SIGKILL to the process `pid` (a child of this test).
fn sigkill(pid: u32) -> TestResult {
    let status = Command::new("kill")
        .args(["-s", "KILL", &pid.to_string()])
        .status()?;
    if !status.success() {
        return Err(format!("kill -s KILL {pid} failed ({status})").into());
    }
    Ok(())
}

/// A `persist_entities` call of batch `name` into the scenario.
fn persist_call(name: &str) -> Value {
    json!({"entity_type": TABLE, "scenario_id": SCENARIO, "entities": batch_entities(name)})
}

/// MCP trial `t`: a server persists batches `m<t>a` (opening the lake) and `m<t>b` (timed)
/// whole, then is SIGKILLed during its call persisting `m<t>c`, at a moment drawn from the
/// second call's duration. Returns the killed batch, the kill's moment, the measured duration
/// and whether the killed call had answered.
async fn mcp_trial(
    lake: &Path,
    rng: &mut Rng,
    t: usize,
) -> TestResult<(String, Duration, Duration, bool)> {
    let (client, pid) = connect_mcp_with_pid(lake, 60).await?;
    let mut call_time = Duration::ZERO;
    for name in [format!("m{t}a"), format!("m{t}b")] {
        let start = Instant::now();
        let done = call_tool(&client, "persist_entities", persist_call(&name))
            .await?
            .map_err(|e| format!("{name}: {e}"))?;
        call_time = start.elapsed();
        assert_eq!(
            done["counts"][TABLE]["inserted"], PER_BATCH,
            "{name}: {done}"
        );
    }
    let killed = format!("m{t}c");
    let at = kill_moment(rng, call_time, t, MCP_KILLS);
    let answered = {
        let call = call_tool(&client, "persist_entities", persist_call(&killed));
        tokio::pin!(call);
        tokio::select! {
            result = &mut call => {
                result?.map_err(|e| format!("{killed}: {e}"))?;
                true
            }
            () = tokio::time::sleep(at) => {
                sigkill(pid)?;
                // An answer already on its way still arrives; else the transport closes.
                matches!(call.await, Ok(Ok(_)))
            }
        }
    };
    if answered {
        sigkill(pid)?;
    }
    drop(client);
    Ok((killed, at, call_time, answered))
}

#[test]
fn a_writer_killed_at_random_moments_leaves_whole_batches_and_maintenance_deletes_its_orphans(
) -> TestResult {
    let started = Instant::now();
    let seed = seed(0x1a4e_c4a5);
    println!("seed {seed} (HEALTHSIM_TEST_SEED repeats this schedule)");
    let mut rng = Rng::new(seed);
    let conninfo = healthsim_pgtest::cluster().database("lakecrash");
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("lake");
    let lake_string = format!("ducklake:postgres:{conninfo} data_path={}/", data.display());
    let lake = Path::new(&lake_string);

    // The lake, its scenario and a first batch; then one uninterrupted run to measure.
    let first = batch_file(dir.path(), "b00")?;
    run(persist_command(lake, &first, &["--name", SCENARIO])?, None)?.expect_code(0)?;
    let calibration = batch_file(dir.path(), "b01")?;
    let measured = run(
        persist_command(lake, &calibration, &["--scenario", SCENARIO])?,
        None,
    )?
    .expect_code(0)?;
    let present: BTreeSet<String> = ["b00", "b01"].map(String::from).into();
    let mut run_time = RunTime(measured.elapsed);
    println!(
        "[{:5.1} s] lake created; one uninterrupted persist of {PER_BATCH} patients: {:.3} s",
        started.elapsed().as_secs_f64(),
        measured.elapsed.as_secs_f64()
    );
    let reading = read_lake(lake, Depth::Batches)?;
    expect_whole_batches(&reading, &present, "b01")?;
    let orphans = LakeFiles::read(&conninfo, &data)?.orphans();
    assert!(
        orphans.is_empty(),
        "uninterrupted runs left files the catalog does not name: {orphans:?}"
    );
    let mut crashes = Crashes {
        lake,
        conninfo: &conninfo,
        data: &data,
        present,
        orphans,
        trials: Vec::new(),
    };

    // Persists killed at random moments.
    let mut killed = Vec::new();
    for k in 0..KILLS {
        let name = format!("b{:02}", k + 2);
        let file = batch_file(dir.path(), &name)?;
        let at = kill_moment(&mut rng, run_time.0, k, KILLS);
        let command = persist_command(lake, &file, &["--scenario", SCENARIO])?;
        let (outcome, elapsed) = run_and_kill(command, at)?;
        let completed = match outcome {
            KillOutcome::Killed => false,
            KillOutcome::Finished(0) => true,
            KillOutcome::Finished(code) => {
                return Err(format!("{name}: persist exited with {code} before its kill").into())
            }
        };
        let window = run_time.0;
        run_time.observe(outcome, elapsed);
        crashes.after_kill(&name, "persist", (elapsed, window, completed))?;
        killed.push((name, file));
    }

    // MCP servers killed during their second call.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    for t in 0..MCP_KILLS {
        let (name, at, call_time, answered) = runtime.block_on(mcp_trial(lake, &mut rng, t))?;
        crashes.present.extend([format!("m{t}a"), format!("m{t}b")]);
        crashes.after_kill(&name, "mcp", (at, call_time, answered))?;
        let file = batch_file(dir.path(), &name)?;
        killed.push((name, file));
    }
    drop(runtime);

    println!("[{:5.1} s] kills done", started.elapsed().as_secs_f64());

    // Every killed batch again, uninterrupted: one transaction per batch.
    let resend = dir.path().join("resend.jsonl");
    let mut text = Vec::new();
    for (_, file) in &killed {
        text.extend(std::fs::read(file)?);
    }
    std::fs::write(&resend, text)?;
    let batch_size = PER_BATCH.to_string();
    let resent = run(
        persist_command(
            lake,
            &resend,
            &["--scenario", SCENARIO, "--batch-size", &batch_size],
        )?,
        None,
    )?
    .expect_code(0)?
    .json()?;
    let already = killed
        .iter()
        .filter(|(name, _)| crashes.present.contains(name))
        .count();
    assert_eq!(
        resent["counts"][TABLE],
        json!({
            "inserted": (killed.len() - already) * PER_BATCH,
            "updated": already * PER_BATCH,
        }),
        "re-sent batches: the absent ones inserted, the present ones updated"
    );
    let all: BTreeSet<String> = (0..KILLS + 2)
        .map(|b| format!("b{b:02}"))
        .chain((0..MCP_KILLS).flat_map(|t| ["a", "b", "c"].map(|c| format!("m{t}{c}"))))
        .collect();
    let expected_ids: BTreeSet<String> = all.iter().flat_map(|b| batch_ids(b)).collect();
    // The re-running process's summary, then a fresh store, count the same.
    assert_eq!(
        resent["summary"]["entity_counts"][TABLE],
        expected_ids.len(),
        "{}",
        resent["summary"]
    );
    println!("[{:5.1} s] re-runs done", started.elapsed().as_secs_f64());
    let reading = read_lake(lake, Depth::Whole)?;
    assert!(
        reading.ids == expected_ids,
        "after the re-runs the lake holds {} ids, expected exactly the {} of all batches",
        reading.ids.len(),
        expected_ids.len()
    );
    let state_before = reading.state.ok_or("no state read")?;

    // The orphans the kills left, and one planted (a copy of a data file under a name the
    // catalog does not know, as a writer killed after writing it leaves).
    let before = LakeFiles::read(&conninfo, &data)?;
    let natural = before.orphans();
    println!(
        "orphaned Parquet files left by {} kills: {} ({:?})",
        crashes.trials.len(),
        natural.len(),
        natural.iter().map(|p| file_name(p)).collect::<Vec<_>>()
    );
    // A killed writer leaves no other kind of file, which maintenance would not know.
    assert!(
        before.others.is_empty(),
        "files other than Parquet in the data folder: {:?}",
        before.others
    );
    let template = before
        .on_disk
        .iter()
        .find(|p| before.live.contains(&file_name(p)))
        .ok_or("no data file of the lake on disk")?;
    let planted = template.with_file_name("planted-orphan.parquet");
    std::fs::copy(template, &planted)?;
    let before = LakeFiles::read(&conninfo, &data)?;
    let orphans_before = before.orphans();
    assert_eq!(
        orphans_before,
        natural.iter().cloned().chain([planted.clone()]).collect(),
        "the orphans: those of the kills and the planted one"
    );

    println!(
        "[{:5.1} s] re-runs checked",
        started.elapsed().as_secs_f64()
    );
    let maintained = run(
        healthsim_on(
            lake,
            &["--json", "db", "maintain", "--older-than-minutes", "0"],
        ),
        None,
    )?
    .expect_code(0)?
    .json()?;
    println!(
        "[{:5.1} s] db maintain: {maintained}",
        started.elapsed().as_secs_f64()
    );
    let after = LakeFiles::read(&conninfo, &data)?;
    assert_eq!(
        maintained["orphaned_files_deleted"],
        orphans_before.len(),
        "the output counts the orphans deleted"
    );
    let removed: BTreeSet<PathBuf> = before.on_disk.difference(&after.on_disk).cloned().collect();
    assert!(
        removed.is_superset(&orphans_before),
        "orphans left on disk: {:?}",
        orphans_before.difference(&removed).collect::<Vec<_>>()
    );
    let reported = maintained["orphaned_files_deleted"]
        .as_u64()
        .zip(maintained["old_files_deleted"].as_u64())
        .map(|(o, d)| o + d)
        .ok_or("no deletion counts in the output")?;
    assert_eq!(
        u64::try_from(removed.len())?,
        reported,
        "the output counts every file removed (orphans and old files): {removed:?}"
    );
    assert!(after.orphans().is_empty(), "{:?}", after.orphans());
    assert!(
        after.missing().is_empty(),
        "files the catalog uses are gone: {:?}",
        after.missing()
    );
    // The same rows in every table (so the same integrity as checked before).
    let state_after = read_lake(lake, Depth::Rows)?.state.ok_or("no state read")?;
    state_before.expect_same(&state_after, "db maintain")?;

    let (there, absent): (Vec<&Trial>, Vec<&Trial>) =
        crashes.trials.iter().partition(|t| t.present);
    let names = |trials: &[&Trial]| trials.iter().map(|t| t.batch.clone()).collect::<Vec<_>>();
    println!(
        "{} kills: batch there after the kill {:?}, absent {:?}; {} orphans found; {:.1} s",
        crashes.trials.len(),
        names(&there),
        names(&absent),
        natural.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
