//! Opening a DuckLake: the connections a [`Store`](crate::Store) holds when its
//! [`Target`](crate::target::Target) is a lake, and how a lake's commit conflicts are told
//! apart from other failures.
//!
//! A lake is attached to an in-memory DuckDB instance: the `postgres_scanner` and `ducklake`
//! extensions are loaded from the folder `cargo xtask setup` verified
//! (`healthsim_schema::extensions`: signed builds, checked by DuckDB itself, never downloaded
//! at run time), then `ATTACH 'ducklake:postgres:<conninfo>' AS lake (DATA_PATH …)` and
//! `USE lake`, so that every statement of this crate that names `main.<table>` reads and writes
//! the lake's tables exactly as it does a file's. The query sandbox gets the same statements
//! with `READ_ONLY`, as a [`Prepared`] source that the query crate seals (only the data folder
//! readable, external access off, configuration locked).
//!
//! A lake's data may also be in S3 object storage (`data_path=s3://bucket/prefix/`): both
//! connections then load `httpfs` too and get the environment's S3 credentials as a secret
//! scoped to the data path (`s3.rs`), and the address is what the sandbox may read.
//!
//! Many processes on many machines write one lake at once. DuckLake has no locks: it detects
//! at COMMIT that two transactions changed the same table (an update or delete of rows another
//! transaction also changed, or any delete in the same table), and the second commit fails.
//! Every write of this crate updates a guard row first (the scenario's own `scenarios` row;
//! `scenario_namespace` when it creates, renames or deletes a scenario), so two writes that
//! could produce a duplicate always conflict, and [`is_conflict`] lets the store retry the
//! whole transaction, with backoff, up to its lock timeout.
//!
//! Retrying alone starves writers: DuckLake detects conflicts per table, so every writer's
//! commit conflicts with every other's, and a writer can lose round after round (four MCP
//! writers of 50 patients per call lost a call after 17 conflicts in 11 s). So the writers of a
//! lake also take turns ([`take_turn`]): before its transaction, a writer waits for a
//! transaction-scoped advisory lock on the catalog's PostgreSQL database (waiters are served in
//! order), held on a second connection of the same DuckDB instance until after its commit; its
//! DuckLake snapshot is taken after the lock is granted, so it sees the previous turn's commit
//! and does not conflict with it. Conflicts with writers that do not take turns (maintenance,
//! another program) are still retried.

use std::path::{Path, PathBuf};

use duckdb::Connection;
use healthsim_query::{Prepared, Source};
use healthsim_schema::extensions::{self, Extension};

use crate::error::{Error, Result, StoreError};
use crate::s3::S3Access;
use crate::target::{is_object_storage, LakeTarget, Target};

/// The catalog name a lake is attached under (and made the default with `USE`).
pub(crate) const ALIAS: &str = "lake";

/// A writer's second attachment of the catalog database (plain PostgreSQL), for the turns.
const TURNS: &str = "lake_turns";

/// The advisory lock key of the writers' turns ("HSIM"); advisory locks are per database, and
/// a lake's catalog has a database of its own.
const TURN_KEY: i64 = 0x4853_494D;

/// The environment variables a query worker needs to reach the catalog's server: libpq's
/// (`PGPASSWORD`, `PGSERVICEFILE`, `PGSSLMODE`, …) and `HOME` (for `~/.pgpass` and
/// `~/.pg_service.conf`). Workers otherwise start with an empty environment.
fn worker_env() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(key, _)| key.starts_with("PG") || key == "HOME")
        .collect()
}

