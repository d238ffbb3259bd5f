//! Containment: queries run in a worker process, so that a query that crashes the engine,
//! exhausts memory or ignores interruption ends only its worker, never the caller.
//!
//! Some DuckDB functions overflow the stack on deeply nested input, allocate outside DuckDB's
//! memory limit, or run without checking for interruption. Inside the caller's process (the MCP
//! server, the CLI) one such query would kill or stall everything else. A [`WorkerSession`]
//! therefore starts a worker — a program that calls [`worker_main`] — and exchanges one JSON
//! line per query with it over its stdin and stdout. The worker:
//!
//! - starts with an empty environment and `/` as its working directory, and sets
//!   operating-system limits on itself before it reads a request: [`WORKER_ADDRESS_SPACE`] of
//!   address space (a hard backstop), a CPU-time limit, no core files, no writes to regular
//!   files, few file descriptors, and death when its parent dies;
//! - opens the database read-only with [`sandbox_config`](crate::sandbox_config) on its first
//!   request and keeps it open, so paging through a result costs no new process and finds
//!   DuckDB's caches warm;
//! - runs [`run_query`](crate::run_query) up to the page's token budget, with its own timeout
//!   watchdog; the caller fits the page to the budget (building the tokenizer would cost each
//!   new worker tens of milliseconds).
//!
//! The session kills its worker with SIGKILL [`WORKER_GRACE`] after a query's timeout, at once
//! when the caller cancels ([`Cancel`](crate::Cancel)) or the worker's resident memory passes
//! [`WORKER_MEMORY_CEILING`] (sampled every few milliseconds while a query runs, on Linux), and
//! when it is dropped. The caller gets
//! the page or refusal as if the query had run in process, [`Error::Crashed`] when the worker
//! died, [`Error::Timeout`] or [`Error::Cancelled`] when it had to be killed; a session whose
//! worker is gone says so ([`WorkerSession::is_alive`]) and the caller starts a new one.
//! [`run_contained`] is the one-query form. The peak memory of finished workers is the
//! operating system's `RUSAGE_CHILDREN` maximum of the caller.
//!
//! The worker holds the file open (read-only) while its session lives: DuckDB lets no other
//! process write meanwhile, so a writer drops the session first (`healthsim-persist`'s `Store`
//! does). This module does not know where the worker program is: the caller names it with a
//! [`Worker`] (the `healthsim` binary names itself; this crate's tests use its own small
//! `healthsim-query-worker` binary).

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitCode, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::limits::{MAX_QUERY_CHARS, WORKER_ADDRESS_SPACE, WORKER_GRACE, WORKER_MEMORY_CEILING};
use crate::page::{QueryOptions, QueryResult};
use crate::source::Source;

/// The longest response line read from a worker: a page before its token budget is at most
/// [`MAX_LIMIT`](crate::MAX_LIMIT) rows of cells cut to the caller's cell length.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
/// The most bytes kept of a worker's stderr (it explains a crash).
const MAX_STDERR_BYTES: usize = 64 * 1024;
/// The longest request line a worker reads: the query text plus its envelope.
const MAX_REQUEST_BYTES: usize = MAX_QUERY_CHARS * 4 + 64 * 1024;
/// File descriptors a worker may hold: the database file, its pipes, DuckDB's few.
const WORKER_MAX_FILES: u64 = 64;
/// How often a running query's worker has its resident memory sampled.
const MEMORY_POLL: Duration = Duration::from_millis(4);

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

/// One request line a worker reads from stdin.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    source: Source,
    scenario_id: String,
    sql: String,
    limit: Option<usize>,
    offset: usize,
    timeout_ms: u64,
    max_cell_chars: usize,
}

/// One response line a worker writes to stdout.
#[derive(Debug, Serialize, Deserialize)]
enum Response {
    Page(QueryResult),
    Refused(Error),
}

