//! [`Store::import_scenario`](crate::Store::import_scenario): an export back into a new scenario.
//!
//! - A **JSON export** ([`super::export`]) is read as a stream, twice ([`super::stream`]): the
//!   first pass checks the whole document (syntax, format, version, `counts` against the lists,
//!   entity type names, tags) before anything is written; the second converts the entities in
//!   chunks of [`IMPORT_CHUNK`] and writes each through the persist path (`convert` and
//!   `write_batches`), so every entity is validated exactly as
//!   [`Store::persist_entities`](crate::Store::persist_entities) validates it, and an entity it
//!   refuses is named by its index in its whole list. The import holds one chunk of the file,
//!   whatever its size. The scenario is new, so an id that an earlier chunk gave is refused as a
//!   repeated id. The scenario gets the document's name (made unique), description, tags and
//!   metadata; entities keep their ids, values, `extra` fields, provenance and `created_at`.
//!   How the chunks commit is [`ImportCommit`]'s: in one transaction DuckDB keeps the
//!   transaction's rows until the commit (1.3 GB for the export of 1,000,000 patients); in
//!   chunks, each commits on its own under a hidden name ([`IMPORTING_PREFIX`] and a UUID:
//!   never a valid name, passed over by every lookup and listing), within
//!   [`Store::with_bounded_memory`](crate::Store::with_bounded_memory) (290 MB for the same
//!   file), and the last transaction gives the scenario its name and tags. A failed chunked
//!   import deletes its hidden scenario; one killed midway leaves it for the next import to
//!   delete (on a lake only once unwritten for an hour: another machine may be importing).
//! - A **folder** of `<table>.parquet` or `<table>.csv` files (one format, one file per table)
//!   is read by DuckDB (`read_parquet`, or `read_csv` as text) with every column cast to the
//!   registry's type, and inserted with one `INSERT ... SELECT` per file; `gender` and `state`
//!   are then put in their code sets as `convert` does for entities (`crate::normalize`). The file names and
//!   columns are checked before anything is written; hidden files (`.DS_Store`, ...) are
//!   ignored. The scenario is named after the folder.
//!
//! Either way an unreadable, truncated or invalid file writes nothing that stays, and the error
//! names the file (and the entity index, line or column when known).

use healthsim_schema::crash;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::Utc;
use duckdb::{params, Connection};
use healthsim_schema::{EntityType, ENTITY_TYPES, SCENARIO_COLUMN, SYSTEM_COLUMNS};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use super::format::{ExportFormat, FORMAT_NAME, FORMAT_VERSION};
use super::paths::{check_user_path, io, table_file, utf8};
use super::stream::{self, Entities, Outline};
use super::TransferError;
use super::{metadata_with, stored_columns};
use crate::error::{Error, Result};
use crate::input::Provenance;
use crate::input::{convert, InputError};
use crate::known_ids::KnownIds;
use crate::normalize::normalize_stored;
use crate::persist::{new_id, resolve_types, write_batches, Batch};
use crate::scenario::{self, IMPORTING_PREFIX};
use crate::statistics::{self, Statistics};
use crate::store::{in_transaction, in_transaction_once, Store};

/// How [`Store::import_scenario`] imports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportOptions {
    /// The new scenario's name (sanitized, made unique); default the name in the JSON
    /// document, or the folder's name.
    pub name: Option<String>,
    /// Provenance for every imported row that has none of its own (an exported entity keeps
    /// its own, field by field). Checked by [`Provenance::validate`].
    pub provenance: Provenance,
    /// How a JSON export is committed (a folder is always one transaction).
    pub commit: ImportCommit,
}

/// How an import commits a JSON export. Either way an import that fails writes nothing that
/// stays, and the new scenario appears whole or not at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ImportCommit {
    /// 'all' up to 32 MiB of export file, 'chunks' above.
    #[default]
    Auto,
    /// One transaction; memory grows with the file (about 1.3 KB per entity).
    All,
    /// One transaction per chunk of 10,000 entities, under a hidden name until the last one
    /// names the scenario: bounded memory at any size. A failed import deletes what it wrote;
    /// a killed one leaves a hidden scenario that a later import deletes.
    Chunks,
}

