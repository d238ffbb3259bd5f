//! Loads DuckDB's signed DuckLake, PostgreSQL and httpfs extensions from the folder `cargo xtask
//! setup` filled, and from nowhere else.
//!
//! Why it exists: the lake backend keeps scenarios in a DuckLake whose catalog is a PostgreSQL
//! database, which needs the `ducklake` and `postgres_scanner` extensions, and `httpfs` when the
//! lake's data files are in S3 object storage. Left to itself,
//! DuckDB would download and install them on first use, from the network, into the user's home;
//! a test run or a server must not depend on that, and must never run an extension nobody
//! verified. So `cargo xtask setup` fetches the binaries once, pinned by SHA-256, into
//! `extensions/` next to the library (xtask/src/extensions.rs), and [`load`] loads exactly that
//! file with DuckDB's automatic install and load turned off. The verification at load time is
//! DuckDB's own: it refuses a file whose signature does not match DuckDB's keys, or that was
//! built for another DuckDB version, as long as `allow_unsigned_extensions` is off, which
//! [`load`] insists on.
//!
//! Where the folder is: `$HEALTHSIM_EXTENSION_DIR` when set (a build that compiles DuckDB from
//! source, or a deployment that keeps the files elsewhere), otherwise the setup folder of the
//! DuckDB version this build links, which the build script resolves and bakes in.

use std::path::{Path, PathBuf};

use duckdb::Connection;

/// The variable that overrides the extension folder.
pub const DIRECTORY_VARIABLE: &str = "HEALTHSIM_EXTENSION_DIR";

/// The setup folder of the linked DuckDB version, resolved by the build script (absent when
/// DuckDB is compiled from source).
const SETUP_DIRECTORY: Option<&str> = option_env!("HEALTHSIM_SETUP_EXTENSION_DIR");

/// An extension the lake backend loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Extension {
    /// DuckLake, the lake format (`ducklake.duckdb_extension`).
    Ducklake,
    /// The PostgreSQL scanner, which DuckLake uses for a PostgreSQL catalog
    /// (`postgres_scanner.duckdb_extension`, named after its entry point).
    Postgres,
    /// HTTP and S3 file systems, for a lake whose data is in S3 (`httpfs.duckdb_extension`).
    Httpfs,
}

impl Extension {
    /// The extension's file name in the folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Extension::Ducklake => "ducklake.duckdb_extension",
            Extension::Postgres => "postgres_scanner.duckdb_extension",
            Extension::Httpfs => "httpfs.duckdb_extension",
        }
    }

    /// The name DuckDB knows the extension by (`duckdb_extensions()`).
    pub fn name(self) -> &'static str {
        match self {
            Extension::Ducklake => "ducklake",
            Extension::Postgres => "postgres_scanner",
            Extension::Httpfs => "httpfs",
        }
    }
}

/// Why an extension was not loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtensionError {
    /// The extension folder does not exist.
    #[error(
        "the DuckDB extension folder {} does not exist; run `cargo xtask setup` to fetch the \
         verified extensions, or set {DIRECTORY_VARIABLE} to a folder that holds them",
        directory.display()
    )]
    MissingDirectory {
        /// The folder looked for.
        directory: PathBuf,
    },
    /// This build has no setup folder (DuckDB compiled from source) and no
    /// `$HEALTHSIM_EXTENSION_DIR` is set.
    #[error(
        "no DuckDB extension folder is known to this build (DuckDB compiled from source); set \
         {DIRECTORY_VARIABLE} to a folder with the extensions `cargo xtask setup` fetches"
    )]
    NoDirectory,
    /// The extension's file is not in the folder.
    #[error(
        "the DuckDB extension {} is missing; run `cargo xtask setup` to fetch the verified \
         extensions",
        path.display()
    )]
    Missing {
        /// The file looked for.
        path: PathBuf,
    },
    /// The connection accepts unsigned extensions, so DuckDB would not verify the file.
    #[error(
        "refusing to load {}: the connection has allow_unsigned_extensions on, so DuckDB would \
         not check the extension's signature",
        path.display()
    )]
    UnsignedAllowed {
        /// The file that was not loaded.
        path: PathBuf,
    },
    /// DuckDB refused the file: its signature does not match DuckDB's keys, or it was built for
    /// another DuckDB version or platform.
    #[error("DuckDB refused the extension {}: {message}", path.display())]
    Refused {
        /// The file DuckDB refused.
        path: PathBuf,
        /// DuckDB's reason.
        message: String,
    },
    /// Any other failure while reading the settings or loading the file.
    #[error("could not load the DuckDB extension {}: {source}", path.display())]
    Other {
        /// The file being loaded.
        path: PathBuf,
        /// DuckDB's error.
        #[source]
        source: duckdb::Error,
    },
}

