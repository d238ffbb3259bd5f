//! The report of a realistic multi-product scenario: its numbers equal independent SQL written
//! here (other functions where possible: `age()` instead of `date_sub`, `quantile_cont`
//! instead of `median`, FILTER instead of GROUP BY), equal the agent's summary where the two
//! overlap, and the page is self-contained and escaped.

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use common::{figures, fixture, Fixture, PERSONS};
use healthsim_report::{Headline, Report, Section};
use serde_json::Value as Json;

struct Rendered {
    fixture: Fixture,
    report: Report,
    figures: BTreeMap<String, Vec<String>>,
}

/// One fixture and its report for every test of this file (they only read).
fn rendered() -> &'static Rendered {
    static RENDERED: OnceLock<Rendered> = OnceLock::new();
    RENDERED.get_or_init(|| {
        let fixture = fixture(PERSONS);
        let report = fixture.render();
        let figures = figures(&report.html);
        Rendered {
            fixture,
            report,
            figures,
        }
    })
}

impl Rendered {
    fn figure(&self, key: &str) -> &str {
        self.figures
            .get(key)
            .and_then(|values| values.first())
            .unwrap_or_else(|| panic!("the report has no figure {key}"))
    }

    /// What follows `prefix.` in figure keys (labels may contain dots: `E11.9`).
    fn keys(&self, prefix: &str) -> Vec<String> {
        self.figures
            .keys()
            .filter_map(|k| k.strip_prefix(&format!("{prefix}.")))
            .map(str::to_string)
            .collect()
    }

    /// The figure equals what `sql` computes, within `tolerance` for numbers.
    fn check(&self, key: &str, sql: &str, tolerance: f64) {
        let actual = self.figure(key);
        let expected = self.fixture.sql(sql);
        match (actual.parse::<f64>(), expected.parse::<f64>()) {
            (Ok(a), Ok(e)) => assert!(
                (a - e).abs() <= tolerance,
                "{key}: report {a}, independent SQL {e}\n{sql}"
            ),
            _ => assert_eq!(actual, expected, "{key}\n{sql}"),
        }
    }
}

const EXACT: f64 = 1e-9;
/// Money is shown with cents.
const CENTS: f64 = 0.0051;
const AGE: &str = "extract(year FROM age(TIMESTAMP '2025-06-30', CAST(birth_date AS TIMESTAMP)))";

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[test]
fn overview_counts_and_dates_match_sql() {
    let r = rendered();
    let mut total = 0.0;
    for table in common::cohort::TABLES {
        let key = format!("overview.count.{table}");
        r.check(
            &key,
            &format!("SELECT count(*) FROM {table} WHERE scenario_id = ?"),
            EXACT,
        );
        total += r.figure(&key).parse::<f64>().expect("a count");
    }
    assert_eq!(r.figure("overview.total").parse::<f64>().ok(), Some(total));
    assert_eq!(r.report.headline.total_entities as f64, total);
    r.check(
        "overview.first.encounters",
        "SELECT strftime(min(start_datetime), '%Y-%m-%d') FROM encounters WHERE scenario_id = ?",
        EXACT,
    );
    r.check(
        "overview.last.claims",
        "SELECT strftime(max(service_date), '%Y-%m-%d') FROM claims WHERE scenario_id = ?",
        EXACT,
    );
    // The span runs from the earliest first date to the latest last date of the types.
    let span = r.report.headline.date_span.clone().expect("a date span");
    let firsts: Vec<String> = r
        .keys("overview.first")
        .iter()
        .map(|t| r.figure(&format!("overview.first.{t}")).to_string())
        .collect();
    let lasts: Vec<String> = r
        .keys("overview.last")
        .iter()
        .map(|t| r.figure(&format!("overview.last.{t}")).to_string())
        .collect();
    assert!(firsts.len() >= 10, "{firsts:?}");
    assert_eq!(Some(&span[0]), firsts.iter().min());
    assert_eq!(Some(&span[1]), lasts.iter().max());
    r.check(
        "overview.first.medications",
        "SELECT strftime(min(start_date), '%Y-%m-%d') FROM medications WHERE scenario_id = ?",
        EXACT,
    );
}

