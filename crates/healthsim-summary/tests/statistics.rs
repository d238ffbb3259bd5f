//! Statistics checked against independent SQL written here (different functions where possible:
//! `age()` instead of `date_sub`, `quantile_cont` instead of `median`, FILTER instead of GROUP BY).

mod common;

use common::{as_of, db, scenario, sync_manifest};
use duckdb::Connection;
use healthsim_schema::value::to_json;
use healthsim_summary::{scenario_summary, type_statistics, Error, SummaryOptions};
use serde_json::Value as Json;

const CLINICAL: &str = "
INSERT INTO patients (scenario_id, patient_id, birth_date, gender, state, county_fips)
  SELECT 'clin', 'p' || i, CASE WHEN i % 40 = 3 THEN NULL ELSE DATE '1930-01-01' + CAST((i * 97) % 30000 AS INTEGER) END,
         CASE WHEN i % 3 = 0 THEN 'female' WHEN i % 3 = 1 THEN 'male' ELSE NULL END,
         ['AZ', 'AZ', 'AZ', 'CA', 'NV', 'TX', 'NM'][1 + i % 7], '04013'
  FROM range(301) t(i);
INSERT INTO encounters (scenario_id, encounter_id, patient_id, encounter_class, start_datetime, end_datetime)
  SELECT 'clin', 'e' || i, 'p' || (i % 301), ['inpatient', 'outpatient', 'emergency', 'outpatient'][1 + i % 4],
         TIMESTAMP '2023-01-01 08:00:00' + to_hours(i * 13),
         TIMESTAMP '2023-01-01 08:00:00' + to_hours(i * 13 + (i % 9) * 20)
  FROM range(400) t(i);
INSERT INTO diagnoses (scenario_id, diagnosis_id, patient_id, code, description)
  SELECT 'clin', 'd' || i, 'p' || ((i * 7) % 250), ['E11.9', 'I10', 'E78.5', 'J44.9', 'N18.3', 'F32.9', 'M54.5'][1 + (i * i) % 7],
         'description of ' || ['E11.9', 'I10', 'E78.5', 'J44.9', 'N18.3', 'F32.9', 'M54.5'][1 + (i * i) % 7]
  FROM range(1000) t(i);
INSERT INTO claims (scenario_id, claim_id, claim_type, status, service_date, total_billed, total_allowed, total_paid, total_patient_resp)
  SELECT 'clin', 'c' || i, ['professional', 'institutional', 'professional'][1 + i % 3], ['paid', 'paid', 'denied', 'pending'][1 + i % 4],
         DATE '2024-01-01' + CAST(i % 366 AS INTEGER),
         CAST(100 + (i * 37) % 5000 + 0.25 AS DECIMAL(18,2)), CAST(80 + (i * 37) % 4000 + 0.1 AS DECIMAL(18,2)),
         CASE WHEN i % 4 = 2 THEN NULL ELSE CAST(70 + (i * 37) % 3500 AS DECIMAL(18,2)) END, CAST(10 + i % 50 AS DECIMAL(18,2))
  FROM range(500) t(i);
";

const RX_AND_TRIALS: &str = "
INSERT INTO pharmacy_claims (scenario_id, pharmacy_claim_id, drug_name, fill_date, ingredient_cost, dispensing_fee, patient_pay_amount, plan_paid_amount)
  SELECT 'rx', 'pc' || i, ['metformin', 'lisinopril', 'atorvastatin', 'metformin', 'insulin glargine', 'metformin'][1 + i % 6],
         DATE '2024-01-01' + CAST(i AS INTEGER), CAST(i % 90 + 0.5 AS DECIMAL(18,2)), CAST(1.75 AS DECIMAL(18,2)),
         CAST(i % 10 AS DECIMAL(18,2)), CAST(i % 80 + 2.25 AS DECIMAL(18,2))
  FROM range(200) t(i);
INSERT INTO subjects (scenario_id, subject_id, study_id, arm_id, birth_date, gender)
  SELECT 'rx', 's' || i, 'STU', CASE WHEN i % 5 = 4 THEN NULL ELSE ['ARM-A', 'ARM-B'][1 + i % 2] END,
         DATE '1950-06-15' + CAST(i * 211 AS INTEGER), 'female'
  FROM range(60) t(i);
