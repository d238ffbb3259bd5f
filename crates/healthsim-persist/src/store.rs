//! [`Store`]: the handle on one database (a file, or a DuckLake: [`Target`]), its held
//! connection and the file lock.
//!
//! DuckDB lets one process at a time open a file for writing, and opening costs a few
//! milliseconds. So a `Store` keeps its connection open between operations, reopens it on demand
//! after [`Store::release`], and when another process holds the file it retries with backoff up
//! to [`StoreOptions::lock_timeout`] before reporting [`StoreError::DatabaseLocked`].
//!
//! Two DuckDB instances of one file inside one process are not refused by DuckDB (its file lock
//! is per process) but would corrupt each other's view; a process-wide registry of open files
//! makes a second `Store` on the same file wait exactly like another process would.
//!
//! What is held is one of three: the writer, an in-process read-only sandbox connection, or a
//! query worker process with the file open read-only ([`StoreOptions::query_worker`]); opening
//! one closes the other, since DuckDB allows one configuration per file and process, and a
//! worker's read lock keeps every writer out.
//!
//! A lake ([`crate::lake`]) has no file lock and no one-writer rule: each connection is an
//! in-memory instance with the lake attached, many processes write at once, and DuckLake
//! refuses the second of two conflicting commits. [`in_transaction`] retries such a
//! transaction from the start, with the same backoff as a locked file, up to the lock timeout
//! ([`StoreError::LakeConflict`] after it).

use healthsim_schema::crash;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use duckdb::Connection;
use once_cell::sync::Lazy;

pub use crate::error::StoreError;
use crate::error::{db, Error, Result};
use crate::known_ids::KnownIds;
use crate::target::Target;

/// How long [`Store`] waits for another process's lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// First pause between two attempts to open a locked database; it doubles up to
/// [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(5);
/// Longest pause between two attempts.
const MAX_RETRY_DELAY: Duration = Duration::from_millis(200);

/// How a [`Store`] behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// How long opening waits while another process holds the database (default 10 s).
    pub lock_timeout: Duration,
    /// Where scenario queries run: `None` (the default) in this process, on a read-only
    /// sandbox connection; `Some` in a contained worker process that the store keeps between
    /// queries ([`Store::with_query_worker`], [`healthsim_query::WorkerSession`]), so that a
    /// query that crashes the engine or exhausts memory ends only that worker. The `healthsim`
    /// binary (CLI and MCP server) always names itself here.
    pub query_worker: Option<healthsim_query::Worker>,
    /// Rows of an entity type in a scenario from which a persist that returns a summary keeps
    /// the type's running statistics, so the summary adds parts up instead of reading every
    /// row (default [`healthsim_summary::RUNNING_STATISTICS_FROM`]; see ARCHITECTURE.md,
    /// "Running statistics"). 0 keeps them for every size (the tests do, to exercise them on
    /// small scenarios).
    pub running_statistics_from: u64,
    /// Rows of a scenario from which its summary on the read path runs on two connections to
    /// the database file side by side (default [`healthsim_summary::SIDE_BY_SIDE_FROM`]; see
    /// [`healthsim_summary::SummaryOptions::side_by_side_from`]). A lake's summary always runs
    /// on one: its reads share one snapshot. The summary a persist returns too: it reads the
    /// persist's uncommitted rows. 0 uses two for every size (the tests do).
    pub summary_side_by_side_from: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            query_worker: None,
            running_statistics_from: healthsim_summary::RUNNING_STATISTICS_FROM,
            summary_side_by_side_from: healthsim_summary::SIDE_BY_SIDE_FROM,
        }
    }
}

/// Which kind of connection is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Read-write, the default.
    Writer,
    /// Read-only with the query sandbox configuration.
    Sandbox,
    /// A query worker process holding the file read-only ([`StoreOptions::query_worker`]).
    Worker,
}

/// What is held open on the file.
enum Handle {
    /// A connection of this process (writer or sandbox).
    Connection(Connection),
    /// A contained query worker (another process) with the file open read-only, and the
    /// scenario ids resolved while it was held: nothing can write the file meanwhile (the worker
    /// holds DuckDB's lock, and a write of this store ends the worker), so they stay valid.
    Worker {
        session: healthsim_query::WorkerSession,
        resolved: std::collections::HashMap<String, String>,
    },
}

/// An open connection (or worker) and the in-process claim on its file. Field order matters:
/// the connection closes before the claim is given up.
struct Held {
    mode: Mode,
    handle: Handle,
    /// The ids the bulk writes on this connection know (see [`Store::with_bulk_writer`]).
    known: KnownIds,
    /// The in-process claim on a file (a lake needs none).
    _claim: Option<FileClaim>,
}

impl Drop for Held {
    fn drop(&mut self) {
        // The connection closes (and DuckDB checkpoints) right after this.
        if matches!(self.handle, Handle::Connection(_)) {
            crash::point("store.closing");
        }
    }
}

impl Held {
    fn connection(&self) -> Option<&Connection> {
        match &self.handle {
            Handle::Connection(conn) => Some(conn),
            Handle::Worker { .. } => None,
        }
    }
}

