//! [`Source`]: what a sandbox connection reads, and [`open_sandbox`], the one way to open it.
//!
//! A DuckDB file is opened read-only with [`sandbox_config`](crate::sandbox_config), and DuckDB
//! itself enforces the first line of defence from the first byte. Data that lives elsewhere —
//! a DuckLake, whose catalog is in PostgreSQL and whose rows are Parquet files in a folder —
//! cannot be opened that way: it is *attached* to an in-memory instance by statements that need
//! extensions, the network (the catalog's server) and the file system. A [`Prepared`] source
//! names those statements; [`open_sandbox`] runs them on an instance that already has every
//! other sandbox setting, then **seals** it: the folders the data lives in become the only
//! readable ones (`allowed_directories`), external access goes off, and the configuration is
//! locked. From then on the connection reads no other file, loads nothing, changes no setting
//! and writes nothing of the attached data.
//!
//! It holds less than a file's read-only instance, though, and what it does not hold only the
//! syntax-tree checks ([`validate_query`](crate::validate_query)) refuse, as they do on a file:
//! - the folders it may read hold every scenario's rows (a lake's Parquet files, which
//!   `read_parquet` or `glob` would reach: file functions are refused by the review);
//! - functions of the extensions the statements loaded keep working: the PostgreSQL scanner's
//!   `postgres_scan`, `postgres_attach` and `postgres_query` open connections to any server the
//!   machine reaches (they ignore `enable_external_access`) or read the lake's catalog, and
//!   DuckLake's read its snapshots and file lists (the review refuses each of them by name, and
//!   names it does not know);
//! - on data in S3 (a lake's `s3://` data path), the readable "folder" is an address prefix that
//!   DuckDB compares as text: an address with `..` segments that starts with it passes, and a
//!   path-style server may resolve it to another bucket (file functions are refused by the
//!   review);
//! - the instance's own in-memory catalog takes tables, views and in-memory attachments
//!   (refused as statements that are not read-only);
//! - an `ATTACH` string, password included, shows in `duckdb_databases()` and in the setting
//!   `allowed_paths`, to which DuckDB adds it (catalog and settings functions are refused; and
//!   `healthsim-persist` hands a lake's password over as a temporary secret, which shows
//!   redacted, never inside the string).
//!
//! This crate does not know what a lake is: the caller (`healthsim-persist`) writes the
//! statements. A `Prepared` source may carry secrets (a password inside an `ATTACH` string), so
//! its `Debug` shows only its label, and an error while preparing has each of its `secrets`
//! replaced by `***` before it leaves this module.

use std::fmt;
use std::path::{Path, PathBuf};

use duckdb::{Config, Connection};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// What a sandboxed query connection reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// A DuckDB database file, opened read-only.
    File(PathBuf),
    /// An in-memory instance into which statements attach the data.
    Prepared(Prepared),
}

/// Data attached to an in-memory instance by statements, then sealed (see the module header).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prepared {
    /// What the source is, for messages (no secrets).
    pub label: String,
    /// Statements run in order before the instance is sealed (`LOAD`, `ATTACH … (READ_ONLY)`,
    /// `USE`); the canonical tables must then resolve unqualified.
    pub setup: Vec<String>,
    /// Folders a query may read through the attached data (a lake's data files); nothing else
    /// on the file system is readable.
    pub readable: Vec<PathBuf>,
    /// Environment a worker process starts with (e.g. libpq's `PGPASSWORD`, `PGSERVICEFILE`):
    /// workers otherwise start with none.
    pub env: Vec<(String, String)>,
    /// Texts never to show in an error (passwords inside `setup`).
    pub secrets: Vec<String>,
}

impl fmt::Debug for Prepared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Prepared({})", self.label)
    }
}

impl Source {
    /// What the source is, for messages.
    pub fn label(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Prepared(prepared) => prepared.label.clone(),
        }
    }
}

impl From<&Path> for Source {
    fn from(path: &Path) -> Source {
        Source::File(path.to_path_buf())
    }
}

impl From<&PathBuf> for Source {
    fn from(path: &PathBuf) -> Source {
        Source::File(path.clone())
    }
}

impl From<PathBuf> for Source {
    fn from(path: PathBuf) -> Source {
        Source::File(path)
    }
}

/// Opens a sandboxed connection on `source`: a file read-only with
/// [`sandbox_config`](crate::sandbox_config); a prepared source on an in-memory instance with
/// the same settings, prepared, then sealed.
///
/// # Errors
///
/// [`Error::Open`] with DuckDB's message (secrets removed) when the file cannot be opened or a
/// preparing statement fails; [`Error::Worker`] when the configuration cannot be built.
pub fn open_sandbox(source: &Source) -> Result<Connection, Error> {
    let config_failed = |e: duckdb::Error| Error::Worker {
        detail: format!("sandbox configuration: {e}"),
    };
    match source {
        Source::File(path) => {
            let config = crate::sandbox_config().map_err(config_failed)?;
            Connection::open_with_flags(path, config).map_err(|e| Error::Open {
                detail: e.to_string(),
            })
        }
        Source::Prepared(prepared) => {
            let config = crate::sandbox::limits(Config::default()).map_err(config_failed)?;
            let conn = Connection::open_in_memory_with_flags(config).map_err(|e| Error::Open {
                detail: e.to_string(),
            })?;
            let hidden = |e: duckdb::Error| {
                let mut detail = e.to_string();
                for secret in prepared.secrets.iter().filter(|s| !s.is_empty()) {
                    detail = detail.replace(secret.as_str(), "***");
                }
                Error::Open { detail }
            };
            for statement in &prepared.setup {
                conn.execute_batch(statement).map_err(hidden)?;
            }
            let readable = prepared
                .readable
                .iter()
                .map(|dir| {
                    let mut text = dir.display().to_string();
                    if !text.ends_with('/') {
                        text.push('/');
                    }
                    format!("'{}'", text.replace('\'', "''"))
                })
                .collect::<Vec<_>>()
                .join(", ");
            conn.execute_batch(&format!(
                "SET allowed_directories = [{readable}];
                 SET enable_external_access = false;
                 SET lock_configuration = true;"
            ))
            .map_err(hidden)?;
            Ok(conn)
        }
    }
}
