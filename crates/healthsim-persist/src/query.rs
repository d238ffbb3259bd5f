//! The scenario query sandbox: one read-only SQL query, scoped to one scenario, paginated and
//! bounded in time and size.
//!
//! An agent fetches specific data with SQL (`query_scenario`, SPEC §5). The query may join,
//! nest, aggregate and use CTEs over the 38 canonical tables, and it must never see another
//! scenario, write, read files, attach databases, change settings or load extensions (SPEC §6).
//!
//! Three lines of defence, each sufficient for different things:
//!
//! 1. **The connection** ([`sandbox_config`]): the caller opens the database file as a separate
//!    read-only DuckDB instance with external access, extension loading and temp-file spilling
//!    off, bounded memory and threads, and the configuration locked. This is the first line
//!    because it is enforced by DuckDB itself, below any parsing: even a statement our checks
//!    misjudged cannot write, touch the file system or the network, or change a setting.
//!    What it cannot do is keep a query inside *its scenario* or away from the state tables:
//!    those are ordinary tables of the same file.
//! 2. **The syntax tree** ([`validate_query`]): DuckDB's own parser (`json_serialize_sql`, the
//!    SQL bound as a parameter, never spliced) decides that the text is exactly one SELECT-like
//!    statement and hands us its AST as JSON. Walking it (iteratively, depth-bounded) enforces
//!    allow-lists: every table reference is an unqualified canonical table or a CTE in scope,
//!    table functions come from a short list, functions that reach outside (files, settings,
//!    variables, catalog, dynamic SQL) are refused, and user CTEs may not reuse the name of a
//!    non-entity relation. No regular expression ever decides what is allowed.
//! 3. **Shadowing** ([`run_query`]): the query runs as
//!    `WITH patients AS NOT MATERIALIZED (SELECT * FROM main.patients WHERE scenario_id = $1), …
//!    SELECT * FROM (<query>) AS q …`, with one shadow CTE per canonical table the query names.
//!    Unqualified names resolve to the innermost CTE first, so every reference — in joins,
//!    subqueries, user CTEs (even one named like a table), recursive CTEs, set operations and
//!    lateral joins — reads only the scenario's rows. The wrapped text is parsed again and its
//!    inner subtree must equal the validated AST, so the query cannot escape its parentheses.
//!
//! Pagination is exact (`total_count` from `SELECT count(*)` over the scoped query), the page
//! order stable (the query's own top-level `ORDER BY`, else `ORDER BY ALL`), and only the page
//! is ever fetched into Rust. A watchdog thread interrupts a query that outlives
//! [`QueryOptions::timeout`]. Cells are cut to [`QueryOptions::max_cell_chars`] and the page to
//! [`PAGE_TOKEN_BUDGET`] tokens of compact JSON.
//!
//! ```
//! use healthsim_persist::query::{run_query, sandbox_config, QueryOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("demo.duckdb");
//! {
//!     let conn = duckdb::Connection::open(&path)?;
//!     healthsim_schema::migrate(&conn)?;
//!     conn.execute_batch(
//!         "INSERT INTO patients (scenario_id, patient_id, gender) VALUES
//!              ('s1', 'p1', 'female'), ('s1', 'p2', 'male'), ('s2', 'p1', 'male');",
//!     )?;
//! }
//! let sandbox = duckdb::Connection::open_with_flags(&path, sandbox_config()?)?;
//! let page = run_query(&sandbox, "s1", "SELECT patient_id, gender FROM patients", &QueryOptions::default())?;
//! assert_eq!(page.total_count, 2);
//! assert_eq!(page.results[0]["gender"], "female");
//! assert!(run_query(&sandbox, "s1", "DELETE FROM patients", &QueryOptions::default()).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use duckdb::types::Value;
use duckdb::{AccessMode, Config, Connection};
use healthsim_schema::registry::{MIGRATIONS_TABLE, STATE_TABLES};
use healthsim_schema::value::{json_column, to_json};
use healthsim_schema::{by_table, entity_type, ENTITY_TYPES, SCENARIO_COLUMN};
use serde::Serialize;
use serde_json::{Map, Value as Json};

/// Rows per page when the caller gives no limit.
pub const DEFAULT_LIMIT: usize = 20;
/// The largest page a caller may ask for.
pub const MAX_LIMIT: usize = 100;
/// The most cl100k_base tokens the compact JSON of one [`QueryResult`] may take (SPEC §1).
pub const PAGE_TOKEN_BUDGET: usize = 2000;
/// The longest query text accepted, in characters (100 KB of SQL is far beyond any real query).
pub const MAX_QUERY_CHARS: usize = 100_000;
/// The deepest nesting of DuckDB's serialized syntax tree (JSON objects and arrays) accepted.
///
/// One level of SQL nesting (a subquery, a function call) takes two to four JSON levels, so this
/// allows roughly 100–200 levels of SQL nesting. Deeper trees are refused before they are walked
/// or handed back to DuckDB.
pub const MAX_AST_DEPTH: usize = 400;
/// Default [`QueryOptions::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default [`QueryOptions::max_cell_chars`].
pub const DEFAULT_MAX_CELL_CHARS: usize = 500;
/// Table functions a query may call in `FROM`: pure generators that cannot read anything.
pub const ALLOWED_TABLE_FUNCTIONS: &[&str] = &[
    "range",
    "generate_series",
    "unnest",
    "json_each",
    "json_tree",
];

