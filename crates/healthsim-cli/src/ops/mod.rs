//! The operations, one module each: for an operation, its MCP tool (parameters, description,
//! annotations, what a call does), its `healthsim` command (what it runs over the
//! [`Store`](healthsim_persist::Store)) and its readable rendering. The command-line arguments
//! stay in [`crate::args`], which pins `--help`.
//!
//! # Adding an MCP tool
//!
//! 1. **The library method.** Add the operation to `healthsim-persist` as a `Store` method
//!    returning a result type. Derive `JsonSchema` on the result (and on any enum a parameter
//!    uses) behind the crate's `json-schema` feature:
//!    `#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]`. Its doc comments
//!    become the output schema's descriptions, so write them for the agent that reads them: plain
//!    text, no intra-doc links. Give a new error variant its answer in `Error::is_caller_error`
//!    (the match has no catch-all, so the compiler asks).
//! 2. **One ops file**, `src/ops/<operation>.rs`, holding:
//!    - the parameters: a `#[derive(Deserialize, JsonSchema)] #[serde(deny_unknown_fields)]`
//!      struct whose field docs are the input schema's descriptions; use the library's enums
//!      directly (`OnConflict`, `ExportFormat`, ...);
//!    - a unit struct implementing [`crate::mcp::Tool`]: `NAME`, `COMMAND` (the `healthsim`
//!      command that does the same), `TITLE`, `EFFECT` (read-only, adds, or changes what
//!      existed; idempotent or not), `DESCRIPTION`, `MAX_RESULT_TOKENS` (the result's bound,
//!      appended to the description and enforced by the server; keep results under it with
//!      pages, maxima and cut values), `Params` (ranges and defaults as
//!      `#[schemars(range(...), extend("default" = ...))]`: the server enforces what the schema
//!      declares), `Output` (the library's result type), and `call`, which checks the arguments
//!      and then does the database work inside `context.run(|store| ...)`;
//!    - the command: `pub fn run(config: &DbConfig, args: &XArgs) -> CliResult<Output>` with its
//!      text rendering (and the clap `XArgs` in `src/args.rs`, a `Command` variant, a line in
//!      `app::run`).
//! 3. **One registration line** in `registry()` in `src/mcp/server.rs`:
//!    `register::<ops::<operation>::<Tool>>(),`.
//!
//! Then run the tests: the `tools/list` snapshot (`tests/snapshots/mcp__tools_list.snap`) shows
//! the new tool for review, the consistency test (`tests/consistency.rs`) fails until the
//! user guide's command and tool tables and the skills' tool table list it, and
//! `tests/contract.rs` fails until it has a worst case measured against its bound and its
//! annotations pinned.

pub mod clone;
pub mod db;
pub mod delete;
pub mod demo;
pub mod export;
pub mod generate;
pub mod import;
pub mod import_fhir;
pub mod import_legacy;
pub mod list;
pub mod merge;
pub mod persist;
pub mod query;
pub mod rename;
pub mod report;
pub mod samples;
pub mod schema;
pub mod summary;
pub mod tag;

use std::collections::BTreeMap;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Deserialize;

use crate::output;

/// The token bound of the results of clone, merge, export, import and delete (counts per type,
/// names, paths).
pub const TRANSFER_TOKEN_BUDGET: usize = 2_000;
/// The token bound of short results: a rename, a FHIR import, a report's headline numbers.
pub const SHORT_TOKEN_BUDGET: usize = 500;
/// The token bound of tag results (a scenario's tags, or every tag in use): the longest lists
/// are cut to it, most used tags first.
pub const TAGS_TOKEN_BUDGET: usize = 1_000;

/// A list of strings that a client may also send as one string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One string.
    One(String),
    /// A list.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The list; one string is split at commas (entity types, scenario names and ids never
    /// contain one).
    pub fn split(self) -> Vec<String> {
        match self {
            OneOrMany::One(text) => text
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            OneOrMany::Many(list) => list,
        }
    }

    /// The list; one string is one item (a path may contain a comma).
    pub fn whole(self) -> Vec<String> {
        match self {
            OneOrMany::One(text) => vec![text],
            OneOrMany::Many(list) => list,
        }
    }
}

/// A spinner on stderr while one long operation runs; invisible when stderr is not a terminal.
fn spinner(message: impl Into<String>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(message.into());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Runs `f` under a spinner that is cleared whatever the outcome.
fn with_spinner<T>(message: impl Into<String>, f: impl FnOnce() -> T) -> T {
    let bar = spinner(message);
    let result = f();
    bar.finish_and_clear();
    result
}

/// Tags from repeated `--tag`: none given keeps the service's default (the source's tags).
fn tags_option(tags: &[String]) -> Option<Vec<String>> {
    (!tags.is_empty()).then(|| tags.to_vec())
}

/// An extra column of [`counts_table`]: its header and its cell for a table.
type Column<'a> = (&'a str, &'a dyn Fn(&str) -> String);

/// `entities` of one table per row, with extra columns from `more`.
fn counts_table(counts: &BTreeMap<String, u64>, more: &[Column<'_>]) -> String {
    if counts.is_empty() {
        return String::new();
    }
    let mut headers = vec!["type", "entities"];
    headers.extend(more.iter().map(|(h, _)| *h));
    let rows: Vec<Vec<String>> = counts
        .iter()
        .map(|(table, n)| {
            let mut row = vec![table.clone(), n.to_string()];
            row.extend(more.iter().map(|(_, cell)| cell(table)));
            row
        })
        .collect();
    format!("\n{}", output::table(&headers, &rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_or_many() {
        let parse = |v: serde_json::Value| serde_json::from_value::<OneOrMany>(v).ok();
        assert_eq!(
            parse(serde_json::json!("patients, claims,")).map(OneOrMany::split),
            Some(vec!["patients".to_string(), "claims".to_string()])
        );
        assert_eq!(
            parse(serde_json::json!(["a,b"])).map(OneOrMany::split),
            Some(vec!["a,b".to_string()])
        );
        assert_eq!(
            parse(serde_json::json!("dir/with,comma")).map(OneOrMany::whole),
            Some(vec!["dir/with,comma".to_string()])
        );
        assert!(parse(serde_json::json!(3)).is_none());
    }
}
