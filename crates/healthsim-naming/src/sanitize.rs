//! Reducing any string to a safe name, and recognising the date suffix.

use chrono::NaiveDate;

use crate::{truncate_for_error, Error, MAX_NAME_BODY_LEN};

/// Reduces `name` to lowercase ASCII words joined by single hyphens, matching
/// `^[a-z0-9]+(-[a-z0-9]+)*$`.
///
/// Non-ASCII text is transliterated first (`"Müller"` → `"muller"`,
/// `"Ωmega"` → `"omega"`); every run of other characters (spaces,
/// underscores, punctuation, `/`, NUL, emoji leftovers) becomes one hyphen,
/// and hyphens at either end are dropped.
///
/// The body is bounded to [`MAX_NAME_BODY_LEN`] characters, cut at a hyphen
/// when there is one in range (a single longer word is cut hard). A name that
/// already ends with a date suffix `-YYYYMMDD` or `-YYYYMMDD-N` (a valid
/// calendar date after at least one word) keeps that suffix and only the part
/// before it is bounded, so `sanitize` leaves [`generate_name`] output
/// unchanged. `sanitize` is idempotent.
///
/// # Errors
///
/// [`Error::EmptyName`] when no letter or digit is left.
///
/// ```
/// use healthsim_naming::sanitize;
/// assert_eq!(sanitize("  Müller's Diabetes_Cohort!! ")?, "muller-s-diabetes-cohort");
/// assert_eq!(sanitize("Cohort 20241226-2")?, "cohort-20241226-2");
/// # Ok::<(), healthsim_naming::Error>(())
/// ```
///
/// [`generate_name`]: crate::generate_name
pub fn sanitize(name: &str) -> Result<String, Error> {
    let cleaned = clean(name);
    if cleaned.is_empty() {
        return Err(Error::EmptyName {
            given: truncate_for_error(name),
        });
    }
    Ok(match split_date_suffix(&cleaned) {
        Some(split) => {
            let suffix = cleaned.get(split.body.len()..).unwrap_or_default();
            format!("{}{suffix}", bound(split.body, MAX_NAME_BODY_LEN))
        }
        None => bound(&cleaned, MAX_NAME_BODY_LEN).to_owned(),
    })
}

/// Transliterates, lowercases and hyphenates without bounding the length.
/// The result is ASCII (so byte offsets are character offsets), possibly empty.
pub(crate) fn clean(text: &str) -> String {
    let ascii = deunicode::deunicode(text);
    let mut out = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    if out.ends_with('-') {
        out.pop();
    }
    out
}

/// The longest prefix of the clean `body` that has at most `max` characters,
/// ends at a word boundary when one is in range, and never ends with a hyphen.
pub(crate) fn bound(body: &str, max: usize) -> &str {
    if body.len() <= max {
        return body;
    }
    // `body` is clean ASCII: every byte offset is a char boundary, hyphens are
    // single and never at either end.
    if body.as_bytes().get(max) == Some(&b'-') {
        return body.get(..max).unwrap_or(body);
    }
    let head = body.get(..max).unwrap_or(body);
    match head.rfind('-') {
        Some(cut) if cut > 0 => head.get(..cut).unwrap_or(head),
        _ => head,
    }
}

/// A clean name split in front of its `-YYYYMMDD[-N]` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateSuffix<'a> {
    /// Everything before the suffix, never empty.
    pub(crate) body: &'a str,
    /// The date in the suffix.
    pub(crate) date: NaiveDate,
    /// The counter after the date, if any.
    pub(crate) counter: Option<u32>,
}

/// Finds the date suffix of a hyphen-joined name (no empty parts).
///
/// A last part that is a valid date wins over reading it as a counter, so
/// `a-20240101-20241226` has the date 2024-12-26 and no counter; a suffix
/// needs at least one part before it, so `20241226` alone has none.
pub(crate) fn split_date_suffix(name: &str) -> Option<DateSuffix<'_>> {
    let (rest, last) = name.rsplit_once('-')?;
    if let Some(date) = parse_date(last) {
        if !rest.is_empty() {
            return Some(DateSuffix {
                body: rest,
                date,
                counter: None,
            });
        }
    }
    let counter = parse_counter(last)?;
    let (body, date_part) = rest.rsplit_once('-')?;
    let date = parse_date(date_part)?;
    if body.is_empty() {
        return None;
    }
    Some(DateSuffix {
        body,
        date,
        counter: Some(counter),
    })
}

