//! The token budgets hold for any scenario shape and size, and the footprint stays constant.

mod common;

use common::{as_of, db, fill_generic, scenario, sync_manifest, Fill};
use duckdb::Connection;
use healthsim_schema::ENTITY_TYPES;
use healthsim_summary::{
    count_tokens, scenario_summary, ScenarioSummary, SummaryOptions, BUDGET_WITHOUT_SAMPLES,
    BUDGET_WITH_SAMPLES,
};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// What a generated scenario looks like.
#[derive(Debug, Clone)]
struct Shape {
    /// Rows per registry type (0 = absent), in registry order.
    rows: Vec<u64>,
    fill: Fill,
    tags: usize,
    long_metadata: bool,
}

fn build(shape: &Shape) -> Connection {
    let conn = db();
    let long = "a very long scenario text ".repeat(400);
    let (name, description) = if shape.long_metadata {
        (long.clone(), Some(long.clone()))
    } else {
        ("generated-20250115".to_string(), None)
    };
    let tags: Vec<String> = (0..shape.tags)
        .map(|i| {
            if shape.long_metadata {
                format!("{i}-{long}")
            } else {
                format!("tag-{i}")
            }
        })
        .collect();
    let tag_refs: Vec<&str> = tags.iter().map(String::as_str).collect();
    scenario(&conn, "s1", &name, description.as_deref(), &tag_refs);
    for (t, rows) in ENTITY_TYPES.iter().zip(&shape.rows) {
        if *rows > 0 {
            fill_generic(&conn, "s1", t.table, *rows, shape.fill);
        }
    }
    sync_manifest(&conn, "s1");
    conn
}

fn summarize(conn: &Connection, samples_per_type: usize) -> ScenarioSummary {
    let options = SummaryOptions {
        samples_per_type,
        as_of: as_of(),
        ..SummaryOptions::default()
    };
    scenario_summary(conn, "s1", &options).expect("summary")
}

/// Both budgets hold, and `token_estimate` is the real size of the compact JSON.
fn check_budgets(conn: &Connection) -> (usize, usize) {
    let mut sizes = Vec::new();
    for (samples, budget) in [
        (0, BUDGET_WITHOUT_SAMPLES),
        (3, BUDGET_WITH_SAMPLES),
        (50, BUDGET_WITH_SAMPLES),
    ] {
        let summary = summarize(conn, samples);
        let json = serde_json::to_string(&summary).expect("serialize");
        assert_eq!(
            summary.token_estimate,
            count_tokens(&json),
            "token_estimate is not measured"
        );
        assert!(
            summary.token_estimate <= budget,
            "{} tokens > {budget} with {samples} samples per type: {json}",
            summary.token_estimate
        );
        assert!(summary.entity_counts.values().all(|n| *n > 0));
        sizes.push(summary.token_estimate);
    }
    (sizes[0], sizes[1])
}

