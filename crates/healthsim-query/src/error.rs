//! The crate's one error type, shared by every stage (parse, walk, scope, run, render), and its
//! classification into the caller's fault and the sandbox's own.

/// A name fixed at compile time (a table, a stage of the sandbox). Spelled as an alias because
/// serde would otherwise borrow every `&str` field from its input, and these fields are never
/// read from it (they are skipped and rebuilt).
pub(crate) type Name = &'static str;

/// Why a query was refused or failed.
///
/// Messages are lowercase, written for the agent that sent the query: they say what was wrong
/// and, where there is one, what to do instead. [`Error::is_caller_error`] tells refusals and
/// invalid queries from failures of the sandbox itself.
///
/// Errors cross the pipe from a contained worker ([`run_contained`](crate::run_contained)) as
/// serialized JSON; the two variants that carry a DuckDB or OS error travel as
/// [`Error::Worker`] instead.
#[derive(Debug, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Error {
    /// The text holds no statement at all (empty or only comments).
    #[error("the query is empty; send one read-only SELECT query")]
    Empty,
    /// The text is longer than [`MAX_QUERY_CHARS`](crate::MAX_QUERY_CHARS).
    #[error("the query is {chars} characters long; the maximum is {max}")]
    TooLong {
        /// Length of the query text.
        chars: usize,
        /// The maximum.
        max: usize,
    },
    /// The text holds a control character (below U+0020 other than tab, newline and carriage
    /// return, or U+007F). DuckDB's parser stops reading at a NUL without a word, so
    /// `SELECT 1 \0; DROP TABLE patients` would run as `SELECT 1`: such text is refused before
    /// it is parsed.
    #[error(
        "the query contains the control character {character} at character {position} \
         (counting from 1); remove it (only tab, newline and carriage return may appear)"
    )]
    ControlCharacter {
        /// The character, written `U+0000`.
        character: String,
        /// Its position in the text, in characters, counting from 1.
        position: usize,
    },
    /// The syntax tree is nested deeper than [`MAX_AST_DEPTH`](crate::MAX_AST_DEPTH).
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
        #[serde(skip, default = "crate::allow::valid_tables")]
        valid: Vec<Name>,
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
        /// [`MAX_BUILT_SIZE`](crate::MAX_BUILT_SIZE).
        max: u64,
    },
    /// A construct the sandbox does not support (query parameters, DESCRIBE/SHOW/SUMMARIZE, ...).
    #[error("not supported in scenario queries: {construct}")]
    Unsupported {
        /// What was found.
        construct: String,
    },
    /// The page size is 0 or above [`MAX_LIMIT`](crate::MAX_LIMIT).
    #[error("limit {given} is out of range: use 1 to {max}")]
    InvalidLimit {
        /// The requested limit.
        given: usize,
        /// The maximum.
        max: usize,
    },
    /// The query ran longer than [`QueryOptions::timeout`](crate::QueryOptions::timeout) and was interrupted.
    #[error(
        "the query was stopped after {seconds} s; add filters, aggregate inside SQL or \
         query fewer rows"
    )]
    Timeout {
        /// The timeout, in seconds.
        seconds: f64,
    },
    /// The caller cancelled the query through its [`Cancel`](crate::Cancel) handle.
    #[error("the query was cancelled by the client")]
    Cancelled,
    /// DuckDB could not run the query (unknown column, type mismatch, out of memory, ...).
    #[error("query failed: {message}\nvalid tables: {}", valid_tables.join(", "))]
    Execution {
        /// DuckDB's message.
        message: String,
        /// Every table a query may use.
        #[serde(skip, default = "crate::allow::valid_tables")]
        valid_tables: Vec<Name>,
    },
    /// Not even one row fits the page budget, because the column names alone exceed it.
    #[error(
        "the result is too wide for one page: its columns alone take {tokens} of {budget} \
         tokens; select fewer or shorter-named columns"
    )]
    ResultTooWide {
        /// Tokens of the page without rows.
        tokens: usize,
        /// [`PAGE_TOKEN_BUDGET`](crate::PAGE_TOKEN_BUDGET).
        budget: usize,
    },
    /// The query's worker process died before answering: a crash of the engine (stack overflow
    /// on deeply nested values), memory beyond its ceiling, or a signal. Only that query ended.
    #[error(
        "the query stopped its worker process ({how}); nothing else was affected and the next \
         query runs normally. Simplify the query: avoid deeply nested JSON or list values and \
         very large built values"
    )]
    Crashed {
        /// What happened to the worker (signal, exit code, memory).
        how: String,
    },
    /// The worker process could not open the database (another process holds it for writing,
    /// or the file is gone).
    #[error("the query could not open the database: {detail}")]
    Open {
        /// DuckDB's or the operating system's message.
        detail: String,
    },
    /// The worker process could not be started or did not answer as expected.
    #[error("the query worker failed: {detail}")]
    Worker {
        /// What went wrong.
        detail: String,
    },
    /// One of the sandbox's own statements failed (parsing through DuckDB, reading the catalog).
    #[serde(skip)]
    #[error("query sandbox failed while {context}: {source}")]
    Database {
        /// What the sandbox was doing.
        context: Name,
        /// The DuckDB error.
        source: duckdb::Error,
    },
    /// The timeout watchdog thread could not be started.
    #[serde(skip)]
    #[error("could not start the query timeout watchdog: {source}")]
    Watchdog {
        /// The operating-system error.
        source: std::io::Error,
    },
}