INSERT INTO adverse_events (scenario_id, ae_id, subject_id, aeterm, aedecod, aesev)
  SELECT 'rx', 'ae' || i, 's' || (i % 60), 'verbatim ' || (i % 4), CASE WHEN i % 4 = 0 THEN NULL ELSE ['Nausea', 'Headache', 'Nausea'][1 + i % 3] END,
         ['MILD', 'MILD', 'MODERATE', 'SEVERE'][1 + i % 4]
  FROM range(100) t(i);
";

struct Fixture {
    conn: Connection,
    /// `type_statistics` (top 5) of every type present: the numbers the summary shows.
    statistics: Json,
    /// The summary's compact statistics.
    summary: Json,
}

fn fixture(scenario_id: &str, sql: &str) -> Fixture {
    let conn = db();
    scenario(&conn, scenario_id, scenario_id, None, &[]);
    conn.execute_batch(sql).expect("fixture SQL");
    sync_manifest(&conn, scenario_id);
    let options = SummaryOptions {
        samples_per_type: 0,
        as_of: as_of(),
        ..SummaryOptions::default()
    };
    let summary = scenario_summary(&conn, scenario_id, &options).expect("summary");
    let statistics = summary
        .entity_counts
        .keys()
        .map(|table| {
            let t = healthsim_schema::by_table(table).expect("registry table");
            let stats = type_statistics(&conn, scenario_id, t, as_of(), 5).expect("statistics");
            (table.clone(), Json::Object(stats))
        })
        .collect();
    let summary = serde_json::to_value(&summary.statistics).expect("statistics as JSON");
    Fixture {
        conn,
        statistics,
        summary,
    }
}

/// The statistic at `pointer` equals what `independent_sql` (one value) computes.
fn check(f: &Fixture, pointer: &str, independent_sql: &str) {
    let expected: duckdb::types::Value = f
        .conn
        .query_row(independent_sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("independent SQL for {pointer} failed: {e}"));
    let expected = to_json(&expected);
    let actual = f
        .statistics
        .pointer(pointer)
        .unwrap_or_else(|| panic!("no statistic at {pointer} in {}", f.statistics));
    match (actual.as_f64(), expected.as_f64()) {
        (Some(a), Some(e)) => assert!((a - e).abs() < 1e-9, "{pointer}: summary {a}, SQL {e}"),
        _ => assert_eq!(actual, &expected, "{pointer}"),
    }
}

const AGE: &str = "extract(year FROM age(TIMESTAMP '2025-01-01', CAST(birth_date AS TIMESTAMP)))";

/// The `age` statistic of `table` (min, max, median) equals the ages of the rows `rows` selects
/// (`FROM ... WHERE ...`).
fn check_ages(f: &Fixture, table: &str, rows: &str) {
    check(
        f,
        &format!("/{table}/age/min"),
        &format!("SELECT min({AGE}) {rows}"),
    );
    check(
        f,
        &format!("/{table}/age/max"),
        &format!("SELECT max({AGE}) {rows}"),
    );
    check(
        f,
        &format!("/{table}/age/median"),
        &format!("SELECT round(quantile_cont({AGE}, 0.5), 1) {rows}"),
    );
}

#[test]
fn person_statistics_match_independent_sql() {
    let f = fixture("clin", CLINICAL);
    let patients = "FROM patients WHERE scenario_id = 'clin'";
    check_ages(&f, "patients", patients);
    for gender in ["female", "male"] {
        check(
            &f,
            &format!("/patients/gender/{gender}"),
            &format!("SELECT round(count(*) FILTER (WHERE gender = '{gender}') / count(*), 3) {patients}"),
        );
    }
    check(
        &f,
        "/patients/gender/(missing)",
        &format!("SELECT round(count(*) FILTER (WHERE gender IS NULL) / count(*), 3) {patients}"),
    );
    check(
        &f,
        "/patients/top_states/AZ",
        &format!("SELECT round(count(*) FILTER (WHERE state = 'AZ') / count(*), 3) {patients}"),
    );
}

