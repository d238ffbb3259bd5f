//! The one error type of this crate, [`Error`], and [`Position`], the place in the input a
//! resource was read from. Both live here because persist's own error names a position too (a
//! resource its validation rejects), and it should write it the way these messages do without
//! reaching into the import driver.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

/// Why FHIR input could not be read or mapped.
///
/// Every variant names where the problem is (file, line, bundle entry where known) and what
/// was wrong, so a caller can report it and go on with the next resource.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder could not be opened or read.
    #[error("cannot read {}: {source}", file.display())]
    Io {
        /// The file or folder.
        file: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A gzip-compressed file (`.gz`) does not decompress: not gzip, corrupt or cut short.
    /// The resources before the damage have been read; the rest of the file is not.
    #[error("cannot decompress {} (gzip): {source}", file.display())]
    Decompress {
        /// The file.
        file: PathBuf,
        /// What the decoder reported.
        source: std::io::Error,
    },
    /// A file (or one NDJSON line) is not valid JSON.
    #[error("invalid json in {}{}: {reason}", file.display(), line.map(|l| format!(" line {l}")).unwrap_or_default())]
    InvalidJson {
        /// The file.
        file: PathBuf,
        /// 1-based line: the NDJSON line, or the line of a `.json` file the parser stopped at.
        line: Option<usize>,
        /// What the JSON parser reported.
        reason: String,
    },
    /// Valid JSON that is not a well-formed FHIR R4 resource for the mapping: not an object, no
    /// `resourceType`, no id, an element of the wrong shape (`subject` as a string), a date that
    /// does not parse, a required element missing, a unit that cannot be converted.
    #[error("{}", malformed_message(resource_type.as_deref(), id.as_deref(), position.as_deref(), reason))]
    Malformed {
        /// The resource's `resourceType`, if it has one.
        resource_type: Option<String>,
        /// The resource's id (or the uuid of its bundle entry's `fullUrl`), if known.
        id: Option<String>,
        /// Where it was read (absent when a resource is mapped on its own). Boxed to keep the
        /// error small.
        position: Option<Box<Position>>,
        /// What is wrong, naming the FHIR element.
        reason: String,
    },
}

/// Where in the input a resource was read.
///
/// It displays as `file:line, bundle entry N` (the parts that are known), the way every message
/// of this crate and of the import names a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The file (or the label of a reader).
    pub file: PathBuf,
    /// 1-based NDJSON line.
    pub line: Option<usize>,
    /// 0-based index of the entry in the enclosing Bundle.
    pub entry: Option<usize>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(entry) = self.entry {
            write!(f, ", bundle entry {entry}")?;
        }
        Ok(())
    }
}

impl Error {
    /// Whether the input is at fault (true) rather than the machine (false): a path that does
    /// not exist, text that is not JSON and a resource that is not well-formed FHIR are the
    /// caller's to fix; any other I/O failure (permissions, a disk error) is not something a
    /// different request would cure. Written as an exhaustive match so a new variant must be
    /// classified.
    pub fn is_caller_error(&self) -> bool {
        match self {
            Error::Io { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
            Error::Decompress { .. } | Error::InvalidJson { .. } | Error::Malformed { .. } => true,
        }
    }

    /// An [`Error::Malformed`] without a position (the reader adds it).
    pub(crate) fn malformed(
        resource_type: Option<&str>,
        id: Option<&str>,
        reason: impl Into<String>,
    ) -> Error {
        Error::Malformed {
            resource_type: resource_type.map(str::to_string),
            id: id.map(str::to_string),
            position: None,
            reason: reason.into(),
        }
    }

    /// The same error, placed in `file` at `line` / bundle `entry` (fields already set win).
    pub(crate) fn located(self, file: &Path, line: Option<usize>, entry: Option<usize>) -> Error {
        match self {
            Error::Malformed {
                resource_type,
                id,
                position,
                reason,
            } => {
                let position = match position {
                    Some(mut known) => {
                        known.line = known.line.or(line);
                        known.entry = known.entry.or(entry);
                        known
                    }
                    None => Box::new(Position {
                        file: file.to_path_buf(),
                        line,
                        entry,
                    }),
                };
                Error::Malformed {
                    resource_type,
                    id,
                    position: Some(position),
                    reason,
                }
            }
            other => other,
        }
    }
}

fn malformed_message(
    resource_type: Option<&str>,
    id: Option<&str>,
    position: Option<&Position>,
    reason: &str,
) -> String {
    let mut out = String::from("malformed fhir resource");
    match (resource_type, id) {
        (Some(t), Some(id)) => {
            let _ = write!(out, " {t}/{id}");
        }
        (Some(t), None) => {
            let _ = write!(out, " {t}");
        }
        (None, Some(id)) => {
            let _ = write!(out, " with id {id}");
        }
        (None, None) => {}
    }
    if let Some(position) = position {
        let _ = write!(out, " ({position})");
    }
    let _ = write!(out, ": {reason}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One line per variant: whether the input is at fault.
    #[test]
    fn every_variant_is_classified() {
        check(missing(), true);
        check(unreadable(), false);
        check(invalid_json(), true);
        check(
            Error::Decompress {
                file: PathBuf::from("in.ndjson.gz"),
                source: std::io::Error::from(std::io::ErrorKind::InvalidData),
            },
            true,
        );
        check(Error::malformed(Some("Patient"), None, "missing id"), true);
    }

    fn check(error: Error, caller: bool) {
        assert_eq!(error.is_caller_error(), caller, "{error}");
    }

    fn missing() -> Error {
        Error::Io {
            file: PathBuf::from("in.ndjson"),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        }
    }

    fn unreadable() -> Error {
        Error::Io {
            file: PathBuf::from("in.ndjson"),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        }
    }

    fn invalid_json() -> Error {
        Error::InvalidJson {
            file: PathBuf::from("in.ndjson"),
            line: Some(3),
            reason: "EOF while parsing a value".into(),
        }
    }

    #[test]
    fn positions_name_file_line_and_entry() {
        let position = |line, entry| Position {
            file: PathBuf::from("bulk/Claim.ndjson"),
            line,
            entry,
        };
        assert_eq!(position(None, None).to_string(), "bulk/Claim.ndjson");
        assert_eq!(position(Some(7), None).to_string(), "bulk/Claim.ndjson:7");
        assert_eq!(
            position(None, Some(2)).to_string(),
            "bulk/Claim.ndjson, bundle entry 2"
        );
        assert_eq!(
            position(Some(7), Some(2)).to_string(),
            "bulk/Claim.ndjson:7, bundle entry 2"
        );
    }
}