/// The smallest cell length the page budget shrinks cells to before giving up on a row.
const MIN_CELL_CHARS: usize = 16;
/// Marks text that was cut.
const ELLIPSIS: char = '…';
/// Alias of the user's query inside the wrapper.
const SUBQUERY_ALIAS: &str = "q";

/// How a query is paginated and bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryOptions {
    /// Rows per page: 1 to [`MAX_LIMIT`]; `None` means [`DEFAULT_LIMIT`].
    pub limit: Option<usize>,
    /// Rows to skip before the page.
    pub offset: usize,
    /// Wall-clock bound for the whole call; a query still running is interrupted.
    pub timeout: Duration,
    /// Longest text of one cell (characters); longer cells end in `…`.
    pub max_cell_chars: usize,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            limit: None,
            offset: 0,
            timeout: DEFAULT_TIMEOUT,
            max_cell_chars: DEFAULT_MAX_CELL_CHARS,
        }
    }
}

/// One page of a scenario query.
#[derive(Debug, Clone, Serialize)]
pub struct QueryResult {
    /// Result column names in order, unique (DuckDB names a repeated column `a_1`, `a_2`, …).
    pub columns: Vec<String>,
    /// The page's rows, each a column → value object (dates ISO 8601, DECIMAL as numbers,
    /// JSON columns as JSON).
    pub results: Vec<Map<String, Json>>,
    /// Rows in this page.
    pub returned: usize,
    /// Rows of the whole result (exact).
    pub total_count: u64,
    /// More rows follow this page: fetch again with `offset + returned`.
    pub has_more: bool,
    /// The page size that was asked for.
    pub limit: usize,
    /// The offset of this page.
    pub offset: usize,
    /// Something was cut to fit the page budget: cell text (ending in `…`) and/or trailing rows
    /// (then `returned < limit` while `has_more` is true).
    pub truncated: bool,
}

