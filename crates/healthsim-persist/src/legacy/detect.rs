//! What a database file is, told before anything of ours touches it.
//!
//! The Python HealthSim keeps its DuckDB file at the same default path as this program
//! (`~/.healthsim/healthsim.duckdb`), and its `schema_migrations` table has the same name as
//! ours but other columns. Without this check, every command on such a file failed with an
//! engine error from our migration check (a binder error on `schema_migrations.name`), and a
//! DuckDB file of any other application without a `schema_migrations` table would even have
//! been migrated: our tables created inside someone else's database.
//!
//! [`sniff_file`] looks at a file's first bytes (DuckDB's magic, SQLite's, JSON text) without
//! opening it with DuckDB; [`classify`] reads the catalog of an open connection (nothing else)
//! and says whose schema it holds. [`refuse_foreign`] turns anything but an empty or our own
//! database into [`StoreError::ForeignDatabase`], which names what the file is and what to do.

use std::io::Read;
use std::path::Path;

use duckdb::Connection;
use serde::Serialize;

use crate::error::{db, Result, StoreError};

/// Which generation of the Python HealthSim's schema a database has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum LegacyEra {
    /// Schema versions 1.0 to 1.4: `scenarios`, `scenario_entities`, `scenario_tags`, and a
    /// `scenario_id` column on the canonical tables.
    Scenarios,
    /// Schema versions 1.5 and later: the same ideas renamed `cohorts`, `cohort_entities`,
    /// `cohort_tags`, `cohort_id` (plus profiles and journeys from 1.6 and 1.7).
    Cohorts,
}

impl LegacyEra {
    /// How messages name the era.
    pub fn describe(self) -> &'static str {
        match self {
            LegacyEra::Scenarios => "v1.0-v1.4 (scenarios)",
            LegacyEra::Cohorts => "v1.5+ (cohorts)",
        }
    }
}

/// What a DuckDB database holds, by its catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseKind {
    /// No table at all: a new database, ours to create.
    Empty,
    /// This program's own schema (`schema_migrations` with version, name and checksum).
    Ours,
    /// A database of the Python HealthSim.
    PythonHealthSim {
        /// Its schema generation.
        era: LegacyEra,
        /// The highest version its `schema_migrations` records (e.g. `1.7`), when readable.
        recorded_version: Option<String>,
    },
    /// A DuckDB database of some other application.
    Foreign {
        /// How many tables it has.
        table_count: usize,
        /// The first few of them (`schema.table` outside `main`).
        examples: Vec<String>,
        /// Whether it has a `schema_migrations` table (with columns that are not ours).
        has_schema_migrations: bool,
    },
}

/// How many table names a [`DatabaseKind::Foreign`] lists.
const EXAMPLE_TABLES: usize = 5;

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Missing or empty: DuckDB creates a database there.
    Absent,
    /// A DuckDB database (its magic bytes).
    DuckDb,
    /// A SQLite database.
    Sqlite,
    /// Text that starts like JSON (`{` or `[`), e.g. a Python HealthSim scenario file.
    Json,
    /// Anything else.
    Other,
}

/// DuckDB writes `DUCK` at byte 8 of every database file.
const DUCKDB_MAGIC: &[u8] = b"DUCK";
const DUCKDB_MAGIC_AT: usize = 8;
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

