//! The page order: the cheapest order that still makes pagination stable.
//!
//! A query without its own top-level `ORDER BY` is paged in a total order, so that page two
//! follows page one whatever DuckDB's threads do. `ORDER BY ALL` gives one for any query, but it
//! sorts every matching row on every column: at a million patients, the first page of
//! `SELECT * FROM patients WHERE state = 'AZ' AND gender = 'F'` spent most of its time in that
//! sort. When the result provably carries one canonical table's key, unique within the
//! scenario, ordering by that one column is the same kind of total order at a fraction of the
//! cost.
//!
//! [`unique_key`] proves it from the syntax tree, conservatively: one `SELECT` from one
//! canonical table (no join, no user CTE of that name, no column renaming), no grouping, no
//! function that turns one row into several (`unnest`), and the key in the select list either
//! through `*` or as the plain column — and nothing else in the list named like the key. Any
//! other query keeps `ORDER BY ALL`. The key's name comes from the entity registry, never from
//! the query text.

use serde_json::Value as Json;

use healthsim_schema::by_table;

use crate::json::type_of;

/// Select-list functions that emit several rows per input row.
const ROW_MULTIPLYING: &[&str] = &["unnest", "unlist", "generate_subscripts"];

/// The registry key column by which the result of `node` (a validated top-level query) is
/// totally ordered, or `None` when that cannot be proved and `ORDER BY ALL` must be used.
pub(crate) fn unique_key(node: &Json) -> Option<&'static str> {
    if type_of(node) != Some("SELECT_NODE")
        || !node.get("group_expressions").is_some_and(is_empty_array)
        || node.get("aggregate_handling").and_then(Json::as_str) != Some("STANDARD_HANDLING")
    {
        return None;
    }
    let from = node.get("from_table")?;
    let table_name = from.get("table_name").and_then(Json::as_str)?;
    if type_of(from) != Some("BASE_TABLE")
        || !text_is_empty(from.get("schema_name"))
        || !text_is_empty(from.get("catalog_name"))
        || !from.get("column_name_alias").is_some_and(is_empty_array)
        || user_ctes(node).any(|name| name.eq_ignore_ascii_case(table_name))
    {
        return None;
    }
    let entity = by_table(&table_name.to_ascii_lowercase())?;
    let key = entity.primary_key;
    let alias = from.get("alias").and_then(Json::as_str).unwrap_or("");
    let names_table = |relation: &str| {
        relation.is_empty()
            || relation.eq_ignore_ascii_case(alias)
            || (alias.is_empty() && relation.eq_ignore_ascii_case(table_name))
    };
    let mut provided = false;
    for item in node.get("select_list")?.as_array()? {
        if contains_row_multiplier(item) {
            return None;
        }
        match select_item(item, key, &names_table)? {
            Item::Key => provided = true,
            Item::Other => {}
        }
    }
    provided.then_some(key)
}

/// What one select-list entry contributes to the key's proof.
enum Item {
    /// All its output columns named like the key hold the key's values.
    Key,
    /// It has no output column named like the key.
    Other,
}

/// Classifies one select-list entry; `None` when it makes the proof impossible (a renamed or
/// computed column named like the key, a star that renames, replaces or reaches another relation).
fn select_item(item: &Json, key: &str, names_table: &dyn Fn(&str) -> bool) -> Option<Item> {
    let alias = item.get("alias").and_then(Json::as_str).unwrap_or("");
    match type_of(item) {
        Some("STAR") => {
            let plain = item.get("columns").and_then(Json::as_bool) == Some(false)
                && item.get("expr").is_none_or(Json::is_null)
                && ["replace_list", "rename_list", "qualified_exclude_list"]
                    .iter()
                    .all(|field| item.get(*field).is_none_or(is_empty_array))
                && names_table(
                    item.get("relation_name")
                        .and_then(Json::as_str)
                        .unwrap_or(""),
                );
            if !plain {
                return None;
            }
            let excluded = item
                .get("exclude_list")
                .and_then(Json::as_array)
                .is_some_and(|list| list.iter().any(|name| names_key(name, key)));
            Some(if excluded { Item::Other } else { Item::Key })
        }
        Some("COLUMN_REF") => {
            let names = item.get("column_names").and_then(Json::as_array)?;
            let (column, qualifier) = match names.as_slice() {
                [column] => (column.as_str()?, ""),
                [relation, column] => (column.as_str()?, relation.as_str()?),
                _ => return None,
            };
            let is_key = column.eq_ignore_ascii_case(key) && names_table(qualifier);
            let output_is_key = if alias.is_empty() {
                column.eq_ignore_ascii_case(key)
            } else {
                alias.eq_ignore_ascii_case(key)
            };
            match (is_key, output_is_key) {
                (true, true) => Some(Item::Key),
                (_, false) => Some(Item::Other),
                (false, true) => None,
            }
        }
        _ if alias.eq_ignore_ascii_case(key) => None,
        _ => Some(Item::Other),
    }
}

