//! Running one `healthsim` command: parse argv, dispatch, print, map errors to exit codes.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::db::{self, DbConfig};
use crate::error::CliResult;
use crate::mcp;
use crate::ops;
use crate::output::Output;

/// The binary's entry point: exit code 0 (ok), 2 (bad input or usage) or 1 (other failure).
pub fn main() -> ExitCode {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == db::QUERY_WORKER_ARG)
    {
        return healthsim_persist::query::worker_main();
    }
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
            target: db::resolve_target(cli.db.as_deref())?,
            lock_timeout: Duration::from_secs(cli.lock_timeout),
        })
    };
    let output = match &cli.command {
        Command::Schema(args) => ops::schema::run(args)?,
        Command::Db(command) => ops::db::run(&config()?, command)?,
        Command::Mcp => {
            mcp::serve_stdio(config()?)?;
            return Ok(None);
        }
        Command::Demo(args) => ops::demo::run(&config()?, args)?,
        Command::Persist(args) => ops::persist::run(&config()?, args)?,
        Command::Summary(args) => ops::summary::run(&config()?, args)?,
        Command::Query(args) => ops::query::run(&config()?, args)?,
        Command::Samples(args) => ops::samples::run(&config()?, args)?,
        Command::List(args) => ops::list::run(&config()?, args)?,
        Command::Rename(args) => ops::rename::run(&config()?, args)?,
        Command::Delete(args) => ops::delete::run(&config()?, args)?,
        Command::Tag(command) => ops::tag::run(&config()?, command)?,
        Command::Clone(args) => ops::clone::run(&config()?, args)?,
        Command::Merge(args) => ops::merge::run(&config()?, args)?,
        Command::Export(args) => ops::export::run(&config()?, args)?,
        Command::Report(args) => ops::report::run(&config()?, args)?,
        Command::Import(args) => ops::import::run(&config()?, args)?,
        Command::ImportFhir(args) => ops::import_fhir::run(&config()?, args)?,
        Command::ImportLegacy(args) => ops::import_legacy::run(&config()?, args)?,
        Command::Generate(args) => match ops::generate::run(args)? {
            Some(output) => output,
            None => return Ok(None),
        },
    };
    Ok(Some(output))
}
