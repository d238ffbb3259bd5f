//! Reading a database's catalog, checking it against the registry, and the data dictionary.

use std::fmt::Write as _;

use duckdb::Connection;
use serde::Serialize;

use crate::ddl::STATE_TABLE_DEFS;
use crate::registry::{
    EntityType, Layer, ENTITY_TYPES, EXTRA_COLUMN, MIGRATIONS_TABLE, PROVENANCE_COLUMNS,
    SCENARIO_COLUMN, STATE_TABLES, SYSTEM_COLUMNS,
};
use crate::Error;

/// A database's user-visible schema, in a stable order, comparable and snapshot-friendly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Catalog {
    /// Tables by name.
    pub tables: Vec<TableInfo>,
}

/// One table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableInfo {
    /// Name.
    pub name: String,
    /// Columns in order.
    pub columns: Vec<ColumnInfo>,
    /// Constraints as `TYPE(col, ...)`, sorted.
    pub constraints: Vec<String>,
    /// Indexes as `name(expressions)`, sorted.
    pub indexes: Vec<String>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnInfo {
    /// Name.
    pub name: String,
    /// DuckDB type as the catalog reports it.
    pub data_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
}

impl Catalog {
    /// A table by name.
    pub fn table(&self, name: &str) -> Option<&TableInfo> {
        self.tables.iter().find(|t| t.name == name)
    }
}

fn db_err(context: &str) -> impl Fn(duckdb::Error) -> Error + '_ {
    move |source| Error::Database {
        context: context.to_string(),
        source,
    }
}

/// Reads the catalog of schema `main`.
pub fn read_catalog(conn: &Connection) -> Result<Catalog, Error> {
    let mut tables: Vec<TableInfo> = Vec::new();
    {
        let err = db_err("reading duckdb_columns()");
        let mut stmt = conn
            .prepare(
                "SELECT table_name, column_name, data_type, is_nullable
                 FROM duckdb_columns() WHERE schema_name = 'main' AND NOT internal
                 ORDER BY table_name, column_index",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    ColumnInfo {
                        name: row.get(1)?,
                        data_type: row.get(2)?,
                        nullable: row.get(3)?,
                    },
                ))
            })
            .map_err(&err)?;
        for row in rows {
            let (table, column) = row.map_err(&err)?;
            match tables.last_mut() {
                Some(t) if t.name == table => t.columns.push(column),
                _ => tables.push(TableInfo {
                    name: table,
                    columns: vec![column],
                    constraints: Vec::new(),
                    indexes: Vec::new(),
                }),
            }
        }
    }
    let constraints = table_texts(
        conn,
        "reading duckdb_constraints()",
        "SELECT table_name, constraint_type || '(' || array_to_string(constraint_column_names, ', ') || ')'
         FROM duckdb_constraints() WHERE schema_name = 'main' AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
    )?;
    for (table, constraint) in constraints {
        if let Some(t) = tables.iter_mut().find(|t| t.name == table) {
            t.constraints.push(constraint);
        }
    }
    let indexes = table_texts(
        conn,
        "reading duckdb_indexes()",
        "SELECT table_name, index_name || CASE WHEN is_unique THEN ' UNIQUE ' ELSE ' ' END || expressions
         FROM duckdb_indexes() WHERE schema_name = 'main'",
    )?;
    for (table, index) in indexes {
        if let Some(t) = tables.iter_mut().find(|t| t.name == table) {
            t.indexes.push(index);
        }
    }
    for t in &mut tables {
        t.constraints.sort();
        t.indexes.sort();
    }
    Ok(Catalog { tables })
}