fn shape_strategy() -> impl Strategy<Value = Shape> {
    (
        prop::collection::vec((any::<bool>(), 1u64..40), ENTITY_TYPES.len()),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0usize..30,
        any::<bool>(),
    )
        .prop_map(
            |(types, all_types, long_strings, extra, tags, long_metadata)| Shape {
                rows: types
                    .into_iter()
                    .map(
                        |(present, rows)| match (present || all_types, long_strings) {
                            (false, _) => 0,
                            // 10 KB values in every text column: a few rows are enough to overflow.
                            (true, true) => rows % 4 + 1,
                            (true, false) => rows,
                        },
                    )
                    .collect(),
                fill: Fill {
                    long_strings,
                    extra,
                },
                tags,
                long_metadata,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 16,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/budget.txt"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn budgets_hold_for_any_shape(shape in shape_strategy()) {
        let conn = build(&shape);
        check_budgets(&conn);
    }
}

/// The worst case: every entity type, 10 KB values everywhere, long name, description and tags.
#[test]
fn budgets_hold_for_the_worst_case() {
    let shape = Shape {
        rows: vec![3; ENTITY_TYPES.len()],
        fill: Fill {
            long_strings: true,
            extra: true,
        },
        tags: 50,
        long_metadata: true,
    };
    let conn = build(&shape);
    let (without, with) = check_budgets(&conn);
    println!(
        "{} types, 10 KB values: {without} tokens without samples, {with} with samples",
        ENTITY_TYPES.len()
    );
    let summary = summarize(&conn, 3);
    assert_eq!(
        summary.entity_counts.len(),
        ENTITY_TYPES.len(),
        "every type keeps its count"
    );
    assert_eq!(summary.total_entities, 3 * ENTITY_TYPES.len() as u64);
}

/// The floor: every type's count is huge (the manifest says so), the metadata is long, and the
/// tables hold long values: what is left after all trimming still fits.
#[test]
fn budgets_hold_with_huge_counts() {
    let shape = Shape {
        rows: vec![1; ENTITY_TYPES.len()],
        fill: Fill {
            long_strings: true,
            extra: true,
        },
        tags: 1000,
        long_metadata: true,
    };
    let conn = build(&shape);
    conn.execute_batch("UPDATE scenario_entities SET entity_count = 987654321987")
        .expect("inflate counts");
    let (without, with) = check_budgets(&conn);
    println!(
        "{} types with 987,654,321,987 entities each: {without} / {with} tokens",
        ENTITY_TYPES.len()
    );
}

/// Rows per type of the footprint test; `HEALTHSIM_SUMMARY_LARGE_ROWS=1000000` for the full claim.
fn large_rows() -> i64 {
    std::env::var("HEALTHSIM_SUMMARY_LARGE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn clinical(n: i64) -> Connection {
    let conn = db();
    scenario(
        &conn,
        "s1",
        "footprint",
        Some("constant footprint"),
        &["scale"],
    );
    conn.execute_batch(&format!(
        "INSERT INTO patients (scenario_id, patient_id, birth_date, gender, state)
           SELECT 's1', 'p' || i, DATE '1930-01-01' + CAST(i % 30000 AS INTEGER),
                  ['female', 'male'][1 + i % 2], ['AZ', 'CA', 'NV', 'TX', 'NM', 'UT', 'CO'][1 + i % 7]
           FROM range({n}) t(i);
         INSERT INTO diagnoses (scenario_id, diagnosis_id, patient_id, code, description)
           SELECT 's1', 'd' || i, 'p' || ((i * 7) % {n}), 'E' || (i % 40), 'diagnosis ' || (i % 40)
           FROM range({n}) t(i);
         INSERT INTO claims (scenario_id, claim_id, claim_type, status, service_date, total_billed, total_paid)
           SELECT 's1', 'c' || i, ['professional', 'institutional'][1 + i % 2], ['paid', 'denied'][1 + i % 2],
                  DATE '2024-01-01' + CAST(i % 366 AS INTEGER), CAST(i % 1000 + 0.5 AS DECIMAL(18,2)),
                  CAST(i % 800 AS DECIMAL(18,2))
           FROM range({n}) t(i);"
    ))
    .expect("fill");
    sync_manifest(&conn, "s1");
    conn
}

#[test]
fn footprint_is_constant_whatever_the_size() {
    let small = clinical(1_000);
    let large = clinical(large_rows());
    for samples in [0, 3] {
        let (a, b) = (summarize(&small, samples), summarize(&large, samples));
        let (a, b) = (a.token_estimate as f64, b.token_estimate as f64);
        println!(
            "footprint with {samples} samples: 1,000 rows {a} tokens, {} rows {b} tokens",
            large_rows()
        );
        assert!(
            (b - a).abs() <= a * 0.1,
            "{a} tokens for 1,000 rows, {b} for {}",
            large_rows()
        );
    }
}

/// The summary never writes: it works on a database opened read-only.
#[test]
fn works_on_a_read_only_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("scenarios.duckdb");
    {
        let conn = Connection::open(&path).expect("open");
        healthsim_schema::migrate(&conn).expect("migrate");
        scenario(&conn, "s1", "read-only", None, &[]);
        common::run(&conn, "s1", common::products::PATIENT_SIM);
        sync_manifest(&conn, "s1");
    }
    let config = duckdb::Config::default()
        .access_mode(duckdb::AccessMode::ReadOnly)
        .expect("read-only config");
    let conn = Connection::open_with_flags(&path, config).expect("open read-only");
    let summary = summarize(&conn, 3);
    assert_eq!(summary.entity_counts.get("patients"), Some(&6));
    for strategy in healthsim_summary::SampleStrategy::ALL {
        let got = healthsim_summary::entity_samples(&conn, "s1", "patients", 2, strategy)
            .expect("samples");
        assert_eq!(got.len(), 2);
    }
}
