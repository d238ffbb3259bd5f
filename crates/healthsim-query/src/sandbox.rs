//! The sandboxed connection and the timeout: the parts enforced by DuckDB itself, below any
//! parsing.
//!
//! [`sandbox_config`] is the first line of defence: a read-only instance with no external access,
//! no extensions, no spilling, bounded memory and threads, and the configuration locked. Even a
//! statement the checks misjudged cannot write, touch the file system or the network, or change
//! a setting. What it cannot do is keep a query inside *its scenario* or away from the state
//! tables: those are ordinary tables of the same file ([`crate::scope`] does that).
//!
//! The [`Watchdog`] interrupts the connection once a query outlives its time or is cancelled.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use duckdb::{AccessMode, Config, Connection};

use crate::cancel::{Cancel, CANCEL_POLL};
use crate::error::Error;

/// The configuration a sandboxed query connection is opened with:
/// `Connection::open_with_flags(path, sandbox_config()?)`.
///
/// Read-only access, no external access (files, network, `ATTACH` of files), no extension
/// installing or loading, no temp-file spilling, 1 GB of memory, 2 threads, and the
/// configuration locked so that no statement can change any of it.
pub fn sandbox_config() -> Result<Config, duckdb::Error> {
    limits(Config::default().access_mode(AccessMode::ReadOnly)?)?
        .enable_external_access(false)?
        // Last: after this no setting changes, from us or from a query.
        .with("lock_configuration", "true")
}

/// Every sandbox setting except read-only access, external access and the lock: what an
/// in-memory instance needs before a [`Prepared`](crate::Prepared) source attaches its data
/// (which needs external access), after which [`open_sandbox`](crate::open_sandbox) seals it.
pub(crate) fn limits(config: Config) -> Result<Config, duckdb::Error> {
    config
        // Spilling off. DuckDB refuses to change the temp directory once external access is
        // disabled, so these two come before `enable_external_access`.
        .with("temp_directory", "")?
        .with("max_temp_directory_size", "0B")?
        .with("autoinstall_known_extensions", "false")?
        .with("autoload_known_extensions", "false")?
        .with("allow_community_extensions", "false")?
        .with("allow_unsigned_extensions", "false")?
        .with("memory_limit", "1GB")?
        .threads(2)
}

/// Why the [`Watchdog`] interrupted the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The query ended on its own.
    Finished,
    /// The deadline passed.
    Deadline,
    /// The caller's [`Cancel`] handle was used.
    Cancelled,
}

const FINISHED: u8 = 0;
const DEADLINE: u8 = 1;
const CANCELLED: u8 = 2;

/// Interrupts the connection's running query once the deadline passes or the caller cancels it.
pub(crate) struct Watchdog {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    fired: Arc<AtomicU8>,
}

impl Watchdog {
    pub(crate) fn start(
        conn: &Connection,
        timeout: Duration,
        cancel: Option<Cancel>,
    ) -> Result<Watchdog, Error> {
        let interrupt = conn.interrupt_handle();
        let (stop, stopped) = mpsc::channel::<()>();
        let fired = Arc::new(AtomicU8::new(FINISHED));
        let flag = Arc::clone(&fired);
        let thread = std::thread::Builder::new()
            .name("healthsim-query-watchdog".into())
            .spawn(move || {
                let deadline = Instant::now() + timeout;
                loop {
                    let left = deadline.saturating_duration_since(Instant::now());
                    // Without a cancel handle there is nothing to poll: one wait to the deadline.
                    let wait = if cancel.is_some() {
                        left.min(CANCEL_POLL)
                    } else {
                        left
                    };
                    match stopped.recv_timeout(wait) {
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                        // Stopped (or the run is gone): the query ended by itself.
                        _ => return,
                    }
                    let why = if cancel.as_ref().is_some_and(Cancel::is_cancelled) {
                        CANCELLED
                    } else if Instant::now() >= deadline {
                        DEADLINE
                    } else {
                        continue;
                    };
                    flag.store(why, Ordering::SeqCst);
                    interrupt.interrupt();
                    return;
                }
            })
            .map_err(|source| Error::Watchdog { source })?;
        Ok(Watchdog {
            stop: Some(stop),
            thread: Some(thread),
            fired,
        })
    }

    /// Stops the watchdog and says whether (and why) it had interrupted the query.
    pub(crate) fn stop(mut self) -> Stop {
        self.shutdown();
        match self.fired.load(Ordering::SeqCst) {
            DEADLINE => Stop::Deadline,
            CANCELLED => Stop::Cancelled,
            _ => Stop::Finished,
        }
    }

    fn shutdown(&mut self) {
        // Dropping the sender wakes the thread, which then exits without interrupting.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            // The thread only waits and interrupts; it cannot panic in practice, and if it did
            // there would be nothing left to clean up.
            let _ = thread.join();
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.shutdown();
    }
}
