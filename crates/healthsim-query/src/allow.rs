//! The allow-lists: which tables a query may name, which table functions it may call in
//! `FROM`, which functions, aggregates, window functions, macros and operators it may call at
//! all, and which functions build a value whose size the query chooses.
//!
//! Functions are an allow-list, not a deny-list: `function_review.txt` names every function of
//! the DuckDB catalog we link, each allowed or refused with a category, and a name it does not
//! know is refused. A unit test below compares it with `duckdb_functions()`, so a function a
//! DuckDB upgrade adds is refused until someone reviews it (the file's header says how).
//!
//! Only lists and lookups live here, no syntax tree: [`crate::walk`] applies them node by node,
//! so a reviewer can check what is allowed without reading how the tree is traversed.

use std::collections::HashMap;
use std::sync::OnceLock;

use healthsim_schema::ENTITY_TYPES;

/// Table functions a query may call in `FROM`: pure generators that cannot read anything.
pub const ALLOWED_TABLE_FUNCTIONS: &[&str] = &[
    "range",
    "generate_series",
    "unnest",
    "json_each",
    "json_tree",
];

/// Every table a query may use: the canonical entity tables of the registry.
pub(crate) fn valid_tables() -> Vec<&'static str> {
    ENTITY_TYPES.iter().map(|t| t.table).collect()
}

/// The reviewed catalog: `name allow|refuse category` per line (see its header).
const REVIEW: &str = include_str!("function_review.txt");

/// One reviewed name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reviewed {
    /// The name as DuckDB spells it.
    pub(crate) name: &'static str,
    /// Whether a query may call it.
    pub(crate) allowed: bool,
    /// What it is for (allowed) or why it is refused.
    pub(crate) category: &'static str,
}

/// The review, keyed by lowercase name. A malformed line is skipped here and reported by the
/// unit test `review_file_is_well_formed`.
pub(crate) fn review() -> &'static HashMap<String, Reviewed> {
    static REVIEWED: OnceLock<HashMap<String, Reviewed>> = OnceLock::new();
    REVIEWED.get_or_init(|| {
        REVIEW
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let (name, verdict, category) = (fields.next()?, fields.next()?, fields.next()?);
                let allowed = match verdict {
                    "allow" => true,
                    "refuse" => false,
                    _ => return None,
                };
                Some((
                    name.to_lowercase(),
                    Reviewed {
                        name,
                        allowed,
                        category,
                    },
                ))
            })
            .collect()
    })
}

/// The sentence an agent reads for a refused category. Written as what the function does,
/// never as advice to do something else the sandbox forbids.
pub(crate) fn refusal_reason(category: &str) -> &'static str {
    match category {
        "sql" => "it parses, plans or runs SQL text, or reads a table named in its arguments",
        "plan" => "it reveals query plans",
        "catalog" => {
            "it reads the database catalog (use describe_schema for the tables and columns)"
        }
        "settings" => "it reads or changes settings or variables",
        "statistics" => "it reads storage, memory or connection statistics",
        "secrets" => "it reads secrets",
        "files" => "it reads or writes files (scenario queries read only the scenario's tables)",
        "system" => "it reveals facts about the installation or the session",
        "side-effect" => "it has side effects (sequences, random seeds, logging, sleeping)",
        "session" => "it changes the session or the database",
        "internal" => "it is one of DuckDB's internal helpers",
        _ => "it is refused by the sandbox's function review",
    }
}

/// Why a function may not be called, or `None` when the review allows it. The reason starts
/// with the category (`settings: it reads or changes settings or variables`).
pub(crate) fn refused_function(name: &str) -> Option<String> {
    match review().get(&name.to_lowercase()) {
        Some(entry) if entry.allowed => None,
        Some(entry) => Some(format!(
            "{}: {}",
            entry.category,
            refusal_reason(entry.category)
        )),
        None => Some(match closest_allowed(name) {
            Some(suggestion) => format!(
                "unknown: it is not a function the sandbox knows; did you mean {suggestion}?"
            ),
            None => "unknown: it is not a function the sandbox knows".to_string(),
        }),
    }
}

/// Whether the review allows `name` (case-insensitive).
#[cfg(test)]
pub(crate) fn is_allowed_function(name: &str) -> bool {
    review()
        .get(&name.to_lowercase())
        .is_some_and(|entry| entry.allowed)
}

/// The allowed name nearest to a misspelt one (at most two edits), for the refusal only: it
/// never suggests a refused function.
fn closest_allowed(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    if lower.chars().count() > 64 {
        return None;
    }
    review()
        .values()
        .filter(|entry| entry.allowed)
        .map(|entry| {
            (
                edit_distance(&lower, &entry.name.to_lowercase()),
                entry.name,
            )
        })
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, name)| name)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Names DuckDB's parser itself writes schema-qualified (`main.list_value` for `[1, 2]`,
/// `main.trim` for `TRIM(BOTH ...)`): only these may carry a qualification, and only `main`.
pub(crate) const PARSER_QUALIFIED: &[&str] = &[
    "date_part",
    "list_apply",
    "list_filter",
    "list_value",
    "map",
    "position",
    "row",
    "struct_extract",
    "struct_pack",
    "substring",
    "timezone",
    "trim",
];

