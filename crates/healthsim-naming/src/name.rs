//! Building unique dated names, and reading them back.

use chrono::{Datelike, NaiveDate};

use crate::keywords::extract_keywords;
use crate::sanitize::{bound, clean, sanitize, split_date_suffix, DateSuffix};
use crate::{Error, DEFAULT_MAX_KEYWORDS, MAX_NAME_BODY_LEN, MAX_UNIQUE_ATTEMPTS};

/// The body used when a request yields no keyword at all.
const FALLBACK_BODY: &str = "scenario";

/// What a scenario name is generated from.
///
/// Start from [`NameRequest::new`] and set the fields you have:
///
/// ```
/// # use healthsim_naming::NameRequest;
/// # let date = chrono::NaiveDate::MIN;
/// let request = NameRequest {
///     prefix: Some("membersim"),
///     entity_type: Some("claim"),
///     ..NameRequest::new(date)
/// };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameRequest<'a> {
    /// Keywords chosen by the caller. When at least one of them has a letter
    /// or digit they are used as they are (sanitized, duplicates removed, in
    /// order), and `context` and `entity_type` are ignored.
    pub keywords: Option<&'a [String]>,
    /// Free text describing the request, e.g. the user's prompt; keywords are
    /// extracted from it with [`extract_keywords`].
    pub context: Option<&'a str>,
    /// The main entity type, singular or plural (`"patient"`, `"claims"`,
    /// `"rx_member"`); its plural is always one of the extracted keywords.
    pub entity_type: Option<&'a str>,
    /// A fixed first word, e.g. the product (`"membersim"`).
    pub prefix: Option<&'a str>,
    /// The date in the suffix, supplied by the caller (UTC today in the
    /// service); this crate reads no clock.
    pub date: NaiveDate,
}

impl<'a> NameRequest<'a> {
    /// A request with only a date: it generates `scenario-YYYYMMDD`.
    pub fn new(date: NaiveDate) -> Self {
        Self {
            keywords: None,
            context: None,
            entity_type: None,
            prefix: None,
            date,
        }
    }
}

/// A name split into its parts by [`parse_name`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedName {
    /// The hyphen-separated words before the date suffix (all words when
    /// there is no date).
    pub keywords: Vec<String>,
    /// The `YYYYMMDD` date, when the name has a valid one after its keywords.
    pub date: Option<NaiveDate>,
    /// The uniqueness counter after the date (`-2`, `-3`, ...); a name
    /// without a date has no counter.
    pub counter: Option<u32>,
}

/// Generates a scenario name `{prefix-}{keywords}-{YYYYMMDD}` that `exists`
/// says is free.
///
/// Keywords are the request's explicit keywords if any are usable, else
/// [`extract_keywords`] of the context and entity type with
/// [`DEFAULT_MAX_KEYWORDS`]; with none, the body is `scenario` (after the
/// prefix, if any). The body is sanitized and bounded to
/// [`MAX_NAME_BODY_LEN`] characters. While `exists(name)` is true, `-2`,
/// `-3`, ... are appended to the dated name.
///
/// The result is always a fixed point of [`sanitize`] and never a name for
/// which `exists` returned true.
///
/// # Errors
///
/// - [`Error::Exhausted`] when all [`MAX_UNIQUE_ATTEMPTS`] candidates are taken.
/// - [`Error::DateOutOfRange`] when the year does not fit in four digits.
///
/// ```
/// use healthsim_naming::{generate_name, NameRequest};
/// let date = chrono::NaiveDate::from_ymd_opt(2024, 12, 26).ok_or("bad date")?;
/// let request = NameRequest {
///     context: Some("Create Medicare claims"),
///     entity_type: Some("claim"),
///     ..NameRequest::new(date)
/// };
/// assert_eq!(generate_name(&request, |_| false)?, "medicare-claims-20241226");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn generate_name(
    request: &NameRequest<'_>,
    exists: impl Fn(&str) -> bool,
) -> Result<String, Error> {
    let date = format_date(request.date)?;

    let mut keywords = request.keywords.map(explicit_keywords).unwrap_or_default();
    if keywords.is_empty() {
        keywords = extract_keywords(
            request.context.unwrap_or_default(),
            request.entity_type,
            DEFAULT_MAX_KEYWORDS,
        );
    }
    if keywords.is_empty() {
        keywords.push(FALLBACK_BODY.to_owned());
    }
    let prefix = request.prefix.map(clean).filter(|p| !p.is_empty());
    let body = prefix
        .into_iter()
        .chain(keywords)
        .collect::<Vec<_>>()
        .join("-");

    let base = format!("{}-{date}", bound(&body, MAX_NAME_BODY_LEN));
    first_free(&base, |n| Some(format!("{base}-{n}")), exists)
}

