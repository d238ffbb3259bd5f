//! Data-driven tables for `generate_name` and `unique_name`, and one test per
//! error variant.

use std::collections::HashSet;

use chrono::NaiveDate;
use healthsim_naming::{
    generate_name, sanitize, unique_name, Error, NameRequest, MAX_UNIQUE_ATTEMPTS,
};

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 12, 26).unwrap_or_default()
}

fn request<'a>(
    context: Option<&'a str>,
    entity_type: Option<&'a str>,
    prefix: Option<&'a str>,
) -> NameRequest<'a> {
    NameRequest {
        context,
        entity_type,
        prefix,
        ..NameRequest::new(date())
    }
}

/// A name generated with nothing taken.
#[track_caller]
fn check(context: Option<&str>, entity_type: Option<&str>, prefix: Option<&str>, expected: &str) {
    let got = generate_name(&request(context, entity_type, prefix), |_| false);
    assert_eq!(
        got.as_deref(),
        Ok(expected),
        "context: {context:?}, entity: {entity_type:?}, prefix: {prefix:?}"
    );
    assert_eq!(sanitize(expected).as_deref(), Ok(expected));
}

#[test]
#[rustfmt::skip] // one case per line
fn generate_name_table() {
    let (c, none) = (Some, None);
    // The examples from the brief.
    check(c("Generate 50 diabetic patients over 65"), c("patient"), none, "diabetic-patients-20241226");
    check(c("Create Medicare claims"), c("claim"), none, "medicare-claims-20241226");
    check(none, c("claim"), c("membersim"), "membersim-claims-20241226");
    // No keywords at all.
    check(none, none, none, "scenario-20241226");
    check(c(""), none, none, "scenario-20241226");
    check(c("Please generate some synthetic test data"), none, none, "scenario-20241226");
    check(c("Please generate some synthetic test data"), none, c("patientsim"), "patientsim-scenario-20241226");
    // Entity type alone, pluralized.
    check(none, c("patient"), none, "patients-20241226");
    check(none, c("patients"), none, "patients-20241226");
    check(none, c("pharmacy"), none, "pharmacies-20241226");
    check(none, c("diagnosis"), none, "diagnoses-20241226");
    check(none, c("rx_member"), none, "rx-members-20241226");
    check(none, c("Claim Line"), none, "claim-lines-20241226");
    // Healthcare terms first; the entity plural keeps its place or takes the last one.
    check(c("Build a cohort of elderly patients in Maricopa County with CHF"), c("patient"), none, "cohort-elderly-patients-20241226");
    check(c("Maricopa County CHF patients"), none, none, "chf-patients-maricopa-20241226");
    check(c("Simulate COPD readmissions for Medicaid members"), c("member"), none, "copd-readmissions-members-20241226");
    check(c("Oncology trial subjects in Phoenix"), c("subject"), none, "oncology-trial-subjects-20241226");
    check(c("Pediatric asthma encounters"), c("encounter"), none, "pediatric-asthma-encounters-20241226");
    check(c("Telehealth visits for seniors with depression and anxiety"), c("encounter"), none, "telehealth-seniors-encounters-20241226");
    check(c("a diabetic patient in the ICU"), c("patient"), none, "diabetic-patients-icu-20241226");
    check(c("Generate pharmacy claims"), c("pharmacy_claim"), none, "pharmacy-claims-20241226");
    // Unicode and hostile input.
    check(c("Müller's Klinik: Herzinsuffizienz"), none, none, "muller-klinik-herzinsuffizienz-20241226");
    check(c("'; DROP TABLE scenarios; --"), none, none, "drop-table-20241226");
    check(c("../../etc/passwd"), none, none, "etc-passwd-20241226");
    // Prefixes are sanitized; an unusable prefix is ignored.
    check(none, c("claim"), c("MemberSim!!"), "membersim-claims-20241226");
    check(none, c("claim"), c("!!!"), "claims-20241226");
    check(c("Create Medicare claims"), c("claim"), c("rx_sim"), "rx-sim-medicare-claims-20241226");
}

#[track_caller]
fn check_keywords(keywords: &[&str], context: Option<&str>, expected: &str) {
    let keywords: Vec<String> = keywords.iter().map(|k| (*k).to_owned()).collect();
    let request = NameRequest {
        keywords: Some(&keywords),
        context,
        entity_type: Some("patient"),
        ..NameRequest::new(date())
    };
    assert_eq!(
        generate_name(&request, |_| false).as_deref(),
        Ok(expected),
        "keywords: {keywords:?}"
    );
}

#[test]
fn explicit_keywords_win() {
    let ctx = Some("Create Medicare claims");
    check_keywords(&["Heart Failure", "ICU"], ctx, "heart-failure-icu-20241226");
    check_keywords(&["icu", "ICU", "Icu"], ctx, "icu-20241226");
    // Unusable keywords fall back to the context.
    check_keywords(&["", "!!"], ctx, "medicare-claims-patients-20241226");
    check_keywords(&[], None, "patients-20241226");
    // The body is cut at a word boundary to 50 characters.
    check_keywords(
        &[
            "supercalifragilisticexpialidocious",
            "pneumonoultramicroscopicsilicovolcanoconiosis",
        ],
        None,
        "supercalifragilisticexpialidocious-20241226",
    );
    check_keywords(
        &[&"x".repeat(80)],
        None,
        &format!("{}-20241226", "x".repeat(50)),
    );
}

