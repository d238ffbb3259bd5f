//! Every bound the sandbox enforces, in one place: page size, page tokens, query length,
//! syntax-tree depth, built-value size, time and cell length.
//!
//! They live apart from the code that enforces them so that a reviewer can read all of an
//! agent's limits on one screen, and so that the parser, the walk and the page renderer share
//! them without depending on each other.

use std::time::Duration;

/// Rows per page when the caller gives no limit.
pub const DEFAULT_LIMIT: usize = 20;
/// The largest page a caller may ask for.
pub const MAX_LIMIT: usize = 100;
/// The most cl100k_base tokens the compact JSON of one [`QueryResult`](crate::QueryResult) may take (ARCHITECTURE.md, "The agent's contract").
pub const PAGE_TOKEN_BUDGET: usize = 2000;
/// The longest query text accepted, in characters (100 KB of SQL is far beyond any real query).
pub const MAX_QUERY_CHARS: usize = 100_000;
/// The deepest nesting of DuckDB's serialized syntax tree (JSON objects and arrays) accepted.
///
/// One level of SQL nesting (a subquery, a function call) takes two to four JSON levels, so this
/// allows roughly 100–200 levels of SQL nesting. Deeper trees are refused before they are walked
/// or handed back to DuckDB.
pub const MAX_AST_DEPTH: usize = 400;
/// Default [`QueryOptions::timeout`](crate::QueryOptions::timeout).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default [`QueryOptions::max_cell_chars`](crate::QueryOptions::max_cell_chars).
pub const DEFAULT_MAX_CELL_CHARS: usize = 500;

/// The smallest cell length the page budget shrinks cells to before giving up on a row.
pub(crate) const MIN_CELL_CHARS: usize = 16;

/// The largest value a sized function may build (characters or elements).
pub const MAX_BUILT_SIZE: u64 = 1_000_000;

/// The address space of a query's worker process ([`run_contained`](crate::run_contained)),
/// in bytes: its resident memory can never exceed this. DuckDB's own memory limit (1 GB, in
/// [`sandbox_config`](crate::sandbox_config)) stays below it; this ceiling also holds for the
/// values some functions build outside DuckDB's buffer manager.
pub const WORKER_ADDRESS_SPACE: u64 = 1_400 * 1024 * 1024;
/// How long after its timeout a worker that has not answered is killed with SIGKILL (the
/// worker's own watchdog interrupts the query at the timeout; this catches the functions that
/// do not check for interruption).
pub const WORKER_GRACE: Duration = Duration::from_millis(500);