/// The handle on one HealthSim database file.
///
/// Every operation of this crate is a method of `Store` (see the `persist`, `scenario` and
/// `saveload` modules). A `Store` is `Send` and `Sync`, but operations are serialized: one runs
/// at a time. The closures given to [`Store::with_writer`], [`Store::with_reader`],
/// [`Store::with_sandbox`] and [`Store::with_query_worker`] must not call back into the same
/// `Store` (that would deadlock), except for [`Store::path`] and [`Store::options`].
pub struct Store {
    target: Target,
    /// The file's claim key (`None` for a lake).
    key: Option<PathBuf>,
    /// A lake's data folder, read from its catalog when the store opened.
    data_path: Option<PathBuf>,
    options: StoreOptions,
    held: Mutex<Option<Held>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("target", &self.target)
            .field("options", &self.options)
            // try_lock: formatting a Store inside one of its own operations must not deadlock.
            .field(
                "holds_connection",
                &self.held.try_lock().map(|held| held.is_some()).ok(),
            )
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path`, brings its schema to the head
    /// version, and keeps the connection held.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] ([`StoreError::CreateDirectory`], [`StoreError::NotADatabase`],
    /// [`StoreError::ForeignDatabase`] for a Python HealthSim or another application's
    /// database, left untouched, [`StoreError::DatabaseLocked`] after waiting up to `options.lock_timeout`,
    /// [`StoreError::Open`]), and [`Error::Schema`] when the
    /// schema refuses the database (made by newer code, edited migration) or a migration fails.
    pub fn open(path: impl AsRef<Path>, options: StoreOptions) -> Result<Store> {
        Store::open_target(Target::File(path.as_ref().to_path_buf()), options)
    }

    /// Opens `target`: a file like [`Store::open`], or a lake (created in the catalog's
    /// database and the data folder when new), bringing its schema to the head version.
    ///
    /// # Errors
    ///
    /// Those of [`Store::open`]; for a lake [`StoreError::LakeOpen`] (an extension missing, the
    /// catalog's server unreachable, a new lake without `data_path`, a `data_path` other than
    /// the recorded one) and [`StoreError::ForeignDatabase`] when the catalog holds tables that
    /// are not ours.
    pub fn open_target(target: Target, options: StoreOptions) -> Result<Store> {
        let path = match target {
            Target::File(path) => path,
            Target::Lake(_) => return Store::open_lake(target, options),
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDirectory {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        // A file that is not ours is refused before anything (DuckDB's open, our migrations)
        // can touch it: see `legacy::detect`.
        crate::legacy::detect::refuse_non_duckdb(&path)?;
        create_database(&path)?;
        let key = claim_key(&path);
        let store = Store {
            key: Some(key),
            target: Target::File(path.clone()),
            data_path: None,
            options,
            held: Mutex::new(None),
        };
        store.with_writer(|conn| {
            crate::legacy::detect::refuse_foreign(conn, &path)?;
            healthsim_schema::migrate(conn)?;
            Ok(())
        })?;
        Ok(store)
    }

    fn open_lake(target: Target, options: StoreOptions) -> Result<Store> {
        let mut store = Store {
            target,
            key: None,
            data_path: None,
            options,
            held: Mutex::new(None),
        };
        let data_path = store.with_writer(|conn| {
            let lake = store.lake();
            crate::lake::migrate(conn, lake)?;
            crate::lake::data_path(conn, lake)
        })?;
        store.data_path = Some(data_path);
        Ok(store)
    }

    /// What the store opened: a file or a lake.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The database file (`None` for a lake).
    pub fn path(&self) -> Option<&Path> {
        self.target.file()
    }

    /// The lake of a lake store; only called on one.
    fn lake(&self) -> &crate::target::LakeTarget {
        match &self.target {
            Target::Lake(lake) => lake,
            Target::File(_) => unreachable!("a file store has no lake"),
        }
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// Where the database's schema stands relative to this program.
    pub fn schema_status(&self) -> Result<healthsim_schema::SchemaStatus> {
        self.with_reader(|conn| Ok(healthsim_schema::status(conn)?))
    }

    /// Runs `f`, the write of a stream in many transactions of at most `batch` entities each
    /// (a FHIR import in chunks), with the writer's DuckDB memory bounded to
    /// [`stream_memory_limit`]`(batch)`, and lifts the bound again afterwards (also when `f`
    /// fails).
    ///
    /// Committed chunks must not pile up in memory: without a bound DuckDB keeps every block it
    /// reads or writes cached up to its default limit (80 % of the machine's memory), so an
    /// import of bounded chunks still grew with the input. With the bound, blocks beyond it are
    /// evicted (written ones are in the file or the write-ahead log already) and data not yet
    /// checkpointed spills to the database's temporary folder. On a lake `f` runs as it is: its
    /// writer is an in-memory instance that writes Parquet files at commit, with no folder of
    /// its own to spill to.
    ///
    /// The price is speed once what every chunk reads — the ids of the scenario's tables (a
    /// scan: they have no key index) and the rows not yet checkpointed — outgrows the bound:
    /// then the same blocks are evicted and read again. `healthsim persist` of a file does not
    /// use it for that reason (see [`stream_memory_limit`]).
    ///
    /// When lifting the bound fails the held connection is closed instead, so the next
    /// operation opens one with the defaults; `f`'s result is returned either way.
    ///
    /// # Errors
    ///
    /// The errors of opening the writer, [`Error::Database`] when the bound cannot be set
    /// (then `f` does not run), and `f`'s own.
    pub fn with_bounded_memory<T>(&self, batch: usize, f: impl FnOnce() -> Result<T>) -> Result<T> {
        if self.target.lake().is_some() {
            return f();
        }
        let limit = stream_memory_limit(batch);
        self.with_setting(
            (
                &format!("SET memory_limit = '{limit}B'"),
                "bounding the database's memory for a stream",
            ),
            ("RESET memory_limit", "lifting the database's memory bound"),
            f,
        )
    }

    /// Runs `f`, the write of a FHIR import in chunks, with DuckDB working on the calling
    /// thread alone (`SET threads = 1`), and gives the database its threads back afterwards
    /// (also when `f` fails). On a lake `f` runs as it is.
    ///
    /// Why: the import's own reading thread keeps one core busy parsing and mapping. With
    /// DuckDB's default threads, the checkpoint at a commit compresses on a DuckDB worker while
    /// the writing thread polls for the worker's tasks, so the three contend for two cores. On
    /// one thread the writing thread compresses itself, and nothing polls. Measured on a
    /// 2-vCPU Intel Xeon, 1,000,000 resources through `healthsim import-fhir`, three pairs:
    /// 8.7 % less wall time, 24 % less CPU, a peak 25 MB lower (docs/performance.md, "FHIR
    /// import"). Other work on the same database meanwhile (a sandbox query of the MCP server)
    /// runs on one thread too.
    ///
    /// When giving the threads back fails the held connection is closed instead, as in
    /// [`Store::with_bounded_memory`].
    ///
    /// # Errors
    ///
    /// The errors of opening the writer, [`Error::Database`] when the setting cannot be made
    /// (then `f` does not run), and `f`'s own.
    pub fn with_one_engine_thread<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        if self.target.lake().is_some() {
            return f();
        }
        self.with_setting(
            ("SET threads = 1", "running the database on one thread"),
            ("RESET threads", "giving the database its threads back"),
            f,
        )
    }

    /// Makes a setting on the writer (`set`: statement and what it does, for its error), runs
    /// `f`, and undoes it (`reset`) whatever `f` returned; when undoing fails the held
    /// connection is closed, so the next operation opens one with the defaults.
    fn with_setting<T>(
        &self,
        set: (&str, &'static str),
        reset: (&str, &'static str),
        f: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        self.with_writer(|conn| conn.execute_batch(set.0).map_err(db(set.1)))?;
        let outcome = f();
        let undone = self.with_writer(|conn| conn.execute_batch(reset.0).map_err(db(reset.1)));
        if undone.is_err() {
            self.release();
        }
        outcome
    }

    /// Closes the held connection, if any, so other processes can open the database. The next
    /// operation reopens it.
    pub fn release(&self) {
        *self.lock() = None;
    }

    /// Whether a connection is currently held.
    pub fn holds_connection(&self) -> bool {
        self.lock().is_some()
    }

    /// Runs `f` on the read-write connection, opening it (and closing a held sandbox first)
    /// if needed.
    pub fn with_writer<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.with_bulk_writer(|conn, known| {
            // Any write but a bulk one may add ids that the bulk writes' hashes do not know.
            if let Some(known) = known {
                *known = KnownIds::default();
            }
            f(conn)
        })
    }

    /// [`Store::with_writer`] for one of consecutive bulk writes ([`Store::write_entities`]):
    /// `f` also gets the hashes of the ids those writes know their scenario's tables hold
    /// ([`KnownIds`]), kept from one call to the next while nothing else writes. On a file
    /// only: its writer connection locks the file against every other process, and every other
    /// write of this store (through `with_writer`) forgets them, as does closing the
    /// connection. A lake has other writers, so `f` gets `None` there.
    pub(crate) fn with_bulk_writer<T>(
        &self,
        f: impl FnOnce(&Connection, Option<&mut KnownIds>) -> Result<T>,
    ) -> Result<T> {
        let mut held = self.lock();
        self.ensure(&mut held, Mode::Writer)?;
        let on_file = self.target.lake().is_none();
        let Some(Held {
            handle: Handle::Connection(conn),
            known,
            ..
        }) = held.as_mut()
        else {
            unreachable_handle()
        };
        let _budget = ConflictBudget::set(self);
        f(conn, on_file.then_some(known))
    }

    /// Empty [`KnownIds`] for one operation that writes a scenario in many batches while it
    /// holds the writer connection (an import) and writes its entities through them alone; on
    /// a file only, as for [`Store::with_bulk_writer`].
    pub(crate) fn known_ids_of_one_operation(&self) -> Option<KnownIds> {
        self.target.lake().is_none().then(KnownIds::default)
    }

    /// Runs `f` on whatever connection is held (writer or sandbox); opens the writer when none
    /// is. For reads that need no particular configuration (summaries, listings, loads).
    ///
    /// On a lake `f` runs in one transaction: it reads one snapshot (a summary taken while
    /// other machines commit adds up), and pays once for what DuckLake does at the start of
    /// every transaction — looking up the newest snapshot and its schema in the catalog, about
    /// 30 ms with a local PostgreSQL, which a statement outside a transaction pays for itself.
    pub fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut held = self.lock();
        let conn = match held.take() {
            Some(h) if h.connection().is_some() => held.insert(h).connection(),
            // A query worker holds the file: it closes, and the writer opens.
            other => {
                drop(other);
                self.ensure(&mut held, Mode::Writer).map(Some)?
            }
        };
        match conn {
            Some(conn) if self.target.lake().is_some() => read_one_snapshot(conn, f),
            Some(conn) => f(conn),
            None => unreachable_handle(),
        }
    }

    /// Runs `f` on a separate read-only DuckDB instance configured by
    /// [`healthsim_query::sandbox_config`]: the held writer is closed first (DuckDB allows one
    /// configuration per file and process).
    ///
    /// The sandbox connection stays held afterwards as the current connection, so paging
    /// through query results costs no reopen; the next write closes it and reopens the writer,
    /// and [`Store::with_reader`] uses it as it is. While it is held, other processes can open
    /// the file read-only but not for writing, exactly as with the writer.
    pub fn with_sandbox<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut held = self.lock();
        let conn = self.ensure(&mut held, Mode::Sandbox)?;
        f(conn)
    }

    /// Runs `f` on the held query worker ([`StoreOptions::query_worker`]) with the scenario id
    /// that `resolve` finds for `given`, closing the writer and starting a worker first if
    /// needed; a worker that died or was killed (a crash, a timeout) is replaced. The worker stays
    /// held, like the sandbox connection, and remembers what `given` resolved to, so paging
    /// through a result costs no new process and no lookup; the next write ends it.
    ///
    /// # Errors
    ///
    /// The errors of `resolve` (run on the writer connection), [`StoreError::DatabaseLocked`]
    /// while the file is held elsewhere past the lock timeout, and the errors of `f`.
    pub fn with_query_worker<T>(
        &self,
        worker: &healthsim_query::Worker,
        given: &str,
        resolve: impl FnOnce(&Connection) -> Result<String>,
        f: impl FnOnce(&mut healthsim_query::WorkerSession, &str) -> Result<T>,
    ) -> Result<T> {
        let mut held = self.lock();
        let known = match held.as_mut().map(|h| &mut h.handle) {
            Some(Handle::Worker { session, resolved }) => {
                if session.is_alive() {
                    resolved.get(given).cloned()
                } else {
                    None
                }
            }
            _ => None,
        };
        let id = match known {
            Some(id) => id,
            None => {
                let id = resolve(self.ensure(&mut held, Mode::Writer)?)?;
                // Close the writer before the worker opens the file: it is claimed once.
                *held = None;
                let (claim, source) = match &self.target {
                    Target::File(path) => (
                        Some(retry_while_locked(path, self.options.lock_timeout, || {
                            self.claim()
                        })?),
                        healthsim_query::Source::File(path.clone()),
                    ),
                    Target::Lake(lake) => (None, self.lake_sandbox_source(lake)?),
                };
                let session = healthsim_query::WorkerSession::start(worker, source)?;
                let resolved = std::collections::HashMap::from([(given.to_string(), id.clone())]);
                *held = Some(Held {
                    mode: Mode::Worker,
                    handle: Handle::Worker { session, resolved },
                    known: KnownIds::default(),
                    _claim: claim,
                });
                id
            }
        };
        match held.as_mut().map(|h| &mut h.handle) {
            Some(Handle::Worker { session, .. }) => f(session, &id),
            _ => unreachable_handle(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Held>> {
        // A panic inside an operation leaves at worst an idle connection (transactions roll
        // back on unwind), so a poisoned lock is still usable.
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The held connection of `mode` (writer or sandbox), opening it (and closing another one)
    /// if needed.
    fn ensure<'h>(&self, held: &'h mut Option<Held>, mode: Mode) -> Result<&'h Connection> {
        let h = match held.take() {
            Some(h) if h.mode == mode => h,
            other => {
                // Close the other instance before opening: the file is claimed once.
                drop(other);
                self.open_connection(mode)?
            }
        };
        match held.insert(h).connection() {
            Some(conn) => Ok(conn),
            None => unreachable_handle(),
        }
    }

    /// This process's claim on the file, or the lock it meets while another `Store` of this
    /// process holds it.
    fn claim(&self) -> std::result::Result<FileClaim, Attempt> {
        let key = self.key.as_deref().unwrap_or_else(|| Path::new(""));
        FileClaim::acquire(key).ok_or_else(|| {
            Attempt::Locked(
                "another Store in this process holds it; release it or share one Store".into(),
            )
        })
    }

    fn open_connection(&self, mode: Mode) -> Result<Held> {
        let path = match &self.target {
            Target::File(path) => path,
            Target::Lake(lake) => {
                let conn = match mode {
                    Mode::Writer => crate::lake::open_writer(lake, self.options.lock_timeout)?,
                    Mode::Sandbox => {
                        let source = self.lake_sandbox_source(lake)?;
                        healthsim_query::open_sandbox(&source).map_err(|e| {
                            StoreError::LakeOpen {
                                lake: lake.to_string(),
                                detail: e.to_string(),
                            }
                        })?
                    }
                    Mode::Worker => unreachable_handle(),
                };
                conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
                return Ok(Held {
                    mode,
                    handle: Handle::Connection(conn),
                    known: KnownIds::default(),
                    _claim: None,
                });
            }
        };
        retry_while_locked(path, self.options.lock_timeout, || {
            let claim = self.claim()?;
            let opened = match mode {
                Mode::Writer => {
                    writer_config().and_then(|config| Connection::open_with_flags(path, config))
                }
                // Workers are started by `with_query_worker`, never opened here.
                Mode::Worker => unreachable_handle(),
                // `duckdb::Config` is consumed by the open, so each attempt builds its own.
                Mode::Sandbox => {
                    let config = healthsim_query::sandbox_config()
                        .map_err(|e| Attempt::Failed(db("configuring the query sandbox")(e)))?;
                    Connection::open_with_flags(path, config)
                }
            };
            let conn = opened.map_err(|e| classify(path, e))?;
            // Prepared statements are cached by SQL text (`prepare_cached`): an agent's call
            // repeats the same lookups, manifest updates and summary queries, and parsing and
            // planning each costs DuckDB a fraction of a millisecond.
            conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
            Ok(Held {
                mode,
                handle: Handle::Connection(conn),
                known: KnownIds::default(),
                _claim: Some(claim),
            })
        })
    }

    /// The sandbox source of this lake store, with the data folder read when it opened.
    fn lake_sandbox_source(
        &self,
        lake: &crate::target::LakeTarget,
    ) -> Result<healthsim_query::Source> {
        match &self.data_path {
            Some(data_path) => crate::lake::sandbox_source(lake, data_path),
            // Only `open_lake`'s own migration runs before the folder is known, and it
            // queries nothing.
            None => Err(StoreError::LakeOpen {
                lake: lake.to_string(),
                detail: "the lake's data folder is not known yet".into(),
            }
            .into()),
        }
    }
}

/// How many prepared statements a connection keeps (duckdb-rs' default is 16; one summary of a
/// scenario with many types runs more distinct statements than that).
const STATEMENT_CACHE_CAPACITY: usize = 128;

/// The result of one failed attempt to open a database.
#[derive(Debug)]
enum Attempt {
    /// Another holder has the file: worth retrying. The text says who (DuckDB names the process).
    Locked(String),
    /// Anything else: reported at once.
    Failed(Error),
}

/// A held handle of the wrong kind: `ensure` and `with_query_worker` insert exactly the kind
/// they return, and only they open, so this cannot happen; it is a panic rather than a wrong
/// answer.
fn unreachable_handle() -> ! {
    panic!("the store holds a handle of another kind than it just opened")
}

/// A plain read-write connection on `lake` (extensions loaded, the lake attached as the default
/// catalog), without migrating: for `healthsim db status|migrate`.
///
/// # Errors
///
/// [`StoreError::LakeOpen`].
pub fn connect_lake(lake: &crate::target::LakeTarget) -> Result<Connection> {
    crate::lake::open_writer(lake, StoreOptions::default().lock_timeout)
}

/// Applies the pending migrations of `lake` (`healthsim db migrate`) during one of its writers'
/// turns, after refusing a catalog that is not ours.
///
/// # Errors
///
/// [`StoreError::LakeOpen`], [`StoreError::LakeBusy`] when no turn comes within the default
/// lock timeout, [`StoreError::ForeignDatabase`] and the migration's errors.
pub fn migrate_lake(lake: &crate::target::LakeTarget) -> Result<healthsim_schema::MigrationReport> {
    crate::lake::migrate(&connect_lake(lake)?, lake)
}

/// Whether a DuckDB error says that another process holds the file lock.
pub fn is_lock_error(error: &duckdb::Error) -> bool {
    is_lock_message(&error.to_string())
}

/// Whether DuckDB's message says that another process holds the file lock.
fn is_lock_message(text: &str) -> bool {
    text.contains("Could not set lock on file") || text.contains("Conflicting lock")
}

fn classify(path: &Path, error: duckdb::Error) -> Attempt {
    let text = error.to_string();
    if is_lock_error(&error) {
        Attempt::Locked(text)
    } else if text.contains("not a valid DuckDB database file") {
        Attempt::Failed(
            StoreError::NotADatabase {
                path: path.to_path_buf(),
                detail: text,
            }
            .into(),
        )
    } else {
        Attempt::Failed(
            StoreError::Open {
                path: path.to_path_buf(),
                source: error,
            }
            .into(),
        )
    }
}

/// Calls `open` until it succeeds, fails with something else than a lock error, or `timeout`
/// has passed; lock errors are retried after 5 ms, doubling up to 200 ms. Always tries at least
/// once. This is the retry policy of [`Store`], exposed so it can be exercised with an injected
/// opener.
///
/// # Errors
///
/// [`StoreError::DatabaseLocked`] when the lock outlasts `timeout`;
/// [`StoreError::NotADatabase`] or [`StoreError::Open`] for other failures (all wrapped in
/// [`Error::Store`]).
pub fn open_with_lock_retry<T>(
    path: &Path,
    timeout: Duration,
    mut open: impl FnMut() -> Result<T, duckdb::Error>,
) -> Result<T> {
    retry_while_locked(path, timeout, || open().map_err(|e| classify(path, e)))
}

/// Calls `attempt` like [`open_with_lock_retry`] for an opener that reports its failure as
/// text (a contained query's worker): a failure whose text names DuckDB's file lock is retried
/// up to `timeout` ([`StoreError::DatabaseLocked`] after it), any other failure is returned at
/// once as `Ok(Err(error))`.
pub(crate) fn retry_text_while_locked<T, E>(
    path: &Path,
    timeout: Duration,
    mut attempt: impl FnMut() -> std::result::Result<T, (Option<String>, E)>,
) -> Result<std::result::Result<T, E>> {
    let mut failure = None;
    let outcome = retry_while_locked(path, timeout, || match attempt() {
        Ok(value) => Ok(Some(value)),
        Err((Some(text), _)) if is_lock_message(&text) => Err(Attempt::Locked(text)),
        Err((_, error)) => {
            failure = Some(error);
            Ok(None)
        }
    })?;
    Ok(match (outcome, failure) {
        (Some(value), _) => Ok(value),
        (None, Some(error)) => Err(error),
        (None, None) => unreachable!("an attempt either succeeds or fails"),
    })
}

fn retry_while_locked<T>(
    path: &Path,
    timeout: Duration,
    mut attempt: impl FnMut() -> Result<T, Attempt>,
) -> Result<T> {
    let start = Instant::now();
    let mut delay = FIRST_RETRY_DELAY;
    loop {
        match attempt() {
            Ok(value) => return Ok(value),
            Err(Attempt::Failed(error)) => return Err(error),
            Err(Attempt::Locked(detail)) => {
                // Another process holds the file: the lock test proves writers get here.
                crash::point("lock.busy");
                let waited = start.elapsed();
                if waited >= timeout {
                    return Err(StoreError::DatabaseLocked {
                        path: path.to_path_buf(),
                        waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
                        detail,
                    }
                    .into());
                }
                std::thread::sleep(delay.min(timeout - waited));
                delay = (delay * 2).min(MAX_RETRY_DELAY);
            }
        }
    }
}

/// Creates and migrates the database at `path` when no file is there, so that the file appears
/// whole or not at all; does nothing when `path` exists. Returns the migration report when this
/// call created the file, `None` when it existed (or another process created it meanwhile).
///
/// DuckDB writes a new file's header blocks one after the other, so a process killed while it
/// creates a file in place can leave a few KiB that never open again. Instead the database is
/// built under a temporary name in the same folder (`<name>.creating-<pid>-<n>`), migrated,
/// checkpointed and closed (no write-ahead log left), synced, and then hard-linked to `path`:
/// a link never replaces an existing file, so when another process won the race its database is
/// kept and ours is deleted. A kill leaves at worst a temporary file under another name, which
/// the next call for the same path removes once its process is gone (Linux).
///
/// [`Store::open`] calls this; `healthsim db migrate` calls it before migrating.
///
/// # Errors
///
/// [`StoreError::Open`] when the temporary database cannot be created, [`Error::Schema`] when a
/// migration fails, [`Error::Database`] when the checkpoint fails, [`Error::Io`] when the file
/// cannot be synced or linked into place. The temporary file is removed in every case.
pub fn create_database(path: &Path) -> Result<Option<healthsim_schema::MigrationReport>> {
    // Also when the file exists: a kill between the link and the removal of the temporary name
    // leaves a second name of the complete database. One directory listing per open.
    remove_stale_temporaries(path);
    if std::fs::symlink_metadata(path).is_ok() {
        return Ok(None);
    }
    let temp = temporary_path(path);
    let result = build_and_link(path, &temp);
    // Whatever happened, the temporary name goes: after a link the database lives on under
    // `path`; after a failure it holds nothing anyone needs.
    let _ = std::fs::remove_file(&temp);
    let _ = std::fs::remove_file(wal_path(&temp));
    result
}

/// The marker between a database's file name and the pid of the process creating it.
const CREATING_MARKER: &str = ".creating-";

/// A fresh temporary name next to `path`: `<name>.creating-<pid>-<n>`.
fn temporary_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!("{CREATING_MARKER}{}-{n}", std::process::id()));
    path.with_file_name(name)
}

/// DuckDB's write-ahead log of the database at `path`.
fn wal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".wal");
    PathBuf::from(name)
}

fn build_and_link(path: &Path, temp: &Path) -> Result<Option<healthsim_schema::MigrationReport>> {
    let io = |action: &'static str, at: &Path| {
        let at = at.to_path_buf();
        move |source| Error::Io {
            action,
            path: at,
            source,
        }
    };
    let conn = writer_config()
        .and_then(|config| Connection::open_with_flags(temp, config))
        .map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    crash::point("create.opened");
    let report = healthsim_schema::migrate(&conn)?;
    conn.execute_batch("CHECKPOINT")
        .map_err(db("checkpointing the new database"))?;
    drop(conn);
    if wal_path(temp).exists() {
        return Err(Error::Io {
            action: "finish creating",
            path: path.to_path_buf(),
            source: std::io::Error::other(
                "closing the new database left a write-ahead log; nothing was created",
            ),
        });
    }
    std::fs::File::open(temp)
        .and_then(|file| file.sync_all())
        .map_err(io("sync the new database", temp))?;
    crash::point("create.built");
    match link_without_replacing(temp, path) {
        Ok(()) => crash::point("create.linked"),
        // Another process created the file first: theirs is kept, ours is dropped.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(None),
        Err(e) => return Err(io("create", path)(e)),
    }
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Makes the new name durable; a failure costs durability on power loss only.
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(Some(report))
}

/// Gives `temp` the name `path` unless `path` exists. A hard link fails with `AlreadyExists`
/// instead of replacing; where the filesystem has no hard links, a rename after a check is
/// the fallback (a race there can only lose an empty, freshly migrated database).
fn link_without_replacing(temp: &Path, path: &Path) -> std::io::Result<()> {
    match std::fs::hard_link(temp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if std::fs::symlink_metadata(path).is_ok() => Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "the database was created meanwhile",
        )),
        Err(_) => std::fs::rename(temp, path),
    }
}

/// Removes `<name>.creating-<pid>-<n>` files (and their logs) next to `path` whose process is
/// no longer running: what a kill during [`create_database`] leaves. Best effort; only on Linux,
/// where `/proc` says whether a process runs.
fn remove_stale_temporaries(path: &Path) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let (Some(name), dir) = (path.file_name().and_then(|n| n.to_str()), path.parent()) else {
        return;
    };
    let dir = match dir {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{name}{CREATING_MARKER}");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let running =
            pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists();
        if !running {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Files held by a `Store` of this process.
static CLAIMED: Lazy<Mutex<HashSet<PathBuf>>> = Lazy::new(|| Mutex::new(HashSet::new()));

fn claimed() -> MutexGuard<'static, HashSet<PathBuf>> {
    CLAIMED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// This process's claim on one database file, given up on drop.
struct FileClaim {
    key: PathBuf,
}

impl FileClaim {
    fn acquire(key: &Path) -> Option<FileClaim> {
        claimed().insert(key.to_path_buf()).then(|| FileClaim {
            key: key.to_path_buf(),
        })
    }
}

impl Drop for FileClaim {
    fn drop(&mut self) {
        claimed().remove(&self.key);
    }
}

/// The identity of a database file: its canonical directory joined with its file name (the
/// file itself may not exist yet).
fn claim_key(path: &Path) -> PathBuf {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(parent), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// Runs `f` inside one transaction on `conn`: COMMIT when it returns `Ok`, ROLLBACK when it
/// returns an error or panics.
///
/// On a lake, a transaction that DuckLake refuses because another writer committed a
/// conflicting change first ([`crate::lake::is_conflict`], at COMMIT or at a statement) is run
/// again from the start after a pause (5 ms doubling to 200 ms), until it commits or the lock
/// timeout of the [`Store`] whose writer runs it has passed ([`StoreError::LakeConflict`]).
/// `f` may therefore run more than once: it must only write through `conn`. On a file
/// (one writer at a time) no conflict can occur and `f` runs once.
pub(crate) fn in_transaction<T>(
    conn: &Connection,
    mut f: impl FnMut(&Connection) -> Result<T>,
) -> Result<T> {
    let start = Instant::now();
    let mut delay = FIRST_RETRY_DELAY;
    let mut attempts = 1u32;
    loop {
        match once_in_transaction(conn, &mut f) {
            Err(error) if crate::lake::is_conflict(&error) => {
                let Some((timeout, lake)) = ConflictBudget::current() else {
                    return Err(error);
                };
                if start.elapsed() >= timeout {
                    return Err(StoreError::LakeConflict {
                        lake,
                        attempts,
                        waited_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
                        detail: error.to_string(),
                    }
                    .into());
                }
                crash::point("lake.conflict");
                std::thread::sleep(delay);
                delay = (delay * 2).min(MAX_RETRY_DELAY);
                attempts += 1;
            }
            outcome => return outcome,
        }
    }
}

/// [`in_transaction`] for a transaction that consumes its input (a stream's chunk): it runs
/// once, and a lake's commit conflict is returned as [`StoreError::LakeConflict`] after one
/// attempt. Its callers commit idempotent upserts, so running the same input again completes
/// the write.
pub(crate) fn in_transaction_once<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T>,
) -> Result<T> {
    let mut f = Some(f);
    let outcome = once_in_transaction(conn, &mut |conn: &Connection| match f.take() {
        Some(f) => f(conn),
        None => unreachable!("runs once"),
    });
    match (outcome, ConflictBudget::current()) {
        (Err(error), Some((_, lake))) if crate::lake::is_conflict(&error) => {
            Err(StoreError::LakeConflict {
                lake,
                attempts: 1,
                waited_ms: 0,
                detail: error.to_string(),
            }
            .into())
        }
        (outcome, _) => outcome,
    }
}

fn once_in_transaction<T>(
    conn: &Connection,
    f: &mut impl FnMut(&Connection) -> Result<T>,
) -> Result<T> {
    // On a lake, wait for this writer's turn first (dropped after the commit or rollback).
    let _turn = match ConflictBudget::current() {
        Some((_, lake)) => Some(crate::lake::take_turn(conn, &lake)?),
        None => None,
    };
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(db("starting a transaction"))?;
    let mut guard = RollbackOnDrop { conn, active: true };
    let value = f(conn)?;
    crash::point("commit.before");
    guard.active = false;
    if let Err(e) = conn.execute_batch("COMMIT") {
        // A failed COMMIT may leave the transaction open; close it so the connection stays usable.
        let _ = conn.execute_batch("ROLLBACK");
        return Err(db("committing")(e));
    }
    // Committed (in the write-ahead log), not yet checkpointed into the file.
    crash::point("commit.after");
    Ok(value)
}

/// Runs the reads of `f` in one transaction, then ends it (by rolling back: nothing was
/// written, and a rollback never meets a commit conflict).
pub(crate) fn read_one_snapshot<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T>,
) -> Result<T> {
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(db("starting a read transaction"))?;
    let _guard = RollbackOnDrop { conn, active: true };
    f(conn)
}

/// How long the transactions of the current [`Store::with_writer`] call retry a lake's commit
/// conflicts, and the lake's name for the error: set for the call on its thread, so that the
/// many writers of this crate need not pass the store's options down to [`in_transaction`].
struct ConflictBudget {
    previous: Option<(Duration, String)>,
}

thread_local! {
    static CONFLICT_BUDGET: std::cell::RefCell<Option<(Duration, String)>> =
        const { std::cell::RefCell::new(None) };
}

impl ConflictBudget {
    /// Sets the budget of `store` (a lake's; none for a file) until the value is dropped.
    fn set(store: &Store) -> ConflictBudget {
        let budget = match &store.target {
            Target::Lake(lake) => Some((store.options.lock_timeout, lake.to_string())),
            Target::File(_) => None,
        };
        ConflictBudget {
            previous: CONFLICT_BUDGET.with(|b| b.replace(budget)),
        }
    }

    fn current() -> Option<(Duration, String)> {
        CONFLICT_BUDGET.with(|b| b.borrow().clone())
    }
}

impl Drop for ConflictBudget {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CONFLICT_BUDGET.with(|b| *b.borrow_mut() = previous);
    }
}

struct RollbackOnDrop<'c> {
    conn: &'c Connection,
    active: bool,
}

impl Drop for RollbackOnDrop<'_> {
    fn drop(&mut self) {
        if self.active {
            // The error being returned (or the panic) is what matters; a failing rollback of an
            // already aborted transaction adds nothing.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// How much write-ahead log DuckDB lets grow before it checkpoints by itself (its default is
/// 16 MB). Every checkpoint re-compresses the tables' newest row groups and rewrites their
/// primary-key indexes, so at 16 MB a stream of 10,000-entity commits checkpointed every other
/// batch. Persisting 340,282 mixed entities: 12.1 s at 16 MB, 6.2 s at 32 MB, 5.1 s at 64 MB,
/// 4.9 s at 128 MB; 1,000,000 patients: 10.6 s / 318 MB peak RSS at 32 MB, 8.9 s / 364 MB at
/// 64 MB, 9.3 s / 470 MB at 128 MB (data not yet checkpointed stays in memory). Committed data
/// is durable in the log either way; a longer log only makes the replay after a crash (on the
/// next open) take a little longer.
pub const CHECKPOINT_THRESHOLD: &str = "64MB";

/// DuckDB's memory limit in bytes while [`Store::with_bounded_memory`] writes a stream of
/// transactions of `batch` entities into a file: [`STREAM_MEMORY_BASE`] plus
/// [`STREAM_MEMORY_PER_ENTITY`] per entity of a batch, since an upsert keeps the rows it
/// replaces in memory until it commits (1,000,000 patients upserted into themselves in batches
/// of 100,000 ran out of memory under a fixed 128 MB, and completed under 328 MB).
///
/// Measured on a 2-vCPU AMD EPYC: a FHIR import of 1,000,000 resources in chunks of 5,000
/// peaks at 634 MB unbounded and 331 MB under this bound (138 MB), at the same speed (41,000
/// resources/s against 39,500). Persisting 1,699,980 multi-product entities from a file under
/// 276 MB took 31–33 s in three runs but 54–63 s in four (three times the kernel time: blocks
/// evicted and read again), against 31–35 s unbounded, which is why `healthsim persist` runs
/// without a bound.
pub fn stream_memory_limit(batch: usize) -> u64 {
    STREAM_MEMORY_BASE.saturating_add(STREAM_MEMORY_PER_ENTITY.saturating_mul(batch as u64))
}

/// The part of [`stream_memory_limit`] that does not depend on the batch.
pub const STREAM_MEMORY_BASE: u64 = 128 * 1000 * 1000;
/// The part of [`stream_memory_limit`] per entity of a batch.
pub const STREAM_MEMORY_PER_ENTITY: u64 = 2_000;

/// The configuration of every read-write connection: DuckDB's defaults, except that it never
/// installs or loads an extension by itself, and checkpoints after [`CHECKPOINT_THRESHOLD`] of
/// log. JSON and Parquet are built into the library we link; anything else a file could
/// trigger (e.g. a SQLite file given as the database makes DuckDB reach for its
/// `sqlite_scanner`) would mean downloading and running code nobody asked for.
pub fn writer_config() -> std::result::Result<duckdb::Config, duckdb::Error> {
    duckdb::Config::default()
        .with("autoinstall_known_extensions", "false")?
        .with("autoload_known_extensions", "false")?
        .with("checkpoint_threshold", CHECKPOINT_THRESHOLD)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCKED: &str = "IO Error: Could not set lock on file \"/x/h.duckdb\": Conflicting lock \
                          is held in /usr/bin/healthsim (PID 4242)";

    #[test]
    fn a_worker_open_that_names_the_lock_is_retried_until_it_succeeds() {
        let mut attempts = 0;
        let outcome =
            retry_text_while_locked(Path::new("/x/h.duckdb"), Duration::from_secs(5), || {
                attempts += 1;
                if attempts < 3 {
                    Err((Some(LOCKED.to_string()), "locked"))
                } else {
                    Ok("page")
                }
            });
        assert!(matches!(outcome, Ok(Ok("page"))));
        assert_eq!(attempts, 3);
    }

    #[test]
    fn any_other_worker_failure_is_returned_at_once() {
        let mut attempts = 0;
        let outcome =
            retry_text_while_locked(Path::new("/x/h.duckdb"), Duration::from_secs(5), || {
                attempts += 1;
                Err::<(), _>((Some("IO Error: No such file".to_string()), "gone"))
            });
        assert!(matches!(outcome, Ok(Err("gone"))));
        assert_eq!(attempts, 1);
    }

    #[test]
    fn a_lock_that_outlasts_the_timeout_is_reported_as_locked() {
        let outcome =
            retry_text_while_locked(Path::new("/x/h.duckdb"), Duration::from_millis(30), || {
                Err::<(), _>((Some(LOCKED.to_string()), "locked"))
            });
        match outcome {
            Err(Error::Store(StoreError::DatabaseLocked { detail, .. })) => {
                assert!(detail.contains("PID 4242"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// A store on a new lake, with a scenario `kept` written by it, and a second connection to
    /// the lake that does not take turns (as maintenance or another program would not).
    fn lake_with_outsider(timeout: Duration) -> (tempfile::TempDir, Store, Connection, String) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let text = format!(
            "ducklake:postgres:{} data_path={}/",
            healthsim_pgtest::cluster().database("conflict"),
            dir.path().display()
        );
        let target = Target::parse(&text).expect("a lake");
        let options = StoreOptions {
            lock_timeout: timeout,
            ..StoreOptions::default()
        };
        let store = Store::open_target(target.clone(), options).expect("open the lake");
        let entities = serde_json::json!({"patients": [{"patient_id": "p1"}]});
        let request = crate::PersistRequest::by_type(entities.as_object().cloned().expect("map"))
            .with_scenario(crate::ScenarioTarget::new_named("kept"));
        let id = store
            .persist_entities(&request)
            .expect("persist")
            .scenario_id;
        let lake = target.lake().expect("a lake");
        let outsider = crate::lake::open_writer(lake, timeout).expect("a second connection");
        (dir, store, outsider, id)
    }

    /// The outsider commits a change to the scenario's row (its name).
    fn rename_from_outside(outsider: &Connection, id: &str, name: &str) -> Result<()> {
        outsider
            .execute(
                "UPDATE scenarios SET name = ? WHERE scenario_id = ?",
                [name, id],
            )
            .map(drop)
            .map_err(db("renaming from outside"))
    }

    /// The scenario's description and name, as a fresh read sees them.
    fn described(store: &Store, id: &str) -> (Option<String>, String) {
        store
            .with_reader(|conn| {
                conn.query_row(
                    "SELECT description, name FROM scenarios WHERE scenario_id = ?",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(db("reading the scenario"))
            })
            .expect("read the scenario")
    }

    /// A write that describes the scenario while the outsider renames it before each commit.
    fn describe_while_renamed(
        conn: &Connection,
        outsider: &Connection,
        id: &str,
        renames: &mut u32,
        rename_on: impl Fn(u32) -> bool,
    ) -> Result<()> {
        conn.execute(
            "UPDATE scenarios SET description = 'mine' WHERE scenario_id = ?",
            [id],
        )
        .map_err(db("describing"))?;
        *renames += 1;
        if rename_on(*renames) {
            rename_from_outside(outsider, id, &format!("renamed-{renames}"))?;
        }
        Ok(())
    }

    #[test]
    fn a_lake_write_that_keeps_conflicting_fails_after_the_lock_timeout_having_written_nothing() {
        let (_dir, store, outsider, id) = lake_with_outsider(Duration::from_secs(2));
        let mut renames = 0;
        let outcome = store.with_writer(|conn| {
            in_transaction(conn, |conn| {
                describe_while_renamed(conn, &outsider, &id, &mut renames, |_| true)
            })
        });
        match outcome {
            Err(Error::Store(StoreError::LakeConflict {
                attempts,
                waited_ms,
                detail,
                ..
            })) => {
                assert!(attempts >= 2, "retried: {attempts}");
                assert_eq!(attempts, renames, "one attempt per conflicting commit");
                assert!(waited_ms >= 2000, "{waited_ms}");
                assert!(
                    detail.contains("Transaction conflict") || detail.contains("write-write"),
                    "DuckLake's own message: {detail}"
                );
            }
            other => panic!("expected LakeConflict, got {other:?}"),
        }
        let (description, _) = described(&store, &id);
        assert_eq!(description, None, "nothing of the refused write was kept");
    }

    #[test]
    fn a_lake_write_that_conflicts_once_is_retried_and_commits() {
        let (_dir, store, outsider, id) = lake_with_outsider(Duration::from_secs(10));
        let mut attempts = 0;
        store
            .with_writer(|conn| {
                in_transaction(conn, |conn| {
                    describe_while_renamed(conn, &outsider, &id, &mut attempts, |n| n == 1)
                })
            })
            .expect("the second attempt commits");
        assert_eq!(attempts, 2);
        let (description, name) = described(&store, &id);
        assert_eq!(description.as_deref(), Some("mine"));
        assert_eq!(name, "renamed-1", "the outsider's commit is kept too");
    }

    #[test]
    fn a_streamed_chunk_that_conflicts_fails_at_once_naming_the_lake() {
        let (_dir, store, outsider, id) = lake_with_outsider(Duration::from_secs(10));
        let mut renames = 0;
        let outcome = store.with_writer(|conn| {
            in_transaction_once(conn, |conn| {
                describe_while_renamed(conn, &outsider, &id, &mut renames, |_| true)
            })
        });
        match outcome {
            Err(Error::Store(StoreError::LakeConflict { lake, attempts, .. })) => {
                assert_eq!(attempts, 1);
                assert!(lake.starts_with("ducklake:postgres:"), "{lake}");
            }
            other => panic!("expected LakeConflict, got {other:?}"),
        }
        assert_eq!(described(&store, &id).0, None);
    }

    #[test]
    fn a_writer_waits_for_its_turn_and_gives_up_after_the_lock_timeout() {
        let (_dir, store, holder, id) = lake_with_outsider(Duration::from_millis(500));
        // Another writer's turn, held past this store's timeout.
        let turn = crate::lake::take_turn(&holder, "the holder").expect("a turn");
        let request = crate::PersistRequest::by_type(
            serde_json::json!({"patients": [{"patient_id": "p2"}]})
                .as_object()
                .cloned()
                .expect("map"),
        )
        .with_scenario(crate::ScenarioTarget::Existing(id.clone()));
        match store.persist_entities(&request) {
            Err(Error::Store(StoreError::LakeBusy {
                lake, waited_ms, ..
            })) => {
                assert!(waited_ms >= 500, "{waited_ms}");
                assert!(lake.starts_with("ducklake:postgres:"), "{lake}");
            }
            other => panic!("expected LakeBusy, got {other:?}"),
        }
        drop(turn);
        let summary = store
            .scenario_summary(&id, &Default::default())
            .expect("summary");
        assert_eq!(
            summary.total_entities, 1,
            "nothing was written while waiting"
        );
        store
            .persist_entities(&request)
            .expect("the turn is free again");
    }
}
