//! The scenario query sandbox: one read-only SQL query, scoped to one scenario, paginated and
//! bounded in time and size.
//!
//! An agent fetches specific data with SQL (`query_scenario`). The query may join,
//! nest, aggregate and use CTEs over the 40 canonical tables, and it must never see another
//! scenario, write, read files, attach databases, change settings or load extensions (ARCHITECTURE.md, "The agent's contract").
//! This crate is that boundary, and nothing else: it can be reviewed without reading the rest of
//! the workspace.
//!
//! # The API boundary
//!
//! - [`sandbox_config`]: the configuration the caller opens the database file with, as a
//!   separate read-only DuckDB instance. The crate never opens a file itself.
//! - [`validate_query`]: is this text one allowed query? Parses, runs nothing.
//! - [`run_query`]: one page of the query over the rows of one scenario, as a [`QueryResult`],
//!   shaped by [`QueryOptions`] (page size, offset, timeout, cell length).
//! - [`Error`] (also named [`QueryError`]): why a query was refused or failed;
//!   [`Error::is_caller_error`] separates the agent's mistakes from the sandbox's failures.
//! - The bounds, all public constants: [`MAX_QUERY_CHARS`], [`MAX_AST_DEPTH`],
//!   [`MAX_BUILT_SIZE`], [`MAX_LIMIT`], [`DEFAULT_LIMIT`], [`PAGE_TOKEN_BUDGET`],
//!   [`DEFAULT_TIMEOUT`], [`DEFAULT_MAX_CELL_CHARS`], and the table functions a query may call,
//!   [`ALLOWED_TABLE_FUNCTIONS`].
//!
//! # What it guarantees
//!
//! For a connection opened with [`sandbox_config`], a query that [`run_query`] accepts reads
//! only the rows of the given scenario in the canonical entity tables (plus constants and the
//! allowed generator functions); it cannot write, read files or the network, attach databases,
//! change settings, load extensions, or read the bookkeeping tables or DuckDB's catalog. Every
//! page holds at most [`MAX_LIMIT`] rows and at most [`PAGE_TOKEN_BUDGET`] tokens of compact
//! JSON, and the call returns within about [`QueryOptions::timeout`].
//!
//! # How: four lines of defence
//!
//! 1. **The connection** ([`sandbox_config`], module `sandbox`): read-only, external access,
//!    extension loading and temp-file spilling off, bounded memory and threads, the
//!    configuration locked. Enforced by DuckDB itself, below any parsing: even a statement the
//!    checks misjudged cannot write, touch the file system or the network, or change a setting.
//!    What it cannot do is keep a query inside *its scenario* or away from the state tables:
//!    those are ordinary tables of the same file. (A lake's connection, [`Source::Prepared`],
//!    holds less: see [`open_sandbox`].)
//! 2. **The syntax tree** ([`validate_query`], modules `validate`, `walk`, `allow`, `json`):
//!    text with a control character (a NUL would silently end DuckDB's parse) is refused first;
//!    then DuckDB's own parser (`json_serialize_sql`, the SQL bound as a parameter, never
//!    spliced) decides that the text is exactly one SELECT-like statement and hands over its
//!    tree as JSON. Walking it (iteratively, depth-bounded) enforces allow-lists: every table
//!    reference is an unqualified canonical table or a CTE in scope, table functions come from
//!    a short list, and every function, aggregate, window function, macro and operator must be
//!    on the reviewed list of DuckDB's function catalog (`function_review.txt`: each catalog
//!    name allowed or refused with a reason category; a test fails on any name it lacks, so a
//!    function a DuckDB upgrade adds is refused until reviewed). Sizes a query sets as
//!    constants (`repeat('x', 1e9)`, nested or computed) are bounded here; sizes taken from
//!    the data are bounded when the query runs. User CTEs may not reuse the name of a
//!    non-entity relation. No regular expression ever decides what is allowed.
//! 3. **Shadowing** ([`run_query`], module `scope`): the query runs as
//!    `WITH patients AS NOT MATERIALIZED (SELECT * FROM main.patients WHERE scenario_id = $1), …
//!    SELECT * FROM (<query>) AS q …`, with one shadow CTE per canonical table the query names.
//!    Unqualified names resolve to the innermost CTE first, so every reference — in joins,
//!    subqueries, user CTEs (even one named like a table), recursive CTEs, set operations and
//!    lateral joins — reads only the scenario's rows. The wrapped text is parsed again and its
//!    inner subtree must equal the validated tree, so the query cannot escape its parentheses.
//! 4. **Containment** ([`run_contained`], module `contain`): the CLI and the MCP server run each
//!    query in a worker process of its own, started with an empty environment, killed when its
//!    resident memory passes [`WORKER_MEMORY_CEILING`] (its address space is limited to
//!    [`WORKER_ADDRESS_SPACE`] too), [`WORKER_GRACE`] after its timeout, or at once when the
//!    client cancels ([`Cancel`]). A query that overflows DuckDB's stack, builds
//!    values outside its memory limit, or runs in a function that never checks for
//!    interruption ends only its worker: the caller gets [`Error::Crashed`] or
//!    [`Error::Timeout`] and the next query runs normally. (Called in process, [`run_query`]
//!    has lines 1 to 3 only.)
//!
//! Pagination is exact (`total_count` from `SELECT count(*)` over the scoped query), the page
//! order stable (the query's own top-level `ORDER BY`; else its table's key when the result
//! provably carries it once per row, module `order`; else `ORDER BY ALL`), and only the page
//! is ever fetched into Rust (module `run`). A watchdog thread interrupts a query that outlives
//! [`QueryOptions::timeout`]. Cells are cut to [`QueryOptions::max_cell_chars`] and the page to
//! [`PAGE_TOKEN_BUDGET`] tokens (module `page`); every bound is defined in module `limits`.
//!
//! # Neighbours
//!
//! Table and column names come only from the entity registry of `healthsim-schema` (the
//! canonical tables, the scenario column, the state tables named in refusals) and values are
//! rendered with its JSON conversion; tokens are counted with `healthsim-summary`'s tokenizer.
//! `healthsim-persist` resolves the scenario and calls [`run_contained`] with the worker its
//! `StoreOptions` name (the `healthsim` binary names itself), or [`run_query`] on a sandbox
//! connection opened next to its writer; it re-exports this crate as `healthsim_persist::query`.
//!
//! # What it does not know
//!
//! It does not know scenario names (the caller resolves a name to an id), which file holds the
//! database or how the writer is locked, whether the scenario exists (an unknown id simply has
//! no rows), or argv, MCP and JSON-RPC, nor where its worker program lives (the caller names it
//! in a [`Worker`]). It does not guard the connection itself: a connection opened without
//! [`sandbox_config`] loses the first line of defence.
//!
//! # Example
//!
//! ```
//! use healthsim_query::{run_query, sandbox_config, Error, QueryOptions};
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
//!
//! let refused = run_query(&sandbox, "s1", "DELETE FROM patients", &QueryOptions::default());
//! assert!(matches!(refused, Err(Error::NotReadOnly { .. })));
//! assert!(refused.is_err_and(|e| e.is_caller_error()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod allow;
mod cancel;
mod contain;
mod error;
mod json;
mod limits;
mod order;
mod page;
mod pivot;
mod run;
mod sandbox;
mod scope;
mod source;
mod statements;
mod validate;
mod walk;

pub use allow::ALLOWED_TABLE_FUNCTIONS;
pub use cancel::Cancel;
pub use contain::{run_contained, worker_main, Worker, WorkerSession};
pub use error::{Error, QueryError};
pub use limits::{
    DEFAULT_LIMIT, DEFAULT_MAX_CELL_CHARS, DEFAULT_TIMEOUT, MAX_AST_DEPTH, MAX_BUILT_SIZE,
    MAX_LIMIT, MAX_QUERY_CHARS, PAGE_TOKEN_BUDGET, WORKER_ADDRESS_SPACE, WORKER_GRACE,
    WORKER_MEMORY_CEILING,
};
pub use page::{QueryOptions, QueryResult};
pub use run::run_query;
pub use sandbox::sandbox_config;
pub use source::{open_sandbox, Prepared, Source};
pub use validate::validate_query;