/// The name this error had before the sandbox became a crate of its own
/// (`healthsim_persist::query::QueryError`); kept so that callers need not change.
pub type QueryError = Error;

impl Error {
    /// True when the agent's SQL or arguments are at fault and a changed query can succeed:
    /// refused, invalid, over a limit, or stopped by the timeout. False when the sandbox itself
    /// failed (its own statements, the watchdog thread), which no change to the query fixes.
    ///
    /// Written as an exhaustive `match` (no catch-all arm), so a new variant must be classified
    /// here before the crate compiles.
    pub fn is_caller_error(&self) -> bool {
        match self {
            Error::Empty
            | Error::TooLong { .. }
            | Error::ControlCharacter { .. }
            | Error::TooDeep { .. }
            | Error::Syntax { .. }
            | Error::MultipleStatements { .. }
            | Error::NotReadOnly { .. }
            | Error::ForbiddenTable { .. }
            | Error::QualifiedName { .. }
            | Error::ForbiddenFunction { .. }
            | Error::UnboundedSize { .. }
            | Error::Unsupported { .. }
            | Error::InvalidLimit { .. }
            | Error::Timeout { .. }
            | Error::Cancelled
            | Error::ResultTooWide { .. } => true,
            // DuckDB refused to run the query as written (unknown column, type mismatch, a
            // value too large for the memory limit): the query is what has to change.
            Error::Execution { .. } => true,
            // The query itself took its worker down; a simpler query runs.
            Error::Crashed { .. } => true,
            Error::Database { .. }
            | Error::Watchdog { .. }
            | Error::Open { .. }
            | Error::Worker { .. } => false,
        }
    }
}

/// The refusal for a syntax tree whose shape the walk does not expect (DuckDB changed its
/// serialization, or the JSON is not what the parser should produce): refused, never guessed at.
pub(crate) fn malformed_ast(what: &str) -> Error {
    Error::Unsupported {
        construct: format!("a query DuckDB serializes unexpectedly ({what})"),
    }
}

/// Words that mark a sentence of DuckDB's as advice to do what the sandbox forbids: change a
/// setting, run a PRAGMA, install or load an extension, use files. Compared with the words of
/// the message in lowercase; `SET`/`RESET` count only in capitals (as commands, not as the word).
const FORBIDDEN_ADVICE: &[&str] = &[
    "pragma",
    "install",
    "installing",
    "load",
    "loading",
    "autoload",
    "autoinstall",
    "temp_directory",
    "max_temp_directory_size",
    "memory_limit",
    "threads",
    "preserve_insertion_order",
    "max_expression_depth",
    "enable_external_access",
    "allowed_directories",
    "allowed_paths",
    "lock_configuration",
    "enable_profiling",
    "disable_optimizer",
    "force_mbedtls_unsafe",
    "allow_extensions_metadata_mismatch",
    "autoload_known_extensions",
    "autoinstall_known_extensions",
];

