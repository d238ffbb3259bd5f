//! Which paths exports and imports accept, and where an export goes.
//!
//! The rules, so that an export never writes outside what the user named:
//! - a given path must not be empty or contain a `..` component (it is not canonicalized, so
//!   `exports/../../x` cannot climb out of a folder the caller meant);
//! - without a path, exports go to `exports/` next to the database file (created if needed);
//! - an existing folder receives `{scenario-name}.json` (JSON) or `{scenario-name}/` (CSV,
//!   Parquet); the scenario name is sanitized (`[a-z0-9-]`) and checked to be one plain file
//!   name anyway;
//! - for JSON, a path ending in `.json` is the file itself; for CSV and Parquet, a path that
//!   does not exist is the folder to create. Either way its parent must already exist: nothing
//!   but the export itself is created;
//! - an existing target is replaced only with `overwrite`, never when it is a symbolic link,
//!   and a folder only when it holds nothing but `<table>.csv` / `<table>.parquet` files (a
//!   previous export), so overwriting cannot delete anything else.
//!
//! Files are written under a temporary hidden name in the target's folder and renamed into
//! place at the end, so a failed export leaves nothing behind and a replaced export is never
//! half old, half new.

use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use healthsim_schema::{by_table, EntityType};

use super::format::ExportFormat;
use super::TransferError;
use crate::error::{Error, Result};

/// Where an export will be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Planned {
    /// The JSON file or the folder.
    pub(crate) path: PathBuf,
    /// Whether it exists and will be replaced (`overwrite` was given and the checks passed).
    pub(crate) replace: bool,
}

pub(crate) fn refuse(path: &Path, reason: impl Into<String>) -> Error {
    Error::from(TransferError::InvalidPath {
        path: path.to_path_buf(),
        reason: reason.into(),
    })
}

/// An I/O error on `path` while doing `action`.
pub(crate) fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io {
        action,
        path,
        source,
    }
}

/// Refuses an empty path and one with a `..` component.
///
/// # Errors
///
/// [`TransferError::InvalidPath`].
pub(crate) fn check_user_path(path: &Path) -> Result<()> {
    if path.as_os_str().is_empty() {
        return Err(refuse(path, "the path is empty"));
    }
    if path.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(refuse(
            path,
            "'..' components are not allowed; give the folder or file directly",
        ));
    }
    Ok(())
}

/// `name` as one plain, visible file name (no separator, no `.` or `..`, no leading dot).
fn check_file_name(name: &str, within: &Path) -> Result<()> {
    let mut components = Path::new(name).components();
    let plain = matches!(
        (components.next(), components.next()),
        (Some(Component::Normal(_)), None)
    ) && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0']);
    if plain {
        Ok(())
    } else {
        Err(refuse(
            &within.join(name),
            "the scenario name does not make a plain file name",
        ))
    }
}