#[test]
fn clinical_statistics_match_independent_sql() {
    let f = fixture("clin", CLINICAL);
    let encounters = "FROM encounters WHERE scenario_id = 'clin'";
    check(
        &f,
        "/encounters/inpatient_avg_los_days",
        &format!(
            "SELECT round(avg(CAST(end_datetime AS DATE) - CAST(start_datetime AS DATE)), 1) \
             {encounters} AND encounter_class = 'inpatient'"
        ),
    );
    check(
        &f,
        "/encounters/encounter_class/outpatient",
        &format!("SELECT round(count(*) FILTER (WHERE encounter_class = 'outpatient') / count(*), 3) {encounters}"),
    );
    check(
        &f,
        "/encounters/start_datetime_range/0",
        &format!("SELECT strftime(min(start_datetime), '%Y-%m-%d') {encounters}"),
    );
    check(
        &f,
        "/encounters/start_datetime_range/1",
        &format!("SELECT strftime(max(start_datetime), '%Y-%m-%d') {encounters}"),
    );
    let per_code = "WITH per_code AS (SELECT code, count(DISTINCT patient_id) AS n \
                    FROM diagnoses WHERE scenario_id = 'clin' GROUP BY code), \
                    everyone AS (SELECT count(DISTINCT patient_id) AS n FROM diagnoses WHERE scenario_id = 'clin')";
    check(
        &f,
        "/diagnoses/top_codes/0/code",
        &format!("{per_code} SELECT code FROM per_code ORDER BY n DESC, code LIMIT 1"),
    );
    check(
        &f,
        "/diagnoses/top_codes/0/patient_share",
        &format!("{per_code} SELECT round(max(n) / (SELECT n FROM everyone), 3) FROM per_code"),
    );
    check(
        &f,
        "/diagnoses/top_codes/0/description",
        &format!("{per_code} SELECT 'description of ' || code FROM per_code ORDER BY n DESC, code LIMIT 1"),
    );
    check(
        &f,
        "/diagnoses/patients",
        "SELECT count(DISTINCT patient_id) FROM diagnoses WHERE scenario_id = 'clin'",
    );
}

#[test]
fn claim_statistics_match_independent_sql() {
    let f = fixture("clin", CLINICAL);
    let claims = "FROM claims WHERE scenario_id = 'clin'";
    for column in [
        "total_billed",
        "total_allowed",
        "total_paid",
        "total_patient_resp",
    ] {
        check(
            &f,
            &format!("/claims/totals/{column}"),
            &format!("SELECT round(CAST(sum({column}) AS DOUBLE), 2) {claims}"),
        );
        check(
            &f,
            &format!("/claims/avg_per_claim/{column}"),
            &format!("SELECT round(CAST(sum({column}) AS DOUBLE) / count({column}), 2) {claims}"),
        );
    }
    check(
        &f,
        "/claims/claim_type/professional",
        &format!("SELECT round(count(*) FILTER (WHERE claim_type = 'professional') / count(*), 3) {claims}"),
    );
    check(
        &f,
        "/claims/status/denied",
        &format!("SELECT round(count(*) FILTER (WHERE status = 'denied') / count(*), 3) {claims}"),
    );
}

