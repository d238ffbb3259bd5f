//! DuckDB's own bulk path, the yardstick for `cargo xtask bench`.
//!
//! `bulk_baseline DB FILE` loads a generated JSON Lines file (`{"type": <table>, "entity": {...}}`
//! per line) into a fresh database with nothing but set-based SQL: `read_json` into a staging
//! table, then one `INSERT ... SELECT` per entity type with casts taken from the registry, in one
//! transaction. No validation, no `extra`, no upsert: the fastest honest load DuckDB itself offers
//! for the same data, so the ratio of our persist throughput to this is how close we are to the engine.

use healthsim_schema::duckdb::{params, Connection};
use healthsim_schema::{by_table, migrate, ColumnKind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(db), Some(file)) = (args.next(), args.next()) else {
        eprintln!("usage: bulk_baseline DB FILE.jsonl");
        std::process::exit(2);
    };
    let conn = Connection::open(&db)?;
    migrate(&conn)?;
    conn.execute_batch("SET TimeZone = 'UTC'")?;
    conn.execute(
        "INSERT INTO scenarios VALUES ('bench', 'bench', NULL, now(), now(), NULL)",
        [],
    )?;
    conn.execute_batch("BEGIN TRANSACTION")?;
    conn.execute(
        "CREATE TEMP TABLE raw AS SELECT type, entity FROM read_json(?, format = 'newline_delimited', \
         columns = {type: 'VARCHAR', entity: 'JSON'}, maximum_object_size = 16777216)",
        params![file],
    )?;
    let types: Vec<String> = {
        let mut stmt = conn.prepare("SELECT DISTINCT type FROM raw")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut total = 0usize;
    for name in &types {
        let Some(t) = by_table(name) else {
            return Err(format!("unknown type {name} in {file}").into());
        };
        let columns: Vec<&str> = t.columns().map(|c| c.name).collect();
        let casts: Vec<String> = t
            .columns()
            .map(|c| match c.kind {
                ColumnKind::Json => format!("entity -> '{}'", c.name),
                ColumnKind::Timestamp => format!(
                    "CAST(CAST(entity ->> '{}' AS TIMESTAMPTZ) AS TIMESTAMP)",
                    c.name
                ),
                kind => format!("CAST(entity ->> '{}' AS {})", c.name, kind.sql_type()),
            })
            .collect();
        let sql = format!(
            "INSERT INTO {} (scenario_id, {}) SELECT 'bench', {} FROM raw WHERE type = ?",
            t.table,
            columns.join(", "),
            casts.join(", ")
        );
        total += conn.execute(&sql, params![name])?;
    }
    conn.execute_batch("DROP TABLE raw; COMMIT")?;
    eprintln!("bulk_baseline: {total} rows");
    Ok(())
}
