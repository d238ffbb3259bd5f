//! The way in for users of the Python HealthSim: recognizing its database files (and any other
//! file that is not ours) before anything of ours touches them, and importing its scenarios and
//! cohorts.
//!
//! - [`detect`]: what a file is (DuckDB or not; our schema, the Python HealthSim's of either
//!   era, or another application's), used by [`crate::Store::open`] to refuse a foreign file
//!   with [`crate::StoreError::ForeignDatabase`] instead of an engine error.
//! - [`source`]: reading a Python HealthSim database (read-only) or its JSON scenario and
//!   cohort files into legacy scenarios.
//! - [`map`]: legacy entity types and fields → our canonical types (pure).
//! - [`import`]: [`crate::Store::import_legacy`], one transaction per scenario through
//!   persist's own validation and write path, and its bounded [`LegacyImportReport`].
//!
//! What it does not do: modify a legacy file. Legacy databases are only ever opened read-only.

pub mod detect;
pub mod import;
pub mod map;
pub mod source;

pub use detect::{DatabaseKind, FileKind, LegacyEra};
pub use import::{
    LegacyImportOptions, LegacyImportReport, LegacyScenarioReport, LegacyStatus, NameConflict,
    SkippedItem,
};