#[test]
fn pharmacy_and_trial_statistics_match_independent_sql() {
    let f = fixture("rx", RX_AND_TRIALS);
    let fills = "FROM pharmacy_claims WHERE scenario_id = 'rx'";
    check(
        &f,
        "/pharmacy_claims/top_drugs/metformin",
        &format!(
            "SELECT round(count(*) FILTER (WHERE drug_name = 'metformin') / count(*), 3) {fills}"
        ),
    );
    for column in [
        "ingredient_cost",
        "dispensing_fee",
        "patient_pay_amount",
        "plan_paid_amount",
    ] {
        check(
            &f,
            &format!("/pharmacy_claims/totals/{column}"),
            &format!("SELECT round(CAST(sum({column}) AS DOUBLE), 2) {fills}"),
        );
    }
    let subjects = "FROM subjects WHERE scenario_id = 'rx'";
    for arm in ["ARM-A", "ARM-B"] {
        check(
            &f,
            &format!("/subjects/arms/{arm}"),
            &format!("SELECT count(*) FILTER (WHERE arm_id = '{arm}') {subjects}"),
        );
    }
    check(
        &f,
        "/subjects/arms/(missing)",
        &format!("SELECT count(*) - count(arm_id) {subjects}"),
    );
    check(
        &f,
        "/subjects/age/median",
        &format!("SELECT round(quantile_cont({AGE}, 0.5), 1) {subjects}"),
    );
    let events = "FROM adverse_events WHERE scenario_id = 'rx'";
    check(
        &f,
        "/adverse_events/top_terms/Nausea",
        &format!("SELECT round(count(*) FILTER (WHERE aedecod = 'Nausea') / count(*), 3) {events}"),
    );
    check(
        &f,
        "/adverse_events/top_terms/verbatim 0",
        &format!("SELECT round(count(*) FILTER (WHERE aedecod IS NULL AND aeterm = 'verbatim 0') / count(*), 3) {events}"),
    );
    check(
        &f,
        "/adverse_events/aesev/MILD",
        &format!("SELECT round(count(*) FILTER (WHERE aesev = 'MILD') / count(*), 3) {events}"),
    );
}

/// Ages are computed per row for small types and per birth date for large ones (the median
/// read off the cumulative counts): for odd and even numbers of people, with repeated birth
/// dates and NULLs, min / median / max of both equal `quantile_cont` over every person's age.
/// `type_statistics` computes per birth date at any size; the summary per row below 100,000.
#[test]
fn age_median_min_and_max_match_the_engine_for_odd_even_and_repeated_birth_dates() {
    // (people, distinct birth dates among them, every how many a NULL birth date)
    for (people, spread, nulls_every) in [
        (1, 1, 0),
        (2, 2, 0),
        (4, 4, 3),
        (7, 3, 0),
        (10, 10, 4),
        (101, 13, 9),
        (100_001, 37, 11),
        (100_002, 41, 0),
    ] {
        let id = format!("ages-{people}-{spread}");
        let sql = format!(
            "INSERT INTO patients (scenario_id, patient_id, birth_date)
               SELECT '{id}', 'p' || i,
                      CASE WHEN {nulls_every} > 0 AND i % {nulls_every} = 1 THEN NULL
                           ELSE DATE '1940-03-01' + CAST((i % {spread}) * 1900 AS INTEGER) END
               FROM range({people}) t(i);"
        );
        let f = fixture(&id, &sql);
        check_ages(
            &f,
            "patients",
            &format!("FROM patients WHERE scenario_id = '{id}'"),
        );
        let age = &f.statistics["patients"]["age"];
        assert_eq!(
            f.summary["patients"]["age"],
            format!("{}–{}, median {}", age["min"], age["max"], age["median"]),
            "{people} people"
        );
    }
}

/// Every number of the statistics is compact: at most 3 decimals.
#[test]
fn statistics_numbers_are_rounded() {
    fn walk(value: &Json, path: &str) {
        match value {
            Json::Number(n) => {
                let x = n.as_f64().unwrap_or(0.0);
                assert!(
                    ((x * 1000.0).round() - x * 1000.0).abs() < 1e-6,
                    "{path}: {x}"
                );
            }
            Json::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, v)| walk(v, &format!("{path}/{i}"))),
            Json::Object(map) => map
                .iter()
                .for_each(|(k, v)| walk(v, &format!("{path}/{k}"))),
            _ => {}
        }
    }
    for (id, sql) in [("clin", CLINICAL), ("rx", RX_AND_TRIALS)] {
        walk(&fixture(id, sql).statistics, "");
    }
}