#[test]
fn people_match_sql() {
    let r = rendered();
    let patients = "FROM patients WHERE scenario_id = ?";
    r.check(
        "people.age.min",
        &format!("SELECT min({AGE}) {patients}"),
        EXACT,
    );
    r.check(
        "people.age.max",
        &format!("SELECT max({AGE}) {patients}"),
        EXACT,
    );
    r.check(
        "people.age.median",
        &format!("SELECT round(quantile_cont({AGE}, 0.5), 1) {patients}"),
        EXACT,
    );
    for gender in ["F", "M"] {
        r.check(
            &format!("people.gender.{gender}"),
            &format!("SELECT round(count(*) FILTER (WHERE gender = '{gender}') / count(*), 3) {patients}"),
            EXACT,
        );
    }
    for (band, low, high) in [
        ("0–4", 0, 4),
        ("40–44", 40, 44),
        ("60–64", 60, 64),
        ("85+", 85, 200),
    ] {
        for (side, gender) in [("female", "F"), ("male", "M")] {
            r.check(
                &format!("people.pyramid.{band}.{side}"),
                &format!("SELECT count(*) FILTER (WHERE gender = '{gender}' AND {AGE} BETWEEN {low} AND {high}) {patients}"),
                EXACT,
            );
        }
    }
    for state in r.keys("people.top_states") {
        r.check(
            &format!("people.top_states.{state}"),
            &format!(
                "SELECT round(count(*) FILTER (WHERE state = {}) / count(*), 3) {patients}",
                quoted(&state)
            ),
            EXACT,
        );
    }
    r.check(
        "people.top_counties.06037",
        &format!("SELECT count(*) FILTER (WHERE county_fips = '06037') {patients}"),
        EXACT,
    );
}

#[test]
fn clinical_figures_match_sql() {
    let r = rendered();
    let encounters = "FROM encounters WHERE scenario_id = ?";
    r.check(
        "clinical.encounters.count",
        &format!("SELECT count(*) {encounters}"),
        EXACT,
    );
    r.check(
        "clinical.encounter_class.outpatient",
        &format!("SELECT round(count(*) FILTER (WHERE encounter_class = 'outpatient') / count(*), 3) {encounters}"),
        EXACT,
    );
    r.check(
        "clinical.encounters.inpatient_avg_los_days",
        &format!(
            "SELECT round(avg(CAST(end_datetime AS DATE) - CAST(start_datetime AS DATE)), 1) \
             {encounters} AND encounter_class = 'inpatient'"
        ),
        EXACT,
    );
    let months = r.keys("clinical.encounters_per_month");
    assert!(months.len() >= 20, "two years of months: {months:?}");
    for month in &months {
        let (year, m) = month.split_once('-').expect("YYYY-MM");
        r.check(
            &format!("clinical.encounters_per_month.{month}"),
            &format!("SELECT count(*) FILTER (WHERE year(start_datetime) = {year} AND month(start_datetime) = {m}) {encounters}"),
            EXACT,
        );
    }
    let codes = r.keys("clinical.prevalence");
    assert!(codes.len() >= 8, "{codes:?}");
    for code in &codes {
        r.check(
            &format!("clinical.prevalence.{code}"),
            &format!(
                "SELECT round(count(DISTINCT patient_id) FILTER (WHERE code = {}) / count(DISTINCT patient_id), 3) \
                 FROM diagnoses WHERE scenario_id = ?",
                quoted(code)
            ),
            EXACT,
        );
    }
    for loinc in ["2345-7", "4548-4"] {
        let test = format!("FROM lab_results WHERE scenario_id = ? AND loinc_code = '{loinc}'");
        let ranged = "value_numeric IS NOT NULL AND reference_low IS NOT NULL AND reference_high IS NOT NULL";
        r.check(
            &format!("clinical.lab.{loinc}.results"),
            &format!("SELECT count(*) {test}"),
            EXACT,
        );
        r.check(
            &format!("clinical.lab.{loinc}.median"),
            &format!("SELECT quantile_cont(value_numeric, 0.5) {test}"),
            EXACT,
        );
        r.check(
            &format!("clinical.lab.{loinc}.within"),
            &format!(
                "SELECT count(*) FILTER (WHERE value_numeric BETWEEN reference_low AND reference_high) \
                 / count(*) FILTER (WHERE {ranged}) {test}"
            ),
            EXACT,
        );
        r.check(
            &format!("clinical.lab.{loinc}.above"),
            &format!(
                "SELECT count(*) FILTER (WHERE value_numeric > reference_high) \
                 / count(*) FILTER (WHERE {ranged}) {test}"
            ),
            EXACT,
        );
    }
    for drug in r.keys("clinical.medication") {
        r.check(
            &format!("clinical.medication.{drug}"),
            &format!(
                "SELECT round(count(*) FILTER (WHERE drug_name = {}) / count(*), 3) FROM medications WHERE scenario_id = ?",
                quoted(&drug)
            ),
            EXACT,
        );
    }
}

