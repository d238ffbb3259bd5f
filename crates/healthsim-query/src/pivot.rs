//! PIVOT without an IN list: the values to pivot on are looked up first, with a scoped query,
//! and written into the text as an IN list.
//!
//! DuckDB runs `PIVOT patients ON gender USING count(*)` as two statements: one that creates an
//! ENUM type of the distinct values (a write, which the read-only sandbox cannot do), and the
//! pivot itself. Analysts write it that way all the time, so the sandbox does the first step
//! itself: for every ON expression without an IN list it runs
//! `SELECT DISTINCT CAST((expr) AS VARCHAR) FROM <dataset> WHERE (expr) IS NOT NULL` through the
//! whole sandbox (validated and scoped like any query), and inserts ` IN ('v1', 'v2', …)` after
//! the expression, each value a quoted SQL string literal. The rewritten text is then validated
//! from scratch, like any text an agent sends: this module only finds where the pieces are, and
//! a mistake in its hand-written scanner makes a query fail, never lets one through.
//!
//! Limits: at most [`MAX_PIVOT_VALUES`] values per expression (more is refused with a message
//! that says to write the IN list); the dataset may use CTEs of a top-level WITH before the
//! PIVOT, not those of an enclosing query.

use std::ops::Range;

use crate::error::Error;
use crate::statements::end_of_quoted;

/// The most distinct values an ON expression without an IN list may have.
pub(crate) const MAX_PIVOT_VALUES: usize = 100;

/// Where the pieces of a PIVOT without IN list are in the text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PivotPlan {
    /// A top-level `WITH …` before the PIVOT, which the dataset may refer to.
    pub(crate) prefix: Range<usize>,
    /// The dataset: the text between PIVOT and ON.
    pub(crate) dataset: Range<usize>,
    /// The ON expressions that have no IN list.
    pub(crate) columns: Vec<Range<usize>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    Open,
    Close,
    Comma,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    span: (usize, usize),
    kind: Kind,
}

/// The tokens of `sql` that matter for finding a PIVOT's pieces: words, parentheses, commas;
/// strings, quoted names and everything else as `Other`; whitespace and comments skipped.
fn tokens(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < bytes.len() {
        let start = i;
        let kind = match bytes[i] {
            b'\'' | b'"' => {
                i = end_of_quoted(bytes, i);
                Kind::Other
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i..].find("*/").map_or(bytes.len(), |end| i + end + 2);
                continue;
            }
            b if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Kind::Word
            }
            b'(' => {
                i += 1;
                Kind::Open
            }
            b')' => {
                i += 1;
                Kind::Close
            }
            b',' => {
                i += 1;
                Kind::Comma
            }
            _ => {
                // One character (of any width) at a time.
                i += sql[i..].chars().next().map_or(1, char::len_utf8);
                Kind::Other
            }
        };
        out.push(Token {
            span: (start, i.min(bytes.len())),
            kind,
        });
    }
    out
}

fn is_word(sql: &str, token: &Token, words: &[&str]) -> bool {
    token.kind == Kind::Word
        && words
            .iter()
            .any(|w| sql[token.span.0..token.span.1].eq_ignore_ascii_case(w))
}

/// Finds the first simplified PIVOT (`PIVOT dataset ON expr [, expr] USING …`) whose ON
/// expressions lack an IN list; `None` when there is none.
pub(crate) fn plan(sql: &str) -> Option<PivotPlan> {
    let tokens = tokens(sql);
    let at = tokens
        .iter()
        .position(|t| is_word(sql, t, &["PIVOT", "PIVOT_WIDER"]))?;
    let depth_at = tokens[..at].iter().fold(0i64, |d, t| match t.kind {
        Kind::Open => d + 1,
        Kind::Close => d - 1,
        _ => d,
    });
    let prefix = match tokens.first() {
        Some(first) if depth_at == 0 && is_word(sql, first, &["WITH"]) => 0..tokens[at].span.0,
        _ => 0..0,
    };
    // The dataset: up to ON at the PIVOT's own depth.
    let mut depth = 0i64;
    let mut on = None;
    for (i, t) in tokens.iter().enumerate().skip(at + 1) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close if depth == 0 => return None,
            Kind::Close => depth -= 1,
            _ if depth == 0 && is_word(sql, t, &["ON"]) => {
                on = Some(i);
                break;
            }
            _ => {}
        }
    }
    let on = on?;
    if on == at + 1 {
        return None;
    }
    let dataset = tokens[at + 1].span.0..tokens[on - 1].span.1;
    // The ON expressions: up to USING, GROUP, ORDER, LIMIT or the PIVOT's closing parenthesis.
    let mut columns = Vec::new();
    let mut current: Option<(usize, usize, bool)> = None; // (start, end, has IN)
    let mut depth = 0i64;
    let mut finish = |current: &mut Option<(usize, usize, bool)>| {
        if let Some((start, end, has_in)) = current.take() {
            if !has_in {
                columns.push(start..end);
            }
        }
    };
    for t in &tokens[on + 1..] {
        if depth == 0
            && (t.kind == Kind::Close || is_word(sql, t, &["USING", "GROUP", "ORDER", "LIMIT"]))
        {
            break;
        }
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth -= 1,
            Kind::Comma if depth == 0 => {
                finish(&mut current);
                continue;
            }
            _ => {}
        }
        let has_in = depth == 0 && is_word(sql, t, &["IN"]);
        current = Some(match current {
            Some((start, _, seen)) => (start, t.span.1, seen || has_in),
            None => (t.span.0, t.span.1, has_in),
        });
    }
    finish(&mut current);
    (!columns.is_empty()).then_some(PivotPlan {
        prefix,
        dataset,
        columns,
    })
}

