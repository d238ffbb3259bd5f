//! The page: what a caller asks for ([`QueryOptions`]), what it gets back ([`QueryResult`]),
//! and the rendering that keeps every page within [`PAGE_TOKEN_BUDGET`] tokens.
//!
//! Cells are cut to [`QueryOptions::max_cell_chars`] (ending in `…`); if the page is still over
//! the budget, trailing rows are dropped, and if not even one row fits, cells are shortened
//! further. A page never silently exceeds the budget: it fits, or the call fails with
//! [`Error::ResultTooWide`].

use std::time::Duration;

use duckdb::types::Value;
use healthsim_schema::value::{json_column, to_json};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::cancel::Cancel;
use crate::error::Error;
use crate::limits::{DEFAULT_MAX_CELL_CHARS, DEFAULT_TIMEOUT, MIN_CELL_CHARS, PAGE_TOKEN_BUDGET};

/// Marks text that was cut.
const ELLIPSIS: char = '…';

/// How a query is paginated and bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryOptions {
    /// Rows per page: 1 to [`MAX_LIMIT`](crate::MAX_LIMIT); `None` means
    /// [`DEFAULT_LIMIT`](crate::DEFAULT_LIMIT).
    pub limit: Option<usize>,
    /// Rows to skip before the page.
    pub offset: usize,
    /// Wall-clock bound for the whole call; a query still running is interrupted.
    pub timeout: Duration,
    /// Longest text of one cell (characters); longer cells end in `…`.
    pub max_cell_chars: usize,
    /// Stops the query from another thread (a client's cancellation); `None`: not cancellable.
    pub cancel: Option<Cancel>,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            limit: None,
            offset: 0,
            timeout: DEFAULT_TIMEOUT,
            max_cell_chars: DEFAULT_MAX_CELL_CHARS,
            cancel: None,
        }
    }
}

/// One page of a scenario query. Its field docs are also the MCP output schema's descriptions
/// (feature `json-schema`), written for the agent that reads them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "json-schema",
    schemars(description = "One page of query results (≤ 2,000 tokens).")
)]
pub struct QueryResult {
    /// Result column names in order.
    pub columns: Vec<String>,
    /// The page's rows, each a column -> value object.
    pub results: Vec<Map<String, Json>>,
    /// Rows in this page.
    pub returned: usize,
    /// Rows of the whole result (exact).
    pub total_count: u64,
    /// More rows follow: query again with offset = offset + returned.
    pub has_more: bool,
    /// The page size asked for.
    pub limit: usize,
    /// The offset of this page.
    pub offset: usize,
    /// Something was cut to fit the page budget (long cells end in '…', or fewer rows than limit).
    pub truncated: bool,
}

/// The rows of one page, still as DuckDB values.
pub(crate) struct RawPage {
    /// Column names, already unique.
    pub(crate) columns: Vec<String>,
    /// Which columns are of DuckDB's JSON type (rendered as JSON, not as text).
    pub(crate) json_columns: Vec<bool>,
    /// The fetched rows: at most one page.
    pub(crate) rows: Vec<Vec<Value>>,
    /// Rows of the whole result.
    pub(crate) total_count: u64,
    /// The offset of this page.
    pub(crate) offset: usize,
}

/// Renders the fetched rows as JSON within the page budget.
pub(crate) fn render_page(
    page: RawPage,
    limit: usize,
    options: &QueryOptions,
) -> Result<QueryResult, Error> {
    let mut cell_chars = options.max_cell_chars.max(1);
    loop {
        let (mut result, cut_cells) = render(&page, limit, cell_chars);
        let fetched = result.results.len();
        let rows_kept = fit_rows(&mut result);
        if rows_kept == 0 && fetched > 0 && cell_chars > MIN_CELL_CHARS {
            // Not even one row fits: make cells shorter rather than return an empty page
            // (which would leave the caller no way to make progress).
            cell_chars = (cell_chars / 2).max(MIN_CELL_CHARS);
            continue;
        }
        if rows_kept == 0 && fetched > 0 {
            let tokens = page_tokens(&result);
            return Err(Error::ResultTooWide {
                tokens,
                budget: PAGE_TOKEN_BUDGET,
            });
        }
        result.truncated = cut_cells || rows_kept < fetched;
        if page_tokens(&result) > PAGE_TOKEN_BUDGET {
            return Err(Error::ResultTooWide {
                tokens: page_tokens(&result),
                budget: PAGE_TOKEN_BUDGET,
            });
        }
        return Ok(result);
    }
}