impl ImportCommit {
    /// The mode for the export file `path`: `self`, or for [`ImportCommit::Auto`] the one its
    /// size calls for.
    fn resolve(self, path: &Path) -> ImportCommit {
        match self {
            ImportCommit::Auto => {
                let bytes = path.metadata().map(|m| m.len()).unwrap_or(0);
                if bytes > AUTO_CHUNKS_FROM_BYTES {
                    ImportCommit::Chunks
                } else {
                    ImportCommit::All
                }
            }
            fixed => fixed,
        }
    }
}

/// [`ImportCommit::Auto`] commits a JSON export in chunks from this file size on (about 70,000
/// patients; one transaction holds them in about 100 MB).
pub const AUTO_CHUNKS_FROM_BYTES: u64 = 32 * 1024 * 1024;

/// How long a hidden scenario of a chunked import on a lake may go unwritten before another
/// import takes it for abandoned and deletes it (each chunk's commit updates it; on a file,
/// whose writer is alone, any hidden scenario an import finds is abandoned).
const ABANDONED_AFTER_MINUTES: i64 = 60;

/// What [`Store::import_scenario`] made (tables without entities are left out of the counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ImportResult {
    /// The new scenario's id.
    pub scenario_id: String,
    /// Its name.
    pub name: String,
    /// The file or folder imported.
    #[serde(serialize_with = "super::paths::serialize_lossy")]
    pub path: PathBuf,
    /// Its format.
    pub format: ExportFormat,
    /// Entities imported per table.
    pub counts: BTreeMap<String, u64>,
    /// Entities imported over all tables.
    pub total_entities: u64,
    /// How it was committed (never `auto`; a folder is `all`).
    pub commit: ImportCommit,
}

impl Store {
    /// Imports a JSON export file, or a folder of CSV or Parquet exports, into a new scenario
    /// (see the [module documentation](self)).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] (missing or unreadable), and wrapped in [`Error::Transfer`]:
    /// [`TransferError::InvalidPath`] (a `..` component), [`TransferError::InvalidImportFile`]
    /// (bad or truncated JSON, not an export document, unknown or missing columns, an empty or
    /// mixed folder), [`TransferError::ImportEntities`] (an entity that persist refuses, with
    /// its type, index and field), [`TransferError::UnknownImportFiles`],
    /// [`TransferError::ImportData`] (DuckDB cannot read or store a file's rows). Also
    /// [`Error::Naming`] and [`Error::Database`]. Nothing is written unless the call succeeds.
    pub fn import_scenario(
        &self,
        path: impl AsRef<Path>,
        options: &ImportOptions,
    ) -> Result<ImportResult> {
        let path = path.as_ref();
        options.provenance.validate()?;
        check_user_path(path)?;
        let meta = fs::metadata(path).map_err(io("read", path))?;
        if meta.is_dir() {
            self.import_folder(path, options)
        } else {
            self.import_json(path, options)
        }
    }

