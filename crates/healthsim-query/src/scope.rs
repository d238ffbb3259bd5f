//! Scoping: every canonical table the query names is shadowed by a CTE that holds only the
//! scenario's rows, and the wrapping is proved by parsing it again.
//!
//! The query runs as
//! `WITH patients AS NOT MATERIALIZED (SELECT * FROM main.patients WHERE scenario_id = $1), …
//! SELECT * FROM (<query>) AS q …`. Unqualified names resolve to the innermost CTE first, so
//! every reference — in joins, subqueries, user CTEs (even one named like a table), recursive
//! CTEs, set operations and lateral joins — reads only the scenario's rows. The scenario id is a
//! parameter, never spliced. The wrapped text is parsed again and its inner subtree must equal
//! the validated tree, so the query cannot escape its parentheses.

use duckdb::Connection;
use healthsim_schema::SCENARIO_COLUMN;
use serde_json::Value as Json;

use crate::error::Error;
use crate::json::{ast_eq, type_of};
use crate::validate::{serialize_sql, Analysis};

/// Alias of the user's query inside the wrapper.
const SUBQUERY_ALIAS: &str = "q";

/// The two statements that run: the exact count and the page.
pub(crate) struct Wrappers {
    /// `SELECT count(*)` over the scoped query.
    pub(crate) count: String,
    /// The scoped query with its order, `LIMIT` and `OFFSET` parameters.
    pub(crate) page: String,
}

/// Wraps the query in its shadow CTEs, and proves the wrapping by parsing the result: the
/// subquery must be the validated AST, byte for byte apart from source positions.
///
/// The user's text is used as written (error messages then quote it); if it does not embed
/// cleanly (a trailing comment after a `;`, say), DuckDB's own rendering of the AST is used.
pub(crate) fn scoped_queries(
    conn: &Connection,
    sql: &str,
    analysis: &Analysis,
) -> Result<Wrappers, Error> {
    let as_written = sql.trim_end_matches(|c: char| c.is_whitespace() || c == ';');
    let first = wrap(as_written, analysis);
    if wrapping_is_faithful(conn, &first, analysis)? {
        return Ok(first);
    }
    let rendered: String = conn
        .query_row(
            "SELECT json_deserialize_sql(?::JSON)",
            [&analysis.serialized],
            |row| row.get(0),
        )
        .map_err(|source| Error::Database {
            context: "rendering the query",
            source,
        })?;
    let second = wrap(&rendered, analysis);
    if wrapping_is_faithful(conn, &second, analysis)? {
        return Ok(second);
    }
    Err(Error::Unsupported {
        construct: "a query that cannot be embedded as a subquery".into(),
    })
}

fn wrap(body: &str, analysis: &Analysis) -> Wrappers {
    // Parameters: $1 is the scenario id (only when a shadow CTE uses it), then limit and offset.
    let shadows: Vec<String> = analysis
        .tables
        .iter()
        .map(|table| {
            format!(
                "{table} AS NOT MATERIALIZED (SELECT * FROM main.{table} \
                 WHERE {SCENARIO_COLUMN} = $1)"
            )
        })
        .collect();
    let (with, next_param) = if shadows.is_empty() {
        (String::new(), 1)
    } else {
        (format!("WITH {} ", shadows.join(", ")), 2)
    };
    let order = match (analysis.ordered, analysis.key) {
        (true, _) => String::new(),
        (false, Some(key)) => format!(" ORDER BY {SUBQUERY_ALIAS}.{key}"),
        (false, None) => " ORDER BY ALL".to_owned(),
    };
    // The user's text sits on lines of its own, so a trailing `--` comment ends at the newline.
    let inner = format!("(\n{body}\n) AS {SUBQUERY_ALIAS}");
    Wrappers {
        count: format!("{with}SELECT count(*) FROM {inner}"),
        page: format!(
            "{with}SELECT * FROM {inner}{order} LIMIT ${next_param} OFFSET ${}",
            next_param + 1
        ),
    }
}

fn wrapping_is_faithful(
    conn: &Connection,
    wrappers: &Wrappers,
    analysis: &Analysis,
) -> Result<bool, Error> {
    for (sql, expected_modifiers) in [(&wrappers.count, 0), (&wrappers.page, 2)] {
        let (_, parsed) = match serialize_sql(conn, sql) {
            Ok(parsed) => parsed,
            Err(Error::TooDeep { .. }) => return Ok(false),
            Err(e) => return Err(e),
        };
        if !wrapper_matches(&parsed, analysis, expected_modifiers) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn wrapper_matches(parsed: &Json, analysis: &Analysis, expected_modifiers: usize) -> bool {
    let Some([statement]) = parsed
        .get("statements")
        .and_then(Json::as_array)
        .map(Vec::as_slice)
    else {
        return false;
    };
    let Some(node) = statement.get("node") else {
        return false;
    };
    let shadow_names: Vec<&str> = node
        .get("cte_map")
        .and_then(|m| m.get("map"))
        .and_then(Json::as_array)
        .map(|ctes| {
            ctes.iter()
                .filter_map(|c| c.get("key").and_then(Json::as_str))
                .collect()
        })
        .unwrap_or_default();
    let modifiers = node
        .get("modifiers")
        .and_then(Json::as_array)
        .map_or(usize::MAX, Vec::len);
    let expected = expected_modifiers - usize::from(analysis.ordered && expected_modifiers > 0);
    let Some(from) = node.get("from_table") else {
        return false;
    };
    type_of(node) == Some("SELECT_NODE")
        && shadow_names
            .iter()
            .copied()
            .eq(analysis.tables.iter().copied())
        && modifiers == expected
        && type_of(from) == Some("SUBQUERY")
        && from.get("alias").and_then(Json::as_str) == Some(SUBQUERY_ALIAS)
        && from
            .get("subquery")
            .and_then(|s| s.get("node"))
            .is_some_and(|inner| ast_eq(inner, &analysis.node))
}
