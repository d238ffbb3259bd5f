//! FHIR imports of Synthea-style data: an ExplanationOfBenefit lands on its Claim (each claim
//! counted once, in any input order, idempotently), Organizations and Locations never
//! overwrite each other, and no resource is dropped (types without a table are kept whole in
//! fhir_resources, which export/import and clone carry like any table).

mod common;
mod synthea;
mod transfer_common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::{assert_manifest_consistent, store, strings, TestResult};
use healthsim_persist::fhir::{FhirImportOptions, FhirImportReport};
use healthsim_persist::{
    CloneOptions, ExportFormat, ExportOptions, ImportOptions, ScenarioTarget, Store,
};
use healthsim_schema::ENTITY_TYPES;
use serde_json::{json, Value as Json};
use transfer_common::{contents, row_counts};

fn synthea_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/synthea")
}

fn options(scenario: ScenarioTarget, batch_size: usize) -> FhirImportOptions {
    FhirImportOptions {
        scenario,
        batch_size,
        ..FhirImportOptions::default()
    }
}

/// Cents of a JSON amount or a DECIMAL's text.
fn cents_of(text: &str) -> i64 {
    let value: f64 = text.parse().expect("an amount");
    (value * 100.0).round() as i64
}

fn cents(amount: &Json) -> i64 {
    cents_of(&amount["value"].to_string())
}

// ------------------------------------------------------------------------------------------
// The committed Synthea-layout fixture is the generator's output.

#[test]
fn the_committed_synthea_fixture_is_the_generators_output() -> TestResult {
    let dir = synthea_dir();
    let files = synthea::files();
    if std::env::var_os("HEALTHSIM_WRITE_SYNTHEA").is_some() {
        std::fs::create_dir_all(&dir)?;
        for (name, bundle) in &files {
            std::fs::write(dir.join(name), synthea::text(bundle))?;
        }
    }
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    let generated: BTreeSet<String> = files.iter().map(|(name, _)| name.clone()).collect();
    assert_eq!(
        on_disk, generated,
        "HEALTHSIM_WRITE_SYNTHEA=1 rewrites them"
    );
    for (name, bundle) in &files {
        assert_eq!(
            std::fs::read_to_string(dir.join(name))?,
            synthea::text(bundle),
            "{name} is stale: HEALTHSIM_WRITE_SYNTHEA=1 rewrites it"
        );
    }
    Ok(())
}

/// What the fixture's files hold, read from them (not from the generator's constants).
#[derive(Default)]
struct Holds {
    /// `{resourceType}/{id}` of every resource.
    resources: BTreeSet<String>,
    per_type: BTreeMap<String, u64>,
    /// Claim id → (Claim.total, the number of its items).
    claims: BTreeMap<String, (i64, usize)>,
    /// Claim id → (EOB payment.amount, line number → the line's Blue Button provider payment).
    paid: BTreeMap<String, (i64, BTreeMap<i64, i64>)>,
    encounters: u64,
}

fn holds() -> Holds {
    let mut holds = Holds::default();
    for (_, bundle) in synthea::files() {
        for entry in bundle["entry"].as_array().expect("entries") {
            let r = &entry["resource"];
            let kind = r["resourceType"].as_str().expect("type");
            let id = r["id"].as_str().expect("id");
            holds.resources.insert(format!("{kind}/{id}"));
            *holds.per_type.entry(kind.to_string()).or_default() += 1;
            let items = || r["item"].as_array().expect("items");
            match kind {
                "Claim" => {
                    holds
                        .claims
                        .insert(id.to_string(), (cents(&r["total"]), items().len()));
                }
                "ExplanationOfBenefit" => {
                    let claim = r["claim"]["reference"].as_str().expect("claim");
                    let lines = items()
                        .iter()
                        .map(|item| {
                            let paid = item["adjudication"]
                                .as_array()
                                .expect("adjudication")
                                .iter()
                                .find(|a| {
                                    a["category"]["coding"][0]["code"]
                                        .as_str()
                                        .is_some_and(|c| c.ends_with("line_prvdr_pmt_amt"))
                                })
                                .expect("a provider payment");
                            (
                                item["sequence"].as_i64().expect("sequence"),
                                cents(&paid["amount"]),
                            )
                        })
                        .collect();
                    holds.paid.insert(
                        claim.trim_start_matches("urn:uuid:").to_string(),
                        (cents(&r["payment"]["amount"]), lines),
                    );
                }
                "Encounter" => holds.encounters += 1,
                _ => {}
            }
        }
    }
    holds
}

