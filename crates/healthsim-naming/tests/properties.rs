//! Properties of sanitizing, generating and parsing names, including hostile
//! and unicode input.

use std::collections::HashSet;

use chrono::NaiveDate;
use healthsim_naming::{
    extract_keywords, generate_name, parse_name, sanitize, unique_name, Error, NameRequest,
    MAX_NAME_BODY_LEN,
};
use proptest::prelude::*;

/// `^[a-z0-9]+(-[a-z0-9]+)*$`, without a regex crate.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The part of a valid name that [`MAX_NAME_BODY_LEN`] bounds: everything
/// before the date suffix, or the whole name without one.
fn body_len(name: &str) -> usize {
    let parsed = parse_name(name);
    if parsed.date.is_some() {
        parsed.keywords.join("-").len()
    } else {
        name.len()
    }
}

#[test]
fn validator_accepts_and_rejects() {
    for good in ["a", "a-b", "0", "abc-123-x9"] {
        assert!(is_valid_name(good), "{good:?}");
    }
    for bad in ["", "-", "a-", "-a", "a--b", "A", "a_b", "a b", "é"] {
        assert!(!is_valid_name(bad), "{bad:?}");
    }
}

/// Text built from pieces that have broken naming code before: quotes, SQL,
/// path traversal, NUL, emoji, scripts without case, date-like numbers.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("'".to_owned()),
        Just("\"".to_owned()),
        Just(";".to_owned()),
        Just("../".to_owned()),
        Just("'; DROP TABLE x; --".to_owned()),
        Just("\0".to_owned()),
        Just("😀".to_owned()),
        Just("🏥👩‍⚕️".to_owned()),
        Just("Müller".to_owned()),
        Just("Ωmega".to_owned()),
        Just("北京".to_owned()),
        Just("\u{202e}".to_owned()),
        Just(" ".to_owned()),
        Just("-".to_owned()),
        Just("_".to_owned()),
        Just("20241226".to_owned()),
        Just("20240230".to_owned()),
        Just("-2".to_owned()),
        "[a-zA-Z]{1,12}",
        "[0-9]{1,10}",
        "\\PC{0,6}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![hostile(), any::<String>(), "\\PC{0,300}"]
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (0i32..=9999, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default())
}

fn entity_type() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        Just("patient".to_owned()),
        Just("claims".to_owned()),
        Just("pharmacy".to_owned()),
        Just("rx_member".to_owned()),
        Just("diagnosis".to_owned()),
        hostile(),
    ])
}

