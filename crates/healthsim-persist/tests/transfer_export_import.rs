//! Export and import: round trips in all three formats, Parquet types, output locations,
//! overwrite and path rules, and refused imports that write nothing.

mod common;
mod transfer_common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{
    assert_manifest_consistent, full_entity, patients, persist_new, store, store_state, TestResult,
};
use healthsim_persist::{
    Error, ExportFormat, ExportOptions, ImportCommit, ImportOptions, InputError, ListOptions,
    PersistRequest, ScenarioTarget, Store, TransferError,
};
use healthsim_schema::ENTITY_TYPES;
use proptest::prelude::*;
use serde_json::{json, Map, Value as Json};
use transfer_common::{contents, persist_shape, row_counts, Shape};

/// Every entity type of the registry, with values in every column, awkward text, `extra` fields and
/// provenance; plus a patient with empty and missing values.
fn everything(store: &Store) -> String {
    let mut map = Map::new();
    for t in ENTITY_TYPES {
        let list: Vec<Json> = (0..2)
            .map(|i| {
                let mut entity = full_entity(t, i);
                entity["note_without_column"] =
                    json!({"kept": [1, "two, \"three\"\nfour"], "n": 1.5});
                entity["skill_used"] = json!("transfer-test");
                entity["generation_seed"] = json!(7 + i);
                entity
            })
            .collect();
        map.insert(t.table.to_string(), Json::Array(list));
    }
    if let Some(Json::Array(list)) = map.get_mut("patients") {
        list.push(json!({"patient_id": "p-empty", "given_name": "", "family_name": "O'Brien, \"Jr\"", "city": "Zürich\nline two"}));
    }
    let request = PersistRequest::by_type(map).with_scenario(ScenarioTarget::New {
        name: Some("everything".into()),
        context: Some("all types".into()),
        description: Some("every entity type".into()),
        tags: vec!["full".into(), "test".into()],
    });
    store
        .persist_entities(&request)
        .expect("persist")
        .scenario_id
}

fn export(
    store: &Store,
    scenario: &str,
    format: ExportFormat,
    out: &Path,
) -> healthsim_persist::ExportResult {
    store
        .export_scenario(
            scenario,
            &ExportOptions {
                format,
                out: Some(out.to_path_buf()),
                ..ExportOptions::default()
            },
        )
        .expect("export")
}

fn json_entities(path: &Path) -> Json {
    let text = fs::read_to_string(path).expect("read the export");
    let document: Json = serde_json::from_str(&text).expect("the export is JSON");
    document["entities"].clone()
}