    fn import_json(&self, path: &Path, options: &ImportOptions) -> Result<ImportResult> {
        let statistics_from = self.options().running_statistics_from;
        let document = Document::read(path, stream::outline(path)?)?;
        let invalid = |source: Error| {
            Error::from(TransferError::ImportEntities {
                path: path.to_path_buf(),
                source: Box::new(source),
            })
        };
        for (given, shape) in &document.lists {
            if let Err(found) = shape {
                return Err(invalid(
                    InputError::NotAList {
                        entity_type: given.clone(),
                        found,
                    }
                    .into(),
                ));
            }
        }
        let types: BTreeMap<&str, &'static EntityType> = document
            .lists
            .iter()
            .map(|(given, _)| given.as_str())
            .zip(resolve_types(document.lists.iter().map(|(g, _)| g.as_str())).map_err(invalid)?)
            .collect();
        for tag in &document.tags {
            scenario::normalize_tag(tag).map_err(invalid)?;
        }
        let base = options
            .name
            .clone()
            .or(document.name.clone())
            .unwrap_or_else(|| file_stem(path));
        let metadata = metadata_with(
            document.metadata.as_deref(),
            "imported_from",
            json!({
                "file": path.file_name().map(|n| n.to_string_lossy()),
                "scenario_id": document.scenario_id,
                "name": document.name,
            }),
        );
        // The ids the chunks wrote (see `crate::known_ids`): the scenario is new, and nothing
        // else writes it while the import holds the writer connection.
        let mut known = self.known_ids_of_one_operation();
        let mut chunk =
            |conn: &Connection, scenario_id: &str, counts: &mut Counts, now, c: Chunk| {
                write_chunk(
                    conn,
                    path,
                    &types,
                    scenario_id,
                    options,
                    now,
                    counts,
                    c,
                    known.as_mut(),
                )
            };
        if options.commit.resolve(path) == ImportCommit::Chunks {
            // Bounded memory is the point of chunks (see `Store::with_bounded_memory`).
            return self.with_bounded_memory(IMPORT_CHUNK, || {
                self.with_writer(|conn| {
                    let on_lake = self.target().lake().is_some();
                    in_transaction(conn, |conn| delete_abandoned_imports(conn, on_lake))?;
                    let now = Utc::now().naive_utc();
                    let hidden = format!("{IMPORTING_PREFIX}{}", uuid::Uuid::new_v4());
                    let target = in_transaction(conn, |conn| {
                        let description = document.description.as_deref();
                        scenario::insert_scenario_row(
                            conn,
                            &hidden,
                            description,
                            Some(&metadata),
                            now,
                        )
                    })?;
                    crash::point("import.created");
                    let id = target.scenario_id.as_str();
                    let mut counts = Counts::new();
                    let written =
                        stream::for_each_chunk(path, IMPORT_CHUNK, |given, first, items| {
                            in_transaction_once(conn, |conn| {
                                chunk(conn, id, &mut counts, now, (given, first, items))
                            })?;
                            crash::point("import.chunk");
                            Ok(())
                        })
                        .and_then(|()| {
                            in_transaction(conn, |conn| {
                                scenario::guard_namespace(conn)?;
                                let name = scenario::unique_name(conn, &base, None)?;
                                scenario::rename_on(conn, id, &name, now)?;
                                scenario::insert_tags(conn, id, &document.tags, now)?;
                                statistics::keep_large(conn, id, statistics_from)?;
                                Ok(name)
                            })
                        });
                    match written {
                        Ok(name) => Ok(result(id, name, path, counts, ImportCommit::Chunks)),
                        Err(error) => {
                            // What the import wrote goes; if this fails too, the next import
                            // finds the hidden scenario abandoned.
                            let _ = in_transaction(conn, |conn| {
                                scenario::delete_scenario_on(conn, id).map(drop)
                            });
                            Err(error)
                        }
                    }
                })
            });
        }
        self.with_writer(|conn| {
            in_transaction(conn, |conn| {
                let now = Utc::now().naive_utc();
                let name = scenario::unique_name(conn, &base, None)?;
                let description = document.description.as_deref();
                let target =
                    scenario::insert_scenario(conn, &name, description, Some(&metadata), now)?;
                scenario::insert_tags(conn, &target.scenario_id, &document.tags, now)?;
                crash::point("import.created");
                let mut counts = Counts::new();
                stream::for_each_chunk(path, IMPORT_CHUNK, |given, first, items| {
                    chunk(
                        conn,
                        &target.scenario_id,
                        &mut counts,
                        now,
                        (given, first, items),
                    )
                })?;
                statistics::keep_large(conn, &target.scenario_id, statistics_from)?;
                Ok(result(
                    &target.scenario_id,
                    target.name,
                    path,
                    counts,
                    ImportCommit::All,
                ))
            })
        })
    }

