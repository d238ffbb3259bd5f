//! The way in for users of the Python HealthSim: recognizing its database files (and any other
//! file that is not ours) before anything of ours touches them, and importing its scenarios and
//! cohorts.
//!
//! - [`detect`]: what a file is (DuckDB or not; our schema, the Python HealthSim's of either
//!   era, or another application's), used by [`crate::Store::open`] to refuse a foreign file
//!   with [`crate::StoreError::ForeignDatabase`] instead of an engine error.
//!
//! What it does not do: modify a legacy file. Legacy databases are only ever opened read-only.

pub mod detect;

pub use detect::{DatabaseKind, FileKind, LegacyEra};