/// The read-write connection on `lake`: a new in-memory instance with the extensions loaded,
/// the lake attached as the default catalog, and the catalog's database attached once more for
/// the writers' turns, waiting at most `turn_timeout` for one.
pub(crate) fn open_writer(
    lake: &LakeTarget,
    turn_timeout: std::time::Duration,
) -> Result<Connection> {
    let failed = |detail: String| -> Error {
        StoreError::LakeOpen {
            lake: lake.to_string(),
            detail: lake.redact(&detail),
        }
        .into()
    };
    let config = crate::store::writer_config()
        .and_then(|c| c.with("allow_unsigned_extensions", "false"))
        .map_err(|e| failed(e.to_string()))?;
    let conn = Connection::open_in_memory_with_flags(config).map_err(|e| failed(e.to_string()))?;
    // Temporary tables of large writes (ids, upsert stages) spill here rather than filling
    // memory.
    let spill = std::env::temp_dir().join(format!("healthsim-lake-{}", std::process::id()));
    conn.execute_batch(&format!(
        "SET temp_directory = {}",
        literal(&spill.display().to_string())
    ))
    .map_err(|e| failed(e.to_string()))?;
    for ext in [Extension::Postgres, Extension::Ducklake] {
        extensions::load(&conn, ext).map_err(|e| failed(e.to_string()))?;
    }
    if let Some(secret) = password_secret(lake) {
        conn.execute_batch(&secret)
            .map_err(|e| failed(e.to_string()))?;
    }
    // libpq keeps the last of a repeated keyword: this connection waits for a turn at most
    // `turn_timeout`, whatever `options` the lake's string gives.
    let turns = format!(
        "{} options='-c lock_timeout={}'",
        lake.conninfo_without_password(),
        turn_timeout.as_millis().max(1)
    );
    conn.execute_batch(&format!(
        "ATTACH {} AS {TURNS} (TYPE postgres)",
        literal(&turns)
    ))
    .map_err(|e| failed(e.to_string()))?;
    // Attaching a lake whose data is in S3 needs httpfs loaded; the string may leave the data
    // path to the catalog's record, read here through the plain PostgreSQL attachment.
    let data = match lake.data_path() {
        Some(given) => Some(given.to_path_buf()),
        // None for a new lake: attaching it then says that it needs a data path.
        None => recorded_data_path(&conn).ok(),
    };
    if let Some(data) = data.filter(|path| is_object_storage(path)) {
        reach_object_storage(&conn, lake, &data)?;
    }
    // Attaching an empty catalog creates the lake in it: two writers doing that at the same
    // moment would both create DuckLake's tables, and one would fail.
    in_turn(&conn, lake, |conn| {
        attach_lake(lake, false).iter().try_for_each(|statement| {
            conn.execute_batch(statement)
                .map_err(|e| failed(explain(&e.to_string())))
        })
    })?;
    Ok(conn)
}

/// The data path the catalog records, read through the writer's plain PostgreSQL attachment of
/// the catalog database, so also before the lake is attached (attaching one in S3 needs httpfs
/// loaded first). An error for a catalog that holds no lake yet, or none in DuckLake's default
/// schema.
fn recorded_data_path(conn: &Connection) -> duckdb::Result<PathBuf> {
    conn.query_row(
        &format!(
            "SELECT value FROM postgres_query('{TURNS}', \
             'SELECT value FROM public.ducklake_metadata WHERE key = ''data_path''')"
        ),
        [],
        |r| r.get::<_, String>(0),
    )
    .map(PathBuf::from)
}

/// Loads `httpfs` into `conn` and gives it the environment's S3 credentials for `data`.
///
/// # Errors
///
/// [`StoreError::ObjectStorageAccess`] when the environment lacks the credentials or names a
/// bad endpoint; [`StoreError::LakeOpen`] when the extension or the secret is refused.
fn reach_object_storage(conn: &Connection, lake: &LakeTarget, data: &Path) -> Result<()> {
    let access = object_storage_access(lake, data)?;
    let hide = |text: String| -> String {
        access
            .secrets()
            .iter()
            .fold(lake.redact(&text), |text, secret| {
                text.replace(secret.as_str(), "***")
            })
    };
    extensions::load(conn, Extension::Httpfs)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            conn.execute_batch(&access.secret_statement(data))
                .map_err(|e| e.to_string())
        })
        .map_err(|detail| {
            StoreError::LakeOpen {
                lake: lake.to_string(),
                detail: hide(detail),
            }
            .into()
        })
}

