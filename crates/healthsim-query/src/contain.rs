//! Containment: every query in a worker process of its own, so that a query that crashes the
//! engine, exhausts memory or ignores interruption ends only that query.
//!
//! Some DuckDB functions overflow the stack on deeply nested input, allocate outside DuckDB's
//! memory limit, or run without checking for interruption. Inside the caller's process (the MCP
//! server, the CLI) one such query would kill or stall everything else. [`run_contained`]
//! therefore starts a short-lived worker — a program that calls [`worker_main`] — hands it one
//! request on stdin and reads one response on stdout. The worker:
//!
//! - opens the database read-only with [`sandbox_config`](crate::sandbox_config) and runs
//!   [`run_query`](crate::run_query), with its own timeout watchdog;
//! - starts with an empty environment and `/` as its working directory, and sets
//!   operating-system limits on itself before it reads its request: [`WORKER_ADDRESS_SPACE`] of
//!   address space (so resident memory can never exceed it), a CPU-time limit, no core files,
//!   no writes to regular files, few file descriptors, and death when its parent dies;
//! - is killed with SIGKILL [`WORKER_GRACE`] after the query's timeout, or at once when the
//!   caller cancels ([`Cancel`](crate::Cancel)).
//!
//! The caller gets the worker's page or refusal as if the query had run in process, or
//! [`Error::Crashed`] when the worker died, [`Error::Timeout`] when it had to be killed. The cost
//! is one process start and one database open per query (see docs/performance.md). The peak
//! memory of finished workers is the operating system's `RUSAGE_CHILDREN` maximum of the caller.
//!
//! This module does not know where the worker program is: the caller names it with a
//! [`Worker`] (the `healthsim` binary names itself; this crate's tests use its own small
//! `healthsim-query-worker` binary).

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use crate::cancel::CANCEL_POLL;
use crate::error::Error;
use crate::limits::{MAX_QUERY_CHARS, WORKER_ADDRESS_SPACE, WORKER_GRACE};
use crate::page::{QueryOptions, QueryResult};

/// The most bytes read from a worker's stdout: a page is bounded by
/// [`PAGE_TOKEN_BUDGET`](crate::PAGE_TOKEN_BUDGET) tokens, far below this.
const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;
/// The most bytes kept of a worker's stderr (it explains a crash).
const MAX_STDERR_BYTES: u64 = 64 * 1024;
/// The most bytes a worker reads from stdin: the query text plus its envelope.
const MAX_REQUEST_BYTES: u64 = (MAX_QUERY_CHARS as u64) * 4 + 64 * 1024;
/// File descriptors a worker may hold: the database file, its pipes, DuckDB's few.
const WORKER_MAX_FILES: u64 = 64;

/// How to start a worker: a program and its arguments; the program must call [`worker_main`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worker {
    program: PathBuf,
    args: Vec<OsString>,
}

impl Worker {
    /// A worker started as `program args...`.
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        Self {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
        }
    }

    /// The program that is started.
    pub fn program(&self) -> &Path {
        &self.program
    }
}

/// The request a worker reads from stdin.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    database: PathBuf,
    scenario_id: String,
    sql: String,
    limit: Option<usize>,
    offset: usize,
    timeout_ms: u64,
    max_cell_chars: usize,
}

/// The response a worker writes to stdout.
#[derive(Debug, Serialize, Deserialize)]
enum Response {
    Page(QueryResult),
    Refused(Error),
}