/// Looks at the first bytes of `path`. A file that cannot be read counts as
/// [`FileKind::DuckDb`], so that DuckDB's own open reports the real reason.
pub fn sniff_file(path: &Path) -> FileKind {
    let Ok(mut file) = std::fs::File::open(path) else {
        return if path.exists() {
            FileKind::DuckDb
        } else {
            FileKind::Absent
        };
    };
    let mut head = [0u8; 16];
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(_) => return FileKind::DuckDb,
        }
    }
    let head = &head[..read];
    if head.is_empty() {
        FileKind::Absent
    } else if head.len() >= DUCKDB_MAGIC_AT + DUCKDB_MAGIC.len()
        && &head[DUCKDB_MAGIC_AT..DUCKDB_MAGIC_AT + DUCKDB_MAGIC.len()] == DUCKDB_MAGIC
    {
        FileKind::DuckDb
    } else if head.starts_with(SQLITE_MAGIC) {
        FileKind::Sqlite
    } else if head
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{' || *b == b'[')
    {
        FileKind::Json
    } else {
        FileKind::Other
    }
}

/// Refuses a file that exists but is no DuckDB database, before DuckDB opens it (DuckDB would
/// otherwise try an extension for a SQLite file, or report its own message).
///
/// # Errors
///
/// [`StoreError::NotADatabase`] saying what the file looks like and what to do.
pub fn refuse_non_duckdb(path: &Path) -> Result<()> {
    let what = match sniff_file(path) {
        FileKind::Absent | FileKind::DuckDb => return Ok(()),
        FileKind::Sqlite => "it is a SQLite database; pass --db with a HealthSim Persist database or a new file name".to_string(),
        FileKind::Json => format!(
            "it is JSON text; if it is a scenario or cohort file of the Python HealthSim, import it with \
             `healthsim import-legacy {}`, and pass --db with a database file",
            path.display()
        ),
        FileKind::Other => {
            "it does not start like a DuckDB file; pass --db with a HealthSim Persist database or a new file name"
                .to_string()
        }
    };
    Err(StoreError::NotADatabase {
        path: path.to_path_buf(),
        detail: format!("{what}; the file was left untouched"),
    }
    .into())
}

/// Whose schema the database of `conn` holds, from its catalog only (nothing is written).
///
/// # Errors
///
/// [`crate::Error::Database`] when the catalog cannot be read.
pub fn classify(conn: &Connection) -> Result<DatabaseKind> {
    // Fast path for our own database, the common case on every open: preparing a statement
    // over our columns binds against the catalog without scanning it (the catalog functions
    // below list every column of every table: 11 ms per open on a loaded 2-core machine).
    if conn
        .prepare("SELECT version, name, checksum FROM main.schema_migrations LIMIT 0")
        .is_ok()
    {
        return Ok(DatabaseKind::Ours);
    }
    let context = "reading the database catalog";
    let mut statement = conn
        .prepare(
            "SELECT schema_name, table_name FROM duckdb_tables() \
             WHERE database_name = current_database() AND NOT temporary \
             ORDER BY schema_name <> 'main', schema_name, table_name",
        )
        .map_err(db(context))?;
    let tables: Vec<(String, String)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db(context))?
        .collect::<std::result::Result<_, _>>()
        .map_err(db(context))?;
    if tables.is_empty() {
        return Ok(DatabaseKind::Empty);
    }
    let in_main = |name: &str| tables.iter().any(|(s, t)| s == "main" && t == name);
    let migrations = columns(conn, "schema_migrations")?;
    let has = |cols: &[String], name: &str| cols.iter().any(|c| c == name);
    if has(&migrations, "version") && has(&migrations, "name") && has(&migrations, "checksum") {
        return Ok(DatabaseKind::Ours);
    }
    let python_migrations = has(&migrations, "version") && has(&migrations, "description");
    let python_state = |table: &str| {
        columns(conn, table).map(|cols| has(&cols, "entity_data") && has(&cols, "entity_id"))
    };
    let era = if in_main("cohorts") && (python_migrations || python_state("cohort_entities")?) {
        Some(LegacyEra::Cohorts)
    } else if in_main("scenarios") && (python_migrations || python_state("scenario_entities")?) {
        Some(LegacyEra::Scenarios)
    } else {
        None
    };
    if let Some(era) = era {
        let recorded_version = if python_migrations {
            conn.query_row(
                "SELECT max(CAST(version AS VARCHAR)) FROM main.schema_migrations",
                [],
                |r| r.get::<_, Option<String>>(0),
            )
            .map_err(db(context))?
        } else {
            None
        };
        return Ok(DatabaseKind::PythonHealthSim {
            era,
            recorded_version,
        });
    }
    Ok(DatabaseKind::Foreign {
        table_count: tables.len(),
        examples: tables
            .iter()
            .take(EXAMPLE_TABLES)
            .map(|(s, t)| {
                if s == "main" {
                    t.clone()
                } else {
                    format!("{s}.{t}")
                }
            })
            .collect(),
        has_schema_migrations: in_main("schema_migrations"),
    })
}

