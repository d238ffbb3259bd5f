//! Running a query: validate, scope, count, fetch one page, render — with the watchdog armed
//! for the whole call.
//!
//! Pagination is exact (`total_count` from `SELECT count(*)` over the scoped query), the page
//! order stable (the query's own top-level `ORDER BY`; else its table's key when the result
//! provably carries it once per row, module `order`; else `ORDER BY ALL`), and only the page
//! is ever fetched into Rust. DuckDB's errors become [`Error::Execution`] with the line numbers
//! of the agent's own text.

use std::collections::HashSet;

use duckdb::types::Value;
use duckdb::Connection;

use crate::allow::valid_tables;
use crate::error::Error;
use crate::limits::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::page::{fit_page, render_page, QueryOptions, QueryResult, RawPage};
use crate::pivot;
use crate::sandbox::{Stop, Watchdog};
use crate::scope::scoped_queries;
use crate::validate::analyze;

/// Runs one read-only query against the rows of `scenario_id` and returns one page.
///
/// See the [crate documentation](crate) for what is checked and how the query is scoped.
pub fn run_query(
    conn: &Connection,
    scenario_id: &str,
    sql: &str,
    options: &QueryOptions,
) -> Result<QueryResult, Error> {
    let page = run_query_unbudgeted(conn, scenario_id, sql, options)?;
    fit_page(page, options)
}

/// [`run_query`] without the page's token budget ([`fit_page`]): what a contained worker
/// computes, leaving the budget (and the tokenizer, slow to build) to its long-lived caller.
pub(crate) fn run_query_unbudgeted(
    conn: &Connection,
    scenario_id: &str,
    sql: &str,
    options: &QueryOptions,
) -> Result<QueryResult, Error> {
    let limit = options.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(Error::InvalidLimit {
            given: limit,
            max: MAX_LIMIT,
        });
    }
    let watchdog = Watchdog::start(conn, options.timeout, options.cancel.clone())?;
    let outcome = run_watched(conn, scenario_id, sql, options, limit);
    // An interruption wins over whatever the interrupted statement reported.
    match (watchdog.stop(), outcome) {
        (Stop::Deadline, _) => Err(Error::Timeout {
            seconds: options.timeout.as_secs_f64(),
        }),
        (Stop::Cancelled, _) => Err(Error::Cancelled),
        (Stop::Finished, Ok(page)) => Ok(render_page(&page, limit, options)),
        (Stop::Finished, Err(e)) => Err(e),
    }
}

fn run_watched(
    conn: &Connection,
    scenario_id: &str,
    sql: &str,
    options: &QueryOptions,
    limit: usize,
) -> Result<RawPage, Error> {
    let analysis = match analyze(conn, sql) {
        Ok(analysis) => analysis,
        // DuckDB cannot run a PIVOT without IN list read-only: look its values up, then run
        // the text with its IN lists (validated from scratch like any query).
        Err(Error::Unsupported { construct }) => match pivot::plan(sql) {
            Some(plan) => {
                let rewritten = with_pivot_values(conn, scenario_id, sql, &plan, options)?;
                return run_watched(conn, scenario_id, &rewritten, options, limit);
            }
            None => return Err(Error::Unsupported { construct }),
        },
        Err(e) => return Err(e),
    };
    let wrappers = scoped_queries(conn, sql, &analysis)?;
    let scenario = (!analysis.tables.is_empty()).then_some(scenario_id);
    let total_count = count_rows(conn, &wrappers.count, scenario)?;
    let (columns, json_columns, rows) =
        fetch_page(conn, &wrappers.page, scenario, limit, options.offset)?;
    Ok(RawPage {
        columns: unique_names(columns),
        json_columns,
        rows,
        total_count,
        offset: options.offset,
    })
}