#[test]
fn round_trips_in_every_format() -> TestResult {
    let (dir, store) = store();
    let original = everything(&store);
    let first = export(&store, &original, ExportFormat::Json, dir.path());
    assert_eq!(first.path, dir.path().join("everything.json"));
    assert_eq!(first.counts.len(), ENTITY_TYPES.len());
    assert_eq!(
        first.total_entities,
        2 * ENTITY_TYPES.len() as u64 + 1,
        "two of every type and the patient with empty values"
    );
    assert_eq!(first.bytes_written, fs::metadata(&first.path)?.len());
    let reference = json_entities(&first.path);

    for format in [ExportFormat::Json, ExportFormat::Csv, ExportFormat::Parquet] {
        let out = dir.path().join(format!("out-{}", format.name()));
        fs::create_dir(&out)?;
        let exported = export(&store, &original, format, &out);
        let imported = store.import_scenario(&exported.path, &ImportOptions::default())?;
        assert_manifest_consistent(&store);
        assert_eq!(imported.format, format);
        assert_eq!(imported.counts, exported.counts, "{format:?}");
        assert_eq!(imported.counts, row_counts(&store, &original), "{format:?}");
        // Same rows, every column (ids, values, provenance, extra, created_at).
        assert_eq!(
            contents(&store, &imported.scenario_id),
            contents(&store, &original),
            "{format:?}"
        );
        // export -> import -> export gives the same entities.
        let again_dir = dir.path().join(format!("again-{}", format.name()));
        fs::create_dir(&again_dir)?;
        let again = export(
            &store,
            &imported.scenario_id,
            ExportFormat::Json,
            &again_dir,
        );
        assert_eq!(json_entities(&again.path), reference, "{format:?}");
    }
    // The JSON import restores the scenario's description and tags; names stay unique.
    let from_json = store.import_scenario(&first.path, &ImportOptions::default())?;
    assert_eq!(from_json.name, "everything-5");
    let info = store
        .list_scenarios(&Default::default())?
        .into_iter()
        .find(|s| s.scenario_id == from_json.scenario_id)
        .ok_or("listed")?;
    assert_eq!(info.description.as_deref(), Some("every entity type"));
    assert_eq!(info.tags, ["full", "test"]);
    let named = store.import_scenario(
        &first.path,
        &ImportOptions {
            name: Some("Restored Copy".into()),
            ..ImportOptions::default()
        },
    )?;
    assert_eq!(named.name, "restored-copy");
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn json_document_shape() -> TestResult {
    let (dir, store) = store();
    let request = PersistRequest::new(
        "patients",
        vec![json!({"patient_id": "p1", "birth_date": "1950-06-01", "favorite_color": "teal", "source_system": "epic"})],
    )
    .with_scenario(ScenarioTarget::new_named("shape"));
    store.persist_entities(&request)?;
    let exported = export(&store, "shape", ExportFormat::Json, dir.path());
    let document: Json = serde_json::from_str(&fs::read_to_string(&exported.path)?)?;
    assert_eq!(document["format"], "healthsim-scenario-export");
    assert_eq!(document["format_version"], 1);
    assert_eq!(document["scenario"]["name"], "shape");
    assert_eq!(document["counts"], json!({"patients": 1}));
    let patient = &document["entities"]["patients"][0];
    assert_eq!(patient["patient_id"], "p1");
    assert_eq!(patient["birth_date"], "1950-06-01");
    assert_eq!(patient["favorite_color"], "teal");
    assert_eq!(patient["source_system"], "epic");
    assert!(patient["created_at"].is_string());

    let without = store.export_scenario(
        "shape",
        &ExportOptions {
            out: Some(dir.path().join("no-provenance.json")),
            include_provenance: false,
            ..ExportOptions::default()
        },
    )?;
    assert_eq!(without.path, dir.path().join("no-provenance.json"));
    let document: Json = serde_json::from_str(&fs::read_to_string(&without.path)?)?;
    assert_eq!(document["include_provenance"], false);
    assert!(document["entities"]["patients"][0]
        .get("source_system")
        .is_none());
    Ok(())
}

fn parquet_types(store: &Store, file: &Path) -> Vec<(String, String)> {
    store
        .with_reader(|conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))",
                )
                .expect("prepare");
            let rows = stmt
                .query_map([file.to_str().expect("utf-8")], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .expect("query");
            Ok(rows.collect::<Result<Vec<_>, _>>().expect("rows"))
        })
        .expect("describe")
}