/// Why a query was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The text holds no statement at all (empty or only comments).
    #[error("the query is empty; send one read-only SELECT query")]
    Empty,
    /// The text is longer than [`MAX_QUERY_CHARS`].
    #[error("the query is {chars} characters long; the maximum is {max}")]
    TooLong {
        /// Length of the query text.
        chars: usize,
        /// The maximum.
        max: usize,
    },
    /// The syntax tree is nested deeper than [`MAX_AST_DEPTH`].
    #[error("the query is nested too deeply (its syntax tree exceeds {max} levels); simplify it")]
    TooDeep {
        /// The depth limit.
        max: usize,
    },
    /// DuckDB's parser rejected the text.
    #[error("syntax error: {message}")]
    Syntax {
        /// The parser's message.
        message: String,
    },
    /// More than one statement was sent.
    #[error("only a single read-only query is allowed; the text holds {count} statements")]
    MultipleStatements {
        /// Number of statements found.
        count: usize,
    },
    /// The statement is not a query (INSERT, CREATE, SET, ATTACH, COPY, PRAGMA, ...).
    #[error(
        "only a single read-only query is allowed (SELECT, WITH ... SELECT, VALUES, UNION ...); \
         got {statement_type}"
    )]
    NotReadOnly {
        /// The statement, e.g. `a DROP statement` (its leading keyword, for the message only).
        statement_type: String,
    },
    /// A table reference that is not a canonical entity table or a CTE in scope.
    #[error("table '{name}' cannot be queried: {reason}; valid tables: {}", valid.join(", "))]
    ForbiddenTable {
        /// The name as written.
        name: String,
        /// Why it is refused.
        reason: String,
        /// Every table a query may use.
        valid: Vec<&'static str>,
    },
    /// A schema- or catalog-qualified table or function name (`main.patients`, `memory.main.x`).
    #[error(
        "qualified name '{name}' is not allowed: use plain table names such as patients \
         (every table is already limited to the scenario)"
    )]
    QualifiedName {
        /// The name as written, parts joined with dots.
        name: String,
    },
    /// A function that could reach outside the scenario, or a table function off the allow-list.
    #[error("function '{name}' is not allowed in scenario queries: {reason}")]
    ForbiddenFunction {
        /// The function name.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// A function that builds a text or list of a size the query chooses (`repeat`, `lpad`, ...)
    /// without a small constant size: DuckDB allocates such values outside its memory limit and
    /// cannot interrupt their construction, so they are bounded before the query runs.
    #[error(
        "function '{name}' builds a value whose size the query chooses: {reason}; the result may \
         have at most {max} characters or elements"
    )]
    UnboundedSize {
        /// The function name.
        name: String,
        /// What is wrong with its size argument.
        reason: String,
        /// [`MAX_BUILT_SIZE`].
        max: u64,
    },
    /// A construct the sandbox does not support (query parameters, DESCRIBE/SHOW/SUMMARIZE, ...).
    #[error("not supported in scenario queries: {construct}")]
    Unsupported {
        /// What was found.
        construct: String,
    },
    /// The page size is 0 or above [`MAX_LIMIT`].
    #[error("limit {given} is out of range: use 1 to {max}")]
    InvalidLimit {
        /// The requested limit.
        given: usize,
        /// The maximum.
        max: usize,
    },
    /// The query ran longer than [`QueryOptions::timeout`] and was interrupted.
    #[error(
        "the query was stopped after {seconds} s; add filters, aggregate inside SQL or \
         query fewer rows"
    )]
    Timeout {
        /// The timeout, in seconds.
        seconds: f64,
    },
    /// DuckDB could not run the query (unknown column, type mismatch, out of memory, ...).
    #[error("query failed: {message}\nvalid tables: {}", valid_tables.join(", "))]
    Execution {
        /// DuckDB's message.
        message: String,
        /// Every table a query may use.
        valid_tables: Vec<&'static str>,
    },
    /// Not even one row fits the page budget, because the column names alone exceed it.
    #[error(
        "the result is too wide for one page: its columns alone take {tokens} of {budget} \
         tokens; select fewer or shorter-named columns"
    )]
    ResultTooWide {
        /// Tokens of the page without rows.
        tokens: usize,
        /// [`PAGE_TOKEN_BUDGET`].
        budget: usize,
    },
    /// One of the sandbox's own statements failed (parsing through DuckDB, reading the catalog).
    #[error("query sandbox failed while {context}: {source}")]
    Database {
        /// What the sandbox was doing.
        context: &'static str,
        /// The DuckDB error.
        source: duckdb::Error,
    },
    /// The timeout watchdog thread could not be started.
    #[error("could not start the query timeout watchdog: {source}")]
    Watchdog {
        /// The operating-system error.
        source: std::io::Error,
    },
}

/// The configuration a sandboxed query connection is opened with:
/// `Connection::open_with_flags(path, sandbox_config()?)`.
///
/// Read-only access, no external access (files, network, `ATTACH` of files), no extension
/// installing or loading, no temp-file spilling, 1 GB of memory, 2 threads, and the
/// configuration locked so that no statement can change any of it.
pub fn sandbox_config() -> Result<Config, duckdb::Error> {
    Config::default()
        .access_mode(AccessMode::ReadOnly)?
        // Spilling off. DuckDB refuses to change the temp directory once external access is
        // disabled, so these two come before `enable_external_access`.
        .with("temp_directory", "")?
        .with("max_temp_directory_size", "0B")?
        .enable_external_access(false)?
        .with("autoinstall_known_extensions", "false")?
        .with("autoload_known_extensions", "false")?
        .with("allow_community_extensions", "false")?
        .with("allow_unsigned_extensions", "false")?
        .with("memory_limit", "1GB")?
        .threads(2)?
        // Last: after this no setting changes, from us or from a query.
        .with("lock_configuration", "true")
}

/// Checks that `sql` is one read-only query that only touches canonical tables and its own
/// CTEs, without running it (DuckDB parses it; nothing is executed).
pub fn validate_query(conn: &Connection, sql: &str) -> Result<(), QueryError> {
    analyze(conn, sql).map(|_| ())
}

/// Runs one read-only query against the rows of `scenario_id` and returns one page.
///
/// See the [module documentation](self) for what is checked and how the query is scoped.
pub fn run_query(
    conn: &Connection,
    scenario_id: &str,
    sql: &str,
    options: &QueryOptions,
) -> Result<QueryResult, QueryError> {
    let limit = options.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(QueryError::InvalidLimit {
            given: limit,
            max: MAX_LIMIT,
        });
    }
    let watchdog = Watchdog::start(conn, options.timeout)?;
    let outcome = run_watched(conn, scenario_id, sql, options, limit);
    let fired = watchdog.stop();
    match outcome {
        // A deadline that passed wins over whatever the interrupted statement reported.
        _ if fired => Err(QueryError::Timeout {
            seconds: options.timeout.as_secs_f64(),
        }),
        Ok(page) => render_page(page, limit, options),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Analysis: DuckDB parses, we walk the AST.

/// What validation learned about a query.
#[derive(Debug)]
struct Analysis {
    /// The top-level query node as DuckDB serialized it.
    node: Json,
    /// The whole serialization (for `json_deserialize_sql`).
    serialized: String,
    /// Canonical tables the query names; each gets a shadow CTE.
    tables: BTreeSet<&'static str>,
    /// The top-level query has its own ORDER BY.
    ordered: bool,
}

fn valid_tables() -> Vec<&'static str> {
    ENTITY_TYPES.iter().map(|t| t.table).collect()
}

