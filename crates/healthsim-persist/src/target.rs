//! [`Target`]: where a [`Store`](crate::Store) keeps its scenarios. A DuckDB file on this
//! machine (the default, and what every path on the command line means), or a **DuckLake**: a
//! catalog in a PostgreSQL database plus Parquet data files in a folder that several machines
//! share, so that many processes on many machines read and write the same scenarios.
//!
//! A lake is named by one string, usable wherever a database path is (`--db`,
//! `$HEALTHSIM_DB`, the MCP server's configuration):
//!
//! ```text
//! ducklake:postgres:dbname=healthsim host=pg.internal user=agent data_path=/mnt/lake/
//! ```
//!
//! After `ducklake:postgres:` comes a libpq connection string in its keyword/value form
//! (`key=value` words, values with spaces in single quotes), handed to PostgreSQL's own client
//! library unchanged except for one keyword of ours: `data_path`, the folder of the Parquet
//! files. It is needed once, when the lake is created (DuckLake records it in the catalog);
//! later it may be left out, and when given it must equal the recorded one. Credentials come
//! from where libpq looks for them (`PGPASSWORD`, `~/.pgpass`, a `service=` entry of a service
//! file); a `password=` in the string works but is never shown: [`Target`]'s `Display` and
//! every error that quotes the lake print `password=***`, and [`LakeTarget::redact`] removes
//! the secret from a message that echoes it (a driver's connection error may).
//!
//! What this module does not know: how a lake is opened (the store's connections, with the
//! extensions of `healthsim_schema::extensions`), and anything about a URI form of libpq
//! (`postgresql://…`), which is refused with a pointer to the keyword form: one form is
//! enough, and it is the one whose secrets can be found reliably.

use std::fmt;
use std::path::{Path, PathBuf};

/// The prefix that makes a database name a DuckLake with a PostgreSQL catalog.
pub const LAKE_PREFIX: &str = "ducklake:postgres:";

/// Our keyword in a lake's connection string: the folder of its Parquet files.
pub const DATA_PATH_KEY: &str = "data_path";

/// Where a store keeps its scenarios.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    /// A DuckDB database file (created when missing).
    File(PathBuf),
    /// A DuckLake: PostgreSQL catalog, Parquet data.
    Lake(LakeTarget),
}

/// A DuckLake with its catalog in PostgreSQL.
#[derive(Clone, PartialEq, Eq)]
pub struct LakeTarget {
    /// The connection string's words except `data_path`, in their order.
    words: Vec<(String, String)>,
    /// The folder of the data files, when given.
    data_path: Option<PathBuf>,
}

/// Why a database name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The name starts like a lake of another catalog kind (`ducklake:sqlite:…`) or with
    /// `ducklake:` alone.
    #[error(
        "unsupported lake {given:?}: only a PostgreSQL catalog is supported; write \
         {LAKE_PREFIX}dbname=… host=… data_path=/folder/"
    )]
    UnsupportedCatalog {
        /// What came after `ducklake:`, up to the next `:`.
        given: String,
    },
    /// The connection string is a `postgresql://` URI.
    #[error(
        "a lake's PostgreSQL connection is written as key=value words (dbname=… host=… user=…), \
         not as a URI"
    )]
    UriForm,
    /// Nothing after the prefix.
    #[error("the lake names no PostgreSQL database: write {LAKE_PREFIX}dbname=… host=… data_path=/folder/")]
    EmptyConnection,
    /// A word of the connection string is not `key=value`, or a quote is not closed.
    #[error("the lake's connection string cannot be read at {at:?}: {reason}")]
    Malformed {
        /// The word (a password's value is never included).
        at: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// `data_path` is relative or empty.
    #[error("the lake's data_path must be an absolute folder path, got {given:?}")]
    RelativeDataPath {
        /// The value given.
        given: String,
    },
    /// `data_path` names a storage other than a folder or S3 (`gs://`, `az://`, `http://`, …).
    #[error(
        "the lake's data_path {given:?} is a storage this build does not write; give an absolute \
         folder (a local or shared file system) or S3 object storage as s3://bucket/prefix/"
    )]
    UnsupportedStorage {
        /// The value given.
        given: String,
    },
    /// `data_path` is an S3 address without a bucket (`s3://`, `s3:///prefix/`).
    #[error("the lake's data_path {given:?} names no bucket; write s3://bucket/prefix/")]
    NoBucket {
        /// The value given.
        given: String,
    },
}

