//! Append-only, numbered migrations with pinned checksums.
//!
//! Each migration is a SQL file embedded with `include_str!`. Applying one runs its SQL and
//! records `(version, name, checksum)` in `schema_migrations` in one transaction, so a failure
//! leaves the database at the previous version. Before applying anything, the recorded history is
//! verified against the code: an edited migration (checksum differs), a missing one, or a database
//! newer than the code is refused.
//!
//! Each entry also carries the checksum it had when it was frozen ([`Migration::pinned`]).
//! [`verify_pins`] compares the two, so editing a shipped migration (even a comment) fails the
//! test suite and `cargo xtask check` on the developer's machine, instead of failing every
//! existing database with [`Error::ChecksumMismatch`] on the user's.

use duckdb::{params, Connection};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::registry::MIGRATIONS_TABLE;
use crate::Error;

/// One migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Version number, starting at 1, without gaps. Compared as a number.
    pub version: u32,
    /// Short name (from the file name).
    pub name: &'static str,
    /// The SQL script.
    pub sql: &'static str,
    /// The checksum of `sql` when the migration was frozen, written out by hand. Never update it
    /// to match an edited file: add a new migration instead.
    pub pinned: &'static str,
}

impl Migration {
    /// The pinned checksum: `sha256:` + hex SHA-256 of the SQL with line endings normalized to `\n`.
    pub fn checksum(&self) -> String {
        checksum_of(self.sql)
    }
}

/// The checksum algorithm (pinned: changing it would invalidate every recorded checksum).
pub fn checksum_of(sql: &str) -> String {
    let normalized = sql.replace("\r\n", "\n");
    let digest = Sha256::digest(normalized.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The project's migrations, oldest first. Append only: never edit or remove one.
pub static MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial_schema",
        sql: include_str!("../migrations/V0001__initial_schema.sql"),
        pinned: "sha256:b4a70c8846251db54f9b17a770b400dfd0361a7e99794f47790ececd002a6455",
    },
    Migration {
        version: 2,
        name: "scenario_indexes",
        sql: include_str!("../migrations/V0002__scenario_indexes.sql"),
        pinned: "sha256:d85348e5260671b4a0db62dccb3d1e807b400879fd4dc95156231ae23f9c6c77",
    },
    Migration {
        version: 3,
        name: "drop_scenario_indexes",
        sql: include_str!("../migrations/V0003__drop_scenario_indexes.sql"),
        pinned: "sha256:fcc59e9b56af5d2f19d1702769a0ea98e7038ebe8d69c839ebc746a6717836e6",
    },
    Migration {
        version: 4,
        name: "fhir_immunizations_and_resources",
        sql: include_str!("../migrations/V0004__fhir_immunizations_and_resources.sql"),
        pinned: "sha256:5db6f73b1eddc3bd4962b93e769a5b7f1624e0d0fac8c69def004f428de08d41",
    },
    Migration {
        version: 5,
        name: "logical_keys",
        sql: include_str!("../migrations/V0005__logical_keys.sql"),
        pinned: "sha256:b9f1f5ac5280896a9a01fce71bbfeb64e3971ca3611082b36410f3526449eb3d",
    },
    Migration {
        version: 6,
        name: "scenario_statistics",
        sql: include_str!("../migrations/V0006__scenario_statistics.sql"),
        pinned: "sha256:809990dc0f0a4a4958875db4cde6fd54b45e21241569ed016c2bc8731e54b2f5",
    },
    Migration {
        version: 7,
        name: "statistics_birth_months",
        sql: include_str!("../migrations/V0007__statistics_birth_months.sql"),
        pinned: "sha256:d28da7478cb0d51c47be0faf84508fdd238d3a00c9ec64399ae187cf6040ef59",
    },
];

/// Every migration's SQL still has the checksum pinned when it was frozen; the first that does
/// not is [`Error::EditedMigration`]. Run by the schema tests and `cargo xtask check`.
pub fn verify_pins(migrations: &[Migration]) -> Result<(), Error> {
    for m in migrations {
        let actual = m.checksum();
        if actual != m.pinned {
            return Err(Error::EditedMigration {
                version: m.version,
                name: m.name.to_string(),
                pinned: m.pinned.to_string(),
                actual,
            });
        }
    }
    Ok(())
}

/// The version the code brings a database to.
pub fn head_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// A migration recorded in `schema_migrations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedMigration {
    /// Version.
    pub version: u32,
    /// Name.
    pub name: String,
    /// Checksum recorded when it was applied.
    pub checksum: String,
}

/// Where a database stands relative to the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaStatus {
    /// Highest applied version (0 for an empty database).
    pub current_version: u32,
    /// Highest version the code knows.
    pub head_version: u32,
    /// Applied migrations, oldest first.
    pub applied: Vec<AppliedMigration>,
    /// Versions the code would apply.
    pub pending: Vec<u32>,
}

/// What a call to [`migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationReport {
    /// Version before.
    pub from_version: u32,
    /// Version after.
    pub to_version: u32,
    /// Versions applied by this call.
    pub applied: Vec<u32>,
}

/// Brings the database to the head version. Idempotent.
pub fn migrate(conn: &Connection) -> Result<MigrationReport, Error> {
    migrate_with(conn, MIGRATIONS, None)
}

