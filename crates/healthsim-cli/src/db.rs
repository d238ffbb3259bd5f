//! The database: where it is (a file, or a DuckLake named by a `ducklake:postgres:` string:
//! [`Target`]), and opening it as a [`Store`] (`healthsim db status|migrate` are in
//! [`crate::ops::db`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use healthsim_persist::target::Target;
use healthsim_persist::{Store, StoreOptions};

use crate::error::{CliError, CliResult};

/// The environment variable naming the database file when `--db` is not given.
pub const DB_ENV: &str = "HEALTHSIM_DB";

/// The database: `--db`, else `$HEALTHSIM_DB`, else `~/.healthsim/healthsim.duckdb`; a value
/// that starts with `ducklake:` names a lake ([`Target::parse`]).
pub fn resolve_target(db: Option<&Path>) -> CliResult<Target> {
    let given = db
        .map(|p| p.as_os_str().to_os_string())
        .or_else(|| std::env::var_os(DB_ENV).filter(|p| !p.is_empty()));
    if let Some(given) = given {
        return match given.to_str() {
            Some(text) => Target::parse(text).map_err(|e| CliError::input(e.to_string())),
            None => Ok(Target::File(PathBuf::from(given))),
        };
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(Target::File(
            PathBuf::from(home)
                .join(".healthsim")
                .join("healthsim.duckdb"),
        )),
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
    /// The database: a file or a lake.
    pub target: Target,
    /// How long to wait while another process holds the file, or to retry a lake's conflicting
    /// commits.
    pub lock_timeout: Duration,
}

impl DbConfig {
    /// Opens the store (creating and migrating the database on first use).
    pub fn open(&self) -> CliResult<Store> {
        Store::open_target(
            self.target.clone(),
            StoreOptions {
                lock_timeout: self.lock_timeout,
                query_worker: Some(query_worker()?),
                ..StoreOptions::default()
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
        let path = match &self.target {
            Target::File(path) => path,
            Target::Lake(lake) => {
                let conn = healthsim_persist::store::connect_lake(lake)?;
                detect::refuse_foreign_lake(&conn, lake)?;
                return Ok(conn);
            }
        };
        self.create_parent()?;
        detect::refuse_non_duckdb(path)?;
        let conn = healthsim_persist::store::open_with_lock_retry(path, self.lock_timeout, || {
            healthsim_persist::store::writer_config().and_then(|config| {
                healthsim_schema::duckdb::Connection::open_with_flags(path, config)
            })
        })?;
        detect::refuse_foreign(&conn, path)?;
        Ok(conn)
    }

    /// The database file (`None` for a lake).
    pub fn file(&self) -> Option<&Path> {
        self.target.file()
    }

    /// Creates the folder that holds the database file, if missing (nothing for a lake).
    pub(crate) fn create_parent(&self) -> CliResult<()> {
        let Some(path) = self.file() else {
            return Ok(());
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
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
