//! `healthsim db status|migrate`: the database file and where its schema stands (command line
//! only; the MCP server migrates on open like every command).

use serde::Serialize;

use crate::args::DbCommand;
use crate::db::DbConfig;
use crate::error::CliResult;
use crate::output::{self, Output};

/// `healthsim db ...`.
pub fn run(config: &DbConfig, command: &DbCommand) -> CliResult<Output> {
    match command {
        DbCommand::Status => status(config),
        DbCommand::Migrate => migrate(config),
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
fn status(config: &DbConfig) -> CliResult<Output> {
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
fn migrate(config: &DbConfig) -> CliResult<Output> {
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
