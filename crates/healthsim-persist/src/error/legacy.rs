//! [`LegacyError`]: the failures of `crate::legacy`'s import, kept under `error` so the error
//! types form one leaf that every module uses (the module re-exports it).

use std::path::PathBuf;

/// Why a legacy source cannot be imported at all (a scenario that cannot be imported is
/// skipped and reported instead). Wrapped in [`crate::Error::Legacy`]. Nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LegacyError {
    /// The path is neither a Python HealthSim database, nor a JSON scenario or cohort file, nor
    /// a folder of them.
    #[error(
        "{path} is not a Python HealthSim database, JSON scenario/cohort file or folder of them: \
         {found}; nothing was imported"
    )]
    NotLegacy {
        /// The path given.
        path: PathBuf,
        /// What it is instead.
        found: String,
    },

    /// A JSON file is not valid JSON or not in a shape the Python HealthSim wrote.
    #[error("{path}: {reason}; nothing was imported")]
    InvalidJson {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The legacy database is the database this program writes to.
    #[error("{path} is both the legacy source and the target database; pass --db with a new file")]
    SameFile {
        /// The file.
        path: PathBuf,
    },
}

impl LegacyError {
    /// Always true: the caller gave the wrong path or file. See [`crate::Error::is_caller_error`].
    pub fn is_caller_error(&self) -> bool {
        match self {
            LegacyError::NotLegacy { .. }
            | LegacyError::InvalidJson { .. }
            | LegacyError::SameFile { .. } => true,
        }
    }
}
