//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in healthsim-persist.
///
/// Messages are lowercase, name what was wrong (entity type, index, field, value) and, where
/// there is one, what to do about it. Input errors are detected before anything is written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The schema refused the database (made by newer code, an edited or missing migration),
    /// or a migration failed and was rolled back.
    #[error("{0}")]
    Schema(Box<healthsim_schema::Error>),

    /// A name that is not an entity type, singular form or alias of the registry.
    #[error("unknown entity type '{given}'; valid types: {}", valid.join(", "))]
    UnknownEntityType {
        /// What the caller sent.
        given: String,
        /// Every valid table name.
        valid: Vec<&'static str>,
    },

    /// A scenario name could not be made (no usable characters, or no free counter).
    #[error("{0}")]
    Naming(#[from] healthsim_naming::Error),

    /// Building a summary or samples failed.
    #[error("{0}")]
    Summary(Box<healthsim_summary::Error>),

    /// A scenario query was refused or failed (see [`healthsim_query::Error`]).
    #[error("{0}")]
    Query(#[from] healthsim_query::Error),

    /// The directory that should hold the database could not be created.
    #[error("cannot create directory {path} for the database: {source}")]
    CreateDirectory {
        /// The directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// The file exists but DuckDB cannot read it as a database.
    #[error("{path} is not a DuckDB database (healthsim cannot open it): {detail}")]
    NotADatabase {
        /// The file.
        path: PathBuf,
        /// DuckDB's message.
        detail: String,
    },

    /// Opening the database failed for another reason than a lock.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// DuckDB's error.
        source: duckdb::Error,
    },

    /// Another process (or another `Store` in this process) held the database for longer than
    /// the lock timeout. DuckDB lets one process at a time open a file for writing.
    #[error(
        "database {path} is in use by another healthsim process (CLI or MCP server); waited {waited_ms} ms. \
         Retry in a moment, close the other process, or raise --lock-timeout ({detail})"
    )]
    DatabaseLocked {
        /// The file.
        path: PathBuf,
        /// How long the open was retried.
        waited_ms: u64,
        /// DuckDB's message (it names the process holding the lock).
        detail: String,
    },

    /// A statement failed.
    #[error("database error while {context}: {source}")]
    Database {
        /// What was being done.
        context: String,
        /// DuckDB's error.
        source: duckdb::Error,
    },

    /// The request as a whole is unusable (no entities, a type given twice, ...).
    #[error("invalid request: {reason}")]
    InvalidRequest {
        /// What is wrong with it.
        reason: String,
    },

    /// The entities of a type were not sent as a JSON array.
    #[error("entities of type '{entity_type}' must be a JSON array of objects, got {found}")]
    NotAList {
        /// The type as the caller named it.
        entity_type: String,
        /// The JSON type that came instead (`an object`, `a string`, ...).
        found: &'static str,
    },

    /// An entity is not a JSON object.
    #[error("{entity_type}[{index}] is not a JSON object")]
    NotAnObject {
        /// Table name of the entity type.
        entity_type: &'static str,
        /// Position in the list of that type.
        index: usize,
    },

    /// A required (NOT NULL) column has no value.
    #[error("{entity_type}[{index}]: required field '{field}' is missing or null")]
    MissingField {
        /// Table name of the entity type.
        entity_type: &'static str,
        /// Position in the list of that type.
        index: usize,
        /// The column.
        field: &'static str,
    },

    /// A value cannot be converted to its column's type.
    #[error("{entity_type}[{index}].{field}: {reason}, got {value}")]
    InvalidField {
        /// Table name of the entity type.
        entity_type: &'static str,
        /// Position in the list of that type.
        index: usize,
        /// The field as the input named it (`birthDate`, `name.given`, `period.start`).
        field: String,
        /// The offending value as JSON, cut to about 80 characters.
        value: String,
        /// What was expected.
        reason: String,
    },

    /// The same primary key appears twice for one type in one call.
    #[error(
        "{entity_type}[{index}]: id '{id}' already appears at index {first_index} in this call"
    )]
    DuplicateId {
        /// Table name of the entity type.
        entity_type: &'static str,
        /// The repeated id (cut to about 80 characters).
        id: String,
        /// Where it appeared first.
        first_index: usize,
        /// Where it appeared again.
        index: usize,
    },

    /// No scenario has this id or name, and no name contains it.
    #[error("no scenario matches '{given}'; list the scenarios to see their names")]
    ScenarioNotFound {
        /// What the caller sent.
        given: String,
    },

    /// Several scenario names contain the given text.
    #[error("'{given}' matches several scenarios: {}; give the full name or the id", candidates.join(", "))]
    AmbiguousScenario {
        /// What the caller sent.
        given: String,
        /// The matching names (at most [`crate::scenario::MAX_CANDIDATES`]).
        candidates: Vec<String>,
    },

    /// Saving under a name that is taken, without `overwrite`.
    #[error("a scenario named '{name}' already exists; choose another name or overwrite it")]
    ScenarioExists {
        /// The (sanitized) name.
        name: String,
    },

    /// Deleting needs an explicit confirmation.
    #[error("deleting scenario '{name}' ({entity_count} entities) needs confirmation; nothing was deleted")]
    ConfirmationRequired {
        /// Id of the scenario that would be deleted.
        scenario_id: String,
        /// Its name.
        name: String,
        /// How many entities it holds.
        entity_count: u64,
    },

    /// A tag that is empty after trimming, too long, or has control characters.
    #[error("invalid tag {tag:?}: {reason}")]
    InvalidTag {
        /// The tag as given (cut to about 80 characters).
        tag: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A full load of a large scenario would flood the caller; summaries and queries scale.
    #[error(
        "scenario '{scenario}' has {entities} entities, more than the {limit} a full load returns; \
         use the scenario summary, entity samples or a query instead"
    )]
    TooLargeToLoad {
        /// The scenario's name.
        scenario: String,
        /// How many entities it holds.
        entities: u64,
        /// [`crate::saveload::LOAD_LIMIT`].
        limit: u64,
    },

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

    /// Reading or writing a file failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done (`write`, `read`, `create folder`, ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
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

    /// FHIR input could not be read, or (without `skip_invalid`) one of its resources is not
    /// valid JSON or not well-formed FHIR; the inner error names the file, line, bundle entry
    /// and reason. Nothing was written.
    #[error("{0}")]
    Fhir(#[from] crate::fhir::FhirError),

    /// Persist's validation refused the entities a FHIR resource maps to (a value that does not
    /// fit its column, the same id twice inside the resource). Nothing was written.
    #[error(
        "fhir resource {resource_type}/{} ({}) was rejected: {reason}",
        id.as_deref().unwrap_or("?"),
        position
    )]
    FhirResourceRejected {
        /// Where it was read.
        position: Box<crate::fhir::Position>,
        /// Its `resourceType`.
        resource_type: String,
        /// Its id (or its bundle entry's `fullUrl`), when known.
        id: Option<String>,
        /// Why, naming the table and field.
        reason: String,
        /// The validation error as [`crate::Store::persist_entities`] reports it.
        source: Box<Error>,
    },

    /// No resource of the FHIR input maps to a canonical entity (no files, only unsupported
    /// types, or every resource skipped as invalid). Nothing was written.
    #[error(
        "nothing to import: {resources_read} resources read from {files} file(s), {unsupported} \
         of them of types without a table, {skipped} skipped as invalid; nothing was written"
    )]
    FhirNothingToImport {
        /// Files read.
        files: usize,
        /// Resources read.
        resources_read: u64,
        /// Of those, resources of unsupported types.
        unsupported: u64,
        /// Resources (or lines) left out as invalid.
        skipped: u64,
    },
}

