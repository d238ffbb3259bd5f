//! Provenance set once per call (persist, import, FHIR import): stored on every row of the call,
//! an entity's own value winning field by field; a bad value is refused with an error naming
//! the field, and nothing is written.

mod common;

use std::fs;

use common::{store, store_state, TestResult};
use healthsim_persist::fhir::FhirImportOptions;
use healthsim_persist::{
    Error, ExportFormat, ExportOptions, ImportOptions, InputError, PersistRequest, Provenance,
    ScenarioTarget, Store, MAX_PROVENANCE_CHARS,
};
use serde_json::{json, Value as Json};

fn call_provenance() -> Provenance {
    Provenance {
        source_type: Some("synthetic".into()),
        source_system: Some("agent run 7".into()),
        skill_used: Some("healthsim-patientsim".into()),
        generation_seed: Some(42),
    }
}

/// `(id, source_type, source_system, skill_used, generation_seed)` of a table's rows, by id.
fn provenance_rows(store: &Store, table: &str, pk: &str) -> Vec<Json> {
    store
        .with_reader(|c| {
            let sql = format!(
                "SELECT {pk}, source_type, source_system, skill_used, generation_seed \
                 FROM {table} ORDER BY {pk}"
            );
            let mut statement = c.prepare(&sql).expect("prepare");
            let rows = statement
                .query_map([], |r| {
                    Ok(json!([
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                    ]))
                })
                .expect("query")
                .collect::<Result<Vec<_>, _>>()
                .expect("rows");
            Ok(rows)
        })
        .expect("read")
}

#[test]
fn a_call_s_provenance_is_on_every_row_and_an_entity_s_own_wins() -> TestResult {
    let (_dir, store) = store();
    let request = PersistRequest::new(
        "patients",
        vec![
            json!({"patient_id": "p1"}),
            json!({"patient_id": "p2", "source_type": "hand-written", "generation_seed": 7}),
        ],
    )
    .with_provenance(call_provenance());
    store.persist_entities(&request)?;
    assert_eq!(
        provenance_rows(&store, "patients", "patient_id"),
        [
            json!(["p1", "synthetic", "agent run 7", "healthsim-patientsim", 42]),
            json!([
                "p2",
                "hand-written",
                "agent run 7",
                "healthsim-patientsim",
                7
            ]),
        ]
    );
    Ok(())
}

#[test]
fn imports_take_a_call_s_provenance() -> TestResult {
    let (dir, store) = store();
    let request = PersistRequest::new(
        "patients",
        vec![
            json!({"patient_id": "p1"}),
            json!({"patient_id": "p2", "skill_used": "mine"}),
        ],
    )
    .with_scenario(ScenarioTarget::new_named("source"));
    store.persist_entities(&request)?;
    let options = ImportOptions {
        provenance: call_provenance(),
        ..ImportOptions::default()
    };
    for format in [ExportFormat::Json, ExportFormat::Csv] {
        let exported = store.export_scenario(
            "source",
            &ExportOptions {
                format,
                // A .json file, or a new folder of CSV files.
                out: Some(dir.path().join(match format {
                    ExportFormat::Json => "export.json",
                    _ => "csv",
                })),
                ..ExportOptions::default()
            },
        )?;
        let imported = store.import_scenario(&exported.path, &options)?;
        let imported_rows = store.with_reader(|c| {
            let mut statement = c
                .prepare(
                    "SELECT patient_id, source_type, skill_used, generation_seed FROM patients \
                     WHERE scenario_id = ? ORDER BY patient_id",
                )
                .expect("prepare");
            let rows = statement
                .query_map([&imported.scenario_id], |r| {
                    Ok(json!([
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                    ]))
                })
                .expect("query")
                .collect::<Result<Vec<_>, _>>()
                .expect("rows");
            Ok(rows)
        })?;
        assert_eq!(
            imported_rows,
            [
                json!(["p1", "synthetic", "healthsim-patientsim", 42]),
                json!(["p2", "synthetic", "mine", 42]),
            ],
            "{format:?}"
        );
    }
    Ok(())
}

