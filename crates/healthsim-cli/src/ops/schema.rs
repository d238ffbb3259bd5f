//! `schema` / `describe_schema`: the entity registry, compact enough for an agent's
//! context, precise enough to write correct SQL.
//!
//! Without a type: every entity type with its table, layer, primary key, aliases and references
//! (no columns, about 2,000 tokens). With one or more types: those types with their columns and
//! SQL types. Everything is read from `healthsim_schema::ENTITY_TYPES`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::args::SchemaArgs;
use crate::error::{CliError, CliResult};
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::{self, Output};

/// The most tokens a description takes: every type without columns, or the columns of as many
/// types as fit (more are refused with this bound in the message).
pub const SCHEMA_TOKEN_BUDGET: usize = 3_000;
/// The most types one call describes with their columns (the ten widest take about 2,100
/// tokens).
pub const MAX_DESCRIBED_TYPES: usize = 10;

/// describe_schema arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DescribeParams {
    /// One to 10 entity types, comma-separated (e.g. "claims,claim_lines"), to get their
    /// columns; omit for the list of every type.
    pub entity_type: Option<String>,
}

/// The `describe_schema` tool.
#[derive(Debug)]
pub struct DescribeSchema;

impl Tool for DescribeSchema {
    const NAME: &'static str = "describe_schema";
    const COMMAND: &'static str = "schema";
    const TITLE: &'static str = "Describe schema";
    const EFFECT: Effect = Effect::ReadOnly;
    const MAX_RESULT_TOKENS: usize = SCHEMA_TOKEN_BUDGET;
    const DESCRIPTION: &'static str = "\
Describe the HealthSim entity types, tables and columns, to choose \
entity_type for persist_entities and to write correct SQL for query_scenario. Without \
entity_type: every type with its table, layer, primary key, accepted aliases and references \
(foreign keys inside a scenario). With entity_type (one to 10, comma-separated, e.g. \
'claims,claim_lines'): those types with their columns and SQL types.";
    type Params = DescribeParams;
    type Output = SchemaDescription;

    /// Reads the registry only: the database is not opened.
    async fn call(_context: ToolContext, params: DescribeParams) -> CliResult<SchemaDescription> {
        describe(params.entity_type.as_deref())
    }
}

/// What every canonical table has besides its domain columns; the same text for every type.
pub const COMMON_COLUMNS_NOTE: &str =
    "Every table also has: scenario_id (queries are scoped to the \
scenario automatically; you need not filter on it), created_at TIMESTAMP, source_type, \
source_system, skill_used, generation_seed BIGINT, and extra JSON (input fields without a column; \
read with extra->>'field'). Join tables on the referenced primary keys. gender is stored as F, M, \
O or U and state as a USPS code (AZ): other spellings (female, Arizona) are normalized when \
written, the given one kept in extra->'normalized_from'.";

/// The registry, as the agent sees it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SchemaDescription {
    /// Columns every table has, and how queries are scoped.
    pub note: String,
    /// The described entity types (all of them, or the requested ones).
    pub entity_types: Vec<TypeDescription>,
}

/// One entity type.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TypeDescription {
    /// Table name: use it in SQL and as `entity_type`.
    pub table: String,
    /// Product layer (PatientSim, MemberSim, ...).
    pub layer: String,
    /// Primary-key column (unique within a scenario).
    pub primary_key: String,
    /// Other accepted names for the type (singular form, aliases).
    pub aliases: Vec<String>,
    /// Foreign keys, as `column -> table`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Domain columns as `name TYPE` (`NOT NULL` when required); only when types were requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// The standard the columns follow; only when types were requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard: Option<String>,
}

fn describe_type(t: &healthsim_schema::EntityType, with_columns: bool) -> TypeDescription {
    let mut aliases = vec![t.singular.to_string()];
    aliases.extend(t.aliases.iter().map(|a| a.to_string()));
    TypeDescription {
        table: t.table.to_string(),
        layer: t.layer.label().to_string(),
        primary_key: t.primary_key.to_string(),
        aliases,
        references: t
            .references
            .iter()
            .map(|r| format!("{} -> {}", r.column, r.target))
            .collect(),
        columns: with_columns.then(|| {
            t.columns()
                .map(|c| {
                    let not_null = if c.required { " NOT NULL" } else { "" };
                    format!("{} {}{not_null}", c.name, c.kind.sql_type())
                })
                .collect()
        }),
        standard: with_columns.then(|| t.standard.to_string()),
    }
}