fn analyze(conn: &Connection, sql: &str) -> Result<Analysis, QueryError> {
    let chars = sql.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong {
            chars,
            max: MAX_QUERY_CHARS,
        });
    }
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
        Err(_) if count == 0 => return Err(QueryError::Empty),
        Err(_) => return Err(QueryError::MultipleStatements { count }),
    };
    let node = match statement {
        Json::Object(mut statement) => statement
            .remove("node")
            .ok_or_else(|| malformed_ast("statement without node"))?,
        _ => return Err(malformed_ast("statement is not an object")),
    };
    let walk = walk_ast(&node)?;
    if !walk.cte_names.is_empty() {
        check_cte_names(conn, &walk.cte_names)?;
    }
    let ordered = node
        .get("modifiers")
        .and_then(Json::as_array)
        .is_some_and(|mods| mods.iter().any(|m| type_of(m) == Some("ORDER_MODIFIER")));
    Ok(Analysis {
        node,
        serialized,
        tables: walk.tables,
        ordered,
    })
}

/// DuckDB's AST of `sql` as JSON text and parsed (depth-bounded).
fn serialize_sql(conn: &Connection, sql: &str) -> Result<(String, Json), QueryError> {
    let text: String = conn
        .query_row("SELECT json_serialize_sql(?::VARCHAR)", [sql], |row| {
            row.get(0)
        })
        .map_err(|source| QueryError::Database {
            context: "parsing the query",
            source,
        })?;
    let parsed = parse_json_bounded(&text, MAX_AST_DEPTH)?;
    Ok((text, parsed))
}

fn malformed_ast(what: &str) -> QueryError {
    QueryError::Unsupported {
        construct: format!("a query DuckDB serializes unexpectedly ({what})"),
    }
}

/// Turns `json_serialize_sql`'s error into the most useful refusal.
fn parse_failure(conn: &Connection, sql: &str, parsed: &Json) -> QueryError {
    let message = parsed
        .get("error_message")
        .and_then(Json::as_str)
        .unwrap_or("unknown parser error")
        .to_string();
    // The parser gives up on very deep nesting with its own words ("memory exhausted" from
    // the grammar's stack, "expression depth" from DuckDB's limit).
    let lower = message.to_ascii_lowercase();
    if lower.contains("memory exhausted") || lower.contains("depth") {
        return QueryError::TooDeep { max: MAX_AST_DEPTH };
    }
    if !message.contains("Only SELECT statements") {
        return QueryError::Syntax { message };
    }
    // DuckDB parsed the text but refuses to serialize a non-SELECT statement, and does not say
    // which one or how many. Splitting the text is only for this message: the decision to
    // refuse has already been made by DuckDB.
    let pieces = split_statements(sql);
    if pieces.len() > 1 {
        return QueryError::MultipleStatements {
            count: pieces.len(),
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
    QueryError::NotReadOnly { statement_type }
}

/// Scalar or table functions (by name) that could reach outside the scenario: files and other
/// databases, settings and variables, the catalog, or SQL built at run time.
fn denied_function(name: &str) -> Option<&'static str> {
    const EXACT: &[(&str, &str)] = &[
        ("query", "it runs SQL text"),
        ("query_table", "it reads tables by name"),
        ("json_execute_serialized_sql", "it runs SQL"),
        ("json_serialize_sql", "it parses SQL"),
        ("json_deserialize_sql", "it builds SQL"),
        ("current_query", "it reveals the running SQL"),
        ("getenv", "it reads the environment"),
        ("current_setting", "it reads settings"),
        ("getvariable", "it reads variables"),
        ("glob", "it lists files"),
        ("sniff_csv", "it reads files"),
        ("checkpoint", "it writes the database"),
        ("force_checkpoint", "it writes the database"),
        ("which_secret", "it reads secrets"),
        ("extension_versions", "it reads the installation"),
        ("truncate_duckdb_logs", "it changes logs"),
        ("sql_auto_complete", "it reads the catalog"),
        ("summary", "it is a diagnostic table function"),
    ];
    const PREFIX: &[(&str, &str)] = &[
        ("read_", "it reads files"),
        ("parquet_", "it reads files"),
        ("pragma_", "it reads the catalog or settings"),
        ("duckdb_", "it reads the catalog or settings"),
        ("enable_", "it changes session state"),
        ("disable_", "it changes session state"),
        ("test_", "it is a test function"),
    ];
    let name = name.to_ascii_lowercase();
    if let Some((_, why)) = EXACT.iter().find(|(n, _)| *n == name) {
        return Some(why);
    }
    if let Some((_, why)) = PREFIX.iter().find(|(p, _)| name.starts_with(p)) {
        return Some(why);
    }
    if name.ends_with("_scan") {
        return Some("it scans external data");
    }
    None
}

/// What the AST walk collected.
#[derive(Debug, Default)]
struct Walk {
    tables: BTreeSet<&'static str>,
    cte_names: Vec<String>,
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

fn type_of(value: &Json) -> Option<&str> {
    value.get("type").and_then(Json::as_str)
}

fn str_field<'a>(object: &'a Map<String, Json>, key: &str) -> &'a str {
    object.get(key).and_then(Json::as_str).unwrap_or("")
}