/// The environment's S3 access for `lake`'s data at `data`.
fn object_storage_access(lake: &LakeTarget, data: &Path) -> Result<S3Access> {
    S3Access::from_env().map_err(|detail| {
        StoreError::ObjectStorageAccess {
            lake: lake.to_string(),
            data_path: data.display().to_string(),
            detail,
        }
        .into()
    })
}

/// Runs `f` on `conn` during a turn of its lake: for what changes a lake outside the store's
/// transactions (creating it, migrating it).
fn in_turn<T>(
    conn: &Connection,
    lake: &LakeTarget,
    f: impl FnOnce(&Connection) -> Result<T>,
) -> Result<T> {
    let _turn = take_turn(conn, &lake.to_string())?;
    f(conn)
}

/// Applies `lake`'s pending migrations on `conn`, its writer, after refusing a catalog that is
/// not ours. Migrations commit one by one outside the store's transactions, so this runs in a
/// turn: two writers opening a lake that needs them do not both apply them.
pub(crate) fn migrate(
    conn: &Connection,
    lake: &LakeTarget,
) -> Result<healthsim_schema::MigrationReport> {
    in_turn(conn, lake, |conn| {
        crate::legacy::detect::refuse_foreign_lake(conn, lake)?;
        Ok(healthsim_schema::migrate(conn)?)
    })
}

/// A writer's turn on its lake: the advisory lock held by a transaction on a second connection
/// to the writer's DuckDB instance, released (rolled back) when the turn is dropped — after the
/// writer's own commit or rollback.
pub(crate) struct Turn {
    conn: Connection,
}

impl Drop for Turn {
    fn drop(&mut self) {
        // Ending the transaction releases the lock; closing the connection would too.
        let _ = self.conn.execute_batch("ROLLBACK");
    }
}

/// Waits for this writer's turn on `lake`, which `writer` is attached to (see the module
/// documentation), at most the timeout the writer was opened with.
///
/// # Errors
///
/// [`StoreError::LakeBusy`] when the wait outlasts the timeout (PostgreSQL's lock timeout),
/// [`Error::Database`] when the catalog's server fails.
pub(crate) fn take_turn(writer: &Connection, lake: &str) -> Result<Turn> {
    let context = "waiting for the lake's writers to take turns";
    let started = std::time::Instant::now();
    let conn = writer.try_clone().map_err(crate::error::db(context))?;
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(crate::error::db(context))?;
    let turn = Turn { conn };
    let waited = turn.conn.query_row(
        &format!(
            "SELECT count(*) FROM postgres_query('{TURNS}', 'SELECT pg_advisory_xact_lock({TURN_KEY})')"
        ),
        [],
        |r| r.get::<_, i64>(0),
    );
    match waited {
        Ok(_) => Ok(turn),
        Err(e) if e.to_string().contains("lock timeout") => Err(StoreError::LakeBusy {
            lake: lake.to_string(),
            waited_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            detail: e.to_string(),
        }
        .into()),
        Err(e) => Err(crate::error::db(context)(e)),
    }
}

/// The statements that attach `lake` and make it the default catalog. A password of the lake's
/// string goes into a temporary secret of the PostgreSQL extension (which every connection of
/// the instance to PostgreSQL uses), not into the `ATTACH` string: DuckDB shows an attached
/// database's string in `duckdb_databases()` and adds it to the setting `allowed_paths`, and the
/// secret shows as `password=redacted`.
fn attach(lake: &LakeTarget, read_only: bool) -> Vec<String> {
    password_secret(lake)
        .into_iter()
        .chain(attach_lake(lake, read_only))
        .collect()
}