#[test]
fn parquet_files_carry_the_registry_types() -> TestResult {
    let (dir, store) = store();
    let scenario = everything(&store);
    let exported = export(&store, &scenario, ExportFormat::Parquet, dir.path());
    assert_eq!(exported.path, dir.path().join("everything"));
    assert_eq!(exported.files.len(), ENTITY_TYPES.len());
    let sum: u64 = exported
        .files
        .iter()
        .map(|f| {
            fs::metadata(exported.path.join(f))
                .map(|m| m.len())
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(exported.bytes_written, sum);
    for t in ENTITY_TYPES {
        let types = parquet_types(&store, &exported.path.join(format!("{}.parquet", t.table)));
        let mut expected: Vec<(String, String)> = t
            .columns()
            .map(|c| (c.name.to_string(), c.kind.sql_type().to_string()))
            .collect();
        for (name, ty) in [
            ("source_type", "VARCHAR"),
            ("source_system", "VARCHAR"),
            ("skill_used", "VARCHAR"),
            ("generation_seed", "BIGINT"),
            ("extra", "JSON"),
            ("created_at", "TIMESTAMP"),
        ] {
            expected.push((name.into(), ty.into()));
        }
        assert_eq!(types, expected, "{}", t.table);
    }
    let claims = parquet_types(&store, &exported.path.join("claims.parquet"));
    for (column, ty) in [
        ("service_date", "DATE"),
        ("total_billed", "DECIMAL(18,2)"),
        ("created_at", "TIMESTAMP"),
    ] {
        assert!(
            claims.contains(&(column.into(), ty.into())),
            "claims.{column} is {ty}"
        );
    }

    // Without provenance, the provenance columns are left out (and scenario_id always is).
    let out = dir.path().join("lean");
    let lean = store.export_scenario(
        &scenario,
        &ExportOptions {
            format: ExportFormat::Parquet,
            out: Some(out.clone()),
            include_provenance: false,
            types: Some(vec!["patient".into(), "claims".into()]),
            ..ExportOptions::default()
        },
    )?;
    // The path is the folder that receives the export, named after the scenario.
    let folder = out.join(&lean.name);
    assert_eq!(lean.path, folder);
    assert_eq!(lean.files, ["patients.parquet", "claims.parquet"]);
    let columns: Vec<String> = parquet_types(&store, &folder.join("patients.parquet"))
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    for absent in [
        "scenario_id",
        "source_type",
        "source_system",
        "skill_used",
        "generation_seed",
    ] {
        assert!(!columns.iter().any(|c| c == absent), "{absent}");
    }
    assert!(columns.iter().any(|c| c == "extra"));
    let imported = store.import_scenario(&folder, &ImportOptions::default())?;
    // Named after the folder, made unique: the exported scenario still holds the name.
    assert_eq!(imported.name, format!("{}-2", lean.name));
    assert_eq!(imported.counts, lean.counts);
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn csv_files_have_a_header_and_no_scenario_id() -> TestResult {
    let (dir, store) = store();
    persist_new(&store, "csv-check", "patients", patients(2));
    let exported = export(&store, "csv-check", ExportFormat::Csv, dir.path());
    assert_eq!(exported.files, ["patients.csv"]);
    let text = fs::read_to_string(exported.path.join("patients.csv"))?;
    let header = text.lines().next().ok_or("a header")?;
    assert!(header.starts_with("patient_id,"), "{header}");
    assert!(header.ends_with(",extra,created_at"), "{header}");
    assert!(!header.contains("scenario_id"));
    assert_eq!(text.lines().count(), 3);
    Ok(())
}

#[test]
fn default_location_is_the_exports_folder_next_to_the_database() -> TestResult {
    let (dir, store) = store();
    // A lake's exports go to ~/.healthsim/exports (its data folder is the lake's); this test
    // names its scenario after its own process there, and removes what it wrote.
    let (name, exports) = if common::on_lake() {
        let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
        (
            format!("where-to-{}", std::process::id()),
            std::path::PathBuf::from(home)
                .join(".healthsim")
                .join("exports"),
        )
    } else {
        ("where-to".to_string(), dir.path().join("exports"))
    };
    let _cleanup = RemoveOnDrop(vec![
        exports.join(format!("{name}.json")),
        exports.join(&name),
    ]);
    let name = name.as_str();
    persist_new(&store, name, "patients", patients(1));
    let json = store.export_scenario(name, &ExportOptions::default())?;
    assert_eq!(json.path, exports.join(format!("{name}.json")));
    let csv = store.export_scenario(
        name,
        &ExportOptions {
            format: ExportFormat::Csv,
            ..ExportOptions::default()
        },
    )?;
    assert_eq!(csv.path, exports.join(name));
    assert!(csv.path.join("patients.csv").is_file());
    Ok(())
}

/// Removes files and folders when dropped (a test's output outside its temporary folder).
struct RemoveOnDrop(Vec<std::path::PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for path in &self.0 {
            // Whichever exists: the JSON file or the CSV folder.
            let _ = fs::remove_file(path);
            let _ = fs::remove_dir_all(path);
        }
    }
}

#[test]
fn paths_with_quotes_are_bound_not_spliced() -> TestResult {
    let (dir, store) = store();
    persist_new(&store, "quoted", "patients", patients(2));
    let odd = dir.path().join("it's \"odd\"; DROP TABLE patients; --");
    fs::create_dir(&odd)?;
    for format in [ExportFormat::Csv, ExportFormat::Parquet] {
        let exported = export(&store, "quoted", format, &odd);
        let imported = store.import_scenario(
            &exported.path,
            &ImportOptions {
                name: Some(format!("back-{}", format.name())),
                ..ImportOptions::default()
            },
        )?;
        assert_eq!(imported.counts["patients"], 2);
        fs::remove_dir_all(&exported.path)?;
    }
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn refuses_to_overwrite_unless_asked() -> TestResult {
    let (dir, store) = store();
    let scenario = persist_shape(&store, "twice", &Shape::small(0), "A");
    for format in [ExportFormat::Json, ExportFormat::Csv, ExportFormat::Parquet] {
        let out = dir.path().join(format.name());
        fs::create_dir(&out)?;
        let options = ExportOptions {
            format,
            out: Some(out.clone()),
            ..ExportOptions::default()
        };
        let first = store.export_scenario(&scenario, &options)?;
        let listing = |path: &Path| -> Vec<PathBuf> {
            let mut all: Vec<PathBuf> = fs::read_dir(path)
                .expect("list")
                .map(|e| e.expect("entry").path())
                .collect();
            all.sort();
            all
        };
        let before = listing(&out);
        assert!(matches!(
            store.export_scenario(&scenario, &options),
            Err(Error::Transfer(TransferError::OutputExists { ref path })) if *path == first.path
        ));
        assert_eq!(listing(&out), before, "{format:?}: nothing left behind");
        // With overwrite, the export is replaced as a whole: fewer types, fewer files.
        let replaced = store.export_scenario(
            &scenario,
            &ExportOptions {
                overwrite: true,
                types: Some(vec!["patients".into()]),
                ..options.clone()
            },
        )?;
        assert_eq!(replaced.path, first.path);
        assert_eq!(replaced.counts.keys().collect::<Vec<_>>(), ["patients"]);
        assert_eq!(listing(&out), before, "{format:?}: no temporary files left");
        if format != ExportFormat::Json {
            assert_eq!(
                listing(&replaced.path),
                [replaced.path.join(format!("patients.{}", format.name()))]
            );
        }
    }
    // A folder holding anything else than a previous export is never replaced.
    let parent = dir.path().join("mine");
    let foreign = parent.join("twice");
    fs::create_dir_all(&foreign)?;
    fs::write(foreign.join("notes.txt"), "mine")?;
    fs::write(foreign.join("patients.csv"), "mine too")?;
    let result = store.export_scenario(
        &scenario,
        &ExportOptions {
            format: ExportFormat::Csv,
            out: Some(parent),
            overwrite: true,
            ..ExportOptions::default()
        },
    );
    assert!(
        matches!(result, Err(Error::Transfer(TransferError::InvalidPath { ref path, .. })) if *path == foreign)
    );
    assert_eq!(fs::read_to_string(foreign.join("notes.txt"))?, "mine");
    assert_eq!(
        fs::read_to_string(foreign.join("patients.csv"))?,
        "mine too"
    );
    Ok(())
}

// Regression: an output path that did not exist received the files directly, and the second
// identical call wrote into `<path>/<scenario-name>/` instead, mixing with other exports.
#[test]
fn a_path_gives_the_same_layout_on_the_first_and_the_second_call() -> TestResult {
    let (dir, store) = store();
    let scenario = persist_shape(&store, "twice", &Shape::small(0), "A");
    let listing = |path: &Path| -> Vec<PathBuf> {
        let mut all: Vec<PathBuf> = fs::read_dir(path)
            .expect("list")
            .map(|e| e.expect("entry").path())
            .collect();
        all.sort();
        all
    };
    for format in [ExportFormat::Json, ExportFormat::Csv, ExportFormat::Parquet] {
        let missing = dir.path().join(format!("new-{}", format.name()));
        let existing = dir.path().join(format!("existing-{}", format.name()));
        fs::create_dir(&existing)?;
        for out in [missing, existing] {
            let options = ExportOptions {
                format,
                out: Some(out.clone()),
                ..ExportOptions::default()
            };
            let first = store.export_scenario(&scenario, &options)?;
            let expected = match format {
                ExportFormat::Json => out.join(format!("{}.json", first.name)),
                ExportFormat::Csv | ExportFormat::Parquet => out.join(&first.name),
            };
            assert_eq!(first.path, expected, "{format:?} {out:?}");
            assert_eq!(
                listing(&out),
                std::slice::from_ref(&expected),
                "{format:?} {out:?}"
            );
            // The second identical call names the same target: it exists, so it is refused
            // and nothing is written (no nested scenario folder).
            let second = store.export_scenario(&scenario, &options);
            assert!(
                matches!(second, Err(Error::Transfer(TransferError::OutputExists { ref path })) if *path == expected),
                "{format:?} {out:?}: {second:?}"
            );
            assert_eq!(
                listing(&out),
                std::slice::from_ref(&expected),
                "{format:?} {out:?}"
            );
            if format != ExportFormat::Json {
                assert_eq!(listing(&expected).len(), first.files.len(), "{format:?}");
            }
            // With overwrite the same target is replaced.
            let replaced = store.export_scenario(
                &scenario,
                &ExportOptions {
                    overwrite: true,
                    ..options.clone()
                },
            )?;
            assert_eq!(replaced.path, expected);
            assert_eq!(listing(&out), [expected], "{format:?} {out:?}");
        }
    }
    // A JSON file path is the file itself, on every call.
    let file = dir.path().join("cohort.json");
    let options = ExportOptions {
        out: Some(file.clone()),
        ..ExportOptions::default()
    };
    assert_eq!(store.export_scenario(&scenario, &options)?.path, file);
    assert!(matches!(
        store.export_scenario(&scenario, &options),
        Err(Error::Transfer(TransferError::OutputExists { ref path })) if *path == file
    ));
    Ok(())
}

#[test]
fn refused_export_paths() -> TestResult {
    let (dir, store) = store();
    persist_new(&store, "paths", "patients", patients(1));
    let refused = |format: ExportFormat, out: PathBuf| {
        let result = store.export_scenario(
            "paths",
            &ExportOptions {
                format,
                out: Some(out.clone()),
                ..ExportOptions::default()
            },
        );
        assert!(
            matches!(
                result,
                Err(Error::Transfer(TransferError::InvalidPath { .. }))
            ),
            "{format:?} {out:?}: {result:?}"
        );
    };
    fs::create_dir(dir.path().join("inside"))?;
    fs::write(dir.path().join("file.txt"), "x")?;
    refused(ExportFormat::Json, PathBuf::from("../x"));
    refused(ExportFormat::Json, PathBuf::from("../x.json"));
    refused(ExportFormat::Csv, PathBuf::from("../x"));
    refused(
        ExportFormat::Json,
        dir.path().join("inside/../../escape.json"),
    );
    refused(ExportFormat::Parquet, dir.path().join("inside/../inside"));
    refused(ExportFormat::Json, PathBuf::new());
    // A missing parent is not created.
    refused(ExportFormat::Json, dir.path().join("missing/deeper/x.json"));
    refused(ExportFormat::Csv, dir.path().join("missing/deeper"));
    // A JSON export goes into a folder or to a .json path; CSV and Parquet into a folder.
    refused(ExportFormat::Json, dir.path().join("file.txt"));
    refused(ExportFormat::Parquet, dir.path().join("file.txt"));
    assert!(!dir.path().join("missing").exists());
    assert!(!dir.path().join("escape.json").exists());
    // Unknown types and empty selections are refused before anything is written.
    assert!(matches!(
        store.export_scenario(
            "paths",
            &ExportOptions {
                types: Some(vec!["spaceships".into()]),
                ..ExportOptions::default()
            }
        ),
        Err(Error::UnknownEntityType { .. })
    ));
    assert!(matches!(
        store.export_scenario(
            "missing-scenario",
            &ExportOptions {
                out: Some(dir.path().to_path_buf()),
                ..ExportOptions::default()
            }
        ),
        Err(Error::ScenarioNotFound { .. })
    ));
    #[cfg(unix)]
    {
        // An existing symbolic link is not replaced, even with overwrite.
        let target = dir.path().join("elsewhere.json");
        fs::write(&target, "keep")?;
        std::os::unix::fs::symlink(&target, dir.path().join("inside/paths.json"))?;
        let result = store.export_scenario(
            "paths",
            &ExportOptions {
                out: Some(dir.path().join("inside")),
                overwrite: true,
                ..ExportOptions::default()
            },
        );
        assert!(
            matches!(
                result,
                Err(Error::Transfer(TransferError::InvalidPath { .. }))
            ),
            "{result:?}"
        );
        assert_eq!(fs::read_to_string(&target)?, "keep");
    }
    Ok(())
}

/// A refused import names the file and its problem as a variant, and writes nothing.
/// A JSON export is read in chunks (10,000 entities at a time): an entity refused in a later
/// chunk is named by its index in the whole list, an id repeated across chunks is
/// refused like one repeated inside a chunk, and whatever chunks were written before the
/// failure are gone — rolled back in one transaction, deleted (with their hidden scenario) when
/// each chunk committed.
#[test]
fn a_json_import_refuses_late_entities_by_their_index_in_the_list_and_writes_nothing() -> TestResult
{
    for commit in [ImportCommit::All, ImportCommit::Chunks] {
        refuses_late_entities_and_writes_nothing(commit)?;
    }
    Ok(())
}

fn refuses_late_entities_and_writes_nothing(commit: ImportCommit) -> TestResult {
    let (dir, store) = store();
    let n = 25_000;
    let list: Vec<Json> = (0..n)
        .map(|i| json!({"patient_id": format!("p{i}"), "birth_date": "1960-01-02", "gender": "female"}))
        .collect();
    let document = |list: &[Json]| json!({"format": "healthsim-scenario-export", "entities": {"patients": list}});
    let write = |name: &str, list: &[Json]| -> PathBuf {
        let path = dir.path().join(name);
        fs::write(&path, document(list).to_string()).expect("write");
        path
    };
    let options = ImportOptions {
        commit,
        ..ImportOptions::default()
    };
    let import = |path: &Path| store.import_scenario(path, &options);
    let refused = |path: &Path| match import(path) {
        Err(Error::Transfer(TransferError::ImportEntities { path: p, source })) => {
            assert_eq!(p, path);
            *source
        }
        other => panic!("{commit:?} {}: {other:?}", path.display()),
    };
    let before = store_state(&store)?;

    let mut bad = list.clone();
    bad[21_321]["birth_date"] = json!("soon");
    let source = refused(&write("late-bad.json", &bad));
    assert!(
        matches!(
            source,
            Error::Input(InputError::InvalidField {
                entity_type: "patients",
                index: 21_321,
                ..
            })
        ),
        "{source:?}"
    );

    let mut repeated = list.clone();
    repeated[20_400]["patient_id"] = json!("p7");
    let source = refused(&write("repeated-across.json", &repeated));
    assert!(
        matches!(&source, Error::Input(InputError::DuplicateId { entity_type: "patients", id, first_index: 7, index: 20_400 }) if id == "p7"),
        "{source:?}"
    );

    let mut repeated = list.clone();
    repeated[20_500]["patient_id"] = json!("p20450");
    let source = refused(&write("repeated-late.json", &repeated));
    assert!(
        matches!(&source, Error::Input(InputError::DuplicateId { entity_type: "patients", id, first_index: 20_450, index: 20_500 }) if id == "p20450"),
        "{source:?}"
    );
    assert_eq!(
        store_state(&store)?,
        before,
        "a refused import ({commit:?}) wrote something"
    );

    let imported = import(&write("all.json", &list))?;
    assert_eq!(imported.commit, commit);
    assert_eq!(imported.counts.get("patients"), Some(&(n as u64)));
    assert_eq!(imported.total_entities, n as u64);
    assert_manifest_consistent(&store);
    Ok(())
}

/// In chunks, a JSON export gives the scenario one transaction gives (entities, tags,
/// description, manifest); until its last chunk the scenario has a hidden name that no listing
/// shows and no lookup finds, and an import finds a hidden scenario that no import is writing
/// (one killed midway) and deletes it.
#[test]
fn a_chunked_import_gives_the_same_scenario_and_deletes_an_abandoned_one() -> TestResult {
    let (dir, store) = store();
    let scenario = persist_shape(&store, "source", &Shape::small(0), "A");
    store.add_tags(&scenario, &["chunked".to_string()])?;
    let json = export(&store, &scenario, ExportFormat::Json, dir.path()).path;
    let import = |name: &str, commit| {
        let options = ImportOptions {
            name: Some(name.to_string()),
            commit,
            ..ImportOptions::default()
        };
        store.import_scenario(&json, &options)
    };
    let whole = import("whole", ImportCommit::All)?;
    let chunked = import("chunked", ImportCommit::Chunks)?;
    assert_eq!(
        (whole.commit, chunked.commit),
        (ImportCommit::All, ImportCommit::Chunks)
    );
    assert_eq!(whole.counts, chunked.counts);
    assert_eq!(
        contents(&store, &whole.scenario_id),
        contents(&store, &chunked.scenario_id)
    );
    assert_eq!(store.scenario_tags("chunked")?, ["chunked"]);
    assert_manifest_consistent(&store);

    // An import killed after its first chunk two hours ago left `killed` behind; `running` is
    // an import in progress (on a lake, possibly on another machine).
    store.with_writer(|conn| {
        conn.execute_batch(
            "INSERT INTO scenarios (scenario_id, name, created_at, updated_at) VALUES
               ('killed', '.importing killed', now() - INTERVAL 2 HOUR, now() - INTERVAL 2 HOUR),
               ('running', '.importing running', now(), now());
             INSERT INTO patients (scenario_id, patient_id, created_at) VALUES
               ('killed', 'p-half', now()), ('running', 'p-half', now());
             INSERT INTO scenario_entities (scenario_id, entity_type, entity_count, updated_at)
               VALUES ('killed', 'patients', 1, now()), ('running', 'patients', 1, now());",
        )
        .expect("hidden scenarios");
        Ok(())
    })?;
    let listed: Vec<String> = store
        .list_scenarios(&ListOptions::default())?
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert!(listed.iter().all(|n| !n.starts_with('.')), "{listed:?}");
    for given in ["killed", ".importing killed", "importing"] {
        assert!(
            matches!(
                store.resolve_scenario(given),
                Err(Error::ScenarioNotFound { .. })
            ),
            "{given} was found"
        );
    }
    let again = store.import_scenario(
        &json,
        &ImportOptions {
            commit: ImportCommit::Chunks,
            ..ImportOptions::default()
        },
    )?;
    let left = |id: &str| -> i64 {
        store
            .with_reader(|conn| {
                Ok(conn
                    .query_row(
                        "SELECT (SELECT count(*) FROM scenarios WHERE scenario_id = $1)
                              + (SELECT count(*) FROM patients WHERE scenario_id = $1)
                              + (SELECT count(*) FROM scenario_entities WHERE scenario_id = $1)",
                        [id],
                        |r| r.get(0),
                    )
                    .expect("count"))
            })
            .expect("read")
    };
    assert_eq!(
        left("killed"),
        0,
        "the abandoned import's rows are still there"
    );
    // On a file the importing process is the only writer, so no other import runs; on a lake
    // one written to within the hour may be running elsewhere.
    let running = if common::on_lake() { 3 } else { 0 };
    assert_eq!(left("running"), running);
    assert_eq!(again.counts, whole.counts);
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn refused_imports_write_nothing() -> TestResult {
    let (dir, store) = store();
    let scenario = persist_shape(&store, "source", &Shape::small(0), "A");
    let json = export(&store, &scenario, ExportFormat::Json, dir.path()).path;
    let csv = export(&store, &scenario, ExportFormat::Csv, dir.path()).path;
    let parquet_dir = dir.path().join("pq");
    fs::create_dir(&parquet_dir)?;
    let parquet = export(&store, &scenario, ExportFormat::Parquet, &parquet_dir).path;
    let before = store_state(&store)?;
    let text = fs::read_to_string(&json)?;
    let import = |path: &Path| store.import_scenario(path, &ImportOptions::default());
    let write = |name: &str, content: &str| -> PathBuf {
        let path = dir.path().join(name);
        fs::write(&path, content).expect("write");
        path
    };

    // Truncated: every cut of the document is refused with its line.
    for cut in [text.len() / 3, text.len() / 2, text.len() - 3] {
        let path = write("truncated.json", &text[..cut]);
        match import(&path) {
            Err(Error::Transfer(TransferError::InvalidImportFile {
                path: p,
                line: Some(_),
                ..
            })) => assert_eq!(p, path),
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    let path = write("garbage.json", "{\"format\": nope}");
    assert!(matches!(
        import(&path),
        Err(Error::Transfer(TransferError::InvalidImportFile {
            line: Some(1),
            ..
        }))
    ));
    let path = write("array.json", "[1, 2]");
    assert!(matches!(
        import(&path),
        Err(Error::Transfer(TransferError::InvalidImportFile {
            line: None,
            ..
        }))
    ));
    let path = write(
        "other.json",
        r#"{"format": "something-else", "entities": {}}"#,
    );
    assert!(matches!(
        import(&path),
        Err(Error::Transfer(TransferError::InvalidImportFile { .. }))
    ));
    let path = write("newer.json", r#"{"format_version": 2, "entities": {}}"#);
    assert!(matches!(
        import(&path),
        Err(Error::Transfer(TransferError::InvalidImportFile { .. }))
    ));
    let path = write("no-entities.json", r#"{"scenario": {"name": "x"}}"#);
    assert!(matches!(
        import(&path),
        Err(Error::Transfer(TransferError::InvalidImportFile { .. }))
    ));
    // A count that does not match the entities (an edited or cut list).
    let mut document: Json = serde_json::from_str(&text)?;
    document["entities"]["patients"]
        .as_array_mut()
        .ok_or("patients")?
        .pop();
    let path = write("short.json", &document.to_string());
    assert!(matches!(
        import(&path),
        Err(Error::Transfer(TransferError::InvalidImportFile { .. }))
    ));
    // An entity persist refuses: the file, then the entity type, index and field.
    let mut document: Json = serde_json::from_str(&text)?;
    document["entities"]["patients"][1]["birth_date"] = json!("not a date");
    let path = write("bad-entity.json", &document.to_string());
    match import(&path) {
        Err(Error::Transfer(TransferError::ImportEntities { path: p, source })) => {
            assert_eq!(p, path);
            assert!(
                matches!(
                    *source,
                    Error::Input(InputError::InvalidField {
                        entity_type: "patients",
                        index: 1,
                        ..
                    })
                ),
                "{source:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let mut document: Json = serde_json::from_str(&text)?;
    document["entities"]["spaceships"] = json!([{}]);
    let path = write("bad-type.json", &document.to_string());
    assert!(matches!(
        import(&path),
        Err(Error::Transfer(TransferError::ImportEntities { .. }))
    ));
    let mut document: Json = serde_json::from_str(&text)?;
    document["scenario"]["tags"] = json!([""]);
    let path = write("bad-tag.json", &document.to_string());
    assert!(matches!(
        import(&path),
        Err(Error::Transfer(TransferError::ImportEntities { .. }))
    ));
    assert!(matches!(
        import(&dir.path().join("absent.json")),
        Err(Error::Io { .. })
    ));
    assert!(matches!(
        import(Path::new("../x.json")),
        Err(Error::Transfer(TransferError::InvalidPath { .. }))
    ));

    // Folders: an unknown table file, a foreign file, a missing column, a bad value, ...
    fs::write(csv.join("spaceships.csv"), "id\n1\n")?;
    fs::write(csv.join("notes.txt"), "x")?;
    match import(&csv) {
        Err(Error::Transfer(TransferError::UnknownImportFiles { files, .. })) => {
            assert_eq!(files, ["notes.txt", "spaceships.csv"])
        }
        other => panic!("{other:?}"),
    }
    fs::remove_file(csv.join("spaceships.csv"))?;
    fs::remove_file(csv.join("notes.txt"))?;
    fs::write(csv.join(".DS_Store"), "ignored")?;
    let patients_csv = fs::read_to_string(csv.join("patients.csv"))?;
    fs::write(
        csv.join("patients.csv"),
        patients_csv.replacen("patient_id,", "patient_ident,", 1),
    )?;
    assert!(
        matches!(import(&csv), Err(Error::Transfer(TransferError::InvalidImportFile { ref path, .. })) if path.ends_with("patients.csv"))
    );
    let mut lines: Vec<&str> = patients_csv.lines().collect();
    let broken = lines[2].replacen("1950-06-01", "1950-13-45", 1);
    lines[2] = &broken;
    fs::write(csv.join("patients.csv"), lines.join("\n"))?;
    assert!(
        matches!(import(&csv), Err(Error::Transfer(TransferError::ImportData { ref path, .. })) if path.ends_with("patients.csv"))
    );
    fs::write(csv.join("patients.csv"), &patients_csv)?;
    // A repeated id.
    let doubled = format!(
        "{patients_csv}{}\n",
        patients_csv.lines().nth(1).ok_or("a row")?
    );
    fs::write(csv.join("patients.csv"), doubled)?;
    assert!(matches!(
        import(&csv),
        Err(Error::Transfer(TransferError::ImportData { .. }))
    ));
    fs::write(csv.join("patients.csv"), &patients_csv)?;
    fs::copy(parquet.join("claims.parquet"), csv.join("claims.parquet"))?;
    assert!(matches!(
        import(&csv),
        Err(Error::Transfer(TransferError::InvalidImportFile { .. }))
    ));
    fs::remove_file(csv.join("claims.parquet"))?;
    fs::write(parquet.join("claims.parquet"), "PAR1 not really")?;
    assert!(
        matches!(import(&parquet), Err(Error::Transfer(TransferError::ImportData { ref path, .. })) if path.ends_with("claims.parquet"))
    );
    let empty = dir.path().join("empty");
    fs::create_dir(&empty)?;
    assert!(matches!(
        import(&empty),
        Err(Error::Transfer(TransferError::InvalidImportFile { .. }))
    ));

    before.expect_same(&store_state(&store)?, "refused imports")?;
    // The repaired CSV folder imports (the hidden file is ignored).
    let imported = import(&csv)?;
    assert_eq!(
        contents(&store, &imported.scenario_id),
        contents(&store, &scenario)
    );
    assert_manifest_consistent(&store);
    Ok(())
}

fn text_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[ -~]{0,12}",
        "[a-z,\"'\n\r\t;\\\\]{1,10}",
        "\\PC{1,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::store_cases(8), ..ProptestConfig::default() })]

    /// Any text in columns and in `extra` survives export and import in every format.
    #[test]
    fn any_text_round_trips(values in proptest::collection::vec((text_value(), text_value(), text_value()), 1..5)) {
        let (dir, store) = store();
        let list: Vec<Json> = values
            .iter()
            .enumerate()
            .map(|(i, (given, city, note))| json!({"patient_id": format!("p{i}"), "given_name": given, "city": city, "note": note}))
            .collect();
        let request = PersistRequest::new("patients", list).with_scenario(ScenarioTarget::new_named("texts"));
        let original = store.persist_entities(&request).expect("persist").scenario_id;
        for format in [ExportFormat::Json, ExportFormat::Csv, ExportFormat::Parquet] {
            let out = dir.path().join(format.name());
            fs::create_dir(&out).expect("a folder per format");
            let exported = export(&store, &original, format, &out);
            let imported = store.import_scenario(&exported.path, &ImportOptions::default()).expect("import");
            prop_assert_eq!(contents(&store, &imported.scenario_id), contents(&store, &original), "{:?}", format);
        }
    }
}

/// A CSV folder written by hand (not by our export) spells gender and state freely: the import
/// stores them in their code sets, as persist does, and keeps the given spelling in `extra`.
#[test]
fn a_folder_import_normalizes_coded_columns() -> TestResult {
    let (dir, store) = store();
    let folder = dir.path().join("hand-made");
    fs::create_dir(&folder)?;
    fs::write(
        folder.join("patients.csv"),
        "patient_id,gender,state,extra\n\
         p1,F,AZ,\n\
         p2,female,Arizona,\"{\"\"note\"\": 1}\"\n\
         p3,Female,az,\n\
         p4,nonbinary,Ontario,\n",
    )?;
    let imported = store.import_scenario(&folder, &ImportOptions::default())?;
    assert_eq!(imported.counts["patients"], 4);
    let loaded = store.load_scenario(&imported.scenario_id)?;
    let stored: Vec<Json> = loaded.entities["patients"]
        .iter()
        .map(|p| json!([p["gender"], p["state"], p["normalized_from"], p["note"]]))
        .collect();
    assert_eq!(
        stored,
        [
            json!(["F", "AZ", null, null]),
            json!(["F", "AZ", {"gender": "female", "state": "Arizona"}, 1]),
            json!(["F", "AZ", {"gender": "Female", "state": "az"}, null]),
            json!(["nonbinary", "Ontario", null, null]),
        ]
    );
    assert_manifest_consistent(&store);
    Ok(())
}
