//! Reading what a Python HealthSim user has: its DuckDB database (opened read-only, either
//! schema era) or JSON scenario/cohort files (one file, or a folder of them), as a list of
//! [`LegacyScenario`]s with their entities under the legacy type names.
//!
//! Nothing here writes: the database is opened with `access_mode = READ_ONLY` and without
//! extension autoloading, and every identifier in the SQL comes from this crate's constants
//! (the legacy table names of [`super::map::LEGACY_TYPES`] and the state tables of each era),
//! never from the file; values are parameters.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use duckdb::Connection;
use serde_json::{Map, Value as Json};

use super::detect::{self, DatabaseKind, FileKind, LegacyEra};
use super::map::{legacy_tables, legacy_type};
use crate::error::{db, Error, LegacyError, Result};

/// One scenario (or cohort, or saved workspace) of the legacy source.
#[derive(Debug, Clone, Default)]
pub struct LegacyScenario {
    /// Its id in the legacy database (`None` for a JSON file without one).
    pub legacy_id: Option<String>,
    /// Its name (a JSON file without one: the file's stem).
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its tags as the legacy source has them.
    pub tags: Vec<String>,
    /// When it was created, as the source wrote it.
    pub created_at: Option<String>,
    /// Its legacy metadata object, if any.
    pub metadata: Option<Json>,
    /// Its entities, (legacy type name, object): rows of the typed tables first, then the
    /// entities the state table holds as JSON (for a database: after
    /// [`LegacySource::load_entities`]).
    pub entities: Vec<(String, Map<String, Json>)>,
    /// Where it was read (`cohorts` row, or the JSON file's name).
    pub origin: String,
    /// Why it cannot be imported at all (a JSON file of a folder that is not readable).
    pub unreadable: Option<String>,
}

/// What the legacy source is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// A Python HealthSim database.
    Database {
        /// Its schema era.
        era: LegacyEra,
        /// The version its `schema_migrations` records.
        recorded_version: Option<String>,
    },
    /// JSON files.
    Json {
        /// How many files were read.
        files: usize,
    },
}

/// Everything read from a legacy source. The entities of a database's scenarios are read one
/// scenario at a time ([`LegacySource::load_entities`]).
pub struct LegacySource {
    /// What it is.
    pub kind: SourceKind,
    /// Its scenarios, in the source's order (oldest first for a database, by file name for a
    /// folder).
    pub scenarios: Vec<LegacyScenario>,
    /// Tables of the database that hold no entities of a scenario we can map (profiles,
    /// journeys, reference data, tables of unknown purpose), with their row counts as the
    /// catalog estimates them.
    pub other_tables: BTreeMap<String, u64>,
    /// Rows of entity tables that belong to no scenario of the database, per table.
    pub unlinked_rows: BTreeMap<String, u64>,
    /// The open database (read-only), for a database source.
    reader: Option<DatabaseReader>,
}

/// The state tables of an era: scenarios, their JSON entities, their tags.
fn state_tables(era: LegacyEra) -> (&'static str, &'static str, &'static str) {
    match era {
        LegacyEra::Scenarios => ("scenarios", "scenario_entities", "scenario_tags"),
        LegacyEra::Cohorts => ("cohorts", "cohort_entities", "cohort_tags"),
    }
}

/// Tables of the Python schema that are no scenario's entities: read by nobody here, and
/// listed in [`LegacySource::other_tables`].
const NOT_ENTITIES: &[&str] = &["schema_migrations"];

/// Columns that link a row to its scenario, in both eras (a database migrated from 1.2 to 1.5
/// has both on its canonical tables).
const LINK_COLUMNS: &[&str] = &["cohort_id", "scenario_id"];

