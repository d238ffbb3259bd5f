//! The walk over DuckDB's syntax tree: every node is checked against the allow-lists of
//! [`crate::allow`].
//!
//! - every table reference is an unqualified canonical table or a CTE in scope (CTE visibility
//!   follows DuckDB: a CTE sees the CTEs defined before it, a recursive CTE sees itself);
//! - table functions come from [`ALLOWED_TABLE_FUNCTIONS`](crate::ALLOWED_TABLE_FUNCTIONS);
//! - functions that reach outside the scenario are refused, and functions that build a value
//!   of a size the query chooses need a small constant size;
//! - query parameters, `DESCRIBE`/`SHOW`/`SUMMARIZE` and node kinds that only exist inside
//!   DuckDB are refused.
//!
//! The walk uses an explicit stack, never recursion, and collects the canonical tables the query
//! names (each later gets a shadow CTE in [`crate::scope`]) and every CTE name (checked against
//! the catalog in [`crate::validate`]). No regular expression ever decides what is allowed.

use std::collections::BTreeSet;

use healthsim_schema::registry::{MIGRATIONS_TABLE, STATE_TABLES};
use healthsim_schema::{by_table, entity_type};
use serde_json::{Map, Value as Json};

use crate::allow::{denied_function, valid_tables, ALLOWED_TABLE_FUNCTIONS, SIZED_FUNCTIONS};
use crate::error::Error;
use crate::json::str_field;
use crate::limits::MAX_BUILT_SIZE;

/// What the AST walk collected.
#[derive(Debug, Default)]
pub(crate) struct Walk {
    /// The canonical tables the query names, directly or through a CTE of the same name.
    pub(crate) tables: BTreeSet<&'static str>,
    /// Every CTE name the query defines (including recursive ones).
    pub(crate) cte_names: Vec<String>,
}

/// One visible CTE name, chained to the names visible before it (a linked list in an arena, so
/// a WITH of n CTEs costs n entries, not n² copies).
#[derive(Debug)]
struct Scope {
    parent: Option<usize>,
    name: String,
}

fn in_scope(scopes: &[Scope], mut scope: Option<usize>, name: &str) -> bool {
    while let Some(index) = scope {
        let Some(frame) = scopes.get(index) else {
            return false;
        };
        if frame.name.eq_ignore_ascii_case(name) {
            return true;
        }
        scope = frame.parent;
    }
    false
}

/// Walks DuckDB's serialized AST with an explicit stack (no recursion: the depth is bounded by
/// [`MAX_AST_DEPTH`](crate::MAX_AST_DEPTH) when parsing, and the walk itself uses no call stack per level).
pub(crate) fn walk_ast(root: &Json) -> Result<Walk, Error> {
    let mut walk = Walk::default();
    let mut scopes: Vec<Scope> = Vec::new();
    let mut pending: Vec<(&Json, Option<usize>)> = vec![(root, None)];
    while let Some((value, mut scope)) = pending.pop() {
        let object = match value {
            Json::Array(items) => {
                pending.extend(items.iter().map(|item| (item, scope)));
                continue;
            }
            Json::Object(object) => object,
            _ => continue,
        };
        if let Some(class) = object.get("class").and_then(Json::as_str) {
            check_expression(class, object)?;
        } else if let Some(kind) = object.get("type").and_then(Json::as_str) {
            match kind {
                "BASE_TABLE" => check_table(root, object, &scopes, scope, &mut walk)?,
                "TABLE_FUNCTION" => check_table_function(object)?,
                "SHOW_REF" => {
                    return Err(Error::Unsupported {
                        construct: "DESCRIBE, SHOW and SUMMARIZE (use describe_schema)".into(),
                    })
                }
                "COLUMN_DATA"
                | "DELIM_GET"
                | "BOUND_TABLE_REF"
                | "CTE_NODE"
                | "STATEMENT_NODE"
                | "BOUND_SUBQUERY_NODE" => {
                    return Err(Error::Unsupported {
                        construct: format!("a {kind} reference"),
                    })
                }
                _ => {}
            }
            if kind == "RECURSIVE_CTE_NODE" {
                // The recursive CTE's own name is visible inside its definition.
                let name = str_field(object, "cte_name").to_string();
                walk.cte_names.push(name.clone());
                scopes.push(Scope {
                    parent: scope,
                    name,
                });
                scope = Some(scopes.len() - 1);
            }
        }
        let ctes: &[Json] = object
            .get("cte_map")
            .and_then(|m| m.get("map"))
            .and_then(Json::as_array)
            .map_or(&[], Vec::as_slice);
        if !ctes.is_empty() {
            // A CTE sees the CTEs defined before it (DuckDB resolves a later or its own name
            // outside the WITH); the query body sees all of them.
            for entry in ctes {
                if let Some(body) = entry.get("value") {
                    pending.push((body, scope));
                }
                let name = entry.get("key").and_then(Json::as_str).unwrap_or("");
                walk.cte_names.push(name.to_string());
                scopes.push(Scope {
                    parent: scope,
                    name: name.to_string(),
                });
                scope = Some(scopes.len() - 1);
            }
        }
        for (key, child) in object {
            if key != "cte_map" {
                pending.push((child, scope));
            }
        }
    }
    Ok(walk)
}