/// Walks DuckDB's serialized AST with an explicit stack (no recursion: the depth is bounded by
/// [`MAX_AST_DEPTH`] when parsing, and the walk itself uses no call stack per level).
fn walk_ast(root: &Json) -> Result<Walk, QueryError> {
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
                    return Err(QueryError::Unsupported {
                        construct: "DESCRIBE, SHOW and SUMMARIZE (use describe_schema)".into(),
                    })
                }
                "COLUMN_DATA"
                | "DELIM_GET"
                | "BOUND_TABLE_REF"
                | "CTE_NODE"
                | "STATEMENT_NODE"
                | "BOUND_SUBQUERY_NODE" => {
                    return Err(QueryError::Unsupported {
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

fn check_expression(class: &str, object: &Map<String, Json>) -> Result<(), QueryError> {
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
                return Err(QueryError::QualifiedName {
                    name: dotted(&[catalog, schema, name]),
                });
            }
            if let Some(reason) = denied_function(name) {
                return Err(QueryError::ForbiddenFunction {
                    name: name.to_string(),
                    reason: reason.to_string(),
                });
            }
            check_built_size(name, object)
        }
        "PARAMETER" => Err(QueryError::Unsupported {
            construct: "query parameters ($1, ?, $name); write the values into the query".into(),
        }),
        _ => Ok(()),
    }
}

/// Functions whose result size is one of their arguments (0-based position): the result is
/// built in one piece, outside DuckDB's buffer manager (so `memory_limit` does not apply) and
/// without checking for interruption (so the timeout only acts once it is built).
/// `SELECT length(repeat('x', 2000000000))` took ~10 s and ~4 GB with a 1 GB limit and a 5 s
/// timeout.
const SIZED_FUNCTIONS: &[(&str, usize)] = &[
    ("repeat", 1),
    ("list_repeat", 1),
    ("array_repeat", 1),
    ("lpad", 1),
    ("rpad", 1),
    ("list_resize", 1),
    ("array_resize", 1),
    ("bitstring", 1),
];

/// The largest value a sized function may build (characters or elements).
pub const MAX_BUILT_SIZE: u64 = 1_000_000;