/// Runs one query like [`run_query`](crate::run_query) in a new worker process that opens
/// `database` read-only, and ends the worker. The caller must not hold the file open for
/// writing meanwhile (the worker's open would fail with [`Error::Open`], naming the lock).
pub fn run_contained(
    worker: &Worker,
    database: impl Into<Source>,
    scenario_id: &str,
    sql: &str,
    options: &QueryOptions,
) -> Result<QueryResult, Error> {
    WorkerSession::start(worker, database)?.query(scenario_id, sql, options)
}

/// A running worker process for queries over one database file (see the module header).
#[derive(Debug)]
pub struct WorkerSession {
    child: Child,
    stdin: Option<ChildStdin>,
    responses: mpsc::Receiver<Result<Vec<u8>, String>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    source: Source,
    dead: bool,
}

impl WorkerSession {
    /// Starts a worker for `database` (a file, or a [`Prepared`](crate::Prepared) source whose
    /// environment the worker gets); it opens the source on the first query.
    ///
    /// # Errors
    ///
    /// [`Error::Open`] when the file does not exist, [`Error::Worker`] when the program cannot
    /// be started.
    pub fn start(worker: &Worker, database: impl Into<Source>) -> Result<WorkerSession, Error> {
        let source = match database.into() {
            Source::File(path) => {
                Source::File(std::fs::canonicalize(&path).map_err(|e| Error::Open {
                    detail: format!("{}: {e}", path.display()),
                })?)
            }
            prepared @ Source::Prepared(_) => prepared,
        };
        let env = match &source {
            Source::File(_) => Vec::new(),
            Source::Prepared(prepared) => prepared.env.clone(),
        };
        let mut child = Command::new(&worker.program)
            .args(&worker.args)
            .env_clear()
            .envs(env)
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Worker {
                detail: format!("cannot start {}: {e}", worker.program.display()),
            })?;
        let (sender, responses) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                let mut lines = BufReader::new(stdout);
                loop {
                    match read_line(&mut lines, MAX_RESPONSE_BYTES) {
                        Ok(Some(line)) => {
                            if sender.send(Ok(line)).is_err() {
                                return;
                            }
                        }
                        // End of output: the worker exited (the session learns how).
                        Ok(None) => return,
                        Err(e) => {
                            let _ = sender.send(Err(e.to_string()));
                            return;
                        }
                    }
                }
            });
        }
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(mut pipe) = child.stderr.take() {
            let kept = Arc::clone(&stderr);
            std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                    let mut kept = kept
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let room = MAX_STDERR_BYTES.saturating_sub(kept.len());
                    kept.extend_from_slice(&chunk[..n.min(room)]);
                }
            });
        }
        Ok(WorkerSession {
            stdin: child.stdin.take(),
            child,
            responses,
            stderr,
            source,
            dead: false,
        })
    }

    /// Whether the worker can take another query (it was not killed and has not exited).
    pub fn is_alive(&mut self) -> bool {
        if !self.dead && !matches!(self.child.try_wait(), Ok(None)) {
            self.dead = true;
        }
        !self.dead
    }

    /// Runs one query in the worker: like [`run_query`](crate::run_query), with the worker
    /// killed at `options.timeout` + [`WORKER_GRACE`] or on `options.cancel`.
    ///
    /// # Errors
    ///
    /// The query's own refusals and failures as [`run_query`](crate::run_query) gives them;
    /// [`Error::Crashed`] when the worker died, [`Error::Timeout`] or [`Error::Cancelled`] when
    /// it was killed (the session is dead afterwards), [`Error::Open`] when the worker could
    /// not open the file (another process writes it: retry later), [`Error::Worker`] when the
    /// session is already dead or the worker answered nonsense.
    pub fn query(
        &mut self,
        scenario_id: &str,
        sql: &str,
        options: &QueryOptions,
    ) -> Result<QueryResult, Error> {
        if !self.is_alive() {
            return Err(Error::Worker {
                detail: "the worker process has ended; start a new one".into(),
            });
        }
        let request = Request {
            source: self.source.clone(),
            scenario_id: scenario_id.to_string(),
            sql: sql.to_string(),
            limit: options.limit,
            offset: options.offset,
            timeout_ms: u64::try_from(options.timeout.as_millis()).unwrap_or(u64::MAX),
            max_cell_chars: options.max_cell_chars,
        };
        let sent = match self.stdin.as_mut() {
            Some(stdin) => serde_json::to_vec(&request)
                .map_err(std::io::Error::from)
                .and_then(|mut line| {
                    line.push(b'\n');
                    stdin.write_all(&line)?;
                    stdin.flush()
                }),
            None => Err(std::io::Error::other("no stdin")),
        };
        if sent.is_err() {
            // The worker is gone; how it ended says why.
            return Err(self.ended(options));
        }
        let deadline = Instant::now() + options.timeout + WORKER_GRACE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.responses.recv_timeout(left.min(MEMORY_POLL)) {
                Ok(Ok(line)) => {
                    return match serde_json::from_slice::<Response>(&line) {
                        Ok(Response::Page(page)) => crate::page::fit_page(page, options),
                        Ok(Response::Refused(error)) => Err(error),
                        Err(e) => {
                            self.kill();
                            Err(Error::Worker {
                                detail: format!("unreadable response: {e}"),
                            })
                        }
                    }
                }
                Ok(Err(detail)) => {
                    self.kill();
                    return Err(Error::Worker { detail });
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err(self.ended(options)),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let cancelled = options
                        .cancel
                        .as_ref()
                        .is_some_and(crate::Cancel::is_cancelled);
                    if cancelled {
                        self.kill();
                        return Err(Error::Cancelled);
                    }
                    if Instant::now() >= deadline {
                        self.kill();
                        return Err(Error::Timeout {
                            seconds: options.timeout.as_secs_f64(),
                        });
                    }
                    if resident_bytes(self.child.id()).is_some_and(|r| r > WORKER_MEMORY_CEILING) {
                        self.kill();
                        return Err(Error::Crashed {
                            how: format!(
                                "it used more than its {} MB of memory",
                                WORKER_MEMORY_CEILING / 1_000_000
                            ),
                        });
                    }
                }
            }
        }
    }

    /// Kills the worker (SIGKILL) and reaps it.
    fn kill(&mut self) {
        self.dead = true;
        self.stdin = None;
        // The child is not reaped until `wait` below, so the signal cannot reach another
        // process; an already exited child makes `kill` fail harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The error for a worker that stopped answering on its own.
    fn ended(&mut self, options: &QueryOptions) -> Error {
        self.dead = true;
        self.stdin = None;
        let status = self.child.wait();
        let stderr = self
            .stderr
            .lock()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        match status {
            Ok(status) => ended_because(status, &stderr, options),
            Err(e) => Error::Worker {
                detail: format!("cannot wait for the worker: {e}"),
            },
        }
    }
}

