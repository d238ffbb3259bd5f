//! [`Dialect`]: the one difference between a DuckDB file and a DuckLake that our DDL meets.
//!
//! DuckLake (the lake backend: PostgreSQL catalog, Parquet data) refuses `PRIMARY KEY`,
//! `UNIQUE` and indexes; everything else our migrations write (tables, types, `NOT NULL`,
//! defaults, renames, `CREATE TABLE … AS`) it runs as DuckDB does. Keys are kept unique by the
//! write path on both backends (ARCHITECTURE.md, "Logical keys"), so a lake needs no
//! constraint. A lake therefore applies **the same migration files, with the same checksums**,
//! through [`Dialect::render`], which drops exactly those three things: a `PRIMARY KEY (…)`
//! line of a table, the `PRIMARY KEY` and `UNIQUE` of a column, and every `CREATE INDEX` /
//! `DROP INDEX` statement. The recorded checksum stays the file's, so a lake and a file agree on
//! which version they are at, and an edited migration is refused on both.
//!
//! The rendering works on the layout our DDL generator writes (one column or constraint per
//! line, statements ended by `;` at a line's end, no `;` or constraint keyword inside string
//! literals); the tests render every migration and check that nothing refused is left.

use duckdb::Connection;

/// Which SQL the database takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// A DuckDB database file (or in-memory database).
    DuckDb,
    /// A DuckLake attached as the default catalog.
    DuckLake,
}

impl Dialect {
    /// The dialect of `conn`'s default catalog (`USE`d): DuckLake when it is a lake.
    ///
    /// # Errors
    ///
    /// DuckDB's error when the catalog cannot be read.
    pub fn of(conn: &Connection) -> Result<Dialect, duckdb::Error> {
        let kind: String = conn.query_row(
            "SELECT type FROM duckdb_databases() WHERE database_name = current_database()",
            [],
            |r| r.get(0),
        )?;
        Ok(if kind == "ducklake" {
            Dialect::DuckLake
        } else {
            Dialect::DuckDb
        })
    }

    /// `sql` as this dialect runs it: unchanged for DuckDB; for DuckLake without primary keys,
    /// unique constraints and index statements.
    pub fn render(self, sql: &str) -> String {
        match self {
            Dialect::DuckDb => sql.to_string(),
            Dialect::DuckLake => without_constraints(sql),
        }
    }
}

fn without_constraints(sql: &str) -> String {
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        let code = line.split("--").next().unwrap_or_default();
        current.push_str(line);
        current.push('\n');
        if code.trim_end().ends_with(';') {
            statements.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        statements.push(current);
    }
    statements
        .iter()
        .filter(|s| !is_index_statement(s))
        .map(|s| strip_keys(s))
        .collect()
}

/// `CREATE [UNIQUE] INDEX …` or `DROP INDEX …` (comments before it ignored).
fn is_index_statement(statement: &str) -> bool {
    let code: String = statement
        .lines()
        .map(|l| l.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ");
    let words: Vec<String> = code
        .split_whitespace()
        .take(3)
        .map(str::to_ascii_uppercase)
        .collect();
    matches!(
        words
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["CREATE", "INDEX", ..] | ["CREATE", "UNIQUE", "INDEX"] | ["DROP", "INDEX", ..]
    )
}

/// One statement without its table-level `PRIMARY KEY (…)` line (and the comma before it) and
/// without column-level `PRIMARY KEY` / `UNIQUE`.
fn strip_keys(statement: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in statement.lines() {
        let trimmed = line.trim_start();
        if trimmed.to_ascii_uppercase().starts_with("PRIMARY KEY") {
            // The constraint line ends the column list: the comma before it goes too, and a
            // `);` on the same line stays.
            if let Some(previous) = lines.iter_mut().rev().find(|l| !l.trim().is_empty()) {
                if let Some(stripped) = previous.trim_end().strip_suffix(',') {
                    *previous = stripped.to_string();
                }
            }
            let rest = trimmed
                .find(')')
                .map(|i| &trimmed[i + 1..])
                .unwrap_or_default()
                .trim_start_matches(',');
            if !rest.trim().is_empty() {
                lines.push(rest.to_string());
            }
            continue;
        }
        lines.push(
            line.replace(" PRIMARY KEY", "")
                .replace(" UNIQUE", "")
                .to_string(),
        );
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sql: &str, lake: &str) {
        assert_eq!(Dialect::DuckLake.render(sql), lake, "{sql}");
        assert_eq!(Dialect::DuckDb.render(sql), sql);
    }

    #[test]
    fn a_table_loses_its_primary_key_line_and_the_comma_before_it() {
        check(
            "CREATE TABLE t (\n    a VARCHAR NOT NULL,\n    b VARCHAR,\n    PRIMARY KEY (a, b)\n);\n",
            "CREATE TABLE t (\n    a VARCHAR NOT NULL,\n    b VARCHAR\n);\n",
        );
    }

    #[test]
    fn column_keys_and_unique_names_are_dropped() {
        check(
            "CREATE TABLE s (\n    version INTEGER PRIMARY KEY,\n    name VARCHAR NOT NULL UNIQUE,\n    x INT\n);\n",
            "CREATE TABLE s (\n    version INTEGER,\n    name VARCHAR NOT NULL,\n    x INT\n);\n",
        );
    }

    #[test]
    fn index_statements_are_dropped_and_the_rest_kept() {
        check(
            "-- V2\nCREATE INDEX idx_a ON t (a);\nCREATE UNIQUE INDEX u ON t (b);\nDROP INDEX idx_a;\nALTER TABLE t RENAME TO u;\n",
            "ALTER TABLE t RENAME TO u;\n",
        );
    }

    #[test]
    fn every_migration_renders_without_what_a_lake_refuses() {
        for m in crate::migrations::MIGRATIONS {
            let lake = Dialect::DuckLake.render(m.sql).to_ascii_uppercase();
            let code: String = lake
                .lines()
                .map(|l| l.split("--").next().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n");
            for refused in ["PRIMARY KEY", " UNIQUE", "CREATE INDEX", "DROP INDEX"] {
                assert!(!code.contains(refused), "V{:04} keeps {refused}", m.version);
            }
            // Every table survives.
            assert_eq!(
                code.matches("CREATE TABLE").count(),
                m.sql.to_ascii_uppercase().matches("CREATE TABLE").count(),
                "V{:04}",
                m.version
            );
        }
    }

    #[test]
    fn every_migration_renders_to_sql_duckdb_runs() {
        let conn = Connection::open_in_memory().expect("an in-memory database");
        // The runner creates its own table before the first migration (V0005 rebuilds it).
        crate::migrations::ensure_migrations_table(&conn).expect("schema_migrations");
        for m in crate::migrations::MIGRATIONS {
            conn.execute_batch(&Dialect::DuckLake.render(m.sql))
                .unwrap_or_else(|e| panic!("V{:04}: {e}", m.version));
        }
        let constraints: i64 = conn
            .query_row(
                "SELECT count(*) FROM duckdb_constraints() \
                 WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
                [],
                |r| r.get(0),
            )
            .expect("the constraint count");
        assert_eq!(constraints, 0);
    }
}
