//! Running one `healthsim` command: parse argv, dispatch, print, map errors to exit codes.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::args::{Cli, Command, DbCommand};
use crate::db::{self, DbConfig};
use crate::error::CliResult;
use crate::output::Output;
use crate::{commands, demo, describe, generate, mcp, transfer};

/// The binary's entry point: exit code 0 (ok), 2 (bad input or usage) or 1 (other failure).
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with code 0; usage errors to stderr with code 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let json = cli.json;
    match run(cli) {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(output)) => match output.write_to(&mut std::io::stdout().lock(), json) {
            Ok(()) => match &output.failure {
                None => ExitCode::SUCCESS,
                Some(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(e.exit_code())
                }
            },
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(e.exit_code())
            }
        },
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs a parsed command; returns what to print (nothing for `mcp`, nor for `generate` when
/// the data itself went to stdout).
pub fn run(cli: Cli) -> CliResult<Option<Output>> {
    let config = || -> CliResult<DbConfig> {
        Ok(DbConfig {
            path: db::resolve_path(cli.db.as_deref())?,
            lock_timeout: Duration::from_secs(cli.lock_timeout),
        })
    };
    let output = match &cli.command {
        Command::Schema(args) => describe::schema_output(args.entity_type.as_deref())?,
        Command::Db(DbCommand::Status) => db::status(&config()?)?,
        Command::Db(DbCommand::Migrate) => db::migrate(&config()?)?,
        Command::Mcp => {
            mcp::serve_stdio(config()?)?;
            return Ok(None);
        }
        Command::Demo(args) => demo::run(&config()?, args)?,
        Command::Persist(args) => commands::persist(&config()?, args)?,
        Command::Summary(args) => commands::summary(&config()?, args)?,
        Command::Query(args) => commands::query(&config()?, args)?,
        Command::Samples(args) => commands::samples(&config()?, args)?,
        Command::List(args) => commands::list(&config()?, args)?,
        Command::Rename(args) => commands::rename(&config()?, args)?,
        Command::Delete(args) => commands::delete(&config()?, args)?,
        Command::Tag(tag) => commands::tag(&config()?, tag)?,
        Command::Clone(args) => transfer::clone(&config()?, args)?,
        Command::Merge(args) => transfer::merge(&config()?, args)?,
        Command::Export(args) => transfer::export(&config()?, args)?,
        Command::Import(args) => transfer::import(&config()?, args)?,
        Command::ImportFhir(args) => transfer::import_fhir(&config()?, args)?,
        Command::Generate(args) => match generate::run(args)? {
            Some(output) => output,
            None => return Ok(None),
        },
    };
    Ok(Some(output))
}