#[test]
fn claims_match_sql() {
    let r = rendered();
    let claims = "FROM claims WHERE scenario_id = ?";
    r.check("claims.count", &format!("SELECT count(*) {claims}"), EXACT);
    for column in [
        "total_billed",
        "total_allowed",
        "total_paid",
        "total_patient_resp",
    ] {
        r.check(
            &format!("claims.total.{column}"),
            &format!("SELECT round(CAST(sum({column}) AS DOUBLE), 2) {claims}"),
            CENTS,
        );
    }
    r.check(
        "claims.paid_to_billed",
        &format!("SELECT round(CAST(sum(total_paid) AS DOUBLE), 2) / round(CAST(sum(total_billed) AS DOUBLE), 2) {claims}"),
        EXACT,
    );
    for claim_type in ["professional", "institutional"] {
        let key = format!("claims.type.{claim_type}");
        let of_type = format!("{claims} AND claim_type = '{claim_type}'");
        r.check(
            &format!("{key}.claims"),
            &format!("SELECT count(*) {of_type}"),
            EXACT,
        );
        for column in ["total_billed", "total_allowed", "total_paid"] {
            r.check(
                &format!("{key}.{column}"),
                &format!("SELECT CAST(sum({column}) AS DOUBLE) {of_type}"),
                CENTS,
            );
        }
        r.check(
            &format!("{key}.paid_to_billed"),
            &format!("SELECT CAST(sum(total_paid) AS DOUBLE) / CAST(sum(total_billed) AS DOUBLE) {of_type}"),
            EXACT,
        );
    }
    for column in ["total_billed", "total_paid"] {
        let key = format!("claims.distribution.{column}");
        r.check(
            &format!("{key}.values"),
            &format!("SELECT count({column}) {claims}"),
            EXACT,
        );
        r.check(
            &format!("{key}.median"),
            &format!("SELECT quantile_cont(CAST({column} AS DOUBLE), 0.5) {claims}"),
            CENTS,
        );
        r.check(
            &format!("{key}.p90"),
            &format!("SELECT quantile_cont(CAST({column} AS DOUBLE), 0.9) {claims}"),
            CENTS,
        );
        r.check(
            &format!("{key}.mean"),
            &format!("SELECT CAST(sum({column}) AS DOUBLE) / count({column}) {claims}"),
            CENTS,
        );
    }
    r.check(
        "claims.status.paid",
        &format!("SELECT round(count(*) FILTER (WHERE status = 'paid') / count(*), 3) {claims}"),
        EXACT,
    );
}

