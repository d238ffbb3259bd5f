//! FHIR R4 import into a scenario: rows per table, statistics, referential integrity, updates,
//! atomic failure, skipping invalid resources, existing targets and streaming in chunks.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use common::{
    assert_manifest_consistent, patients, persist_new, store, strings, table_counts, TestResult,
};
use healthsim_persist::fhir::{CommitMode, FhirError, FhirImportOptions, FhirImportReport};
use healthsim_persist::{Error, InputError, ScenarioTarget, Store, SummaryOptions, TypeCounts};
use serde_json::{json, Value as Json};

/// A fixture of healthsim-fhir's tests (the FHIR fixtures live with the mapping they exercise).
fn data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../healthsim-fhir/tests/data/fhir")
        .join(relative)
}

fn options(scenario: ScenarioTarget, skip_invalid: bool, batch_size: usize) -> FhirImportOptions {
    FhirImportOptions {
        scenario,
        skip_invalid,
        batch_size,
        ..FhirImportOptions::default()
    }
}

fn inserted(report: &FhirImportReport) -> BTreeMap<String, u64> {
    report
        .rows_written
        .iter()
        .map(|(t, c)| (t.clone(), c.inserted))
        .collect()
}

fn owned<N: Copy + Into<u64>>(pairs: &[(&str, N)]) -> BTreeMap<String, u64> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), (*v).into()))
        .collect()
}

/// Rows of the scenario per table (tables with rows only), by `count(*)`.
fn scenario_rows(store: &Store, scenario_id: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for t in healthsim_schema::ENTITY_TYPES {
        let n = strings(
            store,
            &format!(
                "SELECT count(*)::VARCHAR FROM {} WHERE scenario_id = ?",
                t.table
            ),
            scenario_id,
        );
        let n: u64 = n[0][0].as_deref().unwrap_or("0").parse().expect("count");
        if n > 0 {
            counts.insert(t.table.to_string(), n);
        }
    }
    counts
}

fn text(store: &Store, sql: &str, scenario_id: &str) -> Option<String> {
    strings(store, sql, scenario_id)
        .into_iter()
        .next()
        .and_then(|row| row.into_iter().next().flatten())
}

// ------------------------------------------------------------------------------------------
// The fixture sets.

const TRANSACTION_ROWS: &[(&str, u64)] = &[
    ("allergies", 1),
    ("claim_lines", 2),
    ("claims", 1),
    ("diagnoses", 1),
    ("encounters", 1),
    ("facilities", 2),
    ("fhir_resources", 1),
    ("lab_results", 1),
    ("medications", 1),
    ("members", 1),
    ("patients", 1),
    ("persons", 1),
    ("prescriptions", 1),
    ("procedures", 1),
    ("providers", 1),
    ("studies", 1),
    ("subjects", 1),
    ("treatment_arms", 2),
    ("vitals", 4),
];
const COLLECTION_ROWS: &[(&str, u64)] = &[
    ("diagnoses", 1),
    ("encounters", 1),
    ("fhir_resources", 1),
    ("lab_results", 1),
    ("medications", 1),
    ("patients", 1),
    ("persons", 1),
    ("providers", 1),
    ("vitals", 1),
];
const BULK_ROWS: &[(&str, u64)] = &[
    ("diagnoses", 5),
    ("encounters", 5),
    ("lab_results", 2),
    ("patients", 5),
    ("persons", 5),
    ("vitals", 3),
];

/// One fixture set and what its import must give.
struct FixtureCase {
    name: &'static str,
    paths: Vec<PathBuf>,
    rows: BTreeMap<String, u64>,
    resources: u64,
    unsupported: &'static [(&'static str, u64)],
    /// The references the fixture authors left dangling on purpose (see healthsim-fhir's tests/fhir_mapping.rs).
    unresolved: &'static [(&'static str, u64)],
    examples: &'static [&'static str],
}

fn fixture_cases() -> Vec<FixtureCase> {
    let mut all_rows = BTreeMap::new();
    for set in [TRANSACTION_ROWS, COLLECTION_ROWS, BULK_ROWS] {
        for (table, n) in set {
            *all_rows.entry(table.to_string()).or_insert(0) += n;
        }
    }
    vec![
        FixtureCase {
            name: "transaction bundle",
            paths: vec![data("transaction-bundle.json")],
            rows: owned(TRANSACTION_ROWS),
            resources: 20,
            unsupported: &[("ImagingStudy", 1)],
            unresolved: &[],
            examples: &[],
        },
        FixtureCase {
            name: "collection bundle",
            paths: vec![data("collection-bundle.json")],
            rows: owned(COLLECTION_ROWS),
            resources: 8,
            unsupported: &[("Observation", 1)],
            unresolved: &[
                ("encounters.facility_id", 1),
                ("medications.prescriber_provider_id", 1),
            ],
            examples: &[
                "encounters.facility_id = org-missing",
                "medications.prescriber_provider_id = pr-unknown",
            ],
        },
        FixtureCase {
            name: "bulk ndjson folder",
            paths: vec![data("bulk")],
            rows: owned(BULK_ROWS),
            resources: 20,
            unsupported: &[],
            unresolved: &[("encounters.facility_id", 1)],
            examples: &["encounters.facility_id = bulk-org-1"],
        },
        FixtureCase {
            name: "all sets into one scenario",
            paths: vec![
                data("transaction-bundle.json"),
                data("collection-bundle.json"),
                data("bulk"),
            ],
            rows: all_rows,
            resources: 48,
            unsupported: &[("ImagingStudy", 1), ("Observation", 1)],
            unresolved: &[
                ("encounters.facility_id", 2),
                ("medications.prescriber_provider_id", 1),
            ],
            examples: &[
                "encounters.facility_id = bulk-org-1",
                "encounters.facility_id = org-missing",
                "medications.prescriber_provider_id = pr-unknown",
            ],
        },
    ]
}

