//! Writing the report file so that it appears whole or not at all: the HTML goes to a
//! temporary file beside the target, is flushed to disk, and is then hard-linked into place
//! (which fails if the target exists, so an existing file is never replaced by accident, not
//! even by a file created meanwhile) or, with `overwrite`, renamed over it.

use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use duckdb::Connection;
use serde::Serialize;

use crate::options::ReportOptions;
use crate::report::{render_report, Headline};
use crate::Error;

/// What [`write_report`] wrote: small enough for an MCP tool result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ReportSummary {
    /// The file written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The report's key numbers.
    pub headline: Headline,
}

/// Renders the report of `scenario_id` and writes it to `path` atomically.
///
/// The parent directory must exist (nothing but the report itself is created, as with
/// exports). Without [`ReportOptions::overwrite`] an existing `path` is an
/// [`Error::FileExists`] (checked before rendering, and again when the file is
/// put in place). Errors: those of [`render_report`], [`Error::FileExists`], and
/// [`Error::Write`] when the directory or file cannot be written; no temporary file is left
/// behind.
pub fn write_report(
    conn: &Connection,
    scenario_id: &str,
    path: impl AsRef<Path>,
    options: &ReportOptions,
) -> Result<ReportSummary, Error> {
    let path = path.as_ref();
    if !options.overwrite && fs::symlink_metadata(path).is_ok() {
        return Err(Error::FileExists {
            path: path.to_path_buf(),
        });
    }
    let report = render_report(conn, scenario_id, options)?;
    put_in_place(path, report.html.as_bytes(), options.overwrite)?;
    Ok(ReportSummary {
        path: path.to_path_buf(),
        bytes: report.html.len() as u64,
        headline: report.headline,
    })
}

/// A name for the temporary file, unique in this process and hidden.
fn temporary_name(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    let unique = format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    path.with_file_name(unique)
}

fn put_in_place(path: &Path, bytes: &[u8], overwrite: bool) -> Result<(), Error> {
    let temporary = temporary_name(path);
    let written = File::create_new(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(source) = written {
        let _ = fs::remove_file(&temporary);
        return Err(Error::Write {
            path: path.to_path_buf(),
            source,
        });
    }
    let placed = if overwrite {
        fs::rename(&temporary, path)
    } else {
        match fs::hard_link(&temporary, path) {
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let _ = fs::remove_file(&temporary);
                return Err(Error::FileExists {
                    path: path.to_path_buf(),
                });
            }
            // A file system without hard links: check, then rename (a narrow race remains).
            Err(_) if fs::symlink_metadata(path).is_err() => fs::rename(&temporary, path),
            Err(e) => Err(e),
            Ok(()) => {
                let _ = fs::remove_file(&temporary);
                Ok(())
            }
        }
    };
    if let Err(source) = placed {
        let _ = fs::remove_file(&temporary);
        return Err(Error::Write {
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(())
}