    fn import_folder(&self, folder: &Path, options: &ImportOptions) -> Result<ImportResult> {
        let statistics_from = self.options().running_statistics_from;
        let (format, files) = table_files(folder)?;
        let base = options.name.clone().unwrap_or_else(|| {
            folder
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "imported".to_string())
        });
        self.with_writer(|conn| {
            in_transaction(conn, |conn| {
                // Every file's columns are checked before anything is written.
                let mut checked = Vec::with_capacity(files.len());
                for (t, file) in &files {
                    checked.push((*t, file, file_columns(conn, t, file, format)?));
                }
                let now = Utc::now().naive_utc();
                let name = scenario::unique_name(conn, &base, None)?;
                let metadata = metadata_with(
                    None,
                    "imported_from",
                    json!({
                        "folder": folder.file_name().map(|n| n.to_string_lossy()),
                        "format": format,
                    }),
                );
                let target = scenario::insert_scenario(conn, &name, None, Some(&metadata), now)?;
                let mut counts = BTreeMap::new();
                for (t, file, columns) in checked {
                    let n = insert_file(conn, t, file, format, &columns, &target.scenario_id)?;
                    refuse_repeated_ids(conn, t, file, &target.scenario_id)?;
                    // Rows inserted by SQL get the code sets `convert` gives entities.
                    normalize_stored(conn, t, &target.scenario_id).map_err(|source| {
                        Error::Database {
                            context: format!("normalizing the coded columns of {}", t.table),
                            source,
                        }
                    })?;
                    fill_provenance(conn, t, &target.scenario_id, &options.provenance)?;
                    if n > 0 {
                        scenario::add_to_manifest(conn, &target.scenario_id, t.table, n, now)?;
                        counts.insert(t.table.to_string(), n);
                    }
                }
                // The target's guard row (see crate::scenario).
                scenario::touch(conn, &target.scenario_id, now)?;
                statistics::keep_large(conn, &target.scenario_id, statistics_from)?;
                Ok(ImportResult {
                    scenario_id: target.scenario_id,
                    name: target.name,
                    path: folder.to_path_buf(),
                    format,
                    total_entities: counts.values().sum(),
                    counts,
                    commit: ImportCommit::All,
                })
            })
        })
    }
}

/// Entities of a JSON export converted and written at a time: the import holds one chunk, not
/// the document (see [`stream`]). 10,000, like `healthsim persist`'s batches: on the export of
/// 1,000,000 patients, chunks of 2,000 took 25 s against 18 s at about the same peak memory.
const IMPORT_CHUNK: usize = 10_000;

/// Entities imported per table.
type Counts = BTreeMap<String, u64>;

/// One chunk of a list: the list's key, the index of its first entity, its entities.
type Chunk<'a> = (&'a str, usize, Vec<Json>);

/// Converts and writes one chunk into the new scenario `scenario_id`, adding to `counts`; an
/// entity persist refuses, or an id an earlier chunk gave, is named by its index in its list.
#[allow(clippy::too_many_arguments)]
fn write_chunk(
    conn: &Connection,
    path: &Path,
    types: &BTreeMap<&str, &'static EntityType>,
    scenario_id: &str,
    options: &ImportOptions,
    now: chrono::NaiveDateTime,
    counts: &mut Counts,
    (given, first, items): Chunk<'_>,
    known: Option<&mut KnownIds>,
) -> Result<()> {
    let invalid = |source: Error| {
        Error::from(TransferError::ImportEntities {
            path: path.to_path_buf(),
            source: Box::new(source),
        })
    };
    let t = types[given];
    let rows = convert(t, &items, &mut new_id).map_err(|e| invalid(shifted(e, first)))?;
    drop(items);
    let batch = Batch {
        entity_type: t,
        rows,
    };
    let written = write_batches(
        conn,
        scenario_id,
        std::slice::from_ref(&batch),
        &options.provenance,
        now,
        Statistics::Drop,
        known,
    )?;
    let c = written.get(t.table).copied().unwrap_or_default();
    if c.updated > 0 {
        // The scenario is new: an update is an id an earlier chunk gave.
        return Err(invalid(repeated_id(path, given, t, first, &batch)?));
    }
    *counts.entry(t.table.to_string()).or_default() += c.inserted;
    Ok(())
}