/// An exclude-list entry naming the key (DuckDB writes plain names as strings).
fn names_key(entry: &Json, key: &str) -> bool {
    match entry {
        Json::String(name) => name.eq_ignore_ascii_case(key),
        // A form this module does not know: assume the worst, the key is excluded.
        _ => true,
    }
}

/// Names of the top-level query's own CTEs.
fn user_ctes(node: &Json) -> impl Iterator<Item = &str> {
    node.get("cte_map")
        .and_then(|map| map.get("map"))
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|cte| cte.get("key").and_then(Json::as_str))
}

/// Whether a row-multiplying function appears anywhere in `item` (iterative: the tree's depth
/// is bounded by the validator, but the stack here does not depend on it).
fn contains_row_multiplier(item: &Json) -> bool {
    let mut stack = vec![item];
    while let Some(value) = stack.pop() {
        match value {
            Json::Object(object) => {
                let function = object.get("function_name").and_then(Json::as_str);
                if function.is_some_and(|name| {
                    ROW_MULTIPLYING
                        .iter()
                        .any(|multiplier| name.eq_ignore_ascii_case(multiplier))
                }) {
                    return true;
                }
                stack.extend(object.values());
            }
            Json::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    false
}

fn is_empty_array(value: &Json) -> bool {
    value.as_array().is_some_and(Vec::is_empty)
}

fn text_is_empty(value: Option<&Json>) -> bool {
    value.and_then(Json::as_str).is_none_or(str::is_empty)
}

#[cfg(test)]
mod tests {
    use duckdb::Connection;

    use super::unique_key;
    use crate::validate::serialize_sql;

    /// `sql`'s page order key, as [`unique_key`] proves it from DuckDB's own tree.
    fn check(sql: &str, expected: Option<&str>) {
        let conn = Connection::open_in_memory().expect("an in-memory database");
        let (_, parsed) = serialize_sql(&conn, sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let node = &parsed["statements"][0]["node"];
        assert_eq!(unique_key(node), expected, "{sql}");
    }

    #[test]
    fn orders_by_the_key_only_when_the_result_provably_carries_it_once_per_row() {
        check(
            "SELECT * FROM patients WHERE state = 'AZ' AND gender = 'F'",
            Some("patient_id"),
        );
        check("select * from PATIENTS", Some("patient_id"));
        check("SELECT DISTINCT * FROM claims", Some("claim_id"));
        check("SELECT p.* FROM patients p", Some("patient_id"));
        check("SELECT patients.* FROM patients", Some("patient_id"));
        check("SELECT patient_id, state FROM patients", Some("patient_id"));
        check(
            "SELECT p.patient_id, p.state FROM patients AS p",
            Some("patient_id"),
        );
        check(
            "SELECT patient_id AS patient_id FROM patients",
            Some("patient_id"),
        );
        check(
            "SELECT *, row_number() OVER () AS n FROM patients",
            Some("patient_id"),
        );
        check(
            "SELECT * EXCLUDE (gender) FROM patients",
            Some("patient_id"),
        );
        check("SELECT * FROM patients LIMIT 5", Some("patient_id"));
        // Not provable: keep ORDER BY ALL.
        check("SELECT state FROM patients", None);
        check("SELECT * EXCLUDE (patient_id) FROM patients", None);
        check("SELECT patient_id AS pid FROM patients", None);
        check("SELECT state AS patient_id, * FROM patients", None);
        check("SELECT *, 1 AS patient_id FROM patients", None);
        check("SELECT *, unnest([1, 2]) FROM patients", None);
        check("SELECT *, UNLIST([1, 2]) AS x FROM patients", None);
        check(
            "SELECT *, generate_subscripts([1, 2], 1) FROM patients",
            None,
        );
        check(
            "SELECT * REPLACE (upper(state) AS patient_id) FROM patients",
            None,
        );
        check("SELECT * RENAME (state AS patient_id) FROM patients", None);
        check("SELECT COLUMNS('.*') FROM patients", None);
        check("SELECT * FROM patients p(a, b)", None);
        check(
            "SELECT * FROM patients JOIN encounters USING (patient_id)",
            None,
        );
        check(
            "SELECT patient_id, count(*) FROM encounters GROUP BY patient_id",
            None,
        );
        check("SELECT * FROM patients GROUP BY ALL", None);
        check(
            "WITH patients AS (SELECT 1 AS patient_id) SELECT * FROM patients",
            None,
        );
        check(
            "SELECT * FROM patients UNION ALL SELECT * FROM patients",
            None,
        );
        check("SELECT * FROM (SELECT * FROM patients) sub", None);
        check("SELECT * FROM not_a_table", None);
        check("SELECT 1", None);
    }
}
