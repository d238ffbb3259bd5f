//! The crate's error type: [`Error`] wraps one enum per concern, each defined in the module
//! that raises it ([`StoreError`] opening the database, [`InputError`] validating entities,
//! [`TransferError`] merging, exporting and importing), so a module's failures are read next to
//! its code and a caller can match a whole concern at once. What belongs to no single concern
//! (an unknown entity type, a failed statement, file I/O, the wrapped errors of the neighbour
//! crates) stays here.

use std::path::PathBuf;

mod input;
mod legacy;
mod store;
mod transfer;

pub use input::InputError;
pub use legacy::LegacyError;
pub use store::StoreError;
pub use transfer::TransferError;

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

    /// The database file could not be opened (see [`StoreError`]).
    #[error(transparent)]
    Store(#[from] StoreError),

    /// An entity of the input is unusable (see [`InputError`]); nothing was written.
    #[error(transparent)]
    Input(#[from] InputError),

    /// A merge, export or import was refused or failed (see [`TransferError`]).
    #[error(transparent)]
    Transfer(#[from] TransferError),

    /// A legacy (Python HealthSim) source cannot be imported (see [`LegacyError`]).
    #[error(transparent)]
    Legacy(#[from] LegacyError),

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

    /// Reading or writing a file failed (creating the database file, or a transfer's files).
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done (`write`, `read`, `create folder`, ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
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

    /// A FHIR import in `chunks` commit mode failed after committing some chunks: those stay
    /// (each one whole), the failing chunk and everything after it were not written. Ids
    /// upsert, so re-running the same import into the same scenario completes it without
    /// duplicates.
    #[error(
        "{source}; the fhir import had committed {chunks_committed} chunk(s) \
         ({resources_committed} resources) into scenario '{scenario_name}' ({scenario_id}) \
         before this: fix the cause and re-run the same import into that scenario \
         (--scenario {scenario_name}) to complete it without duplicates"
    )]
    FhirImportIncomplete {
        /// Chunks committed, each in its own transaction.
        chunks_committed: u64,
        /// Resources in them.
        resources_committed: u64,
        /// The scenario they went into.
        scenario_id: String,
        /// Its name.
        scenario_name: String,
        /// Why the import stopped.
        source: Box<Error>,
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
            Error::Schema(inner) => inner.is_caller_error(),
            Error::Naming(inner) => inner.is_caller_error(),
            Error::Summary(inner) => inner.is_caller_error(),
            Error::Query(inner) => inner.is_caller_error(),
            Error::Fhir(inner) => inner.is_caller_error(),
            Error::Store(inner) => inner.is_caller_error(),
            Error::Input(inner) => inner.is_caller_error(),
            Error::Transfer(inner) => inner.is_caller_error(),
            Error::FhirImportIncomplete { source, .. } => source.is_caller_error(),
            Error::Legacy(inner) => inner.is_caller_error(),
            Error::Io { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
            Error::UnknownEntityType { .. }
            | Error::InvalidRequest { .. }
            | Error::ScenarioNotFound { .. }
            | Error::AmbiguousScenario { .. }
            | Error::ScenarioExists { .. }
            | Error::ConfirmationRequired { .. }
            | Error::InvalidTag { .. }
            | Error::TooLargeToLoad { .. }
            | Error::FhirResourceRejected { .. }
            | Error::FhirNothingToImport { .. } => true,
            Error::Database { .. } => false,
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
            Error::Store(StoreError::DatabaseLocked {
                path: path(),
                waited_ms: 10,
                detail: "pid 1".into(),
            }),
            false,
        );
        check(Error::ScenarioNotFound { given: "s".into() }, true);
        check(
            Error::Fhir(FhirError::Decompress {
                file: path(),
                source: io(ErrorKind::InvalidData),
            }),
            true,
        );
        let incomplete = |source| Error::FhirImportIncomplete {
            chunks_committed: 2,
            resources_committed: 10,
            scenario_id: "id".into(),
            scenario_name: "name".into(),
            source: Box::new(source),
        };
        check(
            incomplete(Error::ScenarioNotFound { given: "s".into() }),
            true,
        );
        check(
            incomplete(Error::Database {
                context: "writing".into(),
                source: db(),
            }),
            false,
        );
    }
}