/// Reads `path`: a Python HealthSim database, a JSON file, or a folder of JSON files.
///
/// # Errors
///
/// [`LegacyError::NotLegacy`] for anything else (our own database, another application's,
/// a folder without JSON files), [`LegacyError::InvalidJson`] for a single JSON file that
/// cannot be read as a scenario, [`Error::Io`] when the path cannot be read, and the errors
/// of opening a database read-only ([`crate::StoreError`]).
pub fn read_source(path: &Path, lock_timeout: Duration) -> Result<LegacySource> {
    let metadata = std::fs::metadata(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    if metadata.is_dir() {
        return read_folder(path);
    }
    match detect::sniff_file(path) {
        FileKind::DuckDb => read_database(path, lock_timeout),
        FileKind::Json => {
            let scenario = read_json_file(path)?;
            Ok(LegacySource {
                kind: SourceKind::Json { files: 1 },
                scenarios: vec![scenario],
                other_tables: BTreeMap::new(),
                unlinked_rows: BTreeMap::new(),
                reader: None,
            })
        }
        FileKind::Absent => Err(not_legacy(path, "an empty file")),
        FileKind::Sqlite => Err(not_legacy(path, "a SQLite database")),
        FileKind::Other => Err(not_legacy(path, "neither a DuckDB file nor JSON text")),
    }
}

fn not_legacy(path: &Path, found: impl Into<String>) -> Error {
    LegacyError::NotLegacy {
        path: path.to_path_buf(),
        found: found.into(),
    }
    .into()
}

/// Opens a legacy database read-only (waiting like the store for another process's write
/// lock), with no extension autoloading.
fn open_read_only(path: &Path, lock_timeout: Duration) -> Result<Connection> {
    crate::store::open_with_lock_retry(path, lock_timeout, || {
        let config = duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)?
            .with("autoinstall_known_extensions", "false")?
            .with("autoload_known_extensions", "false")?;
        Connection::open_with_flags(path, config)
    })
}

