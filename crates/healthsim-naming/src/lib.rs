//! Scenario names for HealthSim Persist.
//!
//! A scenario is a named collection of synthetic entities. This crate turns a
//! generation request ("Generate 50 diabetic patients over 65") into a short,
//! readable, URL- and shell-safe name such as `diabetic-patients-20241226`,
//! and makes it unique with a `-2`, `-3`, ... counter.
//!
//! # Main functions
//!
//! - [`extract_keywords`] picks up to [`DEFAULT_MAX_KEYWORDS`] meaningful words
//!   from free text, healthcare terms first, and adds the entity type's plural.
//! - [`sanitize`] reduces any string to `^[a-z0-9]+(-[a-z0-9]+)*$`, bounding
//!   the body to [`MAX_NAME_BODY_LEN`] characters; it is idempotent.
//! - [`generate_name`] builds `{prefix-}{keywords}-{YYYYMMDD}` from a
//!   [`NameRequest`] and appends a counter while the name is taken.
//! - [`unique_name`] does the same for a name the user typed (rename, `--name`).
//! - [`parse_name`] splits a name back into keywords, date and counter.
//!
//! # Neighbours
//!
//! `healthsim-persist` calls [`generate_name`] / [`unique_name`] with an
//! `exists` predicate that looks the candidate up in the `scenarios` table.
//! This crate never touches a database, reads no clock (the caller supplies
//! the date, UTC today in the service) and does no I/O.
//!
//! # What it does not know
//!
//! It does not know the entity registry (entity types are free strings here,
//! singular or plural), which names are taken (only the predicate knows), or
//! what a scenario contains. A name that is unique when generated can still be
//! taken by a concurrent writer before it is stored; the database's unique
//! constraint is the final word, and the caller retries.
//!
//! # Example
//!
//! ```
//! use chrono::NaiveDate;
//! use healthsim_naming::{generate_name, parse_name, NameRequest};
//!
//! let date = NaiveDate::from_ymd_opt(2024, 12, 26).ok_or("bad date")?;
//! let request = NameRequest {
//!     context: Some("Generate 50 diabetic patients over 65"),
//!     entity_type: Some("patient"),
//!     ..NameRequest::new(date)
//! };
//! // The first name is taken, so the counter kicks in.
//! let name = generate_name(&request, |n| n == "diabetic-patients-20241226")?;
//! assert_eq!(name, "diabetic-patients-20241226-2");
//!
//! let parsed = parse_name(&name);
//! assert_eq!(parsed.keywords, ["diabetic", "patients"]);
//! assert_eq!(parsed.date, Some(date));
//! assert_eq!(parsed.counter, Some(2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod keywords;
mod name;
mod sanitize;

pub use keywords::extract_keywords;
pub use name::{generate_name, parse_name, unique_name, NameRequest, ParsedName};
pub use sanitize::sanitize;

/// How many keywords [`generate_name`] extracts from a context.
pub const DEFAULT_MAX_KEYWORDS: usize = 3;

/// Maximum number of characters of a sanitized name before its
/// `-YYYYMMDD[-N]` date suffix (or of the whole name when it has none).
pub const MAX_NAME_BODY_LEN: usize = 50;

/// How many candidates [`generate_name`] and [`unique_name`] try (the name
/// itself, then `-2` up to `-10000`) before giving up with [`Error::Exhausted`].
pub const MAX_UNIQUE_ATTEMPTS: u32 = 10_000;

/// How much of a rejected input an [`Error::EmptyName`] keeps.
const MAX_GIVEN_IN_ERROR: usize = 80;

/// Everything that can go wrong while naming a scenario.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input has no letter or digit left after transliteration, so no
    /// name can be made from it.
    #[error("name {given:?} has no usable characters (needs a letter or digit)")]
    EmptyName {
        /// The rejected input, truncated to 80 characters (with `...`).
        given: String,
    },
    /// Every candidate from `base` to `base-10000` is taken.
    #[error("no free name for {base:?} after {tried} tries")]
    Exhausted {
        /// The first candidate, without a counter.
        base: String,
        /// How many candidates were tried.
        tried: u32,
    },
    /// The date cannot be written as `YYYYMMDD` (year before 0 or after 9999).
    #[error("date {date} is outside the supported years 0000-9999")]
    DateOutOfRange {
        /// The date the caller supplied.
        date: chrono::NaiveDate,
    },
}

impl Error {
    /// Whether the caller is at fault: every naming error comes from the name, context or date
    /// the caller gave. Written as an exhaustive match so a new variant must be classified.
    pub fn is_caller_error(&self) -> bool {
        match self {
            Error::EmptyName { .. } | Error::Exhausted { .. } | Error::DateOutOfRange { .. } => {
                true
            }
        }
    }
}

/// `given` cut to [`MAX_GIVEN_IN_ERROR`] characters, so a 10 KB input does not
/// make a 10 KB error message.
fn truncate_for_error(given: &str) -> String {
    let mut chars = given.chars();
    let head: String = chars.by_ref().take(MAX_GIVEN_IN_ERROR).collect();
    if chars.next().is_some() {
        format!("{head}...")
    } else {
        head
    }
}