fn check_expression(class: &str, object: &Map<String, Json>) -> Result<(), Error> {
    match class {
        "FUNCTION" => {
            let name = str_field(object, "function_name");
            let (schema, catalog) = (str_field(object, "schema"), str_field(object, "catalog"));
            // DuckDB's parser itself qualifies some built-ins (a list literal becomes
            // `main.list_value`); built-ins live in the system catalog, so only those
            // qualifications are accepted. The deny-list below applies to the bare name.
            let builtin_schema = ["", "main", "pg_catalog"].contains(&schema);
            let builtin_catalog = ["", "system"].contains(&catalog);
            if !builtin_schema || !builtin_catalog {
                return Err(Error::QualifiedName {
                    name: dotted(&[catalog, schema, name]),
                });
            }
            if let Some(reason) = denied_function(name) {
                return Err(Error::ForbiddenFunction {
                    name: name.to_string(),
                    reason: reason.to_string(),
                });
            }
            check_built_size(name, object)
        }
        "PARAMETER" => Err(Error::Unsupported {
            construct: "query parameters ($1, ?, $name); write the values into the query".into(),
        }),
        _ => Ok(()),
    }
}

/// The size argument of a [`SIZED_FUNCTIONS`] call must be a whole-number constant of at most
/// [`MAX_BUILT_SIZE`]; for `repeat`, whose result is its first argument that many times, a
/// constant first argument counts with its length (a non-constant one with 1: it is a value of
/// the scenario, or of another bounded call).
fn check_built_size(name: &str, object: &Map<String, Json>) -> Result<(), Error> {
    let lower = name.to_ascii_lowercase();
    let Some(&(_, position)) = SIZED_FUNCTIONS.iter().find(|(n, _)| *n == lower) else {
        return Ok(());
    };
    let refuse = |reason: String| Error::UnboundedSize {
        name: name.to_string(),
        reason,
        max: MAX_BUILT_SIZE,
    };
    let children = object.get("children").and_then(Json::as_array);
    let Some(size) = children.and_then(|c| c.get(position)) else {
        // Too few arguments: DuckDB reports the wrong call itself.
        return Ok(());
    };
    let count = match constant_whole_number(size) {
        Some(count) => count,
        None => {
            return Err(refuse(format!(
                "its argument {} must be a whole-number constant",
                position + 1
            )))
        }
    };
    let unit = if lower.ends_with("repeat") {
        children
            .and_then(|c| c.first())
            .and_then(constant_length)
            .unwrap_or(1)
    } else {
        1
    };
    let size = u64::try_from(count).unwrap_or(0).saturating_mul(unit);
    if size > MAX_BUILT_SIZE {
        return Err(refuse(format!("this call would build {size}")));
    }
    Ok(())
}