/// The size argument of a [`SIZED_FUNCTIONS`] call must be a whole-number constant of at most
/// [`MAX_BUILT_SIZE`]; for `repeat`, whose result is its first argument that many times, a
/// constant first argument counts with its length (a non-constant one with 1: it is a value of
/// the scenario, or of another bounded call).
fn check_built_size(name: &str, object: &Map<String, Json>) -> Result<(), QueryError> {
    let lower = name.to_ascii_lowercase();
    let Some(&(_, position)) = SIZED_FUNCTIONS.iter().find(|(n, _)| *n == lower) else {
        return Ok(());
    };
    let refuse = |reason: String| QueryError::UnboundedSize {
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
) -> Result<(), QueryError> {
    let name = str_field(object, "table_name");
    let (schema, catalog) = (
        str_field(object, "schema_name"),
        str_field(object, "catalog_name"),
    );
    if !schema.is_empty() || !catalog.is_empty() {
        return Err(QueryError::QualifiedName {
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
    Err(QueryError::ForbiddenTable {
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

fn check_table_function(object: &Map<String, Json>) -> Result<(), QueryError> {
    let function = object.get("function").and_then(Json::as_object);
    let name = function.map_or("", |f| str_field(f, "function_name"));
    if ALLOWED_TABLE_FUNCTIONS.contains(&name.to_ascii_lowercase().as_str()) {
        return Ok(());
    }
    Err(QueryError::ForbiddenFunction {
        name: name.to_string(),
        reason: format!(
            "the table functions a query may use are {}",
            ALLOWED_TABLE_FUNCTIONS.join(", ")
        ),
    })
}

/// Refuses user CTEs named like a relation that is not a canonical table (`scenarios`,
/// `duckdb_tables`, `pg_class`, ...): should our scope model ever disagree with DuckDB's, such a
/// name would otherwise reach the real relation. A name that is not a relation at all, or a
/// canonical one (shadowed by us), can only ever resolve to a CTE or fail.
fn check_cte_names(conn: &Connection, cte_names: &[String]) -> Result<(), QueryError> {
    let relations = unqualified_relations(conn)?;
    for name in cte_names {
        let lower = name.to_ascii_lowercase();
        if by_table(&lower).is_none() && relations.contains(&lower) {
            return Err(QueryError::ForbiddenTable {
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
fn unqualified_relations(conn: &Connection) -> Result<HashSet<String>, QueryError> {
    let sql = "SELECT lower(table_name) FROM duckdb_tables() \
               WHERE schema_name IN ('main', 'pg_catalog') \
               UNION SELECT lower(view_name) FROM duckdb_views() \
               WHERE schema_name IN ('main', 'pg_catalog')";
    let database = |source| QueryError::Database {
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

// ---------------------------------------------------------------------------------------------
// Scoping and execution.

/// The rows of one page, still as DuckDB values.
struct RawPage {
    columns: Vec<String>,
    json_columns: Vec<bool>,
    rows: Vec<Vec<Value>>,
    total_count: u64,
    offset: usize,
}

fn run_watched(
    conn: &Connection,
    scenario_id: &str,
    sql: &str,
    options: &QueryOptions,
    limit: usize,
) -> Result<RawPage, QueryError> {
    let analysis = analyze(conn, sql)?;
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

/// The two statements that run: the exact count and the page.
struct Wrappers {
    count: String,
    page: String,
}

/// Wraps the query in its shadow CTEs, and proves the wrapping by parsing the result: the
/// subquery must be the validated AST, byte for byte apart from source positions.
///
/// The user's text is used as written (error messages then quote it); if it does not embed
/// cleanly (a trailing comment after a `;`, say), DuckDB's own rendering of the AST is used.
fn scoped_queries(
    conn: &Connection,
    sql: &str,
    analysis: &Analysis,
) -> Result<Wrappers, QueryError> {
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
        .map_err(|source| QueryError::Database {
            context: "rendering the query",
            source,
        })?;
    let second = wrap(&rendered, analysis);
    if wrapping_is_faithful(conn, &second, analysis)? {
        return Ok(second);
    }
    Err(QueryError::Unsupported {
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
    let order = if analysis.ordered {
        ""
    } else {
        " ORDER BY ALL"
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
) -> Result<bool, QueryError> {
    for (sql, expected_modifiers) in [(&wrappers.count, 0), (&wrappers.page, 2)] {
        let (_, parsed) = match serialize_sql(conn, sql) {
            Ok(parsed) => parsed,
            Err(QueryError::TooDeep { .. }) => return Ok(false),
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

fn count_rows(conn: &Connection, sql: &str, scenario: Option<&str>) -> Result<u64, QueryError> {
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
) -> Result<PageRows, QueryError> {
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

fn execution(source: duckdb::Error) -> QueryError {
    let message = match &source {
        duckdb::Error::DuckDBFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    };
    QueryError::Execution {
        message: renumber_lines(&message),
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

/// Interrupts the connection's running query once the deadline passes.
struct Watchdog {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    fired: Arc<AtomicBool>,
}

impl Watchdog {
    fn start(conn: &Connection, timeout: Duration) -> Result<Watchdog, QueryError> {
        let interrupt = conn.interrupt_handle();
        let (stop, stopped) = mpsc::channel::<()>();
        let fired = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&fired);
        let thread = std::thread::Builder::new()
            .name("healthsim-query-watchdog".into())
            .spawn(move || {
                if let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(timeout) {
                    flag.store(true, Ordering::SeqCst);
                    interrupt.interrupt();
                }
            })
            .map_err(|source| QueryError::Watchdog { source })?;
        Ok(Watchdog {
            stop: Some(stop),
            thread: Some(thread),
            fired,
        })
    }

    /// Stops the watchdog; true when it had interrupted the query.
    fn stop(mut self) -> bool {
        self.shutdown();
        self.fired.load(Ordering::SeqCst)
    }

    fn shutdown(&mut self) {
        // Dropping the sender wakes the thread, which then exits without interrupting.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            // The thread only waits and interrupts; it cannot panic in practice, and if it did
            // there would be nothing left to clean up.
            let _ = thread.join();
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.shutdown();
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering and the page budget.

fn render_page(
    page: RawPage,
    limit: usize,
    options: &QueryOptions,
) -> Result<QueryResult, QueryError> {
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
            return Err(QueryError::ResultTooWide {
                tokens,
                budget: PAGE_TOKEN_BUDGET,
            });
        }
        result.truncated = cut_cells || rows_kept < fetched;
        if page_tokens(&result) > PAGE_TOKEN_BUDGET {
            return Err(QueryError::ResultTooWide {
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
    let (end, _) = text.char_indices().nth(max)?;
    let mut short = text[..end].to_string();
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

// ---------------------------------------------------------------------------------------------
// Small helpers: bounded JSON parsing, AST equality, statement splitting for messages.

/// Parses JSON iteratively, refusing nesting deeper than `max_depth` (serde_json's own parser
/// recurses and stops at 128 levels, too shallow for honest SQL).
fn parse_json_bounded(text: &str, max_depth: usize) -> Result<Json, QueryError> {
    enum Frame {
        Array(Vec<Json>),
        Object(Map<String, Json>, String),
    }
    let invalid = || malformed_ast("invalid JSON from the parser");
    let bytes = text.as_bytes();
    let mut pos = 0usize;
    let skip_ws = |pos: &mut usize| {
        while bytes.get(*pos).is_some_and(u8::is_ascii_whitespace) {
            *pos += 1;
        }
    };
    let read_string = |pos: &mut usize| -> Result<String, QueryError> {
        let start = *pos;
        if bytes.get(start) != Some(&b'"') {
            return Err(invalid());
        }
        let mut i = start + 1;
        loop {
            match bytes.get(i) {
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                Some(_) => i += 1,
                None => return Err(invalid()),
            }
        }
        *pos = i + 1;
        let slice = text.get(start..=i).ok_or_else(invalid)?;
        serde_json::from_str(slice).map_err(|_| invalid())
    };
    let read_key = |pos: &mut usize| -> Result<String, QueryError> {
        skip_ws(pos);
        let key = read_string(pos)?;
        skip_ws(pos);
        if bytes.get(*pos) != Some(&b':') {
            return Err(invalid());
        }
        *pos += 1;
        Ok(key)
    };
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        skip_ws(&mut pos);
        let mut value = match bytes.get(pos) {
            Some(b'{') | Some(b'[') if stack.len() >= max_depth => {
                return Err(QueryError::TooDeep { max: MAX_AST_DEPTH })
            }
            Some(b'{') => {
                pos += 1;
                skip_ws(&mut pos);
                if bytes.get(pos) == Some(&b'}') {
                    pos += 1;
                    Json::Object(Map::new())
                } else {
                    let key = read_key(&mut pos)?;
                    stack.push(Frame::Object(Map::new(), key));
                    continue;
                }
            }
            Some(b'[') => {
                pos += 1;
                skip_ws(&mut pos);
                if bytes.get(pos) == Some(&b']') {
                    pos += 1;
                    Json::Array(Vec::new())
                } else {
                    stack.push(Frame::Array(Vec::new()));
                    continue;
                }
            }
            Some(b'"') => Json::String(read_string(&mut pos)?),
            Some(_) => {
                let start = pos;
                while bytes
                    .get(pos)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b))
                {
                    pos += 1;
                }
                let token = text.get(start..pos).ok_or_else(invalid)?;
                serde_json::from_str(token).map_err(|_| invalid())?
            }
            None => return Err(invalid()),
        };
        // Attach the finished value to its parent; close parents as their brackets arrive.
        loop {
            skip_ws(&mut pos);
            match stack.last_mut() {
                None => {
                    return if pos == bytes.len() {
                        Ok(value)
                    } else {
                        Err(invalid())
                    }
                }
                Some(Frame::Array(items)) => {
                    items.push(value);
                    match bytes.get(pos) {
                        Some(b',') => {
                            pos += 1;
                            break;
                        }
                        Some(b']') => {
                            pos += 1;
                            value = match stack.pop() {
                                Some(Frame::Array(items)) => Json::Array(items),
                                _ => return Err(invalid()),
                            };
                        }
                        _ => return Err(invalid()),
                    }
                }
                Some(Frame::Object(map, key)) => {
                    map.insert(std::mem::take(key), value);
                    match bytes.get(pos) {
                        Some(b',') => {
                            pos += 1;
                            *key = read_key(&mut pos)?;
                            break;
                        }
                        Some(b'}') => {
                            pos += 1;
                            value = match stack.pop() {
                                Some(Frame::Object(map, _)) => Json::Object(map),
                                _ => return Err(invalid()),
                            };
                        }
                        _ => return Err(invalid()),
                    }
                }
            }
        }
    }
}

/// Structural equality of two ASTs, ignoring source positions (`query_location`); iterative.
fn ast_eq(a: &Json, b: &Json) -> bool {
    let mut pending = vec![(a, b)];
    while let Some((a, b)) = pending.pop() {
        match (a, b) {
            (Json::Array(x), Json::Array(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                pending.extend(x.iter().zip(y));
            }
            (Json::Object(x), Json::Object(y)) => {
                let keys = |m: &Map<String, Json>| {
                    m.keys()
                        .filter(|k| *k != "query_location")
                        .cloned()
                        .collect::<BTreeSet<_>>()
                };
                if keys(x) != keys(y) {
                    return false;
                }
                for (key, value) in x {
                    if key == "query_location" {
                        continue;
                    }
                    match y.get(key) {
                        Some(other) => pending.push((value, other)),
                        None => return false,
                    }
                }
            }
            (x, y) => {
                if x != y {
                    return false;
                }
            }
        }
    }
    true
}

/// Splits SQL text at top-level semicolons (outside strings, quoted identifiers, dollar quotes
/// and comments), dropping pieces that hold only whitespace and comments. Used only to word
/// error messages: what is allowed is decided by DuckDB's parser.
fn split_statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut pieces = Vec::new();
    let (mut start, mut i) = (0usize, 0usize);
    let mut has_code = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                let quote = bytes[i];
                has_code = true;
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == quote {
                        if bytes.get(i + 1) == Some(&quote) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut depth = 0usize;
                while i < bytes.len() {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'$' => {
                has_code = true;
                let tag_end = bytes[i + 1..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                    .map(|p| i + 1 + p);
                match tag_end {
                    Some(end) if bytes[end] == b'$' => {
                        let tag = &sql[i..=end];
                        match sql[end + 1..].find(tag) {
                            Some(close) => i = end + 1 + close + tag.len(),
                            None => i = bytes.len(),
                        }
                    }
                    _ => i += 1,
                }
            }
            b';' => {
                if has_code {
                    pieces.push(&sql[start..i]);
                }
                has_code = false;
                i += 1;
                start = i;
            }
            b if b.is_ascii_whitespace() => i += 1,
            _ => {
                has_code = true;
                i += 1;
            }
        }
    }
    if has_code {
        pieces.push(&sql[start.min(sql.len())..]);
    }
    pieces
}

/// The first keyword of a statement, uppercase (`DROP`), skipping whitespace, comments and
/// opening parentheses.
fn leading_keyword(statement: &str) -> String {
    let mut rest = statement;
    loop {
        let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(after) = trimmed.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(after) = trimmed.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r);
        } else {
            rest = trimmed;
            break;
        }
    }
    rest.chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_json_parser_matches_serde_json() {
        for text in [
            r#"{"a":[1,2.5,-3e2,true,false,null,"x\"y\u00e9"],"b":{},"c":[],"d":18446744073709551615}"#,
            r#" [ { "k" : "v" } , [ ] ] "#,
            r#""only a string""#,
            "42",
        ] {
            let expected: Json = serde_json::from_str(text).expect("valid JSON");
            assert_eq!(parse_json_bounded(text, 10).ok(), Some(expected), "{text}");
        }
        for text in ["", "{", r#"{"a" 1}"#, "[1,]", "[1 2]", r#"{"a":1}x"#, "nul"] {
            assert!(
                parse_json_bounded(text, 10).is_err(),
                "{text:?} should fail"
            );
        }
        let deep = format!("{}{}", "[".repeat(50), "]".repeat(50));
        assert!(parse_json_bounded(&deep, 50).is_ok());
        assert!(matches!(
            parse_json_bounded(&deep, 49),
            Err(QueryError::TooDeep { .. })
        ));
    }

    #[test]
    fn splits_statements_only_for_messages() {
        let check = |sql: &str, expected: &[&str]| {
            let pieces: Vec<String> = split_statements(sql)
                .iter()
                .map(|p| leading_keyword(p))
                .collect();
            assert_eq!(pieces, expected, "{sql}");
        };
        check("SELECT 1", &["SELECT"]);
        check("SELECT 1; DROP TABLE x;", &["SELECT", "DROP"]);
        check("SELECT ';' AS x -- ; not here\n", &["SELECT"]);
        check("/* ; */ insert into t values (';')", &["INSERT"]);
        check("SELECT $$;$$; SET x = 1", &["SELECT", "SET"]);
        check("SELECT \"a;b\" FROM t;;  ; -- c", &["SELECT"]);
        check("  -- only a comment", &[]);
        check("(SELECT 1)", &["SELECT"]);
    }

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

    #[test]
    fn ast_equality_ignores_positions() {
        let a = serde_json::json!({"x": [{"query_location": 1, "v": 2}]});
        let b = serde_json::json!({"x": [{"query_location": 9, "v": 2}]});
        let c = serde_json::json!({"x": [{"query_location": 1, "v": 3}]});
        assert!(ast_eq(&a, &b));
        assert!(!ast_eq(&a, &c));
    }
}