/// The result of a JSON import into `scenario_id`, named `name`.
fn result(
    scenario_id: &str,
    name: String,
    path: &Path,
    mut counts: Counts,
    commit: ImportCommit,
) -> ImportResult {
    counts.retain(|_, n| *n > 0);
    ImportResult {
        scenario_id: scenario_id.to_string(),
        name,
        path: path.to_path_buf(),
        format: ExportFormat::Json,
        total_entities: counts.values().sum(),
        counts,
        commit,
    }
}

/// Deletes the hidden scenarios of chunked imports that no longer run: on a file every one
/// (its writer is alone, and it is this import), on a lake those unwritten for
/// [`ABANDONED_AFTER_MINUTES`] (another machine may be importing).
fn delete_abandoned_imports(conn: &Connection, on_lake: bool) -> Result<()> {
    let context = || crate::error::db("looking for abandoned imports");
    let mut sql = "SELECT scenario_id FROM scenarios WHERE starts_with(name, ?)".to_string();
    let mut values = vec![duckdb::types::Value::from(IMPORTING_PREFIX.to_string())];
    if on_lake {
        sql.push_str(" AND updated_at < ?");
        values.push(scenario::timestamp(
            Utc::now().naive_utc() - chrono::Duration::minutes(ABANDONED_AFTER_MINUTES),
        ));
    }
    let abandoned: Vec<String> = {
        let mut statement = conn.prepare(&sql).map_err(context())?;
        let rows = statement
            .query_map(duckdb::params_from_iter(&values), |r| r.get(0))
            .map_err(context())?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(context())?
    };
    for id in abandoned {
        scenario::delete_scenario_on(conn, &id)?;
    }
    Ok(())
}

/// An error of converting one chunk, its indices made indices of the whole list.
fn shifted(error: Error, first: usize) -> Error {
    let Error::Input(input) = error else {
        return error;
    };
    Error::Input(match input {
        InputError::NotAnObject { entity_type, index } => InputError::NotAnObject {
            entity_type,
            index: index + first,
        },
        InputError::MissingField {
            entity_type,
            index,
            field,
        } => InputError::MissingField {
            entity_type,
            index: index + first,
            field,
        },
        InputError::InvalidField {
            entity_type,
            index,
            field,
            value,
            reason,
        } => InputError::InvalidField {
            entity_type,
            index: index + first,
            field,
            value,
            reason,
        },
        InputError::DuplicateId {
            entity_type,
            id,
            first_index,
            index,
        } => InputError::DuplicateId {
            entity_type,
            id,
            first_index: first_index + first,
            index: index + first,
        },
        other => other,
    })
}

/// [`InputError::DuplicateId`] for a chunk whose write updated rows of the new scenario: one of
/// its ids was given by an earlier chunk of the same list. The file is read again up to the
/// chunk to find which id and where it came first (a failing import only).
fn repeated_id(
    path: &Path,
    given: &str,
    t: &'static EntityType,
    chunk_first: usize,
    chunk: &Batch,
) -> Result<Error> {
    let in_chunk: std::collections::HashMap<&str, usize> = chunk
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| (row.id.as_str(), chunk_first + i))
        .collect();
    let mut found = None;
    let searched = stream::for_each_chunk(path, IMPORT_CHUNK, |key, first, items| {
        if key != given || first >= chunk_first || found.is_some() {
            return Ok(());
        }
        for (i, row) in convert(t, &items, &mut new_id)?.iter().enumerate() {
            if let Some(index) = in_chunk.get(row.id.as_str()) {
                found = Some(InputError::DuplicateId {
                    entity_type: t.table,
                    id: row.id.clone(),
                    first_index: first + i,
                    index: *index,
                });
                break;
            }
        }
        Ok(())
    });
    searched?;
    Ok(match found {
        Some(duplicate) => duplicate.into(),
        None => Error::InvalidRequest {
            reason: format!(
                "{} entities {chunk_first} to {} repeat ids of earlier entities",
                t.table,
                chunk_first + chunk.rows.len() - 1
            ),
        },
    })
}

