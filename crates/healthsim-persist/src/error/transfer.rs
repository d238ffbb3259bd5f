//! [`TransferError`]: the failures of `crate::transfer`, kept under `error` so the error types form
//! one leaf that every module uses (the module re-exports it).

use std::path::PathBuf;

use super::Error;

/// Why a merge, export or import was refused or failed; nothing was written. Wrapped in
/// [`Error::Transfer`]. (File I/O is [`Error::Io`], shared with creating the database file.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// A merge needs at least two source scenarios.
    #[error("a merge needs at least two source scenarios, got {given}")]
    TooFewMergeSources {
        /// How many were given.
        given: usize,
    },

    /// Two of a merge's sources are the same scenario.
    #[error("scenario '{name}' is given more than once as a merge source (as '{given}')")]
    DuplicateMergeSource {
        /// The source as the caller named it the second time.
        given: String,
        /// The scenario's name.
        name: String,
    },

    /// An export or import path is refused (a `..` component, a missing parent, a file where a
    /// folder belongs, a symbolic link to replace, ...); nothing was written.
    #[error("path {path} is refused: {reason}")]
    InvalidPath {
        /// The path as given (or as derived from it).
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// The export target exists and `overwrite` was not set; nothing was written.
    #[error("{path} already exists; choose another path or allow overwriting")]
    OutputExists {
        /// The file or folder that exists.
        path: PathBuf,
    },

    /// An import file is not a readable scenario export (bad or truncated JSON, not an export
    /// document, unknown or missing columns, ...); nothing was written.
    #[error("{path}{}: {reason}", location(*line, *column))]
    InvalidImportFile {
        /// The file (or folder).
        path: PathBuf,
        /// The line of the problem, when known (1-based).
        line: Option<usize>,
        /// The column of the problem, when known (1-based).
        column: Option<usize>,
        /// What is wrong.
        reason: String,
    },

    /// The entities of an import file failed validation (the inner error names the entity type,
    /// index and field); nothing was written.
    #[error("{path}: {source}")]
    ImportEntities {
        /// The file.
        path: PathBuf,
        /// The validation error, as [`crate::Store::persist_entities`] reports it.
        source: Box<Error>,
    },

    /// A folder to import holds files that are not `<table>.parquet` or `<table>.csv` of a
    /// canonical table; nothing was written.
    #[error("{path} holds files that are not <table>.parquet or <table>.csv of a known table: {}; valid tables: {}", files.join(", "), valid.join(", "))]
    UnknownImportFiles {
        /// The folder.
        path: PathBuf,
        /// The offending file names.
        files: Vec<String>,
        /// Every valid table name.
        valid: Vec<&'static str>,
    },

    /// DuckDB could not read or store the rows of an import file (a value that does not fit its
    /// column's type, a missing required value, a repeated id, a damaged file); nothing was
    /// written.
    #[error("{path}: the rows cannot be imported: {source}")]
    ImportData {
        /// The file.
        path: PathBuf,
        /// DuckDB's error (it names the column and, for CSV, the line).
        source: duckdb::Error,
    },
}

impl TransferError {
    /// Always true: a merge's sources, a path, an export target or an import file is the
    /// caller's to fix. (An import file DuckDB cannot read is the file's fault, not the
    /// database's.) See [`Error::is_caller_error`].
    pub fn is_caller_error(&self) -> bool {
        match self {
            TransferError::TooFewMergeSources { .. }
            | TransferError::DuplicateMergeSource { .. }
            | TransferError::InvalidPath { .. }
            | TransferError::OutputExists { .. }
            | TransferError::InvalidImportFile { .. }
            | TransferError::ImportEntities { .. }
            | TransferError::UnknownImportFiles { .. }
            | TransferError::ImportData { .. } => true,
        }
    }
}

/// ` (line L, column C)` when the line is known, else nothing.
fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(" (line {line}, column {column})"),
        (Some(line), None) => format!(" (line {line})"),
        _ => String::new(),
    }
}