proptest! {
    #[test]
    fn sanitize_is_idempotent_and_valid(input in any_text()) {
        match sanitize(&input) {
            Ok(name) => {
                prop_assert!(is_valid_name(&name), "{:?} -> {:?}", input, name);
                prop_assert!(body_len(&name) <= MAX_NAME_BODY_LEN, "{:?}", name);
                prop_assert_eq!(sanitize(&name), Ok(name.clone()));
            }
            Err(Error::EmptyName { given }) => {
                prop_assert!(given.chars().count() <= 83);
                prop_assert!(!input.chars().any(|c| c.is_ascii_alphanumeric()));
            }
            Err(other) => prop_assert!(false, "unexpected error {:?}", other),
        }
    }

    #[test]
    fn extract_keywords_respects_max(
        context in any_text(),
        entity in entity_type(),
        max in 0usize..6,
    ) {
        let keywords = extract_keywords(&context, entity.as_deref(), max);
        prop_assert!(keywords.len() <= max);
        let unique: HashSet<&String> = keywords.iter().collect();
        prop_assert_eq!(unique.len(), keywords.len(), "duplicates in {:?}", keywords);
        for keyword in &keywords {
            prop_assert!(is_valid_name(keyword), "{:?}", keyword);
        }
    }

    #[test]
    fn generate_name_never_returns_a_taken_name(
        context in prop::option::of(any_text()),
        entity in entity_type(),
        prefix in prop::option::of(hostile()),
        date in date(),
        base_taken in any::<bool>(),
        taken_counters in prop::collection::hash_set(2u32..12, 0..10),
    ) {
        let request = NameRequest {
            context: context.as_deref(),
            entity_type: entity.as_deref(),
            prefix: prefix.as_deref(),
            ..NameRequest::new(date)
        };
        let base = generate_name(&request, |_| false);
        prop_assert!(base.is_ok(), "{:?}", base);
        let base = base.unwrap_or_default();
        let mut taken: HashSet<String> =
            taken_counters.iter().map(|n| format!("{base}-{n}")).collect();
        if base_taken {
            taken.insert(base.clone());
        }

        let name = generate_name(&request, |n| taken.contains(n));
        prop_assert!(name.is_ok(), "{:?}", name);
        let name = name.unwrap_or_default();
        prop_assert!(!taken.contains(&name), "{:?} is taken", name);
        prop_assert!(is_valid_name(&name), "{:?}", name);
        prop_assert!(body_len(&name) <= MAX_NAME_BODY_LEN, "{:?}", name);
        prop_assert_eq!(sanitize(&name), Ok(name.clone()));
        // The first free candidate, in order.
        let expected = if !base_taken {
            base.clone()
        } else {
            let n = (2..).find(|n| !taken_counters.contains(n)).unwrap_or(2);
            format!("{base}-{n}")
        };
        prop_assert_eq!(&name, &expected);
        prop_assert_eq!(parse_name(&name).date, Some(date));
    }

    #[test]
    fn unique_name_never_returns_a_taken_name(
        input in any_text(),
        taken_counters in prop::collection::hash_set(2u32..12, 0..10),
    ) {
        let Ok(base) = sanitize(&input) else {
            let empty = matches!(unique_name(&input, |_| false), Err(Error::EmptyName { .. }));
            prop_assert!(empty, "{:?}", input);
            return Ok(());
        };
        // Take the base and whatever candidates the counters produce.
        let mut taken: HashSet<String> = HashSet::from([base.clone()]);
        for _ in 0..taken_counters.len() {
            let next = unique_name(&input, |n| taken.contains(n));
            prop_assert!(next.is_ok(), "{:?}", next);
            taken.insert(next.unwrap_or_default());
        }
        let name = unique_name(&input, |n| taken.contains(n));
        prop_assert!(name.is_ok(), "{:?}", name);
        let name = name.unwrap_or_default();
        prop_assert!(!taken.contains(&name), "{:?} is taken", name);
        prop_assert!(is_valid_name(&name), "{:?}", name);
        prop_assert_eq!(sanitize(&name), Ok(name.clone()));
    }

    #[test]
    fn parse_name_gives_back_keywords_and_date(
        keywords in prop::collection::vec("[a-z]{1,8}", 1..6),
        date in date(),
        base_taken in any::<bool>(),
    ) {
        let mut unique: Vec<String> = Vec::new();
        for keyword in keywords {
            if !unique.contains(&keyword) {
                unique.push(keyword);
            }
        }
        let request = NameRequest { keywords: Some(&unique), ..NameRequest::new(date) };
        let name = generate_name(&request, |n| base_taken && !n.ends_with("-2"));
        prop_assert!(name.is_ok(), "{:?}", name);
        let parsed = parse_name(&name.unwrap_or_default());

        prop_assert_eq!(parsed.date, Some(date));
        prop_assert_eq!(parsed.counter, base_taken.then_some(2));
        if unique.join("-").len() <= MAX_NAME_BODY_LEN {
            prop_assert_eq!(&parsed.keywords, &unique);
        } else {
            // Cut at a word boundary: a shorter, non-empty prefix.
            prop_assert!(!parsed.keywords.is_empty());
            let is_prefix = unique.starts_with(&parsed.keywords);
            prop_assert!(is_prefix, "{:?} vs {:?}", parsed.keywords, unique);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn ten_kilobyte_inputs_are_fine(input in "\\PC{10000}", date in date()) {
        if let Ok(name) = sanitize(&input) {
            prop_assert!(is_valid_name(&name));
            prop_assert!(body_len(&name) <= MAX_NAME_BODY_LEN);
        }
        let request = NameRequest {
            context: Some(&input),
            entity_type: Some(&input),
            prefix: Some(&input),
            ..NameRequest::new(date)
        };
        let name = generate_name(&request, |_| false);
        prop_assert!(name.as_deref().is_ok_and(is_valid_name), "{:?}", name);
    }
}

#[test]
fn hostile_fixed_inputs() {
    let ten_kb_sql = "'; DROP TABLE scenarios; --".repeat(400);
    let ten_kb_emoji = "😀🏥".repeat(1300);
    let ten_kb_nul = "\0".repeat(10_000);
    let inputs = [
        "'; DROP TABLE x; --",
        "../../../etc/passwd",
        "\"quoted\" name",
        "a;b;c",
        "😀",
        "🏥 cohort 👩‍⚕️",
        "\0\0name\0",
        ten_kb_sql.as_str(),
        ten_kb_emoji.as_str(),
        ten_kb_nul.as_str(),
    ];
    for input in inputs {
        match sanitize(input) {
            Ok(name) => {
                assert!(is_valid_name(&name), "{input:?} -> {name:?}");
                assert!(name.len() <= MAX_NAME_BODY_LEN);
            }
            Err(Error::EmptyName { given }) => assert!(given.chars().count() <= 83),
            Err(other) => panic!("{input:?}: unexpected {other:?}"),
        }
        let unique = unique_name(input, |_| false);
        assert!(
            unique.as_deref().map_or(true, is_valid_name),
            "{input:?} -> {unique:?}"
        );
        let request = NameRequest {
            context: Some(input),
            prefix: Some(input),
            ..NameRequest::new(NaiveDate::MIN)
        };
        // NaiveDate::MIN is far before year 0: the only error is the date.
        assert!(matches!(
            generate_name(&request, |_| false),
            Err(Error::DateOutOfRange { .. })
        ));
    }
    assert_eq!(
        sanitize(&ten_kb_sql).as_deref(),
        Ok("drop-table-scenarios-drop-table-scenarios-drop")
    );
}
