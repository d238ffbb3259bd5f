//! Scenario-level data management on [`Store`](crate::Store): clone, merge, export and import whole
//! scenarios, set-based inside DuckDB.
//!
//! - [`Store::clone_scenario`](crate::Store::clone_scenario) ([`clone`]): a new scenario with a copy of all entities, or of
//!   selected types; one `INSERT ... SELECT` per table.
//! - [`Store::merge_scenarios`](crate::Store::merge_scenarios) ([`merge`]): two or more scenarios into a new one; an id that
//!   two sources share in one table is a conflict, settled by [`OnConflict`]: skip (the first
//!   source wins), overwrite (the last wins) or rename (the later entity gets a new id and every
//!   reference to it inside its source is rewritten, through the registry's declared
//!   references).
//! - [`Store::export_scenario`](crate::Store::export_scenario) ([`export`]): one JSON document (re-importable, streamed to the
//!   file), or a folder with one CSV or Parquet file per table (written by DuckDB's `COPY`).
//! - [`Store::import_scenario`](crate::Store::import_scenario) ([`import`]): a JSON export (through the persist path, so
//!   validation is the same as for [`Store::persist_entities`](crate::Store::persist_entities)) or a folder of CSV or Parquet
//!   files, into a new scenario.
//!
//! Every write is one transaction and keeps the manifest (`scenario_entities`) exact; every
//! table and column name comes from the registry; scenario ids, names and paths are bound
//! parameters.
//!
//! ```
//! use healthsim_persist::transfer::{CloneOptions, MergeOptions, OnConflict};
//! use healthsim_persist::{PersistRequest, ScenarioTarget, Store, StoreOptions};
//! use serde_json::json;
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path().join("healthsim.duckdb"), StoreOptions::default())?;
//! for name in ["cohort-a", "cohort-b"] {
//!     let request = PersistRequest::new("patients", vec![json!({"patient_id": "p1"})])
//!         .with_scenario(ScenarioTarget::new_named(name));
//!     store.persist_entities(&request)?;
//! }
//! let copy = store.clone_scenario("cohort-a", &CloneOptions::default())?;
//! assert_eq!((copy.name.as_str(), copy.counts["patients"]), ("cohort-a-copy", 1));
//!
//! let options = MergeOptions { on_conflict: OnConflict::Rename, ..MergeOptions::default() };
//! let merged = store.merge_scenarios(&["cohort-a", "cohort-b"], &options)?;
//! assert_eq!((merged.counts["patients"], merged.conflicts["patients"]), (2, 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod clone;
pub mod export;
mod format;
pub mod import;
pub mod merge;
mod paths;
mod stream;

use duckdb::Connection;
use healthsim_schema::{by_table, EntityType, ENTITY_TYPES, SYSTEM_COLUMNS};
use serde_json::{Map, Value as Json};

use crate::error::{db, Error, Result};

pub use crate::error::TransferError;
pub use clone::{CloneOptions, CloneResult};
pub use export::{ExportFormat, ExportOptions, ExportResult};
pub use import::{ImportCommit, ImportOptions, ImportResult, AUTO_CHUNKS_FROM_BYTES};
pub use merge::{MergeOptions, MergeResult, OnConflict};

/// The entity types a caller selected: `None` selects all; names resolve through the registry
/// (table, singular, alias). Returns the tables in registry order, each once.
///
/// # Errors
///
/// [`Error::UnknownEntityType`], and [`Error::InvalidRequest`] for an empty selection.
pub(crate) fn selected_types(types: Option<&[String]>) -> Result<Vec<&'static EntityType>> {
    let Some(types) = types else {
        return Ok(ENTITY_TYPES.iter().collect());
    };
    if types.is_empty() {
        return Err(Error::InvalidRequest {
            reason: "the list of entity types is empty; leave it out to select every type".into(),
        });
    }
    let mut wanted = Vec::with_capacity(types.len());
    for given in types {
        wanted.push(crate::error::entity_type(given)?.table);
    }
    Ok(ENTITY_TYPES
        .iter()
        .filter(|t| wanted.contains(&t.table))
        .collect())
}

