//! Samples: diverse ones are spread and stratified, recent ones are the newest, random ones are
//! distinct; all are scoped to the scenario and rendered compactly.

mod common;

use common::{db, scenario, sync_manifest};
use duckdb::Connection;
use healthsim_summary::{entity_samples, SampleStrategy, SAMPLE_TEXT_CHARS};
use serde_json::{json, Value as Json};

/// `n` patients p000.. in primary-key order, alternating gender, created one minute apart;
/// a second scenario holds the same ids, marked by `family_name = 'OTHER'`.
fn patients(n: i64) -> Connection {
    let conn = db();
    for (sid, family) in [("s1", "Own"), ("s2", "OTHER")] {
        scenario(&conn, sid, sid, None, &[]);
        conn.execute(
            "INSERT INTO patients (scenario_id, patient_id, family_name, gender, birth_date, created_at) \
             SELECT ?, 'p' || lpad(CAST(i AS VARCHAR), 3, '0'), ?, \
                    CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END, DATE '1950-01-01' + CAST(i AS INTEGER), \
                    TIMESTAMP '2025-01-01 00:00:00' + to_minutes(i) \
             FROM range(?) t(i)",
            duckdb::params![sid, family, n],
        )
        .expect("insert patients");
        sync_manifest(&conn, sid);
    }
    conn
}

fn ids(samples: &[Json], key: &str) -> Vec<String> {
    samples
        .iter()
        .map(|s| s[key].as_str().unwrap_or_default().to_string())
        .collect()
}

fn samples(
    conn: &Connection,
    entity_type: &str,
    count: usize,
    strategy: SampleStrategy,
) -> Vec<Json> {
    entity_samples(conn, "s1", entity_type, count, strategy).expect("samples")
}

fn check(conn: &Connection, count: usize, strategy: SampleStrategy, expected: &[&str]) {
    assert_eq!(
        ids(&samples(conn, "patients", count, strategy), "patient_id"),
        expected,
        "{count} {strategy} samples"
    );
}

#[test]
fn deterministic_strategies_pick_the_expected_rows() {
    let conn = patients(300);
    // Diverse: the categories take turns, female first (150 rows each, ties by value), each
    // giving its rows in the order of hash(patient_id).
    check(&conn, 3, SampleStrategy::Diverse, &["p020", "p145", "p182"]);
    check(&conn, 1, SampleStrategy::Diverse, &["p020"]);
    let lowest_hash: String = conn
        .query_row(
            "SELECT patient_id FROM patients WHERE scenario_id = 's1' AND gender = 'female'
             ORDER BY hash(patient_id), patient_id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("independent SQL");
    assert_eq!(lowest_hash, "p020");
    check(&conn, 3, SampleStrategy::Recent, &["p299", "p298", "p297"]);
    check(&conn, 0, SampleStrategy::Diverse, &[]);
    let few = patients(2);
    check(&few, 5, SampleStrategy::Diverse, &["p000", "p001"]);
    check(&few, 5, SampleStrategy::Recent, &["p001", "p000"]);
    // A count beyond any table size returns every row (no overflow in the spacing arithmetic).
    for strategy in SampleStrategy::ALL {
        assert_eq!(
            samples(&few, "patients", usize::MAX, strategy).len(),
            2,
            "{strategy}"
        );
    }
}

#[test]
fn diverse_samples_are_distinct_spread_and_repeatable() {
    let conn = patients(300);
    let first = ids(
        &samples(&conn, "patients", 3, SampleStrategy::Diverse),
        "patient_id",
    );
    let mut distinct = first.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{first:?}");
    assert_ne!(
        distinct,
        ["p000", "p001", "p002"],
        "diverse samples are the first ids"
    );
    let positions: Vec<i64> = first.iter().filter_map(|id| id[1..].parse().ok()).collect();
    let spread = positions.iter().max().unwrap_or(&0) - positions.iter().min().unwrap_or(&0);
    assert!(spread >= 100, "samples bunched together: {first:?}");
    assert_eq!(
        first,
        ids(
            &samples(&conn, "patients", 3, SampleStrategy::Diverse),
            "patient_id"
        )
    );
    for n in [2, 7, 10, 50] {
        let many = ids(
            &samples(&conn, "patients", n, SampleStrategy::Diverse),
            "patient_id",
        );
        let mut unique = many.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            (many.len(), unique.len()),
            (n, n),
            "{n} diverse samples: {many:?}"
        );
    }
}