impl Error {
    /// Whether the caller can fix this by changing the request: an unknown entity type or
    /// scenario, an invalid entity, a refused query or path, a missing or invalid input file.
    /// Everything else (the database locked or failing, I/O other than a missing file, a
    /// schema the code cannot open) is not the caller's doing. The CLI's exit codes and the
    /// MCP server's tool errors rest on this.
    pub fn is_caller_error(&self) -> bool {
        match self {
            // Of the schema's errors only an unknown type is the caller's; the others are about
            // the database file and its migrations.
            Error::Schema(inner) => {
                matches!(**inner, healthsim_schema::Error::UnknownEntityType { .. })
            }
            // Every naming error comes from the name or context the caller gave.
            Error::Naming(_) => true,
            Error::Summary(inner) => inner.is_caller_error(),
            Error::Query(inner) => inner.is_caller_error(),
            Error::Fhir(inner) => inner.is_caller_error(),
            Error::Io { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
            Error::UnknownEntityType { .. }
            | Error::InvalidRequest { .. }
            | Error::NotAList { .. }
            | Error::NotAnObject { .. }
            | Error::MissingField { .. }
            | Error::InvalidField { .. }
            | Error::DuplicateId { .. }
            | Error::ScenarioNotFound { .. }
            | Error::AmbiguousScenario { .. }
            | Error::ScenarioExists { .. }
            | Error::ConfirmationRequired { .. }
            | Error::InvalidTag { .. }
            | Error::TooLargeToLoad { .. }
            | Error::TooFewMergeSources { .. }
            | Error::DuplicateMergeSource { .. }
            | Error::InvalidPath { .. }
            | Error::OutputExists { .. }
            | Error::InvalidImportFile { .. }
            | Error::ImportEntities { .. }
            | Error::UnknownImportFiles { .. }
            | Error::ImportData { .. }
            | Error::FhirResourceRejected { .. }
            | Error::FhirNothingToImport { .. } => true,
            Error::CreateDirectory { .. }
            | Error::NotADatabase { .. }
            | Error::Open { .. }
            | Error::DatabaseLocked { .. }
            | Error::Database { .. } => false,
        }
    }
}

impl From<healthsim_schema::Error> for Error {
    fn from(error: healthsim_schema::Error) -> Self {
        Error::Schema(Box::new(error))
    }
}

impl From<healthsim_summary::Error> for Error {
    fn from(error: healthsim_summary::Error) -> Self {
        Error::Summary(Box::new(error))
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

/// Shorthand for this crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A closure that wraps a DuckDB error into [`Error::Database`] with a context.
pub(crate) fn db(context: impl Into<String>) -> impl FnOnce(duckdb::Error) -> Error {
    let context = context.into();
    move |source| Error::Database { context, source }
}

/// How much of a value an error message keeps.
const MAX_VALUE_IN_ERROR: usize = 80;

/// `text` cut to about 80 characters (with `...`), so a huge input does not make a huge message.
pub(crate) fn truncate(text: &str) -> String {
    match healthsim_schema::text::cut_chars(text, MAX_VALUE_IN_ERROR) {
        None => text.to_string(),
        Some(head) => format!("{head}..."),
    }
}

/// The registry's entity type for a user-given name.
pub(crate) fn entity_type(given: &str) -> Result<&'static healthsim_schema::EntityType> {
    healthsim_schema::entity_type(given).map_err(|e| match e {
        healthsim_schema::Error::UnknownEntityType { given, valid } => {
            Error::UnknownEntityType { given, valid }
        }
        other => Error::from(other),
    })
}

#[cfg(test)]
mod tests {
    use std::io::ErrorKind;
    use std::path::PathBuf;

