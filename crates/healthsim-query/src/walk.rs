//! The walk over DuckDB's syntax tree: every node is checked against the allow-lists of
//! [`crate::allow`].
//!
//! - every table reference is an unqualified canonical table or a CTE in scope (CTE visibility
//!   follows DuckDB: a CTE sees the CTEs defined before it, a recursive CTE sees itself, and
//!   one with `USING KEY` also as `recurring.<name>`);
//! - table functions come from [`ALLOWED_TABLE_FUNCTIONS`](crate::ALLOWED_TABLE_FUNCTIONS);
//! - every function, aggregate, window function, macro and operator must be allowed by the
//!   reviewed catalog (`function_review.txt`), unqualified (apart from the few built-ins
//!   DuckDB's parser itself writes as `main.<name>`); so must the function a bare
//!   `current_schema` or `user` calls and the aggregate `list_aggr(l, 'name')` names;
//! - query parameters, `DESCRIBE`/`SHOW`/`SUMMARIZE` and node kinds that only exist inside
//!   DuckDB are refused.
//!
//! # Sizes a query chooses
//!
//! Functions such as `repeat`, `lpad`, `range` or `printf` build a value whose size is one of
//! their arguments, in one piece, outside DuckDB's memory limit and without checking for
//! interruption. The bound is split in two:
//!
//! - **a size known before the query runs is refused early** when it exceeds
//!   [`MAX_BUILT_SIZE`]: constants, casts and arithmetic on them are folded, and nested calls
//!   multiply (`repeat(repeat('x', 100000), 100000)` is 1e10 characters), with a clear message
//!   naming the function and the size;
//! - **a size that depends on the data** (a column, an aggregate, a subquery:
//!   `repeat('*', count(*)::INT)`) is allowed: what such a query can allocate is bounded at run
//!   time by the contained worker process that runs it (its memory ceiling and hard kill), not
//!   by this walk. Sizes hidden from the folding (a scalar subquery of constants, date series)
//!   fall on this side too.
//!
//! The walk uses an explicit stack, never recursion (only folding a size recurses, over the
//! arguments of sized calls, within the depth bound), and collects the canonical tables the
//! query names (each later gets a shadow CTE in [`crate::scope`]) and every CTE name (checked
//! against the catalog in [`crate::validate`]). No regular expression ever decides what is
//! allowed.

use std::collections::BTreeSet;

use healthsim_schema::registry::{MIGRATIONS_TABLE, STATE_TABLES};
use healthsim_schema::{by_table, entity_type};
use serde_json::{Map, Value as Json};

use crate::allow::{
    refused_function, valid_tables, SizeRule, ALLOWED_TABLE_FUNCTIONS, NAMED_AGGREGATE_FUNCTIONS,
    PARSER_QUALIFIED, SIZED_FUNCTIONS, VALUE_FUNCTIONS,
};
use crate::error::Error;
use crate::json::{str_field, type_of};
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
///
/// `sql` is the text the tree was parsed from, used only to word refusals (whether a table name
/// was written as a string, i.e. a file path, or as a quoted identifier).
pub(crate) fn walk_ast(root: &Json, sql: &str) -> Result<Walk, Error> {
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
                "BASE_TABLE" => check_table(root, sql, object, &scopes, scope, &mut walk)?,
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
        let table_function = type_of(value) == Some("TABLE_FUNCTION");
        for (key, child) in object {
            match key.as_str() {
                "cte_map" => {}
                // A table function's own call was checked against the table functions (a
                // generator streams rows, so its size is no concern); its arguments are
                // walked like any expression.
                "function" if table_function => {
                    if let Some(arguments) = child.get("children") {
                        pending.push((arguments, scope));
                    }
                }
                _ => pending.push((child, scope)),
            }
        }
    }
    Ok(walk)
}

fn check_expression(class: &str, object: &Map<String, Json>) -> Result<(), Error> {
    match class {
        "FUNCTION" | "WINDOW" => {
            let name = str_field(object, "function_name");
            let (schema, catalog) = (str_field(object, "schema"), str_field(object, "catalog"));
            // DuckDB's parser itself qualifies a few built-ins (a list literal becomes
            // `main.list_value`); only those, and only with `main`, may carry a qualification.
            let parser_qualified = schema == "main"
                && catalog.is_empty()
                && PARSER_QUALIFIED.contains(&name.to_ascii_lowercase().as_str());
            // A refused name is refused as such, however it is qualified.
            check_allowed(name)?;
            if (!schema.is_empty() || !catalog.is_empty()) && !parser_qualified {
                return Err(Error::QualifiedName {
                    name: dotted(&[catalog, schema, name]),
                });
            }
            check_named_aggregate(name, object)?;
            check_built_size(name, object)
        }
        "COLUMN_REF" => check_value_function(object),
        "PARAMETER" => Err(Error::Unsupported {
            construct: "query parameters ($1, ?, $name); write the values into the query".into(),
        }),
        _ => Ok(()),
    }
}