/// The statement that gives the PostgreSQL extension the lake's password, if it has one.
fn password_secret(lake: &LakeTarget) -> Option<String> {
    lake.password().map(|password| {
        format!(
            "CREATE TEMPORARY SECRET healthsim_lake_password (TYPE postgres, PASSWORD {})",
            literal(password)
        )
    })
}

/// `ATTACH` of the lake (without its password) and `USE` of it.
fn attach_lake(lake: &LakeTarget, read_only: bool) -> [String; 2] {
    let mut options = Vec::new();
    if let Some(path) = lake.data_path() {
        options.push(format!("DATA_PATH {}", literal(&folder(path))));
    }
    if read_only {
        options.push("READ_ONLY".to_string());
    }
    let options = if options.is_empty() {
        String::new()
    } else {
        format!(" ({})", options.join(", "))
    };
    [
        format!(
            "ATTACH {} AS {ALIAS}{options}",
            literal(&format!(
                "ducklake:postgres:{}",
                lake.conninfo_without_password()
            ))
        ),
        format!("USE {ALIAS}"),
    ]
}

/// The query sandbox's source on `lake`: the same attachment read-only, with `data_path` the
/// only readable folder.
pub(crate) fn sandbox_source(lake: &LakeTarget, data_path: &Path) -> Result<Source> {
    let access = if is_object_storage(data_path) {
        Some(object_storage_access(lake, data_path)?)
    } else {
        None
    };
    let extensions: &[Extension] = if access.is_some() {
        &[Extension::Postgres, Extension::Ducklake, Extension::Httpfs]
    } else {
        &[Extension::Postgres, Extension::Ducklake]
    };
    let mut setup: Vec<String> = extensions
        .iter()
        .map(|ext| extensions::load_statement(*ext))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| StoreError::LakeOpen {
            lake: lake.to_string(),
            detail: e.to_string(),
        })?;
    let mut secrets = lake.secrets();
    if let Some(access) = &access {
        setup.push(access.secret_statement(data_path));
        secrets.extend(access.secrets());
    }
    setup.extend(attach(lake, true));
    Ok(Source::Prepared(Prepared {
        label: lake.to_string(),
        setup,
        readable: vec![data_path.to_path_buf()],
        env: worker_env(),
        secrets,
    }))
}

/// The data folder the lake's catalog records (set when the lake was created).
pub(crate) fn data_path(conn: &Connection, lake: &LakeTarget) -> Result<PathBuf> {
    recorded_data_path(conn).map_err(|e| {
        StoreError::LakeOpen {
            lake: lake.to_string(),
            detail: format!(
                "reading the lake's data path: {}",
                lake.redact(&e.to_string())
            ),
        }
        .into()
    })
}

/// Whether `error` is DuckLake refusing a commit because another transaction committed a
/// conflicting change first (worth retrying the whole transaction).
pub(crate) fn is_conflict(error: &Error) -> bool {
    let text = error.to_string();
    text.contains("Transaction conflict") || text.contains("write-write conflict")
}

/// DuckLake's message for a data path that differs from the recorded one, or a new lake
/// without one, with what to do in our terms.
fn explain(detail: &str) -> String {
    if detail.contains("data_path is not set") {
        format!(
            "{detail}\na new lake needs its data folder: add data_path=/folder/ to the lake's \
             string (it is recorded in the catalog, so later it may be left out)"
        )
    } else if detail.contains("does not match existing data path") {
        format!(
            "{detail}\nleave data_path out of the lake's string to use the recorded one, or \
             give exactly that folder"
        )
    } else {
        detail.to_string()
    }
}

/// A folder as DuckLake records it: absolute, ending in `/`.
fn folder(path: &Path) -> String {
    let mut text = path.display().to_string();
    if !text.ends_with('/') {
        text.push('/');
    }
    text
}