/// `{resourceType}/{id}` of every resource the scenario keeps: the original in any table's
/// `extra.fhir`, a merged EOB in its claim's `extra.fhir_eob`, a raw one in fhir_resources.
fn kept(store: &Store, scenario_id: &str) -> BTreeSet<String> {
    let mut selects: Vec<String> = ENTITY_TYPES
        .iter()
        .map(|t| {
            format!(
                "SELECT (extra->'fhir'->>'resourceType') || '/' || (extra->'fhir'->>'id') \
                 FROM {} WHERE scenario_id = $1 AND (extra->'fhir') IS NOT NULL",
                t.table
            )
        })
        .collect();
    selects.push(
        "SELECT 'ExplanationOfBenefit/' || (extra->'fhir_eob'->>'id') FROM claims \
         WHERE scenario_id = $1 AND (extra->'fhir_eob') IS NOT NULL"
            .into(),
    );
    selects.push("SELECT resource_id FROM fhir_resources WHERE scenario_id = $1".into());
    strings(store, &selects.join(" UNION ALL "), scenario_id)
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .collect()
}

#[test]
fn a_synthea_export_imports_each_claim_once_with_its_eob_and_drops_nothing() -> TestResult {
    let holds = holds();
    let (_dir, store) = store();
    // A chunk of 7 resources splits bundles, Claims and their EOBs across writes.
    for batch_size in [5_000, 7] {
        let name = format!("synthea-{batch_size}");
        let report = store.import_fhir(
            &[synthea_dir()],
            &options(ScenarioTarget::new_named(&name), batch_size),
        )?;
        let what = &name;
        let id = &report.scenario_id;
        assert_eq!(report.resources_read, holds.per_type, "{what}");
        assert_eq!(
            report.resources_imported,
            holds.resources.len() as u64,
            "{what}: every resource is imported"
        );
        assert_eq!(report.skipped_total, 0, "{what}");

        // Each claim once: the EOBs are on their Claims.
        let eobs = holds.per_type["ExplanationOfBenefit"];
        assert_eq!(
            (report.eobs_merged, report.eobs_standalone),
            (eobs, 0),
            "{what}"
        );
        let claims = strings(
            &store,
            "SELECT claim_id, total_billed::VARCHAR, total_paid::VARCHAR, status, \
             (SELECT count(*) FROM claim_lines l WHERE l.scenario_id = c.scenario_id \
              AND l.claim_id = c.claim_id)::VARCHAR \
             FROM claims c WHERE scenario_id = ? ORDER BY claim_id",
            id,
        );
        let got: BTreeMap<String, (i64, usize, i64, String)> = claims
            .into_iter()
            .map(|row| {
                let text = |i: usize| row[i].clone().unwrap_or_default();
                (
                    text(0),
                    (
                        cents_of(&text(1)),
                        text(4).parse().expect("count"),
                        cents_of(&text(2)),
                        text(3),
                    ),
                )
            })
            .collect();
        let wanted: BTreeMap<String, (i64, usize, i64, String)> = holds
            .claims
            .iter()
            .map(|(claim, (total, items))| {
                let paid = holds.paid[claim].0;
                (
                    claim.clone(),
                    (*total, *items, paid, "complete".to_string()),
                )
            })
            .collect();
        assert_eq!(
            got, wanted,
            "{what}: claims, billed totals, lines, EOB payments"
        );
        let lines = strings(
            &store,
            "SELECT claim_id, line_number::VARCHAR, paid_amount::VARCHAR FROM claim_lines \
             WHERE scenario_id = ?",
            id,
        );
        let got: BTreeMap<(String, i64), i64> = lines
            .into_iter()
            .map(|row| {
                let text = |i: usize| row[i].clone().unwrap_or_default();
                (
                    (text(0), text(1).parse().expect("line")),
                    cents_of(&text(2)),
                )
            })
            .collect();
        let wanted: BTreeMap<(String, i64), i64> = holds
            .paid
            .iter()
            .flat_map(|(claim, (_, lines))| {
                lines.iter().map(|(n, paid)| ((claim.clone(), *n), *paid))
            })
            .collect();
        assert_eq!(got, wanted, "{what}: line payments from the EOBs");

        // Nothing dropped: every resource is in a table.
        assert_eq!(kept(&store, id), holds.resources, "{what}");
        // References: patients, encounters and facilities resolve (Synthea's Practitioner
        // references carry the NPI, not the Practitioner's id: see docs/fhir.md).
        let unresolved: BTreeSet<&str> = report
            .unresolved_references
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            unresolved,
            BTreeSet::from([
                "encounters.attending_provider_id",
                "medications.prescriber_provider_id"
            ]),
            "{what}"
        );
        assert_eq!(
            report.unresolved_references["encounters.attending_provider_id"], holds.encounters,
            "{what}"
        );
        let located = strings(
            &store,
            "SELECT count(*)::VARCHAR FROM encounters e JOIN facilities f \
             ON f.scenario_id = e.scenario_id AND f.facility_id = e.facility_id \
             WHERE e.scenario_id = ? AND (f.extra->'fhir'->>'resourceType') = 'Location'",
            id,
        );
        assert_eq!(
            located[0][0].as_deref(),
            Some(holds.encounters.to_string().as_str()),
            "{what}: every encounter's facility is its Location"
        );
    }
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn re_importing_the_synthea_export_ends_in_the_same_state() -> TestResult {
    let (_dir, store) = store();
    let first = store.import_fhir(
        &[synthea_dir()],
        &options(ScenarioTarget::new_named("twice"), 5_000),
    )?;
    let before = contents(&store, &first.scenario_id);
    let again = store.import_fhir(
        &[synthea_dir()],
        &options(ScenarioTarget::existing("twice"), 11),
    )?;
    assert_eq!(again.scenario_id, first.scenario_id);
    assert_eq!(
        (again.eobs_merged, again.eobs_standalone),
        (first.eobs_merged, 0)
    );
    assert!(again.rows_written.values().all(|c| c.inserted == 0));
    assert_eq!(contents(&store, &first.scenario_id), before);
    assert_manifest_consistent(&store);
    Ok(())
}