/// Ranked lists are best first and hold at most 5 entries.
#[test]
fn top_lists_are_ranked_and_short() {
    let f = fixture("clin", CLINICAL);
    for pointer in [
        "/patients/top_states",
        "/encounters/encounter_class",
        "/claims/claim_type",
    ] {
        let list = f
            .statistics
            .pointer(pointer)
            .and_then(Json::as_object)
            .expect(pointer);
        assert!(!list.is_empty() && list.len() <= 5, "{pointer}: {list:?}");
        let shares: Vec<f64> = list.values().filter_map(Json::as_f64).collect();
        assert!(
            shares.windows(2).all(|w| w[0] >= w[1]),
            "{pointer} not ranked: {shares:?}"
        );
    }
    let codes = f
        .statistics
        .pointer("/diagnoses/top_codes")
        .and_then(Json::as_array)
        .expect("top codes");
    assert!(!codes.is_empty() && codes.len() <= 5);
}

/// A share as the summary writes it: whole percents.
fn percent(share: &Json) -> String {
    format!("{}%", (share.as_f64().expect("a share") * 100.0).round())
}

/// The summary shows `type_statistics` compactly: each ranked entry as `label N%` (shares) in
/// the same order, ages as `min–max, median m`, top codes as `code description N%`; a longer
/// top-N only extends the ranked lists, whose first entries stay the same.
#[test]
fn the_summary_shows_the_statistics_compactly() {
    let f = fixture("clin", CLINICAL);
    let shown = |pointer: &str| {
        f.summary
            .pointer(pointer)
            .and_then(Json::as_str)
            .unwrap_or_else(|| panic!("no compact statistic at {pointer}: {}", f.summary))
            .to_string()
    };
    for pointer in [
        "/patients/gender",
        "/patients/top_states",
        "/encounters/encounter_class",
        "/claims/claim_type",
        "/claims/status",
    ] {
        let expected: Vec<String> = f
            .statistics
            .pointer(pointer)
            .and_then(Json::as_object)
            .expect(pointer)
            .iter()
            .map(|(label, share)| format!("{label} {}", percent(share)))
            .collect();
        assert_eq!(shown(pointer), expected.join("; "), "{pointer}");
    }
    let age = &f.statistics["patients"]["age"];
    assert_eq!(
        shown("/patients/age"),
        format!("{}–{}, median {}", age["min"], age["max"], age["median"])
    );
    let codes: Vec<String> = f.statistics["diagnoses"]["top_codes"]
        .as_array()
        .expect("top codes")
        .iter()
        .map(|c| {
            let text = |k: &str| c[k].as_str().expect(k).to_string();
            format!(
                "{} {} {}",
                text("code"),
                text("description"),
                percent(&c["patient_share"])
            )
        })
        .collect();
    assert_eq!(shown("/diagnoses/top_codes"), codes.join("; "));
    let totals = &f.statistics["claims"]["totals"];
    let billed = totals["total_billed"].as_f64().expect("billed");
    let paid = totals["total_paid"].as_f64().expect("paid");
    assert_eq!(
        f.statistics["claims"]["paid_to_billed"].as_f64(),
        Some((paid / billed * 1000.0).round() / 1000.0)
    );
    assert_eq!(
        shown("/claims/paid_to_billed"),
        format!("{}%", (paid / billed * 100.0).round())
    );
    assert!(
        shown("/claims/totals").starts_with(&format!("billed {}; ", billed.round())),
        "{}",
        shown("/claims/totals")
    );

    // Six more states, one patient each: 11 states, more than a summary lists.
    f.conn
        .execute_batch(
            "INSERT INTO patients (scenario_id, patient_id, state) \
             SELECT 'clin', 'extra' || i, 'S' || i FROM range(6) t(i)",
        )
        .expect("extra patients");
    let patients = healthsim_schema::by_table("patients").expect("registry table");
    let top = |n| {
        let stats = type_statistics(&f.conn, "clin", patients, as_of(), n).expect("statistics");
        stats["top_states"].as_object().expect("top states").clone()
    };
    let (five, ten) = (top(5), top(10));
    assert_eq!((five.len(), ten.len()), (5, 10));
    assert!(
        five.iter().zip(&ten).all(|(a, b)| a == b),
        "{five:?} vs {ten:?}"
    );

    let error = type_statistics(&f.conn, "nope", patients, as_of(), 5).expect_err("unknown");
    assert!(matches!(error, Error::ScenarioNotFound { .. }), "{error:?}");
}