/// Makes a name the user chose (rename, `--name`) safe and unique: the
/// [`sanitize`]d name if `exists` says it is free, else `name-2`, `name-3`, ...
///
/// A name ending in a date suffix takes the counter after the date
/// (`trial-20241226` → `trial-20241226-2`); one that already has a counter
/// counts on from it (`trial-20241226-2` → `trial-20241226-3`). Without a
/// date the body is shortened as needed so that `name-N` still fits in
/// [`MAX_NAME_BODY_LEN`] characters. The result is always a fixed point of
/// [`sanitize`] and never a name for which `exists` returned true.
///
/// # Errors
///
/// - [`Error::EmptyName`] when `base` has no letter or digit.
/// - [`Error::Exhausted`] when all [`MAX_UNIQUE_ATTEMPTS`] candidates are taken.
///
/// ```
/// use healthsim_naming::unique_name;
/// assert_eq!(unique_name("My Cohort", |n| n == "my-cohort")?, "my-cohort-2");
/// # Ok::<(), healthsim_naming::Error>(())
/// ```
pub fn unique_name(base: &str, exists: impl Fn(&str) -> bool) -> Result<String, Error> {
    let name = sanitize(base)?;
    match split_date_suffix(&name) {
        Some(DateSuffix {
            body,
            date,
            counter: Some(counter),
        }) => {
            let stem = format!("{body}-{}", date.format("%Y%m%d"));
            first_free(
                &name,
                |n| Some(format!("{stem}-{}", counter.checked_add(n - 1)?)),
                exists,
            )
        }
        Some(DateSuffix { counter: None, .. }) => {
            first_free(&name, |n| Some(format!("{name}-{n}")), exists)
        }
        None => first_free(
            &name,
            |n| {
                let suffix = format!("-{n}");
                let room = MAX_NAME_BODY_LEN.saturating_sub(suffix.len());
                Some(format!("{}{suffix}", bound(&name, room)))
            },
            exists,
        ),
    }
}

/// Splits a name into keywords, date and counter.
///
/// The name is split on hyphens (empty parts are skipped; nothing else is
/// sanitized). The last part is the date when it is a valid `YYYYMMDD` after
/// at least one keyword; otherwise, when it is a number and the part before
/// it is such a date, it is the counter. Anything else is a keyword:
/// `x-20240230` (no such day) has the keywords `x`, `20240230`, and
/// `cohort-2` has the keywords `cohort`, `2` and no counter.
///
/// ```
/// use healthsim_naming::parse_name;
/// let parsed = parse_name("diabetes-patients-20241226-2");
/// assert_eq!(parsed.keywords, ["diabetes", "patients"]);
/// assert_eq!(parsed.date, chrono::NaiveDate::from_ymd_opt(2024, 12, 26));
/// assert_eq!(parsed.counter, Some(2));
/// ```
pub fn parse_name(name: &str) -> ParsedName {
    let parts: Vec<&str> = name.split('-').filter(|p| !p.is_empty()).collect();
    let joined = parts.join("-");
    match split_date_suffix(&joined) {
        Some(suffix) => ParsedName {
            keywords: suffix.body.split('-').map(str::to_owned).collect(),
            date: Some(suffix.date),
            counter: suffix.counter,
        },
        None => ParsedName {
            keywords: parts.into_iter().map(str::to_owned).collect(),
            date: None,
            counter: None,
        },
    }
}

/// The caller's keywords, cleaned, without empty ones and duplicates.
fn explicit_keywords(keywords: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for keyword in keywords {
        let keyword = clean(keyword);
        if !keyword.is_empty() && !out.contains(&keyword) {
            out.push(keyword);
        }
    }
    out
}

/// `YYYYMMDD`; chrono's `%Y` would write `+10000` for years past 9999.
fn format_date(date: NaiveDate) -> Result<String, Error> {
    if !(0..=9999).contains(&date.year()) {
        return Err(Error::DateOutOfRange { date });
    }
    Ok(format!(
        "{:04}{:02}{:02}",
        date.year(),
        date.month(),
        date.day()
    ))
}

/// `base` if it is free, else the first free `candidate(n)` for
/// `n = 2..=MAX_UNIQUE_ATTEMPTS`. `candidate` returns `None` when it has no
/// more names to offer.
fn first_free(
    base: &str,
    candidate: impl Fn(u32) -> Option<String>,
    exists: impl Fn(&str) -> bool,
) -> Result<String, Error> {
    if !exists(base) {
        return Ok(base.to_owned());
    }
    let mut tried = 1;
    for n in 2..=MAX_UNIQUE_ATTEMPTS {
        let Some(name) = candidate(n) else { break };
        tried += 1;
        if !exists(&name) {
            return Ok(name);
        }
    }
    Err(Error::Exhausted {
        base: base.to_owned(),
        tried,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(name: &str, keywords: &[&str], date: Option<(i32, u32, u32)>, counter: Option<u32>) {
        let expected = ParsedName {
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            date: date.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
            counter,
        };
        assert_eq!(parse_name(name), expected, "name: {name:?}");
    }

    #[test]
    fn parse_name_table() {
        let d = Some((2024, 12, 26));
        check(
            "diabetes-patients-20241226-2",
            &["diabetes", "patients"],
            d,
            Some(2),
        );
        check(
            "diabetes-patients-20241226",
            &["diabetes", "patients"],
            d,
            None,
        );
        check("diabetes-patients", &["diabetes", "patients"], None, None);
        check("x-20240230", &["x", "20240230"], None, None);
        check("x-20240229", &["x"], Some((2024, 2, 29)), None);
        check("cohort-2", &["cohort", "2"], None, None);
        check("cohort-20241226-10000", &["cohort"], d, Some(10_000));
        check("a-20240101-20241226", &["a", "20240101"], d, None);
        check(
            "a-20241226-2-20241226-3",
            &["a", "20241226", "2"],
            d,
            Some(3),
        );
        check("20241226", &["20241226"], None, None);
        check("20241226-2", &["20241226", "2"], None, None);
        check(
            "a-20241226-99999999999",
            &["a", "20241226", "99999999999"],
            None,
            None,
        );
        check("a--20241226-", &["a"], d, None);
        check("", &[], None, None);
        check("---", &[], None, None);
        check("scenario", &["scenario"], None, None);
    }

    #[test]
    fn counter_overflow_stops_the_search() {
        let name = format!("a-20241226-{}", u32::MAX - 1);
        let got = unique_name(&name, |_| true);
        assert_eq!(
            got,
            Err(Error::Exhausted {
                base: name,
                tried: 2
            })
        );
    }
}
