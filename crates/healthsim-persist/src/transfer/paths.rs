//! Which paths exports and imports accept, and where an export goes.
//!
//! One rule, so that the first and the second identical call write to the same place, and an
//! export never writes outside what the user named:
//! - a given path must not be empty or contain a `..` component (it is not canonicalized, so
//!   `exports/../../x` cannot climb out of a folder the caller meant);
//! - without a path, exports go to `exports/` next to the database file (created if needed);
//! - a path is the **folder that receives the export**, named after the scenario:
//!   `{scenario-name}.json` / `{scenario-name}.html` (single-file formats) or the folder
//!   `{scenario-name}/` (CSV, Parquet). The folder is created when missing (its parent must
//!   exist: one level, so a typo does not grow a tree), so a path that does not exist yet and
//!   one that does get the same layout. The scenario name is sanitized (`[a-z0-9-]`) and checked
//!   to be one plain file name anyway;
//! - the one exception is a single-file format given a path with its own extension
//!   (`out.json` for JSON, `review.html` for a report): that path is the file itself (its
//!   parent must exist). An existing file with another extension is refused;
//! - an existing target is replaced only with `overwrite`, never when it is a symbolic link,
//!   and a folder only when it holds nothing but `<table>.csv` / `<table>.parquet` files (a
//!   previous export), so overwriting cannot delete anything else.
//!
//! Files are written under a temporary hidden name in the target's folder and renamed into
//! place at the end, so a failed export leaves nothing behind (a folder it created for the
//! export is removed again) and a replaced export is never half old, half new.

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
    /// The folder that receives the export when it does not exist yet: the writer creates it
    /// just before writing and removes it again if the export fails.
    pub(crate) new_folder: Option<PathBuf>,
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

/// Where a given path puts an export (see the [module documentation](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// The path is the file itself (a single-file format, the path has its extension).
    File(PathBuf),
    /// The path is the folder that receives the export; `exists` says whether it does yet.
    InFolder { folder: PathBuf, exists: bool },
}

/// Where `out` puts an export whose single file has the extension `file_extension` (`json`,
/// `html`), or that is a folder (`None`: CSV, Parquet). Creates nothing.
fn target(out: &Path, file_extension: Option<&str>) -> Result<Target> {
    check_user_path(out)?;
    let parent_must_exist = |out: &Path| -> Result<()> {
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if parent.is_dir() {
            Ok(())
        } else {
            Err(refuse(
                out,
                format!(
                    "its parent folder {} does not exist; create it first",
                    parent.display()
                ),
            ))
        }
    };
    let is_the_file = file_extension
        .is_some_and(|ext| out.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext)));
    match fs::metadata(out) {
        Ok(meta) if meta.is_dir() => Ok(Target::InFolder {
            folder: out.to_path_buf(),
            exists: true,
        }),
        Ok(_) if is_the_file => Ok(Target::File(out.to_path_buf())),
        Ok(_) => Err(refuse(
            out,
            match file_extension {
                Some(ext) => format!(
                    "it is a file without the .{ext} extension; give a folder or a .{ext} file path"
                ),
                None => "it is a file; a CSV or Parquet export goes into a folder".to_string(),
            },
        )),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            parent_must_exist(out)?;
            if is_the_file {
                Ok(Target::File(out.to_path_buf()))
            } else {
                Ok(Target::InFolder {
                    folder: out.to_path_buf(),
                    exists: false,
                })
            }
        }
        Err(e) => Err(io("inspect", out)(e)),
    }
}

/// Where an export of scenario `name` goes (see the [module documentation](self)). Creates
/// nothing but the default `exports/` folder.
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
    let (file_name, file_extension) = match format {
        ExportFormat::Json => (format!("{name}.json"), Some("json")),
        ExportFormat::Csv | ExportFormat::Parquet => (name.to_string(), None),
    };
    let target = match out {
        None => Target::InFolder {
            folder: exports_dir(data_dir, &file_name)?,
            exists: true,
        },
        Some(out) => target(out, file_extension)?,
    };
    let (path, new_folder) = match target {
        Target::File(path) => (path, None),
        Target::InFolder { folder, exists } => {
            check_file_name(&file_name, &folder)?;
            (folder.join(&file_name), (!exists).then_some(folder))
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
    Ok(Planned {
        path,
        replace,
        new_folder,
    })
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
/// exports: `out/file_name` (the folder `out` is created if missing), `out` itself when it
/// ends in `file_name`'s extension, or `exports/file_name` next to the database. Whether the
/// file may be replaced is the writer's decision.
///
/// # Errors
///
/// [`TransferError::InvalidPath`] (an empty path, a `..` component, a missing parent folder,
/// an existing file with another extension, a file name that is not plain), [`Error::Io`] when
/// a folder cannot be created.
pub(crate) fn plan_file(data_dir: &Path, out: Option<&Path>, file_name: &str) -> Result<PathBuf> {
    let Some(out) = out else {
        return Ok(exports_dir(data_dir, file_name)?.join(file_name));
    };
    let extension = Path::new(file_name).extension().and_then(|e| e.to_str());
    match target(out, extension)? {
        Target::File(path) => Ok(path),
        Target::InFolder { folder, exists } => {
            check_file_name(file_name, &folder)?;
            if !exists {
                fs::create_dir(&folder).map_err(io("create folder", &folder))?;
            }
            Ok(folder.join(file_name))
        }
    }
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

        // A path without the file's extension is the folder that receives it, the same on
        // the first call (the folder is created) and on the second (it exists).
        let folder = data_dir.join("reports");
        let first = plan(Some(&folder)).expect("a new folder");
        assert!(folder.is_dir(), "the folder is created");
        assert_eq!(first, folder.join("cohort.html"));
        assert_eq!(plan(Some(&folder)).expect("the same folder again"), first);

        fs::write(data_dir.join("notes.txt"), "mine").expect("write");
        let missing_parent = data_dir.join("missing").join("reports");
        for refused in [
            Path::new(""),
            Path::new("../review.html"),
            &data_dir.join("notes.txt"),
            &missing_parent,
            &data_dir.join("missing").join("review.html"),
        ] {
            assert!(
                matches!(
                    plan(Some(refused)),
                    Err(Error::Transfer(TransferError::InvalidPath { .. }))
                ),
                "{refused:?}"
            );
        }
        assert!(!data_dir.join("missing").exists(), "nothing is created");
        assert_eq!(
            fs::read_to_string(data_dir.join("notes.txt")).expect("read"),
            "mine"
        );
        assert!(matches!(
            plan_file(data_dir, None, "../escape.html"),
            Err(Error::Transfer(TransferError::InvalidPath { .. }))
        ));
    }
}