impl Drop for WorkerSession {
    fn drop(&mut self) {
        if !self.dead {
            self.kill();
        }
    }
}

/// The resident set of process `pid` in bytes, from `/proc/<pid>/statm` (Linux; `None`
/// elsewhere, where only the address-space limit bounds a worker).
fn resident_bytes(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    let page_size = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .and_then(|size| u64::try_from(size).ok())
        .unwrap_or(4096);
    Some(pages * page_size)
}

/// Why a worker ended without answering (it was not killed by its session).
fn ended_because(status: ExitStatus, stderr: &str, options: &QueryOptions) -> Error {
    use std::os::unix::process::ExitStatusExt;
    if let Some(signal) = status.signal() {
        if signal == Signal::SIGXCPU as i32 {
            return Error::Timeout {
                seconds: options.timeout.as_secs_f64(),
            };
        }
        let name = Signal::try_from(signal).map_or("an unknown signal", Signal::as_str);
        return Error::Crashed {
            how: format!("killed by signal {signal}, {name}"),
        };
    }
    let how = if stderr.contains("memory allocation") {
        format!(
            "it needed more than its {} MB of address space",
            WORKER_ADDRESS_SPACE / 1_000_000
        )
    } else {
        format!("it exited with {status} without answering")
    };
    Error::Crashed { how }
}

