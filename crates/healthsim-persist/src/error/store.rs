//! [`StoreError`]: the failures of `crate::store`, kept under `error` so the error types form
//! one leaf that every module uses (the module re-exports it).

use std::path::PathBuf;

/// Why the database file could not be opened. Wrapped in [`Error::Store`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
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

    /// The file is a DuckDB database, but not one of this program: a Python HealthSim
    /// database (either schema era) or another application's. Detected from the catalog
    /// before any migration runs; the file is not modified.
    #[error("{path} is {found}")]
    ForeignDatabase {
        /// The file.
        path: PathBuf,
        /// What it is and what to do (`a HealthSim (Python) database, schema era ...`).
        found: String,
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

    /// A database name that starts like a lake but cannot be used as one.
    #[error("{0}")]
    InvalidTarget(#[from] crate::target::TargetError),

    /// A lake could not be opened: an extension, the catalog's server, the data path.
    #[error("cannot open lake {lake}: {detail}")]
    LakeOpen {
        /// The lake, its secrets hidden.
        lake: String,
        /// What failed (DuckDB's or the driver's message, secrets removed).
        detail: String,
    },

    /// A lake's data is in S3 and the environment does not say how to reach it (see `s3.rs`).
    #[error("cannot reach the data of lake {lake} at {data_path}: {detail}")]
    ObjectStorageAccess {
        /// The lake, its secrets hidden.
        lake: String,
        /// The S3 address of the data.
        data_path: String,
        /// What is missing or wrong, naming the environment variables.
        detail: String,
    },

    /// Other writers of the lake kept committing changes that conflict with this write for
    /// longer than the lock timeout; nothing of this write was kept.
    #[error(
        "lake {lake} is busy: other writers committed conflicting changes {attempts} times in \
         {waited_ms} ms; nothing was written. Retry in a moment or raise --lock-timeout ({detail})"
    )]
    LakeConflict {
        /// The lake, its secrets hidden.
        lake: String,
        /// How many times the write was tried.
        attempts: u32,
        /// How long it was retried.
        waited_ms: u64,
        /// DuckLake's last message.
        detail: String,
    },

    /// Other writers of the lake kept their turns (see `lake::take_turn`) for longer than the
    /// lock timeout; nothing of this write was done.
    #[error(
        "lake {lake} is busy: other writers held it for {waited_ms} ms; nothing was written. \
         Retry in a moment or raise --lock-timeout ({detail})"
    )]
    LakeBusy {
        /// The lake, its secrets hidden.
        lake: String,
        /// How long this write waited for its turn.
        waited_ms: u64,
        /// PostgreSQL's message.
        detail: String,
    },
}

impl StoreError {
    /// Always false: a directory that cannot be made, a file that is not a database (or not
    /// one of ours), a failed open or another holder of the lock is not the caller's doing. See
    /// [`Error::is_caller_error`].
    pub fn is_caller_error(&self) -> bool {
        match self {
            StoreError::CreateDirectory { .. }
            | StoreError::NotADatabase { .. }
            | StoreError::ForeignDatabase { .. }
            | StoreError::Open { .. }
            | StoreError::DatabaseLocked { .. }
            | StoreError::InvalidTarget(_)
            | StoreError::LakeOpen { .. }
            | StoreError::ObjectStorageAccess { .. }
            | StoreError::LakeConflict { .. }
            | StoreError::LakeBusy { .. } => false,
        }
    }
}