#[test]
fn pharmacy_and_trial_match_sql() {
    let r = rendered();
    let fills = "FROM pharmacy_claims WHERE scenario_id = ?";
    r.check("pharmacy.fills", &format!("SELECT count(*) {fills}"), EXACT);
    r.check(
        "pharmacy.prescriptions",
        "SELECT count(*) FROM prescriptions WHERE scenario_id = ?",
        EXACT,
    );
    for column in ["ingredient_cost", "gross_amount_due", "plan_paid_amount"] {
        r.check(
            &format!("pharmacy.total.{column}"),
            &format!("SELECT round(CAST(sum({column}) AS DOUBLE), 2) {fills}"),
            CENTS,
        );
    }
    for drug in r.keys("pharmacy.drug") {
        r.check(
            &format!("pharmacy.drug.{drug}"),
            &format!(
                "SELECT round(count(*) FILTER (WHERE drug_name = {}) / count(*), 3) {fills}",
                quoted(&drug)
            ),
            EXACT,
        );
    }
    let months = r.keys("pharmacy.fills_per_month");
    assert!(!months.is_empty());
    for month in &months {
        r.check(
            &format!("pharmacy.fills_per_month.{month}"),
            &format!(
                "SELECT count(*) FILTER (WHERE strftime(fill_date, '%Y-%m') = {}) {fills}",
                quoted(month)
            ),
            EXACT,
        );
    }
    r.check(
        "pharmacy.cost.gross_amount_due.p90",
        &format!("SELECT quantile_cont(CAST(gross_amount_due AS DOUBLE), 0.9) {fills}"),
        CENTS,
    );
    r.check(
        "pharmacy.cost.gross_amount_due.mean",
        &format!("SELECT avg(CAST(gross_amount_due AS DOUBLE)) {fills}"),
        CENTS,
    );

    let subjects = "FROM subjects WHERE scenario_id = ?";
    r.check(
        "trial.subjects",
        &format!("SELECT count(*) {subjects}"),
        EXACT,
    );
    for arm in ["arm-pbo", "arm-trt"] {
        r.check(
            &format!("trial.arm.{arm}"),
            &format!("SELECT count(*) FILTER (WHERE arm_id = '{arm}') {subjects}"),
            EXACT,
        );
    }
    for site in r
        .keys("trial.site")
        .iter()
        .filter(|k| !k.ends_with(".arm-pbo") && !k.ends_with(".arm-trt"))
    {
        r.check(
            &format!("trial.site.{site}"),
            &format!(
                "SELECT count(*) FILTER (WHERE site_id = {}) {subjects}",
                quoted(site)
            ),
            EXACT,
        );
    }
    let events = "FROM adverse_events WHERE scenario_id = ?";
    r.check(
        "trial.adverse_events",
        &format!("SELECT count(*) {events}"),
        EXACT,
    );
    let severities: Vec<String> = r
        .keys("trial.severity")
        .into_iter()
        .filter(|k| !k.ends_with(".arm-pbo") && !k.ends_with(".arm-trt"))
        .collect();
    assert!(!severities.is_empty());
    for severity in severities {
        r.check(
            &format!("trial.severity.{severity}"),
            &format!(
                "SELECT count(*) FILTER (WHERE aesev = {}) {events}",
                quoted(&severity)
            ),
            EXACT,
        );
        for arm in ["arm-pbo", "arm-trt"] {
            let key = format!("trial.severity.{severity}.{arm}");
            if r.figures.contains_key(&key) {
                r.check(
                    &key,
                    &format!(
                        "SELECT count(*) FROM adverse_events e JOIN subjects s \
                         ON s.scenario_id = e.scenario_id AND s.subject_id = e.subject_id \
                         WHERE e.scenario_id = ? AND e.aesev = {} AND s.arm_id = '{arm}'",
                        quoted(&severity)
                    ),
                    EXACT,
                );
            }
        }
    }
}

#[test]
fn data_quality_matches_sql() {
    let r = rendered();
    assert_eq!(r.figure("quality.dangling_references"), "0");
    let references: usize = healthsim_schema::ENTITY_TYPES
        .iter()
        .filter(|t| r.report.headline.entity_counts.contains_key(t.table))
        .map(|t| t.references.len())
        .sum();
    assert_eq!(r.figure("quality.foreign_keys"), references.to_string());
    for (table, column) in [
        ("encounters", "patient_id"),
        ("claims", "member_id"),
        ("pharmacy_claims", "prescription_id"),
    ] {
        let key = format!("quality.integrity.{table}.{column}");
        r.check(
            &format!("{key}.references"),
            &format!("SELECT count({column}) FROM {table} WHERE scenario_id = ?"),
            EXACT,
        );
        assert_eq!(r.figure(&format!("{key}.dangling")), "0");
    }
    r.check(
        "quality.nulls.claims.total_paid.nulls",
        "SELECT count(*) - count(total_paid) FROM claims WHERE scenario_id = ?",
        EXACT,
    );
    r.check(
        "quality.nulls.medications.encounter_id.rate",
        "SELECT 1 - count(encounter_id) / count(*) FROM medications WHERE scenario_id = ?",
        EXACT,
    );
    assert_eq!(r.figure("quality.duplicates.patients.mrn.values"), "0");
    assert_eq!(r.report.headline.duplicate_key_values, 0);
    assert_eq!(r.report.headline.dangling_references, 0);
}

