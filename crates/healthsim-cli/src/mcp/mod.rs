//! The MCP stdio server (`healthsim mcp`): the service's operations as tools for an agent.
//!
//! - stdout carries only protocol messages (the line transport in `transport.rs`); nothing else
//!   here prints.
//! - Every tool returns structured content (with an `outputSchema`) on success, and a tool error
//!   (`isError: true`, the message saying what to fix) on any failure, including arguments that
//!   do not match the input schema. The server never exits because of a tool call.
//! - The tools themselves live in [`crate::ops`], one module per operation, each implementing
//!   [`Tool`]; [`server`] registers them (one line each) and runs them.
//! - The database lock is held only during bursts of calls: the [`Backend`] opens the
//!   [`Store`](healthsim_persist::Store) on the first call and releases its connection after
//!   [`IDLE_RELEASE`] without calls, so the CLI and other servers can use the same file in
//!   between.
//! - DuckDB work runs on tokio's blocking pool; the `Store` serializes operations itself.
//! - Paths that tools take (export, import, FHIR import) are on the server's machine; a
//!   relative one is relative to the database's folder, not to the working directory the client
//!   happened to start the server in ([`ToolContext::user_path`]).

pub mod arguments;
pub mod server;
pub mod tool;
mod transport;

use std::time::Duration;

pub use server::HealthsimServer;
pub use tool::{Backend, Effect, Tool, ToolContext};

use crate::db::DbConfig;
use crate::error::{CliError, CliResult};

/// How long the server keeps the database open after the last call.
pub const IDLE_RELEASE: Duration = Duration::from_secs(1);

/// Runs the server on stdin/stdout until the client disconnects.
pub fn serve_stdio(config: DbConfig) -> CliResult<()> {
    use rmcp::ServiceExt;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("cannot start the async runtime: {e}")))?;
    // stderr only: stdout belongs to the protocol.
    eprintln!(
        "healthsim mcp {}: serving {} on stdio",
        env!("CARGO_PKG_VERSION"),
        config.target
    );
    runtime.block_on(async move {
        let server = HealthsimServer::new(config, IDLE_RELEASE);
        let transport = transport::line_transport(
            tokio::io::BufReader::new(tokio::io::stdin()),
            tokio::io::stdout(),
        );
        let running = server
            .serve((transport.sink, transport.stream))
            .await
            .map_err(|e| CliError::failure(format!("MCP session failed to start: {e}")))?;
        running
            .waiting()
            .await
            .map_err(|e| CliError::failure(format!("MCP session ended abnormally: {e}")))?;
        // Every answer is written before the process ends.
        transport
            .writer
            .await
            .map_err(|e| CliError::failure(format!("the MCP writer failed: {e}")))?
            .map_err(|e| CliError::failure(format!("cannot write MCP messages: {e}")))?;
        Ok(())
    })
}
