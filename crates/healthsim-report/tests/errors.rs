//! Every error a caller can meet, with its variant and message, and no file left half-written.

mod common;

use std::fs;
use std::path::Path;

use common::{fixture, options, Fixture};
use healthsim_report::{render_report, write_report, Error, ReportOptions, ReportSummary};

fn write(
    f: &Fixture,
    scenario_id: &str,
    path: &Path,
    options: &ReportOptions,
) -> Result<ReportSummary, Error> {
    f.store
        .with_reader(|conn| Ok(write_report(conn, scenario_id, path, options)))
        .expect("connection")
}

fn check_message(error: &Error, expected: &str) {
    let message = error.to_string();
    assert!(message.contains(expected), "{message:?} lacks {expected:?}");
    assert!(
        message.chars().next().is_some_and(|c| !c.is_uppercase()),
        "message not lowercase: {message:?}"
    );
}

/// The directory holds exactly `names` (no temporary file left behind).
fn check_directory(dir: &Path, names: &[&str]) {
    let mut found: Vec<String> = fs::read_dir(dir)
        .expect("directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert_eq!(found, names, "files in {}", dir.display());
}

#[test]
fn unknown_scenario() {
    let f = fixture(2);
    let error = f
        .store
        .with_reader(|conn| Ok(render_report(conn, "nope", &options())))
        .expect("connection")
        .expect_err("no such scenario");
    assert!(
        matches!(&error, Error::ScenarioNotFound { scenario_id } if scenario_id == "nope"),
        "{error:?}"
    );
    check_message(&error, "scenario 'nope' not found");

    let out = tempfile::tempdir().expect("temp dir");
    let error =
        write(&f, "nope", &out.path().join("r.html"), &options()).expect_err("no such scenario");
    assert!(matches!(error, Error::ScenarioNotFound { .. }), "{error:?}");
    check_directory(out.path(), &[]);
}

#[test]
fn writes_and_refuses_to_overwrite_unless_asked() {
    let f = fixture(2);
    let out = tempfile::tempdir().expect("temp dir");
    fs::create_dir(out.path().join("reports")).expect("reports folder");
    let path = out.path().join("reports").join("cohort.html");

    let written = write(&f, &f.scenario_id, &path, &options()).expect("written");
    assert_eq!(written.path, path);
    let html = fs::read_to_string(&path).expect("the report");
    assert_eq!(written.bytes, html.len() as u64);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(written.headline.scenario_id, f.scenario_id);

    fs::write(&path, "keep me").expect("replace with other content");
    let error = write(&f, &f.scenario_id, &path, &options()).expect_err("exists");
    assert!(
        matches!(&error, Error::FileExists { path: p } if p == &path),
        "{error:?}"
    );
    check_message(&error, "already exists; pass overwrite to replace it");
    assert_eq!(fs::read_to_string(&path).expect("file"), "keep me");

    let overwrite = ReportOptions {
        overwrite: true,
        ..options()
    };
    write(&f, &f.scenario_id, &path, &overwrite).expect("overwritten");
    assert!(fs::read_to_string(&path)
        .expect("file")
        .starts_with("<!DOCTYPE html>"));
    check_directory(&out.path().join("reports"), &["cohort.html"]);
}

#[test]
fn unwritable_path() {
    let f = fixture(2);
    let out = tempfile::tempdir().expect("temp dir");
    // A parent that is a file: not writable even for root.
    let file = out.path().join("not-a-directory");
    fs::write(&file, "x").expect("file");
    let path = file.join("report.html");
    let error = write(&f, &f.scenario_id, &path, &options()).expect_err("unwritable");
    assert!(matches!(&error, Error::Write { .. }), "{error:?}");
    check_message(&error, "cannot write the report to");
    check_directory(out.path(), &["not-a-directory"]);

    // A directory where the file should go.
    let dir = out.path().join("taken");
    fs::create_dir(&dir).expect("dir");
    let overwrite = ReportOptions {
        overwrite: true,
        ..options()
    };
    let error = write(&f, &f.scenario_id, &dir, &overwrite).expect_err("a directory");
    assert!(matches!(&error, Error::Write { .. }), "{error:?}");
    check_directory(out.path(), &["not-a-directory", "taken"]);

    // A folder that does not exist is not created.
    let error = write(
        &f,
        &f.scenario_id,
        &out.path().join("missing").join("r.html"),
        &options(),
    )
    .expect_err("no such folder");
    assert!(
        matches!(&error, Error::Write { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
        "{error:?}"
    );
    check_directory(out.path(), &["not-a-directory", "taken"]);
}
