//! Calendar arithmetic on plain integers: days counted from 0001-01-01 and seconds on the same
//! scale, in UTC.
//!
//! Planning compares and adds dates constantly; integers keep that cheap and exact, and the
//! conversion to text happens once, when rendering.

use chrono::{Datelike, NaiveDate};

/// A calendar day, counted from 0001-01-01 (day 1).
pub(crate) type Day = i32;

/// A point in time: seconds since 0001-01-01T00:00:00 minus one day (UTC), see [`at`].
pub(crate) type Ts = i64;

/// Seconds per day.
pub(crate) const DAY_SECS: i64 = 86_400;

/// The timestamp of `secs` seconds after midnight of `day`.
pub(crate) fn at(day: Day, secs: i64) -> Ts {
    i64::from(day) * DAY_SECS + secs
}

/// The day a timestamp falls on.
pub(crate) fn day_of(ts: Ts) -> Day {
    ts.div_euclid(DAY_SECS) as Day
}

/// Converts a day number back to a date (`None` only outside chrono's range, which the clamped
/// `as_of` keeps us far from).
pub(crate) fn date_of(day: Day) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(day)
}

/// The first day of the month of `day`.
pub(super) fn month_start(day: Day) -> Day {
    date_of(day)
        .and_then(|d| d.with_day(1))
        .map_or(day, |d| d.num_days_from_ce())
}

/// The year of a day.
pub(crate) fn year_of(day: Day) -> i32 {
    date_of(day).map_or(0, |d| d.year())
}
