//! [`Store::export_scenario`]: a scenario as one JSON document, or as a folder of CSV or
//! Parquet files.
//!
//! - **JSON** — one document, streamed to the file type by type and row by row (never built
//!   in memory):
//!
//!   ```text
//!   {
//!     "format": "healthsim-scenario-export",
//!     "format_version": 1,
//!     "exported_at": "2024-12-26T10:00:00Z",
//!     "include_provenance": true,
//!     "scenario": {"scenario_id": "...", "name": "...", "description": ..., "tags": [...], ...},
//!     "counts": {"patients": 2, ...},
//!     "entities": {
//!       "patients": [
//!         {"patient_id": "p1", "given_name": "Ana", ..., "favorite_color": "teal", "created_at": "..."},
//!         ...
//!       ], ...
//!     }
//!   }
//!   ```
//!
//!   Entities are in input shape ([`crate::input::row_to_json`]: the non-NULL columns, then the
//!   fields of `extra`), with the provenance fields when `include_provenance`, and
//!   `created_at`; ordered by primary key, one per line. [`Store::import_scenario`] reads the
//!   document back through the persist path.
//! - **CSV / Parquet** — a folder with one file per table that has rows (`patients.parquet`,
//!   ...), written by DuckDB's `COPY (SELECT ...) TO ...`: every column but `scenario_id`
//!   (provenance columns only when `include_provenance`), in the registry's types (Parquet keeps
//!   DATE, DECIMAL(18,2), TIMESTAMP and JSON); CSV files have a header line.
//!
//! DuckDB (1.5) accepts the `COPY ... TO` target as a bound parameter, so paths are never
//! spliced into SQL and need no quoting; the statement numbers its parameters explicitly
//! (`$1`, `$2`) because DuckDB binds the `TO` parameter before those of the inner query.
//! Where the output goes and what may be replaced is decided by the rules of
//! `paths`; output is written under a hidden temporary name and renamed into
//! place only when complete.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::Utc;
use duckdb::types::Value;
use duckdb::{params, Connection};
use healthsim_schema::value::{json_column, to_json};
use healthsim_schema::{EntityType, PROVENANCE_COLUMNS, SCENARIO_COLUMN};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

pub use super::format::{ExportFormat, FORMAT_NAME, FORMAT_VERSION};
use super::paths::{check_user_path, io, plan_export, plan_file, temporary_sibling, utf8, Planned};
use super::{scenario_details, selected_types, tables_with_rows};
use crate::error::{db, Result};
use crate::input::row_to_json;
use crate::scenario::{self, iso, ScenarioRef};
use crate::store::{in_transaction, Store};

/// How [`Store::export_scenario`] exports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportOptions {
    /// The file format (default JSON).
    pub format: ExportFormat,
    /// Where to: the folder that receives `{scenario-name}.json` or `{scenario-name}/`,
    /// created if missing (its parent must exist), or, for JSON, a `.json` file path. The same
    /// path gives the same target on every call. Default: `exports/` next to the database file.
    pub out: Option<PathBuf>,
    /// Only these entity types (table names, singular forms or aliases); default all.
    pub types: Option<Vec<String>>,
    /// Include the provenance columns (`source_type`, `source_system`, `skill_used`,
    /// `generation_seed`); default true.
    pub include_provenance: bool,
    /// Replace an existing export at the target; default false.
    pub overwrite: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            format: ExportFormat::default(),
            out: None,
            types: None,
            include_provenance: true,
            overwrite: false,
        }
    }
}

/// What [`Store::export_scenario`] wrote (tables without entities are left out of the
/// counts; the files are in registry order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ExportResult {
    /// The exported scenario's id.
    pub scenario_id: String,
    /// Its name.
    pub name: String,
    /// The format written.
    pub format: ExportFormat,
    /// The JSON file or the folder written, on the user's machine.
    #[serde(serialize_with = "super::paths::serialize_lossy")]
    pub path: PathBuf,
    /// The files inside the folder (csv, parquet); empty for json.
    pub files: Vec<String>,
    /// Entities exported per table.
    pub counts: BTreeMap<String, u64>,
    /// Entities exported over all tables.
    pub total_entities: u64,
    /// Size of what was written, in bytes.
    pub bytes_written: u64,
}