/// Reads one line (without its newline) of at most `max` bytes; `None` at the end of input.
fn read_line(reader: &mut impl BufRead, max: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let read = reader.by_ref().take(limit).read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    } else if line.len() > max {
        return Err(std::io::Error::other(format!(
            "a line longer than {max} bytes"
        )));
    }
    Ok(Some(line))
}

/// The worker's side: reads request lines from stdin until it ends, answers each with one
/// response line on stdout. A program that serves as a [`Worker`] calls this from `main` and
/// returns its exit code.
///
/// Exit code 0 when stdin ends; 2 when a line is not a request (the program was not started
/// by a [`WorkerSession`]) or the limits cannot be set; 1 when stdout is gone.
pub fn worker_main() -> ExitCode {
    if let Err(e) = limit_self() {
        eprintln!("query worker: cannot set its resource limits: {e}");
        return ExitCode::from(2);
    }
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut out = std::io::stdout().lock();
    let mut open: Option<(Source, duckdb::Connection)> = None;
    loop {
        let line = match read_line(&mut input, MAX_REQUEST_BYTES) {
            Ok(Some(line)) => line,
            Ok(None) => return ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("query worker: cannot read a request: {e}");
                return ExitCode::from(2);
            }
        };
        let request: Request = match serde_json::from_slice(&line) {
            Ok(request) => request,
            Err(e) => {
                eprintln!(
                    "query worker: not a request ({e}); this program is started by the query \
                     sandbox"
                );
                return ExitCode::from(2);
            }
        };
        let response = match serve(&mut open, &request) {
            Ok(page) => Response::Page(page),
            Err(error) => Response::Refused(portable(error)),
        };
        let written = serde_json::to_vec(&response)
            .map_err(std::io::Error::from)
            .and_then(|mut line| {
                line.push(b'\n');
                out.write_all(&line)?;
                out.flush()
            });
        if let Err(e) = written {
            eprintln!("query worker: cannot write a response: {e}");
            return ExitCode::from(1);
        }
    }
}

/// The worker's limits, set before it reads a request: address space (a backstop for the
/// session's [`WORKER_MEMORY_CEILING`]), CPU time (a backstop for the parent's kill), no core
/// files, no writes to regular files, few file descriptors, and SIGKILL when the parent dies.
fn limit_self() -> nix::Result<()> {
    use nix::sys::resource::{setrlimit, Resource};
    // A backstop only: the session kills its worker at each query's deadline. A long-lived
    // worker accumulates CPU time over many queries, so this is generous.
    const CPU_SECONDS: u64 = 3600;
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

/// Runs one request, opening (or reopening, for another file) the read-only connection.
fn serve(
    open: &mut Option<(Source, duckdb::Connection)>,
    request: &Request,
) -> Result<QueryResult, Error> {
    let reuse = open
        .as_ref()
        .is_some_and(|(source, _)| *source == request.source);
    if !reuse {
        *open = None;
        let conn = crate::open_sandbox(&request.source)?;
        *open = Some((request.source.clone(), conn));
    }
    let Some((_, conn)) = open.as_ref() else {
        return Err(Error::Worker {
            detail: "no open database".into(),
        });
    };
    let options = QueryOptions {
        limit: request.limit,
        offset: request.offset,
        timeout: Duration::from_millis(request.timeout_ms),
        max_cell_chars: request.max_cell_chars,
        cancel: None,
    };
    crate::run::run_query_unbudgeted(conn, &request.scenario_id, &request.sql, &options)
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