fn read_database(path: &Path, lock_timeout: Duration) -> Result<LegacySource> {
    let conn = open_read_only(path, lock_timeout)?;
    let (era, recorded_version) = match detect::classify(&conn)? {
        DatabaseKind::PythonHealthSim {
            era,
            recorded_version,
        } => (era, recorded_version),
        DatabaseKind::Ours => {
            return Err(not_legacy(
                path,
                "a HealthSim Persist database already (use clone, merge or export and import between two of them)",
            ))
        }
        DatabaseKind::Empty => return Err(not_legacy(path, "an empty DuckDB database")),
        DatabaseKind::Foreign { examples, .. } => {
            return Err(not_legacy(
                path,
                format!(
                    "a DuckDB database of another application (tables {})",
                    examples.join(", ")
                ),
            ))
        }
    };
    let (state, state_entities, state_tags) = state_tables(era);
    let state_columns = detect::columns(&conn, state)?;
    let has = |cols: &[String], name: &str| cols.iter().any(|c| c == name);
    let Some(key) = ["id", "scenario_id", "cohort_id"]
        .into_iter()
        .find(|k| has(&state_columns, k))
    else {
        return Err(not_legacy(
            path,
            format!("a Python HealthSim database whose {state} table has no id column"),
        ));
    };
    let optional = |column: &str, expression: &str| {
        if has(&state_columns, column) {
            expression.to_string()
        } else {
            "NULL".to_string()
        }
    };
    let sql = format!(
        "SELECT CAST({key} AS VARCHAR), CAST(name AS VARCHAR), {}, {}, {} FROM {state} \
         ORDER BY {} NULLS LAST, name",
        optional("description", "CAST(description AS VARCHAR)"),
        optional("created_at", "CAST(created_at AS VARCHAR)"),
        optional("metadata", "CAST(metadata AS VARCHAR)"),
        optional("created_at", "created_at"),
    );
    let context = || db(format!("reading {state} of the legacy database"));
    let mut statement = conn.prepare(&sql).map_err(context())?;
    let mut scenarios: Vec<LegacyScenario> = statement
        .query_map([], |r| {
            let id: Option<String> = r.get(0)?;
            let metadata: Option<String> = r.get(4)?;
            Ok(LegacyScenario {
                origin: format!("{state} {}", id.as_deref().unwrap_or("?")),
                legacy_id: id,
                name: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                description: r.get(2)?,
                created_at: r.get(3)?,
                metadata: metadata.and_then(|m| serde_json::from_str(&m).ok()),
                ..LegacyScenario::default()
            })
        })
        .map_err(context())?
        .collect::<std::result::Result<_, _>>()
        .map_err(context())?;

    // Tags.
    let tag_columns = detect::columns(&conn, state_tags)?;
    if let Some(link) = link_expression(&tag_columns) {
        if has(&tag_columns, "tag") {
            let sql = format!(
                "SELECT CAST(tag AS VARCHAR) FROM {state_tags} WHERE {link} = ? ORDER BY tag"
            );
            for scenario in &mut scenarios {
                let Some(id) = scenario.legacy_id.clone() else {
                    continue;
                };
                scenario.tags = strings(&conn, &sql, &id)?;
            }
        }
    }

    // The typed tables and the state table's JSON entities, read per scenario later
    // ([`LegacySource::load_entities`]), so memory holds one scenario at a time.
    let mut unlinked_rows = BTreeMap::new();
    let mut other_tables = BTreeMap::new();
    let mut typed = Vec::new();
    for table in legacy_tables() {
        let columns = detect::columns(&conn, table)?;
        if columns.is_empty() {
            continue;
        }
        let Some(link) = link_expression(&columns) else {
            // Rows of a schema from before scenarios existed: no scenario owns them.
            unlinked_rows.insert(table.to_string(), count(&conn, table, "TRUE")?);
            continue;
        };
        typed.push((
            table,
            format!(
                "SELECT CAST(to_json(t) AS VARCHAR) FROM {table} t WHERE {link} = ? ORDER BY t.rowid"
            ),
        ));
        let orphans = count(
            &conn,
            table,
            &format!(
                "{link} IS NULL OR {link} NOT IN (SELECT CAST({key} AS VARCHAR) FROM {state})"
            ),
        )?;
        if orphans > 0 {
            unlinked_rows.insert(table.to_string(), orphans);
        }
    }
    let entity_columns = detect::columns(&conn, state_entities)?;
    let state_json = match link_expression(&entity_columns) {
        Some(link)
            if has(&entity_columns, "entity_data") && has(&entity_columns, "entity_type") =>
        {
            Some(format!(
                "SELECT CAST(entity_type AS VARCHAR), CAST(entity_data AS VARCHAR) \
                 FROM {state_entities} WHERE {link} = ? ORDER BY rowid"
            ))
        }
        _ => None,
    };

    // Everything else: listed, not imported.
    let context = || db("listing the legacy database's tables");
    let mut statement = conn
        .prepare(
            "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() \
             WHERE database_name = current_database() AND NOT temporary",
        )
        .map_err(context())?;
    let tables: Vec<(String, String, Option<i64>)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(context())?
        .collect::<std::result::Result<_, _>>()
        .map_err(context())?;
    for (schema, table, rows) in tables {
        let known = schema == "main"
            && (legacy_tables().any(|t| t == table)
                || [state, state_entities, state_tags].contains(&table.as_str())
                || NOT_ENTITIES.contains(&table.as_str()));
        if !known {
            let name = if schema == "main" {
                table
            } else {
                format!("{schema}.{table}")
            };
            other_tables.insert(name, u64::try_from(rows.unwrap_or(0)).unwrap_or(0));
        }
    }
    Ok(LegacySource {
        kind: SourceKind::Database {
            era,
            recorded_version,
        },
        scenarios,
        other_tables,
        unlinked_rows,
        reader: Some(DatabaseReader {
            conn,
            typed,
            state_json,
        }),
    })
}

