//! `healthsim db status|migrate`: the database (a file or a lake) and where its schema stands
//! (command line only; the MCP server migrates on open like every command).

use std::path::Path;

use serde::Serialize;

use healthsim_persist::target::Target;

use crate::args::DbCommand;
use crate::db::DbConfig;
use crate::error::CliResult;
use crate::output::{self, Output};

/// `healthsim db ...`.
pub fn run(config: &DbConfig, command: &DbCommand) -> CliResult<Output> {
    match command {
        DbCommand::Status => status(config),
        DbCommand::Migrate => migrate(config),
        DbCommand::Maintain(args) => maintain(config, args),
    }
}

/// `healthsim db maintain`: a lake's maintenance (refused for a file before it is opened, so a
/// refused file is neither created nor migrated).
fn maintain(config: &DbConfig, args: &crate::args::MaintainArgs) -> CliResult<Output> {
    healthsim_persist::lake::maintained(&config.target)?;
    let store = config.open()?;
    let done = store.maintain_lake(args.older_than_minutes)?;
    let text = output::key_values(&[
        ("lake", config.target.to_string()),
        ("rows flushed into files", done.rows_flushed.to_string()),
        ("snapshots expired", done.snapshots_expired.to_string()),
        ("files merged", done.files_merged.to_string()),
        ("old files deleted", done.old_files_deleted.to_string()),
        (
            "orphaned files deleted",
            done.orphaned_files_deleted.to_string(),
        ),
    ]);
    Output::new(&done, text)
}

/// `healthsim db status`.
#[derive(Debug, Serialize)]
struct DbStatus {
    path: String,
    exists: bool,
    #[serde(flatten)]
    schema: Option<healthsim_schema::SchemaStatus>,
}

/// `healthsim db status`: the database and where its schema stands; changes nothing (a lake's
/// catalog is read; a lake never migrated reports version 0).
fn status(config: &DbConfig) -> CliResult<Output> {
    let exists = config.file().is_none_or(Path::exists);
    let schema = if exists {
        let conn = config.connect()?;
        Some(healthsim_schema::status(&conn)?)
    } else {
        None
    };
    let mut pairs = vec![("database", config.target.to_string())];
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
            path: config.target.to_string(),
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
fn migrate(config: &DbConfig) -> CliResult<Output> {
    // A new file is built and migrated under a temporary name and appears whole (see
    // `create_database`); an existing one is migrated in place, one transaction per migration.
    config.create_parent()?;
    let created = match config.file() {
        Some(path) => healthsim_persist::store::create_database(path)?,
        None => None,
    };
    let report = match created {
        Some(report) => report,
        None => match &config.target {
            Target::Lake(lake) => healthsim_persist::store::migrate_lake(lake)?,
            Target::File(_) => healthsim_schema::migrate(&config.connect()?)?,
        },
    };
    let text = if report.applied.is_empty() {
        format!(
            "{}: schema is up to date (version {})\n",
            config.target, report.to_version
        )
    } else {
        let list: Vec<String> = report.applied.iter().map(u32::to_string).collect();
        format!(
            "{}: migrated from version {} to {} (applied {})\n",
            config.target,
            report.from_version,
            report.to_version,
            list.join(", ")
        )
    };
    Output::new(
        &DbMigrated {
            path: config.target.to_string(),
            report,
        },
        text,
    )
}