impl Store {
    /// Where a single file named `file_name` (a report, say) is written for the user, by the
    /// same rules as exports: `out/file_name` (the folder `out` is created if missing, its
    /// parent must exist), `out` itself when it ends in `file_name`'s extension, or
    /// `exports/file_name` next to the database file (the folder is created). Paths with a
    /// `..` component are refused.
    ///
    /// # Errors
    ///
    /// [`crate::TransferError::InvalidPath`] (wrapped in [`crate::Error::Transfer`]),
    /// [`crate::Error::Io`].
    pub fn output_file(&self, out: Option<&Path>, file_name: &str) -> Result<PathBuf> {
        plan_file(&self.data_dir(), out, file_name)
    }

    /// The folder that holds `exports/` ([`crate::target::Target::folder`]: the database
    /// file's, or `~/.healthsim` for a lake; `.` when that is the working directory).
    fn data_dir(&self) -> PathBuf {
        let folder = self.target().folder();
        if folder.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            folder
        }
    }

    /// Exports a scenario (by id or name); see the [module documentation](self) for the
    /// formats and [`ExportOptions::out`] for where the output goes.
    ///
    /// # Errors
    ///
    /// [`crate::Error::UnknownEntityType`] and [`crate::Error::InvalidRequest`] (an empty type
    /// list), [`crate::TransferError::InvalidPath`] (a `..` component, a missing parent folder,
    /// a file where a folder belongs, ...), [`crate::TransferError::OutputExists`] without
    /// `overwrite` (both wrapped in [`crate::Error::Transfer`]), [`crate::Error::Io`], the errors of [`Store::resolve_scenario`], and
    /// [`crate::Error::Database`]. A failed export leaves nothing behind, and a replaced one
    /// stays as it was.
    pub fn export_scenario(&self, scenario: &str, options: &ExportOptions) -> Result<ExportResult> {
        let types = selected_types(options.types.as_deref())?;
        if let Some(out) = &options.out {
            check_user_path(out)?;
        }
        let data_dir = self.data_dir();
        self.with_writer(|conn| {
            // One transaction: every table is read from the same snapshot.
            in_transaction(conn, |conn| {
                let scenario = scenario::resolve_on(conn, scenario)?;
                let tables: Vec<(&'static EntityType, u64)> =
                    tables_with_rows(conn, &scenario.scenario_id)?
                        .into_iter()
                        .filter(|(t, _)| types.iter().any(|s| s.table == t.table))
                        .collect();
                let planned = plan_export(
                    &data_dir,
                    options.out.as_deref(),
                    options.format,
                    &scenario.name,
                    options.overwrite,
                )?;
                if let Some(folder) = &planned.new_folder {
                    fs::create_dir(folder).map_err(io("create folder", folder))?;
                }
                let written = match options.format {
                    ExportFormat::Json => export_json(
                        conn,
                        &scenario,
                        &tables,
                        options.include_provenance,
                        &planned,
                    )
                    .map(|(counts, bytes)| (counts, Vec::new(), bytes)),
                    ExportFormat::Csv | ExportFormat::Parquet => {
                        export_folder(conn, &scenario.scenario_id, &tables, options, &planned)
                    }
                };
                let (counts, files, bytes_written) = written.inspect_err(|_| {
                    // The folder made for this export holds nothing now (the writers remove
                    // their partial output); remove_dir leaves it if anything else appeared.
                    if let Some(folder) = &planned.new_folder {
                        let _ = fs::remove_dir(folder);
                    }
                })?;
                Ok(ExportResult {
                    scenario_id: scenario.scenario_id,
                    name: scenario.name,
                    format: options.format,
                    path: planned.path,
                    files,
                    total_entities: counts.values().sum(),
                    counts,
                    bytes_written,
                })
            })
        })
    }
}

