//! The MCP client the end-to-end tests share: `healthsim --db <db> mcp` as a child process,
//! driven by rmcp's real client over stdio.

#![allow(dead_code)] // each test binary uses a different part

use std::path::Path;

use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;

pub(crate) type Client = RunningService<RoleClient, ()>;

/// Starts `healthsim --db <db> mcp` and connects a client (initialize handshake included).
pub(crate) async fn connect(db: &Path) -> Result<Client, Box<dyn std::error::Error>> {
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_healthsim")).configure(|cmd| {
        cmd.arg("--db").arg(db).arg("mcp");
    });
    Ok(().serve(TokioChildProcess::new(command)?).await?)
}

/// A tool call with `args` (an object; anything else sends no arguments).
pub(crate) async fn call(
    client: &Client,
    tool: &str,
    args: Value,
) -> Result<CallToolResult, Box<dyn std::error::Error>> {
    let arguments = match args {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    };
    Ok(client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments))
        .await?)
}

/// The text of a result's first content item (a tool error's message).
pub(crate) fn first_text(result: &CallToolResult) -> String {
    result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}
