//! The database file: where it is, opening it as a [`Store`], and `healthsim db status|migrate`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use healthsim_persist::{Store, StoreOptions};
use serde::Serialize;

use crate::error::{CliError, CliResult};
use crate::output::{self, Output};

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
            },
        )
        .map_err(CliError::from)
    }

    /// Opens a plain connection without migrating (for `db status` and `db migrate`), waiting
    /// for the lock like a [`Store`] does.
    fn connect(&self) -> CliResult<healthsim_schema::duckdb::Connection> {
        self.create_parent()?;
        healthsim_persist::store::open_with_lock_retry(&self.path, self.lock_timeout, || {
            healthsim_persist::store::writer_config().and_then(|config| {
                healthsim_schema::duckdb::Connection::open_with_flags(&self.path, config)
            })
        })
        .map_err(CliError::from)
    }

    /// Creates the folder that holds the database, if missing.
    fn create_parent(&self) -> CliResult<()> {
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

/// `healthsim db status`.
#[derive(Debug, Serialize)]
struct DbStatus {
    path: String,
    exists: bool,
    #[serde(flatten)]
    schema: Option<healthsim_schema::SchemaStatus>,
}

/// `healthsim db status`: the file and where its schema stands; changes nothing.
pub fn status(config: &DbConfig) -> CliResult<Output> {
    let exists = config.path.exists();
    let schema = if exists {
        let conn = config.connect()?;
        Some(healthsim_schema::status(&conn)?)
    } else {
        None
    };
    let mut pairs = vec![("database", config.path.display().to_string())];
    match &schema {
        None => pairs.push((
            "status",
            "does not exist yet (created and migrated on first use)".into(),
        )),
        Some(s) => {
            pairs.push(("schema version", s.current_version.to_string()));
            pairs.push(("head version", s.head_version.to_string()));
            let pending = if s.pending.is_empty() {
                "none".to_string()
            } else {
                let list: Vec<String> = s.pending.iter().map(u32::to_string).collect();
                format!("{} (run `healthsim db migrate`)", list.join(", "))
            };
            pairs.push(("pending", pending));
        }
    }
    let mut text = output::key_values(&pairs);
    if let Some(s) = schema.as_ref().filter(|s| !s.applied.is_empty()) {
        let rows: Vec<Vec<String>> = s
            .applied
            .iter()
            .map(|m| vec![m.version.to_string(), m.name.clone(), m.checksum.clone()])
            .collect();
        text.push('\n');
        text.push_str(&output::table(&["version", "migration", "checksum"], &rows));
    }
    Output::new(
        &DbStatus {
            path: config.path.display().to_string(),
            exists,
            schema,
        },
        text,
    )
}

#[derive(Debug, Serialize)]
struct DbMigrated {
    path: String,
    #[serde(flatten)]
    report: healthsim_schema::MigrationReport,
}

/// `healthsim db migrate`: creates the database if needed and applies pending migrations.
pub fn migrate(config: &DbConfig) -> CliResult<Output> {
    // A new file is built and migrated under a temporary name and appears whole (see
    // `create_database`); an existing one is migrated in place, one transaction per migration.
    config.create_parent()?;
    let report = match healthsim_persist::store::create_database(&config.path)? {
        Some(report) => report,
        None => healthsim_schema::migrate(&config.connect()?)?,
    };
    let text = if report.applied.is_empty() {
        format!(
            "{}: schema is up to date (version {})\n",
            config.path.display(),
            report.to_version
        )
    } else {
        let list: Vec<String> = report.applied.iter().map(u32::to_string).collect();
        format!(
            "{}: migrated from version {} to {} (applied {})\n",
            config.path.display(),
            report.from_version,
            report.to_version,
            list.join(", ")
        )
    };
    Output::new(
        &DbMigrated {
            path: config.path.display().to_string(),
            report,
        },
        text,
    )
}
