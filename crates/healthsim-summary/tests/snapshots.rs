//! Snapshots of summaries of fixed fixtures: each product alone, all together, and an empty scenario.

mod common;

use common::{as_of, db, products, run, scenario, sync_manifest};
use healthsim_summary::{
    scenario_summary, ScenarioSummary, SummaryOptions, BUDGET_WITHOUT_SAMPLES, BUDGET_WITH_SAMPLES,
};

fn summarize(fixtures: &[&str], samples_per_type: usize) -> ScenarioSummary {
    summarize_on(fixtures, samples_per_type, u64::MAX)
}

/// [`summarize`], on two connections side by side from `side_by_side_from` rows.
fn summarize_on(
    fixtures: &[&str],
    samples_per_type: usize,
    side_by_side_from: u64,
) -> ScenarioSummary {
    let conn = db();
    scenario(
        &conn,
        "scn-0001",
        "diabetes-arizona-20250115",
        Some("Diabetic adults in Arizona across products"),
        &["arizona", "diabetes"],
    );
    for sql in fixtures {
        run(&conn, "scn-0001", sql);
    }
    // Another scenario's rows must never show up.
    scenario(&conn, "scn-other", "other", None, &[]);
    for (_, sql) in products::ALL {
        run(&conn, "scn-other", sql);
    }
    sync_manifest(&conn, "scn-0001");
    sync_manifest(&conn, "scn-other");
    let options = SummaryOptions {
        samples_per_type,
        as_of: as_of(),
        side_by_side_from,
        ..SummaryOptions::default()
    };
    let summary = scenario_summary(&conn, "scn-0001", &options).expect("summary");
    let budget = if samples_per_type == 0 {
        BUDGET_WITHOUT_SAMPLES
    } else {
        BUDGET_WITH_SAMPLES
    };
    assert!(
        summary.token_estimate <= budget,
        "{} > {budget}",
        summary.token_estimate
    );
    summary
}

fn check(name: &str, fixtures: &[&str], samples_per_type: usize) {
    let summary = summarize(fixtures, samples_per_type);
    insta::assert_json_snapshot!(name, summary, {
        ".scenario_id" => "[scenario_id]",
        ".created_at" => "[timestamp]",
        ".updated_at" => "[timestamp]",
    });
}

#[test]
fn each_product_alone() {
    for (product, sql) in products::ALL {
        check(product, &[sql], 3);
    }
}

#[test]
fn multi_product_scenario() {
    let all: Vec<&str> = products::ALL.iter().map(|(_, sql)| *sql).collect();
    check("multi_product_with_samples", &all, 3);
    check("multi_product_without_samples", &all, 0);
}

#[test]
fn empty_scenario() {
    check("empty", &[], 3);
}

#[test]
fn renders_text_for_the_cli() {
    let all: Vec<&str> = products::ALL.iter().map(|(_, sql)| *sql).collect();
    let summary = summarize(&all, 1);
    insta::assert_snapshot!("multi_product_text", summary.render_text());
}

#[test]
fn two_connections_side_by_side_give_the_same_summary() {
    let all: Vec<&str> = products::ALL.iter().map(|(_, sql)| *sql).collect();
    for samples_per_type in [0, 3] {
        assert_eq!(
            summarize_on(&all, samples_per_type, 0),
            summarize(&all, samples_per_type),
            "{samples_per_type} samples per type"
        );
    }
}