/// DuckDB's message for a query it could not run, rewritten for the agent: sentences that
/// advise what the sandbox forbids (`SET memory_limit`, `PRAGMA ...`, `INSTALL x; LOAD x`,
/// `temp_directory`, ...) are removed, and advice that works here is added (filter, aggregate,
/// simplify). Everything else DuckDB said (the error, the position, a "did you mean") is kept.
pub(crate) fn agent_message(duckdb_message: &str) -> String {
    let lower = duckdb_message.to_lowercase();
    let mut kept: Vec<String> = Vec::new();
    let mut stripped = false;
    for line in duckdb_message.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("See also") || trimmed.starts_with("Possible solutions") {
            stripped = true;
            continue;
        }
        let sentences: Vec<&str> = split_sentences(line);
        let good: Vec<&str> = sentences
            .iter()
            .copied()
            .filter(|sentence| !is_forbidden_advice(sentence))
            .collect();
        if good.len() != sentences.len() {
            stripped = true;
        }
        let rebuilt = good.concat();
        if good.len() == sentences.len() || !rebuilt.trim().is_empty() {
            kept.push(rebuilt.trim_end().to_string());
        }
    }
    // Lines left blank between removed ones would only spread the message out.
    kept.dedup_by(|next, previous| next.trim().is_empty() && previous.trim().is_empty());
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    let advice = if ["out of memory", "out-of-memory", "memory_limit"]
        .iter()
        .any(|marker| lower.contains(marker))
    {
        Some(
            "the query needs more memory than a scenario query may use: filter rows early, \
             aggregate inside SQL, select fewer columns or join fewer rows",
        )
    } else if lower.contains("expression depth") {
        Some("the query is nested too deeply: simplify it (fewer nested expressions or subqueries)")
    } else if stripped && lower.contains("extension") {
        Some("extensions are not available in scenario queries: use the built-in functions")
    } else if stripped && (lower.contains("file") || lower.contains("external access")) {
        Some("scenario queries read only the scenario's tables, never files")
    } else if stripped {
        Some("settings cannot be changed in scenario queries: simplify the query, filter or aggregate")
    } else {
        None
    };
    let mut message = kept.join("\n");
    if let Some(advice) = advice {
        if !message.is_empty() {
            message.push('\n');
        }
        message.push_str(advice);
    }
    message
}

/// The sentences of one line, each with its trailing punctuation and space, so that
/// concatenating them gives the line back.
fn split_sentences(line: &str) -> Vec<&str> {
    let mut sentences = Vec::new();
    let mut start = 0;
    let bytes = line.as_bytes();
    for (i, byte) in bytes.iter().enumerate() {
        let ends = matches!(byte, b'.' | b'!' | b'?' | b':' | b';')
            && bytes.get(i + 1).is_some_and(|b| *b == b' ')
            && bytes
                .get(i + 2)
                .is_some_and(|b| b.is_ascii_uppercase() || *b == b'"' || *b == b'\'');
        if ends {
            sentences.push(&line[start..=i + 1]);
            start = i + 2;
        }
    }
    if start < line.len() || sentences.is_empty() {
        sentences.push(&line[start..]);
    }
    sentences
}

/// Phrases of DuckDB's that explain or advise how the database is launched or spills to disk:
/// nothing a scenario query can change.
const LAUNCH_ADVICE: &[&str] = &[
    "temporary directory",
    "launch the database",
    "launched in",
    "offloaded to disk",
];

