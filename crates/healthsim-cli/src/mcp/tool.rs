//! The contract between the MCP server and the operation modules: a [`Tool`] (name,
//! description, annotations from its [`Effect`], parameters, result, what a call does), the
//! [`ToolContext`] a call gets, and the [`Backend`] behind it (the store opened on demand and
//! released when idle). The operation modules depend on this module only, never on the server
//! that registers them.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use healthsim_persist::Store;
use rmcp::model::ToolAnnotations;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::db::DbConfig;
use crate::error::{CliError, CliResult};

/// What a tool does to its environment (the database, and the files it writes), as the MCP
/// annotations say it. Every tool's world is closed (`openWorldHint` false). `destructiveHint`
/// follows the MCP spec: true unless the tool only ever adds (a tool that may replace, overwrite
/// or remove anything that existed before is destructive). `idempotentHint`: a second call with
/// the same arguments changes nothing more; `tests/mcp.rs` calls every idempotent tool twice and
/// compares the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Reads only: the database and the files are as they were.
    ReadOnly,
    /// Only adds (a scenario, a tag, files that did not exist); never replaces or removes
    /// anything.
    Adds {
        /// Whether repeating the call has no further effect.
        idempotent: bool,
    },
    /// May replace, overwrite or remove what existed (an entity re-sent with its id, a file,
    /// a name, a tag, a scenario).
    Changes {
        /// Whether repeating the call has no further effect.
        idempotent: bool,
    },
}

impl Effect {
    /// The tool's annotations with `title`.
    pub(crate) fn annotations(self, title: &str) -> ToolAnnotations {
        let title = Some(title.to_string());
        let (destructive, idempotent) = match self {
            Effect::ReadOnly => {
                return ToolAnnotations::from_raw(title, Some(true), None, None, Some(false))
            }
            Effect::Adds { idempotent } => (false, idempotent),
            Effect::Changes { idempotent } => (true, idempotent),
        };
        ToolAnnotations::from_raw(
            title,
            Some(false),
            Some(destructive),
            Some(idempotent),
            Some(false),
        )
    }
}

/// One MCP tool: its name, description, annotations, parameters and result, and what a call
/// does. Implemented by the operation modules in [`crate::ops`]; registered in `registry`.
pub trait Tool: 'static {
    /// The tool's name.
    const NAME: &'static str;
    /// The `healthsim` command that does the same (`"tag add"` for `add_tag`), so the
    /// command line, the tools and the documentation can be checked against each other.
    const COMMAND: &'static str;
    /// The annotations' human title.
    const TITLE: &'static str;
    /// What the tool does to the database.
    const EFFECT: Effect;
    /// What the agent reads to decide when and how to call it (the server appends the result's
    /// bound, [`Tool::MAX_RESULT_TOKENS`]).
    const DESCRIPTION: &'static str;
    /// The most tokens (cl100k_base) a result of this tool can take, as its JSON text: every
    /// result passes through the server's one check of it (`server::finish`), which refuses a
    /// larger one with a message naming the bound. The tool itself keeps its results under it
    /// (pages, counts with a maximum, cut values), so the check is the backstop, and
    /// `tests/mcp.rs` measures each tool's worst case against it.
    const MAX_RESULT_TOKENS: usize;
    /// The arguments (their doc comments are the input schema's descriptions).
    type Params: DeserializeOwned + JsonSchema + Send + 'static;
    /// The structured result (its doc comments are the output schema's descriptions).
    type Output: Serialize + JsonSchema + Send + 'static;

    /// Runs a call. Work on the database goes through [`ToolContext::run`] (the blocking pool,
    /// the store opened on demand); checks of the arguments come before it, so a bad argument
    /// fails without touching the database.
    fn call(
        context: ToolContext,
        params: Self::Params,
    ) -> impl Future<Output = CliResult<Self::Output>> + Send;
}

/// What a tool call can use: the database, opened on demand, and the call's cancellation
/// (fired when the client sends notifications/cancelled for it).
#[derive(Debug, Clone)]
pub struct ToolContext {
    backend: Arc<Backend>,
    cancelled: CancellationToken,
}

impl ToolContext {
    /// The context of a call served by `backend`, cancelled through `cancelled`.
    pub(crate) fn new(backend: Arc<Backend>, cancelled: CancellationToken) -> Self {
        Self { backend, cancelled }
    }

    /// The call's cancellation token.
    pub fn cancelled(&self) -> &CancellationToken {
        &self.cancelled
    }

    /// Runs `f` with the store on the blocking pool (see [`Backend::run`]).
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> CliResult<T> + Send + 'static,
    ) -> CliResult<T> {
        self.backend.run(f).await
    }

    /// A path an agent gave: `~/...` is under `$HOME`, and a relative path is relative to the
    /// database's folder, because the server's working directory is wherever the client
    /// happened to start it (`/` for Claude Desktop on macOS). An empty path stays empty (and is
    /// refused).
    pub fn user_path(&self, given: &str) -> PathBuf {
        user_path(&self.backend.config.target.folder(), given)
    }
}