    use super::*;
    use crate::fhir::FhirError;
    use crate::query::QueryError;

    fn check(error: Error, expected: bool) {
        assert_eq!(error.is_caller_error(), expected, "{error:?}");
    }

    fn io(kind: ErrorKind) -> std::io::Error {
        std::io::Error::from(kind)
    }

    /// The wrapper variants and the I/O variants decide by what they wrap; the CLI's table test
    /// (`every_persist_error_keeps_its_exit_code`) pins every variant.
    #[test]
    fn wrappers_and_io_decide_by_their_inner_error() {
        let path = || PathBuf::from("x");
        let db = || duckdb::Error::QueryReturnedNoRows;
        check(
            Error::Schema(Box::new(healthsim_schema::Error::UnknownEntityType {
                given: "x".into(),
                valid: vec!["patients"],
            })),
            true,
        );
        check(
            Error::Schema(Box::new(healthsim_schema::Error::MissingMigration {
                version: 2,
            })),
            false,
        );
        check(
            Error::Naming(healthsim_naming::Error::EmptyName { given: "!".into() }),
            true,
        );
        check(
            Error::Summary(Box::new(healthsim_summary::Error::ScenarioNotFound {
                scenario_id: "s".into(),
            })),
            true,
        );
        check(
            Error::Summary(Box::new(healthsim_summary::Error::Database {
                context: "counting".into(),
                source: db(),
            })),
            false,
        );
        check(Error::Query(QueryError::Empty), true);
        check(
            Error::Query(QueryError::Watchdog {
                source: io(ErrorKind::Other),
            }),
            false,
        );
        for (kind, expected) in [
            (ErrorKind::NotFound, true),
            (ErrorKind::PermissionDenied, false),
        ] {
            check(
                Error::Io {
                    action: "read",
                    path: path(),
                    source: io(kind),
                },
                expected,
            );
            check(
                Error::Fhir(FhirError::Io {
                    file: path(),
                    source: io(kind),
                }),
                expected,
            );
        }
        check(
            Error::Fhir(FhirError::InvalidJson {
                file: path(),
                line: Some(1),
                reason: "eof".into(),
            }),
            true,
        );
        check(
            Error::DatabaseLocked {
                path: path(),
                waited_ms: 10,
                detail: "pid 1".into(),
            },
            false,
        );
        check(Error::ScenarioNotFound { given: "s".into() }, true);
    }
}