/// The column names of `main.<table>` (empty when there is no such table).
pub(crate) fn columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let context = "reading the database catalog";
    let mut statement = conn
        .prepare_cached(
            "SELECT column_name FROM duckdb_columns() \
             WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ? \
             ORDER BY column_index",
        )
        .map_err(db(context))?;
    let names = statement
        .query_map([table], |r| r.get::<_, String>(0))
        .map_err(db(context))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(db(context))?;
    Ok(names)
}

/// Refuses a database that is neither empty nor ours, before any migration touches it.
///
/// # Errors
///
/// [`StoreError::ForeignDatabase`] naming what the file is and what to do; the errors of
/// [`classify`].
pub fn refuse_foreign(conn: &Connection, path: &Path) -> Result<()> {
    let found = match classify(conn)? {
        DatabaseKind::Empty | DatabaseKind::Ours => return Ok(()),
        DatabaseKind::PythonHealthSim {
            era,
            recorded_version,
        } => format!(
            "a HealthSim (Python) database, schema era {}{}; it is left untouched. Import its {} with \
             `healthsim import-legacy {} --db NEW.duckdb` (NEW.duckdb: a new file for this program), \
             and use that file with --db or $HEALTHSIM_DB from then on",
            era.describe(),
            recorded_version
                .map(|v| format!(", recorded version {v}"))
                .unwrap_or_default(),
            match era {
                LegacyEra::Scenarios => "scenarios",
                LegacyEra::Cohorts => "cohorts",
            },
            path.display()
        ),
        DatabaseKind::Foreign {
            table_count,
            examples,
            has_schema_migrations,
        } => format!(
            "a DuckDB database of another application ({table_count} table(s), e.g. {}; {}); it is \
             left untouched. Pass --db (or set $HEALTHSIM_DB) with a HealthSim Persist database or a \
             new file name",
            examples.join(", "),
            if has_schema_migrations {
                "its schema_migrations table is not HealthSim Persist's"
            } else {
                "no HealthSim Persist schema_migrations table"
            }
        ),
    };
    Err(StoreError::ForeignDatabase {
        path: path.to_path_buf(),
        found,
    }
    .into())
}

/// [`refuse_foreign`] for a lake: tables in the lake's catalog that are not ours (whatever made
/// them) are refused before a migration can touch them.
///
/// # Errors
///
/// [`StoreError::ForeignDatabase`] naming the lake (its secrets hidden).
pub fn refuse_foreign_lake(conn: &Connection, lake: &crate::target::LakeTarget) -> Result<()> {
    let (table_count, examples) = match classify(conn)? {
        DatabaseKind::Empty | DatabaseKind::Ours => return Ok(()),
        DatabaseKind::PythonHealthSim { .. } => (None, Vec::new()),
        DatabaseKind::Foreign {
            table_count,
            examples,
            ..
        } => (Some(table_count), examples),
    };
    Err(StoreError::ForeignDatabase {
        path: std::path::PathBuf::from(lake.to_string()),
        found: format!(
            "a lake whose catalog holds tables that are not HealthSim Persist's{}; it is left \
             untouched. Give the lake a PostgreSQL database of its own",
            match table_count {
                Some(n) => format!(" ({n} table(s), e.g. {})", examples.join(", ")),
                None => " (a HealthSim (Python) schema)".into(),
            }
        ),
    }
    .into())
}
