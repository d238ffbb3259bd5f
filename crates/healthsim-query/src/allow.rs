//! The allow- and deny-lists: which tables a query may name, which table functions it may call
//! in `FROM`, which functions are refused because they reach outside the scenario, and which
//! functions build a value whose size the query chooses.
//!
//! Only lists and lookups live here, no syntax tree: [`crate::walk`] applies them node by node,
//! so a reviewer can check what is allowed without reading how the tree is traversed.

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

/// Scalar or table functions (by name) that could reach outside the scenario: files and other
/// databases, settings and variables, the catalog, or SQL built at run time.
pub(crate) fn denied_function(name: &str) -> Option<&'static str> {
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

/// Functions whose result size is one of their arguments (0-based position): the result is
/// built in one piece, outside DuckDB's buffer manager (so `memory_limit` does not apply) and
/// without checking for interruption (so the timeout only acts once it is built).
/// `SELECT length(repeat('x', 2000000000))` took ~10 s and ~4 GB with a 1 GB limit and a 5 s
/// timeout.
pub(crate) const SIZED_FUNCTIONS: &[(&str, usize)] = &[
    ("repeat", 1),
    ("list_repeat", 1),
    ("array_repeat", 1),
    ("lpad", 1),
    ("rpad", 1),
    ("list_resize", 1),
    ("array_resize", 1),
    ("bitstring", 1),
];