/// Column names DuckDB binds to a function when no column of that name exists (SQL's
/// parameterless "value functions"), with the function each one calls: a bare `current_schema`
/// or `user` in a query is a function call.
pub(crate) const VALUE_FUNCTIONS: &[(&str, &str)] = &[
    ("current_catalog", "current_catalog"),
    ("current_date", "current_date"),
    ("current_role", "current_role"),
    ("current_schema", "current_schema"),
    ("current_time", "get_current_time"),
    ("current_timestamp", "get_current_timestamp"),
    ("current_user", "current_user"),
    ("localtime", "current_localtime"),
    ("localtimestamp", "current_localtimestamp"),
    ("session_user", "session_user"),
    ("user", "user"),
];

/// Functions that apply an aggregate named by a text argument (`list_aggr(l, 'sum')`), with
/// that argument's position (0-based): the name must be a constant naming an allowed function.
pub(crate) const NAMED_AGGREGATE_FUNCTIONS: &[(&str, usize)] = &[
    ("aggregate", 1),
    ("array_aggr", 1),
    ("array_aggregate", 1),
    ("list_aggr", 1),
    ("list_aggregate", 1),
];

/// How a function's result size follows from its arguments, for the functions whose size the
/// query chooses (see [`crate::walk`] for how it is checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SizeRule {
    /// The result has as many characters or elements as the argument at this position.
    Argument(usize),
    /// `repeat(value, n)`: the length of the first argument times the second.
    Repeat,
    /// `range`/`generate_series` as scalars: the number of steps between the arguments.
    Series {
        /// `generate_series` includes its end.
        inclusive: bool,
    },
    /// `printf`/`format`: the format's length plus its widths and precisions plus the
    /// arguments.
    Format,
    /// `replace`/`regexp_replace(text, pattern, replacement)`: every character of the text
    /// may be replaced, and a regular-expression replacement may repeat the whole match.
    Replace {
        /// `\0`, `\1` in the replacement repeat (parts of) the match.
        groups: bool,
    },
    /// `concat`, `||`, `list_concat`: the sum of the arguments.
    Sum,
    /// `bitstring_agg(x, min, max)`: one bit per value between min and max.
    Span {
        /// Position of `min`; `max` follows it.
        from: usize,
    },
}