#[test]
fn immunizations_and_kept_resources_survive_export_import_and_clone() -> TestResult {
    let (dir, store) = store();
    let report = store.import_fhir(
        &[synthea_dir()],
        &options(ScenarioTarget::new_named("source"), 5_000),
    )?;
    let original = contents(&store, &report.scenario_id);
    let counts = row_counts(&store, &report.scenario_id);
    assert!(counts["immunizations"] > 0 && counts["fhir_resources"] > 0);

    for format in [ExportFormat::Json, ExportFormat::Csv, ExportFormat::Parquet] {
        let out = dir.path().join(format!("out-{}", format.name()));
        std::fs::create_dir(&out)?;
        let exported = store.export_scenario(
            &report.scenario_id,
            &ExportOptions {
                format,
                out: Some(out),
                ..ExportOptions::default()
            },
        )?;
        let imported = store.import_scenario(&exported.path, &ImportOptions::default())?;
        assert_eq!(
            contents(&store, &imported.scenario_id),
            original,
            "{format:?}"
        );
    }
    let cloned = store.clone_scenario(&report.scenario_id, &CloneOptions::default())?;
    assert_eq!(cloned.counts, counts);
    assert_eq!(contents(&store, &cloned.scenario_id), original);
    assert_manifest_consistent(&store);
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Claims and their EOBs, in every order.

const CLAIM: &str = r#"{"resourceType":"Claim","id":"c1","status":"active","patient":{"reference":"Patient/p1"},"insurance":[{"focal":true,"coverage":{"reference":"Coverage/m1"}}],"item":[{"sequence":1,"net":{"value":100}},{"sequence":2,"net":{"value":50}}],"total":{"value":150}}"#;
const EOB: &str = r#"{"resourceType":"ExplanationOfBenefit","id":"e1","status":"active","outcome":"complete","patient":{"reference":"Patient/p1"},"claim":{"reference":"Claim/c1"},"item":[{"sequence":1,"adjudication":[{"category":{"coding":[{"code":"eligible"}]},"amount":{"value":90}},{"category":{"coding":[{"code":"benefit"}]},"amount":{"value":72}}]},{"sequence":2,"adjudication":[{"category":{"coding":[{"code":"benefit"}]},"amount":{"value":40}}]}],"total":[{"category":{"coding":[{"code":"submitted"}]},"amount":{"value":150}},{"category":{"coding":[{"code":"eligible"}]},"amount":{"value":140}},{"category":{"coding":[{"code":"benefit"}]},"amount":{"value":112}},{"category":{"coding":[{"code":"copay"}]},"amount":{"value":28}}],"payment":{"date":"2024-02-01","amount":{"value":112}}}"#;
/// A second EOB of the same Claim (a readjudication), later in the input.
const EOB_AGAIN: &str = r#"{"resourceType":"ExplanationOfBenefit","id":"e2","status":"active","outcome":"partial","claim":{"reference":"Claim/c1"},"total":[{"category":{"coding":[{"code":"benefit"}]},"amount":{"value":100}}]}"#;

/// What the claims of an import look like: per claim, its columns and its lines' paid amounts.
fn claims_state(store: &Store, scenario_id: &str) -> Vec<String> {
    strings(
        store,
        "SELECT claim_id || ' billed=' || coalesce(total_billed::VARCHAR, '-') \
         || ' allowed=' || coalesce(total_allowed::VARCHAR, '-') \
         || ' paid=' || coalesce(total_paid::VARCHAR, '-') \
         || ' patient=' || coalesce(total_patient_resp::VARCHAR, '-') \
         || ' status=' || coalesce(status, '-') || ' member=' || coalesce(member_id, '-') \
         || ' paid_date=' || coalesce(paid_date::VARCHAR, '-') \
         || ' eob=' || coalesce(extra->'fhir_eob'->>'id', '-') \
         || ' lines=' || coalesce((SELECT string_agg(line_number::VARCHAR || ':' \
            || coalesce(allowed_amount::VARCHAR, '-') || '/' || coalesce(paid_amount::VARCHAR, '-'), ' ' \
            ORDER BY line_number) FROM claim_lines l WHERE l.scenario_id = c.scenario_id \
            AND l.claim_id = c.claim_id), '-') \
         FROM claims c WHERE scenario_id = ? ORDER BY claim_id",
        scenario_id,
    )
    .into_iter()
    .map(|row| row[0].clone().unwrap_or_default())
    .collect()
}

/// Imports `files` (each a list of NDJSON lines) in chunks of `batch_size`, twice into the
/// same scenario; both imports must end in `claims` with the EOB counts `eobs` (merged,
/// standalone).
fn check(case: &str, files: &[&[&str]], batch_size: usize, claims: &[&str], eobs: (u64, u64)) {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths: Vec<PathBuf> = files
        .iter()
        .enumerate()
        .map(|(i, lines)| {
            let path = dir.path().join(format!("{i}.ndjson"));
            std::fs::write(&path, lines.join("\n")).expect("write");
            path
        })
        .collect();
    let (_db, store) = store();
    let mut target = ScenarioTarget::new_named(case);
    for round in ["first", "again"] {
        let report: FhirImportReport = store
            .import_fhir(&paths, &options(target, batch_size))
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        target = ScenarioTarget::existing(&report.scenario_id);
        assert_eq!(
            claims_state(&store, &report.scenario_id),
            claims,
            "{case} ({round})"
        );
        assert_eq!(
            (report.eobs_merged, report.eobs_standalone),
            eobs,
            "{case} ({round})"
        );
    }
    assert_manifest_consistent(&store);
}

#[test]
fn an_eob_lands_on_its_claim_in_any_order() {
    let merged = "c1 billed=150.00 allowed=140.00 paid=112.00 patient=28.00 status=complete \
                  member=m1 paid_date=2024-02-01 eob=e1 lines=1:90.00/72.00 2:-/40.00";
    let claim_only = "c1 billed=150.00 allowed=- paid=- patient=- status=active member=m1 \
                      paid_date=- eob=- lines=1:-/- 2:-/-";
    let eob_only = "e1 billed=150.00 allowed=140.00 paid=112.00 patient=28.00 status=complete \
                    member=- paid_date=2024-02-01 eob=- lines=1:90.00/72.00 2:-/40.00";
    let later = "c1 billed=150.00 allowed=- paid=100.00 patient=- status=partial \
                 member=m1 paid_date=- eob=e2 lines=1:-/- 2:-/-";
    let one = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (merged, claim_only, eob_only, later) =
        (one(merged), one(claim_only), one(eob_only), one(later));
    check("claim only", &[&[CLAIM]], 100, &[&claim_only], (0, 0));
    check("eob only", &[&[EOB]], 100, &[&eob_only], (0, 1));
    check("claim then eob", &[&[CLAIM, EOB]], 100, &[&merged], (1, 0));
    check("eob then claim", &[&[EOB, CLAIM]], 100, &[&merged], (1, 0));
    check(
        "eob then claim, two files",
        &[&[EOB], &[CLAIM]],
        100,
        &[&merged],
        (1, 0),
    );
    check(
        "claim then eob, chunks of one",
        &[&[CLAIM], &[EOB]],
        1,
        &[&merged],
        (1, 0),
    );
    check(
        "eob then claim, chunks of one",
        &[&[EOB, CLAIM]],
        1,
        &[&merged],
        (1, 0),
    );
    check(
        "the same eob twice",
        &[&[EOB, CLAIM, EOB]],
        1,
        &[&merged],
        (1, 0),
    );
    // Of two EOBs of one Claim the later in the input is the one on the claim (both found it).
    check(
        "two eobs of one claim",
        &[&[CLAIM, EOB, EOB_AGAIN]],
        100,
        &[&later],
        (2, 0),
    );
}

// Regression: an EOB imported before its Claim stayed a claim of its own once the Claim came,
// so the claim counted twice.
#[test]
fn an_eob_imported_alone_merges_when_its_claim_arrives_later() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (eob, both) = (
        dir.path().join("eob.ndjson"),
        dir.path().join("both.ndjson"),
    );
    std::fs::write(&eob, EOB)?;
    std::fs::write(&both, [CLAIM, EOB].join("\n"))?;
    let (_db, store) = store();
    let first = store.import_fhir(&[&eob], &FhirImportOptions::default())?;
    assert_eq!((first.eobs_merged, first.eobs_standalone), (0, 1));
    let id = first.scenario_id;
    let second = store.import_fhir(&[&both], &options(ScenarioTarget::existing(&id), 100))?;
    assert_eq!((second.eobs_merged, second.eobs_standalone), (1, 0));
    let merged = "c1 billed=150.00 allowed=140.00 paid=112.00 patient=28.00 status=complete \
                  member=m1 paid_date=2024-02-01 eob=e1 lines=1:90.00/72.00 2:-/40.00";
    let merged = merged.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(claims_state(&store, &id), [merged]);
    assert_manifest_consistent(&store);
    Ok(())
}