fn is_forbidden_advice(sentence: &str) -> bool {
    let lower = sentence.to_lowercase();
    if LAUNCH_ADVICE.iter().any(|phrase| lower.contains(phrase)) {
        return true;
    }
    let words = sentence.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
    let mut forbidden = false;
    for word in words {
        if word == "SET" || word == "RESET" || word == "PRAGMA" {
            forbidden = true;
        }
        if FORBIDDEN_ADVICE.contains(&word.to_lowercase().as_str()) {
            forbidden = true;
        }
    }
    forbidden
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_is_classified() {
        let text = String::new;
        // One line per variant: (error, the agent's SQL or arguments are at fault).
        #[rustfmt::skip]
        let cases = [
            (Error::Empty, true),
            (Error::TooLong { chars: 2, max: 1 }, true),
            (Error::ControlCharacter { character: text(), position: 1 }, true),
            (Error::TooDeep { max: 1 }, true),
            (Error::Syntax { message: text() }, true),
            (Error::MultipleStatements { count: 2 }, true),
            (Error::NotReadOnly { statement_type: text() }, true),
            (Error::ForbiddenTable { name: text(), reason: text(), valid: vec![] }, true),
            (Error::QualifiedName { name: text() }, true),
            (Error::ForbiddenFunction { name: text(), reason: text() }, true),
            (Error::UnboundedSize { name: text(), reason: text(), max: 1 }, true),
            (Error::Unsupported { construct: text() }, true),
            (Error::InvalidLimit { given: 0, max: 1 }, true),
            (Error::Timeout { seconds: 1.0 }, true),
            (Error::Cancelled, true),
            (Error::Execution { message: text(), valid_tables: vec![] }, true),
            (Error::ResultTooWide { tokens: 2, budget: 1 }, true),
            (Error::Database { context: "", source: duckdb::Error::QueryReturnedNoRows }, false),
            (Error::Watchdog { source: std::io::Error::other("") }, false),
            (Error::Crashed { how: text() }, true),
            (Error::Open { detail: text() }, false),
            (Error::Worker { detail: text() }, false),
        ];
        for (error, caller) in cases {
            assert_eq!(error.is_caller_error(), caller, "{error:?}");
        }
    }

    #[test]
    fn duckdb_advice_the_sandbox_forbids_is_replaced() {
        let check =
            |duckdb: &str, expected: &str| assert_eq!(agent_message(duckdb), expected, "{duckdb}");
        let memory = "the query needs more memory than a scenario query may use: filter rows early, aggregate inside SQL, select fewer columns or join fewer rows";
        let settings = "settings cannot be changed in scenario queries: simplify the query, filter or aggregate";
        #[rustfmt::skip]
        let cases: Vec<(&str, String)> = vec![
            ("Binder Error: Referenced column \"x\" not found", "Binder Error: Referenced column \"x\" not found".into()),
            ("Catalog Error: Scalar Function with name lenght does not exist! Did you mean \"length\"?", "Catalog Error: Scalar Function with name lenght does not exist! Did you mean \"length\"?".into()),
            ("Parser Error: Max expression depth limit of 1000 exceeded. Use \"SET max_expression_depth TO x\" to increase the maximum expression depth.", "Parser Error: Max expression depth limit of 1000 exceeded.\nthe query is nested too deeply: simplify it (fewer nested expressions or subqueries)".into()),
            ("Out of Memory Error: could not allocate block of size 256.0 KiB (953.6 MiB/953.6 MiB used)\n\nPossible solutions:\n* Reducing the number of threads (SET threads=X)\n* Disabling insertion-order preservation (SET preserve_insertion_order=false)\n* Increasing the memory limit (SET memory_limit='...GB')\n\nSee also https://duckdb.org/docs/stable/guides/performance/how_to_tune_workloads", format!("Out of Memory Error: could not allocate block of size 256.0 KiB (953.6 MiB/953.6 MiB used)\n{memory}")),
            ("Out of Memory Error: failed to offload data block of size 256.0 KiB (1.0 GiB/1.0 GiB used). This limit was set by the 'max_temp_directory_size' setting. By default, this setting utilizes the available disk space on the drive where the 'temp_directory' is located.", format!("Out of Memory Error: failed to offload data block of size 256.0 KiB (1.0 GiB/1.0 GiB used).\n{memory}")),
            ("Catalog Error: Scalar Function with name st_area is not in the catalog, but it exists in the spatial extension. Please try installing and loading the spatial extension: INSTALL spatial; LOAD spatial;", "Catalog Error: Scalar Function with name st_area is not in the catalog, but it exists in the spatial extension.\nextensions are not available in scenario queries: use the built-in functions".into()),
            ("Permission Error: Cannot access file \"x.csv\" - file system operations are disabled by configuration. Set enable_external_access to true", "Permission Error: Cannot access file \"x.csv\" - file system operations are disabled by configuration.\nscenario queries read only the scenario's tables, never files".into()),
            ("Invalid Input Error: Query profiling is disabled. Use 'PRAGMA enable_profiling;' to enable profiling!", format!("Invalid Input Error: Query profiling is disabled.\n{settings}")),
            ("Out of Memory Error: failed to allocate data of size 512.0 MiB (512.6 MiB/953.6 MiB used)\nDatabase is launched in in-memory mode and no temporary directory is specified.\nUnused blocks cannot be offloaded to disk.\n\nLaunch the database with a persistent storage back-end\nOr set SET temp_directory='/path/to/tmp.tmp'", format!("Out of Memory Error: failed to allocate data of size 512.0 MiB (512.6 MiB/953.6 MiB used)\n{memory}")),
            ("Out-of-memory: cannot write buffer because no temporary directory is specified!\nTo enable temporary buffer eviction set a temporary directory using PRAGMA temp_directory='/path/to/tmp.tmp'", memory.into()),
            ("Invalid Input Error: Could not convert string 'x' to INT32", "Invalid Input Error: Could not convert string 'x' to INT32".into()),
            ("Conversion Error: the result set is too large", "Conversion Error: the result set is too large".into()),
        ];
        for (duckdb, expected) in cases {
            check(duckdb, &expected);
        }
    }
}
