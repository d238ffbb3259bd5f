//! Full-data save and load of small scenarios.
//!
//! [`Store::save_scenario`] stores entities under exactly the given (sanitized) name; a taken
//! name is [`Error::ScenarioExists`] unless `overwrite`, which replaces the scenario's entities
//! (keeping its id, description and tags) in one transaction. [`Store::load_scenario`] returns
//! every entity in its input shape: for canonically shaped input, what was saved is what loads,
//! compared as JSON, with timestamps normalized to `YYYY-MM-DDTHH:MM:SSZ` (UTC) and money as
//! numbers. Entities come back ordered by primary key; generated ids appear in the output;
//! `created_at` and an input `scenario_id` do not. Loading is for small scenarios: beyond
//! [`LOAD_LIMIT`] entities use the summary, samples or queries, which scale.

use std::collections::BTreeMap;

use chrono::Utc;
use duckdb::types::Value;
use healthsim_schema::{by_table, PROVENANCE_COLUMNS, SCENARIO_COLUMN};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::error::{db, Error, Result};
use crate::input::row_to_json;
use crate::persist::{prepare, write, EntityInput, PersistResult};
use crate::scenario::{self, resolve_on, ScenarioRef};
use crate::store::{in_transaction, Store};

/// The most entities [`Store::load_scenario`] returns.
pub const LOAD_LIMIT: u64 = 1_000;

/// A scenario with all its entities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadedScenario {
    /// Id.
    pub scenario_id: String,
    /// Name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// Tags, alphabetical.
    pub tags: Vec<String>,
    /// Entities per table name, each a JSON object in input shape, ordered by primary key.
    pub entities: BTreeMap<String, Vec<Json>>,
}

impl Store {
    /// Saves entities (type → JSON array) as the scenario `name` (sanitized).
    ///
    /// # Errors
    ///
    /// [`Error::ScenarioExists`] when the name is taken and `overwrite` is false; the input
    /// errors of [`Store::persist_entities`]. Nothing is written unless the call succeeds.
    pub fn save_scenario(
        &self,
        name: &str,
        entities: &Map<String, Json>,
        overwrite: bool,
    ) -> Result<PersistResult> {
        let batches = prepare(&EntityInput::ByType(entities.clone()))?;
        let name = healthsim_naming::sanitize(name)?;
        self.with_writer(|conn| {
            in_transaction(conn, |conn| {
                let now = Utc::now().naive_utc();
                let existing = conn
                    .prepare("SELECT scenario_id FROM scenarios WHERE name = ?")
                    .and_then(|mut stmt| {
                        stmt.query_map([&name], |r| r.get::<_, String>(0))?
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .map_err(db("looking up a scenario name"))?;
                let (target, is_new) = match existing.into_iter().next() {
                    Some(_) if !overwrite => {
                        return Err(Error::ScenarioExists { name: name.clone() })
                    }
                    Some(scenario_id) => {
                        scenario::delete_contents(conn, &scenario_id)?;
                        (
                            ScenarioRef {
                                scenario_id,
                                name: name.clone(),
                            },
                            false,
                        )
                    }
                    None => (
                        scenario::insert_scenario(conn, &name, None, None, now)?,
                        true,
                    ),
                };
                write(conn, target, is_new, &batches, &Default::default(), now)
            })
        })
    }

    /// Loads every entity of a scenario (see the [module documentation](self)).
    ///
    /// # Errors
    ///
    /// [`Error::TooLargeToLoad`] beyond [`LOAD_LIMIT`] entities, and the errors of
    /// [`Store::resolve_scenario`].
    pub fn load_scenario(&self, id_or_name: &str) -> Result<LoadedScenario> {
        self.with_reader(|conn| {
            let target = resolve_on(conn, id_or_name)?;
            let total = scenario::entity_count(conn, &target.scenario_id)?;
            if total > LOAD_LIMIT {
                return Err(Error::TooLargeToLoad {
                    scenario: target.name,
                    entities: total,
                    limit: LOAD_LIMIT,
                });
            }
            let description: Option<String> = conn
                .query_row(
                    "SELECT description FROM scenarios WHERE scenario_id = ?",
                    [&target.scenario_id],
                    |r| r.get(0),
                )
                .map_err(db("reading the scenario"))?;
            let tables = conn
                .prepare(
                    "SELECT entity_type FROM scenario_entities WHERE scenario_id = ? AND entity_count > 0",
                )
                .and_then(|mut stmt| {
                    stmt.query_map([&target.scenario_id], |r| r.get::<_, String>(0))?
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(db("reading the scenario's entity counts"))?;
            let mut entities = BTreeMap::new();
            for table in tables {
                // The manifest names only canonical tables.
                let Some(t) = by_table(&table) else {
                    continue;
                };
                let domain: Vec<&str> = t.columns().map(|c| c.name).collect();
                let n = domain.len();
                let sql = format!(
                    "SELECT {}, {}, extra FROM main.{} WHERE {SCENARIO_COLUMN} = ? ORDER BY {}",
                    domain.join(", "),
                    PROVENANCE_COLUMNS.join(", "),
                    t.table,
                    t.primary_key
                );
                let context = format!("loading {}", t.table);
                let mut stmt = conn.prepare(&sql).map_err(db(context.clone()))?;
                let rows = stmt
                    .query_map([&target.scenario_id], |r| {
                        let values = (0..n).map(|i| r.get::<_, Value>(i)).collect::<Result<Vec<_>, _>>()?;
                        let provenance = (0..PROVENANCE_COLUMNS.len())
                            .map(|i| r.get::<_, Value>(n + i))
                            .collect::<Result<Vec<_>, _>>()?;
                        let extra: Option<String> = r.get(n + PROVENANCE_COLUMNS.len())?;
                        Ok((values, provenance, extra))
                    })
                    .map_err(db(context.clone()))?;
                let mut list = Vec::new();
                for row in rows {
                    let (values, provenance, extra) = row.map_err(db(context.clone()))?;
                    let mut object = row_to_json(t, &values, extra.as_deref());
                    for (name, value) in PROVENANCE_COLUMNS.iter().zip(&provenance) {
                        if !matches!(value, Value::Null) {
                            object.insert(
                                (*name).to_string(),
                                healthsim_schema::value::to_json(value),
                            );
                        }
                    }
                    list.push(Json::Object(object));
                }
                entities.insert(t.table.to_string(), list);
            }
            Ok(LoadedScenario {
                tags: scenario::tags_of(conn, &target.scenario_id)?,
                scenario_id: target.scenario_id,
                name: target.name,
                description,
                entities,
            })
        })
    }
}