/// `(table name, text)` rows of a catalog query whose two columns are both text.
fn table_texts(
    conn: &Connection,
    context: &str,
    sql: &str,
) -> Result<Vec<(String, String)>, Error> {
    let err = db_err(context);
    let mut stmt = conn.prepare(sql).map_err(&err)?;
    let rows = stmt
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(&err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(&err)
}

/// Checks the structural invariants of a head-version catalog; returns every problem found.
pub fn check_catalog(catalog: &Catalog) -> Vec<String> {
    check_catalog_for(catalog, ENTITY_TYPES)
}

/// [`check_catalog`] against a registry whose canonical types are `types` (tests use it with a
/// registry that has one type more than ours).
pub fn check_catalog_for<'a>(
    catalog: &Catalog,
    types: impl IntoIterator<Item = &'a EntityType>,
) -> Vec<String> {
    let types: Vec<&EntityType> = types.into_iter().collect();
    let mut problems = Vec::new();
    let mut expected: Vec<&str> = types.iter().map(|t| t.table).collect();
    expected.extend(STATE_TABLES);
    expected.push(MIGRATIONS_TABLE);
    for name in &expected {
        if catalog.table(name).is_none() {
            problems.push(format!("table {name} is missing"));
        }
    }
    for t in &catalog.tables {
        if !expected.contains(&t.name.as_str()) {
            problems.push(format!("unexpected table {}", t.name));
        }
    }
    // No table carries a PRIMARY KEY or UNIQUE constraint (V0005): DuckLake refuses both, and
    // the write path keeps every logical key unique itself (one write path for both targets).
    for t in &catalog.tables {
        for constraint in &t.constraints {
            problems.push(format!(
                "{}: unexpected constraint {constraint} (logical keys are kept by the write path)",
                t.name
            ));
        }
    }
    for state in STATE_TABLE_DEFS {
        let Some(t) = catalog.table(state.name) else {
            continue;
        };
        for index in &t.indexes {
            problems.push(format!("{}: unexpected index {index}", state.name));
        }
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        let expected: Vec<&str> = state.columns.iter().map(|c| c.name).collect();
        if names != expected {
            problems.push(format!(
                "{}: columns {} in the database, {} in the definition",
                state.name,
                names.join(", "),
                expected.join(", ")
            ));
        }
    }
    // The table list is the registry's; what can go wrong in it is a name used twice.
    for (i, name) in expected.iter().enumerate() {
        if expected[..i].contains(name) {
            problems.push(format!("table {name} is defined more than once"));
        }
    }
    for et in &types {
        let Some(t) = catalog.table(et.table) else {
            continue;
        };
        let has = |col: &str| t.columns.iter().any(|c| c.name == col);
        for col in [SCENARIO_COLUMN, EXTRA_COLUMN, "created_at"]
            .iter()
            .chain(PROVENANCE_COLUMNS)
        {
            if !has(col) {
                problems.push(format!("{}: column {col} is missing", et.table));
            }
        }
        if !t
            .columns
            .iter()
            .any(|c| c.name == SCENARIO_COLUMN && !c.nullable)
        {
            problems.push(format!("{}: scenario_id must be NOT NULL", et.table));
        }
        // Every extra ART index is rebuilt at each checkpoint and held in memory (V0003), and a
        // DuckLake catalog has none (V0005): the logical key is kept by the write path.
        for index in &t.indexes {
            problems.push(format!(
                "{}: unexpected index {index} (canonical tables have no index)",
                et.table
            ));
        }
        for col in et.columns() {
            match t.columns.iter().find(|c| c.name == col.name) {
                None => problems.push(format!(
                    "{}: registry column {} is missing",
                    et.table, col.name
                )),
                Some(c) if c.data_type != col.kind.sql_type() => problems.push(format!(
                    "{}.{}: type {} in the database, {} in the registry",
                    et.table,
                    col.name,
                    c.data_type,
                    col.kind.sql_type()
                )),
                Some(c) if c.nullable == col.required => problems.push(format!(
                    "{}.{}: NOT NULL is {} in the database, {} in the registry",
                    et.table, col.name, !c.nullable, col.required
                )),
                Some(_) => {}
            }
        }
        for r in et.references {
            if et.column(r.column).is_none() {
                problems.push(format!(
                    "{}: reference column {} is not a column",
                    et.table, r.column
                ));
            }
            if !types.iter().any(|target| target.table == r.target) {
                problems.push(format!(
                    "{}.{}: reference target {} is not a table",
                    et.table, r.column, r.target
                ));
            }
        }
        for hint in [et.category_column, et.date_column].into_iter().flatten() {
            if et.column(hint).is_none() {
                problems.push(format!("{}: summary hint {hint} is not a column", et.table));
            }
        }
    }
    problems
}