/// The value of a constant whole number in the AST (`5`, `2000000000`).
fn constant_whole_number(node: &Json) -> Option<i128> {
    let object = node.as_object()?;
    if str_field(object, "class") != "CONSTANT" {
        return None;
    }
    let value = object.get("value")?.as_object()?;
    match value.get("value")? {
        Json::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from)),
        Json::String(text) => text.parse().ok(),
        _ => None,
    }
}

/// The length of a constant text (in characters) or list literal (in elements).
fn constant_length(node: &Json) -> Option<u64> {
    let object = node.as_object()?;
    let length = match str_field(object, "class") {
        "CONSTANT" => match object.get("value")?.as_object()?.get("value")? {
            Json::String(text) => text.chars().count(),
            _ => return None,
        },
        "FUNCTION" if str_field(object, "function_name") == "list_value" => {
            object.get("children")?.as_array()?.len()
        }
        _ => return None,
    };
    u64::try_from(length).ok()
}

fn dotted(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(".")
}

fn check_table(
    root: &Json,
    object: &Map<String, Json>,
    scopes: &[Scope],
    scope: Option<usize>,
    walk: &mut Walk,
) -> Result<(), Error> {
    let name = str_field(object, "table_name");
    let (schema, catalog) = (
        str_field(object, "schema_name"),
        str_field(object, "catalog_name"),
    );
    if !schema.is_empty() || !catalog.is_empty() {
        return Err(Error::QualifiedName {
            name: dotted(&[catalog, schema, name]),
        });
    }
    let lower = name.to_ascii_lowercase();
    let canonical = by_table(&lower).map(|t| t.table);
    if in_scope(scopes, scope, name) {
        // The user's own CTE; a canonical name still gets its shadow (harmless if unused).
        walk.tables.extend(canonical);
        return Ok(());
    }
    if let Some(table) = canonical {
        walk.tables.insert(table);
        return Ok(());
    }
    Err(Error::ForbiddenTable {
        name: name.to_string(),
        reason: forbidden_table_reason(&lower, root),
        valid: valid_tables(),
    })
}

/// Whether `root` defines a CTE called `lower` anywhere (for the error message only).
fn defines_cte(root: &Json, lower: &str) -> bool {
    let mut pending = vec![root];
    while let Some(value) = pending.pop() {
        match value {
            Json::Array(items) => pending.extend(items),
            Json::Object(object) => {
                let names = object
                    .get("cte_map")
                    .and_then(|m| m.get("map"))
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|entry| entry.get("key").and_then(Json::as_str))
                    .chain(object.get("cte_name").and_then(Json::as_str));
                if names.into_iter().any(|n| n.eq_ignore_ascii_case(lower)) {
                    return true;
                }
                pending.extend(object.values());
            }
            _ => {}
        }
    }
    false
}

fn forbidden_table_reason(lower: &str, root: &Json) -> String {
    if STATE_TABLES.contains(&lower) || lower == MIGRATIONS_TABLE {
        return "it is a scenario bookkeeping table, not scenario data \
                (use list_scenarios or the scenario summary)"
            .into();
    }
    if lower.contains(['.', '/', '\\', ':']) {
        return "file paths and URLs are not tables (queries cannot read files)".into();
    }
    if ["duckdb_", "pg_", "sqlite_", "pragma_", "information_schema"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return "system catalogs are not available (use describe_schema)".into();
    }
    if defines_cte(root, lower) {
        return "that CTE is not visible here (a CTE can be used in the query body and in the \
                CTEs defined after it)"
            .into();
    }
    match entity_type(lower) {
        Ok(t) => format!("no such table; did you mean {}?", t.table),
        Err(_) => "no such table".into(),
    }
}

fn check_table_function(object: &Map<String, Json>) -> Result<(), Error> {
    let function = object.get("function").and_then(Json::as_object);
    let name = function.map_or("", |f| str_field(f, "function_name"));
    if ALLOWED_TABLE_FUNCTIONS.contains(&name.to_ascii_lowercase().as_str()) {
        return Ok(());
    }
    Err(Error::ForbiddenFunction {
        name: name.to_string(),
        reason: format!(
            "the table functions a query may use are {}",
            ALLOWED_TABLE_FUNCTIONS.join(", ")
        ),
    })
}
