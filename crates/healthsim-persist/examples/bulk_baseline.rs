//! DuckDB's own direct load, the yardstick for `cargo xtask bench`.
//!
//! `bulk_baseline split FILE DIR` turns a generated JSON Lines file (`{"type": <table>, "entity":
//! {...}}` per line) into one flat file per type, `DIR/<table>.jsonl`, one entity object per line
//! (untimed preparation: the shape DuckDB's `read_json` loads without help).
//!
//! `bulk_baseline load DB DIR` then loads every `<table>.jsonl` of DIR into a fresh, migrated
//! database with nothing but DuckDB: one
//! `INSERT INTO <table> BY NAME SELECT *, 'bench' AS scenario_id FROM read_json(<file>, format = 'newline_delimited')`
//! per type, in one transaction. No validation, no `extra`, no upsert, no manifest: the engine's
//! own fastest honest path for the same entities into the same tables, so the ratio of our
//! persist throughput to this one is our distance to the engine.
//!
//! `bulk_baseline floor SOURCE DB` measures what storing alone costs: it copies the entity
//! tables of SOURCE (a database our persist wrote) into memory, untimed, then stores those very
//! rows into a fresh, migrated DB with one `INSERT INTO <table> SELECT * FROM <copy>` per table
//! in one transaction, and closes it (its checkpoint). No parsing, no conversion, no checks:
//! the least time this engine takes to put these rows into a file, which bounds the
//! throughput of any writer that stores them, ours included. Prints
//! `floor: <rows> rows stored in <seconds> s` on stdout.
//!
//! `bulk_baseline floor-chunks SOURCE DB ROWS` is `floor` as a chunked FHIR import stores: a
//! commit every ROWS rows of a table (tables one after another, in the registry's order), under
//! the import's settings (DuckDB on one thread, checkpoints after `store::CHECKPOINT_THRESHOLD`
//! of log; no memory bound, which the in-memory copy would count against, and which changed no
//! import's speed when it came).
//! No appender, no parsing, no conversion: the least time the writing thread of a chunked
//! import can take for these rows, whatever our code does. Prints
//! `floor in chunks of <ROWS>: <rows> rows stored in <seconds> s (<commits> commits)`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use healthsim_persist::store::CHECKPOINT_THRESHOLD;
use healthsim_schema::duckdb::{params, Connection};
use healthsim_schema::{by_table, migrate, ENTITY_TYPES};
use serde_json::Value;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["split", file, dir] => split(Path::new(file), Path::new(dir)),
        ["load", db, dir] => load(Path::new(db), Path::new(dir)),
        ["floor", source, db] => floor(Path::new(source), Path::new(db)),
        ["floor-chunks", source, db, rows] => {
            floor_chunks(Path::new(source), Path::new(db), rows.parse()?)
        }
        _ => {
            eprintln!(
                "usage: bulk_baseline split FILE.jsonl DIR | bulk_baseline load DB DIR | \
                 bulk_baseline floor SOURCE DB | bulk_baseline floor-chunks SOURCE DB ROWS"
            );
            std::process::exit(2);
        }
    }
}

/// Writes each line's entity into `DIR/<type>.jsonl`.
fn split(file: &Path, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let mut outputs: BTreeMap<String, BufWriter<File>> = BTreeMap::new();
    for line in BufReader::new(File::open(file)?).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line)?;
        let (Some(table), Some(entity)) = (value["type"].as_str(), value.get("entity")) else {
            return Err(format!("{}: a line without type and entity", file.display()).into());
        };
        if by_table(table).is_none() {
            return Err(format!("{}: unknown type {table}", file.display()).into());
        }
        if !outputs.contains_key(table) {
            let out = File::create(dir.join(format!("{table}.jsonl")))?;
            outputs.insert(table.to_owned(), BufWriter::new(out));
        }
        if let Some(out) = outputs.get_mut(table) {
            serde_json::to_writer(&mut *out, entity)?;
            out.write_all(b"\n")?;
        }
    }
    for out in outputs.values_mut() {
        out.flush()?;
    }
    Ok(())
}

