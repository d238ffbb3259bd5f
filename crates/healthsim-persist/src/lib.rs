//! # healthsim-persist
//!
//! Persists LLM-generated healthcare entities into typed, scenario-scoped DuckDB tables and
//! gives back a compact result instead of the data ("summary in context, data in DuckDB";
//! ARCHITECTURE.md, "The agent's contract"). It is the service layer of HealthSim Persist: everything the CLI and the MCP
//! server do goes through a [`Store`].
//!
//! - [`Store`] holds one database file: it migrates the schema on open, keeps its connection
//!   between operations (DuckDB allows one writing process per file), reopens on demand after
//!   [`Store::release`], and waits with backoff while another process holds the file
//!   ([`StoreOptions::lock_timeout`], then [`StoreError::DatabaseLocked`]).
//! - [`Store::persist_entities`] ([`persist`]): a batch of entities (one type, or type → list)
//!   into a new, auto-named or an existing scenario. All input is validated before anything is
//!   written; the write is one transaction; re-persisting an id updates it. Returns a
//!   [`PersistResult`]: counts, at most 50 ids (fewer if they would not fit in 500 tokens),
//!   and a summary without samples. [`PreparedEntities`] + [`Store::write_entities`] split the
//!   same work for streaming callers: validate on one thread, write on another, then
//!   [`Store::refresh_running_statistics`] and summarize once at the end.
//! - [`input`]: the pure JSON → typed row mapping (camelCase, nested FHIR-like shapes, money,
//!   dates, timestamps in UTC; unknown fields kept in `extra`) and its inverse.
//! - [`normalize`]: the code sets `gender` and `state` are stored in (`F`/`M`/`O`/`U`, USPS
//!   codes), so statistics group one meaning once; the given spelling stays in `extra`.
//! - [`scenario`]: resolve by id or name, list, rename, delete (confirmed), tags, and the
//!   summary / samples pass-throughs.
//! - [`saveload`]: full-data save and load of small scenarios (up to [`saveload::LOAD_LIMIT`]
//!   entities).
//! - [`legacy`]: the way in for Python HealthSim users. [`Store::open`] refuses a file that is
//!   not one of our databases (the Python HealthSim's of either schema era, another
//!   application's, no DuckDB file at all) with [`StoreError::ForeignDatabase`] /
//!   [`StoreError::NotADatabase`] before any migration touches it, and
//!   [`Store::import_legacy`] brings its scenarios and cohorts (database opened read-only, or
//!   JSON files) into new scenarios through the same write path.
//! - [`query`]: read-only, scenario-scoped SQL in a sandboxed connection (the `healthsim-query`
//!   crate, re-exported).
//! - [`Error`]: one error type for every call; each concern's failures are an enum of the module
//!   that raises them, wrapped in it ([`StoreError`] opening the file, [`InputError`] validating
//!   entities, [`TransferError`] merging, exporting and importing), and every error says
//!   whether the caller can fix it ([`Error::is_caller_error`]).
//!
//! Neighbours: table and column names come only from the entity registry of
//! `healthsim-schema`; scenario names from `healthsim-naming` (with an `exists` predicate
//! backed by the `scenarios` table); summaries and samples from `healthsim-summary`.
//!
//! What it does not know: argv, MCP or JSON-RPC (that is `healthsim-cli`), how entities are
//! generated, or token counting (summaries measure themselves).
//!
//! With the `json-schema` feature, the results and options the CLI and the MCP server expose
//! ([`PersistResult`], [`ScenarioInfo`], [`CloneResult`], [`OnConflict`], [`ExportFormat`], ...)
//! derive `schemars::JsonSchema`: their doc comments are the descriptions an agent reads in
//! the tools' schemas, so they are written for that reader.
//!
//! ```
//! use healthsim_persist::{PersistRequest, ScenarioTarget, Store, StoreOptions};
//! use serde_json::json;
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path().join("healthsim.duckdb"), StoreOptions::default())?;
//!
//! let patients = vec![
//!     json!({"id": "p1", "name": {"given": "Ana", "family": "Diaz"}, "birthDate": "1950-06-01", "gender": "female"}),
//!     json!({"patient_id": "p2", "birth_date": "1980-01-15", "gender": "male", "favorite_color": "teal"}),
//! ];
//! let request = PersistRequest::new("patient", patients)
//!     .with_scenario(ScenarioTarget::new_from_context("diabetic patients in Arizona"));
//! let result = store.persist_entities(&request)?;
//! assert!(result.is_new_scenario);
//! assert_eq!(result.counts["patients"].inserted, 2);
//! assert_eq!(result.entity_ids, ["p1", "p2"]);
//!
//! // Re-persisting an id updates it; the scenario is found by a part of its name.
//! let update = PersistRequest::new("patients", vec![json!({"patient_id": "p2", "gender": "unknown"})])
//!     .into_existing("diabetic");
//! assert_eq!(store.persist_entities(&update)?.counts["patients"].updated, 1);
//!
//! let loaded = store.load_scenario(&result.scenario_id)?;
//! assert_eq!(loaded.entities["patients"][0]["given_name"], "Ana");
//! // Gender is stored in one code set (F, M, O, U); the given spelling stays in `extra`.
//! assert_eq!(loaded.entities["patients"][1]["gender"], "U");
//! assert_eq!(loaded.entities["patients"][1]["normalized_from"]["gender"], "unknown");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod error;
pub mod fhir;
pub mod input;
mod known_ids;
pub mod lake;
pub mod legacy;
pub mod normalize;
pub mod persist;
pub mod s3;
pub mod saveload;
pub mod scenario;
mod statistics;
pub mod store;
pub mod target;
pub mod transfer;

pub use error::{Error, LegacyError, Result};
/// The SQL sandbox, re-exported at the path it had when it was a module of this crate.
pub use healthsim_query as query;
pub use healthsim_query::{QueryOptions, QueryResult};
pub use input::{
    convert, convert_owned, row_to_json, InputError, Provenance, Row, MAX_PROVENANCE_CHARS,
};
pub use legacy::{LegacyImportOptions, LegacyImportReport, NameConflict};
pub use persist::{
    EntityInput, PersistRequest, PersistResult, PreparedEntities, ScenarioTarget, TypeCounts,
    WriteResult, MAX_IDS_IN_RESULT, MIN_IDS_IN_RESULT, RESULT_TOKEN_BUDGET,
};
pub use saveload::{LoadedScenario, LOAD_LIMIT};
pub use scenario::{DeleteResult, ListOptions, ScenarioInfo, ScenarioRef, SortBy, TagCount};
pub use store::{Store, StoreError, StoreOptions};

/// Re-exported so callers need not depend on healthsim-summary for the option types.
pub use healthsim_summary::{SampleStrategy, ScenarioSummary, SummaryOptions};
pub use transfer::{
    CloneOptions, CloneResult, ExportFormat, ExportOptions, ExportResult, ImportCommit,
    ImportOptions, ImportResult, MergeOptions, MergeResult, OnConflict, TransferError,
};
