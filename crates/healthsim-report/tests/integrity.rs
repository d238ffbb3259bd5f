//! The data-quality section finds what a test breaks on purpose: references whose target was
//! deleted behind the store's back, and natural keys made to repeat.

mod common;

use common::{figures, fixture};

#[test]
fn finds_deleted_patients_and_repeated_mrns() {
    let f = fixture(40);
    let before = f.render();
    assert_eq!(before.headline.dangling_references, 0);
    assert!(before.headline.broken_foreign_keys.is_empty());

    // Regression guard for the integrity check: delete three patients with plain SQL (their
    // encounters, claims, ... stay), and give a fourth patient the MRN of a fifth.
    let referencing = "(SELECT count(*) FROM encounters WHERE scenario_id = ? AND patient_id IN ('pat-000001', 'pat-000002', 'pat-000003'))";
    let encounters_of_deleted: u64 = f
        .sql(&format!("SELECT {referencing}"))
        .parse()
        .expect("a count");
    assert!(encounters_of_deleted >= 3);
    let all_references: u64 = f
        .sql(
            "SELECT (SELECT count(*) FROM encounters WHERE scenario_id = ? AND patient_id IN ('pat-000001', 'pat-000002', 'pat-000003'))
                  + (SELECT count(*) FROM diagnoses WHERE scenario_id = ? AND patient_id IN ('pat-000001', 'pat-000002', 'pat-000003'))
                  + (SELECT count(*) FROM lab_results WHERE scenario_id = ? AND patient_id IN ('pat-000001', 'pat-000002', 'pat-000003'))
                  + (SELECT count(*) FROM medications WHERE scenario_id = ? AND patient_id IN ('pat-000001', 'pat-000002', 'pat-000003'))
                  + (SELECT count(*) FROM members WHERE scenario_id = ? AND patient_id IN ('pat-000001', 'pat-000002', 'pat-000003'))
                  + (SELECT count(*) FROM claims WHERE scenario_id = ? AND patient_id IN ('pat-000001', 'pat-000002', 'pat-000003'))
                  + (SELECT count(*) FROM prescriptions WHERE scenario_id = ? AND patient_id IN ('pat-000001', 'pat-000002', 'pat-000003'))
                  + (SELECT count(*) FROM subjects WHERE scenario_id = ? AND patient_id IN ('pat-000001', 'pat-000002', 'pat-000003'))",
        )
        .parse()
        .expect("a count");
    f.execute("DELETE FROM patients WHERE scenario_id = ? AND patient_id IN ('pat-000001', 'pat-000002', 'pat-000003')");
    f.execute("UPDATE patients SET mrn = 'MRN00000010' WHERE scenario_id = ? AND patient_id = 'pat-000011'");

    let after = f.render();
    let figures = figures(&after.html);
    let figure = |key: &str| -> String {
        figures
            .get(key)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_else(|| panic!("no figure {key}"))
    };
    let key = "quality.integrity.encounters.patient_id";
    assert_eq!(
        figure(&format!("{key}.dangling")),
        encounters_of_deleted.to_string()
    );
    assert_eq!(figure(&format!("{key}.missing")), "3");
    let examples = figure(&format!("{key}.examples"));
    assert!(
        examples.starts_with("enc-000001-01 → pat-000001"),
        "examples by id: {examples}"
    );
    assert_eq!(
        examples.split(", ").count(),
        3,
        "three examples: {examples}"
    );
    assert_eq!(after.headline.dangling_references, all_references);
    assert_eq!(
        figure("quality.dangling_references"),
        all_references.to_string()
    );
    assert!(
        after.headline.broken_foreign_keys.len() <= 3
            && after.headline.broken_foreign_keys[0].contains("→ patients: "),
        "{:?}",
        after.headline.broken_foreign_keys
    );
    assert!(after.headline.broken_foreign_keys.iter().any(|k| k
        == &format!("encounters.patient_id → patients: {encounters_of_deleted}")
        || k.starts_with("lab_results.patient_id")));
    assert!(after.html.contains("class=\"status-problem\""));
    assert!(after.html.contains("<tr class=\"problem\">"));

    // References that were intact stay intact.
    assert_eq!(
        figure("quality.integrity.encounters.facility_id.dangling"),
        "0"
    );
    assert_eq!(figure("quality.integrity.claims.member_id.dangling"), "0");

    // The repeated MRN, with its value as the example.
    assert_eq!(figure("quality.duplicates.patients.mrn.values"), "1");
    assert_eq!(figure("quality.duplicates.patients.mrn.rows"), "2");
    assert_eq!(
        figure("quality.duplicates.patients.mrn.examples"),
        "MRN00000010"
    );
    assert_eq!(after.headline.duplicate_key_values, 1);
}

#[test]
fn a_missing_target_type_makes_every_reference_dangle() {
    let f = fixture(10);
    let providers_referenced: u64 = f
        .sql("SELECT count(primary_care_provider_id) FROM patients WHERE scenario_id = ?")
        .parse()
        .expect("a count");
    f.execute("DELETE FROM providers WHERE scenario_id = ?");
    let report = f.render();
    let figures = figures(&report.html);
    assert_eq!(
        figures["quality.integrity.patients.primary_care_provider_id.dangling"],
        [providers_referenced.to_string()]
    );
}