/// Where an export of scenario `name` goes (see the [module documentation](self)).
///
/// # Errors
///
/// [`TransferError::InvalidPath`], [`TransferError::OutputExists`], [`Error::Io`].
pub(crate) fn plan_export(
    data_dir: &Path,
    out: Option<&Path>,
    format: ExportFormat,
    name: &str,
    overwrite: bool,
) -> Result<Planned> {
    let file_name = match format {
        ExportFormat::Json => format!("{name}.json"),
        ExportFormat::Csv | ExportFormat::Parquet => name.to_string(),
    };
    let path = match out {
        None => exports_dir(data_dir, &file_name)?.join(file_name),
        Some(out) => {
            check_user_path(out)?;
            match fs::metadata(out) {
                Ok(meta) if meta.is_dir() => {
                    check_file_name(&file_name, out)?;
                    out.join(file_name)
                }
                Ok(_) if format == ExportFormat::Json && has_json_extension(out) => {
                    out.to_path_buf()
                }
                Ok(_) => {
                    return Err(refuse(
                        out,
                        match format {
                            ExportFormat::Json => {
                                "it is a file without the .json extension; give a folder or a .json file"
                            }
                            ExportFormat::Csv | ExportFormat::Parquet => {
                                "it is a file; a CSV or Parquet export is a folder"
                            }
                        },
                    ))
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    if format == ExportFormat::Json && !has_json_extension(out) {
                        return Err(refuse(
                            out,
                            "no such folder; give an existing folder or a file path ending in .json",
                        ));
                    }
                    let parent = match out.parent() {
                        Some(p) if !p.as_os_str().is_empty() => p,
                        _ => Path::new("."),
                    };
                    if !parent.is_dir() {
                        return Err(refuse(
                            out,
                            format!(
                                "its parent folder {} does not exist; create it first",
                                parent.display()
                            ),
                        ));
                    }
                    out.to_path_buf()
                }
                Err(e) => return Err(io("inspect", out)(e)),
            }
        }
    };
    let replace = match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == ErrorKind::NotFound => false,
        Err(e) => return Err(io("inspect", &path)(e)),
        Ok(_) if !overwrite => return Err(Error::from(TransferError::OutputExists { path })),
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(refuse(
                &path,
                "it is a symbolic link; an export does not replace one",
            ))
        }
        Ok(meta) => {
            match format {
                ExportFormat::Json if meta.is_dir() => {
                    return Err(refuse(&path, "it is a folder, not a JSON file"))
                }
                ExportFormat::Json => {}
                ExportFormat::Csv | ExportFormat::Parquet => check_previous_export(&path)?,
            }
            true
        }
    };
    Ok(Planned { path, replace })
}

/// `exports/` next to the database, created if needed, after checking that `file_name` can
/// live in it: where exports and other files written for the user go by default.
fn exports_dir(data_dir: &Path, file_name: &str) -> Result<PathBuf> {
    let dir = data_dir.join("exports");
    check_file_name(file_name, &dir)?;
    fs::create_dir_all(&dir).map_err(io("create folder", &dir))?;
    Ok(dir)
}

/// Where a single file named `file_name` that is written for the user goes, by the rules of
/// exports: `out` itself, `out/file_name` when `out` is an existing folder, or
/// `exports/file_name` next to the database. Whether the file may be replaced is the writer's
/// decision.
///
/// # Errors
///
/// [`TransferError::InvalidPath`] (an empty path, a `..` component, a file name that is not
/// plain), [`Error::Io`] when the exports folder cannot be created.
pub(crate) fn plan_file(data_dir: &Path, out: Option<&Path>, file_name: &str) -> Result<PathBuf> {
    match out {
        None => Ok(exports_dir(data_dir, file_name)?.join(file_name)),
        Some(out) => {
            check_user_path(out)?;
            if out.is_dir() {
                check_file_name(file_name, out)?;
                Ok(out.join(file_name))
            } else {
                Ok(out.to_path_buf())
            }
        }
    }
}

fn has_json_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// The table a file of an export folder holds, from its name (`<table>.csv` or
/// `<table>.parquet` of a canonical table), and its format.
pub(crate) fn table_file(name: &str) -> Option<(&'static EntityType, ExportFormat)> {
    let (stem, extension) = name.rsplit_once('.')?;
    let format = match extension.to_ascii_lowercase().as_str() {
        "csv" => ExportFormat::Csv,
        "parquet" => ExportFormat::Parquet,
        _ => return None,
    };
    Some((by_table(stem)?, format))
}

/// A folder may be replaced only when it holds nothing but table files of an export.
fn check_previous_export(folder: &Path) -> Result<()> {
    if !fs::symlink_metadata(folder)
        .map_err(io("inspect", folder))?
        .is_dir()
    {
        return Err(refuse(folder, "it is a file, not an export folder"));
    }
    let mut others = Vec::new();
    for entry in fs::read_dir(folder).map_err(io("read folder", folder))? {
        let entry = entry.map_err(io("read folder", folder))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry
            .file_type()
            .map_err(io("inspect", &entry.path()))?
            .is_file();
        if !is_file || table_file(&name).is_none() {
            others.push(name);
        }
    }
    if others.is_empty() {
        return Ok(());
    }
    others.sort();
    Err(refuse(
        folder,
        format!(
            "it holds other files than a previous export ({}); it is not replaced",
            others.join(", ")
        ),
    ))
}

