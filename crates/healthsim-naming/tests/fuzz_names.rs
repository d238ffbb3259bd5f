//! Fuzzing scenario naming with input the property tests in `properties.rs` do not reach:
//! arbitrary bytes (decoded lossily, as a CLI argument or an MCP string may arrive), megabyte
//! names and contexts, and adversarial `exists` predicates (random, all-but-one, everything).
//!
//! Properties: nothing panics; a name is always `^[a-z0-9]+(-[a-z0-9]+)*$`, a fixed point of
//! `sanitize`, never one the predicate calls taken, and bounded in length; an error message stays
//! short whatever the input; a predicate that takes every name ends in `Exhausted`, after at most
//! `MAX_UNIQUE_ATTEMPTS` questions.
//!
//! Cases: 256 by default (16 for the megabyte inputs); `PROPTEST_CASES` sets them, e.g.
//! `PROPTEST_CASES=20000 cargo test --release -p healthsim-naming --test fuzz_names`.

use std::cell::Cell;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use chrono::NaiveDate;
use healthsim_naming::{
    generate_name, sanitize, unique_name, Error, NameRequest, MAX_NAME_BODY_LEN,
    MAX_UNIQUE_ATTEMPTS,
};
use proptest::prelude::*;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Longest possible name: the body, `-YYYYMMDD` and `-N` up to the attempt limit.
const MAX_NAME_LEN: usize = MAX_NAME_BODY_LEN + 1 + 8 + 1 + 5;

fn lossy() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..200)
        .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

/// `exists` that answers like a random set of taken names: `name` is taken with probability
/// `percent`, the same answer every time it is asked.
fn random_taken(seed: u64, percent: u64) -> impl Fn(&str) -> bool {
    move |name: &str| {
        let mut h = DefaultHasher::new();
        (seed, name).hash(&mut h);
        h.finish() % 100 < percent
    }
}

fn check_name(name: &str) -> Result<(), TestCaseError> {
    prop_assert!(is_valid_name(name), "{:?}", name);
    prop_assert!(name.len() <= MAX_NAME_LEN, "{} characters", name.len());
    prop_assert_eq!(sanitize(name), Ok(name.to_string()));
    Ok(())
}

fn check_error(error: &Error) -> Result<(), TestCaseError> {
    // The input is quoted at most 80 characters (+ "..."), escaped by Debug: a few hundred bytes.
    prop_assert!(
        error.to_string().len() < 1_000,
        "{} bytes",
        error.to_string().len()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    #[test]
    fn sanitize_and_unique_name_on_arbitrary_bytes(
        input in prop_oneof![lossy(), any::<String>(), "\\PC{0,40}"],
        seed in any::<u64>(),
        percent in 0u64..=90,
    ) {
        match sanitize(&input) {
            Ok(name) => check_name(&name)?,
            Err(error) => {
                prop_assert!(matches!(error, Error::EmptyName { .. }), "{:?}", error);
                check_error(&error)?;
            }
        }
        let taken = random_taken(seed, percent);
        match unique_name(&input, &taken) {
            Ok(name) => {
                check_name(&name)?;
                prop_assert!(!taken(&name), "{:?} is taken", name);
            }
            Err(error) => check_error(&error)?,
        }
    }

    #[test]
    fn every_name_taken_but_one(input in "[a-zA-Z][a-zA-Z ]{0,29}", free in 2u32..300) {
        // Only the candidate with counter `free` is free.
        let asked = Cell::new(0u32);
        let name = unique_name(&input, |n| {
            asked.set(asked.get() + 1);
            !n.ends_with(&format!("-{free}"))
        });
        let name = name.map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_name(&name)?;
        prop_assert!(name.ends_with(&format!("-{free}")), "{:?}", name);
        prop_assert_eq!(asked.get(), free);
    }

    #[test]
    fn generated_names_from_arbitrary_context(
        context in prop_oneof![lossy(), any::<String>()],
        entity_type in prop::option::of(prop_oneof![lossy(), "[a-z_]{1,12}"]),
        prefix in prop::option::of(lossy()),
        seed in any::<u64>(),
        percent in 0u64..=90,
        days in 0i64..3_000_000,
    ) {
        let date = NaiveDate::from_ymd_opt(1, 1, 1)
            .and_then(|d| d.checked_add_signed(chrono::Duration::days(days)))
            .unwrap_or(NaiveDate::MIN);
        let request = NameRequest {
            context: Some(&context),
            entity_type: entity_type.as_deref(),
            prefix: prefix.as_deref(),
            ..NameRequest::new(date)
        };
        let taken = random_taken(seed, percent);
        match generate_name(&request, &taken) {
            Ok(name) => {
                check_name(&name)?;
                prop_assert!(!taken(&name));
            }
            Err(error) => check_error(&error)?,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(16).min(64), ..ProptestConfig::default() })]

    #[test]
    fn megabyte_inputs(piece in "\\PC{1,16}", repeat in 1usize..100_000) {
        let input = piece.repeat(repeat).chars().take(1_000_000).collect::<String>();
        match sanitize(&input) {
            Ok(name) => check_name(&name)?,
            Err(error) => check_error(&error)?,
        }
        let request = NameRequest {
            context: Some(&input),
            ..NameRequest::new(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or(NaiveDate::MIN))
        };
        match generate_name(&request, |_| false) {
            Ok(name) => check_name(&name)?,
            Err(error) => check_error(&error)?,
        }
    }
}

#[test]
fn a_predicate_that_takes_everything_ends_in_exhausted() {
    let asked = Cell::new(0u32);
    let outcome = unique_name("Some Cohort", |_| {
        asked.set(asked.get() + 1);
        true
    });
    assert!(
        matches!(outcome, Err(Error::Exhausted { tried, .. }) if tried == MAX_UNIQUE_ATTEMPTS),
        "{outcome:?}"
    );
    assert_eq!(asked.get(), MAX_UNIQUE_ATTEMPTS);
}