#[test]
fn fixture_sets_import_with_the_rows_and_references_they_hold() -> TestResult {
    for case in fixture_cases() {
        let (_dir, store) = store();
        // Small chunks too: the result must not depend on the chunk size.
        for batch_size in [5_000, 3] {
            let name = format!("{} {batch_size}", case.name);
            let report = store.import_fhir(
                &case.paths,
                &options(ScenarioTarget::new_named(&name), false, batch_size),
            )?;
            let what = &name;
            assert!(report.is_new_scenario, "{what}");
            assert_eq!(inserted(&report), case.rows, "{what}: rows written");
            assert!(
                report.rows_written.values().all(|c| c.updated == 0),
                "{what}"
            );
            assert_eq!(
                scenario_rows(&store, &report.scenario_id),
                case.rows,
                "{what}: rows in the database"
            );
            assert_eq!(
                report.resources_read.values().sum::<u64>(),
                case.resources,
                "{what}"
            );
            assert_eq!(report.unsupported, owned(case.unsupported), "{what}");
            // Nothing is dropped: types without a table are imported into fhir_resources.
            assert_eq!(report.resources_imported, case.resources, "{what}");
            assert_eq!(
                report
                    .rows_written
                    .get("fhir_resources")
                    .map(|c| c.inserted),
                Some(case.unsupported.iter().map(|(_, n)| n).sum::<u64>()).filter(|n| *n > 0),
                "{what}"
            );
            assert_eq!(
                report.unresolved_references,
                owned(case.unresolved),
                "{what}"
            );
            assert_eq!(report.unresolved_examples, case.examples, "{what}");
            assert_eq!(
                (report.skipped_total, report.replaced_in_chunk),
                (0, 0),
                "{what}"
            );
            let summary =
                store.scenario_summary(&report.scenario_id, &SummaryOptions::default())?;
            assert_eq!(summary.entity_counts, case.rows, "{what}: manifest");
        }
        assert_manifest_consistent(&store);
    }
    Ok(())
}

/// The report a caller (CLI, MCP tool) sees for all fixture sets at once.
#[test]
fn report_snapshot() -> TestResult {
    let (_dir, store) = store();
    let report = store.import_fhir(
        &[
            data("transaction-bundle.json"),
            data("collection-bundle.json"),
            data("bulk"),
        ],
        &FhirImportOptions::default(),
    )?;
    assert!(
        report.scenario_name.starts_with("fhir-import-"),
        "named from the default context: {}",
        report.scenario_name
    );
    insta::assert_json_snapshot!(report, {
        ".scenario_id" => "[scenario-id]",
        ".scenario_name" => "[scenario-name]",
    });
    Ok(())
}

#[test]
fn summary_statistics_match_the_fixture() -> TestResult {
    let (_dir, store) = store();
    let report = store.import_fhir(&[data("bulk")], &FhirImportOptions::default())?;
    let summary = store.scenario_summary(
        &report.scenario_id,
        &SummaryOptions {
            as_of: chrono::NaiveDate::from_ymd_opt(2024, 6, 30).expect("date"),
            ..SummaryOptions::without_samples()
        },
    )?;
    assert_eq!(summary.entity_counts["patients"], 5);
    assert_eq!(summary.total_entities, 25);
    // The summary trims long lists to its token budget, so only what is never trimmed is
    // compared exactly.
    let stats = &summary.statistics;
    // FHIR's `female` / `male` are stored as F / M (the given spelling stays in extra).
    assert_eq!(stats["patients"]["gender"], json!("F 60%; M 40%"));
    assert_eq!(stats["patients"]["age"], json!("36–83, median 69"));
    let top = stats["diagnoses"]["top_codes"].as_str().unwrap_or_default();
    assert!(
        top.starts_with("13645005 Chronic obstructive lung disease 20%"),
        "every code has one patient of five; ties go by code: {top}"
    );
    assert_eq!(stats["encounters"]["inpatient_avg_los_days"], 4);
    assert_eq!(
        stats["encounters"]["start_datetime_range"],
        json!("2023-12-19..2024-03-01")
    );

    // The same numbers straight from the tables.
    let id = &report.scenario_id;
    assert_eq!(
        strings(
            &store,
            "SELECT gender, count(*)::VARCHAR FROM patients WHERE scenario_id = ? GROUP BY 1 ORDER BY 1",
            id
        ),
        [
            [Some("F".to_string()), Some("3".to_string())],
            [Some("M".to_string()), Some("2".to_string())]
        ]
    );
    assert_eq!(
        text(
            &store,
            "SELECT count(*)::VARCHAR FROM encounters WHERE scenario_id = ? AND encounter_class = 'inpatient'",
            id
        )
        .as_deref(),
        Some("1")
    );
    assert_eq!(
        text(
            &store,
            "SELECT string_agg(code, ',' ORDER BY code) FROM diagnoses WHERE scenario_id = ? AND code_system = 'ICD-10-CM'",
            id
        )
        .as_deref(),
        Some("I10,J18.9,S52.501A,Z33.1")
    );
    Ok(())
}