/// Writes the JSON document to a temporary file and renames it into place; returns the counts
/// and the file's size.
fn export_json(
    conn: &Connection,
    scenario: &ScenarioRef,
    tables: &[(&'static EntityType, u64)],
    include_provenance: bool,
    planned: &Planned,
) -> Result<(BTreeMap<String, u64>, u64)> {
    let path = &planned.path;
    let temp = temporary_sibling(path, "partial");
    let written = (|| {
        let file = File::create_new(&temp).map_err(io("create", &temp))?;
        let mut out = BufWriter::new(file);
        let counts = write_document(conn, scenario, tables, include_provenance, &mut out, path)?;
        let file = out
            .into_inner()
            .map_err(|e| io("write", path)(e.into_error()))?;
        file.sync_all().map_err(io("write", path))?;
        Ok(counts)
    })();
    let counts = match written {
        Ok(counts) => counts,
        Err(error) => {
            // The export failed; the partial file is removed and that error is what matters.
            let _ = fs::remove_file(&temp);
            return Err(error);
        }
    };
    if let Err(e) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(io("write", path)(e));
    }
    let bytes = fs::metadata(path).map_err(io("inspect", path))?.len();
    Ok((counts, bytes))
}

/// Streams the document: metadata first, then each table's entities, one per line.
fn write_document(
    conn: &Connection,
    scenario: &ScenarioRef,
    tables: &[(&'static EntityType, u64)],
    include_provenance: bool,
    out: &mut impl Write,
    path: &Path,
) -> Result<BTreeMap<String, u64>> {
    let write_err = |e: std::io::Error| io("write", path)(e);
    let (description, metadata) = scenario_details(conn, &scenario.scenario_id)?;
    let (created_at, updated_at): (Value, Value) = conn
        .query_row(
            "SELECT created_at, updated_at FROM scenarios WHERE scenario_id = ?",
            [&scenario.scenario_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(db("reading the scenario"))?;
    let head = [
        ("format", json!(FORMAT_NAME)),
        ("format_version", json!(FORMAT_VERSION)),
        (
            "exported_at",
            json!(Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        ),
        ("include_provenance", json!(include_provenance)),
        (
            "scenario",
            json!({
                "scenario_id": scenario.scenario_id,
                "name": scenario.name,
                "description": description,
                "created_at": iso(&created_at),
                "updated_at": iso(&updated_at),
                "tags": scenario::tags_of(conn, &scenario.scenario_id)?,
                "metadata": metadata.as_deref().map(json_column),
            }),
        ),
        (
            "counts",
            Json::Object(
                tables
                    .iter()
                    .map(|(t, n)| (t.table.to_string(), json!(n)))
                    .collect(),
            ),
        ),
    ];
    out.write_all(b"{\n").map_err(write_err)?;
    for (key, value) in head {
        write!(out, "  \"{key}\": ").map_err(write_err)?;
        serde_json::to_writer(&mut *out, &value).map_err(|e| write_err(e.into()))?;
        out.write_all(b",\n").map_err(write_err)?;
    }
    out.write_all(b"  \"entities\": {").map_err(write_err)?;
    let mut counts = BTreeMap::new();
    for (i, (t, _)) in tables.iter().enumerate() {
        let separator = if i == 0 { "" } else { "," };
        write!(out, "{separator}\n    \"{}\": [", t.table).map_err(write_err)?;
        let n = write_entities(
            conn,
            t,
            &scenario.scenario_id,
            include_provenance,
            out,
            path,
        )?;
        out.write_all(b"\n    ]").map_err(write_err)?;
        if n > 0 {
            counts.insert(t.table.to_string(), n);
        }
    }
    out.write_all(b"\n  }\n}\n").map_err(write_err)?;
    Ok(counts)
}

/// Streams one table's entities of the scenario as JSON objects, one per line.
fn write_entities(
    conn: &Connection,
    t: &EntityType,
    scenario_id: &str,
    include_provenance: bool,
    out: &mut impl Write,
    path: &Path,
) -> Result<u64> {
    let write_err = |e: std::io::Error| io("write", path)(e);
    let domain: Vec<&str> = t.columns().map(|c| c.name).collect();
    let n_domain = domain.len();
    let sql = format!(
        "SELECT {}, {}, extra, created_at FROM main.{} WHERE {SCENARIO_COLUMN} = ? ORDER BY {}",
        domain.join(", "),
        PROVENANCE_COLUMNS.join(", "),
        t.table,
        t.primary_key
    );
    let context = || format!("exporting {}", t.table);
    let mut stmt = conn.prepare(&sql).map_err(db(context()))?;
    let mut rows = stmt.query([scenario_id]).map_err(db(context()))?;
    let mut values: Vec<Value> = Vec::with_capacity(n_domain);
    let mut n: u64 = 0;
    while let Some(row) = rows.next().map_err(db(context()))? {
        values.clear();
        for i in 0..n_domain {
            values.push(row.get(i).map_err(db(context()))?);
        }
        let extra: Option<String> = row
            .get(n_domain + PROVENANCE_COLUMNS.len())
            .map_err(db(context()))?;
        let mut object = row_to_json(t, &values, extra.as_deref());
        if include_provenance {
            for (j, name) in PROVENANCE_COLUMNS.iter().enumerate() {
                let value: Value = row.get(n_domain + j).map_err(db(context()))?;
                if !matches!(value, Value::Null) {
                    object.insert((*name).to_string(), to_json(&value));
                }
            }
        }
        // An unparsable `created_at` of the input lives in `extra`; that one is kept.
        let created_at: Value = row
            .get(n_domain + PROVENANCE_COLUMNS.len() + 1)
            .map_err(db(context()))?;
        object
            .entry("created_at")
            .or_insert_with(|| to_json(&created_at));
        out.write_all(if n == 0 { b"\n      " } else { b",\n      " })
            .map_err(write_err)?;
        serde_json::to_writer(&mut *out, &object).map_err(|e| write_err(e.into()))?;
        n += 1;
    }
    Ok(n)
}

/// Writes one file per table into a temporary folder with DuckDB's `COPY`, then moves the
/// folder into place; returns the counts, the file names and their total size.
fn export_folder(
    conn: &Connection,
    scenario_id: &str,
    tables: &[(&'static EntityType, u64)],
    options: &ExportOptions,
    planned: &Planned,
) -> Result<(BTreeMap<String, u64>, Vec<String>, u64)> {
    let path = &planned.path;
    let temp = temporary_sibling(path, "partial");
    fs::create_dir(&temp).map_err(io("create folder", &temp))?;
    let written = copy_tables(conn, scenario_id, tables, options, &temp);
    let (counts, files) = match written {
        Ok(written) => written,
        Err(error) => {
            // The export failed; the partial folder (ours alone) is removed and that error is
            // what matters.
            let _ = fs::remove_dir_all(&temp);
            return Err(error);
        }
    };
    install_folder(&temp, planned)?;
    let mut bytes = 0;
    for file in &files {
        let file = path.join(file);
        bytes += fs::metadata(&file).map_err(io("inspect", &file))?.len();
    }
    Ok((counts, files, bytes))
}

fn copy_tables(
    conn: &Connection,
    scenario_id: &str,
    tables: &[(&'static EntityType, u64)],
    options: &ExportOptions,
    folder: &Path,
) -> Result<(BTreeMap<String, u64>, Vec<String>)> {
    let copy_options = match options.format {
        ExportFormat::Parquet => "FORMAT parquet",
        ExportFormat::Csv | ExportFormat::Json => "FORMAT csv, HEADER true",
    };
    let mut counts = BTreeMap::new();
    let mut files = Vec::new();
    for (t, _) in tables {
        let mut columns: Vec<&str> = t.columns().map(|c| c.name).collect();
        if options.include_provenance {
            columns.extend(PROVENANCE_COLUMNS);
        }
        columns.extend(["extra", "created_at"]);
        let file_name = format!("{}.{}", t.table, options.format.name());
        let file = folder.join(&file_name);
        let sql = format!(
            "COPY (SELECT {} FROM main.{} WHERE {SCENARIO_COLUMN} = $1 ORDER BY {}) TO $2 ({copy_options})",
            columns.join(", "),
            t.table,
            t.primary_key
        );
        let n = conn
            .execute(&sql, params![scenario_id, utf8(&file)?])
            .map_err(db(format!("exporting {} to {}", t.table, file.display())))?;
        counts.insert(t.table.to_string(), n as u64);
        files.push(file_name);
    }
    Ok((counts, files))
}

/// Moves the finished temporary folder to the planned path, replacing a previous export
/// (already checked to hold only table files) when planned.
fn install_folder(temp: &Path, planned: &Planned) -> Result<()> {
    let path = &planned.path;
    if !planned.replace {
        return fs::rename(temp, path).map_err(|e| {
            let _ = fs::remove_dir_all(temp);
            io("create folder", path)(e)
        });
    }
    let previous = temporary_sibling(path, "replaced");
    if let Err(e) = fs::rename(path, &previous) {
        let _ = fs::remove_dir_all(temp);
        return Err(io("replace", path)(e));
    }
    if let Err(e) = fs::rename(temp, path) {
        // Put the previous export back; the error of the move is what matters.
        let _ = fs::rename(&previous, path);
        let _ = fs::remove_dir_all(temp);
        return Err(io("replace", path)(e));
    }
    fs::remove_dir_all(&previous).map_err(io("remove the replaced export", &previous))
}
