//! # healthsim-schema
//!
//! The bottom of the HealthSim Persist stack: the **entity registry** and the database schema
//! that is generated from it.
//!
//! - [`registry`]: the canonical entity types in seven product layers (docs/schema.md lists
//!   them) — table, primary key, singular name, aliases, typed columns (dates, money, codes),
//!   foreign keys and summary hints ([`SummaryProfile`]). Every other crate reads
//!   [`ENTITY_TYPES`]; no table list is written anywhere else.
//! - [`ddl`]: the head schema generated from the registry (one table per entity type, plus the
//!   three state tables), or from any list of types ([`ddl::schema_sql_for`]).
//! - [`migrations`]: the append-only migration history, each with the checksum pinned when it
//!   was frozen, verified, applied in transactions.
//! - [`value`]: renders DuckDB values as JSON (ISO dates, DECIMAL as numbers), shared by
//!   summaries, samples, queries and exports.
//! - [`catalog`]: reads a database's catalog, checks it against the registry, and renders the
//!   data dictionary `docs/schema.md`.
//! - [`extensions`]: loads DuckDB's signed DuckLake and PostgreSQL extensions from the folder
//!   `cargo xtask setup` filled, with DuckDB's signature check on and its downloads off.
//!
//! This crate knows nothing about scenarios' contents, JSON input, summaries or the CLI; it never
//! opens a database by itself (callers pass a [`duckdb::Connection`]).
//!
//! ```
//! use healthsim_schema::{entity_type, migrate, head_version};
//!
//! let conn = duckdb::Connection::open_in_memory()?;
//! let report = migrate(&conn)?;
//! assert_eq!(report.to_version, head_version());
//!
//! let labs = entity_type("labs")?;
//! assert_eq!((labs.table, labs.primary_key), ("lab_results", "lab_result_id"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod catalog;
pub mod crash;
pub mod ddl;
pub mod dialect;
pub mod extensions;
pub mod migrations;
pub mod registry;
pub mod text;
pub mod value;

pub use duckdb;
pub use migrations::{
    head_version, migrate, status, Migration, MigrationReport, SchemaStatus, MIGRATIONS,
};
pub use registry::{
    by_table, entity_type, Column, ColumnKind, EntityType, Layer, Reference, SummaryProfile,
    ENTITY_TYPES, EXTRA_COLUMN, PROVENANCE_COLUMNS, SCENARIO_COLUMN, SYSTEM_COLUMNS,
};

/// Errors of the schema crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The given name is not an entity type, singular form or alias.
    #[error("unknown entity type '{given}'; valid types: {}", valid.join(", "))]
    UnknownEntityType {
        /// What the caller asked for.
        given: String,
        /// Every valid table name.
        valid: Vec<&'static str>,
    },
    /// The database has a migration recorded that the code does not have: it was made by newer code.
    #[error("database schema version {database_version} is newer than this program's ({code_version}); upgrade healthsim to open it")]
    DatabaseNewer {
        /// Highest version recorded in the database.
        database_version: u32,
        /// Highest version the code knows.
        code_version: u32,
    },
    /// A migration was edited after it had been applied to this database.
    #[error("migration {version} ({name}) was changed after it was applied: recorded checksum {recorded}, code has {expected}; migrations are append-only")]
    ChecksumMismatch {
        /// Version.
        version: u32,
        /// Name.
        name: String,
        /// Checksum recorded in the database.
        recorded: String,
        /// Checksum of the code's migration.
        expected: String,
    },
    /// A frozen migration's SQL no longer has the checksum pinned in the code: the file was
    /// edited after it shipped. Found by [`migrations::verify_pins`] before any user sees it.
    #[error("migration {version} ({name}) was edited after it was frozen: pinned checksum {pinned}, the file now has {actual}; restore the file and add a new migration instead")]
    EditedMigration {
        /// Version.
        version: u32,
        /// Name.
        name: String,
        /// The checksum written next to the migration when it was frozen.
        pinned: String,
        /// The checksum of the SQL as it is now.
        actual: String,
    },
    /// A version in the sequence is missing (in the code's list or in the database's history).
    #[error("migration {version} is missing from the sequence")]
    MissingMigration {
        /// The missing version.
        version: u32,
    },
    /// The code lists the same version twice.
    #[error("migration {version} is listed more than once")]
    DuplicateMigration {
        /// The repeated version.
        version: u32,
    },
    /// A migration failed and was rolled back; the database stays at the previous version.
    #[error("migration {version} ({name}) failed and was rolled back: {source}")]
    MigrationFailed {
        /// Version.
        version: u32,
        /// Name.
        name: String,
        /// The database error.
        source: duckdb::Error,
    },
    /// A catalog or bookkeeping query failed.
    #[error("database error while {context}: {source}")]
    Database {
        /// What was being done.
        context: String,
        /// The database error.
        source: duckdb::Error,
    },
}

impl Error {
    /// Whether the caller is at fault: only a name that is no entity type is; the other errors
    /// are about the database file, its migrations or the code. Written as an exhaustive match
    /// so a new variant must be classified.
    pub fn is_caller_error(&self) -> bool {
        match self {
            Error::UnknownEntityType { .. } => true,
            Error::DatabaseNewer { .. }
            | Error::ChecksumMismatch { .. }
            | Error::EditedMigration { .. }
            | Error::MissingMigration { .. }
            | Error::DuplicateMigration { .. }
            | Error::MigrationFailed { .. }
            | Error::Database { .. } => false,
        }
    }
}