/// The stored columns of a table after `scenario_id`: domain columns in registry order, then
/// the system columns (provenance, `extra`, `created_at`).
pub(crate) fn stored_columns(t: &EntityType) -> Vec<&'static str> {
    t.columns()
        .map(|c| c.name)
        .chain(SYSTEM_COLUMNS.iter().map(|c| c.name))
        .collect()
}

/// The scenario's tables that hold entities, with their counts, from the manifest, in
/// registry order.
pub(crate) fn tables_with_rows(
    conn: &Connection,
    scenario_id: &str,
) -> Result<Vec<(&'static EntityType, u64)>> {
    let context = "reading the scenario's entity counts";
    let mut stmt = conn
        .prepare(
            "SELECT entity_type, entity_count FROM scenario_entities
             WHERE scenario_id = ? AND entity_count > 0",
        )
        .map_err(db(context))?;
    let rows = stmt
        .query_map([scenario_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })
        .map_err(db(context))?;
    let mut counts = Vec::new();
    for row in rows {
        let (table, n) = row.map_err(db(context))?;
        // The manifest names only canonical tables.
        if let Some(t) = by_table(&table) {
            counts.push((t, u64::try_from(n).unwrap_or(0)));
        }
    }
    counts.sort_by_key(|(t, _)| ENTITY_TYPES.iter().position(|e| e.table == t.table));
    Ok(counts)
}

/// A scenario's description and metadata text.
pub(crate) fn scenario_details(
    conn: &Connection,
    scenario_id: &str,
) -> Result<(Option<String>, Option<String>)> {
    conn.query_row(
        "SELECT description, metadata FROM scenarios WHERE scenario_id = ?",
        [scenario_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .map_err(db("reading the scenario"))
}

/// Scenario metadata (a JSON object as text) with `key` set to `value`. Metadata that is not
/// an object is kept under `previous_metadata`.
pub(crate) fn metadata_with(existing: Option<&str>, key: &str, value: Json) -> String {
    let mut object = match existing.map(serde_json::from_str::<Json>) {
        Some(Ok(Json::Object(object))) => object,
        None | Some(Ok(Json::Null)) => Map::new(),
        Some(Ok(other)) => Map::from_iter([("previous_metadata".to_string(), other)]),
        Some(Err(_)) => Map::from_iter([(
            "previous_metadata".to_string(),
            Json::String(existing.unwrap_or_default().to_string()),
        )]),
    };
    object.insert(key.to_string(), value);
    Json::Object(object).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(existing: Option<&str>, expected: Json) {
        let made = metadata_with(existing, "cloned_from", json!("a"));
        assert_eq!(
            serde_json::from_str::<Json>(&made).ok(),
            Some(expected),
            "{existing:?}"
        );
    }

    #[test]
    fn metadata_gets_the_key() {
        check(None, json!({"cloned_from": "a"}));
        check(Some("null"), json!({"cloned_from": "a"}));
        check(
            Some(r#"{"context": "x"}"#),
            json!({"context": "x", "cloned_from": "a"}),
        );
        check(
            Some(r#"{"cloned_from": "old"}"#),
            json!({"cloned_from": "a"}),
        );
        check(
            Some("[1]"),
            json!({"previous_metadata": [1], "cloned_from": "a"}),
        );
        check(
            Some("not json"),
            json!({"previous_metadata": "not json", "cloned_from": "a"}),
        );
    }

    #[test]
    fn selected_types_resolve_and_order() {
        let tables = |given: &[&str]| -> Result<Vec<&str>> {
            let given: Vec<String> = given.iter().map(|s| s.to_string()).collect();
            Ok(selected_types(Some(&given))?
                .into_iter()
                .map(|t| t.table)
                .collect())
        };
        assert_eq!(
            tables(&["claim_lines", "Patient", "patients", "labs"]).ok(),
            Some(vec!["patients", "lab_results", "claim_lines"])
        );
        assert!(matches!(tables(&[]), Err(Error::InvalidRequest { .. })));
        assert!(matches!(
            tables(&["spaceships"]),
            Err(Error::UnknownEntityType { .. })
        ));
        assert_eq!(
            selected_types(None).map(|t| t.len()).ok(),
            Some(healthsim_schema::ENTITY_TYPES.len())
        );
    }
}
