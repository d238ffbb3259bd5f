//! DDL generated from the registry: the head schema that the migrations must reproduce.
//!
//! The migration files are the append-only history; this module is what the registry says the
//! schema *is*. `cargo xtask check` builds one database from each and requires identical catalogs,
//! so a registry change without a migration (or the reverse) fails CI.

use crate::registry::{EntityType, SystemColumn, ENTITY_TYPES, SCENARIO_COLUMN, SYSTEM_COLUMNS};

/// A state table: fixed columns and a primary key, defined here once.
#[derive(Debug)]
pub struct StateTable {
    /// Table name.
    pub name: &'static str,
    /// What the table is for (rendered into docs/schema.md).
    pub purpose: &'static str,
    /// Columns in order.
    pub columns: &'static [SystemColumn],
    /// Primary-key columns.
    pub primary_key: &'static [&'static str],
    /// Columns with a UNIQUE constraint of their own.
    pub unique: &'static [&'static str],
}

const fn sc(name: &'static str, sql_type: &'static str, not_null: bool) -> SystemColumn {
    SystemColumn {
        name,
        sql_type,
        not_null,
    }
}

/// The three state tables.
pub static STATE_TABLE_DEFS: &[StateTable] = &[
    StateTable {
        name: "scenarios",
        purpose: "one row per scenario; `name` is unique",
        columns: &[
            sc("scenario_id", "VARCHAR", true),
            sc("name", "VARCHAR", true),
            sc("description", "VARCHAR", false),
            sc("created_at", "TIMESTAMP", true),
            sc("updated_at", "TIMESTAMP", true),
            sc("metadata", "JSON", false),
        ],
        primary_key: &["scenario_id"],
        unique: &["name"],
    },
    StateTable {
        name: "scenario_entities",
        purpose: "the scenario's manifest: entity count per type, kept equal to the canonical tables in the same transaction as every write",
        columns: &[
            sc("scenario_id", "VARCHAR", true),
            sc("entity_type", "VARCHAR", true),
            sc("entity_count", "BIGINT", true),
            sc("updated_at", "TIMESTAMP", true),
        ],
        primary_key: &["scenario_id", "entity_type"],
        unique: &[],
    },
    StateTable {
        name: "scenario_tags",
        purpose: "tags of a scenario (lowercase, trimmed)",
        columns: &[
            sc("scenario_id", "VARCHAR", true),
            sc("tag", "VARCHAR", true),
            sc("created_at", "TIMESTAMP", true),
        ],
        primary_key: &["scenario_id", "tag"],
        unique: &[],
    },
];

/// `CREATE TABLE` for one canonical entity type.
pub fn create_entity_table(t: &EntityType) -> String {
    let mut lines = vec![format!("    {SCENARIO_COLUMN} VARCHAR NOT NULL")];
    for col in t.columns() {
        let not_null = if col.required { " NOT NULL" } else { "" };
        lines.push(format!(
            "    {} {}{}",
            col.name,
            col.kind.sql_type(),
            not_null
        ));
    }
    for col in SYSTEM_COLUMNS {
        lines.push(system_column_sql(col));
    }
    lines.push(format!(
        "    PRIMARY KEY ({SCENARIO_COLUMN}, {})",
        t.primary_key
    ));
    format!("CREATE TABLE {} (\n{}\n);", t.table, lines.join(",\n"))
}

fn system_column_sql(col: &SystemColumn) -> String {
    let mut s = format!("    {} {}", col.name, col.sql_type);
    if col.not_null {
        s.push_str(" NOT NULL");
    }
    if col.name == "created_at" {
        s.push_str(" DEFAULT current_timestamp");
    }
    s
}

/// `CREATE TABLE` for one state table.
pub fn create_state_table(t: &StateTable) -> String {
    let mut lines: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            let unique = if t.unique.contains(&c.name) {
                " UNIQUE"
            } else {
                ""
            };
            let not_null = if c.not_null { " NOT NULL" } else { "" };
            format!("    {} {}{}{}", c.name, c.sql_type, not_null, unique)
        })
        .collect();
    lines.push(format!("    PRIMARY KEY ({})", t.primary_key.join(", ")));
    format!("CREATE TABLE {} (\n{}\n);", t.name, lines.join(",\n"))
}

/// Every `CREATE TABLE` of the head schema (state tables first).
pub fn head_tables() -> Vec<String> {
    tables_for(ENTITY_TYPES)
}

/// Every `CREATE TABLE` of a schema whose canonical tables are `types` (state tables first).
/// [`head_tables`] with the registry; a test passes a registry with an extra type to show that a
/// new entity type needs nothing but its registry entry and a migration.
pub fn tables_for<'a>(types: impl IntoIterator<Item = &'a EntityType>) -> Vec<String> {
    STATE_TABLE_DEFS
        .iter()
        .map(create_state_table)
        .chain(types.into_iter().map(create_entity_table))
        .collect()
}

/// Every `CREATE INDEX` of the head schema. Canonical tables have only their primary key
/// `(scenario_id, <pk>)`: a separate scenario_id index cost more than it saved (migration V0003).
pub fn head_indexes() -> Vec<String> {
    vec!["CREATE INDEX idx_scenario_tags_tag ON scenario_tags (tag);".to_string()]
}

/// The whole head schema as one script.
pub fn head_schema_sql() -> String {
    schema_sql_for(ENTITY_TYPES)
}

/// The whole schema of a registry whose canonical tables are `types`, as one script.
pub fn schema_sql_for<'a>(types: impl IntoIterator<Item = &'a EntityType>) -> String {
    let mut parts = tables_for(types);
    parts.extend(head_indexes());
    parts.join("\n\n") + "\n"
}