/// Renders `docs/schema.md`, the data dictionary, from the registry alone.
pub fn render_schema_markdown() -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Schema reference\n");
    let _ = writeln!(
        out,
        "Generated from the entity registry (`crates/healthsim-schema/src/registry.rs`) by `cargo xtask schema`; \
         `cargo xtask check` fails when this file is stale. Do not edit by hand.\n"
    );
    let _ = writeln!(
        out,
        "{} canonical entity tables in {} product layers, plus {} state tables and the system table `{MIGRATIONS_TABLE}`.\n",
        ENTITY_TYPES.len(),
        Layer::ALL.len(),
        STATE_TABLES.len()
    );
    let _ = writeln!(out, "Every canonical table also has these columns:\n");
    let _ = writeln!(out, "| column | type | notes |\n|---|---|---|");
    let _ = writeln!(
        out,
        "| `{SCENARIO_COLUMN}` | VARCHAR NOT NULL | the owning scenario; leads the logical key |"
    );
    for c in SYSTEM_COLUMNS {
        let note = match c.name {
            "extra" => "every input field that has no column of its own (nothing is dropped)",
            "created_at" => "when the row was first written (UTC)",
            _ => "provenance",
        };
        let nn = if c.not_null { " NOT NULL" } else { "" };
        let _ = writeln!(out, "| `{}` | {}{} | {} |", c.name, c.sql_type, nn, note);
    }
    let _ = writeln!(
        out,
        "\nIds are scoped by scenario: the logical key is (`{SCENARIO_COLUMN}`, id), so references between entities hold inside a scenario. \
         No table has a PRIMARY KEY or UNIQUE constraint (a DuckLake catalog refuses both): the write path keeps every logical key unique, \
         and every transaction that writes a scenario updates its `scenarios` row, or the `scenario_namespace` guard row when it creates, renames or deletes one, \
         so two writers that would break a key conflict at commit.\n"
    );
    for layer in Layer::ALL {
        let types: Vec<_> = ENTITY_TYPES.iter().filter(|t| t.layer == layer).collect();
        let _ = writeln!(out, "## {} ({} tables)\n", layer.label(), types.len());
        for t in types {
            let _ = writeln!(out, "### `{}`\n", t.table);
            let mut names = vec![format!("`{}`", t.singular)];
            names.extend(t.aliases.iter().map(|a| format!("`{a}`")));
            let _ = writeln!(
                out,
                "Standard: {}. Type names: `{}`, {}.\n",
                t.standard,
                t.table,
                names.join(", ")
            );
            let _ = writeln!(
                out,
                "| column | type | null | key / reference |\n|---|---|---|---|"
            );
            for c in t.columns() {
                let key = if c.name == t.primary_key {
                    "logical key (per scenario)".to_string()
                } else if let Some(r) = t.references.iter().find(|r| r.column == c.name) {
                    let target = crate::registry::by_table(r.target).map_or("?", |x| x.primary_key);
                    format!("→ `{}.{}`", r.target, target)
                } else {
                    String::new()
                };
                let null = if c.required { "NOT NULL" } else { "" };
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    c.name,
                    c.kind.sql_type(),
                    null,
                    key
                );
            }
            let _ = writeln!(out);
        }
    }
    let _ = writeln!(out, "## State ({} tables)\n", STATE_TABLE_DEFS.len());
    for t in STATE_TABLE_DEFS {
        let _ = writeln!(out, "### `{}`\n", t.name);
        let _ = writeln!(out, "{}.\n", capitalize(t.purpose));
        let _ = writeln!(out, "| column | type | null | key |\n|---|---|---|---|");
        for c in t.columns {
            let key = if t.logical_key.contains(&c.name) {
                "logical key"
            } else if t.unique.contains(&c.name) {
                "unique (logical)"
            } else {
                ""
            };
            let null = if c.not_null { "NOT NULL" } else { "" };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                c.name, c.sql_type, null, key
            );
        }
        let _ = writeln!(out);
    }
    out
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