/// The file's name without extension, the default scenario name of a JSON import.
fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "imported".to_string())
}

/// The parts of a JSON export that an import uses (its entities are read in the second pass).
struct Document {
    scenario_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    tags: Vec<String>,
    metadata: Option<String>,
    /// Per key of `entities`, in document order: its number of entities, or the JSON kind of a
    /// value that is not a list.
    lists: Vec<(String, std::result::Result<usize, &'static str>)>,
}

impl Document {
    fn read(path: &Path, outline: Outline) -> Result<Document> {
        let bad = |reason: String| {
            Error::from(TransferError::InvalidImportFile {
                path: path.to_path_buf(),
                line: None,
                column: None,
                reason,
            })
        };
        let Outline::Object {
            fields: mut document,
            entities,
        } = outline
        else {
            return Err(bad(
                "not a scenario export: the document is not a JSON object".into(),
            ));
        };
        match document.get("format") {
            None => {}
            Some(Json::String(format)) if format == FORMAT_NAME => {}
            Some(other) => {
                return Err(bad(format!(
                    "not a scenario export: format is {other}, expected \"{FORMAT_NAME}\""
                )))
            }
        }
        match document.get("format_version") {
            None => {}
            Some(v) if v.as_u64().is_some_and(|v| (1..=FORMAT_VERSION).contains(&v)) => {}
            Some(other) => {
                return Err(bad(format!(
                    "format_version {other} is not supported (this program reads version {FORMAT_VERSION}); \
                     a newer healthsim may have written it"
                )))
            }
        }
        let lists = match entities {
            Some(Entities::Lists(lists)) => lists,
            None => {
                return Err(bad(
                    "not a scenario export: there is no \"entities\" object".into(),
                ))
            }
            Some(Entities::NotAnObject) => {
                return Err(bad(
                    "\"entities\" must be an object mapping each entity type to a list".into(),
                ))
            }
        };
        if let Some(Json::Object(counts)) = document.get("counts") {
            for (table, expected) in counts {
                let found = lists
                    .iter()
                    .find(|(key, _)| key == table)
                    .and_then(|(_, n)| n.ok())
                    .unwrap_or(0);
                if expected.as_u64() != Some(found as u64) {
                    return Err(bad(format!(
                        "counts.{table} is {expected} but the file holds {found} {table}; \
                         it may be truncated or edited"
                    )));
                }
            }
        }
        let scenario = match document.remove("scenario") {
            None | Some(Json::Null) => Map::new(),
            Some(Json::Object(scenario)) => scenario,
            Some(_) => return Err(bad("\"scenario\" must be an object".into())),
        };
        let text = |key: &str| -> Result<Option<String>> {
            match scenario.get(key) {
                None | Some(Json::Null) => Ok(None),
                Some(Json::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(bad(format!("scenario.{key} must be a string"))),
            }
        };
        let tags = match scenario.get("tags") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Array(tags)) => tags
                .iter()
                .map(|tag| {
                    tag.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad("scenario.tags must be a list of strings".into()))
                })
                .collect::<Result<_>>()?,
            Some(_) => return Err(bad("scenario.tags must be a list of strings".into())),
        };
        Ok(Document {
            scenario_id: text("scenario_id")?,
            name: text("name")?,
            description: text("description")?,
            tags,
            metadata: match scenario.get("metadata") {
                None | Some(Json::Null) => None,
                Some(metadata) => Some(metadata.to_string()),
            },
            lists,
        })
    }
}

