//! Validation: DuckDB parses the text, we check the result.
//!
//! `json_serialize_sql` (the SQL bound as a parameter, never spliced) decides that the text is
//! exactly one SELECT-like statement and returns its syntax tree as JSON. The tree is read with a
//! depth bound ([`crate::json`]), walked against the allow-lists ([`crate::walk`]), and user CTE
//! names are checked against the catalog. The result, an [`Analysis`], is what scoping and
//! execution work from; nothing is executed here.

use std::collections::{BTreeSet, HashSet};

use duckdb::Connection;
use healthsim_schema::by_table;
use serde_json::Value as Json;

use crate::allow::valid_tables;
use crate::error::{malformed_ast, Error};
use crate::json::{parse_json_bounded, type_of};
use crate::limits::{MAX_AST_DEPTH, MAX_QUERY_CHARS};
use crate::order::unique_key;
use crate::statements::{has_keyword, leading_keyword, split_statements};
use crate::walk::walk_ast;

/// Checks that `sql` is one read-only query that only touches canonical tables and its own
/// CTEs, without running it (DuckDB parses it; nothing is executed). A PIVOT without an IN list
/// is checked as it will run: with an IN list in place (its values are looked up when it runs).
pub fn validate_query(conn: &Connection, sql: &str) -> Result<(), Error> {
    match analyze(conn, sql) {
        Err(Error::Unsupported { construct }) => match crate::pivot::plan(sql) {
            Some(plan) => {
                let placeholders = vec![vec![String::new()]; plan.columns.len()];
                analyze(
                    conn,
                    &crate::pivot::with_in_lists(sql, &plan, &placeholders)?,
                )
                .map(|_| ())
            }
            None => Err(Error::Unsupported { construct }),
        },
        other => other.map(|_| ()),
    }
}

/// What validation learned about a query.
#[derive(Debug)]
pub(crate) struct Analysis {
    /// The top-level query node as DuckDB serialized it.
    pub(crate) node: Json,
    /// The whole serialization (for `json_deserialize_sql`).
    pub(crate) serialized: String,
    /// Canonical tables the query names; each gets a shadow CTE.
    pub(crate) tables: BTreeSet<&'static str>,
    /// The top-level query has its own ORDER BY.
    pub(crate) ordered: bool,
    /// A registry key column the result carries once per row, when that is provable: the page
    /// is then ordered by it instead of `ORDER BY ALL` ([`crate::order`]).
    pub(crate) key: Option<&'static str>,
}

/// Validates `sql` and returns what scoping needs: the tree, its canonical tables, its order.
pub(crate) fn analyze(conn: &Connection, sql: &str) -> Result<Analysis, Error> {
    let chars = sql.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(Error::TooLong {
            chars,
            max: MAX_QUERY_CHARS,
        });
    }
    check_control_characters(sql)?;
    let (serialized, mut parsed) = serialize_sql(conn, sql)?;
    if parsed.get("error").and_then(Json::as_bool) == Some(true) {
        return Err(parse_failure(conn, sql, &parsed));
    }
    let statements = match parsed.get_mut("statements") {
        Some(Json::Array(statements)) => std::mem::take(statements),
        _ => return Err(malformed_ast("no statements array")),
    };
    let count = statements.len();
    let statement = match <[Json; 1]>::try_from(statements) {
        Ok([statement]) => statement,
        Err(_) if count == 0 => return Err(Error::Empty),
        Err(_) => return Err(Error::MultipleStatements { count }),
    };
    let node = match statement {
        Json::Object(mut statement) => statement
            .remove("node")
            .ok_or_else(|| malformed_ast("statement without node"))?,
        _ => return Err(malformed_ast("statement is not an object")),
    };
    let walk = walk_ast(&node, sql)?;
    if !walk.cte_names.is_empty() {
        check_cte_names(conn, &walk.cte_names)?;
    }
    let ordered = node
        .get("modifiers")
        .and_then(Json::as_array)
        .is_some_and(|mods| mods.iter().any(|m| type_of(m) == Some("ORDER_MODIFIER")));
    let key = if ordered { None } else { unique_key(&node) };
    Ok(Analysis {
        node,
        serialized,
        tables: walk.tables,
        ordered,
        key,
    })
}

/// Refuses control characters before DuckDB sees the text: its parser silently stops at a NUL
/// (`SELECT 1 \0; DROP TABLE patients` parses as `SELECT 1`), and no honest query needs any
/// control character but tab, newline and carriage return.
fn check_control_characters(sql: &str) -> Result<(), Error> {
    let found = sql
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r'));
    match found {
        Some((index, c)) => Err(Error::ControlCharacter {
            character: format!("U+{:04X}", u32::from(c)),
            position: index + 1,
        }),
        None => Ok(()),
    }
}