/// `YYYYMMDD` as a valid calendar date; `20240230` is not one.
fn parse_date(part: &str) -> Option<NaiveDate> {
    if part.len() != 8 || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year = part.get(0..4)?.parse().ok()?;
    let month = part.get(4..6)?.parse().ok()?;
    let day = part.get(6..8)?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// A uniqueness counter: only ASCII digits, fitting in a `u32`.
fn parse_counter(part: &str) -> Option<u32> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected: &str) {
        assert_eq!(sanitize(input), Ok(expected.to_owned()), "input: {input:?}");
    }

    #[track_caller]
    fn check_empty(input: &str) {
        match sanitize(input) {
            Err(Error::EmptyName { given }) => assert!(given.chars().count() <= 83),
            other => panic!("{input:?}: expected EmptyName, got {other:?}"),
        }
    }

    #[test]
    fn sanitize_table() {
        check("diabetes", "diabetes");
        check("Diabetes Patients", "diabetes-patients");
        check("diabetes_patients", "diabetes-patients");
        check("  padded  ", "padded");
        check("--a--b--", "a-b");
        check("a   b\t\nc", "a-b-c");
        check("Müller", "muller");
        check("Ωmega", "omega");
        check("café résumé", "cafe-resume");
        check("Straße", "strasse");
        check("北京", "bei-jing");
        check("a/b\\c", "a-b-c");
        check("../../etc/passwd", "etc-passwd");
        check("'; DROP TABLE x; --", "drop-table-x");
        check("\"quoted\"", "quoted");
        check("nul\0byte", "nul-byte");
        check("ABC123", "abc123");
        check("2024", "2024");
        check("x-20240230", "x-20240230");
        check("diabetic-patients-20241226", "diabetic-patients-20241226");
        check(
            "Diabetic Patients 20241226 2",
            "diabetic-patients-20241226-2",
        );
    }

    #[test]
    fn sanitize_bounds_the_body() {
        let fifty = "a".repeat(50);
        check(&fifty, &fifty);
        check(&format!("{fifty}b"), &fifty);
        // Cut at the last hyphen in range rather than mid-word.
        check(&format!("{}-bbbbbbbbbb", "a".repeat(45)), &"a".repeat(45));
        // A hyphen exactly after 50 characters is a clean cut.
        check(&format!("{fifty}-tail"), &fifty);
        check(
            &format!("{}-{}", "a".repeat(10), "b".repeat(60)),
            &"a".repeat(10),
        );
    }

    #[test]
    fn sanitize_keeps_the_date_suffix() {
        let long = "word-".repeat(20);
        let body = "word-".repeat(10);
        let body = body.trim_end_matches('-');
        check(&format!("{long}20241226"), &format!("{body}-20241226"));
        check(&format!("{long}20241226-7"), &format!("{body}-20241226-7"));
        // An invalid date is no suffix: the whole name is bounded.
        check(&format!("{long}20240230"), body);
        // No body before the date: no suffix.
        check("20241226", "20241226");
        check("20241226-2", "20241226-2");
    }

    #[test]
    fn sanitize_rejects_empty() {
        check_empty("");
        check_empty("   ");
        check_empty("---___");
        check_empty("\0\0");
        check_empty(&"!".repeat(10_000));
    }

    #[test]
    fn empty_name_error_is_truncated() {
        let given = "?".repeat(10_000);
        let err = sanitize(&given).err();
        let Some(Error::EmptyName { given }) = err else {
            panic!("expected EmptyName, got {err:?}");
        };
        assert_eq!(given, format!("{}...", "?".repeat(80)));
        let short = sanitize("!!").err().map(|e| e.to_string());
        assert_eq!(
            short.as_deref(),
            Some("name \"!!\" has no usable characters (needs a letter or digit)")
        );
    }

    #[track_caller]
    fn check_split(name: &str, expected: Option<(&str, &str, Option<u32>)>) {
        let got = split_date_suffix(name)
            .map(|s| (s.body, s.date.format("%Y%m%d").to_string(), s.counter));
        let expected = expected.map(|(b, d, c)| (b, d.to_owned(), c));
        assert_eq!(got, expected, "name: {name:?}");
    }

    #[test]
    fn split_date_suffix_table() {
        check_split("a-20241226", Some(("a", "20241226", None)));
        check_split("a-b-20241226-2", Some(("a-b", "20241226", Some(2))));
        check_split(
            "a-20240101-20241226",
            Some(("a-20240101", "20241226", None)),
        );
        check_split("a-20240229", Some(("a", "20240229", None)));
        check_split("a-20230229", None);
        check_split("a-2024122", None);
        check_split("a-202412260", None);
        check_split("20241226", None);
        check_split("20241226-2", None);
        check_split("cohort-2", None);
        check_split("a-20241226-x", None);
        check_split("a-20241226-99999999999", None);
    }
}