/// Where the report shows a figure of the agent's summary, the two are the same number.
#[test]
fn figures_shared_with_the_summary_agree() {
    let r = rendered();
    let options = healthsim_summary::SummaryOptions {
        samples_per_type: 0,
        as_of: common::cohort::as_of(),
        ..healthsim_summary::SummaryOptions::default()
    };
    let summary = r
        .fixture
        .store
        .scenario_summary(&r.fixture.scenario_id, &options)
        .expect("summary");
    let statistics = serde_json::to_value(&summary.statistics).expect("JSON");
    // The summary writes each statistic as a compact string (`"F 52%; M 48%"`, `"0–93, median
    // 45"`, `"billed 728449; paid 227869"`): the report's figure, rounded the same way, is the
    // number the summary shows after `label`.
    let mut compared = 0;
    let mut agree = |pointer: &str, label: &str, key: &str| {
        let Some(text) = statistics.pointer(pointer).and_then(Json::as_str) else {
            return;
        };
        // Entries are joined by "; " (labels may hold commas); the age's parts by ", ".
        let Some(shown) = text
            .split("; ")
            .flat_map(|entry| std::iter::once(entry).chain(entry.split(", ")))
            .filter_map(|entry| {
                entry
                    .strip_prefix(&format!("{label} "))?
                    .split(' ')
                    .next_back()
            })
            .next()
        else {
            return;
        };
        let figure: f64 = r.figure(key).parse().expect("a number");
        let expected = match shown.strip_suffix('%') {
            Some(_) => format!("{}%", (figure * 100.0).round()),
            None if figure.abs() >= 100.0 => format!("{}", figure.round()),
            None => figure.to_string(),
        };
        assert_eq!(
            shown, expected,
            "{key} = {figure}, summary {pointer} = {text}"
        );
        compared += 1;
    };
    agree("/patients/age", "median", "people.age.median");
    agree("/patients/gender", "F", "people.gender.F");
    agree("/patients/top_states", "CA", "people.top_states.CA");
    agree(
        "/encounters/encounter_class",
        "outpatient",
        "clinical.encounter_class.outpatient",
    );
    agree("/claims/totals", "paid", "claims.total.total_paid");
    agree("/claims/totals", "billed", "claims.total.total_billed");
    agree("/subjects/arms", "arm-trt", "trial.arm.arm-trt");
    if let Some(codes) = statistics
        .pointer("/diagnoses/top_codes")
        .and_then(Json::as_str)
    {
        for entry in codes.split("; ") {
            let name = entry.split(' ').next().expect("a code");
            agree(
                "/diagnoses/top_codes",
                name,
                &format!("clinical.prevalence.{name}"),
            );
        }
    }
    assert_eq!(
        summary.entity_counts, r.report.headline.entity_counts,
        "the same counts per type"
    );
    assert!(
        compared >= 4,
        "the summary kept too little to compare: {statistics}"
    );
}

#[test]
fn every_section_is_present_in_order() {
    let r = rendered();
    let ids: Vec<&str> = Section::ALL.iter().map(|s| s.id()).collect();
    assert_eq!(r.report.headline.sections, ids);
    let mut at = 0;
    for section in Section::ALL {
        let tag = format!(
            "<section class=\"report\" id=\"{id}\" data-section=\"{id}\"><h2>{}</h2>",
            section.title(),
            id = section.id()
        );
        let found = r.report.html[at..]
            .find(&tag)
            .unwrap_or_else(|| panic!("section {} missing or out of order", section.id()));
        at += found + tag.len();
    }
    assert!(
        r.report.headline.charts >= 15,
        "{}",
        r.report.headline.charts
    );
    assert_eq!(r.report.headline.html_bytes, r.report.html.len());
    assert!(
        r.report.html.len() < 400_000,
        "{} bytes",
        r.report.html.len()
    );
}

/// The page needs nothing from anywhere: no URL, script, external style, font or image.
#[test]
fn the_page_is_self_contained() {
    let html = &rendered().report.html;
    for forbidden in [
        "http:",
        "https:",
        "//",
        "url(",
        "src=",
        "<script",
        "<link",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "@import",
        "@font-face",
        "xlink:href",
    ] {
        assert!(!html.contains(forbidden), "the page contains {forbidden:?}");
    }
    let mut rest = html.as_str();
    let mut anchors = 0;
    while let Some(at) = rest.find("href=\"") {
        rest = &rest[at + 6..];
        assert!(
            rest.starts_with('#'),
            "a link that leaves the page: {}",
            &rest[..40.min(rest.len())]
        );
        anchors += 1;
    }
    assert_eq!(
        anchors,
        Section::ALL.len(),
        "one table-of-contents link per section"
    );
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("@media print"));
}