/// DuckDB's AST of `sql` as JSON text and parsed (depth-bounded).
pub(crate) fn serialize_sql(conn: &Connection, sql: &str) -> Result<(String, Json), Error> {
    let text: String = conn
        .query_row("SELECT json_serialize_sql(?::VARCHAR)", [sql], |row| {
            row.get(0)
        })
        .map_err(|source| Error::Database {
            context: "parsing the query",
            source,
        })?;
    let parsed = parse_json_bounded(&text, MAX_AST_DEPTH)?;
    Ok((text, parsed))
}

/// Turns `json_serialize_sql`'s error into the most useful refusal.
fn parse_failure(conn: &Connection, sql: &str, parsed: &Json) -> Error {
    let message = parsed
        .get("error_message")
        .and_then(Json::as_str)
        .unwrap_or("unknown parser error")
        .to_string();
    // The parser gives up on very deep nesting with its own words ("memory exhausted" from
    // the grammar's stack, "expression depth" from DuckDB's limit).
    let lower = message.to_ascii_lowercase();
    if lower.contains("memory exhausted") || lower.contains("depth") {
        return Error::TooDeep { max: MAX_AST_DEPTH };
    }
    if !message.contains("Only SELECT statements") {
        return Error::Syntax { message };
    }
    // DuckDB parsed the text but refuses to serialize a non-SELECT statement, and does not say
    // which one or how many. Splitting the text is only for this message: the decision to
    // refuse has already been made by DuckDB.
    let pieces = split_statements(sql);
    if pieces.len() > 1 {
        return Error::MultipleStatements {
            count: pieces.len(),
        };
    }
    // A PIVOT without an IN list is a query, but DuckDB runs it as two statements (one to
    // find the values to pivot on), which a read-only sandbox cannot do.
    let reads = ["SELECT", "WITH", "FROM", "PIVOT", "PIVOT_WIDER", ""];
    let pivot = pieces.first().is_some_and(|piece| {
        reads.contains(&leading_keyword(piece).as_str())
            && (has_keyword(piece, "PIVOT") || has_keyword(piece, "PIVOT_WIDER"))
    });
    if pivot {
        return Error::Unsupported {
            construct: "PIVOT without an IN list (DuckDB would need a second statement to find \
                        the values); write the values to pivot on, e.g. \
                        PIVOT patients ON gender IN ('female', 'male') USING count(*)"
                .into(),
        };
    }
    let offending = pieces
        .iter()
        .find(|piece| {
            serialize_sql(conn, piece).map_or(true, |(_, p)| {
                p.get("error").and_then(Json::as_bool) != Some(false)
            })
        })
        .or(pieces.first());
    let statement_type = offending
        .map(|piece| leading_keyword(piece))
        .filter(|k| !k.is_empty())
        .map_or_else(
            || "a statement that is not a query".to_string(),
            |k| {
                let article = if k.starts_with(['A', 'E', 'I', 'O', 'U']) {
                    "an"
                } else {
                    "a"
                };
                format!("{article} {k} statement")
            },
        );
    Error::NotReadOnly { statement_type }
}

/// Refuses user CTEs named like a relation that is not a canonical table (`scenarios`,
/// `duckdb_tables`, `pg_class`, ...): should our scope model ever disagree with DuckDB's, such a
/// name would otherwise reach the real relation. A name that is not a relation at all, or a
/// canonical one (shadowed by us), can only ever resolve to a CTE or fail.
fn check_cte_names(conn: &Connection, cte_names: &[String]) -> Result<(), Error> {
    let relations = unqualified_relations(conn)?;
    for name in cte_names {
        let lower = name.to_ascii_lowercase();
        if by_table(&lower).is_none() && relations.contains(&lower) {
            return Err(Error::ForbiddenTable {
                name: name.clone(),
                reason: "a CTE may not reuse the name of a table or view that is not an entity \
                         table; rename the CTE"
                    .into(),
                valid: valid_tables(),
            });
        }
    }
    Ok(())
}

/// Every table and view name that an unqualified reference could resolve to, lowercase.
fn unqualified_relations(conn: &Connection) -> Result<HashSet<String>, Error> {
    let sql = "SELECT lower(table_name) FROM duckdb_tables() \
               WHERE schema_name IN ('main', 'pg_catalog') \
               UNION SELECT lower(view_name) FROM duckdb_views() \
               WHERE schema_name IN ('main', 'pg_catalog')";
    let database = |source| Error::Database {
        context: "reading the catalog",
        source,
    };
    let mut stmt = conn.prepare(sql).map_err(database)?;
    let names = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(database)?
        .collect::<Result<HashSet<_>, _>>()
        .map_err(database)?;
    Ok(names)
}