#[test]
fn codes_keep_their_system_and_display() -> TestResult {
    let (_dir, store) = store();
    let report = store.import_fhir(
        &[data("collection-bundle.json"), data("bulk")],
        &FhirImportOptions::default(),
    )?;
    let id = &report.scenario_id;
    let cases: &[(&str, &[&str])] = &[
        (
            "SELECT code, code_system, description FROM diagnoses WHERE scenario_id = ? AND diagnosis_id = 'cond-1'",
            &["195662009", "SNOMED CT", "Acute viral pharyngitis"],
        ),
        (
            "SELECT code, code_system, description FROM diagnoses WHERE scenario_id = ? AND diagnosis_id = 'bc-1'",
            &["I10", "ICD-10-CM", "Essential (primary) hypertension"],
        ),
        (
            "SELECT discharge_disposition, extra->>'discharge_disposition_system', extra->>'discharge_disposition_display'
             FROM encounters WHERE scenario_id = ? AND encounter_id = 'be-2'",
            &[
                "snf",
                "http://terminology.hl7.org/CodeSystem/discharge-disposition",
                "Skilled nursing facility",
            ],
        ),
        (
            "SELECT rxnorm_code, drug_name FROM medications WHERE scenario_id = ? AND medication_id = 'rx-1'",
            &["198211", "simvastatin 40 MG Oral Tablet"],
        ),
        (
            "SELECT loinc_code, test_name FROM lab_results WHERE scenario_id = ? AND lab_result_id = 'bo-1'",
            &["2345-7", "Glucose [Mass/volume] in Serum or Plasma"],
        ),
        // The original resource rides along, unchanged.
        (
            "SELECT extra->'fhir'->'code'->'coding'->0->>'display' FROM diagnoses WHERE scenario_id = ? AND diagnosis_id = 'bc-2'",
            &["Pneumonia, unspecified organism"],
        ),
    ];
    for (sql, expected) in cases {
        let got = strings(&store, sql, id);
        let expected: Vec<Option<String>> = expected.iter().map(|s| Some(s.to_string())).collect();
        assert_eq!(got, [expected], "{sql}");
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Updates and repeats.

#[test]
fn reimport_into_the_same_scenario_updates_without_duplicates() -> TestResult {
    let (dir, store) = store();
    let first = store.import_fhir(&[data("bulk")], &FhirImportOptions::default())?;
    let before = table_counts(&store);
    let again = store.import_fhir(
        &[data("bulk")],
        &FhirImportOptions::into_scenario(ScenarioTarget::existing(&first.scenario_name)),
    )?;
    assert!(!again.is_new_scenario);
    assert_eq!(again.scenario_id, first.scenario_id);
    let updated: BTreeMap<String, TypeCounts> = owned(BULK_ROWS)
        .into_iter()
        .map(|(t, n)| {
            (
                t,
                TypeCounts {
                    inserted: 0,
                    updated: n,
                },
            )
        })
        .collect();
    assert_eq!(again.rows_written, updated);
    assert_eq!(table_counts(&store), before, "no row added anywhere");

    // A changed resource replaces its rows.
    let changed = dir.path().join("changed.ndjson");
    std::fs::write(
        &changed,
        r#"{"resourceType":"Patient","id":"bp-1","gender":"unknown","birthDate":"1949-07-21"}"#,
    )?;
    store.import_fhir(
        &[&changed],
        &FhirImportOptions::into_scenario(ScenarioTarget::existing(&first.scenario_id)),
    )?;
    assert_eq!(
        text(
            &store,
            "SELECT gender || ' ' || coalesce(family_name, '-') FROM patients WHERE scenario_id = ? AND patient_id = 'bp-1'",
            &first.scenario_id
        )
        .as_deref(),
        Some("U -"),
        "the whole row is replaced, like a re-persist"
    );
    assert_eq!(table_counts(&store), before);
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn a_resource_repeated_in_the_input_is_written_once_and_the_last_one_wins() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("repeats.ndjson");
    std::fs::write(
        &file,
        [
            r#"{"resourceType":"Patient","id":"r1","gender":"female"}"#,
            r#"{"resourceType":"Patient","id":"r2","gender":"male"}"#,
            r#"{"resourceType":"Patient","id":"r1","gender":"other"}"#,
        ]
        .join("\n"),
    )?;
    // (batch size, replaced inside a chunk, patients inserted, patients updated)
    let cases = [(10, 2, 2, 0), (3, 2, 2, 0), (2, 0, 2, 1), (1, 0, 2, 1)];
    for (batch_size, replaced, inserted_patients, updated_patients) in cases {
        let (_db, store) = store();
        let report = store.import_fhir(
            &[&file],
            &options(ScenarioTarget::default(), false, batch_size),
        )?;
        assert_eq!(report.replaced_in_chunk, replaced, "batch {batch_size}");
        assert_eq!(
            report.rows_written["patients"],
            TypeCounts {
                inserted: inserted_patients,
                updated: updated_patients
            },
            "batch {batch_size}"
        );
        assert_eq!(
            strings(
                &store,
                "SELECT patient_id, gender FROM patients WHERE scenario_id = ? ORDER BY 1",
                &report.scenario_id
            ),
            [
                [Some("r1".to_string()), Some("O".to_string())],
                [Some("r2".to_string()), Some("M".to_string())]
            ],
            "batch {batch_size}"
        );
        assert_manifest_consistent(&store);
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Invalid input.

#[test]
fn a_malformed_resource_fails_the_whole_import_and_writes_nothing() -> TestResult {
    let (_dir, store) = store();
    let existing = persist_new(&store, "existing-cohort", "patients", patients(2));
    let before = table_counts(&store);
    let listed_before = store.list_scenarios(&Default::default())?;
    let bad = data("malformed/bad.ndjson");
    let targets = [
        ScenarioTarget::default(),
        ScenarioTarget::existing("existing-cohort"),
    ];
    for target in targets {
        // Batch size 1: line 1 is written before line 2 fails, and is rolled back with it.
        for batch_size in [1, 5_000] {
            let result = store.import_fhir(&[&bad], &options(target.clone(), false, batch_size));
            match result {
                Err(Error::Fhir(FhirError::InvalidJson { file, line, .. })) => {
                    assert_eq!((file, line), (bad.clone(), Some(2)));
                }
                other => panic!("{target:?} {batch_size}: {other:?}"),
            }
            assert_eq!(table_counts(&store), before, "{target:?} {batch_size}");
        }
    }
    assert_eq!(store.list_scenarios(&Default::default())?, listed_before);
    let message = store
        .import_fhir(&[&bad], &FhirImportOptions::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.starts_with("invalid json in ") && message.contains("bad.ndjson line 2: "),
        "{message}"
    );
    assert_eq!(
        scenario_rows(&store, &existing.scenario_id),
        owned(&[("patients", 2u64)])
    );
    Ok(())
}

#[test]
fn skip_invalid_imports_the_valid_rest_and_lists_each_skipped_line() -> TestResult {
    let (_dir, store) = store();
    let bad = data("malformed/bad.ndjson");
    let report = store.import_fhir(
        &[&bad],
        &options(ScenarioTarget::default(), true, DEFAULT_BATCH),
    )?;
    let skipped: Vec<(usize, Option<&str>, Option<&str>, &str)> = report
        .skipped
        .iter()
        .map(|s| {
            assert_eq!((&s.file, s.entry), (&bad, None));
            (
                s.line.expect("line"),
                s.resource_type.as_deref(),
                s.id.as_deref(),
                s.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        [
            (
                2,
                None,
                None,
                "invalid json: EOF while parsing a value at column 0"
            ),
            (
                4,
                Some("Encounter"),
                Some("wrong-shape"),
                "subject must be an object, found a string"
            ),
            (
                6,
                Some("Observation"),
                Some("bad-date"),
                "effectiveDateTime: '2024-02-30T10:00:00Z' is not a calendar date"
            ),
            (
                7,
                None,
                None,
                "expected a FHIR resource or Bundle (a json object), found a list"
            ),
            (8, None, None, "missing resourceType"),
        ]
    );
    assert_eq!(report.skipped_total, 5);
    assert_eq!(
        report.resources_read,
        owned(&[
            ("Condition", 1u64),
            ("Encounter", 1),
            ("Observation", 1),
            ("Patient", 1)
        ])
    );
    assert_eq!(report.resources_imported, 2);
    assert_eq!(
        scenario_rows(&store, &report.scenario_id),
        owned(&[("diagnoses", 1u64), ("patients", 1), ("persons", 1)])
    );
    assert!(report.unresolved_references.is_empty());
    assert_manifest_consistent(&store);
    Ok(())
}

const DEFAULT_BATCH: usize = healthsim_persist::fhir::import::DEFAULT_BATCH_SIZE;

/// Resources the mapping accepts but persist's validation refuses.
const REJECTED: &[&str] = &[
    r#"{"resourceType":"Patient","id":"fine-1","gender":"female"}"#,
    r#"{"resourceType":"Claim","id":"huge","status":"active","patient":{"reference":"Patient/fine-1"},"total":{"value":12345678901234567890,"currency":"USD"}}"#,
    r#"{"resourceType":"Claim","id":"twice","status":"active","patient":{"reference":"Patient/fine-1"},"item":[{"sequence":1,"productOrService":{"coding":[{"code":"99213"}]}},{"sequence":1,"productOrService":{"coding":[{"code":"85025"}]}}]}"#,
    r#"{"resourceType":"Patient","id":"fine-2","gender":"male"}"#,
];

#[test]
fn entities_refused_by_persist_validation_fail_or_are_skipped() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("claims.ndjson");
    std::fs::write(&file, REJECTED.join("\n"))?;
    let (_db, store) = store();
    let before = table_counts(&store);
    match store.import_fhir(&[&file], &options(ScenarioTarget::default(), false, 1)) {
        Err(Error::FhirResourceRejected {
            position,
            resource_type,
            id,
            reason,
            source,
        }) => {
            assert_eq!(
                (position.file.as_path(), position.line, position.entry),
                (file.as_path(), Some(2), None)
            );
            assert_eq!(
                (resource_type.as_str(), id.as_deref()),
                ("Claim", Some("huge"))
            );
            assert!(reason.starts_with("claims.total_billed: "), "{reason}");
            assert!(
                matches!(*source, Error::Input(InputError::InvalidField { .. })),
                "{source:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(table_counts(&store), before);

    let report = store.import_fhir(&[&file], &options(ScenarioTarget::default(), true, 1))?;
    let skipped: Vec<(Option<usize>, Option<&str>)> = report
        .skipped
        .iter()
        .map(|s| (s.line, s.id.as_deref()))
        .collect();
    assert_eq!(skipped, [(Some(2), Some("huge")), (Some(3), Some("twice"))]);
    assert_eq!(
        report.skipped[1].reason,
        "claim_lines: the resource maps to id 'twice-1' twice"
    );
    assert_eq!(
        scenario_rows(&store, &report.scenario_id),
        owned(&[("patients", 2u64), ("persons", 2)]),
        "nothing of a skipped resource is written"
    );
    Ok(())
}

/// The text of the import's own errors, as one snapshot.
#[test]
fn error_messages() -> TestResult {
    let dir = tempfile::tempdir()?;
    let rejected = dir.path().join("claims.ndjson");
    std::fs::write(&rejected, REJECTED.join("\n"))?;
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty)?;
    let invalid_only = dir.path().join("invalid.ndjson");
    std::fs::write(&invalid_only, "{not json\n[]\n")?;
    let (_db, store) = store();
    let cases: Vec<(&str, Vec<PathBuf>, FhirImportOptions)> = vec![
        ("rejected", vec![rejected], FhirImportOptions::default()),
        ("empty folder", vec![empty], FhirImportOptions::default()),
        (
            "everything skipped",
            vec![invalid_only],
            options(ScenarioTarget::default(), true, 10),
        ),
        (
            "unknown scenario",
            vec![data("bulk")],
            FhirImportOptions::into_scenario(ScenarioTarget::existing("nope")),
        ),
        (
            "zero batch",
            vec![data("bulk")],
            options(ScenarioTarget::default(), false, 0),
        ),
        (
            "missing path",
            vec![dir.path().join("missing.ndjson")],
            FhirImportOptions::default(),
        ),
    ];
    let mut lines = Vec::new();
    for (case, paths, options) in cases {
        let message = match store.import_fhir(&paths, &options) {
            Err(e) => e.to_string(),
            Ok(report) => panic!("{case}: {report:?}"),
        };
        let message = message.replace(&dir.path().display().to_string(), "<dir>");
        let message = message.replace(env!("CARGO_MANIFEST_DIR"), "<crate>");
        lines.push(format!("{case}: {message}"));
    }
    insta::assert_snapshot!(lines.join("\n"));
    assert_eq!(table_counts(&store)["scenarios"], 0);
    Ok(())
}

#[test]
fn nothing_to_import_is_an_error_and_creates_no_scenario() -> TestResult {
    let dir = tempfile::tempdir()?;
    let invalid_only = dir.path().join("skipped.ndjson");
    std::fs::write(&invalid_only, "{not json\n")?;
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty)?;
    let (_db, store) = store();
    // (path, (files, resources read, unsupported, skipped))
    let cases = [(invalid_only, (1, 0, 0, 1)), (empty, (0, 0, 0, 0))];
    for (path, expected) in cases {
        match store.import_fhir(&[&path], &options(ScenarioTarget::default(), true, 10)) {
            Err(Error::FhirNothingToImport {
                files,
                resources_read,
                unsupported,
                skipped,
            }) => assert_eq!(
                (files, resources_read, unsupported, skipped),
                expected,
                "{}",
                path.display()
            ),
            other => panic!("{}: {other:?}", path.display()),
        }
    }
    assert_eq!(table_counts(&store)["scenarios"], 0);
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Targets.

#[test]
fn an_existing_scenario_target_receives_the_import() -> TestResult {
    let (_dir, store) = store();
    let cohort = persist_new(&store, "arizona-cohort", "patients", patients(2));
    let other = persist_new(&store, "other-cohort", "patients", patients(1));
    let report = store.import_fhir(
        &[data("bulk")],
        &FhirImportOptions::into_scenario(ScenarioTarget::existing("arizona")),
    )?;
    assert!(!report.is_new_scenario);
    assert_eq!(
        (report.scenario_id.as_str(), report.scenario_name.as_str()),
        (cohort.scenario_id.as_str(), "arizona-cohort")
    );
    let mut expected = owned(BULK_ROWS);
    *expected.get_mut("patients").expect("patients") += 2;
    assert_eq!(scenario_rows(&store, &cohort.scenario_id), expected);
    assert_eq!(
        scenario_rows(&store, &other.scenario_id),
        owned(&[("patients", 1u64)])
    );
    let summary = store.scenario_summary("arizona-cohort", &SummaryOptions::without_samples())?;
    assert_eq!(summary.entity_counts["patients"], 7);
    assert_manifest_consistent(&store);

    // An unknown target fails before anything is read or written.
    let before = table_counts(&store);
    match store.import_fhir(
        &[data("bulk")],
        &FhirImportOptions::into_scenario(ScenarioTarget::existing("no-such-scenario")),
    ) {
        Err(Error::ScenarioNotFound { given }) => assert_eq!(given, "no-such-scenario"),
        other => panic!("{other:?}"),
    }
    assert_eq!(table_counts(&store), before);
    Ok(())
}

#[test]
fn a_new_scenario_takes_the_given_name_tags_and_context() -> TestResult {
    let (_dir, store) = store();
    let cases: Vec<(ScenarioTarget, &str)> = vec![
        (ScenarioTarget::new_named("Clinic Export"), "clinic-export"),
        (
            ScenarioTarget::new_named("Clinic Export"),
            "clinic-export-2",
        ),
        (
            ScenarioTarget::New {
                name: None,
                context: Some("diabetic patients from the clinic export".into()),
                description: Some("nightly bulk export".into()),
                tags: vec![" FHIR ".into()],
            },
            "diabetic",
        ),
    ];
    for (target, name) in cases {
        let report =
            store.import_fhir(&[data("bulk")], &FhirImportOptions::into_scenario(target))?;
        assert!(
            report.scenario_name.starts_with(name),
            "{} for {name}",
            report.scenario_name
        );
    }
    let tagged = store.scenarios_by_tag("fhir")?;
    assert_eq!(tagged.len(), 1);
    assert_eq!(
        tagged[0].description.as_deref(),
        Some("nightly bulk export")
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Inputs as generators and bulk-export servers ship them: folders with non-FHIR files, gzip.

#[test]
fn a_folder_with_a_metadata_file_imports_its_fhir_files_and_lists_the_rest() -> TestResult {
    let dir = tempfile::tempdir()?;
    let folder = dir.path().join("output");
    std::fs::create_dir(&folder)?;
    for name in [
        "Patient.ndjson",
        "Encounter.ndjson",
        "Condition.ndjson",
        "Observation.ndjson",
    ] {
        std::fs::copy(data(&format!("bulk/{name}")), folder.join(name))?;
    }
    let metadata = folder.join("export_metadata.json");
    std::fs::write(
        &metadata,
        r#"{"exportedAt": "2024-06-01", "seed": 7, "files": 4}"#,
    )?;
    let (_db, store) = store();
    let report = store.import_fhir(&[&folder], &FhirImportOptions::default())?;
    assert_eq!(inserted(&report), owned(BULK_ROWS));
    assert_eq!(report.files, 4);
    assert_eq!(report.skipped_files_total, 1);
    assert_eq!(
        report.skipped_files,
        [healthsim_persist::fhir::SkippedFile {
            path: metadata.clone(),
            reason: "no resourceType: not a FHIR resource or Bundle".into(),
        }]
    );
    assert_eq!(report.skipped_total, 0);

    // Named on its own, the same file is an error and nothing is written.
    let before = table_counts(&store);
    match store.import_fhir(&[&metadata], &FhirImportOptions::default()) {
        Err(Error::Fhir(FhirError::Malformed {
            resource_type: None,
            reason,
            position: Some(position),
            ..
        })) => {
            assert_eq!(reason, "missing resourceType");
            assert_eq!(position.file, metadata);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(table_counts(&store), before);
    Ok(())
}

fn gzip(from: &Path, to: &Path) -> TestResult {
    use flate2::write::GzEncoder;
    let mut encoder = GzEncoder::new(std::fs::File::create(to)?, flate2::Compression::default());
    encoder.write_all(&std::fs::read(from)?)?;
    encoder.finish()?;
    Ok(())
}

/// Every row of the scenario per table, provenance and timestamps left out, as text.
fn contents(store: &Store, scenario_id: &str) -> BTreeMap<String, Vec<Vec<Option<String>>>> {
    healthsim_schema::ENTITY_TYPES
        .iter()
        .map(|t| {
            let columns: Vec<&str> = t.columns().map(|c| c.name).collect();
            let select = columns
                .iter()
                .map(|c| format!("{c}::VARCHAR"))
                .chain(["extra::VARCHAR".to_string()])
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT {select} FROM {} WHERE scenario_id = ? ORDER BY {}",
                t.table, t.primary_key
            );
            (t.table.to_string(), strings(store, &sql, scenario_id))
        })
        .filter(|(_, rows)| !rows.is_empty())
        .collect()
}

#[test]
fn gzip_files_import_the_same_rows_as_the_plain_files() -> TestResult {
    let dir = tempfile::tempdir()?;
    let folder = dir.path().join("bulk-gz");
    std::fs::create_dir(&folder)?;
    for name in [
        "Patient.ndjson",
        "Encounter.ndjson",
        "Condition.ndjson",
        "Observation.ndjson",
    ] {
        gzip(
            &data(&format!("bulk/{name}")),
            &folder.join(format!("{name}.gz")),
        )?;
    }
    let bundle = dir.path().join("transaction-bundle.json.gz");
    gzip(&data("transaction-bundle.json"), &bundle)?;
    let (_db, store) = store();
    let plain = store.import_fhir(
        &[data("bulk"), data("transaction-bundle.json")],
        &FhirImportOptions::default(),
    )?;
    let compressed = store.import_fhir(&[folder.clone(), bundle], &FhirImportOptions::default())?;
    assert_eq!(compressed.rows_written, plain.rows_written);
    assert_eq!(compressed.resources_read, plain.resources_read);
    assert_eq!(
        compressed.unresolved_references,
        plain.unresolved_references
    );
    assert_eq!(
        contents(&store, &compressed.scenario_id),
        contents(&store, &plain.scenario_id)
    );

    // A corrupt gzip file fails the import naming the file, and writes nothing.
    let corrupt = folder.join("Encounter.ndjson.gz");
    let mut bytes = std::fs::read(&corrupt)?;
    let half = bytes.len() / 2;
    bytes.truncate(half);
    std::fs::write(&corrupt, &bytes)?;
    let before = table_counts(&store);
    match store.import_fhir(&[&folder], &FhirImportOptions::default()) {
        Err(error @ Error::Fhir(FhirError::Decompress { .. })) => {
            assert!(error.is_caller_error());
            let message = error.to_string();
            assert!(
                message.starts_with(&format!("cannot decompress {} (gzip): ", corrupt.display())),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(table_counts(&store), before);
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Commit modes.

/// `n` Patient + Encounter pairs as NDJSON, the resource at `bad` (0-based) replaced by a
/// malformed one.
fn pairs_file(path: &Path, n: usize, bad: Option<usize>) -> TestResult {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for i in 0..n {
        for (k, resource) in [
            json!({"resourceType": "Patient", "id": format!("p{i}"), "gender": "female", "birthDate": "1960-01-02"}),
            json!({"resourceType": "Encounter", "id": format!("e{i}"), "status": "finished", "class": {"code": "AMB"},
                   "subject": {"reference": format!("Patient/p{i}")}, "period": {"start": "2024-01-02T08:00:00Z"}}),
        ]
        .into_iter()
        .enumerate()
        {
            if bad == Some(2 * i + k) {
                writeln!(out, r#"{{"resourceType": "Encounter", "id": "e{i}", "subject": "Patient/p{i}"}}"#)?;
            } else {
                writeln!(out, "{resource}")?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn with_commit(
    commit: CommitMode,
    batch_size: usize,
    scenario: ScenarioTarget,
) -> FhirImportOptions {
    FhirImportOptions {
        commit,
        ..options(scenario, false, batch_size)
    }
}

#[test]
fn chunked_commits_write_the_same_rows_and_say_how_they_committed() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("pairs.ndjson");
    pairs_file(&file, 50, None)?;
    let (_db, store) = store();
    let all = store.import_fhir(
        &[&file],
        &with_commit(CommitMode::All, 30, ScenarioTarget::new_named("all")),
    )?;
    let chunks = store.import_fhir(
        &[&file],
        &with_commit(CommitMode::Chunks, 30, ScenarioTarget::new_named("chunks")),
    )?;
    let auto = store.import_fhir(
        &[&file],
        &with_commit(CommitMode::Auto, 30, ScenarioTarget::new_named("auto")),
    )?;
    assert_eq!(
        (all.commit_mode, all.chunks_committed),
        (CommitMode::All, 1)
    );
    // 100 resources in chunks of 30.
    assert_eq!(
        (chunks.commit_mode, chunks.chunks_committed),
        (CommitMode::Chunks, 4)
    );
    assert_eq!(
        (auto.commit_mode, auto.chunks_committed),
        (CommitMode::All, 1),
        "a small input is atomic"
    );
    assert_eq!(chunks.rows_written, all.rows_written);
    assert_eq!(
        inserted(&chunks),
        owned(&[("encounters", 50u64), ("patients", 50), ("persons", 50)])
    );
    assert_eq!(
        contents(&store, &chunks.scenario_id),
        contents(&store, &all.scenario_id)
    );
    assert!(chunks.unresolved_references.is_empty());
    assert_manifest_consistent(&store);
    let json = serde_json::to_value(&chunks)?;
    assert_eq!(
        (
            json["commit_mode"].as_str(),
            json["chunks_committed"].as_u64()
        ),
        (Some("chunks"), Some(4))
    );
    Ok(())
}

#[test]
fn a_chunked_import_that_fails_midway_keeps_its_chunks_and_a_rerun_completes_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    let bad_file = dir.path().join("bad.ndjson");
    // 100 resources in chunks of 30; resource 75 (in the third chunk) is malformed.
    pairs_file(&bad_file, 50, Some(75))?;
    let good_file = dir.path().join("good.ndjson");
    pairs_file(&good_file, 50, None)?;
    let (_db, store) = store();
    let options = with_commit(CommitMode::Chunks, 30, ScenarioTarget::new_named("bulk"));
    let scenario = match store.import_fhir(&[&bad_file], &options) {
        Err(
            error @ Error::FhirImportIncomplete {
                chunks_committed: 2,
                resources_committed: 60,
                ..
            },
        ) => {
            assert!(error.is_caller_error());
            let message = error.to_string();
            assert!(
                message.starts_with("malformed fhir resource Encounter/e37 (")
                    && message.contains("bad.ndjson:76): ")
                    && message.contains(
                        "; the fhir import had committed 2 chunk(s) (60 resources) into scenario 'bulk' ("
                    )
                    && message.ends_with("re-run the same import into that scenario (--scenario bulk) to complete it without duplicates"),
                "{message}"
            );
            let Error::FhirImportIncomplete {
                scenario_id,
                scenario_name,
                source,
                ..
            } = error
            else {
                unreachable!()
            };
            assert_eq!(scenario_name, "bulk");
            assert!(
                matches!(*source, Error::Fhir(FhirError::Malformed { .. })),
                "{source:?}"
            );
            scenario_id
        }
        other => panic!("{other:?}"),
    };
    // The first two chunks, whole: 30 patients and 30 encounters.
    assert_eq!(
        scenario_rows(&store, &scenario),
        owned(&[("encounters", 30u64), ("patients", 30), ("persons", 30)])
    );
    assert_manifest_consistent(&store);
    // Re-running the fixed input into the scenario completes it without duplicates.
    let rerun = store.import_fhir(
        &[&good_file],
        &with_commit(CommitMode::Chunks, 30, ScenarioTarget::existing("bulk")),
    )?;
    assert_eq!(rerun.scenario_id, scenario);
    let written = |t: &str| rerun.rows_written[t];
    assert_eq!(
        (written("patients").inserted, written("patients").updated),
        (20, 30)
    );
    assert_eq!(
        scenario_rows(&store, &scenario),
        owned(&[("encounters", 50u64), ("patients", 50), ("persons", 50)])
    );
    let fresh = store.import_fhir(
        &[&good_file],
        &with_commit(CommitMode::All, 30, ScenarioTarget::new_named("fresh")),
    )?;
    assert_eq!(
        contents(&store, &scenario),
        contents(&store, &fresh.scenario_id)
    );
    assert_manifest_consistent(&store);

    // A failure before the first commit is the error itself, and writes nothing.
    let early = dir.path().join("early.ndjson");
    pairs_file(&early, 50, Some(3))?;
    let before = table_counts(&store);
    match store.import_fhir(
        &[&early],
        &with_commit(CommitMode::Chunks, 30, ScenarioTarget::new_named("early")),
    ) {
        Err(Error::Fhir(FhirError::Malformed { id, .. })) => assert_eq!(id.as_deref(), Some("e1")),
        other => panic!("{other:?}"),
    }
    assert_eq!(table_counts(&store), before);
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Streaming.

/// Many chunks in one transaction: `HEALTHSIM_TEST_SCALE` multiplies the 20,000 resources.
#[test]
fn a_large_ndjson_input_streams_through_many_chunks() -> TestResult {
    let scale: usize = std::env::var("HEALTHSIM_TEST_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let resources = 20_000 * scale;
    let pairs = resources / 2;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("export.ndjson");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
        for i in 0..pairs {
            let patient = json!({
                "resourceType": "Patient", "id": format!("p{i}"),
                "gender": if i % 2 == 0 { "female" } else { "male" },
                "birthDate": format!("{}-03-04", 1930 + i % 70),
                "name": [{"family": "Stream", "given": [format!("G{i}")]}]
            });
            let encounter = json!({
                "resourceType": "Encounter", "id": format!("e{i}"), "status": "finished",
                "class": {"code": "AMB"},
                "subject": {"reference": format!("Patient/p{i}")},
                "period": {"start": "2024-01-02T08:00:00Z"}
            });
            writeln!(out, "{patient}")?;
            writeln!(out, "{encounter}")?;
        }
        out.flush()?;
    }
    let (_db, store) = store();
    let batch_size = 700;
    let report = store.import_fhir(
        &[&file],
        &options(ScenarioTarget::default(), false, batch_size),
    )?;
    let n = pairs as u64;
    assert_eq!(
        inserted(&report),
        owned(&[("encounters", n), ("patients", n), ("persons", n)])
    );
    assert_eq!(
        report.resources_read,
        owned(&[("Encounter", n), ("Patient", n)])
    );
    assert!(report.unresolved_references.is_empty());
    assert_eq!(
        scenario_rows(&store, &report.scenario_id),
        owned(&[("encounters", n), ("patients", n), ("persons", n)])
    );
    assert!(resources / batch_size >= 20, "many chunks");
    let female: Json = json!(text(
        &store,
        "SELECT count(*)::VARCHAR FROM patients WHERE scenario_id = ? AND gender = 'F'",
        &report.scenario_id
    ));
    assert_eq!(female, json!(Some(pairs.div_ceil(2).to_string())));
    assert_manifest_consistent(&store);
    Ok(())
}