impl ExtensionError {
    /// Whether the caller's input caused the error: never. Each of these is a matter of the
    /// installation (run `cargo xtask setup`, set `$HEALTHSIM_EXTENSION_DIR`) or of the program
    /// that opened the connection, not of what an agent or a user sent.
    pub fn is_caller_error(&self) -> bool {
        match self {
            ExtensionError::MissingDirectory { .. }
            | ExtensionError::NoDirectory
            | ExtensionError::Missing { .. }
            | ExtensionError::UnsignedAllowed { .. }
            | ExtensionError::Refused { .. }
            | ExtensionError::Other { .. } => false,
        }
    }
}

/// The folder the extensions are loaded from: `$HEALTHSIM_EXTENSION_DIR` when set, else the one
/// `cargo xtask setup` filled for the DuckDB version this build links. An error names the
/// folder and `cargo xtask setup` when it does not exist.
pub fn directory() -> Result<PathBuf, ExtensionError> {
    let directory = match std::env::var_os(DIRECTORY_VARIABLE).filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(SETUP_DIRECTORY.ok_or(ExtensionError::NoDirectory)?),
    };
    if !directory.is_dir() {
        return Err(ExtensionError::MissingDirectory { directory });
    }
    Ok(directory)
}

/// The `LOAD` statement of `ext` from [`directory`], for a connection that runs it later (a
/// sandbox's setup; [`load`] runs it now, after its checks).
///
/// # Errors
///
/// [`ExtensionError::Missing`] when the file is not there, and [`directory`]'s errors.
pub fn load_statement(ext: Extension) -> Result<String, ExtensionError> {
    file(ext).map(|path| load_sql(&path))
}

/// The absolute path of `ext`'s file in [`directory`], which must exist.
fn file(ext: Extension) -> Result<PathBuf, ExtensionError> {
    let path = directory()?.join(ext.file_name());
    let path = std::path::absolute(&path).unwrap_or(path);
    if !path.is_file() {
        return Err(ExtensionError::Missing { path });
    }
    Ok(path)
}

/// `LOAD` of the file at `path`. LOAD takes no parameters; the path is ours (setup's folder or
/// the operator's variable) and is quoted as a string literal.
fn load_sql(path: &Path) -> String {
    let literal = path.to_string_lossy().replace('\'', "''");
    format!("LOAD '{literal}'")
}

/// Loads `ext` from [`directory`] into `conn`'s database. Refuses a connection that accepts
/// unsigned extensions; turns DuckDB's automatic install and load of known extensions off (so
/// nothing is fetched behind our back); DuckDB checks the file's signature and version.
pub fn load(conn: &Connection, ext: Extension) -> Result<(), ExtensionError> {
    let path = file(ext)?;
    let other = |source| ExtensionError::Other {
        path: path.clone(),
        source,
    };
    let unsigned: bool = conn
        .query_row(
            "SELECT current_setting('allow_unsigned_extensions')::BOOLEAN",
            [],
            |row| row.get(0),
        )
        .map_err(other)?;
    if unsigned {
        return Err(ExtensionError::UnsignedAllowed { path });
    }
    conn.execute_batch(
        "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false;",
    )
    .map_err(other)?;
    conn.execute_batch(&load_sql(&path)).map_err(|source| {
        let message = source.to_string();
        if is_refusal(&message) {
            ExtensionError::Refused {
                path: path.clone(),
                message,
            }
        } else {
            other(source)
        }
    })
}

/// Whether DuckDB's LOAD error is its verdict on the file itself (signature, version, platform)
/// rather than a failure to read it.
fn is_refusal(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    [
        "signature",
        "built for duckdb version",
        "platform",
        "not a duckdb extension",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}
