//! Shared test fixtures: a migrated in-memory database and scenarios inserted with plain SQL.
#![allow(dead_code)] // each test binary uses a different part of the fixtures

pub(crate) mod products;

use duckdb::Connection;
use healthsim_schema::{ColumnKind, ENTITY_TYPES};

/// The date ages are computed at in every test.
pub(crate) fn as_of() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date")
}

/// A migrated in-memory database.
pub(crate) fn db() -> Connection {
    let conn = Connection::open_in_memory().expect("in-memory database");
    healthsim_schema::migrate(&conn).expect("migrations apply");
    conn
}

/// Inserts a scenario row with fixed timestamps and its tags.
pub(crate) fn scenario(
    conn: &Connection,
    id: &str,
    name: &str,
    description: Option<&str>,
    tags: &[&str],
) {
    conn.execute(
        "INSERT INTO scenarios (scenario_id, name, description, created_at, updated_at, metadata) \
         VALUES (?, ?, ?, TIMESTAMP '2025-01-15 09:30:00', TIMESTAMP '2025-01-16 10:00:00', NULL)",
        duckdb::params![id, name, description],
    )
    .expect("insert scenario");
    for tag in tags {
        conn.execute(
            "INSERT INTO scenario_tags VALUES (?, ?, TIMESTAMP '2025-01-15 09:30:00')",
            duckdb::params![id, tag],
        )
        .expect("insert tag");
    }
}

/// Runs fixture SQL, with `:sid` standing for the quoted scenario id.
pub(crate) fn run(conn: &Connection, scenario_id: &str, sql: &str) {
    let sql = sql.replace(":sid", &format!("'{scenario_id}'"));
    conn.execute_batch(&sql)
        .unwrap_or_else(|e| panic!("fixture SQL failed: {e}\n{sql}"));
}

/// Rewrites the scenario's manifest from the canonical tables, as the writer keeps it.
pub(crate) fn sync_manifest(conn: &Connection, scenario_id: &str) {
    conn.execute(
        "DELETE FROM scenario_entities WHERE scenario_id = ?",
        [scenario_id],
    )
    .expect("clear manifest");
    for t in ENTITY_TYPES {
        let n: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {} WHERE scenario_id = ?", t.table),
                [scenario_id],
                |r| r.get(0),
            )
            .expect("count");
        if n > 0 {
            conn.execute(
                "INSERT INTO scenario_entities VALUES (?, ?, ?, TIMESTAMP '2025-01-16 10:00:00')",
                duckdb::params![scenario_id, t.table, n],
            )
            .expect("insert manifest row");
        }
    }
}

/// How [`fill_generic`] makes values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fill {
    /// Text, code and JSON values of about 10 KB.
    pub(crate) long_strings: bool,
    /// An `extra` object per row (long values when `long_strings`).
    pub(crate) extra: bool,
}

/// Fills `rows` rows of an entity table with a value of the right kind in every column.
pub(crate) fn fill_generic(
    conn: &Connection,
    scenario_id: &str,
    table: &str,
    rows: u64,
    fill: Fill,
) {
    let t = healthsim_schema::by_table(table).expect("registry table");
    let mut columns = vec!["scenario_id".to_string()];
    let mut values = vec!["?".to_string()];
    for c in t.columns() {
        columns.push(c.name.to_string());
        let long = fill.long_strings;
        let v = match c.kind {
            _ if c.name == t.primary_key => format!("'{}-' || i", t.singular),
            ColumnKind::Text if long => "repeat('lorem ipsum dolor ', 560) || i".to_string(),
            ColumnKind::Text => format!("'{} ' || (i % 11)", c.name),
            ColumnKind::Code if long => "repeat('CODE', 2500) || (i % 7)".to_string(),
            ColumnKind::Code => "'C' || (i % 7)".to_string(),
            ColumnKind::Integer => "i % 1000".to_string(),
            ColumnKind::Number => "(i % 1000) * 1.5".to_string(),
            ColumnKind::Money => "CAST((i % 1000) * 10.25 AS DECIMAL(18,2))".to_string(),
            ColumnKind::Date => "DATE '1940-01-01' + CAST(i % 25000 AS INTEGER)".to_string(),
            ColumnKind::Timestamp => "TIMESTAMP '2020-01-01 00:00:00' + to_hours(i)".to_string(),
            ColumnKind::Boolean => "i % 2 = 0".to_string(),
            ColumnKind::Json if long => "to_json([repeat('j', 10000), 'x' || i])".to_string(),
            ColumnKind::Json => "to_json(['a', 'b' || i])".to_string(),
        };
        values.push(v);
    }
    if fill.extra {
        columns.push("extra".to_string());
        values.push(if fill.long_strings {
            "json_object('note', repeat('extra text ', 1000) || i, 'source_note', repeat('z', 10000), 'n', i)".to_string()
        } else {
            "json_object('note', 'extra ' || i, 'n', i)".to_string()
        });
    }
    let sql = format!(
        "INSERT INTO {table} ({}) SELECT {} FROM range(?) t(i)",
        columns.join(", "),
        values.join(", ")
    );
    conn.execute(&sql, duckdb::params![scenario_id, rows as i64])
        .unwrap_or_else(|e| panic!("filling {table}: {e}"));
}