/// `sql` with the IN list of every ON expression of `plan`, each list looked up with a scoped
/// `SELECT DISTINCT` (at most [`pivot::MAX_PIVOT_VALUES`] values).
fn with_pivot_values(
    conn: &Connection,
    scenario_id: &str,
    sql: &str,
    plan: &pivot::PivotPlan,
    options: &QueryOptions,
) -> Result<String, Error> {
    let lookup = QueryOptions {
        offset: 0,
        ..options.clone()
    };
    let mut values = Vec::new();
    for column in &plan.columns {
        let distinct = pivot::distinct_query(sql, plan, column);
        // The lookup has no PIVOT without IN list of its own unless the dataset has one: then
        // this recursion expands that one first, and each level removes one.
        let page = run_watched(
            conn,
            scenario_id,
            &distinct,
            &lookup,
            pivot::MAX_PIVOT_VALUES,
        )?;
        if page.total_count > pivot::MAX_PIVOT_VALUES as u64 {
            return Err(Error::Unsupported {
                construct: format!(
                    "PIVOT ON {} without an IN list over {} distinct values (at most {} are \
                     looked up); write the IN list",
                    &sql[column.clone()],
                    page.total_count,
                    pivot::MAX_PIVOT_VALUES
                ),
            });
        }
        let texts = page
            .rows
            .into_iter()
            .filter_map(|row| match row.into_iter().next() {
                Some(Value::Text(text)) => Some(text),
                _ => None,
            })
            .collect::<Vec<_>>();
        values.push(texts);
    }
    pivot::with_in_lists(sql, plan, &values)
}

fn count_rows(conn: &Connection, sql: &str, scenario: Option<&str>) -> Result<u64, Error> {
    let mut stmt = conn.prepare(sql).map_err(execution)?;
    let count: i64 = match scenario {
        Some(id) => stmt.query_row([id], |row| row.get(0)),
        None => stmt.query_row([], |row| row.get(0)),
    }
    .map_err(execution)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

type PageRows = (Vec<String>, Vec<bool>, Vec<Vec<Value>>);

fn fetch_page(
    conn: &Connection,
    sql: &str,
    scenario: Option<&str>,
    limit: usize,
    offset: usize,
) -> Result<PageRows, Error> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare(sql).map_err(execution)?;
    let mut rows = match scenario {
        Some(id) => stmt.query(duckdb::params![id, limit, offset]),
        None => stmt.query(duckdb::params![limit, offset]),
    }
    .map_err(execution)?;
    let (columns, json_columns) = match rows.as_ref() {
        Some(stmt) => {
            let count = stmt.column_count();
            let names = (0..count)
                .map(|i| {
                    stmt.column_name(i)
                        .map_or_else(|_| format!("column{i}"), Clone::clone)
                })
                .collect();
            let json = (0..count)
                .map(|i| stmt.column_logical_type(i).get_alias().as_deref() == Some("JSON"))
                .collect();
            (names, json)
        }
        None => (Vec::new(), Vec::new()),
    };
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(execution)? {
        let values = (0..columns.len())
            .map(|i| row.get::<_, Value>(i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(execution)?;
        out.push(values);
    }
    Ok((columns, json_columns, out))
}

fn execution(source: duckdb::Error) -> Error {
    let message = match &source {
        duckdb::Error::DuckDBFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    };
    Error::Execution {
        message: crate::error::agent_message(&renumber_lines(&message)),
        valid_tables: valid_tables(),
    }
}

/// DuckDB points at the failing line (`LINE 2: ...`) of the wrapped text, where the user's
/// query starts on line 2; renumber so the agent sees its own line numbers.
fn renumber_lines(message: &str) -> String {
    let Some(at) = message.find("LINE ") else {
        return message.to_string();
    };
    let digits_start = at + "LINE ".len();
    let rest = &message[digits_start..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    match rest[..digits].parse::<usize>() {
        Ok(line) if line > 1 && rest[digits..].starts_with(':') => format!(
            "{}{}{}",
            &message[..digits_start],
            line - 1,
            &rest[digits..]
        ),
        _ => message.to_string(),
    }
}

/// Column names as JSON object keys must be unique: `a`, `a` becomes `a`, `a_1` (DuckDB
/// already does this for the columns of a subquery; this is the safety net).
fn unique_names(columns: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    columns
        .into_iter()
        .map(|name| {
            let mut candidate = name.clone();
            let mut n = 1;
            while !seen.insert(candidate.clone()) {
                candidate = format!("{name}_{n}");
                n += 1;
            }
            candidate
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_are_renumbered_to_the_users_text() {
        assert_eq!(
            renumber_lines("Binder Error: x\n\nLINE 3: SELECT y\n  ^"),
            "Binder Error: x\n\nLINE 2: SELECT y\n  ^"
        );
        assert_eq!(renumber_lines("no line here"), "no line here");
        assert_eq!(renumber_lines("LINE 1: odd"), "LINE 1: odd");
    }

    #[test]
    fn unique_column_names() {
        let names = unique_names(vec!["a".into(), "a".into(), "b".into(), "a".into()]);
        assert_eq!(names, ["a", "a_1", "b", "a_2"]);
    }
}