/// The table files of an export folder, in registry order, and their one format.
fn table_files(folder: &Path) -> Result<(ExportFormat, Vec<(&'static EntityType, PathBuf)>)> {
    let bad = |reason: &str| {
        Error::from(TransferError::InvalidImportFile {
            path: folder.to_path_buf(),
            line: None,
            column: None,
            reason: reason.to_string(),
        })
    };
    let mut found: Vec<(&'static EntityType, ExportFormat, PathBuf)> = Vec::new();
    let mut unknown = Vec::new();
    for entry in fs::read_dir(folder).map_err(io("read folder", folder))? {
        let entry = entry.map_err(io("read folder", folder))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // Hidden files (.DS_Store, editors' swap files) are not data.
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        match table_file(&name) {
            Some((t, format)) if path.is_file() => found.push((t, format, path)),
            _ => unknown.push(name),
        }
    }
    if !unknown.is_empty() {
        unknown.sort();
        return Err(Error::from(TransferError::UnknownImportFiles {
            path: folder.to_path_buf(),
            files: unknown,
            valid: ENTITY_TYPES.iter().map(|t| t.table).collect(),
        }));
    }
    let Some(&(_, format, _)) = found.first() else {
        return Err(bad(
            "the folder holds no <table>.parquet or <table>.csv files",
        ));
    };
    if found.iter().any(|(_, f, _)| *f != format) {
        return Err(bad(
            "the folder mixes CSV and Parquet files; import one format at a time",
        ));
    }
    found.sort_by_key(|(t, _, _)| ENTITY_TYPES.iter().position(|e| e.table == t.table));
    Ok((
        format,
        found.into_iter().map(|(t, _, path)| (t, path)).collect(),
    ))
}

/// The table function that reads one file; `parameter` is its path's placeholder. CSV is read
/// as text in DuckDB's own dialect (what `COPY ... (FORMAT csv)` writes), with quoted empty
/// strings kept apart from NULL, and cast to the registry's types by the INSERT.
fn reader(format: ExportFormat, parameter: &str) -> String {
    match format {
        ExportFormat::Parquet => format!("read_parquet({parameter})"),
        ExportFormat::Csv | ExportFormat::Json => format!(
            "read_csv({parameter}, header = true, all_varchar = true, allow_quoted_nulls = false, \
             delim = ',', quote = '\"', escape = '\"')"
        ),
    }
}

/// The file's columns as the registry names them, in file order (`scenario_id` left out).
///
/// # Errors
///
/// [`TransferError::InvalidImportFile`] for a column the table does not have or a missing required
/// one, [`TransferError::ImportData`] when DuckDB cannot read the file.
fn file_columns(
    conn: &Connection,
    t: &EntityType,
    file: &Path,
    format: ExportFormat,
) -> Result<Vec<&'static str>> {
    let unreadable = |source| {
        Error::from(TransferError::ImportData {
            path: file.to_path_buf(),
            source,
        })
    };
    let sql = format!("DESCRIBE SELECT * FROM {}", reader(format, "?"));
    let file_text = utf8(file)?;
    let names: Vec<String> = conn
        .prepare(&sql)
        .and_then(|mut stmt| stmt.query_map([file_text], |r| r.get(0))?.collect())
        .map_err(unreadable)?;
    let known = stored_columns(t);
    let mut columns = Vec::with_capacity(names.len());
    let mut unknown = Vec::new();
    for name in &names {
        match known.iter().find(|k| *k == name) {
            Some(column) => columns.push(*column),
            None if name == SCENARIO_COLUMN => {}
            None => unknown.push(name.as_str()),
        }
    }
    let bad = |reason: String| {
        Error::from(TransferError::InvalidImportFile {
            path: file.to_path_buf(),
            line: None,
            column: None,
            reason,
        })
    };
    if !unknown.is_empty() {
        return Err(bad(format!(
            "{} has no column {}; its columns are {}",
            t.table,
            unknown.join(", "),
            known.join(", ")
        )));
    }
    let missing: Vec<&str> = t
        .columns()
        .filter(|c| c.required && !columns.contains(&c.name))
        .map(|c| c.name)
        .collect();
    if !missing.is_empty() {
        return Err(bad(format!(
            "required columns of {} are missing: {}",
            t.table,
            missing.join(", ")
        )));
    }
    Ok(columns)
}

/// The DuckDB type of a stored column.
fn sql_type(t: &EntityType, column: &str) -> &'static str {
    t.column(column).map_or_else(
        || {
            SYSTEM_COLUMNS
                .iter()
                .find(|c| c.name == column)
                .map_or("VARCHAR", |c| c.sql_type)
        },
        |c| c.kind.sql_type(),
    )
}