#[test]
fn diverse_samples_cover_categories_even_when_skewed() {
    let conn = db();
    scenario(&conn, "s1", "s1", None, &[]);
    conn.execute_batch(
        "INSERT INTO encounters (scenario_id, encounter_id, patient_id, encounter_class)
         SELECT 's1', 'e' || lpad(CAST(i AS VARCHAR), 3, '0'), 'p1',
                CASE WHEN i < 200 THEN 'outpatient' WHEN i < 280 THEN 'emergency' ELSE 'inpatient' END
         FROM range(300) t(i)",
    )
    .expect("insert encounters");
    let got = samples(&conn, "encounters", 3, SampleStrategy::Diverse);
    let classes: Vec<&str> = got
        .iter()
        .filter_map(|s| s["encounter_class"].as_str())
        .collect();
    assert_eq!(classes, ["outpatient", "emergency", "inpatient"]);
    // More samples than categories: the small category gives all it has, the rest fill in.
    let got = samples(&conn, "encounters", 30, SampleStrategy::Diverse);
    assert_eq!(got.len(), 30);
}

#[test]
fn recent_breaks_ties_by_the_date_column() {
    let conn = db();
    scenario(&conn, "s1", "s1", None, &[]);
    conn.execute_batch(
        "INSERT INTO encounters (scenario_id, encounter_id, patient_id, start_datetime, created_at)
         SELECT 's1', 'e' || i, 'p1', TIMESTAMP '2024-01-01 00:00:00' + to_days(CAST((i * 7) % 10 AS INTEGER)),
                TIMESTAMP '2025-01-01 00:00:00'
         FROM range(10) t(i)",
    )
    .expect("insert encounters");
    let got = samples(&conn, "encounter", 3, SampleStrategy::Recent);
    let starts: Vec<&str> = got
        .iter()
        .filter_map(|s| s["start_datetime"].as_str())
        .collect();
    assert_eq!(
        starts,
        [
            "2024-01-10T00:00:00Z",
            "2024-01-09T00:00:00Z",
            "2024-01-08T00:00:00Z"
        ]
    );
}

#[test]
fn every_strategy_stays_in_the_scenario() {
    let conn = patients(50);
    for strategy in SampleStrategy::ALL {
        let got = samples(&conn, "patients", 20, strategy);
        assert_eq!(got.len(), 20, "{strategy}");
        let mut unique = ids(&got, "patient_id");
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 20, "{strategy} repeated a row");
        assert!(
            got.iter().all(|s| s["family_name"] == "Own"),
            "{strategy} leaked another scenario's rows"
        );
    }
}

#[test]
fn entity_types_resolve_through_aliases() {
    let conn = patients(5);
    for alias in ["patients", "patient", "pt", "Patients"] {
        assert_eq!(
            samples(&conn, alias, 2, SampleStrategy::Diverse).len(),
            2,
            "{alias}"
        );
    }
    assert!(samples(&conn, "claims", 3, SampleStrategy::Diverse).is_empty());
}

#[test]
fn samples_are_rendered_compactly() {
    let conn = db();
    scenario(&conn, "s1", "s1", None, &[]);
    conn.execute_batch(&format!(
        "INSERT INTO claims (scenario_id, claim_id, member_id, claim_type, total_billed, other_diagnoses,
                             principal_diagnosis, source_type, source_system, skill_used, generation_seed, extra)
         VALUES ('s1', 'c1', NULL, 'professional', 12.50, '[\"E11.9\", \"I10\"]', '{long}',
                 'generated', 'healthsim', 'membersim', 42,
                 '{{\"payer_note\": \"{long}\", \"claim_type\": \"shadowed\", \"priority\": 2, \"empty\": null}}')",
        long = "x".repeat(500)
    ))
    .expect("insert claim");
    let got = samples(&conn, "claims", 1, SampleStrategy::Diverse);
    let cut = format!("{}…", "x".repeat(SAMPLE_TEXT_CHARS));
    assert_eq!(
        got,
        vec![json!({
            "claim_id": "c1",
            "claim_type": "professional",
            "principal_diagnosis": cut,
            "other_diagnoses": ["E11.9", "I10"],
            "total_billed": 12.5,
            "payer_note": cut,
            "priority": 2,
        })]
    );
}