/// `given` as a path on this machine: `~/` is the home folder, and a relative path starts at
/// `folder` (the database's, [`healthsim_persist::target::Target::folder`]).
fn user_path(folder: &Path, given: &str) -> PathBuf {
    if given.trim().is_empty() {
        return PathBuf::new();
    }
    let home = || std::env::var_os("HOME").filter(|h| !h.is_empty());
    if let Some(rest) = given.strip_prefix("~/") {
        if let Some(home) = home() {
            return PathBuf::from(home).join(rest);
        }
    }
    let path = Path::new(given);
    if path.is_relative() && !folder.as_os_str().is_empty() {
        folder.join(path)
    } else {
        path.to_path_buf()
    }
}

/// The store, opened lazily and released when idle.
#[derive(Debug)]
pub struct Backend {
    config: DbConfig,
    idle: Duration,
    store: Mutex<Option<Arc<Store>>>,
    /// Bumped when a call starts and when it ends; a release timer fires only if nothing
    /// happened since it was armed.
    activity: AtomicU64,
    /// Calls running now; the store is never released under one.
    in_flight: AtomicU64,
}

impl Backend {
    /// A backend on `config` that releases the database after `idle` without calls.
    pub fn new(config: DbConfig, idle: Duration) -> Self {
        Self {
            config,
            idle,
            store: Mutex::new(None),
            activity: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
        }
    }

    fn store(&self) -> CliResult<Arc<Store>> {
        let mut slot = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(store) = slot.as_ref() {
            return Ok(store.clone());
        }
        let store = Arc::new(self.config.open()?);
        *slot = Some(store.clone());
        Ok(store)
    }

    /// Runs `f` with the store on the blocking pool, then arms the idle release.
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Store) -> CliResult<T> + Send + 'static,
    ) -> CliResult<T> {
        // Ends the call even when the client cancels it and this future is dropped.
        let _call = CallGuard::start(self.clone());
        let backend = self.clone();
        tokio::task::spawn_blocking(move || {
            let store = backend.store()?;
            f(&store)
        })
        .await
        .unwrap_or_else(|e| Err(CliError::failure(format!("the operation failed: {e}"))))
    }

    fn release_when_idle(self: &Arc<Self>, mark: u64) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // shutting down: the store closes when dropped
        };
        let backend = self.clone();
        runtime.spawn(async move {
            tokio::time::sleep(backend.idle).await;
            let idle = backend.in_flight.load(Ordering::SeqCst) == 0
                && backend.activity.load(Ordering::SeqCst) == mark;
            if !idle {
                return; // another call started or ended since: its own timer decides
            }
            let store = backend
                .store
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            if let Some(store) = store {
                // Closing may checkpoint the database: blocking work.
                let _ = tokio::task::spawn_blocking(move || store.release()).await;
            }
        });
    }
}

/// One call in flight; when it ends, the idle release is armed.
struct CallGuard {
    backend: Arc<Backend>,
}

impl CallGuard {
    fn start(backend: Arc<Backend>) -> Self {
        backend.activity.fetch_add(1, Ordering::SeqCst);
        backend.in_flight.fetch_add(1, Ordering::SeqCst);
        Self { backend }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        self.backend.in_flight.fetch_sub(1, Ordering::SeqCst);
        let mark = self.backend.activity.fetch_add(1, Ordering::SeqCst) + 1;
        self.backend.release_when_idle(mark);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use healthsim_persist::target::Target;

    fn check_path(database: &str, given: &str, expected: &str) {
        let target = Target::parse(database).expect("a database name");
        assert_eq!(
            user_path(&target.folder(), given),
            PathBuf::from(expected),
            "{database} + {given}"
        );
    }

    #[test]
    fn agent_paths_are_relative_to_the_database_folder() {
        check_path(
            "/data/hs/healthsim.duckdb",
            "exports/a.json",
            "/data/hs/exports/a.json",
        );
        check_path("/data/hs/healthsim.duckdb", "./out", "/data/hs/./out");
        check_path("/data/hs/healthsim.duckdb", "/tmp/out", "/tmp/out");
        check_path("healthsim.duckdb", "out", "out");
        // '..' survives, so the service refuses it as it would refuse it from the CLI.
        check_path("/data/hs/healthsim.duckdb", "../x", "/data/hs/../x");
        check_path("/data/hs/healthsim.duckdb", "  ", "");
        if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            let home = PathBuf::from(home);
            assert_eq!(
                user_path(Path::new("/data/hs"), "~/exports"),
                home.join("exports")
            );
            // A lake's data folder is the lake's: its paths start at ~/.healthsim.
            let lake = "ducklake:postgres:dbname=lake data_path=/shared/lake/";
            let expected = home.join(".healthsim/exports/a.json");
            check_path(lake, "exports/a.json", &expected.display().to_string());
        }
    }
}