/// Sets the call's provenance on the scenario's rows of `t` that have none (a file's own
/// values win, field by field, as an entity's do). Values are bound parameters.
fn fill_provenance(
    conn: &Connection,
    t: &EntityType,
    scenario_id: &str,
    provenance: &Provenance,
) -> Result<()> {
    if provenance.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE main.{} SET source_type = coalesce(source_type, $1), \
           source_system = coalesce(source_system, $2), skill_used = coalesce(skill_used, $3), \
           generation_seed = coalesce(generation_seed, $4) WHERE {SCENARIO_COLUMN} = $5",
        t.table
    );
    conn.execute(
        &sql,
        params![
            provenance.source_type,
            provenance.source_system,
            provenance.skill_used,
            provenance.generation_seed,
            scenario_id
        ],
    )
    .map_err(|source| Error::Database {
        context: format!("setting the provenance of {}", t.table),
        source,
    })?;
    Ok(())
}

/// [`TransferError::ImportData`] when one file gave an id twice. `(scenario_id, <id>)` is a
/// logical key, not a constraint (schema V0005), and the import's scenario is new, so a
/// repeated id in the scenario's rows of `t` is one the file repeats. DuckDB's `error()` raises
/// the error naming the first such id, as a constraint's violation did.
fn refuse_repeated_ids(
    conn: &Connection,
    t: &EntityType,
    file: &Path,
    scenario_id: &str,
) -> Result<()> {
    let sql = format!(
        "SELECT error(printf('the id %s appears more than once in {table} (%s is unique per scenario)', \
         min({pk}), $2)) FROM main.{table} WHERE {SCENARIO_COLUMN} = $1 \
         GROUP BY {pk} HAVING count(*) > 1 LIMIT 1",
        table = t.table,
        pk = t.primary_key
    );
    conn.prepare(&sql)
        .and_then(|mut stmt| {
            stmt.query_map(params![scenario_id, t.primary_key], |_| Ok(()))?
                .collect::<duckdb::Result<Vec<()>>>()
        })
        .map_err(|source| {
            Error::from(TransferError::ImportData {
                path: file.to_path_buf(),
                source,
            })
        })?;
    Ok(())
}

/// Inserts one file's rows into the scenario; returns how many.
fn insert_file(
    conn: &Connection,
    t: &EntityType,
    file: &Path,
    format: ExportFormat,
    columns: &[&'static str],
    scenario_id: &str,
) -> Result<u64> {
    let select: Vec<String> = columns
        .iter()
        .map(|column| match *column {
            // A row without a creation time gets the import's.
            "created_at" => "coalesce(CAST(created_at AS TIMESTAMP), current_timestamp)".into(),
            _ => format!("CAST({column} AS {})", sql_type(t, column)),
        })
        .collect();
    let sql = format!(
        "INSERT INTO main.{} ({SCENARIO_COLUMN}, {}) SELECT $1, {} FROM {}",
        t.table,
        columns.join(", "),
        select.join(", "),
        reader(format, "$2")
    );
    let n = conn
        .execute(&sql, params![scenario_id, utf8(file)?])
        .map_err(|source| {
            Error::from(TransferError::ImportData {
                path: file.to_path_buf(),
                source,
            })
        })?;
    Ok(n as u64)
}