impl Target {
    /// Reads a database name: a lake when it starts with `ducklake:`, else a file path.
    ///
    /// # Errors
    ///
    /// The [`TargetError`] naming what is wrong with a lake's string.
    pub fn parse(text: &str) -> Result<Target, TargetError> {
        let Some(rest) = text.strip_prefix("ducklake:") else {
            return Ok(Target::File(PathBuf::from(text)));
        };
        let Some(conninfo) = rest.strip_prefix("postgres:") else {
            let given = rest.split(':').next().unwrap_or_default().to_string();
            return Err(TargetError::UnsupportedCatalog { given });
        };
        LakeTarget::parse(conninfo).map(Target::Lake)
    }

    /// The file, for a file target.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Target::File(path) => Some(path),
            Target::Lake(_) => None,
        }
    }

    /// The lake, for a lake target.
    pub fn lake(&self) -> Option<&LakeTarget> {
        match self {
            Target::File(_) => None,
            Target::Lake(lake) => Some(lake),
        }
    }

    /// The folder that the database's files for its user (exports, reports) go to and that an
    /// MCP client's relative paths start from: a file's own folder (empty, i.e. the working
    /// directory, for a bare file name). A lake's data folder is not one to write into — it is
    /// shared, and maintenance deletes every file its catalog does not name — so for a lake it
    /// is the user's own HealthSim folder, `~/.healthsim`, where the default database lives
    /// (empty without `HOME`).
    pub fn folder(&self) -> PathBuf {
        match self {
            Target::File(path) => path.parent().map(Path::to_path_buf).unwrap_or_default(),
            Target::Lake(_) => std::env::var_os("HOME")
                .filter(|home| !home.is_empty())
                .map(|home| PathBuf::from(home).join(".healthsim"))
                .unwrap_or_default(),
        }
    }
}

impl From<PathBuf> for Target {
    fn from(path: PathBuf) -> Target {
        Target::File(path)
    }
}

impl From<&Path> for Target {
    fn from(path: &Path) -> Target {
        Target::File(path.to_path_buf())
    }
}

/// The file's path, or the lake's string with its password hidden.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::File(path) => write!(f, "{}", path.display()),
            Target::Lake(lake) => write!(f, "{lake}"),
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({self})")
    }
}

impl LakeTarget {
    /// Reads the connection string after [`LAKE_PREFIX`].
    ///
    /// # Errors
    ///
    /// [`TargetError::EmptyConnection`], [`TargetError::UriForm`],
    /// [`TargetError::Malformed`], [`TargetError::RelativeDataPath`],
    /// [`TargetError::UnsupportedStorage`], [`TargetError::NoBucket`].
    pub fn parse(conninfo: &str) -> Result<LakeTarget, TargetError> {
        let trimmed = conninfo.trim();
        if trimmed.is_empty() {
            return Err(TargetError::EmptyConnection);
        }
        if trimmed.starts_with("postgresql://") || trimmed.starts_with("postgres://") {
            return Err(TargetError::UriForm);
        }
        let mut words = Vec::new();
        let mut data_path = None;
        for (key, value) in split_words(trimmed)? {
            if key == DATA_PATH_KEY {
                data_path = Some(data_folder(&value)?);
            } else {
                words.push((key, value));
            }
        }
        if words.is_empty() {
            return Err(TargetError::EmptyConnection);
        }
        Ok(LakeTarget { words, data_path })
    }

    /// The folder of the data files, when the string gives one: a file system path, or an S3
    /// address (`s3://bucket/prefix/`, see [`is_object_storage`]).
    pub fn data_path(&self) -> Option<&Path> {
        self.data_path.as_deref()
    }