/// A hidden, unique name next to `path` to write into before renaming into place.
pub(crate) fn temporary_sibling(path: &Path, what: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{what}-{}", uuid::Uuid::new_v4().simple()))
}

/// Serializes a path as text, replacing what is not UTF-8 (JSON cannot carry it) instead of
/// failing: a result names the file it wrote even when its name is not valid UTF-8.
pub(crate) fn serialize_lossy<S: serde::Serializer>(
    path: &Path,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

/// `path` as UTF-8 text, for DuckDB (which takes file names as strings).
pub(crate) fn utf8(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| refuse(path, "the path is not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_user(path: &str, ok: bool) {
        assert_eq!(check_user_path(Path::new(path)).is_ok(), ok, "{path:?}");
    }

    #[test]
    fn user_paths() {
        check_user("out", true);
        check_user("/tmp/out.json", true);
        check_user("./a/b", true);
        check_user("a/.hidden/b", true);
        check_user("a..b/c", true);
        check_user("", false);
        check_user("..", false);
        check_user("../x", false);
        check_user("a/../../x", false);
        check_user("/tmp/a/../b", false);
    }

    fn check_name(name: &str, ok: bool) {
        assert_eq!(
            check_file_name(name, Path::new("dir")).is_ok(),
            ok,
            "{name:?}"
        );
    }

    #[test]
    fn file_names() {
        check_name("diabetes-cohort", true);
        check_name("diabetes-cohort.json", true);
        check_name("", false);
        check_name(".", false);
        check_name("..", false);
        check_name(".hidden", false);
        check_name("a/b", false);
        check_name("/abs", false);
        check_name("a\\b", false);
    }

    fn check_table_file(name: &str, expected: Option<(&str, ExportFormat)>) {
        assert_eq!(
            table_file(name).map(|(t, f)| (t.table, f)),
            expected,
            "{name:?}"
        );
    }

    #[test]
    fn table_files() {
        check_table_file("patients.csv", Some(("patients", ExportFormat::Csv)));
        check_table_file(
            "claim_lines.parquet",
            Some(("claim_lines", ExportFormat::Parquet)),
        );
        check_table_file(
            "patients.PARQUET",
            Some(("patients", ExportFormat::Parquet)),
        );
        check_table_file("patient.csv", None);
        check_table_file("patients.json", None);
        check_table_file("patients", None);
        check_table_file("spaceships.csv", None);
        check_table_file(".patients.csv", None);
    }

    #[test]
    fn single_files_go_where_exports_go() {
        let data = tempfile::tempdir().expect("temp dir");
        let data_dir = data.path();
        let plan = |out: Option<&Path>| plan_file(data_dir, out, "cohort.html");

        let default = plan(None).expect("default");
        assert_eq!(default, data_dir.join("exports").join("cohort.html"));
        assert!(
            data_dir.join("exports").is_dir(),
            "the exports folder is created"
        );
        assert_eq!(
            plan(Some(data_dir)).expect("a folder"),
            data_dir.join("cohort.html")
        );
        let file = data_dir.join("review.html");
        assert_eq!(plan(Some(&file)).expect("a file path"), file);

        for refused in [Path::new(""), Path::new("../review.html")] {
            assert!(
                matches!(
                    plan(Some(refused)),
                    Err(Error::Transfer(TransferError::InvalidPath { .. }))
                ),
                "{refused:?}"
            );
        }
        assert!(matches!(
            plan_file(data_dir, None, "../escape.html"),
            Err(Error::Transfer(TransferError::InvalidPath { .. }))
        ));
    }
}