/// The open legacy database and the statements that read one scenario's entities (every
/// identifier in them from this crate's constants).
pub(crate) struct DatabaseReader {
    conn: Connection,
    /// Per typed table: its legacy name and the statement selecting one scenario's rows.
    typed: Vec<(&'static str, String)>,
    /// The statement selecting one scenario's JSON entities of the state table.
    state_json: Option<String>,
}

impl DatabaseReader {
    fn load(&self, scenario: &mut LegacyScenario) -> Result<()> {
        let Some(id) = scenario.legacy_id.clone() else {
            return Ok(());
        };
        for (table, sql) in &self.typed {
            for text in strings(&self.conn, sql, &id)? {
                let Ok(Json::Object(mut row)) = serde_json::from_str::<Json>(&text) else {
                    continue;
                };
                for column in LINK_COLUMNS {
                    row.remove(*column);
                }
                scenario.entities.push(((*table).to_string(), row));
            }
        }
        if let Some(sql) = &self.state_json {
            let context = || db("reading the legacy database's JSON entities");
            let mut statement = self.conn.prepare_cached(sql).map_err(context())?;
            let rows: Vec<(Option<String>, Option<String>)> = statement
                .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(context())?
                .collect::<std::result::Result<_, _>>()
                .map_err(context())?;
            for (entity_type, data) in rows {
                let data = data.and_then(|d| serde_json::from_str::<Json>(&d).ok());
                if let (Some(entity_type), Some(Json::Object(object))) = (entity_type, data) {
                    scenario.entities.push((entity_type, unwrap_entity(object)));
                }
            }
        }
        Ok(())
    }
}

impl LegacySource {
    /// Reads the entities of `scenario` (a scenario of this source) from the database; a no-op
    /// for JSON files, whose entities are read with the file.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the legacy database cannot be read.
    pub fn load_entities(&self, scenario: &mut LegacyScenario) -> Result<()> {
        match &self.reader {
            Some(reader) => reader.load(scenario),
            None => Ok(()),
        }
    }
}

/// The SQL expression of a row's scenario from the link columns it has (constants only).
fn link_expression(columns: &[String]) -> Option<String> {
    let present: Vec<&str> = LINK_COLUMNS
        .iter()
        .copied()
        .filter(|c| columns.iter().any(|have| have == c))
        .collect();
    match present.as_slice() {
        [] => None,
        [one] => Some(format!("CAST({one} AS VARCHAR)")),
        several => Some(format!("CAST(coalesce({}) AS VARCHAR)", several.join(", "))),
    }
}

fn strings(conn: &Connection, sql: &str, parameter: &str) -> Result<Vec<String>> {
    let context = || db("reading the legacy database");
    let mut statement = conn.prepare_cached(sql).map_err(context())?;
    let rows = statement
        .query_map([parameter], |r| r.get::<_, Option<String>>(0))
        .map_err(context())?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(context())?;
    Ok(rows.into_iter().flatten().collect())
}

fn count(conn: &Connection, table: &str, condition: &str) -> Result<u64> {
    let n: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM {table} WHERE {condition}"),
            [],
            |r| r.get(0),
        )
        .map_err(db(format!("counting {table} of the legacy database")))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A saved workspace wraps each entity as `{entity_id, entity_type, data, provenance}`: the
/// data, with the wrapper's provenance fields where the data has none.
fn unwrap_entity(mut object: Map<String, Json>) -> Map<String, Json> {
    let wrapped = matches!(object.get("data"), Some(Json::Object(_)))
        && (object.contains_key("entity_id") || object.contains_key("provenance"));
    if !wrapped {
        // `_provenance` of an unwrapped entity: its fields, where the entity has none.
        if let Some(Json::Object(provenance)) = object.remove("_provenance") {
            merge_provenance(&mut object, provenance);
        }
        return object;
    }
    let Some(Json::Object(mut data)) = object.remove("data") else {
        return object;
    };
    if let Some(Json::Object(provenance)) = object.remove("provenance") {
        merge_provenance(&mut data, provenance);
    }
    if let Some(id) = object.remove("entity_id") {
        data.entry("id").or_insert(id);
    }
    data
}

fn merge_provenance(entity: &mut Map<String, Json>, provenance: Map<String, Json>) {
    for (key, value) in provenance {
        if [
            "source_type",
            "source_system",
            "skill_used",
            "generation_seed",
        ]
        .contains(&key.as_str())
        {
            entity.entry(key).or_insert(value);
        } else if !value.is_null() {
            let extra = entity
                .entry("legacy_provenance")
                .or_insert_with(|| Json::Object(Map::new()));
            if let Json::Object(extra) = extra {
                extra.insert(key, value);
            }
        }
    }
}

fn read_folder(path: &Path) -> Result<LegacySource> {
    let io = |source| Error::Io {
        action: "list",
        path: path.to_path_buf(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(not_legacy(path, "a folder without .json files"));
    }
    let scenarios = files
        .iter()
        .map(|file| {
            read_json_file(file).unwrap_or_else(|e| LegacyScenario {
                name: stem(file),
                origin: file_name(file),
                unreadable: Some(e.to_string()),
                ..LegacyScenario::default()
            })
        })
        .collect();
    Ok(LegacySource {
        kind: SourceKind::Json { files: files.len() },
        scenarios,
        other_tables: BTreeMap::new(),
        unlinked_rows: BTreeMap::new(),
        reader: None,
    })
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// One JSON scenario/cohort file in a shape the Python HealthSim wrote: an export
/// (`name`, `description`, `tags`, `entities: {type: [...]}`), a saved workspace (`metadata`
/// with the name, entities wrapped with provenance), or the oldest shape with the entity lists
/// at the top level.
fn read_json_file(path: &Path) -> Result<LegacyScenario> {
    let invalid = |reason: String| -> Error {
        LegacyError::InvalidJson {
            path: path.to_path_buf(),
            reason,
        }
        .into()
    };
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    let json: Json =
        serde_json::from_str(&text).map_err(|e| invalid(format!("not valid JSON: {e}")))?;
    let Json::Object(mut object) = json else {
        return Err(invalid(
            "a scenario file is a JSON object (name, entities, ...)".into(),
        ));
    };
    let meta = match object.get("metadata") {
        Some(Json::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let field = |key: &str| -> Option<Json> {
        object
            .get(key)
            .filter(|v| !v.is_null())
            .or_else(|| meta.get(key).filter(|v| !v.is_null()))
            .cloned()
    };
    let as_text = |v: Option<Json>| v.and_then(|v| v.as_str().map(str::to_string));
    let name = as_text(field("name")).unwrap_or_else(|| stem(path));
    let description = as_text(field("description"));
    let created_at = as_text(field("created_at"));
    let legacy_id = as_text(field("cohort_id"))
        .or_else(|| as_text(field("scenario_id")))
        .or_else(|| as_text(field("workspace_id")));
    let tags = match field("tags") {
        Some(Json::Array(tags)) => tags
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let lists: Map<String, Json> = match object.remove("entities") {
        Some(Json::Object(entities)) => entities,
        Some(other) => {
            return Err(invalid(format!(
                "'entities' must be an object of entity type → list, got {}",
                healthsim_schema::text::json_kind(&other)
            )))
        }
        None => {
            // The oldest shape: entity lists at the top level, under known type names.
            let keys: Vec<String> = object
                .iter()
                .filter(|(k, v)| v.is_array() && legacy_type(k).is_some())
                .map(|(k, _)| k.clone())
                .collect();
            keys.into_iter()
                .filter_map(|k| object.remove(&k).map(|v| (k, v)))
                .collect()
        }
    };
    if lists.is_empty() {
        return Err(invalid(
            "no entities: expected 'entities' (type → list) or entity lists such as 'patients'"
                .into(),
        ));
    }
    let mut entities = Vec::new();
    for (entity_type, list) in lists {
        let Json::Array(items) = list else {
            return Err(invalid(format!(
                "entities.{entity_type} must be a list, got {}",
                healthsim_schema::text::json_kind(&list)
            )));
        };
        for item in items {
            match item {
                Json::Object(o) => entities.push((entity_type.clone(), unwrap_entity(o))),
                other => {
                    return Err(invalid(format!(
                        "entities.{entity_type} holds {}, not an entity object",
                        healthsim_schema::text::json_kind(&other)
                    )))
                }
            }
        }
    }
    Ok(LegacyScenario {
        legacy_id,
        name,
        description,
        tags,
        created_at,
        metadata: None,
        entities,
        origin: file_name(path),
        unreadable: None,
    })
}
