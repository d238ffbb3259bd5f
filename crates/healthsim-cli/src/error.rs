//! The CLI's error type: what went wrong, and which exit code (or MCP tool error) it becomes.
//!
//! Two classes only, because scripts branch on them:
//! - [`ErrorClass::Input`] (exit code 2): the caller can fix it — bad usage, invalid entities,
//!   a rejected query, an unknown entity type, a scenario that does not exist, a refused or
//!   missing path, an export target that exists, an invalid import or FHIR file.
//! - [`ErrorClass::Failure`] (exit code 1): everything else — the database is locked by another
//!   process, I/O (other than a missing path), a database error.
//!
//! Service errors say themselves whose fault they are (`Error::is_caller_error` of
//! healthsim-persist and healthsim-summary); this module only turns that into a class.

use std::fmt;

/// Which exit code an error maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The input was wrong (exit code 2).
    Input,
    /// The operation failed for another reason (exit code 1).
    Failure,
}

/// An error of a CLI command or MCP tool, with its class and a message that says what to do.
#[derive(Debug, Clone)]
pub struct CliError {
    class: ErrorClass,
    message: String,
}

impl CliError {
    /// A caller mistake (exit code 2).
    pub fn input(message: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::Input,
            message: message.into(),
        }
    }

    /// Any other failure (exit code 1).
    pub fn failure(message: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::Failure,
            message: message.into(),
        }
    }

    /// The class of this error.
    pub fn class(&self) -> ErrorClass {
        self.class
    }

    /// The message (without the class).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The process exit code: 2 for input errors, 1 for failures.
    pub fn exit_code(&self) -> u8 {
        match self.class {
            ErrorClass::Input => 2,
            ErrorClass::Failure => 1,
        }
    }

    /// The same error with what to do after the message.
    pub fn hint(self, hint: impl fmt::Display) -> Self {
        Self {
            class: self.class,
            message: format!("{}; {hint}", self.message),
        }
    }

    /// The same error with `context` in front of the message.
    pub fn context(self, context: impl fmt::Display) -> Self {
        Self {
            class: self.class,
            message: format!("{context}: {}", self.message),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl From<healthsim_schema::Error> for CliError {
    /// The class is the schema's own answer ([`healthsim_schema::Error::is_caller_error`]).
    fn from(error: healthsim_schema::Error) -> Self {
        if error.is_caller_error() {
            Self::input(error.to_string())
        } else {
            Self::failure(error.to_string())
        }
    }
}

impl From<healthsim_persist::Error> for CliError {
    /// The class is the service's own answer ([`healthsim_persist::Error::is_caller_error`]),
    /// so a new error variant is classified where it is defined.
    fn from(error: healthsim_persist::Error) -> Self {
        let class = if error.is_caller_error() {
            ErrorClass::Input
        } else {
            ErrorClass::Failure
        };
        Self {
            class,
            message: error.to_string(),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> Self {
        Self::failure(format!("i/o error: {error}"))
    }
}

impl From<serde_json::Error> for CliError {
    fn from(error: serde_json::Error) -> Self {
        Self::failure(format!("could not write JSON: {error}"))
    }
}

/// The result type of CLI commands and MCP tools.
pub type CliResult<T> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use std::io::ErrorKind;
    use std::path::PathBuf;

    use healthsim_persist::fhir::FhirError;
    use healthsim_persist::{Error as E, InputError, LegacyError, StoreError, TransferError};

    use super::*;

    fn check(error: E, expected: ErrorClass) {
        let text = error.to_string();
        assert_eq!(CliError::from(error).class(), expected, "{text}");
    }

    fn io(kind: ErrorKind) -> std::io::Error {
        std::io::Error::from(kind)
    }

    /// The exit code of every persist error variant (and of each inner variant of the wrapper
    /// variants), as this module's own mapping gave it before `Error::is_caller_error` existed.
    #[test]
    fn every_persist_error_keeps_its_exit_code() {
        use healthsim_persist::fhir::Position;
        use healthsim_persist::query::QueryError as Q;
        use healthsim_schema::duckdb::Error as DuckDb;
        use healthsim_summary::Error as S;

        let path = || PathBuf::from("x");
        let text = || "x".to_string();
        let schema = |e: healthsim_schema::Error| E::Schema(Box::new(e));
        let summary = |e: S| E::Summary(Box::new(e));
        let unknown_type = || healthsim_schema::Error::UnknownEntityType {
            given: text(),
            valid: vec!["patients"],
        };
        let entity_error = || {
            E::Input(InputError::NotAnObject {
                entity_type: "patients",
                index: 0,
            })
        };
        let cases: Vec<(E, u8)> = vec![
            // Schema: only an unknown entity type is the caller's.
            (schema(unknown_type()), 2),
            (
                schema(healthsim_schema::Error::DatabaseNewer {
                    database_version: 9,
                    code_version: 1,
                }),
                1,
            ),
            (
                schema(healthsim_schema::Error::ChecksumMismatch {
                    version: 1,
                    name: text(),
                    recorded: text(),
                    expected: text(),
                }),
                1,
            ),
            (
                schema(healthsim_schema::Error::MissingMigration { version: 2 }),
                1,
            ),
            (
                schema(healthsim_schema::Error::DuplicateMigration { version: 2 }),
                1,
            ),
            (
                schema(healthsim_schema::Error::MigrationFailed {
                    version: 1,
                    name: text(),
                    source: DuckDb::QueryReturnedNoRows,
                }),
                1,
            ),
            (
                schema(healthsim_schema::Error::Database {
                    context: text(),
                    source: DuckDb::QueryReturnedNoRows,
                }),
                1,
            ),
            (
                E::UnknownEntityType {
                    given: text(),
                    valid: vec!["patients"],
                },
                2,
            ),
            // Naming: every variant is the caller's.
            (
                E::Naming(healthsim_naming::Error::EmptyName { given: text() }),
                2,
            ),
            (
                E::Naming(healthsim_naming::Error::Exhausted {
                    base: text(),
                    tried: 3,
                }),
                2,
            ),
            (
                E::Naming(healthsim_naming::Error::DateOutOfRange {
                    date: chrono::NaiveDate::MIN,
                }),
                2,
            ),
            // Summary.
            (
                summary(S::ScenarioNotFound {
                    scenario_id: text(),
                }),
                2,
            ),
            (
                summary(S::UnknownEntityType {
                    source: unknown_type(),
                }),
                2,
            ),
            (
                summary(S::UnknownSampleStrategy {
                    given: text(),
                    valid: vec!["diverse"],
                }),
                2,
            ),
            (
                summary(S::Statistic {
                    entity_type: text(),
                    statistic: text(),
                    source: DuckDb::QueryReturnedNoRows,
                }),
                1,
            ),
            (
                summary(S::Database {
                    context: text(),
                    source: DuckDb::QueryReturnedNoRows,
                }),
                1,
            ),
            // Query: refused, invalid, too slow or too wide is the caller's; the sandbox's
            // own failures are not.
            (E::Query(Q::Empty), 2),
            (E::Query(Q::TooLong { chars: 9, max: 1 }), 2),
            (E::Query(Q::TooDeep { max: 1 }), 2),
            (E::Query(Q::Syntax { message: text() }), 2),
            (E::Query(Q::MultipleStatements { count: 2 }), 2),
            (
                E::Query(Q::NotReadOnly {
                    statement_type: text(),
                }),
                2,
            ),
            (
                E::Query(Q::ForbiddenTable {
                    name: text(),
                    reason: text(),
                    valid: vec!["patients"],
                }),
                2,
            ),
            (E::Query(Q::QualifiedName { name: text() }), 2),
            (
                E::Query(Q::ForbiddenFunction {
                    name: text(),
                    reason: text(),
                }),
                2,
            ),
            (
                E::Query(Q::UnboundedSize {
                    name: text(),
                    reason: text(),
                    max: 1,
                }),
                2,
            ),
            (E::Query(Q::Unsupported { construct: text() }), 2),
            (E::Query(Q::InvalidLimit { given: 0, max: 100 }), 2),
            (E::Query(Q::Timeout { seconds: 5.0 }), 2),
            (
                E::Query(Q::Execution {
                    message: text(),
                    valid_tables: vec!["patients"],
                }),
                2,
            ),
            (
                E::Query(Q::ResultTooWide {
                    tokens: 9,
                    budget: 1,
                }),
                2,
            ),
            (
                E::Query(Q::Database {
                    context: "parsing",
                    source: DuckDb::QueryReturnedNoRows,
                }),
                1,
            ),
            (
                E::Query(Q::Watchdog {
                    source: io(ErrorKind::Other),
                }),
                1,
            ),
            // The database and the file system.
            (
                E::Store(StoreError::CreateDirectory {
                    path: path(),
                    source: io(ErrorKind::PermissionDenied),
                }),
                1,
            ),
            (
                E::Store(StoreError::NotADatabase {
                    path: path(),
                    detail: text(),
                }),
                1,
            ),
            (
                E::Store(StoreError::ForeignDatabase {
                    path: path(),
                    found: text(),
                }),
                1,
            ),
            (
                E::Store(StoreError::Open {
                    path: path(),
                    source: DuckDb::QueryReturnedNoRows,
                }),
                1,
            ),
            // Legacy import: the caller gave a path that is no legacy source.
            (
                E::Legacy(LegacyError::NotLegacy {
                    path: path(),
                    found: text(),
                }),
                2,
            ),
            (
                E::Legacy(LegacyError::InvalidJson {
                    path: path(),
                    reason: text(),
                }),
                2,
            ),
            (E::Legacy(LegacyError::SameFile { path: path() }), 2),
            (
                E::Store(StoreError::DatabaseLocked {
                    path: path(),
                    waited_ms: 10,
                    detail: text(),
                }),
                1,
            ),
            (
                E::Database {
                    context: text(),
                    source: DuckDb::QueryReturnedNoRows,
                },
                1,
            ),
            // Requests and entities.
            (E::InvalidRequest { reason: text() }, 2),
            (
                E::Input(InputError::NotAList {
                    entity_type: text(),
                    found: "a string",
                }),
                2,
            ),
            (entity_error(), 2),
            (
                E::Input(InputError::MissingField {
                    entity_type: "patients",
                    index: 0,
                    field: "patient_id",
                }),
                2,
            ),
            (
                E::Input(InputError::InvalidField {
                    entity_type: "patients",
                    index: 0,
                    field: text(),
                    value: text(),
                    reason: text(),
                }),
                2,
            ),
            (
                E::Input(InputError::DuplicateId {
                    entity_type: "patients",
                    id: text(),
                    first_index: 0,
                    index: 1,
                }),
                2,
            ),
            // Scenarios and tags.
            (E::ScenarioNotFound { given: text() }, 2),
            (
                E::AmbiguousScenario {
                    given: text(),
                    candidates: vec![text()],
                },
                2,
            ),
            (E::ScenarioExists { name: text() }, 2),
            (
                E::ConfirmationRequired {
                    scenario_id: text(),
                    name: text(),
                    entity_count: 1,
                },
                2,
            ),
            (
                E::InvalidTag {
                    tag: text(),
                    reason: text(),
                },
                2,
            ),
            (
                E::TooLargeToLoad {
                    scenario: text(),
                    entities: 9,
                    limit: 1,
                },
                2,
            ),
            // Transfer.
            (
                E::Transfer(TransferError::TooFewMergeSources { given: 1 }),
                2,
            ),
            (
                E::Transfer(TransferError::DuplicateMergeSource {
                    given: text(),
                    name: text(),
                }),
                2,
            ),
            (
                E::Transfer(TransferError::InvalidPath {
                    path: path(),
                    reason: text(),
                }),
                2,
            ),
            (E::Transfer(TransferError::OutputExists { path: path() }), 2),
            (
                E::Io {
                    action: "read",
                    path: path(),
                    source: io(ErrorKind::NotFound),
                },
                2,
            ),
            (
                E::Io {
                    action: "write",
                    path: path(),
                    source: io(ErrorKind::PermissionDenied),
                },
                1,
            ),
            (
                E::Transfer(TransferError::InvalidImportFile {
                    path: path(),
                    line: None,
                    column: None,
                    reason: text(),
                }),
                2,
            ),
            (
                E::Transfer(TransferError::ImportEntities {
                    path: path(),
                    source: Box::new(entity_error()),
                }),
                2,
            ),
            (
                E::Transfer(TransferError::UnknownImportFiles {
                    path: path(),
                    files: vec![text()],
                    valid: vec!["patients"],
                }),
                2,
            ),
            (
                E::Transfer(TransferError::ImportData {
                    path: path(),
                    source: DuckDb::QueryReturnedNoRows,
                }),
                2,
            ),
            // FHIR.
            (
                E::Fhir(FhirError::Io {
                    file: path(),
                    source: io(ErrorKind::NotFound),
                }),
                2,
            ),
            (
                E::Fhir(FhirError::Io {
                    file: path(),
                    source: io(ErrorKind::PermissionDenied),
                }),
                1,
            ),
            (
                E::Fhir(FhirError::InvalidJson {
                    file: path(),
                    line: None,
                    reason: text(),
                }),
                2,
            ),
            (
                E::Fhir(FhirError::Malformed {
                    resource_type: None,
                    id: None,
                    position: None,
                    reason: text(),
                }),
                2,
            ),
            (
                E::FhirResourceRejected {
                    position: Box::new(Position {
                        file: path(),
                        line: Some(1),
                        entry: None,
                    }),
                    resource_type: text(),
                    id: None,
                    reason: text(),
                    source: Box::new(entity_error()),
                },
                2,
            ),
            (
                E::FhirNothingToImport {
                    files: 0,
                    resources_read: 0,
                    unsupported: 0,
                    skipped: 0,
                },
                2,
            ),
            // A chunked FHIR import that stopped midway: whose fault is the cause's.
            (
                E::FhirImportIncomplete {
                    chunks_committed: 3,
                    resources_committed: 15,
                    scenario_id: text(),
                    scenario_name: text(),
                    source: Box::new(E::ScenarioNotFound { given: text() }),
                },
                2,
            ),
            (
                E::FhirImportIncomplete {
                    chunks_committed: 3,
                    resources_committed: 15,
                    scenario_id: text(),
                    scenario_name: text(),
                    source: Box::new(E::Database {
                        context: text(),
                        source: DuckDb::QueryReturnedNoRows,
                    }),
                },
                1,
            ),
        ];
        for (error, expected) in cases {
            let debug = format!("{error:?}");
            assert_eq!(CliError::from(error).exit_code(), expected, "{debug}");
        }
    }

    #[test]
    fn transfer_errors_map_to_exit_codes() {
        let path = || PathBuf::from("x");
        check(
            E::Transfer(TransferError::TooFewMergeSources { given: 1 }),
            ErrorClass::Input,
        );
        check(
            E::Transfer(TransferError::DuplicateMergeSource {
                given: "a".into(),
                name: "a".into(),
            }),
            ErrorClass::Input,
        );
        check(
            E::Transfer(TransferError::InvalidPath {
                path: path(),
                reason: "..".into(),
            }),
            ErrorClass::Input,
        );
        check(
            E::Transfer(TransferError::OutputExists { path: path() }),
            ErrorClass::Input,
        );
        check(
            E::Transfer(TransferError::InvalidImportFile {
                path: path(),
                line: Some(3),
                column: None,
                reason: "truncated".into(),
            }),
            ErrorClass::Input,
        );
        check(
            E::FhirNothingToImport {
                files: 0,
                resources_read: 0,
                unsupported: 0,
                skipped: 0,
            },
            ErrorClass::Input,
        );
        check(
            E::Io {
                action: "read",
                path: path(),
                source: io(ErrorKind::NotFound),
            },
            ErrorClass::Input,
        );
        check(
            E::Io {
                action: "write",
                path: path(),
                source: io(ErrorKind::PermissionDenied),
            },
            ErrorClass::Failure,
        );
        check(
            E::Fhir(FhirError::Io {
                file: path(),
                source: io(ErrorKind::NotFound),
            }),
            ErrorClass::Input,
        );
        check(
            E::Fhir(FhirError::Io {
                file: path(),
                source: io(ErrorKind::Other),
            }),
            ErrorClass::Failure,
        );
        check(
            E::Fhir(FhirError::InvalidJson {
                file: path(),
                line: Some(2),
                reason: "eof".into(),
            }),
            ErrorClass::Input,
        );
    }
}