/// Refuses a function the review does not allow, naming it and the reason category.
fn check_allowed(name: &str) -> Result<(), Error> {
    match refused_function(name) {
        Some(reason) => Err(Error::ForbiddenFunction {
            name: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// A bare `current_schema`, `user`, ... is a call of the function DuckDB binds it to.
fn check_value_function(object: &Map<String, Json>) -> Result<(), Error> {
    let Some([Json::String(column)]) = object
        .get("column_names")
        .and_then(Json::as_array)
        .map(Vec::as_slice)
    else {
        return Ok(());
    };
    let lower = column.to_ascii_lowercase();
    let Some((_, function)) = VALUE_FUNCTIONS.iter().find(|(n, _)| *n == lower) else {
        return Ok(());
    };
    match refused_function(function) {
        Some(reason) => Err(Error::ForbiddenFunction {
            name: column.clone(),
            reason: format!("{reason} (a column of that name must be qualified, e.g. t.{column})"),
        }),
        None => Ok(()),
    }
}

/// `list_aggr(l, 'sum')` calls the aggregate its text argument names: that argument must be a
/// constant naming an allowed function.
fn check_named_aggregate(name: &str, object: &Map<String, Json>) -> Result<(), Error> {
    let lower = name.to_ascii_lowercase();
    let Some(&(_, position)) = NAMED_AGGREGATE_FUNCTIONS.iter().find(|(n, _)| *n == lower) else {
        return Ok(());
    };
    let Some(argument) = children(object).get(position) else {
        return Ok(());
    };
    match constant_text(argument) {
        Some(named) => check_allowed(named),
        None => Err(Error::ForbiddenFunction {
            name: name.to_string(),
            reason: format!(
                "its argument {} must be the aggregate's name written as a constant text, \
                 e.g. {name}(l, 'sum')",
                position + 1
            ),
        }),
    }
}

fn children(object: &Map<String, Json>) -> &[Json] {
    object
        .get("children")
        .and_then(Json::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A constant text (`'sum'`), if the node is one.
fn constant_text(node: &Json) -> Option<&str> {
    let object = node.as_object()?;
    if str_field(object, "class") != "CONSTANT" {
        return None;
    }
    object.get("value")?.get("value")?.as_str()
}

/// A [`SIZED_FUNCTIONS`] call whose size is known before the query runs (constant arguments,
/// constant arithmetic, nested sized calls) may build at most [`MAX_BUILT_SIZE`]; a size that
/// depends on the data is left to the run-time bounds (see the crate documentation).
fn check_built_size(name: &str, object: &Map<String, Json>) -> Result<(), Error> {
    match built_size(name, object) {
        Some(size) if size > MAX_BUILT_SIZE as f64 => Err(Error::UnboundedSize {
            name: name.to_string(),
            reason: format!("this call would build {}", whole(size)),
            max: MAX_BUILT_SIZE,
        }),
        _ => Ok(()),
    }
}

/// A size for a message: whole numbers as such, anything beyond 1e18 in exponent form.
fn whole(size: f64) -> String {
    if size < 1e18 {
        format!("{}", size.ceil() as u64)
    } else {
        format!("{size:e}")
    }
}

/// The size (characters or elements) the sized function `name` builds, when its arguments say
/// so before the query runs; `None` when the size depends on the data. Exact for most rules;
/// an argument whose size is unknown counts as 1 (`repeat`) or 0 (concatenations), and for
/// formats and regular-expression replacements the size is an upper bound.
fn built_size(name: &str, object: &Map<String, Json>) -> Option<f64> {
    let lower = name.to_ascii_lowercase();
    let &(_, rule) = SIZED_FUNCTIONS.iter().find(|(n, _)| *n == lower)?;
    let args = children(object);
    let number = |i: usize| args.get(i).and_then(fold_number);
    let size = |i: usize| args.get(i).and_then(fold_size);
    let built = match rule {
        SizeRule::Argument(i) => number(i)?,
        SizeRule::Repeat => number(1)?.max(0.0) * size(0).unwrap_or(1.0),
        SizeRule::Series { inclusive } => {
            let (start, end, step) = match args.len() {
                1 => (0.0, number(0)?, 1.0),
                2 => (number(0)?, number(1)?, 1.0),
                _ => (number(0)?, number(1)?, number(2)?),
            };
            if step == 0.0 {
                return None;
            }
            ((end - start) / step).floor() + if inclusive { 1.0 } else { 0.0 }
        }
        SizeRule::Format => {
            let format = args.first().and_then(constant_text)?;
            let (widths, dynamic) = if lower == "printf" {
                printf_widths(format)
            } else {
                fmt_widths(format)
            };
            let mut total = format.chars().count() as f64 + widths;
            for arg in args.iter().skip(1) {
                total += fold_size(arg).unwrap_or(0.0);
                if dynamic {
                    total += fold_number(arg).unwrap_or(0.0).max(0.0);
                }
            }
            total
        }
        SizeRule::Replace { groups: false } => {
            // At most text / pattern non-overlapping occurrences, each growing by the
            // difference of the lengths.
            let (text, replacement) = (size(0)?, size(2)?);
            let pattern = size(1).unwrap_or(1.0).max(1.0);
            text + (text / pattern).floor() * (replacement - pattern).max(0.0)
        }
        SizeRule::Replace { groups: true } => {
            // A pattern may match at every position, and `\0` in the replacement repeats the
            // whole match: an upper bound, not the exact size.
            let (text, replacement) = (size(0)?, size(2)?);
            text + (text + 1.0) * replacement * text.max(1.0)
        }
        SizeRule::Sum => args.iter().filter_map(fold_size).sum(),
        SizeRule::Span { from } => number(from + 1)? - number(from)? + 1.0,
    };
    Some(built.max(0.0))
}

/// The widths and precisions of a printf format (`%10.3f`), and whether one is given by an
/// argument (`%*d`).
fn printf_widths(format: &str) -> (f64, bool) {
    let mut total = 0.0;
    let mut dynamic = false;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            continue;
        }
        while chars.peek().is_some_and(|c| "-+ #0'".contains(*c)) {
            chars.next();
        }
        for part in 0..2 {
            if part == 1 {
                if chars.peek() != Some(&'.') {
                    break;
                }
                chars.next();
            }
            if chars.peek() == Some(&'*') {
                dynamic = true;
                chars.next();
                continue;
            }
            let mut digits = String::new();
            while let Some(d) = chars.peek().filter(|c| c.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            total += digits.parse::<f64>().unwrap_or(0.0);
        }
    }
    (total, dynamic)
}

/// The widths and precisions of a `format` (fmt) string (`{:>10}`, `{:.3f}`), and whether one
/// is given by an argument (`{:>{}}`).
fn fmt_widths(format: &str) -> (f64, bool) {
    let mut total = 0.0;
    let mut dynamic = false;
    let mut depth = 0usize;
    let mut in_spec = false;
    let mut digits = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if depth == 0 && chars.peek() == Some(&'{') => {
                chars.next();
            }
            '{' => {
                depth += 1;
                if depth > 1 {
                    dynamic = true;
                }
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    in_spec = false;
                }
            }
            ':' if depth == 1 => in_spec = true,
            _ => {}
        }
        if in_spec && depth == 1 && c.is_ascii_digit() {
            digits.push(c);
        } else if !digits.is_empty() {
            total += digits.parse::<f64>().unwrap_or(0.0);
            digits.clear();
        }
    }
    (total, dynamic)
}

/// The value of a constant number in the tree (`5`, `1.5e3`, `10 * 1000000000`,
/// `'7'::INTEGER`): literals, casts and arithmetic on them. `None` for anything else.
fn fold_number(node: &Json) -> Option<f64> {
    let object = node.as_object()?;
    match str_field(object, "class") {
        "CONSTANT" => constant_number(object.get("value")?),
        "CAST" => fold_number(object.get("child")?),
        "FUNCTION" => {
            let args = children(object);
            let arg = |i: usize| args.get(i).and_then(fold_number);
            let value = match (
                str_field(object, "function_name")
                    .to_ascii_lowercase()
                    .as_str(),
                args.len(),
            ) {
                ("-", 1) => -arg(0)?,
                ("+", 1) => arg(0)?,
                ("+" | "add", 2) => arg(0)? + arg(1)?,
                ("-" | "subtract", 2) => arg(0)? - arg(1)?,
                ("*" | "multiply", 2) => arg(0)? * arg(1)?,
                ("/" | "divide", 2) => arg(0)? / arg(1)?,
                ("//", 2) => (arg(0)? / arg(1)?).floor(),
                ("**" | "^" | "pow" | "power", 2) => arg(0)?.powf(arg(1)?),
                ("abs" | "@", 1) => arg(0)?.abs(),
                ("greatest", _) => args
                    .iter()
                    .map(fold_number)
                    .collect::<Option<Vec<f64>>>()?
                    .into_iter()
                    .fold(f64::MIN, f64::max),
                _ => return None,
            };
            value.is_finite().then_some(value)
        }
        _ => None,
    }
}

/// A serialized constant's numeric value (integers, decimals with their scale, doubles, huge
/// integers, and text that reads as a number).
fn constant_number(value: &Json) -> Option<f64> {
    if value.get("is_null").and_then(Json::as_bool) == Some(true) {
        return None;
    }
    let scale = value
        .get("type")
        .and_then(|t| t.get("type_info"))
        .and_then(|i| i.get("scale"))
        .and_then(Json::as_u64)
        .unwrap_or(0);
    let number = match value.get("value")? {
        Json::Number(n) => n.as_f64()?,
        Json::String(text) => text.trim().parse::<f64>().ok()?,
        Json::Object(huge) => {
            let upper = huge.get("upper")?.as_f64()?;
            let lower = huge.get("lower")?.as_f64()?;
            upper * 18_446_744_073_709_551_616.0 + lower
        }
        _ => return None,
    };
    let scaled = number / 10f64.powi(i32::try_from(scale).ok()?);
    scaled.is_finite().then_some(scaled)
}

/// The least size (characters of a text, elements of a list) of a value known before the query
/// runs: constants, list literals, and the sized functions and concatenations built of them.
fn fold_size(node: &Json) -> Option<f64> {
    let object = node.as_object()?;
    match str_field(object, "class") {
        "CONSTANT" => {
            let value = object.get("value")?;
            match value.get("value")? {
                Json::String(text) => Some(text.chars().count() as f64),
                _ => None,
            }
        }
        "CAST" => fold_size(object.get("child")?),
        "FUNCTION" => {
            let name = str_field(object, "function_name");
            match name.to_ascii_lowercase().as_str() {
                "list_value" | "array_value" => Some(children(object).len() as f64),
                _ => built_size(name, object),
            }
        }
        _ => None,
    }
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
    sql: &str,
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
    // `recurring.<cte>` reads the rows a recursive CTE with USING KEY has produced so far;
    // only the name of a CTE in scope may be qualified so.
    let recurring = schema.eq_ignore_ascii_case("recurring")
        && catalog.is_empty()
        && in_scope(scopes, scope, name);
    if (!schema.is_empty() || !catalog.is_empty()) && !recurring {
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
        reason: forbidden_table_reason(&lower, root, written_as_string(sql, object)),
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

/// Whether the table reference was written as a string (`FROM 'x.csv'`, which DuckDB reads as
/// a file) rather than a name (`FROM "x.csv"`): both serialize alike, so the text decides.
fn written_as_string(sql: &str, object: &Map<String, Json>) -> bool {
    object
        .get("query_location")
        .and_then(Json::as_u64)
        .and_then(|at| usize::try_from(at).ok())
        .and_then(|at| sql.as_bytes().get(at))
        == Some(&b'\'')
}

fn forbidden_table_reason(lower: &str, root: &Json, string: bool) -> String {
    if STATE_TABLES.contains(&lower) || lower == MIGRATIONS_TABLE {
        return "it is a scenario bookkeeping table, not scenario data \
                (use list_scenarios or the scenario summary)"
            .into();
    }
    if string {
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
    let (schema, catalog) = function.map_or(("", ""), |f| {
        (str_field(f, "schema"), str_field(f, "catalog"))
    });
    if !schema.is_empty() || !catalog.is_empty() {
        return Err(Error::QualifiedName {
            name: dotted(&[catalog, schema, name]),
        });
    }
    if ALLOWED_TABLE_FUNCTIONS.contains(&name.to_ascii_lowercase().as_str()) {
        return Ok(());
    }
    // A function the review refuses is refused for what it does.
    check_allowed(name)?;
    Err(Error::ForbiddenFunction {
        name: name.to_string(),
        reason: format!(
            "the table functions a query may use are {}",
            ALLOWED_TABLE_FUNCTIONS.join(", ")
        ),
    })
}