/// The query that finds the distinct values of one ON expression.
pub(crate) fn distinct_query(sql: &str, plan: &PivotPlan, column: &Range<usize>) -> String {
    let expr = &sql[column.clone()];
    format!(
        "{}SELECT DISTINCT CAST(({expr}) AS VARCHAR) AS pivot_value FROM {} \
         WHERE ({expr}) IS NOT NULL ORDER BY 1",
        &sql[plan.prefix.clone()],
        &sql[plan.dataset.clone()],
    )
}

/// `sql` with ` IN ('v1', …)` after each ON expression of `plan`, `values` in the same order.
pub(crate) fn with_in_lists(
    sql: &str,
    plan: &PivotPlan,
    values: &[Vec<String>],
) -> Result<String, Error> {
    let mut out = String::with_capacity(sql.len() + 64);
    let mut copied = 0;
    for (column, values) in plan.columns.iter().zip(values) {
        if values.is_empty() {
            return Err(Error::Unsupported {
                construct: format!(
                    "PIVOT ON {} without an IN list over no values (the scenario has none): \
                     write the IN list",
                    &sql[column.clone()]
                ),
            });
        }
        out.push_str(&sql[copied..column.end]);
        out.push_str(" IN (");
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push('\'');
            out.push_str(&value.replace('\'', "''"));
            out.push('\'');
        }
        out.push(')');
        copied = column.end;
    }
    out.push_str(&sql[copied..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (query, dataset, ON expressions without IN list) — or None when there is nothing to do.
    fn check(sql: &str, expected: Option<(&str, &[&str])>) {
        let found = plan(sql).map(|p| {
            (
                sql[p.dataset.clone()].to_string(),
                p.columns
                    .iter()
                    .map(|c| sql[c.clone()].to_string())
                    .collect::<Vec<_>>(),
            )
        });
        let expected = expected.map(|(d, c)| {
            (
                d.to_string(),
                c.iter().map(ToString::to_string).collect::<Vec<_>>(),
            )
        });
        assert_eq!(found, expected, "{sql}");
    }

    #[test]
    fn the_pieces_of_a_pivot_are_found() {
        type Expected = Option<(&'static str, &'static [&'static str])>;
        #[rustfmt::skip]
        let cases: [(&str, Expected); 10] = [
            ("PIVOT patients ON gender USING count(*)", Some(("patients", &["gender"]))),
            ("pivot patients on gender, state using count(*) group by city", Some(("patients", &["gender", "state"]))),
            ("PIVOT patients ON gender IN ('F') USING count(*)", None),
            ("PIVOT patients ON gender IN ('F'), state USING count(*)", Some(("patients", &["state"]))),
            ("SELECT * FROM (PIVOT (SELECT * FROM claims) ON status USING sum(total_paid)) p", Some(("(SELECT * FROM claims)", &["status"]))),
            ("PIVOT patients ON upper(gender) || '-' || state USING count(*)", Some(("patients", &["upper(gender) || '-' || state"]))),
            ("PIVOT_WIDER patients ON gender USING count(*)", Some(("patients", &["gender"]))),
            ("SELECT 'PIVOT x ON y' AS t", None),
            ("SELECT 1 -- PIVOT x ON y\n", None),
            ("SELECT pivoted FROM t", None),
        ];
        for (sql, expected) in cases {
            check(sql, expected);
        }
    }

    #[test]
    fn values_become_quoted_literals_after_their_expression() {
        let sql = "WITH s AS (SELECT * FROM patients) PIVOT s ON gender USING count(*)";
        let p = plan(sql).expect("plan");
        assert_eq!(
            &sql[p.prefix.clone()],
            "WITH s AS (SELECT * FROM patients) "
        );
        assert_eq!(
            distinct_query(sql, &p, &p.columns[0]),
            "WITH s AS (SELECT * FROM patients) SELECT DISTINCT CAST((gender) AS VARCHAR) AS \
             pivot_value FROM s WHERE (gender) IS NOT NULL ORDER BY 1"
        );
        let rewritten = with_in_lists(sql, &p, &[vec!["F".into(), "O'Brien".into()]]);
        assert_eq!(
            rewritten.expect("rewritten"),
            "WITH s AS (SELECT * FROM patients) PIVOT s ON gender IN ('F', 'O''Brien') USING \
             count(*)"
        );
        assert!(matches!(
            with_in_lists(sql, &p, &[vec![]]),
            Err(Error::Unsupported { .. })
        ));
    }
}