// Regression: an import of EOBs only, merged into Claims the scenario already had, wrote no
// row and was refused as having nothing to import.
#[test]
fn eobs_alone_merge_into_the_claims_of_an_existing_scenario() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (claim, eob) = (
        dir.path().join("claim.ndjson"),
        dir.path().join("eob.ndjson"),
    );
    std::fs::write(&claim, CLAIM)?;
    std::fs::write(&eob, EOB)?;
    let (_db, store) = store();
    let first = store.import_fhir(&[&claim], &FhirImportOptions::default())?;
    let id = first.scenario_id;
    let second = store.import_fhir(&[&eob], &options(ScenarioTarget::existing(&id), 100))?;
    assert_eq!(
        (
            second.eobs_merged,
            second.eobs_standalone,
            second.resources_imported
        ),
        (1, 0, 1)
    );
    assert!(second.rows_written.is_empty(), "{second:?}");
    assert_eq!(claims_state(&store, &id).len(), 1);
    assert!(claims_state(&store, &id)[0].contains("paid=112.00"));
    Ok(())
}

#[test]
fn an_eob_whose_rows_persist_refuses_is_rejected_like_any_resource() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("eob.ndjson");
    // The mapping passes the amount on; persist's validation refuses it (over 16 digits).
    let bad = EOB.replace(r#"{"value":72}"#, r#"{"value":123456789012345678901}"#);
    assert_ne!(bad, EOB);
    std::fs::write(&path, [CLAIM, bad.as_str()].join("\n"))?;
    let (_db, store) = store();
    let error = store
        .import_fhir(&[&path], &FhirImportOptions::default())
        .expect_err("an impossible date");
    assert!(
        error.to_string().contains("ExplanationOfBenefit"),
        "{error}"
    );
    assert_eq!(common::table_counts(&store)["scenarios"], 0);
    let report = store.import_fhir(
        &[&path],
        &FhirImportOptions {
            skip_invalid: true,
            ..FhirImportOptions::default()
        },
    )?;
    assert_eq!(
        (
            report.skipped_total,
            report.eobs_merged,
            report.eobs_standalone
        ),
        (1, 0, 0)
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Organizations and Locations.

#[test]
fn an_organization_and_a_location_with_one_id_are_two_facilities() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("places.ndjson");
    let lines = [
        json!({"resourceType": "Organization", "id": "1", "name": "General Hospital"}),
        json!({"resourceType": "Location", "id": "1", "name": "Ward 1"}),
        json!({"resourceType": "Patient", "id": "p1"}),
        json!({"resourceType": "Encounter", "id": "at-ward", "subject": {"reference": "Patient/p1"},
               "location": [{"location": {"reference": "Location/1"}}],
               "serviceProvider": {"reference": "Organization/1"}}),
        json!({"resourceType": "Encounter", "id": "at-hospital", "subject": {"reference": "Patient/p1"},
               "serviceProvider": {"reference": "Organization/1"}}),
        json!({"resourceType": "Encounter", "id": "untyped", "subject": {"reference": "Patient/p1"},
               "location": [{"location": {"reference": "urn:uuid:1"}}]}),
        json!({"resourceType": "Claim", "id": "billed-by-hospital", "provider": {"reference": "Organization/1"}}),
        json!({"resourceType": "Claim", "id": "at-ward", "provider": {"reference": "Organization/1"},
               "facility": {"reference": "Location/1"}}),
        json!({"resourceType": "Immunization", "id": "shot", "patient": {"reference": "Patient/p1"},
               "vaccineCode": {"coding": [{"code": "140"}]}, "location": {"reference": "Location/1"}}),
    ];
    let text: Vec<String> = lines.iter().map(Json::to_string).collect();
    std::fs::write(&path, text.join("\n"))?;
    let (_db, store) = store();
    let report = store.import_fhir(&[&path], &FhirImportOptions::default())?;
    let id = &report.scenario_id;
    let facilities = strings(
        &store,
        "SELECT facility_id || ' ' || name FROM facilities WHERE scenario_id = ? ORDER BY 1",
        id,
    );
    assert_eq!(
        facilities,
        [
            [Some("1 General Hospital".to_string())],
            [Some("Location/1 Ward 1".to_string())]
        ]
    );
    let referencing = strings(
        &store,
        "SELECT 'encounter ' || encounter_id || ' ' || facility_id FROM encounters WHERE scenario_id = $1 \
         UNION ALL SELECT 'claim ' || claim_id || ' ' || facility_id FROM claims WHERE scenario_id = $1 \
         UNION ALL SELECT 'immunization ' || immunization_id || ' ' || facility_id FROM immunizations \
         WHERE scenario_id = $1 ORDER BY 1",
        id,
    );
    let referencing: Vec<&str> = referencing
        .iter()
        .filter_map(|row| row[0].as_deref())
        .collect();
    assert_eq!(
        referencing,
        [
            "claim at-ward Location/1",
            "claim billed-by-hospital 1",
            "encounter at-hospital 1",
            "encounter at-ward Location/1",
            "encounter untyped Location/1",
            "immunization shot Location/1",
        ]
    );
    assert_eq!(report.unresolved_references, BTreeMap::new());
    Ok(())
}
