//! The CLI's error type: what went wrong, and which exit code (or MCP tool error) it becomes.
//!
//! Two classes only, because scripts branch on them:
//! - [`ErrorClass::Input`] (exit code 2): the caller can fix it — bad usage, invalid entities,
//!   a rejected query, an unknown entity type, a scenario that does not exist.
//! - [`ErrorClass::Failure`] (exit code 1): everything else — the database is locked by another
//!   process, I/O, a database error.

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
    fn from(error: healthsim_schema::Error) -> Self {
        match error {
            healthsim_schema::Error::UnknownEntityType { .. } => Self::input(error.to_string()),
            other => Self::failure(other.to_string()),
        }
    }
}

impl From<healthsim_persist::Error> for CliError {
    fn from(error: healthsim_persist::Error) -> Self {
        use healthsim_persist::query::QueryError;
        use healthsim_persist::Error as E;
        let class = match &error {
            E::Schema(inner)
                if matches!(**inner, healthsim_schema::Error::UnknownEntityType { .. }) =>
            {
                ErrorClass::Input
            }
            E::Summary(inner) => match **inner {
                healthsim_summary::Error::ScenarioNotFound { .. }
                | healthsim_summary::Error::UnknownEntityType { .. }
                | healthsim_summary::Error::UnknownSampleStrategy { .. } => ErrorClass::Input,
                _ => ErrorClass::Failure,
            },
            E::Query(inner) => match inner {
                // The sandbox's own failures are not the query's fault.
                QueryError::Database { .. } | QueryError::Watchdog { .. } => ErrorClass::Failure,
                // Refused, invalid, too slow or too wide: the caller changes the query.
                _ => ErrorClass::Input,
            },
            E::UnknownEntityType { .. }
            | E::Naming(_)
            | E::InvalidRequest { .. }
            | E::NotAList { .. }
            | E::NotAnObject { .. }
            | E::MissingField { .. }
            | E::InvalidField { .. }
            | E::DuplicateId { .. }
            | E::ScenarioNotFound { .. }
            | E::AmbiguousScenario { .. }
            | E::ScenarioExists { .. }
            | E::ConfirmationRequired { .. }
            | E::InvalidTag { .. }
            | E::TooLargeToLoad { .. } => ErrorClass::Input,
            // Locks, I/O, database errors, and anything added later that is not known to be
            // the caller's mistake.
            _ => ErrorClass::Failure,
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