/// Runs one query like [`run_query`](crate::run_query), in a new worker process that opens
/// `database` read-only. The caller must not hold the file open for writing meanwhile (DuckDB
/// would refuse the worker's open: [`Error::Open`], which names the lock).
pub fn run_contained(
    worker: &Worker,
    database: &Path,
    scenario_id: &str,
    sql: &str,
    options: &QueryOptions,
) -> Result<QueryResult, Error> {
    let database = match std::fs::canonicalize(database) {
        Ok(path) => path,
        Err(e) => {
            return Err(Error::Open {
                detail: format!("{}: {e}", database.display()),
            })
        }
    };
    let request = Request {
        database,
        scenario_id: scenario_id.to_string(),
        sql: sql.to_string(),
        limit: options.limit,
        offset: options.offset,
        timeout_ms: u64::try_from(options.timeout.as_millis()).unwrap_or(u64::MAX),
        max_cell_chars: options.max_cell_chars,
    };
    let mut child = match spawn(worker) {
        Ok(child) => child,
        Err(e) => {
            return Err(Error::Worker {
                detail: format!("cannot start {}: {e}", worker.program.display()),
            })
        }
    };
    let stdout = collect(child.stdout.take(), MAX_RESPONSE_BYTES);
    let stderr = collect(child.stderr.take(), MAX_STDERR_BYTES);
    // A worker that died before reading its request makes this write fail; the exit status
    // below says why, so the write error itself is not reported.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = serde_json::to_writer(&mut stdin, &request)
            .map_err(std::io::Error::from)
            .and_then(|()| stdin.flush());
    }
    let (status, stop) = wait(child, options);
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match (stop, status) {
        (Stop::Deadline, _) => Err(Error::Timeout {
            seconds: options.timeout.as_secs_f64(),
        }),
        (Stop::Cancelled, _) => Err(Error::Cancelled),
        (Stop::Exited, Ok(status)) => interpret(status, &stdout, &stderr, options),
        (Stop::Exited, Err(e)) => Err(Error::Worker {
            detail: format!("cannot wait for the worker: {e}"),
        }),
    }
}

/// How the wait ended.
enum Stop {
    Exited,
    Deadline,
    Cancelled,
}

/// Starts the worker; its stdio are pipes. The worker limits itself before it reads its
/// request ([`limit_self`]).
fn spawn(worker: &Worker) -> std::io::Result<Child> {
    Command::new(&worker.program)
        .args(&worker.args)
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// Reads a pipe to its end on a thread of its own, keeping at most `max` bytes.
fn collect<R: Read + Send + 'static>(
    pipe: Option<R>,
    max: u64,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(pipe) = pipe {
            let mut pipe = pipe.take(max);
            let _ = pipe.read_to_end(&mut bytes);
            // Drain the rest so the worker never blocks on a full pipe.
            let _ = std::io::copy(&mut pipe.into_inner(), &mut std::io::sink());
        }
        bytes
    })
}

/// Waits for the worker to exit, killing it at the deadline or on cancellation.
fn wait(mut child: Child, options: &QueryOptions) -> (std::io::Result<ExitStatus>, Stop) {
    let deadline = Instant::now() + options.timeout + WORKER_GRACE;
    let mut stop = Stop::Exited;
    // Most queries end within milliseconds: look often at first, then less often.
    let mut pause = Duration::from_micros(200);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return (Ok(status), stop),
            Ok(None) => {}
            Err(e) => return (Err(e), stop),
        }
        let cancelled = options
            .cancel
            .as_ref()
            .is_some_and(crate::Cancel::is_cancelled);
        if matches!(stop, Stop::Exited) && (cancelled || Instant::now() >= deadline) {
            stop = if cancelled {
                Stop::Cancelled
            } else {
                Stop::Deadline
            };
            // SIGKILL; the child is not reaped yet, so the signal cannot reach another process.
            let _ = child.kill();
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(CANCEL_POLL);
    }
}

/// The outcome of a worker that exited on its own (or was killed by a signal we did not send).
fn interpret(
    status: ExitStatus,
    stdout: &[u8],
    stderr: &[u8],
    options: &QueryOptions,
) -> Result<QueryResult, Error> {
    use std::os::unix::process::ExitStatusExt;
    if let Some(signal) = status.signal() {
        if signal == Signal::SIGXCPU as i32 {
            return Err(Error::Timeout {
                seconds: options.timeout.as_secs_f64(),
            });
        }
        let name = Signal::try_from(signal).map_or("an unknown signal", Signal::as_str);
        return Err(Error::Crashed {
            how: format!("killed by signal {signal}, {name}"),
        });
    }
    match serde_json::from_slice::<Response>(stdout) {
        Ok(Response::Page(page)) if status.success() => Ok(page),
        Ok(Response::Refused(error)) if status.success() => Err(error),
        _ if !status.success() && stdout.is_empty() => {
            let said = String::from_utf8_lossy(stderr);
            let how = if said.contains("memory allocation") {
                format!(
                    "it needed more than its {} MB of memory",
                    WORKER_ADDRESS_SPACE / 1_000_000
                )
            } else {
                status.code().map_or_else(
                    || "it ended without an answer".to_string(),
                    |code| format!("exit code {code}"),
                )
            };
            Err(Error::Crashed { how })
        }
        _ => Err(Error::Worker {
            detail: format!(
                "unreadable response ({status}): {}",
                String::from_utf8_lossy(&stdout[..stdout.len().min(200)])
            ),
        }),
    }
}