/// Functions that build a value of a size the query chooses: the result is built in one piece,
/// outside DuckDB's buffer manager (so `memory_limit` does not apply) and without checking for
/// interruption (so the timeout only acts once it is built). `SELECT length(repeat('x',
/// 2000000000))` took ~10 s and ~4 GB with a 1 GB limit and a 5 s timeout.
pub(crate) const SIZED_FUNCTIONS: &[(&str, SizeRule)] = &[
    ("repeat", SizeRule::Repeat),
    ("lpad", SizeRule::Argument(1)),
    ("rpad", SizeRule::Argument(1)),
    ("list_resize", SizeRule::Argument(1)),
    ("array_resize", SizeRule::Argument(1)),
    ("bitstring", SizeRule::Argument(1)),
    ("bar", SizeRule::Argument(3)),
    ("equi_width_bins", SizeRule::Argument(2)),
    ("range", SizeRule::Series { inclusive: false }),
    ("generate_series", SizeRule::Series { inclusive: true }),
    ("printf", SizeRule::Format),
    ("format", SizeRule::Format),
    ("replace", SizeRule::Replace { groups: false }),
    ("regexp_replace", SizeRule::Replace { groups: true }),
    ("concat", SizeRule::Sum),
    ("||", SizeRule::Sum),
    ("list_concat", SizeRule::Sum),
    ("list_cat", SizeRule::Sum),
    ("array_concat", SizeRule::Sum),
    ("array_cat", SizeRule::Sum),
    ("bitstring_agg", SizeRule::Span { from: 1 }),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use duckdb::Connection;

    use super::*;

    fn catalog(conn: &Connection, sql: &str) -> Vec<(String, String)> {
        let mut stmt = conn.prepare(sql).expect("catalog query");
        let rows = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("catalog rows");
        rows.collect::<Result<_, _>>().expect("catalog values")
    }

    #[test]
    fn review_file_is_well_formed() {
        let mut seen = BTreeSet::new();
        let mut bad = Vec::new();
        for line in REVIEW.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let ok = matches!(fields.as_slice(), [_, "allow" | "refuse", _])
                && seen.insert(fields[0].to_lowercase());
            if !ok {
                bad.push(line);
            }
        }
        assert!(
            bad.is_empty(),
            "malformed or repeated lines:\n{}",
            bad.join("\n")
        );
        assert_eq!(review().len(), seen.len());
        // Every refused category has its own sentence.
        for entry in review().values().filter(|e| !e.allowed) {
            assert_ne!(
                refusal_reason(entry.category),
                refusal_reason("no such category"),
                "{} has no reason sentence for category {}",
                entry.name,
                entry.category
            );
        }
    }

    /// The review covers exactly the catalog of the DuckDB version we link, with the extensions
    /// a lake's sandbox loads.
    #[test]
    fn catalog_every_function_is_reviewed() {
        use healthsim_schema::extensions::{load, Extension};
        let conn = Connection::open_in_memory().expect("in-memory database");
        for extension in [Extension::Postgres, Extension::Ducklake, Extension::Httpfs] {
            load(&conn, extension).unwrap_or_else(|e| panic!("{e}"));
        }
        let names: BTreeSet<String> = catalog(
            &conn,
            "SELECT DISTINCT lower(function_name), '' FROM duckdb_functions()",
        )
        .into_iter()
        .map(|(name, _)| name)
        .collect();
        let unreviewed: Vec<&String> = names
            .iter()
            .filter(|n| !review().contains_key(*n))
            .collect();
        assert!(
            unreviewed.is_empty(),
            "functions of this DuckDB that function_review.txt does not list (review them, \
             see the file's header):\n{}",
            unreviewed
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
        let gone: Vec<&str> = review()
            .keys()
            .filter(|n| !names.contains(*n))
            .map(String::as_str)
            .collect();
        assert!(
            gone.is_empty(),
            "function_review.txt lists functions this DuckDB does not have:\n{}",
            gone.join("\n")
        );
    }

    /// A built-in macro must not be a door to a refused function.
    #[test]
    fn allowed_macros_call_only_allowed_functions() {
        let conn = Connection::open_in_memory().expect("in-memory database");
        let macros = catalog(
            &conn,
            "SELECT function_name, macro_definition FROM duckdb_functions() \
             WHERE function_type = 'macro' AND macro_definition IS NOT NULL",
        );
        let mut checked = 0;
        let mut wrong = Vec::new();
        for (name, body) in macros {
            if !is_allowed_function(&name) {
                continue;
            }
            checked += 1;
            if let Err(e) = crate::validate_query(&conn, &format!("SELECT {body}")) {
                wrong.push(format!("{name}: {body}\n  {e}"));
            }
        }
        assert!(checked > 50, "only {checked} allowed macros checked");
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn catalog_refused_macros_include_those_reaching_refused_functions() {
        // The other direction: the macros the review refuses for what they call really do
        // call something refused, so the macro check above can fail.
        let conn = Connection::open_in_memory().expect("in-memory database");
        for name in [
            "current_catalog",
            "current_database",
            "format_type",
            "get_block_size",
        ] {
            let body: String = conn
                .query_row(
                    "SELECT macro_definition FROM duckdb_functions() \
                     WHERE function_name = ? AND function_type = 'macro' LIMIT 1",
                    [name],
                    |row| row.get(0),
                )
                .expect("macro body");
            assert!(
                crate::validate_query(&conn, &format!("SELECT {body}")).is_err(),
                "{name}: {body}"
            );
        }
    }

    #[test]
    fn sized_and_special_functions_are_allowed_names() {
        let names = SIZED_FUNCTIONS
            .iter()
            .map(|(n, _)| *n)
            .chain(NAMED_AGGREGATE_FUNCTIONS.iter().map(|(n, _)| *n))
            .chain(PARSER_QUALIFIED.iter().copied())
            .chain(ALLOWED_TABLE_FUNCTIONS.iter().copied());
        for name in names {
            assert!(is_allowed_function(name), "{name}");
        }
    }

    #[test]
    fn refusals_name_the_category_and_suggest_only_allowed_functions() {
        let check = |name: &str, expected: Option<&str>| {
            assert_eq!(refused_function(name).as_deref(), expected, "{name}");
        };
        check("lower", None);
        check("LOWER", None);
        check(
            "current_setting",
            Some("settings: it reads or changes settings or variables"),
        );
        check("read_csv", Some("files: it reads or writes files (scenario queries read only the scenario's tables)"));
        check(
            "lenght",
            Some("unknown: it is not a function the sandbox knows; did you mean length?"),
        );
        check(
            "no_such_function_at_all",
            Some("unknown: it is not a function the sandbox knows"),
        );
        // One edit from `query`, which is refused: no suggestion of it.
        check(
            "querx",
            Some("unknown: it is not a function the sandbox knows"),
        );
    }
}