/// Describes every type (`None` or empty), or the comma-separated types given (any alias).
pub fn describe(entity_types: Option<&str>) -> CliResult<SchemaDescription> {
    let wanted: Vec<&str> = entity_types
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if wanted.len() > MAX_DESCRIBED_TYPES {
        return Err(CliError::input(format!(
            "describe at most {MAX_DESCRIBED_TYPES} entity types with their columns per call \
             (the result's bound is {SCHEMA_TOKEN_BUDGET} tokens), got {}",
            wanted.len()
        )));
    }
    let entity_types = if wanted.is_empty() {
        healthsim_schema::ENTITY_TYPES
            .iter()
            .map(|t| describe_type(t, false))
            .collect()
    } else {
        let mut types = Vec::new();
        for name in wanted {
            let t = healthsim_schema::entity_type(name)?;
            if !types.iter().any(|d: &TypeDescription| d.table == t.table) {
                types.push(describe_type(t, true));
            }
        }
        types
    };
    Ok(SchemaDescription {
        note: COMMON_COLUMNS_NOTE.to_string(),
        entity_types,
    })
}

/// `healthsim schema [TYPE]`.
pub fn run(args: &SchemaArgs) -> CliResult<Output> {
    let description = describe(args.entity_type.as_deref())?;
    let mut text = String::new();
    if description.entity_types.iter().all(|t| t.columns.is_none()) {
        let rows: Vec<Vec<String>> = description
            .entity_types
            .iter()
            .map(|t| {
                vec![
                    t.table.clone(),
                    t.layer.clone(),
                    t.primary_key.clone(),
                    t.aliases.join(", "),
                ]
            })
            .collect();
        text.push_str(&output::table(
            &["table", "layer", "primary key", "also accepted as"],
            &rows,
        ));
        text.push_str("\n`healthsim schema TYPE` lists a type's columns.\n");
    } else {
        for t in &description.entity_types {
            text.push_str(&format!(
                "{} ({}; {})\n  primary key: {}\n  also accepted as: {}\n",
                t.table,
                t.layer,
                t.standard.as_deref().unwrap_or(""),
                t.primary_key,
                t.aliases.join(", ")
            ));
            if !t.references.is_empty() {
                text.push_str(&format!("  references: {}\n", t.references.join(", ")));
            }
            for column in t.columns.iter().flatten() {
                text.push_str(&format!("    {column}\n"));
            }
            text.push('\n');
        }
    }
    text.push_str(&format!("{}\n", description.note));
    Output::new(&description, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The agent learns which columns are stored in a code set, and where the given spelling is.
    #[test]
    fn the_note_names_the_normalized_columns() {
        for (column, _) in healthsim_persist::normalize::NORMALIZED_COLUMNS {
            assert!(COMMON_COLUMNS_NOTE.contains(column), "{column}");
        }
        assert!(COMMON_COLUMNS_NOTE.contains(healthsim_persist::normalize::NORMALIZED_FROM));
    }

    #[test]
    fn all_types_without_columns() -> CliResult<()> {
        let d = describe(None)?;
        assert_eq!(d.entity_types.len(), healthsim_schema::ENTITY_TYPES.len());
        assert!(d.entity_types.iter().all(|t| t.columns.is_none()));
        Ok(())
    }

    #[test]
    fn requested_types_with_columns_by_alias() -> CliResult<()> {
        let d = describe(Some("labs, claim_lines,lab_results"))?;
        let tables: Vec<&str> = d.entity_types.iter().map(|t| t.table.as_str()).collect();
        assert_eq!(tables, ["lab_results", "claim_lines"]);
        let columns = d.entity_types[1].columns.clone().unwrap_or_default();
        assert!(columns.contains(&"claim_line_id VARCHAR NOT NULL".to_string()));
        assert!(d.entity_types[1]
            .references
            .contains(&"claim_id -> claims".into()));
        Ok(())
    }

    #[test]
    fn unknown_type_is_an_input_error() {
        let err = describe(Some("spaceships")).err();
        assert_eq!(
            err.map(|e| e.class()),
            Some(crate::error::ErrorClass::Input)
        );
    }
}