/// Applies `migrations` up to `target` (or all). Used by [`migrate`] and by tests that build
/// databases at older versions or inject a failing migration.
pub fn migrate_with(
    conn: &Connection,
    migrations: &[Migration],
    target: Option<u32>,
) -> Result<MigrationReport, Error> {
    validate_sequence(migrations)?;
    // A lake runs the same files without what DuckLake refuses (see `dialect`).
    let dialect = crate::dialect::Dialect::of(conn).map_err(|source| Error::Database {
        context: "reading which kind of database this is".into(),
        source,
    })?;
    ensure_migrations_table(conn)?;
    let applied = read_applied(conn)?;
    verify_history(&applied, migrations)?;
    let from_version = applied.last().map_or(0, |m| m.version);
    let target = target.unwrap_or_else(|| migrations.last().map_or(0, |m| m.version));
    let mut done = Vec::new();
    for m in migrations
        .iter()
        .filter(|m| m.version > from_version && m.version <= target)
    {
        apply_one(conn, m, dialect)?;
        done.push(m.version);
    }
    Ok(MigrationReport {
        from_version,
        to_version: done.last().copied().unwrap_or(from_version),
        applied: done,
    })
}

/// Reads the recorded history and compares it with the code, without changing anything.
pub fn status(conn: &Connection) -> Result<SchemaStatus, Error> {
    status_with(conn, MIGRATIONS)
}

/// [`status`] against a given migration list.
pub fn status_with(conn: &Connection, migrations: &[Migration]) -> Result<SchemaStatus, Error> {
    validate_sequence(migrations)?;
    let applied = if migrations_table_exists(conn)? {
        read_applied(conn)?
    } else {
        Vec::new()
    };
    verify_history(&applied, migrations)?;
    let current_version = applied.last().map_or(0, |m| m.version);
    Ok(SchemaStatus {
        current_version,
        head_version: migrations.last().map_or(0, |m| m.version),
        pending: migrations
            .iter()
            .map(|m| m.version)
            .filter(|v| *v > current_version)
            .collect(),
        applied,
    })
}

/// The code's own list must be 1, 2, 3, ... with no repeats or gaps.
fn validate_sequence(migrations: &[Migration]) -> Result<(), Error> {
    for (i, m) in migrations.iter().enumerate() {
        let expected = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if m.version == expected {
            continue;
        }
        if migrations[..i].iter().any(|p| p.version == m.version) {
            return Err(Error::DuplicateMigration { version: m.version });
        }
        return Err(Error::MissingMigration { version: expected });
    }
    Ok(())
}

fn migrations_table_exists(conn: &Connection) -> Result<bool, Error> {
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
            params![MIGRATIONS_TABLE],
            |row| row.get(0),
        )
        .map_err(|source| Error::Database {
            context: "looking for schema_migrations".into(),
            source,
        })?;
    Ok(n > 0)
}

pub(crate) fn ensure_migrations_table(conn: &Connection) -> Result<(), Error> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER NOT NULL,
            name VARCHAR NOT NULL,
            checksum VARCHAR NOT NULL,
            applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );",
    )
    .map_err(|source| Error::Database {
        context: "creating schema_migrations".into(),
        source,
    })
}

fn read_applied(conn: &Connection) -> Result<Vec<AppliedMigration>, Error> {
    let context = || "reading schema_migrations".to_string();
    let mut stmt = conn
        .prepare("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        .map_err(|source| Error::Database {
            context: context(),
            source,
        })?;
    let rows = stmt
        .query_map([], |row| {
            let version: i64 = row.get(0)?;
            Ok(AppliedMigration {
                version: u32::try_from(version).unwrap_or(u32::MAX),
                name: row.get(1)?,
                checksum: row.get(2)?,
            })
        })
        .map_err(|source| Error::Database {
            context: context(),
            source,
        })?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|source| Error::Database {
            context: context(),
            source,
        })
}

fn verify_history(applied: &[AppliedMigration], migrations: &[Migration]) -> Result<(), Error> {
    let head = migrations.last().map_or(0, |m| m.version);
    if let Some(newest) = applied.last() {
        if newest.version > head {
            return Err(Error::DatabaseNewer {
                database_version: newest.version,
                code_version: head,
            });
        }
    }
    for (i, recorded) in applied.iter().enumerate() {
        let expected = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if recorded.version != expected {
            return Err(Error::MissingMigration { version: expected });
        }
        let Some(code) = migrations.iter().find(|m| m.version == recorded.version) else {
            return Err(Error::MissingMigration {
                version: recorded.version,
            });
        };
        let expected_checksum = code.checksum();
        if recorded.checksum != expected_checksum {
            return Err(Error::ChecksumMismatch {
                version: recorded.version,
                name: recorded.name.clone(),
                recorded: recorded.checksum.clone(),
                expected: expected_checksum,
            });
        }
    }
    Ok(())
}

fn apply_one(
    conn: &Connection,
    m: &Migration,
    dialect: crate::dialect::Dialect,
) -> Result<(), Error> {
    let fail = |source| Error::MigrationFailed {
        version: m.version,
        name: m.name.to_string(),
        source,
    };
    conn.execute_batch("BEGIN TRANSACTION").map_err(fail)?;
    let result = conn.execute_batch(&dialect.render(m.sql)).and_then(|()| {
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
            params![m.version, m.name, m.checksum()],
        )
        .map(|_| ())
    });
    match result {
        Ok(()) => {
            crate::crash::point("migrate.applied");
            conn.execute_batch("COMMIT").map_err(fail)?;
            crate::crash::point("migrate.committed");
            Ok(())
        }
        Err(e) => {
            // The transaction is already aborted; a failing rollback adds nothing useful to report.
            let _ = conn.execute_batch("ROLLBACK");
            Err(fail(e))
        }
    }
}