/// The worker's side: reads one request from stdin, runs it, writes one response to stdout.
/// A program that serves as a [`Worker`] calls this from `main` and returns its exit code.
///
/// Exit code 0 with a response for every query, refused or not; 2 when the request itself
/// cannot be read (not a call from [`run_contained`]).
pub fn worker_main() -> ExitCode {
    if let Err(e) = limit_self() {
        eprintln!("query worker: cannot set its resource limits: {e}");
        return ExitCode::from(2);
    }
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin()
        .lock()
        .take(MAX_REQUEST_BYTES)
        .read_to_end(&mut input)
    {
        eprintln!("query worker: cannot read the request: {e}");
        return ExitCode::from(2);
    }
    let request: Request = match serde_json::from_slice(&input) {
        Ok(request) => request,
        Err(e) => {
            eprintln!(
                "query worker: not a request ({e}); this program is started by the query sandbox"
            );
            return ExitCode::from(2);
        }
    };
    let response = match serve(&request) {
        Ok(page) => Response::Page(page),
        Err(error) => Response::Refused(portable(error)),
    };
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut out, &response)
        .map_err(std::io::Error::from)
        .and_then(|()| out.flush());
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("query worker: cannot write the response: {e}");
            ExitCode::from(1)
        }
    }
}

/// The worker's limits, set before it reads its request: address space (so resident memory
/// never exceeds [`WORKER_ADDRESS_SPACE`]), CPU time (a backstop for the parent's kill), no core
/// files, no writes to regular files, few file descriptors, and SIGKILL when the parent dies.
fn limit_self() -> nix::Result<()> {
    use nix::sys::resource::{setrlimit, Resource};
    // Both of DuckDB's threads busy for the longest timeout a caller sets in practice, plus
    // start-up; the parent kills the worker at its own deadline long before.
    const CPU_SECONDS: u64 = 120;
    setrlimit(
        Resource::RLIMIT_AS,
        WORKER_ADDRESS_SPACE,
        WORKER_ADDRESS_SPACE,
    )?;
    setrlimit(Resource::RLIMIT_CPU, CPU_SECONDS, CPU_SECONDS)?;
    setrlimit(Resource::RLIMIT_CORE, 0, 0)?;
    setrlimit(Resource::RLIMIT_FSIZE, 0, 0)?;
    setrlimit(Resource::RLIMIT_NOFILE, WORKER_MAX_FILES, WORKER_MAX_FILES)?;
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)
}

fn serve(request: &Request) -> Result<QueryResult, Error> {
    let config = crate::sandbox_config().map_err(|e| Error::Worker {
        detail: format!("sandbox configuration: {e}"),
    })?;
    let conn = duckdb::Connection::open_with_flags(&request.database, config).map_err(|e| {
        Error::Open {
            detail: e.to_string(),
        }
    })?;
    let options = QueryOptions {
        limit: request.limit,
        offset: request.offset,
        timeout: Duration::from_millis(request.timeout_ms),
        max_cell_chars: request.max_cell_chars,
        cancel: None,
    };
    crate::run_query(&conn, &request.scenario_id, &request.sql, &options)
}

/// The sandbox's own failures carry a DuckDB or OS error that does not cross a pipe: they
/// travel as their message.
fn portable(error: Error) -> Error {
    match error {
        Error::Database { .. } | Error::Watchdog { .. } => Error::Worker {
            detail: error.to_string(),
        },
        other => other,
    }
}
