//! DDL generated from the registry: the head schema that the migrations must reproduce.
//!
//! The migration files are the append-only history; this module is what the registry says the
//! schema *is*. `cargo xtask check` builds one database from each and requires identical catalogs,
//! so a registry change without a migration (or the reverse) fails CI.
//!
//! No table has a `PRIMARY KEY` or `UNIQUE` constraint (since V0005): each has a *logical key*
//! (`(scenario_id, <id>)` for a canonical table, [`StateTable::logical_key`] for a state table)
//! that the write path of healthsim-persist keeps unique itself. A DuckLake catalog refuses
//! both constraints, and on the local file the key's ART index was the largest single cost of
//! persist and clone (docs/performance.md); one write path serves both.

use crate::registry::{EntityType, SystemColumn, ENTITY_TYPES, SCENARIO_COLUMN, SYSTEM_COLUMNS};

/// A state table: fixed columns and a logical key, defined here once.
#[derive(Debug)]
pub struct StateTable {
    /// Table name.
    pub name: &'static str,
    /// What the table is for (rendered into docs/schema.md).
    pub purpose: &'static str,
    /// Columns in order.
    pub columns: &'static [SystemColumn],
    /// The logical key: no two rows share these columns' values (empty for a one-row table).
    /// Not a constraint: the write path keeps it.
    pub logical_key: &'static [&'static str],
    /// Columns whose values are unique on their own (logical too, kept by the write path).
    pub unique: &'static [&'static str],
}

const fn sc(name: &'static str, sql_type: &'static str, not_null: bool) -> SystemColumn {
    SystemColumn {
        name,
        sql_type,
        not_null,
    }
}

/// The five state tables.
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
        logical_key: &["scenario_id"],
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
        logical_key: &["scenario_id", "entity_type"],
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
        logical_key: &["scenario_id", "tag"],
        unique: &[],
    },
    StateTable {
        name: STATISTICS_TABLE,
        purpose: "the running statistics of a scenario's summary: per entity type, the mergeable parts of its statistics (`part` >= 0: rows per `value` of a distribution; -1: the row count; <= -2: count, sum, minimum and maximum of a measured column), one set of rows appended per persist (after a set of the replaced rows' parts, negated) and added up by the summary, copied by a clone, recomputed from all rows at the end of an import, a FHIR or legacy import, a merge and `healthsim persist`; deleted by every other write of the scenario",
        columns: &[
            sc("scenario_id", "VARCHAR", true),
            sc("entity_type", "VARCHAR", true),
            sc("part", "INTEGER", true),
            sc("value", "VARCHAR", false),
            sc("n", "BIGINT", true),
            sc("total", "DOUBLE", false),
            sc("exact_total", "DECIMAL(38,2)", false),
            sc("low_number", "DOUBLE", false),
            sc("high_number", "DOUBLE", false),
            sc("low_day", "DATE", false),
            sc("high_day", "DATE", false),
        ],
        logical_key: &[],
        unique: &[],
    },
    StateTable {
        name: GUARD_TABLE,
        purpose: "exactly one row, the guard row: every transaction that creates, renames or deletes a scenario first increments `version`, so two such transactions on a DuckLake catalog conflict at commit instead of creating two scenarios of one name",
        columns: &[sc("version", "BIGINT", true)],
        logical_key: &[],
        unique: &[],
    },
];

/// The table of running statistics (see [`STATE_TABLE_DEFS`]); its rows of one scenario and
/// type add up, so it has no logical key.
pub const STATISTICS_TABLE: &str = "scenario_statistics";

/// The guard table of scenario names (see [`STATE_TABLE_DEFS`]); it holds exactly one row.
pub const GUARD_TABLE: &str = "scenario_namespace";

/// The rows the head schema starts with: the guard table's one row.
pub fn head_seed_rows() -> Vec<String> {
    vec![format!("INSERT INTO {GUARD_TABLE} (version) VALUES (0);")]
}

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
    let lines: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            let not_null = if c.not_null { " NOT NULL" } else { "" };
            format!("    {} {}{}", c.name, c.sql_type, not_null)
        })
        .collect();
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

/// Every `CREATE INDEX` of the head schema: none. A separate scenario_id index cost more than
/// it saved (migration V0003); the keys' indexes went with their constraints, and the tag index
/// with them, since a DuckLake catalog has no indexes at all (V0005). Scenario-scoped scans are
/// pruned by row-group zone maps instead.
pub fn head_indexes() -> Vec<String> {
    Vec::new()
}

/// The whole head schema as one script.
pub fn head_schema_sql() -> String {
    schema_sql_for(ENTITY_TYPES)
}

/// The whole schema of a registry whose canonical tables are `types`, as one script.
pub fn schema_sql_for<'a>(types: impl IntoIterator<Item = &'a EntityType>) -> String {
    let mut parts = tables_for(types);
    parts.extend(head_indexes());
    parts.extend(head_seed_rows());
    parts.join("\n\n") + "\n"
}