    /// The libpq connection string (without `data_path`), secrets included: for the driver
    /// only, never for display.
    pub fn conninfo(&self) -> String {
        self.words
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The connection string without its `password` (handed to the driver apart, so that it is
    /// in no attached database's name): for the driver only, never for display.
    pub fn conninfo_without_password(&self) -> String {
        self.words
            .iter()
            .filter(|(k, _)| k != "password")
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The string's `password`, if it gives one (never for display).
    pub fn password(&self) -> Option<&str> {
        self.words
            .iter()
            .rev()
            .find(|(k, _)| k == "password")
            .map(|(_, v)| v.as_str())
    }

    /// The values of the connection string's secrets (to keep out of any message).
    pub fn secrets(&self) -> Vec<String> {
        self.words
            .iter()
            .filter(|(key, value)| is_secret(key) && !value.is_empty())
            .map(|(_, value)| value.clone())
            .collect()
    }

    /// `text` with every secret of the connection string replaced by `***` (for messages of
    /// drivers that echo their connection string).
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (key, value) in &self.words {
            if is_secret(key) && !value.is_empty() {
                out = out.replace(value.as_str(), "***");
            }
        }
        out
    }
}

impl fmt::Display for LakeTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{LAKE_PREFIX}")?;
        let mut first = true;
        for (key, value) in &self.words {
            if !first {
                write!(f, " ")?;
            }
            first = false;
            if is_secret(key) {
                write!(f, "{key}=***")?;
            } else {
                write!(f, "{key}={}", quote(value))?;
            }
        }
        if let Some(path) = &self.data_path {
            write!(f, " {DATA_PATH_KEY}={}", quote(&path.display().to_string()))?;
        }
        Ok(())
    }
}

impl fmt::Debug for LakeTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LakeTarget({self})")
    }
}

/// Keywords whose values are secrets (libpq's `password`; `sslpassword` unlocks a key).
fn is_secret(key: &str) -> bool {
    matches!(key, "password" | "sslpassword")
}

/// A value as libpq reads it back: bare when it has no space, quote or backslash, else in
/// single quotes with `'` and `\` escaped.
fn quote(value: &str) -> String {
    if !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '\\')
    {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// libpq's keyword/value syntax: words separated by white space, `key = value` (spaces around
/// `=` allowed), a value in single quotes may hold spaces, `\'` and `\\` escape inside.
fn split_words(text: &str) -> Result<Vec<(String, String)>, TargetError> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut words = Vec::new();
    let skip_space = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_space(&mut i);
        if i == chars.len() {
            return Ok(words);
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '=' {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        skip_space(&mut i);
        if i == chars.len() || chars[i] != '=' {
            return Err(TargetError::Malformed {
                at: key,
                reason: "expected key=value",
            });
        }
        i += 1;
        skip_space(&mut i);
        if key.is_empty() {
            return Err(TargetError::Malformed {
                at: "=".into(),
                reason: "a value without a key",
            });
        }
        let mut value = String::new();
        if i < chars.len() && chars[i] == '\'' {
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(TargetError::Malformed {
                            at: key,
                            reason: "a quoted value is not closed",
                        })
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some('\\') if i + 1 < chars.len() => {
                        value.push(chars[i + 1]);
                        i += 2;
                    }
                    Some(c) => {
                        value.push(*c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                value.push(chars[i]);
                i += 1;
            }
        }
        words.push((key, value));
    }
}

/// The data folder: an absolute file system path, or an S3 address with a bucket.
fn data_folder(value: &str) -> Result<PathBuf, TargetError> {
    if let Some(rest) = value.strip_prefix(S3_SCHEME) {
        if rest.split('/').next().unwrap_or_default().is_empty() {
            return Err(TargetError::NoBucket {
                given: value.to_string(),
            });
        }
        return Ok(PathBuf::from(value));
    }
    let scheme = value.split_once("://").map(|(s, _)| s);
    if scheme.is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric())) {
        return Err(TargetError::UnsupportedStorage {
            given: value.to_string(),
        });
    }
    let path = PathBuf::from(value);
    if value.is_empty() || !path.is_absolute() {
        return Err(TargetError::RelativeDataPath {
            given: value.to_string(),
        });
    }
    Ok(path)
}

/// The scheme of a data path in S3 object storage.
pub const S3_SCHEME: &str = "s3://";

/// Whether a lake's data path (as given or as its catalog records it) is in S3 object storage
/// rather than a folder of the file system.
pub fn is_object_storage(data_path: &Path) -> bool {
    data_path.to_str().is_some_and(|p| p.starts_with(S3_SCHEME))
}