/// Renders every fetched row; the flag tells whether a cell was cut.
fn render(page: &RawPage, limit: usize, cell_chars: usize) -> (QueryResult, bool) {
    let mut cut_any = false;
    let results = page
        .rows
        .iter()
        .map(|row| {
            page.columns
                .iter()
                .zip(row)
                .zip(&page.json_columns)
                .map(|((name, value), is_json)| {
                    let json = match value {
                        Value::Text(text) if *is_json => json_column(text),
                        other => to_json(other),
                    };
                    let (json, cut) = cap_cell(json, cell_chars);
                    cut_any |= cut;
                    (name.clone(), json)
                })
                .collect::<Map<_, _>>()
        })
        .collect::<Vec<_>>();
    let returned = results.len();
    let result = QueryResult {
        columns: page.columns.clone(),
        results,
        returned,
        total_count: page.total_count,
        has_more: more_after(page.offset, returned, page.total_count),
        limit,
        offset: page.offset,
        truncated: cut_any,
    };
    (result, cut_any)
}

fn more_after(offset: usize, returned: usize, total: u64) -> bool {
    let seen = u64::try_from(offset.saturating_add(returned)).unwrap_or(u64::MAX);
    seen < total
}

/// Text longer than `max` characters keeps its first `max` and ends in `…`; a list or struct
/// whose JSON is longer becomes that cut JSON text.
fn cap_cell(value: Json, max: usize) -> (Json, bool) {
    match value {
        Json::String(text) => match cut(&text, max) {
            Some(short) => (Json::String(short), true),
            None => (Json::String(text), false),
        },
        Json::Array(_) | Json::Object(_) => {
            let text = value.to_string();
            match cut(&text, max) {
                Some(short) => (Json::String(short), true),
                None => (value, false),
            }
        }
        other => (other, false),
    }
}

fn cut(text: &str, max: usize) -> Option<String> {
    let mut short = healthsim_schema::text::cut_chars(text, max)?.to_string();
    short.push(ELLIPSIS);
    Some(short)
}

fn page_tokens(result: &QueryResult) -> usize {
    serde_json::to_string(result).map_or(usize::MAX, |text| healthsim_summary::count_tokens(&text))
}

/// Drops trailing rows until the page fits [`PAGE_TOKEN_BUDGET`]; returns the rows kept.
fn fit_rows(result: &mut QueryResult) -> usize {
    let fits = |result: &mut QueryResult, n: usize, rows: &[Map<String, Json>]| {
        result.results = rows[..n].to_vec();
        result.returned = n;
        page_tokens(result) <= PAGE_TOKEN_BUDGET
    };
    let rows = std::mem::take(&mut result.results);
    let total_offset = result.offset;
    // Largest fitting prefix by binary search (token counts grow with the prefix), then
    // confirmed exactly.
    let (mut low, mut high) = (0usize, rows.len());
    if fits(result, high, &rows) {
        low = high;
    } else {
        while low + 1 < high {
            let mid = low + (high - low) / 2;
            if fits(result, mid, &rows) {
                low = mid;
            } else {
                high = mid;
            }
        }
    }
    let mut kept = low;
    while kept > 0 && !fits(result, kept, &rows) {
        kept -= 1;
    }
    result.results = rows[..kept].to_vec();
    result.returned = kept;
    result.has_more = more_after(total_offset, kept, result.total_count);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_cut_with_an_ellipsis() {
        assert_eq!(
            cap_cell(Json::from("abcdef"), 3),
            (Json::from("abc…"), true)
        );
        assert_eq!(cap_cell(Json::from("abc"), 3), (Json::from("abc"), false));
        assert_eq!(cap_cell(Json::from("ééééé"), 2), (Json::from("éé…"), true));
        assert_eq!(
            cap_cell(serde_json::json!([1, 2, 3]), 4),
            (Json::from("[1,2…"), true)
        );
        assert_eq!(cap_cell(Json::from(12345), 2), (Json::from(12345), false));
    }
}
