//! # healthsim-cli
//!
//! The `healthsim` command (clap) and the MCP stdio server (`healthsim mcp`, rmcp) over
//! `healthsim-persist`. The deterministic synthetic data generator behind `healthsim demo` and
//! `healthsim generate` is its own crate, [`healthsim_synth`].
//!
//! - [`args`]: the command tree; [`app`]: running a command and mapping errors to exit codes.
//! - [`commands`]: the scenario commands over a [`healthsim_persist::Store`]; [`transfer`]:
//!   clone, merge, export, import and import-fhir; [`db`]: the database path, opening it,
//!   `db status|migrate`; [`demo`]: `healthsim demo`; [`generate`]: `healthsim generate`.
//! - [`mcp`]: the MCP server, its tools and the idle release of the database lock.
//! - [`views`]: the result shapes of commands and tools (JSON Schemas for MCP outputs).
//! - [`ingest`]: streaming `persist` input (JSON arrays, type maps, JSON Lines) in batches.
//! - [`describe`]: `describe_schema` / `healthsim schema` from the entity registry.
//! - [`output`]: JSON or readable tables on stdout; [`error`]: exit codes and tool errors.
//!
//! This is the only crate that knows about argv, terminals, MCP or JSON-RPC.

pub mod app;
pub mod args;
pub mod commands;
pub mod db;
pub mod demo;
pub mod describe;
pub mod error;
pub mod generate;
pub mod ingest;
pub mod mcp;
mod mcp_transport;
pub mod output;
pub mod transfer;
pub mod views;