/// A SQL string literal (`'` doubled). For our own configuration only: agents' values are
/// always bound parameters.
pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// What [`crate::Store::maintain_lake`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Maintenance {
    /// Rows moved from the catalog (where DuckLake keeps small writes inline) into data files.
    pub rows_flushed: u64,
    /// Snapshots expired (older than the cutoff; their data is no longer reachable by time
    /// travel).
    pub snapshots_expired: u64,
    /// Small data files merged into larger ones.
    pub files_merged: u64,
    /// Data files of expired snapshots or merged files deleted from the data folder.
    pub old_files_deleted: u64,
    /// Files in the data folder that no snapshot knows (left by a writer killed before its
    /// commit) deleted.
    pub orphaned_files_deleted: u64,
}

/// The lake's maintenance, in DuckLake's order: flush inlined rows, expire snapshots older than
/// `older_than_minutes`, merge adjacent small files, delete the files of expired snapshots and
/// merged files, and delete orphaned files, both older than the cutoff (a younger file may
/// belong to a write still in progress on another machine).
pub(crate) fn maintain(conn: &Connection, older_than_minutes: u64) -> Result<Maintenance> {
    let cutoff = format!("now() - INTERVAL '{older_than_minutes} minutes'");
    let sum = |sql: &str, column: usize| -> Result<u64> {
        let mut statement = conn
            .prepare(sql)
            .map_err(crate::error::db("preparing lake maintenance"))?;
        let values = statement
            .query_map([], |r| r.get::<_, Option<i64>>(column))
            .map_err(crate::error::db("lake maintenance"))?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(crate::error::db("lake maintenance"))?;
        Ok(values
            .into_iter()
            .map(|v| u64::try_from(v.unwrap_or(0)).unwrap_or(0))
            .sum())
    };
    let count = |sql: &str| -> Result<u64> {
        let mut statement = conn
            .prepare(sql)
            .map_err(crate::error::db("preparing lake maintenance"))?;
        let rows = statement
            .query_map([], |_| Ok(()))
            .map_err(crate::error::db("lake maintenance"))?
            .collect::<std::result::Result<Vec<()>, _>>()
            .map_err(crate::error::db("lake maintenance"))?;
        Ok(u64::try_from(rows.len()).unwrap_or(u64::MAX))
    };
    Ok(Maintenance {
        rows_flushed: sum(&format!("CALL ducklake_flush_inlined_data('{ALIAS}')"), 2)?,
        snapshots_expired: count(&format!(
            "CALL ducklake_expire_snapshots('{ALIAS}', older_than => {cutoff})"
        ))?,
        files_merged: sum(&format!("CALL ducklake_merge_adjacent_files('{ALIAS}')"), 2)?,
        old_files_deleted: count(&format!(
            "CALL ducklake_cleanup_old_files('{ALIAS}', older_than => {cutoff})"
        ))?,
        orphaned_files_deleted: count(&format!(
            "CALL ducklake_delete_orphaned_files('{ALIAS}', older_than => {cutoff})"
        ))?,
    })
}

/// The lake of `target`, which maintenance is for; a DuckDB file is refused. Callers check
/// this before opening the target, so that a refused file is not created or migrated first.
///
/// # Errors
///
/// [`Error::InvalidRequest`] for a file (a DuckDB file maintains itself).
pub fn maintained(target: &Target) -> Result<&LakeTarget> {
    target.lake().ok_or_else(|| Error::InvalidRequest {
        reason: "maintenance is for a lake; a DuckDB file needs none (it checkpoints and \
                 reclaims space itself)"
            .into(),
    })
}

impl crate::Store {
    /// Runs the lake's maintenance (see [`Maintenance`]): what `healthsim db maintain` does.
    /// Files and snapshots younger than `older_than_minutes` are kept.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] on a file store ([`maintained`]), and the lake's failures.
    pub fn maintain_lake(&self, older_than_minutes: u64) -> Result<Maintenance> {
        maintained(self.target())?;
        self.with_writer(|conn| maintain(conn, older_than_minutes))
    }
}