#[test]
fn a_fhir_import_takes_a_call_s_provenance_and_keeps_fhir_as_its_source_type() -> TestResult {
    let (dir, store) = store();
    let file = dir.path().join("patient.json");
    fs::write(
        &file,
        r#"{"resourceType":"Patient","id":"f1","gender":"female","birthDate":"1960-01-01"}"#,
    )?;
    let options = FhirImportOptions {
        provenance: call_provenance(),
        ..FhirImportOptions::default()
    };
    store.import_fhir(&[&file], &options)?;
    assert_eq!(
        provenance_rows(&store, "patients", "patient_id"),
        [json!([
            "f1",
            "fhir",
            "agent run 7",
            "healthsim-patientsim",
            42
        ])]
    );
    Ok(())
}

/// Each bad value, through each write path: the exact error, and nothing written.
#[test]
fn bad_provenance_is_refused_and_writes_nothing() -> TestResult {
    let long = "x".repeat(MAX_PROVENANCE_CHARS + 1);
    let cases: Vec<(Provenance, String)> = vec![
        (
            Provenance {
                source_type: Some(String::new()),
                ..Provenance::default()
            },
            r#"provenance source_type: must not be empty (omit it instead), got """#.into(),
        ),
        (
            Provenance {
                skill_used: Some("   ".into()),
                ..Provenance::default()
            },
            r#"provenance skill_used: must not be empty (omit it instead), got "   ""#.into(),
        ),
        (
            Provenance {
                source_system: Some(long.clone()),
                ..Provenance::default()
            },
            format!(
                "provenance source_system: has at most {MAX_PROVENANCE_CHARS} characters, this one has {}, got \"{}...",
                MAX_PROVENANCE_CHARS + 1,
                "x".repeat(79)
            ),
        ),
        (
            Provenance {
                source_type: Some("synthetic\nDROP".into()),
                ..Provenance::default()
            },
            r#"provenance source_type: must not hold control characters (line breaks, tabs, ...), got "synthetic\nDROP""#
                .into(),
        ),
    ];
    let (dir, store) = store();
    let export = dir.path().join("export.json");
    let fhir = dir.path().join("patient.json");
    fs::write(
        &fhir,
        r#"{"resourceType":"Patient","id":"f1","gender":"female"}"#,
    )?;
    {
        let (_other_dir, other) = common::store();
        other.persist_entities(
            &PersistRequest::new("patients", vec![json!({"patient_id": "p1"})])
                .with_scenario(ScenarioTarget::new_named("to-export")),
        )?;
        let exported = other.export_scenario(
            "to-export",
            &ExportOptions {
                out: Some(export.clone()),
                ..ExportOptions::default()
            },
        )?;
        assert_eq!(exported.path, export);
    }
    let before = store_state(&store)?;
    let check = |result: Result<(), Error>, expected: &str, path: &str| {
        match result {
            Err(Error::Input(error @ InputError::InvalidProvenance { .. })) => {
                assert_eq!(error.to_string(), expected, "{path}")
            }
            other => panic!("{path}: {other:?}"),
        }
        let after = store_state(&store).expect("reading the database state");
        if let Err(changed) = before.expect_same(&after, path) {
            panic!("{changed}");
        }
        assert!(store
            .list_scenarios(&Default::default())
            .expect("list")
            .is_empty());
    };
    for (provenance, expected) in &cases {
        let persist = PersistRequest::new("patients", vec![json!({"patient_id": "p1"})])
            .with_provenance(provenance.clone());
        check(
            store.persist_entities(&persist).map(drop),
            expected,
            "persist",
        );
        let import = ImportOptions {
            provenance: provenance.clone(),
            ..ImportOptions::default()
        };
        check(
            store.import_scenario(&export, &import).map(drop),
            expected,
            "import",
        );
        let fhir_options = FhirImportOptions {
            provenance: provenance.clone(),
            ..FhirImportOptions::default()
        };
        check(
            store.import_fhir(&[&fhir], &fhir_options).map(drop),
            expected,
            "import-fhir",
        );
    }
    Ok(())
}