/// Loads every `<table>.jsonl` of `dir` with DuckDB's `read_json`, one statement per table.
fn load(db: &Path, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let conn = Connection::open(db)?;
    migrate(&conn)?;
    conn.execute_batch("SET TimeZone = 'UTC'")?;
    conn.execute(
        "INSERT INTO scenarios VALUES ('bench', 'bench', NULL, now(), now(), NULL)",
        [],
    )?;
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    conn.execute_batch("BEGIN TRANSACTION")?;
    let mut total = 0usize;
    for file in &files {
        let Some(t) = file
            .file_stem()
            .and_then(|stem| stem.to_str())
            .and_then(by_table)
        else {
            return Err(format!("{}: not a <table>.jsonl file", file.display()).into());
        };
        let sql = format!(
            "INSERT INTO {} BY NAME SELECT *, 'bench' AS scenario_id \
             FROM read_json(?, format = 'newline_delimited', maximum_object_size = 16777216)",
            t.table
        );
        total += conn.execute(&sql, params![file.to_string_lossy()])?;
    }
    conn.execute_batch("COMMIT")?;
    eprintln!("bulk_baseline: {total} rows");
    Ok(())
}

/// Stores the entity rows of `source` into a fresh `db` from an in-memory copy, and prints how
/// long storing took (the inserts, the commit, and the close that checkpoints them).
fn floor(source: &Path, db: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let conn = Connection::open(db)?;
    let tables = copy_into_memory(&conn, source)?;
    let started = Instant::now();
    conn.execute_batch("BEGIN TRANSACTION")?;
    let mut total = 0usize;
    for (table, _) in &tables {
        let sql = format!("INSERT INTO main.{table} SELECT * FROM copy.main.{table}");
        total += conn.execute(&sql, [])?;
    }
    conn.execute_batch("COMMIT")?;
    conn.execute_batch("DETACH copy")?;
    drop(conn);
    let secs = started.elapsed().as_secs_f64();
    println!("floor: {total} rows stored in {secs:.3} s");
    Ok(())
}

/// Migrates `conn`'s database and copies the entity tables of `source` into the attached
/// in-memory database `copy` (untimed); the tables that have rows, with their row counts.
fn copy_into_memory(
    conn: &Connection,
    source: &Path,
) -> Result<Vec<(&'static str, i64)>, Box<dyn std::error::Error>> {
    migrate(conn)?;
    // ATTACH takes no parameters: the path goes in as a quoted literal.
    let path = source.to_string_lossy().replace('\'', "''");
    conn.execute_batch(&format!("ATTACH '{path}' AS source (READ_ONLY)"))?;
    conn.execute_batch("ATTACH ':memory:' AS copy")?;
    let mut tables = Vec::new();
    for t in ENTITY_TYPES.iter() {
        let sql = format!(
            "CREATE TABLE copy.main.{0} AS FROM source.main.{0}",
            t.table
        );
        conn.execute_batch(&sql)?;
        let sql = format!("SELECT count(*) FROM copy.main.{}", t.table);
        let rows: i64 = conn.query_row(&sql, [], |row| row.get(0))?;
        if rows > 0 {
            tables.push((t.table, rows));
        }
    }
    conn.execute_batch("DETACH source")?;
    Ok(tables)
}

/// `floor` with a commit every `chunk` rows of a table, under a chunked import's settings.
fn floor_chunks(source: &Path, db: &Path, chunk: i64) -> Result<(), Box<dyn std::error::Error>> {
    if chunk < 1 {
        return Err("ROWS must be at least 1".into());
    }
    let conn = Connection::open(db)?;
    let tables = copy_into_memory(&conn, source)?;
    // No memory bound: the in-memory copy would count against it.
    conn.execute_batch(&format!(
        "SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'; SET threads = 1"
    ))?;
    // Each chunk a table of its own (untimed), so a commit's insert reads nothing else.
    let mut chunks = Vec::new();
    for (table, rows) in &tables {
        for (k, from) in (0..*rows).step_by(chunk as usize).enumerate() {
            let name = format!("{table}_{k}");
            conn.execute(
                &format!(
                    "CREATE TABLE copy.main.{name} AS FROM copy.main.{table} \
                     WHERE rowid >= ? AND rowid < ? ORDER BY rowid"
                ),
                params![from, from + chunk],
            )?;
            chunks.push((*table, name));
        }
    }
    let started = Instant::now();
    let mut total = 0usize;
    for (table, name) in &chunks {
        conn.execute_batch("BEGIN TRANSACTION")?;
        total += conn.execute(
            &format!("INSERT INTO main.{table} SELECT * FROM copy.main.{name}"),
            [],
        )?;
        conn.execute_batch("COMMIT")?;
    }
    let commits = chunks.len();
    conn.execute_batch("DETACH copy")?;
    drop(conn);
    let secs = started.elapsed().as_secs_f64();
    println!("floor in chunks of {chunk}: {total} rows stored in {secs:.3} s ({commits} commits)");
    Ok(())
}
