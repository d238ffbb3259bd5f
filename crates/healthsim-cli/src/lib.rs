//! # healthsim-cli
//!
//! The `healthsim` command (clap) and the MCP stdio server (`healthsim mcp`, rmcp) over
//! `healthsim-persist`. The deterministic synthetic data generator behind `healthsim demo` and
//! `healthsim generate` is its own crate, [`healthsim_synth`].
//!
//! - [`args`]: the command tree; [`app`]: running a command and mapping errors to exit codes.
//! - [`ops`]: the operations, one module each: an operation's MCP tool (parameters, description,
//!   annotations), its command over a [`healthsim_persist::Store`] and its text rendering.
//!   `ops/mod.rs` starts with the recipe for adding a tool.
//! - [`mcp`]: the MCP server: the tool contract, the registry of tools, the idle release of the
//!   database lock, and the line transport on stdio.
//! - [`db`]: the database path and opening it.
//! - [`ingest`]: streaming `persist` input (JSON arrays, type maps, JSON Lines) in batches.
//! - [`output`]: JSON or readable tables on stdout; [`error`]: exit codes and tool errors.
//!
//! Results are the service types of `healthsim-persist` and `healthsim-summary` (their
//! `json-schema` feature gives the MCP tools' output schemas), or small types of the operation
//! that combines them. This is the only crate that knows about argv, terminals, MCP or JSON-RPC.

pub mod app;
pub mod args;
pub mod db;
pub mod error;
pub mod ingest;
pub mod mcp;
pub mod ops;
pub mod output;