/// Everything that came from the database is escaped: names, descriptions, tags, codes,
/// drug names, ids.
#[test]
fn user_text_is_escaped() {
    let f = fixture(0);
    let nasty = "<script>alert('x')</script>";
    f.execute(&format!(
        "UPDATE scenarios SET name = '<i>name</i> & co', description = {} WHERE scenario_id = ?",
        quoted(nasty)
    ));
    f.execute("INSERT INTO scenario_tags VALUES (?, '<b>tag</b>', TIMESTAMP '2025-01-01')");
    let entities = serde_json::json!({
        "patients": [{"patient_id": "p\"1", "mrn": "<mrn>", "birth_date": "1970-01-01", "gender": "<g>", "state": "<script>s</script>"}],
        "diagnoses": [{"diagnosis_id": "d1", "patient_id": "p\"1", "code": "\"><img src=x onerror=alert(1)>", "description": "<b>bold</b> & \"quoted\""}],
        "pharmacy_claims": [{"pharmacy_claim_id": "c1", "drug_name": "</svg><script>alert(2)</script>", "fill_date": "2024-01-01", "gross_amount_due": 10.0}],
        "encounters": [{"encounter_id": "e1", "patient_id": "ghost<script>", "encounter_class": "<style>x</style>", "start_datetime": "2024-01-01T00:00:00Z"}],
    });
    let request =
        healthsim_persist::PersistRequest::by_type(entities.as_object().cloned().expect("object"))
            .into_existing(f.scenario_id.clone());
    f.store.persist_entities(&request).expect("persisted");
    let report = f.render();
    let html = &report.html;
    for raw in [
        "<script",
        "<img",
        "<b>",
        "<i>",
        "<style>x",
        "</svg><script",
        "<mrn>",
        "<g>",
    ] {
        assert!(!html.contains(raw), "unescaped {raw:?} in the page");
    }
    for escaped in [
        "&lt;i&gt;name&lt;/i&gt; &amp; co",
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;",
        "&lt;b&gt;tag&lt;/b&gt;",
        "&lt;script&gt;s&lt;/script&gt;",
    ] {
        assert!(html.contains(escaped), "{escaped:?} missing");
    }
    // The dangling encounter → patient reference is reported, its ids escaped.
    assert_eq!(report.headline.dangling_references, 1);
    assert!(html.contains("e1 → ghost&lt;script&gt;"));
}

/// The headline fits an MCP tool result (500 tokens) even with every type present, huge
/// counts and three broken foreign keys.
#[test]
fn the_headline_is_small() {
    let worst = Headline {
        scenario_id: "2f1e0d4c-8b7a-4c69-9e58-1d2c3b4a5f60".into(),
        name: "x".repeat(100),
        entity_counts: healthsim_schema::ENTITY_TYPES
            .iter()
            .map(|t| (t.table.to_string(), 123_456_789))
            .collect(),
        total_entities: 4_691_358_000,
        date_span: Some(["1900-01-01".into(), "2099-12-31".into()]),
        sections: Section::ALL.iter().map(|s| s.id().to_string()).collect(),
        charts: 40,
        dangling_references: 123_456_789,
        broken_foreign_keys: vec![
            "pharmacy_claims.prescription_id → prescriptions: 123456789".into(),
            "network_facilities.facility_id → facilities: 123456789".into(),
            "claims.rendering_provider_id → providers: 123456789".into(),
        ],
        duplicate_key_values: 123_456_789,
        html_bytes: 1_999_999,
    };
    let json = serde_json::to_string(&worst).expect("JSON");
    let tokens = healthsim_summary::count_tokens(&json);
    assert!(tokens <= 500, "{tokens} tokens: {json}");
    let actual = serde_json::to_string(&rendered().report.headline).expect("JSON");
    assert!(healthsim_summary::count_tokens(&actual) <= 500);
}

/// A one-sided reference range (eGFR ≥ 60) judges results against its one bound.
#[test]
fn one_sided_reference_ranges() {
    let f = fixture(0);
    let labs: Vec<Json> = [50.0, 70.0, 90.0, 30.0]
        .iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::json!({"lab_result_id": format!("l{i}"), "patient_id": "p", "loinc_code": "33914-3",
                               "test_name": "eGFR", "value_numeric": v, "unit": "mL/min", "reference_low": 60.0})
        })
        .collect();
    let request = healthsim_persist::PersistRequest::new("lab_results", labs)
        .into_existing(f.scenario_id.clone());
    f.store.persist_entities(&request).expect("persisted");
    let report = f.render();
    let figures = figures(&report.html);
    let value = |key: &str| figures[key][0].parse::<f64>().expect("a number");
    assert_eq!(value("clinical.lab.33914-3.below"), 0.5);
    assert_eq!(value("clinical.lab.33914-3.within"), 0.5);
    assert_eq!(value("clinical.lab.33914-3.above"), 0.0);
    assert!(report.html.contains("≥ 60 mL/min"));
}
