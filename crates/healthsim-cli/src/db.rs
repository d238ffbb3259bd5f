//! The database file: where it is, and opening it as a [`Store`] (`healthsim db status|migrate`
//! are in [`crate::ops::db`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use healthsim_persist::{Store, StoreOptions};

use crate::error::{CliError, CliResult};

/// The environment variable naming the database file when `--db` is not given.
pub const DB_ENV: &str = "HEALTHSIM_DB";

/// The database path: `--db`, else `$HEALTHSIM_DB`, else `~/.healthsim/healthsim.duckdb`.
pub fn resolve_path(db: Option<&Path>) -> CliResult<PathBuf> {
    if let Some(path) = db {
        return Ok(path.to_path_buf());
    }
    if let Some(path) = std::env::var_os(DB_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(PathBuf::from(home)
            .join(".healthsim")
            .join("healthsim.duckdb")),
        None => Err(CliError::input(format!(
            "no database given and $HOME is not set: pass --db PATH or set ${DB_ENV}"
        ))),
    }
}

/// The argument that makes the `healthsim` binary serve one contained query
/// ([`healthsim_persist::query::worker_main`]) instead of a command. Not a subcommand: it is never
/// shown in the help, and it is recognized before the command line is parsed.
pub const QUERY_WORKER_ARG: &str = "__query-worker";

/// This very binary as the worker of contained scenario queries: every query of the CLI and the
/// MCP server runs in a process of its own ([`healthsim_persist::StoreOptions::query_worker`]).
pub fn query_worker() -> CliResult<healthsim_persist::query::Worker> {
    let program = std::env::current_exe().map_err(|e| {
        CliError::failure(format!(
            "cannot find this program's own file to run queries in a worker process: {e}"
        ))
    })?;
    Ok(healthsim_persist::query::Worker::new(
        program,
        [QUERY_WORKER_ARG],
    ))
}

/// Where the database is and how long to wait for its lock.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// The database file.
    pub path: PathBuf,
    /// How long to wait while another process holds the file.
    pub lock_timeout: Duration,
}

impl DbConfig {
    /// Opens the store (creating and migrating the database on first use).
    pub fn open(&self) -> CliResult<Store> {
        Store::open(
            &self.path,
            StoreOptions {
                lock_timeout: self.lock_timeout,
                query_worker: Some(query_worker()?),
            },
        )
        .map_err(CliError::from)
    }

    /// Opens a plain connection without migrating (for `db status` and `db migrate`), waiting
    /// for the lock like a [`Store`] does. A file that is not one of ours (a Python HealthSim
    /// database, another application's, no DuckDB file at all) is refused first, untouched,
    /// exactly as [`Store::open`] refuses it.
    pub(crate) fn connect(&self) -> CliResult<healthsim_schema::duckdb::Connection> {
        use healthsim_persist::legacy::detect;
        self.create_parent()?;
        detect::refuse_non_duckdb(&self.path)?;
        let conn =
            healthsim_persist::store::open_with_lock_retry(&self.path, self.lock_timeout, || {
                healthsim_persist::store::writer_config().and_then(|config| {
                    healthsim_schema::duckdb::Connection::open_with_flags(&self.path, config)
                })
            })?;
        detect::refuse_foreign(&conn, &self.path)?;
        Ok(conn)
    }

    /// Creates the folder that holds the database, if missing.
    pub(crate) fn create_parent(&self) -> CliResult<()> {
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                CliError::failure(format!(
                    "cannot create directory {} for the database: {e}",
                    parent.display()
                ))
            })?;
        }
        Ok(())
    }
}