/// A name generated while `taken` names exist.
#[track_caller]
fn check_taken(context: &str, taken: &[&str], expected: &str) {
    let taken: HashSet<&str> = taken.iter().copied().collect();
    let got = generate_name(&request(Some(context), Some("patient"), None), |n| {
        taken.contains(n)
    });
    assert_eq!(got.as_deref(), Ok(expected), "taken: {taken:?}");
}

#[test]
fn generate_name_counts_past_taken_names() {
    let ctx = "Generate 50 diabetic patients over 65";
    let base = "diabetic-patients-20241226";
    check_taken(ctx, &[], base);
    check_taken(ctx, &[base], "diabetic-patients-20241226-2");
    check_taken(
        ctx,
        &[base, "diabetic-patients-20241226-2"],
        "diabetic-patients-20241226-3",
    );
    // Only the base counts as "taken"; a free base is used even if -2 exists.
    check_taken(ctx, &["diabetic-patients-20241226-2"], base);
    check_taken(
        ctx,
        &[
            base,
            "diabetic-patients-20241226-2",
            "diabetic-patients-20241226-4",
        ],
        "diabetic-patients-20241226-3",
    );
}

#[track_caller]
fn check_unique(base: &str, taken: &[&str], expected: &str) {
    let taken: HashSet<&str> = taken.iter().copied().collect();
    let got = unique_name(base, |n| taken.contains(n));
    assert_eq!(
        got.as_deref(),
        Ok(expected),
        "base: {base:?}, taken: {taken:?}"
    );
    assert_eq!(sanitize(expected).as_deref(), Ok(expected));
}

#[test]
fn unique_name_table() {
    check_unique("My Cohort", &[], "my-cohort");
    check_unique("My Cohort", &["my-cohort"], "my-cohort-2");
    check_unique("My Cohort", &["my-cohort", "my-cohort-2"], "my-cohort-3");
    check_unique("cohort-2", &["cohort-2"], "cohort-2-2");
    check_unique("Trial 20241226", &["trial-20241226"], "trial-20241226-2");
    check_unique(
        "trial-20241226-2",
        &["trial-20241226-2"],
        "trial-20241226-3",
    );
    check_unique(
        "trial-20241226-2",
        &["trial-20241226-2", "trial-20241226-3"],
        "trial-20241226-4",
    );
    // Without a date the counter still fits in the 50-character body.
    let fifty = "a".repeat(50);
    check_unique(&fifty, &[&fifty], &format!("{}-2", "a".repeat(48)));
    let words = "word-".repeat(10);
    let words = words.trim_end_matches('-');
    check_unique(
        words,
        &[words],
        &format!("{}-2", "word-".repeat(9).trim_end_matches('-')),
    );
}

// Error variants.

#[test]
fn unique_name_of_nothing_is_empty_name() {
    for base in ["", "  ", "!!!", "\0", "-_-"] {
        let got = unique_name(base, |_| false);
        assert!(
            matches!(&got, Err(Error::EmptyName { given }) if given == base),
            "{base:?}: {got:?}"
        );
    }
}

#[test]
fn generate_name_gives_up_when_everything_is_taken() {
    let got = generate_name(&NameRequest::new(date()), |_| true);
    assert_eq!(
        got,
        Err(Error::Exhausted {
            base: "scenario-20241226".to_owned(),
            tried: MAX_UNIQUE_ATTEMPTS,
        })
    );
}

#[test]
fn unique_name_gives_up_when_everything_is_taken() {
    let got = unique_name("My Cohort", |_| true);
    assert_eq!(
        got,
        Err(Error::Exhausted {
            base: "my-cohort".to_owned(),
            tried: MAX_UNIQUE_ATTEMPTS,
        })
    );
}

#[test]
fn generate_name_rejects_dates_without_four_digit_years() {
    for (year, expect_error) in [(-1, true), (0, false), (9999, false), (10_000, true)] {
        let Some(date) = NaiveDate::from_ymd_opt(year, 1, 2) else {
            panic!("year {year} is a valid chrono date");
        };
        let got = generate_name(&NameRequest::new(date), |_| false);
        if expect_error {
            assert_eq!(got, Err(Error::DateOutOfRange { date }));
        } else {
            assert_eq!(got, Ok(format!("scenario-{year:04}0102")));
        }
    }
}

#[test]
fn error_messages() {
    let exhausted = Error::Exhausted {
        base: "a-20241226".to_owned(),
        tried: 3,
    };
    assert_eq!(
        exhausted.to_string(),
        "no free name for \"a-20241226\" after 3 tries"
    );
    let date = NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap_or_default();
    assert_eq!(
        Error::DateOutOfRange { date }.to_string(),
        "date +10000-01-01 is outside the supported years 0000-9999"
    );
    let long = "!".repeat(10_000);
    let message = sanitize(&long)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(message.len() < 200, "{message}");
}

/// One line per variant: every naming error is the caller's to fix (the CLI's exit code 2).
#[test]
fn every_naming_error_is_the_callers() {
    let date = NaiveDate::from_ymd_opt(2025, 1, 15).expect("a date");
    for error in [
        healthsim_naming::Error::EmptyName { given: "!!".into() },
        healthsim_naming::Error::Exhausted {
            base: "x-20250115".into(),
            tried: 10_000,
        },
        healthsim_naming::Error::DateOutOfRange { date },
    ] {
        assert!(error.is_caller_error(), "{error}");
    }
}
