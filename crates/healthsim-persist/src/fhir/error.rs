//! The one error type of the FHIR import: [`FhirError`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Why FHIR input could not be read or mapped.
///
/// Every variant names where the problem is (file, line, bundle entry where known) and what
/// was wrong, so a caller can report it and go on with the next resource.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FhirError {
    /// A file or folder could not be opened or read.
    #[error("cannot read {}: {source}", file.display())]
    Io {
        /// The file or folder.
        file: PathBuf,
        /// The operating-system error.
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The file (or the label of a reader).
    pub file: PathBuf,
    /// 1-based NDJSON line.
    pub line: Option<usize>,
    /// 0-based index of the entry in the enclosing Bundle.
    pub entry: Option<usize>,
}

impl FhirError {
    /// A [`FhirError::Malformed`] without a position (the reader adds it).
    pub(crate) fn malformed(
        resource_type: Option<&str>,
        id: Option<&str>,
        reason: impl Into<String>,
    ) -> FhirError {
        FhirError::Malformed {
            resource_type: resource_type.map(str::to_string),
            id: id.map(str::to_string),
            position: None,
            reason: reason.into(),
        }
    }

    /// The same error, placed in `file` at `line` / bundle `entry` (fields already set win).
    pub(crate) fn located(
        self,
        file: &Path,
        line: Option<usize>,
        entry: Option<usize>,
    ) -> FhirError {
        match self {
            FhirError::Malformed {
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
                FhirError::Malformed {
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
        let _ = write!(out, " ({}", position.file.display());
        if let Some(line) = position.line {
            let _ = write!(out, ":{line}");
        }
        if let Some(entry) = position.entry {
            let _ = write!(out, ", bundle entry {entry}");
        }
        out.push(')');
    }
    let _ = write!(out, ": {reason}");
    out
}
